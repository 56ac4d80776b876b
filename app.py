"""Maillage in the browser: ``maillage app`` (offline, French first, English in the sidebar).

Layout only: cached loaders and widgets here; every computation lives in ``planner`` and ``optimize``,
the page data in ``planner.app`` (one module per page: ``coverage``, ``rounds``, ``week``, ``rooms``,
``plan``; ``shared`` and ``uploads`` beside them). Pages: coverage (local authorities), rounds
(planners), my week (crews and providers), rooms (providers' sessions in vacant premises), plan
(siting of new service points).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import streamlit as st

from planner._errors import InfeasibleError, InputError
from planner.app import access, compare, coverage, markets, plan, rooms, rounds, week
from planner.app.background import BackgroundJob
from planner.app.shared import Metric, RunRecord, execute, keep_run, scenario_files
from planner.app.uploads import (
    LAYER_TYPES,
    NETWORK_TYPES,
    attempt,
    error_text,
    read_layer_once,
    read_scenario,
    save_upload,
    unwrap,
    user_message,
)
from planner.data.france import departements, epcis
from planner.exports.render import available as render_available
from planner.exports.render import map_pdf, map_png, sheet_pdf
from planner.i18n import label, message_text, number
from planner.jobs.coverage import measure_coverage, measured_services
from planner.jobs.inputs import build_territory
from planner.scenario import ESTIMATE_DETOUR_FACTOR, ESTIMATE_SPEED_KMH
from planner.travel.build import build_travel_model

if TYPE_CHECKING:
    from pathlib import Path

    import geopandas as gpd
    import pandas as pd
    from sqlalchemy.orm import Session, sessionmaker
    from streamlit.delta_generator import DeltaGenerator
    from streamlit.runtime.uploaded_file_manager import UploadedFile

    from planner.data.territory import Territory
    from planner.jobs.coverage import CoverageResult
    from planner.scenario import Scenario
    from planner.travel.estimate import TravelModel

st.set_page_config(page_title="Maillage", layout="wide")

PAGES = ("coverage", "rounds", "week", "rooms", "plan", "markets", "compare")
MAP_HEIGHT = 560
POLL_S = 0.25  # how often a running scenario's progress box is refreshed
COVERAGE_KEPT = 5  # coverage measurements kept for the before/after page


# --- cached loaders: territory, travel model and travel times are keyed on their own inputs only,
# --- so changing a threshold or the target re-runs measure_coverage and nothing else.


@st.cache_resource(show_spinner=False, max_entries=8)
def cached_territory(key: str, _scenario: Scenario) -> Territory:
    """The territory (zones and sites) of the scenario; uploaded layers parsed once per content."""
    return build_territory(_scenario, read=read_layer_once)


@st.cache_resource(show_spinner=False, max_entries=4)
def cached_model(key: str, _scenario: Scenario, _territory: Territory) -> TravelModel | InputError:
    """The travel model (estimate, or the road network read once; a network that cannot be read, once too)."""
    return attempt(lambda: build_travel_model(_scenario, _territory))


@st.cache_data(show_spinner=False, max_entries=16)
def cached_times(
    place: str, travel: str, _territory: Territory, _services: gpd.GeoDataFrame, _model: TravelModel
) -> np.ndarray:
    """The zones x services travel-time matrix (minutes)."""
    return _model.matrix(_territory.demand_points(), _services.geometry)


@st.cache_data(show_spinner=False, max_entries=16)
def cached_coverage_map(key: str, lang: str, _result: CoverageResult) -> str:
    """The coverage map as one offline HTML page."""
    return coverage.coverage_map_html(_result, lang)


@st.cache_data(show_spinner=False, max_entries=8)
def cached_change_map(digest: str, lang: str, _zones: gpd.GeoDataFrame) -> str:
    """The map of minutes gained or lost between two states (keyed on the compared times themselves)."""
    return compare.change_map_html(_zones, lang)


@st.cache_data(show_spinner=False, max_entries=32)
def cached_truck_map(uid: str, vehicle_id: str, lang: str, _record: RunRecord) -> str:
    """One vehicle's rounds over the coverage map."""
    return week.truck_map(_record.run, vehicle_id, lang)


# --- small layout helpers --------------------------------------------------------------------------


