"""Maillage in the browser: ``maillage app`` (offline, French first, English in the sidebar).

Layout only: cached loaders and widgets here; every computation lives in ``planner`` and ``optimize``,
the page data in ``planner.app.support`` and ``planner.app.rooms``. Pages: coverage (local
authorities), rounds (planners), my week (crews and providers), rooms (providers' sessions in
vacant premises), plan (siting of new service points).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from planner._errors import InfeasibleError, InputError
from planner.app import rooms as rooms
from planner.app import support as ui
from planner.app.background import BackgroundJob
from planner.data.france import departements
from planner.jobs.coverage import measure_coverage
from planner.jobs.inputs import build_territory
from planner.scenario import ESTIMATE_DETOUR_FACTOR, ESTIMATE_SPEED_KMH, Scenario, load_scenario
from planner.travel.build import build_travel_model

if TYPE_CHECKING:
    from pathlib import Path

    import geopandas as gpd
    import pandas as pd
    from streamlit.runtime.uploaded_file_manager import UploadedFile

    from planner.data.territory import Territory
    from planner.jobs.coverage import CoverageResult
    from planner.travel.estimate import TravelModel

st.set_page_config(page_title="Maillage", layout="wide")

PAGES = ("coverage", "rounds", "week", "rooms", "plan")
THRESHOLD_CHOICES = [5, 10, 15, 20, 30, 45, 60]
MAP_HEIGHT = 560
POLL_S = 0.25  # how often a running scenario's progress box is refreshed


# --- cached loaders: territory, travel model and travel times are keyed on their own inputs only,
# --- so changing a threshold or the target re-runs measure_coverage and nothing else.


@st.cache_resource(show_spinner=False, max_entries=8)
def cached_territory(key: str, _scenario: Scenario) -> Territory:
    """The territory (zones and sites) of the scenario."""
    return build_territory(_scenario)


@st.cache_resource(show_spinner=False, max_entries=4)
def cached_model(key: str, _scenario: Scenario, _territory: Territory) -> TravelModel:
    """The travel model (estimate, or the road network read once)."""
    return build_travel_model(_scenario, _territory)


@st.cache_data(show_spinner=False, max_entries=16)
def cached_times(
    place: str, travel: str, _territory: Territory, _services: gpd.GeoDataFrame, _model: TravelModel
) -> np.ndarray:
    """The zones x services travel-time matrix (minutes)."""
    return _model.matrix(_territory.demand_points(), _services.geometry)


@st.cache_data(show_spinner=False, max_entries=16)
def cached_coverage_map(key: str, lang: str, _result: CoverageResult) -> str:
    """The coverage map as one offline HTML page."""
    from planner.exports.maps import coverage_map, standalone_html

    s = _result.summary
    fmap = coverage_map(_result.access, _result.services, target_min=s["target_min"], travel=_result.travel, lang=lang)
    return standalone_html(fmap)


@st.cache_data(show_spinner=False, max_entries=32)
def cached_truck_map(uid: str, vehicle_id: str, lang: str, _record: ui.RunRecord) -> str:
    """One vehicle's rounds over the coverage map."""
    return ui.truck_map(_record.run, vehicle_id, lang)


# --- small layout helpers --------------------------------------------------------------------------


def show_error(exc: BaseException, lang: str) -> None:
    """A failed input or run as a message box, never a traceback."""
    if isinstance(exc, (InputError, InfeasibleError)):
        text = ui.t("error", lang, message=ui.user_message(exc))
    else:
        text = ui.t("unexpected", lang, kind=type(exc).__name__, message=ui.user_message(exc))
    st.error(text.replace("\n", "  \n"))


def show_metrics(metrics: list[ui.Metric], per_row: int = 6) -> None:
    """Rows of headline figures, each with its detail line below."""
    for first in range(0, len(metrics), per_row):
        row = metrics[first : first + per_row]
        for column, metric in zip(st.columns(per_row if len(metrics) > per_row else len(row)), row, strict=False):
            with column:
                st.metric(metric.label, metric.value)
                if metric.help:
                    st.caption(metric.help)


