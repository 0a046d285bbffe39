//! DIP (按病种分值付费, Diagnosis-Intervention Packet) catalogues: the `dip-catalogue/1` JSON
//! format, and matching a case to its disease group, score and adjustment factor.
//!
//! No national DIP catalogue is published in machine-readable form; this format follows the
//! published technical specification (国家医疗保障按病种分值付费技术规范): core groups
//! (核心病种) are a principal-diagnosis subcategory with an operation combination (or 保守治疗,
//! no operation); cases that fit no core group fall into comprehensive groups (综合病种) by
//! diagnosis category and treatment type (手术 / 操作 / 保守); auxiliary adjustments (辅助目录:
//! age, length of stay, severity by secondary diagnosis) multiply the score. The format is
//! documented in core/src/dip/FORMAT.md.
//!
//! Matching, for a case with principal diagnosis `p` and procedures `P`:
//!
//! 1. Core groups whose `dx` is the longest prefix of `p` among core groups; of those, the ones
//!    whose every `procs` entry is a prefix of some procedure in `P`; the one with most `procs`
//!    wins (first in file order on a tie). It is taken only if every procedure of `P` with an
//!    operation type (`operation_types`) is covered by its `procs`: otherwise the case has
//!    treatment the group does not describe and goes on to step 2.
//! 2. Comprehensive groups whose `dx` is the longest prefix of `p`, of the case's treatment type:
//!    `surgery` if a procedure has that type, else `procedure`, else `conservative`.
//! 3. Otherwise the case is not matched.
//!
//! Then every adjustment whose condition holds multiplies the factor. This module never does IO.

use crate::error::{Error, Result};
use serde_json::{Map, Value};

const FORMAT: &str = "dip-catalogue/1";
const FILE: &str = "dip catalogue";

fn err(path: &str, message: impl Into<String>) -> Error {
    Error::Scheme { file: FILE.into(), path: Some(path.into()), row: None, message: message.into() }
}

/// Treatment type of a comprehensive group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Treatment {
    /// 保守治疗: no typed procedure.
    Conservative,
    /// 诊断性/治疗性操作.
    Procedure,
    /// 手术.
    Surgery,
}

impl Treatment {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "conservative" => Treatment::Conservative,
            "procedure" => Treatment::Procedure,
            "surgery" => Treatment::Surgery,
            _ => return None,
        })
    }

    /// `conservative`, `procedure` or `surgery`.
    pub fn name(self) -> &'static str {
        match self {
            Treatment::Conservative => "conservative",
            Treatment::Procedure => "procedure",
            Treatment::Surgery => "surgery",
        }
    }
}

struct Group {
    id: String,
    name: String,
    dx: String,
    procs: Vec<String>,
    treatment: Option<Treatment>,
    score: f64,
}

/// A condition of an auxiliary adjustment.
enum AdjWhen {
    AgeGe(i64),
    AgeLe(i64),
    LosGe(i64),
    LosLe(i64),
    SecondaryDx(Vec<String>),
}

struct Adjustment {
    id: String,
    when: Vec<AdjWhen>,
    factor: f64,
}

/// A compiled DIP catalogue. Load with [`DipCatalogue::from_json`]; match with
/// [`DipCatalogue::match_case`].
pub struct DipCatalogue {
    id: String,
    name: String,
    core: Vec<Group>,
    comprehensive: Vec<Group>,
    /// (procedure code prefix, type).
    types: Vec<(String, Treatment)>,
    adjustments: Vec<Adjustment>,
}

/// A case as DIP matching reads it.
#[derive(Debug, Clone, Default)]
pub struct DipCase<'c> {
    /// Principal diagnosis code.
    pub principal: &'c str,
    /// Secondary diagnosis codes.
    pub secondary: Vec<&'c str>,
    /// Procedure codes.
    pub procedures: Vec<&'c str>,
    /// Age in years.
    pub age_years: Option<i64>,
    /// Length of stay in days.
    pub los_days: Option<i64>,
}

/// Where a case fell.
#[derive(Debug, Clone, PartialEq)]
pub struct DipMatch<'s> {
    /// The group's id.
    pub group: &'s str,
    /// The group's name.
    pub name: &'s str,
    /// True for a core group, false for a comprehensive one.
    pub core: bool,
    /// The treatment type (comprehensive groups).
    pub treatment: Option<Treatment>,
    /// The group's score (分值).
    pub score: f64,
    /// The product of the factors of the adjustments that apply (1 when none).
    pub factor: f64,
    /// Ids of the adjustments that apply.
    pub adjustments: Vec<&'s str>,
}

impl DipMatch<'_> {
    /// Score × factor.
    pub fn adjusted_score(&self) -> f64 {
        self.score * self.factor
    }
}

