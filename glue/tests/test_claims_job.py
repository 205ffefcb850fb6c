"""The claims job's entry point (the script uploaded to Glue) on local Spark with the bundled sample files:
counts reconciled, year=/month=/file_id= partitions written, bad records quarantined with their reasons,
a replay idempotent, another file's partitions untouched; the run recorded on its metadata record and its
outcome published to SNS, both in the AWS emulator (moto), for a run that succeeds, one that fails, and one
whose validated version was replaced or deleted before it ran."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from pyspark.sql import SparkSession

import healthcare_claims_etl as job
from glue_pipeline.claims_job import file_partitions

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "claims"
TABLE = "etl-pipeline-metadata-test"
MARCH_ID = "a" * 64
APRIL_ID = "b" * 64
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1"}


def argv(root: Path, sample: str, file_id: str, **extra: str) -> list[str]:
    args = {
        "input_path": str(SAMPLES / sample),
        "output_path": f"{root}/processed/claims/",
        "aggregation_path": f"{root}/processed/aggregations/claims_monthly/",
        "quarantine_path": f"{root}/quarantine/records/{sample}/{file_id}/",
        "staging_path": f"{root}/temp/staging/{file_id}/",
        "source_file": f"raw/claims/{sample}",
        "file_id": file_id,
        "reference_date": "2025-06-30",
        **extra,
    }
    return [token for key, value in args.items() for token in (f"--{key}", value)]


def read_json_lines(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for part in sorted(directory.glob("part-*")) for line in part.read_text().splitlines() if line]


class Emulated:
    """The metadata table and the two topics in moto, each topic with an SQS queue to read messages back."""

    def __init__(self, endpoint: str) -> None:
        self.dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)
        self.sns = boto3.client("sns", endpoint_url=endpoint)
        self.sqs = boto3.client("sqs", endpoint_url=endpoint)
        self.dynamodb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "file_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "file_id", "KeyType": "HASH"}],
        )
        self.topics: dict[str, str] = {}
        self.queues: dict[str, str] = {}
        for role in ("processing", "errors"):
            arn = self.sns.create_topic(Name=f"healthcare-claims-test-{role}")["TopicArn"]
            url = self.sqs.create_queue(QueueName=f"claims-{role}-reader")["QueueUrl"]
            queue_arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
            self.topics[role], self.queues[role] = arn, url

    def started(self, file_id: str) -> None:
        """The record as the validation Lambda leaves it."""
        self.dynamodb.put_item(TableName=TABLE, Item={"file_id": {"S": file_id}, "processing_status": {"S": "STARTED"}, "attempts": {"N": "1"}})

    def record(self, file_id: str) -> dict[str, Any]:
        item = self.dynamodb.get_item(TableName=TABLE, Key={"file_id": {"S": file_id}}, ConsistentRead=True)["Item"]
        return {k: (int(v["N"]) if "N" in v else v.get("S")) for k, v in item.items()}

    def messages(self, role: str) -> list[dict[str, Any]]:
        out = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queues[role], MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            if not got:
                return out
            for m in got:
                envelope = json.loads(m["Body"])
                out.append({"body": json.loads(envelope["Message"]), "attributes": {k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()}})
                self.sqs.delete_message(QueueUrl=self.queues[role], ReceiptHandle=m["ReceiptHandle"])


@pytest.fixture(scope="module")
def emulated(moto_endpoint: str) -> Iterator[Emulated]:
    saved = {k: os.environ.get(k) for k in [*AWS_ENV, "AWS_ENDPOINT_URL", "AWS_PROFILE"]}
    os.environ.update({**AWS_ENV, "AWS_ENDPOINT_URL": moto_endpoint})
    os.environ.pop("AWS_PROFILE", None)
    try:
        yield Emulated(moto_endpoint)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def runs(spark: SparkSession, emulated: Emulated, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """April (no tracking), then March tracked and published, then March again (a replay). One set of runs
    shared by the tests below: each run is a full Spark job."""
    root = tmp_path_factory.mktemp("claims")
    emulated.started(MARCH_ID)
    tracked = {"metadata_table": TABLE, "processing_topic_arn": emulated.topics["processing"], "error_topic_arn": emulated.topics["errors"]}
    april = job.main(argv(root, "claims_2024_04.csv", APRIL_ID))
    march = job.main(argv(root, "claims_2024_03.csv", MARCH_ID, **tracked))
    record = emulated.record(MARCH_ID)
    messages = emulated.messages("processing")
    errors = emulated.messages("errors")
    replay = job.main(argv(root, "claims_2024_03.csv", MARCH_ID))
    return {"root": root, "april": april, "march": march, "replay": replay, "record": record, "messages": messages, "errors": errors}


def test_counts_reconcile_and_every_bad_record_is_accounted_for(runs: dict[str, Any]) -> None:
    march = runs["march"]
    # 80 records: 1 malformed, 3 breaking a rule, 1 superseded by its own version 2, 75 written.
    assert (march["rows_in"], march["rows_written"], march["rows_malformed"], march["rows_invalid"], march["rows_superseded"], march["rows_quarantined"]) == (80, 75, 1, 3, 1, 5)
    assert march["quarantine_reasons"] == {"too_few_fields": 1, "INVALID_NPI_CHECK_DIGIT": 1, "NEGATIVE_AMOUNT": 1, "SERVICE_AFTER_PAID": 1, "DUPLICATE_SUPERSEDED": 1}
    assert march["outcome"] == "PROCESSED"
    assert (runs["april"]["rows_in"], runs["april"]["rows_written"], runs["april"]["rows_quarantined"]) == (24, 24, 0)


def test_claims_table_is_partitioned_by_year_month_and_file(spark: SparkSession, runs: dict[str, Any]) -> None:
    root: Path = runs["root"]
    table = f"{root}/processed/claims/"
    assert file_partitions(spark, table, MARCH_ID) == ["year=2024/month=03"]
    assert file_partitions(spark, table, APRIL_ID) == ["year=2024/month=04"]
    assert all(p.suffix == ".parquet" and ".snappy." in p.name for p in (root / "processed/claims/year=2024/month=03" / f"file_id={MARCH_ID}").glob("part-*"))
    df = spark.read.parquet(table)
    assert df.count() == 75 + 24
    march = {r.claim_id: r for r in df.where(f"file_id = '{MARCH_ID}'").collect()}
    assert len(march) == 75
    assert march["CLM-202403-00010"].claim_version == 2 and march["CLM-202403-00010"].claim_status == "ADJUSTED"
    assert march["CLM-202403-00006"].diagnosis_code == "E11.9"
    assert march["CLM-202403-00005"].claim_type == "PROFESSIONAL"
    assert str(march["CLM-202403-00003"].service_date) == "2024-03-05"
    assert {"risk_score", "risk_level", "service_category", "diagnosis_category", "days_to_payment", "processed_at", "source_file", "processing_job"} <= set(df.columns)
    assert "remarks" not in df.columns
    assert dict(df.dtypes)["billed_amount"] == "decimal(12,2)" and dict(df.dtypes)["service_date"] == "date"


def test_aggregation_table_adds_up_to_the_claims_table(spark: SparkSession, runs: dict[str, Any]) -> None:
    root: Path = runs["root"]
    claims = spark.read.parquet(f"{root}/processed/claims/")
    summary = spark.read.parquet(f"{root}/processed/aggregations/claims_monthly/")
    for file_id in (MARCH_ID, APRIL_ID):
        c = claims.where(f"file_id = '{file_id}'").selectExpr("count(*) n", "sum(billed_amount) billed", "sum(risk_score) risk").first()
        a = summary.where(f"file_id = '{file_id}'").selectExpr("sum(claim_count) n", "sum(billed_total) billed", "sum(risk_score_sum) risk").first()
        assert (c.n, c.billed, c.risk) == (a.n, a.billed, a.risk)


def test_bad_records_are_quarantined_with_their_reasons(runs: dict[str, Any]) -> None:
    quarantine = runs["root"] / "quarantine/records/claims_2024_03.csv" / MARCH_ID
    malformed = read_json_lines(quarantine / "malformed")
    assert [(m["quarantine_reason"], m["line_number"]) for m in malformed] == [("too_few_fields", 66)]
    rules = sorted(read_json_lines(quarantine / "rules"), key=lambda r: r["claim_id"])
    assert [(r["claim_id"], r["quarantine_reason"], r["quarantine_detail"]) for r in rules] == [
        ("CLM-202403-00010", "DUPLICATE_SUPERSEDED", "claim CLM-202403-00010 version 1 superseded by version 2 of the same file"),
        ("CLM-202403-00011", "INVALID_NPI_CHECK_DIGIT", "INVALID_NPI_CHECK_DIGIT:provider_npi"),
        ("CLM-202403-00024", "NEGATIVE_AMOUNT", "NEGATIVE_AMOUNT:billed_amount"),
        ("CLM-202403-00049", "SERVICE_AFTER_PAID", "SERVICE_AFTER_PAID:service_date"),
    ]
    assert json.loads(rules[1]["raw_record"])["provider_npi"] == "1234567890"
    assert all(r["source_file"] == "raw/claims/claims_2024_03.csv" for r in rules)


def test_a_replay_replaces_the_files_partitions_and_touches_no_other(spark: SparkSession, runs: dict[str, Any]) -> None:
    replay, march = runs["replay"], runs["march"]
    for key in ("rows_in", "rows_written", "rows_quarantined", "quarantine_reasons", "partitions"):
        assert replay[key] == march[key], key
    df = spark.read.parquet(f"{runs['root']}/processed/claims/")
    assert df.where(f"file_id = '{MARCH_ID}'").count() == 75
    assert df.where(f"file_id = '{APRIL_ID}'").count() == 24
    assert not (runs["root"] / "temp/staging" / MARCH_ID).exists(), "staging removed"


def test_the_run_is_recorded_and_published(runs: dict[str, Any]) -> None:
    record = runs["record"]
    assert (record["processing_status"], record["rows_in"], record["record_count"], record["rows_quarantined"], record["outcome"]) == ("SUCCEEDED", 80, 75, 5, "PROCESSED")
    assert record["rows_in"] == record["record_count"] + record["rows_quarantined"]
    assert record["attempts"] == 1, "the Lambda's attributes are kept"
    [message] = runs["messages"]
    assert list(message["body"]) == ["event_type", "job_id", "status", "input_file", "timestamp"]
    assert (message["body"]["event_type"], message["body"]["status"]) == ("job_status_update", "SUCCEEDED")
    assert message["body"]["job_id"].startswith("local-")
    assert (message["attributes"]["file_id"], message["attributes"]["record_count"], message["attributes"]["rows_quarantined"]) == (MARCH_ID, "75", "5")
    assert runs["errors"] == []


def test_a_failed_run_is_recorded_failed_and_published(spark: SparkSession, emulated: Emulated, tmp_path: Path) -> None:
    file_id = "c" * 64
    emulated.started(file_id)
    args = argv(tmp_path, "claims_2024_03.csv", file_id, metadata_table=TABLE, processing_topic_arn=emulated.topics["processing"], error_topic_arn=emulated.topics["errors"])
    args[args.index("--input_path") + 1] = str(tmp_path / "missing.csv")
    with pytest.raises(FileNotFoundError):
        job.main(args)
    record = emulated.record(file_id)
    assert record["processing_status"] == "FAILED"
    assert "FileNotFoundError" in record["error_message"]
    [failed] = emulated.messages("processing")
    assert failed["body"]["status"] == "FAILED"
    [error] = emulated.messages("errors")
    assert (error["body"]["event_type"], error["body"]["error_type"]) == ("error", "ClaimsJobError")
    assert error["body"]["context"] == {"function_name": "healthcare-claims-etl-local", "file": "raw/claims/claims_2024_03.csv"}
    assert "does not exist" in error["body"]["error_message"]


@pytest.mark.parametrize("change", ["replaced", "deleted"])
def test_a_file_replaced_or_deleted_after_validation_is_not_processed(emulated: Emulated, tmp_path: Path, change: str) -> None:
    # The run reads the key, not a version: it checks first (S3 in the emulator, as the job's boto3 sees it)
    # and records SUPERSEDED / SOURCE_DELETED instead of processing another version under this file id.
    s3 = boto3.client("s3")
    bucket = f"claims-{change}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    validated = s3.put_object(Bucket=bucket, Key="raw/claims/a.csv", Body=(SAMPLES / "claims_2024_03.csv").read_bytes())["VersionId"]
    if change == "replaced":
        s3.put_object(Bucket=bucket, Key="raw/claims/a.csv", Body=b"claim_id\nCLM-1\n")
    else:
        s3.delete_object(Bucket=bucket, Key="raw/claims/a.csv")
    file_id = ("d" if change == "replaced" else "e") * 64
    emulated.started(file_id)
    args = argv(tmp_path, "claims_2024_03.csv", file_id, metadata_table=TABLE, source_version=validated,
                processing_topic_arn=emulated.topics["processing"], error_topic_arn=emulated.topics["errors"])  # fmt: skip
    args[args.index("--input_path") + 1] = f"s3://{bucket}/raw/claims/a.csv"

    summary = job.main(args)

    status = "SUPERSEDED" if change == "replaced" else "SOURCE_DELETED"
    assert summary["processing_status"] == status
    record = emulated.record(file_id)
    assert record["processing_status"] == status
    assert (f"validated version {validated}, now " if change == "replaced" else "deleted before it was processed") in record["error_message"]
    assert not (tmp_path / "processed").exists(), "nothing written"
    assert emulated.messages("errors") == [], "not a failure: the newer upload (or the deletion) is handled on its own"
    # The STARTED the validation Lambda published gets its terminal update: this status, with the reason.
    [ended] = emulated.messages("processing")
    assert list(ended["body"]) == ["event_type", "job_id", "status", "input_file", "timestamp"]
    assert (ended["body"]["event_type"], ended["body"]["status"], ended["body"]["input_file"]) == ("job_status_update", status, f"s3://{bucket}/raw/claims/a.csv")
    assert ended["body"]["job_id"].startswith("local-"), "a local run's id (Glue's run id on Glue)"
    assert (ended["attributes"]["status"], ended["attributes"]["file_id"], ended["attributes"]["source_version"]) == (status, file_id, validated)
    assert ended["attributes"]["reason"] == record["error_message"]


def test_a_file_replaced_while_the_run_read_it_is_not_published(
    emulated: Emulated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second look, once the source is staged: a version that stopped being current while the run read it
    is not published under the validated version's file id. What an earlier run of the file wrote stays."""
    file_id = "f" * 64
    job.main(argv(tmp_path, "claims_2024_03.csv", file_id))  # the earlier run: partitions and malformed records
    written = [tmp_path / "processed", tmp_path / "quarantine"]

    def snapshot() -> dict[str, bytes]:
        return {str(p): p.read_bytes() for root in written for p in sorted(root.rglob("*")) if p.is_file()}

    before = snapshot()
    assert any("malformed" in k for k in before) and any("file_id=" in k for k in before)
    emulated.started(file_id)
    reason = "s3://claims/raw/claims/claims_2024_03.csv was replaced after validation (validated version v1, now v2)"
    # The local input has no versions: the check answers current before the read, replaced after it.
    answers = iter([None, ("SUPERSEDED", reason)])
    monkeypatch.setattr(job, "source_problem", lambda path, version: next(answers))
    args = argv(tmp_path, "claims_2024_03.csv", file_id, metadata_table=TABLE, source_version="v1",
                processing_topic_arn=emulated.topics["processing"], error_topic_arn=emulated.topics["errors"])  # fmt: skip

    summary = job.main(args)

    assert (summary["processing_status"], summary["reason"]) == ("SUPERSEDED", reason)
    assert next(answers, "asked twice") == "asked twice"
    record = emulated.record(file_id)
    assert (record["processing_status"], record["error_message"]) == ("SUPERSEDED", reason)
    assert snapshot() == before, "nothing of the replaced read was published"
    assert not (tmp_path / "temp/staging" / file_id).exists(), "staging removed"
    [ended] = emulated.messages("processing")
    assert (ended["body"]["status"], ended["attributes"]["reason"]) == ("SUPERSEDED", reason)
    assert emulated.messages("errors") == []


