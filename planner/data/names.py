"""Place names as INSEE writes them, and the French preposition before them.

The Code officiel géographique gives each commune a name type (TNCC) saying which article it
takes: ``La Canourgue`` (3), ``Le Malzieu-Ville`` (2), ``Altier`` starting with a vowel (1).
Generated labels use :func:`of` so that they read as French does: ``Mairie d'Altier``,
``Mairie du Malzieu-Ville``, ``Mairie des Vignes``, ``Mairie de La Canourgue``.
"""

from __future__ import annotations

# TNCC -> (article written before the name, what "de" + article becomes), after INSEE's table.
TNCC: dict[str, tuple[str, str]] = {
    "0": ("", "de "),
    "1": ("", "d'"),
    "2": ("Le ", "du "),
    "3": ("La ", "de La "),
    "4": ("Les ", "des "),
    "5": ("L'", "de L'"),
    "6": ("Aux ", "des "),
    "7": ("Las ", "de Las "),
    "8": ("Los ", "de Los "),
}
_VOWELS = set("AEIOUYÀÂÄÆÉÈÊËÎÏÔÖŒÙÛÜŸaeiouyàâäæéèêëîïôöœùûüÿ")


def with_article(nom: str, tncc: str | int | None) -> str:
    """The full name from INSEE's bare name and name type.

    >>> with_article("Canourgue", 3), with_article("Abergement-Clémenciat", "5"), with_article("Mende", 0)
    ('La Canourgue', "L'Abergement-Clémenciat", 'Mende')
    """
    return TNCC.get(str(tncc), ("", ""))[0] + nom


def name_type(name: str) -> str:
    """The TNCC of a full name read from its first word (``H`` is taken as aspirated: ``de Hirson``
    unless INSEE's own type is at hand).

    >>> [name_type(n) for n in ("Le Malzieu-Ville", "Les Vignes", "L'Isle-Adam", "Altier", "Mende")]
    ['2', '4', '5', '1', '0']
    """
    for code in ("2", "3", "4", "6", "7", "8"):
        if name.startswith(TNCC[code][0]) and len(name) > len(TNCC[code][0]):
            return code
    if name.startswith(("L'", "L’")):
        return "5"
    return "1" if name[:1] in _VOWELS else "0"


def of(name: str, tncc: str | int | None = None) -> str:
    """``de`` before a place name, elided or contracted as French writes it.

    ``tncc`` is INSEE's name type when known (it tells a silent ``h``: ``d'Hirson``); otherwise it
    is read from the name.

    >>> of("Altier"), of("Le Malzieu-Ville"), of("Les Vignes"), of("La Canourgue"), of("Mende")
    ("d'Altier", 'du Malzieu-Ville', 'des Vignes', 'de La Canourgue', 'de Mende')
    >>> of("Hirson", 1), of("Hirson"), of("Aux Marais", 6)
    ("d'Hirson", 'de Hirson', 'des Marais')
    """
    code = str(tncc) if tncc is not None and str(tncc) in TNCC else name_type(name)
    article, joined = TNCC[code]
    if article and name.startswith(article):
        name = name[len(article) :]
    elif code == "5" and name.startswith("L’"):
        name = name[2:]
    return joined + name


def postal_address(text: object) -> str:
    """An address as a letter shows it: no empty parts, so a source address with no street
    (``, 48100 Gabrias``) reads ``48100 Gabrias``.

    >>> postal_address(", 48100 Gabrias"), postal_address("2 rue Basse, , 48000 Mende "), postal_address(None)
    ('48100 Gabrias', '2 rue Basse, 48000 Mende', '')
    """
    if not isinstance(text, str):
        return ""
    return ", ".join(part.strip() for part in text.split(",") if part.strip())
