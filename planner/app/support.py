"""Small helpers behind the Streamlit app (``app.py``): labels, uploads, and the data each page shows.

Nothing here knows about widgets: every function takes plain objects (scenarios, run results) and
returns plain data (tables, figures, HTML, bytes), so ``app.py`` stays layout only and these helpers
can be tested without a browser. The heavy optimisation modules are imported only when a page needs
them, so the coverage page opens fast.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import tempfile
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pandas as pd
from pydantic import ValidationError

from planner._errors import InputError, Problem
from planner.data.hours import clock_min, clock_text
from planner.data.layers import read_layer
from planner.i18n import LABELS, number, percent
from planner.jobs.measures import gap_zones
from planner.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    import altair as alt
    import geopandas as gpd

    from planner.data.territory import Territory
    from planner.jobs.coverage import CoverageResult
    from planner.jobs.rounds import RoundsRun
    from planner.jobs.siting import SitingRun
    from planner.runs.pipeline import ScenarioRun

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS_DIR = ROOT / "scenarios"
UPLOAD_DIR = Path(tempfile.gettempdir()) / "maillage-uploads"
LAYER_TYPES = ["geojson", "json", "gpkg", "csv", "parquet", "geoparquet"]
NETWORK_TYPES = ["pbf", "bz2", "osm", "graphml"]
MAX_RUNS_KEPT = 10

APP_LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "language": "Langue",
        "page": "Page",
        "page_coverage": "Couverture",
        "page_rounds": "Tournées",
        "page_week": "Ma semaine",
        "page_plan": "Plan",
        "page_rooms": "Salles",
        "rooms_title": "Permanences d'intervenants dans des locaux vacants",
        "rooms_intro": "Qui tient quelle permanence, dans quelle salle, quel jour : le plus d'habitants "
        "servis près de chez eux, sans double réservation.",
        "sessions": "Permanences",
        "premises_used": "dans {n} lieux",
        "demand_served": "Besoins servis",
        "occupancy": "Occupation des lieux utilisés",
        "half_days": "{booked} demi-journées sur {open} ouvertes",
        "provider_km": "Route des intervenants",
        "provider_hours": "{hours} h de conduite par semaine",
        "services": "Par service",
        "service": "Service",
        "threshold": "Seuil d'accès",
        "need": "Habitants concernés",
        "reached": "Servis",
        "share": "Part",
        "bookings": "Réservations",
        "occupancy_table": "Occupation",
        "rooms_map": "Carte des lieux (couleur : occupation)",
        "who": "Qui ?",
        "provider": "Intervenant",
        "kind_session": "permanence",
        "week_none_any": "Lancez d'abord un calcul sur la page « Tournées » ou « Salles ».",
        "download_planning_ics": "Agenda (iCalendar)",
        "download_planning_sheet": "Feuille de semaine",
        "download_planning_csv": "Planning (CSV)",
        "coverage_title": "Qui vit à plus de {target:g} minutes d'un service ?",
        "coverage_intro": "Temps d'accès de chaque commune au point de service le plus proche, "
        "population à moins de 10, 20, 30 minutes et communes au-delà de l'objectif.",
        "settings": "Réglages",
        "territory": "Territoire",
        "territory_embedded": "Lozère (intégrée)",
        "territory_departement": "Un département",
        "departement": "Département",
        "zones_file": "Zones de demande (remplacent les communes)",
        "sites_file": "Points de service (ajoutés)",
        "upload_help": "GeoJSON, GeoPackage, GeoParquet ou CSV avec colonnes lon/lat (WGS84).",
        "canton_seats": "Un service à chaque chef-lieu de canton",
        "travel": "Temps de trajet",
        "travel_estimate_choice": "Estimation (vol d'oiseau)",
        "travel_network_choice": "Réseau routier OSM (fichier)",
        "speed": "Vitesse moyenne (km/h)",
        "detour": "Facteur de détour (route / vol d'oiseau)",
        "network_file": "Réseau routier (.osm.pbf, .osm.bz2, .osm, .graphml)",
        "network_needed": "Téléversez un réseau routier, ou choisissez l'estimation.",
        "thresholds": "Seuils (minutes)",
        "target": "Objectif (min)",
        "population_total": "Population",
        "within_metric": "À moins de {t} min",
        "people": "{people} hab.",
        "gap_detail": "communes, {people} hab.",
        "p90": "90e centile du temps",
        "gaps_metric": "Au-delà de {target:g} min",
        "gap_list": "Communes au-delà de {target:g} minutes, les plus peuplées d'abord",
        "no_gap": "Aucune commune au-delà de {target:g} minutes.",
        "downloads": "Téléchargements",
        "download_gpkg": "GeoPackage (carte et tables)",
        "download_csv": "CSV par commune",
        "download_gaps": "CSV des zones blanches",
        "download_map": "Carte HTML",
        "notes": "Notes sur les données",
        "col_name": "commune",
        "col_zone_id": "code",
        "col_population": "population",
        "col_time": "temps (min)",
        "col_service": "service le plus proche",
        "error": "Erreur : {message}",
        "unexpected": "Erreur inattendue ({kind}) : {message}",
        "rounds_title": "Tournées des véhicules de service itinérant",
        "rounds_intro": "Quel village chaque véhicule dessert, quel jour, à quelle heure : le plus de "
        "personnes servies pour le moins de route.",
        "scenario": "Scénario",
        "scenario_upload": "… ou téléversez un scénario YAML",
        "time_limit": "Temps de calcul maximal (s)",
        "seed": "Graine (reproductibilité)",
        "run": "Lancer",
        "running": "Calcul en cours…",
        "running_for": "Calcul en cours… {seconds} s",
        "cancel": "Annuler",
        "cancelled": "Calcul annulé après {seconds} s : le solveur est arrêté, les résultats précédents "
        "restent affichés.",
        "done": "Terminé en {seconds} s",
        "failed": "Échec du calcul",
        "no_scenario": "Aucun scénario avec une section {section}: dans scenarios/.",
        "results": "Résultats : {label}",
        "stops": "Arrêts",
        "truck_days": "Journées-véhicule",
        "near_stop": "À moins de {t:g} min d'un arrêt",
        "km_week": "km par semaine",
        "co2_week": "CO2 par semaine",
        "cost_week": "Coût par semaine",
        "solve": "Résolution",
        "coverage_with_stops": "À moins de {t:g} min (services + arrêts)",
        "routes_map": "Tournées sur la carte de couverture",
        "visits": "Arrêts, dans l'ordre",
        "routes": "Journées-véhicule",
        "left_out": "Arrêts candidats écartés",
        "download_zip": "Tout télécharger (zip)",
        "compare": "Comparer deux calculs",
        "compare_need": "Lancez un deuxième calcul (autre temps, autre graine, autre scénario) pour comparer.",
        "run_a": "Calcul A",
        "run_b": "Calcul B",
        "indicator": "indicateur",
        "difference": "B − A",
        "ind_share_target": "part à moins de {t:g} min (services + arrêts)",
        "ind_people_near": "habitants à moins de {t:g} min d'un arrêt",
        "ind_stops": "arrêts ouverts",
        "ind_truck_days": "journées-véhicule",
        "ind_km": "km par semaine",
        "ind_co2": "kg de CO2 par semaine",
        "ind_cost": "EUR par semaine",
        "ind_status": "résolution",
        "ind_gap": "écart à la borne",
        "week_title": "Ma semaine",
        "week_intro": "La semaine d'un véhicule ou d'un intervenant : jour par jour, sa carte, ses fichiers.",
        "week_none": "Lancez d'abord un calcul sur la page « Tournées ».",
        "truck": "Véhicule",
        "week_from": "Calcul : {label}",
        "timeline": "Emploi du temps",
        "kind_stop": "arrêt",
        "kind_drive": "trajet",
        "day": "jour",
        "kind": "type",
        "what": "quoi",
        "start": "début",
        "end": "fin",
        "no_stop": "Aucun arrêt pour ce véhicule dans ce plan.",
        "download_ics": "Agenda (iCalendar)",
        "download_sheet": "Feuille de route imprimable (HTML)",
        "download_crew_csv": "Itinéraire (CSV)",
        "plan_title": "Plan : où ouvrir de nouveaux points de service ?",
        "plan_intro": "Les nouveaux sites fixes qui rapprochent le plus d'habitants d'un service, "
        "puis les tournées pour les personnes encore loin.",
        "before": "Avant : à moins de {t:g} min",
        "after_sites": "Avec les nouveaux sites",
        "after_plan": "Avec les sites et les tournées",
        "chosen_sites": "Sites choisis",
        "tradeoff": "Habitants à moins de {t:g} min selon le nombre de nouveaux sites",
        "new_sites": "nouveaux sites",
        "people_within": "habitants à moins de {t:g} min",
        "chosen_count": "choix du scénario",
        "plan_map": "Carte du plan",
        "col_site": "site",
        "col_kind": "type",
        "col_address": "adresse",
        "col_reach": "habitants à moins de {t:g} min",
        "status_optimal": "optimale",
        "status_feasible": "réalisable",
        "site_town_hall": "mairie",
        "site_service_point": "point de service",
        "site_third_place": "tiers-lieu",
        "site_vacant_premises": "local vacant",
        "site_stop": "arrêt",
    },
    "en": {
        "language": "Language",
        "page": "Page",
        "page_coverage": "Coverage",
        "page_rounds": "Rounds",
        "page_week": "My week",
        "page_plan": "Plan",
        "page_rooms": "Rooms",
        "rooms_title": "Itinerant providers' sessions in vacant premises",
        "rooms_intro": "Who holds which session, in which room, on which day: the most people served "
        "close to home, no double booking.",
        "sessions": "Sessions",
        "premises_used": "in {n} premises",
        "demand_served": "Needs served",
        "occupancy": "Occupancy of the premises used",
        "half_days": "{booked} of {open} open half-days",
        "provider_km": "Providers' driving",
        "provider_hours": "{hours} h at the wheel a week",
        "services": "By service",
        "service": "Service",
        "threshold": "Access threshold",
        "need": "People concerned",
        "reached": "Served",
        "share": "Share",
        "bookings": "Bookings",
        "occupancy_table": "Occupancy",
        "rooms_map": "Premises (colour: occupancy)",
        "who": "Who?",
        "provider": "Provider",
        "kind_session": "session",
        "week_none_any": "Run the rounds or the rooms first (“Rounds” or “Rooms” page).",
        "download_planning_ics": "Calendar (iCalendar)",
        "download_planning_sheet": "Weekly sheet",
        "download_planning_csv": "Schedule (CSV)",
        "coverage_title": "Who lives more than {target:g} minutes from a service?",
        "coverage_intro": "Time from each commune to the nearest service point, population within "
        "10, 20, 30 minutes, and the communes beyond the target.",
        "settings": "Settings",
        "territory": "Territory",
        "territory_embedded": "Lozère (embedded)",
        "territory_departement": "A département",
        "departement": "Département",
        "zones_file": "Demand zones (replace the communes)",
        "sites_file": "Service points (added)",
        "upload_help": "GeoJSON, GeoPackage, GeoParquet, or CSV with lon/lat columns (WGS84).",
        "canton_seats": "One service at each canton seat",
        "travel": "Travel times",
        "travel_estimate_choice": "Estimate (crow-fly)",
        "travel_network_choice": "OSM road network (file)",
        "speed": "Average speed (km/h)",
        "detour": "Detour factor (road / crow-fly)",
        "network_file": "Road network (.osm.pbf, .osm.bz2, .osm, .graphml)",
        "network_needed": "Upload a road network, or choose the estimate.",
        "thresholds": "Thresholds (minutes)",
        "target": "Target (min)",
        "population_total": "Population",
        "within_metric": "Within {t} min",
        "people": "{people} people",
        "gap_detail": "communes, {people} people",
        "p90": "90th percentile time",
        "gaps_metric": "Beyond {target:g} min",
        "gap_list": "Communes beyond {target:g} minutes, most populated first",
        "no_gap": "No commune beyond {target:g} minutes.",
        "downloads": "Downloads",
        "download_gpkg": "GeoPackage (map and tables)",
        "download_csv": "CSV per commune",
        "download_gaps": "CSV of the gaps",
        "download_map": "HTML map",
        "notes": "Notes on the data",
        "col_name": "commune",
        "col_zone_id": "code",
        "col_population": "population",
        "col_time": "time (min)",
        "col_service": "nearest service",
        "error": "Error: {message}",
        "unexpected": "Unexpected error ({kind}): {message}",
        "rounds_title": "Rounds of the mobile-service vehicles",
        "rounds_intro": "Which village each vehicle serves, which day, at what time: the most people "
        "served for the least driving.",
        "scenario": "Scenario",
        "scenario_upload": "… or upload a YAML scenario",
        "time_limit": "Solve time limit (s)",
        "seed": "Seed (reproducibility)",
        "run": "Run",
        "running": "Running…",
        "running_for": "Running… {seconds} s",
        "cancel": "Cancel",
        "cancelled": "Run cancelled after {seconds} s: the solver is stopped, the previous results stay on screen.",
        "done": "Done in {seconds} s",
        "failed": "The run failed",
        "no_scenario": "No scenario with a {section}: section in scenarios/.",
        "results": "Results: {label}",
        "stops": "Stops",
        "truck_days": "Truck-days",
        "near_stop": "Within {t:g} min of a stop",
        "km_week": "km per week",
        "co2_week": "CO2 per week",
        "cost_week": "Cost per week",
        "solve": "Solve",
        "coverage_with_stops": "Within {t:g} min (services + stops)",
        "routes_map": "Rounds over the coverage map",
        "visits": "Stops, in order",
        "routes": "Truck-days",
        "left_out": "Candidate stops left out",
        "download_zip": "Download everything (zip)",
        "compare": "Compare two runs",
        "compare_need": "Run a second time (other limit, seed or scenario) to compare.",
        "run_a": "Run A",
        "run_b": "Run B",
        "indicator": "indicator",
        "difference": "B − A",
        "ind_share_target": "share within {t:g} min (services + stops)",
        "ind_people_near": "people within {t:g} min of a stop",
        "ind_stops": "stops open",
        "ind_truck_days": "truck-days",
        "ind_km": "km per week",
        "ind_co2": "kg CO2 per week",
        "ind_cost": "EUR per week",
        "ind_status": "solve status",
        "ind_gap": "gap to bound",
        "week_title": "My week",
        "week_intro": "One vehicle's or provider's week: day by day, its map, its files.",
        "week_none": "Run the rounds first, on the “Rounds” page.",
        "truck": "Vehicle",
        "week_from": "Run: {label}",
        "timeline": "Timetable",
        "kind_stop": "stop",
        "kind_drive": "driving",
        "day": "day",
        "kind": "kind",
        "what": "what",
        "start": "start",
        "end": "end",
        "no_stop": "No stop for this vehicle in this plan.",
        "download_ics": "Calendar (iCalendar)",
        "download_sheet": "Printable sheet (HTML)",
        "download_crew_csv": "Itinerary (CSV)",
        "plan_title": "Plan: where to open new service points?",
        "plan_intro": "The new fixed sites that bring the most people within reach of a service, then "
        "the rounds for those still far.",
        "before": "Before: within {t:g} min",
        "after_sites": "With the new sites",
        "after_plan": "With the sites and the rounds",
        "chosen_sites": "Chosen sites",
        "tradeoff": "People within {t:g} min by number of new sites",
        "new_sites": "new sites",
        "people_within": "people within {t:g} min",
        "chosen_count": "scenario's choice",
        "plan_map": "Map of the plan",
        "col_site": "site",
        "col_kind": "kind",
        "col_address": "address",
        "col_reach": "people within {t:g} min",
        "status_optimal": "optimal",
        "status_feasible": "feasible",
        "site_town_hall": "town hall",
        "site_service_point": "service point",
        "site_third_place": "third place",
        "site_vacant_premises": "vacant premises",
        "site_stop": "stop",
    },
}


def t(key: str, lang: str = "fr", **values: object) -> str:
    """The app label ``key`` in ``lang``, falling back on the shared labels of ``planner.i18n``."""
    table = APP_LABELS[lang] if key in APP_LABELS[lang] else LABELS[lang]
    return table[key].format(**values)


class Metric(NamedTuple):
    """One headline figure: what ``st.metric`` shows."""

    label: str
    value: str
    help: str | None = None


# --- uploads -------------------------------------------------------------------------------------


def save_upload(name: str, data: bytes) -> Path:
    """Save uploaded bytes under their own name (suffixes kept) in a folder named by their hash."""
    safe = re.sub(r"[^\w.\-]+", "_", Path(name).name).lstrip(".") or "upload"
    folder = UPLOAD_DIR / hashlib.sha256(data).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / safe
    if not path.exists():
        path.write_bytes(data)
    return path


def user_message(exc: BaseException) -> str:
    """The error's message as the user should read it: uploads named as they were, not by temp path."""
    return re.sub(re.escape(str(UPLOAD_DIR)) + r"/[0-9a-f]{16}/", "", str(exc))


