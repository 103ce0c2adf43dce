"""What the explanation page and ``cds-service check-data`` show, as plain JSON-able data.

Built from one evaluation (facts + decisions), the record's inventory and the cards issued. Free of
Flask and of FHIR paths. It carries no names, identifiers or birth dates, and not the patient id:
only resource references (``Observation/ki67-1``), which are what a clinician needs to check a fact.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import cache
from itertools import chain, repeat
from typing import Any

from cds_service.facts.model import (
    Differentiation,
    LabResult,
    Neoplasm,
    PatientFacts,
    SiteGroup,
    Stage,
    Study,
    TherapyExposure,
    TherapyLine,
)
from cds_service.fhir_data.record import PatientRecord
from cds_service.guideline.evaluate import Decision, Evaluation, Outcome, Scope
from cds_service.guideline.logic import PREDICATES
from cds_service.rendering.cards import level_words

SNAPSHOT_VERSION = 1

# ---------------------------------------------------------------- facts

# Plain labels for PatientFacts fields (a field not listed gets its name in words).
LABELS: dict[str, str] = {
    "other_cancers": "Other cancers recorded",
    "grade": "Grade",
    "ki67_percent": "Ki-67 proliferation index",
    "ki67_date": "Ki-67 date",
    "mitotic_count_per_2mm2": "Mitotic count (per 2 mm²)",
    "grade_observed": "Histologic grade (as reported)",
    "stage": "Stage",
    "metastatic_sites": "Metastatic sites",
    "brain_metastasis_count": "Brain metastases (count)",
    "high_disease_burden": "High systemic disease burden",
    "figo_stage": "FIGO stage",
    "tumor_size_cm": "Tumor size (cm)",
    "lymphovascular_invasion": "Lymphovascular invasion",
    "deep_stromal_invasion": "Deep stromal invasion",
    "disease_status": "Disease status",
    "accelerating_progression": "Accelerating progression / discordant growth",
    "p53_aberrant": "p53 aberrant (IHC)",
    "rb_lost": "Rb lost (IHC)",
    "sstr2a_positive": "SSTR2A positive (IHC)",
    "synaptophysin_positive": "Synaptophysin positive (IHC)",
    "chromogranin_ihc_positive": "Chromogranin A positive (IHC)",
    "insm1_done": "INSM1 immunostain done",
    "studies": "Study",
    "sstr_uptake_above_liver": "SSTR uptake above liver",
    "msi_high": "MSI-high",
    "mmr_deficient": "MMR-deficient",
    "tmb_per_mb": "Tumor mutational burden (mut/Mb)",
    "braf_v600e": "BRAF V600E",
    "ntrk_fusion": "NTRK fusion",
    "ret_fusion": "RET fusion",
    "ngs_done": "Next-generation sequencing done",
    "chromogranin_a": "Chromogranin A (serum)",
    "five_hiaa": "5-HIAA",
    "hormonal_syndrome": "Hormonal syndrome",
    "carcinoid_syndrome": "Carcinoid syndrome",
    "neurologic_symptoms": "Neurological symptoms",
    "neurologic_symptoms_since": "Neurological symptoms since",
    "cardiac_symptoms": "Cardiac symptoms",
    "exposures": "Systemic agent given",
    "lines": "Systemic therapy line",
    "intolerances": "Intolerances",
    "resected": "Primary resected",
    "surgery_date": "Surgery date",
    "surgical_margin_positive": "Surgical margin positive",
    "radiation_not_amenable": "Not amenable to radiation",
    "chemoradiation_completed_date": "Chemoradiation completed",
    "localized_treatment_completed": "Treatment of localized disease completed",
    "metastatic_treatment_start": "Treatment of metastatic disease started",
    "orders_pending": "Orders pending",
}

# Keys of PatientFacts.sources that may stand for a field (extractors name facts in their own words).
_ALIASES: dict[str, tuple[str, ...]] = {
    "neoplasm": ("neoplasm", "condition", "nen", "primary"),
    "differentiation": ("differentiation", "morphology", "histology"),
    "site": ("primary-site", "primary_site", "site"),
    "grade": ("grade", "histologic-grade"),
    "ki67_percent": ("ki67", "ki-67", "ki67_percent", "ki67-percent"),
    "mitotic_count_per_2mm2": ("mitotic-count", "mitotic_count", "mitoses"),
    "stage": ("stage", "metastatic", "m-category", "metastases"),
    "figo_stage": ("figo", "figo-stage", "figo_stage"),
}
_NOT_FACTS = {"patient_id", "today", "data_gaps", "ignored", "sources", "neoplasm", "ki67_date"}  # date: in ki67 row


def _words(value: Any) -> str:
    if value is None:
        return "not recorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, frozenset | set):
        return ", ".join(sorted(_words(v) for v in value)) or "none"
    return str(value)


def _is_default(f: dataclasses.Field, value: Any) -> bool:
    if f.default is not dataclasses.MISSING:
        return value == f.default
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return value == f.default_factory()  # type: ignore[misc]
    return False


class _Sources:
    """Look up PatientFacts.sources by field name or alias; remember which keys were shown."""

    def __init__(self, sources: Mapping[str, Sequence[str]]):
        self.sources = {k: tuple(v) for k, v in (sources or {}).items()}
        self.used: set[str] = set()

    def take(self, name: str, *extra: str) -> list[str]:
        keys = [name, name.replace("_", "-"), *_ALIASES.get(name, ())]
        refs: list[str] = []
        for key in keys:
            if key in self.sources:
                self.used.add(key)
                refs.extend(r for r in self.sources[key] if r not in refs)
        refs.extend(r for r in extra if r and r not in refs)
        return refs

    def leftovers(self) -> dict[str, tuple[str, ...]]:
        return {k: v for k, v in self.sources.items() if k not in self.used}


def _row(fact: str, label: str, value: str, sources: Iterable[str]) -> dict[str, Any]:
    return {"fact": fact, "label": label, "value": value, "sources": [s for s in sources if s]}


def _neoplasm_rows(n: Neoplasm, src: _Sources) -> list[dict[str, Any]]:
    condition = [n.condition_id] if n.condition_id else []
    differentiation = {
        Differentiation.NET: "well-differentiated neuroendocrine tumor (NET)",
        Differentiation.NEC: "poorly differentiated neuroendocrine carcinoma (NEC)",
        Differentiation.MINEN: "MiNEN (managed as NEC)",
        Differentiation.UNKNOWN: "not recorded",
    }[n.differentiation]
    if n.morphology:
        differentiation += f" (morphology {n.morphology})"
    site = n.site.value + (f" ({n.site_code})" if n.site_code else "")
    if n.pancreas_body_or_tail:
        site += ", body or tail"
    rows = [
        _row("neoplasm", "Neuroendocrine neoplasm", f"{n.display or 'recorded'} ({n.certainty.value})", condition),
        _row("differentiation", "Differentiation", differentiation, src.take("differentiation", *condition)),
        _row("site", "Primary site", site, src.take("site", *condition)),
    ]
    if n.diagnosed_on:
        rows.append(_row("diagnosed_on", "Diagnosed on", n.diagnosed_on.isoformat(), condition))
    src.take("neoplasm")
    return rows


def _item_row(name: str, label: str, item: Any, src: _Sources) -> dict[str, Any]:
    if isinstance(item, Study):
        result = {True: "positive", False: "negative", None: "result not coded"}[item.positive]
        value = f"{item.kind.value} on {_words(item.date)}: {result}"
        return _row(name, label, value, [item.source])
    if isinstance(item, LabResult):
        amount = "no value" if item.value is None else f"{item.value:g} {item.unit or ''}".strip()
        flag = {True: ", elevated", False: ", not elevated", None: ""}[item.elevated]
        return _row(name, label, f"{amount} on {_words(item.date)}{flag}", [item.source])
    if isinstance(item, TherapyExposure):
        period = f"{_words(item.start)} to {_words(item.end) if item.end else 'ongoing'}"
        return _row(name, label, f"{item.agent} ({period}{', active' if item.active else ''})", [item.source])
    if isinstance(item, TherapyLine):
        period = f"{_words(item.start)} to {_words(item.end) if item.end else 'ongoing'}"
        agents = " + ".join(sorted(item.agents))
        value = f"line {item.number}: {agents} ({period}{', active' if item.active else ''})"
        return _row(name, label, value, src.take(f"line-{item.number}"))
    if isinstance(item, tuple) and len(item) == 2:  # disease status (date, value)
        return _row(name, label, f"{_words(item[1])} on {_words(item[0])}", [])
    return _row(name, label, _words(item), [])


def fact_rows(facts: PatientFacts) -> list[dict[str, Any]]:
    """Every fact the record established, in the model's order, each with the resources it came from."""
    src = _Sources(facts.sources)
    rows: list[dict[str, Any]] = []
    if facts.neoplasm is not None:
        rows.extend(_neoplasm_rows(facts.neoplasm, src))
    for f in dataclasses.fields(facts):
        if f.name in _NOT_FACTS:
            continue
        value = getattr(facts, f.name)
        if _is_default(f, value):
            continue
        label = LABELS.get(f.name, f.name.replace("_", " ").capitalize())
        if isinstance(value, tuple) and value and not isinstance(value[0], str):
            shared = src.take(f.name)
            for item in value:
                row = _item_row(f.name, label, item, src)
                row["sources"] = row["sources"] or shared
                rows.append(row)
            continue
        if f.name == "ki67_percent":
            text = f"{value:g}%" + (f" on {facts.ki67_date.isoformat()}" if facts.ki67_date else "")
            rows.append(_row(f.name, label, text, src.take(f.name)))
            continue
        if isinstance(value, tuple):
            value = ", ".join(value)
        rows.append(_row(f.name, label, _words(value), src.take(f.name)))
    for key, refs in src.leftovers().items():
        rows.append(_row(key, key.replace("-", " ").replace("_", " ").capitalize(), "recorded", refs))
    return rows


