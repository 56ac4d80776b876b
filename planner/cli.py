"""The ``maillage`` command line: coverage of a territory, or a whole scenario file."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape  # user data such as an id '[/x]' is text, not markup

from optimize._cancel import Cancelled, cancellable, check
from planner._errors import InfeasibleError, InputError, Problem
from planner.exports.render import RENDERED, chromium
from planner.i18n import message_text
from planner.runs.folders import check_out, default_out
from planner.runs.pipeline import report, run_scenario
from planner.runs.record import input_paths, write_scenario_run
from planner.scenario import ESTIMATE_DETOUR_FACTOR, ESTIMATE_SPEED_KMH, Scenario, load_scenario, validated

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from planner.platform.models import Person, Territory
    from planner.platform.publish import PersonChanges

app = typer.Typer(
    help="Maillage: plan shared spaces and mobile public services for a French territory.\n\n"
    "Example: maillage coverage --departement 12 --thresholds 10,20,30",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)

# The options every command that runs a scenario shares; each overrides the scenario, validated like it.
DebugOption = Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")]
OutOption = Annotated[Path | None, typer.Option("--out", help="Output folder (default: outputs/<name>-<time>).")]
LangOption = Annotated[
    str | None, typer.Option("--lang", help="Language of maps and tables: fr or en (default: the scenario's, fr).")
]
CsvFormatOption = Annotated[
    str | None,
    typer.Option(
        "--csv-format",
        help="CSV files: excel-fr (';', UTF-8 with BOM, decimal comma, oui/non: French Excel opens them) or "
        "rfc4180 (',', decimal point) (default: the scenario's, else excel-fr in French, rfc4180 in English).",
    ),
]
FormatsOption = Annotated[
    str | None,
    typer.Option(
        "--formats",
        help="Extra files, comma-separated: geoparquet (each GeoPackage layer as GeoParquet too), png and pdf "
        "(maps as images and PDF, sheets as PDF; drawn offline by the system's Chromium) (default: the scenario's).",
    ),
]
TimeLimitOption = Annotated[
    float | None,
    typer.Option(
        "--time-limit", help="Time limit of each solve (siting, rounds, rooms), seconds (default: the scenario's)."
    ),
]
SeedOption = Annotated[
    int | None, typer.Option("--seed", help="Seed of each solve: same seed, same plan (default: the scenario's).")
]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Replace --out even when Maillage did not write it (never the scenario's folder, its inputs, "
        "the current or home folder).",
    ),
]
CacheOption = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="Where downloaded and per-département road networks are kept (default: travel.cache_dir, "
        "which stays under the scenario's folder or the user cache).",
    ),
]

OPTION_OF = {  # a scenario key set from the command line -> the option that set it
    "language": "--lang",
    "csv_format": "--csv-format",
    "formats": "--formats",
    "time_limit_s": "--time-limit",
    "seed": "--seed",
    "territory": "--departement/--epci/--insee",
    "territory.insee": "--insee",
    "services.files": "--sites",
    "travel.speed_kmh": "--speed",
    "travel.detour_factor": "--detour",
    "coverage.thresholds_min": "--thresholds",
    "coverage.target_min": "--target",
    "travel.cache_dir": "--cache-dir",
}
INTERRUPTED = "Interrupted: the run was stopped before writing anything; the previous output is unchanged."
EXIT_INTERRUPTED = 130


def _interruptible(work: Callable[[], None]) -> None:
    """Run ``work`` in a thread that Ctrl-C (SIGINT) or SIGTERM cancels: the solver stops, nothing is written.

    The main thread only waits, so it takes the signal at once even while a solver runs in native
    code; it sets the run's cancel flag (``optimize._cancel``), which stops CP-SAT, SCIP or PyVRP and
    makes the run raise ``Cancelled`` before its output folder is swapped in. A second signal ends
    the process at once (its hidden part folder is swept by the next run).
    """
    cancel = threading.Event()
    outcome: list[BaseException] = []

    def target() -> None:
        with cancellable(cancel):
            try:
                work()
            except BaseException as exc:  # handed to the main thread
                outcome.append(exc)

    def on_signal(signum: int, frame: object) -> None:
        if cancel.is_set():
            console.print(INTERRUPTED, highlight=False, markup=False, soft_wrap=True)
            os._exit(EXIT_INTERRUPTED)
        cancel.set()

    thread = threading.Thread(target=target, name="maillage-run", daemon=True)
    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, on_signal) for s in handled}
    try:
        thread.start()
        while thread.is_alive():
            thread.join(0.1)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if outcome:
        raise outcome[0]


def _guarded(debug: bool, work: Callable[[], None], *, interruptible: bool = True) -> None:
    """Run ``work``; bad input exits with code 2 and a plain message, an interrupt with 130, anything else 1."""
    try:
        if interruptible and threading.current_thread() is threading.main_thread():
            _interruptible(work)
        else:
            work()
    except Cancelled:
        console.print(INTERRUPTED, highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except (InputError, InfeasibleError) as exc:
        if debug:
            traceback.print_exc()
        console.print(f"[bold red]Error:[/] {escape(str(exc))}", highlight=False, markup=True, soft_wrap=True)
        raise typer.Exit(2) from None
    except Exception as exc:
        if debug:
            traceback.print_exc()
        console.print(
            f"[bold red]Unexpected error:[/] {type(exc).__name__}: {escape(str(exc))}\n"
            "(run again with --debug for details)",
            highlight=False,
        )
        raise typer.Exit(1) from None


@contextlib.contextmanager
def _options() -> Iterator[None]:
    """Report the settings refused by the scenario's validation under the options that gave them."""
    try:
        yield
    except InputError as exc:
        if exc.source != "settings":
            raise
        problems = []
        for problem in exc.problems:
            keys = problem.where.split(".")
            option = OPTION_OF.get(".".join(k for k in keys if not k.isdigit()), problem.where)
            items = [f"value {int(k) + 1}" for k in keys if k.isdigit()]
            problems.append(Problem(" ".join([option, *items]), problem.problem))
        options = sorted({p.where.split()[0] for p in problems})
        if len(options) > 1:
            raise InputError("options", problems, exc.hint) from None
        only = options[0]  # one option: named first, like a file with its rows
        problems = [Problem(p.where.removeprefix(only).strip(), p.problem) for p in problems]
        raise InputError(only, problems, exc.hint) from None


