"""The CSV job's own arguments and result, for both engines of the CSV flow.

FileProcessorV2 (glue/jobs/file_processor.py, on Spark) and the fast path's converter (functions/csv-converter,
on DuckDB) are started with the same Glue job arguments: the job's default arguments (per flow: --delimiter,
--encoding) overridden by the run's (the trigger's buildJobArguments). Both must turn them into the same
CsvOptions and report the same counts, so the parsing and the result mapping live here, without Spark.
"""

from __future__ import annotations

from collections.abc import Mapping

from glue_pipeline.csv_rules import CsvConversion, CsvOptions
from glue_pipeline.file_run import FileJobResult

# The CSV job's optional arguments and their defaults (the names Glue passes as --name).
CSV_JOB_ARGS: dict[str, str | None] = {
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


def csv_options(args: Mapping[str, str | None]) -> CsvOptions:
    """The conversion options of a run whose arguments are ``args`` (names without ``--``); an argument that
    is missing or None takes the job's default."""

    def arg(name: str) -> str:
        value = args.get(name)
        return str(CSV_JOB_ARGS[name] if value is None else value)

    return CsvOptions(
        sample_lines=int(arg("sample_lines")),
        max_record_lines=int(arg("max_record_lines")),
        delimiter=delimiter_arg(arg("delimiter")),
        encoding=arg("encoding"),
    )


def csv_job_result(result: CsvConversion) -> FileJobResult:
    """What a CSV run records and reports, whichever engine converted it."""
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
