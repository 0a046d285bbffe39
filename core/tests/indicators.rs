//! Provider indicators: compared with a straightforward computation on generated claims; peer
//! flags and ranking; readmissions on a hand-made case; the pack section and its errors.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampSecondType, UInt32Type, UInt64Type};
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray, TimestampSecondArray};
use arrow_schema::{Field, Schema};
use medaudit_core::indicators::{compute, IndicatorConfig, INDICATORS};
use medaudit_core::synth::{self, Config};
use medaudit_core::{Claims, RulePack};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Generated claims over two months, with medfee_sumamt and fulamt_ownpay_amt added to mdtrt.
fn claims() -> Claims {
    let s = synth::generate(&Config { encounters: 6000, seed: 5, days: 61, facilities: 36, ..Default::default() });
    let mut c = s.claims;
    let mut total: BTreeMap<String, f64> = BTreeMap::new();
    for b in &c.fee_details {
        let id = b.column_by_name("mdtrt_id").unwrap().as_string::<i32>();
        let a = b.column_by_name("det_item_fee_sumamt").unwrap().as_primitive::<Float64Type>();
        for r in 0..b.num_rows() {
            *total.entry(id.value(r).to_string()).or_default() += a.value(r);
        }
    }
    let m = &c.mdtrt[0];
    let ids = m.column_by_name("mdtrt_id").unwrap().as_string::<i32>();
    let medfee: Vec<Option<f64>> = (0..m.num_rows()).map(|r| total.get(ids.value(r)).copied()).collect();
    let own: Vec<Option<f64>> = (0..m.num_rows())
        .map(|r| if r % 7 == 3 { None } else { medfee[r].map(|x| x * (r % 5) as f64 / 10.0) })
        .collect();
    let mut fields: Vec<Field> = m.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
    let mut cols: Vec<ArrayRef> = m.columns().to_vec();
    fields.push(Field::new("medfee_sumamt", arrow_schema::DataType::Float64, true));
    cols.push(Arc::new(Float64Array::from(medfee)));
    fields.push(Field::new("fulamt_ownpay_amt", arrow_schema::DataType::Float64, true));
    cols.push(Arc::new(Float64Array::from(own)));
    c.mdtrt = vec![RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()];
    c
}

fn month(t: i64) -> String {
    let days = t.div_euclid(86_400);
    // 2026-03-01 is day 20513; the generator stays within March and April.
    if days < 20_513 + 31 {
        "2026-03".into()
    } else {
        "2026-04".into()
    }
}

#[derive(Default, Debug)]
struct Naive {
    enc: u64,
    persons: BTreeSet<String>,
    total: f64,
    drug: f64,
    cons: f64,
    exam: f64,
    inpatient: u64,
    outpatient: u64,
    medfee: f64,
    own: f64,
    lv: String,
}

/// The indicators by (facility, month), by plain loops over the rows.
fn naive(c: &Claims) -> BTreeMap<(String, String), Naive> {
    let m = &c.mdtrt[0];
    let s = |n: &str| m.column_by_name(n).unwrap().as_string::<i32>().clone();
    let (ids, fac, psn, med, lv) = (s("mdtrt_id"), s("fixmedins_code"), s("psn_no"), s("med_type"), s("hosp_lv"));
    let begn = m.column_by_name("begntime").unwrap().as_primitive::<TimestampSecondType>();
    let medfee = m.column_by_name("medfee_sumamt").unwrap().as_primitive::<Float64Type>();
    let own = m.column_by_name("fulamt_ownpay_amt").unwrap().as_primitive::<Float64Type>();
    let mut out: BTreeMap<(String, String), Naive> = BTreeMap::new();
    let mut key_of: BTreeMap<String, (String, String)> = BTreeMap::new();
    for r in 0..m.num_rows() {
        let k = (fac.value(r).to_string(), month(begn.value(r)));
        key_of.insert(ids.value(r).to_string(), k.clone());
        let g = out.entry(k).or_default();
        g.enc += 1;
        g.persons.insert(psn.value(r).to_string());
        g.inpatient += u64::from(med.value(r).starts_with('2'));
        g.outpatient += u64::from(med.value(r).starts_with('1'));
        if medfee.is_valid(r) && own.is_valid(r) {
            g.medfee += medfee.value(r);
            g.own += own.value(r);
        }
        g.lv = lv.value(r).to_string();
    }
    for b in &c.fee_details {
        let id = b.column_by_name("mdtrt_id").unwrap().as_string::<i32>();
        let code = b.column_by_name("hilist_code").unwrap().as_string::<i32>();
        let ty = b.column_by_name("med_chrgitm_type").unwrap().as_string::<i32>();
        let a = b.column_by_name("det_item_fee_sumamt").unwrap().as_primitive::<Float64Type>();
        for r in 0..b.num_rows() {
            let g = out.get_mut(&key_of[id.value(r)]).unwrap();
            let amt = a.value(r);
            g.total += amt;
            if ["09", "10", "11"].contains(&ty.value(r)) {
                g.drug += amt;
            }
            if ty.value(r) == "08" {
                g.cons += amt;
            }
            let c = code.value(r);
            if ["03", "04"].contains(&ty.value(r)) || ["0023", "0024", "0025", "0026"].iter().any(|p| c.starts_with(p))
            {
                g.exam += amt;
            }
        }
    }
    out
}

