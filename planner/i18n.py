"""French-first labels for maps, sheets and summaries, with English available."""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "access_time": "Temps d'accès au service le plus proche",
        "minutes": "min",
        "unreachable": "inaccessible",
        "gap": "Commune en zone blanche (au-delà de {target:g} min)",
        "population": "Population",
        "nearest_service": "Service le plus proche",
        "services": "Points de service",
        "zones": "Temps d'accès",
        "gaps": "Zones blanches",
        "hours": "Horaires",
        "address": "Adresse",
        "travel_estimate": (
            "Temps estimés (vol d'oiseau x {detour_factor:g} à {speed_kmh:g} km/h), pas un itinéraire routier"
        ),
        "travel_road": "Temps sur le réseau routier OpenStreetMap",
        "headline": "{name} : {population} habitants",
        "within": "à moins de {t} min d'un service : {people} ({share})",
        "largest_gaps": "Plus grandes communes au-delà de {target:g} min",
        "indicator": "indicateur",
        "value": "valeur",
        "population_total": "population totale",
        "population_within": "population à moins de {t} min",
        "share_within": "part de la population à moins de {t} min",
        "mean_time_min": "temps moyen pondéré (min)",
        "median_time_min": "temps médian pondéré (min)",
        "p90_time_min": "90e centile du temps (min)",
        "population_unreachable": "population sans service accessible",
        "travel_model": "modèle de temps de trajet",
    },
    "en": {
        "access_time": "Time to the nearest service",
        "minutes": "min",
        "unreachable": "unreachable",
        "gap": "Gap commune (beyond {target:g} min)",
        "population": "Population",
        "nearest_service": "Nearest service",
        "services": "Service points",
        "zones": "Access time",
        "gaps": "Gaps",
        "hours": "Opening hours",
        "address": "Address",
        "travel_estimate": "Estimated times (crow-fly x {detour_factor:g} at {speed_kmh:g} km/h), not routed",
        "travel_road": "Times on the OpenStreetMap road network",
        "headline": "{name}: {population} inhabitants",
        "within": "within {t} min of a service: {people} ({share})",
        "largest_gaps": "Largest communes beyond {target:g} min",
        "indicator": "indicator",
        "value": "value",
        "population_total": "total population",
        "population_within": "population within {t} min",
        "share_within": "share of population within {t} min",
        "mean_time_min": "population-weighted mean time (min)",
        "median_time_min": "population-weighted median time (min)",
        "p90_time_min": "90th percentile time (min)",
        "population_unreachable": "population with no reachable service",
        "travel_model": "travel-time model",
    },
}


def label(key: str, lang: str = "fr", **values: object) -> str:
    """The label ``key`` in ``lang`` (French by default), formatted with ``values``."""
    return LABELS[lang][key].format(**values)


def number(value: float, lang: str = "fr", decimals: int = 0) -> str:
    """A number as people read it: ``76 601`` and ``95,5`` in French, ``76,601`` and ``95.5`` in English."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",") if lang == "fr" else text


def percent(share: float, lang: str = "fr") -> str:
    """A share as a percentage with one decimal: ``95,5 %`` in French, ``95.5%`` in English."""
    return number(100 * share, lang, 1) + ("\u202f%" if lang == "fr" else "%")
