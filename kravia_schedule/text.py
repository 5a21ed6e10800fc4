"""Whether a string is Unicode text that can be stored and printed.

A Python string may hold a lone surrogate (``"\\ud800"``, from a JSON escape or from bytes
decoded with ``surrogateescape``); no UTF-8 file, terminal or database can hold it, and
encoding it fails. Input refuses such text (:func:`text_problem`); output that must show
what was refused escapes it (:func:`printable`).
"""

from __future__ import annotations

import re

__all__ = ["printable", "text_problem"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` is not valid Unicode text, or ``None`` when it is.

    >>> text_problem("Nordmann AS") is None
    True
    >>> text_problem("\\ud800x")
    'is not valid Unicode text (a lone surrogate U+D800 at character 1)'
    """
    if value.isascii():  # constant time: most ids and names
        return None
    found = _SURROGATE.search(value)
    if found is None:
        return None
    return (
        f"is not valid Unicode text (a lone surrogate U+{ord(found.group()):04X} "
        f"at character {found.start() + 1})"
    )


def printable(value: str) -> str:
    """``value`` with each lone surrogate written as its escape (``\\ud800``), so that it
    can be encoded; any other text is returned unchanged.

    >>> printable("\\ud800x")
    '\\\\ud800x'
    """
    if value.isascii() or _SURROGATE.search(value) is None:
        return value
    return value.encode("utf-8", "backslashreplace").decode("utf-8")
