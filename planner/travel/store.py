"""Road networks at scale: one graph per département, with a border buffer, kept on disk as Parquet.

A national or regional extract is parsed once (minutes to hours for OSM XML); each département's
part, grown by a buffer so that people near a border can drive through the neighbouring
département, is written as a folder of two Parquet tables (nodes, edges) and a ``meta.json``.
Workers of a fan-out read only their département's folder, in a fraction of a second.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from planner._errors import InputError
from planner.travel.network import RoadNetwork, load_network

STORE_VERSION = 1
META = "meta.json"


def is_stored_network(path: Path) -> bool:
    """True when ``path`` is a folder written by ``save_network``."""
    return path.is_dir() and (path / META).is_file()


def save_network(network: RoadNetwork, folder: Path) -> None:
    """Write ``network`` as ``nodes.parquet``, ``edges.parquet`` and ``meta.json``, atomically."""
    graph = network.graph.tocoo()
    length = network.length_m.tocsr()
    shapes = [network.shapes.get((int(u), int(v))) for u, v in zip(graph.row, graph.col, strict=True)]
    edges = pd.DataFrame(
        {
            "u": graph.row.astype(np.int32),
            "v": graph.col.astype(np.int32),
            "time_min": graph.data,
            "length_m": np.asarray(length[graph.row, graph.col]).ravel(),
            "shape_wkb": [shapely.to_wkb(shapely.LineString(s)) if s else None for s in shapes],
        }
    )
    nodes = pd.DataFrame({"node_id": network.node_ids, "lon": network.lon, "lat": network.lat})
    meta = {
        "version": STORE_VERSION,
        "crs": network.crs,
        "source": network.source,
        "nodes": len(nodes),
        "edges": len(edges),
        "notes": network.notes,
    }
    tmp = folder.with_name(f".{folder.name}.part-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        nodes.to_parquet(tmp / "nodes.parquet", index=False)
        edges.to_parquet(tmp / "edges.parquet", index=False)
        (tmp / META).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_network(folder: Path, *, access_speed_kmh: float = 30.0) -> RoadNetwork:
    """A RoadNetwork from a folder written by ``save_network`` (its files plain files, never links)."""
    links = sorted(name for name in (META, "nodes.parquet", "edges.parquet") if (folder / name).is_symlink())
    if links:
        raise InputError.one(
            str(folder),
            "",
            f"holds {', '.join(links)} as a symbolic link: a stored road network is read from plain files only",
            hint="store the network again (maillage run ... --departements) or copy the real files",
        )
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
        nodes = pd.read_parquet(folder / "nodes.parquet")
        edges = pd.read_parquet(folder / "edges.parquet")
    except (OSError, ValueError) as exc:
        raise InputError.one(str(folder), "", f"is not a readable stored road network ({exc})") from None
    if meta.get("version") != STORE_VERSION:
        raise InputError.one(str(folder), META, f"has version {meta.get('version')}, expected {STORE_VERSION}")
    n = len(nodes)
    u, v = edges["u"].to_numpy(), edges["v"].to_numpy()
    graph = csr_matrix((edges["time_min"].to_numpy(), (u, v)), shape=(n, n))
    length = csr_matrix((edges["length_m"].to_numpy(), (u, v)), shape=(n, n))
    with_shape = edges["shape_wkb"].notna().to_numpy()
    lines = shapely.from_wkb(edges["shape_wkb"].to_numpy()[with_shape])
    shapes = {
        (int(a), int(b)): [tuple(xy) for xy in shapely.get_coordinates(line).tolist()]
        for a, b, line in zip(u[with_shape], v[with_shape], lines, strict=True)
    }
    return RoadNetwork(
        graph,
        length,
        nodes["node_id"].to_numpy(),
        nodes["lon"].to_numpy(),
        nodes["lat"].to_numpy(),
        meta["crs"],
        str(folder),
        access_speed_kmh,
        [*meta.get("notes", []), f"read from the stored network {folder.name}"],
        shapes,
    )


def clip_network(network: RoadNetwork, area: BaseGeometry, buffer_m: float, *, label: str) -> RoadNetwork:
    """The part of ``network`` within ``buffer_m`` metres of ``area`` (EPSG:4326), strongly connected.

    Raises ``InputError`` when the network does not reach into the buffered area.
    """
    to_metric = Transformer.from_crs("EPSG:4326", network.crs, always_xy=True)
    zone = shapely.transform(area, lambda xy: np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1])))
    zone = shapely.buffer(zone, buffer_m)
    x, y = to_metric.transform(network.lon, network.lat)
    keep = np.nonzero(shapely.contains_xy(zone, x, y))[0]
    if len(keep) < 2:
        message = f"has no road within {buffer_m / 1000:g} km of {label}"
        raise InputError.one(network.source, "", message, hint="give an extract covering it")
    sub = network.graph[keep][:, keep]
    _, part = connected_components(sub, directed=True, connection="strong")
    largest = np.argmax(np.bincount(part))
    keep = keep[part == largest]
    index = np.full(network.graph.shape[0], -1)
    index[keep] = np.arange(len(keep))
    shapes = {
        (int(index[a]), int(index[b])): line
        for (a, b), line in network.shapes.items()
        if index[a] >= 0 and index[b] >= 0
    }
    notes = [
        *network.notes,
        f"clipped to {label} and {buffer_m / 1000:g} km around it: {len(keep):,} of {network.graph.shape[0]:,} nodes",
    ]
    return RoadNetwork(
        network.graph[keep][:, keep].tocsr(),
        network.length_m[keep][:, keep].tocsr(),
        network.node_ids[keep],
        network.lon[keep],
        network.lat[keep],
        network.crs,
        network.source,
        network.access_speed_kmh,
        notes,
        shapes,
    )


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def departement_networks(
    source: Path,
    codes: Sequence[str],
    *,
    buffer_km: float,
    cache_dir: Path,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Path | InputError]:
    """Each département's road network, clipped from ``source`` with a ``buffer_km`` border, stored once.

    Folders already in ``cache_dir`` (same source content, département and buffer) are reused and
    the source is parsed only when one is missing. A département the source does not reach gets
    its ``InputError`` instead of a folder.
    """
    from planner.data.france import _communes

    key = _digest(source)
    folders = {code: cache_dir / f"{code}-{buffer_km:g}km-{key}" for code in codes}
    found: dict[str, Path | InputError] = {code: f for code, f in folders.items() if is_stored_network(f)}
    missing = [code for code in codes if code not in found]
    if not missing:
        return found
    progress(f"reading the road network {source.name} once for {len(missing)} département(s)")
    network = load_network(source)
    communes = _communes()
    for code in missing:
        area = communes.loc[communes["departement"] == code].geometry.union_all()
        try:
            part = clip_network(network, area, buffer_km * 1000, label=f"département {code}")
        except InputError as exc:
            found[code] = exc
            continue
        save_network(part, folders[code])
        progress(f"département {code}: {part.graph.shape[0]:,} nodes stored")
        found[code] = folders[code]
    return {code: found[code] for code in codes}
