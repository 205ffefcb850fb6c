"""The one shape of a file job's entry point (FileProcessorV2, ParquetToJson, ProcessLegislators).

Start (Glue or local), track the run on its metadata record when asked to, convert, record the counts, print
one JSON summary line, commit. A job supplies only its conversion; every run of every file job therefore
records and reports the same fields, and a failure inside the conversion is recorded FAILED by ``track()``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pyspark.sql import SparkSession

from glue_pipeline.metadata import MetadataRecorder
from glue_pipeline.runtime import start_job

REQUIRED_ARGS: tuple[str, ...] = ("input_path", "output_path", "quarantine_path")
# file_id and metadata_table together turn recording on (MetadataRecorder.for_run).
RECORDING_ARGS: dict[str, str | None] = {"source_file": None, "file_id": None, "metadata_table": None}


@dataclass(frozen=True)
class FileJobRun:
    """What a conversion gets: Spark, the parsed arguments, and the values every file job derives from them."""

    spark: SparkSession
    job_name: str
    args: Mapping[str, str | None]
    input_path: str
    output_path: str
    quarantine_path: str
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


def run_file_job(
    argv: Sequence[str] | None,
    job_name: str,
    optional: Mapping[str, str | None],
    convert: Callable[[FileJobRun], FileJobResult],
) -> dict[str, Any]:
    """Runs one file job and returns its summary (also printed as one JSON line)."""
    runtime = start_job(argv, REQUIRED_ARGS, {**RECORDING_ARGS, **optional}, default_job_name=job_name)
    args = runtime.args
    input_path = str(args["input_path"])
    recorder = MetadataRecorder.for_run(args, runtime.job_name, runtime.job_run_id)
    with recorder.track() if recorder else nullcontext():
        started = time.monotonic()
        run = FileJobRun(
            spark=runtime.spark,
            job_name=runtime.job_name,
            args=args,
            input_path=input_path,
            output_path=str(args["output_path"]),
            quarantine_path=str(args["quarantine_path"]),
            source_file=str(args.get("source_file") or input_path),
            processed_at=datetime.now(timezone.utc),
        )
        result = convert(run)
        summary: dict[str, Any] = {
            "job_name": runtime.job_name,
            "job_run_id": runtime.job_run_id,
            "file_id": args.get("file_id"),
            "source_file": run.source_file,
            "input_path": input_path,
            "output_path": run.output_path,
            "quarantine_path": run.quarantine_path,
            "processing_status": "SUCCEEDED",
            "outcome": result.outcome,
            "rows_in": result.rows_in,
            "record_count": result.record_count,
            "rows_quarantined": result.rows_quarantined,
            "quarantine_reasons": dict(result.quarantine_reasons),
            "output_size_bytes": result.output_size_bytes,
            **result.details,
            "duration_seconds": round(time.monotonic() - started, 3),
        }
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
