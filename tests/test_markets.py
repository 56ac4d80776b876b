"""Tests for optimize.markets: a tiny joint instance against its brute-force optimum, the checker, bad input."""

from __future__ import annotations

from dataclasses import replace
from itertools import product

import numpy as np
import pytest

from optimize import rooms as rooms_model
from optimize import rounds as rounds_model
from optimize._errors import InfeasibleError, ProblemError
from optimize.markets import MarketPlace, MarketsProblem, markets_of, solve
from optimize.rooms import Premises, Provider, Room, RoomsProblem, half_days
from optimize.rounds import RoundsProblem, Stop, Vehicle
from tests.markets_checker import check

# Locations: 0 = place A, 1 = place B, 2 = the truck's depot, 3 = the provider's home.
TIME = np.array(
    [
        [0, 30, 10, 20],
        [30, 0, 40, 20],
        [10, 40, 0, 30],
        [20, 20, 30, 0],
    ],
    dtype=float,
)
DIST = TIME * 1000  # 60 km/h
POPULATION = np.array([1000.0, 1000.0])  # zone 0 near A, zone 1 near B


def _problem(
    sync: float, *, must_gather: tuple[str, ...] = (), rooms_at_a: int = 1, shuttle_share: float = 0.0
) -> MarketsProblem:
    """One truck (stops A and B, weekly, Monday), one provider (one weekly session at A or B, Monday): the
    truck prefers A (its depot is closer), the provider B (more people need it there). With ``shuttle_share``,
    a shuttle brings zone 1 to a Monday-morning market at A (its share of the people count)."""
    rounds = RoundsProblem(
        stops=(Stop("A", "A", 0, 120, visits_per_week=1), Stop("B", "B", 1, 120, visits_per_week=1)),
        vehicles=(Vehicle("bus", 2, days=(1,), lunch=None, services=("fs",)),),
        time_min=TIME,
        dist_m=DIST,
        covers=((0,), (1,)),
        population=POPULATION,
        horizon_weeks=1,
        days=(1,),
        person_value=0.1,
        max_stops_per_day=1,
    )
    rooms = RoomsProblem(
        premises=(
            Premises("A", "A", 0, tuple(Room(f"r{i}") for i in range(rooms_at_a))),
            Premises("B", "B", 1, (Room("r0"),)),
        ),
        providers=(Provider("caf", "caf", 3, sessions_per_week=1),),
        time_min=TIME,
        demand={"caf": np.array([50.0, 60.0])},
        covers={"caf": ((0,), (1,))},
        slots=half_days(days=(1,)),
        balance_bonus=0.0,
    )
    brought = ((0, (1,)),) if shuttle_share else ()
    places = (MarketPlace("A", 0, 0, (0,), must_gather, brought), MarketPlace("B", 1, 1, (1,)))
    return MarketsProblem(
        rounds, rooms, places, min_services=2, sync_eur_per_person=sync, people_eur=1.0, shuttle_share=shuttle_share
    )


def _brute_force(problem: MarketsProblem) -> float:
    """The best objective over every truck stop and provider session, each costed from the data alone."""
    rounds, rooms = problem.rounds, problem.rooms
    vehicle = rounds.vehicles[0]
    best = -np.inf
    for stop, (place, slot) in product((None, 0, 1), product((0, 1), (0, 1))):
        value = 0.0
        if stop is not None:
            trip_min = TIME[2, stop] + TIME[stop, 2]
            trip_km = (DIST[2, stop] + DIST[stop, 2]) / 1000
            cost = trip_km * vehicle.cost_per_km + trip_min / 60 * vehicle.cost_per_hour
            cost += trip_km * vehicle.co2_g_per_km / 1e6 * rounds.carbon_price_per_t
            value += round(POPULATION[stop] * rounds.person_value * 100) / 100 - round(cost * 100) / 100
        value += rooms.demand["caf"][place] * problem.people_eur
        value -= round((TIME[3, place] + TIME[place, 3]) * rooms.travel_eur_per_hour / 60 * 100) / 100
        truck_morning = stop is not None  # a one-stop day starts at the shift's start: a morning visit
        if truck_morning and stop == place and slot == 0:
            value += round(problem.sync_eur_per_person * 100) * POPULATION[place] / 100
            if place == 0:  # zone 1 brought to A by the shuttle, if any
                value += round(round(problem.sync_eur_per_person * 100) * problem.shuttle_share * POPULATION[1]) / 100
        elif problem.places[0].must_gather:
            continue  # the place's must_gather never meets
        best = max(best, value)
    return best