def checked_layer(name: str, data: bytes, kind: str) -> Path:
    """Save an uploaded zones or sites file and validate it with the CLI's loader; return its path.

    Raises :class:`InputError` (named after the uploaded file) when the file is not usable.
    """
    path = save_upload(name, data)
    read_layer(path, kind)
    return path


# --- coverage ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageChoice:
    """What the coverage page's widgets chose; ``departement=None`` is the embedded Lozère."""

    departement: str | None = None
    zones: Path | None = None
    sites: Path | None = None
    canton_seats: bool = True
    network: Path | None = None
    speed_kmh: float = 50.0
    detour_factor: float = 1.3
    thresholds_min: tuple[float, ...] = (10.0, 20.0, 30.0)
    target_min: float = 30.0


def coverage_scenario(choice: CoverageChoice) -> Scenario:
    """The scenario the CLI would run for these choices (validated like a scenario file)."""
    raw = {
        "name": "app",
        "territory": {"departement": choice.departement, "zones": choice.zones},
        "services": {"canton_seats": choice.canton_seats, "files": [choice.sites] if choice.sites else []},
        "travel": {
            "model": "road" if choice.network else "estimate",
            "network": choice.network,
            "speed_kmh": choice.speed_kmh,
            "detour_factor": choice.detour_factor,
        },
        "coverage": {"thresholds_min": list(choice.thresholds_min), "target_min": choice.target_min},
    }
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = [Problem(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
        raise InputError("settings", problems) from None


def place_key(scenario: Scenario) -> str:
    """Cache key of the territory and its services (uploads are named by their content hash)."""
    return scenario.model_dump_json(include={"territory", "services"})


def travel_key(scenario: Scenario) -> str:
    """Cache key of the travel model."""
    return scenario.model_dump_json(include={"travel"})


def services_of(territory: Territory) -> gpd.GeoDataFrame:
    """The territory's services, refused when there is none to measure against (as in the CLI)."""
    services = territory.services()
    if services.empty:
        raise InputError.one(
            "services",
            "",
            "no service point to measure against",
            hint="keep the canton seats or upload a service points file",
        )
    return services


def headline_metrics(result: CoverageResult, lang: str, name: str | None = None) -> list[Metric]:
    """Population, population and share within each threshold, P90 time, gap communes.

    ``name`` replaces the territory's name under the population (e.g. the uploaded zones file).
    """
    s = result.summary
    metrics = [Metric(t("population_total", lang), number(s["population_total"], lang), name or s["territory"])]
    for key, people in s["population_within"].items():
        metrics.append(
            Metric(
                t("within_metric", lang, t=key),
                percent(s["share_within"][key], lang),
                t("people", lang, people=number(people, lang)),
            )
        )
    metrics.append(Metric(t("p90", lang), f"{number(s['p90_time_min'], lang, 1)} min"))
    gaps = gap_zones(result.access, float(s["target_min"]))
    metrics.append(
        Metric(
            t("gaps_metric", lang, target=s["target_min"]),
            number(len(gaps), lang),
            t("gap_detail", lang, people=number(gaps["population"].sum(), lang)),
        )
    )
    return metrics


def gap_table(result: CoverageResult, lang: str) -> pd.DataFrame:
    """The ranked gap communes with labelled columns."""
    gaps = gap_zones(result.access, float(result.summary["target_min"]))
    table = pd.DataFrame(gaps[["name", "zone_id", "population", "time_min", "service_name"]])
    table["time_min"] = table["time_min"].round(1)
    columns = {"name": "col_name", "zone_id": "col_zone_id", "population": "col_population"}
    columns |= {"time_min": "col_time", "service_name": "col_service"}
    return table.rename(columns={k: t(v, lang) for k, v in columns.items()}).reset_index(drop=True)


def coverage_file(result: CoverageResult, name: str, lang: str) -> bytes:
    """One file of the CLI's coverage outputs (``coverage.gpkg``, ``access_by_zone.csv``, ...), as bytes."""
    from planner.exports.coverage import write_coverage

    with tempfile.TemporaryDirectory(prefix="maillage-") as folder:
        write_coverage(result, Path(folder), lang)
        return (Path(folder) / name).read_bytes()


# --- scenario runs (rounds and plan pages) -------------------------------------------------------


def scenario_files(section: str, folder: Path = SCENARIOS_DIR) -> list[Path]:
    """The scenario files of ``folder`` that have a ``section`` (``rounds`` or ``siting``); broken ones skipped."""
    found = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            if getattr(load_scenario(path), section) is not None:
                found.append(path)
        except InputError:
            continue
    return found


def uploaded_scenario(name: str, data: bytes) -> Scenario:
    """Load an uploaded scenario file (its data paths are relative to it, so only packaged data works)."""
    return load_scenario(save_upload(name, data))


def with_solver(scenario: Scenario, time_limit_s: float, seed: int) -> Scenario:
    """The scenario with the solve time limit and seed of its rounds, siting and rooms sections replaced."""
    update: dict[str, object] = {}
    for section in ("rounds", "siting", "rooms"):
        spec = getattr(scenario, section)
        if spec is not None:
            update[section] = spec.model_copy(update={"time_limit_s": float(time_limit_s), "seed": int(seed)})
    return scenario.model_copy(update=update)


@dataclass
class RunRecord:
    """One successful scenario run kept in the session: results, maps, and the zipped run folder."""

    number: int
    label: str
    run: ScenarioRun
    lang: str
    maps: dict[str, str] = field(default_factory=dict)
    zip_bytes: bytes = b""
    seconds: float = 0.0
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)


def execute(scenario: Scenario, number_: int, lang: str, progress: Callable[[str], None] = lambda _: None) -> RunRecord:
    """Run the scenario like the CLI, write its folder into a temp dir, keep its maps and a zip of it."""
    from planner.exports._safe import file_name
    from planner.runs.folders import versions, write_json
    from planner.runs.pipeline import run_scenario, write_scenario

    run = run_scenario(scenario, progress=progress)
    progress("outputs")
    slug = file_name(scenario.name)
    with tempfile.TemporaryDirectory(prefix="maillage-") as tmp:
        folder = Path(tmp) / slug
        folder.mkdir()
        files, summary = write_scenario(run, folder, lang)
        write_json(folder / "summary.json", summary)
        write_json(
            folder / "run.json",
            {
                "command": "streamlit app",
                "parameters": scenario.model_dump(mode="json"),
                "travel": run.coverage.travel,
                "versions": versions(),
                "timings_s": run.timings_s,
                "outputs": [*files, "summary.json", "run.json"],
            },
        )
        maps = {
            name: (folder / name).read_text(encoding="utf-8")
            for name in ("rounds/map.html", "siting/map.html", "rooms/map.html", "plan/map.html", "map.html")
            if (folder / name).exists()
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, Path(slug) / path.relative_to(folder))
    solved = scenario.rounds or scenario.siting or scenario.rooms
    limit, seed = (solved.time_limit_s, solved.seed) if solved else (0, 0)
    label = f"#{number_} {scenario.name} — {limit:g} s, seed {seed} ({dt.datetime.now():%H:%M:%S})"
    return RunRecord(number_, label, run, lang, maps, buffer.getvalue(), run.timings_s.get("total", 0.0))


def keep_run(runs: list[RunRecord], record: RunRecord) -> list[RunRecord]:
    """The runs kept in the session after adding ``record`` (the last ``MAX_RUNS_KEPT``)."""
    return [*runs, record][-MAX_RUNS_KEPT:]


def _target(run: ScenarioRun) -> float:
    return float(run.coverage.summary["target_min"])


def rounds_metrics(record: RunRecord, lang: str) -> list[Metric]:
    """The rounds' KPIs: stops, people near a stop, coverage with stops, km, CO2, cost, solve status."""
    rounds = record.run.rounds
    assert rounds is not None
    k = rounds.kpis
    target = _target(record.run)
    share_with_stops = rounds.coverage_with_stops["share_within"].get(f"{target:g}")
    return [
        Metric(t("stops", lang), number(k["stops_open"], lang), f"{t('truck_days', lang)} : {k['truck_days']}"),
        Metric(
            t("near_stop", lang, t=k["serve_within_min"]),
            percent(k["share_near_a_stop"], lang),
            t("people", lang, people=number(k["population_near_a_stop"], lang)),
        ),
        Metric(
            t("coverage_with_stops", lang, t=target),
            percent(share_with_stops, lang) if share_with_stops is not None else "–",
        ),
        Metric(
            t("solve", lang),
            status_text(k["status"], lang),
            f"{t('ind_gap', lang)} {percent(k['gap'], lang)} · {number(k['solve_time_s'], lang, 1)} s"
            f" · seed {k['seed']}",
        ),
        Metric(t("km_week", lang), f"{number(k['km_per_week'], lang)} km"),
        Metric(t("co2_week", lang), f"{number(k['co2_kg_per_week'], lang)} kg"),
        Metric(t("cost_week", lang), f"{number(k['cost_eur_per_week'], lang)} €"),
    ]


def status_text(status: str, lang: str) -> str:
    """A solve status in words (``optimal``, ``feasible``...), translated when known."""
    key = f"status_{status}"
    return t(key, lang) if key in APP_LABELS[lang] else status


def key_figures(record: RunRecord, lang: str) -> list[Metric]:
    """The figures two runs are compared on: coverage with the stops, km and CO2 per week."""
    rounds = record.run.rounds
    assert rounds is not None
    k = rounds.kpis
    target = _target(record.run)
    share = rounds.coverage_with_stops["share_within"].get(f"{target:g}")
    return [
        Metric(t("coverage_with_stops", lang, t=target), percent(share, lang) if share is not None else "–"),
        Metric(t("km_week", lang), f"{number(k['km_per_week'], lang)} km"),
        Metric(t("co2_week", lang), f"{number(k['co2_kg_per_week'], lang)} kg"),
    ]


def compare_runs(a: RunRecord, b: RunRecord, lang: str) -> pd.DataFrame:
    """Two rounds runs side by side (coverage, people served, km, CO2, cost, stops, solve) and B − A."""

    def figures(record: RunRecord) -> dict[str, object]:
        rounds = record.run.rounds
        assert rounds is not None
        k = rounds.kpis
        target = _target(record.run)
        return {
            t("ind_share_target", lang, t=target): 100
            * rounds.coverage_with_stops["share_within"].get(f"{target:g}", float("nan")),
            t("ind_people_near", lang, t=k["serve_within_min"]): k["population_near_a_stop"],
            t("ind_stops", lang): k["stops_open"],
            t("ind_truck_days", lang): k["truck_days"],
            t("ind_km", lang): k["km_per_week"],
            t("ind_co2", lang): k["co2_kg_per_week"],
            t("ind_cost", lang): k["cost_eur_per_week"],
            t("ind_gap", lang): 100 * k["gap"],
            t("ind_status", lang): status_text(k["status"], lang),
        }

    left, right = figures(a), figures(b)
    rows = []
    for name in dict.fromkeys([*left, *right]):
        x, y = left.get(name), right.get(name)
        numeric = isinstance(x, (int, float)) and isinstance(y, (int, float))
        rows.append(
            {
                t("indicator", lang): name,
                f"A: #{a.number}": _cell(x, lang),
                f"B: #{b.number}": _cell(y, lang),
                t("difference", lang): _cell(float(y) - float(x), lang, signed=True) if numeric else "",  # type: ignore[arg-type]
            }
        )
    return pd.DataFrame(rows)


def _cell(value: object, lang: str, *, signed: bool = False) -> str:
    if isinstance(value, (int, float)):
        text = number(float(value), lang, 1 if abs(float(value)) < 100 and not float(value).is_integer() else 0)
        return ("+" if signed and float(value) > 0 else "") + text
    return "" if value is None else str(value)


def visits_table(rounds: RoundsRun) -> pd.DataFrame:
    """Every stop visit of the plan, with the crews' French column names and the vehicle first."""
    from planner.exports.rounds import CREW_COLUMNS

    if rounds.visits.empty:
        return pd.DataFrame(columns=["vehicule", *CREW_COLUMNS.values()])
    table = rounds.visits.reindex(columns=["vehicle_id", *CREW_COLUMNS]).rename(columns=CREW_COLUMNS)
    return table.rename(columns={"vehicle_id": "vehicule"})


def routes_table(rounds: RoundsRun) -> pd.DataFrame:
    """One row per truck-day: departure, return, lunch, driving, km, cost."""
    if rounds.routes.empty:
        return pd.DataFrame()
    return pd.DataFrame(rounds.routes.drop(columns="geometry"))


def left_out_table(rounds: RoundsRun) -> pd.DataFrame:
    """The candidate stops not chosen, with why."""
    names = dict(zip(rounds.places["site_id"], rounds.places["name"], strict=False))
    rows = [(sid, names.get(sid, ""), why) for sid, why in sorted(rounds.result.left_out.items())]
    return pd.DataFrame(rows, columns=["stop_id", "name", "reason"])


# --- my week -------------------------------------------------------------------------------------


def vehicle_ids(rounds: RoundsRun) -> list[str]:
    """The fleet's vehicle ids, in scenario order."""
    return [v.vehicle_id for v in rounds.spec.fleet]


def week_timeline(rounds: RoundsRun, vehicle_id: str, lang: str) -> pd.DataFrame:
    """One row per stop visit and per drive leading to it; times in minutes from midnight and as text."""
    visits = rounds.visits[rounds.visits["vehicle_id"] == vehicle_id] if len(rounds.visits) else rounds.visits
    rows = []
    for v in visits.itertuples():
        day = f"{v.day_name} {dt.date.fromisoformat(v.date):%d/%m}"
        arrival = clock_min(v.arrival)
        legs = [
            (
                "kind_drive",
                f"{number(v.leg_drive_min, lang)} min · {number(v.leg_dist_km, lang, 1)} km",
                arrival - float(v.leg_drive_min),
                arrival,
            ),
            ("kind_stop", str(v.name), clock_min(v.start), clock_min(v.end)),
        ]
        for kind, what, start, end in legs:
            rows.append(
                {
                    t("day", lang): day,
                    t("kind", lang): t(kind, lang),
                    t("what", lang): what,
                    "start_min": start,
                    "end_min": end,
                    t("start", lang): clock_text(start),
                    t("end", lang): clock_text(end),
                    "order": v.week * 10 + v.day,
                }
            )
    return pd.DataFrame(rows)


def week_chart(timeline: pd.DataFrame, lang: str) -> alt.Chart:
    """The week as a Gantt chart: one row per day (7:00 to 19:00), stops in blue, drives in grey."""
    import altair as alt

    day, kind, what, start, end = (t(k, lang) for k in ("day", "kind", "what", "start", "end"))
    days = list(dict.fromkeys(timeline.sort_values("order", kind="stable")[day]))
    low = min(420.0, 60 * (timeline["start_min"].min() // 60))
    high = max(1140.0, 60 * -(-timeline["end_min"].max() // 60))
    colour = alt.Color(
        f"{kind}:N",
        scale=alt.Scale(domain=[t("kind_stop", lang), t("kind_drive", lang)], range=["#2166ac", "#bdbdbd"]),
        legend=alt.Legend(title=None, orient="top"),
    )
    hours = list(range(int(low), int(high) + 1, 60))
    return (
        alt.Chart(timeline.drop(columns="order"))
        .mark_bar(cornerRadius=2)
        .encode(
            x=alt.X(
                "start_min:Q",
                scale=alt.Scale(domain=[low, high], nice=False),
                axis=alt.Axis(values=hours, labelExpr="floor(datum.value / 60) + ':00'", title=None, grid=True),
            ),
            x2="end_min:Q",
            y=alt.Y(
                f"{day}:N",
                sort=days,
                title=None,
                scale=alt.Scale(paddingInner=0.3),
                axis=alt.Axis(labelOverlap=False, labelLimit=200),
            ),
            color=colour,
            tooltip=[f"{day}:N", f"{what}:N", f"{start}:N", f"{end}:N"],
        )
        .properties(height=max(120, 34 * len(days)))
    )


def truck_map(run: ScenarioRun, vehicle_id: str, lang: str) -> str:
    """One vehicle's rounds over the coverage map, as one offline HTML page."""
    from planner.exports.maps import coverage_map, standalone_html
    from planner.exports.rounds import rounds_map

    rounds = run.rounds
    assert rounds is not None
    mine = replace(
        rounds,
        visits=rounds.visits[rounds.visits["vehicle_id"] == vehicle_id] if len(rounds.visits) else rounds.visits,
        routes=rounds.routes[rounds.routes["vehicle_id"] == vehicle_id] if len(rounds.routes) else rounds.routes,
    )
    coverage = run.coverage
    base = coverage_map(
        coverage.access,
        coverage.services,
        target_min=coverage.summary["target_min"],
        travel=coverage.travel,
        lang=lang,
    )
    return standalone_html(rounds_map(mine, base))


def truck_files(rounds: RoundsRun, vehicle_id: str, lang: str) -> dict[str, bytes]:
    """The crew's files of one vehicle: ``itineraire.csv``, ``itineraire.ics``, ``feuille-de-route.html``."""
    from planner.exports._safe import csv_text
    from planner.exports.rounds import calendar, crew_table, weekly_sheet

    return {
        "itineraire.csv": csv_text(crew_table(rounds, vehicle_id)).encode("utf-8"),
        "itineraire.ics": calendar(rounds, vehicle_id).to_ical(),
        "feuille-de-route.html": weekly_sheet(rounds, vehicle_id, lang).encode("utf-8"),
    }


# --- plan (siting) -------------------------------------------------------------------------------


def plan_metrics(record: RunRecord, lang: str) -> list[Metric]:
    """Share within the target before, with the new sites, and with sites and rounds."""
    run = record.run
    target = _target(run)
    key = f"{target:g}"
    before = run.coverage.summary["share_within"].get(key)
    metrics = [Metric(t("before", lang, t=target), percent(before, lang) if before is not None else "–")]
    if run.siting is not None:
        after = run.siting.summary_after["share_within"].get(key)
        if after is not None:
            metrics.append(Metric(t("after_sites", lang), percent(after, lang), _delta_points(after, before, lang)))
    if run.rounds is not None and run.plan_summary:
        after_plan = run.plan_summary["share_within_after"].get(key)  # type: ignore[attr-defined]
        if after_plan is not None:
            metrics.append(
                Metric(t("after_plan", lang), percent(after_plan, lang), _delta_points(after_plan, before, lang))
            )
    return metrics


def _delta_points(after: float, before: float | None, lang: str) -> str | None:
    if before is None:
        return None
    return f"+{number(100 * (after - before), lang, 1)} pts"


def chosen_table(siting: SitingRun, lang: str) -> pd.DataFrame:
    """The new sites: name, kind, address, people they bring within the radius."""
    table = pd.DataFrame(siting.chosen.reindex(columns=["name", "kind", "address", "population_within"]))
    table["kind"] = [t(f"site_{k}", lang) if f"site_{k}" in APP_LABELS[lang] else k for k in table["kind"]]
    table["population_within"] = table["population_within"].round().astype("Int64")
    columns = {"name": t("col_site", lang), "kind": t("col_kind", lang), "address": t("col_address", lang)}
    columns["population_within"] = t("col_reach", lang, t=siting.radius_min)
    return table.rename(columns=columns).reset_index(drop=True)


def tradeoff_chart(siting: SitingRun, lang: str) -> alt.Chart:
    """People within the radius as 0, 1, 2... new sites open; the scenario's choice marked."""
    import altair as alt

    x, y = t("new_sites", lang), t("people_within", lang, t=siting.radius_min)
    curve = siting.tradeoff.rename(columns={"new_sites": x, "population_within": y})
    line = (
        alt.Chart(curve)
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{x}:Q", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y(f"{y}:Q", scale=alt.Scale(zero=False)),
            tooltip=[f"{x}:Q", alt.Tooltip(f"{y}:Q", format=",.0f")],
        )
    )
    choice = pd.DataFrame({x: [siting.spec.new_sites], "label": [t("chosen_count", lang)]})
    rule = alt.Chart(choice).mark_rule(color="#1a9850", strokeDash=[4, 4]).encode(x=f"{x}:Q", tooltip=["label:N"])
    return (line + rule).properties(height=320)
