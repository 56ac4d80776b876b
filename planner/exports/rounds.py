"""Exports for the crews of the trucks: CSV, iCalendar, GeoJSON and a printable weekly sheet, per truck.

French first: column names of the crew files, day names and the sheet are in French; ``lang="en"``
switches the sheet's labels.
"""

from __future__ import annotations

from pathlib import Path

import folium
import icalendar
import pandas as pd

from planner.exports._safe import file_names, html_text, write_csv
from planner.exports.calendar import Event, weekly_calendar
from planner.exports.maps import legend, point, standalone_html
from planner.i18n import label, number, percent
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
        "truck": "Véhicule",
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
        "title": "Weekly round",
        "truck": "Vehicle",
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


def calendar(run: RoundsRun, vehicle_id: str) -> icalendar.Calendar:
    """One event per stop visit (address, times, coordinates), repeating every horizon."""
    visits = run.visits[run.visits["vehicle_id"] == vehicle_id].itertuples() if len(run.visits) else []
    events = (
        Event.at(
            visit,
            f"{vehicle_id}-{visit.week}-{visit.day}-{visit.stop_id}@maillage",
            f"{visit.name} ({vehicle_id})",
            visit.address,
            f"Arrivée {visit.arrival}, trajet {visit.leg_drive_min:g} min "
            f"({visit.leg_dist_km:g} km) depuis l'étape précédente.",
        )
        for visit in visits
    )
    return weekly_calendar("rounds", f"Tournée {vehicle_id}", run.start_date, events, run.spec.horizon_weeks)


def weekly_sheet(run: RoundsRun, vehicle_id: str, lang: str = "fr") -> str:
    """A one-page printable HTML sheet of the truck's horizon, one table row per stop."""
    t = SHEET[lang]
    routes = run.routes[run.routes["vehicle_id"] == vehicle_id] if len(run.routes) else run.routes
    visits = run.visits[run.visits["vehicle_id"] == vehicle_id] if len(run.visits) else run.visits
    rows = []
    for route in routes.itertuples():
        stops = visits[(visits["week"] == route.week) & (visits["day"] == route.day)]
        first = True
        for visit in stops.itertuples():
            day = (
                (
                    f"<td rowspan='{len(stops)}'><b>{route.day_name} {visit.date}</b><br>{t['departure']} "
                    f"{route.departure} · {t['return']} {route.back}"
                    + (f"<br>{t['lunch']} {route.lunch}" if route.lunch else "")
                    + "</td>"
                )
                if first
                else ""
            )
            rows.append(
                f"<tr>{day}<td>{html_text(visit.name)}</td><td>{html_text(visit.address)}</td>"
                f"<td>{visit.start}–{visit.end}</td><td>{number(visit.leg_drive_min, lang)} min · "
                f"{number(visit.leg_dist_km, lang, 1)} km</td></tr>"
            )
            first = False
    km = number(routes["dist_km"].sum() if len(routes) else 0, lang)
    body = "".join(rows) or f"<tr><td colspan='5'>{t['none']}</td></tr>"
    return f"""<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">
<title>{t["title"]} {html_text(vehicle_id)}</title>
<style>@page {{ size: A4 landscape; margin: 12mm; }} body {{ font: 11pt sans-serif; }}
table {{ border-collapse: collapse; width: 100%; }} th, td {{ border: 1px solid #999; padding: 4px 6px;
vertical-align: top; }} th {{ background: #eee; }}</style></head><body>
<h1>{t["title"]} — {t["truck"]} {html_text(vehicle_id)}</h1>
<p>{t["week"]} 1 : {run.start_date.isoformat()} · {t["total"]} : {km} km</p>
<table><tr><th>{t["day"]}</th><th>{t["stop"]}</th><th>{t["address"]}</th><th>{t["time"]}</th>
<th>{t["drive"]}</th></tr>{body}</table></body></html>"""


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
            folium.PolyLine(
                [(y, x) for x, y in route.geometry.coords],
                color=colours[route.vehicle_id],
                weight=4,
                opacity=0.8,
                tooltip=html_text(f"{route.vehicle_id}, {route.day_name} (semaine {route.week})"),
            ).add_to(layer)
        for visit in run.visits[run.visits["day"] == day].itertuples():
            tooltip = (
                f"{visit.name} : {visit.day_name} {visit.start}–{visit.end} (semaine {visit.week}, {visit.vehicle_id})"
            )
            point(layer, visit.lat, visit.lon, colours[visit.vehicle_id], tooltip, radius=6)
    return base


FLEET_FILES = ("visits.csv", "routes.geojson", "stops.geojson", "stops_left_out.csv", "map.html")


def write_rounds(run: RoundsRun, folder: Path, base_map: folium.Map, lang: str = "fr") -> list[str]:
    """Write the rounds outputs into ``folder``; return the paths written, relative to it.

    Each truck's files go in a folder named by :func:`~planner.exports._safe.file_names` from its id.
    """
    written = []
    names = file_names((v.vehicle_id for v in run.spec.fleet), taken=FLEET_FILES)
    for vehicle in run.spec.fleet:
        name = names[vehicle.vehicle_id]
        truck = folder / name
        truck.mkdir(parents=True, exist_ok=True)
        write_csv(crew_table(run, vehicle.vehicle_id), truck / "itineraire.csv")
        (truck / "itineraire.ics").write_bytes(calendar(run, vehicle.vehicle_id).to_ical())
        (truck / "feuille-de-route.html").write_text(weekly_sheet(run, vehicle.vehicle_id, lang), encoding="utf-8")
        mine = run.routes[run.routes["vehicle_id"] == vehicle.vehicle_id] if len(run.routes) else run.routes
        if len(mine):
            mine.to_file(truck / "tournees.geojson", driver="GeoJSON")
        written += [f"{name}/{n}" for n in ("itineraire.csv", "itineraire.ics", "feuille-de-route.html")]
        written += [f"{name}/tournees.geojson"] if len(mine) else []
    write_csv(run.visits, folder / "visits.csv")
    if len(run.routes):
        run.routes.to_file(folder / "routes.geojson", driver="GeoJSON")
        written.append("routes.geojson")
    stops = run.places[run.places["site_id"].isin(run.result.open_stops)][["site_id", "name", "address", "geometry"]]
    stops.to_file(folder / "stops.geojson", driver="GeoJSON")
    left = pd.DataFrame(sorted(run.result.left_out.items()), columns=["stop_id", "reason"])
    write_csv(left, folder / "stops_left_out.csv")
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
