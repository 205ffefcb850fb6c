"""Where CSV records end, when a quoted value may contain line breaks (RFC 4180 quoting).

Spark can only split a CSV file across tasks by lines. A record whose quoted value holds a newline spans
several lines, so the job reads lines in parallel and finds those records itself. This module holds the
one definition of "does this line leave a quoted field open", in two equivalent forms:

* :func:`ends_inside_quotes`, a character state machine used on the driver, and
* :data:`OPENS_QUOTED_FIELD_REGEX`, a Java regular expression Spark evaluates on every line of the file.

Both follow the parser Spark uses for the rows themselves (univocity, with ``quote='"'``, ``escape='"'``
and Spark's default ``unescapedQuoteHandling=STOP_AT_DELIMITER``): a quote opens a quoted field only as the
first character of a field; inside it ``""`` is a literal quote and a lone ``"`` closes the field; anything
after the closing quote, up to the next delimiter, is literal text; a quote in the middle of an unquoted
field (``55" TV``) is literal text.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

QUOTE = '"'
DELIMITER = ","


def _regexes(delimiter: str) -> tuple[str, str]:
    """(opens, continues) for one delimiter, in syntax both Java and Python accept.

    A line read from the start of a record ends inside a quoted field exactly when it is: complete fields,
    each followed by a delimiter, then an opening quote and a body with no closing quote. Possessive
    quantifiers, and an outer loop that only repeats per escaped quote, keep Java's regex engine linear and
    free of deep recursion on long values. The delimiter is written as ``\\uXXXX`` so that any character
    (``|``, ``;``, tab, ``]``) is literal in and outside character classes.
    """
    d = f"\\u{ord(delimiter):04x}"
    body = '[^"]*+(?:""[^"]*+)*+'
    complete = f'(?:"{body}"[^{d}]*+|[^"{d}][^{d}]*+|)'
    opens = f'^(?:{complete}{d})*+"{body}$'
    # The same question for a line that continues an open quoted field: it stays open when the line has no
    # closing quote, or when it closes the field and a later field on the line opens another one.
    continues = f'^{body}(?:"[^{d}]*+{d}(?:{complete}{d})*+"{body})?$'
    return opens, continues


def check_delimiter(delimiter: str) -> str:
    """The delimiter, when it is one character the quoting rules can work with; else ValueError."""
    if len(delimiter) != 1 or delimiter in ('"', "\n", "\r"):
        raise ValueError(f"the delimiter must be one character other than a quote or a line break, not {delimiter!r}")
    return delimiter


def opens_quoted_field_regex(delimiter: str = DELIMITER) -> str:
    """The Java regular expression Spark evaluates on every line (see :func:`ends_inside_quotes`)."""
    return _regexes(check_delimiter(delimiter))[0]


OPENS_QUOTED_FIELD_REGEX, CONTINUES_QUOTED_FIELD_REGEX = _regexes(DELIMITER)
_COMPILED: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {}


def _compiled(delimiter: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    if delimiter not in _COMPILED:
        opens, continues = _regexes(check_delimiter(delimiter))
        _COMPILED[delimiter] = (re.compile(opens), re.compile(continues))
    return _COMPILED[delimiter]


# Parser states.
_FIELD_START, _UNQUOTED, _QUOTED, _QUOTE_IN_QUOTED = range(4)


def ends_inside_quotes(line: str, starts_inside: bool = False, delimiter: str = DELIMITER) -> bool:
    """True when ``line`` leaves a quoted field open (the record continues on the next line).

    ``starts_inside`` says the line continues a quoted field left open by the previous line. Uses the
    regular expressions (fast); :func:`ends_inside_quotes_reference` is the state machine they must equal.
    """
    opens, continues = _compiled(delimiter)
    if starts_inside:
        return continues.match(line) is not None
    return QUOTE in line and opens.match(line) is not None


def ends_inside_quotes_reference(line: str, starts_inside: bool = False, delimiter: str = DELIMITER) -> bool:
    """Character-by-character definition of :func:`ends_inside_quotes`, kept as the specification."""
    state = _QUOTED if starts_inside else _FIELD_START
    for char in line:
        if state == _FIELD_START:
            state = _QUOTED if char == QUOTE else _FIELD_START if char == delimiter else _UNQUOTED
        elif state == _UNQUOTED:
            if char == delimiter:
                state = _FIELD_START
        elif state == _QUOTED:
            if char == QUOTE:
                state = _QUOTE_IN_QUOTED
        else:  # a quote inside a quoted field: escaped quote, end of field, or literal text up to the delimiter
            state = _QUOTED if char == QUOTE else _FIELD_START if char == delimiter else _UNQUOTED
    return state == _QUOTED


def is_blank(line: str) -> bool:
    """Blank lines between records are not records (Spark's CSV reader skips them too); a line's own
    ``\\r`` (of a ``\\r\\n`` line end) is not content."""
    return line.removesuffix("\r").strip(" \t") == ""


@dataclass(frozen=True)
class LineRecord:
    """One record assembled from consecutive lines: ``first_line`` is a 0-based index into the input."""

    first_line: int
    line_count: int
    text: str
    closed: bool


def split_records(lines: Sequence[str], max_record_lines: int, delimiter: str = DELIMITER) -> list[LineRecord]:
    """Groups lines into records; blank lines outside quoted values are dropped.

    A quoted field still open after ``max_record_lines`` lines, or at the end of ``lines``, yields the opening
    line alone with ``closed=False`` and the lines after it are read again as new records: one stray quote
    costs one record, not the rest of the file.
    """
    records: list[LineRecord] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if not ends_inside_quotes(line, delimiter=delimiter):
            if not is_blank(line):
                records.append(LineRecord(index, 1, line, True))
            index += 1
            continue
        end = index + 1
        inside = True
        while inside and end < len(lines) and end - index < max_record_lines:
            inside = ends_inside_quotes(lines[end], starts_inside=True, delimiter=delimiter)
            end += 1
        if inside:
            records.append(LineRecord(index, 1, line, False))
            index += 1
        else:
            records.append(LineRecord(index, end - index, "\n".join(lines[index:end]), True))
            index = end
    return records


# ------------------------------------------------------------------------ records from set-aside lines

K = TypeVar("K", bound=Hashable)


class LineOrder(Protocol[K]):
    """The lines of a file in order: the Spark path's input splits (csv_processing.BlockIndex), or line
    numbers (the fast path)."""

    def next_key(self, key: K) -> K | None: ...


@dataclass(frozen=True)
class StitchedRecord(Generic[K]):
    first_key: K
    line_count: int
    text: str  # the record's exact text: its lines joined by \n, each line's own \r kept, the last one's dropped
    closed: bool
    bad_utf8: bool = False


@dataclass
class Resolution(Generic[K]):
    records: list[StitchedRecord[K]] = field(default_factory=list)
    missing: list[K] = field(default_factory=list)  # lines whose text is needed to finish a record
    conflicts: set[K] = field(default_factory=set)  # lines written as rows that belong to a record
    blank_lines_inside: int = 0


def resolve_records(
    set_aside: Sequence[K],
    texts: Mapping[K, str],
    blocks: LineOrder[K],
    max_record_lines: int,
    delimiter: str = DELIMITER,
    bad_utf8: frozenset[K] | set[K] = frozenset(),
) -> Resolution[K]:
    """Turns set-aside lines into records, following quoted values across lines: both engines' one way.

    Lines not set aside were written as rows by the main pass (or were blank); one that turns out to lie
    inside a quoted value is reported as a conflict. A line whose text is not known yet is reported as
    missing and the caller fetches it and asks again. A quoted value still open after ``max_record_lines``
    lines, or at the end of the file, quarantines its opening line alone (``closed=False``).
    """
    aside = set(set_aside)
    result: Resolution[K] = Resolution()
    consumed: set[K] = set()
    for key in sorted(aside):  # type: ignore[type-var]
        if key in consumed:
            continue
        line = texts[key]
        if not ends_inside_quotes(line, delimiter=delimiter):
            consumed.add(key)
            result.records.append(StitchedRecord(key, 1, line.removesuffix("\r"), True, key in bad_utf8))
            continue
        span = [key]
        inside = True
        current = blocks.next_key(key)
        missing = False
        while inside and current is not None and len(span) < max_record_lines:
            if current not in texts:
                result.missing.append(current)
                missing = True
                break
            span.append(current)
            inside = ends_inside_quotes(texts[current], starts_inside=True, delimiter=delimiter)
            current = blocks.next_key(current)
        if missing:
            continue
        if inside:
            consumed.add(key)
            result.records.append(StitchedRecord(key, 1, line.removesuffix("\r"), False, key in bad_utf8))
            continue
        for member in span:
            consumed.add(member)
            if member not in aside:
                if is_blank(texts[member]):
                    result.blank_lines_inside += 1
                else:
                    result.conflicts.add(member)
        text = "\n".join(texts[k] for k in span).removesuffix("\r")
        result.records.append(StitchedRecord(key, len(span), text, True, any(k in bad_utf8 for k in span)))
    if result.missing:
        return Resolution(missing=sorted(set(result.missing)))  # type: ignore[type-var]
    return result
