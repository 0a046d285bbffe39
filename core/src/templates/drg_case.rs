//! What the encounter-level DRG case templates share: the compiled rule, linking it to the DRG
//! scheme and the weight table the engine was given, and the pass that reads each stay once
//! (its fee lines, cost, diagnoses, operations, length of stay, and its group under each scheme a
//! rule names) and hands it to the templates ([`super::drg_cost_ratio`],
//! [`super::drg_unsupported_coding`], [`super::drg_low_standard`], [`super::dip_cost_ratio`]).
//!
//! The pass runs after the line rules, on the whole claims of the call (a check with DRG rules
//! runs on one thread: see `Engine::check`). A finding is about the encounter (no fee line).
//! This module never does IO.

use super::{Compiled, Kernel, Params};
use crate::claims::{ClaimsTable, NumCol, Resolver, StrCol};
use crate::drg::batch::CaseSet;
use crate::drg::{DrgScheme, GroupOptions};
use crate::engine::codes::FxHashMap;
use crate::engine::run::{Env, Hit, Sink};
use crate::engine::CompiledRule;
use crate::error::{Error, Result};
use crate::knowledge::{KnowledgeTable, MatchMode};
use crate::pack::{Rule, RulePack};
use crate::Claims;
use smallvec::SmallVec;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The kind of case check.
pub(crate) enum DrgKind {
    CostRatio(super::drg_cost_ratio::CostRatio),
    Unsupported(super::drg_unsupported_coding::Unsupported),
    LowStandard(super::drg_low_standard::LowStandard),
    DipCostRatio(super::dip_cost_ratio::DipCostRatio),
    Readmission(super::drg_readmission::Readmission),
    CostShifting(super::drg_cost_shifting::CostShifting),
}

/// A compiled DRG case rule.
pub(crate) struct DrgRule {
    pub kind: DrgKind,
    /// The scheme the rule groups with (`params.scheme`), when it groups.
    pub scheme_id: Option<String>,
    /// Set when the engine is built.
    pub scheme: Option<Arc<DrgScheme>>,
    /// The DIP catalogue (`dip_cost_ratio`), set when the engine is built.
    pub dip: Option<Arc<crate::dip::DipCatalogue>>,
    /// The knowledge table holding DRG weights: the rule's own, or `params.weights`.
    pub weights_table: Option<String>,
    /// DRG code → (weight, row of the weights table).
    pub weights: FxHashMap<String, (f64, u32)>,
    /// Code patterns of the rule's knowledge rows (`code`, `a|b` for several; prefix or exact) with
    /// their row, for templates that
    /// match diagnoses or procedures against them.
    pub patterns: Vec<(String, bool, usize)>,
}

impl DrgRule {
    pub fn new(kind: DrgKind, p: &Params) -> Result<Self> {
        let scheme_id = p.str("scheme", None)?;
        Ok(DrgRule {
            kind,
            scheme_id,
            scheme: None,
            dip: None,
            weights_table: None,
            weights: FxHashMap::default(),
            patterns: Vec::new(),
        })
    }

    pub fn compiled(self) -> Compiled {
        Compiled::new(Kernel::Drg(Box::new(self)))
    }

    /// The weight of `drg` and its row.
    pub fn weight(&self, drg: &str) -> Option<(f64, u32)> {
        self.weights.get(drg).copied()
    }

    /// Rows of the rule's knowledge whose `code` matches `code`.
    pub fn rows_matching(&self, code: &str) -> impl Iterator<Item = usize> + '_ {
        let code = code.to_string();
        let mut last = usize::MAX;
        self.patterns.iter().filter_map(move |(p, prefix, row)| {
            let hit = if *prefix { code.starts_with(p.as_str()) } else { code == *p };
            // A row listing several matching codes counts once.
            let new = hit && *row != last;
            if hit {
                last = *row;
            }
            new.then_some(*row)
        })
    }
}

