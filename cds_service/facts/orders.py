"""Read ``context.draftOrders`` (order-select / order-sign) into DraftOrder values.

Each R4 ``ServiceRequest`` and ``MedicationRequest`` in the draftOrders Bundle becomes one
DraftOrder whose ``concepts`` are the value-set concept names it matches among the members of the
``orderable`` union (agent, class, study, procedure: ``cisplatin`` and ``cis-carboplatin``,
``sstr-pet``...). Recognition, with the value sets of ``fhir_profiles/ValueSet`` as the only
recognisers:

1. by code: any coding of ``ServiceRequest.code``, ``MedicationRequest.medicationCodeableConcept``
   or of the referenced Medication (``code`` and ``ingredient.itemCodeableConcept``);
2. only when no code is recognised, by text: ``code.text``, every ``coding.display`` and the
   Medication's texts, matched with the same value sets' text patterns. Where two concepts'
   matches overlap, the longer match wins ("lutetium Lu 177 dotatate" is PRRT, not the SSTR-PET
   word "DOTATATE" inside it; "cone biopsy of the cervix" is fertility-sparing surgery, not a
   "biopsy of"); a class and its member match the same words and are both kept.

A ``medicationReference`` is resolved to a contained Medication (``#id``), a Medication in the
draftOrders Bundle (``Medication/id`` or the entry's ``fullUrl``), or one in the patient record.
On order-select only the drafts named in ``context.selections`` are ``selected`` (the others are
context for the checks, e.g. a platinum drafted beside an immunotherapy); on order-sign every
draft is. Orders about another patient, retracted ones and malformed entries are skipped: this
reader never raises on request content.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import Any

from cds_service.facts.model import DraftOrder
from cds_service.facts.valuesets import VALUESET_DIR, ValueSetRegistry, registry
from cds_service.fhir_data.record import PatientRecord

ORDER_TYPES = ("ServiceRequest", "MedicationRequest")
ORDERABLE = "orderable"  # the union value set of every study, test, procedure, agent and agent class
_RETRACTED = frozenset({"entered-in-error", "cancelled", "revoked"})


def read_draft_orders(*, record_context: PatientRecord, context: dict[str, Any], hook: str) -> tuple[DraftOrder, ...]:
    if not isinstance(context, Mapping):
        return ()
    bundle = context.get("draftOrders")
    entries = _entries(bundle)
    if not entries:
        return ()
    patient_id = context.get("patientId") or record_context.patient_id
    selections = _selections(context.get("selections")) if hook == "order-select" else None
    values = registry()
    in_bundle = _bundle_index(entries)
    orders: list[DraftOrder] = []
    seen: set[str] = set()
    for entry in entries:
        resource = entry.get("resource")
        if not isinstance(resource, Mapping) or resource.get("resourceType") not in ORDER_TYPES:
            continue
        order = _read_order(resource, values, patient_id, in_bundle, record_context, selections)
        if order is not None and f"{order.resource_type}/{order.resource_id}" not in seen:
            seen.add(f"{order.resource_type}/{order.resource_id}")
            orders.append(order)
    return tuple(orders)


def _read_order(
    resource: Mapping[str, Any],
    values: ValueSetRegistry,
    patient_id: str | None,
    in_bundle: dict[str, Mapping[str, Any]],
    record: PatientRecord,
    selections: frozenset[str] | None,
) -> DraftOrder | None:
    rtype = resource["resourceType"]
    rid = resource.get("id")
    if not isinstance(rid, str) or not rid.strip():
        return None  # a delete suggestion must be able to name it
    status = resource.get("status")
    if (isinstance(status, str) and status in _RETRACTED) or _about_other_patient(resource, patient_id):
        return None
    if rtype == "ServiceRequest":
        concepts = _concepts([resource.get("code")])
    else:
        concepts = list(_medication_concepts(resource, in_bundle, record))
    names = orderable_names(values)
    matched: frozenset[str] = frozenset()
    for concept in concepts:
        matched |= values.concepts_for(concept, names)
    recognised_by = "code"
    texts = list(_texts(concepts))
    if not matched:
        for text in texts:
            matched |= text_concepts(text, values, names)
        recognised_by = "text" if matched else "none"
    ref = f"{rtype}/{rid}"
    return DraftOrder(
        resource_type=rtype,
        resource_id=rid,
        concepts=matched,
        text=texts[0] if texts else "",
        recognised_by=recognised_by,
        selected=selections is None or ref in selections,
    )


def text_concepts(text: str, values: ValueSetRegistry, names: Iterable[str]) -> frozenset[str]:
    """Concepts named in ``text``: each value set's patterns, the longer of two overlapping matches winning."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for name in names:
        found = [m.span() for p in values[name].patterns for m in p.finditer(text) if m.end() > m.start()]
        if found:
            spans[name] = found

    def dominated(name: str, span: tuple[int, int]) -> bool:
        start, end = span
        return any(
            other != name and s < end and start < e and (e - s) > (end - start)
            for other, others in spans.items()
            for s, e in others
        )

    return frozenset(name for name, found in spans.items() if any(not dominated(name, sp) for sp in found))


