"""Mixed frequencies: each stop on a series of truck-days of the cycle, built and improved on exact days.

When stops of different periods share a cycle of ``C`` weeks (weekly stops in the bourgs, every 2 or
4 weeks in the hamlets), a stop is not one visit but a *series*: one truck on one weekday in weeks
``w, w + k, ...`` of the cycle for a stop visited every ``k`` weeks, every week for a weekly stop, and
``n`` such weekly series on different weekdays for ``n`` visits a week. This is the day-combination
view of the periodic VRP (Cordeau, Gendreau and Laporte 1997) searched, as in
:mod:`optimize._periodic_search`, by moves that take a whole series out or put it in at its cheapest
places (Vidal et al. 2012); here every move is priced with the rounds' exact objective: each changed
day re-timed by the exact sequencer (windows, lunch, shift, driving limit), people counted once at
their best frequency.

1. :func:`greedy`: each truck-day of the cycle, in order, takes the nearest stop that still brings
   new people and whose whole series fits (the baseline, and the search's start).
2. :func:`improve`: first-improvement passes over the days: drop a stop's series, add or swap one
   anchored on the day, or move a series onto the day; a work limit (days timed) ends it, the
   deadline being only a guard.
3. :func:`resequence`: days of up to ``MAX_STOPS`` stops put in their exact best order.
"""

from __future__ import annotations

import random
import time

import numpy as np

from optimize._cancel import check
from optimize._rounds_search import EPS, MAX_PASSES, Days, Slot, Work, nearest_free, week_value
from optimize._sequencing import MAX_STOPS, DayPlan
from optimize.rounds import RoundsProblem, day_plan, period_weeks

Series = tuple[Slot, ...]
Fits = dict[tuple[int, int], list[int]]
GREEDY_TRIES = 25  # nearest candidates tried at each step of the greedy plan


def series(problem: RoundsProblem, s: int, anchor: Slot, cycle: int) -> Series:
    """The truck-days of stop ``s``'s visits anchored on ``anchor``: its truck and weekday every ``k`` weeks."""
    v, w, d = anchor
    k = period_weeks(problem.stops[s])
    return tuple((v, x, d) for x in range(1, cycle + 1) if (x - w) % k == 0)


def needed(problem: RoundsProblem, s: int) -> int:
    """Series a stop needs: ``n`` weekly ones for ``n`` visits a week, else one."""
    return max(1, int(problem.stops[s].visits_per_week))


