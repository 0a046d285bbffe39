//! Synthetic inpatient stays for the DRG stay templates, with the cases each template must flag.
//!
//! Stays follow five shapes that group under CHS-DRG 1.1 (pneumonia ES3x with or without a CC or
//! MCC, colon cancer with colectomy GB29, radiotherapy RC19, gastritis GW19, hypertension FV25).
//! Clean stays cost 0.7–1.4 × their group's benchmark (weights of [`DRG_SAMPLE_PACK_JSON`] ×
//! 10,000), stay 4–10 days (or 1–3 days with an operation or an invasive item), and carry a
//! supporting item line for every CC/MCC and procedure that has an evidence row. A stay picked for
//! injection (probability `violation_rate`) gets exactly one mark, round-robin:
//!
//! * `upcoded_dx`: pneumonia coded with the MCC J96.900x001 and no ventilation line → `DRG-CODING`;
//! * `upcoded_proc`: colon cancer coded with colectomy 45.7300x007 and no colectomy line → `DRG-CODING`;
//! * `outlier_high` / `outlier_low`: cost 4.5 × / 0.2 × the benchmark → `DRG-COST` and `DIP-COST`
//!   (the sample DIP scores × 10 yuan equal the DRG benchmarks of the same stays, before adjustments);
//! * `low_standard`: hypertension, one day, only tests, checks and oral drugs → `DRG-LOWSTD`;
//! * `split_stay`: an earlier stay of the same person at the same facility in the same ADRG, ending
//!   2–10 days before this admission → `DRG-READMIT` (clean stays sometimes have an earlier stay in
//!   another ADRG, or in a planned radiotherapy series, which are not findings);
//! * `shifted`: two outpatient visits 1–5 days before admission with the stay's principal diagnosis,
//!   costing 30% of the stay → `DRG-SHIFT` (clean stays sometimes have visits of another category,
//!   or of the same category three weeks before, which are not findings).
//!
//! No IO; the same config gives the same claims everywhere.

use super::Truth;
use crate::claims::Claims;
use crate::time::{days_from_civil, DAY};
use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampSecondArray};
use arrow_schema::{Field, Schema};
use std::sync::Arc;

/// The DRG sample pack: the three stay templates over CHS-DRG 1.1 with synthetic weights.
pub const DRG_SAMPLE_PACK_JSON: &str = include_str!("../../packs/drg_sample.json");

/// The sample DIP catalogue (`dip-catalogue/1`, synthetic scores) the pack's `DIP-COST` rule names.
pub const DIP_SAMPLE_CATALOGUE_JSON: &str = include_str!("../../packs/dip_sample_catalogue.json");

/// Rule ids of the DRG sample pack that the generator injects.
pub const DRG_RULES: &[&str] = &["DRG-COST", "DRG-CODING", "DRG-LOWSTD", "DIP-COST", "DRG-READMIT", "DRG-SHIFT"];

/// What to generate.
#[derive(Debug, Clone)]
pub struct DrgConfig {
    /// Number of stays.
    pub encounters: usize,
    /// Random seed.
    pub seed: u64,
    /// Share of stays with one injected mark.
    pub violation_rate: f64,
}

impl Default for DrgConfig {
    fn default() -> Self {
        DrgConfig { encounters: 1000, seed: 1, violation_rate: 0.2 }
    }
}

/// Generated stays, their marks and the findings the DRG sample pack must give.
#[derive(Debug, Clone)]
pub struct DrgSynth {
    /// The claims (`mdtrt`, `diagnoses`, `operations`, `fee_details`).
    pub claims: Claims,
    /// (mdtrt_id, mark) for every injected stay.
    pub marks: Vec<(String, &'static str)>,
    /// Every finding the DRG sample pack must give, sorted.
    pub truth: Vec<Truth>,
}

const MARKS: [&str; 7] =
    ["upcoded_dx", "upcoded_proc", "outlier_high", "outlier_low", "low_standard", "split_stay", "shifted"];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // PCG-style LCG step with an output mix.
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let x = self.0;
        (x ^ (x >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd) ^ (x >> 29)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Default)]
