"""File-system questions asked through Spark's own Hadoop FileSystem.

Going through the JVM means one code path for local paths, ``file://`` URIs and ``s3://`` on Glue (where
the S3 file system and its credentials are already configured), with no boto3 calls for data files.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession


def _path_and_fs(spark: SparkSession, path: str) -> tuple[Any, Any]:
    jvm = spark.sparkContext._jvm  # noqa: SLF001 - py4j gateway, the only way to reach Hadoop's FileSystem
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())  # noqa: SLF001
    return hadoop_path, fs


def path_exists(spark: SparkSession, path: str) -> bool:
    hadoop_path, fs = _path_and_fs(spark, path)
    return bool(fs.exists(hadoop_path))


def file_size_bytes(spark: SparkSession, path: str) -> int:
    """Size of one input file; FileNotFoundError when it is missing (a missing input is an error, not empty)."""
    hadoop_path, fs = _path_and_fs(spark, path)
    if not fs.exists(hadoop_path):
        raise FileNotFoundError(f"input {path} does not exist")
    return int(fs.getContentSummary(hadoop_path).getLength())


def path_size_bytes(spark: SparkSession, path: str) -> int:
    """Size of a file, or the total size of the files under a directory; 0 when the path does not exist."""
    hadoop_path, fs = _path_and_fs(spark, path)
    if not fs.exists(hadoop_path):
        return 0
    return int(fs.getContentSummary(hadoop_path).getLength())


def delete_path(spark: SparkSession, path: str) -> bool:
    """Deletes a file or directory tree; True when something was deleted."""
    hadoop_path, fs = _path_and_fs(spark, path)
    return bool(fs.delete(hadoop_path, True))
