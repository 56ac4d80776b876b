"""Start the Streamlit app with its heavy work done before the first visitor arrives.

``streamlit run app.py`` imports the app's libraries (GeoPandas, folium, OR-Tools, pandas...) only
when the first browser connects, so the first visitor waits for them. ``maillage app`` imports them
and reads the embedded territory first, then starts the same Streamlit server in this process: the
first map appears as fast as any later one (``bench/RESULTS.md``, "App: first map render").
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from planner._errors import InputError

APP = Path(__file__).resolve().parents[2] / "app.py"
# What the coverage page (the landing page) imports, directly or on its first run.
WARM_MODULES = (
    "geopandas",
    "folium",
    "planner.app.coverage",
    "planner.jobs.coverage",
    "planner.exports.maps",
    "planner.data.france",
)


def warm_up() -> None:
    """Import the landing page's libraries and read the embedded default territory once."""
    for name in WARM_MODULES:
        importlib.import_module(name)
    from planner.jobs.inputs import build_territory
    from planner.scenario import Scenario

    build_territory(Scenario(name="warm-up"))


def serve(port: int, address: str) -> None:
    """Warm up, then run the Streamlit server for ``app.py`` until interrupted (blocking)."""
    if not APP.exists():
        raise InputError.one(str(APP), "", "the Streamlit app is not there", hint="run from a clone of Maillage")
    warm_up()
    from streamlit.web import bootstrap

    os.chdir(APP.parent)  # Streamlit reads .streamlit/config.toml from the working folder

    # No file watching: the modules imported above stay as they are (a watcher reloading them under
    # running sessions breaks their imports), and no CPU goes to polling the source tree.
    flags = {"server_port": port, "server_address": address, "server_headless": True, "server_fileWatcherType": "none"}
    bootstrap.load_config_options(flag_options=flags)
    bootstrap.run(str(APP), False, [], flags)
