"""The browser tests' patients, built with tests/support/fhir.py, and what their page must show.

The expectations come from the guideline, not from the service's output: a metastatic G3 NET
without SSTR imaging is sent for SSTR PET and never offered NEC chemotherapy; an untreated
metastatic GEP NEC gets platinum + etoposide; an early-stage (FIGO IB1) cervical NEC gets the
radical hysterectomy card and no metastatic regimen; a NEN without morphology or stage is sent for
differentiating immunohistochemistry and its page shows those facts as data gaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.support.fhir import (
    ICD10,
    ICDO3,
    cc,
    condition,
    figo,
    hook_request,
    ki67,
    m_category,
    nen_condition,
    secondary,
)


@dataclass
class Patient:
    name: str
    patient_id: str
    resources: list[dict[str, Any]]
    path: set[tuple[str, str]]  # (step, value) highlighted on the page (a data gap is highlighted too)
    fired: tuple[str, ...]  # recommendations that must be shown
    never: tuple[str, ...]  # id prefixes that must not fire
    gaps: tuple[str, ...] = field(default=())  # data gaps the page must list

    def request(self) -> dict[str, Any]:
        return hook_request("patient-view", *self.resources, patient_id=self.patient_id)


PATIENTS: dict[str, Patient] = {
    p.name: p
    for p in (
        Patient(
            name="metastatic-g3-net",
            patient_id="bt-net",
            resources=[
                nen_condition("NET", site="C25.4", id="bt-net-nen", patient_id="bt-net"),
                ki67(35, id="bt-net-ki67", patient_id="bt-net"),
                secondary("C78.7", id="bt-net-liver", patient_id="bt-net"),
            ],
            path={("differentiation", "NET"), ("site", "GEP"), ("stage", "metastatic"), ("course", "first-line")},
            fired=("workup.net.sstr-pet",),
            never=("met.nec.", "local."),
            gaps=("sstr-imaging-result",),
        ),
        Patient(
            name="metastatic-nec",
            patient_id="bt-nec",
            resources=[
                nen_condition("NEC", site="C25.4", id="bt-nec-nen", patient_id="bt-nec"),
                ki67(80, id="bt-nec-ki67", patient_id="bt-nec"),
                m_category(id="bt-nec-m1", patient_id="bt-nec"),
                secondary("C78.7", id="bt-nec-liver", patient_id="bt-nec"),
            ],
            path={("differentiation", "NEC"), ("site", "GEP"), ("stage", "metastatic"), ("course", "first-line")},
            fired=("met.nec.platinum-etoposide",),
            never=("met.net.", "local."),
        ),
        Patient(
            name="cervical-nec",
            patient_id="bt-cx",
            resources=[
                nen_condition("SCNEC", site="C53.9", id="bt-cx-nen", patient_id="bt-cx"),
                figo("C96249", id="bt-cx-figo", patient_id="bt-cx"),  # FIGO IB1: no distant metastasis
            ],
            path={
                ("differentiation", "NEC"),
                ("site", "gynecologic"),
                ("stage", "localized"),
                ("course", "localized-treatment"),
            },
            fired=("gyn.early.radical-hysterectomy",),
            never=("met.", "local.net."),
        ),
        Patient(
            name="differentiation-unknown",
            patient_id="bt-unk",
            resources=[
                condition(cc(ICD10, "C7A.8"), body_site=cc(ICDO3, "C25.4"), id="bt-unk-nen", patient_id="bt-unk"),
                ki67(45, id="bt-unk-ki67", patient_id="bt-unk"),
            ],
            path={("differentiation", "unknown"), ("site", "GEP"), ("stage", "unknown"), ("course", "unknown")},
            fired=("path.differentiation-ihc",),
            never=("met.", "local."),
            gaps=("differentiation", "stage"),
        ),
    )
}
