"""The guideline's inputs, as one typed, immutable value per patient.

Nothing here knows FHIR paths or HTTP: extractors (``cds_service.facts.extract``) fill these
values from the patient's record; guideline rules only read them. Unknown stays distinct from
false: an optional fact that is ``None`` was not found in the record, and a rule that needs it
yields a data gap instead of guessing a branch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Differentiation(StrEnum):
    NET = "NET"  # well-differentiated neuroendocrine tumor
    NEC = "NEC"  # poorly differentiated neuroendocrine carcinoma (small- or large-cell)
    MINEN = "MiNEN"  # mixed neuroendocrine non-neuroendocrine neoplasm: managed as NEC
    UNKNOWN = "unknown"


class Grade(StrEnum):
    G1 = "G1"
    G2 = "G2"
    G3 = "G3"
    UNKNOWN = "unknown"


class SiteGroup(StrEnum):
    PANCREAS = "pancreas"
    SMALL_BOWEL = "small-bowel"
    APPENDIX = "appendix"
    COLORECTAL = "colorectal"
    STOMACH = "stomach"
    ESOPHAGUS = "esophagus"
    CERVIX = "cervix"
    UTERUS = "uterus"
    OVARY = "ovary"
    VULVA_VAGINA = "vulva-vagina"
    UNKNOWN_PRIMARY = "unknown-primary"  # recorded as unknown primary (C80.x / C26.9)
    OTHER = "other"  # a recorded site outside the guideline's GEP / gynecologic scope
    NOT_RECORDED = "not-recorded"  # no site in the record at all: a data gap

    @property
    def is_gastrointestinal(self) -> bool:
        return self in _GI_SITES

    @property
    def is_gynecologic(self) -> bool:
        return self in _GYN_SITES


_GI_SITES = frozenset(
    {
        SiteGroup.PANCREAS,
        SiteGroup.SMALL_BOWEL,
        SiteGroup.APPENDIX,
        SiteGroup.COLORECTAL,
        SiteGroup.STOMACH,
        SiteGroup.ESOPHAGUS,
    }
)
_GYN_SITES = frozenset({SiteGroup.CERVIX, SiteGroup.UTERUS, SiteGroup.OVARY, SiteGroup.VULVA_VAGINA})


class Stage(StrEnum):
    LOCALIZED = "localized"
    METASTATIC = "metastatic"
    UNKNOWN = "unknown"


class MetastaticSite(StrEnum):
    LIVER = "liver"
    BONE = "bone"
    BRAIN = "brain"
    PERITONEUM = "peritoneum"
    DISTANT_NODES = "distant-nodes"
    LUNG = "lung"
    OTHER = "other"


class Certainty(StrEnum):
    CONFIRMED = "confirmed"
    SUSPECTED = "suspected"  # verificationStatus provisional / differential


class DiseaseStatusValue(StrEnum):
    PROGRESSION = "progression"  # SNOMED 271299001 worsened
    STABLE = "stable"
    IMPROVED = "improved"
    NO_EVIDENCE = "no-evidence-of-disease"  # SNOMED 260415000 not detected
    UNDETERMINED = "undetermined"


class ImagingKind(StrEnum):
    """Kinds of study whose dates the guideline's workup, surveillance and monitoring need."""

    CT_ABDOMEN_PELVIS = "ct-abdomen-pelvis"
    MRI_ABDOMEN = "mri-abdomen"
    FDG_PET = "fdg-pet"
    SSTR_PET = "sstr-pet"
    BRAIN_MRI = "brain-mri"
    COLONOSCOPY = "colonoscopy"
    EGD = "egd"
    ECHOCARDIOGRAM = "echocardiogram"

    @property
    def is_cross_sectional(self) -> bool:
        """Multiphase CT or MRI: the study Tables 2 and 3 schedule."""
        return self in (ImagingKind.CT_ABDOMEN_PELVIS, ImagingKind.MRI_ABDOMEN)


@dataclass(frozen=True, slots=True)
class Source:
    """Where a fact came from: the FHIR resource reference (``Observation/ki67-1``)."""

    reference: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class DatedResult:
    """A dated finding. ``positive`` is None when the study exists but its result is not coded."""

    date: date | None
    positive: bool | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class Study:
    """A study or procedure done (or reported) on a date: imaging, endoscopy, echocardiogram."""

    kind: ImagingKind
    date: date | None
    positive: bool | None = None  # conclusionCode positive/negative where coded
    source: str = ""


@dataclass(frozen=True, slots=True)
class LabResult:
    date: date | None
    value: float | None
    unit: str | None
    elevated: bool | None  # interpretation H/HH/A or value above referenceRange.high
    source: str = ""


@dataclass(frozen=True, slots=True)
class Neoplasm:
    """One neuroendocrine neoplasm condition (the primary tumor) as the guideline sees it."""

    condition_id: str  # "Condition/abc": reasonReference target for suggestions
    differentiation: Differentiation
    morphology: str | None  # ICD-O-3 or SNOMED code that decided differentiation
    certainty: Certainty
    site: SiteGroup
    site_code: str | None  # the ICD-O-3 topography / ICD-10-CM code read
    pancreas_body_or_tail: bool = False  # C25.1 / C25.2
    diagnosed_on: date | None = None  # onset or recordedDate
    display: str = ""  # the condition's own text, for card wording (no PHI)


@dataclass(frozen=True, slots=True)
class TherapyExposure:
    """One agent given (ordered, administered or stated) with its dates."""

    agent: str  # value-set concept name, e.g. "cisplatin"
    start: date | None
    end: date | None
    active: bool  # active/on-hold/draft order or ongoing statement
    source: str = ""


