//! Generated claims whose codes are drawn from an imported national pack, to run the whole pack
//! (every rule, thousands of knowledge points) over realistic-looking encounters.
//!
//! Each encounter has a random patient (sex, age from newborn to 90, insurance type 310/390/410/
//! 510), facility tier, scene (普通门诊, 急诊, 慢特病, 住院, 购药, and the pack's first 互联网
//! med_type when it has one), one or two diagnoses (some within the starter indication mapping),
//! and 2–10 fee lines: most drawn from the pack's knowledge rows (a pair point adds its B item in
//! the same window, a time-billed item sometimes runs over its limit), the rest filler items.
//! There is no ground truth: violations arise from the random mix, as in real data.
//!
//! Deterministic: the same pack and [`Config`](crate::synth::Config) give the same claims. No IO.

use crate::claims::Claims;
use crate::pack::{RulePack, Scene};
use crate::synth::{Config, Rng};
use crate::time::{days_from_civil, DAY};
use arrow_array::builder::{Float64Builder, StringBuilder};
use arrow_array::{ArrayRef, Date32Array, RecordBatch, TimestampSecondArray};
use arrow_schema::{Field, Schema};
use std::sync::Arc;

/// One code a line may bill, with its knowledge row's companion (`code_b`).
struct Item {
    code: String,
    name: String,
    code_b: Option<String>,
}

const FILLER: &[(&str, &str)] = &[
    ("002501010010000", "血细胞分析"),
    ("002503010010000", "肝功能检测"),
    ("001204000010000", "静脉注射"),
    ("XJ01CAA040A001010100001", "阿莫西林胶囊"),
    ("XC08CAA013A001010100004", "氨氯地平片"),
];
const DIAGS: &[&str] =
    &["I10.x00", "J06.900", "K29.700", "E11.900", "B20.000", "I63.900", "C34.900", "N40.x00", "O80.000", "M54.500"];

fn items(pack: &RulePack) -> Vec<Item> {
    let mut out = Vec::new();
    for decl in pack.knowledge.values() {
        let Some(t) = &decl.inline else { continue };
        for r in 0..t.len() {
            let (Ok(Some(codes)), name) = (t.str("code", r), t.str("item_name", r).ok().flatten()) else { continue };
            let code_b = t.str("code_b", r).ok().flatten().map(str::to_string);
            for c in codes.split('|').filter(|c| !c.is_empty()) {
                out.push(Item {
                    code: c.to_string(),
                    name: name.unwrap_or("").split('×').next().unwrap_or("").to_string(),
                    code_b: code_b.clone(),
                });
            }
        }
    }
    out
}

#[derive(Default)]
struct Cols {
    m_id: Vec<String>,
    m_gend: Vec<&'static str>,
    m_brdy: Vec<i32>,
    m_insutype: Vec<&'static str>,
    m_med_type: Vec<String>,
    m_fix: Vec<String>,
    m_lv: Vec<&'static str>,
    m_begn: Vec<i64>,
    m_end: Vec<i64>,
    d_id: Vec<usize>,
    d_code: Vec<&'static str>,
    f_enc: Vec<usize>,
    f_code: Vec<String>,
    f_name: Vec<String>,
    f_time: Vec<i64>,
    f_cnt: Vec<f64>,
    f_pric: Vec<f64>,
}

/// Generates claims for `pack` (typically [`super::NationalImport::pack`]); uses `encounters`,
/// `seed`, `start`, `days`, `facilities` and `batch_rows` of `cfg`.
///
/// ```
/// use medaudit_core::{national, synth, CheckOptions, Engine};
/// let records = r#"[{"kp_id": "KP-1", "rule_class": "药品限工伤保险", "med_codes": ["XA"],
///   "item_name": "某药", "constraint": "限工伤保险", "batch": 3}]"#;
/// let imp = national::import(records, &national::ImportOptions::default())?;
/// let claims = synth::generate_national(&imp.pack, &synth::Config { encounters: 200, ..Default::default() });
/// let out = Engine::new(imp.pack)?.check(&claims, &CheckOptions::default())?;
/// assert!(!out.findings.is_empty());
/// # Ok::<(), medaudit_core::Error>(())
/// ```
pub fn generate(pack: &RulePack, cfg: &Config) -> Claims {
    let pool = items(pack);
    let mut rng = Rng(cfg.seed ^ 0x6e61_7469_6f6e_616c);
    let internet = pack.scenes.get(&Scene::Internet).and_then(|v| v.first()).cloned();
    let start = days_from_civil(cfg.start.0, cfg.start.1, cfg.start.2) * DAY;
    let facilities = cfg.facilities.max(1);
    let mut c = Cols::default();
    for n in 0..cfg.encounters {
        let inpatient = rng.chance(0.2);
        let med_type = if inpatient {
            "21".to_string()
        } else {
            match (rng.below(10), &internet) {
                (0, Some(i)) => i.clone(),
                (1, _) => "13".into(),
                (2, _) => "14".into(),
                (3, _) => "41".into(),
                _ => "11".into(),
            }
        };
        let begin = start + rng.below(cfg.days.max(1) as u64) as i64 * DAY + 8 * 3600;
        let los = if inpatient { 1 + rng.below(10) as i64 } else { 0 };
        let end = begin + los * DAY + 2 * 3600;
        let age_days = rng.below(90 * 365) as i64;
        c.m_id.push(format!("N{n:09}"));
        c.m_gend.push(if rng.chance(0.5) { "1" } else { "2" });
        c.m_brdy.push(i32::try_from(begin / DAY - age_days).unwrap_or(0));
        c.m_insutype.push(*rng.pick(&["310", "310", "390", "410", "510"]));
        c.m_med_type.push(med_type);
        c.m_fix.push(format!("H{:05}", rng.below(facilities as u64)));
        c.m_lv.push(*rng.pick(&["01", "03", "05", "06", "08", "11"]));
        c.m_begn.push(begin);
        c.m_end.push(end);
        for _ in 0..1 + rng.below(2) {
            c.d_id.push(n);
            c.d_code.push(*rng.pick(DIAGS));
        }
        let lines = 2 + rng.below(9);
        for _ in 0..lines {
            let t = begin + rng.below((los * DAY + 3600) as u64) as i64;
            let (code, name, code_b) = if pool.is_empty() || rng.chance(0.3) {
                let (code, name) = *rng.pick(FILLER);
                (code.to_string(), name.to_string(), None)
            } else {
                let it = rng.pick(&pool);
                (it.code.clone(), it.name.clone(), it.code_b.clone())
            };
            let cnt = if rng.chance(0.1) { 2.0 + rng.below(24) as f64 } else { 1.0 };
            let pric = 1.0 + rng.below(20_000) as f64 / 100.0;
            if let Some(b) = code_b.filter(|_| rng.chance(0.5)) {
                line(&mut c, n, b, String::new(), t + 1800, 1.0, pric);
            }
            line(&mut c, n, code, name, t, cnt, pric);
        }
    }
    build(&c, cfg)
}

