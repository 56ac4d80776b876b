"""Which sites to open: the classic location models on a travel-time matrix, solved exactly.

All four models take a :class:`SitingProblem` (demand x candidate minutes, populations, sites that
must stay open, optional capacities) and return a :class:`SitingResult`. Each is a mixed-integer
program built from sparse matrices in one call and solved with SCIP through OR-Tools' model builder:

* **MCLP** (Church & ReVelle 1974): open ``p`` sites to maximise the population within ``radius_min``.
  ``max sum_i w_i y_i  s.t.  y_i <= sum_{j in N_i} x_j,  sum_j x_j = p``; demand points with the
  same neighbourhood ``N_i`` are merged first (same optimum, fewer rows).
* **LSCP** (Toregas et al. 1971): the fewest sites so that every reachable demand is within the radius.
* **p-median** (Hakimi 1964): open ``p`` sites to minimise population-weighted travel time, each demand
  assigned to one open site (capacities, when given, cap the population assigned to a site).
* **p-center**: open ``p`` sites to minimise the worst travel time, found exactly as the smallest
  radius whose set cover needs at most ``p`` sites (binary search over the distinct times).

Demand that no candidate can reach (``inf`` minutes) is left out of every model and counted apart.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np
import ortools.linear_solver.linear_solver_pb2 as linear_solver_pb2
import ortools.linear_solver.pywraplp as pywraplp
from ortools.linear_solver.python import model_builder as mb
from scipy.sparse import csr_matrix, hstack, identity, vstack

from optimize._cancel import cancel_scope, stopping
from optimize._errors import InfeasibleError, ProblemError
from optimize._pmedian import ENTRIES_PER_SECOND, greedy_swap, lower_bound, plan_cost, reduce_demand
from optimize._solver import SolveInfo, Status, check_limit

# p-median has one variable per reachable (demand, site) pair: 250,000 take about 1.2 GB and 1.5 s to build.
MAX_ASSIGNMENT_PAIRS = 250_000
# SCIP sets up about this many assignment pairs a second on a loaded 2-core machine before it looks at its
# clock; a p-median whose setup would take over half its time limit is answered without the MIP (see _p_median).
MIP_PAIRS_PER_SECOND = 20_000
TRADEOFF_SHARES = 4  # each point of a trade-off curve may take up to a quarter of the time left


@dataclass(frozen=True)
class SitingProblem:
    """Travel minutes demand x candidate (``inf`` = unreachable), population per demand point.

    ``forced`` are candidates that stay open (existing services); ``capacity`` (people per site),
    when given, is used by the p-median model.
    """

    time_min: np.ndarray
    population: np.ndarray
    forced: tuple[int, ...] = ()
    capacity: np.ndarray | None = None

    def __post_init__(self) -> None:
        problems = _data_problems(self)
        if problems:
            raise ProblemError(problems)

    def reachable(self) -> np.ndarray:
        """Demand points that at least one candidate can reach."""
        return np.isfinite(self.time_min).any(axis=1)


def _data_problems(problem: SitingProblem) -> list[str]:
    """Everything wrong with the matrix, populations, forced sites and capacities, all at once."""
    times = np.asarray(problem.time_min, dtype=float)
    if times.ndim != 2:
        return [f"time_min must be a demand x candidate matrix, not {times.ndim}-dimensional"]
    n_demand, n_sites = times.shape
    problems = []
    if np.isnan(times).any() or (times < 0).any():
        problems.append("time_min must hold minutes >= 0 or inf (unreachable), not NaN or negative values")
    if problem.population.shape != (n_demand,):
        problems.append(f"population has {problem.population.shape[0]} values for {n_demand} demand points")
    elif not (np.isfinite(problem.population) & (problem.population >= 0)).all():
        problems.append("population must be >= 0 and finite")
    if any(not 0 <= j < n_sites for j in problem.forced):
        problems.append(f"forced sites must be candidate indices (0 to {n_sites - 1})")
    if problem.capacity is not None and problem.capacity.shape != (n_sites,):
        problems.append("capacity needs one value per candidate")
    elif problem.capacity is not None and not (problem.capacity >= 0).all():
        problems.append("capacity must be >= 0 people per site")
    return problems


@dataclass(frozen=True)
class SitingResult:
    """Open sites, each demand point's nearest open site and time, and the solve info."""

    info: SolveInfo
    model: str
    open_sites: tuple[int, ...]
    time_min: np.ndarray
    nearest: np.ndarray
    covered_population: float = float("nan")
    radius_min: float = float("nan")
    notes: tuple[str, ...] = field(default_factory=tuple)
    curve: tuple[tuple[int, float], ...] = ()  # Tradeoff: (sites open, population within the radius)


