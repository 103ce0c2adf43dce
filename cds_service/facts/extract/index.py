"""The project's value sets indexed once for fast recognition of many resources.

``ValueSetRegistry`` answers "is this coding in value set X?"; the facts layer needs the reverse
("which value sets hold this coding?") for a few hundred resources within a few milliseconds.
``ConceptIndex`` inverts the registry once per process: exact codes in a dict, ``is-a`` prefixes
in a dict per prefix length, and per value set one combined text regex. Codes still live only in
``fhir_profiles/ValueSet``; this module holds none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from cds_service.facts.extract import fhir
from cds_service.facts.valuesets import (
    VALUESET_DIR,
    ValueSetRegistry,
    normalise_code,
    normalise_system,
    registry,
)

_MAX_PREFIX = 12
_CACHE_LIMIT = 50_000  # distinct (system, code) pairs remembered; beyond it lookups are just not cached
_TEXT_CACHE_LIMIT = 4_096  # distinct (family, text) answers remembered before the cache starts over
_NONE: frozenset[str] = frozenset()


class ConceptIndex:
    def __init__(self, values: ValueSetRegistry, raw: Mapping[str, Mapping[str, Any]] | None = None):
        self.values = values
        exact: dict[tuple[str, str], set[str]] = {}
        prefixes: dict[tuple[str, str], set[str]] = {}
        lengths: dict[str, set[int]] = {}
        self._text: dict[str, re.Pattern[str]] = {}
        for vs in values.all():
            for key in vs.codes:
                exact.setdefault(key, set()).add(vs.name)
            for system, prefix in vs.prefixes:
                prefixes.setdefault((system, prefix), set()).add(vs.name)
                lengths.setdefault(system, set()).add(len(prefix))
            if vs.patterns:
                self._text[vs.name] = re.compile("|".join(f"(?:{p.pattern})" for p in vs.patterns), re.IGNORECASE)
        self._exact = {k: frozenset(v) for k, v in exact.items()}
        self._prefixes = {k: frozenset(v) for k, v in prefixes.items()}
        self._lengths = {s: sorted(ls) for s, ls in lengths.items()}
        self._raw = dict(raw or {})
        self._families: dict[tuple[str, ...], tuple[re.Pattern[str] | None, tuple[str, ...]]] = {}
        self._seen: dict[tuple[Any, Any], frozenset[str]] = {}  # raw (system, code) -> names, bounded
        self.known_codings = self._seen  # read-only view for callers that inline names_for_coding's lookup
        self._family_of: dict[tuple[str, ...] | frozenset[str], tuple[re.Pattern[str] | None, tuple[str, ...]]] = {}
        self._text_seen: dict[tuple[tuple[str, ...], str], frozenset[str]] = {}  # (family, text) -> names, bounded
        self._members: dict[str, tuple[str, ...]] = {}
        self._displays: dict[str, dict[tuple[str, str], str]] = {}

    # ---------------------------------------------------------------- codes
    def names_for_coding(self, coding: Any) -> frozenset[str]:
        if not fhir.is_map(coding):
            return _NONE
        raw_system, raw_code = coding.get("system"), coding.get("code")
        if not isinstance(raw_code, str) or not isinstance(raw_system, str | None):
            return _NONE
        key = (raw_system, raw_code)
        hit = self._seen.get(key)
        if hit is None:
            hit = self._lookup(raw_system, raw_code)
            if len(self._seen) < _CACHE_LIMIT:
                self._seen[key] = hit
        return hit

    def _lookup(self, raw_system: str | None, raw_code: str) -> frozenset[str]:
        if len(raw_code) > 100 or (raw_system is not None and len(raw_system) > 300):
            return _NONE
        system = normalise_system(raw_system)
        code = normalise_code(system, raw_code)
        if not code:
            return _NONE
        found = self._exact.get((system, code), _NONE)
        for length in self._lengths.get(system, ()):
            if length > len(code) or length > _MAX_PREFIX:
                break
            hit = self._prefixes.get((system, code[:length]))
            if hit:
                found = found | hit
        return found

    def names_for_concept(self, cc: Any) -> frozenset[str]:
        if type(cc) is not dict and not fhir.is_map(cc):
            return _NONE
        codings = cc.get("coding")
        if type(codings) is not list:
            return self.names_for_coding(codings) if fhir.is_map(codings) else _NONE
        found = _NONE
        seen = self._seen
        for coding in codings:
            # names_for_coding inlined for the JSON case (a dict with a str code): this runs per resource
            if type(coding) is dict:
                raw_code, raw_system = coding.get("code"), coding.get("system")
                if type(raw_code) is str and (raw_system is None or type(raw_system) is str):
                    hit = seen.get((raw_system, raw_code))
                    if hit is None:
                        hit = self.names_for_coding(coding)
                else:
                    hit = self.names_for_coding(coding)
            else:
                hit = self.names_for_coding(coding)
            if hit:
                found = found | hit if found else hit
        return found

    def in_set(self, name: str, cc: Any) -> bool:
        return name in self.names_for_concept(cc)

    # ---------------------------------------------------------------- text
    def names_in_text(self, words: str, names: Iterable[str]) -> frozenset[str]:
        """The names among ``names`` whose text patterns occur in ``words`` (case-insensitive).

        Answers are remembered per (family of names, text), up to ``_TEXT_CACHE_LIMIT`` of them: the
        same drug and test texts recur across cycles and patients."""
        words = fhir.text(words)
        if not words:
            return frozenset()
        family = self._family_of.get(names) if isinstance(names, tuple | frozenset) else None
        if family is None:
            key = tuple(sorted(set(names)))
            family = self._families.get(key)
            if family is None:
                members = tuple(n for n in key if n in self._text)
                combined = (
                    re.compile("|".join(f"(?:{self._text[n].pattern})" for n in members), re.IGNORECASE)
                    if members
                    else None
                )
                family = self._families[key] = (combined, members)
            if isinstance(names, tuple | frozenset) and len(self._family_of) < _CACHE_LIMIT:
                self._family_of[names] = family
        answer_key = (family[1], words)
        found = self._text_seen.get(answer_key)
        if found is None:
            combined, members = family
            if combined is None or not combined.search(words):
                found = _NONE
            else:
                found = frozenset(n for n in members if self._text[n].search(words))
            if len(self._text_seen) >= _TEXT_CACHE_LIMIT:
                self._text_seen.clear()  # crude but bounded (texts are up to fhir.TEXT_LIMIT characters)
            self._text_seen[answer_key] = found
        return found

    def text_matches(self, name: str, words: str) -> bool:
        pattern = self._text.get(name)
        words = fhir.text(words)
        return bool(pattern and words and pattern.search(words))

    # ---------------------------------------------------------------- raw value-set content
    def members(self, name: str) -> tuple[str, ...]:
        """Concept names a union value set includes (``compose.include.valueSet``), in file order."""
        found = self._members.get(name)
        if found is None:
            found = self._members[name] = self._read_members(name)
        return found

    def leaf_members(self, name: str) -> frozenset[str]:
        """The concept names a union value set includes, unions expanded down to single concepts."""
        members = self.members(name)
        if not members:
            return frozenset({name})
        return frozenset().union(*(self.leaf_members(m) for m in members))

    def _read_members(self, name: str) -> tuple[str, ...]:
        out: list[str] = []
        for include in fhir.maps((self._raw.get(name) or {}).get("compose", {}).get("include")):
            for url in fhir.as_list(include.get("valueSet")):
                if isinstance(url, str):
                    out.append(url.rstrip("/").rsplit("/", 1)[-1])
        return tuple(out)

    def displays(self, name: str) -> dict[tuple[str, str], str]:
        """(system, code) -> display of the enumerated concepts of one value set."""
        if name in self._displays:
            return self._displays[name]
        out = self._displays[name] = {}
        for include in fhir.maps((self._raw.get(name) or {}).get("compose", {}).get("include")):
            system = normalise_system(include.get("system"))
            for c in fhir.maps(include.get("concept")):
                if isinstance(c.get("code"), str):
                    out[(system, normalise_code(system, c["code"]))] = str(c.get("display") or c["code"])
        return out

    def display_for(self, name: str, cc: Any) -> str | None:
        table = self.displays(name)
        for coding in fhir.codings(cc):
            system = normalise_system(coding.get("system") if isinstance(coding.get("system"), str) else None)
            hit = table.get((system, normalise_code(system, fhir.code_of(coding))))
            if hit:
                return hit
        return None


def _raw_valuesets() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(VALUESET_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        out[data["id"]] = data
    return out


@cache
def concept_index() -> ConceptIndex:
    """The index of the project's value sets (built once per process)."""
    return ConceptIndex(registry(), _raw_valuesets())
