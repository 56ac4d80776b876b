"""The Streamlit app's page logic, without a browser (``streamlit.testing.v1.AppTest``)."""

from __future__ import annotations

import hashlib
import json
import uuid
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from optimize.shuttle import REASONS
from planner.app import uploads
from planner.app.shared import SCENARIOS_DIR, execute, scenario_files
from planner.app.uploads import UPLOAD_DIR, read_scenario, save_upload, user_message
from planner.i18n import number
from tests import markets_checker, shuttle_checker

APP = Path(__file__).resolve().parents[1] / "app.py"
NNBSP = "\u202f"  # the narrow no-break space of French numbers: 76 601, 95,5 %


def metrics(at: AppTest) -> dict[str, str]:
    """Every st.metric on the page, label -> value."""
    return {m.label: m.value for m in at.metric}


def errors(at: AppTest) -> list[str]:
    """The texts of the page's error boxes."""
    return [e.value for e in at.error]


def scenario_shown(at: AppTest, page: str) -> str:
    """The name of the scenario file chosen on a solving page."""
    chosen = at.selectbox(key=f"{page}_scenario").value
    assert chosen is not None
    return str(chosen.name)


def run_page(at: AppTest, page: str, time_limit: int) -> None:
    """Open a solving page (``rounds``, ``rooms``, ``plan``) and run its scenario with ``time_limit`` seconds."""
    at.sidebar.radio(key="page_fr").set_value(page).run()
    at.number_input(key=f"{page}_time_limit").set_value(time_limit)
    at.button(key=f"{page}_run").click().run(timeout=180)
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture
def app() -> AppTest:
    """The app after its first run: the coverage page of the embedded Lozère, in French."""
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_default_page_shows_lozere_headline(app: AppTest) -> None:
    """The default page is the coverage of Lozère: 76 601 inhabitants, 95,5 % within 30 minutes."""
    shown = metrics(app)
    assert shown["Population"] == f"76{NNBSP}601"
    assert shown["À moins de 10 min"] == f"62,0{NNBSP}%"
    assert shown["À moins de 30 min"] == f"95,5{NNBSP}%"
    assert shown["Au-delà de 30 min"] == "13"
    assert "90e centile du temps" in shown
    assert not errors(app)
    assert app.title[0].value.startswith("Qui vit à plus de 30 minutes")


def test_target_change_changes_gap_count(app: AppTest) -> None:
    """A stricter target (20 min) reclassifies communes as gaps; the 30-min headline is unchanged."""
    app.number_input(key="cov_target").set_value(20).run()
    shown = metrics(app)
    assert shown["Au-delà de 20 min"] == "51"
    assert shown["À moins de 30 min"] == f"95,5{NNBSP}%"
    assert "Au-delà de 30 min" not in shown