def test_a_current_version_and_an_unversioned_etag_pass_the_check() -> None:
    from glue_pipeline.claims_job import source_problem

    class S3:
        def __init__(self, head: dict) -> None:
            self.head = head
            self.calls: list[dict] = []

        def head_object(self, **kwargs):
            self.calls.append(kwargs)
            return self.head

    same = S3({"VersionId": "v1", "ETag": '"e1"'})
    assert source_problem("s3://claims/raw/claims/a.csv", "v1", same) is None
    assert same.calls == [{"Bucket": "claims", "Key": "raw/claims/a.csv"}]
    assert source_problem("s3://claims/raw/claims/a.csv", "e1", S3({"VersionId": "null", "ETag": '"e1"'})) is None
    untouched = S3({})
    assert source_problem("/tmp/a.csv", "v1", untouched) is None
    assert source_problem("s3://claims/raw/claims/a.csv", None, untouched) is None
    assert untouched.calls == []


def test_codes_keep_their_leading_zeros(spark: SparkSession, tmp_path: Path) -> None:
    """The shared CSV reader runs without type inference for claims: an all-numeric column of codes such as
    anesthesia CPT 00140 or place of service 02 would otherwise be read as numbers and lose its zeros."""
    from datetime import date, datetime, timezone

    from glue_pipeline.claims_job import ClaimsPaths, run_claims

    header = "claim_id,patient_id,provider_npi,claim_type,service_date,diagnosis_code,procedure_code,billed_amount,place_of_service"
    rows = [f"CLM-000{i},PAT-1,1234567893,PROFESSIONAL,2024-03-0{i},M54.5,00140,10{i}.00,02" for i in range(1, 4)]
    source = tmp_path / "codes.csv"
    source.write_text("\n".join([header, *rows]) + "\n")
    paths = ClaimsPaths(str(source), f"{tmp_path}/out/", f"{tmp_path}/agg/", f"{tmp_path}/q/", f"{tmp_path}/staging/")
    summary = run_claims(spark, paths, source_file="codes.csv", file_id="d" * 64, processing_job="test", processed_at=datetime.now(timezone.utc), reference_date=date(2025, 6, 30))
    assert (summary.rows_in, summary.rows_written, summary.rows_quarantined) == (3, 3, 0)
    written = spark.read.parquet(paths.output).select("procedure_code", "place_of_service", "service_category", "claim_version", "units").distinct().collect()
    assert [tuple(r) for r in written] == [("00140", "02", "ANESTHESIA", 1, 1)]


def test_a_claims_run_leaves_the_shared_session_as_it_found_it(spark: SparkSession, tmp_path: Path) -> None:
    """Locally one session serves every job: the claims settings must not change how the next job reads
    (partition values inferred as numbers, the shuffle width)."""
    keys = ["spark.sql.sources.partitionColumnTypeInference.enabled", "spark.sql.shuffle.partitions", "spark.sql.adaptive.enabled"]
    before = {key: spark.conf.get(key, None) for key in keys}
    job.main(argv(tmp_path, "claims_2024_04.csv", APRIL_ID))
    assert {key: spark.conf.get(key, None) for key in keys} == before
