"""A fast p-median answer: greedy opening then Teitz-Bart swaps, and the exact reductions before the MIP.

The p-median MIP has one assignment variable per reachable (demand, site) pair; at a few hundred
thousand pairs SCIP spends seconds setting the model up before its time limit is even looked at.
The heuristic below gives a good plan in a fraction of that, used as the MIP's starting solution and
as the answer when the MIP is too large for the time limit or finds nothing better. Everything here
is bounded by counts (swap passes), never by the clock, so its plan is the same on any machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimize._cancel import check

# Work budgets, in matrix entries visited per second of the caller's time limit (a share of it on a loaded
# 2-core machine): the swaps and the subgradient steps end on these counts, never on the clock.
ENTRIES_PER_SECOND = 40_000_000
STALL_STEPS = 20  # subgradient steps without a better bound before the step size is halved


@dataclass(frozen=True)
class Reduced:
    """Reachable demand points with people, identical time rows merged and their populations summed."""

    time_min: np.ndarray
    weight: np.ndarray


def reduce_demand(time_min: np.ndarray, population: np.ndarray) -> Reduced:
    """Drop demand nobody reaches or nobody lives at, and merge points with identical time rows.

    Exact for the p-median with or without capacities: assignments are continuous, so a merged
    point's split between sites is a split of each of its members in the same shares.
    """
    keep = np.isfinite(time_min).any(axis=1) & (population > 0)
    rows, inverse = np.unique(time_min[keep], axis=0, return_inverse=True)
    weight = np.bincount(inverse.ravel(), weights=population[keep], minlength=len(rows))
    return Reduced(rows, weight)


def greedy_swap(times: np.ndarray, weight: np.ndarray, p: int, forced: tuple[int, ...], work: int) -> np.ndarray:
    """Open sites (boolean mask) for ``p`` medians: forced ones, greedy additions, then best swaps.

    Swap passes run until none improves or they have visited ``work`` matrix entries.
    Unreachable pairs cost more than any plan that reaches everyone, so the plan reaches every
    demand point when some set of ``p`` sites can and the greedy/swap search finds it.
    """
    finite = np.isfinite(times)
    longest = float(times[finite].max()) if finite.any() else 0.0
    unreached = (longest + 1.0) * float(weight.sum()) / float(weight.min()) if len(weight) else 1.0
    cost = np.where(finite, times, unreached)
    is_open = np.zeros(times.shape[1], bool)
    is_open[list(forced)] = True
    nearest = cost[:, is_open].min(axis=1) if is_open.any() else np.full(len(weight), unreached)
    while is_open.sum() < p:
        gain = weight @ np.maximum(nearest[:, None] - cost, 0.0)
        gain[is_open] = -1.0
        best = int(np.argmax(gain))
        is_open[best] = True
        nearest = np.minimum(nearest, cost[:, best])
    fixed = np.zeros_like(is_open)
    fixed[list(forced)] = True
    for _ in range(max(1, work // max(1, cost.size * int((is_open & ~fixed).sum())))):
        check()  # a cancelled run stops between passes
        if not _best_swap(cost, weight, is_open, fixed):
            break
    return is_open


def _best_swap(cost: np.ndarray, weight: np.ndarray, is_open: np.ndarray, fixed: np.ndarray) -> bool:
    """Apply the swap (close one free open site, open one closed site) that lowers the cost most, if any."""
    opened = np.nonzero(is_open)[0]
    closed = np.nonzero(~is_open)[0]
    movable = [r for r in opened if not fixed[r]]
    if not movable or not len(closed):
        return False
    sub = cost[:, opened]
    order = np.argsort(sub, axis=1, kind="stable")
    first = sub[np.arange(len(sub)), order[:, 0]]
    second = sub[np.arange(len(sub)), order[:, 1]] if len(opened) > 1 else np.full(len(sub), np.inf)
    current = float(weight @ first)
    candidates = cost[:, closed]
    best_cost, best_pair = current * (1 - 1e-12), None
    for r in movable:
        without = np.where(opened[order[:, 0]] == r, second, first)
        totals = weight @ np.minimum(candidates, without[:, None])
        k = int(np.argmin(totals))
        if totals[k] < best_cost:
            best_cost, best_pair = float(totals[k]), (r, int(closed[k]))
    if best_pair is None:
        return False
    is_open[best_pair[0]], is_open[best_pair[1]] = False, True
    return True


def plan_cost(times: np.ndarray, weight: np.ndarray, is_open: np.ndarray) -> float:
    """Weighted time to the nearest open site (``inf`` when some demand point is left unreached)."""
    if not is_open.any():
        return float("inf") if len(weight) else 0.0
    return float(weight @ times[:, is_open].min(axis=1))


def lower_bound(
    times: np.ndarray, weight: np.ndarray, p: int, forced: tuple[int, ...], upper: float, work: int
) -> float:
    """A Lagrangian lower bound on the p-median (Beasley 1993), by subgradient steps toward ``upper``.

    Relaxing "each demand point assigned once" with multipliers ``lam`` leaves
    ``sum(lam) + sum of the p smallest site terms rho_j = sum_i min(0, w_i t_ij - lam_i)`` (forced
    sites always in), a bound for every ``lam``; the best one seen is returned. It starts at every
    demand point at its nearest candidate and stops after ``work`` matrix entries' worth of steps,
    once the step size has shrunk to nothing, or once it meets ``upper`` (the plan is then optimal).
    """
    cost = weight[:, None] * times  # inf where unreachable: such a pair never lowers a site term
    lam = cost.min(axis=1)
    best = float(lam.sum())
    if not np.isfinite(upper) or not len(weight):  # no plan to aim at: the nearest-candidate bound
        return best
    fixed = np.zeros(times.shape[1], bool)
    fixed[list(forced)] = True
    free = p - int(fixed.sum())
    step_scale, stalled = 2.0, 0
    for _ in range(max(1, work // cost.size)):
        check()
        reduced = np.minimum(cost - lam[:, None], 0.0)
        rho = reduced.sum(axis=0)
        chosen = fixed.copy()
        chosen[np.nonzero(~fixed)[0][np.argsort(rho[~fixed], kind="stable")[:free]]] = True
        value = float(lam.sum() + rho[chosen].sum())
        if value > best + 1e-9 * abs(best):
            best, stalled = value, 0
        else:
            stalled += 1
        if best >= upper * (1 - 1e-9) or step_scale < 1e-4:
            break
        if stalled >= STALL_STEPS:
            step_scale, stalled = step_scale / 2, 0
        slope = 1.0 - (reduced[:, chosen] < 0).sum(axis=1)
        norm = float(slope @ slope)
        if norm == 0:  # every demand point assigned exactly once: lam is optimal
            break
        lam = lam + step_scale * (upper - value) / norm * slope
    return min(best, upper)
