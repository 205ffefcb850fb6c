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
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass, field
from typing import Any

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
