"""ProcessLegislators: the AWS Glue legislators join, persons x memberships x organizations -> history.

Inputs are the three JSON Lines files of the AWS sample dataset (s3://awsglue-datasets/examples/us-legislators/
all/): ``persons.json``, ``memberships.json``, ``organizations.json`` under one input directory.

As in the AWS example, organizations' ``id`` and ``name`` become ``org_id`` and ``org_name`` and their
``identifiers`` and ``other_names`` are dropped (they would collide with the person's); the join keys that only
repeat another column (``person_id`` = ``id``, ``org_id`` = ``organization_id``) are dropped. One history row per
membership, with the person's fields, the membership's and the organization's, then FileProcessorV2's metadata
columns; Parquet partitioned by ``org_name``.

Unlike the example's inner join, nothing disappears silently: a membership whose person or organization is not
in the input, or a membership line that is not valid JSON, is quarantined with its reason, and
memberships_in = history rows + quarantined on every run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue_pipeline.csv_processing import ReconciliationError, add_metadata_columns
from glue_pipeline.hadoop_fs import delete_path, literal_path, path_size_bytes

PERSONS_FILE = "persons.json"
MEMBERSHIPS_FILE = "memberships.json"
ORGANIZATIONS_FILE = "organizations.json"
PARTITION_COLUMN = "org_name"

REASON_MALFORMED = "malformed_json"
REASON_UNKNOWN_PERSON = "unknown_person"
REASON_UNKNOWN_ORGANIZATION = "unknown_organization"

_CORRUPT = "_corrupt_record"
REQUIRED_FIELDS = {
    PERSONS_FILE: ("id", "name"),
    MEMBERSHIPS_FILE: ("person_id", "organization_id"),
    ORGANIZATIONS_FILE: ("id", "name"),
}
#: Organization fields dropped as in the AWS example: they would collide with the person's.
DROPPED_ORGANIZATION_FIELDS = ("identifiers", "other_names")


class InputError(ValueError):
    """An input file is missing, has malformed lines where none are tolerated, or lacks a required field."""


@dataclass(frozen=True)
class HistoryResult:
    persons: int
    organizations: int
    memberships_in: int
    rows_written: int
    rows_quarantined: int
    organizations_written: int
    output_size_bytes: int
    columns: tuple[str, ...]
    quarantine_reasons: dict[str, int] = field(default_factory=dict)


def input_file(input_path: str, name: str) -> str:
    return input_path.rstrip("/") + "/" + name


def read_json_lines(spark: SparkSession, path: str) -> DataFrame:
    # PERMISSIVE keeps malformed lines (in _corrupt_record) so they are counted, never dropped. Cached: Spark
    # refuses queries on a raw JSON scan that reference only the corrupt-record column.
    try:
        # literal_path: the input prefix is a name, never a glob.
        return spark.read.option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", _CORRUPT).json(literal_path(path)).cache()
    except Exception as error:  # AnalysisException: path does not exist
        raise InputError(f"cannot read {path}: {error}") from error


def _require(df: DataFrame, name: str) -> None:
    missing = [c for c in REQUIRED_FIELDS[name] if c not in df.columns]
    if missing:
        raise InputError(f"{name} lacks required field(s) {', '.join(missing)}")


def _without_corrupt(df: DataFrame) -> DataFrame:
    return df.where(F.col(_CORRUPT).isNull()).drop(_CORRUPT) if _CORRUPT in df.columns else df


def _corrupt_count(df: DataFrame) -> int:
    return df.where(F.col(_CORRUPT).isNotNull()).count() if _CORRUPT in df.columns else 0


def organizations_for_join(organizations: DataFrame) -> DataFrame:
    orgs = organizations.drop(*[c for c in DROPPED_ORGANIZATION_FIELDS if c in organizations.columns])
    return orgs.withColumnRenamed("id", "org_id").withColumnRenamed("name", "org_name")


def join_history(persons: DataFrame, memberships: DataFrame, organizations: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(history, unmatched memberships with ``quarantine_reason``). Inputs must be free of malformed lines."""
    orgs = organizations_for_join(organizations)
    person_cols = set(persons.columns)
    clashes = sorted((set(memberships.columns) | set(orgs.columns)) & person_cols)
    clashes += sorted(set(memberships.columns) & (set(orgs.columns) - {"org_id"}))
    if clashes:
        raise InputError(f"fields {clashes} appear in more than one input; the history would be ambiguous")
    # Left joins from memberships, so every membership comes out exactly once: matched, or with a reason.
    # Duplicate ids on the person or organization side would multiply rows; they are rejected instead.
    for df, key, name in ((persons, "id", PERSONS_FILE), (orgs, "org_id", ORGANIZATIONS_FILE)):
        if df.groupBy(key).count().where("count > 1").limit(1).count():
            raise InputError(f"{name} has duplicate {key.replace('org_', '')} values")
    p = persons.withColumn("_person_found", F.lit(True))
    o = F.broadcast(orgs.withColumn("_org_found", F.lit(True)))
    joined = memberships.join(p, memberships["person_id"] == p["id"], "left").join(
        o, memberships["organization_id"] == o["org_id"], "left"
    )
    reason = (
        F.when(F.col("_person_found").isNull(), F.lit(REASON_UNKNOWN_PERSON))
        .when(F.col("_org_found").isNull(), F.lit(REASON_UNKNOWN_ORGANIZATION))
    )  # fmt: skip
    joined = joined.withColumn("quarantine_reason", reason)
    history_cols = list(persons.columns) + [c for c in memberships.columns if c != "person_id"]
    history_cols += [c for c in orgs.columns if c != "org_id"]
    history = joined.where(F.col("quarantine_reason").isNull()).select(*history_cols)
    unmatched = joined.where(F.col("quarantine_reason").isNotNull()).select(*memberships.columns, "quarantine_reason")
    return history, unmatched


