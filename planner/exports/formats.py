"""The extra files a scenario's ``formats`` asks for, written beside a run's own files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from planner.exports.geo import write_geoparquet
from planner.exports.render import write_renderings


def write_formats(folder: Path, files: list[str], formats: Sequence[str]) -> list[str]:
    """The files ``formats`` asks for beside ``files`` (relative to ``folder``): GeoParquet beside each
    GeoPackage (``geoparquet``), PNG and PDF beside each map and PDF beside each sheet (``png``, ``pdf``);
    their names, relative to ``folder``."""
    extra = []
    if "geoparquet" in formats:
        for name in (f for f in files if f.endswith(".gpkg")):
            extra += [str(Path(name).with_name(path.name)) for path in write_geoparquet(folder / name)]
    return extra + write_renderings(folder, files, formats)
