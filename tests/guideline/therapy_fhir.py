"""FHIR R4 scenarios for the treatment chapters, built only from the forms of shared/guideline/INPUTS.md.

Each scenario is a list of resources (a synthetic Patient first) that the HTTP tests send through the
patient-view hook and from which the demo bundles ``cds_service/demo/patients/b-*.json`` were written
(``python -m tests.guideline.therapy_fhir`` rewrites them). Codes come from shared/terminology/codes.md.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from cds_service.demo.dates import shift_dates
from cds_service.guideline import GUIDELINE_SYSTEM
from tests.support.fhir import (
    LOINC,
    RXNORM,
    SNOMED,
    VERIFIED_RXNORM,
    bundle,
    cc,
    disease_status,
    figo,
    hook_request,
    ki67,
    m_category,
    nen_condition,
    nen_fact,
    observation,
    patient,
    report,
    secondary,
    sstr_pet,
    subject,
)

HGNC = "http://www.genenames.org"
SEQUENCE_ONTOLOGY = "http://www.sequenceontology.org"
HGVS = "http://varnomen.hgvs.org"
PROGRESSION, STABLE, IMPROVED = "271299001", "359746009", "268910001"
DEMO_DIR = Path(__file__).resolve().parents[2] / "cds_service" / "demo" / "patients"

RX = VERIFIED_RXNORM
FIGO_NCIT = {
    "IA1": "C96246",
    "IA2": "C96247",
    "IB1": "C96249",
    "IB2": "C96250",
    "IB3": "C162222",
    "IIA1": "C162223",
    "IIA2": "C162224",
    "IIB": "C96254",
    "IVA": "C96262",
    "IVB": "C96263",
}


def medication_statement(
    agent: str, *, start: str, end: str | None = None, status: str = "completed", id: str, pid: str
) -> dict[str, Any]:
    """An agent given over a period (MedicationStatement.effectivePeriod)."""
    concept: dict[str, Any] = cc(RXNORM, RX[agent], agent) if agent in RX else {}
    concept["text"] = agent
    period = {"start": start, **({"end": end} if end else {})}
    return {
        "resourceType": "MedicationStatement",
        "id": id,
        "status": status,
        "medicationCodeableConcept": concept,
        "subject": subject(pid),
        "effectivePeriod": period,
    }


def regimen(*agents: str, start: str, end: str | None = None, pid: str, tag: str) -> list[dict[str, Any]]:
    status = "completed" if end else "active"
    return [
        medication_statement(a, start=start, end=end, status=status, id=f"{pid}-{tag}-{a}", pid=pid) for a in agents
    ]


def surgery(text: str, *, performed: str, condition_id: str, id: str, pid: str) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": id,
        "status": "completed",
        "category": cc(SNOMED, "387713003", "Surgical procedure"),
        "code": {"text": text},
        "subject": subject(pid),
        "performedDateTime": performed,
        "reasonReference": [{"reference": f"Condition/{condition_id}"}],
    }


def variant(gene_hgnc: str, gene: str, *, fusion: bool = False, protein: str | None = None, **kw: Any) -> dict:
    components = [
        {"code": cc(LOINC, "48018-6", "Gene studied [ID]"), "valueCodeableConcept": cc(HGNC, gene_hgnc, gene)}
    ]
    if fusion:
        components.append(
            {
                "code": cc(LOINC, "48019-4", "DNA change type"),
                "valueCodeableConcept": cc(SEQUENCE_ONTOLOGY, "SO:0001565", "gene_fusion"),
            }
        )
    if protein:
        components.append(
            {"code": cc(LOINC, "48005-3", "Amino acid change (pHGVS)"), "valueCodeableConcept": cc(HGVS, protein)}
        )
    return observation(
        cc(LOINC, "69548-6", "Genetic variant assessment"),
        valueCodeableConcept=cc(LOINC, "LA9633-4", "Present"),
        component=components,
        **kw,
    )


def ngs_report(*, pid: str, date: str = "2026-05-20") -> dict[str, Any]:
    return report(cc(LOINC, "51969-4", "Genetic analysis report"), date=date, id=f"{pid}-ngs", patient_id=pid)


# ---------------------------------------------------------------- scenarios


def _base(pid: str, kind: str, site: str, icd10: str | None, ki67_pct: float, *, metastatic: bool = True) -> list:
    res = [
        patient(pid),
        nen_condition(kind, site, icd10, id=f"{pid}-nen", onset="2026-03-01", patient_id=pid),
        ki67(ki67_pct, id=f"{pid}-ki67", effective="2026-03-05", patient_id=pid),
    ]
    res.append(
        m_category("1229903009" if metastatic else "1229901006", id=f"{pid}-m", effective="2026-03-08", patient_id=pid)
    )
    return res


def _met(pid: str, icd10: str, n: int = 1) -> dict[str, Any]:
    return secondary(icd10, id=f"{pid}-met{n}", onset="2026-03-08", patient_id=pid)


def _status(pid: str, snomed: str, on: str, n: int = 1) -> dict[str, Any]:
    return disease_status(snomed, id=f"{pid}-status{n}", effective=on, patient_id=pid)


def net_pancreas_untreated(pid: str = "b-net-pancreas-untreated") -> list[dict[str, Any]]:
    """Metastatic pancreatic G3 NET, Ki-67 30%, liver-only metastases, SSTR-PET positive, untreated."""
    return [
        *_base(pid, "NET", "C25.4", "C25.4", 30),
        _met(pid, "C78.7"),
        sstr_pet(True, id=f"{pid}-sstr", date="2026-03-10", patient_id=pid),
    ]


def net_pancreas_refractory(pid: str = "b-net-pancreas-refractory") -> list[dict[str, Any]]:
    """Pancreatic G3 NET Ki-67 40%, liver + bone metastases, progressing on CAPTEM, SSTR uptake above liver."""
    return [
        *_base(pid, "NET", "C25.4", "C25.4", 40),
        _met(pid, "C78.7"),
        _met(pid, "C79.51", 2),
        sstr_pet(True, id=f"{pid}-sstr", date="2026-03-10", patient_id=pid),
        nen_fact("sstr-uptake-greater-than-liver", valueBoolean=True, id=f"{pid}-uptake", patient_id=pid),
        *regimen("capecitabine", "temozolomide", start="2026-04-01", pid=pid, tag="captem"),
        _status(pid, STABLE, "2026-07-01"),
        _status(pid, PROGRESSION, "2026-10-15", 2),
    ]


def nec_colorectal_first_line(pid: str = "b-nec-colorectal-first-line") -> list[dict[str, Any]]:
    """Metastatic colorectal NEC (Ki-67 80%), liver metastases, BRAF V600E, untreated."""
    return [
        *_base(pid, "NEC", "C18.7", None, 80),
        _met(pid, "C78.7"),
        variant("HGNC:1097", "BRAF", protein="NP_004324.2:p.Val600Glu", id=f"{pid}-braf", patient_id=pid),
        ngs_report(pid=pid),
    ]


def nec_progressing_on_ep(pid: str = "b-nec-progressing-on-ep") -> list[dict[str, Any]]:
    """Metastatic pancreatic NEC progressing on cisplatin + etoposide (first line)."""
    return [
        *_base(pid, "NEC", "C25.0", None, 85),
        _met(pid, "C78.7"),
        *regimen("cisplatin", "etoposide", start="2026-04-01", pid=pid, tag="ep"),
        _status(pid, PROGRESSION, "2026-10-20"),
    ]


def nec_platinum_sensitive(pid: str = "b-nec-platinum-sensitive") -> list[dict[str, Any]]:
    """Metastatic gastric NEC: carboplatin + etoposide Mar-Jun, response, progression in October (4 months)."""
    return [
        *_base(pid, "NEC", "C16.9", None, 75),
        _met(pid, "C78.7"),
        *regimen("carboplatin", "etoposide", start="2026-03-10", end="2026-06-20", pid=pid, tag="ep"),
        _status(pid, IMPROVED, "2026-06-25"),
        _status(pid, PROGRESSION, "2026-10-25", 2),
    ]


def nec_msi_high(pid: str = "b-nec-msi-high") -> list[dict[str, Any]]:
    """Metastatic small-bowel NEC, MSI-high, untreated."""
    msi = observation(
        cc(LOINC, "81695-9", "Microsatellite instability"),
        valueCodeableConcept=cc(LOINC, "LA26203-2", "MSI-H"),
        id=f"{pid}-msi",
        patient_id=pid,
    )
    return [*_base(pid, "NEC", "C17.9", None, 70), _met(pid, "C78.6"), msi]


def nec_ntrk_fusion(pid: str = "b-nec-ntrk-fusion") -> list[dict[str, Any]]:
    """Metastatic unknown-primary NEC with an NTRK1 fusion."""
    return [
        *_base(pid, "NEC", "C80.9", "C7A.1", 90),
        _met(pid, "C78.7"),
        variant("HGNC:8031", "NTRK1", fusion=True, id=f"{pid}-ntrk", patient_id=pid),
        ngs_report(pid=pid),
    ]


def nec_ret_fusion(pid: str = "b-nec-ret-fusion") -> list[dict[str, Any]]:
    """Metastatic pancreatic NEC with a RET fusion."""
    return [
        *_base(pid, "NEC", "C25.9", None, 80),
        _met(pid, "C78.7"),
        variant("HGNC:9967", "RET", fusion=True, id=f"{pid}-ret", patient_id=pid),
        ngs_report(pid=pid),
    ]


def nec_brain_mets_2(pid: str = "b-nec-brain-mets-2") -> list[dict[str, Any]]:
    """Metastatic rectal NEC with two brain metastases (two brain secondary conditions)."""
    return [
        *_base(pid, "NEC", "C20.9", None, 80),
        _met(pid, "C78.7"),
        _met(pid, "C79.31", 2),
        _met(pid, "C79.31", 3),
    ]


def nec_brain_mets_6(pid: str = "b-nec-brain-mets-6") -> list[dict[str, Any]]:
    """Metastatic esophageal NEC with six brain metastases (nen-fact#brain-metastasis-count)."""
    return [
        *_base(pid, "NEC", "C15.5", None, 90),
        _met(pid, "C79.31"),
        nen_fact("brain-metastasis-count", valueInteger=6, id=f"{pid}-brain-count", patient_id=pid),
    ]


def _cervix(pid: str, stage: str, *, metastatic: bool = False) -> list[dict[str, Any]]:
    res = [
        patient(pid),
        nen_condition("SCNEC", "C53.9", "C53.9", id=f"{pid}-nen", onset="2026-03-01", patient_id=pid),
        ki67(90, id=f"{pid}-ki67", effective="2026-03-05", patient_id=pid),
        figo(FIGO_NCIT[stage], id=f"{pid}-figo", effective="2026-03-09", patient_id=pid),
    ]
    if metastatic:
        res += [_met(pid, "C78.7"), m_category(id=f"{pid}-m", effective="2026-03-08", patient_id=pid)]
    return res


def cervix_nec_ib1(pid: str = "b-cervix-nec-ib1") -> list[dict[str, Any]]:
    """Small-cell cervical NEC FIGO IB1, not operated."""
    return _cervix(pid, "IB1")


def cervix_nec_ib1_operated(pid: str = "b-cervix-nec-ib1-operated") -> list[dict[str, Any]]:
    """Small-cell cervical NEC FIGO IB1 after open radical hysterectomy; 3 cm tumor with LVSI."""
    return [
        *_cervix(pid, "IB1"),
        surgery(
            "Open radical hysterectomy with pelvic lymphadenectomy",
            performed="2026-04-10",
            condition_id=f"{pid}-nen",
            id=f"{pid}-surgery",
            pid=pid,
        ),
        observation(
            cc(LOINC, "21889-1", "Size Tumor"),
            valueQuantity={"value": 3, "unit": "cm", "system": "http://unitsofmeasure.org", "code": "cm"},
            id=f"{pid}-size",
            effective="2026-04-12",
            patient_id=pid,
        ),
        observation(
            cc(LOINC, "59544-7"),
            valueCodeableConcept=cc(SNOMED, "52101004", "Present"),
            id=f"{pid}-lvsi",
            effective="2026-04-12",
            patient_id=pid,
        ),
        nen_fact("deep-stromal-invasion", valueBoolean=False, id=f"{pid}-dsi", effective="2026-04-12", patient_id=pid),
    ]


def cervix_nec_iia1(pid: str = "b-cervix-nec-iia1") -> list[dict[str, Any]]:
    """Small-cell cervical NEC FIGO IIA1, untreated."""
    return _cervix(pid, "IIA1")


def cervix_nec_ivb(pid: str = "b-cervix-nec-ivb") -> list[dict[str, Any]]:
    """Small-cell cervical NEC FIGO IVB (liver metastases), untreated."""
    return _cervix(pid, "IVB", metastatic=True)


def cervix_nec_progressing(pid: str = "b-cervix-nec-progressing") -> list[dict[str, Any]]:
    """Cervical NEC FIGO IVB progressing after cisplatin + etoposide."""
    return [
        *_cervix(pid, "IVB", metastatic=True),
        *regimen("cisplatin", "etoposide", start="2026-03-20", end="2026-07-30", pid=pid, tag="ep"),
        _status(pid, PROGRESSION, "2026-08-30"),
    ]


def net_cervix(pid: str = "b-net-cervix") -> list[dict[str, Any]]:
    """Well-differentiated G3 NET recorded in the cervix (Ki-67 25%), localized."""
    return _base(pid, "NET", "C53.9", "C53.9", 25, metastatic=False)


SCENARIOS = {
    fn.__defaults__[0]: fn  # type: ignore[index]
    for fn in (
        net_pancreas_untreated,
        net_pancreas_refractory,
        nec_colorectal_first_line,
        nec_progressing_on_ep,
        nec_platinum_sensitive,
        nec_msi_high,
        nec_ntrk_fusion,
        nec_ret_fusion,
        nec_brain_mets_2,
        nec_brain_mets_6,
        cervix_nec_ib1,
        cervix_nec_ib1_operated,
        cervix_nec_iia1,
        cervix_nec_ivb,
        cervix_nec_progressing,
        net_cervix,
    )
}


def write_demo_bundles(directory: Path = DEMO_DIR) -> list[Path]:
    written = []
    for name, build in SCENARIOS.items():
        path = directory / f"{name}.json"
        demo = bundle(*build())
        demo["timestamp"] = f"{DEMO_TODAY.isoformat()}T00:00:00Z"  # the as-of date the demo shifts from
        doc = (build.__doc__ or "").strip().split("\n")[0]
        demo["meta"] = {"tag": [{"system": "https://nen-cds.org/fhir/CodeSystem/demo", "code": name, "display": doc}]}
        path.write_text(json.dumps(demo, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


# ---------------------------------------------------------------- HTTP helpers (patient-view hook)


def patient_view(call_hook, resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """POST the scenario to the patient-view service (prefetch filled); returns the cards."""
    pid = resources[0]["id"]
    code, body = call_hook(hook_request("patient-view", *as_of_today(resources), patient_id=pid))
    assert code == 200, body
    return body["cards"]


def delivered(cards: list[dict[str, Any]], rec_id: str) -> dict[str, Any] | None:
    """The card whose topic (guideline code system) is the catalog id, if any."""
    hits = [
        c
        for c in cards
        if c["source"].get("topic", {}).get("system") == GUIDELINE_SYSTEM and c["source"]["topic"]["code"] == rec_id
    ]
    assert len(hits) <= 1, f"{rec_id} delivered twice"
    return hits[0] if hits else None


def assert_delivers(cards: list[dict[str, Any]], rec_id: str) -> dict[str, Any]:
    """The card for ``rec_id``; every suggested resource names the entry as CONTRACT.md says."""
    card = delivered(cards, rec_id)
    assert card is not None, f"{rec_id} not delivered; got {[c['source']['topic']['code'] for c in cards]}"
    for group in created(card):
        for resource in group:
            assert any(url.endswith(f"/{rec_id}") for url in resource.get("instantiatesCanonical", [])), resource
    return card


def created(card: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The resources each suggestion creates, suggestion by suggestion."""
    return [[a["resource"] for a in s["actions"] if a["type"] == "create"] for s in card.get("suggestions", [])]


def rxnorm_codes(resources: list[dict[str, Any]]) -> set[str]:
    return {
        coding["code"]
        for r in resources
        for coding in r.get("medicationCodeableConcept", {}).get("coding", [])
        if coding.get("system") == RXNORM
    }


def text_of(resources: list[dict[str, Any]]) -> str:
    parts = [(r.get("medicationCodeableConcept") or r.get("code") or {}).get("text", "") for r in resources]
    return " | ".join(parts).lower()


def replace(resources: list[dict[str, Any]], resource_id: str, new: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The scenario with one resource swapped (or removed when ``new`` is None)."""
    assert any(r.get("id") == resource_id for r in resources), resource_id
    out = [new if r.get("id") == resource_id else r for r in resources]
    return [r for r in out if r is not None]


# ---------------------------------------------------------------- demo patients

DEMO_TODAY = date(2026, 11, 28)  # the scenarios' as-of date (the demo bundles' timestamp)


def as_of_today(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The scenario with its dates moved so that DEMO_TODAY falls on today (HTTP tests use the real clock)."""
    return shift_dates(resources, date.today() - DEMO_TODAY)


@cache
def demo_fired() -> dict[str, frozenset[str]]:
    """Catalog ids fired on patient-view for each demo bundle ``b-*.json`` (no HTTP)."""
    from cds_service.pipeline import evaluate_bundle

    out = {}
    for path in sorted(DEMO_DIR.glob("b-*.json")):
        _, evaluation = evaluate_bundle(json.loads(path.read_text(encoding="utf-8")), today=DEMO_TODAY)
        out[path.stem] = frozenset(d.rec.id for d in evaluation.fired)
    return out


def assert_demo_coverage(rec_id: str) -> None:
    """The entry fires in at least one demo patient and stays silent in another."""
    fired_in = [name for name, ids in demo_fired().items() if rec_id in ids]
    silent_in = [name for name, ids in demo_fired().items() if rec_id not in ids]
    assert fired_in, f"{rec_id} fires in no demo patient"
    assert silent_in, f"{rec_id} fires in every demo patient"


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    for p in write_demo_bundles():
        sys.stdout.write(f"{p}\n")
