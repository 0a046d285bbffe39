//! Grouping Arrow claims: the `mdtrt`, `diagnoses` and `operations` tables of a [`Claims`] →
//! one result per `mdtrt` row, as records or an Arrow batch.
//!
//! Case fields come from national columns: `gend` (sex), `age` (else from `brdy` at `begntime`),
//! age in days from `brdy` at `begntime`, `nwb_bir_wt` (birth weight, g), `act_ipt_days` (else
//! the calendar days from `begntime` to `endtime`), `dscg_way`, `dscg_caty`. Diagnoses keep their
//! row order, except that the row with `maindiag_flag` = `1` comes first (none flagged: the first
//! row is the principal; two flagged: the case is invalid, `multiple_principal_dx`); operations
//! likewise with `main_oprn_flag`. A diagnosis or operation row whose `mdtrt_id` is not in `mdtrt`
//! is an error naming the row: nothing is dropped silently.

use super::cond::Vals;
use super::group::{GroupOptions, Grouping, IdCase, Outcome, Reason, Trace};
use super::scheme::{Dict, DrgScheme, NO_CODE};
use crate::claims::{ClaimsTable, ColumnMap, NumCol, Resolver, StrCol, TimeCol};
use crate::engine::codes::FxHashMap;
use crate::error::{Error, Result};
use crate::Claims;
use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use std::sync::Arc;

/// The grouping of one `mdtrt` row.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult<'s, 'a> {
    /// The encounter.
    pub mdtrt_id: &'a str,
    /// The grouping.
    pub grouping: Grouping<'s>,
    /// For an invalid case: the reason as a sentence naming the code or field at fault.
    pub message: Option<String>,
}

/// The results of [`DrgScheme::group_claims`], in `mdtrt` row order.
#[derive(Debug, Clone)]
pub struct DrgOutput<'s, 'a> {
    /// One per `mdtrt` row.
    pub results: Vec<CaseResult<'s, 'a>>,
    /// One per `mdtrt` row when the call asked for traces.
    pub traces: Option<Vec<Trace>>,
}

/// The Arrow schema of [`DrgOutput::to_record_batch`].
///
/// `mdtrt_id`, `status` (grouped / ungroupable / invalid / ambiguous), `status_code` (the
/// scheme's: SUCCESS, FAIL, CHECK_FAILED, …), `reason` and `reason_text` (invalid cases), `mdc`,
/// `adrg`, `drg`, `drg_name`, `rule` (the ADRG rule that matched), and when traced `trace`,
/// `cc_mcc` (counted, `code:MCC:table|…`) and `cc_mcc_excluded`.
pub fn drg_result_schema() -> Schema {
    let f = |n: &str, null: bool| Field::new(n, DataType::Utf8, null);
    Schema::new(vec![
        f("mdtrt_id", false),
        f("status", false),
        f("status_code", false),
        f("reason", true),
        f("reason_text", true),
        f("mdc", false),
        f("adrg", false),
        f("drg", false),
        f("drg_name", true),
        f("rule", true),
        f("trace", true),
        f("cc_mcc", true),
        f("cc_mcc_excluded", true),
    ])
}

impl DrgOutput<'_, '_> {
    /// The results as one Arrow batch ([`drg_result_schema`]).
    pub fn to_record_batch(&self) -> Result<RecordBatch> {
        let n = self.results.len();
        let mut b: Vec<StringBuilder> = (0..13).map(|_| StringBuilder::with_capacity(n, n * 8)).collect();
        let marks = |v: &[super::group::CcMark]| {
            v.iter().map(|m| format!("{}:{}:{}", m.code, m.kind, m.table)).collect::<Vec<_>>().join("|")
        };
        for (i, r) in self.results.iter().enumerate() {
            let g = &r.grouping;
            let t = self.traces.as_ref().and_then(|t| t.get(i));
            let reason = g.reason.map(|x| x.code());
            let vals: [Option<&str>; 10] = [
                Some(r.mdtrt_id),
                Some(g.status.name()),
                Some(g.status_code),
                reason.as_deref(),
                r.message.as_deref(),
                Some(g.mdc),
                Some(g.adrg),
                Some(g.drg),
                g.drg_name,
                Some(g.rule).filter(|x| !x.is_empty()),
            ];
            for (col, v) in b.iter_mut().zip(vals) {
                col.append_option(v);
            }
            let tr = [t.map(Trace::summary), t.map(|t| marks(&t.counted)), t.map(|t| marks(&t.excluded))];
            for (col, v) in b.iter_mut().skip(10).zip(tr) {
                col.append_option(v);
            }
        }
        let cols: Vec<ArrayRef> = b.iter_mut().map(|x| Arc::new(x.finish()) as ArrayRef).collect();
        RecordBatch::try_new(Arc::new(drg_result_schema()), cols)
            .map_err(|e| Error::Argument { argument: "DRG results".into(), message: e.to_string() })
    }
}

