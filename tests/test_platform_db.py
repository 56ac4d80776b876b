"""The platform's database on both back-ends: migrations from empty, round trips of every table, geometry."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from planner.platform import db
from planner.platform.models import (
    AccessToken,
    AuditEntry,
    EventPerson,
    EventRecord,
    Person,
    Plan,
    Run,
    ScenarioRecord,
    Territory,
    utcnow,
)

TABLES = {
    "territories",
    "scenarios",
    "runs",
    "plans",
    "people",
    "access_tokens",
    "events",
    "event_people",
    "audit_log",
}


def _plan(session, version: int = 1) -> Plan:
    territory = session.scalar(select(Territory).where(Territory.name == "Lozère")) or Territory(name="Lozère")
    session.add(territory)
    session.flush()
    scenario = ScenarioRecord(territory_id=territory.id, name="bus", parameters={"name": "bus"})
    session.add(scenario)
    session.flush()
    run = Run(
        territory_id=territory.id,
        scenario_id=scenario.id,
        folder="/x",
        record_sha256="0" * 64,
        command=["maillage"],
        inputs={"files": []},
        parameters={},
        summary={},
        started_at=None,
        finished_at=None,
    )
    session.add(run)
    session.flush()
    plan = Plan(territory_id=territory.id, version=version, run_id=run.id, published_by="test")
    session.add(plan)
    session.flush()
    return plan


def test_migrate_creates_every_table_and_is_idempotent(database_url: str) -> None:
    engine = db.make_engine(database_url)
    assert db.current_revision(engine) is None
    db.migrate(engine)
    db.migrate(engine)  # a second time changes nothing
    assert db.current_revision(engine) == db.head_revision()
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_downgrade_removes_the_schema(database_url: str) -> None:
    engine = db.make_engine(database_url)
    db.migrate(engine)
    db.migrate_down(engine, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    engine.dispose()


def _stop(plan_id: int, uid: str, start: str, end: str, lat: float, lon: float) -> EventRecord:
    """A stop event on Monday 4 January 2027 with no text, at (lat, lon)."""
    return EventRecord(
        plan_id=plan_id,
        uid=uid,
        kind="stop",
        day=dt.date(2027, 1, 4),
        start=start,
        end=end,
        summary="",
        location="",
        description="",
        lat=lat,
        lon=lon,
        geom=f"POINT ({lon} {lat})",
    )


def test_round_trip_of_every_table_with_geometry(database_url: str) -> None:
    sessions = db.open_database(database_url)
    with db.transaction(sessions) as session:
        plan = _plan(session)
        person = Person(territory_id=plan.territory_id, kind="crew", ref="bus-mende", name="bus-mende")
        session.add(person)
        session.flush()
        expires = utcnow() + dt.timedelta(days=30)
        session.add(AccessToken(person_id=person.id, token_sha256="a" * 64, expires_at=expires, revoked_at=None))
        event = _stop(plan.id, "stop-bus-mende-mairie-48003-1@maillage", "08:50", "11:20", 44.541759, 3.661809)
        event.summary, event.location = "Mairie d'Allenc", "Le Village, 48190 Allenc"
        event.people.append(EventPerson(person_id=person.id))
        session.add(event)
        session.add(AuditEntry(actor="test", action="publish", subject="Lozère v1", detail={"events": 1}))
    with sessions() as session:
        event = session.scalars(select(EventRecord)).one()
        assert event.geom == "POINT (3.661809 44.541759)"
        assert (event.sequence, event.status, event.day) == (0, "CONFIRMED", dt.date(2027, 1, 4))
        token = session.scalars(select(AccessToken)).one()
        assert token.expires_at.tzinfo is not None and token.expires_at == expires
        assert session.scalars(select(AuditEntry)).one().detail == {"events": 1}
        assert [p.person_id for p in event.people] == [session.scalars(select(Person)).one().id]
    sessions.kw["bind"].dispose()


def test_geometry_is_postgis_on_postgresql(database_url: str) -> None:
    sessions = db.open_database(database_url)
    engine = sessions.kw["bind"]
    with db.transaction(sessions) as session:
        plan = _plan(session)
        session.add(_stop(plan.id, "u", "08:00", "09:00", 44.5, 3.5))
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            found = connection.execute(text("SELECT ST_SRID(geom), ST_X(geom), ST_Y(geom) FROM events")).one()
            assert tuple(found) == (4326, 3.5, 44.5)
        else:
            assert connection.execute(text("SELECT geom FROM events")).scalar() == "POINT (3.5 44.5)"
    engine.dispose()


def test_a_plan_version_is_unique_per_territory(database_url: str) -> None:
    sessions = db.open_database(database_url)
    with pytest.raises(IntegrityError), db.transaction(sessions) as session:
        plan = _plan(session)
        session.add(Plan(territory_id=plan.territory_id, version=1, run_id=plan.run_id, published_by="other"))
        session.flush()
    sessions.kw["bind"].dispose()


def test_default_database_is_sqlite_in_the_user_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv(db.ENV_URL, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    url = db.database_url()
    assert url.startswith("sqlite:///") and url.endswith("maillage.sqlite3")
    monkeypatch.setenv(db.ENV_URL, "postgresql+psycopg://u@h/maillage")
    assert db.database_url() == "postgresql+psycopg://u@h/maillage"
