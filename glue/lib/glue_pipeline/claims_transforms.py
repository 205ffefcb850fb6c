"""Healthcare claims transforms: split valid from invalid records, keep the latest version of each
claim, fill and standardise, enrich (derived fields, categories, risk score), aggregate; plus the Spark
settings the job runs with. Pure DataFrame → DataFrame functions; reading and writing live in claims_job.

**Nulls.** Empty strings and whitespace are null. ``claim_version`` and ``units`` default to 1 (the schema's
``default``), ``claim_status`` to ``UNKNOWN``. Amounts and dates are never imputed: an absent paid amount is
not a zero payment.

**Standard formats.** Codes upper-case; ICD-10 codes with their dot after the third character (``E119`` →
``E11.9``); dates as DATE from any accepted format; amounts DECIMAL(12,2).

**Deduplication.** One row per ``claim_id``: the highest ``claim_version`` wins; between rows of the same
version, the one paid last, then (for a deterministic choice between true duplicates) the smallest hash of the
raw record. The others are not dropped silently: they are quarantined as ``DUPLICATE_SUPERSEDED``.

**Risk score** (0-100, higher = review first), the sum of:

==========================================================  ======
billed amount ≥ 10,000 (1,000 ≤ billed < 10,000)            30 (15)
chronic or high-cost diagnosis: diabetes E08-E13, any       20
circulatory I, COPD J44, CKD N18, malignant neoplasm C
institutional claim                                         15
paid amount above the allowed amount                        15
denied claim                                                10
paid more than 90 days after service                        10
==========================================================  ======

capped at 100. ``risk_level``: LOW below 30, MEDIUM below 60, HIGH from 60.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from glue_pipeline.claims_rules import ISSUES, validate_claims
from glue_pipeline.claims_schema import ClaimsSchema, load_schema

TYPED_PREFIX = "_t_"
QUARANTINE_REASON = "quarantine_reason"
QUARANTINE_DETAIL = "quarantine_detail"
DUPLICATE_SUPERSEDED = "DUPLICATE_SUPERSEDED"
PARTITION_COLUMNS = ("year", "month", "file_id")

# ---------------------------------------------------------------------------------------------- Spark settings

GIB = 1_000_000_000
HUNDRED_MB = 100_000_000


def partition_count(input_size_bytes: int) -> int:
    """Shuffle partitions for a file of this size: 200 above 1 GB, 50 above 100 MB, else 10.
    Adaptive execution then coalesces them to the data actually shuffled."""
    if input_size_bytes < 0:
        raise ValueError(f"input size must not be negative, got {input_size_bytes}")
    if input_size_bytes > GIB:
        return 200
    if input_size_bytes > HUNDRED_MB:
        return 50
    return 10


def claims_spark_conf(input_size_bytes: int) -> dict[str, str]:
    """Session settings of a claims run: adaptive query execution with partition coalescing and skew-join
    handling, ~128 MB partitions, the shuffle width from :func:`partition_count`, Snappy Parquet with
    predicate push-down, UTC, partition values read back as strings."""
    return {
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        "spark.sql.adaptive.skewJoin.enabled": "true",
        "spark.sql.adaptive.advisoryPartitionSizeInBytes": str(128 * 1024 * 1024),
        "spark.sql.shuffle.partitions": str(partition_count(input_size_bytes)),
        "spark.sql.parquet.compression.codec": "snappy",
        "spark.sql.parquet.filterPushdown": "true",
        "spark.sql.session.timeZone": "UTC",
        # Partition values are read back as written ("03", not 3): the job compares them with what it wrote.
        "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    }


def configure_spark(spark: SparkSession, input_size_bytes: int) -> dict[str, str]:
    """Applies :func:`claims_spark_conf` to the session; returns what was set."""
    conf = claims_spark_conf(input_size_bytes)
    for key, value in conf.items():
        spark.conf.set(key, value)
    return conf


# -------------------------------------------------------------------------------------------- validation split


def checkpoint_locally(df: DataFrame) -> DataFrame:
    """Materialises ``df`` on the executors and cuts its lineage (for small data and tests; the job
    materialises to Parquet instead, which survives the loss of an executor)."""
    return df.localCheckpoint(eager=True)


def split_valid(
    staged: DataFrame,
    reference_date: date,
    schema: ClaimsSchema | None = None,
    materialize: Callable[[DataFrame], DataFrame] = checkpoint_locally,
) -> tuple[DataFrame, DataFrame]:
    """(valid, invalid). ``staged`` holds the file's columns as strings (plus any metadata columns).

    valid: the raw columns plus typed ``_t_<field>`` columns. invalid: the raw columns plus
    ``quarantine_reason`` (the first rule broken) and ``quarantine_detail`` (every ``RULE:field``).

    The checked records are materialised before they are split: filtering on ``issues`` would otherwise let
    Spark's optimiser push the filter below the projections that compute it, inlining every parse into
    every rule that reads the value, and the plan would grow too large to optimise in reasonable time."""
    schema = schema or load_schema()
    checked = materialize(validate_claims(staged, reference_date, schema, prefix=TYPED_PREFIX))
    raw_columns = [c for c in staged.columns]
    valid = checked.where(F.size(ISSUES) == 0).drop(ISSUES)
    invalid = checked.where(F.size(ISSUES) > 0).select(
        *[F.col(f"`{c}`") for c in raw_columns],
        F.split(F.element_at(ISSUES, 1), ":").getItem(0).alias(QUARANTINE_REASON),
        F.array_join(ISSUES, "; ").alias(QUARANTINE_DETAIL),
    )
    return valid, invalid


# ---------------------------------------------------------------------------------------------- standardising


def standardise_icd10(code: Column) -> Column:
    """``E119`` and ``E11.9`` → ``E11.9``; three-character codes unchanged."""
    bare = F.regexp_replace(code, r"\.", "")
    return F.when(F.length(bare) > 3, F.concat(F.substring(bare, 1, 3), F.lit("."), F.substring(bare, 4, 4))).otherwise(bare)


def standardise(valid: DataFrame, schema: ClaimsSchema | None = None) -> DataFrame:
    """The typed columns under their field names, defaults filled, codes in standard form; the raw string
    columns and any extra (undeclared) columns dropped. Metadata columns (processed_at, source_file,
    processing_job) are kept."""
    schema = schema or load_schema()
    declared = set(schema.field_names)
    typed = {f.name: F.col(f"{TYPED_PREFIX}{f.name}") for f in schema.fields}
    for f in schema.fields:
        if f.default is not None:
            typed[f.name] = F.coalesce(typed[f.name], F.lit(f.default))
    typed["diagnosis_code"] = standardise_icd10(typed["diagnosis_code"])
    typed["claim_status"] = F.coalesce(typed["claim_status"], F.lit("UNKNOWN"))
    keep = [c for c in ("processed_at", "source_file", "processing_job") if c in valid.columns]
    raw_hash = F.sha2(F.to_json(F.struct(*[F.col(f"`{c}`") for c in valid.columns if c in declared])), 256)
    return valid.select(*[typed[f.name].alias(f.name) for f in schema.fields], *keep, raw_hash.alias("_raw_hash"))


def deduplicate(claims: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(latest, superseded): one row per claim_id (module doc for the order); ``superseded`` carries
    ``quarantine_reason`` DUPLICATE_SUPERSEDED and a detail naming the version that won."""
    order = Window.partitionBy("claim_id").orderBy(
        F.col("claim_version").desc(), F.col("paid_date").desc_nulls_last(), F.col("_raw_hash").asc()
    )
    ranked = claims.withColumn("_rank", F.row_number().over(order)).withColumn(
        "_winner_version", F.first("claim_version").over(order)
    )
    latest = ranked.where(F.col("_rank") == 1).drop("_rank", "_winner_version", "_raw_hash")
    superseded = ranked.where(F.col("_rank") > 1).select(
        *[c for c in claims.columns if c != "_raw_hash"],
        F.lit(DUPLICATE_SUPERSEDED).alias(QUARANTINE_REASON),
        F.format_string(
            "claim %s version %d superseded by version %d of the same file", F.col("claim_id"), F.col("claim_version"), F.col("_winner_version")
        ).alias(QUARANTINE_DETAIL),
    )
    return latest, superseded


