//! One check call: the fused pass over the lines, the windowed rules, and the findings.

use super::codes::{same_str, EntryList, FxHashMap, RecentCodes};
use super::encounters::{EncNames, EncRow, EncTable};
use super::{CheckOptions, Engine, Entry};
use crate::claims::column::FlatStr;
use crate::claims::{ClaimsTable, CodeView, ColumnMap, FeeView, StrCol};
use crate::error::{Error, Result};
use crate::findings::{render_row, At, Output, Scratch, Unjudged};
use crate::pack::Rule;
use arrow_array::Array;
use smallvec::SmallVec;
use std::collections::BTreeMap;

/// A finding before rendering: references into the claims.
pub(crate) struct Hit {
    pub rule: u32,
    pub enc: u32,
    /// Packed line reference (chunk << 32 | row), if the finding is about a line.
    pub line: Option<u64>,
    pub related: Option<u64>,
    pub amount: Option<f64>,
    pub kp_row: u32,
    pub args: SmallVec<[(&'static str, String); 4]>,
}

/// Collects hits and the count of what could not be judged.
#[derive(Default)]
pub(crate) struct Sink {
    pub hits: Vec<Hit>,
    pub unjudged: BTreeMap<(u32, &'static str), u64>,
}

impl Sink {
    pub fn unjudged(&mut self, rule: u32, reason: &'static str) {
        *self.unjudged.entry((rule, reason)).or_default() += 1;
    }
}

/// A line seen by a windowed rule, kept small: everything else is read back from the claims.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Event {
    pub enc: u32,
    /// Grouping key chosen by the template (knowledge row, surgical group, prescription).
    pub key: u64,
    /// Wall-clock time, `i64::MIN` when null (see `has_time`).
    pub time: i64,
    pub has_time: bool,
    /// Packed line reference, also the input position (ties are broken by it).
    pub line: u64,
    pub row: u32,
    pub role: u8,
}

pub(crate) fn pack_line(chunk: usize, row: usize) -> u64 {
    ((chunk as u64) << 32) | (row as u64 & 0xffff_ffff)
}

/// A fee line, readable by templates.
pub(crate) struct LineAt<'a, 'v> {
    pub v: &'v FeeView<'a>,
    pub row: usize,
    pub packed: u64,
    pub map: &'v ColumnMap,
}

impl<'a> LineAt<'a, '_> {
    pub fn global_row(&self) -> usize {
        self.v.base + self.row
    }
    pub fn time(&self) -> Option<i64> {
        self.v.fee_ocur_time.and_then(|c| c.get(self.row))
    }
    pub fn code(&self) -> Option<&'a str> {
        self.v.hilist_code.get(self.row)
    }
    pub fn amount(&self) -> Option<f64> {
        self.v.det_item_fee_sumamt.and_then(|c| c.get(self.row))
    }
    pub fn cnt(&self) -> Option<f64> {
        self.v.cnt.and_then(|c| c.get(self.row))
    }
    pub fn pric(&self) -> Option<f64> {
        self.v.pric.and_then(|c| c.get(self.row))
    }
    pub fn dept(&self) -> Option<&'a str> {
        self.v.bilg_dept_codg.and_then(|c| c.get(self.row))
    }
    pub fn rxno(&self) -> Option<&'a str> {
        self.v.rxno.and_then(|c| c.get(self.row))
    }
    /// A number the rule cannot decide without: null is an error naming row, column and rule.
    pub fn need(&self, column: &'static str, value: Option<f64>, rule: &Rule) -> Result<f64> {
        value.ok_or_else(|| Error::Value {
            table: "fee_details".into(),
            column: self.map.source(ClaimsTable::FeeDetails, column).into(),
            row: self.global_row(),
            rule_id: Some(rule.id.clone()),
            message: "null, and the rule needs it to decide".into(),
        })
    }
}

/// What templates may read while judging.
pub(crate) struct Env<'a, 'c> {
    pub eng: &'c Engine,
    pub fee: &'c [FeeView<'a>],
    pub encs: &'c EncTable<'a>,
    pub map: &'c ColumnMap,
}

