"""medaudit.what_if and medaudit.synth."""

from __future__ import annotations

import json

import pyarrow.compute as pc
import pytest

import medaudit


def candidate(sample_pack, change):
    p = json.loads(sample_pack.json)
    change(p)
    return medaudit.RulePack.from_json(json.dumps(p, ensure_ascii=False))


def test_what_if_dropping_a_rule_removes_exactly_its_findings(sample_pack, engine, claims):
    cand = candidate(sample_pack, lambda p: p.update(rules=[r for r in p["rules"] if r["id"] != "sex"]))
    w = medaudit.what_if(sample_pack, cand, claims)
    current = engine.check(**claims.tables, progress=False)
    sex = current.filter(pc.equal(current["rule_id"], "sex"))
    assert sex.num_rows > 0
    assert w.added.num_rows == 0
    assert sorted(w.removed["finding_id"].to_pylist()) == sorted(sex["finding_id"].to_pylist())
    row = [r for r in w.by_rule.to_pylist() if r["rule_id"] == "sex"][0]
    assert (row["current_findings"], row["candidate_findings"], row["delta_findings"]) == (sex.num_rows, 0, -sex.num_rows)
    assert abs(row["delta_amount"] + (pc.sum(sex["amount"]).as_py() or 0)) < 1e-6
    assert sum(r["delta_findings"] for r in w.by_facility.to_pylist()) == -sex.num_rows
    assert "findings added" in w._repr_html_()


def test_what_if_a_tighter_parameter_adds_findings(sample_pack, claims):
    def tighten(p):
        for r in p["rules"]:
            if r["id"] == "rx_drug_count":
                r["params"]["max_drugs"] = 3

    w = medaudit.what_if(sample_pack, candidate(sample_pack, tighten), claims)
    assert w.added.num_rows > 0 and w.removed.num_rows == 0
    assert set(w.added["rule_id"].to_pylist()) == {"rx_drug_count"}
    same = medaudit.what_if(sample_pack, sample_pack, claims.tables)
    assert same.added.num_rows == same.removed.num_rows == 0
    with pytest.raises(TypeError, match="claims"):
        medaudit.what_if(sample_pack, sample_pack, 42)


def test_synth_is_deterministic_and_shaped(claims):
    again = medaudit.synth.claims(encounters=3000, seed=11)
    assert again.fee_details.equals(claims.fee_details) and again.truth.equals(claims.truth)
    other = medaudit.synth.claims(encounters=3000, seed=12)
    assert not other.fee_details.equals(claims.fee_details)
    assert claims.mdtrt.num_rows == 3000
    assert claims.fee_details.num_rows == claims.lines > 3000
    assert claims.truth.column_names == ["rule_id", "mdtrt_id", "feedetl_sn"]
    assert set(claims.tables) == {"fee_details", "mdtrt", "diagnoses", "operations"}
    d = medaudit.synth.claims(encounters=100, seed=1, dictionary=True, batch_rows=100)
    assert str(d.fee_details.schema.field("hilist_code").type).startswith("dictionary")
    with pytest.raises(ValueError, match="violation_rate"):
        medaudit.synth.claims(encounters=10, violation_rate=2.0)
    assert medaudit.synth.claims(encounters=0).fee_details.num_rows == 0
