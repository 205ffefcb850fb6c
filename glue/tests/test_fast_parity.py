"""Parity of the two CSV engines: the fast path (glue_pipeline.csv_fast, DuckDB, the converter Lambda) gives
exactly what the Spark path (glue_pipeline.csv_processing.convert_csv, the Glue job) gives, for every file of
the fidelity corpus, for Hypothesis' random CSVs, and for the odd files below.

For each file both engines run on the same bytes and options and the test requires:

* **the same schema**, both outputs read back by Spark: column names and Spark types. That is the schema
  that matters because the Glue catalog and Athena read the flow's Parquet the way Spark does (the Parquet
  physical and logical types decide it: an INT32 is an int, a TIMESTAMP adjusted to UTC is a timestamp, a
  timestamp that is not would be timestamp_ntz, a decimal's precision and scale are its column's);
* **the same values, row by row in source order** (the part files in name order, each file's rows in
  order), the added columns included;
* **the same quarantine lines**, every field (the run's ``processed_at`` is an input, so it is compared too);
* **the same CsvConversion**, every count. Only ``output_size_bytes`` differs by nature (two Parquet writers
  encode the same rows differently); the converter and the Glue job build the file's metadata record from
  the CsvConversion alone (file_job), so the same CsvConversion is the same record;
* or, for a file the rules refuse, **the same error** (type and message).

Two Hypothesis profiles, as in test_fidelity.py: ``bounded`` (the default, the same examples every run)
and ``long``::

    HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest glue/tests/test_fast_parity.py -q -k random
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from pyspark.sql import SparkSession

from fidelity_oracle import CORPUS, PROFILE, csv_files
from glue_pipeline.csv_fast import convert_csv_file
from glue_pipeline.csv_processing import convert_csv
from glue_pipeline.csv_rules import CsvConversion, CsvOptions

PROCESSED_AT = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=timezone.utc)
SOURCE = "incoming/parity.csv"
JOB = "FileProcessorV2-parity"
# Parquet bytes are the writers' own, and so is the number of passes an engine made over the lines (the Spark
# path takes one when the head shows records spanning lines, two when it meets them only after its main pass
# and one of their lines was written as a row); every other field of CsvConversion must be equal.
WRITER_SPECIFIC = {"output_size_bytes", "main_passes"}

# Files beyond the fidelity corpus: the record rules' odd corners, where a reader other than the Spark
# path's would most easily differ.
ODD_FILES: dict[str, tuple[bytes, dict[str, Any]]] = {
    # Quotes that do not follow RFC 4180: text after a closing quote, a quote inside an unquoted value,
    # spaces before an opening quote or after a closing one, an escaped quote at a value's end.
    "odd_quoting": (
        b'id,v\n1,"a"b\n2,x"y\n3, "q"\n4,"q" \n5,""x\n6,"a"""\n7,"a"",b"\n8,"x"y"z"\n9,"""\nmore"\n', {}
    ),
    # Blank and whitespace-only lines before the header, between records and inside quoted values.
    "blank_lines": (b'\n \t\nid,v\n\n1,a\n  \n2,"x\n\n \ny"\n\t\n3,c\n\n', {}),
    "one_column_with_blank_lines": (b"name\nAnn\n\n  \nBob\n\t\n", {}),
    # A quoted value whose lines parse as rows on their own (the Spark path redoes its main pass).
    "lines_inside_a_quoted_value_that_look_like_rows": (b'id,v\n1,"start\n2,inner\n3,more"\n4,after\n', {}),
    # A line inside a quoted value that the Spark path writes as a row on its own (a quote mid-value).
    "quote_mid_value_inside_a_quoted_value": (b'c0,c1,c2\n"0",,\n,"aa\naa,a",\n', {"sample_lines": 2}),
    "unclosed_quote": (b'id,v\n1,"never closed\n2,b\n3,c\n', {}),
    "quote_open_beyond_max_record_lines": (b'id,v\n1,"a\nb\nc\nd"\n2,e\n', {"max_record_lines": 3}),
    # A lone \r is text to the Spark path (lines end at \n), not a line end.
    "lone_carriage_return": (b"id,v\r\n1,a\rb\r\n2,c\n", {}),
    "crlf_header_and_no_final_line_break": (b"id,v\r\n1,a\r\n2,b", {}),
    "header_only": (b"id,v\n", {}),
    "blank_only": (b"\n  \n\n", {}),
    "empty": (b"", {}),
    "bom_header_only": ("\ufeffa,b\r\n".encode(), {}),
    # A byte-order mark is not text: Hadoop's line reader drops it, so a quoted header after it is quoted, and a
    # first line of nothing else is blank.
    "bom_then_quoted_header": ('\ufeff"a,b",c\n1,2\n'.encode(), {}),
    "bom_then_a_blank_line": ("\ufeff\na,b\n1,2\n".encode(), {}),
    "late_types_in_a_multiline_record": (b'n,d\n1,2024-01-01\n2,"2024-01-02"\n"3",2024-13-01\n"4\n",x\n', {"sample_lines": 3}),
    "string_columns_only": (b"a,b\n08,1\n2,x\n", {"infer_types": False}),
    "nul_in_a_multiline_record": (b'a,b\n1,"x\n\x00"\n2,y\n', {}),
    "invalid_utf8_in_a_multiline_record": (b'a,b\n1,"x\n\xc3("\n2,y\n', {}),
    "latin1_with_quotes": ('a;b\n"Å;1";Ø\n2;"x""y"\n'.encode("latin-1"), {"delimiter": ";", "encoding": "latin-1"}),
    "timestamps_at_the_edges": (
        b"t\n2024-01-01 00:00:00\n2024-01-01 24:00:00\n2024-01-01 23:59:60\n0000-01-01 00:00:00\n9999-12-31 23:59:59\n",
        {"sample_lines": 2},
    ),
    "decimals_at_the_edges": (
        b"d\n1.25\n-0.5\n5\n123456789012345.123\n1234567890123456.1\n-0\n0.125\n.5\n", {"sample_lines": 3}
    ),
    "duplicate_and_reserved_headers": (b"A,a,processed_at, ,\xe9\n1,2,3,4,5\n", {}),
    # What the fast engine reads from the input itself (its reader skips the header and refuses the short and
    # long rows): a BOM and a quoted delimiter in the header, records over lines, no final line break.
    "short_and_long_rows_between_records": (
        '\ufeff"i,d",v,n\n1,"a\r\nb",1\n2,x\n3,c,3,extra\n4,"x ""q""\n\n",4\n5,,\n6,"",6.5\n7,e'.encode(), {"sample_lines": 4}
    ),
}
REFUSED: dict[str, tuple[bytes, dict[str, Any]]] = {
    "utf16_bom": ("a,b\n1,2\n".encode("utf-16"), {}),
    "utf16_without_bom": ("a,b\n1,2\n".encode("utf-16-le"), {}),
    "semicolons_in_a_comma_flow": (b"a;b;c\n1;2;3\n", {}),
    "latin1_header_in_a_utf8_flow": (b"caf\xe9,b\n1,2\n", {}),
    "unknown_encoding": (b"a,b\n1,2\n", {"encoding": "cp1252"}),
    "quote_as_delimiter": (b"a,b\n1,2\n", {"delimiter": '"'}),
    "too_many_set_aside_lines": (b"a,b\n1\n2\n3\n", {"max_set_aside_lines": 2}),
}


@dataclasses.dataclass
class Outcome:
    conversion: CsvConversion | None
    error: tuple[type, str] | None
    data: Path
    quarantine: Path


def run_spark(spark: SparkSession, source: Path, out: Path, options: CsvOptions) -> Outcome:
    try:
        result = convert_csv(
            spark, str(source), str(out / "data"), str(out / "quarantine"), source_file=SOURCE,
            processing_job=JOB, processed_at=PROCESSED_AT, options=options,
        )
        return Outcome(result, None, out / "data", out / "quarantine")
    except Exception as error:  # noqa: BLE001 - compared with the other engine's error below
        return Outcome(None, (type(error), str(error)), out / "data", out / "quarantine")


def run_fast(source: Path, out: Path, options: CsvOptions) -> Outcome:
    try:
        result = convert_csv_file(
            source, out / "data", out / "quarantine", source_file=SOURCE, processing_job=JOB,
            processed_at=PROCESSED_AT, options=options, temp_dir=out / "tmp",
        )
        return Outcome(result, None, out / "data", out / "quarantine")
    except Exception as error:  # noqa: BLE001
        return Outcome(None, (type(error), str(error)), out / "data", out / "quarantine")


def spark_schema(spark: SparkSession, data: Path) -> list[tuple[str, str]]:
    return [(f.name, f.dataType.simpleString()) for f in spark.read.parquet(str(data)).schema.fields]


def rows_in_order(data: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for part in sorted(data.glob("part-*.parquet")):
        rows += pq.read_table(part).to_pylist()
    return rows


def quarantine_lines(folder: Path) -> list[dict[str, Any]]:
    if not folder.exists():
        return []
    return [json.loads(line) for part in sorted(folder.glob("part-*.json")) for line in part.read_text("utf-8").splitlines()]


def assert_same(spark: SparkSession, tmp_path: Path, name: str, data: bytes, **options: Any) -> Outcome:
    source = tmp_path / f"{name}.csv"
    source.write_bytes(data)
    settings_ = CsvOptions(**options)
    slow = run_spark(spark, source, tmp_path / "spark", settings_)
    fast = run_fast(source, tmp_path / "fast", settings_)
    assert fast.error == slow.error, name
    if slow.conversion is None:
        return fast
    assert fast.conversion is not None
    differing = {
        f.name: (getattr(slow.conversion, f.name), getattr(fast.conversion, f.name))
        for f in dataclasses.fields(CsvConversion)
        if f.name not in WRITER_SPECIFIC and getattr(slow.conversion, f.name) != getattr(fast.conversion, f.name)
    }
    assert not differing, f"{name}: CsvConversion (spark, fast) {differing}"
    written = slow.conversion.outcome != "EMPTY_FILE"
    assert any(fast.data.glob("part-*.parquet")) == written, name
    if written:
        assert spark_schema(spark, fast.data) == spark_schema(spark, slow.data), name
        assert rows_in_order(fast.data) == rows_in_order(slow.data), name
    assert quarantine_lines(fast.quarantine) == quarantine_lines(slow.quarantine), name
    return fast


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_the_fidelity_corpus_converts_the_same_on_both_engines(spark: SparkSession, tmp_path: Path, name: str) -> None:
    data, options = CORPUS[name]
    assert_same(spark, tmp_path, name, data, **options)


@pytest.mark.parametrize("name", sorted(ODD_FILES))
def test_odd_files_convert_the_same_on_both_engines(spark: SparkSession, tmp_path: Path, name: str) -> None:
    data, options = ODD_FILES[name]
    assert_same(spark, tmp_path, name, data, **options)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_files_the_rules_refuse_are_refused_with_the_same_error(spark: SparkSession, tmp_path: Path, name: str) -> None:
    data, options = REFUSED[name]
    outcome = assert_same(spark, tmp_path, name, data, **options)
    assert outcome.error is not None, f"{name}: both engines converted a file the rules refuse"


@settings(settings.get_profile(PROFILE))
@given(csv_files())
def test_random_csvs_convert_the_same_on_both_engines(spark: SparkSession, tmp_path: Path, case: tuple[bytes, int]) -> None:
    data, sample_lines = case
    # Hypothesis reuses tmp_path across examples: each example gets its own folder.
    folder = tmp_path / f"example-{uuid.uuid4()}"
    folder.mkdir()
    assert_same(spark, folder, "random", data, sample_lines=sample_lines)
