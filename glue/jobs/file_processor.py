"""FileProcessorV2: one CSV file -> Snappy Parquet, malformed records quarantined, the run recorded.

This is the exact script uploaded to Glue; the ``glue_pipeline`` package comes with --extra-py-files.
Arguments (Glue passes ``--name value``; locally the same flags): --input_path, --output_path,
--quarantine_path, optional --source_file (object key, stored in column ``source_file``), --file_id and
--metadata_table (both set: the run is recorded on the metadata record), --sample_lines (lines read from the
head of the file to infer the schema), --max_record_lines (longest multi-line record accepted), --delimiter
(default ``,``; ``tab``, ``semicolon``, ``pipe`` by name) and --encoding (``utf-8``, the default, or
``latin-1``), set per flow.

Outputs: Parquet directly under --output_path, replaced on every run so a replay of the same file is
idempotent (a sub-prefix holding another key's output is never touched: file_job.publish_outputs);
malformed records as JSON Lines under --quarantine_path (removed when there are none); one JSON summary line
on stdout. rows_in = rows written + rows quarantined on every run, or the run fails.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from glue_pipeline.csv_job import (  # noqa: F401 - DELIMITER_NAMES, delimiter_arg: this job's public names
    CSV_JOB_ARGS,
    DELIMITER_NAMES,
    csv_job_result,
    csv_options,
    delimiter_arg,
)
from glue_pipeline.csv_processing import convert_csv
from glue_pipeline.file_job import FileJobResult, FileJobRun, run_file_job

JOB_NAME = "FileProcessorV2"
# The arguments are parsed and the result mapped in glue_pipeline.csv_job, shared with the fast path's
# converter: both engines of the CSV flow turn the same job arguments into the same options and counts.
OPTIONAL_ARGS: dict[str, str | None] = CSV_JOB_ARGS


def convert(run: FileJobRun) -> FileJobResult:
    """One CSV file to Parquet; convert_csv itself fails the run unless rows_in = written + quarantined."""
    result = convert_csv(
        run.spark,
        input_path=run.input_path,
        output_path=run.output_path,
        quarantine_path=run.quarantine_path,
        source_file=run.source_file,
        processing_job=run.job_name,
        processed_at=run.processed_at,
        options=csv_options(run.args),
    )
    return csv_job_result(result)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Runs the job and returns its summary (also printed as one JSON line)."""
    return run_file_job(argv, JOB_NAME, OPTIONAL_ARGS, convert)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    main()
