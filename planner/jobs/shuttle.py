"""The Bussoservice job: school coaches, idle between the school runs, bring riders from the communes beyond
the markets' access time to their nearest market and back.

Each trip left unserved gets its reason (:data:`optimize.shuttle.REASONS`: no coach that day, a ride
longer than allowed, windows that cannot be met, no coach free at those hours, the other half of the
round trip impossible, the coaches' seats and hours taken by other riders), per commune and market day.

Stated model: a commune beyond ``markets.access_min`` of every market place, and within
``shuttle.max_ride_min`` of one, expects ``population x share_without_car x usage_rate`` riders a week, spread
over the half-day markets of the nearest place holding markets the coaches can bring them to
(:mod:`planner.jobs.coach_trips`: a coach free that weekday could serve the round trip alone); a commune with no
such market is sent to its nearest place, and its trips are left out with their reason. A commune expecting
fewer than ``min_riders`` per market gets no stop. Riders are picked up at the commune's demand point, arrive at
the market between ``arrive_before_min`` before it opens and ``stay_min`` before it closes, and are taken back
after ``stay_min`` there. One dial-a-ride problem per market day (:mod:`optimize.shuttle`), with the coaches
free that weekday; the days share ``shuttle.time_limit_s`` (a day ending early leaves its time to the next) and
each search ends after ``SOLUTIONS_PER_DAY`` solutions. No files are written here.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point

from optimize.shuttle import ShuttleProblem, ShuttleResult, solve
from planner._errors import InputError
from planner.data.hours import FRENCH_DAYS, clock_min, clock_text
from planner.jobs.coach_trips import coach_depots, coaches_free, reachable, round_trip
from planner.jobs.coverage import CoverageResult
from planner.jobs.markets import MarketsRun
from planner.scenario import ShuttleSpec

Progress = Callable[[str], None]
SOLUTIONS_PER_DAY = 50  # the search of a market day ends here (same seed, same plan), the clock only a safety net
DAY_RESERVE_S = 1.0  # a day's search may use the time earlier days left, less this much per day still to plan


class ShuttleKpis(TypedDict):
    """The Bussoservice's figures per week (mean over the horizon's weeks)."""

    stated_model: str
    communes_with_a_stop: int
    riders_expected_per_week: float
    riders_carried_per_week: float
    riders_left_per_week: float  # whole riders per trip: carried + left can pass the expected (fractional) riders
    riders_left_per_week_by_reason: dict[str, float]
    people_reached_by_shuttle: float
    people_within_reach_by_car: float
    people_within_reach_car_or_shuttle: float
    coach_km_per_week: float
    coach_hours_per_week: float
    coach_co2_kg_per_week: float
    coach_cost_eur_per_week: float
    unserved_requests: int
    solves: list[dict[str, object]]


@dataclass
class ShuttleRun:
    """The coaches' days, their calls as a timetable, their routes as lines, the stops for residents."""

    spec: ShuttleSpec
    days: list[tuple[int, int, ShuttleProblem, ShuttleResult]]  # (week, weekday, problem, result)
    timetable: pd.DataFrame  # one row per coach call
    stops: pd.DataFrame  # one row per commune and market: pickup and drop-off times for residents
    routes: gpd.GeoDataFrame  # one line per coach-day
    kpis: ShuttleKpis
    left_out: pd.DataFrame  # one row per trip left unserved, with the reason (a code of optimize.shuttle.REASONS)


@dataclass(frozen=True)
class Trip:
    """Who a request carries: the commune's zone, its name, the market place and the direction."""

    zone: int
    commune: str
    market: str
    direction: str  # "aller" or "retour"


@dataclass
class _Locations:
    """Every place a coach calls at (depots first, then the market places, then the communes' stops), their
    names and the travel matrices between them."""

    names: list[tuple[str, Point]]
    place: dict[str, int]  # market place id -> location
    zone: dict[int, int]  # zone index -> location
    time_min: np.ndarray
    dist_m: np.ndarray