def show_map(html: str) -> None:
    """A folium map page (Leaflet inlined, works offline) in an iframe."""
    st.iframe(html, height=MAP_HEIGHT)


def checked_upload(upload: UploadedFile | None, kind: str) -> Path | None:
    """The saved path of a validated zones/sites upload (None when nothing was uploaded)."""
    return None if upload is None else ui.checked_layer(upload.name, upload.getvalue(), kind)


def run_scenario_with_status(scenario: Scenario, time_limit: float, seed: int, store: str, lang: str) -> None:
    """Run a scenario with a progress box and a cancel button; keep the result, or show why it failed.

    The run goes on in a worker thread; this page polls it. Cancelling (the button, Streamlit's stop,
    or leaving the page: each ends this script run) stops the solver at once and discards the run.
    """
    number = st.session_state.get("run_counter", 0) + 1
    failure: BaseException | None = None
    job = BackgroundJob(lambda progress: ui.execute(ui.with_solver(scenario, time_limit, seed), number, lang, progress))
    st.session_state["running_job"] = job  # the next script run cancels it if this one is interrupted
    cancel = st.empty()  # the button goes once the run has ended
    cancel.button(ui.t("cancel", lang), key=f"{store}_cancel", icon=":material/stop_circle:")  # a click ends this run
    with st.status(ui.t("running", lang), expanded=True) as status:
        try:
            while not job.wait(POLL_S):
                for message in job.messages():
                    status.write(message)
                status.update(label=ui.t("running_for", lang, seconds=f"{job.elapsed_s:.0f}"), expanded=True)
            for message in job.messages():
                status.write(message)
            record = job.result()
        except Exception as exc:  # shown in the page; the previous results stay on screen
            failure = exc
            status.update(label=ui.t("failed", lang), state="error", expanded=False)
        else:
            seconds = ui.number(record.seconds, lang, 1)
            status.update(label=ui.t("done", lang, seconds=seconds), state="complete", expanded=False)
        finally:
            job.cancel()  # a no-op once the job has ended
    cancel.empty()
    st.session_state.pop("running_job", None)
    if failure is not None:
        show_error(failure, lang)
        return
    st.session_state["run_counter"] = number
    st.session_state[store] = ui.keep_run(st.session_state.get(store, []), record)


def cancel_interrupted_run(lang: str) -> None:
    """Stop the run an earlier script run left going (cancel button, stop, another page) and say so."""
    job: BackgroundJob[ui.RunRecord] | None = st.session_state.pop("running_job", None)
    if job is None:
        return
    job.cancel()  # Streamlit reruns at once ("fast reruns"): the interrupted run may not have stopped it yet
    if job.cancelled_after_s is not None:
        seconds = ui.number(job.cancelled_after_s, lang, 1)
        st.info(ui.t("cancelled", lang, seconds=seconds), icon=":material/stop_circle:")


def scenario_picker(section: str, default: str, prefix: str, lang: str) -> Scenario | None:
    """Choose a scenario of ``scenarios/`` with ``section`` (or upload one); None when unusable."""
    files = ui.scenario_files(section)
    if not files:
        st.warning(ui.t("no_scenario", lang, section=section))
        return None
    names = [p.name for p in files]
    choice = st.selectbox(
        ui.t("scenario", lang),
        files,
        index=names.index(default) if default in names else 0,
        format_func=lambda p: p.name,
        key=f"{prefix}_scenario",
    )
    upload = st.file_uploader(ui.t("scenario_upload", lang), type=["yaml", "yml"], key=f"{prefix}_upload")
    try:
        scenario = ui.uploaded_scenario(upload.name, upload.getvalue()) if upload else load_scenario(choice)
        if getattr(scenario, section) is None:
            raise InputError.one(upload.name if upload else choice.name, "", f"has no {section}: section")
    except InputError as exc:
        show_error(exc, lang)
        return None
    return scenario


