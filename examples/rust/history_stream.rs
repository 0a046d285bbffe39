//! history_stream: streams generated fee lines day by day through the history [`Auditor`] with
//! the history sample pack, and reports throughput, peak memory and the state kept.
//!
//! ```text
//! cargo run --release -p medaudit-core --example history_stream -- [--lines N] [--persons P]
//!     [--trace-share S] [--seed X]
//! ```
//!
//! Defaults: N = 100,000,000 fee lines over 365 days (one batch per day), P = 1,000,000 insured
//! persons, S = 0.2 (one fee line in five is a drug sale carrying one trace code, so about
//! N × S codes are held; one sale in 2,000 re-uses a recent code, in the three patterns). About
//! six lines per encounter; 80% outpatient, 8% inpatient stays of 1–8 days, 12% pharmacy; one line
//! in ten is a knowledge item of the course, cycle and supply rules.
//!
//! Throughput is fee lines per second of the calling thread's CPU time spent in `Auditor::push`
//! and `finish` (generation excluded); wall time is printed beside it. Peak memory is the
//! process's VmHWM (Linux), which includes the day's batch being generated.

use arrow_array::builder::{Float64Builder, StringBuilder, TimestampSecondBuilder};
use arrow_array::{ArrayRef, Date32Array, RecordBatch};
use arrow_schema::{Field, Schema};
use medaudit_core::history::Auditor;
use medaudit_core::time::{days_from_civil, DAY};
use medaudit_core::{CheckOptions, Claims, Engine, RulePack};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Args {
    lines: u64,
    persons: u64,
    trace_share: f64,
    seed: u64,
}

fn args() -> Res<Args> {
    let mut a = Args { lines: 100_000_000, persons: 1_000_000, trace_share: 0.2, seed: 1 };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--lines" => a.lines = v.parse()?,
            "--persons" => a.persons = v.parse()?,
            "--trace-share" => a.trace_share = v.parse()?,
            "--seed" => a.seed = v.parse()?,
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    Ok(a)
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const ITEMS: &[(&str, f64, Option<f64>)] = &[
    ("ZA12CAD0123010100001", 68.0, None),
    ("002503070150000", 55.0, None),
    ("XC09CAL062A001010100020", 2.1, Some(14.0)),
    ("XA10BAA058A001010100021", 0.3, None),
];
const DRUGS: &[(&str, f64)] = &[("XJ01CAA040A001010100001", 12.5), ("XR05CBA001A001010100003", 9.8)];
const SERVICES: &[(&str, f64)] = &[("002501010010000", 20.0), ("001204000010000", 8.0), ("001109000010000", 50.0)];

fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

fn kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field).and_then(|r| r.strip_prefix(':')))
                .and_then(|v| v.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()))
        })
        .unwrap_or(0)
}

struct Day {
    claims: Claims,
    lines: u64,
}

struct Gen {
    rng: Rng,
    persons: u64,
    trace_share: f64,
    next_enc: u64,
    next_line: u64,
    next_code: u64,
    recent: Vec<(String, u64)>,
    buf: String,
}

impl Gen {
    fn id(&mut self, prefix: char, n: u64, width: usize) -> &str {
        self.buf.clear();
        let _ = write!(self.buf, "{prefix}{n:0width$}");
        &self.buf
    }

