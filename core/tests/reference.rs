//! A naive reference evaluator of all 19 templates, written from the template module docs (and the
//! claims null table, the knowledge and pack docs), and property tests showing that the engine
//! gives exactly the same findings and `unjudged` counts on random claims.
//!
//! The reference reads the same JSON claims rows as [`claims_from_json`] into plain structs and
//! the rule pack from its JSON text, and then goes line by line, rule by rule, knowledge row by
//! knowledge row, with nested loops and no lookup structures. It uses only the public API of the
//! crate to run the engine (`RulePack`, `Engine::check`, `claims_from_json`, `Finding`, `Unjudged`).
//!
//! Where the documentation leaves a detail open, the reference follows the engine; each such point
//! is written down here.
//!
//! 1. A null `fee_ocur_time` on a line selected by a rule or knowledge point with effective dates
//!    is counted as unjudged only when the rule applies to the encounter's scene; a known time
//!    outside the dates skips the line before the encounter is looked at.
//! 2. A knowledge point that is never in force (entirely superseded, or dates disjoint from the
//!    rule's) still counts null-time lines as unjudged ("has effective dates"); for code-selected
//!    rules the reason names the knowledge point even when only the rule has dates.
//! 3. `unjudged` counts one per (line, matching knowledge entry): a listed herb without `rxno`
//!    and time counts twice for `herbs_only` (listed row and herb prefix), a line matching two
//!    rows counts once per row; `bed_days` counts a stay without begntime/endtime once per
//!    encounter.
//! 4. A known bound that is broken fires even when another needed value is unknown (`age` with
//!    year bounds and `max_age_days`, `fee_time` `outside_stay` with one bound null); the line is
//!    unjudged only when nothing proves a violation.
//! 5. `age` takes `mdtrt.age` for the years when `brdy` is present but `fee_ocur_time` is null.
//! 6. `surgery_discount` needs the `pric` of every line of a day with two or more codes (also of
//!    the main operation and of lines without `std_price`).
//! 7. Tolerances: `amount_mismatch` fires above `tolerance + 1e-9`, `frequency` above
//!    `limit + 1e-9`; `price_cap` and `surgery_discount` compare without epsilon.
//! 8. Lists given in a knowledge column (`a|b`) are trimmed, lists given in `params` are not.
//! 9. Number formats in messages: money with 2 decimals, quantities `{:.0}` or `{:.2}`, `cnt`
//!    `{:.0}` or shortest, rates as rounded percent.
//! 10. The sample's `expr` rule (antineoplastic_without_cancer: a line coded `XL01…` and no cancer
//!     diagnosis) never fires here: no generated code starts with `XL01`, which the reference
//!     asserts. Expressions are checked against the built-in templates in `tests/expr.rs`.
//!
//! Random inputs: a few encounters with random attributes (nulls included), 0–30 fee lines drawn
//! from the pack's knowledge codes, prefix extensions of them and unknown codes, random times,
//! quantities, prices, departments and prescriptions, diagnoses that may be absent, empty or
//! present; the sample pack as shipped or mutated (table and row match modes, effective dates,
//! superseding rows, per-row parameters moved to the rule's params, rule scenes, stages, dates and
//! messages, extra rules sharing tables); a random stage and a random subset of rule ids; and each
//! case is also run with random Arrow types (dictionary, large, view strings; float32, integer,
//! decimal numbers; zoned timestamps, dates) and random batch splits.

use arrow_array::RecordBatch;
use medaudit_core::claims::claims_from_json;
use medaudit_core::{CheckBatch, CheckOptions, CheckOutput, Claims, Engine, Error, Finding, RulePack, Stage, Unjudged};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------------------------
// Time, written out naively.

const DAY: i64 = 86_400;
const MIN: i64 = i64::MIN;
const MAX: i64 = i64::MAX;

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn year_len(y: i64) -> i64 {
    if leap(y) {
        366
    } else {
        365
    }
}

fn month_len(y: i64, m: i64) -> i64 {
    match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let mut days = 0;
    let mut yy = 1970;
    while yy < y {
        days += year_len(yy);
        yy += 1;
    }
    while yy > y {
        yy -= 1;
        days -= year_len(yy);
    }
    for mm in 1..m {
        days += month_len(y, mm);
    }
    days + d - 1
}

fn civil_from_days(mut z: i64) -> (i64, i64, i64) {
    let mut y = 1970;
    while z < 0 {
        y -= 1;
        z += year_len(y);
    }
    while z >= year_len(y) {
        z -= year_len(y);
        y += 1;
    }
    let mut m = 1;
    while z >= month_len(y, m) {
        z -= month_len(y, m);
        m += 1;
    }
    (y, m, z + 1)
}

/// `YYYY-MM-DD[ HH:MM:SS]`, as the generator writes them, to wall-clock seconds.
fn parse_time(s: &str) -> i64 {
    let (date, time) = s.split_once(' ').unwrap_or((s, "00:00:00"));
    let d: Vec<i64> = date.split('-').map(|x| x.parse().expect("date")).collect();
    let t: Vec<i64> = time.split(':').map(|x| x.parse().expect("time")).collect();
    days_from_civil(d[0], d[1], d[2]) * DAY + t[0] * 3600 + t[1] * 60 + t.get(2).copied().unwrap_or(0)
}

fn day(t: i64) -> i64 {
    t.div_euclid(DAY)
}

fn fmt_time(t: i64) -> String {
    let (y, m, d) = civil_from_days(day(t));
    let s = t.rem_euclid(DAY);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn age_years(birth: i64, at: i64) -> i64 {
    let (by, bm, bd) = civil_from_days(day(birth));
    let (y, m, d) = civil_from_days(day(at));
    y - by - i64::from((m, d) < (bm, bd))
}

// ---------------------------------------------------------------------------------------------
// The templates' fixed vocabulary, copied from their specs.

fn default_message(t: &str) -> &'static str {
    match t {
        "sex" => "{item_name}限{sex}性使用，患者性别为{gend}",
        "insutype" => "{item_name}限{allowed}险种支付，本次险种为{insutype}",
        "hosp_level" => "{item_name}限{min_level}及以上医疗机构使用，本机构等级为{hosp_lv}",
        "scene" => "{item_name}{limit}，本次就医场景为{scene}",
        "dept" => "{item_name}限{depts}科室开具，开单科室为{dept}",
        "age" => "{item_name}限{limit}使用，患者年龄为{age}",
        "price_cap" => "{item_name}单价{price}元，超过限价{cap}元",
        "not_payable" => "{item_name}不属于医保基金支付范围",
        "amount_mismatch" => "{item_name}明细金额{sumamt}元与数量{cnt}×单价{pric}不符",
        "fee_time" => "{item_name}费用发生时间{fee_time}，{bound}",
        "bed_days" => "床位费计费{qty}天，超过住院天数{los}天",
        "frequency" => "{item_name}{window}限{limit}次，实际计费{qty}",
        "diag_required" => "{item_name}限{diag_set}使用，本次就诊无相应诊断",
        "diag_forbidden" => "{item_name}禁用于{diag_set}患者",
        "pair" => "{item_name}与{related_item}{window}同时收费",
        "companion" => "{item_name}{window}未见关联项目{code_b}",
        "surgery_discount" => "{item_name}与同组({group})主手术同日收费，单价{price}元，应按{rate}折价为{expected}元",
        "herbs_only" => "{item_name}单独使用或处方全部由不予支付饮片({herbs}味)组成",
        "rx_drug_count" => "单张处方开具药品{count}种，超过{limit}种",
        "expr" => "{rule_name}",
        other => panic!("unknown template {other}"),
    }
}

fn placeholders(t: &str) -> &'static [&'static str] {
    match t {
        "sex" => &["sex", "gend"],
        "insutype" => &["allowed", "insutype"],
        "hosp_level" => &["min_level", "hosp_lv"],
        "scene" => &["scene", "limit"],
        "dept" => &["depts", "dept"],
        "age" => &["age", "limit"],
        "price_cap" => &["price", "cap"],
        "amount_mismatch" => &["cnt", "pric", "sumamt"],
        "fee_time" => &["fee_time", "bound"],
        "bed_days" => &["los", "qty"],
        "frequency" => &["limit", "window", "qty"],
        "diag_required" | "diag_forbidden" => &["diag_set"],
        "pair" => &["related_item", "window"],
        "companion" => &["code_b", "window"],
        "surgery_discount" => &["group", "price", "expected", "rate"],
        "herbs_only" => &["herbs"],
        "rx_drug_count" => &["count", "limit"],
        _ => &[],
    }
}

/// Parameters a knowledge row may give (the row's value wins over the rule's `params`).
fn per_row(t: &str, p: &str) -> bool {
    let names: &[&str] = match t {
        "sex" => &["sex"],
        "insutype" => &["insutype"],
        "hosp_level" => &["min_level"],
        "scene" => &["allowed_scenes", "denied_scenes"],
        "dept" => &["depts"],
        "age" => &["min_age", "max_age", "max_age_days"],
        "price_cap" => &["max_price", "max_price_l3", "max_price_l2", "max_price_l1", "tolerance"],
        "frequency" => &["max_qty", "window"],
        "diag_required" | "diag_forbidden" => &["diag_set"],
        "pair" | "companion" => &["code_b", "window"],
        "surgery_discount" => &["group", "std_price"],
        _ => &[],
    };
    names.contains(&p)
}

/// Claims columns each template reads, in the order of its spec.
fn needs(t: &str) -> &'static [(&'static str, &'static str)] {
    const F: &str = "fee_details";
    const M: &str = "mdtrt";
    match t {
        "sex" => &[(M, "gend")],
        "insutype" => &[(M, "insutype")],
        "hosp_level" => &[(M, "hosp_lv")],
        "scene" => &[(M, "med_type")],
        "dept" => &[(F, "bilg_dept_codg")],
        "price_cap" => &[(F, "pric"), (F, "cnt")],
        "amount_mismatch" => &[(F, "cnt"), (F, "pric"), (F, "det_item_fee_sumamt")],
        "fee_time" => &[(F, "fee_ocur_time")],
        "bed_days" => &[(F, "cnt"), (M, "begntime"), (M, "endtime")],
        "frequency" => &[(F, "cnt"), (F, "fee_ocur_time")],
        "pair" => &[(F, "fee_ocur_time")],
        "surgery_discount" => &[(F, "pric"), (F, "cnt"), (F, "fee_ocur_time")],
        _ => &[],
    }
}

fn windowed(t: &str) -> bool {
    matches!(t, "frequency" | "bed_days" | "pair" | "companion" | "surgery_discount" | "herbs_only" | "rx_drug_count")
}

const SCENES: [(u8, &str); 4] = [(1, "门诊"), (2, "住院"), (4, "购药"), (8, "互联网")];
const ALL_SCENES: u8 = 0b1111;

fn scene_bit(s: &str) -> u8 {
    match s {
        "门诊" | "outpatient" => 1,
        "住院" | "inpatient" => 2,
        "购药" | "pharmacy" => 4,
        "互联网" | "internet" => 8,
        other => panic!("unknown scene {other}"),
    }
}

fn scene_names(bits: u8) -> String {
    SCENES.iter().filter(|(b, _)| bits & b != 0).map(|(_, l)| *l).collect::<Vec<_>>().join("、")
}

fn sex_code(s: &str) -> Option<u8> {
    match s.trim() {
        "1" | "男" | "M" | "m" | "male" => Some(1),
        "2" | "女" | "F" | "f" | "female" => Some(2),
        _ => None,
    }
}

fn sex_label(c: u8) -> String {
    if c == 1 { "男" } else { "女" }.to_string()
}

fn tier(hosp_lv: &str) -> Option<u8> {
    match hosp_lv.trim() {
        "01" | "02" | "03" | "04" => Some(3),
        "05" | "06" | "07" => Some(2),
        "08" | "09" | "10" => Some(1),
        "11" | "12" | "13" | "14" => Some(0),
        _ => None,
    }
}

fn tier_label(t: u8) -> String {
    match t {
        3 => "三级",
        2 => "二级",
        1 => "一级",
        _ => "未定级",
    }
    .to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Win {
    Hour,
    Hours(i64),
    Day,
    Encounter,
}

fn window(s: &str) -> Win {
    match s {
        "hour" => Win::Hour,
        "day" => Win::Day,
        "encounter" => Win::Encounter,
        other => Win::Hours(other.strip_suffix('h').and_then(|n| n.parse().ok()).expect("window")),
    }
}

fn window_label(w: Win) -> String {
    match w {
        Win::Hour => "同一小时".into(),
        Win::Hours(n) => format!("{n}小时内"),
        Win::Day => "同一日".into(),
        Win::Encounter => "同一次就诊".into(),
    }
}

fn money(x: f64) -> String {
    format!("{x:.2}")
}

fn fmt_qty(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

fn trim_num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

fn render(template: &str, args: &[(&str, String)]) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let j = after.find('}').expect("closed placeholder");
        let name = &after[..j];
        match args.iter().find(|(k, _)| *k == name) {
            Some((_, v)) => out.push_str(v),
            None => out.push_str(&format!("{{{name}}}")),
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    out
}

fn stable_id(parts: &[&str]) -> String {
    const PRIME: u64 = 0x0100_0000_01b3;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h = h.wrapping_mul(PRIME); // the NUL separator
        }
        for b in p.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(PRIME);
        }
    }
    format!("{h:016x}")
}

// ---------------------------------------------------------------------------------------------
// The rule pack, read from its JSON.

struct KTable {
    name: String,
    prefix: bool,
    rows: Vec<Map<String, Value>>,
    /// `[from, to)` of each row after `supersedes`.
    validity: Vec<(i64, i64)>,
}

struct RRule {
    id: String,
    code: Option<String>,
    name: String,
    template: String,
    params: Map<String, Value>,
    knowledge: Option<String>,
    severity: String,
    warn_level: u8,
    stages: Vec<String>,
    scenes: u8,
    from: i64,
    to: i64,
    basis: Option<String>,
    message: String,
}

