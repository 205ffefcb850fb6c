"""Runs Glue job runs on local Spark against the AWS emulator: the Python half of localGlueRunner.ts.

Reads one JSON document on stdin: {"runs": [{"job_name", "job_run_id", "script", "arguments"}]}, where
``arguments`` are the run's Glue arguments (``--name``: value, the job's defaults merged, as Glue passes them)
and ``script`` is the job's entry script in glue/jobs, the file uploaded to Glue. All runs share one local
SparkSession (runtime.local_spark_session reuses the active one), so a batch pays for one JVM start.

The job gets its arguments exactly as Glue passes them, ``s3://`` URIs included, so everything it does with
them runs as on Glue: its source-version check HEADs the emulator's (versioned) bucket through boto3
(AWS_ENDPOINT_URL in the environment), its scope checks see the real paths, its record names them. Only
Spark's bytes take a detour: the pyspark wheel has no S3 file system (hadoop-aws is not in it, and nothing
may be downloaded here), so Hadoop's ``s3``/``s3a`` schemes are mounted on local directories, one per bucket
(ViewFileSystemOverloadScheme, in Spark's own Hadoop jars), and the runner copies between them and the
emulator around each run:

* before it, the object each input argument names, as a read without a version gets it (the key's current
  version, which is what EMRFS reads on Glue); a key that is gone is left absent, so the job's own check or
  read decides what that means;
* before it too, what is already under each output location (so a run that publishes nothing leaves it as
  it was, and a publication replaces it as on S3);
* after it, whether the run succeeded or failed (a failed run's partial output is what the smoke checks must
  catch), each output location is made equal to its local copy: new and changed files uploaded, files the
  run removed deleted.

The input is copied just before the job's first HEAD, where Glue would read it just after: the same version
unless the key changes in those milliseconds, which no test does.

Writes one JSON line per run on stdout: {"job_run_id", "state": "SUCCEEDED"|"FAILED", "error", "summary",
"uploaded", "deleted"}.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3

# Arguments that name data locations; the others are passed through unchanged.
INPUT_ARGS = ("--input_path",)
OUTPUT_ARGS = ("--output_path", "--quarantine_path")
# The schemes a Glue job may name S3 with; each is served by the mounted local directories.
S3_SCHEMES = ("s3", "s3a")
# Hadoop's per-bucket mount table: a path of the bucket that matches no other link goes to the fallback.
OVERLOAD_SCHEME = "org.apache.hadoop.fs.viewfs.ViewFileSystemOverloadScheme"


def split_s3(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme not in S3_SCHEMES:
        raise ValueError(f"not an S3 URI: {uri}")
    return parsed.netloc, parsed.path.lstrip("/")


def is_s3(value: str) -> bool:
    return urlparse(value).scheme in S3_SCHEMES


class LocalS3:
    """The emulator's buckets as Spark sees them in this process: ``<root>/<bucket>/<key>``."""

    def __init__(self, s3: Any, root: Path) -> None:
        self.s3 = s3
        self.root = root
        self.mounted: set[str] = set()

    def mount(self, spark: Any, bucket: str) -> None:
        """Routes ``s3://<bucket>/…`` (and s3a) to the bucket's local directory. Set before the bucket is
        first used, and the directory never moves, so Hadoop's cached file system instances stay valid."""
        if bucket in self.mounted:
            return
        conf = spark.sparkContext._jsc.hadoopConfiguration()  # noqa: SLF001 - the session's Hadoop configuration
        for scheme in S3_SCHEMES:
            conf.set(f"fs.{scheme}.impl", OVERLOAD_SCHEME)
        local = self.root / bucket
        local.mkdir(parents=True, exist_ok=True)
        conf.set(f"fs.viewfs.mounttable.{bucket}.linkFallback", local.as_uri())
        self.mounted.add(bucket)

    def clear(self) -> None:
        """Forgets every copy: each run starts from what the emulator holds."""
        for bucket in self.mounted:
            shutil.rmtree(self.root / bucket, ignore_errors=True)
            (self.root / bucket).mkdir(parents=True)

    def local(self, bucket: str, key: str) -> Path:
        return self.root / bucket / key

    def download_input(self, uri: str) -> None:
        """The object (current version) or every object under the prefix ``uri`` names; nothing when gone."""
        bucket, key = split_s3(uri)
        if not key.endswith("/"):
            from glue_pipeline.file_job import head_current  # noqa: PLC0415 - PYTHONPATH names glue/lib

            if head_current(self.s3, f"s3://{bucket}/{key}") is not None:
                self._get(bucket, key)
            return
        for obj in self._list(bucket, key):
            self._get(bucket, obj)

    def snapshot_output(self, uri: str) -> dict[str, str]:
        """Copies what is under the output location ``uri``; returns key → MD5 of what was copied."""
        bucket, prefix = self._prefix(uri)
        return {key: self._get(bucket, key) for key in self._list(bucket, prefix)}

    def sync_output(self, uri: str, before: dict[str, str]) -> tuple[list[str], list[str]]:
        """Makes the emulator's objects under ``uri`` equal to the local copy; returns (uploaded, deleted)."""
        bucket, prefix = self._prefix(uri)
        base = self.local(bucket, prefix)
        now: dict[str, Path] = {}
        if base.exists():
            for path in sorted(p for p in base.rglob("*") if p.is_file() and not p.name.endswith(".crc")):
                now[prefix + path.relative_to(base).as_posix()] = path
        uploaded = [key for key, path in now.items() if before.get(key) != _md5(path)]
        for key in uploaded:
            self.s3.upload_file(str(now[key]), bucket, key)
        deleted = sorted(key for key in before if key not in now)
        for key in deleted:
            self.s3.delete_object(Bucket=bucket, Key=key)
        return uploaded, deleted

    def _prefix(self, uri: str) -> tuple[str, str]:
        bucket, prefix = split_s3(uri)
        return bucket, prefix if not prefix or prefix.endswith("/") else prefix + "/"

    def _list(self, bucket: str, prefix: str) -> list[str]:
        return [obj["Key"] for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
                for obj in page.get("Contents", [])]  # fmt: skip

    def _get(self, bucket: str, key: str) -> str:
        local = self.local(bucket, key)
        local.parent.mkdir(parents=True, exist_ok=True)
        self.s3.download_file(bucket, key, str(local))
        return _md5(local)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()  # noqa: S324 - change detection, not security


