"""The medallion transforms on local Spark: pages → records, the silver rules (one bad record per rule), format
normalisation, de-duplication, the gold business columns and the daily aggregate. Whole rows are compared."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from pyspark.sql import Row, SparkSession
from pyspark.sql import functions as F

from glue_pipeline import medallion as m


@pytest.fixture(autouse=True)
def utc(spark: SparkSession):
    """The transforms read dates in UTC (the job sets it); restore the session's zone for other tests."""
    previous = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    yield
    spark.conf.set("spark.sql.session.timeZone", previous)


def order(**overrides) -> dict:
    base = {
        "order_id": "ORD-1",
        "customer_id": "CUST-1",
        "customer_email": "a@example.com",
        "order_ts": "2025-11-04T10:00:00Z",
        "status": "paid",
        "currency": "EUR",
        "country": "DE",
        "items": [{"sku": "SKU-A", "quantity": 2, "unit_price": 9.5}],
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


def records(spark: SparkSession, *items, run_id: str = "run-1", source: str = "s3://b/raw/page-00001.json"):
    rows = [(json.dumps(i) if not isinstance(i, str) or not i.startswith("RAW:") else i[4:], source, run_id) for i in items]
    return spark.createDataFrame(rows, "record string, source_file string, source_run_id string")


def utc_ts(text: str) -> datetime:
    # Spark returns naive datetimes in the session zone (UTC here).
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc).replace(tzinfo=None)


class TestRecordsFromPages:
    def test_explodes_each_page_record_array_keeping_every_record_as_raw_json(self, spark):
        pages = spark.createDataFrame(
            [
                (json.dumps({"data": [{"order_id": "A", "n": 1}, {"order_id": "B"}], "next_cursor": "x"}), "p1"),
                (json.dumps({"items": ["just text", 3]}), "p2"),
                (json.dumps([{"order_id": "C"}]), "p3"),
            ],
            "value string, source_file string",
        )
        recs, rejected = m.records_from_pages(pages, "run-9")
        got = sorted((r.source_file, r.record, r.source_run_id) for r in recs.collect())
        # Objects keep their JSON text (compacted, numbers as the strings of their exact digits); a scalar
        # element keeps its value, and silver rejects it.
        assert got == [
            ("p1", '{"order_id":"A","n":"1"}', "run-9"),
            ("p1", '{"order_id":"B"}', "run-9"),
            ("p2", "3", "run-9"),
            ("p2", "just text", "run-9"),
            ("p3", '{"order_id":"C"}', "run-9"),
        ]
        assert rejected.count() == 0

    def test_numbers_reach_the_rules_as_the_api_wrote_them(self, spark):
        """Spark alone would re-print a number through a double before the rules see it: 9.999999999999999999
        became "10.0" and passed as 10.00, 1.0000000000000000001 passed as a 1.00 discount, and an id beyond
        2^53 written as a float lost digits. Now each is judged on its exact text."""
        items_page = (
            '{"data": ['
            '{"order_id": "ORD-1", "customer_id": "CUST-1", "order_ts": "2025-11-04T10:00:00Z", "status": "paid", "currency": "EUR",'
            ' "items": [{"sku": "SKU-A", "quantity": 2, "unit_price": 9.999999999999999999}]},'
            '{"order_id": "ORD-2", "customer_id": "CUST-1", "order_ts": "2025-11-04T10:00:00Z", "status": "paid", "currency": "EUR",'
            ' "discount": 1.0000000000000000001, "items": [{"sku": "SKU-A", "quantity": 2, "unit_price": 9.5}]},'
            '{"order_id": 123456789012345678901234567890, "customer_id": 9007199254740993, "order_ts": "2025-11-04T10:00:00Z",'
            ' "status": "paid", "currency": "EUR", "discount": 1.5, "items": [{"sku": "SKU-A", "quantity": 2, "unit_price": 9.10}]},'
            '{"order_id": "ORD-4", "customer_id": "007", "order_ts": "2025-11-04T10:00:00Z", "status": "paid", "currency": "EUR",'
            ' "discount": "10.00\\u2028", "items": [{"sku": "SKU-A", "quantity": 2, "unit_price": 9.5}]},'
            '{"order_id": "ORD-5", "customer_id": "007", "order_ts": "2025-11-04T10:00:00Z", "status": "paid", "currency": "EUR",'
            ' "discount": 1e400, "items": [{"sku": "SKU-A", "quantity": 2, "unit_price": 9.5}]}'
            ']}'
        )
        pages = spark.createDataFrame([(items_page, "p1")], "value string, source_file string")
        recs, _ = m.records_from_pages(pages, "run-1")
        result = m.to_silver(recs)
        rejected = {json.loads(r.record)["order_id"]: r.reason for r in result.rejected.collect()}
        assert rejected == {"ORD-1": m.R_BAD_ITEMS, "ORD-2": m.R_BAD_DISCOUNT, "ORD-4": m.R_BAD_DISCOUNT, "ORD-5": m.R_BAD_DISCOUNT}
        [good] = result.silver.collect()
        assert (good.order_id, good.customer_id, good.discount) == ("123456789012345678901234567890", "9007199254740993", Decimal("1.50"))
        assert [(i.quantity, i.unit_price) for i in good["items"]] == [(2, Decimal("9.10"))]

    def test_numbers_as_text_keeps_every_digit_order_and_duplicate(self):
        page = '{"b": 1.10, "a": [1e400, -0.0, 12345678901234567890123, NaN, "x\\u00e9", true, null], "b": 2}'
        assert m.numbers_as_text(page) == (
            '{"b":"1.10","a":["1e400","-0.0","12345678901234567890123","NaN","x\\u00e9",true,null],"b":"2"}'
        )
        assert m.numbers_as_text("<html>oops</html>") == "<html>oops</html>"  # not JSON: left to Spark's verdict
        assert m.numbers_as_text(None) is None

    def test_a_page_that_is_not_a_page_is_rejected_whole_with_its_text(self, spark):
        pages = spark.createDataFrame([("<html>oops</html>", "p1"), (json.dumps({"message": "no array"}), "p2")], "value string, source_file string")
        recs, rejected = m.records_from_pages(pages, "run-1")
        assert recs.count() == 0
        assert sorted(tuple(r) for r in rejected.collect()) == [
            (m.R_PAGE_NOT_JSON, "<html>oops</html>", "p1", "run-1"),
            (m.R_PAGE_NOT_JSON, '{"message": "no array"}', "p2", "run-1"),
        ]


