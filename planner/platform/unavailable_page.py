"""A person's own declaration, by their link: a provider's or crew's day off, a premises owner's room withdrawn.

``/p/{token}/indisponible`` shows the form (a per-form token bound to the browser's cookie, so it is never
cached with the week) and records the declaration for the planners, who re-plan (``maillage replan`` or
their page). The declaration is audited under the person's kind and reference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from planner._errors import InputError
from planner.platform import db
from planner.platform.models import Person
from planner.platform.replan import declare, pending

Field = Annotated[str, Form(max_length=200)]
Render = Callable[..., HTMLResponse]


def add_routes(
    app: FastAPI,
    factory: sessionmaker[Session],
    person: Callable[[Session, str], Person],
    render: Render,
    guard: Callable[[Request, str, str], None],
    throttle: Callable[[Request], None],
    csrf: Callable[[Request, str], tuple[str, str | None]],
) -> None:
    """The declaration form of each person's link on ``app``."""

    def form(request: Request, token: str, status: int = 200, message: str | None = None) -> Response:
        with factory() as session:
            who = person(session, token)
            mine = [u for u in pending(session, who.territory) if u.person_id == who.id]
            value, new = csrf(request, f"unavailable:{who.id}")
            return render(
                "unavailable.html", status, new, who=who, pending=mine, csrf=value, message=message, code=status
            )

    @app.get("/p/{token}/indisponible", response_class=HTMLResponse)
    def unavailable_form(request: Request, token: str) -> Response:
        return form(request, token)

    @app.post("/p/{token}/indisponible", response_class=HTMLResponse)
    def unavailable(request: Request, token: str, day: Field = "", reason: Field = "", csrf: Field = "") -> Response:
        throttle(request)
        with factory() as session:
            who_id = person(session, token).id
        guard(request, f"unavailable:{who_id}", csrf)
        try:
            when = dt.date.fromisoformat(day) if day else None
        except ValueError:
            return form(request, token, 400, f"Date non reconnue : {day!r} (AAAA-MM-JJ).")
        with db.transaction(factory) as session:
            who = person(session, token)
            try:
                declare(session, who, when, by=f"{who.kind}:{who.ref}", reason=reason)
            except InputError as exc:
                return form(request, token, 400, exc.problems[0].problem)
        return form(request, token, message="Indisponibilité transmise à vos planificateurs.")
