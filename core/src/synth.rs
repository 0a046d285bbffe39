//! Synthetic claims: seeded, realistic encounters, diagnoses, operations and fee lines with
//! national-looking codes and dictionaries, with violations of every sample-pack rule injected at a
//! known rate and the ground truth returned beside the claims.
//!
//! Clean encounters are built to break no rule of the sample pack (filler codes outside every
//! knowledge table, amounts equal to cnt × pric, times inside the stay, one bed-day line and one
//! 住院诊查费 line per day, at most five drugs per prescription, herb prescriptions that mix listed
//! and unlisted herbs…). An encounter picked for injection (probability `violation_rate`) breaks
//! exactly one rule, chosen round-robin among the rules that fit its scene, and the lines that
//! must be flagged are recorded in [`Synth::truth`]. So recall and precision of the engine against
//! the truth can be measured exactly.
//!
//! No IO, no global state: the same [`Config`] gives the same claims on every machine.

pub mod history;

use crate::claims::Claims;
use crate::time::{days_from_civil, DAY};
use arrow_array::builder::{Float64Builder, StringBuilder, StringDictionaryBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, Date32Array, RecordBatch, TimestampSecondArray};
use arrow_schema::{Field, Schema};
use std::sync::Arc;

pub mod drg;

/// Claims whose codes are drawn from an imported national pack: see [`crate::national::synth`].
pub use crate::national::synth::generate as generate_national;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Config {
    /// Number of encounters (the number of fee lines is about 9 times this).
    pub encounters: usize,
    /// Random seed.
    pub seed: u64,
    /// Share of encounters that get one injected violation.
    pub violation_rate: f64,
    /// First day of the period (`YYYY, M, D`).
    pub start: (i64, u32, u32),
    /// Days in the period.
    pub days: i64,
    /// Number of facilities.
    pub facilities: usize,
    /// Dictionary-encode the string columns of `fee_details` (codes, names, ids of few values).
    pub dictionary: bool,
    /// Split `fee_details` into batches of at most this many rows (0: one batch).
    pub batch_rows: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            encounters: 1000,
            seed: 1,
            violation_rate: 0.1,
            start: (2026, 3, 1),
            days: 31,
            facilities: 50,
            dictionary: false,
            batch_rows: 0,
        }
    }
}

/// One finding the engine must produce for the sample pack.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Truth {
    /// Rule id in the sample pack.
    pub rule_id: String,
    /// The encounter.
    pub mdtrt_id: String,
    /// The flagged line.
    pub feedetl_sn: Option<String>,
}

/// Generated claims and what was injected.
#[derive(Debug, Clone)]
pub struct Synth {
    /// The claims.
    pub claims: Claims,
    /// Every finding the sample pack must give, sorted.
    pub truth: Vec<Truth>,
    /// Number of fee lines.
    pub lines: usize,
}

/// SplitMix64: small, fast, good enough for test data, identical everywhere.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    pub(crate) fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        let i = self.below(items.len() as u64) as usize;
        // `items` is never empty: every pool below is a non-empty constant.
        &items[i.min(items.len().saturating_sub(1))]
    }
}

/// Filler drugs: national-looking codes outside every sample knowledge table.
const DRUGS: &[(&str, &str, f64)] = &[
    ("XJ01CAA040A001010100001", "阿莫西林胶囊", 12.50),
    ("XJ01DCC123A001010100002", "头孢克洛胶囊", 28.30),
    ("XR05CBA001A001010100003", "氨溴索片", 9.80),
    ("XC08CAA013A001010100004", "氨氯地平片", 15.60),
    ("XA02BCA045A001010100005", "奥美拉唑肠溶胶囊", 18.90),
    ("XN02BEA071A001010100006", "对乙酰氨基酚片", 6.40),
    ("ZA01AAA0011010100007", "感冒清热颗粒", 22.00),
    ("ZA09AAC0212010100008", "复方丹参滴丸", 31.20),
    ("XB01ACA056A001010100009", "阿司匹林肠溶片", 8.70),
    ("XC10AAA120A001010100010", "阿托伐他汀钙片", 26.40),
    ("XR06AEL095A001010100011", "氯雷他定片", 14.10),
    ("ZC04AAB0301010100012", "板蓝根颗粒", 11.30),
];
/// Filler services and tests.
const SERVICES: &[(&str, &str, f64)] = &[
    ("002501010010000", "血细胞分析", 20.0),
    ("002503010010000", "肝功能检测", 60.0),
    ("002302000010000", "X线摄影", 75.0),
    ("001204000010000", "静脉注射", 8.0),
    ("001202000020000", "肌肉注射", 4.0),
    ("001201000040000", "Ⅱ级护理", 20.0),
];
/// Filler herbs (not on the sample lists).
const HERBS: &[(&str, &str, f64)] = &[
    ("T000100015", "甘草", 0.35),
    ("T000200027", "黄芪", 0.60),
    ("T000300039", "当归", 0.90),
    ("T000400041", "茯苓", 0.40),
    ("T000500053", "白术", 0.55),
];
/// Filler diagnoses (in no sample code set).
const DIAGS: &[&str] = &["J06.900", "I10.x00", "E11.900", "K29.700", "M54.500", "J20.900", "R50.900", "K52.900"];
const DEPTS: &[&str] = &["A03", "A04", "A05", "A07", "A50"];

