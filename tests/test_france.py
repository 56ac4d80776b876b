"""Tests for planner.data.france and the embedded default territory (real INSEE/IGN data)."""

from __future__ import annotations

import pytest

from planner._errors import InputError
from planner.data.france import DEFAULT_TERRITORY, departements, load_france
from planner.data.hours import parse_opening_hours
from planner.data.territory import read_territory
from planner.jobs.coverage import run_coverage
from planner.scenario import Scenario


def test_embedded_lozere_matches_insee():
    """The embedded GeoPackage holds Lozère's 152 communes and 76,601 inhabitants, with town halls."""
    lozere = read_territory(DEFAULT_TERRITORY)
    assert len(lozere.zones) == 152 and lozere.zones["population"].sum() == 76_601
    halls = lozere.sites[lozere.sites["kind"] == "town_hall"]
    assert len(halls) == 152
    stated = [parse_opening_hours(h) for h in halls["opening_hours"]]  # every one parses
    assert sum(bool(w) for w in stated) == 150  # two town halls publish no hours ("[]")
    mende = lozere.zones.set_index("zone_id").loc["48095"]
    assert mende["name"] == "Mende" and mende["population"] > 10_000


def test_embedded_file_is_what_the_loader_builds():
    """data/lozere.gpkg equals load_france(departements=['48']): the build script did not drift."""
    packaged, fresh = read_territory(DEFAULT_TERRITORY), load_france(departements=["48"])
    assert packaged.zones["zone_id"].tolist() == fresh.zones["zone_id"].tolist()
    assert packaged.zones["population"].tolist() == fresh.zones["population"].tolist()
    assert sorted(packaged.sites["site_id"]) == sorted(fresh.sites["site_id"])


def test_canton_seats_are_the_default_services():
    """Lozère's cantons have 12 seats (Mende seats three: Mende-1, Mende-2 and the canton-ville): 12 service points."""
    services = load_france(departements=["48"]).services()
    assert len(services) == 12 and services["site_id"].is_unique
    assert (
        services.loc[services["site_id"] == "canton-48095", "name"].iloc[0]
        == "Mende (siège des cantons Mende-1, Mende-2 et Mende)"
    )


def test_every_departement_runs():
    """All 101 départements of the packaged data load and give a coverage summary (mainland, Corsica, overseas)."""
    codes = departements()["code"].tolist()
    assert len(codes) == 101 and {"2A", "2B", "971", "976"} <= set(codes)
    for code in codes:
        summary = run_coverage(Scenario(territory={"departement": code})).summary
        assert summary["zones"] > 0 and summary["services"] > 0, code
        assert 0 <= summary["share_within"]["30"] <= 1 or summary["population_total"] == 0, code


def test_territories_without_cantons_get_a_stated_baseline():
    """Martinique has no canton since 2015: the most populous commune of each EPCI stands in, and it is said."""
    martinique = load_france(departements=["972"])
    assert len(martinique.services()) == 3 and martinique.services()["site_id"].str.startswith("epci-").all()
    assert any("no canton in this territory" in n for n in martinique.notes)


def test_source_gaps_are_handled_and_said():
    """Meuse has 6 'villages morts pour la France' without town hall; Mayotte has no population figures."""
    meuse = load_france(departements=["55"])
    assert any("6 commune(s) without town-hall location" in n for n in meuse.notes)
    assert meuse.zones[["demand_lon", "demand_lat"]].notna().all().all()
    mayotte = load_france(departements=["976"])
    assert any(n.startswith("17 commune(s) without a population figure") for n in mayotte.notes)


def test_epci_and_insee_selection():
    """An EPCI and an explicit list of INSEE codes select exactly their communes."""
    two = load_france(insee=["48095", "48092"])
    assert sorted(two.zones["name"]) == ["Marvejols", "Mende"]
    epci = load_france(epci=[str(load_france(insee=["48095"]).zones["epci"].iloc[0])])
    assert "48095" in set(epci.zones["zone_id"]) and 1 < len(epci.zones) < 152


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"departements": ["99"]}, "unknown departement code '99'"),
        ({"departements": ["480"]}, r"did you mean .*48"),
        ({"insee": ["48999"]}, "unknown insee code '48999'"),
        ({"epci": ["123"]}, "unknown epci code '123'"),
        ({}, "no territory chosen"),
    ],
)
def test_unknown_codes_are_refused_clearly(kwargs, message):
    """An unknown code names itself and suggests close valid codes."""
    with pytest.raises(InputError, match=message):
        load_france(**kwargs)


