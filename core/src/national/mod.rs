//! National knowledge import: the published 两库 knowledge points (知识点 records, one per point,
//! as NHSA publishes them in batches) become a rule pack (`medaudit-pack/1`) with one rule per
//! rule class and inline knowledge tables, plus a [`Coverage`] report that accounts for every
//! point: interpreted into an executable check, or not, and why.
//!
//! How each rule class is read from its constraint texts is tabulated in
//! core/src/national/RULE_CLASSES.md.
//!
//! * [`records`](parse_records): reading the records (errors name the record index and field).
//! * [`constraints`]: pure interpretation of the constraint texts (sex, ages, facility level,
//!   inpatient-only, frequency units, pair windows, courses, cycles, herbs).
//! * [`IndicationMap`]: indication text → ICD-10 code patterns (a starter mapping ships).
//! * [`synth`]: generated claims whose codes are drawn from an imported pack.
//!
//! Versioning: each row carries `effective_from` (the point's publication date, when known),
//! `batch` and `supersedes`; a superseded point stops applying from the date of the point that
//! replaces it. Findings cite the point's `kp_id` and a basis `【batch】constraint text`.
//!
//! This module does no IO: records text or parsed records in, pack and report out.
//!
//! ```
//! use medaudit_core::national::{import, ImportOptions};
//! let records = r#"[{"kp_id": "KP-1", "rule_class": "药品区分性别使用", "gz_code": "GZ10000301004000",
//!   "med_codes": ["ZD03AAA0043010100001"], "item_name": "艾附暖宫丸",
//!   "constraint": "理气补血，暖宫调经。用于子宫虚寒，月经量少。", "detect_logic": "与限定性别不符",
//!   "batch": 1, "published_at": null, "supersedes": null}]"#;
//! let out = import(records, &ImportOptions::default())?;
//! assert_eq!(out.coverage.interpreted, 1);
//! let engine = medaudit_core::Engine::new(out.pack)?;
//! assert_eq!(engine.pack().rules[0].name, "药品区分性别使用");
//! # Ok::<(), medaudit_core::Error>(())
//! ```

pub mod constraints;
mod coverage;
mod indications;
mod records;
pub mod synth;

pub use coverage::{ClassCoverage, Coverage, Skipped};
pub use indications::{normalize as normalize_indication, Indication, IndicationMap, STARTER_TSV};
pub use records::{parse_records, records_from_value, Record, RECORDS};

use crate::error::Result;
use crate::pack::RulePack;
use constraints as c;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

/// Options of an import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Pack id.
    pub pack_id: String,
    /// Indication text → diagnosis patterns; [`IndicationMap::starter`] by default.
    pub indications: IndicationMap,
    /// Standard (undiscounted) unit prices of operations by code, for 手术项目未按规定折价收费;
    /// a second operation without one is counted as unjudged.
    pub std_prices: BTreeMap<String, f64>,
    /// `med_type` codes (or prefixes) of internet encounters (互联网); regions differ, so none by
    /// default, and the internet-scene rule then finds nothing.
    pub internet_med_types: Vec<String>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            pack_id: "nhsa-liangku".into(),
            indications: IndicationMap::starter(),
            std_prices: BTreeMap::new(),
            internet_med_types: Vec::new(),
        }
    }
}

/// What an import returns.
#[derive(Debug, Clone)]
pub struct NationalImport {
    /// The validated pack (knowledge inline); build an engine with [`crate::Engine::new`].
    pub pack: RulePack,
    /// The same pack as `medaudit-pack/1` JSON, to store or hand to another process.
    pub pack_json: Value,
    /// Every point accounted for.
    pub coverage: Coverage,
}

/// Imports records given as JSON text (see [`parse_records`]).
pub fn import(text: &str, opts: &ImportOptions) -> Result<NationalImport> {
    import_records(&parse_records(text)?, opts)
}

/// One rule the importer can emit.
struct RuleDef {
    id: &'static str,
    name: &'static str,
    code: Option<&'static str>,
    template: &'static str,
    suspicious: bool,
    params: fn() -> Value,
    message: Option<&'static str>,
}

fn no_params() -> Value {
    json!({})
}

const fn def(id: &'static str, name: &'static str, template: &'static str) -> RuleDef {
    RuleDef { id, name, code: None, template, suspicious: false, params: no_params, message: None }
}

