"""Planners' sign-in on both back-ends: planner pages refused without it, wrong passwords and forged cookies
refused, a password change signs browsers out, posts need the form token, a planner acts on their own
territory's people only; ``maillage planners add``."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from planner._errors import InputError
from planner.cli import app as cli_app
from planner.i18n import LABELS, label
from planner.platform import db
from planner.platform.models import Person, Territory, Unavailability
from planner.platform.planners import COOKIE, add_planner
from planner.platform.publish import publish, read_run
from planner.platform.service import create_app
from tests.platform_runs import run_folder

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PASSWORD = "correct horse battery"


@pytest.fixture
def service(database_url: str, tmp_path: Path):
    """Two territories published, a planner of the first; the service's client and the sessions."""
    sessions = db.open_database(database_url)
    with db.transaction(sessions) as session:
        publish(session, read_run(run_folder(tmp_path / "a")), by="test")
        publish(session, read_run(run_folder(tmp_path / "b", name="Ailleurs")), by="test")
        place = session.scalars(select(Territory).where(Territory.name == "Lozère")).one()
        add_planner(session, place, "marie", "Marie Planificatrice", PASSWORD)
    with TestClient(create_app(sessions, booking_limit=(1000, 60.0))) as client:
        yield client, sessions
    sessions.kw["bind"].dispose()


def _sign_in(client: TestClient, password: str = PASSWORD, login: str = "marie"):
    form = client.get("/planner/login")
    token = CSRF.search(form.text)
    assert token is not None
    return client.post(
        "/planner/login", data={"login": login, "password": password, "csrf": token.group(1)}, follow_redirects=False
    )


