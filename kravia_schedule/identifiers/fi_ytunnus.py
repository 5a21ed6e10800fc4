"""Finnish business ID (Y-tunnus, FO-nummer).

Assigned by the Finnish Patent and Registration Office and the Tax Administration, it is
7 digits, a hyphen and a check digit: ``1234567-8``.

Accepted input: surrounding whitespace and inner spaces are ignored; an optional leading
``FI`` (any case) is removed, so the VAT form ``FI12345678`` is accepted; 8 digits without
a hyphen get the hyphen before the last digit; an old 6-digit body (``123456-7``) is
zero-padded to 7 digits (``0123456-7``). The canonical (compact) form is ``NNNNNNN-N``.

Check digit (verified only with ``strict=True``): weights 7, 9, 10, 5, 8, 4, 2 over the 7
body digits; r = sum % 11; r == 0 gives check digit 0, r == 1 means no valid ID has that
body, otherwise the check digit is 11 - r.
The arithmetic is python-stdnum's (:func:`stdnum.fi.alv.checksum`, which
:mod:`stdnum.fi.ytunnus` uses: weight 1 on the check digit, so a valid ID sums to 0 mod 11);
stdnum's ``int()`` also reads non-ASCII digits, so the ASCII check here comes first.
"""

from __future__ import annotations

import re

from stdnum.fi import alv as _stdnum_alv

from kravia_schedule.errors import InvalidIdentifier

__all__ = ["calc_check_digit", "compact", "format", "is_valid", "validate"]

_NAME = "Finnish business ID"
_CANONICAL = re.compile(r"[0-9]{7}-[0-9]")


def compact(value: str) -> str:
    """Return the ``NNNNNNN-N`` form as far as the input allows; do not validate."""
    number = "".join(value.split())
    if number[:2].upper() == "FI" and re.fullmatch(r"[0-9-]+", number[2:]):
        number = number[2:]
    if re.fullmatch(r"[0-9]{8}", number):
        number = f"{number[:7]}-{number[7]}"
    if re.fullmatch(r"[0-9]{6}-[0-9]", number):
        number = "0" + number
    return number


def calc_check_digit(body7: str) -> str:
    """Return the check digit for the 7-digit body of a business ID."""
    if not re.fullmatch(r"[0-9]{7}", body7):
        raise InvalidIdentifier(f"{_NAME} check digit needs 7 digits, got {body7!r}")
    # A 0 in the check position leaves r = sum % 11 of the 7 weighted body digits.
    remainder = _stdnum_alv.checksum(body7 + "0")
    if remainder == 1:
        raise InvalidIdentifier(f"no valid {_NAME} starts with {body7} (remainder 1)")
    return "0" if remainder == 0 else str(11 - remainder)


def validate(value: str, *, strict: bool = False) -> str:
    """Return the canonical ``NNNNNNN-N`` form, or raise :class:`InvalidIdentifier`.

    With ``strict=True`` the check digit is verified as well.
    """
    number = compact(value)
    if not _CANONICAL.fullmatch(number):
        raise InvalidIdentifier(f"{_NAME} must look like 1234567-8, got {value!r}")
    if strict and _stdnum_alv.checksum(number[:7] + number[8]) != 0:
        calc_check_digit(number[:7])  # raises the "remainder 1" error for such a body
        raise InvalidIdentifier(f"{_NAME} {number} fails its check digit")
    return number


def is_valid(value: str, *, strict: bool = False) -> bool:
    """Return whether :func:`validate` accepts ``value``."""
    try:
        validate(value, strict=strict)
    except InvalidIdentifier:
        return False
    return True


def format(value: str) -> str:
    """Return the canonical ``NNNNNNN-N`` form (raises if not well formed)."""
    return validate(value)
