"""medaudit.indicators: provider indicators against a direct pandas computation on generated claims, the
config (dict, JSON text, a pack's section) and its errors; validate_expr for analysts' expression rules."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

import medaudit


@pytest.fixture(scope="module")
def synth():
    return medaudit.synth.claims(encounters=2500, seed=5, facilities=30, days=61)


def by_facility(table, *extra):
    return {tuple(r[k] for k in ("fixmedins_code", *extra)): r for r in table.to_pylist()}


def test_drug_share_and_average_cost_equal_pandas(synth):
    out = medaudit.indicators(mdtrt=synth.mdtrt, fee_details=synth.fee_details)
    fee = synth.fee_details.select(["mdtrt_id", "med_chrgitm_type", "det_item_fee_sumamt"]).to_pandas()
    enc = synth.mdtrt.select(["mdtrt_id", "fixmedins_code"]).to_pandas()
    lines = fee.merge(enc, on="mdtrt_id", how="left")
    assert lines["fixmedins_code"].notna().all()
    lines["drug"] = lines["det_item_fee_sumamt"].where(lines["med_chrgitm_type"].isin(["09", "10", "11"]), 0.0)
    per = lines.groupby("fixmedins_code").agg(total=("det_item_fee_sumamt", "sum"), drug=("drug", "sum"))
    per["encounters"] = enc.groupby("fixmedins_code").size()
    got = by_facility(out)
    assert len(got) == len(per) == out.num_rows >= 20
    for code, row in per.iterrows():
        r = got[(code,)]
        assert r["encounters"] == row["encounters"]
        assert r["total_fee"] == pytest.approx(row["total"])
        assert r["drug_share"] == pytest.approx(row["drug"] / row["total"])  # 药占比
        assert r["avg_cost"] == pytest.approx(row["total"] / row["encounters"])  # 次均费用
    # Ranked for inspection: rank 1 first, scores not increasing.
    assert out["rank"].to_pylist() == list(range(1, out.num_rows + 1))
    scores = out["score"].to_pylist()
    assert scores == sorted(scores, reverse=True)


def test_config_as_dict_text_and_pack_section(synth):
    cfg = {"dimensions": ["month"], "flag": {"percentile": None, "z": 2.0, "min_peers": 3}}
    by_dict = medaudit.indicators(synth.mdtrt, synth.fee_details, config=cfg)
    by_text = medaudit.indicators(synth.mdtrt, synth.fee_details, config=json.dumps(cfg))
    assert by_dict.equals(by_text)
    assert "month" in by_dict.column_names
    assert set(by_dict["month"].to_pylist()) == {"2026-03", "2026-04"}
    # Per facility and month, the drug share is that month's.
    fee = synth.fee_details.select(["mdtrt_id", "med_chrgitm_type", "det_item_fee_sumamt"]).to_pandas()
    enc = synth.mdtrt.select(["mdtrt_id", "fixmedins_code", "begntime"]).to_pandas()
    enc["month"] = enc["begntime"].dt.strftime("%Y-%m")
    lines = fee.merge(enc, on="mdtrt_id")
    lines["drug"] = lines["det_item_fee_sumamt"].where(lines["med_chrgitm_type"].isin(["09", "10", "11"]), 0.0)
    per = lines.groupby(["fixmedins_code", "month"]).agg(total=("det_item_fee_sumamt", "sum"), drug=("drug", "sum"))
    got = by_facility(by_dict, "month")
    for key, row in per.iterrows():
        assert got[key]["drug_share"] == pytest.approx(row["drug"] / row["total"])
    pack_json = json.loads(medaudit.RulePack.sample().json)
    pack_json["indicators"] = cfg
    pack = medaudit.RulePack.from_json(json.dumps(pack_json, ensure_ascii=False))
    assert json.loads(pack.indicators) == cfg
    assert medaudit.indicators(synth.mdtrt, synth.fee_details, config=pack).equals(by_dict)


def test_config_errors_name_the_json_path(synth):
    with pytest.raises(medaudit.Error, match=r"\$\.peer_keys\[0\]: unknown peer key") as info:
        medaudit.indicators(synth.mdtrt, synth.fee_details, config={"peer_keys": ["x"]})
    assert info.value.kind in ("pack", "pack_json", "argument")
    with pytest.raises(medaudit.Error, match=r"\$\.flag\.percentile"):
        medaudit.indicators(synth.mdtrt, synth.fee_details, config={"flag": {"percentile": "high"}})
    with pytest.raises(medaudit.RulePackError, match=r"invalid JSON"):
        medaudit.indicators(synth.mdtrt, synth.fee_details, config="{oops")
    bad = json.loads(medaudit.RulePack.sample().json)
    bad["indicators"] = {"flag": {"percentile": 2}}
    with pytest.raises(medaudit.RulePackError, match=r"\$\.indicators\.flag\.percentile"):
        medaudit.RulePack.from_json(json.dumps(bad, ensure_ascii=False))
    with pytest.raises(TypeError, match="config"):
        medaudit.indicators(synth.mdtrt, synth.fee_details, config=3)


def test_claims_errors_name_table_column_row(synth):
    with pytest.raises(medaudit.ClaimsError, match=r'mdtrt: column "hosp_lv": missing'):
        medaudit.indicators(synth.mdtrt.drop_columns(["hosp_lv"]), synth.fee_details)
    nulls = synth.mdtrt.set_column(synth.mdtrt.schema.get_field_index("fixmedins_code"), "fixmedins_code",
                                   pa.array([None] + synth.mdtrt["fixmedins_code"].to_pylist()[1:], pa.string()))
    with pytest.raises(medaudit.ClaimsError, match=r'"fixmedins_code".*row 0|row 0.*"fixmedins_code"'):
        medaudit.indicators(nulls, synth.fee_details)
    assert medaudit.indicators(synth.mdtrt.slice(0, 0), synth.fee_details.slice(0, 0)).num_rows == 0


def test_validate_expr_gives_the_scope_or_the_core_error():
    assert medaudit.validate_expr("R1", 'line.list_type == "101" and line.prd_days > 7') == "line"
    assert medaudit.validate_expr("R2", 'any(diagnoses, code ~ "^C")') == "encounter"
    with pytest.raises(medaudit.RulePackError) as info:
        medaudit.validate_expr("R3", "line.prd_dayz > 7")
    msg = str(info.value)
    assert 'rule "R3": params.expr: 1:1' in msg and "unknown column line.prd_dayz" in msg
    assert msg.splitlines()[-1].lstrip().startswith("^") and info.value.kind == "rule"
