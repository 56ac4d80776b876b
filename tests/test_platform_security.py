"""The service's guards on both back-ends: booking and cancelling through the forms, signed per-form tokens
(missing, forged, for another form or another browser: 403), another site's origin refused, the booking
rate limit (429), one link opening nobody else's page, feed or appointments, injection and path attempts
in every parameter."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from planner.platform import db
from planner.platform.models import Appointment, EventRecord
from planner.platform.publish import publish, read_run
from planner.platform.service import create_app
from tests.platform_runs import run_folder

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SLOT = re.compile(r'name="slot" value="([^"]+)"')
CANCEL = re.compile(r'href="(/a/[A-Za-z0-9_-]{43})"')


@pytest.fixture
def served(database_url: str, tmp_path: Path):
    """The reference plan published; a client (no rate limit to speak of); links by ref; the ids of two
    providers' first sessions."""
    sessions = db.open_database(database_url)
    with db.transaction(sessions) as session:
        done = publish(session, read_run(run_folder(tmp_path / "v1")), by="test")
        links = {p.ref: link for p, link, _ in done.people}
        ids = {
            ref: session.scalars(
                select(EventRecord.id).where(EventRecord.uid.like(f"session-{ref}-%")).order_by(EventRecord.uid)
            ).first()
            for ref in ("assistante-sociale", "caf")
        }
    with TestClient(create_app(sessions, booking_limit=(1000, 60))) as client:
        yield sessions, client, links, ids
    sessions.kw["bind"].dispose()


def _form(client: TestClient, event_id: int) -> tuple[str, list[str]]:
    page = client.get(f"/rdv/s/{event_id}")
    assert page.status_code == 200, page.text
    token = CSRF.search(page.text)
    assert token is not None
    return token.group(1), SLOT.findall(page.text)


def _count(sessions) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Appointment)) or 0)


def test_book_then_cancel_through_the_forms(served) -> None:
    sessions, client, links, ids = served
    listing = client.get("/rdv/1")
    assert listing.status_code == 200 and f'href="/rdv/s/{ids["caf"]}"' in listing.text
    csrf, slots = _form(client, ids["assistante-sociale"])
    booked = client.post(f"/rdv/s/{ids['assistante-sociale']}", data={"slot": slots[0], "csrf": csrf, "phone": "0612"})
    assert booked.status_code == 400 and "téléphone" in booked.text and _count(sessions) == 0
    booked = client.post(f"/rdv/s/{ids['assistante-sociale']}", data={"slot": slots[0], "csrf": csrf})
    assert booked.status_code == 201 and "RDV-" in booked.text
    link = CANCEL.search(booked.text)
    assert link is not None
    again = client.post(f"/rdv/s/{ids['assistante-sociale']}", data={"slot": slots[0], "csrf": csrf})
    assert again.status_code == 409 and "complet" in again.text
    assert slots[0] not in SLOT.findall(client.get(f"/rdv/s/{ids['assistante-sociale']}").text)
    reference = re.search(r"RDV-[A-Z0-9]{4}-[A-Z0-9]{4}", booked.text)
    assert reference is not None
    assert reference.group(0) in client.get(f"/p/{links['assistante-sociale']}").text
    shown = client.get(link.group(1))
    assert shown.status_code == 200 and "Annuler" in shown.text
    cancel_csrf = CSRF.search(shown.text)
    assert cancel_csrf is not None
    done = client.post(f"{link.group(1)}/cancel", data={"csrf": cancel_csrf.group(1)})
    assert done.status_code == 200 and "est annulé" in done.text
    assert reference.group(0) not in client.get(f"/p/{links['assistante-sociale']}").text
    assert slots[0] in SLOT.findall(client.get(f"/rdv/s/{ids['assistante-sociale']}").text)


