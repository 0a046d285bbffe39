//! Rule packs: the JSON format, its parsing and validation.
//!
//! A rule pack names rules; each rule is an instance of a fixed logic **template** (see
//! [`crate::templates`]) whose parameters come from the rule's `params` and, row by row, from a
//! **knowledge table** (see [`crate::knowledge`]). The format, `medaudit-pack/1`:
//!
//! ```json
//! {
//!   "format": "medaudit-pack/1",
//!   "id": "sample", "name": "…", "version": "2026.11",
//!   "scenes": {"门诊": ["1"], "住院": ["2"], "购药": ["41"], "互联网": ["9901"]},
//!   "code_sets": {"cancer": ["C", "D0[0-9]"]},
//!   "knowledge": {
//!     "sex_drugs": {"match": "prefix", "rows": [{"code": "ZD03AAA0043", "sex": "2", "kp_id": "KP-1"}]},
//!     "big_table": {"match": "exact"}
//!   },
//!   "rules": [{
//!     "id": "R01", "code": "GZ10000301004000", "name": "药品区分性别使用", "template": "sex",
//!     "knowledge": "sex_drugs", "params": {},
//!     "severity": "明确违规", "warn_level": 1,
//!     "stages": ["事前", "事中", "事后"], "scenes": ["门诊", "住院"],
//!     "effective_from": "2025-05-01", "effective_to": null,
//!     "basis": "…", "message": "{item_name}限{sex}使用，患者性别为{gend}"
//!   }]
//! }
//! ```
//!
//! * `scenes` maps each scene to the `med_type` codes (or prefixes) that make an encounter belong to
//!   it; the default is `门诊: 1*`, `住院: 2*`, `购药: 41`, and no 互联网 codes (regions differ).
//! * `code_sets` are named lists of code patterns (regex syntax, anchored at the start of the code,
//!   so `I10` is a prefix); every pattern of every set compiles into one automaton.
//! * `knowledge` declares the knowledge tables: `match` (`exact` or `prefix`, per table; a row may
//!   override it with a `match` column) and optionally inline `rows`. A table without rows must be
//!   given as Arrow batches when the engine is built.
//! * A rule's `severity` is `明确违规` or `可疑`; `warn_level` 1 (block) to 3 (notice); `stages` and
//!   `scenes` default to all; dates are `YYYY-MM-DD`, `effective_to` exclusive.
//!
//! Every error names the rule id and the field (or the JSON path) at fault.
//! This module must not evaluate claims; it only reads and checks the pack.

mod json;

pub(crate) use json::{type_name, Obj, Place};

use crate::error::{Error, Result};
use crate::knowledge::{KnowledgeTable, MatchMode};
use crate::templates::{self, TemplateSpec};
use crate::time::parse_datetime;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// The format tag this version reads.
pub const FORMAT: &str = "medaudit-pack/1";

/// 明确违规 (clear violation) or 可疑 (suspicious).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// 明确违规.
    Violation,
    /// 可疑.
    Suspicious,
}

impl Severity {
    /// The national label.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Violation => "明确违规",
            Severity::Suspicious => "可疑",
        }
    }
}

/// When a rule runs: 事前 (pre-alert), 事中 (settlement), 事后 (post-payment screening).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// 事前提醒.
    Pre,
    /// 事中审核.
    During,
    /// 事后监管.
    Post,
}

impl Stage {
    /// All stages.
    pub const ALL: [Stage; 3] = [Stage::Pre, Stage::During, Stage::Post];
    /// The national label.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Pre => "事前",
            Stage::During => "事中",
            Stage::Post => "事后",
        }
    }
    /// The stage labelled `s` (`事前`/`事中`/`事后`, or `pre`/`during`/`post`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "事前" | "pre" => Some(Stage::Pre),
            "事中" | "during" => Some(Stage::During),
            "事后" | "post" => Some(Stage::Post),
            _ => None,
        }
    }
}

/// Where care happened: 门诊, 住院, 购药 (pharmacy), 互联网 (internet hospital).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scene {
    /// 门诊.
    Outpatient,
    /// 住院.
    Inpatient,
    /// 购药.
    Pharmacy,
    /// 互联网.
    Internet,
}

