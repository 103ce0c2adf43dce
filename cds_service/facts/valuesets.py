"""Value sets read from ``fhir_profiles/ValueSet/*.json``: the only place codes live.

Each ValueSet's ``id`` is the concept name the code refers to (``sstr-pet``, ``cisplatin``...).
Supported compose features (documented in ``fhir_profiles/README.md``):

- ``include[].concept``: enumerated codes of one ``system``;
- ``include[].filter`` with ``op: is-a`` on ICD-10-CM or ICD-O-3 topography: the code and every
  code below it, which in those classifications is a prefix match (``C7A.0`` covers ``C7A.010``);
- ``include[].valueSet``: the union of other value sets of this project (canonical URL);
- the extension ``https://nen-cds.org/fhir/StructureDefinition/text-pattern`` (valueString, any
  number): words that recognise the concept in free text (order text, Medication.code.text,
  coding.display) when no code is recognised. Matched case-insensitively on word boundaries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PROFILE_ROOT = Path(__file__).resolve().parents[2] / "fhir_profiles"
VALUESET_DIR = PROFILE_ROOT / "ValueSet"
CANONICAL_BASE = "https://nen-cds.org/fhir"
TEXT_PATTERN_URL = f"{CANONICAL_BASE}/StructureDefinition/text-pattern"
NEN_FACT_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/nen-fact"

ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
HGNC = "http://www.genenames.org"

# Equivalent spellings of one code system seen in real feeds (codes.md section 0).
SYSTEM_ALIASES: Mapping[str, str] = {
    "urn:oid:2.16.840.1.113883.6.43.1": ICDO3,
    "http://www.genenames.org/geneId": HGNC,
    "urn:oid:2.16.840.1.113883.6.90": ICD10CM,
    "http://hl7.org/fhir/sid/icd-10-us": ICD10CM,
}
_HIERARCHICAL_PREFIX_SYSTEMS = frozenset({ICD10CM, ICDO3})
_TOPOGRAPHY = re.compile(r"^(C\d{2})(\d)$")  # undotted ICD-O-3 topography: C254 -> C25.4
_ICD10_UNDOTTED = re.compile(r"^([A-TV-Z]\d[0-9A-Z])([0-9A-Z]{1,4})$")


def normalise_system(system: str | None) -> str:
    system = (system or "").strip()
    return SYSTEM_ALIASES.get(system, system)


def normalise_code(system: str, code: str | None) -> str:
    """Canonical spelling of a code: dotted ICD-10-CM / topography, upper case."""
    code = (code or "").strip()
    if system in _HIERARCHICAL_PREFIX_SYSTEMS:
        code = code.upper()
        if "/" not in code and "." not in code:
            match = _TOPOGRAPHY.match(code) or _ICD10_UNDOTTED.match(code)
            if match:
                code = f"{match.group(1)}.{match.group(2)}"
    return code


@dataclass(frozen=True)
class ValueSet:
    name: str
    url: str
    title: str
    codes: frozenset[tuple[str, str]]  # (system, code)
    prefixes: tuple[tuple[str, str], ...]  # (system, code prefix) from is-a filters
    patterns: tuple[re.Pattern[str], ...]

    def has_code(self, system: str | None, code: str | None) -> bool:
        system = normalise_system(system)
        code = normalise_code(system, code)
        if not code:
            return False
        if (system, code) in self.codes:
            return True
        return any(system == s and code.startswith(p) for s, p in self.prefixes)

    def matches_coding(self, coding: Mapping | None) -> bool:
        return isinstance(coding, Mapping) and self.has_code(coding.get("system"), coding.get("code"))

    def matches_concept(self, concept: Mapping | None) -> bool:
        """A CodeableConcept matches when any of its codings is in the set."""
        if not isinstance(concept, Mapping):
            return False
        codings = concept.get("coding")
        return isinstance(codings, list) and any(self.matches_coding(c) for c in codings)

    def matches_text(self, text: str | None) -> bool:
        return bool(text) and any(p.search(text) for p in self.patterns)  # type: ignore[arg-type]


class ValueSetRegistry:
    """All value sets of the project, loaded once and checked at start-up."""

    def __init__(self, valuesets: Iterable[ValueSet]):
        self._by_name = {vs.name: vs for vs in valuesets}

    def __getitem__(self, name: str) -> ValueSet:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no value set named {name!r} in {VALUESET_DIR}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def all(self) -> list[ValueSet]:
        return [self._by_name[n] for n in self.names()]

    def concepts_for(self, concept: Mapping | None, names: Iterable[str]) -> frozenset[str]:
        """The names among ``names`` whose value set holds a coding of ``concept``."""
        return frozenset(n for n in names if self[n].matches_concept(concept))

    def concepts_in_text(self, text: str | None, names: Iterable[str]) -> frozenset[str]:
        return frozenset(n for n in names if self[n].matches_text(text))


def _pattern(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(word.strip()) + r"(?![A-Za-z0-9])", re.IGNORECASE)


def _read(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("resourceType") != "ValueSet" or not data.get("id"):
        raise ValueError(f"{path} is not a ValueSet with an id")
    return data


def load_registry(directory: Path = VALUESET_DIR) -> ValueSetRegistry:
    raw = {d["url"]: d for d in (_read(p) for p in sorted(directory.glob("*.json")))}
    built: dict[str, ValueSet] = {}

    def build(url: str, trail: tuple[str, ...] = ()) -> ValueSet:
        if url in built:
            return built[url]
        if url in trail:
            raise ValueError(f"value set cycle: {' -> '.join((*trail, url))}")
        if url not in raw:
            raise ValueError(f"value set {url} is referenced but not defined in {directory}")
        data = raw[url]
        codes: set[tuple[str, str]] = set()
        prefixes: list[tuple[str, str]] = []
        patterns = [
            _pattern(e["valueString"])
            for e in data.get("extension", [])
            if e.get("url") == TEXT_PATTERN_URL and e.get("valueString")
        ]
        for include in data.get("compose", {}).get("include", []):
            system = normalise_system(include.get("system"))
            for concept in include.get("concept", []):
                codes.add((system, normalise_code(system, concept["code"])))
            for flt in include.get("filter", []):
                if flt.get("op") != "is-a" or system not in _HIERARCHICAL_PREFIX_SYSTEMS:
                    raise ValueError(f"{url}: only is-a filters on ICD-10-CM / ICD-O-3 are supported")
                prefixes.append((system, normalise_code(system, flt["value"])))
            for ref in include.get("valueSet", []):
                child = build(ref, (*trail, url))
                codes |= child.codes
                prefixes.extend(child.prefixes)
                patterns.extend(child.patterns)
        vs = ValueSet(
            name=data["id"],
            url=url,
            title=data.get("title", data["id"]),
            codes=frozenset(codes),
            prefixes=tuple(prefixes),
            patterns=tuple(patterns),
        )
        built[url] = vs
        return vs

    return ValueSetRegistry(build(url) for url in raw)


@cache
def registry() -> ValueSetRegistry:
    """The project's value sets (loaded once per process)."""
    return load_registry()
