"""Tests for national coverage (planner/national.py, planner/national_exports.py, `maillage coverage --france`)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

from planner._errors import InputError
from planner.cli import app
from planner.exports._safe import read_csv
from planner.exports.national import write_national
from planner.jobs.coverage import run_coverage
from planner.jobs.measures import nearest_service
from planner.jobs.national import NationalCoverage, nearest_service_times, run_national
from planner.scenario import CoverageSpec, Scenario, ServicesSpec, TerritorySpec, TravelSpec
from planner.travel.estimate import EstimateModel

runner = CliRunner()


@pytest.fixture(scope="module")
def national() -> NationalCoverage:
    """France against the canton seats, thresholds 20 and 30 minutes (about 2 s)."""
    return run_national(Scenario(coverage=CoverageSpec(thresholds_min=[20, 30])))


def test_nearest_search_equals_the_dense_estimate_matrix(national):
    """The k-d tree on the sphere finds, for every commune of three départements, exactly the minutes of
    the dense EstimateModel matrix against all of France's services (Lozère, Corse-du-Sud, La Réunion)."""
    access, services = national.coverage.access, national.coverage.services
    zones = access[access["departement"].isin(["48", "2A", "974"])]
    points = gpd.GeoSeries(gpd.points_from_xy(zones["demand_lon"], zones["demand_lat"]), crs="EPSG:4326")
    model = EstimateModel(speed_kmh=42.0, detour_factor=1.45)
    dense_minutes, dense_column = nearest_service(model.matrix(points, services.geometry))
    minutes, column = nearest_service_times(points, services.geometry, model)
    assert np.array_equal(minutes, dense_minutes)
    assert (column == dense_column).mean() > 0.99  # only exact ties may pick another service
    default_minutes, _ = nearest_service(EstimateModel().matrix(points, services.geometry))
    assert np.array_equal(zones["time_min"].to_numpy(), default_minutes)  # what run_national reported


@pytest.mark.parametrize("code", ["48", "974", "972"])
def test_national_times_match_the_run_per_departement(national, code):
    """Per commune, the national time is the per-département run's time, or shorter through a service
    across the border; equal whenever the nearest service lies in the département (972: EPCI towns)."""
    alone = run_coverage(Scenario(territory=TerritorySpec(departement=code))).access.set_index("zone_id")
    here = national.coverage.access.set_index("zone_id").loc[alone.index]
    assert (here["time_min"] <= alone["time_min"] + 1e-9).all()
    inside = here["service_id"].isin(set(alone["service_id"]))
    assert inside.mean() > 0.7
    assert np.array_equal(here.loc[inside, "time_min"].to_numpy(), alone.loc[inside, "time_min"].to_numpy())
    if code in ("974", "972"):  # islands: nothing across a border
        assert inside.all()


def test_tables_add_up_per_departement_and_region(national):
    """Département rows add up to France, région rows to their départements; P90 and gaps are filled."""
    summary, deps, regions = national.coverage.summary, national.departements, national.regions
    assert len(deps) == 101 and len(regions) == 18
    assert deps["population_total"].sum() == pytest.approx(summary["population_total"])
    assert deps["population_within_30_min"].sum() == pytest.approx(summary["population_within"]["30"])
    by_region = deps.groupby("region")[["population_total", "population_within_20_min", "gap_zones"]].sum()
    merged = regions.set_index("code")[["population_total", "population_within_20_min", "gap_zones"]]
    pd.testing.assert_frame_equal(by_region.sort_index(), merged.sort_index(), check_names=False, check_dtype=False)
    lozere = deps.set_index("code").loc["48"]
    assert lozere["gap_zones"] == (national.coverage.access.query("departement == '48'")["time_min"] > 30).sum()
    assert 0 < lozere["p90_time_min"] <= 30 and "hab." in deps.set_index("code").loc["973", "largest_gaps"]
    assert summary["services"] > 1600 and "972, 973" in summary["notes"][-1]


