"""CSV -> Parquet + quarantine on real local Spark, compared value by value."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from glue_pipeline import csv_processing
from glue_pipeline.csv_processing import (
    BlockIndex,
    CsvConversion,
    CsvOptions,
    StitchedRecord,
    convert_csv,
    resolve_records,
)
from glue_pipeline.csv_quoting import OPENS_QUOTED_FIELD_REGEX, ends_inside_quotes_reference

PROCESSED_AT = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=timezone.utc)
PROCESSED_AT_NAIVE = PROCESSED_AT.replace(tzinfo=None)
JOB = "FileProcessorV2-test"


def convert(spark: SparkSession, path: str, tmp_path: Path, **options: Any) -> tuple[CsvConversion, str, str]:
    out, quarantine = str(tmp_path / "out" / "data"), str(tmp_path / "out" / "quarantine")
    result = convert_csv(
        spark, path, out, quarantine, source_file="incoming/file.csv", processing_job=JOB,
        processed_at=PROCESSED_AT, options=CsvOptions(**options),
    )
    return result, out, quarantine


def rows_of(spark: SparkSession, out: str, order_by: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in spark.read.parquet(out).orderBy(order_by).collect()]


def types_of(spark: SparkSession, out: str) -> dict[str, str]:
    return {f.name: f.dataType.simpleString() for f in spark.read.parquet(out).schema.fields}


def quarantined(quarantine: str) -> list[dict[str, Any]]:
    records = []
    for part in sorted(Path(quarantine).glob("part-*.json")):
        records += [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines() if line]
    return records


META = (PROCESSED_AT_NAIVE, "incoming/file.csv", JOB)
FOUND_BEFORE, FOUND_AFTER = "found before the main pass", "found after the main pass"


@pytest.fixture(params=[FOUND_BEFORE, FOUND_AFTER])
def spanning(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Records that span lines are found before the main pass when the head of the file shows such records
    (and written in place), else after it (the files of the splits holding them rewritten). Both ways run on
    the same files. Found before, nothing is rewritten when every such record is good."""
    if request.param == FOUND_AFTER:
        monkeypatch.setattr(
            csv_processing, "_find_spanning_records", lambda spark, lines, *_: (csv_processing.block_index(lines), None)
        )
    else:
        def no_rewrite(*_: Any) -> None:
            raise AssertionError("records found before the main pass were rewritten after it")

        monkeypatch.setattr(csv_processing, "_merge_in_source_order", no_rewrite)
    return str(request.param)


def test_infers_types_and_adds_metadata_columns(spark: SparkSession, write_csv, tmp_path: Path) -> None:
    path = write_csv(
        "typed.csv",
        "Order ID,Amount,Ordered At,Order Date,Active,Name,Big\n"
        "1,10.5,2024-01-02 03:04:05,2024-01-02,true,Ann,3000000000\n"
        "2,-3.25,2024-02-03 04:05:06,2024-02-03,false,Bob,1\n"
        "3,,2024-03-04 05:06:07,2024-03-04,,,2\n",
    )
    result, out, _ = convert(spark, path, tmp_path)

    assert types_of(spark, out) == {
        "order_id": "int", "amount": "decimal(18,2)", "ordered_at": "timestamp", "order_date": "date",
        "active": "boolean", "name": "string", "big": "bigint",
        "processed_at": "timestamp", "source_file": "string", "processing_job": "string",
    }
    assert rows_of(spark, out, "order_id") == [
        (1, 10.5, datetime(2024, 1, 2, 3, 4, 5), date(2024, 1, 2), True, "Ann", 3000000000, *META),
        (2, -3.25, datetime(2024, 2, 3, 4, 5, 6), date(2024, 2, 3), False, "Bob", 1, *META),
        (3, None, datetime(2024, 3, 4, 5, 6, 7), date(2024, 3, 4), None, None, 2, *META),
    ]
    assert (result.outcome, result.rows_in, result.rows_written, result.rows_quarantined) == ("PROCESSED", 3, 3, 0)
    assert result.output_size_bytes > 0 and result.input_size_bytes == Path(path).stat().st_size
    assert not Path(tmp_path / "out" / "quarantine").exists()


