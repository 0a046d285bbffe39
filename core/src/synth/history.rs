//! Synthetic patient histories for the history sample pack ([`crate::RulePack::history_sample`]):
//! persons with several encounters over months, and for a share of them one injected history
//! pattern with its ground truth: over-long courses, cycle overuse, over-supply across visits,
//! split admissions (and planned readmissions that must not be flagged), frequent visits,
//! outpatient or pharmacy care during a stay, trace codes settled twice in the three national
//! patterns, and a sex or birth date that changes for one psn_no.
//!
//! Clean persons are built to break no history rule: outpatient visits 20 days apart, at most one
//! inpatient stay (after the visits), knowledge items used within their limits, every trace code
//! unique. Scenario persons start their scenario 40 days after their clean history ends and use
//! knowledge items only in the scenario. Encounters come sorted by admission/visit time, lines
//! grouped by encounter, so the claims can be cut into time-ordered batches by encounter.
//!
//! No IO, no global state: the same [`HistoryConfig`] gives the same claims everywhere.

use super::Rng;
use crate::claims::Claims;
use crate::time::{days_from_civil, DAY};
use arrow_array::builder::{Float64Builder, ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, Date32Array, RecordBatch, TimestampSecondArray};
use arrow_schema::{Field, Schema};
use std::sync::Arc;

/// What to generate.
#[derive(Debug, Clone)]
pub struct HistoryConfig {
    /// Number of insured persons (about 4 encounters and 12 fee lines each).
    pub persons: usize,
    /// Random seed.
    pub seed: u64,
    /// Share of persons that get one injected pattern.
    pub violation_rate: f64,
    /// First day of the period (`YYYY, M, D`); activity spans about 300 days from it.
    pub start: (i64, u32, u32),
    /// Number of facilities (at least 2).
    pub facilities: usize,
    /// Write `drug_trac_codg` as an Arrow List of strings instead of a comma-joined string.
    pub list_trace_codes: bool,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig {
            persons: 500,
            seed: 1,
            violation_rate: 0.3,
            start: (2026, 1, 1),
            facilities: 20,
            list_trace_codes: false,
        }
    }
}

/// One finding the history sample pack must produce.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HistoryTruth {
    /// Rule id in the history sample pack.
    pub rule_id: String,
    /// The flagged encounter.
    pub mdtrt_id: String,
    /// The flagged line, for line rules.
    pub feedetl_sn: Option<String>,
    /// For trace codes: the national pattern (串换, 回流药, 假药).
    pub pattern: Option<String>,
}

/// Generated histories and what was injected.
#[derive(Debug, Clone)]
pub struct HistorySynth {
    /// The claims: one `mdtrt`, `diagnoses` and `fee_details` batch each, sorted by encounter time.
    pub claims: Claims,
    /// Every finding the history sample pack must give, sorted.
    pub truth: Vec<HistoryTruth>,
    /// Number of fee lines.
    pub lines: usize,
    /// Number of encounters.
    pub encounters: usize,
}

/// The injected scenarios, in round-robin order (`readmission_planned` injects planned,
/// other-facility or late readmissions that must NOT be flagged).
pub const HISTORY_SCENARIOS: &[&str] = &[
    "course",
    "course_span",
    "cycle_frequency",
    "days_supply",
    "readmission_15d",
    "readmission_planned",
    "frequent_outpatient",
    "overlapping_care",
    "trace_串换",
    "trace_回流药",
    "trace_假药",
    "identity_gend",
    "identity_brdy",
];

const COURSE_A: (&str, &str, f64) = ("ZA12CAD0123010100001", "注射用丹参多酚酸盐", 68.0);
const COURSE_B: (&str, &str, f64) = ("XB05XAA104B002010100002", "注射用复方氨基酸", 45.0);
const HBA1C: (&str, &str, f64) = ("002503070150000", "糖化血红蛋白测定", 55.0);
const VALSARTAN: (&str, &str, f64) = ("XC09CAL062A001010100020", "缬沙坦胶囊", 2.1);
const METFORMIN: (&str, &str, f64) = ("XA10BAA058A001010100021", "盐酸二甲双胍片", 0.3);
const FILLER_DRUGS: &[(&str, &str, f64)] = &[
    ("XJ01CAA040A001010100001", "阿莫西林胶囊", 12.5),
    ("XR05CBA001A001010100003", "氨溴索片", 9.8),
    ("XA02BCA045A001010100005", "奥美拉唑肠溶胶囊", 18.9),
    ("ZA09AAC0212010100008", "复方丹参滴丸", 31.2),
];
const FILLER_SERVICES: &[(&str, &str, f64)] = &[
    ("002501010010000", "血细胞分析", 20.0),
    ("001204000010000", "静脉注射", 8.0),
    ("001201000040000", "Ⅱ级护理", 20.0),
];
const BED: (&str, &str, f64) = ("001109000010000", "普通病房床位费", 50.0);
const DIAGS: &[&str] = &["I10.x00", "E11.900", "J18.900", "K29.700", "M54.500", "I63.900"];

