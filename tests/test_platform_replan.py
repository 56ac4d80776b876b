"""Re-planning without upheaval, on both back-ends: a provider's day off re-planned with the real rooms model
on the Lozère rooms scenario, other providers' sessions kept as they were, the provider's feed with moved and
cancelled events, a resident's appointment moved or cancelled with a notice; bad declarations refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import icalendar
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from planner._errors import InputError
from planner.cli import app as cli_app
from planner.platform import appointments, db, replan
from planner.platform.feed import person_calendar
from planner.platform.models import Appointment, EventRecord, Person, Plan, Unavailability
from planner.platform.publish import publish, read_run

SCENARIO = Path(__file__).parents[1] / "scenarios" / "lozere-rooms.yaml"
TUESDAY = dt.date(2027, 1, 5)  # the rooms scenario's week starts on Monday 4 January 2027


@pytest.fixture(scope="module")
def rooms_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Lozère rooms scenario, solved once for the module (the real model, a short limit)."""
    out = tmp_path_factory.mktemp("rooms") / "lozere-rooms"
    result = CliRunner().invoke(cli_app, ["rooms", str(SCENARIO), "--out", str(out), "--time-limit", "5"])
    assert result.exit_code == 0, result.output
    return out


def _events(session, version: int) -> dict[str, EventRecord]:
    plan = session.scalars(select(Plan).where(Plan.version == version)).one()
    return {e.uid: e for e in session.scalars(select(EventRecord).where(EventRecord.plan_id == plan.id))}


def _provider(session, ref: str) -> Person:
    return session.scalars(select(Person).where(Person.kind == "provider", Person.ref == ref)).one()


def _tuesday_provider(rooms_run: Path) -> str:
    """A provider holding a session on the Tuesday of the published week."""
    rows = (rooms_run / "rooms" / "reservations.csv").read_text(encoding="utf-8-sig").splitlines()
    return next(line.split(";")[0] for line in rows[1:] if f";{TUESDAY.isoformat()};" in line)


def test_day_off_is_replanned_without_upheaval(database_url: str, rooms_run: Path, tmp_path: Path) -> None:
    sessions = db.open_database(database_url)
    ref = _tuesday_provider(rooms_run)
    with db.transaction(sessions) as session:
        publish(session, read_run(rooms_run), territory="Lozère", by="test")
    with sessions() as session:
        tuesday = next(
            e for e in _events(session, 1).values() if e.uid.startswith(f"session-{ref}-") and e.day == TUESDAY
        )
        event_id, uid = tuesday.id, tuesday.uid
        found, plan = appointments.bookable_event(session, event_id)
        slot = appointments.slots(session, found, plan, today=dt.date(2027, 1, 1))[1]
    booking = appointments.book(sessions, event_id, slot.key, email="habitant@example.org", today=dt.date(2027, 1, 1))
    with db.transaction(sessions) as session:
        replan.declare(session, _provider(session, ref), TUESDAY, by="planner", reason="jour de congé")
    with db.transaction(sessions) as session:
        done = replan.replan(session, "Lozère", out=tmp_path / "replan", by="planner", time_limit_s=5)
    assert done.publication.plan.version == 2 and done.levels == {"lozere-rooms": "pinned"}
    with sessions() as session:
        before, after = _events(session, 1), _events(session, 2)
        mine = {u for u in before if u.startswith(f"session-{ref}-")} | {u for u in after if f"-{ref}-" in u}
        for uid_, event in after.items():  # every other provider's session is as it was
            if event.kind == "session" and uid_ not in mine:
                old = before[uid_]
                assert (event.day, event.start, event.end, event.location, event.sequence, event.status) == (
                    old.day, old.start, old.end, old.location, old.sequence, old.status
                )  # fmt: skip
        assert not [e for u, e in after.items() if u in mine and e.status == "CONFIRMED" and e.day == TUESDAY]
        assert after[uid].status == "CANCELLED" or after[uid].day != TUESDAY
        assert after[uid].sequence == before[uid].sequence + 1
        feed = icalendar.Calendar.from_ical(person_calendar(session, _provider(session, ref)))
        events = {str(e["UID"]): e for e in feed.walk("VEVENT")}
        assert int(events[uid]["SEQUENCE"]) == after[uid].sequence
        if after[uid].status == "CANCELLED":
            assert str(events[uid]["STATUS"]) == "CANCELLED"
        stored = session.scalars(select(Appointment).where(Appointment.reference == booking.reference)).one()
        assert stored.notice and [o.reference for o in done.appointments] == [booking.reference]
        outcome = done.appointments[0]
        assert outcome.reachable and outcome.before == (slot.day, slot.start)
        if outcome.outcome == "moved":
            assert stored.status == "BOOKED" and stored.day.isoweekday() != TUESDAY.isoweekday()
            assert after[stored.event_uid].status == "CONFIRMED" and stored.start >= after[stored.event_uid].start
        else:
            assert stored.status == "CANCELLED" and stored.seat is None
        assert {u.replanned_in for u in session.scalars(select(Unavailability))} == {2}
    with db.transaction(sessions) as session, pytest.raises(InputError, match="no pending unavailability"):
        replan.replan(session, "Lozère", out=tmp_path / "again", by="planner")
    sessions.kw["bind"].dispose()


