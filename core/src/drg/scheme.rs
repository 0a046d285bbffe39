//! Loading a `drg-scheme/1` grouping scheme (scheme.json + CSV tables) into its compiled form.
//!
//! Every code the scheme mentions (in a code list, a CC/MCC/exclusion table, a name table or a
//! code map) gets a dense id, one dictionary for diagnoses and one for procedures. Code lists
//! become bitsets over those ids, the CC/MCC/exclusion tables arrays indexed by them, and the
//! conditions trees over list indices. Every load error names the file and the JSON path or CSV
//! line at fault. This module reads only the texts it is given.

use super::cond::{self, Cond, Parser};
use super::csv;
use crate::engine::codes::FxHashMap;
use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The id of a code the scheme does not know.
pub(crate) const NO_CODE: u32 = u32::MAX;
/// "No exclusion table".
pub(crate) const NO_TABLE: u32 = u32::MAX;

/// Whether a code list holds diagnoses or procedures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListKind {
    Dx,
    Proc,
}

impl ListKind {
    pub fn name(self) -> &'static str {
        match self {
            ListKind::Dx => "dx",
            ListKind::Proc => "proc",
        }
    }
}

/// A code dictionary: code → dense id.
#[derive(Default)]
pub(crate) struct Dict {
    ids: FxHashMap<Box<str>, u32>,
    codes: Vec<Box<str>>,
}

impl Dict {
    fn intern(&mut self, code: &str) -> u32 {
        if let Some(i) = self.ids.get(code) {
            return *i;
        }
        let i = self.codes.len() as u32;
        self.ids.insert(code.into(), i);
        self.codes.push(code.into());
        i
    }

    /// The id of `code`, [`NO_CODE`] when unknown.
    #[inline]
    pub fn get(&self, code: &str) -> u32 {
        self.ids.get(code).copied().unwrap_or(NO_CODE)
    }

    /// The code of id `i`.
    pub fn code(&self, i: u32) -> &str {
        self.codes.get(i as usize).map_or("", |c| c)
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }
}

/// The scheme's code lists as bitsets over code ids.
#[derive(Default)]
pub(crate) struct Lists {
    by_name: FxHashMap<String, u32>,
    pub names: Vec<String>,
    kinds: Vec<ListKind>,
    bits: Vec<Vec<u64>>,
}

impl Lists {
    pub fn find(&self, name: &str) -> Option<(u32, ListKind)> {
        let i = *self.by_name.get(name)?;
        Some((i, *self.kinds.get(i as usize)?))
    }

    /// Whether list `l` holds code id `code`.
    #[inline]
    pub fn has(&self, l: u32, code: u32) -> bool {
        self.bits.get(l as usize).is_some_and(|b| cond::bit(b, code))
    }
}

fn set_bit(set: &mut Vec<u64>, i: u32) {
    let w = (i >> 6) as usize;
    if set.len() <= w {
        set.resize(w + 1, 0);
    }
    if let Some(x) = set.get_mut(w) {
        *x |= 1u64 << (i & 63);
    }
}

pub(crate) struct Validation {
    pub id: String,
    pub fail_if: Cond,
    pub status: String,
}

pub(crate) struct DrgSplit {
    pub code: String,
    pub when: Cond,
    pub name: String,
}

pub(crate) struct AdrgRule {
    pub id: String,
    pub adrg: String,
    pub gate: Cond,
    pub drgs: Vec<DrgSplit>,
    /// The result when no split holds; `None`: the rule counts as not matching.
    pub otherwise: Option<String>,
}

pub(crate) struct Qy {
    pub position: usize,
    pub when: Cond,
    pub result: String,
}

pub(crate) struct Mdc {
    pub code: String,
    pub gate: Cond,
    pub rules: Vec<AdrgRule>,
    pub qy: Option<Qy>,
}

/// A fixed result (`no_mdc`).
pub(crate) struct Fixed {
    pub status: String,
    pub mdc: String,
    pub adrg: String,
    pub drg: String,
}

