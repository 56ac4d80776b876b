"""Tests for planner.exports.maps: colours, legend, gap outlines and markers in the standalone map."""

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from planner.exports.maps import UNREACHABLE_COLOUR, class_colour, coverage_map, standalone_html


@pytest.mark.parametrize(
    ("minutes", "colour"),
    [
        (0, "#1a9850"),
        (10, "#1a9850"),
        (10.1, "#91cf60"),
        (30, "#fee08b"),
        (44, "#fc8d59"),
        (90, "#d73027"),
        (np.inf, UNREACHABLE_COLOUR),
    ],
)
def test_class_colours(minutes, colour):
    """Each access time falls in its class; class bounds are inclusive; unreachable is grey."""
    assert class_colour(minutes) == colour


def test_map_has_zones_gaps_markers_and_legend():
    """The HTML holds both zones, a thick red outline for the gap, the service popup and the French legend."""
    access = gpd.GeoDataFrame(
        {
            "name": ["Près", "Loin"],
            "population": [100, 50],
            "time_min": [5.0, 42.0],
            "service_name": ["Mairie", "Mairie"],
            "gap": [False, True],
        },
        geometry=[box(3.0, 44.0, 3.1, 44.1), box(3.5, 44.5, 3.6, 44.6)],
        crs="EPSG:4326",
    )
    services = gpd.GeoDataFrame(
        {"name": ["Mairie <b>A</b>"], "address": ["1 place"], "opening_hours": ["Mo 09:00-12:00"]},
        geometry=[Point(3.05, 44.05)],
        crs="EPSG:4326",
    )
    html = (
        coverage_map(
            access, services, target_min=30, travel={"model": "estimate", "speed_kmh": 50, "detour_factor": 1.3}
        )
        .get_root()
        .render()
    )
    assert ("Près" in html or "Pr\\u00e8s" in html) and "Loin" in html and "#b2182b" in html
    assert "Mairie &lt;b&gt;A&lt;/b&gt;" in html  # names are escaped in popups
    assert (
        "maillage-legend" in html and "au-delà de 30 min" in html and "1,3" in html
    )  # the detour, French decimal comma


def test_standalone_map_needs_no_cdn():
    """The written map inlines Leaflet and jQuery and references no CDN, so it opens offline."""
    access = gpd.GeoDataFrame(
        {"name": ["A"], "population": [1], "time_min": [5.0], "service_name": ["S"], "gap": [False]},
        geometry=[box(3, 44, 3.1, 44.1)],
        crs="EPSG:4326",
    )
    services = gpd.GeoDataFrame({"name": ["S"]}, geometry=[Point(3.05, 44.05)], crs="EPSG:4326")
    html = standalone_html(coverage_map(access, services, target_min=30, travel={"model": "road"}))
    assert "cdn.jsdelivr" not in html and "code.jquery.com" not in html and "cdnjs" not in html
    assert "Leaflet 1.9.3" in html and "jQuery v3.7.1" in html and html.index("Leaflet 1.9.3") < html.index("L.map(")
