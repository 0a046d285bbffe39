//! Provider indicators (医疗机构监管指标) and peer flags, to rank where to inspect first (飞检).
//!
//! The indicator definitions, item classes, dimensions and the pack section are tabulated in
//! core/src/indicators/INDICATORS.md.
//!
//! [`compute`] groups encounters by facility (`fixmedins_code`) and the configured dimensions
//! (`month`; department `adm_dept_codg`, doctor `atddr_no`, DRG group `drg_code`, or any string
//! column of `mdtrt`; or the lines' billing department `bilg_dept_codg` / doctor `bilg_dr_code`,
//! an encounter going to the one that billed most of its amount) and computes, per group:
//!
//! | column | indicator | definition |
//! |---|---|---|
//! | `drug_share` | 药占比 | drug line amounts / all line amounts |
//! | `consumable_share` | 耗材占比 | consumable line amounts / all line amounts |
//! | `exam_lab_share` | 检查检验占比 | examination and laboratory line amounts / all line amounts |
//! | `ct_mri_rate` | CT/MRI 使用率 | encounters with a CT or MRI line / encounters |
//! | `avg_cost` | 次均费用 | all line amounts / encounters |
//! | `inpatient_rate` | 住院率 | inpatient encounters / outpatient encounters |
//! | `self_pay_rate` | 自费率 | Σ `fulamt_ownpay_amt` / Σ `medfee_sumamt` (encounters with both) |
//! | `readmit_15d`, `readmit_31d` | 15/31 天再入院率 | inpatient admissions within 15 (31) days of the same person's previous discharge (at the same facility by default) / inpatient encounters |
//! | `visits_per_person` | 人次人头比 | encounters / distinct `psn_no` |
//!
//! Line amounts are `det_item_fee_sumamt`; which lines are drugs, consumables, examinations and
//! CT/MRI is configured ([`IndicatorConfig`], by `med_chrgitm_type` and code patterns). A ratio
//! with a zero denominator is null. Every indicator is one where a high value calls for a look.
//!
//! Peers are the groups with the same peer keys (`hosp_lv`, and `fixmedins_type` when given) and
//! the same dimension values (the same month, the same DRG group…). For each indicator the group's
//! z-score among its peers is reported, and the value is flagged when it is above the peers'
//! percentile or z threshold (with at least `min_peers` peers having a value). The result is one
//! Arrow row per group, ranked: most flags first, then the largest sum of flagged z-scores.
//!
//! From a rule pack: an optional top-level `indicators` section holds the configuration (see
//! [`IndicatorConfig::from_json_value`]; errors name the JSON path), read by
//! [`crate::RulePack::indicators`]:
//!
//! ```json
//! "indicators": {
//!   "dimensions": ["month"],
//!   "peer_keys": ["hosp_lv"],
//!   "items": {"drug": {"chrgitm_types": ["09", "10", "11"]}, "ct_mri": {"code_patterns": ["002303", "002304"]}},
//!   "inpatient_med_types": ["2"], "outpatient_med_types": ["1"],
//!   "readmission_same_facility": true,
//!   "flag": {"percentile": 0.95, "z": 3.0, "min_peers": 5}
//! }
//! ```
//!
//! Errors: a missing column that an indicator needs, a null `fixmedins_code` or line amount, a
//! fee line whose encounter is not in `mdtrt`, and a duplicate `mdtrt_id` are errors naming the
//! table, column and row; nothing is dropped silently. This module never does IO.
//!
//! ```
//! use medaudit_core::indicators::{compute, IndicatorConfig};
//! let data = medaudit_core::synth::generate(&medaudit_core::synth::Config { encounters: 2000, ..Default::default() });
//! let table = compute(&data.claims, &IndicatorConfig::default())?;
//! assert_eq!(table.column_by_name("rank").map(|c| c.len()), Some(table.num_rows()));
//! # Ok::<(), medaudit_core::Error>(())
//! ```

mod config;

pub use config::{IndicatorConfig, ItemClass};

