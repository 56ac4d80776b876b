"""Hostile ids and names through every command: nothing written outside ``--out``, no formula in a CSV,
no script run by a map.

One scenario holds every stage (coverage, siting, rounds, rooms, so the plan too) with ids that try
to leave the output folder (``../../x``, absolute paths, ``CON``, ids empty once slugged, ids that
slug alike, a fixed file name) and names that try to run code in a map or a spreadsheet. Each
command (``coverage``, ``run``, ``rounds``, ``rooms``, ``site``) runs once on it under a fresh root;
the tests then compare the listing of the root's parent before and after, resolve every file
written, read every CSV, and load every map in headless chromium (hovering and clicking every
marker and zone) with dialogs watched.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

if TYPE_CHECKING:
    from playwright.sync_api import Dialog, Error, Page

from planner.cli import app

pytestmark = pytest.mark.slow

runner = CliRunner()
ESCAPE = "maillage-escape-4d2e"  # a folder name no run may ever create, anywhere
SCRIPTS = [
    "${alert(7)}",
    "</script><script>alert(6)</script>",
    "<img src=x onerror=alert(2)>",
    "a`b",
    "{{ 7*7 }}<svg onload=alert(5)>",
    "\\u0060${alert(8)}",
]
FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", "\t=1+2", "\r=1+3"]
NAMES = [*SCRIPTS, *FORMULAS]
# Around Mende: (lon, lat) of 12 demand points and 6 premises.
ZONES = [(3.40 + 0.04 * (i % 4), 44.45 + 0.05 * (i // 4)) for i in range(12)]
PREMISES = [(3.42 + 0.05 * (i % 3), 44.47 + 0.06 * (i // 3)) for i in range(6)]
COMMANDS = ["coverage", "run", "rounds", "rooms", "site"]


def _hostile_ids(root: Path, kind: str) -> list[str]:
    """Ids that would write outside the output folder if they became paths as they are."""
    return [
        f"../../{kind}-up",
        "../" * 12 + f"tmp/{ESCAPE}/{kind}",
        str(root.parent / "absolute" / kind),
        "CON",
        "...",
        f"{kind}/a",  # these two slug alike
        f"{kind}:a",
        "map.html" if kind == "truck" else f"{kind}.",
    ]


def _csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)


def make_scenario(root: Path) -> Path:
    """The hostile scenario and its files in ``root/scenario``; returns the scenario file."""
    folder = root / "scenario"
    folder.mkdir(parents=True)
    _csv(
        folder / "zones.csv",
        ["zone_id", "name", "population", "lon", "lat"],
        [
            [f"=z{i}" if i % 2 else f"z{i}", NAMES[i % len(NAMES)], 800 + 100 * i, x, y]
            for i, (x, y) in enumerate(ZONES)
        ],
    )
    _csv(
        folder / "services.csv",
        ["site_id", "name", "address", "opening_hours", "lon", "lat"],
        [
            ["../../svc", SCRIPTS[0], FORMULAS[0], "Mo-Fr 09:00-12:00", 3.50, 44.52],
            ["=svc", SCRIPTS[1], SCRIPTS[2], "", 3.45, 44.60],
        ],
    )
    premises = _hostile_ids(root, "site")[:6]
    _csv(
        folder / "premises.csv",
        ["site_id", "name", "kind", "address", "capacity", "equipment", "opening_hours", "lon", "lat"],
        [
            [
                pid,
                SCRIPTS[i % len(SCRIPTS)],
                "vacant_premises",
                FORMULAS[i % len(FORMULAS)],
                8,
                "wifi",
                "Mo-Fr 08:00-18:00",
                x,
                y,
            ]
            for i, (pid, (x, y)) in enumerate(zip(premises, PREMISES, strict=True))
        ],
    )
    trucks = _hostile_ids(root, "truck")
    providers = _hostile_ids(root, "provider")
    service = "<img src=x onerror=alert(3)>"
    fleet = "".join(
        f"    - {{vehicle_id: {json.dumps(v)}, depot: '48095', days: [{1 + i % 5}], shift_start: '08:00', "
        "shift_end: '18:00', lunch: null}\n"
        for i, v in enumerate(trucks)
    )
    staff = "".join(
        f"    - {{provider_id: {json.dumps(p)}, name: {json.dumps(SCRIPTS[i % len(SCRIPTS)])}, "
        f"service: {json.dumps(service if i % 2 else 'caf')}, home: '48095', days: [1, 2, 3, 4, 5], "
        "sessions_per_week: 1, session_min: 180, max_travel_min: 240}\n"
        for i, p in enumerate(providers)
    )
    path = folder / "scenario.yaml"
    path.write_text(
        f"name: {json.dumps('../../' + SCRIPTS[0])}\n"
        "territory: {zones: zones.csv}\n"
        "services: {canton_seats: false, files: [services.csv]}\n"
        "coverage: {thresholds_min: [10, 15, 20], target_min: 15}\n"
        "siting: {model: mclp, new_sites: 2, kinds: [vacant_premises], files: [premises.csv], time_limit_s: 5, "
        "tradeoff_max_sites: 3}\n"
        "rounds:\n  horizon_weeks: 1\n  start_date: 2027-01-04\n  time_limit_s: 5\n  max_stops_per_day: 2\n"
        "  stops: {kinds: [vacant_premises], files: [premises.csv], service_min: 120, frequency: weekly}\n"
        f"  fleet:\n{fleet}"
        "rooms:\n  start_date: 2027-01-04\n  time_limit_s: 5\n"
        f"  usage_rate: {{caf: 0.1, {json.dumps(service)}: 0.1}}\n"
        "  premises: {town_halls: false, files: [premises.csv]}\n"
        f"  providers:\n{staff}",
        encoding="utf-8",
    )
    return path


def _listing(folder: Path) -> set[str]:
    """Every path under ``folder`` (links not followed), relative to it."""
    found = set()
    for top, dirs, files in os.walk(folder):
        for name in dirs + files:
            found.add(os.path.relpath(os.path.join(top, name), folder))
    return found


@dataclass
class Ran:
    """One command run on the hostile scenario."""

    command: str
    out: Path
    exit_code: int
    output: str
    before: set[str]
    after: set[str]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Ran]]:
    """Every command once on the hostile scenario, from inside a fresh root, with the parent listed around it."""
    parent = tmp_path_factory.mktemp("hostile")
    root = parent / "root"
    scenario = make_scenario(root)
    cwd = Path.cwd()
    os.chdir(root)
    done = {}
    try:
        for command in COMMANDS:
            out = root / f"out-{command}"
            before = _listing(parent)
            if command == "coverage":
                args = ["coverage", "--zones", str(scenario.parent / "zones.csv"), "--no-canton-seats"]
                args += ["--sites", str(scenario.parent / "services.csv")]
            else:
                args = [command, str(scenario)]
            result = runner.invoke(app, [*args, "--out", str(out)])
            done[command] = Ran(command, out, result.exit_code, result.output, before, _listing(parent))
    finally:
        os.chdir(cwd)
    yield done


@pytest.mark.parametrize("command", COMMANDS)
def test_every_write_stays_in_the_output_folder(runs: dict[str, Ran], command: str) -> None:
    """The command succeeds; the only new paths under the root's parent are inside its --out folder, and
    every file there resolves inside it; nothing appears under /tmp/<escape>."""
    ran = runs[command]
    assert ran.exit_code == 0, ran.output
    new = ran.after - ran.before
    prefix = os.path.relpath(ran.out, ran.out.parent.parent) + os.sep
    assert new and all(p.startswith(prefix) or p == prefix.rstrip(os.sep) for p in new), sorted(new)
    real_out = os.path.realpath(ran.out)
    for top, _, files in os.walk(ran.out):
        for name in files:
            assert os.path.commonpath([os.path.realpath(os.path.join(top, name)), real_out]) == real_out
    assert not Path("/tmp", ESCAPE).exists()
    assert not (ran.out.parent.parent / "absolute").exists()


def test_ids_became_safe_distinct_folders(runs: dict[str, Ran]) -> None:
    """Each truck and provider has its own folder, named safely; run.json lists only paths inside."""
    rounds = runs["rounds"].out / "rounds"
    trucks = [p for p in rounds.iterdir() if p.is_dir()]
    assert len(trucks) == 8 and all(re.fullmatch(r"[A-Za-z0-9][\w.-]*", p.name) for p in trucks)
    assert (rounds / "map.html").is_file()  # the truck named map.html got another name
    providers = [p for p in (runs["rooms"].out / "rooms" / "intervenants").iterdir()]
    assert len(providers) == 8
    assert any((runs["rooms"].out / "rooms" / "lieux").iterdir())
    for ran in runs.values():
        outputs = json.loads((ran.out / "run.json").read_text(encoding="utf-8"))["outputs"]
        assert all(".." not in Path(name).parts and not Path(name).is_absolute() for name in outputs)
        assert all((ran.out / name).is_file() for name in outputs)


def test_no_workbook_cell_is_a_formula(runs: dict[str, Ran]) -> None:
    """In every workbook written, no cell is a formula: hostile names stay text."""
    import openpyxl

    for ran in runs.values():
        for path in ran.out.rglob("*.xlsx"):
            book = openpyxl.load_workbook(path)
            for sheet in book.worksheets:
                for row in sheet.iter_rows():
                    assert all(cell.data_type != "f" for cell in row), (path, sheet.title)


def test_no_csv_cell_is_a_formula(runs: dict[str, Ran]) -> None:
    """In every CSV written, a cell starting with = + - @ tab or CR is a number; hostile names are quoted."""
    number = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")
    seen = 0
    for ran in runs.values():
        for path in ran.out.rglob("*.csv"):
            with path.open(newline="", encoding="utf-8-sig") as stream:
                french = path.read_bytes().startswith(b"\xef\xbb\xbf")  # excel-fr: ';' and a BOM
                for row in csv.reader(stream, delimiter=";" if french else ","):
                    for cell in row:
                        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or number.fullmatch(cell), (
                            path,
                            cell,
                        )
                        seen += cell.startswith("'=") or cell.startswith("'+")
    assert seen > 10  # the hostile names did reach the tables, neutralised


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
MAPS = ["out-coverage/map.html", "out-run/siting/map.html", "out-run/rounds/map.html", "out-run/plan/map.html"]
MAPS += ["out-rooms/rooms/map.html", "out-site/siting/map.html"]


def _watch(page: Page) -> tuple[list[str], list[str]]:
    """The page's dialogs (each dismissed at once) and script errors, collected as they happen."""
    dialogs: list[str] = []
    errors: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_error(error: Error) -> None:
        errors.append(str(error))

    page.on("dialog", on_dialog)
    page.on("pageerror", on_error)
    return dialogs, errors


