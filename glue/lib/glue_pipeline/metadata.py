"""The job's side of the processing-metadata record (DynamoDB table ``etl-pipeline-metadata-{stage}``).

The trigger Lambda creates the record (CLAIMED, then STARTED); the job moves it to RUNNING, then SUCCEEDED or
FAILED. Every write is an UpdateItem that SETs only the job's attributes, so the trigger's attributes
(source_*, attempts, created_at, ...) are never overwritten. When the run id is known, the final write is
conditional on the record still naming this run, so a stale run cannot overwrite a newer run's result.

The CSV flow's fast path (functions/csv-converter) writes the same record: the trigger records STARTED with a
``fast-`` run id and the engine that runs the file (``engine``, ``engine_reason``); the converter moves it to
RUNNING only while it still names that run in that status (:attr:`MetadataRecorder.claimed_status`), and when it
hands the file to Glue, :meth:`MetadataRecorder.fell_back` records the Glue run in its place.

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
STATUS_STARTED = "STARTED"
MAX_ERROR_MESSAGE_LENGTH = 4_000
# Which engine converted the file and why (functions/csv-converter/converter-contract.json recordAttributes; a test holds
# them equal). The trigger writes them; the converter rewrites them only when it falls back to Glue.
ENGINE_ATTRIBUTE = "engine"
ENGINE_REASON_ATTRIBUTE = "engine_reason"
ENGINE_GLUE = "glue"
CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException"


def utc_now_iso() -> str:
    """ISO-8601 UTC with milliseconds and a Z, the same shape as JavaScript's toISOString()."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _attribute(value: str | int) -> dict[str, str]:
    if isinstance(value, bool):
        raise TypeError("booleans are not part of the metadata contract")
    if isinstance(value, int):
        return {"N": str(value)}
    return {"S": value}


def is_conditional_check_failure(err: BaseException) -> bool:
    """True for DynamoDB's answer to a write whose condition did not hold (the record moved on)."""
    return str(getattr(err, "response", {}).get("Error", {}).get("Code", "")) == CONDITIONAL_CHECK_FAILED


def _plain(value: Mapping[str, Any]) -> Any:
    if "S" in value:
        return value["S"]
    if "N" in value:
        number = str(value["N"])
        return int(number) if number.lstrip("-").isdigit() else float(number)
    if "BOOL" in value:
        return bool(value["BOOL"])
    if "NULL" in value:
        return None
    return value


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
    # When set, RUNNING is written only while the record names this run in this status: the fast path's
    # converter takes over the trigger's STARTED, and a duplicate request (the record moved on) writes nothing.
    claimed_status: str | None = None

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

    def _update(self, attributes: Mapping[str, str | int], guard_run: bool, condition: tuple[str, Mapping[str, str], Mapping[str, dict[str, str]]] | None = None) -> None:
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
        if condition is not None:
            expression_text, condition_names, condition_values = condition
            names.update(condition_names)
            values.update(condition_values)
            request["ConditionExpression"] = expression_text
        self.client.update_item(**request)

    def _naming_run(self, run_id: str, status: str | None = None) -> tuple[str, dict[str, str], dict[str, dict[str, str]]]:
        """A condition: the record names ``run_id`` (and is in ``status``, when given)."""
        names = {"#crun": "job_run_id"}
        values = {":crun": {"S": run_id}}
        expression = "#crun = :crun"
        if status is not None:
            names["#cstatus"] = "processing_status"
            values[":cstatus"] = {"S": status}
            expression += " AND #cstatus = :cstatus"
        return expression, names, values

    def current(self) -> dict[str, Any] | None:
        """The record as it is now (a strongly consistent read), plain values; None when there is none."""
        item = self.client.get_item(TableName=self.table_name, Key={"file_id": {"S": self.file_id}}, ConsistentRead=True).get("Item")
        return None if item is None else {name: _plain(value) for name, value in item.items()}

    def running(self) -> str:
        start_time = self.clock()
        attributes: dict[str, str | int] = {
            "processing_status": STATUS_RUNNING,
            "job_name": self.job_name,
            "start_time": start_time,
        }
        if self.job_run_id:
            attributes["job_run_id"] = self.job_run_id
        if self.claimed_status and self.job_run_id:
            self._update(attributes, guard_run=False, condition=self._naming_run(self.job_run_id, self.claimed_status))
        else:
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

    def fell_back(self, glue_job_name: str, glue_run_id: str, reason: str) -> bool:
        """The fast run (this recorder's run id) handed the file to Glue run ``glue_run_id``: STARTED under it,
        ``job_name`` the Glue job, ``engine`` glue, ``engine_reason`` "fallback: <reason>". Conditional on the
        record still naming the fast run; if the Glue run already wrote its own RUNNING (it may start before
        this write), only the engine attributes are set. False when the record names neither run (it moved on).
        """
        if not self.job_run_id:
            raise ValueError("a fallback replaces a known run: the recorder has no job_run_id")
        engine = {ENGINE_ATTRIBUTE: ENGINE_GLUE, ENGINE_REASON_ATTRIBUTE: f"fallback: {reason}"[:MAX_ERROR_MESSAGE_LENGTH]}
        try:
            self._update(
                {"processing_status": STATUS_STARTED, "job_run_id": glue_run_id, "job_name": glue_job_name, **engine},
                guard_run=False,
                condition=self._naming_run(self.job_run_id),
            )
            return True
        except Exception as err:  # noqa: BLE001 - only a failed condition is an answer
            if not is_conditional_check_failure(err):
                raise
        try:
            self._update({"job_name": glue_job_name, **engine}, guard_run=False, condition=self._naming_run(glue_run_id))
            return True
        except Exception as err:  # noqa: BLE001 - only a failed condition is an answer
            if not is_conditional_check_failure(err):
                raise
        return False

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