def load_job(script: str) -> Any:
    spec = importlib.util.spec_from_file_location(Path(script).stem, script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_one(spark: Any, store: LocalS3, run: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, str] = dict(run["arguments"])
    for value in args.values():
        if is_s3(value):
            store.mount(spark, split_s3(value)[0])
    store.clear()
    for name in INPUT_ARGS:
        if name in args and is_s3(args[name]):
            store.download_input(args[name])
    outputs = {args[name]: store.snapshot_output(args[name]) for name in OUTPUT_ARGS if name in args and is_s3(args[name])}
    argv = ["--JOB_NAME", run["job_name"], "--JOB_RUN_ID", run["job_run_id"]]
    for name, value in args.items():
        argv += [name, value]
    result: dict[str, Any] = {"job_run_id": run["job_run_id"]}
    try:
        result["summary"] = load_job(run["script"]).main(argv)
        result["state"] = "SUCCEEDED"
    except Exception as err:  # noqa: BLE001 - a failed run is a result, reported like Glue reports it
        traceback.print_exc(file=sys.stderr)
        result.update(state="FAILED", error=f"{type(err).__name__}: {err}")
    result["uploaded"], result["deleted"] = [], []
    for uri, before in outputs.items():
        uploaded, deleted = store.sync_output(uri, before)
        result["uploaded"] += uploaded
        result["deleted"] += deleted
    return result


def main() -> None:
    request = json.load(sys.stdin)
    from glue_pipeline.runtime import local_spark_session  # noqa: PLC0415 - PYTHONPATH names glue/lib

    # The session every job of the batch reuses; the mounts are set on its Hadoop configuration.
    spark = local_spark_session()
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    with tempfile.TemporaryDirectory(prefix="local-glue-s3-") as tmp:
        store = LocalS3(s3, Path(tmp))
        for run in request["runs"]:
            result = run_one(spark, store, run)
            # The runner's own protocol line, told apart from the job's printed summary by its prefix.
            print("LOCAL_GLUE_RUN " + json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main()
