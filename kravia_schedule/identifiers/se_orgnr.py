"""Swedish organization number (organisationsnummer).

Assigned by Bolagsverket (and, for sole traders, the owner's personnummer is used), it is
10 digits written ``NNNNNN-NNNN``. Longer forms are accepted:

* 12 digits starting with ``16``: the 12-digit organisationsnummer form; ``16`` is dropped.
* 12 digits starting with ``19`` or ``20``: a sole trader's personnummer with the century;
  the century is dropped.
* VAT form ``SE`` + 10 digits + ``01`` (``SE556677889901``): ``SE`` and ``01`` are dropped.

Surrounding whitespace, inner spaces, ``-`` and ``+`` (the personnummer separator for people
aged 100 or more) are ignored. The canonical (compact) form is the 10 ASCII digits.

Check digit (verified only with ``strict=True``): Luhn over the 10 digits: from the left,
digits are weighted 2, 1, 2, 1, ..., products above 9 have 9 subtracted, and the total must
be divisible by 10.
"""

from __future__ import annotations

import re

from kravia_schedule.errors import InvalidIdentifier

__all__ = ["calc_check_digit", "compact", "format", "is_valid", "validate"]

_NAME = "Swedish organization number"
_VAT = re.compile(r"SE([0-9]{10})01", re.IGNORECASE)
_LONG = re.compile(r"(?:16|19|20)([0-9]{10})")


def _luhn_sum(digits: str) -> int:
    """Luhn sum with weight 2 on the last digit (call with the digits before the check)."""
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total


def compact(value: str) -> str:
    """Remove separators, the VAT decoration and the 12-digit prefix; do not validate."""
    number = "".join(value.split()).replace("-", "").replace("+", "")
    match = _VAT.fullmatch(number) or _LONG.fullmatch(number)
    return match.group(1) if match else number


def calc_check_digit(digits9: str) -> str:
    """Return the Luhn check digit for the first 9 digits of an organization number."""
    if len(digits9) != 9 or not (digits9.isascii() and digits9.isdigit()):
        raise InvalidIdentifier(f"{_NAME} check digit needs 9 digits, got {digits9!r}")
    return str(-_luhn_sum(digits9) % 10)


def validate(value: str, *, strict: bool = False) -> str:
    """Return the 10-digit compact form, or raise :class:`InvalidIdentifier`.

    With ``strict=True`` the Luhn check digit is verified as well.
    """
    number = compact(value)
    if not (number.isascii() and number.isdigit()):
        raise InvalidIdentifier(f"{_NAME} must contain only digits 0-9, got {value!r}")
    if len(number) == 12:
        raise InvalidIdentifier(f"12-digit Swedish numbers start with 16, 19 or 20, got {number}")
    if len(number) != 10:
        raise InvalidIdentifier(f"{_NAME} must have 10 or 12 digits, got {len(number)}")
    if strict and calc_check_digit(number[:9]) != number[9]:
        raise InvalidIdentifier(f"{_NAME} {number} fails its Luhn check digit")
    return number


def is_valid(value: str, *, strict: bool = False) -> bool:
    """Return whether :func:`validate` accepts ``value``."""
    try:
        validate(value, strict=strict)
    except InvalidIdentifier:
        return False
    return True


def format(value: str) -> str:
    """Return the number as ``NNNNNN-NNNN`` (raises if not well formed)."""
    number = validate(value)
    return f"{number[:6]}-{number[6:]}"
