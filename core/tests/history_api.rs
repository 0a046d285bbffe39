//! The history API: streaming equals bulk on generated histories split many ways, state bytes
//! round-trip and are refused when bad, late batches are refused, partitions, and bad input
//! (packs, columns, nulls, empty batches) gives errors that name what is wrong.

use arrow_array::{ArrayRef, Int32Array, RecordBatch};
use medaudit_core::claims::claims_from_json;
use medaudit_core::history::{partition_claims, Auditor, PartitionKey, STATE_FORMAT_VERSION};
use medaudit_core::synth::history::{generate, HistoryConfig};
use medaudit_core::{CheckOptions, Claims, Engine, Finding, RulePack};
use serde_json::json;
use std::sync::Arc;

fn engine() -> Engine {
    Engine::new(RulePack::history_sample().unwrap()).unwrap()
}

fn ids(f: &[Finding]) -> Vec<String> {
    let mut v: Vec<String> = f.iter().map(|f| format!("{}|{}|{}", f.rule_id, f.finding_id, f.message)).collect();
    v.sort();
    v
}

/// Cuts generated claims (encounters sorted by time, lines and diagnoses grouped by encounter in
/// the same order) into batches of `size` encounters.
fn batches(c: &Claims, size: usize) -> Vec<Claims> {
    use medaudit_core::claims::StrCol;
    let m = &c.mdtrt[0];
    let f = &c.fee_details[0];
    let d = &c.diagnoses[0];
    let fid = StrCol::new(f.column(f.schema().index_of("mdtrt_id").unwrap())).unwrap();
    let mid = StrCol::new(m.column(0)).unwrap();
    let mut out = Vec::new();
    let (mut lo, mut line) = (0, 0);
    while lo < m.num_rows() {
        let hi = (lo + size).min(m.num_rows());
        let last = mid.get(hi - 1).unwrap();
        let start = line;
        while line < f.num_rows() && fid.get(line).unwrap() <= last {
            line += 1;
        }
        out.push(Claims {
            mdtrt: vec![m.slice(lo, hi - lo)],
            diagnoses: vec![d.slice(lo, hi - lo)],
            operations: Vec::new(),
            fee_details: vec![f.slice(start, line - start)],
            column_map: Default::default(),
        });
        lo = hi;
    }
    out
}

#[test]
fn streaming_equals_bulk_on_generated_histories_split_many_ways() {
    let data = generate(&HistoryConfig { persons: 700, seed: 21, violation_rate: 0.5, ..Default::default() });
    let eng = engine();
    let bulk = eng.check(&data.claims, &CheckOptions::default()).unwrap();
    assert_eq!(bulk.findings.len(), data.truth.len());
    for size in [1, 7, 100, 1000, 100_000] {
        let mut a = Auditor::new(&eng, &CheckOptions::default(), 17 * 86_400).unwrap();
        let mut found = Vec::new();
        let mut early = 0;
        for (k, b) in batches(&data.claims, size).into_iter().enumerate() {
            let o = a.push(&b).unwrap();
            assert!(o.unjudged.is_empty(), "{:?}", o.unjudged);
            early += o.findings.len();
            found.extend(o.findings);
            if k % 50 == 3 {
                a = Auditor::import_state(&eng, &a.export_state()).unwrap();
            }
        }
        found.extend(a.finish().unwrap().findings);
        assert_eq!(ids(&found), ids(&bulk.findings), "batch size {size}");
        if size < 1000 {
            assert!(early > found.len() / 2, "findings come as soon as certain: {early} of {}", found.len());
        }
    }
}

#[test]
fn streaming_state_stays_bounded_by_persons_and_codes() {
    let data = generate(&HistoryConfig { persons: 600, seed: 4, ..Default::default() });
    let eng = engine();
    let mut a = Auditor::new(&eng, &CheckOptions::default(), 17 * 86_400).unwrap();
    for b in batches(&data.claims, 50) {
        a.push(&b).unwrap();
        let s = a.stats();
        assert!(s.persons <= 600, "{s:?}");
        assert!(s.buffered_events < data.lines, "{s:?}");
    }
    a.finish().unwrap();
    assert_eq!(a.stats().buffered_events, 0);
}