impl Scene {
    /// All scenes.
    pub const ALL: [Scene; 4] = [Scene::Outpatient, Scene::Inpatient, Scene::Pharmacy, Scene::Internet];
    /// The national label.
    pub fn label(self) -> &'static str {
        match self {
            Scene::Outpatient => "门诊",
            Scene::Inpatient => "住院",
            Scene::Pharmacy => "购药",
            Scene::Internet => "互联网",
        }
    }
    /// The scene labelled `s` (Chinese label or `outpatient`/`inpatient`/`pharmacy`/`internet`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "门诊" | "outpatient" => Some(Scene::Outpatient),
            "住院" | "inpatient" => Some(Scene::Inpatient),
            "购药" | "pharmacy" => Some(Scene::Pharmacy),
            "互联网" | "internet" => Some(Scene::Internet),
            _ => None,
        }
    }
    pub(crate) fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// One rule of a pack, validated.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Unique id within the pack.
    pub id: String,
    /// Official national code (GZ…), if any.
    pub code: Option<String>,
    /// Name shown in findings.
    pub name: String,
    /// The template's spec.
    pub template: &'static TemplateSpec,
    /// Parameters as given (validated against the template).
    pub params: serde_json::Map<String, Value>,
    /// The knowledge table name, if the template uses one.
    pub knowledge: Option<String>,
    /// Severity.
    pub severity: Severity,
    /// Warn level, 1–3.
    pub warn_level: u8,
    /// Stages the rule runs in.
    pub stages: Vec<Stage>,
    /// Scenes the rule applies to.
    pub scenes: Vec<Scene>,
    /// First day in force (wall-clock seconds), inclusive.
    pub effective_from: Option<i64>,
    /// First day no longer in force, exclusive.
    pub effective_to: Option<i64>,
    /// Policy basis text.
    pub basis: Option<String>,
    /// Message template, `{placeholder}` syntax; the template's default when absent.
    pub message: String,
}

/// A knowledge table as the pack declares it.
#[derive(Debug, Clone)]
pub struct KnowledgeDecl {
    /// How codes match: exact code or code prefix.
    pub mode: MatchMode,
    /// Inline rows, if the pack carries them.
    pub inline: Option<KnowledgeTable>,
}

/// A parsed, validated rule pack.
#[derive(Debug, Clone)]
pub struct RulePack {
    /// Pack id.
    pub id: String,
    /// Pack name.
    pub name: Option<String>,
    /// Pack version.
    pub version: Option<String>,
    /// Scene → med_type codes or prefixes.
    pub scenes: BTreeMap<Scene, Vec<String>>,
    /// Named code pattern sets.
    pub code_sets: BTreeMap<String, Vec<String>>,
    /// Declared knowledge tables.
    pub knowledge: BTreeMap<String, KnowledgeDecl>,
    /// Rules, in pack order (which is also the order of findings of one line).
    pub rules: Vec<Rule>,
}

impl RulePack {
    /// The sample pack that ships with the library: every template, real national codes.
    pub fn sample() -> Result<Self> {
        Self::from_json(SAMPLE_PACK_JSON)
    }

    /// Parses and validates a pack.
    ///
    /// ```
    /// let err = medaudit_core::RulePack::from_json(
    ///     r#"{"format":"medaudit-pack/1","id":"p","rules":[{"id":"R1","name":"x","template":"nope","severity":"可疑"}]}"#,
    /// ).unwrap_err();
    /// assert!(err.to_string().contains("rule \"R1\": template: unknown template \"nope\""));
    /// ```
    pub fn from_json(text: &str) -> Result<Self> {
        let root: Value =
            serde_json::from_str(text).map_err(|e| Error::PackJson { path: "$".into(), message: format!("{e}") })?;
        Self::from_value(&root)
    }

