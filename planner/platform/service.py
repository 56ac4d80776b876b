"""The small HTTP service of ``maillage serve``: each person's page and calendar feed by their link,
residents' appointments, and the planners' pages.

One router a job: :mod:`~planner.platform.person_pages` (a person's week and feed),
:mod:`~planner.platform.unavailable_page` (their own declarations), :mod:`~planner.platform.booking_pages`
(residents' appointments), :mod:`~planner.platform.planner_pages` (planners). What they share (database,
form guards, cache) is a :class:`~planner.platform.web.Web` on ``app.state``, handed out by ``Depends``.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from planner.i18n import LABELS, label
from planner.platform import (
    appointments,
    booking_pages,
    db,
    forms,
    person_pages,
    planner_pages,
    planners,
    unavailable_page,
)
from planner.platform.web import BAD_REQUEST, HEADERS, Web, request_lang


async def _plain_error(request: Request, exc: Exception) -> Response:
    """An HTTP error as plain text: a label key in the request's language (French for a bad ``lang``)."""
    assert isinstance(exc, StarletteHTTPException)
    headers = {**HEADERS, "Retry-After": "60"} if exc.status_code == 429 else HEADERS
    detail = str(exc.detail)
    text = label(detail, request_lang(request) or "fr") if detail in LABELS["fr"] else detail
    return PlainTextResponse(text, status_code=exc.status_code, headers=headers)


async def _bad_request(request: Request, _exc: Exception) -> Response:
    text = label(BAD_REQUEST, request_lang(request) or "fr")
    return PlainTextResponse(text, status_code=400, headers=HEADERS)


def create_app(
    sessions: sessionmaker[Session] | None = None, *, booking_limit: tuple[int, float] | None = None
) -> FastAPI:
    """The service on ``sessions`` (default: the migrated database of :func:`planner.platform.db.database_url`);
    ``booking_limit`` bookings and cancellations per address per seconds (default ``MAILLAGE_BOOKING_LIMIT``
    or 10 a minute)."""
    factory = sessions or db.open_database()
    key = forms.form_key(factory)
    app = FastAPI(title="Maillage", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = Web(
        sessions=factory,
        signer=forms.Forms(key),
        limit=forms.RateLimit(*(booking_limit or forms.parse_limit(os.environ.get(forms.ENV_LIMIT)))),
        planners=planners.Planners(key),
    )
    for module in (person_pages, unavailable_page, booking_pages, planner_pages):
        app.include_router(module.router)
    app.add_exception_handler(StarletteHTTPException, _plain_error)
    app.add_exception_handler(RequestValidationError, _bad_request)

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
