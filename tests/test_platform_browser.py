"""The platform's Done-when in headless Debian chromium, on a real ``uvicorn`` of ``maillage serve``'s app:
a provider's link shows her week; a resident books a slot; the provider's feed shows the booking; a planner
signs in, marks the provider unavailable that day and re-plans (the real rooms model); the feed shows that
date of the session moved with a higher SEQUENCE (or cancelled), the series unchanged, and the resident's
appointment page the notice."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import icalendar
import pytest
from typer.testing import CliRunner

from planner.cli import app as cli_app
from tests._bench import load_bench
from tests.test_browser import browser  # noqa: F401  (the module's chromium fixture)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "lozere-rooms.yaml"
TUESDAY = "2027-01-05"
PASSWORD = "un mot de passe assez long"
LINK = re.compile(r"\[\d+\] provider (\S+) — .*\n\s+http://[^/]+(/p/[A-Za-z0-9_-]{43})")

pytestmark = pytest.mark.slow
platform_load = load_bench("platform_load")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """The Lozère rooms solved and published in a fresh SQLite file, a planner, and the service running on it:
    its address, the provider's ref and her link's path."""
    work = tmp_path_factory.mktemp("platform")
    url = f"sqlite:///{work / 'maillage.sqlite3'}"
    env = {**os.environ, "MAILLAGE_DATABASE_URL": url}
    runner = CliRunner()
    rooms = work / "lozere-rooms"
    done = runner.invoke(cli_app, ["rooms", str(SCENARIO), "--out", str(rooms), "--time-limit", "5"], env=env)
    assert done.exit_code == 0, done.output
    tuesday = [line.split(";")[0] for line in (rooms / "rooms" / "reservations.csv").read_text("utf-8-sig").splitlines()
               if f";{TUESDAY};" in line]  # fmt: skip
    published = runner.invoke(cli_app, ["publish", str(rooms), "--territory", "Lozère"], env=env)
    assert published.exit_code == 0, published.output
    links = dict(LINK.findall(published.output))
    added = runner.invoke(
        cli_app, ["planners", "add", "--territory", "Lozère", "--login", "marie", "--password", PASSWORD], env=env
    )
    assert added.exit_code == 0, added.output
    server, base = platform_load.start_service(url, {}, cwd=work)
    try:
        yield base, tuesday[0], links[tuesday[0]]
    finally:
        server.terminate()
        server.wait(timeout=30)


def _feed(base: str, link: str) -> dict[str, icalendar.cal.Component]:
    """A feed's series by UID, and the single dates changed alone by ``UID@YYYY-MM-DD`` (their RECURRENCE-ID)."""
    body = httpx.get(f"{base}{link}/calendar.ics", timeout=10)
    assert body.status_code == 200 and body.headers["content-type"].startswith("text/calendar")
    return {
        str(e["UID"]) + (f"@{e.decoded('RECURRENCE-ID').date()}" if "RECURRENCE-ID" in e else ""): e
        for e in icalendar.Calendar.from_ical(body.content).walk("VEVENT")
    }


def test_book_then_replan_around_a_day_off(browser: Browser, platform: tuple[str, str, str]) -> None:  # noqa: F811
    base, provider, link = platform
    page = browser.new_page(locale="fr-FR")  # a French browser: the pages answer in French
    page.goto(f"{base}{link}")
    name = page.locator("h1").inner_text()
    assert "Intervenant" in name and "mardi 05/01/2027" in page.content()
    before = _feed(base, link)
    rows = page.locator("table tr", has_text="–").all_inner_texts()
    assert len(rows) == len(before)  # her week, row for row her feed: nobody else's sessions
    shown = sorted(tuple(r.split("\t")[1:3]) for r in rows)  # what (service), where (premises, room, address)
    assert sorted((str(e["SUMMARY"]).split(" — ")[0], str(e["LOCATION"])) for e in before.values()) == shown
    tuesday = [u for u, e in before.items() if e.decoded("DTSTART").date().isoformat() == TUESDAY]
    assert tuesday
    page.goto(f"{base}/rdv/1")  # the resident: the territory's public booking page, then her Tuesday session
    summary = str(before[tuesday[0]]["LOCATION"])  # the list: each session's service, then its place
    hrefs = [a.get_attribute("href") for a in page.locator("li", has_text=summary).locator("a").all()]
    for href in hrefs:
        page.goto(f"{base}{href}")
        if page.locator("legend", has_text="05/01/2027").count():
            break
    else:
        pytest.fail(f"no session {summary!r} on {TUESDAY} among {hrefs}")
    page.locator("fieldset", has_text="05/01/2027").locator("input[type=radio]").nth(1).check()
    page.fill("input[name=email]", "habitant@example.org")
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Rendez-vous réservé"
    reference = page.locator("p.ok").inner_text().split(": ", 1)[1]
    appointment = page.locator("a[href^='/a/']").get_attribute("href")
    booked = _feed(base, link)
    uid = next(u for u in tuesday if "05/01/2027 : 1" in str(booked[u].get("DESCRIPTION")))
    sequence = int(str(booked[uid]["SEQUENCE"]))

    page.goto(f"{base}/planner")  # the planner: refused until signed in
    assert page.url.endswith("/planner/login")
    page.fill("input[name=login]", "marie")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    assert page.url.endswith("/planner")
    option = page.locator("select[name=person] option", has_text=f"({provider})")
    page.select_option("select[name=person]", option.get_attribute("value"))
    page.fill("input[name=day]", TUESDAY)
    page.fill("input[name=reason]", "jour de congé")
    page.locator("form[action='/planner/unavailable'] button").click()
    assert "Indisponibilité enregistrée" in page.locator("#message").inner_text()
    page.locator("form[action='/planner/replan'] button").click()
    page.wait_for_selector("#message", timeout=120_000)
    assert "Version 2 publiée" in page.locator("#message").inner_text()

    after = _feed(base, link)
    assert int(str(after[uid]["SEQUENCE"])) == sequence  # the series, and its other dates: unchanged
    date = after[f"{uid}@{TUESDAY}"]  # that Tuesday alone: moved in its week, or cancelled
    assert int(str(date["SEQUENCE"])) > sequence
    moved = str(date.get("STATUS")) == "CANCELLED" or date.decoded("DTSTART").date().isoformat() != TUESDAY
    assert moved
    page.goto(f"{base}{appointment}")
    text = page.content()
    assert reference in text and ("déplacé" in text or "annulé" in text)
    page.goto(f"{base}{link}")
    assert "version 2" in page.content()
    assert page.locator("h2", has_text="Changements à une date").count() == 1
    assert page.locator("tr", has_text="05/01/2027").count() == 1  # that Tuesday, changed alone
