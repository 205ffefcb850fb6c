"""The medallion job end to end on local Spark, through the entry script Glue runs (glue/jobs/medallion_etl.py):
the bundled sample API pages (samples/api/) in a bronze directory laid out as the ingestion Lambda writes it,
then silver, rejected and gold on disk, checked against an independent plain-Python reading of the samples;
a second run that finds nothing new, one that finds new pages (only they are processed, only their days are
rewritten), a retry after a failure before the bookmark commit, and the gold file layout."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession

from glue_pipeline import medallion as m
from glue_pipeline.medallion_job import Bookmark, MedallionPaths, list_bronze_objects, run_medallion, stage_sample_pages, write_gold_table

REPO = Path(__file__).resolve().parents[2]
SAMPLES = sorted((REPO / "samples" / "api").glob("*.json"))


def load_job_script():
    spec = importlib.util.spec_from_file_location("medallion_etl", REPO / "glue" / "jobs" / "medallion_etl.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lake_at(root: Path) -> MedallionPaths:
    return MedallionPaths(*(f"{root / layer}/" for layer in ("raw", "processed", "curated", "rejected", "_state")))


@pytest.fixture
def lake(tmp_path: Path) -> MedallionPaths:
    return lake_at(tmp_path)


def sample_pages() -> list[tuple[str, str]]:
    return [(p.name, p.read_text()) for p in SAMPLES]


def expected_gold(pages: list[str]) -> dict[str, dict]:
    """The gold orders the samples should produce, computed without Spark: valid records only, latest version wins."""
    best: dict[str, dict] = {}
    for text in pages:
        for rec in json.loads(text)["data"]:
            if not isinstance(rec, dict) or not rec.get("order_id") or rec.get("status", "").strip().lower() not in m.ORDER_STATUSES:
                continue
            if len(rec.get("currency", "").strip()) != 3 or not rec.get("items") or any(int(i["quantity"]) < 1 for i in rec["items"]):
                continue
            if "T" not in rec["order_ts"]:
                continue
            current = best.get(rec["order_id"])
            if current is None or rec.get("updated_at", rec["order_ts"]) >= current.get("updated_at", current["order_ts"]):
                best[rec["order_id"]] = rec
    out = {}
    for oid, rec in best.items():
        gross = sum(Decimal(str(i["unit_price"])) * int(i["quantity"]) for i in rec["items"]).quantize(Decimal("0.01"), ROUND_HALF_UP)
        discount = min(Decimal(str(rec.get("discount", 0))), gross)
        out[oid] = {"status": rec["status"].strip().lower(), "gross_amount": gross, "net_amount": (gross - discount).quantize(Decimal("0.01")), "item_count": sum(int(i["quantity"]) for i in rec["items"])}
    return out


def read_gold(spark: SparkSession, lake: MedallionPaths, table: str = "orders"):
    return spark.read.parquet(f"{lake.gold}{table}/")


def files_under(path: str) -> dict[str, float]:
    return {str(p): p.stat().st_mtime_ns for p in Path(path).rglob("*") if p.is_file() and not p.name.startswith((".", "_"))}


@pytest.fixture(scope="module")
def first_lake(spark: SparkSession, tmp_path_factory) -> tuple[Path, object]:
    """The samples run once through the job script; tests that change the lake work on a copy."""
    root = tmp_path_factory.mktemp("first-run")
    lake = lake_at(root)
    stage_sample_pages(spark, sample_pages(), lake.bronze, "2025-11-05", "scheduled-20251105T090000Z")
    job = load_job_script()
    summary = job.main(
        [
            "--JOB_NAME", "MedallionEtl-test", "--bronze_path", lake.bronze, "--silver_path", lake.silver, "--gold_path", lake.gold,
            "--rejected_path", lake.rejected, "--state_path", lake.state, "--run_id", "scheduled-20251105T090000Z", "--run_date", "2025-11-05",
            # What Glue adds to every run; the script must ignore it.
            "--job-bookmark-option", "job-bookmark-disable", "--TempDir", "s3://assets/temp/",
        ],
    )
    return root, summary


@pytest.fixture
def first_run(first_lake, tmp_path: Path):
    """The first run's summary, with `lake` a private copy of its lake (modification times kept: same bookmark)."""
    root, summary = first_lake
    shutil.copytree(root, tmp_path, dirs_exist_ok=True)
    return summary


