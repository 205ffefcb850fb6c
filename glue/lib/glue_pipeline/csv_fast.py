"""The fast path's engine: one CSV file -> Snappy Parquet on DuckDB, under the Spark path's rules, without Spark.

The CSV converter Lambda (functions/csv-converter) runs it on files up to the fast-path limit; the Glue job
runs :func:`glue_pipeline.csv_processing.convert_csv` on the others. Both must give the same schema, values,
row order, quarantine lines and counts for every file (glue/tests/test_fast_parity.py proves it on the
fidelity corpus and on Hypothesis' random CSVs; docs/fast-path.md). DuckDB's CSV reader alone would not:
its record rules differ from the Spark path's (it splits lines on a lone ``\\r``, trims spaces around quoted
values, lets an unclosed quote swallow the rest of the file, rejects ``"a"b``, and gives rows no line
numbers). So the engine follows the Spark path's own design, line by line, and lets the reader parse only
what every parser reads alike:

1. **Layout from the head of the file**, by the same Python code as the Spark path
   (:func:`glue_pipeline.csv_rules.head_layout`): header, cleaned names, inferred types, refused files.
   Meanwhile DuckDB loads the **lines** (split on ``\\n`` only, each line's ``\\r`` kept, numbered from 1).
2. **Marks**: a line is *set aside* unless it is of RFC 4180's shape (a field is unquoted without quotes,
   or wholly quoted with ``""`` for a quote) with the header's width, and holds no ``\\r`` but a final one,
   no NUL, and no bytes that are not UTF-8. Blank lines are marked too.
3. **Set-aside lines become records** in Python, by the Spark path's own code (quoted values
   across lines, ``max_record_lines``, an unclosed quote quarantines its opening line alone), and each record
   is parsed by :func:`parse_record`, which follows the parser the Spark path uses (univocity, as Spark
   configures it) including its odd cases. Good records are written back as canonical RFC 4180 text at
   their first line; the others are quarantined with the shared reasons
   (:func:`glue_pipeline.csv_rules.record_reason`).
4. **Rows**: DuckDB's CSV reader (every option pinned) parses the rows in parallel. When the input itself
   holds exactly the rows, each of RFC 4180's shape, and lines to leave out that the reader refuses on its
   own (no quote, the wrong number of fields), it reads the input past the header and must refuse exactly
   those lines (:meth:`_Conversion._refused_as_is`); otherwise, or when it did not, every row,
   ``<line number>,<line or record>``, is written verbatim to a file in source order, and the reader parses
   that. When the marks showed every row's
   typed values in canonical text (:func:`typed_line_sql`), the reader parses them as their types; else (or
   when it refuses a number out of range or a day that does not exist) each value is read as text, cast once
   and checked against the value rules (:func:`fits_sql`). The rows that fit are written as one Parquet file, with the
   added columns. Rows that do not fit (rare: the head's types held for its sample) are found by a second
   read and quarantined as the Spark path does. Quarantine lines are JSON Lines in the Spark path's format
   and order; the written count is read back from the file and reconciled.

Resources: DuckDB's ``memory_limit``, ``temp_directory`` and thread count are set per call, a watchdog
interrupts the query at the deadline, and running out of memory, disk or time raises
:class:`ResourceExhausted` (the converter then falls back to Glue). A file the rules refuse raises the Spark
path's :class:`~glue_pipeline.csv_rules.CsvProcessingError`.

Only the standard library, DuckDB and Spark-free glue_pipeline modules are imported: the converter's zip
holds nothing else (no pyarrow, no numpy; DuckDB returns no TIMESTAMPTZ to Python for that reason, as that
needs pytz).
"""

from __future__ import annotations

import bisect
import errno
import itertools
import json
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Generic, TypeVar

import duckdb

from glue_pipeline.csv_quoting import Resolution, StitchedRecord, ends_inside_quotes, is_blank, resolve_records
from glue_pipeline.csv_rules import (
    EMPTY_MARKER,
    QUARANTINE_FIELDS,
    CsvConversion,
    CsvOptions,
    CsvProcessingError,
    HeadLayout,
    ReconciliationError,
    as_text,
    check_reconciled,
    checked_delimiter,
    checked_encoding,
    head_layout,
    reason_counts,
    record_reason,
    refusal,
    too_many_set_aside,
)
from glue_pipeline.value_rules import ColumnType

PARSER_NAME = "the CSV parser"
CHUNK_BYTES = 16 << 20  # the unit files are streamed in, when they must be re-encoded
KIND_BLANK, KIND_ASIDE = "blank", "set_aside"
KIND_TEXT = "text"  # a row whose typed values are not all canonical text: the file's values are read as text
# The quarantine reasons of a line DuckDB's reader refuses on its own when it holds no quote (_refused_as_is).
_REFUSED_BY_THE_READER = frozenset({"too_few_fields", "too_many_fields"})
RE2_MAX_REPEAT = 1000  # RE2 refuses a counted repetition above this
# DuckDB's CSV reader buffer: its default, and at least its default ratio to the longest row (with buffers of
# a few rows its parallel scan can misread a quoted line break at a buffer's edge as unterminated: seen at 3x).
READER_BUFFER_BYTES, READER_BUFFER_LINES = 32 << 20, 16
# A line's text: its raw text without the \r of a \r\n line break (a lone \r elsewhere is text).
_LINE = "CASE WHEN ends_with(raw, chr(13)) THEN left(raw, length(raw) - 1) ELSE raw END"


