"""The CSV rules both engines apply, without Spark: what a file's head says (header, column names, types),
which files are refused and why, why a record is quarantined, and the types a conversion is described by.

Two engines convert a CSV file to Parquet: the Spark path (:mod:`glue_pipeline.csv_processing`, the Glue
job) and the fast path (:mod:`glue_pipeline.csv_fast`, DuckDB in a Lambda). Everything here is their
shared definition, so the two cannot drift; this module imports neither Spark nor DuckDB (the converter's
Lambda zip holds no pyspark).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from glue_pipeline.column_names import clean_column_names
from glue_pipeline.csv_quoting import check_delimiter, split_records
from glue_pipeline.value_rules import ColumnType, infer_type

# Python's csv module refuses fields over 131,072 characters by default; here a field, line or header is
# limited only by memory (issue: no fixed size limits). The limit is process-wide, and raising it is safe.
csv.field_size_limit(sys.maxsize)

METADATA_COLUMNS: tuple[str, ...] = ("processed_at", "source_file", "processing_job")
# What a parser returns for a quoted empty field (``""``) in the engines' all-string parse. Spark maps both an
# unquoted empty field and a quoted one to null by default; with this marker a quoted empty stays an empty
# string (value rules: an unquoted empty is a missing value, a quoted one is ""). A record holding U+0000
# itself could be mistaken for it, so such records are quarantined (``nul_character``) instead of guessed at.
EMPTY_MARKER = "\u0000"
# The encodings a flow may declare (--encoding). Latin-1 maps every byte to a character, so nothing is lost
# and no line break moves; other single-byte code pages leave bytes undefined and are not offered.
ENCODINGS: dict[str, str] = {"utf-8": "UTF-8", "utf8": "UTF-8", "latin-1": "ISO-8859-1", "iso-8859-1": "ISO-8859-1"}
# Delimiters a one-column header is checked for (issue: never silently one column).
LIKELY_DELIMITERS: dict[str, str] = {";": "semicolon", "\t": "tab", "|": "pipe"}
# One JSON object per quarantined record, these keys in this order (docs/architecture.md): the reason, its
# detail, the 1-based line of the record's first line, its line count, its exact text, then the run's stamp.
QUARANTINE_FIELDS: tuple[str, ...] = (
    "quarantine_reason", "quarantine_detail", "line_number", "line_count", "raw_record", "source_file",
    "processing_job", "processed_at",
)


class CsvProcessingError(RuntimeError):
    """The file cannot be processed as configured; the message says why and what to change."""


class ReconciliationError(RuntimeError):
    """Rows in, rows written and rows quarantined do not add up: something was lost or duplicated."""


@dataclass(frozen=True)
class CsvConversion:
    """What happened to one file. ``outcome`` is PROCESSED, EMPTY_FILE or HEADER_ONLY."""

    outcome: str
    rows_in: int
    rows_written: int
    rows_quarantined: int
    input_size_bytes: int
    output_size_bytes: int
    quarantine_size_bytes: int
    columns: tuple[str, ...]
    column_types: tuple[str, ...]
    header_lines: int
    blank_lines: int
    multiline_records: int
    main_passes: int
    quarantine_reasons: dict[str, int]


@dataclass(frozen=True)
class CsvOptions:
    sample_lines: int = 20_000
    max_record_lines: int = 1_000
    max_set_aside_lines: int = 1_000_000
    # False: every column is read as a string (a job with a declared schema, e.g. claims, types the values
    # itself; inference would turn codes such as "00140" into numbers and lose their leading zeros).
    infer_types: bool = True
    # Per flow: the field delimiter (one character) and the encoding of the source (utf-8 or latin-1).
    delimiter: str = ","
    encoding: str = "utf-8"


@dataclass(frozen=True)
class HeadLayout:
    """What the head of the file says, before an engine turns the types into its own."""

    header: tuple[str, ...]
    preamble_lines: int
    columns: tuple[str, ...]
    column_types: tuple[ColumnType, ...]
    # The head holds a record spanning lines: the Spark path then finds such records before its main pass.
    spanning_records: bool = False


def checked_delimiter(value: str) -> str:
    try:
        return check_delimiter(value)
    except ValueError as error:
        raise CsvProcessingError(str(error)) from error


def checked_encoding(encoding: str) -> str:
    """The charset name of a flow's encoding setting (UTF-8 or ISO-8859-1), or CsvProcessingError."""
    charset = ENCODINGS.get(encoding.lower())
    if charset is None:
        raise CsvProcessingError(f"encoding {encoding!r} is not supported; use one of {sorted(ENCODINGS)}")
    return charset


