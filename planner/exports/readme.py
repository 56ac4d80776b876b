"""What a run folder says about itself: the workbook of all its tables with a ``sources`` sheet, and
``LISEZMOI.txt`` (the data sources to credit, the files and how to open them).

A CSV file cannot carry a comment line (spreadsheets would read it as data), so the attribution that
``data/SOURCES.md`` asks for "with any map or table" is here, in the workbook and in ``run.json``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from planner.exports._safe import CsvFormat, write_workbook
from planner.i18n import attribution

WORKBOOK = "tableaux.xlsx"
README = "LISEZMOI.txt"
LICENCE_URL = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"

_TEXT: dict[str, dict[str, Any]] = {
    "fr": {
        "sources": "sources",
        "licence": "licence",
        "tables": "tables",
        "generated": "Tableaux de Maillage : une feuille par fichier CSV du dossier, puis celle-ci.",
        "title": "Maillage — dossier de résultats",
        "credit": "À citer avec toute carte ou tout tableau tiré de ces fichiers :",
        "csv": {
            "excel-fr": "Fichiers CSV pour Excel en français : séparateur « ; », UTF-8 avec BOM, virgule décimale, "
            "oui/non. Ils s'ouvrent par double-clic. (--csv-format rfc4180 pour la forme « , » et point décimal.)",
            "rfc4180": "Fichiers CSV au format RFC 4180 : séparateur « , », UTF-8, point décimal, True/False. "
            "(--csv-format excel-fr pour Excel en français.)",
        },
        "gis": "Couches SIG : GeoPackage en {crs} (projection officielle du territoire), styles QGIS inclus "
        "(table layer_styles) ; GeoJSON en WGS 84 (EPSG:4326, RFC 7946).",
        "calendars": "Calendriers (.ics) : à importer dans un agenda ; un nouveau plan importé remplace l'ancien. "
        "Les jours fériés sont exclus.",
        "renderings": "Cartes et fiches en PNG et PDF : rendues hors ligne par Chromium, pour imprimer ou insérer "
        "dans un rapport (la carte HTML reste la version interactive).",
        "files": "Fichiers :",
    },
    "en": {
        "sources": "sources",
        "licence": "licence",
        "tables": "tables",
        "generated": "Maillage tables: one sheet per CSV file of the folder, then this one.",
        "title": "Maillage — run folder",
        "credit": "Credit with any map or table drawn from these files:",
        "csv": {
            "excel-fr": "CSV files for French Excel: ';' separator, UTF-8 with BOM, decimal comma, oui/non. "
            "(--csv-format rfc4180 for the ',' form with decimal points.)",
            "rfc4180": "CSV files in RFC 4180 form: ',' separator, UTF-8, decimal point, True/False. "
            "(--csv-format excel-fr for French Excel.)",
        },
        "gis": "GIS layers: GeoPackage in {crs} (the territory's official projection) with QGIS styles "
        "(layer_styles table); GeoJSON in WGS 84 (EPSG:4326, RFC 7946).",
        "calendars": "Calendars (.ics): import them in a calendar app; a new plan imported again replaces the "
        "previous one. Public holidays are left out.",
        "renderings": "Maps and sheets as PNG and PDF: drawn offline by Chromium, to print or put in a report "
        "(the HTML map stays the interactive one).",
        "files": "Files:",
    },
}


def sources(lang: str = "fr", *, road: bool = False) -> list[tuple[str, str]]:
    """The rows of the workbook's ``sources`` sheet: the attribution, the licence, what the sheets are."""
    t = _TEXT[lang]
    return [
        (str(t["sources"]), attribution(lang, road=road)),
        (str(t["licence"]), LICENCE_URL),
        (str(t["tables"]), str(t["generated"])),
    ]


def write_workbook_of(tables: Mapping[str, pd.DataFrame], folder: Path, lang: str = "fr", *, road: bool = False) -> str:
    """Write ``tables`` (file name -> table) as ``tableaux.xlsx`` in ``folder``; return its name."""
    write_workbook(dict(tables), folder / WORKBOOK, sources(lang, road=road))
    return WORKBOOK


def write_readme(
    folder: Path,
    files: Iterable[str],
    lang: str = "fr",
    *,
    road: bool = False,
    csv_format: CsvFormat = "excel-fr",
    crs: str = "EPSG:2154",
) -> str:
    """Write ``LISEZMOI.txt`` (UTF-8 with BOM, Windows line ends: Notepad shows it right): the credit
    to give, how the files are written, the list of files; return its name."""
    t = _TEXT[lang]
    listed = sorted(files)
    lines = [
        t["title"],
        "",
        t["credit"],
        f"  {attribution(lang, road=road)}",
        f"  {LICENCE_URL}",
        "",
        t["csv"][csv_format],
        t["gis"].format(crs=crs),
    ]
    if any(f.endswith(".ics") for f in listed):
        lines.append(t["calendars"])
    if any(f.endswith((".png", ".pdf")) for f in listed):
        lines.append(t["renderings"])
    lines += ["", t["files"], *(f"  {f}" for f in [*listed, "summary.json", "run.json"])]
    (folder / README).write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    return README
