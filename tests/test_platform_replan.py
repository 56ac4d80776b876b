"""Re-planning without upheaval, on both back-ends: a provider's day off re-planned with the real rooms model
on the Lozère rooms scenario, other providers' sessions kept as they were, the provider's feed with moved and
cancelled events, a resident's appointment moved or cancelled with a notice; bad declarations refused."""

from __future__ import annotations

import datetime as dt
import re
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
from planner.platform.publish import plan_occurrences, publish, read_run
from tests.platform_runs import run_folder

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


def _premises(event: EventRecord) -> str:
    """A session's premises: its location without the room (which another session may take)."""
    return event.location.split(", ", 1)[0]


def _provider(session, ref: str) -> Person:
    return session.scalars(select(Person).where(Person.kind == "provider", Person.ref == ref)).one()


def _tuesday_provider(rooms_run: Path) -> str:
    """A provider holding a session on the Tuesday of the published week."""
    rows = (rooms_run / "rooms" / "reservations.csv").read_text(encoding="utf-8-sig").splitlines()
    return next(line.split(";")[0] for line in rows[1:] if f";{TUESDAY.isoformat()};" in line)


def _slot(sessions, event_id: int, day: dt.date) -> appointments.Slot:
    with sessions() as session:
        found, plan = appointments.bookable_event(session, event_id)
        return next(s for s in appointments.slots(session, found, plan, today=dt.date(2027, 1, 1)) if s.day == day)


def _feed(session, ref: str) -> dict[tuple[str, str | None], icalendar.cal.Component]:
    """A provider's feed by (UID, RECURRENCE-ID or None for the series)."""
    feed = icalendar.Calendar.from_ical(person_calendar(session, _provider(session, ref)))
    return {
        (str(e["UID"]), e.decoded("RECURRENCE-ID").strftime("%Y-%m-%dT%H:%M") if "RECURRENCE-ID" in e else None): e
        for e in feed.walk("VEVENT")
    }


