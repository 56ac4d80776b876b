"""Scenario files: plain YAML (no tags, no duplicate keys, bounded nesting) parsed into validated
pydantic objects.

Paths in a scenario are relative to its own folder and may not leave it (no ``../../etc``):
a scenario shared by e-mail cannot make Maillage read files elsewhere on the machine.

Every number is finite and in range. A change to a loaded scenario (a command-line option, an app
widget) goes through :meth:`override` or :meth:`Scenario.with_solver`, which validate it like a
file: ``model_copy(update=...)`` does not, and must not be used on these objects.
"""

from __future__ import annotations

import math
import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypeVar

import platformdirs
import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from planner._errors import InputError, Problem
from planner.data.hours import CLOCK_PATTERN as _CLOCK
from planner.data.hours import HoursError, clock_min, parse_opening_hours

ESTIMATE_SPEED_KMH = 50.0
"""The stated estimate's default average door-to-door speed (rural French roads)."""
ESTIMATE_DETOUR_FACTOR = 1.3
"""The stated estimate's default road over crow-fly distance (1.3 ± 0.1 in the literature)."""
MAX_TIME_LIMIT_S = 3600.0
MAX_SEED = 2**31 - 1  # CP-SAT and PyVRP both take a 32-bit seed
MAX_FLEET = 100  # vehicles of one rounds plan: the engines keep their time limit up to here (measured)
MAX_NAME_CHARS = 100  # the name becomes an output folder name (255 bytes at most on most file systems)
MAX_YAML_DEPTH = 64  # a scenario is about 6 levels deep


def _monday(day: date) -> date:
    if day.isoweekday() != 1:
        name = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[day.weekday()]
        raise ValueError(f"{day.isoformat()} is a {name}: weeks start on a Monday")
    return day


def _weekdays(days: list[int]) -> list[int]:
    if not days or any(d not in range(1, 8) for d in days):
        raise ValueError("days are ISO weekdays 1 (Monday) to 7 (Sunday)")
    return sorted(set(days))


Monday = Annotated[date, AfterValidator(_monday)]
Weekdays = Annotated[list[int], AfterValidator(_weekdays)]
TimeLimit = Annotated[float, Field(gt=0, le=MAX_TIME_LIMIT_S, description="solver time limit, seconds")]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED, description="solver seed (same seed, same plan)")]
DEFAULT_REPEATS = 26
"""Without an ``end_date``, a plan's calendars repeat its horizon this many times (26 weeks for the rooms' one-week
plan, 52 for two-week rounds)."""
SOLVING = ("siting", "rounds", "rooms", "markets")
"""The scenario sections that run a solver, each with a ``time_limit_s`` and a ``seed``."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def override(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied, validated like a scenario file.

        Raises :class:`InputError` (source ``settings``) naming each bad key, e.g. ``time_limit_s``
        or ``travel.speed_kmh``. Sections left out of ``changes`` are kept as they are.
        """
        kept = {name: getattr(self, name) for name in type(self).model_fields}
        return validated(type(self), {**kept, **changes}, source="settings")


class TerritorySpec(_Strict):
    """Which territory: the embedded default (nothing set), packaged French codes, or files."""

    departement: str | None = Field(None, description="INSEE code of a département, e.g. '48', '2A', '974'")
    epci: str | None = Field(None, description="SIREN code of an EPCI (intercommunalité)")
    insee: list[str] | None = Field(None, description="INSEE codes of communes")
    zones: Path | None = Field(None, description="demand zones or points file replacing the communes")

    @model_validator(mode="after")
    def _one_choice(self) -> TerritorySpec:
        chosen = [n for n in ("departement", "epci", "insee") if getattr(self, n)]
        if len(chosen) > 1:
            raise ValueError(f"choose one of departement, epci, insee (got {', '.join(chosen)})")
        return self


class ServicesSpec(_Strict):
    """Service points to measure against."""

    canton_seats: bool = Field(True, description="one service point at each canton seat (2019 France Services promise)")
    files: list[Path] = Field(
        default_factory=list, description="service point files (e.g. the ANCT France Services CSV)"
    )


