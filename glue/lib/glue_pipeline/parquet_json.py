"""Parquet -> JSON Lines: schema validated against an expected schema, rows checked for data quality,
bad rows quarantined with their reasons, every row accounted for.

The expected schema is data, not code (:class:`ExpectedSchema`, JSON-serialisable), so a job can be pointed at
another dataset with ``--expected_schema``; the default is the NYC TLC yellow-taxi trip schema.

Schema validation is per file and all-or-nothing: a file that lacks an expected column, or has one of a type
that cannot mean the same thing (a string where a timestamp is expected), fails the run with
:class:`SchemaValidationError` — there is no row-level fix for a wrong file. Column names are matched
case-insensitively (TLC renamed ``airport_fee`` to ``Airport_fee`` in 2023) and written with the expected
spelling. Columns the schema does not name are kept and reported.

Data-quality rules are per row: a row failing any rule is quarantined with the first failing rule as
``quarantine_reason`` and all of them in ``quarantine_detail``; per-rule counts count every failing rule.

**Numbers in the JSON are exact for a reader that parses numbers as doubles** (JavaScript's ``JSON.parse``,
most JSON libraries): a value that a double cannot hold exactly is written as a JSON string of its exact
digits instead (:func:`json_safe`). int8-int32 and float/double columns are always numbers (a double written
by Spark reads back as the same double; NaN and infinities become the strings ``"NaN"``, ``"Infinity"``,
``"-Infinity"``, which JSON has no number for). An int64 column is written as numbers when every value of it
in this file lies within +-(2^53 - 1), else the whole column, for this file, as strings (listed in the
summary's ``string_columns``): one type per column and file, never a mix. A decimal column of precision up to
15 is written as numbers (any decimal of at most 15 significant digits survives the trip through a double),
a wider one always as strings in plain notation with its scale (``"12345678901234567.10"``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from glue_pipeline.csv_processing import ReconciliationError, add_metadata_columns
from glue_pipeline.hadoop_fs import delete_path, file_size_bytes, literal_path, path_size_bytes

REASON_NULL_KEY = "null_key"
REASON_NEGATIVE_AMOUNT = "negative_amount"
REASON_NEGATIVE_DISTANCE = "negative_distance"
REASON_END_BEFORE_START = "dropoff_before_pickup"

QUARANTINE_REASON = "quarantine_reason"
QUARANTINE_DETAIL = "quarantine_detail"
_REASONS = "_dq_reasons"

#: The largest integer a double holds exactly with every smaller one (JavaScript's Number.MAX_SAFE_INTEGER).
MAX_SAFE_INTEGER = 2**53 - 1
#: Decimals of at most this many significant digits survive decimal -> double -> shortest decimal (DBL_DIG).
MAX_DOUBLE_SAFE_DECIMAL_PRECISION = 15

# Type families of the expected schema, and the Spark types each accepts.
_INTEGRAL = (T.ByteType, T.ShortType, T.IntegerType, T.LongType)
_FRACTIONAL = (T.FloatType, T.DoubleType, T.DecimalType)
TYPE_FAMILIES: dict[str, tuple[type, ...]] = {
    "integer": _INTEGRAL,
    "number": _INTEGRAL + _FRACTIONAL,
    "timestamp": (T.TimestampType, T.TimestampNTZType),
    "string": (T.StringType,),
    "boolean": (T.BooleanType,),
    "date": (T.DateType,),
}


class SchemaValidationError(ValueError):
    """The file's schema does not match the expected schema; the message names every problem."""


@dataclass(frozen=True)
class ExpectedColumn:
    name: str
    type: str  # a key of TYPE_FAMILIES


