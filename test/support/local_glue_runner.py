"""Runs Glue job runs on local Spark against the AWS emulator: the Python half of localGlueRunner.ts.

Reads one JSON document on stdin: {"runs": [{"job_name", "job_run_id", "script", "arguments"}]}, where
``arguments`` are the run's Glue arguments (``--name``: value, the job's defaults merged, as Glue passes them)
and ``script`` is the job's entry script in glue/jobs, the file uploaded to Glue. All runs share one local
SparkSession (runtime.local_spark_session reuses the active one), so a batch pays for one JVM start.

The pyspark wheel has no S3 file system (hadoop-aws is not in it, and nothing may be downloaded here), so
every ``s3://`` argument is mapped to a local directory: the inputs the run reads are downloaded from the
emulator first, and whatever the job wrote under an output location is uploaded to that location after it
ends, whether the run succeeded or failed (a failed run's partial output is what the smoke checks must
catch). The metadata record is written by the job itself, through boto3, to the emulator's DynamoDB
(AWS_ENDPOINT_URL in the environment).

Writes one JSON line per run on stdout: {"job_run_id", "state": "SUCCEEDED"|"FAILED", "error", "summary"}.
"""

from __future__ import annotations

import importlib.util
import json
import os
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


def split_s3(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme not in ("s3", "s3a"):
        raise ValueError(f"not an S3 URI: {uri}")
    return parsed.netloc, parsed.path.lstrip("/")


def download(s3: Any, uri: str, target: Path) -> Path:
    """The object, or every object under the prefix, at ``uri`` into ``target``; returns the local path."""
    bucket, key = split_s3(uri)
    if not key.endswith("/"):
        local = target / Path(key).name
        local.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, key, str(local))
        return local
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
        for obj in page.get("Contents", []):
            local = target / obj["Key"][len(key):]
            local.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, obj["Key"], str(local))
    return target


def upload_tree(s3: Any, local: Path, uri: str) -> list[str]:
    """Uploads every file under ``local`` below the prefix ``uri``; Hadoop's .crc side files stay behind."""
    bucket, prefix = split_s3(uri)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    keys: list[str] = []
    if not local.exists():
        return keys
    for path in sorted(p for p in local.rglob("*") if p.is_file() and not p.name.endswith(".crc")):
        key = prefix + path.relative_to(local).as_posix()
        s3.upload_file(str(path), bucket, key)
        keys.append(key)
    return keys


def load_job(script: str) -> Any:
    spec = importlib.util.spec_from_file_location(Path(script).stem, script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_one(s3: Any, run: dict[str, Any], workdir: Path) -> dict[str, Any]:
    args: dict[str, str] = dict(run["arguments"])
    outputs: dict[Path, str] = {}
    for name in INPUT_ARGS:
        if name in args:
            args[name] = str(download(s3, args[name], workdir / "in"))
    for name in OUTPUT_ARGS:
        if name in args:
            local = workdir / name.strip("-")
            outputs[local] = args[name]
            args[name] = str(local)
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
    result["uploaded"] = [key for local, uri in outputs.items() for key in upload_tree(s3, local, uri)]
    return result


def main() -> None:
    request = json.load(sys.stdin)
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    for run in request["runs"]:
        with tempfile.TemporaryDirectory(prefix="local-glue-run-") as tmp:
            result = run_one(s3, run, Path(tmp))
        # The runner's own protocol line, told apart from the job's printed summary by its prefix.
        print("LOCAL_GLUE_RUN " + json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main()