# ---------------------------------------------------------------- the decision path

STEP_OPTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "differentiation": (
        ("NET", "Well-differentiated G3 NET"),
        ("NEC", "Poorly differentiated NEC"),
        ("unknown", "Unknown"),
    ),
    "site": (("GEP", "Gastroenteropancreatic"), ("gynecologic", "Gynecologic"), ("unknown", "Unknown / other")),
    "stage": (("localized", "Localized"), ("metastatic", "Metastatic"), ("unknown", "Unknown")),
    "course": (
        ("localized-treatment", "Treat localized disease"),
        ("surveillance", "Surveillance"),
        ("first-line", "Front-line therapy"),
        ("later-line", "Second line or later"),
        ("unknown", "Not determined"),
    ),
}
STEP_TITLES = {
    "differentiation": "Differentiation",
    "site": "Primary site",
    "stage": "Stage",
    "course": "Line of therapy or surveillance",
}


def _step(name: str, selected: str, status: str, detail: str, sources: Sequence[str] = ()) -> dict[str, Any]:
    labels = dict(STEP_OPTIONS[name])
    return {
        "step": name,
        "title": STEP_TITLES[name],
        "options": [{"value": v, "label": label} for v, label in STEP_OPTIONS[name]],
        "selected": selected,
        "selected_label": labels[selected],
        "status": status,  # known | gap (the record does not say) | na (not reached)
        "detail": detail,
        "sources": list(sources),
    }