#[test]
fn a_late_batch_is_refused_and_the_auditor_is_unchanged() {
    let data = generate(&HistoryConfig { persons: 200, seed: 8, ..Default::default() });
    let eng = engine();
    let parts = batches(&data.claims, 100);
    let mut a = Auditor::new(&eng, &CheckOptions::default(), 86_400).unwrap();
    a.push(parts.last().unwrap()).unwrap();
    let before = a.export_state();
    let err = a.push(&parts[0]).unwrap_err();
    assert_eq!(err.kind(), "argument");
    assert!(err.to_string().contains("batches must come in time order within the lateness"), "{err}");
    assert!(err.to_string().contains("mdtrt_id"), "{err}");
    assert_eq!(a.export_state(), before);
    assert!(Auditor::new(&eng, &CheckOptions::default(), -1).is_err());
}

#[test]
fn bad_state_bytes_are_refused_with_a_reason() {
    let eng = engine();
    let a = Auditor::new(&eng, &CheckOptions::default(), 0).unwrap();
    let good = a.export_state();
    let msg = |b: &[u8]| Auditor::import_state(&eng, b).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg(b"").contains("too short"));
    assert!(msg(b"GARBAGE!\x01\x00\x00\x00{}").contains("bad magic"));
    let mut v2 = good.clone();
    v2[8..12].copy_from_slice(&(STATE_FORMAT_VERSION + 1).to_le_bytes());
    assert!(msg(&v2).contains("format version 2"), "{}", msg(&v2));
    let mut cut = good.clone();
    cut.truncate(good.len() - 3);
    assert!(msg(&cut).contains("corrupt state body"));
    let other = Engine::new(RulePack::sample().unwrap()).unwrap();
    let e = Auditor::import_state(&other, &good).err().unwrap().to_string();
    assert!(e.contains("medaudit-history-sample"), "{e}");
    assert!(Auditor::import_state(&eng, &good).is_ok());
}

#[test]
fn partition_keys_and_partitions() {
    let eng = engine();
    assert_eq!(eng.partition_key("trace_duplicate"), Some(PartitionKey::TraceCode));
    assert_eq!(eng.partition_key("course"), Some(PartitionKey::Person));
    assert_eq!(eng.partition_key("nope"), None);
    let data = generate(&HistoryConfig { persons: 300, seed: 2, ..Default::default() });
    let all = eng.check(&data.claims, &CheckOptions::default()).unwrap();
    let person: Vec<String> =
        eng.pack().rules.iter().filter(|r| r.id != "trace_duplicate").map(|r| r.id.clone()).collect();
    for parts in [1, 2, 16] {
        let mut found = Vec::new();
        for (key, rules) in
            [(PartitionKey::Person, person.clone()), (PartitionKey::TraceCode, vec!["trace_duplicate".into()])]
        {
            let opts = CheckOptions { rule_ids: Some(rules), ..Default::default() };
            let ps = partition_claims(&eng, &data.claims, key, parts).unwrap();
            assert_eq!(ps.len(), parts);
            for p in ps {
                found.extend(eng.check(&p, &opts).unwrap().findings);
            }
        }
        assert_eq!(ids(&found), ids(&all.findings), "parts = {parts}");
    }
    let err = partition_claims(&eng, &data.claims, PartitionKey::Person, 0).unwrap_err();
    assert!(err.to_string().contains("at least 1"));
}

fn pack_err(rule: serde_json::Value, knowledge: serde_json::Value) -> String {
    let pack = json!({"format": "medaudit-pack/1", "id": "p", "knowledge": knowledge, "rules": [rule]});
    RulePack::from_json(&pack.to_string()).err().map(|e| e.to_string()).unwrap_or_default()
}

