"""The rounds job: from a scenario's ``rounds:`` section to a planned week of every truck.

Builds the plain :class:`optimize.rounds.RoundsProblem` from the territory (candidate stops, depots,
travel matrices, which zones each stop serves), solves it with the engine the scenario asks for
(:func:`solve_rounds`), and turns the plan into tables with dates, times and route geometry. No files
are written here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString

from optimize import rounds_routing
from optimize._sequencing import MAX_STOPS, Break
from optimize._solver import Status
from optimize.rounds import RoundsProblem, RoundsResult, Stop, Vehicle, day_plan, enumerate_days, period_weeks, solve
from planner._errors import InfeasibleError, InputError
from planner.data.hours import FRENCH_DAYS, HoursError, clock_min, clock_text, next_monday, parse_opening_hours
from planner.data.layers import check_opening_hours, read_layer
from planner.data.territory import Territory
from planner.jobs.coverage import CoverageResult
from planner.jobs.inputs import depot_sites
from planner.jobs.measures import CoverageSummary, nearest_service, summarise
from planner.scenario import RoundsSpec, Scenario
from planner.travel.estimate import TravelModel

Progress = Callable[[str], None]
AUTO_ENUMERATION_SHARE = 0.25  # auto: at most this share of the time limit to learn whether the exact engine fits
AUTO_MAX_TRUCK_DAYS = 5_000  # auto: more feasible truck-days than this and the routing engine plans (CP-SAT
# proved 2,059 Lozère truck-days optimal in about 5 s and found no plan at all among 15,738 in 40 s)
ROUTING_SHARE = 0.3  # exact: share of the time kept for the routing engine when CP-SAT proves nothing


class RoundsKpis(TypedDict):
    """Weekly figures of a plan and how its solve went (written to summary.json under ``rounds``)."""

    serve_within_min: float
    demand: str
    population_targeted: float
    population_near_a_stop: float
    share_near_a_stop: float
    population_weekly_or_more: float
    population_fortnightly: float
    stops_open: int
    stops_left_out: int
    truck_days: int
    km_per_week: float
    drive_hours_per_week: float
    co2_kg_per_week: float
    cost_eur_per_week: float
    status: str
    objective_eur: float
    bound_eur: float
    gap: float
    solve_time_s: float
    seed: int
    notes: list[str]


@dataclass
class RoundsRun:
    """A solved rounds scenario: the plan, its visits and routes as tables, and its KPIs."""

    territory: Territory
    spec: RoundsSpec
    problem: RoundsProblem
    result: RoundsResult
    places: gpd.GeoDataFrame  # candidate stops then depots, one row per location of the matrices
    visits: pd.DataFrame  # one row per stop visit, in route order, with dates
    routes: gpd.GeoDataFrame  # one line per truck-day
    kpis: RoundsKpis
    travel: dict[str, object]
    start_date: dt.date
    coverage_with_stops: CoverageSummary


def candidate_stops(scenario: Scenario, territory: Territory, spec: RoundsSpec) -> gpd.GeoDataFrame:
    """The candidate stops' sites: the territory's sites of the stops' kinds and the stops' files, checked."""
    sites = territory.sites[territory.sites["kind"].isin(spec.stops.kinds)]
    extra = [read_layer(scenario.resolve(path), "sites") for path in spec.stops.files]
    if spec.stops.use_opening_hours:  # only then are the stops' hours read
        for path, sites_read in zip(spec.stops.files, extra, strict=True):
            check_opening_hours(sites_read, str(scenario.resolve(path)))
    candidates = pd.concat([sites, *extra], ignore_index=True) if extra else sites.reset_index(drop=True)
    if candidates.empty:
        raise InputError.one(
            "rounds.stops",
            "kinds",
            f"no candidate stop of kind {', '.join(spec.stops.kinds)} in the territory",
            hint="use kinds: [town_hall] or add candidate stop files",
        )
    unknown = sorted(set(spec.stops.required) - set(candidates["site_id"]))
    if unknown:
        raise InputError.one("rounds.stops", "required", f"unknown site ids {', '.join(unknown)}")
    return gpd.GeoDataFrame(candidates.drop_duplicates("site_id"), crs="EPSG:4326").reset_index(drop=True)


def _depots(territory: Territory, spec: RoundsSpec) -> gpd.GeoDataFrame:
    """One point per vehicle depot: a site id, or an INSEE code meaning that commune's town hall."""
    where = [(f"fleet[{n}] ({v.vehicle_id})", v.depot) for n, v in enumerate(spec.fleet)]
    rows = [
        {
            "site_id": f"depot-{v.vehicle_id}",
            "name": f"Dépôt {site['name']}",
            "address": site["address"],
            "geometry": site["geometry"],
        }
        for v, site in zip(spec.fleet, depot_sites(territory, where, "rounds"), strict=True)
    ]
    return gpd.GeoDataFrame(rows, crs="EPSG:4326")