struct RPack {
    /// (med_type prefix, scene bit).
    scenes: Vec<(String, u8)>,
    sets: BTreeMap<String, Vec<Regex>>,
    tables: BTreeMap<String, KTable>,
    rules: Vec<RRule>,
}

fn nonnull<'a>(o: &'a Map<String, Value>, k: &str) -> Option<&'a Value> {
    o.get(k).filter(|v| !v.is_null())
}

/// A knowledge cell as a string; a list is stored as `a|b`.
fn kstr(row: &Map<String, Value>, k: &str) -> Option<String> {
    match nonnull(row, k)? {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => Some(a.iter().map(|x| x.as_str().expect("list of strings")).collect::<Vec<_>>().join("|")),
        other => panic!("{k}: not a string: {other}"),
    }
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().map(|x| x.as_str().expect("string").to_string()).collect()).unwrap_or_default()
}

fn stage_label(s: &str) -> &'static str {
    match s {
        "事前" | "pre" => "事前",
        "事中" | "during" => "事中",
        "事后" | "post" => "事后",
        other => panic!("stage {other}"),
    }
}

fn parse_pack(v: &Value) -> RPack {
    let mut scene_map: BTreeMap<u8, Vec<String>> =
        [(1, vec!["1".to_string()]), (2, vec!["2".to_string()]), (4, vec!["41".to_string()]), (8, vec![])].into();
    if let Some(o) = v.get("scenes").and_then(Value::as_object) {
        for (k, list) in o {
            scene_map.insert(scene_bit(k), strs(list));
        }
    }
    let scenes = scene_map.into_iter().flat_map(|(bit, codes)| codes.into_iter().map(move |c| (c, bit))).collect();
    let mut sets = BTreeMap::new();
    if let Some(o) = v.get("code_sets").and_then(Value::as_object) {
        for (k, pats) in o {
            sets.insert(k.clone(), strs(pats).iter().map(|p| Regex::new(p).expect("pattern")).collect());
        }
    }
    let mut tables = BTreeMap::new();
    if let Some(o) = v.get("knowledge").and_then(Value::as_object) {
        for (name, t) in o {
            let rows: Vec<Map<String, Value>> = t["rows"]
                .as_array()
                .expect("inline rows")
                .iter()
                .map(|r| r.as_object().expect("row").clone())
                .collect();
            let mut validity: Vec<(i64, i64)> = rows
                .iter()
                .map(|r| {
                    (
                        kstr(r, "effective_from").map_or(MIN, |s| parse_time(&s)),
                        kstr(r, "effective_to").map_or(MAX, |s| parse_time(&s)),
                    )
                })
                .collect();
            // A superseded point stops where the point replacing it starts (everywhere when that
            // point has no start).
            for (r, row) in rows.iter().enumerate() {
                if let Some(old) = kstr(row, "supersedes") {
                    let target =
                        rows.iter().position(|x| kstr(x, "kp_id").as_deref() == Some(old.as_str())).expect("target");
                    validity[target].1 = validity[target].1.min(validity[r].0);
                }
            }
            tables.insert(
                name.clone(),
                KTable {
                    name: name.clone(),
                    prefix: t.get("match").and_then(Value::as_str) == Some("prefix"),
                    rows,
                    validity,
                },
            );
        }
    }
    let rules = v["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| {
            let s = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
            let template = s("template").expect("template");
            RRule {
                id: s("id").expect("id"),
                code: s("code"),
                name: s("name").expect("name"),
                params: r.get("params").and_then(Value::as_object).cloned().unwrap_or_default(),
                knowledge: s("knowledge"),
                severity: match s("severity").as_deref() {
                    Some("明确违规" | "violation") => "明确违规".to_string(),
                    _ => "可疑".to_string(),
                },
                warn_level: r.get("warn_level").and_then(Value::as_u64).map_or(1, |x| x as u8),
                stages: match r.get("stages") {
                    Some(Value::Array(a)) => {
                        a.iter().map(|x| stage_label(x.as_str().expect("stage")).to_string()).collect()
                    }
                    _ => vec!["事前".into(), "事中".into(), "事后".into()],
                },
                scenes: match r.get("scenes") {
                    Some(Value::Array(a)) => a.iter().fold(0, |m, x| m | scene_bit(x.as_str().expect("scene"))),
                    _ => ALL_SCENES,
                },
                from: s("effective_from").map_or(MIN, |d| parse_time(&d)),
                to: s("effective_to").map_or(MAX, |d| parse_time(&d)),
                basis: s("basis"),
                message: s("message").unwrap_or_else(|| default_message(&template).to_string()),
                template,
            }
        })
        .collect();
    RPack { scenes, sets, tables, rules }
}

/// A parameter: the knowledge row's column of that name, else the rule's `params`.
fn param<'a>(rule: &'a RRule, row: Option<&'a Map<String, Value>>, name: &str) -> Option<&'a Value> {
    if per_row(&rule.template, name) {
        if let Some(v) = row.and_then(|r| nonnull(r, name)) {
            return Some(v);
        }
    }
    nonnull(&rule.params, name)
}

fn p_num(rule: &RRule, row: Option<&Map<String, Value>>, name: &str) -> Option<f64> {
    match param(rule, row, name)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => Some(s.trim().parse().expect("number")),
        other => panic!("{name}: {other}"),
    }
}

fn p_str(rule: &RRule, row: Option<&Map<String, Value>>, name: &str) -> Option<String> {
    match param(rule, row, name)? {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => Some(a.iter().map(|x| x.as_str().expect("string")).collect::<Vec<_>>().join("|")),
        other => panic!("{name}: {other}"),
    }
}

fn p_list(rule: &RRule, row: Option<&Map<String, Value>>, name: &str) -> Option<Vec<String>> {
    if per_row(&rule.template, name) {
        if let Some(s) = row.and_then(|r| kstr(r, name)) {
            return Some(s.split('|').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect());
        }
    }
    nonnull(&rule.params, name).map(strs)
}

/// One way a line can be selected by a rule: a knowledge row's code (role 0), its `code_b`
/// (role 1), or a template selector (prefix of herb or drug codes, no row).
struct Sel {
    key: String,
    prefix: bool,
    role: u8,
    row: Option<usize>,
    from: i64,
    to: i64,
}

impl Sel {
    fn matches(&self, code: &str) -> bool {
        if self.prefix {
            code.starts_with(&self.key)
        } else {
            code == self.key
        }
    }
    fn bounded(&self) -> bool {
        self.from != MIN || self.to != MAX
    }
}

