"""A periodic plan under construction: routes per day, each customer's days, priced insertions.

The moves of the pattern search (:mod:`optimize._periodic_search`) all come down to two questions,
answered here with numpy over a day's arcs: what does taking customer ``i`` out of day ``d`` save,
and what does putting it in at its cheapest place cost? Costs are penalised: distance, plus
``penalties[0]`` per unit of load over a vehicle's capacity and ``penalties[1]`` per unit of time
over ``max_duration`` (Vidal et al. 2012: the search may cross infeasible plans).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from optimize._periodic_problem import PeriodicProblem

Routes = list[list[int]]  # one day: customers of each vehicle, in order (exactly vehicles_per_day lists)
Penalties = tuple[float, float]  # per unit of overload, per unit of time over max_duration
Place = tuple[int, int]  # (route, position) in a day


class _Day:
    """One day's arcs as arrays (tail, head, route) with each route's load and duration.

    ``prices`` gives, for penalties, every customer's cheapest insertion (cost and arc) and, for
    the customers of the day, the saving of taking them out: one numpy pass for all customers.
    """

    def __init__(self, problem: PeriodicProblem, routes: Routes) -> None:
        self.problem = problem
        flat = [0]
        for route in routes:
            flat += route
            flat.append(0)
        seq = np.array(flat)
        self.tails, self.heads = seq[:-1], seq[1:]
        sizes = np.array([len(r) + 1 for r in routes])
        self.rid = np.repeat(np.arange(len(routes)), sizes)
        self.first = np.concatenate(([0], np.cumsum(sizes)[:-1]))  # index of each route's first arc
        inner = np.flatnonzero(self.heads != 0)  # arcs into a customer; the next arc leaves it
        self.arc_in = np.full(len(problem.demand), -1)
        self.arc_in[self.heads[inner]] = inner
        self.present = self.arc_in >= 0
        n_routes = len(routes)
        self.load = np.bincount(self.rid[inner], weights=problem.demand[self.heads[inner]], minlength=n_routes)
        self.time = np.bincount(self.rid, weights=problem.duration[self.tails, self.heads], minlength=n_routes)
        self.time += np.bincount(self.rid[inner], weights=problem.service[self.heads[inner]], minlength=n_routes)
        self.distance = int(problem.distance[self.tails, self.heads].sum())
        self.overload = int(np.maximum(self.load - problem.capacity, 0).sum())
        limit = problem.max_duration
        self.excess = 0.0 if limit is None else float(np.maximum(self.time - limit, 0).sum())
        self._prices: tuple[Penalties, np.ndarray, np.ndarray, np.ndarray] | None = None

    def _extra(self, r: np.ndarray, d_load: np.ndarray, d_time: np.ndarray, pen: Penalties) -> np.ndarray:
        """Change of the penalties when routes ``r`` gain ``d_load`` and ``d_time`` (broadcast)."""
        cap, limit = self.problem.capacity, self.problem.max_duration
        load = self.load[r]
        extra = pen[0] * (np.maximum(load + d_load - cap, 0) - np.maximum(load - cap, 0))
        if limit is not None:
            time = self.time[r]
            extra = extra + pen[1] * (np.maximum(time + d_time - limit, 0) - np.maximum(time - limit, 0))
        return extra

    def prices(self, pen: Penalties) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(insertion cost, insertion arc, removal saving) per customer (saving 0 when absent)."""
        if self._prices is not None and self._prices[0] == pen:
            return self._prices[1], self._prices[2], self._prices[3]
        p, t, h = self.problem, self.tails, self.heads
        dist, dur = p.distance, p.duration
        cost = dist[t, :] + dist[:, h].T - dist[t, h][:, None]
        d_time = dur[t, :] + dur[:, h].T - dur[t, h][:, None] + p.service[None, :]
        cost = cost + self._extra(self.rid[:, None], p.demand[None, :], d_time, pen)
        arc = np.argmin(cost, axis=0)
        insertion = cost[arc, np.arange(cost.shape[1])]
        saving = np.zeros(len(p.demand))
        inner = np.flatnonzero(h != 0)  # arcs into a customer; the next arc leaves it
        if len(inner):
            i, prev, succ = h[inner], t[inner], h[inner + 1]
            d_time = dur[prev, i] + dur[i, succ] - dur[prev, succ] + p.service[i]
            extra = self._extra(self.rid[inner], -p.demand[i], -d_time, pen)
            saving[i] = dist[prev, i] + dist[i, succ] - dist[prev, succ] - extra
        self._prices = (pen, insertion, arc, saving)
        return insertion, arc, saving

    def insertion(self, i: int, pen: Penalties) -> tuple[float, int]:
        """Cheapest insertion of ``i`` (cost, arc), from the table when it is up to date."""
        if self._prices is not None and self._prices[0] == pen:
            return float(self._prices[1][i]), int(self._prices[2][i])
        p, t, h = self.problem, self.tails, self.heads
        cost = p.distance[t, i] + p.distance[i, h] - p.distance[t, h]
        d_time = p.duration[t, i] + p.duration[i, h] - p.duration[t, h] + p.service[i]
        cost = cost + self._extra(self.rid, p.demand[i], d_time, pen)
        k = int(np.argmin(cost))
        return float(cost[k]), k

    def saving(self, i: int, pen: Penalties) -> float:
        """Penalised cost saved by taking ``i`` (on this day) out."""
        if self._prices is not None and self._prices[0] == pen:
            return float(self._prices[3][i])
        p = self.problem
        arc = int(self.arc_in[i])  # the arc into i; the next one leaves it
        r = int(self.rid[arc])
        prev, succ = self.tails[arc], self.heads[arc + 1]
        d_time = p.duration[prev, i] + p.duration[i, succ] - p.duration[prev, succ] + p.service[i]
        extra = self._extra(np.array([r]), -p.demand[i], -d_time, pen)[0]
        return float(p.distance[prev, i] + p.distance[i, succ] - p.distance[prev, succ] - extra)

    def place(self, arc: int) -> Place:
        """(route, position) of an insertion on ``arc``, or of the customer the arc leads to."""
        r = int(self.rid[arc])
        return r, arc - int(self.first[r])

    def where(self, i: int) -> Place:
        """(route, position) of customer ``i`` (on this day)."""
        return self.place(int(self.arc_in[i]))


