"""Tests for the per-département fan-out on Dask (planner/fanout.py, `maillage run --departements`).

One LocalCluster of 2 worker processes serves the module; three small départements (Territoire de
Belfort 101 communes, Corse-du-Sud 124, Lozère 152) with coverage-only scenarios keep it quick.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client

from planner._errors import InputError
from planner.exports._safe import read_csv
from planner.runs.fanout import dask_client, departement_codes, departement_scenario, fan_out, is_complete
from planner.runs.pipeline import run_scenario
from planner.scenario import CoverageSpec, Scenario, ServicesSpec, TerritorySpec

CODES = ["90", "2A", "48"]
SCENARIO = Scenario(name="cov", coverage=CoverageSpec(thresholds_min=[15, 30]))


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """A LocalCluster of 2 worker processes, one thread each."""
    with dask_client(workers=2, dashboard_address=":0") as c:
        yield c


@pytest.fixture(scope="module")
def first_run(client, tmp_path_factory) -> Path:
    """The three départements fanned out once into a fresh folder."""
    out = tmp_path_factory.mktemp("fanout") / "out"
    outcomes = fan_out(SCENARIO, CODES, out, client)
    assert [(o.code, o.status) for o in outcomes] == [(c, "done") for c in CODES], outcomes
    return out


def _stamps(out: Path, codes: list[str]) -> dict[str, int]:
    return {code: (out / code / "run.json").stat().st_mtime_ns for code in codes}


def test_merged_tables_equal_the_single_process_runs(first_run):
    """Each département's rows of the national tables equal the same scenario run in this process."""
    zones = read_csv(first_run / "national_access_by_zone.csv", dtype={"zone_id": str, "departement": str})
    summary = read_csv(first_run / "national_summary.csv", dtype={"departement": str}).set_index("departement")
    assert list(summary.index) == CODES and (summary["status"] == "done").all()
    total = 0.0
    for code in CODES:
        single = run_scenario(departement_scenario(SCENARIO, code)).coverage
        mine = zones[zones["departement"] == code].set_index("zone_id")
        expected = single.access.set_index("zone_id")
        assert list(mine.index) == list(expected.index)
        assert (mine["time_min"] == expected["time_min"].round(1)).all()
        assert (mine["service_id"] == expected["service_id"]).all()
        assert (mine["population"] == expected["population"]).all() and (mine["gap"] == expected["gap"]).all()
        row = summary.loc[code]
        assert row["population_total"] == single.summary["population_total"]
        for t in ("15", "30"):
            assert row[f"population_within_{t}_min"] == single.summary["population_within"][t]
        assert row["p90_time_min"] == pytest.approx(single.summary["p90_time_min"])
        assert row["gap_zones"] == single.summary["gap_zones"]
        total += single.summary["population_total"]
    national = json.loads((first_run / "summary.json").read_text())
    assert national["population_total"] == total and national["status"]["done"] == CODES
    gaps = read_csv(first_run / "national_gap_zones.csv")
    assert len(gaps) == summary["gap_zones"].sum() and gaps["population"].is_monotonic_decreasing
    assert read_csv(first_run / "errors.csv").empty


def test_restart_skips_complete_departements_and_redoes_a_corrupted_one(first_run, client):
    """A second run recomputes only the département whose folder lost a file; the others keep their run.json."""
    before = _stamps(first_run, CODES)
    (first_run / "2A" / "gap_zones.csv").unlink()
    outcomes = fan_out(SCENARIO, CODES, first_run, client)
    assert {o.code: o.status for o in outcomes} == {"90": "skipped", "2A": "done", "48": "skipped"}
    after = _stamps(first_run, CODES)
    assert after["90"] == before["90"] and after["48"] == before["48"] and after["2A"] > before["2A"]
    assert (first_run / "2A" / "gap_zones.csv").is_file()
    assert len(read_csv(first_run / "national_summary.csv")) == 3


