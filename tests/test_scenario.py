"""Tests for planner.scenario: YAML scenarios, validated, confined to their folder."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from planner._errors import InputError
from planner.scenario import (
    ESTIMATE_DETOUR_FACTOR,
    ESTIMATE_SPEED_KMH,
    SOLVING,
    Scenario,
    TravelSpec,
    load_scenario,
)
from planner.travel.estimate import EstimateModel

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


PLAN = ROOT / "scenarios" / "lozere-plan.yaml"


def test_with_solver_sets_every_solve_and_keeps_the_rest():
    """--time-limit/--seed reach siting, rounds and rooms; the other sections and the folder are kept."""
    scenario = load_scenario(PLAN)
    changed = scenario.with_solver(time_limit_s=7, seed=3)
    for section in (s for s in SOLVING if getattr(scenario, s) is not None):
        spec = getattr(changed, section)
        assert (spec.time_limit_s, spec.seed) == (7, 3)
        assert spec.model_dump(exclude={"time_limit_s", "seed"}) == getattr(scenario, section).model_dump(
            exclude={"time_limit_s", "seed"}
        )
    assert changed.coverage == scenario.coverage and changed.base_dir == scenario.base_dir
    assert changed.with_solver(time_limit_s=None, seed=None) == changed  # None keeps each section's own
    assert scenario.with_solver(seed=4).rounds.time_limit_s == scenario.rounds.time_limit_s


@pytest.mark.parametrize(
    ("changes", "where", "message"),
    [
        pytest.param({"time_limit_s": -1}, "time_limit_s", "greater than 0 (got -1 s)", id="negative limit"),
        pytest.param({"time_limit_s": 0}, "time_limit_s", "greater than 0 (got 0 s)", id="zero limit"),
        pytest.param({"time_limit_s": math.nan}, "time_limit_s", "a finite number (got nan)", id="nan limit"),
        pytest.param({"time_limit_s": math.inf}, "time_limit_s", "a finite number (got inf)", id="infinite limit"),
        pytest.param({"time_limit_s": 3601}, "time_limit_s", "less than or equal to 3600", id="limit over an hour"),
        pytest.param({"seed": 2**31}, "seed", "less than or equal to 2147483647", id="seed over 32 bits"),
        pytest.param({"seed": -1}, "seed", "greater than or equal to 0", id="negative seed"),
    ],
)
def test_with_solver_validates_even_without_a_solve(changes, where, message):
    """A bad time limit or seed is refused, with the key, whether or not the scenario solves anything."""
    for scenario in (Scenario(), load_scenario(PLAN)):
        with pytest.raises(InputError) as caught:
            scenario.with_solver(**changes)
        assert caught.value.source == "settings" and caught.value.problems[0].where == where
        assert message in caught.value.problems[0].problem


def test_frequency_by_population_picks_the_largest_rule_reached():
    """Mixed frequencies: a stop's commune size picks its rule (largest threshold first), else the default."""
    scenario = load_scenario(ROOT / "scenarios" / "hautes-alpes-bus.yaml")
    spec = scenario.rounds
    assert [spec.visits_per_week(p) for p in (40_000, 1500, 1499, 300, 299, 0)] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    with pytest.raises(InputError, match=r"frequency .every 3 weeks. .* needs horizon_weeks a multiple of 3"):
        spec.override(
            stops={
                **spec.stops.model_dump(),
                "frequency_by_population": [{"min_population": 10, "frequency": "every 3 weeks"}],
            }
        )
    with pytest.raises(InputError, match=r"frequency_by_population\.0\.frequency: String should match pattern"):
        spec.override(
            stops={**spec.stops.model_dump(), "frequency_by_population": [{"min_population": 10, "frequency": "daily"}]}
        )