def _windows(site_id: str, hours: str, use: bool) -> tuple[tuple[int, int, int], ...]:
    """A stop's opening windows when the rounds keep to them (its hours were not checked on reading)."""
    if not use:
        return ()
    try:
        return tuple(parse_opening_hours(hours))
    except HoursError as exc:
        raise InputError.one("rounds.stops", f"site '{site_id}', field 'opening_hours'", str(exc)) from None


def build_problem(
    territory: Territory, candidates: gpd.GeoDataFrame, depots: gpd.GeoDataFrame, spec: RoundsSpec, model: TravelModel
) -> tuple[RoundsProblem, gpd.GeoDataFrame]:
    """The plain rounds problem and the places (stops then depots) its matrices are indexed by."""
    places = gpd.GeoDataFrame(pd.concat([candidates, depots], ignore_index=True), crs="EPSG:4326")
    time_min = model.matrix(places.geometry, places.geometry).astype(float)
    dist_m = model.distance_m(places.geometry, places.geometry)
    reach = model.matrix(territory.demand_points(), candidates.geometry, limit_min=spec.serve_within_min)
    covers = tuple(tuple(np.nonzero(np.isfinite(reach[:, s]))[0].tolist()) for s in range(len(candidates)))
    people = _stop_population(territory, candidates, reach) if spec.stops.frequency_by_population else None
    stops = tuple(
        Stop(
            stop_id=row.site_id,
            name=row.name,
            location=i,
            service_min=spec.stops.service_min,
            visits_per_week=spec.visits_per_week(0.0 if people is None else float(people[i])),
            windows=_windows(row.site_id, row.opening_hours, spec.stops.use_opening_hours),
            required=row.site_id in spec.stops.required,
        )
        for i, row in enumerate(candidates.itertuples())
    )
    vehicles = tuple(
        Vehicle(
            vehicle_id=v.vehicle_id,
            depot=len(candidates) + number,
            days=tuple(v.days),
            shift_start_min=clock_min(v.shift_start),
            shift_end_min=clock_min(v.shift_end),
            max_drive_min=v.max_drive_min,
            lunch=Break(clock_min(v.lunch.earliest), clock_min(v.lunch.latest_end), v.lunch.duration_min)
            if v.lunch
            else None,
            cost_per_km=v.cost_per_km,
            cost_per_hour=v.cost_per_hour,
            co2_g_per_km=v.co2_g_per_km,
            services=tuple(v.services),
        )
        for number, v in enumerate(spec.fleet)
    )
    days = tuple(sorted({d for v in spec.fleet for d in v.days}))
    problem = RoundsProblem(
        stops=stops,
        vehicles=vehicles,
        time_min=time_min,
        dist_m=dist_m,
        covers=covers,
        population=territory.zones["population"].to_numpy(dtype=float),
        horizon_weeks=spec.horizon_weeks,
        days=days,
        person_value=spec.person_value_eur,
        carbon_price_per_t=spec.carbon_price_eur_per_t,
        max_stops_per_day=spec.max_stops_per_day,
    )
    return problem, places


