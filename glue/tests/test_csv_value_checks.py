"""The Spark-side check of a field's text (csv_processing.fits) against the Python rule (ColumnType.accepts).

fits runs on every typed field of every line, so it takes shortcuts for speed (numbers formatted back and
compared with the text instead of a regular expression); these cases pin that the shortcuts accept exactly
what the value rules accept, notably the texts Spark's cast coerces and the exponent form Java gives small
decimals of a large scale.
"""

from __future__ import annotations

import random

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from glue_pipeline.csv_processing import fits
from glue_pipeline.value_rules import from_ddl

NUMBERS = [
    "0", "-0", "+0", "00", "7", "+7", "07", " 7", "7 ", "7\n", "7\r", "7.0", "7.", ".5", "1e3", "1E3", "-5",
    "2147483647", "2147483648", "-2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
    "-9223372036854775808", "1.3", "1.30", "1.37", "1.375", "-0.50", "-0.5", "-0.00", "0.00", "0E-10",
    "1.00E-8", "0.0000000000", "0.0000000100", "12345678.1234567891", "9" * 38, "9" * 39, "1" * 17, "1" * 16,
    "1" * 16 + ".99", "٣", "７", "", "true",
]
DATES = ["2024-02-29", "2023-02-29", "2024-2-1", "0000-01-01", "0001-01-01", "+2024-01-01", "2024-01-01 ",
         "2024-01-01T00:00:00", "2024-01-01\n", "10000-01-01", "2024-01-1T", "2024-01-1 ", " 024-01-01",
         "+024-01-01", "-024-01-01", "2024-01- 1", "2024-01-T1", "2024-1--01", "2024-01-1\t", "\t024-01-01",
         "20240-1-01", "2024-01-0\u0661", "2024-001-1"]
TIMESTAMPS = ["2024-03-31 02:30:00", "2024-03-31 02:30", "2024-03-31T02:30:00", "2024-03-31 02:30:00.5",
              "2024-03-31 24:00:00", "2024-03-31 02:30:00Z", "0000-01-01 00:00:00", "2024-03-31 02:30:5Z",
              "2024-03-31 02:30:.5", "2024-03-31 02:30:+1", "2024-03-31 2:30:00 ", " 024-03-31 02:30:00",
              "2024-03-1T 02:30:00", "2024-03-1  02:30:00", "2024-03-31 02:30:0 ", "2024-03-31 02:3:00Z"]



def _mutants(valid: list[str], seed: int, count: int) -> list[str]:
    """Texts one or two edits away from valid ones, over the characters Spark's date and timestamp casts treat
    specially (signs, T, Z, spaces, tabs, line breaks, colons, dots): the byte-level shape check must refuse
    every one the pattern refuses."""
    rng = random.Random(seed)
    alphabet = "0123456789-:. TZ+\t\n\x01"
    found: set[str] = set()
    while len(found) < count:
        text = list(rng.choice(valid))
        for _ in range(rng.randint(1, 2)):
            at = rng.randrange(len(text) + 1)
            edit = rng.randrange(3)
            if edit == 0 and at < len(text):
                text[at] = rng.choice(alphabet)
            elif edit == 1:
                text.insert(at, rng.choice(alphabet))
            elif at < len(text):
                del text[at]
        found.add("".join(text))
    return sorted(found)


DATES += _mutants(["2024-02-29", "0001-01-01", "1999-12-31"], seed=1, count=600)
TIMESTAMPS += _mutants(["2024-03-31 02:30:00", "0001-01-01 00:00:00", "1999-12-31 23:59:59"], seed=2, count=900)


@pytest.mark.parametrize(
    ("ddl", "texts"),
    [
        ("int", NUMBERS), ("bigint", NUMBERS), ("decimal(18,2)", NUMBERS), ("decimal(38,0)", NUMBERS),
        ("decimal(6,6)", NUMBERS), ("decimal(38,10)", NUMBERS), ("decimal(18,7)", NUMBERS),
        ("boolean", ["true", "false", "TRUE", "1", "true "]), ("date", DATES), ("timestamp", TIMESTAMPS),
    ],
)
def test_spark_accepts_exactly_what_the_value_rules_accept(spark: SparkSession, ddl: str, texts: list[str]) -> None:
    column = from_ddl(ddl)
    rows = spark.createDataFrame([(t,) for t in texts], "t string").select(
        "t", F.coalesce(fits(F.col("t"), column), F.lit(False)).alias("fits")
    ).collect()
    got = {r["t"]: r["fits"] for r in rows}
    expected = {t: column.accepts(t) for t in texts}
    assert got == expected
