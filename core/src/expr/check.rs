//! The type checker: a syntax tree to a typed program ([`Program`]) the columnar evaluator runs.
//!
//! Names are resolved here, once: `line.<col>` and `mdtrt.<col>` against the canonical claims
//! schema (an unknown column lists the known ones), `kp.<col>` against the rule's knowledge table,
//! and bare names inside an aggregate against the collection's table. Types are checked here, so
//! evaluation never meets a type it did not expect.

use super::parse::{BinOp, Coll, Kind, Node, Span};
use crate::claims::{columns, ClaimsTable, ColumnKind};
use crate::engine::codes::{same_bytes, same_str, FxHashMap};
use crate::knowledge::{KColumn, KnowledgeTable};
use regex_automata::meta::Regex;
use std::collections::HashSet;
use std::hash::BuildHasherDefault;

/// A set of strings with the engine's code hasher.
pub(crate) type StrSet = HashSet<String, BuildHasherDefault<crate::engine::codes::FxHasher>>;

/// The type of an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// true / false (or null).
    Bool,
    /// A number.
    Num,
    /// A string.
    Str,
    /// A point in time (wall-clock seconds).
    Time,
    /// A duration (seconds): the difference of two times, or a literal such as `7d`.
    Dur,
}

impl Type {
    fn name(self) -> &'static str {
        match self {
            Type::Bool => "a boolean",
            Type::Num => "a number",
            Type::Str => "a string",
            Type::Time => "a time",
            Type::Dur => "a duration",
        }
    }
    fn numeric(self) -> bool {
        matches!(self, Type::Num | Type::Time | Type::Dur)
    }
}

/// A claims column the program reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ColRef {
    pub table: ClaimsTable,
    pub name: &'static str,
    pub kind: ColumnKind,
}

/// Numeric functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumFn {
    Floor,
    Abs,
    Round,
    Coalesce,
    YearsBetween,
    DaysBetween,
    Day,
    Hour,
}

/// Numbers, times and durations: evaluated as `f64` with NaN for null.
#[derive(Debug)]
pub(crate) enum NumIr {
    Col(usize),
    Kp(usize),
    Agg(usize),
    Const(f64),
    Arith(BinOp, Box<NumIr>, Box<NumIr>),
    Neg(Box<NumIr>),
    Func(NumFn, Vec<NumIr>),
    If(Box<BoolIr>, Box<NumIr>, Box<NumIr>),
}

#[derive(Debug)]
pub(crate) enum StrIr {
    Col(usize),
    Kp(usize),
    Const(String),
    Coalesce(Vec<StrIr>),
    If(Box<BoolIr>, Box<StrIr>, Box<StrIr>),
}

/// A test of one string against constants, evaluated once per distinct string.
#[derive(Debug)]
pub(crate) enum StrTest {
    Eq(String),
    Ne(String),
    In(StrSet, bool),
    /// `~ "^literal"`: a pattern that is an anchored literal is a prefix test, with no automaton.
    Prefix(String),
    Match(Box<Regex>),
}

impl StrTest {
    /// Whether `s` passes; codes are compared inline (see [`same_str`]).
    #[inline]
    pub fn test(&self, s: &str) -> bool {
        match self {
            StrTest::Eq(c) => same_str(s, c),
            StrTest::Ne(c) => !same_str(s, c),
            StrTest::In(set, negated) => set.contains(s) != *negated,
            StrTest::Prefix(p) => s.as_bytes().get(..p.len()).is_some_and(|h| same_bytes(h, p.as_bytes())),
            StrTest::Match(re) => re.is_match(s),
        }
    }
    /// Whether the result is worth caching per distinct string (a regex search is).
    pub fn costly(&self) -> bool {
        matches!(self, StrTest::Match(_))
    }
}

