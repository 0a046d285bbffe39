//! Claims input: the four national tables as Arrow record batches, their canonical schemas, the
//! column map, and validated zero-copy views of them.
//!
//! The canonical column names are the national 医保信息平台 interface names (snake_case), so that
//! users who know the platform recognise them: `mdtrt` (one row per encounter, key `mdtrt_id`),
//! `diagnoses`, `operations` and `fee_details` (one row per fee line, key `feedetl_sn`). A caller
//! whose columns are named otherwise passes a [`ColumnMap`]; nothing is renamed silently.
//!
//! # What a null means
//!
//! | column | null means |
//! |---|---|
//! | a code (`hilist_code`, `diag_code`, …) | the line or diagnosis matches no code: no code-keyed rule fires on it |
//! | a key (`mdtrt_id`, `feedetl_sn`) | an error: always in `mdtrt` and `diagnoses` (such a row can join nothing); in `fee_details` only when a rule needs that line's key: a finding on the line, a code-keyed rule whose code matches it, a rule limited to some scenes, or `fee_time` (their encounter decides whether and how they apply) |
//! | a patient attribute (`gend`, `brdy`/`age`, `insutype`, `hosp_lv`, `med_type`) | unknown: a rule that needs it cannot judge the line; the line is counted in the check's `unjudged` report, never silently passed |
//! | an amount (`cnt`, `pric`, `det_item_fee_sumamt`) | an error only where the rule needs it to decide (amount mismatch, price ceiling, frequency); elsewhere the finding's amount at risk is null |
//! | a time (`fee_ocur_time`, `begntime`, …) | unknown: rules that need it count the line as unjudged |
//!
//! This module never copies column data and never reads anything but the batches it is given.

pub mod column;
pub mod json;
mod schema;

pub use column::{NumCol, StrCol, TimeCol};
pub use json::claims_from_json;
pub use schema::{canonical_schema, columns, ClaimsTable, ColumnKind, ColumnSpec};

use crate::error::{Error, Result};
use arrow_array::RecordBatch;
use smallvec::SmallVec;
use std::collections::BTreeMap;

/// `batches` cut into zero-copy slices of at most `rows` rows each (at least one row), in order.
///
/// Splitting never changes what a check finds; the engine calls [`CheckOptions::progress`]
/// after each `fee_details` batch, so smaller slices mean more frequent progress and a faster
/// stop on cancel.
///
/// [`CheckOptions::progress`]: crate::CheckOptions::progress
///
/// ```
/// use medaudit_core::claims::slices;
/// use arrow_array::{ArrayRef, Int32Array, RecordBatch};
/// use std::sync::Arc;
/// let b = RecordBatch::try_from_iter([("x", Arc::new(Int32Array::from(vec![1, 2, 3, 4, 5])) as ArrayRef)]).unwrap();
/// let parts = slices(&[b], 2);
/// assert_eq!(parts.iter().map(RecordBatch::num_rows).collect::<Vec<_>>(), vec![2, 2, 1]);
/// ```
pub fn slices(batches: &[RecordBatch], rows: usize) -> Vec<RecordBatch> {
    let rows = rows.max(1);
    let mut out = Vec::new();
    for b in batches {
        let mut at = 0;
        while at < b.num_rows() {
            let n = rows.min(b.num_rows() - at);
            out.push(b.slice(at, n));
            at += n;
        }
    }
    out
}

/// Maps canonical column names to the caller's names, per table.
///
/// ```
/// use medaudit_core::{ClaimsTable, ColumnMap};
/// let mut map = ColumnMap::default();
/// map.insert(ClaimsTable::FeeDetails, "hilist_code", "med_list_codg").unwrap();
/// assert_eq!(map.source(ClaimsTable::FeeDetails, "hilist_code"), "med_list_codg");
/// assert_eq!(map.source(ClaimsTable::FeeDetails, "cnt"), "cnt");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ColumnMap {
    #[serde(flatten)]
    tables: BTreeMap<ClaimsTable, BTreeMap<String, String>>,
}

