"""The one way every job starts: on Glue through awsglue, on a laptop or in tests through plain Spark.

On Glue (``awsglue`` importable) arguments come from ``getResolvedOptions`` and Spark from GlueContext, and
``commit()`` commits the Glue job (bookmarks). Locally the same flag names are parsed with argparse and a
plain SparkSession is built (or the active one reused, so tests and the local runner pay for one JVM).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

LOG = logging.getLogger(__name__)

LOCAL_JOB_NAME_SUFFIX = "-local"
_LOG4J_PROPERTIES = Path(__file__).with_name("log4j2-local.properties")

# Settings shared by Glue and local runs. UTC so that CSV timestamps without an offset mean the same thing
# everywhere; TIMESTAMP_MICROS instead of Spark's legacy INT96 so Parquet readers (Athena, pyarrow) get a
# standard logical type. Dates and timestamps are written as they are (proleptic Gregorian, what pyarrow, Athena
# and Python read): Spark's default refuses to write a date before 1582-10-15 or a timestamp before 1900 with
# SparkUpgradeException, which failed a whole run over one historic value such as 1850-03-01 (value rules:
# any date from year 1 is a date).
SESSION_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",
    "spark.sql.parquet.int96RebaseModeInWrite": "CORRECTED",
}


# The throughput collector: a local run is a batch job where pauses do not matter, and on two cores G1's
# concurrent threads and write barriers cost more CPU than they save (docs/benchmarks.md has the figures).
LOCAL_JVM_OPTIONS: tuple[str, ...] = (
    f"-Dlog4j2.configurationFile={_LOG4J_PROPERTIES.as_uri()}",
    "-XX:+UseParallelGC",
)


# Local disks only: Hadoop's default local file system keeps a ".<name>.crc" file beside each file and builds
# its path as a relative child name, which fails for a name holding ':' ("Relative path in absolute URI:
# .c:d.csv.crc"), so an input file named after an S3 key such as "c:d.csv" could not be read. The raw local
# file system has no checksum files; the cache is bypassed so that the setting also wins over a local file
# system an earlier job of the same session already created. S3 (EMRFS on Glue) has no checksum layer.
LOCAL_HADOOP_CONF: dict[str, str] = {
    "fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
    "fs.file.impl.disable.cache": "true",
}


def use_raw_local_filesystem(spark: SparkSession) -> None:
    conf = spark.sparkContext._jsc.hadoopConfiguration()  # noqa: SLF001 - the session's Hadoop configuration
    for key, value in LOCAL_HADOOP_CONF.items():
        conf.set(key, value)


def glue_available() -> bool:
    try:
        import awsglue  # noqa: F401  (only present on Glue)
    except ImportError:
        return False
    return True


def local_spark_session(app_name: str = "glue-pipeline-local", cores: str = "*") -> SparkSession:
    """A local SparkSession tuned for a laptop: few shuffle partitions, no UI, quiet logs, UTC."""
    active = SparkSession.getActiveSession()
    if active is not None:
        for key, value in SESSION_CONF.items():
            active.conf.set(key, value)
        use_raw_local_filesystem(active)
        return active
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "3g"))
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.driver.extraJavaOptions", " ".join(LOCAL_JVM_OPTIONS))
    )
    for key, value in SESSION_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    use_raw_local_filesystem(spark)
    return spark


@dataclass
class JobRuntime:
    """Arguments, Spark and the commit hook of one job run."""

    spark: SparkSession
    args: dict[str, str | None]
    on_glue: bool
    _glue_job: Any = field(default=None, repr=False)

    @property
    def job_name(self) -> str:
        return str(self.args["JOB_NAME"])

    @property
    def job_run_id(self) -> str | None:
        return self.args.get("JOB_RUN_ID")

    def commit(self) -> None:
        if self._glue_job is not None:
            self._glue_job.commit()


def _present(flag: str, argv: Sequence[str]) -> bool:
    return any(a == f"--{flag}" or a.startswith(f"--{flag}=") for a in argv)


def parse_local_args(
    argv: Sequence[str], required: Sequence[str], optional: Mapping[str, str | None], default_job_name: str
) -> dict[str, str | None]:
    parser = argparse.ArgumentParser(description=f"{default_job_name} (local run)")
    parser.add_argument("--JOB_NAME", default=default_job_name)
    parser.add_argument("--JOB_RUN_ID", default=None)
    for name in required:
        parser.add_argument(f"--{name}", required=True)
    for name, default in optional.items():
        parser.add_argument(f"--{name}", default=default)
    # Glue adds flags of its own (--job-bookmark-option, --TempDir, ...); ignore what we do not use.
    known, _ = parser.parse_known_args(list(argv))
    return vars(known)


def start_job(
    argv: Sequence[str] | None,
    required: Sequence[str],
    optional: Mapping[str, str | None] | None = None,
    default_job_name: str = "job",
) -> JobRuntime:
    """Parses arguments and returns Spark: Glue's when running on Glue, a local session otherwise.

    ``optional`` maps flag name to default. getResolvedOptions cannot express optional flags, so on Glue an
    optional flag is asked for only when it is present in ``argv``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    optional = dict(optional or {})
    local_name = default_job_name + LOCAL_JOB_NAME_SUFFIX
    if not glue_available():
        args = parse_local_args(argv, required, optional, local_name)
        return JobRuntime(spark=local_spark_session(args["JOB_NAME"] or local_name), args=args, on_glue=False)

    from awsglue.context import GlueContext  # type: ignore[import-not-found]
    from awsglue.job import Job  # type: ignore[import-not-found]
    from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]
    from pyspark.context import SparkContext

    wanted = ["JOB_NAME", *required, *[n for n in optional if _present(n, argv)]]
    if _present("JOB_RUN_ID", argv):
        wanted.append("JOB_RUN_ID")
    # getResolvedOptions reads the script name from position 0.
    resolved: dict[str, str | None] = dict(getResolvedOptions(["script", *argv], wanted))
    args: dict[str, str | None] = {**optional, "JOB_RUN_ID": None, **resolved}
    glue_context = GlueContext(SparkContext.getOrCreate())
    spark = glue_context.spark_session
    for key, value in SESSION_CONF.items():
        spark.conf.set(key, value)
    job = Job(glue_context)
    job.init(str(args["JOB_NAME"]), args)
    return JobRuntime(spark=spark, args=args, on_glue=True, _glue_job=job)
