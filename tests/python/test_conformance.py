"""Every cross-language conformance vector in tests/conformance, through the Python API.

The claims of a vector are read by ``medaudit.claims_from_json`` (the core's reader, so the forced Arrow
types are the same as in the Rust, C and Java suites), exported to pyarrow, and handed back to
``Engine.check`` through the Arrow PyCapsule protocol, so every vector also crosses the Python boundary
both ways. Comparison follows tests/conformance/README.md.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

import medaudit
from conftest import CONFORMANCE

VECTORS = sorted(CONFORMANCE.glob("*.json"))


def test_the_full_set_is_here():
    assert len(VECTORS) >= 30


def run(v: dict, as_reader: bool) -> pa.Table:
    p = v["pack"]
    if p == "sample":
        pack = medaudit.RulePack.sample()
    elif isinstance(p, str):
        pack = medaudit.RulePack.from_json(p)
    else:
        pack = medaudit.RulePack.from_json(json.dumps(p, ensure_ascii=False))
    engine = medaudit.Engine(pack, knowledge=v.get("knowledge"))
    opts = v.get("options", {})
    claims = medaudit.claims_from_json(v.get("claims"), "$.claims")
    if as_reader:  # a stream of batches instead of a table
        for t in medaudit.TABLES:
            claims[t] = pa.RecordBatchReader.from_batches(claims[t].schema, claims[t].to_batches())
    return engine.check(**claims, stage=opts.get("stage"), rule_ids=opts.get("rule_ids"), progress=False)


def same(got, want) -> bool:
    if isinstance(want, (int, float)) and not isinstance(want, bool) and isinstance(got, (int, float)):
        return abs(got - want) < 0.005
    return got == want


@pytest.mark.parametrize("as_reader", [False, True], ids=["table", "reader"])
@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_vector(path, as_reader):
    v = json.loads(path.read_text(encoding="utf-8"))
    expect = v["expect"]
    if "error" in expect:
        with pytest.raises(medaudit.Error) as info:
            run(v, as_reader)
        err = expect["error"]
        if "kind" in err:
            assert info.value.kind == err["kind"], str(info.value)
        for part in err.get("message_contains", []):
            assert part in str(info.value)
        return
    out = run(v, as_reader)
    got = out.to_pylist()
    want = expect["findings"]
    assert len(got) == len(want), json.dumps(got, ensure_ascii=False, indent=1)
    for i, (g, w) in enumerate(zip(got, want)):
        for k, wv in w.items():
            assert same(g[k], wv), f"finding {i}: {k}: expected {wv!r}, got {g[k]!r}\nfull: {g}"
    if "unjudged" in expect:
        assert medaudit.unjudged(out) == expect["unjudged"]