def show_error(exc: BaseException, lang: str) -> None:
    """A failed input or run as a message box, never a traceback."""
    if isinstance(exc, (InputError, InfeasibleError)):
        text = label("error", lang, message=error_text(exc, lang))
    else:
        text = label("unexpected", lang, kind=type(exc).__name__, message=user_message(exc))
    st.error(text.replace("\n", "  \n"))


def show_metrics(metrics: list[Metric], per_row: int = 6) -> None:
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


def rendered(html: str) -> list[tuple[str, str, str, bytes | str | Callable[[], bytes]]]:
    """The map's PNG and PDF download buttons, drawn by Chromium only when clicked (none without Chromium)."""
    if not render_available():
        return []
    return [
        ("download_map_png", "map.png", "image/png", lambda: map_png(html)),
        ("download_map_pdf", "map.pdf", "application/pdf", lambda: map_pdf(html)),
    ]


def bold(key: str, lang: str, **values: object) -> None:
    """A label in bold: the title of a map, table or chart."""
    st.markdown(f"**{label(key, lang, **values)}**")


def show_table(table: pd.DataFrame, where: DeltaGenerator | None = None) -> None:
    """A table across the page (or in ``where``, e.g. a tab), without its index."""
    (st if where is None else where).dataframe(table, hide_index=True, width="stretch")


def saved(upload: UploadedFile | None) -> Path | None:
    """Where an uploaded file is saved, under its content hash (None when nothing was uploaded)."""
    return None if upload is None else save_upload(upload.name, upload.getvalue()).path


def run_scenario_with_status(
    scenario: Scenario, scenario_file: Path, solver: tuple[float, int], store: str, lang: str
) -> None:
    """Run a scenario with a progress box and a cancel button; keep the result, or show why it failed.

    The run goes on in a worker thread; this page polls it. Cancelling (the button, Streamlit's stop,
    or leaving the page: each ends this script run) stops the solver at once and discards the run.
    """
    run_number = st.session_state.get("run_counter", 0) + 1
    failure: BaseException | None = None
    time_limit_s, seed = solver
    solved = scenario.with_solver(time_limit_s=time_limit_s, seed=seed)
    job = BackgroundJob(lambda progress: execute(solved, run_number, lang, progress, scenario_file=scenario_file))
    st.session_state["running_job"] = job  # the next script run cancels it if this one is interrupted
    cancel = st.empty()  # the button goes once the run has ended
    cancel.button(label("cancel", lang), key=f"{store}_cancel", icon=":material/stop_circle:")  # a click ends this run
    with st.status(label("running", lang), expanded=True) as status:
        try:
            while not job.wait(POLL_S):
                for message in job.messages():
                    status.write(message_text(message, lang))
                status.update(label=label("running_for", lang, seconds=f"{job.elapsed_s:.0f}"), expanded=True)
            for message in job.messages():
                status.write(message_text(message, lang))
            record = job.result()
        except Exception as exc:  # shown in the page; the previous results stay on screen
            failure = exc
            status.update(label=label("failed", lang), state="error", expanded=False)
        else:
            seconds = number(record.seconds, lang, 1)
            status.update(label=label("done", lang, seconds=seconds), state="complete", expanded=False)
        finally:
            job.cancel()  # a no-op once the job has ended
    cancel.empty()
    st.session_state.pop("running_job", None)
    if failure is not None:
        show_error(failure, lang)
        return
    st.session_state["run_counter"] = run_number
    st.session_state[store] = keep_run(st.session_state.get(store, []), record)


def cancel_interrupted_run(lang: str) -> None:
    """Stop the run an earlier script run left going (cancel button, stop, another page) and say so."""
    job: BackgroundJob[RunRecord] | None = st.session_state.pop("running_job", None)
    if job is None:
        return
    job.cancel()  # Streamlit reruns at once ("fast reruns"): the interrupted run may not have stopped it yet
    if job.cancelled_after_s is not None:
        seconds = number(job.cancelled_after_s, lang, 1)
        st.info(label("cancelled", lang, seconds=seconds), icon=":material/stop_circle:")


