//! bench_report: throughput and latency of medaudit on synthetic claims, as plain numbers.
//!
//! ```text
//! cargo run --release -p medaudit-core --example bench_report -- [--lines N] [--export DIR]
//!     [--seed S] [--reps R] [--checks C] [--pool P] [--no-per-rule] [--violation-rate P]
//!     [--profile whole|line|line-dict|latency|latency-bare|rule=ID] [--skip ID,…] [--table]
//! ```
//!
//! Generates about N fee lines (default 10 million) with `medaudit_core::synth`, choosing the
//! number of encounters from a small pilot run (the generator makes about 7.7 lines per
//! encounter), then measures, each as one call on one thread, both as `Engine::check` (findings as
//! records) and as `Engine::check_batch` (findings as the Arrow table, what the bindings return):
//!
//! * line-level templates only (sex, age, insutype, hosp_level, scene, dept, price_cap,
//!   not_payable), with a plain Utf8 code column and with dictionary-encoded code columns;
//! * the whole sample pack (plain and dictionary);
//! * the fixed cost of a call (no fee lines) and each rule alone, to see what dominates;
//! * the latency of C one-encounter checks (20 lines each, sliced zero-copy out of the data;
//!   whole pack, and line-level rules only): p50, p99, p99.9 in microseconds, and the same calls
//!   with parts of the input removed. The checks cycle over P distinct encounters (default C):
//!   with the default, a call's claims were last touched thousands of calls before, so their
//!   Arrow arrays and buffers come from memory, not cache; `--pool 10` measures calls on claims
//!   still in cache, closer to a HIS that checks the batches it has just built;
//! * peak RSS (VmHWM), for the whole process and for one whole-pack check.
//!
//! Throughput is lines per second of the calling thread's on-CPU time (so "per core", and not
//! inflated by other processes on a shared machine); wall time is printed beside it. Latency is
//! wall time per call.
//!
//! With `--export DIR` it also writes the same claims as CSV (`mdtrt.csv`, `diagnoses.csv`,
//! `operations.csv`, `fee_details.csv`; times as `YYYY-MM-DD HH:MM:SS`, dates as `YYYY-MM-DD`,
//! null as an empty field) and `medaudit_counts.json` (finding counts per rule, the ground truth's
//! counts, and the timings), so that `core/benches/duckdb_compare.py` can run SQL on identical data.
//! `--profile WHAT` runs one measurement alone `reps` times, for `perf record` (with `--table`,
//! through `Engine::check_batch`).

use arrow_array::builder::StringDictionaryBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int32Type, TimestampSecondType};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use medaudit_core::synth::{self, Config};
use medaudit_core::time::civil_from_days;
use medaudit_core::{CheckBatch, CheckOptions, CheckOutput, Claims, Engine, RulePack};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The line-level templates of the sample pack (one knowledge lookup, one encounter lookup).
const LINE_RULES: [&str; 8] = ["sex", "age", "insutype", "hosp_level", "scene", "dept", "price_cap", "not_payable"];
/// The columns `synth` dictionary-encodes when asked to.
const DICT_COLUMNS: [&str; 5] = ["hilist_code", "hilist_name", "list_type", "med_chrgitm_type", "bilg_dept_codg"];

struct Args {
    lines: usize,
    export: Option<PathBuf>,
    seed: u64,
    reps: usize,
    checks: usize,
    /// `--pool P`: distinct encounters the latency checks cycle over.
    pool: Option<usize>,
    /// `--skip ID,…`: with `--profile latency`, leave these rules out, to see what each adds.
    skip: Vec<String>,
    per_rule: bool,
    /// `--profile WHAT`: only run WHAT (`whole`, `line`, `line-dict`, `latency`, `latency-bare`, `rule=ID`) `reps` times, for
    /// a profiler (`perf record`), printing the time of each run.
    profile: Option<String>,
    /// `--table`: profile `Engine::check_batch` instead of `Engine::check`.
    table: bool,
    /// Share of encounters with an injected violation (synth's default 0.1).
    violation_rate: f64,
    /// `--batch-rows N`: hand the fee lines to the engine as zero-copy slices of N rows, as a
    /// Parquet or IPC reader (or the Python binding's `chunk_rows`) would, instead of one batch.
    batch_rows: Option<usize>,
}

