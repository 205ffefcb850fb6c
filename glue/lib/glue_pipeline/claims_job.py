"""One run of the claims job: a validated claims CSV → partitioned Parquet, aggregations, quarantined records.

Steps (each record ends in exactly one place, and the counts are checked to add up):

1. **Read** with the CSV reader every job shares (:func:`glue_pipeline.csv_processing.convert_csv`), all
   columns as strings, into a staging directory, with the malformed records (wrong field count, unclosed
   quote) and their reason. This is the run's only read of the source: when the run was given a source check,
   it asks it again here, and a version replaced or deleted since the check before the read (the entry
   script's) ends the run with :class:`SourceChanged` before anything outside staging is written. Otherwise
   the malformed records move to ``<quarantine>/malformed/``.
2. **Validate** the staged records with the declared rules (:mod:`glue_pipeline.claims_rules`, the rules the
   validation Lambda applied to admit the file), materialised once to Parquet under the staging directory;
   records breaking any rule are quarantined under ``<quarantine>/rules/`` with every rule they break.
3. **Standardise, de-duplicate** (latest version of each claim; the others quarantined as
   DUPLICATE_SUPERSEDED), **enrich** (:mod:`glue_pipeline.claims_transforms`).
4. **Write** the claims table under ``<output>/year=YYYY/month=MM/file_id=<id>/`` and the monthly aggregation
   under ``<aggregation>/year=/month=/file_id=/`` with dynamic partition overwrite: a run replaces only its own
   file's partitions (a replay is idempotent; concurrent runs of different files never touch each other's),
   then removes partitions of the same file it did not write again. Files of about 128 MB (REBALANCE with
   adaptive execution).
5. **Reconcile**: rows in = rows written + malformed + invalid + superseded, with "written" counted from the
   Parquet files; then the staging directory is removed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue_pipeline import claims_transforms as ct
from glue_pipeline.claims_schema import load_schema
from glue_pipeline.csv_processing import METADATA_COLUMNS, CsvOptions, ReconciliationError, convert_csv
from glue_pipeline.file_job import head_current
from glue_pipeline.hadoop_fs import delete_path, literal_path, path_exists, path_size_bytes, rename_path
from glue_pipeline.metadata import STATUS_SOURCE_DELETED, STATUS_SUPERSEDED

LOG = logging.getLogger(__name__)

CLAIMS_TABLE_PARTITIONS = ct.PARTITION_COLUMNS


@dataclass(frozen=True)
class ClaimsPaths:
    """``input`` is the CSV file; the others are directories ending in ``/`` (s3:// on Glue, local paths or
    file:// URIs locally)."""

    input: str
    output: str
    aggregation: str
    quarantine: str
    staging: str

    def __post_init__(self) -> None:
        for name in ("output", "aggregation", "quarantine", "staging"):
            if not getattr(self, name).endswith("/"):
                raise ValueError(f"{name} path must end with '/': {getattr(self, name)}")

    @property
    def malformed(self) -> str:
        return f"{self.quarantine}malformed/"

    @property
    def rejected(self) -> str:
        return f"{self.quarantine}rules/"

    @property
    def staged_rows(self) -> str:
        return f"{self.staging}rows/"

    @property
    def staged_malformed(self) -> str:
        return f"{self.staging}malformed/"

    @property
    def checked_rows(self) -> str:
        return f"{self.staging}checked/"


@dataclass
class ClaimsRunSummary:
    outcome: str
    rows_in: int = 0
    rows_written: int = 0
    rows_quarantined: int = 0
    rows_malformed: int = 0
    rows_invalid: int = 0
    rows_superseded: int = 0
    input_size_bytes: int = 0
    output_size_bytes: int = 0
    aggregation_rows: int = 0
    shuffle_partitions: int = 0
    partitions: list[str] = field(default_factory=list)
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


# (status, reason): SUPERSEDED or SOURCE_DELETED with why, as source_problem answers; None when current.
SourceCheck = Callable[[], "tuple[str, str] | None"]


class SourceChanged(Exception):
    """The validated version stopped being the key's current one while the run read it (``status``
    SUPERSEDED or SOURCE_DELETED): the run wrote nothing outside its staging directory, which it removed."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class ClaimsFileRejected(ValueError):
    """The file as a whole breaks a file-level rule of claims_schema.json (the rule id is ``rule``): the run
    fails naming it and writes nothing, as the validation Lambda quarantines such a file without a run."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule


def non_utf8_lines(spark: SparkSession, path: str) -> int:
    """Lines of ``path`` holding bytes that are not UTF-8. Spark's text reader keeps a line's bytes as read
    (its strings are UTF-8 bytes, never validated); encoding them to a Java string replaces each invalid
    sequence with U+FFFD, so a line whose re-encoded bytes differ from its raw bytes is not UTF-8. One pass
    over the file, before the reader (which would otherwise write the replacement characters as values)."""
    raw = F.col("value").cast("binary")
    # literal_path: the key is a name, never a glob (the validation Lambda accepts keys holding *?[]{}).
    return int(spark.read.text(literal_path(path)).where(raw != F.encode(F.col("value"), "UTF-8")).count())


def _fs(spark: SparkSession, path: str):
    jvm = spark.sparkContext._jvm  # noqa: SLF001 - py4j gateway to Hadoop's FileSystem
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path, hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())  # noqa: SLF001


