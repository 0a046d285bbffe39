//! Typed, zero-copy views over the Arrow column variants medaudit accepts.
//!
//! A claims column is read through one of three views, whatever its physical Arrow type:
//! [`StrCol`] (Utf8, LargeUtf8, Utf8View, or a dictionary of those with any integer key),
//! [`NumCol`] (any integer, Float32/64, Decimal128/256 with its scale) and [`TimeCol`]
//! (Date32, Date64, Timestamp of any unit, with no zone or a China-local zone). Views borrow the
//! Arrow buffers; nothing is copied. Anything else is rejected with an error that names the table,
//! the column and the accepted types.
//!
//! Times are kept as **wall-clock seconds** (seconds since 1970-01-01 00:00 local time), because
//! the national rules speak of calendar days and clock hours in China. A timestamp with a zone is
//! moved to its wall clock by the zone's fixed offset; only fixed offsets (`+08:00`, `UTC`) and the
//! zone names used in China (`Asia/Shanghai`, `PRC`, …, UTC+8 without daylight saving since 1991)
//! are accepted, others are rejected rather than guessed.

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, PrimitiveArray};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, TimeUnit};

/// The accepted types of a string column, for error messages.
pub const STR_TYPES: &str = "Utf8, LargeUtf8, Utf8View, or Dictionary(<integer>, Utf8|LargeUtf8|Utf8View)";
/// The accepted types of a number column, for error messages.
pub const NUM_TYPES: &str = "Int8..Int64, UInt8..UInt64, Float32, Float64, Decimal128, Decimal256";
/// The accepted types of a time column, for error messages.
pub const TIME_TYPES: &str =
    "Date32, Date64, or Timestamp(any unit, no zone | fixed offset | a China zone such as Asia/Shanghai)";

