//! The `expr` template: expressions equivalent to built-in templates give the same findings on
//! generated claims; errors point at the position; nulls, empty batches and aggregates.

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow_schema::{Field, Schema};
use medaudit_core::synth::{self, Config};
use medaudit_core::{CheckOptions, CheckOutput, Claims, Engine, Error, Finding, RulePack};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

fn sample() -> Value {
    serde_json::from_str(medaudit_core::pack::SAMPLE_PACK_JSON).unwrap()
}

/// The sample pack with rule `id` replaced by an `expr` rule with the same id, name, knowledge,
/// severity, stages and scenes.
fn with_expr(id: &str, expr: &str, amount: Option<&str>) -> RulePack {
    let mut p = sample();
    let rules = p["rules"].as_array_mut().unwrap();
    let r = rules.iter_mut().find(|r| r["id"] == id).unwrap();
    let obj = r.as_object_mut().unwrap();
    obj.insert("template".into(), json!("expr"));
    let mut params = json!({ "expr": expr });
    if let Some(a) = amount {
        params["amount"] = json!(a);
    }
    obj.insert("params".into(), params);
    obj.remove("message");
    RulePack::from_json(&p.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

fn run(pack: RulePack, claims: &Claims, id: &str) -> CheckOutput {
    let opts = CheckOptions { rule_ids: Some(vec![id.to_string()]), ..Default::default() };
    Engine::new(pack).unwrap().check(claims, &opts).unwrap_or_else(|e| panic!("{e}"))
}

/// Every field but the template name and the rendered message (a built-in renders its own).
fn comparable(f: &Finding) -> Finding {
    Finding { template: String::new(), message: String::new(), ..f.clone() }
}

fn data(dictionary: bool, batch_rows: usize) -> synth::Synth {
    synth::generate(&Config {
        encounters: 4000,
        seed: 11,
        violation_rate: 0.4,
        dictionary,
        batch_rows,
        ..Default::default()
    })
}

fn assert_same(id: &str, expr: &str, amount: Option<&str>) {
    for (dict, rows) in [(false, 0), (true, 997)] {
        let s = data(dict, rows);
        let builtin = run(RulePack::sample().unwrap(), &s.claims, id);
        let ours = run(with_expr(id, expr, amount), &s.claims, id);
        assert!(!builtin.findings.is_empty(), "{id}: the generated data has violations");
        let a: Vec<Finding> = builtin.findings.iter().map(comparable).collect();
        let b: Vec<Finding> = ours.findings.iter().map(comparable).collect();
        assert_eq!(a, b, "{id} (dictionary {dict}, batch_rows {rows})");
        assert!(ours.findings.iter().all(|f| f.template == "expr"));
        let count = |o: &CheckOutput| o.unjudged.iter().map(|u| u.count).sum::<u64>();
        assert_eq!(count(&builtin), count(&ours), "{id}: unjudged");
    }
}

#[test]
fn sex_as_an_expression() {
    assert_same("sex", "mdtrt.gend != kp.sex", None);
}

#[test]
fn insutype_as_an_expression() {
    assert_same("insutype", "mdtrt.insutype != kp.insutype", None);
}

#[test]
fn age_as_an_expression() {
    let years = "coalesce(years_between(mdtrt.brdy, line.fee_ocur_time), floor(mdtrt.age))";
    let e = format!(
        "(kp.min_age is not null and {years} < kp.min_age) or (kp.max_age is not null and {years} > kp.max_age) \
         or (kp.max_age_days is not null and days_between(mdtrt.brdy, line.fee_ocur_time) > kp.max_age_days)"
    );
    assert_same("age", &e, None);
}

const CAP: &str = r#"if(mdtrt.hosp_lv in ["01", "02", "03", "04"], kp.max_price_l3,
   if(mdtrt.hosp_lv in ["05", "06", "07"], kp.max_price_l2, kp.max_price_l1))"#;

#[test]
fn price_cap_as_an_expression() {
    let e = format!("line.pric > {CAP} + 0.005");
    let amount = format!("(line.pric - {CAP}) * line.cnt");
    assert_same("price_cap", &e, Some(&amount));
}

#[test]
fn diag_required_as_an_expression() {
    // Both indication rows of the sample use the 放化疗 set.
    let e = r#"not any(diagnoses, code ~ "^(?:Z51\.[01]|C[0-8]|C9[0-7])")"#;
    assert_same("indication", e, None);
    let e = r#"any(diagnoses, code ~ "^(?:N18\.[45]|N17)")"#;
    assert_same("contraindication", e, None);
}

#[test]
fn dept_as_an_expression_with_a_pattern() {
    // dept_items allows A12 or A04 by prefix.
    assert_same("dept", r#"not (line.bilg_dept_codg ~ "^(A12|A04)")"#, None);
}

/// A pack of one rule over no knowledge.
fn pack_of(rules: Value) -> std::result::Result<RulePack, Error> {
    RulePack::from_json(&json!({"format": "medaudit-pack/1", "id": "p", "rules": rules}).to_string())
}

fn rule(id: &str, expr: &str) -> Value {
    json!({"id": id, "name": "自定义", "template": "expr", "severity": "可疑", "params": {"expr": expr}})
}

#[test]
fn encounter_rule_with_an_aggregate_matches_a_direct_computation() {
    let s = data(false, 0);
    let expr =
        r#"sum(lines where med_chrgitm_type == "09", det_item_fee_sumamt) > 150 and mdtrt.med_type in ["11", "13"]"#;
    let out = run(pack_of(json!([rule("drugs", expr)])).unwrap(), &s.claims, "drugs");
    // The same by hand.
    let m = &s.claims.mdtrt[0];
    let ids = m.column_by_name("mdtrt_id").unwrap().as_string::<i32>();
    let med = m.column_by_name("med_type").unwrap().as_string::<i32>();
    let mut sums: BTreeMap<String, f64> = BTreeMap::new();
    for b in &s.claims.fee_details {
        let enc = b.column_by_name("mdtrt_id").unwrap().as_string::<i32>();
        let ty = b.column_by_name("med_chrgitm_type").unwrap().as_string::<i32>();
        let amt = b.column_by_name("det_item_fee_sumamt").unwrap().as_primitive::<Float64Type>();
        for r in 0..b.num_rows() {
            let e = sums.entry(enc.value(r).to_string()).or_default();
            if ty.value(r) == "09" {
                *e += amt.value(r);
            }
        }
    }
    let want: Vec<String> = (0..m.num_rows())
        .filter(|&r| ["11", "13"].contains(&med.value(r)) && sums.get(ids.value(r)).is_some_and(|x| *x > 150.0))
        .map(|r| ids.value(r).to_string())
        .collect();
    let got: Vec<String> = out.findings.iter().map(|f| f.mdtrt_id.clone()).collect();
    assert!(want.len() > 10, "the data has such encounters: {}", want.len());
    assert_eq!(got, want);
    assert!(out.findings.iter().all(|f| f.feedetl_sn.is_none() && f.amount.is_none()));
    // Same on several threads and dictionary-encoded batches.
    let s2 = data(true, 1000);
    let engine = Engine::new(pack_of(json!([rule("drugs", expr)])).unwrap()).unwrap();
    let one = engine.check(&s2.claims, &CheckOptions::default()).unwrap();
    let many = engine.check(&s2.claims, &CheckOptions { threads: 2, ..Default::default() }).unwrap();
    assert_eq!(one, many);
    assert_eq!(one.findings.iter().map(|f| f.mdtrt_id.clone()).collect::<Vec<_>>(), want);
}

#[test]
fn count_min_max_avg_and_all() {
    let s = data(false, 0);
    let cases = [
        ("count(lines) >= 12", "count"),
        ("max(lines, pric) >= 190", "max"),
        ("min(lines, pric) > 30", "min"),
        ("avg(lines, det_item_fee_sumamt) > 200", "avg"),
        (r#"all(diagnoses, maindiag_flag == "1") and count(diagnoses) == 1"#, "all"),
    ];
    // Per encounter by hand: line count, max/min price, mean amount, diagnosis count.
    let mut lines: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for b in &s.claims.fee_details {
        let enc = b.column_by_name("mdtrt_id").unwrap().as_string::<i32>();
        let p = b.column_by_name("pric").unwrap().as_primitive::<Float64Type>();
        let a = b.column_by_name("det_item_fee_sumamt").unwrap().as_primitive::<Float64Type>();
        for r in 0..b.num_rows() {
            lines.entry(enc.value(r).to_string()).or_default().push((p.value(r), a.value(r)));
        }
    }
    let d = &s.claims.diagnoses[0];
    let denc = d.column_by_name("mdtrt_id").unwrap().as_string::<i32>();
    let mut ndiag: BTreeMap<String, usize> = BTreeMap::new();
    for r in 0..d.num_rows() {
        *ndiag.entry(denc.value(r).to_string()).or_default() += 1;
    }
    for (expr, what) in cases {
        let out = run(pack_of(json!([rule("r", expr)])).unwrap(), &s.claims, "r");
        let want: Vec<String> = lines
            .iter()
            .filter(|(id, v)| {
                let n = v.len() as f64;
                match what {
                    "count" => n >= 12.0,
                    "max" => v.iter().map(|x| x.0).fold(f64::MIN, f64::max) >= 190.0,
                    "min" => v.iter().map(|x| x.0).fold(f64::MAX, f64::min) > 30.0,
                    "avg" => v.iter().map(|x| x.1).sum::<f64>() / n > 200.0,
                    // The generator marks the first diagnosis main: all main ⇔ exactly one.
                    _ => ndiag.get(*id) == Some(&1),
                }
            })
            .map(|(id, _)| id.clone())
            .collect();
        let got: Vec<String> = out.findings.iter().map(|f| f.mdtrt_id.clone()).collect();
        assert!(!want.is_empty(), "{expr}");
        assert_eq!(got, want, "{expr}");
    }
}

#[test]
fn the_issue_examples_run() {
    let s = data(false, 0);
    let ex1 = r#"line.list_type == "101" and line.cnt > 2 and mdtrt.med_type in ["11", "13"]"#;
    let out = run(pack_of(json!([rule("ex1", ex1)])).unwrap(), &s.claims, "ex1");
    assert!(!out.findings.is_empty());
    for f in &out.findings {
        assert!(f.feedetl_sn.is_some() && f.amount.is_some());
    }
    let ex2 = r#"any(diagnoses, code ~ "^C(0[0-9]|[1-8][0-9]|9[0-7])")"#;
    let out = run(pack_of(json!([rule("ex2", ex2)])).unwrap(), &s.claims, "ex2");
    assert!(out.findings.iter().all(|f| f.feedetl_sn.is_none()));
    // The generator writes no cancer diagnoses; the pattern must find none.
    assert!(out.findings.is_empty());
}

fn fee_batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let schema = Schema::new(cols.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect::<Vec<_>>());
    RecordBatch::try_new(Arc::new(schema), cols.into_iter().map(|(_, a)| a).collect()).unwrap()
}

fn strs(v: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

fn small_claims(prd: Vec<Option<f64>>, list: &[Option<&str>]) -> Claims {
    let n = prd.len();
    let sn: Vec<String> = (0..n).map(|i| format!("L{i}")).collect();
    let fee = fee_batch(vec![
        ("feedetl_sn", strs(&sn.iter().map(|s| Some(s.as_str())).collect::<Vec<_>>())),
        ("mdtrt_id", strs(&vec![Some("M1"); n])),
        ("hilist_code", strs(&vec![Some("X1"); n])),
        ("list_type", strs(list)),
        ("prd_days", Arc::new(Float64Array::from(prd))),
        ("det_item_fee_sumamt", Arc::new(Float64Array::from(vec![10.0; n]))),
    ]);
    let mdtrt = fee_batch(vec![("mdtrt_id", strs(&[Some("M1")])), ("med_type", strs(&[Some("11")]))]);
    Claims { mdtrt: vec![mdtrt], fee_details: vec![fee], ..Default::default() }
}

#[test]
fn nulls_that_decide_nothing_are_unjudged() {
    let claims = small_claims(
        vec![Some(10.0), None, None, Some(3.0), Some(9.0)],
        &[Some("101"), Some("101"), Some("201"), Some("101"), None],
    );
    let e = r#"line.list_type == "101" and line.prd_days > 7"#;
    let out = run(pack_of(json!([rule("r", e)])).unwrap(), &claims, "r");
    // L0 fires; L1 (null days, list 101) and L4 (null list, days 9) are undecided; L2 is false
    // whatever its days; L3 is false.
    assert_eq!(out.findings.iter().map(|f| f.feedetl_sn.clone().unwrap()).collect::<Vec<_>>(), vec!["L0"]);
    assert_eq!(out.findings[0].amount, Some(10.0));
    assert_eq!(out.unjudged.len(), 1);
    assert_eq!(out.unjudged[0].count, 2);
    // `or` decided by one known side; `is null`.
    let e = r#"line.prd_days > 7 or line.list_type == "201""#;
    let out = run(pack_of(json!([rule("r", e)])).unwrap(), &claims, "r");
    assert_eq!(out.findings.iter().map(|f| f.feedetl_sn.clone().unwrap()).collect::<Vec<_>>(), vec!["L0", "L2", "L4"]);
    let out = run(pack_of(json!([rule("r", "line.prd_days is null")])).unwrap(), &claims, "r");
    assert_eq!(out.findings.len(), 2);
    assert!(out.unjudged.is_empty());
    // Division by zero is null, not infinity.
    let out = run(pack_of(json!([rule("r", "line.prd_days / 0 > 1")])).unwrap(), &claims, "r");
    assert!(out.findings.is_empty());
    assert_eq!(out.unjudged[0].count, 5);
}

#[test]
fn empty_batches_and_missing_columns() {
    let claims = small_claims(vec![], &[]);
    let out = run(pack_of(json!([rule("r", "line.prd_days > 7")])).unwrap(), &claims, "r");
    assert!(out.findings.is_empty() && out.unjudged.is_empty());
    let out = run(pack_of(json!([rule("r", "count(lines) > 0")])).unwrap(), &claims, "r");
    assert!(out.findings.is_empty());
    let none = Claims::default();
    let out = run(pack_of(json!([rule("r", "count(lines) > 0")])).unwrap(), &none, "r");
    assert!(out.findings.is_empty());
    // A column the expression reads must be there.
    let claims = small_claims(vec![Some(1.0)], &[Some("101")]);
    let e = Engine::new(pack_of(json!([rule("r", "line.cnt > 7")])).unwrap())
        .unwrap()
        .check(&claims, &CheckOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("column \"cnt\": missing; rule \"r\" (template expr) reads it"), "{e}");
    // No diagnoses table at all: diagnosis aggregates are unknown, not empty.
    let out = run(pack_of(json!([rule("r", r#"not any(diagnoses, code ~ "^C")"#)])).unwrap(), &claims, "r");
    assert!(out.findings.is_empty());
    assert_eq!(out.unjudged[0].count, 1);
}

fn load_err(expr: &str) -> String {
    pack_of(json!([rule("R7", expr)])).unwrap_err().to_string()
}

#[test]
fn errors_name_the_rule_and_point_at_the_position() {
    let e = load_err(r#"line.list_type == "101" and line.prd_dayz > 7"#);
    assert!(e.starts_with("rule pack: rule \"R7\": params.expr: 1:29: unknown column line.prd_dayz; fee_details columns are: feedetl_sn, mdtrt_id,"), "{e}");
    assert!(
        e.ends_with("\n  line.list_type == \"101\" and line.prd_dayz > 7\n                              ^^^^^^^^^^^^^"),
        "{e:?}"
    );
    let e = load_err("line.prd_days > 7d");
    assert!(e.contains("1:1: cannot apply \">\" to a number and a duration"), "{e}");
    let e = load_err("line.prd_days = 7");
    assert!(e.contains("1:15: unexpected character '='; compare with =="), "{e}");
    let e = load_err("mdtrt.medfee_sumamt +");
    assert!(e.contains("1:22: expected a value, found end of expression"), "{e}");
    let e = load_err("line.cnt");
    assert!(e.contains("a rule condition must be true or false, this is a number"), "{e}");
    let e = load_err("kp.sex == \"1\"");
    assert!(e.contains("kp.sex reads the rule's knowledge table, and this rule has none"), "{e}");
    let e = load_err("sum(lines where line.cnt > 1, cnt) > 1");
    assert!(e.contains("1:17: inside an aggregate"), "{e}");
    let e = load_err("patient.age > 1");
    assert!(e.contains("unknown prefix \"patient\""), "{e}");
    let e = load_err("any(diagnoses, code ~ \"(\")");
    assert!(e.contains("1:23: invalid pattern"), "{e}");
    let e = load_err("mdtrt.endtime - mdtrt.begntime > 30d and\n  frob(1)");
    assert!(e.contains("2:3: unknown function \"frob\""), "{e}");
    assert!(e.ends_with("\n    frob(1)\n    ^^^^^^^"), "{e:?}");
    // The amount expression is checked too, and named.
    let p = json!([{"id": "A", "name": "x", "template": "expr", "severity": "可疑",
        "params": {"expr": "line.cnt > 1", "amount": "line.hilist_code"}}]);
    let e = pack_of(p).unwrap_err().to_string();
    assert!(e.contains("rule \"A\": params.amount: 1:1: an amount must be a number, this is a string"), "{e}");
    // kp columns: unknown ones list the table's columns.
    let mut p = sample();
    let r = p["rules"].as_array_mut().unwrap().iter_mut().find(|r| r["id"] == "sex").unwrap();
    r["template"] = json!("expr");
    r["params"] = json!({"expr": "mdtrt.gend != kp.sexx"});
    let e = RulePack::from_json(&p.to_string()).unwrap_err().to_string();
    assert!(e.contains("unknown column kp.sexx; knowledge table \"sex_items\" has: "), "{e}");
}

#[test]
fn amounts_and_dates() {
    let claims = small_claims(vec![Some(10.0), Some(8.0)], &[Some("101"), Some("101")]);
    let p = json!([{"id": "A", "name": "x", "template": "expr", "severity": "可疑",
        "params": {"expr": "line.prd_days > 7", "amount": "line.det_item_fee_sumamt * (line.prd_days - 7) / line.prd_days"}}]);
    let out = run(pack_of(p).unwrap(), &claims, "A");
    let amounts: Vec<Option<f64>> = out.findings.iter().map(|f| f.amount).collect();
    assert_eq!(amounts, vec![Some(3.0), Some(1.25)]);
    let s = data(false, 0);
    let e = r#"mdtrt.endtime - mdtrt.begntime > 10d and day(mdtrt.begntime) >= date("2026-03-01")"#;
    let out = run(pack_of(json!([rule("los", e)])).unwrap(), &s.claims, "los");
    let m = &s.claims.mdtrt[0];
    let b = m.column_by_name("begntime").unwrap().as_primitive::<arrow_array::types::TimestampSecondType>();
    let en = m.column_by_name("endtime").unwrap().as_primitive::<arrow_array::types::TimestampSecondType>();
    let want = (0..m.num_rows()).filter(|&r| en.value(r) - b.value(r) > 10 * 86_400).count();
    assert!(want > 0);
    assert_eq!(out.findings.len(), want);
    let _ = b.len();
}

#[test]
fn data_quality_rules_as_expressions() {
    let diff = "abs(line.det_item_fee_sumamt - line.cnt * line.pric)";
    assert_same("amount_mismatch", &format!("{diff} > 0.01 + 0.000000001"), Some(diff));
    assert_same("fee_outside_stay", "line.fee_ocur_time < mdtrt.begntime or line.fee_ocur_time > mdtrt.endtime", None);
    // A null die_date means the patient is alive: say so, or every line would be undecided.
    assert_same("fee_after_death", "mdtrt.die_date is not null and day(line.fee_ocur_time) > mdtrt.die_date", None);
}

#[test]
fn knowledge_rule_with_a_diagnosis_aggregate_on_an_encounter_without_mdtrt_or_diagnoses() {
    // M9 is in no mdtrt row and has no diagnoses: count 0, any false, so the rule fires.
    let mut claims = small_claims(vec![Some(1.0)], &[Some("101")]);
    let f = fee_batch(vec![
        ("feedetl_sn", strs(&[Some("L9")])),
        ("mdtrt_id", strs(&[Some("M9")])),
        ("hilist_code", strs(&[Some("X1")])),
        ("det_item_fee_sumamt", Arc::new(Float64Array::from(vec![5.0]))),
    ]);
    claims.fee_details = vec![f];
    claims.diagnoses = vec![fee_batch(vec![("mdtrt_id", strs(&[Some("M1")])), ("diag_code", strs(&[Some("C61")]))])];
    let p = json!({"format": "medaudit-pack/1", "id": "p",
        "knowledge": {"k": {"rows": [{"code": "X1", "kp_id": "K1"}]}},
        "rules": [{"id": "R", "name": "x", "template": "expr", "knowledge": "k", "severity": "可疑",
            "params": {"expr": "count(diagnoses) == 0 and not any(diagnoses, code ~ \"^C\")"}}]});
    let out = run(RulePack::from_json(&p.to_string()).unwrap(), &claims, "R");
    assert_eq!(out.findings.len(), 1, "{out:?}");
    assert_eq!(out.findings[0].mdtrt_id, "M9");
    assert_eq!(out.findings[0].kp_id.as_deref(), Some("K1"));
}

#[test]
fn code_sets_of_the_pack_in_expressions() {
    assert_same("indication", r#"not any(diagnoses, in_set(code, "放化疗"))"#, None);
    assert_same("contraindication", r#"any(diagnoses, in_set(code, "严重肾功能不全"))"#, None);
    let mut p = sample();
    let r = p["rules"].as_array_mut().unwrap().iter_mut().find(|r| r["id"] == "indication").unwrap();
    r["template"] = json!("expr");
    r["params"] = json!({"expr": "any(diagnoses, in_set(code, \"化疗\"))"});
    let e = RulePack::from_json(&p.to_string()).unwrap_err().to_string();
    assert!(e.contains("params.expr: 1:29: unknown code set \"化疗\"; the pack's code_sets are: 严重肾功能不全, 放化疗, 绝经后骨质疏松"), "{e}");
    let e = load_err("in_set(line.hilist_code, \"x\")");
    assert!(e.contains("unknown code set \"x\"; the pack's code_sets are: (none)"), "{e}");
}
