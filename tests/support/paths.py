"""Where the project's shared materials are: ``shared/`` beside the repository (as in CI)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
CATALOG_FILE = SHARED / "guideline" / "recommendations.yaml"
CODES_FILE = SHARED / "terminology" / "codes.md"
