//! Benchmark: `expr` rules against the built-in templates they are equivalent to, on the same
//! generated fee lines (about 10 million by default), one thread, release build.
//!
//! ```text
//! cargo run --release -p medaudit-core --example expr_bench            # ~10M lines
//! cargo run --release -p medaudit-core --example expr_bench -- 200000  # encounters
//! cargo run --release -p medaudit-core --example expr_bench -- 200000 indicators  # indicators only
//! ```
//!
//! For each pair it checks that both give the same findings (all fields but template and message),
//! then reports the best of three `Engine::check` runs with only that rule selected. A measurement,
//! not a test: nothing here asserts a time.

use medaudit_core::synth::{self, Config};
use medaudit_core::{CheckOptions, Claims, Engine, Finding, RulePack};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn pack_with(id: &str, expr: &str, amount: Option<&str>) -> RulePack {
    let mut p: Value = serde_json::from_str(medaudit_core::pack::SAMPLE_PACK_JSON).expect("sample pack JSON");
    if let Some(rules) = p["rules"].as_array_mut() {
        for r in rules.iter_mut().filter(|r| r["id"] == id) {
            r["template"] = json!("expr");
            r["params"] = json!({ "expr": expr });
            if let Some(a) = amount {
                r["params"]["amount"] = json!(a);
            }
            if let Some(o) = r.as_object_mut() {
                o.remove("message");
            }
        }
    }
    RulePack::from_json(&p.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

fn best(engine: &Engine, claims: &Claims, id: &str) -> (Duration, Vec<Finding>) {
    let opts = CheckOptions { rule_ids: Some(vec![id.to_string()]), ..Default::default() };
    let mut best = Duration::MAX;
    let mut out = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let o = engine.check(claims, &opts).unwrap_or_else(|e| panic!("{e}"));
        best = best.min(t.elapsed());
        out = o.findings;
    }
    (best, out)
}

fn strip(f: &[Finding]) -> Vec<Finding> {
    f.iter().map(|f| Finding { template: String::new(), message: String::new(), ..f.clone() }).collect()
}

fn main() {
    let encounters: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_300_000);
    let t = Instant::now();
    let data = synth::generate(&Config { encounters, seed: 20_260_301, ..Default::default() });
    println!("generated {} encounters, {} fee lines in {:.1?}", encounters, data.lines, t.elapsed());
    if std::env::args().nth(2).as_deref() == Some("indicators") {
        return indicators(&data.claims);
    }
    let cap = r#"if(mdtrt.hosp_lv in ["01", "02", "03", "04"], kp.max_price_l3, if(mdtrt.hosp_lv in ["05", "06", "07"], kp.max_price_l2, kp.max_price_l1))"#;
    let diff = "abs(line.det_item_fee_sumamt - line.cnt * line.pric)";
    let cases: Vec<(&str, String, Option<String>)> = vec![
        ("sex", "mdtrt.gend != kp.sex".into(), None),
        ("price_cap", format!("line.pric > {cap} + 0.005"), Some(format!("(line.pric - {cap}) * line.cnt"))),
        ("indication", r#"not any(diagnoses, code ~ "^(?:Z51\.[01]|C[0-8]|C9[0-7])")"#.into(), None),
        ("amount_mismatch", format!("{diff} > 0.01 + 0.000000001"), Some(diff.into())),
        ("fee_outside_stay", "line.fee_ocur_time < mdtrt.begntime or line.fee_ocur_time > mdtrt.endtime".into(), None),
    ];
    let builtin = Engine::new(RulePack::sample().expect("sample pack")).expect("sample pack compiles");
    println!("{:<18} {:>12} {:>12} {:>8} {:>9}", "rule", "built-in", "expr", "ratio", "findings");
    for (id, expr, amount) in &cases {
        let engine = Engine::new(pack_with(id, expr, amount.as_deref())).expect("expr pack compiles");
        let (tb, fb) = best(&builtin, &data.claims, id);
        let (te, fe) = best(&engine, &data.claims, id);
        assert_eq!(strip(&fb), strip(&fe), "{id}: the expression gives other findings");
        println!(
            "{:<18} {:>10.1}ms {:>10.1}ms {:>7.2}× {:>9}",
            id,
            tb.as_secs_f64() * 1e3,
            te.as_secs_f64() * 1e3,
            te.as_secs_f64() / tb.as_secs_f64(),
            fb.len()
        );
    }
    // An encounter rule with an aggregate, no built-in equivalent: its time alone.
    let agg =
        r#"sum(lines where med_chrgitm_type == "09", det_item_fee_sumamt) > 150 and mdtrt.med_type in ["11", "13"]"#;
    let p = json!({"format": "medaudit-pack/1", "id": "p", "rules": [
        {"id": "agg", "name": "门诊药费", "template": "expr", "severity": "可疑", "params": {"expr": agg}}]});
    let engine = Engine::new(RulePack::from_json(&p.to_string()).expect("pack")).expect("compiles");
    let (ta, fa) = best(&engine, &data.claims, "agg");
    println!("{:<18} {:>12} {:>10.1}ms {:>8} {:>9}", "encounter sum", "-", ta.as_secs_f64() * 1e3, "-", fa.len());
    latency(&builtin, &data.claims);
    indicators(&data.claims);
}

/// Provider indicators over the same claims.
fn indicators(claims: &Claims) {
    for dims in [vec![], vec!["month".to_string()], vec!["bilg_dept_codg".to_string()]] {
        let cfg = medaudit_core::indicators::IndicatorConfig { dimensions: dims.clone(), ..Default::default() };
        let t = Instant::now();
        let table = medaudit_core::indicators::compute(claims, &cfg).unwrap_or_else(|e| panic!("{e}"));
        println!("indicators by facility {dims:?}: {} groups in {:.1?}", table.num_rows(), t.elapsed());
    }
}

/// Per-call cost of the sample pack's expr rule on a one-encounter check (事后, all rules): the
/// whole sample pack against the same pack without its expr rule.
fn latency(engine: &Engine, claims: &Claims) {
    use arrow_array::cast::AsArray;
    let fee = &claims.fee_details[0];
    let ids = fee.column_by_name("mdtrt_id").and_then(|c| c.as_string_opt::<i32>().cloned());
    let Some(ids) = ids else { return };
    let n = (0..fee.num_rows()).take_while(|&i| ids.value(i) == ids.value(0)).count();
    let one = Claims {
        mdtrt: vec![claims.mdtrt[0].slice(0, 1)],
        diagnoses: vec![claims.diagnoses[0].slice(0, 1)],
        operations: vec![claims.operations[0].slice(0, 0)],
        fee_details: vec![fee.slice(0, n)],
        column_map: Default::default(),
    };
    let without: Vec<String> =
        engine.pack().rules.iter().filter(|r| r.template.name != "expr").map(|r| r.id.clone()).collect();
    for (label, ids) in [("whole sample pack", None), ("without its expr rule", Some(without))] {
        let opts = CheckOptions { rule_ids: ids, ..Default::default() };
        let mut times: Vec<Duration> = (0..3000)
            .map(|_| {
                let t = Instant::now();
                let _ = engine.check(&one, &opts);
                t.elapsed()
            })
            .collect();
        times.sort();
        println!("one encounter ({n} lines), {label}: p50 {:.1?} p99 {:.1?}", times[1500], times[2970]);
    }
}