def _cache_dir(cache_dir: Path | None) -> dict[str, Path]:
    """``--cache-dir`` as a ``travel`` change (made absolute: an explicit option may point anywhere)."""
    return {} if cache_dir is None else {"cache_dir": Path(os.path.abspath(cache_dir))}


def _overridden(
    scenario: Scenario,
    lang: str | None,
    time_limit: float | None,
    seed: int | None,
    cache_dir: Path | None = None,
    csv_format: str | None = None,
    formats: str | None = None,
) -> Scenario:
    """The scenario with the shared options applied (None keeps the scenario's value), validated."""
    with _options():
        scenario = scenario.with_solver(time_limit_s=time_limit, seed=seed)
        if cache_dir is not None:
            scenario = scenario.override(travel=scenario.travel.override(**_cache_dir(cache_dir)))
        chosen = {"language": lang, "csv_format": csv_format, "formats": _formats(formats)}
        changes = {k: v for k, v in chosen.items() if v is not None}
        return scenario.override(**changes) if changes else scenario


def _formats(text: str | None) -> list[str] | None:
    """``--formats png,pdf`` as a list (None when the option is not given)."""
    return None if text is None else [f.strip().lower() for f in text.split(",") if f.strip()]


def _execute(scenario: Scenario, out: Path | None, scenario_file: Path | None = None, force: bool = False) -> None:
    """Run the scenario's stages and write one atomic output folder with run.json and summary.json."""
    lang = scenario.language
    started = datetime.now(UTC)
    out = out or default_out(scenario.name)
    check_out(out, force=force, protect=input_paths(scenario, scenario_file))  # before any work
    if set(scenario.formats) & set(RENDERED):
        chromium()  # PNG and PDF need it: said before solving, not after

    def step(name: str) -> None:
        check()  # Ctrl-C between stages
        status.update(f"Maillage · {escape(message_text(name, lang))}…")

    with console.status("Maillage…") as status:
        run = run_scenario(scenario, progress=step)
        status.update(f"Maillage · {message_text('outputs', lang)}…")
        files = write_scenario_run(
            run, out, lang, started=started, command=sys.argv, scenario_file=scenario_file, force=force
        )
    for line in report(run, lang):
        typer.echo(line)
    typer.echo(f"-> {out}/ ({len(files) + 2} files: summary.json, run.json, {', '.join(files[:6])}, ...)")


