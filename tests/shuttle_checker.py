"""An independent checker of a Bussoservice plan: every rider picked up and delivered in time by one coach,
ride times, seats, the coaches' free hours, return trips after the stay and served with their outbound trip
(both or neither); times re-derived from the matrix.

Tests call ``check(problem, result)`` and get the list of violations (empty when the plan is valid).
"""

from __future__ import annotations

import math
from itertools import pairwise

from optimize.shuttle import ShuttleProblem, ShuttleResult


def check(problem: ShuttleProblem, result: ShuttleResult) -> list[str]:
    """All violations of the shuttle plan (empty when valid)."""
    bad: list[str] = []
    seen: dict[str, dict[str, tuple[str, int, int]]] = {}  # request -> kind -> (coach, arrival, departure)
    for route in result.routes:
        bad += _route(problem, route, seen)
    for r in problem.requests:
        bad += _request(r, result, seen.get(r.request_id, {}), seen)
    return bad


def _route(problem: ShuttleProblem, route, seen: dict[str, dict[str, tuple[str, int, int]]]) -> list[str]:
    """A coach's day: depot first and last, free hours, driving times, boarding, seats, windows, places."""
    bad: list[str] = []
    requests = {r.request_id: r for r in problem.requests}
    coach = next(c for c in problem.coaches if c.coach_id == route.coach_id)
    calls = route.calls
    if calls[0].kind != "depot" or calls[-1].kind != "depot" or calls[0].location != coach.depot:
        bad.append(f"coach {coach.coach_id}: does not start and end at its depot")
    if calls[0].departure_min < coach.free[0] or calls[-1].arrival_min > coach.free[1]:
        out = f"{calls[0].departure_min} to {calls[-1].arrival_min}"
        bad.append(f"coach {coach.coach_id}: out from {out}, free {coach.free}")
    span = calls[-1].arrival_min - calls[0].departure_min
    if coach.max_duration_min is not None and span > coach.max_duration_min:
        bad.append(f"coach {coach.coach_id}: out {span} min, at most {coach.max_duration_min}")
    for before, after in pairwise(calls):
        need = math.ceil(problem.time_min[before.location, after.location])
        if after.arrival_min < before.departure_min + need:
            bad.append(f"coach {coach.coach_id}: reaches {after.location} {need} min after leaving too soon")
    load = 0
    for call in calls[1:-1]:
        r = requests[call.request_id]
        if call.departure_min - call.arrival_min < problem.boarding_min:
            bad.append(f"request {r.request_id}: less than {problem.boarding_min} min to board or leave")
        load += r.riders if call.kind == "pickup" else -r.riders
        if load > coach.capacity:
            bad.append(f"coach {coach.coach_id}: {load} riders on {coach.capacity} seats")
        if call.location != (r.pickup if call.kind == "pickup" else r.delivery):
            bad.append(f"request {r.request_id}: {call.kind} at the wrong place")
        window = r.pickup_window if call.kind == "pickup" else r.delivery_window
        if not window[0] <= call.arrival_min <= window[1]:
            bad.append(f"request {r.request_id}: {call.kind} at {call.arrival_min}, window {window}")
        seen.setdefault(r.request_id, {})[call.kind] = (coach.coach_id, call.arrival_min, call.departure_min)
    return bad


def _request(r, result: ShuttleResult, got: dict[str, tuple[str, int, int]], seen) -> list[str]:
    """A request: served by one coach, pickup then delivery, ride time, a return after the stay."""
    rid = r.request_id
    if r.after is not None and (rid in result.unserved) != (r.after in result.unserved):
        return [f"request {rid}: served one way only (its outbound {r.after} is not)"]
    if rid in result.unserved:
        return [f"request {rid}: reported unserved but visited"] if got else []
    if set(got) != {"pickup", "delivery"}:
        return [f"request {rid}: not both picked up and delivered"]
    bad = []
    (coach_p, _, leave), (coach_d, arrive, _) = got["pickup"], got["delivery"]
    if coach_p != coach_d:
        bad.append(f"request {rid}: picked up by {coach_p}, delivered by {coach_d}")
    if arrive < leave:
        bad.append(f"request {rid}: delivered before it is picked up")
    if arrive - leave > r.max_ride_min:
        bad.append(f"request {rid}: {arrive - leave} min on board, at most {r.max_ride_min}")
    after = seen.get(r.after or "", {}).get("delivery")
    if after is not None and got["pickup"][1] < after[1] + r.stay_min:
        bad.append(f"request {rid}: picked up before its riders' {r.stay_min} min at the market")
    return bad
