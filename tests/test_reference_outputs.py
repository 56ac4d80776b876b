"""The outputs of `make demo` match the committed reference in tests/reference/, byte for byte.

Each of the three default scenarios is run in-process with its own time limit and seed, and its
summaries and tables (summary.json, every CSV, every GeoJSON) are compared with
tests/reference/<scenario>/ after blanking the solve's wall-clock time (``normalise`` in
tests/reference/update.py, the one place that says what may differ between runs).

A change that alters outputs on purpose updates the reference in the same commit:

    python tests/reference/update.py
"""

from __future__ import annotations

import difflib

import pytest

from tests.reference.update import DEMO, REFERENCE, collect, run_demo

pytestmark = pytest.mark.slow

DIFF_LINES = 80  # lines of the first differing file's diff shown on failure


def _mismatch(name: str, expected: dict[str, str], actual: dict[str, str]) -> str:
    """A readable account of how ``actual`` differs from ``expected``: files missing or extra, then the
    unified diff of the first differing file; an empty string when they are the same."""
    missing, extra = sorted(expected.keys() - actual.keys()), sorted(actual.keys() - expected.keys())
    differing = sorted(path for path in expected.keys() & actual.keys() if expected[path] != actual[path])
    if not (missing or extra or differing):
        return ""
    lines = [f"{name}: the outputs differ from tests/reference/{name}/"]
    lines += [f"  missing from the outputs: {path}" for path in missing]
    lines += [f"  not in the reference: {path}" for path in extra]
    lines += [f"  differs: {path}" for path in differing]
    if differing:
        first = differing[0]
        diff = list(
            difflib.unified_diff(
                expected[first].splitlines(),
                actual[first].splitlines(),
                f"reference/{name}/{first}",
                f"outputs/{name}/{first}",
                lineterm="",
            )
        )
        cut = f"... ({len(diff) - DIFF_LINES} more lines)" if len(diff) > DIFF_LINES else None
        lines += ["", *diff[:DIFF_LINES], *([cut] if cut else [])]
    lines += ["", "If the change is intended: python tests/reference/update.py, and commit the reference with it."]
    return "\n".join(lines)


@pytest.mark.parametrize(("command", "scenario", "name"), DEMO, ids=[name for _, _, name in DEMO])
def test_demo_outputs_match_the_reference(tmp_path, command, scenario, name):
    """`maillage <command> scenarios/<scenario>` writes the reference summaries and tables, byte for byte."""
    expected = collect(REFERENCE / name)
    assert expected, f"no reference files in tests/reference/{name}/: run python tests/reference/update.py"
    run_demo(command, scenario, tmp_path / name)
    message = _mismatch(name, expected, collect(tmp_path / name))
    if message:
        pytest.fail(message, pytrace=False)


def test_mismatch_message_shows_the_first_differing_file():
    """A changed table is named with a unified diff of its lines; missing and extra files are listed."""
    expected = {"a.csv": "x,y\n1,2\n", "b.csv": "same\n", "c.csv": "gone\n"}
    actual = {"a.csv": "x,y\n1,3\n", "b.csv": "same\n", "d.csv": "new\n"}
    message = _mismatch("demo", expected, actual)
    assert "missing from the outputs: c.csv" in message and "not in the reference: d.csv" in message
    assert "differs: a.csv" in message and "differs: b.csv" not in message
    assert "--- reference/demo/a.csv" in message and "-1,2\n+1,3" in message
    assert _mismatch("demo", expected, expected) == ""