def test_planner_pages_need_a_sign_in(service) -> None:
    client, sessions = service
    home = client.get("/planner", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/planner/login"
    assert client.post("/planner/unavailable", data={"person": "1", "day": "2027-01-05"}).status_code == 403
    assert client.post("/planner/replan", data={}).status_code == 403
    assert _sign_in(client, "wrong password!").status_code == 401
    assert _sign_in(client, PASSWORD, "' OR 1=1 --").status_code == 401
    client.cookies.set(COOKIE, "forged.cookie.value")
    assert client.get("/planner", follow_redirects=False).status_code == 303
    client.cookies.delete(COOKIE)
    signed = _sign_in(client)
    assert signed.status_code == 303 and COOKIE in signed.cookies
    page = client.get("/planner")
    assert page.status_code == 200 and "Marie Planificatrice" in page.text
    with db.transaction(sessions) as session:  # a new password signs every browser out
        place = session.scalars(select(Territory).where(Territory.name == "Lozère")).one()
        add_planner(session, place, "marie", "Marie Planificatrice", "another long password")
    assert client.get("/planner", follow_redirects=False).status_code == 303


def test_a_planner_declares_for_their_own_territory_only(service) -> None:
    client, sessions = service
    assert _sign_in(client).status_code == 303
    page = client.get("/planner")
    csrf = CSRF.search(page.text)
    assert csrf is not None
    with sessions() as session:
        mine = session.scalars(
            select(Person).join(Territory).where(Territory.name == "Lozère", Person.kind == "provider")
        ).first()
        theirs = session.scalars(
            select(Person).join(Territory).where(Territory.name == "Ailleurs", Person.kind == "provider")
        ).first()
        assert mine is not None and theirs is not None
    url = "/planner/unavailable"
    assert client.post(url, data={"person": str(mine.id), "day": "2027-01-05", "csrf": "forged"}).status_code == 403
    assert (
        client.post(url, data={"person": str(theirs.id), "day": "2027-01-05", "csrf": csrf.group(1)}).status_code == 404
    )
    bad = client.post(url, data={"person": str(mine.id), "day": "05/01/2027", "csrf": csrf.group(1)})
    assert bad.status_code == 400 and "Date non reconnue" in bad.text
    ok = client.post(
        url, data={"person": str(mine.id), "day": "2027-01-05", "reason": "<b>congé</b>", "csrf": csrf.group(1)}
    )
    assert ok.status_code == 200 and "&lt;b&gt;congé&lt;/b&gt;" in ok.text and "<b>congé" not in ok.text
    with sessions() as session:
        stored = session.scalars(select(Unavailability)).one()
        assert (stored.person_id, stored.declared_by, stored.replanned_in) == (mine.id, "planner:marie", None)


def test_short_passwords_and_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(db.ENV_URL, f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    assert runner.invoke(cli_app, ["publish", str(run_folder(tmp_path / "v1"))]).exit_code == 0
    with db.transaction(db.open_database()) as session, pytest.raises(InputError, match="too short"):
        add_planner(session, session.scalars(select(Territory)).one(), "x", "", "short")
    args = ["planners", "add", "--territory", "Lozère", "--login", "marie"]
    assert runner.invoke(cli_app, [*args, "--password", "short"]).exit_code == 2
    assert (
        runner.invoke(
            cli_app, ["planners", "add", "--territory", "Nowhere", "--login", "m", "--password", PASSWORD]
        ).exit_code
        == 2
    )
    done = runner.invoke(cli_app, args, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert done.exit_code == 0, done.output
    with db.open_database()() as session:
        stored = session.scalars(select(Person).where(Person.kind == "planner")).one()
        assert (
            stored.password_hash
            and stored.password_hash.startswith("$argon2id$")
            and PASSWORD not in stored.password_hash
        )


def test_people_declare_by_their_own_link(database_url: str, tmp_path: Path) -> None:
    sessions = db.open_database(database_url)
    with db.transaction(sessions) as session:
        done = publish(session, read_run(run_folder(tmp_path / "v1")), by="test")
        links = {(p.kind, p.ref): link for p, link, _ in done.people}
    provider = links["provider", "assistante-sociale"]
    owner = next(link for (kind, _), link in links.items() if kind == "premises_owner")
    with TestClient(create_app(sessions, booking_limit=(1000, 60.0))) as client:
        week = client.get(f"/p/{provider}")
        assert f'href="/p/{provider}/indisponible"' in week.text
        assert client.get("/p/" + "A" * 43 + "/indisponible").status_code == 404
        form = client.get(f"/p/{provider}/indisponible")
        token = CSRF.search(form.text)
        assert form.status_code == 200 and token is not None and 'type="date"' in form.text
        url = f"/p/{provider}/indisponible"
        assert client.post(url, data={"day": "2027-01-05", "csrf": "forged"}).status_code == 403
        other = CSRF.search(client.get(f"/p/{owner}/indisponible").text)
        assert other is not None
        assert client.post(url, data={"day": "2027-01-05", "csrf": other.group(1)}).status_code == 403
        assert client.post(url, data={"day": "", "csrf": token.group(1)}).status_code == 400  # a provider gives a day
        ok = client.post(url, data={"day": "2027-01-05", "reason": "congé", "csrf": token.group(1)})
        assert ok.status_code == 200 and "05/01/2027 (congé)" in ok.text
        withdrawn = client.post(f"/p/{owner}/indisponible", data={"csrf": other.group(1)})
        assert withdrawn.status_code == 200 and "salle retirée" in withdrawn.text
    with sessions() as session:
        declared = {
            (u.person.kind, u.day is None, u.declared_by.split(":")[0]) for u in session.scalars(select(Unavailability))
        }
        assert declared == {("provider", False, "provider"), ("premises_owner", True, "premises_owner")}
    sessions.kw["bind"].dispose()


def _fragments(lang: str) -> set[str]:
    """The words of the planners' pages in ``lang``: each planner label cut at its placeholders."""
    keys = [k for k in LABELS[lang] if k.startswith("planner_")]
    pieces = {p.strip(" .;:·—()") for k in keys for p in re.split(r"\{[^}]*\}", LABELS[lang][k])}
    return {p for p in pieces if len(p) >= 4}


@pytest.mark.parametrize(("lang", "other"), [("en", "fr"), ("fr", "en")])
def test_planner_pages_speak_one_language(service, lang: str, other: str) -> None:
    client, sessions = service
    query = "" if lang == "fr" else f"?lang={lang}"
    for bad in ("de", "<script>", "fr' OR '1'='1", "en&lang=fr"):
        assert client.get("/planner/login", params={"lang": bad}).status_code == 400
    login = client.get(f"/planner/login{query}")
    token = CSRF.search(login.text)
    assert token is not None
    signed = client.post(
        f"/planner/login{query}",
        data={"login": "marie", "password": PASSWORD, "csrf": token.group(1)},
        follow_redirects=False,
    )
    assert signed.status_code == 303 and signed.headers["location"] == f"/planner{query}"
    page = client.get(f"/planner{query}")
    csrf = CSRF.search(page.text)
    assert csrf is not None
    with sessions() as session:
        people = {
            p.kind: p.id
            for p in session.scalars(select(Person).join(Territory).where(Territory.name == "Lozère"))
            if p.kind != "planner"
        }
    for kind, day in (("provider", "2027-01-05"), ("premises_owner", "")):
        data = {"person": str(people[kind]), "day": day, "reason": "", "csrf": csrf.group(1)}
        assert client.post(f"/planner/unavailable{query}", data=data).status_code == 200
    bad = client.post(f"/planner/unavailable{query}", data={"person": str(people["crew"]), "day": "5/1", "csrf": "x"})
    assert bad.status_code == 403
    dated = client.post(
        f"/planner/unavailable{query}", data={"person": str(people["crew"]), "day": "5/1", "csrf": csrf.group(1)}
    )
    assert dated.status_code == 400
    texts = [html.unescape(t) for t in (login.text, client.get(f"/planner{query}").text, dated.text)]
    shown = " ".join(texts)
    assert f'<html lang="{lang}">' in texts[1]
    for key in (
        "planner_login_title",
        "planner_declare",
        "planner_pending",
        "planner_room_withdrawn",
        "planner_replan",
    ):
        assert label(key, lang) in shown, key
    assert label("planner_kind_provider", lang) in shown and label("planner_bad_date", lang, day="'5/1'") in shown
    leaks = sorted(p for p in _fragments(other) - _fragments(lang) if re.search(rf"\b{re.escape(p)}\b", shown))
    assert not leaks, leaks