class ResourceExhausted(RuntimeError):
    """The conversion ran out of memory, disk or time; the file itself may be fine (the caller falls back
    to the Glue job). ``reason`` is a short phrase for the record's ``engine_reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ------------------------------------------------------------------------------------------ parsing


def parse_record(text: str, delimiter: str = ",") -> list[str | None]:
    """A record's fields as the Spark path's parser returns them (univocity with ``quote='"'``,
    ``escape='"'``, ``unescapedQuoteHandling=STOP_AT_DELIMITER``, no trimming): an unquoted empty field is
    None, a quoted empty one :data:`EMPTY_MARKER`.

    A quote opens a quoted field only as the field's first character; inside it ``""`` is a quote and a lone
    ``"`` closes it. Spaces or tabs after the closing quote are dropped; any other text after it makes the
    whole field its raw text up to the next delimiter (``"a"b`` stays ``"a"b``). A quote elsewhere is text.
    glue/tests/test_csv_fast.py holds these cases against Spark's own parse.
    """
    if '"' not in text:  # the common case, and the same fields: no quoting rule applies
        return [value if value else None for value in text.split(delimiter)]
    fields: list[str | None] = []
    position, length = 0, len(text)
    while True:
        if position < length and text[position] == '"':
            start = position
            position += 1
            chunks: list[str] = []
            closed_at = -1
            while position < length:
                quote = text.find('"', position)
                if quote < 0:
                    chunks.append(text[position:])
                    position = length
                    break
                chunks.append(text[position:quote])
                if text.startswith('""', quote):
                    chunks.append('"')
                    position = quote + 2
                    continue
                closed_at = quote
                position = quote + 1
                break
            end = text.find(delimiter, position)
            end = length if end < 0 else end
            content = "".join(chunks)
            if closed_at >= 0 and text[position:end].strip(" \t") != "":
                fields.append(text[start:end])
            else:
                fields.append(content if content else EMPTY_MARKER)
            position = end
        else:
            end = text.find(delimiter, position)
            end = length if end < 0 else end
            value = text[position:end]
            fields.append(value if value else None)
            position = end
        if position >= length:
            return fields
        position += 1  # the delimiter
        if position == length:
            fields.append(None)
            return fields


# ------------------------------------------------------------------------------------ value rules, SQL


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_type(column: ColumnType) -> str:
    """The DuckDB type a column is written as; Spark reads each back as the type the Spark path writes
    (timestamps are UTC instants, as Spark's TimestampType: TIMESTAMPTZ)."""
    if column.kind == "decimal":
        return f"DECIMAL({column.precision},{column.scale})"
    return {
        "string": "VARCHAR", "int": "INTEGER", "bigint": "BIGINT", "boolean": "BOOLEAN", "date": "DATE",
        "timestamp": "TIMESTAMPTZ",
    }[column.kind]


def read_type(column: ColumnType) -> str:
    """The DuckDB type a column's text is cast to, or read as by the typed reader: :func:`sql_type`, but a
    timestamp as a wall-clock TIMESTAMP, which becomes an instant (UTC) when written (:func:`written_sql`)."""
    return "TIMESTAMP" if column.kind == "timestamp" else sql_type(column)


def cast_sql(value: str, column: ColumnType) -> str:
    """SQL for the text ``value`` cast to the column's :func:`read_type` (null when it does not cast)."""
    if column.kind == "string":
        return value
    if column.kind == "boolean":
        return f"({value} = 'true')"
    return f"TRY_CAST({value} AS {read_type(column)})"


def written_sql(cast: str, column: ColumnType) -> str:
    # The instant of the UTC wall-clock time, built from its microseconds: the same value as CAST(... AS
    # TIMESTAMPTZ) under the connection's UTC time zone, without a time-zone conversion per value (~5x cheaper).
    return f"make_timestamptz(epoch_us({cast}))" if column.kind == "timestamp" else cast


def _decimal_pattern(column: ColumnType) -> str:
    """The value rules' decimal pattern for DuckDB's RE2, whole-text matched (:attr:`ColumnType.java_pattern`);
    the cast checks the range."""
    whole = f"[1-9][0-9]{{0,{max(column.precision - column.scale - 1, 0)}}}"
    return f"0|-?{whole}|-?(0|{whole})\\.[0-9]{{1,{column.scale}}}"


def fits_sql(value: str, cast: str, column: ColumnType) -> str:
    """SQL that is true when the present text ``value``, cast to the column's type as ``cast``
    (:func:`cast_sql`), is stored without loss: :meth:`ColumnType.accepts` (glue/tests/test_csv_fast.py holds
    the two equal). As in the Spark path, the cast value written back as text is compared with the text
    where DuckDB writes it in one canonical form, which is exactly the rule's: integers; dates and
    timestamps of the rule's length (DuckDB writes years 1-9999 with four digits, year 0 with "(BC)", and
    refuses 24:00:00 only by that comparison). Decimals with a scale take the rule's pattern, whose digit
    counts keep the value in range, and the cast (shared with the value written) checks it: a RE2 match
    costs half a decimal written back as text."""
    kind = column.kind
    if kind == "string":
        return "true"
    if kind == "boolean":
        return f"({value} IN ('true', 'false'))"
    same = f"coalesce(CAST({cast} AS VARCHAR) = {value}, false)"
    if kind in ("int", "bigint") or (kind == "decimal" and column.scale == 0):
        return same
    if kind == "date":
        return f"(length({value}) = 10 AND {same})"
    if kind == "timestamp":
        return f"(length({value}) = 19 AND {same})"
    pattern = _sql_string(_decimal_pattern(column))
    return f"(regexp_full_match({value}, {pattern}) AND {cast} IS NOT NULL)"


# The canonical text of each typed kind in RE2 (no look-ahead): :attr:`ColumnType.java_pattern` with the month,
# day and clock fields bounded too, as DuckDB's typed CSV reader rolls 24:00:00 over to the next day, and a
# decimal's fraction digits, which it would round. Numbers out of range and impossible days (2024-02-30) are
# left to the reader, which refuses them (:func:`typed_line_sql`): unbounded digit runs keep RE2's program
# small (counted ones cost ~3x its time on wide files of decimals).
_RE2_DAY = "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_RE2_INTEGER = "0|-?[1-9][0-9]*"
_RE2_SHAPES = {
    "int": _RE2_INTEGER,
    "bigint": _RE2_INTEGER,
    "boolean": "true|false",
    "date": _RE2_DAY,
    "timestamp": _RE2_DAY + " (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]",
}
_TYPED_ALPHABET = frozenset("0123456789-.: aeflrstu")  # every character the shapes hold


def _re2_shape(column: ColumnType) -> str:
    if column.kind == "decimal":
        return _RE2_INTEGER if column.scale == 0 else f"{_RE2_INTEGER}|-?(?:0|[1-9][0-9]*)\\.[0-9]{{1,{column.scale}}}"
    return _RE2_SHAPES[column.kind]


def typed_line_sql(line: str, delimiter: str, types: Sequence[ColumnType]) -> str | None:
    """SQL that is true when ``line`` is of RFC 4180's shape with one field per column and every typed value
    missing or in its type's canonical text (quoted or not); None when no column is typed, the line is too
    wide for one RE2 program, or the delimiter could occur inside a typed value.

    When every row passes, DuckDB's reader parses the typed columns itself, which is cheaper than reading text
    and casting and checking it: each such text is one the value rules accept (if its number is in range and
    its day real, which the reader checks, failing the query otherwise) and which the reader parses to the
    value of the text cast (glue/tests/test_csv_fast.py holds both)."""
    if not any(t.kind != "string" for t in types) or len(types) > RE2_MAX_REPEAT or delimiter in _TYPED_ALPHABET:
        return None
    d = _re2_char(delimiter)
    # No \r or NUL in a text value either: a line that matches needs no other check (_mark_lines).
    text = f'"(?:[^"\\r\\x00]|"")*"|[^{d}"\\r\\x00]*'
    fields = [text if t.kind == "string" else f'(?:"(?:{_re2_shape(t)})"|{_re2_shape(t)})?' for t in types]
    return f"regexp_full_match({line}, {_sql_string(d.join(f'(?:{f})' for f in fields))})"


def strict_line_sql(line: str, delimiter: str, width: int) -> str:
    """SQL that is true when ``line`` (a line holding a quote) is ``width`` fields of RFC 4180's shape: each
    unquoted without quotes, or wholly quoted with ``""`` for a quote. On such a line every parser agrees,
    DuckDB's CSV reader and the Spark path's alike; other lines go to :func:`parse_record`."""
    d = _re2_char(delimiter)
    one = f'(?:"(?:[^"]|"")*"|[^{d}"]*)'
    if width <= RE2_MAX_REPEAT + 1:
        return f"regexp_full_match({line}, {_sql_string(f'{one}(?:{d}{one}){{{width - 1}}}')})"
    # RE2 repeats at most 1,000 times: a wider line's fields are counted with the quoted values removed.
    quoted = _sql_string('"(?:[^"]|"")*"')
    return (
        f"(regexp_full_match({line}, {_sql_string(f'{one}(?:{d}{one})*')}) "
        f"AND len(string_split(regexp_replace({line}, {quoted}, '', 'g'), {_sql_string(delimiter)})) = {width})"
    )


def _rfc_record(delimiter: str, width: int) -> re.Pattern[str]:
    """A record (lines joined by ``\\n``) of RFC 4180's shape with ``width`` fields: :func:`strict_line_sql`,
    with line breaks and ``\\r`` only inside quoted values."""
    d = re.escape(delimiter)
    one = f'(?:"(?:[^"]|"")*"|[^{d}"\\r\\n]*)'
    return re.compile(f"{one}(?:{d}{one}){{{width - 1}}}")


def _re2_char(char: str) -> str:
    return f"\\x{{{ord(char):x}}}"


# ------------------------------------------------------------------------------------------- engine


@dataclass(frozen=True)
class _LineNumbers:
    """Line numbers as :class:`~glue_pipeline.csv_quoting.LineOrder`: the next line, up to the last."""

    last: int

    def next_key(self, key: int) -> int | None:
        return key + 1 if key < self.last else None


@contextmanager
def _watchdog(connection: duckdb.DuckDBPyConnection, deadline: float | None) -> Iterator[None]:
    """Interrupts the running query at ``deadline`` (time.monotonic())."""
    if deadline is None:
        yield
        return
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise ResourceExhausted("deadline: no time left to convert")
    timer = threading.Timer(remaining, connection.interrupt)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@contextmanager
def _resources_mapped(deadline: float | None) -> Iterator[None]:
    """Turns running out of memory, disk or time into ResourceExhausted; the rules' errors pass through."""
    try:
        yield
    except (CsvProcessingError, ReconciliationError, ResourceExhausted):
        raise
    except duckdb.OutOfMemoryException as error:
        raise ResourceExhausted(f"memory: {_first_line(error)}") from error
    except MemoryError as error:
        raise ResourceExhausted("memory: the Python process ran out of memory") from error
    except duckdb.InterruptException as error:
        raise ResourceExhausted("deadline: the conversion was interrupted at its deadline") from error
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise ResourceExhausted(f"disk: {error}") from error
        raise
    except duckdb.Error as error:
        message = str(error)
        if "No space left on device" in message or "disk quota" in message.lower():
            raise ResourceExhausted(f"disk: {_first_line(error)}") from error
        if "interrupt" in message.lower() and deadline is not None and time.monotonic() >= deadline:
            raise ResourceExhausted("deadline: the conversion was interrupted at its deadline") from error
        raise


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _decode(raw: bytes, charset: str) -> tuple[str, bool]:
    """(text, bad): a line's text as the Spark path reads it; invalid UTF-8 shows as U+FFFD and is flagged."""
    if charset == "ISO-8859-1":
        return raw.decode("latin-1"), False
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace"), True


def read_head(path: Path, sample_lines: int, charset: str) -> tuple[list[str], bytes | None, frozenset[int]]:
    """The first ``sample_lines`` lines (split on ``\\n`` only), the first line's bytes as the Spark path sees
    them (UTF-8 of the decoded text for Latin-1), and the indexes of lines that are not UTF-8."""
    head: list[str] = []
    bad: set[int] = set()
    first: bytes | None = None
    with path.open("rb") as handle:
        for index in range(sample_lines):
            raw = handle.readline()
            if not raw:
                break
            raw = raw.removesuffix(b"\n")
            if index == 0:  # Hadoop's line reader drops a UTF-8 byte-order mark: the Spark path never sees one
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            text, is_bad = _decode(raw, charset)
            if first is None:
                first = text.encode("utf-8") if charset == "ISO-8859-1" else raw
            if is_bad:
                bad.add(index)
            head.append(text)
    return head, first, frozenset(bad)


def _parse_sample(texts: list[str], width: int, delimiter: str) -> list[list[str | None]]:
    # Records the parser cannot fit to the header's width are corrupt to the Spark path too and do not vote.
    return [fields for fields in (parse_record(t, delimiter) for t in texts) if len(fields) == width]


def _utf8_copy(source: Path, target: Path, charset: str) -> set[int]:
    """Writes ``source`` as valid UTF-8 to ``target`` (Latin-1 decoded; lines that are not UTF-8 decoded
    with U+FFFD, as the Spark path shows them) and returns the numbers (from 1) of lines that were not UTF-8."""
    bad: set[int] = set()
    lines_before = 0
    with source.open("rb") as src, target.open("wb") as out:
        carry = b""
        while True:
            chunk = src.read(CHUNK_BYTES)
            data = carry + chunk
            if not chunk:
                carry, data = b"", data
            else:
                cut = data.rfind(b"\n") + 1
                carry, data = data[cut:], data[:cut]
            if data:
                if charset == "ISO-8859-1":
                    out.write(data.decode("latin-1").encode("utf-8"))
                else:
                    try:
                        data.decode("utf-8")
                        out.write(data)
                    except UnicodeDecodeError:
                        for offset, raw in enumerate(data.split(b"\n")):
                            text, is_bad = _decode(raw, charset)
                            if is_bad:
                                bad.add(lines_before + offset + 1)
                        out.write(data.decode("utf-8", errors="replace").encode("utf-8"))
                lines_before += data.count(b"\n")
            if not chunk:
                return bad


def _safe_name(path: Path, workdir: Path, name: str) -> Path:
    """DuckDB expands ``*?[]{}`` in the paths it reads; a name holding them is read through a link."""
    if not any(c in str(path) for c in "*?[]{}'"):
        return path
    link = workdir / name
    os.symlink(path.resolve(), link)
    return link


def convert_csv_file(
    input_file: Path,
    output_dir: Path,
    quarantine_dir: Path,
    *,
    source_file: str,
    processing_job: str,
    processed_at: datetime,
    options: CsvOptions = CsvOptions(),
    memory_limit_mb: int | None = None,
    temp_dir: Path | None = None,
    deadline: float | None = None,
) -> CsvConversion:
    """Converts one local CSV file: ``output_dir/part-*.parquet`` (Snappy, source order) and, when records
    are quarantined, ``quarantine_dir/part-*.json`` (JSON Lines). Both directories are created; files
    already in them are left alone (the caller writes into a fresh staging prefix).

    Raises CsvProcessingError (a file the rules refuse), ReconciliationError (counts that do not add up)
    or ResourceExhausted (memory, disk or ``deadline``, a time.monotonic() value)."""
    input_file, output_dir, quarantine_dir = Path(input_file), Path(output_dir), Path(quarantine_dir)
    delimiter = checked_delimiter(options.delimiter)
    charset = checked_encoding(options.encoding)
    input_size = input_file.stat().st_size
    empty = CsvConversion("EMPTY_FILE", 0, 0, 0, input_size, 0, 0, (), (), 0, 0, 0, 0, {})
    if not input_size:
        return empty
    if deadline is not None and time.monotonic() >= deadline:
        raise ResourceExhausted("deadline: no time left to convert")
    work_root = Path(temp_dir) if temp_dir is not None else Path(tempfile.gettempdir())
    work_root.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="csv-fast-", dir=work_root))
    try:
        with _resources_mapped(deadline):
            conversion = _Conversion(input_file, workdir, delimiter, charset, options, input_size, memory_limit_mb, deadline)
            try:
                # The lines load in DuckDB (single-threaded, without the GIL) while Python infers the layout.
                loading = _Background(conversion.load_lines)
                try:
                    head, first_line, bad_head = read_head(input_file, options.sample_lines, charset)
                    layout = head_layout(
                        head, options.max_record_lines, lambda texts, width: _parse_sample(texts, width, delimiter),
                        options.infer_types, delimiter, first_line, bad_head,
                    )
                except BaseException:
                    loading.join()  # the head's error (a refused file) is the answer, whatever the lines did
                    raise
                lines = loading.result()
                if layout is None:
                    return empty
                return conversion.run(layout, lines, output_dir, quarantine_dir, (source_file, processing_job, processed_at))
            finally:
                conversion.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


