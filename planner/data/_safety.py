"""Checks run on a road-network file before any OSM/GraphML reader sees it.

* XML (``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.graphml``): a document type declaration is refused,
  so no entity can be declared, expanded (billion laughs) or fetched from a file or URL (XXE).
  The prolog is parsed with ``defusedxml`` and parsing stops at the root element. libosmium
  refuses entity declarations too ("XML entities are not supported"); this check gives the
  same answer for GraphML (read by networkx) and a plain message for both.
* Compressed streams (``.bz2``, ``.gz``): decompressed once, streaming and without storing, and
  refused beyond :data:`MAX_RATIO` times their compressed size (past :data:`RATIO_FLOOR`) or
  :data:`MAX_UNCOMPRESSED_BYTES` in all: a decompression bomb stops after a bounded amount of work.

PBF files need neither: libosmium caps every PBF blob at 32 MiB uncompressed.
"""

from __future__ import annotations

import bz2
import gzip
from io import BufferedIOBase
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse

from planner._errors import InputError

MAX_UNCOMPRESSED_BYTES = 4 * 1024**3  # a large French région's OSM XML is about 2 GiB
MAX_RATIO = 100  # OSM XML compresses about 13:1 with bzip2
RATIO_FLOOR = 64 * 1024**2  # small files may compress better than MAX_RATIO without harm
_CHUNK = 1024**2
_XML_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".graphml", ".graphml.gz")


def _open(path: Path) -> BufferedIOBase:
    name = path.name.lower()
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


def check_xml_prolog(path: Path) -> None:
    """Refuse an XML file with a DOCTYPE (entity declarations) or whose start is not XML."""
    try:
        with _open(path) as stream:
            for _event, _element in iterparse(stream, events=("start",), forbid_dtd=True):
                return  # the root element opened: no DOCTYPE can follow it
    except DefusedXmlException:
        raise InputError.one(
            str(path),
            "",
            "declares a document type (<!DOCTYPE ...>): XML entities are refused, as they can expand "
            "without bound or read other files",
            hint="export the extract again (osmium, JOSM, Overpass and osmnx never write a DOCTYPE)",
        ) from None
    except (ParseError, OSError, EOFError, ValueError, LookupError) as exc:  # LookupError: unknown encoding
        raise InputError.one(str(path), "", f"is not valid XML ({exc})") from None


def check_decompressed_size(path: Path) -> int:
    """Decompress a ``.bz2``/``.gz`` file as a stream (nothing stored) and return its size in bytes.

    Raises :class:`InputError` as soon as the output passes the bounds of a decompression bomb.
    """
    compressed = path.stat().st_size
    limit = min(MAX_UNCOMPRESSED_BYTES, max(RATIO_FLOOR, MAX_RATIO * compressed))
    total = 0
    try:
        with _open(path) as stream:
            while chunk := stream.read(_CHUNK):
                total += len(chunk)
                if total > limit:
                    raise InputError.one(
                        str(path),
                        "",
                        f"expands beyond {limit / 1024**2:,.0f} MiB from {compressed / 1024**2:,.1f} MiB compressed: "
                        "refused as a decompression bomb",
                        hint=f"a real OSM extract expands about 13 times; the limit is {MAX_RATIO} times "
                        f"(at least {RATIO_FLOOR // 1024**2} MiB, at most {MAX_UNCOMPRESSED_BYTES // 1024**3} GiB)",
                    )
    except InputError:
        raise
    except (OSError, EOFError, ValueError) as exc:
        raise InputError.one(str(path), "", f"is not a valid compressed file ({exc})") from None
    return total


def check_network_file(path: Path) -> None:
    """Run the checks that apply to a road-network file: XML prolog and decompressed size."""
    name = path.name.lower()
    if name.endswith((".bz2", ".gz")):
        check_decompressed_size(path)
    if name.endswith(_XML_SUFFIXES):
        check_xml_prolog(path)
