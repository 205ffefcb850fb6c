"""The CSV converter Lambda (the CSV flow's fast path): SQS events of ConversionRequests in, batch failures out.

The trigger routes a claimed file at or below the fast-path size limit here (functions/csv-converter/
contract.ts ConversionRequest); fast_run.py runs it — the same record lifecycle, version check, staging and
publication as the Glue job, converted by DuckDB with the Spark path's rules — or hands it to Glue when it
runs out of memory, disk or time.

The queue's event source mapping uses batch size 1 and ReportBatchItemFailures; a list is handled anyway, and
only the messages that must come back are reported (a request that came too early, a Glue start refused for
capacity, a record write that failed, a message that is not a request). Settings and clients are read once per
container; names come from converter-contract.json beside this file, the same file the TypeScript side reads.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if (HERE / "glue_pipeline").is_dir():
    pass  # the Lambda zip: the Spark-free glue_pipeline modules sit beside this file
elif str(HERE.parents[1] / "glue" / "lib") not in sys.path:
    sys.path.append(str(HERE.parents[1] / "glue" / "lib"))  # the repository: tests, local runs
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from fast_run import Converter, RequestError, Services, Settings, parse_request  # noqa: E402
from telemetry import Logger, metric_line, stdout_sink  # noqa: E402

CONTRACT: dict[str, Any] = json.loads((HERE / "converter-contract.json").read_text(encoding="utf-8"))
SERVICE = "csv-converter"
# The job-events handler's namespace (functions/glue-job-events/contract.ts DEFAULT_METRIC_NAMESPACE): the
# per-job RecordsWritten/RowsQuarantined of both engines add up in one place.
DEFAULT_METRIC_NAMESPACE = "GluePipeline"


class ConfigError(ValueError):
    """The function was deployed without a setting it needs (named in the message)."""


def settings_from_env(env: Mapping[str, str]) -> Settings:
    names = CONTRACT["env"]

    def required(field: str) -> str:
        value = env.get(names[field], "").strip()
        if not value:
            raise ConfigError(f"{names[field]} must be set")
        return value

    def number(field: str, default: float | None) -> float | None:
        raw = env.get(names[field], "").strip()
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError as err:
            raise ConfigError(f"{names[field]} must be a number, got {raw!r}") from err
        if value < 0:
            raise ConfigError(f"{names[field]} must not be negative, got {raw!r}")
        return value

    memory = number("memoryLimitMb", None)
    return Settings(
        metadata_table=required("metadataTable"),
        output_bucket=required("outputBucket"),
        glue_job_name=required("glueJobName"),
        function_name=env.get("AWS_LAMBDA_FUNCTION_NAME", SERVICE),
        metric_namespace=env.get(names["metricNamespace"], "").strip() or DEFAULT_METRIC_NAMESPACE,
        memory_limit_mb=None if memory is None else int(memory),
        deadline_reserve_seconds=float(number("deadlineReserveSeconds", CONTRACT["defaults"]["deadlineReserveSeconds"]) or 0),
    )


def build_converter(env: Mapping[str, str], sink=stdout_sink) -> Converter:
    import boto3  # noqa: PLC0415 - the Lambda runtime provides it; AWS_ENDPOINT_URL points tests at the emulator

    settings = settings_from_env(env)
    log = Logger(SERVICE, env.get(CONTRACT["env"]["logLevel"], "") or "INFO",
                 {"release_id": env.get(CONTRACT["env"]["releaseId"])}, sink)
    services = Services(
        s3=boto3.client("s3"),
        dynamodb=boto3.client("dynamodb"),
        glue=boto3.client("glue"),
        log=log,
        metric=lambda dims, values: sink(metric_line(settings.metric_namespace, dims, values)),
        contract=CONTRACT,
    )
    return Converter(settings, services)


def handle_event(converter: Converter, event: Mapping[str, Any], context: Any = None) -> dict[str, list[dict[str, str]]]:
    """Runs every message of an SQS event; the ones to retry are returned as batch item failures."""
    failures: list[dict[str, str]] = []
    for message in event.get("Records", []):
        message_id = str(message.get("messageId", ""))
        receive_count = int(message.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        remaining = context.get_remaining_time_in_millis() / 1000 if context is not None and hasattr(context, "get_remaining_time_in_millis") else None
        try:
            request = parse_request(str(message.get("body", "")), CONTRACT)
            converter.handle(request, receive_count, remaining)
        except RequestError as err:
            converter.services.log.error("not a conversion request: it waits in the DLQ after maxReceiveCount", message_id=message_id, error=err)
            failures.append({"itemIdentifier": message_id})
        except Exception as err:  # noqa: BLE001 - reported per message so the others are not retried
            converter.services.log.error("the request returns to the queue", message_id=message_id, error=err)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


_CONVERTER: Converter | None = None


def handler(event: Mapping[str, Any], context: Any = None) -> dict[str, list[dict[str, str]]]:
    global _CONVERTER  # noqa: PLW0603 - one converter per container: settings and clients from the cold start
    if _CONVERTER is None:
        _CONVERTER = build_converter(os.environ)
    return handle_event(_CONVERTER, event, context)
