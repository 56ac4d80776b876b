"""The HTTP service with FastAPI's TestClient, on both back-ends: a person's page and feed by their link,
other people's data and bad links refused, injection attempts refused, the feed after a republication."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import icalendar
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from planner.platform import db, tokens
from planner.platform.models import AccessToken, Person
from planner.platform.publish import publish, read_run
from planner.platform.service import create_app
from tests.platform_runs import bookings, run_folder, visits


@pytest.fixture
def published(database_url: str, tmp_path: Path):
    """A database with the reference Lozère plan published once, a client, and each person's link by ref."""
    sessions = db.open_database(database_url)
    with db.transaction(sessions) as session:
        done = publish(session, read_run(run_folder(tmp_path / "v1")), by="test")
        links = {p.ref: link for p, link, _ in done.people}
    with TestClient(create_app(sessions)) as client:
        yield sessions, client, links
    sessions.kw["bind"].dispose()


def _calendar(client: TestClient, token: str) -> icalendar.Calendar:
    answer = client.get(f"/p/{token}/calendar.ics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(answer.content)


def _events(calendar: icalendar.Calendar) -> dict[str, Any]:
    """The feed's events by uid; their properties are read as the values the tests expect (Any)."""
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def test_a_person_sees_their_own_week_and_only_it(published) -> None:
    _, client, links = published
    page = client.get(f"/p/{links['bus-mende']}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    text = page.text
    mine = [r for r in visits() if r["vehicle_id"] == "bus-mende"]
    assert "Équipage bus-mende" in text and "version 1" in text
    assert all(r["name"].replace("'", "&#39;") in text for r in mine)
    assert "Mairie de Chauchailles" not in text  # a stop of the other bus only
    provider = bookings()[0]
    other = client.get(f"/p/{links[provider['provider_id']]}")
    assert other.status_code == 200 and provider["premises"].replace("'", "&#39;") in other.text
    assert "bus-mende" not in other.text


def test_the_feed_parses_with_stable_uids_and_publication_stamp(published) -> None:
    _, client, links = published
    calendar = _calendar(client, links["bus-mende"])
    assert str(calendar["method"]) == "PUBLISH"
    events = _events(calendar)
    assert len(events) == sum(r["vehicle_id"] == "bus-mende" for r in visits())
    assert all(e["uid"].startswith("stop-bus-mende-") for e in events.values())
    assert {int(e["sequence"]) for e in events.values()} == {0}
    assert {str(e["status"]) for e in events.values()} == {"CONFIRMED"}
    assert all(e["rrule"]["INTERVAL"] == [2] for e in events.values())
    stamps = {e["dtstamp"].dt for e in events.values()}
    assert len(stamps) == 1 and abs(stamps.pop() - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)


BAD_PATHS = [
    "/p/",
    "/p/nothing",
    "/p/' OR '1'='1",
    "/p/%27%20OR%201=1--",
    "/p/..%2F..%2Fetc%2Fpasswd",
    "/p/../../etc/passwd",
    "/p/" + "A" * 43,
    "/p/" + "A" * 43 + "/calendar.ics",
    "/p/%00",
    "/docs",
    "/openapi.json",
]


def test_bad_links_and_injection_attempts_are_refused(published) -> None:
    _, client, links = published
    good = links["bus-mende"]
    for path in [*BAD_PATHS, f"/p/{good}'--", f"/p/{good}%27%20OR%201=1", f"/p/{good[:-1]}", f"/p/{good}/../x"]:
        answer = client.get(path)
        assert answer.status_code in (404, 405), path
        assert "bus-" not in answer.text, path


def test_revoked_and_expired_links_are_refused_and_others_still_work(published) -> None:
    sessions, client, links = published
    with db.transaction(sessions) as session:
        tokens.revoke(session, session.scalars(select(Person).where(Person.ref == "bus-mende")).one())
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session.execute(
            update(AccessToken)
            .where(AccessToken.token_sha256 == tokens.digest(links["bus-marvejols"]))
            .values(expires_at=past)
        )
    for ref in ("bus-mende", "bus-marvejols"):
        assert client.get(f"/p/{links[ref]}").status_code == 404
        assert client.get(f"/p/{links[ref]}/calendar.ics").status_code == 404
    provider = bookings()[0]["provider_id"]
    assert client.get(f"/p/{links[provider]}").status_code == 200


def test_a_republication_bumps_sequence_and_cancels_removed_events(published, tmp_path: Path) -> None:
    sessions, client, links = published
    before = _events(_calendar(client, links["bus-mende"]))

    def edit(rows):
        mende = [i for i, r in enumerate(rows) if r["vehicle_id"] == "bus-mende"]
        rows[mende[0]] = {**rows[mende[0]], "start": "10:50", "end": "13:20"}
        del rows[mende[-1]]
        return rows

    with db.transaction(sessions) as session:
        publish(session, read_run(run_folder(tmp_path / "v2", edit_visits=edit)), by="test")
    calendar = _calendar(client, links["bus-mende"])  # the same link, the new version
    after = _events(calendar)
    assert set(after) == set(before)
    changed = {uid: e for uid, e in after.items() if int(e["sequence"]) > 0}
    assert len(changed) == 2
    statuses = sorted(str(e["status"]) for e in changed.values())
    assert statuses == ["CANCELLED", "CONFIRMED"]
    moved = next(e for e in changed.values() if str(e["status"]) == "CONFIRMED")
    assert moved["dtstart"].dt.strftime("%H:%M") == "10:50" and int(moved["sequence"]) == 1
    page = client.get(f"/p/{links['bus-mende']}").text
    assert "version 2" in page and "Annulés" in page
    other = _events(_calendar(client, links["bus-marvejols"]))
    assert {int(e["sequence"]) for e in other.values()} == {0}


def test_user_text_is_escaped_in_the_page(database_url: str, tmp_path: Path) -> None:
    sessions = db.open_database(database_url)

    def evil(rows):
        return [{**r, "name": "<script>alert(1)</script>"} for r in rows]

    with db.transaction(sessions) as session:
        done = publish(session, read_run(run_folder(tmp_path / "run", rooms=False, edit_visits=evil)), by="t")
        link = next(link for p, link, _ in done.people if p.ref == "bus-mende")
    with TestClient(create_app(sessions)) as client:
        text = client.get(f"/p/{link}").text
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    sessions.kw["bind"].dispose()