def _execute_national(scenario: Scenario, out: Path | None, force: bool = False) -> None:
    """National coverage (every commune of France) into one atomic output folder."""
    from planner.exports.national import national_report
    from planner.jobs.national import run_national
    from planner.runs.national import national_inputs, write_national_run

    lang = scenario.language

    started = datetime.now(UTC)
    out = out or default_out(scenario.name)
    check_out(out, force=force, protect=national_inputs(scenario))  # before any work
    with console.status("Maillage: France…") as status:
        national = run_national(scenario, lang=lang)
        status.update("Maillage: writing outputs…")
        files = write_national_run(national, scenario, out, lang, started=started, command=sys.argv, force=force)
    for line in national_report(national, lang):
        typer.echo(line)
    typer.echo(f"-> {out}/ ({len(files) + 2} files: summary.json, run.json, {', '.join(files)})")


def _execute_fanout(
    scenario: Scenario,
    codes_text: str,
    out: Path | None,
    scenario_file: Path,
    workers: int | None,
    scheduler: str | None,
    force: bool = False,
) -> int:
    """One Dask task per département, a progress bar, then the merged national tables; the failures count."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from planner.runs.fanout import Outcome, dask_client, departement_codes, fan_out

    codes = departement_codes(codes_text)
    out = out or default_out(scenario.name)
    check_out(out, force=force, protect=input_paths(scenario, scenario_file))
    clock = time.perf_counter()
    with dask_client(workers=workers, scheduler=scheduler) as client:
        console.print(f"Dask dashboard: {client.dashboard_link}", highlight=False)
        columns = (TextColumn("Départements"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("", total=len(codes))

            def seen(outcome: Outcome) -> None:
                bar.advance(task)
                if outcome.status == "error":
                    bar.console.print(f"[red]{outcome.code}[/]: {escape(outcome.error)}", highlight=False)

            outcomes = fan_out(
                scenario,
                codes,
                out,
                client,
                lang=scenario.language,
                scenario_file=scenario_file,
                on_outcome=seen,
                progress=lambda step: bar.console.print(step, highlight=False),
            )
    counts = {s: sum(o.status == s for o in outcomes) for s in ("done", "skipped", "error")}
    typer.echo(
        f"{counts['done']} département(s) calculé(s), {counts['skipped']} déjà complet(s), "
        f"{counts['error']} en erreur, {time.perf_counter() - clock:.1f} s"
    )
    typer.echo(f"-> {out}/ (<code>/, national_summary.csv, national_access_by_zone.csv, errors.csv, summary.json)")
    if counts["error"]:
        console.print(f"[bold red]Error:[/] {counts['error']} département(s) failed: see {escape(str(out))}/errors.csv")
    return counts["error"]


def _scenario_with(path: Path, section: str, example: str) -> Scenario:
    """The scenario file, refused when it lacks the section a command needs."""
    scenario = load_scenario(path)
    if getattr(scenario, section) is None:
        raise InputError.one(str(path), section, "is missing", hint=f"add a {section}: section (see {example})")
    return scenario


def _floats(text: str, option: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values:
        raise InputError.one(option, "", f"'{text}' is not a comma-separated list of minutes, e.g. 10,20,30")
    return values


@app.command()
def coverage(  # noqa: PLR0913 (typer: one parameter per command-line option)
    departement: Annotated[str | None, typer.Option(help="INSEE code of a département, e.g. 48, 2A, 974.")] = None,
    epci: Annotated[str | None, typer.Option(help="SIREN code of an EPCI (intercommunalité).")] = None,
    insee: Annotated[str | None, typer.Option(help="Comma-separated INSEE codes of communes.")] = None,
    zones: Annotated[
        Path | None,
        typer.Option(
            help="Demand zones or points file (GeoJSON, GPKG, SHP, GeoParquet, CSV with lon/lat, Eurostat 1-km grid)."
        ),
    ] = None,
    sites: Annotated[
        list[Path] | None,
        typer.Option(help="Service points file (repeatable), e.g. the ANCT France Services CSV."),
    ] = None,
    no_canton_seats: Annotated[
        bool, typer.Option("--no-canton-seats", help="Do not count canton seats as services.")
    ] = False,
    network: Annotated[
        Path | None, typer.Option(help="Local road network: .osm, .osm.bz2, .osm.pbf or .graphml.")
    ] = None,
    download: Annotated[
        bool, typer.Option("--download", help="Download the road network with osmnx (online; cached).")
    ] = False,
    estimate: Annotated[bool, typer.Option("--estimate", help="Force the stated crow-fly estimate.")] = False,
    speed: Annotated[float, typer.Option(help="Estimate: average speed, km/h.")] = ESTIMATE_SPEED_KMH,
    detour: Annotated[float, typer.Option(help="Estimate: road over crow-fly distance.")] = ESTIMATE_DETOUR_FACTOR,
    thresholds: Annotated[
        str | None, typer.Option(help="Report population within these minutes (default 10,20,30; 20,30 with --france).")
    ] = None,
    france: Annotated[
        bool,
        typer.Option("--france", help="All communes of France against canton seats or --sites (stated estimate)."),
    ] = False,
    target: Annotated[float, typer.Option(help="Access target in minutes; zones beyond are gaps.")] = 30.0,
    out: OutOption = None,
    force: ForceOption = False,
    cache_dir: CacheOption = None,
    lang: LangOption = None,
    csv_format: CsvFormatOption = None,
    formats: FormatsOption = None,
    debug: DebugOption = False,
) -> None:
    """Who lives how many minutes from a service, and where the gaps are.

    With no territory option, runs on the embedded Lozère territory. Examples:

      maillage coverage

      maillage coverage --departement 12 --thresholds 15,30 --out outputs/aveyron

      maillage coverage --sites france_services.csv --no-canton-seats --network lozere.osm.pbf
    """

    def work() -> None:
        raw = {
            "name": f"coverage-{'france' if france else departement or epci or 'territory'}",
            "territory": {
                "departement": departement,
                "epci": epci,
                "insee": insee.split(",") if insee else None,
                "zones": zones,
            },
            "services": {"canton_seats": not no_canton_seats, "files": sites or []},
            "travel": {
                "model": "estimate" if estimate else "auto",
                "network": network,
                "download": download,
                "speed_kmh": speed,
                "detour_factor": detour,
                **_cache_dir(cache_dir),
            },
            "coverage": {
                "thresholds_min": _floats(thresholds or ("20,30" if france else "10,20,30"), "--thresholds"),
                "target_min": target,
            },
        }
        with _options():
            chosen = {"language": lang, "csv_format": csv_format, "formats": _formats(formats)}
            raw.update({k: v for k, v in chosen.items() if v is not None})
            scenario = validated(Scenario, raw, source="settings")
        if france:
            _execute_national(scenario, out, force)
        else:
            _execute(scenario, out, force=force)

    _guarded(debug, work)


@app.command()
def run(  # noqa: PLR0913 (typer: one parameter per command-line option)
    scenario_file: Annotated[Path, typer.Argument(help="Scenario YAML file, e.g. scenarios/lozere-coverage.yaml.")],
    out: OutOption = None,
    time_limit: TimeLimitOption = None,
    seed: SeedOption = None,
    force: ForceOption = False,
    cache_dir: CacheOption = None,
    lang: LangOption = None,
    csv_format: CsvFormatOption = None,
    formats: FormatsOption = None,
    departements: Annotated[
        str | None,
        typer.Option(help="Run on each of these départements (12,15,48 or all), one Dask task each, into OUT/<code>/."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="With --departements: local Dask worker processes (default: one per core)."),
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="With --departements: a running Dask scheduler, e.g. tcp://host:8786.")
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Run a scenario file (see the scenario format in the README).

    Example: maillage run scenarios/lozere-coverage.yaml --out outputs/lozere

    Every département, on a local Dask cluster (a restart skips the départements already complete):
    maillage run scenarios/departements-siting.yaml --departements all --workers 2 --out outputs/france
    """

    failed = 0

    def work() -> None:
        nonlocal failed
        scenario = _overridden(load_scenario(scenario_file), lang, time_limit, seed, cache_dir, csv_format, formats)
        if departements:
            failed = _execute_fanout(scenario, departements, out, scenario_file, workers, scheduler, force)
        elif workers or scheduler:
            raise InputError.one("--workers/--scheduler", "", "only apply with --departements")
        else:
            _execute(scenario, out, scenario_file, force)

    _guarded(debug, work, interruptible=not departements)  # Dask keeps its own threads and signals
    if failed:  # the other départements are complete; a rerun retries only the failed ones
        raise typer.Exit(1)


