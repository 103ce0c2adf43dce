"""The project's value sets: all load, carry their provenance, and hold no code codes.md rejects."""

from __future__ import annotations

import json
import re

import pytest

from cds_service.facts.extract.index import concept_index
from cds_service.facts.model import ImagingKind
from cds_service.facts.valuesets import CANONICAL_BASE, TEXT_PATTERN_URL, VALUESET_DIR, load_registry
from tests.support.paths import CODES_FILE

CODES_MD = CODES_FILE
FILES = sorted(VALUESET_DIR.glob("*.json"))
RAW = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in FILES}
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
HGNC = "http://www.genenames.org"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"

SHARED = {
    # studies
    *(k.value for k in ImagingKind), "brain-ct", "brain-imaging",
    # orders / tests
    "biopsy", "ki67-ihc", "p53-ihc", "rb-ihc", "sstr2a-ihc", "insm1-ihc", "chromogranin-a", "five-hiaa", "nse",
    "nen-tumor-marker", "msi-mmr-test", "ngs", "ctdna", "germline-testing", "pci", "whole-brain-rt",
    "stereotactic-radiosurgery", "radiation-therapy", "chemoradiation", "neoadjuvant-radiation",
    "liver-directed-therapy", "debulking-surgery", "radical-hysterectomy", "minimally-invasive-hysterectomy",
    "fertility-sparing-surgery", "surgical-resection",
    # agents
    "cisplatin", "carboplatin", "etoposide", "irinotecan", "fluorouracil", "leucovorin", "oxaliplatin",
    "capecitabine", "temozolomide", "octreotide", "lanreotide", "everolimus", "sunitinib", "lutetium-dotatate",
    "pembrolizumab", "nivolumab", "ipilimumab", "dostarlimab", "atezolizumab", "durvalumab", "larotrectinib",
    "entrectinib", "selpercatinib", "pralsetinib", "topotecan", "paclitaxel", "bevacizumab", "doxorubicin",
    "epirubicin", "docetaxel", "gemcitabine", "streptozocin", "dacarbazine",
    # classes
    "cis-carboplatin", "somatostatin-analog", "pd1-pdl1-inhibitor", "checkpoint-inhibitor", "anthracycline", "prrt",
    "fluoropyrimidine",
}  # fmt: skip

# codes.md section 6 (defects D1-D9) and codes its tables reject: never in any value set
DEFECTS = {
    (HGNC, "HGNC:7235"),  # D1: not MSH2
    (HGNC, "HGNC:262"),  # D2: not CYP2C19
    (ICDO3, "80463/3"),  # D3: 5-digit typo
    (SNOMED, "423827005"),  # D7: generic endoscopy, not EGD
    (SNOMED, "241615005"),  # D8: MRI of breast
    (RXNORM, "1799303"),  # D9: PCDC doxorubicin
    (RXNORM, "1792776"),  # D5: atezolizumab from the rejected registry file
    (RXNORM, "1919505"),  # D5: durvalumab from the rejected registry file
    (RXNORM, "1535467"),  # D5 crizotinib
    (RXNORM, "1727444"),  # D5 alectinib
    (RXNORM, "1925188"),  # D5 lorlatinib
    (RXNORM, "1855581"),  # D5 brigatinib
    (LOINC, "42271-6"),  # D6
    (LOINC, "29252-4"),  # D6
    (LOINC, "79101-9"),  # codes.md s.3: conflicting CT A/P codes, rejected
    (LOINC, "79103-8"),
    (LOINC, "42272-5"),
    (LOINC, "24589-4"),  # SINGLE-SOURCE and not listed in INPUTS.md
    (SNOMED, "1286769009"),  # SINGLE-SOURCE WD NET G1 morph, not in INPUTS.md
    (SNOMED, "1286770005"),  # SINGLE-SOURCE WD NET G2 morph, not in INPUTS.md
    (SNOMED, "438415006"),  # SINGLE-SOURCE Y-90, not in INPUTS.md
    (SNOMED, "423740007"),  # SINGLE-SOURCE ECOG observable
}
# D5: 62862-8 is right for MSI/MMR IHC but wrong for BRAF; 89243-0 is Karnofsky, not ECOG
WRONG_IN = {("braf-v600e-ihc", LOINC, "62862-8"), ("gene-braf", LOINC, "62862-8")}

# SINGLE-SOURCE codes accepted on input only because INPUTS.md lists them (or the task allows RxNorm ingredients)
INPUT_ONLY = {
    (SNOMED, "764695006"), (LOINC, "42274-1"), (LOINC, "24557-1"), (SNOMED, "1286768001"), (SNOMED, "2667000"),
    (RXNORM, "37776"), (RXNORM, "7617"), (RXNORM, "141704"), (RXNORM, "1597876"), (RXNORM, "2105628"),
    (RXNORM, "57308"), (RXNORM, "253337"), (RXNORM, "72962"), (RXNORM, "3098"),
}  # fmt: skip


def _codes(data: dict) -> set[tuple[str, str]]:
    out = set()
    for include in data.get("compose", {}).get("include", []):
        for concept in include.get("concept", []):
            out.add((include.get("system"), concept["code"]))
    return out


def _single_source_codes() -> set[str]:
    """Codes in rows of codes.md marked SINGLE-SOURCE or UNVERIFIED (the code column)."""
    found = set()
    for line in CODES_MD.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 6 and ("SINGLE-SOURCE" in cells[6] or cells[6].startswith("UNVERIFIED")):
            for code in re.split(r"\s*/\s*|,\s*", cells[3]):
                if code and code != "-":
                    found.add(code)
    return found