/// The codes of one case, principal first.
struct Coded<'a> {
    ids: Vec<u32>,
    codes: Vec<Option<&'a str>>,
    /// Per case: start offset into `ids`.
    start: Vec<u32>,
    multi_main: Vec<bool>,
}

impl<'a> Coded<'a> {
    fn case(&self, c: usize) -> (&[u32], &[Option<&'a str>]) {
        let s = self.start.get(c).copied().unwrap_or(0) as usize;
        let e = self.start.get(c + 1).copied().unwrap_or(s as u32) as usize;
        (self.ids.get(s..e).unwrap_or(&[]), self.codes.get(s..e).unwrap_or(&[]))
    }
}

/// For a counting sort of rows by group: `starts[g]..starts[g + 1]` will hold the rows of group
/// `g` (< `n`), given each row's group in input order.
pub(crate) fn group_starts(n: usize, groups: impl Iterator<Item = u32>) -> Vec<u32> {
    let mut start = vec![0u32; n + 1];
    for g in groups {
        if let Some(x) = start.get_mut(g as usize + 1) {
            *x += 1;
        }
    }
    for i in 0..n {
        let prev = start.get(i).copied().unwrap_or(0);
        if let Some(x) = start.get_mut(i + 1) {
            *x += prev;
        }
    }
    start
}

/// `mdtrt` ids → case index. Ids in strictly increasing order (the usual export order) are found
/// by a cursor or a binary search, like a merge join; otherwise by a hash map.
struct CaseIndex<'a> {
    ids: Vec<&'a str>,
    sorted: bool,
    map: FxHashMap<&'a str, u32>,
    cursor: usize,
}

impl<'a> CaseIndex<'a> {
    /// Checks uniqueness; `Err(row, first row)` for a duplicate id.
    fn new(ids: Vec<&'a str>) -> std::result::Result<Self, (usize, usize, &'a str)> {
        let sorted = ids.windows(2).all(|w| w.first() < w.get(1));
        let mut map = FxHashMap::default();
        if !sorted {
            map.reserve(ids.len());
            for (i, id) in ids.iter().enumerate() {
                if let Some(first) = map.insert(*id, i as u32) {
                    return Err((i, first as usize, *id));
                }
            }
        }
        Ok(CaseIndex { ids, sorted, map, cursor: 0 })
    }

    #[inline]
    fn find(&mut self, id: &str) -> Option<u32> {
        let c = self.cursor;
        for k in [c, c + 1] {
            if self.ids.get(k).is_some_and(|x| *x == id) {
                self.cursor = k;
                return Some(k as u32);
            }
        }
        let k = if self.sorted { self.ids.binary_search(&id).ok()? } else { *self.map.get(id)? as usize };
        self.cursor = k;
        Some(k as u32)
    }
}

/// Maps a code column to scheme ids, each dictionary value once.
fn code_ids(col: &StrCol, dict: &Dict, out: &mut Vec<u32>) {
    match col {
        StrCol::Dict { keys, values, .. } => {
            let vals: Vec<u32> = (0..values.len()).map(|i| values.get(i).map_or(NO_CODE, |c| dict.get(c))).collect();
            keys.for_each(|_, k| out.push(k.and_then(|k| vals.get(k).copied()).unwrap_or(NO_CODE)));
        }
        StrCol::Flat(_) => out.extend((0..col.len()).map(|i| col.get(i).map_or(NO_CODE, |c| dict.get(c)))),
    }
}

