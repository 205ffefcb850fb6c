"""The FileProcessorV2 entry point, run end to end on files, its Parquet read back with pyarrow."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from pyspark.sql import SparkSession

import file_processor
from conftest import SAMPLES


def run(tmp_path: Path, source: Path | str, *extra: str) -> tuple[dict, Path, Path]:
    out, quarantine = tmp_path / "processed", tmp_path / "quarantine"
    summary = file_processor.main(
        [
            "--input_path", str(source),
            "--output_path", str(out),
            "--quarantine_path", str(quarantine),
            "--source_file", f"incoming/{Path(source).name}",
            *extra,
        ]
    )
    return summary, out, quarantine


def test_sales_orders_sample_end_to_end(spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary, out, quarantine = run(tmp_path, SAMPLES / "sales_orders.csv")

    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert printed == [summary]
    assert summary["outcome"] == "PROCESSED"
    assert (summary["rows_in"], summary["record_count"], summary["rows_quarantined"]) == (10, 9, 1)
    assert summary["rows_in"] == summary["record_count"] + summary["rows_quarantined"]
    assert summary["quarantine_reasons"] == {"too_few_fields": 1}
    assert summary["job_name"] == "FileProcessorV2-local"
    assert summary["columns"]["quantity"] == "int" and summary["columns"]["ordered_at"] == "timestamp"

    table = ds.dataset(str(out), format="parquet").to_table()
    assert table.num_rows == 9
    assert table.column_names[-3:] == ["processed_at", "source_file", "processing_job"]
    assert all(p.name.endswith(".snappy.parquet") for p in out.glob("part-*"))
    rows = {r["order_id"]: r for r in table.to_pylist()}
    assert rows[1005]["customer_name"] == "O'Brien, Seán"
    assert rows[1005]["notes"] == "Leave at the door,\nring twice"
    assert rows[1006]["customer_name"] == 'Acme "Wholesale" Ltd'
    assert rows[1004]["customer_name"] == "李雷" and rows[1004]["notes"] is None
    assert {r["source_file"] for r in rows.values()} == {"incoming/sales_orders.csv"}
    assert len({r["processed_at"] for r in rows.values()}) == 1
    assert 1007 not in rows

    bad = [json.loads(line) for p in quarantine.glob("part-*.json") for line in p.read_text("utf-8").splitlines()]
    assert [(b["quarantine_reason"], b["line_number"], b["raw_record"]) for b in bad] == [
        ("too_few_fields", 9, "1007,2024-03-04,2024-03-04 12:00:00,507,Øyvind Ærø,NO,SKU-120034")
    ]


def test_customers_sample_cleans_column_names(spark: SparkSession, tmp_path: Path) -> None:
    summary, out, _ = run(tmp_path, SAMPLES / "customers.csv")

    assert list(summary["columns"]) == [
        "customer_id", "full_name", "e_mail", "city", "country", "signup_date", "is_active",
        "lifetime_value_u20ac", "loyalty_pct", "c_2023_orders",
    ]
    assert (summary["rows_in"], summary["record_count"], summary["rows_quarantined"]) == (9, 8, 1)
    assert summary["quarantine_reasons"] == {"too_many_fields": 1}
    cities = ds.dataset(str(out), format="parquet").to_table(columns=["city"]).column("city").to_pylist()
    assert sorted(cities) == sorted(["London", "München", "Sevilla", "北京", "Cork, Munster", "Springfield", "大阪", "Porto"])


@pytest.mark.parametrize(("content", "outcome"), [("", "EMPTY_FILE"), ("a,b,c\n", "HEADER_ONLY")])
def test_empty_and_header_only_files_end_with_an_outcome(
    spark: SparkSession, tmp_path: Path, content: str, outcome: str
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(content)
    summary, _, _ = run(tmp_path, source)
    assert (summary["outcome"], summary["rows_in"], summary["record_count"], summary["rows_quarantined"]) == (outcome, 0, 0, 0)


def test_missing_input_fails_loudly(spark: SparkSession, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="does not exist"):
        run(tmp_path, tmp_path / "nope.csv")
