//! Patient-history templates: rules that judge one person's (or one trace code's) events across
//! encounters, in time order.
//!
//! | template | file | partition key | national rule class |
//! |---|---|---|---|
//! | `course` | [`course`] | psn_no | 超支付疗程 (distinct days of use, or span from first use) |
//! | `cycle_frequency` | [`cycle`] | psn_no | 周期内超频次 (more than K uses in any N-day window) |
//! | `days_supply` | [`supply`] | psn_no | 超量开药 (supply on hand plus the new fill above a limit) |
//! | `readmission` | [`readmission`] | psn_no | 分解住院 (re-admission at one facility within N days) |
//! | `frequent_visits` | [`frequent`] | psn_no | 频繁就诊/住院/购药 (more than K encounters in N days) |
//! | `overlapping_care` | [`overlap`] | psn_no | 住院期间门诊/购药/他院住院 |
//! | `trace_duplicate` | [`trace`] | trace code | 药品追溯码重复结算 (串换, 回流药, 疑似假药) |
//! | `identity_change` | [`identity`] | psn_no | 冒名就医 (sex or birth date changes for one psn_no) |
//!
//! Each template is a small state machine: [`Hist::step`] takes one event of one key (a person,
//! or a trace code) and that key's state, and says what it finds. The engine
//! ([`crate::history`]) feeds events sorted by (key, time, encounter, line), so a whole year in
//! one call and the same year streamed day by day give the same findings. The state a template
//! keeps is only what it needs to judge later events (see each file), never the lines seen.
//! This module never does IO and never reads claims itself.

pub(crate) mod course;
pub(crate) mod cycle;
pub(crate) mod frequent;
pub(crate) mod identity;
pub(crate) mod overlap;
pub(crate) mod readmission;
pub(crate) mod supply;
pub(crate) mod trace;

use super::{Compiled, Kernel, Params};
use crate::error::{Error, Result};
use crate::pack::Scene;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use std::collections::VecDeque;

/// How a history rule's claims must be partitioned so that per-partition runs equal one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PartitionKey {
    /// All encounters and lines of one insured person (`psn_no`) in one partition.
    Person,
    /// All lines that carry one drug trace code (`drug_trac_codg`) in one partition.
    TraceCode,
}

/// One event of a history rule: an encounter or a fee line (or one trace code of a line), as
/// read from the claims or from the event buffer (see `crate::history` `Events`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Ev<'a> {
    pub rule: u32,
    /// The partition key: psn_no, or the trace code.
    pub key: &'a str,
    /// Knowledge row for knowledge-keyed templates, else `NO_ROW`.
    pub sub: u32,
    /// Wall-clock seconds: fee_ocur_time for lines, begntime for encounters.
    pub time: i64,
    /// Stay end (endtime) for encounter events.
    pub end: Option<i64>,
    pub mdtrt_id: &'a str,
    pub sn: Option<&'a str>,
    /// psn_no when the key is not the person (trace events).
    pub psn: Option<&'a str>,
    pub fac: Option<&'a str>,
    pub code: Option<&'a str>,
    pub name: Option<&'a str>,
    pub dept: Option<&'a str>,
    /// Line amount (det_item_fee_sumamt; pric for trace events), or the encounter's
    /// medfee_sumamt.
    pub amount: Option<f64>,
    pub cnt: Option<f64>,
    pub prd_days: Option<f64>,
    /// Scene bits of the encounter.
    pub scene: u8,
    /// Main diagnosis code of the encounter (readmission only).
    pub diag: Option<&'a str>,
    /// dscg_31days_rinp_flag = 1 on this stay.
    pub planned: bool,
    /// Sex and birth date (identity only).
    pub gend: Option<&'a str>,
    pub brdy: Option<i64>,
}

impl Ev<'_> {
    /// The order events of one key are judged in, and the order of the streaming buffer.
    pub fn order_key(&self) -> (u32, &str, u32, i64, &str, Option<&str>) {
        (self.rule, self.key, self.sub, self.time, self.mdtrt_id, self.sn)
    }
}

/// An earlier inpatient stay, as readmission and overlap rules remember it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Stay {
    pub fac: Option<Box<str>>,
    pub begn: i64,
    pub end: i64,
    pub mdtrt: Box<str>,
    pub diag: Option<Box<str>>,
    pub planned: bool,
}