def test_a_date_off_moves_only_that_date(database_url: str, rooms_run: Path, tmp_path: Path) -> None:
    """One Tuesday off: only that Tuesday's session moves (or is cancelled); the series and every other
    date keep their UID and SEQUENCE, the appointment on another Tuesday is kept; a second date off later
    keeps the first one's change as it was."""
    sessions = db.open_database(database_url)
    ref = _tuesday_provider(rooms_run)
    with db.transaction(sessions) as session:
        publish(session, read_run(rooms_run), territory="Lozère", by="test")
    with sessions() as session:
        tuesday = next(
            e for e in _events(session, 1).values() if e.uid.startswith(f"session-{ref}-") and e.day == TUESDAY
        )
        event_id, uid, start = tuesday.id, tuesday.uid, tuesday.start
    on_the_day = _slot(sessions, event_id, TUESDAY)
    next_week = _slot(sessions, event_id, TUESDAY + dt.timedelta(weeks=1))
    kept = appointments.book(sessions, event_id, next_week.key, phone="06 12 34 56 78", today=dt.date(2027, 1, 1))
    moving = appointments.book(sessions, event_id, on_the_day.key, email="a@example.org", today=dt.date(2027, 1, 1))
    with db.transaction(sessions) as session:
        replan.declare(session, _provider(session, ref), TUESDAY, by="planner", reason="jour de congé")
    with db.transaction(sessions) as session:
        done = replan.replan(session, "Lozère", out=tmp_path / "replan", by="planner", time_limit_s=5)
    assert done.publication.plan.version == 2
    assert set(done.levels) == {f"lozere-rooms {TUESDAY - dt.timedelta(days=1)}"}
    assert done.levels[f"lozere-rooms {TUESDAY - dt.timedelta(days=1)}"] in ("kept", "cancelled")
    with sessions() as session:
        before, after = _events(session, 1), _events(session, 2)
        fields = ("day", "start", "end", "location", "status", "sequence")
        assert {u: [getattr(e, f) for f in fields] for u, e in after.items()} == {
            u: [getattr(e, f) for f in fields] for u, e in before.items()
        }  # every series as it was: same UIDs, same SEQUENCE
        hers = {u for u, e in before.items() if u.startswith(f"session-{ref}-") and e.day == TUESDAY}
        assert {(d.uid, d.occurrence) for d in done.dates} == {(u, TUESDAY) for u in hers}
        dates = plan_occurrences(session, done.publication.plan)
        assert {(d.uid, d.occurrence) for d in dates} == {(u, TUESDAY) for u in hers}
        for date in dates:
            assert date.sequence == after[date.uid].sequence + 1
            if date.status == "CONFIRMED":  # re-placed in the same week, on another day
                assert date.day != TUESDAY and date.day - TUESDAY < dt.timedelta(days=6)
                assert date.day >= TUESDAY - dt.timedelta(days=1)
        concerned = {p.ref for p, _, c in done.publication.people if c}
        assert ref in concerned and all(
            not c.added and not c.moved and not c.cancelled for _, _, c in done.publication.people
        )
        assert {p.ref for p, _, c in done.publication.people if c and p.kind == "provider"} == {ref}
        feed = _feed(session, ref)
        assert int(str(feed[uid, None]["SEQUENCE"])) == before[uid].sequence  # the series: unchanged
        changed = feed[uid, f"{TUESDAY.isoformat()}T{start}"]
        assert int(str(changed["SEQUENCE"])) == before[uid].sequence + 1
        stored = {
            a.reference: a
            for a in session.scalars(
                select(Appointment).where(Appointment.reference.in_([kept.reference, moving.reference]))
            )
        }
        other = stored[kept.reference]
        assert (other.status, other.day, other.start, other.notice) == ("BOOKED", next_week.day, next_week.start, None)
        assert [o.reference for o in done.appointments] == [moving.reference]
        moved = stored[moving.reference]
        assert moved.notice
        mine = next(d for d in dates if d.uid == uid)
        if mine.status == "CONFIRMED" and done.appointments[0].outcome == "moved":
            assert (moved.status, moved.day, moved.event_uid) == ("BOOKED", mine.day, uid)
            assert str(changed["STATUS"]) == "CONFIRMED" and "Rendez-vous réservés" in str(changed["DESCRIPTION"])
        else:
            assert moved.status == "CANCELLED" and moved.seat is None
        if mine.status == "CANCELLED":
            assert str(changed["STATUS"]) == "CANCELLED"
        offered = appointments.slots(session, after[uid], done.publication.plan, today=dt.date(2027, 1, 1))
        assert TUESDAY not in {s.day for s in offered}  # that date is no longer booked in the series
        assert next_week.day in {s.day for s in offered}
        if mine.status == "CONFIRMED":
            assert mine.day in {s.day for s in offered}
        assert {u.replanned_in for u in session.scalars(select(Unavailability))} == {2}
        first = {(d.uid, d.occurrence): (d.sequence, d.day, d.status) for d in dates}
    later = TUESDAY + dt.timedelta(weeks=2)
    with db.transaction(sessions) as session:
        replan.declare(session, _provider(session, ref), later, by="planner", reason="formation")
    with db.transaction(sessions) as session:
        again = replan.replan(session, "Lozère", out=tmp_path / "again", by="planner", time_limit_s=5)
    with sessions() as session:
        now = {
            (d.uid, d.occurrence): (d.sequence, d.day, d.status)
            for d in plan_occurrences(session, again.publication.plan)
        }
        assert {k: v for k, v in now.items() if k[1] == TUESDAY} == first  # kept as it was, same SEQUENCE
        assert {k[1] for k in now} == {TUESDAY, later}
        assert not again.appointments
        other = session.scalars(select(Appointment).where(Appointment.reference == kept.reference)).one()
        assert (other.status, other.day) == ("BOOKED", next_week.day)
    with db.transaction(sessions) as session, pytest.raises(InputError, match="no pending unavailability"):
        replan.replan(session, "Lozère", out=tmp_path / "none", by="planner")
    sessions.kw["bind"].dispose()


