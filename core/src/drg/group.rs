//! Grouping one case: code mapping, validation, code and sex checks, the CC/MCC exclusion rule,
//! and the MDC → ADRG rule → DRG split walk of `drg-scheme/1` (see the scheme README).
//!
//! The walk works on code ids and never allocates unless a trace is asked for.

use super::cond::{Ctx, Vals};
use super::scheme::{DrgScheme, NO_CODE, NO_TABLE};
use smallvec::SmallVec;

/// One case as the grouper sees it (a row of a 医保结算清单: patient, stay, coded diagnoses and
/// procedures).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Case<'c> {
    /// 1 male, 2 female (national dictionary `gend`).
    pub sex: Option<i64>,
    /// Age in whole years.
    pub age_years: Option<i64>,
    /// Age in days (needed when `age_years` is 0).
    pub age_days: Option<i64>,
    /// Birth weight in grams (newborns); 0 counts as "not given" where weight is tested.
    pub birth_weight_g: Option<i64>,
    /// Length of stay in days.
    pub los_days: Option<i64>,
    /// 离院方式.
    pub discharge_status: Option<&'c str>,
    /// Department.
    pub dept: Option<&'c str>,
    /// Diagnosis codes, the principal first.
    pub diagnoses: Vec<&'c str>,
    /// Procedure codes, the principal first (may be empty).
    pub procedures: Vec<&'c str>,
}

/// A case as text, in the OpenDRG `input.txt` convention of the format's README (the columns
/// `gender,age,ageDay,weight,inHospitalTime,leavingType,dept,ICD10_DRGS,ICD9_DRGS`): an empty
/// field is missing, lists are separated by `|`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextCase<'c> {
    /// `gender`.
    pub sex: &'c str,
    /// `age`.
    pub age_years: &'c str,
    /// `ageDay`.
    pub age_days: &'c str,
    /// `weight` (grams).
    pub birth_weight_g: &'c str,
    /// `inHospitalTime`.
    pub los_days: &'c str,
    /// `leavingType`.
    pub discharge_status: &'c str,
    /// `dept`.
    pub dept: &'c str,
    /// `ICD10_DRGS`.
    pub diagnoses: &'c str,
    /// `ICD9_DRGS`.
    pub procedures: &'c str,
}

impl<'c> TextCase<'c> {
    /// The typed case, or [`Reason::Unparsable`] naming the first numeric field that is not an
    /// integer (the format makes such a case `CHECK_FAILED`).
    ///
    /// ```
    /// use medaudit_core::drg::{Reason, TextCase};
    /// let t = TextCase { sex: "1", age_years: "65", diagnoses: "C61.x00|Z98.800x210", ..Default::default() };
    /// let c = t.parse().unwrap();
    /// assert_eq!((c.sex, c.diagnoses.len(), c.procedures.len()), (Some(1), 2, 0));
    /// assert_eq!(TextCase { age_years: "6x", ..t }.parse(), Err(Reason::Unparsable { field: "age_years" }));
    /// ```
    pub fn parse(&self) -> Result<Case<'c>, Reason<'static>> {
        let num = |s: &str, field: &'static str| -> Result<Option<i64>, Reason<'static>> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            s.parse().map(Some).map_err(|_| Reason::Unparsable { field })
        };
        let text = |s: &'c str| Some(s.trim()).filter(|s| !s.is_empty());
        let list = |s: &'c str| s.split('|').map(str::trim).filter(|x| !x.is_empty()).collect();
        Ok(Case {
            sex: num(self.sex, "sex")?,
            age_years: num(self.age_years, "age_years")?,
            age_days: num(self.age_days, "age_days")?,
            birth_weight_g: num(self.birth_weight_g, "birth_weight_g")?,
            los_days: num(self.los_days, "los_days")?,
            discharge_status: text(self.discharge_status),
            dept: text(self.dept),
            diagnoses: list(self.diagnoses),
            procedures: list(self.procedures),
        })
    }
}