def test_quoted_commas_newlines_escaped_quotes_unicode_and_crlf(spark: SparkSession, write_csv, tmp_path: Path) -> None:
    path = write_csv(
        "quoted.csv",
        "id,name,note\r\n"
        '1,"Smith, John","first line\r\nsecond line"\r\n'
        '2,Zoë Müller,"He said ""hi"", then left"\r\n'
        "3,李雷,😀 ≈ ok\r\n"
        '4,"multi\n\nwith blank line",end\r\n'
        "\r\n"
        '5,55" TV,stray quote is literal\r\n',
    )
    result, out, _ = convert(spark, path, tmp_path)

    assert rows_of(spark, out, "id") == [
        # A CRLF inside a quoted value is part of the value and comes back byte for byte.
        (1, "Smith, John", "first line\r\nsecond line", *META),
        (2, "Zoë Müller", 'He said "hi", then left', *META),
        (3, "李雷", "😀 ≈ ok", *META),
        (4, "multi\n\nwith blank line", "end", *META),
        (5, '55" TV', "stray quote is literal", *META),
    ]
    assert (result.rows_in, result.rows_written, result.multiline_records, result.blank_lines) == (5, 5, 2, 1)


def test_ragged_rows_are_quarantined_with_reason_and_raw_record(spark: SparkSession, write_csv, tmp_path: Path) -> None:
    path = write_csv(
        "ragged.csv",
        "id,name,amount\n"
        "1,ok,1.5\n"
        "2,too few\n"
        "3,too,many,fields,here\n"
        '4,"quoted, fine",2.5\n'
        '5,"multi\nline",too,many\n'
        "6,bad amount,abc\n",
        # The schema comes from the first two lines, so amount is a decimal and "abc" does not fit.
    )
    result, out, quarantine = convert(spark, path, tmp_path, sample_lines=3)

    assert rows_of(spark, out, "id") == [(1, "ok", 1.5, *META), (4, "quoted, fine", 2.5, *META)]
    common = {"source_file": "incoming/file.csv", "processing_job": JOB, "processed_at": "2024-05-06T07:08:09.123Z"}
    assert quarantined(quarantine) == [
        {"quarantine_reason": "too_few_fields", "quarantine_detail": "expected 3 fields, found 2",
         "line_number": 3, "line_count": 1, "raw_record": "2,too few", **common},
        {"quarantine_reason": "too_many_fields", "quarantine_detail": "expected 3 fields, found 5",
         "line_number": 4, "line_count": 1, "raw_record": "3,too,many,fields,here", **common},
        {"quarantine_reason": "too_many_fields", "quarantine_detail": "expected 3 fields, found 4",
         "line_number": 6, "line_count": 2, "raw_record": '5,"multi\nline",too,many', **common},
        {"quarantine_reason": "type_mismatch", "quarantine_detail": "amount='abc' is not decimal(18,1)",
         "line_number": 8, "line_count": 1, "raw_record": "6,bad amount,abc", **common},
    ]
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (6, 2, 4)
    assert result.quarantine_reasons == {"too_few_fields": 1, "too_many_fields": 2, "type_mismatch": 1}


def test_unclosed_quote_costs_one_line_not_the_rest_of_the_file(spark: SparkSession, write_csv, tmp_path: Path) -> None:
    path = write_csv(
        "unclosed.csv",
        'id,note\n1,fine\n2,"never closed\n3,after\n4,more\n5,"also unclosed at the end\n',
    )
    result, out, quarantine = convert(spark, path, tmp_path, max_record_lines=2)

    assert rows_of(spark, out, "id") == [(1, "fine", *META), (3, "after", *META), (4, "more", *META)]
    assert [(q["quarantine_reason"], q["line_number"], q["raw_record"]) for q in quarantined(quarantine)] == [
        ("unclosed_quote", 3, '2,"never closed'),
        ("unclosed_quote", 6, '5,"also unclosed at the end'),
    ]
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (5, 3, 2)


def test_a_line_inside_a_quoted_value_that_looks_like_a_row_is_not_written(
    spark: SparkSession, write_csv, tmp_path: Path, spanning: str
) -> None:
    path = write_csv("conflict.csv", 'id,text\n1,"first line\n2,looks like a row\nend"\n3,after\n')
    result, out, _ = convert(spark, path, tmp_path)

    assert rows_of(spark, out, "id") == [(1, "first line\n2,looks like a row\nend", *META), (3, "after", *META)]
    # Found after the main pass, the line was written as a row and the pass is redone with it set aside.
    passes = 1 if spanning == FOUND_BEFORE else 2
    assert (result.rows_in, result.rows_written, result.main_passes) == (2, 2, passes)