def _solving_command(name: str, section: str, example: str, doc: str) -> None:
    """Register ``maillage NAME [SCENARIO_FILE]``: a scenario file that must have ``section``, run whole."""

    def command(  # noqa: PLR0913 (typer: one parameter per command-line option)
        scenario_file: Path = Path(example),
        out: OutOption = None,
        time_limit: TimeLimitOption = None,
        seed: SeedOption = None,
        force: ForceOption = False,
        cache_dir: CacheOption = None,
        lang: LangOption = None,
        csv_format: CsvFormatOption = None,
        formats: FormatsOption = None,
        debug: DebugOption = False,
    ) -> None:
        def work() -> None:
            scenario = _scenario_with(scenario_file, section, example)
            _execute(
                _overridden(scenario, lang, time_limit, seed, cache_dir, csv_format, formats), out, scenario_file, force
            )

        _guarded(debug, work)

    command.__doc__ = doc
    help_text = f"Scenario YAML file with a {section}: section."  # typer reads the help from the annotation
    command.__annotations__["scenario_file"] = Annotated[Path, typer.Argument(help=help_text)]
    app.command(name)(command)


_solving_command(
    "rounds",
    "rounds",
    "scenarios/lozere-bus.yaml",
    """Plan the weekly rounds of mobile service trucks (and measure coverage with their stops).

    The scenario's other sections (siting, rooms) run too.

    Writes, per truck: itineraire.csv, itineraire.ics, feuille-de-route.html, tournees.geojson;
    and routes.geojson, stops.geojson, stops_left_out.csv, map.html for the whole fleet.

    Example: maillage rounds scenarios/lozere-bus.yaml --time-limit 30 --out outputs/bus
    """,
)
_solving_command(
    "rooms",
    "rooms",
    "scenarios/lozere-rooms.yaml",
    """Book rooms in premises for itinerant providers' weekly sessions (and measure coverage).

    The scenario's other sections (siting, rounds) run too.

    Example: maillage rooms scenarios/lozere-rooms.yaml --time-limit 30 --out outputs/rooms
    """,
)
_solving_command(
    "markets",
    "markets",
    "scenarios/lozere-markets.yaml",
    """Plan service markets: the trucks' rounds and the providers' sessions together, so services meet at one
    place on the same half-day, against the same rounds and rooms planned separately.

    Writes markets/: marches.csv, marches.geojson, a poster (affiche.html) and a calendar feed
    (calendrier.ics) per market place, the joint plan's rounds and sessions, and the before/after
    measures in summary.json.

    Example: maillage markets scenarios/lozere-markets.yaml --time-limit 30 --out outputs/markets
    """,
)
_solving_command(
    "site",
    "siting",
    "scenarios/lozere-plan.yaml",
    """Choose which premises to open (MCLP, LSCP, p-median or p-center), then the scenario's other stages.

    Writes siting/chosen_sites.geojson, chosen_sites.csv, tradeoff.csv (people within reach as the
    number of sites grows) and map.html, besides the coverage outputs.

    Example: maillage site scenarios/lozere-plan.yaml --time-limit 30 --out outputs/plan
    """,
)


