"""ParquetToJson: schema validation, data-quality rules, the entry point on the bundled sample with its
JSON read back, and the metadata record through the moto emulator."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import types as T

import parquet_to_json
from conftest import REPO_ROOT
from glue_pipeline.parquet_json import (
    YELLOW_TAXI_SCHEMA,
    ExpectedSchema,
    SchemaValidationError,
    load_expected_schema,
    validate_schema,
)

SAMPLE = REPO_ROOT / "samples" / "parquet" / "yellow_tripdata_2024-01.parquet"
EXPECTED = json.loads((REPO_ROOT / "samples" / "parquet" / "expected.json").read_text("utf-8"))[SAMPLE.name]
SOURCE_KEY = "raw-data/2024/01/15/yellow_tripdata_2024-01.parquet"


def run(tmp_path: Path, source: Path | str, *extra: str) -> tuple[dict[str, Any], Path, Path]:
    out, quarantine = tmp_path / "processed-data", tmp_path / "quarantine"
    summary = parquet_to_json.main(
        ["--input_path", str(source), "--output_path", str(out), "--quarantine_path", str(quarantine),
         "--source_file", SOURCE_KEY, *extra]
    )  # fmt: skip
    return summary, out, quarantine


def json_lines(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for p in sorted(directory.glob("part-*.json")) for line in p.read_text("utf-8").splitlines()]


# ------------------------------------------------------------------------------------------ schema (no Spark)


def taxi_struct(**overrides: T.DataType | None) -> T.StructType:
    types = {
        "integer": T.IntegerType(), "number": T.DoubleType(), "timestamp": T.TimestampNTZType(), "string": T.StringType()
    }  # fmt: skip
    fields = []
    for column in YELLOW_TAXI_SCHEMA.columns:
        name = "Airport_fee" if column.name == "airport_fee" else column.name
        data_type = overrides.get(column.name, types[column.type])
        if data_type is not None:
            fields.append(T.StructField(name, data_type))
    return T.StructType(fields)


def test_the_tlc_layout_passes_and_names_are_matched_case_insensitively() -> None:
    struct = taxi_struct(VendorID=T.LongType(), passenger_count=T.LongType())
    struct = struct.add("cbd_congestion_fee", T.DoubleType())
    check = validate_schema(struct, YELLOW_TAXI_SCHEMA)
    assert check.renames == {"Airport_fee": "airport_fee"}
    assert check.extra_columns == ("cbd_congestion_fee",)
    assert check.column_types["VendorID"] == "bigint"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"total_amount": None}, "missing column total_amount (number)"),
        ({"tpep_pickup_datetime": T.StringType()}, "column tpep_pickup_datetime is string, expected timestamp"),
        ({"PULocationID": T.DoubleType()}, "column PULocationID is double, expected integer"),
    ],
)
def test_a_mismatched_schema_is_rejected_naming_the_problem(overrides: dict, message: str) -> None:
    with pytest.raises(SchemaValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_schema(taxi_struct(**overrides), YELLOW_TAXI_SCHEMA)


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(SchemaValidationError) as raised:
        validate_schema(taxi_struct(fare_amount=None, DOLocationID=T.StringType()), YELLOW_TAXI_SCHEMA)
    assert "missing column fare_amount" in str(raised.value) and "DOLocationID is string" in str(raised.value)


def test_expected_schema_is_data_and_is_checked() -> None:
    assert ExpectedSchema.from_dict(YELLOW_TAXI_SCHEMA.to_dict()) == YELLOW_TAXI_SCHEMA
    with pytest.raises(ValueError, match="rule column fare is not in columns"):
        ExpectedSchema.from_dict({"columns": [{"name": "id", "type": "integer"}], "non_negative_amounts": ["fare"]})
    with pytest.raises(ValueError, match="unknown type 'int'"):
        ExpectedSchema.from_dict({"columns": [{"name": "id", "type": "int"}]})


# ------------------------------------------------------------------------------------------ entry point on Spark


def test_the_bundled_sample_end_to_end(spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary, out, quarantine = run(tmp_path, SAMPLE)

    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert printed == [summary]
    assert summary["outcome"] == "PROCESSED" and summary["job_name"] == "ParquetToJson-local"
    for name in ("rows_in", "record_count", "rows_quarantined", "quarantine_reasons", "rule_violations"):
        assert summary[name] == EXPECTED[name], name
    assert summary["rows_in"] == summary["record_count"] + summary["rows_quarantined"]
    assert summary["extra_columns"] == [] and summary["columns"]["tpep_pickup_datetime"].startswith("timestamp")

    good = json_lines(out)
    assert len(good) == EXPECTED["record_count"]
    assert list(good[0])[:3] == ["VendorID", "tpep_pickup_datetime", "tpep_dropoff_datetime"]
    assert list(good[0])[-4:] == ["airport_fee", "processed_at", "source_file", "processing_job"]
    assert {r["source_file"] for r in good} == {SOURCE_KEY} and len({r["processed_at"] for r in good}) == 1
    by_pu = {r["PULocationID"]: r for r in good}
    assert sorted(by_pu) == [132 + i for i in range(1, 16)]
    first = by_pu[133]
    # The sample's timestamps carry no zone (as TLC's): written as they are, ISO-8601.
    assert (first["tpep_pickup_datetime"], first["tpep_dropoff_datetime"]) == ("2024-01-15T06:37:00.000", "2024-01-15T06:45:00.000")
    # Every value survives the conversion: compared with the Parquet as pyarrow reads it.
    source_rows = {r["PULocationID"]: r for r in pq.read_table(SAMPLE).to_pylist()}
    for pu, row in by_pu.items():
        for name, value in source_rows[pu].items():
            if not isinstance(value, datetime):
                assert row[name.lower() if name == "Airport_fee" else name] == value, (pu, name)
    assert by_pu[141]["passenger_count"] is None  # nullable, not a key: kept, and written as null
    assert all(r["fare_amount"] >= 0 and r["tpep_dropoff_datetime"] >= r["tpep_pickup_datetime"] for r in good)

    bad = json_lines(quarantine)
    assert len(bad) == EXPECTED["rows_quarantined"]
    reasons = sorted((r["quarantine_reason"], r["quarantine_detail"]) for r in bad)
    assert reasons == [
        ("dropoff_before_pickup", "dropoff_before_pickup"),
        ("negative_amount", "negative_amount"),
        ("negative_distance", "negative_distance"),
        ("null_key", "null_key"),
        ("null_key", "null_key,negative_amount"),
    ]
    two_rules = next(r for r in bad if r["quarantine_detail"] == "null_key,negative_amount")
    assert two_rules["PULocationID"] is None and two_rules["tip_amount"] == -2.0 and two_rules["DOLocationID"] == 216


def test_a_custom_expected_schema_and_an_empty_file(spark: SparkSession, tmp_path: Path) -> None:
    source = tmp_path / "zones.parquet"
    pq.write_table(pa.table({"zone_id": pa.array([], pa.int32()), "zone": pa.array([], pa.string())}), source)
    schema = {"columns": [{"name": "zone_id", "type": "integer"}], "key_columns": ["zone_id"]}

    summary, out, quarantine = run(tmp_path, source, "--expected_schema", json.dumps(schema))

    assert (summary["outcome"], summary["rows_in"], summary["record_count"], summary["rows_quarantined"]) == ("EMPTY_FILE", 0, 0, 0)
    assert summary["extra_columns"] == ["zone"]
    assert json_lines(out) == [] and not quarantine.exists()


def test_the_expected_schema_comes_from_a_file_inline_or_the_default(spark: SparkSession, tmp_path: Path) -> None:
    custom = {"columns": [{"name": "id", "type": "integer"}, {"name": "at", "type": "timestamp"}], "key_columns": ["id"]}
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(custom, indent=2), encoding="utf-8")
    from_file = load_expected_schema(spark, str(path))
    assert from_file == ExpectedSchema.from_dict(custom) == load_expected_schema(spark, json.dumps(custom))
    assert from_file.key_columns == ("id",) and from_file.ordered_timestamps is None
    assert load_expected_schema(spark, None) is YELLOW_TAXI_SCHEMA


# ------------------------------------------------------------------------------------------ metadata record


@pytest.fixture()
def table(aws_env: str) -> str:
    name = f"etl-pipeline-metadata-test-{uuid.uuid4().hex[:8]}"
    boto3.client("dynamodb").create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "file_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "file_id", "KeyType": "HASH"}],
    )
    return name


def claimed_record(table: str, file_id: str) -> None:
    """What the trigger leaves on the record before the job starts (the requirements' attributes and ours)."""
    boto3.client("dynamodb").put_item(
        TableName=table,
        Item={
            "file_id": {"S": file_id},
            "source_file_path": {"S": f"s3://glue-input-dev-111111111111/{SOURCE_KEY}"},
            "output_file_path": {"S": "s3://glue-output-dev-111111111111/processed-data/2024/01/15/yellow_tripdata_2024-01/"},
            "file_size_bytes": {"N": str(SAMPLE.stat().st_size)},
            "processing_status": {"S": "STARTED"},
            "job_run_id": {"S": "jr_parquet"},
            "created_at": {"S": "2024-01-15T07:00:00.000Z"},
            "updated_at": {"S": "2024-01-15T07:00:01.000Z"},
        },
    )


def record(table: str, file_id: str) -> dict[str, Any]:
    raw = boto3.client("dynamodb").get_item(TableName=table, Key={"file_id": {"S": file_id}}, ConsistentRead=True)["Item"]
    return {k: (int(v["N"]) if "N" in v else v["S"]) for k, v in raw.items()}


def test_the_run_is_recorded_succeeded_with_reconciled_counts(spark: SparkSession, table: str, tmp_path: Path) -> None:
    file_id = "d" * 64
    claimed_record(table, file_id)
    args = ("--JOB_NAME", "ParquetToJson-dev", "--JOB_RUN_ID", "jr_parquet", "--file_id", file_id, "--metadata_table", table)

    summary, _, _ = run(tmp_path, SAMPLE, *args)

    done = record(table, file_id)
    assert done["processing_status"] == "SUCCEEDED" and done["outcome"] == "PROCESSED"
    assert (done["rows_in"], done["record_count"], done["rows_quarantined"]) == (20, 15, 5)
    assert done["output_size_bytes"] == summary["output_size_bytes"] > 0
    assert done["job_name"] == "ParquetToJson-dev" and done["job_run_id"] == "jr_parquet"
    assert done["created_at"] < done["start_time"] <= done["end_time"] == done["updated_at"]
    # The trigger's attributes are untouched.
    assert done["source_file_path"].endswith(SOURCE_KEY) and done["file_size_bytes"] == SAMPLE.stat().st_size
    assert "error_message" not in done


def test_a_wrong_schema_fails_the_run_and_is_recorded_failed(spark: SparkSession, table: str, tmp_path: Path) -> None:
    file_id = "e" * 64
    claimed_record(table, file_id)
    source = tmp_path / "green_tripdata.parquet"
    pq.write_table(pa.table({"VendorID": [1], "lpep_pickup_datetime": [datetime(2024, 1, 1)]}), source)

    with pytest.raises(SchemaValidationError):
        run(tmp_path, source, "--JOB_RUN_ID", "jr_parquet", "--file_id", file_id, "--metadata_table", table)

    failed = record(table, file_id)
    assert failed["processing_status"] == "FAILED"
    assert failed["error_message"].startswith("SchemaValidationError: schema does not match the expected schema")
    assert "missing column tpep_pickup_datetime (timestamp)" in failed["error_message"]
    assert "rows_in" not in failed and not (tmp_path / "processed-data").exists()


# ------------------------------------------------------------------------------------------ numbers stay exact


def test_numbers_read_back_exactly_by_a_reader_that_parses_numbers_as_doubles(spark: SparkSession, tmp_path: Path) -> None:
    """Every value read back from the JSON with Python's json module parsing numbers as doubles (what
    JavaScript's JSON.parse does) equals the Parquet value; int64 beyond 2^53 and wide decimals arrive as
    strings of their exact digits (the documented rule), never as a rounded number."""
    from decimal import Decimal

    safe = 2**53 - 1
    big_ids = [1, safe, -safe, safe + 2, 2**63 - 1, -(2**63), None]  # safe + 2 rounds to safe + 1 as a double
    small_ids = [0, safe, -safe, 42, None, 7, 8]
    wide = [Decimal("12345678901234567.10"), Decimal("0.00"), Decimal("-0.01"), None, Decimal("99999999999999999999.99"),
            Decimal("1.00"), Decimal("2.50")]  # fmt: skip
    narrow = [Decimal("1234567890123.45"), Decimal("0.10"), Decimal("-0.30"), None, Decimal("9999999999999.99"),
              Decimal("12.30"), Decimal("0.01")]  # fmt: skip
    doubles = [0.1, 1e300, 5e-324, float(2**53 + 1), -0.0, 1.7976931348623157e308, 2.0e23]
    table = pa.table({
        "id": pa.array(range(1, 8), pa.int64()),
        "big_id": pa.array(big_ids, pa.int64()),
        "small_id": pa.array(small_ids, pa.int64()),
        "int32": pa.array([2**31 - 1, -(2**31), 0, 1, 2, 3, None], pa.int32()),
        "wide": pa.array(wide, pa.decimal128(22, 2)),
        "narrow": pa.array(narrow, pa.decimal128(15, 2)),
        "ratio": pa.array(doubles, pa.float64()),
    })  # fmt: skip
    source = tmp_path / "numbers.parquet"
    pq.write_table(table, source)
    schema = {"columns": [{"name": "id", "type": "integer"}], "key_columns": ["id"]}

    summary, out, _ = run(tmp_path, source, "--expected_schema", json.dumps(schema))

    # Only the columns a double cannot carry become strings: big_id (beyond 2^53) and the decimal(22,2).
    assert summary["string_columns"] == ["big_id", "wide"]
    lines = [line for p in sorted(out.glob("part-*.json")) for line in p.read_text("utf-8").splitlines()]
    as_doubles = [json.loads(line, parse_int=float) for line in lines]  # JSON.parse semantics: every number a double
    exact = [json.loads(line, parse_float=Decimal) for line in lines]  # the text as written, for the type check
    by_id = {int(row["id"]): (row, text) for row, text in zip(as_doubles, exact)}
    assert sorted(by_id) == list(range(1, 8))
    for i, source_row in enumerate(table.to_pylist(), start=1):
        row, text = by_id[i]
        big = row["big_id"]
        assert big is None if source_row["big_id"] is None else (isinstance(big, str) and int(big) == source_row["big_id"])
        assert row["small_id"] is None if source_row["small_id"] is None else row["small_id"] == float(source_row["small_id"])
        assert row["small_id"] is None or int(row["small_id"]) == source_row["small_id"]  # a double that is the int64
        assert row["int32"] == (None if source_row["int32"] is None else float(source_row["int32"]))
        if source_row["wide"] is None:
            assert row["wide"] is None
        else:  # the exact digits, scale kept
            assert isinstance(row["wide"], str) and row["wide"] == str(source_row["wide"])
        if source_row["narrow"] is None:
            assert row["narrow"] is None
        else:  # a double whose shortest decimal is the same number
            assert isinstance(text["narrow"], Decimal) and Decimal(repr(row["narrow"])) == source_row["narrow"]
        ratio = row["ratio"]
        assert ratio == source_row["ratio"] and str(ratio) == str(source_row["ratio"])  # -0.0 keeps its sign


def test_a_file_whose_int64_values_are_all_safe_keeps_numbers(spark: SparkSession, tmp_path: Path) -> None:
    """The rule is per column and file: the same column with only safe values stays numeric (no string
    surprise for the common case), and NaN/infinities become their names as strings."""
    table = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "ratio": pa.array([float("nan"), float("inf"), float("-inf")])})
    source = tmp_path / "safe.parquet"
    pq.write_table(table, source)
    schema = {"columns": [{"name": "id", "type": "integer"}], "key_columns": ["id"]}

    summary, out, _ = run(tmp_path, source, "--expected_schema", json.dumps(schema))

    assert summary["string_columns"] == []
    rows = sorted(json_lines(out), key=lambda r: r["id"])
    assert [r["id"] for r in rows] == [1, 2, 3] and all(isinstance(r["id"], int) for r in rows)
    assert [r["ratio"] for r in rows] == ["NaN", "Infinity", "-Infinity"]