impl<'a, 'c> Env<'a, 'c> {
    pub fn line(&self, packed: u64) -> Option<LineAt<'a, 'c>> {
        let chunk = (packed >> 32) as usize;
        let row = (packed & 0xffff_ffff) as usize;
        self.fee.get(chunk).map(|v| LineAt { v, row, packed, map: self.map })
    }
    pub fn rule(&self, i: u32) -> Option<&'c Rule> {
        self.eng.pack.rules.get(i as usize)
    }
    /// The line of an event; events only hold valid references.
    pub fn ev_line(&self, e: &Event) -> Result<LineAt<'a, 'c>> {
        self.line(e.line).ok_or_else(|| Error::Argument {
            argument: "event".into(),
            message: "internal: line reference out of range".into(),
        })
    }
}

/// The encounter of a line, with the error a rule raises when it needs the `mdtrt` row.
pub(crate) fn need_row<'r, 'a>(enc: &'r EncRow<'a>, line: &LineAt, rule: &Rule) -> Result<&'r EncRow<'a>> {
    if enc.has_row {
        Ok(enc)
    } else {
        Err(Error::Value {
            table: "fee_details".into(),
            column: line.map.source(ClaimsTable::FeeDetails, "mdtrt_id").into(),
            row: line.global_row(),
            rule_id: Some(rule.id.clone()),
            message: format!("encounter {:?} is not in the mdtrt table, and the rule needs its attributes", enc.id),
        })
    }
}

struct State<'a> {
    encs: EncTable<'a>,
    code_lists: FxHashMap<&'a str, u32>,
    lists: Vec<EntryList>,
    scratch: EntryList,
    /// Each encounter's prescription numbers: a prescription key only has to be unique within its
    /// encounter, so it is the position in this short list, found without hashing.
    rx_by_enc: Vec<SmallVec<[&'a str; 2]>>,
    events: Vec<Vec<Event>>,
    sink: Sink,
    /// Each chunk's line encounters, kept for the expression rules when there are any (they
    /// would otherwise compare every line's `mdtrt_id` again).
    line_encs: Option<Vec<Vec<u32>>>,
    /// Windowed rules judged during the pass, encounter by encounter, when the lines allow it.
    stream: Option<Stream>,
}

/// Judging windowed rules while the pass runs. When every encounter's lines form one run and the
/// runs come in increasing encounter order (checked before the pass), an encounter's events are
/// complete as soon as the pass reaches a line of a later encounter: they are sorted and judged
/// then, and the event vectors stay a few entries long instead of holding every drug line of the
/// call. Every template judges an encounter's events on their own, so the findings are the same.
/// An error a rule raises is kept and returned where the one-shot order returns it: after the
/// pass and the expression rules, in rule order.
struct Stream {
    /// The active windowed rules (expression rules are judged after the pass, not here).
    rules: Vec<u32>,
    /// The encounter whose events are pending.
    current: u32,
    /// The first error of each rule, by rule index; a rule that failed is not judged again.
    failed: Vec<Option<Error>>,
}

/// Whether the line encounters form one run per encounter, in increasing order, with no null.
fn one_run_per_encounter(line_encs: &[Vec<u32>]) -> bool {
    let mut prev: Option<u32> = None;
    for &e in line_encs.iter().flatten() {
        match prev {
            _ if e == u32::MAX => return false,
            Some(p) if p == e => {}
            Some(p) if p > e => return false,
            _ => {}
        }
        prev = Some(e);
    }
    true
}

/// Judges the pending events of the streamed rules (see [`Stream`]).
fn flush_stream<'a>(eng: &Engine, fee: &[FeeView<'a>], map: &ColumnMap, st: &mut State<'a>) {
    let Some(stream) = st.stream.as_mut() else { return };
    let env = Env { eng, fee, encs: &st.encs, map };
    for &ri in &stream.rules {
        let Some(evs) = st.events.get_mut(ri as usize) else { continue };
        if evs.is_empty() {
            continue;
        }
        if let (Some(slot @ None), Some(cr)) = (stream.failed.get_mut(ri as usize), eng.rules.get(ri as usize)) {
            sort_events(evs);
            if let Err(e) = crate::templates::finish(&cr.kernel, ri, evs, &env, &mut st.sink) {
                *slot = Some(e);
            }
        }
        evs.clear();
    }
}

