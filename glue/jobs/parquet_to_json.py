"""ParquetToJson: one Parquet file -> JSON Lines, schema validated, bad rows quarantined, the run recorded (seed 001).

This is the exact script uploaded to Glue; the ``glue_pipeline`` package comes with --extra-py-files.
Arguments (Glue passes ``--name value``; locally the same flags): --input_path (the .parquet object),
--output_path (directory for this file's JSON Lines: the trigger passes processed-data/YYYY/MM/DD/<name>/),
--quarantine_path (directory for its bad rows), optional --source_file (object key, stored in column
``source_file``), --file_id and --metadata_table (both set: the run is recorded on the metadata record), and
--expected_schema (inline JSON or the path of a JSON file; default: the NYC yellow-taxi trip schema).

A file whose schema does not match fails the run (recorded FAILED with the mismatch). Otherwise
rows_in = record_count + rows_quarantined on every run, or the run fails.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime, timezone
from typing import Any

from glue_pipeline.metadata import MetadataRecorder
from glue_pipeline.parquet_json import convert_parquet_to_json, load_expected_schema
from glue_pipeline.runtime import start_job

JOB_NAME = "ParquetToJson"
REQUIRED_ARGS = ("input_path", "output_path", "quarantine_path")
OPTIONAL_ARGS: dict[str, str | None] = {
    "source_file": None,
    "file_id": None,
    "metadata_table": None,
    "expected_schema": None,
}

LOG = logging.getLogger(JOB_NAME)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Runs the job and returns its summary (also printed as one JSON line)."""
    runtime = start_job(argv, REQUIRED_ARGS, OPTIONAL_ARGS, default_job_name=JOB_NAME)
    args = runtime.args
    input_path = str(args["input_path"])
    source_file = str(args.get("source_file") or input_path)
    recorder = MetadataRecorder.for_run(args, runtime.job_name, runtime.job_run_id)
    with recorder.track() if recorder else nullcontext():
        started = time.monotonic()
        # Inside track(): an unreadable or invalid --expected_schema is a failed run, recorded as such.
        expected = load_expected_schema(runtime.spark, args.get("expected_schema"))
        result = convert_parquet_to_json(
            runtime.spark,
            input_path=input_path,
            output_path=str(args["output_path"]),
            quarantine_path=str(args["quarantine_path"]),
            source_file=source_file,
            processing_job=runtime.job_name,
            processed_at=datetime.now(timezone.utc),
            expected=expected,
        )
        summary: dict[str, Any] = {
            "job_name": runtime.job_name,
            "job_run_id": runtime.job_run_id,
            "file_id": args.get("file_id"),
            "source_file": source_file,
            "input_path": input_path,
            "output_path": args["output_path"],
            "quarantine_path": args["quarantine_path"],
            "processing_status": "SUCCEEDED",
            "outcome": result.outcome,
            "rows_in": result.rows_in,
            "record_count": result.rows_written,
            "rows_quarantined": result.rows_quarantined,
            "quarantine_reasons": result.quarantine_reasons,
            "rule_violations": result.rule_violations,
            "input_size_bytes": result.input_size_bytes,
            "output_size_bytes": result.output_size_bytes,
            "columns": result.column_types,
            "extra_columns": list(result.extra_columns),
            "duration_seconds": round(time.monotonic() - started, 3),
        }
        if recorder:
            recorder.succeeded(
                rows_in=result.rows_in,
                record_count=result.rows_written,
                rows_quarantined=result.rows_quarantined,
                output_size_bytes=result.output_size_bytes,
                outcome=result.outcome,
            )
    print(json.dumps(summary, ensure_ascii=False), flush=True)
    runtime.commit()
    return summary


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    main()