def scenario_picker(section: str, default: str, prefix: str, lang: str) -> tuple[Scenario, Path] | None:
    """Choose a scenario of ``scenarios/`` with ``section`` (or upload one), with its file; None when unusable."""
    files = scenario_files(section)
    if not files:
        st.warning(label("no_scenario", lang, section=section))
        return None
    names = [p.name for p in files]
    choice = st.selectbox(
        label("scenario", lang),
        files,
        index=names.index(default) if default in names else 0,
        format_func=lambda p: p.name,
        key=f"{prefix}_scenario",
    )
    upload = saved(st.file_uploader(label("scenario_upload", lang), type=["yaml", "yml"], key=f"{prefix}_upload"))
    path = upload or choice
    try:
        scenario = read_scenario(path)
        if getattr(scenario, section) is None:
            raise InputError.one(path.name, "", f"has no {section}: section")
    except InputError as exc:
        show_error(exc, lang)
        return None
    return scenario, path


def solver_inputs(scenario: Scenario | None, section: str, prefix: str, lang: str) -> tuple[float, int]:
    """Time limit and seed inputs, defaulting to the scenario's."""
    spec = getattr(scenario, section, None) if scenario else None
    left, right = st.columns(2)
    limit = left.number_input(
        label("time_limit", lang),
        min_value=1,
        max_value=3600,
        value=int(spec.time_limit_s) if spec else 60,
        step=5,
        key=f"{prefix}_time_limit",
    )
    seed = right.number_input(
        label("seed", lang), min_value=0, max_value=1_000_000, value=int(spec.seed) if spec else 0, key=f"{prefix}_seed"
    )
    return float(limit), int(seed)


def download_row(buttons: list[tuple[str, str, str, bytes | str | Callable[[], bytes]]], lang: str, key: str) -> None:
    """One download button per (label key, file name, MIME type, data or its maker), side by side."""
    for column, (text, name, mime, data) in zip(st.columns(len(buttons)), buttons, strict=True):
        column.download_button(label(text, lang), data, file_name=name, mime=mime, on_click="ignore", key=key + name)


def zip_button(record: RunRecord, lang: str, key: str) -> None:
    """Download the whole run folder."""
    name = record.run.scenario.name
    st.download_button(
        label("download_zip", lang),
        record.zip_bytes,
        file_name=f"{name}-{record.number}.zip",
        mime="application/zip",
        on_click="ignore",
        key=key,
    )


# --- pages -----------------------------------------------------------------------------------------


def territory_inputs(mode: str, lang: str) -> tuple[str | None, str | None, tuple[str, ...]]:
    """The département, EPCI (searched by name) or communes (INSEE codes) the territory choice asks for."""
    if mode == "departement":
        table = departements()
        names = dict(zip(table["code"], table["name"], strict=True))
        codes = list(names)
        code = st.selectbox(
            label("departement", lang),
            codes,
            index=codes.index("48") if "48" in codes else 0,
            format_func=lambda c: f"{c} — {names[c]}",
            key="cov_departement",
        )
        return code, None, ()
    if mode == "epci":
        table = epcis().sort_values("name")
        names = dict(zip(table["code"], table["name"], strict=True))
        codes = list(names)
        code = st.selectbox(
            label("epci", lang),
            codes,
            index=None,
            format_func=lambda c: names[c],
            placeholder=label("epci_search", lang),
            key="cov_epci",
        )
        return None, code, ()
    if mode == "insee":
        text = st.text_area(label("insee_codes", lang), "48095, 48061", help=label("insee_help", lang), key="cov_insee")
        return None, None, coverage.insee_codes(text)
    return None, None, ()


