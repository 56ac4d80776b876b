"""Printable HTML sheets from Jinja2 templates (``planner/exports/templates/``).

Every value a template prints goes through :func:`~planner.exports._safe.html_text` (the environment's
``finalize``), so user text (names, addresses, ids) shows as itself and cannot become markup; the
templates hold no user text of their own.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from planner.exports._safe import html_text

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _escaped(value: object) -> object:
    return value if isinstance(value, Markup) else Markup(html_text("" if value is None else value))


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        finalize=_escaped,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **values: object) -> str:
    """The sheet ``template`` (a file name in ``templates/``) filled with ``values``, every value escaped."""
    return _environment().get_template(template).render(**values)
