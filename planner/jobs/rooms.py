"""The rooms job: from a scenario's ``rooms:`` section to a week of bookings for itinerant providers.

Builds the plain :class:`optimize.rooms.RoomsProblem` from the territory (premises and their rooms,
provider homes, travel times, which zones each premises serves per service), solves it, and turns
the bookings into tables: per provider, per premises (grid and occupancy), per zone, and KPIs. No
files are written here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd

from optimize.rooms import Premises, Provider, Room, RoomsProblem, RoomsResult, Slot, solve, start_ranges
from planner._errors import InputError, Problem
from planner.data.hours import FRENCH_DAYS, clock_min, clock_text, next_monday, parse_opening_hours
from planner.data.layers import check_opening_hours, read_layer
from planner.data.territory import Territory
from planner.jobs.coverage import CoverageResult
from planner.scenario import RoomSpec, RoomsSpec, Scenario
from planner.travel.estimate import TravelModel

Progress = Callable[[str], None]
HALF_DAYS = ("matin", "après-midi")


class RoomsKpis(TypedDict):
    """Weekly figures of the bookings and how the solve went (for summary.json under ``rooms``)."""

    demand_total: dict[str, float]
    demand_served: dict[str, float]
    share_served: dict[str, float]
    access_min: dict[str, float]
    sessions: int
    premises_used: int
    half_days_open: int
    half_days_booked: int
    occupancy_used_premises: float
    provider_km_per_week: float
    provider_hours_per_week: float
    provider_drive_hours_per_week: float
    hire_eur_per_week: float
    status: str
    objective_people: float
    bound_people: float
    gap: float
    solve_time_s: float
    seed: int
    notes: list[str]


@dataclass
class RoomsRun:
    """A solved rooms scenario: the problem, the bookings and every table the exports need."""

    territory: Territory
    spec: RoomsSpec
    problem: RoomsProblem
    result: RoomsResult
    premises: gpd.GeoDataFrame  # one row per premises, in problem order, with occupancy
    bookings: pd.DataFrame  # one row per session, by provider and time
    provider_days: pd.DataFrame  # one row per provider-day: sessions, driving, km, hours
    served: gpd.GeoDataFrame  # the zones, with per service its demand and whether a session reaches it
    kpis: RoomsKpis
    travel: dict[str, object]
    start_date: dt.date


# ------------------------------------------------------------------------------------------- premises


def _town_hall_key(sites: pd.DataFrame, key: str) -> str | None:
    """A site id as given, or the town hall of the commune whose INSEE code is given."""
    if key in sites.index:
        return key
    return f"mairie-{key}" if f"mairie-{key}" in sites.index else None


def premises_table(scenario: Scenario, territory: Territory, spec: RoomsSpec) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Premises rows (site columns plus ``rooms``: the RoomSpecs of each) and notes on what was left out."""
    notes, frames = [], []
    if spec.premises.town_halls:
        halls = territory.sites[territory.sites["kind"] == "town_hall"].copy()
        closed = halls["opening_hours"].map(lambda h: not parse_opening_hours(h))
        if closed.any():
            notes.append(f"{int(closed.sum())} town hall(s) without opening hours left out as premises")
        halls = halls[~closed]
        halls["rooms"] = [[spec.premises.town_hall_room] for _ in range(len(halls))]
        frames.append(halls)
    for path in spec.premises.files:
        frames.append(_premises_file(scenario.resolve(path)))
    if not frames:
        raise InputError.one(
            "rooms.premises", "", "no premises: town_halls is false and no file is given", hint="add premises files"
        )
    table = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
    twice = table["site_id"].duplicated()
    if twice.any():
        raise InputError.one("rooms.premises", "files", f"premises listed twice: {', '.join(table['site_id'][twice])}")
    return _add_rooms(table, spec), notes


def _premises_file(path: Path) -> gpd.GeoDataFrame:
    """A premises file: the sites schema, one room per row, optional ``hire_eur_per_half_day``."""
    sites = read_layer(path, "sites")
    check_opening_hours(sites, str(path))
    hire = pd.to_numeric(sites.get("hire_eur_per_half_day", pd.Series(0.0, index=sites.index)), errors="coerce")
    bad = sites.index[hire.isna() | (hire < 0)]
    if len(bad):
        raise InputError(
            str(path),
            [Problem(f"row {i + 2}, field 'hire_eur_per_half_day'", "expected euros >= 0") for i in bad],
        )
    rooms = [
        [
            RoomSpec(
                room_id="salle",
                name="Salle",
                capacity=int(row.capacity) if pd.notna(row.capacity) and row.capacity >= 1 else 1,
                equipment=[e.strip() for e in str(row.equipment).split(";") if e.strip()],
                hire_eur_per_half_day=float(h),
            )
        ]
        for row, h in zip(sites.itertuples(), hire, strict=True)
    ]
    return sites.assign(rooms=rooms)


