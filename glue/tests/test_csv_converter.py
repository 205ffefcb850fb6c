"""The CSV converter Lambda (the CSV flow's fast path), through its real handler against the S3, DynamoDB and
Glue emulator over HTTP, with the real engine (glue_pipeline.csv_fast).

Each test prepares what the trigger leaves behind (the object uploaded, the record STARTED under a ``fast-``
run id with the engine and its reason, the Glue job with the flow's default arguments), sends the handler an
SQS event holding the trigger's ConversionRequest, and reads what a user would: the objects under processed/
and quarantine/, the record, the Glue job's runs, the metric lines. Every boto3 call a full run makes is
recorded and held equal to glue/tests/fixtures/csv_converter_calls.json, which the converter's IAM role is
judged against (UPDATE_CONVERTER_CALLS=1 rewrites it).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest

from conftest import REPO_ROOT
from glue_pipeline import metadata

CONVERTER_DIR = REPO_ROOT / "functions" / "csv-converter"
CALLS_FIXTURE = Path(__file__).parent / "fixtures" / "csv_converter_calls.json"
FUNCTION_NAME = "CsvConverter-test"


def _load_handler() -> Any:
    spec = importlib.util.spec_from_file_location("csv_converter_handler", CONVERTER_DIR / "handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


handler = _load_handler()
fast_run = sys.modules["fast_run"]
CONTRACT = handler.CONTRACT
METRICS = CONTRACT["metrics"]


# ---------------------------------------------------------------------------------------------------------
# The world the trigger leaves behind
# ---------------------------------------------------------------------------------------------------------


@dataclass
class World:
    input_bucket: str
    output_bucket: str
    table: str
    job: str
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.s3 = boto3.client("s3")
        self.ddb = boto3.client("dynamodb")
        self.glue = boto3.client("glue")

    # -- the converter, as Lambda builds it
    def env(self) -> dict[str, str]:
        names = CONTRACT["env"]
        return {**os.environ, names["metadataTable"]: self.table, names["outputBucket"]: self.output_bucket,
                names["glueJobName"]: self.job, "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME}

    def converter(self) -> Any:
        return handler.build_converter(self.env(), sink=self.lines.append)

    def run(self, *messages: dict[str, Any], converter: Any = None) -> dict[str, Any]:
        return handler.handle_event(converter or self.converter(), {"Records": list(messages)}, None)

    # -- S3
    def upload(self, key: str, body: bytes) -> tuple[str, str]:
        answer = self.s3.put_object(Bucket=self.input_bucket, Key=key, Body=body)
        return answer.get("VersionId", "null"), answer["ETag"].strip('"')

    def put_output(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=self.output_bucket, Key=key, Body=body)

    def output_objects(self, prefix: str = "") -> dict[str, bytes]:
        keys = [o["Key"] for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.output_bucket, Prefix=prefix)
                for o in page.get("Contents", [])]
        return {k: self.s3.get_object(Bucket=self.output_bucket, Key=k)["Body"].read() for k in keys}

    # -- the record, as the trigger's markStarted leaves it
    def put_record(self, file_id: str, run_id: str, status: str = "STARTED", attempts: int = 1) -> None:
        self.ddb.put_item(TableName=self.table, Item={
            "file_id": {"S": file_id},
            "processing_status": {"S": status},
            "job_run_id": {"S": run_id},
            "job_name": {"S": FUNCTION_NAME},
            "attempts": {"N": str(attempts)},
            "engine": {"S": "fast"},
            "engine_reason": {"S": "0.0 MB <= 256 MB fast-path limit"},
        })

    def put_claimed(self, file_id: str, attempts: int = 1) -> None:
        """The record between the trigger's claim and its STARTED write."""
        self.ddb.put_item(TableName=self.table, Item={"file_id": {"S": file_id}, "processing_status": {"S": "CLAIMED"},
                                                      "attempts": {"N": str(attempts)}})

    def record(self, file_id: str) -> dict[str, Any]:
        return metadata.MetadataRecorder(self.table, file_id, "reader", client=self.ddb).current() or {}

    # -- the request
    def request(self, key: str, version: tuple[str, str], file_id: str, run_id: str, attempt: int = 1) -> dict[str, Any]:
        stem = key[: -len(".csv")]
        arguments = {
            "--input_path": f"s3://{self.input_bucket}/{key}",
            "--output_path": f"s3://{self.output_bucket}/processed/{stem}/",
            "--quarantine_path": f"s3://{self.output_bucket}/quarantine/{stem}/",
            "--source_file": key,
            "--file_id": file_id,
            "--source_etag": version[1],
        }
        if version[0] != "null":
            arguments["--source_version_id"] = version[0]
        return {"version": CONTRACT["requestVersion"], "fileId": file_id, "attempt": attempt, "runId": run_id,
                "jobArguments": arguments, "sizeBytes": 100, "routedBecause": "0.0 MB <= 256 MB fast-path limit"}

    @staticmethod
    def message(request: dict[str, Any], receive_count: int = 1) -> dict[str, Any]:
        return {"messageId": str(uuid.uuid4()), "body": json.dumps(request),
                "attributes": {"ApproximateReceiveCount": str(receive_count)}, "eventSource": "aws:sqs"}

    # -- what the converter printed
    def metrics(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines if line.startswith('{"_aws"')]

    def metric_total(self, name: str) -> float:
        return sum(m.get(name, 0) for m in self.metrics())

    def logs(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines if not line.startswith('{"_aws"')]

    def glue_runs(self) -> list[dict[str, Any]]:
        return self.glue.get_job_runs(JobName=self.job)["JobRuns"]


