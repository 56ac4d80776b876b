"""Planners' sign-in and their pages in ``maillage serve``: only a signed-in planner sees a territory's people,
marks someone unavailable and re-plans.

A planner is a person of kind ``planner`` with an Argon2id password hash (``maillage planners add``). Signing
in sets a cookie signed with the service's key (itsdangerous) holding the planner's id and a fingerprint of
their hash, valid :data:`SESSION_SECONDS`: changing the password signs every browser out. Planner pages
without that cookie redirect to the sign-in form (303); their posts are refused (403) and carry the same
per-form tokens as the residents' forms; sign-in attempts share the per-address rate limit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from planner._errors import InfeasibleError, InputError
from planner.platform import db, tokens
from planner.platform.models import AuditEntry, Person, Territory
from planner.platform.publish import latest_plan
from planner.platform.replan import declare, pending, replan
from planner.runs.folders import default_out

COOKIE = "maillage_planner"
SESSION_SECONDS = 8 * 3600
REFUSED = "Réservé aux planificateurs : connectez-vous."
WRONG = "Identifiant ou mot de passe incorrect."
Field = Annotated[str, Form(max_length=200)]
Render = Callable[..., HTMLResponse]


def add_planner(session: Session, territory: Territory, login: str, name: str, password: str) -> Person:
    """A planner of ``territory`` signing in as ``login`` with ``password`` (stored as an Argon2id hash)."""
    if len(password) < 12:
        raise InputError.one("password", "", "too short (12 characters at least)")
    found = session.scalar(
        select(Person).where(Person.territory_id == territory.id, Person.kind == "planner", Person.ref == login)
    )
    if found is None:
        found = Person(territory_id=territory.id, kind="planner", ref=login, name=name or login, password_hash=None)
        session.add(found)
    found.password_hash = tokens.hash_password(password)
    session.flush()
    session.add(AuditEntry(actor="maillage", action="planner_set", subject=f"planner:{login}", detail={}))
    return found


def _fingerprint(person: Person) -> str:
    return hashlib.sha256((person.password_hash or "").encode("utf-8")).hexdigest()[:16]


class Planners:
    """Issues and checks the planners' session cookies."""

    def __init__(self, key: str) -> None:
        self._signer = URLSafeTimedSerializer(key, salt="maillage-planner")

    def cookie(self, person: Person) -> str:
        """The session cookie of a planner who just signed in."""
        return self._signer.dumps({"p": person.id, "h": _fingerprint(person)})

    def planner(self, session: Session, cookie: str | None) -> Person | None:
        """The signed-in planner, or ``None`` (no cookie, forged, expired, or the password changed since)."""
        if not cookie or len(cookie) > 500:
            return None
        try:
            data = self._signer.loads(cookie, max_age=SESSION_SECONDS)
        except BadData:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("p"), int):
            return None
        found = session.get(Person, data["p"])
        if found is None or found.kind != "planner" or data.get("h") != _fingerprint(found):
            return None
        return found


def sign_in(session: Session, login: str, password: str) -> Person | None:
    """The planner whose login and password these are (any territory), else ``None``."""
    for person in session.scalars(select(Person).where(Person.kind == "planner", Person.ref == login)):
        if tokens.check_password(person.password_hash, password):
            return person
    return None


def add_routes(
    app: FastAPI,
    factory: sessionmaker[Session],
    planners: Planners,
    render: Render,
    guard: Callable[[Request, str, str], None],
    throttle: Callable[[Request], None],
    csrf: Callable[[Request, str], tuple[str, str | None]],
) -> None:
    """The sign-in form and the planner's territory page on ``app``."""

    def signed_in(request: Request, session: Session) -> Person:
        found = planners.planner(session, request.cookies.get(COOKIE))
        if found is None:
            raise StarletteHTTPException(403, REFUSED)
        return found

    def login_page(request: Request, status: int = 200, error: str | None = None) -> Response:
        token, new = csrf(request, "login")
        return render("login.html", status, new, csrf=token, error=error)

    @app.get("/planner/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        return login_page(request)

    @app.post("/planner/login", response_class=HTMLResponse)
    def login(request: Request, login: Field = "", password: Field = "", csrf: Field = "") -> Response:
        throttle(request)
        guard(request, "login", csrf)
        with db.transaction(factory) as session:
            found = sign_in(session, login, password)
            if found is None:
                return login_page(request, 401, WRONG)
            session.add(AuditEntry(actor=f"planner:{found.ref}", action="planner_signed_in", subject="", detail={}))
            answer = RedirectResponse("/planner", status_code=303)
            answer.set_cookie(COOKIE, planners.cookie(found), max_age=SESSION_SECONDS, httponly=True, samesite="strict")
            return answer

    @app.post("/planner/logout")
    def logout() -> Response:
        answer = RedirectResponse("/planner/login", status_code=303)
        answer.delete_cookie(COOKIE)
        return answer

    def territory_page(request: Request, status: int = 200, message: str | None = None) -> Response:
        with factory() as session:
            me = planners.planner(session, request.cookies.get(COOKIE))
            if me is None:
                return RedirectResponse("/planner/login", status_code=303)
            place = me.territory
            people = session.scalars(
                select(Person)
                .where(Person.territory_id == place.id, Person.kind != "planner")
                .order_by(Person.kind, Person.ref)
            )
            token, new = csrf(request, f"planner:{me.id}")
            values: dict[str, Any] = {
                "me": me,
                "territory": place,
                "plan": latest_plan(session, place),
                "people": list(people),
                "pending": pending(session, place),
                "csrf": token,
                "message": message,
                "code": status,
            }
            return render("planner.html", status, new, **values)

    @app.get("/planner", response_class=HTMLResponse)
    def planner_home(request: Request) -> Response:
        return territory_page(request)

    @app.post("/planner/unavailable", response_class=HTMLResponse)
    def unavailable(
        request: Request,
        person: Annotated[int, Form(ge=1, le=2**31 - 1)],
        day: Field = "",
        reason: Field = "",
        csrf: Field = "",
    ) -> Response:
        with factory() as session:
            me = signed_in(request, session)
            me_id, actor = me.id, f"planner:{me.ref}"
        guard(request, f"planner:{me_id}", csrf)
        try:
            when = dt.date.fromisoformat(day) if day else None
        except ValueError:
            return territory_page(request, 400, f"Date non reconnue : {day!r} (AAAA-MM-JJ).")
        with db.transaction(factory) as session:
            me = signed_in(request, session)
            who = session.get(Person, person)
            if who is None or who.territory_id != me.territory_id:
                raise StarletteHTTPException(404, "Personne inconnue.")
            try:
                declare(session, who, when, by=actor, reason=reason)
            except InputError as exc:
                return territory_page(request, 400, exc.problems[0].problem)
        return territory_page(request, message="Indisponibilité enregistrée : re-planifiez pour la publier.")

    @app.post("/planner/replan", response_class=HTMLResponse)
    def replan_now(request: Request, csrf: Field = "") -> Response:
        with factory() as session:
            me = signed_in(request, session)
            me_id, actor, name = me.id, f"planner:{me.ref}", me.territory.name
        guard(request, f"planner:{me_id}", csrf)
        try:
            with db.transaction(factory) as session:
                done = replan(session, name, out=default_out(f"{name}-replan"), by=actor)
                version = done.publication.plan.version
                moved = len(done.appointments)
        except (InputError, InfeasibleError) as exc:
            return territory_page(request, 409, str(exc))
        return territory_page(
            request, message=f"Version {version} publiée ; {moved} rendez-vous d'habitants déplacés ou annulés."
        )