def _neighbourhoods(problem: SitingProblem, radius_min: float) -> csr_matrix:
    return csr_matrix(problem.time_min <= radius_min, dtype=float)


@dataclass(frozen=True)
class _Mip:
    """``opt c.x  s.t.  row_lb <= A x <= row_ub, var_lb <= x <= var_ub``, ``integer`` marking integer variables."""

    objective: np.ndarray
    rows: csr_matrix
    row_lb: np.ndarray
    row_ub: np.ndarray
    var_lb: np.ndarray
    var_ub: np.ndarray
    integer: np.ndarray
    maximize: bool


def _solve_mip(
    mip: _Mip, *, time_limit_s: float, seed: int, hint: np.ndarray | None = None
) -> tuple[Status, np.ndarray, float, float, float]:
    """Solve ``mip`` with SCIP: status, values, objective, bound and seconds.

    SCIP was the fastest OR-Tools MIP backend on these models (HiGHS about as fast on MCLP, lost on
    LSCP; CP-SAT far behind on LSCP), measured on the four-département instance of bench/siting.py.
    """
    started = time.perf_counter()
    model = mb.Model()
    # OR-Tools' stub types these arrays wrongly ("ndarray[float64, ...]"); float64 arrays are what it wants
    bounds = (mip.var_lb, mip.var_ub, mip.objective, mip.row_lb, mip.row_ub)
    model.helper.fill_model_from_sparse_data(*bounds, mip.rows.tocsr())  # type: ignore[arg-type]
    for j in np.nonzero(mip.integer)[0]:
        model.helper.set_var_integrality(int(j), True)
    model.helper.set_maximize(mip.maximize)
    # Solved through pywraplp, whose SCIP can be interrupted (a cancelled run); model_builder's cannot.
    solver = pywraplp.Solver.CreateSolver("SCIP")
    if solver.LoadModelFromProto(model.export_to_proto()):
        raise InfeasibleError(["the siting model could not be loaded into SCIP"])
    solver.SetTimeLimit(round(1000 * max(0.1, time_limit_s - (time.perf_counter() - started))))  # building counts
    if hint is not None:  # a known plan: SCIP starts from it, so its answer is never worse
        solver.SetHint(solver.variables(), hint.tolist())
    # SCIP would take Ctrl-C for itself and return its best plan; the run's cancel flag stops it instead
    solver.SetSolverSpecificParametersAsString(f"randomization/randomseedshift = {seed}\nmisc/catchctrlc = FALSE")
    with stopping(solver.InterruptSolve):
        code = solver.Solve()
    elapsed = time.perf_counter() - started
    status = {
        pywraplp.Solver.OPTIMAL: Status.OPTIMAL,
        pywraplp.Solver.FEASIBLE: Status.FEASIBLE,
        pywraplp.Solver.INFEASIBLE: Status.INFEASIBLE,
    }.get(code, Status.UNKNOWN)
    if status not in (Status.OPTIMAL, Status.FEASIBLE):
        return status, np.zeros(len(mip.objective)), float("nan"), float("nan"), elapsed
    answer = linear_solver_pb2.MPSolutionResponse()
    solver.FillSolutionResponseProto(answer)
    values = np.asarray(answer.variable_value)
    return status, values, answer.objective_value, answer.best_objective_bound, elapsed


def _binary_bounds(problem: SitingProblem) -> tuple[np.ndarray, np.ndarray]:
    lower = np.zeros(problem.time_min.shape[1])
    lower[list(problem.forced)] = 1
    return lower, np.ones(problem.time_min.shape[1])