struct Line {
    code: &'static str,
    name: &'static str,
    t: i64,
    cnt: f64,
    pric: f64,
    prd: Option<f64>,
    trace: Vec<String>,
    /// Index into the truth being built, when this line must be flagged: (rule, pattern).
    flag: Option<(&'static str, Option<&'static str>)>,
}

struct Enc {
    psn: usize,
    med_type: &'static str,
    fac: usize,
    begn: i64,
    end: i64,
    gend: &'static str,
    brdy: i32,
    planned: bool,
    diag: &'static str,
    lines: Vec<Line>,
    flag: Option<&'static str>,
}

struct Gen {
    rng: Rng,
    encs: Vec<Enc>,
    trace_next: u64,
    facilities: usize,
}

impl Gen {
    fn trace(&mut self) -> String {
        self.trace_next += 1;
        format!("8{:019}", self.trace_next)
    }

    fn other_fac(&mut self, f: usize) -> usize {
        (f + 1 + self.rng.below(self.facilities as u64 - 1) as usize) % self.facilities
    }

    fn line(&mut self, item: (&'static str, &'static str, f64), t: i64, cnt: f64) -> Line {
        let trace = if item.0.starts_with('X') || item.0.starts_with('Z') {
            (0..(cnt as usize).clamp(1, 3)).map(|_| self.trace()).collect()
        } else {
            Vec::new()
        };
        Line { code: item.0, name: item.1, t, cnt, pric: item.2, prd: None, trace, flag: None }
    }

