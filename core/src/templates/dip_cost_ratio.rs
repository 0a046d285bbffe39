//! `dip_cost_ratio` (DIP 高/低倍率病例): a stay's cost against its DIP group's payment standard.
//!
//! The stay is matched to a disease group of the DIP catalogue named by `params.catalogue` (given
//! to the engine with `Engine::builder(pack).dip_catalogue(..)`): its adjusted score (分值 ×
//! auxiliary factors) × `point_value` (分值单价, yuan per point) is the standard. The ratio cost /
//! standard above `high_ratio` or below `low_ratio` is a finding. The scope exclusions are those of
//! `drg_cost_ratio`. A stay no group takes, or with a null line amount, is unjudged.
//!
//! Amount at risk: high, the cost above high_ratio × standard; low, the standard minus the cost.

use super::drg_case::{num, DrgKind, DrgRule, Judge};
use super::drg_cost_ratio::Scope;
use super::{rule_param, Compiled, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::dip::DipCase;
use crate::engine::run::Sink;
use crate::error::Result;
use smallvec::smallvec;

/// DIP high/low cost-ratio cases.
pub static DIP_COST_RATIO: TemplateSpec = TemplateSpec {
    name: "dip_cost_ratio",
    title: "DIP 高倍率/低倍率病例 (费用偏离病种分值标准)",
    doc: "Matches the stay to a group of params.catalogue; flags cost / (adjusted score × point_value) above high_ratio or below low_ratio.",
    knowledge: KnowledgeUse::None,
    params: &[
        rule_param("catalogue", ParamKind::Str, true, "id of a DIP catalogue given to the engine (Engine::builder(..).dip_catalogue(..))"),
        rule_param("point_value", ParamKind::Num, true, "分值单价: yuan per point"),
        rule_param("high_ratio", ParamKind::Num, false, "high threshold; default 2"),
        rule_param("low_ratio", ParamKind::Num, false, "low threshold; default 0.5"),
        rule_param("exclude_los_below", ParamKind::Num, false, "stays shorter than this many days are out of scope"),
        rule_param("exclude_los_above", ParamKind::Num, false, "stays longer than this many days are out of scope"),
        rule_param("exclude_dscg_way", ParamKind::StrList, false, "dscg_way values out of scope"),
    ],
    placeholders: &["group", "group_name", "score", "factor", "cost", "standard", "ratio", "threshold", "direction"],
    default_message: "病例入{group}（{group_name}，分值{score}×{factor}），费用{cost}元，为病种分值标准{standard}元的{ratio}倍，{direction}界值{threshold}倍",
    amount: "high: cost − high_ratio × standard; low: standard − cost",
    needs: &[],
};

pub(crate) struct DipCostRatio {
    pub catalogue: String,
    point_value: f64,
    high: f64,
    low: f64,
    scope: Scope,
}

pub(crate) fn compile(p: &Params) -> Result<Compiled> {
    let k = DipCostRatio {
        catalogue: p.req_str("catalogue", None)?,
        point_value: p.req_num("point_value", None)?,
        high: p.num("high_ratio", None)?.unwrap_or(2.0),
        low: p.num("low_ratio", None)?.unwrap_or(0.5),
        scope: Scope::new(p)?,
    };
    Ok(DrgRule::new(DrgKind::DipCostRatio(k), p)?.compiled())
}

impl DipCostRatio {
    pub fn judge(&self, j: &Judge, sink: &mut Sink) {
        match self.scope.excluded(j.stay.los, j.stay.dscg_way) {
            Ok(true) => return,
            Ok(false) => {}
            Err(why) => return sink.unjudged(j.ri, why),
        }
        let Some(cat) = j.d.dip.as_deref() else { return };
        let s = j.stay;
        let Some((principal, secondary)) = s.dx.split_first() else {
            return sink.unjudged(j.ri, "the stay has no diagnosis");
        };
        let case = DipCase {
            principal,
            secondary: secondary.to_vec(),
            procedures: s.procs.to_vec(),
            age_years: s.age,
            los_days: s.los,
        };
        let Some(m) = cat.match_case(&case) else { return sink.unjudged(j.ri, "no DIP group takes the stay") };
        let Some(cost) = s.cost else { return sink.unjudged(j.ri, "a fee line amount is null") };
        let standard = m.adjusted_score() * self.point_value;
        let ratio = cost / standard;
        let (dir, thr, amount) = if ratio > self.high {
            ("高于高倍率", self.high, cost - self.high * standard)
        } else if ratio < self.low {
            ("低于低倍率", self.low, standard - cost)
        } else {
            return;
        };
        let args = smallvec![
            ("group", m.group.to_string()),
            ("group_name", m.name.to_string()),
            ("score", num(m.score)),
            ("factor", num(m.factor)),
            ("cost", num(cost)),
            ("standard", num(standard)),
            ("ratio", num(ratio)),
            ("threshold", num(thr)),
            ("direction", dir.to_string()),
        ];
        sink.hits.push(j.hit(Some(amount), crate::engine::NO_ROW, args));
    }
}