@app.command()
def departements() -> None:
    """List the départements of the packaged data (code, name, région)."""
    from planner.data.france import departements as table

    for _, row in table().iterrows():
        typer.echo(f"{row['code']:>3}  {row['name']}")


@app.command("app")
def app_command(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    debug: DebugOption = False,
) -> None:
    """Start the web app (coverage, rounds, my week, plan) on http://ADDRESS:PORT, offline.

    The libraries and the default territory are loaded before the server starts, so the first
    visitor's map appears as fast as the next ones'. Stop with Ctrl+C.
    """
    from planner.app.server import serve

    console.print(f"Maillage : chargement, puis http://{address}:{port} (Ctrl+C pour arrêter)")
    _guarded(debug, lambda: serve(port, address), interruptible=False)  # Streamlit handles its signals


# --- The platform: published plans in a database, personal links, the HTTP service ----------------------

PUBLIC_URL = "http://127.0.0.1:8502"
people_app = typer.Typer(help="The people of published plans and their personal links.", no_args_is_help=True)
app.add_typer(people_app, name="people")
appointments_app = typer.Typer(help="Residents' appointments in the published sessions.", no_args_is_help=True)
app.add_typer(appointments_app, name="appointments")
planners_app = typer.Typer(help="Planners: who signs in to mark people unavailable and re-plan.", no_args_is_help=True)
app.add_typer(planners_app, name="planners")
TerritoryOption = Annotated[
    str | None, typer.Option("--territory", help="Territory name (default: the scenario's name in run.json).")
]
BaseUrlOption = Annotated[
    str,
    typer.Option(
        "--base-url", envvar="MAILLAGE_PUBLIC_URL", help="Address of `maillage serve` as people reach it, for links."
    ),
]


