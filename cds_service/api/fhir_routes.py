"""The knowledge base published as FHIR R4 (read-only, no PHI, no authentication).

- ``GET /fhir/PlanDefinition/<id>``: one per recommendation, generated from its knowledge entry (CPG-on-FHIR
  style ECA rule: the ``when`` expression and its clinical questions as the applicability condition, the
  ActivityDefinitions it suggests as ``definitionCanonical``). Cards name these in ``instantiatesCanonical``.
- ``GET /fhir/ActivityDefinition/<id>``: the files of ``fhir_profiles/ActivityDefinition``.
- ``GET /fhir/PlanDefinition`` and ``GET /fhir/ActivityDefinition`` (searchset: ``url``, ``_id``, ``name``,
  ``title``, ``title:contains``); ``GET /fhir/ValueSet/<id>`` (and search); ``GET /fhir/CodeSystem/<id>``
  for the guideline code system (every recommendation id plus the project's data-gap, scope and
  data-quality codes); ``GET /fhir/metadata``.

Nothing here is hand-written per recommendation: change the knowledge entry and the resource follows.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterable
from datetime import date
from functools import cache
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from cds_service.api.errors import NotFound
from cds_service.facts.valuesets import VALUESET_DIR, registry
from cds_service.guideline import GUIDELINE_DOI_URL, GUIDELINE_SYSTEM
from cds_service.guideline.evaluate import parameters
from cds_service.guideline.knowledge import Offer, Recommendation, knowledge
from cds_service.guideline.logic import PREDICATES
from cds_service.rendering.activities import activities
from cds_service.rendering.cards import templates
from cds_service.settings import Settings

FHIR_MIME = "application/fhir+json"
FHIR_VERSION = "4.0.1"
PUBLISHER = "NEN CDS project"
CODESYSTEM_ID = GUIDELINE_SYSTEM.rsplit("/", 1)[-1]  # nanets-g3-recommendation
CONSENSUS_LEVEL_EXTENSION = "https://nen-cds.org/fhir/StructureDefinition/consensus-level"
CONSENSUS_LEVEL_SYSTEM = "https://nen-cds.org/fhir/CodeSystem/consensus-level"
WHEN_LANGUAGE = "text/x-nen-when"  # predicate names joined by and / or / not (cds_service.guideline.expression)
PLAN_TYPE = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/plan-definition-type",
            "code": "eca-rule",
            "display": "ECA Rule",
        }
    ]
}
USAGE_CONTEXT_TYPE = "http://terminology.hl7.org/CodeSystem/usage-context-type"
CITATION = (
    "Eads JR, Halfdanarson TR, Asmis T, et al. Expert consensus practice recommendations of the North American "
    "Neuroendocrine Tumor Society for the management of high grade gastroenteropancreatic and gynecologic "
    "neuroendocrine neoplasms. Endocr Relat Cancer. 2023;30(8):e220206. doi:10.1530/ERC-22-0206"
)
POPULATIONS = {
    "NET": "Well-differentiated G3 neuroendocrine tumor (NET)",
    "NEC": "Poorly differentiated neuroendocrine carcinoma (NEC), including MiNEN with a NEC component",
    "G3": "High-grade (G3) neuroendocrine neoplasm: G3 NET or NEC",
}
SETTINGS_WORDS = {
    "diagnosis": "At diagnosis (initial assessment)",
    "localized": "Localized disease",
    "metastatic": "Metastatic disease",
    "surveillance": "Surveillance after treatment of localized disease",
    "any": "Any setting",
}
LEVEL_DISPLAY = {
    "consensus": "Consensus (no more than one panelist disagreeing)",
    "majority": "Majority (at least 75% of voting panelists agreeing)",
    "lack-of-consensus": "Lack of consensus (less than 75% agreeing)",
    "panel": "Panel statement (stated by the panel without a vote)",
}

bp = Blueprint("fhir", __name__, url_prefix="/fhir")


# ---------------------------------------------------------------- helpers


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def fhir_base() -> str:
    """``<service base>/fhir``: the same base the cards use for instantiatesCanonical."""
    base = (_settings().cds_public_base_url or request.host_url).rstrip("/")
    return f"{base}/fhir"


def _fhir(resource: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(resource)
    response.status_code = status
    response.mimetype = FHIR_MIME
    return response


def computable_name(identifier: str) -> str:
    """``path.ki67-required`` -> ``PathKi67Required`` (FHIR ``name``: a computer-friendly name)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", identifier) if part)