struct Cols {
    id: Vec<String>,
    psn: Vec<String>,
    med_type: Vec<&'static str>,
    gend: Vec<String>,
    age: Vec<f64>,
    begn: Vec<i64>,
    end: Vec<i64>,
    d_id: Vec<String>,
    d_code: Vec<&'static str>,
    d_main: Vec<&'static str>,
    o_id: Vec<String>,
    o_code: Vec<&'static str>,
    f_sn: Vec<String>,
    f_id: Vec<String>,
    f_code: Vec<&'static str>,
    f_type: Vec<&'static str>,
    f_amt: Vec<f64>,
    f_time: Vec<i64>,
}

// Items (synthetic national-looking codes) and their med_chrgitm_type.
const BED: (&str, &str) = ("110900001000000", "01");
const TREAT: (&str, &str) = ("120400001000000", "05");
const LAB: (&str, &str) = ("250101001000000", "04");
const CHECK: (&str, &str) = ("230100001000000", "03");
const IV_DRUG: (&str, &str) = ("XJ01DCF058A001010100000", "09");
const ORAL_DRUG: (&str, &str) = ("XC08CAA001A001010100000", "09");
const VENT: (&str, &str) = ("310603001000000", "05");
const K_TEST: (&str, &str) = ("250302001000000", "04");
const COLECTOMY: (&str, &str) = ("330706005000000", "06");
const RADIO: (&str, &str) = ("330500001000000", "05");
const PUNCTURE: (&str, &str) = ("310701001000000", "05");

/// The weight of a DRG in the sample pack (kept equal to `drg_sample.json`, checked by a test).
pub fn sample_weight(drg: &str) -> Option<f64> {
    Some(match drg {
        "ES31" => 1.25,
        "ES33" => 0.85,
        "ES35" => 0.70,
        "GB29" => 2.60,
        "GR15" => 0.95,
        "RC19" => 1.10,
        "GW19" => 0.50,
        "FV25" => 0.55,
        _ => return None,
    })
}

const BASE_RATE: f64 = 10_000.0;

/// A stay shape: diagnoses, procedures, evidence lines, whether a 1–3 day stay is ordinary, DRG.
struct Shape {
    dx: Vec<&'static str>,
    px: Vec<&'static str>,
    evidence: Vec<(&'static str, &'static str)>,
    short_ok: bool,
    drg: &'static str,
}

fn shape(k: usize, mark: Option<&str>) -> Shape {
    let mut s = Shape { dx: Vec::new(), px: Vec::new(), evidence: Vec::new(), short_ok: false, drg: "" };
    s.drg = match k {
        0 | 1 => {
            s.dx.extend(["J18.900", "J96.900x001"]);
            if mark != Some("upcoded_dx") {
                s.evidence.push(VENT);
            }
            "ES31"
        }
        2 => {
            s.dx.extend(["J18.900", "E87.600"]);
            s.evidence.push(K_TEST);
            "ES33"
        }
        3 => {
            s.dx.push("J18.900");
            "ES35"
        }
        4 => {
            s.dx.push("C18.001");
            s.px.push("45.7300x007");
            if mark != Some("upcoded_proc") {
                s.evidence.push(COLECTOMY);
            }
            "GB29"
        }
        5 => {
            s.dx.extend(["Z51.003", "C34.900x001"]);
            s.px.push("92.2400x005");
            s.evidence.push(RADIO);
            s.short_ok = true;
            "RC19"
        }
        6 => {
            s.dx.push("K29.700");
            "GW19"
        }
        _ => {
            s.dx.push("I10.x00x002");
            if mark != Some("low_standard") {
                s.evidence.push(PUNCTURE);
                s.short_ok = true;
            }
            "FV25"
        }
    };
    s
}

type Line = ((&'static str, &'static str), f64);

