"""Structured JSON logs, one object per line, keyed by hookInstance. Never PHI, never tokens.

Log records carry only what is safe: service id, hook, hookInstance, status, timings, counts,
card topics, JWT `iss`/`jti`. A filter also scrubs anything that looks like a bearer token or JWT,
in case a library logs one.
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
)
_SECRET = re.compile(r"(Bearer\s+)[A-Za-z0-9\-_.~+/=]+|eyJ[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*")


def scrub(text: str) -> str:
    return _SECRET.sub(lambda m: (m.group(1) or "") + "[redacted]", text)


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
                entry[key] = record.__dict__[key]
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
    root.handlers = [handler]
    root.setLevel(level)
    # urllib3 logs full URLs at DEBUG (patient ids in queries): keep it quiet.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
