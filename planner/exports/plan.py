"""Siting and integrated-plan outputs: chosen sites, the trade-off curve, the combined access table."""

from __future__ import annotations

from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd

from planner.exports._safe import write_csv
from planner.exports.maps import point
from planner.jobs.siting import SitingRun


def write_siting(siting: SitingRun, folder: Path) -> list[str]:
    """Chosen sites (GeoJSON, CSV) and the trade-off curve (CSV)."""
    folder.mkdir(parents=True, exist_ok=True)
    columns = ["site_id", "name", "kind", "address", "population_within", "geometry"]
    chosen = siting.chosen.reindex(columns=columns)
    gpd.GeoDataFrame(chosen, crs="EPSG:4326").to_file(folder / "chosen_sites.geojson", driver="GeoJSON")
    write_csv(chosen.drop(columns="geometry"), folder / "chosen_sites.csv")
    write_csv(siting.tradeoff, folder / "tradeoff.csv")
    return ["chosen_sites.geojson", "chosen_sites.csv", "tradeoff.csv"]


def siting_layer(siting: SitingRun, fmap: folium.Map) -> folium.Map:
    """Add the new sites to a map as green markers with the people they bring within reach."""
    layer = folium.FeatureGroup(name="Nouveaux sites")
    layer.add_to(fmap)
    for site in siting.chosen.itertuples():
        tooltip = (
            f"Nouveau site : {site.name} ({site.population_within:,.0f} hab. à moins de {siting.radius_min:g} min)"
        )
        point(layer, site.geometry.y, site.geometry.x, "#1a9850", tooltip, radius=9)
    return fmap


def write_plan(zones: gpd.GeoDataFrame, folder: Path) -> list[str]:
    """The combined access table: per zone, minutes by each means, the best means, the stop days."""
    folder.mkdir(parents=True, exist_ok=True)
    zones.to_file(folder / "combined_access.gpkg", layer="combined_access", driver="GPKG")
    write_csv(pd.DataFrame(zones.drop(columns="geometry")), folder / "combined_access.csv")
    return ["combined_access.gpkg", "combined_access.csv"]