    /// Validates a pack already decoded from JSON (see [`RulePack::from_json`]).
    pub fn from_value(root: &Value) -> Result<Self> {
        let top = Obj::new(root, Place::Path("$".into()), "")?;
        top.only(&["format", "id", "name", "version", "description", "scenes", "code_sets", "knowledge", "rules"])?;
        let format = top.req_str("format")?;
        if format != FORMAT {
            return Err(top.err("format", format!("unsupported format {format:?}; this library reads {FORMAT:?}")));
        }
        let scenes = parse_scenes(&top)?;
        let code_sets = parse_code_sets(&top)?;
        let knowledge = parse_knowledge(&top)?;
        let rules_v = match top.get("rules") {
            Some(Value::Array(r)) => r,
            Some(other) => return Err(top.err("rules", format!("expected an array, found {}", type_name(other)))),
            None => return Err(top.err("rules", "missing required field")),
        };
        let mut seen = HashSet::new();
        let mut rules = Vec::with_capacity(rules_v.len());
        for (i, rv) in rules_v.iter().enumerate() {
            let rule = parse_rule(i, rv, &knowledge, &code_sets)?;
            if !seen.insert(rule.id.clone()) {
                return Err(Error::rule(&rule.id, "id", format!("duplicate rule id (rule #{i})")));
            }
            rules.push(rule);
        }
        let pack = RulePack {
            id: top.req_str("id")?,
            name: top.opt_str("name")?,
            version: top.opt_str("version")?,
            scenes,
            code_sets,
            knowledge,
            rules,
        };
        // Inline knowledge is checked against the templates now, so a broken pack fails at load.
        crate::engine::compile::validate_inline(&pack)?;
        Ok(pack)
    }

