"""Patient history through Python: the streaming Auditor equals the bulk check on generated histories split
many ways (with state saved and resumed as bytes), late batches and bad state are refused with the core's
message, and partition_claims by person and by trace code gives exactly the findings of one check."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import medaudit

LATENESS = dt.timedelta(days=17)


@pytest.fixture(scope="module")
def pack():
    return medaudit.RulePack.history_sample()


@pytest.fixture(scope="module")
def engine(pack):
    return medaudit.Engine(pack)


@pytest.fixture(scope="module")
def data():
    return medaudit.synth.history(persons=400, seed=21, violation_rate=0.5)


def batches(c, size):
    """The claims cut into batches of `size` encounters, in time order, each with its lines and diagnoses."""
    out = []
    for lo in range(0, c.mdtrt.num_rows, size):
        m = c.mdtrt.slice(lo, size)
        ids = m["mdtrt_id"]
        out.append({
            "mdtrt": m,
            "fee_details": c.fee_details.filter(pc.is_in(c.fee_details["mdtrt_id"], ids)),
            "diagnoses": c.diagnoses.filter(pc.is_in(c.diagnoses["mdtrt_id"], ids)),
        })
    return out


def keys(table):
    return sorted(zip(table["rule_id"].to_pylist(), table["finding_id"].to_pylist(), table["message"].to_pylist()))


def test_bulk_equals_the_truth(engine, data):
    bulk = engine.check(**data.tables, progress=False)
    truth = sorted(zip(data.truth["rule_id"].to_pylist(), data.truth["mdtrt_id"].to_pylist(),
                       data.truth["feedetl_sn"].to_pylist()), key=str)
    got = sorted(zip(bulk["rule_id"].to_pylist(), bulk["mdtrt_id"].to_pylist(), bulk["feedetl_sn"].to_pylist()), key=str)
    assert got == truth and len(truth) > 100
    assert len(set(bulk["rule_id"].to_pylist())) == 8


@pytest.mark.parametrize("size", [7, 100, 100_000])
def test_streaming_equals_bulk(pack, engine, data, size):
    bulk = engine.check(**data.tables, progress=False)
    auditor = medaudit.Auditor(pack, lateness=LATENESS)
    parts = []
    early = 0
    for k, b in enumerate(batches(data, size)):
        out = auditor.push(**b)
        assert medaudit.unjudged(out) == []
        assert out.schema.remove_metadata() == medaudit.findings_schema()
        early += out.num_rows
        parts.append(out)
        if k % 20 == 3:
            state = auditor.export_state()
            assert isinstance(state, bytes) and state.startswith(b"MDAHIST\0")
            auditor = medaudit.Auditor.import_state(pack, state)
    parts.append(auditor.finish())
    assert auditor.stats()["buffered_events"] == 0
    streamed = pa.concat_tables(parts)
    assert keys(streamed) == keys(bulk)
    if size < 1000:
        assert early > streamed.num_rows / 2, "findings come as soon as they are certain"


def test_an_auditor_over_an_engine_and_rule_filters(engine, data):
    a = medaudit.Auditor(engine, lateness=90 * 86_400, rule_ids=["trace_duplicate"])
    found = pa.concat_tables([a.push(**data.tables), a.finish()])
    bulk = engine.check(**data.tables, rule_ids=["trace_duplicate"], progress=False)
    assert keys(found) == keys(bulk) and found.num_rows > 0
    assert set(found["rule_id"].to_pylist()) == {"trace_duplicate"}
    with pytest.raises(TypeError, match="knowledge"):
        medaudit.Auditor(engine, knowledge={})


def test_late_batches_and_bad_state_are_refused(pack, engine, data):
    parts = batches(data, 100)
    a = medaudit.Auditor(pack, lateness=86_400)
    a.push(**parts[-1])
    before = a.export_state()
    with pytest.raises(medaudit.ArgumentError, match="batches must come in time order within the lateness") as info:
        a.push(**parts[0])
    assert "mdtrt_id" in str(info.value) and info.value.kind == "argument"
    assert a.export_state() == before
    with pytest.raises(medaudit.ArgumentError, match="lateness_seconds: must not be negative"):
        medaudit.Auditor(pack, lateness=-1)
    with pytest.raises(TypeError, match="lateness"):
        medaudit.Auditor(pack, lateness="1d")
    with pytest.raises(medaudit.ArgumentError, match="too short"):
        medaudit.Auditor.import_state(pack, b"")
    with pytest.raises(medaudit.ArgumentError, match="bad magic"):
        medaudit.Auditor.import_state(pack, b"GARBAGE!\x01\x00\x00\x00{}")
    with pytest.raises(medaudit.ArgumentError, match="corrupt state body"):
        medaudit.Auditor.import_state(pack, before[:-3])
    with pytest.raises(medaudit.ArgumentError, match="medaudit-history-sample"):
        medaudit.Auditor.import_state(medaudit.RulePack.sample(), before)
    with pytest.raises(medaudit.ArgumentError, match="unknown rule"):
        medaudit.Auditor(pack, rule_ids=["nope"])


def test_empty_and_bad_batches(pack, data):
    a = medaudit.Auditor(pack, lateness=0)
    assert a.push().num_rows == 0
    assert a.push(fee_details=data.fee_details.slice(0, 0), mdtrt=data.mdtrt.slice(0, 0)).num_rows == 0
    with pytest.raises(medaudit.ClaimsError, match="psn_no"):
        a.push(mdtrt=data.mdtrt.drop_columns(["psn_no"]), fee_details=data.fee_details.drop_columns(["psn_no"]))
    with pytest.raises(TypeError):
        a.push(mdtrt=[1, 2, 3])


def test_partition_keys(engine, pack):
    assert engine.partition_key("trace_duplicate") == "trace_code"
    assert engine.partition_key("readmission_15d") == "person"
    sample = medaudit.Engine(medaudit.RulePack.sample())
    assert [sample.partition_key(r) for r in sample.pack.rule_ids] == [None] * len(sample.pack.rule_ids)


@pytest.mark.parametrize("list_codes", [False, True])
def test_partitions_give_the_findings_of_one_check(engine, pack, list_codes):
    data = medaudit.synth.history(persons=250, seed=5, violation_rate=0.5, list_trace_codes=list_codes)
    bulk = engine.check(**data.tables, progress=False)
    person_rules = [r for r in pack.rule_ids if engine.partition_key(r) != "trace_code"]
    by_person = medaudit.partition_claims(engine, **data.tables, key="person", parts=4)
    assert len(by_person) == 4
    assert sum(p["mdtrt"].num_rows for p in by_person) == data.mdtrt.num_rows
    by_code = medaudit.partition_claims(engine, **data.tables, key="trace_code", parts=3)
    found = [engine.check(**p, rule_ids=person_rules, progress=False) for p in by_person]
    found += [engine.check(**p, rule_ids=["trace_duplicate"], progress=False) for p in by_code]
    assert keys(pa.concat_tables(found)) == keys(bulk)
    with pytest.raises(medaudit.ArgumentError, match="parts: must be at least 1"):
        medaudit.partition_claims(engine, **data.tables, parts=0)
    with pytest.raises(medaudit.ArgumentError, match="trace_code"):
        medaudit.partition_claims(engine, **data.tables, key="hospital")