def test_single_digit_departement_is_padded():
    """'1' means Ain (01), as people type it."""
    assert load_france(departements=["1"]).name == "Ain (01)"


def _offsets_m(points, shapes, departements):
    """Metres from each point to its polygon, per département in a metric CRS (Lambert-93, UTM overseas)."""
    import numpy as np

    offset = np.full(len(points), np.nan)
    for code in departements.unique():
        rows = np.flatnonzero((departements == code).to_numpy())
        crs = "EPSG:2154" if not code.startswith("97") else shapes.iloc[rows].estimate_utm_crs()
        offset[rows] = shapes.iloc[rows].to_crs(crs).distance(points.iloc[rows].to_crs(crs), align=False).to_numpy()
    return offset


def test_every_demand_point_lies_in_its_commune():
    """All 34,875 communes: the demand point is within 500 m of the commune's own boundary (inside
    for the replaced ones), and every demand point and town hall lies in its département's envelope."""
    import geopandas as gpd

    from planner.data.france import _communes

    communes = _communes()
    shaped = communes[communes.geometry.notna()]
    assert shaped["demand_lon"].notna().all()
    points = gpd.GeoSeries(gpd.points_from_xy(shaped["demand_lon"], shaped["demand_lat"]), crs=4326)
    offset = _offsets_m(points, shaped.geometry.reset_index(drop=True), shaped["departement"].reset_index(drop=True))
    assert (offset <= 500).all(), shaped.loc[shaped.index[offset > 500], "zone_id"].tolist()
    replaced = (shaped["point_source"].isin(["census_grid", "interior"])).to_numpy()
    assert (offset[replaced] < 1).all()  # a replacement is inside the commune
    box = communes.geometry.bounds.groupby(communes["departement"]).agg(
        {"minx": "min", "miny": "min", "maxx": "max", "maxy": "max"}
    )
    for prefix in ("demand", "hall"):
        lon, lat = communes[f"{prefix}_lon"], communes[f"{prefix}_lat"]
        env = box.reindex(communes["departement"]).set_axis(communes.index)
        out = lon.notna() & ~(
            lon.between(env["minx"] - 0.05, env["maxx"] + 0.05) & lat.between(env["miny"] - 0.05, env["maxy"] + 0.05)
        )
        assert not out.any(), (prefix, communes.loc[out, "zone_id"].tolist())


def test_known_misplaced_points_are_fixed():
    """The cases found in the source: Guadeloupe's sign errors fixed at the town hall, Lascelle (Cantal)
    moved back from latitude 49.02, Paris placed inside its boundary without a town hall."""
    from planner.data.france import _communes

    table = _communes().set_index("zone_id")
    assert table.loc["97128", "demand_lon"] < -61 and table.loc["97128", "point_source"] == "town_hall_fixed"
    assert table.loc["97129", "hall_lon"] < -61
    assert 44.6 < table.loc["15096", "demand_lat"] < 45.5
    assert table.loc["75056", "point_source"] in ("interior", "census_grid") and table.loc["75056", "demand_lat"] > 48.8


def test_names_carry_their_article():
    """Names as INSEE writes them (TNCC), and French elision and contraction in generated labels."""
    lozere = load_france(departements=["48"])
    names = set(lozere.zones["name"])
    assert {"La Canourgue", "Le Malzieu-Ville", "Les Laubies", "Altier"} <= names
    halls = set(lozere.sites["name"])
    assert {"Mairie d'Altier", "Mairie du Malzieu-Ville", "Mairie de La Canourgue", "Mairie de Mende"} <= halls
    assert "Mairie des Laubies" in halls
    ain = load_france(departements=["01"]).zones.set_index("zone_id")
    assert ain.loc["01001", "name"] == "L'Abergement-Clémenciat"
