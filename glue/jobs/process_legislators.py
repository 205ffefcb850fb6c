"""ProcessLegislators: persons, memberships and organizations (JSON Lines) -> the legislators history.

This is the exact script uploaded to Glue; the ``glue_pipeline`` package comes with --extra-py-files.
Arguments: --input_path (directory holding persons.json, memberships.json, organizations.json),
--output_path (the history: Parquet partitioned by org_name, replaced on every run), --quarantine_path
(memberships that could not be joined or parsed, as JSON Lines with their reason), optional --source_file
(recorded in column source_file; default the input directory), --file_id and --metadata_table (both set: the
run is recorded on the metadata record like any other file's).

On AWS the job runs on demand (``aws glue start-job-run --job-name ProcessLegislators-<stage>``); its default
arguments point at sources/legislators/ in the assets bucket, which expires nothing (the input bucket expires
every object after 30 days). One JSON summary line on stdout.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from glue_pipeline.file_job import FileJobResult, FileJobRun, run_file_job
from glue_pipeline.legislators import build_history

JOB_NAME = "ProcessLegislators"


def convert(run: FileJobRun) -> FileJobResult:
    """The three files to the history; build_history fails the run unless the memberships reconcile."""
    result = build_history(
        run.spark,
        input_path=run.input_path,
        output_path=run.output_path,
        quarantine_path=run.quarantine_path,
        source_file=run.source_file,
        processing_job=run.job_name,
        processed_at=run.processed_at,
    )
    return FileJobResult(
        outcome="PROCESSED" if result.memberships_in else "EMPTY_FILE",
        rows_in=result.memberships_in,
        record_count=result.rows_written,
        rows_quarantined=result.rows_quarantined,
        quarantine_reasons=result.quarantine_reasons,
        output_size_bytes=result.output_size_bytes,
        details={
            "persons": result.persons,
            "organizations": result.organizations,
            "partitions": result.organizations_written,
            "columns": list(result.columns),
        },
    )


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Runs the job and returns its summary (also printed as one JSON line)."""
    return run_file_job(argv, JOB_NAME, {}, convert)

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    main()
