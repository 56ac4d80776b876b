"""National coverage: every commune of France against a national service layer, in seconds.

A dense zones x services matrix for 34,870 communes and thousands of services would not fit the
time budget, so the nearest service is found with a k-d tree on the unit sphere: the straight
(chord) distance between two points of the sphere grows with their great-circle distance, so the
nearest point by chord is exactly the nearest by haversine, for metropolitan and overseas France
alike with no projection. Times are then the stated estimate of :class:`planner.travel.estimate.EstimateModel`
for those pairs, bit for bit what its ``matrix`` gives. Services across a département border count.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from shapely.geometry import Point

from planner._errors import InputError
from planner.data.france import _epci_main_towns, _table, departements, load_france
from planner.data.layers import read_layer
from planner.data.territory import Territory
from planner.i18n import number
from planner.jobs.coverage import CoverageResult, access_and_report
from planner.jobs.measures import gap_zones, summarise
from planner.scenario import Scenario
from planner.travel.estimate import EARTH_RADIUS_M, EstimateModel, haversine_m

FAR_M = 20_000.0  # service points farther than this from every commune's demand point are ignored


@dataclass
class NationalCoverage:
    """Per-commune coverage of France (``coverage``) and its summary per département and per région."""

    coverage: CoverageResult
    departements: pd.DataFrame
    regions: pd.DataFrame


def unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Points on the unit sphere (n x 3) for longitudes and latitudes in degrees.

    >>> unit_vectors(np.array([0.0]), np.array([90.0])).round(6).tolist()
    [[0.0, 0.0, 1.0]]
    """
    lon, lat = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def _chord(distance_m: float) -> float:
    """The unit-sphere chord of a great-circle distance."""
    return 2 * np.sin(distance_m / (2 * EARTH_RADIUS_M))


def pair_minutes(model: EstimateModel, origins: gpd.GeoSeries, destinations: gpd.GeoSeries) -> np.ndarray:
    """The estimate's minutes between each origin and the destination at the same position (float32).

    The same operations, in the same order, as ``model.matrix`` on the diagonal.
    """
    crow = haversine_m(origins.x.to_numpy(), origins.y.to_numpy(), destinations.x.to_numpy(), destinations.y.to_numpy())
    return (crow * model.detour_factor / (model.speed_kmh * 1000.0 / 60.0)).astype(np.float32)


def nearest_service_times(
    points: gpd.GeoSeries, services: gpd.GeoSeries, model: EstimateModel
) -> tuple[np.ndarray, np.ndarray]:
    """Minutes to the nearest service and its position in ``services``, per point (k-d tree, no matrix).

    Equal to ``nearest_service(model.matrix(points, services))`` (ties aside), in O(n log m).
    """
    if len(services) == 0:
        return np.full(len(points), np.inf), np.full(len(points), -1)
    tree = cKDTree(unit_vectors(services.x.to_numpy(), services.y.to_numpy()))
    _, column = tree.query(unit_vectors(points.x.to_numpy(), points.y.to_numpy()))
    nearest = gpd.GeoSeries(services.to_numpy()[column], crs=services.crs)
    return pair_minutes(model, points, nearest).astype(float), column.astype(np.int64)


