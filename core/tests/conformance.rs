//! Runs every cross-language conformance vector in tests/conformance/ through the Rust API.
//! The C, Python and Java suites run the same files; see tests/conformance/README.md.

use medaudit_core::claims::claims_from_json;
use medaudit_core::{CheckOptions, Engine, Error, KnowledgeTable, RulePack, Stage};
use serde_json::Value;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance")
}

/// Runs one vector: the error of the first failing step, or the output.
fn run(v: &Value) -> Result<medaudit_core::CheckOutput, Error> {
    let pack = match &v["pack"] {
        Value::String(s) if s == "sample" => RulePack::sample()?,
        Value::String(text) => RulePack::from_json(text)?,
        other => RulePack::from_json(&other.to_string())?,
    };
    let mut tables = Vec::new();
    if let Some(Value::Object(k)) = v.get("knowledge") {
        for (name, rows) in k {
            tables.push(KnowledgeTable::from_json_rows(name, rows)?);
        }
    }
    let engine = Engine::with_knowledge(pack, tables)?;
    let mut opts = CheckOptions::default();
    if let Some(o) = v.get("options") {
        if let Some(s) = o.get("stage").and_then(Value::as_str) {
            opts.stage = Stage::parse(s);
        }
        if let Some(ids) = o.get("rule_ids").and_then(Value::as_array) {
            opts.rule_ids = Some(ids.iter().filter_map(Value::as_str).map(str::to_string).collect());
        }
    }
    let claims = claims_from_json(v.get("claims").unwrap_or(&Value::Null), "$.claims")?;
    let out = engine.check(&claims, &opts);
    // The table path gives the same rows or the same error.
    match (&out, engine.check_batch(&claims, &opts)) {
        (Ok(o), Ok(t)) => assert_eq!(o.to_record_batch(), t.findings, "check_batch differs from check"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "check_batch fails otherwise"),
        (a, b) => panic!("check gave {a:?}, check_batch {b:?}"),
    }
    out
}

fn check_file(path: &std::path::Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("bad vector JSON: {e}"))?;
    let expect = &v["expect"];
    match (run(&v), expect.get("error")) {
        (Ok(out), None) => {
            let want = expect["findings"].as_array().ok_or("expect.findings missing")?;
            let got = serde_json::to_value(&out.findings).map_err(|e| e.to_string())?;
            let got = got.as_array().ok_or("findings not an array")?;
            if got.len() != want.len() {
                return Err(format!(
                    "expected {} findings, got {}: {}",
                    want.len(),
                    got.len(),
                    serde_json::to_string_pretty(got).unwrap_or_default()
                ));
            }
            for (i, (g, w)) in got.iter().zip(want).enumerate() {
                for (k, wv) in w.as_object().ok_or("expected finding not an object")? {
                    let gv = &g[k];
                    let same = match (gv.as_f64(), wv.as_f64()) {
                        (Some(a), Some(b)) => (a - b).abs() < 0.005,
                        _ => gv == wv,
                    };
                    if !same {
                        return Err(format!("finding {i}: {k}: expected {wv}, got {gv}\nfull: {g}"));
                    }
                }
            }
            if let Some(wu) = expect.get("unjudged") {
                let gu = serde_json::to_value(&out.unjudged).map_err(|e| e.to_string())?;
                if &gu != wu {
                    return Err(format!("unjudged: expected {wu}, got {gu}"));
                }
            }
            Ok(())
        }
        (Err(e), Some(we)) => {
            if let Some(kind) = we.get("kind").and_then(Value::as_str) {
                if e.kind() != kind {
                    return Err(format!("expected error kind {kind}, got {} ({e})", e.kind()));
                }
            }
            let msg = e.to_string();
            for part in we.get("message_contains").and_then(Value::as_array).into_iter().flatten() {
                let p = part.as_str().unwrap_or("");
                if !msg.contains(p) {
                    return Err(format!("error message {msg:?} does not contain {p:?}"));
                }
            }
            Ok(())
        }
        (Ok(out), Some(we)) => Err(format!("expected error {we}, got {} findings", out.findings.len())),
        (Err(e), None) => Err(format!("unexpected error: {e}")),
    }
}

#[test]
fn conformance_vectors() {
    let mut files: Vec<_> = std::fs::read_dir(dir())
        .expect("tests/conformance exists")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "expected the full set of vectors, found {}", files.len());
    let mut failures = Vec::new();
    for f in &files {
        if let Err(e) = check_file(f) {
            failures
                .push(format!("{}: {e}", f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()));
        }
    }
    assert!(failures.is_empty(), "{} of {} vectors failed:\n{}", failures.len(), files.len(), failures.join("\n\n"));
}