def build_history(
    spark: SparkSession,
    input_path: str,
    output_path: str,
    quarantine_path: str,
    source_file: str,
    processing_job: str,
    processed_at: datetime,
) -> HistoryResult:
    """Writes the history as Parquet partitioned by org_name under ``output_path`` (replaced), and unmatched or
    malformed memberships as JSON Lines under ``quarantine_path`` (removed when there are none)."""
    frames = {}
    for name in (PERSONS_FILE, MEMBERSHIPS_FILE, ORGANIZATIONS_FILE):
        frames[name] = read_json_lines(spark, input_file(input_path, name))
    # A malformed person or organization would turn its memberships into "unknown" ones: refuse the input.
    for name in (PERSONS_FILE, ORGANIZATIONS_FILE):
        bad = _corrupt_count(frames[name])
        if bad:
            raise InputError(f"{name} has {bad} malformed line(s)")
    raw_memberships = frames[MEMBERSHIPS_FILE]
    memberships_in = raw_memberships.count()
    malformed = _corrupt_count(raw_memberships)
    persons, organizations = frames[PERSONS_FILE], frames[ORGANIZATIONS_FILE]
    memberships = _without_corrupt(raw_memberships)
    for name, df in ((PERSONS_FILE, persons), (MEMBERSHIPS_FILE, memberships), (ORGANIZATIONS_FILE, organizations)):
        _require(df, name)

    history, unmatched = join_history(persons, memberships, organizations)
    history = add_metadata_columns(history, processed_at, source_file, processing_job)
    history.write.mode("overwrite").partitionBy(PARTITION_COLUMN).option("compression", "snappy").parquet(output_path)

    quarantined = unmatched.select(
        "quarantine_reason", F.to_json(F.struct(*memberships.columns)).alias("raw_record")
    )
    if malformed:
        corrupt = raw_memberships.where(F.col(_CORRUPT).isNotNull()).select(
            F.lit(REASON_MALFORMED).alias("quarantine_reason"), F.col(_CORRUPT).alias("raw_record")
        )
        quarantined = quarantined.unionByName(corrupt)
    quarantined = add_metadata_columns(quarantined, processed_at, source_file, processing_job)
    reasons = {r["quarantine_reason"]: int(r["count"]) for r in quarantined.groupBy("quarantine_reason").count().collect()}
    if reasons:
        quarantined.coalesce(1).write.mode("overwrite").option("compression", "none").json(quarantine_path)
    else:
        delete_path(spark, quarantine_path)

    # Counted from the files written, not from what we meant to write.
    written = spark.read.parquet(output_path)
    rows_written = written.count()
    rows_quarantined = spark.read.text(quarantine_path).count() if reasons else 0
    if memberships_in != rows_written + rows_quarantined or rows_quarantined != sum(reasons.values()):
        raise ReconciliationError(
            f"memberships_in={memberships_in} but the history holds {rows_written} rows and {rows_quarantined} "
            f"were quarantined (reasons {reasons})"
        )
    result = HistoryResult(
        persons=persons.count(),
        organizations=organizations.count(),
        memberships_in=memberships_in,
        rows_written=rows_written,
        rows_quarantined=rows_quarantined,
        organizations_written=written.select(PARTITION_COLUMN).distinct().count(),
        output_size_bytes=path_size_bytes(spark, output_path),
        columns=tuple(written.columns),
        quarantine_reasons=reasons,
    )
    for df in frames.values():
        df.unpersist()
    return result