#[test]
fn bad_history_rules_are_refused_naming_the_field() {
    let k = json!({"t": {"rows": [{"code": "A"}]}});
    let e = pack_err(
        json!({"id": "r", "name": "n", "template": "course", "knowledge": "t", "severity": "可疑"}),
        k.clone(),
    );
    assert!(e.contains("params.max_days") && e.contains("knowledge table \"t\""), "{e}");
    let k2 = json!({"t": {"rows": [{"code": "A", "max_count": 1, "window_days": 0}]}});
    let e = pack_err(
        json!({"id": "r", "name": "n", "template": "cycle_frequency", "knowledge": "t", "severity": "可疑"}),
        k2,
    );
    assert!(e.contains("window_days") && e.contains("row 0") && e.contains("whole number"), "{e}");
    let k3 = json!({"t": {"rows": [{"code": "A", "max_days": 7, "measure": "weeks"}]}});
    let e = pack_err(json!({"id": "r", "name": "n", "template": "course", "knowledge": "t", "severity": "可疑"}), k3);
    assert!(e.contains("measure") && e.contains("distinct_days or span"), "{e}");
    let e = pack_err(
        json!({"id": "r", "name": "n", "template": "frequent_visits", "params": {"scene": "急诊", "max_count": 3, "window_days": 7}, "severity": "可疑"}),
        json!({}),
    );
    assert!(e.contains("params.scene"), "{e}");
    let e = pack_err(
        json!({"id": "r", "name": "n", "template": "readmission", "params": {"diagnosis": "same"}, "severity": "可疑"}),
        json!({}),
    );
    assert!(e.contains("params.diagnosis") && e.contains("same_category"), "{e}");
    let e = pack_err(
        json!({"id": "r", "name": "n", "template": "readmission", "params": {"gap_days": 2.5}, "severity": "可疑"}),
        json!({}),
    );
    assert!(e.contains("params.gap_days") && e.contains("whole number"), "{e}");
    let e = pack_err(
        json!({"id": "r", "name": "n", "template": "identity_change", "params": {"fields": ["name"]}, "severity": "可疑"}),
        json!({}),
    );
    assert!(e.contains("params.fields") && e.contains("gend or brdy"), "{e}");
    let e = pack_err(
        json!({"id": "r", "name": "n", "template": "trace_duplicate", "params": {"retention_days": -1}, "severity": "可疑"}),
        json!({}),
    );
    assert!(e.contains("params.retention_days"), "{e}");
}

#[test]
fn a_trace_column_of_the_wrong_type_is_an_error_naming_it() {
    let mut claims = claims_from_json(
        &json!({"mdtrt": [{"mdtrt_id": "M1", "psn_no": "P1"}],
                "fee_details": [{"feedetl_sn": "L1", "mdtrt_id": "M1", "hilist_code": "X"}]}),
        "$",
    )
    .unwrap();
    let f = &claims.fee_details[0];
    let mut fields: Vec<_> = f.schema().fields().iter().map(|x| x.as_ref().clone()).collect();
    fields.push(arrow_schema::Field::new("drug_trac_codg", arrow_schema::DataType::Int32, true));
    let mut cols = f.columns().to_vec();
    cols.push(Arc::new(Int32Array::from(vec![7])) as ArrayRef);
    claims.fee_details = vec![RecordBatch::try_new(Arc::new(arrow_schema::Schema::new(fields)), cols).unwrap()];
    let err = engine().check(&claims, &CheckOptions::default()).unwrap_err();
    assert_eq!(err.kind(), "column");
    assert!(err.to_string().contains("\"drug_trac_codg\"") && err.to_string().contains("List/LargeList"), "{err}");
}