fn selectors(pack: &RPack, rule: &RRule) -> Vec<Sel> {
    let mut out = Vec::new();
    if let Some(t) = rule.knowledge.as_ref().and_then(|k| pack.tables.get(k)) {
        for (r, row) in t.rows.iter().enumerate() {
            let prefix = match kstr(row, "match").as_deref() {
                None => t.prefix,
                Some(m) => m == "prefix",
            };
            let (f, to) = t.validity[r];
            let (from, to) = (f.max(rule.from), to.min(rule.to));
            out.push(Sel { key: kstr(row, "code").expect("code"), prefix, role: 0, row: Some(r), from, to });
            if matches!(rule.template.as_str(), "pair" | "companion") {
                let b = p_str(rule, Some(row), "code_b").expect("code_b");
                out.push(Sel { key: b, prefix, role: 1, row: Some(r), from, to });
            }
        }
    }
    let (from, to) = (rule.from, rule.to);
    match rule.template.as_str() {
        "herbs_only" => {
            let key = p_str(rule, None, "herb_prefix").unwrap_or_else(|| "T".into());
            out.push(Sel { key, prefix: true, role: 1, row: None, from, to });
        }
        "rx_drug_count" => {
            for key in p_list(rule, None, "drug_prefixes").unwrap_or_else(|| vec!["X".into(), "Z".into()]) {
                out.push(Sel { key, prefix: true, role: 0, row: None, from, to });
            }
        }
        _ => {}
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The claims, read from the JSON rows (with the Arrow type each column is given).

#[derive(Debug, Clone, PartialEq)]
enum Fail {
    Argument,
    Column(String, String),
    Value,
}

struct RTab {
    present: bool,
    rows: Vec<Map<String, Value>>,
    types: Map<String, Value>,
}

impl RTab {
    fn read(claims: &Value, name: &str) -> Self {
        let rows = claims.get(name).and_then(Value::as_array);
        RTab {
            present: rows.is_some(),
            rows: rows.map(|a| a.iter().map(|r| r.as_object().expect("row").clone()).collect()).unwrap_or_default(),
            types: claims.pointer(&format!("/types/{name}")).and_then(Value::as_object).cloned().unwrap_or_default(),
        }
    }
    /// A table read from rows has the columns its rows name; an empty one has them all.
    fn has_column(&self, c: &str) -> bool {
        self.rows.is_empty() || self.rows.iter().any(|r| r.contains_key(c))
    }
    fn ty(&self, c: &str) -> Option<&str> {
        self.types.get(c).and_then(Value::as_str)
    }
    fn s(&self, r: usize, c: &str) -> Option<String> {
        self.rows[r].get(c).and_then(Value::as_str).map(str::to_string)
    }
    /// A number as its Arrow column holds it.
    fn n(&self, r: usize, c: &str) -> Option<f64> {
        let x = self.rows[r].get(c).and_then(Value::as_f64)?;
        let v = match self.ty(c).unwrap_or("float64") {
            "float64" => x,
            "float32" => f64::from(x as f32),
            "int64" => x as i64 as f64,
            "int32" => f64::from(x as i32),
            "decimal128" => ((x * 100.0).round() as i128) as f64 * 10f64.powi(-2),
            other => panic!("type {other}"),
        };
        v.is_finite().then_some(v)
    }
    /// A time as wall-clock seconds; a Date32 column keeps the day only.
    fn t(&self, r: usize, c: &str) -> Option<i64> {
        let t = parse_time(self.rows[r].get(c).and_then(Value::as_str)?);
        let date32 = match self.ty(c) {
            Some(ty) => ty == "date32",
            None => c == "brdy" || c == "die_date",
        };
        Some(if date32 { day(t) * DAY } else { t })
    }
}

#[derive(Debug, Clone, Default)]
struct Enc {
    id: String,
    has_row: bool,
    psn: Option<String>,
    gend: Option<String>,
    brdy: Option<i64>,
    age: Option<f64>,
    insutype: Option<String>,
    fixmedins: Option<String>,
    hosp_lv: Option<String>,
    begn: Option<i64>,
    end: Option<i64>,
    die: Option<i64>,
    /// Scene bits; 0 when unknown.
    scene: u8,
}

#[derive(Debug, Clone)]
struct Line {
    sn: Option<String>,
    mdtrt_id: Option<String>,
    code: Option<String>,
    name: Option<String>,
    psn: Option<String>,
    time: Option<i64>,
    cnt: Option<f64>,
    pric: Option<f64>,
    sum: Option<f64>,
    dept: Option<String>,
    rxno: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// The reference evaluation.

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Row(usize),
    Stay,
    Group(String),
    Rx(String),
    Day(i64),
}

#[derive(Debug, Clone)]
struct Ev {
    enc: String,
    key: Key,
    time: Option<i64>,
    line: usize,
    row: Option<usize>,
    role: u8,
}

struct RHit {
    rule: usize,
    line: usize,
    related: Option<usize>,
    amount: Option<f64>,
    row: Option<usize>,
    args: Vec<(&'static str, String)>,
}

struct Ref<'a> {
    pack: &'a RPack,
    lines: Vec<Line>,
    encs: BTreeMap<String, Enc>,
    /// (mdtrt_id, diag_code) of every diagnosis; `None` when no diagnoses table was given.
    diags: Option<Vec<(String, Option<String>)>>,
    hits: Vec<RHit>,
    unjudged: BTreeMap<(usize, String), u64>,
}

fn reference(
    pack_json: &Value,
    claims: &Value,
    stage: Option<&str>,
    rule_ids: Option<&[String]>,
) -> Result<CheckOutput, Fail> {
    let pack = parse_pack(pack_json);
    if let Some(ids) = rule_ids {
        if ids.iter().any(|id| !pack.rules.iter().any(|r| &r.id == id)) {
            return Err(Fail::Argument);
        }
    }
    let active: Vec<usize> = (0..pack.rules.len())
        .filter(|&i| {
            let r = &pack.rules[i];
            stage.is_none_or(|s| r.stages.iter().any(|x| x == s)) && rule_ids.is_none_or(|ids| ids.contains(&r.id))
        })
        .collect();
    let mdtrt = RTab::read(claims, "mdtrt");
    let diagnoses = RTab::read(claims, "diagnoses");
    let fee = RTab::read(claims, "fee_details");
    let mut encs = BTreeMap::new();
    for r in 0..mdtrt.rows.len() {
        let id = mdtrt.s(r, "mdtrt_id").ok_or(Fail::Value)?;
        let med_type = mdtrt.s(r, "med_type");
        let scene = med_type
            .map_or(0, |m| pack.scenes.iter().filter(|(p, _)| m.starts_with(p.as_str())).fold(0, |a, (_, b)| a | b));
        let e = Enc {
            id: id.clone(),
            has_row: true,
            psn: mdtrt.s(r, "psn_no"),
            gend: mdtrt.s(r, "gend"),
            brdy: mdtrt.t(r, "brdy"),
            age: mdtrt.n(r, "age"),
            insutype: mdtrt.s(r, "insutype"),
            fixmedins: mdtrt.s(r, "fixmedins_code"),
            hosp_lv: mdtrt.s(r, "hosp_lv"),
            begn: mdtrt.t(r, "begntime"),
            end: mdtrt.t(r, "endtime"),
            die: mdtrt.t(r, "die_date"),
            scene,
        };
        if encs.insert(id, e).is_some() {
            return Err(Fail::Value);
        }
    }
    let diags = if diagnoses.present {
        let mut v = Vec::new();
        for r in 0..diagnoses.rows.len() {
            v.push((diagnoses.s(r, "mdtrt_id").ok_or(Fail::Value)?, diagnoses.s(r, "diag_code")));
        }
        Some(v)
    } else {
        None
    };
    for &i in &active {
        for (table, col) in needs(&pack.rules[i].template) {
            let t = if *table == "mdtrt" { &mdtrt } else { &fee };
            if t.present && !t.has_column(col) {
                return Err(Fail::Column(table.to_string(), col.to_string()));
            }
        }
    }
    let lines = (0..fee.rows.len())
        .map(|r| Line {
            sn: fee.s(r, "feedetl_sn"),
            mdtrt_id: fee.s(r, "mdtrt_id"),
            code: fee.s(r, "hilist_code"),
            name: fee.s(r, "hilist_name"),
            psn: fee.s(r, "psn_no"),
            time: fee.t(r, "fee_ocur_time"),
            cnt: fee.n(r, "cnt"),
            pric: fee.n(r, "pric"),
            sum: fee.n(r, "det_item_fee_sumamt"),
            dept: fee.s(r, "bilg_dept_codg"),
            rxno: fee.s(r, "rxno"),
        })
        .collect();
    let mut x = Ref { pack: &pack, lines, encs, diags, hits: Vec::new(), unjudged: BTreeMap::new() };
    x.run(&active)?;
    x.output()
}

impl Ref<'_> {
    fn unj(&mut self, rule: usize, reason: &str) {
        *self.unjudged.entry((rule, reason.to_string())).or_default() += 1;
    }

    /// The encounter of an id: its `mdtrt` row, or an encounter without attributes.
    fn enc(&self, id: &str) -> Enc {
        self.encs.get(id).cloned().unwrap_or_else(|| Enc { id: id.to_string(), ..Enc::default() })
    }

    fn krow(&self, rule: usize, row: Option<usize>) -> Option<&Map<String, Value>> {
        let t = self.pack.tables.get(self.pack.rules[rule].knowledge.as_ref()?)?;
        t.rows.get(row?)
    }

    fn run(&mut self, active: &[usize]) -> Result<(), Fail> {
        let pack = self.pack;
        let sels: Vec<Vec<Sel>> = pack.rules.iter().map(|r| selectors(pack, r)).collect();
        let mut events: BTreeMap<usize, Vec<Ev>> = BTreeMap::new();
        for li in 0..self.lines.len() {
            let line = self.lines[li].clone();
            for &ri in active {
                let rule = &pack.rules[ri];
                if rule.template == "expr" {
                    // Point 10: the sample's expression needs an XL01 line to be true or null.
                    assert!(
                        !line.code.as_deref().unwrap_or("").starts_with("XL01"),
                        "the reference has no expr evaluator"
                    );
                    continue;
                }
                if matches!(rule.template.as_str(), "amount_mismatch" | "fee_time") {
                    // Data-quality rules: every line.
                    let dated = rule.from != MIN || rule.to != MAX;
                    if dated && line.time.is_some_and(|t| !(rule.from <= t && t < rule.to)) {
                        continue;
                    }
                    // The encounter is needed for its attributes, or for a rule limited to scenes.
                    let enc = if rule.template == "fee_time" || rule.scenes != ALL_SCENES {
                        let e = self.enc(line.mdtrt_id.as_deref().ok_or(Fail::Value)?);
                        if e.scene != 0 && e.scene & rule.scenes == 0 {
                            continue;
                        }
                        Some(e)
                    } else {
                        None
                    };
                    if dated && line.time.is_none() {
                        self.unj(ri, "fee_ocur_time is null and the rule has effective dates");
                        continue;
                    }
                    self.judge_line(ri, None, li, enc.as_ref())?;
                    continue;
                }
                let Some(code) = line.code.as_deref() else { continue };
                for s in sels[ri].iter().filter(|s| s.matches(code)) {
                    if s.bounded() && line.time.is_some_and(|t| !(s.from <= t && t < s.to)) {
                        continue;
                    }
                    let enc = self.enc(line.mdtrt_id.as_deref().ok_or(Fail::Value)?);
                    if enc.scene != 0 && enc.scene & rule.scenes == 0 {
                        continue;
                    }
                    if s.bounded() && line.time.is_none() {
                        self.unj(ri, "fee_ocur_time is null and the knowledge point has effective dates");
                        continue;
                    }
                    if !windowed(&rule.template) {
                        self.judge_line(ri, s.row, li, Some(&enc))?;
                        continue;
                    }
                    let key = match rule.template.as_str() {
                        "bed_days" => Key::Stay,
                        "surgery_discount" => Key::Group(p_str(rule, self.krow(ri, s.row), "group").expect("group")),
                        "herbs_only" | "rx_drug_count" => match (&line.rxno, line.time) {
                            (Some(rx), _) => Key::Rx(rx.clone()),
                            (None, Some(t)) => Key::Day(day(t)),
                            (None, None) => {
                                self.unj(ri, "fee_ocur_time is null and the prescription has no rxno");
                                continue;
                            }
                        },
                        _ => Key::Row(s.row.expect("row")),
                    };
                    events.entry(ri).or_default().push(Ev {
                        enc: enc.id,
                        key,
                        time: line.time,
                        line: li,
                        row: s.row,
                        role: s.role,
                    });
                }
            }
        }
        for (ri, evs) in events {
            // Groups of one encounter and key, each in time order (null times first), then input
            // order.
            let mut groups: BTreeMap<(String, Key), Vec<Ev>> = BTreeMap::new();
            for e in evs {
                groups.entry((e.enc.clone(), e.key.clone())).or_default().push(e);
            }
            for g in groups.values_mut() {
                g.sort_by_key(|e| (e.time, e.line, e.role));
            }
            match pack.rules[ri].template.as_str() {
                "frequency" | "bed_days" => self.quantity(ri, &groups)?,
                "pair" | "companion" => self.pair(ri, &groups),
                "surgery_discount" => self.surgery(ri, &groups)?,
                "herbs_only" => self.herbs(ri, &groups),
                _ => self.rx_count(ri, &groups),
            }
        }
        Ok(())
    }

    fn hit(
        &mut self,
        rule: usize,
        line: usize,
        row: Option<usize>,
        amount: Option<f64>,
        args: Vec<(&'static str, String)>,
    ) {
        self.hits.push(RHit { rule, line, related: None, amount, row, args });
    }

    /// Line templates: judges line `li` for `rule` and knowledge row `row`.
    fn judge_line(&mut self, ri: usize, row: Option<usize>, li: usize, enc: Option<&Enc>) -> Result<(), Fail> {
        let pack = self.pack;
        let rule = &pack.rules[ri];
        let kr = self.krow(ri, row);
        let line = self.lines[li].clone();
        let enc = enc.cloned().unwrap_or_default();
        let need_row = || if enc.has_row { Ok(()) } else { Err(Fail::Value) };
        let mut amount = line.sum;
        let args: Vec<(&'static str, String)> = match rule.template.as_str() {
            "sex" => {
                let want = sex_code(&p_str(rule, kr, "sex").expect("sex")).expect("sex code");
                need_row()?;
                let Some(g) = enc.gend.as_deref().and_then(sex_code) else {
                    self.unj(ri, "gend is null or not 1/2");
                    return Ok(());
                };
                if g == want {
                    return Ok(());
                }
                vec![("sex", sex_label(want)), ("gend", sex_label(g))]
            }
            "insutype" => {
                let allowed = p_list(rule, kr, "insutype").expect("insutype");
                need_row()?;
                let Some(t) = enc.insutype.clone() else {
                    self.unj(ri, "insutype is null");
                    return Ok(());
                };
                if allowed.contains(&t) {
                    return Ok(());
                }
                vec![("allowed", allowed.join("、")), ("insutype", t)]
            }
            "hosp_level" => {
                let min = p_num(rule, kr, "min_level").expect("min_level") as u8;
                need_row()?;
                let Some(t) = enc.hosp_lv.as_deref().and_then(tier) else {
                    self.unj(ri, "hosp_lv is null or not a national code");
                    return Ok(());
                };
                if t >= min {
                    return Ok(());
                }
                vec![("min_level", tier_label(min)), ("hosp_lv", tier_label(t))]
            }
            "scene" => {
                let bits =
                    |name: &str| p_list(rule, kr, name).unwrap_or_default().iter().fold(0, |m, s| m | scene_bit(s));
                let (allowed, denied) = (bits("allowed_scenes"), bits("denied_scenes"));
                need_row()?;
                if enc.scene == 0 {
                    self.unj(ri, "med_type is null or in no scene");
                    return Ok(());
                }
                let bad_denied = enc.scene & denied != 0;
                let bad_allowed = allowed != 0 && enc.scene & allowed == 0;
                if !bad_denied && !bad_allowed {
                    return Ok(());
                }
                let limit = if bad_denied {
                    format!("不得在{}场景使用", scene_names(denied))
                } else {
                    format!("限{}使用", scene_names(allowed))
                };
                vec![("scene", scene_names(enc.scene)), ("limit", limit)]
            }
            "dept" => {
                let depts = p_list(rule, kr, "depts").unwrap_or_default();
                let Some(d) = line.dept.clone() else {
                    self.unj(ri, "bilg_dept_codg is null");
                    return Ok(());
                };
                if depts.iter().any(|p| d.starts_with(p.as_str())) {
                    return Ok(());
                }
                vec![("depts", depts.join("、")), ("dept", d)]
            }
            "age" => {
                let lim = |n: &str| p_num(rule, kr, n).map(|x| x as i64);
                let (min, max, max_days) = (lim("min_age"), lim("max_age"), lim("max_age_days"));
                need_row()?;
                let (years, days) = match (enc.brdy, line.time) {
                    (Some(b), Some(t)) => (Some(age_years(b, t)), Some(day(t) - day(b))),
                    _ => (enc.age.map(|a| a.floor() as i64), None),
                };
                // A known, broken bound fires; an unknown one only matters when nothing fired.
                let mut bad = None;
                let mut unknown = None;
                if min.is_some() || max.is_some() {
                    match years {
                        None => unknown = Some("age unknown: brdy (with fee_ocur_time) and age are null"),
                        Some(y) => {
                            if min.is_some_and(|m| y < m) || max.is_some_and(|m| y > m) {
                                bad = Some(format!("{y}岁"));
                            }
                        }
                    }
                }
                if let Some(md) = max_days {
                    match days {
                        None => {
                            if unknown.is_none() {
                                unknown = Some("age in days unknown: brdy or fee_ocur_time is null");
                            }
                        }
                        Some(d) => {
                            if d > md {
                                bad = Some(match years {
                                    Some(y) if y >= 1 => format!("{y}岁"),
                                    _ => format!("{d}天"),
                                });
                            }
                        }
                    }
                }
                if bad.is_none() {
                    if let Some(reason) = unknown {
                        self.unj(ri, reason);
                    }
                }
                let Some(age) = bad else { return Ok(()) };
                let limit = match (min, max, max_days) {
                    (_, _, Some(d)) => format!("出生{d}天内"),
                    (Some(a), Some(z), _) => format!("{a}至{z}岁"),
                    (Some(a), None, _) => format!("{a}岁及以上"),
                    (None, Some(z), _) => format!("{}岁以下", z + 1),
                    (None, None, None) => String::new(),
                };
                vec![("age", age), ("limit", limit)]
            }
            "price_cap" => {
                // The ceiling of the facility's tier (一级 for unrated), else max_price.
                let tier_cap = match enc.hosp_lv.as_deref().and_then(tier) {
                    Some(3) => p_num(rule, kr, "max_price_l3"),
                    Some(2) => p_num(rule, kr, "max_price_l2"),
                    Some(_) => p_num(rule, kr, "max_price_l1"),
                    None => None,
                };
                let Some(cap) = tier_cap.or_else(|| p_num(rule, kr, "max_price")) else {
                    self.unj(ri, "no ceiling for this facility: hosp_lv is null or its tier has no max_price");
                    return Ok(());
                };
                let tol = p_num(rule, kr, "tolerance").unwrap_or(0.005);
                let pric = line.pric.ok_or(Fail::Value)?;
                if pric <= cap + tol {
                    return Ok(());
                }
                // cnt only gives the amount at risk: null when cnt is null.
                amount = line.cnt.map(|c| (pric - cap) * c);
                vec![("price", money(pric)), ("cap", money(cap))]
            }
            "not_payable" => Vec::new(),
            "diag_required" | "diag_forbidden" => {
                let set = p_str(rule, kr, "diag_set").expect("diag_set");
                let Some(diags) = &self.diags else {
                    self.unj(ri, "no diagnoses table was given");
                    return Ok(());
                };
                let pats = &pack.sets[&set];
                let has = diags.iter().any(|(id, code)| {
                    *id == enc.id
                        && code
                            .as_deref()
                            .is_some_and(|c| pats.iter().any(|p| p.is_match(Input::new(c).anchored(Anchored::Yes))))
                });
                if has == (rule.template == "diag_required") {
                    return Ok(());
                }
                vec![("diag_set", set)]
            }
            "amount_mismatch" => {
                let tol = rule.params.get("tolerance").and_then(Value::as_f64).unwrap_or(0.01);
                let (Some(cnt), Some(pric), Some(sum)) = (line.cnt, line.pric, line.sum) else {
                    return Err(Fail::Value);
                };
                let diff = (sum - cnt * pric).abs();
                if diff <= tol + 1e-9 {
                    return Ok(());
                }
                amount = Some(diff);
                vec![("cnt", trim_num(cnt)), ("pric", money(pric)), ("sumamt", money(sum))]
            }
            "fee_time" => {
                let tol = (rule.params.get("tolerance_hours").and_then(Value::as_f64).unwrap_or(0.0) * 3600.0) as i64;
                need_row()?;
                let Some(t) = line.time else {
                    self.unj(ri, "fee_ocur_time is null");
                    return Ok(());
                };
                let bound = match rule.params["check"].as_str().expect("check") {
                    "after_death" => match enc.die {
                        Some(d) if day(t - tol) > day(d) => Some(format!("晚于死亡日期{}", &fmt_time(d)[..10])),
                        _ => None,
                    },
                    "after_discharge" => {
                        // Only the discharge time bounds this check.
                        let Some(e) = enc.end else {
                            self.unj(ri, "begntime or endtime is null");
                            return Ok(());
                        };
                        (t > e + tol).then(|| format!("晚于出院时间{}", fmt_time(e)))
                    }
                    _ => {
                        // Either known bound that is crossed fires; otherwise a null bound is unjudged.
                        if let Some(b) = enc.begn.filter(|b| t < b - tol) {
                            Some(format!("早于入院时间{}", fmt_time(b)))
                        } else if let Some(e) = enc.end.filter(|e| t > e + tol) {
                            Some(format!("晚于出院时间{}", fmt_time(e)))
                        } else if enc.begn.is_none() || enc.end.is_none() {
                            self.unj(ri, "begntime or endtime is null");
                            return Ok(());
                        } else {
                            None
                        }
                    }
                };
                let Some(bound) = bound else { return Ok(()) };
                vec![("fee_time", fmt_time(t)), ("bound", bound)]
            }
            other => panic!("{other} is not a line template"),
        };
        self.hit(ri, li, row, amount, args);
        Ok(())
    }

    /// `frequency` and `bed_days`: running totals of cnt per window bucket, in time order.
    fn quantity(&mut self, ri: usize, groups: &BTreeMap<(String, Key), Vec<Ev>>) -> Result<(), Fail> {
        let pack = self.pack;
        let rule = &pack.rules[ri];
        let bed = rule.template == "bed_days";
        for ((enc_id, _), g) in groups {
            let (limit, w) = if bed {
                let enc = self.enc(enc_id);
                let (Some(b), Some(e)) = (enc.begn, enc.end) else {
                    if !enc.has_row {
                        return Err(Fail::Value);
                    }
                    self.unj(ri, "begntime or endtime is null");
                    continue;
                };
                let tol = rule.params.get("tolerance_days").and_then(Value::as_f64).unwrap_or(0.0);
                ((day(e) - day(b)).max(1) as f64 + tol, Win::Encounter)
            } else {
                let kr = self.krow(ri, g[0].row);
                (
                    p_num(rule, kr, "max_qty").expect("max_qty"),
                    window(&p_str(rule, kr, "window").unwrap_or_else(|| "day".into())),
                )
            };
            let mut bucketed: Vec<(&Ev, i64)> = Vec::new();
            for e in g {
                let b = match (w, e.time) {
                    (Win::Encounter, _) => Some(0),
                    (Win::Hour, Some(t)) => Some(t.div_euclid(3600)),
                    (_, Some(t)) => Some(day(t)),
                    (_, None) => None,
                };
                match b {
                    Some(b) => bucketed.push((e, b)),
                    None => self.unj(ri, "fee_ocur_time is null"),
                }
            }
            for (e, _) in &bucketed {
                self.lines[e.line].cnt.ok_or(Fail::Value)?;
            }
            for (i, (e, b)) in bucketed.iter().enumerate() {
                let line = &self.lines[e.line];
                let cnt = line.cnt.expect("cnt");
                let same: Vec<f64> = bucketed[..i]
                    .iter()
                    .filter(|(_, b2)| b2 == b)
                    .map(|(e2, _)| self.lines[e2.line].cnt.expect("cnt"))
                    .collect();
                let before: f64 = same.iter().sum();
                let total = before + cnt;
                if !(total > limit + 1e-9 && cnt > 0.0) {
                    continue;
                }
                let excess = total - limit.max(before);
                let args = if bed {
                    vec![("los", fmt_qty(limit)), ("qty", fmt_qty(total))]
                } else {
                    vec![("limit", fmt_qty(limit)), ("window", window_label(w)), ("qty", fmt_qty(total))]
                };
                let amount = line.pric.map(|p| p * excess);
                self.hit(ri, e.line, e.row, amount, args);
            }
        }
        Ok(())
    }

    /// `pair` flags each B line with an A line in its window; `companion` each A line without a B.
    fn pair(&mut self, ri: usize, groups: &BTreeMap<(String, Key), Vec<Ev>>) {
        let pack = self.pack;
        let rule = &pack.rules[ri];
        let companion = rule.template == "companion";
        for g in groups.values() {
            let kr = self.krow(ri, g[0].row);
            let code_b = p_str(rule, kr, "code_b").expect("code_b");
            let w = window(
                &p_str(rule, kr, "window").unwrap_or_else(|| if companion { "encounter" } else { "day" }.into()),
            );
            let (subject_role, other_role) = if companion { (0, 1) } else { (1, 0) };
            for s in g.iter().filter(|e| e.role == subject_role) {
                let mut unknown = false;
                let mut found = None;
                for o in g.iter().filter(|e| e.role == other_role && e.line != s.line) {
                    let together = match (w, s.time, o.time) {
                        (Win::Encounter, _, _) => Some(true),
                        (_, None, _) | (_, _, None) => None,
                        (Win::Hours(n), Some(a), Some(b)) => Some((a - b).abs() <= n * 3600),
                        (Win::Hour, Some(a), Some(b)) => Some(a.div_euclid(3600) == b.div_euclid(3600)),
                        (Win::Day, Some(a), Some(b)) => Some(day(a) == day(b)),
                    };
                    match together {
                        Some(true) => {
                            found = Some(o.line);
                            break;
                        }
                        Some(false) => {}
                        None => unknown = true,
                    }
                }
                let amount = self.lines[s.line].sum;
                match (companion, found) {
                    (false, Some(a)) => {
                        let al = &self.lines[a];
                        let related = al.name.clone().or_else(|| al.code.clone()).unwrap_or_default();
                        self.hits.push(RHit {
                            rule: ri,
                            line: s.line,
                            related: Some(a),
                            amount,
                            row: s.row,
                            args: vec![("window", window_label(w)), ("related_item", related)],
                        });
                    }
                    (true, None) if !unknown => {
                        self.hit(
                            ri,
                            s.line,
                            s.row,
                            amount,
                            vec![("window", window_label(w)), ("code_b", code_b.clone())],
                        );
                    }
                    (_, None) if unknown => self.unj(ri, "fee_ocur_time is null"),
                    _ => {}
                }
            }
        }
    }

    /// `surgery_discount`: per encounter, group and day with two or more distinct codes, every line
    /// but the main one must be charged at most std_price × rate + tolerance.
    fn surgery(&mut self, ri: usize, groups: &BTreeMap<(String, Key), Vec<Ev>>) -> Result<(), Fail> {
        let pack = self.pack;
        let rule = &pack.rules[ri];
        let rate = rule.params.get("discount_rate").and_then(Value::as_f64).unwrap_or(0.5);
        let tol = rule.params.get("tolerance").and_then(Value::as_f64).unwrap_or(0.01);
        for ((_, key), g) in groups {
            let Key::Group(group) = key else { unreachable!() };
            let mut days: BTreeMap<i64, Vec<&Ev>> = BTreeMap::new();
            for e in g {
                match e.time {
                    Some(t) => days.entry(day(t)).or_default().push(e),
                    None => self.unj(ri, "fee_ocur_time is null"),
                }
            }
            for evs in days.values() {
                let codes: BTreeSet<&str> = evs.iter().filter_map(|e| self.lines[e.line].code.as_deref()).collect();
                if codes.len() < 2 {
                    continue;
                }
                let mut info = Vec::new();
                for e in evs {
                    let std = p_num(rule, self.krow(ri, e.row), "std_price");
                    let pric = self.lines[e.line].pric.ok_or(Fail::Value)?;
                    info.push((std, pric));
                }
                // The main operation: the highest standard price (pric when unknown), first wins.
                let mut main = 0;
                for i in 0..info.len() {
                    if info[i].0.unwrap_or(info[i].1) > info[main].0.unwrap_or(info[main].1) {
                        main = i;
                    }
                }
                for (i, e) in evs.iter().enumerate() {
                    if i == main {
                        continue;
                    }
                    let (std, pric) = info[i];
                    let Some(std) = std else {
                        self.unj(ri, "std_price is null for a second operation");
                        continue;
                    };
                    let expected = std * rate;
                    if pric <= expected + tol {
                        continue;
                    }
                    let amount = self.lines[e.line].cnt.map(|c| (pric - expected) * c);
                    self.hits.push(RHit {
                        rule: ri,
                        line: e.line,
                        related: Some(evs[main].line),
                        amount,
                        row: e.row,
                        args: vec![
                            ("group", group.clone()),
                            ("price", money(pric)),
                            ("expected", money(expected)),
                            ("rate", format!("{}%", (rate * 100.0).round())),
                        ],
                    });
                }
            }
        }
        Ok(())
    }

    /// `herbs_only`: a prescription whose herb lines are all listed flags each of them.
    fn herbs(&mut self, ri: usize, groups: &BTreeMap<(String, Key), Vec<Ev>>) {
        for g in groups.values() {
            let mut lines: Vec<usize> = Vec::new();
            for e in g {
                if !lines.contains(&e.line) {
                    lines.push(e.line);
                }
            }
            let listed = |l: usize| g.iter().find(|e| e.line == l && e.role == 0);
            if !lines.iter().all(|&l| listed(l).is_some()) {
                continue;
            }
            for &l in &lines {
                let row = listed(l).and_then(|e| e.row);
                let amount = self.lines[l].sum;
                self.hit(ri, l, row, amount, vec![("herbs", lines.len().to_string())]);
            }
        }
    }

    /// `rx_drug_count`: lines of the drugs beyond the first max_drugs distinct codes.
    fn rx_count(&mut self, ri: usize, groups: &BTreeMap<(String, Key), Vec<Ev>>) {
        let rule = &self.pack.rules[ri];
        let max = rule.params["max_drugs"].as_f64().expect("max_drugs") as usize;
        for g in groups.values() {
            let mut seen: Vec<String> = Vec::new();
            for e in g {
                let code = self.lines[e.line].code.clone().expect("code");
                if !seen.contains(&code) {
                    seen.push(code);
                }
            }
            for e in g {
                let code = self.lines[e.line].code.clone().expect("code");
                let pos = seen.iter().position(|c| *c == code).expect("seen");
                if pos >= max {
                    let amount = self.lines[e.line].sum;
                    self.hit(
                        ri,
                        e.line,
                        e.row,
                        amount,
                        vec![("count", seen.len().to_string()), ("limit", max.to_string())],
                    );
                }
            }
        }
    }

    /// Findings in the documented order, and the unjudged counts by rule and reason.
    fn output(&self) -> Result<CheckOutput, Fail> {
        let pack = self.pack;
        let mut rows: Vec<(usize, Finding)> = Vec::new();
        for h in &self.hits {
            let rule = &pack.rules[h.rule];
            let line = &self.lines[h.line];
            let mdtrt_id = line.mdtrt_id.clone().ok_or(Fail::Value)?;
            let sn = line.sn.clone().ok_or(Fail::Value)?;
            let enc = self.encs.get(&mdtrt_id);
            let related = h.related.and_then(|r| self.lines[r].sn.clone());
            let table = rule.knowledge.as_ref().and_then(|k| pack.tables.get(k));
            let kr = self.krow(h.rule, h.row);
            let kp_id = match (table, h.row) {
                (Some(t), Some(r)) => Some(kstr(&t.rows[r], "kp_id").unwrap_or_else(|| format!("{}#{r}", t.name))),
                _ => None,
            };
            let item_name =
                line.name.clone().or_else(|| kr.and_then(|k| kstr(k, "item_name"))).or_else(|| line.code.clone());
            let amount = h.amount.map(|a| (a * 100.0).round() / 100.0);
            let mut args: Vec<(&str, String)> = vec![
                ("rule_name", rule.name.clone()),
                ("item_code", line.code.clone().unwrap_or_default()),
                ("item_name", item_name.clone().unwrap_or_default()),
                ("amount", amount.map(money).unwrap_or_default()),
                ("kp_id", kp_id.clone().unwrap_or_default()),
            ];
            args.extend(h.args.iter().map(|(k, v)| (*k, v.clone())));
            let finding_id = stable_id(&[
                &rule.id,
                &mdtrt_id,
                &sn,
                related.as_deref().unwrap_or(""),
                kp_id.as_deref().unwrap_or(""),
            ]);
            rows.push((
                h.rule,
                Finding {
                    finding_id,
                    rule_id: rule.id.clone(),
                    rule_code: rule.code.clone(),
                    rule_name: rule.name.clone(),
                    template: rule.template.clone(),
                    severity: rule.severity.clone(),
                    warn_level: rule.warn_level,
                    psn_no: enc.and_then(|e| e.psn.clone()).or_else(|| line.psn.clone()),
                    mdtrt_id,
                    fixmedins_code: enc.and_then(|e| e.fixmedins.clone()),
                    feedetl_sn: Some(sn),
                    item_code: line.code.clone(),
                    item_name,
                    bilg_dept_codg: line.dept.clone(),
                    related_feedetl_sn: related,
                    amount,
                    message: render(&rule.message, &args),
                    kp_id,
                    basis: kr.and_then(|k| kstr(k, "basis")).or_else(|| rule.basis.clone()),
                },
            ));
        }
        rows.sort_by(|(ra, a), (rb, b)| {
            (&a.mdtrt_id, &a.feedetl_sn, ra, &a.related_feedetl_sn, &a.kp_id, &a.finding_id).cmp(&(
                &b.mdtrt_id,
                &b.feedetl_sn,
                rb,
                &b.related_feedetl_sn,
                &b.kp_id,
                &b.finding_id,
            ))
        });
        rows.dedup_by(|a, b| a.1.finding_id == b.1.finding_id);
        let unjudged = self
            .unjudged
            .iter()
            .map(|((r, reason), count)| Unjudged {
                rule_id: pack.rules[*r].id.clone(),
                reason: reason.clone(),
                count: *count,
            })
            .collect();
        Ok(CheckOutput { findings: rows.into_iter().map(|(_, f)| f).collect(), unjudged })
    }
}

// ---------------------------------------------------------------------------------------------
// Random scenarios: genes (vectors of random numbers, which proptest shrinks toward zero, and
// zero always picks the plainest choice) decoded into a pack, options and JSON claims.

struct G<'a> {
    v: &'a [u32],
    i: usize,
}

impl<'a> G<'a> {
    fn new(v: &'a [u32]) -> Self {
        G { v, i: 0 }
    }
    fn next(&mut self) -> u32 {
        let x = self.v.get(self.i).copied().unwrap_or(0);
        self.i += 1;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            self.next() as usize % n
        }
    }
    /// True with `pct` percent; false for a zero gene.
    fn chance(&mut self, pct: u32) -> bool {
        self.next() % 100 >= 100 - pct.min(100)
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

#[derive(Debug, Clone)]
struct Genes {
    pack: Vec<u32>,
    opts: Vec<u32>,
    encs: Vec<Vec<u32>>,
    lines: Vec<Vec<u32>>,
    diags: Vec<Vec<u32>>,
    layout: Vec<u32>,
}

fn genes(max_lines: usize) -> impl Strategy<Value = Genes> {
    use proptest::collection::vec;
    (
        vec(any::<u32>(), 400),
        vec(any::<u32>(), 40),
        vec(vec(any::<u32>(), 16), 1..=4),
        vec(vec(any::<u32>(), 16), 0..=max_lines),
        vec(vec(any::<u32>(), 4), 0..=8),
        vec(any::<u32>(), 120),
    )
        .prop_map(|(pack, opts, encs, lines, diags, layout)| Genes { pack, opts, encs, lines, diags, layout })
}

/// Genes from a seed, for the deterministic sweep.
fn seeded_genes(seed: u64, max_lines: usize) -> Genes {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5eed;
    let mut next = move || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 16) as u32
    };
    let mut v = |n: usize| (0..n).map(|_| next()).collect::<Vec<u32>>();
    let pack = v(400);
    let opts = v(40);
    let n = v(3);
    let encs = (0..1 + n[0] as usize % 4).map(|_| v(16)).collect();
    let lines = (0..n[1] as usize % (max_lines + 1)).map(|_| v(16)).collect();
    let diags = (0..n[2] as usize % 9).map(|_| v(4)).collect();
    Genes { pack, opts, encs, lines, diags, layout: v(120) }
}

