"""Named hostile inputs beyond the bad-input corpus: control characters, symbolic links, the network
cache, ``--download`` with no network, and ``--out`` pointing where a run must not write.

Each refused case ends with exit code 2, one plain message naming the file (row and field) or the
option, no traceback, and nothing written: the folder the test works in lists the same before and
after (``--out`` targets keep their content byte for byte).
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point
from typer.testing import CliRunner

from planner.cli import app

runner = CliRunner()

ZONES_CSV = "zone_id,name,population,lon,lat\na,Mende,120,3.50,44.52\nb,Balsièges,80,3.62,44.40\n"
SITES_CSV = "site_id,name,lon,lat\ns1,Mairie,3.49,44.51\n"
SECRET = "maillage-secret-77b0"


@dataclass(frozen=True)
class Case:
    """One refused input: how to make it (in a work folder; returns the command), the message expected."""

    name: str
    make: Callable[[Path], list[str]]
    message: str


def _file(name: str, content: str | bytes, option: str = "--zones") -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        path = folder / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return ["coverage", option, str(path)]

    return make


def _shapefile_with_linked_dbf(folder: Path) -> list[str]:
    """A shapefile whose .dbf sidecar is a link to another file: its rows would be read from there."""
    path = folder / "zones.shp"
    gpd.GeoDataFrame({"zone_id": ["a"], "population": [10]}, geometry=[Point(3.5, 44.5)], crs="EPSG:4326").to_file(path)
    elsewhere = folder.parent / "elsewhere.dbf"
    (folder / "zones.dbf").rename(elsewhere)
    (folder / "zones.dbf").symlink_to(elsewhere)
    return ["coverage", "--zones", str(path)]


def _geopackage_with_linked_wal(folder: Path) -> list[str]:
    path = folder / "sites.gpkg"
    gpd.GeoDataFrame({"site_id": ["s"], "name": ["A"]}, geometry=[Point(3.5, 44.5)], crs="EPSG:4326").to_file(path)
    (folder.parent / "secret.wal").write_text(SECRET)
    (folder / "sites.gpkg-wal").symlink_to(folder.parent / "secret.wal")
    return ["coverage", "--sites", str(path)]


def _scenario(text: str, setup: Callable[[Path], None] = lambda _: None) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        setup(folder)
        path = folder / "scenario.yaml"
        path.write_text(text, encoding="utf-8")
        return ["run", str(path)]

    return make


def _link_inside(folder: Path) -> None:
    (folder / "real.csv").write_text(ZONES_CSV)
    (folder / "zones.csv").symlink_to(folder / "real.csv")


def _linked_folder(folder: Path) -> None:
    (folder / "real").mkdir()
    (folder / "real" / "zones.csv").write_text(ZONES_CSV)
    (folder / "data").symlink_to(folder / "real")


def _stored_network_with_a_link(folder: Path) -> list[str]:
    """A stored road network folder whose edges table is a link to a file elsewhere."""
    store = folder / "lozere-net"
    store.mkdir()
    (store / "meta.json").write_text('{"version": 1}')
    (store / "nodes.parquet").write_bytes(b"PAR1")
    (folder.parent / "secret.parquet").write_text(SECRET)
    (store / "edges.parquet").symlink_to(folder.parent / "secret.parquet")
    return ["coverage", "--network", str(store)]


CASES = [
    Case(
        "NUL byte in a zone name",
        _file("zones.csv", ZONES_CSV.replace("Mende", "Men\x00de")),
        "zones.csv, row 2, field 'name': contains the control character U+0000 (NUL)",
    ),
    Case(
        "escape character in a site name",
        _file("sites.csv", SITES_CSV.replace("Mairie", "\x1b[31mMairie"), "--sites"),
        "sites.csv, row 2, field 'name': contains the control character U+001B",
    ),
    Case(
        "control character in a column name",
        _file("zones.csv", ZONES_CSV.replace("name", "na\x07me")),
        "zones.csv, header, column 'na\\x07me': contains a control character",
    ),
    Case("UTF-16 CSV", _file("zones.csv", ZONES_CSV.encode("utf-16")), "zones.csv, is UTF-16 text"),
    Case(
        "shapefile whose .dbf is a symbolic link",
        _shapefile_with_linked_dbf,
        "zones.shp, comes with zones.dbf, a symbolic link: the files read beside a layer must be plain files",
    ),
    Case(
        "GeoPackage whose -wal is a symbolic link",
        _geopackage_with_linked_wal,
        "sites.gpkg, comes with sites.gpkg-wal, a symbolic link",
    ),
    Case(
        "scenario naming a symbolic link inside its folder",
        _scenario("territory: {zones: zones.csv}\n", _link_inside),
        "zones.csv: is or goes through a symbolic link",
    ),
    Case(
        "scenario path through a linked folder",
        _scenario("territory: {zones: data/zones.csv}\n", _linked_folder),
        "data/zones.csv: is or goes through a symbolic link",
    ),
    Case(
        "network cache outside the scenario's folder",
        _scenario("travel: {cache_dir: /tmp/maillage-elsewhere}\n"),
        "travel.cache_dir: '/tmp/maillage-elsewhere' points outside the scenario's folder and the user cache folder",
    ),
    Case(
        "network cache climbing out of the scenario's folder",
        _scenario("travel: {cache_dir: ../../cache}\n"),
        "travel.cache_dir: '../../cache' points outside the scenario's folder",
    ),
    Case(
        "stored road network holding a symbolic link",
        _stored_network_with_a_link,
        "holds edges.parquet as a symbolic link: a stored road network is read from plain files only",
    ),
]


def _tree(folder: Path) -> dict[str, str]:
    """Every path under ``folder`` (links not followed) with the SHA-256 of the files."""
    found = {}
    for top, dirs, files in os.walk(folder):
        for name in dirs:
            found[os.path.relpath(os.path.join(top, name), folder)] = "dir"
        for name in files:
            path = Path(top, name)
            content = os.readlink(path) if path.is_symlink() else hashlib.sha256(path.read_bytes()).hexdigest()
            found[os.path.relpath(path, folder)] = content
    return found


def _refused(result: object, message: str) -> None:
    output = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 2, output  # type: ignore[attr-defined]
    assert message in output, output
    assert output.startswith("Error: ") and "Traceback" not in output and "Unexpected error" not in output
    assert SECRET not in output


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_input_exits_2_and_writes_nothing(tmp_path: Path, case: Case, monkeypatch) -> None:
    """Exit code 2 with the message; no output folder, no part folder, no cache: the folder lists the same."""
    work = tmp_path / "work"
    work.mkdir()
    args = case.make(work)
    monkeypatch.chdir(work)
    before = _tree(tmp_path)
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "out")])
    _refused(result, case.message)
    assert _tree(tmp_path) == before


def test_download_without_network_exits_2_at_once(tmp_path: Path, monkeypatch) -> None:
    """No network (sockets refused): exit 2 within seconds, saying what to do; no cache folder left behind."""

    def unreachable(*_args: object, **_kwargs: object) -> socket.socket:
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(socket, "create_connection", unreachable)
    monkeypatch.setattr(socket.socket, "connect", lambda *_: unreachable())
    monkeypatch.chdir(tmp_path)
    started = time.perf_counter()
    result = runner.invoke(app, ["coverage", "--download", "--out", str(tmp_path / "out")])
    _refused(
        result, "--download, no network: give a road network file with --network or run with the network available"
    )
    assert time.perf_counter() - started < 30
    assert list(tmp_path.iterdir()) == []


# --- --out --------------------------------------------------------------------------------------------


@pytest.fixture
def user_folder(tmp_path: Path) -> Path:
    """A folder of someone's own files."""
    folder = tmp_path / "mine"
    (folder / "photos").mkdir(parents=True)
    (folder / "these.docx").write_bytes(b"PK\x03\x04 four years of work")
    (folder / "photos" / "1.jpg").write_bytes(b"\xff\xd8\xff")
    return folder


