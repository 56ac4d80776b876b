"""The persons' and residents' pages speak one language, on both back-ends: a provider's, a crew's and a
premises owner's week, their declaration form, the booking pages, the booked page, the appointment page and
its cancellation, and the HTTP errors, in French by default and in English with ``?lang=en`` or a browser
asking for English; no label of the other language leaks, dates are written by locale, links keep the
language asked for."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from planner.i18n import LABELS, label
from planner.platform import appointments, db, replan
from planner.platform.models import Appointment, EventRecord, Person, Unavailability
from planner.platform.publish import publish, read_run
from planner.platform.service import create_app
from tests.platform_runs import run_folder

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SLOT = re.compile(r'name="slot" value="([^"]+)"')
CANCEL = re.compile(r'href="(/a/[A-Za-z0-9_-]{43})[^"]*"')
TAG = re.compile(r"<style>.*?</style>|<[^>]+>", re.DOTALL)
PREFIXES = ("person_", "booking_", "http_", "appointment_", "occurrence_", "planner_kind_")
SHARED_KEYS = (
    "hours",
    "download_ics",
    "planner_room_withdrawn",
    "planner_bad_date",
    "planner_until",
    "msg_outside_plan",
)


def _fragments(lang: str) -> set[str]:
    """The words of these pages in ``lang``: each of their labels cut at its placeholders."""
    keys = [k for k in LABELS[lang] if k.startswith(PREFIXES) or k in SHARED_KEYS]
    pieces = {p.strip(" .;:·—()") for k in keys for p in re.split(r"\{[^}]*\}", LABELS[lang][k])}
    return {p for p in pieces if len(p) >= 4}


def _text(page: str) -> str:
    """What a page shows: its text without tags and style, entities decoded (the switch link to the other
    language apart)."""
    page = page.replace(LABELS["fr"]["language_other"], "").replace(LABELS["en"]["language_other"], "")
    return html.unescape(TAG.sub(" ", page))


@pytest.fixture
def pages(database_url: str, tmp_path: Path):
    """The reference Lozère plan published; a crew's date off re-planned (its stops that date cancelled); the
    client, the sessions and everyone's links."""
    sessions = db.open_database(database_url)
    with db.transaction(sessions) as session:
        done = publish(session, read_run(run_folder(tmp_path / "v1")), by="test")
        links = {p.ref: link for p, link, _ in done.people}
        crew = session.scalars(select(Person).where(Person.ref == "bus-mende")).one()
        replan.declare(session, crew, dt.date(2027, 1, 7), by="planner")
    with db.transaction(sessions) as session:
        replan.replan(session, "Lozère", out=tmp_path / "replan", by="planner")
    with TestClient(create_app(sessions, booking_limit=(1000, 60))) as client:
        yield client, sessions, links
    sessions.kw["bind"].dispose()


def _visit(client: TestClient, sessions, links: dict[str, str], query: str, headers: dict[str, str]) -> list[str]:
    """Every page of a person and a resident, in the language ``query`` or ``headers`` ask for: their text."""
    shown = []

    def get(url: str, status: int = 200) -> str:
        page = client.get(f"{url}{query}", headers=headers)
        assert page.status_code == status, (url, page.text)
        shown.append(_text(page.text))
        return page.text

    def post(url: str, data: dict[str, str], status: int) -> str:
        page = client.post(f"{url}{query}", data=data, headers=headers)
        assert page.status_code == status, (url, page.text)
        shown.append(_text(page.text))
        return page.text

    with sessions() as session:
        event = session.scalars(
            select(EventRecord)
            .where(EventRecord.uid.like("session-assistante-sociale-%"))
            .order_by(EventRecord.id.desc())
        ).first()
        assert event is not None
        event_id = event.id
    listing = get("/rdv/1")
    assert f'href="/rdv/s/{event_id}{query}"' in listing  # the list's links keep the language asked for
    form = get(f"/rdv/s/{event_id}")
    csrf, slot = CSRF.search(form).group(1), SLOT.findall(form)[0]  # type: ignore[union-attr]
    post(f"/rdv/s/{event_id}", {"slot": slot, "csrf": csrf, "phone": "0612"}, 400)
    booked = post(f"/rdv/s/{event_id}", {"slot": slot, "csrf": csrf, "email": "a@example.org"}, 201)
    link = CANCEL.search(booked)
    assert link is not None and f"{link.group(1)}{query}" in booked
    with db.transaction(sessions) as session:  # as a re-planning leaves it: a notice, in the reader's language
        item = session.scalars(select(Appointment).where(Appointment.status == "BOOKED")).one()
        item.notice = appointments.notice("appointment_moved", date="2027-01-08", start="14:00", place="Florac")
    page = get(link.group(1))
    csrf = CSRF.search(page).group(1)  # type: ignore[union-attr]
    post(f"{link.group(1)}/cancel", {"csrf": csrf}, 200)
    for ref in ("assistante-sociale", "bus-mende", "mairie-48061"):
        week = get(f"/p/{links[ref]}")
        assert f'href="/p/{links[ref]}/indisponible{query}"' in week
        get(f"/p/{links[ref]}/indisponible")
    form = get(f"/p/{links['assistante-sociale']}/indisponible")
    csrf = CSRF.search(form).group(1)  # type: ignore[union-attr]
    post(f"/p/{links['assistante-sociale']}/indisponible", {"day": "2031-01-07", "csrf": csrf}, 400)
    post(f"/p/{links['assistante-sociale']}/indisponible", {"day": "7/1", "csrf": csrf}, 400)
    post(f"/p/{links['assistante-sociale']}/indisponible", {"day": "2027-01-12", "until": "13/1", "csrf": csrf}, 400)
    ranged = post(
        f"/p/{links['assistante-sociale']}/indisponible",
        {"day": "2027-01-12", "until": "2027-01-13", "csrf": csrf},
        200,
    )
    with sessions() as session:
        days = sorted(
            u.day for u in session.scalars(select(Unavailability).where(Unavailability.replanned_in.is_(None)))
        )
    assert days == [dt.date(2027, 1, 12), dt.date(2027, 1, 13)] and "13/01/2027" in ranged
    get("/p/" + "x" * 43, 404)
    with db.transaction(sessions) as session:  # leave nothing pending for the next language's visit
        for declared in session.scalars(select(Unavailability).where(Unavailability.replanned_in.is_(None))):
            session.delete(declared)
    return shown


