"""True figures on any territory: demand clipped to it, titled from the user's files, one gap count,
the estimate's low-high range, part-week services, names with their article, the national run."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

from planner.cli import app
from planner.exports._safe import read_csv
from planner.exports.coverage import headline, write_coverage
from planner.jobs.coverage import run_coverage
from planner.jobs.measures import share_of_week
from planner.jobs.national import run_national
from planner.scenario import Scenario

runner = CliRunner()


def _run(*args: str):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("code", ["48", "05", "93", "2B", "971"])
def test_estimate_range_brackets_every_share(code):
    """Mountain, dense, Corsica, overseas: low <= share <= high at every threshold, and a real spread."""
    summary = run_coverage(Scenario(territory={"departement": code})).summary
    low, high = summary["share_within_low"], summary["share_within_high"]
    assert low is not None and high is not None
    for t, share in summary["share_within"].items():
        assert low[t] <= share <= high[t], (code, t)
    assert summary["estimate_range"] == {"speed_kmh": [40.0, 60.0], "detour_factor": [1.2, 1.6]}


def test_range_is_in_every_output(tmp_path):
    """The CLI headline, summary.json and the map caption carry the range; it spans the stated pairs."""
    out = tmp_path / "o"
    output = _run("coverage", "--out", str(out))
    assert "fourchette" in output and "40–60 km/h, détour 1,2–1,6" in output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["share_within_low"]["30"] <= summary["share_within"]["30"] <= summary["share_within_high"]["30"]
    assert "fourchette 40–60 km/h" in (out / "map.html").read_text()
    names = read_csv(out / "access_by_zone.csv")["name"]
    assert {"La Canourgue", "Le Malzieu-Ville"} <= set(names)
    assert "La Canourgue" in (out / "map.html").read_text()


def test_range_is_the_same_times_at_the_stated_pairs():
    """The low end is what a run at 40 km/h and detour 1.6 gives, the high end 60 km/h and 1.2."""
    base = run_coverage(Scenario()).summary
    slow = run_coverage(Scenario(travel={"speed_kmh": 40, "detour_factor": 1.6})).summary
    fast = run_coverage(Scenario(travel={"speed_kmh": 60, "detour_factor": 1.2})).summary
    for t in base["share_within"]:
        assert base["share_within_low"][t] == pytest.approx(slow["share_within"][t], abs=1e-3)
        assert base["share_within_high"][t] == pytest.approx(fast["share_within"][t], abs=1e-3)


def test_road_times_have_no_estimate_range(shared, tmp_path):
    """Routed times are not the estimate: no range is claimed for them."""
    from planner.jobs.coverage import estimate_range

    class Routed:
        kind = "road"

    assert estimate_range(np.ones(2), np.array([5.0, 50.0]), [30.0], Routed()) is None  # type: ignore[arg-type]


def test_census_grid_is_clipped_to_the_territory(shared, tmp_path):
    """The 6,607 cells around Lozère count for the 2,335 whose centre is inside: about the grid's own 76,236."""
    grid = shared / "population_grid" / "lozere_census2021_1km.csv"
    for extra in ([], ["--departement", "48"]):
        out = tmp_path / f"o{len(extra)}"
        output = _run("coverage", "--zones", str(grid), *extra, "--out", str(out))
        summary = json.loads((out / "summary.json").read_text())
        assert summary["population_total"] == pytest.approx(76_236, rel=0.005), output
        assert summary["territory"] == "Lozère (48)"
        assert "Zones les plus peuplées au-delà de 30 min" in output and "Plus grandes communes" not in output
        assert any("zones outside it dropped" in n and "centre" in n for n in summary["notes"])
    layers = dict(pyogrio.list_layers(out / "coverage.gpkg"))  # point zones make point layers (a valid GeoPackage)
    assert layers["zones_access"] == layers["gap_zones"] == "MultiPoint"


def test_files_of_another_place_title_the_run(shared, tmp_path):
    """Zones and services in Andorra, with the default territory untouched: the run is titled from the files."""
    zones = gpd.GeoDataFrame(
        {
            "zone_id": ["ad1", "ad2", "ad3"],
            "name": ["Canillo", "Encamp", "La Massana"],
            "population": [4000, 11000, 9000],
        },
        geometry=gpd.points_from_xy([1.600, 1.580, 1.515], [42.567, 42.534, 42.545]),
        crs="EPSG:4326",
    )
    sites = pd.DataFrame({"site_id": ["s1"], "name": ["Andorra la Vella"], "lon": [1.521], "lat": [42.507]})
    zones.to_file(tmp_path / "andorra_zones.geojson")
    sites.to_csv(tmp_path / "andorra_services.csv", index=False)
    out = tmp_path / "o"
    output = _run(
        "coverage",
        "--zones",
        str(tmp_path / "andorra_zones.geojson"),
        "--sites",
        str(tmp_path / "andorra_services.csv"),
        "--no-canton-seats",
        "--out",
        str(out),
    )
    assert output.startswith("andorra_zones : 24") and "Lozère" not in output.splitlines()[0]
    assert json.loads((out / "summary.json").read_text())["territory"] == "andorra_zones"