def test_bad_declarations_are_refused(database_url: str, rooms_run: Path, tmp_path: Path) -> None:
    sessions = db.open_database(database_url)
    with db.transaction(sessions) as session:
        publish(session, read_run(rooms_run), territory="Lozère", by="test")
    with db.transaction(sessions) as session:
        provider = session.scalars(select(Person).where(Person.kind == "provider")).first()
        owner = session.scalars(select(Person).where(Person.kind == "premises_owner")).first()
        assert provider is not None and owner is not None
        with pytest.raises(InputError, match="declares a day"):
            replan.declare(session, provider, None, by="planner")
        with pytest.raises(InputError, match="for good"):
            replan.declare(session, owner, TUESDAY, by="planner")
        with pytest.raises(InputError, match=r"outside the published plan \(2027-01-04 to "):
            replan.declare(session, provider, dt.date(2026, 12, 31), by="planner")
        with pytest.raises(InputError, match="outside the published plan"):
            replan.declare(session, provider, TUESDAY, until=dt.date(2031, 1, 1), by="planner")
        with pytest.raises(InputError, match="before --from"):
            replan.declare(session, provider, TUESDAY, until=TUESDAY - dt.timedelta(days=1), by="planner")
        days = replan.declare(session, provider, TUESDAY, until=TUESDAY + dt.timedelta(days=9), by="planner")
        assert [d.day for d in days] == [TUESDAY + dt.timedelta(days=n) for n in range(10)]
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
    for wrong, said in (
        (["--day", "2027-13-05"], "2027-13-05"),  # malformed
        (["--day", "2030-01-08"], "outside the published plan"),
        (["--from", "2027-01-05"], "a range needs both"),
        (["--from", "2027-01-08", "--to", "2027-01-05"], "before --from"),
        (["--day", "2027-01-05", "--from", "2027-01-05", "--to", "2027-01-06"], "--from/--to"),
    ):
        refused = runner.invoke(cli_app, ["unavailable", str(person.id), *wrong])
        assert refused.exit_code == 2 and said in refused.output, (wrong, refused.output)
    unknown = runner.invoke(cli_app, ["unavailable", "99999", "--day", TUESDAY.isoformat()])
    assert unknown.exit_code == 2 and "no such person" in unknown.output
    assert runner.invoke(cli_app, ["replan", "--territory", "Lozère"]).exit_code == 2  # nothing declared
    ok = runner.invoke(
        cli_app, ["unavailable", str(person.id), "--from", TUESDAY.isoformat(), "--to", TUESDAY.isoformat()]
    )
    assert ok.exit_code == 0 and TUESDAY.isoformat() in ok.output, ok.output
    done = runner.invoke(
        cli_app, ["replan", "--territory", "Lozère", "--out", str(tmp_path / "re"), "--time-limit", "5"]
    )
    assert done.exit_code == 0, done.output
    assert re.search(r"version 2 publiée \(lozere-rooms 2027-01-04 : (kept|cancelled)\)", done.output), done.output
    assert f"provider {person.ref}" in done.output and "1 date(s) changée(s)" in done.output
    assert re.search(
        rf"session-{re.escape(person.ref)}-\S+ du {TUESDAY.isoformat()} : (-> 2027-01-0[4-9]|annulé)", done.output
    )


def test_broken_down_bus_cancels_that_dates_stops_only(database_url: str, tmp_path: Path) -> None:
    """The reference Lozère bus rounds (2 buses, a fortnight): bus-mende out on Thursday 21 January, the
    second repetition of its Thursday 7 January: its two stops of that date are cancelled with a notice, on
    that date only; every stop's series (both buses) keeps its SEQUENCE, the other bus's feed has no change."""
    folder = run_folder(tmp_path / "lozere-bus", rooms=False)
    sessions = db.open_database(database_url)
    with db.transaction(sessions) as session:
        publish(session, read_run(folder), territory="Lozère", by="test")
    broken = dt.date(2027, 1, 21)
    with db.transaction(sessions) as session:
        crew = session.scalars(select(Person).where(Person.kind == "crew", Person.ref == "bus-mende")).one()
        replan.declare(session, crew, broken, by="planner", reason="bus en panne")
    with db.transaction(sessions) as session:
        done = replan.replan(session, "Lozère", out=tmp_path / "replan", by="planner")
    assert done.levels == {f"lozere-bus {broken}": "cancelled"}
    with sessions() as session:
        before, after = _events(session, 1), _events(session, 2)
        assert {u: (e.day, e.start, e.sequence) for u, e in after.items()} == {
            u: (e.day, e.start, e.sequence) for u, e in before.items()
        }
        thursday = {u for u, e in before.items() if u.startswith("stop-bus-mende-") and e.day == dt.date(2027, 1, 7)}
        assert len(thursday) == 2
        dates = plan_occurrences(session, done.publication.plan)
        assert {(d.uid, d.occurrence, d.status) for d in dates} == {(u, broken, "CANCELLED") for u in thursday}
        assert all("Annulé le jeudi 21 janvier 2027 seulement" in d.description for d in dates)
        changed = {p.ref: c for p, _, c in done.publication.people if c}
        assert set(changed) == {"bus-mende"} and len(changed["bus-mende"].dates) == 2
        crew = session.scalars(select(Person).where(Person.ref == "bus-mende")).one()
        feed = icalendar.Calendar.from_ical(person_calendar(session, crew))
        instances = [e for e in feed.walk("VEVENT") if "RECURRENCE-ID" in e]
        assert sorted(str(e["UID"]) for e in instances) == sorted(thursday)
        assert {e.decoded("RECURRENCE-ID").date() for e in instances} == {broken}
        assert {str(e["STATUS"]) for e in instances} == {"CANCELLED"}
        other = session.scalars(select(Person).where(Person.ref == "bus-marvejols")).one()
        assert "RECURRENCE-ID" not in person_calendar(session, other).decode()
    sessions.kw["bind"].dispose()


