"""Exports for the crews of the trucks: CSV, iCalendar, GeoJSON and a printable weekly sheet, per truck.

French first: column names of the crew files, day names and the sheet are in French; ``lang="en"``
switches the sheet's labels.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import folium
import icalendar
import pandas as pd

from planner.exports._safe import csv_format_for, file_names, html_text, write_csv
from planner.exports.calendar import Event, holiday_subdivision, plan_end, public_holidays, weekly_calendar
from planner.exports.geo import write_geojson
from planner.exports.maps import legend, point, route_line, standalone_html
from planner.exports.sheets import render
from planner.i18n import attribution, date_text, label, number, percent
from planner.jobs.rounds import RoundsRun

# Truck colours: none green, so a route reads over the access-time fill (greens and yellows).
TRUCK_COLOURS = ["#7570b3", "#e7298a", "#000000", "#d95f02", "#1f78b4", "#a6761d", "#6a3d9a", "#666666"]
CREW_COLUMNS = {
    "week": "semaine",
    "day_name": "jour",
    "date": "date",
    "order": "ordre",
    "name": "arret",
    "address": "adresse",
    "arrival": "arrivee",
    "start": "debut",
    "end": "fin",
    "leg_drive_min": "trajet_min",
    "leg_dist_km": "trajet_km",
    "lat": "latitude",
    "lon": "longitude",
}
SHEET = {
    "fr": {
        "title": "Tournée de la semaine",
        "sheet": "Feuille de route",
        "truck": "Véhicule",
        "week_of": "Semaine du",
        "stops": "arrêts",
        "driving": "de conduite",
        "back": "Retour",
        "holiday": "Jour férié",
        "day": "Jour",
        "stop": "Arrêt",
        "address": "Adresse",
        "time": "Horaires",
        "drive": "Trajet",
        "departure": "Départ du dépôt",
        "return": "Retour",
        "lunch": "Pause",
        "total": "Total",
        "week": "Semaine",
        "none": "aucun arrêt",
    },
    "en": {
        "title": "Round of week",
        "sheet": "Round sheet",
        "truck": "Vehicle",
        "week_of": "Week of",
        "stops": "stops",
        "driving": "driving",
        "back": "Back",
        "holiday": "Public holiday",
        "day": "Day",
        "stop": "Stop",
        "address": "Address",
        "time": "Times",
        "drive": "Drive",
        "departure": "Leaves depot",
        "return": "Back",
        "lunch": "Break",
        "total": "Total",
        "week": "Week",
        "none": "no stop",
    },
}


def crew_table(run: RoundsRun, vehicle_id: str) -> pd.DataFrame:
    """The visits of one truck, in order, with French column names."""
    visits = run.visits[run.visits["vehicle_id"] == vehicle_id] if len(run.visits) else run.visits
    return visits.reindex(columns=list(CREW_COLUMNS)).rename(columns=CREW_COLUMNS)


def holidays_of(run: RoundsRun) -> dict[dt.date, str]:
    """The public holidays between the plan's first day and its end date, for its territory."""
    last = plan_end(run.start_date, run.spec.horizon_weeks, run.spec.end_date)
    return public_holidays(run.start_date, last, holiday_subdivision(run.territory.zones["zone_id"]))


def calendar(
    run: RoundsRun,
    vehicle_id: str,
    *,
    generated: dt.datetime | None = None,
    holidays_off: dict[dt.date, str] | None = None,
) -> icalendar.Calendar:
    """One event per stop visit (address, times, coordinates), repeating every horizon until the plan's
    end date, public holidays left out. A UID names the slot (truck, week, day, order in the day)."""
    visits = run.visits[run.visits["vehicle_id"] == vehicle_id].itertuples() if len(run.visits) else []
    events = (
        Event.at(
            visit,
            f"{vehicle_id}-s{visit.week}-j{visit.day}-{visit.order}@maillage",
            f"{visit.name} ({vehicle_id})",
            visit.address,
            f"Arrivée {visit.arrival}, trajet {visit.leg_drive_min:g} min "
            f"({visit.leg_dist_km:g} km) depuis l'étape précédente.",
        )
        for visit in visits
    )
    return weekly_calendar(
        "rounds",
        f"Tournée {vehicle_id}",
        run.start_date,
        events,
        run.spec.horizon_weeks,
        until=plan_end(run.start_date, run.spec.horizon_weeks, run.spec.end_date),
        holidays_off=holidays_of(run) if holidays_off is None else holidays_off,
        generated=generated,
    )