impl ColumnMap {
    /// Reads canonical `column` of `table` from the caller's column `source`.
    /// Fails when `column` is not a canonical column of `table`.
    pub fn insert(&mut self, table: ClaimsTable, column: &str, source: &str) -> Result<()> {
        if !columns(table).iter().any(|c| c.name == column) {
            return Err(Error::Argument {
                argument: format!("column map {}.{column}", table.name()),
                message: format!(
                    "{column:?} is not a canonical column of {}; canonical columns are: {}",
                    table.name(),
                    columns(table).iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
                ),
            });
        }
        self.tables.entry(table).or_default().insert(column.to_string(), source.to_string());
        Ok(())
    }

    /// Parses a column map from JSON: `{"fee_details": {"hilist_code": "med_list_codg"}}`.
    pub fn from_json(text: &str) -> Result<Self> {
        let raw: BTreeMap<String, BTreeMap<String, String>> = serde_json::from_str(text)
            .map_err(|e| Error::Argument { argument: "column map".into(), message: format!("invalid JSON: {e}") })?;
        let mut map = ColumnMap::default();
        for (table, cols) in raw {
            let t = ClaimsTable::from_name(&table).ok_or_else(|| Error::Argument {
                argument: format!("column map {table:?}"),
                message: "unknown table; expected mdtrt, diagnoses, operations or fee_details".into(),
            })?;
            for (c, s) in cols {
                map.insert(t, &c, &s)?;
            }
        }
        Ok(map)
    }

    /// True when no column of `table` is mapped.
    pub(crate) fn is_empty(&self, table: ClaimsTable) -> bool {
        self.tables.get(&table).is_none_or(BTreeMap::is_empty)
    }

    /// The caller's name for canonical `column` of `table`.
    pub fn source<'s>(&'s self, table: ClaimsTable, column: &'s str) -> &'s str {
        self.tables.get(&table).and_then(|m| m.get(column)).map_or(column, String::as_str)
    }
}

/// The claims of one check call: each table as zero or more record batches.
///
/// Splitting a table into batches never changes the findings. Tables may be empty; a check with no
/// fee lines returns no line findings.
#[derive(Debug, Clone, Default)]
pub struct Claims {
    /// Encounters (结算/就诊信息), one row per `mdtrt_id`.
    pub mdtrt: Vec<RecordBatch>,
    /// Diagnoses, any number per encounter.
    pub diagnoses: Vec<RecordBatch>,
    /// Operations, any number per encounter.
    pub operations: Vec<RecordBatch>,
    /// Fee lines (费用明细), one row per `feedetl_sn`.
    pub fee_details: Vec<RecordBatch>,
    /// Where the caller's column names differ from the canonical ones.
    pub column_map: ColumnMap,
}

impl Claims {
    /// Batches of `table`.
    pub fn table(&self, table: ClaimsTable) -> &[RecordBatch] {
        match table {
            ClaimsTable::Mdtrt => &self.mdtrt,
            ClaimsTable::Diagnoses => &self.diagnoses,
            ClaimsTable::Operations => &self.operations,
            ClaimsTable::FeeDetails => &self.fee_details,
        }
    }

    /// Checks the type of every canonical column present in every batch, and that required
    /// columns exist. The engine calls this itself; it is public for callers who want to validate
    /// data before a long run.
    pub fn validate(&self) -> Result<()> {
        for t in ClaimsTable::ALL {
            for b in self.table(t) {
                Resolver::new(b, t, &self.column_map).validate_all()?;
            }
        }
        Ok(())
    }
}

/// Resolves canonical columns of one batch into typed views, with errors that name the table and
/// the caller's column.
pub(crate) struct Resolver<'a> {
    batch: &'a RecordBatch,
    table: ClaimsTable,
    map: &'a ColumnMap,
    /// The batch's field index of each canonical column, by position in `columns(table)`
    /// ([`ABSENT`] when the batch has no such field), found in one pass over the fields when the
    /// resolver is made: a pre-alert call resolves about 40 columns of four small batches, and a
    /// search of the schema per column (most of them absent from `mdtrt`) was a large share of it.
    fields: SmallVec<[u32; 32]>,
    /// The typed columns [`Resolver::validate_all`] found, by position in `columns(table)`: a view
    /// built after it reads them instead of typing each column a second time.
    typed: Vec<Typed<'a>>,
    /// Where the last canonical name was found in `columns(table)`: views ask for columns in
    /// that order, so the next name is usually at the next position.
    hint: std::cell::Cell<usize>,
}