# ------------------------------------------------------------------------------------------------- enrichment

CHRONIC_DIAGNOSIS = r"^(E0[89]|E1[0-3]|I|J44|N18|C)"


def service_category(code: Column) -> Column:
    """CPT section or HCPCS Level II group of a procedure code."""
    n = F.when(code.rlike(r"^[0-9]{5}$"), code.cast("int"))
    return (
        F.when(code.rlike(r"^[0-9]{4}F$"), "PERFORMANCE_MEASURE")
        .when(code.rlike(r"^[0-9]{4}T$"), "EMERGING_TECHNOLOGY")
        .when(code.rlike(r"^[0-9]{4}U$"), "PATHOLOGY_LAB")
        .when(code.startswith("J"), "DRUGS")
        .when(code.rlike(r"^[AEKL]"), "SUPPLIES_DME")
        .when(code.rlike(r"^[A-V]"), "HCPCS_SERVICES")
        .when(n.between(100, 1999), "ANESTHESIA")
        .when(n.between(10004, 69990), "SURGERY")
        .when(n.between(70010, 79999), "RADIOLOGY")
        .when(n.between(80047, 89398), "PATHOLOGY_LAB")
        .when(n.between(99202, 99499), "EVALUATION_MANAGEMENT")
        .when(n.between(90281, 99607), "MEDICINE")
        .otherwise("OTHER")
    )


