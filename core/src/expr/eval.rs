//! The columnar evaluator: a typed [`Program`] over a frame of rows, one operator at a time.
//!
//! A frame is a set of positions (fee lines of one batch, rows of a diagnoses batch, or
//! encounters), each with its row in the batch, its encounter and its knowledge row. Every
//! operator runs as a loop over the positions it is given and returns one value per position:
//! numbers, times and durations as `f64` with NaN for null, strings as borrowed `&str`, truth
//! values as `u8` (0 false, 1 true, 2 null). `and` and `or` evaluate their right side only on the
//! positions the left side leaves undecided (a selection vector), so a cheap first test narrows
//! the work of the rest. String tests against constants are evaluated once per dictionary value
//! of a dictionary column, and a pattern (`~`) once per distinct string of a check.
//!
//! Evaluation never fails and never panics: every read is bounds-checked and a missing value is
//! null.

use super::check::{AnyIr, BoolIr, KpCol, NumFn, NumIr, Program, StrIr, StrTest};
use super::parse::BinOp;
use crate::claims::{NumCol, StrCol, TimeCol};
use crate::engine::codes::FxHashMap;
use crate::engine::codes::{same_str, RecentOwned};
use crate::time::{age_years, day_of, DAY};

/// Below this many values a string test is not cached.
const SMALL: usize = 64;

pub(crate) const F: u8 = 0;
pub(crate) const T: u8 = 1;
pub(crate) const N: u8 = 2;

/// A column of the frame's own table, resolved for one batch.
#[derive(Clone, Copy)]
pub(crate) enum ColV<'a> {
    S(StrCol<'a>),
    N(NumCol<'a>),
    T(TimeCol<'a>),
    /// Not a column of this frame's table (an `mdtrt` column, read through the encounter).
    Other,
}

/// Per-encounter values: `mdtrt` columns read once per check (by column slot) and aggregates.
#[derive(Default)]
pub(crate) struct EncData<'a> {
    pub strs: Vec<Vec<Option<&'a str>>>,
    pub nums: Vec<Vec<f64>>,
    pub agg_num: Vec<Vec<f64>>,
    pub agg_tri: Vec<Vec<u8>>,
}

/// Per-check caches of string tests that are worth caching (patterns): each distinct string is
/// matched once per check.
#[derive(Default)]
pub(crate) struct Memo {
    tests: Vec<TestMemo>,
}

/// The answers of one pattern test: every string seen, behind a cache of recent ones that is
/// kept from block to block and batch to batch (made once a frame is large enough to pay for it).
#[derive(Default)]
struct TestMemo {
    recent: Option<RecentOwned<bool>>,
    seen: FxHashMap<String, bool>,
}

/// Positions to evaluate and where each one reads.
pub(crate) struct Frame<'a, 'x> {
    pub prog: &'x Program,
    pub cols: &'x [ColV<'a>],
    pub rows: &'x [u32],
    pub encs: &'x [u32],
    pub kps: &'x [u32],
    pub enc: &'x EncData<'a>,
}

#[inline]
fn at<T: Copy>(v: &[T], p: u32) -> Option<T> {
    v.get(p as usize).copied()
}

#[inline]
fn cmp_num(op: BinOp, a: f64, b: f64) -> u8 {
    if a.is_nan() || b.is_nan() {
        N
    } else {
        u8::from(compare(op, &a, &b))
    }
}

#[inline]
fn compare<V: PartialOrd + ?Sized>(op: BinOp, a: &V, b: &V) -> bool {
    match op {
        BinOp::Eq => a == b,
        BinOp::Ne => a != b,
        BinOp::Lt => a < b,
        BinOp::Le => a <= b,
        BinOp::Gt => a > b,
        BinOp::Ge => a >= b,
        _ => false,
    }
}

/// Reads a number column at the rows of `sel`.
fn gather_num(c: &NumCol, rows: &[u32], sel: &[u32]) -> Vec<f64> {
    if let NumCol::F64(a) = c {
        let vals = a.values();
        if arrow_array::Array::null_count(*a) == 0 {
            return sel
                .iter()
                .map(|&p| {
                    at(rows, p)
                        .and_then(|r| vals.get(r as usize))
                        .copied()
                        .filter(|x| x.is_finite())
                        .unwrap_or(f64::NAN)
                })
                .collect();
        }
    }
    sel.iter().map(|&p| at(rows, p).and_then(|r| c.get(r as usize)).unwrap_or(f64::NAN)).collect()
}