class TravelSpec(_Strict):
    """The travel-time model and its stated parameters."""

    model: Literal["auto", "road", "estimate"] = "auto"
    network: Path | None = Field(
        None, description="local road network: .osm, .osm.bz2, .osm.pbf, .graphml, or a folder stored by Maillage"
    )
    download: bool = Field(False, description="download the road network with osmnx (online, cached)")
    cache_dir: Path = Field(Path(".cache/networks"), description="where downloaded networks are kept")
    speed_kmh: float = Field(ESTIMATE_SPEED_KMH, gt=0, le=130, description="estimate: average speed")
    detour_factor: float = Field(
        ESTIMATE_DETOUR_FACTOR, ge=1, le=3, description="estimate: road over crow-fly distance"
    )
    access_speed_kmh: float = Field(30.0, gt=0, le=130, description="road: speed from a point to its snapped node")
    border_buffer_km: float = Field(
        20.0, ge=0, le=200, description="--departements: road network kept around each département"
    )


class CoverageSpec(_Strict):
    """Thresholds and accessibility settings."""

    thresholds_min: list[float] = Field([10, 20, 30], min_length=1, description="report population within each")
    target_min: float = Field(30, gt=0, description="the access target; zones beyond it are gaps")
    e2sfca_steps: list[tuple[float, float]] = Field(
        [(10, 1.0), (20, 0.68), (30, 0.22)], min_length=1, description="E2SFCA (upper minutes, weight) steps"
    )

    @field_validator("thresholds_min")
    @classmethod
    def _positive_sorted(cls, value: list[float]) -> list[float]:
        if any(t <= 0 for t in value):
            raise ValueError("thresholds must be > 0 minutes")
        return sorted(set(value))


class LunchSpec(_Strict):
    """The crew's break: ``duration_min`` starting no earlier than ``earliest``, over by ``latest_end``."""

    earliest: str = Field("11:30", pattern=_CLOCK)
    latest_end: str = Field("14:00", pattern=_CLOCK)
    duration_min: int = Field(60, ge=0, le=180)


class VehicleSpec(_Strict):
    """One truck or bus of the fleet."""

    vehicle_id: str = Field(min_length=1)
    depot: str = Field(description="INSEE code of the depot's commune (its town hall) or a site_id")
    days: Weekdays = Field([1, 2, 3, 4, 5], description="ISO weekdays worked (1 = Monday)")
    shift_start: str = Field("08:30", pattern=_CLOCK)
    shift_end: str = Field("17:30", pattern=_CLOCK)
    max_drive_min: int = Field(240, gt=0, le=720)
    lunch: LunchSpec | None = LunchSpec()
    cost_per_km: float = Field(0.6, ge=0, description="euros per km (fuel, wear)")
    cost_per_hour: float = Field(30.0, ge=0, description="euros per hour of driving (crew)")
    co2_g_per_km: float = Field(270.0, ge=0, description="grams of CO2 per km")
    services: list[str] = Field(default_factory=list, description="services carried (empty: any)")

    @model_validator(mode="after")
    def _shift_order(self) -> VehicleSpec:
        if clock_min(self.shift_end) <= clock_min(self.shift_start):
            raise ValueError(f"shift_end {self.shift_end} must come after shift_start {self.shift_start}")
        return self


FREQUENCY = r"^(weekly|fortnightly|[1-5]/week|every [2-4] weeks)$"


def visits_per_week(frequency: str) -> float:
    """Visits a week of a frequency: weekly 1, fortnightly 0.5, every k weeks 1/k, n/week n."""
    if frequency == "fortnightly":
        return 0.5
    if frequency.startswith("every "):
        return 1 / int(frequency.split()[1])
    return 1.0 if frequency == "weekly" else float(frequency.split("/")[0])


class FrequencyRule(_Strict):
    """Stops in a commune of at least ``min_population`` inhabitants get ``frequency``."""

    min_population: float = Field(ge=0, description="inhabitants of the stop's commune, at least")
    frequency: str = Field(pattern=FREQUENCY, description="weekly, fortnightly, every 2-4 weeks, or 1-5/week")