class TestFirstRun:
    def test_counts_every_record_of_the_samples(self, first_run):
        assert first_run.bronze_objects_listed == first_run.bronze_objects_new == len(SAMPLES) == 3
        assert first_run.records_read == 45
        assert first_run.rejected_by_reason == {
            m.R_BAD_CURRENCY: 1, m.R_BAD_ITEMS: 2, m.R_BAD_ORDER_TS: 1, m.R_BAD_STATUS: 1, m.R_MISSING_ORDER_ID: 1, m.R_NOT_AN_OBJECT: 1,
        }
        assert first_run.records_rejected == 7
        assert first_run.duplicates_dropped == 2  # an exact repeat and an older version of ORD-000001
        assert first_run.silver_records == 36
        assert first_run.gold_partitions == ["year=2025/month=11/day=03", "year=2025/month=11/day=04", "year=2025/month=11/day=05"]
        assert first_run.gold_orders_in_partitions == 36

    def test_gold_orders_match_an_independent_reading_of_the_samples(self, spark, lake, first_run):
        expected = expected_gold([text for _, text in sample_pages()])
        got = {r.order_id: {"status": r.status, "gross_amount": r.gross_amount, "net_amount": r.net_amount, "item_count": r.item_count} for r in read_gold(spark, lake).collect()}
        assert got == expected
        assert got["ORD-000001"]["status"] == "shipped", "the later version of ORD-000001 won"

    def test_daily_sales_add_up_to_the_orders(self, spark, lake, first_run):
        orders = read_gold(spark, lake).where("is_revenue").groupBy("order_date", "currency").agg({"net_amount": "sum"}).collect()
        by_day = {(r.order_date, r.currency): r["sum(net_amount)"] for r in orders}
        daily = {(r.order_date, r.currency): r.net_revenue for r in read_gold(spark, lake, "daily_sales").collect()}
        assert daily == by_day
        assert first_run.daily_sales_rows == len(daily)

    def test_gold_is_snappy_parquet_partitioned_by_day(self, lake, first_run):
        files = sorted(Path(f"{lake.gold}orders").rglob("*.parquet"))
        assert {str(f.parent.relative_to(Path(lake.gold) / "orders")) for f in files} == {"year=2025/month=11/day=03", "year=2025/month=11/day=04", "year=2025/month=11/day=05"}
        # One task per day partition: one file per day at this size (files are capped at ~128 MB, not split by task).
        assert len(files) == 3
        for f in files:
            meta = pq.ParquetFile(f).metadata
            assert {meta.row_group(0).column(i).compression for i in range(meta.num_columns)} == {"SNAPPY"}
        assert first_run.records_per_file == m.records_per_file(128 * 1024 * 1024, 100)

    def test_silver_is_json_lines_under_the_run_date_and_rejected_records_keep_their_reason(self, lake, first_run):
        run_dir = "2025/11/05/scheduled-20251105T090000Z/"
        silver = [json.loads(line) for f in Path(f"{lake.silver}{run_dir}").glob("*.json.gz") for line in gzip.open(f, "rt")]
        assert len(silver) == 36 and len({r["order_id"] for r in silver}) == 36
        rejected = [json.loads(line) for f in Path(f"{lake.rejected}{run_dir}").glob("*.json.gz") for line in gzip.open(f, "rt")]
        assert sorted(r["reason"] for r in rejected) == sorted(["invalid_currency", "invalid_items", "invalid_items", "invalid_order_ts", "invalid_status", "missing_order_id", "record_not_an_object"])
        assert all(r["source_file"].endswith(".json") and r["source_run_id"] == "scheduled-20251105T090000Z" for r in rejected)

    def test_commits_a_readable_manifest_of_what_it_processed(self, spark, lake, first_run):
        manifests = list(Path(f"{lake.state}processed").glob("*.json"))
        assert len(manifests) == 1
        manifest = json.loads(manifests[0].read_text())
        assert manifest["run_id"] == "scheduled-20251105T090000Z"
        assert sorted(o["key"] for o in manifest["objects"]) == [f"2025/11/05/scheduled-20251105T090000Z/page-0000{n}.json" for n in (1, 2, 3)]
        assert manifest["summary"]["silver_records"] == 36