use crate::claims::{Claims, ClaimsTable, ColumnMap, NumCol, Resolver, StrCol, TimeCol};
use crate::engine::codes::FxHashMap;
use crate::error::{Error, Result};
use arrow_array::builder::{Float64Builder, StringBuilder, UInt32Builder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use regex_automata::meta::Regex;
use std::collections::{BTreeMap, HashSet};
use std::hash::BuildHasherDefault;

type FxHashSet<K> = HashSet<K, BuildHasherDefault<crate::engine::codes::FxHasher>>;
use std::sync::Arc;

/// The indicators, in output order: (column, Chinese name).
pub const INDICATORS: &[(&str, &str)] = &[
    ("drug_share", "药占比"),
    ("consumable_share", "耗材占比"),
    ("exam_lab_share", "检查检验占比"),
    ("ct_mri_rate", "CT/MRI使用率"),
    ("avg_cost", "次均费用"),
    ("inpatient_rate", "住院率"),
    ("self_pay_rate", "自费率"),
    ("readmit_15d", "15天再入院率"),
    ("readmit_31d", "31天再入院率"),
    ("visits_per_person", "人次人头比"),
];

const DAY: i64 = 86_400;

/// Dimensions read from the fee lines: an encounter belongs to the value that billed the largest
/// amount of its lines (ties to the smallest value; null when it has no line with a value).
pub const LINE_DIMENSIONS: &[&str] = &["bilg_dept_codg", "bilg_dr_code"];

/// One item class, compiled.
struct Class {
    types: Vec<String>,
    codes: Option<Regex>,
}

impl Class {
    fn new(c: &ItemClass) -> Result<Self> {
        let pats: Vec<String> = c.code_patterns.iter().map(|p| format!("^(?:{p})")).collect();
        let codes = if pats.is_empty() {
            None
        } else {
            Some(Regex::new_many(&pats).map_err(|e| Error::Argument {
                argument: "indicator item class".into(),
                message: format!("invalid code pattern: {e}"),
            })?)
        };
        Ok(Class { types: c.chrgitm_types.clone(), codes })
    }
    fn has(&self, ty: Option<&str>, code: Option<&str>) -> bool {
        ty.is_some_and(|t| self.types.iter().any(|x| x == t))
            || matches!((&self.codes, code), (Some(re), Some(c)) if re.is_match(c))
    }
}

/// One encounter's facts.
struct Enc<'a> {
    psn: Option<&'a str>,
    fac: &'a str,
    med_type: Option<&'a str>,
    begn: Option<i64>,
    end: Option<i64>,
    medfee: Option<f64>,
    ownpay: Option<f64>,
    key: Vec<Option<String>>,
    peers: Vec<Option<&'a str>>,
    fee: [f64; 4],
    /// Per line dimension: amount billed by each value.
    billed: Vec<Vec<(&'a str, f64)>>,
    ct_mri: bool,
    readmit: [bool; 2],
}

#[derive(Default)]
struct Group<'a> {
    encounters: u64,
    persons: FxHashSet<&'a str>,
    fee: [f64; 4],
    ct_mri: u64,
    inpatient: u64,
    outpatient: u64,
    medfee: f64,
    ownpay: f64,
    with_pay: u64,
    readmit: [u64; 2],
    peers: Vec<Option<&'a str>>,
}

fn ratio(a: f64, b: f64) -> Option<f64> {
    (b != 0.0).then(|| a / b)
}

impl Group<'_> {
    fn values(&self) -> [Option<f64>; 10] {
        let n = self.encounters as f64;
        let total = self.fee[0];
        [
            ratio(self.fee[1], total),
            ratio(self.fee[2], total),
            ratio(self.fee[3], total),
            ratio(self.ct_mri as f64, n),
            ratio(total, n),
            ratio(self.inpatient as f64, self.outpatient as f64),
            if self.with_pay > 0 { ratio(self.ownpay, self.medfee) } else { None },
            ratio(self.readmit[0] as f64, self.inpatient as f64),
            ratio(self.readmit[1] as f64, self.inpatient as f64),
            ratio(n, self.persons.len() as f64),
        ]
    }
}

fn prefixed(v: Option<&str>, prefixes: &[String]) -> bool {
    v.is_some_and(|s| prefixes.iter().any(|p| s.starts_with(p.as_str())))
}

fn need<T>(c: Option<T>, r: &Resolver, name: &str) -> Result<T> {
    c.ok_or_else(|| {
        let e = r.missing(name, None);
        match e {
            Error::Column { table, column, .. } => {
                Error::Column { table, column, message: "missing; the provider indicators need it".into() }
            }
            other => other,
        }
    })
}

fn value_err(table: ClaimsTable, map: &ColumnMap, column: &str, row: usize, message: String) -> Error {
    Error::Value { table: table.name().into(), column: map.source(table, column).into(), row, rule_id: None, message }
}

/// `YYYY-MM` of a wall-clock second.
fn month(t: i64) -> String {
    let (y, m, _) = crate::time::civil_from_days(t.div_euclid(DAY));
    format!("{y:04}-{m:02}")
}

