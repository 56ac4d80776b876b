"""The planners' pages of ``maillage serve``: the sign-in form, and a territory's people, where a signed-in
planner marks someone unavailable and re-plans. French first, English with ``?lang=en`` (every word through
:mod:`planner.i18n`); the forms and redirects keep the page's language.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from planner._errors import InfeasibleError, InputError
from planner.i18n import label, message_text
from planner.platform import db
from planner.platform.models import AuditEntry, Person
from planner.platform.planners import COOKIE, SESSION_SECONDS, sign_in
from planner.platform.publish import latest_plan
from planner.platform.replan import declare, pending, replan
from planner.platform.web import Field, Lang, Shared, Web, form_dates, render, words
from planner.runs.folders import default_out

router = APIRouter()
PersonId = Annotated[int, Form(ge=1, le=2**31 - 1)]


def _suffix(lang: str) -> str:
    """What the page's addresses carry to keep its language (nothing for French, the default)."""
    return "" if lang == "fr" else f"?lang={lang}"


def _signed_in(web: Web, request: Request, session: Session, lang: str) -> Person:
    found = web.planners.planner(session, request.cookies.get(COOKIE))
    if found is None:
        raise StarletteHTTPException(403, label("planner_refused", lang))
    return found


def _login_page(web: Web, request: Request, lang: str, status: int = 200, error: str | None = None) -> Response:
    token, new = web.form_token(request, "login")
    return render("login.html", status, new, csrf=token, error=error, here=_suffix(lang), **words(lang))


@router.get("/planner/login", response_class=HTMLResponse)
def login_form(request: Request, web: Shared, lang: Lang = "fr") -> Response:
    """The sign-in form."""
    return _login_page(web, request, lang)


@router.post("/planner/login", response_class=HTMLResponse)
def login(
    request: Request, web: Shared, lang: Lang = "fr", login: Field = "", password: Field = "", csrf: Field = ""
) -> Response:
    """Check a planner's login and password; on success set the session cookie and go to their page."""
    web.throttle(request)
    web.guard(request, "login", csrf)
    with db.transaction(web.sessions) as session:
        found = sign_in(session, login, password)
        if found is None:
            return _login_page(web, request, lang, 401, label("planner_wrong_password", lang))
        session.add(AuditEntry(actor=f"planner:{found.ref}", action="planner_signed_in", subject="", detail={}))
        answer = RedirectResponse(f"/planner{_suffix(lang)}", status_code=303)
        answer.set_cookie(COOKIE, web.planners.cookie(found), max_age=SESSION_SECONDS, httponly=True, samesite="strict")
        return answer


@router.post("/planner/logout")
def logout(lang: Lang = "fr") -> Response:
    """Forget the session cookie."""
    answer = RedirectResponse(f"/planner/login{_suffix(lang)}", status_code=303)
    answer.delete_cookie(COOKIE)
    return answer


def _territory_page(web: Web, request: Request, lang: str, status: int = 200, message: str | None = None) -> Response:
    with web.sessions() as session:
        me = web.planners.planner(session, request.cookies.get(COOKIE))
        if me is None:
            return RedirectResponse(f"/planner/login{_suffix(lang)}", status_code=303)
        place = me.territory
        people = session.scalars(
            select(Person)
            .where(Person.territory_id == place.id, Person.kind != "planner")
            .order_by(Person.kind, Person.ref)
        )
        token, new = web.form_token(request, f"planner:{me.id}")
        values: dict[str, Any] = {
            "me": me,
            "territory": place,
            "plan": latest_plan(session, place),
            "people": list(people),
            "pending": pending(session, place),
            "csrf": token,
            "message": message,
            "code": status,
            "here": _suffix(lang),
        }
        return render("planner.html", status, new, **values, **words(lang))


@router.get("/planner", response_class=HTMLResponse)
def planner_home(request: Request, web: Shared, lang: Lang = "fr") -> Response:
    """The signed-in planner's territory, else the sign-in form (303)."""
    return _territory_page(web, request, lang)


@router.post("/planner/unavailable", response_class=HTMLResponse)
def unavailable(
    request: Request,
    web: Shared,
    person: PersonId,
    lang: Lang = "fr",
    day: Field = "",
    until: Field = "",
    reason: Field = "",
    csrf: Field = "",
) -> Response:
    """Record that a person of the planner's territory is unavailable on a day (or a room withdrawn)."""
    with web.sessions() as session:
        me = _signed_in(web, request, session, lang)
        me_id, actor = me.id, f"planner:{me.ref}"
    web.guard(request, f"planner:{me_id}", csrf)
    when, last, bad = form_dates(day, until)
    if bad is not None:
        return _territory_page(web, request, lang, 400, label("planner_bad_date", lang, day=repr(bad)))
    with db.transaction(web.sessions) as session:
        me = _signed_in(web, request, session, lang)
        who = session.get(Person, person)
        if who is None or who.territory_id != me.territory_id:
            raise StarletteHTTPException(404, label("planner_unknown_person", lang))
        try:
            declare(session, who, when, by=actor, reason=reason, until=last)
        except InputError as exc:
            return _territory_page(web, request, lang, 400, message_text(exc.problems[0].problem, lang))
    return _territory_page(web, request, lang, message=label("planner_declared", lang))


@router.post("/planner/replan", response_class=HTMLResponse)
def replan_now(request: Request, web: Shared, lang: Lang = "fr", csrf: Field = "") -> Response:
    """Re-plan the territory with its pending declarations and publish the next version."""
    with web.sessions() as session:
        me = _signed_in(web, request, session, lang)
        me_id, actor, name = me.id, f"planner:{me.ref}", me.territory.name
    web.guard(request, f"planner:{me_id}", csrf)
    try:
        with db.transaction(web.sessions) as session:
            done = replan(session, name, out=default_out(f"{name}-replan"), by=actor)
            version = done.publication.plan.version
            moved = len(done.appointments)
    except (InputError, InfeasibleError) as exc:
        failed = label("planner_replan_failed", lang, error=message_text(str(exc), lang))
        return _territory_page(web, request, lang, 409, failed)
    return _territory_page(web, request, lang, message=label("planner_replanned", lang, version=version, moved=moved))
