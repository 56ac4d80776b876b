"""Residents' appointments on both back-ends: slots, booking, cancellation by link, no double booking under
concurrency, the provider's page and feed, retention and purge, the CLI."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import icalendar
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from planner.cli import app as cli_app
from planner.platform import appointments, db
from planner.platform.models import Appointment, EventRecord, Plan
from planner.platform.publish import publish, read_run
from planner.platform.service import create_app
from tests.platform_runs import run_folder


@pytest.fixture
def plan(database_url: str, tmp_path: Path):
    """The reference Lozère plan published; the sessions factory and each person's link by ref."""
    sessions = db.open_database(database_url)
    with db.transaction(sessions) as session:
        done = publish(session, read_run(run_folder(tmp_path / "v1")), by="test")
        links = {p.ref: link for p, link, _ in done.people}
    yield sessions, links
    sessions.kw["bind"].dispose()


def _session(sessions, provider: str = "assistante-sociale") -> tuple[int, list[appointments.Slot]]:
    with sessions() as session:
        event = session.scalars(
            select(EventRecord).where(EventRecord.uid.like(f"session-{provider}-%")).order_by(EventRecord.uid)
        ).first()
        assert event is not None
        found, plan = appointments.bookable_event(session, event.id)
        return event.id, appointments.slots(session, found, plan)


def _territory_of(session: Session, event_id: int) -> int:
    """The territory of a published session (its plan's)."""
    event = session.get(EventRecord, event_id)
    plan = session.get(Plan, event.plan_id) if event else None
    assert plan is not None, f"session {event_id} has no plan"
    return plan.territory_id


def test_slots_follow_the_service_rule(plan) -> None:
    sessions, _ = plan
    event_id, offered = _session(sessions)
    assert len({s.day for s in offered}) == appointments.WEEKS_AHEAD
    assert {s.capacity for s in offered} == {1} and offered[0].start == "08:30" and offered[0].end == "09:00"
    assert len(offered) == 4 * 6  # 08:30-11:30 in 30-minute slots, 4 weeks
    with db.transaction(sessions) as session:
        appointments.set_slot_rule(session, _territory_of(session, event_id), "social", 45, 3)
    _, offered = _session(sessions)
    assert [s.start for s in offered[:4]] == ["08:30", "09:15", "10:00", "10:45"] and offered[0].capacity == 3


def test_book_cancel_and_what_is_kept(plan) -> None:
    sessions, _ = plan
    event_id, offered = _session(sessions)
    made = appointments.book(sessions, event_id, offered[0].key, phone="06 12 34 56 78")
    assert made.reference.startswith("RDV-") and len(made.cancel_token) == 43
    with pytest.raises(appointments.SlotFull):
        appointments.book(sessions, event_id, offered[0].key)
    for bad in ("2031-01-01T08:30", offered[0].key.replace("08:30", "08:31"), "x", "' OR 1=1 --"):
        with pytest.raises(appointments.BookingError):
            appointments.book(sessions, event_id, bad)
    with pytest.raises(appointments.BookingError, match="booking_error_phone"):
        appointments.book(sessions, event_id, offered[1].key, phone="<script>")
    with pytest.raises(appointments.BookingError, match="booking_error_email"):
        appointments.book(sessions, event_id, offered[1].key, email="a@b")
    with db.transaction(sessions) as session:
        stored = session.scalars(select(Appointment)).one()
        assert stored.phone == "06 12 34 56 78" and made.cancel_token not in str(vars(stored))
        assert appointments.by_cancel_token(session, made.cancel_token) is stored
        assert appointments.cancel(session, stored) and not appointments.cancel(session, stored)
    with sessions() as session:
        stored = session.scalars(select(Appointment)).one()
        assert (stored.status, stored.seat, stored.phone, stored.email) == ("CANCELLED", None, None, None)
    again = appointments.book(sessions, event_id, offered[0].key)  # the seat is free again
    assert again.reference != made.reference