fn col_f64(t: &RecordBatch, name: &str) -> Vec<Option<f64>> {
    let a = t.column_by_name(name).unwrap_or_else(|| panic!("{name}")).as_primitive::<Float64Type>();
    (0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i))).collect()
}

fn col_str(t: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let a = t.column_by_name(name).unwrap_or_else(|| panic!("{name}")).as_string::<i32>();
    (0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i).to_string())).collect()
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs())),
        (None, None) => true,
        _ => false,
    }
}

#[test]
fn indicators_match_a_direct_computation() {
    let c = claims();
    let cfg = IndicatorConfig { dimensions: vec!["month".into()], ..Default::default() };
    let t = compute(&c, &cfg).unwrap();
    let want = naive(&c);
    assert_eq!(t.num_rows(), want.len());
    assert!(want.len() > 60, "two months × 36 facilities: {}", want.len());
    let fac = col_str(&t, "fixmedins_code");
    let mon = col_str(&t, "month");
    let lv = col_str(&t, "hosp_lv");
    let enc = t.column_by_name("encounters").unwrap().as_primitive::<UInt64Type>();
    let per = t.column_by_name("persons").unwrap().as_primitive::<UInt64Type>();
    let ratio = |a: f64, b: f64| (b != 0.0).then(|| a / b);
    let cols: BTreeMap<&str, Vec<Option<f64>>> = INDICATORS.iter().map(|(n, _)| (*n, col_f64(&t, n))).collect();
    for i in 0..t.num_rows() {
        let k = (fac[i].clone().unwrap(), mon[i].clone().unwrap());
        let w = &want[&k];
        assert_eq!(enc.value(i), w.enc, "{k:?}");
        assert_eq!(per.value(i), w.persons.len() as u64, "{k:?}");
        assert_eq!(lv[i].as_deref(), Some(w.lv.as_str()));
        let expect = [
            ("drug_share", ratio(w.drug, w.total)),
            ("consumable_share", ratio(w.cons, w.total)),
            ("exam_lab_share", ratio(w.exam, w.total)),
            ("ct_mri_rate", Some(0.0)),
            ("avg_cost", ratio(w.total, w.enc as f64)),
            ("inpatient_rate", ratio(w.inpatient as f64, w.outpatient as f64)),
            ("self_pay_rate", ratio(w.own, w.medfee)),
            ("visits_per_person", ratio(w.enc as f64, w.persons.len() as f64)),
        ];
        for (name, v) in expect {
            assert!(close(cols[name][i], v), "{name} {k:?}: {:?} vs {v:?}", cols[name][i]);
        }
    }
    // The generated data has examination and drug lines, so the shares are not trivially zero.
    assert!(cols["exam_lab_share"].iter().any(|x| x.is_some_and(|x| x > 0.0)));
    assert!(cols["drug_share"].iter().any(|x| x.is_some_and(|x| x > 0.0)));
}

