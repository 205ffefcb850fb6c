"""`npm run local`: names passed through unexpanded (issue: data fidelity, item 6), CSV files routed by size.

npm appends the arguments after ``--`` to the script's command line and runs it with ``sh -c``; its quoting
leaves ``[``, ``]``, ``{`` and ``}`` bare, so without ``set -f`` in the script the shell globbed ``r[1].csv``
into ``r1.csv`` before run_local.py ever saw it. This runs the real ``npm run local`` (a separate process,
its own Spark) on a file whose bracketed name matches a neighbour holding other rows.

Routing (the CSV flow's fast path): the runner sends each CSV to the engine the deployed trigger would choose
and starts Spark only for a file that needs it; run in-process on the tests' session.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession

from conftest import REPO_ROOT


def test_npm_run_local_processes_the_file_named_not_the_files_its_name_would_match(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    named = tmp_path / f"k[1]-{tag}.csv"
    neighbour = tmp_path / f"k1-{tag}.csv"  # what the shell's glob of the name matches
    named.write_bytes(b"v\nown\n")
    neighbour.write_bytes(b"v\nneighbour\nneighbour\nneighbour\n")
    out_dir = REPO_ROOT / ".local-output" / "file-processor" / named.stem
    try:
        done = subprocess.run(
            ["npm", "run", "--silent", "local", "--", "--job", "file-processor", str(named)],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert f"ok   {named.name}: rows in 1, written 1, quarantined 0" in done.stdout, done.stdout
        assert neighbour.name not in done.stdout
        assert out_dir.is_dir(), "the output is named after the file given"
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
        shutil.rmtree(REPO_ROOT / ".local-output" / "file-processor" / neighbour.stem, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------
# Routing: CSV files by size, as the deployed trigger routes them (the CSV flow's fast path)
# ---------------------------------------------------------------------------------------------------------


def _run_local_module():
    spec = importlib.util.spec_from_file_location("run_local", REPO_ROOT / "scripts" / "run_local.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_local"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


run_local = _run_local_module()


@pytest.mark.parametrize(
    "size, engine, limit, expected",
    [
        (100, "auto", 100, "fast"),  # at the limit: fast, as the trigger's `<=`
        (101, "auto", 100, "spark"),
        (10**9, "fast", 100, "fast"),
        (1, "spark", 100, "spark"),
    ],
)
def test_a_csv_goes_to_the_fast_engine_at_or_below_the_limit_unless_an_engine_is_forced(size: int, engine: str, limit: int, expected: str) -> None:
    assert run_local.route_csv(size, engine, limit).engine == expected


def test_the_default_limit_is_the_converter_contracts() -> None:
    contract = json.loads((REPO_ROOT / "functions" / "csv-converter" / "converter-contract.json").read_text(encoding="utf-8"))
    assert run_local.file_processor_job().needs_spark(REPO_ROOT / "samples" / "csv" / "customers.csv") is False
    assert run_local.CONVERTER_CONTRACT["defaults"]["maxBytes"] == contract["defaults"]["maxBytes"]


def test_local_runs_route_each_csv_and_start_spark_only_for_a_file_that_needs_it(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Prepare: a small file and a larger one, the limit between them; the runner believes no session exists.
    tag = uuid.uuid4().hex[:8]
    small, large = tmp_path / f"small-{tag}.csv", tmp_path / f"large-{tag}.csv"
    small.write_bytes(b"id,name\n1,ann\n2,bob\n")
    large.write_bytes(b"id,name\n" + b"".join(f"{i},n{i}\n".encode() for i in range(50)))
    limit = str(small.stat().st_size)
    monkeypatch.setattr(run_local, "_SPARK_STARTED", False)
    outputs = [REPO_ROOT / ".local-output" / "file-processor" / p.stem for p in (small, large)]
    try:
        # Act 1: only the small file, routed fast: no Spark start.
        assert run_local.main(["--job", "file-processor", "--fast-max-bytes", limit, str(small)]) == 0
        out = capsys.readouterr().out
        assert f"ok   {small.name}: rows in 2, written 2, quarantined 0" in out, out
        assert f"on the fast engine ({small.stat().st_size} bytes <= {limit} bytes fast-path limit)" in out
        assert "local Spark ready" not in out
        fast_rows = pq.read_table(outputs[0] / "data").select(["id", "name"]).to_pylist()

        # Act 2: both; the larger one needs Spark, which starts for it.
        assert run_local.main(["--job", "file-processor", "--fast-max-bytes", limit, str(small), str(large)]) == 0
        out = capsys.readouterr().out
        assert "local Spark ready" in out
        assert f"ok   {large.name}: rows in 50, written 50, quarantined 0" in out and "on the spark engine" in out

        # Act 3: forced onto Spark, the small file gives the same rows as on the fast engine.
        assert run_local.main(["--job", "file-processor", "--engine", "spark", str(small)]) == 0
        assert "on the spark engine (--engine spark)" in capsys.readouterr().out
        assert pq.read_table(outputs[0] / "data").select(["id", "name"]).to_pylist() == fast_rows
    finally:
        for path in outputs:
            shutil.rmtree(path, ignore_errors=True)
