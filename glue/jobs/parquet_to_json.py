"""ParquetToJson: one Parquet file -> JSON Lines, schema validated, bad rows quarantined, the run recorded.

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

import logging
from collections.abc import Sequence
from typing import Any

from glue_pipeline.file_job import FileJobResult, FileJobRun, run_file_job
from glue_pipeline.parquet_json import convert_parquet_to_json, load_expected_schema

JOB_NAME = "ParquetToJson"
OPTIONAL_ARGS: dict[str, str | None] = {"expected_schema": None}


def convert(run: FileJobRun) -> FileJobResult:
    """One Parquet file to JSON Lines; convert_parquet_to_json fails the run unless the counts reconcile."""
    # Inside the tracked run: an unreadable or invalid --expected_schema is a failed run, recorded as such.
    expected = load_expected_schema(run.spark, run.args.get("expected_schema"))
    result = convert_parquet_to_json(
        run.spark,
        input_path=run.input_path,
        output_path=run.output_path,
        quarantine_path=run.quarantine_path,
        source_file=run.source_file,
        processing_job=run.job_name,
        processed_at=run.processed_at,
        expected=expected,
    )
    return FileJobResult(
        outcome=result.outcome,
        rows_in=result.rows_in,
        record_count=result.rows_written,
        rows_quarantined=result.rows_quarantined,
        quarantine_reasons=result.quarantine_reasons,
        output_size_bytes=result.output_size_bytes,
        details={
            "rule_violations": result.rule_violations,
            "input_size_bytes": result.input_size_bytes,
            "columns": result.column_types,
            "extra_columns": list(result.extra_columns),
            "string_columns": list(result.string_columns),
        },
    )


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Runs the job and returns its summary (also printed as one JSON line)."""
    return run_file_job(argv, JOB_NAME, OPTIONAL_ARGS, convert)

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    main()
