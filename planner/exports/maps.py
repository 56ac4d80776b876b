"""Standalone folium maps: access-time choropleth, gap zones outlined, services as markers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import folium
import geopandas as gpd
import numpy as np
from branca.element import Figure, MacroElement, Template

from planner.exports._safe import html_columns, html_text
from planner.i18n import attribution, label

# Upper bounds (minutes) of the access classes and their colours, green to red.
CLASSES: tuple[tuple[float, str], ...] = (
    (10, "#1a9850"),
    (20, "#91cf60"),
    (30, "#fee08b"),
    (45, "#fc8d59"),
    (np.inf, "#d73027"),
)
UNREACHABLE_COLOUR = "#7f7f7f"
ASSETS = Path(__file__).resolve().parents[1] / "assets"
_SWATCH = "display:inline-block;width:14px;height:14px;margin-right:6px;vertical-align:middle;"
_CDN_TAG = re.compile(r'<script src="https?://[^"]+"></script>|<link rel="stylesheet" href="https?://[^"]+"/>')


def class_colour(minutes: float) -> str:
    """Fill colour of an access time (grey when unreachable)."""
    if not np.isfinite(minutes):
        return UNREACHABLE_COLOUR
    return next(colour for upper, colour in CLASSES if minutes <= upper)


def legend(
    title: str, rows: Sequence[tuple[str, str]], *, side: Literal["left", "right"] = "right", element_id: str = ""
) -> MacroElement:
    """A map legend: a white box in a bottom corner (``side``: right or left) with a bold ``title``
    and one line per ``(swatch style, text)`` row, the style a CSS fill or border of the square swatch.
    ``title`` and the texts are plain text, escaped here (:func:`~planner.exports._safe.html_text`).

    The one legend builder of Maillage's maps (access times, occupancy of premises).
    """
    lines = [f'<div><span style="{_SWATCH}{style}"></span>{html_text(text)}</div>' for style, text in rows]
    ident = f' id="{element_id}"' if element_id else ""
    bottom = 28 if side == "right" else 60  # on the left, above the scale bar
    box = MacroElement()
    box._template = Template(
        "{% macro html(this, kwargs) %}"
        f'<div{ident} style="position:fixed;bottom:{bottom}px;{side}:10px;z-index:9999;background:white;'
        'padding:8px 12px;border-radius:4px;box-shadow:0 0 6px rgba(0,0,0,.3);font:13px sans-serif">'
        f"<b>{html_text(title)}</b>" + "".join(lines) + "</div>{% endmacro %}"
    )
    return box


def access_legend(lang: str, target: float) -> MacroElement:
    """The legend of the access-time maps: the time classes, unreachable, and the gap outline."""
    minutes, rows, lower = label("minutes", lang), [], 0.0
    for upper, colour in CLASSES:
        text = f"{lower:g}–{upper:g} {minutes}" if np.isfinite(upper) else f"> {lower:g} {minutes}"
        rows.append((f"background:{colour}", text))
        lower = upper
    rows.append((f"background:{UNREACHABLE_COLOUR}", label("unreachable", lang)))
    rows.append(("border:3px solid #b2182b;box-sizing:border-box", label("gap", lang, target=target)))
    return legend(label("access_time", lang), rows, element_id="maillage-legend")


def credit(fmap: folium.Map, text: str) -> folium.Map:
    """Add ``text`` (plain, escaped here) to the map's attribution line, beside the background's credit."""
    box = MacroElement()
    box._template = Template(
        "{% macro script(this, kwargs) %}"
        f'{{{{ this._parent.get_name() }}}}.attributionControl.addAttribution("{html_text(text)}");'
        "{% endmacro %}"
    )
    fmap.add_child(box)
    return fmap


def point(
    layer: folium.FeatureGroup,
    lat: float,
    lon: float,
    colour: str,
    tooltip: str,
    *,
    popup: str | None = None,
    radius: int = 7,
) -> None:
    """A filled dot with a white ring: the one marker style of Maillage's maps (no icon fonts needed).

    ``tooltip`` is plain text (escaped here); ``popup`` is markup whose user text went through
    :func:`~planner.exports._safe.html_text`.
    """
    folium.CircleMarker(
        [lat, lon],
        radius=radius,
        color="white",
        weight=2,
        fill_color=colour,
        fill_opacity=1,
        tooltip=html_text(tooltip),
        popup=folium.Popup(popup, max_width=320) if popup else None,
    ).add_to(layer)


def coverage_map(
    access: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    target_min: float,
    travel: dict[str, object],
    lang: str = "fr",
    caption: str = "",
) -> folium.Map:
    """A folium map of access time per zone with gaps outlined and services as markers.

    ``caption`` is a line added under the travel model's (e.g. the shares with their range).
    """
    shapes = access[access.geometry.notna()].copy()
    shapes["geometry"] = shapes.geometry.simplify(0.0005, preserve_topology=True)
    west, south, east, north = shapes.total_bounds
    fmap = folium.Map(tiles="OpenStreetMap", control_scale=True)
    fmap.fit_bounds([[south, west], [north, east]], padding_top_left=(10, 40), padding_bottom_right=(260, 10))
    shapes["time_label"] = [
        f"{t:.0f} {label('minutes', lang)}" if np.isfinite(t) else label("unreachable", lang)
        for t in shapes["time_min"]
    ]
    columns = ["name", "population", "time_label", "service_name", "gap", "time_min", "geometry"]
    folium.GeoJson(  # tooltips show properties as HTML: the text ones are escaped
        html_columns(shapes[columns], ["name", "service_name"]).assign(time_min=shapes["time_min"].replace(np.inf, -1)),
        name=label("zones", lang),
        style_function=lambda f: {
            "fillColor": class_colour(f["properties"]["time_min"] if f["properties"]["time_min"] >= 0 else np.inf),
            "fillOpacity": 0.7,
            "color": "#b2182b" if f["properties"]["gap"] else "#555555",
            "weight": 3 if f["properties"]["gap"] else 0.5,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "population", "time_label", "service_name"],
            aliases=[
                "",
                label("population", lang),
                label("access_time", lang),
                label("nearest_service", lang),
            ],
        ),
    ).add_to(fmap)
    markers = folium.FeatureGroup(name=label("services", lang))
    markers.add_to(fmap)
    for _, site in services.iterrows():
        popup = f"<b>{html_text(site['name'])}</b>"
        if site.get("address"):
            popup += f"<br>{label('address', lang)} : {html_text(site['address'])}"
        if site.get("opening_hours"):
            popup += f"<br>{label('hours', lang)} : {html_text(site['opening_hours'])}"
        point(markers, site.geometry.y, site.geometry.x, "#2166ac", str(site["name"]), popup=popup)
    model = label("travel_road", lang) if travel.get("model") == "road" else label("travel_estimate", lang, **travel)
    text = html_text(model) + (f"<br>{html_text(caption)}" if caption else "")
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.html.add_child(
        folium.Element(
            f'<div style="position:fixed;top:10px;left:60px;z-index:9999;background:white;padding:4px 8px;'
            f'font:12px sans-serif;border-radius:4px">{text}</div>'
        )
    )
    fmap.add_child(access_legend(lang, target_min))
    return credit(fmap, attribution(lang, road=travel.get("model") == "road"))


def standalone_html(fmap: folium.Map) -> str:
    """The map as one HTML file that displays offline: Leaflet and jQuery (used by folium's popups)
    inlined, the other CDN scripts and styles removed.

    Background tiles still come from OpenStreetMap when the browser is online.
    """
    folium.LayerControl().add_to(fmap)  # last, so that it lists every layer added before
    page = _CDN_TAG.sub("", fmap.get_root().render())
    inline = (
        f"<style>{(ASSETS / 'leaflet' / 'leaflet.css').read_text(encoding='utf-8')}</style>\n"
        f"<script>{(ASSETS / 'leaflet' / 'leaflet.js').read_text(encoding='utf-8')}</script>\n"
        f"<script>{(ASSETS / 'jquery' / 'jquery.min.js').read_text(encoding='utf-8')}</script>\n"
    )
    return page.replace("<head>", "<head>\n" + inline, 1)