@dataclass
class Plan:
    """Routes per day (exactly ``vehicles_per_day`` lists each) and each customer's days (``()``: none yet)."""

    problem: PeriodicProblem
    routes: list[Routes]
    pattern: list[tuple[int, ...]]

    def __post_init__(self) -> None:
        self._days: list[_Day | None] = [None] * len(self.routes)

    @classmethod
    def empty(cls, problem: PeriodicProblem) -> Plan:
        """No customer placed yet."""
        routes: list[Routes] = [[[] for _ in range(problem.vehicles_per_day)] for _ in range(problem.num_days)]
        return cls(problem, routes, [() for _ in range(problem.num_customers + 1)])

    def copy(self) -> Plan:
        """An independent copy (day arrays shared until either copy changes a day)."""
        other = Plan(self.problem, [[list(r) for r in day] for day in self.routes], list(self.pattern))
        other._days = list(self._days)
        return other

    def day(self, d: int) -> _Day:
        """Day ``d``'s arrays, rebuilt after a change."""
        cached = self._days[d]
        if cached is None:
            cached = self._days[d] = _Day(self.problem, self.routes[d])
        return cached

    def set_day(self, d: int, routes: Routes) -> None:
        """Replace day ``d``'s routes (same customers)."""
        self.routes[d] = routes
        self._days[d] = None

    def totals(self) -> tuple[int, int, float]:
        """Distance, overload and time over ``max_duration``, summed over the days."""
        days = [self.day(d) for d in range(len(self.routes))]
        return sum(x.distance for x in days), sum(x.overload for x in days), sum(x.excess for x in days)

    def cost(self, penalties: Penalties) -> float:
        """Distance plus priced overload and excess duration."""
        distance, overload, excess = self.totals()
        return distance + penalties[0] * overload + penalties[1] * excess

    def feasible(self) -> bool:
        """Every customer on one of its combinations, no overload, no route too long."""
        _, overload, excess = self.totals()
        placed = all(self.pattern[i] in self.problem.combinations[i] for i in range(1, len(self.pattern)))
        return placed and overload == 0 and excess == 0

    def pattern_cost(self, i: int, days: Sequence[int], pen: Penalties) -> tuple[float, dict[int, Place]]:
        """Penalised cost of ``i`` on ``days``: its saving where it stays, its insertion elsewhere."""
        total, places = 0.0, {}
        for d in days:
            day = self.day(d)
            if d in self.pattern[i]:
                total += day.saving(i, pen)
            else:
                cost, arc = day.insertion(i, pen)
                total += cost
                places[d] = day.place(arc)
        return total, places

    def values(self, pen: Penalties) -> np.ndarray:
        """(days, customers): a customer's saving on the days it is on, its insertion cost on the others."""
        rows = []
        for d in range(len(self.routes)):
            day = self.day(d)
            insertion, _, saving = day.prices(pen)
            rows.append(np.where(day.present, saving, insertion))
        return np.array(rows)

    def present(self) -> np.ndarray:
        """(days, customers): True where a customer is on a day."""
        return np.array([self.day(d).present for d in range(len(self.routes))])

    def move(self, i: int, days: tuple[int, ...], places: dict[int, Place]) -> set[int]:
        """Put ``i`` on ``days`` (insertions at ``places``); the days changed."""
        for d in set(self.pattern[i]) - set(days):
            r, k = self.day(d).where(i)
            del self.routes[d][r][k]
            self._days[d] = None
        for d, (r, k) in places.items():
            self.routes[d][r].insert(k, i)
            self._days[d] = None
        changed = set(self.pattern[i]).symmetric_difference(days)
        self.pattern[i] = days
        return changed

    def take_out(self, i: int) -> set[int]:
        """Remove every visit of ``i``; the days changed."""
        return self.move(i, (), {})
