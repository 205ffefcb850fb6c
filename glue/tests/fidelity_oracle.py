"""The differential oracle for FileProcessorV2's value rules: what a CSV file must become, worked out
independently of Spark with Python's csv module and glue_pipeline.value_rules.

For each record (Python's csv module, ``newline=""`` so a ``\\r\\n`` inside quotes stays in the value) the
oracle decides, under the documented rules (docs/value-rules.md):

* ``invalid_utf8`` when the record's bytes are not UTF-8 (UTF-8 flows), ``nul_character`` when it holds U+0000;
* ``too_few_fields`` / ``too_many_fields`` against the header's width;
* ``type_mismatch`` when a value is not accepted by its column's type; the types are inferred from the records
  that lie within the first ``sample_lines`` lines, as the job does;
* otherwise the row, each value converted as a Parquet reader returns it (unquoted empty -> None, quoted
  empty -> "").

Python's csv module (3.11) returns "" for both an unquoted and a quoted empty field; :func:`quoted_empties`
tells them apart and is checked against the csv module's own split.

The inputs live here too, shared by the oracle's test (test_fidelity.py) and the engines' parity test
(test_fast_parity.py): :data:`CORPUS`, one file per class of the data-fidelity issue, and :func:`csv_files`,
Hypothesis' random CSVs.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from glue_pipeline.value_rules import ColumnType, infer_types

csv.field_size_limit(sys.maxsize)


@dataclass
class Expected:
    column_types: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    quarantined: list[tuple[str, int]] = field(default_factory=list)  # (reason, first line number)


def quoted_empties(record: str, delimiter: str) -> list[bool]:
    """For each field of one record: True when it is exactly ``""`` (a quoted empty value)."""
    result: list[bool] = []
    position = 0
    while True:
        if record.startswith('""', position) and (
            position + 2 == len(record) or record[position + 2] == delimiter
        ):
            result.append(True)
            position += 2
        else:
            result.append(False)
            quoted = record.startswith('"', position)
            position += 1 if quoted else 0
            while position < len(record):
                char = record[position]
                if quoted and char == '"':
                    if record.startswith('""', position):
                        position += 2
                        continue
                    quoted = False
                    position += 1
                    continue
                if not quoted and char == delimiter:
                    break
                position += 1
        if position >= len(record):
            return result
        position += 1  # the delimiter


def _records(text: str, delimiter: str) -> list[tuple[int, int, list[str], str]]:
    """(first line, last line, fields, raw text) per non-blank record, lines numbered from 1."""
    raw_lines = text.split("\n")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = []
    previous = 0
    for row in reader:
        first, last = previous + 1, reader.line_num
        previous = last
        if not row or (len(row) == 1 and row[0].strip(" \t") == "" and '"' not in raw_lines[first - 1]):
            continue  # a blank line (Spark's reader skips them too)
        raw = "\n".join(raw_lines[first - 1 : last]).removesuffix("\r")
        records.append((first, last, row, raw))
    return records


def expect(data: bytes, sample_lines: int, delimiter: str = ",", encoding: str = "utf-8") -> Expected:
    text = data.decode("latin-1") if encoding == "latin-1" else data.decode("utf-8", errors="surrogateescape")
    text = text.removeprefix("\ufeff")
    records = _records(text, delimiter)
    if not records:
        return Expected()
    (_, header_end, header, _), body = records[0], records[1:]
    width = len(header)

    def cells(row: list[str], raw: str) -> tuple[str | None, ...]:
        empties = quoted_empties(raw, delimiter)
        assert len(empties) == len(row), (raw, row, empties)  # the helper splits as the csv module does
        return tuple("" if quoted else (value if value != "" else None) for value, quoted in zip(row, empties))

    def bad_bytes(raw: str) -> bool:
        return any("\udc80" <= c <= "\udcff" for c in raw)

    sample = [
        cells(row, raw)
        for first, last, row, raw in body
        if last <= sample_lines and len(row) == width and not bad_bytes(raw) and "\x00" not in raw
    ]
    types: list[ColumnType] = infer_types(sample, width)
    expected = Expected(column_types=[t.ddl for t in types])
    for first, _, row, raw in body:
        if bad_bytes(raw):
            expected.quarantined.append(("invalid_utf8", first))
        elif "\x00" in raw:
            expected.quarantined.append(("nul_character", first))
        elif len(row) != width:
            expected.quarantined.append(("too_few_fields" if len(row) < width else "too_many_fields", first))
        else:
            values = cells(row, raw)
            if all(t.accepts(v) for t, v in zip(types, values)):
                expected.rows.append(tuple(t.to_python(v) for t, v in zip(types, values)))
            else:
                expected.quarantined.append(("type_mismatch", first))
    return expected


# ------------------------------------------------------------------------------------------- the corpus
# One file per class of the issue. Bytes, so encodings and line ends are exactly what is written.
CORPUS: dict[str, tuple[bytes, dict[str, Any]]] = {
    "leading_zeros": (b"zip,n\n08123,1\n10115,2\n", {}),
    "int_boundaries": (
        b"i32,i64,d38,too_long\n"
        b"2147483647,9223372036854775807,99999999999999999999999999999999999999,9999999999999999999999999999999999999999\n"
        b"-2147483648,-9223372036854775808,-12345678901234567890123456789,1\n",
        {},
    ),
    "exponent_and_precision": (
        b"e,p,exact,money\n"
        b"1e400,0.1234567890123456789012,0.12345678901234567890123,12.5\n"
        b"1.5e3,3.1415926535897932384626433832795028841971,1.5,0.25\n",
        {},
    ),
    "dates": (b"d,ts\n2024-02-29,2024-03-31 02:30:00\n2023-12-31,2024-01-01 23:59:59\n", {}),
    # Before the Gregorian switch and before 1900: Spark's default refused to write these (the whole run failed).
    "ancient_dates": (b"d,ts\n0001-01-01,1000-06-15 12:00:00\n1582-10-04,1582-10-15 00:00:00\n1899-12-31,1899-12-31 23:59:59\n", {}),
    # After a 3-line sample the column types are fixed; later misfits are quarantined, not failures.
    "late_misfits": (
        b"id,day,amount,flag,name\n"
        b"1,2024-01-01,1.50,true,a\n"
        b"2,2024-01-02,2.25,false,b\n"
        b"3,2024-02-30,3.00,true,c\n"  # not a calendar day (Spark used to fail the job here)
        b"08,2024-01-03,4.00,true,d\n"  # leading zero in an int column
        b"5,2024-01-04,4.125,true,e\n"  # more fraction digits than the column keeps
        b"6,2024-01-05,4.00,TRUE,f\n"
        b"99999999999,2024-01-06,1.00,false,g\n"  # beyond int
        b'7,2024-01-07,"",false,h\n'  # quoted empty: not a number
        b"8,,,,\n",  # missing values: nulls
        {"sample_lines": 3},
    ),
    # A line break inside a quoted number or date: Spark's cast trims it, and Java's "$" matches before it.
    "typed_values_with_line_breaks": (
        b'n,d,x\n1,2024-01-01,1.5\n2,2024-01-02,2.5\n"3\n",2024-01-03,3.5\n4,"2024-01-04\r\n",4.5\n5,2024-01-05,"5.5\n"\n6,2024-01-06,6.5\n',
        {"sample_lines": 3},
    ),
    "empty_versus_missing": (b'a,b,c\n"",,x\n,"",""\n"","",\n', {}),
    "crlf_and_quoted_newlines": (
        b'id,note\r\n1,"line one\r\nline two"\r\n2,"lf only\nhere"\r\n3,plain\r\n4,"a\r\n\r\nb"\r\n',
        {},
    ),
    # Records spanning lines are found after the parallel pass; they must still land in their source places.
    "source_order": (
        b'id,note\n1,"first\nrecord"\n2,one line\n3,"middle\r\nCRLF"\r\n4,"adjacent\nto it"\n5,one line\n'
        b'6,too,many\n7,"last\n\nrecord"\n',
        {},
    ),
    "utf8_bom_and_unicode": ("\ufeffname,v\nZoë Müller,1\n李雷,2\n😀 ≈ ok,3\n".encode(), {}),
    "invalid_utf8_rows": (b"name,v\nok,1\nbad \xff byte,2\ncut \xe2\x82,3\nfine,4\n", {}),
    "latin1_flow": ("name,city\nJosé,Málaga\nSøren,Århus\n".encode("latin-1"), {"encoding": "latin-1"}),
    "semicolon_flow": (b"a;b;c\n1;x,y;2024-01-01\n2;\"q;r\";2024-01-02\n", {"delimiter": ";"}),
    "tab_flow": (b"a\tb\n1\thello, world\n2\t\"tab\tinside\"\n", {"delimiter": "\t"}),
    "ragged": (b"a,b\n1,2\n3\n4,5,6\n7,8\n", {}),
    "nul_character": (b"a,b\n1,x\x00y\n2,z\n", {}),
    "huge_field_and_header": (
        b"h" + b"x" * 200_000 + b",v\n" + b'"' + b"y" * 300_000 + b'",1\n',
        {},
    ),
}


# ----------------------------------------------------------------------------------- property-based

_PROFILE_COMMON: dict[str, Any] = {
    "deadline": None,  # a Spark job per example: seconds, and slower on a loaded machine
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("bounded", max_examples=10, derandomize=True, database=None, **_PROFILE_COMMON)
settings.register_profile("long", max_examples=300, **_PROFILE_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "bounded")

_INTS = st.sampled_from(
    ["0", "-1", "7", "2147483647", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
     "9" * 38, "9" * 39, "007", "-0", "+3", "1e400"]
) | st.integers(-(10**20), 10**20).map(str)
_DECIMALS = st.sampled_from(["0.1", "12.50", "-3.125", "1.", ".5", "0." + "3" * 25, "1e-5"]) | st.decimals(
    allow_nan=False, allow_infinity=False, places=3, min_value=-(10**6), max_value=10**6
).map(str)
_DATES = st.sampled_from(["2024-02-29", "2023-02-29", "2024-02-30", "2024-13-01", "0000-01-01", "2024-1-1"]) | st.dates().map(
    str
)
_TIMESTAMPS = st.sampled_from(["2024-03-31 02:30:00", "2024-01-01 24:00:00", "2024-01-01 00:00:00.5"]) | st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)
).map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S"))
_BOOLS = st.sampled_from(["true", "false", "TRUE"])
# Pieces, not characters: "\r\n" must stay one unit, and a lone "\r" is not a line end the job knows.
_TEXT = st.lists(st.sampled_from(list('ab ,"é李😀\u200f\t') + ["\n", "\r\n", "''"]), max_size=8).map("".join)
_KINDS = [_INTS, _DECIMALS, _DATES, _TIMESTAMPS, _BOOLS, _TEXT]


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, int]:
    width = draw(st.integers(1, 4))
    kinds = [draw(st.sampled_from(_KINDS)) for _ in range(width)]
    # Mostly one kind per column, sometimes another kind's value: late values that do not fit.
    cell = st.one_of(*[k for k in kinds]) if width else st.just("")
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        row = []
        for index in range(width):
            choice = draw(st.integers(0, 9))
            if choice == 0:
                row.append(None)  # missing
            elif choice == 1:
                row.append("")  # quoted empty
            else:
                row.append(draw(kinds[index] if choice > 2 else cell))
        if draw(st.integers(0, 15)) == 0:
            row = row + ["extra"] if draw(st.booleans()) else row[:-1]  # ragged
        rows.append(row)
    line_end = draw(st.sampled_from(["\n", "\r\n"]))

    def render(value: str | None) -> str:
        if value is None:
            return ""
        needs = value == "" or value.strip(" \t") == "" or any(c in value for c in ',"\r\n') or value[0] in " \t"
        if needs or draw(st.integers(0, 4)) == 0:
            return '"' + value.replace('"', '""') + '"'
        return value

    header = ",".join(f"c{i}" for i in range(width))
    body = "".join(",".join(render(v) for v in row) + line_end for row in rows)
    return (header + line_end + body).encode("utf-8"), draw(st.integers(2, 14))
