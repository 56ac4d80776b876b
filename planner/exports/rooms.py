"""Exports of the room bookings: per provider a CSV, an iCalendar and a printable weekly sheet; per
premises used its week's booking grid (HTML and CSV); occupancy of every premises; map layers.

French first: file names, CSV columns, day names and sheets are in French; ``lang="en"`` switches
the labels of the sheets, grids and map.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import folium
import icalendar
import pandas as pd

from optimize.rooms import start_ranges
from planner.data.hours import FRENCH_DAYS
from planner.exports._safe import csv_format_for, file_names, html_columns, html_text, write_csv
from planner.exports.calendar import Event, holiday_subdivision, plan_end, public_holidays, weekly_calendar
from planner.exports.maps import legend, point, standalone_html
from planner.exports.sheets import render
from planner.i18n import attribution, date_text, number, percent
from planner.jobs.rooms import HALF_DAYS, RoomsRun

PROVIDER_COLUMNS = {
    "day_name": "jour",
    "date": "date",
    "half_day": "demi_journee",
    "start": "debut",
    "end": "fin",
    "premises": "lieu",
    "address": "adresse",
    "room": "salle",
    "travel_before_min": "trajet_avant_min",
    "hire_eur": "location_eur",
    "lat": "latitude",
    "lon": "longitude",
}
OCCUPANCY_COLUMNS = {
    "site_id": "lieu_id",
    "name": "lieu",
    "address": "adresse",
    "kind": "type",
    "rooms_count": "salles",
    "half_days_open": "demi_journees_ouvertes",
    "half_days_booked": "demi_journees_reservees",
    "occupancy": "taux_occupation",
}
# Occupancy classes (upper bound of the share of open half-days booked) and their colours.
OCCUPANCY_CLASSES = ((0.0, "#bdbdbd"), (0.25, "#c6dbef"), (0.5, "#6baed6"), (0.75, "#2171b5"), (1.0, "#08306b"))
HALF_DAY_NAMES = {"fr": HALF_DAYS, "en": ("morning", "afternoon")}
SERVICE_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]
TEXT = {
    "fr": {
        "sheet": "Permanences de la semaine",
        "grid": "Réservations de la semaine",
        "day": "Jour",
        "time": "Horaires",
        "place": "Lieu",
        "address": "Adresse",
        "room": "Salle",
        "drive": "Trajet avant",
        "week": "Semaine du",
        "total": "Total",
        "sessions": "permanences",
        "drive_total": "de route",
        "none": "aucune permanence",
        "free": "libre",
        "closed": "fermé",
        "occupancy": "Occupation",
        "half_days": "demi-journées réservées sur",
        "legend": "Occupation des lieux",
        "used": "Lieux de permanence",
        "unused": "Lieux non utilisés",
        "catchment": "Desservi à moins de {minutes:g} min — {service}",
        "unused_label": "aucune réservation",
        "holiday": "Jour férié",
    },
    "en": {
        "sheet": "Sessions of the week",
        "grid": "Bookings of the week",
        "day": "Day",
        "time": "Times",
        "place": "Place",
        "address": "Address",
        "room": "Room",
        "drive": "Drive before",
        "week": "Week of",
        "total": "Total",
        "sessions": "sessions",
        "drive_total": "driving",
        "none": "no session",
        "free": "free",
        "closed": "closed",
        "occupancy": "Occupancy",
        "half_days": "half-days booked out of",
        "legend": "Occupancy of premises",
        "used": "Premises with sessions",
        "unused": "Premises not used",
        "catchment": "Served within {minutes:g} min — {service}",
        "unused_label": "no booking",
        "holiday": "Public holiday",
    },
}


def _mine(table: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    return table[table[column] == value]


def provider_table(run: RoomsRun, provider_id: str) -> pd.DataFrame:
    """One provider's sessions of the week, in time order, with French column names."""
    return (
        _mine(run.bookings, "provider_id", provider_id)
        .reindex(columns=list(PROVIDER_COLUMNS))
        .rename(columns=PROVIDER_COLUMNS)
    )