#[derive(Debug)]
pub(crate) enum BoolIr {
    /// 0 false, 1 true, 2 null.
    Const(u8),
    NumCmp(BinOp, NumIr, NumIr),
    StrCmp(BinOp, StrIr, StrIr),
    StrTest(StrIr, usize),
    NumIn(NumIr, Vec<f64>, bool),
    IsNull(Box<AnyIr>, bool),
    And(Box<BoolIr>, Box<BoolIr>),
    Or(Box<BoolIr>, Box<BoolIr>),
    Not(Box<BoolIr>),
    Agg(usize),
}

#[derive(Debug)]
pub(crate) enum AnyIr {
    B(BoolIr),
    N(NumIr),
    S(StrIr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AggFn {
    Count,
    Sum,
    Min,
    Max,
    Avg,
    Any,
    All,
}

/// One aggregate, computed per encounter before the rule is judged.
#[derive(Debug)]
pub(crate) struct AggDef {
    pub func: AggFn,
    pub coll: Coll,
    pub filter: Option<BoolIr>,
    pub value: Option<AnyIr>,
}

/// A knowledge column the program reads, by knowledge row.
#[derive(Debug)]
pub(crate) enum KpCol {
    Num(Vec<f64>),
    Str(Vec<Option<String>>),
}

/// A compiled rule condition (and optional amount expression).
#[derive(Debug)]
pub(crate) struct Program {
    pub pred: BoolIr,
    pub amount: Option<NumIr>,
    pub cols: Vec<ColRef>,
    pub kp: Vec<KpCol>,
    pub tests: Vec<StrTest>,
    pub aggs: Vec<AggDef>,
    /// Whether the rule judges lines (it reads `line.` outside aggregates) or encounters.
    pub line_scope: bool,
}

/// A type or name error: where and what.
#[derive(Debug)]
pub(crate) struct TypeError {
    pub span: Span,
    pub message: String,
}

fn terr(span: Span, message: impl Into<String>) -> TypeError {
    TypeError { span, message: message.into() }
}

type R<T> = std::result::Result<T, TypeError>;

/// Compiles expressions of one rule, sharing column slots, tests and aggregates.
pub(crate) struct Checker<'k> {
    kt: Option<&'k KnowledgeTable>,
    code_sets: Option<&'k crate::engine::codes::CodeSets>,
    cols: Vec<ColRef>,
    kp: Vec<KpCol>,
    kp_names: FxHashMap<String, usize>,
    tests: Vec<StrTest>,
    aggs: Vec<AggDef>,
    in_agg: Option<Coll>,
    pub uses_line: bool,
}

enum Typed {
    B(BoolIr),
    N(NumIr, Type),
    S(StrIr),
}

impl Typed {
    fn ty(&self) -> Type {
        match self {
            Typed::B(_) => Type::Bool,
            Typed::N(_, t) => *t,
            Typed::S(_) => Type::Str,
        }
    }
    fn any(self) -> AnyIr {
        match self {
            Typed::B(b) => AnyIr::B(b),
            Typed::N(n, _) => AnyIr::N(n),
            Typed::S(s) => AnyIr::S(s),
        }
    }
}

fn coll_table(c: Coll) -> ClaimsTable {
    match c {
        Coll::Lines => ClaimsTable::FeeDetails,
        Coll::Diagnoses => ClaimsTable::Diagnoses,
        Coll::Operations => ClaimsTable::Operations,
    }
}

fn known_columns(t: ClaimsTable) -> String {
    columns(t).iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
}

impl<'k> Checker<'k> {
    pub fn new(kt: Option<&'k KnowledgeTable>, code_sets: Option<&'k crate::engine::codes::CodeSets>) -> Self {
        Checker {
            kt,
            code_sets,
            cols: Vec::new(),
            kp: Vec::new(),
            kp_names: FxHashMap::default(),
            tests: Vec::new(),
            aggs: Vec::new(),
            in_agg: None,
            uses_line: false,
        }
    }

