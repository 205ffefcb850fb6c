"""Medallion transforms: bronze API pages → silver records → gold tables, as pure DataFrame functions.

Bronze is what the ingestion Lambda landed: one JSON page per object, records in its ``data`` (or ``items``,
``results``, ``records``) array, byte for byte as the API sent them. Each record is an order:

    {"order_id": "ORD-000001", "customer_id": "CUST-0001", "customer_email": "a@example.com",
     "order_ts": "2025-11-04T08:00:01Z", "updated_at": "...", "status": "paid", "currency": "EUR",
     "country": "DE", "discount": 5, "items": [{"sku": "SKU-1", "quantity": 2, "unit_price": 9.5}]}

Silver (:func:`to_silver`) validates every record against that contract — required fields present, values
in their formats, types convertible — normalises formats (trimmed ids, lower-case status and e-mail,
upper-case currency and country, UTC timestamps, exact decimals) and drops duplicates (one row per
``order_id``: the latest ``updated_at``). A record that breaks a rule is not fatal: it goes to the rejected
output with the rule it broke, and is counted.

Gold (:func:`gold_orders`, :func:`daily_sales`) adds the business view: per order the item count, gross,
discount and net amounts and a high-value flag; per day and currency the orders, items and revenue. Both are
partitioned ``year=YYYY/month=MM/day=DD`` by the order's UTC date.

Every function here expects ``spark.sql.session.timeZone`` to be UTC (the job sets it): dates are UTC dates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

RECORD_FIELDS: tuple[str, ...] = ("data", "items", "results", "records")

#: Statuses an order may have; anything else is rejected.
ORDER_STATUSES: tuple[str, ...] = ("pending", "paid", "shipped", "delivered", "cancelled", "refunded")
#: Orders that count as revenue in the daily table.
REVENUE_STATUSES: tuple[str, ...] = ("paid", "shipped", "delivered")
#: Net amount from which an order is flagged high value.
HIGH_VALUE_THRESHOLD = 500
MONEY = T.DecimalType(12, 2)
PARTITION_COLUMNS: tuple[str, ...] = ("year", "month", "day")

# Bronze records are parsed with every scalar as text: nothing is coerced or lost by Spark's JSON parser, and
# the rules below decide, with a reason, what is acceptable.
RAW_ORDER_SCHEMA = T.StructType(
    [
        T.StructField("order_id", T.StringType()),
        T.StructField("customer_id", T.StringType()),
        T.StructField("customer_email", T.StringType()),
        T.StructField("order_ts", T.StringType()),
        T.StructField("updated_at", T.StringType()),
        T.StructField("status", T.StringType()),
        T.StructField("currency", T.StringType()),
        T.StructField("country", T.StringType()),
        T.StructField("discount", T.StringType()),
        T.StructField("items", T.StringType()),
    ]
)
RAW_ITEMS_SCHEMA = T.ArrayType(
    T.StructType([T.StructField("sku", T.StringType()), T.StructField("quantity", T.StringType()), T.StructField("unit_price", T.StringType())])
)
ITEM_TYPE = T.StructType([T.StructField("sku", T.StringType()), T.StructField("quantity", T.IntegerType()), T.StructField("unit_price", MONEY)])

SILVER_COLUMNS: tuple[str, ...] = (
    "order_id", "customer_id", "customer_email", "order_ts", "updated_at", "status", "currency", "country", "discount", "items",
    "source_file", "source_run_id",
)
REJECTED_COLUMNS: tuple[str, ...] = ("reason", "record", "source_file", "source_run_id")

# Rejection reasons (a record gets the first rule it breaks, in this order).
R_PAGE_NOT_JSON = "page_not_json"
R_NOT_AN_OBJECT = "record_not_an_object"
R_MISSING_ORDER_ID = "missing_order_id"
R_MISSING_CUSTOMER_ID = "missing_customer_id"
R_BAD_ORDER_TS = "invalid_order_ts"
R_BAD_UPDATED_AT = "invalid_updated_at"
R_BAD_STATUS = "invalid_status"
R_BAD_CURRENCY = "invalid_currency"
R_BAD_COUNTRY = "invalid_country"
R_BAD_EMAIL = "invalid_email"
R_BAD_DISCOUNT = "invalid_discount"
R_BAD_ITEMS = "invalid_items"

# (?d): Java's "$" would also match before a final U+0085/U+2028/U+2029, so "10.00\u2028" would pass the
# pattern and then cast to null (a discount silently 0).
_ISO_TIMESTAMP = r"(?d)^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$"
_DECIMAL = r"(?d)^-?\d{1,10}(\.\d{1,2})?$"
_INTEGER = r"(?d)^\d{1,9}$"


def _numbers_as_text_function() -> Callable[[str | None], str | None]:
    """Builds :func:`numbers_as_text`. Everything it needs is defined in here, so that Spark ships it to the
    Python workers by value (a worker need not be able to import this package)."""
    import json as _json

    class Number(str):
        """A JSON number's exact source text."""

    class Pairs(list):
        """A JSON object's (key, value) pairs in source order, duplicates kept."""

    def dump(value: Any) -> str:
        if isinstance(value, Number):
            return _json.dumps(str(value))
        if isinstance(value, Pairs):
            return "{" + ",".join(_json.dumps(k) + ":" + dump(v) for k, v in value) + "}"
        if isinstance(value, list):
            return "[" + ",".join(dump(v) for v in value) + "]"
        return _json.dumps(value)  # strings (ASCII-escaped: a lone surrogate survives), booleans, null

    def numbers_as_text(page: str | None) -> str | None:
        if page is None:
            return None
        try:
            parsed = _json.loads(page, parse_int=Number, parse_float=Number, parse_constant=Number, object_pairs_hook=Pairs)
            return dump(parsed)
        except (ValueError, RecursionError):
            return page  # not JSON to Python: Spark's parser decides (page_not_json, or its own reading)

    return numbers_as_text