def _stop_population(territory: Territory, candidates: gpd.GeoDataFrame, reach: np.ndarray) -> np.ndarray:
    """Inhabitants of each candidate stop's own commune (its ``zone_id``), else of the nearest zone it serves."""
    zones = territory.zones
    nearest = np.where(
        np.isfinite(reach).any(axis=0),
        zones["population"].to_numpy(dtype=float)[np.argmin(np.where(np.isfinite(reach), reach, np.inf), axis=0)],
        0.0,
    )
    if "zone_id" not in candidates:
        return nearest
    own = candidates["zone_id"].map(zones.set_index("zone_id")["population"]).to_numpy(dtype=float)
    return np.where(np.isnan(own), nearest, own)


def _check_reachable(problem: RoundsProblem, spec: RoundsSpec) -> None:
    """Refuse a fleet that cannot serve even one candidate stop on any of its days (stops at the first that fits)."""
    for vehicle in problem.vehicles:
        for day in set(vehicle.days) & set(problem.days):
            for s, stop in enumerate(problem.stops):
                if stop.service and vehicle.services and stop.service not in vehicle.services:
                    continue
                if day_plan(problem, vehicle, day, (s,)) is not None:
                    return
    ids = ", ".join(v.vehicle_id for v in problem.vehicles)
    raise InfeasibleError(
        [
            f"no truck of the fleet ({ids}) can reach any of the {len(problem.stops)} candidate stops, stay "
            f"{spec.stops.service_min} min and be back at its depot within its shift: check the depots, "
            "shift_start/shift_end, max_drive_min, lunch and the stops' opening hours"
        ]
    )


def run_rounds(
    scenario: Scenario,
    coverage: CoverageResult,
    progress: Progress = lambda _: None,
    fixed_minutes: np.ndarray | None = None,
) -> RoundsRun:
    """Plan the scenario's rounds on the territory and travel model of its coverage run.

    ``fixed_minutes`` (per zone, to the nearest fixed service; default: the coverage run's) decides
    who is already served when ``rounds.demand`` is ``uncovered``.
    """
    spec = scenario.rounds
    if spec is None:
        raise InputError.one("scenario", "rounds", "has no rounds: section", hint="see scenarios/lozere-bus.yaml")
    territory, model = coverage.territory, coverage.model
    candidates = candidate_stops(scenario, territory, spec)
    depots = _depots(territory, spec)
    progress("travel times between stops")
    fixed = coverage.access["time_min"].to_numpy() if fixed_minutes is None else fixed_minutes
    problem, places = build_problem(territory, candidates, depots, spec, model)
    if spec.demand == "uncovered":
        problem = replace(problem, population=problem.population * (fixed > scenario.coverage.target_min))
    _check_reachable(problem, spec)
    progress(f"planning the rounds ({spec.time_limit_s:g} s at most)")
    result = solve_rounds(problem, spec.engine, time_limit_s=spec.time_limit_s, seed=spec.seed, progress=progress)
    start = spec.start_date or next_monday()
    visits = _visit_table(result, places, start)
    routes = _route_lines(result, places, problem, model)
    stops = places[places["site_id"].isin(result.open_stops)]
    to_stops = model.matrix(territory.demand_points(), stops.geometry)
    minutes = np.minimum(fixed, nearest_service(to_stops)[0])
    population = territory.zones["population"].to_numpy(dtype=float)
    with_stops = summarise(population, minutes, scenario.coverage.thresholds_min)
    return RoundsRun(
        territory,
        spec,
        problem,
        result,
        places,
        visits,
        routes,
        _kpis(problem, result, spec),
        model.describe(),
        start,
        with_stops,
    )


