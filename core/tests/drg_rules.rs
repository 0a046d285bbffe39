//! The DRG stay templates (drg_cost_ratio, drg_unsupported_coding, drg_low_standard) run through
//! the engine on generated stays: 100% recall and precision against the generator's marks, the
//! re-grouped DRG and the amount at risk, the engine builder, and errors.

use medaudit_core::dip::DipCatalogue;
use medaudit_core::drg::DrgScheme;
use medaudit_core::synth::drg::{
    generate, sample_weight, DrgConfig, DIP_SAMPLE_CATALOGUE_JSON, DRG_RULES, DRG_SAMPLE_PACK_JSON,
};
use medaudit_core::synth::Truth;
use medaudit_core::{CheckOptions, Engine, RulePack};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data");

fn chs() -> Arc<DrgScheme> {
    static S: OnceLock<Arc<DrgScheme>> = OnceLock::new();
    Arc::clone(S.get_or_init(|| {
        let dir = format!("{DATA}/chs-drg-1.1");
        let json = std::fs::read_to_string(format!("{dir}/scheme.json")).unwrap();
        let mut files = BTreeMap::new();
        for f in DrgScheme::declared_files(&json).unwrap() {
            files.insert(f.clone(), std::fs::read_to_string(format!("{dir}/{f}")).unwrap());
        }
        Arc::new(DrgScheme::load(&json, &files).unwrap())
    }))
}

fn engine() -> Engine {
    builder(RulePack::from_json(DRG_SAMPLE_PACK_JSON).unwrap()).build().unwrap()
}

fn builder(pack: RulePack) -> medaudit_core::EngineBuilder {
    Engine::builder(pack)
        .drg_scheme(chs())
        .dip_catalogue(Arc::new(DipCatalogue::from_json(DIP_SAMPLE_CATALOGUE_JSON).unwrap()))
}

#[test]
fn every_drg_rule_has_full_recall_and_precision() {
    let data = generate(&DrgConfig { encounters: 3000, seed: 11, violation_rate: 0.25 });
    let out = engine().check(&data.claims, &CheckOptions::default()).unwrap();
    assert!(out.unjudged.is_empty(), "{:?}", out.unjudged);
    let got: BTreeSet<Truth> = out
        .findings
        .iter()
        .map(|f| Truth { rule_id: f.rule_id.clone(), mdtrt_id: f.mdtrt_id.clone(), feedetl_sn: f.feedetl_sn.clone() })
        .collect();
    assert_eq!(got.len(), out.findings.len(), "one finding per (rule, stay)");
    let want: BTreeSet<Truth> = data.truth.iter().cloned().collect();
    for rule in DRG_RULES {
        let g: BTreeSet<_> = got.iter().filter(|t| t.rule_id == *rule).collect();
        let w: BTreeSet<_> = want.iter().filter(|t| t.rule_id == *rule).collect();
        assert!(w.len() >= 50, "rule {rule} injected only {} times", w.len());
        let missed: Vec<_> = w.difference(&g).take(3).collect();
        let extra: Vec<_> = g.difference(&w).take(3).collect();
        assert!(missed.is_empty() && extra.is_empty(), "rule {rule}: missed {missed:?}, extra {extra:?}");
    }
    assert_eq!(got, want);
    // Every mark kind was injected.
    let kinds: BTreeSet<&str> = data.marks.iter().map(|m| m.1).collect();
    assert_eq!(kinds.len(), 7, "{kinds:?}");
}

#[test]
fn unsupported_coding_reports_the_regrouped_drg_and_weight_difference() {
    let data = generate(&DrgConfig { encounters: 600, seed: 5, violation_rate: 0.3 });
    let out = engine()
        .check(&data.claims, &CheckOptions { rule_ids: Some(vec!["DRG-CODING".into()]), ..Default::default() })
        .unwrap();
    let marks: BTreeMap<&str, &str> = data.marks.iter().map(|(id, m)| (id.as_str(), *m)).collect();
    let (mut dx, mut px) = (0, 0);
    for f in &out.findings {
        match marks.get(f.mdtrt_id.as_str()).copied() {
            Some("upcoded_dx") => {
                dx += 1;
                assert!(f.message.starts_with("J96.900x001无相应收费项目支持；病例入组ES31"), "{}", f.message);
                assert!(f.message.contains("去除后入组ES35"), "{}", f.message);
                let want = (sample_weight("ES31").unwrap() - sample_weight("ES35").unwrap()) * 10_000.0;
                assert_eq!(f.amount, Some((want * 100.0_f64).round() / 100.0));
                assert_eq!(f.kp_id.as_deref(), Some("EV-J96"));
            }
            Some("upcoded_proc") => {
                px += 1;
                assert!(f.message.starts_with("45.7300x007无相应收费项目支持；病例入组GB29"), "{}", f.message);
                assert!(f.message.contains("去除后入组GR15"), "{}", f.message);
                assert_eq!(f.amount, Some(16_500.0));
                assert_eq!(f.kp_id.as_deref(), Some("EV-4573"));
            }
            other => panic!("unexpected finding on {other:?}: {f:?}"),
        }
        assert_eq!(f.feedetl_sn, None);
        assert_eq!(f.template, "drg_unsupported_coding");
    }
    assert!(dx > 5 && px > 5, "{dx} {px}");
}

