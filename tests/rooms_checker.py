"""An independent checker of room bookings: every hard constraint, recomputed from the problem alone.

It shares no code with optimize/: windows are re-merged here, travel re-summed from the matrix,
counts and clashes re-counted. Tests call ``check(problem, result)`` and get the list of violations.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import pairwise

import numpy as np

from optimize.rooms import Booking, Premises, Provider, ProviderDay, RoomsProblem, RoomsResult

EPS = 1e-6


def _inside(start: int, end: int, day: int, windows) -> bool:
    """Whether [start, end] lies within the union of the day's windows (empty windows: always)."""
    if not windows:
        return True
    spans = sorted((s, e) for d, s, e in windows if d == day)
    reach = None  # the end of the covered run that contains ``start``
    for s, e in spans:
        if reach is None and s <= start < e:
            reach = e
        elif reach is not None and s <= reach:
            reach = max(reach, e)
    return reach is not None and end <= reach


def check(problem: RoomsProblem, result: RoomsResult) -> list[str]:
    """All violations of the bookings' hard constraints (empty when the plan is valid)."""
    bad: list[str] = []
    providers = {p.provider_id: p for p in problem.providers}
    premises = {q.premises_id: q for q in problem.premises}
    per_room: Counter[tuple[str, str, int]] = Counter()
    per_provider: Counter[tuple[str, int]] = Counter()
    days: dict[tuple[str, int], list[tuple[Booking, int]]] = defaultdict(list)
    for b in result.bookings:
        p, q = providers[b.provider_id], premises[b.premises_id]
        bad += _booking_problems(problem, b, p, q)
        per_room[b.premises_id, b.room_id, b.slot] += 1
        per_provider[b.provider_id, b.slot] += 1
        days[b.provider_id, b.day].append((b, q.location))
    bad += [f"room {k[0]}/{k[1]} slot {k[2]}: {n} sessions" for k, n in per_room.items() if n > 1]
    bad += [f"provider {k[0]} slot {k[1]}: {n} sessions" for k, n in per_provider.items() if n > 1]
    held = Counter(b.provider_id for b in result.bookings)
    bad += [
        f"provider {p.provider_id}: {held[p.provider_id]} sessions, expected {p.sessions_per_week}"
        for p in problem.providers
        if held[p.provider_id] != p.sessions_per_week
    ]
    reported = {(d.provider_id, d.day): d for d in result.days}
    for (pid, day), sessions in days.items():
        bad += _day_problems(problem, providers[pid], day, sessions, reported.get((pid, day)))
    bad += _coverage_problems(problem, result)
    return bad


def _booking_problems(problem: RoomsProblem, b: Booking, p: Provider, q: Premises) -> list[str]:
    """One session: a real room that suits the provider, inside its slot and everyone's hours."""
    where = f"{b.provider_id} {b.premises_id}/{b.room_id} slot {b.slot}"
    room = next((r for r in q.rooms if r.room_id == b.room_id), None)
    if room is None:
        return [f"{where}: no such room"]
    bad: list[str] = []
    slot = problem.slots[b.slot]
    if b.day != slot.day or b.service != p.service:
        bad.append(f"{where}: day or service inconsistent")
    if not p.needs <= room.equipment:
        bad.append(f"{where}: lacks {sorted(p.needs - room.equipment)}")
    if room.capacity < p.seats:
        bad.append(f"{where}: {room.capacity} seats < {p.seats}")
    if q.premises_id in p.forbidden:
        bad.append(f"{where}: forbidden premises")
    if b.end_min - b.start_min != p.session_min:
        bad.append(f"{where}: lasts {b.end_min - b.start_min} min, not {p.session_min}")
    if b.start_min < slot.start_min or b.end_min > slot.end_min:
        bad.append(f"{where}: {b.start_min}-{b.end_min} outside the slot")
    windows = room.windows if room.windows is not None else q.windows
    if not _inside(b.start_min, b.end_min, slot.day, windows):
        bad.append(f"{where}: {b.start_min}-{b.end_min} outside the room's opening hours")
    if not _inside(b.start_min, b.end_min, slot.day, p.windows):
        bad.append(f"{where}: {b.start_min}-{b.end_min} outside the provider's hours")
    return bad


def _day_problems(
    problem: RoomsProblem, p: Provider, day: int, sessions: list[tuple[Booking, int]], reported: ProviderDay | None
) -> list[str]:
    """A provider's day: time to drive and lunch between sessions, travel and hours within limits and reported."""
    bad: list[str] = []
    t = problem.time_min
    where = f"{p.provider_id} day {day}"
    sessions.sort(key=lambda item: item[0].start_min)
    path = [p.home, *(loc for _, loc in sessions), p.home]
    travel = sum(float(t[a, b]) for a, b in pairwise(path))
    for (first, a), (second, b) in pairwise(sessions):
        if first.end_min + float(t[a, b]) + problem.lunch_min > second.start_min + EPS:
            bad.append(f"{where}: no time to drive and lunch between sessions")
        if abs(second.travel_before_min - float(t[a, b])) > EPS:
            bad.append(f"{where}: travel before the second session misreported")
    if abs(sessions[0][0].travel_before_min - float(t[p.home, sessions[0][1]])) > EPS:
        bad.append(f"{where}: travel from home misreported")
    if travel > p.max_travel_min + EPS:
        bad.append(f"{where}: {travel:.1f} min of travel > {p.max_travel_min}")
    if travel + len(sessions) * p.session_min > p.max_daily_hours * 60 + EPS:
        bad.append(f"{where}: over {p.max_daily_hours} h with travel")
    if reported is None or abs(reported.travel_min - travel) > EPS:
        bad.append(f"{where}: day travel misreported")
    return bad


def _coverage_problems(problem: RoomsProblem, result: RoomsResult) -> list[str]:
    """The served zones and demand reported must follow from the bookings and the covers."""
    index = {q.premises_id: i for i, q in enumerate(problem.premises)}
    bad = []
    for service, demand in problem.demand.items():
        served = np.zeros(len(demand), dtype=bool)
        for b in result.bookings:
            if b.service == service:
                served[list(problem.covers[service][index[b.premises_id]])] = True
        if not np.array_equal(served, result.served[service]):
            bad.append(f"{service}: served zones misreported")
        if abs(float(demand[served].sum()) - result.demand_served[service]) > 1e-6:
            bad.append(f"{service}: demand served misreported")
    return bad
