//! The trace-code column `drug_trac_codg`: one string holding codes separated by `,`, `;`, `|`,
//! `，`, `；` or whitespace (as the national upload interfaces carry it), or an Arrow
//! `List`/`LargeList` of strings (any accepted string type). Read without copying.

use crate::claims::StrCol;
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, GenericListArray, OffsetSizeTrait};
use arrow_schema::DataType;
use smallvec::SmallVec;

/// A trace-code column of any accepted physical type.
///
/// ```
/// use arrow_array::{ArrayRef, StringArray};
/// use medaudit_core::history::TraceCol;
/// use std::sync::Arc;
/// let a: ArrayRef = Arc::new(StringArray::from(vec![Some("81000000000000000001,81000000000000000002"), None]));
/// let col = TraceCol::new(&a).unwrap();
/// assert_eq!(col.codes(0).len(), 2);
/// assert!(col.codes(1).is_empty());
/// ```
#[derive(Clone, Copy)]
pub enum TraceCol<'a> {
    /// Codes joined in one string per row.
    Joined(StrCol<'a>),
    /// A list of strings per row.
    List(&'a GenericListArray<i32>, StrCol<'a>),
    /// A large list of strings per row.
    LargeList(&'a GenericListArray<i64>, StrCol<'a>),
}

/// The accepted types, for error messages.
pub const TRACE_TYPES: &str =
    "a string type (codes separated by , ; | or spaces), or List/LargeList of Utf8, LargeUtf8, Utf8View or dictionary strings";

fn is_sep(c: char) -> bool {
    matches!(c, ',' | ';' | '|' | '，' | '；' | '、') || c.is_whitespace()
}

impl<'a> TraceCol<'a> {
    /// Reads `array` as trace codes, or returns the accepted types as the error text.
    pub fn new(array: &'a ArrayRef) -> Result<Self, String> {
        match array.data_type() {
            DataType::List(_) => {
                let l = array.as_list::<i32>();
                let v = StrCol::new(l.values()).map_err(|m| format!("list values: {m}; expected {TRACE_TYPES}"))?;
                Ok(TraceCol::List(l, v))
            }
            DataType::LargeList(_) => {
                let l = array.as_list::<i64>();
                let v = StrCol::new(l.values()).map_err(|m| format!("list values: {m}; expected {TRACE_TYPES}"))?;
                Ok(TraceCol::LargeList(l, v))
            }
            other => StrCol::new(array)
                .map(TraceCol::Joined)
                .map_err(|_| format!("has type {other}, expected {TRACE_TYPES}")),
        }
    }

    /// The non-empty codes of row `i`, in order (empty when null).
    pub fn codes(&self, i: usize) -> SmallVec<[&'a str; 4]> {
        fn list<'a, O: OffsetSizeTrait>(
            l: &'a GenericListArray<O>,
            v: &StrCol<'a>,
            i: usize,
        ) -> SmallVec<[&'a str; 4]> {
            if i >= l.len() || l.is_null(i) {
                return SmallVec::new();
            }
            let offs = l.value_offsets();
            let (Some(lo), Some(hi)) = (offs.get(i), offs.get(i + 1)) else { return SmallVec::new() };
            let (lo, hi) = (lo.as_usize(), hi.as_usize());
            (lo..hi).filter_map(|k| v.get(k)).map(str::trim).filter(|s| !s.is_empty()).collect()
        }
        match self {
            TraceCol::Joined(s) => {
                s.get(i).map_or_else(SmallVec::new, |s| s.split(is_sep).filter(|c| !c.is_empty()).collect())
            }
            TraceCol::List(l, v) => list(l, v, i),
            TraceCol::LargeList(l, v) => list(l, v, i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::builder::{ListBuilder, StringBuilder};
    use arrow_array::{Int32Array, StringArray};
    use std::sync::Arc;

    #[test]
    fn joined_and_list_forms() {
        let a: ArrayRef = Arc::new(StringArray::from(vec![Some("81234,81235；81236"), None, Some(" ")]));
        let t = TraceCol::new(&a).unwrap();
        assert_eq!(t.codes(0).as_slice(), &["81234", "81235", "81236"]);
        assert!(t.codes(1).is_empty() && t.codes(2).is_empty());
        let mut b = ListBuilder::new(StringBuilder::new());
        b.values().append_value("A1");
        b.values().append_value("A2");
        b.append(true);
        b.append(false);
        let a: ArrayRef = Arc::new(b.finish());
        let t = TraceCol::new(&a).unwrap();
        assert_eq!(t.codes(0).as_slice(), &["A1", "A2"]);
        assert!(t.codes(1).is_empty());
        let bad: ArrayRef = Arc::new(Int32Array::from(vec![1]));
        assert!(TraceCol::new(&bad).err().unwrap().contains("List/LargeList"));
    }
}
