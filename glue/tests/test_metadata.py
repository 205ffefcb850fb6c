"""The job's writes to the metadata record, against the moto emulator over HTTP."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from pyspark.sql import SparkSession

import file_processor
from conftest import SAMPLES
from glue_pipeline.metadata import MetadataRecorder

TRIGGER_ATTRIBUTES = {
    "source_file_path": {"S": "s3://glue-input-dev-111111111111/incoming/sales_orders.csv"},
    "source_bucket": {"S": "glue-input-dev-111111111111"},
    "source_key": {"S": "incoming/sales_orders.csv"},
    "source_version": {"S": "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd"},
    "file_size_bytes": {"N": "1130"},
    "attempts": {"N": "1"},
    "created_at": {"S": "2024-05-06T07:00:00.000Z"},
    "processing_status": {"S": "STARTED"},
    "job_run_id": {"S": "jr_abc"},
    "updated_at": {"S": "2024-05-06T07:00:01.000Z"},
}


@pytest.fixture()
def table(aws_env: str) -> str:
    """A fresh table with the contract's key schema and by-status index."""
    name = f"etl-pipeline-metadata-test-{uuid.uuid4().hex[:8]}"
    boto3.client("dynamodb").create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "file_id", "AttributeType": "S"},
            {"AttributeName": "processing_status", "AttributeType": "S"},
            {"AttributeName": "updated_at", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "file_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-status",
                "KeySchema": [
                    {"AttributeName": "processing_status", "KeyType": "HASH"},
                    {"AttributeName": "updated_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    return name


def seed(table: str, file_id: str) -> None:
    boto3.client("dynamodb").put_item(TableName=table, Item={"file_id": {"S": file_id}, **TRIGGER_ATTRIBUTES})


def item(table: str, file_id: str) -> dict[str, Any]:
    raw = boto3.client("dynamodb").get_item(TableName=table, Key={"file_id": {"S": file_id}}, ConsistentRead=True)["Item"]
    return {k: (int(v["N"]) if "N" in v else v["S"]) for k, v in raw.items()}


def job_args(tmp_path: Path, source: Path, table: str, file_id: str) -> list[str]:
    return [
        "--JOB_NAME", "FileProcessorV2-dev",
        "--JOB_RUN_ID", "jr_abc",
        "--input_path", str(source),
        "--output_path", str(tmp_path / "processed"),
        "--quarantine_path", str(tmp_path / "quarantine"),
        "--source_file", "incoming/sales_orders.csv",
        "--file_id", file_id,
        "--metadata_table", table,
    ]


def test_records_running_then_succeeded_with_counts(
    spark: SparkSession, table: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file_id = "a" * 64
    seed(table, file_id)
    seen_while_running: list[dict[str, Any]] = []
    real_convert = file_processor.convert_csv

    def convert_and_look(*args: Any, **kwargs: Any) -> Any:
        seen_while_running.append(item(table, file_id))
        return real_convert(*args, **kwargs)

    monkeypatch.setattr(file_processor, "convert_csv", convert_and_look)
    summary = file_processor.main(job_args(tmp_path, SAMPLES / "sales_orders.csv", table, file_id))

    running = seen_while_running[0]
    assert running["processing_status"] == "RUNNING"
    assert (running["job_name"], running["job_run_id"]) == ("FileProcessorV2-dev", "jr_abc")
    done = item(table, file_id)
    assert done["processing_status"] == "SUCCEEDED"
    assert (done["rows_in"], done["record_count"], done["rows_quarantined"]) == (10, 9, 1)
    assert done["rows_in"] == done["record_count"] + done["rows_quarantined"]
    assert done["outcome"] == "PROCESSED"
    assert done["output_size_bytes"] == summary["output_size_bytes"] > 0
    assert done["start_time"] == running["start_time"] <= done["end_time"] == done["updated_at"]
    assert done["end_time"].endswith("Z") and "error_message" not in done
    # The trigger's attributes are untouched.
    for name in ("source_file_path", "source_bucket", "source_key", "source_version", "attempts", "created_at"):
        assert done[name] == item_value(TRIGGER_ATTRIBUTES[name])
    by_status = boto3.client("dynamodb").query(
        TableName=table,
        IndexName="by-status",
        KeyConditionExpression="processing_status = :s",
        ExpressionAttributeValues={":s": {"S": "SUCCEEDED"}},
    )
    assert [i["file_id"]["S"] for i in by_status["Items"]] == [file_id]


def item_value(attribute: dict[str, str]) -> Any:
    return int(attribute["N"]) if "N" in attribute else attribute["S"]


def test_records_failed_with_the_error_and_reraises_it(spark: SparkSession, table: str, tmp_path: Path) -> None:
    file_id = "b" * 64
    seed(table, file_id)

    with pytest.raises(FileNotFoundError, match="does not exist"):
        file_processor.main(job_args(tmp_path, tmp_path / "gone.csv", table, file_id))

    failed = item(table, file_id)
    assert failed["processing_status"] == "FAILED"
    assert failed["error_message"].startswith("FileNotFoundError: input ") and "gone.csv" in failed["error_message"]
    assert failed["end_time"] >= failed["start_time"]
    assert "rows_in" not in failed and failed["attempts"] == 1


def test_a_recording_failure_does_not_replace_the_jobs_error(aws_env: str) -> None:
    recorder = MetadataRecorder(table_name="no-such-table", file_id="c" * 64, job_name="FileProcessorV2-dev")
    recorder.running = lambda: "2024-01-01T00:00:00.000Z"  # type: ignore[method-assign]

    with pytest.raises(ValueError, match="the job's own error") as raised:
        with recorder.track():
            raise ValueError("the job's own error")

    assert any("recording FAILED in no-such-table also failed" in note for note in raised.value.__notes__)


def test_a_newer_run_is_not_overwritten_by_a_stale_one(table: str) -> None:
    file_id = "d" * 64
    seed(table, file_id)  # the record names run jr_abc
    stale = MetadataRecorder(table_name=table, file_id=file_id, job_name="FileProcessorV2-dev", job_run_id="jr_old")

    with pytest.raises(Exception, match="ConditionalCheckFailed"):
        stale.succeeded(rows_in=1, record_count=1, rows_quarantined=0, output_size_bytes=10, outcome="PROCESSED")
    assert item(table, file_id)["processing_status"] == "STARTED"