/// Reads a weights table: `code` (DRG code) and `weight` on every row.
fn read_weights(t: &KnowledgeTable) -> Result<FxHashMap<String, (f64, u32)>> {
    if !t.has("weight") {
        return Err(Error::knowledge(
            t.name(),
            Some("weight"),
            None,
            "missing column: a DRG weights table needs code and weight",
        ));
    }
    let mut out = FxHashMap::default();
    for r in 0..t.len() {
        let w = t
            .num("weight", r)?
            .filter(|w| w.is_finite() && *w > 0.0)
            .ok_or_else(|| Error::knowledge(t.name(), Some("weight"), Some(r), "null or not a positive number"))?;
        for code in codes(t, r)? {
            if let Some((_, first)) = out.insert(code.clone(), (w, r as u32)) {
                return Err(Error::knowledge(
                    t.name(),
                    Some("code"),
                    Some(r),
                    format!("duplicate DRG {code:?} (first at row {first})"),
                ));
            }
        }
    }
    Ok(out)
}

/// The codes of a knowledge row: its `code`, split on `|` (one point may list several codes).
fn codes(t: &KnowledgeTable, r: usize) -> Result<Vec<String>> {
    t.str("code", r)?
        .unwrap_or("")
        .split('|')
        .map(|c| match c.trim() {
            "" => Err(Error::knowledge(t.name(), Some("code"), Some(r), "empty code in the code list")),
            c => Ok(c.to_string()),
        })
        .collect()
}

/// Gives each DRG rule its scheme, weights and knowledge patterns. Called once the pack's rules are
/// compiled, with the knowledge tables and the schemes given to the engine.
pub(crate) fn link(
    pack: &RulePack,
    rules: &mut [CompiledRule],
    tables: &BTreeMap<String, Arc<KnowledgeTable>>,
    payment: &crate::engine::builder::Payment,
) -> Result<()> {
    let schemes = &payment.drg;
    for (rule, cr) in pack.rules.iter().zip(rules.iter_mut()) {
        let Kernel::Drg(d) = &mut cr.kernel else { continue };
        if let DrgKind::DipCostRatio(k) = &d.kind {
            let c = payment.dip.iter().find(|c| c.id() == k.catalogue).ok_or_else(|| {
                let given: Vec<&str> = payment.dip.iter().map(|c| c.id()).collect();
                Error::rule(
                    &rule.id,
                    "params.catalogue",
                    format!(
                        "DIP catalogue {:?} was not given to the engine (Engine::builder(pack).dip_catalogue(..)); given: {}",
                        k.catalogue,
                        if given.is_empty() { "none".to_string() } else { given.join(", ") }
                    ),
                )
            })?;
            d.dip = Some(Arc::clone(c));
        }
        if let Some(id) = &d.scheme_id {
            let s = schemes.iter().find(|s| s.id() == id).ok_or_else(|| {
                let given: Vec<&str> = schemes.iter().map(|s| s.id()).collect();
                Error::rule(
                    &rule.id,
                    "params.scheme",
                    format!(
                        "DRG scheme {id:?} was not given to the engine (Engine::builder(pack).drg_scheme(..)); given: {}",
                        if given.is_empty() { "none".to_string() } else { given.join(", ") }
                    ),
                )
            })?;
            d.scheme = Some(Arc::clone(s));
        }
        let own = rule.knowledge.as_ref().and_then(|k| tables.get(k));
        if let Some(t) = own {
            let mode = rule.knowledge.as_ref().and_then(|k| pack.knowledge.get(k)).map_or(MatchMode::Exact, |d| d.mode);
            let mut patterns = Vec::new();
            for r in 0..t.len() {
                let prefix = crate::engine::compile::row_is_prefix(t, r, mode)?;
                patterns.extend(codes(t, r)?.into_iter().map(|c| (c, prefix, r)));
            }
            d.patterns = patterns;
        }
        let weights = match &d.kind {
            DrgKind::CostRatio(_) => own.map(|t| (t.name().to_string(), t)),
            DrgKind::Unsupported(u) => {
                let t = tables.get(&u.weights).ok_or_else(|| {
                    Error::rule(&rule.id, "params.weights", format!("unknown knowledge table {:?}", u.weights))
                })?;
                Some((u.weights.clone(), t))
            }
            DrgKind::LowStandard(_) | DrgKind::DipCostRatio(_) | DrgKind::Readmission(_) | DrgKind::CostShifting(_) => {
                None
            }
        };
        if let Some((name, t)) = weights {
            d.weights = read_weights(t)?;
            d.weights_table = Some(name);
        }
    }
    Ok(())
}