def _far_from_zones(sites: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per site: farther than ``FAR_M`` from every commune, and within it once lon/lat are swapped.

    Demand points settle most sites at once; a site far from every one of them is measured against
    the commune boundaries (a hamlet of a vast Guyane commune, such as Cacao in Roura, is far from
    its town hall yet inside its commune).
    """
    tree = cKDTree(unit_vectors(zones["demand_lon"].to_numpy(), zones["demand_lat"].to_numpy()))
    x, y = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
    far = tree.query(unit_vectors(x, y))[0] > _chord(FAR_M)
    for i in np.flatnonzero(far):
        far[i] = not _near_a_commune(x[i], y[i], zones)
    swapped = far & (tree.query(unit_vectors(y, x))[0] <= _chord(FAR_M))
    return far, swapped


def _near_a_commune(lon: float, lat: float, zones: gpd.GeoDataFrame) -> bool:
    """Whether a point lies within ``FAR_M`` of a commune's boundary (measured in its local UTM zone)."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return False
    where = gpd.GeoSeries([Point(lon, lat)], crs="EPSG:4326")
    crs = where.estimate_utm_crs()
    box = where.to_crs(crs).buffer(FAR_M).to_crs("EPSG:4326").iloc[0]
    shapes = zones.geometry[zones.geometry.notna() & zones.geometry.intersects(box)]
    if shapes.empty:
        return False
    return bool(shapes.to_crs(crs).distance(where.to_crs(crs).iloc[0]).min() <= FAR_M)


def national_services(scenario: Scenario, territory: Territory) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Canton seats (EPCI main towns where a département has no canton) and the scenario's service files."""
    notes: list[str] = []
    frames: list[gpd.GeoDataFrame] = []
    part_week: list[int] = []
    if scenario.services.canton_seats:
        seats = territory.services()
        seated = set(territory.zones.set_index("zone_id").loc[seats["zone_id"], "departement"])
        bare = territory.zones[~territory.zones["departement"].isin(seated)]
        frames.append(seats)
        if len(bare):
            towns = _epci_main_towns(bare)
            frames.append(towns)
            notes.append(
                f"no canton in {', '.join(sorted(set(bare['departement'])))}: the {len(towns)} most populous "
                "communes of their EPCIs stand for the canton seats, as in a run per département"
            )
    for path in scenario.services.files:
        extra = read_layer(scenario.resolve(path), "sites")
        far, swapped = _far_from_zones(extra, territory.zones)
        if far.any():
            ids = extra.loc[far, "site_id"].tolist()
            hint = " (longitude and latitude look swapped)" if swapped.any() else ""
            notes.append(
                f"{path.name}: {len(ids)} of {len(extra)} sites more than {FAR_M / 1000:g} km from every "
                f"commune ignored{hint}: {', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''}"
            )
        mobile = (extra["kind"] == "mobile").to_numpy()
        if (mobile & ~far).any():
            notes.append(
                f"{path.name}: {int((mobile & ~far).sum())} itinerant unit(s) (buses, kind 'mobile') are part-week "
                "services, not counted as fixed points in the access times"
            )
            part_week.append(int((mobile & ~far).sum()))
        frames.append(extra[~far & ~mobile])
    if not frames or sum(len(f) for f in frames) == 0:
        raise InputError.one(
            "services", "", "no service point to measure against", hint="keep the canton seats or give --sites"
        )
    services = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
    duplicated = services["site_id"].duplicated()
    if duplicated.any():
        raise InputError.one(
            "services", "", f"site ids used twice across files: {', '.join(services.loc[duplicated, 'site_id'])}"
        )
    services.attrs["part_week"] = sum(part_week)
    return services, notes


def _check_national(scenario: Scenario) -> None:
    problems = []
    spec = scenario.territory
    if spec.departement or spec.epci or spec.insee or spec.zones:
        problems.append("the territory is all of France: drop --departement, --epci, --insee and --zones")
    travel = scenario.travel
    if travel.model == "road" or travel.network is not None or travel.download:
        problems.append("national coverage uses the stated estimate: drop --network and --download")
    if problems:
        raise InputError.one(
            "--france",
            "",
            "; ".join(problems),
            hint="for road networks, plan per département: maillage run SCENARIO.yaml --departements all",
        )


def largest_gaps(access: pd.DataFrame, target_min: float, top: int = 3, lang: str = "fr") -> str:
    """The ``top`` most populous communes beyond the target, as text: ``Meyrueis (831 hab., 32,2 min)``."""
    people = "hab." if lang == "fr" else "inh."
    return "; ".join(
        f"{g['name']} ({number(g['population'], lang)} {people}, {number(g['time_min'], lang, 1)} min)"
        for _, g in gap_zones(access, target_min).head(top).iterrows()
    )


def area_table(
    access: pd.DataFrame,
    key: str,
    names: pd.DataFrame,
    thresholds: Sequence[float],
    target_min: float,
    lang: str = "fr",
) -> pd.DataFrame:
    """Coverage figures per value of ``key`` (e.g. ``departement``): population within each threshold,
    shares, weighted mean/median/P90, gap communes and the largest of them. ``names`` has ``code``, ``name``.
    """
    rows = []
    for code, group in access.groupby(key, sort=True):
        figures = summarise(group["population"].to_numpy(dtype=float), group["time_min"].to_numpy(), thresholds)
        row: dict[str, object] = {"code": code, "communes": len(group), "population_total": figures["population_total"]}
        for t, people in figures["population_within"].items():
            row[f"population_within_{t}_min"] = people
            row[f"share_within_{t}_min"] = round(figures["share_within"][t], 4)
        values: dict[str, object] = dict(figures)
        row.update({k: round(float(values[k]), 1) for k in ("mean_time_min", "median_time_min", "p90_time_min")})  # type: ignore[arg-type]
        row["population_unreachable"] = figures["population_unreachable"]
        row["gap_zones"] = int((group["time_min"] > target_min).sum())
        row["largest_gaps"] = largest_gaps(group, target_min, lang=lang)
        rows.append(row)
    table = pd.DataFrame(rows)
    return names[["code", "name"]].merge(table, on="code", how="inner")


def run_national(scenario: Scenario, *, lang: str = "fr") -> NationalCoverage:
    """Coverage of every commune of France with the stated estimate; tables per département and région."""
    _check_national(scenario)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    table = departements()
    territory = load_france(departements=table["code"].tolist())
    territory.name = "France"
    services, notes = national_services(scenario, territory)
    territory.notes.extend(notes)
    timings["territory"] = time.perf_counter() - start
    model = EstimateModel(speed_kmh=scenario.travel.speed_kmh, detour_factor=scenario.travel.detour_factor)
    minutes, column = nearest_service_times(territory.demand_points(), services.geometry, model)
    timings["travel_times"] = time.perf_counter() - start - sum(timings.values())
    spec = scenario.coverage
    access, summary = access_and_report(
        territory, services, minutes, column, spec, model, territory.notes, services.attrs.get("part_week", 0)
    )
    access.insert(
        access.columns.get_loc("time_min"), "region", access["departement"].map(table.set_index("code")["region"])
    )
    by_departement = area_table(access, "departement", table, spec.thresholds_min, spec.target_min, lang)
    by_departement.insert(2, "region", by_departement["code"].map(table.set_index("code")["region"]))
    by_region = area_table(access, "region", _table("regions"), spec.thresholds_min, spec.target_min, lang)
    timings["coverage"] = time.perf_counter() - start - sum(timings.values())
    result = CoverageResult(territory, services, access, summary, model.describe(), model, timings)
    return NationalCoverage(result, by_departement, by_region)
