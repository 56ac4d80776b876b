"""The markets job: the scenario's rounds and rooms planned together so services meet, against the same
rounds and rooms planned separately.

Builds :class:`optimize.markets.MarketsProblem` from the problems the separate rounds and rooms runs
already built (same stops, premises, providers, zones and travel times), solves it, and turns the
joint plan into the rounds' and rooms' own tables (so their exports write it), a table of markets and
the before/after measures. No files are written here.

Measures (stated model, the same for both plans): a resident can do ``j`` errands in one trip when, on a
half-day of the week, ``j`` services are present at one site (premises or stop) within ``access_min``
of their commune. Residents need each service independently at its usage rate, ``visits_per_need``
times a year; one who needs ``N`` of the services present at their best site goes once instead of
``N`` times, saving ``N - 1`` trips, each a round trip by car to that site.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd

from optimize.markets import (
    Market,
    MarketPlace,
    MarketsProblem,
    MarketsResult,
    gatherings,
    markets_of,
    solve,
    visit_slot,
)
from optimize.rooms import RoomsResult
from optimize.rounds import RoundsResult
from planner._errors import InputError, Problem
from planner.data.hours import FRENCH_DAYS, clock_text
from planner.jobs import rooms as rooms_job
from planner.jobs import rounds as rounds_job
from planner.jobs.coach_trips import by_shuttle
from planner.jobs.coverage import CoverageResult
from planner.jobs.rooms import RoomsRun
from planner.jobs.rounds import RoundsRun
from planner.scenario import MarketsSpec, RoomsSpec, RoundsSpec, Scenario
from planner.travel.estimate import TravelModel

Progress = Callable[[str], None]
WEEKS_PER_YEAR = 52


class PlanMeasures(TypedDict):
    """One plan's figures per week: errands in one trip, trips and CO2 saved, cost."""

    people_one_trip: dict[str, float]  # "1", "2", "3+": residents able to do that many services in one trip
    markets: int
    trips_saved_per_week: float
    car_km_saved_per_week: float
    co2_kg_saved_per_week: float
    cost_eur_per_week: float
    rounds_people_near_a_stop: float
    rooms_demand_served: float


@dataclass
class MarketsRun:
    """A solved markets scenario: the joint plan (as rounds and rooms runs), its markets, and the measures."""

    spec: MarketsSpec
    problem: MarketsProblem
    result: MarketsResult
    rounds: RoundsRun  # the joint plan's trucks, in the rounds' tables
    rooms: RoomsRun  # the joint plan's sessions, in the rooms' tables
    places: gpd.GeoDataFrame  # one row per market place: site, name, commune, geometry
    markets: pd.DataFrame  # one row per market: place, week, day, half-day, hours, services
    separate_markets: pd.DataFrame  # the same for the separate plans
    zones: gpd.GeoDataFrame  # per zone: most services in one trip, separate and joint
    measures: dict[str, object]
    start_date: dt.date


def _places(rooms: RoomsRun, rounds: RoundsRun, spec: MarketsSpec) -> tuple[gpd.GeoDataFrame, list[int | None]]:
    """The market places' premises rows (in spec order) and the index of the rounds stop at the same site."""
    premises = rooms.premises.reset_index(drop=True)
    by_id = {sid: i for i, sid in enumerate(premises["site_id"])}
    stops = {stop.stop_id: s for s, stop in enumerate(rounds.problem.stops)}
    rows = [by_id[p.site if p.site in by_id else f"mairie-{p.site}"] for p in spec.places]  # checked before
    table = gpd.GeoDataFrame(premises.iloc[rows], crs="EPSG:4326").reset_index(drop=True)
    table["premises_index"] = rows
    table["rooms_count"] = [len(rooms.problem.premises[q].rooms) for q in rows]
    return table, [stops.get(sid) for sid in table["site_id"]]


def _services(rounds: RoundsSpec, rooms: RoomsSpec) -> None:
    """Every vehicle carries one service with a usage rate (markets count services, residents need them)."""
    problems = []
    for number, vehicle in enumerate(rounds.fleet):
        if len(vehicle.services) != 1 or vehicle.services[0] not in rooms.usage_rate:
            problems.append(
                Problem(
                    f"rounds.fleet[{number}] ({vehicle.vehicle_id}), field 'services'",
                    "a markets scenario needs each vehicle to carry one service with a rooms.usage_rate",
                )
            )
    if problems:
        raise InputError(
            "markets", problems, hint="e.g. services: [france_services] and usage_rate: {france_services: 0.1}"
        )