const SAMPLE: &str = include_str!("../packs/sample.json");

fn d0() -> i64 {
    days_from_civil(2026, 3, 1)
}

fn date_str(off: i64) -> String {
    let (y, m, d) = civil_from_days(d0() + off);
    format!("{y:04}-{m:02}-{d:02}")
}

fn datetime_str(off: i64, h: i64, mi: i64) -> String {
    format!("{} {h:02}:{mi:02}:00", date_str(off))
}

/// Effective dates around the claims' days (2026-03-01 … 03-06).
fn dates(g: &mut G) -> (Option<String>, Option<String>) {
    let from = g.below(8) as i64 - 2;
    let to = from + 1 + g.below(4) as i64;
    match g.below(3) {
        0 => (Some(date_str(from)), None),
        1 => (None, Some(date_str(to))),
        _ => (Some(date_str(from)), Some(date_str(to))),
    }
}

fn set_opt(o: &mut Map<String, Value>, k: &str, v: Value) {
    if v.is_null() {
        o.remove(k);
    } else {
        o.insert(k.to_string(), v);
    }
}

/// Sets `k` unless `v` is null (a null keeps what the rule has, so that every rule stays valid).
fn keep_or_set(o: &mut Map<String, Value>, k: &str, v: Value) {
    if !v.is_null() {
        o.insert(k.to_string(), v);
    }
}

