//! DIP catalogues: loading (errors by JSON path), matching core and comprehensive groups with
//! adjustments, and the dip_cost_ratio template through the engine on generated stays.

use medaudit_core::dip::{DipCase, DipCatalogue, Treatment};
use medaudit_core::synth::drg::{generate, DrgConfig};
use medaudit_core::{CheckOptions, Engine, RulePack};
use std::collections::BTreeSet;
use std::sync::Arc;

use medaudit_core::synth::drg::DIP_SAMPLE_CATALOGUE_JSON as CATALOGUE;

fn cat() -> DipCatalogue {
    DipCatalogue::from_json(CATALOGUE).unwrap()
}

fn case<'c>(p: &'c str, sec: &[&'c str], procs: &[&'c str]) -> DipCase<'c> {
    DipCase {
        principal: p,
        secondary: sec.to_vec(),
        procedures: procs.to_vec(),
        age_years: Some(50),
        los_days: Some(7),
    }
}

#[test]
fn core_groups_by_subcategory_and_operation_combination() {
    let c = cat();
    let m = |x: &DipCase| c.match_case(x).map(|m| (m.group.to_string(), m.core, m.adjusted_score()));
    assert_eq!(m(&case("C18.001", &[], &["45.7300x007"])), Some(("C18.0-45.73".into(), true, 2600.0)));
    // The combination with most operations wins.
    assert_eq!(m(&case("C18.001", &[], &["54.5900", "45.7300x007"])), Some(("C18.0-45.73+54.59".into(), true, 2900.0)));
    // No operation: the conservative core group. An untyped procedure (e.g. 87.x imaging) does not count.
    assert_eq!(m(&case("C18.001", &[], &[])), Some(("C18.0-保守".into(), true, 950.0)));
    assert_eq!(m(&case("C18.001", &[], &["87.4100"])), Some(("C18.0-保守".into(), true, 950.0)));
    // A typed operation no core group of C18.0 describes: the comprehensive group by treatment type.
    assert_eq!(m(&case("C18.001", &[], &["45.9100"])), Some(("C18-手术".into(), false, 2000.0)));
    assert_eq!(m(&case("C18.001", &[], &["99.2500"])), Some(("C18-操作".into(), false, 1200.0)));
    // Surgery outranks a procedure, even next to a matching core operation.
    assert_eq!(m(&case("C18.001", &[], &["45.7300x007", "51.2300"])), Some(("C18-手术".into(), false, 2000.0)));
    // Another C18 subcategory has no core group: comprehensive, conservative.
    let g = c.match_case(&case("C18.200", &[], &[])).unwrap();
    assert_eq!((g.group, g.treatment), ("C18-保守", Some(Treatment::Conservative)));
    // A chapter-level comprehensive group catches other respiratory diagnoses.
    assert_eq!(m(&case("J20.900", &[], &[])).map(|x| x.0), Some("J-保守".into()));
    // Nothing for an unrelated diagnosis.
    assert_eq!(m(&case("S72.000", &[], &[])), None);
}

#[test]
fn adjustments_multiply_the_score() {
    let c = cat();
    let g = c.match_case(&case("J18.900", &["J96.900x001"], &[])).unwrap();
    assert_eq!((g.group, g.factor, g.adjustments.clone()), ("J18.9-保守", 1.5, vec!["severe_respiratory"]));
    assert_eq!(g.adjusted_score(), 1050.0);
    let old = DipCase { age_years: Some(85), los_days: Some(31), ..case("J18.900", &["J96.000"], &[]) };
    let g = c.match_case(&old).unwrap();
    assert_eq!(g.adjustments, vec!["severe_respiratory", "age_80_plus", "long_stay_elderly"]);
    assert!((g.factor - 1.5 * 1.1 * 1.2).abs() < 1e-12);
    // Unknown age: no age adjustment.
    let g = c.match_case(&DipCase { age_years: None, ..case("J18.900", &[], &[]) }).unwrap();
    assert_eq!(g.factor, 1.0);
}

