"""Rendered pages and feeds kept per what they show, so that a calendar polling its feed costs a token check.

A person's page and feed change only when a new version is published (a new plan id) or, for a provider,
when an appointment is booked, cancelled or purged (the territory's appointments stamp: how many, the
newest id, the latest cancellation). The key holds those, so a stale entry is never served: it is simply
not asked for again and falls out of the bounded LRU. The token is checked on every request before the
cache is looked at: a revoked or expired link opens nothing, cached or not.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, func, select

from planner.platform import tokens
from planner.platform.models import AccessToken, Appointment, Person, Plan, utcnow

SIZE = 4096  # entries (a page or a feed is a few kilobytes)


class Holder(NamedTuple):
    """Whom a valid link opens, and what their page and feed depend on (the cache key's tail)."""

    person_id: int
    kind: str
    state: tuple[Hashable, ...]


def _of_territory(column: Any) -> Any:
    """``column`` over the appointments of the link holder's territory, as a correlated scalar subquery."""
    appointments = Appointment.__table__
    people = Person.__table__
    return select(column).where(appointments.c.territory_id == people.c.territory_id).scalar_subquery()


def _lookup() -> Any:
    """One Core query (no ORM, compiled once): a token's holder, validity and the state of their territory."""
    links, people, plans = AccessToken.__table__, Person.__table__, Plan.__table__
    appointments = Appointment.__table__
    newest = (
        select(plans.c.id)
        .where(plans.c.territory_id == people.c.territory_id)
        .order_by(plans.c.version.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            links.c.expires_at,
            links.c.revoked_at,
            people.c.id,
            people.c.kind,
            newest,
            _of_territory(func.count()),
            _of_territory(func.max(appointments.c.id)),
            _of_territory(func.max(appointments.c.cancelled_at)),
        )
        .join_from(links, people, people.c.id == links.c.person_id)
        .where(links.c.token_sha256 == bindparam("digest"))
    )


LOOKUP = _lookup()


def holder(connection: Connection, token: str) -> Holder | None:
    """The holder of ``token`` with the newest published version of their territory and, for a provider, its
    appointments stamp (how many, the newest id, the latest cancellation): ``None`` when the token is
    malformed, unknown, revoked or expired, as :func:`planner.platform.tokens.resolve` decides. One query,
    because a calendar polling its feed should cost little more than the token check."""
    if not tokens.TOKEN_SHAPE.fullmatch(token):
        return None
    row = connection.execute(LOOKUP, {"digest": tokens.digest(token)}).first()
    if row is None:
        return None
    expires, revoked, person_id, kind, newest, *stamp = row
    if revoked is not None or expires <= utcnow():
        return None
    return Holder(person_id, kind, (newest, *stamp) if kind == "provider" else (newest,))


class Rendered:
    """A bounded, thread-safe LRU of rendered bodies by key."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        """The body kept under ``key``, else ``make()``'s, kept."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        body = make()
        with self._lock:
            self._items[key] = body
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return body