    /// Checks a condition: it must be a boolean.
    pub fn predicate(&mut self, n: &Node) -> R<BoolIr> {
        match self.expr(n)? {
            Typed::B(b) => Ok(b),
            t => Err(terr(n.span, format!("a rule condition must be true or false, this is {}", t.ty().name()))),
        }
    }

    /// Checks an amount expression: it must be a number.
    pub fn number(&mut self, n: &Node) -> R<NumIr> {
        match self.expr(n)? {
            Typed::N(x, Type::Num) => Ok(x),
            t => Err(terr(n.span, format!("an amount must be a number, this is {}", t.ty().name()))),
        }
    }

    pub fn finish(self, pred: BoolIr, amount: Option<NumIr>) -> Program {
        Program {
            pred,
            amount,
            cols: self.cols,
            kp: self.kp,
            tests: self.tests,
            aggs: self.aggs,
            line_scope: self.uses_line,
        }
    }

    fn col(&mut self, table: ClaimsTable, name: &str, span: Span, shown: &str) -> R<Typed> {
        let spec = columns(table).iter().find(|c| c.name == name).ok_or_else(|| {
            terr(span, format!("unknown column {shown}; {} columns are: {}", table.name(), known_columns(table)))
        })?;
        let r = ColRef { table, name: spec.name, kind: spec.kind };
        let slot = match self.cols.iter().position(|c| *c == r) {
            Some(i) => i,
            None => {
                self.cols.push(r);
                self.cols.len() - 1
            }
        };
        Ok(match spec.kind {
            ColumnKind::Str => Typed::S(StrIr::Col(slot)),
            ColumnKind::Num => Typed::N(NumIr::Col(slot), Type::Num),
            ColumnKind::Time => Typed::N(NumIr::Col(slot), Type::Time),
        })
    }

    fn kp_col(&mut self, name: &str, span: Span) -> R<Typed> {
        let Some(kt) = self.kt else {
            return Err(terr(span, format!("kp.{name} reads the rule's knowledge table, and this rule has none")));
        };
        if self.in_agg.is_some() {
            return Err(terr(span, "an aggregate is computed per encounter; it cannot read kp.<column>"));
        }
        if let Some(&i) = self.kp_names.get(name) {
            return Ok(match self.kp.get(i) {
                Some(KpCol::Str(_)) => Typed::S(StrIr::Kp(i)),
                _ => Typed::N(NumIr::Kp(i), self.kp_type(kt, name)),
            });
        }
        let (col, ty) = match kt.column(name) {
            Some(KColumn::Num(v)) => (KpCol::Num(v.iter().map(|x| x.unwrap_or(f64::NAN)).collect()), Type::Num),
            Some(KColumn::Time(v)) => {
                (KpCol::Num(v.iter().map(|x| x.map_or(f64::NAN, |t| t as f64)).collect()), Type::Time)
            }
            Some(KColumn::Str(v)) => (KpCol::Str(v.clone()), Type::Str),
            None => {
                return Err(terr(
                    span,
                    format!(
                        "unknown column kp.{name}; knowledge table {:?} has: {}",
                        kt.name(),
                        kt.column_names().collect::<Vec<_>>().join(", ")
                    ),
                ))
            }
        };
        self.kp.push(col);
        let i = self.kp.len() - 1;
        self.kp_names.insert(name.to_string(), i);
        Ok(match ty {
            Type::Str => Typed::S(StrIr::Kp(i)),
            t => Typed::N(NumIr::Kp(i), t),
        })
    }

    fn kp_type(&self, kt: &KnowledgeTable, name: &str) -> Type {
        match kt.column(name) {
            Some(KColumn::Time(_)) => Type::Time,
            Some(KColumn::Str(_)) => Type::Str,
            _ => Type::Num,
        }
    }

