"""FileProcessorV2: one CSV file -> Snappy Parquet, malformed records quarantined, the run recorded.

This is the exact script uploaded to Glue; the ``glue_pipeline`` package comes with --extra-py-files.
Arguments (Glue passes ``--name value``; locally the same flags): --input_path, --output_path,
--quarantine_path, optional --source_file (object key, stored in column ``source_file``), --file_id and
--metadata_table (both set: the run is recorded on the metadata record), --sample_lines (lines read from the
head of the file to infer the schema), --max_record_lines (longest multi-line record accepted), --delimiter
(default ``,``; ``tab``, ``semicolon``, ``pipe`` by name) and --encoding (``utf-8``, the default, or
``latin-1``), set per flow.

Outputs: Parquet under --output_path, replaced on every run so a replay of the same file is idempotent;
malformed records as JSON Lines under --quarantine_path (removed when there are none); one JSON summary line
on stdout. rows_in = rows written + rows quarantined on every run, or the run fails.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from glue_pipeline.csv_processing import CsvOptions, convert_csv
from glue_pipeline.file_job import FileJobResult, FileJobRun, run_file_job

JOB_NAME = "FileProcessorV2"
OPTIONAL_ARGS: dict[str, str | None] = {
    "sample_lines": str(CsvOptions.sample_lines),
    "max_record_lines": str(CsvOptions.max_record_lines),
    # Per flow: the source's delimiter (one character, or tab/semicolon/pipe/comma by name) and encoding
    # (utf-8, with or without byte-order mark, or latin-1).
    "delimiter": CsvOptions.delimiter,
    "encoding": CsvOptions.encoding,
}
DELIMITER_NAMES: dict[str, str] = {"comma": ",", "tab": "\t", "\\t": "\t", "semicolon": ";", "pipe": "|"}


def delimiter_arg(value: str) -> str:
    """--delimiter as given, or by name: a tab is awkward to pass through Glue's job arguments."""
    return DELIMITER_NAMES.get(value.lower(), value)


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
        options=CsvOptions(
            sample_lines=int(str(run.args["sample_lines"])),
            max_record_lines=int(str(run.args["max_record_lines"])),
            delimiter=delimiter_arg(str(run.args["delimiter"])),
            encoding=str(run.args["encoding"]),
        ),
    )
    return FileJobResult(
        outcome=result.outcome,
        rows_in=result.rows_in,
        record_count=result.rows_written,
        rows_quarantined=result.rows_quarantined,
        quarantine_reasons=result.quarantine_reasons,
        output_size_bytes=result.output_size_bytes,
        details={
            "input_size_bytes": result.input_size_bytes,
            "columns": dict(zip(result.columns, result.column_types)),
            "multiline_records": result.multiline_records,
            "main_passes": result.main_passes,
        },
    )


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Runs the job and returns its summary (also printed as one JSON line)."""
    return run_file_job(argv, JOB_NAME, OPTIONAL_ARGS, convert)

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    main()
