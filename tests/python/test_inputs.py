"""Every input flavour gives the same findings as pyarrow: pyarrow Table / RecordBatch / RecordBatchReader,
polars, pandas, DuckDB (relation and .arrow()), nanoarrow when installed; and pyarrow input is not copied."""

from __future__ import annotations

import pyarrow as pa
import pytest

import medaudit
from conftest import finding_keys


@pytest.fixture(scope="module")
def small():
    return medaudit.synth.claims(encounters=1500, seed=21)


@pytest.fixture(scope="module")
def expected(engine, small):
    out = engine.check(**small.tables, progress=False)
    assert out.num_rows > 50
    return finding_keys(out)


def check_with(engine, convert, small):
    tables = {k: convert(v) for k, v in small.tables.items()}
    return finding_keys(engine.check(**tables, progress=False))


def test_pyarrow_record_batch_and_reader(engine, small, expected):
    assert check_with(engine, lambda t: t.combine_chunks().to_batches()[0], small) == expected
    assert check_with(engine, lambda t: pa.RecordBatchReader.from_batches(t.schema, t.to_batches(max_chunksize=700)), small) == expected


def test_dictionary_columns_and_many_batches(engine, expected):
    c = medaudit.synth.claims(encounters=1500, seed=21, dictionary=True, batch_rows=1000)
    assert c.fee_details.num_columns and len(c.fee_details.to_batches()) > 5
    assert finding_keys(engine.check(**c.tables, progress=False)) == expected


def test_polars(engine, small, expected):
    pl = pytest.importorskip("polars")
    assert check_with(engine, pl.from_arrow, small) == expected


def test_pandas(engine, small, expected):
    pytest.importorskip("pandas")
    assert check_with(engine, lambda t: t.to_pandas(), small) == expected


def test_duckdb_relation_and_arrow(engine, small, expected):
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    for name, t in small.tables.items():
        con.register(f"src_{name}", t)
    rel = {name: con.sql(f"select * from src_{name}") for name in small.tables}
    assert finding_keys(engine.check(**rel, progress=False)) == expected
    # DuckDB ≥ 1.4: .arrow() is a lazy reader holding the connection; materialise one at a time.
    def table(name):
        r = con.sql(f"select * from src_{name}")
        return r.to_arrow_table() if hasattr(r, "to_arrow_table") else r.arrow()

    arrow = {name: table(name) for name in small.tables}
    assert finding_keys(engine.check(**arrow, progress=False)) == expected


def test_nanoarrow(engine, small, expected):
    na = pytest.importorskip("nanoarrow")
    assert check_with(engine, na.c_array_stream, small) == expected


def test_pyarrow_input_is_not_copied(small):
    t = small.fee_details.combine_chunks()
    seen = medaudit._medaudit._buffer_addresses(t)
    batch = t.to_batches()[0]
    for i, col in enumerate(batch.columns):
        # pyarrow lists the validity bitmap first; arrow-rs keeps it apart from the data buffers.
        theirs = [b.address for b in col.buffers()[1:] if b is not None]
        assert theirs == seen[i], batch.schema.field(i).name


def test_non_arrow_input_is_a_type_error(engine):
    with pytest.raises(TypeError, match="fee_details: expected an Arrow table"):
        engine.check(fee_details=[{"a": 1}], mdtrt=None, progress=False)


def test_a_plain_array_is_not_a_table(engine):
    # A pyarrow Array exports __arrow_c_array__ too, but of an int64 array, not a struct array.
    with pytest.raises(TypeError, match="fee_details: __arrow_c_array__ gave a Int64 array"):
        engine.check(fee_details=pa.array([1, 2, 3]), mdtrt=None, progress=False)
