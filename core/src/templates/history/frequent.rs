//! `frequent_visits` (频繁就诊/住院/购药): more than `max_count` encounters of one scene
//! (门诊, 住院, 购药 or 互联网, by med_type through the pack's `scenes`) by one person within any
//! `window_days`-day window; each encounter beyond the first `max_count` of a window is flagged
//! (by admission/visit day, `begntime`).
//!
//! State per person: the days of the encounters within the last `window_days` days (8 bytes each). Amount at risk:
//! the flagged encounter's medfee_sumamt.

use super::cycle::window_step;
use super::{scene_bits, verdict, whole, Ev, Outcome, St};
use crate::claims::ClaimsTable;
use crate::error::Result;
use crate::templates::{rule_param, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::time::day_of;
use std::collections::VecDeque;

/// 频繁就诊.
pub static FREQUENT_VISITS: TemplateSpec = TemplateSpec {
    name: "frequent_visits",
    title: "频繁就诊/住院/购药",
    doc: "An encounter of the given scene when the person has more than max_count such encounters within one window_days-day window.",
    knowledge: KnowledgeUse::None,
    params: &[
        rule_param("scene", ParamKind::Enum(&["门诊", "住院", "购药", "互联网"]), true, "which encounters count"),
        rule_param("max_count", ParamKind::Num, true, "encounters allowed within the window"),
        rule_param("window_days", ParamKind::Num, true, "window length in calendar days"),
    ],
    placeholders: &["limit", "window_days", "count", "scene"],
    default_message: "{window_days}天内{scene}{count}次，超过{limit}次",
    amount: "the flagged encounter's medfee_sumamt",
    needs: &[(ClaimsTable::Mdtrt, "psn_no"), (ClaimsTable::Mdtrt, "begntime"), (ClaimsTable::Mdtrt, "med_type")],
};

pub(crate) struct Frequent {
    pub scene: u8,
    label: String,
    max: usize,
    pub window_days: i64,
}

pub(crate) fn compile(p: &Params) -> Result<Frequent> {
    let label = p.req_str("scene", None)?;
    let scene = scene_bits(p, "scene", std::slice::from_ref(&label))?;
    Ok(Frequent {
        scene,
        label,
        max: whole(p, "max_count", None, 0.0)? as usize,
        window_days: whole(p, "window_days", None, 1.0)?,
    })
}

impl Frequent {
    pub(crate) fn step(&self, st: &mut Option<St>, ev: &Ev) -> Outcome {
        if !matches!(st, Some(St::Window(_))) {
            *st = Some(St::Window(VecDeque::new()));
        }
        let Some(St::Window(recent)) = st else { return Outcome::Clear };
        match window_step(recent, day_of(ev.time), self.max, self.window_days) {
            Some(n) => Outcome::hit(verdict(
                ev.amount,
                &[
                    ("limit", self.max.to_string()),
                    ("window_days", self.window_days.to_string()),
                    ("count", n.to_string()),
                    ("scene", self.label.clone()),
                ],
            )),
            None => Outcome::Clear,
        }
    }
}