def file_partitions(spark: SparkSession, table: str, file_id: str) -> list[str]:
    """``year=…/month=…`` of every partition directory of ``file_id`` under ``table``."""
    pattern, fs = _fs(spark, f"{table}year=*/month=*/file_id={file_id}")
    statuses = fs.globStatus(pattern) or []
    found = []
    for status in statuses:
        p = status.getPath()
        found.append(f"{p.getParent().getParent().getName()}/{p.getParent().getName()}")
    return sorted(found)


def remove_file_partitions(spark: SparkSession, table: str, file_id: str, keep: set[str]) -> list[str]:
    """Deletes partitions of ``file_id`` other than ``keep`` (what this run wrote); returns the deleted ones."""
    removed = []
    for partition in file_partitions(spark, table, file_id):
        if partition not in keep:
            delete_path(spark, f"{table}{partition}/file_id={file_id}")
            removed.append(partition)
    return removed


def read_file_partitions(spark: SparkSession, table: str, file_id: str) -> DataFrame:
    """This file's rows of a table, with the partition columns, without listing other files' partitions."""
    return spark.read.option("basePath", table).parquet(f"{table}year=*/month=*/file_id={file_id}")


def _write_partitioned(df: DataFrame, path: str) -> None:
    # REBALANCE keeps each partition's rows together and, with adaptive execution, splits or merges tasks
    # towards the advisory size (~128 MB files). PySpark's DataFrame.hint cannot pass columns to it, SQL can.
    rebalanced = df.sparkSession.sql(f"SELECT /*+ REBALANCE({', '.join(CLAIMS_TABLE_PARTITIONS)}) */ * FROM {{df}}", df=df)
    (
        rebalanced.write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .option("compression", "snappy")
        .partitionBy(*CLAIMS_TABLE_PARTITIONS)
        .parquet(path)
    )


def quarantine_records(invalid: DataFrame, superseded: DataFrame, schema_fields: tuple[str, ...]) -> DataFrame:
    """Both kinds of rejected records in one shape: reason, detail, claim id, the record as JSON, metadata."""
    raw = [c for c in invalid.columns if c not in (*METADATA_COLUMNS, ct.QUARANTINE_REASON, ct.QUARANTINE_DETAIL)]
    meta = [F.col(c) for c in METADATA_COLUMNS]

    def shaped(df: DataFrame, record_columns: list[str]) -> DataFrame:
        return df.select(
            F.col(ct.QUARANTINE_REASON),
            F.col(ct.QUARANTINE_DETAIL),
            F.col("claim_id").cast("string").alias("claim_id"),
            F.to_json(F.struct(*[F.col(f"`{c}`") for c in record_columns])).alias("raw_record"),
            *[m.cast("string") for m in meta],
        )

    typed = [c for c in schema_fields if c in superseded.columns]
    return shaped(invalid, raw).unionByName(shaped(superseded, typed))


