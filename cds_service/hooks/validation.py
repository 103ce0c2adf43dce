"""Request validation against the JSON schemas kept beside this module."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from cds_service.api.errors import BadRequest

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


@cache
def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def validate(instance: Any, schema_name: str, *, where: str = "") -> None:
    """Raise BadRequest naming the first problem (path and message) when invalid."""
    errors = sorted(validator(schema_name).iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        path = ".".join(str(p) for p in first.absolute_path)
        location = ".".join(p for p in (where, path) if p)
        raise BadRequest(
            f"{location or 'request'}: {first.message[:300]}",
            expression=[location] if location else None,
        )