def diagnosis_category(code: Column) -> Column:
    """ICD-10-CM chapter of a diagnosis code."""
    letter = F.substring(code, 1, 1)
    digit = F.substring(code, 2, 1).cast("int")
    return (
        F.when(letter.isin("A", "B"), "INFECTIOUS")
        .when((letter == "C") | ((letter == "D") & (digit <= 4)), "NEOPLASMS")
        .when(letter == "D", "BLOOD_IMMUNE")
        .when(letter == "E", "ENDOCRINE_METABOLIC")
        .when(letter == "F", "MENTAL_BEHAVIOURAL")
        .when(letter == "G", "NERVOUS_SYSTEM")
        .when((letter == "H") & (digit <= 5), "EYE")
        .when(letter == "H", "EAR")
        .when(letter == "I", "CIRCULATORY")
        .when(letter == "J", "RESPIRATORY")
        .when(letter == "K", "DIGESTIVE")
        .when(letter == "L", "SKIN")
        .when(letter == "M", "MUSCULOSKELETAL")
        .when(letter == "N", "GENITOURINARY")
        .when(letter == "O", "PREGNANCY")
        .when(letter == "P", "PERINATAL")
        .when(letter == "Q", "CONGENITAL")
        .when(letter == "R", "SYMPTOMS_SIGNS")
        .when(letter.isin("S", "T"), "INJURY_POISONING")
        .when(letter == "U", "SPECIAL_PURPOSE")
        .when(letter.isin("V", "W", "X", "Y"), "EXTERNAL_CAUSES")
        .when(letter == "Z", "HEALTH_SERVICES")
        .otherwise("OTHER")
    )


def risk_score(claims: DataFrame) -> Column:
    """The documented risk score (module doc); needs ``days_to_payment``."""
    billed = F.col("billed_amount")
    points = (
        F.when(billed >= 10000, 30).when(billed >= 1000, 15).otherwise(0)
        + F.when(F.col("diagnosis_code").rlike(CHRONIC_DIAGNOSIS), 20).otherwise(0)
        + F.when(F.col("claim_type") == "INSTITUTIONAL", 15).otherwise(0)
        + F.when(F.col("paid_amount") > F.col("allowed_amount"), 15).otherwise(0)
        + F.when(F.col("claim_status") == "DENIED", 10).otherwise(0)
        + F.when(F.col("days_to_payment") > 90, 10).otherwise(0)
    )
    return F.least(points, F.lit(100))


def enrich(claims: DataFrame, file_id: str) -> DataFrame:
    """Adds derived fields, categories, the risk score and the partition columns (year, month, file_id)."""
    with_days = claims.withColumn("days_to_payment", F.datediff("paid_date", "service_date"))
    scored = with_days.withColumn("risk_score", risk_score(with_days))
    return scored.select(
        "*",
        F.when(F.col("billed_amount") > 0, F.round(F.col("paid_amount") / F.col("billed_amount"), 4).cast("decimal(7,4)")).alias("payment_ratio"),
        # greatest() skips nulls: without the guard an unknown payment would read as a responsibility of 0.
        F.when(
            F.col("allowed_amount").isNotNull() & F.col("paid_amount").isNotNull(),
            F.greatest(F.col("allowed_amount") - F.col("paid_amount"), F.lit(0)),
        )
        .cast("decimal(12,2)")
        .alias("patient_responsibility"),
        service_category(F.col("procedure_code")).alias("service_category"),
        diagnosis_category(F.col("diagnosis_code")).alias("diagnosis_category"),
        F.when(F.col("billed_amount") < 500, "LOW")
        .when(F.col("billed_amount") < 5000, "MEDIUM")
        .when(F.col("billed_amount") < 50000, "HIGH")
        .otherwise("VERY_HIGH")
        .alias("cost_band"),
        F.when(F.col("risk_score") >= 60, "HIGH").when(F.col("risk_score") >= 30, "MEDIUM").otherwise("LOW").alias("risk_level"),
        F.date_format("service_date", "yyyy").alias("year"),
        F.date_format("service_date", "MM").alias("month"),
        F.lit(file_id).alias("file_id"),
    )


def aggregate(enriched: DataFrame) -> DataFrame:
    """Monthly summary per claim type, service category and status. Every measure is additive (sums and
    counts, no averages), so summaries of several files add up: average = sum / count."""
    return enriched.groupBy("year", "month", "file_id", "claim_type", "service_category", "claim_status").agg(
        F.count(F.lit(1)).alias("claim_count"),
        F.sum("units").cast("long").alias("units_total"),
        F.sum("billed_amount").cast("decimal(18,2)").alias("billed_total"),
        F.sum(F.coalesce("allowed_amount", F.lit(0))).cast("decimal(18,2)").alias("allowed_total"),
        F.sum(F.coalesce("paid_amount", F.lit(0))).cast("decimal(18,2)").alias("paid_total"),
        F.sum(F.when(F.col("risk_level") == "HIGH", 1).otherwise(0)).cast("long").alias("high_risk_count"),
        F.sum("risk_score").cast("long").alias("risk_score_sum"),
        F.sum(F.when(F.col("days_to_payment").isNotNull(), 1).otherwise(0)).cast("long").alias("paid_claim_count"),
        F.sum("days_to_payment").cast("long").alias("days_to_payment_sum"),
    )