def test_missing_forged_and_misplaced_form_tokens_are_refused(served, database_url: str) -> None:
    sessions, client, _, ids = served
    mine, caf = ids["assistante-sociale"], ids["caf"]
    csrf, slots = _form(client, mine)
    other_csrf, _ = _form(client, caf)
    url = f"/rdv/s/{mine}"
    attempts = [
        {"slot": slots[0]},
        {"slot": slots[0], "csrf": ""},
        {"slot": slots[0], "csrf": "forged"},
        {"slot": slots[0], "csrf": csrf[:-2] + ("AA" if not csrf.endswith("AA") else "BB")},
        {"slot": slots[0], "csrf": other_csrf},  # another form's token
    ]
    for data in attempts:
        assert client.post(url, data=data).status_code == 403, data
    stranger = TestClient(client.app)  # another browser: no cookie, or its own
    assert stranger.post(url, data={"slot": slots[0], "csrf": csrf}).status_code == 403
    stranger.cookies.set("maillage_form", "attacker-cookie")
    assert stranger.post(url, data={"slot": slots[0], "csrf": csrf}).status_code == 403
    foreign = client.post(url, data={"slot": slots[0], "csrf": csrf}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    assert _count(sessions) == 0
    assert client.post(url, data={"slot": slots[0], "csrf": csrf}).status_code == 201


def test_booking_is_rate_limited_per_address(served) -> None:
    sessions, _, _, ids = served
    client = TestClient(create_app(sessions, booking_limit=(5, 60)))
    csrf, slots = _form(client, ids["caf"])
    codes = [client.post(f"/rdv/s/{ids['caf']}", data={"slot": s, "csrf": csrf}).status_code for s in slots[:7]]
    assert codes[:5] == [201] * 5 and codes[5:] == [429, 429]
    answer = client.post(f"/rdv/s/{ids['caf']}", data={"slot": slots[8], "csrf": csrf})
    assert answer.status_code == 429 and answer.headers["retry-after"] == "60"


def test_a_link_opens_nothing_of_anyone_else(served) -> None:
    sessions, client, links, ids = served
    csrf, slots = _form(client, ids["caf"])
    booked = client.post(f"/rdv/s/{ids['caf']}", data={"slot": slots[0], "csrf": csrf, "email": "x@example.fr"})
    reference = re.search(r"RDV-[A-Z0-9]{4}-[A-Z0-9]{4}", booked.text)
    link = CANCEL.search(booked.text)
    assert reference is not None and link is not None
    cancel_token = link.group(1).removeprefix("/a/")
    for ref, token in links.items():
        page, feed = client.get(f"/p/{token}"), client.get(f"/p/{token}/calendar.ics")
        assert page.status_code == 200 and feed.status_code == 200
        assert "x@example.fr" not in feed.text and reference.group(0) not in feed.text
        assert ("x@example.fr" in page.text) == (reference.group(0) in page.text) == (ref == "caf"), ref
        assert client.get(f"/a/{token}").status_code == 404  # a person's link is not an appointment's
    for path in (f"/p/{cancel_token}", f"/p/{cancel_token}/calendar.ics"):
        assert client.get(path).status_code == 404  # nor the other way round
    # another appointment's form token does not cancel this one
    _, more = _form(client, ids["assistante-sociale"])
    second = client.post(
        f"/rdv/s/{ids['assistante-sociale']}",
        data={"slot": more[0], "csrf": _form(client, ids["assistante-sociale"])[0]},
    )
    other_link = CANCEL.search(second.text)
    assert other_link is not None
    other_csrf = CSRF.search(client.get(other_link.group(1)).text)
    assert other_csrf is not None
    assert client.post(f"{link.group(1)}/cancel", data={"csrf": other_csrf.group(1)}).status_code == 403
    with sessions() as session:
        assert set(session.scalars(select(Appointment.status))) == {"BOOKED"}


HOSTILE = ["' OR '1'='1", "1 OR 1=1", "1; DROP TABLE appointments; --", "../../etc/passwd", "%00", "-1", "99999999999"]


def test_injection_and_path_attempts_in_every_parameter(served) -> None:
    sessions, client, _, ids = served
    event_id = ids["caf"]
    csrf, slots = _form(client, event_id)
    for value in HOSTILE:
        for path in (f"/rdv/{value}", f"/rdv/s/{value}", f"/a/{value}", f"/a/{value}/cancel", f"/p/{value}"):
            answer = client.get(path)
            assert answer.status_code in (400, 404, 405), (path, answer.status_code)
            assert "Traceback" not in answer.text and "caf" not in answer.text
        assert client.post(f"/rdv/s/{value}", data={"slot": slots[0], "csrf": csrf}).status_code in (400, 403, 404)
        assert client.post(f"/a/{value}/cancel", data={"csrf": csrf}).status_code in (400, 404)
        for field in ("slot", "phone", "email") if not value.isdigit() else ("slot", "email"):
            data = {"slot": slots[0], "csrf": csrf, field: value}
            answer = client.post(f"/rdv/s/{event_id}", data=data)
            assert answer.status_code == 400, (field, value, answer.status_code)
        assert client.post(f"/rdv/s/{event_id}", data={"slot": slots[0], "csrf": value}).status_code == 403
    too_long = client.post(f"/rdv/s/{event_id}", data={"slot": slots[0], "csrf": csrf, "phone": "1" * 5000})
    assert too_long.status_code == 400
    assert _count(sessions) == 0
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(EventRecord)) > 0  # nothing dropped
