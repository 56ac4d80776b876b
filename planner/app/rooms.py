"""Page data of the app's rooms page and of a provider's week (the Streamlit layout is in ``app.py``).

Everything here is plain pandas/folium from a ``RoomsRun``, so AppTest and unit tests can check it
without a browser.
"""

from __future__ import annotations

import folium
import pandas as pd

from planner.app.support import Metric, RunRecord, status_text, t
from planner.data.hours import clock_min, clock_text
from planner.exports._safe import csv_text, html_text
from planner.exports.maps import point, standalone_html
from planner.exports.rooms import calendar, provider_sheet, provider_table
from planner.i18n import number, percent
from planner.jobs.rooms import RoomsRun

DAY_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")


def rooms_of(record: RunRecord) -> RoomsRun:
    """The rooms stage of a run (the page only keeps runs that have one)."""
    rooms = record.run.rooms
    assert rooms is not None
    return rooms


def rooms_metrics(record: RunRecord, lang: str) -> list[Metric]:
    """Sessions, people reached, occupancy, providers' driving and the solve status."""
    k = rooms_of(record).kpis
    served, total = sum(k["demand_served"].values()), sum(k["demand_total"].values())
    return [
        Metric(t("sessions", lang), number(k["sessions"], lang), t("premises_used", lang, n=k["premises_used"])),
        Metric(
            t("demand_served", lang),
            percent(served / total if total else 0.0, lang),
            t("people", lang, people=number(served, lang)),
        ),
        Metric(
            t("occupancy", lang),
            percent(k["occupancy_used_premises"], lang),
            t("half_days", lang, booked=k["half_days_booked"], open=k["half_days_open"]),
        ),
        Metric(
            t("provider_km", lang),
            f"{number(k['provider_km_per_week'], lang)} km",
            t("provider_hours", lang, hours=number(k["provider_drive_hours_per_week"], lang, 1)),
        ),
        Metric(
            t("solve", lang),
            status_text(k["status"], lang),
            f"{t('ind_gap', lang)} {percent(k['gap'], lang)} · {number(k['solve_time_s'], lang, 1)} s"
            f" · seed {k['seed']}",
        ),
    ]


def services_table(rooms: RoomsRun, lang: str) -> pd.DataFrame:
    """Per service: people who need it, people with a session within its threshold, share."""
    k = rooms.kpis
    return pd.DataFrame(
        {
            t("service", lang): list(k["demand_total"]),
            t("threshold", lang): [f"{k['access_min'][s]:g} min" for s in k["demand_total"]],
            t("need", lang): [round(v) for v in k["demand_total"].values()],
            t("reached", lang): [round(k["demand_served"][s]) for s in k["demand_total"]],
            t("share", lang): [percent(k["share_served"][s], lang) for s in k["demand_total"]],
        }
    )


def provider_labels(rooms: RoomsRun) -> dict[str, str]:
    """Provider id -> its label (name, else id), in the scenario's order."""
    return {p.provider_id: p.name or p.provider_id for p in rooms.spec.providers}


def provider_timeline(rooms: RoomsRun, provider_id: str, lang: str) -> pd.DataFrame:
    """A provider's week in the rows ``app_support.week_chart`` draws: each session and the drive before it."""
    mine = rooms.bookings[rooms.bookings["provider_id"] == provider_id]
    rows = []
    for b in mine.itertuples():
        start, end = clock_min(b.start), clock_min(b.end)
        day = f"{b.day_name} {pd.Timestamp(b.date):%d/%m}"
        legs: list[tuple[str, str, float, float]] = [("kind_session", f"{b.premises} · {b.room}", start, end)]
        if b.travel_before_min > 0:
            drive = f"{number(b.travel_before_min, lang)} min"
            legs.insert(0, ("kind_drive", drive, start - float(b.travel_before_min), start))
        for kind, what, begin, finish in legs:
            rows.append(
                {
                    t("day", lang): day,
                    t("kind", lang): t(kind, lang),
                    t("what", lang): what,
                    "start_min": begin,
                    "end_min": finish,
                    t("start", lang): clock_text(begin),
                    t("end", lang): clock_text(finish),
                    "order": int(b.day),
                }
            )
    return pd.DataFrame(rows)


def provider_files(rooms: RoomsRun, provider_id: str, lang: str) -> dict[str, bytes]:
    """The provider's files: ``planning.csv``, ``planning.ics``, ``feuille-de-semaine.html``."""
    return {
        "planning.csv": csv_text(provider_table(rooms, provider_id)).encode("utf-8"),
        "planning.ics": calendar(rooms, provider_id).to_ical(),
        "feuille-de-semaine.html": provider_sheet(rooms, provider_id, lang).encode("utf-8"),
    }


def provider_map(rooms: RoomsRun, provider_id: str, lang: str) -> str:
    """A standalone map of the provider's week: one dot per premises used, the day's sessions joined in order."""
    mine = rooms.bookings[rooms.bookings["provider_id"] == provider_id]
    if mine.empty:
        centre = rooms.territory.zones.geometry.union_all().centroid
        return standalone_html(folium.Map([centre.y, centre.x], zoom_start=9, tiles="OpenStreetMap"))
    fmap = folium.Map([mine["lat"].mean(), mine["lon"].mean()], zoom_start=10, tiles="OpenStreetMap")
    for i, (_, sessions) in enumerate(mine.groupby("day", sort=True)):
        colour = DAY_COLOURS[i % len(DAY_COLOURS)]
        layer = folium.FeatureGroup(name=str(sessions["day_name"].iloc[0]))
        if len(sessions) > 1:
            folium.PolyLine(sessions[["lat", "lon"]].to_numpy().tolist(), color=colour, weight=3).add_to(layer)
        for b in sessions.itertuples():
            text = f"{b.day_name} {b.start}–{b.end} : {b.premises} ({b.room})"
            point(layer, b.lat, b.lon, colour, text, popup=html_text(f"{text}, {b.address}"))
        layer.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return standalone_html(fmap)
