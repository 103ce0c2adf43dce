"""Structured JSON logs, one object per line, keyed by hookInstance. Never PHI, never tokens.

Log records carry only what is safe: service id, hook, hookInstance, status, timings, counts,
card topics, JWT `iss`/`jti`. The formatter also scrubs anything that looks like a bearer token or
JWT, in case a library logs one, and strips quoted request values from ``reason`` texts.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

import orjson

_SAFE_EXTRA = (
    "hook_instance",
    "service",
    "hook",
    "status",
    "duration_ms",
    "cards",
    "topics",
    "iss",
    "jti",
    "unreadable",
    "resources",
    "path",
    "method",
    "error",
    "remote",
    "reason",
    "count",
    "tenant",
)
_SECRET = re.compile(r"(Bearer\s+)[A-Za-z0-9\-_.~+/=]+|eyJ[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*")
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_INNERMOST = re.compile(r"\{[^{}\[\]]*\}|\[[^{}\[\]]*\]")
_OPEN_REST = re.compile(r"['\"{\[].*$", re.DOTALL)
_VALUE_FIELDS = frozenset({"reason"})  # free text that may quote request data
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")  # hookInstance is a UUID; anything else is not logged


def scrub(text: str) -> str:
    return _SECRET.sub(lambda m: (m.group(1) or "") + "[redacted]", text)


def redact_values(text: str) -> str:
    """Drop every quoted literal and JSON/Python structure from a message, keeping its words.

    Error messages quote the request data they complain about (``{'name': [...]} is not valid``,
    ``'1957-03-14' does not match``); in a log line that could be a patient's name or identifier.
    The caller still gets the full message in the response body; the log keeps its shape only:
    ``context.patientId: ‹…› is not of type ‹…›``.
    """
    text = _QUOTED.sub("‹…›", scrub(text))
    previous = None
    while previous != text:
        previous, text = text, _INNERMOST.sub("‹…›", text)
    return _OPEN_REST.sub("…", text)  # a quote or bracket left open (message cut short)


def route_template(path: object) -> object:
    """Inside a request, a logged ``path`` becomes its route template (``/cds-services/<service_id>``).

    Concrete paths can carry what a caller typed (a patient's name in an unknown service id, a
    signed link token); the template says which endpoint was hit without them.
    """
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover - Flask is a dependency
        return path
    if not has_request_context():
        return path
    return request.url_rule.rule if request.url_rule is not None else "<unmatched>"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        for key in _SAFE_EXTRA:
            if key in record.__dict__:
                value = record.__dict__[key]
                if key == "path":
                    value = route_template(value)
                elif key == "hook_instance" and not (isinstance(value, str) and _SAFE_ID.fullmatch(value)):
                    value = "‹not a uuid›"
                if isinstance(value, str):
                    value = redact_values(value) if key in _VALUE_FIELDS else scrub(value)
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__  # the type only: messages may hold data
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    # Plain console handlers (logging.basicConfig) give way to the JSON one; other handlers (files,
    # test capture) stay.
    root.handlers = [h for h in root.handlers if type(h) is not logging.StreamHandler] + [handler]
    root.setLevel(level)
    # urllib3 logs full URLs at DEBUG (patient ids in queries): keep it quiet.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