def source_problem(input_path: str, expected_version: str | None, s3_client: Any = None) -> tuple[str, str] | None:
    """``(status, reason)`` when ``input_path`` (s3://) no longer holds ``expected_version`` (a version id, or the
    ETag in an unversioned bucket): SUPERSEDED when another version is current, SOURCE_DELETED when the key is
    gone. Spark reads a key, not a version: without this check a file replaced after validation would be
    processed unvalidated under the old version's file id. The newer upload has its own event, validation and
    run. None when it is current, for local paths, and for runs without an expected version (the file jobs'
    rule, file_job.source_version_problem, with the claims flow's one version argument)."""
    if not expected_version or not input_path.startswith("s3://"):
        return None
    if s3_client is None:
        import boto3

        s3_client = boto3.client("s3")
    head = head_current(s3_client, input_path)
    if head is None:
        return STATUS_SOURCE_DELETED, f"{input_path} (validated version {expected_version}) was deleted before it was processed"
    current = head.get("VersionId") or ""
    if current in ("", "null"):
        current = str(head.get("ETag", "")).strip('"')
    if current != expected_version:
        return (
            STATUS_SUPERSEDED,
            f"{input_path} was replaced after validation (validated version {expected_version}, now {current}); "
            "the newer upload is validated and processed by its own run",
        )
    return None


def run_claims(
    spark: SparkSession,
    paths: ClaimsPaths,
    *,
    source_file: str,
    file_id: str,
    processing_job: str,
    processed_at: datetime,
    reference_date: date,
    csv_options: CsvOptions | None = None,
    source_check: SourceCheck | None = None,
) -> ClaimsRunSummary:
    """Processes one file (module doc). Raises ReconciliationError when the counts do not add up, and
    SourceChanged when ``source_check`` reports a problem once the source has been read.

    The claims settings (AQE, shuffle width, partition values as strings) hold for this run only: locally one
    session serves every job (the runner, the tests), and they must not change how the next job reads."""
    keys = list(ct.claims_spark_conf(0))
    previous = {key: spark.conf.get(key, None) for key in keys}
    try:
        return _run_claims(
            spark, paths, source_file=source_file, file_id=file_id, processing_job=processing_job,
            processed_at=processed_at, reference_date=reference_date, csv_options=csv_options,
            source_check=source_check,
        )  # fmt: skip
    finally:
        for key, value in previous.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


