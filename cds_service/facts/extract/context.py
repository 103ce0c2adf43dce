"""One pass over the patient's record: usable resources, classified once by the value sets.

``Context`` holds what every extractor needs: the record, the concept index, the resources
already filtered by the general rules of INPUTS.md (entered-in-error / cancelled / refuted ones
dropped, resources about another patient dropped with a note) and grouped by the value-set
concept names their main code matched. Extractors then look only at the few resources of the
concepts they care about, which keeps ``build_facts`` linear and fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import Any

from cds_service.facts.extract import fhir
from cds_service.facts.extract.index import ConceptIndex
from cds_service.facts.model import IgnoredResource
from cds_service.fhir_data.record import PatientRecord

# resource type -> (field holding the main CodeableConcept(s), field naming the patient)
MAIN_CODE: dict[str, tuple[str, str]] = {
    "Condition": ("code", "subject"),
    "Observation": ("code", "subject"),
    "DiagnosticReport": ("code", "subject"),
    "Procedure": ("code", "subject"),
    "ImagingStudy": ("procedureCode", "subject"),
    "ServiceRequest": ("code", "subject"),
    "MedicationRequest": ("medicationCodeableConcept", "subject"),
    "MedicationAdministration": ("medicationCodeableConcept", "subject"),
    "MedicationStatement": ("medicationCodeableConcept", "subject"),
    "AllergyIntolerance": ("code", "patient"),
}
MEDICATION_TYPES = ("MedicationRequest", "MedicationAdministration", "MedicationStatement")
_RETRACTED_STATUS = frozenset({"entered-in-error", "cancelled", "revoked"})
_RETRACTED_VERIFICATION = frozenset({"refuted", "entered-in-error"})
_SUSPECTED = frozenset({"provisional", "differential", "unconfirmed"})
_VERIFIED = frozenset({"Condition", "AllergyIntolerance"})  # types with a verificationStatus
_NONE: frozenset[str] = frozenset()
_ORDER = attrgetter("order")


class Item:
    """A usable resource and what its main code is (value-set concept names)."""

    __slots__ = ("_when", "_words", "concepts", "medication", "names", "order", "ref", "resource", "rtype")

    def __init__(self, resource, rtype, ref, names, concepts, order, medication=None):
        self.resource: Mapping[str, Any] = resource
        self.rtype: str = rtype
        self.ref: str = ref  # "Observation/x" or "(unidentified Observation #3)"
        self.names: frozenset[str] = names  # value sets its main code(s) matched
        self.concepts: list[Mapping[str, Any]] = concepts  # its main CodeableConcept(s)
        self.order: int = order  # position in the record (ties: later wins)
        self.medication: Mapping[str, Any] | None = medication  # the resolved Medication, if any
        self._words: str | None = None
        self._when: date | bool | None = False  # False: not computed yet

    @property
    def words(self) -> str:
        """Its main code's human text (text + displays), for text recognition (computed on demand)."""
        if self._words is None:
            self._words = " | ".join(w for w in map(fhir.concept_texts, self.concepts) if w)[: fhir.TEXT_LIMIT]
        return self._words

    @property
    def status(self) -> str:
        return fhir.status(self.resource)

    @property
    def suspected(self) -> bool:
        return bool(fhir.concept_code(self.resource.get("verificationStatus")) & _SUSPECTED)

    @property
    def when(self) -> date | None:
        """effective[x], else issued (Observation / DiagnosticReport dating)."""
        if self._when is False:
            self._when = fhir.effective(self.resource)
        return self._when  # type: ignore[return-value]