def holidays_of(run: RoomsRun) -> dict[dt.date, str]:
    """The public holidays between the plan's first day and its end date, for its territory."""
    last = plan_end(run.start_date, 1, run.spec.end_date)
    return public_holidays(run.start_date, last, holiday_subdivision(run.territory.zones["zone_id"]))


def calendar(
    run: RoomsRun,
    provider_id: str,
    *,
    generated: dt.datetime | None = None,
    holidays_off: dict[dt.date, str] | None = None,
) -> icalendar.Calendar:
    """One weekly event per session, with the premises' address, the room and the coordinates, until the
    plan's end date, public holidays left out. A UID names the slot (provider, day, half-day)."""
    events = (
        Event.at(
            session,
            f"{provider_id}-j{session.day}-{session.half_day}@maillage",
            f"Permanence {session.service} — {session.premises}",
            f"{session.premises}, {session.room}, {session.address}",
            f"Salle : {session.room}. Trajet depuis l'étape précédente : {session.travel_before_min:g} min.",
        )
        for session in _mine(run.bookings, "provider_id", provider_id).itertuples()
    )
    return weekly_calendar(
        "rooms",
        f"Permanences {provider_id}",
        run.start_date,
        events,
        until=plan_end(run.start_date, 1, run.spec.end_date),
        holidays_off=holidays_of(run) if holidays_off is None else holidays_off,
        generated=generated,
    )


def provider_sheet(run: RoomsRun, provider_id: str, lang: str = "fr") -> str:
    """A one-page printable HTML sheet of the provider's week, one row per session, French dates."""
    t = TEXT[lang]
    off = holidays_of(run)
    provider = next(p for p in run.spec.providers if p.provider_id == provider_id)
    sessions = _mine(run.bookings, "provider_id", provider_id)
    days = _mine(run.provider_days, "provider_id", provider_id)
    rows = [
        {
            "date": date_text(dt.date.fromisoformat(s.date), lang),
            "holiday": off.get(dt.date.fromisoformat(s.date), ""),
            "start": s.start,
            "end": s.end,
            "premises": s.premises,
            "room": s.room,
            "address": s.address,
            "travel": number(s.travel_before_min, lang),
        }
        for s in sessions.itertuples()
    ]
    return render(
        "provider.html.j2",
        lang=lang,
        t=t,
        title=f"{t['sheet']} — {provider.name or provider_id} ({provider.service})",
        monday=date_text(run.start_date, lang),
        sessions=rows,
        km=number(days["drive_km"].sum() if len(days) else 0, lang),
        drive=number(days["drive_min"].sum() / 60 if len(days) else 0, lang, 1),
        attribution=attribution(lang, road=run.travel.get("model") == "road"),
    )


def premises_grid(run: RoomsRun, premises_id: str, lang: str = "fr") -> pd.DataFrame:
    """The week's grid of one premises: a row per room and half-day, a column per day; each cell says
    who holds a session and when, or whether the room is free or closed."""
    t = TEXT[lang]
    problem = run.problem
    premises = next(q for q in problem.premises if q.premises_id == premises_id)
    booked = _mine(run.bookings, "premises_id", premises_id)
    shortest = min((p.session_min for p in problem.providers), default=60)
    days = sorted({s.day for s in problem.slots})
    rows = []
    for room in premises.rooms:
        windows = room.windows if room.windows is not None else premises.windows
        for half, name in enumerate(HALF_DAY_NAMES[lang]):
            row = {"salle": room.name or room.room_id, "demi_journee": name}
            for day in days:
                slot = sorted((s for s in problem.slots if s.day == day), key=lambda s: s.start_min)[half]
                hit = booked[
                    (booked["room_id"] == room.room_id)
                    & (booked["day"] == day)
                    & (booked["half_day"] == HALF_DAYS[half])
                ]
                if len(hit):
                    s = hit.iloc[0]
                    row[FRENCH_DAYS[day - 1]] = f"{s['provider']} ({s['service']}) {s['start']}–{s['end']}"
                else:
                    row[FRENCH_DAYS[day - 1]] = t["free"] if start_ranges(slot, shortest, windows) else t["closed"]
            rows.append(row)
    return pd.DataFrame(rows)


