"""The claims rules as Spark column expressions: one pass over the records yields, per record, its
normalised typed values and the list of rules it breaks.

The rules are those of ``claims_schema.json``, applied exactly as the validation Lambda applies them
(functions/claims-validation/rules.ts): values trimmed (Java's ``\\s``), upper-cased where declared; an empty
required field is ``MISSING_REQUIRED_FIELD``; a value is checked for its type, then its format (and NPI
check digit), then its allowed values; business rules look only at values that parsed. Issues are strings
``RULE:field`` in the same order the Lambda reports them, so tests can compare the two one to one.

Everything is a native expression (no Python UDF): the NPI Luhn sum is unrolled over its nine digits, and
a date is accepted only after its day is checked against its month's length, so nothing depends on ANSI
mode or on Spark's date-format parser.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from glue_pipeline.claims_schema import ClaimsSchema, FieldSpec, load_schema

ISSUES = "issues"
AMOUNT_TYPE = T.DecimalType(12, 2)
# The NPI prefix 80840 contributes 24 to the Luhn sum (CMS's check-digit algorithm).
NPI_PREFIX_SUM = 24


def java_pattern(pattern: str) -> str:
    """A declared pattern as Java must run it to mean what it means in JavaScript (the Lambda): Java's ``$``
    also matches before a final line terminator, and without UNIX_LINES (``(?d)``) U+0085, U+2028 and
    U+2029 are line terminators too, so ``100.00\u2028`` would pass ``^...$`` here and fail in the Lambda.
    With ``(?d)`` only a final ``\n`` remains, and trimming has removed that."""
    return "(?d)" + pattern


def normalised(raw: Column, field: FieldSpec) -> Column:
    """Trimmed (Java ``\\s``), upper-cased where declared; null and empty become ''."""
    value = F.regexp_replace(F.coalesce(raw.cast("string"), F.lit("")), r"^\s+|\s+$", "")
    return F.upper(value) if field.case == "upper" else value


def npi_check_digit_valid(value: Column) -> Column:
    """True when the 10-digit ``value``'s last digit is its Luhn check digit (prefix 80840)."""
    total: Column = F.lit(NPI_PREFIX_SUM)
    for i in range(9):
        digit = F.substring(value, i + 1, 1).cast("int")
        if i % 2 == 0:
            doubled = digit * 2
            digit = F.when(doubled > 9, doubled - 9).otherwise(doubled)
        total = total + digit
    check = (F.lit(10) - total % 10) % 10
    return check == F.substring(value, 10, 1).cast("int")


def iso_date_text(value: Column, schema: ClaimsSchema) -> Column:
    """``value`` rewritten as ``YYYY-MM-DD`` by the first declared format it matches, else null (not yet
    checked to be a real date)."""
    result: Column = F.lit(None).cast("string")
    for fmt in reversed(schema.types["date"]["formats"]):
        replacement = "$1-$2-$3" if fmt["order"] == "ymd" else "$3-$1-$2"
        result = F.when(value.rlike(java_pattern(fmt["pattern"])), F.regexp_replace(value, java_pattern(fmt["pattern"]), replacement)).otherwise(result)
    return result


def date_from_iso(iso: Column, schema: ClaimsSchema) -> Column:
    """The date of a ``YYYY-MM-DD`` text, or null when it does not exist or its year is out of range."""
    spec = schema.types["date"]
    y, m, d = (F.substring(iso, 1, 4).cast("int"), F.substring(iso, 6, 2).cast("int"), F.substring(iso, 9, 2).cast("int"))
    # Nested so that make_date only ever sees a real month, and only a day that month has: nothing here
    # depends on ANSI mode.
    return F.when(
        y.between(spec["min_year"], spec["max_year"]) & m.between(1, 12),
        F.when((d >= 1) & (d <= F.dayofmonth(F.last_day(F.make_date(y, m, F.lit(1))))), F.make_date(y, m, d)),
    )


def _field_issue(value: Column, field: FieldSpec, schema: ClaimsSchema, iso: Column | None) -> tuple[Column, Column]:
    """(parsed value, the rule its first failing check breaks) for a normalised ``value``; both null when the
    value is empty and optional. The checks, in the Lambda's order: required, type, format, NPI check
    digit, allowed values — only the first failure is reported, as a later check of a bad value says
    nothing new."""
    types = schema.types
    empty = value == ""
    missing: Column = F.lit("MISSING_REQUIRED_FIELD") if field.required else F.lit(None).cast("string")
    if field.type == "integer":
        ok = value.rlike(java_pattern(types["integer"]["pattern"]))
        parsed, issue = F.when(ok, value.cast("int")), F.when(~ok, F.lit(types["integer"]["rule"]))
    elif field.type == "decimal":
        ok = value.rlike(java_pattern(types["decimal"]["pattern"]))
        parsed, issue = F.when(ok, value.cast(AMOUNT_TYPE)), F.when(~ok, F.lit(types["decimal"]["rule"]))
    elif field.type == "date":
        assert iso is not None
        parsed = date_from_iso(iso, schema)
        issue = F.when(parsed.isNull(), F.lit(types["date"]["rule"]))
    else:
        checks: list[tuple[Column, str]] = []
        if field.format is not None:
            spec = schema.formats[field.format]
            checks.append((~value.rlike(java_pattern(spec["pattern"])), "INVALID_FORMAT"))
            if spec.get("check_digit") == "npi_luhn":
                checks.append((~npi_check_digit_valid(value), "INVALID_NPI_CHECK_DIGIT"))
        if field.allowed is not None:
            checks.append((~value.isin(*field.allowed), str(field.unknown_rule)))
        issue = F.lit(None).cast("string")
        for condition, rule in reversed(checks):
            issue = F.when(condition, F.lit(rule)).otherwise(issue)
        parsed = F.when(issue.isNull(), value)
    return F.when(~empty, parsed), F.when(empty, missing).otherwise(issue)


