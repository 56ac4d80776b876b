"""Tests for planner.exports.maps: colours, legend, gap outlines and markers in the standalone map;
names on the offline background, the user's own sites apart, the map as PNG and PDF."""

import io
import re

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from planner.exports.maps import (
    OWN_SITE_COLOUR,
    SERVICE_COLOUR,
    UNREACHABLE_COLOUR,
    class_colour,
    coverage_map,
    label_zoom,
    standalone_html,
)


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


def _two_zones(**services_columns):
    access = gpd.GeoDataFrame(
        {"name": ["Près", "Loin"], "population": [100, 50], "time_min": [5.0, 42.0], "service_name": ["S", "S"]},
        geometry=[box(3.0, 44.0, 3.1, 44.1), box(3.5, 44.5, 3.6, 44.6)],
        crs="EPSG:4326",
    ).assign(gap=[False, True])
    services = gpd.GeoDataFrame(
        {"name": ["Chef-lieu", "Ma maison"], **services_columns},
        geometry=[Point(3.05, 44.05), Point(3.55, 44.55)],
        crs="EPSG:4326",
    )
    travel = {"model": "estimate", "speed_kmh": 50, "detour_factor": 1.3}
    return standalone_html(coverage_map(access, services, target_min=30, travel=travel))


def test_own_sites_are_drawn_apart():
    """Sites from the user's files are a layer of their own, in their colour, in the legend, with their file."""
    html = _two_zones(source_file=[None, "mes-sites.csv"])
    assert OWN_SITE_COLOUR in html and SERVICE_COLOUR in html
    assert "Vos sites (fichier importé)" in html and "mes-sites.csv" in html
    packaged_only = _two_zones()
    assert OWN_SITE_COLOUR not in packaged_only and "Vos sites" not in packaged_only


def test_commune_names_show_from_a_zoom_where_they_fit():
    """Each zone's name is on the map, hidden below the zoom at which a zone is wide enough to hold it
    (a zoom earlier for the more populous); small suburban communes need a closer zoom than rural ones."""
    html = _two_zones()
    assert html.count('"className": "maillage-name maillage-z') == 2  # one name per zone
    assert "\\u003cspan\\u003ePr\\u00e8s\\u003c/span\\u003e" in html  # the name, its markup escaped as JSON
    zoom = label_zoom(gpd.GeoDataFrame(geometry=[box(3.0, 44.0, 3.1, 44.1)], crs=4326))
    assert f".maillage-zoom-{zoom - 1} .maillage-z{zoom}" in html and f".maillage-zoom-{zoom} " not in html
    rural = label_zoom(gpd.GeoDataFrame(geometry=[box(3.0, 44.5, 3.1, 44.6)], crs=4326))
    suburb = label_zoom(gpd.GeoDataFrame(geometry=[box(2.40, 48.90, 2.43, 48.92)], crs=4326))
    assert 10 <= rural < suburb <= 14


def test_map_as_png_and_pdf_offline():
    """The map drawn by Chromium with the network refused: a PNG of the stated size showing the zones'
    colours, and a one-page PDF."""
    from PIL import Image

    from planner.exports.render import MAP_SIZE, map_pdf, map_png

    html = _two_zones()
    png = map_png(html)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (MAP_SIZE["width"], MAP_SIZE["height"])
    colours = {colour for _, colour in image.getcolors(maxcolors=1_000_000) or []}
    legend_green = tuple(int("1a9850"[i : i + 2], 16) for i in (0, 2, 4))
    assert legend_green in colours and len(colours) > 50
    pdf = map_pdf(html)
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1


def test_canvas_map_as_png():
    """A map drawn on a canvas (the national map's many communes) is waited for and drawn too."""
    import folium

    from planner.exports.render import map_png

    fmap = folium.Map(prefer_canvas=True)
    folium.GeoJson(gpd.GeoDataFrame(geometry=[box(3.0, 44.0, 3.1, 44.1)], crs="EPSG:4326")).add_to(fmap)
    fmap.fit_bounds([[44.0, 3.0], [44.1, 3.1]])
    assert map_png(standalone_html(fmap)).startswith(b"\x89PNG")
