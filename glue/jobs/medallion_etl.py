"""MedallionEtl-{stage}: bronze API pages → silver records → gold tables.

Started by the medallion state machine with ``--run_id`` and ``--run_date`` (the ingestion's run); the layer
locations are the job's default arguments (set by components/workflow/medallionWorkflow.ts):

    --bronze_path s3://<bucket>/medallion/raw/        --silver_path s3://<bucket>/medallion/processed/
    --gold_path s3://<bucket>/medallion/curated/      --rejected_path s3://<bucket>/medallion/rejected/
    --state_path s3://<bucket>/medallion/_state/      --target_file_mb 128

Locally the same flags take directories. The logic is in glue_pipeline.medallion (transforms) and
glue_pipeline.medallion_job (bookmark, reads, writes); this file only parses arguments, starts Spark and runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone

from glue_pipeline.medallion_job import MedallionPaths, RunSummary, run_medallion
from glue_pipeline.runtime import start_job

JOB_NAME = "MedallionEtl"
REQUIRED_ARGS: tuple[str, ...] = ("bronze_path", "silver_path", "gold_path", "rejected_path", "state_path")
OPTIONAL_ARGS: dict[str, str | None] = {"run_id": None, "run_date": None, "target_file_mb": "128"}


def _directory(path: str) -> str:
    return path if path.endswith("/") else f"{path}/"


def run_settings(args: Mapping[str, str | None], job_run_id: str | None, now: datetime | None = None) -> dict:
    """The run id (the state machine's; a Glue run started by hand uses its job run id), date and file size."""
    now = now or datetime.now(timezone.utc)
    run_id = args.get("run_id") or job_run_id or f"manual-{now.strftime('%Y%m%dT%H%M%SZ')}"
    target = int(args.get("target_file_mb") or "128")
    if not 1 <= target <= 1024:
        raise ValueError(f"--target_file_mb must be 1-1024, got {target}")
    return {"run_id": run_id, "run_date": args.get("run_date") or None, "target_file_mb": target}


def main(argv: Sequence[str] | None = None) -> RunSummary:
    runtime = start_job(argv, REQUIRED_ARGS, OPTIONAL_ARGS, default_job_name=JOB_NAME)
    args = runtime.args
    paths = MedallionPaths(*(_directory(str(args[name])) for name in ("bronze_path", "silver_path", "gold_path", "rejected_path", "state_path")))
    summary = run_medallion(runtime.spark, paths, **run_settings(args, runtime.job_run_id))
    # One JSON line: what the run did, for the job's log (and Logs Insights).
    print(json.dumps({"medallion_run": summary.as_dict()}, sort_keys=True))
    runtime.commit()
    return summary


if __name__ == "__main__":
    main()
