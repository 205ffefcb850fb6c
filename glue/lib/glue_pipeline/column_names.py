"""Column names that Parquet, the Glue Data Catalog and Athena all accept unquoted.

The rule, applied to each header cell in order (documented in docs and asserted by tests):

1. Strip a UTF-8 byte-order mark and surrounding whitespace.
2. Split camelCase and acronym boundaries with ``_`` ("orderId" -> "order_Id", "HTTPStatus" -> "HTTP_Status").
3. Transliterate: Unicode NFKD, drop combining marks ("é" -> "e"), then a fixed table for letters NFKD does
   not decompose ("ß" -> "ss", "æ" -> "ae", "ø" -> "o", "ł" -> "l", ...) and a few symbols ("%" -> "pct",
   "#" -> "num", "&" -> "and", "@" -> "at", "+" -> "plus").
4. Any other character outside [A-Za-z0-9] (CJK, emoji, punctuation) becomes its code point, ``u`` plus
   lowercase hex ("金" -> "u91d1"), so two distinct non-Latin headers never collapse to the same name.
5. Lowercase; runs of anything outside [a-z0-9] become one ``_``; leading/trailing ``_`` removed.
6. Empty result -> ``col_<position>`` (1-based). A leading digit gets the prefix ``c_`` ("2024 sales" -> "c_2024_sales").
7. Truncate to 255 characters (the Glue Data Catalog limit).
8. De-duplicate in header order: the first holder keeps the name, later ones get ``_2``, ``_3``, ... (the
   smallest suffix not already taken). Reserved names (the metadata columns the job adds) count as taken
   before any header cell, so a CSV column called ``source_file`` becomes ``source_file_2``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

MAX_COLUMN_NAME_LENGTH = 255

# Letters that NFKD leaves alone but that have a conventional ASCII spelling.
_TRANSLITERATIONS: dict[str, str] = {
    "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE",
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "ı": "i",
}
_SYMBOLS: dict[str, str] = {"%": " pct ", "#": " num ", "&": " and ", "@": " at ", "+": " plus "}

_CAMEL_LOWER_UPPER = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_CAMEL_ACRONYM = re.compile(r"(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_NAME_CHAR = re.compile(r"[^a-z0-9]+")


def _transliterate(text: str) -> str:
    out: list[str] = []
    for char in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(char):
            continue
        if char in _TRANSLITERATIONS:
            out.append(_TRANSLITERATIONS[char])
        elif char in _SYMBOLS:
            out.append(_SYMBOLS[char])
        elif char.isascii():
            out.append(char)
        else:
            # Separated by spaces so that each code point becomes its own word: "金额" -> "u91d1_u989d".
            out.append(f" u{ord(char):x} ")
    return "".join(out)


def clean_column_name(raw: str, position: int) -> str:
    """Cleans one header cell (rules 1-7 of the module doc); ``position`` is 1-based."""
    text = raw.replace("\ufeff", "").strip()
    text = _CAMEL_ACRONYM.sub("_", _CAMEL_LOWER_UPPER.sub("_", text))
    text = _transliterate(text).lower()
    name = _NOT_NAME_CHAR.sub("_", text).strip("_")
    if not name:
        name = f"col_{position}"
    elif name[0].isdigit():
        name = f"c_{name}"
    return name[:MAX_COLUMN_NAME_LENGTH].rstrip("_")


def clean_column_names(raw_names: Sequence[str], reserved: Iterable[str] = ()) -> list[str]:
    """Cleans a whole header and de-duplicates it (rule 8), keeping the header's order."""
    taken = set(reserved)
    cleaned: list[str] = []
    for position, raw in enumerate(raw_names, start=1):
        base = clean_column_name(raw, position)
        name = base
        suffix = 2
        while name in taken:
            tail = f"_{suffix}"
            name = base[: MAX_COLUMN_NAME_LENGTH - len(tail)] + tail
            suffix += 1
        taken.add(name)
        cleaned.append(name)
    return cleaned