def solve_rounds(
    problem: RoundsProblem, engine: str, *, time_limit_s: float, seed: int, progress: Progress = lambda _: None
) -> RoundsResult:
    """Plan with the ``engine`` asked for: ``exact``, ``routing``, or ``auto``.

    ``auto`` enumerates the feasible truck-days (within ``AUTO_MAX_TRUCK_DAYS`` and a share of the
    time) and goes on as ``exact`` when that list is complete, else hands the rest of the time to the
    routing engine. ``exact`` starts CP-SAT from the nearest-stop plan (instant, never empty while a
    stop fits a truck-day); when CP-SAT does not prove its plan optimal, the routing engine plans
    with the time kept for it and the better plan is kept. The status is optimal only when the
    enumeration was complete and CP-SAT proved it. The time limit covers all.
    """
    started = time.perf_counter()
    days, work = None, time_limit_s  # work: the seconds the engines' work limits are sized for (never the clock)
    if engine == "routing" or (engine == "auto" and not _exact_fits(problem)):
        return rounds_routing.solve(problem, time_limit_s=time_limit_s, seed=seed, progress=progress)
    if engine == "auto":
        days = enumerate_days(
            problem, deadline=started + AUTO_ENUMERATION_SHARE * time_limit_s, max_patterns=AUTO_MAX_TRUCK_DAYS
        )
        work = (1 - AUTO_ENUMERATION_SHARE) * time_limit_s
        if not days.complete:
            progress("too many feasible truck-days to enumerate them all: routing engine")
            left = _left(started, time_limit_s)
            return rounds_routing.solve(problem, time_limit_s=left, seed=seed, work_s=work, progress=progress)
        progress(f"exact engine: all {len(days.patterns)} feasible truck-days enumerated")
    start = rounds_routing.baseline(problem, seed=seed)
    exact = solve(
        problem,
        time_limit_s=(1 - ROUTING_SHARE) * _left(started, time_limit_s),
        seed=seed,
        enumeration=days,
        hint=start,
        work_s=(1 - ROUTING_SHARE) * work,
        progress=progress,
    )
    if exact.info.status == Status.OPTIMAL:
        return exact
    plans = [exact, start]
    with contextlib.suppress(InfeasibleError):  # a required stop the routing engine missed: the others stand
        plans.append(
            rounds_routing.solve(
                problem, time_limit_s=_left(started, time_limit_s), seed=seed, work_s=ROUTING_SHARE * work
            )
        )
    required = {st.stop_id for st in problem.stops if st.required}
    complete = [r for r in plans if not math.isnan(r.info.objective) and required <= set(r.open_stops)]
    if not complete:
        raise InfeasibleError([f"no plan found that serves these required stops: {', '.join(sorted(required))}"])
    best = max(complete, key=lambda r: r.info.objective)
    if best is exact:
        return exact
    return replace(best, notes=(*best.notes, "the exact engine found no better plan within its time"))


def _left(started: float, time_limit_s: float) -> float:
    """Seconds left of the time limit."""
    return max(0.1, time_limit_s - (time.perf_counter() - started))


def _exact_fits(problem: RoundsProblem) -> bool:
    """The exact engine sequences up to ``MAX_STOPS`` a day and plans a sparse stop once over the horizon."""
    return problem.max_stops_per_day <= MAX_STOPS and all(
        st.visits_per_week >= 1 or period_weeks(st) == problem.horizon_weeks for st in problem.stops
    )


def _visit_table(result: RoundsResult, places: gpd.GeoDataFrame, start: dt.date) -> pd.DataFrame:
    index = {sid: i for i, sid in enumerate(places["site_id"])}
    rows = []
    for route in result.routes:
        date = start + dt.timedelta(weeks=route.week - 1, days=route.day - 1)
        for order, visit in enumerate(route.visits, start=1):
            place = places.iloc[index[visit.stop_id]]
            rows.append(
                {
                    "vehicle_id": route.vehicle_id,
                    "week": route.week,
                    "day": route.day,
                    "day_name": FRENCH_DAYS[route.day - 1],
                    "date": date.isoformat(),
                    "order": order,
                    "stop_id": visit.stop_id,
                    "name": place["name"],
                    "address": place["address"],
                    "arrival": clock_text(visit.arrival_min),
                    "start": clock_text(visit.start_min),
                    "end": clock_text(visit.end_min),
                    "leg_drive_min": round(visit.leg_drive_min, 1),
                    "leg_dist_km": round(visit.leg_dist_m / 1000, 1),
                    "lon": place.geometry.x,
                    "lat": place.geometry.y,
                }
            )
    return pd.DataFrame(rows)