def test_no_map_runs_a_hostile_name(runs: dict[str, Ran]) -> None:
    """Every map opens in chromium with its markers and zones, no dialog on load, hover or click, no script
    error; the hostile names show as text in the tooltips."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    root = runs["run"].out.parent
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for name in MAPS:
                page = browser.new_page(viewport={"width": 1200, "height": 900})
                dialogs, errors = _watch(page)
                page.route("http*://**", lambda route: route.abort())  # offline: no tiles
                page.goto((root / name).as_uri(), wait_until="load")
                # dots, zones; points (the commune names written on the map take no mouse: not hovered)
                shapes = page.locator("path.leaflet-interactive, .leaflet-marker-icon:not(.maillage-name)")
                shapes.first.wait_for(state="attached", timeout=30_000)
                count = shapes.count()
                assert count >= 3, (name, count)
                tips = []
                for i in range(count):
                    shape = shapes.nth(i)
                    if shape.is_visible():  # the mouse's events sent to the shape: a popup's pan moves no target
                        for event in ("mouseover", "mousemove", "click"):
                            shape.dispatch_event(event, timeout=2_000)
                        tips.append(page.locator(".leaflet-tooltip, .leaflet-popup-content").all_inner_texts())
                page.wait_for_timeout(500)
                assert dialogs == [], (name, dialogs)
                assert errors == [], (name, errors)
                shown = " ".join(" ".join(t) for t in tips)
                assert any(s in shown for s in SCRIPTS[:3]), (name, shown[:500])  # displayed as text
                page.close()
            sheets = sorted(runs["run"].out.glob("*/*/*.html")) + sorted(runs["run"].out.glob("rooms/*/*/*.html"))
            assert len(sheets) >= 10
            for sheet in sheets:  # the printable sheets and booking grids
                page = browser.new_page()
                dialogs, _ = _watch(page)
                page.route("http*://**", lambda route: route.abort())
                page.goto(sheet.as_uri(), wait_until="load")
                page.wait_for_timeout(200)
                assert dialogs == [] and page.locator("script, img, svg").count() == 0, sheet
                page.close()
        finally:
            browser.close()
