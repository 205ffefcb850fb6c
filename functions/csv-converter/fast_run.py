"""One conversion request, start to end: the file-job shape without Spark (the fast path of the CSV flow).

The trigger claimed the file and recorded STARTED under a ``fast-`` run id before it sent the request. Here:

1. **RUNNING**, written only while the record still names this run as STARTED. When that condition fails the
   record moved on: a duplicate or stale request does nothing — unless the record is RUNNING under this very
   run and the message has been received before (``ApproximateReceiveCount`` > 1): the previous attempt was
   killed (out of memory, timeout) before it could record anything, so the file goes to Glue (fallback). A
   record still CLAIMED for this attempt means the trigger has not recorded STARTED yet: after a few seconds'
   wait the message is returned to the queue to be tried again.
2. **The version uploaded is the version processed.** The same HEAD of the current object as the Spark path,
   before the read and again before publication (glue_pipeline.file_run.source_version_problem); the read
   itself is GetObject of exactly that VersionId (or the ETag as If-Match on an unversioned bucket), so a
   newer version can never be read under an older version's name.
3. **Convert** with the engine (glue_pipeline.csv_fast) and the CSV job's own options: the Glue job's default
   arguments (per flow: delimiter, encoding) overridden by the request's ``jobArguments``, exactly what a Glue
   run of this file would be given, parsed by the same code (glue_pipeline.csv_job).
4. **Stage, publish, record** (s3_output): staging under the same ``_staging/<token>/`` prefixes as the Spark
   path, the same final layout, SUCCEEDED with the same counts, or SUPERSEDED/SOURCE_DELETED with nothing
   published.

A bad file (the engine's CsvProcessingError and the like) or any other failure of the run is recorded FAILED
(replayable with ``npm run replay``) and counted in ``FastPathFailed``; the message is consumed, as a failed
Glue run ends its run. ``ResourceExhausted`` (memory, disk, deadline) instead hands the file to Glue with the
request's ``jobArguments`` unchanged (``FastPathFallbacks``); a start Glue refuses fails the message, which
returns later (after maxReceiveCount in the converter's DLQ, alarmed, for ``npm run replay``).
"""

from __future__ import annotations

import errno
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from glue_pipeline.csv_fast import ResourceExhausted, convert_csv_file
from glue_pipeline.csv_job import csv_job_result, csv_options
from glue_pipeline.file_run import RunPaths, aws_error_code, finish_run, run_summary, source_version_problem
from glue_pipeline.metadata import (
    STATUS_RUNNING,
    STATUS_SOURCE_DELETED,
    STATUS_STARTED,
    STATUS_SUPERSEDED,
    MetadataRecorder,
    is_conditional_check_failure,
)
from glue_pipeline.path_scope import PathOutsideScopeError, write_scope
from s3_output import local_parts, publish, remove_staging, split_s3_uri, upload_staged
from telemetry import Logger

STATUS_CLAIMED = "CLAIMED"
EARLY = "early"
# A request can overtake the trigger's STARTED write (it is sent first, or the write is slow): waited for
# briefly here, since returning the message would delay the file by the queue's whole visibility timeout.
CLAIMED_WAITS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)
# Free /tmp wanted before a download, as a multiple of the object's size: the input, the engine's rows file
# (about the input's size), the Parquet and quarantine written beside it, and DuckDB's spill files
# (docs/fast-path.md measures ~2.3x at 262 MB). Below it the file goes to Glue before any work.
TMP_SPACE_FACTOR = 3.0


class RequestError(ValueError):
    """The message is not a ConversionRequest this converter can run (it can never succeed: it fails, and
    after maxReceiveCount it waits in the DLQ)."""


class RetryLater(RuntimeError):
    """The request came too early (the trigger has not recorded STARTED yet): return it to the queue."""


@dataclass(frozen=True)
class ConversionRequest:
    """functions/csv-converter/contract.ts ConversionRequest, parsed and checked."""

    file_id: str
    attempt: int
    run_id: str
    job_arguments: Mapping[str, str]
    size_bytes: int
    routed_because: str

    def arg(self, name: str) -> str | None:
        return self.job_arguments.get(f"--{name}")