def when_predicates(when: str) -> list[str]:
    """The predicate names a ``when`` expression uses, in order of first appearance."""
    names: list[str] = []
    for node in ast.walk(ast.parse(when, mode="eval")):
        if isinstance(node, ast.Name) and node.id not in names:
            names.append(node.id)
    return sorted(names, key=when.index)


def _questions(rec: Recommendation) -> str:
    lines = []
    for name in when_predicates(rec.when):
        pred = PREDICATES[name]
        needs = f" (unknown without: {', '.join(pred.needs)})" if pred.needs else ""
        lines.append(f"{name}: {pred.question}{needs}")
    return "\n".join(lines)


def _title(rec: Recommendation) -> str:
    if len(rec.statement) <= 120:
        return rec.statement
    if "{" not in rec.summary:
        return rec.summary
    return rec.statement[:117].rstrip() + "..."


RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


# ---------------------------------------------------------------- PlanDefinition


def _activity_action(activity_id: str) -> dict[str, Any]:
    ad = activities()[activity_id]
    action: dict[str, Any] = {"title": ad.get("title", activity_id), "definitionCanonical": ad["url"]}
    if ad.get("description"):
        action["description"] = ad["description"]
    return action


def _offer_action(offer: Offer) -> dict[str, Any]:
    if len(offer.activities) == 1:
        action = _activity_action(offer.activities[0])
        action["title"] = offer.label
        return action
    return {
        "title": offer.label,
        "groupingBehavior": "logical-group",
        "selectionBehavior": "all",
        "action": [_activity_action(a) for a in offer.activities],
    }


def _triggers(rec: Recommendation) -> list[dict[str, Any]]:
    hooks = ("order-select", "order-sign") if rec.is_avoid else ("patient-view",)
    return [{"type": "named-event", "name": hook} for hook in hooks]


def _order_inputs(rec: Recommendation) -> list[dict[str, Any]]:
    """The draft orders an avoid rule checks, as data requirements on the value sets it matches."""
    values = registry()
    inputs = []
    for concept in sorted(rec.orders):
        vs = values[concept]
        is_drug = any(system == RXNORM for system, _ in vs.codes) or f"med-{concept}" in activities()
        inputs.append(
            {
                "type": "MedicationRequest" if is_drug else "ServiceRequest",
                "codeFilter": [{"path": "medication" if is_drug else "code", "valueSet": vs.url}],
            }
        )
    return inputs


_PLACEHOLDERS = {
    "{due}": "the due date",
    "{last}": "the last study",
    "{start}": "the start date",
    "{months}": "N",
    "{order}": "the draft order",
}


def _generic(text: str) -> str:
    """Card wording with its per-patient placeholders replaced by neutral words."""
    for placeholder, words in _PLACEHOLDERS.items():
        text = text.replace(placeholder, words)
    return text


def plan_definition(rec: Recommendation, base: str) -> dict[str, Any]:
    """The recommendation as a CPG-style ECA-rule PlanDefinition (generated, never hand-written)."""
    level = rec.level
    condition = {
        "kind": "applicability",
        "expression": {
            "description": _questions(rec),
            "language": WHEN_LANGUAGE,
            "expression": rec.when,
        },
    }
    action: dict[str, Any] = {
        "title": _generic(rec.summary),
        "description": rec.statement,
        "textEquivalent": _generic(rec.detail),
        "code": [{"coding": [{"system": GUIDELINE_SYSTEM, "code": rec.id}]}],
        "trigger": _triggers(rec),
        "condition": [condition],
    }
    if rec.is_avoid:
        action["input"] = _order_inputs(rec)
    offers = rec.alternatives if rec.is_avoid else rec.offers
    if offers:
        action["selectionBehavior"] = "at-most-one" if rec.is_avoid else rec.selection
        action["action"] = [_offer_action(o) for o in offers]
    if rec.kind == "schedule":
        spec = parameters()["schedules"][rec.schedule or rec.id]
        action["documentation"] = [{"type": "documentation", "display": f"Interval: {spec['reference']}"}]
    return {
        "resourceType": "PlanDefinition",
        "id": rec.id,
        "extension": [
            {
                "url": CONSENSUS_LEVEL_EXTENSION,
                "valueCodeableConcept": {
                    "coding": [{"system": CONSENSUS_LEVEL_SYSTEM, "code": level, "display": LEVEL_DISPLAY[level]}],
                    "text": templates()["levels"][level],
                },
            }
        ],
        "url": f"{base}/PlanDefinition/{rec.id}",
        "identifier": [{"system": GUIDELINE_SYSTEM, "value": rec.id}],
        "name": computable_name(rec.id),
        "title": _title(rec),
        "type": PLAN_TYPE,
        "status": "active",
        "experimental": False,
        "publisher": PUBLISHER,
        "description": rec.statement,
        "useContext": [
            {
                "code": {"system": USAGE_CONTEXT_TYPE, "code": "focus"},
                "valueCodeableConcept": {"text": POPULATIONS.get(rec.population, rec.population)},
            },
            {
                "code": {"system": USAGE_CONTEXT_TYPE, "code": "workflow"},
                "valueCodeableConcept": {"text": SETTINGS_WORDS.get(rec.setting, rec.setting)},
            },
            {
                "code": {"system": USAGE_CONTEXT_TYPE, "code": "program"},
                "valueCodeableConcept": {
                    "coding": [{"system": CONSENSUS_LEVEL_SYSTEM, "code": level, "display": LEVEL_DISPLAY[level]}],
                    "text": f"NANETS consensus level: {templates()['level_short'][level]}",
                },
            },
        ],
        "topic": [{"coding": [{"system": GUIDELINE_SYSTEM, "code": rec.id}], "text": rec.section}],
        "relatedArtifact": [
            {
                "type": "citation",
                "label": rec.section,
                "display": f"NANETS 2023 high-grade NEN consensus, section: {rec.section}",
                "citation": CITATION,
                "url": GUIDELINE_DOI_URL,
            }
        ],
        "action": [action],
    }