def build_problem(
    scenario: Scenario, coverage: CoverageResult, rounds: RoundsRun, rooms: RoomsRun
) -> tuple[MarketsProblem, gpd.GeoDataFrame]:
    """The joint problem on the separate runs' problems, and the market places' table."""
    spec = _spec(scenario)
    places, stops = _places(rooms, rounds, spec)
    reach = coverage.model.matrix(coverage.territory.demand_points(), places.geometry, limit_min=spec.access_min)
    covers = [
        tuple(np.nonzero(np.isfinite(reach[:, m]) & (reach[:, m] <= spec.access_min))[0].tolist())
        for m in range(len(places))
    ]
    longest = max((p.session_min for p in rooms.problem.providers), default=24 * 60)  # the market's hours, at most
    shuttle = by_shuttle(coverage, spec, places, covers, rooms.problem.slots, longest, rounds.problem.horizon_weeks)
    market_places = tuple(
        MarketPlace(row.site_id, int(row.premises_index), stop, near, tuple(place.must_gather), brought)
        for row, stop, place, near, brought in zip(
            places.itertuples(), stops, spec.places, covers, shuttle, strict=True
        )
    )
    problem = MarketsProblem(
        rounds.problem,
        rooms.problem,
        market_places,
        min_services=spec.min_services,
        sync_eur_per_person=spec.sync_eur_per_person,
        people_eur=spec.people_eur,
        shuttle_share=spec.shuttle.share_without_car if spec.shuttle is not None else 0.0,
    )
    return problem, places


def check_markets(scenario: Scenario, coverage: CoverageResult) -> None:
    """Refuse a markets section that cannot work before anything is solved: unknown places, vehicles
    without a service, more providers required at once than a place has rooms, rounds and rooms on different
    calendars (start or end date)."""
    spec = _spec(scenario)
    rounds_spec, rooms_spec = scenario.rounds, scenario.rooms
    if rounds_spec is None or rooms_spec is None:  # the scenario refuses this; kept for the type checker
        raise InputError.one("scenario", "markets", "needs rounds: and rooms: sections")
    _services(rounds_spec, rooms_spec)
    premises, _ = rooms_job.premises_table(scenario, coverage.territory, rooms_spec)
    rooms_count = {sid: len(rooms) for sid, rooms in zip(premises["site_id"], premises["rooms"], strict=True)}
    stops = set(rounds_job.candidate_stops(scenario, coverage.territory, rounds_spec)["site_id"])
    providers = {p.provider_id for p in rooms_spec.providers}
    vehicles = {v.vehicle_id for v in rounds_spec.fleet}
    problems = [
        Problem(
            f"rooms, field '{field}'",
            f"{getattr(rooms_spec, field)} but rounds.{field} is {getattr(rounds_spec, field)}: the markets' posters "
            "and the crews' and providers' calendars follow one calendar, give both the same date",
        )
        for field in ("start_date", "end_date")
        if getattr(rooms_spec, field) != getattr(rounds_spec, field)
    ]
    for number, place in enumerate(spec.places):
        site = place.site if place.site in rooms_count else f"mairie-{place.site}"
        where = f"markets.places[{number}] ({place.site})"
        if site not in rooms_count:
            problems.append(
                Problem(
                    f"{where}, field 'site'",
                    "not a premises of the rooms (a town hall with opening hours, or a premises file)",
                )
            )
            continue
        unknown = sorted(set(place.must_gather) - providers - vehicles)
        if unknown:
            problems.append(
                Problem(f"{where}, field 'must_gather'", f"unknown provider or vehicle ids: {', '.join(unknown)}")
            )
        mine = [e for e in place.must_gather if e in providers]
        if len(mine) > rooms_count[site]:
            problems.append(
                Problem(
                    f"{where}, field 'must_gather'",
                    f"{len(mine)} providers required at once ({', '.join(mine)}) but the premises has "
                    f"{rooms_count[site]} room(s): add rooms there (rooms.premises.rooms) or require fewer",
                )
            )
        trucks = [e for e in place.must_gather if e in vehicles]
        if trucks and site not in stops:
            problems.append(Problem(f"{where}, field 'must_gather'", f"vehicles {', '.join(trucks)} cannot stop there"))
    if problems:
        raise InputError("markets", problems, hint="site: a premises site id, or the INSEE code of a town hall")


def _spec(scenario: Scenario) -> MarketsSpec:
    if scenario.markets is None:
        raise InputError.one("scenario", "markets", "has no markets: section", hint="see scenarios/lozere-markets.yaml")
    return scenario.markets


