"""Personal links and planners' passwords.

A link's token is 32 random bytes (URL-safe base64, 43 characters). Only its SHA-256 is stored: a copy of
the database opens no one's week. A token opens its own person's page and feed, until it expires or is
revoked. Planners' passwords are hashed with Argon2id (argon2-cffi).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from planner.platform.models import AccessToken, AuditEntry, Person, utcnow

TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
LINK_DAYS = 365
_HASHER = PasswordHasher()


def digest(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def issue(session: Session, person: Person, *, days: int = LINK_DAYS, actor: str = "maillage") -> str:
    """A new token for ``person``, valid ``days`` days; returned once, stored hashed."""
    if days < 1:
        raise ValueError(f"a link must be valid at least one day (got {days})")
    token = secrets.token_urlsafe(32)
    session.add(
        AccessToken(
            person_id=person.id,
            token_sha256=digest(token),
            expires_at=utcnow() + dt.timedelta(days=days),
            revoked_at=None,
        )
    )
    session.add(AuditEntry(actor=actor, action="link_issued", subject=_who(person), detail={"days": days}))
    return token


def has_valid_link(session: Session, person: Person) -> bool:
    """Whether ``person`` holds a link that is neither revoked nor expired."""
    found = session.scalar(
        select(AccessToken.id).where(
            AccessToken.person_id == person.id, AccessToken.revoked_at.is_(None), AccessToken.expires_at > utcnow()
        )
    )
    return found is not None


def resolve(session: Session, token: str) -> Person | None:
    """The person a token opens, or ``None`` when it is malformed, unknown, revoked or expired."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    found = session.scalar(select(AccessToken).where(AccessToken.token_sha256 == digest(token)))
    if found is None or found.revoked_at is not None or found.expires_at <= utcnow():
        return None
    return found.person


def revoke(session: Session, person: Person, *, actor: str = "maillage") -> int:
    """Revoke every valid link of ``person``; return how many were revoked."""
    done = session.execute(
        update(AccessToken)
        .where(AccessToken.person_id == person.id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    count = int(getattr(done, "rowcount", 0) or 0)
    session.add(AuditEntry(actor=actor, action="links_revoked", subject=_who(person), detail={"count": count}))
    return count


def hash_password(password: str) -> str:
    """An Argon2id hash of a planner's password."""
    return _HASHER.hash(password)


def check_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches the stored hash (``False`` when there is none)."""
    if not stored:
        return False
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _who(person: Person) -> str:
    return f"{person.kind}:{person.ref}"
