"""What the record does not say, in words for oncologists (only when a NEN is recorded).

Fact names are the ones rule predicates declare in ``needs``; the evaluation decides which gaps
matter for a patient, these entries only describe them and say what would supply them.
"""

from __future__ import annotations

from cds_service.facts.model import DataGap, Differentiation, Grade, ImagingKind, PatientFacts, SiteGroup, Stage


def data_gaps(facts: PatientFacts) -> tuple[DataGap, ...]:
    n = facts.neoplasm
    if n is None:
        return ()
    gaps: list[DataGap] = []
    if n.differentiation is Differentiation.UNKNOWN:
        gaps.append(
            DataGap(
                "differentiation",
                "Tumor differentiation is not recorded: well-differentiated NET or poorly differentiated "
                "neuroendocrine carcinoma (NEC)"
                + (f" (the diagnosis is coded only as {n.display or 'an unspecific NEN code'})" if n.display else ""),
                "the histology on the cancer Condition (mCODE histology-morphology-behavior extension) or an "
                "Observation LOINC 31206-6, valued ICD-O-3 8249/3 (NET), 8246/3, 8041/3, 8013/3 (NEC) or 8154/3 "
                "(MiNEN); or ICD-10-CM C7A.1 for a poorly differentiated tumor",
            )
        )
    if facts.ki67_percent is None:
        words = "The Ki-67 proliferation index is not recorded"
        if facts.grade is Grade.G3:
            words += " (the tumor is G3 by mitotic count or grade, but thresholds such as Ki-67 55% need the value)"
        elif n.differentiation in (Differentiation.NEC, Differentiation.MINEN):
            words += " (NEC is high-grade by definition; Ki-67 still informs the choice of therapy)"
        else:
            words += ": without it (or a mitotic count / histologic grade) G3 cannot be confirmed"
        gaps.append(
            DataGap(
                "ki67",
                words,
                "an Observation LOINC 29593-1 (Ki-67 in tissue) with valueQuantity in %; or a histologic grade "
                "Observation (NCIt C18000 / LOINC 33732-9) valued SNOMED 61026006 (G3)",
            )
        )
    if facts.stage is Stage.UNKNOWN:
        gaps.append(
            DataGap(
                "stage",
                "Whether the disease is localized or metastatic is not recorded",
                "a secondary-cancer Condition (e.g. ICD-10-CM C78.7 liver, C7B.*), a TNM M category Observation "
                "(SNOMED 399387003 cM / 371497001 pM) valued cM0 1229901006, cM1 1229903009 or pM1 1229916009, "
                "or for gynecologic tumors a FIGO stage Observation (SNOMED 385361009)",
            )
        )
    if n.site is SiteGroup.NOT_RECORDED:
        gaps.append(
            DataGap(
                "primary-site",
                "The primary tumor site (gastroenteropancreatic, gynecologic or unknown primary) is not recorded",
                "Condition.bodySite with an ICD-O-3 topography (e.g. C25.4 pancreas, C53.9 cervix) or a site-specific "
                "ICD-10-CM code; C80.1 when the primary is unknown",
            )
        )
    sstr = facts.studies_of(ImagingKind.SSTR_PET)
    if not any(s.positive is not None for s in sstr):
        gaps.append(
            DataGap(
                "sstr-imaging-result",
                "No somatostatin-receptor PET result is recorded"
                + (" (a study exists but its result is not coded)" if sstr else ""),
                "a DiagnosticReport for Ga-68 DOTATATE / DOTATOC PET with conclusionCode SNOMED 10828004 (positive) "
                "or 260385009 (negative)",
            )
        )
    if facts.msi_high is None and facts.mmr_deficient is None and facts.tmb_per_mb is None:
        gaps.append(
            DataGap(
                "msi-mmr-tmb",
                "No MSI, mismatch-repair or tumor mutational burden result is recorded",
                "an Observation LOINC 81695-9 (MSI) valued LA26203-2 / LA14122-8, MMR IHC (81691-8, 81692-6, "
                "81693-4, 81694-2), or TMB LOINC 94076-7 in mutations per megabase",
            )
        )
    if facts.localized_treatment_completed is None:
        gaps.append(
            DataGap(
                "localized-treatment-completed",
                "The date treatment of localized disease was completed is not recorded, so the surveillance "
                "schedule cannot be placed",
                "a completed surgical Procedure (category SNOMED 387713003, reasonReference to the NEN) or completed "
                "chemoradiation, followed by a CancerDiseaseStatus (LOINC 97509-4) 'not detected' (SNOMED 260415000)",
            )
        )
    if facts.metastatic_treatment_start is None:
        gaps.append(
            DataGap(
                "metastatic-treatment-start",
                "The start of treatment for metastatic disease is not recorded, so the monitoring schedule cannot "
                "be placed",
                "a MedicationAdministration / MedicationStatement / MedicationRequest of the first systemic regimen "
                "with its date, and metastatic disease recorded (secondary-cancer Condition or M1)",
            )
        )
    gaps.extend(_detail_gaps(facts))
    return tuple(gaps)


