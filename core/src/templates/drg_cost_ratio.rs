//! `drg_cost_ratio` (DRG 高/低倍率病例): a stay's cost against its group's benchmark.
//!
//! The stay is grouped with the DRG scheme named by `params.scheme`; its DRG's weight comes from
//! the rule's knowledge table (`code` = DRG code, `weight`); the benchmark is weight × `base_rate`
//! (a row may give its own `base_rate`). The ratio cost / benchmark is compared with a high
//! threshold chosen by weight band (`high_bands`) and with `low_ratio`. Stays shorter than
//! `exclude_los_below` days, longer than `exclude_los_above`, or with a `dscg_way` listed in
//! `exclude_dscg_way` are out of scope. A stay that cannot be grouped, whose DRG has no weight, or
//! with a null line amount is counted as unjudged.
//!
//! Amount at risk: high, the cost above threshold × benchmark; low, the benchmark minus the cost
//! (what a normal-case payment would pay above the cost).

use super::drg_case::{num, DrgKind, DrgRule, Judge};
use super::{row_param, rule_param, Compiled, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::engine::run::Sink;
use crate::error::{Error, Result};
use smallvec::smallvec;

/// DRG high/low cost-ratio cases.
pub static DRG_COST_RATIO: TemplateSpec = TemplateSpec {
    name: "drg_cost_ratio",
    title: "DRG 高倍率/低倍率病例 (费用偏离病组基准)",
    doc: "Groups the stay with params.scheme; flags cost / (weight × base_rate) above the weight band's high ratio or below low_ratio. Knowledge: DRG code → weight.",
    knowledge: KnowledgeUse::Case,
    params: &[
        rule_param("scheme", ParamKind::Str, true, "id of a DRG scheme given to the engine (Engine::builder(..).drg_scheme(..))"),
        row_param("base_rate", ParamKind::Num, true, "费率: yuan per weight unit"),
        rule_param("high_bands", ParamKind::StrList, false, "\"max_weight:ratio\" bands in increasing weight, last may be \"*:ratio\"; default [\"1:3\", \"2:2.5\", \"*:2\"]"),
        rule_param("low_ratio", ParamKind::Num, false, "low threshold; default 0.4"),
        rule_param("exclude_los_below", ParamKind::Num, false, "stays shorter than this many days are out of scope; default none"),
        rule_param("exclude_los_above", ParamKind::Num, false, "stays longer than this many days are out of scope; default none"),
        rule_param("exclude_dscg_way", ParamKind::StrList, false, "dscg_way values out of scope (e.g. death, transfer); default none"),
    ],
    placeholders: &["drg", "drg_name", "weight", "cost", "benchmark", "ratio", "threshold", "direction"],
    default_message: "病例入组{drg}（{drg_name}），费用{cost}元，为病组基准费用{benchmark}元的{ratio}倍，{direction}界值{threshold}倍",
    amount: "high: cost − threshold × benchmark; low: benchmark − cost",
    needs: &[],
};

/// The scope exclusions shared by the cost-ratio templates (DRG and DIP).
pub(crate) struct Scope {
    los_below: Option<f64>,
    los_above: Option<f64>,
    dscg: Vec<String>,
}

impl Scope {
    pub fn new(p: &Params) -> Result<Self> {
        Ok(Scope {
            los_below: p.num("exclude_los_below", None)?,
            los_above: p.num("exclude_los_above", None)?,
            dscg: p.list("exclude_dscg_way", None)?.unwrap_or_default(),
        })
    }

    /// Whether the stay is out of scope; `Err` (an unjudged reason) when its length of stay is
    /// unknown and the scope depends on it.
    pub fn excluded(&self, los: Option<i64>, dscg: Option<&str>) -> std::result::Result<bool, &'static str> {
        if dscg.is_some_and(|d| self.dscg.iter().any(|x| x == d)) {
            return Ok(true);
        }
        if self.los_below.is_none() && self.los_above.is_none() {
            return Ok(false);
        }
        let l = los.ok_or("length of stay unknown and the rule has length-of-stay exclusions")? as f64;
        Ok(self.los_below.is_some_and(|b| l < b) || self.los_above.is_some_and(|a| l > a))
    }
}

