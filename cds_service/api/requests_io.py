"""Reading a JSON request body: content type, size and syntax checked, typed errors raised."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Request

from cds_service.api.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

_JSON_TYPES = ("application/json", "application/fhir+json")


def read_json_object(request: Request, max_bytes: int) -> dict[str, Any]:
    mimetype = (request.mimetype or "").lower()
    if mimetype not in _JSON_TYPES and not mimetype.endswith("+json"):
        raise UnsupportedMediaType(f"Content-Type must be application/json, not {mimetype or 'missing'!r}")
    if request.content_length is not None and request.content_length > max_bytes:
        raise PayloadTooLarge(f"request body over the {max_bytes} byte limit")
    # Read exactly what was announced when the length is known (no 5 MB buffer per request).
    wanted = request.content_length if request.content_length is not None else max_bytes + 1
    raw = request.stream.read(wanted)
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"request body over the {max_bytes} byte limit")
    if not raw.strip():
        raise BadRequest("request body is empty: a JSON object was expected")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc.args[0][:200] if exc.args else 'cannot parse'}") from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body