def _locations(
    coverage: CoverageResult, depots: gpd.GeoDataFrame, places: gpd.GeoDataFrame, zones: list[int]
) -> _Locations:
    territory = coverage.territory
    points = territory.demand_points()
    names = [(f"Dépôt {n}", g) for n, g in zip(depots["name"], depots.geometry, strict=True)]
    place = {str(sid): len(names) + i for i, sid in enumerate(places.index)}
    names += [(str(n), g) for n, g in zip(places["name"], places.geometry, strict=True)]
    zone = {z: len(names) + i for i, z in enumerate(zones)}
    names += [(str(territory.zones["name"].iloc[z]), points.iloc[z]) for z in zones]
    series = gpd.GeoSeries([g for _, g in names], crs="EPSG:4326")
    time_min = coverage.model.matrix(series, series).astype(float)
    return _Locations(names, place, zone, time_min, coverage.model.distance_m(series, series))


def run_shuttle(coverage: CoverageResult, markets: MarketsRun, progress: Progress = lambda _: None) -> ShuttleRun:
    """Plan the coaches for the joint plan's markets (see the module docstring)."""
    spec = markets.spec.shuttle
    if spec is None:
        raise InputError.one("markets", "shuttle", "has no shuttle: section")
    population = coverage.territory.zones["population"].to_numpy(dtype=float)
    weeks = markets.problem.rounds.horizon_weeks
    depots = coach_depots(coverage, spec)
    held = markets.markets.reset_index(drop=True)
    used = sorted(set(held["place_id"]))
    places = markets.places.set_index("site_id").loc[used] if used else markets.places.set_index("site_id").iloc[:0]
    points = coverage.territory.demand_points()
    to_place = coverage.model.matrix(points, places.geometry) if used else np.zeros((len(points), 0))
    best = to_place.min(axis=1) if used else np.full(len(points), np.inf)
    riders_week = population * spec.share_without_car * spec.usage_rate
    beyond = np.nonzero((best > markets.spec.access_min) & (best <= spec.max_ride_min) & (riders_week > 0))[0]
    where = _locations(coverage, depots, places, beyond.tolist())
    visits = _markets_per_zone(spec, where, held, to_place, used, beyond.tolist())
    riding = {z: riders_week[z] * weeks / len(rows) for z, rows in visits.items()}
    riding = {z: r for z, r in riding.items() if r >= spec.min_riders}
    days = sorted({(int(r.week), int(r.day)) for r in held.itertuples()})
    deadline = time.perf_counter() + spec.time_limit_s
    solved = []
    for n, (week, day) in enumerate(days):
        todays = held[(held["week"] == week) & (held["day"] == day)]
        problem, trips = _day_problem(coverage, spec, where, todays, riding, visits, day)
        progress(f"Bussoservice: week {week}, day {day}, {len(problem.requests)} trips")
        later = len(days) - n - 1  # the days still to plan each keep at least DAY_RESERVE_S
        budget = max(DAY_RESERVE_S, deadline - time.perf_counter() - later * DAY_RESERVE_S)
        result = solve(problem, time_limit_s=budget, seed=spec.seed, solutions=SOLUTIONS_PER_DAY)
        solved.append((week, day, problem, result, where.names, trips))
    timetable = _timetable(solved, markets.start_date)
    routes = _routes(solved, coverage)
    left_out = _left_out(solved, markets.start_date)
    kpis = _kpis(markets, spec, solved, left_out, riding, riders_week, population, best)
    plans = [(w, d, p, r) for w, d, p, r, _, _ in solved]
    return ShuttleRun(spec, plans, timetable, _stops(timetable), routes, kpis, left_out)


def _markets_per_zone(
    spec: ShuttleSpec, where: _Locations, held: pd.DataFrame, to_place: np.ndarray, used: list[str], zones: list[int]
) -> dict[int, list[int]]:
    """Per commune beyond the access time, the markets (rows of ``held``) its riders go to: those of the nearest
    place holding a market the coaches can bring them to, spread over the horizon; else all those of the nearest
    place (the trips are then left out, with their reason)."""
    column = {place: m for m, place in enumerate(used)}
    keys = [(str(r.place_id), int(r.day), str(r.start), str(r.end)) for r in held.itertuples()]
    fits = {}  # per (place, weekday, start, end): the zones the coaches can bring there and back
    for place, day, start, end in dict.fromkeys(keys):
        near = {z: where.zone[z] for z in zones if to_place[z, column[place]] <= spec.max_ride_min}
        hours = (clock_min(start), clock_min(end))
        fits[place, day, start, end] = reachable(
            spec, coaches_free(spec, day), where.time_min, near, where.place[place], hours
        )
    visits = {}
    for z in zones:
        by_place: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            if z in fits[key]:
                by_place.setdefault(key[0], []).append(i)
        nearest = min(by_place or used, key=lambda place: (to_place[z, column[place]], place))
        visits[z] = by_place.get(nearest) or [i for i, key in enumerate(keys) if key[0] == nearest]
    return visits