def _course(facts: PatientFacts) -> tuple[str, str]:
    if facts.stage is Stage.METASTATIC:
        if not facts.lines:
            return "first-line", "no systemic therapy recorded: the front-line decision"
        last = max(facts.lines, key=lambda line: line.number)
        progressed = any(last.start is None or d >= last.start for d in facts.progression_dates)
        if progressed:
            return "later-line", f"progression recorded on line {last.number}: line {last.number + 1} is next"
        if last.number >= 2:
            return "later-line", f"on line {last.number}"
        return "first-line", "on front-line therapy" if last.active else "front-line therapy given, no progression"
    if facts.stage is Stage.LOCALIZED:
        if facts.localized_treatment_completed:
            return "surveillance", f"treatment completed {facts.localized_treatment_completed.isoformat()}"
        return "localized-treatment", "no completed treatment of localized disease recorded"
    return "unknown", "stage unknown: the pathway cannot be placed"


def decision_path(facts: PatientFacts, scope: Scope) -> list[dict[str, Any]]:
    """The four steps of the NANETS pathway and where this patient's facts place them."""
    src = _Sources(facts.sources)
    n = facts.neoplasm
    cond = [n.condition_id] if n and n.condition_id else []
    if n is None:
        return [
            _step("differentiation", "unknown", "na", "no neuroendocrine neoplasm recorded"),
            _step("site", "unknown", "na", "not reached"),
            _step("stage", "unknown", "na", "not reached"),
            _step("course", "unknown", "na", "not reached"),
        ]
    if n.differentiation is Differentiation.UNKNOWN:
        diff = _step("differentiation", "unknown", "gap", "no NET/NEC morphology recorded", cond)
    else:
        value = "NET" if n.differentiation is Differentiation.NET else "NEC"
        detail = {
            Differentiation.NET: f"grade {facts.grade.value}",
            Differentiation.NEC: "small- or large-cell carcinoma",
            Differentiation.MINEN: "MiNEN, managed as NEC",
        }[n.differentiation]
        if facts.ki67_percent is not None:
            detail += f", Ki-67 {facts.ki67_percent:g}%"
        if n.morphology:
            detail += f", morphology {n.morphology}"
        if n.certainty.value != "confirmed":
            detail += f" ({n.certainty.value})"
        diff = _step("differentiation", value, "known", detail.lstrip(", "), src.take("differentiation", *cond))
    site_refs = src.take("site", *cond)
    if n.site.is_gastrointestinal:
        site = _step("site", "GEP", "known", n.site.value, site_refs)
    elif n.site.is_gynecologic:
        site = _step("site", "gynecologic", "known", n.site.value, site_refs)
    elif n.site is SiteGroup.NOT_RECORDED:
        site = _step("site", "unknown", "gap", "no primary site recorded", site_refs)
    elif n.site is SiteGroup.UNKNOWN_PRIMARY:
        site = _step("site", "unknown", "known", "recorded as unknown primary", site_refs)
    else:
        site = _step("site", "unknown", "known", "recorded outside the GEP and gynecologic sites", site_refs)
    stage_refs = src.take("stage")
    if facts.stage is Stage.UNKNOWN:
        stage = _step("stage", "unknown", "gap", "no metastasis, M category or FIGO stage recorded", stage_refs)
    else:
        sites = ", ".join(sorted(s.value for s in facts.metastatic_sites))
        if facts.stage is Stage.METASTATIC:
            detail = f"metastases: {sites}" if sites else "distant metastases recorded"
        else:
            detail = "no distant metastases recorded"
        if facts.figo_stage:
            detail += f", FIGO {facts.figo_stage}"
        stage = _step("stage", facts.stage.value, "known", detail, stage_refs)
    value, detail = _course(facts)
    if scope is Scope.LOW_GRADE:
        course = _step("course", "unknown", "na", "G1/G2 NET: outside this guideline")
    else:
        course = _step("course", value, "gap" if value == "unknown" else "known", detail, src.take("lines"))
    return [diff, site, stage, course]