const USAGE: &str = "usage: bench_report [--lines N | N] [--export DIR] [--seed S] [--reps R] [--checks C] \
                     [--pool P] [--no-per-rule] [--violation-rate P] [--batch-rows N] \
                     [--profile whole|line|line-dict|latency|latency-bare|rule=ID] [--skip ID,…] [--table]";

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        lines: 10_000_000,
        export: None,
        seed: 20_260_301,
        reps: 3,
        checks: 10_000,
        pool: None,
        skip: Vec::new(),
        per_rule: true,
        profile: None,
        table: false,
        violation_rate: 0.1,
        batch_rows: None,
    };
    let mut it = std::env::args().skip(1);
    let num = |flag: &str, v: Option<String>| -> Result<u64, String> {
        let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
        v.replace('_', "").parse::<u64>().map_err(|_| format!("{flag}: not a whole number: {v:?}"))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--lines" | "-n" => a.lines = num("--lines", it.next())? as usize,
            "--export" => a.export = Some(PathBuf::from(it.next().ok_or("--export needs a directory")?)),
            "--seed" => a.seed = num("--seed", it.next())?,
            "--reps" => a.reps = (num("--reps", it.next())? as usize).max(1),
            "--checks" => a.checks = (num("--checks", it.next())? as usize).max(1),
            "--pool" => a.pool = Some((num("--pool", it.next())? as usize).max(1)),
            "--skip" => a.skip = it.next().ok_or("--skip needs rule ids")?.split(',').map(str::to_string).collect(),
            "--no-per-rule" => a.per_rule = false,
            "--table" => a.table = true,
            "--batch-rows" => a.batch_rows = Some((num("--batch-rows", it.next())? as usize).max(1)),
            "--violation-rate" => {
                let v = it.next().ok_or("--violation-rate needs a value")?;
                a.violation_rate = v
                    .parse::<f64>()
                    .ok()
                    .filter(|x| (0.0..=1.0).contains(x))
                    .ok_or_else(|| format!("--violation-rate: expected a number in [0, 1], found {v:?}"))?;
            }
            "--profile" => {
                a.profile =
                    Some(it.next().ok_or("--profile needs whole, line, line-dict, latency, latency-bare or rule=ID")?)
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other if !other.starts_with('-') => a.lines = num("lines", Some(other.to_string()))? as usize,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if !a.skip.is_empty() && !matches!(a.profile.as_deref(), Some("latency" | "latency-bare")) {
        return Err("--skip is for --profile latency or latency-bare".into());
    }
    if a.lines < 1000 {
        return Err("--lines must be at least 1000".into());
    }
    Ok(a)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench_report: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args) {
        eprintln!("bench_report: {e}");
        std::process::exit(1);
    }
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Best and median time of `reps` calls, and the output of the last one. `best`/`median` are the
/// calling thread's on-CPU time (from /proc/thread-self/schedstat, so that other processes on a
/// shared machine do not count), or wall time where that is unavailable.
struct Timed<T = CheckOutput> {
    best: Duration,
    median: Duration,
    wall_best: Duration,
    out: T,
}

/// On-CPU time of the calling thread (user + system), if the kernel reports it.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse::<u64>().ok().map(Duration::from_nanos)
}

/// Times `reps` calls of `f`; the output of each call but the last is dropped outside the timing.
fn time_it<T>(reps: usize, mut f: impl FnMut() -> Res<T>) -> Res<Timed<T>> {
    let mut cpu = Vec::with_capacity(reps);
    let mut wall = Vec::with_capacity(reps);
    let mut last = None;
    for _ in 0..reps {
        drop(last.take());
        let c = thread_cpu();
        let t = Instant::now();
        let out = f()?;
        let w = t.elapsed();
        wall.push(w);
        cpu.push(match (c, thread_cpu()) {
            (Some(a), Some(b)) if b > a => b - a,
            _ => w,
        });
        last = Some(black_box(out));
    }
    cpu.sort();
    wall.sort();
    let out = last.ok_or("no repetition ran")?;
    Ok(Timed { best: cpu[0], median: cpu[cpu.len() / 2], wall_best: wall[0], out })
}

/// `Engine::check`: the findings as records.
fn time_check(engine: &Engine, claims: &Claims, opts: &CheckOptions, reps: usize) -> Res<Timed> {
    time_it(reps, || Ok(engine.check(claims, opts)?))
}

/// `Engine::check_batch`: the findings as the Arrow table (what the bindings return).
fn time_table(engine: &Engine, claims: &Claims, opts: &CheckOptions, reps: usize) -> Res<Timed<CheckBatch>> {
    time_it(reps, || Ok(engine.check_batch(claims, opts)?))
}

