"""What guards the service's forms: signed per-form tokens against cross-site requests, and a per-address
rate limit on booking.

A form carries a token signed with the service's key (itsdangerous, HMAC-SHA1 over a timestamped payload)
naming the form it belongs to and bound to a random cookie of the browser that asked for the form
(``SameSite=Strict``, ``HttpOnly``): another site can neither forge one nor make a visitor's browser post
one that matches its cookie. Tokens expire after :data:`MAX_AGE` seconds. The key is
``MAILLAGE_SECRET_KEY`` when set, else a random key the database keeps (``settings.form_key``), so that
several workers on one database agree.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import deque

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from planner.platform.models import Setting

COOKIE = "maillage_form"
MAX_AGE = 2 * 3600
ENV_KEY = "MAILLAGE_SECRET_KEY"
ENV_LIMIT = "MAILLAGE_BOOKING_LIMIT"
DEFAULT_LIMIT = (10, 60.0)  # bookings and cancellations per client address per minute


def form_key(sessions: sessionmaker[Session]) -> str:
    """``MAILLAGE_SECRET_KEY``, else the database's own random key (created once)."""
    if key := os.environ.get(ENV_KEY):
        return key
    with sessions() as session:
        found = session.get(Setting, "form_key")
        if found is not None:
            return found.value
    try:
        with sessions.begin() as session:
            session.add(Setting(name="form_key", value=secrets.token_urlsafe(32)))
    except IntegrityError:  # another worker made it first
        pass
    with sessions() as session:
        made = session.get(Setting, "form_key")
        assert made is not None
        return made.value


def _bind(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("utf-8", "replace")).hexdigest()[:32]


class Forms:
    """Issues and checks the per-form tokens."""

    def __init__(self, key: str) -> None:
        self._signer = URLSafeTimedSerializer(key, salt="maillage-form")

    def token(self, form: str, cookie: str) -> str:
        """A token for ``form`` (e.g. ``book:12``) in the browser holding ``cookie``."""
        return self._signer.dumps({"f": form, "c": _bind(cookie)})

    def check(self, token: str | None, form: str, cookie: str | None) -> bool:
        """Whether ``token`` was issued by this service, for ``form``, to this cookie, less than MAX_AGE ago."""
        if not token or not cookie or len(token) > 500:
            return False
        try:
            data = self._signer.loads(token, max_age=MAX_AGE)
        except BadData:
            return False
        return (
            isinstance(data, dict) and data.get("f") == form and hmac.compare_digest(str(data.get("c")), _bind(cookie))
        )


def parse_limit(text: str | None) -> tuple[int, float]:
    """``"10/60"`` (requests per seconds) as ``(10, 60.0)``; the default when ``text`` is empty."""
    if not text:
        return DEFAULT_LIMIT
    count, _, seconds = text.partition("/")
    try:
        parsed = int(count), float(seconds or 60)
    except ValueError:
        raise ValueError(f"{ENV_LIMIT} must read COUNT/SECONDS, e.g. 10/60 (got {text!r})") from None
    if parsed[0] < 1 or parsed[1] <= 0:
        raise ValueError(f"{ENV_LIMIT} must be positive (got {text!r})")
    return parsed


class RateLimit:
    """At most ``count`` requests per ``seconds`` per key (a client address), in this process (sliding window)."""

    def __init__(self, count: int, seconds: float) -> None:
        self.count, self.seconds = count, seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count a request of ``key``; ``False`` when it is over the limit (then it is not counted)."""
        now = time.monotonic()
        with self._lock:
            if len(self._hits) > 10_000:  # forget idle addresses
                self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - self.seconds}
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.seconds:
                hits.popleft()
            if len(hits) >= self.count:
                return False
            hits.append(now)
            return True