def _run_claims(
    spark: SparkSession,
    paths: ClaimsPaths,
    *,
    source_file: str,
    file_id: str,
    processing_job: str,
    processed_at: datetime,
    reference_date: date,
    csv_options: CsvOptions | None,
    source_check: SourceCheck | None,
) -> ClaimsRunSummary:
    schema = load_schema()
    if not path_exists(spark, paths.input):
        # The shared reader would treat a missing file as an empty one; a claims file that vanished is an error.
        raise FileNotFoundError(f"claims file {paths.input} does not exist")
    bad_lines = non_utf8_lines(spark, paths.input)
    if bad_lines:
        # Checked before anything is written: the file's previous output, if any, stays as it was.
        raise ClaimsFileRejected(
            "INVALID_ENCODING", f"{bad_lines} line(s) of {paths.input} hold bytes that are not UTF-8; nothing was replaced or written"
        )
    input_size = path_size_bytes(spark, paths.input)
    conf = ct.configure_spark(spark, input_size)
    # Every column a string: the declared schema types the values (inference would strip leading zeros).
    options = replace(csv_options or CsvOptions(), infer_types=False)
    conversion = convert_csv(spark, paths.input, paths.staged_rows, paths.staged_malformed, source_file, processing_job, processed_at, options)
    # The second look at the source (module doc, step 1): everything after this reads the staged rows.
    problem = source_check() if source_check is not None else None
    if problem is not None:
        delete_path(spark, paths.staging)
        raise SourceChanged(*problem)
    # Replaces the file's previous malformed records, or removes them when this read found none.
    delete_path(spark, paths.malformed)
    if path_exists(spark, paths.staged_malformed):
        rename_path(spark, paths.staged_malformed, paths.malformed)
    summary = ClaimsRunSummary(
        outcome=conversion.outcome,
        rows_in=conversion.rows_in,
        rows_malformed=conversion.rows_quarantined,
        input_size_bytes=input_size,
        shuffle_partitions=int(conf["spark.sql.shuffle.partitions"]),
        quarantine_reasons=dict(conversion.quarantine_reasons),
    )

    staged = spark.read.parquet(paths.staged_rows) if conversion.rows_written else None
    if staged is None:
        valid_rows = invalid_rows = superseded_rows = written = 0
        delete_path(spark, paths.rejected)
        remove_file_partitions(spark, paths.output, file_id, keep=set())
        remove_file_partitions(spark, paths.aggregation, file_id, keep=set())
    else:
        def materialize(checked: DataFrame) -> DataFrame:
            checked.write.mode("overwrite").parquet(paths.checked_rows)
            return spark.read.parquet(paths.checked_rows)

        valid, invalid = ct.split_valid(staged, reference_date, schema, materialize=materialize)
        latest, superseded = ct.deduplicate(ct.standardise(valid, schema))
        enriched = ct.enrich(latest, file_id)
        _write_partitioned(enriched, paths.output)

        written_df = read_file_partitions(spark, paths.output, file_id) if file_partitions(spark, paths.output, file_id) else None
        written = written_df.count() if written_df is not None else 0
        partitions = {f"year={r['year']}/month={r['month']}" for r in written_df.select("year", "month").distinct().collect()} if written_df is not None else set()
        remove_file_partitions(spark, paths.output, file_id, keep=partitions)
        if written_df is not None:
            aggregated = ct.aggregate(written_df)
            _write_partitioned(aggregated, paths.aggregation)
            summary.aggregation_rows = aggregated.count()
        remove_file_partitions(spark, paths.aggregation, file_id, keep=partitions)
        summary.partitions = sorted(partitions)

        rejected = quarantine_records(invalid, superseded, schema.field_names)
        rejected_counts = {r[ct.QUARANTINE_REASON]: r["count"] for r in rejected.groupBy(ct.QUARANTINE_REASON).count().collect()}
        superseded_rows = rejected_counts.get(ct.DUPLICATE_SUPERSEDED, 0)
        invalid_rows = sum(rejected_counts.values()) - superseded_rows
        if rejected_counts:
            rejected.coalesce(1).write.mode("overwrite").option("compression", "none").json(paths.rejected)
        else:
            delete_path(spark, paths.rejected)
        for reason, count in rejected_counts.items():
            summary.quarantine_reasons[reason] = summary.quarantine_reasons.get(reason, 0) + count
        valid_rows = written + superseded_rows
        if valid_rows + invalid_rows != conversion.rows_written:
            raise ReconciliationError(
                f"{conversion.rows_written} staged records but {written} written + {superseded_rows} superseded + {invalid_rows} invalid"
            )

    summary.rows_written = written
    summary.rows_invalid = invalid_rows
    summary.rows_superseded = superseded_rows
    summary.rows_quarantined = summary.rows_malformed + invalid_rows + superseded_rows
    if summary.rows_in != summary.rows_written + summary.rows_quarantined:
        raise ReconciliationError(
            f"rows_in={summary.rows_in} but {summary.rows_written} were written and {summary.rows_quarantined} quarantined"
        )
    summary.output_size_bytes = sum(
        path_size_bytes(spark, f"{paths.output}{p}/file_id={file_id}") for p in summary.partitions
    )
    delete_path(spark, paths.staging)
    LOG.info("claims run: %s", summary.as_dict())
    return summary
