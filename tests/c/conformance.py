#!/usr/bin/env python3
"""Runs every conformance vector in tests/conformance/*.json through the C ABI (both the
claims-JSON call and the Arrow batch call, via conformance_runner) and compares with the vector's
expectation by the rules of tests/conformance/README.md, the same as core/tests/conformance.rs:

* findings: same length, in order; every key an expected finding lists equals the engine's value
  (numbers within 0.005; a key listed as null must be null); unlisted keys are not compared;
* unjudged, when present, equals the engine's list exactly (JSON call only: the Arrow output
  carries findings alone);
* error: the kind equals the error's class and the message contains every message_contains string.

The set of vectors may change while it is written: whatever *.json files exist are run.
Usage: conformance.py RUNNER [VECTOR_DIR]
"""
import json
import os
import subprocess
import sys
import tempfile


def is_num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def same(got, want):
    if is_num(got) and is_num(want):
        return abs(got - want) < 0.005
    if isinstance(got, bool) != isinstance(want, bool):
        return False
    return got == want


def compare(way, res, expect):
    """The first difference between one way's result and the expectation, or None."""
    err = expect.get("error")
    if not res.get("ok"):
        if err is None:
            return f"{way}: unexpected error [{res.get('kind')}] {res.get('message')}"
        kind = err.get("kind")
        if kind is not None and res.get("kind") != kind:
            return f"{way}: expected error kind {kind}, got {res.get('kind')} ({res.get('message')})"
        for part in err.get("message_contains") or []:
            if part not in (res.get("message") or ""):
                return f"{way}: error message {res.get('message')!r} does not contain {part!r}"
        return None
    if err is not None:
        n = len(res["result"]["findings"]) if way == "json" else len(res["findings"])
        return f"{way}: expected error {json.dumps(err, ensure_ascii=False)}, got {n} findings"
    got = res["result"]["findings"] if way == "json" else res["findings"]
    want = expect.get("findings")
    if not isinstance(want, list):
        return f"{way}: expect.findings missing"
    if len(got) != len(want):
        return f"{way}: expected {len(want)} findings, got {len(got)}: {json.dumps(got, ensure_ascii=False, indent=1)}"
    for i, (g, w) in enumerate(zip(got, want)):
        for k, wv in w.items():
            gv = g.get(k)
            if not same(gv, wv):
                return f"{way}: finding {i}: {k}: expected {json.dumps(wv, ensure_ascii=False)}, got {json.dumps(gv, ensure_ascii=False)}\nfull: {json.dumps(g, ensure_ascii=False)}"
    if "unjudged" in expect:
        # The JSON call answers "unjudged"; the Arrow call carries it in the findings schema's
        # metadata (key medaudit.unjudged), which the runner prints as "unjudged".
        got_u = res["result"]["unjudged"] if way == "json" else res.get("unjudged")
        if got_u != expect["unjudged"]:
            return f"{way}: unjudged: expected {json.dumps(expect['unjudged'], ensure_ascii=False)}, got {json.dumps(got_u, ensure_ascii=False)}"
    return None


def run_vector(runner, path, tmp):
    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    expect = v.get("expect") or {}

    def put(name, text):
        p = os.path.join(tmp, name)
        with open(p, "w", encoding="utf-8") as f:
            f.write(text)
        return p

    pack = v.get("pack")
    if pack == "sample":
        pack_arg = "sample"
    elif isinstance(pack, str):
        pack_arg = put("pack.json", pack)
    else:
        pack_arg = put("pack.json", json.dumps(pack, ensure_ascii=False))
    know = v.get("knowledge")
    know_arg = put("knowledge.json", json.dumps(know, ensure_ascii=False)) if isinstance(know, dict) else "-"
    opts = {}
    for k in ("stage", "rule_ids"):
        if isinstance(v.get("options"), dict) and v["options"].get(k) is not None:
            opts[k] = v["options"][k]
    claims = v.get("claims")
    claims = {} if claims is None else claims
    opts_arg = put("options.json", json.dumps(opts, ensure_ascii=False))
    arrow_opts = dict(opts)
    if isinstance(claims, dict) and isinstance(claims.get("column_map"), dict):
        arrow_opts["column_map"] = claims["column_map"]
    arrow_opts_arg = put("arrow_options.json", json.dumps(arrow_opts, ensure_ascii=False))
    claims_arg = put("claims.json", json.dumps(claims, ensure_ascii=False))

    proc = subprocess.run([runner, pack_arg, know_arg, opts_arg, arrow_opts_arg, claims_arg],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        return [f"runner exited {proc.returncode}: {proc.stderr[-4000:]}"]
    try:
        out = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        return [f"runner printed invalid JSON ({e}): {proc.stdout[:2000]}"]
    problems = []
    for way in ("json", "arrow"):
        p = compare(way, out[way], expect)
        if p:
            problems.append(p)
    # Both ways must agree with each other on every finding field they share.
    if out["json"].get("ok") and out["arrow"].get("ok"):
        jf, af = out["json"]["result"]["findings"], out["arrow"]["findings"]
        if len(jf) != len(af):
            problems.append(f"json and arrow ways differ: {len(jf)} vs {len(af)} findings")
        else:
            for i, (a, b) in enumerate(zip(jf, af)):
                for k in b:
                    if not same(a.get(k), b.get(k)):
                        problems.append(f"json and arrow ways differ at finding {i}: {k}: {a.get(k)!r} vs {b.get(k)!r}")
                        break
        if out["json"]["result"]["unjudged"] != out["arrow"].get("unjudged"):
            problems.append(f"json and arrow ways differ in unjudged: {out['json']['result']['unjudged']!r} vs {out['arrow'].get('unjudged')!r}")
    elif out["json"].get("ok") != out["arrow"].get("ok"):
        problems.append(f"json and arrow ways differ: {out['json'].get('kind')} vs {out['arrow'].get('kind')}")
    return problems


def main():
    runner = sys.argv[1]
    vdir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "conformance")
    files = sorted(f for f in os.listdir(vdir) if f.endswith(".json")) if os.path.isdir(vdir) else []
    passed = failed = 0
    for name in files:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                problems = run_vector(runner, os.path.join(vdir, name), tmp)
            except (OSError, ValueError, KeyError, TypeError, subprocess.TimeoutExpired) as e:
                problems = [f"{type(e).__name__}: {e}"]
        if problems:
            failed += 1
            print(f"FAIL {name}:\n  " + "\n  ".join(problems), file=sys.stderr)
        else:
            passed += 1
    if not files:
        print(f"conformance: no vectors in {vdir} yet")
    print(f"conformance: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