/// Options of a grouping call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupOptions {
    /// Translate codes through the scheme's `dx_map` / `proc_map` first; `None`: the scheme's
    /// `code_mapping.default_enabled`.
    pub code_mapping: Option<bool>,
    /// A diagnosis or procedure code the scheme does not know makes the case invalid
    /// (`unknown_dx` / `unknown_proc`) instead of silently matching no list. Default true.
    pub check_codes: bool,
    /// A principal diagnosis the scheme admits only for the other sex (from its MDC gates, e.g.
    /// MDCM male / MDCN female) makes the case invalid (`sex_conflict`). Default true.
    pub check_sex: bool,
}

impl Default for GroupOptions {
    fn default() -> Self {
        GroupOptions { code_mapping: None, check_codes: true, check_sex: true }
    }
}

impl GroupOptions {
    /// The reference semantics of the format (as OpenDRG groups): no code or sex checks, mapping
    /// as the scheme says.
    pub fn reference() -> Self {
        GroupOptions { code_mapping: None, check_codes: false, check_sex: false }
    }
}

/// The kind of a grouping result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Grouped into a DRG (or, where a scheme's rule says so, a bare ADRG).
    Grouped,
    /// Valid, but no MDC of the scheme took the case (`FAIL`, 0000).
    Ungroupable,
    /// Input not fit for grouping; see the [`Reason`].
    Invalid,
    /// An ambiguous group (歧义组, QY).
    Ambiguous,
}

impl Status {
    /// `grouped`, `ungroupable`, `invalid` or `ambiguous`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Grouped => "grouped",
            Status::Ungroupable => "ungroupable",
            Status::Invalid => "invalid",
            Status::Ambiguous => "ambiguous",
        }
    }
}

/// Why a case is invalid. Indices point into the case's diagnosis or procedure list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason<'s> {
    /// A validation rule of the scheme failed (`sex_missing`, `no_diagnosis`, …).
    Validation {
        /// The rule's id in `scheme.json`.
        id: &'s str,
    },
    /// A field held a value that is not a number (e.g. `gend` = "男").
    Unparsable {
        /// The input column or field.
        field: &'static str,
    },
    /// A diagnosis code the scheme does not know.
    UnknownDx {
        /// Position in the diagnosis list.
        index: usize,
    },
    /// A procedure code the scheme does not know.
    UnknownProc {
        /// Position in the procedure list.
        index: usize,
    },
    /// With code mapping on: a diagnosis with no row in `dx_map`.
    UnmappedDx {
        /// Position in the diagnosis list.
        index: usize,
    },
    /// With code mapping on: a procedure with no row in `proc_map`.
    UnmappedProc {
        /// Position in the procedure list.
        index: usize,
    },
    /// The principal diagnosis is admitted only for the other sex.
    SexConflict,
    /// More than one diagnosis row is flagged principal (`maindiag_flag`).
    MultiplePrincipalDx,
}

impl Reason<'_> {
    /// A stable code: the validation rule id, or `unparsable_<field>`, `unknown_dx`, `unknown_proc`,
    /// `unmapped_dx`, `unmapped_proc`, `sex_conflict`, `multiple_principal_dx`.
    pub fn code(&self) -> String {
        match self {
            Reason::Validation { id } => (*id).to_string(),
            Reason::Unparsable { field } => format!("unparsable_{field}"),
            Reason::UnknownDx { .. } => "unknown_dx".into(),
            Reason::UnknownProc { .. } => "unknown_proc".into(),
            Reason::UnmappedDx { .. } => "unmapped_dx".into(),
            Reason::UnmappedProc { .. } => "unmapped_proc".into(),
            Reason::SexConflict => "sex_conflict".into(),
            Reason::MultiplePrincipalDx => "multiple_principal_dx".into(),
        }
    }

    /// A sentence for people, naming the code at fault from `case`'s lists.
    pub fn message(&self, diagnoses: &[&str], procedures: &[&str]) -> String {
        let dx = |i: &usize| diagnoses.get(*i).copied().unwrap_or("(null)");
        let px = |i: &usize| procedures.get(*i).copied().unwrap_or("(null)");
        match self {
            Reason::Validation { id } => format!("validation rule {id:?} failed"),
            Reason::Unparsable { field } => format!("{field} is not a number"),
            Reason::UnknownDx { index } => {
                format!("diagnosis {:?} (position {index}) is not a code of the scheme", dx(index))
            }
            Reason::UnknownProc { index } => {
                format!("procedure {:?} (position {index}) is not a code of the scheme", px(index))
            }
            Reason::UnmappedDx { index } => {
                format!("diagnosis {:?} (position {index}) has no row in dx_map", dx(index))
            }
            Reason::UnmappedProc { index } => {
                format!("procedure {:?} (position {index}) has no row in proc_map", px(index))
            }
            Reason::SexConflict => {
                format!("principal diagnosis {:?} is admitted only for the other sex", diagnoses.first().unwrap_or(&""))
            }
            Reason::MultiplePrincipalDx => "more than one diagnosis is flagged principal".into(),
        }
    }
}

