"""The claims corpus (test/fixtures/claims/corpus/) through the claims ETL's own steps: the encoding check and
the shared CSV reader (convert_csv, every column a string) that run_claims starts with, then the declared rules
(validate_claims) it splits the records with. Verdicts and parsed values must equal expected.json, which the
validation Lambda's test (test/claims/corpus.test.ts) reads too: the two sides cannot drift apart silently."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from conftest import REPO_ROOT
from glue_pipeline.claims_job import ClaimsFileRejected, ClaimsPaths, non_utf8_lines, run_claims
from glue_pipeline.claims_rules import ISSUES, java_pattern, validate_claims
from glue_pipeline.claims_schema import load_schema
from glue_pipeline.csv_processing import CsvOptions, convert_csv

CORPUS = REPO_ROOT / "test" / "fixtures" / "claims" / "corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text("utf-8"))
REFERENCE_DATE = date.fromisoformat(EXPECTED["reference_date"])


def corpus_value(value: Any) -> Any:
    """A typed value as the corpus writes it: amounts as exact two-place text, dates ISO, empty as null."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return value


def etl_verdicts(spark: SparkSession, tmp_path: Path, name: str) -> tuple[list[str], dict[str, dict], dict[int, str]]:
    """(file-level rules, per case_id {issues, values}, per malformed line its reason)."""
    source = str(CORPUS / name)
    if non_utf8_lines(spark, source):
        return ["INVALID_ENCODING"], {}, {}
    staged, malformed = str(tmp_path / "rows"), str(tmp_path / "malformed")
    conversion = convert_csv(
        spark, source, staged, malformed, name, "corpus-test", datetime(2024, 12, 31, tzinfo=timezone.utc), CsvOptions(infer_types=False)
    )
    schema = load_schema()
    rows: dict[str, dict] = {}
    if conversion.rows_written:
        for row in validate_claims(spark.read.parquet(staged), REFERENCE_DATE, schema).collect():
            assert row["case_id"] not in rows, f"case {row['case_id']!r} read twice"
            note = row["note"] if "note" in row else None
            rows[row["case_id"]] = {
                "issues": list(row[ISSUES]),
                "values": {f: corpus_value(row[f]) for f in schema.field_names},
                "note_sha256": hashlib.sha256((note or "").encode("utf-8")).hexdigest() if "note" in row else None,
            }
    bad = {}
    if conversion.rows_quarantined:
        for line in (l for p in sorted(Path(malformed).glob("part-*.json")) for l in p.read_text("utf-8").split("\n") if l):
            record = json.loads(line)
            bad[record["line_number"]] = record["quarantine_reason"]
    return [], rows, bad


@pytest.mark.parametrize("name", sorted(EXPECTED["files"]))
def test_the_claims_etl_agrees_with_the_corpus(spark: SparkSession, tmp_path: Path, name: str) -> None:
    expected = EXPECTED["files"][name]

    file_issues, rows, malformed = etl_verdicts(spark, tmp_path, name)

    assert file_issues == expected["file_issues"]
    wanted_malformed = {r["line"] for r in expected["records"] if r["issues"] == ["MALFORMED_ROW"]}
    assert set(malformed) == wanted_malformed, "malformed records, by line"
    judged = [r for r in expected["records"] if r["issues"] != ["MALFORMED_ROW"]]
    assert sorted(rows) == sorted(r["case"] for r in judged), "every other record read once, with its case id intact"
    for record in judged:
        got = rows[record["case"]]
        assert got["issues"] == record["issues"], f"line {record['line']} ({record['case']})"
        if "values" in record:
            assert got["values"] == record["values"], f"values of line {record['line']} ({record['case']})"
        if "note_sha256" in record:
            assert got["note_sha256"] == record["note_sha256"], f"note of line {record['line']} ({record['case']}) byte for byte"


def test_every_corpus_file_has_expectations() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.csv")) == sorted(EXPECTED["files"])


def test_a_file_that_is_not_utf8_fails_the_run_before_anything_is_written(spark: SparkSession, tmp_path: Path) -> None:
    """The ETL's side of INVALID_ENCODING: the run names the rule and writes nothing (no U+FFFD in any value),
    so an earlier good output of the same file stays as it was."""
    root = tmp_path.as_uri() + "/"
    paths = ClaimsPaths(input=str(CORPUS / "latin1.csv"), output=f"{root}out/", aggregation=f"{root}agg/",
                        quarantine=f"{root}q/", staging=f"{root}staging/")  # fmt: skip
    with pytest.raises(ClaimsFileRejected, match=r"^INVALID_ENCODING: 1 line\(s\) of .*latin1.csv hold bytes that are not UTF-8"):
        run_claims(spark, paths, source_file="latin1.csv", file_id="f1", processing_job="test",
                   processed_at=datetime(2024, 12, 31, tzinfo=timezone.utc), reference_date=REFERENCE_DATE)  # fmt: skip
    assert not any(tmp_path.iterdir())


def test_a_line_separator_after_a_value_is_not_an_end_of_line(spark: SparkSession) -> None:
    """Why claims_rules runs every declared pattern through java_pattern: plain Java ``$`` accepts a value
    followed by U+2028 (a line terminator to Java, not to JavaScript), so the job would pass what the Lambda
    rejects, and write an amount the decimal cast cannot read as null."""
    df = spark.createDataFrame([("100.00\u2028",)], "v string")
    pattern = load_schema().types["decimal"]["pattern"]
    plain, fixed = df.select(F.col("v").rlike(pattern), F.col("v").rlike(java_pattern(pattern))).first()
    assert (plain, fixed) == (True, False)
