"""Shared fixtures: paths to the real data in ../shared and small helpers."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared() -> Path:
    """The real public data beside the project (OSM extracts, France Services list, census grid)."""
    assert SHARED.is_dir(), f"the shared data folder {SHARED} is missing"
    return SHARED


# --- The platform's databases: embedded SQLite, and a throwaway PostgreSQL + PostGIS cluster -------------


def _postgres_bin() -> Path:
    """The folder of Debian's PostgreSQL server binaries; the tests fail (not skip) when it is missing."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.fail(
            "PostgreSQL is not installed: the platform's storage tests run on SQLite and on PostgreSQL + PostGIS. "
            "Install them with `make system-deps` (apt-get install postgresql postgis).",
            pytrace=False,
        )
    return found[-1].parent


@pytest.fixture(scope="session")
def postgres_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server of its own, on a unix socket in a temporary folder, with a template database
    ``maillage_template`` that has PostGIS; stopped and removed at the end of the session. Runs as the
    ``postgres`` user when the tests run as root (the server refuses root)."""
    bindir = _postgres_bin()
    home = Path(tempfile.mkdtemp(prefix="maillage-pg-"))
    data, sock = home / "data", home / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
        shutil.chown(sock, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]

    def run(*args: str) -> None:
        done = subprocess.run([*as_user, *args], capture_output=True, text=True, check=False)
        if done.returncode:
            pytest.fail(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}", pytrace=False)

    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
    options = f"-c listen_addresses='' -k {sock} -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(home / "log"), "-o", options, "-w", "start")
    try:
        psql = [str(bindir / "psql"), "-h", str(sock), "-U", "postgres", "-q", "-c"]
        run(*psql, "CREATE DATABASE maillage_template", "postgres")
        run(*psql, "CREATE EXTENSION postgis", "maillage_template")
        yield str(sock)
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(home, ignore_errors=True)


_DATABASES = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each back-end: a SQLite file, or a fresh PostgreSQL database with PostGIS."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'maillage.sqlite3'}"
        return
    import sqlalchemy

    sock = request.getfixturevalue("postgres_cluster")
    name = f"maillage_{os.getpid()}_{next(_DATABASES)}"
    admin = sqlalchemy.create_engine(
        f"postgresql+psycopg://postgres@/postgres?host={sock}", isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"CREATE DATABASE {name} TEMPLATE maillage_template"))
    yield f"postgresql+psycopg://postgres@/{name}?host={sock}"
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()
