"""Many-to-many shortest paths on a road graph, made fast by contracting it around the terminals.

A travel-time matrix only needs distances between its origin and destination nodes. Every other node
with few neighbours can be removed and replaced by shortcuts between its neighbours (an exact
reduction: distances between the kept nodes do not change); dead-end trees vanish and chains
collapse. Arcs beaten by a two-arc path are then dropped. At département scale (100,000 nodes,
1,000 x 1,000) this leaves under a tenth of the graph and cuts a matrix from ~12 s to ~1.5 s
(``bench/RESULTS.md``). Small graphs or few sources skip it: there it costs more than it saves.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra, reverse_cuthill_mckee

SOURCE_CHUNK = 64  # sources per Dijkstra call: bounds memory to 64 x nodes x 8 bytes
CONTRACT_MIN_NODES = 20_000  # below this, or with fewer sources, plain Dijkstra is as fast
CONTRACT_MIN_SOURCES = 100
MAX_DEGREE = 10  # nodes with at most this many distinct neighbours are contracted (measured best)


def shortest_minutes(graph: csr_matrix, sources: np.ndarray, targets: np.ndarray, limit: float) -> np.ndarray:
    """Shortest-path weights sources x targets (float32, ``inf`` beyond ``limit`` or unreachable)."""
    if graph.shape[0] >= CONTRACT_MIN_NODES and len(sources) >= CONTRACT_MIN_SOURCES:
        small, index = contract(graph, np.r_[sources, targets], MAX_DEGREE)
        small = prune_shortcuts(small)
        order = reverse_cuthill_mckee(small, symmetric_mode=False)  # neighbours near in memory: ~7 % faster
        position = np.empty_like(order)
        position[order] = np.arange(len(order))
        small = csr_matrix(small[order][:, order])
        return dijkstra_rows(small, position[index[sources]], position[index[targets]], limit)
    return dijkstra_rows(graph, sources, targets, limit)


def dijkstra_rows(graph: csr_matrix, sources: np.ndarray, targets: np.ndarray, limit: float) -> np.ndarray:
    """Plain Dijkstra from each source, in chunks so memory stays at SOURCE_CHUNK x nodes."""
    block = np.empty((len(sources), len(targets)), dtype=np.float32)
    for start in range(0, len(sources), SOURCE_CHUNK):
        rows = dijkstra(graph, directed=True, indices=sources[start : start + SOURCE_CHUNK], limit=limit)
        block[start : start + SOURCE_CHUNK] = rows[:, targets]
    return block


def contract(graph: csr_matrix, keep: np.ndarray, max_degree: int) -> tuple[csr_matrix, np.ndarray]:
    """Contract every node outside ``keep`` with at most ``max_degree`` distinct neighbours.

    Distances between kept nodes are unchanged. Each round contracts an independent set (a node goes
    when its (degree, fixed random) rank is below every candidate neighbour's) until none is left.
    Returns the reduced graph and the new index of every old node (-1 when contracted).
    """
    n = graph.shape[0]
    coo = graph.tocoo()
    u, v, w, key = _dedupe_min(coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data.astype(np.float64), n)
    kept = np.zeros(n, dtype=bool)
    kept[keep] = True
    jitter = np.random.default_rng(0).random(n)
    while len(u):
        pair = np.sort(np.minimum(u, v) * n + np.maximum(u, v))
        pair = pair[np.r_[True, pair[1:] != pair[:-1]]]  # each undirected neighbour pair once
        p, q = pair // n, pair % n
        degree = np.bincount(p, minlength=n) + np.bincount(q, minlength=n)
        node, nbr = np.r_[p, q], np.r_[q, p]
        order = np.argsort(node)
        node, nbr = node[order], nbr[order]
        first = np.searchsorted(node, np.arange(n))
        candidate = (degree <= max_degree) & (degree > 0) & ~kept
        rank = np.where(candidate, degree + jitter, np.inf)
        chosen = []
        for d in range(1, max_degree + 1):
            c = np.flatnonzero(candidate & (degree == d))
            around = nbr[first[c][:, None] + np.arange(d)]
            lowest = (rank[around] > rank[c][:, None]).all(axis=1)
            chosen.append((c[lowest], around[lowest]))
        if not any(len(c) for c, _ in chosen):
            break
        gone = np.zeros(n, dtype=bool)
        new_u, new_v, new_w = [], [], []
        for c, around in chosen:
            gone[c] = True
            d = around.shape[1]
            into = [_arc_weight(key, w, n, around[:, i], c) for i in range(d)]
            out_of = [_arc_weight(key, w, n, c, around[:, j]) for j in range(d)]
            for i in range(d):
                for j in range(d):
                    if i != j:
                        new_u.append(around[:, i])
                        new_v.append(around[:, j])
                        new_w.append(into[i] + out_of[j])
        stay = ~gone[u] & ~gone[v]
        su, sv, sw = (np.concatenate([x[stay], *extra]) for x, extra in ((u, new_u), (v, new_v), (w, new_w)))
        finite = np.isfinite(sw)
        u, v, w, key = _dedupe_min(su[finite], sv[finite], sw[finite], n)
    alive = kept.copy()
    alive[u] = alive[v] = True
    index = np.full(n, -1)
    index[alive] = np.arange(alive.sum())
    size = int(alive.sum())
    return csr_matrix((w, (index[u], index[v])), shape=(size, size)), index


def prune_shortcuts(graph: csr_matrix) -> csr_matrix:
    """Drop every arc u->v for which some u->x->v is strictly shorter (it is on no shortest path)."""
    graph = csr_matrix(graph)
    graph.sort_indices()
    n = graph.shape[0]
    out_degree = np.diff(graph.indptr)
    u, v, w = np.repeat(np.arange(n), out_degree), graph.indices, graph.data
    if not len(w):
        return graph
    count = out_degree[v]  # two-arc paths u->x->v: arc a = u->x, then each arc b leaving x
    a = np.repeat(np.arange(len(v)), count)
    b = graph.indptr[v][a] + np.arange(len(a)) - np.repeat(np.cumsum(count) - count, count)
    key = u * n + v
    via = u[a] * n + v[b]
    i = np.minimum(np.searchsorted(key, via), len(key) - 1)
    hit = key[i] == via
    best = np.full(len(key), np.inf)
    np.minimum.at(best, i[hit], (w[a] + w[b])[hit])
    keep = ~(best < w)
    return csr_matrix((w[keep], (u[keep], v[keep])), shape=graph.shape)


def _dedupe_min(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """Drop self-loops, keep the lightest of parallel arcs; arcs sorted by key u*n+v."""
    keep = u != v
    key = u[keep] * n + v[keep]
    w = w[keep]
    order = np.argsort(key, kind="stable")
    key, w = key[order], w[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.empty(0, dtype=np.int64)
    w = np.minimum.reduceat(w, first) if len(first) else w
    key = key[first]
    return key // n, key % n, w, key


def _arc_weight(key: np.ndarray, w: np.ndarray, n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Weight of each arc a->b (``inf`` if absent), looked up in arcs sorted by ``key`` = u*n+v."""
    k = a * n + b
    i = np.minimum(np.searchsorted(key, k), len(key) - 1)
    return np.where(key[i] == k, w[i], np.inf)
