"""The fast path's engine: one CSV file -> Snappy Parquet on DuckDB, under the Spark path's rules, without Spark.

The CSV converter Lambda (functions/csv-converter) runs it on files up to the fast-path limit; the Glue job
runs :func:`glue_pipeline.csv_processing.convert_csv` on the others. Both must give the same schema, values,
row order, quarantine lines and counts for every file (glue/tests/test_fast_parity.py proves it on the
fidelity corpus and on Hypothesis' random CSVs; docs/fast-path.md). So this engine does not use DuckDB's CSV
reader, whose record rules differ from the Spark path's (it splits lines on a lone ``\\r``, trims spaces
around quoted values, lets an unclosed quote swallow the rest of the file, rejects ``"a"b``): it follows the
Spark path's own design, line by line, with the parsing done by DuckDB SQL:

1. **Layout from the head of the file**, by the same Python code as the Spark path
   (:func:`glue_pipeline.csv_rules.head_layout`): header, cleaned names, inferred types, refused files.
2. **Lines** (split on ``\\n`` only, each line's ``\\r`` kept, numbered from 1) in a DuckDB table. A line is
   *good* when it is not blank, holds no NUL and no bytes that are not UTF-8, splits into fields under the
   strict RFC 4180 shape (a field is unquoted without quotes, or wholly quoted with ``""`` for a quote; the
   fields joined again give the line), has the header's width, and every value fits its column's type (the
   value rules, as SQL: :func:`fits_sql`). Every other non-blank line is *set aside*.
3. **Set-aside lines become records** in Python, exactly as the Spark path stitches them (quoted values
   across lines, ``max_record_lines``, an unclosed quote quarantines its opening line alone), and each record
   is parsed by :func:`parse_record`, which follows the parser the Spark path uses (univocity, as Spark
   configures it) including its odd cases. Good records go back among the rows at their source places; the
   others are quarantined with the shared reasons (:func:`glue_pipeline.csv_rules.record_reason`).
4. **Written** by DuckDB: one Parquet file in source order, with the added columns; quarantine lines as
   JSON Lines in the Spark path's format and order; the written count read back from the file.

Resources: DuckDB's ``memory_limit``, ``temp_directory`` and thread count are set per call, a watchdog
interrupts the query at the deadline, and running out of memory, disk or time raises
:class:`ResourceExhausted` (the converter then falls back to Glue). A file the rules refuse raises the Spark
path's :class:`~glue_pipeline.csv_rules.CsvProcessingError`.

Only the standard library, DuckDB and Spark-free glue_pipeline modules are imported: the converter's zip
holds nothing else (no pyarrow, no numpy; DuckDB returns no TIMESTAMPTZ to Python for that reason, as that
needs pytz).
"""

from __future__ import annotations

import errno
import json
import os
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

import duckdb

from glue_pipeline.csv_quoting import ends_inside_quotes, is_blank
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
)
from glue_pipeline.value_rules import ColumnType

PARSER_NAME = "the CSV parser"
CHUNK_BYTES = 16 << 20  # the unit files are streamed in, when they must be re-encoded
MASK = 31  # the unit separator, standing in for a delimiter inside quoted values while a line is split
KIND_PREAMBLE, KIND_BLANK, KIND_GOOD, KIND_ASIDE = "preamble", "blank", "good", "set_aside"


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


def cast_sql(value: str, column: ColumnType) -> str:
    """SQL for the text ``value`` cast to the column's type (null when it does not cast); a timestamp is
    cast as a wall-clock TIMESTAMP here and becomes an instant (UTC) when written (:func:`written_sql`)."""
    if column.kind == "string":
        return value
    if column.kind == "boolean":
        return f"({value} = 'true')"
    return f"TRY_CAST({value} AS {'TIMESTAMP' if column.kind == 'timestamp' else sql_type(column)})"