/// [`Resolver::fields`] of a canonical column the batch does not have.
const ABSENT: u32 = u32::MAX;

/// The position of the first item after `from` (wrapping around) for which `hit` holds.
fn position_from<T>(items: &[T], from: usize, hit: impl Fn(&T) -> bool) -> Option<usize> {
    let from = from.min(items.len());
    let (head, tail) = items.split_at(from);
    tail.iter().position(&hit).map(|i| from + i).or_else(|| head.iter().position(&hit))
}

/// A canonical column as `validate_all` resolved it.
#[derive(Clone, Copy)]
enum Typed<'a> {
    Absent,
    Str(StrCol<'a>),
    Num(NumCol<'a>),
    Time(TimeCol<'a>),
    /// Not kept (the trace-code column is read by the history pass).
    Other,
}

impl<'a> Resolver<'a> {
    pub(crate) fn new(batch: &'a RecordBatch, table: ClaimsTable, map: &'a ColumnMap) -> Self {
        let specs = columns(table);
        // The caller's name of each canonical column (its own name unless mapped).
        let wanted: SmallVec<[&str; 32]> = specs.iter().map(|c| map.source(table, c.name)).collect();
        let mut fields: SmallVec<[u32; 32]> = smallvec::smallvec![ABSENT; specs.len()];
        // Batches usually list the columns in canonical order, so the search for the next one
        // starts after the last one found.
        let mut from = 0;
        for (i, f) in batch.schema_ref().fields().iter().enumerate() {
            let name = f.name().as_str();
            let Some(s) = position_from(&wanted, from, |w| w.len() == name.len() && *w == name) else { continue };
            // The first field of a name wins, as a lookup by name would find it.
            if let (Some(slot), Ok(i)) = (fields.get_mut(s), u32::try_from(i)) {
                if *slot == ABSENT {
                    *slot = i;
                }
            }
            from = s + 1;
        }
        // A column map may give several canonical columns one source: the search above found it
        // for one of them; the others read the same field.
        if !map.is_empty(table) {
            for s in 0..fields.len() {
                if fields.get(s) != Some(&ABSENT) {
                    continue;
                }
                let same = wanted
                    .get(s)
                    .and_then(|w| wanted.iter().zip(&fields).find(|(o, f)| *o == w && **f != ABSENT).map(|(_, f)| *f));
                if let (Some(f), Some(slot)) = (same, fields.get_mut(s)) {
                    *slot = f;
                }
            }
        }
        Resolver { batch, table, map, fields, typed: Vec::new(), hint: std::cell::Cell::new(0) }
    }

    /// Position of canonical column `name` in `columns(self.table)`.
    fn spec(&self, name: &str) -> Option<usize> {
        let i = position_from(columns(self.table), self.hint.get(), |c| c.name == name)?;
        self.hint.set(i + 1);
        Some(i)
    }

    fn err(&self, column: &str, message: String) -> Error {
        Error::Column { table: self.table.name().into(), column: column.into(), message }
    }

    /// The array of canonical column `name` (at `spec` in `columns(self.table)`, when it is one)
    /// and the caller's name of it.
    fn array(&self, spec: Option<usize>, name: &str) -> Option<(&'a arrow_array::ArrayRef, &'a str)> {
        let idx = match spec {
            Some(s) => *self.fields.get(s).filter(|&&f| f != ABSENT)? as usize,
            // Not a canonical column of this table: looked up by its name alone.
            None => self.batch.schema_ref().fields().iter().position(|f| f.name() == name)?,
        };
        let field = self.batch.schema_ref().fields().get(idx)?;
        Some((self.batch.columns().get(idx)?, field.name().as_str()))
    }

    /// Column `name` (at `spec`) typed by `make`, or what `validate_all` kept of it (`kept`).
    fn column<T>(
        &self,
        spec: Option<usize>,
        name: &str,
        kept: impl Fn(Typed<'a>) -> Option<T>,
        make: impl Fn(&'a arrow_array::ArrayRef) -> std::result::Result<T, String>,
    ) -> Result<Option<T>> {
        match spec.and_then(|s| self.typed.get(s)) {
            Some(Typed::Absent) => return Ok(None),
            Some(t) => {
                if let Some(c) = kept(*t) {
                    return Ok(Some(c));
                }
            }
            None => {}
        }
        match self.array(spec, name) {
            None => Ok(None),
            Some((a, n)) => make(a).map(Some).map_err(|m| self.err(n, m)),
        }
    }

    /// Checks the type of every canonical column present and that the required ones are; keeps
    /// the typed columns for the `str`/`num`/`time` calls that follow.
    pub(crate) fn validate_all(&mut self) -> Result<()> {
        let mut typed = Vec::with_capacity(columns(self.table).len());
        for (i, spec) in columns(self.table).iter().enumerate() {
            let (at, name) = (Some(i), spec.name);
            let t = match spec.kind {
                // The one list-valued column: a string of codes or a list of strings.
                ColumnKind::Str if name == "drug_trac_codg" => self.trace_codes()?.map(|_| Typed::Other),
                ColumnKind::Str => self.column(at, name, |_| None, StrCol::new)?.map(Typed::Str),
                ColumnKind::Num => self.column(at, name, |_| None, NumCol::new)?.map(Typed::Num),
                ColumnKind::Time => self.column(at, name, |_| None, TimeCol::new)?.map(Typed::Time),
            };
            if spec.required && t.is_none() {
                return Err(self.missing(name, None));
            }
            typed.push(t.unwrap_or(Typed::Absent));
        }
        self.typed = typed;
        Ok(())
    }

    pub(crate) fn missing(&self, canonical: &str, rule: Option<&str>) -> Error {
        let src = self.map.source(self.table, canonical);
        let why = match rule {
            Some(r) => format!("missing; rule {r:?} needs it"),
            None => "missing; it is required".to_string(),
        };
        let mapped =
            if src != canonical { format!(" (canonical column {canonical:?} is mapped to it)") } else { String::new() };
        self.err(src, format!("{why}{mapped}"))
    }

    pub(crate) fn str(&self, name: &str) -> Result<Option<StrCol<'a>>> {
        let kept = |t| if let Typed::Str(c) = t { Some(c) } else { None };
        self.column(self.spec(name), name, kept, StrCol::new)
    }

    pub(crate) fn num(&self, name: &str) -> Result<Option<NumCol<'a>>> {
        let kept = |t| if let Typed::Num(c) = t { Some(c) } else { None };
        self.column(self.spec(name), name, kept, NumCol::new)
    }

    pub(crate) fn time(&self, name: &str) -> Result<Option<TimeCol<'a>>> {
        let kept = |t| if let Typed::Time(c) = t { Some(c) } else { None };
        self.column(self.spec(name), name, kept, TimeCol::new)
    }

    /// The trace-code column (`drug_trac_codg`), a string or a list of strings.
    pub(crate) fn trace_codes(&self) -> Result<Option<crate::history::TraceCol<'a>>> {
        let name = "drug_trac_codg";
        match self.array(self.spec(name), name) {
            None => Ok(None),
            Some((a, n)) => crate::history::TraceCol::new(a).map(Some).map_err(|m| self.err(n, m)),
        }
    }

    pub(crate) fn req_str(&self, name: &str) -> Result<StrCol<'a>> {
        self.str(name)?.ok_or_else(|| self.missing(name, None))
    }
}