BAD_RECORDS = [
    ("a bare string", "not an order", m.R_NOT_AN_OBJECT),
    ("a number", 42, m.R_NOT_AN_OBJECT),
    ("no order_id", order(order_id=...), m.R_MISSING_ORDER_ID),
    ("a blank order_id", order(order_id="  "), m.R_MISSING_ORDER_ID),
    ("no customer", order(customer_id=None), m.R_MISSING_CUSTOMER_ID),
    ("a date without time", order(order_ts="2025-11-04"), m.R_BAD_ORDER_TS),
    ("words for a time", order(order_ts="yesterday"), m.R_BAD_ORDER_TS),
    ("an impossible time", order(order_ts="2025-13-45T99:00:00Z"), m.R_BAD_ORDER_TS),
    ("a bad updated_at", order(updated_at="soon"), m.R_BAD_UPDATED_AT),
    ("an unknown status", order(status="lost"), m.R_BAD_STATUS),
    ("no status", order(status=...), m.R_BAD_STATUS),
    ("a 4-letter currency", order(currency="EURO"), m.R_BAD_CURRENCY),
    ("a 3-letter country", order(country="DEU"), m.R_BAD_COUNTRY),
    ("an e-mail without domain", order(customer_email="someone"), m.R_BAD_EMAIL),
    ("a negative discount", order(discount=-1), m.R_BAD_DISCOUNT),
    ("a discount in words", order(discount="ten"), m.R_BAD_DISCOUNT),
    ("no items", order(items=[]), m.R_BAD_ITEMS),
    ("items not a list", order(items={"sku": "A"}), m.R_BAD_ITEMS),
    ("a zero quantity", order(items=[{"sku": "A", "quantity": 0, "unit_price": 1}]), m.R_BAD_ITEMS),
    ("a fractional quantity", order(items=[{"sku": "A", "quantity": 1.5, "unit_price": 1}]), m.R_BAD_ITEMS),
    ("a negative price", order(items=[{"sku": "A", "quantity": 1, "unit_price": -2}]), m.R_BAD_ITEMS),
    ("an item without sku", order(items=[{"quantity": 1, "unit_price": 2}]), m.R_BAD_ITEMS),
    ("sub-cent prices", order(items=[{"sku": "A", "quantity": 1, "unit_price": 1.005}]), m.R_BAD_ITEMS),
]


