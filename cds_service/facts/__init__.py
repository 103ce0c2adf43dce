"""Patient facts: the patient's FHIR data read into the guideline's inputs (no HTTP here)."""
