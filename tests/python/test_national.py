"""medaudit.national_import: the published NHSA knowledge points → a rule pack and its coverage report,
end to end on ../shared/data/nhsa-liangku-2025 (the same points as core/tests/national.rs)."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

import medaudit
from conftest import ROOT

RECORDS = ROOT.parent / "shared" / "data" / "nhsa-liangku-2025" / "all_records.json"
AIFU = "ZD03AAA0043010100166"  # 艾附暖宫丸, 药品区分性别使用 (female only)


@pytest.fixture(scope="module")
def national():
    if not RECORDS.exists():
        pytest.skip(f"the shared national records are absent ({RECORDS}); they are not part of the repository")
    return medaudit.national_import(RECORDS, internet_med_types=["9901"])


def one_encounter(gend, code, name, time):
    claims = {
        "mdtrt": [{"mdtrt_id": "M1", "psn_no": "P1", "gend": gend, "brdy": "1980-05-01", "insutype": "310",
                   "med_type": "21", "hosp_lv": "01", "begntime": "2025-01-01 08:00:00", "endtime": "2026-12-31 08:00:00"}],
        "fee_details": [{"feedetl_sn": "L1", "mdtrt_id": "M1", "hilist_code": code, "hilist_name": name,
                         "fee_ocur_time": time, "cnt": 1.0, "pric": 10.0, "det_item_fee_sumamt": 10.0, "rxno": "RX1"}],
    }
    return medaudit.claims_from_json(claims)


def test_coverage_accounts_for_every_point(national):
    pack, cov = national
    assert isinstance(pack, medaudit.RulePack) and pack.id == "nhsa-liangku"
    assert cov["total"] == 3899
    assert cov["interpreted"] + cov["not_interpreted"] == cov["total"]
    assert cov["interpreted_share"] >= 0.95 and cov["judging_share"] >= 0.95
    drug_sex = next(c for c in cov["classes"] if c["rule_class"] == "药品区分性别使用")
    assert drug_sex["rules"] == ["drug_sex"] and drug_sex["interpreted"] == drug_sex["points"]
    # The one note row (no code) of 医疗服务项目区分性别使用 is reported with its kp_id, not dropped.
    sex = next(c for c in cov["classes"] if c["rule_class"] == "医疗服务项目区分性别使用")
    assert [s["kp_id"] for s in sex["not_interpreted"]] == ["KP-03e96cd241d2f1ae"]
    # The pack's JSON is a complete pack: it loads again to the same rules.
    assert medaudit.RulePack.from_json(pack.json).rule_ids == pack.rule_ids


def test_male_patient_billed_aifu_nuangong_wan_is_flagged(national):
    engine = medaudit.Engine(national[0])
    for time, kp, batch in [("2025-09-01 10:00:00", "KP-d44c62fff59ea98b", "【第1批】"),
                            ("2026-03-01 10:00:00", "KP-8f3fb0c6c5f6fe1b", "【2026-01-28修订】")]:
        found = engine.check(**one_encounter("1", AIFU, "艾附暖宫丸", time), progress=False).to_pylist()
        assert len(found) == 1, found
        f = found[0]
        assert (f["rule_name"], f["rule_code"], f["kp_id"]) == ("药品区分性别使用", "GZ10000301004000", kp)
        assert f["basis"].startswith(batch) and "暖宫调经" in f["basis"]
        assert "限女性使用" in f["message"]
    woman = engine.check(**one_encounter("2", AIFU, "艾附暖宫丸", "2026-03-01 10:00:00"), progress=False)
    assert woman.num_rows == 0


def test_text_input_and_options_match_the_c_abi_names(national):
    text = RECORDS.read_text(encoding="utf-8")
    pack, cov = medaudit.national_import(text, pack_id="mine", starter_indications=False,
                                         std_prices={"33.2200": 1200.0}, internet_med_types=["9901"])
    assert pack.id == "mine"
    ind = next(c for c in cov["classes"] if c["rule_class"] == "药品限适应症")
    ind_default = next(c for c in national[1]["classes"] if c["rule_class"] == "药品限适应症")
    # Without the starter mapping every indication point waits for a mapping (never guessed).
    assert ind["awaiting_mapping"] == ind["interpreted"] > ind_default["awaiting_mapping"]
    # A mapping given as TSV is used: one more mapped text than without it.
    some = json.loads(text)
    first = next(r for r in some if r["rule_class"] == "药品限适应症")
    tsv = f"{first['constraint']}\tC\t测试\n"
    _, cov2 = medaudit.national_import(text, starter_indications=False, indications_tsv=tsv)
    ind2 = next(c for c in cov2["classes"] if c["rule_class"] == "药品限适应症")
    assert ind2["awaiting_mapping"] < ind["awaiting_mapping"]


def test_malformed_records_raise_with_the_core_message(tmp_path):
    with pytest.raises(medaudit.Error, match=r"national records.*\$\[0\]\.kp_id: missing required field"):
        medaudit.national_import('[{"rule_class": "药品区分性别使用"}]')
    with pytest.raises(medaudit.Error, match=r"\$\[1\]\.kp_id: duplicate kp_id \"A\""):
        medaudit.national_import('[{"kp_id": "A", "rule_class": "x"}, {"kp_id": "A", "rule_class": "x"}]')
    with pytest.raises(OSError, match="nope.json"):
        medaudit.national_import(tmp_path / "nope.json")
    with pytest.raises(TypeError, match="internet_med_types"):
        medaudit.national_import("[]", internet_med_types="9901")
    # An unknown class is reported in the coverage, not dropped.
    _, cov = medaudit.national_import('[{"kp_id": "A", "rule_class": "x", "med_codes": ["X1"]}]')
    assert (cov["interpreted"], cov["not_interpreted"]) == (0, 1)
    assert "unknown rule class" in cov["classes"][0]["not_interpreted"][0]["reason"]
