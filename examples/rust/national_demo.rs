//! The national pack demo: imports the published 两库 knowledge points (a records file such as
//! `../shared/data/nhsa-liangku-2025/all_records.json`), prints the coverage report and the time
//! to import and build the engine, then checks generated claims whose codes are drawn from the
//! national points and prints findings by rule and what could not be judged.
//!
//! Run: `cargo run --release -p medaudit-core --example national_demo -- <records.json> [--encounters 100000 --seed 1]`

use medaudit_core::national::{self, ImportOptions};
use medaudit_core::synth::{self, Config};
use medaudit_core::{CheckOptions, Engine};
use std::collections::BTreeMap;
use std::time::Instant;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(path) = std::env::args().nth(1).filter(|a| !a.starts_with("--")) else {
        eprintln!("usage: national_demo <records.json> [--encounters N] [--seed S]");
        std::process::exit(2);
    };
    let encounters = arg("--encounters", 100_000) as usize;
    let seed = arg("--seed", 1);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;

    // The sample internet med_type; regions differ.
    let opts = ImportOptions { internet_med_types: vec!["9901".into()], ..Default::default() };
    let t = Instant::now();
    let imported = national::import(&text, &opts)?;
    let t_import = t.elapsed();
    let t2 = Instant::now();
    let engine = Engine::new(imported.pack.clone())?;
    let t_build = t2.elapsed();
    println!("{}", imported.coverage.to_text());
    println!(
        "imported {} points into {} rules in {:.1?}, built the engine in {:.1?}: {:.1?} in all\n",
        imported.coverage.total,
        engine.pack().rules.len(),
        t_import,
        t_build,
        t_import + t_build
    );

    let cfg = Config { encounters, seed, start: (2026, 6, 1), days: 30, ..Default::default() };
    let t = Instant::now();
    let claims = synth::generate_national(&imported.pack, &cfg);
    let lines: usize = claims.fee_details.iter().map(|b| b.num_rows()).sum();
    println!(
        "generated {encounters} encounters, {lines} fee lines drawn from the national points in {:.2?}",
        t.elapsed()
    );
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let t = Instant::now();
    let out = engine.check(&claims, &CheckOptions { threads, ..Default::default() })?;
    let took = t.elapsed();
    println!(
        "checked in {took:.2?} ({:.1} million lines/s on {threads} thread(s)): {} findings, {:.2} yuan at risk\n",
        lines as f64 / took.as_secs_f64() / 1e6,
        out.findings.len(),
        out.total_amount()
    );
    let mut by_rule: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    for f in &out.findings {
        let e = by_rule.entry(format!("{} [{}]", f.rule_name, f.severity)).or_default();
        e.0 += 1;
        e.1 += f.amount.unwrap_or(0.0);
    }
    println!("{:<40} {:>9} {:>14}", "findings by rule", "count", "amount (元)");
    for (name, (n, amt)) in &by_rule {
        println!("{name:<40} {n:>9} {amt:>14.2}");
    }
    println!("\nnot judged:");
    for u in &out.unjudged {
        println!("  {:<20} {:>9}  {}", u.rule_id, u.count, u.reason);
    }
    if let Some(f) = out.findings.first() {
        println!(
            "\nfirst finding: {} {} 行{}: {} (知识点 {}, 依据 {})",
            f.rule_name,
            f.mdtrt_id,
            f.feedetl_sn.as_deref().unwrap_or("-"),
            f.message,
            f.kp_id.as_deref().unwrap_or("-"),
            f.basis.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}
