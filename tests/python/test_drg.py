"""DRG/DIP through Python: CHS-DRG 1.1 loaded from ../shared/data, the 30 OpenDRG reference cases (the same
DRGs core/tests/drg.rs checks) grouped as tables and one by one, DIP matching, the DRG sample pack's stay
rules through the Engine (the generator's truth, which core/tests/drg_rules.rs shows Rust finds), errors."""

from __future__ import annotations

import csv

import pyarrow as pa
import pytest

import medaudit
from conftest import ROOT

DATA = ROOT.parent / "shared" / "data"
CHS = DATA / "chs-drg-1.1"
CASES = DATA / "opendrg-chs-drg-1.1" / "input_test_cases.csv"

if not CHS.exists() or not CASES.exists():
    pytest.skip(f"the shared DRG data is absent ({DATA}); it is not part of the repository", allow_module_level=True)


@pytest.fixture(scope="module")
def chs():
    return medaudit.DrgScheme.load(CHS)


@pytest.fixture(scope="module")
def cases():
    with CASES.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 30
    return rows


def split(s):
    return [x for x in s.split("|") if x]


def reference_tables(rows):
    mdtrt = pa.table({
        "mdtrt_id": [r["Index"] for r in rows],
        "gend": [r["gender"] or None for r in rows],
        "age": pa.array([float(r["age"]) if r["age"] else None for r in rows], pa.float64()),
        "act_ipt_days": pa.array([float(r["inHospitalTime"]) if r["inHospitalTime"] else None for r in rows], pa.float64()),
        "dscg_way": [r["leavingType"] or None for r in rows],
        "dscg_caty": [r["dept"] or None for r in rows],
    })
    dx = [(r["Index"], c, "1" if i == 0 else "0") for r in rows for i, c in enumerate(split(r["ICD10_DRGS"]))]
    px = [(r["Index"], c, "1" if i == 0 else "0") for r in rows for i, c in enumerate(split(r["ICD9_DRGS"]))]
    diagnoses = pa.table({"mdtrt_id": [d[0] for d in dx], "diag_code": [d[1] for d in dx], "maindiag_flag": [d[2] for d in dx]})
    operations = pa.table({"mdtrt_id": [p[0] for p in px], "oprn_oprt_code": [p[1] for p in px], "main_oprn_flag": [p[2] for p in px]})
    return mdtrt, diagnoses, operations


def test_scheme_loads_from_its_folder(chs):
    assert (chs.id, chs.version) == ("chs-drg-1.1", "1.1")
    assert "MA19" in chs.drg_codes() and len(chs.drg_codes()) > 600
    assert medaudit.DrgScheme.load(CHS / "scheme.json").id == chs.id


@pytest.mark.parametrize("reference", [False, True])
def test_the_30_reference_cases_give_their_expected_drg(chs, cases, reference):
    out = chs.group(*reference_tables(cases), reference=reference)
    assert out.column_names == ["mdtrt_id", "status", "status_code", "reason", "reason_text", "mdc", "adrg", "drg",
                                "drg_name", "rule", "trace", "cc_mcc", "cc_mcc_excluded"]
    assert out["mdtrt_id"].to_pylist() == [r["Index"] for r in cases]
    checked = 0
    for row, case in zip(out.to_pylist(), cases):
        one = chs.group_case(split(case["ICD10_DRGS"]), split(case["ICD9_DRGS"]), sex=int(case["gender"]),
                             age=int(case["age"]), age_days=int(case["ageDay"]), los_days=int(case["inHospitalTime"]),
                             discharge_status=case["leavingType"], dept=case["dept"], reference=reference)
        assert {k: row[k] for k in one if k != "trace"} == {k: v for k, v in one.items() if k != "trace"}
        assert row["trace"].startswith(one["trace"].split(";")[0])
        if case["drg"]:
            assert (row["drg"], row["status"], row["status_code"]) == (case["drg"], "grouped", "SUCCESS"), case
            assert row["adrg"] == row["drg"][:3] and row["mdc"] == "MDC" + row["drg"][0]
            checked += 1
    assert checked == 24


def test_one_case_trace_and_invalid_reasons(chs):
    g = chs.group_case(["I61.900x002", "I10.x00x002", "G93.501", "J18.900", "J94.804"],
                       ["01.3900x009", "01.2413", "31.1x00x005"], sex=2, age=67)
    assert g["drg"] == "BB21" and g["trace"].startswith("MDCA:yes→none")
    bad = chs.group_case(["NOT.A.CODE"], sex=1, age=40)
    assert (bad["status"], bad["reason"]) == ("invalid", "unknown_dx")
    assert bad["reason_text"] == 'diagnosis "NOT.A.CODE" (position 0) is not a code of the scheme'
    assert chs.group_case(["C61.x00"], sex=None, age=65)["reason"] == "sex_missing"
    with pytest.raises(TypeError):
        chs.group_case("C61.x00")


