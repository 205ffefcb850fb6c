"""The one shape of a file job's entry point (FileProcessorV2, ParquetToJson, ProcessLegislators).

Start (Glue or local), track the run on its metadata record when asked to, check the source version, convert
into a run-scoped staging prefix, publish, record the counts, print one JSON summary line, commit. A job
supplies only its conversion; every run of every file job therefore records and reports the same fields, and
a failure inside the conversion is recorded FAILED by ``track()``.

Keys are data (issue: data fidelity):

* The conversion reads ``input_path`` through ``hadoop_fs.literal_path`` (Spark would otherwise expand
  ``*?[]{}`` and ``\\`` in the key as a pattern), and it writes only under a staging prefix whose text holds no
  such characters (``hadoop_fs.scratch_root``), so its own read-backs need no escaping.
* Every path the run writes, moves or deletes is checked against this file's prefixes (the final output, the
  final quarantine and the run's staging prefixes); paths with ``.``/``..``/empty segments are refused before
  anything is touched, because Hadoop's Path would resolve them elsewhere.

Atomic output: the conversion writes to ``<scratch root>/_staging/<run token>/``; only after it returned
(convert_csv has reconciled rows_in = written + quarantined) is the staged output moved into place. A run that
fails before that leaves the previous output exactly as it was, and its staging prefix is removed.

The version uploaded is the version processed: the trigger passes ``--source_version_id`` (versioned buckets)
and ``--source_etag``. Glue reads ``s3://`` through EMRFS, which has no S3A-style change detection to pin a
read to a version id, so the job brackets its read with two HEADs of the current object: if the version it
was started for is no longer current before or after the read, nothing is published and the record becomes
SUPERSEDED (the newer version's own event starts its own run) or SOURCE_DELETED (the key was deleted).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pyspark.sql import SparkSession

from glue_pipeline.hadoop_fs import (
    PathOutsideScopeError,
    delete_path,
    path_exists,
    path_problem,
    rename_path,
    scratch_root,
    write_scope,
)
from glue_pipeline.metadata import STATUS_SOURCE_DELETED, STATUS_SUCCEEDED, STATUS_SUPERSEDED, MetadataRecorder
from glue_pipeline.runtime import start_job

LOG = logging.getLogger(__name__)

REQUIRED_ARGS: tuple[str, ...] = ("input_path", "output_path", "quarantine_path")
# file_id and metadata_table together turn recording on (MetadataRecorder.for_run); the trigger passes the
# version it was started for (source_version_id on versioned buckets, source_etag always).
RECORDING_ARGS: dict[str, str | None] = {
    "source_file": None,
    "file_id": None,
    "metadata_table": None,
    "source_version_id": None,
    "source_etag": None,
}
STAGING_DIR = "_staging"  # leading '_': Athena, Glue crawlers and Spark skip it when reading the prefix


@dataclass(frozen=True)
class FileJobRun:
    """What a conversion gets: Spark, the parsed arguments, and the values every file job derives from them."""

    spark: SparkSession
    job_name: str
    args: Mapping[str, str | None]
    input_path: str  # literal: read it through hadoop_fs.literal_path
    output_path: str  # this run's staging prefix for the output; published after the conversion returns
    quarantine_path: str  # likewise for the quarantine
    source_file: str  # --source_file, or the input path
    processed_at: datetime  # one timestamp for the whole run


@dataclass(frozen=True)
class FileJobResult:
    """What a conversion returns: the counts every run records, and the job's own summary fields."""

    outcome: str
    rows_in: int
    record_count: int
    rows_quarantined: int
    quarantine_reasons: Mapping[str, int]
    output_size_bytes: int
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunPaths:
    """Where one run writes: its staging prefixes, and the final prefixes publication moves them to."""

    output_path: str
    quarantine_path: str
    staging_output: str
    staging_quarantine: str
    staging_roots: tuple[str, ...]

    @classmethod
    def for_run(cls, input_path: str, output_path: str, quarantine_path: str, run_token: str) -> RunPaths:
        for path in (input_path, output_path, quarantine_path):
            problem = path_problem(path)
            if problem:
                raise PathOutsideScopeError(f"refusing to run: {problem}")
        if any(a != b and (a.rstrip("/") + "/").startswith(b.rstrip("/") + "/")
               for a in (output_path, quarantine_path) for b in (output_path, quarantine_path)):
            raise PathOutsideScopeError(f"output {output_path!r} and quarantine {quarantine_path!r} overlap")
        out_root = f"{scratch_root(output_path)}{STAGING_DIR}/{run_token}/"
        quarantine_root = f"{scratch_root(quarantine_path)}{STAGING_DIR}/{run_token}/"
        return cls(
            output_path=output_path,
            quarantine_path=quarantine_path,
            staging_output=out_root + "output",
            staging_quarantine=quarantine_root + "quarantine",
            staging_roots=tuple(dict.fromkeys((out_root, quarantine_root))),
        )

    @property
    def scope(self) -> tuple[str, ...]:
        """Everything this run may write, move or delete: its file's final prefixes and its own staging."""
        return (self.output_path, self.quarantine_path, *self.staging_roots)