class StopsSpec(_Strict):
    """Candidate stops and how they are visited."""

    kinds: list[str] = Field(["town_hall"], description="site kinds that may host a stop")
    files: list[Path] = Field(default_factory=list, description="extra candidate stop files (sites schema)")
    service_min: int = Field(150, gt=0, le=600, description="length of one visit")
    frequency: str = Field(
        "fortnightly",
        pattern=FREQUENCY,
        description="weekly, fortnightly, every 2-4 weeks, or 1-5/week",
    )
    frequency_by_population: list[FrequencyRule] = Field(
        default_factory=list,
        description="mixed frequencies: a stop takes the rule of the largest min_population its commune "
        "reaches (e.g. weekly from 1,000 inhabitants), else frequency",
    )
    use_opening_hours: bool = Field(False, description="visit a stop only within its opening hours")
    required: list[str] = Field(default_factory=list, description="site ids that must be served")


class RoundsSpec(_Strict):
    """The mobile-service rounds to plan."""

    horizon_weeks: int = Field(2, ge=1, le=4, description="weeks planned, then repeated in the calendars")
    start_date: Monday | None = Field(None, description="Monday of week 1 (default: next Monday)")
    end_date: date | None = Field(
        None, description=f"last day the calendars repeat (default: {DEFAULT_REPEATS} repetitions of the horizon)"
    )
    serve_within_min: float = Field(15, gt=0, le=120, description="a stop serves zones this close")
    person_value_eur: float = Field(0.5, ge=0, description="value of serving one person once a week")
    carbon_price_eur_per_t: float = Field(100, ge=0)
    max_stops_per_day: int = Field(
        3, ge=1, le=30, description="stops a truck-day at most (the exact engine sequences up to 6)"
    )
    engine: Literal["auto", "exact", "routing"] = Field(
        "auto",
        description="exact: every feasible truck-day enumerated, then CP-SAT; routing: PyVRP; "
        "auto: exact when its enumeration is complete, else routing",
    )
    demand: Literal["all", "uncovered"] = Field(
        "all", description="all inhabitants, or only those beyond coverage.target_min of a fixed service"
    )
    time_limit_s: TimeLimit = 60
    seed: Seed = 0
    stops: StopsSpec = StopsSpec()
    fleet: list[VehicleSpec] = Field(
        min_length=1, max_length=MAX_FLEET, description=f"the trucks or buses, 1 to {MAX_FLEET} (split a larger fleet)"
    )

    @model_validator(mode="after")
    def _frequency_fits_horizon(self) -> RoundsSpec:
        for frequency in [self.stops.frequency, *(rule.frequency for rule in self.stops.frequency_by_population)]:
            visits = visits_per_week(frequency)
            period = round(1 / visits) if visits < 1 else 1
            if self.horizon_weeks % period:
                raise ValueError(
                    f"frequency '{frequency}' (a visit every {period} weeks) needs horizon_weeks a multiple of {period}"
                )
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError(f"end_date {self.end_date} comes before start_date {self.start_date}")
        ids = [v.vehicle_id for v in self.fleet]
        if len(ids) != len(set(ids)):
            raise ValueError(f"vehicle ids must be unique (got {ids})")
        return self

    def visits_per_week(self, population: float = 0.0) -> float:
        """Visits per week of an open stop whose commune has ``population`` inhabitants."""
        rules = sorted(self.stops.frequency_by_population, key=lambda rule: -rule.min_population)
        chosen = next((rule.frequency for rule in rules if population >= rule.min_population), self.stops.frequency)
        return visits_per_week(chosen)


# ---------------------------------------------------------------------------------------------- rooms


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
    days: Weekdays = Field([1, 2, 3, 4, 5], description="ISO weekdays worked (1 = Monday)")
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

    @model_validator(mode="after")
    def _hours_order(self) -> ProviderSpec:
        if clock_min(self.end) <= clock_min(self.start):
            raise ValueError(f"end {self.end} must come after start {self.start}")
        return self