/// Reads the code rows of `table` into per-case lists, principal first.
fn read_codes<'a>(
    batches: &'a [RecordBatch],
    table: ClaimsTable,
    map: &'a ColumnMap,
    cases: &mut CaseIndex<'a>,
    dict: &Dict,
) -> Result<Coded<'a>> {
    let (code_col, flag_col) = match table {
        ClaimsTable::Operations => ("oprn_oprt_code", "main_oprn_flag"),
        _ => ("diag_code", "maindiag_flag"),
    };
    // (case, is main, id, code) in input order.
    let mut rows: Vec<(u32, bool, u32, Option<&'a str>)> = Vec::new();
    let mut base = 0usize;
    let mut ids: Vec<u32> = Vec::new();
    for b in batches {
        let mut r = Resolver::new(b, table, map);
        r.validate_all()?;
        let key = r.req_str("mdtrt_id")?;
        let code = r.req_str(code_col)?;
        let flag = r.str(flag_col)?;
        ids.clear();
        code_ids(&code, dict, &mut ids);
        for i in 0..b.num_rows() {
            let err = |m: String| Error::Value {
                table: table.name().into(),
                column: map.source(table, "mdtrt_id").into(),
                row: base + i,
                rule_id: None,
                message: m,
            };
            let id = key.get(i).ok_or_else(|| err("null encounter id".into()))?;
            let c = cases.find(id).ok_or_else(|| err(format!("encounter {id:?} is not in mdtrt")))?;
            let main = flag.as_ref().and_then(|f| f.get(i)).is_some_and(|f| f.trim() == "1");
            rows.push((c, main, ids.get(i).copied().unwrap_or(NO_CODE), code.get(i)));
        }
        base += b.num_rows();
    }
    let ncases = cases.ids.len();
    // Counting sort by case, keeping input order; then move the flagged row to the front.
    let start = group_starts(ncases, rows.iter().map(|r| r.0));
    let mut fill = start.clone();
    let mut out_ids = vec![NO_CODE; rows.len()];
    let mut out_codes: Vec<Option<&str>> = vec![None; rows.len()];
    let mut mains: Vec<u32> = vec![u32::MAX; ncases];
    let mut multi_main = vec![false; ncases];
    for (c, main, id, code) in rows {
        let Some(slot) = fill.get_mut(c as usize) else { continue };
        let at = *slot as usize;
        *slot += 1;
        if let (Some(x), Some(y)) = (out_ids.get_mut(at), out_codes.get_mut(at)) {
            *x = id;
            *y = code;
        }
        if main {
            match mains.get_mut(c as usize) {
                Some(m) if *m == u32::MAX => *m = at as u32,
                _ => {
                    if let Some(x) = multi_main.get_mut(c as usize) {
                        *x = true;
                    }
                }
            }
        }
    }
    for (c, m) in mains.iter().enumerate() {
        let s = start.get(c).copied().unwrap_or(0) as usize;
        if *m != u32::MAX && *m as usize > s {
            // Rotate the principal to the front, keeping the others in order.
            let m = *m as usize;
            if let (Some(a), Some(b)) = (out_ids.get_mut(s..=m), out_codes.get_mut(s..=m)) {
                a.rotate_right(1);
                b.rotate_right(1);
            }
        }
    }
    Ok(Coded { ids: out_ids, codes: out_codes, start, multi_main })
}

/// Columns of one `mdtrt` batch the grouper reads.
struct MdtrtCols<'a> {
    id: StrCol<'a>,
    gend: Option<StrCol<'a>>,
    age: Option<NumCol<'a>>,
    brdy: Option<TimeCol<'a>>,
    begn: Option<TimeCol<'a>>,
    end: Option<TimeCol<'a>>,
    los: Option<NumCol<'a>>,
    weight: Option<NumCol<'a>>,
    dscg_way: Option<StrCol<'a>>,
    dept: Option<StrCol<'a>>,
}

fn int(x: f64) -> Option<i64> {
    (x.is_finite() && x.abs() < 1e15).then(|| x.floor() as i64)
}

