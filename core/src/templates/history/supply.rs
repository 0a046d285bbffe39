//! `days_supply` (超量开药): at each fill of an item, the supply still on hand from earlier fills
//! (days covered after the fill day) plus the new fill's days of supply is above `max_days`.
//! Days of supply of a line: `prd_days`, else `cnt / daily_dose` when the knowledge row gives a
//! daily dose; a line with neither is counted as unjudged. Supply accumulates: every fill, flagged
//! or not, extends the days covered (the person holds the drug).
//!
//! State per person and knowledge row: the day the supply covers until (8 bytes). Amount at risk:
//! the line's det_item_fee_sumamt × (excess days / days of the fill).

use super::{fmt_num, non_negative, verdict, Ev, Outcome, St};
use crate::claims::ClaimsTable;
use crate::error::Result;
use crate::templates::{row_param, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::time::day_of;

/// 超量开药.
pub static DAYS_SUPPLY: TemplateSpec = TemplateSpec {
    name: "days_supply",
    title: "超量开药 (跨次就诊累计用药天数)",
    doc: "A fill of an item when the days of supply still on hand from earlier fills plus this fill's days exceed max_days.",
    knowledge: KnowledgeUse::Required,
    params: &[
        row_param("max_days", ParamKind::Num, true, "days of supply a person may hold (e.g. 30 for chronic disease)"),
        row_param("daily_dose", ParamKind::Num, false, "quantity per day, used when prd_days is null"),
    ],
    placeholders: &["limit", "on_hand", "supply"],
    default_message: "{item_name}余药{on_hand}天，本次开药{supply}天，超过{limit}天",
    amount: "det_item_fee_sumamt × excess days / days of the fill",
    needs: &[(ClaimsTable::FeeDetails, "fee_ocur_time")],
};

pub(crate) struct Supply {
    /// Per knowledge row: (max days, daily dose).
    rows: Vec<(f64, Option<f64>)>,
}

pub(crate) fn compile(p: &Params, rows: usize) -> Result<Supply> {
    p.require("max_days")?;
    let mut v = Vec::with_capacity(rows);
    for r in 0..rows {
        let max = non_negative(p, "max_days", r)?;
        let dose = p.num("daily_dose", Some(r))?;
        if dose.is_some_and(|d| d <= 0.0) {
            return Err(p.row_err("daily_dose", r, "must be positive"));
        }
        v.push((max, dose));
    }
    Ok(Supply { rows: v })
}

impl Supply {
    pub(crate) fn step(&self, st: &mut Option<St>, ev: &Ev) -> Outcome {
        let Some(&(max, dose)) = self.rows.get(ev.sub as usize) else { return Outcome::Clear };
        let days = match (ev.prd_days, ev.cnt, dose) {
            (Some(d), _, _) if d >= 0.0 => d,
            (_, Some(c), Some(dose)) if c >= 0.0 => c / dose,
            _ => return Outcome::Unjudged("days of supply unknown: prd_days is null and no daily_dose with cnt"),
        };
        let day = day_of(ev.time) as f64;
        let until = match st {
            Some(St::Supply(u)) => *u,
            _ => f64::MIN,
        };
        let on_hand = (until - day).max(0.0);
        *st = Some(St::Supply(day + on_hand + days));
        let total = on_hand + days;
        if total > max + 1e-9 && days > 0.0 {
            let excess = (total - max).min(days);
            Outcome::hit(verdict(
                ev.amount.map(|a| a * excess / days),
                &[("limit", fmt_num(max)), ("on_hand", fmt_num(on_hand)), ("supply", fmt_num(days))],
            ))
        } else {
            Outcome::Clear
        }
    }
}
