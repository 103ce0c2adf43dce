"""The NANETS 2023 G3 NEN recommendations as data (knowledge/) and logic (predicates, evaluate)."""

# The code system of every card's source.topic and of meta.tag on suggested resources: its codes
# are the catalog ids of shared/guideline/recommendations.yaml (plus the project's own data-gap,
# data-quality and scope codes, documented in fhir_profiles/CodeSystem/nanets-g3-recommendation.json).
GUIDELINE_SYSTEM = "https://nen-cds.org/fhir/CodeSystem/nanets-g3-recommendation"
GUIDELINE_DOI_URL = "https://doi.org/10.1530/ERC-22-0206"
