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
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pyspark.sql import SparkSession

# The Spark-free half (also run by the fast path's converter) lives in file_run; imported back so every job
# keeps asking this module.
from glue_pipeline.file_run import (  # noqa: F401 - re-exported
    RECORDING_ARGS,
    REQUIRED_ARGS,
    STAGING_DIR,
    FileJobResult,
    RunPaths,
    finish_run,
    head_current,
    run_summary,
    source_version_problem,
)
from glue_pipeline.hadoop_fs import delete_path, is_empty_directory, list_children, rename_path, write_scope
from glue_pipeline.metadata import MetadataRecorder
from glue_pipeline.runtime import start_job

LOG = logging.getLogger(__name__)

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


FOLDER_MARKER = "_$folder$"


def _under(prefix: str, name: str) -> str:
    return prefix + name if prefix.endswith("/") else f"{prefix}/{name}"


def _partition_column(name: str) -> str | None:
    column, sep, _ = name.partition("=")
    return column if sep and column else None


def owned_entries(spark: SparkSession, final: str, staged: Sequence[tuple[str, bool]]) -> list[str]:
    """The names directly under ``final`` that this run replaces: its files (part files, ``_SUCCESS``, Spark's
    ``.crc`` files), and the ``column=value`` directories of the partition columns its staged output has.

    Any other directory under ``final`` is a sub-prefix holding another key's output (``a.csv`` publishes to
    ``processed/a/``, ``a/x.csv`` to ``processed/a/x/``; keys are data) and is never touched. A staged output
    holding a directory that is not a partition cannot be published without that risk, so it is refused.
    """
    columns = set()
    for name, is_dir in staged:
        if is_dir:
            column = _partition_column(name)
            if column is None:
                raise ValueError(f"refusing to publish {name!r}: a run publishes files and partition directories only")
            columns.add(column)
    present = list_children(spark, final)
    # EMRFS may keep an empty "<dir>_$folder$" object beside a directory: that marker is the other key's too.
    others = {name + FOLDER_MARKER for name, is_dir in present if is_dir and _partition_column(name) not in columns}
    return [name for name, is_dir in present
            if (not is_dir and name not in others) or (is_dir and _partition_column(name) in columns)]


def publish_outputs(spark: SparkSession, paths: RunPaths) -> None:
    """Moves the staged output and quarantine into their final prefixes, replacing what this run owns there.

    A run owns only the entries directly under its final prefix (see :func:`owned_entries`); sub-prefixes
    belonging to other keys stay exactly as they were, as the fast path's converter does
    (csv-converter/s3_output.py lists the final prefix one level deep). A staged prefix that does not exist
    (no bad rows, or no data) removes the final prefix's own entries, as a run in place would have, and the
    prefix itself when nothing else is left in it. The previous entries are first moved aside into this run's
    staging prefix, so a failed move removes what was moved in and puts them back instead of leaving the
    prefix empty. On S3 a move is a copy and delete of each object: the final prefix may be briefly incomplete
    during publication, but only ever with this run's finished, reconciled output or the previous one, never
    with a failed run's partial files.
    """
    root = paths.staging_roots[0]
    for staged, final, name in (
        (paths.staging_output, paths.output_path, "output"),
        (paths.staging_quarantine, paths.quarantine_path, "quarantine"),
    ):
        aside = f"{root}previous-{name}/"
        incoming = list_children(spark, staged)
        previous = owned_entries(spark, final, incoming)
        moved_aside: list[str] = []
        moved_in: list[str] = []
        try:
            for entry in previous:
                rename_path(spark, _under(final, entry), aside + entry)
                moved_aside.append(entry)
            for entry, _ in incoming:
                rename_path(spark, _under(staged, entry), _under(final, entry))
                moved_in.append(entry)
        except Exception:
            _restore(spark, final, aside, moved_in, moved_aside)
            raise
        if not incoming and is_empty_directory(spark, final):
            delete_path(spark, final)


def _restore(spark: SparkSession, final: str, aside: str, moved_in: Sequence[str], moved_aside: Sequence[str]) -> None:
    """Undoes a failed publication of one prefix: this run's entries out, the previous ones back."""
    for entry in moved_in:
        try:
            delete_path(spark, _under(final, entry))
        except Exception:  # noqa: BLE001 - keep restoring; the publication's own error is raised
            LOG.exception("could not remove %s after a failed publication", _under(final, entry))
    for entry in moved_aside:
        try:
            rename_path(spark, aside + entry, _under(final, entry))
        except Exception:  # noqa: BLE001 - keep restoring; the publication's own error is raised
            LOG.exception("could not put back %s after a failed publication", _under(final, entry))


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
        summary = run_summary(runtime.job_name, runtime.job_run_id, args, run.source_file, paths)
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
        finish_run(summary, recorder, problem, result, started)
    print(json.dumps(summary, ensure_ascii=False), flush=True)
    runtime.commit()
    return summary
