"""Shared fixtures: paths to the real data in ../shared and small helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared() -> Path:
    """The real public data beside the project (OSM extracts, France Services list, census grid)."""
    assert SHARED.is_dir(), f"the shared data folder {SHARED} is missing"
    return SHARED
