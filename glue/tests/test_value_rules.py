"""The value rules (glue_pipeline.value_rules): inference keeps every sampled value, and the Python and
Java forms of each type's pattern agree."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

import pytest

from glue_pipeline.value_rules import STRING, from_ddl, infer_type, infer_types


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "-2", "0"], "int"),
        (["2147483648"], "bigint"),
        (["9223372036854775808"], "decimal(38,0)"),  # beyond int64: exact decimal, not a rounded double
        (["9" * 38], "decimal(38,0)"),
        (["9" * 39], "string"),  # beyond decimal(38): string
        (["08123", "1"], "string"),  # leading zero: an identifier
        (["-0"], "string"),
        (["+5"], "string"),
        (["1e400"], "string"),  # exponent / overflow: never Infinity
        (["1.5e3"], "string"),
        (["0.1", "12.25", "3"], "decimal(18,2)"),
        (["0." + "1" * 20], "decimal(38,20)"),  # more digits than a double holds: exact decimal
        (["1." + "1" * 40], "string"),
        (["12."], "string"),
        ([".5"], "string"),
        (["true", "false"], "boolean"),
        (["True"], "string"),
        (["2024-02-29", "2023-12-31"], "date"),
        (["2024-02-30"], "string"),  # not a calendar day
        (["0000-01-01"], "string"),
        (["2024-01-01 23:59:59"], "timestamp"),
        (["2024-01-01 24:00:00"], "string"),
        (["2024-01-01 00:00:00.5"], "string"),
        (["2024-01-01T00:00:00"], "string"),
        ([None, "7"], "int"),  # missing values do not vote
        ([None, None], "string"),
        (["", "7"], "string"),  # a quoted empty is an empty string, not a number
        ([" 7"], "string"),
    ],
)
def test_inference_picks_a_type_only_if_every_sampled_value_round_trips(values, expected) -> None:
    assert infer_type(values).ddl == expected


def test_rows_of_another_width_do_not_vote() -> None:
    assert [t.ddl for t in infer_types([("1", "x"), ("2", "y"), ("oops",)], 2)] == ["int", "string"]


@pytest.mark.parametrize(
    ("ddl", "text", "accepted"),
    [
        ("int", "2147483647", True), ("int", "2147483648", False), ("int", "007", False),
        ("bigint", "-9223372036854775808", True), ("bigint", "9223372036854775808", False),
        ("decimal(38,0)", "9" * 38, True), ("decimal(38,0)", "9" * 39, False),
        ("decimal(18,2)", "1.23", True), ("decimal(18,2)", "1.234", False),  # would be rounded
        ("decimal(18,2)", "4", True), ("decimal(18,2)", "1" * 17, False), ("decimal(18,2)", "", False),
        ("boolean", "true", True), ("boolean", "TRUE", False),
        ("date", "2024-02-29", True), ("date", "2023-02-29", False), ("date", "2024-2-1", False),
        ("timestamp", "2024-03-31 02:30:00", True), ("timestamp", "2024-03-31 02:30", False),
        ("string", "", True), ("string", "anything", True),
    ],
)
def test_a_type_accepts_exactly_the_text_it_stores_without_loss(ddl: str, text: str, accepted: bool) -> None:
    column = from_ddl(ddl)
    assert column.accepts(text) is accepted
    if column.java_pattern is not None and accepted:
        # The Spark-side pattern lets through everything Python accepts (Spark's cast rejects the rest).
        assert re.search(column.java_pattern, text)


@pytest.mark.parametrize("text", ["1.234", "007", "-0", "+1", "1e5", " 1", "TRUE", "2024-2-1", "", "1\n", "1.5\r\n", "true\n", "2024-01-01\u2028"])
def test_the_java_pattern_rejects_what_no_cast_may_coerce(text: str) -> None:
    for ddl in ("int", "decimal(18,2)", "boolean", "date"):
        pattern = from_ddl(ddl).java_pattern
        assert pattern is not None and not re.search(pattern, text), (ddl, text)


def test_missing_is_accepted_everywhere_and_values_convert_to_what_parquet_holds() -> None:
    assert all(from_ddl(d).accepts(None) for d in ("int", "date", "decimal(18,2)", "string"))
    assert from_ddl("decimal(18,2)").to_python("12.5") == Decimal("12.50")
    assert from_ddl("date").to_python("2024-02-29") == date(2024, 2, 29)
    assert from_ddl("timestamp").to_python("2024-01-02 03:04:05") == datetime(2024, 1, 2, 3, 4, 5)
    assert STRING.to_python("") == ""
    with pytest.raises(ValueError, match="is not int"):
        from_ddl("int").to_python("08123")
