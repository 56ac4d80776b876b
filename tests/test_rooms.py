"""Tests for optimize.rooms: hand-checkable optima, a brute-force optimum, every constraint checked."""

from __future__ import annotations

from itertools import combinations, pairwise, product

import numpy as np
import pytest

from optimize._errors import InfeasibleError, ProblemError
from optimize.rooms import Premises, Provider, Room, RoomsProblem, half_days, solve
from tests.rooms_checker import check

ALL_WEEK = tuple((d, 480, 1080) for d in range(1, 6))  # 08:00-18:00, Monday to Friday


def _line(*minutes_from_home: float) -> np.ndarray:
    """Travel times for a home (location 0) and places on a straight road at the given minutes from it."""
    points = np.array([0.0, *minutes_from_home])
    return np.abs(points[:, None] - points[None, :])


def _problem(premises, providers, time_min, demand, covers, **kwargs) -> RoomsProblem:
    return RoomsProblem(tuple(premises), tuple(providers), time_min, demand, covers, **kwargs)


def _two_villages(**kwargs) -> RoomsProblem:
    """A provider with one session; A reaches a zone of 100 people, B two zones of 30."""
    premises = [Premises("A", "A", 1, (Room("salle"),)), Premises("B", "B", 2, (Room("salle"),))]
    provider = Provider("caf", "caf", 0, sessions_per_week=1)
    demand = {"caf": np.array([100.0, 30.0, 30.0])}
    return _problem(premises, [provider], _line(10, 10), demand, {"caf": ((0,), (1, 2))}, **kwargs)


def test_most_people_reached_without_balance():
    """Without the balance bonus the session goes where most people are: A, 100 people."""
    result = solve(_two_villages(balance_bonus=0), time_limit_s=10, seed=0)
    assert result.info.status == "optimal" and result.info.objective == pytest.approx(100.0)
    assert result.bookings[0].premises_id == "A" and result.demand_served["caf"] == 100
    assert check(_two_villages(balance_bonus=0), result) == []


def test_balance_bonus_reaches_more_zones_with_real_demand():
    """With a bonus of 50 per zone of >= 10 people, B (30 + 30 + 2 x 50 = 160) beats A (100 + 50)."""
    problem = _two_villages(balance_bonus=50, real_demand=10)
    result = solve(problem, time_limit_s=10, seed=0)
    assert result.bookings[0].premises_id == "B" and result.info.objective == pytest.approx(160.0)
    assert result.served["caf"].tolist() == [False, True, True] and check(problem, result) == []


def test_cheaper_room_wins_at_equal_coverage():
    """Both rooms reach the same people: A costs 20 min of return trip (10 EUR), B 10 min (5 EUR) plus
    20 EUR of hire; A is chosen, with no hire."""
    premises = [Premises("A", "A", 1, (Room("salle"),)), Premises("B", "B", 2, (Room("salle", hire_eur=20),))]
    provider = Provider("caf", "caf", 0, sessions_per_week=1)
    problem = _problem(premises, [provider], _line(10, 5), {"caf": np.array([50.0])}, {"caf": ((0,), (0,))})
    result = solve(problem, time_limit_s=10, seed=0)
    assert result.info.status == "optimal"
    assert result.bookings[0].premises_id == "A" and result.hire_eur == 0 and result.travel_min == 20


def _north_south(max_travel_min: float) -> RoomsProblem:
    """One working day of up to 9 h, two sessions; A is 40 min north of home (100 people), B 40 min
    south (60); no balance bonus."""
    time_min = np.array([[0, 40, 40], [40, 0, 80], [40, 80, 0]], dtype=float)
    premises = [Premises("A", "A", 1, (Room("salle"),), ALL_WEEK), Premises("B", "B", 2, (Room("salle"),), ALL_WEEK)]
    provider = Provider("ft", "emploi", 0, sessions_per_week=2, max_travel_min=max_travel_min, max_daily_hours=9)
    demand = {"emploi": np.array([100.0, 60.0])}
    return _problem(
        premises, [provider], time_min, demand, {"emploi": ((0,), (1,))}, slots=half_days(days=(1,)), balance_bonus=0
    )


