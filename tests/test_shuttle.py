"""Tests for optimize.shuttle: a tiny dial-a-ride against its brute-force optimum, the checker, bad input."""

from __future__ import annotations

import math
from dataclasses import replace
from itertools import pairwise, permutations

import numpy as np
import pytest

from optimize._errors import ProblemError
from optimize.shuttle import Coach, Request, ShuttleProblem, solve
from tests.shuttle_checker import check

# Locations: 0 = depot, 1 = village V, 2 = village W, 3 = the market.
TIME = np.array([[0, 10, 20, 15], [10, 0, 12, 20], [20, 12, 0, 10], [15, 20, 10, 0]], dtype=float)
DIST = TIME * 1000


def _problem(capacity: int = 10, max_ride: int = 60, free: tuple[int, int] = (480, 1020)) -> ShuttleProblem:
    """Riders of V and W to the market by 10:00, and back after a two-hour stay."""
    requests = (
        Request("V-out", 1, 3, 3, (480, 600), (540, 600), max_ride),
        Request("W-out", 2, 3, 4, (480, 600), (540, 600), max_ride),
        Request("V-back", 3, 1, 3, (600, 900), (600, 960), max_ride, after="V-out", stay_min=120),
        Request("W-back", 3, 2, 4, (600, 900), (600, 960), max_ride, after="W-out", stay_min=120),
    )
    coach = Coach("car", 0, capacity, free)
    return ShuttleProblem(requests, (coach,), TIME, DIST, boarding_min=2)


def _route_cost(problem: ShuttleProblem, order: list[int]) -> float:
    """Cost of visiting ``order`` (locations) from the depot and back."""
    coach = problem.coaches[0]
    path = [coach.depot, *order, coach.depot]
    km = sum(DIST[a, b] for a, b in pairwise(path)) / 1000
    minutes = sum(TIME[a, b] for a, b in pairwise(path))
    return km * coach.cost_per_km + minutes / 60 * coach.cost_per_hour


def _brute_force(problem: ShuttleProblem) -> float:
    """The cheapest feasible single-coach order of the outbound calls (the return calls mirror them)."""
    best = math.inf
    calls = [("p", 0), ("p", 1), ("d", 0), ("d", 1)]
    for order in permutations(calls):
        if any(order.index(("d", i)) < order.index(("p", i)) for i in (0, 1)):
            continue
        out = [problem.requests[i].pickup if kind == "p" else problem.requests[i].delivery for kind, i in order]
        back_order = [("p", 2), ("p", 3), ("d", 2), ("d", 3)]
        for back in permutations(back_order):
            if any(back.index(("d", i)) < back.index(("p", i)) for i in (2, 3)):
                continue
            locs = [problem.requests[i].pickup if kind == "p" else problem.requests[i].delivery for kind, i in back]
            seq = [*order, *back]
            if _feasible(problem, seq):
                best = min(best, _route_cost(problem, [*out, *locs]))
    return best


def _feasible(problem: ShuttleProblem, seq: list[tuple[str, int]]) -> bool:
    """Whether a call order fits the windows, ride times, seats and free hours (earliest times, waiting allowed;
    a late start is tried every minute so that waits at the depot are not missed)."""
    coach = problem.coaches[0]
    for leave in range(coach.free[0], coach.free[1]):
        t, place, load, ok = leave, coach.depot, 0, True
        times: dict[tuple[str, int], int] = {}
        for kind, i in seq:
            r = problem.requests[i]
            loc = r.pickup if kind == "p" else r.delivery
            t += math.ceil(TIME[place, loc])
            window = r.pickup_window if kind == "p" else r.delivery_window
            if kind == "p" and r.after is not None:
                before = next(j for j, q in enumerate(problem.requests) if q.request_id == r.after)
                t = max(t, times.get(("d", before), 0) + r.stay_min)
            t = max(t, window[0])
            load += r.riders if kind == "p" else -r.riders
            if t > window[1] or load > coach.capacity:
                ok = False
                break
            times[kind, i] = t
            if kind == "d" and t - times["p", i] - problem.boarding_min > r.max_ride_min:
                ok = False
                break
            t += problem.boarding_min
            place = loc
        if ok and t + math.ceil(TIME[place, coach.depot]) <= coach.free[1]:
            return True
    return False


def test_tiny_dial_a_ride_matches_brute_force():
    """Everyone is carried, the plan passes the checker, and its cost is the brute-force optimum."""
    problem = _problem()
    result = solve(problem, time_limit_s=10, seed=0)
    assert result.unserved == () and result.riders(problem) == 14
    assert check(problem, result) == []
    assert sum(r.cost for r in result.routes) == pytest.approx(_brute_force(problem), abs=0.05)
    assert result.ended_by in ("solution limit", "wall clock")


def test_small_coach_makes_two_trips_or_leaves_riders():
    """Five seats for groups of 3 and 4: the coach never carries both groups at once."""
    problem = _problem(capacity=5)
    result = solve(problem, time_limit_s=10, seed=0)
    assert check(problem, result) == []
    assert all(c.load <= 5 for r in result.routes for c in r.calls)


def test_ride_time_limit_is_kept():
    """With 20 minutes at most on board, no rider rides longer, even if some are left at home."""
    problem = _problem(max_ride=20)
    result = solve(problem, time_limit_s=10, seed=0)
    assert check(problem, result) == []


