"""INPUTS.md rows 'SSTR imaging' and 'Other imaging (dates)'."""

from __future__ import annotations

import datetime as dt

import pytest

from cds_service.facts.model import ImagingKind
from tests.facts.helpers import facts_of, gap_facts
from tests.support import fhir as f

NEC = f.nen_condition("NEC")


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (f.cc(f.SNOMED, "1148701004"), ImagingKind.CT_ABDOMEN_PELVIS),
        (f.cc(f.SNOMED, "432370003"), ImagingKind.CT_ABDOMEN_PELVIS),
        (f.cc(f.LOINC, "36813-4"), ImagingKind.CT_ABDOMEN_PELVIS),
        (f.cc(f.LOINC, "42274-1"), ImagingKind.CT_ABDOMEN_PELVIS),
        (f.cc(f.SNOMED, "432369004"), ImagingKind.MRI_ABDOMEN),
        (f.cc(f.LOINC, "24557-1"), ImagingKind.MRI_ABDOMEN),
        (f.cc(f.SNOMED, "443271005"), ImagingKind.FDG_PET),
        (f.cc(f.SNOMED, "764695006"), ImagingKind.SSTR_PET),
        (f.cc(f.LOINC, "24587-8"), ImagingKind.BRAIN_MRI),
        (f.cc(f.CPT, "70553"), ImagingKind.BRAIN_MRI),
        (f.cc(f.SNOMED, "73761001"), ImagingKind.COLONOSCOPY),
        (f.cc(f.CPT, "43239"), ImagingKind.EGD),
        (f.cc(f.SNOMED, "40701008"), ImagingKind.ECHOCARDIOGRAM),
    ],
)
def test_study_kinds_from_reports(code, kind):
    facts = facts_of(NEC, f.report(code, date="2026-08-01"))
    assert [(s.kind, s.date) for s in facts.studies] == [(kind, dt.date(2026, 8, 1))]


def test_study_from_procedure_and_imaging_study():
    proc = f.procedure(f.cc(f.SNOMED, "73761001"), performed="2026-02-02", category=None)
    img = f.imaging_study(f.cc(f.SNOMED, "443271005"), started="2026-03-03T09:00:00Z")
    facts = facts_of(NEC, proc, img)
    assert [(s.kind, s.date) for s in facts.studies] == [
        (ImagingKind.COLONOSCOPY, dt.date(2026, 2, 2)),
        (ImagingKind.FDG_PET, dt.date(2026, 3, 3)),
    ]


def test_planned_procedure_is_not_a_study():
    proc = f.procedure(f.cc(f.SNOMED, "73761001"), status="preparation", category=None)
    assert facts_of(NEC, proc).studies == ()


@pytest.mark.parametrize("text", ["Ga-68 DOTATATE PET/CT", "DOTATOC PET", "Somatostatin receptor PET/CT"])
def test_sstr_pet_by_code_text(text):
    facts = facts_of(NEC, f.report({"coding": [{"system": "urn:local", "code": "X1"}], "text": text}))
    assert [s.kind for s in facts.studies] == [ImagingKind.SSTR_PET]


def test_psma_pet_is_not_sstr_imaging():
    facts = facts_of(NEC, f.report({"text": "Ga-68 PSMA-11 PET/CT"}))
    assert facts.studies == ()


@pytest.mark.parametrize(("positive", "expected"), [(True, True), (False, False), (None, None)])
def test_sstr_result_from_conclusion_code(positive, expected):
    facts = facts_of(NEC, f.sstr_pet(positive))
    assert facts.studies_of(ImagingKind.SSTR_PET)[0].positive is expected
    assert ("sstr-imaging-result" in gap_facts(facts)) is (expected is None)


def test_contradictory_conclusion_is_unknown():
    dr = f.sstr_pet(True)
    dr["conclusionCode"].append(f.cc(f.SNOMED, "260385009"))
    assert facts_of(NEC, dr).studies[0].positive is None


def test_same_study_twice_is_kept_once_with_its_result():
    coded = f.sstr_pet(True, date="2026-09-05")
    img = f.imaging_study(f.cc(f.SNOMED, "764695006"), started="2026-09-05")
    facts = facts_of(NEC, img, coded)
    assert len(facts.studies) == 1
    assert facts.studies[0].positive is True


def test_uptake_above_liver():
    facts = facts_of(NEC, f.sstr_pet(True), f.nen_fact("sstr-uptake-greater-than-liver", valueBoolean=True))
    assert facts.sstr_uptake_above_liver is True


def test_studies_oldest_first_and_last_study():
    facts = facts_of(
        NEC, f.ct_abdomen(date="2026-05-01"), f.ct_abdomen(date="2025-05-01"), f.report(f.cc(f.SNOMED, "432369004"))
    )
    dates = [s.date for s in facts.studies]
    assert dates == sorted(dates)
    assert facts.last_study(ImagingKind.CT_ABDOMEN_PELVIS, ImagingKind.MRI_ABDOMEN).date == dt.date(2026, 9, 5)


def test_cancelled_and_registered_reports_are_not_studies():
    assert facts_of(NEC, f.ct_abdomen(status="cancelled"), f.ct_abdomen(status="registered")).studies == ()