class SeriesPlan:
    """Days of the cycle (timed) and each open stop's series, changed only by :meth:`apply`."""

    def __init__(self, problem: RoundsProblem, cycle: int, work: Work) -> None:
        self.problem, self.cycle, self.work = problem, cycle, work
        self.days: Days = {}
        self.where: dict[int, list[Series]] = {}

    def copy(self) -> SeriesPlan:
        """An independent copy (the work counter is shared)."""
        other = SeriesPlan(self.problem, self.cycle, self.work)
        other.days = dict(self.days)
        other.where = {s: list(sers) for s, sers in self.where.items()}
        return other

    def objective(self) -> float:
        """Euros: a week's value of the people served, less the cycle's driving paid over the horizon."""
        weight = self.problem.horizon_weeks / self.cycle
        return week_value(self.problem, set(self.where)) - weight * sum(plan.cost for plan, _ in self.days.values())

    def order(self, slot: Slot) -> tuple[int, ...]:
        """The stops of a truck-day, in order."""
        return self.days[slot][1] if slot in self.days else ()

    def trial(
        self, fits: Fits, out: tuple[int, ...], into: tuple[tuple[int, Series], ...]
    ) -> dict[Slot, tuple[DayPlan | None, tuple[int, ...]]] | None:
        """The changed days when stops ``out`` leave all their series and each ``(stop, series)`` of
        ``into`` is put in at its cheapest place on every day of the series; None when a day no longer fits."""
        orders: dict[Slot, tuple[int, ...]] = {}
        timed: dict[Slot, DayPlan | None] = {}
        for s in out:
            for slot in {sl for ser in self.where.get(s, []) for sl in ser}:
                orders[slot] = tuple(x for x in orders.get(slot, self.order(slot)) if x != s)
        for s, ser in into:
            for slot in ser:
                found = self._insert(fits, slot, orders.get(slot, self.order(slot)), s)
                if found is None:
                    return None
                orders[slot], timed[slot] = found
        for slot, order in orders.items():
            if slot not in timed:
                timed[slot] = self.work.plan(self.problem, slot, order) if order else None
                if order and timed[slot] is None:
                    return None
        return {slot: (timed[slot], order) for slot, order in orders.items()}

    def _insert(self, fits: Fits, slot: Slot, order: tuple[int, ...], s: int) -> tuple[tuple[int, ...], DayPlan] | None:
        """``order`` with stop ``s`` at its cheapest feasible place (None: it does not fit the day)."""
        if len(order) >= self.problem.max_stops_per_day or s in order or s not in fits[slot[0], slot[2]]:
            return None
        best: tuple[tuple[int, ...], DayPlan] | None = None
        for i in range(len(order) + 1):
            trial = (*order[:i], s, *order[i:])
            plan = self.work.plan(self.problem, slot, trial)
            if plan is not None and (best is None or plan.cost < best[1].cost):
                best = (trial, plan)
        return best

    def cost_change(self, changed: dict[Slot, tuple[DayPlan | None, tuple[int, ...]]]) -> float:
        """Euros of driving a cycle the changed days add (negative: saved)."""
        old = sum(self.days[slot][0].cost for slot in changed if slot in self.days)
        return sum(plan.cost for plan, _ in changed.values() if plan is not None) - old

    def apply(
        self,
        changed: dict[Slot, tuple[DayPlan | None, tuple[int, ...]]],
        out: tuple[int, ...],
        into: tuple[tuple[int, Series], ...],
    ) -> None:
        """Take the changed days and the series moved."""
        for slot, (plan, order) in changed.items():
            if order and plan is not None:
                self.days[slot] = (plan, order)
            else:
                self.days.pop(slot, None)
        for s in out:
            self.where.pop(s, None)
        for s, ser in into:
            self.where.setdefault(s, []).append(ser)


def greedy(
    problem: RoundsProblem, slots: list[Slot], candidates: list[int], fits: Fits, cycle: int, work: Work
) -> SeriesPlan:
    """The nearest-stop plan with series: each truck-day goes on to the nearest stop bringing new people
    whose whole series fits; a stop that could not get all its series is taken out again."""
    plan = SeriesPlan(problem, cycle, work)
    need = {s: needed(problem, s) for s in candidates}
    started = {s: problem.stops[s].required for s in candidates}
    covered = np.zeros(len(problem.population), dtype=bool)
    for slot in slots:
        v, _, day = slot
        while len(plan.order(slot)) < problem.max_stops_per_day:
            check()
            order = plan.order(slot)
            here = problem.stops[order[-1]].location if order else problem.vehicles[v].depot
            options = [
                s
                for s in fits[v, day]
                if need.get(s, 0) > 0
                and s not in order
                and all(ser[0][2] != day for ser in plan.where.get(s, []))  # n a week: different weekdays
                and (started[s] or any(not covered[z] and problem.population[z] > 0 for z in problem.covers[s]))
            ]
            options.sort(key=lambda s: (problem.time_min[here, problem.stops[s].location], s))
            move = next(
                (
                    (s, changed)
                    for s in options[:GREEDY_TRIES]
                    if (changed := plan.trial(fits, (), ((s, series(problem, s, slot, cycle)),))) is not None
                ),
                None,
            )
            if move is None:
                break
            s, changed = move
            plan.apply(changed, (), ((s, series(problem, s, slot, cycle)),))
            need[s] -= 1
            started[s] = True
            covered[list(problem.covers[s])] = True
    _drop_short(plan)
    return plan


