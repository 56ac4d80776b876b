"""The territory a run works on: demand zones, sites, and notes on how they were built."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from planner._errors import InputError
from planner.data.names import postal_address

ZONE_COLUMNS = ["zone_id", "name", "population", "demand_lon", "demand_lat"]
SITE_COLUMNS = ["site_id", "name", "kind", "capacity", "equipment", "opening_hours", "address"]
SITE_KINDS = ("third_place", "service_point", "vacant_premises", "town_hall", "stop", "mobile")


@dataclass
class Territory:
    """Demand zones and sites (EPSG:4326), with the notes a user must read about them.

    ``zones`` has ``ZONE_COLUMNS``: ``demand_lon``/``demand_lat`` is where the zone's people are
    taken to live (the town hall for packaged communes, else an interior point of the zone).
    ``sites`` has ``SITE_COLUMNS`` and point geometries; ``kind`` is one of ``SITE_KINDS``.
    """

    name: str
    zones: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    notes: list[str] = field(default_factory=list)

    def services(self) -> gpd.GeoDataFrame:
        """The sites that count as a service (kind ``service_point`` or ``third_place``)."""
        return self.sites[self.sites["kind"].isin(["service_point", "third_place"])]

    def part_week(self) -> gpd.GeoDataFrame:
        """The part-week services (kind ``mobile``: itinerant units and buses at one of their stops)."""
        return self.sites[self.sites["kind"] == "mobile"]

    def demand_points(self) -> gpd.GeoSeries:
        """One point per zone where its population is taken to live."""
        return gpd.GeoSeries(
            gpd.points_from_xy(self.zones["demand_lon"], self.zones["demand_lat"]),
            index=self.zones.index,
            crs="EPSG:4326",
        )

    def metric_crs(self) -> str:
        """Lambert-93 for metropolitan France, else the local UTM zone."""
        lon, lat = self.zones["demand_lon"].mean(), self.zones["demand_lat"].mean()
        if -5.5 <= lon <= 10 and 41 <= lat <= 51.5:
            return "EPSG:2154"
        return str(self.demand_points().estimate_utm_crs())


def with_demand_points(zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fill missing ``demand_lon``/``demand_lat`` from an interior point of each zone."""
    zones = zones.copy()
    for column in ("demand_lon", "demand_lat"):
        if column not in zones:
            zones[column] = float("nan")
    missing = zones["demand_lon"].isna() & zones.geometry.notna()
    inside = zones.loc[missing].geometry.representative_point()
    zones.loc[missing, "demand_lon"] = inside.x.round(6)
    zones.loc[missing, "demand_lat"] = inside.y.round(6)
    return zones


def write_territory(territory: Territory, path: Path) -> None:
    """Write zones and sites as two layers of a GeoPackage, atomically."""
    tmp = path.with_name(f".{path.stem}.part{path.suffix}")
    tmp.unlink(missing_ok=True)
    territory.zones.to_file(tmp, layer="zones", driver="GPKG")
    territory.sites.to_file(tmp, layer="sites", driver="GPKG")
    notes = pd.DataFrame({"note": territory.notes or [""], "territory": territory.name})
    gpd.GeoDataFrame(notes, geometry=[None] * len(notes), crs="EPSG:4326").to_file(tmp, layer="notes", driver="GPKG")
    os.replace(tmp, path)


def read_territory(path: Path) -> Territory:
    """Read a territory GeoPackage written by :func:`write_territory`."""
    try:
        zones = gpd.read_file(path, layer="zones")
        sites = gpd.read_file(path, layer="sites")
        notes = gpd.read_file(path, layer="notes")
    except Exception as exc:  # pyogrio raises several types for a missing/broken file
        raise InputError.one(str(path), "", f"cannot be read as a Maillage territory ({exc})") from None
    zones["zone_id"] = zones["zone_id"].astype(str)
    sites["site_id"] = sites["site_id"].astype(str)
    if "address" in sites:
        sites["address"] = sites["address"].map(postal_address)
    name = str(notes["territory"].iloc[0]) if len(notes) else path.stem
    return Territory(name, zones, sites, [n for n in notes["note"] if n])
