"""Coverage exports: GeoPackage layers, CSV tables, the HTML map, summary.json and run.json."""

from __future__ import annotations

import math
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd

from planner.exports._safe import csv_format_for, write_csv
from planner.exports.geo import official_crs, outline_style, services_style, write_access_layer, write_layer
from planner.exports.maps import coverage_map, standalone_html
from planner.i18n import label, number, percent
from planner.jobs.coverage import CoverageReport, CoverageResult
from planner.jobs.measures import gap_zones

ZONE_EXPORT = [
    "zone_id",
    "name",
    "population",
    "time_min",
    "service_id",
    "service_name",
    "gap",
    "e2sfca_per_1000",
]


def summary_table(summary: CoverageReport, lang: str = "fr") -> pd.DataFrame:
    """The headline figures as two columns (indicator, value), labelled in ``lang``."""
    rows: list[tuple[str, object]] = [(label("population_total", lang), summary["population_total"])]
    for t, people in summary["population_within"].items():
        rows.append((label("population_within", lang, t=t), people))
        rows.append((label("share_within", lang, t=t), _rounded(summary["share_within"][t])))
        bounds = {"range_low": summary.get("share_within_low"), "range_high": summary.get("share_within_high")}
        for word, values in bounds.items():
            if values:
                text = f" ({label(word, lang)})"
                rows.append((label("share_within", lang, t=t) + text, _rounded(values[t])))
    rows += [
        (label(k, lang), summary[k])
        for k in (
            "mean_time_min",
            "median_time_min",
            "p90_time_min",
            "population_unreachable",
            "travel_model",
        )
    ]
    return pd.DataFrame(rows, columns=[label("indicator", lang), label("value", lang)])


INSEE_CODE = r"(?:\d{2}|2[AB])\d{3}"  # a commune's code: the zones are communes, not a grid or the user's areas


def _rounded(share: float | None) -> float | None:
    """A share for a table cell, to four decimals (empty when the territory has no population)."""
    return round(share, 4) if share is not None and math.isfinite(share) else None


def share_range(summary: CoverageReport, key: str, lang: str = "fr") -> str:
    """The low-high range of an estimated share, ``88,0–99,6 %`` (empty for routed times)."""
    low, high = summary.get("share_within_low"), summary.get("share_within_high")
    if not low or not high or key not in low:
        return ""
    if not all(isinstance(v, float | int) and math.isfinite(v) for v in (low[key], high[key])):
        return ""
    unit = "\u202f%" if lang == "fr" else "%"
    return f"{percent(low[key], lang).removesuffix(unit)}–{percent(high[key], lang)}"


def range_basis(summary: CoverageReport, lang: str = "fr") -> str:
    """What the range spans: ``40–60 km/h, détour 1,2–1,6``."""
    bounds = summary.get("estimate_range")
    if not bounds:
        return ""
    speed, detour = bounds["speed_kmh"], bounds["detour_factor"]
    return label(
        "range_span",
        lang,
        slow=number(speed[0], lang),
        fast=number(speed[1], lang),
        low=number(detour[0], lang, 1),
        high=number(detour[1], lang, 1),
    )


def range_caption(summary: CoverageReport, lang: str = "fr") -> str:
    """One line for a map: each share with its range and what the range spans (empty when routed)."""
    parts = [
        f"{t} min : {percent(summary['share_within'][t], lang)} ({share_range(summary, t, lang)})"
        for t in summary["share_within"]
        if share_range(summary, t, lang)
    ]
    if not parts:
        return ""
    return " · ".join(parts) + f" — {label('range_word', lang)} {range_basis(summary, lang)}"


def population_caveat(summary: CoverageReport, lang: str = "fr") -> str:
    """`` (17 communes sans chiffre de population, comptées 0)`` when the source lacks figures."""
    missing = int(summary.get("zones_without_population", 0) or 0)
    if not missing:
        return ""
    return f" ({label('population_caveat', lang, n=number(missing, lang))})"