/// Changes the template parameters of one knowledge row (keeping every column's type).
fn tweak_row(table: &str, row: &mut Map<String, Value>, g: &mut G) {
    let n = Value::Null;
    match table {
        "sex_items" => set_opt(row, "sex", g.pick(&[json!("2"), json!("1"), json!("男"), json!("F")])),
        "age_items" => {
            let v = g.pick(&[
                [json!(null), json!(17), json!(null)],
                [n.clone(), n.clone(), json!(28)],
                [json!(16), json!(59), n.clone()],
                [json!(18), n.clone(), n.clone()],
                [n.clone(), json!(17), json!(28)],
                [json!(1), n.clone(), json!(400)],
            ]);
            for (k, x) in ["min_age", "max_age", "max_age_days"].iter().zip(v) {
                set_opt(row, k, x);
            }
        }
        "insutype_items" => {
            set_opt(row, "insutype", g.pick(&[json!("410"), json!("510"), json!(["410", "510"]), json!("310|390")]))
        }
        "level_items" => set_opt(row, "min_level", g.pick(&[json!(1), json!(2), json!(3)])),
        "scene_items" => {
            let (a, d) = g.pick(&[
                (json!("住院"), n.clone()),
                (n.clone(), json!("互联网")),
                (json!(["门诊", "住院"]), n.clone()),
                (json!("住院"), json!("住院")),
                (n.clone(), json!("门诊|购药")),
                (json!("inpatient"), n.clone()),
            ]);
            set_opt(row, "allowed_scenes", a);
            set_opt(row, "denied_scenes", d);
        }
        "dept_items" => set_opt(
            row,
            "depts",
            g.pick(&[json!("A12|A04"), json!(["A0"]), json!("A12"), json!(" A12 | A03 "), json!(["A04", "A12"])]),
        ),
        "price_items" => {
            let v = g.pick(&[
                [json!(60), json!(45), json!(30), n.clone(), n.clone()],
                [n.clone(), n.clone(), n.clone(), json!(50), n.clone()],
                [json!(60), n.clone(), n.clone(), json!(40), n.clone()],
                [n.clone(), json!(45), n.clone(), n.clone(), n.clone()],
                [json!(60), json!(45), json!(30), n.clone(), json!(1)],
            ]);
            for (k, x) in ["max_price_l3", "max_price_l2", "max_price_l1", "max_price", "tolerance"].iter().zip(v) {
                set_opt(row, k, x);
            }
        }
        "frequency_items" => {
            set_opt(row, "max_qty", g.pick(&[json!(1), json!(0), json!(2), json!(1.5)]));
            set_opt(row, "window", g.pick(&[json!("day"), json!("hour"), json!("encounter"), n.clone()]));
        }
        "indications" | "contraindications" => {
            set_opt(row, "diag_set", g.pick(&[json!("放化疗"), json!("绝经后骨质疏松"), json!("严重肾功能不全")]))
        }
        "duplicate_pairs" | "companions" => {
            set_opt(
                row,
                "window",
                g.pick(&[
                    json!("day"),
                    json!("hour"),
                    json!("encounter"),
                    json!("2h"),
                    json!("6h"),
                    json!("24h"),
                    n.clone(),
                ]),
            );
            if g.chance(30) {
                let b = if table == "companions" {
                    g.pick(&["001201000080000", "00120100", "001102000030000"])
                } else {
                    g.pick(&["001102000030000", "001201000030000", "001102000040000", "001103000010000"])
                };
                set_opt(row, "code_b", json!(b));
            }
        }
        "surgical_groups" => {
            set_opt(row, "std_price", g.pick(&[json!(3200), n.clone(), json!(1000), json!(1800)]));
            set_opt(row, "group", g.pick(&[json!("胃肠手术组"), json!("胃肠手术组"), json!("其他组")]));
        }
        _ => {}
    }
}

/// (table, rule id, parameter, is a list) that can move from the rows to the rule's `params`.
const MOVABLE: &[(&str, &str, &str, bool)] = &[
    ("sex_items", "sex", "sex", false),
    ("age_items", "age", "max_age", false),
    ("insutype_items", "insutype", "insutype", true),
    ("level_items", "hosp_level", "min_level", false),
    ("scene_items", "scene", "allowed_scenes", true),
    ("scene_items", "scene", "denied_scenes", true),
    ("dept_items", "dept", "depts", true),
    ("price_items", "price_cap", "max_price_l2", false),
    ("frequency_items", "frequency", "max_qty", false),
    ("frequency_items", "frequency", "window", false),
    ("indications", "indication", "diag_set", false),
    ("contraindications", "contraindication", "diag_set", false),
    ("duplicate_pairs", "duplicate_charge", "window", false),
    ("companions", "companion", "code_b", false),
    ("companions", "companion", "window", false),
    ("surgical_groups", "surgery_discount", "group", false),
    ("surgical_groups", "surgery_discount", "std_price", false),
];

