"""The rendered pages and feeds cache, on both back-ends: a booking, a cancellation and a new version show at
once; a revoked link opens nothing even when its page was cached; the LRU stays bounded."""

from __future__ import annotations

from pathlib import Path

import icalendar
from fastapi.testclient import TestClient
from sqlalchemy import select

from planner.platform import appointments, db, tokens
from planner.platform.cache import Rendered
from planner.platform.models import EventRecord, Person
from planner.platform.publish import publish, read_run
from planner.platform.service import create_app
from tests.platform_runs import run_folder


def _described(client: TestClient, link: str) -> str:
    feed = icalendar.Calendar.from_ical(client.get(f"/p/{link}/calendar.ics").content)
    return " ".join(str(e.get("DESCRIPTION")) for e in feed.walk("VEVENT"))


def test_what_changes_shows_at_once(database_url: str, tmp_path: Path) -> None:
    sessions = db.open_database(database_url)
    with db.transaction(sessions) as session:
        done = publish(session, read_run(run_folder(tmp_path / "v1")), by="test")
        link = next(token for p, token, _ in done.people if p.ref == "assistante-sociale")
    with TestClient(create_app(sessions)) as client:
        assert "Rendez-vous réservés" not in _described(client, link)
        page = client.get(f"/p/{link}").text
        with sessions() as session:
            event = session.scalars(
                select(EventRecord).where(EventRecord.uid.like("session-assistante-sociale-%")).order_by(EventRecord.id)
            ).first()
            found, plan = appointments.bookable_event(session, event.id)
            slot = appointments.slots(session, found, plan)[0]
        made = appointments.book(sessions, event.id, slot.key)
        assert "Rendez-vous réservés" in _described(client, link) and made.reference in client.get(f"/p/{link}").text
        with db.transaction(sessions) as session:
            appointments.cancel(session, appointments.by_cancel_token(session, made.cancel_token))
        assert "Rendez-vous réservés" not in _described(client, link) and client.get(f"/p/{link}").text == page
        with db.transaction(sessions) as session:
            publish(session, read_run(run_folder(tmp_path / "v2")), by="test")
        assert "version 2" in client.get(f"/p/{link}").text
        with db.transaction(sessions) as session:
            tokens.revoke(session, session.scalars(select(Person).where(Person.ref == "assistante-sociale")).one())
        assert client.get(f"/p/{link}").status_code == 404
        assert client.get(f"/p/{link}/calendar.ics").status_code == 404
    sessions.kw["bind"].dispose()


def test_the_cache_is_bounded() -> None:
    kept = Rendered(size=3)
    made: list[int] = []
    for key in [1, 2, 3, 1, 4, 2]:
        kept.get(key, lambda key=key: made.append(key) or str(key).encode())
    assert made == [1, 2, 3, 4, 2]  # 1 was kept (used again before 4 came), 2 had fallen out