def test_gap_count_is_one_count(tmp_path):
    """A zone just beyond the target (its time rounds down onto it) is a gap in the table, the layer,
    the headline and summary.json alike."""
    scenario = Scenario()
    result = run_coverage(scenario)
    times = result.access["time_min"].to_numpy()
    rounded_down = times[(np.round(times, 1) < times) & (times > 5)]
    target = float(np.round(rounded_down.min(), 1))
    scenario = Scenario(coverage={"target_min": target, "thresholds_min": [target]})
    result = run_coverage(scenario)
    write_coverage(result, tmp_path)
    count = result.summary["gap_zones"]
    assert len(read_csv(tmp_path / "gap_zones.csv")) == count
    assert len(gpd.read_file(tmp_path / "coverage.gpkg", layer="gap_zones")) == count
    assert f"({count}) :" in "\n".join(headline(result))


def test_itinerant_units_are_part_week_services(shared, tmp_path):
    """The ANCT list's itinerant unit in Lozère is a part-week service: not in the access times, in E2SFCA
    at one day a week, and said; a site of kind 'mobile' with its schedule counts for its hours."""
    listed = pd.read_csv(shared / "services" / "france_services_20240801.csv", dtype=str, keep_default_na=False)
    lozere = listed[listed["insee_dep"] == "48"]
    lozere.to_csv(tmp_path / "fs48.csv", index=False)
    scenario = Scenario(
        territory={"departement": "48"}, services={"canton_seats": False, "files": [tmp_path / "fs48.csv"]}
    )
    result = run_coverage(scenario)
    mobile = lozere["format_fs"].isin(["Itinérante", "Bus_équivalent"]).sum()
    assert mobile >= 1 and result.summary["part_week_services"] == mobile
    assert result.summary["services"] == len(lozere) - mobile
    assert any("part-week" in n for n in result.summary["notes"])
    assert np.isfinite(result.access["part_week_min"]).all()
    fixed_only = pd.read_csv(tmp_path / "fs48.csv", dtype=str, keep_default_na=False)
    fixed_only[~fixed_only["format_fs"].isin(["Itinérante", "Bus_équivalent"])].to_csv(tmp_path / "f.csv", index=False)
    without = run_coverage(
        Scenario(territory={"departement": "48"}, services={"canton_seats": False, "files": [tmp_path / "f.csv"]})
    )
    assert (result.access["time_min"].to_numpy() == without.access["time_min"].to_numpy()).all()
    assert result.access["e2sfca_per_1000"].sum() > without.access["e2sfca_per_1000"].sum()
    schedule = pd.DataFrame({"opening_hours": ["Tu 09:00-12:00,13:00-16:30", ""], "share_of_week": [np.nan, 0.5]})
    assert share_of_week(schedule).tolist() == pytest.approx([6.5 / 35, 0.5])


@pytest.fixture(scope="module")
def france():
    """The national run with the canton seats (the default services)."""
    return run_national(Scenario(coverage={"thresholds_min": [20, 30]}))


def test_national_times_are_plausible(france):
    """No commune of metropolitan France beyond 75 min of a canton seat, none in Cantal beyond 60,
    Guadeloupe above 95 % within 30 min, and Mayotte's missing population said in the headline."""
    access = france.coverage.access
    metro = access[~access["departement"].str.startswith("97")]
    assert metro["time_min"].max() <= 75
    assert access.loc[access["departement"] == "15", "time_min"].max() <= 60
    guadeloupe = france.departements.set_index("code").loc["971"]
    assert guadeloupe["share_within_30_min"] > 0.95
    summary = france.coverage.summary
    assert summary["zones_without_population"] >= 17
    assert "sans chiffre de population" in headline(france.coverage)[0]
    low, high = summary["share_within_low"], summary["share_within_high"]
    assert all(low[t] <= summary["share_within"][t] <= high[t] for t in summary["share_within"])


def test_mayotte_headline_says_its_population_is_missing(tmp_path):
    output = _run("coverage", "--departement", "976", "--out", str(tmp_path / "o"))
    assert "Mayotte (976)" in output.splitlines()[0] and "17 commune(s) sans chiffre de population" in output
    assert "à moins de 30 min d'un service : 0 (n.d.)" in output and "nan" not in output.lower()


def test_a_guyane_hamlet_far_from_its_town_hall_is_kept(shared, tmp_path):
    """Cacao (Roura, Guyane) lies far from every town hall but inside its commune: the national run keeps it."""
    listed = pd.read_csv(shared / "services" / "france_services_20240801.csv", dtype=str, keep_default_na=False)
    listed[listed["insee_dep"].isin(["973", "974"])].to_csv(tmp_path / "fs.csv", index=False)
    scenario = Scenario(services={"canton_seats": False, "files": [tmp_path / "fs.csv"]})
    national = run_national(scenario)
    assert national.coverage.services["name"].str.contains("Cacao").any()
    assert not any("20 km" in n for n in national.coverage.summary["notes"])


def test_audit_finds_nothing_implausible(france):
    """The national audit over the packaged data: no implausible time, no misplaced point."""
    from planner.jobs.audit import audit

    report = audit(france)
    assert report.implausible.empty and report.misplaced.empty
    assert len(report.departements) == 101
    assert set(report.outliers["departement"]) <= {"13", "971", "973", "974"}  # deltas, islands, cirques, Guyane