/// The cases of one claims set, read once: `mdtrt` columns, and per case its diagnosis and
/// procedure ids (principal first). Used by [`DrgScheme::group_claims`] and by the DRG rule
/// templates, which re-group cases with codes left out.
pub(crate) struct CaseSet<'a> {
    views: Vec<MdtrtCols<'a>>,
    /// First case of each view.
    bases: Vec<usize>,
    index: CaseIndex<'a>,
    dx: Coded<'a>,
    px: Coded<'a>,
}

impl<'a> CaseSet<'a> {
    pub fn read(scheme: &DrgScheme, claims: &'a Claims) -> Result<Self> {
        let map = &claims.column_map;
        let mut views: Vec<MdtrtCols<'a>> = Vec::with_capacity(claims.mdtrt.len());
        let mut bases = Vec::with_capacity(claims.mdtrt.len());
        let id_err = |row: usize, message: String| Error::Value {
            table: "mdtrt".into(),
            column: map.source(ClaimsTable::Mdtrt, "mdtrt_id").into(),
            row,
            rule_id: None,
            message,
        };
        let mut ids: Vec<&'a str> = Vec::new();
        for b in &claims.mdtrt {
            let mut r = Resolver::new(b, ClaimsTable::Mdtrt, map);
            r.validate_all()?;
            let v = MdtrtCols {
                id: r.req_str("mdtrt_id")?,
                gend: r.str("gend")?,
                age: r.num("age")?,
                brdy: r.time("brdy")?,
                begn: r.time("begntime")?,
                end: r.time("endtime")?,
                los: r.num("act_ipt_days")?,
                weight: r.num("nwb_bir_wt")?,
                dscg_way: r.str("dscg_way")?,
                dept: r.str("dscg_caty")?,
            };
            bases.push(ids.len());
            for i in 0..b.num_rows() {
                let id = v.id.get(i).ok_or_else(|| id_err(ids.len(), "null encounter id".into()))?;
                ids.push(id);
            }
            views.push(v);
        }
        let mut index = CaseIndex::new(ids)
            .map_err(|(row, first, id)| id_err(row, format!("duplicate encounter id {id:?} (first at row {first})")))?;
        let dx = read_codes(&claims.diagnoses, ClaimsTable::Diagnoses, map, &mut index, &scheme.dx)?;
        let px = read_codes(&claims.operations, ClaimsTable::Operations, map, &mut index, &scheme.px)?;
        Ok(CaseSet { views, bases, index, dx, px })
    }

    /// Number of cases (`mdtrt` rows).
    pub fn len(&self) -> usize {
        self.index.ids.len()
    }

    /// The `mdtrt_id` of case `c`.
    pub fn id(&self, c: usize) -> &'a str {
        self.index.ids.get(c).copied().unwrap_or("")
    }

    /// The diagnosis and procedure codes of case `c` as text (principal first).
    pub fn codes(&self, c: usize) -> (Vec<&'a str>, Vec<&'a str>) {
        let t = |x: &[Option<&'a str>]| x.iter().map(|c| c.unwrap_or("(null)")).collect();
        (t(self.dx.case(c).1), t(self.px.case(c).1))
    }

    /// Case `c` for the walk.
    pub fn case(&self, c: usize) -> IdCase<'_> {
        let (dids, _) = self.dx.case(c);
        let (pids, _) = self.px.case(c);
        let vi = self.bases.partition_point(|b| *b <= c).saturating_sub(1);
        let (Some(v), Some(base)) = (self.views.get(vi), self.bases.get(vi)) else {
            return IdCase { v: Vals::default(), dx: dids, px: pids, fault: None };
        };
        let i = c - base;
        let mut fault = None;
        let sex = match v.gend.as_ref().and_then(|g| g.get(i)).map(str::trim) {
            None | Some("") => None,
            Some(g) => match g.parse::<i64>() {
                Ok(x) => Some(x),
                Err(_) => {
                    fault = Some(Reason::Unparsable { field: "gend" });
                    None
                }
            },
        };
        let num = |c: &Option<NumCol>, field: &'static str, fault: &mut Option<Reason<'static>>| {
            let x = c.as_ref().and_then(|c| c.get(i))?;
            let r = int(x);
            if r.is_none() && fault.is_none() {
                *fault = Some(Reason::Unparsable { field });
            }
            r
        };
        let begn = v.begn.as_ref().and_then(|c| c.get(i));
        let brdy = v.brdy.as_ref().and_then(|c| c.get(i));
        let born = brdy.zip(begn);
        let age_years = num(&v.age, "age", &mut fault).or_else(|| born.map(|(b, t)| crate::time::age_years(b, t)));
        let age_days = born.map(|(b, t)| crate::time::age_days(b, t));
        let los = num(&v.los, "act_ipt_days", &mut fault).or_else(|| {
            let end = v.end.as_ref().and_then(|c| c.get(i))?;
            Some(crate::time::day_of(end) - crate::time::day_of(begn?))
        });
        let birth_weight = num(&v.weight, "nwb_bir_wt", &mut fault);
        if fault.is_none() && self.dx.multi_main.get(c).copied().unwrap_or(false) {
            fault = Some(Reason::MultiplePrincipalDx);
        }
        IdCase {
            v: Vals {
                sex,
                age_years,
                age_days,
                birth_weight,
                los,
                discharge: v.dscg_way.as_ref().and_then(|c| c.get(i)),
                dept: v.dept.as_ref().and_then(|c| c.get(i)),
            },
            dx: dids,
            px: pids,
            fault,
        }
    }
}

