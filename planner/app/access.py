"""Who may use the Streamlit app: anyone on this machine only, else signed-in planners.

The app uploads, runs and publishes, so it is the planners' tool. ``maillage app`` listens on 127.0.0.1 by
default: only this machine reaches it, and it stays open (the page says so). On any other address (``--address
0.0.0.0``, ``streamlit run app.py --server.address …``), or with ``MAILLAGE_APP_SIGN_IN=1`` (behind a reverse
proxy on this machine), a visitor signs in first, against the planner accounts of ``maillage serve`` (same
database, Argon2id hashes, ``maillage planners add``) or, when the app's secrets configure it
(``[auth]`` in ``.streamlit/secrets.toml``), through the organisation's OpenID Connect provider with
Streamlit's ``st.login``: that identity's e-mail must then be a planner's login.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from planner._errors import InputError
from planner.platform import db
from planner.platform.forms import RateLimit
from planner.platform.models import AuditEntry, Person
from planner.platform.planners import fingerprint, sign_in

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
ENV_FORCE = "MAILLAGE_APP_SIGN_IN"
ATTEMPTS = RateLimit(10, 60.0)  # sign-in attempts per client address per minute (Argon2id is slow on purpose)


@dataclass(frozen=True)
class Planner:
    """A signed-in planner, as the app keeps them in its session."""

    person_id: int
    login: str
    name: str
    territory: str
    fingerprint: str  # of the password hash: a new password signs the app's sessions out too


def sign_in_required(address: str | None, force: str | None) -> bool:
    """Whether visitors must sign in: the app listens beyond this machine (``address`` unset means every
    interface), or ``force`` (``MAILLAGE_APP_SIGN_IN``) says so."""
    if force not in (None, "", "0", "1"):
        raise InputError.one(ENV_FORCE, force, "must be 1 (sign-in even on 127.0.0.1) or 0", hint="unset it")
    return force == "1" or (address or "") not in LOOPBACK


def _planner(session: Session, person: Person, via: str) -> Planner:
    session.add(AuditEntry(actor=f"planner:{person.ref}", action="planner_signed_in", subject="", detail={"via": via}))
    return Planner(person.id, person.ref, person.name, person.territory.name, fingerprint(person))


def database_url() -> str:
    """Where the planner accounts are: ``MAILLAGE_DATABASE_URL``, else the embedded SQLite file."""
    return db.database_url()


def open_sessions(url: str) -> sessionmaker[Session]:
    """The platform's database at ``url``, migrated."""
    return db.open_database(url)


def has_planners(sessions: sessionmaker[Session]) -> bool:
    """Whether the database holds at least one planner account."""
    with sessions() as session:
        return bool(session.scalar(select(func.count()).select_from(Person).where(Person.kind == "planner")))


def with_password(sessions: sessionmaker[Session], login: str, password: str, client: str) -> Planner | None:
    """The planner whose login and password these are, else ``None`` (also when ``client`` tried too often)."""
    if not ATTEMPTS.allow(client) or not login or len(login) > 200 or len(password) > 200:
        return None
    with db.transaction(sessions) as session:
        found = sign_in(session, login, password)
        return None if found is None else _planner(session, found, "app")


def with_identity(sessions: sessionmaker[Session], email: str) -> Planner | None:
    """The planner whose login is the e-mail of an OpenID Connect identity (case aside), else ``None``."""
    if not email:
        return None
    with db.transaction(sessions) as session:
        found = session.scalars(
            select(Person).where(Person.kind == "planner", func.lower(Person.ref) == email.strip().lower())
        ).first()
        return None if found is None else _planner(session, found, "oidc")


def still_valid(sessions: sessionmaker[Session], planner: Planner) -> bool:
    """Whether a signed-in planner's account still exists with the same password."""
    with sessions() as session:
        found = session.get(Person, planner.person_id)
        return found is not None and found.kind == "planner" and fingerprint(found) == planner.fingerprint
