"""medaudit from Python vs DuckDB SQL vs Polars expressions, on the same generated claims; the cost of the
Python call over the Rust API; and memory showing the input is not copied.

    python examples/python/bench.py [--lines 10000000] [--threads 2] [--repeats 3] [--skip duckdb,polars]

Build the wheel with --release first (``bash examples/demo.sh`` or ``cd python && maturin develop --release``).

1. Generates claims with ``medaudit.synth`` (deterministic; ~7.8 fee lines per encounter).
2. medaudit: ``Engine.check`` on the pyarrow tables (best of ``--repeats``, wall clock, one thread), and
   the Rust API on the very same Arrow buffers (``Engine::check`` + ``to_record_batch``, timed in Rust
   with no Python in the loop). Overhead = Python / Rust − 1.
3. Memory: process RSS before the check, peak RSS during it (``/proc/self/clear_refs`` resets the peak),
   next to the input's size. A copy of the input would raise the peak by at least the input size.
4. DuckDB: the sample pack's 20 rules as SQL written the way an analyst would
   (``core/benches/duckdb_compare.py``), on the same tables loaded into DuckDB (load time reported apart).
5. Polars: the same 20 rules as Polars expressions, as an analyst would write them (eager DataFrames).
Finding counts per rule are compared with medaudit's; a difference is printed and the exit status is 1.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List

import pyarrow as pa
import pyarrow.compute as pc

import medaudit

REPO = Path(__file__).resolve().parents[2]
PACK = json.loads((REPO / "core" / "packs" / "sample.json").read_text(encoding="utf-8"))


def rss_kib(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return -1


def minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def trim_heap() -> None:
    """Hands the allocator's free memory back to the OS (glibc), so that RSS counts what a check
    allocates rather than what earlier checks left free for reuse."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def best(f: Callable[[], object], repeats: int) -> float:
    t_best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        t_best = min(t_best, time.perf_counter() - t)
    return t_best


def counts(table: pa.Table) -> Dict[str, int]:
    g = table.group_by("rule_id").aggregate([("rule_id", "count")])
    return dict(zip(g["rule_id"].to_pylist(), g["rule_id_count"].to_pylist()))


# ---- DuckDB --------------------------------------------------------------------------------------


def duckdb_run(claims, threads: int) -> Dict[str, object]:
    import duckdb

    spec = importlib.util.spec_from_file_location("duckdb_compare", REPO / "core" / "benches" / "duckdb_compare.py")
    dc = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(dc)
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute("SET preserve_insertion_order = false")
    t = time.perf_counter()
    for name, table in claims.tables.items():
        con.register(f"src_{name}", table)
        casts = [f"CAST({f.name} AS TIMESTAMP) AS {f.name}" for f in table.schema if pa.types.is_timestamp(f.type)]
        replace = f" REPLACE ({', '.join(casts)})" if casts else ""
        con.execute(f"CREATE TABLE {name} AS SELECT *{replace} FROM src_{name}")
        con.unregister(f"src_{name}")
    t_load = time.perf_counter() - t
    dc.load_knowledge(con, PACK)
    sets = dc.define_helpers(con, PACK)
    queries = dc.rule_sql(sets)
    got, secs = {}, {}
    for rule in PACK["rules"]:
        rid = rule["id"]
        t = time.perf_counter()
        con.execute(f"CREATE OR REPLACE TEMP TABLE findings_{rid} AS {queries[rid]}")
        secs[rid] = time.perf_counter() - t
        got[rid] = con.execute(f"SELECT count(*) FROM findings_{rid}").fetchone()[0]
    return {"version": duckdb.__version__, "load": t_load, "seconds": secs, "counts": got}


# ---- Polars ------------------------------------------------------------------------------------------


