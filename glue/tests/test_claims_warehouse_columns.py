"""The warehouse load's staging table must have exactly the claims job's Parquet columns, in file order and of
matching types: Redshift's COPY from Parquet maps columns by position and refuses a count that differs. The
declaration lives in functions/claims-warehouse-load/sql.ts (CLAIMS_PARQUET_COLUMNS); this test reads it from
there and compares it with the schema of the Parquet a real run of the job writes (local Spark)."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import SparkSession

import healthcare_claims_etl as job

ROOT = Path(__file__).resolve().parents[2]
SQL_TS = ROOT / "functions" / "claims-warehouse-load" / "sql.ts"
SAMPLES = ROOT / "samples" / "claims"
FILE_ID = "c" * 64


def declared_columns() -> list[tuple[str, str, bool]]:
    text = SQL_TS.read_text(encoding="utf-8")
    block = text[text.index("export const CLAIMS_PARQUET_COLUMNS") :]
    block = block[: block.index("];")]
    entries = re.findall(r'\{ name: "(\w+)", type: "([^"]+)"(, notNull: true)? \}', block)
    return [(name, sql_type, bool(not_null)) for name, sql_type, not_null in entries]


def redshift_type(t: pa.DataType) -> str:
    """The Redshift type a Parquet column of type ``t`` loads into."""
    if pa.types.is_string(t):
        return "VARCHAR"
    if pa.types.is_int32(t):
        return "INTEGER"
    if pa.types.is_date32(t):
        return "DATE"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    if pa.types.is_timestamp(t) and t.tz is not None:
        return "TIMESTAMPTZ"
    raise AssertionError(f"no Redshift type mapped for Parquet type {t}")


def test_the_staging_table_matches_the_parquet_the_job_writes(spark: SparkSession, tmp_path: Path) -> None:
    args = {
        "input_path": str(SAMPLES / "claims_2024_04.csv"),
        "output_path": f"{tmp_path}/processed/claims/",
        "aggregation_path": f"{tmp_path}/processed/aggregations/claims_monthly/",
        "quarantine_path": f"{tmp_path}/quarantine/records/x/{FILE_ID}/",
        "staging_path": f"{tmp_path}/temp/staging/{FILE_ID}/",
        "file_id": FILE_ID,
        "reference_date": "2025-06-30",
    }
    job.main([token for key, value in args.items() for token in (f"--{key}", value)])
    parts = sorted((tmp_path / "processed" / "claims").glob(f"year=*/month=*/file_id={FILE_ID}/*.parquet"))
    assert parts, "the run wrote no Parquet"

    declared = declared_columns()
    for part in parts:
        schema = pq.read_schema(part)
        written = [(f.name, redshift_type(f.type), not f.nullable) for f in schema]
        # VARCHAR widths are the warehouse's choice; the rest must match exactly, in order.
        assert [(n, re.sub(r"VARCHAR\(\d+\)", "VARCHAR", t)) for n, t, _ in declared] == [(n, t) for n, t, _ in written]
        # A column the job never leaves empty may be NOT NULL in the warehouse; a nullable one must not be.
        for (name, _, not_null), (_, _, written_not_null) in zip(declared, written):
            assert not not_null or written_not_null, f"{name} is NOT NULL in the warehouse but nullable in the Parquet"