_T = TypeVar("_T")


class _Background(Generic[_T]):
    """A call on a thread of its own; ``result()`` waits for it and returns its value or raises its error."""

    def __init__(self, call: Callable[[], _T]) -> None:
        self._value: _T | None = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = call()
            except BaseException as error:  # noqa: BLE001 - handed to the caller by result()
                self._error = error

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def join(self) -> None:
        self._thread.join()

    def result(self) -> _T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


@dataclass(frozen=True)
class _Lines:
    total: int  # lines in the file (a final line break ends the last line; it does not start another)
    bad: frozenset[int]  # lines that are not UTF-8
    longest_bytes: int
    cr_ended: int  # lines whose raw text ends with \r


@dataclass(frozen=True)
class _RowsSource:
    """The file the reader parses the rows from: ``rows.csv``, each row led by its line number, or
    (``numbered`` false) the input itself past its header line, when that holds exactly the same rows."""

    path: Path
    numbered: bool


class _Conversion:
    """One call of convert_csv_file: its DuckDB connection and working directory.

    The tables, in order: ``lines`` (n, raw); ``marks``, the blank and set-aside lines past the preamble.
    The reader then parses the rows: from the input itself when that holds exactly them (:meth:`_refused_as_is`),
    else from ``rows.csv``: ``lines.raw`` is cleared for every line that is not a row and replaced by a
    record's text where a record spanning lines (or needing the full parser) starts, and the rows are
    written, one per line, with their line numbers in front: ``n,<fields>``. Every row it reads is of RFC
    4180's shape, so DuckDB's CSV reader, which parses in parallel at several times the speed of SQL string
    functions, reads exactly the fields :func:`parse_record` would; its count is checked."""

    def __init__(
        self,
        input_file: Path,
        workdir: Path,
        delimiter: str,
        charset: str,
        options: CsvOptions,
        input_size: int,
        memory_limit_mb: int | None,
        deadline: float | None,
    ) -> None:
        self.input_file, self.workdir = input_file, workdir
        self.delimiter, self.charset, self.options = delimiter, charset, options
        self.input_size, self.deadline = input_size, deadline
        self._longest_record = 0  # bytes of the longest record text written for the reader
        config: dict[str, str | int | bool] = {
            "threads": os.cpu_count() or 1,
            "temp_directory": str(workdir / "spill"),
            "preserve_insertion_order": True,
        }
        if memory_limit_mb is not None:
            config["memory_limit"] = f"{memory_limit_mb}MB"
        self.con = duckdb.connect(":memory:", config=config)
        self.con.execute("SET TimeZone = 'UTC'")  # a timestamp's text is UTC wall-clock time, as in the Spark path

    def close(self) -> None:
        self.con.close()

    def _check_deadline(self) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise ResourceExhausted("deadline: the conversion was interrupted at its deadline")

    def sql(self, query: str, parameters: Sequence[object] | None = None) -> duckdb.DuckDBPyConnection:
        with _watchdog(self.con, self.deadline):
            return self.con.execute(query, parameters) if parameters is not None else self.con.execute(query)

    def load_lines(self) -> _Lines:
        """The table ``lines`` (n from 1, raw text with its ``\\r``)."""
        source = self.input_file
        bad: set[int] = set()
        if self.charset != "UTF-8":
            source = self.workdir / "utf8.csv"
            _utf8_copy(self.input_file, source, self.charset)
        try:
            self._split_lines(_safe_name(source, self.workdir, "input.csv"))
        except duckdb.InvalidInputException as error:
            if "UTF-8" not in str(error):
                raise
            # Rare: some lines are not UTF-8. A copy shows them as the Spark path does, and they are flagged.
            copy = self.workdir / "utf8.csv"
            bad = _utf8_copy(self.input_file, copy, self.charset)
            self._split_lines(copy)
        # (Not arg_max(raw, n) for the last line: over the text it costs ~3x this query.)
        total, longest, cr_ended = self.sql(
            "SELECT count(*), coalesce(max(strlen(raw)), 0), count(*) FILTER (WHERE ends_with(raw, chr(13))) FROM lines"
        ).fetchone()  # type: ignore[misc]
        # A final line break ends the last line; it does not start another.
        ((ended,),) = self.sql("DELETE FROM lines WHERE n = ? AND raw = ''", [total]).fetchall()
        return _Lines(int(total) - int(ended), frozenset(bad), int(longest), int(cr_ended))

    def _split_lines(self, readable: Path) -> None:
        self.readable = readable  # the input as UTF-8, under a name DuckDB does not expand
        # read_text holds the file as one value, split on \n alone: DuckDB's CSV reader would also split on a
        # lone \r, which is text to the Spark path. The split is single-threaded; the head is read meanwhile.
        self.sql(
            "CREATE OR REPLACE TABLE lines AS SELECT generate_subscripts(parts, 1) AS n, unnest(parts) AS raw "
            f"FROM (SELECT string_split(content, chr(10)) AS parts FROM read_text({_sql_string(str(readable))}))"
        )

    def run(
        self, layout: HeadLayout, lines: _Lines, output_dir: Path, quarantine_dir: Path, metadata: tuple[str, str, datetime]
    ) -> CsvConversion:
        self.layout, self.lines = layout, lines
        self.source_file, self.processing_job, self.processed_at = metadata
        self._check_deadline()
        typed_checked = self._mark_lines()
        counts = dict(self.sql("SELECT kind, count(*) FROM marks GROUP BY kind").fetchall())
        # The reader parses the typed columns when every row's typed values are canonical text (records are
        # written back only when the value rules accept them); otherwise every value is read as text and checked.
        typed_reading = typed_checked and not counts.pop(KIND_TEXT, 0)
        preamble = min(layout.preamble_lines, lines.total)
        aside_count = counts.get(KIND_ASIDE, 0)
        if aside_count > self.options.max_set_aside_lines:
            raise too_many_set_aside(aside_count + self._misfits_of_all_rows(), self.options.max_set_aside_lines)
        aside = {
            int(n): str(raw)
            for n, raw in self.sql(
                f"SELECT n, raw FROM lines WHERE n IN (SELECT n FROM marks WHERE kind = '{KIND_ASIDE}') ORDER BY n"
            ).fetchall()
        }
        texts = dict(aside)
        stitched = self._resolve(aside, texts)
        self._check_deadline()
        good_records, quarantined = self._sort_records(stitched.records)
        # Lines inside a record that are rows on their own in the line pass: the Spark path's main pass wrote
        # those (unless a value does not fit) and redoes the pass, and this engine leaves them out of the rows.
        conflict_rows = [self._spark_row(texts[n], False) for n in sorted(stitched.conflicts)]
        # Set-aside lines inside a record (its first line excepted) that the Spark path's main pass writes as
        # rows on their own (a line this engine sets aside for the full parser, x"y, can be one).
        aside_rows = [
            self._spark_row(aside[m], m in lines.bad)
            for r in stitched.records
            for m in range(r.first_key + 1, r.first_key + r.line_count)
            if m in aside
        ]

        single_lines = lines.total - preamble - sum(counts.values()) - len(stitched.conflicts)
        rows = single_lines + len(good_records)
        # The longest record the reader meets: as written in the input, or as rewritten in the rows file.
        record_texts = [*(r.text for r in stitched.records), *(text for _, text in good_records)]
        self._longest_record = max((len(text.encode("utf-8")) for text in record_texts), default=0)

        def rows_file() -> _RowsSource:
            source, written = self._write_rows(good_records, stitched.conflicts)
            if written != rows:
                raise ReconciliationError(
                    f"{lines.total} lines read but {written} rows written for the reader (expected {single_lines} "
                    f"lines and {len(good_records)} records)"
                )
            return source

        # The input itself is read when it holds exactly the rows (with no rows there is no read at all).
        refused = self._refused_as_is(stitched, quarantined, texts, counts.get(KIND_BLANK, 0)) if rows else None
        source = _RowsSource(self.readable, numbered=False)
        self._check_deadline()
        from_input = None if refused is None else self._parquet_from_input(source, refused, rows, typed_reading)
        if from_input is not None:
            data_file, written = from_input
        else:
            source = rows_file()
            self._check_deadline()
            # After a read of the input that went wrong, as text: a typed value refused is the likeliest cause.
            data_file, written = self._write_parquet(source, rows, typed_reading and refused is None)
        misfits: list[StitchedRecord[int]] = []
        if written < rows:  # rows whose values do not fit their columns: quarantined as the Spark path does
            misfits = self._misfit_records(source if source.numbered else rows_file(), {r[0] for r in good_records})
            _, misfit_lines = self._sort_records(misfits)
            if len(misfit_lines) != len(misfits):
                raise ReconciliationError("the SQL value checks refused a row the value rules accept")
            quarantined += misfit_lines
        set_aside = aside_count + len(misfits) + conflict_rows.count(False)
        if set_aside > self.options.max_set_aside_lines:
            raise too_many_set_aside(set_aside, self.options.max_set_aside_lines)

        rows_in = rows - len(good_records) + len(stitched.records)
        (rows_written,) = self.sql(f"SELECT count(*) FROM read_parquet({_sql_string(str(data_file))})").fetchone()  # type: ignore[misc]
        check_reconciled(rows_in, rows_written, rows - len(misfits), len(quarantined))
        run_id = uuid.uuid4()
        output_dir.mkdir(parents=True, exist_ok=True)
        output = output_dir / f"part-00000-{run_id}-c000.snappy.parquet"
        shutil.move(str(data_file), output)
        quarantine_size = self._write_quarantine(quarantine_dir, quarantined, run_id)
        return CsvConversion(
            outcome="PROCESSED" if rows_in else "HEADER_ONLY",
            rows_in=rows_in,
            rows_written=rows_written,
            rows_quarantined=len(quarantined),
            input_size_bytes=self.input_size,
            output_size_bytes=output.stat().st_size,
            quarantine_size_bytes=quarantine_size,
            columns=layout.columns,
            column_types=tuple(t.ddl for t in layout.column_types),
            header_lines=preamble,
            blank_lines=counts.get(KIND_BLANK, 0) - stitched.blank_lines_inside,
            multiline_records=sum(1 for r in stitched.records if r.line_count > 1),
            # What the Spark path takes when it finds the multi-line records after its main pass: a second pass
            # when a line inside one was written as a row. A diagnostic of the engine's work, not of the output
            # (the Spark path takes one pass when the head shows such records), so parity does not compare it.
            main_passes=2 if any(conflict_rows) or any(aside_rows) else 1,
            quarantine_reasons=reason_counts(quarantined),
        )

    def _mark_lines(self) -> bool:
        """The table ``marks`` (n, kind): the blank lines and the set-aside lines past the preamble. A line is
        set aside (for :func:`~glue_pipeline.csv_quoting.resolve_records` and :func:`parse_record`) unless it is of RFC 4180's shape with
        the header's width, holds no ``\\r`` but a final one, no NUL, and is UTF-8. When the file has typed
        columns, rows whose typed values are not all canonical (:func:`typed_line_sql`) are marked
        :data:`KIND_TEXT`; returns whether that check ran."""
        width = len(self.layout.columns)
        self._table("bad_lines", ["n BIGINT"], ([n] for n in sorted(self.lines.bad)))
        is_bad = "n IN (SELECT n FROM bad_lines)" if self.lines.bad else "false"
        typed = typed_line_sql("line", self.delimiter, self.layout.column_types)
        row = "NULL" if typed is None else f"'{KIND_TEXT}'"
        # Most lines are rows: the typed check goes first when a line it matches cannot be blank or set aside
        # (it holds no \r or NUL, and a delimiter that is not a space or tab) and no line is flagged not UTF-8.
        typed_first = typed is not None and width > 1 and self.delimiter not in " \t" and not self.lines.bad
        self.sql(
            f"""
            CREATE TABLE marks AS SELECT n, kind FROM (
              SELECT n,
                     -- Only an empty line or one starting with a space or tab can be blank: the trim is guarded.
                     CASE {f"WHEN {typed} THEN NULL" if typed_first else ""}
                          WHEN line = '' OR ((starts_with(line, ' ') OR starts_with(line, chr(9)))
                                             AND trim(line, ' ' || chr(9)) = '') THEN '{KIND_BLANK}'
                          WHEN {is_bad} OR contains(line, chr(0)) OR contains(line, chr(13)) THEN '{KIND_ASIDE}'
                          {f"WHEN {typed} THEN NULL" if typed is not None and not typed_first else ""}
                          WHEN contains(line, '"') THEN CASE WHEN {strict_line_sql("line", self.delimiter, width)}
                                                             THEN {row} ELSE '{KIND_ASIDE}' END
                          WHEN len(string_split(line, {_sql_string(self.delimiter)})) = {width} THEN {row}
                          ELSE '{KIND_ASIDE}' END AS kind
              FROM (SELECT n, {_LINE} AS line FROM lines WHERE n > {self.layout.preamble_lines})
            ) WHERE kind IS NOT NULL
            """
        )
        return typed is not None

    def _sort_records(self, records: Iterable[StitchedRecord[int]]) -> tuple[list[tuple[int, str]], list[tuple[str, str, int, int, str]]]:
        """Records parsed by :func:`parse_record`: (good ones as (first line, canonical text), quarantined)."""
        layout, width = self.layout, len(self.layout.columns)
        good: list[tuple[int, str]] = []
        quarantined: list[tuple[str, str, int, int, str]] = []
        for record in records:
            refused = refusal(record.closed, record.bad_utf8, record.text, record.first_key)
            if refused is not None:
                quarantined.append((*refused, record.first_key, record.line_count, record.text))
                continue
            fields = parse_record(record.text, self.delimiter)
            values = [as_text(v) for v in (fields + [None] * width)[:width]]
            if len(fields) == width and all(t.accepts(v) for t, v in zip(layout.column_types, values)):
                good.append((record.first_key, self._canonical(values)))
            else:
                reason, detail = record_reason(
                    record.text, values, layout.columns, layout.column_types, self.delimiter, PARSER_NAME
                )
                quarantined.append((reason, detail, record.first_key, record.line_count, record.text))
        return good, quarantined

    def _canonical(self, values: Sequence[str | None]) -> str:
        """A record's values as one RFC 4180 record the reader parses back to them: present values quoted
        (``""`` for a quote; line breaks and ``\\r`` inside quotes are kept), missing ones empty."""
        return self.delimiter.join("" if v is None else '"' + v.replace('"', '""') + '"' for v in values)

    def _refused_as_is(
        self, stitched: Resolution[int], quarantined: list[tuple[str, str, int, int, str]], texts: dict[int, str], blank: int
    ) -> frozenset[tuple[int, str]] | None:
        """When the reader can parse the input itself for the rows, the lines it must refuse as (its row number,
        text); else None, and ``rows.csv`` is written (on the 100 MB bench file that write is 0.1-0.3 s of ~1 s).

        The input past its header line must hold the rows ``rows.csv`` would, each of RFC 4180's shape as it
        stands, and lines to leave out that the reader refuses on its own: a quarantined line with no quote and
        the wrong number of fields. So: the header is one line; no line is flagged not UTF-8, blank outside a
        quoted value, or both a row and inside a record; every good record is of RFC 4180's shape as written;
        every quarantined record is such a line; and no ``\\r`` ends a line but inside a quoted value (the reader
        splits on ``\\n`` alone, as ``rows.csv`` is written). Whether it refused exactly those lines is checked
        after the read (:meth:`_refused_rows`)."""
        if self.lines.bad or self.layout.preamble_lines != 1 or stitched.conflicts or blank != stitched.blank_lines_inside:
            return None
        if any(reason not in _REFUSED_BY_THE_READER or '"' in text or "\x00" in text for reason, _, _, _, text in quarantined):
            return None
        # Where a record goes on past a line, that line ends inside a quoted value.
        inside = sum(texts[m].endswith("\r") for r in stitched.records for m in range(r.first_key, r.first_key + r.line_count - 1))
        if self.lines.cr_ended != inside:
            return None
        ((header,),) = self.sql("SELECT raw FROM lines WHERE n = 1").fetchall()
        rfc = _rfc_record(self.delimiter, len(self.layout.columns))
        left_out = {first for _, _, first, _, _ in quarantined}
        good = [r for r in stitched.records if r.first_key not in left_out]
        if not all(rfc.fullmatch(text) for text in [str(header).removeprefix("\ufeff"), *(r.text for r in good)]):
            return None
        # The reader numbers rows, not lines (the header is row 1): a record's lines past its first are not rows.
        ends = sorted(r.first_key + r.line_count - 1 for r in good)
        spans = list(itertools.accumulate(r.line_count - 1 for r in sorted(good, key=lambda r: r.first_key)))
        def row_number(line: int) -> int:
            before = bisect.bisect_left(ends, line)
            return line - (spans[before - 1] if before else 0)
        return frozenset((row_number(first), text) for _, _, first, _, text in quarantined)

    def _parquet_from_input(
        self, source: _RowsSource, refused: frozenset[tuple[int, str]], rows: int, typed_reading: bool
    ) -> tuple[Path, int] | None:
        """:meth:`_write_parquet` from the input itself; None when the reader did not read it as the rules do:
        it refused a typed value (a number out of range, a day that does not exist), or other lines than
        ``refused``, or failed, as its parallel scan can with buffers of a few rows. The rows file is read then."""
        try:
            data_file, written = self._write_parquet(source, rows, typed_reading)
        except (duckdb.InvalidInputException, duckdb.NotImplementedException):
            return None
        return None if written > rows or self._refused_rows() != refused else (data_file, written)

    def _refused_rows(self) -> frozenset[tuple[int, str]]:
        """The rows the last read of the input refused, as (row number, text)."""
        refused = self.sql(
            "SELECT DISTINCT line, csv_line FROM reject_errors WHERE scan_id = (SELECT max(scan_id) FROM reject_scans)"
        ).fetchall()
        return frozenset((int(line), str(text)) for line, text in refused)

    def _write_rows(self, good_records: list[tuple[int, str]], conflicts: set[int]) -> tuple[_RowsSource, int]:
        """``rows.csv``: ``n,<line>`` for each line that is a row, ``n,<record>`` where a good record starts,
        in source order (one scan of ``lines``: its order is the file's). Returns (source, rows)."""
        self._table("rewrites", ["n BIGINT", "text VARCHAR"], [*([n, None] for n in sorted(conflicts)), *good_records])
        self.sql(f"UPDATE lines SET raw = NULL WHERE n IN (SELECT n FROM marks WHERE kind <> '{KIND_TEXT}')")
        self.sql("UPDATE lines SET raw = rewrites.text FROM rewrites WHERE lines.n = rewrites.n")
        target = self.workdir / "rows.csv"
        # Written verbatim (no quote character: nothing is escaped or quoted); the reader parses the lines.
        (rows,) = self.sql(
            f"COPY (SELECT n, {_LINE} FROM lines WHERE n > {self.layout.preamble_lines} AND raw IS NOT NULL) "
            f"TO {_sql_string(str(target))} (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER {_sql_string(self.delimiter)})"
        ).fetchone()  # type: ignore[misc]
        return _RowsSource(target, numbered=True), int(rows)

    def _read_rows(self, source: _RowsSource, query: Callable[[str], str], typed: bool = False) -> list[tuple[object, ...]]:
        """``query(reader)`` over the rows, read in parallel; read again in one thread if the parallel scan
        fails. Every row there is valid CSV, yet DuckDB 1.4's parallel scan can misread a quoted line break at a
        buffer's edge as an unterminated quote, or give up ("does not support a full read on this file"), with
        buffers of a few rows (test_a_parallel_scan_that_fails_is_read_again_in_one_thread). It fails loudly when
        that happens, and a scan in one thread carries its state across buffers."""
        try:
            return self.sql(query(self._reader(source, parallel=True, typed=typed))).fetchall()
        except (duckdb.InvalidInputException, duckdb.NotImplementedException):
            if not source.numbered:
                raise  # the input itself: the rows file is read instead
            return self.sql(query(self._reader(source, parallel=False, typed=typed))).fetchall()

    def _reader(self, source: _RowsSource, parallel: bool, typed: bool = False) -> str:
        """DuckDB's CSV reader over the rows, every option pinned (nothing sniffed): the line number (in
        ``rows.csv``), then the fields: missing ones null, quoted empty ones ``''``; as text, or ``typed`` as
        their columns' types (timestamps as wall-clock TIMESTAMP, :func:`written_sql` makes them instants)."""
        types = [read_type(t) if typed else "VARCHAR" for t in self.layout.column_types]
        fields = [*([("n", "BIGINT")] if source.numbered else []), *((f"v{i}", t) for i, t in enumerate(types))]
        columns = ", ".join(f"{_sql_string(c)}: {_sql_string(t)}" for c, t in fields)
        # No fixed limit (DuckDB's default is 2 MB): the longest row, with its line number, fits.
        max_line = max(self.lines.longest_bytes, self._longest_record) + 32
        # Reading the input itself, the reader leaves out the lines it refuses and records them (_refused_rows).
        errors = "ignore_errors = false" if source.numbered else "store_rejects = true"
        return (
            f"read_csv({_sql_string(str(source.path))}, columns = {{{columns}}}, header = false, skip = {0 if source.numbered else 1}, auto_detect = false, "
            f"delim = {_sql_string(self.delimiter)}, quote = '\"', escape = '\"', allow_quoted_nulls = false, "
            f"strict_mode = true, null_padding = false, {errors}, new_line = '\\n', comment = '', "
            f"compression = 'none', encoding = 'utf-8', max_line_size = {max_line}, "
            f"buffer_size = {max(READER_BUFFER_BYTES, READER_BUFFER_LINES * max_line)}, parallel = {str(parallel).lower()})"
        )

    def _from_text(self) -> tuple[list[str], str]:
        """Text reading: (each column's value as written, cast from its text; the SQL that is true when a present
        value does not fit its column)."""
        written, misfits = [], []
        for i, column in enumerate(self.layout.column_types):
            if column.kind == "string":
                written.append(f"v{i}")
                continue
            value = cast_sql(f"v{i}", column)
            written.append(written_sql(value, column))
            misfits.append(f"(v{i} IS NOT NULL AND NOT {fits_sql(f'v{i}', value, column)})")
        return written, " OR ".join(misfits) if misfits else "false"

    def _write_parquet(self, source: _RowsSource, rows: int, typed_reading: bool) -> tuple[Path, int]:
        """The rows whose values fit, typed, with the added columns, in source order; returns (path, written).
        ``typed_reading``: every row's typed values are canonical text (:func:`typed_line_sql`)."""
        layout = self.layout
        target = self.workdir / "part.parquet"
        stamp = self.processed_at if self.processed_at.tzinfo else self.processed_at.replace(tzinfo=timezone.utc)
        # The added text columns hold one value each: as one-member ENUMs they cost nothing per row (as VARCHAR
        # the Parquet writer hashes the value on every row, ~10 % of this query's CPU) and are written alike:
        # BYTE_ARRAY, UTF8, dictionary-encoded, which Spark reads as a string (the parity test compares schemas).
        added = [
            f"CAST({_sql_string(stamp.astimezone(timezone.utc).isoformat())} AS TIMESTAMPTZ) AS processed_at",
            *(f"CAST({v} AS ENUM({v})) AS {name}" for name, v in (("source_file", _sql_string(self.source_file)), ("processing_job", _sql_string(self.processing_job)))),
        ]

        def copy(values: list[str], misfit: str | None = None) -> Callable[[str], str]:
            """The COPY of ``values`` and the added columns from a source, leaving out rows where ``misfit``."""
            columns = ", ".join([*(f"{v} AS {_identifier(n)}" for v, n in zip(values, layout.columns)), *added])

            def query(source: str) -> str:
                rows = f"SELECT {columns} FROM {source}"
                if misfit is not None:
                    rows = f"SELECT * EXCLUDE (misfit__) FROM (SELECT {columns}, ({misfit}) AS misfit__ FROM {source}) WHERE NOT misfit__"
                return f"COPY ({rows}) TO {_sql_string(str(target))} (FORMAT parquet, COMPRESSION snappy)"

            return query

        if rows and typed_reading:
            # Every typed value is canonical text: the reader parses it (cheaper than text cast and checked), and
            # refuses, failing the query, only a number out of range or a day that does not exist: then the
            # values are read as text below, and such rows are quarantined.
            typed = [written_sql(f"v{i}", column) for i, column in enumerate(layout.column_types)]
            try:
                ((count,),) = self._read_rows(source, copy(typed), typed=True)
                return target, int(count)  # type: ignore[call-overload]
            except duckdb.ConversionException:
                pass
        written, misfit = self._from_text()
        # One projection computes each value and whether the row misfits, so each cast is computed once (DuckDB
        # shares common subexpressions within a projection); the filter above it must not be pushed below it,
        # where it would cast every value a second time (~20 % of the conversion's CPU).
        self.sql("SET disabled_optimizers = 'filter_pushdown'")
        try:
            if rows:
                ((count,),) = self._read_rows(source, copy(written, misfit))
            else:  # a header-only file still gets its schema; the reader is not run on an empty file
                empty = ", ".join(f"CAST(NULL AS VARCHAR) AS v{i}" for i in range(len(layout.columns)))
                ((count,),) = self.sql(copy(written, misfit)(f"(SELECT {empty} WHERE false)")).fetchall()
        finally:
            self.sql("RESET disabled_optimizers")
        return target, int(count)  # type: ignore[call-overload]

    def _misfit_records(self, rows_file: _RowsSource, record_lines: set[int]) -> list[StitchedRecord[int]]:
        """The rows whose values do not fit (a second read of ``rows.csv``, only when there are any), as one-line records."""
        _, misfit = self._from_text()
        numbers = [int(n) for (n,) in self._read_rows(rows_file, lambda reader: f"SELECT n FROM {reader} WHERE {misfit} ORDER BY n")]  # type: ignore[call-overload]
        if record_lines.intersection(numbers):
            raise ReconciliationError("the SQL value checks refused a record the value rules accept")
        self._table("misfits", ["n BIGINT"], ([n] for n in numbers))
        texts = dict(self.sql("SELECT n, raw FROM lines WHERE n IN (SELECT n FROM misfits)").fetchall())
        return [StitchedRecord(n, 1, str(texts[n]).removesuffix("\r"), True, False) for n in numbers]

    def _misfits_of_all_rows(self) -> int:
        """Rows whose values do not fit, over every line that is not set aside (for the set-aside limit's
        message, which counts what the Spark path sets aside before it groups records)."""
        _, misfit = self._from_text()
        rows_file, _ = self._write_rows([], set())
        ((count,),) = self._read_rows(rows_file, lambda reader: f"SELECT count(*) FROM {reader} WHERE {misfit}")
        return int(count)  # type: ignore[call-overload]

    def _table(self, name: str, columns: list[str], rows: Iterable[Sequence[object]]) -> None:
        """A table of rows from Python, through a JSON Lines file: DuckDB's executemany costs ~1 ms a row
        (it looks for pandas and numpy on every value); its JSON reader takes any text exactly."""
        names = [c.split(" ", 1)[0] for c in columns]
        path = self.workdir / f"{name}.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(dict(zip(names, row)), ensure_ascii=False) + "\n")
        self.sql(f"CREATE TABLE {name} ({', '.join(columns)})")
        if path.stat().st_size:
            spec = ", ".join(f"{_sql_string(n)}: {_sql_string(c.split(' ', 1)[1])}" for n, c in zip(names, columns))
            self.sql(
                f"INSERT INTO {name} SELECT {', '.join(names)} FROM read_json({_sql_string(str(path))}, "
                f"format = 'newline_delimited', columns = {{{spec}}})"
            )

    def _spark_row(self, raw: str, bad_utf8: bool) -> bool:
        """Whether the Spark path's main pass writes this line as a row on its own: a line this engine sets
        aside for the full parser (``x"y``) can be one, and inside a quoted value it costs that path a pass."""
        line = raw.removesuffix("\r")
        if bad_utf8 or EMPTY_MARKER in line or is_blank(line) or ends_inside_quotes(line, delimiter=self.delimiter):
            return False
        fields = parse_record(line, self.delimiter)
        types = self.layout.column_types
        return len(fields) == len(types) and all(t.accepts(as_text(v)) for t, v in zip(types, fields))

    def _resolve(self, aside: dict[int, str], texts: dict[int, str]) -> Resolution[int]:
        """The set-aside lines as records (the rules shared with the Spark path: csv_quoting.resolve_records).
        The lines a record needs beyond the set-aside ones are fetched into ``texts`` in growing windows (a
        long quoted value costs a few queries, all of a round's records one)."""
        order, window = _LineNumbers(self.lines.total), 16
        while True:
            resolution = resolve_records(
                sorted(aside), texts, order, self.options.max_record_lines, self.delimiter, self.lines.bad
            )
            if not resolution.missing:
                return resolution
            self._check_deadline()
            texts.update(
                (int(n), str(raw))
                for n, raw in self.sql(
                    f"SELECT n, raw FROM lines, (SELECT unnest(?::BIGINT[]) AS s) WHERE n BETWEEN s AND s + {window - 1}",
                    [resolution.missing],
                ).fetchall()
            )
            window = min(window * 8, self.options.max_record_lines)

    def _write_quarantine(self, quarantine_dir: Path, quarantined: list[tuple[str, str, int, int, str]], run_id: uuid.UUID) -> int:
        if not quarantined:
            return 0
        stamp = self.processed_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        quarantine_dir.mkdir(parents=True, exist_ok=True)
        target = quarantine_dir / f"part-00000-{run_id}-c000.json"
        with target.open("w", encoding="utf-8", newline="\n") as out:
            for q in sorted(quarantined, key=lambda q: q[2]):
                line = dict(zip(QUARANTINE_FIELDS, (*q, self.source_file, self.processing_job, stamp)))
                out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
        return target.stat().st_size
