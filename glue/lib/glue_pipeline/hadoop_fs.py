"""File-system questions asked through Spark's own Hadoop FileSystem.

Going through the JVM means one code path for local paths, ``file://`` URIs and ``s3://`` on Glue (where
the S3 file system and its credentials are already configured), with no boto3 calls for data files.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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
# Keys are data: literal reads, confined writes
# ---------------------------------------------------------------------------------------------------------

# Hadoop's glob syntax (Globber/GlobPattern): these characters make a read path a pattern, and a backslash
# escapes the next one. An S3 key may hold any of them.
_GLOB_CHARACTERS = re.compile(r"([\\*?\[\]{}])")
# What a run-scoped path must avoid so that every later read of it is literal without escaping: the glob
# characters, and ':' (Hadoop's Path parses "a:b" in a relative child name as a URI scheme and fails).
_UNSAFE_IN_SCRATCH = re.compile(r"[\\*?\[\]{}:]")


def literal_path(path: str) -> str:
    """``path`` escaped so Spark's readers match exactly that file or directory, never a pattern.

    Spark globs every path it reads (``spark.read.*``): ``r[1].csv`` would read ``r1.csv`` and ``*.csv`` every
    neighbour. Writes and FileSystem calls (exists, delete, rename) take paths literally and must NOT be
    given an escaped path (the backslashes would become part of the name).
    """
    return _GLOB_CHARACTERS.sub(r"\\\1", path)


class PathOutsideScopeError(RuntimeError):
    """A write or delete aimed outside the prefixes this run owns for its file."""


def _split_uri(path: str) -> tuple[str, str]:
    """(``scheme://authority`` or "", the path part)."""
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/]*)(/.*)?$", path)
    if match:
        return match.group(1), match.group(2) or "/"
    return "", path


def path_problem(path: str) -> str | None:
    """Why ``path`` cannot be trusted to mean what its text says, or None.

    Hadoop's Path normalises ``.`` and ``..`` segments (``processed/x/../../`` is the bucket root) and S3
    treats ``//`` as an empty-named folder, so a path holding any of them is refused rather than resolved.
    """
    _, rest = _split_uri(path)
    segments = rest.split("/")
    inner = segments[1:-1] if rest.startswith("/") else segments[:-1]
    # Every segment but the leading root and a trailing slash must be a real name.
    for segment in inner + ([segments[-1]] if segments[-1] else []):
        if segment in (".", ".."):
            return f"path {path!r} has a '{segment}' segment"
        if segment == "":
            return f"path {path!r} has an empty segment ('//')"
    return None


def is_within(path: str, prefix: str) -> bool:
    """True when ``path`` is ``prefix`` itself or lies below it (both taken literally, no normalisation)."""
    prefix = prefix.rstrip("/")
    return path.rstrip("/") == prefix or path.startswith(prefix + "/")


_SCOPE: contextvars.ContextVar[tuple[str, ...] | None] = contextvars.ContextVar("write_scope", default=None)


@contextmanager
def write_scope(prefixes: Iterable[str]) -> Iterator[tuple[str, ...]]:
    """Within the block, :func:`delete_path` and :func:`rename_path` refuse any path outside ``prefixes``
    (see :func:`assert_in_scope`). A file job opens one around its conversion and publication."""
    scope = tuple(prefixes)
    for prefix in scope:
        problem = path_problem(prefix)
        if problem:
            raise PathOutsideScopeError(problem)
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)


def assert_in_scope(path: str) -> None:
    """Raises PathOutsideScopeError unless ``path`` is clean and under the active write scope (if any)."""
    scope = _SCOPE.get()
    if scope is None:
        return
    problem = path_problem(path)
    if problem:
        raise PathOutsideScopeError(problem)
    if not any(is_within(path, prefix) for prefix in scope):
        raise PathOutsideScopeError(f"refusing to write or delete {path!r}: outside this run's prefixes {list(scope)}")


def scratch_root(path: str) -> str:
    """The nearest ancestor of ``path`` (a directory, ending with '/') whose text needs no escaping: no glob
    characters, no ':' beyond the scheme's. A run's staging prefix goes under it, so Spark can write and
    read back its output there with plain paths whatever characters the key held."""
    base, rest = _split_uri(path)
    segments = [s for s in rest.split("/") if s]
    kept: list[str] = []
    for segment in segments[:-1]:
        if _UNSAFE_IN_SCRATCH.search(segment):
            break
        kept.append(segment)
    lead = "/" if rest.startswith("/") else ""
    return base + lead + "".join(s + "/" for s in kept) if kept else base + lead
