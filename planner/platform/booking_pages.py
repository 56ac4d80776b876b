"""Residents' appointments: ``/rdv/{territory}`` lists the sessions open to booking, ``/rdv/s/{session}``
their free slots and the booking form, ``/a/{token}`` a resident's appointment and its cancellation (a link
of its own). Booking and cancelling are rate-limited per address and carry per-form tokens.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from planner.i18n import label
from planner.platform import appointments, db
from planner.platform.models import EventRecord, Plan, Territory
from planner.platform.publish import latest_plan
from planner.platform.web import (
    GONE,
    NOT_FOUND,
    Field,
    Id,
    Shared,
    Web,
    keep_lang,
    other_lang,
    page_lang,
    render,
    words,
)

router = APIRouter()


@router.get("/rdv/{territory_id}", response_class=HTMLResponse)
def territory_sessions(request: Request, territory_id: Id, web: Shared) -> Response:
    """The sessions of a territory's newest version open to booking, in French or English (``?lang=``, else
    the browser's choice; every link keeps the language)."""
    lang = page_lang(request)
    with web.sessions() as session:
        place = session.get(Territory, territory_id)
        plan = latest_plan(session, place) if place is not None else None
        if place is None or plan is None:
            raise StarletteHTTPException(404, GONE)
        found = session.scalars(
            select(EventRecord)
            .where(EventRecord.plan_id == plan.id, EventRecord.kind == "session", EventRecord.status == "CONFIRMED")
            .order_by(EventRecord.day, EventRecord.start, EventRecord.uid)
        )
        return render(
            "sessions.html",
            territory=place,
            plan=plan,
            events=list(found),
            switch=f"/rdv/{territory_id}?lang={other_lang(lang)}",
            **words(lang, keep_lang(request)),
        )


def _session_event(session: Session, event_id: int) -> tuple[EventRecord, Plan]:
    try:
        return appointments.bookable_event(session, event_id)
    except appointments.BookingError:
        raise StarletteHTTPException(404, GONE) from None


def _slots_page(web: Web, request: Request, event_id: int, status: int = 200, error: str | None = None) -> Response:
    lang = page_lang(request)
    cookie, new = web.browser(request)
    with web.sessions() as session:
        event, plan = _session_event(session, event_id)
        days: dict[Any, list[appointments.Slot]] = {}
        for slot in appointments.slots(session, event, plan):
            days.setdefault(slot.day, []).append(slot)
        return render(
            "slots.html",
            status,
            new,
            event=event,
            days=days,
            error=label(error, lang) if error else None,
            retention=appointments.RETENTION_DAYS,
            csrf=web.signer.token(f"book:{event_id}", cookie),
            switch=f"/rdv/s/{event_id}?lang={other_lang(lang)}",
            **words(lang, keep_lang(request)),
        )


@router.get("/rdv/s/{event_id}", response_class=HTMLResponse)
def session_slots(request: Request, event_id: Id, web: Shared) -> Response:
    """A session's free slots and the booking form."""
    return _slots_page(web, request, event_id)


@router.post("/rdv/s/{event_id}", response_class=HTMLResponse)
def book(
    request: Request,
    event_id: Id,
    web: Shared,
    slot: Field = "",
    phone: Field = "",
    email: Field = "",
    csrf: Field = "",
) -> Response:
    """Book a slot: 201 with the cancellation link, 409 when it was taken meanwhile."""
    web.throttle(request)
    web.guard(request, f"book:{event_id}", csrf)
    try:
        made = appointments.book(web.sessions, event_id, slot, phone=phone, email=email)
    except appointments.SlotFull as exc:
        return _slots_page(web, request, event_id, 409, str(exc))
    except appointments.BookingError as exc:
        with web.sessions() as session:
            _session_event(session, event_id)  # 404 when the session is gone
        return _slots_page(web, request, event_id, 400, str(exc))
    lang, keep = page_lang(request), keep_lang(request)
    return render("booked.html", 201, booking=made, link=f"/a/{made.cancel_token}{keep}", **words(lang, keep))


def _appointment_page(web: Web, request: Request, token: str, status: int = 200, done: bool = False) -> Response:
    lang = page_lang(request)
    cookie, new = web.browser(request)
    with web.sessions() as session:
        found = appointments.by_cancel_token(session, token)
        if found is None:
            raise StarletteHTTPException(404, NOT_FOUND)
        place = session.get(Territory, found.territory_id)
        plan = latest_plan(session, place) if place is not None else None
        event = (
            session.scalar(
                select(EventRecord).where(EventRecord.plan_id == plan.id, EventRecord.uid == found.event_uid)
            )
            if plan is not None
            else None
        )
        return render(
            "appointment.html",
            status,
            new,
            item=found,
            event=event,
            notice=appointments.notice_text(found.notice, lang),
            done=done,
            csrf=web.signer.token(f"cancel:{found.reference}", cookie),
            action=f"/a/{token}/cancel{keep_lang(request)}",
            switch=f"/a/{token}?lang={other_lang(lang)}",
            **words(lang, keep_lang(request)),
        )


@router.get("/a/{token}", response_class=HTMLResponse)
def appointment(request: Request, token: str, web: Shared) -> Response:
    """A resident's appointment, by its own link, in French or English (``?lang=``, else the browser's)."""
    return _appointment_page(web, request, token)


@router.post("/a/{token}/cancel", response_class=HTMLResponse)
def cancel(request: Request, token: str, web: Shared, csrf: Field = "") -> Response:
    """Cancel an appointment by its link."""
    web.throttle(request)
    with web.sessions() as session:
        found = appointments.by_cancel_token(session, token)
        if found is None:
            raise StarletteHTTPException(404, NOT_FOUND)
        reference = found.reference
    web.guard(request, f"cancel:{reference}", csrf)
    with db.transaction(web.sessions) as session:
        found = appointments.by_cancel_token(session, token)
        if found is not None:
            appointments.cancel(session, found)
    return _appointment_page(web, request, token, done=True)
