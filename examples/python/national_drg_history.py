"""medaudit beyond the sample pack: the national knowledge points, provider indicators, DRG grouping with
the DRG/DIP rules, and patient history checked as a stream.

    python examples/python/national_drg_history.py [--data ../shared/data] [--persons N]

`--data` is the folder holding nhsa-liangku-2025/ and chs-drg-1.1/ (the project's shared data); the
parts that need it are skipped with a note when it is absent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib

import pyarrow as pa
import pyarrow.compute as pc

import medaudit


def national(data: pathlib.Path) -> None:
    records = data / "nhsa-liangku-2025" / "all_records.json"
    if not records.exists():
        print(f"(no {records}: national import skipped)")
        return
    pack, coverage = medaudit.national_import(records, internet_med_types=["9901"])
    print(f"national knowledge: {coverage['total']} points, {coverage['interpreted_share']:.1%} interpreted, "
          f"{coverage['judging_share']:.1%} judging claims today; {len(pack.rule_ids)} rules")
    claims = medaudit.claims_from_json({
        "mdtrt": [{"mdtrt_id": "M1", "psn_no": "P1", "gend": "1", "brdy": "1980-05-01", "insutype": "310",
                   "med_type": "11", "hosp_lv": "05", "begntime": "2026-03-01 09:00:00", "endtime": "2026-03-01 10:00:00"}],
        "fee_details": [{"feedetl_sn": "L1", "mdtrt_id": "M1", "hilist_code": "ZD03AAA0043010100166",
                         "hilist_name": "艾附暖宫丸", "fee_ocur_time": "2026-03-01 09:30:00", "cnt": 1.0, "pric": 10.0,
                         "det_item_fee_sumamt": 10.0, "rxno": "RX1"}],
    })
    for f in medaudit.Engine(pack).check(**claims, progress=False).to_pylist():
        print(f"  {f['rule_name']} {f['kp_id']}: {f['message']}")


def indicators() -> None:
    claims = medaudit.synth.claims(encounters=20_000, seed=3, facilities=40)
    table = medaudit.indicators(mdtrt=claims.mdtrt, fee_details=claims.fee_details)
    print("provider indicators, facilities to look at first:")
    for r in table.slice(0, 3).to_pylist():
        print(f"  #{r['rank']} {r['fixmedins_code']} 药占比 {r['drug_share']:.1%} 次均费用 {r['avg_cost']:.0f} — {r['flags']}")


def drg(data: pathlib.Path) -> None:
    folder = data / "chs-drg-1.1"
    if not folder.exists():
        print(f"(no {folder}: DRG skipped)")
        return
    scheme = medaudit.DrgScheme.load(folder)
    one = scheme.group_case(["C61.x00"], ["60.5x02"], sex=1, age=65)
    print(f"DRG {scheme.id}: one case → {one['drg']} {one['drg_name']} ({one['trace']})")
    stays = medaudit.synth.drg(2000, seed=1)
    grouped = scheme.group(stays.mdtrt, stays.diagnoses, stays.operations)
    print(f"  {grouped.num_rows} stays grouped; statuses {pc.value_counts(grouped['status']).to_pylist()}")
    engine = medaudit.Engine(medaudit.RulePack.drg_sample(), drg_schemes=[scheme],
                             dip_catalogues=[medaudit.DipCatalogue.sample()])
    found = engine.check(**stays.tables, progress=False)
    print(f"  DRG/DIP rules: {found.num_rows} findings (generator truth: {stays.truth.num_rows})")


def history(persons: int) -> None:
    pack = medaudit.RulePack.history_sample()
    data = medaudit.synth.history(persons=persons, seed=2)
    auditor = medaudit.Auditor(pack, lateness=dt.timedelta(days=17))
    found = []
    step = max(data.mdtrt.num_rows // 10, 1)
    for lo in range(0, data.mdtrt.num_rows, step):  # ten batches, as a nightly job would get them
        m = data.mdtrt.slice(lo, step)
        ids = m["mdtrt_id"]
        fee = data.fee_details.filter(pc.is_in(data.fee_details["mdtrt_id"], ids))
        diag = data.diagnoses.filter(pc.is_in(data.diagnoses["mdtrt_id"], ids))
        found.append(auditor.push(mdtrt=m, fee_details=fee, diagnoses=diag))
        state = auditor.export_state()  # store it; resume tomorrow
        auditor = medaudit.Auditor.import_state(pack, state)
    found.append(auditor.finish())
    streamed = pa.concat_tables(found)
    bulk = medaudit.Engine(pack).check(**data.tables, progress=False)
    print(f"patient history: {streamed.num_rows} findings streamed in 10 batches, {bulk.num_rows} in one check "
          f"(state {len(state)} bytes)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = pathlib.Path(__file__).resolve().parents[2]
    ap.add_argument("--data", type=pathlib.Path, default=root.parent / "shared" / "data")
    ap.add_argument("--persons", type=int, default=2000)
    args = ap.parse_args()
    national(args.data)
    indicators()
    drg(args.data)
    history(args.persons)


if __name__ == "__main__":
    main()
