"""The rooms job: from a scenario's ``rooms:`` section to a week of bookings for itinerant providers.

Builds the plain :class:`optimize.rooms.RoomsProblem` from the territory (premises and their rooms,
provider homes, travel times, which zones each premises serves per service), solves it, and turns
the bookings into tables: per provider, per premises (grid and occupancy), per zone, and KPIs. No
files are written here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from optimize.rooms import Premises, Provider, Room, RoomsProblem, RoomsResult, Slot, solve, start_ranges
from planner._errors import InputError, Problem
from planner.hours import FRENCH_DAYS, HoursError, parse_opening_hours
from planner.layers import read_layer
from planner.territory import Territory
from planner.travel import TravelModel

if TYPE_CHECKING:  # planner.scenario will import RoomsSpec from here: no import of it at run time
    from planner.jobs import CoverageResult
    from planner.scenario import Scenario

Progress = Callable[[str], None]
_CLOCK = r"^([01]\d|2[0-3]):[0-5]\d$"
HALF_DAYS = ("matin", "après-midi")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def clock_min(text: str) -> int:
    """Minutes from midnight of an ``HH:MM`` time (as planner.scenario's, which imports this module)."""
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def next_monday(today: dt.date | None = None) -> dt.date:
    """The Monday after ``today`` (today's date by default)."""
    today = today or dt.date.today()
    return today + dt.timedelta(days=7 - today.weekday())


class RoomSpec(_Strict):
    """A room of a premises: the default town-hall room, or an extra room added at a site."""

    room_id: str = Field("salle", min_length=1)
    name: str = Field("Salle de réunion", description="label in the sheets")
    capacity: int = Field(8, ge=1, description="seats")
    equipment: list[str] = Field(default_factory=list, description="e.g. wifi, printer, confidential, step_free")
    hire_eur_per_half_day: float = Field(0, ge=0)
    opening_hours: str | None = Field(None, description="when this room can be used; default: the premises' hours")

    @field_validator("opening_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        try:
            parse_opening_hours(value)
        except HoursError as exc:
            raise ValueError(f"{exc} (expected e.g. 'Mo-Fr 09:00-12:00,14:00-17:00')") from None
        return value


class ExtraRoomSpec(RoomSpec):
    """A room added at a premises: ``site`` is a site id, or an INSEE code meaning that commune's town hall."""

    site: str = Field(min_length=1)


class PremisesSpec(_Strict):
    """Where sessions can be held."""

    town_halls: bool = Field(True, description="every town hall of the territory lends a room in its opening hours")
    town_hall_room: RoomSpec = RoomSpec()
    files: list[Path] = Field(
        default_factory=list,
        description="premises files (sites schema): one room per row from capacity, equipment, opening_hours "
        "(empty: always available) and an optional hire_eur_per_half_day column",
    )
    rooms: list[ExtraRoomSpec] = Field(default_factory=list, description="extra rooms at listed premises")


class ProviderSpec(_Strict):
    """One itinerant provider."""

    provider_id: str = Field(min_length=1)
    name: str = Field("", description="label in the sheets, e.g. 'Conseillère CAF'")
    service: str = Field(min_length=1, description="a service with a usage rate")
    home: str = Field(description="INSEE code of the home commune (its town hall) or a site id")
    days: list[int] = Field([1, 2, 3, 4, 5], description="ISO weekdays worked (1 = Monday)")
    start: str = Field("08:30", pattern=_CLOCK)
    end: str = Field("17:30", pattern=_CLOCK)
    sessions_per_week: int = Field(ge=0, le=14)
    session_min: int = Field(180, gt=0, le=600)
    needs: list[str] = Field(default_factory=list, description="equipment every room used must have")
    seats: int = Field(1, ge=1)
    max_travel_min: float = Field(120, gt=0, le=600, description="driving a day, home to home")
    max_daily_hours: float = Field(8, gt=0, le=12, description="sessions plus driving a day")
    preferred: list[str] = Field(default_factory=list, description="premises ids preferred (others cost more)")
    forbidden: list[str] = Field(default_factory=list, description="premises ids never used")

    @field_validator("days")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if not value or any(d not in range(1, 8) for d in value):
            raise ValueError("days are ISO weekdays 1 (Monday) to 7 (Sunday)")
        return sorted(set(value))

    @model_validator(mode="after")
    def _hours_order(self) -> ProviderSpec:
        if clock_min(self.end) <= clock_min(self.start):
            raise ValueError(f"end {self.end} must come after start {self.start}")
        return self


class RoomsSpec(_Strict):
    """The week of room bookings to plan for itinerant providers."""

    start_date: dt.date | None = Field(None, description="Monday of the week (default: next Monday)")
    days: list[int] = Field([1, 2, 3, 4, 5], description="weekdays of the slot grid")
    morning: tuple[str, str] = Field(("08:30", "12:30"), description="the morning slot")
    afternoon: tuple[str, str] = Field(("13:30", "17:30"), description="the afternoon slot")
    lunch_min: int = Field(45, ge=0, le=180, description="lunch between a morning and an afternoon session")
    usage_rate: dict[str, float] = Field(description="per service: share of inhabitants who need it")
    access_min: float = Field(20, gt=0, le=120, description="a session serves zones this close")
    access_min_by_service: dict[str, float] = Field(default_factory=dict, description="per-service thresholds")
    real_demand: float = Field(10, ge=0, description="people needing a service for a zone to count in the balance")
    balance_bonus: float = Field(25, ge=0, description="extra people-equivalents for reaching a zone of real demand")
    travel_eur_per_hour: float = Field(30, ge=0, description="provider time and car, per hour of driving")
    off_preference_eur: float = Field(20, ge=0, description="cost of a session outside preferred premises")
    time_limit_s: float = Field(30, gt=0, le=3600)
    seed: int = 0
    premises: PremisesSpec = PremisesSpec()
    providers: list[ProviderSpec] = Field(min_length=1)

    @field_validator("usage_rate")
    @classmethod
    def _rates(cls, value: dict[str, float]) -> dict[str, float]:
        if not value or any(not 0 <= r <= 1 for r in value.values()):
            raise ValueError("usage rates are shares between 0 and 1, one per service")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RoomsSpec:
        ids = [p.provider_id for p in self.providers]
        if len(ids) != len(set(ids)):
            raise ValueError(f"provider ids must be unique (got {ids})")
        unknown = sorted({p.service for p in self.providers} - set(self.usage_rate))
        if unknown:
            raise ValueError(f"services without a usage_rate: {', '.join(unknown)}")
        spans = [tuple(clock_min(t) for t in pair) for pair in (self.morning, self.afternoon)]
        if not (spans[0][0] < spans[0][1] <= spans[1][0] < spans[1][1]):
            raise ValueError("morning and afternoon must be HH:MM spans, the morning first, not overlapping")
        return self

    def slots(self) -> tuple[Slot, ...]:
        """The half-day grid: a morning and an afternoon on each of ``days``."""
        spans = [(clock_min(a), clock_min(b)) for a, b in (self.morning, self.afternoon)]
        return tuple(Slot(d, *span) for d in self.days for span in spans)

    def threshold(self, service: str) -> float:
        """Minutes within which a session of ``service`` serves a zone."""
        return self.access_min_by_service.get(service, self.access_min)


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


def _premises_table(scenario: Scenario, territory: Territory, spec: RoomsSpec) -> tuple[gpd.GeoDataFrame, list[str]]:
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
        slots=spec.slots(),
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
    premises, notes = _premises_table(scenario, territory, spec)
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


def clock(minutes: float) -> str:
    """``HH:MM`` of minutes from midnight."""
    minutes = round(minutes)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _half_day(problem: RoomsProblem, slot: int) -> str:
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
                "half_day": _half_day(problem, b.slot),
                "start": clock(b.start_min),
                "end": clock(b.end_min),
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