def test_service_file_far_and_swapped_points_are_noted(tmp_path):
    """Sites far from every commune are ignored and counted; a lon/lat swap is named."""
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,name,lon,lat\nmende,Mende,3.4985,44.5181\nswapped,Swapped,44.5181,3.4985\n")
    result = run_national(
        Scenario(services=ServicesSpec(canton_seats=False, files=[sites]), coverage=CoverageSpec(thresholds_min=[30]))
    )
    assert result.coverage.summary["services"] == 1
    assert "1 of 2 sites more than 20 km" in result.coverage.summary["notes"][-1]
    assert "swapped" in result.coverage.summary["notes"][-1]
    mende = result.coverage.access.set_index("zone_id").loc["48095"]
    assert mende["service_id"] == "mende" and mende["time_min"] < 1


def test_national_refuses_a_territory_or_a_road_network():
    """--france with a département or a network is a clear input error."""
    with pytest.raises(InputError, match="drop --departement"):
        run_national(Scenario(territory=TerritorySpec(departement="48")))
    with pytest.raises(InputError, match="stated estimate"):
        run_national(Scenario(travel=TravelSpec(network=Path("x.osm.pbf"))))
    result = runner.invoke(app, ["coverage", "--france", "--epci", "200069813", "--out", "/nonexistent"])
    assert result.exit_code == 2 and "drop --departement, --epci" in result.output


def test_map_is_light_with_one_layer_per_threshold_band(national, tmp_path):
    """Only communes beyond the smallest threshold are drawn, simplified; one layer per band."""
    files = write_national(national, tmp_path, "fr")
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert len(page) < 8_000_000
    layers = [json.dumps(name)[1:-1] for name in ("20–30 min", "au-delà de 30 min", "Départements")]
    assert all(f'"{layer}"' in page for layer in layers)  # the layer control's names, JSON-escaped
    assert "pas un itinéraire routier" in page
    table = read_csv(tmp_path / "access_by_zone.csv", dtype={"zone_id": str, "departement": str})
    assert len(table) == len(national.coverage.access) and "access_by_departement.csv" in files
    assert {"within_20_min", "within_30_min", "gap", "region"} <= set(table.columns)


def test_communes_layers_are_in_each_official_projection(national, tmp_path):
    """communes.gpkg: one layer per official projection, every commune once, times as in the CSV."""
    write_national(national, tmp_path, "fr")
    layers = {name: kind for name, kind in pyogrio.list_layers(tmp_path / "communes.gpkg") if name != "layer_styles"}
    expected = {"metropole_lambert93": 2154, "antilles_utm20n": 5490, "guyane_utm22n": 2972}
    expected |= {"reunion_utm40s": 2975, "mayotte_utm38s": 4471}
    assert set(layers) == {f"communes_{name}" for name in expected}
    read = {name: gpd.read_file(tmp_path / "communes.gpkg", layer=f"communes_{name}") for name in expected}
    assert {name: frame.crs.to_epsg() for name, frame in read.items()} == expected
    assert set(read["antilles_utm20n"]["departement"]) == {"971", "972"}
    communes = pd.concat([pd.DataFrame(frame.drop(columns="geometry")) for frame in read.values()])
    assert sorted(communes["zone_id"]) == sorted(national.coverage.access["zone_id"])
    assert (
        communes.set_index("zone_id")["time_min"]
        .round(3)
        .equals(national.coverage.access.set_index("zone_id")["time_min"].loc[communes["zone_id"]].round(3))
    )


def test_cli_france_with_the_france_services_list(tmp_path, shared):
    """`maillage coverage --france --sites <ANCT list> --no-canton-seats` writes every output atomically."""
    fs = shared / "services" / "france_services_20240801.csv"
    out = tmp_path / "fr"
    result = runner.invoke(
        app,
        ["coverage", "--france", "--sites", str(fs), "--no-canton-seats", "--out", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "France : " in result.output and "Départements les moins couverts" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["services"] > 2500 and set(summary["share_within"]) == {"20", "30"}
    assert len(summary["departements"]) == 101 and summary["travel"]["model"] == "estimate"
    run = json.loads((out / "run.json").read_text())
    assert run["inputs"]["files"][1]["path"] == str(fs) and set(run["outputs"]) == {p.name for p in out.iterdir()}
    access = read_csv(out / "access_by_zone.csv", dtype={"zone_id": str})
    assert access["service_id"].str.startswith("fs-").all()
    assert not list(tmp_path.glob(".fr.part-*"))
    readme = (out / "LISEZMOI.txt").read_text(encoding="utf-8-sig")
    assert "communes.gpkg" in readme and "une couche par projection" in readme