def _drop_short(plan: SeriesPlan) -> None:
    """Take out every stop with fewer series than its frequency needs, and the stops of a day that then
    no longer fits (rare: a shorter day may miss a window it used to wait for)."""
    out = {s for s, sers in plan.where.items() if len(sers) < needed(plan.problem, s)}
    while out:
        orders = {slot: tuple(x for x in order if x not in out) for slot, (_, order) in plan.days.items()}
        timed = {
            slot: plan.work.plan(plan.problem, slot, order) if order else None
            for slot, order in orders.items()
            if order != plan.days[slot][1]
        }
        failed = {s for slot, t in timed.items() if t is None for s in orders[slot]}
        if failed:
            out |= failed
            continue
        for slot, t in timed.items():
            if t is None:
                plan.days.pop(slot)
            else:
                plan.days[slot] = (t, orders[slot])
        for s in out:
            plan.where.pop(s, None)
        return


def improve(plan: SeriesPlan, slots: list[Slot], fits: Fits, *, max_days_timed: int, deadline: float) -> str | None:
    """Improve ``plan`` in place by passes over its days; returns what cut the search (None: nothing)."""
    weight = plan.problem.horizon_weeks / plan.cycle  # the cycle's driving is paid this many times
    plan.work.limit = plan.work.done + max_days_timed
    for _ in range(MAX_PASSES):
        improved = False
        for slot in slots:
            check()
            if plan.work.done >= plan.work.limit:
                return "its work limit"
            if time.perf_counter() > deadline:
                return "the time limit"
            improved |= _best_move(plan, slot, fits, weight, deadline)
        if not improved:
            break
    return None


def perturb(
    plan: SeriesPlan, slots: list[Slot], fits: Fits, rng: random.Random, *, max_days_timed: int, deadline: float
) -> tuple[SeriesPlan, int, str | None]:
    """Ruin and recreate from the best plan until the work limit: take out a random open stop and its
    nearest open neighbours, put back the stops of that area each on its best series, improve, keep the
    result when it is better (Vidal et al. 2012 and :mod:`optimize._periodic_search` do the same with
    customers). Returns the best plan, the rounds made and what cut the search (None: nothing)."""
    best = plan
    limit = plan.work.done + max_days_timed
    rounds = 0
    while plan.work.done < limit:
        if time.perf_counter() > deadline:
            return best, rounds, "the time limit"
        check()
        trial = best.copy()
        removed = _ruin(trial, fits, rng)
        if not removed:
            break
        _recreate(trial, slots, fits, removed, limit)
        improve(trial, slots, fits, max_days_timed=max(0, limit - plan.work.done), deadline=deadline)
        rounds += 1
        if trial.objective() > best.objective() + EPS:
            best = trial
    return best, rounds, "its work limit" if plan.work.done >= limit else None


RUIN = (1, 4)  # open stops taken out by a ruin, at least and at most
AREA = 8  # stops of the ruined area tried when recreating (nearest to the first one taken out)


def _ruin(plan: SeriesPlan, fits: Fits, rng: random.Random) -> list[int]:
    """Take a random optional open stop and its nearest optional open stops out; the area's stops, shuffled."""
    problem = plan.problem
    optional = sorted(s for s in plan.where if not problem.stops[s].required and needed(problem, s) == 1)
    if not optional:
        return []
    first = rng.choice(optional)
    here = problem.stops[first].location
    by_time = sorted(optional, key=lambda s: (problem.time_min[here, problem.stops[s].location], s))
    out = tuple(by_time[: rng.randint(*RUIN)])
    changed = plan.trial(fits, out, ())
    if changed is None:
        return []
    plan.apply(changed, out, ())
    reachable = sorted({t for stops in fits.values() for t in stops if needed(problem, t) == 1} - set(plan.where))
    area = sorted(reachable, key=lambda s: (problem.time_min[here, problem.stops[s].location], s))[:AREA]
    rng.shuffle(area)  # put back in a random order: each order leads to other series
    return area