/// One stay as the templates see it.
pub(crate) struct Stay<'x, 'a> {
    /// Encounter index (== `mdtrt` row).
    pub enc: u32,
    /// Total cost: the sum of its lines' `det_item_fee_sumamt`; `None` when a line's amount is null.
    pub cost: Option<f64>,
    /// Its fee lines: (code, amount, med_chrgitm_type).
    pub lines: &'x [(&'a str, Option<f64>, Option<&'a str>)],
    /// Principal diagnosis code (flagged, else first).
    pub main_dx: Option<&'a str>,
    /// Every diagnosis code, the principal first.
    pub dx: &'x [&'a str],
    /// Every procedure code, in input order.
    pub procs: &'x [&'a str],
    /// Age in years (`age`, else from `brdy` at `begntime`).
    pub age: Option<i64>,
    /// Number of operation rows.
    pub operations: usize,
    /// Length of stay in days (`act_ipt_days`, else endtime − begntime in calendar days).
    pub los: Option<i64>,
    /// `dscg_way`.
    pub dscg_way: Option<&'a str>,
}

/// A scheme's cases and their groups, computed once per check for all rules using the scheme.
pub(crate) struct Grouped<'e, 'a> {
    pub scheme: &'e DrgScheme,
    pub set: CaseSet<'a>,
    pub outcomes: Vec<crate::drg::group::Outcome<'e>>,
}

