"""The files French planners and crews open as they are (issue 16): CSV for French Excel, one workbook,
GeoPackage layers in the official projection with QGIS styles, RFC 7946 GeoJSON, calendars that
validate and skip public holidays, printable sheets with a page per week, the attribution everywhere."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import re
import sqlite3
from pathlib import Path

import geopandas as gpd
import icalendar
import openpyxl
import pyogrio
import pytest
from typer.testing import CliRunner

from planner.cli import app
from planner.exports.calendar import holiday_subdivision, public_holidays
from tests.test_calendar import occurrences

ROOT = Path(__file__).resolve().parents[1]
CREDIT = "Sources : INSEE, IGN ADMIN EXPRESS, Annuaire de l'administration (DILA)"


def _run(out: Path, *args: str) -> Path:
    result = CliRunner().invoke(app, [*args, "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def bus(tmp_path_factory) -> Path:
    """`maillage rounds` on the Lozère bus scenario, in French (the default)."""
    return _run(
        tmp_path_factory.mktemp("bus") / "out",
        "rounds",
        str(ROOT / "scenarios" / "lozere-bus.yaml"),
        "--time-limit",
        "5",
    )


@pytest.fixture(scope="module")
def rooms(tmp_path_factory) -> Path:
    """`maillage rooms` on the Lozère rooms scenario, in French."""
    return _run(
        tmp_path_factory.mktemp("rooms") / "out",
        "rooms",
        str(ROOT / "scenarios" / "lozere-rooms.yaml"),
        "--time-limit",
        "5",
    )


def _as_french_excel(path: Path) -> list[list[str]]:
    """The rows as French Excel reads a CSV it opens by double-click: BOM -> UTF-8, ';' separator."""
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8), f"{path.name}: no BOM, Excel would read it as ANSI"
    return list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline=""), delimiter=";"))


def test_every_csv_opens_in_french_excel(bus, rooms):
    """Every CSV of a French run: BOM, ';', a decimal comma in the number columns, oui/non, no True/False."""
    files = [*bus.rglob("*.csv"), *rooms.rglob("*.csv")]
    assert len(files) >= 10
    for path in files:
        rows = _as_french_excel(path)
        assert (rows and len(rows[0]) > 1) or path.name == "stops_left_out.csv", path
        cells = {c for row in rows[1:] for c in row}
        assert not cells & {"True", "False"}, path
    access = _as_french_excel(bus / "access_by_zone.csv")
    header, first = access[0], access[1]
    time = first[header.index("time_min")]
    assert "," in time and float(time.replace(",", ".")) > 0
    assert first[header.index("gap")] in ("oui", "non")


def test_rfc4180_on_request(tmp_path):
    """--csv-format rfc4180 writes the plain form: ',' separator, decimal point, no BOM."""
    out = _run(tmp_path / "o", "coverage", "--estimate", "--csv-format", "rfc4180")
    raw = (out / "access_by_zone.csv").read_bytes()
    assert not raw.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    assert rows[0][0] == "zone_id" and "." in rows[1][rows[0].index("time_min")]
    assert json.loads((out / "run.json").read_text())["parameters"]["csv_format"] == "rfc4180"


def test_bad_csv_format_is_refused(tmp_path):
    """An unknown --csv-format is refused under its option's name (exit 2)."""
    result = CliRunner().invoke(app, ["coverage", "--csv-format", "excel", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "--csv-format" in result.output


def test_workbook_holds_every_table_and_the_sources(bus):
    """tableaux.xlsx: a sheet per table with bold headers and the first row frozen, then `sources`."""
    book = openpyxl.load_workbook(bus / "tableaux.xlsx")
    assert {"access_by_zone", "gap_zones", "summary", "rounds-visits", "sources"} <= set(book.sheetnames)
    sheet = book["access_by_zone"]
    assert sheet.freeze_panes == "A2" and sheet["A1"].value == "zone_id" and sheet["A1"].font.bold
    assert isinstance(sheet.cell(2, [c.value for c in sheet[1]].index("time_min") + 1).value, float)
    assert sheet.max_row == 153  # the 152 communes of Lozère
    sources = [row for row in book["sources"].values]
    assert any(CREDIT in str(text) for _, text in sources)


def test_geopackage_layers_in_lambert_93_with_styles(bus):
    """Each layer of coverage.gpkg is in EPSG:2154, polygons are MultiPolygon, and has a default QGIS style."""
    gpkg = bus / "coverage.gpkg"
    layers = dict(pyogrio.list_layers(gpkg))
    assert layers["zones_access"] == "MultiPolygon" and layers["gap_zones"] == "MultiPolygon"
    for layer in ("zones_access", "gap_zones", "services"):
        assert pyogrio.read_info(gpkg, layer=layer)["crs"] == "EPSG:2154"
    with sqlite3.connect(gpkg) as db:
        styles = dict(db.execute("SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault").fetchall())
    assert set(styles) == {"zones_access", "gap_zones", "services"}
    assert 'attr="time_min"' in styles["zones_access"] and "SimpleMarker" in styles["services"]
    assert pyogrio.read_info(bus / "plan" / "combined_access.gpkg", layer="combined_access")["crs"] == "EPSG:2154"


def test_empty_gap_layer_keeps_its_schema(tmp_path):
    """With a target no commune misses, gap_zones is still written, empty, with its columns."""
    out = _run(tmp_path / "o", "coverage", "--estimate", "--target", "120", "--thresholds", "60,120")
    info = pyogrio.read_info(out / "coverage.gpkg", layer="gap_zones")
    assert info["features"] == 0 and "time_min" in list(info["fields"]) and info["geometry_type"] == "MultiPolygon"


def test_overseas_layers_in_their_official_projection(tmp_path):
    """La Réunion's layers are in RGR92 / UTM 40S (EPSG:2975); its calendars would use its holidays."""
    out = _run(tmp_path / "o", "coverage", "--departement", "974", "--estimate")
    assert pyogrio.read_info(out / "coverage.gpkg", layer="zones_access")["crs"] == "EPSG:2975"
    assert holiday_subdivision(["97411"]) == "974"


def test_geojson_is_rfc_7946(bus):
    """No `crs` member; every route either a line of at least two distinct points or no geometry."""
    for path in bus.rglob("*.geojson"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert "crs" not in doc, path
        for feature in doc["features"]:
            geometry = feature["geometry"]
            if geometry and geometry["type"] == "LineString":
                assert len({tuple(c) for c in geometry["coordinates"]}) >= 2, path


def test_calendars_validate_and_skip_public_holidays(bus, rooms):
    """Every .ics parses, is published, stamped at or before now, repeats until an end date, has a
    SEQUENCE, and none of its occurrences falls on a French public holiday."""
    now = dt.datetime.now(dt.UTC)
    files = [*bus.rglob("*.ics"), *rooms.rglob("*.ics")]
    assert files
    for path in files:
        cal = icalendar.Calendar.from_ical(path.read_bytes())
        assert str(cal["method"]) == "PUBLISH"
        for event in cal.walk("VEVENT"):
            assert event.decoded("dtstamp") <= now
            assert "UNTIL" in event["rrule"] and "SEQUENCE" in event
            days = [d.date() for d in occurrences(event)]
            off = public_holidays(days[0], days[-1])
            assert not set(days) & set(off), (path, sorted(set(days) & set(off)))


def test_sheets_one_page_per_week_french_dates_and_credit(bus, rooms):
    """The round sheet has a page per week, each with its own heading and total; dates in French;
    no address starts with a comma; the sources at the foot."""
    sheet = next(bus.rglob("feuille-de-route.html")).read_text(encoding="utf-8")
    assert sheet.count('<section class="page">') == 2
    assert "Tournée de la semaine 1" in sheet and "Tournée de la semaine 2" in sheet
    assert sheet.count("Total :") == 2 and "lundi 4 janvier 2027" in sheet
    assert "<td>, " not in sheet and "Sources : INSEE" in sheet
    provider = next(rooms.rglob("feuille-de-semaine.html")).read_text(encoding="utf-8")
    assert "Semaine du lundi" in provider and "Sources : INSEE" in provider


def test_attribution_in_readme_run_json_and_maps(bus):
    """LISEZMOI.txt, run.json and every map carry the credit data/SOURCES.md asks for."""
    assert CREDIT in (bus / "LISEZMOI.txt").read_text(encoding="utf-8-sig")
    assert CREDIT in json.loads((bus / "run.json").read_text())["attribution"]
    for page in bus.rglob("map.html"):
        assert "attributionControl.addAttribution" in page.read_text(encoding="utf-8"), page


def test_odd_hours_do_not_stop_coverage(tmp_path):
    """Coverage does not use opening hours: a sites file with hours of the full OSM syntax and one it
    cannot read is measured (exit 0), its sites styled apart in QGIS; the rounds that keep to hours refuse
    the unreadable row (exit 2)."""
    sites = tmp_path / "sites.csv"
    sites.write_text(
        "site_id,name,opening_hours,lon,lat\n"
        "a,Maison France Services,Mo-Fr 08:30-12:00; PH off,3.50,44.52\n"
        'b,Permanence,"We[1,3] 09:00-12:00",3.30,44.40\n'
        "c,Accueil,lundi matin,3.60,44.60\n",
        encoding="utf-8",
    )
    out = _run(tmp_path / "o", "coverage", "--estimate", "--sites", str(sites))
    services = pyogrio.read_dataframe(out / "coverage.gpkg", layer="services")
    assert set(services.loc[services["source_file"].notna(), "site_id"]) == {"a", "b", "c"}  # drawn apart
    with sqlite3.connect(out / "coverage.gpkg") as db:
        (style,) = db.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = 'services'").fetchone()
    assert 'type="RuleRenderer"' in style and "Vos sites (fichier importé)" in style
    scenario = tmp_path / "bus.yaml"
    scenario.write_text(
        (ROOT / "scenarios" / "lozere-bus.yaml")
        .read_text(encoding="utf-8")
        .replace("use_opening_hours: false", f"use_opening_hours: true\n    files: [{sites}]"),
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["rounds", str(scenario), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    assert "row 4, field 'opening_hours'" in result.output and "row 2" not in result.output


def test_formats_on_request_geoparquet_png_pdf(tmp_path):
    """--formats geoparquet,png,pdf: every GeoPackage layer also as GeoParquet in the same projection
    (empty layers too), the map as a PNG and a one-page PDF, all listed in run.json."""
    out = _run(
        tmp_path / "o",
        "coverage",
        "--estimate",
        "--target",
        "120",
        "--thresholds",
        "60,120",
        "--formats",
        "geoparquet,png,pdf",
    )
    for layer in ("zones_access", "gap_zones", "services"):
        frame = gpd.read_parquet(out / f"coverage-{layer}.parquet")
        assert (
            frame.crs.to_epsg() == 2154
            and len(frame) == pyogrio.read_info(out / "coverage.gpkg", layer=layer)["features"]
        )
    assert (out / "map.png").read_bytes().startswith(b"\x89PNG") and _pdf_pages(out / "map.pdf") == 1
    listed = json.loads((out / "run.json").read_text())["outputs"]
    assert {"coverage-gap_zones.parquet", "map.png", "map.pdf"} <= set(listed)


def test_sheets_as_pdf_one_page_per_week(bus, tmp_path):
    """A round sheet printed by Chromium: one A4 page per week of the plan."""
    from planner.exports.render import sheet_pdf

    sheet = next(bus.rglob("feuille-de-route.html"))
    path = tmp_path / "feuille.pdf"
    path.write_bytes(sheet_pdf(sheet.read_text(encoding="utf-8")))
    assert _pdf_pages(path) == 2


def _pdf_pages(path: Path) -> int:
    """How many pages a PDF declares (its page objects)."""
    return len(re.findall(rb"/Type\s*/Page[^s]", path.read_bytes()))


def test_pdf_only_renders_maps_and_sheets_without_png(bus, tmp_path):
    """formats [pdf]: a PDF beside each map and each sheet of a run folder, no PNG; the other files untouched."""
    from planner.exports.render import write_renderings

    files = ["map.html", "rounds/bus-mende/feuille-de-route.html", "access_by_zone.csv"]
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes((bus / name).read_bytes())
    written = write_renderings(tmp_path, files, ["pdf"])
    assert written == ["map.pdf", "rounds/bus-mende/feuille-de-route.pdf"]
    assert _pdf_pages(tmp_path / "map.pdf") == 1 and _pdf_pages(tmp_path / written[1]) == 2
    assert not list(tmp_path.rglob("*.png"))


def test_png_without_chromium_is_refused_before_any_work(tmp_path, monkeypatch):
    """--formats png where no Chromium is found: exit 2 naming the fix, nothing written."""
    monkeypatch.setenv("MAILLAGE_CHROMIUM", str(tmp_path / "no-chromium"))
    out = tmp_path / "o"
    result = CliRunner().invoke(app, ["coverage", "--estimate", "--formats", "png", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "PNG and PDF are drawn by Chromium" in result.output and "apt-get install chromium" in result.output
    assert not out.exists()
