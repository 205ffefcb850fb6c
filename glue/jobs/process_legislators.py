"""ProcessLegislators: persons, memberships and organizations (JSON Lines) -> the legislators history (seed 000).

This is the exact script uploaded to Glue; the ``glue_pipeline`` package comes with --extra-py-files.
Arguments: --input_path (directory holding persons.json, memberships.json, organizations.json),
--output_path (the history: Parquet partitioned by org_name, replaced on every run), --quarantine_path
(memberships that could not be joined or parsed, as JSON Lines with their reason), optional --source_file
(recorded in column source_file; default the input directory), --file_id and --metadata_table (both set: the
run is recorded on the metadata record like any other file's).

On AWS the job runs on demand (``aws glue start-job-run --job-name ProcessLegislators-<stage>``); its default
arguments point at legislators/ in the input bucket. One JSON summary line on stdout.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime, timezone
from typing import Any

from glue_pipeline.legislators import build_history
from glue_pipeline.metadata import MetadataRecorder
from glue_pipeline.runtime import start_job

JOB_NAME = "ProcessLegislators"
REQUIRED_ARGS = ("input_path", "output_path", "quarantine_path")
OPTIONAL_ARGS: dict[str, str | None] = {"source_file": None, "file_id": None, "metadata_table": None}

LOG = logging.getLogger(JOB_NAME)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Runs the job and returns its summary (also printed as one JSON line)."""
    runtime = start_job(argv, REQUIRED_ARGS, OPTIONAL_ARGS, default_job_name=JOB_NAME)
    args = runtime.args
    input_path = str(args["input_path"])
    recorder = MetadataRecorder.for_run(args, runtime.job_name, runtime.job_run_id)
    with recorder.track() if recorder else nullcontext():
        started = time.monotonic()
        result = build_history(
            runtime.spark,
            input_path=input_path,
            output_path=str(args["output_path"]),
            quarantine_path=str(args["quarantine_path"]),
            source_file=str(args.get("source_file") or input_path),
            processing_job=runtime.job_name,
            processed_at=datetime.now(timezone.utc),
        )
        outcome = "PROCESSED" if result.memberships_in else "EMPTY_FILE"
        summary: dict[str, Any] = {
            "job_name": runtime.job_name,
            "job_run_id": runtime.job_run_id,
            "file_id": args.get("file_id"),
            "input_path": input_path,
            "output_path": args["output_path"],
            "quarantine_path": args["quarantine_path"],
            "processing_status": "SUCCEEDED",
            "outcome": outcome,
            "persons": result.persons,
            "organizations": result.organizations,
            "rows_in": result.memberships_in,
            "record_count": result.rows_written,
            "rows_quarantined": result.rows_quarantined,
            "quarantine_reasons": result.quarantine_reasons,
            "partitions": result.organizations_written,
            "output_size_bytes": result.output_size_bytes,
            "columns": list(result.columns),
            "duration_seconds": round(time.monotonic() - started, 3),
        }
        if recorder:
            recorder.succeeded(
                rows_in=result.memberships_in,
                record_count=result.rows_written,
                rows_quarantined=result.rows_quarantined,
                output_size_bytes=result.output_size_bytes,
                outcome=outcome,
            )
    print(json.dumps(summary, ensure_ascii=False), flush=True)
    runtime.commit()
    return summary


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    main()