    fn reference(&mut self, scope: Option<&str>, name: &str, span: Span) -> R<Typed> {
        match (scope, self.in_agg) {
            (Some("line"), None) => {
                self.uses_line = true;
                self.col(ClaimsTable::FeeDetails, name, span, &format!("line.{name}"))
            }
            (Some("line"), Some(_)) => Err(terr(
                span,
                "inside an aggregate, name the collection's columns without a prefix (det_item_fee_sumamt, not line.det_item_fee_sumamt)",
            )),
            (Some("mdtrt"), _) => self.col(ClaimsTable::Mdtrt, name, span, &format!("mdtrt.{name}")),
            (Some("kp"), _) => self.kp_col(name, span),
            (Some(other), _) => {
                Err(terr(span, format!("unknown prefix {other:?}; columns are line.<column>, mdtrt.<column> or kp.<column>")))
            }
            (None, Some(coll)) => {
                let table = coll_table(coll);
                let name = match (coll, name) {
                    (Coll::Diagnoses, "code") => "diag_code",
                    (Coll::Operations, "code") => "oprn_oprt_code",
                    (Coll::Lines, "code") => "hilist_code",
                    _ => name,
                };
                self.col(table, name, span, name)
            }
            (None, None) => Err(terr(
                span,
                format!("unknown name {name:?}; write line.{name}, mdtrt.{name} or kp.{name} (bare names are for columns inside an aggregate)"),
            )),
        }
    }

    fn expr(&mut self, n: &Node) -> R<Typed> {
        match &n.kind {
            Kind::Num(x) => Ok(Typed::N(NumIr::Const(*x), Type::Num)),
            Kind::Dur(x) => Ok(Typed::N(NumIr::Const(*x), Type::Dur)),
            Kind::Str(s) => Ok(Typed::S(StrIr::Const(s.clone()))),
            Kind::Bool(b) => Ok(Typed::B(BoolIr::Const(u8::from(*b)))),
            Kind::Ref { scope, name } => self.reference(scope.as_deref(), name, n.span),
            Kind::Neg(e) => match self.expr(e)? {
                Typed::N(x, t @ (Type::Num | Type::Dur)) => Ok(Typed::N(NumIr::Neg(Box::new(x)), t)),
                t => Err(terr(e.span, format!("cannot negate {}", t.ty().name()))),
            },
            Kind::Not(e) => match self.expr(e)? {
                Typed::B(b) => Ok(Typed::B(BoolIr::Not(Box::new(b)))),
                t => Err(terr(e.span, format!("`not` needs true or false, this is {}", t.ty().name()))),
            },
            Kind::Bin(op, l, r) => self.binary(*op, l, r, n.span),
            Kind::Match(l, r) => {
                let s = match self.expr(l)? {
                    Typed::S(s) => s,
                    t => return Err(terr(l.span, format!("`~` matches a string, this is {}", t.ty().name()))),
                };
                let Kind::Str(pat) = &r.kind else {
                    return Err(terr(r.span, "the pattern after `~` must be a string literal"));
                };
                let re = Regex::new(pat).map_err(|e| terr(r.span, format!("invalid pattern {pat:?}: {e}")))?;
                self.tests.push(match literal_prefix(pat) {
                    Some(p) => StrTest::Prefix(p.to_string()),
                    None => StrTest::Match(Box::new(re)),
                });
                Ok(Typed::B(BoolIr::StrTest(s, self.tests.len() - 1)))
            }
            Kind::In { e, list, negated } => {
                let lhs = self.expr(e)?;
                match lhs {
                    Typed::S(s) => {
                        let mut set = StrSet::default();
                        for item in list {
                            match &item.kind {
                                Kind::Str(v) => {
                                    set.insert(v.clone());
                                }
                                _ => return Err(terr(item.span, "the list after `in` holds string literals here")),
                            }
                        }
                        self.tests.push(StrTest::In(set, *negated));
                        Ok(Typed::B(BoolIr::StrTest(s, self.tests.len() - 1)))
                    }
                    Typed::N(x, Type::Num) => {
                        let mut v = Vec::new();
                        for item in list {
                            match &item.kind {
                                Kind::Num(a) => v.push(*a),
                                Kind::Neg(inner) if matches!(inner.kind, Kind::Num(_)) => {
                                    if let Kind::Num(a) = inner.kind {
                                        v.push(-a)
                                    }
                                }
                                _ => return Err(terr(item.span, "the list after `in` holds number literals here")),
                            }
                        }
                        Ok(Typed::B(BoolIr::NumIn(x, v, *negated)))
                    }
                    t => Err(terr(e.span, format!("`in` tests a string or a number, this is {}", t.ty().name()))),
                }
            }
            Kind::IsNull { e, negated } => {
                let t = self.expr(e)?;
                Ok(Typed::B(BoolIr::IsNull(Box::new(t.any()), *negated)))
            }
            Kind::Call { name, args } => self.call(name, args, n.span),
            Kind::Agg { func, coll, filter, value } => {
                self.aggregate(func, *coll, filter.as_deref(), value.as_deref(), n.span)
            }
        }
    }

