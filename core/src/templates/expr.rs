//! `expr`: a rule whose condition is an expression analysts write (see [`crate::expr`] and
//! core/src/expr/LANGUAGE.md for the language).
//!
//! Scope: a rule that reads `line.<column>` outside aggregates, or that has a knowledge table,
//! judges fee lines; any other rule judges encounters (every `mdtrt` encounter that has fee lines
//! in the check, so that splitting the lines across threads never judges an encounter twice).
//! With a knowledge table, the lines judged are those whose code the table selects (exact or
//! prefix, effective dates per row) through the engine's one code index, exactly as the built-in
//! templates select theirs; `kp.<column>` reads the selecting row.
//!
//! Verdicts are three-valued: true is a finding, false is not, and null (the expression could
//! not be decided because a value it needs is null) counts the line or encounter as unjudged.
//! Amount at risk: `params.amount` (an expression) when given, else the line's
//! `det_item_fee_sumamt` for line rules and null for encounter rules.
//!
//! Evaluation is columnar (see [`crate::expr`]): per batch, the condition runs over the
//! positions in scope as loops over the columns, and `mdtrt` columns and aggregates are computed
//! once per encounter before any rule is judged. This module never does IO.

use super::{rule_param, Compiled, Kernel, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::claims::FeeView;
use crate::claims::{Claims, ClaimsTable, ColumnKind, ColumnMap, StrCol};
use crate::engine::encounters::EncTable;
use crate::engine::run::{pack_line, Event, Hit, Sink};
use crate::engine::NO_ROW;
use crate::error::{Error, Result};
use crate::expr::check::{AggFn, AnyIr, ColRef, Program};
use crate::expr::eval::{ColV, EncData, Frame, Memo, N, T};
use crate::expr::parse::Coll;
use crate::pack::Rule;
use arrow_array::RecordBatch;
use smallvec::SmallVec;

/// 自定义表达式规则.
pub static EXPR: TemplateSpec = TemplateSpec {
    name: "expr",
    title: "自定义表达式规则 (analyst-written line or encounter condition)",
    doc: "Fires where the expression in params.expr is true: per fee line when it reads line.<column> or the rule has a knowledge table, else per encounter. Null verdicts are counted as unjudged.",
    knowledge: KnowledgeUse::Optional,
    params: &[
        rule_param(
            "expr",
            ParamKind::Str,
            true,
            "the condition, e.g. line.list_type == \"101\" and line.prd_days > 7 and mdtrt.med_type in [\"11\", \"13\"]",
        ),
        rule_param(
            "amount",
            ParamKind::Str,
            false,
            "the amount at risk as an expression; default: the line's det_item_fee_sumamt (line rules), null (encounter rules)",
        ),
    ],
    placeholders: &[],
    default_message: "{rule_name}",
    amount: "params.amount; default the line's det_item_fee_sumamt (line rules) or null (encounter rules)",
    needs: &[],
};

pub(crate) struct ExprRule {
    prog: Program,
    knowledge: bool,
}

impl ExprRule {
    /// Whether the engine's pass collects this rule's lines (knowledge-selected rules).
    pub(crate) fn selects_by_code(&self) -> bool {
        self.knowledge
    }
}

pub(crate) fn compile(p: &Params, code_sets: &crate::engine::codes::CodeSets) -> Result<Compiled> {
    let text = p
        .rule
        .params
        .get("expr")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| Error::rule(&p.rule.id, "params.expr", "missing required parameter"))?;
    let amount = p.rule.params.get("amount").and_then(serde_json::Value::as_str);
    let prog = crate::expr::compile(&p.rule.id, text, amount, p.kt, Some(code_sets))?;
    Ok(Compiled::new(Kernel::Expr(Box::new(ExprRule { prog, knowledge: p.kt.is_some() }))))
}

/// Positions evaluated together: large enough to amortise each operator, small enough for the
/// intermediate vectors to stay in cache.
const BLOCK: usize = 16 * 1024;

/// The positions `0..n` in blocks of [`BLOCK`].
fn blocks(n: usize) -> impl Iterator<Item = Vec<u32>> {
    (0..n).step_by(BLOCK).map(move |lo| (lo as u32..(lo + BLOCK).min(n) as u32).collect())
}

const NULL_VERDICT: &str = "the condition is null: a value it needs is null";