#[test]
fn cost_ratio_and_low_standard_messages_and_amounts() {
    let data = generate(&DrgConfig { encounters: 600, seed: 6, violation_rate: 0.3 });
    let out = engine().check(&data.claims, &CheckOptions::default()).unwrap();
    let marks: BTreeMap<&str, &str> = data.marks.iter().map(|(id, m)| (id.as_str(), *m)).collect();
    let mut seen = BTreeSet::new();
    for f in &out.findings {
        let m = marks.get(f.mdtrt_id.as_str()).copied().unwrap();
        seen.insert(m);
        if f.rule_id == "DIP-COST" {
            assert!(m.starts_with("outlier_") && f.message.contains("倍率界值"), "{m}: {}", f.message);
            continue;
        }
        match m {
            "outlier_high" => {
                assert!(f.message.contains("倍，高于高倍率界值"), "{}", f.message);
                assert!(f.amount.unwrap() > 0.0);
                assert!(f.kp_id.as_deref().unwrap().starts_with("W-"));
            }
            "outlier_low" => {
                assert!(
                    f.message.contains("为病组基准费用") && f.message.contains("倍，低于低倍率界值0.4倍"),
                    "{}",
                    f.message
                );
                assert!(f.amount.unwrap() > 0.0);
            }
            "low_standard" => {
                assert!(f.message.starts_with("主要诊断I10.x00x002可门诊治疗，住院1天"), "{}", f.message);
                assert_eq!(f.kp_id.as_deref(), Some("OP-I10"));
            }
            "split_stay" => {
                assert_eq!(f.rule_id, "DRG-READMIT");
                let prev = format!("{}A", f.mdtrt_id);
                assert!(f.message.contains(&format!("与前次住院{prev}（")), "{}", f.message);
            }
            "shifted" => {
                assert_eq!(f.rule_id, "DRG-SHIFT");
                assert!(f.message.starts_with("住院前后7天内同机构门诊2次"), "{}", f.message);
                assert!(f.message.ends_with("占住院费用30%"), "{}", f.message);
            }
            _ => assert_eq!(f.rule_id, "DRG-CODING"),
        }
    }
    assert_eq!(seen.len(), 7);
}

#[test]
fn the_sample_weights_match_the_pack() {
    let pack: serde_json::Value = serde_json::from_str(DRG_SAMPLE_PACK_JSON).unwrap();
    for row in pack["knowledge"]["drg_weights"]["rows"].as_array().unwrap() {
        let code = row["code"].as_str().unwrap();
        if let Some(w) = sample_weight(code) {
            assert_eq!(Some(w), row["weight"].as_f64(), "{code}");
        }
    }
}

#[test]
fn threads_and_stages_give_the_same_drg_findings() {
    let data = generate(&DrgConfig { encounters: 800, seed: 9, violation_rate: 0.2 });
    let e = engine();
    let one = e.check(&data.claims, &CheckOptions::default()).unwrap();
    let many = e.check(&data.claims, &CheckOptions { threads: 4, ..Default::default() }).unwrap();
    assert_eq!(one, many);
    // Tables split into batches (an empty one too) give the same findings.
    let split = |v: &[arrow_array::RecordBatch]| {
        let b = &v[0];
        let n = b.num_rows();
        vec![b.slice(0, n / 2), b.slice(n / 2, 0), b.slice(n / 2, n - n / 2)]
    };
    let parts = medaudit_core::Claims {
        mdtrt: split(&data.claims.mdtrt),
        diagnoses: split(&data.claims.diagnoses),
        operations: split(&data.claims.operations),
        fee_details: split(&data.claims.fee_details),
        ..Default::default()
    };
    assert_eq!(e.check(&parts, &CheckOptions::default()).unwrap(), one);
    // 事前 runs none of the three (cost ratio and low standard are 事后; coding is 事中/事后).
    let pre =
        e.check(&data.claims, &CheckOptions { stage: Some(medaudit_core::Stage::Pre), ..Default::default() }).unwrap();
    assert!(pre.findings.is_empty());
}

