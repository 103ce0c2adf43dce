"""Keep synthetic demo data current: every date in a bundle is shifted by (today - as-of date).

A demo bundle's ``timestamp`` is the date it was written for; shifting keeps "progression 2 months
ago" two months ago whatever the calendar says, so the demo page and the tests do not go stale.
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime, timedelta
from typing import Any

# FHIR date / dateTime / instant at the start of a string: YYYY-MM-DD then optional time and zone.
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})((?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?)$")


def shift_dates(value: Any, delta: timedelta) -> Any:
    """A copy of ``value`` with every full FHIR date/dateTime string moved by ``delta``."""
    if isinstance(value, dict):
        return {k: shift_dates(v, delta) for k, v in value.items()}
    if isinstance(value, list):
        return [shift_dates(v, delta) for v in value]
    if isinstance(value, str):
        match = _DATE.match(value)
        if match:
            try:
                shifted = date.fromisoformat(match.group(1)) + delta
            except ValueError:
                return value
            return shifted.isoformat() + match.group(2)
    return value


def as_of(bundle: dict[str, Any], today: date) -> dict[str, Any]:
    """The bundle with its dates moved so that its ``timestamp`` falls on ``today``."""
    stamp = bundle.get("timestamp")
    if not isinstance(stamp, str):
        return bundle
    delta = today - datetime.fromisoformat(stamp.replace("Z", "+00:00")).date()
    return shift_dates(copy.deepcopy(bundle), delta) if delta else bundle