def coverage_settings(lang: str) -> tuple[coverage.CoverageChoice, list[UploadedFile | None]] | None:
    """The coverage page's sidebar and title: what it chose, and its files (zones, sites, network) still to
    be saved; None while the road network it asks for is missing."""
    with st.sidebar:
        st.subheader(label("settings", lang))
        mode = st.radio(
            label("territory", lang),
            ["embedded", "departement", "epci", "insee"],
            format_func=lambda m: label(f"territory_{m}", lang),
            key="cov_territory",
        )
        departement, epci, insee = territory_inputs(mode, lang)
        zones = st.file_uploader(
            label("zones_file", lang), type=LAYER_TYPES, help=label("upload_help", lang), key="cov_zones"
        )
        sites = st.file_uploader(
            label("sites_file", lang), type=LAYER_TYPES, help=label("upload_help", lang), key="cov_sites"
        )
        canton_seats = st.checkbox(label("canton_seats", lang), value=True, key="cov_canton_seats")
        travel = st.radio(
            label("travel", lang),
            ["estimate", "network"],
            format_func=lambda m: label(f"travel_{m}_choice", lang),
            key="cov_travel",
        )
        speed, detour, network = ESTIMATE_SPEED_KMH, ESTIMATE_DETOUR_FACTOR, None
        if travel == "estimate":
            speed = st.slider(label("speed", lang), 20, 90, int(ESTIMATE_SPEED_KMH), 5, key="cov_speed")
            detour = st.slider(label("detour", lang), 1.0, 2.0, ESTIMATE_DETOUR_FACTOR, 0.05, key="cov_detour")
        else:
            network = st.file_uploader(label("network_file", lang), type=NETWORK_TYPES, key="cov_network")
        thresholds = st.multiselect(
            label("thresholds", lang), coverage.THRESHOLD_CHOICES, default=[10, 20, 30], key="cov_thresholds"
        )
        target = st.number_input(label("target", lang), min_value=5, max_value=120, value=30, step=5, key="cov_target")

    st.title(label("coverage_title", lang, target=target))
    st.caption(coverage.intro(tuple(float(x) for x in sorted(thresholds)), lang))
    if travel == "network" and network is None:
        st.info(label("network_needed", lang))
        return None
    if mode == "epci" and epci is None:
        st.info(label("epci_needed", lang))
        return None
    choice = coverage.CoverageChoice(
        departement=departement,
        epci=epci,
        insee=insee,
        canton_seats=canton_seats,
        speed_kmh=float(speed),
        detour_factor=float(detour),
        thresholds_min=tuple(float(x) for x in sorted(thresholds)),
        target_min=float(target),
    )
    return choice, [zones, sites, network]


def coverage_page(lang: str) -> None:
    """Coverage: territory, services, travel model, thresholds; headline, map, gap list, downloads."""
    chosen = coverage_settings(lang)
    if chosen is None:
        return
    choice, uploaded = chosen
    try:
        zones, sites, network = (saved(upload) for upload in uploaded)
        choice = replace(choice, zones=zones, sites=sites, network=network)
        scenario = coverage.coverage_scenario(choice)
        place, travel_key = coverage.place_key(scenario), coverage.travel_key(scenario)
        territory = cached_territory(place, scenario)
        services = measured_services(territory, hint=coverage.NO_SERVICE_HINT)
        model = unwrap(cached_model(travel_key, scenario, territory))
        times = cached_times(place, travel_key, territory, services, model)
        result = measure_coverage(territory, services, times, model, scenario.coverage)
    except Exception as exc:  # bad files and settings are shown in the page; the last good result stays below
        show_error(exc, lang)
        kept = st.session_state.get("cov_last")
        if kept is None:
            return
        st.caption(label("previous_result", lang))
        result, key, zones_name = kept
    else:
        key = place + travel_key + scenario.coverage.model_dump_json()
        zones_name = uploaded[0].name if uploaded[0] else None  # named as uploaded under the population
        st.session_state["cov_last"] = (result, key, zones_name)
        keep_coverage(result, key)
    coverage_results(result, key, zones_name, lang)


def keep_coverage(result: CoverageResult, key: str) -> None:
    """Keep a new coverage measurement (numbered) for the before/after page; the same settings are kept once."""
    kept: list[tuple[int, str, CoverageResult]] = st.session_state.get("cov_history", [])
    if kept and kept[-1][1] == key:
        return
    number_ = kept[-1][0] + 1 if kept else 1
    st.session_state["cov_history"] = [*kept, (number_, key, result)][-COVERAGE_KEPT:]