class TestSilver:
    def test_each_rule_rejects_with_its_reason_without_failing_the_batch(self, spark):
        # One batch, one Spark job: every bad record next to a good one; each must come out with its own reason.
        result = m.to_silver(records(spark, order(order_id="GOOD-1"), *[record for _, record, _ in BAD_RECORDS]))
        got = {r.record: r.reason for r in result.rejected.collect()}
        expected = {json.dumps(record): reason for _, record, reason in BAD_RECORDS}
        assert len(expected) == len(BAD_RECORDS), "two cases share a record text"
        mismatches = {title: (got.get(json.dumps(record)), reason) for title, record, reason in BAD_RECORDS if got.get(json.dumps(record)) != reason}
        assert mismatches == {}, f"(got, expected) per case: {mismatches}"
        assert len(got) == len(BAD_RECORDS)
        assert [r.order_id for r in result.silver.collect()] == ["GOOD-1"]

    def test_normalises_formats_and_types(self, spark):
        raw = order(
            order_id=" ORD-7 ",
            customer_email=" Someone@Example.COM ",
            order_ts="2025-11-04T23:30:00-02:00",
            status=" PAID ",
            currency="eur",
            country="de",
            discount="2.50",
            items=[{"sku": " SKU-A ", "quantity": "3", "unit_price": "9.99"}, {"sku": "SKU-B", "quantity": 1, "unit_price": 100}],
        )
        [row] = m.to_silver(records(spark, raw)).silver.collect()
        assert row.asDict(recursive=True) == {
            "order_id": "ORD-7",
            "customer_id": "CUST-1",
            "customer_email": "someone@example.com",
            "order_ts": utc_ts("2025-11-05T01:30:00Z"),
            "updated_at": utc_ts("2025-11-05T01:30:00Z"),
            "status": "paid",
            "currency": "EUR",
            "country": "DE",
            "discount": Decimal("2.50"),
            "items": [{"sku": "SKU-A", "quantity": 3, "unit_price": Decimal("9.99")}, {"sku": "SKU-B", "quantity": 1, "unit_price": Decimal("100.00")}],
            "source_file": "s3://b/raw/page-00001.json",
            "source_run_id": "run-1",
        }

    def test_optional_fields_may_be_absent(self, spark):
        [row] = m.to_silver(records(spark, order(customer_email=..., country=None))).silver.collect()
        assert (row.customer_email, row.country, row.discount) == (None, None, Decimal("0.00"))

    def test_keeps_one_row_per_order_the_latest_version(self, spark):
        first = order(order_id="ORD-1", status="pending", updated_at="2025-11-04T10:00:00Z")
        later = order(order_id="ORD-1", status="shipped", updated_at="2025-11-05T08:00:00Z")
        other = order(order_id="ORD-2")
        frame = records(spark, later, first, other, other)  # the later version first, an exact duplicate of ORD-2
        result = m.to_silver(frame)
        assert result.valid_before_dedup.count() == 4
        assert sorted((r.order_id, r.status) for r in result.silver.collect()) == [("ORD-1", "shipped"), ("ORD-2", "paid")]

    def test_on_equal_updated_at_the_later_page_wins(self, spark):
        a = records(spark, order(status="pending"), source="raw/page-00001.json")
        b = records(spark, order(status="paid"), source="raw/page-00002.json")
        [row] = m.to_silver(a.unionByName(b)).silver.collect()
        assert row.status == "paid"


def silver_frame(spark, *orders_):
    return m.to_silver(records(spark, *orders_)).silver