    /// The rule with `id`.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// The sample pack's JSON text.
pub const SAMPLE_PACK_JSON: &str = include_str!("../../packs/sample.json");

fn parse_scenes(top: &Obj) -> Result<BTreeMap<Scene, Vec<String>>> {
    let mut out = BTreeMap::new();
    out.insert(Scene::Outpatient, vec!["1".to_string()]);
    out.insert(Scene::Inpatient, vec!["2".to_string()]);
    out.insert(Scene::Pharmacy, vec!["41".to_string()]);
    out.insert(Scene::Internet, vec![]);
    if let Some(v) = top.get("scenes") {
        let o = Obj::new(v, Place::Path("$.scenes".into()), "")?;
        for k in o.map.keys() {
            let scene =
                Scene::parse(k).ok_or_else(|| o.err(k, "unknown scene; expected 门诊, 住院, 购药 or 互联网"))?;
            out.insert(scene, o.opt_str_list(k)?.unwrap_or_default());
        }
    }
    Ok(out)
}

fn parse_code_sets(top: &Obj) -> Result<BTreeMap<String, Vec<String>>> {
    let mut out = BTreeMap::new();
    if let Some(v) = top.get("code_sets") {
        let o = Obj::new(v, Place::Path("$.code_sets".into()), "")?;
        for k in o.map.keys() {
            let pats = o.opt_str_list(k)?.unwrap_or_default();
            if pats.is_empty() {
                return Err(o.err(k, "a code set needs at least one pattern"));
            }
            out.insert(k.clone(), pats);
        }
    }
    Ok(out)
}

fn parse_knowledge(top: &Obj) -> Result<BTreeMap<String, KnowledgeDecl>> {
    let mut out = BTreeMap::new();
    if let Some(v) = top.get("knowledge") {
        let o = Obj::new(v, Place::Path("$.knowledge".into()), "")?;
        for (name, tv) in o.map {
            let path = format!("$.knowledge.{name}");
            let t = Obj::new(tv, Place::Path(path.clone()), "")?;
            t.only(&["match", "rows", "description"])?;
            let mode = match t.opt_str("match")?.as_deref() {
                None | Some("exact") => MatchMode::Exact,
                Some("prefix") => MatchMode::Prefix,
                Some(other) => return Err(t.err("match", format!("expected \"exact\" or \"prefix\", found {other:?}"))),
            };
            let inline = match t.get("rows") {
                None => None,
                Some(rows) => Some(KnowledgeTable::from_json_rows(name, rows)?),
            };
            out.insert(name.clone(), KnowledgeDecl { mode, inline });
        }
    }
    Ok(out)
}

const RULE_FIELDS: &[&str] = &[
    "id",
    "code",
    "name",
    "template",
    "params",
    "knowledge",
    "severity",
    "warn_level",
    "stages",
    "scenes",
    "effective_from",
    "effective_to",
    "basis",
    "message",
    "description",
];

fn parse_rule(
    i: usize,
    v: &Value,
    knowledge: &BTreeMap<String, KnowledgeDecl>,
    code_sets: &BTreeMap<String, Vec<String>>,
) -> Result<Rule> {
    let id = match v.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) => return Err(Error::rule(&format!("#{i}"), "id", "empty rule id")),
        Some(other) => {
            return Err(Error::rule(&format!("#{i}"), "id", format!("expected a string, found {}", type_name(other))))
        }
        None => return Err(Error::rule(&format!("#{i}"), "id", "missing required field")),
    };
    let o = Obj::new(v, Place::Rule(id.clone()), "")?;
    o.only(RULE_FIELDS)?;
    let tname = o.req_str("template")?;
    let template = templates::spec(&tname).ok_or_else(|| {
        o.err(
            "template",
            format!(
                "unknown template {tname:?}; known templates: {}",
                templates::SPECS.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
            ),
        )
    })?;
    let severity = match o.req_str("severity")?.as_str() {
        "明确违规" | "violation" => Severity::Violation,
        "可疑" | "suspicious" => Severity::Suspicious,
        other => return Err(o.err("severity", format!("expected \"明确违规\" or \"可疑\", found {other:?}"))),
    };
    let warn_level = match o.opt_num("warn_level")? {
        None => 1,
        Some(x) if x.fract() == 0.0 && (1.0..=3.0).contains(&x) => x as u8,
        Some(x) => return Err(o.err("warn_level", format!("expected 1, 2 or 3, found {x}"))),
    };
    let stages = match o.opt_str_list("stages")? {
        None => Stage::ALL.to_vec(),
        Some(list) => list
            .iter()
            .enumerate()
            .map(|(j, s)| {
                Stage::parse(s).ok_or_else(|| {
                    o.err(&format!("stages[{j}]"), format!("unknown stage {s:?}; expected 事前, 事中 or 事后"))
                })
            })
            .collect::<Result<Vec<_>>>()?,
    };
    let scenes = match o.opt_str_list("scenes")? {
        None => Scene::ALL.to_vec(),
        Some(list) => list
            .iter()
            .enumerate()
            .map(|(j, s)| {
                Scene::parse(s).ok_or_else(|| {
                    o.err(&format!("scenes[{j}]"), format!("unknown scene {s:?}; expected 门诊, 住院, 购药 or 互联网"))
                })
            })
            .collect::<Result<Vec<_>>>()?,
    };
    let date = |f: &str| -> Result<Option<i64>> {
        match o.opt_str(f)? {
            None => Ok(None),
            Some(s) => {
                parse_datetime(&s).map(Some).ok_or_else(|| o.err(f, format!("expected a date YYYY-MM-DD, found {s:?}")))
            }
        }
    };
    let effective_from = date("effective_from")?;
    let effective_to = date("effective_to")?;
    if let (Some(a), Some(b)) = (effective_from, effective_to) {
        if b <= a {
            return Err(o.err("effective_to", "must be after effective_from"));
        }
    }
    let params = match o.get("params") {
        None => serde_json::Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => return Err(o.err("params", format!("expected an object, found {}", type_name(other)))),
    };
    templates::validate_params(template, &id, &params, code_sets)?;
    let knowledge_name = o.opt_str("knowledge")?;
    match (&knowledge_name, template.knowledge) {
        (None, templates::KnowledgeUse::Required | templates::KnowledgeUse::Case) => {
            return Err(o.err(
                "knowledge",
                format!("missing required field: template {:?} reads its items from a knowledge table", template.name),
            ))
        }
        (Some(_), templates::KnowledgeUse::None) => {
            return Err(o.err("knowledge", format!("template {:?} takes no knowledge table", template.name)))
        }
        (Some(k), _) if !knowledge.contains_key(k) => {
            return Err(o.err(
                "knowledge",
                format!(
                    "unknown knowledge table {k:?}; the pack declares: {}",
                    if knowledge.is_empty() {
                        "(none)".to_string()
                    } else {
                        knowledge.keys().cloned().collect::<Vec<_>>().join(", ")
                    }
                ),
            ))
        }
        _ => {}
    }
    let message = o.opt_str("message")?.unwrap_or_else(|| template.default_message.to_string());
    templates::validate_message(template, &message).map_err(|m| o.err("message", m))?;
    Ok(Rule {
        code: o.opt_str("code")?,
        name: o.req_str("name")?,
        id,
        template,
        params,
        knowledge: knowledge_name,
        severity,
        warn_level,
        stages,
        scenes,
        effective_from,
        effective_to,
        basis: o.opt_str("basis")?,
        message,
    })
}