def test_withdrawn_room_is_replanned(rooms_run: Path, tmp_path: Path) -> None:
    """A premises owner withdraws their room: no session there any more; providers who had none there keep theirs."""
    sessions = db.open_database(f"sqlite:///{tmp_path / 'rooms.db'}")
    with db.transaction(sessions) as session:
        publish(session, read_run(rooms_run), territory="Lozère", by="test")
    with db.transaction(sessions) as session:
        owner = session.scalars(select(Person).where(Person.kind == "premises_owner").order_by(Person.ref)).first()
        assert owner is not None
        ref = owner.ref
        replan.declare(session, owner, None, by="premises_owner", reason="travaux")
    with db.transaction(sessions) as session:
        done = replan.replan(session, "Lozère", out=tmp_path / "replan", by="planner", time_limit_s=5)
    assert done.levels["lozere-rooms"] in ("kept", "pinned")
    with sessions() as session:
        before, after = _events(session, 1), _events(session, 2)
        assert not [e for u, e in after.items() if f"-{ref}-" in u and e.status == "CONFIRMED"]
        touched = {u.split(f"-{ref}-")[0] for u in before if f"-{ref}-" in u}  # "session-<provider>"
        for uid, event in before.items():
            if not any(uid.startswith(f"{t}-") for t in touched):
                assert (after[uid].day, after[uid].start, _premises(after[uid])) == (
                    event.day, event.start, _premises(event)
                )  # fmt: skip
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
    assert done.dates == [] and done.levels == {}
    sessions.kw["bind"].dispose()


def test_a_date_off_stays_off_when_a_withdrawn_room_changes_her_series(rooms_run: Path, tmp_path: Path) -> None:
    """A provider off on Tuesday 12 January (v2), then the premises of her Tuesday session withdrawn (v3):
    her sessions there are re-planned, and whatever session of hers falls on 12 January in v3 has that date
    answered again (moved or cancelled), so she is still not expected to work that day."""
    sessions = db.open_database(f"sqlite:///{tmp_path / 'rooms.db'}")
    ref = _tuesday_provider(rooms_run)
    off = TUESDAY + dt.timedelta(weeks=1)
    with db.transaction(sessions) as session:
        publish(session, read_run(rooms_run), territory="Lozère", by="test")
    with db.transaction(sessions) as session:
        replan.declare(session, _provider(session, ref), off, by="planner", reason="congé")
    with db.transaction(sessions) as session:
        replan.replan(session, "Lozère", out=tmp_path / "v2", by="planner", time_limit_s=5)
    with sessions() as session:
        tuesday = next(
            e for e in _events(session, 2).values() if e.uid.startswith(f"session-{ref}-") and e.day == TUESDAY
        )
        ids = [link.person_id for link in tuesday.people]
        owner = session.scalars(select(Person).where(Person.kind == "premises_owner", Person.id.in_(ids))).one()
        replan.declare(session, owner, None, by="premises_owner", reason="travaux")
        session.commit()
    with db.transaction(sessions) as session:
        done = replan.replan(session, "Lozère", out=tmp_path / "v3", by="planner", time_limit_s=5)
    assert done.publication.plan.version == 3 and "lozere-rooms" in done.levels
    with sessions() as session:
        after = _events(session, 3)
        due = {
            u for u, e in after.items()
            if u.startswith(f"session-{ref}-") and e.status == "CONFIRMED" and e.day <= off
            and (off - e.day).days % 7 == 0
        }  # fmt: skip
        answered = {d.uid for d in plan_occurrences(session, done.publication.plan) if d.occurrence == off}
        assert due <= answered, (due, answered)
        assert all(d.day != off for d in plan_occurrences(session, done.publication.plan) if d.status == "CONFIRMED")
    sessions.kw["bind"].dispose()
