"""Layers read from a PostgreSQL + PostGIS table or view, as French local authorities keep them (QGIS + PostGIS).

A layer path ``postgresql://user@host/base#schema.table`` (``#table`` alone: schema ``public``) names a table
or a view whose geometry column is registered in PostGIS's ``geometry_columns`` (a table with a typed
geometry column, or a view over one). The rows are read as they are, then validated like a file's. A path
given as a ``pathlib.Path`` (the CLI's options, a scenario's keys) loses one slash of ``//`` and may be
prefixed by the scenario's folder: both are undone here. The address is shown without its password.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from planner._errors import InputError

_ADDRESS = re.compile(r"(?:^|/)(postgres(?:ql)?(?:\+psycopg)?):/+([^#]*)(?:#(.*))?$")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class Relation(NamedTuple):
    """A table or view of a PostGIS database: the SQLAlchemy address, the schema, the name."""

    url: str
    schema: str
    table: str

    @property
    def shown(self) -> str:
        """The address as messages and ``run.json`` show it: no password."""
        return re.sub(r"://([^:/@]*):[^@/]*@", r"://\1@", self.url) + f"#{self.schema}.{self.table}"


def relation(path: str | Path) -> Relation | None:
    """The table or view a layer path names when it is a PostGIS address, else ``None``."""
    found = _ADDRESS.search(str(path))
    if found is None:
        return None
    where = found.group(3) or ""
    schema, _, table = where.rpartition(".")
    schema = schema or "public"
    if not (_NAME.fullmatch(schema) and _NAME.fullmatch(table)):
        raise InputError.one(
            f"postgresql://{found.group(2)}",
            f"#{where}",
            "not a table name (letters, digits, _; 63 at most)",
            "end the address with #schema.table",
        )
    return Relation(f"postgresql+psycopg://{found.group(2)}", schema, table)


def read(source: Relation) -> gpd.GeoDataFrame:
    """The rows of ``source`` with its registered geometry column."""
    engine = create_engine(source.url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            column = connection.execute(
                text(
                    "SELECT f_geometry_column FROM geometry_columns WHERE f_table_schema = :schema "
                    "AND f_table_name = :table LIMIT 1"
                ),
                {"schema": source.schema, "table": source.table},
            ).scalar()
            if column is None:
                raise InputError.one(
                    source.shown,
                    "",
                    "no such table or view with a registered geometry column",
                    "give a PostGIS table or view with a typed geometry column (see geometry_columns)",
                )
            query = f'SELECT * FROM "{source.schema}"."{source.table}"'  # names checked by relation()
            return gpd.read_postgis(text(query), connection, geom_col=str(column))
    except InputError:
        raise
    except Exception as exc:  # the driver's errors all mean "cannot read there"
        raise InputError.one(source.shown, "", f"cannot be read ({type(exc).__name__}: {exc})") from None
    finally:
        engine.dispose()


def record(source: Relation) -> dict[str, object]:
    """Address, rows and SHA-256 of the layer's content (GeoJSON text), for ``run.json``."""
    frame = read(source)
    digest = hashlib.sha256(frame.to_json(sort_keys=True).encode("utf-8")).hexdigest()
    return {"path": source.shown, "rows": len(frame), "sha256": digest}