    /// One day's encounters and lines: about `lines` fee lines.
    fn day(&mut self, d: i64, lines: u64) -> Res<Day> {
        let encs = (lines / 6).max(1);
        let mut m_id = StringBuilder::new();
        let mut m_psn = StringBuilder::new();
        let mut m_gend = StringBuilder::new();
        let mut m_brdy = Vec::with_capacity(encs as usize);
        let mut m_med = StringBuilder::new();
        let mut m_fac = StringBuilder::new();
        let mut m_begn = TimestampSecondBuilder::new();
        let mut m_end = TimestampSecondBuilder::new();
        let mut m_sum = Float64Builder::new();
        let mut d_id = StringBuilder::new();
        let mut d_code = StringBuilder::new();
        let mut d_main = StringBuilder::new();
        let (mut f_sn, mut f_enc, mut f_psn, mut f_code) =
            (StringBuilder::new(), StringBuilder::new(), StringBuilder::new(), StringBuilder::new());
        let mut f_time = TimestampSecondBuilder::new();
        let (mut f_cnt, mut f_pric, mut f_sum, mut f_prd) =
            (Float64Builder::new(), Float64Builder::new(), Float64Builder::new(), Float64Builder::new());
        let mut f_trace = StringBuilder::new();
        let mut n_lines = 0;
        for _ in 0..encs {
            self.next_enc += 1;
            let enc = self.next_enc;
            let psn = self.rng.below(self.persons);
            let kind = self.rng.below(100);
            let (med, stay) = match kind {
                0..=79 => ("11", 0),
                80..=87 => ("21", 1 + self.rng.below(8) as i64),
                _ => ("41", 0),
            };
            let t = d * DAY + 8 * 3600 + self.rng.below(10 * 3600) as i64;
            let eid = self.id('M', enc, 11).to_string();
            let pid = self.id('P', psn, 9).to_string();
            m_id.append_value(&eid);
            m_psn.append_value(&pid);
            // Sex and birth date follow from the person, flipped once in 10,000 encounters.
            let flip = self.rng.below(10_000) == 0;
            m_gend.append_value(if (psn % 2 == 0) ^ flip { "1" } else { "2" });
            m_brdy.push((days_from_civil(1940, 1, 1) + (psn % 20_000) as i64) as i32);
            m_med.append_value(med);
            let fac = self.rng.below(2000);
            m_fac.append_value(self.id('H', fac, 8));
            m_begn.append_value(t);
            m_end.append_value(t + stay * DAY + 1800);
            d_id.append_value(&eid);
            d_code.append_value(["I10.x00", "E11.900", "J18.900"][self.rng.below(3) as usize]);
            d_main.append_value("1");
            let k = 1 + self.rng.below(11);
            let mut total = 0.0;
            for j in 0..k {
                self.next_line += 1;
                let sn = self.id('L', self.next_line, 12).to_string();
                f_sn.append_value(&sn);
                f_enc.append_value(&eid);
                f_psn.append_value(&pid);
                f_time.append_value(t + 60 * j as i64);
                let u = self.rng.unit();
                let (code, pric, prd, trace) = if u < 0.1 {
                    let (c, p, prd) = ITEMS[self.rng.below(ITEMS.len() as u64) as usize];
                    (c, p, prd, None)
                } else if u < 0.1 + self.trace_share {
                    let (c, p) = DRUGS[self.rng.below(DRUGS.len() as u64) as usize];
                    let code = if self.rng.below(2000) == 0 && !self.recent.is_empty() {
                        let i = self.rng.below(self.recent.len() as u64) as usize;
                        self.recent.get(i).map(|r| r.0.clone()).unwrap_or_default()
                    } else {
                        self.next_code += 1;
                        let c = format!("81{:018}", self.next_code);
                        if self.next_code % 1000 == 0 {
                            if self.recent.len() >= 4096 {
                                self.recent.remove(0);
                            }
                            self.recent.push((c.clone(), self.next_code));
                        }
                        c
                    };
                    (c, p, None, Some(code))
                } else {
                    let (c, p) = SERVICES[self.rng.below(SERVICES.len() as u64) as usize];
                    (c, p, None, None)
                };
                let cnt = if code.starts_with("XA10") { 42.0 } else { 1.0 };
                f_code.append_value(code);
                f_cnt.append_value(cnt);
                f_pric.append_value(pric);
                f_sum.append_value(cnt * pric);
                f_prd.append_option(prd);
                f_trace.append_option(trace);
                total += cnt * pric;
                n_lines += 1;
            }
            m_sum.append_value(total);
        }
        let batch = |cols: Vec<(&str, ArrayRef)>| -> Res<RecordBatch> {
            let schema =
                Schema::new(cols.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect::<Vec<_>>());
            Ok(RecordBatch::try_new(Arc::new(schema), cols.into_iter().map(|(_, a)| a).collect())?)
        };
        let mdtrt = batch(vec![
            ("mdtrt_id", Arc::new(m_id.finish())),
            ("psn_no", Arc::new(m_psn.finish())),
            ("gend", Arc::new(m_gend.finish())),
            ("brdy", Arc::new(Date32Array::from(m_brdy))),
            ("med_type", Arc::new(m_med.finish())),
            ("fixmedins_code", Arc::new(m_fac.finish())),
            ("begntime", Arc::new(m_begn.finish())),
            ("endtime", Arc::new(m_end.finish())),
            ("medfee_sumamt", Arc::new(m_sum.finish())),
        ])?;
        let diagnoses = batch(vec![
            ("mdtrt_id", Arc::new(d_id.finish())),
            ("diag_code", Arc::new(d_code.finish())),
            ("maindiag_flag", Arc::new(d_main.finish())),
        ])?;
        let fee = batch(vec![
            ("feedetl_sn", Arc::new(f_sn.finish())),
            ("mdtrt_id", Arc::new(f_enc.finish())),
            ("psn_no", Arc::new(f_psn.finish())),
            ("hilist_code", Arc::new(f_code.finish())),
            ("fee_ocur_time", Arc::new(f_time.finish())),
            ("cnt", Arc::new(f_cnt.finish())),
            ("pric", Arc::new(f_pric.finish())),
            ("det_item_fee_sumamt", Arc::new(f_sum.finish())),
            ("prd_days", Arc::new(f_prd.finish())),
            ("drug_trac_codg", Arc::new(f_trace.finish())),
        ])?;
        Ok(Day {
            claims: Claims {
                mdtrt: vec![mdtrt],
                diagnoses: vec![diagnoses],
                operations: Vec::new(),
                fee_details: vec![fee],
                column_map: Default::default(),
            },
            lines: n_lines,
        })
    }
}

