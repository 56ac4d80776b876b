"""Local search on a rounds plan with the exact objective: drop a stop, add one, swap one, or move one.

The routing engine's prizes count each person for one stop chosen in advance; this search scores
every move with the true objective (people served once, at their best frequency, less the exact
driving cost of the re-timed day), so a stop that serves the people of two others can replace them.
Moves are tried in a fixed order and the search ends after ``MAX_PASSES`` passes or a number of
timed days (its work limit), the clock deciding nothing (the deadline is a guard): a plan gives the
same improved plan on any machine.
"""

from __future__ import annotations

import time

import numpy as np

from optimize._cancel import check
from optimize._sequencing import DayPlan
from optimize.rounds import RoundsProblem, order_plan, served_levels

MAX_PASSES = 8
NEAREST = 12  # stops tried for a day: the nearest not yet served to each of its stops (or to its depot)
EPS = 0.01  # euros: smaller gains are not worth a pass

Slot = tuple[int, int, int]  # (vehicle, week of the cycle, weekday)
Days = dict[Slot, tuple[DayPlan, tuple[int, ...]]]


class Work:
    """Days timed so far, against the search's work limit."""

    def __init__(self, limit: int) -> None:
        self.limit, self.done = limit, 0

    def plan(self, problem: RoundsProblem, slot: Slot, order: tuple[int, ...]) -> DayPlan | None:
        """``order_plan`` for the slot's truck and weekday, counted."""
        self.done += 1
        return order_plan(problem, problem.vehicles[slot[0]], slot[2], order)


def improve(
    problem: RoundsProblem,
    days: Days,
    slots: list[Slot],
    fits: dict[tuple[int, int], list[int]],
    cycle: int,
    *,
    max_days_timed: int,
    deadline: float,
) -> tuple[Days, str | None]:
    """The plan after first-improvement passes over its days, and what cut the search (None: nothing).

    ``fits`` holds the stops each truck can serve on each weekday (:func:`optimize.rounds.serviceable`,
    stops visited once a cycle); ``slots`` every truck-day of the cycle, used or not. Each pass
    tries, day by day, every drop, swap, insertion and move of a nearby stop from another day.
    """
    days = dict(days)
    weight = problem.horizon_weeks / cycle  # the cycle's driving is paid this many times
    work = Work(max_days_timed)
    for _ in range(MAX_PASSES):
        improved = False
        for slot in slots:
            check()
            if work.done >= work.limit:
                return _used(days), "its work limit"
            if time.perf_counter() > deadline:
                return _used(days), "the time limit"
            fitting = fits[slot[0], slot[2]]
            move = _best_move(problem, days, slot, fitting, weight, work) or _best_relocation(
                problem, days, slot, fitting, weight, work
            )
            if move is not None:
                days.update(move)
                improved = True
        if not improved:
            break
    return _used(days), None


def _used(days: Days) -> Days:
    """The days with at least one stop (a move may empty a day)."""
    return {slot: day for slot, day in days.items() if day[1]}


def week_value(problem: RoundsProblem, open_stops: set[int]) -> float:
    """Euros a week of the people these open stops serve, each counted once at its best frequency."""
    return float(problem.population @ served_levels(problem, open_stops)) * problem.person_value


def _best_move(
    problem: RoundsProblem, days: Days, slot: Slot, pool: list[int], weight: float, work: Work
) -> Days | None:
    """The day's best improving change (drop, swap, insert), or None."""
    v = slot[0]
    vehicle = problem.vehicles[v]
    plan, order = days.get(slot, (None, ()))
    cost = plan.cost if plan else 0.0
    open_stops = {s for _, o in days.values() for s in o}
    base = week_value(problem, open_stops)
    trials: list[tuple[tuple[int, ...], set[int]]] = []
    kept = [i for i, s in enumerate(order) if not problem.stops[s].required]  # a required stop stays
    for i in kept:
        trials.append((order[:i] + order[i + 1 :], open_stops - {order[i]}))
    for t in nearest_free(problem, order, vehicle.depot, pool, open_stops):
        for i in range(len(order) + 1):
            if len(order) < problem.max_stops_per_day:
                trials.append(((*order[:i], t, *order[i:]), open_stops | {t}))
            if i in kept:
                trials.append(((*order[:i], t, *order[i + 1 :]), (open_stops - {order[i]}) | {t}))
    best, best_gain = None, EPS
    values: dict[frozenset[int], float] = {}
    for trial, stops in trials:
        key = frozenset(stops)
        if key not in values:
            values[key] = week_value(problem, stops) - base
        if len(trial) > len(order) and values[key] <= best_gain:  # an added stop only adds driving
            continue
        new = work.plan(problem, slot, trial) if trial else None
        if trial and new is None:
            continue
        gain = values[key] - weight * ((new.cost if new else 0.0) - cost)
        if gain > best_gain:
            best, best_gain = (new, trial), gain
    return {slot: best} if best else None  # type: ignore[dict-item]


def _best_relocation(
    problem: RoundsProblem, days: Days, slot: Slot, pool: list[int], weight: float, work: Work
) -> Days | None:
    """The best move of a nearby stop from another day into this one, when it saves driving."""
    v = slot[0]
    vehicle = problem.vehicles[v]
    plan, order = days.get(slot, (None, ()))
    if len(order) >= problem.max_stops_per_day:
        return None
    cost = plan.cost if plan else 0.0
    home = {s: other for other, (_, o) in days.items() if other != slot for s in o}
    best: Days | None = None
    best_gain = EPS
    for t in nearest_free(problem, order, vehicle.depot, [t for t in pool if t in home], set(order)):
        other = home[t]
        old_plan, old_order = days[other]
        rest = tuple(s for s in old_order if s != t)
        rest_plan = work.plan(problem, other, rest) if rest else None
        if rest and rest_plan is None:
            continue
        saved = old_plan.cost - (rest_plan.cost if rest_plan else 0.0)
        for i in range(len(order) + 1):
            trial = (*order[:i], t, *order[i:])
            new = work.plan(problem, slot, trial)
            if new is None:
                continue
            gain = weight * (saved - (new.cost - cost))
            if gain > best_gain:
                best, best_gain = {slot: (new, trial), other: (rest_plan, rest)}, gain  # type: ignore[dict-item]
    return best


def nearest_free(
    problem: RoundsProblem, order: tuple[int, ...], depot: int, pool: list[int], taken: set[int]
) -> list[int]:
    """Stops of ``pool`` not in ``taken``: the ``NEAREST`` closest to each stop of the day (or to its depot)."""
    free = [t for t in pool if t not in taken]
    if not free:
        return []
    locations = np.array([problem.stops[t].location for t in free])
    near: set[int] = set()
    for place in [problem.stops[s].location for s in order] or [depot]:
        ranked = np.argsort(problem.time_min[place, locations], kind="stable")[:NEAREST]
        near.update(free[int(k)] for k in ranked)
    return sorted(near)