def _link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/p/{token}"


def _changes_text(changes: PersonChanges) -> str:
    if not changes:
        return "inchangé"
    dates = f", {len(changes.dates)} date(s) changée(s)" if changes.dates else ""
    return f"{len(changes.added)} ajouté(s), {len(changes.moved)} déplacé(s), {len(changes.cancelled)} annulé(s){dates}"


@app.command()
def publish(
    run_folders: Annotated[
        list[Path], typer.Argument(help="Run folders written by maillage rounds, rooms or run (one version).")
    ],
    territory: TerritoryOption = None,
    by: Annotated[str | None, typer.Option("--by", help="Who publishes (default: the system user).")] = None,
    days: Annotated[int, typer.Option("--days", min=1, help="Days a new personal link stays valid.")] = 365,
    new_links: Annotated[bool, typer.Option("--new-links", help="Issue a new link to everyone.")] = False,
    base_url: BaseUrlOption = PUBLIC_URL,
    debug: DebugOption = False,
) -> None:
    """Publish a run as the next version (v1, v2…) of the territory's plan, in the database.

    Creates or updates each truck's crew, each provider and each premises owner, prints the personal
    link of everyone who has no valid one yet (links are stored hashed: they are shown once), and what
    changed for each person since the previous version. The database is MAILLAGE_DATABASE_URL, else the
    embedded SQLite file in the user data folder.

    Several folders (e.g. a territory's bus rounds and its providers' rooms) make one version together.

    Example: maillage publish outputs/lozere-bus outputs/lozere-rooms --territory Lozère
    """
    import getpass

    from planner.platform import db
    from planner.platform.publish import publish as publish_run
    from planner.platform.publish import read_runs

    def work() -> None:
        content = read_runs(run_folders)
        sessions = db.open_database()
        lines = []
        with db.transaction(sessions) as session:  # committed before anything is printed
            done = publish_run(
                session, content, territory=territory, by=by or getpass.getuser(), link_days=days, new_links=new_links
            )
            plan = done.plan
            events = len(content.events)
            lines.append(f"{plan.territory.name} : version {plan.version} publiée ({events} arrêts et permanences)")
            for person, token, changes in done.people:
                what = _changes_text(changes)
                link = _link(base_url, token) if token else "lien inchangé"
                lines.append(f"  [{person.id}] {person.kind} {person.ref} — {person.name} : {what}\n      {link}")
        typer.echo("\n".join(lines))

    _guarded(debug, work)


@people_app.command("list")
def people_list(territory: TerritoryOption = None) -> None:
    """List people (id, kind, reference, name, valid links) of every territory or of one."""
    from sqlalchemy import select

    from planner.platform import db, tokens
    from planner.platform.models import Person, Territory

    with db.open_database()() as session:
        query = select(Person).join(Territory).order_by(Territory.name, Person.kind, Person.ref)
        if territory:
            query = query.where(Territory.name == territory)
        for person in session.scalars(query):
            valid = "lien valide" if tokens.has_valid_link(session, person) else "pas de lien valide"
            typer.echo(f"[{person.id}] {person.territory.name} · {person.kind} {person.ref} — {person.name} ({valid})")


def _territory(session: Session, name: str) -> Territory:
    from sqlalchemy import select

    from planner.platform.models import Territory

    found = session.scalar(select(Territory).where(Territory.name == name))
    if found is None:
        raise InputError.one("--territory", name, "no such territory", "publish a plan first")
    return found


def _one_person(session: Session, person_id: int) -> Person:
    from planner.platform.models import Person

    found = session.get(Person, person_id)
    if found is None:
        raise InputError.one("PERSON_ID", str(person_id), "no such person", "see `maillage people list`")
    return found


@people_app.command("revoke")
def people_revoke(
    person_id: Annotated[int, typer.Argument(help="The person's number, from `maillage people list`.")],
    debug: DebugOption = False,
) -> None:
    """Revoke every personal link of a person: their page and feed stop opening at once."""
    from planner.platform import db, tokens

    def work() -> None:
        with db.transaction(db.open_database()) as session:
            person = _one_person(session, person_id)
            count = tokens.revoke(session, person)
            typer.echo(f"{count} lien(s) révoqué(s) pour {person.name}")

    _guarded(debug, work)


