"""One day of a periodic plan as a PyVRP routing problem, re-routed by PyVRP's local search.

With every customer's days fixed, the days of a periodic plan are independent capacitated VRPs with
``vehicles_per_day`` vehicles. The pattern search of :mod:`optimize._periodic_search` changes days,
then asks :class:`DayRouter` to re-route the days it touched: PyVRP's local search (relocate, swap,
2-opt* between and inside routes) to a local optimum, in milliseconds. Overloads and over-long
routes are priced, not forbidden, so that the search can pass through them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from optimize.vrp import INF, VrpClient, VrpProblem, VrpVehicleType, pyvrp_data

if TYPE_CHECKING:
    from optimize._periodic_problem import PeriodicProblem

Routes = list[list[int]]  # one day: customers of each vehicle, in order (exactly vehicles_per_day lists)
NEIGHBOURS = 30  # granular neighbourhood of the descent: each customer's nearest possible customers of the day


def _vrp(problem: PeriodicProblem, customers: Sequence[int]) -> VrpProblem:
    """The day's VRP over the depot and ``customers`` (client k is ``customers[k]``, at location k + 1)."""
    idx = [0, *customers]
    return VrpProblem(
        problem.distance[np.ix_(idx, idx)],
        problem.duration[np.ix_(idx, idx)],
        tuple(VrpClient(k + 1, int(problem.demand[c]), int(problem.service[c])) for k, c in enumerate(customers)),
        (
            VrpVehicleType(
                depot=0,
                count=problem.vehicles_per_day,
                capacity=problem.capacity,
                max_duration=INF if problem.max_duration is None else problem.max_duration,
            ),
        ),
    )


def _padded(problem: PeriodicProblem, routes: list[list[int]]) -> Routes:
    """Exactly ``vehicles_per_day`` routes (empty ones added)."""
    return routes + [[] for _ in range(problem.vehicles_per_day - len(routes))]


class DayRouter:
    """PyVRP's local search on the days of one problem, each day's data and neighbourhood built once.

    Day ``d``'s routing problem holds every customer that some combination puts on ``d``, as an
    optional client of prize 0; the search uses only route operators (relocate, swap, 2-opt*),
    never inserting or removing a client, so each call re-routes exactly the customers given.
    """

    def __init__(self, problem: PeriodicProblem, seed: int) -> None:
        from pyvrp import RandomNumberGenerator
        from pyvrp.search import LocalSearch, NeighbourhoodParams, compute_neighbours

        self.problem = problem
        self.days = []
        for d in range(problem.num_days):
            customers = [i for i in range(1, problem.num_customers + 1) if any(d in c for c in problem.combinations[i])]
            vrp = _vrp(problem, customers)
            optional = tuple(replace(c, required=False) for c in vrp.clients)
            data = pyvrp_data(replace(vrp, clients=optional))  # vrp.py's one compilation into PyVRP
            size = min(NEIGHBOURS, max(1, len(customers) - 1))
            ls = LocalSearch(
                data,
                RandomNumberGenerator(seed=seed + d),
                compute_neighbours(data, NeighbourhoodParams(num_neighbours=size)),
            )
            for op in _operators():
                ls.add_operator(op(data))
            self.days.append((data, ls, customers, {c: k for k, c in enumerate(customers)}))

    def descend(self, d: int, routes: Routes, penalties: tuple[float, float]) -> Routes:
        """Day ``d``'s routes at a local optimum, overload and excess duration priced per unit."""
        from pyvrp import CostEvaluator, Route, Solution

        if sum(len(r) for r in routes) < 2:
            return [list(r) for r in routes]
        data, ls, customers, pos = self.days[d]
        start = Solution(data, [Route(data, [pos[c] for c in r], 0) for r in routes if r])
        best = ls(start, CostEvaluator([penalties[0]], penalties[1], 0), exhaustive=True)
        found = [[customers[a.idx] for a in r if a.is_client()] for r in best.routes() if r.num_clients()]
        return _padded(self.problem, found)


def _operators() -> list:
    """PyVRP's route operators (no insertion or removal of optional clients)."""
    from pyvrp.search import Relocate1, Relocate2, Swap11, Swap21, Swap22, SwapTails

    return [Relocate1, Relocate2, Swap11, Swap21, Swap22, SwapTails]