impl<'a: 'x, 'x> Frame<'a, 'x> {
    fn enc_of(&self, p: u32) -> Option<usize> {
        at(self.encs, p).filter(|e| *e != u32::MAX).map(|e| e as usize)
    }

    pub fn num(&self, ir: &NumIr, sel: &[u32]) -> Vec<f64> {
        match ir {
            NumIr::Const(x) => vec![*x; sel.len()],
            NumIr::Col(slot) => match self.cols.get(*slot) {
                Some(ColV::N(c)) => gather_num(c, self.rows, sel),
                Some(ColV::T(c)) => sel
                    .iter()
                    .map(|&p| at(self.rows, p).and_then(|r| c.get(r as usize)).map_or(f64::NAN, |t| t as f64))
                    .collect(),
                _ => {
                    let col = self.enc.nums.get(*slot).map_or(&[][..], Vec::as_slice);
                    sel.iter().map(|&p| self.enc_of(p).and_then(|e| col.get(e)).copied().unwrap_or(f64::NAN)).collect()
                }
            },
            NumIr::Kp(i) => match self.prog.kp.get(*i) {
                Some(KpCol::Num(v)) => sel
                    .iter()
                    .map(|&p| at(self.kps, p).and_then(|k| v.get(k as usize)).copied().unwrap_or(f64::NAN))
                    .collect(),
                _ => vec![f64::NAN; sel.len()],
            },
            NumIr::Agg(i) => {
                let col = self.enc.agg_num.get(*i).map_or(&[][..], Vec::as_slice);
                sel.iter().map(|&p| self.enc_of(p).and_then(|e| col.get(e)).copied().unwrap_or(f64::NAN)).collect()
            }
            NumIr::Neg(e) => {
                let mut v = self.num(e, sel);
                v.iter_mut().for_each(|x| *x = -*x);
                v
            }
            NumIr::Arith(op, l, r) => {
                let mut a = self.num(l, sel);
                let b = self.num(r, sel);
                for (x, y) in a.iter_mut().zip(b.iter()) {
                    let z = match op {
                        BinOp::Add => *x + y,
                        BinOp::Sub => *x - y,
                        BinOp::Mul => *x * y,
                        _ => *x / y,
                    };
                    // Division by zero (and any overflow) is null, not infinity.
                    *x = if z.is_finite() { z } else { f64::NAN };
                }
                a
            }
            NumIr::Func(f, args) => self.func(*f, args, sel),
            NumIr::If(c, a, b) => self.choose(c, sel, |s| self.num(a, s), |s| self.num(b, s), f64::NAN),
        }
    }

    fn func(&self, f: NumFn, args: &[NumIr], sel: &[u32]) -> Vec<f64> {
        let arg = |i: usize| args.get(i).map_or_else(|| vec![f64::NAN; sel.len()], |a| self.num(a, sel));
        match f {
            NumFn::Floor | NumFn::Abs | NumFn::Round => {
                let mut v = arg(0);
                v.iter_mut().for_each(|x| {
                    *x = match f {
                        NumFn::Floor => x.floor(),
                        NumFn::Abs => x.abs(),
                        _ => x.round(),
                    }
                });
                v
            }
            NumFn::Coalesce => {
                let mut v = arg(0);
                for a in args.iter().skip(1) {
                    let missing: Vec<u32> = v.iter().zip(sel).filter(|(x, _)| x.is_nan()).map(|(_, p)| *p).collect();
                    if missing.is_empty() {
                        break;
                    }
                    let fill = self.num(a, &missing);
                    let mut it = fill.into_iter();
                    for x in v.iter_mut().filter(|x| x.is_nan()) {
                        *x = it.next().unwrap_or(f64::NAN);
                    }
                }
                v
            }
            NumFn::YearsBetween | NumFn::DaysBetween => {
                let a = arg(0);
                let b = arg(1);
                a.iter()
                    .zip(b.iter())
                    .map(|(x, y)| {
                        if x.is_nan() || y.is_nan() {
                            f64::NAN
                        } else if f == NumFn::YearsBetween {
                            age_years(*x as i64, *y as i64) as f64
                        } else {
                            (day_of(*y as i64) - day_of(*x as i64)) as f64
                        }
                    })
                    .collect()
            }
            NumFn::Day | NumFn::Hour => {
                let mut v = arg(0);
                v.iter_mut().for_each(|x| {
                    if !x.is_nan() {
                        let t = *x as i64;
                        *x = if f == NumFn::Day { (day_of(t) * DAY) as f64 } else { (t.rem_euclid(DAY) / 3600) as f64 };
                    }
                });
                v
            }
        }
    }

    pub fn str(&self, ir: &'x StrIr, sel: &[u32]) -> Vec<Option<&'x str>> {
        match ir {
            StrIr::Const(s) => vec![Some(s.as_str()); sel.len()],
            StrIr::Col(slot) => match self.cols.get(*slot) {
                Some(ColV::S(c)) => sel.iter().map(|&p| at(self.rows, p).and_then(|r| c.get(r as usize))).collect(),
                _ => {
                    let col = self.enc.strs.get(*slot).map_or(&[][..], Vec::as_slice);
                    sel.iter().map(|&p| self.enc_of(p).and_then(|e| col.get(e)).copied().flatten()).collect()
                }
            },
            StrIr::Kp(i) => match self.prog.kp.get(*i) {
                Some(KpCol::Str(v)) => sel
                    .iter()
                    .map(|&p| at(self.kps, p).and_then(|k| v.get(k as usize)).and_then(|s| s.as_deref()))
                    .collect(),
                _ => vec![None; sel.len()],
            },
            StrIr::Coalesce(args) => {
                let mut v = args.first().map_or_else(|| vec![None; sel.len()], |a| self.str(a, sel));
                for a in args.iter().skip(1) {
                    let missing: Vec<u32> = v.iter().zip(sel).filter(|(x, _)| x.is_none()).map(|(_, p)| *p).collect();
                    if missing.is_empty() {
                        break;
                    }
                    let mut it = self.str(a, &missing).into_iter();
                    for x in v.iter_mut().filter(|x| x.is_none()) {
                        *x = it.next().flatten();
                    }
                }
                v
            }
            StrIr::If(c, a, b) => self.choose(c, sel, |s| self.str(a, s), |s| self.str(b, s), None),
        }
    }

    /// `if(c, a, b)`: `a` where `c` is true, `b` where it is false, null where it is null; each
    /// branch is evaluated only on its own positions.
    fn choose<V: Copy>(
        &self,
        c: &BoolIr,
        sel: &[u32],
        a: impl Fn(&[u32]) -> Vec<V>,
        b: impl Fn(&[u32]) -> Vec<V>,
        null: V,
    ) -> Vec<V> {
        let mut memo = Memo::default();
        let t = self.tri(c, sel, &mut memo);
        let pick =
            |want: u8| -> Vec<u32> { sel.iter().zip(t.iter()).filter(|(_, x)| **x == want).map(|(p, _)| *p).collect() };
        let mut ya = a(&pick(T)).into_iter();
        let mut yb = b(&pick(F)).into_iter();
        t.iter()
            .map(|x| match *x {
                T => ya.next().unwrap_or(null),
                F => yb.next().unwrap_or(null),
                _ => null,
            })
            .collect()
    }

    /// A string test, per dictionary value for a dictionary column, else per row with the last
    /// result reused for a run of equal strings, and (for patterns) a per-check cache.
    fn str_test(&self, s: &StrIr, t: &StrTest, idx: usize, sel: &[u32], memo: &mut Memo) -> Vec<u8> {
        if let StrIr::Col(slot) = s {
            if let Some(ColV::S(StrCol::Dict { keys, values, .. })) = self.cols.get(*slot) {
                let mut by_key: Vec<u8> = vec![u8::MAX; values.len()];
                return sel
                    .iter()
                    .map(|&p| {
                        let Some(k) = at(self.rows, p).and_then(|r| keys.get(r as usize)) else { return N };
                        match by_key.get(k).copied() {
                            Some(u8::MAX) => {
                                let v = values.get(k).map_or(N, |v| u8::from(test_memo(t, idx, v, memo)));
                                if let Some(slot) = by_key.get_mut(k) {
                                    *slot = v;
                                }
                                v
                            }
                            Some(v) => v,
                            None => N,
                        }
                    })
                    .collect();
            }
        }
        let vals = self.str(s, sel);
        // A handful of strings (one encounter at the pre-alert stage) is cheaper to test than to
        // cache.
        let cached = vals.len() >= SMALL;
        if vals.len() >= 1024 && t.costly() {
            memo.keep_recent(idx);
        }
        let mut last: Option<(&str, u8)> = None;
        vals.iter()
            .map(|v| match *v {
                None => N,
                Some(v) => match last {
                    Some((l, r)) if same_str(l, v) => r,
                    _ => {
                        let r = u8::from(if cached { test_memo(t, idx, v, memo) } else { t.test(v) });
                        last = Some((v, r));
                        r
                    }
                },
            })
            .collect()
    }

    fn any_is_null(&self, ir: &AnyIr, sel: &[u32], memo: &mut Memo) -> Vec<bool> {
        match ir {
            AnyIr::B(b) => self.tri(b, sel, memo).into_iter().map(|x| x == N).collect(),
            AnyIr::N(n) => self.num(n, sel).into_iter().map(f64::is_nan).collect(),
            AnyIr::S(s) => self.str(s, sel).into_iter().map(|x| x.is_none()).collect(),
        }
    }

    /// Three-valued truth of `ir` at every position of `sel`.
    pub fn tri(&self, ir: &BoolIr, sel: &[u32], memo: &mut Memo) -> Vec<u8> {
        match ir {
            BoolIr::Const(c) => vec![*c; sel.len()],
            // A comparison with a constant (the usual case) does not build the constant's vector.
            BoolIr::NumCmp(op, l, NumIr::Const(c)) => self.num(l, sel).iter().map(|x| cmp_num(*op, *x, *c)).collect(),
            BoolIr::NumCmp(op, l, r) => {
                let a = self.num(l, sel);
                let b = self.num(r, sel);
                a.iter().zip(b.iter()).map(|(x, y)| cmp_num(*op, *x, *y)).collect()
            }
            BoolIr::StrCmp(op, l, r) => {
                let a = self.str(l, sel);
                let b = self.str(r, sel);
                a.iter()
                    .zip(b.iter())
                    .map(|(x, y)| match (x, y) {
                        (Some(x), Some(y)) => u8::from(compare(*op, *x, *y)),
                        _ => N,
                    })
                    .collect()
            }
            BoolIr::StrTest(s, idx) => match self.prog.tests.get(*idx) {
                Some(t) => self.str_test(s, t, *idx, sel, memo),
                None => vec![N; sel.len()],
            },
            BoolIr::NumIn(e, list, negated) => self
                .num(e, sel)
                .into_iter()
                .map(|x| if x.is_nan() { N } else { u8::from(list.contains(&x) != *negated) })
                .collect(),
            BoolIr::IsNull(e, negated) => {
                self.any_is_null(e, sel, memo).into_iter().map(|n| u8::from(n != *negated)).collect()
            }
            BoolIr::Not(e) => self.tri(e, sel, memo).into_iter().map(|x| if x == N { N } else { 1 - x }).collect(),
            // `and` decides on false, `or` on true; the right side runs only where the left did not.
            BoolIr::And(l, r) => self.short_circuit(l, r, F, sel, memo),
            BoolIr::Or(l, r) => self.short_circuit(l, r, T, sel, memo),
            BoolIr::Agg(i) => {
                let col = self.enc.agg_tri.get(*i).map_or(&[][..], Vec::as_slice);
                sel.iter().map(|&p| self.enc_of(p).and_then(|e| col.get(e)).copied().unwrap_or(N)).collect()
            }
        }
    }
}