@dataclass(frozen=True)
class ExpectedSchema:
    """Columns a file must have, and the rules its rows must pass."""

    columns: tuple[ExpectedColumn, ...]
    #: Null in any of these: the row cannot be attributed to a trip (reason null_key).
    key_columns: tuple[str, ...] = ()
    #: Negative in any of these: reason negative_amount.
    non_negative_amounts: tuple[str, ...] = ()
    #: Negative in any of these: reason negative_distance.
    non_negative_distances: tuple[str, ...] = ()
    #: (start, end): end before start is reason dropoff_before_pickup.
    ordered_timestamps: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        names = {c.name.lower() for c in self.columns}
        problems = [f"column {c.name}: unknown type {c.type!r}" for c in self.columns if c.type not in TYPE_FAMILIES]
        if len(names) != len(self.columns):
            problems.append("column names repeat (compared case-insensitively)")
        referenced = [*self.key_columns, *self.non_negative_amounts, *self.non_negative_distances]
        referenced += list(self.ordered_timestamps or ())
        problems += [f"rule column {n} is not in columns" for n in referenced if n.lower() not in names]
        if problems:
            raise ValueError("invalid expected schema: " + "; ".join(problems))

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ExpectedSchema:
        ordered = raw.get("ordered_timestamps")
        return cls(
            columns=tuple(ExpectedColumn(str(c["name"]), str(c["type"])) for c in raw["columns"]),
            key_columns=tuple(raw.get("key_columns", ())),
            non_negative_amounts=tuple(raw.get("non_negative_amounts", ())),
            non_negative_distances=tuple(raw.get("non_negative_distances", ())),
            ordered_timestamps=(str(ordered[0]), str(ordered[1])) if ordered else None,
        )

    @classmethod
    def from_json(cls, text: str) -> ExpectedSchema:
        return cls.from_dict(json.loads(text))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_AMOUNTS = (
    "fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount", "improvement_surcharge", "total_amount",
    "congestion_surcharge", "airport_fee",
)  # fmt: skip

#: The NYC TLC yellow-taxi trip record schema. passenger_count and RatecodeID are "number": TLC publishes them
#: as doubles in some years and integers in others.
YELLOW_TAXI_SCHEMA = ExpectedSchema(
    columns=(
        ExpectedColumn("VendorID", "integer"),
        ExpectedColumn("tpep_pickup_datetime", "timestamp"),
        ExpectedColumn("tpep_dropoff_datetime", "timestamp"),
        ExpectedColumn("passenger_count", "number"),
        ExpectedColumn("trip_distance", "number"),
        ExpectedColumn("RatecodeID", "number"),
        ExpectedColumn("store_and_fwd_flag", "string"),
        ExpectedColumn("PULocationID", "integer"),
        ExpectedColumn("DOLocationID", "integer"),
        ExpectedColumn("payment_type", "integer"),
        *(ExpectedColumn(name, "number") for name in _AMOUNTS),
    ),
    key_columns=("VendorID", "tpep_pickup_datetime", "tpep_dropoff_datetime", "PULocationID", "DOLocationID"),
    non_negative_amounts=_AMOUNTS,
    non_negative_distances=("trip_distance",),
    ordered_timestamps=("tpep_pickup_datetime", "tpep_dropoff_datetime"),
)


@dataclass(frozen=True)
class SchemaCheck:
    """The file's columns mapped onto the expected ones."""

    renames: dict[str, str]  # file column -> expected spelling, where they differ
    extra_columns: tuple[str, ...]
    column_types: dict[str, str]


def validate_schema(actual: T.StructType, expected: ExpectedSchema) -> SchemaCheck:
    """Checks ``actual`` against ``expected``; raises SchemaValidationError naming every problem."""
    by_lower: dict[str, T.StructField] = {}
    duplicates = []
    for f in actual.fields:
        if f.name.lower() in by_lower:
            duplicates.append(f.name)
        by_lower[f.name.lower()] = f
    problems = [f"columns {by_lower[d.lower()].name!r} and {d!r} differ only in case" for d in duplicates]
    renames: dict[str, str] = {}
    types: dict[str, str] = {}
    for column in expected.columns:
        found = by_lower.get(column.name.lower())
        if found is None:
            problems.append(f"missing column {column.name} ({column.type})")
            continue
        if not isinstance(found.dataType, TYPE_FAMILIES[column.type]):
            problems.append(f"column {found.name} is {found.dataType.simpleString()}, expected {column.type}")
        if found.name != column.name:
            renames[found.name] = column.name
        types[column.name] = found.dataType.simpleString()
    if problems:
        raise SchemaValidationError("schema does not match the expected schema: " + "; ".join(problems))
    expected_names = {c.name.lower() for c in expected.columns}
    extra = tuple(f.name for f in actual.fields if f.name.lower() not in expected_names)
    return SchemaCheck(renames=renames, extra_columns=extra, column_types=types)


