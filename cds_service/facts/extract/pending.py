"""Orders already on record (INPUTS.md row 'Draft orders', applied to the record).

Active, draft or on-hold ServiceRequests and MedicationRequests are 'already ordered': their
concept names (from the ``orderable`` union: studies, tests, procedures, agents, agent classes)
go to ``orders_pending``, recognised by code, else by the text of the code / Medication.
"""

from __future__ import annotations

from cds_service.facts.extract.context import Context

_PENDING = frozenset({"active", "draft", "on-hold"})


def extract_pending(ctx: Context) -> frozenset[str]:
    orderable = ctx.index.members("orderable")
    found: set[str] = set()
    refs: list[str] = []
    for rtype in ("ServiceRequest", "MedicationRequest"):
        for item in ctx.type(rtype):
            if item.status not in _PENDING:
                continue
            names = item.names.intersection(orderable)
            if not names:
                names = ctx.index.names_in_text(item.words, orderable)
            if names:
                found |= names
                refs.append(item.ref)
    if found:
        ctx.source("orders_pending", *refs)
    return frozenset(found)
