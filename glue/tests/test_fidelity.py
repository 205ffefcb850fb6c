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

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyspark.sql import SparkSession

from fidelity_oracle import CORPUS, PROFILE, Expected, csv_files, expect, quoted_empties
from glue_pipeline import csv_processing
from glue_pipeline.csv_processing import CsvOptions, CsvProcessingError, convert_csv

PROCESSED_AT = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=timezone.utc)
METADATA = ("processed_at", "source_file", "processing_job")


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


@contextmanager
def spanning_records_found(before_the_main_pass: bool) -> Iterator[None]:
    """Where the job finds records that span lines: before its main pass (written in place) when the head of
    the file shows such records, else after it (the output rewritten). This forces one way for any file."""
    infer = csv_processing.layout_from_lines

    def forced(*args: Any, **kwargs: Any) -> Any:
        layout = infer(*args, **kwargs)
        return layout and dataclasses.replace(layout, spanning_records=before_the_main_pass)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csv_processing, "layout_from_lines", forced)
        yield


@pytest.mark.parametrize("before", [True, False], ids=["found-before-main-pass", "found-after-main-pass"])
# Every file with a quote: the quoting regular expression's lines take another way when found before.
@pytest.mark.parametrize("name", sorted(n for n, (data, _) in CORPUS.items() if b'"' in data))
def test_corpus_quoted_files_match_the_oracle_either_way(
    spark: SparkSession, tmp_path: Path, name: str, before: bool
) -> None:
    data, options = CORPUS[name]
    with spanning_records_found(before):
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


@settings(settings.get_profile(PROFILE))
@given(csv_files(), st.booleans())
def test_random_csvs_round_trip_or_are_quarantined(
    spark: SparkSession, tmp_path: Path, case: tuple[bytes, int], spanning_found_before: bool
) -> None:
    data, sample_lines = case
    with spanning_records_found(spanning_found_before):
        assert_matches_oracle(spark, tmp_path, "random", data, sample_lines=sample_lines)
