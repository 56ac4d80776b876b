"""The schema: territories, scenarios, runs, published plans, people and their links, events, audit log.

Geometry is a PostGIS ``geometry(Point, 4326)`` on PostgreSQL (GeoAlchemy2) and WKT text on SQLite.
Changes to these classes go with a new migration in ``migrations/versions``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from geoalchemy2 import Geometry, WKBElement
from geoalchemy2.shape import to_shape
from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator, TypeEngine

KINDS = ("planner", "provider", "crew", "premises_owner")


def utcnow() -> dt.datetime:
    """Now, in UTC, to the second (what every timestamp column stores)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and read back timezone-aware on every back-end (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return (
            value.astimezone(dt.UTC) if dialect.name == "postgresql" else value.astimezone(dt.UTC).replace(tzinfo=None)
        )

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Point(TypeDecorator[str]):
    """A WGS 84 point given and read as WKT (``POINT(lon lat)``): PostGIS geometry, or text on SQLite."""

    impl = Text
    cache_ok = True
    spatial_index = False  # the migration makes the GiST index itself
    use_N_D_index = False

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect is not None and dialect.name == "postgresql":
            return dialect.type_descriptor(Geometry("POINT", srid=4326, spatial_index=False))
        return Text() if dialect is None else dialect.type_descriptor(Text())

    def bind_expression(self, bindvalue: Any) -> Any:
        return bindvalue

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "postgresql":
            return value
        return f"SRID=4326;{value}"

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None or (isinstance(value, str) and not value[:1].isdigit()):
            return value
        element = value if isinstance(value, WKBElement) else WKBElement(value)
        return str(to_shape(element).wkt)


class Base(DeclarativeBase):
    """Every table of the platform."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Territory(Base):
    """A territory whose plan is published (a département, an EPCI…), by its name."""

    __tablename__ = "territories"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ScenarioRecord(Base):
    """A scenario as run: its name and validated parameters."""

    __tablename__ = "scenarios"
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id"))
    name: Mapped[str] = mapped_column(String(200))
    parameters: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Run(Base):
    """A run folder read into the database: its ``run.json`` (inputs' hashes, parameters) and summary."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id"))
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"))
    folder: Mapped[str] = mapped_column(Text)
    record_sha256: Mapped[str] = mapped_column(String(64))
    command: Mapped[list[Any]]
    inputs: Mapped[dict[str, Any]]
    parameters: Mapped[dict[str, Any]]
    summary: Mapped[dict[str, Any]]
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Plan(Base):
    """Version ``version`` (1, 2…) of a territory's published plan: which run, who published it and when."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("territory_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id"))
    version: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    published_by: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    territory: Mapped[Territory] = relationship()


class Person(Base):
    """A planner, provider, truck crew or premises owner of a territory; ``ref`` is the plan's id for them
    (provider_id, vehicle_id, premises id), ``password_hash`` (Argon2) only for planners."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("territory_id", "kind", "ref"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id"))
    kind: Mapped[str] = mapped_column(String(20))
    ref: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    territory: Mapped[Territory] = relationship()


class AccessToken(Base):
    """A personal link: only the SHA-256 of the token is kept; revoked or expired, it opens nothing."""

    __tablename__ = "access_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    person: Mapped[Person] = relationship()


class EventRecord(Base):
    """A stop of a truck or a provider's session in one published version, under a UID stable across
    versions; ``sequence`` grows when it changes, ``status`` is ``CONFIRMED`` or ``CANCELLED``."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("plan_id", "uid"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    uid: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="CONFIRMED")
    day: Mapped[dt.date]
    start: Mapped[str] = mapped_column(String(5))
    end: Mapped[str] = mapped_column(String(5))
    every_weeks: Mapped[int] = mapped_column(Integer, default=1)
    summary: Mapped[str] = mapped_column(Text)
    service: Mapped[str | None] = mapped_column(String(200), default=None)
    location: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    lat: Mapped[float]
    lon: Mapped[float]
    geom: Mapped[str | None] = mapped_column(Point())
    people: Mapped[list[EventPerson]] = relationship(cascade="all, delete-orphan")


class Occurrence(Base):
    """One date of a session's or stop's series changed on its own in a published version (iCalendar
    ``RECURRENCE-ID``): the occurrence of series ``uid`` due on ``occurrence`` is moved to ``day``, ``start``,
    ``end``, ``summary`` and ``location``, or ``CANCELLED``; every other date of the series stays as it is. ``people``
    holds the ids of the persons it concerns (the series' people, and the owner of premises it moves to)."""

    __tablename__ = "occurrences"
    __table_args__ = (
        UniqueConstraint("plan_id", "uid", "occurrence"),
        CheckConstraint("status IN ('CONFIRMED', 'CANCELLED')", name="occurrences_status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    uid: Mapped[str] = mapped_column(String(300))
    occurrence: Mapped[dt.date]
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="CONFIRMED")
    day: Mapped[dt.date]
    start: Mapped[str] = mapped_column(String(5))
    end: Mapped[str] = mapped_column(String(5))
    summary: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    lat: Mapped[float]
    lon: Mapped[float]
    people: Mapped[list[Any]]


class EventPerson(Base):
    """Who an event belongs to: the truck's crew, or the provider and the premises' owner."""

    __tablename__ = "event_people"
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)


class ServiceSlots(Base):
    """How a service's sessions are cut into appointment slots in a territory: minutes per slot, residents
    per slot. A service without a row gets :data:`planner.platform.appointments.DEFAULT_SLOTS`."""

    __tablename__ = "service_slots"
    __table_args__ = (UniqueConstraint("territory_id", "service"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id"))
    service: Mapped[str] = mapped_column(String(200))
    slot_minutes: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)


class Appointment(Base):
    """A resident's appointment in a slot of a session (by the session's stable UID and the day).

    ``seat`` (1..capacity) is what makes double booking impossible: the unique constraint on (territory,
    session, day, start, seat) lets one insert win per seat, whatever the concurrency; a cancelled
    appointment gives its seat back (``seat`` NULL). Only the reference, the SHA-256 of the cancellation
    link and an optional phone or e-mail are kept, and the whole row is deleted after the retention period.
    """

    __tablename__ = "appointments"
    __table_args__ = (
        UniqueConstraint("territory_id", "event_uid", "day", "start", "seat"),
        CheckConstraint("seat IS NULL OR seat >= 1", name="appointments_seat"),
        CheckConstraint("status IN ('BOOKED', 'CANCELLED')", name="appointments_status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id"))
    event_uid: Mapped[str] = mapped_column(String(300))
    day: Mapped[dt.date]
    start: Mapped[str] = mapped_column(String(5))
    end: Mapped[str] = mapped_column(String(5))
    seat: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="BOOKED")
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    cancel_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    notice: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Setting(Base):
    """A value the service keeps for itself, e.g. the key that signs its forms (``form_key``)."""

    __tablename__ = "settings"
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AuditEntry(Base):
    """Who did what when: publications, people added, links issued and revoked."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Unavailability(Base):
    """A date a provider or crew cannot work (day off, broken-down bus: only the occurrences on that date
    move), or a premises owner's room withdrawn for good (``day`` NULL), until ``maillage replan`` publishes
    the version taking it into account (``replanned_in``)."""

    __tablename__ = "unavailabilities"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    day: Mapped[dt.date | None]
    reason: Mapped[str] = mapped_column(String(200), default="")
    declared_by: Mapped[str] = mapped_column(String(200))
    declared_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    replanned_in: Mapped[int | None] = mapped_column(Integer, default=None)
    person: Mapped[Person] = relationship()