def premises_sheet(run: RoomsRun, premises_id: str, lang: str = "fr") -> str:
    """A printable HTML page of one premises' week: the booking grid and its occupancy."""
    t = TEXT[lang]
    grid = premises_grid(run, premises_id, lang)
    row = run.premises[run.premises["site_id"] == premises_id].iloc[0]
    css = {t["free"]: "free", t["closed"]: "closed"}
    return render(
        "premises.html.j2",
        lang=lang,
        t=t,
        title=f"{t['grid']} — {row['name']}",
        address=row["address"],
        monday=date_text(run.start_date, lang),
        occupancy=percent(row["occupancy"], lang),
        booked=row["half_days_booked"],
        open=row["half_days_open"],
        columns=[str(c) for c in grid.columns],
        rows=[[(str(v), css.get(v, "")) for v in values] for values in grid.itertuples(index=False)],
        attribution=attribution(lang, road=run.travel.get("model") == "road"),
    )


def occupancy_table(run: RoomsRun) -> pd.DataFrame:
    """Every premises with its rooms, open and booked half-days and occupancy rate, busiest first."""
    table = pd.DataFrame(run.premises.drop(columns="geometry"))
    table = table.reindex(columns=list(OCCUPANCY_COLUMNS)).rename(columns=OCCUPANCY_COLUMNS)
    table["taux_occupation"] = table["taux_occupation"].round(3)
    return table.sort_values(["demi_journees_reservees", "lieu_id"], ascending=[False, True])


def occupancy_colour(share: float) -> str:
    """Fill colour of a premises by the share of its open half-days that are booked."""
    return next(colour for upper, colour in OCCUPANCY_CLASSES if share <= upper)


def _occupancy_rows() -> list[tuple[str, str]]:
    """The occupancy classes as legend rows (swatch style, text)."""
    rows, lower = [], None
    for upper, colour in OCCUPANCY_CLASSES:
        rows.append((f"background:{colour}", "0 %" if lower is None else f"{100 * lower:.0f}–{100 * upper:.0f} %"))
        lower = upper
    return rows


def rooms_map(run: RoomsRun, base: folium.Map, lang: str = "fr") -> folium.Map:
    """Add the bookings to a map: premises coloured by occupancy, and per service the zones it reaches."""
    t = TEXT[lang]
    zones = run.served[run.served.geometry.notna()].copy()
    zones["geometry"] = zones.geometry.simplify(0.0005, preserve_topology=True)
    for i, service in enumerate(sorted(run.problem.demand)):
        reached = zones[zones[f"served_{service}"]][["name", "population", "geometry"]]
        if len(reached):
            colour = SERVICE_COLOURS[i % len(SERVICE_COLOURS)]
            folium.GeoJson(  # tooltips and layer names show as HTML: the text is escaped
                html_columns(reached, ["name"]),
                name=html_text(t["catchment"].format(minutes=run.spec.threshold(service), service=service)),
                show=False,
                style_function=lambda _, c=colour: {"fillColor": c, "fillOpacity": 0.35, "color": c, "weight": 1},
                tooltip=folium.GeoJsonTooltip(fields=["name", "population"], aliases=["", "Population"]),
            ).add_to(base)
    used = folium.FeatureGroup(name=t["used"])
    unused = folium.FeatureGroup(name=t["unused"], show=False)
    used.add_to(base)
    unused.add_to(base)
    for row in run.premises.itertuples():
        booked = _mine(run.bookings, "premises_id", row.site_id)
        who = "<br>".join(
            html_text(f"{b.day_name} {b.start}–{b.end} : {b.provider} ({b.service})") for b in booked.itertuples()
        )
        share = f"{t['occupancy']} {percent(row.occupancy, lang)}"
        popup = f"<b>{html_text(row.name)}</b><br>{share}<br>{who or t['unused_label']}"
        point(
            used if len(booked) else unused,
            row.geometry.y,
            row.geometry.x,
            occupancy_colour(row.occupancy),
            f"{row.name} — {share}",
            popup=popup,
            radius=8 if len(booked) else 4,
        )
    base.add_child(legend(TEXT[lang]["legend"], _occupancy_rows(), side="left"))
    return base