/// Keys of a dictionary-encoded string column, any integer width.
#[derive(Clone, Copy)]
#[allow(missing_docs)]
pub enum DictKeys<'a> {
    I8(&'a PrimitiveArray<Int8Type>),
    I16(&'a PrimitiveArray<Int16Type>),
    I32(&'a PrimitiveArray<Int32Type>),
    I64(&'a PrimitiveArray<Int64Type>),
    U8(&'a PrimitiveArray<UInt8Type>),
    U16(&'a PrimitiveArray<UInt16Type>),
    U32(&'a PrimitiveArray<UInt32Type>),
    U64(&'a PrimitiveArray<UInt64Type>),
}

impl DictKeys<'_> {
    /// The key at `i` as an index into the values, or `None` when null.
    #[inline]
    pub fn get(&self, i: usize) -> Option<usize> {
        macro_rules! k {
            ($a:expr) => {
                if i >= $a.len() || $a.is_null(i) {
                    None
                } else {
                    usize::try_from($a.value(i)).ok()
                }
            };
        }
        match self {
            DictKeys::I8(a) => k!(a),
            DictKeys::I16(a) => k!(a),
            DictKeys::I32(a) => k!(a),
            DictKeys::I64(a) => k!(a),
            DictKeys::U8(a) => k!(a),
            DictKeys::U16(a) => k!(a),
            DictKeys::U32(a) => k!(a),
            DictKeys::U64(a) => k!(a),
        }
    }

    /// Calls `f(row, key)` for every row, with `None` for a null key. One tight loop per key width.
    #[inline]
    pub fn for_each(&self, mut f: impl FnMut(usize, Option<usize>)) {
        macro_rules! each {
            ($a:expr) => {{
                let vals = $a.values();
                match $a.nulls() {
                    None => {
                        for (i, &k) in vals.iter().enumerate() {
                            f(i, usize::try_from(k).ok());
                        }
                    }
                    Some(n) => {
                        for (i, &k) in vals.iter().enumerate() {
                            f(i, if n.is_valid(i) { usize::try_from(k).ok() } else { None });
                        }
                    }
                }
            }};
        }
        match self {
            DictKeys::I8(a) => each!(a),
            DictKeys::I16(a) => each!(a),
            DictKeys::I32(a) => each!(a),
            DictKeys::I64(a) => each!(a),
            DictKeys::U8(a) => each!(a),
            DictKeys::U16(a) => each!(a),
            DictKeys::U32(a) => each!(a),
            DictKeys::U64(a) => each!(a),
        }
    }
}

/// The flat (non-dictionary) string variants.
#[derive(Clone, Copy)]
#[allow(missing_docs)]
pub enum FlatStr<'a> {
    Utf8(&'a arrow_array::StringArray),
    Large(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
}

impl<'a> FlatStr<'a> {
    /// Number of values.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        match self {
            FlatStr::Utf8(a) => a.len(),
            FlatStr::Large(a) => a.len(),
            FlatStr::View(a) => a.len(),
        }
    }

    /// The value at `i`, `None` when null or out of range.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&'a str> {
        if i >= self.len() {
            return None;
        }
        match self {
            FlatStr::Utf8(a) => (!a.is_null(i)).then(|| a.value(i)),
            FlatStr::Large(a) => (!a.is_null(i)).then(|| a.value(i)),
            FlatStr::View(a) => (!a.is_null(i)).then(|| a.value(i)),
        }
    }
}

/// A string column of any accepted physical type.
#[derive(Clone, Copy)]
pub enum StrCol<'a> {
    /// Plain strings.
    Flat(FlatStr<'a>),
    /// Dictionary-encoded strings.
    #[allow(missing_docs)]
    Dict { keys: DictKeys<'a>, values: FlatStr<'a>, len: usize },
}

impl<'a> StrCol<'a> {
    /// Reads `array` as strings, or returns the accepted types as the error text.
    pub fn new(array: &'a ArrayRef) -> Result<Self, String> {
        match array.data_type() {
            DataType::Dictionary(key, value) => {
                let values = array_flat_str(dict_values(array)?)
                    .ok_or_else(|| format!("dictionary values are {value}, expected {STR_TYPES}"))?;
                let keys = match key.as_ref() {
                    DataType::Int8 => DictKeys::I8(array.as_dictionary::<Int8Type>().keys()),
                    DataType::Int16 => DictKeys::I16(array.as_dictionary::<Int16Type>().keys()),
                    DataType::Int32 => DictKeys::I32(array.as_dictionary::<Int32Type>().keys()),
                    DataType::Int64 => DictKeys::I64(array.as_dictionary::<Int64Type>().keys()),
                    DataType::UInt8 => DictKeys::U8(array.as_dictionary::<UInt8Type>().keys()),
                    DataType::UInt16 => DictKeys::U16(array.as_dictionary::<UInt16Type>().keys()),
                    DataType::UInt32 => DictKeys::U32(array.as_dictionary::<UInt32Type>().keys()),
                    DataType::UInt64 => DictKeys::U64(array.as_dictionary::<UInt64Type>().keys()),
                    other => return Err(format!("dictionary key type {other} is not an integer")),
                };
                Ok(StrCol::Dict { keys, values, len: array.len() })
            }
            other => {
                array_flat_str(array).map(StrCol::Flat).ok_or_else(|| format!("has type {other}, expected {STR_TYPES}"))
            }
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            StrCol::Flat(f) => f.len(),
            StrCol::Dict { len, .. } => *len,
        }
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at `i`; `None` when null (a null key or a null dictionary value).
    ///
    /// Plain `Utf8` and `Int32`-keyed dictionaries of `Utf8` (the common layouts) are read inline;
    /// the other layouts out of line, so that callers in hot loops stay small.
    #[inline(always)]
    pub fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            StrCol::Flat(FlatStr::Utf8(a)) => utf8_at(a, i),
            StrCol::Dict { keys: DictKeys::I32(k), values: FlatStr::Utf8(v), .. } => {
                if i >= k.len() || k.is_null(i) {
                    return None;
                }
                utf8_at(v, usize::try_from(*k.values().get(i)?).ok()?)
            }
            _ => self.get_other(i),
        }
    }

    #[inline(never)]
    fn get_other(&self, i: usize) -> Option<&'a str> {
        match self {
            StrCol::Flat(f) => f.get(i),
            StrCol::Dict { keys, values, .. } => keys.get(i).and_then(|k| values.get(k)),
        }
    }
}

/// The string at `i` of a `Utf8` array; `None` when null or out of range.
#[inline]
fn utf8_at(a: &arrow_array::StringArray, i: usize) -> Option<&str> {
    if i >= a.len() || a.is_null(i) {
        None
    } else {
        Some(a.value(i))
    }
}

fn dict_values(array: &ArrayRef) -> Result<&ArrayRef, String> {
    macro_rules! v {
        ($t:ty) => {
            Ok(array.as_dictionary::<$t>().values())
        };
    }
    match array.data_type() {
        DataType::Dictionary(k, _) => match k.as_ref() {
            DataType::Int8 => v!(Int8Type),
            DataType::Int16 => v!(Int16Type),
            DataType::Int32 => v!(Int32Type),
            DataType::Int64 => v!(Int64Type),
            DataType::UInt8 => v!(UInt8Type),
            DataType::UInt16 => v!(UInt16Type),
            DataType::UInt32 => v!(UInt32Type),
            DataType::UInt64 => v!(UInt64Type),
            other => Err(format!("dictionary key type {other} is not an integer")),
        },
        other => Err(format!("{other} is not a dictionary")),
    }
}

fn array_flat_str(array: &ArrayRef) -> Option<FlatStr<'_>> {
    match array.data_type() {
        DataType::Utf8 => Some(FlatStr::Utf8(array.as_string::<i32>())),
        DataType::LargeUtf8 => Some(FlatStr::Large(array.as_string::<i64>())),
        DataType::Utf8View => Some(FlatStr::View(array.as_string_view())),
        _ => None,
    }
}

/// A number column of any accepted physical type, read as `f64`.
#[derive(Clone, Copy)]
#[allow(missing_docs)]
pub enum NumCol<'a> {
    I8(&'a PrimitiveArray<Int8Type>),
    I16(&'a PrimitiveArray<Int16Type>),
    I32(&'a PrimitiveArray<Int32Type>),
    I64(&'a PrimitiveArray<Int64Type>),
    U8(&'a PrimitiveArray<UInt8Type>),
    U16(&'a PrimitiveArray<UInt16Type>),
    U32(&'a PrimitiveArray<UInt32Type>),
    U64(&'a PrimitiveArray<UInt64Type>),
    F32(&'a PrimitiveArray<Float32Type>),
    F64(&'a PrimitiveArray<Float64Type>),
    D128(&'a PrimitiveArray<Decimal128Type>, f64),
    D256(&'a PrimitiveArray<Decimal256Type>, f64),
}

impl<'a> NumCol<'a> {
    /// Reads `array` as numbers, or returns the accepted types as the error text.
    pub fn new(array: &'a ArrayRef) -> Result<Self, String> {
        Ok(match array.data_type() {
            DataType::Int8 => NumCol::I8(array.as_primitive()),
            DataType::Int16 => NumCol::I16(array.as_primitive()),
            DataType::Int32 => NumCol::I32(array.as_primitive()),
            DataType::Int64 => NumCol::I64(array.as_primitive()),
            DataType::UInt8 => NumCol::U8(array.as_primitive()),
            DataType::UInt16 => NumCol::U16(array.as_primitive()),
            DataType::UInt32 => NumCol::U32(array.as_primitive()),
            DataType::UInt64 => NumCol::U64(array.as_primitive()),
            DataType::Float32 => NumCol::F32(array.as_primitive()),
            DataType::Float64 => NumCol::F64(array.as_primitive()),
            DataType::Decimal128(_, s) => NumCol::D128(array.as_primitive(), 10f64.powi(-i32::from(*s))),
            DataType::Decimal256(_, s) => NumCol::D256(array.as_primitive(), 10f64.powi(-i32::from(*s))),
            other => return Err(format!("has type {other}, expected {NUM_TYPES}")),
        })
    }

    /// The value at `i` as `f64`; `None` when null, out of range or not finite.
    ///
    /// `Float64` (the common layout) is read inline, the others out of line.
    #[inline]
    pub fn get(&self, i: usize) -> Option<f64> {
        match self {
            NumCol::F64(a) => {
                let x = *a.values().get(i)?;
                (!a.is_null(i) && x.is_finite()).then_some(x)
            }
            _ => self.get_other(i),
        }
    }

    #[inline(never)]
    fn get_other(&self, i: usize) -> Option<f64> {
        macro_rules! g {
            ($a:expr, $conv:expr) => {
                if i < $a.len() && !$a.is_null(i) {
                    Some($conv($a.value(i)))
                } else {
                    None
                }
            };
        }
        let v = match self {
            NumCol::I8(a) => g!(a, f64::from),
            NumCol::I16(a) => g!(a, f64::from),
            NumCol::I32(a) => g!(a, f64::from),
            NumCol::I64(a) => g!(a, |v: i64| v as f64),
            NumCol::U8(a) => g!(a, f64::from),
            NumCol::U16(a) => g!(a, f64::from),
            NumCol::U32(a) => g!(a, f64::from),
            NumCol::U64(a) => g!(a, |v: u64| v as f64),
            NumCol::F32(a) => g!(a, f64::from),
            NumCol::F64(a) => g!(a, |v| v),
            NumCol::D128(a, scale) => g!(a, |v: i128| v as f64 * scale),
            NumCol::D256(a, scale) => g!(a, |v: arrow_buffer::i256| v.as_i128() as f64 * scale),
        };
        v.filter(|x| x.is_finite())
    }
}

/// A time column of any accepted physical type, read as wall-clock seconds.
#[derive(Clone, Copy)]
pub enum TimeCol<'a> {
    /// i64 values (Timestamp of any unit, Date64): seconds = value.div_euclid(div) + offset.
    #[allow(missing_docs)]
    I64 { values: &'a [i64], nulls: Option<&'a NullBuffer>, div: i64, offset: i64 },
    /// Date32: days since the epoch.
    #[allow(missing_docs)]
    Days { values: &'a [i32], nulls: Option<&'a NullBuffer> },
}

impl<'a> TimeCol<'a> {
    /// Reads `array` as times, or returns the accepted types as the error text.
    pub fn new(array: &'a ArrayRef) -> Result<Self, String> {
        fn ts<T: ArrowPrimitiveType<Native = i64>>(array: &ArrayRef, div: i64, offset: i64) -> TimeCol<'_> {
            let a = array.as_primitive::<T>();
            TimeCol::I64 { values: a.values(), nulls: a.nulls(), div, offset }
        }
        Ok(match array.data_type() {
            DataType::Date32 => {
                let a = array.as_primitive::<Date32Type>();
                TimeCol::Days { values: a.values(), nulls: a.nulls() }
            }
            DataType::Date64 => ts::<Date64Type>(array, 1000, 0),
            DataType::Timestamp(unit, tz) => {
                let offset = match tz {
                    None => 0,
                    Some(z) => zone_offset_seconds(z).ok_or_else(|| {
                        format!("has time zone {z:?}, which medaudit does not convert; expected {TIME_TYPES}")
                    })?,
                };
                match unit {
                    TimeUnit::Second => ts::<TimestampSecondType>(array, 1, offset),
                    TimeUnit::Millisecond => ts::<TimestampMillisecondType>(array, 1000, offset),
                    TimeUnit::Microsecond => ts::<TimestampMicrosecondType>(array, 1_000_000, offset),
                    TimeUnit::Nanosecond => ts::<TimestampNanosecondType>(array, 1_000_000_000, offset),
                }
            }
            other => return Err(format!("has type {other}, expected {TIME_TYPES}")),
        })
    }

    /// The wall-clock second at `i`; `None` when null or out of range.
    #[inline]
    pub fn get(&self, i: usize) -> Option<i64> {
        match self {
            TimeCol::I64 { values, nulls, div, offset } => {
                let v = *values.get(i)?;
                if nulls.is_some_and(|n| n.is_null(i)) {
                    return None;
                }
                // Seconds need no division (an integer division costs tens of cycles).
                let secs = if *div == 1 { v } else { v.div_euclid(*div) };
                Some(secs.saturating_add(*offset))
            }
            TimeCol::Days { values, nulls } => {
                let v = *values.get(i)?;
                if nulls.is_some_and(|n| n.is_null(i)) {
                    return None;
                }
                Some(i64::from(v) * 86_400)
            }
        }
    }

    /// Whether every row of `rows` holds a time within `lo..=hi` (the seconds of [`Self::get`]):
    /// false when one is null, outside, or past the end of the column. One loop over the values,
    /// for scans that pass over a run of lines in which no time can fire.
    pub fn all_within(&self, rows: std::ops::Range<usize>, lo: i64, hi: i64) -> bool {
        let inside = |t: i64| (lo <= t) & (t <= hi);
        let valid = |nulls: &Option<&NullBuffer>| nulls.is_none_or(|n| rows.clone().all(|i| n.is_valid(i)));
        match self {
            TimeCol::I64 { values, nulls, div, offset } => {
                let Some(vals) = values.get(rows.clone()) else { return false };
                let all = if *div == 1 {
                    vals.iter().fold(true, |ok, &v| ok & inside(v.saturating_add(*offset)))
                } else {
                    vals.iter().fold(true, |ok, &v| ok & inside(v.div_euclid(*div).saturating_add(*offset)))
                };
                all && valid(nulls)
            }
            TimeCol::Days { values, nulls } => {
                let Some(vals) = values.get(rows.clone()) else { return false };
                vals.iter().fold(true, |ok, &v| ok & inside(i64::from(v) * 86_400)) && valid(nulls)
            }
        }
    }
}

/// Offset in seconds of the zones medaudit converts, or `None`.
pub fn zone_offset_seconds(zone: &str) -> Option<i64> {
    const CHINA: &[&str] = &[
        "Asia/Shanghai",
        "Asia/Chongqing",
        "Asia/Chungking",
        "Asia/Harbin",
        "Asia/Urumqi",
        "Asia/Kashgar",
        "PRC",
        "Etc/GMT-8",
        "Asia/Hong_Kong",
        "Asia/Macau",
        "Asia/Taipei",
    ];
    if CHINA.contains(&zone) {
        return Some(8 * 3600);
    }
    if matches!(zone, "UTC" | "Z" | "Etc/UTC" | "GMT" | "Etc/GMT" | "+00:00" | "UTC+00:00") {
        return Some(0);
    }
    let (sign, rest) = match zone.as_bytes().first()? {
        b'+' => (1, zone.get(1..)?),
        b'-' => (-1, zone.get(1..)?),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i64>().ok()?, 0),
        4 => (digits.get(..2)?.parse::<i64>().ok()?, digits.get(2..)?.parse::<i64>().ok()?),
        _ => return None,
    };
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{DictionaryArray, Int32Array, StringArray, TimestampSecondArray};
    use std::sync::Arc;

    #[test]
    fn all_within_agrees_with_get_row_by_row() {
        let ms: ArrayRef = Arc::new(arrow_array::TimestampMillisecondArray::from(vec![
            Some(-1_500),
            Some(0),
            Some(999),
            Some(1_000),
            None,
            Some(86_400_000),
        ]));
        let days: ArrayRef = Arc::new(arrow_array::Date32Array::from(vec![Some(-1), Some(0), Some(1), None]));
        for array in [&ms, &days] {
            let Ok(col) = TimeCol::new(array) else { panic!("a time column") };
            let n = array.len();
            for lo in [-90_000, -2, -1, 0, 1, 86_400] {
                for hi in [-1, 0, 1, 86_399, 86_400, i64::MAX] {
                    for a in 0..=n {
                        for b in a..=n + 1 {
                            let want = (a..b).all(|i| col.get(i).is_some_and(|t| lo <= t && t <= hi));
                            assert_eq!(
                                col.all_within(a..b, lo, hi),
                                want,
                                "{:?} rows {a}..{b} in {lo}..={hi}",
                                array.data_type()
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn dictionary_strings_read_through_keys() {
        let d: DictionaryArray<Int32Type> = vec![Some("a"), None, Some("b"), Some("a")].into_iter().collect();
        let a: ArrayRef = Arc::new(d);
        let c = StrCol::new(&a).unwrap();
        assert_eq!(c.len(), 4);
        assert_eq!(c.get(0), Some("a"));
        assert_eq!(c.get(1), None);
        assert_eq!(c.get(3), Some("a"));
        assert_eq!(c.get(9), None);
    }

    #[test]
    fn wrong_types_name_the_accepted_ones() {
        let a: ArrayRef = Arc::new(Int32Array::from(vec![1]));
        assert!(StrCol::new(&a).err().unwrap().contains("expected Utf8"));
        let s: ArrayRef = Arc::new(StringArray::from(vec!["1"]));
        assert!(NumCol::new(&s).err().unwrap().contains("Decimal128"));
        assert!(TimeCol::new(&s).err().unwrap().contains("Timestamp"));
    }

    #[test]
    fn zones_move_to_wall_clock() {
        let a: ArrayRef = Arc::new(TimestampSecondArray::from(vec![0]).with_timezone("Asia/Shanghai"));
        assert_eq!(TimeCol::new(&a).unwrap().get(0), Some(8 * 3600));
        let b: ArrayRef = Arc::new(TimestampSecondArray::from(vec![0]).with_timezone("-05:30"));
        assert_eq!(TimeCol::new(&b).unwrap().get(0), Some(-(5 * 3600 + 1800)));
        let c: ArrayRef = Arc::new(TimestampSecondArray::from(vec![0]).with_timezone("America/New_York"));
        assert!(TimeCol::new(&c).err().unwrap().contains("America/New_York"));
    }
}