def run_markets(
    scenario: Scenario,
    coverage: CoverageResult,
    rounds: RoundsRun,
    rooms: RoomsRun,
    progress: Progress = lambda _: None,
) -> MarketsRun:
    """Plan the rounds and rooms together, on the separate runs' problems, and measure both plans."""
    spec = _spec(scenario)
    problem, places = build_problem(scenario, coverage, rounds, rooms)
    progress(
        f"planning {len(places)} market places with the rounds and rooms together ({spec.time_limit_s:g} s at most)"
    )
    result = solve(problem, time_limit_s=spec.time_limit_s, seed=spec.seed, start=(rounds.result, rooms.result))
    joint_rounds = rounds_job.with_result(rounds, result.rounds, coverage.model)
    joint_rooms = rooms_job.with_result(scenario, rooms, result.rooms, coverage.model)
    start = rooms.start_date
    separate = markets_of(problem, rounds.result, rooms.result)
    runs = (rounds, rooms)
    sep_measures, sep_best = measure(spec, problem, coverage, runs, (rounds.result, rooms.result), separate)
    joint_measures, joint_best = measure(spec, problem, coverage, runs, (result.rounds, result.rooms), result.markets)
    zones = coverage.territory.zones[["zone_id", "name", "population", "geometry"]].copy()
    for week in range(problem.rounds.horizon_weeks):
        zones[f"services_one_trip_separate_week{week + 1}"] = sep_best[week].astype(int)
        zones[f"services_one_trip_joint_week{week + 1}"] = joint_best[week].astype(int)
    measures: dict[str, object] = {
        "stated_model": (
            f"a resident can do j errands in one trip when j services are at one site on a half-day within "
            f"{spec.access_min:g} min; needs independent at the usage rates, {spec.visits_per_need:g} visits a year "
            f"per need, N needs met at one site save N - 1 car round trips ({spec.car_co2_g_per_km:g} g CO2/km, "
            f"{spec.car_source})"
        ),
        "separate": sep_measures,
        "joint": joint_measures,
        "status": str(result.info.status),
        "objective_eur": result.info.objective,
        "bound_eur": result.info.bound,
        "gap": result.info.gap,
        "solve_time_s": result.info.time_s,
        "ended_by": result.ended_by,
        "seed": result.info.seed,
        "notes": list(result.notes),
    }
    return MarketsRun(
        spec,
        problem,
        result,
        joint_rounds,
        joint_rooms,
        places,
        market_table(problem, result.markets, result.rounds, result.rooms, places, start),
        market_table(problem, separate, rounds.result, rooms.result, places, start),
        zones,
        measures,
        start,
    )


def _sites(rounds: RoundsRun, rooms: RoomsRun) -> gpd.GeoDataFrame:
    """Every site a service can be at: the rooms' premises and the rounds' candidate stops, by site id."""
    frames = [rooms.premises[["site_id", "name", "geometry"]], rounds.places[["site_id", "name", "geometry"]]]
    table = pd.concat(frames, ignore_index=True).drop_duplicates("site_id")
    return gpd.GeoDataFrame(table, crs="EPSG:4326").set_index("site_id")


def measure(
    spec: MarketsSpec,
    problem: MarketsProblem,
    coverage: CoverageResult,
    runs: tuple[RoundsRun, RoomsRun],
    plan: tuple[RoundsResult, RoomsResult],
    markets: tuple[Market, ...],
) -> tuple[PlanMeasures, np.ndarray]:
    """A plan's measures by the stated model (any plan of the separate runs' problems: separate, greedy, joint),
    and per week and zone the most services reachable in one trip."""
    rounds, rooms = runs
    sites = _sites(rounds, rooms)
    best, saved = _best(problem, *plan, sites, coverage.model, coverage, spec, rooms.spec.usage_rate)
    return _plan_measures(spec, rounds, rooms, *plan, markets, best, saved), best


def _best(
    problem: MarketsProblem,
    rounds: RoundsResult,
    rooms: RoomsResult,
    sites: gpd.GeoDataFrame,
    model: TravelModel,
    coverage: CoverageResult,
    spec: MarketsSpec,
    rates: dict[str, float],
) -> tuple[np.ndarray, np.ndarray]:
    """Per week and zone: the most services reachable in one trip; and per zone the car trips and km saved
    per resident-need occasion (mean over the weeks), from who is where (:func:`gatherings`) and the stated model."""
    present = gatherings(problem, rounds, rooms)
    entities = problem.entities()
    used = sorted({site for site, _, _ in present})
    zones = len(problem.rounds.population)
    weeks = problem.rounds.horizon_weeks
    best = np.zeros((weeks, zones))
    saved = np.zeros((weeks, zones, 2))  # trips, km per resident-year basis
    if not used:
        return best, saved.mean(axis=0)
    points = coverage.territory.demand_points()
    minutes = model.matrix(points, sites.loc[used].geometry, limit_min=spec.access_min)
    km = model.distance_m(points, sites.loc[used].geometry) / 1000
    column = {site: i for i, site in enumerate(used)}
    for (site, week, _), who in present.items():
        services = sorted({entities[e] for e in who})
        c = column[site]
        reach = np.isfinite(minutes[:, c]) & (minutes[:, c] <= spec.access_min)
        better = reach & (len(services) > best[week - 1])
        best[week - 1, better] = len(services)
        extra = _extra_trips([rates[s] for s in services])
        gain = reach & (extra > saved[week - 1, :, 0])
        saved[week - 1, gain, 0] = extra
        saved[week - 1, gain, 1] = extra * 2 * km[gain, c]
    return best, saved.mean(axis=0)