fn main() -> Res<()> {
    let a = args()?;
    let engine = Engine::new(RulePack::history_sample()?)?;
    let mut auditor = Auditor::new(&engine, &CheckOptions::default(), 3600)?;
    let mut g = Gen {
        rng: Rng(a.seed),
        persons: a.persons,
        trace_share: a.trace_share,
        next_enc: 0,
        next_line: 0,
        next_code: 0,
        recent: Vec::new(),
        buf: String::new(),
    };
    let start = days_from_civil(2026, 1, 1);
    let per_day = a.lines / 365 + 1;
    let (mut lines, mut cpu, mut gen_cpu) = (0u64, Duration::ZERO, Duration::ZERO);
    let mut by_rule: BTreeMap<String, u64> = BTreeMap::new();
    let wall = Instant::now();
    let mut d = 0;
    while lines < a.lines {
        let c0 = thread_cpu();
        let day = g.day(start + d, per_day.min(a.lines - lines))?;
        let c1 = thread_cpu();
        let out = auditor.push(&day.claims)?;
        cpu += thread_cpu() - c1;
        gen_cpu += c1 - c0;
        lines += day.lines;
        for f in out.findings {
            *by_rule.entry(f.rule_id).or_default() += 1;
        }
        d += 1;
        if d % 30 == 0 {
            let s = auditor.stats();
            eprintln!(
                "day {d}: {lines} lines, {} persons, {} trace codes, RSS {} MiB",
                s.persons,
                s.trace_codes,
                kib("VmRSS") / 1024
            );
        }
    }
    let c1 = thread_cpu();
    for f in auditor.finish()?.findings {
        *by_rule.entry(f.rule_id).or_default() += 1;
    }
    cpu += thread_cpu() - c1;
    let s = auditor.stats();
    println!(
        "history_stream: {lines} fee lines, {} encounters, {d} daily batches, {} persons in the pool",
        g.next_enc, a.persons
    );
    println!(
        "  state at the end: {} persons, {} trace codes, {} events waiting",
        s.persons, s.trace_codes, s.buffered_events
    );
    println!("  findings: {by_rule:?}");
    println!(
        "  auditor CPU {:.1} s: {:.2} M lines/s per core; generation CPU {:.1} s; wall {:.1} s",
        cpu.as_secs_f64(),
        lines as f64 / cpu.as_secs_f64().max(1e-9) / 1e6,
        gen_cpu.as_secs_f64(),
        wall.elapsed().as_secs_f64()
    );
    println!("  peak RSS (VmHWM): {} MiB", kib("VmHWM") / 1024);
    Ok(())
}
