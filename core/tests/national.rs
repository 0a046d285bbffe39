//! The national knowledge importer against the published records in ../shared/data: the coverage
//! report, specific points end to end, versioning, and malformed records.

use medaudit_core::claims::claims_from_json;
use medaudit_core::national::{import, parse_records, ImportOptions, NationalImport};
use medaudit_core::{CheckOptions, CheckOutput, Engine};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::OnceLock;

fn records_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/nhsa-liangku-2025/all_records.json");
        std::fs::read_to_string(p).expect("the shared national records")
    })
}

fn national() -> &'static (NationalImport, Engine) {
    static IMPORT: OnceLock<(NationalImport, Engine)> = OnceLock::new();
    IMPORT.get_or_init(|| {
        let opts = ImportOptions { internet_med_types: vec!["9901".into()], ..Default::default() };
        let out = import(records_text(), &opts).expect("import");
        let engine = Engine::new(out.pack.clone()).expect("engine");
        (out, engine)
    })
}

/// One encounter: `mdtrt` fields and fee lines `(code, name, time, cnt)`; diagnoses optional.
fn check(mdtrt: Value, lines: &[(&str, &str, &str, f64)], diags: Option<&[&str]>) -> CheckOutput {
    let mut m = mdtrt;
    m["mdtrt_id"] = json!("M1");
    m["psn_no"] = json!("P1");
    let fee: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (code, name, t, cnt))| {
            json!({"feedetl_sn": format!("L{}", i + 1), "mdtrt_id": "M1", "hilist_code": code, "hilist_name": name,
                   "fee_ocur_time": t, "cnt": cnt, "pric": 10.0, "det_item_fee_sumamt": cnt * 10.0, "rxno": "RX1"})
        })
        .collect();
    let mut claims = json!({"mdtrt": [m], "fee_details": fee});
    if let Some(d) = diags {
        claims["diagnoses"] = json!(d.iter().map(|c| json!({"mdtrt_id": "M1", "diag_code": c})).collect::<Vec<_>>());
    }
    let claims = claims_from_json(&claims, "$").expect("claims");
    national().1.check(&claims, &CheckOptions::default()).expect("check")
}

fn adult_male() -> Value {
    json!({"gend": "1", "brdy": "1980-05-01", "insutype": "310", "med_type": "21", "hosp_lv": "01",
           "begntime": "2025-01-01 08:00:00", "endtime": "2026-12-31 08:00:00"})
}