def polars_rules(pl, fee, mdtrt, diag) -> Dict[str, Callable[[], "object"]]:
    """One function per rule, each returning the flagged lines, written as an analyst would."""
    K = {n: pl.DataFrame(d["rows"], infer_schema_length=None) for n, d in PACK["knowledge"].items()}
    sets = {n: "^(?:" + "|".join(p) + ")" for n, p in PACK["code_sets"].items()}
    scene_bits = {"门诊": 1, "住院": 2, "购药": 4, "互联网": 8}
    scene = pl.lit(0)
    for name, codes in PACK["scenes"].items():
        for c in codes:
            scene = scene | pl.when(pl.col("med_type").str.starts_with(c)).then(scene_bits[name]).otherwise(0)
    tier = (
        pl.when(pl.col("hosp_lv").is_in(["01", "02", "03", "04"])).then(3)
        .when(pl.col("hosp_lv").is_in(["05", "06", "07"])).then(2)
        .when(pl.col("hosp_lv").is_in(["08", "09", "10"])).then(1)
        .when(pl.col("hosp_lv").is_in(["11", "12", "13", "14"])).then(0)
    )
    enc = mdtrt.with_columns(scene.fill_null(0).alias("scene"), tier.alias("tier"))
    line = ["feedetl_sn", "mdtrt_id", "hilist_code", "det_item_fee_sumamt"]

    def by_prefix(k: "pl.DataFrame", code="code") -> "pl.DataFrame":
        """Lines whose code starts with a knowledge code: a join per distinct prefix length."""
        parts = []
        for n in sorted(k[code].str.len_chars().unique().to_list()):
            kk = k.filter(pl.col(code).str.len_chars() == n)
            parts.append(fee.with_columns(pl.col("hilist_code").str.slice(0, n).alias("_p")).join(kk, left_on="_p", right_on=code))
        return pl.concat(parts, how="diagonal_relaxed").drop("_p")

    def mask(col: str) -> "pl.Expr":
        parts = pl.col(col).fill_null("").str.split("|")
        e = pl.lit(0)
        for n, b in scene_bits.items():
            e = e + pl.when(parts.list.contains(n)).then(b).otherwise(0)
        return e

    def in_set(code_col: str, set_col: str) -> "pl.Expr":
        e = pl.lit(False)
        for n, rx in sets.items():
            e = pl.when(pl.col(set_col) == n).then(pl.col(code_col).str.contains(rx)).otherwise(e)
        return e

    def with_enc(df):
        return df.join(enc, on="mdtrt_id")

    r: Dict[str, Callable[[], object]] = {}
    r["sex"] = lambda: with_enc(by_prefix(K["sex_items"])).filter(pl.col("gend").is_in(["1", "2"]) & (pl.col("gend") != pl.col("sex")))

    def age():
        d = with_enc(by_prefix(K["age_items"]))
        t, b = pl.col("fee_ocur_time"), pl.col("brdy")
        years = (t.dt.year() - b.dt.year() - ((t.dt.month() * 100 + t.dt.day()) < (b.dt.month() * 100 + b.dt.day())).cast(pl.Int32))
        years = pl.coalesce(years.cast(pl.Float64), pl.col("age").floor()) if "age" in d.columns else years
        days = (t.dt.date() - b).dt.total_days()
        cond = pl.lit(False)
        if "min_age" in d.columns:
            cond = cond | (years < pl.col("min_age"))
        if "max_age" in d.columns:
            cond = cond | (years > pl.col("max_age"))
        if "max_age_days" in d.columns:
            cond = cond | (days > pl.col("max_age_days"))
        return d.filter(cond.fill_null(False))

    r["age"] = age
    r["insutype"] = lambda: with_enc(by_prefix(K["insutype_items"].rename({"insutype": "allowed"}))).filter(
        pl.col("insutype").is_not_null() & ~pl.col("allowed").str.split("|").list.contains(pl.col("insutype"))
    )
    r["hosp_level"] = lambda: with_enc(by_prefix(K["level_items"])).filter(pl.col("tier") < pl.col("min_level"))

    def scene_rule():
        k = K["scene_items"]
        for c in ("allowed_scenes", "denied_scenes"):
            if c not in k.columns:
                k = k.with_columns(pl.lit(None, pl.Utf8).alias(c))
        d = with_enc(by_prefix(k))
        allowed, denied = mask("allowed_scenes"), mask("denied_scenes")
        return d.filter((pl.col("scene") != 0) & (((allowed != 0) & ((pl.col("scene") & allowed) == 0)) | ((pl.col("scene") & denied) != 0)))

    r["scene"] = scene_rule

    def dept():
        d = by_prefix(K["dept_items"]).filter(pl.col("bilg_dept_codg").is_not_null()).with_row_index("_r")
        ok = d.with_columns(pl.col("depts").str.split("|").alias("_d")).explode("_d").filter(
            pl.col("bilg_dept_codg").str.starts_with(pl.col("_d"))
        )["_r"].unique()
        return d.filter(~pl.col("_r").is_in(ok.implode()))

    r["dept"] = dept

    def price_cap():
        d = with_enc(fee.join(K["price_items"], left_on="hilist_code", right_on="code"))
        t = pl.max_horizontal(pl.col("tier"), pl.lit(1))
        cap = pl.when(t == 3).then(pl.col("max_price_l3")).when(t == 2).then(pl.col("max_price_l2")).otherwise(pl.col("max_price_l1"))
        return d.filter(pl.col("pric") > cap + 0.005)

    r["price_cap"] = price_cap
    r["not_payable"] = lambda: fee.join(K["banned_herbs"], left_on="hilist_code", right_on="code")
    r["amount_mismatch"] = lambda: fee.filter((pl.col("det_item_fee_sumamt") - pl.col("cnt") * pl.col("pric")).abs() > 0.01 + 1e-9)
    r["fee_outside_stay"] = lambda: with_enc(fee).filter(
        ((pl.col("scene") == 0) | ((pl.col("scene") & 2) != 0))
        & ((pl.col("fee_ocur_time") < pl.col("begntime")) | (pl.col("fee_ocur_time") > pl.col("endtime")))
    )
    r["fee_after_death"] = lambda: with_enc(fee).filter(pl.col("die_date").is_not_null() & (pl.col("fee_ocur_time").dt.date() > pl.col("die_date")))

    def bed_days():
        d = with_enc(by_prefix(K["bed_items"])).filter((pl.col("scene") == 0) | ((pl.col("scene") & 2) != 0))
        los = pl.max_horizontal((pl.col("endtime").dt.date() - pl.col("begntime").dt.date()).dt.total_days(), pl.lit(1))
        d = d.sort(["mdtrt_id", "fee_ocur_time", "feedetl_sn"]).with_columns(pl.col("cnt").cum_sum().over("mdtrt_id").alias("run"))
        return d.filter((pl.col("run") > los + 1e-9) & (pl.col("cnt") > 0))

    r["bed_days"] = bed_days

    def frequency():
        d = fee.join(K["frequency_items"], left_on="hilist_code", right_on="code")
        win = pl.when(pl.col("window") == "hour").then(pl.col("fee_ocur_time").dt.truncate("1h")).when(
            pl.col("window") == "day").then(pl.col("fee_ocur_time").dt.truncate("1d")).otherwise(None)
        d = d.with_columns(win.alias("_w")).sort(["mdtrt_id", "kp_id", "_w", "fee_ocur_time", "feedetl_sn"])
        d = d.with_columns(pl.col("cnt").cum_sum().over(["mdtrt_id", "kp_id", "_w"]).alias("run"))
        return d.filter((pl.col("run") > pl.col("max_qty") + 1e-9) & (pl.col("cnt") > 0))

    r["frequency"] = frequency

    def diag_rule(table: str, forbidden: bool):
        def run():
            d = by_prefix(K[table]).with_row_index("_r")
            hits = d.select(["_r", "mdtrt_id", "diag_set"]).join(diag.select(["mdtrt_id", "diag_code"]), on="mdtrt_id").filter(
                in_set("diag_code", "diag_set"))["_r"].unique()
            m = pl.col("_r").is_in(hits.implode())
            return d.filter(m if forbidden else ~m)
        return run

    r["indication"] = diag_rule("indications", False)
    r["contraindication"] = diag_rule("contraindications", True)

    def same_window(w, ta, tb):
        hours = w.str.strip_suffix("h").cast(pl.Int64, strict=False)
        return (pl.when(w == "encounter").then(True)
                .when(w == "day").then(ta.dt.date() == tb.dt.date())
                .when(w == "hour").then(ta.dt.truncate("1h") == tb.dt.truncate("1h"))
                .otherwise((ta - tb).dt.total_seconds().abs() <= hours * 3600))

    def duplicate_charge():
        k = K["duplicate_pairs"]
        b = fee.join(k, left_on="hilist_code", right_on="code_b")
        a = fee.select(["mdtrt_id", "hilist_code", "feedetl_sn", "fee_ocur_time"]).rename(
            {"hilist_code": "code", "feedetl_sn": "a_sn", "fee_ocur_time": "a_time"})
        p = b.join(a, on=["mdtrt_id", "code"]).filter(pl.col("a_sn") != pl.col("feedetl_sn"))
        return p.filter(same_window(pl.col("window"), pl.col("a_time"), pl.col("fee_ocur_time"))).unique(["feedetl_sn", "kp_id"])

    r["duplicate_charge"] = duplicate_charge

    def companion():
        k = K["companions"]
        a = by_prefix(k)
        b = by_prefix(k, code="code_b").select(
            ["mdtrt_id", "kp_id", pl.col("feedetl_sn").alias("b_sn"), pl.col("fee_ocur_time").alias("b_time")])
        paired = a.join(b, on=["mdtrt_id", "kp_id"]).filter(
            (pl.col("b_sn") != pl.col("feedetl_sn")) & same_window(pl.col("window"), pl.col("b_time"), pl.col("fee_ocur_time")))
        return a.join(paired.select(["feedetl_sn", "kp_id"]).unique(), on=["feedetl_sn", "kp_id"], how="anti")

    r["companion"] = companion
    rate = next(x for x in PACK["rules"] if x["id"] == "surgery_discount")["params"]["discount_rate"]

    def surgery_discount():
        s_ = fee.join(K["surgical_groups"], left_on="hilist_code", right_on="code").with_columns(
            pl.col("fee_ocur_time").dt.date().alias("d"))
        keys = ["mdtrt_id", "group", "d"]
        s_ = s_.filter(pl.col("hilist_code").n_unique().over(keys) >= 2)
        s_ = s_.sort([pl.coalesce("std_price", "pric"), "fee_ocur_time", "feedetl_sn"], descending=[True, False, False])
        s_ = s_.with_columns(pl.int_range(pl.len()).over(keys).alias("rk"))
        return s_.filter((pl.col("rk") > 0) & pl.col("std_price").is_not_null() & (pl.col("pric") > pl.col("std_price") * rate + 0.01))

    r["surgery_discount"] = surgery_discount
    rx = pl.coalesce(pl.col("rxno"), pl.lit("day ") + pl.col("fee_ocur_time").dt.date().cast(pl.Utf8))

    def herbs_only():
        h = fee.join(K["single_herbs"].select(["code", "kp_id"]), left_on="hilist_code", right_on="code", how="left")
        h = h.filter(pl.col("hilist_code").str.starts_with("T") | pl.col("kp_id").is_not_null()).with_columns(rx.alias("rx"))
        return h.filter(pl.col("kp_id").is_not_null().all().over(["mdtrt_id", "rx"]))

    r["herbs_only"] = herbs_only
    max_drugs = next(x for x in PACK["rules"] if x["id"] == "rx_drug_count")["params"]["max_drugs"]

    def rx_drug_count():
        d = with_enc(fee).filter(
            (pl.col("hilist_code").str.starts_with("X") | pl.col("hilist_code").str.starts_with("Z"))
            & ((pl.col("scene") == 0) | ((pl.col("scene") & (1 | 4 | 8)) != 0))
        ).with_columns(rx.alias("rx"))
        g = ["mdtrt_id", "rx"]
        d = d.filter(pl.col("hilist_code").n_unique().over(g) > max_drugs).sort(["fee_ocur_time", "feedetl_sn"])
        d = d.with_columns(pl.int_range(pl.len()).over(g).alias("ord"))
        firsts = d.group_by(g + ["hilist_code"]).agg(pl.col("ord").min()).with_columns(
            pl.col("ord").rank("ordinal").over(g).alias("pos"))
        return d.join(firsts.select(g + ["hilist_code", "pos"]), on=g + ["hilist_code"]).filter(pl.col("pos") > max_drugs)

    r["rx_drug_count"] = rx_drug_count
    return r


