"""What every route of ``maillage serve`` shares: the database, the form guards, the rendered-page cache, the
templates and the headers, held once on ``app.state`` and handed to routes through FastAPI ``Depends``.

Responses are not cached, send no referrer (tokens are in the address) and load nothing from elsewhere. A
post passes :meth:`Web.guard` (same origin, and a per-form token bound to this browser's cookie) and, where
it can be repeated by a stranger, :meth:`Web.throttle` (the per-address rate limit).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from babel import negotiate_locale
from fastapi import Depends, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from planner.i18n import date_text, label, weekday
from planner.platform import cache, forms
from planner.platform.planners import Planners

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
# HTTP errors' details are label keys, written in the page's language by the service's error handler
NOT_FOUND = "http_not_found"
GONE = "http_gone"
FORM_REFUSED = "http_form_refused"
TOO_MANY = "http_too_many"
BAD_REQUEST = "http_bad_request"
LANGS = ["fr", "en"]  # French first
Field = Annotated[str, Form(max_length=200)]
Id = Annotated[int, PathParam(ge=1, le=2**31 - 1)]  # an integer column's range on every back-end
Lang = Annotated[Literal["fr", "en"], Query()]  # the page's language (French first): ``?lang=en``


def render(name: str, status: int = 200, cookie: str | None = None, **values: Any) -> HTMLResponse:
    """The template ``name`` with ``values``, the service's headers, and the form cookie to set, if any."""
    answer = HTMLResponse(TEMPLATES.get_template(name).render(**values), status_code=status, headers=HEADERS)
    if cookie is not None:
        answer.set_cookie(forms.COOKIE, cookie, max_age=forms.MAX_AGE, httponly=True, samesite="strict")
    return answer


def words(lang: str, keep: str = "") -> dict[str, Any]:
    """What a translated template needs: ``t(key, **values)``, ``day(date)`` (numeric), ``weekday(date)``
    (its day's name and numeric date), ``what(event)``, the page's language and ``keep``, the query its
    links end with to keep it (:func:`keep_lang`)."""
    return {
        "lang": lang,
        "keep": keep,
        "t": lambda key, **values: label(key, lang, **values),
        "day": lambda date: date_text(date, lang, "numeric"),
        "weekday": lambda date: f"{weekday(date.isoweekday(), lang)} {date_text(date, lang, 'numeric')}",
        "what": lambda event: (
            label("person_session", lang, service=event.service or "") if event.kind == "session" else event.summary
        ),
    }


def form_dates(day: str, until: str) -> tuple[dt.date | None, dt.date | None, str | None]:
    """A declaration form's date and optional last date (YYYY-MM-DD; none: a room withdrawn), and the text
    that is not a date, if any."""
    found: list[dt.date | None] = []
    for text in (day, until if day else ""):
        try:
            found.append(dt.date.fromisoformat(text) if text else None)
        except ValueError:
            return None, None, text
    return found[0], found[1], None


def other_lang(lang: str) -> str:
    """The language the pages' switch link offers."""
    return "en" if lang == "fr" else "fr"


def browser_lang(header: str) -> str:
    """French or English, whichever the browser's ``Accept-Language`` prefers (Babel's negotiation, ``q``
    weights honoured); French when it names neither."""
    ranked = []
    for n, part in enumerate(header.split(",")[:20]):
        tag, _, weight = (piece.strip() for piece in part.partition(";"))
        try:
            q = float(weight.removeprefix("q=")) if weight else 1.0
        except ValueError:
            q = 0.0
        if tag and tag != "*" and q > 0:
            ranked.append((-q, n, tag.replace("-", "_")))
    return negotiate_locale([tag for _, _, tag in sorted(ranked)], LANGS) or "fr"


def request_lang(request: Request) -> str | None:
    """The language a request asks for: ``?lang=fr`` or ``?lang=en``, else its browser's; ``None`` for any
    other ``lang``."""
    asked = request.query_params.getlist("lang")
    if asked:
        return asked[0] if len(asked) == 1 and asked[0] in LANGS else None
    return browser_lang(request.headers.get("accept-language", ""))


def keep_lang(request: Request) -> str:
    """``?lang=…`` when the page was asked in a language with ``?lang=``, for its links to keep it; nothing
    when the browser's ``Accept-Language`` chose (it chooses again on the next page)."""
    asked = request_lang(request)
    return f"?lang={asked}" if asked is not None and "lang" in request.query_params else ""


def page_lang(request: Request) -> str:
    """:func:`request_lang`, a bad ``lang`` refused (400)."""
    found = request_lang(request)
    if found is None:
        raise StarletteHTTPException(400, BAD_REQUEST)
    return found


@dataclass
class Web:
    """The service's shared state: the database, the form signer, the rate limit, planners' sessions, cache."""

    sessions: sessionmaker[Session]
    signer: forms.Forms
    limit: forms.RateLimit
    planners: Planners
    rendered: cache.Rendered = field(default_factory=cache.Rendered)

    def browser(self, request: Request) -> tuple[str, str | None]:
        """The form cookie of this browser, and the value to set when it has none yet."""
        held = request.cookies.get(forms.COOKIE)
        if held and len(held) <= 100:
            return held, None
        made = secrets.token_urlsafe(16)
        return made, made

    def form_token(self, request: Request, form: str) -> tuple[str, str | None]:
        """A token for ``form`` in this browser, and the form cookie to set when it has none yet."""
        cookie, new = self.browser(request)
        return self.signer.token(form, cookie), new

    def throttle(self, request: Request) -> None:
        """Refuse a post over the rate limit of its client address (429)."""
        if not self.limit.allow(request.client.host if request.client else "?"):
            raise StarletteHTTPException(429, TOO_MANY)

    def guard(self, request: Request, form: str, token: str) -> None:
        """Refuse a post from another site, or without this form's token for this browser (403)."""
        origin = request.headers.get("origin")
        # "null": what browsers send for a page served with Referrer-Policy: no-referrer; the token decides
        if origin not in (None, "null") and origin != f"{request.url.scheme}://{request.url.netloc}":
            raise StarletteHTTPException(403, FORM_REFUSED)
        if not self.signer.check(token, form, request.cookies.get(forms.COOKIE)):
            raise StarletteHTTPException(403, FORM_REFUSED)


def state(request: Request) -> Web:
    """The service's :class:`Web` (set by :func:`planner.platform.service.create_app`)."""
    found: Web = request.app.state.web
    return found


async def shared(request: Request) -> Web:
    """:func:`state` as a dependency; ``async``, so that FastAPI calls it on the event loop rather than in its
    thread pool."""
    return state(request)


Shared = Annotated[Web, Depends(shared)]
