"""Where the platform's database is, how to open it, and its migrations (Alembic, run from here).

Embedded SQLite by default: one file, ``maillage.sqlite3``, in the user data folder (platformdirs),
nothing to install. ``MAILLAGE_DATABASE_URL`` points elsewhere, e.g.
``postgresql+psycopg://user@host/maillage`` for a shared PostgreSQL + PostGIS server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
ENV_URL = "MAILLAGE_DATABASE_URL"


def database_url() -> str:
    """``MAILLAGE_DATABASE_URL`` when set, else the embedded SQLite file in the user data folder."""
    if url := os.environ.get(ENV_URL):
        return url
    folder = Path(platformdirs.user_data_dir("maillage", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'maillage.sqlite3'}"


def _sqlite_pragmas(connection: object, _record: object) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str | None = None) -> Engine:
    """An engine on ``url`` (default :func:`database_url`); SQLite with foreign keys on and WAL."""
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database's schema to ``revision`` (default: the newest), creating it when empty."""
    command.upgrade(_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (``None`` when it has none)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest migration this version of Maillage ships."""
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def open_database(url: str | None = None) -> sessionmaker[Session]:
    """A session factory on the migrated database at ``url`` (default :func:`database_url`)."""
    engine = make_engine(url)
    migrate(engine)
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed at the end of the block, rolled back on an error."""
    with sessions.begin() as session:
        yield session


def migrate_down(engine: Engine, revision: str) -> None:
    """Take the schema back to ``revision`` (``"base"``: no table left)."""
    command.downgrade(_config(engine), revision)
