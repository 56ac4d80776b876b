"""Pattern search for the periodic VRP: iterated ruin-and-recreate over day combinations.

The ideas of Vidal et al. (2012, hybrid genetic search for multi-depot and periodic VRPs) that
matter on the periodic benchmarks, on a single trajectory:

- **pattern improvement inside the search**: every customer with a choice is tried on each of its
  allowed combinations (its saving where it stays, the cheapest insertion elsewhere) and moved when
  that lowers the penalised cost; sweeps repeat until none moves, alternating with PyVRP's local
  search on the days changed (:func:`optimize._periodic_days.descend`): the "education" step;
- **adaptive penalties**: overload and excess duration are priced, and the prices rise when few
  recent plans are feasible and fall when most are, so the search crosses infeasible plans;
- **diversity**: each iteration ruins a cluster of customers (the nearest ones to a random customer)
  and recreates it, either on a random shared combination (moving the cluster's days together) or
  by cheapest insertion with noise; a worse plan is accepted within a threshold that shrinks to 0
  over the budget (record-to-record travel), and the search restarts from the best plan when it
  has not improved for a while.

The best feasible plan's days are finally polished by PyVRP's iterated local search, one day at a
time (days are independent once every customer's combination is fixed).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from optimize._cancel import check
from optimize._periodic_days import DayRouter
from optimize._periodic_plan import Penalties, Plan

if TYPE_CHECKING:
    from optimize._periodic_problem import PeriodicProblem

SWEEPS = 4  # pattern-improvement sweeps per education, at most
EDUCATION_ROUNDS = 3  # alternations of day local search and pattern sweeps, at most
ACCEPT = 0.004  # record-to-record threshold at the start, share of the best cost (0 at the end)
RESTART = 300  # iterations without a new best before the search restarts from the best plan
NOISE = 0.2  # relative noise on insertion costs when a cluster is recreated greedily
ADAPT_EVERY = 20  # iterations between penalty updates
FEASIBLE_TARGET = (0.25, 0.6)  # share of feasible trials the penalties aim for (low, high)
FLOOR = 0.1  # lowest price of a unit of overload, in mean depot arcs per mean demand (of time: per 10 arcs)


class Budget:
    """Deterministic work units, with a wall-clock deadline as a safety net (see ``optimize.periodic``)."""

    def __init__(self, work: float, deadline: float, clock: Callable[[], float]) -> None:
        self.total, self.used, self.deadline, self.clock = work, 0.0, deadline, clock
        self.late = False  # True when the deadline, not the work, ended the search

    def spend(self, units: float) -> None:
        """Count work done."""
        self.used += units

    def progress(self) -> float:
        """Share of the budget spent (1 once the deadline has passed)."""
        if self.clock() >= self.deadline:
            self.late = True
            return 1.0
        return min(1.0, self.used / max(self.total, 1e-9))

    def done(self) -> bool:
        """True when the budget is spent (and the run not cancelled: ``Cancelled`` is raised)."""
        check()
        return self.progress() >= 1.0


class _Prices:
    """The adaptive prices of overload and excess duration."""

    def __init__(self, problem: PeriodicProblem) -> None:
        arc = float(problem.distance[0, 1:].mean()) if problem.num_customers else 1.0
        self.floor = (max(1.0, FLOOR * arc / max(1.0, float(problem.demand[1:].mean()))), max(1.0, FLOOR * arc / 10))
        self.ceiling = (10.0 * float(problem.distance.max()) + 1.0, 10.0 * float(problem.distance.max()) + 1.0)
        self.values = [10 * self.floor[0], 10 * self.floor[1]]
        self.seen: list[tuple[bool, bool]] = []

    @property
    def now(self) -> Penalties:
        """The current prices."""
        return self.values[0], self.values[1]

    def high(self) -> Penalties:
        """The highest prices, to make a plan feasible."""
        return self.ceiling

    def record(self, plan: Plan) -> None:
        """Note whether a trial plan was overloaded or too long; adapt every ``ADAPT_EVERY`` trials."""
        _, overload, excess = plan.totals()
        self.seen.append((overload == 0, excess == 0))
        if len(self.seen) < ADAPT_EVERY:
            return
        for k in range(2):
            share = sum(s[k] for s in self.seen) / len(self.seen)
            if share < FEASIBLE_TARGET[0]:
                self.values[k] = min(self.ceiling[k], self.values[k] * 1.3)
            elif share > FEASIBLE_TARGET[1]:
                self.values[k] = max(self.floor[k], self.values[k] * 0.8)
        self.seen.clear()


class Pairs:
    """Every (customer with a choice, allowed combination) as a row of a 0/1 matrix over the days."""

    def __init__(self, problem: PeriodicProblem) -> None:
        rows = [(i, c) for i in range(1, problem.num_customers + 1) for c in problem.combinations[i]]
        self.choosers = sorted({i for i, _ in rows if len(problem.combinations[i]) > 1})
        rows = [(i, c) for i, c in rows if len(problem.combinations[i]) > 1]
        self.owner = np.array([i for i, _ in rows], dtype=np.int64)
        self.days = np.zeros((len(rows), problem.num_days))
        for k, (_, c) in enumerate(rows):
            self.days[k, list(c)] = 1.0

    def improvable(self, plan: Plan, pen: Penalties) -> list[int]:
        """Customers one of whose other combinations costs less than their current one (estimate)."""
        values = plan.values(pen)
        current = (values * plan.present()).sum(axis=0)
        cost = (self.days * values[:, self.owner].T).sum(axis=1)
        gain = current[self.owner] - cost
        return sorted({int(i) for i in self.owner[gain > 1e-6]})


def _sweep(plan: Plan, pairs: Pairs, pen: Penalties, rng: random.Random, budget: Budget) -> set[int]:
    """Pattern improvement: move customers to a cheaper combination until none moves; days changed."""
    changed: set[int] = set()
    combos = plan.problem.combinations
    for _ in range(SWEEPS):
        candidates = pairs.improvable(plan, pen)
        budget.spend(0.02 * len(pairs.owner))
        moved = False
        for i in rng.sample(candidates, len(candidates)):
            here, _ = plan.pattern_cost(i, plan.pattern[i], pen)
            best, best_days, best_places = here - 1e-6, plan.pattern[i], {}
            for days in combos[i]:
                if days != plan.pattern[i]:
                    cost, places = plan.pattern_cost(i, days, pen)
                    if cost < best:
                        best, best_days, best_places = cost, days, places
            if best_days != plan.pattern[i]:
                changed |= plan.move(i, best_days, best_places)
                moved = True
        if not moved:
            break
    return changed


def _recreate(
    plan: Plan, customers: Sequence[int], pen: Penalties, rng: random.Random, shared: tuple[int, ...]
) -> None:
    """Insert absent ``customers``: on ``shared`` days when allowed, else their cheapest combination (noisy)."""
    for i in customers:
        options = [shared] if shared in plan.problem.combinations[i] else plan.problem.combinations[i]
        scored = []
        for days in options:
            cost, places = plan.pattern_cost(i, days, pen)
            scored.append((cost * (1 + NOISE * rng.random()), days, places))
        _, days, places = min(scored, key=lambda s: s[0])
        plan.move(i, days, places)


def construct(plan: Plan, pen: Penalties, rng: random.Random) -> None:
    """A first plan: customers with most visits and fewest choices first, each on its cheapest combination."""
    problem = plan.problem

    def key(i: int) -> tuple[int, int, int]:
        combos = problem.combinations[i]
        return (-len(combos[0]), len(combos), -int(problem.demand[i]))

    for i in sorted(range(1, problem.num_customers + 1), key=key):
        scored = [(plan.pattern_cost(i, days, pen), days) for days in problem.combinations[i]]
        (_, places), days = min(scored, key=lambda s: s[0][0])
        plan.move(i, days, places)


def _ruin(plan: Plan, near: np.ndarray, choosers: Sequence[int], rng: random.Random) -> tuple[list[int], set[int]]:
    """Take out a random customer with a choice and its nearest customers; (them, the days changed)."""
    n = plan.problem.num_customers
    size = rng.randint(1, max(1, min(n, 4 + n // 8)))
    seed = rng.choice(choosers)
    removed = [int(c) for c in near[seed][:size]]
    touched: set[int] = set()
    for i in removed:
        touched |= plan.take_out(i)
    rng.shuffle(removed)
    return removed, touched


class PatternSearch:
    """The search's state across calls: penalties, day routers, neighbour lists, random stream."""

    def __init__(self, problem: PeriodicProblem, rng: random.Random) -> None:
        self.problem, self.rng = problem, rng
        self.pairs = Pairs(problem)
        self.prices = _Prices(problem)
        self.router = DayRouter(problem, rng.randrange(2**31))
        order = np.argsort(problem.distance, axis=1, kind="stable")
        self.near = np.array([[c for c in row if c != 0] for row in order])  # customers by distance, itself first
        self.iterations = 0  # over all runs
        self.late = False  # the wall clock ended a run

    def first_plan(self, budget: Budget) -> Plan:
        """Every customer on its cheapest combination, then educated, overloads priced highest."""
        plan = Plan.empty(self.problem)
        construct(plan, self.prices.high(), self.rng)
        self.educate(plan, set(range(self.problem.num_days)), self.prices.high(), budget)
        return plan

    def educate(self, plan: Plan, dirty: set[int], pen: Penalties, budget: Budget) -> None:
        """Local search on the ``dirty`` days and pattern sweeps, alternately, until neither changes anything."""
        for _ in range(EDUCATION_ROUNDS):
            for d in sorted(dirty):
                plan.set_day(d, self.router.descend(d, plan.routes[d], pen))
                budget.spend(10 + sum(len(r) for r in plan.routes[d]))
            dirty = _sweep(plan, self.pairs, pen, self.rng, budget)
            if not dirty:
                return

    def run(self, start: Plan, budget: Budget) -> Plan:
        """The best plan found from ``start`` within the budget (feasible when the search found one)."""
        problem, rng, prices = self.problem, self.rng, self.prices
        plan, best, since = start, start.copy(), 0
        if not self.pairs.choosers:
            return best
        while not budget.done():
            pen = prices.now
            trial = plan.copy()
            removed, touched = _ruin(trial, self.near, self.pairs.choosers, rng)
            shared = rng.choice(problem.combinations[removed[0]]) if rng.random() < 0.5 else ()
            _recreate(trial, removed, pen, rng, shared)
            self.educate(trial, touched | {d for i in removed for d in trial.pattern[i]}, pen, budget)
            prices.record(trial)
            pen = prices.now
            if trial.feasible() and (not best.feasible() or trial.cost(pen) < best.cost(pen)):
                best, since = trial.copy(), 0
            elif not best.feasible() and trial.cost(prices.high()) < best.cost(prices.high()):
                best = trial.copy()
            threshold = ACCEPT * best.cost(pen) * (1.0 - budget.progress())
            if trial.cost(pen) <= plan.cost(pen) + threshold:
                plan = trial
            since += 1
            self.iterations += 1
            if since >= RESTART:
                plan, since = best.copy(), 0
        self.late |= budget.late
        return best