def parse_request(body: str, contract: Mapping[str, Any]) -> ConversionRequest:
    try:
        message = json.loads(body)
    except json.JSONDecodeError as err:
        raise RequestError(f"the message is not JSON: {err}") from err
    if not isinstance(message, dict):
        raise RequestError("the message is not a JSON object")
    if message.get("version") != contract["requestVersion"]:
        raise RequestError(f"request version {message.get('version')!r}, this converter reads {contract['requestVersion']}")
    run_id, file_id, arguments = message.get("runId"), message.get("fileId"), message.get("jobArguments")
    if not isinstance(run_id, str) or not run_id.startswith(contract["runIdPrefix"]):
        raise RequestError(f"runId {run_id!r} is not a fast-path run id ({contract['runIdPrefix']}...)")
    if not isinstance(file_id, str) or not file_id:
        raise RequestError("fileId missing")
    if not isinstance(arguments, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in arguments.items()):
        raise RequestError("jobArguments must map --names to strings")
    missing = [n for n in ("--input_path", "--output_path", "--quarantine_path") if not arguments.get(n)]
    if missing:
        raise RequestError(f"jobArguments lack {', '.join(missing)}")
    if arguments.get("--file_id", file_id) != file_id:
        raise RequestError(f"jobArguments name file {arguments.get('--file_id')!r}, the request {file_id!r}")
    return ConversionRequest(
        file_id=file_id,
        attempt=int(message.get("attempt", 0)),
        run_id=run_id,
        job_arguments=dict(arguments),
        size_bytes=int(message.get("sizeBytes", 0)),
        routed_because=str(message.get("routedBecause", "")),
    )


@dataclass
class Settings:
    """What the converter was deployed with (functions/csv-converter/converter-contract.json env)."""

    metadata_table: str
    output_bucket: str
    glue_job_name: str
    function_name: str
    metric_namespace: str
    memory_limit_mb: int | None
    deadline_reserve_seconds: float
    tmp_dir: str = field(default_factory=tempfile.gettempdir)


@dataclass
class Services:
    s3: Any
    dynamodb: Any
    glue: Any
    log: Logger
    metric: Callable[[Mapping[str, str], Mapping[str, tuple[float, str]]], None]
    contract: Mapping[str, Any]
    sleep: Callable[[float], None] = time.sleep
    # The Glue job's default arguments, read once per container (glue:GetJob): the flow's delimiter, encoding.
    job_defaults: dict[str, str] | None = None

    def glue_job_defaults(self, job_name: str) -> dict[str, str]:
        if self.job_defaults is None:
            self.job_defaults = dict(self.glue.get_job(JobName=job_name)["Job"].get("DefaultArguments", {}))
        return self.job_defaults


def run_arguments(defaults: Mapping[str, str], request: ConversionRequest) -> dict[str, str]:
    """The arguments a Glue run of this request would see, names without ``--``: defaults, then the run's."""
    merged = {**defaults, **request.job_arguments}
    return {name[2:]: value for name, value in merged.items() if name.startswith("--")}


def _problem_of_read(err: BaseException, input_path: str, wanted: str) -> tuple[str, str] | None:
    code = aws_error_code(err)
    if code in ("NoSuchKey", "NoSuchVersion", "404", "NotFound"):
        return STATUS_SOURCE_DELETED, f"{input_path} ({wanted}) was deleted before it was processed"
    if code in ("PreconditionFailed", "412"):
        return STATUS_SUPERSEDED, f"{input_path} {wanted} is no longer current; its own run processes it"
    return None


def download(s3: Any, input_path: str, version_id: str | None, etag: str | None, target: Path) -> tuple[str, str] | None:
    """Reads exactly the version the run was started for into ``target``; a (status, reason) when it is gone
    or no longer current (nothing read)."""
    bucket, key = split_s3_uri(input_path)
    request: dict[str, Any] = {"Bucket": bucket, "Key": key}
    wanted = "the current version"
    if version_id and version_id != "null":
        request["VersionId"], wanted = version_id, f"version {version_id}"
    elif etag:
        request["IfMatch"], wanted = f'"{etag.strip(chr(34))}"', f"ETag {etag}"
    try:
        answer = s3.get_object(**request)
    except Exception as err:  # noqa: BLE001 - a gone or replaced object is an answer, anything else fails the run
        problem = _problem_of_read(err, input_path, wanted)
        if problem is None:
            raise
        return problem
    try:
        with target.open("wb") as out:
            shutil.copyfileobj(answer["Body"], out, 1024 * 1024)
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise ResourceExhausted(f"/tmp is full while downloading {input_path}") from err
        raise
    return None


