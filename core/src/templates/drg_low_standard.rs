//! `drg_low_standard` (低标准入院): a short stay with no operation and no invasive item, whose
//! cost is mostly checks, tests and oral drugs, for a principal diagnosis on a list of conditions
//! treatable as an outpatient (the rule's knowledge: `code`, exact or prefix per `match`).
//!
//! A stay is flagged when all hold: length of stay ≤ `max_los`; no `operations` row; no fee line
//! whose code starts with an `invasive_items` prefix; and the share of the cost on lines whose
//! `med_chrgitm_type` is in `check_types` or whose code starts with an `oral_drug_items` prefix is
//! at least `min_share`. Amount at risk: the stay's cost. No grouping is needed.

use super::drg_case::{num, DrgKind, DrgRule, Judge};
use super::{rule_param, Compiled, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::claims::ClaimsTable;
use crate::engine::run::Sink;
use crate::error::Result;
use smallvec::smallvec;

/// Low-standard admission.
pub static DRG_LOW_STANDARD: TemplateSpec = TemplateSpec {
    name: "drg_low_standard",
    title: "低标准入院 (可门诊治疗的疾病住院)",
    doc: "Short stay, no operation or invasive item, mostly checks/tests/oral drugs, principal diagnosis on the knowledge list of outpatient-treatable conditions.",
    knowledge: KnowledgeUse::Case,
    params: &[
        rule_param("max_los", ParamKind::Num, false, "longest stay in days that can be flagged; default 3"),
        rule_param("min_share", ParamKind::Num, false, "least share of the cost on checks, tests and oral drugs; default 0.8"),
        rule_param("check_types", ParamKind::StrList, false, "med_chrgitm_type values counted as checks and tests; default [\"03\", \"04\"]"),
        rule_param("oral_drug_items", ParamKind::StrList, false, "item code prefixes of oral drugs; default none"),
        rule_param("invasive_items", ParamKind::StrList, false, "item code prefixes of invasive items (any one clears the stay); default none"),
    ],
    placeholders: &["diag_code", "los", "share", "cost"],
    default_message: "主要诊断{diag_code}可门诊治疗，住院{los}天，无手术及有创操作，检查检验及口服药费用占{share}%",
    amount: "the stay's cost (sum of det_item_fee_sumamt)",
    needs: &[(ClaimsTable::FeeDetails, "med_chrgitm_type"), (ClaimsTable::FeeDetails, "det_item_fee_sumamt")],
};

pub(crate) struct LowStandard {
    max_los: f64,
    min_share: f64,
    check_types: Vec<String>,
    oral: Vec<String>,
    invasive: Vec<String>,
}

pub(crate) fn compile(p: &Params) -> Result<Compiled> {
    let k = LowStandard {
        max_los: p.num("max_los", None)?.unwrap_or(3.0),
        min_share: p.num("min_share", None)?.unwrap_or(0.8),
        check_types: p.list("check_types", None)?.unwrap_or_else(|| vec!["03".into(), "04".into()]),
        oral: p.list("oral_drug_items", None)?.unwrap_or_default(),
        invasive: p.list("invasive_items", None)?.unwrap_or_default(),
    };
    Ok(DrgRule::new(DrgKind::LowStandard(k), p)?.compiled())
}

impl LowStandard {
    pub fn judge(&self, j: &Judge, sink: &mut Sink) {
        let s = j.stay;
        let Some(dx) = s.main_dx else { return };
        let Some(kp) = j.d.rows_matching(dx).next() else { return };
        let Some(los) = s.los else { return sink.unjudged(j.ri, "length of stay unknown") };
        if los as f64 > self.max_los || s.operations > 0 {
            return;
        }
        let starts = |code: &str, list: &[String]| list.iter().any(|p| code.starts_with(p.as_str()));
        if s.lines.iter().any(|l| starts(l.0, &self.invasive)) {
            return;
        }
        let Some(cost) = s.cost else { return sink.unjudged(j.ri, "a fee line amount is null") };
        if cost <= 0.0 {
            return;
        }
        let light: f64 = s
            .lines
            .iter()
            .filter(|l| l.2.is_some_and(|t| self.check_types.iter().any(|c| c == t)) || starts(l.0, &self.oral))
            .filter_map(|l| l.1)
            .sum();
        let share = light / cost;
        if share < self.min_share {
            return;
        }
        let args = smallvec![
            ("diag_code", dx.to_string()),
            ("los", los.to_string()),
            ("share", num(share * 100.0)),
            ("cost", num(cost)),
        ];
        sink.hits.push(j.hit(Some(cost), kp as u32, args));
    }
}
