"""The Spark-free half of a file run: its arguments, where it stages, the source-version check, the summary.

Both engines of the CSV flow run one file the same way (file_job.py on Spark, the fast path's converter in
functions/csv-converter on DuckDB): the same run-scoped staging prefixes, the same version check before and
after the read, the same summary fields and the same record writes. What needs Spark (moving staged output
into place through Hadoop's FileSystem) stays in file_job.py; this module imports no Spark, so the converter's
Lambda bundle can carry it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from glue_pipeline.metadata import STATUS_SOURCE_DELETED, STATUS_SUCCEEDED, STATUS_SUPERSEDED, MetadataRecorder
from glue_pipeline.path_scope import PathOutsideScopeError, path_problem, scratch_root

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


def aws_error_code(err: BaseException) -> str:
    """The error code of a boto3 ClientError (``NoSuchKey``, ``404``, ...), "" for any other exception."""
    return str(getattr(err, "response", {}).get("Error", {}).get("Code", ""))


def head_current(client: Any, s3_path: str) -> dict[str, Any] | None:
    """HeadObject of the key ``s3_path`` (s3://bucket/key) names, without a version: its current version's
    head, or None when the key is gone (a 404, which a delete marker answers too). Any other error fails the
    run: only a 404 is an answer."""
    bucket, _, key = s3_path[len("s3://"):].partition("/")
    try:
        return client.head_object(Bucket=bucket, Key=key)
    except Exception as err:  # noqa: BLE001 - only a 404 is an answer; anything else fails the run
        if aws_error_code(err) in ("404", "NoSuchKey", "NotFound"):
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


def run_summary(job_name: str, job_run_id: str | None, args: Mapping[str, Any], source_file: str, paths: RunPaths) -> dict[str, Any]:
    """The summary's opening fields: which run, which file, where it writes."""
    return {
        "job_name": job_name,
        "job_run_id": job_run_id,
        "file_id": args.get("file_id"),
        "source_file": source_file,
        "input_path": str(args["input_path"]),
        "output_path": paths.output_path,
        "quarantine_path": paths.quarantine_path,
    }


def finish_run(
    summary: dict[str, Any],
    recorder: MetadataRecorder | None,
    problem: tuple[str, str] | None,
    result: FileJobResult | None,
    started: float,
) -> None:
    """Completes ``summary`` and records the run's end: SUPERSEDED/SOURCE_DELETED with the reason when nothing
    was published (``problem``), else SUCCEEDED with the counts. ``started`` is a time.monotonic() reading."""
    if problem is not None:
        status, reason = problem
        summary.update({"processing_status": status, "outcome": status, "reason": reason,
                        "duration_seconds": round(time.monotonic() - started, 3)})
        LOG.warning("nothing published: %s", reason)
        if recorder:
            recorder.not_processed(status, reason)
        return
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
