"""Tests for the maillage command line, run in-process and once as the installed command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from planner.cli import app
from planner.exports._safe import read_csv
from planner.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_default_scenario_writes_every_output(tmp_path):
    """`maillage run` on the default scenario writes the GeoPackage, CSVs, map, summary and run.json."""
    out = tmp_path / "lozere"
    result = _run("run", str(ROOT / "scenarios" / "lozere-coverage.yaml"), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Lozère (48) : 76\u202f601 habitants" in result.output
    assert "à moins de 30 min d'un service" in result.output and "Meyrueis" in result.output
    assert {p.name for p in out.iterdir()} == {
        "coverage.gpkg",
        "access_by_zone.csv",
        "gap_zones.csv",
        "summary.csv",
        "map.html",
        "summary.json",
        "run.json",
        "tableaux.xlsx",
        "LISEZMOI.txt",
    }
    summary = json.loads((out / "summary.json").read_text())
    assert summary["population_total"] == 76601 and summary["travel_model"] == "estimate"
    assert set(summary["share_within"]) == {"10", "20", "30"}
    assert summary["population_within"]["30"] == pytest.approx(summary["share_within"]["30"] * 76601)
    run = json.loads((out / "run.json").read_text())
    assert run["travel"]["detour_factor"] == 1.3 and run["inputs"]["files"][0]["sha256"]
    assert {"python", "geopandas", "scipy"} <= set(run["versions"])
    access = gpd.read_file(out / "coverage.gpkg", layer="zones_access")
    assert len(access) == 152 and (access["gap"] == (access["time_min"] > 30)).all()
    html = (out / "map.html").read_text()
    assert "accès au service le plus proche" in html and "pas un itinéraire routier" in html


def test_coverage_of_another_departement_in_english(tmp_path):
    """`maillage coverage --departement 2A --lang en` works for Corsica, in English."""
    result = _run(
        "coverage", "--departement", "2A", "--thresholds", "15,45", "--out", str(tmp_path / "o"), "--lang", "en"
    )
    assert result.exit_code == 0, result.output
    assert "Corse-du-Sud (2A): " in result.output and "within 45 min" in result.output
    table = read_csv(tmp_path / "o" / "summary.csv")
    assert list(table.columns) == ["indicator", "value"]


def test_user_files_and_road_network(tmp_path, shared):
    """Demand points, service points and a local OSM network: times are routed and said to be."""
    network = shared / "osm" / "andorra_2013.osm.pbf"
    zones = tmp_path / "zones.csv"
    zones.write_text("zone_id,population,lon,lat\nvillage,120,1.60,42.56\ntown,900,1.52,42.51\nhamlet,40,1.73,42.54\n")
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,name,lon,lat\nfs1,Service,1.53,42.51\n")
    out = tmp_path / "o"
    result = _run(
        "coverage",
        "--zones",
        str(zones),
        "--sites",
        str(sites),
        "--no-canton-seats",
        "--network",
        str(network),
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["travel_model"] == "road" and summary["population_total"] == 1060
    assert "Temps sur le réseau routier OpenStreetMap" in (out / "map.html").read_text()


def test_france_services_list_outside_territory_is_reported(tmp_path, shared):
    """The national France Services list on Lozère keeps the Lozère sites and says how many it ignored."""
    result = _run(
        "coverage",
        "--sites",
        str(shared / "services" / "france_services_20240801.csv"),
        "--no-canton-seats",
        "--out",
        str(tmp_path / "o"),
    )
    assert result.exit_code == 0, result.output
    assert "sites more than 20 km outside the territory ignored" in result.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    listed = pd.read_csv(shared / "services" / "france_services_20240801.csv", dtype=str)
    kept = summary["services"] + summary["part_week_services"]  # Lozère's 20 and those within 20 km of it
    assert (listed["insee_dep"] == "48").sum() == 20 and 20 < kept < 100
    assert f"{len(listed) - kept} of {len(listed)} sites more than 20 km outside" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["coverage", "--departement", "99"], "unknown departement code '99'"),
        (["coverage", "--thresholds", "ten"], "is not a comma-separated list of minutes"),
        (["coverage", "--zones", "nowhere.geojson"], "nowhere.geojson, file not found"),
        (["run", "missing.yaml"], "missing.yaml, cannot be read"),
    ],
)
def test_bad_input_exits_2_without_traceback(tmp_path, args, message):
    """Bad input: exit code 2, one clear message, no traceback, and no output folder."""
    out = tmp_path / "o"
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert not out.exists() and not list(tmp_path.glob(".o.part-*"))


def test_failed_run_keeps_the_previous_output(tmp_path):
    """A run that fails leaves the previous complete output folder untouched."""
    out = tmp_path / "o"
    assert _run("coverage", "--out", str(out)).exit_code == 0
    before = (out / "summary.json").read_bytes()
    assert runner.invoke(app, ["coverage", "--departement", "99", "--out", str(out)]).exit_code == 2
    assert (out / "summary.json").read_bytes() == before


def test_help_explains_options_with_examples():
    """--help lists every option and shows an example."""
    result = _run("coverage", "--help")
    for option in ("--departement", "--zones", "--sites", "--network", "--thresholds", "--estimate", "--out"):
        assert option in result.output
    assert "maillage coverage --departement 12" in result.output


def test_installed_command(tmp_path):
    """The `maillage` entry point installed by pip runs and returns 0."""
    exe = Path(sys.executable).with_name("maillage")
    done = subprocess.run([str(exe), "departements"], capture_output=True, text=True, check=True)
    assert "48  Lozère" in done.stdout and "2A  Corse-du-Sud" in done.stdout


SOLVING = ["run", "rounds", "rooms", "site"]


@pytest.mark.parametrize("command", [*SOLVING, "coverage"])
def test_commands_share_their_options(command):
    """Every solving command takes --time-limit, --seed, --out, --force, --cache-dir and --lang; coverage takes
    --out, --force, --cache-dir and --lang."""
    result = _run(command, "--help")
    shared = ["--out", "--force", "--cache-dir", "--lang", *(["--time-limit", "--seed"] if command in SOLVING else [])]
    assert all(option in result.output for option in shared), result.output


@pytest.mark.parametrize("command", SOLVING)
def test_options_override_every_solve_and_keep_the_other_sections(monkeypatch, command):
    """The shared options reach siting, rounds and rooms alike, and no command drops a section."""
    seen = []
    monkeypatch.setattr(
        "planner.cli._execute", lambda scenario, out, scenario_file=None, force=False: seen.append(scenario)
    )
    plan = ROOT / "scenarios" / "lozere-plan.yaml"
    result = _run(command, str(plan), "--time-limit", "7", "--seed", "3", "--lang", "en", "--cache-dir", "nets")
    assert result.exit_code == 0, result.output
    (scenario,) = seen
    assert scenario.language == "en"
    assert scenario.travel.cache_dir == Path.cwd() / "nets"  # an explicit --cache-dir: from here, anywhere
    for spec in (scenario.siting, scenario.rounds, scenario.rooms):
        assert spec is not None and (spec.time_limit_s, spec.seed) == (7, 3)
    seen.clear()
    assert _run(command, str(plan)).exit_code == 0
    assert seen[0] == load_scenario(plan)  # no option: the scenario as written


def test_long_name_without_out_is_refused_before_any_folder(tmp_path, monkeypatch):
    """A 300-character name (the default output folder's name) exits 2 and leaves no outputs/ folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text(f"name: {'n' * 300}\n", encoding="utf-8")
    result = runner.invoke(app, ["run", "s.yaml"])
    assert result.exit_code == 2, result.output
    assert "name: String should have at most 100 characters" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["s.yaml"]


def test_longest_name_makes_a_valid_default_folder(tmp_path, monkeypatch):
    """The longest name allowed, even in three-byte letters, still makes an output folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text(f"name: {'中' * 100}\ncoverage: {{thresholds_min: [30]}}\n", encoding="utf-8")
    result = runner.invoke(app, ["run", "s.yaml"])
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "outputs").iterdir()
    assert (folder / "run.json").is_file()
