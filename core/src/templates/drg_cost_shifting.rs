//! `drg_cost_shifting` (转嫁费用): outpatient encounters of the same person at the same facility
//! within `window_days` before admission or after discharge, with a diagnosis in the category of
//! the stay's principal diagnosis (its first `dx_chars` characters), costing at least `min_share`
//! of the stay's cost.
//!
//! The finding is on the stay; it counts the outpatient encounters and their cost. Only the
//! encounters of one check call are seen (see [`super::drg_history`]). Amount at risk: the
//! outpatient cost shifted.

use super::drg_case::{num, DrgKind, DrgRule, Judge};
use super::{rule_param, Compiled, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::engine::run::Sink;
use crate::error::{Error, Result};
use crate::pack::Scene;
use crate::time::DAY;
use smallvec::smallvec;

/// Costs shifted to outpatient visits around a stay.
pub static DRG_COST_SHIFTING: TemplateSpec = TemplateSpec {
    name: "drg_cost_shifting",
    title: "转嫁费用：住院前后门诊发生同类诊断费用",
    doc: "Outpatient encounters (same person, same facility) within window_days before admission or after discharge, with a diagnosis in the stay's principal-diagnosis category, costing at least min_share of the stay.",
    knowledge: KnowledgeUse::None,
    params: &[
        rule_param("window_days", ParamKind::Num, false, "days before admission and after discharge; default 7"),
        rule_param("dx_chars", ParamKind::Num, false, "leading characters of the diagnosis code that make a category; default 3"),
        rule_param("min_share", ParamKind::Num, false, "least outpatient cost as a share of the stay's cost; default 0.1"),
    ],
    placeholders: &["visits", "shifted", "share", "category", "window"],
    default_message: "住院前后{window}天内同机构门诊{visits}次，诊断同属{category}，费用{shifted}元，占住院费用{share}%",
    amount: "the outpatient cost",
    needs: &[],
};

pub(crate) struct CostShifting {
    window: f64,
    chars: usize,
    min_share: f64,
}

pub(crate) fn compile(p: &Params) -> Result<Compiled> {
    let window = p.num("window_days", None)?.unwrap_or(7.0);
    let chars = p.num("dx_chars", None)?.unwrap_or(3.0);
    if window.is_nan() || window <= 0.0 || chars.is_nan() || chars < 1.0 {
        return Err(Error::rule(&p.rule.id, "params", "window_days must be positive and dx_chars at least 1"));
    }
    let k = CostShifting { window, chars: chars as usize, min_share: p.num("min_share", None)?.unwrap_or(0.1) };
    Ok(DrgRule::new(DrgKind::CostShifting(k), p)?.compiled())
}

impl CostShifting {
    pub fn judge(&self, j: &Judge, sink: &mut Sink) {
        let out = Scene::Outpatient.bit();
        let me = j.history.info(j.stay.enc);
        let (Some(begn), Some(end)) = (me.begn, me.end) else {
            return sink.unjudged(j.ri, "begntime or endtime is null");
        };
        let Some(main) = j.stay.main_dx else { return };
        let category: String = main.chars().take(self.chars).collect();
        let w = (self.window * DAY as f64) as i64;
        let (mut visits, mut shifted) = (0usize, 0.0);
        for o in j.history.around(j.stay.enc) {
            let i = j.history.info(o);
            if i.scene & out == 0 {
                continue;
            }
            let Some(t) = i.begn else { continue };
            let near = (t < begn && begn - t <= w) || (t > end && t - end <= w);
            if !near || !j.dx_of(o).iter().any(|d| d.starts_with(category.as_str())) {
                continue;
            }
            let Some(c) = i.cost else { return sink.unjudged(j.ri, "an outpatient line amount is null") };
            visits += 1;
            shifted += c;
        }
        if visits == 0 {
            return;
        }
        let Some(cost) = j.stay.cost.filter(|c| *c > 0.0) else {
            return sink.unjudged(j.ri, "the stay's cost is null or zero");
        };
        let share = shifted / cost;
        if share < self.min_share {
            return;
        }
        let args = smallvec![
            ("visits", visits.to_string()),
            ("shifted", num(shifted)),
            ("share", num(share * 100.0)),
            ("category", category),
            ("window", num(self.window)),
        ];
        sink.hits.push(j.hit(Some(shifted), crate::engine::NO_ROW, args));
    }
}