/// The result of grouping one case. The code fields follow the format: a case that is not grouped
/// carries the scheme's placeholders (`0000`, `00`, `0000`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grouping<'s> {
    /// The kind of result.
    pub status: Status,
    /// The scheme's status name (`SUCCESS`, `FAIL`, `CHECK_FAILED`, `ZD_NOT_MAPPING`, `SS_NOT_MAPPING`, `QY`).
    pub status_code: &'s str,
    /// Why the case is invalid (status [`Status::Invalid`] only).
    pub reason: Option<Reason<'s>>,
    /// MDC code (`MDCB`).
    pub mdc: &'s str,
    /// ADRG code (`BB2`).
    pub adrg: &'s str,
    /// DRG code (`BB21`), or the bare ADRG where a rule's splits all fail and the scheme says so.
    pub drg: &'s str,
    /// The ADRG rule that matched (`AH1_2` in schemes with several rules per ADRG).
    pub rule: &'s str,
    /// The DRG's name, when the scheme gives one.
    pub drg_name: Option<&'s str>,
}

/// A CC or MCC secondary diagnosis and what the exclusion rule did with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CcMark {
    /// The diagnosis code (after mapping).
    pub code: String,
    /// `MCC` or `CC`.
    pub kind: &'static str,
    /// Its exclusion table id.
    pub table: String,
}

/// One MDC the walk tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MdcStep {
    /// MDC code.
    pub mdc: String,
    /// Whether its gate held.
    pub gate: bool,
    /// The ADRG rule that matched in it, if any.
    pub rule: Option<String>,
}

/// Why a case fell where it did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// Codes translated by the code maps: (input, grouper code).
    pub mapped: Vec<(String, String)>,
    /// The MDCs tried, in order.
    pub mdcs: Vec<MdcStep>,
    /// The DRG split that held (`"mcc"`-style text of its index and code), or `otherwise`.
    pub split: Option<String>,
    /// CC/MCC secondary diagnoses that counted.
    pub counted: Vec<CcMark>,
    /// CC/MCC secondary diagnoses cancelled by the principal diagnosis's exclusion table.
    pub excluded: Vec<CcMark>,
}

impl Trace {
    /// One line for people: `MDCA:no MDCB:yes→BB2 split BB21; MCC I50.900x002 (table 12); excluded CC …`.
    pub fn summary(&self) -> String {
        let mut s = self
            .mdcs
            .iter()
            .map(|m| match (&m.gate, &m.rule) {
                (false, _) => format!("{}:no", m.mdc),
                (true, Some(r)) => format!("{}:yes→{r}", m.mdc),
                (true, None) => format!("{}:yes→none", m.mdc),
            })
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(sp) = &self.split {
            s.push_str(&format!(" split {sp}"));
        }
        for c in &self.counted {
            s.push_str(&format!("; {} {} (table {})", c.kind, c.code, c.table));
        }
        for c in &self.excluded {
            s.push_str(&format!("; excluded {} {} (table {})", c.kind, c.code, c.table));
        }
        s
    }
}

/// What the walk reports as it goes; the no-op `()` keeps the fast path free of allocation.
pub(crate) trait Rec {
    fn mdc(&mut self, _s: &DrgScheme, _m: usize, _gate: bool) {}
    fn rule(&mut self, _s: &DrgScheme, _m: usize, _r: usize) {}
    fn split(&mut self, _s: &DrgScheme, _m: usize, _r: usize, _d: Option<usize>) {}
    fn cc(&mut self, _s: &DrgScheme, _dx: u32, _mcc: bool, _table: u32, _counted: bool) {}
    fn mapped(&mut self, _from: &str, _to: &str) {}
}

impl Rec for () {}