def headline(result: CoverageResult, lang: str = "fr", top: int = 5) -> list[str]:
    """The lines printed at the end of a run: population, shares within each threshold (with the
    estimate's low-high range), largest gaps."""
    s = result.summary
    lines = [
        label("headline", lang, name=s["territory"], population=number(s["population_total"], lang))
        + population_caveat(s, lang)
    ]
    for t in s["population_within"]:
        spread = share_range(s, t, lang)
        share = percent(s["share_within"][t], lang)
        if spread:
            share += f", {label('range_word', lang)} {spread}"
        lines.append(
            "  "
            + label(
                "within",
                lang,
                t=t,
                people=number(s["population_within"][t], lang),
                share=share,
            )
        )
    if s.get("estimate_range"):
        lines.append("  " + label("range_line", lang, basis=range_basis(s, lang)))
    gaps = gap_zones(result.access, float(s["target_min"]))
    communes = bool(result.access["zone_id"].astype(str).str.fullmatch(INSEE_CODE).all())
    lines.append(label("largest_gaps" if communes else "largest_gap_zones", lang, target=s["target_min"], n=len(gaps)))
    people = label("inhabitants_short", lang)
    lines += [
        f"  {g['name']} ({number(g['population'], lang)} {people}, {number(g['time_min'], lang, 1)} min)"
        for _, g in gaps.head(top).iterrows()
    ]
    return lines


def coverage_tables(result: CoverageResult, lang: str = "fr") -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """The coverage tables, by file name: zones with their access, the gaps (with geometry) and the summary.

    The gap table is selected on the unrounded times, like the headline and ``summary.json``; only the
    written values are rounded.
    """
    columns = [*ZONE_EXPORT, *[c for c in result.access if c.startswith("within_")], "geometry"]
    rounding = {"time_min": 1, "e2sfca_per_1000": 4}
    zones = result.access[columns].round(rounding)
    gaps = gap_zones(result.access, float(result.summary["target_min"]))[columns].round(rounding)
    return {"access_by_zone.csv": zones, "gap_zones.csv": gaps, "summary.csv": summary_table(result.summary, lang)}


def result_map(result: CoverageResult, lang: str = "fr") -> folium.Map:
    """A new coverage map of ``result`` with its range caption (folium maps render once: one per output)."""
    return coverage_map(
        result.access,
        result.services,
        target_min=result.summary["target_min"],
        travel=result.travel,
        lang=lang,
        caption=range_caption(result.summary, lang),
    )


def write_coverage(
    result: CoverageResult, folder: Path, lang: str = "fr", *, csv_format: str | None = None
) -> list[str]:
    """Write every coverage output into ``folder``; return the file names written.

    ``coverage.gpkg`` holds ``zones_access``, ``gap_zones`` (written with its columns when there is no
    gap) and ``services``, in the territory's official projection (:func:`~planner.exports.geo.official_crs`),
    each with its QGIS style; the CSV files are in ``csv_format`` (default: by language).
    """
    tables = coverage_tables(result, lang)
    zones, gaps = tables["access_by_zone.csv"], tables["gap_zones.csv"]
    gpkg = folder / "coverage.gpkg"
    crs = official_crs(result.access)
    kind = write_access_layer(zones, gpkg, "zones_access", crs=crs, minutes_label=label("minutes", lang))
    write_layer(gaps, gpkg, "gap_zones", crs=crs, geometry_type=kind, style=outline_style(points=kind == "MultiPoint"))
    own = "source_file" in result.services and bool(result.services["source_file"].notna().any())
    style = services_style(lang, own_sites=own)
    write_layer(result.services, gpkg, "services", crs=crs, geometry_type="Point", style=style)
    fmt = csv_format_for(lang, csv_format)
    for name, table in tables.items():
        write_csv(pd.DataFrame(table).drop(columns="geometry", errors="ignore"), folder / name, fmt)
    (folder / "map.html").write_text(standalone_html(result_map(result, lang)), encoding="utf-8")
    return ["coverage.gpkg", *tables, "map.html"]