/// Computes the indicators and peer flags of `claims`; see the module docs.
pub fn compute(claims: &Claims, config: &IndicatorConfig) -> Result<RecordBatch> {
    let map = &claims.column_map;
    let classes = [Class::new(&config.drug)?, Class::new(&config.consumable)?, Class::new(&config.exam_lab)?];
    let ct_mri = Class::new(&config.ct_mri)?;
    let peer_keys: Vec<String> = match &config.peer_keys {
        Some(k) => k.clone(),
        None => {
            let mut k = vec!["hosp_lv".to_string()];
            let src = map.source(ClaimsTable::Mdtrt, "fixmedins_type");
            if claims.mdtrt.iter().any(|b| b.schema_ref().fields().iter().any(|f| f.name() == src)) {
                k.push("fixmedins_type".into());
            }
            k
        }
    };
    // Line dimensions: (position in the key, column name).
    let line_dims: Vec<(usize, &str)> = config
        .dimensions
        .iter()
        .enumerate()
        .filter(|(_, d)| LINE_DIMENSIONS.contains(&d.as_str()))
        .map(|(i, d)| (i + 1, d.as_str()))
        .collect();
    // Encounters.
    let mut encs: Vec<Enc> = Vec::new();
    let mut by_id: FxHashMap<&str, usize> = FxHashMap::default();
    for b in &claims.mdtrt {
        let mut r = Resolver::new(b, ClaimsTable::Mdtrt, map);
        r.validate_all()?;
        let id = r.req_str("mdtrt_id")?;
        let fac = need(r.str("fixmedins_code")?, &r, "fixmedins_code")?;
        let psn = r.str("psn_no")?;
        let med = r.str("med_type")?;
        let begn = r.time("begntime")?;
        let end = r.time("endtime")?;
        let medfee = r.num("medfee_sumamt")?;
        let ownpay = r.num("fulamt_ownpay_amt")?;
        let dims: Vec<Option<StrCol>> = config
            .dimensions
            .iter()
            .filter(|d| *d != "month" && !LINE_DIMENSIONS.contains(&d.as_str()))
            .map(|d| need(r.str(d)?, &r, d).map(Some))
            .collect::<Result<_>>()?;
        let peers: Vec<StrCol> = peer_keys.iter().map(|k| need(r.str(k)?, &r, k)).collect::<Result<_>>()?;
        if config.dimensions.iter().any(|d| d == "month") && begn.is_none() {
            need::<TimeCol>(None, &r, "begntime")?;
        }
        for row in 0..b.num_rows() {
            let g = encs.len();
            let id = id
                .get(row)
                .ok_or_else(|| value_err(ClaimsTable::Mdtrt, map, "mdtrt_id", g, "null encounter id".into()))?;
            let fac = fac.get(row).ok_or_else(|| {
                value_err(
                    ClaimsTable::Mdtrt,
                    map,
                    "fixmedins_code",
                    g,
                    "null, and the indicators group by facility".into(),
                )
            })?;
            if let Some(first) = by_id.insert(id, g) {
                return Err(value_err(
                    ClaimsTable::Mdtrt,
                    map,
                    "mdtrt_id",
                    g,
                    format!("duplicate encounter id {id:?} (first at row {first})"),
                ));
            }
            let b_t = begn.and_then(|c| c.get(row));
            let mut key = vec![Some(fac.to_string())];
            let mut di = dims.iter();
            for d in &config.dimensions {
                key.push(if d == "month" {
                    b_t.map(month)
                } else if LINE_DIMENSIONS.contains(&d.as_str()) {
                    None // set from the lines below
                } else {
                    di.next().and_then(|c| c.as_ref()).and_then(|c| c.get(row)).map(str::to_string)
                });
            }
            encs.push(Enc {
                psn: psn.and_then(|c| c.get(row)),
                fac,
                med_type: med.and_then(|c| c.get(row)),
                begn: b_t,
                end: end.and_then(|c| c.get(row)),
                medfee: medfee.and_then(|c| c.get(row)),
                ownpay: ownpay.and_then(|c| c.get(row)),
                key,
                peers: peers.iter().map(|c| c.get(row)).collect(),
                fee: [0.0; 4],
                billed: vec![Vec::new(); line_dims.len()],
                ct_mri: false,
                readmit: [false; 2],
            });
        }
    }
    // Lines: fee by class, CT/MRI use; each distinct (type, code) classified once.
    let mut base = 0;
    let mut memo: FxHashMap<(Option<&str>, Option<&str>), u8> = FxHashMap::default();
    for b in &claims.fee_details {
        let mut r = Resolver::new(b, ClaimsTable::FeeDetails, map);
        r.validate_all()?;
        let ids = r.req_str("mdtrt_id")?;
        let codes = r.req_str("hilist_code")?;
        let types = r.str("med_chrgitm_type")?;
        let amt: NumCol = need(r.num("det_item_fee_sumamt")?, &r, "det_item_fee_sumamt")?;
        let billers: Vec<StrCol> = line_dims.iter().map(|(_, d)| need(r.str(d)?, &r, d)).collect::<Result<_>>()?;
        let mut last: Option<(&str, usize)> = None;
        for row in 0..b.num_rows() {
            let g = base + row;
            let id = ids
                .get(row)
                .ok_or_else(|| value_err(ClaimsTable::FeeDetails, map, "mdtrt_id", g, "null encounter id".into()))?;
            let e = match last {
                Some((l, e)) if l == id => e,
                _ => {
                    let e = *by_id.get(id).ok_or_else(|| {
                        value_err(
                            ClaimsTable::FeeDetails,
                            map,
                            "mdtrt_id",
                            g,
                            format!("encounter {id:?} is not in the mdtrt table, so its facility is unknown"),
                        )
                    })?;
                    last = Some((id, e));
                    e
                }
            };
            let a = amt.get(row).ok_or_else(|| {
                value_err(
                    ClaimsTable::FeeDetails,
                    map,
                    "det_item_fee_sumamt",
                    g,
                    "null, and the fee indicators need it".into(),
                )
            })?;
            let key = (types.and_then(|c| c.get(row)), codes.get(row));
            let bits = *memo.entry(key).or_insert_with(|| {
                let mut bits = 0u8;
                for (i, c) in classes.iter().enumerate() {
                    if c.has(key.0, key.1) {
                        bits |= 1 << i;
                    }
                }
                if ct_mri.has(key.0, key.1) {
                    bits |= 8;
                }
                bits
            });
            if let Some(enc) = encs.get_mut(e) {
                enc.fee[0] += a;
                for i in 0..3 {
                    if bits & (1 << i) != 0 {
                        if let Some(f) = enc.fee.get_mut(i + 1) {
                            *f += a;
                        }
                    }
                }
                enc.ct_mri |= bits & 8 != 0;
                for (col, billed) in billers.iter().zip(enc.billed.iter_mut()) {
                    let Some(v) = col.get(row) else { continue };
                    match billed.iter_mut().find(|(x, _)| *x == v) {
                        Some(slot) => slot.1 += a,
                        None => billed.push((v, a)),
                    }
                }
            }
        }
        base += b.num_rows();
    }
    for e in &mut encs {
        for ((pos, _), billed) in line_dims.iter().zip(e.billed.iter()) {
            let main = billed.iter().max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)));
            if let Some(slot) = e.key.get_mut(*pos) {
                *slot = main.map(|m| m.0.to_string());
            }
        }
    }
    readmissions(&mut encs, config);
    // Groups.
    let mut groups: BTreeMap<&Vec<Option<String>>, Group> = BTreeMap::new();
    for e in &encs {
        let g = groups.entry(&e.key).or_default();
        g.encounters += 1;
        if let Some(p) = e.psn {
            g.persons.insert(p);
        }
        for (x, y) in g.fee.iter_mut().zip(e.fee.iter()) {
            *x += y;
        }
        g.ct_mri += u64::from(e.ct_mri);
        let inpatient = prefixed(e.med_type, &config.inpatient_med_types);
        g.inpatient += u64::from(inpatient);
        g.outpatient += u64::from(prefixed(e.med_type, &config.outpatient_med_types));
        if let (Some(m), Some(o)) = (e.medfee, e.ownpay) {
            g.medfee += m;
            g.ownpay += o;
            g.with_pay += 1;
        }
        for (x, r) in g.readmit.iter_mut().zip(e.readmit.iter()) {
            *x += u64::from(*r && inpatient);
        }
        if g.peers.is_empty() {
            g.peers = e.peers.clone();
        } else {
            for (x, y) in g.peers.iter_mut().zip(e.peers.iter()) {
                if x.is_none() {
                    *x = *y;
                }
            }
        }
    }
    let rows: Vec<Row<'_, '_>> = groups.iter().map(|(k, g)| (*k, g, g.values())).collect();
    let flags = peer_flags(&rows, config);
    table(&rows, &flags, config, &peer_keys)
}