/// The rules, in pack order. Codes come from the records (the first that gives one) unless fixed.
static RULES: &[RuleDef] = &[
    def("drug_sex", "药品区分性别使用", "sex"),
    def("service_sex", "医疗服务项目区分性别使用", "sex"),
    def("drug_child_only", "药品儿童专用", "age"),
    def("drug_child_limit", "药品限儿童使用", "age"),
    def("service_child_only", "医疗服务项目儿童专用", "age"),
    def("service_age", "医疗服务项目限年龄", "age"),
    def("drug_work_injury", "药品限工伤保险", "insutype"),
    def("drug_maternity", "药品限生育保险", "insutype"),
    def("drug_hosp_level", "药品限医疗机构级别", "hosp_level"),
    def("drug_scene", "药品限就医方式", "scene"),
    def("internet_drugs", "超互联网医院药品支付范围", "scene"),
    RuleDef {
        message: Some("{item_name}{window}计费数量限{limit}，实际计费{qty}"),
        ..def("service_frequency", "医疗服务项目限定频次", "frequency")
    },
    def("service_duplicate", "医疗服务项目重复收费", "pair"),
    def("surgery_discount", "手术项目未按规定折价收费", "surgery_discount"),
    RuleDef {
        code: Some("GZ10000101004000"), ..def("herbs_alone", "中药饮片单方使用不予支付", "herbs_only")
    },
    RuleDef {
        code: Some("GZ10000101003000"), ..def("herbs_never", "中药饮片单复方均不予支付", "not_payable")
    },
    RuleDef {
        suspicious: true,
        message: Some("{item_name}限二线用药，未见一线药品使用无效或不能耐受的证据，请核实既往用药"),
        ..def("drug_second_line", "药品限二线使用", "not_payable")
    },
    RuleDef {
        params: || json!({"unmapped": "unjudged"}), ..def("drug_indication", "药品限适应症", "diag_required")
    },
    def("drug_course", "药品限支付疗程", "course"),
    def("service_course", "医疗服务项目限支付疗程", "course"),
    def("service_cycle", "医疗服务项目周期超频次", "cycle_frequency"),
];