def _result(
    problem: SitingProblem,
    model: str,
    status: Status,
    chosen: np.ndarray,
    objective: float,
    bound: float,
    elapsed: float,
    seed: int,
) -> SitingResult:
    open_sites = tuple(int(j) for j in np.nonzero(chosen > 0.5)[0])
    sub = problem.time_min[:, list(open_sites)] if open_sites else np.full((len(problem.population), 0), np.inf)
    nearest = np.argmin(sub, axis=1) if open_sites else np.full(len(problem.population), -1)
    minutes = sub[np.arange(len(nearest)), nearest] if open_sites else np.full(len(problem.population), np.inf)
    info = SolveInfo(status, objective, bound, elapsed, seed)
    nearest_site = np.where(np.isfinite(minutes), np.array(open_sites)[nearest] if open_sites else -1, -1)
    return SitingResult(info, model, open_sites, minutes, nearest_site)


def _mclp(problem: SitingProblem, p: int, radius_min: float, *, time_limit_s: float, seed: int) -> SitingResult:
    """Maximal covering: ``p`` open sites (forced ones included) covering the most people within the radius."""
    groups, weights = _merged_neighbourhoods(_neighbourhoods(problem, radius_min), problem.population)
    n_groups, n_sites = groups.shape
    rows = vstack(
        [
            hstack([-groups, identity(n_groups, format="csr")]),
            hstack([csr_matrix(np.ones((1, n_sites))), csr_matrix((1, n_groups))]),
        ]
    ).tocsr()
    lower, upper = _binary_bounds(problem)
    status, values, objective, bound, elapsed = _solve_mip(
        _Mip(
            np.r_[np.zeros(n_sites), weights],
            rows,
            np.r_[np.full(n_groups, -np.inf), p],
            np.r_[np.zeros(n_groups), p],
            np.r_[lower, np.zeros(n_groups)],
            np.r_[upper, np.ones(n_groups)],
            np.r_[np.ones(n_sites, bool), np.zeros(n_groups, bool)],
            maximize=True,
        ),
        time_limit_s=time_limit_s,
        seed=seed,
    )
    result = _result(problem, "mclp", status, values[:n_sites], objective, bound, elapsed, seed)
    covered = float(problem.population[result.time_min <= radius_min].sum())
    return replace(result, covered_population=covered, radius_min=radius_min)


def _merged_neighbourhoods(cover: csr_matrix, population: np.ndarray) -> tuple[csr_matrix, np.ndarray]:
    """Demand points with the same non-empty set of covering sites merged into one weighted row."""
    cover = cover.tocsr()
    keys = [cover.indices[a:b].tobytes() for a, b in itertools.pairwise(cover.indptr)]
    codes: dict[bytes, int] = {}
    first: list[int] = []
    inverse = np.empty(len(keys), dtype=int)
    for i, key in enumerate(keys):
        if key not in codes:
            codes[key] = len(first)
            first.append(i)
        inverse[i] = codes[key]
    weights = np.bincount(inverse, weights=population, minlength=len(first))
    rows = cover[first]
    useful = np.diff(rows.indptr) > 0
    return rows[useful], weights[useful]


def _lscp(problem: SitingProblem, radius_min: float, *, time_limit_s: float, seed: int) -> SitingResult:
    """Set covering: the fewest sites (forced ones included) putting every coverable demand within the radius.

    The classic reductions run first (rows already covered by forced sites, rows implied by smaller
    rows, sites whose rows another site also covers), then the reduced cover is solved exactly.
    """
    cover = _neighbourhoods(problem, radius_min).tocsr()
    coverable = np.diff(cover.indptr) > 0
    n_sites = cover.shape[1]
    forced = np.zeros(n_sites, bool)
    forced[list(problem.forced)] = True
    rows = cover[coverable]
    rows = rows[np.asarray(rows[:, forced].sum(axis=1)).ravel() == 0]  # already covered by forced sites
    rows, _ = _merged_neighbourhoods(rows, np.zeros(rows.shape[0]))
    columns = _reduce_cover(rows, ~forced)
    chosen = forced.astype(float)
    status, objective, bound, elapsed = Status.OPTIMAL, float(forced.sum()), float(forced.sum()), 0.0
    if rows.shape[0]:
        sub = rows[:, columns]
        kept = np.diff(sub.indptr) > 0
        status, values, objective, bound, elapsed = _solve_mip(
            _Mip(
                np.ones(len(columns)),
                sub[kept],
                np.ones(int(kept.sum())),
                np.full(int(kept.sum()), np.inf),
                np.zeros(len(columns)),
                np.ones(len(columns)),
                np.ones(len(columns), bool),
                maximize=False,
            ),
            time_limit_s=time_limit_s,
            seed=seed,
        )
        chosen[columns] = np.maximum(chosen[columns], values)
        objective, bound = objective + forced.sum(), bound + forced.sum()
    result = replace(_result(problem, "lscp", status, chosen, objective, bound, elapsed, seed), radius_min=radius_min)
    left = float(problem.population[~coverable].sum())
    notes = (
        (f"{int((~coverable).sum())} demand points ({left:,.0f} people) beyond {radius_min:g} min of any candidate",)
        if left
        else ()
    )
    return replace(result, covered_population=float(problem.population[coverable].sum()), notes=notes)


