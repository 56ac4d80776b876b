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
from shapely.geometry import LineString

from planner.exports._safe import html_columns, html_text
from planner.i18n import attribution, label, number

# Upper bounds (minutes) of the access classes and their colours, green to red.
CLASSES: tuple[tuple[float, str], ...] = (
    (10, "#1a9850"),
    (20, "#91cf60"),
    (30, "#fee08b"),
    (45, "#fc8d59"),
    (np.inf, "#d73027"),
)
UNREACHABLE_COLOUR = "#7f7f7f"
SERVICE_COLOUR = "#2166ac"  # the packaged services (canton seats)
OWN_SITE_COLOUR = "#762a83"  # the sites of the user's own files, drawn apart
LABEL_PX = 90  # commune names show from the zoom at which a typical commune is this wide on screen
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


def access_legend(lang: str, target: float, *, services: bool = False, own_sites: bool = False) -> MacroElement:
    """The legend of the access-time maps: the time classes, unreachable, the gap outline; the service
    markers when ``services`` (and the user's own sites, drawn apart, when ``own_sites``)."""
    minutes, rows, lower = label("minutes", lang), [], 0.0
    for upper, colour in CLASSES:
        text = f"{lower:g}–{upper:g} {minutes}" if np.isfinite(upper) else f"> {lower:g} {minutes}"
        rows.append((f"background:{colour}", text))
        lower = upper
    rows.append((f"background:{UNREACHABLE_COLOUR}", label("unreachable", lang)))
    rows.append(("border:3px solid #b2182b;box-sizing:border-box", label("gap", lang, target=target)))
    dot = "border-radius:50%;border:2px solid white;box-sizing:border-box;background:"
    if services:
        rows.append((dot + SERVICE_COLOUR, label("services_packaged", lang)))
    if own_sites:
        rows.append((dot + OWN_SITE_COLOUR, label("services_own", lang)))
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


def label_zoom(zones: gpd.GeoDataFrame) -> int:
    """The first zoom at which the median zone is ``LABEL_PX`` pixels wide (Web Mercator), so that
    names show when they have room: about 11 for rural communes, 13 for those of the Paris suburbs.

    >>> from shapely.geometry import box
    >>> label_zoom(gpd.GeoDataFrame(geometry=[box(3.0, 44.5, 3.08, 44.56)], crs="EPSG:4326"))
    11
    """
    shown = zones[zones.geometry.notna() & ~zones.geometry.is_empty]
    if not len(shown):
        return 12
    width_m = float(np.sqrt(np.median(shown.to_crs(shown.estimate_utm_crs()).area)))
    latitude = float(np.radians(shown.to_crs(4326).geometry.representative_point().y.median()))
    metres_per_px_zoom0 = 156_543.03 * np.cos(latitude)
    return int(np.clip(np.ceil(np.log2(LABEL_PX * metres_per_px_zoom0 / max(width_m, 1.0))), 5, 18))


def name_zooms(zones: gpd.GeoDataFrame) -> np.ndarray:
    """The zoom from which each zone's name shows: :func:`label_zoom` for all, one zoom earlier for the
    quarter most populous, two for the sixteenth... (a zoom out leaves room for a quarter of the names),
    so that the towns are named even on the whole territory's view.

    >>> from shapely.geometry import box
    >>> zones = gpd.GeoDataFrame({"population": [5000, 80, 120, 60]},
    ...     geometry=[box(3.0 + i / 10, 44.5, 3.08 + i / 10, 44.56) for i in range(4)], crs="EPSG:4326")
    >>> name_zooms(zones).tolist()
    [10, 11, 11, 11]
    """
    ranks = zones["population"].fillna(0).rank(ascending=False, method="first").to_numpy(dtype=float)
    earlier = np.floor(np.log(len(zones) / ranks) / np.log(4)).astype(int)
    return np.clip(label_zoom(zones) - earlier, 5, 18)


def name_labels(fmap: folium.Map, zones: gpd.GeoDataFrame, layer_name: str) -> None:
    """The zones' names written on the map, each from its :func:`name_zooms` zoom on, so that the map
    still reads when the background tiles cannot load (offline, a PNG export); they never catch the mouse."""
    zooms = name_zooms(zones)
    names = folium.FeatureGroup(name=layer_name)
    for shape, name, zoom in zip(zones.geometry, zones["name"], zooms, strict=True):
        if shape is None or shape.is_empty:
            continue
        at = shape.representative_point()
        folium.Marker(
            [at.y, at.x],
            icon=folium.DivIcon(
                html=f"<span>{html_text(name)}</span>", class_name=f"maillage-name maillage-z{zoom}", icon_size=(0, 0)
            ),
            interactive=False,
        ).add_to(names)
    names.add_to(fmap)
    hidden = ",".join(f".maillage-zoom-{z} .maillage-z{shown}" for shown in sorted(set(zooms)) for z in range(shown))
    box = MacroElement()
    box._template = Template(
        "{% macro header(this, kwargs) %}<style>"
        ".maillage-name span{position:absolute;transform:translate(-50%,-50%);white-space:nowrap;"
        "font:600 11px sans-serif;color:#222;pointer-events:none;"
        "text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff}"
        f"{hidden}{{display:none}}</style>{{% endmacro %}}"
        "{% macro script(this, kwargs) %}(function(map){"
        "function shown(){var box=map.getContainer();"
        "box.className=box.className.replace(/ ?maillage-zoom-\\d+/g,'')+' maillage-zoom-'+Math.floor(map.getZoom());}"
        "map.on('zoomend', shown); map.whenReady(shown);"
        "})({{ this._parent.get_name() }});{% endmacro %}"
    )
    fmap.add_child(box)