impl<'a: 'x, 'x> Frame<'a, 'x> {
    /// Kleene `and` (`decides` = false) or `or` (`decides` = true) with a selection vector.
    fn short_circuit(&self, l: &BoolIr, r: &BoolIr, decides: u8, sel: &[u32], memo: &mut Memo) -> Vec<u8> {
        let mut a = self.tri(l, sel, memo);
        let rest: Vec<u32> = sel.iter().zip(a.iter()).filter(|(_, x)| **x != decides).map(|(p, _)| *p).collect();
        if rest.is_empty() {
            return a;
        }
        let other = 1 - decides;
        let mut b = self.tri(r, &rest, memo).into_iter();
        for x in a.iter_mut().filter(|x| **x != decides) {
            let y = b.next().unwrap_or(N);
            *x = if y == decides {
                decides
            } else if *x == other && y == other {
                other
            } else {
                N
            };
        }
        a
    }
}

impl Memo {
    /// Keeps a cache of recent strings in front of test `idx`'s answers.
    fn keep_recent(&mut self, idx: usize) {
        if self.tests.len() <= idx {
            self.tests.resize_with(idx + 1, TestMemo::default);
        }
        if let Some(m) = self.tests.get_mut(idx) {
            m.recent.get_or_insert_with(RecentOwned::new);
        }
    }
}

fn test_memo(t: &StrTest, idx: usize, v: &str, memo: &mut Memo) -> bool {
    if !t.costly() {
        return t.test(v);
    }
    if memo.tests.len() <= idx {
        memo.tests.resize_with(idx + 1, TestMemo::default);
    }
    let Some(m) = memo.tests.get_mut(idx) else { return t.test(v) };
    if let Some(r) = m.recent.as_ref().and_then(|c| c.get(v.as_bytes())) {
        return r;
    }
    let r = match m.seen.get(v) {
        Some(r) => *r,
        None => {
            let r = t.test(v);
            m.seen.insert(v.to_string(), r);
            r
        }
    };
    if let Some(c) = m.recent.as_mut() {
        c.put(v.as_bytes(), r);
    }
    r
}