    fn binary(&mut self, op: BinOp, l: &Node, r: &Node, span: Span) -> R<Typed> {
        let a = self.expr(l)?;
        let b = self.expr(r)?;
        let (ta, tb) = (a.ty(), b.ty());
        let mismatch = || {
            terr(
                span,
                format!(
                    "cannot apply {:?} to {} and {}{}",
                    op.symbol(),
                    ta.name(),
                    tb.name(),
                    if (ta == Type::Dur && tb == Type::Num) || (ta == Type::Num && tb == Type::Dur) {
                        "; write a duration with its unit, e.g. 7d or 24h"
                    } else {
                        ""
                    }
                ),
            )
        };
        match op {
            BinOp::And | BinOp::Or => match (a, b) {
                (Typed::B(x), Typed::B(y)) => Ok(Typed::B(if op == BinOp::And {
                    BoolIr::And(Box::new(x), Box::new(y))
                } else {
                    BoolIr::Or(Box::new(x), Box::new(y))
                })),
                _ => Err(mismatch()),
            },
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
                use Type::*;
                let out = match (op, ta, tb) {
                    (_, Num, Num) => Num,
                    (BinOp::Add, Time, Dur) | (BinOp::Add, Dur, Time) | (BinOp::Sub, Time, Dur) => Time,
                    (BinOp::Sub, Time, Time) => Dur,
                    (BinOp::Add | BinOp::Sub, Dur, Dur) => Dur,
                    (BinOp::Mul, Dur, Num) | (BinOp::Mul, Num, Dur) | (BinOp::Div, Dur, Num) => Dur,
                    (BinOp::Div, Dur, Dur) => Num,
                    _ => return Err(mismatch()),
                };
                match (a, b) {
                    // Constants fold at compile time.
                    (Typed::N(NumIr::Const(x), _), Typed::N(NumIr::Const(y), _)) => {
                        let z = match op {
                            BinOp::Add => x + y,
                            BinOp::Sub => x - y,
                            BinOp::Mul => x * y,
                            _ => x / y,
                        };
                        Ok(Typed::N(NumIr::Const(if z.is_finite() { z } else { f64::NAN }), out))
                    }
                    (Typed::N(x, _), Typed::N(y, _)) => Ok(Typed::N(NumIr::Arith(op, Box::new(x), Box::new(y)), out)),
                    _ => Err(mismatch()),
                }
            }
            _ => match (a, b) {
                (Typed::N(x, _), Typed::N(y, _)) if ta == tb && ta.numeric() => Ok(Typed::B(BoolIr::NumCmp(op, x, y))),
                (Typed::S(x), Typed::S(StrIr::Const(c))) if matches!(op, BinOp::Eq | BinOp::Ne) => {
                    self.tests.push(if op == BinOp::Eq { StrTest::Eq(c) } else { StrTest::Ne(c) });
                    Ok(Typed::B(BoolIr::StrTest(x, self.tests.len() - 1)))
                }
                (Typed::S(StrIr::Const(c)), Typed::S(y)) if matches!(op, BinOp::Eq | BinOp::Ne) => {
                    self.tests.push(if op == BinOp::Eq { StrTest::Eq(c) } else { StrTest::Ne(c) });
                    Ok(Typed::B(BoolIr::StrTest(y, self.tests.len() - 1)))
                }
                (Typed::S(x), Typed::S(y)) => Ok(Typed::B(BoolIr::StrCmp(op, x, y))),
                _ => Err(mismatch()),
            },
        }
    }

