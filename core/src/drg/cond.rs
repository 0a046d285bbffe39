//! The condition language of `drg-scheme/1`: parsing a JSON condition into a compiled tree (code
//! lists resolved to bitsets over the scheme's code ids) and evaluating it on one case.
//!
//! Parsing reports every fault with its JSON path; evaluation never fails and never allocates.

use super::scheme::{ListKind, Lists};
use crate::error::{Error, Result};
use serde_json::Value;

/// Every primitive (and combinator) this module implements, by its JSON key.
pub const PRIMITIVES: &[&str] = &[
    "all",
    "any",
    "not",
    "always",
    "never",
    "main_dx_in",
    "any_dx_in",
    "secondary_dx_in",
    "main_proc_in",
    "any_proc_in",
    "secondary_proc_in",
    "main_proc_is_valid_or",
    "any_proc_is_valid_or",
    "no_valid_or_proc",
    "has_proc",
    "has_secondary_dx",
    "sex",
    "age_years_range",
    "age_days_range",
    "age_days_known",
    "birth_weight_range",
    "los_range",
    "discharge_status_in",
    "dept_in",
    "mcc",
    "cc",
    "cc_or_mcc",
    "multi_trauma_regions",
    "missing",
];

/// A numeric range: every given bound must hold.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Range {
    pub eq: Option<f64>,
    pub ge: Option<f64>,
    pub gt: Option<f64>,
    pub le: Option<f64>,
    pub lt: Option<f64>,
}

impl Range {
    #[inline]
    fn holds(&self, x: i64) -> bool {
        let x = x as f64;
        self.eq.is_none_or(|b| x == b)
            && self.ge.is_none_or(|b| x >= b)
            && self.gt.is_none_or(|b| x > b)
            && self.le.is_none_or(|b| x <= b)
            && self.lt.is_none_or(|b| x < b)
    }
}

/// A case field that `missing` can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Sex,
    AgeYears,
    AgeDays,
    BirthWeight,
    Los,
    DischargeStatus,
    Dept,
    Diagnoses,
    Procedures,
}

impl Field {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "sex" => Field::Sex,
            "age_years" => Field::AgeYears,
            "age_days" => Field::AgeDays,
            "birth_weight_g" => Field::BirthWeight,
            "los_days" => Field::Los,
            "discharge_status" => Field::DischargeStatus,
            "dept" => Field::Dept,
            "diagnoses" => Field::Diagnoses,
            "procedures" => Field::Procedures,
            _ => return None,
        })
    }
}

/// A compiled condition. List operands are indices into the scheme's lists.
#[derive(Debug, Clone)]
pub(crate) enum Cond {
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Not(Box<Cond>),
    Const(bool),
    MainDx(u32),
    AnyDx(u32),
    SecDx(u32),
    MainProc(u32),
    AnyProc(u32),
    SecProc(u32),
    MainProcOr,
    AnyProcOr,
    NoOrProc,
    HasProc,
    HasSecDx,
    Sex(i64),
    AgeYears(Range),
    AgeDays(Range),
    AgeDaysKnown,
    BirthWeight(Range),
    Los(Range),
    DischargeIn(Vec<String>),
    DeptIn(Vec<String>),
    Mcc,
    Cc,
    CcOrMcc,
    MultiTrauma { regions: Vec<u32>, min: usize },
    Missing(Field),
}

/// Parses conditions of one file, resolving list names against `lists`.
pub(crate) struct Parser<'l> {
    pub file: &'l str,
    pub lists: &'l Lists,
}

