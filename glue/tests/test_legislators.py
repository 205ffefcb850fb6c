"""ProcessLegislators: the join on the bundled sample, its Parquet read back with pyarrow, every
membership accounted for, and the input problems that must fail the run rather than lose rows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest
from pyspark.sql import SparkSession

import process_legislators
from conftest import REPO_ROOT
from glue_pipeline.legislators import InputError

SAMPLE_DIR = REPO_ROOT / "samples" / "legislators"
HOUSE = "House of Representatives"


def run(tmp_path: Path, input_dir: Path, *extra: str) -> tuple[dict[str, Any], Path, Path]:
    out, quarantine = tmp_path / "history", tmp_path / "quarantine"
    summary = process_legislators.main(
        ["--input_path", str(input_dir), "--output_path", str(out), "--quarantine_path", str(quarantine), *extra]
    )
    return summary, out, quarantine


def copy_sample(tmp_path: Path) -> Path:
    target = tmp_path / "input"
    shutil.copytree(SAMPLE_DIR, target)
    return target


def test_the_bundled_sample_end_to_end(spark: SparkSession, tmp_path: Path) -> None:
    summary, out, quarantine = run(tmp_path, SAMPLE_DIR, "--source_file", "legislators/")

    assert summary["job_name"] == "ProcessLegislators-local" and summary["outcome"] == "PROCESSED"
    assert (summary["persons"], summary["organizations"]) == (4, 4)
    assert (summary["rows_in"], summary["record_count"], summary["rows_quarantined"]) == (9, 7, 2)
    assert summary["quarantine_reasons"] == {"unknown_person": 1, "unknown_organization": 1}
    assert summary["partitions"] == 3

    # Partitioned by organization: one directory per org_name, values recovered from the path.
    assert sorted(p.name for p in out.glob("org_name=*")) == ["org_name=House of Representatives", "org_name=Republican", "org_name=Senate"]
    table = ds.dataset(str(out), format="parquet", partitioning="hive").to_table()
    rows = table.to_pylist()
    assert len(rows) == 7
    columns = table.column_names
    # Person fields, then membership fields, then the organization's; the metadata columns of FileProcessorV2.
    for name in ("id", "name", "given_name", "family_name", "gender", "birth_date", "identifiers", "contact_details",
                 "links", "other_names", "organization_id", "legislative_period_id", "start_date", "end_date", "role",
                 "on_behalf_of_id", "area_id", "classification", "seats", "type", "processed_at", "source_file",
                 "processing_job", "org_name"):  # fmt: skip
        assert name in columns, name
    assert "person_id" not in columns and "org_id" not in columns
    assert columns.index("id") < columns.index("organization_id") < columns.index("classification") < columns.index("processed_at")

    per_org: dict[str, int] = {}
    for r in rows:
        per_org[r["org_name"]] = per_org.get(r["org_name"], 0) + 1
    assert per_org == {HOUSE: 3, "Senate": 3, "Republican": 1}
    durbin = sorted((r for r in rows if r["family_name"] == "Durbin"), key=lambda r: r["legislative_period_id"])
    assert [(r["legislative_period_id"], r["end_date"]) for r in durbin] == [("term/113", "2015-01-03"), ("term/114", None)]
    assert {(r["classification"], r["seats"], r["type"]) for r in durbin} == {("legislature", 100, "upper house")}
    ross = next(r for r in rows if r["family_name"] == "Ross")
    assert ross["identifiers"][0] == {"identifier": "R000573", "scheme": "bioguide"}
    assert ross["other_names"] == [{"lang": None, "name": "Michael Avery Ross", "note": "alternate"}]
    assert {(r["source_file"], r["processing_job"]) for r in rows} == {("legislators/", "ProcessLegislators-local")}
    assert len({r["processed_at"] for r in rows}) == 1

    bad = [json.loads(line) for p in quarantine.glob("part-*.json") for line in p.read_text("utf-8").splitlines()]
    by_reason = {b["quarantine_reason"]: json.loads(b["raw_record"]) for b in bad}
    assert by_reason["unknown_person"]["person_id"] == "ffffffff-0000-4000-8000-000000000000"
    assert by_reason["unknown_organization"]["organization_id"] == "a1b2c3d4-0000-4000-8000-000000000000"


def test_a_malformed_membership_is_quarantined_and_a_replay_replaces_the_output(spark: SparkSession, tmp_path: Path) -> None:
    source = copy_sample(tmp_path)
    run(tmp_path, source)  # a first run whose output the second must replace, not add to
    with (source / "memberships.json").open("a", encoding="utf-8") as f:
        f.write('{"person_id": "0005af3a-9471-4d1f-9299-737fff4b9b46", "organization_id": \n')

    summary, out, quarantine = run(tmp_path, source)

    assert (summary["rows_in"], summary["record_count"], summary["rows_quarantined"]) == (10, 7, 3)
    assert summary["quarantine_reasons"]["malformed_json"] == 1
    assert ds.dataset(str(out), format="parquet", partitioning="hive").count_rows() == 7
    bad = [json.loads(line) for p in quarantine.glob("part-*.json") for line in p.read_text("utf-8").splitlines()]
    assert len(bad) == 3
    assert next(b for b in bad if b["quarantine_reason"] == "malformed_json")["raw_record"].startswith('{"person_id"')


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        ("persons.json", '{"id": "p1", "name": "A"}\n{"id": "p1", "name": "B"}\n', "persons.json has duplicate id values"),
        ("organizations.json", '{"id": "o1", "name": "X"}\n{not json\n', "organizations.json has 1 malformed line"),
        ("memberships.json", '{"person_id": "p1", "org": "o1"}\n', "memberships.json lacks required field.*organization_id"),
    ],
)
def test_inputs_that_would_lose_or_multiply_rows_fail_the_run(
    spark: SparkSession, tmp_path: Path, file: str, content: str, message: str
) -> None:
    source = copy_sample(tmp_path)
    (source / file).write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        run(tmp_path, source)
