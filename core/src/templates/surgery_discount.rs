//! `surgery_discount` (手术项目未按规定折价): two or more different operations of one surgical
//! group billed for one encounter on one day (经同一切口) must have the second and later charged at
//! `discount_rate` of their standard price.
//!
//! Knowledge rows give each operation code its `group` and, where known, its `std_price`. In each
//! (encounter, group, day) with at least two distinct codes, the line with the highest standard
//! price (its `pric` when `std_price` is null) is the main operation; every other line whose `pric`
//! is above `std_price × discount_rate + tolerance` is a finding. A line without `std_price` cannot
//! be judged and is counted as unjudged. Amount at risk: `(pric − std_price × rate) × cnt`.

use super::{row_param, rule_param, Compiled, Kernel, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::claims::ClaimsTable;
use crate::engine::run::{Env, Event, Hit, Sink};
use crate::engine::Entry;
use crate::error::Result;
use crate::findings::money;
use crate::pack::Rule;
use crate::time::day_of;
use smallvec::SmallVec;
use std::collections::BTreeMap;

/// 手术项目未按规定折价收费.
pub static SURGERY_DISCOUNT: TemplateSpec = TemplateSpec {
    name: "surgery_discount",
    title: "手术项目未按规定折价收费 (GZ10000102002000)",
    doc: "The second and later operations of one surgical group on one day are not discounted.",
    knowledge: KnowledgeUse::Required,
    params: &[
        row_param("group", ParamKind::Str, true, "surgical group name (e.g. 胃肠手术组)"),
        row_param("std_price", ParamKind::Num, false, "the operation's standard (undiscounted) unit price"),
        rule_param(
            "discount_rate",
            ParamKind::Num,
            false,
            "share of the standard price charged for the second and later operations, default 0.5",
        ),
        rule_param(
            "tolerance",
            ParamKind::Num,
            false,
            "yuan per unit allowed above the discounted price, default 0.01",
        ),
    ],
    placeholders: &["group", "price", "expected", "rate"],
    default_message: "{item_name}与同组({group})主手术同日收费，单价{price}元，应按{rate}折价为{expected}元",
    amount: "(pric − std_price × discount_rate) × cnt",
    needs: &[
        (ClaimsTable::FeeDetails, "pric"),
        (ClaimsTable::FeeDetails, "cnt"),
        (ClaimsTable::FeeDetails, "fee_ocur_time"),
    ],
};

pub(crate) struct Discount {
    /// Per knowledge row: (group id, std_price).
    rows: Vec<(u32, Option<f64>)>,
    groups: Vec<String>,
    rate: f64,
    tol: f64,
}

pub(crate) fn compile(p: &Params, rows: usize) -> Result<Compiled> {
    p.require("group")?;
    let rate = p.num("discount_rate", None)?.unwrap_or(0.5);
    if !(0.0..=1.0).contains(&rate) {
        return Err(crate::error::Error::rule(
            &p.rule.id,
            "params.discount_rate",
            format!("expected a share between 0 and 1, found {rate}"),
        ));
    }
    let mut names: BTreeMap<String, u32> = BTreeMap::new();
    let mut groups = Vec::new();
    let mut v = Vec::with_capacity(rows);
    for r in 0..rows {
        let g = p.req_str("group", Some(r))?;
        let id = *names.entry(g.clone()).or_insert_with(|| {
            groups.push(g.clone());
            (groups.len() - 1) as u32
        });
        v.push((id, p.num("std_price", Some(r))?));
    }
    Ok(Compiled::new(Kernel::SurgeryDiscount(Discount {
        rows: v,
        groups,
        rate,
        tol: p.num("tolerance", None)?.unwrap_or(0.01),
    })))
}

impl Discount {
    pub(crate) fn key(&self, e: &Entry) -> u64 {
        self.rows.get(e.row as usize).map_or(u64::MAX, |r| u64::from(r.0))
    }

    pub(crate) fn finish(&self, spec: &Rule, rule: u32, events: &[Event], env: &Env, sink: &mut Sink) -> Result<()> {
        let mut timed: Vec<&Event> = Vec::new();
        for e in events {
            if e.has_time {
                timed.push(e);
            } else {
                sink.unjudged(rule, "fee_ocur_time is null");
            }
        }
        for day in timed.chunk_by(|a, b| a.enc == b.enc && a.key == b.key && day_of(a.time) == day_of(b.time)) {
            let mut codes: Vec<&str> = Vec::with_capacity(day.len());
            for e in day {
                codes.extend(env.ev_line(e)?.code());
            }
            codes.sort_unstable();
            codes.dedup();
            if codes.len() < 2 {
                // One operation code on the day: nothing to decide, so no price is needed.
                continue;
            }
            let mut lines = Vec::with_capacity(day.len());
            for e in day {
                let l = env.ev_line(e)?;
                let std = self.rows.get(e.row as usize).and_then(|r| r.1);
                let pric = l.need("pric", l.pric(), spec)?;
                lines.push((e, l, std, pric));
            }
            let mut main = 0;
            for (i, x) in lines.iter().enumerate() {
                let best = lines.get(main).map_or(f64::MIN, |m| m.2.unwrap_or(m.3));
                if x.2.unwrap_or(x.3) > best {
                    main = i;
                }
            }
            let main_line = lines.get(main).map(|m| m.0.line);
            for (i, (e, l, std, pric)) in lines.iter().enumerate() {
                if i == main {
                    continue;
                }
                let Some(std) = std else {
                    sink.unjudged(rule, "std_price is null for a second operation");
                    continue;
                };
                let expected = std * self.rate;
                if *pric <= expected + self.tol {
                    continue;
                }
                let mut args: SmallVec<[(&'static str, String); 4]> = SmallVec::new();
                args.push(("group", self.groups.get(e.key as usize).cloned().unwrap_or_default()));
                args.push(("price", money(*pric)));
                args.push(("expected", money(expected)));
                args.push(("rate", format!("{}%", (self.rate * 100.0).round())));
                sink.hits.push(Hit {
                    rule,
                    enc: e.enc,
                    line: Some(e.line),
                    related: main_line,
                    // cnt only gives the amount at risk (null when cnt is null); it does not decide.
                    amount: l.cnt().map(|cnt| (pric - expected) * cnt),
                    kp_row: e.row,
                    args,
                });
            }
        }
        Ok(())
    }
}
