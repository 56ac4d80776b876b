"""Tests for the rooms job and its exports, end to end on the default Lozère rooms scenario.

The checker in :mod:`tests.rooms_checker` verifies every hard constraint on the bookings produced.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import icalendar
import pytest
from typer.testing import CliRunner

from planner._errors import InputError
from planner.cli import app
from planner.exports._safe import read_csv
from planner.exports.maps import coverage_map
from planner.exports.rooms import rooms_headline, write_rooms
from planner.jobs.coverage import run_coverage
from planner.jobs.rooms import run_rooms
from planner.scenario import RoomsSpec, Scenario, load_scenario
from tests.rooms_checker import check

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "lozere-rooms.yaml"


def load(path: Path = SCENARIO) -> tuple[Scenario, RoomsSpec]:
    """The scenario and its rooms section."""
    scenario = load_scenario(path)
    assert scenario.rooms is not None
    return scenario, scenario.rooms


@pytest.fixture(scope="module")
def rooms_run(tmp_path_factory):
    """The default scenario run end to end (coverage, bookings, every export)."""
    out = tmp_path_factory.mktemp("rooms")
    scenario, spec = load()
    coverage = run_coverage(scenario)
    run = run_rooms(scenario, coverage, spec)
    base = coverage_map(
        coverage.access, coverage.services, target_min=scenario.coverage.target_min, travel=coverage.travel
    )
    written = write_rooms(run, out, base, "fr")
    return run, out, written


def test_default_scenario_plan_is_near_optimal(rooms_run):
    """The default plan is proven within 1 % of the best (its run time is measured in bench/, not here)."""
    run, _, _ = rooms_run
    assert run.result.info.status in ("optimal", "feasible") and run.result.info.gap < 0.01


def test_default_bookings_pass_the_checker(rooms_run):
    """Every hard constraint holds; every provider holds its sessions; confidential needs are met."""
    run, _, _ = rooms_run
    assert check(run.problem, run.result) == []
    counts = run.bookings.groupby("provider_id").size().to_dict()
    assert counts == {p.provider_id: p.sessions_per_week for p in run.spec.providers}
    social = run.bookings[run.bookings["service"] == "social"]
    assert set(social["room_id"]) == {"bureau"}


def test_every_export_is_written(rooms_run):
    """Per provider: CSV, iCalendar, sheet; per premises used: grid CSV and HTML; tables and the map."""
    run, out, written = rooms_run
    for provider in run.spec.providers:
        for name in ("planning.csv", "planning.ics", "feuille-de-semaine.html"):
            assert (out / "intervenants" / provider.provider_id / name).stat().st_size > 0
    for premises_id in set(run.bookings["premises_id"]):
        for name in ("grille.csv", "grille.html"):
            assert (out / "lieux" / premises_id / name).stat().st_size > 0
    for name in ("reservations.csv", "occupation.csv", "journees.csv", "zones_desservies.csv", "map.html"):
        assert (out / name).stat().st_size > 0
    assert all((out / name).exists() for name in written)
    assert "Occupation des lieux" in (out / "map.html").read_text(encoding="utf-8")


def test_icalendar_parses_with_address_and_room(rooms_run):
    """The .ics parses; one weekly event per session, with the premises, room and address, Paris times."""
    run, out, _ = rooms_run
    for provider in run.spec.providers:
        cal = icalendar.Calendar.from_ical((out / "intervenants" / provider.provider_id / "planning.ics").read_bytes())
        events = list(cal.walk("VEVENT"))
        mine = run.bookings[run.bookings["provider_id"] == provider.provider_id]
        assert len(events) == len(mine) == provider.sessions_per_week
        first, row = events[0], mine.iloc[0]
        assert str(first["location"]) == f"{row['premises']}, {row['room']}, {row['address']}"
        assert first["dtstart"].dt.isoformat() == f"{row['date']}T{row['start']}:00+01:00"
        assert first["rrule"]["FREQ"] == ["WEEKLY"]


def test_french_tables_and_sheets(rooms_run):
    """French headers and days in the provider CSV and sheet; the premises grid names who and when."""
    _, out, _ = rooms_run
    table = read_csv(out / "intervenants" / "assistante-sociale" / "planning.csv")
    assert list(table.columns[:6]) == ["jour", "date", "demi_journee", "debut", "fin", "lieu"]
    sheet = (out / "intervenants" / "assistante-sociale" / "feuille-de-semaine.html").read_text(encoding="utf-8")
    assert "Permanences de la semaine" in sheet and all(place in sheet for place in table["lieu"])
    busiest = read_csv(out / "occupation.csv").iloc[0]
    grid = read_csv(out / "lieux" / busiest["lieu_id"] / "grille.csv")
    assert {"salle", "demi_journee", "lundi", "vendredi"} <= set(grid.columns)
    assert (
        grid.drop(columns=["salle", "demi_journee"]).stack().str.contains("–").sum()
        == busiest["demi_journees_reservees"]
    )


def test_kpis_and_headline(rooms_run):
    """KPIs per service are consistent with the zones table; the headline is in French."""
    run, out, _ = rooms_run
    k = run.kpis
    served = read_csv(out / "zones_desservies.csv")
    for service in run.spec.usage_rate:
        reached = served.loc[served[f"served_{service}"], "population"].sum() * run.spec.usage_rate[service]
        assert k["demand_served"][service] == pytest.approx(reached, rel=1e-6)
        assert 0 < k["share_served"][service] <= 1
    assert 0 < k["occupancy_used_premises"] <= 1 and k["provider_km_per_week"] > 0
    lines = rooms_headline(run, "fr")
    assert lines[0].startswith("Salles :") and "permanences" in lines[0]


def test_spec_refuses_unknown_keys_and_services():
    """Like every scenario section: unknown keys are errors, a provider's service needs a usage rate."""
    _, spec = load()
    raw = spec.model_dump()
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        RoomsSpec.model_validate({**raw, "colour": "red"})
    with pytest.raises(ValueError, match="services without a usage_rate: caf"):
        RoomsSpec.model_validate({**raw, "usage_rate": {k: v for k, v in raw["usage_rate"].items() if k != "caf"}})