def written_sql(cast: str, column: ColumnType) -> str:
    return f"CAST({cast} AS TIMESTAMPTZ)" if column.kind == "timestamp" else cast


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
    refuses 24:00:00 only by that comparison); decimals with all of the scale's digits ("1.25"). Other
    decimals ("5", "1.5" in decimal(18,2)) take the pattern."""
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
    return f"({same} OR (regexp_full_match({value}, {pattern}) AND {cast} IS NOT NULL))"


def _field_regex(delimiter: str) -> str:
    d = _re2_char(delimiter)
    return f'(?:^|{d})("(?:[^"]|"")*"|[^{d}"]*)'


def _strict_line_regex(delimiter: str) -> str:
    """A line of fields that are unquoted without quotes or wholly quoted (``""`` for a quote): RFC 4180's
    shape, where every parser agrees (others go to :func:`parse_record`)."""
    d = _re2_char(delimiter)
    one = f'(?:"(?:[^"]|"")*"|[^{d}"]*)'
    return f"{one}(?:{d}{one})*"


def _re2_char(char: str) -> str:
    return f"\\x{{{ord(char):x}}}"


# ------------------------------------------------------------------------------------------- engine


@dataclass
class _Record:
    first_line: int
    line_count: int
    text: str
    closed: bool
    bad_utf8: bool


@dataclass
class _Stitched:
    records: list[_Record]
    conflicts: set[int]  # lines the line pass found good that lie inside a record
    blank_lines_inside: int
    aside_members: set[int]  # set-aside lines inside a record, its first line excepted


def stitch_records(
    aside: dict[int, str],
    bad_lines: set[int] | frozenset[int],
    line_text: Callable[[int], str],
    last_line: int,
    max_record_lines: int,
    delimiter: str,
) -> _Stitched:
    """Set-aside lines (number -> text, ``\\r`` kept) grouped into records as the Spark path groups them
    (:func:`glue_pipeline.csv_processing.resolve_records`), following quoted values into any line."""
    records: list[_Record] = []
    consumed: set[int] = set()
    conflicts: set[int] = set()
    aside_members: set[int] = set()
    blank_inside = 0
    for key in sorted(aside):
        if key in consumed:
            continue
        line = aside[key]
        if not ends_inside_quotes(line, delimiter=delimiter):
            consumed.add(key)
            records.append(_Record(key, 1, line.removesuffix("\r"), True, key in bad_lines))
            continue
        span = [key]
        inside = True
        current = key + 1
        while inside and current <= last_line and len(span) < max_record_lines:
            span.append(current)
            inside = ends_inside_quotes(line_text(current), starts_inside=True, delimiter=delimiter)
            current += 1
        if inside:
            consumed.add(key)
            records.append(_Record(key, 1, line.removesuffix("\r"), False, key in bad_lines))
            continue
        for member in span:
            consumed.add(member)
            if member in aside:
                if member != key:
                    aside_members.add(member)
            elif is_blank(line_text(member)):
                blank_inside += 1
            else:
                conflicts.add(member)
        text = "\n".join(line_text(k) for k in span).removesuffix("\r")
        records.append(_Record(key, len(span), text, True, any(k in bad_lines for k in span)))
    return _Stitched(records, conflicts, blank_inside, aside_members)


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
    head, first_line, bad_head = read_head(input_file, options.sample_lines, charset)
    layout = head_layout(
        head, options.max_record_lines, lambda texts, width: _parse_sample(texts, width, delimiter),
        options.infer_types, delimiter, first_line, bad_head,
    )
    if layout is None:
        return empty
    if deadline is not None and time.monotonic() >= deadline:
        raise ResourceExhausted("deadline: no time left to convert")
    work_root = Path(temp_dir) if temp_dir is not None else Path(tempfile.gettempdir())
    work_root.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="csv-fast-", dir=work_root))
    try:
        with _resources_mapped(deadline):
            return _Conversion(
                input_file, output_dir, quarantine_dir, workdir, layout, delimiter, charset, options,
                (source_file, processing_job, processed_at), input_size, memory_limit_mb, deadline,
            ).run()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


class _Conversion:
    """One call of convert_csv_file past the head: its DuckDB connection and working directory."""

    def __init__(
        self,
        input_file: Path,
        output_dir: Path,
        quarantine_dir: Path,
        workdir: Path,
        layout: HeadLayout,
        delimiter: str,
        charset: str,
        options: CsvOptions,
        metadata: tuple[str, str, datetime],
        input_size: int,
        memory_limit_mb: int | None,
        deadline: float | None,
    ) -> None:
        self.input_file, self.output_dir, self.quarantine_dir, self.workdir = input_file, output_dir, quarantine_dir, workdir
        self.layout, self.delimiter, self.charset, self.options = layout, delimiter, charset, options
        self.source_file, self.processing_job, self.processed_at = metadata
        self.input_size, self.deadline = input_size, deadline
        config: dict[str, str | int | bool] = {
            "threads": os.cpu_count() or 1,
            "temp_directory": str(workdir / "spill"),
            "preserve_insertion_order": True,
        }
        if memory_limit_mb is not None:
            config["memory_limit"] = f"{memory_limit_mb}MB"
        self.con = duckdb.connect(":memory:", config=config)
        self.con.execute("SET TimeZone = 'UTC'")  # a timestamp's text is UTC wall-clock time, as in the Spark path

    def _check_deadline(self) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise ResourceExhausted("deadline: the conversion was interrupted at its deadline")

    def sql(self, query: str, parameters: Sequence[object] | None = None) -> duckdb.DuckDBPyConnection:
        with _watchdog(self.con, self.deadline):
            return self.con.execute(query, parameters) if parameters is not None else self.con.execute(query)

    def run(self) -> CsvConversion:
        try:
            return self._run()
        finally:
            self.con.close()

    def _load_lines(self) -> tuple[int, set[int]]:
        """The table ``lines`` (n from 1, raw text with its ``\\r``); returns (lines, lines not UTF-8)."""
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
        total = int(self.sql("SELECT count(*) FROM lines").fetchone()[0])  # type: ignore[index]
        # A final line break ends the last line; it does not start another (Hadoop's line reader agrees).
        last = self.sql("SELECT raw FROM lines WHERE n = ?", [total]).fetchone()
        if last is not None and last[0] == "":
            self.sql("DELETE FROM lines WHERE n = ?", [total])
            total -= 1
        return total, bad

    def _split_lines(self, readable: Path) -> None:
        # read_text holds the file as one value, split on \n alone: DuckDB's CSV reader would also split on a
        # lone \r, which is text to the Spark path. The split is single-threaded; the parsing after it is not.
        self.sql(
            "CREATE OR REPLACE TABLE lines AS SELECT generate_subscripts(parts, 1) AS n, unnest(parts) AS raw "
            f"FROM (SELECT string_split(content, chr(10)) AS parts FROM read_text({_sql_string(str(readable))}))"
        )

    def _classify(self, bad: set[int]) -> None:
        """The table ``parsed``: every line past the preamble with its kind and its fields' texts."""
        layout, d = self.layout, self.delimiter
        width = len(layout.columns)
        self._table("bad_lines", ["n BIGINT"], ([n] for n in sorted(bad)))
        if bad:
            flagged = "lines l LEFT JOIN bad_lines b USING (n)", "b.n IS NOT NULL"
        else:
            flagged = "lines l", "false"  # no join: the table keeps the lines' order without a sort
        # Per column: its text (null when missing, "" when quoted empty), the text cast to its type, and
        # whether the text fits; the cast is computed once, for the check and for the value written.
        d_sql = _sql_string(d)

        def unmasked(field: str) -> str:
            inner = f"substring({field}, 2, length({field}) - 2)"
            return f"CASE WHEN masked THEN replace({inner}, chr({MASK}), {d_sql}) ELSE {inner} END"

        texts = [
            f"CASE WHEN fields[{i + 1}] = '' THEN NULL WHEN NOT quoted OR NOT starts_with(fields[{i + 1}], '\"') "
            f"THEN fields[{i + 1}] ELSE replace({unmasked(f'fields[{i + 1}]')}, '\"\"', '\"') END AS v{i}"
            for i in range(width)
        ]
        casts = [f"{cast_sql(f'v{i}', c)} AS t{i}" for i, c in enumerate(layout.column_types) if c.kind != "string"]
        misfits = [
            f"(v{i} IS NOT NULL AND NOT {fits_sql(f'v{i}', f't{i}', column)})"
            for i, column in enumerate(layout.column_types)
            if column.kind != "string"
        ]
        stored = [f"v{i}" if c.kind == "string" else f"t{i} AS v{i}" for i, c in enumerate(layout.column_types)]
        misfit = " OR ".join(misfits) if misfits else "false"
        self.sql(
            f"""
            CREATE TABLE parsed AS
            WITH split AS (
              SELECT n, line, is_bad, quoted, masked,
                     CASE WHEN NOT quoted THEN string_split(line, {d_sql})
                          WHEN NOT regexp_full_match(line, {_sql_string(_strict_line_regex(d))}) THEN NULL
                          -- Delimiters inside quoted values are masked, so that a split finds the fields:
                          -- in a line of RFC 4180's shape, text between the 2k-th and (2k+1)-th quote is
                          -- inside a quoted value (an escaped quote "" opens and closes an empty stretch).
                          WHEN masked THEN string_split(array_to_string(list_transform(string_split(line, '"'),
                            (s, i) -> CASE WHEN i % 2 = 0 THEN replace(s, {d_sql}, chr({MASK})) ELSE s END), '"'), {d_sql})
                          ELSE regexp_extract_all(line, {_sql_string(_field_regex(d))}, 1)
                          END AS fields
              FROM (
                SELECT n, line, is_bad, contains(line, '"') AS quoted,
                       contains(line, '"') AND NOT contains(line, chr({MASK})) AS masked FROM (
                  SELECT l.n, l.raw,
                         CASE WHEN ends_with(l.raw, chr(13)) THEN left(l.raw, length(l.raw) - 1) ELSE l.raw END AS line,
                         {flagged[1]} AS is_bad
                  FROM {flagged[0]}
                  WHERE l.n > {layout.preamble_lines}
                )
              )
            ),
            valued AS (SELECT n, line, is_bad, len(fields) = {width} AS full_width, {", ".join(texts)} FROM split),
            typed AS (SELECT *{", " if casts else ""}{", ".join(casts)} FROM valued)
            SELECT n,
                   -- Only an empty line or one starting with a space or tab can be blank: the trim is guarded.
                   CASE WHEN line = '' OR ((starts_with(line, ' ') OR starts_with(line, chr(9)))
                                           AND trim(line, ' ' || chr(9)) = '') THEN '{KIND_BLANK}'
                        WHEN is_bad OR contains(line, chr(0)) OR NOT coalesce(full_width, false) THEN '{KIND_ASIDE}'
                        WHEN {misfit} THEN '{KIND_ASIDE}'
                        ELSE '{KIND_GOOD}' END AS kind,
                   {", ".join(stored)}
            FROM typed
            {"ORDER BY n" if bad else ""}
            """
        )

    def _run(self) -> CsvConversion:
        layout, options = self.layout, self.options
        width = len(layout.columns)
        total, bad = self._load_lines()
        self._check_deadline()
        self._classify(bad)
        counts = dict(self.sql("SELECT kind, count(*) FROM parsed GROUP BY kind").fetchall())
        preamble = min(layout.preamble_lines, total)
        aside_rows = self.sql(
            f"SELECT n, raw FROM lines WHERE n IN (SELECT n FROM parsed WHERE kind = '{KIND_ASIDE}') ORDER BY n"
        ).fetchall()
        if len(aside_rows) > options.max_set_aside_lines:
            raise CsvProcessingError(
                f"{len(aside_rows)} lines are malformed or part of multi-line records, over the limit of "
                f"{options.max_set_aside_lines} (max_set_aside_lines); the file is rejected rather than quarantined line "
                "by line"
            )
        aside = {int(n): str(raw) for n, raw in aside_rows}
        stitched = stitch_records(aside, bad, self._line_text(aside, total), total, options.max_record_lines, self.delimiter)
        self._check_deadline()

        good_records: list[list[object]] = []
        quarantined: list[tuple[str, str, int, int, str]] = []
        for record in stitched.records:
            refused = refusal(record.closed, record.bad_utf8, record.text, record.first_line)
            if refused is not None:
                quarantined.append((*refused, record.first_line, record.line_count, record.text))
                continue
            fields = parse_record(record.text, self.delimiter)
            values = [as_text(v) for v in (fields + [None] * width)[:width]]
            if len(fields) == width and all(t.accepts(v) for t, v in zip(layout.column_types, values)):
                good_records.append([record.first_line, *values])
            else:
                reason, detail = record_reason(
                    record.text, values, layout.columns, layout.column_types, self.delimiter, PARSER_NAME
                )
                quarantined.append((reason, detail, record.first_line, record.line_count, record.text))

        self._table("stitched", ["n BIGINT", *(f"v{i} VARCHAR" for i in range(width))], good_records)
        self._table("conflicts", ["n BIGINT"], ([n] for n in sorted(stitched.conflicts)))

        good_lines = counts.get(KIND_GOOD, 0) - len(stitched.conflicts)
        rows_in = good_lines + len(stitched.records)
        data_file = self._write_parquet(bool(good_records or stitched.conflicts))
        rows_written = int(self.sql(f"SELECT count(*) FROM read_parquet({_sql_string(str(data_file))})").fetchone()[0])  # type: ignore[index]
        expected_written = good_lines + len(good_records)
        check_reconciled(rows_in, rows_written, expected_written, len(quarantined))
        classified = preamble + sum(counts.values())
        if classified != total:
            raise ReconciliationError(f"{total} lines read but {classified} classified")
        run_id = uuid.uuid4()
        self.output_dir.mkdir(parents=True, exist_ok=True)
        output = self.output_dir / f"part-00000-{run_id}-c000.snappy.parquet"
        shutil.move(str(data_file), output)
        quarantine_size = self._write_quarantine(quarantined, run_id)
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
            main_passes=2 if stitched.conflicts or any(self._spark_row(aside[m], m in bad) for m in stitched.aside_members) else 1,
            quarantine_reasons=reason_counts(quarantined),
        )

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

    def _line_text(self, aside: dict[int, str], total: int) -> Callable[[int], str]:
        """Text of any line, fetched in growing windows (a long quoted value costs a few queries)."""
        cache = dict(aside)
        window = [16]

        def text(n: int) -> str:
            if n not in cache:
                self._check_deadline()
                last = min(total, n + window[0] - 1)
                cache.update((int(k), str(v)) for k, v in self.sql("SELECT n, raw FROM lines WHERE n BETWEEN ? AND ?", [n, last]).fetchall())
                window[0] = min(window[0] * 8, self.options.max_record_lines)
            return cache[n]

        return text

    def _write_parquet(self, merge: bool) -> Path:
        layout = self.layout
        target = self.workdir / "part.parquet"
        stamp = self.processed_at if self.processed_at.tzinfo else self.processed_at.replace(tzinfo=timezone.utc)
        typed = [
            f"{written_sql(f'v{i}', column)} AS {_identifier(name)}"
            for i, (name, column) in enumerate(zip(layout.columns, layout.column_types))
        ]
        added = [
            f"CAST({_sql_string(stamp.astimezone(timezone.utc).isoformat())} AS TIMESTAMPTZ) AS processed_at",
            f"CAST({_sql_string(self.source_file)} AS VARCHAR) AS source_file",
            f"CAST({_sql_string(self.processing_job)} AS VARCHAR) AS processing_job",
        ]
        value_columns = ", ".join(f"v{i}" for i in range(len(layout.columns)))
        rows = f"SELECT n, {value_columns} FROM parsed WHERE kind = '{KIND_GOOD}'"
        if merge:
            # Records that span lines (or needed the full parser) go back to their source places.
            cast = ", ".join(f"{cast_sql(f'v{i}', c)} AS v{i}" for i, c in enumerate(layout.column_types))
            rows = (
                f"SELECT * FROM ({rows} AND n NOT IN (SELECT n FROM conflicts) "
                f"UNION ALL SELECT n, {cast} FROM stitched) ORDER BY n"
            )
        self.sql(
            f"COPY (SELECT {', '.join([*typed, *added])} FROM ({rows})) TO {_sql_string(str(target))} "
            "(FORMAT parquet, COMPRESSION snappy)"
        )
        return target

    def _write_quarantine(self, quarantined: list[tuple[str, str, int, int, str]], run_id: uuid.UUID) -> int:
        if not quarantined:
            return 0
        stamp = self.processed_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.quarantine_dir.mkdir(parents=True, exist_ok=True)
        target = self.quarantine_dir / f"part-00000-{run_id}-c000.json"
        with target.open("w", encoding="utf-8", newline="\n") as out:
            for q in sorted(quarantined, key=lambda q: q[2]):
                line = dict(zip(QUARANTINE_FIELDS, (*q, self.source_file, self.processing_job, stamp)))
                out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
        return target.stat().st_size