@pytest.mark.parametrize("sync", [0.0, 0.01, 0.05, 1.0])
def test_joint_plan_matches_brute_force(sync):
    """For each weight of synchronisation, the solver's objective is the brute-force optimum, the plan
    passes the independent checker, and a market appears exactly when it pays."""
    problem = _problem(sync)
    result = solve(problem, time_limit_s=10, seed=0)
    assert result.info.status == "optimal"
    assert result.info.objective == pytest.approx(_brute_force(problem), abs=0.011)
    assert check(problem, result) == []
    if sync == 0.0:
        assert result.markets == ()
    if sync == 1.0:
        assert len(result.markets) == 1 and set(result.markets[0].services) == {"fs", "caf"}
        assert result.sync_value == pytest.approx(1000.0)


@pytest.mark.parametrize("sync", [0.01, 0.05, 1.0])
def test_joint_plan_with_a_shuttle_matches_brute_force(sync):
    """The people a shuttle brings to a market count (their share), and the optimum is still the brute force's."""
    problem = _problem(sync, shuttle_share=0.5)
    result = solve(problem, time_limit_s=10, seed=0)
    assert result.info.status == "optimal"
    assert result.info.objective == pytest.approx(_brute_force(problem), abs=0.011)
    assert check(problem, result) == []


def test_the_people_a_shuttle_brings_make_a_market_pay():
    """At 1 cent a person, the market at A is worth exactly its cost (the plan without it is as good); when a
    shuttle can bring zone 1 to it (half of its people count), the market pays 5 EUR more and is held at A."""
    nothing = solve(_problem(0.0), time_limit_s=10, seed=0)
    without = solve(_problem(0.01), time_limit_s=10, seed=0)
    with_shuttle = solve(_problem(0.01, shuttle_share=0.5), time_limit_s=10, seed=0)
    assert without.info.objective == pytest.approx(nothing.info.objective)
    assert [m.place_id for m in with_shuttle.markets] == ["A"]
    assert with_shuttle.sync_value == pytest.approx(10.0 + 5.0)
    assert with_shuttle.info.objective == pytest.approx(nothing.info.objective + 5.0)


def test_separate_plans_make_no_market_here():
    """Planned each on its own, the truck goes to A and the provider to B: no market (the baseline)."""
    problem = _problem(0.0)
    result = solve(problem, time_limit_s=10, seed=0)
    assert [r.visits[0].stop_id for r in result.rounds.routes] == ["A"]
    assert [b.premises_id for b in result.rooms.bookings] == ["B"]
    assert markets_of(problem, result.rounds, result.rooms) == ()


def test_must_gather_forces_a_market():
    """Without any synchronisation value, a place that must gather the bus and the provider gets them."""
    problem = _problem(0.0, must_gather=("bus", "caf"))
    result = solve(problem, time_limit_s=10, seed=0)
    assert [(m.place_id, set(m.services)) for m in result.markets] == [("A", {"fs", "caf"})]
    assert result.info.objective == pytest.approx(_brute_force(problem), abs=0.011)
    assert check(problem, result) == []


def test_checker_catches_a_wrong_market_list():
    """A result whose market list or synchronisation value disagrees with its bookings is flagged."""
    problem = _problem(1.0)
    result = solve(problem, time_limit_s=10, seed=0)
    assert any("markets reported" in v for v in check(problem, replace(result, markets=())))
    assert any("synchronisation value" in v for v in check(problem, replace(result, sync_value=0.0)))


def test_one_room_cannot_host_two_providers_at_once():
    """A place with one room where two providers must meet: refused with every problem named."""
    base = _problem(0.0)
    second = Provider("msa", "msa", 3, sessions_per_week=1)
    rooms = replace(
        base.rooms,
        providers=(*base.rooms.providers, second),
        demand={**base.rooms.demand, "msa": np.array([5.0, 5.0])},
        covers={**base.rooms.covers, "msa": ((0,), (1,))},
    )
    places = (MarketPlace("A", 0, 0, (0,), ("caf", "msa", "ghost")), base.places[1])
    with pytest.raises(ProblemError) as caught:
        MarketsProblem(base.rounds, rooms, places)
    text = str(caught.value)
    assert "2 providers must be there at once" in text and "1 room(s)" in text and "ghost" in text


def test_must_gather_that_cannot_meet_is_infeasible():
    """Two providers who both must be at A, but the provider works only one half-day: no plan."""
    base = _problem(0.0, rooms_at_a=2)
    second = Provider("msa", "msa", 3, sessions_per_week=1, windows=((1, 810, 1050),))  # afternoons only
    first = replace(base.rooms.providers[0], windows=((1, 510, 750),))  # mornings only
    rooms = replace(
        base.rooms,
        providers=(first, second),
        demand={**base.rooms.demand, "msa": np.array([5.0, 5.0])},
        covers={**base.rooms.covers, "msa": ((0,), (1,))},
    )
    problem = MarketsProblem(base.rounds, rooms, (MarketPlace("A", 0, 0, (0,), ("caf", "msa")), base.places[1]))
    with pytest.raises(InfeasibleError, match="can never be there together"):
        solve(problem, time_limit_s=5, seed=0)


