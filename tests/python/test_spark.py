"""medaudit.spark on local Spark: the same findings as one process, partitioned by encounter."""

from __future__ import annotations

import os
import shutil
import sys

import pyarrow as pa
import pytest

import medaudit

pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("no Java for local Spark", allow_module_level=True)

import medaudit.spark  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    s = (
        SparkSession.builder.master("local[2]")
        .appName("medaudit-tests")
        .config("spark.sql.session.timeZone", "Asia/Shanghai")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def by_id(rows):
    return sorted(rows, key=lambda r: r["finding_id"])


def local_rows(table: pa.Table):
    rows = table.to_pylist()
    for r in rows:
        r["warn_level"] = int(r["warn_level"])
    return rows


def spark_rows(df):
    return [r.asDict() for r in df.collect()]


def test_spark_findings_equal_one_process(spark, engine, sample_pack):
    c = medaudit.synth.claims(encounters=1200, seed=31)
    dfs = {name: spark.createDataFrame(t) for name, t in c.tables.items()}
    found = medaudit.spark.check(sample_pack, **dfs, partitions=3)
    got = by_id(spark_rows(found))
    want = by_id(local_rows(engine.check(**c.tables, progress=False)))
    assert len(want) > 50
    assert len(got) == len(want)
    for g, w in zip(got, want):
        for k, wv in w.items():
            if isinstance(wv, float):
                assert abs(g[k] - wv) < 1e-9, k
            else:
                assert g[k] == wv, (k, g, w)


def test_spark_filters_and_missing_tables(spark, engine, sample_pack):
    c = medaudit.synth.claims(encounters=400, seed=32)
    dfs = {"fee_details": spark.createDataFrame(c.fee_details), "mdtrt": spark.createDataFrame(c.mdtrt)}
    rule = sample_pack.rule_ids[0]
    found = medaudit.spark.check(sample_pack, **dfs, rule_ids=[rule])
    want = engine.check(fee_details=c.fee_details, mdtrt=c.mdtrt, rule_ids=[rule], progress=False)
    assert sorted(r["finding_id"] for r in spark_rows(found)) == sorted(want["finding_id"].to_pylist())


def test_spark_errors_on_the_driver(spark, sample_pack):
    c = medaudit.synth.claims(encounters=50, seed=33)
    fee = spark.createDataFrame(c.fee_details.drop_columns(["mdtrt_id"]))
    with pytest.raises(medaudit.ClaimsError, match='column "mdtrt_id": missing'):
        medaudit.spark.check(sample_pack, fee, spark.createDataFrame(c.mdtrt))
    bad = medaudit.RulePack.from_json(sample_pack.json)
    with pytest.raises(medaudit.ArgumentError, match="NOPE"):
        medaudit.spark.check(bad, spark.createDataFrame(c.fee_details), spark.createDataFrame(c.mdtrt), rule_ids=["NOPE"])


@pytest.mark.parametrize("list_codes", [True, False])
def test_spark_history_rules_give_the_findings_of_one_process(spark, list_codes):
    pack = medaudit.RulePack.history_sample()
    engine = medaudit.Engine(pack)
    data = medaudit.synth.history(persons=150, seed=41, violation_rate=0.6, list_trace_codes=list_codes)
    dfs = {name: spark.createDataFrame(t) for name, t in data.tables.items() if t.num_rows}
    found = medaudit.spark.check(pack, **dfs, partitions=3)
    got = by_id(spark_rows(found))
    want = by_id(local_rows(engine.check(**data.tables, progress=False)))
    assert len(want) > 40 and {"trace_duplicate", "readmission_15d"} <= {w["rule_id"] for w in want}
    assert [(g["rule_id"], g["finding_id"], g["message"]) for g in got] == [
        (w["rule_id"], w["finding_id"], w["message"]) for w in want
    ]
    # Only the trace-code rule: it is cut by trace code alone.
    only = medaudit.spark.check(pack, **dfs, rule_ids=["trace_duplicate"], partitions=2)
    assert sorted(r["finding_id"] for r in spark_rows(only)) == sorted(
        engine.check(**data.tables, rule_ids=["trace_duplicate"], progress=False)["finding_id"].to_pylist())
