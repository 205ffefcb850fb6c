"""The declared claims schema (``claims_schema.json``), loaded and checked.

The same JSON file is bundled into the claims validation Lambda (TypeScript), so the gate that admits a file
and this job, which splits its records, judge a record by one declaration. It is read through this
module's own loader, which works both from the source tree and from the zip Glue loads with
``--extra-py-files`` (and needs no ``__init__.py``, unlike :func:`pkgutil.get_data`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    required: bool
    case: str | None = None
    format: str | None = None
    allowed: tuple[str, ...] | None = None
    unknown_rule: str | None = None
    default: int | None = None


@dataclass(frozen=True)
class ClaimsSchema:
    name: str
    version: int
    fields: tuple[FieldSpec, ...]
    formats: dict[str, dict[str, Any]]
    types: dict[str, Any]
    business_rules: tuple[dict[str, Any], ...]
    rules: dict[str, dict[str, Any]]

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def family(self, rule_id: str) -> str:
        return self.rules[rule_id]["family"]


def parse_schema(declaration: dict[str, Any]) -> ClaimsSchema:
    """Builds the schema and checks that every format, field and rule it references is declared."""
    rules = {r["id"]: r for r in declaration["rules"]}
    fields = tuple(
        FieldSpec(
            name=f["name"],
            type=f["type"],
            required=bool(f["required"]),
            case=f.get("case"),
            format=f.get("format"),
            allowed=tuple(f["allowed"]) if "allowed" in f else None,
            unknown_rule=f.get("unknown_rule"),
            default=f.get("default"),
        )
        for f in declaration["fields"]
    )
    names = {f.name for f in fields}
    if len(names) != len(fields):
        raise ValueError("claims schema: a field name is declared twice")
    for f in fields:
        if f.format is not None and f.format not in declaration["formats"]:
            raise ValueError(f"claims schema: field {f.name} uses unknown format {f.format}")
        if f.allowed is not None and f.unknown_rule not in rules:
            raise ValueError(f"claims schema: field {f.name} names rule {f.unknown_rule}, which is not declared")
    for rule in declaration["business_rules"]:
        if rule["id"] not in rules:
            raise ValueError(f"claims schema: business rule {rule['id']} is not declared in rules")
        referenced = [rule["field"], rule["than"]] if rule["kind"] == "not_after" else [*rule["fields"], *([rule["than"]] if "than" in rule else [])]
        for name in referenced:
            if name not in names:
                raise ValueError(f"claims schema: business rule {rule['id']} names field {name}, which is not declared")
    return ClaimsSchema(
        name=declaration["name"],
        version=int(declaration["version"]),
        fields=fields,
        formats=dict(declaration["formats"]),
        types=dict(declaration["types"]),
        business_rules=tuple(declaration["business_rules"]),
        rules=rules,
    )


@lru_cache(maxsize=1)
def load_schema() -> ClaimsSchema:
    path = os.path.join(os.path.dirname(__file__), "claims_schema.json")
    loader = globals().get("__loader__")
    raw = loader.get_data(path) if loader is not None and hasattr(loader, "get_data") else open(path, "rb").read()
    return parse_schema(json.loads(raw.decode("utf-8")))
