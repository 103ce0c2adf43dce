"""Read ``context.draftOrders`` into DraftOrder values. (Skeleton: the order recognisers fill this in.)"""

from __future__ import annotations

from typing import Any

from cds_service.facts.model import DraftOrder
from cds_service.fhir_data.record import PatientRecord


def read_draft_orders(*, record_context: PatientRecord, context: dict[str, Any], hook: str) -> tuple[DraftOrder, ...]:
    return ()
