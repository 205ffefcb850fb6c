#!/usr/bin/env python3
"""`npm run local`: runs the pipeline's Glue jobs on local Spark, the same scripts that are uploaded to Glue.

    .venv/bin/python scripts/run_local.py                       # every samples/csv/*.csv through FileProcessorV2
    .venv/bin/python scripts/run_local.py data/a.csv data/b.csv # those files
    .venv/bin/python scripts/run_local.py --job file-processor --verbose
    .venv/bin/python scripts/run_local.py --engine spark data/a.csv  # the CSV job on Spark whatever the size

Outputs go to .local-output/<job>/<file stem>/{data,quarantine}. One line per input: rows in, rows written,
rows quarantined, seconds, MB/s, where the Parquet went and, for CSV files, which engine ran and why. Exits 1
if any input failed. All inputs share one SparkSession, so only the first pays for the JVM start.

CSV files are routed as the deployed trigger routes them (the CSV flow's fast path): a file at or below the
converter's size limit (functions/csv-converter/converter-contract.json defaults.maxBytes, or --fast-max-bytes) runs on
the fast engine (DuckDB, glue_pipeline.csv_fast, the same rules as the Spark path), a larger one on Spark;
``--engine spark|fast`` forces one. Spark starts only when an input needs it, so the CSV samples alone never
wait for a JVM.

Jobs plug in through JOBS: a name, how to find its default inputs, how to run one input.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "glue" / "lib"), str(ROOT / "glue" / "jobs")]
OUTPUT_ROOT = ROOT / ".local-output"


CONVERTER_CONTRACT = json.loads((ROOT / "functions" / "csv-converter" / "converter-contract.json").read_text(encoding="utf-8"))
ENGINES = ("auto", "fast", "spark")


@dataclass(frozen=True)
class RunResult:
    rows_in: int
    rows_written: int
    rows_quarantined: int
    data_path: Path
    note: str
    summary: dict[str, Any]
    engine: str = ""  # for the CSV job: which engine ran and why


@dataclass(frozen=True)
class Route:
    """Which engine converts one CSV file, and why (the trigger's rule: size against the fast-path limit)."""

    engine: str  # "fast" or "spark"
    reason: str

    @property
    def needs_spark(self) -> bool:
        return self.engine == "spark"


def route_csv(size_bytes: int, engine: str, max_bytes: int) -> Route:
    """``engine`` auto routes by size (at or below ``max_bytes``: fast), fast or spark forces one."""
    if engine != "auto":
        return Route(engine, f"--engine {engine}")
    if size_bytes <= max_bytes:
        return Route("fast", f"{_size(size_bytes)} <= {_size(max_bytes)} fast-path limit")
    return Route("spark", f"{_size(size_bytes)} > {_size(max_bytes)} fast-path limit")


def _size(size_bytes: int) -> str:
    if size_bytes < 1024:
        return f"{size_bytes} bytes"
    if size_bytes < 1_048_576:
        return f"{size_bytes / 1024:.1f} KB"
    return f"{size_bytes / 1_048_576:.1f} MB".replace(".0 MB", " MB")


_SPARK_STARTED = False


def ensure_spark() -> None:
    """Starts the shared local SparkSession the first time a run needs it (and says how long it took)."""
    global _SPARK_STARTED  # noqa: PLW0603 - one session per process
    if _SPARK_STARTED:
        return
    from glue_pipeline.runtime import local_spark_session  # noqa: PLC0415 - after sys.path is set

    started = time.monotonic()
    local_spark_session("local-jobs")
    _SPARK_STARTED = True
    print(f"local Spark ready in {time.monotonic() - started:.1f} s")


@dataclass(frozen=True)
class LocalJob:
    """How the runner drives one Glue job locally."""

    name: str
    description: str
    default_inputs: Callable[[], list[Path]]
    run_one: Callable[[Path, Path], RunResult]  # (input, output directory for this input) -> result
    needs_spark: Callable[[Path], bool] = lambda _: True  # whether running this input needs the SparkSession


def _default_csv_inputs() -> list[Path]:
    return sorted((ROOT / "samples" / "csv").glob("*.csv"))


def _run_file_processor(source: Path, out_dir: Path) -> RunResult:
    import file_processor  # noqa: PLC0415 - imported after sys.path is set, and only when this job runs


    data, quarantine = out_dir / "data", out_dir / "quarantine"
    summary = file_processor.main(
        [
            "--input_path", str(source),
            "--output_path", str(data),
            "--quarantine_path", str(quarantine),
            "--source_file", source.name,
        ]
    )
    note = summary["outcome"]
    if summary["quarantine_reasons"]:
        note += " " + ", ".join(f"{k}={v}" for k, v in sorted(summary["quarantine_reasons"].items()))
    return RunResult(
        summary["rows_in"], summary["record_count"], summary["rows_quarantined"], data, note, summary
    )


def _run_file_processor_fast(source: Path, out_dir: Path) -> RunResult:
    """FileProcessorV2's conversion on the fast engine: the converter Lambda's steps on local paths (stage
    under the run's _staging prefix, then replace the previous output), with the same summary fields."""
    import shutil  # noqa: PLC0415
    import uuid  # noqa: PLC0415
    from datetime import datetime, timezone  # noqa: PLC0415

    import file_processor  # noqa: PLC0415 - the job's name only (importing it starts no Spark)
    from glue_pipeline.csv_fast import convert_csv_file  # noqa: PLC0415 - after sys.path is set
    from glue_pipeline.csv_job import csv_job_result, csv_options  # noqa: PLC0415
    from glue_pipeline.file_run import RunPaths, finish_run, run_summary  # noqa: PLC0415
    from glue_pipeline.runtime import LOCAL_JOB_NAME_SUFFIX  # noqa: PLC0415

    started = time.monotonic()
    job_name = file_processor.JOB_NAME + LOCAL_JOB_NAME_SUFFIX  # what a local Spark run writes as processing_job
    data, quarantine = out_dir / "data", out_dir / "quarantine"
    args = {"input_path": str(source), "output_path": str(data), "quarantine_path": str(quarantine), "source_file": source.name}
    paths = RunPaths.for_run(str(source), str(data), str(quarantine), uuid.uuid4().hex)
    summary = run_summary(job_name, None, args, source.name, paths)
    for root in paths.staging_roots:
        Path(root).mkdir(parents=True, exist_ok=True)
    try:
        conversion = convert_csv_file(
            source, Path(paths.staging_output), Path(paths.staging_quarantine),
            source_file=source.name, processing_job=job_name, processed_at=datetime.now(timezone.utc),
            options=csv_options(args),
        )  # fmt: skip
        # A local rename is atomic: the previous output goes only once the new one is complete.
        for staged, final in ((Path(paths.staging_output), data), (Path(paths.staging_quarantine), quarantine)):
            if final.exists():
                shutil.rmtree(final)
            if staged.exists():
                final.parent.mkdir(parents=True, exist_ok=True)
                staged.rename(final)
                (final / "_SUCCESS").touch()  # the layout a Spark run leaves
    finally:
        for root in paths.staging_roots:
            shutil.rmtree(root, ignore_errors=True)
    finish_run(summary, None, None, csv_job_result(conversion), started)
    summary["engine"] = "fast"
    note = _reasons_note(summary["outcome"], summary["quarantine_reasons"])
    return RunResult(summary["rows_in"], summary["record_count"], summary["rows_quarantined"], data, note, summary)


def file_processor_job(engine: str = "auto", max_bytes: int = CONVERTER_CONTRACT["defaults"]["maxBytes"]) -> LocalJob:
    """The CSV job, each input routed to an engine by :func:`route_csv`."""

    def route(source: Path) -> Route:
        return route_csv(source.stat().st_size if source.is_file() else 0, engine, max_bytes)

    def run_one(source: Path, out_dir: Path) -> RunResult:
        chosen = route(source)
        result = (_run_file_processor_fast if chosen.engine == "fast" else _run_file_processor)(source, out_dir)
        return replace(result, engine=f"{chosen.engine} engine ({chosen.reason})")

    return LocalJob(
        name="file-processor",
        description="FileProcessorV2: CSV -> Snappy Parquet, malformed rows quarantined (glue/jobs/file_processor.py; "
        "small files on the fast engine, glue_pipeline/csv_fast.py)",
        default_inputs=_default_csv_inputs,
        run_one=run_one,
        needs_spark=lambda source: route(source).needs_spark,
    )


def _default_api_inputs() -> list[Path]:
    # One input: the directory of sample API pages, processed together as one ingestion run.
    return [ROOT / "samples" / "api"]


def _run_medallion(source: Path, out_dir: Path) -> RunResult:
    from glue_pipeline.medallion_job import layer_counts, run_local_sample  # noqa: PLC0415 - after sys.path is set
    from glue_pipeline.runtime import local_spark_session  # noqa: PLC0415

    pages = sorted(source.glob("*.json")) if source.is_dir() else [source]
    summary, paths = run_local_sample(local_spark_session(), [str(p) for p in pages], str(out_dir))
    return RunResult(summary.records_read, summary.gold_orders_in_partitions, summary.records_rejected, Path(paths.gold), layer_counts(summary), summary.as_dict())


def _default_parquet_inputs() -> list[Path]:
    return sorted((ROOT / "samples" / "parquet").glob("*.parquet"))


def _reasons_note(outcome: str, reasons: dict[str, int]) -> str:
    return outcome + ("" if not reasons else " " + ", ".join(f"{k}={v}" for k, v in sorted(reasons.items())))


def _run_parquet_to_json(source: Path, out_dir: Path) -> RunResult:
    import parquet_to_json  # noqa: PLC0415 - imported after sys.path is set, and only when this job runs

    data, quarantine = out_dir / "data", out_dir / "quarantine"
    summary = parquet_to_json.main(
        ["--input_path", str(source), "--output_path", str(data), "--quarantine_path", str(quarantine),
         "--source_file", source.name]
    )  # fmt: skip
    note = _reasons_note(summary["outcome"], summary["quarantine_reasons"])
    return RunResult(summary["rows_in"], summary["record_count"], summary["rows_quarantined"], data, note, summary)


def _default_legislators_inputs() -> list[Path]:
    # One input: the directory holding persons.json, memberships.json and organizations.json.
    return [ROOT / "samples" / "legislators"]


def _run_legislators(source: Path, out_dir: Path) -> RunResult:
    import process_legislators  # noqa: PLC0415 - imported after sys.path is set, and only when this job runs

    data, quarantine = out_dir / "history", out_dir / "quarantine"
    summary = process_legislators.main(
        ["--input_path", str(source), "--output_path", str(data), "--quarantine_path", str(quarantine),
         "--source_file", source.name]
    )  # fmt: skip
    note = _reasons_note(f"{summary['outcome']} memberships, {summary['partitions']} org_name partitions", summary["quarantine_reasons"])
    return RunResult(summary["rows_in"], summary["record_count"], summary["rows_quarantined"], data, note, summary)


def _default_claims_inputs() -> list[Path]:
    return sorted((ROOT / "samples" / "claims").glob("*.csv"))


def _run_claims(source: Path, out_dir: Path) -> RunResult:
    """The claims flow as on AWS: the validation Lambda's own code judges the file (report under
    validation-reports/), then the claims job runs, or the file is quarantined whole."""
    import shutil  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    report = out_dir / "validation-reports" / f"{source.stem}.json"
    checked = subprocess.run(
        ["node", "-r", "ts-node/register/transpile-only", "functions/claims-validation/localValidate.ts",
         "--input", str(source), "--report", str(report)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if checked.returncode != 0:
        raise RuntimeError(f"claims validation failed to run: {checked.stderr.strip()}")
    verdict = json.loads(checked.stdout)
    score = f"quality {verdict['quality_score']:.2f}"
    total = verdict["summary"]["total_records"]
    if verdict["validation_status"] != "success":
        quarantined = out_dir / "quarantine" / "files" / source.name
        quarantined.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, quarantined)
        note = f"validation failed, {score}, file quarantined: {'; '.join(verdict['reasons'])}"
        return RunResult(total, 0, total, quarantined, note, {"validation": verdict})

    import healthcare_claims_etl  # noqa: PLC0415 - imported after sys.path is set, and only when this job runs

    summary = healthcare_claims_etl.main(
        ["--input_path", str(source), "--output_path", str(out_dir / "processed" / "claims"),
         "--aggregation_path", str(out_dir / "processed" / "aggregations" / "claims_monthly"),
         "--quarantine_path", str(out_dir / "quarantine" / "records"), "--staging_path", str(out_dir / "temp" / "staging"),
         "--source_file", source.name, "--file_id", verdict["file_id"], "--validation_report", str(report)]
    )  # fmt: skip
    note = _reasons_note(f"validation passed, {score}; {summary['outcome']}", summary["quarantine_reasons"])
    return RunResult(
        summary["rows_in"], summary["record_count"], summary["rows_quarantined"], out_dir / "processed" / "claims", note,
        {"validation": verdict, **summary},
    )  # fmt: skip


JOBS: dict[str, LocalJob] = {
    "file-processor": file_processor_job(),
    "medallion": LocalJob(
        name="medallion",
        description="MedallionEtl: API pages (samples/api) -> bronze -> silver -> gold Parquet year=/month=/day= (glue/jobs/medallion_etl.py)",
        default_inputs=_default_api_inputs,
        run_one=_run_medallion,
    ),
    "parquet-to-json": LocalJob(
        name="parquet-to-json",
        description="ParquetToJson: yellow-taxi Parquet -> JSON Lines, schema and data-quality checks (glue/jobs/parquet_to_json.py)",
        default_inputs=_default_parquet_inputs,
        run_one=_run_parquet_to_json,
    ),
    "legislators": LocalJob(
        name="legislators",
        description="ProcessLegislators: persons x memberships x organizations -> history Parquet by org_name (glue/jobs/process_legislators.py)",
        default_inputs=_default_legislators_inputs,
        run_one=_run_legislators,
    ),
    "claims": LocalJob(
        name="claims",
        description="Healthcare claims: validation gate (the Lambda's code) -> claims ETL -> Parquet year=/month=/file_id=, aggregations (glue/jobs/healthcare_claims_etl.py)",
        default_inputs=_default_claims_inputs,
        run_one=_run_claims,
    ),
}


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _run_job(job: LocalJob, inputs: list[Path], verbose: bool) -> int:
    """Runs one job over its inputs, printing a line per input; returns the number that failed."""
    print(f"\n{job.description}; {len(inputs)} input(s)")
    failures = 0
    for source in inputs:
        out_dir = OUTPUT_ROOT / job.name / source.stem
        size_mb = source.stat().st_size / 1e6 if source.exists() else 0.0
        began = time.monotonic()
        captured = io.StringIO()
        try:
            if job.needs_spark(source):
                ensure_spark()
                began = time.monotonic()
            with contextlib.redirect_stdout(captured):
                result = job.run_one(source, out_dir)
        except Exception as error:  # noqa: BLE001 - report every input, then fail the run as a whole
            failures += 1
            print(f"FAIL {source.name}: {type(error).__name__}: {error}")
            if verbose:
                traceback.print_exc()
            continue
        seconds = time.monotonic() - began
        print(
            f"ok   {source.name}: rows in {result.rows_in}, written {result.rows_written}, "
            f"quarantined {result.rows_quarantined}, {seconds:.2f} s, {size_mb / seconds:.3g} MB/s "
            f"[{result.note}] -> {_relative(result.data_path)}" + (f" on the {result.engine}" if result.engine else "")
        )
        if verbose:
            print(json.dumps(result.summary, ensure_ascii=False))
    print(f"{job.name}: {len(inputs) - failures} of {len(inputs)} input(s) succeeded; outputs under {_relative(OUTPUT_ROOT / job.name)}")
    return failures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the pipeline's Glue jobs on local Spark.")
    parser.add_argument("inputs", nargs="*", type=Path, help="input files (default: the job's samples)")
    parser.add_argument(
        "--job", choices=sorted(JOBS), help="job to run (default: every job on its samples; with input files, file-processor)"
    )
    parser.add_argument("--verbose", action="store_true", help="also print each run's JSON summary")
    parser.add_argument(
        "--engine", choices=ENGINES, default="auto",
        help="the CSV job's engine: auto routes by size as the deployed trigger does (default), fast or spark forces one",
    )  # fmt: skip
    parser.add_argument(
        "--fast-max-bytes", type=int, default=CONVERTER_CONTRACT["defaults"]["maxBytes"],
        help="the largest CSV the fast engine takes with --engine auto (default: the converter contract's limit)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    jobs = {**JOBS, "file-processor": file_processor_job(args.engine, args.fast_max_bytes)}
    given = [p.resolve() for p in args.inputs]
    # No job and no inputs: every job on its bundled samples. Input files without --job are CSVs for the main job.
    job_names = [args.job] if args.job else (["file-processor"] if given else list(JOBS))
    plan = [(jobs[name], given or jobs[name].default_inputs()) for name in job_names]
    for job, inputs in plan:
        if not inputs:
            print(f"{job.name}: no inputs found", file=sys.stderr)
            return 1

    print(f"running {', '.join(job_names)}")
    failures = sum(_run_job(job, inputs, args.verbose) for job, inputs in plan)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