def test_markets_command_shares_the_solving_options():
    """`maillage markets` takes the options every solving command takes."""
    from typer.testing import CliRunner

    from planner.cli import app

    result = CliRunner().invoke(app, ["markets", "--help"])
    assert result.exit_code == 0
    for option in ("--out", "--force", "--cache-dir", "--lang", "--time-limit", "--seed", "--csv-format"):
        assert option in result.output


def test_greedy_alignment_moves_only_the_providers():
    """The benchmark's baseline: from the separate plans, each provider re-placed once, the trucks kept."""
    problem = _problem(1.0)
    separate = solve(_problem(0.0), time_limit_s=10, seed=0)
    aligned = solve(problem, time_limit_s=10, seed=0, start=(separate.rounds, separate.rooms), greedy=True)
    assert [r.visits[0].stop_id for r in aligned.rounds.routes] == ["A"]  # the truck stays at A
    assert [(m.place_id, set(m.services)) for m in aligned.markets] == [("A", {"fs", "caf"})]  # the provider joins it
    assert check(problem, aligned) == [] and aligned.info.status == "feasible"


def test_a_cancelled_solve_stops_with_nothing_kept():
    """A run cancelled before it starts raises Cancelled, in the markets and the shuttle solvers alike."""
    import threading

    from optimize import shuttle
    from optimize._cancel import Cancelled
    from tests.test_shuttle import _problem as shuttle_problem

    event = threading.Event()
    event.set()
    with pytest.raises(Cancelled):
        solve(_problem(1.0), time_limit_s=10, seed=0, cancel=event)
    with pytest.raises(Cancelled):
        shuttle.solve(shuttle_problem(), time_limit_s=10, seed=0, cancel=event)


def _medium(seed: int = 7) -> MarketsProblem:
    """Eight towns on a 60 km square, two trucks and four providers over a fortnight: large enough that the
    neighbourhood searches end on their work, not on proving their optimum."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 60, size=(8, 2))
    minutes = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * 1.2)
    population = rng.integers(500, 5000, size=8).astype(float)
    covers = tuple(tuple(int(z) for z in np.nonzero(minutes[t] <= 20)[0]) for t in range(8))
    rounds = RoundsProblem(
        stops=tuple(Stop(f"S{t}", f"S{t}", t, 150, visits_per_week=0.5) for t in range(8)),
        vehicles=tuple(Vehicle(f"bus{v}", v, services=("fs",)) for v in range(2)),
        time_min=minutes,
        dist_m=minutes * 1000,
        covers=covers,
        population=population,
        horizon_weeks=2,
        person_value=0.5,
        max_stops_per_day=2,
    )
    services = ("caf", "msa", "emploi", "banque")
    rooms = RoomsProblem(
        premises=tuple(Premises(f"S{t}", f"S{t}", t, (Room("a"), Room("b"))) for t in range(8)),
        providers=tuple(Provider(s, s, 2 * k, sessions_per_week=3, max_travel_min=150) for k, s in enumerate(services)),
        time_min=minutes,
        demand={s: population * rate for s, rate in zip(services, (0.06, 0.05, 0.04, 0.03), strict=True)},
        covers={s: covers for s in services},
        slots=half_days(),
    )
    places = tuple(MarketPlace(f"S{t}", t, t, covers[t]) for t in range(8))
    return MarketsProblem(rounds, rooms, places, sync_eur_per_person=0.5, people_eur=5.0)


def test_the_same_seed_gives_the_same_joint_plan():
    """Two solves with one seed give the very same plan (searches end on counted work, not on the clock),
    and the plan passes the checker; the work limit, not the clock, ended them."""
    problem = _medium()
    separate = (
        rounds_model.solve(problem.rounds, time_limit_s=5, seed=3),
        rooms_model.solve(problem.rooms, time_limit_s=5, seed=3),
    )
    first, second = (solve(problem, time_limit_s=20, seed=3, start=separate) for _ in range(2))
    assert first.rooms.bookings == second.rooms.bookings
    assert first.rounds.routes == second.rounds.routes
    assert first.markets == second.markets and first.info.objective == second.info.objective
    assert first.markets and check(problem, first) == []
    assert first.ended_by in ("work limit", "optimal") and second.ended_by == first.ended_by
