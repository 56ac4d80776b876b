"""The output boundary: where user text becomes a file name, a CSV cell or a piece of HTML.

Ids and names come from files people bring; they may be hostile (``../../x``, ``CON``,
``</script><script>alert(6)</script>``, ``=HYPERLINK(...)``). Every export goes through one of
the three functions here, and nothing else turns user text into a path, a cell or markup:

* :func:`file_names`: ids -> safe, unique file names (a slug, plus a short hash when the slug
  differs from the id or would clash with another name);
* :func:`csv_text` / :func:`write_csv`: every CSV, with formula-looking cells neutralised (OWASP), in
  one of two forms (:data:`CSV_FORMATS`): ``excel-fr`` (``;``, UTF-8 with BOM, decimal comma,
  ``oui``/``non``: French Excel opens it by double-click) or ``rfc4180`` (``,``, plain UTF-8, decimal
  point, ``True``/``False``); :func:`read_csv` reads either back;
* :func:`write_workbook`: the run's tables as one ``.xlsx`` workbook, cells neutralised the same way;
* :func:`html_text`: text escaped for HTML and for the JavaScript string, template literal and
  Jinja contexts folium puts it in (tooltips, popups, layer names, legends, captions, sheets).
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

MAX_NAME_CHARS = 64
# Names Windows reserves for devices, with or without an extension (a folder named CON cannot be opened).
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(10)}
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def _slug(raw: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii")
    slug = _UNSAFE_CHARS.sub("-", ascii_text).strip(".-_")  # no leading dot: never hidden, never '..'
    return slug[:MAX_NAME_CHARS].rstrip(".-_")


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def file_names(ids: Iterable[object], *, taken: Sequence[str] = ()) -> dict[str, str]:
    """A safe, unique file name for each id: the one way an id becomes part of a path.

    A name is the id itself when it is already a plain ASCII name (letters, digits, ``.``, ``-``,
    ``_``, at most 64 characters, no leading dot, not a Windows device name such as ``CON``);
    otherwise its slug (dots made dashes) followed by 8 hex digits of its SHA-256 (``id-…`` when
    nothing is left of it). Names are unique letter case aside (macOS and Windows file systems ignore case) and differ
    from ``taken`` (the fixed file names of the folder); ids are given in a stable order.

    >>> file_names(["bus-1", "../../x", "CON", "a/b", "a:b", "..."])
    {'bus-1': 'bus-1', '../../x': 'x-9cdf6a50', 'CON': 'CON-a3dbc4b6', 'a/b': 'a-b-c14cddc0', 'a:b': 'a-b-6783a31e', \
'...': 'id-ab5df625'}
    """
    used = {name.casefold() for name in taken}
    names: dict[str, str] = {}
    for raw in dict.fromkeys(str(i) for i in ids):
        slug = _slug(raw)
        plain = bool(slug) and slug == raw and slug.split(".")[0].upper() not in _RESERVED
        stem = slug.replace(".", "-") or "id"  # no dot: 'con.txt-…' would still be a Windows device name
        name, salt = (slug if plain else f"{stem}-{_digest(raw)}"), 0
        while name.casefold() in used:
            salt += 1
            name = f"{stem}-{_digest(raw + chr(0) + str(salt))}"
        used.add(name.casefold())
        names[raw] = name
    return names


def file_name(raw: object) -> str:
    """The safe file name of one id (see :func:`file_names`)."""
    return next(iter(file_names([raw]).values()))


# --- CSV --------------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def csv_cell(value: object) -> object:
    """A cell a spreadsheet shows as text: one starting with ``= + - @``, tab or CR gets a leading ``'``.

    Numbers (``-5``, ``+3.2``, ``-1e3``) are left as they are. Carriage returns inside a cell become
    line feeds, which the CSV writer quotes (a bare CR would end the row for most readers and start
    the next one with the rest of the cell).

    >>> [csv_cell(v) for v in ["=HYPERLINK(1)", "+cmd|' /C calc'!A0", "-5", "@SUM(A1)", "a\\r=1+1", "Mende", 3]]
    ["'=HYPERLINK(1)", "'+cmd|' /C calc'!A0", '-5', "'@SUM(A1)", 'a\\n=1+1', 'Mende', 3]
    """
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and header pass through :func:`csv_cell`."""
    out = pd.DataFrame(frame, copy=False).copy(deep=False)
    for column in out.columns:
        if pd.api.types.is_object_dtype(out[column]) or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(csv_cell)
    out.columns = [csv_cell(c) for c in out.columns]
    return out