fn obj<'v>(v: &'v Value, path: &str) -> Result<&'v Map<String, Value>> {
    v.as_object().ok_or_else(|| err(path, "expected an object"))
}

fn s<'v>(o: &'v Map<String, Value>, key: &str, path: &str) -> Result<&'v str> {
    o.get(key).and_then(Value::as_str).ok_or_else(|| err(&format!("{path}.{key}"), "missing or not a string"))
}

fn strings(v: Option<&Value>, path: &str) -> Result<Vec<String>> {
    match v {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_str()
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .ok_or_else(|| err(&format!("{path}[{i}]"), "expected a non-empty string"))
            })
            .collect(),
        Some(_) => Err(err(path, "expected an array of strings")),
    }
}

fn positive(o: &Map<String, Value>, key: &str, path: &str) -> Result<f64> {
    o.get(key)
        .and_then(Value::as_f64)
        .filter(|x| x.is_finite() && *x > 0.0)
        .ok_or_else(|| err(&format!("{path}.{key}"), "missing or not a positive number"))
}

fn groups(root: &Map<String, Value>, key: &str, core: bool) -> Result<Vec<Group>> {
    let Some(v) = root.get(key) else { return Ok(Vec::new()) };
    let a = v.as_array().ok_or_else(|| err(&format!("$.{key}"), "expected an array"))?;
    a.iter()
        .enumerate()
        .map(|(i, g)| {
            let path = format!("$.{key}[{i}]");
            let o = obj(g, &path)?;
            let treatment = if core {
                None
            } else {
                let t = s(o, "treatment", &path)?;
                Some(Treatment::parse(t).ok_or_else(|| {
                    err(
                        &format!("{path}.treatment"),
                        format!("expected surgery, procedure or conservative, found {t:?}"),
                    )
                })?)
            };
            let dx = s(o, "dx", &path)?;
            if dx.is_empty() {
                return Err(err(&format!("{path}.dx"), "empty diagnosis key"));
            }
            Ok(Group {
                id: s(o, "id", &path)?.to_string(),
                name: o.get("name").and_then(Value::as_str).unwrap_or("").to_string(),
                dx: dx.to_string(),
                procs: if core { strings(o.get("procs"), &format!("{path}.procs"))? } else { Vec::new() },
                treatment,
                score: positive(o, "score", &path)?,
            })
        })
        .collect()
}

impl DipCatalogue {
    /// Loads a `dip-catalogue/1` JSON text; errors name the JSON path.
    ///
    /// ```
    /// use medaudit_core::dip::{DipCase, DipCatalogue};
    /// let cat = DipCatalogue::from_json(r#"{"format": "dip-catalogue/1", "id": "t",
    ///   "operation_types": {"surgery": ["45"]},
    ///   "core": [{"id": "C18.0-45.73", "dx": "C18.0", "procs": ["45.73"], "score": 2600},
    ///            {"id": "C18.0-保守", "dx": "C18.0", "procs": [], "score": 900}],
    ///   "comprehensive": [{"id": "C18-手术", "dx": "C18", "treatment": "surgery", "score": 2000}]}"#)?;
    /// let m = cat.match_case(&DipCase { principal: "C18.001", procedures: vec!["45.7300x007"], ..Default::default() }).unwrap();
    /// assert_eq!((m.group, m.score), ("C18.0-45.73", 2600.0));
    /// # Ok::<(), medaudit_core::Error>(())
    /// ```
    pub fn from_json(text: &str) -> Result<Self> {
        let root = crate::drg::scheme::parse_json(FILE, text)?;
        let root = obj(&root, "$")?;
        let f = s(root, "format", "$")?;
        if f != FORMAT {
            return Err(err("$.format", format!("unsupported format {f:?}; expected {FORMAT:?}")));
        }
        let mut types = Vec::new();
        if let Some(t) = root.get("operation_types") {
            for (k, v) in obj(t, "$.operation_types")? {
                let ty = Treatment::parse(k)
                    .filter(|t| *t != Treatment::Conservative)
                    .ok_or_else(|| err(&format!("$.operation_types.{k}"), "expected surgery or procedure"))?;
                for p in strings(Some(v), &format!("$.operation_types.{k}"))? {
                    types.push((p, ty));
                }
            }
        }
        // Longer prefixes first, so that the most specific type wins.
        types.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        let mut adjustments = Vec::new();
        if let Some(a) = root.get("adjustments") {
            let a = a.as_array().ok_or_else(|| err("$.adjustments", "expected an array"))?;
            for (i, x) in a.iter().enumerate() {
                let path = format!("$.adjustments[{i}]");
                let o = obj(x, &path)?;
                let w = obj(o.get("when").unwrap_or(&Value::Null), &format!("{path}.when"))?;
                let mut when = Vec::new();
                for (k, v) in w {
                    let p = format!("{path}.when.{k}");
                    let int = || v.as_i64().ok_or_else(|| err(&p, "expected an integer"));
                    when.push(match k.as_str() {
                        "age_ge" => AdjWhen::AgeGe(int()?),
                        "age_le" => AdjWhen::AgeLe(int()?),
                        "los_ge" => AdjWhen::LosGe(int()?),
                        "los_le" => AdjWhen::LosLe(int()?),
                        "secondary_dx_prefix" => AdjWhen::SecondaryDx(strings(Some(v), &p)?),
                        _ => {
                            return Err(err(
                                &p,
                                "unknown condition; expected age_ge, age_le, los_ge, los_le or secondary_dx_prefix",
                            ))
                        }
                    });
                }
                if when.is_empty() {
                    return Err(err(&format!("{path}.when"), "needs at least one condition"));
                }
                adjustments.push(Adjustment {
                    id: s(o, "id", &path)?.to_string(),
                    when,
                    factor: positive(o, "factor", &path)?,
                });
            }
        }
        let cat = DipCatalogue {
            id: s(root, "id", "$")?.to_string(),
            name: root.get("name").and_then(Value::as_str).unwrap_or("").to_string(),
            core: groups(root, "core", true)?,
            comprehensive: groups(root, "comprehensive", false)?,
            types,
            adjustments,
        };
        let mut ids = std::collections::BTreeSet::new();
        for (k, g) in cat.core.iter().map(|g| ("core", g)).chain(cat.comprehensive.iter().map(|g| ("comprehensive", g)))
        {
            if !ids.insert(g.id.as_str()) {
                return Err(err(&format!("$.{k}"), format!("duplicate group id {:?}", g.id)));
            }
        }
        Ok(cat)
    }