/// Runs every active DRG rule. `active[i]` says whether rule `i` runs.
pub(crate) fn run(env: &Env, claims: &Claims, active: &[bool], sink: &mut Sink) -> Result<()> {
    let eng = env.eng;
    let drg_rules: Vec<(u32, &DrgRule, &CompiledRule, &Rule)> = eng
        .rules
        .iter()
        .enumerate()
        .filter(|(i, _)| active.get(*i).copied().unwrap_or(false))
        .filter_map(|(i, cr)| match &cr.kernel {
            Kernel::Drg(d) => Some((i as u32, d.as_ref(), cr, eng.pack.rules.get(i)?)),
            _ => None,
        })
        .collect();
    if drg_rules.is_empty() {
        return Ok(());
    }
    let map = &claims.column_map;
    let n: usize = claims.mdtrt.iter().map(|b| b.num_rows()).sum();

    // Fee lines per encounter (CSR), in input order.
    let mut per: Vec<(u32, &str, Option<f64>, Option<&str>)> = Vec::new();
    let mut no_row = 0u64;
    for (chunk, v) in env.fee.iter().enumerate() {
        let b = claims.fee_details.get(chunk);
        let kind = match b {
            Some(b) => Resolver::new(b, ClaimsTable::FeeDetails, map).str("med_chrgitm_type")?,
            None => None,
        };
        let mut last: Option<(&str, Option<u32>)> = None;
        for row in 0..v.rows {
            let Some(id) = v.mdtrt_id.get(row) else { continue };
            let e = match last {
                Some((l, e)) if l == id => e,
                _ => {
                    let e = env.encs.find(id).filter(|e| (*e as usize) < n);
                    last = Some((id, e));
                    e
                }
            };
            let Some(e) = e else {
                no_row += 1;
                continue;
            };
            let code = v.hilist_code.get(row).unwrap_or("");
            let amt = v.det_item_fee_sumamt.and_then(|c| c.get(row));
            per.push((e, code, amt, kind.as_ref().and_then(|k: &StrCol| k.get(row))));
        }
    }
    if no_row > 0 {
        for (ri, ..) in &drg_rules {
            sink.unjudged
                .entry((*ri, "fee lines of an encounter that is not in mdtrt"))
                .and_modify(|c| *c += no_row)
                .or_insert(no_row);
        }
    }
    let start = crate::drg::batch::group_starts(n, per.iter().map(|p| p.0));
    let mut fill = start.clone();
    let mut lines: Vec<(&str, Option<f64>, Option<&str>)> = vec![("", None, None); per.len()];
    for (e, code, amt, kind) in per {
        if let Some(slot) = fill.get_mut(e as usize) {
            if let Some(l) = lines.get_mut(*slot as usize) {
                *l = (code, amt, kind);
            }
            *slot += 1;
        }
    }

    // Diagnoses (the first flagged principal moved to the front) and procedures per stay.
    let mut dxs: Vec<SmallVec<[&str; 4]>> = vec![SmallVec::new(); n];
    let mut has_main = vec![false; n];
    for b in &claims.diagnoses {
        let r = Resolver::new(b, ClaimsTable::Diagnoses, map);
        let (key, code, flag) = (r.req_str("mdtrt_id")?, r.req_str("diag_code")?, r.str("maindiag_flag")?);
        for i in 0..b.num_rows() {
            let Some(e) = key.get(i).and_then(|id| env.encs.find(id)) else { continue };
            let flagged = flag.as_ref().and_then(|f| f.get(i)).is_some_and(|f| f.trim() == "1");
            if let (Some(list), Some(m), Some(c)) = (dxs.get_mut(e as usize), has_main.get_mut(e as usize), code.get(i))
            {
                if flagged && !*m {
                    *m = true;
                    list.insert(0, c);
                } else {
                    list.push(c);
                }
            }
        }
    }
    let mut pxs: Vec<SmallVec<[&str; 2]>> = vec![SmallVec::new(); n];
    for b in &claims.operations {
        let r = Resolver::new(b, ClaimsTable::Operations, map);
        let (key, code) = (r.req_str("mdtrt_id")?, r.req_str("oprn_oprt_code")?);
        for i in 0..b.num_rows() {
            let list = key.get(i).and_then(|id| env.encs.find(id)).and_then(|e| pxs.get_mut(e as usize));
            if let (Some(list), Some(c)) = (list, code.get(i)) {
                list.push(c);
            }
        }
    }
    let mut los_col: Vec<(Option<NumCol>, Option<StrCol>, usize)> = Vec::new();
    let mut base = 0;
    for b in &claims.mdtrt {
        let r = Resolver::new(b, ClaimsTable::Mdtrt, map);
        los_col.push((r.num("act_ipt_days")?, r.str("dscg_way")?, base));
        base += b.num_rows();
    }

    // Group once per scheme.
    let mut grouped: Vec<Grouped> = Vec::new();
    for (_, d, _, _) in &drg_rules {
        let Some(s) = d.scheme.as_deref() else { continue };
        if grouped.iter().any(|g| std::ptr::eq(g.scheme, s)) {
            continue;
        }
        let set = CaseSet::read(s, claims)?;
        let opts = GroupOptions::default();
        let outcomes = (0..set.len()).map(|c| s.walk(&set.case(c), &opts, &mut ())).collect();
        grouped.push(Grouped { scheme: s, set, outcomes });
    }

    let lines_of = |e: usize| {
        let (s0, s1) = (start.get(e).copied().unwrap_or(0) as usize, start.get(e + 1).copied().unwrap_or(0) as usize);
        lines.get(s0..s1).unwrap_or(&[])
    };
    let costs: Vec<Option<f64>> = (0..n).map(|e| lines_of(e).iter().try_fold(0.0, |a, l| l.1.map(|x| a + x))).collect();
    let history = super::drg_history::History::build(env.encs, n, &costs);
    for e in 0..n {
        let er = env.encs.get(e as u32).unwrap_or_default();
        let ls = lines_of(e);
        let cost = costs.get(e).copied().flatten();
        let vi = los_col.partition_point(|c| c.2 <= e).saturating_sub(1);
        let (los_num, dscg, vb) = los_col.get(vi).map_or((None, None, 0), |c| (c.0, c.1, c.2));
        let los = los_num
            .and_then(|c| c.get(e - vb))
            .filter(|x| x.is_finite())
            .map(|x| x.floor() as i64)
            .or_else(|| Some(crate::time::day_of(er.end?) - crate::time::day_of(er.begn?)));
        let dx = dxs.get(e).map_or(&[][..], |x| x.as_slice());
        let procs = pxs.get(e).map_or(&[][..], |x| x.as_slice());
        let age = er
            .age
            .filter(|a| a.is_finite())
            .map(|a| a.floor() as i64)
            .or_else(|| Some(crate::time::age_years(er.brdy?, er.begn?)));
        let stay = Stay {
            enc: e as u32,
            cost,
            lines: ls,
            main_dx: dx.first().copied(),
            dx,
            procs,
            age,
            operations: procs.len(),
            los,
            dscg_way: dscg.and_then(|c| c.get(e - vb)),
        };
        for (ri, d, cr, _) in &drg_rules {
            if er.scene != 0 && er.scene & cr.scene_mask == 0 {
                continue;
            }
            let t = er.end.or(er.begn);
            if (cr.from != i64::MIN || cr.to != i64::MAX) && t.is_some_and(|t| t < cr.from || t >= cr.to) {
                continue;
            }
            let g = d.scheme.as_deref().and_then(|s| grouped.iter().find(|g| std::ptr::eq(g.scheme, s)));
            let ctx = Judge { ri: *ri, d, stay: &stay, grouped: g, history: &history, dxs: &dxs };
            match &d.kind {
                DrgKind::CostRatio(k) => k.judge(&ctx, sink),
                DrgKind::Unsupported(k) => k.judge(&ctx, sink),
                DrgKind::LowStandard(k) => k.judge(&ctx, sink),
                DrgKind::DipCostRatio(k) => k.judge(&ctx, sink),
                DrgKind::Readmission(k) => k.judge(&ctx, sink),
                DrgKind::CostShifting(k) => k.judge(&ctx, sink),
            }
        }
    }
    Ok(())
}

