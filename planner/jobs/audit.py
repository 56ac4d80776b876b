"""A national audit of the access times: implausible times and misplaced demand points, per département.

Run on the national coverage (:func:`planner.jobs.national.run_national`); ``bench/audit.py`` prints
it for the packaged data and ``bench/RESULTS.md`` keeps its output.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.jobs.national import NationalCoverage
from planner.travel.estimate import EstimateModel, haversine_m

OUTLIER_RATIO = 3.0  # a time above this many times its neighbours' median is listed ...
OUTLIER_MARGIN_MIN = 15.0  # ... when it is also this many minutes above it
TOUCH_DEG = 0.002  # communes this close (about 200 m, the boundaries are generalised) are neighbours
TOLERANCE_M = 500.0  # a demand point farther than this outside its commune is misplaced


@dataclass
class AuditReport:
    """Per département: largest time and its commune, counts of outliers and misplaced points; the lists."""

    departements: pd.DataFrame
    outliers: pd.DataFrame
    misplaced: pd.DataFrame

    @property
    def implausible(self) -> pd.DataFrame:
        """The listed communes whose time is above what their neighbours' times allow."""
        return self.outliers[self.outliers["implausible"]]


def neighbour_pairs(zones: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(i, j)``, ``i != j``, of communes whose boundaries touch (within ``TOUCH_DEG``)."""
    shapes = zones.geometry.to_numpy()
    tree = shapely.STRtree(shapes)
    has = ~shapely.is_missing(shapes)
    i, j = tree.query(shapes[has], predicate="dwithin", distance=TOUCH_DEG)
    i = np.flatnonzero(has)[i]
    keep = i != j
    return i[keep], j[keep]


def _diagonals_m(zones: gpd.GeoDataFrame) -> np.ndarray:
    """The diagonal of each commune's bounding box, in metres: more than any distance within it."""
    b = zones.geometry.bounds
    corners = (b[k].to_numpy(dtype=float) for k in ("minx", "miny", "maxx", "maxy"))
    return np.nan_to_num(haversine_m(*corners), nan=np.inf)


def audit_times(access: gpd.GeoDataFrame, model: EstimateModel) -> pd.DataFrame:
    """Per commune: the median time of its neighbours, and the most its time can be if its neighbours'
    times are right (``bound_min``).

    A commune touching another is at most ``t_j`` plus the estimate over both communes' extents from a
    service (crow-fly distance between two points of touching communes is at most the sum of their
    diameters): a time above that bound means a demand point or a time is wrong, whatever the geography.
    Communes without a touching neighbour (islands) get ``NaN`` median and an infinite bound.
    """
    i, j = neighbour_pairs(access)
    times = access["time_min"].to_numpy(dtype=float)
    diagonal = _diagonals_m(access)
    per_m = model.detour_factor / (model.speed_kmh * 1000.0 / 60.0)
    bound = np.full(len(access), np.inf)
    np.minimum.at(bound, i, times[j] + (diagonal[i] + diagonal[j]) * per_m)
    pairs = pd.DataFrame({"i": i, "t": times[j]})
    median = pairs.groupby("i")["t"].median().reindex(range(len(access))).to_numpy()
    return pd.DataFrame({"neighbours_median_min": median, "bound_min": bound}, index=access.index)


def offsets_m(zones: gpd.GeoDataFrame) -> np.ndarray:
    """Metres from each zone's demand point to its own polygon (0 inside, NaN without a polygon), measured
    per département in Lambert-93, or the local UTM zone overseas."""
    offset = np.full(len(zones), np.nan)
    points = gpd.GeoSeries(gpd.points_from_xy(zones["demand_lon"], zones["demand_lat"]), crs="EPSG:4326")
    shapes = gpd.GeoSeries(zones.geometry.to_numpy(), crs="EPSG:4326")
    shaped = shapes.notna().to_numpy()
    for code in zones["departement"].unique():
        rows = np.flatnonzero((zones["departement"] == code).to_numpy() & shaped)
        if len(rows) == 0:
            continue
        crs = "EPSG:2154" if not str(code).startswith("97") else shapes.iloc[rows].estimate_utm_crs()
        offset[rows] = shapes.iloc[rows].to_crs(crs).distance(points.iloc[rows].to_crs(crs), align=False).to_numpy()
    return offset


def audit(national: NationalCoverage) -> AuditReport:
    """Largest time per département; communes whose time is above ``OUTLIER_RATIO`` times their
    neighbours' median (and ``OUTLIER_MARGIN_MIN`` more), each said implausible or not by the bound of
    :func:`audit_times`; demand points outside their commune beyond ``TOLERANCE_M``."""
    access = national.coverage.access.reset_index(drop=True)
    model = national.coverage.model
    assert isinstance(model, EstimateModel)
    checks = audit_times(access, model)
    times = access["time_min"].to_numpy(dtype=float)
    median = checks["neighbours_median_min"].to_numpy()
    above = (times > OUTLIER_RATIO * median) & (times > median + OUTLIER_MARGIN_MIN)
    implausible = times > checks["bound_min"].to_numpy() + 1e-3
    listed = above | implausible
    outliers = access.loc[listed, ["zone_id", "name", "departement", "time_min", "service_name"]].assign(
        neighbours_median_min=median[listed],
        bound_min=checks["bound_min"].to_numpy()[listed],
        implausible=implausible[listed],
    )
    offset = offsets_m(access)
    off = np.nan_to_num(offset) > TOLERANCE_M
    misplaced = access.loc[off, ["zone_id", "name", "departement", "demand_lon", "demand_lat"]].assign(
        offset_km=offset[off] / 1000
    )
    rows = []
    for code, group in access.groupby("departement", sort=True):
        worst = group["time_min"].idxmax()
        rows.append(
            {
                "code": code,
                "communes": len(group),
                "max_time_min": round(float(group.at[worst, "time_min"]), 1),
                "max_commune": group.at[worst, "name"],
                "above_3x_neighbours": int(above[group.index].sum()),
                "implausible_times": int(implausible[group.index].sum()),
                "misplaced_points": int(off[group.index].sum()),
            }
        )
    table = national.departements[["code", "name"]].merge(pd.DataFrame(rows), on="code", how="inner")
    return AuditReport(table, outliers.reset_index(drop=True), misplaced.reset_index(drop=True))