def test_every_value_set_loads_and_names_itself():
    registry = load_registry()
    assert len(registry.names()) == len(FILES) > 100
    for name, data in RAW.items():
        assert data["id"] == name
        assert data["url"] == f"{CANONICAL_BASE}/ValueSet/{name}"
        assert data["status"] == "active"
        assert len(data.get("description", "")) > 10


def test_every_value_set_validates_as_r4b():
    from fhir.resources.R4B.valueset import ValueSet

    for data in RAW.values():
        ValueSet.model_validate(data)


def test_the_shared_value_sets_exist():
    missing = SHARED - set(RAW)
    assert not missing


def test_every_shared_value_set_recognises_something():
    for name in SHARED:
        data = RAW[name]
        has_text = any(e.get("url") == TEXT_PATTERN_URL for e in data.get("extension", []))
        assert has_text or data.get("compose"), name


@pytest.mark.parametrize("name", sorted(RAW))
def test_no_defective_code(name):
    codes = _codes(RAW[name])
    assert not codes & DEFECTS, name
    for vs, system, code in WRONG_IN:
        assert not (vs == name and (system, code) in codes)


def test_single_source_codes_only_where_inputs_md_lists_them():
    suspicious = _single_source_codes()
    for name, data in RAW.items():
        for system, code in _codes(data):
            if code in suspicious:
                assert (system, code) in INPUT_ONLY, f"{name}: {system}#{code} is SINGLE-SOURCE/UNVERIFIED"
                assert "SINGLE-SOURCE" in data["description"] or "INPUTS.md" in data["description"], name


def test_single_source_rxnorm_codes_say_input_only():
    for name, data in RAW.items():
        if (RXNORM, "7617") in _codes(data) and name == "octreotide":
            assert "INPUT ONLY" in data["description"]


def test_agent_classes_are_unions_of_the_agents():
    index = concept_index()
    assert set(index.members("pd1-pdl1-inhibitor")) == {
        "pembrolizumab",
        "nivolumab",
        "dostarlimab",
        "atezolizumab",
        "durvalumab",
    }
    assert set(index.members("checkpoint-inhibitor")) == {"pd1-pdl1-inhibitor", "ipilimumab"}
    assert set(index.members("fluoropyrimidine")) == {"fluorouracil", "capecitabine"}
    assert set(index.members("brain-imaging")) == {"brain-mri", "brain-ct"}
    registry = load_registry()
    assert registry["checkpoint-inhibitor"].has_code(RXNORM, "1547545")  # pembrolizumab, VERIFIED
    assert registry["checkpoint-inhibitor"].matches_text("Yervoy 3 mg/kg")
    assert registry["prrt"].matches_text("peptide receptor radionuclide therapy")


def test_nen_fact_codes_are_all_defined():
    cs = json.loads((VALUESET_DIR.parent / "CodeSystem" / "nen-fact.json").read_text(encoding="utf-8"))
    defined = {c["code"] for c in cs["concept"]}
    for name, data in RAW.items():
        for system, code in _codes(data):
            if system == cs["url"]:
                assert code in defined, name


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("sstr-pet", "Ga-68 DOTATATE PET/CT", True),
        ("sstr-pet", "Cu-64 dotatate PET", True),
        ("sstr-pet", "Ga-68 PSMA-11 PET", False),  # not somatostatin-receptor imaging
        ("lutetium-dotatate", "Lutathera 7.4 GBq", True),
        ("lutetium-dotatate", "Lu-177 PSMA-617 (Pluvicto)", False),
        ("biopsy", "CT-guided biopsy of liver lesion", True),
        ("biopsy", "liquid biopsy (ctDNA)", False),
        ("ctdna", "liquid biopsy (ctDNA)", True),
        ("fertility-sparing-surgery", "Cold knife cone biopsy", True),
        ("egd", "Upper endoscopy", True),
        ("brain-imaging", "CT head without contrast", True),
        ("five-hiaa", "24h urine 5-HIAA", True),
        ("fluorouracil", "5-FU 400 mg/m2 bolus", True),
        ("oxaliplatin", "carboplatin AUC 5", False),
        ("cisplatin", "carboplatin AUC 5", False),
        ("msi-mmr-test", "MMR vaccine", False),
        ("echocardiogram", "echogenic liver", False),
    ],
)
def test_text_patterns(name, text, expected):
    assert load_registry()[name].matches_text(text) is expected


def test_egd_cpt_range_is_enumerated():
    codes = {c for _, c in _codes(RAW["egd"])}
    assert codes == {str(c) for c in range(43235, 43260)}


def test_code_system_and_extension_definition_validate():
    from fhir.resources.R4B.codesystem import CodeSystem
    from fhir.resources.R4B.structuredefinition import StructureDefinition

    root = VALUESET_DIR.parent
    CodeSystem.model_validate(json.loads((root / "CodeSystem" / "nen-fact.json").read_text(encoding="utf-8")))
    sd = json.loads((root / "StructureDefinition" / "text-pattern.json").read_text(encoding="utf-8"))
    StructureDefinition.model_validate(sd)
    assert sd["url"] == TEXT_PATTERN_URL


def test_every_input_page_links_existing_value_sets():
    pages = sorted((VALUESET_DIR.parent / "inputs").glob("*.md"))
    assert len(pages) >= 10
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "hl7.org/fhir/us/mcode" in text or "US Core" in text or "ImagingStudy" in text, page.name
        for name in re.findall(r"\.\./ValueSet/([\w-]+)\.json", text):
            assert name in RAW, (page.name, name)