def test_a_changed_scenario_is_not_taken_as_complete(first_run):
    """Other thresholds or another département make a folder stale; the same scenario does not."""
    folder = first_run / "48"
    assert is_complete(folder, departement_scenario(SCENARIO, "48"))
    other = SCENARIO.model_copy(update={"coverage": CoverageSpec(thresholds_min=[20, 30])})
    assert not is_complete(folder, departement_scenario(other, "48"))
    assert not is_complete(folder, departement_scenario(SCENARIO, "90"))
    (first_run / "broken").mkdir()
    (first_run / "broken" / "run.json").write_text("{not json")
    assert not is_complete(first_run / "broken", departement_scenario(SCENARIO, "48"))


def test_a_failing_departement_is_reported_and_the_others_complete(client, tmp_path):
    """Services only in Lozère: Belfort fails with the loader's message, Lozère is planned and merged."""
    (tmp_path / "sites.csv").write_text("site_id,name,lon,lat\nmende,Mende,3.4985,44.5181\n")
    scenario = Scenario(
        name="fs",
        services=ServicesSpec(canton_seats=False, files=[Path("sites.csv")]),
        base_dir=tmp_path,
    )
    outcomes = fan_out(scenario, ["90", "48"], tmp_path / "out", client)
    assert [o.status for o in outcomes] == ["error", "done"]
    assert "InputError" in outcomes[0].error and "sites.csv" in outcomes[0].error
    errors = read_csv(tmp_path / "out" / "errors.csv", dtype=str)
    assert errors["departement"].tolist() == ["90"] and "sites.csv" in errors.loc[0, "error"]
    summary = read_csv(tmp_path / "out" / "national_summary.csv", dtype={"departement": str})
    assert summary["status"].tolist() == ["error", "done"] and summary.loc[1, "services"] == 1
    assert not (tmp_path / "out" / "90").exists() and is_complete(
        tmp_path / "out" / "48", departement_scenario(scenario, "48")
    )


def test_codes_are_checked_and_named():
    """`all`, short codes and Corsica's letters are understood; an unknown code says how to list them."""
    assert len(departement_codes("all")) == 101
    assert departement_codes("1, 2a,48,1") == ["01", "2A", "48"]
    with pytest.raises(InputError) as error:
        departement_codes("48,99")
    assert "'99'" in str(error.value) and "maillage departements" in str(error.value)
    with pytest.raises(InputError, match=r"territory\.zones"):
        departement_scenario(Scenario(territory=TerritorySpec(zones=Path("grid.csv"))), "48")


def test_killed_run_restarts_without_recomputing_or_losing_anything(tmp_path, client):
    """`maillage run --departements` killed (SIGKILL, workers too) after its first département: the rerun
    keeps that one untouched, completes the others and merges all three; no partial folder is left."""
    scenario_file = tmp_path / "cov.yaml"
    scenario_file.write_text("name: cov\ncoverage:\n  thresholds_min: [15, 30]\n")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "planner.cli", "run", str(scenario_file), "--departements", ",".join(CODES)]
    process = subprocess.Popen(
        [*command, "--workers", "1", "--out", str(out)],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not any((out / code / "run.json").exists() for code in CODES):
            assert process.poll() is None and time.monotonic() < deadline, "the run ended before any département"
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    finished = [code for code in CODES if (out / code / "run.json").exists()]
    assert 1 <= len(finished) < len(CODES), finished
    before = _stamps(out, finished)
    scenario = Scenario(name="cov", coverage=CoverageSpec(thresholds_min=[15, 30]), base_dir=tmp_path)
    outcomes = fan_out(scenario, CODES, out, client, scenario_file=scenario_file)
    status = {o.code: o.status for o in outcomes}
    assert all(status[code] == "skipped" for code in finished)
    assert all(status[code] == "done" for code in CODES if code not in finished)
    assert _stamps(out, finished) == before
    summary = read_csv(out / "national_summary.csv", dtype={"departement": str})
    assert summary["departement"].tolist() == CODES and summary["population_total"].gt(0).all()
    assert not list(out.glob(".*.part-*"))
