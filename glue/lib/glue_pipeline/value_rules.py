"""The value rules: which type a column of CSV text gets, and when a value fits it without loss.

One definition for every place the project turns text into typed values (FileProcessorV2's CSV -> Parquet
path today; ParquetToJson, the claims flow and the medallion ingest are to use the same functions). The
rules, documented for users in docs/value-rules.md and asserted by glue/tests/test_value_rules.py and
the differential oracle in glue/tests/test_fidelity.py:

* **A type is chosen only if every sampled value round-trips**: read back from Parquet and rendered
  canonically, it gives the source text again (decimals: the same number, see below). Otherwise the column
  is a string column, which holds any text unchanged.
* **Missing versus empty.** An unquoted empty field (``a,,b``) is a *missing* value and becomes null in
  any column. A quoted empty field (``a,"",b``) is an *empty string*: it is kept as ``""`` in a string
  column; it is not a number, date or boolean, so a sampled ``""`` makes its column a string column and a
  later ``""`` in a typed column quarantines its row (``type_mismatch``).
* Types, tried in this order (the first whose pattern every present sampled value matches wins):

  ==================  =========================================================================
  ``int``             ``0`` or ``-?[1-9][0-9]*`` within -2^31 .. 2^31-1 (no ``+``, no leading zero:
                      ``08123`` is an identifier and stays a string; ``-0`` stays a string)
  ``bigint``          the same within int64
  ``decimal(38,0)``   the same with up to 38 digits (beyond int64, exact); more digits: string
  ``decimal(p,s)``    ``-?(0|[1-9][0-9]*)\\.[0-9]+``: s = the largest number of fraction digits
                      sampled, p = 18 when the integer digits plus s fit in 18 (Spark's fast
                      decimal), else 38; more than 38 digits: string. Exact: the value read back
                      is the same number, padded with trailing zeros to the column's scale
                      (``12.5`` in decimal(18,2) reads back ``12.50``).
  ``boolean``         ``true`` or ``false`` exactly (lower case)
  ``date``            ``yyyy-MM-dd`` and a real calendar day (``2024-02-30`` is not), year >= 1
  ``timestamp``       ``yyyy-MM-dd HH:mm:ss`` and a real instant, read as UTC wall-clock time
                      (the job's session time zone); fractions of a second or zones: string
  ``string``          anything else
  ==================  =========================================================================

  ``double`` is never inferred: a binary float cannot give back ``0.1`` or ``1e400`` as written, and
  exponent notation (``1e5``) stays a string.
* **A later value** (after the sample) that does not fit its column's type is never coerced and never
  fails the job: its row is quarantined with reason ``type_mismatch``. The same rules run in Python
  (:meth:`ColumnType.accepts`) and inside Spark, as these patterns (:attr:`ColumnType.java_pattern`) or, for
  numbers, the equivalent and cheaper comparison of the cast value formatted back with the text
  (``csv_processing.fits``; glue/tests/test_csv_value_checks.py holds them equal).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Context, Decimal

INT32_RANGE = (-(2**31), 2**31 - 1)
INT64_RANGE = (-(2**63), 2**63 - 1)
MAX_DECIMAL_DIGITS = 38
FAST_DECIMAL_DIGITS = 18  # Spark keeps decimals of precision <= 18 in a long (no BigDecimal per value)

_INTEGER = re.compile(r"(0|-?[1-9][0-9]*)")
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)\.([0-9]+)")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+|0|-?[1-9][0-9]*")  # _DECIMAL or _INTEGER
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
# The end of the text, in Java and Python alike. Not "$": both let it match before a final line break (Java
# also before U+0085/U+2028), so "5\n" would pass as 5 (Spark's cast trims the break) and lose it.
_END = r"(?![\s\S])"


@dataclass(frozen=True)
class ColumnType:
    """One inferred column type: its Spark DDL name and the exact text it accepts."""

    ddl: str  # int, bigint, decimal(p,s), boolean, date, timestamp, string
    precision: int = 0
    scale: int = 0

    @property
    def kind(self) -> str:
        return "decimal" if self.ddl.startswith("decimal") else self.ddl

    @property
    def java_pattern(self) -> str | None:
        """A Java regular expression (for Spark's ``rlike``) every accepted text matches; None for strings.

        Range and calendar checks are not in the pattern: Spark's ``cast`` returns null for an out-of-range
        number or an impossible date, and the job treats a null cast of a present value as a mismatch.
        """
        if self.kind in ("int", "bigint"):
            return r"^(0|-?[1-9][0-9]{0,18})" + _END
        if self.kind == "decimal" and self.scale == 0:
            return rf"^(0|-?[1-9][0-9]{{0,{self.precision - 1}}})" + _END
        if self.kind == "decimal":
            # Whole numbers too: a column of 5 and 1.25 is decimal(18,2).
            whole = f"[1-9][0-9]{{0,{max(self.precision - self.scale - 1, 0)}}}"
            return rf"^(0|-?{whole}|-?(0|{whole})\.[0-9]{{1,{self.scale}}})" + _END
        if self.kind == "boolean":
            return r"^(true|false)" + _END
        if self.kind == "date":
            return r"^(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}" + _END
        if self.kind == "timestamp":
            return r"^(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}" + _END
        return None

    def accepts(self, text: str | None) -> bool:
        """True when ``text`` (None = missing) is stored by this type without loss."""
        if text is None or self.kind == "string":
            return True
        return _fits(self, text)

    def to_python(self, text: str | None) -> object:
        """The value a Parquet reader returns for ``text`` (int, Decimal, bool, date, datetime, str, None).

        Raises ValueError when the type does not accept the text.
        """
        if text is None:
            return None
        if not self.accepts(text):
            raise ValueError(f"{text!r} is not {self.ddl}")
        if self.kind in ("int", "bigint"):
            return int(text)
        if self.kind == "decimal":
            return Decimal(text).quantize(Decimal(1).scaleb(-self.scale), context=Context(prec=MAX_DECIMAL_DIGITS + 1))
        if self.kind == "boolean":
            return text == "true"
        if self.kind == "date":
            return date.fromisoformat(text)
        if self.kind == "timestamp":
            return datetime.strptime(text, TIMESTAMP_FORMAT)
        return text


STRING = ColumnType("string")
INT = ColumnType("int")
BIGINT = ColumnType("bigint")
BOOLEAN = ColumnType("boolean")
DATE = ColumnType("date")
TIMESTAMP = ColumnType("timestamp")


def decimal_type(precision: int, scale: int) -> ColumnType:
    return ColumnType(f"decimal({precision},{scale})", precision, scale)


def from_ddl(ddl: str) -> ColumnType:
    """The ColumnType for a DDL name this module produces (``decimal(18,2)``, ``int``, ...)."""
    match = re.fullmatch(r"decimal\((\d+),(\d+)\)", ddl)
    if match:
        return decimal_type(int(match.group(1)), int(match.group(2)))
    known = {t.ddl: t for t in (STRING, INT, BIGINT, BOOLEAN, DATE, TIMESTAMP)}
    if ddl not in known:
        raise ValueError(f"unknown column type {ddl!r}")
    return known[ddl]


def _fits(column: ColumnType, text: str) -> bool:
    kind = column.kind
    if kind in ("int", "bigint") or (kind == "decimal" and column.scale == 0):
        if not _INTEGER.fullmatch(text):
            return False
        low, high = INT32_RANGE if kind == "int" else INT64_RANGE if kind == "bigint" else (None, None)
        if low is not None:
            return low <= int(text) <= high
        return len(text.lstrip("-")) <= column.precision
    if kind == "decimal":
        match = _DECIMAL.fullmatch(text) or _INTEGER.fullmatch(text)
        if not match:
            return False
        whole = match.group(1).lstrip("-")
        fraction = match.group(2) if match.re is _DECIMAL else ""
        whole_digits = 0 if whole == "0" else len(whole)
        return len(fraction) <= column.scale and whole_digits <= column.precision - column.scale
    if kind == "boolean":
        return text in ("true", "false")
    if kind == "date":
        if not _DATE.fullmatch(text):
            return False
        try:
            return date.fromisoformat(text).year >= 1
        except ValueError:
            return False
    if kind == "timestamp":
        if not _TIMESTAMP.fullmatch(text):
            return False
        try:
            # The pattern fixed the shape; fromisoformat checks the calendar and clock as strptime does, ~10x
            # faster (it runs on every sampled value of the head, in both engines).
            datetime.fromisoformat(text)
        except ValueError:
            return False
        return True
    return False


def _integer_type(texts: list[str]) -> ColumnType | None:
    if not all(map(_INTEGER.fullmatch, texts)):
        return None
    if max(map(len, texts)) <= 9:  # at most 9 digits: int32 without converting a value
        return INT
    values = [int(t) for t in texts]
    if all(INT32_RANGE[0] <= v <= INT32_RANGE[1] for v in values):
        return INT
    if all(INT64_RANGE[0] <= v <= INT64_RANGE[1] for v in values):
        return BIGINT
    if all(len(t.lstrip("-")) <= MAX_DECIMAL_DIGITS for t in texts):
        return decimal_type(MAX_DECIMAL_DIGITS, 0)
    return None


def _decimal_type(texts: list[str]) -> ColumnType | None:
    if not all(map(_NUMBER.fullmatch, texts)):
        return None
    whole_digits = 0
    scale = 0
    for text in texts:
        whole, _, fraction = text.lstrip("-").partition(".")
        whole_digits = max(whole_digits, 0 if whole == "0" else len(whole))
        scale = max(scale, len(fraction))
    if scale == 0 or whole_digits + scale > MAX_DECIMAL_DIGITS:
        return None
    precision = FAST_DECIMAL_DIGITS if whole_digits + scale <= FAST_DECIMAL_DIGITS else MAX_DECIMAL_DIGITS
    return decimal_type(precision, scale)


def _all_fit(column: ColumnType, texts: list[str]) -> bool:
    """``all(_fits(column, t) for t in texts)`` for the fixed types, in C loops (it runs on every distinct
    sampled value of the head, in both engines)."""
    if column.kind == "boolean":
        return all(t in ("true", "false") for t in texts)
    shape, parse = (_DATE, date.fromisoformat) if column.kind == "date" else (_TIMESTAMP, datetime.fromisoformat)
    if not all(map(shape.fullmatch, texts)):
        return False
    try:  # the shape is fixed; fromisoformat checks the calendar and clock (year 0 raises: dates start at 1)
        for _ in map(parse, texts):
            pass
    except ValueError:
        return False
    return True


def infer_type(values: Iterable[str | None]) -> ColumnType:
    """The column type for sampled values (None = missing); STRING when no other type keeps every value."""
    # Each rule holds for every value or not, so each distinct value is checked once.
    texts = list({v for v in values if v is not None})
    if not texts:
        return STRING
    # The types in the documented order; each is tried only when the ones before it did not fit.
    found = _integer_type(texts) or _decimal_type(texts)
    if found is not None:
        return found
    for fixed in (BOOLEAN, DATE, TIMESTAMP):
        if _all_fit(fixed, texts):
            return fixed
    return STRING


def infer_types(rows: Iterable[tuple[str | None, ...]], width: int) -> list[ColumnType]:
    """Column types for sampled rows of ``width`` fields each (rows of another width are ignored)."""
    columns = list(zip(*(row for row in rows if len(row) == width))) or [()] * width
    return [infer_type(values) for values in columns]
