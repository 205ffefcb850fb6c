"""The job's side of the processing-metadata record (DynamoDB table ``etl-pipeline-metadata-{stage}``).

The trigger Lambda creates the record (CLAIMED, then STARTED); the job moves it to RUNNING, then SUCCEEDED or
FAILED. Every write is an UpdateItem that SETs only the job's attributes, so the trigger's attributes
(source_*, attempts, created_at, ...) are never overwritten. When the run id is known, the final write is
conditional on the record still naming this run, so a stale run cannot overwrite a newer run's result.

Recording must never hide the job's own outcome: :meth:`MetadataRecorder.track` re-raises the job's error
even when recording FAILED fails too (that failure is logged and attached to the job's error as a note).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import boto3

LOG = logging.getLogger(__name__)

STATUS_RUNNING = "RUNNING"
STATUS_SUCCEEDED = "SUCCEEDED"
STATUS_FAILED = "FAILED"
# The run published nothing because the object version it was started for is no longer the key's current
# version (the newer version's own run handles it), or the key was deleted before the run read it.
STATUS_SUPERSEDED = "SUPERSEDED"
STATUS_SOURCE_DELETED = "SOURCE_DELETED"
MAX_ERROR_MESSAGE_LENGTH = 4_000


def utc_now_iso() -> str:
    """ISO-8601 UTC with milliseconds and a Z, the same shape as JavaScript's toISOString()."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _attribute(value: str | int) -> dict[str, str]:
    if isinstance(value, bool):
        raise TypeError("booleans are not part of the metadata contract")
    if isinstance(value, int):
        return {"N": str(value)}
    return {"S": value}


def update_expression(attributes: Mapping[str, str | int]) -> tuple[str, dict[str, str], dict[str, dict[str, str]]]:
    """SET expression with placeholder names for every attribute (several are DynamoDB reserved words)."""
    names = {f"#a{i}": name for i, name in enumerate(attributes)}
    values = {f":v{i}": _attribute(value) for i, value in enumerate(attributes.values())}
    expression = "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(attributes)))
    return expression, names, values


@dataclass
class MetadataRecorder:
    """Writes one file's job status to the metadata table."""

    table_name: str
    file_id: str
    job_name: str
    job_run_id: str | None = None
    client: Any = None
    clock: Callable[[], str] = field(default=utc_now_iso)

    @classmethod
    def for_run(cls, args: Mapping[str, Any], job_name: str, job_run_id: str | None) -> MetadataRecorder | None:
        """The recorder of a run started for one file, or None when the run has no --file_id or no
        --metadata_table (a local run, or one started by hand): every job decides this the same way."""
        if not (args.get("file_id") and args.get("metadata_table")):
            return None
        return cls(table_name=str(args["metadata_table"]), file_id=str(args["file_id"]), job_name=job_name, job_run_id=job_run_id)

    def __post_init__(self) -> None:
        if self.client is None:
            # boto3 honours AWS_ENDPOINT_URL, which points tests at the emulator.
            self.client = boto3.client("dynamodb")

    def _update(self, attributes: Mapping[str, str | int], guard_run: bool) -> None:
        # A final write's updated_at is its end_time (one clock reading, so the two never differ by a tick).
        attributes = {**attributes, "updated_at": str(attributes.get("end_time") or self.clock())}
        expression, names, values = update_expression(attributes)
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": {"file_id": {"S": self.file_id}},
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if guard_run and self.job_run_id:
            names["#run"] = "job_run_id"
            values[":run"] = {"S": self.job_run_id}
            request["ConditionExpression"] = "attribute_not_exists(#run) OR #run = :run"
        self.client.update_item(**request)

    def running(self) -> str:
        start_time = self.clock()
        attributes: dict[str, str | int] = {
            "processing_status": STATUS_RUNNING,
            "job_name": self.job_name,
            "start_time": start_time,
        }
        if self.job_run_id:
            attributes["job_run_id"] = self.job_run_id
        self._update(attributes, guard_run=False)
        return start_time

    def succeeded(
        self, rows_in: int, record_count: int, rows_quarantined: int, output_size_bytes: int, outcome: str
    ) -> None:
        self._update(
            {
                "processing_status": STATUS_SUCCEEDED,
                "rows_in": rows_in,
                "record_count": record_count,
                "rows_quarantined": rows_quarantined,
                "output_size_bytes": output_size_bytes,
                "outcome": outcome,
                "end_time": self.clock(),
            },
            guard_run=True,
        )

    def not_processed(self, status: str, reason: str) -> None:
        """SUPERSEDED or SOURCE_DELETED: the run ended without publishing, and ``error_message`` says why."""
        if status not in (STATUS_SUPERSEDED, STATUS_SOURCE_DELETED):
            raise ValueError(f"not a not-processed status: {status}")
        self._update(
            {"processing_status": status, "error_message": reason[:MAX_ERROR_MESSAGE_LENGTH], "end_time": self.clock()},
            guard_run=True,
        )

    def failed(self, error: BaseException) -> None:
        message = f"{type(error).__name__}: {error}"[:MAX_ERROR_MESSAGE_LENGTH]
        self._update(
            {"processing_status": STATUS_FAILED, "error_message": message, "end_time": self.clock()},
            guard_run=True,
        )

    @contextmanager
    def track(self) -> Iterator[MetadataRecorder]:
        """RUNNING on entry; FAILED if the block raises (the block's error always propagates)."""
        self.running()
        try:
            yield self
        except BaseException as job_error:
            try:
                self.failed(job_error)
            except Exception as record_error:  # noqa: BLE001 - must not replace the job's error
                LOG.exception("could not record FAILED for file_id=%s", self.file_id)
                job_error.add_note(f"recording FAILED in {self.table_name} also failed: {record_error!r}")
            raise
