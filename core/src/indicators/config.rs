//! The indicator configuration: what to group by, how items are recognised, who are peers, and
//! when a value is flagged; read from a pack's `indicators` section or built in Rust.

use crate::claims::{columns, ClaimsTable, ColumnKind};
use crate::error::{Error, Result};
use crate::pack::{Obj, Place};
use regex_automata::meta::Regex;
use serde_json::Value;

/// How fee lines of one class (drugs, consumables, …) are recognised: a line belongs to the class
/// when its `med_chrgitm_type` is one of `chrgitm_types`, or its `hilist_code` matches one of
/// `code_patterns` (regular expressions, anchored at the start of the code).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ItemClass {
    /// 医疗收费项目类别 codes.
    pub chrgitm_types: Vec<String>,
    /// Code patterns (regex, anchored at the start).
    pub code_patterns: Vec<String>,
}

impl ItemClass {
    fn new(types: &[&str], patterns: &[&str]) -> Self {
        ItemClass {
            chrgitm_types: types.iter().map(|s| s.to_string()).collect(),
            code_patterns: patterns.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// Everything [`super::compute`] needs to know.
///
/// The defaults: group by facility; peers are facilities of the same `hosp_lv` (and the same
/// `fixmedins_type` when the `mdtrt` table has that column); drugs are `med_chrgitm_type` 09 西药,
/// 10 中药饮片, 11 中成药; consumables 08 卫生材料; examinations and laboratory tests 03 检查,
/// 04 化验 or a service code of chapter 0023 (医学影像), 0024 (超声), 0025 (检验) or 0026 (病理)
/// of the 医疗服务价格项目规范; CT/MRI are service codes `002303` (CT) and `002304` (MRI);
/// inpatient encounters are `med_type` 2x; readmission windows 15 and 31 days at the same
/// facility; a value is flagged above the 95th percentile of its peers or 3 standard deviations
/// above their mean, when there are at least 5 peers with a value. Regions differ: change what
/// differs.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorConfig {
    /// Extra grouping keys besides the facility: `month` (of `begntime`, `YYYY-MM`), string
    /// columns of `mdtrt` (`adm_dept_codg` department, `atddr_no` doctor, `drg_code` DRG group,
    /// `insutype`, `med_type`, …), or the billing department / doctor of the fee lines
    /// (`bilg_dept_codg`, `bilg_dr_code`: an encounter belongs to the one that billed the largest
    /// amount of its lines, ties to the smallest code).
    pub dimensions: Vec<String>,
    /// Peer-group keys (string columns of `mdtrt`); `None`: `hosp_lv`, plus `fixmedins_type` when
    /// present. Peers also share every dimension.
    pub peer_keys: Option<Vec<String>>,
    /// 药品.
    pub drug: ItemClass,
    /// 耗材.
    pub consumable: ItemClass,
    /// 检查检验.
    pub exam_lab: ItemClass,
    /// CT and MRI.
    pub ct_mri: ItemClass,
    /// `med_type` prefixes of inpatient encounters.
    pub inpatient_med_types: Vec<String>,
    /// `med_type` prefixes of outpatient encounters (the denominator of 住院率).
    pub outpatient_med_types: Vec<String>,
    /// Whether a readmission must be at the same facility as the previous discharge.
    pub readmission_same_facility: bool,
    /// Flag above this percentile (0–1) of the peers; `None`: no percentile test.
    pub percentile: Option<f64>,
    /// Flag this many standard deviations above the peers' mean; `None`: no z-score test.
    pub z: Option<f64>,
    /// Fewest peers with a value for any flag.
    pub min_peers: usize,
}

impl Default for IndicatorConfig {
    fn default() -> Self {
        IndicatorConfig {
            dimensions: Vec::new(),
            peer_keys: None,
            drug: ItemClass::new(&["09", "10", "11"], &[]),
            consumable: ItemClass::new(&["08"], &[]),
            exam_lab: ItemClass::new(&["03", "04"], &["0023", "0024", "0025", "0026"]),
            ct_mri: ItemClass::new(&[], &["002303", "002304"]),
            inpatient_med_types: vec!["2".into()],
            outpatient_med_types: vec!["1".into()],
            readmission_same_facility: true,
            percentile: Some(0.95),
            z: Some(3.0),
            min_peers: 5,
        }
    }
}

/// Keys of the pack's `indicators` section.
const FIELDS: &[&str] = &[
    "dimensions",
    "peer_keys",
    "items",
    "inpatient_med_types",
    "outpatient_med_types",
    "readmission_same_facility",
    "flag",
    "description",
];

/// `mdtrt` string columns usable as dimensions and peer keys.
fn mdtrt_strings() -> Vec<&'static str> {
    columns(ClaimsTable::Mdtrt).iter().filter(|c| c.kind == ColumnKind::Str).map(|c| c.name).collect()
}

impl IndicatorConfig {
    /// Reads an `indicators` section (see the module docs of [`super`]); errors name the JSON path
    /// under `path` (`$.indicators` in a pack).
    ///
    /// ```
    /// use medaudit_core::indicators::IndicatorConfig;
    /// let c = IndicatorConfig::from_json_value(&serde_json::json!({"dimensions": ["month"]}), "$.indicators")?;
    /// assert_eq!(c.dimensions, vec!["month"]);
    /// let e = IndicatorConfig::from_json_value(&serde_json::json!({"flag": {"z": "x"}}), "$.indicators").unwrap_err();
    /// assert!(e.to_string().contains("$.indicators.flag.z: expected a number"));
    /// # Ok::<(), medaudit_core::Error>(())
    /// ```
    pub fn from_json_value(v: &Value, path: &str) -> Result<Self> {
        let o = Obj::new(v, Place::Path(path.into()), "")?;
        o.only(FIELDS)?;
        let mut c = IndicatorConfig::default();
        let strings = mdtrt_strings();
        if let Some(dims) = o.opt_str_list("dimensions")? {
            for (i, d) in dims.iter().enumerate() {
                if d != "month" && !strings.contains(&d.as_str()) && !super::LINE_DIMENSIONS.contains(&d.as_str()) {
                    return Err(o.err(
                        &format!("dimensions[{i}]"),
                        format!(
                            "unknown dimension {d:?}; use month, {}, or a string column of mdtrt: {}",
                            super::LINE_DIMENSIONS.join(", "),
                            strings.join(", ")
                        ),
                    ));
                }
                if d == "fixmedins_code" || dims.iter().take(i).any(|x| x == d) {
                    return Err(o.err(&format!("dimensions[{i}]"), format!("{d:?} is already a grouping key")));
                }
            }
            c.dimensions = dims;
        }
        if let Some(keys) = o.opt_str_list("peer_keys")? {
            for (i, k) in keys.iter().enumerate() {
                if !strings.contains(&k.as_str()) {
                    return Err(o.err(
                        &format!("peer_keys[{i}]"),
                        format!("unknown peer key {k:?}; use a string column of mdtrt: {}", strings.join(", ")),
                    ));
                }
            }
            c.peer_keys = Some(keys);
        }
        if let Some(items) = o.get("items") {
            let io = Obj::new(items, o.place.clone(), &o.path("items"))?;
            io.only(&["drug", "consumable", "exam_lab", "ct_mri"])?;
            for (name, slot) in [
                ("drug", &mut c.drug),
                ("consumable", &mut c.consumable),
                ("exam_lab", &mut c.exam_lab),
                ("ct_mri", &mut c.ct_mri),
            ] {
                let Some(v) = io.get(name) else { continue };
                let co = Obj::new(v, io.place.clone(), &io.path(name))?;
                co.only(&["chrgitm_types", "code_patterns"])?;
                let class = ItemClass {
                    chrgitm_types: co.opt_str_list("chrgitm_types")?.unwrap_or_default(),
                    code_patterns: co.opt_str_list("code_patterns")?.unwrap_or_default(),
                };
                for (i, p) in class.code_patterns.iter().enumerate() {
                    Regex::new(p)
                        .map_err(|e| co.err(&format!("code_patterns[{i}]"), format!("invalid pattern {p:?}: {e}")))?;
                }
                if class.chrgitm_types.is_empty() && class.code_patterns.is_empty() {
                    return Err(co.err(
                        "chrgitm_types",
                        "give chrgitm_types or code_patterns (or leave the class out for the default)",
                    ));
                }
                *slot = class;
            }
        }
        if let Some(v) = o.opt_str_list("inpatient_med_types")? {
            c.inpatient_med_types = v;
        }
        if let Some(v) = o.opt_str_list("outpatient_med_types")? {
            c.outpatient_med_types = v;
        }
        match o.get("readmission_same_facility") {
            None => {}
            Some(Value::Bool(b)) => c.readmission_same_facility = *b,
            Some(other) => {
                return Err(o.err(
                    "readmission_same_facility",
                    format!("expected true or false, found {}", crate::pack::type_name(other)),
                ))
            }
        }
        if let Some(f) = o.map.get("flag") {
            let fo = Obj::new(f, o.place.clone(), &o.path("flag"))?;
            fo.only(&["percentile", "z", "min_peers"])?;
            // An explicit null turns a test off.
            if fo.map.contains_key("percentile") {
                c.percentile = fo.opt_num("percentile")?;
            }
            if fo.map.contains_key("z") {
                c.z = fo.opt_num("z")?;
            }
            if c.percentile.is_some_and(|p| !(p > 0.0 && p < 1.0)) {
                return Err(fo.err("percentile", "expected a number between 0 and 1 (0.95: above the 95th percentile)"));
            }
            if c.z.is_some_and(|z| z <= 0.0) {
                return Err(fo.err("z", "expected a positive number of standard deviations"));
            }
            if let Some(m) = fo.opt_num("min_peers")? {
                if m < 2.0 || m.fract() != 0.0 {
                    return Err(fo.err("min_peers", format!("expected a whole number of at least 2, found {m}")));
                }
                c.min_peers = m as usize;
            }
        }
        Ok(c)
    }

    /// Reads a JSON text of an `indicators` section; errors name the JSON path from `$`.
    ///
    /// ```
    /// use medaudit_core::indicators::IndicatorConfig;
    /// let c = IndicatorConfig::from_json(r#"{"dimensions": ["drg_code"], "flag": {"percentile": null}}"#)?;
    /// assert_eq!((c.dimensions.len(), c.percentile, c.z), (1, None, Some(3.0)));
    /// let e = IndicatorConfig::from_json(r#"{"peer_keys": ["x"]}"#).unwrap_err().to_string();
    /// assert!(e.contains("$.peer_keys[0]: unknown peer key"));
    /// # Ok::<(), medaudit_core::Error>(())
    /// ```
    pub fn from_json(text: &str) -> Result<Self> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| Error::PackJson { path: "$".into(), message: format!("{e}") })?;
        Self::from_json_value(&v, "$")
    }
}