impl Parser<'_> {
    fn err(&self, path: &str, message: impl Into<String>) -> Error {
        Error::Scheme { file: self.file.into(), path: Some(path.into()), row: None, message: message.into() }
    }

    fn list(&self, v: &Value, path: &str, kind: ListKind) -> Result<u32> {
        let name = v.as_str().ok_or_else(|| self.err(path, format!("expected a code-list name, found {v}")))?;
        let (id, k) = self.lists.find(name).ok_or_else(|| self.err(path, format!("unknown code list {name:?}")))?;
        if k != kind {
            return Err(self
                .err(path, format!("code list {name:?} has kind {}, this primitive needs {}", k.name(), kind.name())));
        }
        Ok(id)
    }

    fn range(&self, v: &Value, path: &str) -> Result<Range> {
        let o = v.as_object().ok_or_else(|| self.err(path, format!("expected a range object, found {v}")))?;
        let mut r = Range::default();
        for (k, b) in o {
            let x =
                b.as_f64().ok_or_else(|| self.err(&format!("{path}.{k}"), format!("expected a number, found {b}")))?;
            let slot = match k.as_str() {
                "eq" => &mut r.eq,
                "ge" => &mut r.ge,
                "gt" => &mut r.gt,
                "le" => &mut r.le,
                "lt" => &mut r.lt,
                _ => return Err(self.err(&format!("{path}.{k}"), "unknown range bound; expected eq, ge, gt, le or lt")),
            };
            *slot = Some(x);
        }
        Ok(r)
    }

    fn truth(&self, v: &Value, path: &str) -> Result<()> {
        match v {
            Value::Bool(true) => Ok(()),
            _ => Err(self.err(path, format!("expected true, found {v}"))),
        }
    }

    fn strings(&self, v: &Value, path: &str) -> Result<Vec<String>> {
        v.as_array()
            .and_then(|a| a.iter().map(|x| x.as_str().map(str::to_string)).collect::<Option<Vec<_>>>())
            .ok_or_else(|| self.err(path, format!("expected an array of strings, found {v}")))
    }

    fn many(&self, v: &Value, path: &str) -> Result<Vec<Cond>> {
        let a = v.as_array().ok_or_else(|| self.err(path, format!("expected an array of conditions, found {v}")))?;
        a.iter().enumerate().map(|(i, c)| self.parse(c, &format!("{path}[{i}]"))).collect()
    }

    /// Parses the condition `v` found at JSON path `path`.
    pub fn parse(&self, v: &Value, path: &str) -> Result<Cond> {
        let o = v.as_object().ok_or_else(|| self.err(path, format!("expected a condition object, found {v}")))?;
        let mut it = o.iter();
        let (Some((key, arg)), None) = (it.next(), it.next()) else {
            return Err(self.err(path, format!("a condition has exactly one key, found {}", o.len())));
        };
        let p = format!("{path}.{key}");
        let p = p.as_str();
        Ok(match key.as_str() {
            "all" => Cond::All(self.many(arg, p)?),
            "any" => Cond::Any(self.many(arg, p)?),
            "not" => Cond::Not(Box::new(self.parse(arg, p)?)),
            "always" => self.truth(arg, p).map(|_| Cond::Const(true))?,
            "never" => self.truth(arg, p).map(|_| Cond::Const(false))?,
            "main_dx_in" => Cond::MainDx(self.list(arg, p, ListKind::Dx)?),
            "any_dx_in" => Cond::AnyDx(self.list(arg, p, ListKind::Dx)?),
            "secondary_dx_in" => Cond::SecDx(self.list(arg, p, ListKind::Dx)?),
            "main_proc_in" => Cond::MainProc(self.list(arg, p, ListKind::Proc)?),
            "any_proc_in" => Cond::AnyProc(self.list(arg, p, ListKind::Proc)?),
            "secondary_proc_in" => Cond::SecProc(self.list(arg, p, ListKind::Proc)?),
            "main_proc_is_valid_or" => self.truth(arg, p).map(|_| Cond::MainProcOr)?,
            "any_proc_is_valid_or" => self.truth(arg, p).map(|_| Cond::AnyProcOr)?,
            "no_valid_or_proc" => self.truth(arg, p).map(|_| Cond::NoOrProc)?,
            "has_proc" => self.truth(arg, p).map(|_| Cond::HasProc)?,
            "has_secondary_dx" => self.truth(arg, p).map(|_| Cond::HasSecDx)?,
            "age_days_known" => self.truth(arg, p).map(|_| Cond::AgeDaysKnown)?,
            "mcc" => self.truth(arg, p).map(|_| Cond::Mcc)?,
            "cc" => self.truth(arg, p).map(|_| Cond::Cc)?,
            "cc_or_mcc" => self.truth(arg, p).map(|_| Cond::CcOrMcc)?,
            "sex" => match arg.as_i64() {
                Some(s @ (1 | 2)) => Cond::Sex(s),
                _ => return Err(self.err(p, format!("expected 1 or 2, found {arg}"))),
            },
            "age_years_range" => Cond::AgeYears(self.range(arg, p)?),
            "age_days_range" => Cond::AgeDays(self.range(arg, p)?),
            "birth_weight_range" => Cond::BirthWeight(self.range(arg, p)?),
            "los_range" => Cond::Los(self.range(arg, p)?),
            "discharge_status_in" => Cond::DischargeIn(self.strings(arg, p)?),
            "dept_in" => Cond::DeptIn(self.strings(arg, p)?),
            "missing" => {
                let f = arg.as_str().and_then(Field::parse).ok_or_else(|| {
                    self.err(p, format!("expected a case field (sex, age_years, age_days, birth_weight_g, los_days, discharge_status, dept, diagnoses, procedures), found {arg}"))
                })?;
                Cond::Missing(f)
            }
            "multi_trauma_regions" => {
                let regions = arg
                    .get("regions")
                    .and_then(Value::as_array)
                    .ok_or_else(|| self.err(p, "expected {\"regions\": [...], \"min_regions\": n}"))?;
                let regions = regions
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let rp = format!("{p}.regions[{i}].list");
                        self.list(r.get("list").unwrap_or(&Value::Null), &rp, ListKind::Dx)
                    })
                    .collect::<Result<Vec<_>>>()?;
                let min = arg
                    .get("min_regions")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| self.err(&format!("{p}.min_regions"), "expected a non-negative integer"))?;
                Cond::MultiTrauma { regions, min: usize::try_from(min).unwrap_or(usize::MAX) }
            }
            other => return Err(self.err(p, format!("unknown primitive {other:?}; known: {}", PRIMITIVES.join(", ")))),
        })
    }
}

