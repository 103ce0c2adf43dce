"""The clinical questions the knowledge base asks, each written once. (Skeleton.)"""

from __future__ import annotations

from cds_service.facts.model import Differentiation, PatientFacts
from cds_service.guideline.logic import RuleContext, Tri, predicate


@predicate("Is the neoplasm a poorly differentiated neuroendocrine carcinoma (NEC, or MiNEN managed as NEC)?",
           needs="differentiation")
def is_nec(f: PatientFacts, c: RuleContext) -> Tri:
    if f.neoplasm is None or f.neoplasm.differentiation is Differentiation.UNKNOWN:
        return None
    return f.neoplasm.differentiation in (Differentiation.NEC, Differentiation.MINEN)