@pytest.mark.parametrize(
    ("lang", "other", "query", "headers"),
    [
        ("en", "fr", "?lang=en", {}),
        ("en", "fr", "", {"Accept-Language": "de-DE, en-GB;q=0.8, fr;q=0.5"}),
        ("fr", "en", "", {}),
        ("fr", "en", "?lang=fr", {"Accept-Language": "en-US"}),
    ],
)
def test_persons_and_residents_pages_speak_one_language(pages, lang: str, other: str, query: str, headers) -> None:
    client, sessions, links = pages
    texts = _visit(client, sessions, links, query, headers)
    shown = " ".join(texts)
    for key, values in (
        ("booking_sessions_heading", {"territory": "Lozère"}),
        ("booking_error_phone", {}),
        ("booking_booked", {}),
        ("booking_cancelled", {}),
        ("person_bookings", {}),
        ("person_dates", {}),
        ("person_date_cancelled", {}),
        ("person_declare_link", {}),
        ("person_withdraw_link", {}),
        ("person_room_withdrawn_intro", {}),
        ("planner_bad_date", {"day": "'7/1'"}),
        ("planner_bad_date", {"day": "'13/1'"}),
        ("person_declared", {}),
        ("msg_outside_plan", {"first": "2027-01-04", "last": "2027-07-05"}),  # to her feed's end: 26 weeks
        ("http_not_found", {}),
    ):
        assert label(key, lang, **values) in shown, key
    notice = label("appointment_moved", lang, date="x", start="14:00", place="Florac").split("x")[0]
    assert notice in shown
    tuesday = {"fr": "mardi 05/01/2027", "en": "Tuesday 05/01/2027"}[lang]
    assert tuesday in shown and {"fr": "jeudi 07/01/2027", "en": "Thursday 07/01/2027"}[lang] in shown
    leaks = sorted(p for p in _fragments(other) - _fragments(lang) if re.search(rf"\b{re.escape(p)}\b", shown))
    assert not leaks, leaks


def test_a_bad_language_is_refused(pages) -> None:
    client, _, links = pages
    for bad in ("de", "<script>", "en' OR '1'='1"):
        for url in (f"/p/{links['bus-mende']}", "/rdv/1", f"/p/{links['bus-mende']}/indisponible"):
            answer = client.get(url, params={"lang": bad})
            assert answer.status_code == 400 and answer.text == LABELS["fr"]["http_bad_request"], (url, bad)
    assert client.get("/rdv/1?lang=en&lang=fr").status_code == 400
    week = f"/p/{links['bus-mende']}"  # one page, kept rendered per language
    assert "Thursday 07/01/2027" in client.get(week, headers={"Accept-Language": "en"}).text
    assert "jeudi 07/01/2027" in client.get(week).text
    assert "Thursday 07/01/2027" in client.get(week, headers={"Accept-Language": "en-US,en;q=0.9"}).text