def test_scheme_errors_carry_the_core_message():
    files = {p.name: p.read_text(encoding="utf-8") for p in CHS.iterdir() if p.suffix in (".json", ".csv")}
    no_mcc = dict(files)
    del no_mcc["mcc.csv"]
    with pytest.raises(medaudit.SchemeError) as info:
        medaudit.DrgScheme.load(no_mcc)
    assert str(info.value).startswith(
        'DRG/DIP scheme: scheme.json at $.tables.mcc.file: table "mcc" needs file "mcc.csv", which was not given')
    assert info.value.kind == "scheme"
    bad_row = dict(files, **{"cc.csv": "code,exclusion_table\nA01.000,1\nA01.001\n"})
    with pytest.raises(medaudit.SchemeError, match=r"^DRG/DIP scheme: cc.csv line 3: 1 fields, the header has 2$"):
        medaudit.DrgScheme.load(bad_row)
    with pytest.raises(medaudit.ArgumentError, match="scheme.json"):
        medaudit.DrgScheme.load({"cc.csv": ""})
    with pytest.raises(OSError):
        medaudit.DrgScheme.load(DATA / "no-such-scheme")


def test_grouping_claims_errors_name_table_and_row(chs, cases):
    mdtrt, dx, px = reference_tables(cases[:2])
    orphan = pa.concat_tables([dx, pa.table({"mdtrt_id": ["nope"], "diag_code": ["I10.x00"], "maindiag_flag": ["0"]})])
    with pytest.raises(medaudit.ClaimsError, match="nope"):
        chs.group(mdtrt, orphan, px)
    with pytest.raises(medaudit.ClaimsError, match="gend"):
        chs.group(mdtrt.set_column(1, "gend", pa.array([1, 2], pa.int8())), dx, px)
    assert chs.group(mdtrt.slice(0, 0), dx.slice(0, 0), px.slice(0, 0)).num_rows == 0


def test_dip_catalogue_matches():
    cat = medaudit.DipCatalogue.sample()
    assert cat.id
    import json

    from conftest import ROOT as root
    raw = json.loads((root / "core" / "packs" / "dip_sample_catalogue.json").read_text(encoding="utf-8"))
    core = raw["core"][0]
    m = cat.match_case(core["dx"], [], list(core["procs"]), age=40, los_days=5)
    assert m is not None and m["core"] is True and m["score"] > 0
    assert m["adjusted_score"] == pytest.approx(m["score"] * m["factor"])
    assert cat.match_case("ZZZ.999") is None
    with pytest.raises(medaudit.SchemeError, match=r"\$\.core\[0\]\.score"):
        bad = json.loads(json.dumps(raw))
        bad["core"][0]["score"] = -1
        medaudit.DipCatalogue.from_json(json.dumps(bad, ensure_ascii=False))


def test_drg_rules_through_the_engine_give_the_rust_findings(chs):
    pack = medaudit.RulePack.drg_sample()
    with pytest.raises(medaudit.RulePackError) as info:
        medaudit.Engine(pack)
    assert str(info.value) == ('rule pack: rule "DRG-COST": params.scheme: DRG scheme "chs-drg-1.1" was not given to the '
                               'engine (Engine::builder(pack).drg_scheme(..)); given: none')
    engine = medaudit.Engine(pack, drg_schemes=[chs], dip_catalogues=[medaudit.DipCatalogue.sample()])
    data = medaudit.synth.drg(800, seed=7)
    found = engine.check(**data.tables, progress=False)
    keys = sorted(zip(found["rule_id"].to_pylist(), found["mdtrt_id"].to_pylist(), found["feedetl_sn"].to_pylist()),
                  key=str)
    truth = sorted(zip(data.truth["rule_id"].to_pylist(), data.truth["mdtrt_id"].to_pylist(),
                       data.truth["feedetl_sn"].to_pylist()), key=str)
    assert keys == truth and len(truth) > 50
    assert {r for r, *_ in truth} >= {"DRG-COST", "DRG-CODING"}
    with pytest.raises(TypeError, match="drg_schemes"):
        medaudit.Engine(pack, drg_schemes=["chs-drg-1.1"])
