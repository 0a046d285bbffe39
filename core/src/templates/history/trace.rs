//! `trace_duplicate` (药品追溯码重复结算): a drug trace code (`drug_trac_codg`; one code per
//! smallest sale unit) settled again after an earlier settlement. Each repeat is compared with the
//! code's previous settlement and classified into the three national patterns:
//!
//! * same facility (`fixmedins_code`) → `串换` (the unit was re-sold or swapped in the same place);
//! * different facilities at least `near_hours` apart → `回流药` (the unit went back into the
//!   market and was sold again);
//! * different facilities less than `near_hours` apart → `假药` (疑似假药: the same code at two
//!   places at almost the same time, a copied code).
//!
//! With `retention_days`, a settlement more than that many days after the previous one starts
//! afresh (and state older than that is dropped while streaming).
//!
//! State per trace code: its last settlement (time, facility, line id), packed by the history
//! engine's trace store into about 30–55 bytes plus the line id. Amount at risk: the line's unit
//! price `pric` (a trace code marks one sale unit).

use super::{verdict, Ev, Outcome, Sale, St};
use crate::claims::ClaimsTable;
use crate::error::{Error, Result};
use crate::templates::{rule_param, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::time::format_datetime;

/// 药品追溯码重复.
pub static TRACE_DUPLICATE: TemplateSpec = TemplateSpec {
    name: "trace_duplicate",
    title: "药品追溯码重复结算 (串换/回流药/疑似假药)",
    doc: "A drug trace code settled again; the repeat is classified as 串换 (same facility), 回流药 (another facility, at least near_hours later) or 假药 (疑似假药: another facility, within near_hours).",
    knowledge: KnowledgeUse::None,
    params: &[
        rule_param(
            "near_hours",
            ParamKind::Num,
            false,
            "hours under which two settlements at different facilities count as simultaneous, default 24",
        ),
        rule_param("retention_days", ParamKind::Num, false, "forget a code after this many days without a settlement"),
    ],
    placeholders: &["trace_code", "pattern", "prev_fixmedins", "prev_time", "prev_feedetl_sn"],
    default_message: "追溯码{trace_code}已于{prev_time}在{prev_fixmedins}结算（明细{prev_feedetl_sn}），重复结算，疑似{pattern}",
    amount: "the line's pric (a trace code marks one sale unit)",
    needs: &[
        (ClaimsTable::FeeDetails, "drug_trac_codg"),
        (ClaimsTable::FeeDetails, "fee_ocur_time"),
        (ClaimsTable::Mdtrt, "fixmedins_code"),
    ],
};

pub(crate) struct Trace {
    near: i64,
    /// Seconds after which a code is forgotten.
    pub retention: Option<i64>,
}

pub(crate) fn compile(p: &Params) -> Result<Trace> {
    let near = p.num("near_hours", None)?.unwrap_or(24.0);
    if !(0.0..=24.0 * 36_600.0).contains(&near) {
        return Err(Error::rule(&p.rule.id, "params.near_hours", "must be from 0 to 878400 hours"));
    }
    let retention = match p.num("retention_days", None)? {
        None => None,
        Some(d) if d > 0.0 && d <= 36_600.0 => Some((d * 86_400.0) as i64),
        Some(d) => {
            return Err(Error::rule(&p.rule.id, "params.retention_days", format!("must be from 0 to 36600, found {d}")))
        }
    };
    Ok(Trace { near: (near * 3600.0) as i64, retention })
}

/// The national pattern of a repeat settlement.
pub(crate) fn pattern(same_facility: bool, gap_seconds: i64, near_seconds: i64) -> &'static str {
    if same_facility {
        "串换"
    } else if gap_seconds >= near_seconds {
        "回流药"
    } else {
        "假药"
    }
}

impl Trace {
    pub(crate) fn step(&self, st: &mut Option<St>, ev: &Ev) -> Outcome {
        let sale = Sale { fac: ev.fac.map(Into::into), time: ev.time, sn: ev.sn.map(Into::into) };
        let prev = match st.replace(St::Trace(Box::new(sale))) {
            Some(St::Trace(p)) => *p,
            _ => return Outcome::Clear,
        };
        if self.retention.is_some_and(|r| ev.time - prev.time > r) {
            return Outcome::Clear;
        }
        let (Some(fac), Some(pfac)) = (ev.fac, prev.fac.as_deref()) else {
            return Outcome::Unjudged("fixmedins_code unknown for a repeated trace code");
        };
        let p = pattern(fac == pfac, ev.time - prev.time, self.near);
        let mut v = verdict(
            ev.amount,
            &[
                ("trace_code", ev.key.to_string()),
                ("pattern", p.to_string()),
                ("prev_fixmedins", pfac.to_string()),
                ("prev_time", format_datetime(prev.time)),
                ("prev_feedetl_sn", prev.sn.as_deref().unwrap_or_default().to_string()),
            ],
        );
        v.related = prev.sn;
        Outcome::hit(v)
    }
}