# ---------------------------------------------------------------- CodeSystem


def _gap_facts() -> list[str]:
    facts: set[str] = set()
    for pred in PREDICATES.predicates.values():
        facts.update(pred.needs)
    for spec in parameters()["schedules"].values():
        facts.add(str(spec["clock"]).replace("_", "-"))
    return sorted(facts)


def code_system() -> dict[str, Any]:
    """Every recommendation id, plus the project's own codes that cards use as topics."""
    t = templates()
    concepts: list[dict[str, Any]] = []
    for rec in knowledge().values():
        concepts.append(
            {
                "code": rec.id,
                "display": _title(rec),
                "definition": rec.statement,
                "property": [
                    {"code": "level", "valueCode": rec.level},
                    {"code": "kind", "valueCode": rec.kind},
                    {"code": "population", "valueCode": rec.population},
                    {"code": "setting", "valueCode": rec.setting},
                    {"code": "section", "valueString": rec.section},
                ],
            }
        )
    prefix = t["gap"]["topic_prefix"]
    for fact in _gap_facts():
        concepts.append(
            {
                "code": prefix + fact,
                "display": f"Missing data: {fact.replace('-', ' ')}",
                "definition": f"A decision needs '{fact}', which the patient's record does not hold (data gap).",
            }
        )
    concepts.append(
        {
            "code": t["unreadable"]["topic"],
            "display": "Some patient data could not be read",
            "definition": "Part of the patient's record could not be read; guidance may be incomplete.",
        }
    )
    concepts.append(
        {
            "code": t["ignored"]["topic"],
            "display": "FHIR resources ignored as unreadable or invalid",
            "definition": "Resources that do not validate or say nothing the guideline needs were not used.",
        }
    )
    concepts.append(
        {
            "code": t["scope"]["topic"],
            "display": "The guideline does not apply to this patient",
            "definition": "A G1/G2 well-differentiated NET: the NANETS G3 consensus does not apply",
        }
    )
    return {
        "resourceType": "CodeSystem",
        "id": CODESYSTEM_ID,
        "url": GUIDELINE_SYSTEM,
        "name": "NanetsG3Recommendation",
        "title": "NANETS 2023 high-grade NEN recommendations and the service's own card topics",
        "status": "active",
        "experimental": False,
        "publisher": PUBLISHER,
        "description": (
            "Codes of card topics (source.topic) and meta.tag of suggested resources: each recommendation's "
            "catalog id, plus data-gap.*, data-quality.* and scope.* codes of the service. "
            f"Source: {GUIDELINE_DOI_URL}"
        ),
        "caseSensitive": True,
        "content": "complete",
        "count": len(concepts),
        "property": [
            {"code": "level", "type": "code", "description": "consensus | majority | lack-of-consensus | panel"},
            {"code": "kind", "type": "code", "description": "order | regimen | info | avoid | schedule"},
            {"code": "population", "type": "code", "description": "NET | NEC | G3"},
            {
                "code": "setting",
                "type": "code",
                "description": "diagnosis | localized | metastatic | surveillance | any",
            },
            {"code": "section", "type": "string", "description": "Section of the guideline text"},
        ],
        "concept": concepts,
    }