    fn call(&mut self, name: &str, args: &[Node], span: Span) -> R<Typed> {
        let arity = |n: usize| -> R<()> {
            if args.len() == n {
                Ok(())
            } else {
                Err(terr(span, format!("{name}(…) takes {n} argument(s), found {}", args.len())))
            }
        };
        match name {
            "date" => {
                arity(1)?;
                let a = args.first().ok_or_else(|| terr(span, "date needs an argument"))?;
                match &a.kind {
                    Kind::Str(s) => crate::time::parse_datetime(s)
                        .map(|t| Typed::N(NumIr::Const(t as f64), Type::Time))
                        .ok_or_else(|| terr(a.span, format!("expected a date YYYY-MM-DD[ HH:MM:SS], found {s:?}"))),
                    _ => Err(terr(a.span, "date(…) takes a string literal, e.g. date(\"2026-01-01\")")),
                }
            }
            "floor" | "abs" | "round" => {
                arity(1)?;
                let f = match name {
                    "floor" => NumFn::Floor,
                    "abs" => NumFn::Abs,
                    _ => NumFn::Round,
                };
                let (x, t) = self.num_arg(args, 0, name, &[Type::Num, Type::Dur])?;
                Ok(Typed::N(NumIr::Func(f, vec![x]), t))
            }
            "years_between" | "days_between" => {
                arity(2)?;
                let (a, _) = self.num_arg(args, 0, name, &[Type::Time])?;
                let (b, _) = self.num_arg(args, 1, name, &[Type::Time])?;
                let f = if name == "years_between" { NumFn::YearsBetween } else { NumFn::DaysBetween };
                Ok(Typed::N(NumIr::Func(f, vec![a, b]), Type::Num))
            }
            "day" => {
                arity(1)?;
                let (a, _) = self.num_arg(args, 0, name, &[Type::Time])?;
                Ok(Typed::N(NumIr::Func(NumFn::Day, vec![a]), Type::Time))
            }
            "hour" => {
                arity(1)?;
                let (a, _) = self.num_arg(args, 0, name, &[Type::Time])?;
                Ok(Typed::N(NumIr::Func(NumFn::Hour, vec![a]), Type::Num))
            }
            "in_set" => {
                arity(2)?;
                let (Some(a), Some(b)) = (args.first(), args.get(1)) else {
                    return Err(terr(span, "in_set(…) takes 2 arguments"));
                };
                let s = match self.expr(a)? {
                    Typed::S(s) => s,
                    t => return Err(terr(a.span, format!("in_set(…) tests a string, this is {}", t.ty().name()))),
                };
                let Kind::Str(name) = &b.kind else {
                    return Err(terr(b.span, "in_set(…) takes the name of a code set of the pack, as a string literal"));
                };
                let sets = self.code_sets.filter(|c| !c.names().is_empty());
                let Some(i) = sets.and_then(|c| c.index(name)) else {
                    let known = sets.map_or("(none)".to_string(), |c| c.names().join(", "));
                    return Err(terr(b.span, format!("unknown code set {name:?}; the pack's code_sets are: {known}")));
                };
                let pats: Vec<String> =
                    sets.map_or(&[][..], |c| c.patterns(i)).iter().map(|p| format!("^(?:{p})")).collect();
                let re = Regex::new_many(&pats).map_err(|e| terr(b.span, format!("code set {name:?}: {e}")))?;
                self.tests.push(StrTest::Match(Box::new(re)));
                Ok(Typed::B(BoolIr::StrTest(s, self.tests.len() - 1)))
            }
            "if" => {
                arity(3)?;
                let mut it = args.iter();
                let (Some(c), Some(a), Some(b)) = (it.next(), it.next(), it.next()) else {
                    return Err(terr(span, "if(…) takes 3 arguments"));
                };
                let cond = match self.expr(c)? {
                    Typed::B(x) => x,
                    t => return Err(terr(c.span, format!("if(…) needs a condition first, this is {}", t.ty().name()))),
                };
                match (self.expr(a)?, self.expr(b)?) {
                    (Typed::N(x, tx), Typed::N(y, ty)) if tx == ty => {
                        Ok(Typed::N(NumIr::If(Box::new(cond), Box::new(x), Box::new(y)), tx))
                    }
                    (Typed::S(x), Typed::S(y)) => Ok(Typed::S(StrIr::If(Box::new(cond), Box::new(x), Box::new(y)))),
                    (x, y) => Err(terr(
                        b.span,
                        format!("if(…) branches must have one type (number, time, duration or string): {} and {}", x.ty().name(), y.ty().name()),
                    )),
                }
            }
            "coalesce" => {
                if args.len() < 2 {
                    return Err(terr(span, "coalesce(…) takes two or more arguments"));
                }
                let typed: Vec<Typed> = args.iter().map(|a| self.expr(a)).collect::<R<_>>()?;
                let t0 = typed.first().map_or(Type::Num, Typed::ty);
                for (t, a) in typed.iter().zip(args) {
                    if t.ty() != t0 {
                        return Err(terr(
                            a.span,
                            format!("coalesce(…) arguments must have one type: {} and {}", t0.name(), t.ty().name()),
                        ));
                    }
                }
                match t0 {
                    Type::Str => Ok(Typed::S(StrIr::Coalesce(
                        typed.into_iter().filter_map(|t| if let Typed::S(s) = t { Some(s) } else { None }).collect(),
                    ))),
                    Type::Bool => Err(terr(span, "coalesce(…) of truth values: write a or b")),
                    t => Ok(Typed::N(
                        NumIr::Func(
                            NumFn::Coalesce,
                            typed.into_iter().filter_map(|t| if let Typed::N(x, _) = t { Some(x) } else { None }).collect(),
                        ),
                        t,
                    )),
                }
            }
            _ => Err(terr(
                span,
                format!("unknown function {name:?}; functions are: count, sum, min, max, avg, any, all, if, coalesce, in_set, date, day, hour, years_between, days_between, floor, round, abs"),
            )),
        }
    }