def header_cells(record_text: str, delimiter: str = ",") -> list[str]:
    cells = next(csv.reader([record_text], delimiter=delimiter), [])
    if cells:
        cells[0] = cells[0].removeprefix("\ufeff")
    return cells


def field_count(record_text: str, delimiter: str = ",") -> int:
    """Fields in a record as Python's csv module reads it; -1 when it cannot read it at all."""
    try:
        return len(next(csv.reader([record_text], delimiter=delimiter), []))
    except csv.Error:
        return -1


def check_file_start(first_line: bytes | None, header_text: str, delimiter: str) -> None:
    """Rejects, with the reason, files the job would otherwise turn into garbage or one column."""
    if first_line and first_line[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise CsvProcessingError(
            "the file starts with a UTF-16 byte-order mark; only UTF-8 (with or without a byte-order mark) and "
            "Latin-1 (--encoding latin-1) are read: export it as UTF-8"
        )
    if "\x00" in header_text:
        raise CsvProcessingError("the header holds NUL characters: UTF-16 without a byte-order mark, or not text")
    if "\ufffd" in header_text:
        raise CsvProcessingError(
            "the header is not valid UTF-8; if the source writes Latin-1, set the flow's encoding (--encoding latin-1)"
        )
    if delimiter in header_text:
        return
    cells = header_cells(header_text, delimiter)
    if len(cells) != 1:
        return
    for candidate, name in LIKELY_DELIMITERS.items():
        if candidate in header_text:
            raise CsvProcessingError(
                f"the header parses to one column with delimiter {delimiter!r} but holds {name}s: the file looks "
                f"{name}-delimited; set the flow's delimiter (--delimiter {name})"
            )


def as_text(value: str | None) -> str | None:
    """A parsed field's text under the value rules: the quoted-empty marker is the empty string."""
    return "" if value == EMPTY_MARKER else value


def infer_types_of(rows: Iterable[Sequence[str | None]], width: int) -> list[ColumnType]:
    """value_rules.infer_types of parsed rows, their fields' texts under the value rules (rows of another
    width are ignored); each column's distinct values are converted once."""
    columns = list(zip(*(row for row in rows if len(row) == width))) or [()] * width
    return [infer_type(as_text(v) for v in set(column)) for column in columns]


def head_layout(
    head: Sequence[str],
    max_record_lines: int,
    parse_sample: Callable[[list[str], int], Iterable[Sequence[str | None]]],
    infer_types: bool = True,
    delimiter: str = ",",
    first_line: bytes | None = None,
    bad_lines: frozenset[int] = frozenset(),
) -> HeadLayout | None:
    """The layout from the file's first lines (``head``, split on ``\\n`` only, each line's ``\\r`` kept);
    None when it holds no header (empty, or blank lines only).

    ``parse_sample(texts, width)`` is the engine's own all-string parse of the sampled records (a quoted
    empty as :data:`EMPTY_MARKER`, a missing value as None, a record it cannot parse left out), so the
    sample's texts are the texts the value rules later check in that engine.
    """
    records = split_records(head, max_record_lines, delimiter)
    if not records:
        return None
    header_record = records[0]
    header_text = header_record.text.removesuffix("\r")
    check_file_start(first_line, header_text, delimiter)
    header = header_cells(header_text, delimiter)
    width = len(header)
    # A cut-off sample may end inside a multi-line record; that record says nothing reliable.
    # Records the main pass quarantines (bytes that are not UTF-8, a NUL) do not vote either.
    data = [
        r
        for r in records[1:]
        if r.closed and EMPTY_MARKER not in r.text and not bad_lines.intersection(range(r.first_line, r.first_line + r.line_count))
    ]
    usable = [t for t in (r.text.removesuffix("\r") for r in data) if field_count(t, delimiter) == width]
    column_types: list[ColumnType] = [ColumnType("string")] * width
    if usable and infer_types:
        column_types = infer_types_of(parse_sample(usable, width), width)
    return HeadLayout(
        header=tuple(header),
        preamble_lines=header_record.first_line + header_record.line_count,
        columns=tuple(clean_column_names(header, reserved=METADATA_COLUMNS)),
        column_types=tuple(column_types),
        spanning_records=any(r.closed and r.line_count > 1 for r in records[1:]),
    )


def too_many_set_aside(count: int, limit: int) -> CsvProcessingError:
    """The refusal of a file with more set-aside lines than ``max_set_aside_lines`` (both engines)."""
    return CsvProcessingError(
        f"{count} lines are malformed or part of multi-line records, over the limit of {limit} "
        "(max_set_aside_lines); the file is rejected rather than quarantined line by line"
    )


def check_reconciled(rows_in: int, rows_written: int, expected_written: int, rows_quarantined: int) -> None:
    """Rows in = rows written (read back from the files, as the engine meant to write them) + quarantined."""
    if rows_written != expected_written or rows_in != rows_written + rows_quarantined:
        raise ReconciliationError(
            f"rows_in={rows_in} but Parquet holds {rows_written} rows (expected {expected_written}) and "
            f"{rows_quarantined} were quarantined"
        )


def reason_counts(quarantined: Iterable[Sequence[object]]) -> dict[str, int]:
    """Quarantined records (reason first) counted by reason, for CsvConversion.quarantine_reasons."""
    reasons: dict[str, int] = {}
    for q in quarantined:
        reasons[str(q[0])] = reasons.get(str(q[0]), 0) + 1
    return reasons


# ------------------------------------------------------------------------------- quarantine reasons


def refusal(closed: bool, bad_utf8: bool, text: str, line_number: int) -> tuple[str, str] | None:
    """Why a record is quarantined before it is parsed (reason, detail), or None."""
    if not closed:
        return (
            "unclosed_quote",
            f"a quoted field opened on line {line_number} is not closed within the next lines "
            "(or before the end of the file); the line is quarantined alone",
        )
    if bad_utf8:
        return (
            "invalid_utf8",
            "the record's bytes are not valid UTF-8 (raw_record shows them as U+FFFD); if the source writes "
            "Latin-1, set the flow's encoding (--encoding latin-1)",
        )
    if EMPTY_MARKER in text:
        return "nul_character", "the record holds a NUL character (U+0000), which no column type keeps apart from an empty value"
    return None


def record_reason(
    text: str,
    values: Sequence[str | None],
    columns: Sequence[str],
    column_types: Sequence[ColumnType],
    delimiter: str,
    parser: str,
) -> tuple[str, str]:
    """Why a parsed record is not a row (reason, detail): its field count, then the values (``values``: its
    fields' texts under the value rules, None when missing) that its columns' types do not accept.
    ``parser`` names the engine's parser for a record only it refuses."""
    width = len(columns)
    found = field_count(text, delimiter)
    if found < 0:
        return "unparseable", "Python's csv module cannot read the record either"
    if found < width:
        return "too_few_fields", f"expected {width} fields, found {found}"
    if found > width:
        return "too_many_fields", f"expected {width} fields, found {found}"
    mismatches = [
        f"{columns[i]}={preview(str(values[i]))!r} is not {column_types[i].ddl}"
        for i in range(width)
        if values[i] is not None and not column_types[i].accepts(values[i])
    ]
    if mismatches:
        return "type_mismatch", "; ".join(mismatches)
    return "unparseable", f"{parser} rejected the record"


def preview(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[:limit] + "..."
