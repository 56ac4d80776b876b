"""Tests for planner.scenario: YAML scenarios, validated, confined to their folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner._errors import InputError
from planner.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]


def _write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_default_scenario_file_is_valid():
    """scenarios/lozere-coverage.yaml parses to the documented defaults."""
    scenario = load_scenario(ROOT / "scenarios" / "lozere-coverage.yaml")
    assert scenario.coverage.thresholds_min == [10, 20, 30] and scenario.coverage.target_min == 30
    assert scenario.travel.model == "auto" and scenario.services.canton_seats
    assert scenario.territory.departement is None  # the embedded territory


def test_empty_file_means_all_defaults(tmp_path):
    """An empty scenario is the default scenario."""
    assert load_scenario(_write(tmp_path, "")) == Scenario(base_dir=tmp_path)


def test_paths_are_relative_to_the_scenario(tmp_path):
    """A data file is looked up next to the scenario, not in the current folder."""
    scenario = load_scenario(_write(tmp_path, "services: {files: [data/fs.csv]}"))
    assert scenario.resolve(scenario.services.files[0]) == tmp_path / "data" / "fs.csv"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("coverage: {thresholds_min: [10, -5]}", "coverage.thresholds_min: Value error, thresholds must be > 0"),
        ("coverage: {target_min: 0}", "coverage.target_min: Input should be greater than 0"),
        ("travel: {model: helicopter}", "travel.model: Input should be 'auto', 'road' or 'estimate'"),
        ("travel: {speed_kmh: fast}", "travel.speed_kmh: Input should be a valid number"),
        ("territory: {departement: '48', epci: '200069144'}", "choose one of departement, epci, insee"),
        ("coverge: {}", "coverge: Extra inputs are not permitted"),
        ("- just\n- a list\n", "must be a YAML mapping"),
        ("coverage: [unclosed", "is not valid YAML"),
        ("name: !!python/object/apply:os.system ['echo pwned']", "is not valid YAML"),
        ("services: {files: [../../etc/passwd]}", "../../etc/passwd: points outside the scenario's folder"),
        ("travel: {network: /etc/hosts}", "/etc/hosts: points outside the scenario's folder"),
    ],
)
def test_bad_scenarios_name_the_key(tmp_path, text, message):
    """Every mistake is reported with its YAML key (or line), never as a raw traceback."""
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_unreadable_scenario(tmp_path):
    """A missing or binary scenario file is refused with its name."""
    with pytest.raises(InputError, match="cannot be read"):
        load_scenario(tmp_path / "missing.yaml")
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match="cannot be read"):
        load_scenario(binary)
