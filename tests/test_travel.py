"""Tests for planner.travel.estimate: the stated crow-fly estimate."""

import geopandas as gpd
import numpy as np
import pytest

from planner.travel.estimate import EstimateModel, haversine_m


def _points(*lonlat):
    return gpd.GeoSeries(gpd.points_from_xy(*zip(*lonlat, strict=True)), crs="EPSG:4326")


def test_haversine_one_degree_on_the_equator():
    """One degree of longitude on the equator is 2·pi·R/360 = 111,195 m."""
    assert haversine_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(111_195.08, abs=0.01)


def test_estimate_by_hand():
    """111.195 km x 1.3 at 50 km/h = 173.46 min; zero on the diagonal."""
    minutes = EstimateModel(speed_kmh=50, detour_factor=1.3).matrix(_points((0, 0), (1, 0)), _points((0, 0), (1, 0)))
    assert minutes.dtype == np.float32
    assert minutes[0, 1] == pytest.approx(111.19508 * 1.3 / 50 * 60, rel=1e-6)
    assert minutes[0, 0] == 0 and minutes[1, 0] == minutes[0, 1]


def test_estimate_limit_and_description():
    """limit_min turns farther pairs into inf; describe() states the formula and parameters."""
    model = EstimateModel(speed_kmh=60, detour_factor=1.0)
    minutes = model.matrix(_points((3.5, 44.5)), _points((3.5, 44.5), (3.5, 44.6)), limit_min=10)
    assert np.isinf(minutes[0, 1]) == (haversine_m(3.5, 44.5, 3.5, 44.6) / 1000 > 10)
    assert model.describe() | {} == {
        "model": "estimate",
        "speed_kmh": 60,
        "detour_factor": 1.0,
        "formula": "crow-fly distance x detour_factor / speed_kmh",
    }


@pytest.mark.parametrize(("speed", "detour"), [(0, 1.3), (-5, 1.3), (50, 0.9)])
def test_estimate_refuses_impossible_parameters(speed, detour):
    """A speed <= 0 or a detour factor below 1 cannot describe a road."""
    with pytest.raises(ValueError, match="speed_kmh must be > 0 and detour_factor >= 1"):
        EstimateModel(speed_kmh=speed, detour_factor=detour)
