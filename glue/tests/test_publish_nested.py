"""Publication replaces only what a run owns (issue: data fidelity, keys are data).

``a.csv`` publishes to ``processed/a/`` and ``a/x.csv`` to ``processed/a/x/``: the second is a sub-prefix of the
first but another key's output. On real local Spark, each order keeps both outputs and both quarantines, a
re-run replaces exactly its own part files, and a publication that fails half-way puts the previous files back.
The fast path's converter (functions/csv-converter/s3_output.py) replaces the same entries on S3.
"""

from __future__ import annotations

from pathlib import Path
import pyarrow.dataset as ds
import pytest
from pyspark.sql import SparkSession

import file_processor
import process_legislators
from conftest import REPO_ROOT
from glue_pipeline import file_job
from glue_pipeline.file_job import run_file_job

# One good row and one bad row (too many fields) each, so both the output and the quarantine exist.
SOURCES = {"a.csv": b"v,n\nparent,1\nbroken,1,2,3\n", "a/x.csv": b"v,n\nnested,2\nbad,1,2,3\n"}


def run(tmp_path: Path, key: str, content: bytes | None = None) -> tuple[dict, Path, Path]:
    source = tmp_path / "input" / key
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(SOURCES[key] if content is None else content)
    stem = key.removesuffix(".csv")
    out, quarantine = tmp_path / "processed" / stem, tmp_path / "quarantine" / stem
    argv = ["--input_path", str(source), "--output_path", str(out), "--quarantine_path", str(quarantine),
            "--source_file", key]
    return run_file_job(argv, file_processor.JOB_NAME, file_processor.OPTIONAL_ARGS, file_processor.convert), out, quarantine


def values(path: Path) -> list[str]:
    # Only this prefix's own files: a dataset over the directory would also read the nested key's output.
    files = sorted(str(p) for p in path.glob("*.parquet"))
    return [str(v) for v in ds.dataset(files, format="parquet").to_table().column("v").to_pylist()]


def own_files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}


def tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("order", [["a/x.csv", "a.csv"], ["a.csv", "a/x.csv"]], ids=["parent-last", "parent-first"])
def test_a_key_and_a_key_under_its_prefix_keep_both_outputs_and_quarantines(
    spark: SparkSession, tmp_path: Path, order: list[str]
) -> None:
    for key in order:
        summary, _, _ = run(tmp_path, key)
        assert (summary["record_count"], summary["rows_quarantined"]) == (1, 1)

    parent, nested = tmp_path / "processed" / "a", tmp_path / "processed" / "a" / "x"
    assert values(parent) == ["parent"] and values(nested) == ["nested"]
    for quarantine, bad in ((tmp_path / "quarantine" / "a", "broken"), (tmp_path / "quarantine" / "a" / "x", "bad")):
        lines = [line for p in sorted(quarantine.glob("part-*")) for line in p.read_text().splitlines()]
        assert len(lines) == 1 and bad in lines[0]
    assert (parent / "_SUCCESS").exists() and (nested / "_SUCCESS").exists()


def test_a_rerun_replaces_exactly_its_own_files_and_nothing_under_it(spark: SparkSession, tmp_path: Path) -> None:
    run(tmp_path, "a/x.csv")
    run(tmp_path, "a.csv")
    nested_before = tree(tmp_path / "processed" / "a" / "x"), tree(tmp_path / "quarantine" / "a" / "x")
    first_parts = {name for name in own_files(tmp_path / "processed" / "a") if name.endswith(".parquet")}

    # The new version has no bad rows: its quarantine's own files go, the nested key's quarantine stays.
    summary, out, quarantine = run(tmp_path, "a.csv", b"v,n\nsecond,1\nthird,2\n")
    assert summary["rows_quarantined"] == 0
    parts = {name for name in own_files(out) if name.endswith(".parquet")}
    assert parts and not parts & first_parts, "a stale part file of the previous run is still published"
    assert sorted(values(out)) == ["second", "third"]
    assert not own_files(quarantine), "the previous quarantine's own files were not removed"
    assert (tree(out / "x"), tree(quarantine / "x")) == nested_before


def test_a_prefix_left_with_nothing_is_removed(spark: SparkSession, tmp_path: Path) -> None:
    _, _, quarantine = run(tmp_path, "a.csv")
    assert quarantine.exists()
    run(tmp_path, "a.csv", b"v,n\nclean,1\n")
    assert not quarantine.exists(), "an emptied prefix of its own is removed, as a run in place would have"


def test_a_failed_move_restores_the_previous_files(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(tmp_path, "a/x.csv")
    run(tmp_path, "a.csv")
    before = tree(tmp_path / "processed" / "a"), tree(tmp_path / "quarantine" / "a")
    moves: list[str] = []
    real_rename = file_job.rename_path

    def fail_on_the_second_move_in(spark: SparkSession, source: str, target: str) -> None:
        if "/output/" in source:
            moves.append(source)
            if len(moves) == 2:
                raise OSError("injected failure while publishing")
        real_rename(spark, source, target)

    monkeypatch.setattr(file_job, "rename_path", fail_on_the_second_move_in)
    with pytest.raises(OSError, match="injected failure"):
        run(tmp_path, "a.csv", b"v,n\nnew,1\n")
    assert len(moves) == 2, "the failure did not happen after a staged file was moved in"
    monkeypatch.undo()

    assert (tree(tmp_path / "processed" / "a"), tree(tmp_path / "quarantine" / "a")) == before
    assert not list((tmp_path / "processed").rglob("_staging/*/*")), "the failed run's staging was not removed"


def test_a_partitioned_output_replaces_its_partitions(spark: SparkSession, tmp_path: Path) -> None:
    # ProcessLegislators writes org_name=<value>/ directories: those are the run's own, replaced on a re-run.
    history = tmp_path / "history"
    argv = ["--input_path", str(REPO_ROOT / "samples" / "legislators"), "--output_path", str(history),
            "--quarantine_path", str(tmp_path / "quarantine" / "history")]
    first = process_legislators.main(argv)
    before = {str(p.relative_to(history)) for p in history.rglob("*.parquet")}
    second = process_legislators.main(argv)
    after = {str(p.relative_to(history)) for p in history.rglob("*.parquet")}
    assert first["record_count"] == second["record_count"] > 0
    assert after and not before & after, "the previous run's partition files are still published"
    assert {Path(p).parent.name for p in before} == {Path(p).parent.name for p in after}


def test_a_staged_directory_that_is_not_a_partition_is_refused(spark: SparkSession, tmp_path: Path) -> None:
    # Moving it in could land on another key's sub-prefix, so nothing is moved at all.
    with pytest.raises(ValueError, match="partition directories only"):
        file_job.owned_entries(spark, str(tmp_path / "processed" / "a"), [("x", True)])



def test_another_keys_directory_and_its_folder_marker_are_not_owned(spark: SparkSession, tmp_path: Path) -> None:
    final = tmp_path / "processed" / "a"
    (final / "x").mkdir(parents=True)
    for name in ("part-00000.parquet", ".part-00000.parquet.crc", "_SUCCESS", "x_$folder$"):
        (final / name).write_bytes(b"")
    owned = file_job.owned_entries(spark, str(final), [("part-00000.parquet", False)])
    assert owned == [".part-00000.parquet.crc", "_SUCCESS", "part-00000.parquet"]
    # A staged org_name=... directory makes the same column's directories its own, nothing else.
    (final / "org_name=A").mkdir()
    owned = file_job.owned_entries(spark, str(final), [("org_name=B", True)])
    assert "org_name=A" in owned and "x" not in owned and "x_$folder$" not in owned