#[test]
fn empty_and_null_inputs_are_counted_not_dropped() {
    let eng = engine();
    let empty = claims_from_json(&json!({"mdtrt": [], "diagnoses": [], "fee_details": []}), "$").unwrap();
    let out = eng.check(&empty, &CheckOptions::default()).unwrap();
    assert!(out.findings.is_empty() && out.unjudged.is_empty());
    let mut a = Auditor::new(&eng, &CheckOptions::default(), 0).unwrap();
    assert!(a.push(&empty).unwrap().findings.is_empty());
    assert!(a.push(&Claims::default()).unwrap().findings.is_empty());
    // A person without psn_no, a stay without an end, a line without a time.
    let c = claims_from_json(
        &json!({"mdtrt": [
                  {"mdtrt_id": "M1", "med_type": "11", "begntime": "2026-03-01 09:00:00"},
                  {"mdtrt_id": "M2", "psn_no": "P1", "med_type": "21", "fixmedins_code": "H1", "begntime": "2026-03-01 09:00:00", "endtime": null}],
                "fee_details": [{"feedetl_sn": "L1", "mdtrt_id": "M2", "hilist_code": "002503070150000",
                                 "fee_ocur_time": null, "drug_trac_codg": "811"}]}),
        "$",
    )
    .unwrap();
    let out = eng.check(&c, &CheckOptions::default()).unwrap();
    let reasons: Vec<(String, String)> = out.unjudged.iter().map(|u| (u.rule_id.clone(), u.reason.clone())).collect();
    assert!(reasons.contains(&("identity_change".into(), "psn_no is null".into())), "{reasons:?}");
    assert!(reasons.contains(&("readmission_15d".into(), "endtime or fixmedins_code is null".into())), "{reasons:?}");
    assert!(reasons.contains(&("cycle_frequency".into(), "fee_ocur_time is null".into())), "{reasons:?}");
    assert!(reasons.contains(&("trace_duplicate".into(), "fee_ocur_time is null".into())), "{reasons:?}");
    // A history rule that needs a column the claims lack names it.
    let no_begn = claims_from_json(&json!({"mdtrt": [{"mdtrt_id": "M1", "psn_no": "P1"}]}), "$").unwrap();
    let opts = CheckOptions { rule_ids: Some(vec!["readmission_15d".into()]), ..Default::default() };
    let err = eng.check(&no_begn, &opts).unwrap_err().to_string();
    assert!(err.contains("begntime") && err.contains("readmission_15d"), "{err}");
}

#[test]
fn trace_retention_forgets_old_codes_in_bulk_and_streaming_alike() {
    let pack = json!({"format": "medaudit-pack/1", "id": "p", "rules": [
        {"id": "trace", "name": "追溯码", "template": "trace_duplicate", "params": {"retention_days": 30}, "severity": "可疑"}]});
    let eng = Engine::new(RulePack::from_json(&pack.to_string()).unwrap()).unwrap();
    let day = |d: u32| format!("2026-03-{d:02} 09:00:00");
    let mdtrt: Vec<_> = [1, 5, 20, 28]
        .iter()
        .map(|d| json!({"mdtrt_id": format!("M{d:02}"), "fixmedins_code": "H1", "begntime": day(*d)}))
        .collect();
    // Code A: days 1 and 5 (flagged); code B: day 1 then (in April) 40 days later (forgotten).
    let fee = json!([
        {"feedetl_sn": "L1", "mdtrt_id": "M01", "hilist_code": "X", "fee_ocur_time": day(1), "drug_trac_codg": "1001|2002"},
        {"feedetl_sn": "L2", "mdtrt_id": "M05", "hilist_code": "X", "fee_ocur_time": day(5), "drug_trac_codg": "1001"},
        {"feedetl_sn": "L3", "mdtrt_id": "M20", "hilist_code": "X", "fee_ocur_time": day(20), "drug_trac_codg": "3003"},
        {"feedetl_sn": "L4", "mdtrt_id": "M28", "hilist_code": "X", "fee_ocur_time": "2026-04-10 09:00:00", "drug_trac_codg": "2002"}
    ]);
    let all = claims_from_json(&json!({"mdtrt": mdtrt, "fee_details": fee}), "$").unwrap();
    let bulk = eng.check(&all, &CheckOptions::default()).unwrap();
    let sns: Vec<_> = bulk.findings.iter().map(|f| f.feedetl_sn.clone().unwrap_or_default()).collect();
    assert_eq!(sns, vec!["L2"]);
    let mut a = Auditor::new(&eng, &CheckOptions::default(), 0).unwrap();
    let mut found = Vec::new();
    for k in 0..4 {
        let one = Claims { fee_details: vec![all.fee_details[0].slice(k, 1)], ..all.clone() };
        found.extend(a.push(&one).unwrap().findings);
    }
    // At April 10 the sweep dropped the codes last settled more than 30 days before (1001 on
    // March 5, 2002 on March 1); 3003 (March 20) stays; L4 itself waits in the buffer.
    assert_eq!(a.stats().trace_codes, 1, "{:?}", a.stats());
    assert_eq!(a.stats().buffered_events, 1);
    found.extend(a.finish().unwrap().findings);
    assert_eq!(ids(&found), ids(&bulk.findings));
}