def publish_outputs(spark: SparkSession, paths: RunPaths) -> None:
    """Moves the staged output and quarantine into their final prefixes, replacing what was there.

    A staged prefix that does not exist (no bad rows, or no data) removes the final one, as a run in place
    would have. The previous output is first moved aside into this run's staging prefix, so a failed move
    puts it back instead of leaving the prefix empty. On S3 a move is a copy and delete of each object: the
    final prefix may be briefly incomplete during publication, but only ever with this run's finished,
    reconciled output or the previous one, never with a failed run's partial files.
    """
    root = paths.staging_roots[0]
    for staged, final, name in (
        (paths.staging_output, paths.output_path, "output"),
        (paths.staging_quarantine, paths.quarantine_path, "quarantine"),
    ):
        aside = f"{root}previous-{name}"
        had_previous = path_exists(spark, final)
        if had_previous:
            rename_path(spark, final, aside)
        if path_exists(spark, staged):
            try:
                rename_path(spark, staged, final)
            except Exception:
                if had_previous and not path_exists(spark, final):
                    rename_path(spark, aside, final)
                raise


def head_current(client: Any, s3_path: str) -> dict[str, Any] | None:
    """HeadObject of the key ``s3_path`` (s3://bucket/key) names, without a version: its current version's
    head, or None when the key is gone (a 404, which a delete marker answers too). Any other error fails the
    run: only a 404 is an answer."""
    bucket, _, key = s3_path[len("s3://"):].partition("/")
    try:
        return client.head_object(Bucket=bucket, Key=key)
    except Exception as err:  # noqa: BLE001 - only a 404 is an answer; anything else fails the run
        code = str(getattr(err, "response", {}).get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def source_version_problem(client: Any, input_path: str, version_id: str | None, etag: str | None) -> tuple[str, str] | None:
    """``(status, reason)`` when the object version this run was started for is no longer the key's current
    version (SUPERSEDED) or the key is gone (SOURCE_DELETED); None when it is current, or when there is
    nothing to check (a local path, or no version given)."""
    version_id = version_id if version_id and version_id != "null" else None
    if not input_path.startswith("s3://") or not (version_id or etag):
        return None
    wanted = f"version {version_id}" if version_id else f"ETag {etag}"
    head = head_current(client, input_path)
    if head is None:
        return STATUS_SOURCE_DELETED, f"{input_path} ({wanted}) was deleted before it was processed"
    current_version = head.get("VersionId")
    current_etag = str(head.get("ETag", "")).strip('"')
    if version_id:
        if current_version != version_id:
            return STATUS_SUPERSEDED, f"{input_path} {wanted} is no longer current (version {current_version} is); its own run processes it"
    elif current_etag != etag:
        return STATUS_SUPERSEDED, f"{input_path} {wanted} is no longer current (ETag {current_etag} is); its own run processes it"
    return None


def run_file_job(
    argv: Sequence[str] | None,
    job_name: str,
    optional: Mapping[str, str | None],
    convert: Callable[[FileJobRun], FileJobResult],
    s3_client: Any = None,
) -> dict[str, Any]:
    """Runs one file job and returns its summary (also printed as one JSON line).

    ``s3_client`` answers the source-version HEADs (boto3's S3 client by default, created only when the run
    was given a version to check).
    """
    runtime = start_job(argv, REQUIRED_ARGS, {**RECORDING_ARGS, **optional}, default_job_name=job_name)
    args = runtime.args
    input_path = str(args["input_path"])
    paths = RunPaths.for_run(input_path, str(args["output_path"]), str(args["quarantine_path"]), uuid.uuid4().hex)
    version_id, etag = args.get("source_version_id"), args.get("source_etag")
    if s3_client is None and input_path.startswith("s3://") and (version_id or etag):
        import boto3  # noqa: PLC0415 - only runs that check a version need it

        s3_client = boto3.client("s3")

    def version_problem() -> tuple[str, str] | None:
        return source_version_problem(s3_client, input_path, version_id, etag)

    recorder = MetadataRecorder.for_run(args, runtime.job_name, runtime.job_run_id)
    with recorder.track() if recorder else nullcontext():
        started = time.monotonic()
        run = FileJobRun(
            spark=runtime.spark,
            job_name=runtime.job_name,
            args=args,
            input_path=input_path,
            output_path=paths.staging_output,
            quarantine_path=paths.staging_quarantine,
            source_file=str(args.get("source_file") or input_path),
            processed_at=datetime.now(timezone.utc),
        )
        summary: dict[str, Any] = {
            "job_name": runtime.job_name,
            "job_run_id": runtime.job_run_id,
            "file_id": args.get("file_id"),
            "source_file": run.source_file,
            "input_path": input_path,
            "output_path": paths.output_path,
            "quarantine_path": paths.quarantine_path,
        }
        result: FileJobResult | None = None
        problem = version_problem()
        with write_scope(paths.scope):
            try:
                if problem is None:
                    result = convert(run)
                    # The second HEAD: a version that was current before and after the read is the one read.
                    problem = version_problem()
                if problem is None:
                    publish_outputs(runtime.spark, paths)
            finally:
                for root in paths.staging_roots:
                    try:
                        delete_path(runtime.spark, root)
                    except Exception:  # noqa: BLE001 - leftover staging must not hide the run's own outcome
                        LOG.exception("could not remove staging prefix %s", root)
        if problem is not None:
            status, reason = problem
            summary.update({"processing_status": status, "outcome": status, "reason": reason,
                            "duration_seconds": round(time.monotonic() - started, 3)})
            LOG.warning("nothing published: %s", reason)
            if recorder:
                recorder.not_processed(status, reason)
        else:
            assert result is not None
            summary.update({
                "processing_status": STATUS_SUCCEEDED,
                "outcome": result.outcome,
                "rows_in": result.rows_in,
                "record_count": result.record_count,
                "rows_quarantined": result.rows_quarantined,
                "quarantine_reasons": dict(result.quarantine_reasons),
                "output_size_bytes": result.output_size_bytes,
                **result.details,
                "duration_seconds": round(time.monotonic() - started, 3),
            })
            if recorder:
                recorder.succeeded(
                    rows_in=result.rows_in,
                    record_count=result.record_count,
                    rows_quarantined=result.rows_quarantined,
                    output_size_bytes=result.output_size_bytes,
                    outcome=result.outcome,
                )
    print(json.dumps(summary, ensure_ascii=False), flush=True)
    runtime.commit()
    return summary
