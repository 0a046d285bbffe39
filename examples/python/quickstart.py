"""medaudit quickstart: generate a month of claims, check them with the sample rule pack, and print
what to look at first.

    python examples/python/quickstart.py [--encounters N] [--seed S]

Any Arrow table works as input: pyarrow, polars, pandas or a DuckDB relation (see README).
"""

from __future__ import annotations

import argparse
import time
import unicodedata

import medaudit


def pad(text: str, width: int) -> str:
    """Left-aligns text in a terminal column, counting CJK characters as two cells."""
    cells = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - cells, 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encounters", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    pack = medaudit.RulePack.sample()  # or medaudit.RulePack.load("my_region.json")
    engine = medaudit.Engine(pack)
    claims = medaudit.synth.claims(encounters=args.encounters, seed=args.seed)
    print(f"medaudit {medaudit.__version__}: pack {pack.id!r} ({len(pack.rule_ids)} rules); "
          f"{claims.mdtrt.num_rows:,} encounters, {claims.lines:,} fee lines")

    t = time.perf_counter()
    findings = engine.check(**claims.tables)  # a pyarrow.Table, one row per violation
    took = time.perf_counter() - t
    print(f"checked in {took:.2f} s ({claims.lines / took / 1e6:.1f} M lines/s): {findings.num_rows:,} findings")

    s = medaudit.summarize(findings)
    print(f"amount at risk: {s.total_amount:,.2f}\n")
    print("by rule:")
    for r in s.by_rule.to_pylist():
        print(f"  {r['rule_id']:<18} {pad(r['rule_name'], 40)} {r['findings']:>7,} {r['amount']:>14,.2f}")
    print("\nfacilities to inspect first (by amount at risk):")
    for r in s.by_facility.slice(0, 10).to_pylist():
        print(f"  {r['fixmedins_code']:<14} {r['findings']:>7,} findings in {r['encounters']:>6,} encounters  {r['amount']:>12,.2f}")
    first = findings.slice(0, 1).to_pylist()
    if first:
        f = first[0]
        print(f"\nexample finding: [{f['rule_code']}] {f['rule_name']} · {f['mdtrt_id']} {f['feedetl_sn']}: {f['message']}")

    truth = {(r["rule_id"], r["mdtrt_id"], r["feedetl_sn"]) for r in claims.truth.to_pylist()}
    got = set(zip(*(findings[c].to_pylist() for c in ("rule_id", "mdtrt_id", "feedetl_sn"))))
    print(f"\nagainst the generator's ground truth: recall {len(truth & got) / max(len(truth), 1):.1%}, "
          f"precision {len(truth & got) / max(len(got), 1):.1%}")


if __name__ == "__main__":
    main()
