"""A person's own declaration, by their link: a provider's or crew's day off, a premises owner's room withdrawn.

``/p/{token}/indisponible`` shows the form (a per-form token bound to the browser's cookie, so it is never
cached with the week) and records the declaration for the planners, who re-plan (``maillage replan`` or
their page). The declaration is audited under the person's kind and reference.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from planner._errors import InputError
from planner.i18n import label, message_text
from planner.platform import db
from planner.platform.person_pages import person
from planner.platform.replan import declare, pending
from planner.platform.web import Field, Shared, Web, form_dates, keep_lang, other_lang, page_lang, render, words

router = APIRouter()


def _form(web: Web, request: Request, token: str, status: int = 200, message: str | None = None) -> Response:
    lang = page_lang(request)
    with web.sessions() as session:
        who = person(session, token)
        mine = [u for u in pending(session, who.territory) if u.person_id == who.id]
        value, new = web.form_token(request, f"unavailable:{who.id}")
        return render(
            "unavailable.html",
            status,
            new,
            who=who,
            pending=mine,
            csrf=value,
            message=message,
            code=status,
            here=f"/p/{token}/indisponible",
            switch=f"/p/{token}/indisponible?lang={other_lang(lang)}",
            **words(lang, keep_lang(request)),
        )


@router.get("/p/{token}/indisponible", response_class=HTMLResponse)
def unavailable_form(request: Request, token: str, web: Shared) -> Response:
    """The declaration form, in French or English (``?lang=``, else the browser's choice)."""
    return _form(web, request, token)


@router.post("/p/{token}/indisponible", response_class=HTMLResponse)
def unavailable(
    request: Request, token: str, web: Shared, day: Field = "", until: Field = "", reason: Field = "", csrf: Field = ""
) -> Response:
    """Record a declaration for the planners."""
    web.throttle(request)
    lang = page_lang(request)
    with web.sessions() as session:
        who_id = person(session, token).id
    web.guard(request, f"unavailable:{who_id}", csrf)
    when, last, bad = form_dates(day, until)
    if bad is not None:
        return _form(web, request, token, 400, label("planner_bad_date", lang, day=repr(bad)))
    with db.transaction(web.sessions) as session:
        who = person(session, token)
        try:
            declare(session, who, when, by=f"{who.kind}:{who.ref}", reason=reason, until=last)
        except InputError as exc:
            return _form(web, request, token, 400, message_text(exc.problems[0].problem, lang))
    return _form(web, request, token, message=label("person_declared", lang))
