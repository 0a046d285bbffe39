//! Diagnosis-linked line templates: `diag_required` (限适应症: the encounter must have a diagnosis
//! in the item's code set) and `diag_forbidden` (禁忌: it must not).
//!
//! A knowledge point whose indication has no diagnosis mapping yet (a null `diag_set`) is an
//! error, unless the rule sets `unmapped: "unjudged"`: then each of its lines is counted as
//! unjudged ("cannot be judged without a diagnosis mapping"), never guessed.
//!
//! Code sets are the pack's `code_sets`; every diagnosis code of a check is matched once against
//! all sets by one automaton. When no diagnoses table is given at all, the rule cannot judge and
//! counts the line as unjudged; an encounter without diagnoses in a given table has none.
//! Amount at risk: the line's `det_item_fee_sumamt`.

use super::{
    line_hit, row_param, rule_param, unknown_set, Compiled, Judge, Kernel, KnowledgeUse, ParamKind, Params,
    TemplateSpec,
};
use crate::engine::codes::CodeSets;
use crate::engine::encounters::EncTable;
use crate::engine::run::Sink;
use crate::error::Result;

/// 药品限适应症.
pub static DIAG_REQUIRED: TemplateSpec = TemplateSpec {
    name: "diag_required",
    title: "药品限适应症 / 限定诊断 (GZ10000101008000)",
    doc: "The item is paid only when the encounter has a diagnosis in the row's code set.",
    knowledge: KnowledgeUse::Required,
    params: &[
        row_param("diag_set", ParamKind::CodeSet, true, "name of a code set of the pack"),
        rule_param(
            "unmapped",
            ParamKind::Enum(&["error", "unjudged"]),
            false,
            "a row without diag_set: \"error\" (default) at load, or \"unjudged\" (counted as unjudged: cannot be judged without a diagnosis mapping)",
        ),
    ],
    placeholders: &["diag_set"],
    default_message: "{item_name}限{diag_set}使用，本次就诊无相应诊断",
    amount: "the line's det_item_fee_sumamt",
    needs: &[],
};

/// 禁忌症.
pub static DIAG_FORBIDDEN: TemplateSpec = TemplateSpec {
    name: "diag_forbidden",
    title: "药品禁忌症 / 诊断禁用",
    doc: "The item must not be used when the encounter has a diagnosis in the row's code set.",
    knowledge: KnowledgeUse::Required,
    params: &[row_param("diag_set", ParamKind::CodeSet, true, "name of a code set of the pack")],
    placeholders: &["diag_set"],
    default_message: "{item_name}禁用于{diag_set}患者",
    amount: "the line's det_item_fee_sumamt",
    needs: &[],
};

/// The unjudged reason of a point without a diagnosis mapping.
pub const UNMAPPED: &str = "cannot be judged without a diagnosis mapping";

pub(crate) struct DiagLink {
    required: bool,
    /// Per knowledge row: (set index, set name); `None` for a point without a diagnosis mapping.
    sets: Vec<Option<(usize, String)>>,
}

pub(crate) fn compile(p: &Params, rows: usize, code_sets: &CodeSets) -> Result<Compiled> {
    let unmapped_ok = p.str("unmapped", None)?.as_deref() == Some("unjudged");
    if !unmapped_ok {
        p.require("diag_set")?;
    }
    let mut sets = Vec::with_capacity(rows);
    for r in 0..rows {
        let name = match p.str("diag_set", Some(r))? {
            Some(n) => n,
            None if unmapped_ok => {
                sets.push(None);
                continue;
            }
            None => p.req_str("diag_set", Some(r))?,
        };
        let idx = code_sets
            .index(&name)
            .ok_or_else(|| p.row_err("diag_set", r, unknown_set(&name, &code_sets_names(code_sets))))?;
        sets.push(Some((idx, name)));
    }
    Ok(Compiled::new(Kernel::Diagnosis(DiagLink { required: p.rule.template.name == "diag_required", sets })))
}

fn code_sets_names(cs: &CodeSets) -> std::collections::BTreeMap<String, Vec<String>> {
    cs.names().iter().map(|n| (n.clone(), Vec::new())).collect()
}

impl DiagLink {
    pub(crate) fn eval(&self, j: &Judge, encs: &EncTable, sink: &mut Sink) -> Result<()> {
        let (rule, kp, line, enc) = (j.rule, j.kp, j.line, j.enc);
        let Some(slot) = self.sets.get(kp as usize) else { return Ok(()) };
        let Some((set, name)) = slot else {
            sink.unjudged(rule, UNMAPPED);
            return Ok(());
        };
        if !encs.has_diagnoses {
            sink.unjudged(rule, "no diagnoses table was given");
            return Ok(());
        }
        if encs.has_diag_in(enc, *set) != self.required {
            let mut hit = line_hit(rule, enc, line, kp, line.amount());
            hit.args.push(("diag_set", name.clone()));
            sink.hits.push(hit);
        }
        Ok(())
    }
}