#[test]
fn a_pack_naming_a_scheme_not_given_fails_to_build() {
    let pack = RulePack::from_json(DRG_SAMPLE_PACK_JSON).unwrap();
    let e = Engine::new(pack.clone()).err().unwrap();
    assert_eq!(
        e.to_string(),
        "rule pack: rule \"DRG-COST\": params.scheme: DRG scheme \"chs-drg-1.1\" was not given to the engine (Engine::builder(pack).drg_scheme(..)); given: none"
    );
    // Bad parameters and knowledge rows name the rule, the field or the row.
    let mut v: serde_json::Value = serde_json::from_str(DRG_SAMPLE_PACK_JSON).unwrap();
    v["rules"][0]["params"]["high_bands"] = serde_json::json!(["2:2.5", "1:3"]);
    let e = RulePack::from_json(&v.to_string()).err().unwrap();
    assert_eq!(
        e.to_string(),
        "rule pack: rule \"DRG-COST\": params.high_bands[1]: bands must be in increasing max_weight"
    );
    let mut v: serde_json::Value = serde_json::from_str(DRG_SAMPLE_PACK_JSON).unwrap();
    v["knowledge"]["coding_evidence"]["rows"][1]["kind"] = "diagnosis".into();
    let e = RulePack::from_json(&v.to_string()).err().unwrap();
    assert!(e.to_string().contains("knowledge table \"coding_evidence\": expected \"dx\" or \"proc\", found Some(\"diagnosis\") (column \"kind\", row 1)"), "{e}");
    let mut v: serde_json::Value = serde_json::from_str(DRG_SAMPLE_PACK_JSON).unwrap();
    v["knowledge"]["drg_weights"]["rows"][2]["weight"] = serde_json::json!(-1);
    let e = builder(RulePack::from_json(&v.to_string()).unwrap()).build().err().unwrap();
    assert_eq!(
        e.to_string(),
        "knowledge table \"drg_weights\": null or not a positive number (column \"weight\", row 2)"
    );
    let mut v: serde_json::Value = serde_json::from_str(DRG_SAMPLE_PACK_JSON).unwrap();
    v["rules"][1]["params"]["weights"] = "nope".into();
    let e = builder(RulePack::from_json(&v.to_string()).unwrap()).build().err().unwrap();
    assert_eq!(e.to_string(), "rule pack: rule \"DRG-CODING\": params.weights: unknown knowledge table \"nope\"");
    let mut v: serde_json::Value = serde_json::from_str(DRG_SAMPLE_PACK_JSON).unwrap();
    v["rules"][0].as_object_mut().unwrap().remove("knowledge");
    let e = RulePack::from_json(&v.to_string()).err().unwrap();
    assert!(e.to_string().contains("template \"drg_cost_ratio\" reads its items from a knowledge table"), "{e}");
}