pub(crate) struct CostRatio {
    base_rate: Option<f64>,
    /// (max weight, ratio), increasing; `f64::INFINITY` for the open band.
    bands: Vec<(f64, f64)>,
    low: f64,
    scope: Scope,
    /// Per weights row: its own base rate.
    row_rates: Vec<Option<f64>>,
}

pub(crate) fn parse_bands(p: &Params, rule_id: &str) -> Result<Vec<(f64, f64)>> {
    let raw = p.list("high_bands", None)?.unwrap_or_else(|| vec!["1:3".into(), "2:2.5".into(), "*:2".into()]);
    let mut out = Vec::new();
    for (i, b) in raw.iter().enumerate() {
        let bad = || {
            Error::rule(
                rule_id,
                format!("params.high_bands[{i}]"),
                format!("expected \"max_weight:ratio\", found {b:?}"),
            )
        };
        let (w, r) = b.split_once(':').ok_or_else(bad)?;
        let w = if w.trim() == "*" { f64::INFINITY } else { w.trim().parse::<f64>().map_err(|_| bad())? };
        let r = r.trim().parse::<f64>().ok().filter(|r| *r > 0.0).ok_or_else(bad)?;
        if out.last().is_some_and(|(pw, _): &(f64, f64)| *pw >= w) {
            return Err(Error::rule(
                rule_id,
                format!("params.high_bands[{i}]"),
                "bands must be in increasing max_weight",
            ));
        }
        out.push((w, r));
    }
    if out.is_empty() {
        return Err(Error::rule(rule_id, "params.high_bands", "needs at least one band"));
    }
    Ok(out)
}

pub(crate) fn compile(p: &Params, rows: usize) -> Result<Compiled> {
    p.require("base_rate")?;
    let id = &p.rule.id;
    let row_rates = (0..rows).map(|r| p.num("base_rate", Some(r))).collect::<Result<Vec<_>>>()?;
    if let Some((r, _)) = row_rates.iter().enumerate().find(|(_, x)| !x.is_some_and(|x| x > 0.0)) {
        return Err(p.row_err("base_rate", r, "null or not a positive number"));
    }
    let k = CostRatio {
        base_rate: p.num("base_rate", None)?,
        bands: parse_bands(p, id)?,
        low: p.num("low_ratio", None)?.unwrap_or(0.4),
        scope: Scope::new(p)?,
        row_rates,
    };
    Ok(DrgRule::new(DrgKind::CostRatio(k), p)?.compiled())
}

impl CostRatio {
    /// The high threshold of a weight.
    pub fn high(&self, w: f64) -> f64 {
        self.bands.iter().find(|(max, _)| w <= *max).or(self.bands.last()).map_or(f64::INFINITY, |b| b.1)
    }

    pub fn judge(&self, j: &Judge, sink: &mut Sink) {
        match self.scope.excluded(j.stay.los, j.stay.dscg_way) {
            Ok(true) => return,
            Ok(false) => {}
            Err(why) => return sink.unjudged(j.ri, why),
        }
        let (g, _) = match j.drg() {
            Ok(x) => x,
            Err(why) => return sink.unjudged(j.ri, why),
        };
        let Some((w, row)) = j.d.weight(g.drg) else { return sink.unjudged(j.ri, "the case's DRG has no weight") };
        let Some(cost) = j.stay.cost else { return sink.unjudged(j.ri, "a fee line amount is null") };
        let Some(rate) = self.row_rates.get(row as usize).copied().flatten().or(self.base_rate) else {
            return sink.unjudged(j.ri, "no base rate");
        };
        let bench = w * rate;
        let ratio = cost / bench;
        let high = self.high(w);
        let (dir, thr, amount) = if ratio > high {
            ("高于高倍率", high, cost - high * bench)
        } else if ratio < self.low {
            ("低于低倍率", self.low, bench - cost)
        } else {
            return;
        };
        let args = smallvec![
            ("drg", g.drg.to_string()),
            ("drg_name", g.drg_name.unwrap_or("").to_string()),
            ("weight", num(w)),
            ("cost", num(cost)),
            ("benchmark", num(bench)),
            ("ratio", num(ratio)),
            ("threshold", num(thr)),
            ("direction", dir.to_string()),
        ];
        sink.hits.push(j.hit(Some(amount), row, args));
    }
}