#[test]
fn coverage_accounts_for_every_published_point() {
    let (out, _) = national();
    let c = &out.coverage;
    assert_eq!(c.total, 3899);
    assert_eq!(c.interpreted + c.not_interpreted, c.total);
    assert!(c.interpreted_share >= 0.95, "{}", c.to_text());
    // Executable and able to decide today (not waiting for a diagnosis mapping).
    assert!(c.judging_share >= 0.95, "{}", c.to_text());
    // Every record is either a knowledge row of the pack or reported with a reason.
    let records = parse_records(records_text()).unwrap();
    let mut seen = BTreeSet::new();
    for t in out.pack_json["knowledge"].as_object().unwrap().values() {
        for r in t["rows"].as_array().unwrap() {
            assert!(seen.insert(r["kp_id"].as_str().unwrap().to_string()), "kp_id twice: {r}");
        }
    }
    for cls in &c.classes {
        for s in &cls.not_interpreted {
            assert!(!s.reason.is_empty());
            assert_eq!(records[s.index].kp_id, s.kp_id);
            assert!(seen.insert(s.kp_id.clone()), "{} both interpreted and not", s.kp_id);
        }
    }
    assert_eq!(seen.len(), records.len());
    // Classes interpreted in full.
    for (cls, n) in [
        ("药品区分性别使用", 640),
        ("药品儿童专用", 366),
        ("手术项目未按规定折价收费", 378),
        ("医疗服务项目重复收费", 900),
        ("医疗服务项目限定频次", 67),
        ("中药饮片单方使用不予支付", 116),
        ("中药饮片单复方均不予支付", 37),
        ("药品限二线使用", 110),
        ("超互联网医院药品支付范围", 22),
        ("药品限医疗机构级别", 123),
    ] {
        let k = c.get(cls).unwrap();
        assert_eq!((k.points, k.interpreted), (n, n), "{cls}");
    }
    // The one note row (no code) of 医疗服务项目区分性别使用 and the two 限急诊或住院 points.
    let sex = c.get("医疗服务项目区分性别使用").unwrap();
    assert_eq!(sex.not_interpreted.len(), 1);
    assert_eq!(sex.not_interpreted[0].kp_id, "KP-03e96cd241d2f1ae");
    assert_eq!(c.get("药品限就医方式").unwrap().not_interpreted.len(), 2);
    // Indications: mapped by the starter table or kept as points awaiting a mapping.
    let ind = c.get("药品限适应症").unwrap();
    assert_eq!(ind.interpreted, 510);
    assert!(ind.awaiting_mapping < 120 && ind.awaiting_mapping > 0, "{}", ind.awaiting_mapping);
    // Course and cycle points wait for the history templates until they exist.
    for (cls, tmpl) in [
        ("药品限支付疗程", "course"),
        ("医疗服务项目限支付疗程", "course"),
        ("医疗服务项目周期超频次", "cycle_frequency"),
    ] {
        let k = c.get(cls).unwrap();
        if medaudit_core::templates::spec(tmpl).is_none() {
            assert_eq!(k.interpreted, 0);
            assert_eq!(k.reasons.get(&format!("needs the history template {tmpl}")), Some(&k.points), "{cls}");
        } else {
            assert_eq!(k.interpreted, k.points, "{cls}: {:?}", k.reasons);
        }
    }
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn male_patient_billed_aifu_nuangong_wan_is_flagged_citing_the_point_in_force() {
    // Batch 1 point KP-d44c62fff59ea98b, replaced by KP-8f3fb0c6c5f6fe1b on 2026-01-28.
    for (time, kp, batch) in [
        ("2025-09-01 10:00:00", "KP-d44c62fff59ea98b", "【第1批】"),
        ("2026-03-01 10:00:00", "KP-8f3fb0c6c5f6fe1b", "【2026-01-28修订】"),
    ] {
        let out = check(adult_male(), &[("ZD03AAA0043010100166", "艾附暖宫丸", time, 1.0)], None);
        assert_eq!(out.findings.len(), 1, "{time}: {:?}", out.findings);
        let f = &out.findings[0];
        assert_eq!(f.rule_name, "药品区分性别使用");
        assert_eq!(f.rule_code.as_deref(), Some("GZ10000301004000"));
        assert_eq!(f.kp_id.as_deref(), Some(kp));
        let basis = f.basis.as_deref().unwrap();
        assert!(basis.starts_with(batch) && basis.contains("暖宫调经"), "{basis}");
        assert!(f.message.contains("限女性使用"), "{}", f.message);
    }
    // A woman is not flagged.
    let mut woman = adult_male();
    woman["gend"] = json!("2");
    assert!(check(woman, &[("ZD03AAA0043010100166", "艾附暖宫丸", "2026-03-01 10:00:00", 1.0)], None)
        .findings
        .is_empty());
}

#[test]
fn superseded_point_no_longer_fires_after_the_revision() {
    // 妇科十味片 KP-92c992d35e7249f4 covered ZD01AAF0204010102959; the 2026-01-28 revision
    // KP-028e7f910a2c7b7d dropped that code.
    let line = |t| [("ZD01AAF0204010102959", "妇科十味片", t, 1.0)];
    let before = check(adult_male(), &line("2026-01-27 23:00:00"), None);
    assert_eq!(before.findings.len(), 1);
    assert_eq!(before.findings[0].kp_id.as_deref(), Some("KP-92c992d35e7249f4"));
    let after = check(adult_male(), &line("2026-01-28 08:00:00"), None);
    assert!(after.findings.is_empty(), "{:?}", after.findings);
}

#[test]
fn inpatient_visit_fee_twice_a_day_is_flagged_by_the_frequency_rule() {
    let out = check(
        adult_male(),
        &[
            ("001102000050000", "住院诊查费", "2026-03-02 08:00:00", 1.0),
            ("001102000050000", "住院诊查费", "2026-03-02 17:00:00", 1.0),
            ("001102000050000", "住院诊查费", "2026-03-03 08:00:00", 1.0),
        ],
        None,
    );
    let f: Vec<_> = out.findings.iter().filter(|f| f.rule_name == "医疗服务项目限定频次").collect();
    assert_eq!(f.len(), 1, "{:?}", out.findings);
    assert_eq!(f[0].feedetl_sn.as_deref(), Some("L2"));
    assert_eq!(f[0].kp_id.as_deref(), Some("KP-75b5317de86e23de"));
    assert_eq!(f[0].rule_code.as_deref(), Some("GZ10000102014000"));
    assert!(f[0].basis.as_deref().unwrap().starts_with("【第8批】日"));
}

#[test]
fn hourly_items_allow_24_hours_a_day() {
    // 心电监测 is billed by the hour: 24 a day pass, 25 do not.
    let ok = check(adult_male(), &[("003107010220000", "心电监测", "2026-03-02 08:00:00", 24.0)], None);
    assert!(ok.findings.is_empty(), "{:?}", ok.findings);
    let bad = check(adult_male(), &[("003107010220000", "心电监测", "2026-03-02 08:00:00", 25.0)], None);
    assert_eq!(bad.findings.len(), 1);
    assert_eq!(bad.findings[0].amount, Some(10.0));
}

#[test]
fn emergency_monitoring_with_emergency_visit_fee_on_one_day_is_a_duplicate_charge() {
    let lines = [
        ("001103000010000", "急诊监护费", "2026-03-02 08:00:00", 1.0),
        ("001102000030000", "急诊诊查费", "2026-03-02 09:00:00", 1.0),
    ];
    let out = check(adult_male(), &lines, None);
    let f: Vec<_> = out.findings.iter().filter(|f| f.rule_name == "医疗服务项目重复收费").collect();
    assert_eq!(f.len(), 1, "{:?}", out.findings);
    assert_eq!(f[0].feedetl_sn.as_deref(), Some("L2"));
    assert_eq!(f[0].related_feedetl_sn.as_deref(), Some("L1"));
    assert_eq!(f[0].kp_id.as_deref(), Some("KP-ecc09d0c65ab6f08"));
    assert!(f[0].basis.as_deref().unwrap().contains("含监护、床位、诊查、护理"));
    // On another day they are not.
    let next = [lines[0], ("001102000030000", "急诊诊查费", "2026-03-03 09:00:00", 1.0)];
    assert!(check(adult_male(), &next, None).findings.iter().all(|f| f.rule_name != "医疗服务项目重复收费"));
}

#[test]
fn indications_judge_with_a_mapping_and_report_unjudged_without() {
    // 艾考恩丙替片 (KP-55a49df2058ee341, 2026-06-22): 限艾滋病病毒感染, mapped by the starter table.
    let line = [("XJ05ARA315A001010178451", "艾考恩丙替片", "2026-07-01 10:00:00", 1.0)];
    let out = check(adult_male(), &line, Some(&["I10.x00"]));
    assert_eq!(out.findings.len(), 1);
    assert_eq!(out.findings[0].kp_id.as_deref(), Some("KP-55a49df2058ee341"));
    assert!(out.findings[0].message.contains("艾滋病病毒感染"), "{}", out.findings[0].message);
    assert!(check(adult_male(), &line, Some(&["B20.000"])).findings.is_empty());
    // Published 2026-06-22: not in force before.
    let early = [("XJ05ARA315A001010178451", "艾考恩丙替片", "2026-06-01 10:00:00", 1.0)];
    assert!(check(adult_male(), &early, Some(&["I10.x00"])).findings.is_empty());
    // An indication without a mapping is never guessed: the line is unjudged.
    let (out_imp, _) = national();
    let rows = out_imp.pack_json["knowledge"]["drug_indication"]["rows"].as_array().unwrap();
    let unmapped = rows.iter().find(|r| r.get("diag_set").is_none()).unwrap();
    let code = unmapped["code"][0].as_str().unwrap();
    let out = check(adult_male(), &[(code, "x", "2026-07-01 10:00:00", 1.0)], Some(&["I10.x00"]));
    assert!(out.findings.is_empty());
    assert_eq!(out.unjudged.len(), 1);
    assert_eq!(out.unjudged[0].reason, "cannot be judged without a diagnosis mapping");
}

#[test]
fn second_line_drugs_are_suspicious_and_never_payable_herbs_are_violations() {
    let out = check(
        adult_male(),
        &[
            ("XL01ELA387E001010184513", "阿可替尼胶囊", "2026-05-01 10:00:00", 1.0),
            ("T001700233", "阿胶", "2026-05-12 10:00:00", 1.0),
        ],
        None,
    );
    let names: Vec<_> = out.findings.iter().map(|f| (f.rule_name.as_str(), f.severity.as_str())).collect();
    assert!(names.contains(&("药品限二线使用", "可疑")), "{names:?}");
    assert!(names.contains(&("中药饮片单复方均不予支付", "明确违规")), "{names:?}");
}

#[test]
fn malformed_records_name_the_record_and_field() {
    let cases = [
        (r#"{"x": 1}"#, "expected an array of records"),
        ("[1]", "$[0]: expected an object, found a number"),
        (r#"[{"rule_class": "药品区分性别使用"}]"#, "$[0].kp_id: missing required field"),
        (r#"[{"kp_id": "A", "rule_class": "x", "med_codes": "X1"}]"#, "$[0].med_codes: expected an array of strings"),
        (r#"[{"kp_id": "A", "rule_class": "x", "med_codes": ["X1", 2]}]"#, "$[0].med_codes[1]: expected a string"),
        (r#"[{"kp_id": "A", "rule_class": "x", "batch": "one"}]"#, "$[0].batch: expected a number or null"),
        (r#"[{"kp_id": "A", "rule_class": "x", "published_at": "2026-13-40"}]"#, "$[0].published_at: expected a date"),
        (
            r#"[{"kp_id": "A", "rule_class": "x"}, {"kp_id": "A", "rule_class": "x"}]"#,
            "$[1].kp_id: duplicate kp_id \"A\" (first at record 0)",
        ),
        ("[{", "invalid JSON"),
    ];
    for (text, want) in cases {
        let err = import(text, &ImportOptions::default()).unwrap_err();
        assert!(err.to_string().contains(want), "{text}: {err}");
        assert!(err.to_string().contains("national records"), "{err}");
    }
}

#[test]
fn unknown_classes_and_dangling_supersedes_are_reported_not_dropped() {
    let text = r#"[
      {"kp_id": "A", "rule_class": "药品限新规则", "med_codes": ["X1"], "constraint": "限某某", "batch": 18},
      {"kp_id": "B", "rule_class": "药品限工伤保险", "med_codes": ["X2"], "constraint": "限工伤保险", "batch": null,
       "published_at": "2026-01-28", "supersedes": "GONE"}
    ]"#;
    let out = import(text, &ImportOptions::default()).unwrap();
    assert_eq!((out.coverage.interpreted, out.coverage.not_interpreted), (1, 1));
    let k = out.coverage.get("药品限新规则").unwrap();
    assert!(k.not_interpreted[0].reason.contains("unknown rule class"));
    assert!(out.coverage.warnings[0].contains("supersedes \"GONE\""), "{:?}", out.coverage.warnings);
    assert_eq!(out.pack.rules.len(), 1);
    assert_eq!(out.pack.rules[0].id, "drug_work_injury");
}

#[test]
fn a_point_may_list_several_codes_and_an_empty_one_is_an_error() {
    let pack = |codes: Value| {
        json!({"format": "medaudit-pack/1", "id": "p",
               "knowledge": {"t": {"rows": [{"code": codes, "kp_id": "KP-1", "sex": "2"}]}},
               "rules": [{"id": "R1", "name": "限性别", "template": "sex", "knowledge": "t", "severity": "明确违规"}]})
        .to_string()
    };
    let engine = Engine::new(medaudit_core::RulePack::from_json(&pack(json!(["XA", "XB"]))).unwrap()).unwrap();
    let claims = claims_from_json(
        &json!({"mdtrt": [{"mdtrt_id": "M1", "gend": "1"}],
                "fee_details": [{"feedetl_sn": "L1", "mdtrt_id": "M1", "hilist_code": "XA"},
                                {"feedetl_sn": "L2", "mdtrt_id": "M1", "hilist_code": "XB"},
                                {"feedetl_sn": "L3", "mdtrt_id": "M1", "hilist_code": "XC"}]}),
        "$",
    )
    .unwrap();
    let out = engine.check(&claims, &CheckOptions::default()).unwrap();
    assert_eq!(out.findings.iter().map(|f| f.feedetl_sn.as_deref().unwrap()).collect::<Vec<_>>(), ["L1", "L2"]);
    let Err(err) = Engine::new(medaudit_core::RulePack::from_json(&pack(json!("XA||XB"))).unwrap()) else {
        panic!("an empty code in a list must fail")
    };
    assert!(err.to_string().contains("empty code in the code list (column \"code\", row 0)"), "{err}");
}

#[test]
fn an_indication_row_without_diag_set_is_an_error_unless_the_rule_allows_unmapped() {
    let pack = |params: Value| {
        json!({"format": "medaudit-pack/1", "id": "p", "code_sets": {"hiv": ["B2[0-4]"]},
               "knowledge": {"t": {"rows": [{"code": "XA", "kp_id": "KP-1"}, {"code": "XB", "kp_id": "KP-2", "diag_set": "hiv"}]}},
               "rules": [{"id": "R1", "name": "限适应症", "template": "diag_required", "knowledge": "t",
                          "severity": "明确违规", "params": params}]})
        .to_string()
    };
    let err = medaudit_core::RulePack::from_json(&pack(json!({}))).unwrap_err();
    assert!(err.to_string().contains("column \"diag_set\", row 0"), "{err}");
    let err = medaudit_core::RulePack::from_json(&pack(json!({"unmapped": "guess"}))).unwrap_err();
    assert!(err.to_string().contains("params.unmapped: expected one of error, unjudged"), "{err}");
    let engine =
        Engine::new(medaudit_core::RulePack::from_json(&pack(json!({"unmapped": "unjudged"}))).unwrap()).unwrap();
    let claims = claims_from_json(
        &json!({"mdtrt": [{"mdtrt_id": "M1"}], "diagnoses": [{"mdtrt_id": "M1", "diag_code": "I10.x00"}],
                "fee_details": [{"feedetl_sn": "L1", "mdtrt_id": "M1", "hilist_code": "XA"},
                                {"feedetl_sn": "L2", "mdtrt_id": "M1", "hilist_code": "XB"}]}),
        "$",
    )
    .unwrap();
    let out = engine.check(&claims, &CheckOptions::default()).unwrap();
    assert_eq!(out.findings.len(), 1);
    assert_eq!(out.findings[0].feedetl_sn.as_deref(), Some("L2"));
    assert_eq!(out.unjudged.len(), 1);
    assert_eq!(
        (out.unjudged[0].reason.as_str(), out.unjudged[0].count),
        ("cannot be judged without a diagnosis mapping", 1)
    );
}

#[test]
fn generated_claims_drawn_from_the_national_points_exercise_the_whole_pack() {
    let (imp, engine) = national();
    let cfg = medaudit_core::synth::Config { encounters: 3000, seed: 5, start: (2026, 7, 1), ..Default::default() };
    let claims = medaudit_core::synth::generate_national(&imp.pack, &cfg);
    let out = engine.check(&claims, &CheckOptions::default()).unwrap();
    let rules: BTreeSet<_> = out.findings.iter().map(|f| f.rule_id.as_str()).collect();
    for r in [
        "drug_sex",
        "service_sex",
        "drug_child_only",
        "drug_hosp_level",
        "drug_scene",
        "service_duplicate",
        "drug_indication",
        "drug_second_line",
    ] {
        assert!(rules.contains(r), "{r} found nothing: {rules:?}");
    }
    assert!(out.unjudged.iter().any(|u| u.reason == "cannot be judged without a diagnosis mapping"));
    // Every finding cites its knowledge point and a basis with the batch.
    assert!(out.findings.iter().all(|f| f.kp_id.is_some() && f.basis.as_deref().is_some_and(|b| b.starts_with('【'))));
    // Deterministic.
    let again =
        engine.check(&medaudit_core::synth::generate_national(&imp.pack, &cfg), &CheckOptions::default()).unwrap();
    assert_eq!(again.findings, out.findings);
}

#[test]
fn every_published_course_and_cycle_text_parses_for_the_history_templates() {
    use medaudit_core::national::constraints::{course, cycle};
    let records = parse_records(records_text()).unwrap();
    let mut n = 0;
    for r in &records {
        let text = r.constraint.as_deref().unwrap_or("");
        match r.rule_class.as_str() {
            "药品限支付疗程" | "医疗服务项目限支付疗程" => {
                let c = course(text, r.detect_logic.as_deref()).unwrap_or_else(|| panic!("{}: {text}", r.kp_id));
                assert!((3..=365).contains(&c.max_days), "{}: {text}: {c:?}", r.kp_id);
                n += 1;
            }
            "医疗服务项目周期超频次" => {
                let c = cycle(text).unwrap_or_else(|| panic!("{}: {text}", r.kp_id));
                assert!(c.max_count == 1 && (7..=60).contains(&c.window_days), "{}: {text}: {c:?}", r.kp_id);
                n += 1;
            }
            _ => {}
        }
    }
    assert_eq!(n, 84);
    // The one span-measured course: 支付不超过12个月 from the first use.
    let span: Vec<_> = records
        .iter()
        .filter(|r| r.rule_class == "药品限支付疗程")
        .filter_map(|r| course(r.constraint.as_deref()?, r.detect_logic.as_deref()))
        .filter(|c| c.measure == "span")
        .collect();
    assert_eq!(span.len(), 1);
    assert_eq!(span[0].max_days, 360);
}

#[test]
fn standard_prices_let_the_same_incision_discount_judge() {
    // Two operations of 胃肠手术组 on one day: the second must be charged at 50%.
    let records = r#"[
      {"kp_id": "KP-A", "rule_class": "手术项目未按规定折价收费", "med_codes": ["003310010140000"],
       "item_name": "食管癌根治+结肠代食管术", "constraint": "胃肠手术组", "batch": 2},
      {"kp_id": "KP-B", "rule_class": "手术项目未按规定折价收费", "med_codes": ["003310010160000"],
       "item_name": "食管胃吻合口狭窄切开成形术", "constraint": "胃肠手术组", "batch": 2}
    ]"#;
    let claims = claims_from_json(
        &json!({"mdtrt": [{"mdtrt_id": "M1"}],
                "fee_details": [
                  {"feedetl_sn": "L1", "mdtrt_id": "M1", "hilist_code": "003310010140000", "fee_ocur_time": "2026-03-02 09:00:00", "cnt": 1, "pric": 3000.0, "det_item_fee_sumamt": 3000.0},
                  {"feedetl_sn": "L2", "mdtrt_id": "M1", "hilist_code": "003310010160000", "fee_ocur_time": "2026-03-02 10:00:00", "cnt": 1, "pric": 1000.0, "det_item_fee_sumamt": 1000.0}]}),
        "$",
    )
    .unwrap();
    // Without standard prices the second operation cannot be judged.
    let imp = import(records, &ImportOptions::default()).unwrap();
    let out = Engine::new(imp.pack).unwrap().check(&claims, &CheckOptions::default()).unwrap();
    assert!(out.findings.is_empty());
    assert_eq!(out.unjudged[0].reason, "std_price is null for a second operation");
    let mut opts = ImportOptions::default();
    opts.std_prices.insert("003310010140000".into(), 3000.0);
    opts.std_prices.insert("003310010160000".into(), 1000.0);
    let imp = import(records, &opts).unwrap();
    let out = Engine::new(imp.pack).unwrap().check(&claims, &CheckOptions::default()).unwrap();
    assert_eq!(out.findings.len(), 1);
    assert_eq!(out.findings[0].feedetl_sn.as_deref(), Some("L2"));
    assert_eq!(out.findings[0].kp_id.as_deref(), Some("KP-B"));
    assert_eq!(out.findings[0].amount, Some(500.0));
}
