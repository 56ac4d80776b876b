"""Contracting the road graph around the terminals must not change a single distance between them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from planner.travel import contraction
from planner.travel.contraction import contract, prune_shortcuts, shortest_minutes


def road_like(rows: int, cols: int, seed: int) -> csr_matrix:
    """A grid of streets with random minutes, a few one-way streets, dead ends and a missing block."""
    rng = np.random.default_rng(seed)
    node = np.arange(rows * cols).reshape(rows, cols)
    pairs = [(node[:, :-1].ravel(), node[:, 1:].ravel()), (node[:-1, :].ravel(), node[1:, :].ravel())]
    u = np.concatenate([p[0] for p in pairs])
    v = np.concatenate([p[1] for p in pairs])
    kept = rng.random(len(u)) > 0.25  # holes: dead ends, chains and unreachable corners appear
    u, v = u[kept], v[kept]
    minutes = rng.uniform(0.2, 3.0, len(u))
    one_way = rng.random(len(u)) < 0.15
    back = ~one_way
    su = np.r_[u, v[back]]
    sv = np.r_[v, u[back]]
    sw = np.r_[minutes, minutes[back] * rng.uniform(0.9, 1.1, back.sum())]
    return csr_matrix((sw, (su, sv)), shape=(rows * cols, rows * cols))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("max_degree", [1, 2, 6])
def test_contracted_distances_equal_plain_dijkstra(seed, max_degree):
    """Between kept nodes, the contracted (and pruned) graph gives exactly the original distances."""
    graph = road_like(30, 40, seed)
    rng = np.random.default_rng(100 + seed)
    terminals = rng.choice(graph.shape[0], 60, replace=False)
    small, index = contract(graph, terminals, max_degree)
    assert (index[terminals] >= 0).all() and small.shape[0] < graph.shape[0]
    expected = dijkstra(graph, directed=True, indices=terminals)[:, terminals]
    for reduced in (small, prune_shortcuts(small)):
        got = dijkstra(reduced, directed=True, indices=index[terminals])[:, index[terminals]]
        assert np.array_equal(np.isinf(got), np.isinf(expected))
        assert got[np.isfinite(got)] == pytest.approx(expected[np.isfinite(expected)], abs=1e-9)


def test_pruning_drops_only_arcs_beaten_by_a_detour():
    """u->v (10) is beaten by u->x->v (2+3) and goes; the others stay."""
    graph = csr_matrix(([10.0, 2.0, 3.0], ([0, 0, 1], [2, 1, 2])), shape=(3, 3))
    pruned = prune_shortcuts(graph)
    assert pruned.nnz == 2 and pruned[0, 2] == 0 and pruned[0, 1] == 2 and pruned[1, 2] == 3


def test_shortest_minutes_contracts_large_calls_with_the_same_result(monkeypatch):
    """Above the size thresholds the contracted path runs, and gives plain Dijkstra's matrix, limit included."""
    graph = road_like(60, 60, 7)
    rng = np.random.default_rng(7)
    sources, targets = rng.choice(3600, 40, replace=False), rng.choice(3600, 70, replace=False)
    for limit in (np.inf, 25.0):
        plain = shortest_minutes(graph, sources, targets, limit)
        assert graph.shape[0] < contraction.CONTRACT_MIN_NODES  # the plain path ran
        calls = []
        monkeypatch.setattr(contraction, "CONTRACT_MIN_NODES", 100)
        monkeypatch.setattr(contraction, "CONTRACT_MIN_SOURCES", 10)
        monkeypatch.setattr(contraction, "contract", lambda *a, calls=calls: calls.append(1) or contract(*a))
        fast = shortest_minutes(graph, sources, targets, limit)
        monkeypatch.undo()
        assert calls and fast.dtype == np.float32
        assert np.array_equal(np.isinf(fast), np.isinf(plain)) and np.isinf(plain).any()
        assert fast[np.isfinite(fast)] == pytest.approx(plain[np.isfinite(plain)], abs=1e-4)