fn mlps(lines: usize, d: Duration) -> f64 {
    lines as f64 / d.as_secs_f64() / 1e6
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn only(ids: &[&str]) -> CheckOptions {
    CheckOptions { rule_ids: Some(ids.iter().map(|s| s.to_string()).collect()), ..Default::default() }
}

fn run(args: &Args) -> Res<()> {
    let engine = Engine::new(RulePack::sample()?)?;
    let all_rules: Vec<String> = engine.pack().rules.iter().map(|r| r.id.clone()).collect();

    // Encounters for about `lines` lines: the ratio comes from a small pilot run.
    let pilot_n = 20_000;
    let pilot = synth::generate(&Config {
        encounters: pilot_n,
        seed: args.seed,
        violation_rate: args.violation_rate,
        ..Default::default()
    });
    let per_enc = pilot.lines as f64 / pilot_n as f64;
    drop(pilot);
    let encounters = ((args.lines as f64 / per_enc).round() as usize).max(1);
    println!("medaudit bench_report (medaudit-core {})", medaudit_core::VERSION);
    println!("  {:.2} lines per encounter (pilot); generating {encounters} encounters, seed {}", per_enc, args.seed);

    let t = Instant::now();
    let mut data = synth::generate(&Config {
        encounters,
        seed: args.seed,
        violation_rate: args.violation_rate,
        ..Default::default()
    });
    let t_gen = t.elapsed();
    if let Some(rows) = args.batch_rows {
        data.claims.fee_details = medaudit_core::claims::slices(&data.claims.fee_details, rows);
        println!("  fee lines in {} batches of at most {rows} rows", data.claims.fee_details.len());
    }
    let lines = data.lines;
    let n_diag: usize = data.claims.diagnoses.iter().map(RecordBatch::num_rows).sum();
    let n_ops: usize = data.claims.operations.iter().map(RecordBatch::num_rows).sum();
    println!(
        "  generated {lines} fee lines, {encounters} encounters, {n_diag} diagnoses, {n_ops} operations in {:.1} s (RSS {:.0} MiB)",
        secs(t_gen),
        kib("VmRSS") as f64 / 1024.0
    );

    let t = Instant::now();
    let dict = dictionary_encoded(&data.claims)?;
    println!("  dictionary-encoded {} fee columns in {:.1} s", DICT_COLUMNS.len(), secs(t.elapsed()));

    if let Some(what) = &args.profile {
        return profile(&engine, &data.claims, &dict, what, args);
    }

    if let Some(dir) = &args.export {
        let t = Instant::now();
        std::fs::create_dir_all(dir)?;
        write_csv(&dir.join("mdtrt.csv"), &data.claims.mdtrt)?;
        write_csv(&dir.join("diagnoses.csv"), &data.claims.diagnoses)?;
        write_csv(&dir.join("operations.csv"), &data.claims.operations)?;
        write_csv(&dir.join("fee_details.csv"), &data.claims.fee_details)?;
        println!("  exported CSV to {} in {:.1} s", dir.display(), secs(t.elapsed()));
    }

    println!();
    println!(
        "== throughput: one check call on one thread, best of {} reps (on-CPU time of the thread; wall time beside)",
        args.reps
    );
    let line_opts = only(&LINE_RULES);
    let lp = time_check(&engine, &data.claims, &line_opts, args.reps)?;
    let ld = time_check(&engine, &dict, &line_opts, args.reps)?;
    let all_opts = CheckOptions::default();
    // Peak RSS of one whole-pack check, over what the process already holds.
    let rss_before = kib("VmRSS");
    let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let wp = time_check(&engine, &data.claims, &all_opts, args.reps)?;
    let check_hwm = kib("VmHWM");
    let wd = time_check(&engine, &dict, &all_opts, args.reps)?;
    // The same check split over two threads (CheckOptions::threads): wall time, as the work runs on
    // threads other than the caller's.
    let two_opts = CheckOptions { threads: 2, ..Default::default() };
    let w2 = time_check(&engine, &data.claims, &two_opts, args.reps)?;
    // The same calls returning the findings table (Engine::check_batch), as the bindings do.
    let lp_t = time_table(&engine, &data.claims, &line_opts, args.reps)?;
    let ld_t = time_table(&engine, &dict, &line_opts, args.reps)?;
    let wp_t = time_table(&engine, &data.claims, &all_opts, args.reps)?;
    let wd_t = time_table(&engine, &dict, &all_opts, args.reps)?;
    let w2_t = time_table(&engine, &data.claims, &two_opts, args.reps)?;
    println!("  records: Engine::check (a Finding per row); table: Engine::check_batch (the Arrow findings table)");
    println!(
        "  {:<34} {:>21}  {:>8}  {:>18}  {:>8}  {:>21}  {:>8}",
        "", "records M lines/s [med]", "wall s", "cpu s [med]", "findings", "table M lines/s [med]", "wall s"
    );
    let row = |name: &str, t: &Timed, tt: &Timed<CheckBatch>| {
        println!(
            "  {name:<34} {:>12.1}  [{:>5.1}]  {:>8.3}  {:>8.3}  [{:>6.3}]  {:>8}  {:>12.1}  [{:>5.1}]  {:>8.3}",
            mlps(lines, t.best),
            mlps(lines, t.median),
            secs(t.wall_best),
            secs(t.best),
            secs(t.median),
            t.out.findings.len(),
            mlps(lines, tt.best),
            mlps(lines, tt.median),
            secs(tt.wall_best),
        )
    };
    row("line-level templates, plain Utf8", &lp, &lp_t);
    row("line-level templates, dictionary", &ld, &ld_t);
    let n_rules = engine.pack().rules.len();
    row(&format!("whole pack ({n_rules} rules), plain Utf8"), &wp, &wp_t);
    row(&format!("whole pack ({n_rules} rules), dictionary"), &wd, &wd_t);
    println!(
        "  {:<34} {:>12.1} M lines/s (wall time) {:>8.3} s wall  {:>8} findings; table {:.1} M lines/s, {:.3} s wall",
        "whole pack, plain, threads = 2",
        mlps(lines, w2.wall_best),
        secs(w2.wall_best),
        w2.out.findings.len(),
        mlps(lines, w2_t.wall_best),
        secs(w2_t.wall_best),
    );
    if w2.out != wp.out {
        println!("  WARNING: two threads gave other findings than one");
    }
    for (name, r, t) in [
        ("line plain", &lp, &lp_t),
        ("line dict", &ld, &ld_t),
        ("whole plain", &wp, &wp_t),
        ("whole 2 threads", &w2, &w2_t),
    ] {
        if r.out.to_record_batch() != t.out.findings {
            println!("  WARNING: check_batch gave another table than check ({name})");
        }
    }
    if lp.out.findings.len() != ld.out.findings.len() || wp.out.findings.len() != wd.out.findings.len() {
        println!("  WARNING: plain and dictionary data give different finding counts");
    }

    let counts = per_rule_counts(&wp.out, &all_rules);
    let mut truth: BTreeMap<String, usize> = all_rules.iter().map(|r| (r.clone(), 0)).collect();
    for t in &data.truth {
        *truth.entry(t.rule_id.clone()).or_default() += 1;
    }
    let truth_ok = counts == truth;
    println!(
        "  whole pack findings {} vs ground truth {}: {}",
        wp.out.findings.len(),
        data.truth.len(),
        if truth_ok { "counts per rule match" } else { "MISMATCH per rule (see table below)" }
    );
    println!("  unjudged entries: {}", wp.out.unjudged.len());

    // Where the time goes.
    println!();
    println!("== phases (best on-CPU time of {} reps)", args.reps);
    let no_lines =
        Claims { fee_details: data.claims.fee_details.iter().map(|b| b.slice(0, 0)).collect(), ..data.claims.clone() };
    // The fixed cost of a call (what it does with no fee line: encounter table, diagnoses when an
    // active rule reads them, views), for each set of rules, then what the lines add.
    let fixed_all = secs(time_check(&engine, &no_lines, &all_opts, args.reps)?.best);
    let fixed_line = secs(time_check(&engine, &no_lines, &line_opts, args.reps)?.best);
    let no_lines_no_diag = Claims { diagnoses: Vec::new(), ..no_lines.clone() };
    let fixed_nodiag = secs(time_check(&engine, &no_lines_no_diag, &all_opts, args.reps)?.best);
    let no_diag = Claims { diagnoses: Vec::new(), ..data.claims.clone() };
    let lp_nodiag = time_check(&engine, &no_diag, &line_opts, args.reps)?;
    let ld_nodiag = time_check(&engine, &Claims { diagnoses: Vec::new(), ..dict.clone() }, &line_opts, args.reps)?;
    println!(
        "  fixed cost (no fee lines), whole pack: {fixed_all:.3} s = mdtrt table ({encounters} encounters) {fixed_nodiag:.3} s + diagnoses ({n_diag}) {:.3} s",
        fixed_all - fixed_nodiag
    );
    println!("  fixed cost (no fee lines), line-level rules: {fixed_line:.3} s");
    let split = |name: &str, total: f64, fixed: f64, what: &str| {
        println!(
            "  {name:<17} total {total:.3} s = fixed {fixed:.3} s + {what} {:.3} s  ({:.1} M lines/s on the lines alone)",
            total - fixed,
            lines as f64 / (total - fixed).max(1e-9) / 1e6
        )
    };
    split("line-level plain:", secs(lp.best), fixed_line, "lines");
    split("line-level dict:", secs(ld.best), fixed_line, "lines");
    split("whole pack plain:", secs(wp.best), fixed_all, "lines/windows/output");
    split("whole pack dict:", secs(wd.best), fixed_all, "lines/windows/output");
    println!(
        "  line-level with no diagnoses table at all: plain {:.1} M lines/s, dict {:.1} M lines/s",
        mlps(lines, lp_nodiag.best),
        mlps(lines, ld_nodiag.best)
    );

    let mut per_rule_secs: BTreeMap<String, f64> = BTreeMap::new();
    if args.per_rule {
        println!();
        println!("== each rule alone (plain, one rep; 'lines' subtracts the rule's own fixed cost, measured with no fee lines)");
        println!("  {:<18} {:>9} {:>9} {:>9} {:>9} {:>9}", "rule", "findings", "seconds", "fixed", "lines", "truth");
        for r in &all_rules {
            let opts = only(&[r.as_str()]);
            let t = time_check(&engine, &data.claims, &opts, 1)?;
            let f = secs(time_check(&engine, &no_lines, &opts, args.reps)?.best);
            per_rule_secs.insert(r.clone(), secs(t.best));
            println!(
                "  {:<18} {:>9} {:>9.3} {:>9.3} {:>9.3} {:>9}",
                r,
                t.out.findings.len(),
                secs(t.best),
                f,
                secs(t.best) - f,
                truth.get(r).copied().unwrap_or(0)
            );
        }
    }

    // Latency of one-encounter checks.
    println!();
    let pool = encounter_pool(&data.claims, 20, args.pool.unwrap_or(args.checks))?;
    let sizes: Vec<usize> = pool.iter().map(|c| c.fee_details.iter().map(RecordBatch::num_rows).sum()).collect();
    let avg_lines = sizes.iter().sum::<usize>() as f64 / sizes.len().max(1) as f64;
    println!(
        "== latency: {} one-encounter checks, whole pack, {} distinct encounters of {:.1} lines on average (sliced from the data above)",
        args.checks,
        pool.len(),
        avg_lines
    );
    let calls = timed_checks(&engine, &pool, &all_opts, args.checks)?;
    let lat = sorted(calls.iter().map(|c| c.0));
    let lat_line = latency(&engine, &pool, &line_opts, args.checks)?;
    let show = |name: &str, v: &[f64]| {
        println!(
            "  {name:<26} p50 {:>7.2} µs   p99 {:>7.2} µs   p99.9 {:>7.2} µs   max {:>8.2} µs   mean {:>7.2} µs",
            pct(v, 50.0),
            pct(v, 99.0),
            pct(v, 99.9),
            v.last().copied().unwrap_or(0.0),
            v.iter().sum::<f64>() / v.len().max(1) as f64
        )
    };
    show("whole pack", &lat);
    show("line-level templates only", &lat_line);
    // The tail: the same whole-pack calls split by whether they found something (a finding is
    // rendered, with its message and about 17 strings, only then).
    let quiet = sorted(calls.iter().filter(|c| c.1 == 0).map(|c| c.0));
    let found = sorted(calls.iter().filter(|c| c.1 > 0).map(|c| c.0));
    let findings: usize = calls.iter().map(|c| c.1).sum();
    println!(
        "  whole pack, split: {:.1}% of the calls have findings ({:.1} on average)",
        100.0 * found.len() as f64 / calls.len().max(1) as f64,
        findings as f64 / found.len().max(1) as f64
    );
    show("  calls with no finding", &quiet);
    show("  calls with findings", &found);
    // The same calls with parts of the input removed, to see where a call's time goes.
    let strip = |diag: bool, fee: bool| strip_lines(&pool, diag, fee);
    let empty = latency(&engine, &[Claims::default()], &all_opts, args.checks)?;
    let mut validate: Vec<f64> = Vec::with_capacity(args.checks);
    for c in pool.iter().cycle().take(args.checks) {
        let t = Instant::now();
        c.validate()?;
        validate.push(t.elapsed().as_secs_f64() * 1e6);
    }
    validate.sort_by(f64::total_cmp);
    show("whole pack, no batches", &empty);
    show("Claims::validate() alone", &validate);
    let bare = latency(&engine, &strip(false, false), &all_opts, args.checks)?;
    let with_diag = latency(&engine, &strip(true, false), &all_opts, args.checks)?;
    let no_diag = latency(&engine, &strip(false, true), &all_opts, args.checks)?;
    show("whole pack, no lines/diags", &bare);
    show("whole pack, diags no lines", &with_diag);
    show("whole pack, lines no diags", &no_diag);
    let p50 = |v: &[f64]| pct(v, 50.0);
    println!(
        "  p50 split: call + mdtrt row {:.2} µs, diagnoses {:.2} µs, 20 lines through the pack's rules (+ findings) {:.2} µs",
        p50(&bare),
        p50(&with_diag) - p50(&bare),
        p50(&lat) - p50(&with_diag)
    );

    println!();
    println!("== memory");
    println!("  peak RSS of the process (VmHWM): {:.0} MiB", kib("VmHWM") as f64 / 1024.0);
    if hwm_reset {
        println!(
            "  whole-pack check on {lines} lines: peak RSS {:.0} MiB over {:.0} MiB already resident (+{:.0} MiB)",
            check_hwm as f64 / 1024.0,
            rss_before as f64 / 1024.0,
            (check_hwm.saturating_sub(rss_before)) as f64 / 1024.0
        );
    }

    if let Some(dir) = &args.export {
        let json = serde_json::json!({
            "lines": lines,
            "encounters": encounters,
            "diagnoses": n_diag,
            "seed": args.seed,
            "findings_per_rule": counts,
            "truth_per_rule": truth,
            "seconds": {
                "note": "best/median are the check thread's on-CPU time; *_wall_best is wall time",
                "generate": secs(t_gen),
                "line_level_plain_best": secs(lp.best),
                "line_level_dict_best": secs(ld.best),
                "whole_pack_plain_best": secs(wp.best),
                "whole_pack_plain_median": secs(wp.median),
                "whole_pack_plain_wall_best": secs(wp.wall_best),
                "whole_pack_plain_2_threads_wall_best": secs(w2.wall_best),
                "whole_pack_dict_best": secs(wd.best),
                "fixed_no_lines_whole_pack": fixed_all,
                "fixed_no_lines_line_level": fixed_line,
                "per_rule": per_rule_secs,
            },
            "latency_us": {"p50": pct(&lat, 50.0), "p99": pct(&lat, 99.0), "p999": pct(&lat, 99.9)},
            "peak_rss_mib": kib("VmHWM") as f64 / 1024.0,
        });
        let path = dir.join("medaudit_counts.json");
        std::fs::write(&path, serde_json::to_string_pretty(&json)?)?;
        println!("  wrote {}", path.display());
    }
    Ok(())
}

/// Runs one measurement alone, for a profiler.
fn profile(engine: &Engine, plain: &Claims, dict: &Claims, what: &str, args: &Args) -> Res<()> {
    let lines: usize = plain.fee_details.iter().map(RecordBatch::num_rows).sum();
    let (claims, opts) = match what {
        "whole" => (plain, CheckOptions::default()),
        "line" => (plain, only(&LINE_RULES)),
        "line-dict" => (dict, only(&LINE_RULES)),
        rule if rule.starts_with("rule=") => (plain, only(&[rule.trim_start_matches("rule=")])),
        "latency" | "latency-bare" => {
            let mut pool = encounter_pool(plain, 20, args.pool.unwrap_or(args.checks))?;
            if what == "latency-bare" {
                // The fixed cost of a call: the encounter row, with empty diagnoses and fee lines.
                pool = strip_lines(&pool, false, false);
            }
            let mut opts = CheckOptions::default();
            if !args.skip.is_empty() {
                let ids: Vec<String> = engine.pack().rules.iter().map(|r| r.id.clone()).collect();
                if let Some(unknown) = args.skip.iter().find(|s| !ids.contains(s)) {
                    return Err(format!("--skip: no rule {unknown:?} in the sample pack").into());
                }
                opts.rule_ids = Some(ids.into_iter().filter(|id| !args.skip.contains(id)).collect());
            }
            for _ in 0..args.reps {
                let v = latency(engine, &pool, &opts, args.checks)?;
                println!("  latency p50 {:.2} µs p99 {:.2} µs", pct(&v, 50.0), pct(&v, 99.0));
            }
            return Ok(());
        }
        other => return Err(format!("--profile: unknown measurement {other:?}").into()),
    };
    for _ in 0..args.reps {
        let (t, n) = if args.table {
            let t = time_table(engine, claims, &opts, 1)?;
            let n = t.out.findings.num_rows();
            (Timed { best: t.best, median: t.median, wall_best: t.wall_best, out: () }, n)
        } else {
            let t = time_check(engine, claims, &opts, 1)?;
            let n = t.out.findings.len();
            (Timed { best: t.best, median: t.median, wall_best: t.wall_best, out: () }, n)
        };
        println!(
            "  {what}{}: cpu {:.3} s ({:.1} M lines/s), wall {:.3} s, {n} findings",
            if args.table { " (check_batch)" } else { "" },
            secs(t.best),
            mlps(lines, t.best),
            secs(t.wall_best),
        );
    }
    Ok(())
}

fn per_rule_counts(out: &CheckOutput, rules: &[String]) -> BTreeMap<String, usize> {
    let mut m: BTreeMap<String, usize> = rules.iter().map(|r| (r.clone(), 0)).collect();
    for f in &out.findings {
        *m.entry(f.rule_id.clone()).or_default() += 1;
    }
    m
}

/// A kB value of /proc/self/status (0 when unavailable).
fn kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field).and_then(|r| r.strip_prefix(':')))
                .and_then(|v| v.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()))
        })
        .unwrap_or(0)
}