def test_threshold_change_reuses_cached_travel_times(app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Changing the thresholds re-measures coverage from the cached matrix: no travel time is recomputed."""
    from planner.travel.estimate import EstimateModel

    def fail(*_: object, **__: object) -> None:
        raise AssertionError("travel times recomputed")

    monkeypatch.setattr(EstimateModel, "matrix", fail)
    app.multiselect(key="cov_thresholds").set_value([15, 45]).run()
    assert not app.exception
    shown = metrics(app)
    assert "À moins de 15 min" in shown and "À moins de 45 min" in shown
    assert "À moins de 10 min" not in shown


def test_broken_upload_shows_the_loader_message(app: AppTest) -> None:
    """A zones CSV with a bad latitude gives the loader's message, naming the file, row and field."""
    bad = b"zone_id,population,lon,lat\na,120,3.5,44.5\nb,80,3.6,oops\n"
    app.file_uploader(key="cov_zones").set_value(("communes.csv", bad, "text/csv")).run()
    assert not app.exception
    (message,) = errors(app)
    assert "communes.csv, ligne 3, champ 'lat' : nombre attendu, reçu 'oops'" in message
    assert str(UPLOAD_DIR) not in message
    shown = metrics(app)  # the previous result stays on screen, said so, under the error
    assert shown["Population"] == f"76{NNBSP}601"
    assert any("Résultat précédent" in c.value for c in app.caption)


def test_uploaded_zones_and_sites_replace_the_territory(app: AppTest) -> None:
    """Uploaded zones and service points are measured instead of the communes and canton seats."""
    zones = b"zone_id,name,population,lon,lat\nz1,Mende,1000,3.4986,44.5181\nz2,Far,500,3.9,44.2\n"
    sites = b"site_id,name,lon,lat\ns1,Service Mende,3.4990,44.5180\n"
    app.file_uploader(key="cov_zones").set_value(("zones.csv", zones, "text/csv"))
    app.file_uploader(key="cov_sites").set_value(("sites.csv", sites, "text/csv"))
    app.checkbox(key="cov_canton_seats").uncheck().run()
    assert not errors(app), errors(app)
    shown = metrics(app)
    assert shown["Population"] == f"1{NNBSP}500"
    assert shown["Au-delà de 30 min"] == "1"


def test_any_departement_from_the_packaged_data(app: AppTest) -> None:
    """Choosing Aveyron (12) measures its 279 206 inhabitants against its canton seats."""
    app.radio(key="cov_territory").set_value("departement").run()
    app.selectbox(key="cov_departement").set_value("12").run()
    assert not errors(app), errors(app)
    assert metrics(app)["Population"] == f"279{NNBSP}206"


def test_road_network_upload(app: AppTest, shared: Path) -> None:
    """An uploaded OSM extract gives routed times; a broken one the reader's message."""
    zones = b"zone_id,name,population,lon,lat\ng,Gustavia,2500,-62.8498,17.8962\nl,Lorient,1000,-62.8200,17.9050\n"
    sites = b"site_id,name,lon,lat\ns1,Mairie de Gustavia,-62.8500,17.8965\n"
    app.file_uploader(key="cov_zones").set_value(("saint-barth.csv", zones, "text/csv"))
    app.file_uploader(key="cov_sites").set_value(("mairie.csv", sites, "text/csv"))
    app.checkbox(key="cov_canton_seats").uncheck()
    app.radio(key="cov_travel").set_value("network").run()
    assert "réseau routier" in app.info[0].value
    network = (shared / "osm" / "saint_barthelemy_FR_2014.osm.pbf").read_bytes()
    app.file_uploader(key="cov_network").set_value(("saint-barth.osm.pbf", network, "application/octet-stream"))
    app.run()
    assert not errors(app), errors(app)
    assert metrics(app)["Population"] == f"3{NNBSP}500"
    assert any(c.value == "saint-barth.csv" for c in app.caption)
    app.file_uploader(key="cov_network").set_value(("broken.osm.pbf", b"not a pbf", "application/octet-stream"))
    app.run()
    assert not app.exception
    (message,) = errors(app)
    assert message.startswith("Erreur : broken.osm.pbf, cannot be read")


def test_no_service_is_a_clear_error(app: AppTest) -> None:
    """Without canton seats nor uploaded services there is nothing to measure: said in plain words."""
    app.checkbox(key="cov_canton_seats").uncheck().run()
    assert not app.exception
    assert any("aucun point de service pour mesurer l'accès" in e for e in errors(app)), errors(app)


def test_english_switch(app: AppTest) -> None:
    """The sidebar switch turns labels and number formats to English."""
    app.sidebar.radio(key="lang").set_value("en").run()
    shown = metrics(app)
    assert shown["Population"] == "76,601"
    assert shown["Within 30 min"] == "95.5%"


def test_rounds_page_runs_default_scenario_and_keeps_runs(app: AppTest) -> None:
    """The rounds page runs lozere-bus.yaml with a short limit; a failed run leaves the results; two runs compare."""
    run_page(app, "rounds", 10)
    assert scenario_shown(app, "rounds") == "lozere-bus.yaml"
    assert not errors(app), errors(app)
    shown = metrics(app)
    assert int(shown["Arrêts"]) > 0
    assert shown["km par semaine"].endswith("km")
    assert len(app.session_state["rounds_runs"]) == 1

    broken = b"name: broken\nrounds:\n  fleet:\n    - vehicle_id: bus\n      depot: '99999'\n"
    app.file_uploader(key="rounds_upload").set_value(("broken.yaml", broken, "application/x-yaml"))
    app.run()
    app.number_input(key="rounds_time_limit").set_value(10)
    app.button(key="rounds_run").click().run(timeout=180)
    assert not app.exception
    assert any("depot" in e and "'99999' is neither" in e for e in errors(app)), errors(app)
    assert "Arrêts" in metrics(app), "the previous results stay on screen"
    assert len(app.session_state["rounds_runs"]) == 1

    app.file_uploader(key="rounds_upload").set_value(None)
    app.run()
    app.number_input(key="rounds_seed").set_value(2)
    app.button(key="rounds_run").click().run(timeout=180)
    assert len(app.session_state["rounds_runs"]) == 2
    table = app.dataframe[-1].value
    assert list(table.columns)[1:] == ["A: #1", "B: #2", "B − A"]
    assert any("km par semaine" in str(v) for v in table.iloc[:, 0])


def test_week_page_needs_a_run_then_offers_crew_files(app: AppTest) -> None:
    """My week asks for a rounds or rooms run first; after one it offers the CSV, iCalendar and sheet (HTML and
    PDF) of a truck, and its map as PNG."""
    app.sidebar.radio(key="page_fr").set_value("week").run()
    assert "Tournées" in app.info[0].value and "Salles" in app.info[0].value
    run_page(app, "rounds", 10)
    app.sidebar.radio(key="page_fr").set_value("week").run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.selectbox(key="week_who").options == ["Véhicule · bus-mende", "Véhicule · bus-marvejols"]
    labels = [b.proto.label for b in app.get("download_button")]
    assert labels == [
        "Agenda (iCalendar)",
        "Feuille de route (HTML)",
        "Itinéraire (CSV)",
        "Feuille de route (PDF)",
        "Carte (PNG)",
    ]


def test_rooms_page_then_a_providers_week(app: AppTest) -> None:
    """The rooms page books lozere-rooms.yaml; My week then shows each provider's files, timeline and map."""
    run_page(app, "rooms", 5)
    assert scenario_shown(app, "rooms") == "lozere-rooms.yaml"
    assert not errors(app), errors(app)
    shown = metrics(app)
    run = app.session_state["rooms_runs"][-1].run.rooms
    assert shown["Permanences"] == str(run.kpis["sessions"]) and run.kpis["sessions"] > 0
    services = app.dataframe[0].value
    assert sorted(services["Service"]) == sorted(run.kpis["demand_total"])
    assert len(app.dataframe[1].value) == len(run.bookings)  # the bookings tab

    app.sidebar.radio(key="page_fr").set_value("week").run()
    who = app.selectbox(key="week_who")
    providers = [o for o in who.options if o.startswith("Intervenant · ")]
    assert len(providers) == len(run.spec.providers)
    who.select_index(who.options.index(providers[0])).run()
    assert not app.exception, [e.value for e in app.exception]
    buttons = app.get("download_button")
    assert [b.proto.label for b in buttons] == [
        "Agenda (iCalendar)",
        "Feuille de semaine",
        "Planning (CSV)",
        "Feuille de semaine (PDF)",
        "Carte (PNG)",
    ]
    first = run.spec.providers[0].provider_id
    assert len(app.dataframe[0].value) == int((run.bookings["provider_id"] == first).sum())


def test_plan_page_runs_siting(app: AppTest) -> None:
    """The plan page runs lozere-plan.yaml: the share within 30 min goes up with the new sites."""
    run_page(app, "plan", 5)
    assert scenario_shown(app, "plan") == "lozere-plan.yaml"
    shown = metrics(app)
    assert shown["Avant : à moins de 30 min"] == f"95,5{NNBSP}%"
    before = float(shown["Avant : à moins de 30 min"].split(NNBSP)[0].replace(",", "."))
    after = float(shown["Avec les nouveaux sites"].split(NNBSP)[0].replace(",", "."))
    assert after > before
    assert any(c.value == f"83,3–99,5{NNBSP}%" for c in app.caption)  # the estimate's range by the "before" share
    assert len(app.dataframe[0].value) == 2  # the scenario opens two new sites


def test_upload_keeps_its_name_and_suffixes() -> None:
    """Uploads are saved under their own name (``.osm.pbf`` kept) in a folder named by their content."""
    first = save_upload("../../lozère.osm.pbf", b"abc")
    again = save_upload("lozère.osm.pbf", b"abc")
    other = save_upload("lozère.osm.pbf", b"abd")
    assert first == again != other
    assert first.sha256 == hashlib.sha256(b"abc").hexdigest()
    assert first.name == "lozère.osm.pbf" and first.path.parent.parent == UPLOAD_DIR
    message = user_message(ValueError(f"{first.path}, row 2: bad"))
    assert message == "lozère.osm.pbf, row 2: bad"


def test_with_solver_overrides_every_solve_section() -> None:
    """The time limit and seed inputs replace those of every solve section of the scenario."""
    scenario = read_scenario(SCENARIOS_DIR / "lozere-plan.yaml").with_solver(time_limit_s=7, seed=3)
    assert scenario.rounds is not None and scenario.siting is not None and scenario.rooms is not None
    for spec in (scenario.rounds, scenario.siting, scenario.rooms):
        assert (spec.time_limit_s, spec.seed) == (7.0, 3)
    rounds = [p.name for p in scenario_files("rounds")]
    assert {"lozere-bus.yaml", "lozere-plan.yaml"} <= set(rounds)
    assert "lozere-coverage.yaml" not in rounds
    assert "lozere-plan.yaml" in [p.name for p in scenario_files("siting")]


def test_an_upload_is_parsed_once_per_content(app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Widget changes and the same file uploaded again parse nothing more; each new content, even broken, once."""
    parsed: list[str] = []
    read_layer = uploads.read_layer

    def counting(path: Path, kind: str) -> object:
        parsed.append(path.name)
        return read_layer(path, kind)

    monkeypatch.setattr(uploads, "read_layer", counting)
    marker = uuid.uuid4().hex  # a content no cache of this process has seen
    zones = f"zone_id,name,population,lon,lat\nz1,Mende {marker},1000,3.4986,44.5181\nz2,Far,500,3.9,44.2\n".encode()
    app.file_uploader(key="cov_zones").set_value(("zones.csv", zones, "text/csv")).run()
    assert metrics(app)["Population"] == f"1{NNBSP}500"
    app.number_input(key="cov_target").set_value(20).run()
    app.multiselect(key="cov_thresholds").set_value([15, 45]).run()
    app.checkbox(key="cov_canton_seats").uncheck().run()  # another territory, the same zones
    app.checkbox(key="cov_canton_seats").check().run()
    app.file_uploader(key="cov_zones").set_value(("zones.csv", zones, "text/csv")).run()
    assert not errors(app), errors(app)
    assert parsed == ["zones.csv"]

    broken = f"zone_id,population,lon,lat\na,120,3.5,44.5\nb,80,3.6,oops-{marker}\n".encode()
    app.file_uploader(key="cov_zones").set_value(("broken.csv", broken, "text/csv")).run()
    app.number_input(key="cov_target").set_value(30).run()
    assert errors(app) and all("broken.csv, ligne 3, champ 'lat'" in e for e in errors(app))
    assert parsed == ["zones.csv", "broken.csv"]


def test_app_run_zip_is_the_cli_run_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run from the app zips the folder ``maillage run`` writes for the same run: the same files, and a
    run.json with the same inputs (SHA-256 of the packaged data and the scenario file), parameters and outputs."""
    from typer.testing import CliRunner

    import planner.cli
    from planner.runs import pipeline

    path = SCENARIOS_DIR / "lozere-plan.yaml"
    run = pipeline.run_scenario(read_scenario(path).with_solver(time_limit_s=2, seed=0))  # solved once, written by both
    monkeypatch.setattr(pipeline, "run_scenario", lambda *_, **__: run)
    monkeypatch.setattr(planner.cli, "run_scenario", lambda *_, **__: run)
    cli_out = tmp_path / "cli"
    result = CliRunner().invoke(planner.cli.app, ["run", str(path), "--out", str(cli_out)])
    assert result.exit_code == 0, result.output
    record = execute(run.scenario, 1, "fr", scenario_file=path)

    with zipfile.ZipFile(BytesIO(record.zip_bytes)) as archive:
        names = archive.namelist()
        top = {n.split("/", 1)[0] for n in names}
        assert len(top) == 1, top
        in_zip = sorted(n.split("/", 1)[1] for n in names)
        app_json = json.loads(archive.read(f"{top.pop()}/run.json"))
    written = sorted(str(p.relative_to(cli_out)) for p in cli_out.rglob("*") if p.is_file())
    assert in_zip == written
    assert {"rounds/map.html", "siting/map.html", "rooms/map.html", "plan/map.html", "run.json"} <= set(in_zip)

    cli_json = json.loads((cli_out / "run.json").read_text(encoding="utf-8"))
    assert app_json["command"] == ["maillage", "app"]
    for key in ("inputs", "parameters", "outputs", "travel"):
        assert app_json[key] == cli_json[key], key
    files = app_json["inputs"]["files"]
    assert files[-1]["path"] == str(path)
    for file in files:
        assert file["sha256"] == hashlib.sha256(Path(file["path"]).read_bytes()).hexdigest()
    assert set(record.maps) == {"rounds/map.html", "siting/map.html", "rooms/map.html", "plan/map.html", "map.html"}


def test_one_label_table() -> None:
    """The labels of the CLI, exports and app are one table: the same keys in French and English, no text twice."""
    from planner.i18n import LABELS

    assert set(LABELS["fr"]) == set(LABELS["en"])
    for lang, table in LABELS.items():
        texts = list(table.values())
        assert len(set(texts)) == len(texts), (lang, sorted(t for t in texts if texts.count(t) > 1))


def test_markets_page_compares_synchronised_and_separate_plans(app: AppTest) -> None:
    """The markets page runs lozere-markets.yaml: both plans side by side, the markets and the coaches."""
    run_page(app, "markets", 10)
    assert scenario_shown(app, "markets") == "lozere-markets.yaml"
    assert not errors(app), errors(app)
    run = app.session_state["markets_runs"][-1].run
    joint = run.markets.measures["joint"]
    shown = metrics(app)
    assert shown["Habitants pouvant faire 2 démarches ou plus en un déplacement"] == number(
        joint["people_one_trip"]["2"], "fr"
    )
    compared = app.dataframe[0].value
    assert list(compared.columns) == ["Mesure", "Plans séparés", "Plan synchronisé"] and len(compared) == 7
    assert len(app.dataframe[1].value) == len(run.markets.markets)  # the markets tab
    assert len(app.dataframe[3].value) == len(run.shuttle.timetable)  # the coaches tab
    assert markets_checker.check(run.markets.problem, run.markets.result) == []  # the real run, checked
    for _, _, problem, result in run.shuttle.days:
        assert shuttle_checker.check(problem, result) == []
    left = run.shuttle.left_out  # every trip left unserved is listed with its reason
    assert len(left) == sum(len(result.unserved) for *_, result in run.shuttle.days)
    assert set(left["reason"]) <= set(REASONS)


def test_before_after_needs_two_states(app: AppTest) -> None:
    """With one coverage measurement and no run, the before/after page says what to do first."""
    app.sidebar.radio(key="page_fr").set_value("compare").run()
    assert not app.exception
    assert any("Rien à comparer" in i.value for i in app.info)


def test_before_after_of_two_coverage_measurements(app: AppTest) -> None:
    """Two sites added where Lozère's gaps are: the page compares the measurements before and after them,
    shares side by side, people who gain time (none who lose), the communes that gain most."""
    sites = b"site_id,name,lon,lat\nw,Aubrac,3.05,44.62\ne,Mont Lozere,3.95,44.42\n"
    app.file_uploader(key="cov_sites").set_value(("nouveaux.csv", sites, "text/csv")).run()
    assert not errors(app), errors(app)
    app.sidebar.radio(key="page_fr").set_value("compare").run()
    assert not app.exception, [e.value for e in app.exception]
    assert str(app.selectbox(key="cmp_before").value).startswith("Couverture n° 1 — Lozère")
    assert str(app.selectbox(key="cmp_after").value).startswith("Couverture n° 2 — Lozère")
    within = [m for m in app.metric if m.label == "À moins de 30 min"]  # before, then after with its delta
    before, after = (float(m.value.split(NNBSP)[0].replace(",", ".")) for m in within)
    assert before == 95.5 and after > before and within[1].delta.startswith("+")
    shown = metrics(app)
    assert int(shown["Gagnent du temps"].replace(NNBSP, "")) > 0
    assert shown["Perdent du temps"] == "0"
    table = app.dataframe[0].value
    assert len(table) > 0 and (table["écart (min)"].str.startswith("-")).all()


def test_changes_reach_and_loss() -> None:
    """A zone newly reached gains without bound, one left out of reach loses, two unreachable states are no change."""
    import geopandas as gpd
    import numpy as np
    from shapely.geometry import box

    from planner.app.compare import AccessState, changes
    from planner.exports.maps import change_colour

    def state(times: list[float]) -> AccessState:
        zones = gpd.GeoDataFrame(
            {"zone_id": ["a", "b", "c", "d"], "name": list("ABCD"), "population": [1, 1, 1, 1], "time_min": times},
            geometry=[box(i, 0, i + 1, 1) for i in range(4)],
            crs="EPSG:4326",
        )
        return AccessState("s", zones, (30.0,), 30.0)

    change = changes(state([np.inf, 10, np.inf, 5]), state([20, np.inf, np.inf, 5.5]))["change_min"].tolist()
    assert change == [-np.inf, np.inf, 0.0, 0.5]
    assert [change_colour(c) for c in change] == ["#1a9850", "#d73027", "#f7f7f7", "#f7f7f7"]