    fn num_arg(&mut self, args: &[Node], i: usize, name: &str, allowed: &[Type]) -> R<(NumIr, Type)> {
        let a = args.get(i).ok_or_else(|| terr((0, 0), format!("{name}: missing argument")))?;
        match self.expr(a)? {
            Typed::N(x, t) if allowed.contains(&t) => Ok((x, t)),
            t => Err(terr(
                a.span,
                format!(
                    "{name}(…) argument {} must be {}, this is {}",
                    i + 1,
                    allowed.iter().map(|t| t.name()).collect::<Vec<_>>().join(" or "),
                    t.ty().name()
                ),
            )),
        }
    }

    fn aggregate(
        &mut self,
        func: &str,
        coll: Coll,
        filter: Option<&Node>,
        value: Option<&Node>,
        span: Span,
    ) -> R<Typed> {
        if self.in_agg.is_some() {
            return Err(terr(span, "aggregates cannot be nested"));
        }
        self.in_agg = Some(coll);
        let res = self.aggregate_body(func, filter, value, span);
        self.in_agg = None;
        res
    }

    fn aggregate_body(&mut self, func: &str, filter: Option<&Node>, value: Option<&Node>, span: Span) -> R<Typed> {
        let coll = self.in_agg.unwrap_or(Coll::Lines);
        let f = match func {
            "count" => AggFn::Count,
            "sum" => AggFn::Sum,
            "min" => AggFn::Min,
            "max" => AggFn::Max,
            "avg" => AggFn::Avg,
            "any" => AggFn::Any,
            _ => AggFn::All,
        };
        let filter = match filter {
            None => None,
            Some(n) => match self.expr(n)? {
                Typed::B(b) => Some(b),
                t => return Err(terr(n.span, format!("`where` needs true or false, this is {}", t.ty().name()))),
            },
        };
        let (value, ty) = match (f, value) {
            (AggFn::Count, Some(v)) => {
                return Err(terr(v.span, "count(…) takes no value: write count(lines where …)"));
            }
            (AggFn::Count, None) => (None, Type::Num),
            (AggFn::Any | AggFn::All, None) if filter.is_some() && f == AggFn::Any => (None, Type::Bool),
            (AggFn::Any | AggFn::All, None) => {
                return Err(terr(span, format!("{func}(…) needs a condition: {func}(diagnoses, code ~ \"^C\")")));
            }
            (AggFn::Any | AggFn::All, Some(v)) => match self.expr(v)? {
                Typed::B(b) => (Some(AnyIr::B(b)), Type::Bool),
                t => return Err(terr(v.span, format!("{func}(…) needs a condition, this is {}", t.ty().name()))),
            },
            (_, None) => {
                return Err(terr(span, format!("{func}(…) needs a value: {func}(lines where …, det_item_fee_sumamt)")));
            }
            (_, Some(v)) => match self.expr(v)? {
                Typed::N(x, t) if f == AggFn::Sum || f == AggFn::Avg => {
                    if t == Type::Time {
                        return Err(terr(v.span, format!("cannot {func} times")));
                    }
                    (Some(AnyIr::N(x)), t)
                }
                Typed::N(x, t) => (Some(AnyIr::N(x)), t),
                t => return Err(terr(v.span, format!("{func}(…) needs a number, this is {}", t.ty().name()))),
            },
        };
        self.aggs.push(AggDef { func: f, coll, filter, value });
        let slot = self.aggs.len() - 1;
        Ok(match ty {
            Type::Bool => Typed::B(BoolIr::Agg(slot)),
            t => Typed::N(NumIr::Agg(slot), t),
        })
    }
}