def _reduce_cover(rows: csr_matrix, free: np.ndarray) -> np.ndarray:
    """Candidate columns left after removing free sites whose rows another candidate covers too."""
    columns = np.nonzero(free & (np.asarray(rows.sum(axis=0)).ravel() > 0))[0]
    sub = rows[:, columns].tocsc().astype(np.int32)
    overlap = (sub.T @ sub).toarray()  # rows shared by each pair of candidate sites
    size = np.diag(overlap).copy()
    contained = overlap == size[:, None]  # contained[j, k]: rows(j) within rows(k)
    np.fill_diagonal(contained, False)
    equal = contained & contained.T
    dominated = (contained & ~equal).any(axis=1) | (np.triu(equal, 1)).any(axis=0)
    return columns[~dominated]


def _p_median(problem: SitingProblem, p: int, *, time_limit_s: float, seed: int) -> SitingResult:
    """p-median: ``p`` open sites minimising the population-weighted time to the assigned site.

    Demand points with identical time rows are merged and, without capacities, pairs farther than a
    forced site are dropped (both exact). A greedy + swap plan (``optimize._pmedian``) comes first;
    the MIP starts from it when its assignment pairs fit the time limit (``MIP_PAIRS_PER_SECOND``),
    and that plan is the answer, with the nearest-candidate bound, when the MIP is too large or finds
    nothing in time. With capacities there is no such plan: the MIP alone, when it fits.
    """
    started = time.perf_counter()
    demand = reduce_demand(problem.time_min, problem.population)
    times, weights = demand.time_min, demand.weight
    usable = np.isfinite(times)
    if problem.capacity is None and problem.forced:  # a demand point never goes past its nearest forced site
        usable &= times <= times[:, list(problem.forced)].min(axis=1, keepdims=True)
    n_pairs = int(usable.sum())
    if problem.capacity is not None and n_pairs > MAX_ASSIGNMENT_PAIRS:  # memory and build time grow with pairs
        raise InfeasibleError(
            [
                f"capacitated p-median over {len(problem.population):,} demand points and {times.shape[1]:,} "
                f"candidates needs {n_pairs:,} assignment variables, beyond the {MAX_ASSIGNMENT_PAIRS:,} that keep "
                "memory bounded: drop the capacities, use fewer candidate kinds or a smaller territory"
            ]
        )
    work = int(ENTRIES_PER_SECOND * time_limit_s)
    plan = np.zeros(times.shape[1], bool)
    if problem.capacity is None:
        plan = greedy_swap(times, weights, p, problem.forced, work)
    start = _Answer(Status.FEASIBLE, plan, plan_cost(times, weights, plan) if problem.capacity is None else np.inf)
    start = replace(start, bound=lower_bound(times, weights, p, problem.forced, start.objective, work))
    if start.bound >= start.objective * (1 - 1e-9):
        answer = replace(start, status=Status.OPTIMAL)  # the plan meets the Lagrangian bound: no MIP needed
    elif n_pairs <= min(MAX_ASSIGNMENT_PAIRS, MIP_PAIRS_PER_SECOND * time_limit_s / 2):  # half for the search
        # SCIP's setup, which grows with the pairs, does not look at its clock: leave room for it
        remaining = time_limit_s - (time.perf_counter() - started) - n_pairs / MIP_PAIRS_PER_SECOND
        answer = _p_median_mip(problem, times, weights, usable, p, start, time_limit_s=remaining, seed=seed)
    else:
        answer = replace(
            start,
            notes=(
                f"{n_pairs:,} assignment pairs, too many for the MIP within {time_limit_s:g} s: greedy + swap plan",
            ),
        )
    if not np.isfinite(answer.objective):  # no plan reaching everyone, and no MIP answer
        answer = _Answer(Status.UNKNOWN, np.zeros(times.shape[1], bool), float("nan"), float("nan"), answer.notes)
    elapsed = time.perf_counter() - started
    result = _result(problem, "p_median", answer.status, answer.chosen, answer.objective, answer.bound, elapsed, seed)
    return replace(result, notes=answer.notes)