def rule_columns(expected: ExpectedSchema) -> list[tuple[str, Column]]:
    """(reason, condition true when the row breaks the rule), in the order reasons are reported.

    Null amounts or distances are not negative: TLC leaves e.g. airport_fee null on older rows, and null keys
    have their own rule.
    """
    rules: list[tuple[str, Column]] = []
    if expected.key_columns:
        rules.append((REASON_NULL_KEY, _any(F.col(c).isNull() for c in expected.key_columns)))
    if expected.ordered_timestamps:
        start, end = expected.ordered_timestamps
        rules.append((REASON_END_BEFORE_START, F.coalesce(F.col(end) < F.col(start), F.lit(False))))
    if expected.non_negative_amounts:
        rules.append((REASON_NEGATIVE_AMOUNT, _any(F.coalesce(F.col(c) < 0, F.lit(False)) for c in expected.non_negative_amounts)))
    if expected.non_negative_distances:
        rules.append((REASON_NEGATIVE_DISTANCE, _any(F.coalesce(F.col(c) < 0, F.lit(False)) for c in expected.non_negative_distances)))
    return rules


def _any(conditions: Any) -> Column:
    result: Column | None = None
    for condition in conditions:
        result = condition if result is None else (result | condition)
    return result if result is not None else F.lit(False)


def unsafe_long_flag(name: str) -> Column:
    """1 when some value of the int64 column ``name`` is beyond what a double holds exactly, else 0 (an
    aggregate). Compared, not abs(): abs(-2^63) overflows."""
    c = F.col(f"`{name}`")
    return F.max(F.when((c > MAX_SAFE_INTEGER) | (c < -MAX_SAFE_INTEGER), F.lit(1)).otherwise(F.lit(0)))


def string_encoded_columns(schema: T.StructType, unsafe_longs: set[str]) -> list[str]:
    """The columns :func:`json_safe` writes as strings: the int64 columns in ``unsafe_longs`` and every decimal
    column wider than a double can carry exactly."""
    names = []
    for f in schema.fields:
        if isinstance(f.dataType, T.LongType) and f.name in unsafe_longs:
            names.append(f.name)
        elif isinstance(f.dataType, T.DecimalType) and f.dataType.precision > MAX_DOUBLE_SAFE_DECIMAL_PRECISION:
            names.append(f.name)
    return names


def json_safe(df: DataFrame, columns: list[str]) -> DataFrame:
    """``df`` with ``columns`` as their exact text: int64 digits, decimals in plain notation with their scale
    (Spark's decimal-to-string cast never uses an exponent)."""
    if not columns:
        return df
    wanted = set(columns)
    return df.select(*[F.col(f"`{c}`").cast("string").alias(c) if c in wanted else F.col(f"`{c}`") for c in df.columns])


def flag_rows(df: DataFrame, expected: ExpectedSchema) -> DataFrame:
    """Adds ``_dq_reasons``: the names of the rules the row breaks, empty for a good row."""
    rules = rule_columns(expected)
    if not rules:
        return df.withColumn(_REASONS, F.array().cast("array<string>"))
    flagged = F.array(*[F.when(cond, F.lit(reason)) for reason, cond in rules])
    return df.withColumn(_REASONS, F.filter(flagged, lambda r: r.isNotNull()))


@dataclass(frozen=True)
class JsonConversion:
    """What happened to one file. ``outcome`` is PROCESSED or EMPTY_FILE (a Parquet file with no rows)."""

    outcome: str
    rows_in: int
    rows_written: int
    rows_quarantined: int
    input_size_bytes: int
    output_size_bytes: int
    quarantine_size_bytes: int
    column_types: dict[str, str]
    extra_columns: tuple[str, ...]
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    rule_violations: dict[str, int] = field(default_factory=dict)
    #: Numeric columns written as JSON strings because a double cannot hold their values (module doc).
    string_columns: tuple[str, ...] = ()


