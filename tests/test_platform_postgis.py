"""A run's layers written into a PostGIS schema (the throwaway server of the tests): one table per layer with
its geometry registered in ``geometry_columns`` (what QGIS lists), rows as in the run; written again, the
tables are replaced; bad targets refused with exit code 2."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from planner.cli import app as cli_app
from planner.platform.postgis import parse_target, run_layers


@pytest.fixture(scope="module")
def coverage_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A coverage run of Haute-Corse (the packaged data, the estimate)."""
    out = tmp_path_factory.mktemp("postgis") / "haute-corse"
    done = CliRunner().invoke(cli_app, ["coverage", "--departement", "2B", "--out", str(out)])
    assert done.exit_code == 0, done.output
    return out


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_layers_land_in_postgis_as_qgis_reads_them(database_url: str, coverage_run: Path) -> None:
    target = database_url.replace("postgresql+psycopg://", "postgresql://", 1) + "#maillage"
    first = CliRunner().invoke(cli_app, ["postgis", str(coverage_run), "--to", target])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(cli_app, ["postgis", str(coverage_run), "--to", target])
    assert again.exit_code == 0 and again.output == first.output
    layers = run_layers(coverage_run)
    assert {"coverage_zones_access", "coverage_gap_zones", "coverage_services"} <= set(layers)
    engine = sqlalchemy.create_engine(database_url, poolclass=NullPool)
    with engine.connect() as connection:
        registered = {
            row.f_table_name: (row.srid, row.type)
            for row in connection.execute(
                sqlalchemy.text(
                    "SELECT f_table_name, srid, type FROM geometry_columns WHERE f_table_schema = 'maillage'"
                )
            )
        }
        assert set(registered) == set(layers)
        for name, layer in layers.items():
            assert registered[name][0] == layer.crs.to_epsg() and registered[name][1] != "GEOMETRY"
            stored = gpd.read_postgis(f'SELECT * FROM maillage."{name}"', connection, geom_col="geometry")
            assert len(stored) == len(layer) and stored.crs == layer.crs
        indexed = connection.execute(
            sqlalchemy.text("SELECT count(*) FROM pg_indexes WHERE schemaname = 'maillage' AND indexdef LIKE '%gist%'")
        ).scalar_one()
        assert indexed == len(layers)
    engine.dispose()


def test_bad_targets_are_refused(coverage_run: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    for target, said in [
        ("mysql://x@y/z#s", "not a PostgreSQL address"),
        ("postgresql://x@/z?host=/nowhere#Bad-Schema", "the schema must be"),
        ('postgresql://x@/z?host=/nowhere#s"; DROP TABLE x; --', "the schema must be"),
        ("postgresql://x@/z?host=/nowhere", "the schema must be"),
        ("postgresql://x@/z?host=/nowhere-at-all#s", "cannot write"),
    ]:
        done = runner.invoke(cli_app, ["postgis", str(coverage_run), "--to", target])
        assert done.exit_code == 2 and said in done.output, (target, done.output)
    assert runner.invoke(cli_app, ["postgis", str(tmp_path), "--to", "postgresql://x@/z#s"]).exit_code == 2
    assert parse_target("postgres://u@h/b#s") == ("postgresql+psycopg://u@h/b", "s")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_zones_and_sites_read_from_postgis_tables_and_views(
    database_url: str, coverage_run: Path, tmp_path: Path
) -> None:
    """The Haute-Corse layers written above, read back as the demand zones (through a view) and the service
    points of a new coverage run: same zones, same population, same services; run.json records the tables."""
    base = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    assert CliRunner().invoke(cli_app, ["postgis", str(coverage_run), "--to", f"{base}#src"]).exit_code == 0
    engine = sqlalchemy.create_engine(database_url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(
            sqlalchemy.text(
                "CREATE VIEW src.zones AS SELECT zone_id, name, population, geometry FROM src.coverage_zones_access"
            )
        )
    engine.dispose()
    out = tmp_path / "from-postgis"
    zones, sites = f"{base}#src.zones", f"{base}#src.coverage_services"
    done = CliRunner().invoke(
        cli_app, ["coverage", "--zones", zones, "--sites", sites, "--no-canton-seats", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    before = gpd.read_file(coverage_run / "coverage.gpkg", layer="zones_access").set_index("zone_id")
    after = gpd.read_file(out / "coverage.gpkg", layer="zones_access").set_index("zone_id")
    assert sorted(after.index) == sorted(before.index)
    assert after["population"].sum() == pytest.approx(before["population"].sum())
    services = gpd.read_file(out / "coverage.gpkg", layer="services")
    assert sorted(services["site_id"]) == sorted(
        gpd.read_file(coverage_run / "coverage.gpkg", layer="services")["site_id"]
    )
    recorded = (out / "run.json").read_text(encoding="utf-8")
    assert "#src.zones" in recorded and '"rows": ' in recorded
    for bad, said in [(f"{base}#src.nothing", "no such table or view"), (f"{base}#src.x;drop", "not a table name")]:
        refused = CliRunner().invoke(cli_app, ["coverage", "--zones", bad, "--out", str(tmp_path / "bad")])
        assert refused.exit_code == 2 and said in refused.output, refused.output
