"""Data fidelity of FileProcessorV2: what lands in Parquet is what was uploaded, or the row is quarantined
with a reason. Every file goes through convert_csv (the function the Glue job calls) on local Spark and is
compared value by value, read back with pyarrow, against the oracle in fidelity_oracle.py (Python's csv
module under the documented value rules), and its quarantine lines against the oracle's reasons.

Property-based part: Hypothesis writes random CSVs (quoting, embedded LF and CRLF, unicode, empty and missing
values, numbers at every type boundary, dates valid and not, ragged rows) with a small sample so that late
values meet an already inferred type. Two Hypothesis profiles: ``bounded`` (the default, 10 examples, the
same every run, fast enough for ``npm test``) and ``long`` (300 random examples, a new draw each run)::

    HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest glue/tests/test_fidelity.py -q -k random
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import SparkSession

from fidelity_oracle import Expected, expect, quoted_empties
from glue_pipeline.csv_processing import CsvOptions, CsvProcessingError, convert_csv

PROCESSED_AT = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=timezone.utc)
METADATA = ("processed_at", "source_file", "processing_job")

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


def run(spark: SparkSession, tmp_path: Path, name: str, data: bytes, **options: Any):
    source = tmp_path / f"{name}.csv"
    source.write_bytes(data)
    out = tmp_path / "out"
    result = convert_csv(
        spark,
        input_path=str(source),
        output_path=str(out / "data"),
        quarantine_path=str(out / "quarantine"),
        source_file=f"incoming/{name}.csv",
        processing_job="FileProcessorV2-fidelity",
        processed_at=PROCESSED_AT,
        options=CsvOptions(**options),
    )
    return result, out


def parquet_rows(out: Path) -> list[tuple[Any, ...]]:
    """The rows in dataset order: the part files in name order (as Spark names them, by partition), each
    file's rows in order."""
    if not (out / "data").exists():
        return []
    rows = []
    for part in sorted((out / "data").glob("part-*.parquet")):
        rows += _values(pq.read_table(part))
    return rows


def _values(table: Any) -> list[tuple[Any, ...]]:
    data = [c for c in table.column_names if c not in METADATA]
    rows = []
    for row in table.select(data).to_pylist():
        values = []
        for value in row.values():
            if isinstance(value, datetime):
                value = value.replace(tzinfo=None)  # stored as UTC instants; the type reads wall-clock UTC
            values.append(value)
        rows.append(tuple(values))
    return rows


def quarantine_lines(out: Path) -> list[dict[str, Any]]:
    folder = out / "quarantine"
    if not folder.exists():
        return []
    return [json.loads(line) for part in sorted(folder.glob("part-*.json")) for line in part.read_text("utf-8").splitlines()]


def assert_matches_oracle(spark: SparkSession, tmp_path: Path, name: str, data: bytes, **options: Any) -> Expected:
    sample_lines = options.get("sample_lines", CsvOptions.sample_lines)
    expected = expect(data, sample_lines, options.get("delimiter", ","), options.get("encoding", "utf-8"))
    result, out = run(spark, tmp_path, name, data, **options)

    written = parquet_rows(out)
    quarantined = quarantine_lines(out)
    assert list(result.column_types) == expected.column_types, name
    assert written == expected.rows, name  # value by value, and in source order
    assert [(q["quarantine_reason"], q["line_number"]) for q in quarantined] == expected.quarantined, name
    assert result.rows_in == result.rows_written + result.rows_quarantined == len(expected.rows) + len(expected.quarantined)
    assert result.rows_written == len(written) and result.rows_quarantined == len(quarantined)
    return expected


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_matches_the_oracle_value_by_value(spark: SparkSession, tmp_path: Path, name: str) -> None:
    data, options = CORPUS[name]
    assert_matches_oracle(spark, tmp_path, name, data, **options)


