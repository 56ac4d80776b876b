"""Run folders: everything a run writes lands in a temporary folder renamed when complete.

A run that fails or is killed leaves the previous complete output untouched and no partial one.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import platform
import shutil
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime
from importlib import metadata
from pathlib import Path

import numpy as np


@contextlib.contextmanager
def run_folder(out: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``out``; on success it replaces ``out`` in one rename."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(out)
    tmp = out.with_name(f".{out.name}.part-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists() and _exchange(tmp, out):  # one atomic step: ``out`` is never missing
        shutil.rmtree(tmp, ignore_errors=True)  # ``tmp`` now holds the previous output
        return
    old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)  # a kill before this line leaves ``old``: restored by the next run
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic rename (Linux ``renameat2``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    return bool(renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0)


def _remove_abandoned(out: Path) -> None:
    """Delete partial folders of ``out`` left by runs that were killed (their process is gone).

    A previous output set aside by a run killed mid-replacement (``.old-*``) is put back first.
    """
    olds = sorted(out.parent.glob(f".{out.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if olds and not out.exists():
        os.replace(olds.pop(), out)
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)
    for part in out.parent.glob(f".{out.name}.part-*"):
        pid = part.name.rsplit(".part-", 1)[1].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(part, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def default_out(name: str) -> Path:
    """``outputs/<name>-<YYYYmmdd-HHMMSS>`` under the current folder (the name cut to 60 characters)."""
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()[:60]).strip("-") or "run"
    return Path("outputs") / f"{slug}-{datetime.now():%Y%m%d-%H%M%S}"


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: Path, data: dict[str, object]) -> None:
    """Write JSON with NaN/inf as null and paths as text."""
    path.write_text(json.dumps(_jsonable(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def file_record(path: Path) -> dict[str, object]:
    """Path, size and SHA-256 of an input file (of its files in name order for a folder), for ``run.json``."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.read_bytes())
    return {"path": str(path), "bytes": sum(f.stat().st_size for f in files), "sha256": digest.hexdigest()}


def versions() -> dict[str, str]:
    """Versions of Python and the libraries that shape the results."""
    names = ["maillage", "geopandas", "shapely", "pyproj", "numpy", "scipy", "osmnx", "ortools", "pandas"]
    found = {"python": platform.python_version()}
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found