/// Validated views of one `fee_details` batch.
pub(crate) struct FeeView<'a> {
    pub base: usize,
    pub rows: usize,
    pub feedetl_sn: StrCol<'a>,
    pub mdtrt_id: StrCol<'a>,
    pub hilist_code: StrCol<'a>,
    pub psn_no: Option<StrCol<'a>>,
    pub hilist_name: Option<StrCol<'a>>,
    pub fee_ocur_time: Option<TimeCol<'a>>,
    pub cnt: Option<NumCol<'a>>,
    pub pric: Option<NumCol<'a>>,
    pub det_item_fee_sumamt: Option<NumCol<'a>>,
    pub bilg_dept_codg: Option<StrCol<'a>>,
    pub rxno: Option<StrCol<'a>>,
}

impl<'a> FeeView<'a> {
    pub(crate) fn new(batch: &'a RecordBatch, map: &'a ColumnMap, base: usize) -> Result<Self> {
        let mut r = Resolver::new(batch, ClaimsTable::FeeDetails, map);
        r.validate_all()?;
        Ok(FeeView {
            base,
            rows: batch.num_rows(),
            feedetl_sn: r.req_str("feedetl_sn")?,
            mdtrt_id: r.req_str("mdtrt_id")?,
            hilist_code: r.req_str("hilist_code")?,
            psn_no: r.str("psn_no")?,
            hilist_name: r.str("hilist_name")?,
            fee_ocur_time: r.time("fee_ocur_time")?,
            cnt: r.num("cnt")?,
            pric: r.num("pric")?,
            det_item_fee_sumamt: r.num("det_item_fee_sumamt")?,
            bilg_dept_codg: r.str("bilg_dept_codg")?,
            rxno: r.str("rxno")?,
        })
    }
}

