#!/usr/bin/env python3
"""medaudit vs DuckDB on identical synthetic claims.

    python3 core/benches/duckdb_compare.py [--lines N] [--dir DIR] [--threads T] [--reuse]

1. Makes (or reuses) a venv at <repo>/.venv with duckdb, and re-runs itself inside it.
2. Runs `cargo run --release -p medaudit-core --example bench_report -- --lines N --export DIR`:
   medaudit's own numbers, the claims as CSV, and medaudit's finding counts per rule
   (DIR/medaudit_counts.json). `--reuse` skips this when DIR already holds an export.
3. Loads the CSVs into DuckDB tables (load time reported on its own) and the knowledge tables of
   core/packs/sample.json from their inline rows.
4. Runs the sample pack's 21 rules as SQL written the way an analyst would (one query per rule,
   each materialising its findings), with `SET threads=T` (default 2), and reports the total SQL
   time, the per-rule counts against medaudit's and the ground truth's (mismatches are printed and
   make the exit status 1), and medaudit_time / duckdb_time.

medaudit's time is its best whole-pack check on one thread (on-CPU time of that thread), on Arrow
data already in memory; the DuckDB time is the wall time of the SQL alone on tables already loaded
(its CPU time over all threads is printed too). The data is deterministic (seeded), so `--reuse`
compares other engine builds on the same CSVs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".venv"
PACK = REPO / "core" / "packs" / "sample.json"


def ensure_venv() -> None:
    """Re-executes this script with the venv's python, creating the venv and installing duckdb."""
    py = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not py.exists():
        print(f"creating venv {VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = subprocess.run([str(py), "-c", "import duckdb"], capture_output=True)
    if probe.returncode != 0:
        print("installing duckdb into the venv", flush=True)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "duckdb"], check=True)
    os.execv(str(py), [str(py), str(Path(__file__).resolve()), *sys.argv[1:]])


# --- data -------------------------------------------------------------------------------------