def new_day_page() -> str:
    """A later API page: one new order on a new day, and a later version of ORD-000013 (an order of 2025-11-04)."""
    first = json.loads(SAMPLES[1].read_text())["data"][0]
    assert first["order_id"] == "ORD-000013"
    update = {**first, "status": "refunded", "updated_at": "2025-11-06T10:00:00Z"}
    new = {**first, "order_id": "ORD-100001", "order_ts": "2025-11-06T09:30:00Z", "updated_at": "2025-11-06T09:30:00Z", "status": "paid"}
    return json.dumps({"data": [new, update], "next_cursor": None})


class TestSecondRun:
    def test_nothing_new_nothing_done(self, spark, lake, first_run):
        before = files_under(lake.gold)
        summary = run_medallion(spark, lake, run_id="scheduled-20251106T090000Z", run_date="2025-11-06")
        assert (summary.bronze_objects_listed, summary.bronze_objects_new, summary.records_read) == (3, 0, 0)
        assert summary.committed_manifest is None
        assert files_under(lake.gold) == before
        assert len(list(Path(f"{lake.state}processed").glob("*.json"))) == 1

    def test_only_new_pages_are_processed_and_only_their_days_rewritten(self, spark, lake, first_run):
        before = files_under(lake.gold)
        stage_sample_pages(spark, [("page", new_day_page())], lake.bronze, "2025-11-06", "scheduled-20251106T090000Z")
        summary = run_medallion(spark, lake, run_id="scheduled-20251106T090000Z", run_date="2025-11-06")
        assert (summary.bronze_objects_listed, summary.bronze_objects_new, summary.records_read, summary.silver_records) == (4, 1, 2, 2)
        assert summary.gold_partitions == ["year=2025/month=11/day=04", "year=2025/month=11/day=06"]
        after = files_under(lake.gold)
        untouched = {f: t for f, t in before.items() if "day=03" in f or "day=05" in f}
        assert untouched and all(after.get(f) == t for f, t in untouched.items()), "days without new data were rewritten"
        gold = {r.order_id: r for r in read_gold(spark, lake).collect()}
        assert len(gold) == 37, "36 orders + 1 new; the update replaced its order instead of adding a row"
        assert (gold["ORD-000013"].status, gold["ORD-000013"].is_revenue, gold["ORD-000013"].source_run_id) == ("refunded", False, "scheduled-20251106T090000Z")
        assert gold["ORD-100001"].day == 6  # read back with partition type inference
        day_dirs = sorted(str(d.relative_to(Path(lake.gold))) for d in Path(lake.gold).glob("*/year=*/month=*/day=*"))
        assert day_dirs == [f"{t}/year=2025/month=11/day={d}" for t in ("daily_sales", "orders") for d in ("03", "04", "05", "06")]
        day4 = {r.currency: r for r in read_gold(spark, lake, "daily_sales").where("day = '04'").collect()}
        orders_day4 = read_gold(spark, lake).where("day = '04' AND is_revenue").collect()
        assert sum(r.orders for r in day4.values()) == len(orders_day4), "daily_sales of the 4th recomputed without the refunded order"
        assert len(list(Path(f"{lake.state}processed").glob("*.json"))) == 2

    def test_a_retry_after_a_failure_before_the_commit_changes_nothing(self, spark, lake, first_run):
        gold_before = sorted(tuple(r) for r in read_gold(spark, lake).drop("processed_at").collect())
        # The run died after writing gold but before committing its bookmark: the manifest is not there.
        for manifest in Path(f"{lake.state}processed").glob("*.json"):
            manifest.unlink()
        retry = run_medallion(spark, lake, run_id="scheduled-20251105T090000Z", run_date="2025-11-05")
        assert retry.bronze_objects_new == 3 and retry.silver_records == 36
        assert sorted(tuple(r) for r in read_gold(spark, lake).drop("processed_at").collect()) == gold_before
        silver_files = list(Path(f"{lake.silver}2025/11/05/scheduled-20251105T090000Z").glob("*.json.gz"))
        assert sum(1 for f in silver_files for _ in gzip.open(f, "rt")) == 36, "silver of the run was overwritten, not appended to"