impl DrgScheme {
    /// Groups every `mdtrt` row of `claims` with its `diagnoses` and `operations` rows. With
    /// `trace`, each result also carries its [`Trace`].
    ///
    /// Grouping a case here gives exactly what [`DrgScheme::group`] gives for the same case.
    ///
    /// ```
    /// # use medaudit_core::drg::{DrgScheme, GroupOptions};
    /// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/chs-drg-1.1");
    /// # if !std::path::Path::new(dir).exists() { return Ok(()); }
    /// # let json = std::fs::read_to_string(format!("{dir}/scheme.json")).unwrap();
    /// # let mut files = std::collections::BTreeMap::new();
    /// # for f in DrgScheme::declared_files(&json)? {
    /// #     files.insert(f.clone(), std::fs::read_to_string(format!("{dir}/{f}")).unwrap());
    /// # }
    /// # let scheme = &DrgScheme::load(&json, &files)?;
    /// let claims = medaudit_core::claims::claims_from_json(&serde_json::json!({
    ///     "mdtrt": [{"mdtrt_id": "M1", "gend": "1", "age": 65, "act_ipt_days": 9}],
    ///     "diagnoses": [{"mdtrt_id": "M1", "diag_code": "Z98.800x210"},
    ///                   {"mdtrt_id": "M1", "diag_code": "C61.x00", "maindiag_flag": "1"}],
    ///     "operations": [{"mdtrt_id": "M1", "oprn_oprt_code": "60.5x02"}]}), "$")?;
    /// let out = scheme.group_claims(&claims, &GroupOptions::default(), true)?;
    /// assert_eq!(out.results[0].grouping.drg, "MA19");
    /// let batch = out.to_record_batch()?; // mdtrt_id, status, …, drg, trace, cc_mcc, …
    /// assert_eq!(batch.num_rows(), 1);
    /// # Ok::<(), medaudit_core::Error>(())
    /// ```
    pub fn group_claims<'s, 'a>(
        &'s self,
        claims: &'a Claims,
        opts: &GroupOptions,
        trace: bool,
    ) -> Result<DrgOutput<'s, 'a>> {
        let set = CaseSet::read(self, claims)?;
        let n = set.len();
        let mut results = Vec::with_capacity(n);
        let mut traces = trace.then(|| Vec::with_capacity(n));
        for case in 0..n {
            let ic = set.case(case);
            let outcome = match traces.as_mut() {
                Some(t) => {
                    let mut tr = Trace::default();
                    let o = self.walk(&ic, opts, &mut tr);
                    t.push(tr);
                    o
                }
                None => self.walk(&ic, opts, &mut ()),
            };
            let message = match outcome {
                Outcome::Invalid { reason, .. } => {
                    let (d, p) = set.codes(case);
                    Some(reason.message(&d, &p))
                }
                _ => None,
            };
            results.push(CaseResult { mdtrt_id: set.id(case), grouping: self.grouping(outcome), message });
        }
        Ok(DrgOutput { results, traces })
    }
}
