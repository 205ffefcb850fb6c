"""The claims rules on local Spark: each rule family on hand-made records, the schema's consistency checks, and
the verdict on every record of the bundled samples against samples/claims/expected.json — the same file the
validation Lambda's tests check, so the Lambda and the job judge each record alike."""

from __future__ import annotations

import copy
import csv
import json
from datetime import date
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from glue_pipeline.claims_rules import ISSUES, issue_rules, validate_claims
from glue_pipeline.claims_schema import load_schema, parse_schema

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "claims"
TODAY = date(2025, 6, 30)
SCHEMA = load_schema()
COLUMNS = list(SCHEMA.field_names)
VALID = {
    "claim_id": "CLM-1", "claim_version": "1", "patient_id": "PAT-00001", "provider_npi": "1234567893",
    "claim_type": "PROFESSIONAL", "service_date": "2024-03-01", "paid_date": "2024-03-20", "diagnosis_code": "E11.9",
    "procedure_code": "99213", "billed_amount": "100.00", "allowed_amount": "80.00", "paid_amount": "64.00",
    "units": "1", "claim_status": "PAID", "place_of_service": "11",
}


def issues_of(spark: SparkSession, *changes: dict) -> list[list[str]]:
    rows = [tuple({**VALID, **c}[name] for name in COLUMNS) for c in changes]
    df = spark.createDataFrame(rows, ", ".join(f"{c} string" for c in COLUMNS))
    return [list(r[ISSUES]) for r in validate_claims(df, TODAY).collect()]


CASES = [
    ("valid", {}, []),
    ("optional fields empty", {"claim_version": "", "paid_date": "", "allowed_amount": "", "paid_amount": "", "units": "", "claim_status": "", "place_of_service": ""}, []),
    ("normalised before checking", {"claim_type": " professional ", "diagnosis_code": "e119", "service_date": "03/01/2024", "paid_date": "20240320"}, []),
    ("required", {"patient_id": "  "}, ["MISSING_REQUIRED_FIELD:patient_id"]),
    ("type: integer", {"units": "1.5"}, ["INVALID_INTEGER:units"]),
    ("type: three decimals", {"billed_amount": "10.001"}, ["INVALID_DECIMAL:billed_amount"]),
    ("type: thousands separator", {"billed_amount": "1,000.00"}, ["INVALID_DECIMAL:billed_amount"]),
    ("type: 30 February", {"service_date": "2024-02-30"}, ["INVALID_DATE:service_date"]),
    ("type: day first", {"service_date": "31/03/2024"}, ["INVALID_DATE:service_date"]),
    ("type: year out of range", {"paid_date": "1899-12-31"}, ["INVALID_DATE:paid_date"]),
    ("type: 29 February of a leap year is fine", {"service_date": "02/29/2024", "paid_date": "2024-03-01"}, []),
    ("format: ICD-10", {"diagnosis_code": "250.00"}, ["INVALID_FORMAT:diagnosis_code"]),
    ("format: CPT", {"procedure_code": "9921"}, ["INVALID_FORMAT:procedure_code"]),
    ("format: NPI length", {"provider_npi": "123456789"}, ["INVALID_FORMAT:provider_npi"]),
    ("format: NPI check digit", {"provider_npi": "1234567890"}, ["INVALID_NPI_CHECK_DIGIT:provider_npi"]),
    ("format: place of service", {"place_of_service": "1"}, ["INVALID_FORMAT:place_of_service"]),
    ("business: claim type", {"claim_type": "VISION"}, ["UNKNOWN_CLAIM_TYPE:claim_type"]),
    ("business: claim status", {"claim_status": "LOST"}, ["UNKNOWN_CLAIM_STATUS:claim_status"]),
    ("business: negative", {"paid_amount": "-1.00"}, ["NEGATIVE_AMOUNT:paid_amount"]),
    ("business: zero units", {"units": "0"}, ["NON_POSITIVE_COUNT:units"]),
    ("business: paid above billed", {"paid_amount": "100.01", "allowed_amount": ""}, ["AMOUNT_EXCEEDS_BILLED:paid_amount"]),
    ("business: service after paid", {"service_date": "2024-03-21"}, ["SERVICE_AFTER_PAID:service_date"]),
    ("business: future", {"service_date": "2025-07-01", "paid_date": ""}, ["FUTURE_SERVICE_DATE:service_date"]),
    (
        "every issue, in the Lambda's order, and no business rule on an unparsed value",
        {"billed_amount": "-5", "paid_amount": "abc", "claim_type": "", "service_date": "2024-04-01"},
        ["MISSING_REQUIRED_FIELD:claim_type", "INVALID_DECIMAL:paid_amount", "NEGATIVE_AMOUNT:billed_amount", "AMOUNT_EXCEEDS_BILLED:allowed_amount", "SERVICE_AFTER_PAID:service_date"],
    ),
]