def solver_inputs(scenario: Scenario | None, section: str, prefix: str, lang: str) -> tuple[float, int]:
    """Time limit and seed inputs, defaulting to the scenario's."""
    spec = getattr(scenario, section, None) if scenario else None
    left, right = st.columns(2)
    limit = left.number_input(
        ui.t("time_limit", lang),
        min_value=1,
        max_value=3600,
        value=int(spec.time_limit_s) if spec else 60,
        step=5,
        key=f"{prefix}_time_limit",
    )
    seed = right.number_input(
        ui.t("seed", lang), min_value=0, max_value=1_000_000, value=int(spec.seed) if spec else 0, key=f"{prefix}_seed"
    )
    return float(limit), int(seed)


def zip_button(record: ui.RunRecord, lang: str, key: str) -> None:
    """Download the whole run folder."""
    name = record.run.scenario.name
    st.download_button(
        ui.t("download_zip", lang),
        record.zip_bytes,
        file_name=f"{name}-{record.number}.zip",
        mime="application/zip",
        on_click="ignore",
        key=key,
    )


# --- pages -----------------------------------------------------------------------------------------


def coverage_page(lang: str) -> None:
    """Coverage: territory, services, travel model, thresholds; headline, map, gap list, downloads."""
    with st.sidebar:
        st.subheader(ui.t("settings", lang))
        mode = st.radio(
            ui.t("territory", lang),
            ["embedded", "departement"],
            format_func=lambda m: ui.t(f"territory_{m}", lang),
            key="cov_territory",
        )
        departement = None
        if mode == "departement":
            table = departements()
            names = dict(zip(table["code"], table["name"], strict=True))
            codes = list(names)
            departement = st.selectbox(
                ui.t("departement", lang),
                codes,
                index=codes.index("48") if "48" in codes else 0,
                format_func=lambda c: f"{c} — {names[c]}",
                key="cov_departement",
            )
        zones_upload = st.file_uploader(
            ui.t("zones_file", lang), type=ui.LAYER_TYPES, help=ui.t("upload_help", lang), key="cov_zones"
        )
        sites_upload = st.file_uploader(
            ui.t("sites_file", lang), type=ui.LAYER_TYPES, help=ui.t("upload_help", lang), key="cov_sites"
        )
        canton_seats = st.checkbox(ui.t("canton_seats", lang), value=True, key="cov_canton_seats")
        travel = st.radio(
            ui.t("travel", lang),
            ["estimate", "network"],
            format_func=lambda m: ui.t(f"travel_{m}_choice", lang),
            key="cov_travel",
        )
        speed, detour, network_upload = ESTIMATE_SPEED_KMH, ESTIMATE_DETOUR_FACTOR, None
        if travel == "estimate":
            speed = st.slider(ui.t("speed", lang), 20, 90, int(ESTIMATE_SPEED_KMH), 5, key="cov_speed")
            detour = st.slider(ui.t("detour", lang), 1.0, 2.0, ESTIMATE_DETOUR_FACTOR, 0.05, key="cov_detour")
        else:
            network_upload = st.file_uploader(ui.t("network_file", lang), type=ui.NETWORK_TYPES, key="cov_network")
        thresholds = st.multiselect(
            ui.t("thresholds", lang), THRESHOLD_CHOICES, default=[10, 20, 30], key="cov_thresholds"
        )
        target = st.number_input(ui.t("target", lang), min_value=5, max_value=120, value=30, step=5, key="cov_target")

    st.title(ui.t("coverage_title", lang, target=target))
    st.caption(ui.t("coverage_intro", lang))
    if travel == "network" and network_upload is None:
        st.info(ui.t("network_needed", lang))
        return
    try:
        choice = ui.CoverageChoice(
            departement=departement,
            zones=checked_upload(zones_upload, "zones"),
            sites=checked_upload(sites_upload, "sites"),
            canton_seats=canton_seats,
            network=ui.save_upload(network_upload.name, network_upload.getvalue()) if network_upload else None,
            speed_kmh=float(speed),
            detour_factor=float(detour),
            thresholds_min=tuple(float(x) for x in sorted(thresholds)),
            target_min=float(target),
        )
        scenario = ui.coverage_scenario(choice)
        place, travel_key = ui.place_key(scenario), ui.travel_key(scenario)
        territory = cached_territory(place, scenario)
        services = ui.services_of(territory)
        model = cached_model(travel_key, scenario, territory)
        times = cached_times(place, travel_key, territory, services, model)
        result = measure_coverage(territory, services, times, model, scenario.coverage)
    except Exception as exc:  # bad files and settings are shown in the page
        show_error(exc, lang)
        return

    show_metrics(ui.headline_metrics(result, lang, zones_upload.name if zones_upload else None))
    map_html = cached_coverage_map(place + travel_key + scenario.coverage.model_dump_json(), lang, result)
    show_map(map_html)

    st.subheader(ui.t("gap_list", lang, target=target))
    gaps = ui.gap_table(result, lang)
    if gaps.empty:
        st.success(ui.t("no_gap", lang, target=target))
    else:
        st.dataframe(gaps, hide_index=True, width="stretch")

    st.subheader(ui.t("downloads", lang))

    def deferred(name: str) -> Callable[[], bytes]:
        return lambda: ui.coverage_file(result, name, lang)  # written only when clicked

    files: list[tuple[str, str, Callable[[], bytes] | str, str]] = [
        ("download_gpkg", "coverage.gpkg", deferred("coverage.gpkg"), "application/geopackage+sqlite3"),
        ("download_csv", "access_by_zone.csv", deferred("access_by_zone.csv"), "text/csv"),
        ("download_gaps", "gap_zones.csv", deferred("gap_zones.csv"), "text/csv"),
        ("download_map", "map.html", map_html, "text/html"),
    ]
    for column, (label, name, data, mime) in zip(st.columns(len(files)), files, strict=True):
        column.download_button(ui.t(label, lang), data, file_name=name, mime=mime, on_click="ignore", key=f"cov_{name}")
    if result.summary["notes"]:
        with st.expander(ui.t("notes", lang)):
            for note in result.summary["notes"]:
                st.markdown(f"- {note}")


