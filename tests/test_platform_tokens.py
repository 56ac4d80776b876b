"""Personal links and passwords on both back-ends: stored hashed, resolved, revoked, expired, malformed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from planner.platform import db, tokens
from planner.platform.models import AccessToken, Person, Territory


@pytest.fixture
def people(database_url: str):
    """A migrated database with two people of one territory."""
    sessions = db.open_database(database_url)
    with db.transaction(sessions) as session:
        place = Territory(name="Lozère")
        session.add(place)
        session.flush()
        session.add_all(
            [
                Person(territory_id=place.id, kind="provider", ref="caf", name="CAF", password_hash=None),
                Person(territory_id=place.id, kind="crew", ref="bus", name="Bus", password_hash=None),
            ]
        )
    yield sessions
    sessions.kw["bind"].dispose()


def _get(session, ref: str) -> Person:
    return session.scalars(select(Person).where(Person.ref == ref)).one()


def test_a_token_opens_its_own_person_only_and_is_stored_hashed(people) -> None:
    with db.transaction(people) as session:
        caf, bus = tokens.issue(session, _get(session, "caf")), tokens.issue(session, _get(session, "bus"))
    with people() as session:
        assert [getattr(tokens.resolve(session, t), "ref", None) for t in (caf, bus)] == ["caf", "bus"]
        assert set(session.scalars(select(AccessToken.token_sha256))) == {tokens.digest(caf), tokens.digest(bus)}
        assert tokens.has_valid_link(session, _get(session, "caf"))


BAD = ["", "x", "' OR '1'='1", "../../etc/passwd", "a" * 43 + "'", "%00", "A" * 43, "é" * 43, "a" * 44]


def test_malformed_or_unknown_tokens_open_nothing(people) -> None:
    with db.transaction(people) as session:
        good = tokens.issue(session, _get(session, "caf"))
    with people() as session:
        for token in [*BAD, good + "'--", good[:-1], good.upper() if good.upper() != good else good.lower()]:
            assert tokens.resolve(session, token) is None, token


def test_revoked_and_expired_tokens_open_nothing(people) -> None:
    with db.transaction(people) as session:
        caf, bus = tokens.issue(session, _get(session, "caf")), tokens.issue(session, _get(session, "bus"), days=1)
        assert tokens.revoke(session, _get(session, "caf")) == 1
    with db.transaction(people) as session:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session.execute(
            update(AccessToken).where(AccessToken.token_sha256 == tokens.digest(bus)).values(expires_at=past)
        )
    with people() as session:
        assert tokens.resolve(session, caf) is None
        assert tokens.resolve(session, bus) is None
        assert not tokens.has_valid_link(session, _get(session, "caf"))
    with db.transaction(people) as session, pytest.raises(ValueError, match="at least one day"):
        tokens.issue(session, _get(session, "caf"), days=0)


def test_passwords_are_hashed_with_argon2() -> None:
    stored = tokens.hash_password("correct horse")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert tokens.check_password(stored, "correct horse")
    assert not tokens.check_password(stored, "wrong")
    assert not tokens.check_password(None, "correct horse")
    assert not tokens.check_password("not a hash", "correct horse")
