//! Public API behaviour that the JSON conformance vectors cannot express: Arrow knowledge tables,
//! row order of the encounter table, the findings Arrow schema, column maps, threads.

use arrow_array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use medaudit_core::claims::claims_from_json;
use medaudit_core::synth::{self, Config};
use medaudit_core::{findings_schema, CheckOptions, ClaimsTable, ColumnMap, Engine, KnowledgeTable, RulePack};
use serde_json::json;
use std::sync::Arc;

const SEX_PACK: &str = r#"{"format":"medaudit-pack/1","id":"p","knowledge":{"t":{"match":"prefix"}},
  "rules":[{"id":"R1","name":"限性别","template":"sex","knowledge":"t","severity":"明确违规"}]}"#;

fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let schema = Schema::new(cols.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect::<Vec<_>>());
    RecordBatch::try_new(Arc::new(schema), cols.into_iter().map(|(_, a)| a).collect()).unwrap()
}

#[test]
fn knowledge_from_arrow_batches_drives_the_engine() {
    let k = batch(vec![
        ("code", Arc::new(StringArray::from(vec!["XG04CBA088A"])) as ArrayRef),
        ("sex", Arc::new(StringArray::from(vec!["1"]))),
        ("kp_id", Arc::new(StringArray::from(vec!["KP-ARROW"]))),
    ]);
    let kt = KnowledgeTable::from_record_batches("t", &[k]).unwrap();
    let engine = Engine::with_knowledge(RulePack::from_json(SEX_PACK).unwrap(), vec![kt]).unwrap();
    let claims = claims_from_json(
        &json!({"mdtrt": [{"mdtrt_id": "M1", "gend": "2"}],
                "fee_details": [{"feedetl_sn": "L1", "mdtrt_id": "M1", "hilist_code": "XG04CBA088A001010101467", "det_item_fee_sumamt": 3.0}]}),
        "$",
    )
    .unwrap();
    let out = engine.check(&claims, &CheckOptions::default()).unwrap();
    assert_eq!(out.findings.len(), 1);
    assert_eq!(out.findings[0].kp_id.as_deref(), Some("KP-ARROW"));
    assert_eq!(out.findings[0].amount, Some(3.0));
}

#[test]
fn knowledge_with_an_unreadable_arrow_type_names_the_column() {
    let k = batch(vec![
        ("code", Arc::new(StringArray::from(vec!["A"])) as ArrayRef),
        ("sex", Arc::new(BooleanArray::from(vec![true]))),
    ]);
    let err = KnowledgeTable::from_record_batches("t", &[k]).unwrap_err();
    assert_eq!(err.kind(), "knowledge");
    assert!(err.to_string().contains("knowledge table \"t\": has Arrow type Boolean"), "{err}");
    assert!(err.to_string().contains("(column \"sex\")"), "{err}");
    let k = batch(vec![("code", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef)]);
    let err = KnowledgeTable::from_record_batches("t", &[k]).unwrap_err();
    assert!(err.to_string().contains("expected a string column, found a number column (column \"code\")"), "{err}");
}

#[test]
fn unordered_encounters_give_the_same_findings_as_ordered_ones() {
    // The engine joins lines to encounters by a merge when mdtrt ids are sorted and by hashing
    // otherwise; both must agree.
    let data = synth::generate(&Config { encounters: 800, seed: 3, violation_rate: 0.3, ..Default::default() });
    let engine = Engine::new(RulePack::sample().unwrap()).unwrap();
    let sorted = engine.check(&data.claims, &CheckOptions::default()).unwrap();
    let m = &data.claims.mdtrt[0];
    let n = m.num_rows();
    let mut shuffled = data.claims.clone();
    shuffled.mdtrt = vec![m.slice(n / 2, n - n / 2), m.slice(0, n / 2)];
    let reordered = engine.check(&shuffled, &CheckOptions::default()).unwrap();
    assert!(!sorted.findings.is_empty());
    assert_eq!(sorted, reordered);
}

#[test]
fn findings_batch_has_the_documented_schema() {
    let data = synth::generate(&Config { encounters: 300, seed: 5, violation_rate: 0.5, ..Default::default() });
    let engine = Engine::new(RulePack::sample().unwrap()).unwrap();
    let out = engine.check(&data.claims, &CheckOptions::default()).unwrap();
    let b = out.to_record_batch();
    assert_eq!(b.schema(), findings_schema());
    assert_eq!(b.num_rows(), out.findings.len());
    assert_eq!(b.schema().field_with_name("amount").unwrap().data_type(), &DataType::Float64);
    // Every id is unique and stable across calls.
    let again = engine.check(&data.claims, &CheckOptions::default()).unwrap();
    let ids: std::collections::BTreeSet<_> = out.findings.iter().map(|f| f.finding_id.clone()).collect();
    assert_eq!(ids.len(), out.findings.len());
    assert_eq!(out, again);
}

