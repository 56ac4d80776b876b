"""Tests for planner/coverage.py.

Most tests use one tiny territory whose every number can be redone by hand:

    zone   population   service A   service B   nearest
    z0        100            5          25        5  (A)
    z1        200           12          12       12  (A and B tie, first column wins)
    z2        300          inf          40       40  (B)
    z3        400          inf         inf      inf  (none reachable)

Total population 1000, of which 400 (z3) can reach no service.
E2SFCA is checked by hand on two zones and one service, and against the PySAL ``access``
package on a seeded random instance.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from planner.jobs.measures import (
    LUO_QI_STEPS,
    e2sfca,
    gap_zones,
    nearest_service,
    step_weights,
    summarise,
    weighted_quantile,
)

INF = np.inf
TIMES = np.array(
    [
        [5.0, 25.0],
        [12.0, 12.0],
        [INF, 40.0],
        [INF, INF],
    ]
)
POPULATION = np.array([100.0, 200.0, 300.0, 400.0])
# Nearest minutes per zone, read off the table above.
MINUTES = np.array([5.0, 12.0, 40.0, INF])


# --- nearest_service ------------------------------------------------------------------------


def test_nearest_service_tiny_territory():
    """Minutes and column of the nearest service: first column on ties, inf and -1 when none."""
    minutes, column = nearest_service(TIMES)
    # z0: min(5, 25) = 5 in A (0); z1: min(12, 12) = 12, tie -> first column A (0);
    # z2: min(inf, 40) = 40 in B (1); z3: min(inf, inf) = inf -> no service, column -1.
    np.testing.assert_array_equal(minutes, [5.0, 12.0, 40.0, INF])
    np.testing.assert_array_equal(column, [0, 0, 1, -1])


def test_nearest_service_without_services():
    """A territory with no service at all leaves every zone at inf and column -1."""
    minutes, column = nearest_service(np.empty((3, 0)))
    np.testing.assert_array_equal(minutes, [INF, INF, INF])
    np.testing.assert_array_equal(column, [-1, -1, -1])


def test_nearest_service_integer_minutes_become_float():
    """Integer travel times come back as float minutes with the right columns."""
    minutes, column = nearest_service(np.array([[7, 3, 9], [4, 4, 1]]))
    # row 0: min(7, 3, 9) = 3 at column 1; row 1: min(4, 4, 1) = 1 at column 2.
    assert minutes.dtype == float
    np.testing.assert_array_equal(minutes, [3.0, 1.0])
    np.testing.assert_array_equal(column, [1, 2])


# --- weighted_quantile ----------------------------------------------------------------------


def test_weighted_quantile_tiny_territory():
    """Median and p90 of the tiny territory, with the unreachable zone counted as largest."""
    # Sorted: 5 (100), 12 (200), 40 (300), inf (400); cumulative 100, 300, 600, 1000.
    # q=0.1 -> 100: first cumulative >= 100 is 100 -> 5 (exactly on the step: inverted CDF).
    # q=0.3 -> 300: 300 -> 12.   q=0.5 -> 500: 600 -> 40.   q=0.6 -> 600: 600 -> 40.
    # q=0.61 -> 610: 1000 -> inf.   q=0.9 -> 900: 1000 -> inf.   q=1 -> 1000 -> inf.
    expected = {0.1: 5.0, 0.3: 12.0, 0.5: 40.0, 0.6: 40.0, 0.61: INF, 0.9: INF, 1.0: INF}
    for q, value in expected.items():
        assert weighted_quantile(MINUTES, POPULATION, q) == value, q


def test_weighted_quantile_unsorted_input_and_ties():
    """Input order does not matter and tied values pool their weight."""
    values = np.array([20.0, 10.0, 10.0, 30.0])
    weights = np.array([2.0, 1.0, 1.0, 4.0])
    # Sorted: 10 (1), 10 (1), 20 (2), 30 (4); cumulative 1, 2, 4, 8; total 8.
    # q=0.25 -> 2: the second 10 reaches 2 -> 10.   q=0.26 -> 2.08: 4 -> 20.
    # q=0.5 -> 4: 20.   q=0.51 -> 4.08: 8 -> 30.
    assert weighted_quantile(values, weights, 0.25) == 10.0
    assert weighted_quantile(values, weights, 0.26) == 20.0
    assert weighted_quantile(values, weights, 0.5) == 20.0
    assert weighted_quantile(values, weights, 0.51) == 30.0


def test_weighted_quantile_skips_zero_weights():
    """A value carrying no weight is never returned for q > 0."""
    values = np.array([1.0, 2.0, 3.0])
    # weights 5, 0, 5: cumulative 5, 5, 10; q=0.5 -> 5 -> first reaching it is 1 (not 2).
    assert weighted_quantile(values, np.array([5.0, 0.0, 5.0]), 0.5) == 1.0
    # weights 0, 0, 5: cumulative 0, 0, 5; q=0.5 -> 2.5 -> 3.
    assert weighted_quantile(values, np.array([0.0, 0.0, 5.0]), 0.5) == 3.0


def test_weighted_quantile_rounding_tolerance():
    """Cumulative sums that land a hair below the target still hit the exact step."""
    values = np.arange(1.0, 11.0)
    weights = np.full(10, 0.7)
    # Ten equal weights: a share q = k/10 lies at or below value k.  In floating point the
    # cumulative sum at k = 1..5 and 8 is a hair below k/10 of the total
    # (k=1: 0.7 < 0.1 * 7.000000000000001 = 0.7000000000000002),
    # so without the built-in tolerance these would step one value too far.
    for k in range(1, 11):
        assert weighted_quantile(values, weights, k / 10) == float(k), k


def test_weighted_quantile_zero_weight_is_nan():
    """With no weight at all the quantile is undefined (nan)."""
    assert math.isnan(weighted_quantile(np.array([1.0, 2.0]), np.array([0.0, 0.0]), 0.5))


# --- summarise ------------------------------------------------------------------------------


def test_summarise_tiny_territory():
    """Every statistic of the tiny territory, computed by hand."""
    result = summarise(POPULATION, MINUTES, [7.5, 30, 40.0])
    # Within 7.5: z0 (5) -> 100.  Within 30: z0, z1 (12) -> 300.
    # Within 40: z0, z1, z2 (40 <= 40, bound included) -> 600.  z3 (inf) is never within.
    # Shares over the full 1000, unreachable included: 0.1, 0.3, 0.6.
    # Mean over the 600 reachable only: (100*5 + 200*12 + 300*40) / 600 = 14900 / 600.
    # Median and p90: see test_weighted_quantile_tiny_territory -> 40 and inf.
    assert result["population_total"] == 1000.0
    assert result["population_within"] == {"7.5": 100.0, "30": 300.0, "40": 600.0}
    assert result["share_within"] == pytest.approx({"7.5": 0.1, "30": 0.3, "40": 0.6})
    assert result["population_unreachable"] == 400.0
    assert result["mean_time_min"] == pytest.approx(14900 / 600)
    assert result["median_time_min"] == 40.0
    assert result["p90_time_min"] == INF


def test_summarise_threshold_keys_are_text():
    """Thresholds become keys such as "30" and "7.5", whatever their numeric type."""
    result = summarise(POPULATION, MINUTES, [30, 30.0, np.float64(7.5), np.int64(45), 0.25])
    # 30 and 30.0 share the key "30"; 45 covers z0..z2 (600); 0.25 covers nobody.
    assert list(result["population_within"]) == ["30", "7.5", "45", "0.25"]
    assert list(result["share_within"]) == ["30", "7.5", "45", "0.25"]
    assert result["population_within"]["45"] == 600.0
    assert result["population_within"]["0.25"] == 0.0


def test_summarise_everyone_reachable():
    """Without unreachable zones, nothing is unreachable and p90 is a finite time."""
    result = summarise(POPULATION[:3], MINUTES[:3], [30])
    # Zones z0..z2 only: total 600, within 30 = 300 (share 0.5), mean 14900/600.
    # Cumulative 100, 300, 600: median -> 300 -> 12; p90 -> 540 -> 40.
    assert result["population_total"] == 600.0
    assert result["share_within"] == {"30": 0.5}
    assert result["population_unreachable"] == 0.0
    assert result["mean_time_min"] == pytest.approx(14900 / 600)
    assert result["median_time_min"] == 12.0
    assert result["p90_time_min"] == 40.0


def test_summarise_only_unreachable_population():
    """When the only inhabitants cannot reach a service, the mean is nan and quantiles are inf."""
    # Same zones, but nobody lives in z0..z2: all 400 inhabitants are in z3 (inf).
    result = summarise(np.array([0.0, 0.0, 0.0, 400.0]), MINUTES, [30])
    assert result["population_total"] == 400.0
    assert result["population_within"] == {"30": 0.0}
    assert result["share_within"] == {"30": 0.0}
    assert result["population_unreachable"] == 400.0
    assert math.isnan(result["mean_time_min"])
    assert result["median_time_min"] == INF
    assert result["p90_time_min"] == INF


def test_summarise_zero_population():
    """A territory with no inhabitants gives zeros for counts and nan for shares and times."""
    result = summarise(np.zeros(4), MINUTES, [30, 7.5])
    assert result["population_total"] == 0.0
    assert result["population_within"] == {"30": 0.0, "7.5": 0.0}
    assert all(math.isnan(v) for v in result["share_within"].values())
    assert result["population_unreachable"] == 0.0
    for key in ("mean_time_min", "median_time_min", "p90_time_min"):
        assert math.isnan(result[key]), key


def test_summarise_integer_population():
    """Integer populations give the same float statistics as float ones."""
    as_int = summarise(POPULATION.astype(int), MINUTES, [30])
    as_float = summarise(POPULATION, MINUTES, [30])
    assert as_int == as_float
    assert isinstance(as_int["population_total"], float)


# --- gap_zones ------------------------------------------------------------------------------


def _access_table() -> pd.DataFrame:
    """The tiny territory as an access table, plus z4 (300 inhabitants, 35 min) to tie with z2."""
    return pd.DataFrame(
        {
            "zone": ["z0", "z1", "z2", "z3", "z4"],
            "population": [100.0, 200.0, 300.0, 400.0, 300.0],
            "time_min": [5.0, 12.0, 40.0, INF, 35.0],
        }
    )


def test_gap_zones_order_and_ties():
    """Zones beyond the threshold, largest population first, then farthest first on ties."""
    access = _access_table()
    gaps = gap_zones(access, 30)
    # Beyond 30: z2 (40), z3 (inf), z4 (35).  By population: z3 (400), then z2 and z4 tie at 300,
    # broken by time, farthest first: z2 (40) before z4 (35).
    assert gaps["zone"].tolist() == ["z3", "z2", "z4"]
    assert gaps.index.tolist() == [3, 2, 4]  # original index kept
    assert list(gaps.columns) == ["zone", "population", "time_min"]


def test_gap_zones_threshold_is_inclusive():
    """A zone exactly at the threshold is served, not a gap."""
    access = _access_table()
    # Threshold 12: z1 (12) is served; z2, z3, z4 are gaps, same order as above.
    assert gap_zones(access, 12)["zone"].tolist() == ["z3", "z2", "z4"]
    # Threshold 40: only z3 (inf) remains; unreachable zones are always gaps.
    assert gap_zones(access, 40)["zone"].tolist() == ["z3"]


def test_gap_zones_none_and_input_untouched():
    """No gap gives an empty table with the same columns, and the input is not modified."""
    access = _access_table().iloc[:2]
    before = access.copy()
    gaps = gap_zones(access, 30)
    assert gaps.empty
    assert list(gaps.columns) == ["zone", "population", "time_min"]
    pd.testing.assert_frame_equal(access, before)


# --- step_weights ---------------------------------------------------------------------------


def test_step_weights_luo_qi_bands():
    """Luo & Qi bands: 1 up to 10 min, 0.68 up to 20, 0.22 up to 30, 0 beyond; bounds included."""
    minutes = np.array([0.0, 10.0, 10.01, 20.0, 25.0, 30.0, 30.01, 45.0, INF])
    expected = [1.0, 1.0, 0.68, 0.68, 0.22, 0.22, 0.0, 0.0, 0.0]
    np.testing.assert_array_equal(step_weights(minutes), expected)
    assert LUO_QI_STEPS == ((10.0, 1.0), (20.0, 0.68), (30.0, 0.22))


def test_step_weights_keeps_shape_and_takes_integers():
    """A zones x services matrix of integer minutes gives a float matrix of the same shape."""
    minutes = np.array([[5, 15, 25], [35, 10, 20]])
    weights = step_weights(minutes)
    assert weights.shape == (2, 3)
    assert weights.dtype == float
    np.testing.assert_array_equal(weights, [[1.0, 0.68, 0.22], [0.0, 1.0, 0.68]])


def test_step_weights_custom_steps():
    """Custom steps apply in the order given; no step gives all zeros."""
    minutes = np.array([0.0, 15.0, 15.5, INF])
    np.testing.assert_array_equal(step_weights(minutes, ((15.0, 1.0),)), [1.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(step_weights(minutes, ((5.0, 0.5), (60.0, 0.1))), [0.5, 0.1, 0.1, 0.0])
    np.testing.assert_array_equal(step_weights(minutes, ()), [0.0, 0.0, 0.0, 0.0])


# --- e2sfca by hand -------------------------------------------------------------------------


def test_e2sfca_two_zones_one_service():
    """Two zones, one service of capacity 3, worked through both steps by hand."""
    population = np.array([100.0, 50.0])
    capacity = np.array([3.0])
    times = np.array([[5.0], [15.0]])
    # Weights: 5 min -> 1, 15 min -> 0.68.
    # Step 1: R = 3 / (100*1 + 50*0.68) = 3 / 134.
    # Step 2: A_0 = 1 * 3/134 = 0.0223880..., A_1 = 0.68 * 3/134 = 2.04/134 = 0.0152238...
    result = e2sfca(population, capacity, times)
    np.testing.assert_allclose(result, [3 / 134, 2.04 / 134], rtol=1e-12)
    # Everyone is in the catchment, so the capacity is shared out exactly: sum P_i A_i = 3.
    assert population @ result == pytest.approx(3.0)


def test_e2sfca_out_of_catchment_and_empty_catchment():
    """Zones beyond 30 min get 0, and a service whose catchment holds no one gives nothing."""
    population = np.array([100.0, 50.0, 0.0])
    capacity = np.array([3.0, 7.0])
    times = np.array([[5.0, 45.0], [15.0, INF], [40.0, 8.0]])
    # Service 0 as in the two-zone case (zone 2 is 40 min away: weight 0) -> R_0 = 3/134.
    # Service 1 reaches only zone 2, which is empty: demand 0 -> R_1 taken as 0.
    # A = [3/134, 0.68 * 3/134, 0 * R_0 + 1 * 0] = [3/134, 2.04/134, 0].
    result = e2sfca(population, capacity, times)
    np.testing.assert_allclose(result, [3 / 134, 2.04 / 134, 0.0], rtol=1e-12)


# --- e2sfca against PySAL access --------------------------------------------------------------

# access 1.1.10 calls DataFrame.set_index(inplace=True), deprecated in pandas 3.1: not our concern.
_ACCESS_PANDAS_WARNING = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.set_index")


def _random_instance(seed: int = 20240611, n_zones: int = 40, n_services: int = 8):
    """Seeded zones x services instance: integer minutes 0-45 (hitting the 10/20/30 bounds), some inf."""
    rng = np.random.default_rng(seed)
    times = rng.integers(0, 46, size=(n_zones, n_services)).astype(float)
    times[rng.random(size=times.shape) < 0.1] = INF  # some unreachable pairs
    times[0, :] = INF  # one zone that reaches nothing
    times[1, :] = 31.0  # one zone just outside every catchment
    population = rng.integers(1, 5000, size=n_zones).astype(float)
    capacity = rng.integers(0, 20, size=n_services).astype(float)
    capacity[0] = 0.0  # one service with no capacity
    return population, capacity, times


def _access_e2sfca(population, capacity, times, *, normalize: bool) -> np.ndarray:
    """E2SFCA per zone computed by ``access`` with the Luo & Qi step function, in our zone order."""
    import access  # test dependency (pyproject [test] extra); imported here to keep it out of the other tests

    zones = [f"z{i:02d}" for i in range(len(population))]
    services = [f"s{j}" for j in range(len(capacity))]
    demand_df = pd.DataFrame({"zone": zones, "pop": population})
    supply_df = pd.DataFrame({"service": services, "cap": capacity})
    # Long-format cost table, every zone x service pair (inf included: weight_fn gives it 0).
    cost_df = pd.DataFrame(
        {
            "origin": np.repeat(zones, len(services)),
            "dest": np.tile(services, len(zones)),
            "minutes": times.ravel(),
        }
    )
    model = access.Access(
        demand_df=demand_df,
        demand_index="zone",
        demand_value="pop",
        supply_df=supply_df,
        supply_index="service",
        supply_value="cap",
        cost_df=cost_df,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="minutes",
    )
    weight_fn = access.weights.step_fn({upper: weight for upper, weight in LUO_QI_STEPS})
    # max_cost=None keeps every pair, so zones that reach nothing get 0 rather than a missing row;
    # the step function already cuts at 30 min.
    out = model.enhanced_two_stage_fca(name="e2sfca", weight_fn=weight_fn, max_cost=None, normalize=normalize)
    return out["e2sfca_cap"].reindex(zones).to_numpy(dtype=float)


@_ACCESS_PANDAS_WARNING
def test_e2sfca_matches_access_package():
    """Raw per-zone E2SFCA equals PySAL access's enhanced_two_stage_fca (normalize=False)."""
    population, capacity, times = _random_instance()
    ours = e2sfca(population, capacity, times)
    theirs = _access_e2sfca(population, capacity, times, normalize=False)
    assert np.isfinite(theirs).all()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    # The instance exercises what it should: zeros for zones 0 and 1, positive values elsewhere.
    assert ours[0] == 0.0 and ours[1] == 0.0
    assert (ours[2:] > 0).sum() > 30


@_ACCESS_PANDAS_WARNING
def test_e2sfca_normalised_matches_access_package():
    """access's normalize=True is ours divided by its population-weighted mean."""
    population, capacity, times = _random_instance(seed=7)
    ours = e2sfca(population, capacity, times)
    # access.helpers.normalized_access divides by sum_i P_i A_i / sum_i P_i.
    rescaled = ours / (population @ ours / population.sum())
    theirs = _access_e2sfca(population, capacity, times, normalize=True)
    np.testing.assert_allclose(rescaled, theirs, rtol=1e-12)


def test_e2sfca_shares_out_reachable_capacity():
    """Population times accessibility sums to the capacity of services that have demand."""
    population, capacity, times = _random_instance(seed=3)
    result = e2sfca(population, capacity, times)
    # sum_i P_i A_i = sum_j R_j sum_i P_i W_ij = sum_j S_j over services with positive demand.
    has_demand = population @ step_weights(times) > 0
    assert population @ result == pytest.approx(capacity[has_demand].sum())
