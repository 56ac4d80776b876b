"""Scenario files: YAML parsed with ``yaml.safe_load`` into validated pydantic objects.

Paths in a scenario are relative to its own folder and may not leave it (no ``../../etc``):
a scenario shared by e-mail cannot make Maillage read files elsewhere on the machine.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Literal

import platformdirs
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from planner._errors import InputError, Problem
from planner.data.hours import CLOCK_PATTERN as _CLOCK
from planner.data.hours import HoursError, clock_min, parse_opening_hours


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    speed_kmh: float = Field(50.0, gt=0, le=130, description="estimate: average speed")
    detour_factor: float = Field(1.3, ge=1, le=3, description="estimate: road over crow-fly distance")
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
    days: list[int] = Field([1, 2, 3, 4, 5], description="ISO weekdays worked (1 = Monday)")
    shift_start: str = Field("08:30", pattern=_CLOCK)
    shift_end: str = Field("17:30", pattern=_CLOCK)
    max_drive_min: int = Field(240, gt=0, le=720)
    lunch: LunchSpec | None = LunchSpec()
    cost_per_km: float = Field(0.6, ge=0, description="euros per km (fuel, wear)")
    cost_per_hour: float = Field(30.0, ge=0, description="euros per hour of driving (crew)")
    co2_g_per_km: float = Field(270.0, ge=0, description="grams of CO2 per km")
    services: list[str] = Field(default_factory=list, description="services carried (empty: any)")

    @field_validator("days")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if not value or any(d not in range(1, 8) for d in value):
            raise ValueError("days are ISO weekdays 1 (Monday) to 7 (Sunday)")
        return sorted(set(value))

    @model_validator(mode="after")
    def _shift_order(self) -> VehicleSpec:
        if clock_min(self.shift_end) <= clock_min(self.shift_start):
            raise ValueError(f"shift_end {self.shift_end} must come after shift_start {self.shift_start}")
        return self


class StopsSpec(_Strict):
    """Candidate stops and how they are visited."""

    kinds: list[str] = Field(["town_hall"], description="site kinds that may host a stop")
    files: list[Path] = Field(default_factory=list, description="extra candidate stop files (sites schema)")
    service_min: int = Field(150, gt=0, le=600, description="length of one visit")
    frequency: str = Field("fortnightly", pattern=r"^(weekly|fortnightly|[1-5]/week)$")
    use_opening_hours: bool = Field(False, description="visit a stop only within its opening hours")
    required: list[str] = Field(default_factory=list, description="site ids that must be served")


class RoundsSpec(_Strict):
    """The mobile-service rounds to plan."""

    horizon_weeks: int = Field(2, ge=1, le=2)
    start_date: date | None = Field(None, description="Monday of week 1 (default: next Monday)")
    serve_within_min: float = Field(15, gt=0, le=120, description="a stop serves zones this close")
    person_value_eur: float = Field(0.5, ge=0, description="value of serving one person once a week")
    carbon_price_eur_per_t: float = Field(100, ge=0)
    max_stops_per_day: int = Field(3, ge=1, le=6)
    demand: Literal["all", "uncovered"] = Field(
        "all", description="all inhabitants, or only those beyond coverage.target_min of a fixed service"
    )
    time_limit_s: float = Field(60, gt=0, le=3600)
    seed: int = 0
    stops: StopsSpec = StopsSpec()
    fleet: list[VehicleSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _frequency_fits_horizon(self) -> RoundsSpec:
        if self.stops.frequency == "fortnightly" and self.horizon_weeks != 2:
            raise ValueError("a fortnightly frequency needs horizon_weeks: 2")
        ids = [v.vehicle_id for v in self.fleet]
        if len(ids) != len(set(ids)):
            raise ValueError(f"vehicle ids must be unique (got {ids})")
        return self

    def visits_per_week(self) -> float:
        """Visits per week each open stop receives."""
        if self.stops.frequency == "fortnightly":
            return 0.5
        return 1.0 if self.stops.frequency == "weekly" else float(self.stops.frequency.split("/")[0])


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

    start_date: date | None = Field(None, description="Monday of the week (default: next Monday)")
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

    def threshold(self, service: str) -> float:
        """Minutes within which a session of ``service`` serves a zone."""
        return self.access_min_by_service.get(service, self.access_min)


class SitingSpec(_Strict):
    """Which new sites to open, with which model."""

    model: Literal["mclp", "lscp", "p_median", "p_center"] = Field("mclp", description="location model")
    new_sites: int = Field(3, ge=0, le=500, description="sites to open besides the existing services")
    radius_min: float | None = Field(None, gt=0, description="covering radius (default: coverage.target_min)")
    kinds: list[str] = Field(["town_hall", "vacant_premises"], description="site kinds that are candidates")
    files: list[Path] = Field(default_factory=list, description="candidate premises files (sites schema)")
    keep_existing: bool = Field(True, description="existing services stay open")
    tradeoff_max_sites: int = Field(15, ge=1, le=500, description="trade-off curve up to this many new sites")
    time_limit_s: float = Field(60, gt=0, le=3600)
    seed: int = 0


class Scenario(_Strict):
    """A Maillage scenario: territory, services, travel model and coverage settings."""

    name: str = "Maillage"
    language: Literal["fr", "en"] = "fr"
    territory: TerritorySpec = TerritorySpec()
    services: ServicesSpec = ServicesSpec()
    travel: TravelSpec = TravelSpec()
    coverage: CoverageSpec = CoverageSpec()
    siting: SitingSpec | None = None
    rounds: RoundsSpec | None = None
    rooms: RoomsSpec | None = None
    base_dir: Path = Field(Path("."), exclude=True)

    def resolve(self, path: Path) -> Path:
        """A scenario path made absolute against the scenario's folder."""
        return path if path.is_absolute() else (self.base_dir / path)


def _inside(base: Path, path: Path) -> bool:
    return (base / path).resolve().is_relative_to(base.resolve())


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; every problem is reported with its YAML key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.one(str(path), "", f"cannot be read ({exc})") from None
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        raise InputError.one(
            str(path),
            where,
            f"is not valid YAML ({getattr(exc, 'problem', exc)})",
            hint="only plain YAML is accepted (no !!python tags)",
        ) from None
    if not isinstance(raw, dict):
        raise InputError.one(str(path), "", "must be a YAML mapping (key: value)")
    try:
        scenario = Scenario.model_validate({**raw, "base_dir": path.parent})
    except ValidationError as exc:
        problems = [Problem(".".join(str(p) for p in err["loc"]) or "(top)", err["msg"]) for err in exc.errors()]
        raise InputError(str(path), problems, hint="see the scenario format in the README") from None
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
