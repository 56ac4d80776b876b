"""`maillage publish`, `maillage people list/link/revoke` through the command line, on both back-ends."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.cli import app
from tests.platform_runs import run_folder

LINK = re.compile(r"https://maillage\.example/p/([A-Za-z0-9_-]{43})")


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch):
    """Run ``maillage`` on the test database; links printed under https://maillage.example."""
    monkeypatch.setenv("MAILLAGE_DATABASE_URL", database_url)
    monkeypatch.setenv("MAILLAGE_PUBLIC_URL", "https://maillage.example")
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [*args])


def test_publish_prints_each_persons_link_then_the_changes(cli, tmp_path: Path) -> None:
    folder = run_folder(tmp_path / "run", rooms=False)
    first = cli("publish", str(folder), "--territory", "Lozère", "--by", "anne")
    assert first.exit_code == 0, first.output
    assert "Lozère : version 1 publiée" in first.output
    assert len(set(LINK.findall(first.output))) == 2  # the two crews
    moved = run_folder(
        tmp_path / "v2", rooms=False, edit_visits=lambda rows: [{**rows[0], "start": "10:50"}, *rows[1:]]
    )
    second = cli("publish", str(moved), "--territory", "Lozère")
    assert second.exit_code == 0, second.output
    assert "version 2" in second.output and "1 déplacé(s)" in second.output and "inchangé" in second.output
    assert not LINK.findall(second.output) and "lien inchangé" in second.output
    listed = cli("people", "list", "--territory", "Lozère")
    assert listed.exit_code == 0 and listed.output.count("lien valide") == 2
    person = re.search(r"\[(\d+)\] Lozère · crew bus-mende", listed.output)
    assert person is not None
    revoked = cli("people", "revoke", person.group(1))
    assert revoked.exit_code == 0 and "1 lien(s) révoqué(s)" in revoked.output
    assert "pas de lien valide" in cli("people", "list").output
    issued = cli("people", "link", person.group(1), "--days", "7")
    assert issued.exit_code == 0 and LINK.search(issued.output)


def test_publish_refuses_a_folder_that_is_not_a_run(cli, tmp_path: Path) -> None:
    answer = cli("publish", str(tmp_path))
    assert answer.exit_code == 2 and "run.json" in answer.output
    assert cli("people", "revoke", "999").exit_code == 2
