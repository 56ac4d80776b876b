"""Coverage exports: GeoPackage layers, CSV tables, the HTML map, summary.json and run.json."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from planner.exports._safe import write_csv
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
        rows.append((label("share_within", lang, t=t), round(summary["share_within"][t], 4)))
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


def headline(result: CoverageResult, lang: str = "fr", top: int = 5) -> list[str]:
    """The lines printed at the end of a run: population, shares within 20/30 min, largest gaps."""
    s = result.summary
    lines = [label("headline", lang, name=s["territory"], population=number(s["population_total"], lang))]
    for t in s["population_within"]:
        lines.append(
            "  "
            + label(
                "within",
                lang,
                t=t,
                people=number(s["population_within"][t], lang),
                share=percent(s["share_within"][t], lang),
            )
        )
    gaps = gap_zones(result.access, float(s["target_min"]))
    lines.append(label("largest_gaps", lang, target=s["target_min"]) + f" ({len(gaps)}) :")
    people = "hab." if lang == "fr" else "inh."
    lines += [
        f"  {g['name']} ({number(g['population'], lang)} {people}, {number(g['time_min'], lang, 1)} min)"
        for _, g in gaps.head(top).iterrows()
    ]
    return lines


def write_coverage(result: CoverageResult, folder: Path, lang: str = "fr") -> list[str]:
    """Write every coverage output into ``folder``; return the file names written."""
    zones = result.access[[*ZONE_EXPORT, *[c for c in result.access if c.startswith("within_")], "geometry"]].round(
        {"time_min": 1, "e2sfca_per_1000": 4}
    )
    gpkg = folder / "coverage.gpkg"
    gpd.GeoDataFrame(zones, crs="EPSG:4326").to_file(gpkg, layer="zones_access", driver="GPKG")
    gaps = gap_zones(zones, float(result.summary["target_min"]))
    if len(gaps):
        gpd.GeoDataFrame(gaps, crs="EPSG:4326").to_file(gpkg, layer="gap_zones", driver="GPKG")
    result.services.to_file(gpkg, layer="services", driver="GPKG")
    write_csv(zones.drop(columns="geometry"), folder / "access_by_zone.csv")
    write_csv(gaps.drop(columns="geometry"), folder / "gap_zones.csv")
    write_csv(summary_table(result.summary, lang), folder / "summary.csv")
    fmap = coverage_map(
        result.access, result.services, target_min=result.summary["target_min"], travel=result.travel, lang=lang
    )
    (folder / "map.html").write_text(standalone_html(fmap), encoding="utf-8")
    return ["coverage.gpkg", "access_by_zone.csv", "gap_zones.csv", "summary.csv", "map.html"]