def rooms_tables(run: RoomsRun) -> dict[str, pd.DataFrame]:
    """The week's tables, by file name: sessions, occupancy of premises, provider-days, zones served."""
    return {
        "reservations.csv": run.bookings,
        "occupation.csv": occupancy_table(run),
        "journees.csv": run.provider_days,
        "zones_desservies.csv": pd.DataFrame(run.served.drop(columns="geometry")),
    }


def write_rooms(
    run: RoomsRun, folder: Path, base_map: folium.Map, lang: str = "fr", *, csv_format: str | None = None
) -> list[str]:
    """Write the rooms outputs into ``folder``; return the paths written, relative to it.

    Providers' and premises' folders are named by :func:`~planner.exports._safe.file_names` from their ids;
    CSV files are in ``csv_format`` (default: by language).
    """
    fmt = csv_format_for(lang, csv_format)
    generated, off = dt.datetime.now(dt.UTC), holidays_of(run)
    written = []
    providers = file_names(p.provider_id for p in run.spec.providers)
    for provider in run.spec.providers:
        name = f"intervenants/{providers[provider.provider_id]}"
        (folder / name).mkdir(parents=True, exist_ok=True)
        write_csv(provider_table(run, provider.provider_id), folder / name / "planning.csv", fmt)
        ics = calendar(run, provider.provider_id, generated=generated, holidays_off=off)
        (folder / name / "planning.ics").write_bytes(ics.to_ical())
        (folder / name / "feuille-de-semaine.html").write_text(
            provider_sheet(run, provider.provider_id, lang), encoding="utf-8"
        )
        written += [f"{name}/{f}" for f in ("planning.csv", "planning.ics", "feuille-de-semaine.html")]
    used = sorted(set(run.bookings["premises_id"]))
    premises = file_names(used)
    for premises_id in used:
        name = f"lieux/{premises[premises_id]}"
        (folder / name).mkdir(parents=True, exist_ok=True)
        write_csv(premises_grid(run, premises_id, lang), folder / name / "grille.csv", fmt)
        (folder / name / "grille.html").write_text(premises_sheet(run, premises_id, lang), encoding="utf-8")
        written += [f"{name}/grille.csv", f"{name}/grille.html"]
    tables = rooms_tables(run)
    for file, table in tables.items():
        write_csv(table, folder / file, fmt)
    (folder / "map.html").write_text(standalone_html(rooms_map(run, base_map, lang)), encoding="utf-8")
    return [*written, *tables, "map.html"]


def rooms_headline(run: RoomsRun, lang: str = "fr") -> list[str]:
    """The lines printed after a rooms run: sessions, people reached per service, occupancy, driving, status."""
    k = run.kpis
    services = [
        f"  {s} : {number(k['demand_served'][s], lang)} / {number(k['demand_total'][s], lang)} "
        f"({percent(k['share_served'][s], lang)}) à moins de {k['access_min'][s]:g} min"
        if lang == "fr"
        else f"  {s}: {number(k['demand_served'][s], lang)} / {number(k['demand_total'][s], lang)} "
        f"({percent(k['share_served'][s], lang)}) within {k['access_min'][s]:g} min"
        for s in sorted(k["demand_total"])
    ]
    occupancy = percent(k["occupancy_used_premises"], lang)
    if lang == "fr":
        return [
            f"Salles : {k['sessions']} permanences dans {k['premises_used']} lieux "
            f"(occupation des lieux utilisés {occupancy})",
            *services,
            f"  {number(k['provider_km_per_week'], lang)} km et {number(k['provider_hours_per_week'], lang, 1)} h "
            f"de travail des intervenants par semaine, {number(k['hire_eur_per_week'], lang)} EUR de location",
            f"  résolution : {k['status']}, écart à la borne {percent(k['gap'], lang)}, "
            f"{number(k['solve_time_s'], lang, 1)} s",
        ]
    return [
        f"Rooms: {k['sessions']} sessions in {k['premises_used']} premises (occupancy of those used {occupancy})",
        *services,
        f"  {number(k['provider_km_per_week'], lang)} km and {number(k['provider_hours_per_week'], lang, 1)} h "
        f"of provider work per week, {number(k['hire_eur_per_week'], lang)} EUR of hire",
        f"  solve: {k['status']}, gap to bound {percent(k['gap'], lang)}, {number(k['solve_time_s'], lang, 1)} s",
    ]