def scenario_section(section: str, default: str, key: str, lang: str) -> ui.RunRecord | None:
    """A solving page's head: title, scenario, time limit and seed, run button; its last run, if any."""
    st.title(ui.t(f"{key}_title", lang))
    st.caption(ui.t(f"{key}_intro", lang))
    scenario = scenario_picker(section, default, key, lang)
    time_limit, seed = solver_inputs(scenario, section, key, lang)
    if st.button(ui.t("run", lang), type="primary", disabled=scenario is None, key=f"{key}_run") and scenario:
        run_scenario_with_status(scenario, time_limit, seed, f"{key}_runs", lang)
    runs: list[ui.RunRecord] = st.session_state.get(f"{key}_runs", [])
    return runs[-1] if runs else None


def rounds_page(lang: str) -> None:
    """Rounds: scenario, time limit, seed; run with progress; KPIs, map, tables; compare two runs."""
    record = scenario_section("rounds", "lozere-bus.yaml", "rounds", lang)
    if record is None:
        return
    rounds = record.run.rounds
    assert rounds is not None
    st.subheader(ui.t("results", lang, label=record.label))
    show_metrics(ui.rounds_metrics(record, lang), per_row=4)
    st.markdown(f"**{ui.t('routes_map', lang)}**")
    show_map(record.maps.get("plan/map.html") or record.maps["rounds/map.html"])
    visits, routes, left_out = st.tabs([ui.t("visits", lang), ui.t("routes", lang), ui.t("left_out", lang)])
    visits.dataframe(ui.visits_table(rounds), hide_index=True, width="stretch")
    routes.dataframe(ui.routes_table(rounds), hide_index=True, width="stretch")
    left_out.dataframe(ui.left_out_table(rounds), hide_index=True, width="stretch")
    zip_button(record, lang, "rounds_zip")

    st.subheader(ui.t("compare", lang))
    runs: list[ui.RunRecord] = st.session_state["rounds_runs"]
    if len(runs) < 2:
        st.caption(ui.t("compare_need", lang))
        return
    labels = {r.number: r.label for r in runs}
    numbers = list(labels)
    left, right = st.columns(2)
    a = left.selectbox(ui.t("run_a", lang), numbers, index=len(numbers) - 2, format_func=lambda n: labels[n])
    b = right.selectbox(ui.t("run_b", lang), numbers, index=len(numbers) - 1, format_func=lambda n: labels[n])
    first = next(r for r in runs if r.number == a)
    second = next(r for r in runs if r.number == b)
    st.dataframe(ui.compare_runs(first, second, lang), hide_index=True, width="stretch")
    for column, chosen in ((left, first), (right, second)):
        with column:
            st.caption(chosen.label)
            for metric in ui.key_figures(chosen, lang):
                st.metric(metric.label, metric.value)


