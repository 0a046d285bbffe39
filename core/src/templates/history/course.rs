//! `course` (支付疗程): an item may be paid for at most `max_days` days per person. With
//! `measure = "distinct_days"` (default) every use on the (max_days+1)-th distinct calendar day of
//! use or later is flagged; with `measure = "span"` every use more than `max_days` calendar days
//! after the first use (day of first use = day 1) is flagged. With `episode_gap_days` = G, a use
//! more than G days after the previous one starts a new course (a new episode: the stroke of next
//! year is not day 400 of this year's course); without it, the person's whole history given is one
//! course.
//!
//! State per person and knowledge row: distinct days so far, the last and the first day of use
//! (24 bytes). Amount at risk: the flagged line's det_item_fee_sumamt.

use super::{fmt_num, non_negative, verdict, Ev, Outcome, St};
use crate::claims::ClaimsTable;
use crate::error::Result;
use crate::templates::{row_param, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::time::day_of;

/// 超支付疗程.
pub static COURSE: TemplateSpec = TemplateSpec {
    name: "course",
    title: "超支付疗程 (限支付N天)",
    doc: "Uses of an item by one person beyond max_days distinct days of use (measure distinct_days) or beyond max_days calendar days from the first use (measure span).",
    knowledge: KnowledgeUse::Required,
    params: &[
        row_param("max_days", ParamKind::Num, true, "days of use paid for"),
        row_param(
            "measure",
            ParamKind::Enum(&["distinct_days", "span"]),
            false,
            "distinct_days (default): distinct calendar days of use; span: days from the first use",
        ),
        row_param(
            "episode_gap_days",
            ParamKind::Num,
            false,
            "a use more than this many days after the previous one starts a new course (default: one course)",
        ),
    ],
    placeholders: &["limit", "days"],
    default_message: "{item_name}限支付{limit}天，该参保人已使用至第{days}天",
    amount: "the flagged line's det_item_fee_sumamt",
    needs: &[(ClaimsTable::FeeDetails, "fee_ocur_time")],
};

pub(crate) struct Course {
    /// Per knowledge row: (max days, span measure, episode gap in days).
    rows: Vec<(f64, bool, Option<f64>)>,
}

pub(crate) fn compile(p: &Params, rows: usize) -> Result<Course> {
    p.require("max_days")?;
    let mut v = Vec::with_capacity(rows);
    for r in 0..rows {
        let max = non_negative(p, "max_days", r)?;
        let span = match p.str("measure", Some(r))?.as_deref() {
            None | Some("distinct_days") => false,
            Some("span") => true,
            Some(o) => return Err(p.row_err("measure", r, format!("expected distinct_days or span, found {o:?}"))),
        };
        let gap = match p.num("episode_gap_days", Some(r))? {
            Some(g) if g < 0.0 => {
                return Err(p.row_err("episode_gap_days", r, format!("must not be negative, found {g}")))
            }
            g => g,
        };
        v.push((max, span, gap));
    }
    Ok(Course { rows: v })
}

impl Course {
    pub(crate) fn step(&self, st: &mut Option<St>, ev: &Ev) -> Outcome {
        let Some(&(max, span, gap)) = self.rows.get(ev.sub as usize) else { return Outcome::Clear };
        let day = day_of(ev.time);
        let (days, first) = match st {
            Some(St::Course { days, last_day, first_day }) if gap.is_some_and(|g| (day - *last_day) as f64 > g) => {
                // A new episode: this use is day 1 of a new course.
                (*days, *last_day, *first_day) = (1, day, day);
                (1, day)
            }
            Some(St::Course { days, last_day, first_day }) => {
                if day != *last_day {
                    *days += 1;
                    *last_day = day;
                }
                (*days, *first_day)
            }
            _ => {
                *st = Some(St::Course { days: 1, last_day: day, first_day: day });
                (1, day)
            }
        };
        let n = if span { (day - first + 1) as f64 } else { f64::from(days) };
        if n > max {
            Outcome::hit(verdict(ev.amount, &[("limit", fmt_num(max)), ("days", fmt_num(n))]))
        } else {
            Outcome::Clear
        }
    }
}