@dataclass(frozen=True)
class _Answer:
    """A p-median answer on the way: status, open-site mask, objective, bound and notes."""

    status: Status
    chosen: np.ndarray
    objective: float
    bound: float = float("nan")
    notes: tuple[str, ...] = ()


def _p_median_mip(
    problem: SitingProblem,
    times: np.ndarray,
    weights: np.ndarray,
    usable: np.ndarray,
    p: int,
    start: _Answer,
    *,
    time_limit_s: float,
    seed: int,
) -> _Answer:
    """The assignment MIP over the usable pairs, from the ``start`` plan when it reaches everyone.

    Its answer replaces the plan when proven optimal or better; its bound improves the plan's.
    """
    n_demand, n_sites = times.shape
    pairs = np.argwhere(usable)  # assignment variables only where a route exists
    n_pairs = len(pairs)
    pair_ids = np.arange(n_pairs)
    assign_once = csr_matrix((np.ones(n_pairs), (pairs[:, 0], n_sites + pair_ids)), shape=(n_demand, n_sites + n_pairs))
    only_if_open = csr_matrix(
        (
            np.r_[np.ones(n_pairs), -np.ones(n_pairs)],
            (np.r_[pair_ids, pair_ids], np.r_[n_sites + pair_ids, pairs[:, 1]]),
        ),
        shape=(n_pairs, n_sites + n_pairs),
    )
    count = csr_matrix(np.r_[np.ones(n_sites), np.zeros(n_pairs)][None, :])
    blocks = [assign_once, only_if_open, count]
    row_lb: list[np.ndarray] = [np.ones(n_demand), np.full(n_pairs, -np.inf), np.array([p])]
    row_ub: list[np.ndarray] = [np.ones(n_demand), np.zeros(n_pairs), np.array([p])]
    if problem.capacity is not None:
        load = csr_matrix(
            (
                np.r_[weights[pairs[:, 0]], -problem.capacity],
                (np.r_[pairs[:, 1], np.arange(n_sites)], np.r_[n_sites + pair_ids, np.arange(n_sites)]),
            ),
            shape=(n_sites, n_sites + n_pairs),
        )
        blocks.append(load)
        row_lb.append(np.full(n_sites, -np.inf))
        row_ub.append(np.zeros(n_sites))
    lower, upper = _binary_bounds(problem)
    cost = np.r_[np.zeros(n_sites), weights[pairs[:, 0]] * times[pairs[:, 0], pairs[:, 1]]]
    hint = None
    if np.isfinite(start.objective):  # each demand point at its nearest site of the plan
        nearest = np.where(start.chosen, times, np.inf).argmin(axis=1)
        hint = np.r_[start.chosen.astype(float), (pairs[:, 1] == nearest[pairs[:, 0]]).astype(float)]
    status, values, objective, bound, _ = _solve_mip(
        _Mip(
            cost,
            vstack(blocks).tocsr(),
            np.concatenate(row_lb),
            np.concatenate(row_ub),
            np.r_[lower, np.zeros(n_pairs)],
            np.r_[upper, np.ones(n_pairs)],
            np.r_[np.ones(n_sites, bool), np.zeros(n_pairs, bool)],
            maximize=False,
        ),
        time_limit_s=time_limit_s,
        seed=seed,
        hint=hint,
    )
    if status == Status.INFEASIBLE:
        reason = "the capacities of {p} sites cannot hold the {people:,.0f} people to assign"
        if problem.capacity is None:
            reason = "no {p} sites reach every demand point that some candidate reaches ({people:,.0f} people)"
        raise InfeasibleError([reason.format(p=p, people=weights.sum())])
    notes = (
        () if status == Status.OPTIMAL else ("SCIP's time limit (wall clock) ended the search: another run may differ",)
    )
    bound = max(start.bound, bound) if np.isfinite(bound) else start.bound
    if status == Status.OPTIMAL or (status == Status.FEASIBLE and objective < start.objective):
        return _Answer(status, values[:n_sites] > 0.5, objective, bound, notes)
    return replace(start, bound=bound, notes=notes)