def _scenario_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "study"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "zones.csv").write_text(ZONES_CSV)
    scenario = folder / "scenario.yaml"
    scenario.write_text("name: study\nterritory: {zones: data/zones.csv}\n")
    return scenario


OUT_CASES = {
    "an existing file": (lambda tmp, mine: [str(mine / "these.docx")], "is an existing file, not a folder"),
    "a folder Maillage did not write": (lambda tmp, mine: [str(mine)], "is a folder Maillage did not write"),
    "a folder under a file": (lambda tmp, mine: [str(mine / "these.docx" / "run")], "cannot be written"),
    "a symbolic link to a folder": (lambda tmp, mine: [str(_link(tmp, mine))], "is a symbolic link"),
    "the current folder": (lambda tmp, mine: ["."], "is the current folder or one of its parents"),
    "the parent folder": (lambda tmp, mine: [".."], "is the current folder or one of its parents"),
    "the root folder": (lambda tmp, mine: ["/", "--force"], "a run never replaces it"),
    "the home folder, forced": (lambda tmp, mine: [str(tmp / "home"), "--force"], "is your home folder"),
    "the scenario's folder, forced": (
        lambda tmp, mine: [str(tmp / "study"), "--force"],
        "holds the input",
    ),
    "the folder of an input, forced": (lambda tmp, mine: [str(tmp / "study" / "data"), "--force"], "holds the input"),
}


def _link(tmp: Path, target: Path) -> Path:
    link = tmp / "link"
    link.symlink_to(target)
    return link


@pytest.mark.parametrize("where", list(OUT_CASES))
def test_out_where_a_run_must_not_write_exits_2(tmp_path: Path, user_folder: Path, where: str, monkeypatch) -> None:
    """--out on a file, someone's folder, a link, ., .., /, home, the scenario's folder: exit 2, all intact."""
    scenario = _scenario_folder(tmp_path)
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    target, message = OUT_CASES[where]
    out, *force = target(tmp_path, user_folder)
    before = _tree(tmp_path)
    result = runner.invoke(app, ["run", str(scenario), "--out", out, *force])
    _refused(result, message)
    assert result.output.startswith("Error: --out, ")
    assert _tree(tmp_path) == before


def test_force_replaces_a_folder_maillage_did_not_write(tmp_path: Path, user_folder: Path) -> None:
    """With --force the named folder is replaced by the run; without, a Maillage folder is replaced anyway."""
    scenario = _scenario_folder(tmp_path)
    result = runner.invoke(app, ["run", str(scenario), "--out", str(user_folder), "--force"])
    assert result.exit_code == 0, result.output
    assert not (user_folder / "these.docx").exists() and (user_folder / "run.json").is_file()
    result = runner.invoke(app, ["run", str(scenario), "--out", str(user_folder)])  # now Maillage's own
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "study"]  # no part folder left


def test_an_empty_folder_may_be_the_output(tmp_path: Path) -> None:
    """An existing empty folder (made by the user for the run) is used."""
    scenario = _scenario_folder(tmp_path)
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["run", str(scenario), "--out", str(tmp_path / "empty")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "empty" / "run.json").is_file()
