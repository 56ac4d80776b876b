"""The rounds scenarios beyond the Lozère buses, end to end on a short limit: plan, checker, calendars, sheets."""

from __future__ import annotations

import html
import statistics
from pathlib import Path

import folium
import icalendar
import pytest

from planner.exports.rounds import write_rounds
from planner.jobs.coverage import run_coverage
from planner.jobs.rounds import RoundsRun, run_rounds
from planner.scenario import load_scenario
from tests.rounds_checker import check
from tests.test_rounds_series import _series_ok

pytestmark = pytest.mark.slow

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
LIMIT_S = 10


def _run(name: str, limit: float = LIMIT_S) -> RoundsRun:
    """The scenario's rounds on a short time limit."""
    scenario = load_scenario(SCENARIOS / name)
    scenario = scenario.with_solver(time_limit_s=limit)
    return run_rounds(scenario, run_coverage(scenario))


@pytest.fixture(scope="module")
def bibliobus(tmp_path_factory) -> tuple[RoundsRun, Path]:
    """The Lozère mobile library and its written files."""
    run = _run("lozere-bibliobus.yaml")
    folder = tmp_path_factory.mktemp("bibliobus")
    write_rounds(run, folder, folium.Map())
    return run, folder


def test_bibliobus_makes_long_days(bibliobus):
    """One van, 30-min stops every four weeks: 8+ stops on a typical day, every constraint kept."""
    run, _ = bibliobus
    assert check(run.problem, run.result) == []
    per_day = [len(r.visits) for r in run.result.routes]
    assert statistics.median(per_day) >= 8 and max(per_day) <= 10
    assert {r.week for r in run.result.routes} <= {1, 2, 3, 4} and len(run.result.open_stops) >= 80
    assert run.result.info.status == "feasible"


def test_bibliobus_calendar_repeats_every_four_weeks(bibliobus):
    """The van's calendar: one event per visit, each repeating every 4 weeks; the sheet has a page per week."""
    run, folder = bibliobus
    ics = icalendar.Calendar.from_ical((folder / "bibliobus-mende" / "itineraire.ics").read_bytes())
    events = [e for e in ics.walk("VEVENT")]
    assert len(events) == len(run.visits)
    assert all(e["RRULE"]["INTERVAL"] == [4] for e in events)
    sheet = (folder / "bibliobus-mende" / "feuille-de-route.html").read_text(encoding="utf-8")
    assert sheet.count("Semaine du") == 4
    first = run.visits.iloc[0]
    assert html.escape(first["name"]) in sheet and first["start"] in sheet


def test_aveyron_buses_within_opening_hours():
    """Four buses from four bases among 283 town halls, each visit within the town hall's hours."""
    run = _run("aveyron-bus.yaml")
    assert len(run.problem.stops) >= 150
    assert check(run.problem, run.result) == []
    assert {r.vehicle_id for r in run.result.routes} == {v.vehicle_id for v in run.spec.fleet}
    assert all(st.windows for st in run.problem.stops if st.stop_id in run.result.open_stops)


def test_hautes_alpes_mixed_frequencies(tmp_path):
    """Hautes-Alpes (05, mountain), two buses: weekly stops in the bourgs, every 2 or 4 weeks in the villages,
    each stop's visits one truck and weekday apart by its period, checker clean, calendars every 4 weeks."""
    run = _run("hautes-alpes-bus.yaml")
    assert check(run.problem, run.result) == [] and _series_ok(run.problem, run.result.routes) == []
    served = {st.visits_per_week for st in run.problem.stops if st.stop_id in run.result.open_stops}
    assert served == {1.0, 0.5, 0.25} and "mixed frequencies" in run.result.notes[0]
    write_rounds(run, tmp_path, folium.Map())
    ics = icalendar.Calendar.from_ical((tmp_path / "bus-gap" / "itineraire.ics").read_bytes())
    events = list(ics.walk("VEVENT"))
    assert events and all(e["RRULE"]["INTERVAL"] == [4] for e in events)
    weekly = next(
        st.stop_id for st in run.problem.stops if st.visits_per_week == 1 and st.stop_id in run.result.open_stops
    )
    assert sorted(run.visits.loc[run.visits["stop_id"] == weekly, "week"]) == [1, 2, 3, 4]


def test_pas_de_calais_is_never_an_empty_optimal_plan():
    """886 town halls, 3 buses, 5 s: a checked plan of 30+ stops a fortnight, not called optimal."""
    run = _run("pas-de-calais-bus.yaml", limit=5)
    assert check(run.problem, run.result) == []
    assert len(run.result.open_stops) >= 30
    assert run.result.info.status != "optimal"
    assert len(run.result.open_stops) + len(run.result.left_out) == len(run.problem.stops)