/// Encounter numbering for one check: the engine's encounter table (an `mdtrt` encounter is its
/// global row; an id met only in lines, diagnoses or operations is added after them).
struct EncIndex<'e, 'a> {
    encs: &'e mut EncTable<'a>,
    /// `mdtrt` rows.
    n: usize,
    /// One past the largest index handed out.
    seen: usize,
}

impl<'a> EncIndex<'_, 'a> {
    fn of(&mut self, id: &'a str) -> u32 {
        let i = self.encs.intern(id);
        self.seen = self.seen.max(i as usize + 1);
        i
    }

    fn total(&self) -> usize {
        self.n.max(self.seen)
    }

    /// The encounter of every row of a key column (`u32::MAX` for a null key).
    fn column(&mut self, col: &StrCol<'a>, rows: usize) -> Vec<u32> {
        let mut out = Vec::with_capacity(rows);
        let mut last: Option<(&'a str, u32)> = None;
        for r in 0..rows {
            let e = match col.get(r) {
                None => u32::MAX,
                Some(id) => match last {
                    Some((l, e)) if crate::engine::codes::same_str(l, id) => e,
                    _ => {
                        let e = self.of(id);
                        last = Some((id, e));
                        e
                    }
                },
            };
            out.push(e);
        }
        out
    }
}

/// Columns of `table` the program reads, resolved in one batch; a missing column is an error
/// naming the rule.
fn resolve<'a>(
    prog: &Program,
    table: ClaimsTable,
    batch: &'a RecordBatch,
    map: &'a ColumnMap,
    rule: &Rule,
) -> Result<Vec<ColV<'a>>> {
    let r = crate::claims::Resolver::new(batch, table, map);
    prog.cols
        .iter()
        .map(|c| {
            if c.table != table {
                return Ok(ColV::Other);
            }
            let v = match c.kind {
                ColumnKind::Str => r.str(c.name)?.map(ColV::S),
                ColumnKind::Num => r.num(c.name)?.map(ColV::N),
                ColumnKind::Time => r.time(c.name)?.map(ColV::T),
            };
            v.ok_or_else(|| missing(table, c, map, rule))
        })
        .collect()
}

fn missing(table: ClaimsTable, c: &ColRef, map: &ColumnMap, rule: &Rule) -> Error {
    let src = map.source(table, c.name);
    let mapped =
        if src != c.name { format!(" (canonical column {:?} is mapped to it)", c.name) } else { String::new() };
    Error::Column {
        table: table.name().into(),
        column: src.into(),
        message: format!("missing; rule {:?} (template expr) reads it{mapped}", rule.id),
    }
}

/// The `mdtrt` columns the program reads, one value per encounter.
fn encounter_columns<'a>(prog: &Program, claims: &'a Claims, rule: &Rule, n: usize) -> Result<EncData<'a>> {
    let mut d = EncData {
        strs: vec![Vec::new(); prog.cols.len()],
        nums: vec![Vec::new(); prog.cols.len()],
        ..EncData::default()
    };
    for (slot, c) in prog.cols.iter().enumerate() {
        if c.table != ClaimsTable::Mdtrt {
            continue;
        }
        let mut strs = Vec::new();
        let mut nums = Vec::new();
        for b in &claims.mdtrt {
            let cols = resolve(prog, ClaimsTable::Mdtrt, b, &claims.column_map, rule)?;
            let rows = b.num_rows();
            match cols.get(slot) {
                Some(ColV::S(s)) => strs.extend((0..rows).map(|r| s.get(r))),
                Some(ColV::N(x)) => nums.extend((0..rows).map(|r| x.get(r).unwrap_or(f64::NAN))),
                Some(ColV::T(t)) => nums.extend((0..rows).map(|r| t.get(r).map_or(f64::NAN, |t| t as f64))),
                _ => {}
            }
        }
        if c.kind == ColumnKind::Str {
            strs.resize(n, None);
            if let Some(v) = d.strs.get_mut(slot) {
                *v = strs;
            }
        } else {
            nums.resize(n, f64::NAN);
            if let Some(v) = d.nums.get_mut(slot) {
                *v = nums;
            }
        }
    }
    Ok(d)
}

/// Adds one frame's rows to every encounter's aggregate.
struct Acc {
    num: Vec<f64>,
    aux: Vec<f64>,
    tri: Vec<u8>,
}