def _detail_gaps(facts: PatientFacts) -> list[DataGap]:
    """Descriptions for the finer facts other predicates declare in ``needs`` (when they are missing)."""
    n = facts.neoplasm
    out: list[DataGap] = []
    if n is None:
        return out

    def gap(name: str, missing: bool, description: str, supply: str) -> None:
        if missing:
            out.append(DataGap(name, description, supply))

    gap(
        "diagnosis-date",
        n.diagnosed_on is None,
        "The date of diagnosis is not recorded",
        "Condition.onsetDateTime (or recordedDate) on the NEN Condition",
    )
    gap(
        "metastatic-sites",
        facts.stage is Stage.METASTATIC and not facts.metastatic_sites,
        "Where the metastases are (liver, bone, brain, nodes...) is not recorded",
        "secondary-cancer Conditions with a site code (ICD-10-CM C78.7 liver, C79.51 bone, C79.31 brain) or bodySite",
    )
    gap(
        "brain-metastasis-count",
        facts.brain_metastasis_count is None,
        "The number of brain metastases is not recorded",
        "an Observation nen-fact#brain-metastasis-count (valueInteger), or one Condition ICD-10-CM C79.31 per lesion",
    )
    gap(
        "disease-burden",
        facts.high_disease_burden is None,
        "Whether the systemic disease burden is high is not recorded",
        "an Observation nen-fact#high-disease-burden (valueBoolean), or metastases at 3 or more sites",
    )
    gap(
        "sstr-uptake-vs-liver",
        facts.sstr_uptake_above_liver is None,
        "Whether SSTR-PET uptake is homogeneously above liver is not recorded",
        "an Observation nen-fact#sstr-uptake-greater-than-liver (valueBoolean)",
    )
    gap(
        "pet-result",
        not any(s.positive is not None for s in facts.studies_of(ImagingKind.FDG_PET)),
        "No FDG PET result is recorded",
        "a DiagnosticReport SNOMED 443271005 with conclusionCode 10828004 (positive) or 260385009 (negative)",
    )
    gap(
        "progression-pace",
        facts.accelerating_progression is None,
        "Whether progression is accelerating (or growth discordant) is not recorded",
        "an Observation nen-fact#accelerating-progression (valueBoolean)",
    )
    gap(
        "disease-status",
        not facts.disease_status,
        "No cancer disease status is recorded",
        "an Observation LOINC 97509-4 valued SNOMED 271299001 / 359746009 / 268910001 / 260415000",
    )
    gap(
        "synaptophysin-ihc",
        facts.synaptophysin_positive is None,
        "No synaptophysin immunostain result is recorded",
        "an Observation LOINC 10514-8 valued SNOMED 10828004 (positive) or 260385009 (negative)",
    )
    gap(
        "chromogranin-ihc",
        facts.chromogranin_ihc_positive is None,
        "No chromogranin A immunostain result is recorded",
        "an Observation LOINC 10471-1 valued SNOMED 10828004 (positive) or 260385009 (negative)",
    )
    gap(
        "5-hiaa-interpretation",
        not any(r.elevated is not None for r in facts.five_hiaa),
        "No interpretable 5-HIAA result is recorded",
        "an Observation 5-HIAA (urine LOINC 1695-6 / 14573-0, plasma 1693-1 / 50149-4) with interpretation or "
        "reference range",
    )
    gap(
        "surgery-date",
        facts.surgery_date is None,
        "No dated resection of the tumor is recorded",
        "a completed Procedure (category SNOMED 387713003, reasonReference to the NEN) with performed[x]",
    )
    gap(
        "surgical-margin",
        facts.surgical_margin_positive is None,
        "The resection margin status is not recorded",
        "an Observation nen-fact#surgical-margin-positive (valueBoolean)",
    )
    gap(
        "radiation-amenability",
        facts.radiation_not_amenable is None,
        "Whether the tumor site is amenable to radiation is not recorded",
        "an Observation nen-fact#radiation-not-amenable (valueBoolean)",
    )
    dated_lines = [line for line in facts.lines if line.start is not None]
    gap(
        "therapy-dates",
        not dated_lines,
        "No dated systemic therapy is recorded",
        "MedicationAdministration / MedicationStatement with effective[x], or MedicationRequest with authoredOn",
    )
    platinum = [line for line in dated_lines if line.agents & {"cisplatin", "carboplatin"}]
    gap(
        "last-platinum-dose-date",
        not platinum,
        "The date of the last platinum dose is not recorded",
        "MedicationAdministration of cisplatin (RxNorm 2555) or carboplatin (RxNorm 40048) with its date",
    )
    if n.site.is_gynecologic:
        gap(
            "figo-stage",
            facts.figo_stage is None,
            "The FIGO stage is not recorded",
            "an Observation SNOMED 385361009 valued with the NCIt FIGO stage (C96246 IA1 ... C96263 IVB)",
        )
        gap(
            "tumor-size",
            facts.tumor_size_cm is None,
            "The tumor size is not recorded",
            "an Observation LOINC 21889-1 or 33728-7 with valueQuantity in cm or mm",
        )
        gap(
            "deep-stromal-invasion",
            facts.deep_stromal_invasion is None,
            "Deep stromal invasion is not recorded",
            "an Observation nen-fact#deep-stromal-invasion (valueBoolean)",
        )
        gap(
            "lymphovascular-invasion",
            facts.lymphovascular_invasion is None,
            "Lymphovascular space invasion is not recorded",
            "an Observation LOINC 59544-7 valued SNOMED 52101004 (present) or 2667000 (absent)",
        )
    return out