const BED: (&str, &str) = ("001109000010000", "普通病房床位费");
const VISIT: (&str, &str, f64) = ("001102000050000", "住院诊查费", 12.0);

/// The rules of the sample pack that the generator injects, in round-robin order.
pub const INJECTED_RULES: &[&str] = &[
    "sex",
    "age",
    "insutype",
    "hosp_level",
    "scene",
    "dept",
    "price_cap",
    "not_payable",
    "amount_mismatch",
    "fee_outside_stay",
    "fee_after_death",
    "bed_days",
    "frequency",
    "indication",
    "contraindication",
    "duplicate_charge",
    "companion",
    "surgery_discount",
    "herbs_only",
    "rx_drug_count",
];

fn inpatient_only(rule: &str) -> bool {
    matches!(rule, "price_cap" | "fee_outside_stay" | "bed_days" | "frequency" | "surgery_discount")
}

fn outpatient_only(rule: &str) -> bool {
    matches!(rule, "scene" | "fee_after_death" | "duplicate_charge" | "herbs_only" | "rx_drug_count")
}

#[derive(Default)]
struct Cols {
    // mdtrt
    m_id: Vec<String>,
    m_psn: Vec<String>,
    m_gend: Vec<&'static str>,
    m_brdy: Vec<i32>,
    m_age: Vec<f64>,
    m_insutype: Vec<&'static str>,
    m_med_type: Vec<&'static str>,
    m_fix: Vec<String>,
    m_lv: Vec<&'static str>,
    m_begn: Vec<i64>,
    m_end: Vec<i64>,
    m_die: Vec<Option<i32>>,
    // diagnoses
    d_id: Vec<u32>,
    d_code: Vec<&'static str>,
    d_main: Vec<&'static str>,
    // operations
    o_id: Vec<u32>,
    o_code: Vec<&'static str>,
    o_time: Vec<i64>,
    // fee_details
    f_enc: Vec<u32>,
    f_code: Vec<&'static str>,
    f_name: Vec<&'static str>,
    f_time: Vec<i64>,
    f_list: Vec<&'static str>,
    f_type: Vec<&'static str>,
    f_cnt: Vec<f64>,
    f_pric: Vec<f64>,
    f_sum: Vec<f64>,
    f_dept: Vec<&'static str>,
    f_rx: Vec<Option<u32>>,
}

#[derive(Clone, Copy)]
struct Enc {
    idx: u32,
    dept: &'static str,
}

impl Cols {
    #[allow(clippy::too_many_arguments)]
    fn line(
        &mut self,
        e: &Enc,
        code: &'static str,
        name: &'static str,
        t: i64,
        cnt: f64,
        pric: f64,
        rx: Option<u32>,
    ) -> usize {
        let list = match code.as_bytes().first() {
            Some(b'X' | b'Z') => "101",
            Some(b'T') => "102",
            Some(b'C') => "301",
            _ => "201",
        };
        let chrg = match list {
            "101" => "09",
            "102" => "10",
            "301" => "08",
            _ => "05",
        };
        self.f_enc.push(e.idx);
        self.f_code.push(code);
        self.f_name.push(name);
        self.f_time.push(t);
        self.f_list.push(list);
        self.f_type.push(chrg);
        self.f_cnt.push(cnt);
        self.f_pric.push(pric);
        self.f_sum.push((cnt * pric * 100.0).round() / 100.0);
        self.f_dept.push(e.dept);
        self.f_rx.push(rx);
        self.f_enc.len() - 1
    }
}