/// Nearest-rank percentile of sorted values.
fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `pool` with the diagnoses (unless `diag`) and the fee lines (unless `fee`) cut to zero rows.
fn strip_lines(pool: &[Claims], diag: bool, fee: bool) -> Vec<Claims> {
    let empty = |bs: &[RecordBatch]| bs.iter().map(|b| b.slice(0, 0)).collect();
    pool.iter()
        .map(|c| Claims {
            diagnoses: if diag { c.diagnoses.clone() } else { empty(&c.diagnoses) },
            fee_details: if fee { c.fee_details.clone() } else { empty(&c.fee_details) },
            ..c.clone()
        })
        .collect()
}

/// Sorted per-call latencies in microseconds of `n` checks cycling over `pool`, after a warm-up.
fn latency(engine: &Engine, pool: &[Claims], opts: &CheckOptions, n: usize) -> Res<Vec<f64>> {
    Ok(sorted(timed_checks(engine, pool, opts, n)?.into_iter().map(|(t, _)| t)))
}

/// The values, sorted (for percentiles).
fn sorted(v: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = v.collect();
    v.sort_by(f64::total_cmp);
    v
}

/// The latency in microseconds and the number of findings of each of `n` checks cycling over
/// `pool`, after a warm-up.
fn timed_checks(engine: &Engine, pool: &[Claims], opts: &CheckOptions, n: usize) -> Res<Vec<(f64, usize)>> {
    for c in pool.iter().cycle().take(1000.min(n)) {
        black_box(engine.check(c, opts)?);
    }
    let mut v = Vec::with_capacity(n);
    for c in pool.iter().cycle().take(n) {
        let t = Instant::now();
        let out = engine.check(c, opts)?;
        let d = t.elapsed();
        v.push((d.as_secs_f64() * 1e6, out.findings.len()));
        black_box(out);
    }
    Ok(v)
}

