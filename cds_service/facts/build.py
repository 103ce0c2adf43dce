"""Build PatientFacts from a PatientRecord: INPUTS.md, row by row, through the extractors.

One pass classifies the record's resources by the project's value sets (``extract.context``);
each extractor then reads the few resources of its domain. Nothing here raises on odd input:
unreadable resources are noted in ``PatientFacts.ignored``, missing facts in ``data_gaps`` and
where every fact came from in ``sources``.
"""

from __future__ import annotations

from datetime import date, timedelta

from cds_service.facts.extract.context import Context
from cds_service.facts.extract.course import extract_local_treatment, extract_status
from cds_service.facts.extract.gaps import data_gaps
from cds_service.facts.extract.grade import extract_grade
from cds_service.facts.extract.imaging import extract_studies
from cds_service.facts.extract.index import concept_index
from cds_service.facts.extract.labs import extract_labs
from cds_service.facts.extract.molecular import extract_molecular
from cds_service.facts.extract.neoplasm import extract_neoplasm
from cds_service.facts.extract.pathology import extract_pathology
from cds_service.facts.extract.pending import extract_pending
from cds_service.facts.extract.stage import extract_stage
from cds_service.facts.extract.symptoms import extract_symptoms
from cds_service.facts.extract.therapy import extract_therapy
from cds_service.facts.model import DiseaseStatusValue, PatientFacts, Stage, TherapyLine
from cds_service.fhir_data.record import PatientRecord

# therapy begun shortly before metastases were documented still treats the metastatic disease
METASTATIC_START_TOLERANCE = timedelta(days=30)


def build_facts(record: PatientRecord, *, today: date) -> PatientFacts:
    ctx = Context.build(record, concept_index(), today)
    neo = extract_neoplasm(ctx)
    foreign = frozenset(neo.other_cancers)
    grade = extract_grade(ctx, foreign)
    stage = extract_stage(ctx, neo)
    course = extract_status(ctx)
    progression = [d for d, v in course.disease_status if v is DiseaseStatusValue.PROGRESSION and d]
    therapy = extract_therapy(ctx, progression)
    extract_local_treatment(ctx, course, _resection_targets(neo))
    pathology = extract_pathology(ctx, foreign)
    studies, uptake = extract_studies(ctx)
    molecular = extract_molecular(ctx, foreign)
    chromogranin, five_hiaa = extract_labs(ctx)
    symptoms = extract_symptoms(ctx)
    pending = extract_pending(ctx)
    metastatic_start = _metastatic_start(ctx, stage.stage, stage.metastatic_since, therapy.lines)

    facts = PatientFacts(
        patient_id=record.patient_id if isinstance(record.patient_id, str) else None,
        today=today,
        neoplasm=neo.neoplasm,
        other_cancers=neo.other_cancers,
        grade=grade.grade,
        ki67_percent=grade.ki67_percent,
        ki67_date=grade.ki67_date,
        mitotic_count_per_2mm2=grade.mitotic_count,
        grade_observed=grade.grade_observed,
        stage=stage.stage,
        metastatic_sites=stage.sites,
        brain_metastasis_count=stage.brain_count,
        high_disease_burden=stage.high_burden,
        figo_stage=stage.figo,
        tumor_size_cm=stage.tumor_size_cm,
        lymphovascular_invasion=stage.lvsi,
        deep_stromal_invasion=stage.deep_stromal_invasion,
        disease_status=course.disease_status,
        accelerating_progression=course.accelerating_progression,
        p53_aberrant=pathology.p53_aberrant,
        rb_lost=pathology.rb_lost,
        sstr2a_positive=pathology.sstr2a_positive,
        synaptophysin_positive=pathology.synaptophysin_positive,
        chromogranin_ihc_positive=pathology.chromogranin_ihc_positive,
        insm1_done=pathology.insm1_done,
        studies=studies,
        sstr_uptake_above_liver=uptake,
        msi_high=molecular.msi_high,
        mmr_deficient=molecular.mmr_deficient,
        tmb_per_mb=molecular.tmb_per_mb,
        braf_v600e=molecular.braf_v600e,
        ntrk_fusion=molecular.ntrk_fusion,
        ret_fusion=molecular.ret_fusion,
        ngs_done=molecular.ngs_done,
        chromogranin_a=chromogranin,
        five_hiaa=five_hiaa,
        hormonal_syndrome=symptoms.hormonal,
        carcinoid_syndrome=symptoms.carcinoid,
        neurologic_symptoms=symptoms.neurologic,
        neurologic_symptoms_since=symptoms.neurologic_since,
        cardiac_symptoms=symptoms.cardiac,
        exposures=therapy.exposures,
        lines=therapy.lines,
        intolerances=therapy.intolerances,
        resected=course.resected,
        surgery_date=course.surgery_date,
        surgical_margin_positive=course.margin_positive,
        radiation_not_amenable=course.radiation_not_amenable,
        chemoradiation_completed_date=course.chemoradiation_date,
        localized_treatment_completed=course.localized_completed,
        metastatic_treatment_start=metastatic_start,
        orders_pending=pending,
        ignored=tuple(ctx.ignored),
        sources=ctx.sources,
    )
    gaps = data_gaps(facts)
    return facts if not gaps else _with_gaps(facts, gaps)


def _with_gaps(facts: PatientFacts, gaps) -> PatientFacts:
    from dataclasses import replace

    return replace(facts, data_gaps=gaps)


def _resection_targets(neo) -> frozenset[str]:
    """Conditions a resection must name: the NEN primary (and duplicate NEN primaries), not a metastasis."""
    if neo.chosen is None:
        return frozenset()
    secondary = {c.item.ref for c in neo.secondaries}
    return frozenset(r for r in neo.nen_refs if r not in secondary) | {neo.chosen.item.ref}


def _metastatic_start(ctx: Context, stage: Stage, since: date | None, lines: tuple[TherapyLine, ...]) -> date | None:
    if stage is not Stage.METASTATIC:
        return None
    for line in lines:
        if line.start is None:
            continue
        if since is None or line.start >= since - METASTATIC_START_TOLERANCE:
            ctx.source("metastatic_treatment_start", *ctx.sources.get("lines", ()))
            return line.start
    return None
