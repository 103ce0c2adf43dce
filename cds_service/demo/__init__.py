"""Synthetic demo patients (FHIR Bundles in demo/patients/), for the README's run command and tests."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask

from cds_service.settings import Settings

PATIENT_DIR = Path(__file__).resolve().parent / "patients"


@cache
def demo_patients() -> dict[str, dict[str, Any]]:
    """Demo bundles by file stem."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(PATIENT_DIR.glob("*.json"))}


def init_app(app: Flask, settings: Settings) -> None:
    """Nothing to attach yet: the demo FHIR endpoint comes with the demo patients."""