impl Rec for Trace {
    fn mdc(&mut self, s: &DrgScheme, m: usize, gate: bool) {
        let mdc = s.mdcs.get(m).map_or("", |x| x.code.as_str()).to_string();
        self.mdcs.push(MdcStep { mdc, gate, rule: None });
    }
    fn rule(&mut self, s: &DrgScheme, m: usize, r: usize) {
        let id = s.mdcs.get(m).and_then(|x| x.rules.get(r)).map(|x| x.id.clone());
        if let Some(last) = self.mdcs.last_mut() {
            last.rule = id;
        }
    }
    fn split(&mut self, s: &DrgScheme, m: usize, r: usize, d: Option<usize>) {
        let rule = s.mdcs.get(m).and_then(|x| x.rules.get(r));
        self.split = Some(match d {
            Some(d) => format!("#{d} {}", rule.and_then(|x| x.drgs.get(d)).map_or("", |x| x.code.as_str())),
            None => format!("otherwise {}", rule.and_then(|x| x.otherwise.as_deref()).unwrap_or("")),
        });
    }
    fn cc(&mut self, s: &DrgScheme, dx: u32, mcc: bool, table: u32, counted: bool) {
        let m = CcMark {
            code: s.dx.code(dx).to_string(),
            kind: if mcc { "MCC" } else { "CC" },
            table: s.table_names.get(table as usize).cloned().unwrap_or_default(),
        };
        if counted {
            self.counted.push(m);
        } else {
            self.excluded.push(m);
        }
    }
    fn mapped(&mut self, from: &str, to: &str) {
        self.mapped.push((from.to_string(), to.to_string()));
    }
}

/// A case with codes as scheme ids.
pub(crate) struct IdCase<'c> {
    pub v: Vals<'c>,
    pub dx: &'c [u32],
    pub px: &'c [u32],
    /// A field that did not parse, or a structural fault found while reading the case.
    pub fault: Option<Reason<'static>>,
}

/// Where the walk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome<'s> {
    Invalid { status: &'s str, reason: Reason<'s> },
    NoMdc,
    Grouped { mdc: u16, rule: u16, drg: Option<u16> },
    Qy { mdc: u16 },
}

const CHECK_FAILED: &str = "CHECK_FAILED";

