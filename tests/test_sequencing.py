"""Tests for optimize._sequencing: the exact order of a truck-day's stops, checked by hand."""

import numpy as np
import pytest

from optimize._sequencing import Break, sequence_day

# depot 0, stops 1 and 2 on a line: 0 --30 min-- 1 --20 min-- 2, so 0 -> 2 is 50 min
TIME = np.array([[0, 30, 50], [30, 0, 20], [50, 20, 0]], dtype=float)
COST = TIME * 2  # 2 EUR per minute


def _day(stops, windows=None, shift=(480, 1080), max_drive=600, lunch=None, service=None):
    return sequence_day(
        stops,
        depot=0,
        time_min=TIME,
        arc_cost=COST,
        service_min=service or {1: 60, 2: 60},
        windows=windows or {1: [shift], 2: [shift]},
        shift=shift,
        max_drive_min=max_drive,
        lunch=lunch,
    )


def test_single_stop_by_hand():
    """Leave at 08:00, 30 min to stop 1, serve 60 min, 30 min back: home at 10:00, 60 min driving."""
    plan = _day([1])
    assert (plan.departure_min, plan.arrival_min, plan.end_min, plan.return_min) == (480, (510,), (570,), 600)
    assert plan.drive_min == 60 and plan.cost == 120


def test_late_window_delays_departure():
    """Stop 2 opens at 14:00: the truck leaves at 13:10 rather than wait there all morning."""
    plan = _day([2], windows={2: [(840, 1000)]})
    assert plan.departure_min == 790 and plan.start_min == (840,) and plan.return_min == 950


def test_windows_force_the_order():
    """Both orders drive 100 min; stop 1 open only in the afternoon forces 2 first."""
    plan = _day([1, 2], windows={1: [(840, 1000)], 2: [(480, 700)]})
    assert plan.order == (2, 1)
    assert plan.start_min == (530, 840)  # leave 08:00, 50 min to stop 2, then 20 min to 1 and wait for 14:00


def test_lunch_break_after_a_stop():
    """Lunch 11:30-14:00 for 60 min: taken after the morning stop, the afternoon stop starts after it."""
    lunch = Break(690, 840, 60)
    plan = _day([1, 2], service={1: 150, 2: 150}, lunch=lunch)
    first_end = plan.end_min[0]
    assert plan.break_start_min == max(first_end, 690)
    assert plan.arrival_min[1] >= plan.break_start_min + 60 + 20


def test_lunch_before_leaving_when_that_is_the_only_way():
    """A 3-hour service from 13:00 cannot end before 14:00: lunch at the depot 11:30-12:30, arrive 13:20."""
    lunch = Break(690, 840, 60)
    plan = _day([2], windows={2: [(780, 1080)]}, service={2: 180}, lunch=lunch)
    assert plan.break_start_min == 690 and plan.departure_min == 750
    assert plan.start_min == (800,) and plan.return_min == 1030


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"windows": {1: [(480, 520)], 2: [(480, 1080)]}}, "stop 1's window is shorter than its service"),
        ({"max_drive": 90}, "the day drives 100 min"),
        ({"shift": (480, 660)}, "two services and 100 min of driving exceed a 3-hour shift"),
        ({"lunch": Break(690, 760, 60), "service": {1: 200, 2: 200}}, "no 60-min gap fits in 11:30-12:40"),
    ],
)
def test_infeasible_days(kwargs, why):
    """Days that cannot work return None."""
    assert _day([1, 2], **kwargs) is None, why


def test_too_many_stops_is_refused():
    """More than six stops cannot be sequenced exactly and say so."""
    with pytest.raises(ValueError, match="at most 6"):
        _day(list(range(1, 8)))