#: A page's JSON text with every number (and NaN/Infinity) turned into a JSON string of its exact source text.
#: Spark's JSON parser reads a number into a string field by re-printing it through a double
#: (``9.999999999999999999`` → ``"10.0"``, ``1e400`` → ``"Infinity"``): digits would be lost before the silver
#: rules ever saw them. As text, the rules judge what the API sent.
numbers_as_text = _numbers_as_text_function()


def _blank(c: Column) -> Column:
    return c.isNull() | (F.trim(c) == "")


def records_from_pages(pages: DataFrame, run_id: str) -> tuple[DataFrame, DataFrame]:
    """Pages → one row per record, as raw JSON text.

    ``pages`` has a ``value`` column (a whole page's text, as ``spark.read.text(..., wholetext=True)``
    gives) and ``source_file``. Returns ``(records, rejected_pages)``: ``records`` has ``record`` (the
    record's JSON text), ``source_file`` and ``source_run_id``; a page that is not JSON, or has no record
    array, becomes one row of ``rejected_pages`` (columns :data:`REJECTED_COLUMNS`).
    """
    page_schema = T.StructType([T.StructField(f, T.ArrayType(T.StringType())) for f in RECORD_FIELDS])
    # An object's nested values parsed as StringType come back as their JSON text (compacted, numbers as the
    # exact text strings numbers_as_text made of them).
    exact = F.udf(numbers_as_text, T.StringType())(F.col("value"))
    parsed = pages.select("source_file", F.col("value").alias("page_text"), exact.alias("exact_text")).select(
        "source_file",
        "page_text",
        F.from_json("exact_text", page_schema).alias("page"),
        F.from_json("exact_text", T.ArrayType(T.StringType())).alias("bare"),
    )
    array = F.coalesce(*[F.col(f"page.{f}") for f in RECORD_FIELDS], F.col("bare"))
    with_array = parsed.withColumn("records", array)
    rejected_pages = with_array.where(F.col("records").isNull()).select(
        F.lit(R_PAGE_NOT_JSON).alias("reason"),
        F.substring("page_text", 1, 2000).alias("record"),
        "source_file",
        F.lit(run_id).alias("source_run_id"),
    )
    records = with_array.where(F.col("records").isNotNull()).select(
        F.explode("records").alias("record"), "source_file", F.lit(run_id).alias("source_run_id")
    )
    return records, rejected_pages


@dataclass(frozen=True)
class SilverResult:
    """Valid, de-duplicated records; rejected ones with their reason; how many duplicates were dropped."""

    silver: DataFrame
    rejected: DataFrame
    valid_before_dedup: DataFrame


