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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from planner.platform.models import Appointment, Person, Plan

SIZE = 4096  # entries (a page or a feed is a few kilobytes)


def plan_id(session: Session, territory_id: int) -> int | None:
    """The id of the newest published version of a territory (one indexed query)."""
    return session.scalar(
        select(Plan.id).where(Plan.territory_id == territory_id).order_by(Plan.version.desc()).limit(1)
    )


def state(session: Session, person: Person) -> tuple[Hashable, ...]:
    """What ``person``'s page and feed depend on: the newest version, and a provider's appointments stamp."""
    newest = plan_id(session, person.territory_id)
    if person.kind != "provider":
        return (newest,)
    count, last, cancelled = session.execute(
        select(func.count(), func.max(Appointment.id), func.max(Appointment.cancelled_at)).where(
            Appointment.territory_id == person.territory_id
        )
    ).one()
    return (newest, count, last, cancelled)


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