impl Acc {
    fn new() -> Self {
        Acc { num: Vec::new(), aux: Vec::new(), tri: Vec::new() }
    }
    fn grow(&mut self, f: AggFn, n: usize) {
        if self.num.len() < n {
            let init = match f {
                AggFn::Count | AggFn::Sum | AggFn::Avg => 0.0,
                _ => f64::NAN,
            };
            self.num.resize(n, init);
            self.aux.resize(n, 0.0);
            self.tri.resize(n, if f == AggFn::All { T } else { 0 });
        }
    }
    fn add(&mut self, f: AggFn, e: usize, v: f64, t: u8) {
        let (Some(x), Some(a), Some(b)) = (self.num.get_mut(e), self.aux.get_mut(e), self.tri.get_mut(e)) else {
            return;
        };
        match f {
            AggFn::Count => *x += 1.0,
            AggFn::Sum if !v.is_nan() => *x += v,
            AggFn::Avg if !v.is_nan() => {
                *x += v;
                *a += 1.0;
            }
            AggFn::Min if !v.is_nan() => *x = if x.is_nan() { v } else { x.min(v) },
            AggFn::Max if !v.is_nan() => *x = if x.is_nan() { v } else { x.max(v) },
            AggFn::Any => {
                *b = match (*b, t) {
                    (_, T) | (T, _) => T,
                    (_, N) | (N, _) => N,
                    _ => 0,
                }
            }
            AggFn::All => {
                *b = match (*b, t) {
                    (_, 0) | (0, _) => 0,
                    (_, N) | (N, _) => N,
                    _ => T,
                }
            }
            _ => {}
        }
    }
}

/// One batch an aggregate reads, with the encounter of each row.
struct Source<'a, 's> {
    table: ClaimsTable,
    batch: &'a RecordBatch,
    encs: &'s [u32],
    map: &'a ColumnMap,
}

/// Shared inputs of one check's expression rules.
struct Ctx<'e, 'a> {
    fee: &'e [FeeView<'a>],
    claims: &'a Claims,
    ix: EncIndex<'e, 'a>,
    line_encs: Option<Vec<Vec<u32>>>,
}

impl Ctx<'_, '_> {
    fn line_encs(&mut self) {
        if self.line_encs.is_none() {
            let v = self.fee.iter().map(|f| self.ix.column(&f.mdtrt_id, f.rows)).collect();
            self.line_encs = Some(v);
        }
    }
}

/// Judges every active `expr` rule; `events` are the pass's lines for knowledge-selected rules.
/// Runs before the windowed rules are finished, while the encounter table can still take the
/// ids met only in lines or diagnoses.
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_all<'a>(
    eng: &crate::engine::Engine,
    fee: &[FeeView<'a>],
    encs: &mut EncTable<'a>,
    claims: &'a Claims,
    active: &[bool],
    events: &[Vec<Event>],
    line_encs: Option<Vec<Vec<u32>>>,
    sink: &mut Sink,
) -> Result<()> {
    let rules: Vec<(u32, &ExprRule)> = eng
        .rules
        .iter()
        .enumerate()
        .filter(|(i, _)| active.get(*i).copied().unwrap_or(false))
        .filter_map(|(i, cr)| match &cr.kernel {
            Kernel::Expr(k) => Some((i as u32, &**k)),
            _ => None,
        })
        .collect();
    if rules.is_empty() {
        return Ok(());
    }
    let n: usize = claims.mdtrt.iter().map(RecordBatch::num_rows).sum();
    // The line pass's encounters of every line, when it kept them (one per chunk): the same
    // numbering, since both intern through the engine's encounter table.
    let line_encs = line_encs.filter(|v| v.len() == fee.len() && v.iter().zip(fee).all(|(e, f)| e.len() == f.rows));
    let seen = line_encs
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .flatten()
        .filter(|&&e| e != u32::MAX)
        .max()
        .map_or(0, |&e| e as usize + 1);
    let mut ctx = Ctx { fee, claims, ix: EncIndex { encs, n, seen }, line_encs };
    for (ri, k) in rules {
        let (Some(rule), Some(cr)) = (eng.pack.rules.get(ri as usize), eng.rules.get(ri as usize)) else { continue };
        let evs = events.get(ri as usize).map_or(&[][..], Vec::as_slice);
        k.run(&mut ctx, ri, rule, cr, evs, sink)?;
    }
    Ok(())
}