/// A compiled `drg-scheme/1` grouping scheme. Build it with [`DrgScheme::load`]; group with
/// [`DrgScheme::group`] (one case) or [`DrgScheme::group_claims`] (Arrow claims).
///
/// It is immutable and `Send + Sync`: share one across threads.
pub struct DrgScheme {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) dx: Dict,
    pub(crate) px: Dict,
    pub(crate) dx_known: Vec<u64>,
    pub(crate) px_known: Vec<u64>,
    /// Per dx id: its MCC / CC exclusion table, and the table a principal diagnosis cancels.
    pub(crate) mcc: Vec<u32>,
    pub(crate) cc: Vec<u32>,
    pub(crate) cce: Vec<u32>,
    pub(crate) table_names: Vec<String>,
    pub(crate) or_valid: Vec<u64>,
    pub(crate) dx_map: Vec<u32>,
    pub(crate) px_map: Vec<u32>,
    pub(crate) lists: Lists,
    pub(crate) validation: Vec<Validation>,
    pub(crate) mapping_default: bool,
    pub(crate) unmapped_dx_status: String,
    pub(crate) unmapped_proc_status: String,
    pub(crate) mdcs: Vec<Mdc>,
    pub(crate) no_mdc: Fixed,
    /// Per dx id: 1 or 2 when the scheme's MDC gates admit it as principal only for that sex.
    pub(crate) sex_only: Vec<u8>,
    pub(crate) drg_names: FxHashMap<String, String>,
}

const FORMAT: &str = "drg-scheme/1";
const FILE: &str = "scheme.json";

/// Parses JSON text, with an error naming `file` and the line.
pub(crate) fn parse_json(file: &str, text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| Error::Scheme {
        file: file.into(),
        path: None,
        row: Some(e.line()),
        message: format!("invalid JSON: {e}"),
    })
}

fn jerr(path: &str, message: impl Into<String>) -> Error {
    Error::Scheme { file: FILE.into(), path: Some(path.into()), row: None, message: message.into() }
}

fn obj<'v>(v: &'v Value, path: &str) -> Result<&'v Map<String, Value>> {
    v.as_object().ok_or_else(|| jerr(path, format!("expected an object, found {}", crate::pack::type_name(v))))
}

fn get<'v>(o: &'v Map<String, Value>, key: &str, path: &str) -> Result<&'v Value> {
    o.get(key).ok_or_else(|| jerr(&format!("{path}.{key}"), "missing"))
}

fn s<'v>(o: &'v Map<String, Value>, key: &str, path: &str) -> Result<&'v str> {
    let v = get(o, key, path)?;
    v.as_str().ok_or_else(|| jerr(&format!("{path}.{key}"), format!("expected a string, found {v}")))
}

fn arr<'v>(o: &'v Map<String, Value>, key: &str, path: &str) -> Result<&'v Vec<Value>> {
    let v = get(o, key, path)?;
    v.as_array().ok_or_else(|| jerr(&format!("{path}.{key}"), format!("expected an array, found {v}")))
}

/// One declared table, parsed.
struct Table {
    file: String,
    csv: csv::Csv,
}

impl Table {
    fn err(&self, line: usize, message: impl Into<String>) -> Error {
        Error::Scheme { file: self.file.clone(), path: None, row: Some(line), message: message.into() }
    }

    /// Rows as (line, key, value) with the unique-key check.
    fn pairs(&self) -> Result<Vec<(usize, &str, &str)>> {
        let mut seen: FxHashMap<&str, usize> = FxHashMap::default();
        let mut out = Vec::with_capacity(self.csv.rows.len());
        for (line, r) in &self.csv.rows {
            let (Some(k), Some(v)) = (r.first(), r.get(1)) else {
                return Err(self.err(*line, "expected two fields"));
            };
            let k = k.trim();
            if k.is_empty() {
                return Err(self.err(*line, "empty key"));
            }
            if let Some(first) = seen.insert(k, *line) {
                return Err(self.err(*line, format!("duplicate key {k:?} (first on line {first})")));
            }
            out.push((*line, k, v.trim()));
        }
        Ok(out)
    }
}