def _day_problem(
    coverage: CoverageResult,
    spec: ShuttleSpec,
    where: _Locations,
    todays: pd.DataFrame,
    riding: dict[int, float],
    visits: dict[int, list[int]],
    day: int,
) -> tuple[ShuttleProblem, dict[str, Trip]]:
    """One day's dial-a-ride: the coaches free that day, a trip there and back per commune and market, and
    who each trip carries."""
    zones = coverage.territory.zones
    coaches = coaches_free(spec, day)
    seats = max(c.capacity for c in coaches or spec.coaches)  # none free today: its trips are left, "no coach"
    requests, trips = [], {}
    for market in todays.itertuples():
        hours = (clock_min(market.start), clock_min(market.end))
        for z, riders in sorted(riding.items()):
            if market.Index not in visits[z]:
                continue
            total = math.ceil(riders - 1e-9)
            commune = str(zones["name"].iloc[z])
            for part, group in enumerate(range(0, total, seats)):  # groups larger than a coach are split
                trip = f"{zones['zone_id'].iloc[z]}-{market.place_id}-{market.slot}-{part}"
                out, back = round_trip(
                    trip, where.zone[z], where.place[market.place_id], min(seats, total - group), hours, spec
                )
                requests += [out, back]
                trips[out.request_id] = Trip(z, commune, str(market.place), "aller")
                trips[back.request_id] = Trip(z, commune, str(market.place), "retour")
    return ShuttleProblem(tuple(requests), coaches, where.time_min, where.dist_m, spec.boarding_min), trips


def _timetable(solved: list, start: dt.date) -> pd.DataFrame:
    rows = []
    for week, day, problem, result, names, _ in solved:
        riders = {r.request_id: r.riders for r in problem.requests}
        date = (start + dt.timedelta(weeks=week - 1, days=day - 1)).isoformat()
        for route in result.routes:
            for order, call in enumerate(route.calls):
                rows.append(
                    {
                        "coach_id": route.coach_id,
                        "week": week,
                        "day": day,
                        "day_name": FRENCH_DAYS[day - 1],
                        "date": date,
                        "order": order,
                        "kind": call.kind,
                        "place": names[call.location][0],
                        "lon": names[call.location][1].x,
                        "lat": names[call.location][1].y,
                        "location": call.location,
                        "arrival": clock_text(call.arrival_min),
                        "departure": clock_text(call.departure_min),
                        "riders": riders.get(call.request_id or "", 0),
                        "on_board": call.load,
                        "trip": call.request_id or "",
                    }
                )
    return pd.DataFrame(rows, columns=TIMETABLE_COLUMNS)


TIMETABLE_COLUMNS = [
    "coach_id", "week", "day", "day_name", "date", "order", "kind", "place", "lon", "lat", "location", "arrival",
    "departure", "riders", "on_board", "trip",
]  # fmt: skip


def _stops(timetable: pd.DataFrame) -> pd.DataFrame:
    """For residents: per commune and market day, when the coach picks them up and brings them back."""
    calls = timetable[timetable["trip"] != ""]
    rows = []
    for trip, group in calls.groupby("trip"):
        pickup = group[group["kind"] == "pickup"].iloc[0]
        drop = group[group["kind"] == "delivery"].iloc[0]
        outbound = str(trip).endswith("aller")
        rows.append(
            {
                "commune": pickup["place"] if outbound else drop["place"],
                "market": drop["place"] if outbound else pickup["place"],
                "date": pickup["date"],
                "day_name": pickup["day_name"],
                "direction": "aller" if outbound else "retour",
                "coach_id": pickup["coach_id"],
                "pickup": pickup["departure"],
                "drop_off": drop["arrival"],
                "riders": int(pickup["riders"]),
            }
        )
    return pd.DataFrame(rows).sort_values(["date", "commune", "direction"]) if rows else pd.DataFrame(rows)


LEFT_OUT_COLUMNS = ["commune", "market", "date", "day_name", "direction", "riders", "reason"]