/// Marks inpatient encounters that begin within 15 / 31 days after the same person's previous
/// inpatient discharge (at the same facility unless configured otherwise).
fn readmissions<'a>(encs: &mut [Enc<'a>], config: &IndicatorConfig) {
    let mut stays: Vec<usize> = (0..encs.len())
        .filter(|&i| {
            encs.get(i).is_some_and(|e| {
                e.psn.is_some() && e.begn.is_some() && prefixed(e.med_type, &config.inpatient_med_types)
            })
        })
        .collect();
    let key = |e: &Enc<'a>| -> (Option<&'a str>, Option<&'a str>, Option<i64>) {
        (e.psn, if config.readmission_same_facility { Some(e.fac) } else { None }, e.begn)
    };
    stays.sort_by(|&a, &b| match (encs.get(a), encs.get(b)) {
        (Some(x), Some(y)) => key(x).cmp(&key(y)),
        _ => std::cmp::Ordering::Equal,
    });
    for w in stays.windows(2) {
        let (Some(&p), Some(&c)) = (w.first(), w.get(1)) else { continue };
        let (Some(prev), Some(cur)) = (encs.get(p), encs.get(c)) else { continue };
        let same = prev.psn == cur.psn && (!config.readmission_same_facility || prev.fac == cur.fac);
        let gap = match (prev.end, cur.begn) {
            (Some(end), Some(b)) if same && b >= end => Some(b - end),
            _ => None,
        };
        if let (Some(gap), Some(cur)) = (gap, encs.get_mut(c)) {
            cur.readmit = [gap <= 15 * DAY, gap <= 31 * DAY];
        }
    }
}