/// Generates claims; see the module docs.
///
/// ```
/// let s = medaudit_core::synth::generate(&medaudit_core::synth::Config { encounters: 50, ..Default::default() });
/// assert_eq!(s.claims.mdtrt[0].num_rows(), 50);
/// assert!(s.lines > 50);
/// ```
pub fn generate(cfg: &Config) -> Synth {
    let mut rng = Rng(cfg.seed ^ 0x6d65_6461_7564_6974);
    let mut c = Cols::default();
    let start = days_from_civil(cfg.start.0, cfg.start.1, cfg.start.2) * DAY;
    let facilities = cfg.facilities.max(4);
    let levels: Vec<&'static str> = (0..facilities).map(|i| ["02", "03", "05", "06", "08", "09"][i % 6]).collect();
    let mut truth_idx: Vec<(usize, u32, Option<usize>)> = Vec::new(); // (rule, enc, line)
    let mut rx_next: u32 = 0;
    let (mut rr_in, mut rr_out, mut rr_rx) = (0usize, 0usize, 0usize);
    for n in 0..cfg.encounters {
        let idx = n as u32;
        let kind = rng.below(100);
        let (mut med_type, inpatient) = match kind {
            0..=64 => ("11", false),
            65..=71 => ("14", false),
            72..=76 => ("13", false),
            77..=89 => ("21", true),
            _ => ("41", false),
        };
        let inject = if rng.chance(cfg.violation_rate) {
            // Round-robin, with one cursor per kind of encounter, over the rules that fit it.
            let cursor = if inpatient {
                &mut rr_in
            } else if med_type == "41" {
                &mut rr_rx
            } else {
                &mut rr_out
            };
            let mut chosen = None;
            for k in 0..INJECTED_RULES.len() {
                let i = (*cursor + k) % INJECTED_RULES.len();
                let r = INJECTED_RULES[i];
                let fits = if inpatient { !outpatient_only(r) } else { !inpatient_only(r) };
                if fits && !(med_type == "41" && matches!(r, "duplicate_charge" | "fee_after_death")) {
                    chosen = Some(i);
                    break;
                }
            }
            if let Some(ch) = chosen {
                *cursor = ch + 1;
            }
            chosen
        } else {
            None
        };
        let rule = inject.map(|i| INJECTED_RULES[i]);
        let mut gend = if rng.chance(0.5) { "1" } else { "2" };
        let mut age_years = 20 + rng.below(60) as i64;
        let day = rng.below(cfg.days.max(1) as u64) as i64;
        let begn = start + day * DAY + (8 + rng.below(9) as i64) * 3600 + rng.below(60) as i64 * 60;
        let los = if inpatient { 2 + rng.below(12) as i64 } else { 0 };
        let end = if inpatient { begn + los * DAY + 3 * 3600 } else { begn + 3600 };
        let mut fac = rng.below(facilities as u64) as usize;
        let mut insutype = if rng.chance(0.6) { "310" } else { "390" };
        let mut die: Option<i32> = None;
        match rule {
            Some("hosp_level") => fac = if (fac / 6) * 6 + 4 < facilities { (fac / 6) * 6 + 4 } else { 4 }, // a 一级 facility ("08")
            Some("insutype") => insutype = "310",
            Some("scene") if rng.chance(0.5) => med_type = "9901",
            Some("scene") => med_type = "11",
            Some("fee_after_death") => die = Some(((begn / DAY) as i32).saturating_add(0)),
            Some("companion") => age_years = 0,
            _ => {}
        }
        if rule == Some("sex") {
            gend = "1";
        }
        let fac = fac.min(facilities - 1);
        let lv = levels.get(fac).copied().unwrap_or("05");
        let brdy_day = begn / DAY - age_years * 365 - 30 - rng.below(300) as i64;
        let brdy_day = if rule == Some("companion") { begn / DAY - 10 } else { brdy_day };
        let dept = if rule == Some("companion") { "A07" } else { *rng.pick(DEPTS) };
        c.m_id.push(format!("MD{:010}", n));
        c.m_psn.push(format!("P{:09}", rng.below(cfg.encounters as u64 * 2 / 3 + 1)));
        c.m_gend.push(gend);
        c.m_brdy.push(brdy_day as i32);
        c.m_age.push(crate::time::age_years(brdy_day * DAY, begn) as f64);
        c.m_insutype.push(insutype);
        c.m_med_type.push(med_type);
        c.m_fix.push(format!("H{:06}{:05}", 110105 + (fac % 7), fac));
        c.m_lv.push(lv);
        c.m_begn.push(begn);
        c.m_end.push(end);
        c.m_die.push(die);
        let e = Enc { idx, dept };
        // Diagnoses.
        let nd = 1 + rng.below(3) as usize;
        for k in 0..nd {
            c.d_id.push(idx);
            c.d_code.push(*rng.pick(DIAGS));
            c.d_main.push(if k == 0 { "1" } else { "0" });
        }
        // Clean lines.
        if inpatient {
            let bed_price = match lv {
                "02" | "03" => 55.0,
                "05" | "06" => 40.0,
                _ => 28.0,
            };
            for d in 0..los {
                let t = begn + d * DAY + 3600;
                c.line(&e, BED.0, BED.1, t, 1.0, bed_price, None);
                c.line(&e, VISIT.0, VISIT.1, t + 60, 1.0, VISIT.2, None);
                let (s, nm, p) = *rng.pick(SERVICES);
                c.line(&e, s, nm, t + 7200, 1.0 + rng.below(2) as f64, p, None);
            }
            for _ in 0..(3 + rng.below(6)) {
                let (d, nm, p) = *rng.pick(DRUGS);
                let t = begn + rng.below(los as u64 * 20) as i64 * 3600 + 1800;
                c.line(&e, d, nm, t.min(end - 60), 1.0 + rng.below(3) as f64, p, None);
            }
        } else {
            let rx = rx_next;
            rx_next += 1;
            let mut drugs: Vec<usize> = (0..DRUGS.len()).collect();
            let nd = 1 + rng.below(5) as usize;
            for k in 0..nd {
                let j = rng.below(drugs.len() as u64) as usize;
                let di = drugs.swap_remove(j.min(drugs.len() - 1));
                let (d, nm, p) = DRUGS[di.min(DRUGS.len() - 1)];
                c.line(&e, d, nm, begn + 600 + k as i64, 1.0 + rng.below(3) as f64, p, Some(rx));
            }
            if med_type != "41" {
                let (s, nm, p) = *rng.pick(SERVICES);
                c.line(&e, s, nm, begn + 300, 1.0, p, None);
            }
            if rng.chance(0.15) {
                // An herb prescription mixing a listed single-use herb with unlisted ones: clean.
                let hrx = rx_next;
                rx_next += 1;
                c.line(&e, "T000700200", "丁香", begn + 900, 6.0, 0.8, Some(hrx));
                for _ in 0..(2 + rng.below(3)) {
                    let (h, nm, p) = *rng.pick(HERBS);
                    c.line(&e, h, nm, begn + 900, 10.0, p, Some(hrx));
                }
            }
        }
        // The violation.
        let Some(ri) = inject else { continue };
        let rule = INJECTED_RULES[ri];
        let mut flag = |_: &mut Cols, line: usize| truth_idx.push((ri, idx, Some(line)));
        let t_in = if inpatient { begn + 2 * 3600 } else { begn + 1200 };
        let own_rx = |rx_next: &mut u32| {
            *rx_next += 1;
            Some(*rx_next - 1)
        };
        match rule {
            "sex" => {
                let l = c.line(&e, "ZD03AAA0043010100166", "艾附暖宫丸", t_in, 2.0, 25.0, own_rx(&mut rx_next));
                flag(&mut c, l);
            }
            "age" => {
                let l = match rng.below(3) {
                    0 => c.line(&e, "ZA04CAE0023010100166", "儿童清肺口服液", t_in, 1.0, 32.0, own_rx(&mut rx_next)),
                    1 => c.line(&e, "001201000070000", "新生儿护理", t_in, 1.0, 15.0, None),
                    _ => {
                        // 职业功能训练 for someone past working age.
                        if let (Some(b), Some(a)) = (c.m_brdy.last_mut(), c.m_age.last_mut()) {
                            *b = (begn / DAY - 70 * 366) as i32;
                            *a = crate::time::age_years(i64::from(*b) * DAY, begn) as f64;
                        }
                        c.line(&e, "003402000320000", "职业功能训练", t_in, 1.0, 40.0, None)
                    }
                };
                flag(&mut c, l);
            }
            "insutype" => {
                let l = c.line(&e, "ZH01AAB0066010100716", "疤痕止痒软化膏", t_in, 1.0, 46.0, own_rx(&mut rx_next));
                flag(&mut c, l);
            }
            "hosp_level" => {
                let l = c.line(&e, "ZA05CAC0029010102312", "参附注射液", t_in, 2.0, 38.5, own_rx(&mut rx_next));
                flag(&mut c, l);
            }
            "scene" => {
                let l = if med_type == "9901" {
                    c.line(&e, "XN02ABF027V002010101389", "芬太尼透皮贴剂", t_in, 1.0, 58.0, own_rx(&mut rx_next))
                } else {
                    c.line(&e, "XB05BAU005B002010100454", "ω-3鱼油脂肪乳注射液", t_in, 1.0, 120.0, own_rx(&mut rx_next))
                };
                flag(&mut c, l);
            }
            "dept" => {
                let e2 = Enc { dept: "A03", ..e };
                let l = c.line(&e2, "XL02BBA326A001010102180", "阿帕他胺片", t_in, 1.0, 190.0, own_rx(&mut rx_next));
                flag(&mut c, l);
            }
            "price_cap" => {
                let cap = match lv {
                    "02" | "03" => 60.0,
                    "05" | "06" => 45.0,
                    _ => 30.0,
                };
                // Raise the price of the first bed-day line above the ceiling.
                if let Some(pos) = (0..c.f_enc.len())
                    .rev()
                    .take_while(|&i| c.f_enc.get(i) == Some(&idx))
                    .filter(|&i| c.f_code.get(i) == Some(&BED.0))
                    .last()
                {
                    if let (Some(p), Some(s), Some(n)) = (c.f_pric.get_mut(pos), c.f_sum.get_mut(pos), c.f_cnt.get(pos))
                    {
                        *p = cap + 20.0;
                        *s = ((cap + 20.0) * n * 100.0).round() / 100.0;
                    }
                    flag(&mut c, pos);
                }
            }
            "not_payable" => {
                let l = c.line(&e, "T001700233", "阿胶", t_in, 10.0, 6.5, own_rx(&mut rx_next));
                flag(&mut c, l);
            }
            "amount_mismatch" => {
                let (s, nm, p) = *rng.pick(SERVICES);
                let l = c.line(&e, s, nm, t_in, 2.0, p, None);
                if let Some(x) = c.f_sum.get_mut(l) {
                    *x += 5.0;
                }
                flag(&mut c, l);
            }
            "fee_outside_stay" => {
                let (s, nm, p) = *rng.pick(SERVICES);
                let l = c.line(&e, s, nm, end + 2 * DAY, 1.0, p, None);
                flag(&mut c, l);
            }
            "fee_after_death" => {
                let (s, nm, p) = *rng.pick(SERVICES);
                let l = c.line(&e, s, nm, begn + DAY, 1.0, p, None);
                flag(&mut c, l);
            }
            "bed_days" => {
                let bed_price = match lv {
                    "02" | "03" => 55.0,
                    "05" | "06" => 40.0,
                    _ => 28.0,
                };
                let l = c.line(&e, BED.0, BED.1, end - 60, 1.0, bed_price, None);
                flag(&mut c, l);
            }
            "frequency" => {
                let l = c.line(&e, VISIT.0, VISIT.1, begn + 5 * 3600, 1.0, VISIT.2, None);
                flag(&mut c, l);
            }
            "indication" => {
                let l = c.line(&e, "XA04ADA285B002010102180", "阿瑞匹坦注射液", t_in, 1.0, 260.0, own_rx(&mut rx_next));
                flag(&mut c, l);
            }
            "contraindication" => {
                c.d_id.push(idx);
                c.d_code.push("N18.500");
                c.d_main.push("0");
                let l = c.line(&e, "XA10BAE041A001010100013", "二甲双胍片", t_in, 2.0, 9.6, own_rx(&mut rx_next));
                flag(&mut c, l);
            }
            "duplicate_charge" => {
                let l = match rng.below(3) {
                    0 => {
                        c.line(&e, "001103000010000", "急诊监护费", t_in, 1.0, 60.0, None);
                        c.line(&e, "001102000030000", "急诊诊查费", t_in + 4 * 3600, 1.0, 15.0, None)
                    }
                    1 => {
                        let h = (t_in / 3600) * 3600;
                        c.line(&e, "001103000010000", "急诊监护费", h + 60, 1.0, 60.0, None);
                        c.line(&e, "001201000030000", "Ⅰ级护理", h + 1800, 1.0, 25.0, None)
                    }
                    _ => {
                        c.line(&e, "001102000030000", "急诊诊查费", t_in, 1.0, 15.0, None);
                        c.line(&e, "001102000040000", "门急诊留观诊查费", t_in + 5 * 3600, 1.0, 20.0, None)
                    }
                };
                flag(&mut c, l);
            }
            "companion" => {
                let l = c.line(&e, "003112020100000", "新生儿换血术", t_in, 1.0, 800.0, None);
                flag(&mut c, l);
            }
            "surgery_discount" => {
                let t = (begn / DAY + 1) * DAY + 9 * 3600;
                c.o_id.push(idx);
                c.o_code.push("42.4100");
                c.o_time.push(t);
                c.line(&e, "003310010140000", "食管癌根治+结肠代食管术", t, 1.0, 3200.0, None);
                let l = c.line(&e, "003310010160000", "食管胃吻合口狭窄切开成形术", t + 3 * 3600, 1.0, 1800.0, None);
                flag(&mut c, l);
            }
            "herbs_only" => {
                let hrx = own_rx(&mut rx_next);
                let a = c.line(&e, "T000700200", "丁香", t_in, 6.0, 0.8, hrx);
                let b = c.line(&e, "T001700643", "人参片", t_in, 3.0, 4.2, hrx);
                flag(&mut c, a);
                flag(&mut c, b);
            }
            "rx_drug_count" => {
                let rx = own_rx(&mut rx_next);
                for (k, &(d, nm, p)) in DRUGS.iter().take(7).enumerate() {
                    let l = c.line(&e, d, nm, t_in, 1.0, p, rx);
                    if k >= 5 {
                        flag(&mut c, l);
                    }
                }
            }
            _ => {}
        }
    }
    let lines = c.f_enc.len();
    let sn = |i: usize| format!("FD{i:012}");
    let mut truth: Vec<Truth> = truth_idx
        .iter()
        .map(|(r, e, l)| Truth {
            rule_id: INJECTED_RULES[*r].to_string(),
            mdtrt_id: c.m_id.get(*e as usize).cloned().unwrap_or_default(),
            feedetl_sn: l.map(sn),
        })
        .collect();
    truth.sort();
    let claims = build_claims(&c, cfg);
    Synth { claims, truth, lines }
}

