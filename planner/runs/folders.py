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
from collections.abc import Iterable, Iterator
from datetime import datetime
from importlib import metadata
from pathlib import Path

import numpy as np

from optimize._cancel import check as check_cancelled
from planner._errors import InputError
from planner.data import postgis
from planner.exports._safe import file_name

# What a per-département fan-out writes at the top of its folder, besides one run folder per département.
FANOUT_FILES = ("national_summary.csv", "national_access_by_zone.csv", "national_gap_zones.csv", "errors.csv")


def is_maillage_folder(path: Path) -> bool:
    """True when ``path`` is a folder Maillage wrote: a run folder (its ``run.json`` lists its outputs),
    or a per-département fan-out folder (run folders named by code, the national tables)."""
    try:
        record = json.loads((path / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = None
    if isinstance(record, dict) and isinstance(record.get("outputs"), list):
        return True
    try:
        children = list(path.iterdir())
    except OSError:
        return False
    runs = [c for c in children if not c.name.startswith(".") and c.is_dir() and not c.is_symlink()]
    for child in children:
        if child.is_symlink():
            return False
        if child.name.startswith(".") and (".part" in child.name or ".old-" in child.name):
            continue  # a partial folder or table of an interrupted run
        if child.name in (*FANOUT_FILES, "summary.json") and child.is_file():
            continue
        if child in runs and (is_maillage_folder(child) or not any(child.iterdir())):
            continue
        return False
    return bool(runs)


def _kept_places() -> list[tuple[Path, str]]:
    places = [(Path.cwd(), "the current folder")]
    with contextlib.suppress(RuntimeError, KeyError):  # no home folder known
        places.append((Path.home(), "your home folder"))
    return places


def _refuse(out: Path, problem: str, hint: str = "") -> InputError:
    return InputError.one("--out", str(out), problem, hint=hint)


def check_out(out: Path, *, force: bool = False, protect: Iterable[Path] = ()) -> Path:
    """``out`` as an absolute path, when a run may write there; else :class:`InputError` saying why.

    A run writes a new folder, an empty one, or one Maillage wrote before (see
    :func:`is_maillage_folder`); ``force`` lets it replace any other folder, except the file-system
    root, the home folder, the current folder or one of their parents, and a folder holding one of
    the paths in ``protect`` (the scenario file and its inputs). Never a file, never a symbolic link.
    """
    path = Path(os.path.abspath(out))  # '..' and '.' resolved by name, links kept
    if path.is_symlink():
        raise _refuse(path, "is a symbolic link", hint="give the folder itself, not a link to it")
    real = path.resolve()
    for place, what in _kept_places():
        if place.resolve().is_relative_to(real):
            raise _refuse(path, f"is {what} or one of its parents: a run never replaces it", hint="give a new folder")
    if real == Path(real.anchor):
        raise _refuse(path, "is the root of the file system", hint="give a new folder")
    for item in protect:
        if Path(os.path.abspath(item)).resolve().is_relative_to(real):
            raise _refuse(
                path,
                f"holds the input {item}: a run never replaces the folder of its scenario or inputs",
                hint="give a new folder, e.g. outputs/<name> beside the scenario",
            )
    if not path.exists():
        return path
    if not path.is_dir():
        raise _refuse(path, "is an existing file, not a folder", hint="give a new folder")
    if force or not any(path.iterdir()) or is_maillage_folder(path):
        return path
    raise _refuse(
        path,
        "is a folder Maillage did not write (it has no run.json), so it is left as it is",
        hint="give a new folder, or add --force to replace this one and everything in it",
    )


@contextlib.contextmanager
def run_folder(out: Path, *, force: bool = False, protect: Iterable[Path] = ()) -> Iterator[Path]:
    """Yield a temporary sibling of ``out``; on success it replaces ``out`` in one rename.

    ``out`` is checked first (:func:`check_out`). The temporary folder is removed whatever happens;
    a run cancelled (Ctrl-C, SIGTERM) while writing leaves ``out`` as it was.
    """
    out = check_out(out, force=force, protect=protect)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(out)
        tmp = out.with_name(f".{out.name}.part-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        tmp.mkdir()
    except OSError as exc:
        raise _refuse(
            out, f"cannot be written ({exc.strerror or exc})", hint="choose a folder you can write in"
        ) from None
    try:
        yield tmp
        check_cancelled()  # a run interrupted while writing keeps the previous output
        _commit(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # after a swap it holds the previous output


def _commit(tmp: Path, out: Path) -> None:
    """Put ``tmp`` in place of ``out``, ``out`` never missing where the system can swap in one step."""
    if out.exists() and _exchange(tmp, out):  # one atomic step: ``out`` is never missing
        return
    old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
    if out.exists():
        os.replace(out, old)
    try:
        os.replace(tmp, out)  # a kill before this line leaves ``old``: restored by the next run
    except BaseException:
        if old.exists() and not out.exists():
            os.replace(old, out)
        raise
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
    """``outputs/<name>-<YYYYmmdd-HHMMSS>`` under the current folder (the name made a safe file name)."""
    return Path("outputs") / f"{file_name(name.lower())}-{datetime.now():%Y%m%d-%H%M%S}"


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
    """Path, size and SHA-256 of an input file (of its plain files in name order for a folder), for ``run.json``;
    a PostGIS table or view: its address, rows and the SHA-256 of its content."""
    if (database := postgis.relation(path)) is not None:
        return postgis.record(database)
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()) if path.is_dir() else [path]
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