def test_what_the_corpus_classes_become(spark: SparkSession, tmp_path: Path) -> None:
    """The oracle could share a mistake with the job; these are the issue's cases spelled out."""
    types = expect(*[CORPUS["int_boundaries"][0], 20_000]).column_types
    assert types == ["int", "bigint", "decimal(38,0)", "string"]
    assert expect(CORPUS["leading_zeros"][0], 20_000).rows == [("08123", 1), ("10115", 2)]
    exp = expect(CORPUS["exponent_and_precision"][0], 20_000)
    assert exp.column_types == ["string", "string", "decimal(38,23)", "decimal(18,2)"]
    assert exp.rows[0][:3] == ("1e400", "0.1234567890123456789012", Decimal("0.12345678901234567890123"))
    assert exp.rows[1][3] == Decimal("0.25")
    ancient = expect(CORPUS["ancient_dates"][0], 20_000)
    assert ancient.column_types == ["date", "timestamp"] and ancient.rows[0] == (date(1, 1, 1), datetime(1000, 6, 15, 12))
    late = expect(CORPUS["late_misfits"][0], 3)
    assert late.column_types == ["int", "date", "decimal(18,2)", "boolean", "string"]
    assert sorted(late.quarantined) == [("type_mismatch", n) for n in (4, 5, 6, 7, 8, 9)]
    assert late.rows[-1] == (8, None, None, None, None)
    assert expect(CORPUS["empty_versus_missing"][0], 20_000).rows == [("", None, "x"), (None, "", ""), ("", "", None)]
    crlf = expect(CORPUS["crlf_and_quoted_newlines"][0], 20_000).rows
    assert crlf == [(1, "line one\r\nline two"), (2, "lf only\nhere"), (3, "plain"), (4, "a\r\n\r\nb")]
    result, out = run(spark, tmp_path, "utf8", CORPUS["invalid_utf8_rows"][0])
    assert result.quarantine_reasons == {"invalid_utf8": 2} and "U+FFFD" in quarantine_lines(out)[0]["quarantine_detail"]
    assert parquet_rows(out) == [("ok", 1), ("fine", 4)]


def test_quoted_empties_helper_agrees_with_the_csv_module_split() -> None:
    assert quoted_empties('"",,"a""",""', ",") == [True, False, False, True]
    assert quoted_empties('x;"";y', ";") == [False, True, False]


@pytest.mark.parametrize(
    ("data", "options", "message"),
    [
        (b"a;b;c\n1;2;3\n", {}, "semicolon-delimited; set the flow's delimiter \\(--delimiter semicolon\\)"),
        (b"a\tb\n1\t2\n", {}, "tab-delimited"),
        (b"a|b\n1|2\n", {}, "pipe-delimited"),
        ("a,b\n1,2\n".encode("utf-16"), {}, "UTF-16 byte-order mark"),
        ("a,b\n1,2\n".encode("utf-16-le"), {}, "NUL characters"),
        (b"caf\xe9,b\n1,2\n", {}, "not valid UTF-8.*--encoding latin-1"),
        (b"a,b\n1,2\n", {"encoding": "cp1252"}, "encoding 'cp1252' is not supported"),
        (b"a,b\n1,2\n", {"delimiter": '"'}, "delimiter must be one character"),
    ],
)
def test_files_the_job_cannot_read_as_configured_are_rejected_with_the_reason(
    spark: SparkSession, tmp_path: Path, data: bytes, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(CsvProcessingError, match=message):
        run(spark, tmp_path, "rejected", data, **options)


def test_a_one_column_file_without_delimiter_lookalikes_is_still_one_column(spark: SparkSession, tmp_path: Path) -> None:
    result, out = run(spark, tmp_path, "one", b"name\nAnn\nBob, Jr.\n")
    assert result.columns == ("name",) and result.quarantine_reasons == {"too_many_fields": 1}


def test_the_job_entry_point_takes_the_flows_delimiter_and_encoding_by_name(spark: SparkSession, tmp_path: Path) -> None:
    """The CSV flow's settings arrive as Glue default arguments (test/stacks/csvFlowSettings.test.ts) by name:
    the job must map them, or a semicolon-delimited Latin-1 file would be rejected (or worse, garbled)."""
    import file_processor  # noqa: PLC0415 - the Glue job script (glue/jobs is on the tests' path)

    source = tmp_path / "flow.csv"
    source.write_bytes("name;city\nJosé;Málaga\n".encode("latin-1"))
    summary = file_processor.main(
        [
            "--input_path", str(source), "--output_path", str(tmp_path / "data"),
            "--quarantine_path", str(tmp_path / "quarantine"), "--source_file", "flow.csv",
            "--delimiter", "semicolon", "--encoding", "latin-1",
        ]
    )
    assert (summary["rows_in"], summary["record_count"], summary["rows_quarantined"]) == (1, 1, 0)
    assert pq.read_table(tmp_path / "data").select(["name", "city"]).to_pylist() == [{"name": "José", "city": "Málaga"}]


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


@settings(settings.get_profile(PROFILE))
@given(csv_files())
def test_random_csvs_round_trip_or_are_quarantined(spark: SparkSession, tmp_path: Path, case: tuple[bytes, int]) -> None:
    data, sample_lines = case
    assert_matches_oracle(spark, tmp_path, "random", data, sample_lines=sample_lines)
