//! `drg_unsupported_coding` (高编高套 / 低码高编): a CC/MCC secondary diagnosis or an operation
//! coded on the stay with no charge in the stay that supports it.
//!
//! The rule's knowledge is an evidence table: `code` (a diagnosis or procedure code, exact or
//! prefix per the table's `match`), `kind` (`dx` or `proc`) and `items` (`a|b|c`: fee-item code
//! prefixes, any one of which on a line of the stay supports the code). A secondary diagnosis is
//! checked when it counts as a CC or MCC under the scheme (after the principal diagnosis's
//! exclusions); every procedure is checked. Codes without an evidence row are not judged.
//!
//! The stay is re-grouped without its unsupported codes. A finding is made when that gives a
//! lighter group (or always, with `report_unchanged`): it names the codes, the coded DRG and the
//! DRG the stay would fall into, and the amount at risk is (coded weight − re-grouped weight) ×
//! `base_rate` (never below 0), weights from the knowledge table named by `params.weights`.
//! Stays are grouped with the grouper's default options (unknown codes and sex conflicts make a
//! stay invalid, hence unjudged; code mapping as the scheme says).

use super::drg_case::{num, DrgKind, DrgRule, Judge};
use super::{rule_param, Compiled, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::drg::group::Status;
use crate::drg::GroupOptions;
use crate::engine::run::Sink;
use crate::error::Result;
use smallvec::{smallvec, SmallVec};

/// Coding without supporting charges.
pub static DRG_UNSUPPORTED_CODING: TemplateSpec = TemplateSpec {
    name: "drg_unsupported_coding",
    title: "DRG 高编高套：诊断或手术无相应收费支持",
    doc: "A CC/MCC secondary diagnosis or a procedure with an evidence row and no fee line matching its items; re-groups the stay without them and reports the weight difference.",
    knowledge: KnowledgeUse::Case,
    params: &[
        rule_param("scheme", ParamKind::Str, true, "id of a DRG scheme given to the engine"),
        rule_param("weights", ParamKind::Str, true, "name of the pack's knowledge table of DRG weights (code = DRG, weight)"),
        rule_param("base_rate", ParamKind::Num, true, "费率: yuan per weight unit"),
        rule_param("report_unchanged", ParamKind::Enum(&["true", "false"]), false, "\"true\": also report stays whose group does not get lighter; default \"false\""),
    ],
    placeholders: &["codes", "drg", "drg_name", "new_drg", "new_drg_name", "weight", "new_weight"],
    default_message: "{codes}无相应收费项目支持；病例入组{drg}（{drg_name}，权重{weight}），去除后入组{new_drg}（{new_drg_name}，权重{new_weight}）",
    amount: "(coded DRG weight − re-grouped DRG weight) × base_rate",
    needs: &[],
};

pub(crate) struct Unsupported {
    pub weights: String,
    base_rate: f64,
    report_unchanged: bool,
    /// Per evidence row: is it a procedure row, and its item prefixes.
    rows: Vec<(bool, Vec<String>)>,
}

pub(crate) fn compile(p: &Params, rows: usize) -> Result<Compiled> {
    let base_rate = p.req_num("base_rate", None)?;
    let weights = p.req_str("weights", None)?;
    let report_unchanged = p.str("report_unchanged", None)?.is_some_and(|s| s == "true");
    let kt = p.kt;
    let mut ev = Vec::with_capacity(rows);
    for r in 0..rows {
        let kind = kt.map(|t| t.str("kind", r)).transpose()?.flatten();
        let proc = match kind {
            Some("dx") => false,
            Some("proc") => true,
            other => return Err(p.row_err("kind", r, format!("expected \"dx\" or \"proc\", found {other:?}"))),
        };
        let items: Vec<String> = kt
            .map(|t| t.str("items", r))
            .transpose()?
            .flatten()
            .map(|s| s.split('|').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect())
            .unwrap_or_default();
        if items.is_empty() {
            return Err(p.row_err("items", r, "null or empty: list the supporting item code prefixes as a|b|c"));
        }
        ev.push((proc, items));
    }
    let k = Unsupported { weights, base_rate, report_unchanged, rows: ev };
    Ok(DrgRule::new(DrgKind::Unsupported(k), p)?.compiled())
}

impl Unsupported {
    /// The first evidence row for `code` (of kind `proc` or not), and whether the stay supports it.
    fn supported(&self, j: &Judge, code: &str, proc: bool) -> Option<(usize, bool)> {
        let mut first = None;
        for r in j.d.rows_matching(code) {
            let Some((p, items)) = self.rows.get(r) else { continue };
            if *p != proc {
                continue;
            }
            first.get_or_insert(r);
            if j.stay.lines.iter().any(|l| items.iter().any(|i| l.0.starts_with(i.as_str()))) {
                return Some((r, true));
            }
        }
        first.map(|r| (r, false))
    }

    pub fn judge(&self, j: &Judge, sink: &mut Sink) {
        let (g, c) = match j.drg() {
            Ok(x) => x,
            Err(why) => return sink.unjudged(j.ri, why),
        };
        let Some(grp) = j.grouped else { return };
        let scheme = grp.scheme;
        let case = grp.set.case(c);
        let (dx_codes, px_codes) = grp.set.codes(c);
        let counted = scheme.counted_cc(case.dx);
        let mut drop_dx: SmallVec<[usize; 4]> = SmallVec::new();
        let mut drop_px: SmallVec<[usize; 4]> = SmallVec::new();
        let mut kp = None;
        for i in counted {
            if let Some((r, false)) = dx_codes.get(i).and_then(|code| self.supported(j, code, false)) {
                drop_dx.push(i);
                kp.get_or_insert(r);
            }
        }
        for (i, code) in px_codes.iter().enumerate() {
            if let Some((r, false)) = self.supported(j, code, true) {
                drop_px.push(i);
                kp.get_or_insert(r);
            }
        }
        let Some(kp) = kp else { return };
        let dx: SmallVec<[u32; 16]> =
            case.dx.iter().enumerate().filter(|(i, _)| !drop_dx.contains(i)).map(|(_, d)| *d).collect();
        let px: SmallVec<[u32; 16]> =
            case.px.iter().enumerate().filter(|(i, _)| !drop_px.contains(i)).map(|(_, d)| *d).collect();
        let re = crate::drg::group::IdCase { v: case.v, dx: &dx, px: &px, fault: case.fault };
        let ng = scheme.grouping(scheme.walk(&re, &GroupOptions::default(), &mut ()));
        if ng.drg == g.drg && !self.report_unchanged {
            return;
        }
        let Some((w, _)) = j.d.weight(g.drg) else { return sink.unjudged(j.ri, "the case's DRG has no weight") };
        let nw = if ng.status == Status::Grouped { j.d.weight(ng.drg).map(|x| x.0) } else { None };
        let Some(nw) = nw else {
            return sink.unjudged(j.ri, "the re-grouped case has no DRG weight");
        };
        // Leaving the codes out gives no lighter group: the coding gained nothing.
        if nw >= w && !self.report_unchanged {
            return;
        }
        let codes: Vec<&str> = drop_dx
            .iter()
            .filter_map(|i| dx_codes.get(*i).copied())
            .chain(drop_px.iter().filter_map(|i| px_codes.get(*i).copied()))
            .collect();
        let args = smallvec![
            ("codes", codes.join("、")),
            ("drg", g.drg.to_string()),
            ("drg_name", g.drg_name.unwrap_or("").to_string()),
            ("new_drg", ng.drg.to_string()),
            ("new_drg_name", ng.drg_name.unwrap_or("").to_string()),
            ("weight", num(w)),
            ("new_weight", num(nw)),
        ];
        sink.hits.push(j.hit(Some((w - nw).max(0.0) * self.base_rate), kp as u32, args));
    }
}