impl Cols {
    /// Adds one encounter with its diagnoses, procedures and lines.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        id: &str,
        psn: &str,
        med_type: &'static str,
        age: f64,
        span: (i64, i64),
        dx: &[&'static str],
        px: &[&'static str],
        lines: Vec<Line>,
    ) {
        self.id.push(id.to_string());
        self.psn.push(psn.to_string());
        self.med_type.push(med_type);
        self.gend.push(if psn.bytes().last().unwrap_or(0) % 2 == 0 { "1".into() } else { "2".into() });
        self.age.push(age);
        self.begn.push(span.0);
        self.end.push(span.1);
        for (k, d) in dx.iter().enumerate() {
            self.d_id.push(id.to_string());
            self.d_code.push(d);
            self.d_main.push(if k == 0 { "1" } else { "0" });
        }
        for p in px {
            self.o_id.push(id.to_string());
            self.o_code.push(p);
        }
        for (k, ((code, kind), amt)) in lines.into_iter().enumerate() {
            self.f_sn.push(format!("{id}-{k:02}"));
            self.f_id.push(id.to_string());
            self.f_code.push(code);
            self.f_type.push(kind);
            self.f_amt.push((amt * 100.0).round() / 100.0);
            self.f_time.push(span.0 + 3600 * (k as i64 + 1));
        }
    }
}

/// Ordinary lines of a stay costing `target`.
fn stay_lines(target: f64, los: i64, evidence: &[(&'static str, &'static str)]) -> Vec<Line> {
    let mut lines: Vec<Line> = vec![(BED, 80.0 * los as f64), (LAB, 0.02 * target), (IV_DRUG, 0.1 * target)];
    for e in evidence {
        lines.push((*e, 0.05 * target));
    }
    let used: f64 = lines.iter().map(|l| l.1).sum();
    lines.push((TREAT, (target - used).max(1.0)));
    lines
}

/// Generates the stays.
pub fn generate(cfg: &DrgConfig) -> DrgSynth {
    let mut r = Rng(cfg.seed ^ 0x5DEE_CE66_D1CE_4E5B);
    let mut c = Cols::default();
    let mut marks = Vec::new();
    let mut truth = Vec::new();
    let start = days_from_civil(2026, 3, 1) * DAY;
    let mut next_mark = 0usize;
    for i in 0..cfg.encounters {
        let id = format!("D{i:07}");
        let psn = format!("P{i:07}");
        let inject = r.unit() < cfg.violation_rate;
        let mark = inject.then(|| {
            let m = MARKS[next_mark % MARKS.len()];
            next_mark += 1;
            m
        });
        let k = match mark {
            Some("upcoded_dx") => 0,
            Some("upcoded_proc") => 4,
            Some("low_standard") => 7,
            // Not radiotherapy: a planned series is out of the readmission rule's scope.
            Some("split_stay") => [0, 2, 3, 4, 6][r.below(5) as usize],
            _ => r.below(7) as usize,
        };
        let sh = shape(k, mark);
        let bench = sample_weight(sh.drg).unwrap_or(1.0) * BASE_RATE;
        let los: i64 = match mark {
            Some("low_standard") => 1,
            Some(_) => 4 + r.below(7) as i64,
            _ if sh.short_ok && r.below(2) == 0 => 1 + r.below(3) as i64,
            _ => 4 + r.below(7) as i64,
        };
        let target = match mark {
            Some("outlier_high") => 4.5 * bench,
            Some("outlier_low") => 0.2 * bench,
            // The coded (heavier) group's benchmark is not what the stay costs.
            Some("upcoded_proc") => 0.5 * bench,
            Some("upcoded_dx") => 0.6 * bench,
            Some("low_standard") => 0.0,
            _ => (0.7 + 0.7 * r.unit()) * bench,
        };
        // Admissions from day 20 on leave room for a stay or visits before them.
        let begn = start + (20 + r.below(8) as i64) * DAY + 9 * 3600;
        let end = begn + los * DAY + 2 * 3600;
        let age = (30 + r.below(50)) as f64;
        let lines = if mark == Some("low_standard") {
            vec![
                (BED, 80.0),
                (LAB, 300.0 + r.below(200) as f64),
                (CHECK, 200.0 + r.below(300) as f64),
                (ORAL_DRUG, 60.0 + r.below(100) as f64),
            ]
        } else {
            stay_lines(target, los, &sh.evidence)
        };
        // An earlier stay of the same person at the same facility, ending 2–10 days before this
        // admission: in the same ADRG (split_stay), or, for some clean stays, in another ADRG or a
        // planned radiotherapy series (neither is a finding).
        let prior = match mark {
            Some("split_stay") => Some(k),
            None if r.below(20) == 0 => Some(if k <= 3 || k == 7 { 6 } else { 3 }),
            None if k == 5 && r.below(5) == 0 => Some(5),
            _ => None,
        };
        if let Some(pk) = prior {
            let ps = shape(pk, None);
            let plos = 4 + r.below(4) as i64;
            let pend = begn - (2 + r.below(9) as i64) * DAY;
            let pbegn = pend - plos * DAY;
            let pt = (0.8 + 0.4 * r.unit()) * sample_weight(ps.drg).unwrap_or(1.0) * BASE_RATE;
            c.push(
                &format!("{id}A"),
                &psn,
                "21",
                age,
                (pbegn, pend),
                &ps.dx,
                &ps.px,
                stay_lines(pt, plos, &ps.evidence),
            );
        }
        let stay_cost: f64 = lines.iter().map(|l| l.1).sum();
        c.push(&id, &psn, "21", age, (begn, end), &sh.dx, &sh.px, lines);
        // Outpatient visits: the shifted costs (same category, within 7 days, 30% of the stay), or
        // noise for some clean stays (another category within the window, or the same category
        // three weeks before).
        let main = sh.dx.first().copied().unwrap_or("R69.x00");
        let visits: Vec<(&'static str, i64, f64)> = match mark {
            Some("shifted") => {
                vec![(main, 1 + r.below(5) as i64, 0.15 * stay_cost), (main, 1 + r.below(5) as i64, 0.15 * stay_cost)]
            }
            None if r.below(10) == 0 => vec![("M54.500", 1 + r.below(5) as i64, 0.3 * stay_cost)],
            // Not next to an earlier stay, whose own window it could fall into.
            None if prior.is_none() && r.below(10) == 0 => vec![(main, 21, 0.3 * stay_cost)],
            _ => Vec::new(),
        };
        for (v, (dx, before, amt)) in visits.into_iter().enumerate() {
            let t = begn - before * DAY;
            c.push(
                &format!("{id}O{v}"),
                &psn,
                "11",
                age,
                (t, t + 3600),
                &[dx],
                &[],
                vec![(LAB, 0.6 * amt), (ORAL_DRUG, 0.4 * amt)],
            );
        }
        if let Some(m) = mark {
            marks.push((id.clone(), m));
            let rules: &[&str] = match m {
                "upcoded_dx" | "upcoded_proc" => &["DRG-CODING"],
                "outlier_high" | "outlier_low" => &["DRG-COST", "DIP-COST"],
                "split_stay" => &["DRG-READMIT"],
                "shifted" => &["DRG-SHIFT"],
                _ => &["DRG-LOWSTD"],
            };
            for rule in rules {
                truth.push(Truth { rule_id: (*rule).into(), mdtrt_id: id.clone(), feedetl_sn: None });
            }
        }
    }
    truth.sort();
    DrgSynth { claims: build(&c), marks, truth }
}

fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = cols.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect();
    let arrays: Vec<ArrayRef> = cols.into_iter().map(|c| c.1).collect();
    // The columns are built above with equal lengths and matching types.
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .unwrap_or_else(|_| RecordBatch::new_empty(Arc::new(Schema::empty())))
}