def _week(run: RoundsRun, number_: int, routes: pd.DataFrame, visits: pd.DataFrame, lang: str) -> dict[str, object]:
    """One page of the sheet: the week's days with their stops, and the week's own totals."""
    off = holidays_of(run)
    monday = run.start_date + dt.timedelta(weeks=number_ - 1)
    days = []
    for route in routes[routes["week"] == number_].sort_values("day").itertuples() if len(routes) else []:
        stops = visits[(visits["week"] == route.week) & (visits["day"] == route.day)]
        if not len(stops):
            continue
        date = monday + dt.timedelta(days=int(route.day) - 1)
        days.append(
            {
                "date": date_text(date, lang),
                "holiday": off.get(date, ""),
                "departure": route.departure,
                "back": route.back,
                "lunch": route.lunch,
                "visits": [
                    {
                        "name": v.name,
                        "address": v.address,
                        "start": v.start,
                        "end": v.end,
                        "drive": number(v.leg_drive_min, lang),
                        "km": number(v.leg_dist_km, lang, 1),
                    }
                    for v in stops.itertuples()
                ],
            }
        )
    mine = routes[routes["week"] == number_] if len(routes) else routes
    return {
        "number": number_,
        "monday": date_text(monday, lang),
        "days": days,
        "stops": sum(len(d["visits"]) for d in days),  # type: ignore[arg-type]
        "km": number(mine["dist_km"].sum() if len(mine) else 0, lang),
        "drive": number(mine["drive_min"].sum() / 60 if len(mine) else 0, lang, 1),
    }


def weekly_sheet(run: RoundsRun, vehicle_id: str, lang: str = "fr") -> str:
    """A printable HTML sheet of the truck's horizon: one page per week, with its heading, its French
    dates and its own totals (stops, km, hours of driving); the data sources at the foot of each page."""
    t = SHEET[lang]
    routes = run.routes[run.routes["vehicle_id"] == vehicle_id] if len(run.routes) else run.routes
    visits = run.visits[run.visits["vehicle_id"] == vehicle_id] if len(run.visits) else run.visits
    weeks = [_week(run, w, routes, visits, lang) for w in range(1, run.spec.horizon_weeks + 1)]
    return render(
        "round.html.j2",
        lang=lang,
        t=t,
        title=f"{t['sheet']} — {t['truck']} {vehicle_id}",
        vehicle=vehicle_id,
        weeks=weeks,
        attribution=attribution(lang, road=run.travel.get("model") == "road"),
    )


def rounds_map(run: RoundsRun, base: folium.Map, lang: str = "fr") -> folium.Map:
    """Add the rounds to a map: one colour per truck (in a legend), one layer per weekday (the day filters), stops."""
    if len(run.routes) == 0:
        return base
    colours = {
        v: TRUCK_COLOURS[i % len(TRUCK_COLOURS)] for i, v in enumerate(sorted(run.routes["vehicle_id"].unique()))
    }
    rows = [(f"background:{colour}", str(vehicle)) for vehicle, colour in colours.items()]
    base.add_child(legend(label("truck", lang), rows, side="left"))
    for day, lines in run.routes.groupby("day"):
        layer = folium.FeatureGroup(name=html_text(f"Tournées — {lines['day_name'].iloc[0]}"))
        layer.add_to(base)
        for route in lines.itertuples():
            tooltip = f"{route.vehicle_id}, {route.day_name} (semaine {route.week})"
            route_line(layer, route.geometry, colours[route.vehicle_id], tooltip)
        for visit in run.visits[run.visits["day"] == day].itertuples():
            tooltip = (
                f"{visit.name} : {visit.day_name} {visit.start}–{visit.end} (semaine {visit.week}, {visit.vehicle_id})"
            )
            point(layer, visit.lat, visit.lon, colours[visit.vehicle_id], tooltip, radius=6)
    return base


FLEET_FILES = ("visits.csv", "routes.geojson", "stops.geojson", "stops_left_out.csv", "map.html")


def rounds_tables(run: RoundsRun) -> dict[str, pd.DataFrame]:
    """The fleet's tables, by file name: every visit, and the candidate stops left out with the reason."""
    left = pd.DataFrame(sorted(run.result.left_out.items()), columns=["stop_id", "reason"])
    return {"visits.csv": run.visits, "stops_left_out.csv": left}