#[test]
fn history_rules_give_the_same_findings_on_several_threads() {
    let data = generate(&HistoryConfig { persons: 300, seed: 6, ..Default::default() });
    let eng = engine();
    let one = eng.check(&data.claims, &CheckOptions::default()).unwrap();
    let many = eng.check(&data.claims, &CheckOptions { threads: 4, ..Default::default() }).unwrap();
    assert_eq!(one, many);
}

#[test]
fn trace_codes_as_json_arrays_become_a_list_column() {
    let eng = engine();
    let c = claims_from_json(
        &json!({"mdtrt": [{"mdtrt_id": "M1", "psn_no": "P1", "fixmedins_code": "H1", "med_type": "11", "begntime": "2026-03-01 09:00:00"},
                          {"mdtrt_id": "M2", "psn_no": "P2", "fixmedins_code": "H1", "med_type": "11", "begntime": "2026-03-02 09:00:00"}],
                "fee_details": [
                  {"feedetl_sn": "L1", "mdtrt_id": "M1", "hilist_code": "X", "fee_ocur_time": "2026-03-01 09:10:00", "pric": 3.5, "drug_trac_codg": ["811", "812"]},
                  {"feedetl_sn": "L2", "mdtrt_id": "M2", "hilist_code": "X", "fee_ocur_time": "2026-03-02 09:10:00", "pric": 3.5, "drug_trac_codg": ["812"]},
                  {"feedetl_sn": "L3", "mdtrt_id": "M2", "hilist_code": "X", "fee_ocur_time": "2026-03-02 09:10:00", "drug_trac_codg": null}]}),
        "$",
    )
    .unwrap();
    let dt = c.fee_details[0].schema().field_with_name("drug_trac_codg").unwrap().data_type().clone();
    assert!(matches!(dt, arrow_schema::DataType::List(_)), "{dt}");
    let opts = CheckOptions { rule_ids: Some(vec!["trace_duplicate".into()]), ..Default::default() };
    let out = eng.check(&c, &opts).unwrap();
    assert_eq!(out.findings.len(), 1);
    assert_eq!(out.findings[0].feedetl_sn.as_deref(), Some("L2"));
    assert_eq!(out.findings[0].related_feedetl_sn.as_deref(), Some("L1"));
    assert!(out.findings[0].message.contains("疑似串换"), "{}", out.findings[0].message);
    assert_eq!(out.findings[0].amount, Some(3.5));
    let bad = claims_from_json(
        &json!({"fee_details": [{"feedetl_sn": "L1", "mdtrt_id": "M1", "hilist_code": "X", "drug_trac_codg": ["811", 7]}]}),
        "$",
    )
    .unwrap_err();
    assert!(bad.to_string().contains("$.fee_details[0].drug_trac_codg[1]"), "{bad}");
}