/// Extra rules, each with the extra knowledge table it reads, if any.
fn extra_rules(g: &mut G) -> Vec<(Value, Option<(&'static str, Value)>)> {
    let mut out: Vec<(Value, Option<(&'static str, Value)>)> =
        simple_extra_rules(g).into_iter().map(|r| (r, None)).collect();
    if g.chance(35) {
        // Operations of one group, some without a standard price.
        let rows = json!([
            {"code": "003310010140000", "group": "G", "std_price": 3200, "kp_id": "KP-GB-1"},
            {"code": "003310010160000", "group": "G", "kp_id": "KP-GB-2"},
            {"code": "003310010160100", "group": "G", "std_price": null},
        ]);
        let rule = json!({"id": "surgery_partial_std", "name": "手术折价(部分无标准价)", "template": "surgery_discount",
                          "knowledge": "surgical_groups_b", "params": {"discount_rate": 0.6, "tolerance": 0}, "severity": "可疑"});
        out.push((rule, Some(("surgical_groups_b", json!({"match": "exact", "rows": rows})))));
    }
    out
}

fn simple_extra_rules(g: &mut G) -> Vec<Value> {
    let all = [
        json!({"id": "fee_after_discharge", "name": "出院后发生费用", "template": "fee_time",
               "params": {"check": "after_discharge", "tolerance_hours": g.pick(&[0, 2])}, "severity": "可疑", "warn_level": 2}),
        json!({"id": "pair_as_companion", "name": "关联项目(重复收费表)", "template": "companion", "knowledge": "duplicate_pairs",
               "severity": "可疑", "warn_level": 3}),
        json!({"id": "np_single_herbs", "name": "单味饮片", "template": "not_payable", "knowledge": "single_herbs",
               "severity": "violation", "scenes": ["门诊", "互联网"]}),
        json!({"id": "freq_bed", "name": "床位费频次", "template": "frequency", "knowledge": "bed_items",
               "params": {"max_qty": 1, "window": "day"}, "severity": "可疑"}),
        json!({"id": "age_newborn", "name": "新生儿", "template": "age", "knowledge": "companions",
               "params": {"max_age_days": 28, "min_age": 0}, "severity": "可疑"}),
        json!({"id": "dept_sex", "name": "科室", "template": "dept", "knowledge": "sex_items",
               "params": {"depts": ["A0"]}, "severity": "suspicious"}),
        json!({"id": "amount_mismatch_inpatient", "name": "住院金额不符", "template": "amount_mismatch",
               "scenes": ["住院"], "params": {"tolerance": 0}, "severity": "可疑"}),
        json!({"id": "price_any", "name": "限价", "template": "price_cap", "knowledge": "frequency_items",
               "params": {"max_price": 11}, "severity": "可疑"}),
        json!({"id": "outside_stay_tol", "name": "住院期间外(容差)", "template": "fee_time",
               "params": {"check": "outside_stay", "tolerance_hours": 6}, "severity": "可疑", "effective_from": "2026-03-02"}),
    ];
    all.into_iter().filter(|_| g.chance(15)).collect()
}

/// The sample pack, mutated by the genes (60% of the time).
fn mutate_pack(g: &mut G) -> Value {
    let mut pack: Value = serde_json::from_str(SAMPLE).expect("sample pack");
    if !g.chance(60) {
        return pack;
    }
    if g.chance(20) {
        pack["scenes"] = g.pick(&[
            json!({"门诊": ["1", "99"], "住院": ["2"], "购药": ["41"], "互联网": ["9901"]}),
            json!({"门诊": ["1"], "住院": ["2", "41"]}),
            json!({"互联网": ["99"], "购药": ["4"]}),
            json!({"门诊": [""], "互联网": ["9901"]}),
        ]);
    }
    let names: Vec<String> = pack["knowledge"].as_object().expect("knowledge").keys().cloned().collect();
    for name in &names {
        let t = pack["knowledge"][name].as_object_mut().expect("table");
        if g.chance(10) {
            let m = if t.get("match").and_then(Value::as_str) == Some("prefix") { "exact" } else { "prefix" };
            t.insert("match".into(), json!(m));
        }
        let rows = t.get_mut("rows").and_then(Value::as_array_mut).expect("rows");
        let n = rows.len();
        for row in rows.iter_mut() {
            let row = row.as_object_mut().expect("row");
            if g.chance(10) {
                row.insert("match".into(), json!(g.pick(&["exact", "prefix"])));
            }
            if g.chance(12) {
                let (f, to) = dates(g);
                set_opt(row, "effective_from", f.map_or(Value::Null, Value::from));
                set_opt(row, "effective_to", to.map_or(Value::Null, Value::from));
            }
            if g.chance(if name == "surgical_groups" { 40 } else { 20 }) {
                tweak_row(name, row, g);
            }
            if g.chance(4) {
                row.remove("kp_id");
            }
        }
        for r in 0..n {
            if !g.chance(10) {
                continue;
            }
            let Some(kp) = rows[r].get("kp_id").and_then(Value::as_str).map(str::to_string) else { continue };
            let mut new = rows[r].as_object().expect("row").clone();
            new.insert("kp_id".into(), json!(format!("{kp}-v2")));
            new.insert("supersedes".into(), json!(kp));
            new.remove("effective_to");
            if g.chance(80) {
                new.insert("effective_from".into(), json!(date_str(g.below(6) as i64 - 1)));
            } else {
                new.remove("effective_from");
            }
            if g.chance(50) {
                tweak_row(name, &mut new, g);
            }
            rows.push(Value::Object(new));
        }
    }
    // Parameters moved from the rows to the rule's params, as the default of rows without them.
    for (table, rule_id, p, list) in MOVABLE {
        if !g.chance(10) {
            continue;
        }
        let rows = pack["knowledge"][table]["rows"].as_array_mut().expect("rows");
        let Some(first) = rows.iter().position(|r| r.get(p).is_some_and(|v| !v.is_null())) else { continue };
        let v = rows[first][p].clone();
        let v = match (&v, list) {
            (Value::String(s), true) => json!(s.split('|').map(str::trim).collect::<Vec<_>>()),
            _ => v,
        };
        for (i, row) in rows.iter_mut().enumerate() {
            if i == first || g.chance(50) {
                row.as_object_mut().expect("row").remove(*p);
            }
        }
        let rules = pack["rules"].as_array_mut().expect("rules");
        let rule = rules.iter_mut().find(|r| r["id"] == *rule_id).expect("rule");
        let params = rule.as_object_mut().expect("rule").entry("params").or_insert_with(|| json!({}));
        params[p] = v;
    }
    let mut rules = pack["rules"].as_array().expect("rules").clone();
    for (r, table) in extra_rules(g) {
        let at = g.below(rules.len() + 1);
        rules.insert(at, r);
        if let Some((name, t)) = table {
            pack["knowledge"][name] = t;
        }
    }
    for rule in rules.iter_mut() {
        let o = rule.as_object_mut().expect("rule");
        let template = o["template"].as_str().expect("template").to_string();
        if g.chance(15) {
            let all = ["事前", "事中", "事后"];
            let mut s: Vec<&str> = all.iter().copied().filter(|_| g.chance(50)).collect();
            if s.is_empty() {
                s.push(g.pick(&all));
            }
            o.insert("stages".into(), json!(s));
        }
        if g.chance(15) {
            let s: Vec<&str> = SCENES.iter().map(|(_, l)| *l).filter(|_| g.chance(50)).collect();
            o.insert("scenes".into(), json!(s));
        }
        if g.chance(10) {
            let (f, to) = dates(g);
            set_opt(o, "effective_from", f.map_or(Value::Null, Value::from));
            set_opt(o, "effective_to", to.map_or(Value::Null, Value::from));
        }
        if g.chance(25) {
            let mut m = String::from("{rule_name}|{item_code}|{item_name}|{amount}|{kp_id}");
            for p in placeholders(&template) {
                m.push_str(&format!("|{{{p}}}"));
            }
            o.insert("message".into(), json!(m));
        }
        if g.chance(if template == "rx_drug_count" { 50 } else { 20 }) {
            let params = o.entry("params").or_insert_with(|| json!({})).as_object_mut().expect("params");
            let n = Value::Null;
            match template.as_str() {
                "amount_mismatch" => keep_or_set(params, "tolerance", g.pick(&[json!(0.01), json!(0), json!(0.5), n])),
                "fee_time" => {
                    keep_or_set(params, "tolerance_hours", g.pick(&[json!(0), json!(1), json!(24), json!(2.5), n]))
                }
                "bed_days" => keep_or_set(params, "tolerance_days", g.pick(&[json!(0), json!(1), json!(0.5), n])),
                "surgery_discount" => {
                    keep_or_set(
                        params,
                        "discount_rate",
                        g.pick(&[json!(0.5), json!(0.6), json!(1.0), json!(0), n.clone()]),
                    );
                    keep_or_set(params, "tolerance", g.pick(&[n, json!(0.01), json!(100)]));
                }
                "herbs_only" => {
                    keep_or_set(params, "herb_prefix", g.pick(&[n, json!("T"), json!("T00"), json!("T0007")]))
                }
                "rx_drug_count" => {
                    keep_or_set(params, "max_drugs", g.pick(&[json!(5), json!(1), json!(2), json!(3)]));
                    keep_or_set(
                        params,
                        "drug_prefixes",
                        g.pick(&[n, json!(["X"]), json!(["Z", "XA"]), json!(["ZA", "XG", "XB"])]),
                    );
                }
                "price_cap" => {
                    keep_or_set(params, "max_price", g.pick(&[n.clone(), json!(50)]));
                    keep_or_set(params, "tolerance", g.pick(&[n, json!(1), json!(0)]));
                }
                "age" => {
                    keep_or_set(params, "max_age_days", g.pick(&[n.clone(), json!(28), json!(400)]));
                    keep_or_set(params, "min_age", g.pick(&[n, json!(1)]));
                }
                "frequency" => keep_or_set(params, "window", g.pick(&[n, json!("hour"), json!("encounter")])),
                "pair" | "companion" => keep_or_set(
                    params,
                    "window",
                    g.pick(&[n, json!("hour"), json!("3h"), json!("encounter"), json!("day")]),
                ),
                "scene" => keep_or_set(params, "denied_scenes", g.pick(&[n, json!(["互联网"]), json!(["购药"])])),
                _ => {}
            }
        }
    }
    pack["rules"] = Value::Array(rules);
    pack
}

/// Codes lines draw from: every knowledge code and code_b, longer codes they are a prefix of,
/// shorter ones, and codes of no table; as one pool and as themes (the codes of one table, drugs,
/// herbs) so that codes that interact meet in one encounter.
fn code_pool(pack: &Value) -> (Vec<String>, Vec<Vec<String>>) {
    let mut all: BTreeSet<String> = BTreeSet::new();
    let mut themes: Vec<Vec<String>> = Vec::new();
    for (name, t) in pack["knowledge"].as_object().expect("knowledge") {
        let prefix = t.get("match").and_then(Value::as_str) == Some("prefix");
        let mut theme = BTreeSet::new();
        for row in t["rows"].as_array().expect("rows") {
            for col in ["code", "code_b"] {
                if let Some(c) = row.get(col).and_then(Value::as_str) {
                    theme.insert(c.to_string());
                    if prefix || row.get("match").and_then(Value::as_str) == Some("prefix") {
                        theme.insert(format!("{c}01"));
                    }
                    all.insert(format!("{c}01"));
                    all.insert(c[..c.len() - 1].to_string());
                }
            }
        }
        all.extend(theme.iter().cloned());
        // Tables whose rules look at several lines together come up more often.
        let windowed =
            ["duplicate_pairs", "companions", "surgical_groups", "surgical_groups_b", "frequency_items", "bed_items"];
        for _ in 0..if name == "surgical_groups_b" { 3 } else { usize::from(windowed.contains(&name.as_str())) } {
            themes.push(theme.iter().cloned().collect());
        }
        themes.push(theme.into_iter().collect());
    }
    let fillers = [
        "XJ01CAA040A001",
        "XC08CAA013A001",
        "XR05CBA001A001",
        "XB01ACA056A001",
        "ZA01AAA0011010",
        "ZC04AAB0301010",
        "ZA09AAC0212010",
        "T000100015",
        "T000200027",
        "002501010010000",
        "001204000010000",
        "X",
        "T",
    ];
    all.extend(fillers.iter().map(|c| c.to_string()));
    let drugs: Vec<String> =
        all.iter().filter(|c| c.len() > 6 && (c.starts_with('X') || c.starts_with('Z'))).cloned().collect();
    let herbs: Vec<String> = all.iter().filter(|c| c.starts_with('T')).cloned().collect();
    themes.extend([drugs.clone(), drugs.clone(), drugs, herbs.clone(), herbs]);
    (all.into_iter().collect(), themes)
}

struct Scenario {
    pack: Value,
    stage: Option<Stage>,
    rule_ids: Option<Vec<String>>,
    /// JSON claims, canonical types.
    claims: Value,
    /// `types` with random string variants only, and with random variants of every column.
    types_str: Value,
    types_all: Value,
    /// Batch cut points per table, for two splits.
    cuts: [BTreeMap<&'static str, Vec<usize>>; 2],
}

const STR_COLS: &[(&str, &[&str])] = &[
    ("mdtrt", &["mdtrt_id", "psn_no", "gend", "insutype", "med_type", "fixmedins_code", "hosp_lv", "dscg_way"]),
    ("diagnoses", &["mdtrt_id", "diag_code"]),
    ("operations", &["mdtrt_id", "oprn_oprt_code"]),
    (
        "fee_details",
        &["feedetl_sn", "mdtrt_id", "hilist_code", "psn_no", "hilist_name", "bilg_dept_codg", "rxno", "list_type"],
    ),
];
const NUM_COLS: &[(&str, &[&str])] = &[("mdtrt", &["age"]), ("fee_details", &["cnt", "pric", "det_item_fee_sumamt"])];
const TIME_COLS: &[(&str, &[&str])] =
    &[("mdtrt", &["brdy", "begntime", "endtime", "die_date"]), ("fee_details", &["fee_ocur_time"])];
const TABLES: [&str; 4] = ["mdtrt", "diagnoses", "operations", "fee_details"];

fn random_types(g: &mut G, all: bool) -> Value {
    let mut types = json!({});
    for (t, cols) in STR_COLS {
        for c in *cols {
            types[t][c] = json!(g.pick(&["dict_utf8", "utf8", "large_utf8", "utf8_view"]));
        }
    }
    if all {
        for (t, cols) in NUM_COLS {
            for c in *cols {
                types[t][c] = json!(g.pick(&["float64", "float32", "int64", "int32", "decimal128"]));
            }
        }
        for (t, cols) in TIME_COLS {
            for c in *cols {
                let ty = g.pick(&[
                    "timestamp[s]",
                    "timestamp[ms]",
                    "timestamp[us, Asia/Shanghai]",
                    "timestamp[ms, +08:00]",
                    "timestamp[s, UTC]",
                    "date32",
                ]);
                types[t][c] = json!(ty);
            }
        }
    }
    types
}

fn random_cuts(g: &mut G, claims: &Value) -> BTreeMap<&'static str, Vec<usize>> {
    let mut out = BTreeMap::new();
    for t in TABLES {
        let n = claims.get(t).and_then(Value::as_array).map_or(0, Vec::len);
        let mut cuts: Vec<usize> = match g.below(6) {
            0 => Vec::new(),
            5 => (0..=n).collect(), // one row per batch, and empty batches at both ends
            k => (0..k).map(|_| g.below(n + 1)).collect(),
        };
        cuts.sort_unstable();
        out.insert(t, cuts);
    }
    out
}

fn scenario(genes: &Genes, mutate: bool) -> Scenario {
    let mut gp = G::new(&genes.pack);
    let pack = if mutate { mutate_pack(&mut gp) } else { serde_json::from_str(SAMPLE).expect("sample") };
    let mut go = G::new(&genes.opts);
    let ids: Vec<String> =
        pack["rules"].as_array().expect("rules").iter().map(|r| r["id"].as_str().expect("id").to_string()).collect();
    let stage = if go.chance(25) { Some(go.pick(&[Stage::Pre, Stage::During, Stage::Post])) } else { None };
    let rule_ids = if go.chance(40) { Some(ids.iter().filter(|_| go.chance(50)).cloned().collect()) } else { None };
    let null_amounts = go.chance(15);
    let null_keys = go.chance(10);
    let orphans = go.chance(15);
    let null_times = go.chance(60);
    let drop_columns = go.chance(12);
    let no_mdtrt = go.chance(4);
    let (pool, themes) = code_pool(&pack);
    let mut sub: Vec<String> = (0..1 + go.below(3)).flat_map(|_| go.pick(&themes)).collect();
    if !go.chance(25) {
        // Not focused on the themes: codes of no theme too.
        sub.extend((0..1 + go.below(8)).map(|_| go.pick(&pool)));
    }
    let narrow = go.chance(50);
    let one_rx = go.chance(30);

    let n_enc = genes.encs.len();
    let mut mdtrt = Vec::new();
    for (i, eg) in genes.encs.iter().enumerate() {
        let mut g = G::new(eg);
        let in_mdtrt = !(orphans && g.chance(25));
        let begn_day = g.below(4) as i64;
        let begn_h = g.below(24) as i64;
        let los = g.below(5) as i64;
        let blank = g.chance(10);
        let mut o = json!({
            "mdtrt_id": format!("M{i}"),
            "psn_no": if g.chance(10) { Value::Null } else { json!(format!("P{i}")) },
            "gend": g.pick(&[json!("1"), json!("2"), json!("男"), json!("F"), json!(" 2"), json!("3"), Value::Null]),
            "brdy": g.pick(&[json!("1980-05-01"), json!("2026-02-20"), json!("2026-01-15"), json!("2010-03-03"), json!("2008-03-02"),
                             json!("1966-03-04"), Value::Null, json!("2026-03-02")]),
            "age": g.pick(&[json!(45), json!(0), json!(17), json!(18), json!(16.5), json!(60), Value::Null]),
            "insutype": g.pick(&[json!("310"), json!("390"), json!("410"), json!("510"), Value::Null]),
            "med_type": g.pick(&[json!("11"), json!("21"), json!("14"), json!("41"), json!("9901"), json!("99"), json!("2"), Value::Null]),
            "fixmedins_code": g.pick(&[json!("H001"), json!("H002"), Value::Null]),
            "hosp_lv": g.pick(&[json!("01"), json!("05"), json!("08"), json!("11"), json!("15"), json!(" 05"), json!("03"), json!("10"), Value::Null]),
            "begntime": if g.chance(8) { Value::Null } else { json!(datetime_str(begn_day, begn_h, g.pick(&[0, 30]))) },
            "endtime": if g.chance(8) { Value::Null } else { json!(datetime_str(begn_day + los, g.below(24) as i64, 0)) },
            "die_date": if g.chance(80) { Value::Null } else { json!(date_str(g.below(5) as i64)) },
            "dscg_way": "1",
        });
        if blank {
            // An encounter whose attributes are all unknown.
            for k in ["gend", "brdy", "age", "insutype", "med_type", "hosp_lv"] {
                o[k] = Value::Null;
            }
        }
        if in_mdtrt {
            mdtrt.push(o);
        }
    }
    let mut fee = Vec::new();
    for (i, lg) in genes.lines.iter().enumerate() {
        let mut g = G::new(lg);
        let enc = format!("M{}", g.below(n_enc));
        let mdtrt_id = if orphans && g.chance(5) {
            json!("MX9")
        } else if null_keys && g.chance(4) {
            Value::Null
        } else {
            json!(enc)
        };
        let code = if g.chance(4) { Value::Null } else { json!(g.pick(&sub)) };
        let cnt: f64 = g.pick(&[1.0, 2.0, 1.0, 0.5, 3.0, 0.0, -1.0, 10.0]);
        let pric: f64 = g.pick(&[10.0, 12.5, 45.0, 60.0, 61.0, 100.0, 1600.0, 1800.0, 3200.0, 0.25, 1500.0]);
        let sum = match g.below(10) {
            0 => 12.34,
            1 => cnt * pric + 1.0,
            2 => 0.0,
            _ => (cnt * pric * 100.0).round() / 100.0,
        };
        let amount = |g: &mut G, x: f64| if null_amounts && g.chance(6) { Value::Null } else { json!(x) };
        let o = json!({
            "feedetl_sn": if null_keys && g.chance(4) { Value::Null } else { json!(format!("L{i:02}")) },
            "mdtrt_id": mdtrt_id,
            "hilist_code": code.clone(),
            "hilist_name": match g.below(10) { 0..=5 => code.as_str().map_or(Value::Null, |c| json!(format!("名{c}"))), 6 => json!(""), _ => Value::Null },
            "psn_no": g.pick(&[Value::Null, json!("P9")]),
            "fee_ocur_time": if null_times && g.chance(10) { Value::Null } else {
                if narrow {
                    json!(datetime_str(g.below(2) as i64, 8 + g.below(4) as i64, g.pick(&[0, 15, 59])))
                } else {
                    json!(datetime_str(g.below(6) as i64, g.below(24) as i64, g.pick(&[0, 15, 59])))
                }
            },
            "cnt": amount(&mut g, cnt),
            "pric": amount(&mut g, pric),
            "det_item_fee_sumamt": amount(&mut g, sum),
            "bilg_dept_codg": g.pick(&[json!("A12"), json!("A04"), json!("A041"), json!("A03"), json!("a12"), Value::Null]),
            "rxno": if one_rx { json!("RX1") } else { g.pick(&[Value::Null, json!("RX1"), json!("RX2"), Value::Null]) },
            "list_type": "101",
        });
        fee.push(o);
    }
    let mut diags = Vec::new();
    for dg in &genes.diags {
        let mut g = G::new(dg);
        let id = if g.chance(5) { "MY1".to_string() } else { format!("M{}", g.below(n_enc)) };
        let code = g.pick(&[
            json!("Z51.0"),
            json!("C34.100"),
            json!("I10.x00"),
            json!("M81.000"),
            json!("N18.500"),
            json!("N17.900"),
            json!("Z51.2"),
            json!("C98"),
            json!("C97"),
            json!("M80"),
            json!("N19"),
            Value::Null,
        ]);
        diags.push(json!({"mdtrt_id": id, "diag_code": code, "maindiag_flag": "1"}));
    }
    let mut claims = json!({});
    if !no_mdtrt {
        claims["mdtrt"] = Value::Array(mdtrt);
    }
    match go.below(5) {
        0 => {}
        1 => claims["diagnoses"] = json!([]),
        _ => claims["diagnoses"] = Value::Array(diags),
    }
    match go.below(4) {
        0 => {}
        1 => claims["operations"] = json!([]),
        _ => claims["operations"] = json!([{"mdtrt_id": "M0", "oprn_oprt_code": "42.4100", "main_oprn_flag": "1"}]),
    }
    claims["fee_details"] = Value::Array(fee);
    if drop_columns {
        let mut drop = |table: &str, cols: &[&str], go: &mut G| {
            for c in cols {
                if go.chance(8) {
                    if let Some(rows) = claims.get_mut(table).and_then(Value::as_array_mut) {
                        for r in rows {
                            r.as_object_mut().expect("row").remove(*c);
                        }
                    }
                }
            }
        };
        drop(
            "fee_details",
            &["psn_no", "hilist_name", "fee_ocur_time", "cnt", "pric", "det_item_fee_sumamt", "bilg_dept_codg", "rxno"],
            &mut go,
        );
        drop(
            "mdtrt",
            &[
                "psn_no",
                "gend",
                "brdy",
                "age",
                "insutype",
                "med_type",
                "fixmedins_code",
                "hosp_lv",
                "begntime",
                "endtime",
                "die_date",
            ],
            &mut go,
        );
    }
    let mut gl = G::new(&genes.layout);
    let types_str = random_types(&mut gl, false);
    let types_all = random_types(&mut gl, true);
    let cuts = [random_cuts(&mut gl, &claims), random_cuts(&mut gl, &claims)];
    Scenario { pack, stage, rule_ids, claims, types_str, types_all, cuts }
}

// ---------------------------------------------------------------------------------------------
// Running and comparing.

fn with_types(claims: &Value, types: &Value) -> Value {
    let mut c = claims.clone();
    c["types"] = types.clone();
    c
}

fn slices(batches: &[RecordBatch], cuts: &[usize]) -> Vec<RecordBatch> {
    let mut out = Vec::new();
    for b in batches {
        let n = b.num_rows();
        let mut at = 0;
        for &c in cuts.iter().filter(|&&c| c <= n) {
            out.push(b.slice(at, c - at));
            at = c;
        }
        out.push(b.slice(at, n - at));
    }
    out
}

fn split(mut c: Claims, cuts: &BTreeMap<&'static str, Vec<usize>>) -> Claims {
    let none = Vec::new();
    c.mdtrt = slices(&c.mdtrt, cuts.get("mdtrt").unwrap_or(&none));
    c.diagnoses = slices(&c.diagnoses, cuts.get("diagnoses").unwrap_or(&none));
    c.operations = slices(&c.operations, cuts.get("operations").unwrap_or(&none));
    c.fee_details = slices(&c.fee_details, cuts.get("fee_details").unwrap_or(&none));
    c
}

fn brief(f: &Finding) -> String {
    format!(
        "{} {} {:?} rel={:?} kp={:?} amount={:?} psn={:?} item={:?} {:?}",
        f.rule_id, f.mdtrt_id, f.feedetl_sn, f.related_feedetl_sn, f.kp_id, f.amount, f.psn_no, f.item_code, f.message
    )
}

fn describe(sc: &Scenario, claims: &Value) -> String {
    let sample: Value = serde_json::from_str(SAMPLE).expect("sample");
    let pack = if sc.pack == sample { "sample".to_string() } else { sc.pack.to_string() };
    format!("stage={:?} rule_ids={:?}\nclaims={}\npack={}", sc.stage, sc.rule_ids, claims, pack)
}

/// Compares the engine with the reference; `Err` describes the first difference.
fn compare(want: &Result<CheckOutput, Fail>, got: &Result<CheckOutput, Error>) -> Result<(), String> {
    match (want, got) {
        (Ok(w), Ok(g)) => {
            for (i, (a, b)) in w.findings.iter().zip(&g.findings).enumerate() {
                if a != b {
                    return Err(format!("finding {i} differs:\n reference {}\n engine    {}\nfull reference: {a:?}\nfull engine:    {b:?}", brief(a), brief(b)));
                }
            }
            if w.findings.len() != g.findings.len() {
                let more =
                    |x: &[Finding], y: &[Finding]| x.iter().skip(y.len()).map(brief).collect::<Vec<_>>().join("\n  ");
                return Err(format!(
                    "reference has {} findings, engine {}\n only reference:\n  {}\n only engine:\n  {}",
                    w.findings.len(),
                    g.findings.len(),
                    more(&w.findings, &g.findings),
                    more(&g.findings, &w.findings)
                ));
            }
            if w.unjudged != g.unjudged {
                return Err(format!("unjudged differ:\n reference {:?}\n engine    {:?}", w.unjudged, g.unjudged));
            }
            Ok(())
        }
        (Err(Fail::Value), Err(e)) if e.kind() == "value" => Ok(()),
        (Err(Fail::Argument), Err(e)) if e.kind() == "argument" => Ok(()),
        (Err(Fail::Column(t, c)), Err(Error::Column { table, column, .. })) if t == table && c == column => Ok(()),
        (Err(f), Err(e)) => Err(format!("reference error {f:?}, engine error {e}")),
        (Err(f), Ok(g)) => Err(format!(
            "reference error {f:?}, engine gave {} findings:\n  {}",
            g.findings.len(),
            g.findings.iter().map(brief).collect::<Vec<_>>().join("\n  ")
        )),
        (Ok(w), Err(e)) => Err(format!(
            "engine error {e}, reference gave {} findings:\n  {}",
            w.findings.len(),
            w.findings.iter().map(brief).collect::<Vec<_>>().join("\n  ")
        )),
    }
}

/// `Engine::check_batch` gives the table of `Engine::check`, row for row, or the same error.
fn same_table(records: &Result<CheckOutput, Error>, table: &Result<CheckBatch, Error>) -> Result<(), String> {
    match (records, table) {
        (Ok(r), Ok(t)) if r.to_record_batch() == t.findings && r.unjudged == t.unjudged => Ok(()),
        (Ok(r), Ok(t)) => Err(format!(
            "check_batch differs from check: {} rows vs {} findings\n table   {:?}\n records {:?}",
            t.findings.num_rows(),
            r.findings.len(),
            t.findings,
            r.findings
        )),
        (Err(a), Err(b)) if a.to_string() == b.to_string() => Ok(()),
        (a, b) => Err(format!("check gave {:?}, check_batch {:?}", a.as_ref().err(), b.as_ref().err())),
    }
}

/// What a scenario exercised, for the coverage sweep.
#[derive(Default)]
struct Stats {
    cases: usize,
    errors: BTreeMap<String, usize>,
    findings_by_template: BTreeMap<String, usize>,
    findings_by_rule: BTreeMap<String, usize>,
    reasons: BTreeMap<String, usize>,
    findings: usize,
}

/// Runs one scenario three ways (canonical types in one batch; random string types in random
/// batches; random types of every column in other random batches) against the reference.
fn check_scenario(sc: &Scenario, stats: &mut Stats) -> Result<(), String> {
    let pack = RulePack::from_json(&sc.pack.to_string())
        .map_err(|e| format!("generated pack does not load: {e}\n{}", sc.pack))?;
    let engine = Engine::new(pack).map_err(|e| format!("engine: {e}"))?;
    let opts = CheckOptions { stage: sc.stage, rule_ids: sc.rule_ids.clone(), ..Default::default() };
    let stage = sc.stage.map(Stage::label);
    let mut first: Option<Result<CheckOutput, Error>> = None;
    for (label, types, cuts) in [
        ("canonical types, one batch", None, None),
        ("string variants, split", Some(&sc.types_str), Some(&sc.cuts[0])),
        ("all variants, split", Some(&sc.types_all), Some(&sc.cuts[1])),
    ] {
        let json = match types {
            Some(t) => with_types(&sc.claims, t),
            None => sc.claims.clone(),
        };
        let want = reference(&sc.pack, &json, stage, sc.rule_ids.as_deref());
        let claims = claims_from_json(&json, "$").map_err(|e| format!("claims_from_json: {e}\n{json}"))?;
        let claims = match cuts {
            Some(c) => split(claims, c),
            None => claims,
        };
        let got = engine.check(&claims, &opts);
        compare(&want, &got).map_err(|m| format!("[{label}] {m}\n{}", describe(sc, &json)))?;
        same_table(&got, &engine.check_batch(&claims, &opts))
            .map_err(|m| format!("[{label}] {m}\n{}", describe(sc, &json)))?;
        match &first {
            None => {
                stats.cases += 1;
                match &got {
                    Err(e) => *stats.errors.entry(e.kind().to_string()).or_default() += 1,
                    Ok(out) => {
                        for f in &out.findings {
                            stats.findings += 1;
                            *stats.findings_by_template.entry(f.template.clone()).or_default() += 1;
                            *stats.findings_by_rule.entry(f.rule_id.clone()).or_default() += 1;
                        }
                        for u in &out.unjudged {
                            *stats.reasons.entry(u.reason.clone()).or_default() += 1;
                        }
                    }
                }
                first = Some(got);
            }
            Some(f) if label.starts_with("string") => {
                // Only the physical layout changed: the output must be the same, to the finding id.
                let same = match (f, &got) {
                    (Ok(a), Ok(b)) => a == b,
                    (Err(a), Err(b)) => a.kind() == b.kind(),
                    _ => false,
                };
                if !same {
                    return Err(format!("string variants and batches changed the output\n{}", describe(sc, &json)));
                }
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// `cases` cases, or `PROPTEST_CASES` when set (for a deeper run).
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(cases);
    ProptestConfig { cases, failure_persistence: None, max_shrink_iters: 2000, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config(256))]

    /// The sample pack as shipped, with a random stage and rule subset.
    #[test]
    fn sample_pack_engine_equals_reference(g in genes(30)) {
        let sc = scenario(&g, false);
        check_scenario(&sc, &mut Stats::default()).map_err(TestCaseError::fail)?;
    }
}

proptest! {
    #![proptest_config(config(512))]

    /// Mutated packs: match modes, effective dates, supersedes, parameters in rows or params,
    /// scenes, stages, rule dates, messages, extra rules sharing tables.
    #[test]
    fn mutated_packs_engine_equals_reference(g in genes(30)) {
        let sc = scenario(&g, true);
        check_scenario(&sc, &mut Stats::default()).map_err(TestCaseError::fail)?;
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// Many batch splits of every table, with dictionary-encoded (and other) string columns, give
    /// the same output, to the finding id, as one batch of each table.
    #[test]
    fn batch_splits_and_dictionaries_never_change_the_output(g in genes(30), splits in proptest::collection::vec(proptest::collection::vec(any::<u32>(), 16), 6)) {
        let sc = scenario(&g, true);
        let engine = Engine::new(RulePack::from_json(&sc.pack.to_string()).map_err(|e| TestCaseError::fail(e.to_string()))?)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let opts = CheckOptions { stage: sc.stage, rule_ids: sc.rule_ids.clone(), ..Default::default() };
        let base = engine.check(&claims_from_json(&sc.claims, "$").map_err(|e| TestCaseError::fail(e.to_string()))?, &opts);
        for (i, s) in splits.iter().enumerate() {
            let mut gs = G::new(s);
            let types = if i % 2 == 0 {
                let mut t = json!({});
                for (table, cols) in STR_COLS {
                    for c in *cols {
                        t[table][c] = json!("dict_utf8");
                    }
                }
                t
            } else {
                random_types(&mut gs, false)
            };
            let json = with_types(&sc.claims, &types);
            let claims = split(claims_from_json(&json, "$").map_err(|e| TestCaseError::fail(e.to_string()))?, &random_cuts(&mut gs, &sc.claims));
            let got = engine.check(&claims, &opts);
            let same = match (&base, &got) {
                (Ok(a), Ok(b)) => a == b,
                (Err(a), Err(b)) => a.kind() == b.kind(),
                _ => false,
            };
            prop_assert!(same, "split {i} differs: {:?} vs {:?}\n{}", base.as_ref().map(|o| o.findings.len()), got.as_ref().map(|o| o.findings.len()), describe(&sc, &json));
        }
    }
}

/// A fixed sweep of seeded scenarios: the engine equals the reference on all of them, and
/// together they exercise every template, every unjudged reason and the error paths, so that the
/// random generator cannot silently lose its power.
#[test]
fn seeded_sweep_covers_every_template_and_reason() {
    let mut stats = Stats::default();
    for seed in 0..400u64 {
        let sc = scenario(&seeded_genes(seed, 30), seed % 3 != 0);
        if let Err(m) = check_scenario(&sc, &mut stats) {
            panic!("seed {seed}: {m}");
        }
    }
    eprintln!(
        "sweep: {} cases, {} findings, errors {:?}\nby rule {:?}\nreasons {:?}",
        stats.cases, stats.findings, stats.errors, stats.findings_by_rule, stats.reasons
    );
    let templates = [
        "sex",
        "age",
        "insutype",
        "hosp_level",
        "scene",
        "dept",
        "price_cap",
        "not_payable",
        "amount_mismatch",
        "fee_time",
        "bed_days",
        "frequency",
        "diag_required",
        "diag_forbidden",
        "pair",
        "companion",
        "surgery_discount",
        "herbs_only",
        "rx_drug_count",
    ];
    let missing: Vec<_> = templates.iter().filter(|t| !stats.findings_by_template.contains_key(**t)).collect();
    assert!(
        missing.is_empty(),
        "templates without findings in the sweep: {missing:?}\n{:?}",
        stats.findings_by_template
    );
    let reasons = [
        "gend is null or not 1/2",
        "insutype is null",
        "hosp_lv is null or not a national code",
        "med_type is null or in no scene",
        "bilg_dept_codg is null",
        "age unknown: brdy (with fee_ocur_time) and age are null",
        "age in days unknown: brdy or fee_ocur_time is null",
        "no ceiling for this facility: hosp_lv is null or its tier has no max_price",
        "no diagnoses table was given",
        "fee_ocur_time is null",
        "begntime or endtime is null",
        "std_price is null for a second operation",
        "fee_ocur_time is null and the prescription has no rxno",
        "fee_ocur_time is null and the knowledge point has effective dates",
        "fee_ocur_time is null and the rule has effective dates",
    ];
    let missing: Vec<_> = reasons.iter().filter(|r| !stats.reasons.contains_key(**r)).collect();
    assert!(missing.is_empty(), "unjudged reasons never seen in the sweep: {missing:?}\n{:?}", stats.reasons);
    for kind in ["value", "column"] {
        assert!(stats.errors.get(kind).copied().unwrap_or(0) > 0, "no {kind} error in the sweep: {:?}", stats.errors);
    }
    let ok = stats.cases - stats.errors.values().sum::<usize>();
    assert!(ok * 5 > stats.cases * 3, "too many error cases: {:?} of {}", stats.errors, stats.cases);
}

// ---------------------------------------------------------------------------------------------
// Hand-written cases for the error paths and the points fixed in the engine.

fn one_rule_pack(rule: Value, knowledge: Value) -> Value {
    json!({"format": "medaudit-pack/1", "id": "p", "knowledge": knowledge, "rules": [rule]})
}

fn enc_row(extra: Value) -> Value {
    let mut o = json!({"mdtrt_id": "M1", "psn_no": "P1", "gend": "1", "brdy": "1980-05-01", "insutype": "310", "med_type": "21",
                       "fixmedins_code": "H1", "hosp_lv": "01", "begntime": "2026-03-01 09:00:00", "endtime": "2026-03-03 10:00:00"});
    for (k, v) in extra.as_object().expect("object") {
        o[k] = v.clone();
    }
    o
}

fn line_row(sn: &str, code: &str, extra: Value) -> Value {
    let mut o = json!({"feedetl_sn": sn, "mdtrt_id": "M1", "hilist_code": code, "hilist_name": code, "fee_ocur_time": "2026-03-02 10:00:00",
                       "cnt": 1, "pric": 10.0, "det_item_fee_sumamt": 10.0, "bilg_dept_codg": "A03", "rxno": null});
    for (k, v) in extra.as_object().expect("object") {
        o[k] = v.clone();
    }
    o
}

/// Runs the engine and the reference on one hand-written case and returns the engine's output.
fn both(pack: &Value, claims: &Value) -> Result<CheckOutput, Error> {
    let engine = Engine::new(RulePack::from_json(&pack.to_string()).expect("pack")).expect("engine");
    let got = engine.check(&claims_from_json(claims, "$").expect("claims"), &CheckOptions::default());
    let want = reference(pack, claims, None, None);
    if let Err(m) = compare(&want, &got) {
        panic!("{m}\nclaims={claims}");
    }
    got
}

#[test]
fn null_amounts_are_errors_only_where_the_rule_decides_with_them() {
    // amount_mismatch decides with cnt: a null is an error.
    let pack =
        one_rule_pack(json!({"id": "R", "name": "x", "template": "amount_mismatch", "severity": "可疑"}), json!({}));
    let claims = json!({"mdtrt": [enc_row(json!({}))], "fee_details": [line_row("L1", "A", json!({"cnt": null}))]});
    assert_eq!(both(&pack, &claims).unwrap_err().kind(), "value");

    // price_cap decides with pric (an error when null) but cnt only gives the amount at risk.
    let pack = one_rule_pack(
        json!({"id": "R", "name": "x", "template": "price_cap", "knowledge": "k", "severity": "可疑"}),
        json!({"k": {"rows": [{"code": "A", "max_price": 5}]}}),
    );
    let claims = json!({"mdtrt": [enc_row(json!({}))], "fee_details": [line_row("L1", "A", json!({"cnt": null}))]});
    let out = both(&pack, &claims).expect("no error for a null cnt");
    assert_eq!(out.findings.len(), 1);
    assert_eq!(out.findings[0].amount, None);
    let claims = json!({"mdtrt": [enc_row(json!({}))], "fee_details": [line_row("L1", "A", json!({"pric": null}))]});
    assert_eq!(both(&pack, &claims).unwrap_err().kind(), "value");

    // surgery_discount: pric is needed only on a day with two different operations; cnt only
    // gives the amount.
    let pack = one_rule_pack(
        json!({"id": "R", "name": "x", "template": "surgery_discount", "knowledge": "k", "severity": "可疑"}),
        json!({"k": {"rows": [{"code": "A", "group": "g", "std_price": 100}, {"code": "B", "group": "g", "std_price": 80}]}}),
    );
    let single = json!({"mdtrt": [enc_row(json!({}))], "fee_details": [line_row("L1", "A", json!({"pric": null})), line_row("L2", "A", json!({}))]});
    assert!(both(&pack, &single).expect("one operation code: nothing to decide").findings.is_empty());
    let two = json!({"mdtrt": [enc_row(json!({}))], "fee_details": [line_row("L1", "A", json!({"pric": 100})), line_row("L2", "B", json!({"pric": 80, "cnt": null}))]});
    let out = both(&pack, &two).expect("a null cnt only nulls the amount");
    assert_eq!(out.findings.len(), 1);
    assert_eq!(
        (out.findings[0].feedetl_sn.as_deref(), out.findings[0].related_feedetl_sn.as_deref(), out.findings[0].amount),
        (Some("L2"), Some("L1"), None)
    );
    let two_null = json!({"mdtrt": [enc_row(json!({}))], "fee_details": [line_row("L1", "A", json!({"pric": 100})), line_row("L2", "B", json!({"pric": null}))]});
    assert_eq!(both(&pack, &two_null).unwrap_err().kind(), "value");
}

#[test]
fn after_discharge_needs_only_the_discharge_time() {
    let pack = one_rule_pack(
        json!({"id": "R", "name": "x", "template": "fee_time", "params": {"check": "after_discharge"}, "severity": "可疑"}),
        json!({}),
    );
    let claims = json!({"mdtrt": [enc_row(json!({"begntime": null}))],
                        "fee_details": [line_row("L1", "A", json!({"fee_ocur_time": "2026-03-04 08:00:00"})), line_row("L2", "A", json!({}))]});
    let out = both(&pack, &claims).expect("check");
    assert_eq!(out.findings.len(), 1, "{:?}", out);
    assert!(out.unjudged.is_empty(), "{:?}", out.unjudged);
    let claims = json!({"mdtrt": [enc_row(json!({"endtime": null}))], "fee_details": [line_row("L1", "A", json!({}))]});
    let out = both(&pack, &claims).expect("check");
    assert_eq!(
        out.unjudged,
        vec![Unjudged { rule_id: "R".into(), reason: "begntime or endtime is null".into(), count: 1 }]
    );
}

#[test]
fn keys_and_encounters_are_errors_only_when_a_rule_needs_them() {
    let pack = one_rule_pack(
        json!({"id": "R", "name": "x", "template": "sex", "knowledge": "k", "severity": "可疑"}),
        json!({"k": {"rows": [{"code": "A", "sex": "2"}]}}),
    );
    // An encounter without an mdtrt row, on a line the rule selects: an error.
    let claims =
        json!({"mdtrt": [enc_row(json!({}))], "fee_details": [line_row("L1", "A", json!({"mdtrt_id": "M9"}))]});
    assert_eq!(both(&pack, &claims).unwrap_err().kind(), "value");
    // ... and on a line no rule selects: nothing.
    let claims = json!({"mdtrt": [enc_row(json!({}))], "fee_details": [line_row("L1", "B", json!({"mdtrt_id": "M9", "feedetl_sn": null}))]});
    assert!(both(&pack, &claims).expect("check").findings.is_empty());
    // A null line id on a line with a finding: an error.
    let claims =
        json!({"mdtrt": [enc_row(json!({}))], "fee_details": [line_row("L1", "A", json!({"feedetl_sn": null}))]});
    assert_eq!(both(&pack, &claims).unwrap_err().kind(), "value");
    // A missing column a rule needs, and an unknown rule id.
    let claims = json!({"mdtrt": [{"mdtrt_id": "M1"}], "fee_details": [line_row("L1", "B", json!({}))]});
    assert!(matches!(both(&pack, &claims), Err(Error::Column { .. })));
    let engine = Engine::new(RulePack::from_json(&pack.to_string()).expect("pack")).expect("engine");
    let opts = CheckOptions { rule_ids: Some(vec!["nope".into()]), ..Default::default() };
    assert_eq!(engine.check(&Claims::default(), &opts).unwrap_err().kind(), "argument");
    assert_eq!(reference(&pack, &json!({}), None, Some(&["nope".to_string()])), Err(Fail::Argument));
}

#[test]
fn a_companion_in_the_window_judges_the_line_whatever_came_first() {
    let pack = one_rule_pack(
        json!({"id": "R", "name": "x", "template": "companion", "knowledge": "k", "severity": "可疑"}),
        json!({"k": {"rows": [{"code": "A", "code_b": "B", "window": "2h"}]}}),
    );
    // A B line with a null time sorts first; the timed B line within 2 hours decides.
    let claims = json!({"mdtrt": [enc_row(json!({}))], "fee_details": [
        line_row("L1", "A", json!({})), line_row("L2", "B", json!({"fee_ocur_time": null})), line_row("L3", "B", json!({}))]});
    let out = both(&pack, &claims).expect("check");
    assert!(out.findings.is_empty() && out.unjudged.is_empty(), "{out:?}");
    // Without the timed B line, the A line cannot be judged.
    let claims = json!({"mdtrt": [enc_row(json!({}))], "fee_details": [
        line_row("L1", "A", json!({})), line_row("L2", "B", json!({"fee_ocur_time": null}))]});
    let out = both(&pack, &claims).expect("check");
    assert_eq!(out.unjudged, vec![Unjudged { rule_id: "R".into(), reason: "fee_ocur_time is null".into(), count: 1 }]);
}
