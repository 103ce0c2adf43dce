"""Imaging and endoscopy workup (workup.anatomic-imaging, workup.net.sstr-pet, workup.fdg-pet,
workup.discordant-pet, workup.brain-mri, workup.endoscopy). Facts-level cases."""

from __future__ import annotations

from cds_service.facts.model import ImagingKind, MetastaticSite, SiteGroup, Stage
from cds_service.guideline.evaluate import Outcome
from tests.guideline.workup_facts import ago, facts, fired, line, missing, outcome, study, window

CT, MRI, SSTR, FDG, BRAIN = (
    ImagingKind.CT_ABDOMEN_PELVIS,
    ImagingKind.MRI_ABDOMEN,
    ImagingKind.SSTR_PET,
    ImagingKind.FDG_PET,
    ImagingKind.BRAIN_MRI,
)

# ---------------------------------------------------------------- workup.anatomic-imaging


def test_anatomic_imaging_fires_for_new_g3_nen_without_ct_or_mri():
    assert "workup.anatomic-imaging" in fired(facts("NEC"))
    assert "workup.anatomic-imaging" in fired(facts("NET", ki67=30))


def test_anatomic_imaging_silent_when_ct_or_mri_done_or_ordered():
    assert outcome(facts("NEC", studies=(study(CT, ago(25)),)), "workup.anatomic-imaging") is Outcome.SILENT
    assert outcome(facts("NEC", studies=(study(MRI, ago(5)),)), "workup.anatomic-imaging") is Outcome.SILENT
    ordered = facts("NEC", orders_pending=frozenset({"ct-abdomen-pelvis"}))
    assert outcome(ordered, "workup.anatomic-imaging") is Outcome.SILENT


def test_anatomic_imaging_silent_outside_the_initial_assessment():
    old_treated = facts(
        "NEC",
        diagnosed=ago(window("initial_assessment_window_days") + 30),
        lines=(line(1, "cisplatin", "etoposide", start=ago(100)),),
    )
    assert outcome(old_treated, "workup.anatomic-imaging") is Outcome.SILENT
    treated_undated = facts("NEC", diagnosed=None, lines=(line(1, "cisplatin", "etoposide", start=ago(60)),))
    assert outcome(treated_undated, "workup.anatomic-imaging") is Outcome.SILENT


def test_anatomic_imaging_fires_for_an_untreated_tumor_with_an_old_onset_date():
    old_untreated = facts("NEC", diagnosed=ago(window("initial_assessment_window_days") + 300))
    assert outcome(old_untreated, "workup.anatomic-imaging") is Outcome.FIRES


# ---------------------------------------------------------------- workup.net.sstr-pet


def test_sstr_pet_fires_for_g3_net_without_sstr_pet():
    assert "workup.net.sstr-pet" in fired(facts("NET", ki67=30))


def test_sstr_pet_silent_for_nec_and_when_done_or_ordered():
    assert outcome(facts("NEC"), "workup.net.sstr-pet") is Outcome.SILENT
    assert outcome(facts("NET", ki67=30, studies=(study(SSTR, ago(10), True),)), "workup.net.sstr-pet") is (
        Outcome.SILENT
    )
    ordered = facts("NET", ki67=30, orders_pending=frozenset({"sstr-pet"}))
    assert outcome(ordered, "workup.net.sstr-pet") is Outcome.SILENT


def test_sstr_pet_unknown_when_differentiation_unknown():
    assert "differentiation" in missing(facts("unknown", ki67=40), "workup.net.sstr-pet")


def test_sstr_pet_silent_for_low_grade_ki67_net_out_of_scope():
    # G2 NET: out of scope, the whole knowledge base is silent (the scope card speaks instead)
    assert fired(facts("NET", ki67=15)) == set()


# ---------------------------------------------------------------- workup.fdg-pet


def test_fdg_pet_fires_when_differentiation_unclear():
    assert "workup.fdg-pet" in fired(facts("unknown", ki67=40))


def test_fdg_pet_fires_for_g3_net_with_negative_sstr_pet():
    assert "workup.fdg-pet" in fired(facts("NET", ki67=30, studies=(study(SSTR, ago(10), False),)))


def test_fdg_pet_fires_for_sstr_uptake_not_above_liver():
    f = facts("NET", ki67=30, studies=(study(SSTR, ago(10), True),), sstr_uptake_above_liver=False)
    assert "workup.fdg-pet" in fired(f)


def test_fdg_pet_fires_for_disproportionately_aggressive_tumor():
    assert "workup.fdg-pet" in fired(facts("NEC", accelerating_progression=True))


def test_fdg_pet_silent_for_plain_nec_or_sstr_positive_net():
    assert outcome(facts("NEC"), "workup.fdg-pet") is Outcome.SILENT
    assert outcome(facts("NET", ki67=30, studies=(study(SSTR, ago(10), True),)), "workup.fdg-pet") is Outcome.SILENT


def test_fdg_pet_silent_when_already_done():
    f = facts("unknown", ki67=40, studies=(study(FDG, ago(3), True),))
    assert outcome(f, "workup.fdg-pet") is Outcome.SILENT