/// Contiguous runs of equal `mdtrt_id` in a table: id → (first row, rows).
fn runs(batches: &[RecordBatch]) -> Res<HashMap<String, (usize, usize)>> {
    let mut m: HashMap<String, (usize, usize)> = HashMap::new();
    let b = one_batch(batches)?;
    let ids = b.column_by_name("mdtrt_id").ok_or("no mdtrt_id column")?.as_string::<i32>();
    let mut start = 0;
    for i in 1..=ids.len() {
        if i == ids.len() || ids.value(i) != ids.value(start) {
            m.insert(ids.value(start).to_string(), (start, i - start));
            start = i;
        }
    }
    Ok(m)
}

fn one_batch(batches: &[RecordBatch]) -> Res<&RecordBatch> {
    match batches {
        [b] => Ok(b),
        _ => Err("expected one batch per table (synth with batch_rows 0)".into()),
    }
}

/// Up to `want` one-encounter claims whose encounter has about `lines` fee lines, sliced (zero
/// copy) out of the generated tables.
fn encounter_pool(claims: &Claims, lines: usize, want: usize) -> Res<Vec<Claims>> {
    let fee = one_batch(&claims.fee_details)?;
    let mdtrt = one_batch(&claims.mdtrt)?;
    let diag = one_batch(&claims.diagnoses)?;
    let ops = one_batch(&claims.operations)?;
    let mdtrt_ids = mdtrt.column_by_name("mdtrt_id").ok_or("no mdtrt_id")?.as_string::<i32>();
    let enc_row: HashMap<&str, usize> = (0..mdtrt_ids.len()).map(|i| (mdtrt_ids.value(i), i)).collect();
    let diag_runs = runs(&claims.diagnoses)?;
    let ops_runs = runs(&claims.operations)?;
    let mut fee_runs: Vec<(String, usize, usize)> =
        runs(&claims.fee_details)?.into_iter().map(|(id, (s, n))| (id, s, n)).collect();
    fee_runs.sort_by_key(|r| r.1);
    let mut pool = Vec::new();
    // Exactly `lines` lines first, then widen the band until the pool is full.
    for band in 0..=lines {
        for (id, start, n) in &fee_runs {
            if pool.len() >= want {
                break;
            }
            if n.abs_diff(lines) != band {
                continue;
            }
            let Some(&row) = enc_row.get(id.as_str()) else {
                continue;
            };
            let slice = |b: &RecordBatch, r: Option<&(usize, usize)>| match r {
                Some(&(s, n)) => b.slice(s, n),
                None => b.slice(0, 0),
            };
            pool.push(Claims {
                mdtrt: vec![mdtrt.slice(row, 1)],
                diagnoses: vec![slice(diag, diag_runs.get(id))],
                operations: vec![slice(ops, ops_runs.get(id))],
                fee_details: vec![fee.slice(*start, *n)],
                column_map: Default::default(),
            });
        }
        if pool.len() >= want {
            break;
        }
    }
    if pool.is_empty() {
        return Err("no encounter to sample".into());
    }
    Ok(pool)
}