def test_checker_flags_a_late_delivery():
    """A plan moved an hour late breaks the windows and is flagged."""
    problem = _problem()
    result = solve(problem, time_limit_s=10, seed=0)
    late = tuple(
        replace(
            r,
            calls=tuple(
                replace(c, arrival_min=c.arrival_min + 60, departure_min=c.departure_min + 60) for c in r.calls
            ),
        )
        for r in result.routes
    )
    assert check(problem, replace(result, routes=late))


def test_coach_without_free_hours_is_refused():
    """A coach free from 16:00 to 09:00 and a group larger than any coach: both named at once."""
    base = _problem()
    coach = Coach("car", 0, 10, (960, 540))
    big = replace(base.requests[0], riders=12)
    with pytest.raises(ProblemError) as caught:
        ShuttleProblem((big, *base.requests[1:]), (coach,), TIME, DIST)
    assert "no free hours" in str(caught.value) and "12 riders" in str(caught.value)


def test_same_seed_gives_the_same_plan():
    """The search ends on its solution count, not the clock: two runs give the same routes and times."""
    problem = _problem(capacity=5)
    first = solve(problem, time_limit_s=60, seed=3, solutions=15)
    second = solve(problem, time_limit_s=60, seed=3, solutions=15)
    assert first.ended_by == second.ended_by == "solution limit"
    assert first.routes == second.routes and first.unserved == second.unserved
    assert first.info.objective == second.info.objective


def test_unserved_requests_get_their_reason():
    """A coach free only from 10:30 cannot bring V's riders by 10:00 (and so not take them back); a ride
    limit shorter than W's direct trip leaves W out; the checker still passes."""
    base = _problem()
    late = ShuttleProblem(base.requests, (Coach("car", 0, 10, (630, 1020)),), TIME, DIST, boarding_min=2)
    result = solve(late, time_limit_s=10, seed=0)
    assert check(late, result) == []
    assert result.reasons == {"V-out": "coach_hours", "V-back": "partner", "W-out": "coach_hours", "W-back": "partner"}
    short = replace(base.requests[1], max_ride_min=5)
    ride = ShuttleProblem((base.requests[0], short, *base.requests[2:]), base.coaches, TIME, DIST, boarding_min=2)
    result = solve(ride, time_limit_s=10, seed=0)
    assert check(ride, result) == []
    assert result.reasons == {"W-out": "ride_too_long", "W-back": "partner"}
    assert set(result.unserved) == {"W-out", "W-back"}


def test_a_day_without_any_free_coach_leaves_every_trip_with_its_reason():
    """No coach free that day: the day is still a problem (not refused), every trip is left out as "no_coach"."""
    base = _problem()
    idle = ShuttleProblem(base.requests, (), TIME, DIST, boarding_min=2)
    result = solve(idle, time_limit_s=5, seed=0)
    assert result.routes == () and set(result.unserved) == {r.request_id for r in base.requests}
    assert set(result.reasons.values()) == {"no_coach"}


def test_a_return_is_never_served_without_its_outbound():
    """V's outbound window closes before any coach can be there, its return alone would fit: neither is
    served, and the checker flags a plan carrying the return alone."""
    base = _problem()
    gone = replace(base.requests[0], pickup_window=(480, 485), delivery_window=(490, 495))
    problem = ShuttleProblem((gone, *base.requests[1:]), base.coaches, TIME, DIST, boarding_min=2)
    result = solve(problem, time_limit_s=10, seed=0)
    assert {"V-out", "V-back"} <= set(result.unserved) and result.reasons["V-back"] == "partner"
    assert check(problem, result) == []
    assert check(problem, replace(result, unserved=("V-out",)))


def test_every_reason_has_words_in_both_languages():
    """The reasons reach the left-out table and the report through the label table, French and English."""
    from optimize.shuttle import REASONS
    from planner.i18n import LABELS

    assert all(f"shuttle_why_{code}" in LABELS[lang] for code in REASONS for lang in ("fr", "en"))


def test_the_communes_a_coach_can_bring_to_a_market_follow_its_free_hours():
    """A commune 25 min from the market and from the depot: a coach free from 9:15 cannot bring it to an 8:30
    market (riders must arrive within its first hour to stay two hours), can to a 10:00 one, and can on a
    Wednesday when it is free from 8:30; a commune 70 min away is beyond the longest ride whatever the hours."""
    from planner.jobs.coach_trips import coaches_free, reachable
    from planner.scenario import ShuttleSpec

    spec = ShuttleSpec.model_validate(
        {
            "usage_rate": 0.1,
            "usage_source": "test",
            "share_without_car": 0.1,
            "car_source": "test",
            "coaches": [
                {
                    "coach_id": "car",
                    "depot": "depot",
                    "capacity": 30,
                    "free": [
                        {"days": [1], "start": "09:15", "end": "16:15"},
                        {"days": [3], "start": "08:30", "end": "17:30"},
                    ],
                }
            ],
        }
    )
    # 0 depot, 1 market, 2 near commune, 3 far commune
    minutes = np.array([[0, 25, 25, 70], [25, 0, 25, 70], [25, 25, 0, 90], [70, 70, 90, 0]], dtype=float)
    homes = {"near": 2, "far": 3}
    monday, wednesday = coaches_free(spec, 1), coaches_free(spec, 3)
    assert coaches_free(spec, 2) == ()
    assert reachable(spec, monday, minutes, homes, 1, (510, 690)) == set()
    assert reachable(spec, monday, minutes, homes, 1, (600, 780)) == {"near"}
    assert reachable(spec, wednesday, minutes, homes, 1, (510, 690)) == {"near"}
    assert reachable(spec, (), minutes, homes, 1, (600, 780)) == set()
