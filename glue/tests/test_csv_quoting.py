"""Where records end when quoted values hold line breaks: the state machine, the regexes, the grouping."""

from __future__ import annotations

import random

import pytest

from glue_pipeline.csv_quoting import (
    LineRecord,
    ends_inside_quotes,
    ends_inside_quotes_reference,
    split_records,
)


@pytest.mark.parametrize(
    ("line", "starts_inside", "expected"),
    [
        ("1,plain,3", False, False),
        ('1,"quoted, with comma",3', False, False),
        ('1,"opens here', False, True),
        ('1,"escaped "" quote', False, True),
        ('1,"closed "" quote"', False, False),
        ('1,55" TV,3', False, False),  # a quote inside an unquoted field is literal
        ('x"y,"z', False, True),
        ('"a"b,c', False, False),  # text after a closing quote is literal up to the delimiter
        ("", False, False),
        ("continued text", True, True),
        ('end of value",4', True, False),
        ('end "" still inside', True, True),
        ('closes",2,"opens again', True, True),
        ('"', True, False),
    ],
)
def test_ends_inside_quotes(line: str, starts_inside: bool, expected: bool) -> None:
    assert ends_inside_quotes(line, starts_inside) is expected
    assert ends_inside_quotes_reference(line, starts_inside) is expected


def test_regexes_agree_with_the_state_machine_on_random_lines() -> None:
    rng = random.Random(20240301)
    for _ in range(20_000):
        line = "".join(rng.choice('ab,"  ') for _ in range(rng.randint(0, 14)))
        for starts_inside in (False, True):
            assert ends_inside_quotes(line, starts_inside) == ends_inside_quotes_reference(line, starts_inside), line


def test_split_records_joins_quoted_newlines_and_skips_blank_lines() -> None:
    lines = ["h1,h2", '1,"a', "", 'b"', "  ", "2,c"]
    assert split_records(lines, max_record_lines=10) == [
        LineRecord(0, 1, "h1,h2", True),
        LineRecord(1, 3, '1,"a\n\nb"', True),
        LineRecord(5, 1, "2,c", True),
    ]


def test_split_records_quarantines_only_the_line_of_an_unclosed_quote() -> None:
    lines = ["h", '1,"never closed', "2,ok", "3,ok"]
    assert split_records(lines, max_record_lines=2) == [
        LineRecord(0, 1, "h", True),
        LineRecord(1, 1, '1,"never closed', False),
        LineRecord(2, 1, "2,ok", True),
        LineRecord(3, 1, "3,ok", True),
    ]
