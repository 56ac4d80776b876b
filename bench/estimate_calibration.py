"""How well the stated estimate (crow-fly x detour at a speed) matches routed times on real road networks.

For every OSM extract in ``../shared/data/osm/`` it loads the road network with the project's own
loader (``planner.travel.network.load_network``: drivable roads, French default speeds per road
class), draws random node pairs more than ``--min-km`` apart (crow-fly), routes them, and reports:

* the detour index (road distance along the fastest path / crow-fly distance): median and IQR;
* the routed average speed (road distance / routed minutes);
* routed minutes over the default estimate's (50 km/h x 1.3);
* the share of pairs whose routed time lies within the estimate's stated range (40 km/h x 1.6 to
  60 km/h x 1.2, ``planner.travel.estimate.ESTIMATE_LOW/HIGH``).

Points are placed on nodes, so no snapping term enters. Usage (from the repository root)::

    .venv/bin/python bench/estimate_calibration.py            # 400 origins x 400 destinations per extract
    .venv/bin/python bench/estimate_calibration.py --pairs 100
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import cast

import geopandas as gpd
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner.travel.estimate import ESTIMATE_HIGH, ESTIMATE_LOW, EstimateModel, haversine_m  # noqa: E402
from planner.travel.network import load_network  # noqa: E402

OSM = ROOT.parent / "shared" / "data" / "osm"
EXTRACTS = ("andorra_2013.osm.pbf", "saint_barthelemy_FR_2014.osm.pbf", "north_bayreuth_DE_2014.osm.bz2")


def calibrate(path: Path, pairs: int, min_km: float, seed: int) -> dict[str, object]:
    """Detour, speed and estimate ratios over random node pairs of one extract."""
    clock = time.perf_counter()
    network = load_network(path)
    loaded = time.perf_counter() - clock
    rng = np.random.default_rng(seed)
    n = len(network.lon)
    origins = rng.choice(n, size=min(pairs, n), replace=False)
    targets = rng.choice(n, size=min(pairs, n), replace=False)
    o = gpd.GeoSeries(gpd.points_from_xy(network.lon[origins], network.lat[origins]), crs="EPSG:4326")
    d = gpd.GeoSeries(gpd.points_from_xy(network.lon[targets], network.lat[targets]), crs="EPSG:4326")
    minutes = network.matrix(o, d).astype(float)
    metres = network.distance_m(o, d)
    crow = haversine_m(
        network.lon[origins][:, None],
        network.lat[origins][:, None],
        network.lon[targets][None],
        network.lat[targets][None],
    )
    keep = np.isfinite(minutes) & (crow > min_km * 1000) & (minutes > 0)
    detour = metres[keep] / crow[keep]
    speed = metres[keep] / 1000 / (minutes[keep] / 60)
    default = EstimateModel()
    estimate = crow[keep] * default.detour_factor / (default.speed_kmh * 1000 / 60)
    slow = crow[keep] * ESTIMATE_LOW[1] / (ESTIMATE_LOW[0] * 1000 / 60)
    fast = crow[keep] * ESTIMATE_HIGH[1] / (ESTIMATE_HIGH[0] * 1000 / 60)
    routed = minutes[keep]
    q = np.percentile
    return {
        "extract": path.name,
        "nodes": n,
        "pairs": int(keep.sum()),
        "detour_median": float(np.median(detour)),
        "detour_iqr": (float(q(detour, 25)), float(q(detour, 75))),
        "speed_median_kmh": float(np.median(speed)),
        "routed_over_estimate": float(np.median(routed / estimate)),
        "implied_speed_kmh_at_1_3": float(np.median(crow[keep] * 1.3 / 1000 / (routed / 60))),
        "within_range": float(np.mean((routed >= fast) & (routed <= slow))),
        "below_range": float(np.mean(routed < fast)),
        "above_range": float(np.mean(routed > slow)),
        "load_s": loaded,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=400, help="origins and destinations drawn per extract")
    parser.add_argument("--min-km", type=float, default=3.0, help="only pairs farther apart than this (crow-fly)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(
        "| extract | nodes | pairs > "
        f"{args.min_km:g} km | detour median (IQR) | routed speed median | routed / estimate (50 km/h x 1.3) "
        "| speed that x 1.3 implies | routed time within 40x1.6-60x1.2 (below, above) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in EXTRACTS:
        r = calibrate(OSM / name, args.pairs, args.min_km, args.seed)
        low, high = cast(tuple[float, float], r["detour_iqr"])
        print(
            f"| {r['extract']} | {r['nodes']:,} | {r['pairs']:,} | {r['detour_median']:.2f} ({low:.2f}-{high:.2f}) "
            f"| {r['speed_median_kmh']:.1f} km/h | {r['routed_over_estimate']:.2f} "
            f"| {r['implied_speed_kmh_at_1_3']:.1f} km/h "
            f"| {r['within_range']:.0%} ({r['below_range']:.0%}, {r['above_range']:.0%}) |"
        )
    print(
        f"\nStated defaults: detour {EstimateModel().detour_factor}, {EstimateModel().speed_kmh:g} km/h; "
        f"range {ESTIMATE_LOW[0]:g} km/h x {ESTIMATE_LOW[1]} to {ESTIMATE_HIGH[0]:g} km/h x {ESTIMATE_HIGH[1]}."
    )


if __name__ == "__main__":
    main()
