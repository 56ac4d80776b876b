"""The README's YAML examples are valid scenarios: a newcomer who copies one gets no validation error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from planner.scenario import Scenario

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```yaml\n(.*?)```", README, flags=re.S)


def test_the_readme_shows_every_section():
    """One example per scenario section a user writes by hand."""
    keys = {key for block in BLOCKS for key in yaml.safe_load(block)}
    assert {"rounds", "rooms", "siting", "territory", "travel", "coverage"} <= keys


@pytest.mark.parametrize("block", BLOCKS, ids=[b.split(":", 1)[0] for b in BLOCKS])
def test_readme_example_validates(block):
    """Each block, alone or as a section of an otherwise default scenario, passes the scenario model."""
    Scenario.model_validate({"name": "readme", **yaml.safe_load(block)})
