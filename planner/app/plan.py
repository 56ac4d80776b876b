"""Page data of the app's plan page: coverage before and after the new sites, the sites, the trade-off curve."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from planner.app.shared import Metric, RunRecord, localised, target_of
from planner.exports.coverage import share_range
from planner.i18n import LABELS, label, number, percent

if TYPE_CHECKING:
    import altair as alt

    from planner.jobs.siting import SitingRun


def plan_metrics(record: RunRecord, lang: str) -> list[Metric]:
    """Share within the target before (with the estimate's range), with the new sites, and with sites and rounds."""
    run = record.run
    target = target_of(run)
    key = f"{target:g}"
    before = run.coverage.summary["share_within"].get(key)
    spread = share_range(run.coverage.summary, key, lang) or None  # the estimate's low-high range
    metrics = [Metric(label("before", lang, t=target), percent(before, lang) if before is not None else "–", spread)]
    if run.siting is not None:
        after = run.siting.summary_after["share_within"].get(key)
        if after is not None:
            metrics.append(Metric(label("after_sites", lang), percent(after, lang), _delta_points(after, before, lang)))
    if run.rounds is not None and run.plan_summary:
        after_plan = run.plan_summary["share_within_after"].get(key)  # type: ignore[attr-defined]
        if after_plan is not None:
            metrics.append(
                Metric(label("after_plan", lang), percent(after_plan, lang), _delta_points(after_plan, before, lang))
            )
    return metrics


def _delta_points(after: float, before: float | None, lang: str) -> str | None:
    if before is None:
        return None
    return f"+{number(100 * (after - before), lang, 1)} pts"


def chosen_table(siting: SitingRun, lang: str) -> pd.DataFrame:
    """The new sites: name, kind, address, people they bring within the radius."""
    table = pd.DataFrame(siting.chosen.reindex(columns=["name", "kind", "address", "population_within"]))
    table["kind"] = [label(f"site_{k}", lang) if f"site_{k}" in LABELS[lang] else k for k in table["kind"]]
    table["population_within"] = [number(v, lang) for v in table["population_within"].fillna(0)]
    columns = {"name": label("col_site", lang), "kind": label("kind", lang), "address": label("col_address", lang)}
    columns["population_within"] = label("people_within", lang, t=siting.radius_min)
    return table.rename(columns=columns).reset_index(drop=True)


def tradeoff_chart(siting: SitingRun, lang: str) -> alt.Chart:
    """People within the radius as 0, 1, 2... new sites open; the scenario's choice marked."""
    import altair as alt

    x, y = label("new_sites", lang), label("people_within", lang, t=siting.radius_min)
    curve = siting.tradeoff.rename(columns={"new_sites": x, "population_within": y})
    line = (
        alt.Chart(curve)
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{x}:Q", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y(f"{y}:Q", scale=alt.Scale(zero=False)),
            tooltip=[f"{x}:Q", alt.Tooltip(f"{y}:Q", format=",.0f")],
        )
    )
    choice = pd.DataFrame({x: [siting.spec.new_sites], "label": [label("chosen_count", lang)]})
    rule = alt.Chart(choice).mark_rule(color="#1a9850", strokeDash=[4, 4]).encode(x=f"{x}:Q", tooltip=["label:N"])
    return localised((line + rule).properties(height=320), lang)  # type: ignore[return-value]