def test_fdg_pet_unknown_for_g3_net_without_sstr_result_and_gap_folds_into_sstr_card():
    f = facts("NET", ki67=30)
    assert "sstr-imaging-result" in missing(f, "workup.fdg-pet")
    assert "workup.net.sstr-pet" in fired(f)  # the card that supplies the missing fact


# ---------------------------------------------------------------- workup.discordant-pet


def test_discordant_pet_fires_for_fdg_avid_sstr_negative_disease():
    f = facts("NET", ki67=40, studies=(study(SSTR, ago(20), False), study(FDG, ago(15), True)))
    assert "workup.discordant-pet" in fired(f)


def test_discordant_pet_silent_when_concordant_or_single_scan():
    same = facts("NET", ki67=40, studies=(study(SSTR, ago(20), True), study(FDG, ago(15), True)))
    assert outcome(same, "workup.discordant-pet") is Outcome.SILENT
    one = facts("NET", ki67=40, studies=(study(SSTR, ago(20), False),))
    assert outcome(one, "workup.discordant-pet") is Outcome.SILENT


def test_discordant_pet_unknown_when_a_result_is_not_coded():
    f = facts("NET", ki67=40, studies=(study(SSTR, ago(20), False), study(FDG, ago(15), None)))
    assert "pet-result" in missing(f, "workup.discordant-pet")


# ---------------------------------------------------------------- workup.brain-mri


def test_brain_mri_fires_for_neurological_symptoms():
    f = facts("NET", ki67=30, neurologic_symptoms=True, neurologic_symptoms_since=ago(7))
    assert "workup.brain-mri" in fired(f)


def test_brain_mri_fires_for_nec_with_high_burden():
    assert "workup.brain-mri" in fired(facts("NEC", high_disease_burden=True))


def test_brain_mri_silent_without_symptoms_for_net_or_low_burden_nec():
    assert outcome(facts("NET", ki67=30, high_disease_burden=True), "workup.brain-mri") is Outcome.SILENT
    assert outcome(facts("NEC", high_disease_burden=False), "workup.brain-mri") is Outcome.SILENT
    assert outcome(facts("NEC", stage=Stage.LOCALIZED), "workup.brain-mri") is Outcome.SILENT


def test_brain_mri_silent_when_done_after_symptom_onset_or_ordered():
    done = facts("NEC", neurologic_symptoms=True, neurologic_symptoms_since=ago(10), studies=(study(BRAIN, ago(3)),))
    assert outcome(done, "workup.brain-mri") is Outcome.SILENT
    ordered = facts("NEC", high_disease_burden=True, orders_pending=frozenset({"brain-mri"}))
    assert outcome(ordered, "workup.brain-mri") is Outcome.SILENT


def test_brain_mri_fires_when_the_last_mri_predates_new_symptoms():
    f = facts(
        "NEC",
        diagnosed=ago(400),
        neurologic_symptoms=True,
        neurologic_symptoms_since=ago(5),
        studies=(study(BRAIN, ago(380)),),
    )
    assert "workup.brain-mri" in fired(f)


def test_brain_mri_unknown_for_metastatic_nec_with_unknown_burden():
    assert "disease-burden" in missing(facts("NEC"), "workup.brain-mri")


# ---------------------------------------------------------------- workup.endoscopy


def test_endoscopy_fires_for_new_gi_primary_without_endoscopy():
    assert "workup.endoscopy" in fired(facts("NEC", SiteGroup.COLORECTAL))
    assert "workup.endoscopy" in fired(facts("NET", SiteGroup.STOMACH, ki67=30))
    assert "workup.endoscopy" in fired(facts("NEC", SiteGroup.UNKNOWN_PRIMARY))


def test_endoscopy_silent_for_pancreas_or_gynecologic_primary():
    assert outcome(facts("NEC", SiteGroup.PANCREAS), "workup.endoscopy") is Outcome.SILENT
    assert outcome(facts("NEC", SiteGroup.CERVIX), "workup.endoscopy") is Outcome.SILENT


def test_endoscopy_silent_when_the_site_appropriate_endoscopy_is_done_or_ordered():
    colo = facts("NEC", SiteGroup.COLORECTAL, studies=(study(ImagingKind.COLONOSCOPY, ago(30)),))
    assert outcome(colo, "workup.endoscopy") is Outcome.SILENT
    egd = facts("NEC", SiteGroup.ESOPHAGUS, orders_pending=frozenset({"egd"}))
    assert outcome(egd, "workup.endoscopy") is Outcome.SILENT


def test_endoscopy_still_fires_when_only_the_wrong_endoscopy_was_done():
    f = facts("NEC", SiteGroup.STOMACH, studies=(study(ImagingKind.COLONOSCOPY, ago(30)),))
    assert "workup.endoscopy" in fired(f)


def test_endoscopy_unknown_when_primary_site_not_recorded():
    assert "primary-site" in missing(facts("NEC", SiteGroup.NOT_RECORDED), "workup.endoscopy")


def test_brain_mri_burden_read_from_metastatic_sites_when_no_flag():
    one_site = facts("NEC", metastatic_sites=frozenset({MetastaticSite.LIVER}))
    assert outcome(one_site, "workup.brain-mri") is Outcome.SILENT
    three = frozenset({MetastaticSite.LIVER, MetastaticSite.BONE, MetastaticSite.LUNG})
    assert "workup.brain-mri" in fired(facts("NEC", metastatic_sites=three))