def _p_center(problem: SitingProblem, p: int, *, time_limit_s: float, seed: int) -> SitingResult:
    """p-center: ``p`` open sites minimising the longest time from any reachable demand point."""
    started = time.perf_counter()
    times = problem.time_min[problem.reachable()]
    radii = np.unique(times[np.isfinite(times)])
    # the answer is at least the largest "best single site" time of any demand point
    low = int(np.searchsorted(radii, np.min(times, axis=1).max()))
    high = len(radii) - 1
    best: SitingResult | None = None
    status = Status.OPTIMAL
    while low <= high:
        remaining = time_limit_s - (time.perf_counter() - started)
        if remaining <= 0:
            status = Status.FEASIBLE
            break
        middle = (low + high) // 2
        cover = _lscp(problem, float(radii[middle]), time_limit_s=remaining, seed=seed)
        if cover.info.status != Status.OPTIMAL:
            status = Status.FEASIBLE
        if len(cover.open_sites) <= p:
            best, high = cover, middle - 1
        else:
            low = middle + 1
    if best is None:
        raise InfeasibleError(["no radius was proven feasible within the time limit"])
    chosen = np.zeros(problem.time_min.shape[1])
    chosen[list(best.open_sites)] = 1
    spare = [j for j in np.argsort(problem.time_min.min(axis=0)) if chosen[j] == 0]
    chosen[spare[: p - len(best.open_sites)]] = 1  # up to p sites: more sites never lengthen the worst time
    radius = best.radius_min
    bound = radius if status == Status.OPTIMAL else float(radii[min(low, len(radii) - 1)])
    result = _result(problem, "p_center", status, chosen, radius, bound, time.perf_counter() - started, seed)
    return replace(result, radius_min=radius)


def _tradeoff(
    problem: SitingProblem, radius_min: float, max_sites: int | None, *, time_limit_s: float, seed: int
) -> SitingResult:
    """Population covered within the radius as the number of sites grows, until everyone reachable is covered.

    One time budget for the whole curve: each MCLP gets the time left shared over the points still to
    come; a curve the budget cuts short ends at its last solved point, with a note.
    """
    started = time.perf_counter()
    cover = _neighbourhoods(problem, radius_min)
    coverable = float(problem.population[np.asarray(cover.sum(axis=1)).ravel() > 0].sum())
    first, last = max(1, len(problem.forced)), max_sites or problem.time_min.shape[1]
    curve: list[tuple[int, float]] = []
    statuses: set[Status] = set()
    result = None
    for p in range(first, last + 1):
        remaining = time_limit_s - (time.perf_counter() - started)
        if remaining <= 0:
            break
        share = remaining / min(last + 1 - p, TRADEOFF_SHARES)  # later points get what earlier ones leave
        result = _mclp(problem, p, radius_min, time_limit_s=share, seed=seed)
        curve.append((p, result.covered_population))
        statuses.add(result.info.status)
        if result.covered_population >= coverable - 1e-6:
            break
    if result is None:
        return _result(problem, "tradeoff", Status.UNKNOWN, np.zeros(0), np.nan, np.nan, time_limit_s, seed)
    done = curve[-1][0] == last or curve[-1][1] >= coverable - 1e-6
    status = Status.OPTIMAL if statuses == {Status.OPTIMAL} and done else Status.FEASIBLE
    notes = () if done else (f"the time limit ended the curve at {curve[-1][0]} sites",)
    info = replace(result.info, status=status, time_s=time.perf_counter() - started)
    return replace(result, info=info, model="tradeoff", curve=tuple(curve), notes=notes)


# ------------------------------------------------------------------------------- the model family


@dataclass(frozen=True)
class SitingModel:
    """One siting question on a :class:`SitingProblem`; :func:`solve` answers every member of the family."""

    sites: SitingProblem
    name: ClassVar[str] = ""

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise ProblemError(problems)

    def _problems(self) -> list[str]:
        return []

    def _solve(self, time_limit_s: float, seed: int) -> SitingResult:
        raise NotImplementedError


def _p_problems(sites: SitingProblem, p: int) -> list[str]:
    n_sites = sites.time_min.shape[1]
    if len(sites.forced) <= p <= n_sites:
        return []
    return [f"p = {p} sites must be between the {len(sites.forced)} forced open and the {n_sites} candidates"]