def convert_parquet_to_json(
    spark: SparkSession,
    input_path: str,
    output_path: str,
    quarantine_path: str,
    source_file: str,
    processing_job: str,
    processed_at: datetime,
    expected: ExpectedSchema = YELLOW_TAXI_SCHEMA,
) -> JsonConversion:
    """Writes the good rows of one Parquet file as JSON Lines under ``output_path`` and the bad ones, with their
    reasons, under ``quarantine_path`` (both replaced; the quarantine removed when there are no bad rows)."""
    input_size = file_size_bytes(spark, input_path)
    raw = spark.read.parquet(literal_path(input_path))  # the key is a name, never a glob
    check = validate_schema(raw.schema, expected)
    df = raw
    for old, new in check.renames.items():
        df = df.withColumnRenamed(old, new)
    flagged = flag_rows(df, expected).withColumn(QUARANTINE_REASON, F.element_at(F.col(_REASONS), 1))

    # One pass for the counts; the writes below read the file again (cheaper than caching a large file).
    rule_names = [reason for reason, _ in rule_columns(expected)]
    aggregates = [F.count(F.lit(1)).alias("rows_in"), F.count(F.col(QUARANTINE_REASON)).alias("bad")]
    aggregates += [F.sum(F.array_contains(_REASONS, r).cast("long")).alias(f"rule_{r}") for r in rule_names]
    aggregates += [F.sum((F.col(QUARANTINE_REASON) == r).cast("long")).alias(f"first_{r}") for r in rule_names]
    longs = [f.name for f in df.schema.fields if isinstance(f.dataType, T.LongType)]
    aggregates += [unsafe_long_flag(name).alias(f"unsafe_{i}") for i, name in enumerate(longs)]
    totals = flagged.agg(*aggregates).collect()[0]
    rows_in, expected_bad = int(totals["rows_in"]), int(totals["bad"])
    as_strings = string_encoded_columns(df.schema, {name for i, name in enumerate(longs) if totals[f"unsafe_{i}"]})

    good = flagged.where(F.col(QUARANTINE_REASON).isNull()).drop(_REASONS, QUARANTINE_REASON)
    good = add_metadata_columns(json_safe(good, as_strings), processed_at, source_file, processing_job)
    # Timestamps as ISO-8601 with offset, so a reader does not have to guess the zone (the session is UTC).
    json_options = {"compression": "none", "timestampFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
                    "timestampNTZFormat": "yyyy-MM-dd'T'HH:mm:ss.SSS", "ignoreNullFields": "false"}  # fmt: skip
    good.write.mode("overwrite").options(**json_options).json(output_path)

    if expected_bad:
        bad = flagged.where(F.col(QUARANTINE_REASON).isNotNull())
        bad = bad.withColumn(QUARANTINE_DETAIL, F.array_join(_REASONS, ",")).drop(_REASONS)
        bad = add_metadata_columns(json_safe(bad, as_strings), processed_at, source_file, processing_job)
        bad.coalesce(1).write.mode("overwrite").options(**json_options).json(quarantine_path)
    else:
        delete_path(spark, quarantine_path)

    # Counted from the files written (one JSON object per line), not from what we meant to write.
    rows_written = spark.read.text(output_path).count()
    rows_quarantined = spark.read.text(quarantine_path).count() if expected_bad else 0
    if rows_written != rows_in - expected_bad or rows_in != rows_written + rows_quarantined:
        raise ReconciliationError(
            f"rows_in={rows_in} but the JSON holds {rows_written} rows (expected {rows_in - expected_bad}) and "
            f"{rows_quarantined} were quarantined (expected {expected_bad})"
        )
    return JsonConversion(
        outcome="PROCESSED" if rows_in else "EMPTY_FILE",
        rows_in=rows_in,
        rows_written=rows_written,
        rows_quarantined=rows_quarantined,
        input_size_bytes=input_size,
        output_size_bytes=path_size_bytes(spark, output_path),
        quarantine_size_bytes=path_size_bytes(spark, quarantine_path) if expected_bad else 0,
        column_types=check.column_types,
        extra_columns=check.extra_columns,
        quarantine_reasons={r: int(totals[f"first_{r}"]) for r in rule_names if totals[f"first_{r}"]},
        rule_violations={r: int(totals[f"rule_{r}"]) for r in rule_names if totals[f"rule_{r}"]},
        string_columns=tuple(as_strings),
    )


def load_expected_schema(spark: SparkSession, value: str | None) -> ExpectedSchema:
    """``--expected_schema``: absent for the yellow-taxi default, inline JSON, or a path/URI of a JSON file."""
    if not value:
        return YELLOW_TAXI_SCHEMA
    text = value.strip()
    if not text.startswith("{"):
        text = "\n".join(r.value for r in spark.read.text(value, wholetext=True).collect())
    return ExpectedSchema.from_json(text)