def week_page(lang: str) -> None:
    """My week: one vehicle of the last rounds run, or one provider of the last rooms run, with their files."""
    st.title(ui.t("week_title", lang))
    st.caption(ui.t("week_intro", lang))
    rounds_runs: list[ui.RunRecord] = st.session_state.get("rounds_runs", [])
    rooms_runs: list[ui.RunRecord] = st.session_state.get("rooms_runs", [])
    choices: list[tuple[str, str]] = []
    if rounds_runs:
        last_rounds = rounds_runs[-1].run.rounds
        assert last_rounds is not None
        choices += [("truck", v) for v in ui.vehicle_ids(last_rounds)]
    labels = rooms.provider_labels(rooms.rooms_of(rooms_runs[-1])) if rooms_runs else {}
    choices += [("provider", p) for p in labels]
    if not choices:
        st.info(ui.t("week_none_any", lang))
        return
    kind, who = st.selectbox(
        ui.t("who", lang),
        choices,
        format_func=lambda c: f"{ui.t(c[0], lang)} · {labels.get(c[1], c[1]) if c[0] == 'provider' else c[1]}",
        key="week_who",
    )
    if kind == "truck":
        truck_week(rounds_runs[-1], who, lang)
    else:
        provider_week(rooms_runs[-1], who, lang)


def download_row(files: dict[str, bytes], buttons: list[tuple[str, str, str]], prefix: str, lang: str) -> None:
    """One download button per (label key, file name, MIME type), side by side."""
    for column, (label, name, mime) in zip(st.columns(len(buttons)), buttons, strict=True):
        column.download_button(
            ui.t(label, lang),
            files[name],
            file_name=f"{prefix}-{name}",
            mime=mime,
            on_click="ignore",
            key=f"week_{name}",
        )


def show_timeline(timeline: pd.DataFrame, lang: str) -> None:
    """The week as a Gantt chart, or a note when there is nothing in it."""
    st.subheader(ui.t("timeline", lang))
    if timeline.empty:
        st.info(ui.t("no_stop", lang))
    else:
        st.altair_chart(ui.week_chart(timeline, lang), width="stretch")


def show_week(
    record: ui.RunRecord,
    who: str,
    files: dict[str, bytes],
    buttons: list[tuple[str, str, str]],
    timeline: pd.DataFrame,
    map_html: str,
    table: pd.DataFrame,
    lang: str,
) -> None:
    """One week on the page: where it comes from, its files, its timeline, its map and its table."""
    st.caption(ui.t("week_from", lang, label=record.label))
    download_row(files, buttons, who, lang)
    show_timeline(timeline, lang)
    show_map(map_html)
    st.dataframe(table, hide_index=True, width="stretch")


