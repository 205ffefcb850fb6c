"""healthcare-claims-{stage}-etl: one validated claims CSV → partitioned Parquet, aggregations, quarantined records.

This is the exact script uploaded to Glue; the ``glue_pipeline`` package comes with --extra-py-files. Started
by the claims validation Lambda once the file passed validation, with (Glue passes ``--name value``; locally
the same flags take paths):

    --input_path        s3://<claims bucket>/raw/claims/<name>.csv
    --output_path       s3://<claims bucket>/processed/claims/            (table: year=/month=/file_id=)
    --aggregation_path  s3://<claims bucket>/processed/aggregations/claims_monthly/
    --quarantine_path   s3://<claims bucket>/quarantine/records/<name>/<file_id>/
    --staging_path      s3://<claims bucket>/temp/staging/<file_id>/
    --source_file, --source_version, --file_id, --validation_report   (recorded; --file_id also names the partition)

and the job's default arguments --metadata_table (the run is recorded on the file's metadata record: RUNNING,
then SUCCEEDED with the counts or FAILED), --processing_topic_arn (the run's one terminal job_status_update:
SUCCEEDED, FAILED, or SUPERSEDED / SOURCE_DELETED when the validated version is no longer the key's current
one; see glue_pipeline.claims_notifications) and --error_topic_arn (an error when the run fails). Optional
--reference_date (YYYY-MM-DD, "today" for the not-in-future rule; default the run's UTC date) and
--max_record_lines.

The logic is in glue_pipeline.claims_job (and the transforms it calls); this file parses arguments, records
the run, publishes its outcome and prints one JSON summary line.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from glue_pipeline.claims_job import ClaimsPaths, SourceChanged, run_claims, source_problem
from glue_pipeline.claims_notifications import Publisher, error_notification, job_status_update, sns_publisher
from glue_pipeline.csv_processing import CsvOptions
from glue_pipeline.metadata import MetadataRecorder
from glue_pipeline.runtime import start_job

JOB_NAME = "healthcare-claims-etl"
REQUIRED_ARGS = ("input_path", "output_path", "aggregation_path", "quarantine_path", "staging_path")
OPTIONAL_ARGS: dict[str, str | None] = {
    "source_file": None,
    "source_version": None,
    "file_id": None,
    "validation_report": None,
    "metadata_table": None,
    "processing_topic_arn": None,
    "error_topic_arn": None,
    "reference_date": None,
    "max_record_lines": str(CsvOptions.max_record_lines),
}

LOG = logging.getLogger(JOB_NAME)


def _directory(path: str) -> str:
    return path if path.endswith("/") else f"{path}/"


def main(argv: Sequence[str] | None = None, publisher: Publisher | None = None) -> dict[str, Any]:
    """Runs the job and returns its summary (also printed as one JSON line)."""
    runtime = start_job(argv, REQUIRED_ARGS, OPTIONAL_ARGS, default_job_name=JOB_NAME)
    args = runtime.args
    input_path = str(args["input_path"])
    input_uri = input_path if "://" in input_path else Path(input_path).resolve().as_uri()
    source_file = str(args.get("source_file") or input_path)
    processed_at = datetime.now(timezone.utc)
    job_id = runtime.job_run_id or f"local-{processed_at.strftime('%Y%m%dT%H%M%SZ')}"
    # The file id names the file's partitions: a local run without one derives a stable one from the input.
    file_id = str(args.get("file_id") or _local_file_id(input_path))
    reference = date.fromisoformat(str(args["reference_date"])) if args.get("reference_date") else processed_at.date()
    publish = publisher or sns_publisher()
    processing_topic, error_topic = args.get("processing_topic_arn"), args.get("error_topic_arn")
    attributes = {"file_id": file_id, "job_name": runtime.job_name}
    recorder = MetadataRecorder.for_run(args, runtime.job_name, runtime.job_run_id)
    paths = ClaimsPaths(
        input=input_path,
        output=_directory(str(args["output_path"])),
        aggregation=_directory(str(args["aggregation_path"])),
        quarantine=_directory(str(args["quarantine_path"])),
        staging=_directory(str(args["staging_path"])),
    )
    started = time.monotonic()

    def source_check() -> tuple[str, str] | None:
        return source_problem(input_path, args.get("source_version"))

    def not_processed(status: str, reason: str) -> dict[str, Any]:
        # Not a failure: the newer version (or the deletion) is handled by its own event.
        if recorder:
            recorder.not_processed(status, reason)
        if processing_topic:
            # The STARTED the validation Lambda published for this run gets its terminal update.
            details = {**attributes, "source_version": args.get("source_version"), "reason": reason}
            publish(processing_topic, job_status_update(job_id, status, input_uri, datetime.now(timezone.utc), details))
        summary = {"job_name": runtime.job_name, "job_run_id": runtime.job_run_id, "file_id": file_id,
                   "source_file": source_file, "source_version": args.get("source_version"),
                   "processing_status": status, "outcome": status, "reason": reason}  # fmt: skip
        print(json.dumps(summary, ensure_ascii=False), flush=True)
        runtime.commit()
        return summary

    try:
        with recorder.track() if recorder else nullcontext():
            # Checked before the read and again once the source is staged (claims_job's module doc, step 1).
            problem = source_check()
            if problem is not None:
                return not_processed(*problem)
            try:
                result = run_claims(
                    runtime.spark,
                    paths,
                    source_file=source_file,
                    file_id=file_id,
                    processing_job=runtime.job_name,
                    processed_at=processed_at,
                    reference_date=reference,
                    csv_options=CsvOptions(max_record_lines=int(str(args["max_record_lines"])), infer_types=False),
                    source_check=source_check,
                )
            except SourceChanged as changed:
                return not_processed(changed.status, changed.reason)
            if recorder:
                recorder.succeeded(
                    rows_in=result.rows_in,
                    record_count=result.rows_written,
                    rows_quarantined=result.rows_quarantined,
                    output_size_bytes=result.output_size_bytes,
                    outcome=result.outcome,
                )
    except Exception as err:
        failed_at = datetime.now(timezone.utc)
        if processing_topic:
            publish(processing_topic, job_status_update(job_id, "FAILED", input_uri, failed_at, attributes))
        if error_topic:
            publish(error_topic, error_notification(f"{type(err).__name__}: {err}", "ClaimsJobError", runtime.job_name, source_file, failed_at, attributes))
        raise
    summary: dict[str, Any] = {
        "job_name": runtime.job_name,
        "job_run_id": runtime.job_run_id,
        "file_id": file_id,
        "source_file": source_file,
        "source_version": args.get("source_version"),
        "validation_report": args.get("validation_report"),
        "processing_status": "SUCCEEDED",
        "record_count": result.rows_written,
        "reference_date": reference.isoformat(),
        "duration_seconds": round(time.monotonic() - started, 3),
        **result.as_dict(),
    }
    if processing_topic:
        counts = {"rows_in": result.rows_in, "record_count": result.rows_written, "rows_quarantined": result.rows_quarantined}
        publish(processing_topic, job_status_update(job_id, "SUCCEEDED", input_uri, datetime.now(timezone.utc), {**attributes, **counts}))
    print(json.dumps(summary, ensure_ascii=False, default=str), flush=True)
    runtime.commit()
    return summary


def _local_file_id(input_path: str) -> str:
    import hashlib

    return hashlib.sha256(input_path.encode("utf-8")).hexdigest()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    main()