impl ExprRule {
    fn run<'a>(
        &self,
        ctx: &mut Ctx<'_, 'a>,
        ri: u32,
        rule: &Rule,
        cr: &crate::engine::CompiledRule,
        evs: &[Event],
        sink: &mut Sink,
    ) -> Result<()> {
        let prog = &self.prog;
        let n = ctx.ix.n;
        let mut enc = encounter_columns(prog, ctx.claims, rule, n)?;
        let mut memo = Memo::default();
        // Aggregates, once per encounter.
        let map = &ctx.claims.column_map;
        let mut results = Vec::with_capacity(prog.aggs.len());
        if !prog.aggs.is_empty() {
            // Number every encounter that has lines first, so that each gets its aggregate (an
            // encounter without diagnoses has count 0 and any false, not null).
            ctx.line_encs();
        }
        for agg in &prog.aggs {
            let mut acc = Acc::new();
            match agg.coll {
                Coll::Lines => {
                    ctx.line_encs();
                    for (c, b) in ctx.claims.fee_details.iter().enumerate() {
                        let encs = ctx.line_encs.as_ref().and_then(|v| v.get(c)).map_or(&[][..], Vec::as_slice);
                        let src = Source { table: ClaimsTable::FeeDetails, batch: b, encs, map };
                        self.accumulate(agg, &src, &enc, rule, &mut acc, &mut memo)?;
                    }
                }
                Coll::Diagnoses | Coll::Operations => {
                    let table =
                        if agg.coll == Coll::Diagnoses { ClaimsTable::Diagnoses } else { ClaimsTable::Operations };
                    for b in ctx.claims.table(table) {
                        // The engine validated the table; only the key is read here.
                        let ids = crate::claims::Resolver::new(b, table, map).req_str("mdtrt_id")?;
                        let encs = ctx.ix.column(&ids, b.num_rows());
                        let src = Source { table, batch: b, encs: &encs, map };
                        self.accumulate(agg, &src, &enc, rule, &mut acc, &mut memo)?;
                    }
                }
            }
            acc.grow(agg.func, ctx.ix.total());
            // No diagnoses (operations) table at all: unknown, not "none" (as diag_required).
            let table = match agg.coll {
                Coll::Lines => ClaimsTable::FeeDetails,
                Coll::Diagnoses => ClaimsTable::Diagnoses,
                Coll::Operations => ClaimsTable::Operations,
            };
            if table != ClaimsTable::FeeDetails && ctx.claims.table(table).is_empty() {
                acc.num.iter_mut().for_each(|x| *x = f64::NAN);
                acc.tri.iter_mut().for_each(|x| *x = N);
            }
            if agg.func == AggFn::Avg {
                acc.num.iter_mut().zip(acc.aux.iter()).for_each(|(s, c)| *s = if *c > 0.0 { *s / c } else { f64::NAN });
            }
            results.push(acc);
        }
        for acc in results {
            enc.agg_num.push(acc.num);
            enc.agg_tri.push(acc.tri);
        }
        if !prog.line_scope {
            return self.judge_encounters(ctx, ri, cr, &enc, &mut memo, sink);
        }
        // Knowledge-selected lines come with their encounter from the pass (the same numbering);
        // other line rules look it up when they read the encounter or its aggregates.
        let needs_encs = !self.knowledge
            && (!prog.aggs.is_empty()
                || cr.scene_mask != 0b1111
                || prog.cols.iter().any(|c| c.table == ClaimsTable::Mdtrt));
        if needs_encs {
            ctx.line_encs();
        }
        let fee = ctx.fee;
        let mut by_line: Vec<&Event> = evs.iter().collect();
        by_line.sort_unstable_by_key(|e| (e.line, e.row));
        for (c, b) in ctx.claims.fee_details.iter().enumerate() {
            let Some(v) = fee.get(c) else { continue };
            let cols = resolve(prog, ClaimsTable::FeeDetails, b, &ctx.claims.column_map, rule)?;
            let my_encs = ctx.line_encs.as_ref().and_then(|l| l.get(c)).map_or(&[][..], Vec::as_slice);
            let (rows, encs, kps, hit_encs) = if self.knowledge {
                let lo = (c as u64) << 32;
                let a = by_line.partition_point(|e| e.line < lo);
                let z = by_line.partition_point(|e| e.line >> 32 <= c as u64);
                let sel = by_line.get(a..z).unwrap_or(&[]);
                if sel.is_empty() {
                    continue;
                }
                let rows: Vec<u32> = sel.iter().map(|e| (e.line - lo) as u32).collect();
                let kps: Vec<u32> = sel.iter().map(|e| e.row).collect();
                let hit_encs: Vec<u32> = sel.iter().map(|e| e.enc).collect();
                (rows, hit_encs.clone(), kps, hit_encs)
            } else {
                let rows = self.lines_in_scope(v, cr, my_encs, ctx.ix.encs, ri, sink);
                let encs: Vec<u32> = if needs_encs {
                    rows.iter().map(|r| my_encs.get(*r as usize).copied().unwrap_or(u32::MAX)).collect()
                } else {
                    Vec::new()
                };
                let hit_encs = encs.clone();
                (rows, encs, Vec::new(), hit_encs)
            };
            let frame = Frame { prog, cols: &cols, rows: &rows, encs: &encs, kps: &kps, enc: &enc };
            let mut hits: Vec<u32> = Vec::new();
            for block in blocks(rows.len()) {
                let verdict = frame.tri(&prog.pred, &block, &mut memo);
                for (p, t) in block.iter().zip(verdict.iter()) {
                    match *t {
                        T => hits.push(*p),
                        N => sink.unjudged(ri, NULL_VERDICT),
                        _ => {}
                    }
                }
            }
            let amounts = prog.amount.as_ref().map(|a| frame.num(a, &hits));
            for (j, &p) in hits.iter().enumerate() {
                let row = rows.get(p as usize).copied().unwrap_or(0) as usize;
                let amount = match &amounts {
                    Some(a) => a.get(j).copied().filter(|x| !x.is_nan()),
                    None => v.det_item_fee_sumamt.and_then(|col| col.get(row)),
                };
                sink.hits.push(Hit {
                    rule: ri,
                    enc: hit_encs.get(p as usize).copied().unwrap_or(u32::MAX),
                    line: Some(pack_line(c, row)),
                    related: None,
                    amount,
                    kp_row: kps.get(p as usize).copied().unwrap_or(NO_ROW),
                    args: SmallVec::new(),
                });
            }
        }
        Ok(())
    }

    /// Rows of a batch the rule applies to by its effective dates and scenes (as the data-quality
    /// templates decide it); a dated rule counts lines without a time as unjudged.
    fn lines_in_scope(
        &self,
        v: &crate::claims::FeeView,
        cr: &crate::engine::CompiledRule,
        encs: &[u32],
        table: &EncTable,
        ri: u32,
        sink: &mut Sink,
    ) -> Vec<u32> {
        let dated = cr.from != i64::MIN || cr.to != i64::MAX;
        if !dated && cr.scene_mask == 0b1111 {
            return (0..v.rows as u32).collect();
        }
        let mut out = Vec::with_capacity(v.rows);
        for row in 0..v.rows {
            let time = v.fee_ocur_time.and_then(|c| c.get(row));
            if dated && time.is_some_and(|t| !(cr.from <= t && t < cr.to)) {
                continue;
            }
            if cr.scene_mask != 0b1111 {
                let scene = encs.get(row).map_or(0, |&e| table.scene(e));
                if scene != 0 && scene & cr.scene_mask == 0 {
                    continue;
                }
            }
            if dated && time.is_none() {
                sink.unjudged(ri, "fee_ocur_time is null and the rule has effective dates");
                continue;
            }
            out.push(row as u32);
        }
        out
    }

    fn accumulate<'a>(
        &self,
        agg: &crate::expr::check::AggDef,
        src: &Source<'a, '_>,
        enc: &EncData<'a>,
        rule: &Rule,
        acc: &mut Acc,
        memo: &mut Memo,
    ) -> Result<()> {
        let prog = &self.prog;
        let encs = src.encs;
        let cols = resolve(prog, src.table, src.batch, src.map, rule)?;
        let rows: Vec<u32> = (0..src.batch.num_rows() as u32).collect();
        let frame = Frame { prog, cols: &cols, rows: &rows, encs, kps: &[], enc };
        for block in blocks(rows.len()) {
            self.accumulate_block(agg, &frame, block, acc, memo);
        }
        Ok(())
    }

    fn accumulate_block(
        &self,
        agg: &crate::expr::check::AggDef,
        frame: &Frame,
        block: Vec<u32>,
        acc: &mut Acc,
        memo: &mut Memo,
    ) {
        let encs = frame.encs;
        let sel: Vec<u32> = match &agg.filter {
            None => block,
            Some(f) => {
                let t = frame.tri(f, &block, memo);
                block.iter().zip(t.iter()).filter(|(_, t)| **t == T).map(|(p, _)| *p).collect()
            }
        };
        let (nums, tris) = match &agg.value {
            Some(AnyIr::N(x)) => (frame.num(x, &sel), Vec::new()),
            Some(AnyIr::B(b)) => (Vec::new(), frame.tri(b, &sel, memo)),
            _ => (Vec::new(), Vec::new()),
        };
        let max_enc = sel.iter().filter_map(|p| encs.get(*p as usize)).filter(|e| **e != u32::MAX).max();
        if let Some(m) = max_enc {
            acc.grow(agg.func, *m as usize + 1);
        }
        for (j, p) in sel.iter().enumerate() {
            let Some(&e) = encs.get(*p as usize) else { continue };
            if e == u32::MAX {
                continue;
            }
            let v = nums.get(j).copied().unwrap_or(f64::NAN);
            let t = tris.get(j).copied().unwrap_or(T);
            acc.add(agg.func, e as usize, v, t);
        }
    }

    fn judge_encounters(
        &self,
        ctx: &mut Ctx,
        ri: u32,
        cr: &crate::engine::CompiledRule,
        enc: &EncData,
        memo: &mut Memo,
        sink: &mut Sink,
    ) -> Result<()> {
        let total = {
            ctx.line_encs();
            ctx.ix.total()
        };
        let mut has_lines = vec![false; total];
        for le in ctx.line_encs.as_deref().unwrap_or(&[]) {
            for &e in le {
                if let Some(h) = has_lines.get_mut(e as usize) {
                    *h = true;
                }
            }
        }
        let dated = cr.from != i64::MIN || cr.to != i64::MAX;
        let mut encs: Vec<u32> = Vec::new();
        // Encounters of a dated rule without a begntime: judged, and a true verdict (which cannot
        // be placed in the rule's dates) is counted as unjudged rather than dropped.
        let mut undated: Vec<bool> = Vec::new();
        for (e, _) in has_lines.iter().enumerate().filter(|(_, h)| **h) {
            let e = e as u32;
            if cr.scene_mask != 0b1111 {
                let scene = ctx.ix.encs.scene(e);
                if scene != 0 && scene & cr.scene_mask == 0 {
                    continue;
                }
            }
            if dated {
                match ctx.ix.encs.stay(e).and_then(|s| s.begn) {
                    Some(t) if !(cr.from <= t && t < cr.to) => continue,
                    Some(_) => undated.push(false),
                    None => undated.push(true),
                }
            }
            encs.push(e);
        }
        let cols = vec![ColV::Other; self.prog.cols.len()];
        let frame = Frame { prog: &self.prog, cols: &cols, rows: &encs, encs: &encs, kps: &[], enc };
        let all: Vec<u32> = (0..encs.len() as u32).collect();
        let verdict = frame.tri(&self.prog.pred, &all, memo);
        let mut hits: Vec<u32> = Vec::new();
        for (p, t) in verdict.iter().enumerate() {
            match *t {
                N => sink.unjudged(ri, NULL_VERDICT),
                T if undated.get(p).copied().unwrap_or(false) => {
                    sink.unjudged(ri, "begntime is null and the rule has effective dates")
                }
                T => hits.push(p as u32),
                _ => {}
            }
        }
        let amounts = self.prog.amount.as_ref().map(|a| frame.num(a, &hits));
        for (j, &p) in hits.iter().enumerate() {
            sink.hits.push(Hit {
                rule: ri,
                enc: encs.get(p as usize).copied().unwrap_or(u32::MAX),
                line: None,
                related: None,
                amount: amounts.as_ref().and_then(|a| a.get(j).copied()).filter(|x| !x.is_nan()),
                kp_row: NO_ROW,
                args: SmallVec::new(),
            });
        }
        Ok(())
    }
}