/// One stay judged by one rule.
pub(crate) struct Judge<'x, 'e, 'a> {
    pub ri: u32,
    pub d: &'x DrgRule,
    pub stay: &'x Stay<'x, 'a>,
    pub grouped: Option<&'x Grouped<'e, 'a>>,
    /// Every encounter of the call, by person and facility.
    pub history: &'x super::drg_history::History<'a>,
    /// Every encounter's diagnoses, the principal first.
    pub dxs: &'x [SmallVec<[&'a str; 4]>],
}

impl<'e> Judge<'_, 'e, '_> {
    /// A finding about the stay.
    pub fn hit(&self, amount: Option<f64>, kp_row: u32, args: SmallVec<[(&'static str, String); 4]>) -> Hit {
        Hit { rule: self.ri, enc: self.stay.enc, line: None, related: None, amount, kp_row, args }
    }

    /// The stay's DRG under the rule's scheme, or why there is none (as an unjudged reason).
    pub fn drg(&self) -> std::result::Result<(crate::drg::Grouping<'e>, usize), &'static str> {
        self.drg_of(self.stay.enc).map(|g| (g, self.stay.enc as usize))
    }

    /// Encounter `e`'s DRG under the rule's scheme.
    pub fn drg_of(&self, e: u32) -> std::result::Result<crate::drg::Grouping<'e>, &'static str> {
        let g = self.grouped.ok_or("the rule names no DRG scheme")?;
        let o = g.outcomes.get(e as usize).copied().ok_or("no grouping")?;
        let gr = g.scheme.grouping(o);
        if gr.status != crate::drg::Status::Grouped {
            return Err("the case cannot be grouped (invalid input or no MDC)");
        }
        Ok(gr)
    }

    /// Encounter `e`'s diagnoses, the principal first.
    pub fn dx_of(&self, e: u32) -> &[&'_ str] {
        self.dxs.get(e as usize).map_or(&[][..], |x| x.as_slice())
    }
}

/// Formats a number for messages: two decimals, trailing zeros dropped.
pub(crate) fn num(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
