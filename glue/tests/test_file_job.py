"""A file job's paths, publication and source version (issue: data fidelity, items 6-8).

Keys are data: files named with glob characters, ':' and '\\' are converted on real local Spark and each
output holds exactly that file's values. Output is atomic: a run that fails after writing leaves the
previous output byte-identical. The version uploaded is the version processed: HEADs against the moto S3
emulator decide SUPERSEDED / SOURCE_DELETED, and such a run publishes nothing.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import json
import shutil

import boto3
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession

import file_processor
import parquet_to_json
import process_legislators
from conftest import REPO_ROOT
from glue_pipeline.file_job import (
    STAGING_DIR,
    FileJobResult,
    FileJobRun,
    RunPaths,
    run_file_job,
    source_version_problem,
)
from glue_pipeline.hadoop_fs import (
    PathOutsideScopeError,
    delete_path,
    literal_path,
    path_problem,
    rename_path,
    scratch_root,
    write_scope,
)
from glue_pipeline.metadata import STATUS_SOURCE_DELETED, STATUS_SUPERSEDED


def job(tmp_path: Path, source: Path | str, out_name: str, *extra: str,
        convert: Any = file_processor.convert, s3_client: Any = None) -> tuple[dict, Path, Path]:
    out = tmp_path / "processed" / out_name
    quarantine = tmp_path / "quarantine" / out_name
    argv = ["--input_path", str(source), "--output_path", str(out), "--quarantine_path", str(quarantine),
            "--source_file", Path(source).name, *extra]
    summary = run_file_job(argv, file_processor.JOB_NAME, file_processor.OPTIONAL_ARGS, convert, s3_client=s3_client)
    return summary, out, quarantine


def values(path: Path) -> list[str]:
    return [str(v) for v in ds.dataset(str(path), format="parquet").to_table().column("v").to_pylist()]


def snapshot(*roots: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for root in roots if root.exists() for p in sorted(root.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------------------------------------------
# A key is a name, never a pattern
# ---------------------------------------------------------------------------------------------------------

# Each hostile name sits next to the neighbours its pattern would match; every file holds its own value.
NEIGHBOURS = ["r1.csv", "sx.csv", "ab.csv", "ac.csv", "qz.csv"]
HOSTILE = ["r[1].csv", "s*.csv", "a{b,c}.csv", "q?.csv", "c:d.csv", "e\\f.csv", "[!x]{}.csv"]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_key_with_pattern_characters_reads_only_itself(spark: SparkSession, tmp_path: Path, name: str) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for neighbour in NEIGHBOURS:
        (incoming / neighbour).write_bytes(f"v\nneighbour-{neighbour}\n".encode())
    # The value names the file by its index: the names themselves hold ',' and '\\', which are CSV syntax.
    own = f"own-{HOSTILE.index(name)}"
    (incoming / name).write_bytes(f"v\n{own}\n".encode())

    summary, out, quarantine = job(tmp_path, incoming / name, name[:-4])

    assert values(out) == [own], "read a neighbour (or more than the one file)"
    assert (summary["rows_in"], summary["record_count"]) == (1, 1)
    assert summary["output_path"] == str(out)
    assert not quarantine.exists()
    assert not list(tmp_path.rglob(STAGING_DIR + "/*")), "staging left behind"


@pytest.mark.parametrize("name", [n.replace(".csv", ".parquet") for n in HOSTILE])
def test_parquet_to_json_reads_a_key_with_pattern_characters_literally(spark: SparkSession, tmp_path: Path, name: str) -> None:
    # The Parquet flow's job goes through the same file-job path: one rule for every file job.
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for i, neighbour in enumerate(n.replace(".csv", ".parquet") for n in NEIGHBOURS):
        pq.write_table(pa.table({"id": pa.array([100 + i], pa.int32())}), incoming / neighbour)
    pq.write_table(pa.table({"id": pa.array([HOSTILE.index(name.replace(".parquet", ".csv"))], pa.int32())}), incoming / name)
    out, quarantine = tmp_path / "processed-data" / name[:-8], tmp_path / "quarantine" / name[:-8]
    schema = {"columns": [{"name": "id", "type": "integer"}], "key_columns": ["id"]}

    summary = parquet_to_json.main(["--input_path", str(incoming / name), "--output_path", str(out),
                                    "--quarantine_path", str(quarantine), "--source_file", name,
                                    "--expected_schema", json.dumps(schema)])  # fmt: skip

    rows = [json.loads(line) for p in sorted(out.glob("part-*.json")) for line in p.read_text("utf-8").splitlines()]
    assert [r["id"] for r in rows] == [HOSTILE.index(name.replace(".parquet", ".csv"))], "read a neighbour"
    assert (summary["rows_in"], summary["record_count"]) == (1, 1)


def test_process_legislators_reads_a_directory_with_pattern_characters_literally(spark: SparkSession, tmp_path: Path) -> None:
    # Its input is a prefix holding three fixed names; 'in[1]/persons.json' as a glob would read 'in1/...'.
    named, neighbour = tmp_path / "in[1]", tmp_path / "in1"
    shutil.copytree(REPO_ROOT / "samples" / "legislators", named, ignore=shutil.ignore_patterns("*.md"))
    shutil.copytree(named, neighbour)
    (neighbour / "persons.json").write_text("", "utf-8")  # the neighbour's people are gone: a glob would find none

    summary = process_legislators.main(["--input_path", str(named), "--output_path", str(tmp_path / "history"),
                                        "--quarantine_path", str(tmp_path / "quarantine")])  # fmt: skip

    assert summary["outcome"] == "PROCESSED" and summary["record_count"] > 0


def test_literal_path_escapes_every_glob_character_and_nothing_else() -> None:
    assert literal_path("s3://b/in/r[1]*?{a,b}\\x.csv") == "s3://b/in/r\\[1\\]\\*\\?\\{a,b\\}\\\\x.csv"
    assert literal_path("s3://b/in/plain name:1 (2).csv") == "s3://b/in/plain name:1 (2).csv"


# ---------------------------------------------------------------------------------------------------------
# Every write and delete stays under this file's prefixes
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("s3://b/processed/x/../../", "'..' segment"),
        ("s3://b/processed/./x/", "'.' segment"),
        ("s3://b/processed//x/", "empty segment"),
        ("/tmp/a/../b", "'..' segment"),
        ("s3://b/processed/x/", None),
        ("s3://b/processed/x..y/.hidden/", None),
    ],
)
def test_path_problem_names_dot_segments_and_empty_segments(path: str, problem: str | None) -> None:
    found = path_problem(path)
    assert (found is None) if problem is None else (problem in str(found))


def test_a_run_whose_paths_escape_their_prefix_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    # The trigger rejects such keys; this is the job's own assertion if one ever arrives.
    with pytest.raises(PathOutsideScopeError, match=r"'\.\.' segment"):
        RunPaths.for_run("s3://in/x/../../processed.csv", "s3://out/processed/x/../../processed/",
                         "s3://out/quarantine/x/../../processed/", "t")
    with pytest.raises(PathOutsideScopeError, match="overlap"):
        RunPaths.for_run("s3://in/a.csv", "s3://out/processed/a/", "s3://out/processed/a/q/", "t")


def test_deletes_and_moves_outside_the_scope_are_refused(spark: SparkSession, tmp_path: Path) -> None:
    mine, other = tmp_path / "processed" / "mine", tmp_path / "processed" / "other"
    for d in (mine, other):
        d.mkdir(parents=True)
        (d / "part.parquet").write_bytes(b"x")
    with write_scope([str(mine)]):
        with pytest.raises(PathOutsideScopeError, match="outside this run's prefixes"):
            delete_path(spark, str(other))
        with pytest.raises(PathOutsideScopeError, match="'..' segment"):
            delete_path(spark, f"{mine}/../other")
        with pytest.raises(PathOutsideScopeError):
            rename_path(spark, str(other), f"{mine}/stolen")
        # A sibling whose name merely starts with the prefix's text is outside too.
        with pytest.raises(PathOutsideScopeError):
            delete_path(spark, f"{mine}-2")
        assert delete_path(spark, str(mine / "part.parquet"))
    assert (other / "part.parquet").read_bytes() == b"x"


def test_staging_goes_under_the_nearest_ancestor_that_needs_no_escaping() -> None:
    assert scratch_root("s3://out/processed/r[1]/") == "s3://out/processed/"
    assert scratch_root("s3://out/processed/d{1}/sub/r/") == "s3://out/processed/"
    assert scratch_root("s3://out/processed/a/b/r/") == "s3://out/processed/a/b/"
    assert scratch_root("/tmp/x/c:d/data") == "/tmp/x/"
    paths = RunPaths.for_run("s3://in/r[1].csv", "s3://out/processed/r[1]/", "s3://out/quarantine/r[1]/", "tok")
    assert paths.staging_output == "s3://out/processed/_staging/tok/output"
    assert paths.staging_quarantine == "s3://out/quarantine/_staging/tok/quarantine"
    assert paths.scope == ("s3://out/processed/r[1]/", "s3://out/quarantine/r[1]/",
                           "s3://out/processed/_staging/tok/", "s3://out/quarantine/_staging/tok/")


# ---------------------------------------------------------------------------------------------------------
# Atomic output
# ---------------------------------------------------------------------------------------------------------

def test_a_run_failing_after_writing_leaves_the_previous_output_byte_identical(spark: SparkSession, tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    source.write_bytes(b"v,n\na,1\nb,2\nbroken,1,2,3\n")
    first, out, quarantine = job(tmp_path, source, "orders")
    assert (first["record_count"], first["rows_quarantined"]) == (2, 1)
    before = snapshot(out, quarantine)
    assert any("quarantine" in k for k in before) and any(k.endswith(".parquet") for k in before)

    # A new upload of the same key whose run writes all its output, then fails (e.g. reconciliation).
    source.write_bytes(b"v,n\nc,3\n")
    staged: list[str] = []

    def write_then_fail(run: FileJobRun) -> FileJobResult:
        file_processor.convert(run)
        staged.append(run.output_path)
        assert Path(run.output_path).exists(), "the failing run wrote nothing, so the test proves nothing"
        raise RuntimeError("injected failure after writing")

    with pytest.raises(RuntimeError, match="injected failure"):
        job(tmp_path, source, "orders", convert=write_then_fail)

    assert snapshot(out, quarantine) == before
    assert staged and not Path(staged[0]).exists(), "the failed run's staging was not removed"

    # The next good run replaces both: new rows, and the quarantine removed because it has none.
    last, _, _ = job(tmp_path, source, "orders")
    assert values(out) == ["c"] and last["rows_quarantined"] == 0
    assert not quarantine.exists()


# ---------------------------------------------------------------------------------------------------------
# The version uploaded is the version processed
# ---------------------------------------------------------------------------------------------------------

@pytest.fixture()
def versioned_bucket(aws_env: str) -> tuple[Any, str]:
    s3 = boto3.client("s3")
    bucket = f"input-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return s3, bucket


def test_source_version_is_current_superseded_or_deleted(versioned_bucket: tuple[Any, str]) -> None:
    s3, bucket = versioned_bucket
    v1 = s3.put_object(Bucket=bucket, Key="in/a b.csv", Body=b"v\n1\n")
    uri = f"s3://{bucket}/in/a b.csv"
    assert source_version_problem(s3, uri, v1["VersionId"], v1["ETag"].strip('"')) is None

    v2 = s3.put_object(Bucket=bucket, Key="in/a b.csv", Body=b"v\n2\n")
    status, reason = source_version_problem(s3, uri, v1["VersionId"], None) or ("", "")
    assert status == STATUS_SUPERSEDED and v2["VersionId"] in reason
    assert source_version_problem(s3, uri, v2["VersionId"], None) is None

    s3.delete_object(Bucket=bucket, Key="in/a b.csv")  # a delete marker: the key is gone
    status, reason = source_version_problem(s3, uri, v2["VersionId"], None) or ("", "")
    assert status == STATUS_SOURCE_DELETED and "deleted" in reason
    # Nothing to check for a local path or a run given no version (a hand-started run).
    assert source_version_problem(s3, "/tmp/a.csv", "v", None) is None
    assert source_version_problem(s3, uri, None, None) is None


def test_unversioned_buckets_compare_the_etag(aws_env: str) -> None:
    s3 = boto3.client("s3")
    bucket = f"input-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    first = s3.put_object(Bucket=bucket, Key="a.csv", Body=b"v\n1\n")["ETag"].strip('"')
    s3.put_object(Bucket=bucket, Key="a.csv", Body=b"v\n2\n")
    status, _ = source_version_problem(s3, f"s3://{bucket}/a.csv", "null", first) or ("", "")
    assert status == STATUS_SUPERSEDED


def _never(run: FileJobRun) -> FileJobResult:
    raise AssertionError("a superseded version must not be converted")


def test_a_superseded_version_is_not_converted_and_publishes_nothing(
    spark: SparkSession, tmp_path: Path, versioned_bucket: tuple[Any, str]
) -> None:
    s3, bucket = versioned_bucket
    v1 = s3.put_object(Bucket=bucket, Key="a.csv", Body=b"v\n1\n")["VersionId"]
    s3.put_object(Bucket=bucket, Key="a.csv", Body=b"v\n2\n")
    out = tmp_path / "processed" / "a"
    out.mkdir(parents=True)
    (out / "previous.parquet").write_bytes(b"previous")

    summary, _, _ = job(tmp_path, f"s3://{bucket}/a.csv", "a", "--source_version_id", v1, convert=_never, s3_client=s3)

    assert summary["processing_status"] == STATUS_SUPERSEDED and "no longer current" in summary["reason"]
    assert snapshot(out) == {str(out / "previous.parquet"): b"previous"}


def test_a_version_replaced_during_the_read_is_not_published(
    spark: SparkSession, tmp_path: Path, versioned_bucket: tuple[Any, str]
) -> None:
    # The second HEAD: the run read a version that stopped being current while it ran.
    s3, bucket = versioned_bucket
    v1 = s3.put_object(Bucket=bucket, Key="a.csv", Body=b"v\n1\n")["VersionId"]
    local = tmp_path / "a.csv"
    local.write_bytes(b"v\n1\n")

    def convert_then_overwritten(run: FileJobRun) -> FileJobResult:
        local_run = FileJobRun(**{**run.__dict__, "input_path": str(local)})
        result = file_processor.convert(local_run)
        s3.put_object(Bucket=bucket, Key="a.csv", Body=b"v\n2\n")
        return result

    summary, out, _ = job(tmp_path, f"s3://{bucket}/a.csv", "a", "--source_version_id", v1,
                          convert=convert_then_overwritten, s3_client=s3)
    assert summary["processing_status"] == STATUS_SUPERSEDED
    assert not out.exists() and not list(tmp_path.rglob(STAGING_DIR + "/*"))