def test_premises_file_adds_rooms_with_hire(tmp_path):
    """A premises file (sites schema) adds one room per row, with its equipment, hours and hire cost."""
    (tmp_path / "vacants.csv").write_text(
        "site_id,name,kind,lon,lat,capacity,equipment,opening_hours,hire_eur_per_half_day,address\n"
        "banque-mende,Ancienne agence bancaire,vacant_premises,3.4990,44.5180,4,wifi;confidential,"
        "Mo-Fr 09:00-12:00,40,2 rue de la République 48000 Mende\n"
        "poste-langogne,Ancien bureau de poste,vacant_premises,3.8550,44.7270,10,wifi,,0,Langogne\n",
        encoding="utf-8",
    )
    scenario, spec = load()
    spec = spec.model_copy(update={"premises": spec.premises.model_copy(update={"files": [tmp_path / "vacants.csv"]})})
    run = run_rooms(scenario, run_coverage(scenario), spec)
    premises = {q.premises_id: q for q in run.problem.premises}
    bank, post = premises["banque-mende"], premises["poste-langogne"]
    assert bank.rooms[0].equipment == {"wifi", "confidential"} and bank.rooms[0].hire_eur == 40
    assert bank.windows == tuple((d, 540, 720) for d in range(1, 6)) and post.windows == ()
    assert check(run.problem, run.result) == []
    assert run.premises.set_index("site_id").at["poste-langogne", "half_days_open"] == 10


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"providers": [{"home": "99999"}]}, "'99999' is neither a site id nor the INSEE code of a commune"),
        ({"rooms": [{"site": "nowhere"}]}, "'nowhere' is not a premises"),
        ({"providers": [{"preferred": ["mairie-00000"]}]}, "unknown premises mairie-00000"),
    ],
)
def test_bad_references_are_input_errors(change, message):
    """A home, an extra room's site or a preferred premises that does not exist: one plain message."""
    scenario, spec = load()
    raw = spec.model_dump()
    if "providers" in change:
        raw["providers"][0].update(change["providers"][0])
    else:
        raw["premises"]["rooms"][0].update(change["rooms"][0])
    with pytest.raises(InputError, match=message):
        run_rooms(scenario, run_coverage(scenario), RoomsSpec.model_validate(raw))


def test_a_week_without_sessions_still_writes_every_file(rooms_run, tmp_path):
    """With no booking at all (e.g. no plan found in time) every file is written, sheets say so."""
    run, _, _ = rooms_run
    empty = replace(run, bookings=run.bookings.iloc[0:0], provider_days=run.provider_days.iloc[0:0])
    scenario, _ = load()
    coverage = run_coverage(scenario)
    base = coverage_map(coverage.access, coverage.services, target_min=30, travel=coverage.travel)
    written = write_rooms(empty, tmp_path, base, "fr")
    assert all((tmp_path / name).exists() for name in written) and not (tmp_path / "lieux").exists()
    assert "aucune permanence" in (tmp_path / "intervenants" / "caf" / "feuille-de-semaine.html").read_text()


def test_rooms_command_writes_the_bookings(tmp_path):
    """`maillage rooms` on the default scenario exits 0 and puts the rooms KPIs in summary.json."""
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["rooms", str(SCENARIO), "--time-limit", "20", "--out", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rooms"]["status"] in ("optimal", "feasible")
    assert (out / "rooms" / "reservations.csv").exists() and "siting" not in summary