#[test]
fn flags_are_z_scores_and_percentiles_within_peers() {
    let c = claims();
    let cfg = IndicatorConfig { percentile: Some(0.9), z: Some(1.5), ..Default::default() };
    let t = compute(&c, &cfg).unwrap();
    let lv = col_str(&t, "hosp_lv");
    let flags = col_str(&t, "flags");
    let count = t.column_by_name("flag_count").unwrap().as_primitive::<UInt32Type>();
    let score = col_f64(&t, "score");
    for (name, cn) in INDICATORS {
        let v = col_f64(&t, name);
        let z = col_f64(&t, &format!("{name}_z"));
        let mut peers: BTreeMap<String, Vec<(usize, f64)>> = BTreeMap::new();
        for i in 0..t.num_rows() {
            if let Some(x) = v[i] {
                peers.entry(lv[i].clone().unwrap()).or_default().push((i, x));
            }
        }
        for members in peers.values() {
            let n = members.len() as f64;
            if members.len() < 5 {
                assert!(members.iter().all(|(i, _)| z[*i].is_none()), "{name}: too few peers for a z-score");
                continue;
            }
            let mean = members.iter().map(|m| m.1).sum::<f64>() / n;
            let sd = (members.iter().map(|m| (m.1 - mean).powi(2)).sum::<f64>() / n).sqrt();
            let mut s: Vec<f64> = members.iter().map(|m| m.1).collect();
            s.sort_by(f64::total_cmp);
            let pos = 0.9 * (s.len() - 1) as f64;
            let lo = pos.floor() as usize;
            let thr = s[lo] + (s[(lo + 1).min(s.len() - 1)] - s[lo]) * (pos - lo as f64);
            for &(i, x) in members {
                let zz = if sd > 0.0 { (x - mean) / sd } else { 0.0 };
                assert!(close(z[i], Some(zz)), "{name} z");
                let flagged = x > thr || zz > 1.5;
                assert_eq!(flags[i].as_deref().unwrap().contains(&format!("{cn}(")), flagged, "{name} row {i}");
            }
        }
    }
    // Ranked: most flags first, then the largest score.
    for i in 1..t.num_rows() {
        let (a, b) = (count.value(i - 1), count.value(i));
        assert!(a > b || (a == b && score[i - 1] >= score[i]), "rank order at {i}");
    }
    assert!(count.value(0) > 0);
    assert_eq!(t.column_by_name("rank").unwrap().as_primitive::<UInt32Type>().value(0), 1);
}

type Row = (&'static str, &'static str, &'static str, &'static str, &'static str, &'static str);

fn small(mdtrt: Vec<Row>) -> Claims {
    let s = |f: &dyn Fn(&Row) -> &'static str| -> ArrayRef {
        Arc::new(StringArray::from(mdtrt.iter().map(|r| Some(f(r))).collect::<Vec<_>>()))
    };
    let t = |f: &dyn Fn(&Row) -> &'static str| -> ArrayRef {
        Arc::new(TimestampSecondArray::from(
            mdtrt.iter().map(|r| medaudit_core::time::parse_datetime(f(r))).collect::<Vec<_>>(),
        ))
    };
    let cols = vec![
        ("mdtrt_id", s(&|r| r.0)),
        ("psn_no", s(&|r| r.1)),
        ("fixmedins_code", s(&|r| r.2)),
        ("med_type", s(&|_| "21")),
        ("hosp_lv", s(&|_| "05")),
        ("begntime", t(&|r| r.4)),
        ("endtime", t(&|r| r.5)),
        ("adm_dept_codg", s(&|r| r.3)),
    ];
    let schema = Schema::new(cols.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect::<Vec<_>>());
    let m = RecordBatch::try_new(Arc::new(schema), cols.into_iter().map(|(_, a)| a).collect()).unwrap();
    Claims { mdtrt: vec![m], ..Default::default() }
}

