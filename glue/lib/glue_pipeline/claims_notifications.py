"""The claims flow's SNS messages, as the claims job publishes them: ``job_status_update`` on the processing
topic, ``error`` on the error topic. The same formats as the validation Lambda's
(functions/claims-validation/messages.ts): the body has the flow's documented keys only; extras travel as
message attributes. Both are tested against the documented examples (test/fixtures/claims/seed_messages.json).

The processing topic's promise: every ``job_status_update`` STARTED (the validation Lambda's, when it starts a
run) is followed by exactly one terminal update with the same ``job_id``. SUCCEEDED and FAILED are the
documented ones. A run that finds the validated version replaced (SUPERSEDED) or the key deleted
(SOURCE_DELETED) processes nothing and is not a failure; it ends with that status, the metadata record's own,
and its reason as an attribute. Not silence, which would leave a subscriber waiting for an outcome that never
comes; not FAILED, which alarms and invites a replay of a version that must not be processed. The newer
upload's own validation publishes its own STARTED. The Lambda never publishes these two (it records them
without starting a run, so no STARTED is left open), which is why only this side's list has them.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from glue_pipeline.metadata import STATUS_SOURCE_DELETED, STATUS_SUPERSEDED

LOG = logging.getLogger(__name__)

# The documented three, then the terminal statuses of a run that had nothing to process (module doc).
NOT_PROCESSED_STATUSES = (STATUS_SUPERSEDED, STATUS_SOURCE_DELETED)
JOB_STATUSES = ("STARTED", "SUCCEEDED", "FAILED", *NOT_PROCESSED_STATUSES)
MAX_ERROR_MESSAGE_CHARS = 4000


def seed_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC to the second: ``2024-01-01T12:00:00Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sns_subject(text: str) -> str:
    ascii_text = re.sub(r"[^\x20-\x7E]", "?", text)
    return ascii_text if len(ascii_text) <= 100 else ascii_text[:97] + "..."


def _attributes(values: dict[str, Any]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name, value in values.items():
        if value is None or value == "":
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = {"DataType": "Number", "StringValue": str(value)}
        else:
            out[name] = {"DataType": "String", "StringValue": str(value)}
    return out


@dataclass(frozen=True)
class OutgoingMessage:
    message: str
    subject: str
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)


def job_status_update(job_id: str, status: str, input_file: str, at: datetime, attributes: dict[str, Any] | None = None) -> OutgoingMessage:
    if status not in JOB_STATUSES:
        raise ValueError(f"status {status} is not one of {', '.join(JOB_STATUSES)}")
    if not job_id:
        raise ValueError("job_id is required")
    # s3:// on AWS; a local run reports a file:// URI.
    if not re.match(r"^[a-z][a-z0-9+.-]*://.+", input_file):
        raise ValueError(f"input_file {input_file!r} is not a URI such as s3://bucket/key")
    body = {"event_type": "job_status_update", "job_id": job_id, "status": status, "input_file": input_file, "timestamp": seed_timestamp(at)}
    return OutgoingMessage(
        message=json.dumps(body),
        subject=sns_subject(f"Claims job {status.lower()}: {input_file}"),
        attributes=_attributes({"event_type": "job_status_update", "status": status, **(attributes or {})}),
    )


def error_notification(error_message: str, error_type: str, function_name: str, file: str, at: datetime, attributes: dict[str, Any] | None = None) -> OutgoingMessage:
    if not re.match(r"^[A-Za-z][A-Za-z0-9]*$", error_type):
        raise ValueError(f"error_type {error_type!r} is not an error class name")
    text = error_message if len(error_message) <= MAX_ERROR_MESSAGE_CHARS else error_message[: MAX_ERROR_MESSAGE_CHARS - 1] + "…"
    body = {
        "event_type": "error",
        "error_message": text,
        "error_type": error_type,
        "context": {"function_name": function_name, "file": file},
        "timestamp": seed_timestamp(at),
    }
    return OutgoingMessage(
        message=json.dumps(body),
        subject=sns_subject(f"Claims {error_type}: {file}"),
        attributes=_attributes({"event_type": "error", "error_type": error_type, **(attributes or {})}),
    )


class Publisher(Protocol):
    def __call__(self, topic_arn: str, message: OutgoingMessage) -> bool: ...


def sns_publisher(client: Any = None) -> Publisher:
    """Publishes with boto3 (its standard retry mode). A message that cannot be sent is logged in full and
    reported as False: the run's outcome is already recorded and must not be changed by a notification."""

    def publish(topic_arn: str, message: OutgoingMessage) -> bool:
        nonlocal client
        try:
            if client is None:
                import boto3
                from botocore.config import Config

                client = boto3.client("sns", config=Config(retries={"mode": "standard", "max_attempts": 5}))
            client.publish(TopicArn=topic_arn, Message=message.message, Subject=message.subject, MessageAttributes=message.attributes)
            return True
        except Exception:  # noqa: BLE001 - any failure to notify is logged, never raised
            LOG.exception("notification not sent to %s: %s", topic_arn, message.message)
            return False

    return publish