class Converter:
    """Runs requests: one instance per container (its settings and clients are the cold start's)."""

    def __init__(self, settings: Settings, services: Services) -> None:
        self.settings, self.services = settings, services

    # ----------------------------------------------------------------------------------------------------
    # Metrics
    # ----------------------------------------------------------------------------------------------------

    def _count(self, contract_metric: str, value: float = 1, unit: str = "Count") -> None:
        name = self.services.contract["metrics"][contract_metric]
        self.services.metric({self.services.contract["functionDimension"]: self.settings.function_name}, {name: (value, unit)})

    def _job_counts(self, written: int, quarantined: int) -> None:
        names = self.services.contract["jobMetrics"]
        self.services.metric(
            {names["jobNameDimension"]: self.settings.glue_job_name},
            {names["recordsWritten"]: (written, "Count"), names["rowsQuarantined"]: (quarantined, "Count")},
        )

    # ----------------------------------------------------------------------------------------------------
    # The request
    # ----------------------------------------------------------------------------------------------------

    def handle(self, request: ConversionRequest, receive_count: int, remaining_seconds: float | None) -> str:
        """Runs one request; returns what happened (converted, not_processed, failed, fallback, duplicate).
        Raises when the message must return to the queue (RetryLater, a Glue start refused, a record write that
        failed)."""
        log = self.services.log.child(file_id=request.file_id, run_id=request.run_id, receive_count=receive_count)
        recorder = MetadataRecorder(
            table_name=self.settings.metadata_table,
            file_id=request.file_id,
            job_name=self.settings.function_name,
            job_run_id=request.run_id,
            client=self.services.dynamodb,
            claimed_status=STATUS_STARTED,
        )
        # Read before RUNNING: a GetJob that fails (throttled) returns the message instead of failing the file.
        args = run_arguments(self.services.glue_job_defaults(self.settings.glue_job_name), request)
        for wait in (*CLAIMED_WAITS, None):
            try:
                recorder.running()
                break
            except Exception as err:  # noqa: BLE001 - only a failed condition is an answer
                if not is_conditional_check_failure(err):
                    raise
            outcome = self._not_started(request, recorder, receive_count, log)
            if outcome != EARLY:
                return outcome
            if wait is None:
                log.warn("the trigger has not recorded STARTED yet: the request returns to the queue")
                raise RetryLater(f"file {request.file_id} is still CLAIMED for attempt {request.attempt}")
            self.services.sleep(wait)
        log.info("RUNNING: converting", size_bytes=request.size_bytes, routed_because=request.routed_because)
        started = time.monotonic()
        deadline = None if remaining_seconds is None else started + remaining_seconds - self.settings.deadline_reserve_seconds
        try:
            return self._convert(request, args, recorder, log, started, deadline)
        except ResourceExhausted as err:
            return self.fall_back(request, recorder, f"{err}", log)
        except MemoryError:  # Python's own allocations (the engine maps DuckDB's): the same answer, Glue
            return self.fall_back(request, recorder, "out of memory in the converter", log)
        except Exception as err:  # noqa: BLE001 - the run fails like a Glue run: FAILED, replayable, alarmed
            if is_conditional_check_failure(err):
                # The final write found the record naming another run (a fallback by a duplicate delivery):
                # that run's result is the record's; this one's is only logged.
                log.warn("the record names another run now: this run's end is not recorded", error=err)
                return "duplicate"
            log.error("FAILED: the conversion failed", error=err)
            recorder.failed(err)  # if this write fails too, the message returns and its redelivery falls back
            self._count("failed")
            return "failed"

    def _not_started(self, request: ConversionRequest, recorder: MetadataRecorder, receive_count: int, log: Logger) -> str:
        record = recorder.current() or {}
        status, run = record.get("processing_status"), record.get("job_run_id")
        if run == request.run_id and status == STATUS_RUNNING and receive_count > 1:
            return self.fall_back(
                request, recorder,
                f"the previous attempt (receive {receive_count - 1}) ended without a result: killed by memory or time",
                log,
            )
        if status == STATUS_CLAIMED and record.get("attempts") == request.attempt:
            return EARLY
        log.info("duplicate or stale request: nothing to do", existing_status=status, existing_run_id=run)
        return "duplicate"

    def _convert(self, request: ConversionRequest, args: Mapping[str, str], recorder: MetadataRecorder, log: Logger,
                 started: float, deadline: float | None) -> str:
        input_path, output_path, quarantine_path = args["input_path"], args["output_path"], args["quarantine_path"]
        # Keys are data: the paths must be clean (no '.'/'..'/'//' segments), must not overlap, and the run
        # writes only in the flow's output bucket.
        for name, path in (("output", output_path), ("quarantine", quarantine_path)):
            if split_s3_uri(path)[0] != self.settings.output_bucket:
                raise PathOutsideScopeError(f"refusing to run: the {name} path {path!r} is not in the output bucket {self.settings.output_bucket}")
        token = uuid.uuid4().hex
        paths = RunPaths.for_run(input_path, output_path, quarantine_path, token)
        source_file = args.get("source_file") or input_path
        summary = run_summary(self.settings.glue_job_name, request.run_id, args, source_file, paths)
        version_id, etag = args.get("source_version_id"), args.get("source_etag")
        s3 = self.services.s3

        free = shutil.disk_usage(self.settings.tmp_dir).free
        if request.size_bytes * TMP_SPACE_FACTOR > free:
            raise ResourceExhausted(f"{request.size_bytes} bytes need about {int(request.size_bytes * TMP_SPACE_FACTOR)} of /tmp, {free} free")

        work = Path(tempfile.mkdtemp(prefix="csv-converter-", dir=self.settings.tmp_dir))
        result = None
        try:
            problem = source_version_problem(s3, input_path, version_id, etag)
            local_input = work / "input.csv"  # never the key's own name: keys are data, not local paths
            if problem is None:
                problem = download(s3, input_path, version_id, etag, local_input)
            if problem is None:
                log.info("read the version the run was started for", input_path=input_path,
                         version_id=version_id, etag=etag, bytes=local_input.stat().st_size)
                began = time.monotonic()
                conversion = convert_csv_file(
                    local_input, work / "output", work / "quarantine",
                    source_file=source_file,
                    processing_job=self.settings.glue_job_name,  # the value a Glue run writes: one column, one meaning
                    processed_at=datetime.now(timezone.utc),
                    options=csv_options(args),
                    memory_limit_mb=self.settings.memory_limit_mb,
                    temp_dir=work / "spill",
                    deadline=deadline,
                )  # fmt: skip
                self._count("conversionSeconds", round(time.monotonic() - began, 3), "Seconds")
                result = csv_job_result(conversion)
                log.info("converted", rows_in=result.rows_in, record_count=result.record_count,
                         rows_quarantined=result.rows_quarantined, seconds=round(time.monotonic() - began, 3))
                with write_scope(paths.scope):
                    try:
                        output = upload_staged(s3, local_parts(work / "output", "*.parquet"), paths.staging_output, token)
                        quarantine = upload_staged(s3, local_parts(work / "quarantine", "*.json"), paths.staging_quarantine, token)
                        # The second HEAD: a version still current after the read may be published over the
                        # key's output (a newer version's run may have published already otherwise).
                        problem = source_version_problem(s3, input_path, version_id, etag)
                        if problem is None:
                            publish(s3, paths, output, quarantine)
                            log.info("published", output_path=paths.output_path, quarantine_path=paths.quarantine_path,
                                     output_parts=len(output), quarantine_parts=len(quarantine))
                    finally:
                        try:
                            remove_staging(s3, paths)
                        except Exception as err:  # noqa: BLE001 - leftover staging must not hide the run's outcome
                            log.warn("could not remove the staging prefixes", error=err)
        finally:
            shutil.rmtree(work, ignore_errors=True)

        finish_run(summary, recorder, problem, result, started)
        if problem is not None:
            log.warn(f"{problem[0]}: nothing published", reason=problem[1])
            return "not_processed"
        assert result is not None
        self._count("filesConverted")
        self._job_counts(result.record_count, result.rows_quarantined)
        log.info("SUCCEEDED", **{k: v for k, v in summary.items() if k not in ("file_id", "job_run_id")})
        return "converted"

    def fall_back(self, request: ConversionRequest, recorder: MetadataRecorder, reason: str, log: Logger) -> str:
        """Starts the Glue job with the request's arguments unchanged and records it in place of this run. A
        refused start raises: the message returns, and its next receive falls back again."""
        log.warn("falling back to Glue", reason=reason)
        answer = self.services.glue.start_job_run(JobName=self.settings.glue_job_name, Arguments=dict(request.job_arguments))
        glue_run_id = answer["JobRunId"]
        recorded = recorder.fell_back(self.settings.glue_job_name, glue_run_id, reason)
        self._count("fallbacks")
        if recorded:
            log.info("STARTED on Glue", glue_job_run_id=glue_run_id)
        else:
            log.warn("Glue run started but the record names another run", glue_job_run_id=glue_run_id)
        return "fallback"