def _radius_problems(radius_min: float) -> list[str]:
    return [] if np.isfinite(radius_min) and radius_min >= 0 else [f"radius_min must be >= 0 minutes, not {radius_min}"]


@dataclass(frozen=True)
class Mclp(SitingModel):
    """Maximal covering: ``p`` open sites (forced ones included) covering the most people within the radius."""

    p: int
    radius_min: float
    name: ClassVar[str] = "mclp"

    def _problems(self) -> list[str]:
        return _p_problems(self.sites, self.p) + _radius_problems(self.radius_min)

    def _solve(self, time_limit_s: float, seed: int) -> SitingResult:
        return _mclp(self.sites, self.p, self.radius_min, time_limit_s=time_limit_s, seed=seed)


@dataclass(frozen=True)
class Lscp(SitingModel):
    """Set covering: the fewest sites (forced ones included) putting every coverable demand within the radius."""

    radius_min: float
    name: ClassVar[str] = "lscp"

    def _problems(self) -> list[str]:
        return _radius_problems(self.radius_min)

    def _solve(self, time_limit_s: float, seed: int) -> SitingResult:
        return _lscp(self.sites, self.radius_min, time_limit_s=time_limit_s, seed=seed)


@dataclass(frozen=True)
class PMedian(SitingModel):
    """p-median: ``p`` open sites minimising the population-weighted time to the assigned site."""

    p: int
    name: ClassVar[str] = "p_median"

    def _problems(self) -> list[str]:
        return _p_problems(self.sites, self.p)

    def _solve(self, time_limit_s: float, seed: int) -> SitingResult:
        return _p_median(self.sites, self.p, time_limit_s=time_limit_s, seed=seed)


@dataclass(frozen=True)
class PCenter(SitingModel):
    """p-center: ``p`` open sites minimising the longest time from any reachable demand point."""

    p: int
    name: ClassVar[str] = "p_center"

    def _problems(self) -> list[str]:
        return _p_problems(self.sites, self.p)

    def _solve(self, time_limit_s: float, seed: int) -> SitingResult:
        return _p_center(self.sites, self.p, time_limit_s=time_limit_s, seed=seed)


@dataclass(frozen=True)
class Tradeoff(SitingModel):
    """MCLP for 1, 2, ... ``max_sites`` sites (default: every candidate) until everyone coverable is covered."""

    radius_min: float
    max_sites: int | None = None
    name: ClassVar[str] = "tradeoff"

    def _problems(self) -> list[str]:
        n_sites = self.sites.time_min.shape[1]
        wrong = self.max_sites is not None and not max(1, len(self.sites.forced)) <= self.max_sites <= n_sites
        sizes = [f"max_sites = {self.max_sites} must be between the forced open (or 1) and the {n_sites} candidates"]
        return _radius_problems(self.radius_min) + (sizes if wrong else [])

    def _solve(self, time_limit_s: float, seed: int) -> SitingResult:
        return _tradeoff(self.sites, self.radius_min, self.max_sites, time_limit_s=time_limit_s, seed=seed)


def siting_model(name: str, sites: SitingProblem, *, p: int, radius_min: float) -> SitingModel:
    """The model called ``name`` (mclp, lscp, p_median, p_center) on ``sites``, taking the parameters it uses."""
    models: dict[str, Callable[[], SitingModel]] = {
        Mclp.name: lambda: Mclp(sites, p, radius_min),
        Lscp.name: lambda: Lscp(sites, radius_min),
        PMedian.name: lambda: PMedian(sites, p),
        PCenter.name: lambda: PCenter(sites, p),
    }
    if name not in models:
        raise ProblemError([f"unknown siting model {name!r}: one of {', '.join(models)}"])
    return models[name]()


def solve(
    problem: SitingModel, *, time_limit_s: float, seed: int, cancel: threading.Event | None = None
) -> SitingResult:
    """Answer any siting model within ``time_limit_s`` (model build included) with ``seed``.

    ``cancel``, when set from another thread, interrupts SCIP and the heuristics' loops
    (``optimize._cancel.Cancelled`` is raised).
    """
    check_limit(time_limit_s)
    with cancel_scope(cancel):
        return problem._solve(time_limit_s, seed)