    fn filler(&mut self, t: i64) -> Line {
        if self.rng.chance(0.6) {
            let d = *self.rng.pick(FILLER_DRUGS);
            let cnt = 1.0 + self.rng.below(3) as f64;
            self.line(d, t, cnt)
        } else {
            let s = *self.rng.pick(FILLER_SERVICES);
            self.line(s, t, 1.0)
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn enc(&mut self, p: &Person, med_type: &'static str, fac: usize, begn: i64, end: i64, fillers: usize) -> Enc {
        let lines = (0..fillers).map(|k| self.filler(begn + 600 * (k as i64 + 1))).collect();
        let diag = *self.rng.pick(DIAGS);
        Enc {
            psn: p.idx,
            med_type,
            fac,
            begn,
            end,
            gend: p.gend,
            brdy: p.brdy,
            planned: false,
            diag,
            lines,
            flag: None,
        }
    }

    fn visit(&mut self, p: &Person, fac: usize, t: i64) -> Enc {
        let n = 1 + self.rng.below(3) as usize;
        self.enc(p, "11", fac, t, t + 1800, n)
    }

    /// A stay of `days` days at `fac` from `t`: a bed line and a filler each day.
    fn stay(&mut self, p: &Person, fac: usize, t: i64, days: i64) -> Enc {
        let mut e = self.enc(p, "21", fac, t, t + days * DAY, 0);
        for d in 0..days {
            e.lines.push(self.line(BED, t + d * DAY + 3600, 1.0));
            let f = self.filler(t + d * DAY + 7200);
            e.lines.push(f);
        }
        e
    }
}

#[derive(Clone, Copy)]
struct Person {
    idx: usize,
    gend: &'static str,
    brdy: i32,
    home: usize,
}

/// Generates persons' histories with injected patterns and their ground truth.
///
/// ```
/// use medaudit_core::synth::history::{generate, HistoryConfig};
/// let data = generate(&HistoryConfig { persons: 100, seed: 3, ..Default::default() });
/// assert!(data.lines > 100 && !data.truth.is_empty());
/// ```
pub fn generate(cfg: &HistoryConfig) -> HistorySynth {
    let facilities = cfg.facilities.max(2);
    let mut g = Gen { rng: Rng(cfg.seed ^ 0x6869_7374_6f72_7921), encs: Vec::new(), trace_next: 0, facilities };
    let start = days_from_civil(cfg.start.0, cfg.start.1, cfg.start.2) * DAY;
    let mut rr = 0usize;
    for idx in 0..cfg.persons {
        let p = Person {
            idx,
            gend: if g.rng.chance(0.5) { "1" } else { "2" },
            brdy: (days_from_civil(1940, 1, 1) + g.rng.below(365 * 60) as i64) as i32,
            home: g.rng.below(facilities as u64) as usize,
        };
        let scenario = if g.rng.chance(cfg.violation_rate) {
            let s = HISTORY_SCENARIOS.get(rr % HISTORY_SCENARIOS.len()).copied();
            rr += 1;
            s
        } else {
            None
        };
        let clean = scenario.is_none();
        // The clean history: visits 20 days apart, then maybe one stay.
        let mut t = start + g.rng.below(120) as i64 * DAY + (8 + g.rng.below(8) as i64) * 3600;
        let visits = 1 + g.rng.below(4) as usize;
        let mut used_b = false;
        for _ in 0..visits {
            let mut e = g.visit(&p, p.home, t);
            if clean && g.rng.chance(0.3) {
                e.lines.push(g.line(HBA1C, t + 300, 1.0));
            }
            if clean && g.rng.chance(0.3) {
                let mut l = g.line(VALSARTAN, t + 400, 28.0);
                l.prd = Some(14.0);
                e.lines.push(l);
            }
            if clean && g.rng.chance(0.2) {
                e.lines.push(g.line(METFORMIN, t + 500, 42.0));
            }
            if clean && !used_b && g.rng.chance(0.2) {
                used_b = true;
                e.lines.push(g.line(COURSE_B, t + 700, 1.0));
            }
            g.encs.push(e);
            t += 20 * DAY;
        }
        t += 5 * DAY - 20 * DAY;
        if g.rng.chance(0.3) {
            let days = 3 + g.rng.below(8) as i64;
            let mut e = g.stay(&p, p.home, t, days);
            if clean {
                for d in 0..days.min(5) {
                    e.lines.push(g.line(COURSE_A, t + d * DAY + 10_000, 1.0));
                }
            }
            g.encs.push(e);
            t += days * DAY;
        }
        let Some(s) = scenario else { continue };
        scenario_for(&mut g, &p, s, t + 40 * DAY);
    }
    build(g, cfg)
}

fn scenario_for(g: &mut Gen, p: &Person, s: &'static str, t: i64) {
    let f = p.home;
    match s {
        "course" => {
            let mut e = g.stay(p, f, t, 16);
            for d in 0..16 {
                let mut l = g.line(COURSE_A, t + d * DAY + 10_000, 1.0);
                if d >= 14 {
                    l.flag = Some(("course", None));
                }
                e.lines.push(l);
            }
            g.encs.push(e);
        }
        "course_span" => {
            for (k, d) in [0, 11, 13].into_iter().enumerate() {
                let mut e = g.visit(p, f, t + d * DAY);
                let mut l = g.line(COURSE_B, t + d * DAY + 700, 1.0);
                if k > 0 {
                    l.flag = Some(("course", None));
                }
                e.lines.push(l);
                g.encs.push(e);
            }
        }
        "cycle_frequency" => {
            for (k, d) in [0, 10, 30].into_iter().enumerate() {
                let mut e = g.visit(p, f, t + d * DAY);
                let mut l = g.line(HBA1C, t + d * DAY + 300, 1.0);
                if k == 1 {
                    l.flag = Some(("cycle_frequency", None));
                }
                e.lines.push(l);
                g.encs.push(e);
            }
        }
        "days_supply" => {
            let metformin = g.rng.chance(0.5);
            for (k, d) in [0, 10].into_iter().enumerate() {
                let mut e = g.visit(p, f, t + d * DAY);
                let mut l = if metformin {
                    g.line(METFORMIN, t + d * DAY + 400, 90.0)
                } else {
                    let mut l = g.line(VALSARTAN, t + d * DAY + 400, 60.0);
                    l.prd = Some(30.0);
                    l
                };
                if k == 1 {
                    l.flag = Some(("days_supply", None));
                }
                e.lines.push(l);
                g.encs.push(e);
            }
        }
        "readmission_15d" | "readmission_planned" => {
            let mut first = g.stay(p, f, t, 5);
            let gap = 1 + g.rng.below(15) as i64;
            let mut fac2 = f;
            let mut second_diag = None;
            let mut flagged = s == "readmission_15d";
            let mut start2 = t + (5 + gap) * DAY;
            if !flagged {
                match g.rng.below(4) {
                    0 => first.planned = true,
                    1 => second_diag = Some(if g.rng.chance(0.5) { "Z51.100" } else { "Z49.100" }),
                    2 => fac2 = g.other_fac(f),
                    _ => start2 = t + (5 + 16 + g.rng.below(15) as i64) * DAY,
                }
            }
            g.encs.push(first);
            let mut second = g.stay(p, fac2, start2, 4);
            if let Some(d) = second_diag {
                second.diag = d;
            }
            if flagged {
                second.flag = Some("readmission_15d");
                flagged = false;
            }
            let _ = flagged;
            g.encs.push(second);
        }
        "frequent_outpatient" => {
            for k in 0..10 {
                let mut e = g.visit(p, f, t + 3 * k * DAY);
                if k >= 8 {
                    e.flag = Some("frequent_outpatient");
                }
                g.encs.push(e);
            }
        }
        "overlapping_care" => {
            let g2 = g.other_fac(f);
            let stay = g.stay(p, f, t, 8);
            g.encs.push(stay);
            let same_day = g.visit(p, g2, t + 7200);
            g.encs.push(same_day);
            let mut op = g.visit(p, g2, t + 3 * DAY);
            op.flag = Some("overlapping_care");
            g.encs.push(op);
            let mut rx = g.enc(p, "41", g2, t + 5 * DAY, t + 5 * DAY + 600, 1);
            rx.flag = Some("overlapping_care");
            g.encs.push(rx);
            if g.rng.chance(0.5) {
                let mut other = g.stay(p, g2, t + 4 * DAY + 3600, 2);
                other.flag = Some("overlapping_care");
                g.encs.push(other);
            }
        }
        "trace_串换" | "trace_回流药" | "trace_假药" => {
            let pattern = s.trim_start_matches("trace_");
            let mut e1 = g.visit(p, f, t);
            let drug = *g.rng.pick(FILLER_DRUGS);
            let l1 = g.line(drug, t + 900, 1.0);
            let code = l1.trace.first().cloned().unwrap_or_default();
            e1.lines.push(l1);
            g.encs.push(e1);
            let (fac2, t2) = match pattern {
                "串换" => (f, t + 3 * DAY),
                "回流药" => (g.other_fac(f), t + 5 * DAY),
                _ => (g.other_fac(f), t + 2 * 3600),
            };
            let mut e2 = g.visit(p, fac2, t2);
            let mut l2 = g.line(drug, t2 + 900, 2.0);
            l2.trace = vec![g.trace(), code];
            l2.flag = Some(("trace_duplicate", Some(pattern)));
            e2.lines.push(l2);
            g.encs.push(e2);
        }
        "identity_gend" | "identity_brdy" => {
            for k in 0..3 {
                let mut e = g.visit(p, f, t + 20 * k * DAY);
                if k == 1 {
                    if s == "identity_gend" {
                        e.gend = if p.gend == "1" { "2" } else { "1" };
                    } else {
                        e.brdy = p.brdy + 365;
                    }
                    e.flag = Some("identity_change");
                }
                g.encs.push(e);
            }
        }
        _ => {}
    }
}

fn build(mut g: Gen, cfg: &HistoryConfig) -> HistorySynth {
    g.encs.sort_by_key(|e| (e.begn, e.psn));
    let mut truth = Vec::new();
    let n = g.encs.len();
    let mut m_id = Vec::with_capacity(n);
    let mut sn = 0u64;
    let (mut f_sn, mut f_enc, mut f_psn, mut f_code, mut f_name, mut f_time) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut f_cnt, mut f_pric, mut f_sum, mut f_prd, mut f_trace) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut m_sum = Vec::with_capacity(n);
    for (i, e) in g.encs.iter().enumerate() {
        let id = format!("HM{i:09}");
        if let Some(r) = e.flag {
            truth.push(HistoryTruth { rule_id: r.into(), mdtrt_id: id.clone(), feedetl_sn: None, pattern: None });
        }
        let mut lines: Vec<&Line> = e.lines.iter().collect();
        lines.sort_by_key(|l| l.t);
        let mut total = 0.0;
        for l in lines {
            sn += 1;
            let s = format!("HL{sn:011}");
            if let Some((r, pat)) = l.flag {
                truth.push(HistoryTruth {
                    rule_id: r.into(),
                    mdtrt_id: id.clone(),
                    feedetl_sn: Some(s.clone()),
                    pattern: pat.map(str::to_string),
                });
            }
            let amount = (l.cnt * l.pric * 100.0).round() / 100.0;
            total += amount;
            f_sn.push(s);
            f_enc.push(id.clone());
            f_psn.push(format!("P{:08}", e.psn));
            f_code.push(l.code);
            f_name.push(l.name);
            f_time.push(l.t);
            f_cnt.push(l.cnt);
            f_pric.push(l.pric);
            f_sum.push(amount);
            f_prd.push(l.prd);
            f_trace.push(l.trace.clone());
        }
        m_sum.push((total * 100.0).round() / 100.0);
        m_id.push(id);
    }
    truth.sort();
    let strs = |v: Vec<Option<&str>>| -> ArrayRef {
        let mut b = StringBuilder::with_capacity(v.len(), v.len() * 12);
        for s in v {
            b.append_option(s);
        }
        Arc::new(b.finish())
    };
    let f64s = |v: &[f64]| -> ArrayRef { Arc::new(arrow_array::Float64Array::from(v.to_vec())) };
    let batch = |fields: Vec<(&str, ArrayRef)>| -> RecordBatch {
        let schema =
            Schema::new(fields.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect::<Vec<_>>());
        RecordBatch::try_new(Arc::new(schema), fields.into_iter().map(|(_, a)| a).collect())
            .unwrap_or_else(|_| RecordBatch::new_empty(Arc::new(Schema::empty())))
    };
    let fac = |f: usize| format!("H{:011}", 43_0100_0000u64 + f as u64);
    let encs = &g.encs;
    let mdtrt = batch(vec![
        ("mdtrt_id", strs(m_id.iter().map(|s| Some(s.as_str())).collect())),
        (
            "psn_no",
            strs(
                encs.iter()
                    .map(|e| format!("P{:08}", e.psn))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(|s| Some(s.as_str()))
                    .collect(),
            ),
        ),
        ("gend", strs(encs.iter().map(|e| Some(e.gend)).collect())),
        ("brdy", Arc::new(Date32Array::from(encs.iter().map(|e| e.brdy).collect::<Vec<_>>()))),
        ("insutype", strs(encs.iter().map(|_| Some("310")).collect())),
        ("med_type", strs(encs.iter().map(|e| Some(e.med_type)).collect())),
        (
            "fixmedins_code",
            strs(encs.iter().map(|e| fac(e.fac)).collect::<Vec<_>>().iter().map(|s| Some(s.as_str())).collect()),
        ),
        ("begntime", Arc::new(TimestampSecondArray::from(encs.iter().map(|e| e.begn).collect::<Vec<_>>()))),
        ("endtime", Arc::new(TimestampSecondArray::from(encs.iter().map(|e| e.end).collect::<Vec<_>>()))),
        ("medfee_sumamt", f64s(&m_sum)),
        ("dscg_31days_rinp_flag", strs(encs.iter().map(|e| Some(if e.planned { "1" } else { "0" })).collect())),
    ]);
    let diagnoses = batch(vec![
        ("mdtrt_id", strs(m_id.iter().map(|s| Some(s.as_str())).collect())),
        ("diag_code", strs(encs.iter().map(|e| Some(e.diag)).collect())),
        ("maindiag_flag", strs(encs.iter().map(|_| Some("1")).collect())),
    ]);
    let trace: ArrayRef = if cfg.list_trace_codes {
        let mut b = ListBuilder::new(StringBuilder::new());
        for codes in &f_trace {
            for c in codes {
                b.values().append_value(c);
            }
            b.append(!codes.is_empty());
        }
        Arc::new(b.finish())
    } else {
        strs(
            f_trace
                .iter()
                .map(|c| c.join(","))
                .collect::<Vec<_>>()
                .iter()
                .map(|s| (!s.is_empty()).then_some(s.as_str()))
                .collect(),
        )
    };
    let mut prd = Float64Builder::with_capacity(f_prd.len());
    for p in &f_prd {
        prd.append_option(*p);
    }
    let lines = f_sn.len();
    let fee = batch(vec![
        ("feedetl_sn", strs(f_sn.iter().map(|s| Some(s.as_str())).collect())),
        ("mdtrt_id", strs(f_enc.iter().map(|s| Some(s.as_str())).collect())),
        ("psn_no", strs(f_psn.iter().map(|s| Some(s.as_str())).collect())),
        ("hilist_code", strs(f_code.iter().map(|s| Some(*s)).collect())),
        ("hilist_name", strs(f_name.iter().map(|s| Some(*s)).collect())),
        ("fee_ocur_time", Arc::new(TimestampSecondArray::from(f_time))),
        ("cnt", f64s(&f_cnt)),
        ("pric", f64s(&f_pric)),
        ("det_item_fee_sumamt", f64s(&f_sum)),
        ("prd_days", Arc::new(prd.finish())),
        ("drug_trac_codg", trace),
    ]);
    HistorySynth {
        claims: Claims {
            mdtrt: vec![mdtrt],
            diagnoses: vec![diagnoses],
            operations: Vec::new(),
            fee_details: vec![fee],
            column_map: Default::default(),
        },
        truth,
        lines,
        encounters: n,
    }
}