#[test]
fn cross_encounter_rules_follow_their_parameters() {
    let data = generate(&DrgConfig { encounters: 1500, seed: 17, violation_rate: 0.3 });
    let count = |edit: &dyn Fn(&mut serde_json::Value), rule: &str| {
        let mut v: serde_json::Value = serde_json::from_str(DRG_SAMPLE_PACK_JSON).unwrap();
        edit(&mut v);
        let e = builder(RulePack::from_json(&v.to_string()).unwrap()).build().unwrap();
        let out =
            e.check(&data.claims, &CheckOptions { rule_ids: Some(vec![rule.into()]), ..Default::default() }).unwrap();
        out.findings.len()
    };
    let marks = |m: &str| data.marks.iter().filter(|x| x.1 == m).count();
    assert_eq!(count(&|_| {}, "DRG-READMIT"), marks("split_stay"));
    // Earlier stays end 2–10 days before the readmission: a 1-day window finds none.
    assert_eq!(count(&|v| v["rules"][4]["params"]["window_days"] = 1.into(), "DRG-READMIT"), 0);
    // Without the radiotherapy exclusion, planned series of clean stays become findings.
    assert!(
        count(&|v| v["rules"][4]["params"]["exclude_adrgs"] = serde_json::json!([]), "DRG-READMIT")
            > marks("split_stay")
    );
    // By MDC: the clean stays' earlier stays are in other MDCs, so the same stays are found.
    assert_eq!(count(&|v| v["rules"][4]["params"]["same"] = "mdc".into(), "DRG-READMIT"), marks("split_stay"));
    assert_eq!(count(&|_| {}, "DRG-SHIFT"), marks("shifted"));
    // The shifted visits cost 30% of the stay: a 40% floor finds none; a 30-day window adds the
    // clean stays' same-category visits three weeks before admission.
    assert_eq!(count(&|v| v["rules"][5]["params"]["min_share"] = 0.4.into(), "DRG-SHIFT"), 0);
    assert!(count(&|v| v["rules"][5]["params"]["window_days"] = 30.into(), "DRG-SHIFT") > marks("shifted"));
    // A knowledge point may list several codes (`a|b`, or an array in inline rows).
    let listed = |v: &mut serde_json::Value| {
        v["knowledge"]["coding_evidence"]["rows"][0]["code"] = serde_json::json!(["J95.8", "J96"])
    };
    assert_eq!(count(&listed, "DRG-CODING"), count(&|_| {}, "DRG-CODING"));
    let dropped = |v: &mut serde_json::Value| v["knowledge"]["coding_evidence"]["rows"][0]["code"] = "J95.8|J97".into();
    assert_eq!(count(&dropped, "DRG-CODING"), marks("upcoded_proc"));
    // Parameter errors name the rule and field.
    let mut v: serde_json::Value = serde_json::from_str(DRG_SAMPLE_PACK_JSON).unwrap();
    v["rules"][4]["params"]["window_days"] = 0.into();
    let e = RulePack::from_json(&v.to_string()).err().unwrap();
    assert_eq!(e.to_string(), "rule pack: rule \"DRG-READMIT\": params.window_days: must be positive");
    v["rules"][4]["params"]["window_days"] = 3.into();
    v["rules"][4]["params"]["same"] = "drg".into();
    let e = RulePack::from_json(&v.to_string()).err().unwrap();
    assert!(e.to_string().contains("params.same: expected one of adrg, mdc"), "{e}");
}

#[test]
fn unjudged_stays_are_counted_not_dropped() {
    // A stay whose principal diagnosis groups nowhere, and a stay with a null line amount.
    let mut data = generate(&DrgConfig { encounters: 50, seed: 3, violation_rate: 0.0 });
    use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
    let b = data.claims.diagnoses[0].clone();
    let codes: Vec<&str> =
        (0..b.num_rows())
            .map(|i| {
                if i == 0 {
                    "NOT.A.CODE"
                } else {
                    b.column(1).as_any().downcast_ref::<StringArray>().unwrap().value(i)
                }
            })
            .collect();
    let mut cols: Vec<ArrayRef> = b.columns().to_vec();
    cols[1] = Arc::new(StringArray::from(codes));
    data.claims.diagnoses = vec![RecordBatch::try_new(b.schema(), cols).unwrap()];
    // The null amount goes on a pneumonia stay (those stay 4–10 days) other than the first one.
    let dxs = b.column(1).as_any().downcast_ref::<StringArray>().unwrap();
    let ids = b.column(0).as_any().downcast_ref::<StringArray>().unwrap();
    let target = (1..b.num_rows())
        .find(|i| dxs.value(*i) == "J18.900" && ids.value(*i) != ids.value(0))
        .map(|i| ids.value(i).to_string())
        .unwrap();
    let f = &data.claims.fee_details[0];
    let idx = f.schema().index_of("det_item_fee_sumamt").unwrap();
    let amts = f.column(idx).as_any().downcast_ref::<Float64Array>().unwrap();
    let fid =
        f.column(f.schema().index_of("mdtrt_id").unwrap()).as_any().downcast_ref::<StringArray>().unwrap().clone();
    let hit = (0..f.num_rows()).find(|i| fid.value(*i) == target).unwrap();
    let new: Float64Array = (0..f.num_rows()).map(|i| if i == hit { None } else { Some(amts.value(i)) }).collect();
    let mut cols: Vec<ArrayRef> = f.columns().to_vec();
    cols[idx] = Arc::new(new);
    data.claims.fee_details = vec![RecordBatch::try_new(f.schema(), cols).unwrap()];
    let out = engine().check(&data.claims, &CheckOptions::default()).unwrap();
    let u: BTreeMap<(String, String), u64> =
        out.unjudged.iter().map(|u| ((u.rule_id.clone(), u.reason.clone()), u.count)).collect();
    assert_eq!(
        u.get(&("DRG-COST".into(), "the case cannot be grouped (invalid input or no MDC)".into())),
        Some(&1),
        "{u:?}"
    );
    assert_eq!(
        u.get(&("DRG-CODING".into(), "the case cannot be grouped (invalid input or no MDC)".into())),
        Some(&1),
        "{u:?}"
    );
    assert_eq!(u.get(&("DRG-COST".into(), "a fee line amount is null".into())), Some(&1), "{u:?}");
}