def route_line(layer: folium.FeatureGroup, line: LineString, colour: str, tooltip: str) -> None:
    """A vehicle's route on ``layer``: the line (lon/lat) in the vehicle's colour, with its tooltip escaped."""
    folium.PolyLine(
        [(y, x) for x, y in line.coords], color=colour, weight=4, opacity=0.8, tooltip=html_text(tooltip)
    ).add_to(layer)


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
    name_labels(fmap, shapes, label("commune_names", lang))
    own = services["source_file"].notna() if "source_file" in services else np.zeros(len(services), dtype=bool)
    for group, colour, sites in (
        ("services_packaged", SERVICE_COLOUR, services[~own]),
        ("services_own", OWN_SITE_COLOUR, services[own]),
    ):
        if len(sites):
            _service_markers(fmap, sites, label(group, lang), colour, lang)
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
    fmap.add_child(access_legend(lang, target_min, services=bool((~own).any()), own_sites=bool(own.any())))
    return credit(fmap, attribution(lang, road=travel.get("model") == "road"))


# Minutes gained (negative) or lost per zone between two states: (upper bound, colour, label key).
CHANGE_CLASSES: tuple[tuple[float, str, str], ...] = (
    (-10, "#1a9850", "change_gain_big"),
    (-1, "#91cf60", "change_gain"),
    (1, "#f7f7f7", "change_same"),
    (10, "#fc8d59", "change_loss"),
    (np.inf, "#d73027", "change_loss_big"),
)


def change_colour(minutes: float) -> str:
    """Fill colour of a change of access time (minutes; gains are negative, a zone newly reached is -inf).

    >>> [change_colour(m) for m in (-np.inf, -12, -3, 0.4, 5, np.inf)]
    ['#1a9850', '#1a9850', '#91cf60', '#f7f7f7', '#fc8d59', '#d73027']
    """
    if minutes <= CHANGE_CLASSES[0][0]:
        return CHANGE_CLASSES[0][1]
    return next(colour for upper, colour, _ in CHANGE_CLASSES[1:] if minutes < upper or not np.isfinite(upper))


def change_map(zones: gpd.GeoDataFrame, lang: str = "fr") -> folium.Map:
    """Zones coloured by the minutes gained or lost between two states (``time_before_min``,
    ``time_after_min``, ``change_min``), named, with the times in their tooltips and a legend."""
    shapes = zones[zones.geometry.notna()].copy()
    shapes["geometry"] = shapes.geometry.simplify(0.0005, preserve_topology=True)
    west, south, east, north = shapes.total_bounds
    fmap = folium.Map(tiles="OpenStreetMap", control_scale=True)
    fmap.fit_bounds([[south, west], [north, east]], padding_top_left=(10, 10), padding_bottom_right=(260, 10))

    def minutes(values: object) -> list[str]:
        unit, never = label("minutes", lang), label("unreachable", lang)
        return [f"{number(v, lang, 1)} {unit}" if np.isfinite(v) else never for v in values]  # type: ignore[attr-defined]

    change = shapes["change_min"].to_numpy(float)
    shown = html_columns(shapes[["name", "population", "geometry"]], ["name"]).assign(
        before=minutes(shapes["time_before_min"]),
        after=minutes(shapes["time_after_min"]),
        change=[
            ("+" if c > 0 else "−" if c < 0 else "") + (f"{number(abs(c), lang, 1)} {label('minutes', lang)}")
            if np.isfinite(c)
            else label("change_gain_big" if c < 0 else "change_loss_big", lang)
            for c in change
        ],
        colour=[change_colour(c) for c in change],
    )
    folium.GeoJson(
        shown,
        name=label("change_map", lang),
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "fillOpacity": 0.75,
            "color": "#555555",
            "weight": 0.5,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "population", "before", "after", "change"],
            aliases=["", *(label(k, lang) for k in ("population", "time_before", "time_after", "time_change"))],
        ),
    ).add_to(fmap)
    name_labels(fmap, shapes, label("commune_names", lang))
    rows = [(f"background:{colour}", label(key, lang)) for _, colour, key in CHANGE_CLASSES]
    fmap.add_child(legend(label("change_map", lang), rows, element_id="maillage-legend"))
    return credit(fmap, attribution(lang))


def _service_markers(fmap: folium.Map, sites: gpd.GeoDataFrame, name: str, colour: str, lang: str) -> None:
    """One layer of service dots, each with its name, address, hours and source file in a popup."""
    markers = folium.FeatureGroup(name=name)
    markers.add_to(fmap)
    sep = label("colon", lang)
    for _, site in sites.iterrows():
        popup = f"<b>{html_text(site['name'])}</b>"
        for key, column in (("address", "address"), ("hours", "opening_hours"), ("source_file", "source_file")):
            if isinstance(site.get(column), str) and site[column]:
                popup += f"<br>{label(key, lang)}{sep}{html_text(site[column])}"
        point(markers, site.geometry.y, site.geometry.x, colour, str(site["name"]), popup=popup)


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
