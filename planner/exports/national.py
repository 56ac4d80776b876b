"""National coverage outputs: CSV tables per commune, département and région, and a light map.

The map keeps a browser responsive with 34,870 communes: only the communes beyond the smallest
threshold are drawn, simplified and rounded to about 10 m, one layer per threshold band
(e.g. 20–30 min, beyond 30 min); départements are dots coloured by their P90 time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Figure

from planner.exports._safe import csv_format_for, html_columns, html_text, write_csv
from planner.exports.coverage import headline, population_caveat, range_caption, summary_table
from planner.exports.geo import official_crs, write_access_layer
from planner.exports.maps import access_legend, class_colour, credit, point, standalone_html
from planner.exports.readme import write_workbook_of
from planner.i18n import attribution, label, number, percent
from planner.jobs.measures import gap_zones
from planner.jobs.national import NationalCoverage

ZONE_COLUMNS = ["zone_id", "name", "departement", "region", "population", "time_min", "service_id", "service_name"]
NATIONAL_GPKG = "communes.gpkg"
LAYER_BY_CRS = {  # layer names a French GIS user recognises, by official projection
    "EPSG:2154": "metropole_lambert93",
    "EPSG:5490": "antilles_utm20n",
    "EPSG:2972": "guyane_utm22n",
    "EPSG:2975": "reunion_utm40s",
    "EPSG:4471": "mayotte_utm38s",
}
NATIONAL_CRS_TEXT = {
    "fr": "Lambert-93 (EPSG:2154) en métropole et UTM outre-mer, une couche par projection",
    "en": "Lambert-93 (EPSG:2154) in metropolitan France and UTM overseas, a layer per projection",
}
SIMPLIFY_DEG = 0.005  # about 400-550 m: a commune keeps its shape at national scale
PRECISION_DEG = 0.0001  # about 10 m


def _bands(thresholds: Sequence[float]) -> list[tuple[float, float]]:
    """Minute bands from each threshold to the next, the last one open: [(20, 30), (30, inf)]."""
    ordered = sorted(thresholds)
    return list(zip(ordered, [*ordered[1:], np.inf], strict=True))


def _band_name(lower: float, upper: float, lang: str) -> str:
    minutes = label("minutes", lang)
    if np.isfinite(upper):
        return f"{lower:g}–{upper:g} {minutes}"
    return f"{'au-delà de' if lang == 'fr' else 'beyond'} {lower:g} {minutes}"


def light_shapes(zones: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Zone outlines simplified to ``SIMPLIFY_DEG`` and rounded to ``PRECISION_DEG`` (EPSG:4326)."""
    simple = shapely.simplify(zones.geometry.to_numpy(), SIMPLIFY_DEG, preserve_topology=True)
    return gpd.GeoSeries(shapely.set_precision(simple, PRECISION_DEG), index=zones.index, crs="EPSG:4326")


def national_map(national: NationalCoverage, lang: str = "fr") -> folium.Map:
    """Communes beyond each threshold (one layer per band), départements by P90, services as dots."""
    result = national.coverage
    access, summary = result.access, result.summary
    target = float(summary["target_min"])
    fmap = folium.Map(tiles="OpenStreetMap", control_scale=True, prefer_canvas=True)
    credit(fmap, attribution(lang))
    fmap.fit_bounds([[41.3, -5.2], [51.1, 9.6]])  # metropolitan France; overseas départements pan into view
    bands = _bands([float(t) for t in summary["population_within"]])
    drawn = access[access.geometry.notna() & (access["time_min"] > bands[0][0])].copy()
    drawn["geometry"] = light_shapes(drawn)
    drawn["time_label"] = [
        f"{number(t, lang, 1)} {label('minutes', lang)}" if np.isfinite(t) else label("unreachable", lang)
        for t in drawn["time_min"]
    ]
    drawn["time_min"] = drawn["time_min"].replace(np.inf, -1).round(1)
    for lower, upper in bands:
        band = drawn[(drawn["time_min"] > lower) & ((drawn["time_min"] <= upper) | (drawn["time_min"] < 0))]
        layer = folium.FeatureGroup(name=_band_name(lower, upper, lang), show=True)
        folium.GeoJson(  # tooltips show properties as HTML: the text ones are escaped
            html_columns(
                band[["name", "departement", "population", "time_label", "service_name", "time_min", "geometry"]],
                ["name", "service_name"],
            ),
            style_function=lambda f: {
                "fillColor": class_colour(f["properties"]["time_min"] if f["properties"]["time_min"] >= 0 else np.inf),
                "fillOpacity": 0.75,
                "color": "#b2182b"
                if f["properties"]["time_min"] > target or f["properties"]["time_min"] < 0
                else "#555",
                "weight": 1,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "departement", "population", "time_label", "service_name"],
                aliases=["", "", label("population", lang), label("access_time", lang), label("nearest_service", lang)],
            ),
        ).add_to(layer)
        layer.add_to(fmap)
    _departement_dots(national, lang).add_to(fmap)
    services = folium.FeatureGroup(name=label("services", lang), show=False)
    folium.GeoJson(
        html_columns(result.services[["name", "geometry"]], ["name"]),
        marker=folium.CircleMarker(radius=3, color="#2166ac", fill=True, fill_opacity=1, weight=0),
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
    ).add_to(services)
    services.add_to(fmap)
    _title(fmap, national, lang)
    fmap.add_child(access_legend(lang, target))
    return fmap