CsvFormat = Literal["excel-fr", "rfc4180"]
CSV_FORMATS: tuple[CsvFormat, ...] = ("excel-fr", "rfc4180")
BOM = "\ufeff"


def csv_format_for(lang: str, chosen: str | None = None) -> CsvFormat:
    """The CSV form of a run: ``chosen`` when given, else ``excel-fr`` in French and ``rfc4180`` in English.

    >>> csv_format_for("fr"), csv_format_for("en"), csv_format_for("fr", "rfc4180")
    ('excel-fr', 'rfc4180', 'rfc4180')
    """
    if chosen is not None:
        if chosen not in CSV_FORMATS:
            raise ValueError(f"unknown CSV format {chosen!r} (one of {', '.join(CSV_FORMATS)})")
        return "excel-fr" if chosen == "excel-fr" else "rfc4180"
    return "excel-fr" if lang == "fr" else "rfc4180"


def _oui_non(value: object) -> object:
    if isinstance(value, bool | np.bool_):
        return "oui" if value else "non"
    return value


def csv_text(frame: pd.DataFrame, csv_format: CsvFormat = "rfc4180") -> str:
    """``frame`` as CSV text (without its index), safe to open in a spreadsheet, in ``csv_format``.

    ``excel-fr`` starts with the byte-order mark (so that its UTF-8 encoding is what French Excel
    detects), separates with ``;``, writes decimal commas and booleans as ``oui``/``non``.

    >>> frame = pd.DataFrame({"nom": ["Mende"], "minutes": [12.5], "lacune": [True]})
    >>> csv_text(frame)
    'nom,minutes,lacune\\nMende,12.5,True\\n'
    >>> csv_text(frame, "excel-fr")
    '\\ufeffnom;minutes;lacune\\nMende;12,5;oui\\n'
    """
    out = neutralised(frame)
    if csv_format == "excel-fr":
        for column in out.columns:
            if pd.api.types.is_bool_dtype(out[column]) or pd.api.types.is_object_dtype(out[column]):
                out[column] = out[column].map(_oui_non)
        return BOM + str(out.to_csv(index=False, sep=";", decimal=","))
    return str(out.to_csv(index=False))


def write_csv(frame: pd.DataFrame, path: Path, csv_format: CsvFormat = "rfc4180") -> None:
    """Write ``frame`` (without its index) as a CSV file safe to open in a spreadsheet, in ``csv_format``."""
    path.write_bytes(csv_text(frame, csv_format).encode("utf-8"))


def read_csv(path: Path, **options: object) -> pd.DataFrame:
    """A CSV file written by :func:`write_csv`, in either form (told by its byte-order mark).

    ``options`` go to :func:`pandas.read_csv` (e.g. ``dtype``).
    """
    with open(path, "rb") as stream:
        excel = stream.read(3) == BOM.encode("utf-8")
    if excel:
        french = {"sep": ";", "decimal": ",", "true_values": ["oui"], "false_values": ["non"], "encoding": "utf-8-sig"}
        return pd.read_csv(path, **{**french, **options})  # type: ignore[call-overload]
    return pd.read_csv(path, **options)  # type: ignore[call-overload]


# --- Workbook ---------------------------------------------------------------------------------------

_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_HEADER_FILL = "DDE6F0"


