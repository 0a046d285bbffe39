"""The Python API: packs, engines, knowledge, check options, errors, progress, threads, GIL, Ctrl-C."""

from __future__ import annotations

import json
import pickle
import threading
import _thread

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import medaudit
from conftest import CONFORMANCE, ROOT, finding_keys

BAD_TEMPLATE = '{"format":"medaudit-pack/1","id":"p","rules":[{"id":"R1","name":"x","template":"nope","severity":"可疑"}]}'


# ---- packs -------------------------------------------------------------------------------------


def test_load_and_sample_are_the_same_pack(sample_pack):
    loaded = medaudit.RulePack.load(ROOT / "core" / "packs" / "sample.json")
    assert loaded.rule_ids == sample_pack.rule_ids
    assert len(loaded.rule_ids) >= 19
    assert loaded.id == sample_pack.id
    assert "GZ" in "".join(code or "" for _, code, *_ in loaded.rules())
    assert medaudit.RulePack.from_json(loaded.json).rule_ids == loaded.rule_ids


def test_pack_errors_carry_the_core_message():
    with pytest.raises(medaudit.RulePackError) as info:
        medaudit.RulePack.from_json(BAD_TEMPLATE)
    assert str(info.value).startswith('rule pack: rule "R1": template: unknown template "nope"')
    assert info.value.kind == "rule"
    assert isinstance(info.value, medaudit.Error)
    with pytest.raises(medaudit.RulePackError, match=r"rule pack: invalid JSON at \$") as info:
        medaudit.RulePack.from_json("{not json")
    assert info.value.kind == "pack_json"