POLARS_NOT_WRITTEN: List[str] = []


def polars_run(claims, repeats: int) -> Dict[str, object]:
    import polars as pl

    fee = pl.from_arrow(claims.fee_details)
    mdtrt = pl.from_arrow(claims.mdtrt)
    diag = pl.from_arrow(claims.diagnoses)
    rules = polars_rules(pl, fee, mdtrt, diag)
    got, secs = {}, {}
    for rid, f in rules.items():
        t_best = float("inf")
        for _ in range(repeats):
            t = time.perf_counter()
            out = f()
            t_best = min(t_best, time.perf_counter() - t)
        got[rid] = out.height
        secs[rid] = t_best
    return {"version": pl.__version__, "seconds": secs, "counts": got}


# ---- main ------------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=10_000_000, help="fee lines to generate (approximately; default 10M)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads (default 2); medaudit and Polars as noted")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip", default="", help="comma-separated: duckdb, polars")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    encounters = max(1, int(args.lines / 7.8))
    t = time.perf_counter()
    claims = medaudit.synth.claims(encounters=encounters, seed=args.seed)
    input_bytes = sum(t.nbytes for t in claims.tables.values())
    print(f"medaudit {medaudit.__version__}, pyarrow {pa.__version__}; generated {encounters:,} encounters, "
          f"{claims.lines:,} fee lines ({input_bytes / 2**20:,.0f} MiB of Arrow) in {time.perf_counter() - t:.1f} s")
    engine = medaudit.Engine(medaudit.RulePack.sample())

    # medaudit from Python and the Rust API on the same buffers
    findings = engine.check(**claims.tables, progress=False)  # warm-up
    # Interleaved, so that other load on the machine hits both sides alike; best of each. CPU time is
    # the process's (all threads): the Python call checks on a helper thread.
    # Minor page faults per call tell memory the allocator had to map afresh from memory it reused.
    t_py = t_rs = c_py = c_rs = float("inf")
    f_py, f_rs = [], []
    for _ in range(args.repeats):
        c0, w0, f0 = time.process_time(), time.perf_counter(), minor_faults()
        engine.check(**claims.tables, progress=False)
        t_py, c_py = min(t_py, time.perf_counter() - w0), min(c_py, time.process_time() - c0)
        f_py.append(minor_faults() - f0)
        c0, f0 = time.process_time(), minor_faults()
        t, n_rs = engine._native._time_rust_check(claims.fee_details, claims.mdtrt, claims.diagnoses, claims.operations, repeats=1)
        t_rs, c_rs = min(t_rs, t), min(c_rs, time.process_time() - c0)
        f_rs.append(minor_faults() - f0)
        assert n_rs == findings.num_rows
    print(f"\n== medaudit, whole sample pack ({len(PACK['rules'])} rules), one thread, best of {args.repeats} (interleaved)")
    print(f"  Python Engine.check:   {t_py:.3f} s wall, {c_py:.3f} s CPU  ({claims.lines / t_py / 1e6:.1f} M lines/s), {findings.num_rows:,} findings")
    print(f"  Rust API (same data):  {t_rs:.3f} s wall, {c_rs:.3f} s CPU  ({claims.lines / t_rs / 1e6:.1f} M lines/s)")
    print(f"  Python-call overhead:  {(t_py / t_rs - 1) * 100:+.1f}% wall, {(c_py / c_rs - 1) * 100:+.1f}% CPU  (target < 10%)")
    print(f"  minor page faults per call: Python {f_py}, Rust {f_rs}")
    # The fixed part of the overhead: the same calls with no rule to run (import, validation and
    # the engine's per-call setup on the Python side; the setup alone on the Rust side).
    e_py = e_rs = float("inf")
    for _ in range(args.repeats):
        w0 = time.perf_counter()
        engine.check(**claims.tables, progress=False, rule_ids=[])
        e_py = min(e_py, time.perf_counter() - w0)
        t, _ = engine._native._time_rust_check(claims.fee_details, claims.mdtrt, claims.diagnoses, claims.operations,
                                                rule_ids=[], repeats=1)
        e_rs = min(e_rs, t)
    print(f"  with rule_ids=[]:      Python {e_py * 1e3:.0f} ms, Rust {e_rs * 1e3:.0f} ms: "
          f"{(e_py - e_rs) * 1e3:.0f} ms of importing and validating the buffers")

    # memory
    del findings
    trim_heap()
    rss0 = rss_kib()
    peak_ok = reset_peak()
    findings = engine.check(**claims.tables, progress=False)
    rss_peak, rss1 = rss_kib("VmHWM"), rss_kib()
    print(f"\n== memory (RSS) around one check")
    print(f"  input tables:         {input_bytes / 2**20:8.1f} MiB")
    print(f"  RSS before the check: {rss0 / 1024:8.1f} MiB")
    if peak_ok:
        print(f"  peak RSS during it:   {rss_peak / 1024:8.1f} MiB  (+{(rss_peak - rss0) / 1024:.1f} MiB: engine state and findings; "
              f"a copy of the input would add {input_bytes / 2**20:.0f} MiB)")
    print(f"  RSS after it:         {rss1 / 1024:8.1f} MiB  (findings table {findings.nbytes / 2**20:.1f} MiB)")

    ma = counts(findings)
    t_ma1 = t_py
    bad = False
    if "duckdb" not in skip:
        d = duckdb_run(claims, args.threads)
        t_d = sum(d["seconds"].values())
        print(f"\n== DuckDB {d['version']} SQL, {args.threads} threads: load {d['load']:.2f} s (not counted), 20 rule queries {t_d:.2f} s")
        print(f"  DuckDB / medaudit (one thread) = {t_d / t_ma1:.1f}x")
        for rid, n in d["counts"].items():
            if n != ma.get(rid, 0):
                print(f"  count differs: {rid}: duckdb {n}, medaudit {ma.get(rid, 0)}")
                bad = True
    if "polars" not in skip:
        p = polars_run(claims, args.repeats)
        ids = list(p["seconds"])
        t_p = sum(p["seconds"].values())
        t_sub = best(lambda: engine.check(**claims.tables, rule_ids=ids, progress=False), args.repeats)
        unwritten = f"; not written: {', '.join(POLARS_NOT_WRITTEN)}" if POLARS_NOT_WRITTEN else ""
        print(f"\n== Polars {p['version']} expressions ({len(ids)} of {len(PACK['rules'])} rules{unwritten}), "
              f"Polars' own thread pool ({os.cpu_count()} cores)")
        print(f"  Polars {t_p:.2f} s; medaudit on the same {len(ids)} rules, one thread: {t_sub:.3f} s; "
              f"Polars / medaudit = {t_p / t_sub:.1f}x")
        for rid, n in p["counts"].items():
            if n != ma.get(rid, 0):
                print(f"  count differs: {rid}: polars {n}, medaudit {ma.get(rid, 0)}")
                bad = True
    print("\nper-rule finding counts: " + ("DIFFERENCES above" if bad else "all equal to medaudit's"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
