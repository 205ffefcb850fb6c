"""The medallion job's run: which bronze objects are new, reading them, writing silver, rejected, gold, and the bookmark.

**Bookmark.** Only new bronze objects are processed. The job keeps its own bookmark instead of Glue's job
bookmarks: a manifest per committed run under ``<state_path>processed/`` listing the bronze objects (key
below the bronze root, size, modification time) that run consumed. A run lists bronze, subtracts what the manifests hold, processes
the rest and, only after silver and gold are written, commits its manifest — the same "commit at the end"
contract as ``job.commit()``. Why not Glue's bookmarks: they need a DynamicFrame source and ``awsglue``, which
do not exist on local Spark, so the logic that decides what is new could never be tested off AWS; they
track S3 objects by modification time, which makes "reprocess these pages" a console reset rather than
deleting one manifest; and their state is opaque. This bookmark is the same code locally (``file://``) and on
Glue (``s3://``, through Spark's Hadoop file system), readable JSON, and a retried run that failed before its
commit simply processes the same objects again (every write below is idempotent). A bronze object rewritten
by a retried ingestion has a new modification time, so it counts as new; silver and gold keep one row per
order either way. Runs must not overlap (the Glue job allows one concurrent run).

**Writes.** Silver (JSON lines, gzip) and rejected records go to ``<path>YYYY/MM/DD/<run_id>/``, overwritten
by a retry of the same run. Gold is merged: the day partitions the new orders fall in are read, unioned
with the new orders, reduced to one row per order, and written back with dynamic partition overwrite, so
other days are never touched. ``daily_sales`` is recomputed for those days from the gold orders as written.
Parquet is Snappy-compressed; each day partition is written by one task, in files of about
``target_file_mb`` (``maxRecordsPerFile`` from the bytes per row measured on the existing gold data).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue_pipeline import medallion as m

LOG = logging.getLogger(__name__)

#: Bytes per gold order row before any gold exists to measure (Snappy Parquet of this schema is ~60-90).
DEFAULT_BYTES_PER_ORDER = 100.0
ORDERS_TABLE = "orders"
DAILY_SALES_TABLE = "daily_sales"


@dataclass(frozen=True)
class MedallionPaths:
    """Directory URIs (``s3://bucket/prefix/`` on Glue, ``file:///...`` or plain paths locally), ending in ``/``."""

    bronze: str
    silver: str
    gold: str
    rejected: str
    state: str

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not value.endswith("/"):
                raise ValueError(f"{name} path must end with '/': {value}")


@dataclass(frozen=True)
class BronzeObject:
    #: Full URI, for reading.
    path: str
    #: Path below the bronze root: what the bookmark records, so a copied or moved lake keeps its bookmark.
    key: str
    size: int
    modified: int

    @property
    def identity(self) -> tuple[str, int, int]:
        return (self.key, self.size, self.modified)


@dataclass
class RunSummary:
    run_id: str
    run_date: str
    bronze_objects_listed: int = 0
    bronze_objects_new: int = 0
    pages_rejected: int = 0
    records_read: int = 0
    records_rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    silver_records: int = 0
    duplicates_dropped: int = 0
    gold_partitions: list[str] = field(default_factory=list)
    gold_orders_in_partitions: int = 0
    daily_sales_rows: int = 0
    records_per_file: int = 0
    committed_manifest: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- Hadoop file system (one code path for file:// and s3://) ---------------------------------------------


def _fs(spark: SparkSession, path: str) -> tuple[Any, Any]:
    jvm = spark.sparkContext._jvm  # noqa: SLF001 - py4j gateway: Spark's own Hadoop FileSystem
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path, hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())  # noqa: SLF001


def list_bronze_objects(spark: SparkSession, bronze_path: str) -> list[BronzeObject]:
    """Every page object under ``bronze_path`` (``*.json``, not hidden: ``_`` and ``.`` names are Spark/S3 markers)."""
    root, fs = _fs(spark, bronze_path)
    if not fs.exists(root):
        return []
    prefix = fs.makeQualified(root).toString().rstrip("/") + "/"
    found: list[BronzeObject] = []
    files = fs.listFiles(root, True)
    while files.hasNext():
        status = files.next()
        name = status.getPath().getName()
        if name.endswith(".json") and not name.startswith(("_", ".")):
            uri = status.getPath().toString()
            key = uri[len(prefix):] if uri.startswith(prefix) else uri
            found.append(BronzeObject(uri, key, int(status.getLen()), int(status.getModificationTime())))
    return sorted(found, key=lambda o: o.path)


def _write_text(spark: SparkSession, path: str, text: str) -> None:
    hadoop_path, fs = _fs(spark, path)
    stream = fs.create(hadoop_path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def _dir_size_bytes(spark: SparkSession, path: str) -> int:
    hadoop_path, fs = _fs(spark, path)
    return int(fs.getContentSummary(hadoop_path).getLength()) if fs.exists(hadoop_path) else 0


def _exists(spark: SparkSession, path: str) -> bool:
    hadoop_path, fs = _fs(spark, path)
    return bool(fs.exists(hadoop_path))


class Bookmark:
    """The set of bronze objects committed runs have processed (see the module docstring)."""

    def __init__(self, spark: SparkSession, state_path: str):
        self.spark = spark
        self.manifest_dir = f"{state_path}processed/"

    def processed(self) -> set[tuple[str, int, int]]:
        if not _exists(self.spark, self.manifest_dir):
            return set()
        rows = self.spark.read.text(self.manifest_dir, wholetext=True).collect()
        done: set[tuple[str, int, int]] = set()
        for row in rows:
            manifest = json.loads(row.value)
            done.update((o["key"], int(o["size"]), int(o["modified"])) for o in manifest["objects"])
        return done

    def new_objects(self, listed: list[BronzeObject]) -> list[BronzeObject]:
        done = self.processed()
        return [o for o in listed if o.identity not in done]

    def commit(self, run_id: str, objects: list[BronzeObject], summary: dict[str, Any]) -> str:
        committed_at = datetime.now(timezone.utc)
        path = f"{self.manifest_dir}{run_id}__{committed_at.strftime('%Y%m%dT%H%M%S%fZ')}.json"
        manifest = {"run_id": run_id, "committed_at": committed_at.isoformat(), "summary": summary, "objects": [asdict(o) for o in objects]}
        _write_text(self.spark, path, json.dumps(manifest, indent=1))
        return path


# --- the run ----------------------------------------------------------------------------------------------


def _date_dir(run_date: str) -> str:
    year, month, day = run_date.split("-")
    return f"{year}/{month}/{day}/"


def _read_pages(spark: SparkSession, objects: list[BronzeObject]) -> DataFrame:
    return spark.read.text([o.path for o in objects], wholetext=True).withColumn("source_file", F.input_file_name())


def write_gold_table(frame: DataFrame, path: str, max_records: int) -> None:
    """Writes a gold table: Snappy Parquet, partitioned year=/month=/day=, only the partitions in `frame` replaced."""
    # One task per day partition (files are not split across tasks), capped at max_records rows per file.
    (
        frame.repartition(*m.PARTITION_COLUMNS)
        .sortWithinPartitions(*m.PARTITION_COLUMNS)
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .option("compression", "snappy")
        .option("maxRecordsPerFile", max_records)
        .partitionBy(*m.PARTITION_COLUMNS)
        .parquet(path)
    )


def _partition_dir(base: str, partition: tuple[str, str, str]) -> str:
    year, month, day = partition
    return f"{base}year={year}/month={month}/day={day}/"


def run_medallion(
    spark: SparkSession,
    paths: MedallionPaths,
    run_id: str,
    run_date: str | None = None,
    target_file_mb: int = 128,
) -> RunSummary:
    """Processes the bronze objects no committed run has processed; returns what it did."""
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    run_date = run_date or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    datetime.strptime(run_date, "%Y-%m-%d")
    summary = RunSummary(run_id=run_id, run_date=run_date)
    bookmark = Bookmark(spark, paths.state)

    listed = list_bronze_objects(spark, paths.bronze)
    new = bookmark.new_objects(listed)
    summary.bronze_objects_listed, summary.bronze_objects_new = len(listed), len(new)
    LOG.info("bronze: %d objects listed, %d new", len(listed), len(new))
    if not new:
        return summary

    records, rejected_pages = m.records_from_pages(_read_pages(spark, new), run_id)
    records = records.cache()
    result = m.to_silver(records)
    rejected = rejected_pages.unionByName(result.rejected).cache()
    valid_count = result.valid_before_dedup.count()
    silver = result.silver.cache()

    summary.records_read = records.count()
    reasons = Counter({row["reason"]: row["count"] for row in rejected.groupBy("reason").count().collect()})
    summary.pages_rejected = reasons.get(m.R_PAGE_NOT_JSON, 0)
    summary.rejected_by_reason = dict(sorted(reasons.items()))
    summary.records_rejected = sum(reasons.values()) - summary.pages_rejected
    summary.silver_records = silver.count()
    summary.duplicates_dropped = valid_count - summary.silver_records

    run_dir = f"{_date_dir(run_date)}{run_id}/"
    if summary.silver_records > 0:
        silver.write.mode("overwrite").option("compression", "gzip").json(f"{paths.silver}{run_dir}")
    if sum(reasons.values()) > 0:
        rejected.write.mode("overwrite").option("compression", "gzip").json(f"{paths.rejected}{run_dir}")

    if summary.silver_records > 0:
        incoming = m.gold_orders(silver).cache()
        partitions = sorted({(r["year"], r["month"], r["day"]) for r in incoming.select(*m.PARTITION_COLUMNS).distinct().collect()})
        summary.gold_partitions = [f"year={y}/month={mo}/day={d}" for y, mo, d in partitions]
        orders_path = f"{paths.gold}{ORDERS_TABLE}/"
        existing = None
        bytes_per_row = DEFAULT_BYTES_PER_ORDER
        if _exists(spark, orders_path):
            # With the gold schema given, partition values stay text ("04"); inferred, they would become
            # integers and the merged rows would land in day=4 next to day=04.
            existing = spark.read.schema(incoming.schema).parquet(orders_path).where(m.partition_filter(partitions))
            existing_rows = existing.count()
            existing_bytes = sum(_dir_size_bytes(spark, _partition_dir(orders_path, p)) for p in partitions)
            if existing_rows > 0 and existing_bytes > 0:
                bytes_per_row = existing_bytes / existing_rows
        summary.records_per_file = m.records_per_file(target_file_mb * 1024 * 1024, bytes_per_row)
        write_gold_table(m.merge_orders(existing, incoming), orders_path, summary.records_per_file)

        written = spark.read.schema(incoming.schema).parquet(orders_path).where(m.partition_filter(partitions)).cache()
        summary.gold_orders_in_partitions = written.count()
        daily = m.daily_sales(written)
        summary.daily_sales_rows = daily.count()
        write_gold_table(daily, f"{paths.gold}{DAILY_SALES_TABLE}/", summary.records_per_file)
        for frame in (incoming, written):
            frame.unpersist()

    summary.committed_manifest = bookmark.commit(run_id, new, {k: v for k, v in summary.as_dict().items() if k != "committed_manifest"})
    for frame in (records, rejected, silver):
        frame.unpersist()
    LOG.info("medallion run %s: %s", run_id, json.dumps(summary.as_dict()))
    return summary


# --- local runs -------------------------------------------------------------------------------------------


def stage_sample_pages(spark: SparkSession, samples: list[tuple[str, str]], bronze_path: str, run_date: str, run_id: str) -> list[str]:
    """Lands sample API pages (``(file name, text)``) in bronze as the ingestion Lambda would (local runs)."""
    written = []
    for i, (_name, text) in enumerate(samples, start=1):
        path = f"{bronze_path}{_date_dir(run_date)}{run_id}/page-{i:05d}.json"
        _write_text(spark, path, text)
        written.append(path)
    return written


def layer_counts(summary: RunSummary) -> str:
    """One line of per-layer counts, as the local runner prints it."""
    return (
        f"bronze {summary.bronze_objects_new} page(s)/{summary.records_read} record(s); "
        f"silver {summary.silver_records} ({summary.duplicates_dropped} duplicate(s) dropped); "
        f"rejected {summary.records_rejected} record(s) {json.dumps(summary.rejected_by_reason, sort_keys=True)}"
        f"{f' and {summary.pages_rejected} page(s)' if summary.pages_rejected else ''}; "
        f"gold orders {summary.gold_orders_in_partitions} row(s) in {len(summary.gold_partitions)} day partition(s), "
        f"daily_sales {summary.daily_sales_rows} row(s)"
    )


def run_local_sample(spark: SparkSession, pages: list[str], output_dir: str, run_date: str = "2025-11-05") -> tuple[RunSummary, MedallionPaths]:
    """``npm run local -- --job medallion``: lands API pages (file paths) in a fresh local bronze layer as the
    ingestion Lambda would, and runs bronze → silver → gold on them. Outputs under ``output_dir``."""
    import shutil
    from pathlib import Path

    if not pages:
        raise FileNotFoundError("no API pages to run on")
    root = Path(output_dir).resolve()
    shutil.rmtree(root, ignore_errors=True)
    paths = MedallionPaths(*(f"{root / layer}/" for layer in ("raw", "processed", "curated", "rejected", "_state")))
    run_id = f"local-{run_date.replace('-', '')}"
    stage_sample_pages(spark, [(Path(p).name, Path(p).read_text(encoding="utf-8")) for p in pages], paths.bronze, run_date, run_id)
    return run_medallion(spark, paths, run_id=run_id, run_date=run_date), paths
