"""Publishing run folders as versions of a territory's plan, on SQLite and PostgreSQL: people and links,
stable UIDs, SEQUENCE, cancelled events, per-person changes, bad folders."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import icalendar
import pytest
from sqlalchemy import select

from planner._errors import InputError
from planner.platform import db, tokens
from planner.platform.feed import person_calendar
from planner.platform.models import AccessToken, AuditEntry, EventRecord, Person, Plan, Run
from planner.platform.publish import PlannedOccurrence, plan_events, plan_occurrences, publish, read_run
from tests.platform_runs import bookings, run_folder, visits


@pytest.fixture
def sessions(database_url: str):
    """A migrated database on each back-end."""
    factory = db.open_database(database_url)
    yield factory
    factory.kw["bind"].dispose()


def _publish(sessions, folder: Path, **options):
    with db.transaction(sessions) as session:
        return publish(session, read_run(folder), by="planner@test", **options)


def _moved_and_dropped(rows):
    """The first visit of bus-mende two hours later; the last visit of bus-mende dropped."""
    mende = [i for i, r in enumerate(rows) if r["vehicle_id"] == "bus-mende"]
    rows[mende[0]] = {**rows[mende[0]], "start": "10:50", "end": "13:20"}
    del rows[mende[-1]]
    return rows


def test_first_publication_creates_people_links_and_events(sessions, tmp_path: Path) -> None:
    first = _publish(sessions, run_folder(tmp_path / "run"))
    assert first.plan.version == 1
    kinds = {(p.kind, p.ref) for p, _, _ in first.people}
    providers = {r["provider_id"] for r in bookings()}
    premises = {r["premises_id"] for r in bookings()}
    assert kinds == (
        {("crew", "bus-mende"), ("crew", "bus-marvejols")}
        | {("provider", p) for p in providers}
        | {("premises_owner", p) for p in premises}
    )
    assert all(link and tokens.TOKEN_SHAPE.fullmatch(link) for _, link, _ in first.people)
    assert all(not c.moved and not c.cancelled and c.added for _, _, c in first.people)
    with sessions() as session:
        events = plan_events(session, first.plan)
        assert len(events) == len(visits()) + len(bookings())
        assert len({e.uid for e in events}) == len(events)
        assert {e.sequence for e in events} == {0} and {e.status for e in events} == {"CONFIRMED"}
        run = session.scalars(select(Run)).one()
        assert run.inputs["files"][0]["sha256"] == "ab" * 32 and len(run.record_sha256) == 64
        assert run.summary == {"rounds": {"stops": 23}}
        stored = session.scalars(select(AccessToken.token_sha256)).all()
        links = [link for _, link, _ in first.people]
        assert not set(links) & set(stored) and {tokens.digest(t) for t in links} == set(stored)
        crew = session.scalar(select(Person).where(Person.ref == "bus-mende"))
        assert crew is not None and crew.name == "Équipage bus-mende"
        mine = plan_events(session, first.plan, crew)
        assert len(mine) == sum(r["vehicle_id"] == "bus-mende" for r in visits())
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "plan_published")) is not None


def test_republishing_the_same_run_changes_nothing_and_keeps_links(sessions, tmp_path: Path) -> None:
    folder = run_folder(tmp_path / "run")
    _publish(sessions, folder)
    second = _publish(sessions, folder)
    assert second.plan.version == 2
    assert all(link is None and not changes for _, link, changes in second.people)
    with sessions() as session:
        v1, v2 = session.scalars(select(Plan).order_by(Plan.version)).all()
        old = {(e.uid, e.sequence, e.status) for e in plan_events(session, v1)}
        assert old == {(e.uid, e.sequence, e.status) for e in plan_events(session, v2)}


def test_a_moved_stop_bumps_its_sequence_and_a_dropped_one_is_cancelled(sessions, tmp_path: Path) -> None:
    _publish(sessions, run_folder(tmp_path / "v1"))
    second = _publish(sessions, run_folder(tmp_path / "v2", edit_visits=_moved_and_dropped))
    changed = {p.ref: c for p, _, c in second.people if c}
    assert set(changed) == {"bus-mende"}
    mende = changed["bus-mende"]
    assert not mende.added and len(mende.moved) == 1 and len(mende.cancelled) == 1
    before, after = mende.moved[0]
    assert before.uid == after.uid and (before.start, after.start) == ("08:50", "10:50")
    with sessions() as session:
        v2 = session.scalars(select(Plan).where(Plan.version == 2)).one()
        events = {e.uid: e for e in plan_events(session, v2)}
        assert events[after.uid].sequence == 1
        gone = events[mende.cancelled[0].uid]
        assert (gone.status, gone.sequence) == ("CANCELLED", 1)
        assert sum(e.status == "CANCELLED" for e in events.values()) == 1
        v1 = session.scalars(select(Plan).where(Plan.version == 1)).one()  # the previous version stays readable
        assert {e.status for e in plan_events(session, v1)} == {"CONFIRMED"}
    third = _publish(sessions, run_folder(tmp_path / "v3", edit_visits=_moved_and_dropped))
    assert not any(c for _, _, c in third.people)
    with sessions() as session:
        v3 = session.scalars(select(Plan).where(Plan.version == 3)).one()
        kept = {e.uid: e for e in plan_events(session, v3)}[gone.uid]
        assert (kept.status, kept.sequence) == ("CANCELLED", 1)  # carried, not bumped again


def test_a_session_moved_to_other_premises_is_cancelled_for_one_owner_and_added_for_the_other(
    sessions, tmp_path: Path
) -> None:
    rows = bookings()
    first, other = rows[0], next(r for r in rows if r["premises_id"] != rows[0]["premises_id"])

    def move(table):
        table[0] = {**table[0], **{k: other[k] for k in ("premises_id", "premises", "address", "lat", "lon")}}
        return table

    _publish(sessions, run_folder(tmp_path / "v1", rounds=False))
    second = _publish(sessions, run_folder(tmp_path / "v2", rounds=False, edit_bookings=move))
    changed = {(p.kind, p.ref): c for p, _, c in second.people if c}
    provider = changed["provider", first["provider_id"]]
    assert len(provider.added) == 1 and len(provider.cancelled) == 1
    assert changed["premises_owner", other["premises_id"]].added
    if ("premises_owner", first["premises_id"]) in changed:
        assert changed["premises_owner", first["premises_id"]].cancelled


def test_a_date_changed_alone_keeps_the_series_and_is_carried_to_the_next_version(sessions, tmp_path: Path) -> None:
    """One date of a session moved to other premises: the series keeps its SEQUENCE; the provider's feed
    has that date as an instance of the series, the new premises' owner as an event of its own, the diff
    lists it for the three of them; the next version, with the series unchanged, keeps it as it was, and
    drops it once its series changes; a date of an unknown series is refused."""
    rows = bookings()
    first, other = rows[0], next(r for r in rows if r["premises_id"] != rows[0]["premises_id"])
    folder = run_folder(tmp_path / "v1", rounds=False)
    _publish(sessions, folder)
    with sessions() as session:
        series = next(e for e in plan_events(session, _plan(session, 1)) if e.day.isoformat() == first["date"])
        uid, day, sequence = series.uid, series.day + dt.timedelta(weeks=2), series.sequence
    moved = PlannedOccurrence(
        uid, day, "CONFIRMED", day + dt.timedelta(days=1), "14:00", "17:00", "Permanence", "Ailleurs", "", 44.5, 3.5,
        (("premises_owner", other["premises_id"], other["premises"]),),
    )  # fmt: skip
    second = _publish(sessions, folder, occurrences=[moved])
    changed = {p.ref: c for p, _, c in second.people if c}
    assert set(changed) == {first["provider_id"], first["premises_id"], other["premises_id"]}
    assert all(len(c.dates) == 1 and not (c.added or c.moved or c.cancelled) for c in changed.values())
    with sessions() as session:
        kept = {e.uid: e for e in plan_events(session, _plan(session, 2))}[uid]
        assert kept.sequence == sequence and kept.day == series.day
        (date,) = plan_occurrences(session, _plan(session, 2))
        assert (date.occurrence, date.day, date.sequence) == (day, day + dt.timedelta(days=1), sequence + 1)
        people = {p.ref: p for p in session.scalars(select(Person))}
        mine = icalendar.Calendar.from_ical(person_calendar(session, people[first["provider_id"]]))
        instance = [e for e in mine.walk("VEVENT") if "RECURRENCE-ID" in e]
        assert [str(e["UID"]) for e in instance] == [uid] and "RRULE" not in instance[0]
        assert instance[0].decoded("RECURRENCE-ID").isoformat()[:16] == f"{day.isoformat()}T{series.start}"
        host = icalendar.Calendar.from_ical(person_calendar(session, people[other["premises_id"]]))
        alone = [e for e in host.walk("VEVENT") if str(e["UID"]) == f"{day.isoformat()}-{uid}"]
        assert len(alone) == 1 and "RRULE" not in alone[0] and "RECURRENCE-ID" not in alone[0]
    third = _publish(sessions, folder)  # the series unchanged: the date kept as it was
    assert not any(c for _, _, c in third.people)
    with sessions() as session:
        (again,) = plan_occurrences(session, _plan(session, 3))
        assert (again.day, again.sequence) == (date.day, date.sequence)

    def later(table):
        table[0] = {**table[0], "start": "09:00"}
        return table

    _publish(sessions, run_folder(tmp_path / "v4", rounds=False, edit_bookings=later))
    with sessions() as session:
        assert plan_occurrences(session, _plan(session, 4)) == []  # the series moved: its dates follow it
    unknown = PlannedOccurrence("nope@maillage", day, "CANCELLED", day, "09:00", "12:00", "", "", "", 0.0, 0.0)
    with pytest.raises(InputError, match="no such confirmed event"):
        _publish(sessions, folder, occurrences=[unknown])


def _plan(session, version: int) -> Plan:
    return session.scalars(select(Plan).where(Plan.version == version)).one()


def test_new_links_are_issued_on_demand_and_territory_can_be_named(sessions, tmp_path: Path) -> None:
    folder = run_folder(tmp_path / "run")
    _publish(sessions, folder, territory="Lozère (bus)")
    again = _publish(sessions, folder, territory="Lozère (bus)", new_links=True)
    assert again.plan.version == 2 and all(link for _, link, _ in again.people)
    other = _publish(sessions, folder, territory="Aveyron")
    assert other.plan.version == 1
    with sessions() as session:
        assert session.scalar(select(EventRecord).where(EventRecord.plan_id == other.plan.id)) is not None


def test_bad_run_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no run\.json"):
        read_run(tmp_path)
    with pytest.raises(InputError, match="nothing to publish"):
        read_run(run_folder(tmp_path / "empty", rounds=False, rooms=False))
    no_plan = run_folder(tmp_path / "no-plan", rooms=False)
    (no_plan / "rounds" / "visits.csv").write_bytes(b"")  # a solve that found no round writes an empty table
    with pytest.raises(InputError, match="nothing to publish"):
        read_run(no_plan)
    broken = run_folder(tmp_path / "broken", rooms=False, edit_visits=lambda rows: [{"vehicle_id": "x"}])
    with pytest.raises(InputError, match="missing columns"):
        read_run(broken)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "run.json").write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match="not JSON"):
        read_run(tmp_path / "bad")
