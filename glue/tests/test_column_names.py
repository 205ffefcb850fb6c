"""The column-name rule (see glue_pipeline.column_names), one row per clause."""

from __future__ import annotations

import pytest

from glue_pipeline.column_names import MAX_COLUMN_NAME_LENGTH, clean_column_name, clean_column_names


@pytest.mark.parametrize(
    ("raw", "position", "expected"),
    [
        ("order_id", 1, "order_id"),
        ("Order ID", 1, "order_id"),
        ("  Unit Price  ", 1, "unit_price"),
        ("\ufeffid", 1, "id"),  # byte-order mark from Excel exports
        ("orderId", 1, "order_id"),
        ("HTTPStatusCode", 1, "http_status_code"),
        ("E-mail", 1, "e_mail"),
        ("a..b__c", 1, "a_b_c"),
        ("Café Crème", 1, "cafe_creme"),
        ("Größe", 1, "grosse"),
        ("Øre Ærø", 1, "ore_aero"),
        ("Łódź", 1, "lodz"),
        ("Loyalty %", 1, "loyalty_pct"),
        ("R&D #", 1, "r_and_d_num"),
        ("金额", 1, "u91d1_u989d"),
        ("Price (€)", 1, "price_u20ac"),
        ("2023 Orders", 1, "c_2023_orders"),
        ("", 4, "col_4"),
        ("   ", 2, "col_2"),
        ("___", 3, "col_3"),
        ("x" * 300, 1, "x" * MAX_COLUMN_NAME_LENGTH),
    ],
)
def test_clean_column_name(raw: str, position: int, expected: str) -> None:
    assert clean_column_name(raw, position) == expected


@pytest.mark.parametrize(
    ("header", "reserved", "expected"),
    [
        (["id", "ID", "Id"], [], ["id", "id_2", "id_3"]),
        (["a", "a_2", "a"], [], ["a", "a_2", "a_3"]),
        (["", "", "col_1"], [], ["col_1", "col_2", "col_1_2"]),
        (["source_file", "Processed At", "name"], ["processed_at", "source_file"], ["source_file_2", "processed_at_2", "name"]),
        (["金", "銀"], [], ["u91d1", "u9280"]),
    ],
)
def test_clean_column_names_deduplicates_in_header_order(header: list[str], reserved: list[str], expected: list[str]) -> None:
    assert clean_column_names(header, reserved=reserved) == expected


def test_every_cleaned_name_is_athena_safe() -> None:
    header = ["Ünïcödé ✓", "1st", "", "a b", "A_B", "ß", "😀", "x" * 400, "x" * 400]
    names = clean_column_names(header)
    assert len(set(names)) == len(names)
    for name in names:
        assert name.isascii() and name == name.lower()
        assert all(c.isalnum() or c == "_" for c in name)
        assert not name[0].isdigit() and len(name) <= MAX_COLUMN_NAME_LENGTH