#[test]
fn cost_ratio_with_real_harbin_2024_weights_and_rates() {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, TimestampSecondType};
    // Harbin's published 2024 DRG weights and its 职工 base rate per row, as a knowledge table given
    // to the engine (the pack declares the table without rows).
    let csv =
        std::fs::read_to_string(format!("{DATA}/damagecontrolstudio-chs-drg-harbin/harbin_drg_weights_2022_2024.csv"))
            .unwrap();
    let mut weights = BTreeMap::new();
    let rows: Vec<serde_json::Value> = csv
        .lines()
        .skip(1)
        .filter(|l| l.starts_with("2024,"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let (w, rate): (f64, f64) = (f[3].parse().unwrap(), f[4].parse().unwrap());
            weights.insert(f[1].to_string(), (w, rate));
            serde_json::json!({"code": f[1], "weight": w, "base_rate": rate, "kp_id": format!("HRB2024-{}", f[1])})
        })
        .collect();
    assert_eq!(rows.len(), 703);
    let table =
        medaudit_core::KnowledgeTable::from_json_rows("harbin_weights", &serde_json::Value::Array(rows)).unwrap();
    let pack = RulePack::from_json(
        r#"{"format": "medaudit-pack/1", "id": "hrb", "name": "哈尔滨DRG", "version": "2024",
            "knowledge": {"harbin_weights": {"match": "exact"}},
            "rules": [{"id": "HRB-COST", "name": "高低倍率", "template": "drg_cost_ratio", "knowledge": "harbin_weights",
                       "params": {"scheme": "chs-drg-1.1", "exclude_los_below": 2}, "severity": "可疑",
                       "scenes": ["住院"]}]}"#,
    )
    .unwrap();
    let engine = Engine::builder(pack).knowledge(table).drg_scheme(chs()).build().unwrap();
    let data = generate(&DrgConfig { encounters: 1500, seed: 31, violation_rate: 0.3 });
    let out = engine.check(&data.claims, &CheckOptions::default()).unwrap();

    // The oracle: group each stay, sum its lines, apply the published formula.
    let scheme = chs();
    let groups = scheme.group_claims(&data.claims, &medaudit_core::drg::GroupOptions::default(), false).unwrap();
    let f = &data.claims.fee_details[0];
    let fid = f.column_by_name("mdtrt_id").unwrap().as_string::<i32>();
    let amt = f.column_by_name("det_item_fee_sumamt").unwrap().as_primitive::<Float64Type>();
    let mut cost: BTreeMap<&str, f64> = BTreeMap::new();
    for i in 0..f.num_rows() {
        *cost.entry(fid.value(i)).or_default() += amt.value(i);
    }
    let m = &data.claims.mdtrt[0];
    let med = m.column_by_name("med_type").unwrap().as_string::<i32>();
    let (b, e) = (
        m.column_by_name("begntime").unwrap().as_primitive::<TimestampSecondType>(),
        m.column_by_name("endtime").unwrap().as_primitive::<TimestampSecondType>(),
    );
    let (mut want, mut no_weight) = (BTreeSet::new(), 0u64);
    for (i, r) in groups.results.iter().enumerate() {
        let los = e.value(i).div_euclid(86_400) - b.value(i).div_euclid(86_400);
        if med.value(i) != "21" || los < 2 {
            continue;
        }
        let Some((w, rate)) = weights.get(r.grouping.drg) else {
            no_weight += 1;
            continue;
        };
        let ratio = cost[r.mdtrt_id] / (w * rate);
        let high = if *w <= 1.0 {
            3.0
        } else if *w <= 2.0 {
            2.5
        } else {
            2.0
        };
        if ratio > high || ratio < 0.4 {
            want.insert(r.mdtrt_id.to_string());
        }
    }
    let got: BTreeSet<String> = out.findings.iter().map(|f| f.mdtrt_id.clone()).collect();
    assert!(want.len() > 50, "{}", want.len());
    assert_eq!(got, want);
    // GB29 and RC19 have no 2024 Harbin weight: counted, not dropped.
    assert!(no_weight > 0);
    assert_eq!(
        out.unjudged.iter().find(|u| u.reason == "the case's DRG has no weight").map(|u| u.count),
        Some(no_weight)
    );
    assert!(out.findings.iter().all(|f| f.kp_id.as_deref().is_some_and(|k| k.starts_with("HRB2024-"))));
}
