"""Times the issue-3/4 Python entries on generated data: DRG grouping of Arrow tables through
``DrgScheme.group`` (the 30 OpenDRG reference cases cycled), and the streaming ``Auditor`` against one bulk
``Engine.check`` of the history sample pack on the same claims (with the findings checked equal).

    cd python && maturin develop --release && cd ..
    python examples/python/bench_history_drg.py [--cases 1000000] [--persons 20000] [--batches 100] [--repeats 3]

Best of ``--repeats`` wall times; compare with ``cargo run --release -p medaudit-core --example drg_bench``.
"""

from __future__ import annotations

import argparse
import csv
import pathlib
import time

import pyarrow as pa
import pyarrow.compute as pc

import medaudit


def best(f, repeats):
    times = []
    out = None
    for _ in range(repeats):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return min(times), out


def drg(data: pathlib.Path, n: int, repeats: int) -> None:
    folder, cases = data / "chs-drg-1.1", data / "opendrg-chs-drg-1.1" / "input_test_cases.csv"
    if not folder.exists() or not cases.exists():
        print(f"(no {folder}: DRG skipped)")
        return
    t, scheme = best(lambda: medaudit.DrgScheme.load(folder), 1)
    print(f"DrgScheme.load chs-drg-1.1: {t * 1000:.0f} ms")
    with cases.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    ids, gend, age, los, dx_id, dx, dx_flag, px_id, px, px_flag = ([] for _ in range(10))
    for i in range(n):
        r = rows[i % len(rows)]
        mid = f"M{i:08d}"
        ids.append(mid), gend.append(r["gender"]), age.append(float(r["age"])), los.append(float(r["inHospitalTime"]))
        for k, c in enumerate(x for x in r["ICD10_DRGS"].split("|") if x):
            dx_id.append(mid), dx.append(c), dx_flag.append("1" if k == 0 else "0")
        for k, c in enumerate(x for x in r["ICD9_DRGS"].split("|") if x):
            px_id.append(mid), px.append(c), px_flag.append("1" if k == 0 else "0")
    mdtrt = pa.table({"mdtrt_id": ids, "gend": gend, "age": age, "act_ipt_days": los})
    diagnoses = pa.table({"mdtrt_id": dx_id, "diag_code": dx, "maindiag_flag": dx_flag})
    operations = pa.table({"mdtrt_id": px_id, "oprn_oprt_code": px, "main_oprn_flag": px_flag})
    for trace in (False, True):
        t, out = best(lambda: scheme.group(mdtrt, diagnoses, operations, trace=trace), repeats)
        print(f"DrgScheme.group, {n:,} cases, trace={trace}: {t:.3f} s = {n / t / 1e6:.2f} M cases/s "
              f"({pc.sum(pc.equal(out['status'], 'grouped')).as_py():,} grouped)")


def history(persons: int, batches: int, repeats: int) -> None:
    pack = medaudit.RulePack.history_sample()
    engine = medaudit.Engine(pack)
    data = medaudit.synth.history(persons=persons, seed=1)
    step = max(data.mdtrt.num_rows // batches, 1)
    pieces = []
    for lo in range(0, data.mdtrt.num_rows, step):
        m = data.mdtrt.slice(lo, step)
        ids = m["mdtrt_id"]
        pieces.append({"mdtrt": m, "fee_details": data.fee_details.filter(pc.is_in(data.fee_details["mdtrt_id"], ids)),
                       "diagnoses": data.diagnoses.filter(pc.is_in(data.diagnoses["mdtrt_id"], ids))})
    t_bulk, bulk = best(lambda: engine.check(**data.tables, progress=False), repeats)

    def stream():
        a = medaudit.Auditor(engine, lateness=17 * 86_400)
        out = [a.push(**p) for p in pieces]
        out.append(a.finish())
        return pa.concat_tables(out), a

    t_stream, (streamed, _) = best(stream, repeats)
    assert sorted(streamed["finding_id"].to_pylist()) == sorted(bulk["finding_id"].to_pylist())
    print(f"history sample pack, {persons:,} persons, {data.lines:,} lines, {data.mdtrt.num_rows:,} encounters: "
          f"bulk Engine.check {t_bulk:.3f} s; Auditor in {len(pieces)} batches {t_stream:.3f} s "
          f"({t_stream / t_bulk:.2f}x); {bulk.num_rows:,} findings, equal")
    a = medaudit.Auditor(engine, lateness=17 * 86_400)
    for p in pieces[: len(pieces) // 2]:
        a.push(**p)
    t, state = best(a.export_state, 1)
    t2, _ = best(lambda: medaudit.Auditor.import_state(engine, state), 1)
    print(f"  state after half the batches: {len(state) / 1e6:.1f} MB, export {t * 1000:.0f} ms, import {t2 * 1000:.0f} ms, {a.stats()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = pathlib.Path(__file__).resolve().parents[2]
    ap.add_argument("--data", type=pathlib.Path, default=root.parent / "shared" / "data")
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--batches", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    drg(args.data, args.cases, args.repeats)
    history(args.persons, args.batches, args.repeats)


if __name__ == "__main__":
    main()
