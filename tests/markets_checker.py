"""An independent checker of a joint markets plan: the rounds' and rooms' checkers on its two halves, then
the markets recomputed from the bookings and routes alone (no code of optimize.markets is used).

Tests call ``check(problem, result)`` and get the list of violations (empty when the plan is valid).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from optimize.markets import MarketsProblem, MarketsResult
from tests import rooms_checker, rounds_checker


def _slot_of(problem: MarketsProblem, day: int, start: int, end: int) -> int | None:
    """The half-day a truck visit counts in: on its day, overlapping it for at least half its length."""
    found = [
        k
        for k, slot in enumerate(problem.rooms.slots)
        if slot.day == day and 2 * (min(end, slot.end_min) - max(start, slot.start_min)) >= end - start
    ]
    return found[0] if found else None


def presence(problem: MarketsProblem, result: MarketsResult) -> dict[tuple[str, int, int], set[str]]:
    """Per (market place, week, slot): the services present, from the bookings and the routes."""
    place_of_premises = {problem.rooms.premises[p.premises].premises_id: p.place_id for p in problem.places}
    place_of_stop = {problem.rounds.stops[p.stop].stop_id: p.place_id for p in problem.places if p.stop is not None}
    service = {p.provider_id: p.service for p in problem.rooms.providers}
    service.update({v.vehicle_id: (v.services or ("truck",))[0] for v in problem.rounds.vehicles})
    found: dict[tuple[str, int, int], set[str]] = defaultdict(set)
    for b in result.rooms.bookings:
        if b.premises_id in place_of_premises:
            for week in range(1, problem.rounds.horizon_weeks + 1):
                found[place_of_premises[b.premises_id], week, b.slot].add(service[b.provider_id])
    for route in result.rounds.routes:
        for visit in route.visits:
            k = _slot_of(problem, route.day, visit.start_min, visit.end_min)
            if visit.stop_id in place_of_stop and k is not None:
                found[place_of_stop[visit.stop_id], route.week, k].add(service[route.vehicle_id])
    return found


def sync_value(problem: MarketsProblem, found: dict[tuple[str, int, int], set[str]]) -> float:
    """The synchronisation value of a plan: per zone and week, its best market's levels from k on."""
    population = problem.rounds.population
    best = np.zeros((problem.rounds.horizon_weeks, len(population)))
    covers = {p.place_id: list(p.covers) for p in problem.places}
    for (place, week, _), services in found.items():
        zones = covers[place]
        best[week - 1, zones] = np.maximum(best[week - 1, zones], min(len(services), problem.max_level))
    levels = np.clip(best - problem.min_services + 1, 0, None)
    per_person = round(problem.sync_eur_per_person / problem.rounds.horizon_weeks * 100)  # cents, as the model
    return (
        float(sum(round(per_person * population[z]) * levels[w, z] for w, z in zip(*np.nonzero(levels), strict=True)))
        / 100
    )


def check(problem: MarketsProblem, result: MarketsResult) -> list[str]:
    """All violations of the joint plan (empty when valid)."""
    bad = [f"rounds: {v}" for v in rounds_checker.check(problem.rounds, result.rounds)]
    bad += [f"rooms: {v}" for v in rooms_checker.check(problem.rooms, result.rooms)]
    rooms_of = {q.premises_id: len(q.rooms) for q in problem.rooms.premises}
    sessions: dict[tuple[str, int], int] = defaultdict(int)
    for b in result.rooms.bookings:
        sessions[b.premises_id, b.slot] += 1
    bad += [
        f"premises {q} slot {k}: {n} sessions in {rooms_of[q]} room(s)"
        for (q, k), n in sessions.items()
        if n > rooms_of[q]
    ]
    found = presence(problem, result)
    markets = {(m.place_id, m.week, m.slot): set(m.services) for m in result.markets}
    expected = {key: services for key, services in found.items() if len(services) >= 2}
    if markets != expected:
        bad.append(f"markets reported {sorted(markets.items())} but the plan makes {sorted(expected.items())}")
    value = sync_value(problem, found)
    if abs(value - result.sync_value) > 0.01:
        bad.append(f"synchronisation value reported {result.sync_value:.2f}, recomputed {value:.2f}")
    service = {p.provider_id: p.service for p in problem.rooms.providers}
    service.update({v.vehicle_id: (v.services or ("truck",))[0] for v in problem.rounds.vehicles})
    for place in problem.places:
        needed = {service[e] for e in place.must_gather}
        if needed and not any(p == place.place_id and needed <= services for (p, _, _), services in found.items()):
            bad.append(f"market {place.place_id}: {', '.join(place.must_gather)} never meet there")
    return bad