def truck_week(record: ui.RunRecord, vehicle: str, lang: str) -> None:
    """A vehicle's week: crew files, timeline, map and stop list."""
    from planner.exports.rounds import crew_table

    rounds = record.run.rounds
    assert rounds is not None
    buttons = [
        ("download_ics", "itineraire.ics", "text/calendar"),
        ("download_sheet", "feuille-de-route.html", "text/html"),
        ("download_crew_csv", "itineraire.csv", "text/csv"),
    ]
    files = ui.truck_files(rounds, vehicle, lang)
    timeline = ui.week_timeline(rounds, vehicle, lang)
    map_html = cached_truck_map(record.uid, vehicle, lang, record)
    show_week(record, vehicle, files, buttons, timeline, map_html, crew_table(rounds, vehicle), lang)


def provider_week(record: ui.RunRecord, provider_id: str, lang: str) -> None:
    """A provider's week: planning files, timeline, map and session list."""
    from planner.exports.rooms import provider_table

    run = rooms.rooms_of(record)
    buttons = [
        ("download_planning_ics", "planning.ics", "text/calendar"),
        ("download_planning_sheet", "feuille-de-semaine.html", "text/html"),
        ("download_planning_csv", "planning.csv", "text/csv"),
    ]
    files = rooms.provider_files(run, provider_id, lang)
    timeline = rooms.provider_timeline(run, provider_id, lang)
    map_html = rooms.provider_map(run, provider_id, lang)
    show_week(record, provider_id, files, buttons, timeline, map_html, provider_table(run, provider_id), lang)


def rooms_page(lang: str) -> None:
    """Rooms: scenario, time limit, seed; run with progress; KPIs, per-service table, map, bookings."""
    record = scenario_section("rooms", "lozere-rooms.yaml", "rooms", lang)
    if record is None:
        return
    run = rooms.rooms_of(record)
    st.subheader(ui.t("results", lang, label=record.label))
    show_metrics(rooms.rooms_metrics(record, lang), per_row=5)
    st.markdown(f"**{ui.t('services', lang)}**")
    st.dataframe(rooms.services_table(run, lang), hide_index=True, width="stretch")
    st.markdown(f"**{ui.t('rooms_map', lang)}**")
    show_map(record.maps["rooms/map.html"])
    bookings, occupancy = st.tabs([ui.t("bookings", lang), ui.t("occupancy_table", lang)])
    from planner.exports.rooms import occupancy_table

    bookings.dataframe(run.bookings.drop(columns=["lon", "lat"]), hide_index=True, width="stretch")
    occupancy.dataframe(occupancy_table(run), hide_index=True, width="stretch")
    zip_button(record, lang, "rooms_zip")


def plan_page(lang: str) -> None:
    """Plan: which new service points to open; the trade-off curve; before/after within the target."""
    record = scenario_section("siting", "lozere-plan.yaml", "plan", lang)
    if record is None:
        return
    siting = record.run.siting
    assert siting is not None
    st.subheader(ui.t("results", lang, label=record.label))
    show_metrics(ui.plan_metrics(record, lang))
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{ui.t('chosen_sites', lang)}**")
        st.dataframe(ui.chosen_table(siting, lang), hide_index=True, width="stretch")
    with right:
        st.markdown(f"**{ui.t('tradeoff', lang, t=siting.radius_min)}**")
        st.altair_chart(ui.tradeoff_chart(siting, lang), width="stretch")
    st.markdown(f"**{ui.t('plan_map', lang)}**")
    show_map(record.maps.get("plan/map.html") or record.maps["siting/map.html"])
    zip_button(record, lang, "plan_zip")


def main() -> None:
    """Sidebar (language, page) then the chosen page."""
    with st.sidebar:
        st.title("Maillage")
        lang = st.radio(
            "Langue / Language",
            ["fr", "en"],
            format_func={"fr": "Français", "en": "English"}.get,
            horizontal=True,
            key="lang",
        )
        page = st.radio(ui.t("page", lang), PAGES, format_func=lambda p: ui.t(f"page_{p}", lang), key="page")
    cancel_interrupted_run(lang)
    pages = {
        "coverage": coverage_page,
        "rounds": rounds_page,
        "week": week_page,
        "rooms": rooms_page,
        "plan": plan_page,
    }
    pages[page](lang)


main()
