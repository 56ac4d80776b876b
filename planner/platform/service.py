"""The small HTTP service of ``maillage serve``: each person's page and calendar feed by their link, and
residents' appointments.

``/p/{token}`` is the person's week (server-rendered, autoescaped, printable), with a provider's bookings;
``/p/{token}/calendar.ics`` their iCalendar feed (bookings as counts only). A token opens its own person's
data and nothing else: an unknown, malformed, revoked or expired token gets the same 404 as a wrong
address, so a guess learns nothing. ``/rdv/{territory}`` lists the sessions open to booking,
``/rdv/s/{session}`` their free slots and the booking form, ``/a/{token}`` a resident's appointment and its
cancellation (a link of its own). Forms carry a signed token bound to a cookie (``forms``), booking and
cancelling are rate-limited per address. Responses are not cached, send no referrer (tokens are in the
address) and load nothing from elsewhere.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from planner.platform import appointments, cache, db, forms, planners, tokens, unavailable_page
from planner.platform.feed import KIND_LABELS, person_calendar, person_week
from planner.platform.models import EventRecord, Person, Plan, Territory
from planner.platform.publish import latest_plan

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
}
NOT_FOUND = "Lien inconnu, expiré ou révoqué. Demandez un nouveau lien à votre planificateur."
GONE = "Adresse inconnue."
FORM_REFUSED = "Formulaire expiré ou invalide : rechargez la page et recommencez."
TOO_MANY = "Trop de demandes depuis votre adresse : réessayez dans une minute."
Field = Annotated[str, Form(max_length=200)]
Id = Annotated[int, PathParam(ge=1, le=2**31 - 1)]  # an integer column's range on every back-end


def _render(name: str, status: int = 200, cookie: str | None = None, **values: Any) -> HTMLResponse:
    answer = HTMLResponse(TEMPLATES.get_template(name).render(**values), status_code=status, headers=HEADERS)
    if cookie is not None:
        answer.set_cookie(forms.COOKIE, cookie, max_age=forms.MAX_AGE, httponly=True, samesite="strict")
    return answer


def create_app(
    sessions: sessionmaker[Session] | None = None, *, booking_limit: tuple[int, float] | None = None
) -> FastAPI:
    """The service on ``sessions`` (default: the migrated database of :func:`planner.platform.db.database_url`);
    ``booking_limit`` bookings and cancellations per address per seconds (default ``MAILLAGE_BOOKING_LIMIT``
    or 10 a minute)."""
    factory = sessions or db.open_database()
    key = forms.form_key(factory)
    signer = forms.Forms(key)
    limit = forms.RateLimit(*(booking_limit or forms.parse_limit(os.environ.get(forms.ENV_LIMIT))))
    app = FastAPI(title="Maillage", docs_url=None, redoc_url=None, openapi_url=None)

    def person(session: Session, token: str) -> Person:
        found = tokens.resolve(session, token)
        if found is None:
            raise StarletteHTTPException(404, NOT_FOUND)
        return found

    def browser(request: Request) -> tuple[str, str | None]:
        """The form cookie of this browser, and the value to set when it has none yet."""
        held = request.cookies.get(forms.COOKIE)
        if held and len(held) <= 100:
            return held, None
        made = secrets.token_urlsafe(16)
        return made, made

    def throttle(request: Request) -> None:
        """Refuse a post over the rate limit of its client address (429)."""
        if not limit.allow(request.client.host if request.client else "?"):
            raise StarletteHTTPException(429, TOO_MANY)

    def guard(request: Request, form: str, token: str) -> None:
        """Refuse a post from another site, or without this form's token for this browser (403)."""
        origin = request.headers.get("origin")
        # "null": what browsers send for a page served with Referrer-Policy: no-referrer; the token decides
        if origin not in (None, "null") and origin != f"{request.url.scheme}://{request.url.netloc}":
            raise StarletteHTTPException(403, FORM_REFUSED)
        if not signer.check(token, form, request.cookies.get(forms.COOKIE)):
            raise StarletteHTTPException(403, FORM_REFUSED)

    def form_token(request: Request, form: str) -> tuple[str, str | None]:
        """A token for ``form`` in this browser, and the form cookie to set when it has none yet."""
        cookie, new = browser(request)
        return signer.token(form, cookie), new

    planners.add_routes(app, factory, planners.Planners(key), _render, guard, throttle, form_token)
    unavailable_page.add_routes(app, factory, person, _render, guard, throttle, form_token)

    @app.exception_handler(StarletteHTTPException)
    async def plain_error(_request: Request, exc: StarletteHTTPException) -> Response:
        headers = {**HEADERS, "Retry-After": "60"} if exc.status_code == 429 else HEADERS
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, _exc: RequestValidationError) -> Response:
        return PlainTextResponse("Requête invalide.", status_code=400, headers=HEADERS)

    rendered = cache.Rendered()

    def week_page(session: Session, token: str, who: Person) -> bytes:
        week = person_week(session, who)
        repeat = max((e.every_weeks for _, day in week.days for e in day), default=1)
        booked = appointments.person_appointments(session, week.person, week.plan)
        sessions_by_uid = {e.uid: e for _, day in week.days for e in day}
        return bytes(
            _render(
                "week.html",
                week=week,
                label=KIND_LABELS.get(week.person.kind, ""),
                feed=f"/p/{token}/calendar.ics",
                repeat=repeat,
                booked=booked,
                sessions=sessions_by_uid,
                booking_page=f"/rdv/{week.person.territory_id}",
            ).body
        )

    # Page and feed are ``async``: on a cache hit they are a few short indexed queries, cheaper on the event
    # loop than a hop to the thread pool (1.2 against 1.55 ms of server CPU a request, bench/RESULTS.md).
    @app.get("/p/{token}", response_class=HTMLResponse)
    async def page(token: str) -> Response:
        with factory() as session:
            who = person(session, token)
            key = ("page", tokens.digest(token), *cache.state(session, who))
            body = rendered.get(key, lambda: week_page(session, token, who))
        return HTMLResponse(body, headers=HEADERS)

    @app.get("/p/{token}/calendar.ics")
    async def feed(token: str) -> Response:
        with factory() as session:
            who = person(session, token)
            key = ("feed", who.id, *cache.state(session, who))
            body = rendered.get(key, lambda: person_calendar(session, who))
        return Response(body, media_type="text/calendar; charset=utf-8", headers=HEADERS)

    @app.get("/rdv/{territory_id}", response_class=HTMLResponse)
    def territory_sessions(territory_id: Id) -> Response:
        with factory() as session:
            place = session.get(Territory, territory_id)
            plan = latest_plan(session, place) if place is not None else None
            if place is None or plan is None:
                raise StarletteHTTPException(404, GONE)
            found = session.scalars(
                select(EventRecord)
                .where(EventRecord.plan_id == plan.id, EventRecord.kind == "session", EventRecord.status == "CONFIRMED")
                .order_by(EventRecord.day, EventRecord.start, EventRecord.uid)
            )
            return _render("sessions.html", territory=place, plan=plan, events=list(found))

    def session_event(session: Session, event_id: int) -> tuple[EventRecord, Plan]:
        try:
            return appointments.bookable_event(session, event_id)
        except appointments.BookingError:
            raise StarletteHTTPException(404, GONE) from None

    def slots_page(request: Request, event_id: int, status: int = 200, error: str | None = None) -> Response:
        cookie, new = browser(request)
        with factory() as session:
            event, plan = session_event(session, event_id)
            offered = appointments.slots(session, event, plan)
            days: dict[Any, list[appointments.Slot]] = {}
            for slot in offered:
                days.setdefault(slot.day, []).append(slot)
            return _render(
                "slots.html",
                status,
                new,
                event=event,
                days=days,
                error=error,
                retention=appointments.RETENTION_DAYS,
                csrf=signer.token(f"book:{event_id}", cookie),
            )

    @app.get("/rdv/s/{event_id}", response_class=HTMLResponse)
    def session_slots(request: Request, event_id: Id) -> Response:
        return slots_page(request, event_id)

    @app.post("/rdv/s/{event_id}", response_class=HTMLResponse)
    def book(
        request: Request, event_id: Id, slot: Field = "", phone: Field = "", email: Field = "", csrf: Field = ""
    ) -> Response:
        throttle(request)
        guard(request, f"book:{event_id}", csrf)
        try:
            made = appointments.book(factory, event_id, slot, phone=phone, email=email)
        except appointments.SlotFull as exc:
            return slots_page(request, event_id, 409, str(exc))
        except appointments.BookingError as exc:
            with factory() as session:
                session_event(session, event_id)  # 404 when the session is gone
            return slots_page(request, event_id, 400, str(exc))
        return _render("booked.html", 201, booking=made, link=f"/a/{made.cancel_token}")

    def appointment_page(request: Request, token: str, status: int = 200, done: bool = False) -> Response:
        cookie, new = browser(request)
        with factory() as session:
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
            return _render(
                "appointment.html",
                status,
                new,
                item=found,
                event=event,
                done=done,
                csrf=signer.token(f"cancel:{found.reference}", cookie),
                action=f"/a/{token}/cancel",
            )

    @app.get("/a/{token}", response_class=HTMLResponse)
    def appointment(request: Request, token: str) -> Response:
        return appointment_page(request, token)

    @app.post("/a/{token}/cancel", response_class=HTMLResponse)
    def cancel(request: Request, token: str, csrf: Field = "") -> Response:
        throttle(request)
        with factory() as session:
            found = appointments.by_cancel_token(session, token)
            if found is None:
                raise StarletteHTTPException(404, NOT_FOUND)
            reference = found.reference
        guard(request, f"cancel:{reference}", csrf)
        with db.transaction(factory) as session:
            found = appointments.by_cancel_token(session, token)
            if found is not None:
                appointments.cancel(session, found)
        return appointment_page(request, token, done=True)

    @app.get("/health")
    def health() -> Response:
        return JSONResponse({"status": "ok"}, headers=HEADERS)

    return app


def serve(port: int, address: str, workers: int = 1) -> None:
    """Delete appointments past their retention period, then run the service with uvicorn on
    ``address:port`` until interrupted, in ``workers`` processes (each with its own cache and rate limit)."""
    import uvicorn

    sessions = db.open_database()
    with db.transaction(sessions) as session:
        appointments.purge(session)
    options: dict[str, Any] = {"host": address, "port": port, "log_level": "warning", "server_header": False}
    if workers > 1:
        uvicorn.run("planner.platform.service:create_app", factory=True, workers=workers, **options)
    else:
        uvicorn.run(create_app(sessions), **options)