def test_bad_declarations_are_refused(database_url: str, rooms_run: Path, tmp_path: Path) -> None:
    sessions = db.open_database(database_url)
    with db.transaction(sessions) as session:
        publish(session, read_run(rooms_run), territory="Lozère", by="test")
    with db.transaction(sessions) as session:
        provider = session.scalars(select(Person).where(Person.kind == "provider")).first()
        owner = session.scalars(select(Person).where(Person.kind == "premises_owner")).first()
        with pytest.raises(InputError, match="declares a day"):
            replan.declare(session, provider, None, by="planner")
        with pytest.raises(InputError, match="for good"):
            replan.declare(session, owner, TUESDAY, by="planner")
        with pytest.raises(InputError, match="no published plan"):
            replan.replan(session, "Nowhere'; DROP TABLE people; --", out=tmp_path / "x", by="planner")
    sessions.kw["bind"].dispose()


def test_cli_declares_and_replans(rooms_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(db.ENV_URL, f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    assert runner.invoke(cli_app, ["publish", str(rooms_run), "--territory", "Lozère"]).exit_code == 0
    with db.open_database()() as session:
        person = _provider(session, _tuesday_provider(rooms_run))
    bad = runner.invoke(cli_app, ["unavailable", str(person.id)])
    assert bad.exit_code == 2 and "--day" in bad.output
    assert runner.invoke(cli_app, ["replan", "--territory", "Lozère"]).exit_code == 2  # nothing declared
    ok = runner.invoke(cli_app, ["unavailable", str(person.id), "--day", TUESDAY.isoformat(), "--reason", "congé"])
    assert ok.exit_code == 0, ok.output
    done = runner.invoke(
        cli_app, ["replan", "--territory", "Lozère", "--out", str(tmp_path / "re"), "--time-limit", "5"]
    )
    assert done.exit_code == 0, done.output
    assert "version 2 publiée (lozere-rooms : pinned)" in done.output and f"provider {person.ref}" in done.output


def test_broken_down_bus_keeps_every_stop_served(tmp_path: Path) -> None:
    """The Lozère bus rounds (the real rounds model): one bus out on a Thursday; its Thursday stops go
    elsewhere, every stop served before is still served (``stops.required``), the other bus keeps its days."""
    out = tmp_path / "lozere-bus"
    scenario = SCENARIO.with_name("lozere-bus.yaml")
    ran = CliRunner().invoke(cli_app, ["rounds", str(scenario), "--out", str(out), "--time-limit", "5"])
    assert ran.exit_code == 0, ran.output
    sessions = db.open_database(f"sqlite:///{tmp_path / 'bus.db'}")
    with db.transaction(sessions) as session:
        publish(session, read_run(out), territory="Lozère", by="test")
    thursday = dt.date(2027, 1, 7)
    with db.transaction(sessions) as session:
        crew = session.scalars(select(Person).where(Person.kind == "crew", Person.ref == "bus-mende")).one()
        replan.declare(session, crew, thursday, by="planner", reason="bus en panne")
    with db.transaction(sessions) as session:
        done = replan.replan(session, "Lozère", out=tmp_path / "replan", by="planner", time_limit_s=5)
    assert done.publication.plan.version == 2 and done.levels == {"lozere-bus": "pinned"}
    with sessions() as session:
        before, after = _events(session, 1), _events(session, 2)

        def stops(events: dict[str, EventRecord]) -> set[str]:
            return {e.summary.rsplit(" (", 1)[0] for e in events.values() if e.status == "CONFIRMED"}

        assert stops(after) >= stops(before)
        assert not [
            e for u, e in after.items() if u.startswith("stop-bus-mende-") and e.status == "CONFIRMED"
            and e.day.isoweekday() == thursday.isoweekday()
        ]  # fmt: skip
        days = {e.day.isoweekday() for u, e in after.items() if u.startswith("stop-bus-marvejols-")}
        assert days <= {e.day.isoweekday() for u, e in before.items() if u.startswith("stop-bus-marvejols-")}
    sessions.kw["bind"].dispose()


def test_withdrawn_room_is_replanned(rooms_run: Path, tmp_path: Path) -> None:
    """A premises owner withdraws their room: no session there any more; providers who had none there keep theirs."""
    sessions = db.open_database(f"sqlite:///{tmp_path / 'rooms.db'}")
    with db.transaction(sessions) as session:
        publish(session, read_run(rooms_run), territory="Lozère", by="test")
    with db.transaction(sessions) as session:
        owner = session.scalars(select(Person).where(Person.kind == "premises_owner").order_by(Person.ref)).first()
        ref = owner.ref
        replan.declare(session, owner, None, by="premises_owner", reason="travaux")
    with db.transaction(sessions) as session:
        done = replan.replan(session, "Lozère", out=tmp_path / "replan", by="planner", time_limit_s=5)
    assert done.levels == {"lozere-rooms": "pinned"}
    with sessions() as session:
        before, after = _events(session, 1), _events(session, 2)
        assert not [e for u, e in after.items() if f"-{ref}-" in u and e.status == "CONFIRMED"]
        touched = {u.split(f"-{ref}-")[0] for u in before if f"-{ref}-" in u}  # "session-<provider>"
        for uid, event in before.items():
            if not any(uid.startswith(f"{t}-") for t in touched):
                assert (after[uid].day, after[uid].start, after[uid].location) == (
                    event.day,
                    event.start,
                    event.location,
                )
    sessions.kw["bind"].dispose()


def test_a_day_off_without_sessions_moves_nothing(rooms_run: Path, tmp_path: Path) -> None:
    """A provider off on a weekday she holds no session on: the new version is the same plan."""
    sessions = db.open_database(f"sqlite:///{tmp_path / 'rooms.db'}")
    with db.transaction(sessions) as session:
        publish(session, read_run(rooms_run), territory="Lozère", by="test")
    with sessions() as session:
        provider = _provider(session, _tuesday_provider(rooms_run))
        worked = {e.day for e in _events(session, 1).values() if e.uid.startswith(f"session-{provider.ref}-")}
    free = next(dt.date(2027, 1, d) for d in range(4, 9) if dt.date(2027, 1, d) not in worked)
    with db.transaction(sessions) as session:
        replan.declare(session, _provider(session, provider.ref), free, by="planner")
    with db.transaction(sessions) as session:
        done = replan.replan(session, "Lozère", out=tmp_path / "replan", by="planner", time_limit_s=5)
    assert not any(changes for _, _, changes in done.publication.people) and not done.appointments
    sessions.kw["bind"].dispose()