def coverage_results(result: CoverageResult, key: str, zones_name: str | None, lang: str) -> None:
    """The coverage headline (with what the times are), map, gap list, downloads and data notes."""
    target = float(result.summary["target_min"])
    show_metrics(coverage.headline_metrics(result, lang, zones_name))
    st.caption(coverage.travel_caveat(result, lang))
    map_html = cached_coverage_map(key, lang, result)
    show_map(map_html)

    st.subheader(label("gap_list", lang, target=target))
    gaps = coverage.gap_table(result, lang)
    if gaps.empty:
        st.success(label("no_gap", lang, target=target))
    else:
        show_table(gaps)

    st.subheader(label("downloads", lang))

    def deferred(name: str) -> Callable[[], bytes]:
        return lambda: coverage.coverage_file(result, name, lang)  # written only when clicked

    files: list[tuple[str, str, str, bytes | str | Callable[[], bytes]]]
    files = [(text, name, mime, deferred(name)) for text, name, mime in coverage.DOWNLOADS]
    download_row([*files, (*coverage.MAP_DOWNLOAD, map_html), *rendered(map_html)], lang, "cov_")
    if result.summary["notes"]:
        with st.expander(label("notes", lang)):
            for note in result.summary["notes"]:
                st.markdown(f"- {message_text(note, lang)}")


def solving_page(key: str, lang: str) -> None:
    """A solving page (rounds, rooms, plan): title, scenario, time limit and seed, run button with progress;
    then its last run's KPIs and results."""
    page = SOLVING_PAGES[key]
    st.title(label(f"{key}_title", lang))
    st.caption(label(f"{key}_intro", lang))
    picked = scenario_picker(page.section, page.default, key, lang)
    solver = solver_inputs(picked[0] if picked else None, page.section, key, lang)
    if st.button(label("run", lang), type="primary", disabled=picked is None, key=f"{key}_run") and picked:
        run_scenario_with_status(*picked, solver, f"{key}_runs", lang)
    runs: list[RunRecord] = st.session_state.get(f"{key}_runs", [])
    if runs:
        st.subheader(label("results", lang, label=runs[-1].label))
        show_metrics(page.metrics(runs[-1], lang), page.per_row)
        page.results(runs[-1], lang)


def rounds_results(record: RunRecord, lang: str) -> None:
    """Rounds: the map, the visits, truck-days and stops left out, the zip; two runs compared."""
    plan_rounds = rounds.rounds_of(record)
    bold("routes_map", lang)
    map_html = record.maps.get("plan/map.html") or record.maps["rounds/map.html"]
    show_map(map_html)
    download_row(rendered(map_html), lang, "rounds_map_")
    visits, routes, left_out = st.tabs([label(k, lang) for k in ("visits", "truck_days", "left_out")])
    show_table(rounds.visits_table(plan_rounds, lang), visits)
    show_table(rounds.routes_table(plan_rounds, lang), routes)
    show_table(rounds.left_out_table(plan_rounds, lang), left_out)
    zip_button(record, lang, "rounds_zip")

    st.subheader(label("compare", lang))
    runs: list[RunRecord] = st.session_state["rounds_runs"]
    if len(runs) < 2:
        st.caption(label("compare_need", lang))
        return
    labels = {r.number: r.label for r in runs}
    numbers = list(labels)
    left, right = st.columns(2)
    a = left.selectbox(label("run_a", lang), numbers, index=len(numbers) - 2, format_func=lambda n: labels[n])
    b = right.selectbox(label("run_b", lang), numbers, index=len(numbers) - 1, format_func=lambda n: labels[n])
    first = next(r for r in runs if r.number == a)
    second = next(r for r in runs if r.number == b)
    show_table(rounds.compare_runs(first, second, lang))
    for column, chosen in ((left, first), (right, second)):
        with column:
            st.caption(chosen.label)
            for metric in rounds.key_figures(chosen, lang):
                st.metric(metric.label, metric.value)


def week_page(lang: str) -> None:
    """My week: one vehicle of the last rounds run, or one provider of the last rooms run, with their files."""
    st.title(label("page_week", lang))
    st.caption(label("week_intro", lang))
    runs = [*st.session_state.get("rounds_runs", []), *st.session_state.get("rooms_runs", [])]
    if not runs:
        st.info(label("week_none_any", lang))
        return
    runs.sort(key=lambda r: r.number)
    by_number = {r.number: r for r in runs}
    number_ = st.selectbox(
        label("week_run", lang),
        list(by_number),
        index=len(by_number) - 1,
        format_func=lambda n: by_number[n].label,
        key="week_run",
    )
    record = by_number[number_]
    choices: list[tuple[str, str]] = []
    labels: dict[str, str] = {}
    if record.run.rounds is not None:
        choices += [("truck", v) for v in week.vehicle_ids(rounds.rounds_of(record))]
    if record.run.rooms is not None:
        labels = week.provider_labels(rooms.rooms_of(record))
        choices += [("provider", p) for p in labels]
    kind, who = st.selectbox(
        label("who", lang),
        choices,
        format_func=lambda c: f"{label(c[0], lang)} · {labels.get(c[1], c[1]) if c[0] == 'provider' else c[1]}",
        key="week_who",
    )
    if kind == "truck":
        truck_week(record, who, lang)
    else:
        provider_week(record, who, lang)


