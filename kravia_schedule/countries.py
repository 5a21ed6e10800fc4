"""The Kravia markets: Norway, Sweden and Finland, with their time zone and currency."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

from kravia_schedule.errors import InvalidArgument

__all__ = ["Country", "parse_country"]


class Country(StrEnum):
    """ISO 3166 alpha-2 code of a country Kravia invoices in."""

    NO = "NO"
    SE = "SE"
    FI = "FI"

    @property
    def zone(self) -> ZoneInfo:
        """The IANA time zone whose calendar date is the purchase date."""
        return _zone(_ZONE_NAMES[self])

    @property
    def zone_name(self) -> str:
        return _ZONE_NAMES[self]

    @property
    def currency(self) -> str:
        """The country's own currency (invoices may still be in another one)."""
        return _CURRENCIES[self]


_ZONE_NAMES = {
    Country.NO: "Europe/Oslo",
    Country.SE: "Europe/Stockholm",
    Country.FI: "Europe/Helsinki",
}
_CURRENCIES = {Country.NO: "NOK", Country.SE: "SEK", Country.FI: "EUR"}


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_country(value: object) -> Country:
    """Return the :class:`Country` for ``value`` ("no", " NO " and ``Country.NO`` all work).

    Raises :class:`InvalidArgument` (a ``ValueError``) with a message that says why: not
    a string, not an ISO alpha-2 code, or a valid code of a country Kravia does not serve.
    """
    if isinstance(value, Country):
        return value
    if not isinstance(value, str):
        raise InvalidArgument(
            f"must be an ISO 3166 alpha-2 country code, got {type(value).__name__}"
        )
    code = value.strip().upper()
    try:
        return Country(code)
    except ValueError:
        pass
    if len(code) == 2 and code.isascii() and code.isalpha():
        raise InvalidArgument(f"{value!r} is not a Kravia market (NO, SE, FI)") from None
    raise InvalidArgument(
        f"{value!r} is not an ISO 3166 alpha-2 country code (NO, SE, FI)"
    ) from None
