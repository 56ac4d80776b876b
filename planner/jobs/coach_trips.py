"""A rider's round trip to a market by school coach, and which communes the coaches can bring to a market at a
given place and time: the one rule the joint plan (which values markets the coaches can reach) and the
Bussoservice plan (which routes the coaches) share.

A rider is picked up at home, arrives at the market between ``arrive_before_min`` before it opens and
``stay_min`` before it closes, stays ``stay_min`` and is taken back, picked up at most ``RETURN_SLACK_MIN``
after the market closes. A commune can be brought to a market when one coach free that weekday could serve
each leg of the round trip alone (:func:`optimize.shuttle.impossible`): the coaches' other riders and seats
are the routing's business, not this check's.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypeVar

import geopandas as gpd
import numpy as np

from optimize.rooms import Slot
from optimize.shuttle import Coach, Request, ShuttleProblem, impossible
from planner.data.hours import clock_min
from planner.jobs.coverage import CoverageResult
from planner.jobs.inputs import depot_sites
from planner.scenario import MarketsSpec, ShuttleSpec

RETURN_SLACK_MIN = 30  # riders are picked up for the return at most this long after the market closes
END_OF_DAY_MIN = 24 * 60 - 1
Key = TypeVar("Key", bound=Hashable)
NEAREST_PLACES = 3  # a commune's riders are counted at its nearest market places only (they go to the nearest)


def coach_depots(coverage: CoverageResult, spec: ShuttleSpec) -> gpd.GeoDataFrame:
    """Each coach's depot: its id, the depot site's name and point (EPSG:4326)."""
    where = [(f"markets.shuttle.coaches[{n}] ({c.coach_id})", c.depot) for n, c in enumerate(spec.coaches)]
    rows = [
        {"coach_id": c.coach_id, "name": site["name"], "geometry": site["geometry"]}
        for c, site in zip(spec.coaches, depot_sites(coverage.territory, where, "markets"), strict=True)
    ]
    return gpd.GeoDataFrame(rows, crs="EPSG:4326")


def free_hours(spec: ShuttleSpec, coach: int, day: int) -> tuple[int, int] | None:
    """The coach's free hours on an ISO weekday (minutes from midnight), or None when it is not free."""
    for free in spec.coaches[coach].free:
        if day in free.days:
            return clock_min(free.start), clock_min(free.end)
    return None


def coaches_free(spec: ShuttleSpec, day: int) -> tuple[Coach, ...]:
    """The coaches free on ``day``; coach ``n`` of the spec at location ``n`` (the depots come first in every
    matrix of the Bussoservice)."""
    return tuple(
        Coach(c.coach_id, n, c.capacity, free, c.cost_per_km, c.cost_per_hour, c.co2_g_per_km)
        for n, c in enumerate(spec.coaches)
        if (free := free_hours(spec, n, day)) is not None
    )


def round_trip(
    trip_id: str, home: int, market: int, riders: int, hours: tuple[int, int], spec: ShuttleSpec
) -> tuple[Request, Request]:
    """The outbound and return requests of ``riders`` from ``home`` to a market at ``market`` open during
    ``hours`` (minutes from midnight); ids ``<trip_id>-aller`` and ``<trip_id>-retour``."""
    start, end = hours
    latest = max(start, end - spec.stay_min)
    out = Request(
        f"{trip_id}-aller",
        home,
        market,
        riders,
        (0, latest),
        (start - spec.arrive_before_min, latest),
        spec.max_ride_min,
    )
    back = Request(
        f"{trip_id}-retour",
        market,
        home,
        riders,
        (start, end + RETURN_SLACK_MIN),
        (start, END_OF_DAY_MIN),
        spec.max_ride_min,
        after=out.request_id,
        stay_min=spec.stay_min,
    )
    return out, back


def reachable(
    spec: ShuttleSpec,
    coaches: tuple[Coach, ...],
    time_min: np.ndarray,
    homes: dict[Key, int],
    market: int,
    hours: tuple[int, int],
) -> set[Key]:
    """The keys of ``homes`` (commune -> location in ``time_min``) whose riders one of ``coaches`` could bring to
    a market at location ``market`` open during ``hours`` and back (see the module docstring)."""
    if not coaches:
        return set()
    requests = [r for key, home in homes.items() for r in round_trip(str(key), home, market, 1, hours, spec)]
    problem = ShuttleProblem(tuple(requests), coaches, time_min, np.zeros_like(time_min), spec.boarding_min)
    refused = impossible(problem)
    return {key for key in homes if f"{key}-aller" not in refused and f"{key}-retour" not in refused}


def by_shuttle(
    coverage: CoverageResult,
    markets: MarketsSpec,
    places: gpd.GeoDataFrame,
    covers: list[tuple[int, ...]],
    slots: tuple[Slot, ...],
    session_min: int,
    weeks: int,
) -> list[tuple[tuple[int, tuple[int, ...]], ...]]:
    """Per market place (rows of ``places``, ``covers`` its zones within the access time), per half-day slot: the
    communes a coach could bring to a market held there then, before anything is planned. Counted: communes beyond
    the access time of every candidate place (the others have a place near by car) expecting at least
    ``min_riders`` riders over the ``weeks`` of the horizon, at their ``NEAREST_PLACES`` nearest places within the
    longest ride. A market is assumed open from the slot's start for ``session_min``. Empty without a shuttle."""
    spec = markets.shuttle
    if spec is None:
        return [() for _ in covers]
    points = coverage.territory.demand_points()
    population = coverage.territory.zones["population"].to_numpy(dtype=float)
    riders = population * spec.share_without_car * spec.usage_rate * weeks
    to_place = coverage.model.matrix(points, places.geometry)
    by_car = np.zeros(len(points), dtype=bool)
    by_car[[z for near in covers for z in near]] = True
    nearest = np.argsort(to_place, axis=1, kind="stable")[:, :NEAREST_PLACES]
    beyond = (riders >= spec.min_riders) & ~by_car & (to_place.min(axis=1) <= spec.max_ride_min)
    riding = [int(z) for z in np.nonzero(beyond)[0]]
    linked = {(z, int(m)) for z in riding for m in nearest[z] if to_place[z, m] <= spec.max_ride_min}
    depots = coach_depots(coverage, spec)
    located = [*depots.geometry, *places.geometry, *points.iloc[riding]]
    series = gpd.GeoSeries(located, crs="EPSG:4326")
    time_min = coverage.model.matrix(series, series).astype(float)
    home = {z: len(depots) + len(places) + i for i, z in enumerate(riding)}
    found = []
    for m in range(len(covers)):
        near = {z: home[z] for z in riding if (z, m) in linked}
        known: dict[tuple[tuple[Coach, ...], tuple[int, int]], tuple[int, ...]] = {}
        per_slot = []
        for k, slot in enumerate(slots):
            coaches = coaches_free(spec, slot.day)
            hours = (slot.start_min, min(slot.end_min, slot.start_min + session_min))
            if (coaches, hours) not in known:
                known[coaches, hours] = tuple(sorted(reachable(spec, coaches, time_min, near, len(depots) + m, hours)))
            if known[coaches, hours]:
                per_slot.append((k, known[coaches, hours]))
        found.append(tuple(per_slot))
    return found
