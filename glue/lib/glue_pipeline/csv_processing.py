"""CSV -> typed rows, with every malformed record quarantined and every line accounted for.

How a file is read. Spark's ``multiLine`` CSV mode is correct for quoted newlines but reads a whole file in
one task (one core); line mode is parallel but splits such records. This design keeps line mode's
parallelism and handles the few multi-line records on the driver:

1. **Layout from the head of the file.** The first ``sample_lines`` lines are grouped into records
   (:mod:`glue_pipeline.csv_quoting`); the first record is the header, the others feed Spark's own CSV
   schema inference. No full pass is spent on inference.
2. **Main pass, in parallel by lines.** Every line is parsed on its own with Spark's CSV parser
   (``from_csv``, the parser ``spark.read.csv`` uses) against that schema. A line is *good* when it parses
   cleanly and does not leave a quoted field open; good rows are written straight to Parquet. Every other
   non-blank line is *set aside*: its position and text travel back to the driver through a Spark
   ``Observation`` of the same write, so the file is parsed once, not once per output.
3. **Set-aside lines become records.** Multi-line records are stitched back together by following the
   quoting rules (one text-only pass gives the line counts of the input splits, so records can continue
   across splits and quarantined records get file line numbers), and the resulting records are parsed
   again: good ones are
   put in their source places in the Parquet output (the main pass's file of each input split that holds
   such records is rewritten with them in place), the others quarantined with a reason. If a line in the middle of a
   multi-line value happened to parse as a good row on its own, the main pass is redone with that line
   forced aside, so a quoted newline can never produce a wrong row.

   When the head of the file already holds a record that spans lines, the text-only pass runs *before*
   the main pass and also returns the lines the quoting regular expression matches (moved there from the
   main pass) and those with an odd number of quotes; the driver stitches the records from them by the same
   rules, and the main pass parses each such record at its first line (a broadcast join tells it) and skips
   its later lines, so the records are written in place and nothing is rewritten. Records left over (text
   with U+FFFD or NUL) take the way above; should the two ever disagree, the main pass is redone without
   the records found before it.

Malformed records and how each is detected:

* ``too_few_fields`` / ``too_many_fields``: Spark's parser flags the record (``_corrupt_record``) and its
  field count, counted with Python's csv module, differs from the header's.
* ``type_mismatch``: the field count is right but a value does not parse as its column's inferred type
  (seen by parsing the record once with the typed schema and once with all-string columns). The schema is
  inferred from the head of the file, so a later value of another type is quarantined, not coerced.
* ``unclosed_quote``: a quoted field opened on this line is not closed within ``max_record_lines`` lines or
  before the end of the file; the opening line is quarantined alone and reading resumes on the next line.
* ``unparseable``: Spark rejects the record for any other reason.

Quarantine format: JSON Lines (``part-*.json``, uncompressed) under the quarantine path, one object per
record: ``quarantine_reason``, ``quarantine_detail``, ``line_number`` (1-based line of the record's first
line), ``line_count``, ``raw_record`` (the exact text, lines joined with ``\n``), ``source_file``,
``processing_job``, ``processed_at`` (ISO-8601 UTC). Blank lines are skipped, as Spark's reader does.
"""

from __future__ import annotations

import json
import logging
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from glue_pipeline.csv_quoting import (  # noqa: F401 - re-exported: tests import them from here
    Resolution,
    StitchedRecord,
    ends_inside_quotes,
    is_blank,
    opens_quoted_field_regex,
    resolve_records,
)
# The rules shared with the fast path (csv_fast), imported back under the names this module has always used.
from glue_pipeline.csv_rules import (  # noqa: F401 - re-exported: jobs and tests import them from here
    EMPTY_MARKER,
    ENCODINGS,
    LIKELY_DELIMITERS,
    METADATA_COLUMNS,
    QUARANTINE_FIELDS,
    CsvConversion,
    CsvOptions,
    CsvProcessingError,
    ReconciliationError,
    check_file_start,
    check_reconciled,
    checked_delimiter,
    checked_encoding,
    field_count,
    head_layout,
    header_cells,
    infer_types_of,
    reason_counts,
    record_reason,
    refusal,
    too_many_set_aside,
)
from glue_pipeline.csv_rules import as_text as _as_text
from glue_pipeline.hadoop_fs import _path_and_fs, delete_path, file_size_bytes, literal_path, path_size_bytes, rename_path
from glue_pipeline.value_rules import ColumnType

LOG = logging.getLogger(__name__)

CORRUPT_RECORD = "_corrupt_record"
LINE_BLOCK = "_line_block"
LINE_INDEX = "_line_index"
LINE_TEXT = "value"
LINE_KIND = "_line_kind"
PARSED = "_parsed"
BAD_UTF8 = "_bad_utf8"
# A stitched record's place: its input split and how many of the split's rows the main pass wrote before it.
SPLIT = "_split"
ROWS_BEFORE = "_rows_before"
SOURCE_ORDER = "_source_order"
IN_SOURCE_ORDER_DIR = "_in_source_order"  # where the output is rewritten (a reader skips "_" names)

KIND_PREAMBLE = "preamble"  # the header record and any blank lines before it
KIND_BLANK = "blank"
KIND_GOOD = "good"
KIND_SET_ASIDE = "set_aside"
KIND_INSIDE = "inside"  # a later line of a record found before the main pass (written with its first line)

# What the main pass is told about a line found before it (_find_spanning_records): the first line of a
# record that spans lines (parsed as that whole record, _record), a later line of one, or a line that opens
# a quoted field and starts no such record (set aside, as the quoting regular expression would have).
ROLE = "_role"
RECORD = "_record_text"
ROLE_FIRST = "first"
ROLE_INSIDE = "inside"
ROLE_OPENS = "opens"

# Java writes a BigDecimal of scale <= 6 in plain digits, a larger scale in exponent form when small (fits).
MAX_PLAIN_DECIMAL_SCALE = 6
# RFC 4180 quoting: a quote inside a quoted value is written as two quotes. Spark's default escape is a
# backslash, which would misread such values.
CSV_OPTIONS: dict[str, str] = {"quote": '"', "escape": '"', "emptyValue": EMPTY_MARKER}

