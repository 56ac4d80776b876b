"""Planners' accounts and sessions: only a signed-in planner sees a territory's people, marks someone
unavailable and re-plans (the pages: :mod:`planner.platform.planner_pages`).

A planner is a person of kind ``planner`` with an Argon2id password hash (``maillage planners add``). Signing
in sets a cookie signed with the service's key (itsdangerous) holding the planner's id and a fingerprint of
their hash, valid :data:`SESSION_SECONDS`: changing the password signs every browser out. Planner pages
without that cookie redirect to the sign-in form (303); their posts are refused (403) and carry the same
per-form tokens as the residents' forms; sign-in attempts share the per-address rate limit. The Streamlit
app signs planners in against the same accounts (:func:`sign_in`).
"""

from __future__ import annotations

import hashlib

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner._errors import InputError
from planner.platform import tokens
from planner.platform.models import AuditEntry, Person, Territory

COOKIE = "maillage_planner"
SESSION_SECONDS = 8 * 3600


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


def fingerprint(person: Person) -> str:
    """A short digest of a planner's password hash: sessions carry it, so a new password signs them out."""
    return hashlib.sha256((person.password_hash or "").encode("utf-8")).hexdigest()[:16]


class Planners:
    """Issues and checks the planners' session cookies."""

    def __init__(self, key: str) -> None:
        self._signer = URLSafeTimedSerializer(key, salt="maillage-planner")

    def cookie(self, person: Person) -> str:
        """The session cookie of a planner who just signed in."""
        return self._signer.dumps({"p": person.id, "h": fingerprint(person)})

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
        if found is None or found.kind != "planner" or data.get("h") != fingerprint(found):
            return None
        return found


def sign_in(session: Session, login: str, password: str) -> Person | None:
    """The planner whose login and password these are (any territory), else ``None``."""
    for person in session.scalars(select(Person).where(Person.kind == "planner", Person.ref == login)):
        if tokens.check_password(person.password_hash, password):
            return person
    return None