def write_rounds(
    run: RoundsRun, folder: Path, base_map: folium.Map, lang: str = "fr", *, csv_format: str | None = None
) -> list[str]:
    """Write the rounds outputs into ``folder``; return the paths written, relative to it.

    Each truck's files go in a folder named by :func:`~planner.exports._safe.file_names` from its id.
    CSV files are in ``csv_format`` (default: by language); GeoJSON as RFC 7946, a route written for
    each truck-day (without geometry when the truck does not leave its depot).
    """
    fmt = csv_format_for(lang, csv_format)
    generated, off = dt.datetime.now(dt.UTC), holidays_of(run)
    written = []
    names = file_names((v.vehicle_id for v in run.spec.fleet), taken=FLEET_FILES)
    for vehicle in run.spec.fleet:
        name = names[vehicle.vehicle_id]
        truck = folder / name
        truck.mkdir(parents=True, exist_ok=True)
        write_csv(crew_table(run, vehicle.vehicle_id), truck / "itineraire.csv", fmt)
        ics = calendar(run, vehicle.vehicle_id, generated=generated, holidays_off=off)
        (truck / "itineraire.ics").write_bytes(ics.to_ical())
        (truck / "feuille-de-route.html").write_text(weekly_sheet(run, vehicle.vehicle_id, lang), encoding="utf-8")
        mine = run.routes[run.routes["vehicle_id"] == vehicle.vehicle_id] if len(run.routes) else run.routes
        if len(mine):
            write_geojson(mine, truck / "tournees.geojson")
        written += [f"{name}/{n}" for n in ("itineraire.csv", "itineraire.ics", "feuille-de-route.html")]
        written += [f"{name}/tournees.geojson"] if len(mine) else []
    tables = rounds_tables(run)
    write_csv(tables["visits.csv"], folder / "visits.csv", fmt)
    if len(run.routes):
        write_geojson(run.routes, folder / "routes.geojson")
        written.append("routes.geojson")
    stops = run.places[run.places["site_id"].isin(run.result.open_stops)][["site_id", "name", "address", "geometry"]]
    write_geojson(stops, folder / "stops.geojson")
    write_csv(tables["stops_left_out.csv"], folder / "stops_left_out.csv", fmt)
    (folder / "map.html").write_text(standalone_html(rounds_map(run, base_map)), encoding="utf-8")
    return [*written, "visits.csv", "stops.geojson", "stops_left_out.csv", "map.html"]


def rounds_headline(run: RoundsRun, lang: str = "fr") -> list[str]:
    """The lines printed after a rounds run: stops, people served, driving, CO2, solve status."""
    k = run.kpis
    gap = percent(k["gap"], lang)
    if lang == "fr":
        return [
            f"Tournées : {k['stops_open']} arrêts sur {k['truck_days']} journées-véhicule "
            f"({run.spec.horizon_weeks} semaine(s)), {k['stops_left_out']} arrêts candidats écartés",
            f"  à moins de {k['serve_within_min']:g} min d'un arrêt : {number(k['population_near_a_stop'], lang)} hab. "
            f"({percent(k['share_near_a_stop'], lang)})",
            f"  {number(k['km_per_week'], lang)} km, {number(k['drive_hours_per_week'], lang, 1)} h de conduite, "
            f"{number(k['co2_kg_per_week'], lang)} kg de CO2 et {number(k['cost_eur_per_week'], lang)} EUR par semaine",
            f"  résolution : {k['status']}, écart à la borne {gap}, {number(k['solve_time_s'], lang, 1)} s",
        ]
    return [
        f"Rounds: {k['stops_open']} stops on {k['truck_days']} truck-days ({run.spec.horizon_weeks} week(s)), "
        f"{k['stops_left_out']} candidate stops left out",
        f"  within {k['serve_within_min']:g} min of a stop: {number(k['population_near_a_stop'], lang)} "
        f"({percent(k['share_near_a_stop'], lang)})",
        f"  {number(k['km_per_week'], lang)} km, {number(k['drive_hours_per_week'], lang, 1)} h driving, "
        f"{number(k['co2_kg_per_week'], lang)} kg CO2 and {number(k['cost_eur_per_week'], lang)} EUR per week",
        f"  solve: {k['status']}, gap to bound {gap}, {number(k['solve_time_s'], lang, 1)} s",
    ]