CSV_COLUMNS = {
    "mdtrt": {
        "mdtrt_id": "VARCHAR", "psn_no": "VARCHAR", "gend": "VARCHAR", "brdy": "DATE", "age": "DOUBLE",
        "insutype": "VARCHAR", "med_type": "VARCHAR", "fixmedins_code": "VARCHAR", "hosp_lv": "VARCHAR",
        "begntime": "TIMESTAMP", "endtime": "TIMESTAMP", "die_date": "DATE",
    },
    "diagnoses": {"mdtrt_id": "VARCHAR", "diag_code": "VARCHAR", "maindiag_flag": "VARCHAR"},
    "operations": {"mdtrt_id": "VARCHAR", "oprn_oprt_code": "VARCHAR", "oprn_oprt_date": "TIMESTAMP"},
    "fee_details": {
        "feedetl_sn": "VARCHAR", "mdtrt_id": "VARCHAR", "psn_no": "VARCHAR", "hilist_code": "VARCHAR",
        "hilist_name": "VARCHAR", "fee_ocur_time": "TIMESTAMP", "list_type": "VARCHAR",
        "med_chrgitm_type": "VARCHAR", "cnt": "DOUBLE", "pric": "DOUBLE", "det_item_fee_sumamt": "DOUBLE",
        "bilg_dept_codg": "VARCHAR", "rxno": "VARCHAR",
    },
}


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def load_claims(con, data_dir: Path) -> dict[str, int]:
    rows = {}
    for table, cols in CSV_COLUMNS.items():
        spec = "{" + ", ".join(f"{sql_str(c)}: {sql_str(t)}" for c, t in cols.items()) + "}"
        path = sql_str(str(data_dir / f"{table}.csv"))
        con.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_csv({path}, header = true, "
            f"columns = {spec}, timestampformat = '%Y-%m-%d %H:%M:%S', dateformat = '%Y-%m-%d')"
        )
        rows[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return rows


def load_knowledge(con, pack: dict) -> None:
    """One table k_<name> per knowledge table of the pack, from its inline rows."""
    for name, decl in pack["knowledge"].items():
        rows = decl["rows"]
        cols: list[str] = []
        for r in rows:
            cols += [c for c in r if c not in cols]
        types = {}
        for c in cols:
            vals = [r[c] for r in rows if r.get(c) is not None]
            types[c] = "DOUBLE" if vals and all(isinstance(v, (int, float)) for v in vals) else "VARCHAR"
        ddl = ", ".join(f'"{c}" {types[c]}' for c in cols)
        con.execute(f"CREATE OR REPLACE TABLE k_{name} ({ddl})")
        con.executemany(
            f"INSERT INTO k_{name} VALUES ({', '.join('?' for _ in cols)})",
            [[r.get(c) if types[c] == "DOUBLE" or r.get(c) is None else str(r[c]) for c in cols] for r in rows],
        )


SCENE_BITS = {"门诊": 1, "住院": 2, "购药": 4, "互联网": 8}


def define_helpers(con, pack: dict) -> dict[str, str]:
    """Macros and a view an analyst would write once: facility tier, scene of an encounter."""
    con.execute(
        """CREATE OR REPLACE MACRO tier(lv) AS CASE
             WHEN lv IN ('01','02','03','04') THEN 3 WHEN lv IN ('05','06','07') THEN 2
             WHEN lv IN ('08','09','10') THEN 1 WHEN lv IN ('11','12','13','14') THEN 0 END"""
    )
    parts = []
    for scene, codes in pack.get("scenes", {}).items():
        for code in codes:
            parts.append(f"(CASE WHEN starts_with(med_type, {sql_str(code)}) THEN {SCENE_BITS[scene]} ELSE 0 END)")
    scene_expr = " | ".join(parts) if parts else "0"
    con.execute(f"CREATE OR REPLACE VIEW mdtrt_s AS SELECT *, coalesce({scene_expr}, 0) AS scene FROM mdtrt")
    names = " + ".join(
        f"(CASE WHEN list_contains(string_split(coalesce(s, ''), '|'), {sql_str(n)}) THEN {b} ELSE 0 END)"
        for n, b in SCENE_BITS.items()
    )
    con.execute(f"CREATE OR REPLACE MACRO scene_mask(s) AS {names}")
    # Code sets: one anchored regex per set, as a CASE an analyst would paste in.
    sets = {n: "^(?:" + "|".join(p) + ")" for n, p in pack.get("code_sets", {}).items()}
    return sets


def in_set_case(sets: dict[str, str], set_col: str, code_col: str) -> str:
    whens = " ".join(f"WHEN {sql_str(n)} THEN regexp_matches({code_col}, {sql_str(rx)})" for n, rx in sets.items())
    return f"CASE {set_col} {whens} ELSE false END"


def window_match(w: str, a: str, b: str) -> str:
    """SQL: line times a and b are in window w (a column with 'hour', 'day', 'encounter' or '<N>h')."""
    return (
        f"CASE {w} WHEN 'encounter' THEN true "
        f"WHEN 'day' THEN CAST({a} AS DATE) = CAST({b} AS DATE) "
        f"WHEN 'hour' THEN date_trunc('hour', {a}) = date_trunc('hour', {b}) "
        f"ELSE abs(epoch({a}) - epoch({b})) <= 3600 * CAST(rtrim({w}, 'h') AS INTEGER) END"
    )


def rule_sql(sets: dict[str, str]) -> dict[str, str]:
    """One query per rule of the sample pack; each returns the flagged lines."""
    line = "f.feedetl_sn, f.mdtrt_id, f.hilist_code, f.det_item_fee_sumamt AS amount"
    q = {}
    q["sex"] = f"""
        SELECT {line}, k.kp_id FROM fee_details f
        JOIN k_sex_items k ON starts_with(f.hilist_code, k.code)
        JOIN mdtrt m ON m.mdtrt_id = f.mdtrt_id
        WHERE m.gend IN ('1', '2') AND m.gend <> k.sex"""
    q["age"] = f"""
        WITH a AS (
          SELECT {line}, k.kp_id, k.min_age, k.max_age, k.max_age_days,
                 coalesce(year(f.fee_ocur_time) - year(m.brdy)
                   - CASE WHEN month(f.fee_ocur_time) * 100 + day(f.fee_ocur_time)
                              < month(m.brdy) * 100 + day(m.brdy) THEN 1 ELSE 0 END,
                   floor(m.age)) AS age_years,
                 date_diff('day', m.brdy, CAST(f.fee_ocur_time AS DATE)) AS age_days
          FROM fee_details f
          JOIN k_age_items k ON starts_with(f.hilist_code, k.code)
          JOIN mdtrt m ON m.mdtrt_id = f.mdtrt_id)
        SELECT * FROM a WHERE age_years < min_age OR age_years > max_age OR age_days > max_age_days"""
    q["insutype"] = f"""
        SELECT {line}, k.kp_id FROM fee_details f
        JOIN k_insutype_items k ON starts_with(f.hilist_code, k.code)
        JOIN mdtrt m ON m.mdtrt_id = f.mdtrt_id
        WHERE m.insutype IS NOT NULL AND NOT list_contains(string_split(k.insutype, '|'), m.insutype)"""
    q["hosp_level"] = f"""
        SELECT {line}, k.kp_id FROM fee_details f
        JOIN k_level_items k ON starts_with(f.hilist_code, k.code)
        JOIN mdtrt m ON m.mdtrt_id = f.mdtrt_id
        WHERE tier(m.hosp_lv) < k.min_level"""
    q["scene"] = f"""
        SELECT {line}, k.kp_id FROM fee_details f
        JOIN k_scene_items k ON starts_with(f.hilist_code, k.code)
        JOIN mdtrt_s m ON m.mdtrt_id = f.mdtrt_id
        WHERE m.scene <> 0
          AND ((scene_mask(k.allowed_scenes) <> 0 AND m.scene & scene_mask(k.allowed_scenes) = 0)
               OR m.scene & scene_mask(k.denied_scenes) <> 0)"""
    q["dept"] = f"""
        SELECT {line}, k.kp_id FROM fee_details f
        JOIN k_dept_items k ON starts_with(f.hilist_code, k.code)
        WHERE f.bilg_dept_codg IS NOT NULL
          AND len(list_filter(string_split(k.depts, '|'), lambda d: starts_with(f.bilg_dept_codg, d))) = 0"""
    q["price_cap"] = f"""
        WITH p AS (
          SELECT {line}, k.kp_id, f.pric, f.cnt,
                 CASE greatest(tier(m.hosp_lv), 1) WHEN 3 THEN k.max_price_l3 WHEN 2 THEN k.max_price_l2
                      WHEN 1 THEN k.max_price_l1 END AS cap
          FROM fee_details f
          JOIN k_price_items k ON f.hilist_code = k.code
          JOIN mdtrt m ON m.mdtrt_id = f.mdtrt_id)
        SELECT *, (pric - cap) * cnt AS excess FROM p WHERE pric > cap + 0.005"""
    q["not_payable"] = f"""
        SELECT {line}, k.kp_id FROM fee_details f JOIN k_banned_herbs k ON f.hilist_code = k.code"""
    q["amount_mismatch"] = f"""
        SELECT {line}, abs(f.det_item_fee_sumamt - f.cnt * f.pric) AS diff FROM fee_details f
        WHERE abs(f.det_item_fee_sumamt - f.cnt * f.pric) > 0.01 + 1e-9"""
    q["fee_outside_stay"] = f"""
        SELECT {line} FROM fee_details f JOIN mdtrt_s m ON m.mdtrt_id = f.mdtrt_id
        WHERE (m.scene = 0 OR m.scene & 2 <> 0)
          AND (f.fee_ocur_time < m.begntime OR f.fee_ocur_time > m.endtime)"""
    q["fee_after_death"] = f"""
        SELECT {line} FROM fee_details f JOIN mdtrt m ON m.mdtrt_id = f.mdtrt_id
        WHERE m.die_date IS NOT NULL AND CAST(f.fee_ocur_time AS DATE) > m.die_date"""
    q["bed_days"] = f"""
        WITH b AS (
          SELECT {line}, k.kp_id, f.cnt, f.pric,
                 greatest(date_diff('day', CAST(m.begntime AS DATE), CAST(m.endtime AS DATE)), 1) AS los,
                 sum(f.cnt) OVER (PARTITION BY f.mdtrt_id ORDER BY f.fee_ocur_time, f.feedetl_sn
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running
          FROM fee_details f
          JOIN k_bed_items k ON starts_with(f.hilist_code, k.code)
          JOIN mdtrt_s m ON m.mdtrt_id = f.mdtrt_id
          WHERE m.scene = 0 OR m.scene & 2 <> 0)
        SELECT * FROM b WHERE running > los + 1e-9 AND cnt > 0"""
    q["frequency"] = f"""
        WITH q AS (
          SELECT {line}, k.kp_id, k.max_qty, f.cnt,
                 sum(f.cnt) OVER (PARTITION BY f.mdtrt_id, k.kp_id,
                                  CASE k."window" WHEN 'hour' THEN date_trunc('hour', f.fee_ocur_time)
                                                  WHEN 'day' THEN date_trunc('day', f.fee_ocur_time) END
                                  ORDER BY f.fee_ocur_time, f.feedetl_sn
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running
          FROM fee_details f JOIN k_frequency_items k ON f.hilist_code = k.code)
        SELECT * FROM q WHERE running > max_qty + 1e-9 AND cnt > 0"""
    q["indication"] = f"""
        SELECT {line}, k.kp_id FROM fee_details f
        JOIN k_indications k ON starts_with(f.hilist_code, k.code)
        WHERE NOT EXISTS (SELECT 1 FROM diagnoses d
                          WHERE d.mdtrt_id = f.mdtrt_id AND {in_set_case(sets, 'k.diag_set', 'd.diag_code')})"""
    q["contraindication"] = f"""
        SELECT {line}, k.kp_id FROM fee_details f
        JOIN k_contraindications k ON starts_with(f.hilist_code, k.code)
        WHERE EXISTS (SELECT 1 FROM diagnoses d
                      WHERE d.mdtrt_id = f.mdtrt_id AND {in_set_case(sets, 'k.diag_set', 'd.diag_code')})"""
    q["duplicate_charge"] = f"""
        SELECT DISTINCT f.feedetl_sn, f.mdtrt_id, f.hilist_code, f.det_item_fee_sumamt AS amount, k.kp_id
        FROM k_duplicate_pairs k
        JOIN fee_details f ON f.hilist_code = k.code_b
        JOIN fee_details a ON a.mdtrt_id = f.mdtrt_id AND a.hilist_code = k.code AND a.feedetl_sn <> f.feedetl_sn
        WHERE {window_match('k."window"', 'a.fee_ocur_time', 'f.fee_ocur_time')}"""
    q["companion"] = f"""
        WITH b AS (
          SELECT f.mdtrt_id, f.feedetl_sn, f.fee_ocur_time, k.kp_id FROM fee_details f
          JOIN k_companions k ON starts_with(f.hilist_code, k.code_b))
        SELECT {line}, k.kp_id FROM fee_details f
        JOIN k_companions k ON starts_with(f.hilist_code, k.code)
        WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.mdtrt_id = f.mdtrt_id AND b.kp_id = k.kp_id
                            AND b.feedetl_sn <> f.feedetl_sn
                            AND {window_match('k."window"', 'b.fee_ocur_time', 'f.fee_ocur_time')})"""
    q["surgery_discount"] = """
        WITH s AS (
          SELECT f.feedetl_sn, f.mdtrt_id, f.hilist_code, f.pric, f.cnt, f.fee_ocur_time, k.kp_id,
                 k."group" AS grp, k.std_price, CAST(f.fee_ocur_time AS DATE) AS d
          FROM fee_details f JOIN k_surgical_groups k ON f.hilist_code = k.code),
        g AS (SELECT mdtrt_id, grp, d FROM s GROUP BY ALL HAVING count(DISTINCT hilist_code) >= 2),
        r AS (
          SELECT s.*, row_number() OVER (PARTITION BY s.mdtrt_id, s.grp, s.d
                                        ORDER BY coalesce(s.std_price, s.pric) DESC, s.fee_ocur_time, s.feedetl_sn) AS rk
          FROM s JOIN g USING (mdtrt_id, grp, d))
        SELECT feedetl_sn, mdtrt_id, hilist_code, kp_id, (pric - std_price * 0.5) * cnt AS amount FROM r
        WHERE rk > 1 AND std_price IS NOT NULL AND pric > std_price * 0.5 + 0.01"""
    rx = "coalesce(f.rxno, 'day ' || CAST(CAST(f.fee_ocur_time AS DATE) AS VARCHAR))"
    q["herbs_only"] = f"""
        WITH h AS (
          SELECT {line}, {rx} AS rx, k.kp_id FROM fee_details f
          LEFT JOIN k_single_herbs k ON f.hilist_code = k.code
          WHERE starts_with(f.hilist_code, 'T') OR k.code IS NOT NULL),
        p AS (SELECT mdtrt_id, rx FROM h GROUP BY mdtrt_id, rx HAVING bool_and(kp_id IS NOT NULL))
        SELECT h.* FROM h JOIN p USING (mdtrt_id, rx)"""
    q["rx_drug_count"] = f"""
        WITH d AS (
          SELECT {line}, f.fee_ocur_time, {rx} AS rx FROM fee_details f
          JOIN mdtrt_s m ON m.mdtrt_id = f.mdtrt_id
          WHERE (starts_with(f.hilist_code, 'X') OR starts_with(f.hilist_code, 'Z'))
            AND (m.scene = 0 OR m.scene & {1 | 4 | 8} <> 0)),
        big AS (SELECT mdtrt_id, rx FROM d GROUP BY mdtrt_id, rx HAVING count(DISTINCT hilist_code) > 5),
        ordered AS (
          SELECT d.*, row_number() OVER (PARTITION BY mdtrt_id, rx ORDER BY fee_ocur_time, feedetl_sn) AS ord
          FROM d JOIN big USING (mdtrt_id, rx)),
        firsts AS (
          SELECT mdtrt_id, rx, hilist_code, row_number() OVER (PARTITION BY mdtrt_id, rx ORDER BY min(ord)) AS pos
          FROM ordered GROUP BY mdtrt_id, rx, hilist_code)
        SELECT o.* FROM ordered o JOIN firsts USING (mdtrt_id, rx, hilist_code) WHERE firsts.pos > 5"""
    # The pack's `expr` rule: one finding per encounter.
    q["antineoplastic_without_cancer"] = """
        SELECT DISTINCT f.mdtrt_id FROM fee_details f
        WHERE starts_with(f.hilist_code, 'XL01')
          AND NOT EXISTS (SELECT 1 FROM diagnoses d WHERE d.mdtrt_id = f.mdtrt_id
                          AND regexp_matches(d.diag_code, '^(C(0[0-9]|[1-8][0-9]|9[0-7])|D0[0-9])'))"""
    return q


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=10_000_000, help="fee lines to generate (default 10M)")
    ap.add_argument("--dir", type=Path, default=REPO / "bench-data", help="export directory (default <repo>/bench-data)")
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads (default 2)")
    ap.add_argument("--reuse", action="store_true", help="reuse an existing export in --dir instead of running bench_report")
    ap.add_argument("--memory-limit", default="12GB", help="DuckDB memory_limit (default 12GB)")
    args = ap.parse_args()

    ensure_venv()
    import duckdb  # noqa: E402  (imported inside the venv)

    counts_path = args.dir / "medaudit_counts.json"
    if not (args.reuse and counts_path.exists()):
        cmd = ["cargo", "run", "--release", "-p", "medaudit-core", "--example", "bench_report", "--",
               "--lines", str(args.lines), "--export", str(args.dir)]
        print("$ " + " ".join(cmd), flush=True)
        subprocess.run(cmd, cwd=REPO, check=True)
    report = json.loads(counts_path.read_text())
    pack = json.loads(PACK.read_text())

    print(f"\n== DuckDB {duckdb.__version__}, threads={args.threads}, data {args.dir} ({report['lines']} lines)")
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    con.execute(f"SET memory_limit = {sql_str(args.memory_limit)}")
    con.execute("SET preserve_insertion_order = false")
    t0 = time.perf_counter()
    rows = load_claims(con, args.dir)
    t_load = time.perf_counter() - t0
    print(f"  load CSV: {t_load:.2f} s  ({', '.join(f'{t} {n}' for t, n in rows.items())})")
    load_knowledge(con, pack)
    sets = define_helpers(con, pack)

    queries = rule_sql(sets)
    rule_ids = [r["id"] for r in pack["rules"]]
    missing = [r for r in rule_ids if r not in queries]
    if missing:
        print(f"  no SQL for rules: {missing}")
    times: dict[str, float] = {}
    cpu: dict[str, float] = {}
    got: dict[str, int] = {}
    for rid in rule_ids:
        if rid not in queries:
            continue
        t, c = time.perf_counter(), time.process_time()
        con.execute(f"CREATE OR REPLACE TEMP TABLE findings_{rid} AS {queries[rid]}")
        times[rid] = time.perf_counter() - t
        cpu[rid] = time.process_time() - c
        got[rid] = con.execute(f"SELECT count(*) FROM findings_{rid}").fetchone()[0]
    t_sql = sum(times.values())

    ma = report["findings_per_rule"]
    truth = report.get("truth_per_rule", {})
    ma_rule = report["seconds"].get("per_rule", {})
    print()
    print(f"  {'rule':<18} {'medaudit':>9} {'duckdb':>9} {'truth':>9}  {'':5} {'duckdb s':>9} {'medaudit s*':>11}")
    bad = []
    for rid in rule_ids:
        m, d, tr = ma.get(rid), got.get(rid), truth.get(rid)
        ok = m == d and (tr is None or m == tr)
        if not ok:
            bad.append(rid)
        print(f"  {rid:<18} {m!s:>9} {d!s:>9} {tr!s:>9}  {'ok' if ok else 'DIFF':5} {times.get(rid, float('nan')):>9.3f} "
              f"{ma_rule.get(rid, float('nan')):>11.3f}")
    print("  * medaudit s: that rule alone in one check call, including the call's fixed cost")

    sec = report["seconds"]
    t_ma = sec["whole_pack_plain_best"]
    t_ma_wall = sec.get("whole_pack_plain_wall_best", t_ma)
    print()
    print(f"  DuckDB: load {t_load:.2f} s; {len(times)} rule queries {t_sql:.2f} s wall on {args.threads} threads "
          f"({sum(cpu.values()):.2f} s CPU over all threads)")
    print(f"  medaudit whole pack on 1 thread: {t_ma:.3f} s on-CPU (best; median {sec['whole_pack_plain_median']:.3f} s), "
          f"{t_ma_wall:.3f} s wall")
    print(f"  medaudit_time / duckdb_time = {t_ma / t_sql:.4f}   (DuckDB takes {t_sql / t_ma:.1f}x medaudit's time; "
          f"wall/wall {t_ma_wall / t_sql:.4f})")
    t_2 = sec.get("whole_pack_plain_2_threads_wall_best")
    if t_2:
        print(f"  medaudit whole pack on 2 threads (CheckOptions.threads = 2): {t_2:.3f} s wall; "
              f"DuckDB on {args.threads} threads takes {t_sql / t_2:.1f}x medaudit's time")
    if bad:
        print(f"  MISMATCH in {len(bad)} rule(s): {', '.join(bad)}")
        return 1
    print("  finding counts: all rules match medaudit and the ground truth")
    return 0


if __name__ == "__main__":
    sys.exit(main())