/// Validated views of one `mdtrt` batch.
pub(crate) struct MdtrtView<'a> {
    pub rows: usize,
    pub mdtrt_id: StrCol<'a>,
    pub psn_no: Option<StrCol<'a>>,
    pub gend: Option<StrCol<'a>>,
    pub brdy: Option<TimeCol<'a>>,
    pub age: Option<NumCol<'a>>,
    pub insutype: Option<StrCol<'a>>,
    pub med_type: Option<StrCol<'a>>,
    pub fixmedins_code: Option<StrCol<'a>>,
    pub hosp_lv: Option<StrCol<'a>>,
    pub begntime: Option<TimeCol<'a>>,
    pub endtime: Option<TimeCol<'a>>,
    pub die_date: Option<TimeCol<'a>>,
}

impl<'a> MdtrtView<'a> {
    pub(crate) fn new(batch: &'a RecordBatch, map: &'a ColumnMap) -> Result<Self> {
        let mut r = Resolver::new(batch, ClaimsTable::Mdtrt, map);
        r.validate_all()?;
        Ok(MdtrtView {
            rows: batch.num_rows(),
            mdtrt_id: r.req_str("mdtrt_id")?,
            psn_no: r.str("psn_no")?,
            gend: r.str("gend")?,
            brdy: r.time("brdy")?,
            age: r.num("age")?,
            insutype: r.str("insutype")?,
            med_type: r.str("med_type")?,
            fixmedins_code: r.str("fixmedins_code")?,
            hosp_lv: r.str("hosp_lv")?,
            begntime: r.time("begntime")?,
            endtime: r.time("endtime")?,
            die_date: r.time("die_date")?,
        })
    }
}

/// Validated views of one `diagnoses` (or `operations`) batch: the key and the code.
pub(crate) struct CodeView<'a> {
    pub rows: usize,
    pub mdtrt_id: StrCol<'a>,
    pub code: StrCol<'a>,
}

