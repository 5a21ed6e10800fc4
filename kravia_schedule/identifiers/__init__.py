"""Organization numbers of the countries Kravia invoices in, in the style of python-stdnum.

Each module (:mod:`no_orgnr`, :mod:`se_orgnr`, :mod:`fi_ytunnus`) offers ``compact``,
``validate``, ``is_valid``, ``format`` and ``calc_check_digit``. ``validate`` returns the
canonical compact form and raises :class:`~kravia_schedule.errors.InvalidIdentifier`.
By default only the shape is checked; ``strict=True`` also verifies the check digit.

Every spelling python-stdnum's own test vectors accept for the corresponding stdnum
modules is accepted (``tests/data/stdnum_vectors.toml`` holds them, with their source);
each module's docstring lists the few spellings refused on purpose.

The helpers below dispatch on the ISO 3166 country code (``"NO"``, ``"SE"``, ``"FI"``).

>>> validate_org_number("FI", "FI-214 95 540", strict=True)
'2149554-0'
>>> validate_org_number("DK", "12345678")
Traceback (most recent call last):
    ...
kravia_schedule.errors.InvalidIdentifier: no organization number scheme for country 'DK'; supported: NO, SE, FI
"""

from __future__ import annotations

from typing import Protocol

from kravia_schedule.errors import InvalidIdentifier
from kravia_schedule.identifiers import fi_ytunnus, no_orgnr, se_orgnr

__all__ = [
    "compact_org_number",
    "fi_ytunnus",
    "format_org_number",
    "is_valid_org_number",
    "no_orgnr",
    "se_orgnr",
    "validate_org_number",
]


class _Scheme(Protocol):
    def compact(self, value: str) -> str: ...
    def validate(self, value: str, *, strict: bool = False) -> str: ...
    def is_valid(self, value: str, *, strict: bool = False) -> bool: ...
    def format(self, value: str) -> str: ...


_SCHEMES: dict[str, _Scheme] = {"NO": no_orgnr, "SE": se_orgnr, "FI": fi_ytunnus}


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifier(f"{what} must be a string, got {type(value).__name__}")
    return value


def _scheme(country: str) -> _Scheme:
    try:
        return _SCHEMES[_text(country, "country").strip().upper()]
    except KeyError:
        supported = ", ".join(_SCHEMES)
        raise InvalidIdentifier(
            f"no organization number scheme for country {country!r}; supported: {supported}"
        ) from None


def compact_org_number(country: str, value: str) -> str:
    """Return ``value`` with separators removed, for ``country``; does not validate."""
    return _scheme(country).compact(_text(value, "organization number"))


def validate_org_number(country: str, value: str, *, strict: bool = False) -> str:
    """Return the canonical compact form for ``country``, or raise ``InvalidIdentifier``."""
    return _scheme(country).validate(_text(value, "organization number"), strict=strict)


def is_valid_org_number(country: str, value: str, *, strict: bool = False) -> bool:
    """Return whether ``value`` is a valid organization number for ``country``.

    An unknown country still raises ``InvalidIdentifier``: it is a caller error, not a
    property of the number.
    """
    return _scheme(country).is_valid(_text(value, "organization number"), strict=strict)


def format_org_number(country: str, value: str) -> str:
    """Return ``value`` in the usual printed form for ``country``."""
    return _scheme(country).format(_text(value, "organization number"))
