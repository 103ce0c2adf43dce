"""Stage, metastatic sites and the local risk factors (INPUTS.md rows 'Metastatic disease',
'Metastatic sites', 'Brain metastasis count', 'High systemic disease burden', 'FIGO stage',
'Tumor size, LVSI, stromal invasion').

Metastatic: a confirmed secondary-cancer Condition, a TNM M Observation valued cM1 / pM1, or FIGO
IVB. Localized: M0 or FIGO IA1-IVA, and no secondary Condition. Neither: UNKNOWN (a data gap).
A secondary Condition linked (mCODE related-condition) to another, non-NEN cancer is not counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from cds_service.facts.extract import fhir
from cds_service.facts.extract.context import Context, latest
from cds_service.facts.extract.neoplasm import RELATED_CONDITION_EXT, Candidate, NeoplasmResult, onset
from cds_service.facts.model import MetastaticSite, Stage

SITES = (
    ("met-site-liver", MetastaticSite.LIVER),
    ("met-site-bone", MetastaticSite.BONE),
    ("met-site-brain", MetastaticSite.BRAIN),
    ("met-site-peritoneum", MetastaticSite.PERITONEUM),
    ("met-site-distant-nodes", MetastaticSite.DISTANT_NODES),
    ("met-site-lung", MetastaticSite.LUNG),
)
_SITE_NAMES = tuple(n for n, _ in SITES)
_BURDEN_SITES = 3  # INPUTS.md: metastases at 3 or more distinct sites = high systemic burden
_CM = {"cm": 1.0, "mm": 0.1}


@dataclass
class StageResult:
    stage: Stage = Stage.UNKNOWN
    metastatic_since: date | None = None  # earliest dated evidence of metastasis
    sites: frozenset[MetastaticSite] = frozenset()
    brain_count: int | None = None
    high_burden: bool | None = None
    figo: str | None = None
    tumor_size_cm: float | None = None
    lvsi: bool | None = None
    deep_stromal_invasion: bool | None = None
    secondary_refs: list[str] = field(default_factory=list)


def extract_stage(ctx: Context, neo: NeoplasmResult) -> StageResult:
    out = StageResult()
    foreign = frozenset(neo.other_cancers)
    secondaries = [c for c in neo.secondaries if _counts(c, foreign)]
    dates: list[date] = []
    brain_refs: list[str] = []
    sites: set[MetastaticSite] = set()
    for cand in secondaries:
        out.secondary_refs.append(cand.item.ref)
        when = onset(cand.item.resource)
        if when:
            dates.append(when)
        found = _sites_of(ctx, cand)
        sites |= found
        if MetastaticSite.BRAIN in found:
            brain_refs.append(cand.item.ref)
    if sites:
        out.sites = frozenset(sites)
        ctx.source("metastatic_sites", *out.secondary_refs)

    m_value, m_ref, m_date = _m_category(ctx)
    figo, figo_ref, figo_date, figo_metastatic = _figo(ctx)
    out.figo = figo
    if figo_ref:
        ctx.source("figo_stage", figo_ref)

    if secondaries or m_value == "m1" or figo_metastatic:
        out.stage = Stage.METASTATIC
        ctx.source("stage", *out.secondary_refs, m_ref if m_value == "m1" else "", figo_ref if figo_metastatic else "")
        if m_value == "m1" and m_date:
            dates.append(m_date)
        if figo_metastatic and figo_date:
            dates.append(figo_date)
        out.metastatic_since = min(dates) if dates else None
    elif m_value == "m0" or (figo is not None and not figo_metastatic):
        out.stage = Stage.LOCALIZED
        ctx.source("stage", m_ref if m_value == "m0" else "", figo_ref if figo and not figo_metastatic else "")

    count = _latest_value(ctx, "brain-metastasis-count", "valueInteger", fhir.integer)
    if count is not None and count[0] >= 0:
        out.brain_count = count[0]
        ctx.source("brain_metastasis_count", count[1])
    elif brain_refs:
        out.brain_count = len(brain_refs)
        ctx.source("brain_metastasis_count", *brain_refs)

    burden = _latest_value(ctx, "high-disease-burden", "valueBoolean", fhir.boolean)
    if burden is not None:
        out.high_burden = burden[0]
        ctx.source("high_disease_burden", burden[1])
    elif len(out.sites) >= _BURDEN_SITES:
        out.high_burden = True
        ctx.source("high_disease_burden", *out.secondary_refs)

    _tumor_size(ctx, out, foreign)
    lvsi = _lvsi(ctx)
    if lvsi is not None:
        out.lvsi = lvsi[0]
        ctx.source("lymphovascular_invasion", lvsi[1])
    deep = _latest_value(ctx, "deep-stromal-invasion", "valueBoolean", fhir.boolean)
    if deep is not None:
        out.deep_stromal_invasion = deep[0]
        ctx.source("deep_stromal_invasion", deep[1])
    return out


def _counts(cand: Candidate, foreign: frozenset[str]) -> bool:
    if cand.item.suspected:
        return False
    for ext in fhir.extensions(cand.item.resource, RELATED_CONDITION_EXT):
        if fhir.ref_key(fhir.reference(ext.get("valueReference"))) in foreign:
            return False
    return True


def _sites_of(ctx: Context, cand: Candidate) -> set[MetastaticSite]:
    resource = cand.item.resource
    found: set[MetastaticSite] = set()
    unspecified = False
    concepts = [resource.get("code"), *fhir.as_list(resource.get("bodySite"))]
    for i, cc in enumerate(concepts):
        if not isinstance(cc, Mapping):
            continue
        names = ctx.index.names_for_concept(cc)
        hit = {site for name, site in SITES if name in names}
        if not hit and i > 0:  # a bodySite coded in SNOMED / text only: its words
            matched = ctx.index.names_in_text(fhir.concept_texts(cc), _SITE_NAMES)
            hit = {site for name, site in SITES if name in matched}
        unspecified = unspecified or "met-site-unspecified" in names
        found |= hit
    if not found and not unspecified:
        found.add(MetastaticSite.OTHER)
    return found


def _m_category(ctx: Context) -> tuple[str | None, str, date | None]:
    usable = []
    for item in ctx.of("m-category", types=("Observation",)):
        names = ctx.index.names_for_concept(item.resource.get("valueCodeableConcept"))
        if "m1" in names or "m0" in names:
            usable.append((item, "m1" if "m1" in names else "m0"))
    best = latest(i for i, _ in usable)
    if best is None:
        return None, "", None
    value = next(v for i, v in usable if i is best)
    return value, best.ref, best.when


def _figo(ctx: Context) -> tuple[str | None, str, date | None, bool]:
    usable = []
    for item in ctx.of("figo-stage", types=("Observation",)):
        value = item.resource.get("valueCodeableConcept")
        names = ctx.index.names_for_concept(value)
        if "figo-metastatic" in names:
            usable.append((item, ctx.index.display_for("figo-metastatic", value), True))
        elif "figo-locoregional" in names:
            usable.append((item, ctx.index.display_for("figo-locoregional", value), False))
    best = latest(i for i, _, _ in usable)
    if best is None:
        return None, "", None, False
    _, label, metastatic = next(u for u in usable if u[0] is best)
    label = (label or "").replace("FIGO Stage", "").strip() or None
    return label, best.ref, best.when, metastatic


def _latest_value(ctx: Context, name: str, field_name: str, read) -> tuple[object, str] | None:
    usable = [(i, read(i.resource.get(field_name))) for i in ctx.of(name, types=("Observation",))]
    usable = [(i, v) for i, v in usable if v is not None]
    best = latest(i for i, _ in usable)
    if best is None:
        return None
    return next(v for i, v in usable if i is best), best.ref


def _tumor_size(ctx: Context, out: StageResult, foreign: frozenset[str]) -> None:
    usable = []
    for item in ctx.of("tumor-size", types=("Observation",)):
        focus = {fhir.ref_key(fhir.reference(f)) for f in fhir.as_list(item.resource.get("focus"))}
        if focus & foreign:
            continue
        sizes = [_cm(fhir.quantity(item.resource.get("valueQuantity")))]
        for comp in fhir.maps(item.resource.get("component")):
            if ctx.in_set("tumor-size", comp.get("code")):
                sizes.append(_cm(fhir.quantity(comp.get("valueQuantity"))))
        sizes = [s for s in sizes if s is not None]
        if sizes:
            usable.append((item, max(sizes)))
        elif item.resource.get("valueQuantity") is not None:
            ctx.ignore(item.ref, "tumor size not in cm or mm: not used")
    best = latest(i for i, _ in usable)
    if best is not None:
        out.tumor_size_cm = next(v for i, v in usable if i is best)
        ctx.source("tumor_size_cm", best.ref)


def _cm(qty: fhir.Quantity | None) -> float | None:
    if qty is None or qty.comparator or qty.value < 0:
        return None
    factor = _CM.get(qty.unit) or _CM.get(qty.unit_text)
    return round(qty.value * factor, 4) if factor else None


def _lvsi(ctx: Context) -> tuple[bool, str] | None:
    usable = []
    for item in ctx.of("lvsi", types=("Observation",)):
        value = item.resource.get("valueCodeableConcept")
        names = ctx.index.names_for_concept(value)
        flag = fhir.boolean(item.resource.get("valueBoolean"))
        if "present" in names:
            flag = True
        elif "absent" in names:
            flag = False
        if flag is not None:
            usable.append((item, flag))
    best = latest(i for i, _ in usable)
    return None if best is None else (next(v for i, v in usable if i is best), best.ref)
