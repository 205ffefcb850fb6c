"""Staging and publishing a converted file on S3, with the Spark path's layout and guarantees.

The Spark path (glue_pipeline.file_job) writes into a run-scoped ``_staging/<token>/`` prefix and moves it into
place through Hadoop's FileSystem. S3 has no rename, so here publication is: upload the local files to the same
staging prefixes, copy them (server-side) to the final prefixes under names unique to this run, and only when
every copy succeeded delete the previous run's objects.

Why that is atomic enough, and where it is better than a move:

* **The previous output is untouched on failure.** New objects never overwrite old ones (their names carry the
  run token), and nothing old is deleted until the whole new output — Parquet and quarantine — is in place. A
  failure while copying removes the copies made so far and leaves the prefix exactly as it was.
* **A reader never sees a partial or failed run, nor an empty prefix.** During the deletes (milliseconds for a
  small file's few objects) a listing may return the previous output beside the new one; the Spark path's
  move instead leaves the prefix empty or half-moved for that moment. A failure in the deletes leaves both
  (the run fails, its record says so, and a replay's publication removes the leftovers).
* **Only this file's objects are replaced.** The final prefix is listed one level deep (``Delimiter='/'``):
  the objects a run writes lie directly under it, while deeper "folders" belong to other keys
  (``a.csv`` → ``processed/a/``, ``a/x.csv`` → ``processed/a/x/``) and are never touched.
* **The same layout as a Spark run:** the parts directly under the final prefix, and an empty ``_SUCCESS``
  beside them, as Spark's committer leaves (a reader waiting for the marker sees it only once every part is in
  place).

Every key written, copied or deleted is checked against the run's scope (glue_pipeline.path_scope), the same
check the Spark path makes on its Hadoop paths.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glue_pipeline.file_run import RunPaths
from glue_pipeline.path_scope import assert_in_scope

DELETE_BATCH = 1_000  # DeleteObjects' limit
SUCCESS_MARKER = "_SUCCESS"  # what Spark's FileOutputCommitter leaves in a finished output directory


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of ``s3://bucket/key``."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {uri!r}")
    return bucket, key


def _as_dir(key: str) -> str:
    return key if key.endswith("/") else key + "/"


def _natural(name: str) -> list[Any]:
    """Sort key that orders part-2 before part-10: the engine's parts are written in source order."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def local_parts(directory: Path, pattern: str) -> list[Path]:
    """The engine's output files in source order (none when the directory does not exist)."""
    return sorted((p for p in directory.glob(pattern) if p.is_file()), key=lambda p: _natural(p.name)) if directory.is_dir() else []


def part_name(index: int, token: str, local: Path) -> str:
    """The published name of a part: its position, then the run token, so a run's names never collide with
    the previous run's (which stay readable until the new output is complete)."""
    suffix = "".join(local.suffixes[-2:]) if local.name.endswith(".snappy.parquet") else local.suffix
    return f"part-{index:05d}-{token}{suffix}"


@dataclass(frozen=True)
class StagedPart:
    bucket: str
    staged_key: str
    name: str  # the object's name under the final prefix


def _uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def upload_staged(s3: Any, local_files: Sequence[Path], staging_uri: str, token: str) -> list[StagedPart]:
    """Uploads the engine's files (in order) under ``staging_uri``/; returns what publication copies."""
    bucket, prefix = split_s3_uri(staging_uri)
    staged: list[StagedPart] = []
    for index, local in enumerate(local_files):
        name = part_name(index, token, local)
        key = _as_dir(prefix) + name
        assert_in_scope(_uri(bucket, key))
        with local.open("rb") as body:
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        staged.append(StagedPart(bucket, key, name))
    return staged


def list_level(s3: Any, prefix_uri: str) -> list[str]:
    """The keys directly under ``prefix_uri`` (one level: deeper keys belong to other files)."""
    bucket, prefix = split_s3_uri(prefix_uri)
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=_as_dir(prefix), Delimiter="/"):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def list_all(s3: Any, prefix_uri: str) -> list[str]:
    bucket, prefix = split_s3_uri(prefix_uri)
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=_as_dir(prefix)):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def delete_keys(s3: Any, bucket: str, keys: Iterable[str]) -> None:
    """Deletes ``keys`` (each checked against the run's scope first); raises if S3 reports any not deleted."""
    keys = list(keys)
    for key in keys:
        assert_in_scope(_uri(bucket, key))
    for chunk in _chunks(keys, DELETE_BATCH):
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True})
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise OSError(f"could not delete {len(answer['Errors'])} object(s), first {first.get('Key')!r}: {first.get('Code')} {first.get('Message')}")


def publish(s3: Any, paths: RunPaths, output: Sequence[StagedPart], quarantine: Sequence[StagedPart]) -> None:
    """Replaces the file's output and quarantine with the staged parts (see the module docstring for the
    guarantees). Either list may be empty: the final prefix is then emptied, as a Spark run in place would."""
    plan = [(paths.output_path, output), (paths.quarantine_path, quarantine)]
    previous = [(final, list_level(s3, final)) for final, _ in plan]
    copied: list[tuple[str, str]] = []
    try:
        for final, parts in plan:
            bucket, prefix = split_s3_uri(final)
            for part in parts:
                target = _as_dir(prefix) + part.name
                assert_in_scope(_uri(bucket, target))
                s3.copy_object(Bucket=bucket, Key=target, CopySource={"Bucket": part.bucket, "Key": part.staged_key})
                copied.append((bucket, target))
    except BaseException:
        # Put the prefixes back as they were: nothing old was touched, so removing the new copies suffices.
        for bucket in dict.fromkeys(b for b, _ in copied):
            delete_keys(s3, bucket, [k for b, k in copied if b == bucket])
        raise
    new = set(copied)
    # Spark's committer marks a finished write with an empty _SUCCESS object; so does this publication, once
    # every part is in place (an identical empty object overwrites the previous run's, so it joins no rollback).
    for final, parts in plan:
        if parts:
            bucket, prefix = split_s3_uri(final)
            marker = _as_dir(prefix) + SUCCESS_MARKER
            assert_in_scope(_uri(bucket, marker))
            s3.put_object(Bucket=bucket, Key=marker, Body=b"")
            new.add((bucket, marker))
    for final, keys in previous:
        bucket, _ = split_s3_uri(final)
        delete_keys(s3, bucket, [k for k in keys if (bucket, k) not in new])


def remove_staging(s3: Any, paths: RunPaths) -> None:
    """Deletes everything under this run's staging prefixes."""
    for root in paths.staging_roots:
        bucket, _ = split_s3_uri(root)
        delete_keys(s3, bucket, list_all(s3, root))
