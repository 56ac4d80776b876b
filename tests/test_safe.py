"""Tests for planner.exports._safe: user text made a file name, a CSV cell or HTML, one function each."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest

from planner.exports._safe import csv_cell, csv_text, file_name, file_names, html_columns, html_text

HOSTILE_IDS = [
    "../../x",
    "/etc/passwd",
    "C:\\Windows\\x",
    "CON",
    "con.txt",
    "LPT1",
    ".",
    "..",
    "...",
    "",
    "/",
    "a/b",
    "a:b",
    "a?b",
    "Bus",
    "bus",
    ".hidden",
    "é" * 300,
    "\x00nul",
    "x" * 300,
    "map.html",
    "visits.csv",
]
SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
DEVICES = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(10)}


def test_every_name_is_one_plain_component_unique_letter_case_aside():
    """Hostile ids give names of one path component, no leading dot, no device name, short, all different."""
    names = file_names(HOSTILE_IDS, taken=["map.html", "visits.csv"])
    assert list(names) == HOSTILE_IDS
    for raw, name in names.items():
        assert SAFE.fullmatch(name), (raw, name)
        assert len(name) <= 64 + 9 and name.split(".")[0].upper() not in DEVICES, (raw, name)
    folded = [n.casefold() for n in names.values()]
    assert len(set(folded)) == len(folded)
    assert "map.html" not in folded and "visits.csv" not in folded


def test_plain_ids_are_kept_and_names_are_stable():
    """An id that is already a plain name is its own name; the same id always gives the same name."""
    assert file_names(["bus-mende", "caf_1", "48095"]) == {"bus-mende": "bus-mende", "caf_1": "caf_1", "48095": "48095"}
    assert file_name("../../x") == file_name("../../x") != file_name("../x")
    assert file_name("a/b") != file_name("a:b")  # slugging alike, told apart by their hash


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\tx"])
def test_formula_cells_are_neutralised(value: str) -> None:
    """Cells a spreadsheet would run as a formula get a leading quote (OWASP CSV injection)."""
    assert csv_cell(value) == "'" + value


def test_a_carriage_return_never_starts_a_row():
    """A cell starting with or holding CR: quoted text on one row, read back as one cell."""
    assert csv_cell("\r=1+3") == "'\n=1+3"
    frame = pd.DataFrame({"name": ["\r=1+3", "a\r=2+2", "b\r\n@x"], "n": [1, 2, 3]})
    rows = list(csv.reader(io.StringIO(csv_text(frame), newline="")))
    assert rows == [["name", "n"], ["'\n=1+3", "1"], ["a\n=2+2", "2"], ["b\n@x", "3"]]


@pytest.mark.parametrize("value", ["-5", "+3.2", "-1e3", "-0,5", "Mende", "", "a=b"])
def test_numbers_and_plain_text_are_kept(value: str) -> None:
    """Numbers with a sign and plain text are written as they are."""
    assert csv_cell(value) == value


def test_csv_text_neutralises_cells_and_header_not_numbers():
    """Through csv_text: text cells and column names neutralised, numeric columns untouched."""
    frame = pd.DataFrame({"name": ["=1+1", "Mende"], "=col": ["@x", "y"], "time_min": [-1.5, 2.0]})
    rows = list(csv.reader(io.StringIO(csv_text(frame))))
    assert rows == [["name", "'=col", "time_min"], ["'=1+1", "'@x", "-1.5"], ["Mende", "y", "2.0"]]


@pytest.mark.parametrize(
    "text",
    ["${alert(7)}", "</script><script>alert(6)</script>", "<img src=x onerror=alert(2)>", "`", "\\u0060", "{{ 7*7 }}"],
)
def test_html_text_leaves_no_character_that_ends_a_context(text: str) -> None:
    """No <, >, quote, backtick, $, backslash or brace survives: HTML, JS template literal and Jinja safe."""
    escaped = html_text(text)
    assert not set(escaped) & set("<>\"'`$\\{}")
    assert re.sub(r"&#?\w+;", "", escaped) == re.sub(r"[<>\"'`$\\{}&]", "", text)  # only those were replaced


def test_html_columns_escapes_text_only():
    """The text columns named are escaped; numbers and other columns are left alone."""
    frame = pd.DataFrame({"name": ["<b>", None], "population": [3, 4], "other": ["<i>", "x"]})
    out = html_columns(frame, ["name", "population"])
    assert out["name"].tolist()[0] == "&lt;b&gt;" and out["name"].isna().tolist()[1]
    assert out["population"].tolist() == [3, 4] and out["other"].tolist() == ["<i>", "x"]
