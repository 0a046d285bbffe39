//! `readmission` (分解住院): an inpatient stay that begins within `gap_days` calendar days of the
//! person's discharge from an earlier stay at the same facility (`fixmedins_code`); gap = day of
//! admission − day of the earlier discharge, 0 ≤ gap ≤ gap_days. Optionally only when both main
//! diagnoses share their category (`diagnosis = "same_category"`: the first three characters of
//! the ICD-10 code). Planned readmissions are excluded: the new stay's main diagnosis starts with
//! one of `exclude_diag` (default 放化疗 Z51.0/Z51.1/Z51.2 and 透析 Z49), or the earlier stay
//! carries `dscg_31days_rinp_flag = 1` (出院31天内再住院计划).
//!
//! State per person: the last stay per facility still within gap_days of the newest admission
//! (facility, dates, encounter id, main diagnosis, plan flag: about 100 bytes per stay). Amount
//! at risk: the readmission's medfee_sumamt.

use super::{verdict, whole, Ev, Outcome, St, Stay};
use crate::claims::ClaimsTable;
use crate::error::Result;
use crate::templates::{rule_param, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::time::day_of;

/// 分解住院.
pub static READMISSION: TemplateSpec = TemplateSpec {
    name: "readmission",
    title: "分解住院 (出院后N天内同一机构再入院)",
    doc: "An inpatient stay admitted within gap_days days of the person's discharge from the same facility, unless planned (放化疗/透析 main diagnosis, or a readmission plan on the earlier stay).",
    knowledge: KnowledgeUse::None,
    params: &[
        rule_param("gap_days", ParamKind::Num, false, "largest gap in days from discharge to readmission, default 15"),
        rule_param(
            "diagnosis",
            ParamKind::Enum(&["any", "same_category"]),
            false,
            "any (default), or same_category: both main diagnoses share the ICD-10 category",
        ),
        rule_param(
            "exclude_diag",
            ParamKind::StrList,
            false,
            "main-diagnosis prefixes of planned readmissions, default [Z51.0, Z51.1, Z51.2, Z49]",
        ),
    ],
    placeholders: &["gap", "gap_days", "prev_mdtrt_id"],
    default_message: "出院{gap}天后再次入院（上次住院{prev_mdtrt_id}），{gap_days}天内同一机构再入院，疑似分解住院",
    amount: "the readmission's medfee_sumamt",
    needs: &[
        (ClaimsTable::Mdtrt, "psn_no"),
        (ClaimsTable::Mdtrt, "begntime"),
        (ClaimsTable::Mdtrt, "endtime"),
        (ClaimsTable::Mdtrt, "fixmedins_code"),
        (ClaimsTable::Mdtrt, "med_type"),
    ],
};

pub(crate) struct Readmission {
    pub gap_days: i64,
    pub same_category: bool,
    exclude: Vec<String>,
}

pub(crate) fn compile(p: &Params) -> Result<Readmission> {
    let gap_days = if p.num("gap_days", None)?.is_some() { whole(p, "gap_days", None, 0.0)? } else { 15 };
    let same_category = p.str("diagnosis", None)?.as_deref() == Some("same_category");
    let exclude = p
        .list("exclude_diag", None)?
        .unwrap_or_else(|| ["Z51.0", "Z51.1", "Z51.2", "Z49"].iter().map(|s| s.to_string()).collect());
    Ok(Readmission { gap_days, same_category, exclude })
}

/// The ICD-10 category of a code: its first three characters.
fn category(code: &str) -> &str {
    code.get(..3).unwrap_or(code)
}

impl Readmission {
    /// Whether the readmission's main diagnosis marks it as planned.
    pub(crate) fn excluded(&self, diag: Option<&str>) -> bool {
        diag.is_some_and(|d| self.exclude.iter().any(|p| d.starts_with(p.as_str())))
    }

    pub(crate) fn step(&self, st: &mut Option<St>, ev: &Ev) -> Outcome {
        let (Some(end), Some(fac)) = (ev.end, ev.fac) else {
            return Outcome::Unjudged("endtime or fixmedins_code is null");
        };
        if !matches!(st, Some(St::Stays(_))) {
            *st = Some(St::Stays(Vec::new()));
        }
        let Some(St::Stays(stays)) = st else { return Outcome::Clear };
        let day = day_of(ev.time);
        let mut out = Outcome::Clear;
        if let Some(prev) = stays.iter().find(|s| s.fac.as_deref() == Some(fac)) {
            let gap = day - day_of(prev.end);
            let same = match (ev.diag, prev.diag.as_deref()) {
                (Some(a), Some(b)) => category(a) == category(b),
                _ => false,
            };
            if (0..=self.gap_days).contains(&gap)
                && !prev.planned
                && !self.excluded(ev.diag)
                && (!self.same_category || same)
            {
                let mut v = verdict(
                    ev.amount,
                    &[
                        ("gap", gap.to_string()),
                        ("gap_days", self.gap_days.to_string()),
                        ("prev_mdtrt_id", prev.mdtrt.to_string()),
                    ],
                );
                v.discr = "readmission";
                out = Outcome::hit(v);
            }
        }
        let stay = Stay {
            fac: Some(fac.into()),
            begn: ev.time,
            end,
            mdtrt: ev.mdtrt_id.into(),
            diag: ev.diag.map(Into::into),
            planned: ev.planned,
        };
        match stays.iter_mut().find(|s| s.fac.as_deref() == Some(fac)) {
            Some(s) if s.end <= end => *s = stay,
            Some(_) => {}
            None => stays.push(stay),
        }
        // Stays discharged more than gap_days before this admission can match no later stay.
        stays.retain(|s| day - day_of(s.end) <= self.gap_days);
        out
    }
}