def show_week(
    record: RunRecord,
    who: str,
    files: tuple[tuple[str, str, str], ...],
    data: dict[str, bytes],
    timeline: pd.DataFrame,
    map_html: str,
    table: pd.DataFrame,
    lang: str,
) -> None:
    """One week on the page: where it comes from, its files, its timeline, its map and its table."""
    st.caption(label("week_from", lang, label=record.label))
    buttons: list[tuple[str, str, str, bytes | str | Callable[[], bytes]]]
    buttons = [(text, f"{who}-{name}", mime, data[name]) for text, name, mime in files]
    sheet_key, sheet = next((text, name) for text, name, mime in files if mime == "text/html")
    if render_available():
        pdf = f"{who}-{sheet.removesuffix('.html')}.pdf"
        buttons.append((f"{sheet_key}_pdf", pdf, "application/pdf", lambda: sheet_pdf(data[sheet].decode("utf-8"))))
    buttons += [(text, f"{who}-{name}", mime, make) for text, name, mime, make in rendered(map_html)[:1]]
    download_row(buttons, lang, "week_")
    st.subheader(label("timeline", lang))
    if timeline.empty:
        st.info(label("no_stop", lang))
    else:
        st.altair_chart(week.week_chart(timeline, lang), width="stretch")
    show_map(map_html)
    show_table(table)


def truck_week(record: RunRecord, vehicle: str, lang: str) -> None:
    """A vehicle's week: crew files, timeline, map and stop list."""
    plan_rounds = rounds.rounds_of(record)
    files = week.truck_files(plan_rounds, vehicle, lang)
    timeline = week.week_timeline(plan_rounds, vehicle, lang)
    map_html = cached_truck_map(record.uid, vehicle, lang, record)
    table = rounds.visits_table(plan_rounds, lang, vehicle)
    show_week(record, vehicle, week.TRUCK_FILES, files, timeline, map_html, table, lang)


def provider_week(record: RunRecord, provider_id: str, lang: str) -> None:
    """A provider's week: planning files, timeline, map and session list."""
    run = rooms.rooms_of(record)
    files = week.provider_files(run, provider_id, lang)
    timeline = week.provider_timeline(run, provider_id, lang)
    map_html = week.provider_map(run, provider_id, lang)
    show_week(
        record,
        provider_id,
        week.PROVIDER_FILES,
        files,
        timeline,
        map_html,
        rooms.bookings_table(run, lang, provider_id),
        lang,
    )


def rooms_results(record: RunRecord, lang: str) -> None:
    """Rooms: the per-service table, the premises map, bookings and occupancy, the zip."""
    run = rooms.rooms_of(record)
    bold("by_service", lang)
    show_table(rooms.services_table(run, lang))
    bold("rooms_map", lang)
    map_html = record.maps["rooms/map.html"]
    show_map(map_html)
    download_row(rendered(map_html), lang, "rooms_map_")
    bookings, occupancy = st.tabs([label("bookings", lang), label("occupancy_table", lang)])
    show_table(rooms.bookings_table(run, lang), bookings)
    show_table(rooms.occupancy_table(run, lang), occupancy)
    zip_button(record, lang, "rooms_zip")


def plan_results(record: RunRecord, lang: str) -> None:
    """Plan: which new service points to open; the trade-off curve; the map of the plan, the zip."""
    siting = record.run.siting
    assert siting is not None
    left, right = st.columns(2)
    with left:
        bold("chosen_sites", lang)
        show_table(plan.chosen_table(siting, lang))
    with right:
        bold("tradeoff", lang, t=siting.radius_min)
        st.altair_chart(plan.tradeoff_chart(siting, lang), width="stretch")
    bold("plan_map", lang)
    map_html = record.maps.get("plan/map.html") or record.maps["siting/map.html"]
    show_map(map_html)
    download_row(rendered(map_html), lang, "plan_map_")
    zip_button(record, lang, "plan_zip")