#[test]
fn readmissions_within_15_and_31_days_at_the_same_facility() {
    let c = small(vec![
        ("M1", "P1", "H1", "A01", "2026-03-01 08:00", "2026-03-03 10:00"),
        ("M2", "P1", "H1", "A01", "2026-03-10 08:00", "2026-03-12 10:00"), // 7 days later
        ("M3", "P1", "H1", "A02", "2026-04-05 08:00", "2026-04-06 10:00"), // 23 days later
        ("M4", "P1", "H1", "A02", "2026-06-01 08:00", "2026-06-02 10:00"), // 56 days later
        ("M5", "P2", "H1", "A01", "2026-03-01 08:00", "2026-03-02 10:00"),
        ("M6", "P2", "H2", "A01", "2026-03-05 08:00", "2026-03-06 10:00"), // another facility
    ]);
    let cfg = IndicatorConfig { dimensions: vec!["adm_dept_codg".into()], ..Default::default() };
    let t = compute(&c, &cfg).unwrap();
    let key: Vec<(String, String)> = col_str(&t, "fixmedins_code")
        .into_iter()
        .zip(col_str(&t, "adm_dept_codg"))
        .map(|(a, b)| (a.unwrap(), b.unwrap()))
        .collect();
    let r15 = col_f64(&t, "readmit_15d");
    let r31 = col_f64(&t, "readmit_31d");
    let at = |f: &str, d: &str| key.iter().position(|k| k.0 == f && k.1 == d).unwrap();
    // H1/A01: M1, M2 (readmitted in 7 days), M5 → 1/3 both.
    assert!(close(r15[at("H1", "A01")], Some(1.0 / 3.0)));
    assert!(close(r31[at("H1", "A01")], Some(1.0 / 3.0)));
    // H1/A02: M3 (23 days: 31 only), M4 (56 days: neither).
    assert!(close(r15[at("H1", "A02")], Some(0.0)));
    assert!(close(r31[at("H1", "A02")], Some(0.5)));
    assert!(close(r31[at("H2", "A01")], Some(0.0)));
    // Across facilities, M6 is a readmission of P2.
    let cfg = IndicatorConfig { readmission_same_facility: false, ..Default::default() };
    let t = compute(&c, &cfg).unwrap();
    let fac = col_str(&t, "fixmedins_code");
    let h2 = fac.iter().position(|f| f.as_deref() == Some("H2")).unwrap();
    assert!(close(col_f64(&t, "readmit_15d")[h2], Some(1.0)));
    // No fee lines: fee indicators are null, not zero.
    assert_eq!(col_f64(&t, "drug_share")[h2], None);
    assert_eq!(col_f64(&t, "self_pay_rate")[h2], None);
}

#[test]
fn the_pack_section_and_its_errors() {
    let pack = |ind: serde_json::Value| {
        RulePack::from_json(
            &json!({"format": "medaudit-pack/1", "id": "p", "rules": [], "indicators": ind}).to_string(),
        )
    };
    let p = pack(json!({"dimensions": ["month", "drg_code"], "flag": {"z": null, "percentile": 0.8, "min_peers": 3},
        "items": {"ct_mri": {"code_patterns": ["0023(03|04)"]}}}))
    .unwrap();
    let c = p.indicators.unwrap();
    assert_eq!(c.dimensions, vec!["month", "drg_code"]);
    assert_eq!((c.z, c.percentile, c.min_peers), (None, Some(0.8), 3));
    assert_eq!(c.ct_mri.code_patterns, vec!["0023(03|04)"]);
    assert_eq!(c.drug, IndicatorConfig::default().drug);
    assert!(RulePack::sample().unwrap().indicators.is_none());
    for (section, want) in [
        (
            json!({"dimensions": ["ward"]}),
            "$.indicators.dimensions[0]: unknown dimension \"ward\"; use month, bilg_dept_codg, bilg_dr_code, or a string column of mdtrt:",
        ),
        (json!({"dimensions": ["month", "month"]}), "$.indicators.dimensions[1]: \"month\" is already a grouping key"),
        (json!({"peer_keys": ["cnt"]}), "$.indicators.peer_keys[0]: unknown peer key \"cnt\""),
        (
            json!({"items": {"drug": {"code_patterns": ["("]}}}),
            "$.indicators.items.drug.code_patterns[0]: invalid pattern",
        ),
        (json!({"items": {"drugs": {}}}), "$.indicators.items.drugs: unknown field"),
        (json!({"flag": {"percentile": 95}}), "$.indicators.flag.percentile: expected a number between 0 and 1"),
        (json!({"flag": {"min_peers": 1}}), "$.indicators.flag.min_peers: expected a whole number of at least 2"),
        (json!({"readmission_same_facility": "yes"}), "$.indicators.readmission_same_facility: expected true or false"),
        (json!([1]), "$.indicators: expected an object"),
    ] {
        let e = pack(section).unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    }
}