def _add_rooms(table: gpd.GeoDataFrame, spec: RoomsSpec) -> gpd.GeoDataFrame:
    """Attach the scenario's extra rooms to their premises (site id or INSEE code of a town hall)."""
    by_id = table.set_index("site_id")
    problems = []
    extra: dict[str, list[RoomSpec]] = {}
    for number, room in enumerate(spec.premises.rooms):
        key = _town_hall_key(by_id, room.site)
        if key is None:
            problems.append(Problem(f"premises.rooms[{number}] ({room.room_id})", f"'{room.site}' is not a premises"))
        elif any(r.room_id == room.room_id for r in [*by_id.at[key, "rooms"], *extra.get(key, [])]):
            problems.append(Problem(f"premises.rooms[{number}]", f"room id '{room.room_id}' used twice at {key}"))
        else:
            extra.setdefault(key, []).append(room)
    if problems:
        raise InputError("rooms", problems, hint="site: a site id, or the INSEE code of a town hall, e.g. '48095'")
    table = table.copy()
    table["rooms"] = [
        [*rooms, *extra.get(sid, [])] for sid, rooms in zip(table["site_id"], table["rooms"], strict=True)
    ]
    return table


def _homes(territory: Territory, spec: RoomsSpec) -> gpd.GeoDataFrame:
    """One point per provider: its home site, or the town hall of its home commune."""
    sites = territory.sites.set_index("site_id")
    rows, problems = [], []
    for number, provider in enumerate(spec.providers):
        key = _town_hall_key(sites, provider.home)
        if key is None:
            problems.append(
                Problem(
                    f"providers[{number}] ({provider.provider_id}), field 'home'",
                    f"'{provider.home}' is neither a site id nor the INSEE code of a commune with a town hall",
                )
            )
            continue
        rows.append(
            {"provider_id": provider.provider_id, "home": sites.at[key, "name"], "geometry": sites.at[key, "geometry"]}
        )
    if problems:
        raise InputError("rooms", problems, hint="e.g. home: '48095' for Mende")
    return gpd.GeoDataFrame(rows, crs="EPSG:4326")


# -------------------------------------------------------------------------------------------- problem