def test_each_rule_family_as_the_lambda_reports_it(spark: SparkSession) -> None:
    # One DataFrame for all cases: one Spark job instead of one per case.
    found = issues_of(spark, *[c for _, c, _ in CASES])
    assert {title: got for (title, _, _), got in zip(CASES, found)} == {title: want for title, _, want in CASES}


def test_typed_values_are_normalised(spark: SparkSession) -> None:
    df = spark.createDataFrame([tuple({**VALID, "claim_type": "dental", "service_date": "20240301", "billed_amount": "7"}[c] for c in COLUMNS)], ", ".join(f"{c} string" for c in COLUMNS))
    row = validate_claims(df, TODAY, prefix="t_").first()
    assert (row["t_claim_type"], row["t_service_date"], str(row["t_billed_amount"]), row["t_units"]) == ("DENTAL", date(2024, 3, 1), "7.00", 1)


def test_null_values_count_as_empty_and_missing_optional_columns_are_allowed(spark: SparkSession) -> None:
    columns = [c for c in COLUMNS if c != "units"]
    df = spark.createDataFrame([tuple(None if c == "patient_id" else VALID[c] for c in columns)], ", ".join(f"{c} string" for c in columns))
    assert validate_claims(df, TODAY).first()[ISSUES] == ["MISSING_REQUIRED_FIELD:patient_id"]


def test_schema_declaration_is_checked() -> None:
    raw = json.loads((Path(__file__).resolve().parents[1] / "lib" / "glue_pipeline" / "claims_schema.json").read_text())
    assert parse_schema(raw).field_names == SCHEMA.field_names
    for change, message in [
        (lambda d: d["business_rules"][0].__setitem__("id", "NOPE"), "NOPE"),
        (lambda d: d["business_rules"][2].__setitem__("than", "nope"), "nope"),
        (lambda d: d["fields"][0].__setitem__("format", "nope"), "unknown format nope"),
    ]:
        broken = copy.deepcopy(raw)
        change(broken)
        with pytest.raises(ValueError, match=message):
            parse_schema(broken)


def test_issue_rules() -> None:
    assert issue_rules(["NEGATIVE_AMOUNT:a", "INVALID_DATE:b", "NEGATIVE_AMOUNT:c"]) == ["NEGATIVE_AMOUNT", "INVALID_DATE"]


def sample_records(name: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (first line number, fields) of each record, read with Python's csv module."""
    records = []
    with open(SAMPLES / name, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        previous_end = reader.line_num
        for fields in reader:
            first = previous_end + 1
            previous_end = reader.line_num
            if fields:
                records.append((first, fields))
    return header, records


@pytest.mark.parametrize("name", sorted(json.loads((SAMPLES / "expected.json").read_text())))
def test_samples_match_expected_verdicts(spark: SparkSession, name: str) -> None:
    expected = json.loads((SAMPLES / "expected.json").read_text())[name]
    header, records = sample_records(name)
    malformed = {str(line) for line, fields in records if len(fields) != len(header)}
    well_formed = [(line, fields) for line, fields in records if len(fields) == len(header)]
    df = spark.createDataFrame([(line, *fields) for line, fields in well_formed], ", ".join(["_line long", *[f"`{h}` string" for h in header]]))
    found = {str(r["_line"]): list(r[ISSUES]) for r in validate_claims(df, TODAY).collect() if r[ISSUES]}
    assert found == {k: v for k, v in expected.items() if v != ["MALFORMED_ROW"]}
    assert malformed == {k for k, v in expected.items() if v == ["MALFORMED_ROW"]}