def sheet_names(names: Iterable[str]) -> dict[str, str]:
    """A valid, unique sheet name (31 characters, none of ``[]:*?/\\``) for each table name.

    >>> sheet_names(["access_by_zone.csv", "rounds/visits.csv", "Summary", "summary"])
    {'access_by_zone.csv': 'access_by_zone', 'rounds/visits.csv': 'rounds-visits', 'Summary': 'Summary', \
'summary': 'summary~2'}
    """
    used: set[str] = set()
    out: dict[str, str] = {}
    for name in names:
        base = _SHEET_CHARS.sub("-", name.removesuffix(".csv")).strip("'")[:31] or "table"
        sheet, n = base, 1
        while sheet.casefold() in used:
            n += 1
            sheet = f"{base[: 31 - len(str(n)) - 1]}~{n}"
        used.add(sheet.casefold())
        out[name] = sheet
    return out


def _cell(value: object) -> object:
    """A value openpyxl writes as itself: no NaN or infinity, lists and other objects as text."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    return value if isinstance(value, str) else str(value)


def write_workbook(tables: dict[str, pd.DataFrame], path: Path, sources: Sequence[tuple[str, str]]) -> None:
    """Write ``tables`` (name -> table) as one ``.xlsx`` workbook: a sheet per table, bold filled
    headers, first row frozen, columns sized to their content, then a ``sources`` sheet whose rows
    are ``sources`` (label, text: the attribution first).

    Text cells and headers are neutralised like CSV cells (:func:`csv_cell`): a name such as
    ``=HYPERLINK(...)`` stays text.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    bold, fill = Font(bold=True), PatternFill("solid", fgColor=_HEADER_FILL)
    names = sheet_names([*tables, "sources"])
    for name, table in [*tables.items(), ("sources", pd.DataFrame(list(sources), columns=["source", "texte"]))]:
        frame = neutralised(pd.DataFrame(table.drop(columns="geometry", errors="ignore")))
        sheet = book.create_sheet(names[name])
        sheet.append([str(c) for c in frame.columns])
        for row in frame.itertuples(index=False):
            sheet.append([_cell(v) for v in row])
        for cell in sheet[1]:
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(vertical="center")
        sheet.freeze_panes = "A2"
        if len(frame.columns):
            sheet.auto_filter.ref = sheet.dimensions
        for i, column in enumerate(frame.columns, start=1):
            longest = max([len(str(column)), *(len(str(v)) for v in frame[column].head(500))])
            sheet.column_dimensions[sheet.cell(1, i).column_letter].width = min(60, longest + 2)
    book.save(path)


# --- HTML -------------------------------------------------------------------------------------------

# Beyond HTML's five characters: what ends or interpolates a JavaScript template literal (folium puts
# tooltips and popups in backticks), a backslash (an escape there), and Jinja's braces.
_SCRIPT_CHARS = {ord("`"): "&#96;", ord("$"): "&#36;", ord("\\"): "&#92;", ord("{"): "&#123;", ord("}"): "&#125;"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def html_text(value: object) -> str:
    """``value`` as text that displays as itself in HTML and cannot end a script string or template.

    Safe inside an element, an attribute value, a JavaScript string or template literal (as folium
    writes tooltips and popups) and a Jinja template (as folium writes legends): ``<``, ``>``, ``&``,
    quotes, backtick, ``$``, backslash and braces become character references.

    >>> html_text("</script><img src=x onerror=alert(2)> ${alert(7)} `")
    '&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; &#36;&#123;alert(7)&#125; &#96;'
    """
    text = html.escape(str(value), quote=True).translate(_SCRIPT_CHARS)
    return _CONTROL.sub(lambda m: f"&#{ord(m.group())};", text)


def html_columns(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A copy of ``frame`` whose text ``columns`` pass through :func:`html_text` (GeoJSON tooltips)."""
    out = frame.copy()
    for column in columns:
        if column in out and (pd.api.types.is_object_dtype(out[column]) or pd.api.types.is_string_dtype(out[column])):
            out[column] = out[column].map(lambda v: html_text(v) if isinstance(v, str) else v)
    return out