def _locations(premises: gpd.GeoDataFrame, homes: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """The points of the problem's locations: the premises in order, then the provider homes."""
    return gpd.GeoSeries(pd.concat([premises.geometry, homes.geometry], ignore_index=True), crs="EPSG:4326")


def _windows(hours: object) -> tuple[tuple[int, int, int], ...]:
    return tuple(parse_opening_hours(str(hours) if isinstance(hours, str) else ""))


def build_problem(
    territory: Territory, premises: gpd.GeoDataFrame, homes: gpd.GeoDataFrame, spec: RoomsSpec, model: TravelModel
) -> RoomsProblem:
    """The plain rooms problem; locations are the premises (in order) then the provider homes."""
    places = _locations(premises, homes)
    time_min = model.matrix(places, places).astype(float)
    services = sorted({p.service for p in spec.providers})
    widest = max(spec.threshold(s) for s in services)
    reach = model.matrix(territory.demand_points(), premises.geometry, limit_min=widest)
    population = territory.zones["population"].to_numpy(dtype=float)
    covers = {
        s: tuple(tuple(np.nonzero(reach[:, q] <= spec.threshold(s))[0].tolist()) for q in range(len(premises)))
        for s in services
    }
    rooms = [
        Premises(
            row.site_id,
            row.name,
            q,
            tuple(
                Room(
                    r.room_id,
                    r.name,
                    r.capacity,
                    frozenset(r.equipment),
                    r.hire_eur_per_half_day,
                    _windows(r.opening_hours) if r.opening_hours is not None else None,
                )
                for r in row.rooms
            ),
            _windows(row.opening_hours),
        )
        for q, row in enumerate(premises.itertuples())
    ]
    providers = tuple(
        Provider(
            provider_id=p.provider_id,
            service=p.service,
            home=len(premises) + number,
            sessions_per_week=p.sessions_per_week,
            session_min=p.session_min,
            windows=tuple((d, clock_min(p.start), clock_min(p.end)) for d in p.days),
            needs=frozenset(p.needs),
            seats=p.seats,
            max_travel_min=p.max_travel_min,
            max_daily_hours=p.max_daily_hours,
            preferred=frozenset(p.preferred),
            forbidden=frozenset(p.forbidden),
            name=p.name,
        )
        for number, p in enumerate(spec.providers)
    )
    return RoomsProblem(
        tuple(rooms),
        providers,
        time_min,
        {s: population * spec.usage_rate[s] for s in services},
        covers,
        slots=_slots(spec),
        lunch_min=spec.lunch_min,
        travel_eur_per_hour=spec.travel_eur_per_hour,
        off_preference_eur=spec.off_preference_eur,
        real_demand=spec.real_demand,
        balance_bonus=spec.balance_bonus,
    )


def run_rooms(
    scenario: Scenario, coverage: CoverageResult, spec: RoomsSpec, progress: Progress = lambda _: None
) -> RoomsRun:
    """Plan the week's room bookings on the territory and travel model of a coverage run."""
    territory, model = coverage.territory, coverage.model
    premises, notes = premises_table(scenario, territory, spec)
    homes = _homes(territory, spec)
    _check_premises_ids(spec, premises)
    progress(f"travel times between {len(premises)} premises and {len(homes)} homes")
    problem = build_problem(territory, premises, homes, spec, model)
    progress(f"booking the rooms ({spec.time_limit_s:g} s at most)")
    result = solve(problem, time_limit_s=spec.time_limit_s, seed=spec.seed, progress=progress)
    start = spec.start_date or next_monday()
    bookings = _booking_table(problem, result, premises, start)
    days = _day_table(problem, result, _locations(premises, homes), model)
    with_occupancy = _occupancy(problem, premises, bookings)
    served = _served_table(territory, problem, result)
    kpis = _kpis(problem, result, spec, with_occupancy, days, [*notes, *result.notes])
    return RoomsRun(
        territory, spec, problem, result, with_occupancy, bookings, days, served, kpis, model.describe(), start
    )


def _check_premises_ids(spec: RoomsSpec, premises: gpd.GeoDataFrame) -> None:
    known = set(premises["site_id"])
    problems = [
        Problem(f"providers ({p.provider_id}), field '{field}'", f"unknown premises {', '.join(sorted(ids - known))}")
        for p in spec.providers
        for field, ids in (("preferred", set(p.preferred)), ("forbidden", set(p.forbidden)))
        if ids - known
    ]
    if problems:
        raise InputError("rooms", problems, hint="use premises site ids, e.g. 'mairie-48095'")


# ---------------------------------------------------------------------------------------------- tables


def _slots(spec: RoomsSpec) -> tuple[Slot, ...]:
    """The half-day grid: a morning and an afternoon on each of ``days``."""
    spans = [(clock_min(a), clock_min(b)) for a, b in (spec.morning, spec.afternoon)]
    return tuple(Slot(d, *span) for d in spec.days for span in spans)


def half_day(problem: RoomsProblem, slot: int) -> str:
    """``matin`` or ``après-midi``: the slot's place in its day."""
    day = problem.slots[slot].day
    first = min((k for k, s in enumerate(problem.slots) if s.day == day), key=lambda k: problem.slots[k].start_min)
    return HALF_DAYS[0] if slot == first else HALF_DAYS[1]


def _booking_table(
    problem: RoomsProblem, result: RoomsResult, premises: gpd.GeoDataFrame, start: dt.date
) -> pd.DataFrame:
    index = {sid: i for i, sid in enumerate(premises["site_id"])}
    providers = {p.provider_id: p for p in problem.providers}
    rows = []
    for b in sorted(result.bookings, key=lambda b: (b.provider_id, b.day, b.start_min)):
        row = premises.iloc[index[b.premises_id]]
        room = next(r for r in row["rooms"] if r.room_id == b.room_id)
        rows.append(
            {
                "provider_id": b.provider_id,
                "provider": providers[b.provider_id].label,
                "service": b.service,
                "day": b.day,
                "day_name": FRENCH_DAYS[b.day - 1],
                "date": (start + dt.timedelta(days=b.day - 1)).isoformat(),
                "half_day": half_day(problem, b.slot),
                "start": clock_text(b.start_min),
                "end": clock_text(b.end_min),
                "premises_id": b.premises_id,
                "premises": row["name"],
                "address": row["address"],
                "room_id": b.room_id,
                "room": room.name,
                "hire_eur": room.hire_eur_per_half_day,
                "travel_before_min": round(b.travel_before_min, 1),
                "lon": row.geometry.x,
                "lat": row.geometry.y,
            }
        )
    return pd.DataFrame(rows, columns=_BOOKING_COLUMNS)


_BOOKING_COLUMNS = [
    "provider_id", "provider", "service", "day", "day_name", "date", "half_day", "start", "end", "premises_id",
    "premises", "address", "room_id", "room", "hire_eur", "travel_before_min", "lon", "lat",
]  # fmt: skip


def _day_table(problem: RoomsProblem, result: RoomsResult, places: gpd.GeoSeries, model: TravelModel) -> pd.DataFrame:
    """Per provider-day: sessions, driving minutes and km (along home -> sessions -> home), hours on duty."""
    used = sorted({loc for d in result.days for loc in d.path})
    dist = model.distance_m(places.iloc[used], places.iloc[used]) if used else np.zeros((0, 0))
    at = {loc: i for i, loc in enumerate(used)}
    rows = [
        {
            "provider_id": d.provider_id,
            "day": d.day,
            "day_name": FRENCH_DAYS[d.day - 1],
            "sessions": len(d.path) - 2,
            "drive_min": round(d.travel_min, 1),
            "drive_km": round(sum(float(dist[at[a], at[b]]) for a, b in pairwise(d.path)) / 1000, 1),
            "duty_hours": round(d.duty_min / 60, 2),
        }
        for d in result.days
    ]
    return pd.DataFrame(
        rows, columns=["provider_id", "day", "day_name", "sessions", "drive_min", "drive_km", "duty_hours"]
    )


def _occupancy(problem: RoomsProblem, premises: gpd.GeoDataFrame, bookings: pd.DataFrame) -> gpd.GeoDataFrame:
    """Per premises: half-days its rooms are open for the shortest session, half-days booked, and their ratio."""
    shortest = min((p.session_min for p in problem.providers), default=60)
    open_, booked = [], []
    counts = bookings.groupby("premises_id").size() if len(bookings) else pd.Series(dtype=int)
    for q in problem.premises:
        open_.append(
            sum(
                bool(start_ranges(slot, shortest, room.windows if room.windows is not None else q.windows))
                for room in q.rooms
                for slot in problem.slots
            )
        )
        booked.append(int(counts.get(q.premises_id, 0)))
    table = premises.drop(columns=["rooms"]).copy()
    table["rooms_count"] = [len(q.rooms) for q in problem.premises]
    table["half_days_open"] = open_
    table["half_days_booked"] = booked
    table["occupancy"] = [b / o if o else 0.0 for b, o in zip(booked, open_, strict=True)]
    return table


def _served_table(territory: Territory, problem: RoomsProblem, result: RoomsResult) -> gpd.GeoDataFrame:
    zones = territory.zones[["zone_id", "name", "population", "geometry"]].copy()
    for service, demand in problem.demand.items():
        zones[f"demand_{service}"] = np.round(demand, 1)
        zones[f"served_{service}"] = result.served[service]
    return zones


def _kpis(
    problem: RoomsProblem,
    result: RoomsResult,
    spec: RoomsSpec,
    premises: gpd.GeoDataFrame,
    days: pd.DataFrame,
    notes: list[str],
) -> RoomsKpis:
    """Weekly figures: demand served per service, occupancy of the premises used, provider km and hours."""
    used = premises[premises["half_days_booked"] > 0]
    total = {s: float(d.sum()) for s, d in problem.demand.items()}
    return RoomsKpis(
        demand_total=total,
        demand_served=dict(result.demand_served),
        share_served={s: result.demand_served[s] / total[s] if total[s] else float("nan") for s in total},
        access_min={s: spec.threshold(s) for s in total},
        sessions=len(result.bookings),
        premises_used=len(used),
        half_days_open=int(premises["half_days_open"].sum()),
        half_days_booked=int(premises["half_days_booked"].sum()),
        occupancy_used_premises=float(used["half_days_booked"].sum() / used["half_days_open"].sum())
        if len(used)
        else 0.0,
        provider_km_per_week=float(days["drive_km"].sum()),
        provider_hours_per_week=float(days["duty_hours"].sum()),
        provider_drive_hours_per_week=float(days["drive_min"].sum() / 60),
        hire_eur_per_week=result.hire_eur,
        status=str(result.info.status),
        objective_people=result.info.objective,
        bound_people=result.info.bound,
        gap=result.info.gap,
        solve_time_s=result.info.time_s,
        seed=result.info.seed,
        notes=notes,
    )


def with_result(scenario: Scenario, run: RoomsRun, result: RoomsResult, model: TravelModel) -> RoomsRun:
    """The run with another plan of the same problem (the markets' joint one): its tables and figures rebuilt
    from that plan, so the rooms' exports write it."""
    premises, _ = premises_table(scenario, run.territory, run.spec)
    bookings = _booking_table(run.problem, result, premises, run.start_date)
    days = _day_table(run.problem, result, _locations(premises, _homes(run.territory, run.spec)), model)
    occupancy = _occupancy(run.problem, premises, bookings)
    kpis = _kpis(run.problem, result, run.spec, occupancy, days, list(result.notes))
    served = _served_table(run.territory, run.problem, result)
    return replace(
        run, result=result, premises=occupancy, bookings=bookings, provider_days=days, served=served, kpis=kpis
    )
