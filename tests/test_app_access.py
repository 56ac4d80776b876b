"""Who may use the Streamlit app: open on 127.0.0.1, else planners sign in (their ``maillage serve`` accounts,
or the organisation's OpenID Connect provider when the secrets configure it). AppTest, no browser."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from planner._errors import InputError
from planner.app import access
from planner.i18n import label
from planner.platform import db
from planner.platform.models import AuditEntry, Territory
from planner.platform.planners import add_planner

APP = Path(__file__).resolve().parents[1] / "app.py"
PASSWORD = "un mot de passe assez long"


@pytest.mark.parametrize(
    ("address", "force", "required"),
    [
        ("127.0.0.1", None, False),
        ("::1", "0", False),
        ("localhost", "", False),
        ("0.0.0.0", None, True),  # every interface
        ("192.168.1.20", "0", True),  # a public bind cannot be opened by the variable
        (None, None, True),  # Streamlit's default when unset: every interface
        ("", None, True),
        ("127.0.0.1", "1", True),  # behind a reverse proxy on this machine
    ],
)
def test_sign_in_is_required_beyond_this_machine(address: str | None, force: str | None, required: bool) -> None:
    assert access.sign_in_required(address, force) is required


def test_a_bad_switch_is_a_clear_error() -> None:
    with pytest.raises(InputError, match=access.ENV_FORCE):
        access.sign_in_required("127.0.0.1", "yes")


@pytest.fixture
def accounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fresh SQLite database with one planner, ``marie.durand@lozere.fr``, named by MAILLAGE_DATABASE_URL."""
    url = f"sqlite:///{tmp_path / 'platform.sqlite3'}"
    monkeypatch.setenv(db.ENV_URL, url)
    sessions = db.open_database(url)
    with db.transaction(sessions) as session:
        place = Territory(name="Lozère")
        session.add(place)
        session.flush()
        add_planner(session, place, "marie.durand@lozere.fr", "Marie Durand", PASSWORD)
    yield sessions
    sessions.kw["bind"].dispose()


def test_passwords_and_identities_map_to_planner_accounts(accounts) -> None:
    client = f"test-{uuid.uuid4()}"
    assert access.with_password(accounts, "marie.durand@lozere.fr", "wrong password!", client) is None
    assert access.with_password(accounts, "' OR 1=1 --", PASSWORD, client) is None
    found = access.with_password(accounts, "marie.durand@lozere.fr", PASSWORD, client)
    assert found is not None and (found.name, found.territory) == ("Marie Durand", "Lozère")
    assert access.still_valid(accounts, found)
    same = access.with_identity(accounts, " Marie.Durand@Lozere.FR ")
    assert same is not None and same.person_id == found.person_id
    assert access.with_identity(accounts, "someone@else.fr") is None and access.with_identity(accounts, "") is None
    with db.transaction(accounts) as session:
        place = session.scalars(select(Territory)).one()
        add_planner(session, place, "marie.durand@lozere.fr", "Marie Durand", "a brand new long password")
    assert not access.still_valid(accounts, found)  # a new password signs the app's sessions out
    with accounts() as session:
        via = [
            e.detail["via"] for e in session.scalars(select(AuditEntry).where(AuditEntry.action == "planner_signed_in"))
        ]
    assert via == ["app", "oidc"]


def test_sign_in_attempts_are_rate_limited(accounts) -> None:
    client = f"test-{uuid.uuid4()}"
    for _ in range(access.ATTEMPTS.count):
        assert access.with_password(accounts, "marie.durand@lozere.fr", "wrong password!", client) is None
    assert access.with_password(accounts, "marie.durand@lozere.fr", PASSWORD, client) is None  # even the right one
    assert access.with_password(accounts, "marie.durand@lozere.fr", PASSWORD, f"other-{client}") is not None


def _radios(at: AppTest) -> list[str]:
    return [str(r.key) for r in at.sidebar.radio]


def test_open_on_this_machine_with_a_notice() -> None:
    at = AppTest.from_file(str(APP), default_timeout=120).run()  # .streamlit/config.toml: 127.0.0.1
    assert not at.exception, [e.value for e in at.exception]
    notice = label("app_open_notice", "fr", address="127.0.0.1")
    assert notice in [c.value for c in at.sidebar.caption] and "page_fr" in _radios(at)


def test_planners_sign_in_before_anything_else(accounts, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(access.ENV_FORCE, "1")
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert _radios(at) == ["lang"] and not at.file_uploader and not at.metric  # no page, no upload, no result
    assert at.title[0].value == label("planner_login_title", "fr")
    at.text_input[0].input("marie.durand@lozere.fr")
    at.text_input[1].input("wrong password!")
    at.button[0].click().run()
    assert [e.value for e in at.error] == [label("planner_wrong_password", "fr")] and _radios(at) == ["lang"]
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "page_fr" in _radios(at) and at.metric  # the coverage page
    signed = label("planner_signed_in_as", "fr", name="Marie Durand (Lozère)")
    assert signed in [c.value for c in at.sidebar.caption]
    at.sidebar.button(key="sign_out").click().run()
    assert _radios(at) == ["lang"]


def test_english_sign_in_and_no_account_yet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(access.ENV_FORCE, "1")
    monkeypatch.setenv(db.ENV_URL, f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.sidebar.radio(key="lang").set_value("en").run()
    assert at.title[0].value == label("planner_login_title", "en")
    assert [w.value for w in at.warning] == [label("app_sign_in_no_planner", "en")] and not at.text_input


def test_the_organisation_sign_in_when_the_secrets_configure_it(accounts, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(access.ENV_FORCE, "1")
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "a long random secret for the test",
        "client_id": "maillage",
        "client_secret": "secret",
        "server_metadata_url": "https://sso.example.org/.well-known/openid-configuration",
    }
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.button[0].label == label("app_sign_in_oidc", "fr")
    assert at.text_input  # the planners' own accounts still work beside it