#[test]
fn bad_input_is_an_error_naming_table_column_and_row() {
    // A dimension column that the data does not have.
    let c = small(vec![("M1", "P1", "H1", "A01", "2026-03-01", "2026-03-02")]);
    let cfg = IndicatorConfig { dimensions: vec!["drg_code".into()], ..Default::default() };
    let e = compute(&c, &cfg).unwrap_err().to_string();
    assert!(e.contains("claims table mdtrt: column \"drg_code\": missing; the provider indicators need it"), "{e}");
    // A fee line of an encounter that is not in mdtrt.
    let mut c = claims();
    let f = &c.fee_details[0];
    let mut cols: Vec<ArrayRef> = f.columns().to_vec();
    let idx = f.schema().index_of("mdtrt_id").unwrap();
    let mut ids: Vec<Option<String>> =
        (0..f.num_rows()).map(|i| Some(f.column(idx).as_string::<i32>().value(i).to_string())).collect();
    ids[3] = Some("NOPE".into());
    cols[idx] = Arc::new(StringArray::from(ids));
    c.fee_details = vec![RecordBatch::try_new(f.schema(), cols).unwrap()];
    let e = compute(&c, &IndicatorConfig::default()).unwrap_err().to_string();
    assert!(
        e.contains("fee_details") && e.contains("row 3") && e.contains("\"NOPE\" is not in the mdtrt table"),
        "{e}"
    );
    // Empty claims: an empty ranked table with the full schema.
    let t = compute(&Claims::default(), &IndicatorConfig::default()).unwrap();
    assert_eq!(t.num_rows(), 0);
    assert!(t.column_by_name("readmit_31d_z").is_some());
}

#[test]
fn billing_department_dimension_goes_by_the_largest_amount() {
    let c = claims();
    let cfg = IndicatorConfig { dimensions: vec!["bilg_dept_codg".into()], ..Default::default() };
    let t = compute(&c, &cfg).unwrap();
    // By hand: each encounter's department is the one that billed most of it (ties: smallest).
    let m = &c.mdtrt[0];
    let ids = m.column_by_name("mdtrt_id").unwrap().as_string::<i32>();
    let fac = m.column_by_name("fixmedins_code").unwrap().as_string::<i32>();
    let mut billed: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    let mut drug: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for b in &c.fee_details {
        let id = b.column_by_name("mdtrt_id").unwrap().as_string::<i32>();
        let dept = b.column_by_name("bilg_dept_codg").unwrap().as_string::<i32>();
        let ty = b.column_by_name("med_chrgitm_type").unwrap().as_string::<i32>();
        let a = b.column_by_name("det_item_fee_sumamt").unwrap().as_primitive::<Float64Type>();
        for r in 0..b.num_rows() {
            *billed.entry(id.value(r).to_string()).or_default().entry(dept.value(r).to_string()).or_default() +=
                a.value(r);
            let d = drug.entry(id.value(r).to_string()).or_default();
            d.1 += a.value(r);
            if ["09", "10", "11"].contains(&ty.value(r)) {
                d.0 += a.value(r);
            }
        }
    }
    let mut want: BTreeMap<(String, Option<String>), (u64, f64, f64)> = BTreeMap::new();
    let mut split = 0;
    for r in 0..m.num_rows() {
        let id = ids.value(r);
        let dept = billed.get(id).map(|d| {
            split += usize::from(d.len() > 1);
            let max = d.values().cloned().fold(f64::MIN, f64::max);
            d.iter().find(|(_, v)| **v == max).map(|(k, _)| k.clone()).unwrap()
        });
        let w = want.entry((fac.value(r).to_string(), dept)).or_default();
        w.0 += 1;
        if let Some((dr, tot)) = drug.get(id) {
            w.1 += dr;
            w.2 += tot;
        }
    }
    assert!(split > 0, "some encounters are billed by two departments");
    let f = col_str(&t, "fixmedins_code");
    let d = col_str(&t, "bilg_dept_codg");
    let enc = t.column_by_name("encounters").unwrap().as_primitive::<UInt64Type>();
    let share = col_f64(&t, "drug_share");
    assert_eq!(t.num_rows(), want.len());
    for i in 0..t.num_rows() {
        let w = want[&(f[i].clone().unwrap(), d[i].clone())];
        assert_eq!(enc.value(i), w.0);
        assert!(close(share[i], (w.2 != 0.0).then(|| w.1 / w.2)));
    }
}
