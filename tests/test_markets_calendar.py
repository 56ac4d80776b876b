"""The markets' posters, their calendar feeds and the crews' and providers' calendars give the same dates,
over the whole year of the Lozère markets plan (months with five Tuesdays, public holidays included)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import icalendar
import pandas as pd
import pytest

from optimize.markets import visit_slot
from planner.exports import rooms as rooms_export
from planner.exports import rounds as rounds_export
from planner.exports.markets import months, place_calendar, plan_until, poster, schedule, sessions_run
from planner.jobs.coverage import run_coverage
from planner.jobs.markets import MarketsRun, run_markets
from planner.jobs.rooms import run_rooms
from planner.jobs.rounds import run_rounds
from planner.scenario import load_scenario
from tests.test_calendar import occurrences

ROOT = Path(__file__).resolve().parents[1]
Presence = dict[tuple[str, dt.date, str], set[str]]  # (place, date, half-day) -> services there


@pytest.fixture(scope="module")
def run() -> MarketsRun:
    """The Lozère markets plan at short limits (its searches end on counted work: the same plan each time)."""
    scenario = load_scenario(ROOT / "scenarios" / "lozere-markets.yaml").with_solver(time_limit_s=5, seed=1)
    assert scenario.rooms is not None and scenario.markets is not None
    rooms = scenario.rooms
    scenario = scenario.override(markets=scenario.markets.override(time_limit_s=30))
    coverage = run_coverage(scenario)
    return run_markets(scenario, coverage, run_rounds(scenario, coverage), run_rooms(scenario, coverage, rooms))


def _events(cal: icalendar.Calendar) -> dict[str, icalendar.Event]:
    """A calendar's events by UID."""
    return {str(e["uid"]): e for e in cal.walk("VEVENT") if isinstance(e, icalendar.Event)}


def _from_crews_and_providers(run: MarketsRun) -> Presence:
    """Who is at each market place, on each date and half-day, read from the crews' and providers' calendars."""
    place_of = {run.problem.rooms.premises[p.premises].premises_id: p.place_id for p in run.problem.places}
    place_of.update(
        {run.problem.rounds.stops[p.stop].stop_id: p.place_id for p in run.problem.places if p.stop is not None}
    )
    half_day = dict(zip(run.markets["slot"], run.markets["half_day"], strict=True))
    entities = run.problem.entities()
    present: Presence = {}
    for vehicle in run.rounds.visits["vehicle_id"].unique():
        events = _events(rounds_export.calendar(run.rounds, vehicle))
        for v in run.rounds.visits[run.rounds.visits["vehicle_id"] == vehicle].itertuples():
            if v.stop_id in place_of:
                minutes = [int(t[:2]) * 60 + int(t[3:]) for t in (v.start, v.end)]
                k = visit_slot(run.problem.rooms, int(v.day), *minutes)
                for start in occurrences(events[f"{vehicle}-s{v.week}-j{v.day}-{v.order}@maillage"]):
                    key = (place_of[v.stop_id], start.date(), half_day.get(k, f"slot {k}"))
                    present.setdefault(key, set()).add(entities[vehicle])
    sessions = sessions_run(run)
    for provider in sessions.bookings["provider_id"].unique():
        events = _events(rooms_export.calendar(sessions, provider))
        for b in sessions.bookings[sessions.bookings["provider_id"] == provider].itertuples():
            if b.premises_id in place_of:
                for start in occurrences(events[f"{provider}-j{b.day}-{b.half_day}@maillage"]):
                    present.setdefault((place_of[b.premises_id], start.date(), b.half_day), set()).add(b.service)
    return present