def test_records_spanning_input_splits_are_stitched(
    spark: SparkSession, write_csv, tmp_path: Path, spanning: str
) -> None:
    rng = random.Random(7)
    lines = ["id,city,note"]
    for i in range(1, 61):
        note = "\n".join(f"part {j} of {i}, with comma" for j in range(rng.randint(1, 4)))
        lines.append(f'{i},"Köln, DE","{note}"')
    text = "\n".join(lines) + "\n"
    path = write_csv("splits.csv", text)
    expected = [(int(r[0]), r[1], r[2], *META) for r in list(csv.reader(io.StringIO(text)))[1:]]

    previous = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "200")  # dozens of splits, many inside quoted values
    try:
        result, out, _ = convert(spark, path, tmp_path)
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", previous)

    assert rows_of(spark, out, "id") == expected
    assert (result.rows_in, result.rows_written, result.rows_quarantined) == (60, 60, 0)


def _source_order_file() -> tuple[str, list[int]]:
    """Records spanning lines at the start, in the middle (two adjacent, one after a blank line, one with a
    CRLF) and at the end, among one-line rows and a quarantined one; the ids of the written rows in order."""
    rows = ['1,"starts\nthe file"', "2,plain", "3,plain", "", '4,"after a blank\nline"', '5,"adjacent\r\nCRLF"\r',
            '6,"three\nlines\nlong"', "7,too,many", "8,plain", *[f"{i},row {i}" for i in range(9, 40)], '40,"ends\nthe file"']
    return "id,text\n" + "\n".join(rows) + "\n", [i for i in range(1, 41) if i != 7]


def _written_in_order(spark: SparkSession, out: str) -> tuple[list[int], list[int]]:
    """The ids as Spark reads the dataset (files by name, rows by position) and, independently, as pyarrow
    reads its files one by one in name order."""
    spark_ids = [
        r.id for r in spark.read.parquet(out).select("id", "_metadata.file_name", "_metadata.row_index")
        .orderBy("file_name", "row_index").collect()
    ]
    arrow_ids = [i for part in sorted(Path(out).glob("part-*.parquet")) for i in pq.read_table(part).column("id").to_pylist()]
    return spark_ids, arrow_ids


def test_records_spanning_lines_are_written_in_source_order(
    spark: SparkSession, write_csv, tmp_path: Path, spanning: str
) -> None:
    text, ids = _source_order_file()
    result, out, _ = convert(spark, write_csv("order.csv", text), tmp_path)

    assert [r.id for r in spark.read.parquet(out).collect()] == ids  # one split: one file, read as written
    assert _written_in_order(spark, out) == (ids, ids)
    assert (result.rows_written, result.rows_quarantined, result.multiline_records) == (39, 1, 5)
    assert spark.read.parquet(out).where("id = 5").first().text == "adjacent\r\nCRLF"
    assert [p.name for p in Path(out).iterdir() if p.name.startswith("_") and p.is_dir()] == []


def test_source_order_holds_across_input_splits(
    spark: SparkSession, write_csv, tmp_path: Path, spanning: str
) -> None:
    text, ids = _source_order_file()
    previous = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "64")  # a dozen splits, records across their edges
    try:
        result, out, _ = convert(spark, write_csv("order.csv", text), tmp_path)
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", previous)

    assert _written_in_order(spark, out) == (ids, ids)
    parts = sorted(p.name for p in Path(out).glob("part-*.parquet"))
    assert len(parts) > 3 and result.rows_written == 39
    writes = len({name.split("-", 2)[2] for name in parts})
    if spanning == FOUND_AFTER:
        # Only the splits holding such records were rewritten (a second write id); the others were left alone.
        assert 1 < writes and len({name.split("-")[1] for name in parts}) == len(parts)
    else:
        assert writes == 1  # written once, in place


def test_empty_and_header_only_files(spark: SparkSession, write_csv, tmp_path: Path) -> None:
    empty, _, _ = convert(spark, write_csv("empty.csv", ""), tmp_path / "a")
    blank, _, _ = convert(spark, write_csv("blank.csv", "\n  \n"), tmp_path / "b")
    header_only, out, quarantine = convert(spark, write_csv("header.csv", "id,Name\n\n"), tmp_path / "c")

    assert (empty.outcome, empty.rows_in, empty.output_size_bytes) == ("EMPTY_FILE", 0, 0)
    assert (blank.outcome, blank.rows_in) == ("EMPTY_FILE", 0)
    assert not (tmp_path / "a" / "out" / "data").exists()
    assert (header_only.outcome, header_only.rows_in, header_only.rows_written) == ("HEADER_ONLY", 0, 0)
    assert header_only.columns == ("id", "name")
    assert spark.read.parquet(out).count() == 0
    assert not Path(quarantine).exists()