def _order_rules(r: Column) -> list[tuple[Column, str]]:
    """(broken?, reason) per rule, in the order they are checked."""
    items = F.from_json(r.items, RAW_ITEMS_SCHEMA)
    bad_item = F.exists(
        items,
        lambda i: _blank(i.sku)
        | ~F.coalesce(F.trim(i.quantity).rlike(_INTEGER), F.lit(False))
        | (F.trim(i.quantity).cast("int") < 1)
        | ~F.coalesce(F.trim(i.unit_price).rlike(_DECIMAL), F.lit(False))
        | (F.trim(i.unit_price).cast(MONEY) < 0),
    )
    return [
        (_blank(r.order_id), R_MISSING_ORDER_ID),
        (_blank(r.customer_id), R_MISSING_CUSTOMER_ID),
        (~F.coalesce(F.trim(r.order_ts).rlike(_ISO_TIMESTAMP), F.lit(False)) | F.to_timestamp(F.trim(r.order_ts)).isNull(), R_BAD_ORDER_TS),
        (~_blank(r.updated_at) & (~F.trim(r.updated_at).rlike(_ISO_TIMESTAMP) | F.to_timestamp(F.trim(r.updated_at)).isNull()), R_BAD_UPDATED_AT),
        (~F.coalesce(F.lower(F.trim(r.status)).isin(*ORDER_STATUSES), F.lit(False)), R_BAD_STATUS),
        (~F.coalesce(F.upper(F.trim(r.currency)).rlike(r"^[A-Z]{3}$"), F.lit(False)), R_BAD_CURRENCY),
        (~_blank(r.country) & ~F.upper(F.trim(r.country)).rlike(r"^[A-Z]{2}$"), R_BAD_COUNTRY),
        (~_blank(r.customer_email) & ~F.lower(F.trim(r.customer_email)).rlike(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"), R_BAD_EMAIL),
        (~_blank(r.discount) & (~F.trim(r.discount).rlike(_DECIMAL) | (F.trim(r.discount).cast(MONEY) < 0)), R_BAD_DISCOUNT),
        (items.isNull() | (F.size(items) < 1) | F.coalesce(bad_item, F.lit(True)), R_BAD_ITEMS),
    ]


def to_silver(records: DataFrame) -> SilverResult:
    """Raw records (``record``, ``source_file``, ``source_run_id``) → silver rows, rejected rows, duplicates.

    Silver has :data:`SILVER_COLUMNS`, one row per ``order_id``: of several versions, the one with the latest
    ``updated_at`` (then the latest ``source_file``, i.e. the later page, then the latest run) wins.
    """
    parsed = records.withColumn("r", F.from_json("record", RAW_ORDER_SCHEMA))
    # from_json yields null for text that is not a JSON object (a bare string, a number, a list).
    is_object = F.col("r").isNotNull() & F.trim(F.col("record")).startswith("{")
    reason = F.when(~is_object, F.lit(R_NOT_AN_OBJECT))
    for broken, why in _order_rules(F.col("r")):
        reason = reason.when(broken, F.lit(why))
    checked = parsed.withColumn("reason", reason)

    rejected = checked.where(F.col("reason").isNotNull()).select(*REJECTED_COLUMNS)
    r = F.col("r")
    items = F.from_json(r.items, RAW_ITEMS_SCHEMA)
    order_ts = F.to_timestamp(F.trim(r.order_ts))
    valid = checked.where(F.col("reason").isNull()).select(
        F.trim(r.order_id).alias("order_id"),
        F.trim(r.customer_id).alias("customer_id"),
        F.when(_blank(r.customer_email), F.lit(None)).otherwise(F.lower(F.trim(r.customer_email))).alias("customer_email"),
        order_ts.alias("order_ts"),
        F.coalesce(F.to_timestamp(F.trim(r.updated_at)), order_ts).alias("updated_at"),
        F.lower(F.trim(r.status)).alias("status"),
        F.upper(F.trim(r.currency)).alias("currency"),
        F.when(_blank(r.country), F.lit(None)).otherwise(F.upper(F.trim(r.country))).alias("country"),
        F.coalesce(F.trim(r.discount).cast(MONEY), F.lit(0).cast(MONEY)).alias("discount"),
        F.transform(
            items,
            lambda i: F.struct(
                F.trim(i.sku).alias("sku"), F.trim(i.quantity).cast("int").alias("quantity"), F.trim(i.unit_price).cast(MONEY).alias("unit_price")
            ),
        )
        .cast(T.ArrayType(ITEM_TYPE))
        .alias("items"),
        "source_file",
        "source_run_id",
    )
    return SilverResult(silver=latest_per_order(valid), rejected=rejected, valid_before_dedup=valid)


def latest_per_order(frame: DataFrame) -> DataFrame:
    """One row per ``order_id``: latest ``updated_at``, then latest ``source_run_id``, then ``source_file`` (when present)."""
    tie_breaks = [F.col(c).desc_nulls_last() for c in ("source_run_id", "source_file") if c in frame.columns]
    w = Window.partitionBy("order_id").orderBy(F.col("updated_at").desc(), *tie_breaks)
    return frame.withColumn("_rank", F.row_number().over(w)).where(F.col("_rank") == 1).drop("_rank")


def with_date_partitions(frame: DataFrame, ts_column: str) -> DataFrame:
    """Adds ``year``, ``month``, ``day`` (zero-padded text, as in ``year=2025/month=11/day=05``) from a UTC timestamp."""
    return (
        frame.withColumn("year", F.date_format(ts_column, "yyyy"))
        .withColumn("month", F.date_format(ts_column, "MM"))
        .withColumn("day", F.date_format(ts_column, "dd"))
    )


GOLD_ORDER_COLUMNS: tuple[str, ...] = (
    "order_id", "customer_id", "order_ts", "order_date", "updated_at", "status", "currency", "country",
    "item_count", "distinct_skus", "gross_amount", "discount_amount", "net_amount", "is_high_value", "is_revenue",
    "source_run_id", "processed_at", "year", "month", "day",
)


def gold_orders(silver: DataFrame, processed_at: Column | None = None) -> DataFrame:
    """Silver orders → the order-level gold table (:data:`GOLD_ORDER_COLUMNS`).

    Amounts are exact decimals: gross = Σ quantity × unit price; the discount is capped at the gross (an
    order never goes negative); net = gross − discount.
    """
    gross = F.aggregate("items", F.lit(0).cast(MONEY), lambda acc, i: (acc + i.quantity * i.unit_price).cast(MONEY))
    frame = (
        silver.withColumn("gross_amount", gross)
        .withColumn("discount_amount", F.least(F.col("discount"), F.col("gross_amount")).cast(MONEY))
        .withColumn("net_amount", (F.col("gross_amount") - F.col("discount_amount")).cast(MONEY))
        .withColumn("item_count", F.aggregate("items", F.lit(0), lambda acc, i: acc + i.quantity))
        .withColumn("distinct_skus", F.size(F.array_distinct(F.transform("items", lambda i: i.sku))))
        .withColumn("is_high_value", F.col("net_amount") >= F.lit(HIGH_VALUE_THRESHOLD))
        .withColumn("is_revenue", F.col("status").isin(*REVENUE_STATUSES))
        .withColumn("order_date", F.to_date("order_ts"))
        .withColumn("processed_at", processed_at if processed_at is not None else F.current_timestamp())
    )
    return with_date_partitions(frame, "order_ts").select(*GOLD_ORDER_COLUMNS)


DAILY_SALES_COLUMNS: tuple[str, ...] = (
    "order_date", "currency", "orders", "cancelled_orders", "items", "gross_revenue", "discounts", "net_revenue",
    "high_value_orders", "customers", "year", "month", "day",
)


def daily_sales(orders: DataFrame) -> DataFrame:
    """Gold orders → one row per day and currency. Revenue counts paid, shipped and delivered orders only."""
    revenue = F.col("is_revenue")
    zero = F.lit(0).cast(MONEY)
    frame = orders.groupBy("order_date", "currency").agg(
        F.sum(F.when(revenue, 1).otherwise(0)).cast("long").alias("orders"),
        F.sum(F.when(F.col("status").isin("cancelled", "refunded"), 1).otherwise(0)).cast("long").alias("cancelled_orders"),
        F.sum(F.when(revenue, F.col("item_count")).otherwise(0)).cast("long").alias("items"),
        F.coalesce(F.sum(F.when(revenue, F.col("gross_amount"))), zero).cast(T.DecimalType(18, 2)).alias("gross_revenue"),
        F.coalesce(F.sum(F.when(revenue, F.col("discount_amount"))), zero).cast(T.DecimalType(18, 2)).alias("discounts"),
        F.coalesce(F.sum(F.when(revenue, F.col("net_amount"))), zero).cast(T.DecimalType(18, 2)).alias("net_revenue"),
        F.sum(F.when(revenue & F.col("is_high_value"), 1).otherwise(0)).cast("long").alias("high_value_orders"),
        F.countDistinct(F.when(revenue, F.col("customer_id"))).alias("customers"),
    )
    return with_date_partitions(frame, "order_date").select(*DAILY_SALES_COLUMNS)


def merge_orders(existing: DataFrame | None, incoming: DataFrame) -> DataFrame:
    """New gold orders over the existing ones of the same days: one row per order, the latest version wins.

    An order's ``order_ts`` (hence its partition) is taken as fixed; a later version replaces the earlier
    one in the same day partition.
    """
    if existing is None:
        return latest_per_order(incoming)
    aligned = existing.select(*GOLD_ORDER_COLUMNS)
    return latest_per_order(aligned.unionByName(incoming.select(*GOLD_ORDER_COLUMNS)))


def partition_filter(partitions: Sequence[tuple[str, str, str]]) -> Column:
    """A filter matching exactly the given (year, month, day) partitions (false when there are none)."""
    condition = F.lit(False)
    for year, month, day in partitions:
        condition = condition | ((F.col("year") == year) & (F.col("month") == month) & (F.col("day") == day))
    return condition


def records_per_file(target_bytes: int, bytes_per_record: float, minimum: int = 1000) -> int:
    """How many records fill a file of about ``target_bytes`` (Spark's ``maxRecordsPerFile``)."""
    if target_bytes <= 0 or bytes_per_record <= 0:
        raise ValueError(f"target_bytes and bytes_per_record must be positive, got {target_bytes} and {bytes_per_record}")
    return max(minimum, int(target_bytes // bytes_per_record))
