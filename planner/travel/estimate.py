"""Travel-time models: one interface, ``matrix(origins, destinations) -> minutes``.

Two models: the road network (:class:`planner.travel.network.RoadNetwork`) and the stated estimate
below. Both return float32 minutes with ``inf`` for unreachable pairs, and ``describe()`` the
parameters every output echoes, so nobody mistakes an estimate for a routed time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol

import geopandas as gpd
import numpy as np
from shapely.geometry import Point

from planner.scenario import ESTIMATE_DETOUR_FACTOR, ESTIMATE_SPEED_KMH

EARTH_RADIUS_M = 6_371_008.8

# The stated low-high range of the estimate, (speed km/h, detour factor): every estimate headline share is
# also given at the slow pair and the fast pair. Sources: rural door-to-door speeds of 40-60 km/h bracket
# the 50 km/h default; published detour indices are 1.3 ± 0.1 (Wang et al. 2024) and 1.343 over 300
# European cities (EPB 2023), while the Andorra mountain network measures a median 1.56 (IQR 1.31-1.96,
# bench/estimate_calibration.py): hence 1.2 to 1.6.
ESTIMATE_LOW: tuple[float, float] = (40.0, 1.6)
ESTIMATE_HIGH: tuple[float, float] = (60.0, 1.2)


class TravelModel(Protocol):
    """What coverage and the optimisers need from a travel-time model."""

    @property
    def kind(self) -> str: ...

    def matrix(
        self, origins: gpd.GeoSeries, destinations: gpd.GeoSeries, *, limit_min: float | None = None
    ) -> np.ndarray: ...

    def distance_m(self, origins: gpd.GeoSeries, destinations: gpd.GeoSeries) -> np.ndarray: ...

    def path(self, origin: Point, destination: Point) -> list[tuple[float, float]]: ...

    def describe(self) -> dict[str, object]: ...


def haversine_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle distance in metres, broadcasting over the inputs."""
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


@dataclass(frozen=True)
class EstimateModel:
    """Crow-fly distance x ``detour_factor`` at ``speed_kmh``: a stated estimate, not a route.

    Defaults describe rural French roads (:data:`planner.scenario.ESTIMATE_DETOUR_FACTOR`, road
    distance over crow-fly distance, and :data:`planner.scenario.ESTIMATE_SPEED_KMH`, average
    door-to-door speed), the same as a scenario's ``travel`` section.
    """

    speed_kmh: float = ESTIMATE_SPEED_KMH
    detour_factor: float = ESTIMATE_DETOUR_FACTOR

    def __post_init__(self) -> None:
        if not (self.speed_kmh > 0 and self.detour_factor >= 1):
            raise ValueError(
                f"speed_kmh must be > 0 and detour_factor >= 1 (got {self.speed_kmh}, {self.detour_factor})"
            )

    @property
    def kind(self) -> str:
        return "estimate"

    def distance_m(self, origins: gpd.GeoSeries, destinations: gpd.GeoSeries) -> np.ndarray:
        """Estimated road distance in metres, origin x destination."""
        crow = haversine_m(
            origins.x.to_numpy()[:, None],
            origins.y.to_numpy()[:, None],
            destinations.x.to_numpy()[None, :],
            destinations.y.to_numpy()[None, :],
        )
        return crow * self.detour_factor

    def matrix(
        self, origins: gpd.GeoSeries, destinations: gpd.GeoSeries, *, limit_min: float | None = None
    ) -> np.ndarray:
        minutes = (self.distance_m(origins, destinations) / (self.speed_kmh * 1000.0 / 60.0)).astype(np.float32)
        if limit_min is not None:
            minutes[minutes > limit_min] = np.inf
        return minutes

    def path(self, origin: Point, destination: Point) -> list[tuple[float, float]]:
        """A straight segment: the estimate knows no roads."""
        return [(origin.x, origin.y), (destination.x, destination.y)]

    def describe(self) -> dict[str, object]:
        return {
            "model": "estimate",
            **asdict(self),
            "formula": "crow-fly distance x detour_factor / speed_kmh",
        }
