"""The travel model a scenario asks for: a road network (given, stored or downloaded) or the stated estimate."""

from __future__ import annotations

from planner._errors import InputError
from planner.data.territory import Territory
from planner.scenario import Scenario
from planner.travel.estimate import EstimateModel, TravelModel
from planner.travel.network import download_network, load_network
from planner.travel.store import is_stored_network, read_network


def build_travel_model(scenario: Scenario, territory: Territory) -> TravelModel:
    """The road network when one is given or downloadable, else (or when asked) the stated estimate."""
    spec = scenario.travel
    estimate = EstimateModel(speed_kmh=spec.speed_kmh, detour_factor=spec.detour_factor)
    if spec.model == "estimate":
        return estimate
    if spec.network is not None:
        path = scenario.resolve(spec.network)
        if is_stored_network(path):
            return read_network(path, access_speed_kmh=spec.access_speed_kmh)
        return load_network(path, access_speed_kmh=spec.access_speed_kmh)
    if spec.download:
        polygon = territory.zones.to_crs(territory.metric_crs()).buffer(5_000).to_crs("EPSG:4326").union_all()
        return download_network(polygon, scenario.resolve(spec.cache_dir), access_speed_kmh=spec.access_speed_kmh)
    if spec.model == "road":
        raise InputError.one(
            "travel.model",
            "",
            "is 'road' but no road network was given",
            hint="set travel.network to a .osm.pbf/.graphml file, or travel.download: true",
        )
    return estimate
