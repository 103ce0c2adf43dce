"""The patient's FHIR data for one hook call, indexed once by type and by reference."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PatientRecord:
    """Resources about one patient from prefetch and/or the FHIR server.

    ``unreadable`` lists (key, reason) for data that could not be obtained (a prefetch
    OperationOutcome with no server to ask, a query that timed out): rules treat those facts as
    unknown and the response names them.
    """

    patient_id: str | None
    resources: list[dict[str, Any]] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    _by_type: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)
    _by_ref: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict, repr=False)  # (type, id): first

    def __post_init__(self) -> None:
        initial, self.resources = self.resources, []
        self.add_all(initial)

    def add(self, resource: Any) -> None:
        self.add_all((resource,))

    def add_all(self, resources: Iterable[Any]) -> None:
        by_ref, by_type, kept = self._by_ref, self._by_type, self.resources
        for resource in resources:  # add() inlined: this runs once per resource of every hook call
            if type(resource) is not dict and not isinstance(resource, Mapping):
                continue
            rtype = resource.get("resourceType")
            if not isinstance(rtype, str):
                continue
            if rtype == "Bundle":
                self.add_all(entry.get("resource") for entry in _entries(resource))
                continue
            rid = resource.get("id")
            if isinstance(rid, str) and rid:
                key = (rtype, rid)
                if key in by_ref:  # the same resource from two prefetch keys
                    continue
                by_ref[key] = resource
            kept.append(resource)
            bucket = by_type.get(rtype)
            if bucket is None:
                by_type[rtype] = [resource]
            else:
                bucket.append(resource)

    def of_type(self, *types: str) -> list[dict[str, Any]]:
        if len(types) == 1:
            return list(self._by_type.get(types[0], ()))
        return [r for t in types for r in self._by_type.get(t, ())]

    def resolve(self, reference: str | None) -> dict[str, Any] | None:
        """A literal reference ``Type/id`` (or an absolute URL ending in it) within the record."""
        if not isinstance(reference, str):
            return None
        parts = reference.rstrip("/").split("/")
        if len(parts) >= 2:
            return self._by_ref.get((parts[-2], parts[-1]))
        return None

    def types(self) -> dict[str, int]:
        return {t: len(rs) for t, rs in self._by_type.items()}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.resources)

    def __len__(self) -> int:
        return len(self.resources)


def _entries(bundle: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return []
    return [e for e in entries if type(e) is dict or isinstance(e, Mapping)]


def bundle_resources(bundle: Any) -> list[dict[str, Any]]:
    """The resources in a Bundle (or the resource itself), OperationOutcome entries included."""
    if not isinstance(bundle, Mapping):
        return []
    if bundle.get("resourceType") == "Bundle":
        entries = bundle.get("entry")
        if not isinstance(entries, list):
            return []
        return [
            e["resource"]
            for e in entries
            if (type(e) is dict or isinstance(e, Mapping))
            and (type(r := e.get("resource")) is dict or isinstance(r, Mapping))
        ]
    return [bundle]  # type: ignore[list-item]


def group_by_type(resources: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    grouped: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in resources:
        grouped[str(r.get("resourceType"))].append(r)
    return grouped