/// The scalar fields of one case.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Vals<'c> {
    pub sex: Option<i64>,
    pub age_years: Option<i64>,
    pub age_days: Option<i64>,
    pub birth_weight: Option<i64>,
    pub los: Option<i64>,
    pub discharge: Option<&'c str>,
    pub dept: Option<&'c str>,
}

/// The values of one case a condition reads, with codes as scheme ids ([`super::scheme::NO_CODE`]
/// for a code the scheme does not know).
pub(crate) struct Ctx<'c> {
    pub v: Vals<'c>,
    pub dx: &'c [u32],
    pub px: &'c [u32],
    /// (has an MCC, has a CC) after exclusions.
    pub cc: (bool, bool),
}

impl Ctx<'_> {
    /// Evaluates `c`.
    pub fn eval(&self, c: &Cond, lists: &Lists, or_valid: &[u64]) -> bool {
        let main_dx = self.dx.first().copied();
        let main_px = self.px.first().copied();
        match c {
            Cond::All(v) => v.iter().all(|c| self.eval(c, lists, or_valid)),
            Cond::Any(v) => v.iter().any(|c| self.eval(c, lists, or_valid)),
            Cond::Not(c) => !self.eval(c, lists, or_valid),
            Cond::Const(b) => *b,
            Cond::MainDx(l) => main_dx.is_some_and(|d| lists.has(*l, d)),
            Cond::AnyDx(l) => self.dx.iter().any(|d| lists.has(*l, *d)),
            Cond::SecDx(l) => self.dx.iter().skip(1).any(|d| lists.has(*l, *d)),
            Cond::MainProc(l) => main_px.is_some_and(|p| lists.has(*l, p)),
            Cond::AnyProc(l) => self.px.iter().any(|p| lists.has(*l, *p)),
            Cond::SecProc(l) => self.px.iter().skip(1).any(|p| lists.has(*l, *p)),
            Cond::MainProcOr => main_px.is_some_and(|p| bit(or_valid, p)),
            Cond::AnyProcOr => self.px.iter().any(|p| bit(or_valid, *p)),
            Cond::NoOrProc => !self.px.iter().any(|p| bit(or_valid, *p)),
            Cond::HasProc => !self.px.is_empty(),
            Cond::HasSecDx => self.dx.len() >= 2,
            Cond::Sex(s) => self.v.sex == Some(*s),
            Cond::AgeYears(r) => self.v.age_years.is_some_and(|x| r.holds(x)),
            Cond::AgeDays(r) => self.v.age_days.is_some_and(|x| r.holds(x)),
            Cond::AgeDaysKnown => self.v.age_days.is_some(),
            Cond::BirthWeight(r) => self.v.birth_weight.is_some_and(|x| x != 0 && r.holds(x)),
            Cond::Los(r) => self.v.los.is_some_and(|x| r.holds(x)),
            Cond::DischargeIn(v) => self.v.discharge.is_some_and(|d| v.iter().any(|x| x == d)),
            Cond::DeptIn(v) => self.v.dept.is_some_and(|d| v.iter().any(|x| x == d)),
            Cond::Mcc => self.cc.0,
            Cond::Cc => self.cc.1,
            Cond::CcOrMcc => self.cc.0 || self.cc.1,
            Cond::MultiTrauma { regions, min } => {
                let hit = regions.iter().filter(|l| self.dx.iter().any(|d| lists.has(**l, *d))).count();
                hit >= *min
            }
            Cond::Missing(f) => match f {
                Field::Sex => self.v.sex.is_none(),
                Field::AgeYears => self.v.age_years.is_none(),
                Field::AgeDays => self.v.age_days.is_none(),
                Field::BirthWeight => self.v.birth_weight.is_none(),
                Field::Los => self.v.los.is_none(),
                Field::DischargeStatus => self.v.discharge.is_none(),
                Field::Dept => self.v.dept.is_none(),
                Field::Diagnoses => self.dx.is_empty(),
                Field::Procedures => self.px.is_empty(),
            },
        }
    }
}

/// Bit `i` of a bitset; false out of range (which is where unknown codes land).
#[inline]
pub(crate) fn bit(set: &[u64], i: u32) -> bool {
    set.get((i >> 6) as usize).is_some_and(|w| w & (1u64 << (i & 63)) != 0)
}
