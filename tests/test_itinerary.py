"""Tests for the rounds job and the crews' exports, on the default Lozère bus scenario."""

from __future__ import annotations

import html
import json
from pathlib import Path

import icalendar
import pytest
from typer.testing import CliRunner

from planner.cli import app
from planner.data.hours import next_monday
from planner.exports._safe import read_csv
from planner.jobs.coverage import run_coverage
from planner.jobs.rounds import run_rounds
from planner.scenario import load_scenario
from tests.rounds_checker import check

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "lozere-bus.yaml"


@pytest.fixture(scope="module")
def bus_run(tmp_path_factory):
    """`maillage rounds` on the default scenario (20 s limit), its output folder and the run itself."""
    out = tmp_path_factory.mktemp("bus") / "out"
    result = CliRunner().invoke(
        app, ["rounds", str(SCENARIO), "--time-limit", "20", "--out", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    scenario = load_scenario(SCENARIO)
    scenario = scenario.model_copy(update={"rounds": scenario.rounds.model_copy(update={"time_limit_s": 20})})
    return out, result.output, run_rounds(scenario, run_coverage(scenario))


def test_default_plan_is_valid_and_deterministic(bus_run):
    """The Lozère plan passes the independent checker and the CLI wrote the same plan."""
    out, _, run = bus_run
    assert check(run.problem, run.result) == []
    assert run.result.info.status in ("optimal", "feasible") and len(run.result.open_stops) >= 10
    written = read_csv(out / "rounds" / "visits.csv")
    assert written["stop_id"].tolist() == run.visits["stop_id"].tolist()


def test_every_export_is_written(bus_run):
    """Per truck: CSV, iCalendar, printable sheet, GeoJSON; for the fleet: routes, stops, left-out list, map."""
    out, output, _ = bus_run
    for truck in ("bus-mende", "bus-marvejols"):
        for name in ("itineraire.csv", "itineraire.ics", "feuille-de-route.html", "tournees.geojson"):
            assert (out / "rounds" / truck / name).stat().st_size > 0, (truck, name)
    for name in ("routes.geojson", "stops.geojson", "stops_left_out.csv", "map.html"):
        assert (out / "rounds" / name).exists()
    assert "Tournées :" in output and "km" in output and "CO2" in output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rounds"]["stops_open"] > 0 and summary["rounds"]["status"] in ("optimal", "feasible")
    assert summary["coverage_with_stops"]["share_within"]["30"] >= summary["share_within"]["30"]


def test_icalendar_parses_with_one_event_per_visit(bus_run):
    """The .ics parses; one event per visit with place, coordinates, Paris times and a fortnightly repeat."""
    out, _, run = bus_run
    cal = icalendar.Calendar.from_ical((out / "rounds" / "bus-mende" / "itineraire.ics").read_bytes())
    events = list(cal.walk("VEVENT"))
    mine = run.visits[run.visits["vehicle_id"] == "bus-mende"]
    assert len(events) == len(mine) > 0
    first, row = events[0], mine.iloc[0]
    assert str(first["location"]) == row["address"] and first["geo"].latitude == pytest.approx(row["lat"])
    assert first["dtstart"].dt.isoformat() == f"{row['date']}T{row['start']}:00+01:00"
    assert first["rrule"]["FREQ"] == ["WEEKLY"] and first["rrule"]["INTERVAL"] == [2]


def test_crew_csv_and_sheet_are_in_french(bus_run):
    """The crew's CSV has French headers; the sheet names French days and every stop of the truck."""
    out, _, _ = bus_run
    table = read_csv(out / "rounds" / "bus-marvejols" / "itineraire.csv")
    assert list(table.columns[:6]) == ["semaine", "jour", "date", "ordre", "arret", "adresse"]
    sheet = (out / "rounds" / "bus-marvejols" / "feuille-de-route.html").read_text()
    assert "Tournée de la semaine" in sheet and "lundi" in sheet
    assert all(html.escape(name) in sheet for name in table["arret"])  # "Mairie d'Altier" is escaped


def test_stops_left_out_have_reasons(bus_run):
    """Every candidate town hall is either visited or listed with a reason."""
    out, _, run = bus_run
    left = read_csv(out / "rounds" / "stops_left_out.csv")
    assert len(left) + len(run.result.open_stops) == 152 and left["reason"].str.len().min() > 10


def test_bad_depot_is_named(tmp_path):
    """A depot code that is not in the territory is refused with the vehicle and field."""
    text = SCENARIO.read_text().replace('depot: "48092"', 'depot: "12202"')
    path = tmp_path / "bus.yaml"
    path.write_text(text)
    result = CliRunner().invoke(app, ["rounds", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "fleet[1] (bus-marvejols), field 'depot': '12202' is neither a site id nor the INSEE code" in result.output


def test_next_monday():
    """Plans start on the Monday after the run day (a Monday goes to the next one)."""
    import datetime as dt

    assert next_monday(dt.date(2026, 11, 23)) == dt.date(2026, 11, 30)
    assert next_monday(dt.date(2026, 11, 25)) == dt.date(2026, 11, 30)


def test_stop_names_carry_articles_and_elision(bus_run):
    """Town-hall stops are named as French writes them, in the sheets, the calendars and the left-out list."""
    out, _, run = bus_run
    left = read_csv(out / "rounds" / "stops_left_out.csv")
    names = [*run.visits["name"], *left.iloc[:, 1]] if "name" in run.visits else list(left.iloc[:, 1])
    text = " ".join(map(str, names))
    assert "Mairie d'" in text or "Mairie du " in text or "Mairie de La " in text
    assert not any(str(n).startswith(("Mairie de A", "Mairie de E", "Mairie de Le ", "Mairie de Les ")) for n in names)
    written = "".join(p.read_text() for p in (out / "rounds").glob("*/*.ics"))
    written += "".join(p.read_text() for p in (out / "rounds").glob("*/feuille-de-route.html"))
    assert "Mairie de A" not in written and "Mairie de Le " not in written
