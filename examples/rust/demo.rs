//! The medaudit demo: a month of generated claims for a city, checked with the bundled sample rule
//! pack; prints findings by rule and by facility, with amounts at risk and the time taken.
//!
//! Run: `cargo run --release -p medaudit-core --example demo [-- --encounters 1000000 --seed 1]`

use medaudit_core::synth::{self, Config};
use medaudit_core::{CheckOptions, Engine, RulePack};
use std::collections::BTreeMap;
use std::time::Instant;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() -> Result<(), medaudit_core::Error> {
    let encounters = arg("--encounters", 1_000_000) as usize;
    let seed = arg("--seed", 1);

    let t = Instant::now();
    let data = synth::generate(&Config { encounters, seed, violation_rate: 0.02, ..Default::default() });
    println!("generated {} encounters, {} fee lines for one city-month in {:.2?}", encounters, data.lines, t.elapsed());

    let t = Instant::now();
    let pack = RulePack::sample()?;
    let engine = Engine::new(pack)?;
    println!("compiled the sample pack ({} rules) in {:.2?}", engine.pack().rules.len(), t.elapsed());

    // The engine starts no threads of its own; the caller may ask for some.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let t = Instant::now();
    let out = engine.check(&data.claims, &CheckOptions { threads, ..Default::default() })?;
    let took = t.elapsed();
    println!(
        "checked {} lines in {:.2?} ({:.1} million lines/s on {threads} thread(s)): {} findings, {:.2} yuan at risk\n",
        data.lines,
        took,
        data.lines as f64 / took.as_secs_f64() / 1e6,
        out.findings.len(),
        out.total_amount()
    );

    let mut by_rule: BTreeMap<(usize, String), (usize, f64)> = BTreeMap::new();
    let mut by_fac: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    for f in &out.findings {
        let pos = engine.pack().rules.iter().position(|r| r.id == f.rule_id).unwrap_or(usize::MAX);
        let e = by_rule.entry((pos, format!("{} {}", f.rule_id, f.rule_name))).or_default();
        e.0 += 1;
        e.1 += f.amount.unwrap_or(0.0);
        let e = by_fac.entry(f.fixmedins_code.clone().unwrap_or_else(|| "(unknown)".into())).or_default();
        e.0 += 1;
        e.1 += f.amount.unwrap_or(0.0);
    }
    println!("{:<58} {:>9} {:>14}", "findings by rule", "count", "amount (元)");
    for ((_, name), (n, amt)) in &by_rule {
        println!("{name:<58} {n:>9} {amt:>14.2}");
    }
    let mut facs: Vec<_> = by_fac.into_iter().collect();
    facs.sort_by(|a, b| b.1 .1.total_cmp(&a.1 .1).then(a.0.cmp(&b.0)));
    println!("\n{:<20} {:>9} {:>14}   (top 10 facilities by amount at risk)", "facility", "count", "amount (元)");
    for (fac, (n, amt)) in facs.iter().take(10) {
        println!("{fac:<20} {n:>9} {amt:>14.2}");
    }
    if let Some(f) = out.findings.first() {
        println!(
            "\nfirst finding: [{}] {} {} 行{}: {}",
            f.severity,
            f.rule_name,
            f.mdtrt_id,
            f.feedetl_sn.as_deref().unwrap_or("-"),
            f.message
        );
    }
    let found: std::collections::BTreeSet<_> =
        out.findings.iter().map(|f| (f.rule_id.clone(), f.mdtrt_id.clone(), f.feedetl_sn.clone())).collect();
    let truth: std::collections::BTreeSet<_> =
        data.truth.iter().map(|t| (t.rule_id.clone(), t.mdtrt_id.clone(), t.feedetl_sn.clone())).collect();
    println!(
        "\nagainst the generator's ground truth: {} injected, {} found, recall {:.1}%, precision {:.1}%",
        truth.len(),
        found.len(),
        100.0 * truth.intersection(&found).count() as f64 / truth.len().max(1) as f64,
        100.0 * truth.intersection(&found).count() as f64 / found.len().max(1) as f64
    );
    Ok(())
}
