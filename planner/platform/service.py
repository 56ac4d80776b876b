"""The small HTTP service of ``maillage serve``: each person's page and calendar feed, by their link.

``/p/{token}`` is the person's week (server-rendered, autoescaped, printable); ``/p/{token}/calendar.ics``
their iCalendar feed. A token opens its own person's data and nothing else: an unknown, malformed,
revoked or expired token gets the same 404 as a wrong address, so a guess learns nothing. Responses are
not cached, send no referrer (the token is in the address) and load nothing from elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from planner.platform import db, tokens
from planner.platform.feed import KIND_LABELS, person_calendar, person_week
from planner.platform.models import Person

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}
NOT_FOUND = "Lien inconnu, expiré ou révoqué. Demandez un nouveau lien à votre planificateur."


def create_app(sessions: sessionmaker[Session] | None = None) -> FastAPI:
    """The service on ``sessions`` (default: the migrated database of :func:`planner.platform.db.database_url`)."""
    factory = sessions or db.open_database()
    app = FastAPI(title="Maillage", docs_url=None, redoc_url=None, openapi_url=None)

    def person(session: Session, token: str) -> Person:
        found = tokens.resolve(session, token)
        if found is None:
            raise StarletteHTTPException(404, NOT_FOUND)
        return found

    @app.exception_handler(StarletteHTTPException)
    async def plain_error(_request: Request, exc: StarletteHTTPException) -> Response:
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=HEADERS)

    @app.get("/p/{token}", response_class=HTMLResponse)
    def page(token: str) -> Response:
        with factory() as session:
            week = person_week(session, person(session, token))
            repeat = max((e.every_weeks for _, day in week.days for e in day), default=1)
            html = TEMPLATES.get_template("week.html").render(
                week=week, label=KIND_LABELS.get(week.person.kind, ""), feed=f"/p/{token}/calendar.ics", repeat=repeat
            )
        return HTMLResponse(html, headers=HEADERS)

    @app.get("/p/{token}/calendar.ics")
    def feed(token: str) -> Response:
        with factory() as session:
            body = person_calendar(session, person(session, token))
        return Response(body, media_type="text/calendar; charset=utf-8", headers=HEADERS)

    @app.get("/health")
    def health() -> Response:
        return JSONResponse({"status": "ok"}, headers=HEADERS)

    return app


def serve(port: int, address: str) -> None:
    """Run the service with uvicorn on ``address:port`` until interrupted."""
    import uvicorn

    uvicorn.run(create_app(), host=address, port=port, log_level="warning", server_header=False)
