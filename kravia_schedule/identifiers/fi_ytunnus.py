"""Finnish business ID (Y-tunnus, FO-nummer).

Assigned by the Finnish Patent and Registration Office and the Tax Administration, it is
7 digits, a hyphen and a check digit: ``1234567-8``.

Accepted input (every spelling python-stdnum's test vectors accept for
:mod:`stdnum.fi.ytunnus` and :mod:`stdnum.fi.alv`, see ``tests/data/stdnum_vectors.toml``):
whitespace anywhere is ignored; an optional leading ``FI`` (ASCII, any case), optionally
followed by a hyphen, is removed, so the VAT forms ``FI12345678``, ``FI 1234567-8`` and
``FI-12345678`` are accepted; 8 digits without a hyphen get the hyphen before the last
digit; an old 6-digit body (``123456-7``) is zero-padded to 7 digits (``0123456-7``). The
canonical (compact) form is ``NNNNNNN-N``.

Refused on purpose, although python-stdnum's ``clean()`` accepts them:

* a hyphen anywhere else in the digits (``011203-89``) or more than one in a place: the
  hyphen marks the check digit, and where it stands tells the old 6-digit body
  (``123456-7``) from a 7-digit one, so a misplaced hyphen points at a lost or moved digit;
* non-ASCII digits and dashes that ``clean()`` folds to ASCII (fullwidth digits
  U+FF10-U+FF19, en dash ``–``): the number travels into invoices and ledgers as typed.

Check digit (verified only with ``strict=True``): weights 7, 9, 10, 5, 8, 4, 2 over the 7
body digits; r = sum % 11; r == 0 gives check digit 0, r == 1 means no valid ID has that
body, otherwise the check digit is 11 - r.
The arithmetic is python-stdnum's (:func:`stdnum.fi.alv.checksum`, which
:mod:`stdnum.fi.ytunnus` uses: weight 1 on the check digit, so a valid ID sums to 0 mod 11);
stdnum's ``int()`` also reads non-ASCII digits, so the ASCII check here comes first.

>>> validate("FI-22291240", strict=True), format("FI 20774740"), compact("123456-7")
('2229124-0', '2077474-0', '0123456-7')
>>> validate("2077474-1", strict=True)
Traceback (most recent call last):
    ...
kravia_schedule.errors.InvalidIdentifier: Finnish business ID 2077474-1 fails its check digit
>>> validate("011203-89")
Traceback (most recent call last):
    ...
kravia_schedule.errors.InvalidIdentifier: Finnish business ID must look like 1234567-8 (a hyphen only before the check digit), got '011203-89'
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
    prefix, rest = number[:2], number[2:]
    # ASCII only: "\u0131" (dotless i) upper-cases to "I".
    if prefix.isascii() and prefix.upper() == "FI" and re.fullmatch(r"-?[0-9][0-9-]*", rest):
        number = rest.removeprefix("-")
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
        if re.fullmatch(r"[0-9]+(-[0-9]+)+", number) and len(number.replace("-", "")) == 8:
            raise InvalidIdentifier(
                f"{_NAME} must look like 1234567-8 (a hyphen only before the check digit), "
                f"got {value!r}"
            )
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