impl DrgScheme {
    /// Loads a scheme from the text of its `scheme.json` and the texts of the CSV files it
    /// declares under `tables`, keyed by file name (`"mcc.csv"` → text). Every declared table must
    /// be given; a primitive listed in `uses_primitives` that this grouper does not implement is
    /// refused.
    ///
    /// ```
    /// use medaudit_core::drg::DrgScheme;
    /// use std::collections::BTreeMap;
    /// let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/chs-drg-1.1");
    /// # if !std::path::Path::new(dir).exists() { return Ok(()); }
    /// let json = std::fs::read_to_string(format!("{dir}/scheme.json")).unwrap();
    /// let mut files = BTreeMap::new();
    /// for f in DrgScheme::declared_files(&json)? {
    ///     files.insert(f.clone(), std::fs::read_to_string(format!("{dir}/{f}")).unwrap());
    /// }
    /// let scheme = DrgScheme::load(&json, &files)?;
    /// assert_eq!(scheme.id(), "chs-drg-1.1");
    /// # Ok::<(), medaudit_core::Error>(())
    /// ```
    pub fn load(scheme_json: &str, files: &BTreeMap<String, String>) -> Result<Self> {
        let root = parse_json(FILE, scheme_json)?;
        let root = obj(&root, "$")?;
        let format = s(root, "format", "$")?;
        if format != FORMAT {
            return Err(jerr("$.format", format!("unsupported format {format:?}; this grouper reads {FORMAT:?}")));
        }
        let meta = obj(get(root, "scheme", "$")?, "$.scheme")?;
        if let Some(up) = root.get("uses_primitives") {
            let up = up.as_array().ok_or_else(|| jerr("$.uses_primitives", "expected an array"))?;
            for (i, p) in up.iter().enumerate() {
                let name = p.as_str().unwrap_or("");
                if !cond::PRIMITIVES.contains(&name) {
                    return Err(jerr(
                        &format!("$.uses_primitives[{i}]"),
                        format!(
                            "primitive {p} is not implemented by this grouper; known: {}",
                            cond::PRIMITIVES.join(", ")
                        ),
                    ));
                }
            }
        }

        // Tables.
        let decl = obj(get(root, "tables", "$")?, "$.tables")?;
        let mut tables: BTreeMap<&str, Table> = BTreeMap::new();
        for (name, t) in decl {
            let path = format!("$.tables.{name}");
            let t = obj(t, &path)?;
            let file = s(t, "file", &path)?;
            let text = files.get(file).ok_or_else(|| {
                jerr(
                    &format!("{path}.file"),
                    format!(
                        "table {name:?} needs file {file:?}, which was not given (given: {})",
                        if files.is_empty() {
                            "none".to_string()
                        } else {
                            files.keys().cloned().collect::<Vec<_>>().join(", ")
                        }
                    ),
                )
            })?;
            let parsed = csv::parse(file, text)?;
            if let Some(cols) = t.get("columns").and_then(Value::as_array) {
                let want: Vec<&str> = cols.iter().filter_map(Value::as_str).collect();
                if parsed.header.iter().map(String::as_str).ne(want.iter().copied()) {
                    return Err(Error::Scheme {
                        file: file.into(),
                        path: None,
                        row: Some(1),
                        message: format!("header is {:?}, scheme.json declares {:?}", parsed.header, want),
                    });
                }
            }
            tables.insert(name.as_str(), Table { file: file.to_string(), csv: parsed });
        }
        let table = |name: &str| -> Result<&Table> {
            tables.get(name).ok_or_else(|| jerr("$.tables", format!("table {name:?} is not declared")))
        };
        let opt_table = |name: &str| tables.get(name);

        // Dictionaries: every code anywhere.
        let mut dx = Dict::default();
        let mut px = Dict::default();
        let code_lists = obj(get(root, "code_lists", "$")?, "$.code_lists")?;
        let mut list_codes: Vec<(String, ListKind, Vec<u32>)> = Vec::with_capacity(code_lists.len());
        for (name, l) in code_lists {
            let path = format!("$.code_lists.{name}");
            let l = obj(l, &path)?;
            let kind = match s(l, "kind", &path)? {
                "dx" => ListKind::Dx,
                "proc" => ListKind::Proc,
                other => {
                    return Err(jerr(&format!("{path}.kind"), format!("expected \"dx\" or \"proc\", found {other:?}")))
                }
            };
            let dict = if kind == ListKind::Dx { &mut dx } else { &mut px };
            let codes = arr(l, "codes", &path)?
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    c.as_str().map(|c| dict.intern(c)).ok_or_else(|| {
                        jerr(&format!("{path}.codes[{i}]"), format!("expected a code string, found {c}"))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            list_codes.push((name.clone(), kind, codes));
        }
        let mut table_names: Vec<String> = Vec::new();
        let mut table_ids: FxHashMap<String, u32> = FxHashMap::default();
        let mut table_id = |t: &str| -> u32 {
            if let Some(i) = table_ids.get(t) {
                return *i;
            }
            let i = table_names.len() as u32;
            table_names.push(t.to_string());
            table_ids.insert(t.to_string(), i);
            i
        };
        let mut excl = |name: &str, dx: &mut Dict| -> Result<Vec<(u32, u32)>> {
            let t = table(name)?;
            t.pairs()?
                .into_iter()
                .map(|(line, k, v)| {
                    if v.is_empty() {
                        return Err(t.err(line, format!("empty exclusion table for {k:?}")));
                    }
                    Ok((dx.intern(k), table_id(v)))
                })
                .collect()
        };
        let mcc_rows = excl("mcc", &mut dx)?;
        let cc_rows = excl("cc", &mut dx)?;
        let cce_rows = excl("cce", &mut dx)?;
        let mut known_dx: Vec<u32> =
            list_codes.iter().filter(|l| l.1 == ListKind::Dx).flat_map(|l| l.2.clone()).collect();
        known_dx.extend(mcc_rows.iter().chain(&cc_rows).chain(&cce_rows).map(|r| r.0));
        let mut known_px: Vec<u32> =
            list_codes.iter().filter(|l| l.1 == ListKind::Proc).flat_map(|l| l.2.clone()).collect();
        if let Some(t) = opt_table("dx_names") {
            known_dx.extend(t.pairs()?.into_iter().map(|(_, k, _)| dx.intern(k)));
        }
        if let Some(t) = opt_table("proc_names") {
            known_px.extend(t.pairs()?.into_iter().map(|(_, k, _)| px.intern(k)));
        }
        let or_rows: Vec<u32> = table("or_procedures")?.pairs()?.into_iter().map(|(_, k, _)| px.intern(k)).collect();
        known_px.extend(&or_rows);

        // Code mapping.
        let cm = obj(get(root, "code_mapping", "$")?, "$.code_mapping")?;
        let mapping_default = get(cm, "default_enabled", "$.code_mapping")?
            .as_bool()
            .ok_or_else(|| jerr("$.code_mapping.default_enabled", "expected a boolean"))?;
        let map_pairs = |key: &str, dict: &mut Dict| -> Result<Vec<(u32, u32)>> {
            let name = s(cm, key, "$.code_mapping")?;
            let t = tables
                .get(name)
                .ok_or_else(|| jerr(&format!("$.code_mapping.{key}"), format!("table {name:?} is not declared")))?;
            t.pairs()?
                .into_iter()
                .map(|(line, k, v)| {
                    if v.is_empty() {
                        return Err(t.err(line, format!("empty grouper code for {k:?}")));
                    }
                    Ok((dict.intern(k), dict.intern(v)))
                })
                .collect()
        };
        let dx_map_rows = map_pairs("dx_table", &mut dx)?;
        let px_map_rows = map_pairs("proc_table", &mut px)?;
        let unmapped_dx_status = s(cm, "unmapped_dx_status", "$.code_mapping")?.to_string();
        let unmapped_proc_status = s(cm, "unmapped_proc_status", "$.code_mapping")?.to_string();

        // Dense arrays.
        let (nd, np) = (dx.len(), px.len());
        let mut lists = Lists::default();
        for (name, kind, codes) in list_codes {
            let mut bits = vec![0u64; (if kind == ListKind::Dx { nd } else { np }).div_ceil(64)];
            for c in codes {
                set_bit(&mut bits, c);
            }
            lists.by_name.insert(name.clone(), lists.names.len() as u32);
            lists.names.push(name);
            lists.kinds.push(kind);
            lists.bits.push(bits);
        }
        let fill = |rows: &[(u32, u32)], n: usize| {
            let mut v = vec![NO_TABLE; n];
            for (c, t) in rows {
                if let Some(x) = v.get_mut(*c as usize) {
                    *x = *t;
                }
            }
            v
        };
        let bitset = |codes: &[u32], n: usize| {
            let mut b = vec![0u64; n.div_ceil(64)];
            for c in codes {
                set_bit(&mut b, *c);
            }
            b
        };
        let dx_known = bitset(&known_dx, nd);
        let px_known = bitset(&known_px, np);
        let or_valid = bitset(&or_rows, np);

        // Validation, grouping settings, MDCs.
        let parser = Parser { file: FILE, lists: &lists };
        let validation = arr(root, "validation", "$")?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let path = format!("$.validation[{i}]");
                let o = obj(v, &path)?;
                Ok(Validation {
                    id: s(o, "id", &path)?.to_string(),
                    fail_if: parser.parse(get(o, "fail_if", &path)?, &format!("{path}.fail_if"))?,
                    status: s(o, "status", &path)?.to_string(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let g = obj(get(root, "grouping", "$")?, "$.grouping")?;
        let m = s(g, "mdc_without_matching_adrg", "$.grouping")?;
        if m != "try_next_mdc" {
            return Err(jerr(
                "$.grouping.mdc_without_matching_adrg",
                format!("unsupported value {m:?}; expected \"try_next_mdc\""),
            ));
        }
        if let Some(v) = g.get("adrg_rule_without_matching_drg") {
            if v.as_str() != Some("result_is_otherwise") {
                return Err(jerr(
                    "$.grouping.adrg_rule_without_matching_drg",
                    format!("unsupported value {v}; expected \"result_is_otherwise\""),
                ));
            }
        }
        let nm = obj(get(g, "no_mdc", "$.grouping")?, "$.grouping.no_mdc")?;
        let no_mdc = Fixed {
            status: s(nm, "status", "$.grouping.no_mdc")?.into(),
            mdc: s(nm, "mdc", "$.grouping.no_mdc")?.into(),
            adrg: s(nm, "adrg", "$.grouping.no_mdc")?.into(),
            drg: s(nm, "drg", "$.grouping.no_mdc")?.into(),
        };
        let mdcs = arr(root, "mdcs", "$")?
            .iter()
            .enumerate()
            .map(|(i, m)| parse_mdc(&parser, m, &format!("$.mdcs[{i}]")))
            .collect::<Result<Vec<_>>>()?;

        let mut drg_names = FxHashMap::default();
        if let Some(t) = opt_table("drg_names") {
            for (_, k, v) in t.pairs()? {
                drg_names.insert(k.to_string(), v.to_string());
            }
        }
        for m in &mdcs {
            for r in &m.rules {
                for d in &r.drgs {
                    if !d.name.is_empty() {
                        drg_names.entry(d.code.clone()).or_insert_with(|| d.name.clone());
                    }
                }
            }
        }

        let sex_only = sex_only(&mdcs, &lists, nd);
        let mut dx_map = vec![NO_CODE; nd];
        for (a, b) in dx_map_rows {
            if let Some(x) = dx_map.get_mut(a as usize) {
                *x = b;
            }
        }
        let mut px_map = vec![NO_CODE; np];
        for (a, b) in px_map_rows {
            if let Some(x) = px_map.get_mut(a as usize) {
                *x = b;
            }
        }
        Ok(DrgScheme {
            id: s(meta, "id", "$.scheme")?.to_string(),
            name: meta.get("name").and_then(Value::as_str).unwrap_or("").to_string(),
            version: meta.get("version").and_then(Value::as_str).unwrap_or("").to_string(),
            mcc: fill(&mcc_rows, nd),
            cc: fill(&cc_rows, nd),
            cce: fill(&cce_rows, nd),
            dx,
            px,
            dx_known,
            px_known,
            table_names,
            or_valid,
            dx_map,
            px_map,
            lists,
            validation,
            mapping_default,
            unmapped_dx_status,
            unmapped_proc_status,
            mdcs,
            no_mdc,
            sex_only,
            drg_names,
        })
    }

    /// The file names a `scheme.json` declares under `tables`, for a caller that reads them.
    pub fn declared_files(scheme_json: &str) -> Result<Vec<String>> {
        let root = parse_json(FILE, scheme_json)?;
        let decl = obj(get(obj(&root, "$")?, "tables", "$")?, "$.tables")?;
        decl.iter()
            .map(|(name, t)| {
                let path = format!("$.tables.{name}");
                s(obj(t, &path)?, "file", &path).map(str::to_string)
            })
            .collect()
    }

    /// The scheme id (`chs-drg-1.1`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The scheme's display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The scheme version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The name of DRG (or ADRG) `code`, if the scheme gives one.
    pub fn drg_name(&self, code: &str) -> Option<&str> {
        self.drg_names.get(code).map(String::as_str)
    }

    /// Every DRG code a rule of the scheme can give, in scheme order.
    pub fn drg_codes(&self) -> Vec<&str> {
        self.mdcs.iter().flat_map(|m| m.rules.iter().flat_map(|r| r.drgs.iter().map(|d| d.code.as_str()))).collect()
    }

    /// The MDC codes in try order.
    pub fn mdc_codes(&self) -> Vec<&str> {
        self.mdcs.iter().map(|m| m.code.as_str()).collect()
    }
}

fn parse_mdc(p: &Parser, v: &Value, path: &str) -> Result<Mdc> {
    let o = obj(v, path)?;
    let rules = arr(o, "adrg_rules", path)?
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let rp = format!("{path}.adrg_rules[{i}]");
            let ro = obj(r, &rp)?;
            let drgs = arr(ro, "drgs", &rp)?
                .iter()
                .enumerate()
                .map(|(j, d)| {
                    let dp = format!("{rp}.drgs[{j}]");
                    let d = obj(d, &dp)?;
                    Ok(DrgSplit {
                        code: s(d, "code", &dp)?.to_string(),
                        when: p.parse(get(d, "when", &dp)?, &format!("{dp}.when"))?,
                        name: d.get("name").and_then(Value::as_str).unwrap_or("").to_string(),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let otherwise = match ro.get("otherwise") {
                None | Some(Value::Null) => None,
                Some(Value::String(x)) => Some(x.clone()),
                Some(x) => {
                    return Err(jerr(&format!("{rp}.otherwise"), format!("expected a string or null, found {x}")))
                }
            };
            let adrg = s(ro, "adrg", &rp)?.to_string();
            Ok(AdrgRule {
                id: ro.get("id").and_then(Value::as_str).map_or_else(|| adrg.clone(), str::to_string),
                adrg,
                gate: p.parse(get(ro, "gate", &rp)?, &format!("{rp}.gate"))?,
                drgs,
                otherwise,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let qy = match o.get("qy") {
        None | Some(Value::Null) => None,
        Some(q) => {
            let qp = format!("{path}.qy");
            let q = obj(q, &qp)?;
            let enabled = q.get("enabled").and_then(Value::as_bool).unwrap_or(false);
            if enabled {
                let position = get(q, "position", &qp)?
                    .as_u64()
                    .and_then(|x| usize::try_from(x).ok())
                    .filter(|x| *x <= rules.len())
                    .ok_or_else(|| jerr(&format!("{qp}.position"), format!("expected an index 0..={}", rules.len())))?;
                Some(Qy {
                    position,
                    when: p.parse(get(q, "when", &qp)?, &format!("{qp}.when"))?,
                    result: s(q, "result", &qp)?.to_string(),
                })
            } else {
                None
            }
        }
    };
    Ok(Mdc {
        code: s(o, "code", path)?.to_string(),
        gate: p.parse(get(o, "gate", path)?, &format!("{path}.gate"))?,
        rules,
        qy,
    })
}

/// Diagnoses the MDC gates admit as principal only for one sex: those in the `main_dx_in` list of
/// a gate `all(main_dx_in L, sex s, …)` and in no `main_dx_in` list of a gate without a sex test.
fn sex_only(mdcs: &[Mdc], lists: &Lists, n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    let main_list = |c: &Cond| -> Option<u32> {
        match c {
            Cond::MainDx(l) => Some(*l),
            Cond::All(v) => v.iter().find_map(|c| if let Cond::MainDx(l) = c { Some(*l) } else { None }),
            _ => None,
        }
    };
    let sex_of = |c: &Cond| -> Option<i64> {
        match c {
            Cond::All(v) => v.iter().find_map(|c| if let Cond::Sex(s) = c { Some(*s) } else { None }),
            _ => None,
        }
    };
    let mut open: Vec<u32> = Vec::new();
    let mut gated: Vec<(u32, u8)> = Vec::new();
    for m in mdcs {
        match (main_list(&m.gate), sex_of(&m.gate)) {
            (Some(l), Some(s)) => gated.push((l, s as u8)),
            (Some(l), None) => open.push(l),
            _ => {}
        }
    }
    for (i, slot) in out.iter_mut().enumerate() {
        let i = i as u32;
        if open.iter().any(|l| lists.has(*l, i)) {
            continue;
        }
        let mut sexes = gated.iter().filter(|(l, _)| lists.has(*l, i)).map(|(_, s)| *s);
        if let Some(first) = sexes.next() {
            if sexes.all(|s| s == first) {
                *slot = first;
            }
        }
    }
    out
}