def _make_world(versioned: bool = True, max_concurrent_runs: int = 3, delimiter: str = "comma") -> World:
    tag = uuid.uuid4().hex[:10]
    world = World(f"in-{tag}", f"out-{tag}", f"meta-{tag}", f"FileProcessorV2-{tag}")
    for bucket in (world.input_bucket, world.output_bucket):
        world.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        if versioned:
            world.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    world.ddb.create_table(TableName=world.table, KeySchema=[{"AttributeName": "file_id", "KeyType": "HASH"}],
                           AttributeDefinitions=[{"AttributeName": "file_id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    world.glue.create_job(
        Name=world.job, Role="arn:aws:iam::123456789012:role/glue", Command={"Name": "glueetl", "ScriptLocation": "s3://a/s.py"},
        DefaultArguments={"--delimiter": delimiter, "--encoding": "utf-8", "--metadata_table": world.table},
        ExecutionProperty={"MaxConcurrentRuns": max_concurrent_runs},
    )  # fmt: skip
    return world


@pytest.fixture()
def world(aws_env: str) -> World:
    return _make_world()


def ids() -> tuple[str, str]:
    return uuid.uuid4().hex, f"{CONTRACT['runIdPrefix']}{uuid.uuid4()}"


def parquet_rows(blobs: dict[str, bytes]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for key in sorted(k for k in blobs if k.endswith(".parquet")):
        rows.extend(pq.read_table(io.BytesIO(blobs[key])).to_pylist())
    return rows


ORDERS = b"order_id,customer,amount\n1,ann,10.50\n2,bob\n3,cy,7.25\n"


# ---------------------------------------------------------------------------------------------------------
# Converted
# ---------------------------------------------------------------------------------------------------------


def test_a_small_csv_is_published_where_the_glue_job_would_put_it_and_recorded_succeeded(world: World) -> None:
    # Prepare: an older run's output (replaced), and a deeper key's output under the same prefix (not ours).
    key = "incoming/orders.csv"
    version = world.upload(key, ORDERS)
    file_id, run_id = ids()
    world.put_record(file_id, run_id)
    world.put_output("processed/incoming/orders/part-00000-old.snappy.parquet", b"previous run")
    world.put_output("processed/incoming/orders/nested/part-00000-x.snappy.parquet", b"another key's output")

    # Act
    answer = world.run(world.message(world.request(key, version, file_id, run_id)))

    # Assess: the message is done, the output replaced, the quarantine written, staging gone.
    assert answer == {"batchItemFailures": []}
    output = world.output_objects("processed/")
    assert "processed/incoming/orders/part-00000-old.snappy.parquet" not in output
    assert output["processed/incoming/orders/nested/part-00000-x.snappy.parquet"] == b"another key's output"
    ours = {k: v for k, v in output.items() if k.startswith("processed/incoming/orders/part-")}
    assert ours and all(k.endswith(".snappy.parquet") for k in ours)
    assert output["processed/incoming/orders/_SUCCESS"] == b"", "Spark's committer marker, as a Glue run leaves it"
    rows = parquet_rows(ours)
    assert [r["order_id"] for r in rows] == [1, 3]
    assert {r["source_file"] for r in rows} == {key} and {r["processing_job"] for r in rows} == {world.job}
    quarantine = world.output_objects("quarantine/incoming/orders/")
    lines = [json.loads(line) for blob in quarantine.values() for line in blob.decode().splitlines()]
    assert [(q["quarantine_reason"], q["raw_record"], q["line_number"]) for q in lines] == [("too_few_fields", "2,bob", 3)]
    assert not [k for k in world.output_objects() if "/_staging/" in k]

    record = world.record(file_id)
    assert record["processing_status"] == "SUCCEEDED"
    assert (record["rows_in"], record["record_count"], record["rows_quarantined"]) == (3, 2, 1)
    assert record["outcome"] == "PROCESSED" and record["output_size_bytes"] > 0 and record["end_time"]
    assert (record["engine"], record["engine_reason"]) == ("fast", "0.0 MB <= 256 MB fast-path limit")
    assert (record["job_run_id"], record["job_name"]) == (run_id, FUNCTION_NAME)

    assert world.metric_total(METRICS["filesConverted"]) == 1
    jobs = CONTRACT["jobMetrics"]
    per_job = [m for m in world.metrics() if m.get(jobs["jobNameDimension"]) == world.job]
    assert [(m[jobs["recordsWritten"]], m[jobs["rowsQuarantined"]]) for m in per_job] == [(2, 1)]
    assert all(line["service"] == "csv-converter" and line["file_id"] == file_id and line["run_id"] == run_id
               for line in world.logs())


def test_the_flows_delimiter_from_the_glue_jobs_default_arguments_is_applied(aws_env: str) -> None:
    world = _make_world(delimiter="semicolon")
    key = "semi.csv"
    version = world.upload(key, b"a;b\n1;x\n")
    file_id, run_id = ids()
    world.put_record(file_id, run_id)

    assert world.run(world.message(world.request(key, version, file_id, run_id))) == {"batchItemFailures": []}

    assert parquet_rows(world.output_objects("processed/semi/")) and world.record(file_id)["record_count"] == 1
    assert list(parquet_rows(world.output_objects("processed/semi/"))[0])[:2] == ["a", "b"]


def test_the_record_holds_the_same_attributes_and_counts_as_a_spark_run_of_the_file(
    world: World, spark: Any, tmp_path: Path
) -> None:
    """The same metadata record whichever engine ran (issue: parity): the Spark job's own recorder, run
    locally on a copy of the file against the same table, writes the same attributes and counts."""
    import file_processor  # noqa: PLC0415 - the Spark job

    key = "incoming/parity.csv"
    version = world.upload(key, ORDERS)
    fast_id, run_id = ids()
    world.put_record(fast_id, run_id)
    world.run(world.message(world.request(key, version, fast_id, run_id)))
    spark_id = uuid.uuid4().hex
    world.put_record(spark_id, "jr_local")
    local = tmp_path / "parity.csv"
    local.write_bytes(ORDERS)
    file_processor.main(["--input_path", str(local), "--output_path", str(tmp_path / "out"), "--quarantine_path",
                         str(tmp_path / "q"), "--source_file", key, "--file_id", spark_id, "--metadata_table", world.table])

    run_specific = {"file_id", "job_run_id", "job_name", "start_time", "end_time", "updated_at", "output_size_bytes"}
    fast, on_spark = world.record(fast_id), world.record(spark_id)
    assert set(fast) == set(on_spark)
    assert {k: v for k, v in fast.items() if k not in run_specific} == {k: v for k, v in on_spark.items() if k not in run_specific}
    assert fast["processing_status"] == "SUCCEEDED"


# ---------------------------------------------------------------------------------------------------------
# The version uploaded is the version processed
# ---------------------------------------------------------------------------------------------------------


def test_a_request_for_an_overwritten_version_is_superseded_and_publishes_nothing(world: World) -> None:
    key = "incoming/over.csv"
    first = world.upload(key, ORDERS)
    second = world.upload(key, b"order_id\n9\n")
    file_id, run_id = ids()
    world.put_record(file_id, run_id)

    assert world.run(world.message(world.request(key, first, file_id, run_id))) == {"batchItemFailures": []}

    record = world.record(file_id)
    assert record["processing_status"] == "SUPERSEDED"
    assert first[0] in record["error_message"] and second[0] in record["error_message"]
    assert world.output_objects() == {}


def test_a_request_for_a_deleted_object_is_source_deleted(world: World) -> None:
    key = "incoming/gone.csv"
    version = world.upload(key, ORDERS)
    world.s3.delete_object(Bucket=world.input_bucket, Key=key)
    file_id, run_id = ids()
    world.put_record(file_id, run_id)

    assert world.run(world.message(world.request(key, version, file_id, run_id))) == {"batchItemFailures": []}

    assert world.record(file_id)["processing_status"] == "SOURCE_DELETED"
    assert world.output_objects() == {}


def test_an_unversioned_bucket_reads_the_etag_it_was_started_for(aws_env: str) -> None:
    world = _make_world(versioned=False)
    key = "plain.csv"
    first = world.upload(key, ORDERS)
    file_id, run_id = ids()
    world.put_record(file_id, run_id)
    assert world.run(world.message(world.request(key, first, file_id, run_id))) == {"batchItemFailures": []}
    assert world.record(file_id)["processing_status"] == "SUCCEEDED"

    world.upload(key, b"order_id\n9\n")
    file_id, run_id = ids()
    world.put_record(file_id, run_id)
    world.run(world.message(world.request(key, first, file_id, run_id)))
    assert world.record(file_id)["processing_status"] == "SUPERSEDED"


# ---------------------------------------------------------------------------------------------------------
# Failures and fallbacks
# ---------------------------------------------------------------------------------------------------------


def test_a_malformed_file_is_failed_and_alarmed_and_the_previous_output_is_untouched(world: World) -> None:
    key = "incoming/semicolons.csv"
    version = world.upload(key, b"a;b;c\n1;2;3\n")
    file_id, run_id = ids()
    world.put_record(file_id, run_id)
    world.put_output("processed/incoming/semicolons/part-00000-good.snappy.parquet", b"the last good output")
    world.put_output("quarantine/incoming/semicolons/part-00000-good.json", b"{}\n")
    before = world.output_objects()

    answer = world.run(world.message(world.request(key, version, file_id, run_id)))

    assert answer == {"batchItemFailures": []}, "a data failure is recorded, not retried"
    record = world.record(file_id)
    assert record["processing_status"] == "FAILED"
    assert "semicolon" in record["error_message"]
    assert world.metric_total(METRICS["failed"]) == 1
    assert world.output_objects() == before
    assert world.glue_runs() == []


def test_a_publication_failing_half_way_leaves_the_previous_output_exactly_as_it_was(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    key = "incoming/half.csv"
    version = world.upload(key, ORDERS)
    file_id, run_id = ids()
    world.put_record(file_id, run_id)
    world.put_output("processed/incoming/half/part-00000-good.snappy.parquet", b"the last good output")
    before = world.output_objects()
    converter = world.converter()
    copy, copies = converter.services.s3.copy_object, []

    def second_copy_fails(**kwargs: Any) -> Any:
        copies.append(kwargs["Key"])
        if len(copies) == 2:  # the output was copied, the quarantine's copy fails
            raise OSError("connection reset")
        return copy(**kwargs)

    monkeypatch.setattr(converter.services.s3, "copy_object", second_copy_fails)
    world.run(world.message(world.request(key, version, file_id, run_id)), converter=converter)

    assert world.record(file_id)["processing_status"] == "FAILED"
    assert len(copies) == 2 and world.output_objects() == before


@pytest.mark.parametrize("error, reason", [
    (fast_run.ResourceExhausted("DuckDB ran out of memory (limit 2048 MB)"), "DuckDB ran out of memory (limit 2048 MB)"),
    (MemoryError(), "out of memory in the converter"),
])
def test_resource_exhaustion_falls_back_to_glue_with_the_same_arguments(
    world: World, monkeypatch: pytest.MonkeyPatch, error: BaseException, reason: str
) -> None:
    def exhausted(*_: Any, **__: Any) -> Any:
        raise error

    monkeypatch.setattr(fast_run, "convert_csv_file", exhausted)
    key = "incoming/big.csv"
    version = world.upload(key, ORDERS)
    file_id, run_id = ids()
    world.put_record(file_id, run_id)
    request = world.request(key, version, file_id, run_id)

    assert world.run(world.message(request)) == {"batchItemFailures": []}

    runs = world.glue_runs()
    assert len(runs) == 1
    assert {k: runs[0]["Arguments"][k] for k in request["jobArguments"]} == request["jobArguments"]
    record = world.record(file_id)
    assert (record["processing_status"], record["job_run_id"], record["job_name"]) == ("STARTED", runs[0]["Id"], world.job)
    assert record["engine"] == "glue"
    assert record["engine_reason"] == f"fallback: {reason}"
    assert world.metric_total(METRICS["fallbacks"]) == 1
    assert world.output_objects() == {}


def test_a_redelivery_after_a_killed_attempt_falls_back_to_glue(world: World) -> None:
    key = "incoming/killed.csv"
    version = world.upload(key, ORDERS)
    file_id, run_id = ids()
    world.put_record(file_id, run_id, status="RUNNING")  # the attempt that was killed got this far

    assert world.run(world.message(world.request(key, version, file_id, run_id), receive_count=2)) == {"batchItemFailures": []}

    record = world.record(file_id)
    assert (record["processing_status"], record["engine"]) == ("STARTED", "glue")
    assert record["engine_reason"].startswith("fallback: the previous attempt (receive 1) ended without a result")
    assert record["job_run_id"] == world.glue_runs()[0]["Id"]


def test_the_fallback_names_the_engine_when_the_glue_run_recorded_itself_first(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    key = "incoming/race.csv"
    version = world.upload(key, ORDERS)
    file_id, run_id = ids()
    world.put_record(file_id, run_id, status="RUNNING")
    converter = world.converter()
    start = converter.services.glue.start_job_run

    def start_then_glue_records_running(**kwargs: Any) -> Any:
        answer = start(**kwargs)  # the Glue job's own RUNNING write lands before the converter's STARTED
        metadata.MetadataRecorder(world.table, file_id, world.job, answer["JobRunId"], client=world.ddb).running()
        return answer

    monkeypatch.setattr(converter.services.glue, "start_job_run", start_then_glue_records_running)
    world.run(world.message(world.request(key, version, file_id, run_id), receive_count=2), converter=converter)

    record = world.record(file_id)
    assert (record["processing_status"], record["engine"]) == ("RUNNING", "glue")
    assert record["engine_reason"].startswith("fallback: ")


@pytest.fixture()
def glue_runs_stay_running(moto_endpoint: str) -> Iterator[None]:
    """The emulator's job runs advance (STARTING, RUNNING, SUCCEEDED) each time their state is read, so a
    running job never fills its slots; held in place here (moto's state manager), so Glue really refuses."""

    def post(path: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(f"{moto_endpoint}/moto-api/state-manager/{path}", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        urllib.request.urlopen(request).close()  # noqa: S310 - the emulator on loopback

    post("set-transition", {"model_name": "glue::job_run", "transition": {"progression": "manual", "times": 1_000_000}})
    try:
        yield
    finally:
        post("unset-transition", {"model_name": "glue::job_run"})


def test_a_capacity_refusal_on_fallback_returns_the_message(aws_env: str, glue_runs_stay_running: None) -> None:
    world = _make_world(max_concurrent_runs=1)
    world.glue.start_job_run(JobName=world.job)  # the job's one slot is taken
    key = "incoming/full.csv"
    version = world.upload(key, ORDERS)
    file_id, run_id = ids()
    world.put_record(file_id, run_id, status="RUNNING")
    message = world.message(world.request(key, version, file_id, run_id), receive_count=3)

    assert world.run(message) == {"batchItemFailures": [{"itemIdentifier": message["messageId"]}]}

    record = world.record(file_id)
    assert (record["processing_status"], record["job_run_id"], record["engine"]) == ("RUNNING", run_id, "fast")
    assert any("ConcurrentRunsExceededException" in json.dumps(line) for line in world.logs())


class LambdaContext:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_a_conversion_past_the_invocations_deadline_falls_back_to_glue(world: World) -> None:
    # The deadline is the invocation's remaining time less the reserve kept for publishing or falling back.
    key = "incoming/late.csv"
    version = world.upload(key, ORDERS)
    file_id, run_id = ids()
    world.put_record(file_id, run_id)
    reserve_ms = CONTRACT["defaults"]["deadlineReserveSeconds"] * 1000
    message = world.message(world.request(key, version, file_id, run_id))

    answer = handler.handle_event(world.converter(), {"Records": [message]}, LambdaContext(reserve_ms - 1))

    assert answer == {"batchItemFailures": []}
    record = world.record(file_id)
    assert (record["processing_status"], record["engine"]) == ("STARTED", "glue"), record
    assert world.output_objects() == {}


def test_a_file_too_large_for_tmp_goes_to_glue_before_any_download(world: World) -> None:
    key = "incoming/huge.csv"
    version = world.upload(key, ORDERS)
    file_id, run_id = ids()
    world.put_record(file_id, run_id)
    request = world.request(key, version, file_id, run_id)
    request["sizeBytes"] = 10**15

    assert world.run(world.message(request)) == {"batchItemFailures": []}

    record = world.record(file_id)
    assert record["engine"] == "glue" and "of /tmp" in record["engine_reason"]


def test_the_handler_imports_without_spark_or_pyarrow_as_in_its_lambda_zip() -> None:
    blocked = ("pyspark", "pyarrow", "numpy", "pandas")
    code = (f"import sys\nfor m in {blocked!r}: sys.modules[m] = None\n"
            f"sys.path.insert(0, {str(CONVERTER_DIR)!r})\nimport handler\nprint('imported')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False, cwd="/")
    assert done.returncode == 0 and "imported" in done.stdout, done.stderr[-2000:]


# ---------------------------------------------------------------------------------------------------------
# Duplicates, early and malformed messages
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status, same_run", [("SUCCEEDED", True), ("FAILED", True), ("STARTED", False), ("RUNNING", False)])
def test_a_duplicate_or_stale_request_does_nothing(world: World, status: str, same_run: bool) -> None:
    key = "incoming/dup.csv"
    version = world.upload(key, ORDERS)
    file_id, run_id = ids()
    world.put_record(file_id, run_id if same_run else f"{CONTRACT['runIdPrefix']}{uuid.uuid4()}", status=status)
    before = world.record(file_id)

    answer = world.run(world.message(world.request(key, version, file_id, run_id), receive_count=2))

    assert answer == {"batchItemFailures": []}
    assert world.record(file_id) == before
    assert world.output_objects() == {} and world.glue_runs() == []


def test_a_run_whose_record_was_taken_over_meanwhile_does_not_overwrite_it(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    key = "incoming/taken.csv"
    version = world.upload(key, ORDERS)
    file_id, run_id = ids()
    world.put_record(file_id, run_id)
    real_convert = fast_run.convert_csv_file

    def convert_while_a_duplicate_falls_back(*args: Any, **kwargs: Any) -> Any:
        metadata.MetadataRecorder(world.table, file_id, "x", run_id, client=world.ddb).fell_back(world.job, "jr_other", "test")
        return real_convert(*args, **kwargs)

    monkeypatch.setattr(fast_run, "convert_csv_file", convert_while_a_duplicate_falls_back)
    assert world.run(world.message(world.request(key, version, file_id, run_id))) == {"batchItemFailures": []}

    record = world.record(file_id)
    assert (record["processing_status"], record["job_run_id"], record["engine"]) == ("STARTED", "jr_other", "glue")
    assert world.metric_total(METRICS["failed"]) == 0


def test_a_request_before_the_trigger_recorded_started_returns_to_the_queue(world: World) -> None:
    key = "incoming/early.csv"
    version = world.upload(key, ORDERS)
    file_id, run_id = ids()
    world.put_claimed(file_id)
    message = world.message(world.request(key, version, file_id, run_id))
    converter = world.converter()
    waits: list[float] = []
    converter.services.sleep = waits.append

    assert world.run(message, converter=converter) == {"batchItemFailures": [{"itemIdentifier": message["messageId"]}]}
    assert world.record(file_id)["processing_status"] == "CLAIMED"
    assert waits == list(fast_run.CLAIMED_WAITS), "waited a few seconds for the trigger's STARTED first"


def test_a_request_that_overtook_the_triggers_started_write_waits_for_it(world: World) -> None:
    key = "incoming/overtaken.csv"
    version = world.upload(key, ORDERS)
    file_id, run_id = ids()
    world.put_claimed(file_id)
    converter = world.converter()
    converter.services.sleep = lambda _: world.put_record(file_id, run_id)  # the trigger's write lands meanwhile

    assert world.run(world.message(world.request(key, version, file_id, run_id)), converter=converter) == {"batchItemFailures": []}
    assert world.record(file_id)["processing_status"] == "SUCCEEDED"


@pytest.mark.parametrize("body", ["not json", json.dumps({"version": 99}), json.dumps({"version": 1, "runId": "jr_1", "fileId": "f"})])
def test_a_message_that_is_not_a_request_is_reported_failed(world: World, body: str) -> None:
    message = {"messageId": "m-1", "body": body, "attributes": {"ApproximateReceiveCount": "1"}}
    assert world.run(message) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def test_only_the_messages_that_must_return_are_reported_in_a_batch(world: World) -> None:
    key = "incoming/batch.csv"
    version = world.upload(key, ORDERS)
    file_id, run_id = ids()
    world.put_record(file_id, run_id)
    bad = {"messageId": "bad", "body": "{}", "attributes": {"ApproximateReceiveCount": "1"}}

    assert world.run(bad, world.message(world.request(key, version, file_id, run_id))) == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    assert world.record(file_id)["processing_status"] == "SUCCEEDED"


def test_parts_are_published_in_the_engines_order_under_names_unique_to_the_run(tmp_path: Path) -> None:
    s3_output = sys.modules["s3_output"]
    for name in ("part-10.parquet", "part-2.parquet", "part-1.parquet", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    parts = s3_output.local_parts(tmp_path, "*.parquet")
    assert [p.name for p in parts] == ["part-1.parquet", "part-2.parquet", "part-10.parquet"]
    assert [s3_output.part_name(i, "tok", p) for i, p in enumerate(parts)] == [
        "part-00000-tok.parquet", "part-00001-tok.parquet", "part-00002-tok.parquet"]
    assert s3_output.local_parts(tmp_path / "missing", "*.json") == []


def test_paths_outside_the_output_bucket_or_with_dot_segments_are_refused(world: World) -> None:
    key = "incoming/escape.csv"
    version = world.upload(key, ORDERS)
    for output in (f"s3://elsewhere/processed/x/", f"s3://{world.output_bucket}/processed/x/../../"):
        file_id, run_id = ids()
        world.put_record(file_id, run_id)
        request = world.request(key, version, file_id, run_id)
        request["jobArguments"]["--output_path"] = output
        world.run(world.message(request))
        record = world.record(file_id)
        assert record["processing_status"] == "FAILED" and "PathOutsideScopeError" in record["error_message"]
    assert world.output_objects() == {}


# ---------------------------------------------------------------------------------------------------------
# Contracts
# ---------------------------------------------------------------------------------------------------------


def test_the_record_attribute_names_are_the_contracts() -> None:
    assert CONTRACT["recordAttributes"] == {"engine": metadata.ENGINE_ATTRIBUTE, "engineReason": metadata.ENGINE_REASON_ATTRIBUTE}
    assert CONTRACT["engines"]["glue"] == metadata.ENGINE_GLUE


def test_settings_are_read_from_the_contracts_environment_names() -> None:
    names = CONTRACT["env"]
    settings = handler.settings_from_env({names["metadataTable"]: "t", names["outputBucket"]: "o", names["glueJobName"]: "j",
                                          names["memoryLimitMb"]: "2048"})
    assert (settings.metadata_table, settings.output_bucket, settings.glue_job_name) == ("t", "o", "j")
    assert settings.memory_limit_mb == 2048 and settings.metric_namespace == "GluePipeline"
    assert settings.deadline_reserve_seconds == CONTRACT["defaults"]["deadlineReserveSeconds"]
    with pytest.raises(handler.ConfigError, match=names["metadataTable"]):
        handler.settings_from_env({names["outputBucket"]: "o", names["glueJobName"]: "j"})


# ---------------------------------------------------------------------------------------------------------
# Every AWS call a run makes (the converter role's IAM is judged against this list)
# ---------------------------------------------------------------------------------------------------------

SERVICE_NAMES = {"s3": "S3", "dynamodb": "DynamoDB", "glue": "Glue"}


class CallRecorder:
    """botocore's before-parameter-build hook on the converter's clients: each call as the access contract's
    recorded commands name it (test/access/sdkCommands.json), with the bucket's role and an ARN pattern."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.calls: set[str] = set()

    def attach(self, *clients: Any) -> None:
        for client in clients:
            client.meta.events.register("before-parameter-build.*.*", self._hook)

    def _key_pattern(self, key: str, bucket: str | None = None) -> str:
        # The CSV flow reads any key of the input bucket (its suffix is .csv) and writes under the output
        # bucket's processed/ and quarantine/ prefixes.
        if bucket == self.world.input_bucket:
            return "*"
        return key.split("/", 1)[0] + "/*" if "/" in key else "*"

    def _bucket_role(self, bucket: str) -> str:
        return {self.world.input_bucket: "input", self.world.output_bucket: "output"}[bucket]

    def _hook(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service = SERVICE_NAMES[model.service_model.endpoint_prefix]
        call: dict[str, Any] = {"fn": "csv-converter", "service": service, "operation": model.name}
        if service == "S3":
            role = self._bucket_role(params["Bucket"])
            call["bucket"] = role
            if "Key" in params:
                call["key"] = self._key_pattern(params["Key"], params["Bucket"])
            if params.get("VersionId"):
                call["versioned"] = True
            if "Prefix" in params:
                call["prefix"] = self._key_pattern(params["Prefix"])
            if "Delete" in params:
                call["key"] = sorted({self._key_pattern(o["Key"]) for o in params["Delete"]["Objects"]})[0]
                assert len({self._key_pattern(o["Key"]) for o in params["Delete"]["Objects"]}) == 1
            if "CopySource" in params:
                source = params["CopySource"]
                call["sourceBucket"] = self._bucket_role(source["Bucket"])
                call["sourceKey"] = self._key_pattern(source["Key"], source["Bucket"])
            call["resource"] = f"arn:aws:s3:::{{{role}Bucket}}" + (f"/{call['key']}" if "key" in call else "")
        elif service == "DynamoDB":
            call["resource"] = "arn:aws:dynamodb:{region}:{account}:table/{metadataTable}"
        else:
            call["resource"] = "arn:aws:glue:{region}:{account}:job/{glueJobName}"
        self.calls.add(json.dumps(call, sort_keys=True))

    def as_list(self) -> list[dict[str, Any]]:
        return sorted((json.loads(c) for c in self.calls), key=lambda c: (c["service"], c["operation"], json.dumps(c, sort_keys=True)))


def test_every_aws_call_of_a_full_run_is_in_the_recorded_list(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    converter = world.converter()
    recorder = CallRecorder(world)
    services = converter.services
    recorder.attach(services.s3, services.dynamodb, services.glue)
    key = "incoming/calls.csv"

    # A conversion replacing an earlier output (list, copy, delete), a bad file, a duplicate, a fallback.
    for body in (ORDERS, ORDERS, b"a;b;c\n1;2;3\n"):
        version = world.upload(key, body)
        file_id, run_id = ids()
        world.put_record(file_id, run_id)
        world.run(world.message(world.request(key, version, file_id, run_id)), converter=converter)
        world.run(world.message(world.request(key, version, file_id, run_id), receive_count=2), converter=converter)
    file_id, run_id = ids()
    world.put_record(file_id, run_id, status="RUNNING")
    world.run(world.message(world.request(key, version, file_id, run_id), receive_count=2), converter=converter)

    recorded = recorder.as_list()
    if os.environ.get("UPDATE_CONVERTER_CALLS"):
        CALLS_FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        CALLS_FIXTURE.write_text(json.dumps(recorded, indent=2) + "\n", encoding="utf-8")
    assert recorded == json.loads(CALLS_FIXTURE.read_text(encoding="utf-8")), (
        "the converter's AWS calls changed: rerun with UPDATE_CONVERTER_CALLS=1 and have the converter role judged again"
    )
