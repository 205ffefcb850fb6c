"""The converter's log lines and metrics: one JSON object per line on stdout.

Logs have the TypeScript functions' shape (functions/shared/logger.ts): ``timestamp``, ``level``, ``service``,
``message``, then the context fields at the top level (``file_id``, ``run_id``, ...), so one Logs Insights
query reads every function of the pipeline. Metrics use CloudWatch's embedded metric format: Lambda's log
agent turns the line into metrics, so the role needs no cloudwatch:PutMetricData and a metric never costs a
request on the conversion's path.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
Sink = Callable[[str], None]


def stdout_sink(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _iso_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def error_fields(err: BaseException) -> dict[str, Any]:
    """An exception as the TypeScript logger serialises one: name, message and, for AWS errors, the code,
    HTTP status and request id (the first things support asks for)."""
    fields: dict[str, Any] = {"name": type(err).__name__, "message": str(err)}
    response = getattr(err, "response", None)
    if isinstance(response, Mapping):
        meta = response.get("ResponseMetadata", {})
        if response.get("Error", {}).get("Code"):
            fields["code"] = response["Error"]["Code"]
        if meta.get("HTTPStatusCode") is not None:
            fields["http_status"] = meta["HTTPStatusCode"]
        if meta.get("RequestId"):
            fields["request_id"] = meta["RequestId"]
    return fields


class Logger:
    """A JSON-lines logger; :meth:`child` adds fields without touching its parent (one record's file_id never
    leaks into the next record's lines)."""

    def __init__(self, service: str, level: str = "INFO", fields: Mapping[str, Any] | None = None,
                 sink: Sink = stdout_sink, clock: Callable[[], str] = _iso_now) -> None:
        level = "WARN" if level.upper() == "WARNING" else level.upper()
        if level not in LEVELS:
            raise ValueError(f"LOG_LEVEL must be one of {', '.join(LEVELS)}, got {level!r}")
        self.service, self.level, self.fields, self.sink, self.clock = service, level, dict(fields or {}), sink, clock

    def child(self, **fields: Any) -> Logger:
        return Logger(self.service, self.level, {**self.fields, **fields}, self.sink, self.clock)

    def _log(self, level: str, message: str, fields: Mapping[str, Any]) -> None:
        if LEVELS.index(level) < LEVELS.index(self.level):
            return
        line: dict[str, Any] = {"timestamp": self.clock(), "level": level, "service": self.service, "message": message}
        for name, value in {**self.fields, **fields}.items():
            if value is None or value == "" or name in line:
                continue  # as the TypeScript logger: empty fields left out, base keys never overwritten
            line[name] = error_fields(value) if isinstance(value, BaseException) else value
        self.sink(json.dumps(line, ensure_ascii=False, default=str))

    def debug(self, message: str, **fields: Any) -> None:
        self._log("DEBUG", message, fields)

    def info(self, message: str, **fields: Any) -> None:
        self._log("INFO", message, fields)

    def warn(self, message: str, **fields: Any) -> None:
        self._log("WARN", message, fields)

    def error(self, message: str, **fields: Any) -> None:
        self._log("ERROR", message, fields)


def metric_line(namespace: str, dimensions: Mapping[str, str], metrics: Mapping[str, tuple[float, str]],
                timestamp_ms: int | None = None) -> str:
    """One embedded-metric-format line: ``metrics`` maps a name to (value, unit) under one dimension set."""
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [sorted(dimensions)],
                "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in metrics.items()],
            }],
        },
        **dimensions,
        **{name: value for name, (value, _) in metrics.items()},
    }
    return json.dumps(document)
