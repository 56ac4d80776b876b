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
    """The synchronisation value of a plan: per zone, week and level from k to its best market's services, the
    zone's inhabitants when a market of that level is within reach by car, else its ``shuttle_share`` when a
    shuttle brings it to one."""
    population = problem.rounds.population
    car = np.zeros((problem.rounds.horizon_weeks, len(population)))
    shuttle = np.zeros_like(car)
    places = {p.place_id: p for p in problem.places}
    for (place, week, slot), services in found.items():
        level = min(len(services), problem.max_level)
        for z in places[place].covers:
            car[week - 1, z] = max(car[week - 1, z], level)
        for k, zones in places[place].by_shuttle:
            for z in zones if k == slot else ():
                shuttle[week - 1, z] = max(shuttle[week - 1, z], level)
    per_person = round(problem.sync_eur_per_person / problem.rounds.horizon_weeks * 100)  # cents, as the model
    cents = 0
    for (w, z), by_car in np.ndenumerate(car):
        for j in range(problem.min_services, problem.max_level + 1):
            if by_car >= j:
                cents += round(per_person * float(population[z]))
            elif shuttle[w, z] >= j:
                cents += round(per_person * problem.shuttle_share * float(population[z]))
    return cents / 100


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