def _extra_trips(rates: list[float]) -> float:
    """E[(N - 1)+] for N the number of needs among independent services at these rates: the trips a
    resident saves, per need occasion, by doing them all in one trip."""
    none = float(np.prod([1 - r for r in rates]))
    return sum(rates) - 1 + none


def _plan_measures(
    markets_spec: MarketsSpec,
    rounds_run: RoundsRun,
    rooms_run: RoomsRun,
    rounds: RoundsResult,
    rooms: RoomsResult,
    markets: tuple[Market, ...],
    best: np.ndarray,
    saved: np.ndarray,
) -> PlanMeasures:
    people = rounds_run.problem.population
    weeks = rounds_run.problem.horizon_weeks
    per_year = markets_spec.visits_per_need / WEEKS_PER_YEAR
    trips = float(np.sum(people * saved[:, 0]) * per_year)
    km = float(np.sum(people * saved[:, 1]) * per_year)
    rooms_cost = rooms.travel_min / 60 * rooms_run.problem.travel_eur_per_hour + rooms.hire_eur
    return PlanMeasures(
        people_one_trip={  # per week, averaged over the horizon's weeks
            key: float(np.mean([np.sum(people * (week >= j)) for week in best]))
            for key, j in (("1", 1), ("2", 2), ("3+", 3))
        },
        markets=len(markets),
        trips_saved_per_week=trips,
        car_km_saved_per_week=km,
        co2_kg_saved_per_week=km * markets_spec.car_co2_g_per_km / 1000,
        cost_eur_per_week=rounds.cost / weeks + rooms_cost,
        rounds_people_near_a_stop=float(people[rounds.served_level > 0].sum()),
        rooms_demand_served=float(sum(rooms.demand_served.values())),
    )


def _spans(
    problem: MarketsProblem, rounds: RoundsResult, rooms: RoomsResult
) -> dict[tuple[str, int, int], list[tuple[int, int]]]:
    """Per (site, week, slot): the minutes each service there starts and ends."""
    spans: dict[tuple[str, int, int], list[tuple[int, int]]] = {}
    for week in range(1, problem.rounds.horizon_weeks + 1):
        for b in rooms.bookings:
            spans.setdefault((b.premises_id, week, b.slot), []).append((b.start_min, b.end_min))
    for route in rounds.routes:
        for visit in route.visits:
            k = visit_slot(problem.rooms, route.day, visit.start_min, visit.end_min)
            if k is not None:
                spans.setdefault((visit.stop_id, route.week, k), []).append((visit.start_min, visit.end_min))
    return spans


def market_table(
    problem: MarketsProblem,
    markets: tuple[Market, ...],
    rounds: RoundsResult,
    rooms: RoomsResult,
    places: gpd.GeoDataFrame,
    start: dt.date,
) -> pd.DataFrame:
    """One row per market: place, week, weekday, half-day, first date, hours (first arrival to last
    departure), and who is there."""
    spans = _spans(problem, rounds, rooms)
    by_place = {p.place_id: p for p in problem.places}
    rows = []
    for market in markets:
        row = places[places["site_id"] == market.place_id].iloc[0]
        place = by_place[market.place_id]
        sites = {problem.rooms.premises[place.premises].premises_id}
        if place.stop is not None:
            sites.add(problem.rounds.stops[place.stop].stop_id)
        times = [t for site in sites for t in spans.get((site, market.week, market.slot), [])]
        rows.append(
            {
                "place_id": market.place_id,
                "place": row["name"],
                "week": market.week,
                "day": market.day,
                "day_name": FRENCH_DAYS[market.day - 1],
                "half_day": rooms_job.half_day(problem.rooms, market.slot),
                "slot": market.slot,
                "date": (start + dt.timedelta(weeks=market.week - 1, days=market.day - 1)).isoformat(),
                "start": clock_text(min(a for a, _ in times)),
                "end": clock_text(max(b for _, b in times)),
                "services_count": len(market.services),
                "services": ";".join(market.services),
                "providers": ";".join(market.providers),
                "vehicles": ";".join(market.vehicles),
                "address": row["address"],
                "lon": row.geometry.x,
                "lat": row.geometry.y,
            }
        )
    return pd.DataFrame(rows, columns=MARKET_COLUMNS)


MARKET_COLUMNS = [
    "place_id", "place", "week", "day", "day_name", "half_day", "slot", "date", "start", "end", "services_count",
    "services", "providers", "vehicles", "address", "lon", "lat",
]  # fmt: skip
