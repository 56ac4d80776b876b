"""One scenario, many départements: one Dask task per département, results merged into national tables.

Each task runs the scenario with its territory replaced by one département and writes
``OUT/<code>/`` atomically (:func:`planner.runs.record.write_scenario_run`). A folder whose ``run.json``
lists outputs that all exist, for the same parameters and input files, is complete: a restarted
fan-out skips it. A département that fails is recorded with its error; the others go on.
The cluster is a ``LocalCluster`` or any ``dask.distributed`` scheduler whose workers can import
Maillage and see ``OUT`` (a shared file system).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pandas as pd
from distributed import Client, LocalCluster, as_completed

from planner._errors import InfeasibleError, InputError
from planner.data.france import _check_codes, _normalise_departement, departements
from planner.exports._safe import CsvFormat, csv_format_for, read_csv, write_csv
from planner.jobs.measures import gap_zones
from planner.runs.folders import write_json
from planner.runs.pipeline import run_scenario
from planner.runs.record import parameters, scenario_inputs, write_scenario_run
from planner.scenario import MAX_NAME_CHARS, Scenario, TerritorySpec
from planner.travel.store import departement_networks

Status = Literal["done", "skipped", "error"]
MINUTE_KEYED = ("population_within", "share_within", "share_within_before", "share_within_after")


@dataclass(frozen=True)
class Outcome:
    """What became of one département: ``done``, ``skipped`` (already complete) or ``error``."""

    code: str
    status: Status
    seconds: float = 0.0
    error: str = ""


def departement_codes(text: str) -> list[str]:
    """Codes from ``"12,15,48"`` or ``"all"``, checked against the packaged data, in the given order."""
    known = departements()["code"]
    if text.strip().lower() == "all":
        return known.tolist()
    codes = list(dict.fromkeys(_normalise_departement(c) for c in text.split(",") if c.strip()))
    if not codes:
        raise InputError.one("--departements", "", "is empty", hint="give codes such as 12,15,48, or all")
    try:
        _check_codes("departement", codes, known, "48, 2A, 974")
    except InputError as exc:
        raise InputError(
            "--departements", exc.problems, hint="list the valid codes with: maillage departements"
        ) from None
    return codes


def departement_scenario(scenario: Scenario, code: str, network: Path | None = None) -> Scenario:
    """The scenario on one département of the packaged data (its own territory and zones file dropped).

    ``network``, a stored département road network (``planner.travel.store``), replaces the
    scenario's own network file.
    """
    if scenario.territory.zones is not None:
        raise InputError.one(
            "territory.zones",
            "",
            "cannot be split per département",
            hint="remove territory.zones: the fan-out uses the packaged communes of each département",
        )
    travel = scenario.travel.override(network=network) if network is not None else scenario.travel
    name = f"{scenario.name[: MAX_NAME_CHARS - len(code) - 1]}-{code}"
    return scenario.override(name=name, territory=TerritorySpec(departement=code), travel=travel)


def departement_networks_for(
    scenario: Scenario, codes: Sequence[str], progress: Callable[[str], None] = lambda _: None
) -> dict[str, Path | InputError]:
    """The stored road network of each département when the scenario has a network file, else none."""
    if scenario.travel.network is None or scenario.travel.model == "estimate":
        return {}
    return departement_networks(
        scenario.resolve(scenario.travel.network),
        codes,
        buffer_km=scenario.travel.border_buffer_km,
        cache_dir=scenario.resolve(scenario.travel.cache_dir) / "departements",
        progress=progress,
    )


def is_complete(folder: Path, scenario: Scenario, scenario_file: Path | None = None) -> bool:
    """True when ``folder`` holds a finished run of ``scenario`` on the same input files."""
    try:
        record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        outputs = record["outputs"]
        json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if any(not (folder / name).is_file() for name in outputs):
        return False
    return bool(
        record.get("parameters") == parameters(scenario)
        and record.get("inputs") == scenario_inputs(scenario, scenario_file)
    )


def plan_departement(
    scenario: Scenario,
    code: str,
    out: Path,
    lang: str,
    scenario_file: Path | None = None,
    network: Path | None = None,
) -> Outcome:
    """Run the scenario on département ``code`` into ``out``; never raises (errors come back as outcomes).

    This is the Dask task: every argument and the result are small and picklable; ``network`` is the
    département's stored road network, read by the worker itself.
    """
    started, clock = datetime.now(UTC), time.perf_counter()
    try:
        one = departement_scenario(scenario, code, network)
        run = run_scenario(one)
        command = ["maillage", "run", str(scenario_file or scenario.name), "--departements", code]
        write_scenario_run(run, out, lang, started=started, command=command, scenario_file=scenario_file)
    except (InputError, InfeasibleError) as exc:
        return Outcome(code, "error", time.perf_counter() - clock, f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        detail = traceback.format_exception_only(exc)[-1].strip()
        return Outcome(code, "error", time.perf_counter() - clock, f"unexpected {detail}")
    return Outcome(code, "done", time.perf_counter() - clock)


@contextlib.contextmanager
def dask_client(
    *, workers: int | None = None, scheduler: str | None = None, dashboard_address: str = ":8787"
) -> Iterator[Client]:
    """A client of the scheduler at ``scheduler``, else of a new ``LocalCluster`` of ``workers`` processes
    (one thread each; the dashboard on ``dashboard_address``, another port when it is taken)."""
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as exc:
            raise InputError.one(
                "--scheduler", "", f"no Dask scheduler answers at {scheduler} ({exc})", hint="e.g. tcp://host:8786"
            ) from None
        with client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    if n < 1:
        raise InputError.one("--workers", "", f"must be at least 1 (got {n})")
    with (
        LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=dashboard_address) as cluster,
        Client(cluster) as client,
    ):
        yield client


def fan_out(
    scenario: Scenario,
    codes: Sequence[str],
    out: Path,
    client: Client,
    *,
    lang: str = "fr",
    scenario_file: Path | None = None,
    on_outcome: Callable[[Outcome], None] = lambda _: None,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Outcome]:
    """Plan every département of ``codes`` on ``client``'s cluster, skipping complete ones; merge the tables.

    With a road network file, each département's part is first clipped and stored (once) for the
    workers to read. Returns one outcome per code, in the order of ``codes``; ``on_outcome`` sees
    each as it arrives.
    """
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    outcomes: dict[str, Outcome] = {}
    networks = departement_networks_for(scenario, codes, progress)
    todo = []
    for code in codes:
        network = networks.get(code)
        if isinstance(network, InputError):  # the network file does not reach this département
            outcomes[code] = Outcome(code, "error", 0.0, f"InputError: {network}")
            on_outcome(outcomes[code])
        elif is_complete(out / code, departement_scenario(scenario, code, network), scenario_file):
            outcomes[code] = Outcome(code, "skipped")
            on_outcome(outcomes[code])
        else:
            todo.append(code)
    run_id = uuid.uuid4().hex[:8]
    futures = {
        client.submit(
            plan_departement,
            scenario,
            code,
            out / code,
            lang,
            scenario_file,
            networks.get(code),
            key=f"departement-{code}-{run_id}",
        ): code
        for code in todo
    }
    for future in as_completed(futures):
        code = futures[future]
        try:
            outcome = future.result()
        except Exception as exc:  # the worker died (killed, out of memory): the task never returned
            outcome = Outcome(code, "error", 0.0, f"worker lost: {type(exc).__name__}: {exc}")
        outcomes[code] = outcome
        on_outcome(outcome)
    ordered = [outcomes[code] for code in codes]
    merge(out, ordered, scenario)
    return ordered


def _flatten(summary: dict[str, object]) -> dict[str, object]:
    """Scalars of ``summary.json`` as columns; dicts one level down, minutes-keyed ones as ``<key>_<t>_min``."""
    row: dict[str, object] = {}
    for key, value in summary.items():
        if isinstance(value, dict):
            for sub, item in value.items():
                if isinstance(item, (int, float, str, bool)) or item is None:
                    row[f"{key}_{sub}_min" if key in MINUTE_KEYED else f"{key}_{sub}"] = item
        elif isinstance(value, (int, float, str, bool)) or value is None:
            row[key] = value
    return row


def _replace_csv(frame: pd.DataFrame, path: Path, csv_format: CsvFormat = "rfc4180") -> None:
    part = path.with_name(f".{path.name}.part")
    write_csv(frame, part, csv_format)
    os.replace(part, path)


def merge(out: Path, outcomes: Sequence[Outcome], scenario: Scenario) -> None:
    """Write the national tables from the départements' folders: ``national_summary.csv`` (one row per
    département), ``national_access_by_zone.csv``, ``national_gap_zones.csv``, ``errors.csv`` and
    ``summary.json`` (totals over the complete départements). Each file is replaced atomically.
    """
    names = departements().set_index("code")
    fmt = csv_format_for(scenario.language, scenario.csv_format)
    rows, zones = [], []
    for outcome in outcomes:
        row: dict[str, object] = {
            "departement": outcome.code,
            "name": names.loc[outcome.code, "name"],
            "region": names.loc[outcome.code, "region"],
            "status": outcome.status,
            "error": outcome.error,
        }
        folder = out / outcome.code
        if outcome.status != "error":
            record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
            row["time_s"] = round(float(record["timings_s"]["total"]), 2)
            row.update(_flatten(json.loads((folder / "summary.json").read_text(encoding="utf-8"))))
            table = read_csv(folder / "access_by_zone.csv", dtype={"zone_id": str})
            zones.append(table.assign(departement=outcome.code))
        rows.append(row)
    summary = pd.DataFrame(rows)
    _replace_csv(summary, out / "national_summary.csv", fmt)
    errors = [
        {"departement": o.code, "name": names.loc[o.code, "name"], "error": o.error}
        for o in outcomes
        if o.status == "error"
    ]
    _replace_csv(pd.DataFrame(errors, columns=["departement", "name", "error"]), out / "errors.csv", fmt)
    access = pd.concat(zones, ignore_index=True) if zones else pd.DataFrame(columns=["departement", "zone_id"])
    access = access[["departement", *[c for c in access if c != "departement"]]]
    _replace_csv(access, out / "national_access_by_zone.csv", fmt)
    target = scenario.coverage.target_min
    _replace_csv(gap_zones(access, target) if len(access) else access, out / "national_gap_zones.csv", fmt)
    done = summary[summary["status"] != "error"]
    total = float(done["population_total"].sum()) if len(done) else 0.0
    within = {
        f"{t:g}": float(done[f"population_within_{t:g}_min"].sum()) if len(done) else 0.0
        for t in scenario.coverage.thresholds_min
    }
    part = out / ".summary.json.part"
    write_json(
        part,
        {
            "departements": len(outcomes),
            "status": {s: [o.code for o in outcomes if o.status == s] for s in ("done", "skipped", "error")},
            "errors": [asdict(o) for o in outcomes if o.status == "error"],
            "population_total": total,
            "population_within": within,
            "share_within": {t: (v / total if total else None) for t, v in within.items()},
            "target_min": target,
            "outputs": ["national_summary.csv", "national_access_by_zone.csv", "national_gap_zones.csv", "errors.csv"],
        },
    )
    os.replace(part, out / "summary.json")