@dataclass(frozen=True, slots=True)
class TherapyLine:
    """A regimen: the agents given in one period, numbered in order (1 = front line)."""

    number: int
    agents: frozenset[str]
    start: date | None
    end: date | None
    active: bool

    def has_any(self, *agents: str) -> bool:
        return any(agent in self.agents for agent in agents)


@dataclass(frozen=True, slots=True)
class DataGap:
    """A fact a decision needs but the record does not hold, and what would supply it."""

    fact: str  # short machine name, e.g. "differentiation", "ki67", "stage", "primary-site"
    description: str  # plain words: "Tumor differentiation (well-differentiated NET vs NEC)"
    supply: str  # what would supply it: "a Condition with ICD-O-3 morphology 8249/3 or 8246/3"


@dataclass(frozen=True, slots=True)
class IgnoredResource:
    reference: str  # "Observation/x" or "(unidentified Observation)"
    reason: str
    routine: bool = False  # set aside by the record's own status (entered-in-error, refuted): not a data problem


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """Everything the NANETS G3 recommendations decide on, for one patient."""

    patient_id: str | None
    today: date

    # --- the neoplasm ---
    neoplasm: Neoplasm | None = None  # the NEN the guideline is about, if any
    other_cancers: tuple[str, ...] = ()  # references of unrelated cancer conditions
    grade: Grade = Grade.UNKNOWN
    ki67_percent: float | None = None
    ki67_date: date | None = None
    mitotic_count_per_2mm2: float | None = None
    grade_observed: Grade | None = None  # from a histologic grade Observation

    # --- stage and metastases ---
    stage: Stage = Stage.UNKNOWN
    metastatic_sites: frozenset[MetastaticSite] = frozenset()
    brain_metastasis_count: int | None = None
    high_disease_burden: bool | None = None
    figo_stage: str | None = None  # "IA1" ... "IVB"
    tumor_size_cm: float | None = None
    lymphovascular_invasion: bool | None = None
    deep_stromal_invasion: bool | None = None

    # --- course ---
    disease_status: tuple[tuple[date | None, DiseaseStatusValue], ...] = ()  # oldest first
    accelerating_progression: bool | None = None

    # --- pathology ---
    p53_aberrant: bool | None = None
    rb_lost: bool | None = None
    sstr2a_positive: bool | None = None
    synaptophysin_positive: bool | None = None
    chromogranin_ihc_positive: bool | None = None
    insm1_done: bool = False

    # --- imaging and endoscopy ---
    studies: tuple[Study, ...] = ()  # every dated study, oldest first
    sstr_uptake_above_liver: bool | None = None

    # --- molecular ---
    msi_high: bool | None = None
    mmr_deficient: bool | None = None
    tmb_per_mb: float | None = None
    braf_v600e: bool | None = None
    ntrk_fusion: bool | None = None
    ret_fusion: bool | None = None
    ngs_done: bool = False

    # --- labs and syndromes ---
    chromogranin_a: tuple[LabResult, ...] = ()
    five_hiaa: tuple[LabResult, ...] = ()
    hormonal_syndrome: Certainty | None = None
    carcinoid_syndrome: Certainty | None = None
    neurologic_symptoms: bool = False
    neurologic_symptoms_since: date | None = None
    cardiac_symptoms: bool = False

    # --- treatment ---
    exposures: tuple[TherapyExposure, ...] = ()
    lines: tuple[TherapyLine, ...] = ()  # systemic regimens, line 1 first
    intolerances: frozenset[str] = frozenset()  # agent concept names
    resected: bool = False
    surgery_date: date | None = None
    surgical_margin_positive: bool | None = None
    radiation_not_amenable: bool | None = None
    chemoradiation_completed_date: date | None = None
    localized_treatment_completed: date | None = None  # surveillance clock starts here
    metastatic_treatment_start: date | None = None  # monitoring clock starts here
    orders_pending: frozenset[str] = frozenset()  # concept names of active/draft orders on record

    # --- what the service could and could not read ---
    data_gaps: tuple[DataGap, ...] = ()
    ignored: tuple[IgnoredResource, ...] = ()
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)  # fact name -> references

    # ---- derived views used by the rules (no FHIR here) ----
    def studies_of(self, kind: ImagingKind) -> tuple[Study, ...]:
        return tuple(s for s in self.studies if s.kind == kind)

    def last_study(self, *kinds: ImagingKind) -> Study | None:
        dated = [s for s in self.studies if s.kind in kinds and s.date is not None]
        return max(dated, key=lambda s: s.date) if dated else None  # type: ignore[arg-type,return-value]

    @property
    def progression_dates(self) -> tuple[date, ...]:
        return tuple(d for d, v in self.disease_status if v is DiseaseStatusValue.PROGRESSION and d)

    @property
    def latest_disease_status(self) -> DiseaseStatusValue | None:
        return self.disease_status[-1][1] if self.disease_status else None


@dataclass(frozen=True, slots=True)
class DraftOrder:
    """An order in ``context.draftOrders``, recognised by code or text."""

    resource_type: str  # ServiceRequest | MedicationRequest | ...
    resource_id: str  # the id the delete action names
    concepts: frozenset[str]  # value-set concept names it matched ("sstr-pet", "octreotide", ...)
    text: str  # what it says, for card wording
    recognised_by: str = "code"  # "code" | "text" | "none"
    selected: bool = True  # order-select: named in context.selections