def test_load_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError, match="nope.json"):
        medaudit.RulePack.load(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text(BAD_TEMPLATE, encoding="utf-8")
    with pytest.raises(medaudit.RulePackError, match="unknown template"):
        medaudit.RulePack.load(bad)


def test_pack_pickles(sample_pack):
    again = pickle.loads(pickle.dumps(sample_pack))
    assert again.rule_ids == sample_pack.rule_ids and again.json == sample_pack.json


# ---- knowledge -----------------------------------------------------------------------------------


def vector(name):
    return json.loads((CONFORMANCE / name).read_text(encoding="utf-8"))


def test_arrow_knowledge_equals_row_knowledge():
    v = vector("v08_external_knowledge.json")
    pack = medaudit.RulePack.from_json(json.dumps(v["pack"], ensure_ascii=False))
    claims = medaudit.claims_from_json(v["claims"])
    rows = v["knowledge"]["t"]
    by_rows = medaudit.Engine(pack, knowledge={"t": rows}).check(**claims, progress=False)
    by_arrow = medaudit.Engine(pack, knowledge={"t": pa.Table.from_pylist(rows)}).check(**claims, progress=False)
    assert by_rows.num_rows == len(v["expect"]["findings"]) >= 1
    assert by_rows.to_pylist() == by_arrow.to_pylist()
    pl = pytest.importorskip("polars")
    by_polars = medaudit.Engine(pack, knowledge={"t": pl.DataFrame(rows)}).check(**claims, progress=False)
    assert by_polars.to_pylist() == by_rows.to_pylist()


def test_knowledge_errors_name_table_column_row():
    v = vector("v08_external_knowledge.json")
    pack = medaudit.RulePack.from_json(json.dumps(v["pack"], ensure_ascii=False))
    with pytest.raises(medaudit.KnowledgeError, match='knowledge table "t"') as info:
        medaudit.Engine(pack, knowledge={"t": pa.table({"kp_id": ["K"], "sex": ["男"]})})
    assert info.value.kind == "knowledge"
    with pytest.raises(medaudit.Error, match='"zz"'):
        medaudit.Engine(pack, knowledge={"zz": [{"code": "A", "sex": "男"}]})
    with pytest.raises(TypeError, match="medaudit.RulePack"):
        medaudit.Engine("not a pack")  # type: ignore[arg-type]


# ---- check -----------------------------------------------------------------------------------------


def test_findings_equal_the_ground_truth(engine, claims):
    out = engine.check(**claims.tables, progress=False)
    assert out.schema.remove_metadata() == medaudit.findings_schema()
    got = sorted(finding_keys(out))
    want = sorted(zip(*(claims.truth[c].to_pylist() for c in ("rule_id", "mdtrt_id", "feedetl_sn"))))
    assert got == want
    assert medaudit.unjudged(out) == []


def test_stage_and_rule_filters(engine, claims, sample_pack):
    one = sample_pack.rule_ids[0]
    out = engine.check(**claims.tables, rule_ids=[one], progress=False)
    assert set(out["rule_id"].to_pylist()) <= {one}
    pre = engine.check(**claims.tables, stage="事前", progress=False)
    assert pre.num_rows == engine.check(**claims.tables, stage="pre", progress=False).num_rows
    with pytest.raises(medaudit.ArgumentError, match="NOPE"):
        engine.check(**claims.tables, rule_ids=["NOPE"], progress=False)
    with pytest.raises(medaudit.ArgumentError, match="stage"):
        engine.check(**claims.tables, stage="later", progress=False)
    with pytest.raises(TypeError, match="rule_ids"):
        engine.check(**claims.tables, rule_ids="R1", progress=False)


def test_column_map(engine, claims):
    fee = claims.fee_details.rename_columns(["med_list_codg" if n == "hilist_code" else n for n in claims.fee_details.column_names])
    tables = {**claims.tables, "fee_details": fee}
    with pytest.raises(medaudit.ClaimsError, match='"hilist_code": missing'):
        engine.check(**tables, progress=False)
    out = engine.check(**tables, column_map={"fee_details": {"hilist_code": "med_list_codg"}}, progress=False)
    assert finding_keys(out) == finding_keys(engine.check(**claims.tables, progress=False))
    with pytest.raises(medaudit.ArgumentError, match="unknown table"):
        engine.check(**tables, column_map={"fees": {"a": "b"}}, progress=False)


def test_wrong_types_missing_columns_nulls_empty(engine, claims):
    fee = claims.fee_details
    bad = fee.set_column(fee.schema.get_field_index("cnt"), "cnt", pc.greater(fee["cnt"], 1))
    with pytest.raises(medaudit.ClaimsError, match='claims table fee_details: column "cnt": has type Boolean') as info:
        engine.check(**{**claims.tables, "fee_details": bad}, progress=False)
    assert info.value.kind == "column"
    with pytest.raises(medaudit.ClaimsError, match='column "mdtrt_id": missing'):
        engine.check(**{**claims.tables, "fee_details": fee.drop_columns(["mdtrt_id"])}, progress=False)
    m = claims.mdtrt
    nulls = m.set_column(0, "mdtrt_id", pa.array([None] * m.num_rows, pa.string()))
    with pytest.raises(medaudit.ClaimsError, match="mdtrt_id"):
        engine.check(**{**claims.tables, "mdtrt": nulls}, progress=False)
    empty = {k: v.schema.empty_table() for k, v in claims.tables.items()}
    assert engine.check(**empty, progress=False).num_rows == 0
    empty_batches = {k: pa.RecordBatchReader.from_batches(v.schema, []) for k, v in claims.tables.items()}
    assert engine.check(**empty_batches, progress=False).num_rows == 0
    # empty fee lines with real encounters: no line findings, no error
    assert engine.check(**{**claims.tables, "fee_details": fee.slice(0, 0)}, progress=False).num_rows >= 0


def test_threads_give_the_same_findings(engine):
    c = medaudit.synth.claims(encounters=14_000, seed=4)
    one = engine.check(**c.tables, progress=False)
    two = engine.check(**c.tables, threads=2, progress=False)
    assert one.to_pylist() == two.to_pylist()


def test_chunking_never_changes_findings(engine, claims):
    base = engine.check(**claims.tables, progress=False).to_pylist()
    assert engine.check(**claims.tables, chunk_rows=997, progress=False).to_pylist() == base


# ---- progress, GIL, Ctrl-C ------------------------------------------------------------------------------


def test_progress_callable_sees_every_line(engine, claims):
    calls = []
    engine.check(**claims.tables, chunk_rows=1000, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (claims.lines, claims.lines)
    assert all(t == claims.lines for _, t in calls)


def test_progress_bar_with_tqdm(engine, claims, capsys):
    pytest.importorskip("tqdm")
    engine.check(**claims.tables, progress=True)
    assert "medaudit check" in capsys.readouterr().err
    engine.check(**claims.tables, progress=False)
    medaudit.set_progress(False)
    try:
        engine.check(**claims.tables)
    finally:
        medaudit.set_progress(None)
    assert capsys.readouterr().err == ""


def test_an_exception_in_progress_stops_the_check(engine, claims):
    def boom(done, total):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        engine.check(**claims.tables, chunk_rows=500, progress=boom)
    assert engine.check(**claims.tables, progress=False).num_rows == claims.truth.num_rows


@pytest.fixture(scope="module")
def big():
    return medaudit.synth.claims(encounters=120_000, seed=9)


def test_ctrl_c_interrupts_a_check_cleanly(engine, big):
    seen = []

    def interrupt_on_first_report(done, total):
        seen.append(done)
        if len(seen) == 1:
            _thread.interrupt_main()  # what Ctrl-C does: SIGINT's flag, seen by the next signal check

    with pytest.raises(KeyboardInterrupt):
        engine.check(**big.tables, chunk_rows=2000, progress=interrupt_on_first_report)
    assert seen[0] < big.lines  # stopped before the end (the first report comes while lines remain)
    # the engine is intact afterwards
    assert engine.check(**big.tables, progress=False).num_rows == big.truth.num_rows


def test_the_gil_is_released_during_a_check(engine, big):
    ticks = [0]
    running = threading.Event()
    stop = threading.Event()

    def spin():
        running.set()
        while not stop.is_set():
            ticks[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    running.wait()
    before = ticks[0]
    engine.check(**big.tables, progress=False)
    during = ticks[0] - before
    stop.set()
    t.join()
    assert during > 1000  # with the GIL held for the whole check the other thread could not run


def test_repr_html_summary(engine, claims):
    out = engine.check(**claims.tables, progress=False)
    s = medaudit.summarize(out)
    html = s._repr_html_()
    assert "By rule" in html and "By facility" in html and "By department" in html
    assert s.by_rule["findings"].to_pylist() and sum(s.by_rule["findings"].to_pylist()) == out.num_rows
    assert abs(sum(s.by_facility["amount"].to_pylist()) - s.total_amount) < 1e-6
    assert s.by_department.num_rows >= 1
    empty = medaudit.summarize(out.slice(0, 0))
    assert empty.total_findings == 0 and "0 findings" in empty._repr_html_()
    with pytest.raises(ValueError, match="not a findings table"):
        medaudit.summarize(pa.table({"a": [1]}))


def test_broken_arrow_data_is_rejected_before_it_is_read(engine, claims):
    import struct

    fee = claims.fee_details.slice(0, 3).combine_chunks()
    i = fee.schema.get_field_index("hilist_code")

    def with_code(offsets, data):
        arr = pa.Array.from_buffers(pa.string(), 3, [None, pa.py_buffer(struct.pack("<4i", *offsets)), pa.py_buffer(data)])
        return fee.set_column(i, "hilist_code", arr)

    bad_utf8 = with_code([0, 1, 2, 3], b"a\xffb")
    with pytest.raises(medaudit.ClaimsError, match='column "hilist_code".*invalid Arrow data.*UTF-8'):
        engine.check(fee_details=bad_utf8, mdtrt=claims.mdtrt, progress=False)
    split_char = with_code([0, 1, 2, 3], "a中".encode())  # offset 2 falls inside 中
    with pytest.raises(medaudit.ClaimsError, match="invalid Arrow data"):
        engine.check(fee_details=split_char, mdtrt=claims.mdtrt, progress=False)
    decreasing = with_code([0, 2, 1, 3], b"abc")
    with pytest.raises(medaudit.ClaimsError, match="invalid Arrow data"):
        engine.check(fee_details=decreasing, mdtrt=claims.mdtrt, progress=False)


def test_every_public_name_has_a_docstring():
    import inspect

    import medaudit.spark
    import medaudit.synth

    missing = []
    for mod in (medaudit, medaudit.synth, medaudit.spark):
        for name in mod.__all__:
            obj = getattr(mod, name)
            if isinstance(obj, (str, type(medaudit))):
                continue
            if not (getattr(obj, "__doc__", None) or "").strip():
                missing.append(f"{mod.__name__}.{name}")
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_") or not callable(member) and not isinstance(member, property):
                        continue
                    if not (getattr(member, "__doc__", None) or "").strip():
                        missing.append(f"{mod.__name__}.{name}.{attr}")
    assert missing == []