/// The literal of a pattern `^literal` whose literal has no regex syntax (letters, digits, `_`,
/// `-` and non-ASCII characters only, as in `^XL01` or `^T0017`), else `None`.
fn literal_prefix(pat: &str) -> Option<&str> {
    let lit = pat.strip_prefix('^')?;
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-' || !c.is_ascii();
    (!lit.is_empty() && lit.chars().all(plain)).then_some(lit)
}

#[cfg(test)]
mod prefix_tests {
    use super::*;

    #[test]
    fn only_anchored_plain_literals_are_prefixes() {
        assert_eq!(literal_prefix("^XL01"), Some("XL01"));
        assert_eq!(literal_prefix("^T0017-中"), Some("T0017-中"));
        for p in ["XL01", "^", "^XL0.", "^(XL01)", "^XL01|XA", "^XL01$", "^X[0-9]", "^X\\d", "^XL?", "^X L"] {
            assert_eq!(literal_prefix(p), None, "{p}");
        }
        // The prefix test and the automaton agree on both sides of the literal.
        let re = Regex::new("^XL01").expect("valid");
        for s in ["XL01", "XL01AB", "XL0", "AXL01", "", "xl01", "XL01中"] {
            assert_eq!(StrTest::Prefix("XL01".into()).test(s), re.is_match(s), "{s}");
        }
    }
}