def markets_results(record: RunRecord, lang: str) -> None:
    """Markets: separate and synchronised plans side by side, the map of markets and coaches, the markets,
    their calendar, the coaches' timetables, the zip."""
    run = markets.markets_of(record)
    show_table(markets.comparison_table(run, lang))
    bold("markets_map", lang)
    show_map(record.maps.get("markets/bussoservice/carte.html") or record.maps["markets/tournees/map.html"])
    tabs = ("page_markets", "markets_tab_calendar", "markets_tab_coaches", "markets_tab_left")
    held, calendar, coaches, left = st.tabs([label(k, lang) for k in tabs])
    show_table(markets.market_table(run, lang), held)
    show_table(markets.calendar_table(run, lang), calendar)
    if record.run.shuttle is not None:
        show_table(markets.coach_table(record.run.shuttle, lang), coaches)
        show_table(markets.left_out_table(record.run.shuttle, lang), left)
    zip_button(record, lang, "markets_zip")


def compare_page(lang: str) -> None:
    """Before/after: two states of access (coverage measurements, runs before or with their plan) compared:
    the shares side by side, the people who gain or lose time, the map of the minutes gained or lost."""
    st.title(label("compare_title", lang))
    st.caption(label("compare_intro", lang))
    states = [compare.coverage_state(result, n, lang) for n, _, result in st.session_state.get("cov_history", [])]
    records = [r for store in ("rounds_runs", "rooms_runs", "plan_runs") for r in st.session_state.get(store, [])]
    for record in sorted(records, key=lambda r: r.number):
        states += compare.run_states(record, lang)
    if len(states) < 2:
        st.info(label("compare_none", lang))
        return
    by_label = {state.label: state for state in states}
    names = list(by_label)
    left, right = st.columns(2)
    first = left.selectbox(label("state_before", lang), names, index=0, key="cmp_before")
    second = right.selectbox(label("state_after", lang), names, index=len(names) - 1, key="cmp_after")
    before, after = by_label[first], by_label[second]
    note = compare.common_note(before, after, lang)
    if note:
        st.caption(note)
    for share in compare.shares(before, after, lang):
        left.metric(share.label, share.before)
        right.metric(share.label, share.after, share.delta)
    show_metrics(compare.people_metrics(before, after, lang))
    zones = compare.changes(before, after)
    bold("change_map", lang)
    map_html = cached_change_map(compare.digest(zones), lang, zones)
    show_map(map_html)
    download_row(rendered(map_html), lang, "cmp_")
    st.subheader(label("changed_zones", lang))
    table = compare.changed_table(zones, lang)
    if table.empty:
        st.info(label("no_change", lang))
    else:
        show_table(table)


class SolvingPage(NamedTuple):
    """A page that runs a scenario: its section, default file, KPIs (so many a row), and the rest of its results."""

    section: str
    default: str
    metrics: Callable[[RunRecord, str], list[Metric]]
    per_row: int
    results: Callable[[RunRecord, str], None]


SOLVING_PAGES = {
    "rounds": SolvingPage("rounds", "lozere-bus.yaml", rounds.rounds_metrics, 4, rounds_results),
    "rooms": SolvingPage("rooms", "lozere-rooms.yaml", rooms.rooms_metrics, 5, rooms_results),
    "plan": SolvingPage("siting", "lozere-plan.yaml", plan.plan_metrics, 6, plan_results),
    "markets": SolvingPage("markets", "lozere-markets.yaml", markets.markets_metrics, 5, markets_results),
}


def upload_text(lang: str) -> None:
    """Streamlit's file uploaders say "Upload" and "200MB per file" whatever the language: said in ``lang`` here
    (their own words hidden, ours shown by CSS; no Streamlit option sets them)."""
    button, limit = label("upload_button", lang), label("upload_limit", lang)
    zone = '[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"]'
    instructions = '[data-testid="stFileUploaderDropzoneInstructions"]'
    st.html(
        "<style>"
        f"{zone} > * {{ display: none; }}"
        f'{zone}::after {{ content: "{button}"; }}'
        f"{instructions} > * {{ display: none; }}"
        f'{instructions}::after {{ content: "{limit}"; font-size: 0.8rem; opacity: 0.7; }}'
        "</style>"
    )