def _left_out(solved: list, start: dt.date) -> pd.DataFrame:
    """Per trip left unserved: the commune, the market, the day, the riders and why (a reason code)."""
    rows = []
    for week, day, problem, result, _, trips in solved:
        date = (start + dt.timedelta(weeks=week - 1, days=day - 1)).isoformat()
        for r in problem.requests:
            if r.request_id in result.unserved:
                trip = trips[r.request_id]
                why = result.reasons.get(r.request_id, "coaches_busy")
                rows.append([trip.commune, trip.market, date, FRENCH_DAYS[day - 1], trip.direction, r.riders, why])
    return pd.DataFrame(rows, columns=LEFT_OUT_COLUMNS)


def _routes(solved: list, coverage: CoverageResult) -> gpd.GeoDataFrame:
    """One line per coach-day, along the travel model's paths between its calls."""
    rows = []
    for week, day, _, result, places, _ in solved:
        for route in result.routes:
            points = [places[c.location][1] for c in route.calls]
            vertices = [xy for a, b in pairwise(points) if not a.equals(b) for xy in coverage.model.path(a, b)]
            rows.append(
                {
                    "coach_id": route.coach_id,
                    "week": week,
                    "day": day,
                    "day_name": FRENCH_DAYS[day - 1],
                    "calls": len(route.calls) - 2,
                    "drive_min": round(route.drive_min, 1),
                    "dist_km": round(route.dist_m / 1000, 1),
                    "cost_eur": round(route.cost, 2),
                    "geometry": LineString(vertices) if len(vertices) >= 2 else None,
                }
            )
    if not rows:
        return gpd.GeoDataFrame(columns=["coach_id", "geometry"], geometry="geometry", crs="EPSG:4326")
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def _kpis(
    markets: MarketsRun,
    spec: ShuttleSpec,
    solved: list,
    left_out: pd.DataFrame,
    riding: dict[int, float],
    riders_week: np.ndarray,
    population: np.ndarray,
    best: np.ndarray,
) -> ShuttleKpis:
    weeks = markets.problem.rounds.horizon_weeks
    carried = 0
    reached: set[int] = set()
    km = hours = co2 = cost = 0.0
    unserved = 0
    solves = []
    for week, day, problem, result, _, trips in solved:
        carried += result.riders(problem)
        unserved += len(result.unserved)
        served = {c.request_id for r in result.routes for c in r.calls if c.kind == "pickup"}
        reached |= {trips[rid].zone for rid in served}  # round trips: served both ways or not at all
        coaches = {c.coach_id: c for c in problem.coaches}
        for route in result.routes:
            km += route.dist_m / 1000
            hours += (route.calls[-1].arrival_min - route.calls[0].departure_min) / 60
            co2 += route.dist_m / 1000 * coaches[route.coach_id].co2_g_per_km / 1000
            cost += route.cost
        solves.append({"week": week, "day": day, "requests": len(problem.requests), "ended_by": result.ended_by})
    by_shuttle = float(population[sorted(reached)].sum())
    outbound = left_out[left_out["direction"] == "aller"]
    left = outbound.groupby("reason")["riders"].sum() / weeks
    by_car = float(population[best <= markets.spec.access_min].sum())
    return ShuttleKpis(
        stated_model=(
            f"expected riders = population x {spec.share_without_car:g} without a car ({spec.car_source}) x "
            f"{spec.usage_rate:g} ({spec.usage_source}), per week, in communes beyond {markets.spec.access_min:g} "
            f"min of a market and within {spec.max_ride_min} min of one"
        ),
        communes_with_a_stop=len(riding),
        riders_expected_per_week=float(sum(riders_week[z] for z in riding)),
        riders_left_per_week=float(outbound["riders"].sum()) / weeks,
        riders_carried_per_week=carried / 2 / weeks,  # a rider rides there and back
        riders_left_per_week_by_reason={str(k): float(v) for k, v in left.items()},
        people_reached_by_shuttle=by_shuttle,
        people_within_reach_by_car=by_car,
        people_within_reach_car_or_shuttle=by_car + by_shuttle,
        coach_km_per_week=km / weeks,
        coach_hours_per_week=hours / weeks,
        coach_co2_kg_per_week=co2 / weeks,
        coach_cost_eur_per_week=cost / weeks,
        unserved_requests=unserved,
        solves=solves,
    )
