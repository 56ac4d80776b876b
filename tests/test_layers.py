"""Tests for planner.data.layers: reading the files people bring, and refusing broken ones clearly."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon

from planner._errors import InputError
from planner.data.france import DEFAULT_TERRITORY
from planner.data.layers import check_opening_hours, outside_territory, read_layer
from planner.data.territory import read_territory


def _sites(n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "site_id": [f"s{i}" for i in range(n)],
            "name": [f"Site {i}" for i in range(n)],
            "kind": "third_place",
            "capacity": [2.0] * n,
            "opening_hours": "Mo-Fr 09:00-17:00",
        },
        geometry=[Point(3.5 + i / 100, 44.5) for i in range(n)],
        crs="EPSG:4326",
    )


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp", ".parquet"])
def test_sites_in_every_gis_format(tmp_path, suffix):
    """The same sites written as GeoJSON, GeoPackage, Shapefile and GeoParquet read back identically."""
    path = tmp_path / f"sites{suffix}"
    frame = _sites()
    frame.to_parquet(path) if suffix == ".parquet" else frame.to_file(path)
    sites = read_layer(path, "sites")
    assert list(sites["site_id"]) == ["s0", "s1", "s2"]
    assert list(sites["opening_hours"]) == ["Mo-Fr 09:00-17:00"] * 3  # even from a shapefile's 'opening_ho'
    assert sites.crs.to_epsg() == 4326 and list(sites["capacity"]) == [2.0, 2.0, 2.0]


def test_projected_file_is_reprojected(tmp_path):
    """A Lambert-93 file comes back in EPSG:4326 at the same place."""
    path = tmp_path / "sites.gpkg"
    _sites().to_crs("EPSG:2154").to_file(path)
    sites = read_layer(path, "sites")
    assert sites.geometry.x.iloc[0] == pytest.approx(3.5, abs=1e-7)


def test_csv_with_lon_lat_and_french_decimal_commas(tmp_path):
    """A spreadsheet CSV (semicolons, decimal commas) with lon/lat columns becomes points."""
    path = tmp_path / "sites.csv"
    path.write_text("site_id;name;longitude;latitude\na;Tiers-lieu A;3,50;44,51\nb;Tiers-lieu B;3,6;44,6\n")
    sites = read_layer(path, "sites")
    assert sites.geometry.y.tolist() == [44.51, 44.6] and set(sites["kind"]) == {"service_point"}


def test_france_services_csv_is_recognised(shared):
    """The official ANCT list reads as service points with its hours in the OSM form."""
    sites = read_layer(shared / "services" / "france_services_20240801.csv", "sites")
    assert len(sites) == 2845
    assert sites["site_id"].is_unique
    mende = sites[sites["name"].str.contains("MSA itinérante de Lozère")]
    assert len(mende) == 1 and mende["format"].iloc[0] == "Itinérante"
    first = sites.iloc[0]  # Valserhône: h_lundi 13:30 - 17:00, Tu-Th 09:00-12:00 / 13:30-17:00
    assert first["opening_hours"].startswith("Mo 13:30-17:00; Tu 09:00-12:00,13:30-17:00")


def test_eurostat_grid_is_recognised(shared):
    """The 1-km census grid becomes demand points at the cell centres, population from column T."""
    zones = read_layer(shared / "population_grid" / "lozere_census2021_1km.csv", "zones")
    raw = pd.read_csv(shared / "population_grid" / "lozere_census2021_1km.csv")
    assert len(zones) == len(raw) and zones["population"].sum() == raw["T"].sum()
    # the centre computed from the INSPIRE id matches the lon/lat published beside it
    assert zones["demand_lon"].to_numpy() == pytest.approx(raw["lon_centre"].to_numpy(), abs=1e-5)
    assert zones["demand_lat"].to_numpy() == pytest.approx(raw["lat_centre"].to_numpy(), abs=1e-5)


def test_polygon_zones_get_an_interior_demand_point(tmp_path):
    """Zones without demand_lon/lat get a point inside their polygon; invalid polygons are repaired."""
    bowtie = Polygon([(3, 44), (3.1, 44.1), (3.1, 44), (3, 44.1)])
    square = Polygon([(3.2, 44), (3.3, 44), (3.3, 44.1), (3.2, 44.1)])
    path = tmp_path / "zones.geojson"
    gpd.GeoDataFrame(
        {"zone_id": ["a", "b"], "population": [10, 20]}, geometry=[bowtie, square], crs="EPSG:4326"
    ).to_file(path)
    zones = read_layer(path, "zones")
    assert zones.attrs["repaired_geometries"] == 1 and zones.geometry.is_valid.all()
    assert Point(zones.at[1, "demand_lon"], zones.at[1, "demand_lat"]).within(square)


def _write(tmp_path, frame, name="layer.geojson"):
    path = tmp_path / name
    frame.to_file(path)
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="site_id"), "column 'site_id': is missing"),
        (lambda f: f.assign(site_id=["s0", "s0", "s2"]), "feature 2, field 'site_id': duplicate id 's0'"),
        (
            lambda f: f.assign(capacity=[1.0, -2.0, 1.0]),
            "feature 2, field 'capacity': expected a number >= 0, got '-2.0'",
        ),
        (lambda f: f.assign(kind=["third_place", "bus", "stop"]), "feature 2, field 'kind': 'bus' is not one of"),
        (lambda f: f.set_geometry(f.buffer(0.01)), "feature 1: geometry is a Polygon, expected a Point"),
    ],
)
def test_bad_sites_name_the_feature_and_field(tmp_path, change, message):
    """Each defect is reported with the file, the feature and the field."""
    with pytest.warns(UserWarning) if "Polygon" in message else _no_warning():
        path = _write(tmp_path, change(_sites()))
    with pytest.raises(InputError) as caught:
        read_layer(path, "sites")
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_odd_hours_are_read_and_refused_only_when_checked(tmp_path):
    """A sites file with hours that cannot be read is still a sites layer (coverage does not use hours);
    the commands that use them refuse it by feature and field."""
    path = _write(tmp_path, _sites().assign(opening_hours=["Mo-Fr 9h-12h", "", "Mo-Fr 08:30-12:00; PH off"]))
    sites = read_layer(path, "sites")
    assert sites["opening_hours"].iloc[0] == "Mo-Fr 9h-12h"
    with pytest.raises(InputError) as caught:
        check_opening_hours(sites, str(path))
    assert [p.where for p in caught.value.problems] == ["feature 1, field 'opening_hours'"]
    assert "'9h' is not" in str(caught.value)


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_all_problems_are_reported_at_once(tmp_path):
    """Two bad rows give one error listing both, not the first only."""
    path = tmp_path / "sites.csv"
    path.write_text("site_id,name,lon,lat,capacity\na,A,3.5,44.5,-1\na,B,3.6,44.6,x\n")
    with pytest.raises(InputError) as caught:
        read_layer(path, "sites")
    text = str(caught.value)
    assert "3 problems" in text and "row 3, field 'site_id': duplicate id 'a'" in text
    assert "row 2, field 'capacity'" in text and "row 3, field 'capacity': expected a number >= 0, got 'x'" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("zone_id,population,lon,lat\nz1,-5,3.5,44.5\n", "row 2, field 'population': expected a number of people"),
        ("zone_id,population,lon,lat\nz1,many,3.5,44.5\n", "got 'many'"),
        ("zone_id,pop,lon,lat\nz1,5,3.5,44.5\n", "column 'population': is missing"),
        ("zone_id,population,lon,lat\nz1,5,44.5,93.5\n", "latitude beyond ±90°"),
        ("zone_id,population,lon,lat\nz1,5,east,44.5\n", "row 2, field 'lon': expected a number, got 'east'"),
        ("zone_id,population,x_coord,y_coord\nz1,5,3.5,44.5\n", "no longitude/latitude columns"),
        ("zone_id,population,lon,lat\n", "the zones layer is empty"),
    ],
)
def test_bad_zones_csv(tmp_path, content, message):
    """Broken demand files are refused with the row and field named."""
    path = tmp_path / "zones.csv"
    path.write_text(content)
    with pytest.raises(InputError, match=None) as caught:
        read_layer(path, "zones")
    assert message in str(caught.value)


def test_misspelt_column_gets_a_rename_hint(tmp_path):
    """A column spelt 'siteid' is pointed at as the likely 'site_id'."""
    path = tmp_path / "sites.csv"
    path.write_text("siteid,name,lon,lat\na,A,3.5,44.5\n")
    with pytest.raises(InputError, match="found 'siteid': rename it 'site_id'"):
        read_layer(path, "sites")


def test_shapefile_without_crs_is_refused(tmp_path):
    """A shapefile without .prj has no CRS: refused rather than guessed."""
    path = _write(tmp_path, _sites().set_crs(None, allow_override=True), "sites.shp")
    with pytest.raises(InputError, match="has no coordinate reference system"):
        read_layer(path, "sites")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.geojson", '{"type": "FeatureCollection", "features": [', "cannot be read"),
        ("missing.geojson", None, "file not found"),
        ("sites.xlsx", "x", "unsupported format '.xlsx'"),
    ],
)
def test_unreadable_files(tmp_path, name, content, message):
    """Truncated, missing and unsupported files give a one-line reason."""
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_layer(path, "sites")


def test_points_outside_and_swapped():
    """A point in Paris is outside Lozère; a point with lon/lat swapped is flagged as swapped."""
    zones = read_territory(DEFAULT_TERRITORY).zones
    points = gpd.GeoDataFrame(
        {"site_id": ["in", "paris", "swapped"]},
        geometry=[Point(3.5, 44.5), Point(2.35, 48.85), Point(44.52, 3.5)],
        crs="EPSG:4326",
    )
    where = outside_territory(points, zones)
    assert where["far"].tolist() == [False, True, True]
    assert where["swapped"].tolist() == [False, False, True]