class RoomsSpec(_Strict):
    """The week of room bookings to plan for itinerant providers."""

    start_date: Monday | None = Field(None, description="Monday of the week (default: next Monday)")
    end_date: date | None = Field(None, description=f"last day the calendars repeat (default: {DEFAULT_REPEATS} weeks)")
    days: Weekdays = Field([1, 2, 3, 4, 5], description="ISO weekdays of the slot grid")
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
    time_limit_s: TimeLimit = 30
    seed: Seed = 0
    premises: PremisesSpec = PremisesSpec()
    providers: list[ProviderSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _dates(self) -> RoomsSpec:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError(f"end_date {self.end_date} comes before start_date {self.start_date}")
        return self

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

    def threshold(self, service: str) -> float:
        """Minutes within which a session of ``service`` serves a zone."""
        return self.access_min_by_service.get(service, self.access_min)


# -------------------------------------------------------------------------------------------- markets


class MarketPlaceSpec(_Strict):
    """A candidate market place: a premises of the rooms (site id, or INSEE code of a town hall)."""

    site: str = Field(min_length=1)
    must_gather: list[str] = Field(
        default_factory=list, description="provider or vehicle ids that must meet there on one half-day at least"
    )


class FreeHoursSpec(_Strict):
    """Hours a coach is free on some weekdays (between the school runs, all day on Wednesdays...)."""

    days: Weekdays
    start: str = Field(pattern=_CLOCK)
    end: str = Field(pattern=_CLOCK)

    @model_validator(mode="after")
    def _order(self) -> FreeHoursSpec:
        if clock_min(self.end) <= clock_min(self.start):
            raise ValueError(f"end {self.end} must come after start {self.start}: the coach has no free hours")
        return self


class CoachSpec(_Strict):
    """A school coach lent between the school runs."""

    coach_id: str = Field(min_length=1)
    depot: str = Field(description="INSEE code of the depot's commune (its town hall) or a site id")
    capacity: int = Field(ge=1, le=90, description="seats")
    free: list[FreeHoursSpec] = Field(min_length=1, description="when the coach is free, per weekday")
    cost_per_km: float = Field(1.2, ge=0, description="euros per km (fuel, wear)")
    cost_per_hour: float = Field(35.0, ge=0, description="driver, euros per hour")
    co2_g_per_km: float = Field(900.0, ge=0, description="grams of CO2 per km")


class ShuttleSpec(_Strict):
    """The Bussoservice: coaches bringing riders from the communes beyond the access time to the markets."""

    usage_rate: float = Field(ge=0, le=1, description="share of the people without a car who ride to a market")
    usage_source: str = Field(min_length=1, description="where the usage rate comes from")
    share_without_car: float = Field(ge=0, le=1, description="share of the people who have no car")
    car_source: str = Field(min_length=1, description="where the share without a car comes from")
    max_ride_min: int = Field(60, gt=0, le=240, description="longest ride a passenger accepts, one way")
    boarding_min: int = Field(2, ge=0, le=30, description="stop time to board or leave at a stop")
    arrive_before_min: int = Field(10, ge=0, le=120, description="riders arrive this long before the market opens")
    stay_min: int = Field(120, gt=0, le=480, description="time riders spend at the market")
    min_riders: float = Field(1, gt=0, description="a commune with fewer expected riders gets no stop")
    coaches: list[CoachSpec] = Field(min_length=1)
    time_limit_s: TimeLimit = 20
    seed: Seed = 0

    @model_validator(mode="after")
    def _unique(self) -> ShuttleSpec:
        ids = [c.coach_id for c in self.coaches]
        if len(ids) != len(set(ids)):
            raise ValueError(f"coach ids must be unique (got {ids})")
        return self


class MarketsSpec(_Strict):
    """Service markets: the scenario's rounds and rooms planned together so services meet."""

    places: list[MarketPlaceSpec] = Field(min_length=1, description="candidate market places")
    service_names: dict[str, str] = Field(
        default_factory=dict, description="per service id, its name on posters (default: the id)"
    )
    access_min: float = Field(20, gt=0, le=120, description="a market serves the communes this close")
    min_services: int = Field(2, ge=1, le=6, description="services together that make a market (k)")
    sync_eur_per_person: float = Field(
        0.05, ge=0, description="value, per inhabitant and week, of each service at a market from the k-th on"
    )
    people_eur: float = Field(5.0, ge=0, description="value of a person-equivalent reached by the providers, a week")
    visits_per_need: float = Field(2.0, gt=0, le=52, description="visits a year a person makes per service needed")
    car_co2_g_per_km: float = Field(200.0, ge=0, description="grams of CO2 per km of a resident's car trip")
    car_source: str = Field("stated order of magnitude", description="where the car CO2 figure comes from")
    time_limit_s: TimeLimit = 60
    seed: Seed = 0
    shuttle: ShuttleSpec | None = None

    @model_validator(mode="after")
    def _unique(self) -> MarketsSpec:
        sites = [p.site for p in self.places]
        if len(sites) != len(set(sites)):
            raise ValueError(f"market places listed twice: {sorted({s for s in sites if sites.count(s) > 1})}")
        return self


class SitingSpec(_Strict):
    """Which new sites to open, with which model."""

    model: Literal["mclp", "lscp", "p_median", "p_center"] = Field("mclp", description="location model")
    new_sites: int = Field(3, ge=0, le=500, description="sites to open besides the existing services")
    radius_min: float | None = Field(None, gt=0, description="covering radius (default: coverage.target_min)")
    kinds: list[str] = Field(["town_hall", "vacant_premises"], description="site kinds that are candidates")
    files: list[Path] = Field(default_factory=list, description="candidate premises files (sites schema)")
    keep_existing: bool = Field(True, description="existing services stay open")
    tradeoff_max_sites: int = Field(15, ge=1, le=500, description="trade-off curve up to this many new sites")
    time_limit_s: TimeLimit = 60
    seed: Seed = 0


class SolverSpec(_Strict):
    """A time limit and a seed for every solve of a scenario (None keeps each section's own)."""

    time_limit_s: TimeLimit | None = None
    seed: Seed | None = None


class Scenario(_Strict):
    """A Maillage scenario: territory, services, travel model and coverage settings."""

    name: str = Field("Maillage", min_length=1, max_length=MAX_NAME_CHARS)
    language: Literal["fr", "en"] = "fr"
    csv_format: Literal["excel-fr", "rfc4180"] | None = Field(
        None, description="CSV files for French Excel (;, BOM, decimal comma) or plain RFC 4180 (default: by language)"
    )
    formats: list[Literal["geoparquet", "png", "pdf"]] = Field(
        default_factory=list,
        description="extra files: GeoParquet beside each GeoPackage, maps as PNG and PDF, sheets as PDF",
        max_length=3,
    )
    territory: TerritorySpec = TerritorySpec()
    services: ServicesSpec = ServicesSpec()
    travel: TravelSpec = TravelSpec()
    coverage: CoverageSpec = CoverageSpec()
    siting: SitingSpec | None = None
    rounds: RoundsSpec | None = None
    rooms: RoomsSpec | None = None
    markets: MarketsSpec | None = None
    base_dir: Path = Field(Path("."), exclude=True)

    @model_validator(mode="after")
    def _markets_need_plans(self) -> Scenario:
        if self.markets is not None and (self.rounds is None or self.rooms is None):
            raise ValueError("a markets: section plans the rounds and the rooms together: add both sections")
        return self

    def resolve(self, path: Path) -> Path:
        """A scenario path made absolute against the scenario's folder."""
        return path if path.is_absolute() else (self.base_dir / path)

    def with_solver(self, *, time_limit_s: float | None = None, seed: int | None = None) -> Scenario:
        """Every solving section (siting, rounds, rooms) with this time limit and seed; None keeps its own.

        The values are validated even when no section solves, so a bad option is refused the same
        way whatever the scenario holds.
        """
        solver = validated(SolverSpec, {"time_limit_s": time_limit_s, "seed": seed}, source="settings")
        changes = solver.model_dump(exclude_none=True)
        sections = {name: spec.override(**changes) for name in SOLVING if (spec := getattr(self, name)) is not None}
        return self.override(**sections) if changes and sections else self


def _inside(base: Path, path: Path) -> bool:
    return (base / path).resolve().is_relative_to(base.resolve())


_M = TypeVar("_M", bound=BaseModel)
_UNITS = {"_s": "s", "_min": "min", "_kmh": "km/h", "_km": "km", "_eur": "EUR"}


def _problem(error: Any) -> Problem:
    """One pydantic error as a problem at its dotted key, with the value given (and its unit, from the key)."""
    loc = [str(part) for part in error["loc"]]
    message, value = error["msg"], error.get("input")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        key = next((part for part in reversed(loc) if not part.isdigit()), "")
        unit = next((f" {u}" for suffix, u in _UNITS.items() if key.endswith(suffix)), "")
        finite = math.isfinite(value) and abs(value) < 1e15
        message += f" (got {value:g}{unit})" if finite else f" (got {value})"
    elif isinstance(value, str) and len(value) <= 40:
        message += f" (got {value!r})"
    return Problem(".".join(loc) or "(top)", message)


def validated(model: type[_M], data: dict[str, Any], *, source: str, hint: str = "") -> _M:
    """``model`` validated from ``data``; every problem is reported at once as an :class:`InputError`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(source, [_problem(err) for err in exc.errors()], hint=hint) from None


class _Refused(yaml.MarkedYAMLError):
    """Plain YAML that a scenario may still not hold: a duplicate key, an impossible date, deep nesting."""


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses duplicate keys, impossible dates and nesting beyond ``MAX_YAML_DEPTH``."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise _Refused(None, None, f"is nested more than {MAX_YAML_DEPTH} levels deep", mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[tuple[str, str]] = set()
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if (key.tag, key.value) in seen:
                    raise _Refused(None, None, f"repeats the key '{key.value}' (give each key once)", key.start_mark)
                seen.add((key.tag, key.value))
        return dict(super().construct_mapping(node, deep=deep))

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> object:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise _Refused(None, None, f"'{node.value}' is not a date ({exc})", node.start_mark) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; every problem is reported with its YAML key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.one(str(path), "", f"cannot be read ({exc})") from None
    try:
        raw = yaml.load(text, Loader=_Loader) or {}  # a SafeLoader: no tags, no objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", exc)
        if isinstance(exc, _Refused):
            raise InputError.one(str(path), where, str(problem)) from None
        raise InputError.one(
            str(path), where, f"is not valid YAML ({problem})", hint="only plain YAML is accepted (no !!python tags)"
        ) from None
    if not isinstance(raw, dict):
        raise InputError.one(str(path), "", "must be a YAML mapping (key: value)")
    scenario = validated(
        Scenario, {**raw, "base_dir": path.parent}, source=str(path), hint="see the scenario format in the README"
    )
    outside = [p for p in _paths(scenario) if not _inside(path.parent, p)]
    if outside:
        raise InputError(
            str(path),
            [Problem(str(p), "points outside the scenario's folder") for p in outside],
            hint="keep data files in the scenario's folder or below it",
        )
    linked = [p for p in _paths(scenario) if _through_link(path.parent, p)]
    if linked:
        raise InputError(
            str(path),
            [Problem(str(p), "is or goes through a symbolic link") for p in linked],
            hint="put the files themselves in the scenario's folder (links are followed only when named on a command)",
        )
    cache = scenario.travel.cache_dir
    if not (_inside(path.parent, cache) or (path.parent / cache).resolve().is_relative_to(user_cache().resolve())):
        raise InputError.one(
            str(path),
            "travel.cache_dir",
            f"'{cache}' points outside the scenario's folder and the user cache folder ({user_cache()})",
            hint="keep it below the scenario's folder, or give --cache-dir on the command line",
        )
    return scenario


def user_cache() -> Path:
    """The user's cache folder for Maillage (e.g. ``~/.cache/maillage`` on Linux)."""
    return Path(platformdirs.user_cache_dir("maillage"))


def _through_link(base: Path, path: Path) -> bool:
    """True when ``path`` or a folder on its way down from ``base`` is a symbolic link."""
    base, full = Path(os.path.abspath(base)), Path(os.path.abspath(base / path))
    if not full.is_relative_to(base):
        return full.is_symlink()
    current = base
    for step in full.relative_to(base).parts:
        current = current / step
        if current.is_symlink():
            return True
    return False


def _paths(scenario: Scenario) -> list[Path]:
    paths = [scenario.territory.zones, scenario.travel.network, *scenario.services.files]
    if scenario.rounds:
        paths += scenario.rounds.stops.files
    if scenario.siting:
        paths += scenario.siting.files
    if scenario.rooms:
        paths += scenario.rooms.premises.files
    return [p for p in paths if p is not None]