#[test]
fn column_map_rejects_names_that_are_not_canonical() {
    let mut m = ColumnMap::default();
    let err = m.insert(ClaimsTable::FeeDetails, "hilist_cod", "x").unwrap_err();
    assert!(err.to_string().contains("\"hilist_cod\" is not a canonical column of fee_details"), "{err}");
    let err = ColumnMap::from_json(r#"{"fees": {"a": "b"}}"#).unwrap_err();
    assert!(err.to_string().contains("unknown table"), "{err}");
}

#[test]
fn one_engine_serves_many_threads_with_identical_answers() {
    let data = synth::generate(&Config { encounters: 400, seed: 11, violation_rate: 0.3, ..Default::default() });
    let engine = Arc::new(Engine::new(RulePack::sample().unwrap()).unwrap());
    let want = engine.check(&data.claims, &CheckOptions::default()).unwrap();
    let claims = Arc::new(data.claims);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (e, c) = (engine.clone(), claims.clone());
            std::thread::spawn(move || e.check(&c, &CheckOptions::default()).unwrap())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), want);
    }
}

#[test]
fn every_template_is_documented_and_in_the_sample_pack() {
    let pack = RulePack::sample().unwrap();
    // The DRG stay templates need a DRG scheme given to the engine, and the history templates claims
    // that span many encounters: each has its own sample pack.
    let drg = RulePack::from_json(medaudit_core::synth::drg::DRG_SAMPLE_PACK_JSON).unwrap();
    let history = RulePack::history_sample().unwrap();
    for t in medaudit_core::templates::SPECS {
        assert!(!t.doc.is_empty() && !t.amount.is_empty() && !t.title.is_empty(), "{}", t.name);
        let has = |p: &RulePack| p.rules.iter().any(|r| r.template.name == t.name);
        assert!(has(&pack) || has(&drg) || has(&history), "no sample pack has template {}", t.name);
    }
}

#[test]
fn a_malformed_code_array_is_an_error_naming_the_row_not_a_skipped_line() {
    use arrow_array::Array;
    use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
    // Row 1 holds the bytes 0xff 0xfe: not UTF-8. Arrow's checked constructors refuse this; a
    // producer across the C Data Interface with validation turned off could still hand it over.
    let offsets = OffsetBuffer::new(ScalarBuffer::from(vec![0i32, 1, 3]));
    let values = Buffer::from(vec![b'A', 0xff, 0xfe]);
    // SAFETY: deliberately invalid UTF-8 to test the engine's own guard; the array is only read
    // through medaudit, which checks each value before using it as a string.
    let codes = unsafe { StringArray::new_unchecked(offsets, values, None) };
    assert_eq!(codes.len(), 2);
    let mut claims = claims_from_json(
        &json!({"mdtrt": [{"mdtrt_id": "M1", "gend": "2"}],
                "fee_details": [{"feedetl_sn": "L1", "mdtrt_id": "M1", "hilist_code": "A"},
                                {"feedetl_sn": "L2", "mdtrt_id": "M1", "hilist_code": "B"}]}),
        "$",
    )
    .unwrap();
    let fee = &claims.fee_details[0];
    let idx = fee.schema().index_of("hilist_code").unwrap();
    let mut cols = fee.columns().to_vec();
    cols[idx] = Arc::new(codes);
    claims.fee_details = vec![RecordBatch::try_new(fee.schema(), cols).unwrap()];
    let engine = Engine::new(RulePack::sample().unwrap()).unwrap();
    let opts = CheckOptions { rule_ids: Some(vec!["not_payable".into()]), ..Default::default() };
    let err = engine.check(&claims, &opts).unwrap_err();
    assert_eq!(err.kind(), "value");
    assert!(err.to_string().contains("row 1: column \"hilist_code\": malformed Arrow string array"), "{err}");
}

#[test]
fn a_windowed_rule_judged_during_the_pass_keeps_the_one_shot_error_order() {
    // Lines grouped by encounter in increasing order: windowed rules are judged encounter by
    // encounter during the pass. Encounter A's bed days cannot be judged (A has no mdtrt row, an
    // error of the windowed rule), and a later line of B fails the sex rule (also no mdtrt row).
    // Judging all windowed rules after the pass returns the pass error first: so must this.
    let engine = Engine::new(RulePack::sample().unwrap()).unwrap();
    let claims = claims_from_json(
        &json!({"fee_details": [
            {"feedetl_sn": "L1", "mdtrt_id": "A", "hilist_code": "001109000010000", "cnt": 1, "pric": 40, "det_item_fee_sumamt": 40,
             "fee_ocur_time": "2026-03-01 09:00:00"},
            {"feedetl_sn": "L2", "mdtrt_id": "B", "hilist_code": "XG04CBA088A001010101467", "cnt": 1, "pric": 3, "det_item_fee_sumamt": 3,
             "fee_ocur_time": "2026-03-01 10:00:00"}]}),
        "$",
    )
    .unwrap();
    let only = |ids: &[&str]| CheckOptions {
        rule_ids: Some(ids.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    };
    let err = engine.check(&claims, &only(&["bed_days", "sex"])).unwrap_err();
    assert!(err.to_string().contains("\"sex\"") && err.to_string().contains("row 1"), "{err}");
    // Alone, the windowed rule's own error is the answer, naming encounter A.
    let err = engine.check(&claims, &only(&["bed_days"])).unwrap_err();
    assert!(
        err.to_string().contains("encounter \"A\" is not in the mdtrt table, and the rule needs its stay"),
        "{err}"
    );
}