@pytest.mark.parametrize("capacity", [1, 3])
def test_concurrent_attempts_on_the_last_free_seat_exactly_one_wins(plan, capacity: int) -> None:
    sessions, _ = plan
    event_id, offered = _session(sessions)
    with db.transaction(sessions) as session:
        appointments.set_slot_rule(session, _territory_of(session, event_id), "social", 30, capacity)
    key = offered[0].key
    for _ in range(capacity - 1):
        appointments.book(sessions, event_id, key)
    barrier, results, lock = threading.Barrier(12), [], threading.Lock()

    def attempt() -> None:
        barrier.wait()
        try:
            outcome: object = appointments.book(sessions, event_id, key)
        except appointments.SlotFull as exc:
            outcome = exc
        except Exception as exc:  # anything else is a lost attempt: the test fails on it
            outcome = repr(exc)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 12
    won = [r for r in results if isinstance(r, appointments.Booking)]
    assert len(won) == 1 and all(isinstance(r, appointments.SlotFull) for r in results if r not in won), results
    with sessions() as session:
        seats = sorted(session.scalars(select(Appointment.seat).where(Appointment.status == "BOOKED")))
    assert seats == list(range(1, capacity + 1))


def test_the_provider_sees_bookings_on_her_page_and_counts_in_her_feed(plan) -> None:
    sessions, links = plan
    event_id, offered = _session(sessions)
    made = appointments.book(sessions, event_id, offered[0].key, email="habitant@example.fr")
    appointments.book(sessions, event_id, offered[1].key)
    with TestClient(create_app(sessions)) as client:
        page = client.get(f"/p/{links['assistante-sociale']}").text
        assert made.reference in page and "habitant@example.fr" in page and "/rdv/" in page
        feed = client.get(f"/p/{links['assistante-sociale']}/calendar.ics").content
        other = client.get(f"/p/{links['caf']}").text
    assert made.reference not in other and "habitant@example.fr" not in other
    assert b"habitant" not in feed and made.reference.encode() not in feed
    described = [str(e["description"]) for e in icalendar.Calendar.from_ical(feed).walk("VEVENT")]
    day = offered[0].day.strftime("%d/%m/%Y")
    assert sum(f"Rendez-vous réservés : {day} : 2." in d for d in described) == 1


def test_purge_deletes_appointments_after_the_retention_period(plan) -> None:
    sessions, _ = plan
    event_id, offered = _session(sessions)
    appointments.book(sessions, event_id, offered[0].key, phone="0612345678")
    day = offered[0].day
    with db.transaction(sessions) as session:
        assert appointments.purge(session, today=day + dt.timedelta(days=appointments.RETENTION_DAYS)) == 0
    with db.transaction(sessions) as session:
        assert appointments.purge(session, today=day + dt.timedelta(days=appointments.RETENTION_DAYS + 1)) == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_cli_purge_and_slots(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MAILLAGE_DATABASE_URL", database_url)
    runner = CliRunner()
    bus, rooms = run_folder(tmp_path / "bus", rooms=False), run_folder(tmp_path / "rooms", rounds=False)
    done = runner.invoke(cli_app, ["publish", str(bus), str(rooms), "--territory", "Lozère"])
    assert done.exit_code == 0, done.output
    assert " crew bus-mende" in done.output and " provider caf" in done.output
    twice = runner.invoke(cli_app, ["publish", str(bus), str(bus), "--territory", "Lozère"])
    assert twice.exit_code == 2 and "also in another folder" in twice.output
    slots = runner.invoke(cli_app, ["appointments", "slots", "--territory", "Lozère", "--service", "caf"])
    assert slots.exit_code == 0 and "30 min" in slots.output
    unknown = runner.invoke(cli_app, ["appointments", "slots", "--territory", "Nowhere", "--service", "caf"])
    assert unknown.exit_code == 2
    purged = runner.invoke(cli_app, ["appointments", "purge"])
    assert purged.exit_code == 0 and "0 rendez-vous supprimé(s)" in purged.output