/// A group's key (facility, then dimensions), its sums and its indicator values.
type Row<'k, 'a> = (&'k Vec<Option<String>>, &'k Group<'a>, [Option<f64>; 10]);

/// A peer group: peer-key values and dimension values.
type PeerKey<'a> = (Vec<Option<&'a str>>, Vec<Option<String>>);

/// Per group and indicator: (z-score among peers, flagged).
type Flags = Vec<[(Option<f64>, bool); 10]>;

fn peer_flags(rows: &[Row<'_, '_>], config: &IndicatorConfig) -> Flags {
    // Peer group: peer-key values and the dimension values (all key parts but the facility).
    let peer_of = |i: usize| -> Option<PeerKey<'_>> {
        let (k, g, _) = rows.get(i)?;
        Some((g.peers.clone(), k.iter().skip(1).cloned().collect()))
    };
    let mut members: BTreeMap<PeerKey<'_>, Vec<usize>> = BTreeMap::new();
    for i in 0..rows.len() {
        if let Some(p) = peer_of(i) {
            members.entry(p).or_default().push(i);
        }
    }
    let mut out: Flags = vec![[(None, false); 10]; rows.len()];
    for idx in members.values() {
        for k in 0..INDICATORS.len() {
            let vals: Vec<(usize, f64)> = idx
                .iter()
                .filter_map(|&i| rows.get(i).and_then(|r| r.2.get(k).copied().flatten()).map(|v| (i, v)))
                .collect();
            if vals.len() < config.min_peers {
                continue;
            }
            let n = vals.len() as f64;
            let mean = vals.iter().map(|v| v.1).sum::<f64>() / n;
            let sd = (vals.iter().map(|v| (v.1 - mean).powi(2)).sum::<f64>() / n).sqrt();
            let mut sorted: Vec<f64> = vals.iter().map(|v| v.1).collect();
            sorted.sort_by(f64::total_cmp);
            let threshold = config.percentile.map(|p| percentile(&sorted, p));
            for (i, v) in vals {
                let z = if sd > 0.0 { (v - mean) / sd } else { 0.0 };
                let flagged = threshold.is_some_and(|t| v > t) || config.z.is_some_and(|zt| z > zt);
                if let Some(slot) = out.get_mut(i).and_then(|r| r.get_mut(k)) {
                    *slot = (Some(z), flagged);
                }
            }
        }
    }
    out
}

/// Linear interpolation between closest ranks (as numpy's default) of sorted values.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else { return f64::NAN };
    let pos = p * last as f64;
    let lo = pos.floor() as usize;
    let frac = pos - lo as f64;
    let a = sorted.get(lo).copied().unwrap_or(f64::NAN);
    let b = sorted.get((lo + 1).min(last)).copied().unwrap_or(a);
    a + (b - a) * frac
}