_QUARANTINE_TYPES: dict[str, T.DataType] = {"line_number": T.LongType(), "line_count": T.IntegerType()}
QUARANTINE_SCHEMA = T.StructType([T.StructField(n, _QUARANTINE_TYPES.get(n, T.StringType()), False) for n in QUARANTINE_FIELDS])

Key = tuple[int, int]  # (byte offset of the line's input split, index of the line within that split)


@dataclass(frozen=True)
class CsvLayout:
    """What the head of the file says: header, where it ends, cleaned column names, inferred types."""

    header: tuple[str, ...]
    preamble_lines: int
    columns: tuple[str, ...]
    column_types: tuple[ColumnType, ...]
    delimiter: str = ","
    # The head holds a record whose quoted value spans lines: the file probably has more, so they are found
    # before the main pass (_find_spanning_records) and written in place instead of rewriting the output.
    spanning_records: bool = False

    @property
    def types(self) -> tuple[T.DataType, ...]:
        return tuple(spark_type(c) for c in self.column_types)

    def ddl(self) -> str:
        """Every field is parsed as a string under a positional name (no header text reaches a DDL string);
        the value rules then decide, per column, whether the text fits (:func:`typed_value`, :func:`misfit`)."""
        fields = [f"`_c{i}` string" for i in range(len(self.column_types))]
        return ", ".join([*fields, f"`{CORRUPT_RECORD}` string"])

    @property
    def parse_options(self) -> dict[str, str]:
        return {**CSV_OPTIONS, "sep": self.delimiter, "mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_RECORD}

    @property
    def data_schema(self) -> T.StructType:
        return T.StructType([T.StructField(n, t, True) for n, t in zip(self.columns, self.types)])


# --------------------------------------------------------------------------------------------- layout


def spark_type(column: ColumnType) -> T.DataType:
    if column.kind == "decimal":
        return T.DecimalType(column.precision, column.scale)
    simple: dict[str, T.DataType] = {
        "string": T.StringType(), "int": T.IntegerType(), "bigint": T.LongType(), "boolean": T.BooleanType(),
        "date": T.DateType(), "timestamp": T.TimestampType(),
    }
    return simple[column.kind]


def cast_column(i: int) -> str:
    """Name of the column holding field ``i`` cast to its type (classify_lines computes it once per line, and
    both the check and the written value read it)."""
    return f"_cast{i}"


def typed_value(text: Column, column: ColumnType, cast: Column | None = None) -> Column:
    """The value written for a field's text (null when missing); only meaningful when :func:`misfit` is false."""
    if column.kind == "string":
        return F.when(text == EMPTY_MARKER, F.lit("")).otherwise(text)
    return text.cast(spark_type(column)) if cast is None else cast


def fits(text: Column, column: ColumnType, cast: Column | None = None) -> Column:
    """True when the (present) text round-trips through the column's type: Spark's form of
    :meth:`ColumnType.accepts`. The text must match the type's exact pattern (``08123``, ``+5``, `` 5``,
    ``5.0``, ``2024-2-1`` do not) and cast to a value (``2024-02-30`` and an int beyond 2^31 do not);
    decimals' patterns also rule out rounding. Casts return null rather than fail, so no value can fail the
    job. ``cast`` is the text already cast to the column's type, when the caller has it."""
    kind = column.kind
    if kind == "string":
        return F.lit(True)
    if kind == "boolean":
        return text.isin("true", "false")
    value = text.cast(spark_type(column)) if cast is None else cast
    # The pattern fixes the text's exact shape (no sign, leading zero, space, line break, exponent, digits
    # beyond the scale, fraction of a second or zone; no year 0000) and the cast checks the range or the
    # calendar (a value beyond int, 2024-02-30 and 24:00:00 cast to null).
    exact = text.rlike(str(column.java_pattern)) & value.isNotNull()
    # A Java regular expression costs ~200 ns a field (the text decoded to a Java string, a Matcher built):
    # it was most of the CPU the value rules added (docs/benchmarks.md). For numbers, the value formatted
    # back equal to the text (bytes compared, no decoding) proves the text fits: Spark writes an int or
    # bigint in its one canonical form (no sign, leading zero or space; range checked by the cast), so for
    # them the comparison *is* the rule. A decimal is written with exactly `scale` fraction digits, so the
    # comparison is only a fast path ("1.37" in decimal(18,2)); "4" or "1.5" fail it and take the pattern.
    # Only for scale <= 6: beyond, Java writes small values in exponent form ("0E-10" in decimal(38,10)),
    # which would accept that text. Dates and timestamps keep the pattern alone: formatting them back
    # costs more than it, and a byte-level shape check (length, separators and digits tested with
    # octet_length, locate and substring) doubled the main pass's CPU (measured, docs/benchmarks.md).
    if kind in ("int", "bigint"):
        return value.cast(T.StringType()) == text
    if kind == "decimal" and column.scale <= MAX_PLAIN_DECIMAL_SCALE:
        return (value.cast(T.StringType()) == text) | exact
    return exact


def misfit(parsed: str, layout: CsvLayout, with_casts: bool = False) -> Column:
    """True when some present field of the parsed struct does not fit its column's type. ``with_casts``: the
    casts are already columns (:func:`cast_column`)."""
    checks = [
        F.col(f"{parsed}._c{i}").isNotNull()
        & ~F.coalesce(fits(F.col(f"{parsed}._c{i}"), c, F.col(cast_column(i)) if with_casts else None), F.lit(False))
        for i, c in enumerate(layout.column_types)
        if c.kind != "string"
    ]
    result: Column = F.lit(False)
    for check in checks:
        result = result | check
    return result


def with_casts(df: DataFrame, layout: CsvLayout) -> DataFrame:
    """Adds each typed field cast to its type (:func:`cast_column`), computed once for its check and its value."""
    return df.select(
        "*",
        *[
            F.col(f"{PARSED}._c{i}").cast(spark_type(c)).alias(cast_column(i))
            for i, c in enumerate(layout.column_types)
            if c.kind != "string"
        ],
    )


def read_text(spark: SparkSession, path: str, encoding: str = "utf-8") -> DataFrame:
    """The file's lines, split on ``\\n`` only (column ``value``, each with its own ``\\r`` of a ``\\r\\n`` end
    still on it), decoded as the flow's encoding, plus ``_bad_utf8`` for lines that are not valid UTF-8.

    Hadoop's default reader also splits on ``\\r`` and drops it, which turned a ``\\r\\n`` inside a quoted
    value into ``\\n``. Spark keeps a line's bytes as they are and only decodes them where a string function
    needs characters, replacing invalid UTF-8 with U+FFFD; the job therefore tests the bytes: a line whose
    bytes do not survive decoding and re-encoding is marked, and its record is quarantined (``invalid_utf8``).
    """
    charset = checked_encoding(encoding)
    raw = spark.read.option("lineSep", "\n").text(literal_path(path))  # the key is a name, never a glob
    value = F.col("value")
    if charset == "ISO-8859-1":
        return raw.select(F.decode(value.cast("binary"), charset).alias("value"), F.lit(False).alias("_bad_utf8"))
    # No cheaper gate is exact: Spark counts a stray byte (0x80-0xC1, 0xF5-0xFF) as a one-byte character, so
    # "as many characters as bytes" does not prove a line is ASCII. (Testing only lines with a corrupt parse
    # or a field holding U+FFFD is exact too, but measured no cheaper: docs/benchmarks.md.)
    bad = F.encode(value, "UTF-8") != value.cast("binary")
    return raw.select(value, bad.alias("_bad_utf8"))


def infer_layout(
    spark: SparkSession,
    path: str,
    sample_lines: int,
    max_record_lines: int,
    infer_types: bool = True,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> CsvLayout | None:
    """Reads the head of the file; None when it holds no header (empty, or blank lines only)."""
    rows = (
        read_text(spark, path, encoding)
        .select("value", F.col("value").cast("binary").alias("b"), BAD_UTF8)
        .limit(sample_lines)
        .collect()
    )
    head = [row[0] for row in rows]
    return layout_from_lines(
        spark, head, truncated=len(head) >= sample_lines, max_record_lines=max_record_lines, infer_types=infer_types,
        delimiter=delimiter, first_line=bytes(rows[0][1]) if rows else None,
        bad_lines=frozenset(i for i, row in enumerate(rows) if row[2]),
    )


def layout_from_lines(
    spark: SparkSession,
    head: Sequence[str],
    truncated: bool,
    max_record_lines: int,
    infer_types: bool = True,
    delimiter: str = ",",
    first_line: bytes | None = None,
    bad_lines: frozenset[int] = frozenset(),
) -> CsvLayout | None:
    """The layout from the head's lines (:func:`glue_pipeline.csv_rules.head_layout`, shared with the fast
    path), the sample parsed by Spark's own CSV parser."""

    def parse_sample(usable: list[str], width: int) -> list[T.Row]:
        # Parsed by the same parser and options as the main pass, so the sample's texts are the texts the
        # value rules will later check.
        names = tuple(f"_c{i}" for i in range(width))
        probe = CsvLayout(names, 0, names, (ColumnType("string"),) * width, delimiter)
        return (
            spark.createDataFrame([(t,) for t in usable], "value string")
            .select(F.from_csv(F.col("value"), probe.ddl(), probe.parse_options).alias(PARSED))
            .where(F.col(f"{PARSED}.{CORRUPT_RECORD}").isNull())
            .select(*[F.col(f"{PARSED}._c{i}") for i in range(width)])
            .collect()
        )

    found = head_layout(head, max_record_lines, parse_sample, infer_types, delimiter, first_line, bad_lines)
    if found is None:
        return None
    return CsvLayout(found.header, found.preamble_lines, found.columns, found.column_types, delimiter, found.spanning_records)


# ------------------------------------------------------------------------------------ pure transforms


def read_lines(spark: SparkSession, path: str, encoding: str = "utf-8") -> DataFrame:
    """The file's lines, in parallel, each with a position key that orders them and survives re-reads.

    The key is (start offset of the input split, index of the line within the split): Spark reads each split
    of a single file in its own partition, and ``monotonically_increasing_id`` numbers a partition's rows
    from ``partition << 33``, so its low 33 bits are the line's index within the split.
    """
    return read_text(spark, path, encoding).select(
        F.input_file_block_start().alias(LINE_BLOCK),
        F.monotonically_increasing_id().bitwiseAND(F.lit((1 << 33) - 1)).alias(LINE_INDEX),
        F.col("value").alias(LINE_TEXT),
        BAD_UTF8,
    )


def classify_lines(
    lines: DataFrame, layout: CsvLayout, forced_aside: DataFrame | None = None, spanning: DataFrame | None = None
) -> DataFrame:
    """Adds the parse of each line (struct ``_parsed``) and its kind: preamble, blank, good or set_aside
    (or inside, with ``spanning``).

    ``forced_aside`` holds (``_line_block``, ``_line_index``) keys to set aside whatever they parse to.
    ``spanning`` (``_line_block``, ``_line_index``, ``_role``, ``_record_text``) holds every line that opens a
    quoted field, found before this pass: the first line of a record that spans lines is parsed as that
    record, in its place; the record's later lines are ``inside`` (not written); the others are set aside.
    """
    # The line without the \r of a \r\n end (the raw line, \r included, is what travels to the driver, so a
    # \r\n inside a quoted value is rebuilt byte for byte).
    text = _without_cr(F.col(LINE_TEXT))
    forced: Column = F.lit(False)
    if forced_aside is not None:
        marked = forced_aside.select(LINE_BLOCK, LINE_INDEX, F.lit(True).alias("_forced"))
        lines = lines.join(F.broadcast(marked), [LINE_BLOCK, LINE_INDEX], "left")
        forced = F.coalesce(F.col("_forced"), F.lit(False))
    inside: Column = F.lit(False)
    found_opening: Column = F.lit(False)
    if spanning is not None:
        lines = lines.join(F.broadcast(spanning), [LINE_BLOCK, LINE_INDEX], "left")
        text = F.when(F.col(ROLE) == ROLE_FIRST, F.col(RECORD)).otherwise(text)
        inside = F.coalesce(F.col(ROLE) == ROLE_INSIDE, F.lit(False))
        found_opening = F.coalesce(F.col(ROLE) == ROLE_OPENS, F.lit(False))
    corrupt = F.col(f"{PARSED}.{CORRUPT_RECORD}").isNotNull()
    # The per-line tests below run on every line of the file, so each is guarded by a cheaper one. A blank
    # line parses to a corrupt record or a null first field (unless the file has a single column), so the
    # trim runs only on those; a line can only open a quoted field if it holds a quote (a byte scan), so the
    # regular expression, which needs the line decoded to a Java string, runs only on those.
    maybe_blank = F.lit(True) if len(layout.column_types) == 1 else corrupt | F.col(f"{PARSED}._c0").isNull()
    opens_quote = F.col("_line").contains('"') & F.col("_line").rlike(opens_quoted_field_regex(layout.delimiter))
    if spanning is not None:
        # The same regular expression, evaluated once before this pass: exactly the lines it matched are in
        # ``spanning``; a first line's parse is its whole (closed) record, and later lines never get here.
        opens_quote = F.col("_opens")
    # Lines the driver must look at: a value that does not fit its column's type, bytes that are not UTF-8,
    # a NUL (which could pose as the quoted-empty marker).
    suspect = F.col(BAD_UTF8) | F.col("_line").contains(EMPTY_MARKER) | misfit(PARSED, layout, with_casts=True)
    kind = (
        # Never true: spark_partition_id() is non-deterministic, and a non-deterministic kind stops Catalyst
        # from pushing the filters on it below this projection, where they would run from_csv (the most
        # expensive step of the job) a second time on every line.
        F.when(F.spark_partition_id() < 0, F.lit(None))
        .when((F.col(LINE_BLOCK) == 0) & (F.col(LINE_INDEX) < layout.preamble_lines), F.lit(KIND_PREAMBLE))
        .when(F.col("_inside"), F.lit(KIND_INSIDE))
        .when(maybe_blank & _blank(F.col("_line")), F.lit(KIND_BLANK))
        .when(corrupt | F.col("_forced_aside") | opens_quote | suspect, F.lit(KIND_SET_ASIDE))
        .otherwise(F.lit(KIND_GOOD))
    )
    casts = [cast_column(i) for i, c in enumerate(layout.column_types) if c.kind != "string"]
    parsed = lines.select(
        LINE_BLOCK, LINE_INDEX, LINE_TEXT, BAD_UTF8, text.alias("_line"), forced.alias("_forced_aside"),
        inside.alias("_inside"), found_opening.alias("_opens"),
    ).select(
        LINE_BLOCK, LINE_INDEX, LINE_TEXT, BAD_UTF8, "_line", "_forced_aside", "_inside", "_opens",
        F.from_csv(F.col("_line"), layout.ddl(), layout.parse_options).alias(PARSED),
    )
    return with_casts(parsed, layout).select(LINE_BLOCK, LINE_INDEX, LINE_TEXT, BAD_UTF8, PARSED, *casts, kind.alias(LINE_KIND))


def _without_cr(raw: Column) -> Column:
    return F.when(raw.endswith("\r"), raw.substr(F.lit(1), F.length(raw) - 1)).otherwise(raw)


def _blank(line: Column) -> Column:
    """A line (without its \r) holding only spaces and tabs: :func:`glue_pipeline.csv_quoting.is_blank`."""
    return F.call_function("btrim", line, F.lit(" \t")) == ""


def typed_rows(parsed: DataFrame, layout: CsvLayout, keep: Sequence[str] = ()) -> DataFrame:
    """The parsed struct as columns with the cleaned names, then the ``keep`` columns (drops everything
    else); the casts of :func:`with_casts` are used when ``parsed`` has them."""
    present = set(parsed.columns)

    def cast(i: int) -> Column | None:
        return F.col(cast_column(i)) if cast_column(i) in present else None

    return parsed.select(
        *[
            typed_value(F.col(f"{PARSED}._c{i}"), column, cast(i)).alias(name)
            for i, (name, column) in enumerate(zip(layout.columns, layout.column_types))
        ],
        *keep,
    )


def add_metadata_columns(df: DataFrame, processed_at: datetime, source_file: str, processing_job: str) -> DataFrame:
    """Adds ``processed_at`` (one timestamp for the whole run), ``source_file`` and ``processing_job``."""
    return df.select(
        "*",
        F.lit(processed_at).cast(T.TimestampType()).alias("processed_at"),
        F.lit(source_file).cast(T.StringType()).alias("source_file"),
        F.lit(processing_job).cast(T.StringType()).alias("processing_job"),
    )


# ------------------------------------------------------------------ stitching set-aside lines (driver)


@dataclass(frozen=True)
class BlockIndex:
    """Line counts per input split, so positions can be walked in file order and numbered from 1."""

    starts: tuple[int, ...]  # split offsets, ascending
    first_index: tuple[int, ...]
    last_index: tuple[int, ...]
    # Per split, the ascending indexes of its blank lines (the preamble's included): with the set-aside
    # lines they tell which lines of a split were written as rows, so a record can be put back in its place.
    blank: tuple[tuple[int, ...], ...] = ()

    @classmethod
    def of(cls, stats: Iterable[tuple[int, int, int] | tuple[int, int, int, Sequence[int]]]) -> BlockIndex:
        ordered = sorted(stats, key=lambda s: s[0])
        return cls(
            tuple(s[0] for s in ordered),
            tuple(s[1] for s in ordered),
            tuple(s[2] for s in ordered),
            tuple(tuple(sorted(s[3])) if len(s) > 3 else () for s in ordered),  # type: ignore[misc]
        )

    def _position(self, block: int) -> int:
        pos = bisect_right(self.starts, block) - 1
        if pos < 0 or self.starts[pos] != block:
            raise KeyError(f"unknown input split {block}")
        return pos

    def next_key(self, key: Key) -> Key | None:
        pos = self._position(key[0])
        if key[1] < self.last_index[pos]:
            return (key[0], key[1] + 1)
        if pos + 1 < len(self.starts):
            return (self.starts[pos + 1], self.first_index[pos + 1])
        return None

    def line_number(self, key: Key) -> int:
        pos = self._position(key[0])
        before = sum(self.last_index[p] - self.first_index[p] + 1 for p in range(pos))
        return before + key[1] - self.first_index[pos] + 1

    def rows_before(self, key: Key, preamble_lines: int, set_aside: Mapping[int, Sequence[int]]) -> tuple[int, int]:
        """(split position, rows the main pass wrote from that split before ``key``): where a record
        starting at ``key`` belongs among them. Every other line of the split before ``key`` is preamble,
        blank or set aside (``set_aside``: ascending line indexes per split offset)."""
        pos = self._position(key[0])
        first, index = self.first_index[pos], key[1]
        blank = self.blank[pos] if self.blank else ()
        # Lines [first, preamble_end) are the preamble (the header and blank lines before it, split 0 only).
        preamble_end = max(first, min(index, preamble_lines if key[0] == 0 else first))
        blank_after_preamble = bisect_left(blank, index) - bisect_left(blank, preamble_end)
        aside = bisect_left(set_aside.get(key[0], ()), index)
        return pos, index - preamble_end - blank_after_preamble - aside

    def following(self, key: Key, count: int) -> list[Key]:
        keys: list[Key] = []
        current: Key | None = key
        while current is not None and len(keys) < count:
            keys.append(current)
            current = self.next_key(current)
        return keys


# --------------------------------------------------------------------------------------- orchestration


@dataclass(frozen=True)
class _MainPass:
    lines_total: int
    preamble_lines: int
    blank_lines: int
    good_rows: int
    set_aside: dict[Key, str]
    bad_utf8: frozenset[Key] = frozenset()


def _run_main_pass(
    spark: SparkSession,
    lines: DataFrame,
    layout: CsvLayout,
    forced: set[Key],
    output_path: str,
    metadata: tuple[datetime, str, str],
    max_set_aside_lines: int,
    spanning: DataFrame | None = None,
) -> _MainPass:
    forced_df = (
        spark.createDataFrame(sorted(forced), f"{LINE_BLOCK} long, {LINE_INDEX} long") if forced else None
    )
    classified = classify_lines(lines, layout, forced_df, spanning)
    kind = F.col(LINE_KIND)
    observation = Observation("csv_main_pass")

    def count_kind(name: str) -> Column:
        return F.sum(F.when(kind == name, 1).otherwise(0)).alias(name)

    # Observed metrics are evaluated row by row outside whole-stage code generation, so they are kept few:
    # set-aside lines are counted by the list that carries them, split sizes come from a separate pass.
    observed = classified.observe(
        observation,
        F.count(F.lit(1)).alias("lines_total"),
        count_kind(KIND_PREAMBLE),
        count_kind(KIND_BLANK),
        count_kind(KIND_GOOD),
        # The set-aside lines themselves ride back with the write, so no second pass is needed to fetch
        # them; max_set_aside_lines bounds what this can bring to the driver.
        F.to_json(
            F.collect_list(
                F.when(
                    kind == KIND_SET_ASIDE,
                    F.struct(
                        F.col(LINE_BLOCK).alias("b"),
                        F.col(LINE_INDEX).alias("i"),
                        F.col(LINE_TEXT).alias("t"),
                        F.col(BAD_UTF8).alias("u"),
                    ),
                )
            )
        ).alias("set_aside_lines"),
    )
    rows = add_metadata_columns(typed_rows(observed.where(kind == KIND_GOOD), layout), *metadata)
    rows.write.mode("overwrite").option("compression", "snappy").parquet(output_path)
    metrics = observation.get
    aside = json.loads(metrics["set_aside_lines"] or "[]")
    texts = {(int(x["b"]), int(x["i"])): str(x["t"]) for x in aside}
    if len(texts) > max_set_aside_lines:
        raise too_many_set_aside(len(texts), max_set_aside_lines)
    return _MainPass(
        lines_total=int(metrics["lines_total"] or 0),
        preamble_lines=int(metrics[KIND_PREAMBLE] or 0),
        blank_lines=int(metrics[KIND_BLANK] or 0),
        good_rows=int(metrics[KIND_GOOD] or 0),
        set_aside=texts,
        bad_utf8=frozenset((int(x["b"]), int(x["i"])) for x in aside if x.get("u")),
    )


def fetch_lines(spark: SparkSession, lines: DataFrame, keys: Iterable[Key]) -> dict[Key, str]:
    """Texts of the given lines (one pass over the text, no parsing)."""
    wanted = spark.createDataFrame(sorted(set(keys)), f"{LINE_BLOCK} long, {LINE_INDEX} long")
    rows = lines.join(F.broadcast(wanted), [LINE_BLOCK, LINE_INDEX], "inner").collect()
    return {(row[LINE_BLOCK], row[LINE_INDEX]): row[LINE_TEXT] for row in rows}


def block_index(lines: DataFrame) -> BlockIndex:
    """Line counts and blank lines per input split (one pass over the text, no parsing)."""
    return _split_stats(lines)[0]


def _split_stats(lines: DataFrame, delimiter: str | None = None) -> tuple[BlockIndex, list[tuple[Key, str, bool]]]:
    """:func:`block_index`; with ``delimiter``, also (key, text, opens a quoted field) of the lines that open
    a quoted field (the main pass's regular expression, the same test on the same text) or may close one (an
    odd number of quotes: most records that span lines then need no further pass for their later lines)."""
    raw = F.col(LINE_TEXT)
    # A blank line is empty, "\r", or starts with a space or a tab: the cheap test guards the trim.
    blank = F.when(
        (raw == "") | (raw == "\r") | raw.startswith(" ") | raw.startswith("\t"), _blank(_without_cr(raw))
    ).otherwise(F.lit(False))
    opens: Column = F.lit(False)
    odd: Column = F.lit(False)
    if delimiter is not None:
        line = _without_cr(raw)
        has_quote = line.contains('"')
        opens = has_quote & line.rlike(opens_quoted_field_regex(delimiter))
        odd = has_quote & ((F.octet_length(raw) - F.octet_length(F.replace(raw, F.lit('"'), F.lit("")))) % 2 == 1)
    # The lines kept are grouping keys of a plain hash aggregation (generated code, partial aggregation in each
    # task); every other line of a split falls in one group, which gives the split's line counts. A list
    # aggregate (collect_list) would be evaluated line by line without generated code.
    flagged = lines.select(LINE_BLOCK, LINE_INDEX, LINE_TEXT, blank.alias("_b"), opens.alias("_o"), odd.alias("_q"))
    kept = F.col("_b") | F.col("_o") | F.col("_q")
    stats = (
        flagged.groupBy(
            LINE_BLOCK,
            F.when(kept, F.col(LINE_INDEX)).alias("_i"),
            F.when(kept, F.col("_b")).alias("_b"),
            F.when(kept & ~F.col("_b"), F.col(LINE_TEXT)).alias("_t"),
            F.when(kept, F.col("_o")).alias("_o"),
        )
        .agg(F.min(LINE_INDEX), F.max(LINE_INDEX))
        .collect()
    )
    splits: dict[int, tuple[int, int, list[int]]] = {}
    found: list[tuple[Key, str, bool]] = []
    for block, index, is_blank_line, text, opens_quote, first, last in stats:
        low, high, blanks = splits.get(block, (first, last, []))
        splits[block] = (min(low, first), max(high, last), blanks)
        if index is None:
            continue
        if is_blank_line:
            blanks.append(index)
        else:
            found.append(((block, index), text, bool(opens_quote)))
    return BlockIndex.of((block, *stat) for block, stat in splits.items()), found


@dataclass(frozen=True)
class _Spanning:
    """Records that span lines, found before the main pass so that it parses and writes each in its place."""

    records: dict[Key, StitchedRecord]  # by first line: closed, no U+FFFD (so valid UTF-8) and no NUL
    inside: frozenset[Key]  # their later lines
    inside_blank: frozenset[Key]  # those of them that are blank (the split statistics count them as blank)
    opening: frozenset[Key]  # lines the quoting regular expression matched that start none of the records

    @property
    def keys(self) -> set[Key]:
        return {*self.records, *self.inside}

    def table(self, spark: SparkSession) -> DataFrame:
        """What :func:`classify_lines` is told (``spanning``)."""
        rows = [
            *((b, i, ROLE_FIRST, r.text) for (b, i), r in self.records.items()),
            *((b, i, ROLE_INSIDE, None) for b, i in self.inside),
            *((b, i, ROLE_OPENS, None) for b, i in self.opening),
        ]
        return spark.createDataFrame(rows, f"{LINE_BLOCK} long, {LINE_INDEX} long, {ROLE} string, {RECORD} string")


def _find_spanning_records(
    spark: SparkSession, lines: DataFrame, layout: CsvLayout, max_record_lines: int, max_lines: int
) -> tuple[BlockIndex, _Spanning | None]:
    """Before the main pass, one text pass (the split statistics the job needs anyway, plus the quoting
    regular expression moved out of the main pass) and the driver stitch the records that span lines exactly
    as after the main pass: records start only at lines that end inside a quoted field, which are the lines
    the main pass's regular expression sets aside, and they are followed through the same lines by the same
    :func:`resolve_records`. None when too many lines open a quoted field (the main pass then decides)."""
    blocks, found = _split_stats(lines, layout.delimiter)
    if len(found) > max_lines:
        return blocks, None
    texts = {key: text for key, text, _ in found}
    # The preamble (the header record) is never set aside, so no record starts in it.
    opening = [k for k, _, opens in found if opens and not (k[0] == 0 and k[1] < layout.preamble_lines)]
    resolution = _resolve(spark, lines, opening, texts, frozenset(), blocks, max_record_lines, layout.delimiter)
    # Records whose text shows U+FFFD (bytes that may not be UTF-8: only the main pass tests the bytes) or a
    # NUL are left to the main pass and the driver, as are single lines.
    records = {
        r.first_key: r
        for r in resolution.records
        if r.closed and r.line_count > 1 and "\ufffd" not in r.text and EMPTY_MARKER not in r.text
    }
    inside: set[Key] = set()
    inside_blank: set[Key] = set()
    for record in records.values():
        later = blocks.following(record.first_key, record.line_count)[1:]
        inside.update(later)
        # The record's text is its lines joined by \n (a line holds no \n).
        inside_blank.update(k for k, t in zip(later, record.text.split("\n")[1:]) if is_blank(t))
    return blocks, _Spanning(records, frozenset(inside), frozenset(inside_blank), frozenset(opening) - records.keys() - inside)


def _resolve(
    spark: SparkSession,
    lines: DataFrame,
    keys: Iterable[Key],
    known: Mapping[Key, str],
    bad_utf8: frozenset[Key],
    blocks: BlockIndex,
    max_record_lines: int,
    delimiter: str,
) -> Resolution:
    """:func:`resolve_records` for the lines ``keys`` (set aside), fetching the texts it needs beyond ``known``."""
    texts = dict(known)
    keys = sorted(keys)
    window = 16
    while True:
        resolution = resolve_records(keys, texts, blocks, max_record_lines, delimiter, bad_utf8)
        if not resolution.missing:
            return resolution
        # Lines inside a long quoted value that parsed as rows on their own: fetch a growing window after
        # each gap so a long value costs a few passes over the text, not one per line.
        texts.update(fetch_lines(spark, lines, {k for m in resolution.missing for k in blocks.following(m, window)}))
        window = min(window * 8, max_record_lines)


def _overlaps(resolution: Resolution, blocks: BlockIndex, keys: set[Key]) -> bool:
    """True when a record stitched after the main pass reaches lines of records found before it."""
    if resolution.conflicts & keys:
        return True
    return any(
        not keys.isdisjoint(blocks.following(r.first_key, r.line_count)) for r in resolution.records if r.line_count > 1
    )


def _classify_records(
    spark: SparkSession,
    records: list[StitchedRecord],
    layout: CsvLayout,
    blocks: BlockIndex,
    main: _MainPass,
    output_path: str,
    metadata: tuple[datetime, str, str],
    not_written: Iterable[Key] = (),
) -> tuple[int, list[tuple[str, str, int, int, str]]]:
    """Parses stitched records: puts the good ones in their source places among the rows the main pass
    wrote (:func:`_merge_in_source_order`), returns (written, quarantined). ``not_written``: lines the main
    pass neither wrote nor set aside and that are not blank (the later lines of records it wrote whole)."""
    width = len(layout.columns)
    quarantined: list[tuple[str, str, int, int, str]] = []
    candidates: list[tuple[int, str, int, int]] = []
    aside: dict[int, list[int]] = {}
    for block, index in sorted({*main.set_aside, *not_written}):
        aside.setdefault(block, []).append(index)
    for number, record in enumerate(records):
        line_number = blocks.line_number(record.first_key)
        refused = _refusal(record, line_number)
        if refused is not None:
            quarantined.append((*refused, line_number, record.line_count, record.text))
        else:
            split, before = blocks.rows_before(record.first_key, layout.preamble_lines, aside)
            candidates.append((number, record.text, split, before))
    if not candidates:
        return 0, quarantined
    # Parsed once and cached (these records are few): the bad ones are collected, the good ones written.
    parsed = (
        spark.createDataFrame(candidates, f"_record long, value string, {SPLIT} long, {ROWS_BEFORE} long")
        .select(
            "_record", SPLIT, ROWS_BEFORE, F.from_csv(F.col("value"), layout.ddl(), layout.parse_options).alias(PARSED)
        )
        .select("*", (F.col(f"{PARSED}.{CORRUPT_RECORD}").isNull() & ~misfit(PARSED, layout)).alias("_good"))
        .persist()
    )
    try:
        outcome = parsed.select("_record", "_good", PARSED).collect()
        good_count = sum(1 for row in outcome if row["_good"])
        for row in outcome:
            if row["_good"]:
                continue
            record = records[row["_record"]]
            reason, detail = _reason(record.text, row[PARSED], layout, width)
            quarantined.append((reason, detail, blocks.line_number(record.first_key), record.line_count, record.text))
        if good_count:
            if len(records) >= 1 << 20:  # the sort key's room for record numbers (_merge_in_source_order)
                raise CsvProcessingError(f"{len(records)} set-aside records, over 2^20; lower max_set_aside_lines")
            places = (SPLIT, ROWS_BEFORE, "_record")
            rows = add_metadata_columns(typed_rows(parsed.where("_good"), layout, keep=places), *metadata)
            splits = {row[SPLIT] for row in parsed.where("_good").select(SPLIT).distinct().collect()}
            _merge_in_source_order(spark, output_path, rows, splits, len(blocks.starts))
    finally:
        parsed.unpersist()
    return good_count, quarantined


def _merge_in_source_order(
    spark: SparkSession, output_path: str, stitched: DataFrame, record_splits: set[int], splits: int
) -> None:
    """Rewrites the main pass's files that need it with the stitched records' rows in their source places.

    The main pass wrote one Parquet file per input split (``part-<split>-…``, the split's rows in line order),
    before the records that span lines were known. The file of each split that has such records is read back
    with its row numbers, the split's records go before the row that followed them in the source
    (``stitched``: the rows, with their split and the number of the split's rows before them), and it is
    written again under a name with the same split number, so the dataset still reads in split order. Only
    those splits pay (a Parquet read and write, no CSV parsing); other files are left as written.
    """
    out = output_path.rstrip("/")
    files = _part_files(spark, out)
    if any(split >= splits for split in files):
        raise ReconciliationError(f"{sorted(files)} Parquet files for {splits} input splits: the row order is unknown")
    columns = [c for c in stitched.columns if c not in (SPLIT, ROWS_BEFORE, "_record")]
    affected = sorted(record_splits)
    pieces: list[DataFrame] = []
    for split in affected:
        # One long sort key (Spark radix-sorts it): row r of the file at (2r+1) << 20, a record before that
        # row at (2r) << 20 plus its number (records sharing a gap keep their order; there are fewer than
        # 2^20, max_set_aside_lines).
        piece = stitched.where(F.col(SPLIT) == split).select(
            *columns, (F.shiftleft(F.col(ROWS_BEFORE) * 2, 20) + F.col("_record")).alias(SOURCE_ORDER)
        )
        if split in files:
            written = spark.read.parquet(literal_path(files[split])).select(
                *columns, F.shiftleft(F.col("_metadata.row_index") * 2 + 1, 20).alias(SOURCE_ORDER)
            )
            piece = written.unionByName(piece)
        # One partition per split: a union keeps its inputs' partitions in order, so file j is split affected[j].
        pieces.append(piece.coalesce(1).sortWithinPartitions(SOURCE_ORDER).drop(SOURCE_ORDER))
    merged = pieces[0]
    for piece in pieces[1:]:
        merged = merged.union(piece)
    staging = f"{out}/{IN_SOURCE_ORDER_DIR}"
    merged.write.mode("overwrite").option("compression", "snappy").parquet(staging)
    rewritten = _part_files(spark, staging)
    if sorted(rewritten) != list(range(len(affected))):  # every piece holds a record, so each wrote one file
        raise ReconciliationError(f"{len(rewritten)} files rewritten for {len(affected)} input splits")
    for split in affected:
        if split in files:
            delete_path(spark, files[split])
    for j, split in enumerate(affected):
        rest = rewritten[j].rsplit("/", 1)[1].split("-", 2)[2]  # part-<j>-<rest>: the write's id, c000, …
        rename_path(spark, rewritten[j], f"{out}/part-{split:05d}-{rest}")
    delete_path(spark, staging)


def _names(spark: SparkSession, directory: str) -> list[str]:
    path, fs = _path_and_fs(spark, directory)
    return sorted(str(status.getPath().getName()) for status in fs.listStatus(path))


def _part_files(spark: SparkSession, directory: str) -> dict[int, str]:
    """The Parquet files a write left in ``directory``, by partition number (Spark's ``part-<n>-…`` names)."""
    return {
        int(name.split("-")[1]): f"{directory.rstrip('/')}/{name}"
        for name in _names(spark, directory)
        if name.startswith("part-") and name.endswith(".parquet")
    }


def _refusal(record: StitchedRecord, line_number: int) -> tuple[str, str] | None:
    """Why a record is quarantined before it is parsed, or None."""
    return refusal(record.closed, record.bad_utf8, record.text, line_number)


def _reason(text: str, strings: T.Row, layout: CsvLayout, width: int) -> tuple[str, str]:
    values = [_as_text(strings[i]) for i in range(width)]
    return record_reason(text, values, layout.columns, layout.column_types, layout.delimiter, "Spark's CSV parser")


def convert_csv(
    spark: SparkSession,
    input_path: str,
    output_path: str,
    quarantine_path: str,
    source_file: str,
    processing_job: str,
    processed_at: datetime,
    options: CsvOptions = CsvOptions(),
) -> CsvConversion:
    """Converts one CSV file to Snappy Parquet under ``output_path`` (replacing what is there) and writes
    its malformed records as JSON Lines under ``quarantine_path`` (removed when there are none)."""
    input_size = file_size_bytes(spark, input_path)
    metadata = (processed_at, source_file, processing_job)
    delimiter = checked_delimiter(options.delimiter)
    layout = (
        infer_layout(
            spark, input_path, options.sample_lines, options.max_record_lines, options.infer_types, delimiter,
            options.encoding,
        )
        if input_size
        else None
    )
    if layout is None:
        # Nothing to convert; clear earlier outputs so that a replay leaves the same state as a first run.
        delete_path(spark, output_path)
        delete_path(spark, quarantine_path)
        return CsvConversion("EMPTY_FILE", 0, 0, 0, input_size, 0, 0, (), (), 0, 0, 0, 0, {})

    lines = read_lines(spark, input_path, options.encoding)
    # Records that span lines, when the head shows the file has them, are found before the main pass so that
    # it writes them in place; otherwise (or when that fails) they are put in place after it, rewriting the
    # files of the splits that hold them (_merge_in_source_order, docs/benchmarks.md for the costs).
    blocks: BlockIndex | None = None
    spanning: _Spanning | None = None
    if layout.spanning_records:
        blocks, spanning = _find_spanning_records(
            spark, lines, layout, options.max_record_lines, options.max_set_aside_lines
        )
    forced: set[Key] = set()
    passes = redone = 0
    while True:
        passes += 1
        main = _run_main_pass(
            spark, lines, layout, forced, output_path, metadata, options.max_set_aside_lines,
            spanning.table(spark) if spanning else None,
        )
        # Records found before the pass that it set aside (not parsed clean, a value that does not fit): the
        # driver quarantines them with their reason, as any other record.
        refused = [r for k, r in spanning.records.items() if k in main.set_aside] if spanning else []
        if not main.set_aside:
            resolution = Resolution()
            break
        if blocks is None:
            blocks = block_index(lines)
        keys = main.set_aside.keys() - {r.first_key for r in refused}
        resolution = _resolve(
            spark, lines, keys, main.set_aside, main.bad_utf8, blocks, options.max_record_lines, delimiter
        )
        if spanning and _overlaps(resolution, blocks, spanning.keys):
            # Not expected (both passes stitch by the same rules from the same lines), but never guessed at:
            # the main pass is redone the way it works without records found before it.
            LOG.warning("records found before the main pass overlap records found after it; redoing it without them")
            spanning, forced, redone = None, set(), redone + 1
            continue
        if not resolution.conflicts:
            break
        if passes - redone >= 3:
            raise ReconciliationError(f"lines {sorted(resolution.conflicts)[:5]} still conflict after {passes} passes")
        LOG.info("redoing the main pass: %d lines inside quoted values parsed as rows", len(resolution.conflicts))
        forced |= resolution.conflicts

    records = sorted([*resolution.records, *refused], key=lambda r: r.first_key)
    written_whole = len(spanning.records) - len(refused) if spanning else 0
    # Every physical line has exactly one kind, and every set-aside line now belongs to exactly one record:
    # rows_in is derived from line counts, independently of what was written. The later lines of records
    # found before the main pass are counted from those records, not from what the pass saw.
    inside = sum(r.line_count - 1 for r in spanning.records.values()) if spanning else 0
    classified_lines = main.preamble_lines + main.blank_lines + main.good_rows + len(main.set_aside) + inside
    if classified_lines != main.lines_total:
        raise ReconciliationError(f"{main.lines_total} lines read but {classified_lines} classified")
    covered = sum(r.line_count for r in records)
    if covered != len(main.set_aside) + resolution.blank_lines_inside + sum(r.line_count - 1 for r in refused):
        raise ReconciliationError(
            f"{len(main.set_aside)} set-aside lines and {resolution.blank_lines_inside} blank lines inside quoted "
            f"values were grouped into records covering {covered} lines"
        )
    extra_written, quarantined = _classify_records(
        spark, records, layout, blocks or BlockIndex((0,), (0,), (0,)), main, output_path, metadata,
        spanning.inside - spanning.inside_blank if spanning else (),
    )
    _write_quarantine(spark, quarantine_path, quarantined, source_file, processing_job, processed_at)

    rows_in = main.good_rows + len(records)
    rows_written = spark.read.parquet(output_path).count()  # from the files, not from what we meant to write
    rows_quarantined = len(quarantined)
    expected_written = main.good_rows + extra_written
    check_reconciled(rows_in, rows_written, expected_written, rows_quarantined)
    reasons = reason_counts(quarantined)
    return CsvConversion(
        outcome="PROCESSED" if rows_in else "HEADER_ONLY",
        rows_in=rows_in,
        rows_written=rows_written,
        rows_quarantined=rows_quarantined,
        input_size_bytes=input_size,
        output_size_bytes=path_size_bytes(spark, output_path),
        quarantine_size_bytes=path_size_bytes(spark, quarantine_path),
        columns=layout.columns,
        column_types=tuple(t.ddl for t in layout.column_types),
        header_lines=main.preamble_lines,
        blank_lines=main.blank_lines - resolution.blank_lines_inside,
        multiline_records=sum(1 for r in records if r.line_count > 1) + written_whole,
        main_passes=passes,
        quarantine_reasons=reasons,
    )


def _write_quarantine(
    spark: SparkSession,
    quarantine_path: str,
    quarantined: list[tuple[str, str, int, int, str]],
    source_file: str,
    processing_job: str,
    processed_at: datetime,
) -> None:
    if not quarantined:
        delete_path(spark, quarantine_path)
        return
    stamp = processed_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    rows = [(*q, source_file, processing_job, stamp) for q in sorted(quarantined, key=lambda q: q[2])]
    (
        spark.createDataFrame(rows, QUARANTINE_SCHEMA)
        .coalesce(1)
        .write.mode("overwrite")
        .option("compression", "none")
        .json(quarantine_path)
    )