def test_a_day_too_long_keeps_both_sessions_in_one_place():
    """home -> A -> B -> home is 160 min > 120: both sessions in A, 80 min of travel."""
    problem = _north_south(120)
    result = solve(problem, time_limit_s=10, seed=0)
    assert [b.premises_id for b in result.bookings] == ["A", "A"]
    assert result.info.objective == pytest.approx(100) and result.travel_min == 80 and check(problem, result) == []


def test_afternoon_starts_after_the_drive_and_lunch():
    """With 160 min allowed, A in the morning (08:30-11:30) then B: 11:30 + 80 min + 45 min lunch = 13:35."""
    problem = _north_south(160)
    result = solve(problem, time_limit_s=10, seed=0)
    morning, afternoon = sorted(result.bookings, key=lambda b: b.start_min)
    assert (morning.start_min, morning.end_min) == (510, 690)
    assert afternoon.start_min == 690 + 80 + 45 and afternoon.travel_before_min == 80
    assert result.info.objective == pytest.approx(160) and result.travel_min == 160 and check(problem, result) == []


def _random_problem(
    seed: int, n_premises: int = 3, n_providers: int = 2, days: tuple[int, ...] = (1, 2), *, varied: bool = False
) -> RoomsProblem:
    """Premises on a 60 x 60 km square, open all day on some days (``varied``: mornings only, afternoons
    only or all day, and providers working shorter hours and sessions), providers with 2 sessions each."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 60, (n_premises + n_providers, 2))
    time_min = np.linalg.norm(points[:, None] - points[None], axis=2) * 1.3 / 50 * 60
    spans = [[(480, 1080)], [(540, 720)], [(840, 1050)]] if varied else [[(480, 1080)]]
    premises = []
    for q in range(n_premises):
        open_days = [d for d in days if rng.random() < 0.8] or [days[0]]
        hours = spans[int(rng.integers(len(spans)))]
        rooms = tuple(
            Room(
                f"r{i}",
                equipment=frozenset({"confidential"}) if rng.random() < 0.5 else frozenset(),
                hire_eur=float(rng.choice([0, 0, 25])),
            )
            for i in range(1 + (q == 0))
        )
        premises.append(Premises(f"q{q}", f"Q{q}", q, rooms, tuple((d, s, e) for d in open_days for s, e in hours)))
    providers = [
        Provider(
            f"p{p}",
            ("social", "caf")[p % 2],
            n_premises + p,
            sessions_per_week=2,
            session_min=int(rng.choice([120, 180])) if varied else 180,
            windows=tuple((d, 540, 1020) for d in days) if varied else (),
            needs=frozenset({"confidential"}) if p % 2 == 0 else frozenset(),
            max_travel_min=float(rng.choice([120, 180])),
            preferred=frozenset({"q1"}) if p == 1 else frozenset(),
        )
        for p in range(n_providers)
    ]
    zones = rng.uniform(0, 60, (6, 2))
    reach = np.linalg.norm(zones[:, None] - points[None, :n_premises], axis=2) * 1.3 / 50 * 60 <= 20
    covers = tuple(tuple(np.nonzero(reach[:, q])[0].tolist()) for q in range(n_premises))
    population = rng.integers(20, 400, 6).astype(float)
    demand = {"social": population * 0.05, "caf": population * 0.1}
    return _problem(
        premises,
        providers,
        time_min,
        demand,
        {"social": covers, "caf": covers},
        slots=half_days(days=days),
        balance_bonus=5,
        real_demand=10,
    )


def _brute_force(problem: RoomsProblem) -> tuple[float, float]:
    """Best (people-equivalents, then euros) over every choice of sessions, with all-day windows.

    Sessions last 3 h: a morning one ends at 11:30 at the earliest, an afternoon one starts at 14:30
    at the latest, so two sessions fit a day when the drive between them is at most 135 min (with 45
    min for lunch), the day's drive within the provider's limit and sessions plus drive within 8 h.
    """
    rooms = [(q, r) for q in problem.premises for r in q.rooms]
    t, per_hour = problem.time_min, problem.travel_eur_per_hour
    plans = []
    for p in problem.providers:
        single = [
            (q, r, k)
            for q, r in rooms
            for k, slot in enumerate(problem.slots)
            if p.needs <= r.equipment
            and any(d == slot.day for d, _, _ in q.windows)
            and 2 * t[p.home, q.location] <= p.max_travel_min
        ]
        plans.append([c for c in combinations(single, p.sessions_per_week) if len({k for _, _, k in c}) == len(c)])
    best = (-np.inf, np.inf)
    for choice in product(*plans):
        used = [(q.premises_id, r.room_id, k) for sessions in choice for q, r, k in sessions]
        if len(set(used)) < len(used):
            continue
        cost, fits = 0.0, True
        for p, sessions in zip(problem.providers, choice, strict=True):
            for day in {problem.slots[k].day for _, _, k in sessions}:
                places = [q.location for q, _, k in sorted(sessions, key=lambda s: s[2]) if problem.slots[k].day == day]
                path = [p.home, *places, p.home]
                travel = sum(t[a, b] for a, b in pairwise(path))
                fits &= travel <= p.max_travel_min and (len(places) < 2 or t[places[0], places[1]] <= 135)
                fits &= travel + len(places) * p.session_min <= p.max_daily_hours * 60
                cost += travel / 60 * per_hour
            cost += sum(r.hire_eur for _, r, _ in sessions)
            cost += sum(
                problem.off_preference_eur for q, _, _ in sessions if p.preferred and q.premises_id not in p.preferred
            )
        if not fits:
            continue
        value = 0.0
        for service, demand in problem.demand.items():
            reached = {
                z
                for p, sessions in zip(problem.providers, choice, strict=True)
                if p.service == service
                for q, _, _ in sessions
                for z in problem.covers[service][problem.premises.index(q)]
            }
            value += sum(
                demand[z] + (problem.balance_bonus if demand[z] >= problem.real_demand else 0) for z in reached
            )
        best = max(best, (value, -cost), key=lambda v: (round(v[0], 6), v[1]))
    return best[0], -best[1]


def _plan_cost(problem: RoomsProblem, result) -> float:
    providers = {p.provider_id: p for p in problem.providers}
    rooms = {(q.premises_id, r.room_id): r for q in problem.premises for r in q.rooms}
    hire = sum(rooms[b.premises_id, b.room_id].hire_eur for b in result.bookings)
    off = sum(
        problem.off_preference_eur
        for b in result.bookings
        if providers[b.provider_id].preferred and b.premises_id not in providers[b.provider_id].preferred
    )
    return result.travel_min / 60 * problem.travel_eur_per_hour + hire + off


@pytest.mark.parametrize("seed", range(12))
def test_optimum_equals_brute_force(seed):
    """Two providers, three premises, two days: people reached, then euros, as the brute force finds;
    when the brute force finds no plan, the solver explains why."""
    problem = _random_problem(seed)
    value, cost = _brute_force(problem)
    if value == -np.inf:
        with pytest.raises(InfeasibleError):
            solve(problem, time_limit_s=20, seed=0)
        return
    result = solve(problem, time_limit_s=20, seed=0)
    assert result.info.status == "optimal" and check(problem, result) == []
    assert result.info.objective == pytest.approx(value, abs=0.05 * len(problem.demand) * 6)
    assert _plan_cost(problem, result) == pytest.approx(cost, abs=0.05)


def test_larger_plan_satisfies_every_constraint():
    """Eight providers, twelve premises open mornings, afternoons or all day, providers working
    09:00-17:00 with 2 or 3 h sessions, a full week: the checker finds nothing wrong."""
    problem = _random_problem(7, n_premises=12, n_providers=8, days=(1, 2, 3, 4, 5), varied=True)
    result = solve(problem, time_limit_s=20, seed=1)
    assert result.info.status in ("optimal", "feasible") and result.info.bound >= result.info.objective - 1e-6
    assert len(result.bookings) == 16 and check(problem, result) == []


def test_same_seed_same_plan():
    """Two runs with the same seed and limit give the same bookings, to the minute."""
    problem = _random_problem(11, n_premises=10, n_providers=6, days=(1, 2, 3, 4, 5))
    first, second = (solve(problem, time_limit_s=10, seed=5) for _ in range(2))
    assert first.bookings == second.bookings and first.info.objective == second.info.objective


def _one_room(providers, equipment=frozenset(), windows=ALL_WEEK, capacity=6) -> RoomsProblem:
    premises = [Premises("mairie", "Mairie", 1, (Room("salle", capacity=capacity, equipment=equipment),), windows)]
    services = {p.service for p in providers}
    return _problem(
        premises, providers, _line(20), {s: np.array([10.0]) for s in services}, {s: ((0,),) for s in services}
    )


@pytest.mark.parametrize(
    ("providers", "kwargs", "message"),
    [
        (
            [Provider("as", "social", 0, 2, needs=frozenset({"confidential"}), name="Assistante sociale")],
            {},
            "provider Assistante sociale (social) needs a room with confidential: no room of any premises has it",
        ),
        (
            [Provider("atelier", "numerique", 0, 1, seats=10)],
            {"capacity": 6},
            "provider atelier (numerique) needs 10 seats: no room with its equipment has that many",
        ),
        (
            [Provider("n", "notaire", 0, 1, session_min=240, max_daily_hours=3)],
            {},
            "provider n (notaire): a session lasts 4 h, more than its 3 h maximum day",
        ),
        (
            [Provider("caf", "caf", 0, 3, windows=((1, 480, 1080),))],
            {},
            "provider caf (caf) must hold 3 sessions a week but works long enough for a 3 h session "
            "on 2 half-day(s) only",
        ),
        (
            [Provider("caf", "caf", 0, 3)],
            {"windows": ((2, 480, 1080),)},
            "provider caf (caf) must hold 3 sessions a week but a suitable room within reach is open "
            "long enough on 2 half-day(s) only",
        ),
        (
            [Provider("caf", "caf", 0, 1, max_travel_min=30)],
            {},
            "provider caf (caf): no room with its equipment and seats is open for a 3 h session when it works, "
            "within 15 min of its home (half its daily travel)",
        ),
        (
            [Provider("caf", "caf", 0, 4, max_daily_hours=4)],
            {"windows": ((1, 480, 1080), (2, 480, 1080))},
            "provider caf (caf) must hold 4 sessions a week but can hold at most 2: 1 a day within 4 h "
            "(sessions and travel) on the 2 day(s) it can work",
        ),
        (
            [
                Provider("as1", "social", 0, 2, needs=frozenset({"confidential"})),
                Provider("as2", "social", 0, 1, needs=frozenset({"confidential"})),
            ],
            {"equipment": frozenset({"confidential"}), "windows": ((1, 480, 1080),)},
            "providers as1, as2 need a room with confidential: together they must hold 3 sessions a week, "
            "the rooms that have it offer them 2 half-day(s)",
        ),
    ],
)
def test_infeasible_inputs_are_explained(providers, kwargs, message):
    """Impossible equipment, seats, hours, reach and counts raise InfeasibleError in plain words."""
    with pytest.raises(InfeasibleError) as caught:
        solve(_one_room(providers, **kwargs), time_limit_s=5, seed=0)
    assert message in str(caught.value)


def test_solver_names_providers_in_conflict():
    """Two providers with two sessions each, one room open on Monday only: the solver names both."""
    problem = _one_room(
        [Provider("caf", "caf", 0, 2, name="CAF"), Provider("ft", "emploi", 0, 2, name="France Travail")],
        windows=((1, 480, 1080),),
    )
    with pytest.raises(InfeasibleError, match="cannot all hold their weekly sessions") as caught:
        solve(problem, time_limit_s=5, seed=0)
    assert "CAF" in str(caught.value) and "France Travail" in str(caught.value)


def test_problem_validation():
    """Mismatched matrices, three slots a day and a service without demand are refused at construction."""
    premises = [Premises("A", "A", 1, (Room("salle"),))]
    caf = Provider("caf", "caf", 0, 1)
    with pytest.raises(ValueError, match="square matrix"):
        _problem(premises, [caf], np.zeros((2, 3)), {"caf": np.zeros(1)}, {"caf": ((0,),)})
    with pytest.raises(ValueError, match="at most a morning and an afternoon"):
        _problem(premises, [caf], _line(5), {"caf": np.zeros(1)}, {"caf": ((0,),)}, slots=half_days() + half_days())
    with pytest.raises(ValueError, match="service 'caf' needs demand and covers"):
        _problem(premises, [caf], _line(5), {}, {})
    with pytest.raises(ProblemError) as caught:  # every problem at once, not the first
        _problem(premises, [caf, caf], np.zeros((2, 3)), {}, {}, slots=half_days() + half_days())
    assert len(caught.value.problems) == 3 + 5, caught.value.problems  # matrix, ids, service, 5 days