def test_whitespace_only_lines_are_blank_in_one_and_many_column_files(
    spark: SparkSession, write_csv, tmp_path: Path
) -> None:
    # The blank test runs only on lines that parse to a corrupt record or a null first field (or on every
    # line of a one-column file): a whitespace-only line must still be skipped, and a row whose first field
    # is empty must still be a row.
    many, many_out, _ = convert(spark, write_csv("many.csv", "id,name\n1,a\n \t \n\n,b\n2,c\n"), tmp_path / "m")
    one, one_out, _ = convert(spark, write_csv("one.csv", "name\nx\n  \n\ny\n"), tmp_path / "o")

    assert (many.rows_in, many.rows_written, many.blank_lines, many.rows_quarantined) == (3, 3, 2, 0)
    assert [r[:2] for r in rows_of(spark, many_out, "name")] == [(1, "a"), (None, "b"), (2, "c")]
    assert (one.rows_in, one.rows_written, one.blank_lines) == (2, 2, 2)
    assert [r[0] for r in rows_of(spark, one_out, "name")] == ["x", "y"]


def test_replay_replaces_outputs(spark: SparkSession, write_csv, tmp_path: Path) -> None:
    path = write_csv("replay.csv", "id,v\n1,a\n2,b,extra\n")
    convert(spark, path, tmp_path)
    again, out, quarantine = convert(spark, path, tmp_path)
    assert (spark.read.parquet(out).count(), len(quarantined(quarantine))) == (1, 1)

    fixed = write_csv("replay.csv", "id,v\n1,a\n2,b\n")
    result, out, quarantine = convert(spark, fixed, tmp_path)
    assert (spark.read.parquet(out).count(), result.rows_quarantined) == (2, 0)
    assert not Path(quarantine).exists()


def test_java_regex_matches_the_reference_state_machine(spark: SparkSession) -> None:
    rng = random.Random(99)
    lines = sorted({"".join(rng.choice('ab,"') for _ in range(rng.randint(0, 10))) for _ in range(3000)})
    df = spark.createDataFrame([(line,) for line in lines], "value string")
    flagged = {
        r.value for r in df.where((F.instr("value", '"') > 0) & F.col("value").rlike(OPENS_QUOTED_FIELD_REGEX)).collect()
    }
    assert flagged == {line for line in lines if ends_inside_quotes_reference(line)}


class TestResolveRecords:
    blocks = BlockIndex.of([(0, 0, 3), (100, 0, 2)])  # two splits: lines 1-4 and 5-7

    def test_positions_are_numbered_across_splits(self) -> None:
        assert [self.blocks.line_number(k) for k in [(0, 0), (0, 3), (100, 0), (100, 2)]] == [1, 4, 5, 7]
        assert self.blocks.next_key((0, 3)) == (100, 0)
        assert self.blocks.next_key((100, 2)) is None

    def test_stitches_across_a_split_and_reports_blank_lines_inside(self) -> None:
        texts = {(0, 3): '9,"a', (100, 0): "", (100, 1): 'b"'}
        result = resolve_records([(0, 3), (100, 1)], texts, self.blocks, max_record_lines=10)
        assert result.records == [StitchedRecord((0, 3), 3, '9,"a\n\nb"', True)]
        assert (result.blank_lines_inside, result.conflicts, result.missing) == (1, set(), [])

    def test_a_records_place_counts_the_rows_written_before_it_in_its_split(self) -> None:
        # Split 0: header (0), blank (1), row (2), record (3); split 100: blank (0), aside (1), row (2), record (3).
        blocks = BlockIndex.of([(0, 0, 3, [1]), (100, 0, 4, [0])])
        aside = {0: [3], 100: [1, 3]}
        assert blocks.rows_before((0, 3), 1, aside) == (0, 1)
        assert blocks.rows_before((100, 3), 1, aside) == (1, 1)
        assert blocks.rows_before((100, 0), 1, aside) == (1, 0)
        assert blocks.rows_before((0, 1), 2, aside) == (0, 0)  # a blank line before the header is preamble

    def test_asks_for_missing_lines_then_reports_conflicts(self) -> None:
        first = resolve_records([(0, 1)], {(0, 1): '1,"x'}, self.blocks, max_record_lines=10)
        assert first.missing == [(0, 2)] and first.records == []
        texts = {(0, 1): '1,"x', (0, 2): "2,row-like", (0, 3): 'y"'}
        second = resolve_records([(0, 1), (0, 3)], texts, self.blocks, max_record_lines=10)
        assert second.records == [StitchedRecord((0, 1), 3, '1,"x\n2,row-like\ny"', True)]
        assert second.conflicts == {(0, 2)}
