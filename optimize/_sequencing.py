"""Exact sequencing of one truck-day: the best order of a few stops, with windows and a lunch break.

Mobile public services stop two to four times a day, so every order (and every place for the
break) is tried: the answer is exact, deterministic and fast for up to ``MAX_STOPS`` stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise, permutations

import numpy as np

MAX_STOPS = 6


@dataclass(frozen=True)
class Break:
    """A break of ``duration_min`` that must start no earlier than ``earliest_min`` and end by ``latest_end_min``."""

    earliest_min: int
    latest_end_min: int
    duration_min: int


@dataclass(frozen=True)
class DayPlan:
    """A sequenced day: per stop (arrival, service start, service end); break start; return; drive."""

    order: tuple[int, ...]
    arrival_min: tuple[int, ...]
    start_min: tuple[int, ...]
    end_min: tuple[int, ...]
    break_start_min: int | None
    departure_min: int
    return_min: int
    drive_min: float
    cost: float


def _service_start(arrival: float, service: int, windows: list[tuple[int, int]]) -> float | None:
    """Earliest start at or after arrival such that the whole service fits in one window."""
    for open_min, close_min in windows:
        start = max(arrival, open_min)
        if start + service <= close_min:
            return start
    return None


def sequence_day(
    stops: list[int],
    *,
    depot: int,
    time_min: np.ndarray,
    arc_cost: np.ndarray,
    service_min: dict[int, int],
    windows: dict[int, list[tuple[int, int]]],
    shift: tuple[int, int],
    max_drive_min: float,
    lunch: Break | None,
    keep_order: bool = False,
) -> DayPlan | None:
    """The cheapest feasible order of ``stops`` for one truck-day, or None when no order fits.

    ``windows[s]`` are the stop's service windows that day (sorted). The truck leaves the depot
    no earlier than the shift start, waits if it arrives early, takes the break after a stop
    (or before the first one), and is back by the shift end. With ``keep_order`` only the order
    given is timed, for any number of stops (the routing engine decides the order of long days).
    """
    if len(stops) > MAX_STOPS and not keep_order:
        raise ValueError(f"{len(stops)} stops in a day: at most {MAX_STOPS} can be sequenced exactly")
    best: DayPlan | None = None
    for order in [tuple(stops)] if keep_order else permutations(stops):
        legs = [depot, *order, depot]
        drive = float(sum(time_min[a, b] for a, b in pairwise(legs)))
        cost = float(sum(arc_cost[a, b] for a, b in pairwise(legs)))
        if drive > max_drive_min or (best is not None and (cost, drive) >= (best.cost, best.drive_min)):
            continue
        plan = _first_break_slot(order, depot, time_min, service_min, windows, shift, lunch, drive, cost)
        if plan is not None:
            best = plan
    return best


def _first_break_slot(order, depot, time_min, service_min, windows, shift, lunch, drive, cost) -> DayPlan | None:
    """The day with the break after the first stop where it fits (before any stop when possible)."""
    for slot in range(len(order) + 1) if lunch else [None]:
        plan = _simulate(order, depot, time_min, service_min, windows, shift, lunch, slot, drive, cost)
        if plan is not None:
            return plan
    return None


def _simulate(order, depot, time_min, service_min, windows, shift, lunch, slot, drive, cost) -> DayPlan | None:
    """Schedule one order as early as possible, the break after ``slot`` stops; None if it does not fit."""
    first_window = _service_start(0, service_min[order[0]], windows[order[0]]) if order else None
    if order and first_window is None:
        return None
    # leave as late as useful: arrive at the first stop when it opens, not before
    departure = max(shift[0], (first_window or 0) - time_min[depot, order[0]]) if order else shift[0]
    break_start = None
    if lunch and slot == 0:  # lunch at the depot, as early as allowed, then leave
        break_start = max(shift[0], lunch.earliest_min)
        if break_start + lunch.duration_min > lunch.latest_end_min:
            return None
        departure = max(departure, break_start + lunch.duration_min)
    now, place = float(departure), depot
    arrivals, starts, ends = [], [], []
    for position, stop in enumerate(order, start=1):
        arrival = now + time_min[place, stop]
        start = _service_start(arrival, service_min[stop], windows[stop])
        if start is None:
            return None
        arrivals.append(arrival)
        starts.append(start)
        now = start + service_min[stop]
        ends.append(now)
        place = stop
        if lunch and slot == position:
            break_start = max(now, lunch.earliest_min)
            if break_start + lunch.duration_min > lunch.latest_end_min:
                return None
            now = break_start + lunch.duration_min
    back = now + time_min[place, depot]
    if back > shift[1]:
        return None
    return DayPlan(
        tuple(order),
        tuple(round(a) for a in arrivals),
        tuple(round(s) for s in starts),
        tuple(round(e) for e in ends),
        None if break_start is None else round(break_start),
        round(departure),
        round(back),
        drive,
        cost,
    )