fn build_claims(c: &Cols, cfg: &Config) -> Claims {
    let ts = |v: &[i64]| -> ArrayRef { Arc::new(TimestampSecondArray::from(v.to_vec())) };
    let strs = |v: Vec<Option<&str>>| -> ArrayRef {
        let mut b = StringBuilder::with_capacity(v.len(), v.len() * 12);
        for s in v {
            b.append_option(s);
        }
        Arc::new(b.finish())
    };
    let f64s = |v: &[f64]| -> ArrayRef {
        let mut b = Float64Builder::with_capacity(v.len());
        b.append_slice(v);
        Arc::new(b.finish())
    };
    let batch = |fields: Vec<(&str, ArrayRef)>| -> RecordBatch {
        let schema =
            Schema::new(fields.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect::<Vec<_>>());
        RecordBatch::try_new(Arc::new(schema), fields.into_iter().map(|(_, a)| a).collect())
            .unwrap_or_else(|_| RecordBatch::new_empty(Arc::new(Schema::empty())))
    };
    let mdtrt = batch(vec![
        ("mdtrt_id", strs(c.m_id.iter().map(|s| Some(s.as_str())).collect())),
        ("psn_no", strs(c.m_psn.iter().map(|s| Some(s.as_str())).collect())),
        ("gend", strs(c.m_gend.iter().map(|s| Some(*s)).collect())),
        ("brdy", Arc::new(Date32Array::from(c.m_brdy.clone()))),
        ("age", f64s(&c.m_age)),
        ("insutype", strs(c.m_insutype.iter().map(|s| Some(*s)).collect())),
        ("med_type", strs(c.m_med_type.iter().map(|s| Some(*s)).collect())),
        ("fixmedins_code", strs(c.m_fix.iter().map(|s| Some(s.as_str())).collect())),
        ("hosp_lv", strs(c.m_lv.iter().map(|s| Some(*s)).collect())),
        ("begntime", ts(&c.m_begn)),
        ("endtime", ts(&c.m_end)),
        ("die_date", Arc::new(Date32Array::from(c.m_die.clone()))),
    ]);
    let id_of = |i: &u32| c.m_id.get(*i as usize).map(String::as_str);
    let diagnoses = batch(vec![
        ("mdtrt_id", strs(c.d_id.iter().map(id_of).collect())),
        ("diag_code", strs(c.d_code.iter().map(|s| Some(*s)).collect())),
        ("maindiag_flag", strs(c.d_main.iter().map(|s| Some(*s)).collect())),
    ]);
    let operations = batch(vec![
        ("mdtrt_id", strs(c.o_id.iter().map(id_of).collect())),
        ("oprn_oprt_code", strs(c.o_code.iter().map(|s| Some(*s)).collect())),
        ("oprn_oprt_date", ts(&c.o_time)),
    ]);
    let n = c.f_enc.len();
    let chunk = if cfg.batch_rows == 0 { n.max(1) } else { cfg.batch_rows };
    let mut fee = Vec::new();
    let mut lo = 0;
    while lo < n || (n == 0 && fee.is_empty()) {
        let hi = (lo + chunk).min(n);
        let r = lo..hi;
        let dict = |v: &[&'static str]| -> ArrayRef {
            let slice = v.get(r.clone()).unwrap_or(&[]);
            if cfg.dictionary {
                let mut b = StringDictionaryBuilder::<Int32Type>::new();
                for s in slice {
                    b.append_value(s);
                }
                Arc::new(b.finish())
            } else {
                strs(slice.iter().map(|s| Some(*s)).collect())
            }
        };
        let rxs: Vec<Option<String>> =
            c.f_rx.get(r.clone()).unwrap_or(&[]).iter().map(|x| x.map(|x| format!("RX{x:010}"))).collect();
        let sns: Vec<String> = r.clone().map(|i| format!("FD{i:012}")).collect();
        let encs: Vec<Option<&str>> = c.f_enc.get(r.clone()).unwrap_or(&[]).iter().map(id_of).collect();
        let psns: Vec<Option<&str>> = c
            .f_enc
            .get(r.clone())
            .unwrap_or(&[])
            .iter()
            .map(|i| c.m_psn.get(*i as usize).map(String::as_str))
            .collect();
        fee.push(batch(vec![
            ("feedetl_sn", strs(sns.iter().map(|s| Some(s.as_str())).collect())),
            ("mdtrt_id", strs(encs)),
            ("psn_no", strs(psns)),
            ("hilist_code", dict(&c.f_code)),
            ("hilist_name", dict(&c.f_name)),
            ("fee_ocur_time", ts(c.f_time.get(r.clone()).unwrap_or(&[]))),
            ("list_type", dict(&c.f_list)),
            ("med_chrgitm_type", dict(&c.f_type)),
            ("cnt", f64s(c.f_cnt.get(r.clone()).unwrap_or(&[]))),
            ("pric", f64s(c.f_pric.get(r.clone()).unwrap_or(&[]))),
            ("det_item_fee_sumamt", f64s(c.f_sum.get(r.clone()).unwrap_or(&[]))),
            ("bilg_dept_codg", dict(&c.f_dept)),
            ("rxno", strs(rxs.iter().map(|s| s.as_deref()).collect())),
        ]));
        if n == 0 {
            break;
        }
        lo = hi;
    }
    Claims {
        mdtrt: vec![mdtrt],
        diagnoses: vec![diagnoses],
        operations: vec![operations],
        fee_details: fee,
        column_map: Default::default(),
    }
}
