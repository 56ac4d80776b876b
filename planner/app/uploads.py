"""Files the app reads: uploads saved once under their content hash, and every file parsed once per content.

An upload is saved under its own name (suffixes such as ``.osm.pbf`` kept) in a folder named by the
first 16 hex digits of its SHA-256, because the loaders (and ``run.json``) take paths. Parsing is
cached on the file's SHA-256: a widget change re-reads nothing, and a broken file's message is kept
too, so it is not parsed again either. Messages name an upload as it was uploaded, not by its path.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from planner._errors import InputError
from planner.data.layers import read_layer
from planner.i18n import label, message_text, where_text
from planner.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    import geopandas as gpd

UPLOAD_DIR = Path(tempfile.gettempdir()) / "maillage-uploads"
LAYER_TYPES = ["geojson", "json", "gpkg", "csv", "parquet", "geoparquet"]
NETWORK_TYPES = ["pbf", "bz2", "osm", "graphml"]
PARSED_KEPT = 32  # parsed files (layers, scenarios) kept in memory, the least recently used dropped first

T = TypeVar("T")
_FOLDERS: set[str] = set()  # the folders uploads were saved in by this process: shown by name only
_FOLDERS_LOCK = threading.Lock()  # sessions run in threads of one process


@dataclasses.dataclass(frozen=True)
class Upload:
    """An uploaded file as saved: where, and the SHA-256 of its content."""

    path: Path
    sha256: str

    @property
    def name(self) -> str:
        """The file's name (the uploaded name, made safe)."""
        return self.path.name


def save_upload(name: str, data: bytes) -> Upload:
    """Save uploaded bytes under their own name in a folder named by their hash (once per content and name)."""
    digest = hashlib.sha256(data).hexdigest()
    safe = re.sub(r"[^\w.\-]+", "_", Path(name).name).lstrip(".") or "upload"
    path = UPLOAD_DIR / digest[:16] / safe
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f".{safe}.{uuid.uuid4().hex[:8]}")  # another session may save the same file
        part.write_bytes(data)
        os.replace(part, path)
    with _FOLDERS_LOCK:
        _FOLDERS.add(f"{path.parent}{os.sep}")
    return Upload(path, digest)


def user_message(exc: BaseException) -> str:
    """The error's message as the user should read it: uploads named as they were, not by their saved path."""
    text = str(exc)
    with _FOLDERS_LOCK:
        folders = list(_FOLDERS)
    for folder in folders:
        text = text.replace(folder, "")
    return text


def error_text(exc: BaseException, lang: str) -> str:
    """The error's message in ``lang``: an :class:`InputError` keeps its file, row and field, its words translated.

    The lower layers write their problems in English; :func:`planner.i18n.message_text` knows the usual ones
    (the others stay as written).
    """
    if not isinstance(exc, InputError):
        return user_message(exc)
    source = label("settings_source", lang) if exc.source == "settings" else user_message(Exception(exc.source))

    sep = " : " if lang == "fr" else ": "

    def line(where: str, problem: str) -> str:
        text = message_text(problem, lang)
        return f"{where_text(where, lang)}{sep}{text}" if where else text

    if len(exc.problems) == 1:
        lines = [f"{source}, {line(exc.problems[0].where, exc.problems[0].problem)}"]
    else:
        lines = [f"{source}{sep}{label('input_problems', lang, n=len(exc.problems))}"]
        lines += [f"  - {line(p.where, p.problem)}" for p in exc.problems[:10]]
        if len(exc.problems) > 10:
            lines.append(f"  {label('input_more', lang, n=len(exc.problems) - 10)}")
    if exc.hint:
        lines.append(label("input_hint", lang, hint=message_text(exc.hint, lang)))
    return "\n".join(lines)


def attempt(work: Callable[[], T]) -> T | InputError:
    """``work()``, or the :class:`InputError` it raised: what a cache keeps, so a bad input is not re-read."""
    try:
        return work()
    except InputError as exc:
        return exc


def unwrap(found: T | InputError) -> T:
    """What :func:`attempt` returned, the error raised again (a fresh copy: the cached one stays clean)."""
    if isinstance(found, InputError):
        raise dataclasses.replace(found) from None
    return found


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's content ("" when it cannot be read: the loader then says why)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


@functools.lru_cache(maxsize=PARSED_KEPT)
def _layer(path: Path, sha256: str, kind: str) -> gpd.GeoDataFrame | InputError:
    return attempt(lambda: read_layer(path, kind))


@functools.lru_cache(maxsize=PARSED_KEPT)
def _scenario(path: Path, sha256: str) -> Scenario | InputError:
    return attempt(lambda: load_scenario(path))


def read_layer_once(path: Path, kind: str) -> gpd.GeoDataFrame:
    """:func:`planner.data.layers.read_layer`, parsed once per file content; a copy each time (callers add columns)."""
    return unwrap(_layer(path, sha256_of(path), kind)).copy()


def read_scenario(path: Path) -> Scenario:
    """:func:`planner.scenario.load_scenario`, parsed once per file content (scenarios are not modified)."""
    return unwrap(_scenario(path, sha256_of(path)))
