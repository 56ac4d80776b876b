"""Tests for the independent plan checkers (tests/rounds_checker.py, tests/rooms_checker.py).

The other tests trust ``check(...) == []``: these make sure the checkers do flag a broken plan, one
tampered constraint at a time, so that an empty list means something.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from optimize.rooms import solve as solve_rooms
from optimize.rounds import solve as solve_rounds
from tests.rooms_checker import check as check_rooms
from tests.rounds_checker import check as check_rounds
from tests.test_rooms import _two_villages
from tests.test_rounds import _grid_problem


@pytest.fixture(scope="module")
def rounds_plan():
    """A small valid rounds plan: 8 stops, two trucks, fortnightly visits."""
    problem = _grid_problem(8, 1)
    result = solve_rounds(problem, time_limit_s=10, seed=0)
    assert result.routes and check_rounds(problem, result) == []
    return problem, result


def _first_visit_shortened(result, minutes: int):
    route = result.routes[0]
    visit = route.visits[0]
    moved = replace(visit, end_min=visit.end_min - minutes)
    return replace(result, routes=(replace(route, visits=(moved, *route.visits[1:])), *result.routes[1:]))


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (
            lambda p, r: replace(r, routes=(replace(r.routes[0], drive_min=r.routes[0].drive_min + 30), *r.routes[1:])),
            "drive",
        ),
        (
            lambda p, r: replace(r, routes=(replace(r.routes[0], dist_m=r.routes[0].dist_m + 5000), *r.routes[1:])),
            "distance",
        ),
        (lambda p, r: replace(r, routes=(replace(r.routes[0], day=7), *r.routes[1:])), "does not work that day"),
        (lambda p, r: _first_visit_shortened(r, 10), "service times inconsistent"),
        (lambda p, r: replace(r, routes=(*r.routes, r.routes[0])), "routes on one truck-day"),
        (
            lambda p, r: replace(
                r, open_stops=(*r.open_stops, next(s.stop_id for s in p.stops if s.stop_id not in r.open_stops))
            ),
            "visits, expected",
        ),
    ],
    ids=["drive", "distance", "day off", "service times", "two routes a day", "open but unvisited"],
)
def test_rounds_checker_flags_a_broken_plan(rounds_plan, tamper, expected):
    """Each tampered plan gets at least one violation, naming the broken rule."""
    problem, result = rounds_plan
    problems = check_rounds(problem, tamper(problem, result))
    assert any(expected in line for line in problems), problems


def test_rooms_checker_flags_a_broken_plan():
    """A booking moved out of its slot and a session added twice are both flagged."""
    problem = _two_villages()
    result = solve_rooms(problem, time_limit_s=10, seed=0)
    assert result.bookings and check_rooms(problem, result) == []
    first = result.bookings[0]
    late = replace(first, start_min=first.start_min + 600, end_min=first.end_min + 600)
    problems = check_rooms(problem, replace(result, bookings=(late, *result.bookings[1:])))
    assert any("outside the slot" in line for line in problems), problems
    problems = check_rooms(problem, replace(result, bookings=(*result.bookings, first)))
    assert any("sessions" in line for line in problems), problems
