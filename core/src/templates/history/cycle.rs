//! `cycle_frequency` (周期内超频次): more than `max_count` uses of an item by one person within
//! any `window_days`-day window (e.g. HbA1c once per 15 days). Each line is one use; a use is
//! flagged when more than `max_count` uses (it included) fall in the `window_days` calendar days
//! ending on its day, i.e. it is a use beyond the first `max_count` of some window.
//!
//! State per person and knowledge row: the days of the uses within the last `window_days` days
//! (8 bytes each).
//! Amount at risk: the flagged line's det_item_fee_sumamt.

use super::{fmt_num, verdict, whole, Ev, Outcome, St};
use crate::claims::ClaimsTable;
use crate::error::Result;
use crate::templates::{row_param, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::time::day_of;
use std::collections::VecDeque;

/// 周期内超频次.
pub static CYCLE_FREQUENCY: TemplateSpec = TemplateSpec {
    name: "cycle_frequency",
    title: "周期内超频次 (N天内限K次)",
    doc: "A use of an item when more than max_count uses by the person fall within one window_days-day window.",
    knowledge: KnowledgeUse::Required,
    params: &[
        row_param("max_count", ParamKind::Num, true, "uses allowed within the window"),
        row_param("window_days", ParamKind::Num, true, "window length in calendar days (1 = the same day)"),
    ],
    placeholders: &["limit", "window_days", "count"],
    default_message: "{item_name}{window_days}天内限{limit}次，该参保人{window_days}天内第{count}次使用",
    amount: "the flagged line's det_item_fee_sumamt",
    needs: &[(ClaimsTable::FeeDetails, "fee_ocur_time")],
};

pub(crate) struct Cycle {
    /// Per knowledge row: (max count, window days).
    rows: Vec<(usize, i64)>,
}

pub(crate) fn compile(p: &Params, rows: usize) -> Result<Cycle> {
    p.require("max_count")?;
    p.require("window_days")?;
    let mut v = Vec::with_capacity(rows);
    for r in 0..rows {
        let k = whole(p, "max_count", Some(r), 0.0)?;
        let w = whole(p, "window_days", Some(r), 1.0)?;
        v.push((k as usize, w));
    }
    Ok(Cycle { rows: v })
}

/// Adds a use on `day` to the days of earlier uses within the window (`recent`, pruned here);
/// returns the number of uses in the `window_days` days ending on `day` when it is above `max`.
pub(crate) fn window_step(recent: &mut VecDeque<i64>, day: i64, max: usize, window_days: i64) -> Option<usize> {
    let lo = day - window_days + 1;
    while recent.front().is_some_and(|f| *f < lo) {
        recent.pop_front();
    }
    recent.push_back(day);
    (recent.len() > max).then_some(recent.len())
}

impl Cycle {
    /// The window of knowledge row `sub` (0 when unknown: then nothing is kept).
    pub(crate) fn window_days(&self, sub: u32) -> i64 {
        self.rows.get(sub as usize).map_or(0, |r| r.1)
    }

    pub(crate) fn step(&self, st: &mut Option<St>, ev: &Ev) -> Outcome {
        let Some(&(max, w)) = self.rows.get(ev.sub as usize) else { return Outcome::Clear };
        if !matches!(st, Some(St::Window(_))) {
            *st = Some(St::Window(VecDeque::new()));
        }
        let Some(St::Window(recent)) = st else { return Outcome::Clear };
        match window_step(recent, day_of(ev.time), max, w) {
            Some(n) => Outcome::hit(verdict(
                ev.amount,
                &[("limit", max.to_string()), ("window_days", w.to_string()), ("count", fmt_num(n as f64))],
            )),
            None => Outcome::Clear,
        }
    }
}