/// The same claims with the code-like string columns of `fee_details` dictionary-encoded
/// (Int32 keys), as `synth::Config { dictionary: true }` makes them.
fn dictionary_encoded(claims: &Claims) -> Res<Claims> {
    let mut fee = Vec::with_capacity(claims.fee_details.len());
    for b in &claims.fee_details {
        let schema = b.schema();
        let mut fields = Vec::with_capacity(b.num_columns());
        let mut cols: Vec<ArrayRef> = Vec::with_capacity(b.num_columns());
        for (f, c) in schema.fields().iter().zip(b.columns()) {
            if DICT_COLUMNS.contains(&f.name().as_str()) && c.data_type() == &DataType::Utf8 {
                let s = c.as_string::<i32>();
                let mut builder = StringDictionaryBuilder::<Int32Type>::new();
                for v in s.iter() {
                    builder.append_option(v);
                }
                let a: ArrayRef = Arc::new(builder.finish());
                fields.push(Field::new(f.name(), a.data_type().clone(), true));
                cols.push(a);
            } else {
                fields.push(f.as_ref().clone());
                cols.push(c.clone());
            }
        }
        fee.push(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?);
    }
    Ok(Claims { fee_details: fee, ..claims.clone() })
}

/// Writes `batches` as CSV with a header: strings quoted only when needed, numbers in Rust's
/// shortest round-trip form, `timestamp[s]` as `YYYY-MM-DD HH:MM:SS`, `date32` as `YYYY-MM-DD`,
/// null as an empty field.
fn write_csv(path: &Path, batches: &[RecordBatch]) -> Res<()> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let Some(first) = batches.first() else {
        return Ok(());
    };
    let header: Vec<&str> = first.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
    writeln!(w, "{}", header.join(","))?;
    let mut dates = DateCache::default();
    for b in batches {
        for row in 0..b.num_rows() {
            for (i, c) in b.columns().iter().enumerate() {
                if i > 0 {
                    w.write_all(b",")?;
                }
                if c.is_null(row) {
                    continue;
                }
                match c.data_type() {
                    DataType::Utf8 => write_str(&mut w, c.as_string::<i32>().value(row))?,
                    DataType::Float64 => write!(w, "{}", c.as_primitive::<Float64Type>().value(row))?,
                    DataType::Timestamp(TimeUnit::Second, None) => {
                        let t = c.as_primitive::<TimestampSecondType>().value(row);
                        let (y, m, d) = dates.get(t.div_euclid(86_400));
                        let s = t.rem_euclid(86_400);
                        write!(w, "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)?;
                    }
                    DataType::Date32 => {
                        let (y, m, d) = dates.get(i64::from(c.as_primitive::<Date32Type>().value(row)));
                        write!(w, "{y:04}-{m:02}-{d:02}")?;
                    }
                    other => return Err(format!("{}: column type {other} not exported", path.display()).into()),
                }
            }
            w.write_all(b"\n")?;
        }
    }
    w.flush()?;
    Ok(())
}

fn write_str(w: &mut impl Write, s: &str) -> std::io::Result<()> {
    if s.contains([',', '"', '\n', '\r']) || s.is_empty() {
        w.write_all(b"\"")?;
        w.write_all(s.replace('"', "\"\"").as_bytes())?;
        w.write_all(b"\"")
    } else {
        w.write_all(s.as_bytes())
    }
}

/// Civil dates of day numbers, remembered (the data spans few distinct days).
#[derive(Default)]
struct DateCache(HashMap<i64, (i64, u32, u32)>);

impl DateCache {
    fn get(&mut self, day: i64) -> (i64, u32, u32) {
        *self.0.entry(day).or_insert_with(|| civil_from_days(day))
    }
}