def test_override_validates_like_a_file():
    """override() runs the field and model validators that model_copy(update=...) skips."""
    scenario = load_scenario(PLAN)
    with pytest.raises(InputError, match=r"travel\.speed_kmh: Input should be greater than 0 \(got 0 km/h\)"):
        scenario.override(travel={**scenario.travel.model_dump(), "speed_kmh": 0})
    with pytest.raises(
        InputError, match="frequency 'fortnightly' \\(a visit every 2 weeks\\) needs horizon_weeks a multiple of 2"
    ):
        scenario.rounds.override(horizon_weeks=1)
    with pytest.raises(InputError, match="language: Input should be 'fr' or 'en'"):
        scenario.override(language="de")
    assert scenario.override(language="en").rooms == scenario.rooms
    assert scenario.travel.override(speed_kmh=40).speed_kmh == 40


def test_no_model_copy_update_on_scenario_objects():
    """Every change to a scenario goes through override()/with_solver() (planner/app/ switches at merge)."""
    for path in (ROOT / "planner").rglob("*.py"):
        if "app" not in path.relative_to(ROOT / "planner").parts:
            assert ".model_copy(update" not in path.read_text(encoding="utf-8"), path


def test_estimate_defaults_are_stated_once():
    """The travel section, the estimate model and the CLI share one 50 km/h x 1.3 default."""
    assert (TravelSpec().speed_kmh, TravelSpec().detour_factor) == (ESTIMATE_SPEED_KMH, ESTIMATE_DETOUR_FACTOR)
    assert (EstimateModel().speed_kmh, EstimateModel().detour_factor) == (ESTIMATE_SPEED_KMH, ESTIMATE_DETOUR_FACTOR)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("[" * 50_000, "line 1: is nested more than 64 levels deep", id="deep nesting"),
        pytest.param("rooms: {start_date: 2027-02-30}", "line 1: '2027-02-30' is not a date", id="no such date"),
        pytest.param("name: a\ncoverage: {}\nname: b\n", "line 3: repeats the key 'name'", id="duplicate key"),
        pytest.param(
            "coverage: {target_min: 30, target_min: 20}", "repeats the key 'target_min'", id="nested duplicate"
        ),
        pytest.param(f"name: {'x' * 101}", "name: String should have at most 100 characters", id="long name"),
        pytest.param("name: ''", "name: String should have at least 1 character", id="empty name"),
        pytest.param(
            "coverage: {e2sfca_steps: [[10, .nan]]}", "e2sfca_steps.0.1: Input should be a finite", id="nan weight"
        ),
        pytest.param(
            "travel: {detour_factor: .inf}", "detour_factor: Input should be a finite number", id="inf detour"
        ),
        pytest.param(
            "rounds: {fleet: [" + ", ".join(f"{{vehicle_id: v{i}, depot: '48095'}}" for i in range(101)) + "]}",
            "rounds.fleet: List should have at most 100 items",
            id="fleet beyond the engines' measured range",
        ),
    ],
)
def test_yaml_a_scenario_may_not_hold(tmp_path, text, message):
    """Plain YAML that is still refused: deep nesting, impossible dates, repeated keys, unbounded names, NaN."""
    with pytest.raises(InputError) as caught:
        load_scenario(_write(tmp_path, text))
    assert message in str(caught.value)


def test_yaml_merge_keys_are_not_duplicates(tmp_path):
    """A YAML merge (<<) followed by a key that overrides it is allowed."""
    scenario = load_scenario(
        _write(tmp_path, "coverage: &c {target_min: 30}\ntravel: {<<: {speed_kmh: 40}, speed_kmh: 45}\n")
    )
    assert scenario.travel.speed_kmh == 45


def test_weeks_start_on_a_monday(tmp_path):
    """start_date is the Monday of week 1: another weekday would mislabel every day of the calendars."""
    rooms = (
        "rooms: {start_date: %s, usage_rate: {caf: 0.1},"
        " providers: [{provider_id: p, service: caf, home: '48095', sessions_per_week: 1}]}"
    )
    assert load_scenario(_write(tmp_path, rooms % "2027-02-01")).rooms.start_date.isoweekday() == 1
    with pytest.raises(InputError, match="2027-02-03 is a Wednesday: weeks start on a Monday"):
        load_scenario(_write(tmp_path, rooms % "2027-02-03"))