#[test]
fn catalogue_errors_name_the_json_path() {
    let bad = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value = serde_json::from_str(CATALOGUE).unwrap();
        edit(&mut v);
        DipCatalogue::from_json(&v.to_string()).err().map(|e| e.to_string()).unwrap_or_default()
    };
    assert_eq!(
        bad(&|v| v["core"][2]["score"] = (-3).into()),
        "DRG/DIP scheme: dip catalogue at $.core[2].score: missing or not a positive number"
    );
    assert_eq!(bad(&|v| v["comprehensive"][0]["treatment"] = "drugs".into()), "DRG/DIP scheme: dip catalogue at $.comprehensive[0].treatment: expected surgery, procedure or conservative, found \"drugs\"");
    assert_eq!(bad(&|v| v["adjustments"][1]["when"] = serde_json::json!({"icu_hours": 1})), "DRG/DIP scheme: dip catalogue at $.adjustments[1].when.icu_hours: unknown condition; expected age_ge, age_le, los_ge, los_le or secondary_dx_prefix");
    assert_eq!(
        bad(&|v| v["core"][1]["id"] = "J18.9-保守".into()),
        "DRG/DIP scheme: dip catalogue at $.core: duplicate group id \"J18.9-保守\""
    );
    assert_eq!(
        bad(&|v| v["format"] = "dip/0".into()),
        "DRG/DIP scheme: dip catalogue at $.format: unsupported format \"dip/0\"; expected \"dip-catalogue/1\""
    );
    assert_eq!(
        bad(&|v| v["operation_types"]["conservative"] = serde_json::json!(["1"])),
        "DRG/DIP scheme: dip catalogue at $.operation_types.conservative: expected surgery or procedure"
    );
    assert!(DipCatalogue::from_json("[").err().unwrap().to_string().contains("invalid JSON"));
}

const PACK: &str = r#"{"format": "medaudit-pack/1", "id": "dip", "name": "DIP", "version": "1",
  "rules": [{"id": "DIP-COST", "name": "DIP高倍率/低倍率病例", "template": "dip_cost_ratio",
             "params": {"catalogue": "dip-sample", "point_value": 10, "low_ratio": 0.45, "exclude_los_below": 2},
             "severity": "可疑", "warn_level": 3, "stages": ["事后"], "scenes": ["住院"]}]}"#;

#[test]
fn dip_cost_ratio_has_full_recall_and_precision_on_generated_outliers() {
    let data = generate(&DrgConfig { encounters: 2500, seed: 21, violation_rate: 0.3 });
    let engine = Engine::builder(RulePack::from_json(PACK).unwrap()).dip_catalogue(Arc::new(cat())).build().unwrap();
    let out = engine.check(&data.claims, &CheckOptions::default()).unwrap();
    assert!(out.unjudged.is_empty(), "{:?}", out.unjudged);
    let got: BTreeSet<&str> = out.findings.iter().map(|f| f.mdtrt_id.as_str()).collect();
    let want: BTreeSet<&str> =
        data.marks.iter().filter(|m| m.1 == "outlier_high" || m.1 == "outlier_low").map(|m| m.0.as_str()).collect();
    assert!(want.len() > 100);
    assert_eq!(got, want);
    assert_eq!(got.len(), out.findings.len());
    let f = out.findings.iter().find(|f| f.message.contains("高于高倍率")).unwrap();
    assert!(f.message.starts_with("病例入"), "{}", f.message);
    assert!(f.amount.unwrap() > 0.0);
}

#[test]
fn a_pack_naming_a_catalogue_not_given_fails_to_build() {
    let e = Engine::new(RulePack::from_json(PACK).unwrap()).err().unwrap();
    assert_eq!(e.to_string(), "rule pack: rule \"DIP-COST\": params.catalogue: DIP catalogue \"dip-sample\" was not given to the engine (Engine::builder(pack).dip_catalogue(..)); given: none");
}