def _route_lines(
    result: RoundsResult, places: gpd.GeoDataFrame, problem: RoundsProblem, model: TravelModel
) -> gpd.GeoDataFrame:
    index = {sid: i for i, sid in enumerate(places["site_id"])}
    rows, cache = [], {}
    for route in result.routes:
        vehicle = next(v for v in problem.vehicles if v.vehicle_id == route.vehicle_id)
        nodes = [vehicle.depot, *(index[v.stop_id] for v in route.visits), vehicle.depot]
        vertices: list[tuple[float, float]] = []
        for a, b in itertools.pairwise(nodes):
            if (a, b) not in cache:
                cache[a, b] = model.path(places.geometry.iloc[a], places.geometry.iloc[b])
            vertices += cache[a, b]
        rows.append(
            {
                "vehicle_id": route.vehicle_id,
                "week": route.week,
                "day": route.day,
                "day_name": FRENCH_DAYS[route.day - 1],
                "stops": len(route.visits),
                "departure": clock_text(route.departure_min),
                "back": clock_text(route.return_min),
                "lunch": clock_text(route.break_start_min) if route.break_start_min is not None else "",
                "drive_min": round(route.drive_min, 1),
                "dist_km": round(route.dist_m / 1000, 1),
                "cost_eur": round(route.cost, 2),
                "geometry": LineString(vertices),
            }
        )
    return (
        gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
        if rows
        else gpd.GeoDataFrame(columns=["vehicle_id", "geometry"], geometry="geometry", crs="EPSG:4326")
    )


def _kpis(problem: RoundsProblem, result: RoundsResult, spec: RoundsSpec) -> RoundsKpis:
    """Weekly figures: people served and how often, driving, CO2, cost; and the solve's status."""
    population = problem.population
    total = float(population.sum())
    weeks = problem.horizon_weeks
    km = sum(r.dist_m for r in result.routes) / 1000
    co2 = sum(
        r.dist_m / 1000 * next(v.co2_g_per_km for v in problem.vehicles if v.vehicle_id == r.vehicle_id) / 1000
        for r in result.routes
    )
    served = result.served_level
    return RoundsKpis(
        **{
            "serve_within_min": spec.serve_within_min,
            "demand": spec.demand,
            "population_targeted": total,
            "population_near_a_stop": float(population[served > 0].sum()),
            "share_near_a_stop": float(population[served > 0].sum() / total) if total else float("nan"),
            "population_weekly_or_more": float(population[served >= 1].sum()),
            "population_fortnightly": float(population[(served > 0) & (served < 1)].sum()),
            "stops_open": len(result.open_stops),
            "stops_left_out": len(result.left_out),
            "truck_days": len(result.routes),
            "km_per_week": km / weeks,
            "drive_hours_per_week": sum(r.drive_min for r in result.routes) / 60 / weeks,
            "co2_kg_per_week": co2 / weeks,
            "cost_eur_per_week": result.cost / weeks,
            "status": str(result.info.status),
            "objective_eur": result.info.objective,
            "bound_eur": result.info.bound,
            "gap": result.info.gap,
            "solve_time_s": result.info.time_s,
            "seed": result.info.seed,
            "notes": list(result.notes),
        }
    )


def with_result(run: RoundsRun, result: RoundsResult, model: TravelModel) -> RoundsRun:
    """The run with another plan of the same problem (the markets' joint one): its tables and figures rebuilt
    from that plan, so the rounds' exports write it."""
    visits = _visit_table(result, run.places, run.start_date)
    routes = _route_lines(result, run.places, run.problem, model)
    return replace(run, result=result, visits=visits, routes=routes, kpis=_kpis(run.problem, result, run.spec))