pub(crate) fn check<O: Output>(eng: &Engine, claims: &Claims, opts: &CheckOptions) -> Result<O> {
    check_from(eng, claims, opts, 0)
}

/// [`check`] of claims whose first fee line is line `first_line` of the caller's input (a part
/// cut by [`super::partition`]), so that errors name the caller's rows.
pub(crate) fn check_from<O: Output>(
    eng: &Engine,
    claims: &Claims,
    opts: &CheckOptions,
    first_line: usize,
) -> Result<O> {
    let mut active = active_rules(eng, opts)?;
    // History rules are judged across encounters by crate::history, not here.
    active
        .iter_mut()
        .zip(&eng.rules)
        .for_each(|(a, r)| *a &= !matches!(r.kernel, crate::templates::Kernel::History(_)));
    let map = &claims.column_map;
    let mut encs = EncTable::build(&claims.mdtrt, map, &eng.scenes)?;
    let wants_diagnoses = eng.rules.iter().enumerate().any(|(i, r)| {
        active.get(i).copied().unwrap_or(false) && matches!(r.kernel, crate::templates::Kernel::Diagnosis(_))
    });
    encs.index_diagnoses(&claims.diagnoses, map, if wants_diagnoses { Some(&eng.code_sets) } else { None })?;
    for b in &claims.operations {
        CodeView::new(b, ClaimsTable::Operations, map)?;
    }
    let mut fee = Vec::with_capacity(claims.fee_details.len());
    let mut base = first_line;
    for b in &claims.fee_details {
        let v = FeeView::new(b, map, base)?;
        base += v.rows;
        fee.push(v);
    }
    check_needs(eng, &active, claims)?;
    let mut st = State {
        encs,
        // Sized for a pre-alert call's distinct codes, so that it never grows the map.
        code_lists: FxHashMap::with_capacity_and_hasher(
            fee.iter().map(|v| v.rows).sum::<usize>().min(64),
            Default::default(),
        ),
        lists: vec![EntryList::new()],
        scratch: EntryList::new(),
        rx_by_enc: Vec::new(),
        events: vec![Vec::new(); eng.rules.len()],
        sink: Sink::default(),
        line_encs: eng
            .rules
            .iter()
            .zip(&active)
            .any(|(r, a)| *a && matches!(r.kernel, crate::templates::Kernel::Expr(_)))
            .then(Vec::new),
        stream: None,
    };
    // Windowed rules: the line encounters of every chunk first, to know whether they can be
    // judged encounter by encounter during the pass.
    let windowed: Vec<u32> = eng
        .rules
        .iter()
        .enumerate()
        .filter(|(i, r)| {
            active.get(*i).copied().unwrap_or(false)
                && r.kernel.is_windowed()
                && !matches!(r.kernel, crate::templates::Kernel::Expr(_))
        })
        .map(|(i, _)| i as u32)
        .collect();
    let mut pre: Vec<Option<Vec<u32>>> = Vec::new();
    if !windowed.is_empty() {
        let encs: Vec<Vec<u32>> = fee.iter().map(|v| line_encounters(v, &mut st.encs)).collect();
        if one_run_per_encounter(&encs) {
            st.stream = Some(Stream { rules: windowed, current: u32::MAX, failed: vec![None; eng.rules.len()] });
        }
        pre = encs.into_iter().map(Some).collect();
    }
    let all_line: Vec<u32> = eng
        .rules
        .iter()
        .enumerate()
        .filter(|(i, r)| active.get(*i).copied().unwrap_or(false) && r.kernel.all_lines())
        .map(|(i, _)| i as u32)
        .collect();
    for (c, v) in fee.iter().enumerate() {
        let line_enc = pre.get_mut(c).and_then(Option::take);
        pass(eng, &active, &all_line, &fee, c, line_enc, map, &mut st)?;
        if let Some(p) = &opts.progress {
            if !(p.0)(v.rows) {
                return Err(crate::error::Error::Cancelled);
            }
        }
    }
    let State { mut encs, mut events, mut sink, line_encs, stream, .. } = st;
    crate::templates::expr::check_all(eng, &fee, &mut encs, claims, &active, &events, line_encs, &mut sink)?;
    let mut failed = stream.map(|s| s.failed).unwrap_or_default();
    let env = Env { eng, fee: &fee, encs: &encs, map };
    for (ri, evs) in events.iter_mut().enumerate() {
        if let Some(e) = failed.get_mut(ri).and_then(Option::take) {
            return Err(e);
        }
        if evs.is_empty() {
            continue;
        }
        sort_events(evs);
        if let Some(cr) = eng.rules.get(ri) {
            crate::templates::finish(&cr.kernel, ri as u32, evs, &env, &mut sink)?;
        }
    }
    crate::templates::drg_case::run(&env, claims, &active, &mut sink)?;
    output(&env, sink)
}