def _recreate(plan: SeriesPlan, slots: list[Slot], fits: Fits, area: list[int], limit: int) -> None:
    """Put the area's stops back, each on its best series while that gains (value less driving), within
    ``limit`` days timed in all."""
    problem = plan.problem
    weight = problem.horizon_weeks / plan.cycle
    for t in area:
        check()
        if plan.work.done >= limit:
            return
        k = period_weeks(problem.stops[t])
        base = week_value(problem, set(plan.where))
        gain_value = week_value(problem, set(plan.where) | {t}) - base
        best, best_gain = None, EPS
        for slot in slots:
            if slot[1] > k or t not in fits[slot[0], slot[2]]:
                continue
            ser = series(problem, t, slot, plan.cycle)
            changed = plan.trial(fits, (), ((t, ser),))
            if changed is not None and (gain := gain_value - weight * plan.cost_change(changed)) > best_gain:
                best, best_gain = (changed, ser), gain
        if best is not None:
            plan.apply(best[0], (), ((t, best[1]),))


def _best_move(plan: SeriesPlan, slot: Slot, fits: Fits, weight: float, deadline: float) -> bool:
    """Apply the day's best improving move (drop, add, swap, move a series here); True when one was found.

    The moves are tried in a fixed order until the work limit (or the deadline, a guard) comes."""
    problem = plan.problem
    v, _, day = slot
    order = plan.order(slot)
    open_stops = set(plan.where)
    single = [t for t in fits[v, day] if needed(problem, t) == 1]  # stops placed by one series
    dropped = [s for s in order if not problem.stops[s].required]
    trials: list[tuple[tuple[int, ...], tuple[tuple[int, Series], ...], frozenset[int]]] = []
    trials += [((s,), (), frozenset(open_stops - {s})) for s in dropped]
    for t in nearest_free(problem, order, problem.vehicles[v].depot, single, open_stops):
        add = ((t, series(problem, t, slot, plan.cycle)),)
        trials.append(((), add, frozenset(open_stops | {t})))
        trials += [((s,), add, frozenset((open_stops - {s}) | {t})) for s in dropped]
    placed = [t for t in single if t in plan.where]
    for t in nearest_free(problem, order, problem.vehicles[v].depot, placed, set(order)):
        ser = series(problem, t, slot, plan.cycle)
        if plan.where[t] != [ser]:
            trials.append(((t,), ((t, ser),), frozenset(open_stops)))
    base = week_value(problem, open_stops)
    values: dict[frozenset[int], float] = {}
    best, best_gain = None, EPS
    for out, into, stops in trials:
        if plan.work.done >= plan.work.limit or time.perf_counter() > deadline:
            break
        if stops not in values:
            values[stops] = week_value(problem, set(stops)) - base
        if not out and values[stops] <= best_gain:  # an added stop only adds driving
            continue
        changed = plan.trial(fits, out, into)
        if changed is None:
            continue
        gain = values[stops] - weight * plan.cost_change(changed)
        if gain > best_gain:
            best, best_gain = (changed, out, into), gain
    if best is None:
        return False
    plan.apply(*best)
    return True


def resequence(plan: SeriesPlan) -> None:
    """Each day of up to ``MAX_STOPS`` stops in its exact best order, when that costs less."""
    for slot, (timed, order) in list(plan.days.items()):
        if 1 < len(order) <= MAX_STOPS:
            check()
            better = day_plan(plan.problem, plan.problem.vehicles[slot[0]], slot[2], order)
            if better is not None and better.cost < timed.cost - 1e-9:
                plan.days[slot] = (better, better.order)
