//! Quantity over a limit within a window: `frequency` (限定频次: per hour, day or encounter) and
//! `bed_days` (床位费天数大于住院天数: per encounter, limit = length of stay).
//!
//! Lines of one item (one knowledge row) are taken in time order within their window bucket; the
//! quantity `cnt` is summed, and each line that takes the running total above the limit is a
//! finding for the part above it. Amount at risk: `excess × pric` (null when `pric` is null).

use super::{groups, row_param, rule_param, Compiled, Kernel, KnowledgeUse, ParamKind, Params, TemplateSpec, Window};
use crate::claims::ClaimsTable;
use crate::engine::run::{Env, Event, Hit, Sink};
use crate::engine::Entry;
use crate::error::{Error, Result};
use crate::pack::Rule;
use crate::time::day_of;
use smallvec::SmallVec;

/// 医疗服务项目限定频次.
pub static FREQUENCY: TemplateSpec = TemplateSpec {
    name: "frequency",
    title: "医疗服务项目限定频次 (GZ10000102014000)",
    doc: "The quantity of an item within an hour, a day or an encounter is above max_qty (hours per day for time-billed items).",
    knowledge: KnowledgeUse::Required,
    params: &[
        row_param("max_qty", ParamKind::Num, true, "largest quantity allowed in the window"),
        row_param("window", ParamKind::Window, false, "hour, day (default) or encounter"),
    ],
    placeholders: &["limit", "window", "qty"],
    default_message: "{item_name}{window}限{limit}次，实际计费{qty}",
    amount: "excess quantity × pric",
    needs: &[(ClaimsTable::FeeDetails, "cnt"), (ClaimsTable::FeeDetails, "fee_ocur_time")],
};

/// 床位费天数大于住院天数.
pub static BED_DAYS: TemplateSpec = TemplateSpec {
    name: "bed_days",
    title: "床位费计费天数大于住院天数",
    doc: "The bed-fee quantity of a stay is above its length (calendar days from admission to discharge, at least 1, 算入不算出) plus tolerance_days.",
    knowledge: KnowledgeUse::Required,
    params: &[rule_param("tolerance_days", ParamKind::Num, false, "days allowed above the length of stay, default 0")],
    placeholders: &["los", "qty"],
    default_message: "床位费计费{qty}天，超过住院天数{los}天",
    amount: "excess days × pric",
    needs: &[(ClaimsTable::FeeDetails, "cnt"), (ClaimsTable::Mdtrt, "begntime"), (ClaimsTable::Mdtrt, "endtime")],
};

enum Limit {
    /// Per knowledge row: (max quantity, window).
    Frequency(Vec<(f64, Window)>),
    /// Length of stay plus tolerance.
    Stay(f64),
}

pub(crate) struct Quantity {
    limit: Limit,
}

pub(crate) fn compile(p: &Params, rows: usize) -> Result<Compiled> {
    let limit = if p.rule.template.name == "bed_days" {
        Limit::Stay(p.num("tolerance_days", None)?.unwrap_or(0.0))
    } else {
        p.require("max_qty")?;
        let mut v = Vec::with_capacity(rows);
        for r in 0..rows {
            let max = p.req_num("max_qty", Some(r))?;
            if max < 0.0 {
                return Err(p.row_err("max_qty", r, "must not be negative"));
            }
            let w = p.window("window", Some(r), Window::Day)?;
            if matches!(w, Window::Hours(_)) {
                return Err(p.row_err("window", r, "a quantity window is hour, day or encounter"));
            }
            v.push((max, w));
        }
        Limit::Frequency(v)
    };
    Ok(Compiled::new(Kernel::Quantity(Quantity { limit })))
}

impl Quantity {
    pub(crate) fn key(&self, e: &Entry) -> u64 {
        match self.limit {
            Limit::Frequency(_) => u64::from(e.row),
            Limit::Stay(_) => 0,
        }
    }

    pub(crate) fn finish(&self, spec: &Rule, rule: u32, events: &[Event], env: &Env, sink: &mut Sink) -> Result<()> {
        for g in groups(events) {
            let Some(first) = g.first() else { continue };
            let (limit, window) = match &self.limit {
                Limit::Frequency(v) => match v.get(first.row as usize) {
                    Some(&(m, w)) => (m, w),
                    None => continue,
                },
                Limit::Stay(tol) => {
                    // Only the stay times: not the rest of the encounter's row.
                    let stay = env.encs.stay(first.enc).unwrap_or_default();
                    let (Some(b), Some(e)) = (stay.begn, stay.end) else {
                        if !stay.has_row {
                            let id = env.encs.names(first.enc).map(|n| n.id).unwrap_or_default();
                            let line = env.ev_line(first)?;
                            return Err(Error::Value {
                                table: "fee_details".into(),
                                column: env.map.source(ClaimsTable::FeeDetails, "mdtrt_id").into(),
                                row: line.global_row(),
                                rule_id: Some(spec.id.clone()),
                                message: format!(
                                    "encounter {id:?} is not in the mdtrt table, and the rule needs its stay"
                                ),
                            });
                        }
                        sink.unjudged(rule, "begntime or endtime is null");
                        continue;
                    };
                    (((day_of(e) - day_of(b)).max(1)) as f64 + tol, Window::Encounter)
                }
            };
            let mut bucket: Option<i64> = None;
            let mut total = 0.0;
            for ev in g {
                let b = if window == Window::Encounter {
                    Some(0)
                } else if ev.has_time {
                    window.bucket(Some(ev.time))
                } else {
                    None
                };
                let Some(b) = b else {
                    sink.unjudged(rule, "fee_ocur_time is null");
                    continue;
                };
                if bucket != Some(b) {
                    bucket = Some(b);
                    total = 0.0;
                }
                let line = env.ev_line(ev)?;
                let cnt = line.need("cnt", line.cnt(), spec)?;
                let before = total;
                total += cnt;
                if total > limit + 1e-9 && cnt > 0.0 {
                    let excess = (total - limit.max(before)).min(cnt);
                    let mut args: SmallVec<[(&'static str, String); 4]> = SmallVec::new();
                    match &self.limit {
                        Limit::Frequency(_) => {
                            args.push(("limit", fmt_qty(limit)));
                            args.push(("window", window.label()));
                            args.push(("qty", fmt_qty(total)));
                        }
                        Limit::Stay(_) => {
                            args.push(("los", fmt_qty(limit)));
                            args.push(("qty", fmt_qty(total)));
                        }
                    }
                    sink.hits.push(Hit {
                        rule,
                        enc: ev.enc,
                        line: Some(ev.line),
                        related: None,
                        amount: line.pric().map(|p| p * excess),
                        kp_row: ev.row,
                        args,
                    });
                }
            }
        }
        Ok(())
    }
}

fn fmt_qty(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}
