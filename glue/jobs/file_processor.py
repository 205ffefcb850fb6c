"""FileProcessorV2: one CSV file -> Snappy Parquet, malformed records quarantined, the run recorded.

This is the exact script uploaded to Glue; the ``glue_pipeline`` package comes with --extra-py-files.
Arguments (Glue passes ``--name value``; locally the same flags): --input_path, --output_path,
--quarantine_path, optional --source_file (object key, stored in column ``source_file``), --file_id and
--metadata_table (both set: the run is recorded on the metadata record), --sample_lines (lines read from the
head of the file to infer the schema), --max_record_lines (longest multi-line record accepted).

Outputs: Parquet under --output_path, replaced on every run so a replay of the same file is idempotent;
malformed records as JSON Lines under --quarantine_path (removed when there are none); one JSON summary line
on stdout. rows_in = rows written + rows quarantined on every run, or the run fails.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime, timezone
from typing import Any

from glue_pipeline.csv_processing import CsvOptions, ReconciliationError, convert_csv
from glue_pipeline.metadata import MetadataRecorder
from glue_pipeline.runtime import start_job

JOB_NAME = "FileProcessorV2"
REQUIRED_ARGS = ("input_path", "output_path", "quarantine_path")
OPTIONAL_ARGS: dict[str, str | None] = {
    "source_file": None,
    "file_id": None,
    "metadata_table": None,
    "sample_lines": str(CsvOptions.sample_lines),
    "max_record_lines": str(CsvOptions.max_record_lines),
}

LOG = logging.getLogger(JOB_NAME)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Runs the job and returns its summary (also printed as one JSON line)."""
    runtime = start_job(argv, REQUIRED_ARGS, OPTIONAL_ARGS, default_job_name=JOB_NAME)
    args = runtime.args
    input_path = str(args["input_path"])
    recorder = MetadataRecorder.for_run(args, runtime.job_name, runtime.job_run_id)
    with recorder.track() if recorder else nullcontext():
        started = time.monotonic()
        result = convert_csv(
            runtime.spark,
            input_path=input_path,
            output_path=str(args["output_path"]),
            quarantine_path=str(args["quarantine_path"]),
            source_file=str(args.get("source_file") or input_path),
            processing_job=runtime.job_name,
            processed_at=datetime.now(timezone.utc),
            options=CsvOptions(
                sample_lines=int(str(args["sample_lines"])),
                max_record_lines=int(str(args["max_record_lines"])),
            ),
        )
        if result.rows_in != result.rows_written + result.rows_quarantined:
            raise ReconciliationError(
                f"rows_in {result.rows_in} != written {result.rows_written} + quarantined {result.rows_quarantined}"
            )
        summary: dict[str, Any] = {
            "job_name": runtime.job_name,
            "job_run_id": runtime.job_run_id,
            "file_id": args.get("file_id"),
            "source_file": args.get("source_file") or input_path,
            "input_path": input_path,
            "output_path": args["output_path"],
            "quarantine_path": args["quarantine_path"],
            "processing_status": "SUCCEEDED",
            "outcome": result.outcome,
            "rows_in": result.rows_in,
            "record_count": result.rows_written,
            "rows_quarantined": result.rows_quarantined,
            "quarantine_reasons": result.quarantine_reasons,
            "input_size_bytes": result.input_size_bytes,
            "output_size_bytes": result.output_size_bytes,
            "columns": dict(zip(result.columns, result.column_types)),
            "multiline_records": result.multiline_records,
            "main_passes": result.main_passes,
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