    /// The catalogue id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The catalogue name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The operation type of a procedure code, if any.
    fn op_type(&self, code: &str) -> Option<Treatment> {
        self.types.iter().find(|(p, _)| code.starts_with(p.as_str())).map(|t| t.1)
    }

    /// Matches a case; `None` when no core or comprehensive group takes it.
    pub fn match_case(&self, c: &DipCase) -> Option<DipMatch<'_>> {
        let p = c.principal;
        let longest = |gs: &[Group]| gs.iter().filter(|g| p.starts_with(g.dx.as_str())).map(|g| g.dx.len()).max();
        let has = |pref: &str| c.procedures.iter().any(|x| x.starts_with(pref));
        let mut chosen: Option<&Group> = None;
        if let Some(len) = longest(&self.core) {
            let best = self
                .core
                .iter()
                .filter(|g| g.dx.len() == len && p.starts_with(g.dx.as_str()) && g.procs.iter().all(|x| has(x)))
                .fold(None::<&Group>, |b, g| match b {
                    Some(b) if b.procs.len() >= g.procs.len() => Some(b),
                    _ => Some(g),
                });
            if let Some(g) = best {
                let covered = |x: &str| g.procs.iter().any(|q| x.starts_with(q.as_str()));
                if c.procedures.iter().all(|x| self.op_type(x).is_none() || covered(x)) {
                    chosen = Some(g);
                }
            }
        }
        if chosen.is_none() {
            let t = c.procedures.iter().filter_map(|x| self.op_type(x)).max().unwrap_or(Treatment::Conservative);
            if let Some(len) = longest(&self.comprehensive) {
                chosen = self
                    .comprehensive
                    .iter()
                    .find(|g| g.dx.len() == len && p.starts_with(g.dx.as_str()) && g.treatment == Some(t));
            }
        }
        let g = chosen?;
        let mut factor = 1.0;
        let mut applied = Vec::new();
        for a in &self.adjustments {
            let holds = a.when.iter().all(|w| match w {
                AdjWhen::AgeGe(n) => c.age_years.is_some_and(|x| x >= *n),
                AdjWhen::AgeLe(n) => c.age_years.is_some_and(|x| x <= *n),
                AdjWhen::LosGe(n) => c.los_days.is_some_and(|x| x >= *n),
                AdjWhen::LosLe(n) => c.los_days.is_some_and(|x| x <= *n),
                AdjWhen::SecondaryDx(v) => c.secondary.iter().any(|d| v.iter().any(|x| d.starts_with(x.as_str()))),
            });
            if holds {
                factor *= a.factor;
                applied.push(a.id.as_str());
            }
        }
        Some(DipMatch {
            group: &g.id,
            name: &g.name,
            core: g.treatment.is_none(),
            treatment: g.treatment,
            score: g.score,
            factor,
            adjustments: applied,
        })
    }
}
