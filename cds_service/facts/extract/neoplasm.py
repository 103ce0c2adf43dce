"""The neoplasm: which Condition is the NEN, its differentiation, certainty and primary site.

INPUTS.md rows 'The neoplasm', 'Differentiation: NET / NEC', 'MiNEN', 'Differentiation unknown',
'Primary site'. Histology comes from the first present of: the mCODE histology-morphology-behavior
extension, an Observation LOINC 31206-6 (linked by ``focus``, or the only cancer on record), the
Condition's own code. ICD-10-CM ``C7A.*`` / ``C7B.*`` make a Condition a NEN by themselves
(``C7A.0x`` NET, ``C7A.1`` NEC, ``C7A.8`` / ``C7B.*`` differentiation unknown); ``C25.4`` only
with a NEN morphology. Among several NEN Conditions: primary before secondary, confirmed before
suspected, then the most recent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cds_service.facts.extract import fhir
from cds_service.facts.extract.context import Context, Item, latest
from cds_service.facts.model import Certainty, Differentiation, Neoplasm, SiteGroup
from cds_service.facts.valuesets import ICDO3, normalise_system

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
HISTOLOGY_EXT = MCODE + "mcode-histology-morphology-behavior"
RELATED_CONDITION_EXT = MCODE + "mcode-related-condition"
PRIMARY_PROFILE = MCODE + "mcode-primary-cancer-condition"
SECONDARY_PROFILE = MCODE + "mcode-secondary-cancer-condition"

# value-set concept name -> what it means here (the codes are in fhir_profiles/ValueSet)
_MORPHOLOGY = (
    ("morphology-minen", Differentiation.MINEN),
    ("morphology-nec", Differentiation.NEC),
    ("morphology-net", Differentiation.NET),
)
_ICD10_DIFFERENTIATION = (
    ("icd10-nen-nec", Differentiation.NEC),
    ("icd10-nen-net", Differentiation.NET),
    ("icd10-nen-unspecified", Differentiation.UNKNOWN),
)
SITE_GROUPS = (
    ("site-appendix", SiteGroup.APPENDIX),
    ("site-pancreas", SiteGroup.PANCREAS),
    ("site-small-bowel", SiteGroup.SMALL_BOWEL),
    ("site-colorectal", SiteGroup.COLORECTAL),
    ("site-stomach", SiteGroup.STOMACH),
    ("site-esophagus", SiteGroup.ESOPHAGUS),
    ("site-cervix", SiteGroup.CERVIX),
    ("site-uterus", SiteGroup.UTERUS),
    ("site-ovary", SiteGroup.OVARY),
    ("site-vulva-vagina", SiteGroup.VULVA_VAGINA),
    ("site-unknown-primary", SiteGroup.UNKNOWN_PRIMARY),
)
_SITE_NAMES = tuple(n for n, _ in SITE_GROUPS)
# codes that name no primary site although they are cancer codes
_SITELESS = ("icd10-nen-nec", "icd10-nen-unspecified", "site-gi-unspecified", "secondary-cancer")
_CANCER = ("morphology-nen", "icd10-nen", "malignant-neoplasm", "endocrine-pancreas", "secondary-cancer")


@dataclass
class Candidate:
    item: Item
    histology: Mapping[str, Any] | None  # the CodeableConcept that gave the histology
    histology_from: str  # "extension" | "Observation/..." | "code" | ""
    differentiation: Differentiation | None  # None: not a NEN
    decided_by: str | None  # the code that decided differentiation
    secondary: bool
    cancer: bool

    @property
    def nen(self) -> bool:
        return self.differentiation is not None

    @property
    def confirmed(self) -> bool:
        return not self.item.suspected

    @property
    def when(self) -> date | None:
        return onset(self.item.resource)


@dataclass
class NeoplasmResult:
    neoplasm: Neoplasm | None = None
    chosen: Candidate | None = None
    nen_refs: frozenset[str] = frozenset()  # every NEN Condition (primary or secondary)
    other_cancers: tuple[str, ...] = ()
    secondaries: list[Candidate] = field(default_factory=list)  # secondary cancer Conditions (any)


def onset(resource: Mapping[str, Any]) -> date | None:
    start, _ = fhir.dated(resource, "onset")
    return start or fhir.parse_date(resource.get("recordedDate"))


def extract_neoplasm(ctx: Context) -> NeoplasmResult:
    conditions = ctx.type("Condition")
    if not conditions:
        return NeoplasmResult()
    linked, unlinked = _histology_observations(ctx)
    candidates = [_candidate(ctx, item, linked) for item in conditions]
    primaries_without = [c for c in candidates if c.cancer and not c.secondary and c.histology_from != "extension"]
    if unlinked is not None and len(primaries_without) == 1:
        _apply_histology(ctx, primaries_without[0], unlinked)
    result = NeoplasmResult(secondaries=[c for c in candidates if c.secondary])
    nens = [c for c in candidates if c.nen]
    result.nen_refs = frozenset(c.item.ref for c in nens)
    if not nens:
        result.other_cancers = tuple(c.item.ref for c in candidates if c.cancer and not c.secondary)
        return result
    chosen = max(nens, key=lambda c: (not c.secondary, c.confirmed, c.when or date.min, c.item.order))
    result.chosen = chosen
    differentiation, decided_by, decided_ref = chosen.differentiation, chosen.decided_by, chosen.item.ref
    if differentiation is Differentiation.UNKNOWN:  # e.g. C7A.8 primary with a biopsied metastasis
        for other in sorted(nens, key=lambda c: (c.confirmed, c.when or date.min, c.item.order), reverse=True):
            if other is not chosen and other.histology_from and other.differentiation is not Differentiation.UNKNOWN:
                differentiation, decided_by, decided_ref = other.differentiation, other.decided_by, other.item.ref
                break
    site, site_code, site_refs = _site(ctx, chosen, candidates)
    used = {chosen.item.ref, *site_refs}
    result.other_cancers = tuple(
        c.item.ref for c in candidates if c.cancer and not c.nen and not c.secondary and c.item.ref not in used
    )
    resource = chosen.item.resource
    result.neoplasm = Neoplasm(
        condition_id=chosen.item.ref,
        differentiation=differentiation or Differentiation.UNKNOWN,
        morphology=decided_by,
        certainty=Certainty.SUSPECTED if chosen.item.suspected else Certainty.CONFIRMED,
        site=site,
        site_code=site_code,
        pancreas_body_or_tail=bool(site_code) and site is SiteGroup.PANCREAS and _body_tail(ctx, site_code),
        diagnosed_on=onset(resource),
        display=fhir.display(resource.get("code")),
    )
    ctx.source("neoplasm", chosen.item.ref)
    ctx.source("differentiation", decided_ref if differentiation is not Differentiation.UNKNOWN else "")
    if chosen.histology_from.startswith("Observation/") and decided_ref == chosen.item.ref:
        ctx.source("differentiation", chosen.histology_from)
    ctx.source("primary-site", *site_refs)
    return result


def _histology_observations(ctx: Context) -> tuple[dict[str, Item], Item | None]:
    """31206-6 Observations: the latest per focused Condition, and the latest unlinked one."""
    linked: dict[str, list[Item]] = {}
    unlinked: list[Item] = []
    for item in ctx.of("histology-observation", types=("Observation",)):
        if not isinstance(item.resource.get("valueCodeableConcept"), Mapping):
            continue
        focus = [fhir.ref_key(fhir.reference(f)) for f in fhir.as_list(item.resource.get("focus"))]
        focus = [f for f in focus if f.startswith("Condition/")]
        if focus:
            for f in focus:
                linked.setdefault(f, []).append(item)
        else:
            unlinked.append(item)
    return {k: latest(v) for k, v in linked.items()}, latest(unlinked)  # type: ignore[misc]


def _candidate(ctx: Context, item: Item, linked: dict[str, Item]) -> Candidate:
    resource = item.resource
    histology, source = None, ""
    for ext in fhir.extensions(resource, HISTOLOGY_EXT):
        if isinstance(ext.get("valueCodeableConcept"), Mapping):
            histology, source = ext["valueCodeableConcept"], "extension"
            break
    obs = linked.get(item.ref) if histology is None else None
    if obs is not None:
        histology, source = obs.resource["valueCodeableConcept"], obs.ref
    code = resource.get("code")
    code_names = ctx.index.names_for_concept(code)
    secondary = "secondary-cancer" in code_names or SECONDARY_PROFILE in fhir.profiles(resource)
    cancer = (
        bool(code_names.intersection(_CANCER) or histology is not None or PRIMARY_PROFILE in fhir.profiles(resource))
        or secondary
    )
    cand = Candidate(item, histology, source, None, None, secondary, cancer)
    _decide(ctx, cand, code, code_names)
    return cand


def _apply_histology(ctx: Context, cand: Candidate, obs: Item) -> None:
    cand.histology, cand.histology_from = obs.resource["valueCodeableConcept"], obs.ref
    code = cand.item.resource.get("code")
    _decide(ctx, cand, code, ctx.index.names_for_concept(code))


def _decide(ctx: Context, cand: Candidate, code: Any, code_names: frozenset[str]) -> None:
    """Differentiation from the first present histology, else the ICD-10-CM code; None: not a NEN."""
    cand.differentiation, cand.decided_by = None, None
    sources = [(cand.histology, ctx.index.names_for_concept(cand.histology))] if cand.histology is not None else []
    if cand.histology is None or cand.histology_from != "code":
        sources.append((code, code_names))  # Condition.code may itself be a morphology
    for concept, names in sources:
        for name, differentiation in _MORPHOLOGY:
            if name in names:
                cand.differentiation, cand.decided_by = differentiation, _code_in(ctx, name, concept)
                if cand.decided_by and cand.decided_by.endswith("/6"):
                    cand.secondary = True
                if concept is code and cand.histology is None:
                    cand.histology_from = "code"
                cand.cancer = True
                return
        if concept is cand.histology and cand.histology is not None:
            break  # the first present histology is not a NEN morphology: only ICD-10-CM can still say NEN
    for name, differentiation in _ICD10_DIFFERENTIATION:
        if name in code_names:
            cand.differentiation = differentiation
            cand.decided_by = _code_in(ctx, name, code) if differentiation is not Differentiation.UNKNOWN else None
            cand.cancer = True
            return


def _code_in(ctx: Context, name: str, cc: Any) -> str | None:
    for coding in fhir.codings(cc):
        if name in ctx.index.names_for_coding(coding):
            return fhir.code_of(coding)
    return None


def _site(ctx: Context, chosen: Candidate, candidates: list[Candidate]) -> tuple[SiteGroup, str | None, list[str]]:
    """(group, code read, source references). bodySite first, then the ICD-10-CM code."""
    ref = chosen.item.ref
    if not chosen.secondary:  # a metastasis' bodySite / code names where the metastasis is, not the primary
        resource = chosen.item.resource
        for body in fhir.as_list(resource.get("bodySite")):
            found = site_of_concept(ctx, body, body_site=True)
            if found is not None:
                return found[0], found[1], [ref]
        found = site_of_concept(ctx, resource.get("code"), body_site=False)
        if found is not None:
            return found[0], found[1], [ref]
    # a separate 'endocrine pancreas' (C25.4) or 'unknown primary' Condition describes the same tumor
    for name, group in (
        ("endocrine-pancreas", SiteGroup.PANCREAS),
        ("site-unknown-primary", SiteGroup.UNKNOWN_PRIMARY),
    ):
        hits = [
            c for c in candidates if not c.nen and not c.secondary and ctx.in_set(name, c.item.resource.get("code"))
        ]
        if len(hits) == 1:
            return group, _code_in(ctx, name, hits[0].item.resource.get("code")), [hits[0].item.ref]
    return SiteGroup.NOT_RECORDED, None, []


def site_of_concept(ctx: Context, cc: Any, *, body_site: bool) -> tuple[SiteGroup, str | None] | None:
    if not isinstance(cc, Mapping):
        return None
    names = ctx.index.names_for_concept(cc)
    for name, group in SITE_GROUPS:
        if name in names:
            return group, _code_in(ctx, name, cc)
    if names.intersection(_SITELESS):
        return None
    if body_site:
        for coding in fhir.codings(cc):
            if normalise_system(coding.get("system") if isinstance(coding.get("system"), str) else None) == ICDO3:
                code = fhir.code_of(coding)
                if code[:1].upper() == "C":  # an ICD-O-3 topography outside the guideline's sites
                    return SiteGroup.OTHER, code
        matched = ctx.index.names_in_text(fhir.concept_texts(cc), _SITE_NAMES)
        groups = {g for n, g in SITE_GROUPS if n in matched}
        if len(groups) == 1:
            return groups.pop(), None
        return None
    if "malignant-neoplasm" in names:  # a site-specific cancer code outside the guideline's sites
        for coding in fhir.codings(cc):
            if "malignant-neoplasm" in ctx.index.names_for_coding(coding):
                return SiteGroup.OTHER, fhir.code_of(coding)
    return None


def _body_tail(ctx: Context, site_code: str) -> bool:
    for system in (ICDO3, "http://hl7.org/fhir/sid/icd-10-cm"):
        if ctx.index.values["site-pancreas-body-tail"].has_code(system, site_code):
            return True
    return False