def validate_claims(df: DataFrame, reference_date: date, schema: ClaimsSchema | None = None, prefix: str = "") -> DataFrame:
    """Adds, per declared field, its normalised typed value (column ``<prefix><field>``) and the array
    ``issues`` of ``RULE:field`` strings. Columns of declared fields missing from ``df`` count as empty.
    Other columns of ``df`` are kept as they are; with the default prefix ``""`` the typed values replace
    the raw columns of the declared fields.

    Built in three projections (normalise, parse, judge) rather than one expression per issue: each value
    is then parsed once, and Spark's optimiser keeps the projections apart instead of copying the parse
    into every rule that reads the value."""
    schema = schema or load_schema()
    present = set(df.columns)
    original = list(df.columns)
    norm = {f.name: f"_n_{f.name}" for f in schema.fields}
    iso = {f.name: f"_d_{f.name}" for f in schema.fields if f.type == "date"}
    typed = {f.name: f"_t_{f.name}" for f in schema.fields}
    field_issue = {f.name: f"_i_{f.name}" for f in schema.fields}
    output_names = {f.name: f"{prefix}{f.name}" for f in schema.fields}
    kept = [c for c in original if prefix or c not in output_names]
    if prefix and set(output_names.values()) & present:
        raise ValueError(f"validate_claims: prefix {prefix!r} makes typed columns collide with input columns")

    stage = df.select(
        "*",
        *[normalised(F.col(f"`{f.name}`") if f.name in present else F.lit(None).cast("string"), f).alias(norm[f.name]) for f in schema.fields],
    )
    stage = stage.select("*", *[iso_date_text(F.col(norm[name]), schema).alias(column) for name, column in iso.items()])
    parsed_columns = []
    for f in schema.fields:
        parsed, issue = _field_issue(F.col(norm[f.name]), f, schema, F.col(iso[f.name]) if f.name in iso else None)
        parsed_columns += [parsed.alias(typed[f.name]), issue.alias(field_issue[f.name])]
    stage = stage.select(*[F.col(f"`{c}`") for c in original], *parsed_columns)

    issues: list[Column] = [
        F.when(F.col(field_issue[f.name]).isNotNull(), F.concat(F.col(field_issue[f.name]), F.lit(f":{f.name}"))) for f in schema.fields
    ]
    t = {name: F.col(column) for name, column in typed.items()}

    def issue(condition: Column, rule: str, field: str) -> None:
        issues.append(F.when(condition, F.lit(f"{rule}:{field}")))

    for rule in schema.business_rules:
        kind, rule_id = rule["kind"], rule["id"]
        if kind == "non_negative":
            for name in rule["fields"]:
                issue(t[name] < 0, rule_id, name)
        elif kind == "positive":
            for name in rule["fields"]:
                issue(t[name] < 1, rule_id, name)
        elif kind == "not_greater_than":
            for name in rule["fields"]:
                issue(t[name] > t[rule["than"]], rule_id, name)
        elif kind == "not_after":
            issue(t[rule["field"]] > t[rule["than"]], rule_id, rule["field"])
        elif kind == "not_in_future":
            for name in rule["fields"]:
                issue(t[name] > F.lit(reference_date), rule_id, name)
        else:
            raise ValueError(f"claims schema: unknown business rule kind {kind}")

    # when() without otherwise() is null when its condition is false or null (a comparison with a null).
    all_issues = F.filter(F.array(*issues), lambda x: x.isNotNull())
    return stage.select(
        *[F.col(f"`{c}`") for c in kept], *[t[f.name].alias(output_names[f.name]) for f in schema.fields], all_issues.alias(ISSUES)
    )


def issue_rules(issues: Iterable[str]) -> list[str]:
    """The rule ids of ``RULE:field`` issue strings, in order, without repeats."""
    seen: list[str] = []
    for item in issues:
        rule = item.split(":", 1)[0]
        if rule not in seen:
            seen.append(rule)
    return seen