fn build(c: &Cols) -> Claims {
    let s = |v: &[String]| Arc::new(StringArray::from_iter_values(v)) as ArrayRef;
    let st = |v: &[&str]| Arc::new(StringArray::from_iter_values(v)) as ArrayRef;
    let t = |v: &[i64]| Arc::new(TimestampSecondArray::from(v.to_vec())) as ArrayRef;
    let fix: Vec<&str> = vec!["H11010100001"; c.id.len()];
    Claims {
        mdtrt: vec![batch(vec![
            ("mdtrt_id", s(&c.id)),
            ("psn_no", s(&c.psn)),
            ("gend", s(&c.gend)),
            ("age", Arc::new(Float64Array::from(c.age.clone())) as ArrayRef),
            ("med_type", st(&c.med_type)),
            ("fixmedins_code", st(&fix)),
            ("begntime", t(&c.begn)),
            ("endtime", t(&c.end)),
        ])],
        diagnoses: vec![batch(vec![
            ("mdtrt_id", s(&c.d_id)),
            ("diag_code", st(&c.d_code)),
            ("maindiag_flag", st(&c.d_main)),
        ])],
        operations: vec![batch(vec![("mdtrt_id", s(&c.o_id)), ("oprn_oprt_code", st(&c.o_code))])],
        fee_details: vec![batch(vec![
            ("feedetl_sn", s(&c.f_sn)),
            ("mdtrt_id", s(&c.f_id)),
            ("hilist_code", st(&c.f_code)),
            ("med_chrgitm_type", st(&c.f_type)),
            ("det_item_fee_sumamt", Arc::new(Float64Array::from(c.f_amt.clone())) as ArrayRef),
            ("fee_ocur_time", t(&c.f_time)),
        ])],
        ..Default::default()
    }
}
