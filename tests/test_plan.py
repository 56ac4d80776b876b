"""Tests for the siting job and the integrated plan (planner.jobs.siting, planner.jobs.plan, planner.runs.pipeline)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from typer.testing import CliRunner

from planner.cli import app
from planner.exports._safe import read_csv
from planner.jobs.inputs import build_territory
from planner.scenario import load_scenario
from planner.travel.build import build_travel_model

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "scenarios" / "lozere-plan.yaml"


@pytest.fixture(scope="module")
def plan_out(tmp_path_factory):
    """`maillage run` on the integrated Lozère plan, with 20 s per solve."""
    text = PLAN.read_text().replace("time_limit_s: 60", "time_limit_s: 20")
    folder = tmp_path_factory.mktemp("plan")
    scenario = folder / "plan.yaml"
    scenario.write_text(text)
    result = CliRunner().invoke(app, ["run", str(scenario), "--out", str(folder / "out")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return folder / "out", result.output


def test_plan_reaches_everyone_within_30_minutes(plan_out):
    """Before: 95.5 % within 30 min of a canton seat; after two new sites and the buses: more, never less."""
    out, output = plan_out
    summary = json.loads((out / "summary.json").read_text())
    before, after = summary["share_within_before"], summary["share_within_after"]
    assert before["30"] == pytest.approx(summary["share_within"]["30"])  # the coverage run's own figure
    assert all(after[t] >= before[t] for t in before) and after["30"] > before["30"]
    assert sum(summary["population_by_means"].values()) == pytest.approx(76601)
    assert "Plan : à moins de 30 min" in output and "Nouveaux sites :" in output


def test_new_sites_are_the_mclp_choice(plan_out):
    """The two new sites are town halls, not existing services, and the trade-off curve never goes down."""
    out, _ = plan_out
    chosen = gpd.read_file(out / "siting" / "chosen_sites.geojson")
    assert len(chosen) == 2 and chosen["site_id"].str.startswith("mairie-").all()
    curve = read_csv(out / "siting" / "tradeoff.csv")
    assert curve["new_sites"].iloc[0] == 0 and curve["population_within"].is_monotonic_increasing
    summary = json.loads((out / "summary.json").read_text())
    assert summary["siting"]["status"] == "optimal"
    two = curve.loc[curve["new_sites"] == 2, "share_within"].iloc[0]
    assert summary["siting"]["share_within_after_sites"]["30"] == pytest.approx(two)


def test_buses_serve_only_people_still_beyond_30_minutes(plan_out):
    """With demand: uncovered, every bus stop serves people the fixed sites leave beyond 30 minutes."""
    out, _ = plan_out
    combined = read_csv(out / "plan" / "combined_access.csv")
    fixed = np.minimum(combined["time_existing_min"], combined["time_new_site_min"])
    left = combined[fixed > 30]  # beyond 30 min of every fixed site, old or new
    assert len(left) > 0 and (left["time_stop_min"] <= 30).all() and left["stop_days"].str.len().gt(0).all()
    assert set(left["means"]) <= {"stop", "session"}
    assert set(combined["means_fr"]) <= {"service existant", "nouveau site fixe", "arrêt du bus", "permanence", "aucun"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rounds"]["demand"] == "uncovered"
    assert summary["rounds"]["population_targeted"] < 76601 * 0.05


def test_provider_sessions_are_a_means_of_the_plan(plan_out):
    """Minutes to a session are minutes to the nearest premises where a provider holds one."""
    out, _ = plan_out
    combined = read_csv(out / "plan" / "combined_access.csv", dtype={"zone_id": str}).set_index("zone_id")
    bookings = read_csv(out / "rooms" / "reservations.csv").drop_duplicates("premises_id")
    scenario = load_scenario(PLAN)
    territory = build_territory(scenario)
    model = build_travel_model(scenario, territory)
    held = gpd.GeoSeries(gpd.points_from_xy(bookings["lon"], bookings["lat"]), crs="EPSG:4326")
    nearest = model.matrix(territory.demand_points(), held).min(axis=1)
    zones = territory.zones["zone_id"].astype(str)
    assert combined.loc[zones, "time_session_min"].to_numpy() == pytest.approx(nearest, abs=0.06)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["means"] == ["existing", "new_site", "stop", "session"]
    assert summary["population_by_means"]["session"] == combined.loc[combined["means"] == "session", "population"].sum()


def test_site_command_requires_a_siting_section(tmp_path):
    """`maillage site` on a scenario without siting: exits 2 and says what to add."""
    result = CliRunner().invoke(app, ["site", str(ROOT / "scenarios" / "lozere-coverage.yaml")])
    assert result.exit_code == 2 and "siting: is missing" in result.output


def test_plan_scenario_is_valid():
    """scenarios/lozere-plan.yaml parses: MCLP, two new sites, buses on uncovered demand."""
    scenario = load_scenario(PLAN)
    assert scenario.siting.model == "mclp" and scenario.siting.new_sites == 2
    assert scenario.rounds.demand == "uncovered"


def test_plan_target_not_among_the_thresholds(tmp_path):
    """A ``target_min`` that is not one of ``thresholds_min`` still gets its before/after figures (was: exit 1,
    ``KeyError: '15'``); the coverage figures keep the thresholds asked for."""
    text = (ROOT / "scenarios" / "lozere-rooms.yaml").read_text(encoding="utf-8")
    text = text.replace("target_min: 30", "target_min: 15").replace("time_limit_s: 30", "time_limit_s: 5")
    scenario = tmp_path / "rooms.yaml"
    scenario.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(scenario), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "Plan : à moins de 15 min" in result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert list(summary["share_within"]) == ["10", "20", "30"]
    assert list(summary["share_within_before"]) == list(summary["share_within_after"]) == ["10", "15", "20", "30"]
    before, after = summary["share_within_before"], summary["share_within_after"]
    assert before["10"] <= before["15"] <= before["20"] and after["15"] >= before["15"]