def test_posters_feeds_and_calendars_give_the_same_market_dates(run: MarketsRun) -> None:
    """Every date a poster prints is a date its place's feed gives and a date the crews' and providers'
    calendars bring those very services there; every date those calendars bring two services or more
    to a market place is on its poster. Over a year, with months of five Tuesdays and public holidays."""
    names = {v: k for k, v in run.spec.service_names.items()}
    from_calendars = {key: found for key, found in _from_crews_and_providers(run).items() if len(found) >= 2}
    from_posters: Presence = {}
    for place in sorted(set(run.markets["place_id"])):
        lines = schedule(run, place)
        text = poster(run, place)
        feed = _events(place_calendar(run, place))
        assert len(feed) == len(lines)
        for line, event in zip(lines, feed.values(), strict=True):
            assert [d.date() for d in occurrences(event)] == list(line.dates)  # the feed: the poster's dates
            assert all(month in text for month in months(line.dates))  # printed on the poster
            for day in line.dates:
                found = from_posters.setdefault((place, day, line.half_day), set())
                found.update(names.get(s, s) for s in line.services.split(", "))
    assert from_posters and from_posters == from_calendars


def test_a_bus_one_week_in_two_follows_its_crews_cycle(run: MarketsRun) -> None:
    """A market where a bus comes one week of the fortnight (a bus visit of the plan, said to meet a provider
    at a market place): its poster line is "one ... in two", and the poster's dates, the place's feed and
    the bus crew's calendar give the very same days over the year, months of five such weekdays included,
    public holidays left out of all three."""
    visit = run.rounds.visits.iloc[0]
    place = str(run.places["site_id"].iloc[0])
    forged = pd.DataFrame(
        [{**run.markets.iloc[0].to_dict(), "place_id": place, "week": visit.week, "day": visit.day,
          "half_day": "matin", "start": visit.start, "end": visit.end, "services": "caf;france_services"}]
    )  # fmt: skip
    market = replace(run, markets=forged)
    (line,) = schedule(market, place)
    assert line.every_weeks == 2 and "sur deux" in line.when
    crew = _events(rounds_export.calendar(run.rounds, visit.vehicle_id))
    days = [
        d.date() for d in occurrences(crew[f"{visit.vehicle_id}-s{visit.week}-j{visit.day}-{visit.order}@maillage"])
    ]
    feed = [d.date() for d in occurrences(next(iter(_events(place_calendar(market, place)).values())))]
    assert list(line.dates) == feed == days
    assert all(month in poster(market, place) for month in months(line.dates))
    first, last = run.start_date, plan_until(run)
    assert (last - first).days + 1 == 52 * 7  # a whole year of weeks
    same_weekday = [first + dt.timedelta(days=int(visit.day) - 1, weeks=w) for w in range(52)]
    five = [m for m in range(1, 13) if sum(d.month == m for d in same_weekday) == 5]
    assert five  # e.g. March 2027: five Mondays and five Tuesdays
    for m in five:  # there the market keeps its fortnight (a public holiday skips one)
        there = [d for d in days if d.month == m and d.year == first.year]
        assert there and all((b - a).days % 14 == 0 for a, b in pairwise(there))


def test_shuttle_reach_respects_the_coaches_hours(run: MarketsRun) -> None:
    """The joint plan values the communes a coach can bring to a market at that half-day (their people without a
    car): never one within the access time by car, and on school days none to a market opening at 8:30 (the
    coaches are free from 9:15 and riders must arrive within the market's first hour to stay two hours there);
    on Wednesdays, when the coaches are free all day, some."""
    spec = run.spec.shuttle
    assert spec is not None and run.problem.shuttle_share == spec.share_without_car
    slots = run.problem.rooms.slots
    brought = {slots[k].day: 0 for k in range(len(slots))}
    for place in run.problem.places:
        for k, zones in place.by_shuttle:
            assert not set(zones) & set(place.covers), place.place_id
            assert slots[k].day == 3 or slots[k].start_min > 9 * 60, (place.place_id, slots[k])
            brought[slots[k].day] += len(zones)
    assert brought[3] > max(brought[d] for d in (1, 2, 4, 5)) > 0