fn table(rows: &[Row<'_, '_>], flags: &Flags, config: &IndicatorConfig, peer_keys: &[String]) -> Result<RecordBatch> {
    // Rank: most flags, then the largest sum of flagged z-scores, then the key.
    let score = |i: usize| -> (usize, f64) {
        let f = flags.get(i).map_or(&[][..], |r| &r[..]);
        let n = f.iter().filter(|x| x.1).count();
        let s: f64 = f.iter().filter(|x| x.1).map(|x| x.0.unwrap_or(0.0).max(0.0)).sum();
        (n, s)
    };
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| {
        let (na, sa) = score(a);
        let (nb, sb) = score(b);
        nb.cmp(&na).then(sb.total_cmp(&sa)).then_with(|| rows.get(a).map(|r| r.0).cmp(&rows.get(b).map(|r| r.0)))
    });
    let n = rows.len();
    let mut out = Out { fields: Vec::new(), cols: Vec::new(), order: &order };
    let mut rank = UInt32Builder::with_capacity(n);
    (1..=n as u32).for_each(|r| rank.append_value(r));
    out.push(Field::new("rank", DataType::UInt32, false), Arc::new(rank.finish()));
    let key_part = |i: usize, k: usize| rows.get(i).and_then(|r| r.0.get(k).cloned().flatten());
    out.strs("fixmedins_code", false, &|i| key_part(i, 0));
    for (d, name) in config.dimensions.iter().enumerate() {
        out.strs(name, true, &|i| key_part(i, d + 1));
    }
    for (k, name) in peer_keys.iter().enumerate() {
        out.strs(name, true, &|i| rows.get(i).and_then(|r| r.1.peers.get(k).copied().flatten()).map(str::to_string));
    }
    out.count("encounters", &|i| rows.get(i).map_or(0, |r| r.1.encounters));
    out.count("persons", &|i| rows.get(i).map_or(0, |r| r.1.persons.len() as u64));
    out.nums("total_fee", &|i| rows.get(i).map(|r| r.1.fee[0]));
    for (k, (name, _)) in INDICATORS.iter().enumerate() {
        out.nums(name, &|i| rows.get(i).and_then(|r| r.2.get(k).copied().flatten()));
        out.nums(&format!("{name}_z"), &|i| flags.get(i).and_then(|f| f.get(k)).and_then(|x| x.0));
    }
    let mut fc = UInt32Builder::with_capacity(n);
    for &i in &order {
        fc.append_value(score(i).0 as u32);
    }
    out.push(Field::new("flag_count", DataType::UInt32, false), Arc::new(fc.finish()));
    out.strs("flags", false, &|i| {
        let f = flags.get(i)?;
        Some(
            INDICATORS
                .iter()
                .zip(f.iter())
                .filter(|(_, x)| x.1)
                .map(|((_, cn), x)| format!("{cn}(z={:.1})", x.0.unwrap_or(0.0)))
                .collect::<Vec<_>>()
                .join("、"),
        )
    });
    out.nums("score", &|i| Some(score(i).1));
    let Out { fields, cols, .. } = out;
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)
        .map_err(|e| Error::Argument { argument: "indicators".into(), message: format!("internal: {e}") })
}

/// The output table, column by column, rows in rank order.
struct Out<'o> {
    fields: Vec<Field>,
    cols: Vec<ArrayRef>,
    order: &'o [usize],
}

impl Out<'_> {
    fn push(&mut self, f: Field, c: ArrayRef) {
        self.fields.push(f);
        self.cols.push(c);
    }
    fn strs(&mut self, name: &str, nullable: bool, f: &dyn Fn(usize) -> Option<String>) {
        let mut b = StringBuilder::with_capacity(self.order.len(), self.order.len() * 8);
        for &i in self.order {
            b.append_option(f(i));
        }
        self.push(Field::new(name, DataType::Utf8, nullable), Arc::new(b.finish()));
    }
    fn count(&mut self, name: &str, f: &dyn Fn(usize) -> u64) {
        let mut b = UInt64Builder::with_capacity(self.order.len());
        for &i in self.order {
            b.append_value(f(i));
        }
        self.push(Field::new(name, DataType::UInt64, false), Arc::new(b.finish()));
    }
    fn nums(&mut self, name: &str, f: &dyn Fn(usize) -> Option<f64>) {
        let mut b = Float64Builder::with_capacity(self.order.len());
        for &i in self.order {
            b.append_option(f(i));
        }
        self.push(Field::new(name, DataType::Float64, true), Arc::new(b.finish()));
    }
}