def _departement_dots(national: NationalCoverage, lang: str) -> folium.FeatureGroup:
    """One dot per département at its population centre, coloured by its P90 time, figures in the popup."""
    access = national.coverage.access
    weights = access["population"].clip(lower=1)
    centre = (
        access.assign(wx=access["demand_lon"] * weights, wy=access["demand_lat"] * weights, w=weights)
        .groupby("departement")[["wx", "wy", "w"]]
        .sum()
    )
    layer = folium.FeatureGroup(name="Départements" if lang == "fr" else "Départements (P90)")
    for _, row in national.departements.iterrows():
        c = centre.loc[row["code"]]
        shares = ", ".join(
            f"{column.split('_')[2]} min : {percent(row[column], lang)}"
            for column in national.departements
            if column.startswith("share_within_")
        )
        popup = (
            f"<b>{html_text(str(row['name']))} ({row['code']})</b><br>{label('population', lang)} : "
            f"{number(row['population_total'], lang)}<br>{shares}<br>P90 : {number(row['p90_time_min'], lang, 1)} min"
            + (f"<br>{html_text(str(row['largest_gaps']))}" if row["largest_gaps"] else "")
        )
        point(
            layer,
            c["wy"] / c["w"],
            c["wx"] / c["w"],
            class_colour(row["p90_time_min"]),
            f"{row['name']} : P90 {number(row['p90_time_min'], lang, 1)} min",
            popup=popup,
            radius=9,
        )
    return layer


def _title(fmap: folium.Map, national: NationalCoverage, lang: str) -> None:
    summary = national.coverage.summary
    within = range_caption(summary, lang) or " · ".join(
        f"{t} min : {percent(share, lang)}" for t, share in summary["share_within"].items()
    )
    headline = label(
        "headline", lang, name=summary["territory"], population=number(summary["population_total"], lang)
    ) + population_caveat(summary, lang)
    caption = label("travel_estimate", lang, **national.coverage.travel)
    text = f"<b>{html_text(headline)}</b><br>{html_text(within)}<br>{html_text(caption)}"
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.html.add_child(
        folium.Element(
            '<div style="position:fixed;top:10px;left:60px;z-index:9999;background:white;padding:4px 8px;'
            f'font:12px sans-serif;border-radius:4px">{text}</div>'
        )
    )


def write_national(
    national: NationalCoverage, folder: Path, lang: str = "fr", *, csv_format: str | None = None
) -> list[str]:
    """Write the national tables (CSV in ``csv_format``, default by language, and one workbook) and map
    into ``folder``; return the file names written."""
    access = national.coverage.access
    within = [c for c in access if c.startswith("within_")]
    columns = [*ZONE_COLUMNS, *within, "gap"]
    gaps = gap_zones(access, float(national.coverage.summary["target_min"]))  # on unrounded times
    tables = {
        "access_by_zone.csv": access[columns].round({"time_min": 1}),
        "gap_zones.csv": gaps[columns].round({"time_min": 1}),
        "access_by_departement.csv": national.departements,
        "access_by_region.csv": national.regions,
        "summary.csv": summary_table(national.coverage.summary, lang),
    }
    fmt = csv_format_for(lang, csv_format)
    for name, table in tables.items():
        write_csv(table, folder / name, fmt)
    workbook = write_workbook_of(tables, folder, lang)
    (folder / "map.html").write_text(standalone_html(national_map(national, lang)), encoding="utf-8")
    layers = write_national_layers(access[[*columns, "geometry"]], folder / NATIONAL_GPKG, lang)
    return [*tables, workbook, "map.html", *([NATIONAL_GPKG] if layers else [])]


def write_national_layers(access: gpd.GeoDataFrame, gpkg: Path, lang: str = "fr") -> list[str]:
    """Write the communes with their access times into ``gpkg``, one layer per official projection
    (Lambert-93 for metropolitan France and Corsica, the local UTM projection of each overseas
    département), each styled by access time; return the layer names."""
    by_crs: dict[str, list[str]] = {}
    for code, communes in access.groupby("departement"):
        by_crs.setdefault(official_crs(communes), []).append(str(code))
    names = []
    for crs, codes in sorted(by_crs.items()):
        layer = f"communes_{LAYER_BY_CRS.get(crs, crs.replace(':', '_').lower())}"
        communes = access[access["departement"].isin(codes)]
        write_access_layer(communes, gpkg, layer, crs=crs, minutes_label=label("minutes", lang))
        names.append(layer)
    return names


def national_report(national: NationalCoverage, lang: str = "fr", top: int = 5) -> list[str]:
    """The lines printed at the end of a national run: the headline, then the least covered départements."""
    summary = national.coverage.summary
    target = f"{float(summary['target_min']):g}"
    share = f"share_within_{target}_min"
    lines = headline(national.coverage, lang, top)
    lines.append(
        f"Départements les moins couverts (part à moins de {target} min) :"
        if lang == "fr"
        else f"Least covered départements (share within {target} min):"
    )
    if share in national.departements:
        worst = national.departements.nsmallest(top, share)
        lines += [
            f"  {row['name']} ({row['code']}) : {percent(row[share], lang)}, "
            f"P90 {number(row['p90_time_min'], lang, 1)} min"
            for _, row in worst.iterrows()
        ]
    return lines + [f"note: {note}" for note in summary["notes"]]
