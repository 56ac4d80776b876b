"""Maps as PNG and PDF, sheets as PDF: the HTML pages of a run drawn by a headless Chromium (Playwright).

The pages are self-contained (Leaflet inlined, see :func:`planner.exports.maps.standalone_html`), so
every request to the network is refused: a rendering is the same offline and online, the background
tiles left out (the zones, their names and the markers carry the map). Chromium is the system's
(``/usr/bin/chromium`` on Debian, or ``MAILLAGE_CHROMIUM``); Playwright only drives it, it downloads
nothing.

* :func:`map_png`, :func:`map_pdf`: a map page as an image, and as one landscape A4 page holding it;
* :func:`sheet_pdf`: a printable sheet as Chromium prints it (its ``@page`` rules and page breaks kept);
* :func:`write_renderings`: the PNG and PDF beside each map and sheet of a run folder.
"""

from __future__ import annotations

import base64
import os
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from planner._errors import InputError

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

T = TypeVar("T")
RENDERED = ("png", "pdf")  # the output formats this module writes
MAP_SIZE = {"width": 1400, "height": 900}  # pixels of a map image
MAP_DRAWN = ".leaflet-overlay-pane svg, .leaflet-overlay-pane canvas, .leaflet-marker-pane > *"  # SVG or canvas maps
DRAW_TIMEOUT_MS = 30_000
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
_PDF_PAGE = (
    '<!doctype html><html><head><meta charset="utf-8"><style>@page {{ size: A4 landscape; margin: 8mm }}'
    "body {{ margin: 0 }} img {{ width: 100%; max-height: 190mm; object-fit: contain }}</style></head>"
    '<body><img src="data:image/png;base64,{image}"></body></html>'
)


def chromium() -> str:
    """The Chromium that renders: ``MAILLAGE_CHROMIUM``, else ``chromium`` (or ``chromium-browser``) on the PATH.

    Raises :class:`InputError` naming the fix when there is none (PNG and PDF were asked for).
    """
    chosen = os.environ.get("MAILLAGE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chosen or not Path(chosen).exists():
        raise InputError.one(
            "formats",
            "png/pdf",
            "PNG and PDF are drawn by Chromium, which was not found",
            hint="install it (Debian: apt-get install chromium) or set MAILLAGE_CHROMIUM to its path",
        )
    return chosen


def available() -> bool:
    """Whether PNG and PDF can be drawn here (a Chromium is found): the app offers them only then."""
    try:
        chromium()
    except InputError:
        return False
    return True


def _in_thread(work: Callable[[], T]) -> T:
    """``work()`` in a thread of its own: Playwright's sync API refuses a thread that runs an event loop."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed back to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=target, name="maillage-render")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


@contextmanager
def _browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    executable = chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _offline_page(browser: Browser, html: str, *, width: int, height: int) -> Page:
    """A page showing ``html`` with every network request refused."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.route("**/*", lambda route: route.abort())
    page.set_content(html, wait_until="load")
    return page


def _map_png(browser: Browser, html: str) -> bytes:
    page = _offline_page(browser, html, **MAP_SIZE)
    try:
        page.wait_for_selector(MAP_DRAWN, state="attached", timeout=DRAW_TIMEOUT_MS)
        return page.screenshot(type="png")
    finally:
        page.close()


def _pdf(browser: Browser, html: str) -> bytes:
    page = _offline_page(browser, html, width=1200, height=900)
    try:
        return page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    finally:
        page.close()


def _image_page(png: bytes) -> str:
    return _PDF_PAGE.format(image=base64.b64encode(png).decode("ascii"))


def map_png(html: str) -> bytes:
    """The map page ``html`` as a PNG image of ``MAP_SIZE`` (legend, caption and attribution included)."""
    return _in_thread(lambda: _with_browser(lambda b: _map_png(b, html)))


def map_pdf(html: str) -> bytes:
    """The map page ``html`` as a one-page landscape A4 PDF (the image of :func:`map_png`)."""
    return _in_thread(lambda: _with_browser(lambda b: _pdf(b, _image_page(_map_png(b, html)))))


def sheet_pdf(html: str) -> bytes:
    """A printable sheet as a PDF, one A4 page per week as its print style says."""
    return _in_thread(lambda: _with_browser(lambda b: _pdf(b, html)))


def _with_browser(work: Callable[[Browser], T]) -> T:
    with _browser() as browser:
        return work(browser)


def write_renderings(folder: Path, files: list[str], formats: Sequence[str]) -> list[str]:
    """Beside each HTML map of ``files`` (relative to ``folder``) its ``.png`` and ``.pdf``, beside each
    sheet its ``.pdf``, as ``formats`` asks; the names written. One Chromium draws them all."""
    wanted = [f for f in RENDERED if f in formats]
    pages = [name for name in files if name.endswith(".html")]
    if not wanted or not pages:
        return []

    def draw(browser: Browser) -> list[str]:
        written = []
        for name in pages:
            source = folder / name
            html = source.read_text(encoding="utf-8")
            if source.name == "map.html":  # the maps; the other pages are sheets
                png = _map_png(browser, html)
                outputs = {"png": png, "pdf": _pdf(browser, _image_page(png)) if "pdf" in wanted else b""}
            elif "pdf" in wanted:
                outputs = {"pdf": _pdf(browser, html)}
            else:
                continue
            for kind in wanted:
                if kind in outputs:
                    source.with_suffix(f".{kind}").write_bytes(outputs[kind])
                    written.append(str(Path(name).with_suffix(f".{kind}")))
        return written

    return _in_thread(lambda: _with_browser(draw))