# ---------------------------------------------------------------- decisions


def _answers(decision: Decision) -> list[dict[str, Any]]:
    out = []
    for name, answer in decision.answers.items():
        question = PREDICATES[name].question if name in PREDICATES else name
        out.append({"name": name, "question": question, "answer": {True: "yes", False: "no", None: "unknown"}[answer]})
    return out


@cache
def _level_words(level: str) -> str:
    return level_words(level)


def _decision(decision: Decision, cards_by_topic: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    rec = decision.rec
    card = cards_by_topic.get(rec.id)
    return {
        "id": rec.id,
        "summary": (card or {}).get("summary") or rec.summary,
        "statement": rec.statement,
        "section": rec.section,
        "level": rec.level,
        "level_words": _level_words(rec.level),
        "kind": rec.kind,
        "pathway": rec.pathway,
        "indicator": (card or {}).get("indicator", ""),
        "outcome": decision.outcome.value,
        "reason": decision.reason,
        "when": rec.when,
        "answers": _answers(decision),
        "missing": list(decision.missing),
        "order": decision.order.text if decision.order else None,
    }


_ID_SEPARATOR = "\x00"


@dataclass(frozen=True, slots=True)
class RecordInventory:
    """What the explanation needs of a PatientRecord, small enough to keep per cached evaluation.

    The ids of every resource but the Patient, by type in record order, are kept as one compressed
    string (``ids``: zlib of the ids joined by NUL; ``counts``: how many belong to each type), a
    byte or two per resource instead of the resources themselves. ``plain`` holds them as they are
    in the rare record whose ids contain NUL themselves.
    """

    types: dict[str, int]
    counts: tuple[tuple[str, int], ...]
    ids: bytes
    unreadable: tuple[tuple[str, str], ...]
    plain: tuple[tuple[str, tuple[str, ...]], ...] | None = None

    @classmethod
    def of(cls, record: PatientRecord) -> RecordInventory:
        types = record.types()  # in order of each type's first resource
        ids: dict[str, list[str]] = {}
        every_one_has_an_id = True
        for rtype in types:
            if rtype != "Patient":
                resources = record.of_type(rtype)
                if set(map(type, resources)) == {dict}:  # JSON: read the ids without a Python-level loop
                    found = list(map(dict.get, resources, repeat("id")))
                    if set(map(type, found)) != {str}:
                        found = [i for i in found if isinstance(i, str)]
                else:
                    found = [i for r in resources if isinstance(i := r.get("id"), str)]
                every_one_has_an_id = every_one_has_an_id and len(found) == len(resources)
                if found:
                    ids[rtype] = found
        if not every_one_has_an_id:  # types in order of their first resource that has an id
            ids = {}
            for resource in record:
                rtype, rid = resource.get("resourceType"), resource.get("id")
                if rtype != "Patient" and isinstance(rid, str):
                    ids.setdefault(rtype, []).append(rid)
        counts = tuple((t, len(found)) for t, found in ids.items())
        every_id = list(chain.from_iterable(ids.values()))
        joined = _ID_SEPARATOR.join(every_id)
        unreadable = tuple(record.unreadable)
        if joined.count(_ID_SEPARATOR) != max(len(every_id) - 1, 0):  # an id holds the separator itself
            return cls(types, counts, b"", unreadable, tuple((t, tuple(found)) for t, found in ids.items()))
        return cls(types, counts, zlib.compress(joined.encode("utf-8", "surrogatepass"), 1), unreadable)

    def references(self) -> dict[str, list[str]]:
        """``{type: ["Type/id", ...]}`` in record order."""
        if self.plain is not None:
            return {t: [f"{t}/{i}" for i in found] for t, found in self.plain}
        every_id = zlib.decompress(self.ids).decode("utf-8", "surrogatepass").split(_ID_SEPARATOR)
        out: dict[str, list[str]] = {}
        start = 0
        for rtype, count in self.counts:
            out[rtype] = [f"{rtype}/{i}" for i in every_id[start : start + count]]
            start += count
        return out


def record_summary(record: PatientRecord | RecordInventory | None, facts: PatientFacts) -> dict[str, Any]:
    """Which resources were read (by type; Patient only counted) and which were ignored, and why."""
    types: dict[str, int] = {}
    references: dict[str, list[str]] = {}
    unreadable: list[dict[str, str]] = []
    if record is not None:
        inventory = record if isinstance(record, RecordInventory) else RecordInventory.of(record)
        types = dict(sorted(inventory.types.items()))
        references = inventory.references()
        unreadable = [{"key": k, "reason": r} for k, r in inventory.unreadable]
    return {
        "total": sum(types.values()),
        "types": types,
        "references": references,
        "ignored": [{"reference": i.reference, "reason": i.reason} for i in facts.ignored],
        "unreadable": unreadable,
    }


def gaps(evaluation: Evaluation) -> list[dict[str, Any]]:
    """The data gaps (``Evaluation.gaps()``): each missing fact, what would supply it, what it blocks."""
    return [
        {
            "fact": gap.fact,
            "description": gap.description,
            "supply": gap.supply,
            "blocked": [{"id": r.id, "statement": r.statement} for r in recs],
        }
        for gap, recs in evaluation.gaps()
    ]


SCOPE_TEXT = {
    Scope.IN_SCOPE: "The NANETS 2023 G3 NEN consensus applies: a high-grade neuroendocrine neoplasm is recorded.",
    Scope.NO_NEN: "No neuroendocrine neoplasm is recorded: the guideline has nothing to say for this patient.",
    Scope.LOW_GRADE: "The tumor is a G1/G2 well-differentiated NET: the G3 guideline does not apply.",
}


def explanation(
    evaluation: Evaluation,
    record: PatientRecord | RecordInventory | None,
    cards: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The whole explanation of one evaluation (JSON-able, PHI-free) for the cache and the page."""
    facts = evaluation.facts
    by_topic = {
        c["source"]["topic"]["code"]: c
        for c in cards
        if isinstance(c.get("source"), Mapping) and "topic" in c["source"]
    }
    card_rank = {code: i for i, code in enumerate(by_topic)}
    fired = sorted(evaluation.fired, key=lambda d: card_rank.get(d.rec.id, len(card_rank)))
    seen: set[str] = set()
    fired_out = []
    for d in fired:  # an avoid rule may fire once per draft: one entry per recommendation
        if d.rec.id not in seen:
            seen.add(d.rec.id)
            fired_out.append(_decision(d, by_topic))
    return {
        "version": SNAPSHOT_VERSION,
        "hook": evaluation.hook,
        "today": facts.today.isoformat(),
        "scope": evaluation.scope.value,
        "scope_text": SCOPE_TEXT[evaluation.scope],
        "facts": fact_rows(facts),
        "path": decision_path(facts, evaluation.scope),
        "fired": fired_out,
        "silent": [_decision(d, by_topic) for d in evaluation.decisions if d.outcome is Outcome.SILENT],
        "unknown": [_decision(d, by_topic) for d in evaluation.unknown],
        "gaps": gaps(evaluation),
        "record": record_summary(record, facts),
        "cards": [
            {"summary": c.get("summary", ""), "indicator": c.get("indicator", ""), "topic": code}
            for code, c in by_topic.items()
        ],
    }
