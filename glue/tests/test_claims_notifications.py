"""The claims job's SNS messages, field by field against the claims flow's documented examples (the same
fixture the validation Lambda's tests use), and a publisher that never turns a failed notification into a
failed run."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from glue_pipeline.claims_notifications import NOT_PROCESSED_STATUSES, error_notification, job_status_update, seed_timestamp, sns_publisher

SEED = json.loads((Path(__file__).resolve().parents[2] / "test" / "fixtures" / "claims" / "seed_messages.json").read_text())
AT = datetime(2024, 1, 1, 12, 0, 0, 456000, tzinfo=timezone.utc)


def shape(value: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in value.items():
        if isinstance(v, dict):
            out.update(shape(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = type(v).__name__
    return out


@pytest.mark.parametrize("status", ["SUCCEEDED", "FAILED", *NOT_PROCESSED_STATUSES])
def test_job_status_update_has_the_seed_format(status: str) -> None:
    out = job_status_update("jr_0123", status, "s3://bucket/key", AT, {"rows_written": 75})
    body = json.loads(out.message)
    seed = SEED["processing_notification"]
    assert list(body) == list(seed)
    assert shape(body) == shape(seed)
    assert body["event_type"] == seed["event_type"]
    # The documented statuses, and the two terminal ones of a run with nothing to process (same keys, same types).
    assert body["status"] in [*seed["status"].split("|"), *NOT_PROCESSED_STATUSES]
    assert (body["job_id"], body["status"], body["input_file"], body["timestamp"]) == ("jr_0123", status, seed["input_file"], seed["timestamp"])
    assert out.attributes["rows_written"] == {"DataType": "Number", "StringValue": "75"}
    assert out.attributes["event_type"] == {"DataType": "String", "StringValue": "job_status_update"}


def test_a_run_with_nothing_to_process_ends_with_its_own_status_and_reason() -> None:
    """A subscriber that saw STARTED gets a terminal update naming why nothing was processed, never FAILED."""
    reason = "s3://b/raw/claims/a.csv was replaced after validation (validated version v1, now v2)"
    out = job_status_update("jr_0123", "SUPERSEDED", "s3://b/raw/claims/a.csv", AT, {"source_version": "v1", "reason": reason})
    assert json.loads(out.message)["status"] == "SUPERSEDED"
    assert out.subject == "Claims job superseded: s3://b/raw/claims/a.csv"
    assert out.attributes["status"] == {"DataType": "String", "StringValue": "SUPERSEDED"}
    assert out.attributes["reason"] == {"DataType": "String", "StringValue": reason}
    assert out.attributes["source_version"] == {"DataType": "String", "StringValue": "v1"}
    assert set(NOT_PROCESSED_STATUSES) == {"SUPERSEDED", "SOURCE_DELETED"}, "the metadata record's own statuses"


def test_error_notification_equals_the_seed_example() -> None:
    out = error_notification("Error description", "ValidationError", "data-validation", "claims.csv", AT)
    assert json.loads(out.message) == SEED["error_notification"]
    assert list(json.loads(out.message)) == list(SEED["error_notification"])


def test_messages_refuse_what_the_format_cannot_carry() -> None:
    with pytest.raises(ValueError):
        job_status_update("jr", "RUNNING", "s3://b/k", AT)
    with pytest.raises(ValueError):
        job_status_update("jr", "FAILED", "claims.csv", AT)
    with pytest.raises(ValueError):
        error_notification("m", "not a class", "f", "k", AT)
    long = error_notification("x" * 10_000, "JobError", "f", "é" * 300, AT)
    assert len(json.loads(long.message)["error_message"]) == 4000
    assert len(long.subject) <= 100 and long.subject.isascii()
    assert seed_timestamp(datetime(2024, 1, 1, 13, 0, tzinfo=timezone.utc)) == "2024-01-01T13:00:00Z"


def test_publisher_sends_and_swallows_failures() -> None:
    sent = []

    class Client:
        def __init__(self, fail: bool) -> None:
            self.fail = fail

        def publish(self, **kwargs):
            if self.fail:
                raise RuntimeError("throttled")
            sent.append(kwargs)

    message = job_status_update("jr", "SUCCEEDED", "s3://b/k", AT)
    assert sns_publisher(Client(False))("arn:aws:sns:eu-west-1:123456789012:t", message) is True
    assert sent[0]["TopicArn"] == "arn:aws:sns:eu-west-1:123456789012:t"
    assert json.loads(sent[0]["Message"])["status"] == "SUCCEEDED"
    assert sns_publisher(Client(True))("arn:aws:sns:eu-west-1:123456789012:t", message) is False