impl<'a> CodeView<'a> {
    pub(crate) fn new(batch: &'a RecordBatch, table: ClaimsTable, map: &'a ColumnMap) -> Result<Self> {
        let mut r = Resolver::new(batch, table, map);
        r.validate_all()?;
        let code = match table {
            ClaimsTable::Operations => "oprn_oprt_code",
            _ => "diag_code",
        };
        Ok(CodeView { rows: batch.num_rows(), mdtrt_id: r.req_str("mdtrt_id")?, code: r.req_str(code)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_from_wraps_around() {
        let xs = ["a", "b", "c", "d"];
        assert_eq!(position_from(&xs, 0, |x| *x == "c"), Some(2));
        assert_eq!(position_from(&xs, 3, |x| *x == "b"), Some(1));
        assert_eq!(position_from(&xs, 2, |x| *x == "c"), Some(2));
        assert_eq!(position_from(&xs, 9, |x| *x == "a"), Some(0));
        assert_eq!(position_from(&xs, 1, |x| *x == "z"), None);
        assert_eq!(position_from::<&str>(&[], 0, |_| true), None);
    }

    fn str_batch(cols: &[(&str, &str)]) -> RecordBatch {
        let fields: Vec<arrow_schema::Field> =
            cols.iter().map(|(n, _)| arrow_schema::Field::new(*n, arrow_schema::DataType::Utf8, true)).collect();
        let arrays: Vec<arrow_array::ArrayRef> = cols
            .iter()
            .map(|(_, v)| std::sync::Arc::new(arrow_array::StringArray::from(vec![*v])) as arrow_array::ArrayRef)
            .collect();
        RecordBatch::try_new(std::sync::Arc::new(arrow_schema::Schema::new(fields)), arrays).unwrap()
    }

    /// A name given twice: the first field of that name is read, whatever was asked before.
    #[test]
    fn resolver_reads_the_first_field_of_a_name() {
        let b = str_batch(&[("gend", "1"), ("mdtrt_id", "M1"), ("gend", "2"), ("psn_no", "P1")]);
        let map = ColumnMap::default();
        let mut r = Resolver::new(&b, ClaimsTable::Mdtrt, &map);
        assert_eq!(r.req_str("mdtrt_id").unwrap().get(0), Some("M1"));
        assert_eq!(r.str("gend").unwrap().and_then(|c| c.get(0)), Some("1"));
        r.validate_all().unwrap();
        assert_eq!(r.str("gend").unwrap().and_then(|c| c.get(0)), Some("1"));
    }

    /// A mapped column is read from its source only, even when a field has its canonical name,
    /// and two canonical columns may share one source.
    #[test]
    fn resolver_follows_the_column_map() {
        let b = str_batch(&[("gend", "9"), ("id", "M1"), ("sex", "2")]);
        let mut map = ColumnMap::default();
        map.insert(ClaimsTable::Mdtrt, "gend", "sex").unwrap();
        map.insert(ClaimsTable::Mdtrt, "mdtrt_id", "id").unwrap();
        map.insert(ClaimsTable::Mdtrt, "psn_no", "id").unwrap();
        let mut r = Resolver::new(&b, ClaimsTable::Mdtrt, &map);
        r.validate_all().unwrap();
        assert_eq!(r.str("gend").unwrap().and_then(|c| c.get(0)), Some("2"));
        assert_eq!(r.req_str("mdtrt_id").unwrap().get(0), Some("M1"));
        assert_eq!(r.str("psn_no").unwrap().and_then(|c| c.get(0)), Some("M1"));
        // The unmapped canonical name of a mapped column is not read, so a required one is missing.
        map.insert(ClaimsTable::Mdtrt, "mdtrt_id", "encounter").unwrap();
        let e = Resolver::new(&b, ClaimsTable::Mdtrt, &map).validate_all().err().unwrap().to_string();
        assert!(e.contains("\"encounter\"") && e.contains("canonical column \"mdtrt_id\" is mapped to it"), "{e}");
    }

    /// Columns in reverse order, and asked for out of order: every one is still found, typed.
    #[test]
    fn resolver_finds_columns_in_any_order() {
        let json = serde_json::json!({
            "mdtrt": [{"mdtrt_id": "M1", "psn_no": "P1", "gend": "1", "begntime": "2026-01-01 08:00:00"}]
        });
        let claims = json::claims_from_json(&json, "$").unwrap();
        let b = claims.mdtrt.first().unwrap();
        let reversed = RecordBatch::try_new(
            std::sync::Arc::new(arrow_schema::Schema::new(
                b.schema().fields().iter().rev().cloned().collect::<Vec<_>>(),
            )),
            b.columns().iter().rev().cloned().collect(),
        )
        .unwrap();
        for batch in [b, &reversed] {
            let map = ColumnMap::default();
            let mut r = Resolver::new(batch, ClaimsTable::Mdtrt, &map);
            r.validate_all().unwrap();
            for _ in 0..2 {
                assert_eq!(r.str("gend").unwrap().and_then(|c| c.get(0)), Some("1"));
                assert!(r.time("begntime").unwrap().is_some());
                assert_eq!(r.req_str("mdtrt_id").unwrap().get(0), Some("M1"));
                assert_eq!(r.str("psn_no").unwrap().and_then(|c| c.get(0)), Some("P1"));
                assert!(r.str("insutype").unwrap().is_none());
            }
        }
    }
}
