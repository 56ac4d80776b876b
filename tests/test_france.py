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
    """Lozère's 13 cantons have 12 seats (Mende seats two cantons): 12 service points."""
    services = load_france(departements=["48"]).services()
    assert len(services) == 12 and services["site_id"].is_unique
    assert (
        services.loc[services["site_id"] == "canton-48095", "name"].iloc[0].startswith("Mende (siège du canton Mende-1")
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
    assert any("17 commune(s) without a population figure counted as 0" in n for n in mayotte.notes)


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