# --- who may use the app: open on this machine only, else signed-in planners (planner/app/access.py)


@st.cache_resource(show_spinner=False)
def cached_sessions(url: str) -> sessionmaker[Session]:
    """The platform's database at ``url``, opened (and migrated) once per server."""
    return access.open_sessions(url)


def oidc_provider() -> tuple[bool, str | None]:
    """Whether the app's secrets configure OpenID Connect (``[auth]``), and the provider to name to ``st.login``
    (``None``: the one of ``[auth]`` itself; else the first ``[auth.NAME]``)."""
    try:
        auth = st.secrets.get("auth")
    except FileNotFoundError:  # no secrets file at all
        return False, None
    if not auth:
        return False, None
    named = [name for name, value in auth.items() if hasattr(value, "keys")]
    return True, (named[0] if named else None)


def client_address() -> str:
    """The visitor's address, for the sign-in rate limit."""
    found = st.context.ip_address
    return found if isinstance(found, str) else "?"


def sign_out() -> None:
    """Forget the signed-in planner (and the OpenID Connect session, if any)."""
    st.session_state.pop("planner", None)
    if oidc_provider()[0] and st.user.get("is_logged_in"):
        st.logout()


def sign_in_form(sessions: sessionmaker[Session], lang: str) -> None:
    """The sign-in page: the organisation's OpenID Connect button when configured, and the planner form."""
    st.title(label("planner_login_title", lang))
    st.write(label("app_sign_in_intro", lang))
    configured, provider = oidc_provider()
    if configured and st.user.get("is_logged_in"):
        found = access.with_identity(sessions, str(st.user.get("email") or ""))
        if found is not None:
            st.session_state["planner"] = found
            st.rerun()
        st.error(label("app_oidc_unknown", lang, email=str(st.user.get("email") or "?")))
        st.button(label("planner_sign_out", lang), on_click=st.logout)
        return
    if configured:
        st.button(label("app_sign_in_oidc", lang), on_click=st.login, args=(provider,) if provider else ())
    if not access.has_planners(sessions):
        st.warning(label("app_sign_in_no_planner", lang))
        return
    with st.form("sign_in"):
        login = st.text_input(label("planner_login", lang), autocomplete="username")
        password = st.text_input(label("planner_password", lang), type="password", autocomplete="current-password")
        sent = st.form_submit_button(label("planner_sign_in", lang))
    if sent:
        found = access.with_password(sessions, login, password, client_address())
        if found is None:
            st.error(label("planner_wrong_password", lang))
        else:
            st.session_state["planner"] = found
            st.rerun()


def allowed(lang: str) -> bool:
    """Whether this visitor may use the app: yes on 127.0.0.1 (with a notice), else once signed in."""
    address = st.get_option("server.address")
    try:
        required = access.sign_in_required(address, os.environ.get(access.ENV_FORCE))
    except InputError as exc:
        show_error(exc, lang)
        return False
    if not required:
        st.sidebar.caption(label("app_open_notice", lang, address=address))
        return True
    sessions = cached_sessions(access.database_url())
    kept = st.session_state.get("planner")
    if isinstance(kept, access.Planner) and access.still_valid(sessions, kept):
        st.sidebar.caption(label("planner_signed_in_as", lang, name=f"{kept.name} ({kept.territory})"))
        st.sidebar.button(label("planner_sign_out", lang), on_click=sign_out, key="sign_out")
        return True
    st.session_state.pop("planner", None)
    sign_in_form(sessions, lang)
    return False


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
    if not allowed(lang):
        return
    with st.sidebar:
        kept = st.session_state.get("page_kept", PAGES[0])  # the choice survives a change of language
        page = st.radio(
            label("page", lang),
            PAGES,
            index=PAGES.index(kept),
            format_func=lambda p: label(f"page_{p}", lang),
            key=f"page_{lang}",
        )
        st.session_state["page_kept"] = page
    upload_text(lang)
    cancel_interrupted_run(lang)
    if page == "coverage":
        coverage_page(lang)
    elif page == "week":
        week_page(lang)
    elif page == "compare":
        compare_page(lang)
    else:
        solving_page(page, lang)


main()
