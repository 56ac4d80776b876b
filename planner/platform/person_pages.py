"""A person's own link: ``/p/{token}`` their week (server-rendered, autoescaped, printable) with a provider's
bookings, ``/p/{token}/calendar.ics`` their iCalendar feed (bookings as counts only).

A token opens its own person's data and nothing else: an unknown, malformed, revoked or expired token gets
the same 404 as a wrong address, so a guess learns nothing. Both are kept rendered per what they show
(:mod:`planner.platform.cache`): on a hit a request is one query, run on the event loop (``async``), cheaper
than a hop to the thread pool, and these two routes read the shared state from ``request.app.state``
rather than through ``Depends`` (0.04 ms of CPU less a request, a quarter of their cost: ``bench/RESULTS.md``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from planner.platform import appointments, cache, tokens
from planner.platform.feed import person_calendar, person_week
from planner.platform.models import Person
from planner.platform.web import HEADERS, NOT_FOUND, Web, keep_lang, other_lang, page_lang, render, state, words

router = APIRouter()


def person(session: Session, token: str) -> Person:
    """The person ``token`` opens, else a 404 that says nothing of why."""
    found = tokens.resolve(session, token)
    if found is None:
        raise StarletteHTTPException(404, NOT_FOUND)
    return found


def _holder(web: Web, token: str) -> cache.Holder:
    with web.sessions.kw["bind"].connect() as connection:
        found = cache.holder(connection, token)
    if found is None:
        raise StarletteHTTPException(404, NOT_FOUND)
    return found


def _by_id(session: Session, person_id: int) -> Person:
    found = session.get(Person, person_id)
    if found is None:  # deleted since its link was checked
        raise StarletteHTTPException(404, NOT_FOUND)
    return found


def _week_page(web: Web, token: str, person_id: int, lang: str, keep: str) -> bytes:
    with web.sessions() as session:
        week = person_week(session, _by_id(session, person_id))
        repeat = max((e.every_weeks for _, day in week.days for e in day), default=1)
        booked = appointments.person_appointments(session, week.person, week.plan)
        sessions_by_uid = {e.uid: e for _, day in week.days for e in day}
        return bytes(
            render(
                "week.html",
                week=week,
                here=f"/p/{token}",
                other=other_lang(lang),
                feed=f"/p/{token}/calendar.ics",
                repeat=repeat,
                booked=booked,
                sessions=sessions_by_uid,
                booking_page=f"/rdv/{week.person.territory_id}",
                **words(lang, keep),
            ).body
        )


def _feed(web: Web, person_id: int) -> bytes:
    with web.sessions() as session:
        return person_calendar(session, _by_id(session, person_id))


@router.get("/p/{token}", response_class=HTMLResponse)
async def page(token: str, request: Request) -> Response:
    """The person's week, in French or English (``?lang=``, else the browser's choice)."""
    web = state(request)
    lang, keep = page_lang(request), keep_lang(request)
    found = _holder(web, token)
    key = ("page", tokens.digest(token), found.person_id, lang, keep, *found.state)
    body = web.rendered.get(key, lambda: _week_page(web, token, found.person_id, lang, keep))
    return HTMLResponse(body, headers=HEADERS)


@router.get("/p/{token}/calendar.ics")
async def feed(token: str, request: Request) -> Response:
    """The person's calendar subscription."""
    web = state(request)
    found = _holder(web, token)
    key = ("feed", found.person_id, *found.state)
    body = web.rendered.get(key, lambda: _feed(web, found.person_id))
    return Response(body, media_type="text/calendar; charset=utf-8", headers=HEADERS)