class TestGold:
    def test_business_columns_are_exact(self, spark):
        silver = silver_frame(
            spark,
            order(order_id="A", discount=5, items=[{"sku": "S1", "quantity": 3, "unit_price": 9.99}, {"sku": "S2", "quantity": 1, "unit_price": 470.03}, {"sku": "S1", "quantity": 1, "unit_price": 9.99}]),
            order(order_id="B", discount=50, status="cancelled", items=[{"sku": "S1", "quantity": 1, "unit_price": 20}]),
        )
        stamp = F.lit(datetime(2025, 11, 5, 9, 0, 0)).cast("timestamp")
        rows = {r.order_id: r.asDict() for r in m.gold_orders(silver, processed_at=stamp).collect()}
        assert rows["A"] == {
            "order_id": "A",
            "customer_id": "CUST-1",
            "order_ts": utc_ts("2025-11-04T10:00:00Z"),
            "order_date": date(2025, 11, 4),
            "updated_at": utc_ts("2025-11-04T10:00:00Z"),
            "status": "paid",
            "currency": "EUR",
            "country": "DE",
            "item_count": 5,
            "distinct_skus": 2,
            "gross_amount": Decimal("509.99"),
            "discount_amount": Decimal("5.00"),
            "net_amount": Decimal("504.99"),
            "is_high_value": True,
            "is_revenue": True,
            "source_run_id": "run-1",
            "processed_at": datetime(2025, 11, 5, 9, 0, 0),
            "year": "2025",
            "month": "11",
            "day": "04",
        }
        # The discount never exceeds the gross: a cancelled 20.00 order with a 50.00 discount nets to 0.
        assert (rows["B"]["gross_amount"], rows["B"]["discount_amount"], rows["B"]["net_amount"], rows["B"]["is_revenue"]) == (Decimal("20.00"), Decimal("20.00"), Decimal("0.00"), False)

    def test_partitions_are_the_utc_day_zero_padded(self, spark):
        silver = silver_frame(spark, order(order_id="late", order_ts="2025-01-08T23:30:00-02:00"), order(order_id="early", order_ts="2025-01-09T00:30:00+01:00"))
        got = sorted((r.order_id, r.year, r.month, r.day, r.order_date) for r in m.gold_orders(silver).collect())
        assert got == [("early", "2025", "01", "08", date(2025, 1, 8)), ("late", "2025", "01", "09", date(2025, 1, 9))]

    def test_daily_sales_counts_revenue_statuses_only(self, spark):
        silver = silver_frame(
            spark,
            order(order_id="1", customer_id="C1", items=[{"sku": "S", "quantity": 2, "unit_price": 300}]),
            order(order_id="2", customer_id="C2", status="shipped", discount=1, items=[{"sku": "S", "quantity": 1, "unit_price": 10}]),
            order(order_id="3", customer_id="C1", status="cancelled", items=[{"sku": "S", "quantity": 9, "unit_price": 10}]),
            order(order_id="4", customer_id="C3", status="pending", items=[{"sku": "S", "quantity": 1, "unit_price": 10}]),
            order(order_id="5", customer_id="C4", currency="GBP", country="GB", items=[{"sku": "S", "quantity": 1, "unit_price": 7}]),
            order(order_id="6", customer_id="C1", order_ts="2025-11-05T01:00:00Z", items=[{"sku": "S", "quantity": 1, "unit_price": 1}]),
        )
        daily = sorted((r.asDict() for r in m.daily_sales(m.gold_orders(silver)).collect()), key=lambda r: (r["order_date"], r["currency"]))
        assert daily == [
            {"order_date": date(2025, 11, 4), "currency": "EUR", "orders": 2, "cancelled_orders": 1, "items": 3, "gross_revenue": Decimal("610.00"),
             "discounts": Decimal("1.00"), "net_revenue": Decimal("609.00"), "high_value_orders": 1, "customers": 2, "year": "2025", "month": "11", "day": "04"},
            {"order_date": date(2025, 11, 4), "currency": "GBP", "orders": 1, "cancelled_orders": 0, "items": 1, "gross_revenue": Decimal("7.00"),
             "discounts": Decimal("0.00"), "net_revenue": Decimal("7.00"), "high_value_orders": 0, "customers": 1, "year": "2025", "month": "11", "day": "04"},
            {"order_date": date(2025, 11, 5), "currency": "EUR", "orders": 1, "cancelled_orders": 0, "items": 1, "gross_revenue": Decimal("1.00"),
             "discounts": Decimal("0.00"), "net_revenue": Decimal("1.00"), "high_value_orders": 0, "customers": 1, "year": "2025", "month": "11", "day": "05"},
        ]

    def test_merge_replaces_an_order_with_its_later_version_and_keeps_the_others(self, spark):
        existing = m.gold_orders(silver_frame(spark, order(order_id="A", status="pending"), order(order_id="B")))
        update = m.gold_orders(m.to_silver(records(spark, order(order_id="A", status="delivered", updated_at="2025-11-06T00:00:00Z"), run_id="run-2")).silver)
        merged = sorted((r.order_id, r.status, r.source_run_id) for r in m.merge_orders(existing, update).collect())
        assert merged == [("A", "delivered", "run-2"), ("B", "paid", "run-1")]

    def test_partition_filter(self, spark):
        frame = spark.createDataFrame([("2025", "11", "04"), ("2025", "11", "05"), ("2024", "11", "04")], "year string, month string, day string")
        assert frame.where(m.partition_filter([("2025", "11", "04")])).count() == 1
        assert frame.where(m.partition_filter([])).count() == 0


@pytest.mark.parametrize(
    ("target", "per_record", "minimum", "expected"),
    [(128 * 1024 * 1024, 100, 1000, 1342177), (128 * 1024 * 1024, 1_000_000, 1000, 1000), (1000, 10, 1, 100), (1000, 3, 1, 333)],
)
def test_records_per_file(target, per_record, minimum, expected):
    assert m.records_per_file(target, per_record, minimum) == expected


def test_records_per_file_rejects_nonsense():
    with pytest.raises(ValueError):
        m.records_per_file(0, 10)
