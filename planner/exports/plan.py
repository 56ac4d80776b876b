"""Siting and integrated-plan outputs: chosen sites, the trade-off curve, the combined access table."""

from __future__ import annotations

from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd

from planner.exports._safe import CsvFormat, write_csv
from planner.exports.geo import official_crs, write_access_layer, write_geojson
from planner.exports.maps import point
from planner.i18n import label, number
from planner.jobs.siting import SitingRun


def siting_tables(siting: SitingRun) -> dict[str, pd.DataFrame]:
    """The chosen sites (with geometry) and the trade-off curve, by file name."""
    columns = ["site_id", "name", "kind", "address", "population_within", "geometry"]
    return {"chosen_sites.csv": siting.chosen.reindex(columns=columns), "tradeoff.csv": siting.tradeoff}


def write_siting(siting: SitingRun, folder: Path, csv_format: CsvFormat = "rfc4180") -> list[str]:
    """Chosen sites (GeoJSON as RFC 7946, CSV) and the trade-off curve (CSV in ``csv_format``)."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = siting_tables(siting)
    chosen = tables["chosen_sites.csv"]
    write_geojson(gpd.GeoDataFrame(chosen, geometry="geometry", crs="EPSG:4326"), folder / "chosen_sites.geojson")
    write_csv(chosen.drop(columns="geometry"), folder / "chosen_sites.csv", csv_format)
    write_csv(tables["tradeoff.csv"], folder / "tradeoff.csv", csv_format)
    return ["chosen_sites.geojson", "chosen_sites.csv", "tradeoff.csv"]


def siting_layer(siting: SitingRun, fmap: folium.Map, lang: str = "fr") -> folium.Map:
    """Add the new sites to a map as green markers with the people they bring within reach."""
    layer = folium.FeatureGroup(name=label("new_sites_layer", lang))
    layer.add_to(fmap)
    for site in siting.chosen.itertuples():
        tooltip = label(
            "new_site_tooltip",
            lang,
            name=site.name,
            people=number(float(site.population_within), lang),
            radius=siting.radius_min,
        )
        point(layer, site.geometry.y, site.geometry.x, "#1a9850", tooltip, radius=9)
    return fmap


def write_plan(zones: gpd.GeoDataFrame, folder: Path, csv_format: CsvFormat = "rfc4180") -> list[str]:
    """The combined access table: per zone, minutes by each means, the best means, the stop days
    (GeoPackage in the territory's official projection, styled by access time; CSV in ``csv_format``)."""
    folder.mkdir(parents=True, exist_ok=True)
    gpkg = folder / "combined_access.gpkg"
    write_access_layer(zones, gpkg, "combined_access", crs=official_crs(zones), column="time_best_min")
    write_csv(pd.DataFrame(zones.drop(columns="geometry")), folder / "combined_access.csv", csv_format)
    return ["combined_access.gpkg", "combined_access.csv"]