impl DrgScheme {
    /// Groups one case.
    ///
    /// ```
    /// # use medaudit_core::drg::{Case, DrgScheme, GroupOptions, Status};
    /// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/chs-drg-1.1");
    /// # if !std::path::Path::new(dir).exists() { return Ok(()); }
    /// # let json = std::fs::read_to_string(format!("{dir}/scheme.json")).unwrap();
    /// # let mut files = std::collections::BTreeMap::new();
    /// # for f in DrgScheme::declared_files(&json)? {
    /// #     files.insert(f.clone(), std::fs::read_to_string(format!("{dir}/{f}")).unwrap());
    /// # }
    /// # let scheme = &DrgScheme::load(&json, &files)?;
    /// let case = Case { sex: Some(1), age_years: Some(65), diagnoses: vec!["C61.x00", "Z98.800x210"],
    ///                   procedures: vec!["60.5x02"], ..Default::default() };
    /// let g = scheme.group(&case, &GroupOptions::default());
    /// assert_eq!((g.status, g.drg), (Status::Grouped, "MA19"));
    /// let (_, trace) = scheme.group_traced(&case, &GroupOptions::default());
    /// assert!(trace.summary().contains("MDCM:yes→MA1"));
    /// # Ok::<(), medaudit_core::Error>(())
    /// ```
    pub fn group<'s>(&'s self, case: &Case, opts: &GroupOptions) -> Grouping<'s> {
        self.group_case(case, opts, &mut ())
    }

    /// Groups one case and says why.
    pub fn group_traced<'s>(&'s self, case: &Case, opts: &GroupOptions) -> (Grouping<'s>, Trace) {
        let mut t = Trace::default();
        let g = self.group_case(case, opts, &mut t);
        (g, t)
    }

    fn group_case<'s>(&'s self, case: &Case, opts: &GroupOptions, rec: &mut impl Rec) -> Grouping<'s> {
        let dx: SmallVec<[u32; 16]> = case.diagnoses.iter().map(|c| self.dx.get(c)).collect();
        let px: SmallVec<[u32; 16]> = case.procedures.iter().map(|c| self.px.get(c)).collect();
        let ic = IdCase {
            v: Vals {
                sex: case.sex,
                age_years: case.age_years,
                age_days: case.age_days,
                birth_weight: case.birth_weight_g,
                los: case.los_days,
                discharge: case.discharge_status,
                dept: case.dept,
            },
            dx: &dx,
            px: &px,
            fault: None,
        };
        self.grouping(self.walk(&ic, opts, rec))
    }

    /// The public result of an outcome.
    pub(crate) fn grouping<'s>(&'s self, o: Outcome<'s>) -> Grouping<'s> {
        let none = |status, status_code, reason| Grouping {
            status,
            status_code,
            reason,
            mdc: &self.no_mdc.mdc,
            adrg: &self.no_mdc.adrg,
            drg: &self.no_mdc.drg,
            rule: "",
            drg_name: None,
        };
        match o {
            Outcome::Invalid { status, reason } => none(Status::Invalid, status, Some(reason)),
            Outcome::NoMdc => none(Status::Ungroupable, &self.no_mdc.status, None),
            Outcome::Qy { mdc } => {
                let m = self.mdcs.get(mdc as usize);
                let drg = m.and_then(|m| m.qy.as_ref()).map_or("", |q| q.result.as_str());
                Grouping {
                    status: Status::Ambiguous,
                    status_code: "QY",
                    reason: None,
                    mdc: m.map_or("", |m| m.code.as_str()),
                    adrg: "QY",
                    drg,
                    rule: "",
                    drg_name: self.drg_name(drg),
                }
            }
            Outcome::Grouped { mdc, rule, drg } => {
                let m = self.mdcs.get(mdc as usize);
                let r = m.and_then(|m| m.rules.get(rule as usize));
                let split = drg.and_then(|d| r.and_then(|r| r.drgs.get(d as usize)));
                let code = match split {
                    Some(d) => d.code.as_str(),
                    None => r.and_then(|r| r.otherwise.as_deref()).unwrap_or(""),
                };
                Grouping {
                    status: Status::Grouped,
                    status_code: "SUCCESS",
                    reason: None,
                    mdc: m.map_or("", |m| m.code.as_str()),
                    adrg: r.map_or("", |r| r.adrg.as_str()),
                    drg: code,
                    rule: r.map_or("", |r| r.id.as_str()),
                    drg_name: split.map(|d| d.name.as_str()).filter(|n| !n.is_empty()).or_else(|| self.drg_name(code)),
                }
            }
        }
    }

    /// The grouping walk on ids.
    pub(crate) fn walk<'s>(&'s self, c: &IdCase, opts: &GroupOptions, rec: &mut impl Rec) -> Outcome<'s> {
        if let Some(reason) = c.fault {
            return Outcome::Invalid { status: CHECK_FAILED, reason };
        }
        let mapping = opts.code_mapping.unwrap_or(self.mapping_default);
        let mut mdx: SmallVec<[u32; 16]> = SmallVec::new();
        let mut mpx: SmallVec<[u32; 16]> = SmallVec::new();
        let (dx, px): (&[u32], &[u32]) = if mapping {
            for (i, d) in c.dx.iter().enumerate() {
                match self.dx_map.get(*d as usize).copied().filter(|t| *t != NO_CODE) {
                    Some(t) => {
                        rec.mapped(self.dx.code(*d), self.dx.code(t));
                        mdx.push(t)
                    }
                    None => {
                        return Outcome::Invalid {
                            status: &self.unmapped_dx_status,
                            reason: Reason::UnmappedDx { index: i },
                        }
                    }
                }
            }
            for (i, p) in c.px.iter().enumerate() {
                match self.px_map.get(*p as usize).copied().filter(|t| *t != NO_CODE) {
                    Some(t) => {
                        rec.mapped(self.px.code(*p), self.px.code(t));
                        mpx.push(t)
                    }
                    None => {
                        return Outcome::Invalid {
                            status: &self.unmapped_proc_status,
                            reason: Reason::UnmappedProc { index: i },
                        }
                    }
                }
            }
            (&mdx, &mpx)
        } else {
            (c.dx, c.px)
        };
        let mut ctx = Ctx { v: c.v, dx, px, cc: (false, false) };
        let (lists, orv) = (&self.lists, self.or_valid.as_slice());
        for v in &self.validation {
            if ctx.eval(&v.fail_if, lists, orv) {
                return Outcome::Invalid { status: &v.status, reason: Reason::Validation { id: &v.id } };
            }
        }
        if opts.check_codes && !mapping {
            if let Some(index) = dx.iter().position(|d| !super::cond::bit(&self.dx_known, *d)) {
                return Outcome::Invalid { status: CHECK_FAILED, reason: Reason::UnknownDx { index } };
            }
            if let Some(index) = px.iter().position(|p| !super::cond::bit(&self.px_known, *p)) {
                return Outcome::Invalid { status: CHECK_FAILED, reason: Reason::UnknownProc { index } };
            }
        }
        if opts.check_sex {
            let only = dx.first().and_then(|d| self.sex_only.get(*d as usize)).copied().unwrap_or(0);
            if only != 0 && ctx.v.sex.is_some_and(|s| s != i64::from(only)) {
                return Outcome::Invalid { status: CHECK_FAILED, reason: Reason::SexConflict };
            }
        }
        ctx.cc = self.cc_state(dx, rec);
        for (mi, m) in self.mdcs.iter().enumerate() {
            let gate = ctx.eval(&m.gate, lists, orv);
            rec.mdc(self, mi, gate);
            if !gate {
                continue;
            }
            for (ri, r) in m.rules.iter().enumerate() {
                if let Some(q) = &m.qy {
                    if q.position == ri && ctx.eval(&q.when, lists, orv) {
                        return Outcome::Qy { mdc: mi as u16 };
                    }
                }
                if !ctx.eval(&r.gate, lists, orv) {
                    continue;
                }
                if let Some(di) = r.drgs.iter().position(|d| ctx.eval(&d.when, lists, orv)) {
                    rec.rule(self, mi, ri);
                    rec.split(self, mi, ri, Some(di));
                    return Outcome::Grouped { mdc: mi as u16, rule: ri as u16, drg: Some(di as u16) };
                }
                if r.otherwise.is_some() {
                    rec.rule(self, mi, ri);
                    rec.split(self, mi, ri, None);
                    return Outcome::Grouped { mdc: mi as u16, rule: ri as u16, drg: None };
                }
            }
            if let Some(q) = &m.qy {
                if q.position == m.rules.len() && ctx.eval(&q.when, lists, orv) {
                    return Outcome::Qy { mdc: mi as u16 };
                }
            }
        }
        Outcome::NoMdc
    }

    /// Positions (in `dx`) of the secondary diagnoses that count as CC or MCC after the principal
    /// diagnosis's exclusions.
    pub(crate) fn counted_cc(&self, dx: &[u32]) -> SmallVec<[usize; 8]> {
        let Some((p, sec)) = dx.split_first() else { return SmallVec::new() };
        let pt = self.cce.get(*p as usize).copied().unwrap_or(NO_TABLE);
        let counts = |x: u32| {
            [&self.mcc, &self.cc].iter().any(|tables| {
                let t = tables.get(x as usize).copied().unwrap_or(NO_TABLE);
                t != NO_TABLE && (pt == NO_TABLE || pt != t)
            })
        };
        sec.iter().enumerate().filter(|(_, x)| counts(**x)).map(|(i, _)| i + 1).collect()
    }

    /// (has an MCC, has a CC) among the secondary diagnoses after the principal's exclusions.
    fn cc_state(&self, dx: &[u32], rec: &mut impl Rec) -> (bool, bool) {
        let Some((p, sec)) = dx.split_first() else { return (false, false) };
        let pt = self.cce.get(*p as usize).copied().unwrap_or(NO_TABLE);
        let (mut mcc, mut cc) = (false, false);
        for x in sec {
            for (is_mcc, tables) in [(true, &self.mcc), (false, &self.cc)] {
                let t = tables.get(*x as usize).copied().unwrap_or(NO_TABLE);
                if t == NO_TABLE {
                    continue;
                }
                let counted = pt == NO_TABLE || pt != t;
                rec.cc(self, *x, is_mcc, t, counted);
                if counted {
                    if is_mcc {
                        mcc = true;
                    } else {
                        cc = true;
                    }
                }
            }
        }
        (mcc, cc)
    }
}