/// The last settlement of a trace code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Sale {
    pub fac: Option<Box<str>>,
    pub time: i64,
    pub sn: Option<Box<str>>,
}

/// The first sex and birth date recorded for a person, with the encounter of each; the birth
/// date's encounter is stored only when it is not the sex's (the usual case shares it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct First {
    pub gend: Option<Short>,
    pub gend_mdtrt: Option<Box<str>>,
    pub brdy: Option<i64>,
    pub brdy_mdtrt: Option<Box<str>>,
}

/// A short string (a dictionary code such as a sex) held inline when it fits in 14 bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Short {
    Inline(u8, [u8; 14]),
    Heap(Box<str>),
}

impl Short {
    pub fn new(s: &str) -> Self {
        let b = s.as_bytes();
        if b.len() <= 14 {
            let mut a = [0u8; 14];
            if let Some(dst) = a.get_mut(..b.len()) {
                dst.copy_from_slice(b);
            }
            Short::Inline(b.len() as u8, a)
        } else {
            Short::Heap(s.into())
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            Short::Inline(n, a) => {
                a.get(..usize::from(*n)).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or_default()
            }
            Short::Heap(s) => s,
        }
    }
}

/// The state of one (key, rule, knowledge row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum St {
    /// Distinct days of use so far, the last and the first day of use.
    Course { days: u32, last_day: i64, first_day: i64 },
    /// Days of the last `max_count` uses (or encounters).
    Window(VecDeque<i64>),
    /// Supply covered until this day (fractional days).
    Supply(f64),
    /// Stays still relevant (readmission: last per facility; overlap: not yet ended).
    Stays(Vec<Stay>),
    /// The last sale of a trace code (held compactly between events, see the history engine).
    Trace(Box<Sale>),
    /// The first known sex and birth date, with the encounter they came from.
    Identity(Box<First>),
}

impl St {
    /// Whether the state holds nothing (its slot can go).
    pub fn is_empty(&self) -> bool {
        match self {
            St::Stays(v) => v.is_empty(),
            St::Window(d) => d.is_empty(),
            _ => false,
        }
    }
}