@cache
def _orderable_members() -> tuple[str, ...] | None:
    path = VALUESET_DIR / f"{ORDERABLE}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return tuple(
        url.rstrip("/").rsplit("/", 1)[-1]
        for include in raw.get("compose", {}).get("include", [])
        for url in include.get("valueSet", [])
        if isinstance(url, str)
    )


def orderable_names(values: ValueSetRegistry) -> list[str]:
    """The concept names a draft can be: the members of ``orderable`` (every value set without it)."""
    members = _orderable_members()
    if members is None:
        return values.names()
    return [name for name in members if name in values]


# ---------------------------------------------------------------- medications


def _medication_concepts(
    request: Mapping[str, Any], in_bundle: dict[str, Mapping[str, Any]], record: PatientRecord
) -> Iterator[Mapping[str, Any]]:
    yield from _concepts([request.get("medicationCodeableConcept")])
    reference = request.get("medicationReference")
    if not isinstance(reference, Mapping):
        return
    medication = _resolve_medication(reference.get("reference"), request, in_bundle, record)
    if medication is not None:
        yield from _concepts([medication.get("code")])
        ingredients = medication.get("ingredient")
        if isinstance(ingredients, list):
            yield from _concepts(i.get("itemCodeableConcept") for i in ingredients if isinstance(i, Mapping))
    display = reference.get("display")
    if isinstance(display, str) and display.strip():
        yield {"text": display}


def _resolve_medication(
    ref: Any, request: Mapping[str, Any], in_bundle: dict[str, Mapping[str, Any]], record: PatientRecord
) -> Mapping[str, Any] | None:
    if not isinstance(ref, str) or not ref.strip():
        return None
    ref = ref.strip()
    found: Any = None
    if ref.startswith("#"):
        contained = request.get("contained")
        if isinstance(contained, list):
            found = next(
                (r for r in contained if isinstance(r, Mapping) and r.get("id") == ref[1:]),
                None,
            )
    else:
        found = in_bundle.get(ref) or in_bundle.get(_type_id(ref) or "") or record.resolve(ref)
    if isinstance(found, Mapping) and found.get("resourceType") == "Medication":
        return found
    return None


# ---------------------------------------------------------------- helpers


def _entries(bundle: Any) -> list[Mapping[str, Any]]:
    if not isinstance(bundle, Mapping) or bundle.get("resourceType") != "Bundle":
        return []
    entries = bundle.get("entry")
    return [e for e in entries if isinstance(e, Mapping)] if isinstance(entries, list) else []


def _bundle_index(entries: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Resources of the draftOrders Bundle by ``Type/id`` and by ``fullUrl``."""
    index: dict[str, Mapping[str, Any]] = {}
    for entry in entries:
        resource = entry.get("resource")
        if not isinstance(resource, Mapping):
            continue
        if isinstance(resource.get("resourceType"), str) and isinstance(resource.get("id"), str):
            index[f"{resource['resourceType']}/{resource['id']}"] = resource
        if isinstance(entry.get("fullUrl"), str):
            index[entry["fullUrl"]] = resource
    return index


def _type_id(ref: str) -> str | None:
    parts = ref.rstrip("/").split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return f"{parts[-2]}/{parts[-1]}" if len(parts) >= 2 else None


def _selections(raw: Any) -> frozenset[str] | None:
    """``Type/id`` of each selected draft; None (everything selected) when the field is absent."""
    if not isinstance(raw, list) or not raw:
        return None
    return frozenset(t for t in (_type_id(s.strip()) for s in raw if isinstance(s, str)) if t)


def _about_other_patient(resource: Mapping[str, Any], patient_id: str | None) -> bool:
    subject = resource.get("subject")
    if not patient_id or not isinstance(subject, Mapping) or not isinstance(subject.get("reference"), str):
        return False
    ref = _type_id(subject["reference"].strip())
    return ref is not None and ref.startswith("Patient/") and ref != f"Patient/{patient_id}"


def _concepts(raw: Iterable[Any]) -> list[Mapping[str, Any]]:
    """CodeableConcepts with only well-formed codings (string system / code) and a string text."""
    out: list[Mapping[str, Any]] = []
    for concept in raw:
        if not isinstance(concept, Mapping):
            continue
        codings = concept.get("coding")
        clean: dict[str, Any] = {"coding": []}
        for c in codings if isinstance(codings, list) else []:
            if not isinstance(c, Mapping):
                continue
            coding = {k: c[k] for k in ("system", "code", "display") if isinstance(c.get(k), str)}
            if coding:
                clean["coding"].append(coding)
        if isinstance(concept.get("text"), str):
            clean["text"] = concept["text"]
        out.append(clean)
    return out


def _texts(concepts: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The free text of the concepts: ``text`` first, then each coding's display (no duplicates)."""
    seen: set[str] = set()
    concepts = list(concepts)
    candidates: list[Any] = [c.get("text") for c in concepts]
    for concept in concepts:
        codings = concept.get("coding")
        if isinstance(codings, list):
            candidates.extend(c.get("display") for c in codings if isinstance(c, Mapping))
    for text in candidates:
        if isinstance(text, str) and text.strip() and text.strip().lower() not in seen:
            seen.add(text.strip().lower())
            yield text.strip()
