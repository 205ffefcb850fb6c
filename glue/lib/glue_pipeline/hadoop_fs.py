"""File-system questions asked through Spark's own Hadoop FileSystem.

Going through the JVM means one code path for local paths, ``file://`` URIs and ``s3://`` on Glue (where
the S3 file system and its credentials are already configured), with no boto3 calls for data files.
"""

from __future__ import annotations

import re
from typing import Any

from pyspark.sql import SparkSession

# The path checks are Spark-free (the fast path's converter uses them too); imported back so every Spark
# caller keeps asking this module.
from glue_pipeline.path_scope import (  # noqa: F401 - re-exported
    PathOutsideScopeError,
    assert_in_scope,
    is_within,
    path_problem,
    scratch_root,
    write_scope,
)


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


def list_children(spark: SparkSession, path: str) -> list[tuple[str, bool]]:
    """The names directly under a directory, each with whether it is a directory; [] when it does not exist.

    One level only: a publication replaces the files it owns and must not descend into another key's prefix.
    """
    hadoop_path, fs = _path_and_fs(spark, path)
    if not fs.exists(hadoop_path) or not fs.getFileStatus(hadoop_path).isDirectory():
        return []
    return sorted((str(status.getPath().getName()), bool(status.isDirectory())) for status in fs.listStatus(hadoop_path))


def is_empty_directory(spark: SparkSession, path: str) -> bool:
    """True for an existing directory with nothing under it (never for a file)."""
    hadoop_path, fs = _path_and_fs(spark, path)
    return bool(fs.exists(hadoop_path) and fs.getFileStatus(hadoop_path).isDirectory()
                and not fs.listStatus(hadoop_path))


def delete_path(spark: SparkSession, path: str) -> bool:
    """Deletes a file or directory tree; True when something was deleted. Inside a :func:`write_scope`, a
    path outside it raises PathOutsideScopeError before anything is touched."""
    assert_in_scope(path)
    hadoop_path, fs = _path_and_fs(spark, path)
    return bool(fs.delete(hadoop_path, True))


def rename_path(spark: SparkSession, source: str, target: str) -> None:
    """Moves a file or directory tree to ``target`` (which must not exist); its parent is created first.

    On HDFS and local disks a rename is atomic; on S3 it is a copy then a delete of each object, so a file
    job renames only its own finished, reconciled staging output (see file_job.publish_outputs).
    """
    assert_in_scope(source)
    assert_in_scope(target)
    source_path, fs = _path_and_fs(spark, source)
    target_path, _ = _path_and_fs(spark, target.rstrip("/") if target.rstrip("/") else target)
    if fs.exists(target_path):
        raise FileExistsError(f"cannot move {source} to {target}: the target exists")
    fs.mkdirs(target_path.getParent())
    if not fs.rename(source_path, target_path):
        raise OSError(f"could not move {source} to {target}")


# ---------------------------------------------------------------------------------------------------------
# Keys are data: literal reads (the confined writes: glue_pipeline.path_scope)
# ---------------------------------------------------------------------------------------------------------

# Hadoop's glob syntax (Globber/GlobPattern): these characters make a read path a pattern, and a backslash
# escapes the next one. An S3 key may hold any of them.
_GLOB_CHARACTERS = re.compile(r"([\\*?\[\]{}])")


def literal_path(path: str) -> str:
    """``path`` escaped so Spark's readers match exactly that file or directory, never a pattern.

    Spark globs every path it reads (``spark.read.*``): ``r[1].csv`` would read ``r1.csv`` and ``*.csv`` every
    neighbour. Writes and FileSystem calls (exists, delete, rename) take paths literally and must NOT be
    given an escaped path (the backslashes would become part of the name).
    """
    return _GLOB_CHARACTERS.sub(r"\\\1", path)