/// What a template found about one event.
#[derive(Debug, Clone)]
pub(crate) struct Verdict {
    pub amount: Option<f64>,
    /// The related line (feedetl_sn) of an earlier event.
    pub related: Option<Box<str>>,
    pub args: SmallVec<[(&'static str, String); 4]>,
    /// Distinguishes two findings about one event (the identity field).
    pub discr: &'static str,
}

/// The result of one step.
pub(crate) enum Outcome {
    Clear,
    Hits(Vec<Verdict>),
    Unjudged(&'static str),
}

impl Outcome {
    pub fn hit(v: Verdict) -> Self {
        Outcome::Hits(vec![v])
    }
}

/// Where a history rule's events come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// Fee lines selected by the rule's knowledge rows, keyed by person.
    Lines,
    /// Encounters (mdtrt rows) of these scenes (0: every encounter), keyed by person.
    Encounters(u8),
    /// Each trace code of each fee line, keyed by the code.
    TraceCodes,
}

/// A compiled history rule.
pub(crate) enum Hist {
    Course(course::Course),
    Cycle(cycle::Cycle),
    Supply(supply::Supply),
    Readmission(readmission::Readmission),
    Frequent(frequent::Frequent),
    Overlap(overlap::Overlap),
    Trace(trace::Trace),
    Identity(identity::Identity),
}

impl Hist {
    pub fn source(&self) -> Source {
        match self {
            Hist::Course(_) | Hist::Cycle(_) | Hist::Supply(_) => Source::Lines,
            Hist::Readmission(_) => Source::Encounters(Scene::Inpatient.bit()),
            Hist::Frequent(f) => Source::Encounters(f.scene),
            Hist::Overlap(o) => Source::Encounters(o.scenes | Scene::Inpatient.bit()),
            Hist::Trace(_) => Source::TraceCodes,
            Hist::Identity(_) => Source::Encounters(0),
        }
    }

    pub fn partition_key(&self) -> PartitionKey {
        match self {
            Hist::Trace(_) => PartitionKey::TraceCode,
            _ => PartitionKey::Person,
        }
    }

    /// Judges `ev` against its key's state and updates the state.
    pub fn step(&self, st: &mut Option<St>, ev: &Ev) -> Outcome {
        match self {
            Hist::Course(k) => k.step(st, ev),
            Hist::Cycle(k) => k.step(st, ev),
            Hist::Supply(k) => k.step(st, ev),
            Hist::Readmission(k) => k.step(st, ev),
            Hist::Frequent(k) => k.step(st, ev),
            Hist::Overlap(k) => k.step(st, ev),
            Hist::Trace(k) => k.step(st, ev),
            Hist::Identity(k) => k.step(st, ev),
        }
    }

    /// Drops state that can no longer change any finding once every later event is at or after
    /// `cutoff` (wall-clock seconds). Returns false when the whole state can go.
    pub fn retain(&self, st: &mut St, sub: u32, cutoff: i64) -> bool {
        let today = crate::time::day_of(cutoff);
        match (self, st) {
            // Uses before the window of any later use; a supply used up before any later fill.
            (Hist::Cycle(c), St::Window(d)) => {
                let w = c.window_days(sub);
                while d.front().is_some_and(|f| *f < today - w + 1) {
                    d.pop_front();
                }
                !d.is_empty()
            }
            (Hist::Supply(_), St::Supply(until)) => *until > today as f64,
            (Hist::Readmission(k), St::Stays(v)) => {
                v.retain(|s| crate::time::day_of(cutoff) - crate::time::day_of(s.end) <= k.gap_days);
                !v.is_empty()
            }
            (Hist::Overlap(_), St::Stays(v)) => {
                v.retain(|s| crate::time::day_of(s.end) > crate::time::day_of(cutoff));
                !v.is_empty()
            }
            (Hist::Frequent(f), St::Window(d)) => {
                d.back().is_some_and(|b| crate::time::day_of(cutoff) - b < f.window_days)
            }
            _ => true,
        }
    }
}

/// Compiles a history template; `None` when `rule` is not one.
pub(crate) fn compile(p: &Params, rows: usize) -> Option<Result<Compiled>> {
    let k = match p.rule.template.name {
        "course" => course::compile(p, rows).map(Hist::Course),
        "cycle_frequency" => cycle::compile(p, rows).map(Hist::Cycle),
        "days_supply" => supply::compile(p, rows).map(Hist::Supply),
        "readmission" => readmission::compile(p).map(Hist::Readmission),
        "frequent_visits" => frequent::compile(p).map(Hist::Frequent),
        "overlapping_care" => overlap::compile(p).map(Hist::Overlap),
        "trace_duplicate" => trace::compile(p).map(Hist::Trace),
        "identity_change" => identity::compile(p).map(Hist::Identity),
        _ => return None,
    };
    Some(k.map(|k| Compiled::new(Kernel::History(k))))
}

/// A positive whole number parameter (a count or a number of days).
pub(crate) fn whole(p: &Params, name: &str, row: Option<usize>, min: f64) -> Result<i64> {
    let x = p.req_num(name, row)?;
    if x.fract() != 0.0 || x < min || x > 36_600.0 {
        let msg = format!("must be a whole number from {min} to 36600, found {x}");
        return Err(match row {
            Some(r) => p.row_err(name, r, msg),
            None => Error::rule(&p.rule.id, format!("params.{name}"), msg),
        });
    }
    Ok(x as i64)
}

/// A required per-row number that must not be negative.
pub(crate) fn non_negative(p: &Params, name: &str, row: usize) -> Result<f64> {
    let x = p.req_num(name, Some(row))?;
    if x < 0.0 {
        return Err(p.row_err(name, row, "must not be negative"));
    }
    Ok(x)
}

/// Scene bits of a list of scene labels.
pub(crate) fn scene_bits(p: &Params, name: &str, labels: &[String]) -> Result<u8> {
    let mut bits = 0;
    for l in labels {
        let s = Scene::parse(l).ok_or_else(|| {
            Error::rule(
                &p.rule.id,
                format!("params.{name}"),
                format!("unknown scene {l:?}; expected 门诊, 住院, 购药 or 互联网"),
            )
        })?;
        bits |= s.bit();
    }
    Ok(bits)
}

/// `x` with at most two decimals, no trailing `.00`.
pub(crate) fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// A verdict with the line's amount and these message arguments.
pub(crate) fn verdict(amount: Option<f64>, args: &[(&'static str, String)]) -> Verdict {
    Verdict { amount, related: None, args: args.iter().cloned().collect(), discr: "" }
}