/// How one record was interpreted.
enum Outcome {
    /// A knowledge row of rule `rule` with these template parameters.
    Row { rule: &'static str, params: Map<String, Value>, unmapped: bool },
    /// Not interpreted, and why.
    Not(String),
}

fn row(rule: &'static str, params: Value) -> Outcome {
    match params {
        Value::Object(m) => Outcome::Row { rule, params: m, unmapped: false },
        _ => Outcome::Row { rule, params: Map::new(), unmapped: false },
    }
}

fn band(rule: &'static str, b: c::AgeBand) -> Outcome {
    let mut m = Map::new();
    for (k, v) in [("min_age", b.min_age), ("max_age", b.max_age), ("max_age_days", b.max_age_days)] {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    }
    Outcome::Row { rule, params: m, unmapped: false }
}

fn not(reason: impl Into<String>) -> Outcome {
    Outcome::Not(reason.into())
}

fn interpret(r: &Record, opts: &ImportOptions) -> Outcome {
    let text = r.constraint.as_deref().unwrap_or("").trim();
    if r.med_codes.is_empty() {
        return not("no national code: a note row, not a knowledge point");
    }
    match r.rule_class.as_str() {
        "药品区分性别使用" => match c::drug_sex(text, &r.item_name) {
            Some(s) => row("drug_sex", json!({"sex": s})),
            None => not("the sex cannot be told from the indication text or item name"),
        },
        "医疗服务项目区分性别使用" => match c::service_sex(text) {
            Some(s) => row("service_sex", json!({"sex": s})),
            None => not("the text names neither 女性 nor 男性"),
        },
        "药品儿童专用" => band("drug_child_only", c::child_drug_band(text)),
        "药品限儿童使用" => band("drug_child_limit", c::child_drug_band(text)),
        "医疗服务项目儿童专用" => match c::child_service_band(text) {
            Some(b) => band("service_child_only", b),
            None => not("the text names no age group (新生儿, 婴儿, 婴幼儿, 小儿, 儿童)"),
        },
        "医疗服务项目限年龄" => match c::working_age_band(text) {
            Some(b) => band("service_age", b),
            None => not("the text gives no age band"),
        },
        "药品限工伤保险" => row("drug_work_injury", json!({"insutype": ["410"]})),
        "药品限生育保险" => row("drug_maternity", json!({"insutype": ["510"]})),
        "药品限医疗机构级别" => match c::min_level(text) {
            Some(l) => row("drug_hosp_level", json!({"min_level": l})),
            None => not("the text names no facility level"),
        },
        "药品限就医方式" => match c::inpatient_only(text) {
            Some(true) => row("drug_scene", json!({"allowed_scenes": ["住院"]})),
            _ if text.contains("急诊") => {
                not("急诊 (emergency) is not a scene of the pack: 限急诊或住院 cannot be told from med_type scenes")
            }
            _ => not("the text names no scene"),
        },
        "超互联网医院药品支付范围" => row("internet_drugs", json!({"denied_scenes": ["互联网"]})),
        "医疗服务项目限定频次" => match c::frequency(text) {
            Some((q, w)) => row("service_frequency", json!({"max_qty": q, "window": w})),
            None => not(format!("unknown frequency unit {text:?}")),
        },
        "医疗服务项目重复收费" => match r.med_codes.as_slice() {
            [_, b] => row("service_duplicate", json!({"code_b": b, "window": c::pair_window(text)})),
            _ => not("a duplicate-charge point needs exactly two codes (A, B)"),
        },
        "手术项目未按规定折价收费" => {
            if text.is_empty() {
                return not("no surgical group");
            }
            let mut p = json!({"group": text});
            let prices: Vec<f64> = r.med_codes.iter().filter_map(|c| opts.std_prices.get(c).copied()).collect();
            if let (Some(&first), true) = (prices.first(), prices.len() == r.med_codes.len()) {
                if prices.iter().all(|x| (x - first).abs() < 1e-9) {
                    p["std_price"] = json!(first);
                }
            }
            row("surgery_discount", p)
        }
        "中药饮片单方使用不予支付" | "中药饮片单复方均不予支付" => {
            match c::herb_never_payable(text) {
                Some(true) => row("herbs_never", json!({})),
                Some(false) => row("herbs_alone", json!({})),
                None => not("the text says neither 单独使用 nor 不得纳入基金支付范围"),
            }
        }
        "药品限二线使用" => row("drug_second_line", json!({})),
        "药品限适应症" => match opts.indications.get(text) {
            Some(ind) => row("drug_indication", json!({"diag_set": ind.label})),
            None => Outcome::Row { rule: "drug_indication", params: Map::new(), unmapped: true },
        },
        "药品限支付疗程" | "医疗服务项目限支付疗程" => {
            let rule = if r.rule_class.starts_with("药品") { "drug_course" } else { "service_course" };
            if crate::templates::spec("course").is_none() {
                return not("needs the history template course");
            }
            match c::course(text, r.detect_logic.as_deref()) {
                Some(k) => row(rule, json!({"max_days": k.max_days, "measure": k.measure})),
                None => not("the text gives no payment course (支付不超过N天)"),
            }
        }
        "医疗服务项目周期超频次" => {
            if crate::templates::spec("cycle_frequency").is_none() {
                return not("needs the history template cycle_frequency");
            }
            match c::cycle(text) {
                Some(k) => row("service_cycle", json!({"max_count": k.max_count, "window_days": k.window_days})),
                None => not("the text gives no cycle (K per N days)"),
            }
        }
        other => not(format!("unknown rule class {other:?}: no template is known for it")),
    }
}

/// Imports parsed records.
pub fn import_records(records: &[Record], opts: &ImportOptions) -> Result<NationalImport> {
    let outcomes: Vec<Outcome> = records.iter().map(|r| interpret(r, opts)).collect();
    let by_kp: HashMap<&str, usize> = records.iter().enumerate().map(|(i, r)| (r.kp_id.as_str(), i)).collect();
    let rule_of = |i: usize| match outcomes.get(i) {
        Some(Outcome::Row { rule, .. }) => Some(*rule),
        _ => None,
    };
    let mut coverage = Coverage::default();
    // A superseded point stops where its replacement starts; across tables (or when the
    // replacement is not interpreted) the importer writes that end date itself.
    let mut ends: HashMap<usize, Option<String>> = HashMap::new();
    let mut same_table: HashMap<usize, bool> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        let Some(old) = &r.supersedes else { continue };
        match by_kp.get(old.as_str()) {
            None => coverage.warnings.push(format!(
                "record {i} ({}) supersedes {old:?}, which is not among the records; it applies as a new point",
                r.kp_id
            )),
            Some(&o) => {
                let same = rule_of(i).is_some() && rule_of(i) == rule_of(o);
                same_table.insert(i, same);
                let e = ends.entry(o).or_insert_with(|| r.published_at.clone());
                if let (Some(cur), Some(new)) = (e.as_ref(), r.published_at.as_ref()) {
                    if new < cur {
                        *e = Some(new.clone());
                    }
                }
            }
        }
    }
    let mut tables: BTreeMap<&'static str, Vec<Value>> = BTreeMap::new();
    let mut gz: BTreeMap<&'static str, String> = BTreeMap::new();
    let mut sets: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, (r, o)) in records.iter().zip(&outcomes).enumerate() {
        let cls = coverage.class(&r.rule_class);
        cls.points += 1;
        match o {
            Outcome::Not(reason) => {
                cls.skip(i, &r.kp_id, reason);
                continue;
            }
            Outcome::Row { rule, params, unmapped } => {
                let rule_def = RULES.iter().find(|d| d.id == *rule);
                if !cls.rules.iter().any(|x| x == rule) {
                    cls.rules.push(rule.to_string());
                }
                cls.interpreted += 1;
                if *unmapped {
                    cls.awaiting_mapping += 1;
                }
                if let (Some(code), None) = (&r.gz_code, rule_def.and_then(|d| d.code)) {
                    gz.entry(rule).or_insert_with(|| code.clone());
                }
                if let Some(Value::String(label)) = params.get("diag_set") {
                    if let Some(ind) = opts.indications.get(r.constraint.as_deref().unwrap_or("")) {
                        sets.entry(label.clone()).or_insert_with(|| ind.patterns.clone());
                    }
                }
                let mut row = Map::new();
                row.insert("kp_id".into(), json!(r.kp_id));
                let codes: &[String] =
                    if *rule == "service_duplicate" { r.med_codes.get(..1).unwrap_or(&[]) } else { &r.med_codes };
                row.insert("code".into(), json!(codes));
                row.insert("item_name".into(), json!(r.item_name));
                row.insert("batch".into(), json!(r.batch_label()));
                let text = r.constraint.as_deref().unwrap_or("").trim();
                row.insert("basis".into(), json!(format!("【{}】{}", r.batch_label(), text)));
                if let Some(d) = &r.published_at {
                    row.insert("effective_from".into(), json!(d));
                }
                if let Some(old) = &r.supersedes {
                    if same_table.get(&i).copied().unwrap_or(false) {
                        row.insert("supersedes".into(), json!(old));
                    }
                }
                if let Some(end) = ends.get(&i) {
                    match end {
                        Some(d) => {
                            row.insert("effective_to".into(), json!(d));
                        }
                        // Replaced by a point without a date: the engine ends it through
                        // `supersedes` when both are in one table; otherwise it is reported.
                        None => coverage.warnings.push(format!(
                            "record {i} ({}) is superseded by an undated point in another rule; it still applies",
                            r.kp_id
                        )),
                    }
                }
                row.extend(params.clone());
                tables.entry(rule).or_default().push(Value::Object(row));
            }
        }
    }
    coverage.finish(records.len());
    let mut scenes = json!({"门诊": ["1"], "住院": ["2"], "购药": ["41"], "互联网": opts.internet_med_types});
    if opts.internet_med_types.is_empty() {
        scenes["互联网"] = json!([]);
    }
    let mut rules = Vec::new();
    let mut knowledge = Map::new();
    for d in RULES {
        let Some(rows) = tables.remove(d.id) else { continue };
        knowledge.insert(d.id.into(), json!({"match": "exact", "rows": rows}));
        let mut rule = json!({
            "id": d.id,
            "name": d.name,
            "template": d.template,
            "knowledge": d.id,
            "params": (d.params)(),
            "severity": if d.suspicious { "可疑" } else { "明确违规" },
            "warn_level": if d.suspicious { 2 } else { 1 },
            "basis": format!("国家医保智能监管知识库：{}", d.name),
        });
        if let Some(code) = d.code.map(str::to_string).or_else(|| gz.get(d.id).cloned()) {
            rule["code"] = json!(code);
        }
        if let Some(m) = d.message {
            rule["message"] = json!(m);
        }
        rules.push(rule);
    }
    let version = records.iter().filter_map(|r| r.published_at.as_deref()).max().unwrap_or("").to_string();
    let pack_json = json!({
        "format": crate::pack::FORMAT,
        "id": opts.pack_id,
        "name": "国家医保智能监管两库知识点",
        "version": version,
        "description": format!("{} knowledge points imported; see the coverage report", records.len()),
        "scenes": scenes,
        "code_sets": sets,
        "knowledge": knowledge,
        "rules": rules,
    });
    let pack = RulePack::from_value(&pack_json)?;
    Ok(NationalImport { pack, pack_json, coverage })
}