# ---------------------------------------------------------------- ValueSet files


@cache
def _valueset_files() -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(VALUESET_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        found[data["id"]] = data
    return found


# ---------------------------------------------------------------- search


def _matches(resource: dict[str, Any]) -> bool:
    args = request.args
    if "_id" in args and resource.get("id") not in args["_id"].split(","):
        return False
    if "url" in args and resource.get("url") != args["url"].split("|", 1)[0]:
        return False
    # FHIR string search: case-insensitive, starts with
    if "name" in args and not str(resource.get("name", "")).lower().startswith(args["name"].lower()):
        return False
    if "title" in args and not str(resource.get("title", "")).lower().startswith(args["title"].lower()):
        return False
    if "title:contains" in args and args["title:contains"].lower() not in str(resource.get("title", "")).lower():
        return False
    return not ("status" in args and resource.get("status") != args["status"])


def _searchset(resource_type: str, resources: Iterable[dict[str, Any]]) -> dict[str, Any]:
    base = fhir_base()
    hits = [r for r in resources if _matches(r)]
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(hits),
        "link": [{"relation": "self", "url": request.url}],
        "entry": [
            {"fullUrl": f"{base}/{resource_type}/{r['id']}", "resource": r, "search": {"mode": "match"}} for r in hits
        ],
    }


def _read(resources: Callable[[], dict[str, dict[str, Any]]], resource_type: str, rid: str) -> Response:
    found = resources().get(rid)
    if found is None:
        raise NotFound(f"{resource_type}/{rid} is not known to this service")
    return _fhir(found)


def _plan_definitions() -> dict[str, dict[str, Any]]:
    base = fhir_base()
    return {rid: plan_definition(rec, base) for rid, rec in knowledge().items()}


# ---------------------------------------------------------------- routes


@bp.get("/metadata")
def metadata():
    return _fhir(capability_statement(fhir_base()))


@bp.get("/PlanDefinition")
def search_plan_definitions():
    return _fhir(_searchset("PlanDefinition", _plan_definitions().values()))


@bp.get("/PlanDefinition/<rid>")
def read_plan_definition(rid: str):
    rec = knowledge().get(rid)
    if rec is None:
        raise NotFound(f"PlanDefinition/{rid} is not known to this service")
    return _fhir(plan_definition(rec, fhir_base()))


@bp.get("/ActivityDefinition")
def search_activity_definitions():
    return _fhir(_searchset("ActivityDefinition", activities().values()))


@bp.get("/ActivityDefinition/<rid>")
def read_activity_definition(rid: str):
    return _read(activities, "ActivityDefinition", rid)


@bp.get("/CodeSystem")
def search_code_systems():
    return _fhir(_searchset("CodeSystem", [code_system()]))


@bp.get("/CodeSystem/<rid>")
def read_code_system(rid: str):
    return _read(lambda: {CODESYSTEM_ID: code_system()}, "CodeSystem", rid)


@bp.get("/ValueSet")
def search_value_sets():
    return _fhir(_searchset("ValueSet", _valueset_files().values()))


@bp.get("/ValueSet/<rid>")
def read_value_set(rid: str):
    return _read(_valueset_files, "ValueSet", rid)


def capability_statement(base: str) -> dict[str, Any]:
    search = [
        {"name": "_id", "type": "token"},
        {"name": "url", "type": "uri"},
        {"name": "name", "type": "string"},
        {"name": "title", "type": "string", "documentation": "also title:contains"},
        {"name": "status", "type": "token"},
    ]

    def resource(rtype: str, profile_doc: str) -> dict[str, Any]:
        return {
            "type": rtype,
            "documentation": profile_doc,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": search,
        }

    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date.today().isoformat(),
        "publisher": PUBLISHER,
        "kind": "instance",
        "software": {"name": "nen-cds (NANETS 2023 high-grade NEN CDS Hooks service)"},
        "implementation": {
            "description": "Read-only knowledge artifacts of the NANETS G3 NEN CDS service (no patient data)",
            "url": base,
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "No authentication: knowledge only, no PHI.",
                "resource": [
                    resource("PlanDefinition", "One ECA-rule PlanDefinition per recommendation (id = catalog id)"),
                    resource("ActivityDefinition", "Orders the cards suggest (ServiceRequest / MedicationRequest)"),
                    resource("CodeSystem", "The guideline code system of card topics"),
                    resource("ValueSet", "Value sets the service recognises input and draft orders with"),
                ],
            }
        ],
    }


def init_app(app: Flask, settings: Settings) -> None:
    app.register_blueprint(bp)