class TestBookmarkAndLayout:
    def test_lists_pages_only_and_tells_a_rewritten_object_from_a_processed_one(self, spark, lake, tmp_path):
        [page] = stage_sample_pages(spark, [("p", '{"data": []}')], lake.bronze, "2025-11-05", "r1")
        Path(f"{lake.bronze}2025/11/05/r1/_SUCCESS").write_text("")
        Path(f"{lake.bronze}2025/11/05/r1/.hidden.json").write_text("{}")
        listed = list_bronze_objects(spark, lake.bronze)
        assert [Path(o.path).name for o in listed] == ["page-00001.json"]
        bookmark = Bookmark(spark, lake.state)
        bookmark.commit("r1", listed, {})
        assert bookmark.new_objects(list_bronze_objects(spark, lake.bronze)) == []
        os.utime(page.replace("file:", ""), ns=(0, listed[0].modified * 1_000_000 + 5_000_000_000))
        assert len(bookmark.new_objects(list_bronze_objects(spark, lake.bronze))) == 1, "a rewritten page counts as new"
        assert list_bronze_objects(spark, f"{tmp_path}/missing/") == []

    def test_gold_files_are_capped_per_partition_and_one_task_writes_each_day(self, spark, tmp_path):
        rows = [("2025", "11", "04", i) for i in range(7)] + [("2025", "11", "05", i) for i in range(3)]
        frame = spark.createDataFrame(rows, "year string, month string, day string, n int")
        write_gold_table(frame, f"{tmp_path}/t/", max_records=3)
        per_day = {d: sorted(pq.read_table(f).num_rows for f in (tmp_path / "t" / "year=2025" / "month=11" / d).glob("*.parquet")) for d in ("day=04", "day=05")}
        assert per_day == {"day=04": [1, 3, 3], "day=05": [3]}

    def test_paths_must_be_directories(self):
        with pytest.raises(ValueError, match="bronze path must end with '/'"):
            MedallionPaths("s3://b/raw", "s3://b/p/", "s3://b/c/", "s3://b/r/", "s3://b/s/")


@pytest.mark.parametrize(
    ("args", "job_run_id", "expected"),
    [
        ({"run_id": "scheduled-20251105T090000Z", "run_date": "2025-11-05", "target_file_mb": "64"}, "jr_1", {"run_id": "scheduled-20251105T090000Z", "run_date": "2025-11-05", "target_file_mb": 64}),
        ({"run_id": None, "run_date": None, "target_file_mb": None}, "jr_abc", {"run_id": "jr_abc", "run_date": None, "target_file_mb": 128}),
        ({}, None, {"run_id": "manual-20251105T091500Z", "run_date": None, "target_file_mb": 128}),
    ],
)
def test_run_settings_of_the_job_script(args, job_run_id, expected):
    from datetime import datetime, timezone

    job = load_job_script()
    assert job.run_settings(args, job_run_id, now=datetime(2025, 11, 5, 9, 15, tzinfo=timezone.utc)) == expected
    with pytest.raises(ValueError, match="target_file_mb"):
        job.run_settings({"target_file_mb": "0"}, None)