@people_app.command("link")
def people_link(
    person_id: Annotated[int, typer.Argument(help="The person's number, from `maillage people list`.")],
    days: Annotated[int, typer.Option("--days", min=1, help="Days the link stays valid.")] = 365,
    base_url: BaseUrlOption = PUBLIC_URL,
    debug: DebugOption = False,
) -> None:
    """Issue a new personal link to a person (revoke the old ones with `maillage people revoke`)."""
    from planner.platform import db, tokens

    def work() -> None:
        with db.transaction(db.open_database()) as session:
            person = _one_person(session, person_id)
            typer.echo(_link(base_url, tokens.issue(session, person, days=days)))

    _guarded(debug, work)


@app.command("unavailable")
def unavailable(
    person_id: Annotated[int, typer.Argument(help="The person's number, from `maillage people list`.")],
    day: Annotated[
        datetime | None,
        typer.Option("--day", formats=["%Y-%m-%d"], help="The date a provider or crew cannot work (YYYY-MM-DD)."),
    ] = None,
    first: Annotated[
        datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First date of a range off (with --to)."),
    ] = None,
    last: Annotated[
        datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Last date of a range off (with --from), included."),
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (day off, broken-down bus…).")] = "",
    by: Annotated[str | None, typer.Option("--by", help="Who declares (default: the system user).")] = None,
    debug: DebugOption = False,
) -> None:
    """Declare a provider's or crew's date off (or range of dates), or a premises owner's room withdrawn
    (no date), for `maillage replan`: only the sessions and stops on those dates move.

    Example: maillage unavailable 12 --day 2027-01-05 --reason "bus en panne"
    """
    import getpass

    from planner.platform import db, replan

    def work() -> None:
        if day is not None and (first or last):
            raise InputError.one("--day", day.date().isoformat(), "given with --from/--to", "give one or the other")
        if (first is None) != (last is None):
            raise InputError.one("--from/--to", "", "a range needs both", "give --from and --to")
        start = day or first
        until = last.date() if last else None
        with db.transaction(db.open_database()) as session:
            person = _one_person(session, person_id)
            who = by or getpass.getuser()
            found = replan.declare(session, person, start.date() if start else None, by=who, reason=reason, until=until)
            dates = [d.day.isoformat() for d in found if d.day]
            when = (dates[0] if len(dates) == 1 else f"du {dates[0]} au {dates[-1]}") if dates else "définitivement"
            typer.echo(f"{person.name} : indisponible {when} — à prendre en compte par `maillage replan`")

    _guarded(debug, work)


@app.command("replan")
def replan_command(
    territory: Annotated[str, typer.Option("--territory", help="Territory name.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder of the re-run parts (default: outputs/<territory>-replan-<time>)."),
    ] = None,
    time_limit: TimeLimitOption = None,
    by: Annotated[str | None, typer.Option("--by", help="Who publishes (default: the system user).")] = None,
    base_url: BaseUrlOption = PUBLIC_URL,
    debug: DebugOption = False,
) -> None:
    """Re-plan the newest version around the declared unavailabilities, with as few changes as possible,
    and publish it as the next version; print who is affected and what became of residents' appointments.

    Example: maillage replan --territory Lozère
    """
    import getpass

    from planner.platform import db
    from planner.platform.replan import replan

    def work() -> None:
        sessions = db.open_database()
        folder = out or default_out(f"{territory}-replan")
        with db.transaction(sessions) as session:
            done = replan(
                session,
                territory,
                out=folder,
                by=by or getpass.getuser(),
                time_limit_s=time_limit,
                progress=lambda step: console.print(escape(step)),
            )
            plan = done.publication.plan
            levels = ", ".join(f"{part} : {level}" for part, level in done.levels.items())
            lines = [f"{territory} : version {plan.version} publiée ({levels})"]
            for person, token, changes in done.publication.people:
                if not changes and token is None:
                    continue
                what = _changes_text(changes)
                link = _link(base_url, token) if token else "lien inchangé"
                lines.append(f"  [{person.id}] {person.kind} {person.ref} — {person.name} : {what} ({link})")
            for changed in done.dates:
                what = (
                    f"-> {changed.day.isoformat()} {changed.start} {changed.location}"
                    if changed.status == "CONFIRMED"
                    else "annulé"
                )
                lines.append(f"  {changed.uid} du {changed.occurrence.isoformat()} : {what}")
            for item in done.appointments:
                after = f" -> {item.after[0].isoformat()} {item.after[1]}" if item.after else ""
                contact = "contact laissé" if item.reachable else "sans contact : prévenu sur sa page"
                lines.append(
                    f"  rendez-vous {item.reference} {item.before[0].isoformat()} {item.before[1]}{after} : "
                    f"{'déplacé' if item.outcome == 'moved' else 'annulé'} ({contact})"
                )
        typer.echo("\n".join(lines))

    _guarded(debug, work)


@planners_app.command("add")
def planners_add(
    territory: Annotated[str, typer.Option("--territory", help="Territory name (publish a plan first).")],
    login: Annotated[str, typer.Option("--login", help="What the planner types to sign in.")],
    name: Annotated[str, typer.Option("--name", help="Full name shown on the pages.")] = "",
    password: Annotated[
        str,
        typer.Option(
            "--password",
            envvar="MAILLAGE_PLANNER_PASSWORD",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="12 characters at least; asked when not given (stored as an Argon2id hash).",
        ),
    ] = "",
    debug: DebugOption = False,
) -> None:
    """Add a planner of a territory (or set their password): they sign in at /planner/login of `maillage serve`."""

    from planner.platform import db
    from planner.platform.planners import add_planner

    def work() -> None:
        with db.transaction(db.open_database()) as session:
            place = _territory(session, territory)
            found = add_planner(session, place, login, name, password)
            typer.echo(f"[{found.id}] planificateur·rice {found.ref} de {territory}")

    _guarded(debug, work)


@app.command("postgis")
def postgis_command(
    run_folder: Annotated[
        Path, typer.Argument(help="A run folder written by maillage run, coverage, rounds or rooms.")
    ],
    to: Annotated[str, typer.Option("--to", help="postgresql://user@host/base#schema (PostGIS).")],
    debug: DebugOption = False,
) -> None:
    """Write a run's layers (zones and access times, gaps, services, stops, routes…) into a PostGIS schema,
    one table per layer with its geometry registered: QGIS lists and opens them directly.

    Example: maillage postgis outputs/lozere-bus --to postgresql://sig@serveur/territoire#maillage
    """
    from planner.platform.postgis import write_layers

    def work() -> None:
        written = write_layers(run_folder, to)
        typer.echo(f"{len(written)} couche(s) écrite(s) : {', '.join(written)}")

    _guarded(debug, work)


@appointments_app.command("purge")
def appointments_purge(
    days: Annotated[
        int, typer.Option("--days", min=0, help="Delete appointments whose day is more than this many days ago.")
    ] = 30,
    debug: DebugOption = False,
) -> None:
    """Delete residents' appointments past their retention period (also done when `maillage serve` starts)."""
    from planner.platform import appointments, db

    def work() -> None:
        with db.transaction(db.open_database()) as session:
            count = appointments.purge(session, days=days)
        typer.echo(f"{count} rendez-vous supprimé(s) (plus de {days} jours après leur date)")

    _guarded(debug, work)


@appointments_app.command("slots")
def appointments_slots(
    territory: Annotated[str, typer.Option("--territory", help="Territory name.")],
    service: Annotated[str, typer.Option("--service", help="Service, as in rooms/reservations.csv (e.g. social).")],
    minutes: Annotated[int, typer.Option("--minutes", min=5, max=480, help="Length of a slot.")] = 30,
    capacity: Annotated[int, typer.Option("--capacity", min=1, max=100, help="Residents per slot.")] = 1,
    debug: DebugOption = False,
) -> None:
    """Set how a service's sessions are cut into appointment slots (default: 30 minutes, one resident)."""

    from planner.platform import appointments, db

    def work() -> None:
        with db.transaction(db.open_database()) as session:
            place = _territory(session, territory)
            appointments.set_slot_rule(session, place.id, service, minutes, capacity)
        typer.echo(f"{territory} · {service} : créneaux de {minutes} min, {capacity} personne(s)")

    _guarded(debug, work)


@app.command("serve")
def serve_command(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8502,
    address: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="Processes (each keeps its own cache and booking limit).")
    ] = 1,
    debug: DebugOption = False,
) -> None:
    """Serve each person's page (/p/TOKEN) and calendar feed (/p/TOKEN/calendar.ics) over HTTP.

    Reads the database of `maillage publish`. Put it behind an HTTPS reverse proxy to reach it from
    elsewhere. Stop with Ctrl+C.
    """
    from planner.platform.service import serve

    console.print(f"Maillage : liens personnels sur http://{address}:{port} (Ctrl+C pour arrêter)")
    _guarded(debug, lambda: serve(port, address, workers))


if __name__ == "__main__":
    app()