fn line(c: &mut Cols, enc: usize, code: String, name: String, t: i64, cnt: f64, pric: f64) {
    c.f_enc.push(enc);
    c.f_code.push(code);
    c.f_name.push(name);
    c.f_time.push(t);
    c.f_cnt.push(cnt);
    c.f_pric.push(pric);
}

fn strs<'a>(v: impl Iterator<Item = &'a str>) -> ArrayRef {
    let mut b = StringBuilder::new();
    v.for_each(|s| b.append_value(s));
    Arc::new(b.finish())
}

fn nums(v: impl Iterator<Item = f64>) -> ArrayRef {
    let mut b = Float64Builder::new();
    v.for_each(|x| b.append_value(x));
    Arc::new(b.finish())
}

fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let schema = Schema::new(cols.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect::<Vec<_>>());
    RecordBatch::try_new(Arc::new(schema), cols.into_iter().map(|(_, a)| a).collect())
        .unwrap_or_else(|_| RecordBatch::new_empty(Arc::new(Schema::empty())))
}

fn build(c: &Cols, cfg: &Config) -> Claims {
    let id = |i: &usize| c.m_id.get(*i).map_or("", String::as_str);
    let mdtrt = batch(vec![
        ("mdtrt_id", strs(c.m_id.iter().map(String::as_str))),
        ("psn_no", strs(c.m_id.iter().map(|s| s.as_str()))),
        ("gend", strs(c.m_gend.iter().copied())),
        ("brdy", Arc::new(Date32Array::from(c.m_brdy.clone()))),
        ("insutype", strs(c.m_insutype.iter().copied())),
        ("med_type", strs(c.m_med_type.iter().map(String::as_str))),
        ("fixmedins_code", strs(c.m_fix.iter().map(String::as_str))),
        ("hosp_lv", strs(c.m_lv.iter().copied())),
        ("begntime", Arc::new(TimestampSecondArray::from(c.m_begn.clone()))),
        ("endtime", Arc::new(TimestampSecondArray::from(c.m_end.clone()))),
    ]);
    let diagnoses =
        batch(vec![("mdtrt_id", strs(c.d_id.iter().map(id))), ("diag_code", strs(c.d_code.iter().copied()))]);
    let n = c.f_enc.len();
    let chunk = if cfg.batch_rows == 0 { n.max(1) } else { cfg.batch_rows };
    let mut fee = Vec::new();
    let mut lo = 0;
    loop {
        let r = lo..(lo + chunk).min(n);
        let sl = |v: &[f64]| v.get(r.clone()).unwrap_or(&[]).to_vec();
        let encs = c.f_enc.get(r.clone()).unwrap_or(&[]);
        let times = c.f_time.get(r.clone()).unwrap_or(&[]).to_vec();
        let cnt = sl(&c.f_cnt);
        let pric = sl(&c.f_pric);
        fee.push(batch(vec![
            (
                "feedetl_sn",
                strs(r.clone().map(|i| format!("NF{i:010}")).collect::<Vec<_>>().iter().map(String::as_str)),
            ),
            ("mdtrt_id", strs(encs.iter().map(id))),
            ("psn_no", strs(encs.iter().map(id))),
            ("hilist_code", strs(c.f_code.get(r.clone()).unwrap_or(&[]).iter().map(String::as_str))),
            ("hilist_name", strs(c.f_name.get(r.clone()).unwrap_or(&[]).iter().map(String::as_str))),
            ("fee_ocur_time", Arc::new(TimestampSecondArray::from(times))),
            ("det_item_fee_sumamt", nums(cnt.iter().zip(&pric).map(|(a, b)| (a * b * 100.0).round() / 100.0))),
            ("cnt", nums(cnt.into_iter())),
            ("pric", nums(pric.into_iter())),
            ("rxno", strs(encs.iter().map(id))),
        ]));
        lo = r.end;
        if lo >= n {
            break;
        }
    }
    Claims {
        mdtrt: vec![mdtrt],
        diagnoses: vec![diagnoses],
        operations: Vec::new(),
        fee_details: fee,
        ..Default::default()
    }
}
