//! `identity_change` (冒名就医): one insured person (`psn_no`) whose sex (`gend`) or birth date
//! (`brdy`, by calendar day) differs from the first value recorded for them. Each later encounter
//! with a differing non-null value is flagged once per field; the first value stays the reference.
//!
//! State per person: the first sex and birth date with their encounter ids (about 60 bytes).
//! Amount at risk: the flagged encounter's medfee_sumamt.

use super::{verdict, Ev, First, Outcome, Short, St};
use crate::claims::ClaimsTable;
use crate::error::{Error, Result};
use crate::templates::{rule_param, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::time::{day_of, format_datetime};

/// 身份信息不一致.
pub static IDENTITY_CHANGE: TemplateSpec = TemplateSpec {
    name: "identity_change",
    title: "同一参保人性别或出生日期前后不一致 (疑似冒名就医)",
    doc: "An encounter whose gend or brdy differs from the first value recorded for the same psn_no.",
    knowledge: KnowledgeUse::None,
    params: &[rule_param("fields", ParamKind::StrList, false, "which of gend, brdy to compare, default both")],
    placeholders: &["field", "prev", "now", "prev_mdtrt_id"],
    default_message: "参保人{field}与就诊{prev_mdtrt_id}记录不一致（{prev}→{now}），疑似冒名就医",
    amount: "the flagged encounter's medfee_sumamt",
    needs: &[(ClaimsTable::Mdtrt, "psn_no")],
};

pub(crate) struct Identity {
    gend: bool,
    brdy: bool,
}

pub(crate) fn compile(p: &Params) -> Result<Identity> {
    let fields = p.list("fields", None)?.unwrap_or_else(|| vec!["gend".into(), "brdy".into()]);
    let mut k = Identity { gend: false, brdy: false };
    for f in &fields {
        match f.as_str() {
            "gend" => k.gend = true,
            "brdy" => k.brdy = true,
            o => {
                return Err(Error::rule(
                    &p.rule.id,
                    "params.fields",
                    format!("unknown field {o:?}; expected gend or brdy"),
                ))
            }
        }
    }
    Ok(k)
}

fn date(t: i64) -> String {
    format_datetime(t).get(..10).unwrap_or_default().to_string()
}

impl Identity {
    pub(crate) fn step(&self, st: &mut Option<St>, ev: &Ev) -> Outcome {
        if !matches!(st, Some(St::Identity(_))) {
            *st = Some(St::Identity(Box::default()));
        }
        let Some(St::Identity(first)) = st else { return Outcome::Clear };
        let First { gend, gend_mdtrt, brdy, brdy_mdtrt } = &mut **first;
        let mut hits = Vec::new();
        let mut hit = |field: &'static str, prev: String, now: String, m: &str, discr: &'static str| {
            let mut v = verdict(
                ev.amount,
                &[("field", field.to_string()), ("prev", prev), ("now", now), ("prev_mdtrt_id", m.to_string())],
            );
            v.discr = discr;
            hits.push(v);
        };
        let gm = gend_mdtrt.as_deref().unwrap_or_default();
        if let (true, Some(g)) = (self.gend, ev.gend) {
            match gend {
                Some(p) if p.as_str() != g => hit("性别", p.as_str().to_string(), g.to_string(), gm, "gend"),
                Some(_) => {}
                None => {
                    *gend = Some(Short::new(g));
                    *gend_mdtrt = Some(ev.mdtrt_id.into());
                }
            }
        }
        if let (true, Some(b)) = (self.brdy, ev.brdy) {
            match brdy {
                Some(p) if day_of(*p) != day_of(b) => {
                    let m = brdy_mdtrt.as_deref().or(gend_mdtrt.as_deref()).unwrap_or_default();
                    hit("出生日期", date(*p), date(b), m, "brdy")
                }
                Some(_) => {}
                None => {
                    *brdy = Some(b);
                    if gend_mdtrt.as_deref() != Some(ev.mdtrt_id) {
                        *brdy_mdtrt = Some(ev.mdtrt_id.into());
                    }
                }
            }
        }
        if hits.is_empty() {
            Outcome::Clear
        } else {
            Outcome::Hits(hits)
        }
    }
}
