"""The knowledge base: one YAML entry per recommendation, in ``knowledge/NN-chapter.yaml``.

An entry states, exactly once, the recommendation's id, section, consensus level, population,
setting, kind and statement (as the catalog and the guideline text give them), the ``when``
expression over named predicates, and what the card offers. Everything else (cards, the
published PlanDefinitions, the explanation page, the docs) is generated from these entries.

Entry fields (see ``knowledge/README.md`` for a worked example):

  id, section, level, population, setting, kind, statement   -- provenance (catalog fields)
  when        predicate expression; for avoid entries it is checked per matching draft order
  orders      avoid only: value-set concept names a draft must match to be checked
  indicator   avoid only: "info" for a soft note (lack of consensus)
  summary     card summary (< 140 characters)
  detail      Markdown rationale and key evidence from the guideline text
  offers      list of suggestions; each {label, activities: [ActivityDefinition ids]} and optionally
              unless: a predicate expression; when it is true for the patient the suggestion is left
              out (e.g. a regimen already given); a card whose every suggestion is left out is silent
  alternatives  avoid only: suggestions that replace the draft ({label, activities})
  pathway     diagnosis | treatment | surveillance (card order)
  supplies    facts this card itself asks for (e.g. ki67): their data-gap cards fold into it
  done_when   value-set concept names: a study/order of that kind already done or ordered
              means the card is not shown (alert hygiene); on an avoid entry it drops the
              alternatives instead (no second SSTR-PET offered after one on record)
  schedule    schedule only: name of the schedule in parameters.yaml (default: the id); on an
              avoid entry, "current-interval" words the card with the running Table 2/3 interval
              (last study, next due date: the premature-repeat imaging check)
  selection   "at-most-one" (default: alternatives that exclude each other) or "any"
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from cds_service.guideline.expression import Evaluator, compile_when
from cds_service.guideline.logic import PREDICATES, PredicateRegistry

KNOWLEDGE_DIR = Path(__file__).resolve().parent / "knowledge"
LEVELS = ("consensus", "majority", "lack-of-consensus", "panel")
KINDS = ("order", "regimen", "info", "avoid", "schedule")
PATHWAYS = ("diagnosis", "treatment", "surveillance")


@dataclass(frozen=True)
class Offer:
    label: str
    activities: tuple[str, ...]  # ActivityDefinition ids in fhir_profiles/ActivityDefinition/
    unless: str = ""  # predicate expression: the offer is left out when it is true
    unless_evaluator: Evaluator | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Recommendation:
    id: str
    section: str
    level: str
    population: str
    setting: str
    kind: str
    statement: str
    when: str
    evaluator: Evaluator
    summary: str
    detail: str
    pathway: str
    offers: tuple[Offer, ...] = ()
    alternatives: tuple[Offer, ...] = ()
    orders: frozenset[str] = frozenset()
    indicator: str | None = None
    supplies: frozenset[str] = frozenset()
    done_when: frozenset[str] = frozenset()
    schedule: str | None = None
    selection: str = "at-most-one"  # selectionBehavior when the card has several suggestions
    chapter: str = ""

    @property
    def is_avoid(self) -> bool:
        return self.kind == "avoid"


def _offers(raw: Iterable[Any] | None, where: str, registry: PredicateRegistry | None = None) -> tuple[Offer, ...]:
    offers = []
    for item in raw or []:
        if not isinstance(item, dict) or not item.get("activities"):
            raise ValueError(f"{where}: each offer needs a label and activities")
        unless = " ".join(str(item.get("unless") or "").split())
        evaluator = compile_when(unless, registry) if unless and registry is not None else None
        offers.append(Offer(str(item.get("label", "")), tuple(item["activities"]), unless, evaluator))
    return tuple(offers)


def _entry(raw: dict[str, Any], chapter: str, registry: PredicateRegistry) -> Recommendation:
    where = f"{chapter}:{raw.get('id')}"
    for key in (
        "id",
        "section",
        "level",
        "population",
        "setting",
        "kind",
        "statement",
        "when",
        "summary",
        "detail",
        "pathway",
    ):
        if not raw.get(key):
            raise ValueError(f"{where}: missing {key}")
    if raw["level"] not in LEVELS or raw["kind"] not in KINDS or raw["pathway"] not in PATHWAYS:
        raise ValueError(f"{where}: level/kind/pathway not one of {LEVELS}/{KINDS}/{PATHWAYS}")
    if len(raw["summary"]) >= 140:
        raise ValueError(f"{where}: summary must be under 140 characters")
    if raw.get("selection", "at-most-one") not in ("at-most-one", "any"):
        raise ValueError(f"{where}: selection must be at-most-one or any")
    if raw["kind"] == "avoid" and not raw.get("orders"):
        raise ValueError(f"{where}: an avoid entry names the orders it checks")
    return Recommendation(
        id=raw["id"],
        section=raw["section"],
        level=raw["level"],
        population=raw["population"],
        setting=raw["setting"],
        kind=raw["kind"],
        statement=" ".join(str(raw["statement"]).split()),
        when=" ".join(str(raw["when"]).split()),
        evaluator=compile_when(str(raw["when"]), registry),
        summary=raw["summary"],
        detail=str(raw["detail"]).strip(),
        pathway=raw["pathway"],
        offers=_offers(raw.get("offers"), where, registry),
        alternatives=_offers(raw.get("alternatives"), where),
        orders=frozenset(raw.get("orders") or ()),
        indicator=raw.get("indicator"),
        supplies=frozenset(raw.get("supplies") or ()),
        done_when=frozenset(raw.get("done_when") or ()),
        schedule=raw.get("schedule"),
        selection=raw.get("selection", "at-most-one"),
        chapter=chapter,
    )


def load_knowledge(
    directory: Path = KNOWLEDGE_DIR, registry: PredicateRegistry = PREDICATES
) -> dict[str, Recommendation]:
    _import_predicate_modules()

    entries: dict[str, Recommendation] = {}
    for path in sorted(directory.glob("*.yaml")):
        for raw in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            rec = _entry(raw, path.stem, registry)
            if rec.id in entries:
                raise ValueError(f"recommendation {rec.id} defined twice ({path.name})")
            entries[rec.id] = rec
    return entries


def _import_predicate_modules() -> None:
    """Register every predicate: modules named ``*predicates.py`` in this package."""
    import importlib

    for path in sorted(Path(__file__).resolve().parent.glob("*predicates.py")):
        importlib.import_module(f"cds_service.guideline.{path.stem}")


@cache
def knowledge() -> dict[str, Recommendation]:
    """All recommendations, loaded and checked once per process."""
    return load_knowledge()