@dataclass
class Context:
    record: PatientRecord
    index: ConceptIndex
    today: date
    by_names: dict[frozenset[str], list[Item]] = field(default_factory=dict)  # grouped by what their code matched
    by_type: dict[str, list[Item]] = field(default_factory=dict)
    ignored: list[IgnoredResource] = field(default_factory=list)
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _by_name: dict[str, list[Item]] | None = field(default=None, repr=False)  # of(): built on first use

    @classmethod
    def build(cls, record: PatientRecord, index: ConceptIndex, today: date) -> Context:
        ctx = cls(record=record, index=index, today=today)
        patient = record.patient_id if isinstance(record.patient_id, str) else None
        names_for, known = index.names_for_concept, index.known_codings
        keep, admit = ctx._keep, ctx._admit
        for position, resource in enumerate(record.resources):
            if type(resource) is not dict and not isinstance(resource, Mapping):
                continue
            rtype = resource.get("resourceType")
            if rtype == "Observation":
                raw = resource.get("code")
                if type(raw) is dict:  # the common case (most are labs no value set knows), kept short
                    codings = raw.get("coding")
                    names = None
                    if type(codings) is list and len(codings) == 1:  # names_for_concept's lookup, inlined
                        coding = codings[0]
                        if type(coding) is dict:
                            code, system = coding.get("code"), coding.get("system")
                            if type(code) is str and (system is None or type(system) is str):
                                names = known.get((system, code))
                    if names is None:
                        names = names_for(raw)
                    if names:  # else an Observation no value set knows: nothing reads it
                        keep(resource, rtype, patient, position, names, [raw], False, None)
                    continue
            elif rtype == "OperationOutcome":
                ctx._note_outcome(resource, position)
                continue
            elif rtype not in MAIN_CODE:
                continue
            admit(resource, rtype, patient, position)
        return ctx

    def _admit(self, resource: Mapping[str, Any], rtype: str, patient: str | None, position: int) -> None:
        raw = resource.get(MAIN_CODE[rtype][0])
        names_for = self.index.names_for_concept
        if type(raw) is dict and rtype == "Observation":  # (``build`` handles this case itself)
            names = names_for(raw)
            if not names:
                return  # an Observation no value set knows: nothing reads it
            usable: list[Mapping[str, Any]] = [raw]
            malformed = False
            medication = None
        else:
            concepts = raw if type(raw) is list else ([] if raw is None else [raw])
            medication = None
            if rtype in MEDICATION_TYPES:
                medication = self.medication_of(resource)
                if medication is not None:
                    concepts = [*concepts, medication.get("code")]
                    concepts.extend(i.get("itemCodeableConcept") for i in fhir.maps(medication.get("ingredient")))
            names = _NONE
            usable = []
            malformed = False
            for cc in concepts:
                if cc is None:
                    continue
                if not fhir.is_map(cc):
                    malformed = True
                    continue
                usable.append(cc)
                hit = names_for(cc)
                if hit:
                    names = names | hit if names else hit
            if rtype == "Condition" and "extension" in resource:  # the histology extension classifies it too
                for ext in fhir.maps(resource.get("extension")):
                    hit = names_for(ext.get("valueCodeableConcept"))
                    if hit:
                        names = names | hit if names else hit
            if rtype == "Observation" and not names:
                return
        self._keep(resource, rtype, patient, position, names, usable, malformed, medication)

    def _keep(
        self,
        resource: Mapping[str, Any],
        rtype: str,
        patient: str | None,
        position: int,
        names: frozenset[str],
        usable: list[Mapping[str, Any]],
        malformed: bool,
        medication: Mapping[str, Any] | None,
    ) -> None:
        """Keep a classified resource unless the general rules of INPUTS.md set it aside."""
        code_field, subject_field = MAIN_CODE[rtype]
        rid = resource.get("id")
        ok_id = isinstance(rid, str) and 0 < len(rid) <= 64
        ref = f"{rtype}/{rid}" if ok_id else f"(unidentified {rtype} #{position})"
        if not usable:
            if malformed:
                self.ignore(ref, f"its {code_field} is not a CodeableConcept")
            return
        state = resource.get("status")
        if isinstance(state, str) and state in _RETRACTED_STATUS:
            if names:
                self.ignore(ref, f"status {state}", routine=True)
            return
        if rtype in _VERIFIED and fhir.concept_code(resource.get("verificationStatus")) & _RETRACTED_VERIFICATION:
            if names:
                self.ignore(ref, "verification status refuted / entered in error", routine=True)
            return
        if patient and _other_patient(resource.get(subject_field), patient):
            if names:
                self.ignore(ref, "about another patient")
            return
        item = Item(resource, rtype, ref, names, usable, position, medication)
        bucket = self.by_type.get(rtype)
        if bucket is None:
            self.by_type[rtype] = [item]
        else:
            bucket.append(item)
        if names:
            bucket = self.by_names.get(names)
            if bucket is None:
                self.by_names[names] = [item]
            else:
                bucket.append(item)
            self._by_name = None

    def _note_outcome(self, resource: Mapping[str, Any], position: int) -> None:
        severities = {i.get("severity") for i in fhir.maps(resource.get("issue")) if isinstance(i.get("severity"), str)}
        if severities & {"error", "fatal"}:
            rid = resource.get("id")
            ref = f"OperationOutcome/{rid}" if isinstance(rid, str) and len(rid) <= 64 else "(OperationOutcome)"
            self.ignore(ref, "a search returned an error instead of data: some facts may be missing")

    # ---------------------------------------------------------------- queries
    def of(self, *names: str, types: Iterable[str] | None = None) -> list[Item]:
        """Items whose main code is in any of the value sets ``names`` (each once, record order)."""
        by_name = self._by_name if self._by_name is not None else self._index_names()
        if len(names) == 1:
            found = by_name.get(names[0], ())
        else:
            unique = {id(i): i for name in names for i in by_name.get(name, ())}
            found = sorted(unique.values(), key=_ORDER)
        if types is None:
            return list(found)
        wanted = set(types)
        return [i for i in found if i.rtype in wanted]

    def _index_names(self) -> dict[str, list[Item]]:
        """Value-set name -> items in record order (from ``by_names``, once: extractors ask ~40 times)."""
        by_name: dict[str, list[Item]] = {}
        for key, items in self.by_names.items():
            for name in key:
                found = by_name.get(name)
                if found is None:
                    by_name[name] = list(items)
                else:
                    found.extend(items)
        for found in by_name.values():
            found.sort(key=_ORDER)
        self._by_name = by_name
        return by_name

    def type(self, rtype: str) -> list[Item]:
        return self.by_type.get(rtype, [])

    def in_set(self, name: str, cc: Any) -> bool:
        return self.index.in_set(name, cc)

    def ignore(self, reference: str, reason: str, *, routine: bool = False) -> None:
        self.ignored.append(IgnoredResource(reference, reason, routine))

    def source(self, fact: str, *refs: str) -> None:
        refs = tuple(filter(None, refs))
        if refs:
            old = self.sources.get(fact)
            if not old:
                self.sources[fact] = refs
                return
            known = set(old)  # (a set: a fact may have hundreds of sources, e.g. every therapy exposure)
            self.sources[fact] = old + tuple(r for r in refs if r not in known)

    def medication_of(self, resource: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The Medication a medication resource references: contained (``#id``) or in the record."""
        ref = fhir.reference(resource.get("medicationReference"))
        if not ref:
            return None
        if ref.startswith("#"):
            for contained in fhir.maps(resource.get("contained")):
                if contained.get("resourceType") == "Medication" and contained.get("id") == ref[1:]:
                    return contained
            return None
        found = self.record.resolve(fhir.ref_key(ref))
        return found if isinstance(found, Mapping) and found.get("resourceType") == "Medication" else None


def latest(items: Iterable[Item], when=None) -> Item | None:
    """The most recent item (effective[x], else issued); undated ones lose; ties: the later in the record."""
    key = when or (lambda i: i.when)
    best: Item | None = None
    best_key: tuple[date, int] | None = None
    for item in items:
        k = (key(item) or date.min, item.order)
        if best_key is None or k > best_key:
            best, best_key = item, k
    return best


def by_recency(items: Iterable[Item], when=None) -> list[Item]:
    key = when or (lambda i: i.when)
    return sorted(items, key=lambda i: (key(i) or date.min, i.order), reverse=True)


def _other_patient(subject: Any, patient: str) -> bool:
    if subject is None:
        return False
    if type(subject) is dict and subject.get("reference") == "Patient/" + patient:
        return False
    ref = fhir.reference(subject)
    if not ref or ref.startswith("#") or ref.startswith("urn:"):
        return False
    key = fhir.ref_key(ref)
    rtype, _, rid = key.partition("/")
    return rtype == "Patient" and bool(rid) and rid != patient
