//! `price_cap`: the unit price charged is above the ceiling for the facility's tier.
//!
//! The ceiling is the row's `max_price_l3` / `max_price_l2` / `max_price_l1` for a 三级 / 二级 /
//! 一级 facility, else `max_price`. Amount at risk: `(pric − ceiling) × cnt`.

use super::attribute::tier;
use super::{line_hit, row_param as P, Compiled, Judge, Kernel, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::claims::ClaimsTable;
use crate::engine::run::Sink;
use crate::error::Result;
use crate::findings::money;

/// 超标准收费 (price ceiling by facility level).
pub static PRICE_CAP: TemplateSpec = TemplateSpec {
    name: "price_cap",
    title: "超标准收费 / 超限价",
    doc: "The unit price is above the ceiling for the facility's tier.",
    knowledge: KnowledgeUse::Required,
    params: &[
        P("max_price", ParamKind::Num, false, "ceiling for any tier"),
        P("max_price_l3", ParamKind::Num, false, "ceiling at 三级 facilities"),
        P("max_price_l2", ParamKind::Num, false, "ceiling at 二级 facilities"),
        P("max_price_l1", ParamKind::Num, false, "ceiling at 一级 and unrated facilities"),
        P("tolerance", ParamKind::Num, false, "allowed excess per unit, default 0.005"),
    ],
    placeholders: &["price", "cap"],
    default_message: "{item_name}单价{price}元，超过限价{cap}元",
    amount: "(pric − ceiling) × cnt",
    needs: &[(ClaimsTable::FeeDetails, "pric"), (ClaimsTable::FeeDetails, "cnt")],
};

#[derive(Clone, Copy)]
struct Caps {
    any: Option<f64>,
    by_tier: [Option<f64>; 3],
    tol: f64,
}

pub(crate) struct PriceCap {
    caps: Vec<Caps>,
}

pub(crate) fn compile(p: &Params, rows: usize) -> Result<Compiled> {
    let mut caps = Vec::with_capacity(rows);
    for r in 0..rows {
        let c = Caps {
            any: p.num("max_price", Some(r))?,
            by_tier: [
                p.num("max_price_l1", Some(r))?,
                p.num("max_price_l2", Some(r))?,
                p.num("max_price_l3", Some(r))?,
            ],
            tol: p.num("tolerance", Some(r))?.unwrap_or(0.005),
        };
        if c.any.is_none() && c.by_tier.iter().all(Option::is_none) {
            return Err(p.row_err("max_price", r, "no ceiling: give max_price or max_price_l1/l2/l3"));
        }
        caps.push(c);
    }
    Ok(Compiled::new(Kernel::PriceCap(PriceCap { caps })))
}

impl PriceCap {
    pub(crate) fn eval(&self, j: &Judge, sink: &mut Sink) -> Result<()> {
        let (spec, rule, kp, line, enc, er) = (j.spec, j.rule, j.kp, j.line, j.enc, j.er);
        let Some(c) = self.caps.get(kp as usize) else { return Ok(()) };
        let t = er.hosp_lv.and_then(tier).map(|t| t.max(1));
        let cap = match t.and_then(|t| c.by_tier.get(usize::from(t) - 1).copied().flatten()).or(c.any) {
            Some(x) => x,
            None => {
                sink.unjudged(rule, "no ceiling for this facility: hosp_lv is null or its tier has no max_price");
                return Ok(());
            }
        };
        let pric = line.need("pric", line.pric(), spec)?;
        if pric <= cap + c.tol {
            return Ok(());
        }
        // cnt only gives the amount at risk (null when cnt is null); it does not decide.
        let mut hit = line_hit(rule, enc, line, kp, line.cnt().map(|cnt| (pric - cap) * cnt));
        hit.args.push(("price", money(pric)));
        hit.args.push(("cap", money(cap)));
        sink.hits.push(hit);
        Ok(())
    }
}
