"""Claims transforms on local Spark: partition sizing and the Spark settings, the valid/invalid split,
standardisation, de-duplication (latest version wins, the rest accounted for), enrichment and the risk score,
the additive aggregation. Whole rows are compared."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from pyspark.sql import SparkSession

from glue_pipeline import claims_transforms as ct
from glue_pipeline.claims_schema import load_schema

COLUMNS = list(load_schema().field_names)
BASE = {
    "claim_id": "CLM-1", "claim_version": "1", "patient_id": "PAT-1", "provider_npi": "1234567893", "claim_type": "PROFESSIONAL",
    "service_date": "2024-03-01", "paid_date": "2024-03-20", "diagnosis_code": "M54.5", "procedure_code": "99213",
    "billed_amount": "100.00", "allowed_amount": "80.00", "paid_amount": "64.00", "units": "2", "claim_status": "PAID", "place_of_service": "11",
}


def staged(spark: SparkSession, *rows: dict):
    """Records as the CSV reader stages them: string columns (empty values null) plus the metadata columns."""
    data = [(*[{**BASE, **r}[c] or None for c in COLUMNS], datetime(2025, 1, 1), "raw/claims/f.csv", "job-1") for r in rows]
    schema = ", ".join([*(f"{c} string" for c in COLUMNS), "processed_at timestamp", "source_file string", "processing_job string"])
    return spark.createDataFrame(data, schema)


@pytest.mark.parametrize(
    ("size", "partitions"),
    [(0, 10), (100_000_000, 10), (100_000_001, 50), (1_000_000_000, 50), (1_000_000_001, 200), (50 * 1_000_000_000, 200)],
)
def test_partition_count_follows_input_size(size: int, partitions: int) -> None:
    assert ct.partition_count(size) == partitions


def test_partition_count_rejects_a_negative_size() -> None:
    with pytest.raises(ValueError):
        ct.partition_count(-1)


def test_configure_spark_turns_on_adaptive_execution_and_sizes_the_shuffle(spark: SparkSession) -> None:
    keys = list(ct.claims_spark_conf(0))
    before = {k: spark.conf.get(k, None) for k in keys}
    try:
        conf = ct.configure_spark(spark, 2_000_000_000)
        assert {k: spark.conf.get(k) for k in keys} == conf
        assert conf["spark.sql.adaptive.enabled"] == "true"
        assert conf["spark.sql.adaptive.coalescePartitions.enabled"] == "true"
        assert conf["spark.sql.adaptive.skewJoin.enabled"] == "true"
        assert conf["spark.sql.shuffle.partitions"] == "200"
        assert conf["spark.sql.parquet.filterPushdown"] == "true"
        assert ct.configure_spark(spark, 1_000)["spark.sql.shuffle.partitions"] == spark.conf.get("spark.sql.shuffle.partitions") == "10"
    finally:
        for k, v in before.items():
            if v is None:
                spark.conf.unset(k)
            else:
                spark.conf.set(k, v)


def test_the_pipeline_from_staged_records_to_enriched_claims(spark: SparkSession) -> None:
    rows = staged(
        spark,
        # Claim 1 in two versions: version 2 wins.
        {"claim_id": "clm-1", "claim_version": "1"},
        {"claim_version": "2", "claim_status": "ADJUSTED", "paid_amount": "70.00"},
        # Defaults and standard formats.
        {"claim_id": "CLM-2", "claim_version": "", "units": "", "claim_status": "", "paid_date": "", "paid_amount": "", "diagnosis_code": "e119", "service_date": "03/02/2024", "procedure_code": "J1100"},
        # High risk: large institutional bill for a chronic diagnosis, paid above allowed, slow.
        {"claim_id": "CLM-3", "claim_type": "institutional", "billed_amount": "25000.00", "allowed_amount": "10000.00", "paid_amount": "12000.00", "diagnosis_code": "N18.3", "paid_date": "20240715", "procedure_code": "27447"},
        # Invalid: two rules broken.
        {"claim_id": "CLM-4", "units": "0", "billed_amount": "-1.00", "allowed_amount": "", "paid_amount": ""},
    )
    valid, invalid = ct.split_valid(rows, date(2025, 6, 30))
    latest, superseded = ct.deduplicate(ct.standardise(valid))
    enriched = ct.enrich(latest, "f" * 64)

    assert [(r.claim_id, r.quarantine_reason, r.quarantine_detail) for r in invalid.collect()] == [
        ("CLM-4", "NEGATIVE_AMOUNT", "NEGATIVE_AMOUNT:billed_amount; NON_POSITIVE_COUNT:units")
    ]
    assert [(r.claim_id, r.claim_version, r.quarantine_reason, r.quarantine_detail) for r in superseded.collect()] == [
        ("CLM-1", 1, "DUPLICATE_SUPERSEDED", "claim CLM-1 version 1 superseded by version 2 of the same file")
    ]
    got = {r.claim_id: r.asDict() for r in enriched.collect()}
    assert sorted(got) == ["CLM-1", "CLM-2", "CLM-3"]
    pick = lambda r, *names: tuple(r[n] for n in names)  # noqa: E731
    names = ("claim_version", "claim_status", "units", "diagnosis_code", "service_date", "days_to_payment", "payment_ratio",
             "patient_responsibility", "service_category", "diagnosis_category", "cost_band", "risk_score", "risk_level", "year", "month", "file_id")
    assert pick(got["CLM-1"], *names) == (
        2, "ADJUSTED", 2, "M54.5", date(2024, 3, 1), 19, Decimal("0.7000"), Decimal("10.00"), "EVALUATION_MANAGEMENT", "MUSCULOSKELETAL", "LOW", 0, "LOW", "2024", "03", "f" * 64
    )
    assert pick(got["CLM-2"], *names) == (
        1, "UNKNOWN", 1, "E11.9", date(2024, 3, 2), None, None, None, "DRUGS", "ENDOCRINE_METABOLIC", "LOW", 20, "LOW", "2024", "03", "f" * 64
    )
    # 30 (billed >= 10,000) + 20 (N18) + 15 (institutional) + 15 (paid > allowed) + 10 (136 days to payment) = 90.
    assert pick(got["CLM-3"], *names) == (
        1, "PAID", 2, "N18.3", date(2024, 3, 1), 136, Decimal("0.4800"), Decimal("0.00"), "SURGERY", "GENITOURINARY", "HIGH", 90, "HIGH", "2024", "03", "f" * 64
    )
    assert got["CLM-3"]["claim_type"] == "INSTITUTIONAL"
    assert got["CLM-3"]["billed_amount"] == Decimal("25000.00")
    assert {"processed_at", "source_file", "processing_job"} <= set(enriched.columns)
    assert "_raw_hash" not in enriched.columns


def test_dedupe_between_equal_versions_is_deterministic_and_prefers_the_later_payment(spark: SparkSession) -> None:
    rows = staged(
        spark,
        {"paid_date": "2024-03-10", "paid_amount": "10.00"},
        {"paid_date": "2024-03-20", "paid_amount": "20.00"},
        {"paid_date": "", "paid_amount": "30.00"},
    )
    valid, _ = ct.split_valid(rows, date(2025, 6, 30))
    for _ in range(2):
        latest, superseded = ct.deduplicate(ct.standardise(valid))
        assert [r.paid_amount for r in latest.collect()] == [Decimal("20.00")]
        assert sorted(r.paid_amount for r in superseded.collect()) == [Decimal("10.00"), Decimal("30.00")]


@pytest.mark.parametrize(
    ("code", "category"),
    [("00140", "ANESTHESIA"), ("27447", "SURGERY"), ("71046", "RADIOLOGY"), ("80053", "PATHOLOGY_LAB"), ("99213", "EVALUATION_MANAGEMENT"),
     ("93000", "MEDICINE"), ("0001F", "PERFORMANCE_MEASURE"), ("0042T", "EMERGING_TECHNOLOGY"), ("0001U", "PATHOLOGY_LAB"),
     ("J1100", "DRUGS"), ("E0100", "SUPPLIES_DME"), ("G0439", "HCPCS_SERVICES"), ("09999", "OTHER")],
)
def test_service_categories(spark: SparkSession, code: str, category: str) -> None:
    from pyspark.sql import functions as F

    assert spark.range(1).select(ct.service_category(F.lit(code)).alias("c")).first().c == category


def test_aggregates_are_additive(spark: SparkSession) -> None:
    rows = staged(
        spark,
        {"claim_id": "CLM-A", "billed_amount": "100.00", "allowed_amount": "80.00", "paid_amount": "60.00", "units": "1"},
        {"claim_id": "CLM-B", "billed_amount": "300.00", "allowed_amount": "", "paid_amount": "", "units": "3", "paid_date": ""},
        {"claim_id": "CLM-C", "claim_type": "DENTAL", "billed_amount": "50.00", "allowed_amount": "50.00", "paid_amount": "50.00"},
    )
    valid, _ = ct.split_valid(rows, date(2025, 6, 30))
    latest, _ = ct.deduplicate(ct.standardise(valid))
    summary = {(r.claim_type, r.claim_status): r.asDict() for r in ct.aggregate(ct.enrich(latest, "id")).collect()}
    professional = summary[("PROFESSIONAL", "PAID")]
    assert (professional["claim_count"], professional["units_total"], professional["billed_total"], professional["allowed_total"], professional["paid_total"],
            professional["paid_claim_count"], professional["days_to_payment_sum"]) == (2, 4, Decimal("400.00"), Decimal("80.00"), Decimal("60.00"), 1, 19)
    assert summary[("DENTAL", "PAID")]["claim_count"] == 1
    assert sum(r["claim_count"] for r in summary.values()) == 3
