"""Page data of the app's coverage page: the scenario its widgets describe, headline figures, gaps, files."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from pydantic import ValidationError

from planner._errors import InputError, Problem
from planner.app.shared import Metric, base_map
from planner.exports.coverage import range_basis, share_range
from planner.i18n import label, number, percent
from planner.jobs.measures import gap_zones
from planner.scenario import ESTIMATE_DETOUR_FACTOR, ESTIMATE_SPEED_KMH, Scenario

if TYPE_CHECKING:
    from planner.jobs.coverage import CoverageResult

THRESHOLD_CHOICES = [5, 10, 15, 20, 30, 45, 60]
DOWNLOADS = (  # (label key, file of the CLI's coverage outputs, MIME type); the map comes from the page
    ("download_gpkg", "coverage.gpkg", "application/geopackage+sqlite3"),
    ("download_csv", "access_by_zone.csv", "text/csv"),
    ("download_gaps", "gap_zones.csv", "text/csv"),
)
MAP_DOWNLOAD = ("download_map", "map.html", "text/html")
NO_SERVICE_HINT = "keep the canton seats or upload a service points file"


@dataclass(frozen=True)
class CoverageChoice:
    """What the coverage page's widgets chose; ``departement=None`` is the embedded Lozère."""

    departement: str | None = None
    epci: str | None = None
    insee: tuple[str, ...] = ()
    zones: Path | None = None
    sites: Path | None = None
    canton_seats: bool = True
    network: Path | None = None
    speed_kmh: float = ESTIMATE_SPEED_KMH
    detour_factor: float = ESTIMATE_DETOUR_FACTOR
    thresholds_min: tuple[float, ...] = (10.0, 20.0, 30.0)
    target_min: float = 30.0


def coverage_scenario(choice: CoverageChoice) -> Scenario:
    """The scenario the CLI would run for these choices (validated like a scenario file)."""
    raw = {
        "name": "app",
        "territory": {
            "departement": choice.departement,
            "epci": choice.epci,
            "insee": list(choice.insee) or None,
            "zones": choice.zones,
        },
        "services": {"canton_seats": choice.canton_seats, "files": [choice.sites] if choice.sites else []},
        "travel": {
            "model": "road" if choice.network else "estimate",
            "network": choice.network,
            "speed_kmh": choice.speed_kmh,
            "detour_factor": choice.detour_factor,
        },
        "coverage": {"thresholds_min": list(choice.thresholds_min), "target_min": choice.target_min},
    }
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = [Problem(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
        raise InputError("settings", problems) from None


def insee_codes(text: str) -> tuple[str, ...]:
    """INSEE codes typed in a box, separated by commas, semicolons, spaces or lines (``48095, 48061``)."""
    return tuple(dict.fromkeys(code.strip().upper() for code in re.split(r"[\s,;]+", text) if code.strip()))


def place_key(scenario: Scenario) -> str:
    """Cache key of the territory and its services (uploads are named by their content hash)."""
    return scenario.model_dump_json(include={"territory", "services"})


def travel_key(scenario: Scenario) -> str:
    """Cache key of the travel model."""
    return scenario.model_dump_json(include={"travel"})


def headline_metrics(result: CoverageResult, lang: str, name: str | None = None) -> list[Metric]:
    """Population, population and share within each threshold, P90 time, gap communes.

    ``name`` replaces the territory's name under the population (e.g. the uploaded zones file).
    """
    s = result.summary
    metrics = [Metric(label("population", lang), number(s["population_total"], lang), name or s["territory"])]
    for key, people in s["population_within"].items():
        metrics.append(
            Metric(
                label("within_metric", lang, t=key),
                percent(s["share_within"][key], lang),
                label("people", lang, people=number(people, lang))
                + (f" · {share_range(s, key, lang)}" if share_range(s, key, lang) else ""),
            )
        )
    metrics.append(Metric(label("p90", lang), f"{number(s['p90_time_min'], lang, 1)} min"))
    gaps = gap_zones(result.access, float(s["target_min"]))
    metrics.append(
        Metric(
            label("gaps_metric", lang, target=s["target_min"]),
            number(len(gaps), lang),
            label("gap_detail", lang, people=number(gaps["population"].sum(), lang)),
        )
    )
    return metrics


def travel_caveat(result: CoverageResult, lang: str) -> str:
    """What the times are, shown by the headline: the estimate's caveat and what its range spans, or "routed"."""
    travel = result.travel
    if travel.get("model") == "road":
        return label("travel_road", lang)
    basis = range_basis(result.summary, lang)
    text = label("travel_estimate", lang, **travel)
    return text + (". " + label("range_basis", lang, basis=basis) if basis else "")


def intro(thresholds: tuple[float, ...], lang: str) -> str:
    """The page's introduction, naming the chosen thresholds (``10, 20 et 30 minutes``)."""
    words = [number(t, lang) for t in thresholds] or [number(30, lang)]
    listed = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {label('and', lang)} {words[-1]}"
    return label("coverage_intro", lang, thresholds=listed)


def gap_table(result: CoverageResult, lang: str) -> pd.DataFrame:
    """The ranked gap communes with labelled columns."""
    gaps = gap_zones(result.access, float(result.summary["target_min"]))
    table = pd.DataFrame(gaps[["name", "zone_id", "population", "time_min", "service_name"]])
    table["population"] = [number(v, lang) for v in table["population"]]
    table["time_min"] = [number(v, lang, 1) for v in table["time_min"]]
    columns = {"name": "col_name", "zone_id": "col_zone_id", "population": "col_population"}
    columns |= {"time_min": "col_time", "service_name": "col_service"}
    return table.rename(columns={k: label(v, lang) for k, v in columns.items()}).reset_index(drop=True)


def coverage_map_html(result: CoverageResult, lang: str) -> str:
    """The coverage map as one offline HTML page."""
    from planner.exports.maps import standalone_html

    return standalone_html(base_map(result, lang))


def coverage_file(result: CoverageResult, name: str, lang: str) -> bytes:
    """One file of the CLI's coverage outputs (``coverage.gpkg``, ``access_by_zone.csv``, ...), as bytes."""
    from planner.exports.coverage import write_coverage

    with tempfile.TemporaryDirectory(prefix="maillage-") as folder:
        write_coverage(result, Path(folder), lang)
        return (Path(folder) / name).read_bytes()