use crate::claims::Claims;

pub(crate) fn active_rules(eng: &Engine, opts: &CheckOptions) -> Result<Vec<bool>> {
    let mut active: Vec<bool> =
        eng.pack.rules.iter().map(|r| opts.stage.is_none_or(|s| r.stages.contains(&s))).collect();
    if let Some(ids) = &opts.rule_ids {
        let mut chosen = vec![false; active.len()];
        for id in ids {
            let i = eng.pack.rules.iter().position(|r| &r.id == id).ok_or_else(|| Error::Argument {
                argument: "rule_ids".into(),
                message: format!("unknown rule id {id:?}"),
            })?;
            if let Some(c) = chosen.get_mut(i) {
                *c = true;
            }
        }
        active.iter_mut().zip(chosen).for_each(|(a, c)| *a &= c);
    }
    Ok(active)
}

pub(crate) fn check_needs(eng: &Engine, active: &[bool], claims: &Claims) -> Result<()> {
    // Many rules share a need (every line rule needs `hilist_code`): each is looked up once.
    let mut seen: SmallVec<[(ClaimsTable, &str); 16]> = SmallVec::new();
    for (i, rule) in eng.pack.rules.iter().enumerate() {
        if !active.get(i).copied().unwrap_or(false) {
            continue;
        }
        for (table, col) in rule.template.needs {
            if seen.contains(&(*table, *col)) {
                continue;
            }
            seen.push((*table, *col));
            let src = claims.column_map.source(*table, col);
            for b in claims.table(*table) {
                if !b.schema_ref().fields().iter().any(|f| f.name() == src) {
                    return Err(Error::Column {
                        table: table.name().into(),
                        column: src.into(),
                        message: format!("missing; rule {:?} (template {}) needs it", rule.id, rule.template.name),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Entry list id of `code`: looked up once per distinct code per call.
#[inline]
fn list_id<'a>(eng: &Engine, active: &[bool], st: &mut State<'a>, code: &'a str) -> u32 {
    if let Some(&id) = st.code_lists.get(code) {
        return id;
    }
    eng.index.lookup(code, &mut st.scratch);
    st.scratch.retain(|e| {
        eng.entries.get(*e as usize).is_some_and(|en| active.get(en.rule as usize).copied().unwrap_or(false))
    });
    let id = if st.scratch.is_empty() {
        0
    } else {
        st.lists.push(st.scratch.clone());
        (st.lists.len() - 1) as u32
    };
    st.code_lists.insert(code, id);
    id
}

/// Rows of a chunk whose code has active entries, with the entry list id.
fn hits_of<'a>(
    eng: &Engine,
    active: &[bool],
    st: &mut State<'a>,
    v: &FeeView<'a>,
    map: &ColumnMap,
) -> Result<Vec<(u32, u32)>> {
    let col = &v.hilist_code;
    let malformed = |r: usize| Error::Value {
        table: "fee_details".into(),
        column: map.source(ClaimsTable::FeeDetails, "hilist_code").into(),
        row: v.base + r,
        rule_id: None,
        message: "malformed Arrow string array (offsets out of range or invalid UTF-8)".into(),
    };
    let mut hits = Vec::new();
    // Consecutive equal codes (a prescription of one drug, a stay's daily items) skip the lookup.
    let mut last: Option<(&'a str, u32)> = None;
    let mut visit = |st: &mut State<'a>, r: usize, code: &'a str, hits: &mut Vec<(u32, u32)>| {
        let id = match last {
            Some((c, id)) if same_str(c, code) => id,
            _ => {
                let id = list_id(eng, active, st, code);
                last = Some((code, id));
                id
            }
        };
        if id != 0 {
            hits.push((r as u32, id));
        }
    };
    match col {
        StrCol::Flat(FlatStr::Utf8(a)) if a.null_count() == 0 => {
            // The common case, one tight loop over the offsets: no per-row dispatch or null test.
            // On large batches the cache of recent codes answers most rows without hashing the
            // whole code or probing the map.
            let offsets = a.value_offsets();
            let values = a.value_data();
            let mut cache = RecentCodes::new(a.len() >= 1024);
            for (r, w) in offsets.windows(2).enumerate() {
                let (Ok(lo), Ok(hi)) = (usize::try_from(w[0]), usize::try_from(w[1])) else { return Err(malformed(r)) };
                let Some(bytes) = values.get(lo..hi) else { return Err(malformed(r)) };
                let id = match cache.get(bytes) {
                    Some(id) => id,
                    None => {
                        // A valid Utf8 array holds valid UTF-8 between any two offsets; the check is
                        // cheap on short codes and only guards against a malformed array from outside.
                        let Ok(code) = std::str::from_utf8(bytes) else { return Err(malformed(r)) };
                        let id = list_id(eng, active, st, code);
                        cache.put(bytes, id);
                        id
                    }
                };
                if id != 0 {
                    hits.push((r as u32, id));
                }
            }
        }
        StrCol::Flat(f) => {
            for r in 0..f.len() {
                if let Some(code) = f.get(r) {
                    visit(st, r, code, &mut hits);
                }
            }
        }
        StrCol::Dict { keys, values, .. } => {
            let ids: Vec<u32> =
                (0..values.len()).map(|k| values.get(k).map_or(0, |c| list_id(eng, active, st, c))).collect();
            keys.for_each(|r, k| {
                if let Some(&id) = k.and_then(|k| ids.get(k)) {
                    if id != 0 {
                        hits.push((r as u32, id));
                    }
                }
            });
        }
    }
    Ok(hits)
}

/// The encounter of every line of a chunk (`u32::MAX` for a null `mdtrt_id`): one string compare
/// per line (lines usually come grouped by encounter) and one hash per change of encounter.
fn line_encounters<'a>(v: &FeeView<'a>, encs: &mut EncTable<'a>) -> Vec<u32> {
    let mut out = Vec::with_capacity(v.rows);
    let mut last: Option<(&'a str, u32)> = None;
    for row in 0..v.rows {
        let e = match v.mdtrt_id.get(row) {
            None => u32::MAX,
            Some(id) => match last {
                Some((l, e)) if same_str(l, id) => e,
                _ => {
                    let e = encs.intern(id);
                    last = Some((id, e));
                    e
                }
            },
        };
        out.push(e);
    }
    out
}

/// The error for a line whose `mdtrt_id` is null where `rule` needs its encounter.
pub(crate) fn null_encounter(v: &FeeView, row: usize, map: &ColumnMap, rule: &Rule) -> Error {
    Error::Value {
        table: "fee_details".into(),
        column: map.source(ClaimsTable::FeeDetails, "mdtrt_id").into(),
        row: v.base + row,
        rule_id: Some(rule.id.clone()),
        message: "null encounter id".into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn pass<'a>(
    eng: &Engine,
    active: &[bool],
    all_line: &[u32],
    fee: &[FeeView<'a>],
    chunk: usize,
    line_enc: Option<Vec<u32>>,
    map: &ColumnMap,
    st: &mut State<'a>,
) -> Result<()> {
    let Some(v) = fee.get(chunk) else { return Ok(()) };
    let hits = hits_of(eng, active, st, v, map)?;
    // Data-quality rules judge every line, column by column.
    let needs_all = all_line
        .iter()
        .any(|&ri| eng.rules.get(ri as usize).is_some_and(|cr| cr.kernel.needs_encounter() || cr.scene_mask != 0b1111));
    let line_enc = match line_enc {
        Some(le) => Some(le),
        None if needs_all || st.line_encs.is_some() => Some(line_encounters(v, &mut st.encs)),
        None => None,
    };
    for &ri in all_line {
        let (Some(cr), Some(rule)) = (eng.rules.get(ri as usize), eng.pack.rules.get(ri as usize)) else { continue };
        let ctx = crate::templates::data_quality::ScanCtx {
            rule,
            ri,
            cr,
            v,
            chunk,
            map,
            line_enc: line_enc.as_deref(),
            encs: &st.encs,
        };
        crate::templates::data_quality::scan(&cr.kernel, &ctx, &mut st.sink)?;
    }
    // Code-selected rules: only lines whose code has entries.
    let mut last_enc: Option<(&'a str, u32)> = None;
    // Lines come grouped by encounter: read an encounter's attributes once per run of its lines.
    let mut last_er: Option<(u32, EncRow<'a>)> = None;
    let mut last_scene: Option<(u32, u8)> = None;
    for (row, lid) in hits {
        let row = row as usize;
        // A line of a later encounter: the pending encounter's windowed events are complete.
        if let (Some(stream), Some(&e)) = (st.stream.as_mut(), line_enc.as_ref().and_then(|le| le.get(row))) {
            if e != stream.current {
                stream.current = e;
                flush_stream(eng, fee, map, st);
            }
        }
        let line = LineAt { v, row, packed: pack_line(chunk, row), map };
        // Read only when an entry is dated or the rule is windowed.
        let mut time_cell: Option<Option<i64>> = None;
        let mut time = || *time_cell.get_or_insert_with(|| line.time());
        let n = st.lists.get(lid as usize).map_or(0, |l| l.len());
        let mut enc = u32::MAX;
        for k in 0..n {
            let Some(e) = st.lists.get(lid as usize).and_then(|l| l.get(k)).copied() else { continue };
            let Some(entry): Option<&Entry> = eng.entries.get(e as usize) else { continue };
            let ri = entry.rule;
            let (Some(cr), Some(rule)) = (eng.rules.get(ri as usize), eng.pack.rules.get(ri as usize)) else {
                continue;
            };
            // Not in force at a known time: the rule does not apply, whatever the encounter.
            if entry.bounded() && time().is_some_and(|t| !entry.in_force(t)) {
                continue;
            }
            if enc == u32::MAX {
                enc = match line_enc.as_ref().and_then(|le| le.get(row)).copied() {
                    Some(e) if e != u32::MAX => e,
                    _ => {
                        let id = v.mdtrt_id.get(row).ok_or_else(|| null_encounter(v, row, map, rule))?;
                        match last_enc {
                            Some((l, e)) if same_str(l, id) => e,
                            _ => {
                                let e = st.encs.intern(id);
                                last_enc = Some((id, e));
                                e
                            }
                        }
                    }
                };
            }
            // The encounter's scene, read once per run of its lines, and only for a rule limited
            // to some scenes (windowed rules need nothing else of the encounter here).
            if cr.scene_mask != 0b1111 {
                if last_scene.is_none_or(|(e, _)| e != enc) {
                    last_scene = Some((enc, st.encs.scene(enc)));
                }
                let scene = last_scene.map_or(0, |(_, s)| s);
                if scene != 0 && scene & cr.scene_mask == 0 {
                    continue;
                }
            }
            // A dated point with no time to choose by: in scope, but cannot be judged.
            if entry.bounded() && time().is_none() {
                st.sink.unjudged(ri, "fee_ocur_time is null and the knowledge point has effective dates");
                continue;
            }
            if cr.kernel.is_windowed() {
                let time = time();
                let key = match crate::templates::event_key(&cr.kernel, entry, &line, enc, st) {
                    Some(k) => k,
                    None => {
                        st.sink.unjudged(ri, "fee_ocur_time is null and the prescription has no rxno");
                        continue;
                    }
                };
                if let Some(evs) = st.events.get_mut(ri as usize) {
                    evs.push(Event {
                        enc,
                        key,
                        time: time.unwrap_or(i64::MIN),
                        has_time: time.is_some(),
                        line: line.packed,
                        row: entry.row,
                        role: entry.role,
                    });
                }
            } else {
                // Borrowed, not copied: an encounter row is a few hundred bytes.
                if last_er.as_ref().is_none_or(|(e, _)| *e != enc) {
                    last_er = Some((enc, st.encs.get(enc).unwrap_or_default()));
                }
                let Some((_, er)) = last_er.as_ref() else { continue };
                crate::templates::eval_line(&cr.kernel, ri, entry.row, &line, enc, er, &st.encs, eng, &mut st.sink)?;
            }
        }
    }
    if let (Some(keep), Some(le)) = (st.line_encs.as_mut(), line_enc) {
        keep.push(le);
    }
    Ok(())
}

/// A finding before rendering: where it points and its place in the output order.
struct Pending<'a> {
    hit: u32,
    rule: u32,
    /// The encounter's index when the `mdtrt` ids are sorted (it orders like the id), else `u32::MAX`.
    rank: u32,
    at: At<'a>,
    kp_id: Option<&'a str>,
    id: u64,
}

impl Pending<'_> {
    /// The output order: encounter id, line id, rule (pack order), related line, knowledge point,
    /// finding id.
    fn order(a: &Self, b: &Self) -> std::cmp::Ordering {
        let enc = if a.rank != u32::MAX && b.rank != u32::MAX {
            a.rank.cmp(&b.rank)
        } else {
            a.at.mdtrt_id.cmp(b.at.mdtrt_id)
        };
        enc.then_with(|| a.at.feedetl_sn.cmp(&b.at.feedetl_sn))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.at.related_feedetl_sn.cmp(&b.at.related_feedetl_sn))
            .then_with(|| a.kp_id.cmp(&b.kp_id))
            .then_with(|| a.id.cmp(&b.id))
    }
}

/// Sorts a rule's events by (encounter, key, time, line, role). The pass pushes them in line
/// order, and lines usually come grouped by encounter in ascending order: then each encounter's
/// short run is sorted on its own (a few events, in cache) instead of one sort of millions.
fn sort_events(evs: &mut [Event]) {
    let order = |e: &Event| (e.enc, e.key, e.time, e.line, e.role);
    if evs.windows(2).all(|w| w.first().map(|a| a.enc) <= w.get(1).map(|b| b.enc)) {
        evs.chunk_by_mut(|a, b| a.enc == b.enc).for_each(|run| run.sort_unstable_by_key(order));
    } else {
        evs.sort_unstable_by_key(order);
    }
}

/// Gives templates prescription keys without exposing the state.
pub(crate) trait RxInterner<'a> {
    /// The key of prescription `rx` within encounter `enc`.
    fn rx(&mut self, enc: u32, rx: &'a str) -> u32;
}

impl<'a> RxInterner<'a> for State<'a> {
    fn rx(&mut self, enc: u32, rx: &'a str) -> u32 {
        let e = enc as usize;
        if self.rx_by_enc.len() <= e {
            self.rx_by_enc.resize(e + 1, SmallVec::new());
        }
        let Some(list) = self.rx_by_enc.get_mut(e) else { return 0 };
        match list.iter().rposition(|r| same_str(r, rx)) {
            Some(i) => i as u32,
            None => {
                list.push(rx);
                (list.len() - 1) as u32
            }
        }
    }
}

fn output<O: Output>(env: &Env, sink: Sink) -> Result<O> {
    // Resolve every hit to what it points at, borrowed from the claims and the engine, with its
    // sort key; sort those small records; only then render each finding, in its final place.
    let mut pending: Vec<Pending> = Vec::with_capacity(sink.hits.len());
    let mut last_enc: Option<(u32, EncNames)> = None;
    for (i, h) in sink.hits.iter().enumerate() {
        let (Some(rule), Some(cr)) = (env.rule(h.rule), env.eng.rules.get(h.rule as usize)) else { continue };
        let line = h.line.and_then(|p| env.line(p));
        let enc_idx = if h.enc == u32::MAX {
            line.as_ref().and_then(|l| l.v.mdtrt_id.get(l.row)).and_then(|id| env.encs.find(id))
        } else {
            Some(h.enc)
        };
        let mut enc = match (enc_idx, last_enc) {
            (Some(i), Some((j, r))) if i == j => r,
            (Some(i), _) => {
                let r = env.encs.names(i).unwrap_or_default();
                last_enc = Some((i, r));
                r
            }
            (None, _) => EncNames::default(),
        };
        if enc.id.is_empty() {
            enc.id = match line.as_ref().and_then(|l| l.v.mdtrt_id.get(l.row)) {
                Some(id) => id,
                None => {
                    return Err(Error::Value {
                        table: "fee_details".into(),
                        column: env.map.source(ClaimsTable::FeeDetails, "mdtrt_id").into(),
                        row: line.as_ref().map_or(0, |l| l.global_row()),
                        rule_id: Some(rule.id.clone()),
                        message: "null encounter id on a line with a finding".into(),
                    })
                }
            };
        }
        let related = h.related.and_then(|p| env.line(p));
        let sn = match &line {
            None => None,
            Some(l) => Some(l.v.feedetl_sn.get(l.row).ok_or_else(|| Error::Value {
                table: "fee_details".into(),
                column: env.map.source(ClaimsTable::FeeDetails, "feedetl_sn").into(),
                row: l.global_row(),
                rule_id: Some(rule.id.clone()),
                message: "null line id on a line with a finding".into(),
            })?),
        };
        let at = At {
            psn_no: enc.psn.or_else(|| line.as_ref().and_then(|l| l.v.psn_no.and_then(|c| c.get(l.row)))),
            mdtrt_id: enc.id,
            fixmedins_code: enc.fixmedins,
            feedetl_sn: sn,
            item_code: line.as_ref().and_then(|l| l.code()),
            item_name: line.as_ref().and_then(|l| l.v.hilist_name.and_then(|c| c.get(l.row))),
            bilg_dept_codg: line.as_ref().and_then(|l| l.dept()),
            related_feedetl_sn: related.as_ref().and_then(|l| l.v.feedetl_sn.get(l.row)),
            amount: h.amount,
            id_extra: None,
        };
        let cite = cr.citation(h.kp_row);
        let kp_id = cite.map(|c| c.kp_id.as_str());
        let id = at.id_hash(&rule.id, kp_id);
        // Sorted `mdtrt` ids: an encounter's index orders like its id, with no string compare.
        let rank = enc_idx.filter(|&i| env.encs.is_ranked(i)).unwrap_or(u32::MAX);
        pending.push(Pending { hit: i as u32, rule: h.rule, rank, at, kp_id, id });
    }
    pending.sort_by(Pending::order);
    // Each finding is rendered once, in its final place, into the caller's form of output.
    let mut out = O::builder(pending.len());
    let mut scratch = Scratch::default();
    // Two findings with one id come from input lines that share a feedetl_sn: keep both (nothing
    // is dropped) and number the later ones, which the order above makes deterministic.
    let (mut last_id, mut seq) = (None, 0);
    for p in pending {
        let (Some(rule), Some(cr), Some(h)) =
            (env.rule(p.rule), env.eng.rules.get(p.rule as usize), sink.hits.get(p.hit as usize))
        else {
            continue;
        };
        seq = if last_id == Some(p.id) { seq + 1 } else { 1 };
        last_id = Some(p.id);
        O::push(&mut out, &render_row(rule, cr.citation(h.kp_row), &p.at, &h.args, p.id, seq, &mut scratch));
    }
    let unjudged = sink
        .unjudged
        .into_iter()
        .filter_map(|((r, reason), count)| {
            env.rule(r).map(|rule| Unjudged { rule_id: rule.id.clone(), reason: reason.to_string(), count })
        })
        .collect();
    Ok(O::finish(out, unjudged))
}
