"""Swedish organization number (organisationsnummer).

Assigned by Bolagsverket and the other registering authorities, it is 10 digits written
``NNNNNN-NNNN``; the third digit is 2 or more. A sole trader (enskild näringsidkare) has no
number of its own: the owner's personnummer (``YYMMDD-NNNN``) or, for a person not registered
in Sweden, samordningsnummer (the same with 60 added to the day) is the organization number.
:func:`kind` tells the three apart.

Accepted forms:

* 10 digits, ``-`` optional: ``556036-0793``, ``811228-9874``; a personnummer written
  ``811228+9874``: the ``+`` separator marks a person aged 100 or more.
* 12 digits starting with ``16``: the 12-digit organisationsnummer form; ``16`` is dropped.
* 12 digits starting with ``19`` or ``20``: a personnummer with the century
  (``YYYYMMDDNNNN``); the century is dropped.
* VAT form ``SE`` + 10 digits + ``01`` (``SE556036079301``): ``SE`` and ``01`` are dropped.

Whitespace anywhere, ``-``, ``+`` and ``.`` are ignored (``SE 556.383.740.901``). The
canonical (compact) form is the 10 ASCII digits (the century and the ``+`` are not kept).
These cover every spelling python-stdnum's test vectors accept for :mod:`stdnum.se.orgnr`,
:mod:`stdnum.se.vat` and :mod:`stdnum.se.personnummer` (``tests/data/stdnum_vectors.toml``).

Refused on purpose, although python-stdnum accepts them:

* a VAT number without its ``SE`` prefix (``556036079301``): 12 bare digits are read as
  the 12-digit forms above, and ``202100500001`` (``SE202100500001`` without the prefix)
  would then be read as ``2100500001`` with the century ``20``: another number;
* ``:`` as a separator (:mod:`stdnum.se.personnummer` drops it);
* non-ASCII digits and dashes that python-stdnum's ``clean()`` folds to ASCII (fullwidth
  digits U+FF10-U+FF19, en dash ``–``): the number travels into invoices and ledgers as typed.

Strict mode (``strict=True``) also checks:

* the Luhn check digit over the 10 digits (python-stdnum's :mod:`stdnum.luhn`): from the
  left, digits are weighted 2, 1, 2, 1, ..., products above 9 have 9 subtracted, and the
  total must be divisible by 10;
* that a personnummer-shaped number (third digit 0 or 1: a month) has a real date,
  ``YYMMDD`` (the day minus 60 for a samordningsnummer), with
  :func:`stdnum.se.personnummer.get_birth_date`: the century comes from the 12-digit form or
  the ``+``, otherwise it is the latest one not in the future (so ``000229-`` is 29 February
  2000, but ``000229+`` would be 1900, not a leap year);
* that a number written as a person's (century prefix ``19``/``20`` or ``+``) is
  personnummer-shaped: an organization number has neither.

>>> validate("SE 556.383.740.901", strict=True), format("19811228-9874")
('5563837409', '811228-9874')
>>> kind("701063-2391"), kind("SE-5562245190-01")
('samordningsnummer', 'organization')
>>> validate("1234567891", strict=True)
Traceback (most recent call last):
    ...
kravia_schedule.errors.InvalidIdentifier: Swedish organization number 1234567891 fails its Luhn check digit
>>> validate("556036079301")
Traceback (most recent call last):
    ...
kravia_schedule.errors.InvalidIdentifier: 12-digit Swedish numbers start with 16, 19 or 20 (a VAT number needs its SE prefix), got 556036079301
"""

from __future__ import annotations

import re
from typing import Literal

from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.se import personnummer

from kravia_schedule.errors import InvalidIdentifier

__all__ = ["Kind", "calc_check_digit", "compact", "format", "is_valid", "kind", "validate"]

Kind = Literal["organization", "personnummer", "samordningsnummer"]

_NAME = "Swedish organization number"
# re.ASCII: with IGNORECASE alone, "\u017f" (long s) would match "S".
_VAT = re.compile(r"SE([0-9]{10})01", re.IGNORECASE | re.ASCII)
_LONG = re.compile(r"(16|19|20)([0-9]{10})")
_COORDINATION_DAY_OFFSET = 60


def _strip(value: str) -> str:
    """``value`` without whitespace and the separators ``-``, ``+`` and ``.``."""
    return "".join(value.split()).replace("-", "").replace("+", "").replace(".", "")


def compact(value: str) -> str:
    """Remove separators, the VAT decoration and the 12-digit prefix; do not validate."""
    number = _strip(value)
    if match := _VAT.fullmatch(number):
        return match.group(1)
    match = _LONG.fullmatch(number)
    return match.group(2) if match else number


def calc_check_digit(digits9: str) -> str:
    """Return the Luhn check digit for the first 9 digits of an organization number."""
    if len(digits9) != 9 or not (digits9.isascii() and digits9.isdigit()):
        raise InvalidIdentifier(f"{_NAME} check digit needs 9 digits, got {digits9!r}")
    return str(luhn.calc_check_digit(digits9))


def _kind(number: str) -> Kind:
    """Classify 10 well-formed digits by their month and day digits."""
    if number[2] >= "2":
        return "organization"
    if int(number[4:6]) > _COORDINATION_DAY_OFFSET:
        return "samordningsnummer"
    return "personnummer"


def _check_person(value: str, number: str) -> None:
    """Raise unless the person-related parts of a well-formed ``number`` hold (strict mode)."""
    long = _LONG.fullmatch(_strip(value))
    century = long.group(1) if long and long.group(1) != "16" else ""
    plus = "+" in value
    number_kind = _kind(number)
    if number_kind == "organization":
        if century or plus:
            marker = f"century prefix {century}" if century else "'+' separator"
            raise InvalidIdentifier(
                f"{_NAME} {number} has a personnummer's {marker} but is shaped like an "
                f"organization number (third digit {number[2]} >= 2)"
            )
        return
    day = int(number[4:6])
    if number_kind == "samordningsnummer":
        day -= _COORDINATION_DAY_OFFSET
    separator = "+" if plus and not century else "-"
    try:
        personnummer.get_birth_date(f"{century}{number[:4]}{day:02d}{separator}{number[6:]}")
    except ValidationError:
        what = "YYMMDD with day + 60" if number_kind == "samordningsnummer" else "YYMMDD"
        raise InvalidIdentifier(
            f"{_NAME} {number} is shaped like a {number_kind} but {century}{number[:6]} "
            f"is not a real date ({what})"
        ) from None


def validate(value: str, *, strict: bool = False) -> str:
    """Return the 10-digit compact form, or raise :class:`InvalidIdentifier`.

    With ``strict=True`` the Luhn check digit and, for a personnummer or samordningsnummer,
    the date are verified as well.
    """
    number = compact(value)
    if not (number.isascii() and number.isdigit()):
        raise InvalidIdentifier(f"{_NAME} must contain only digits 0-9, got {value!r}")
    if len(number) == 12:
        raise InvalidIdentifier(
            "12-digit Swedish numbers start with 16, 19 or 20 (a VAT number needs its SE "
            f"prefix), got {number}"
        )
    if len(number) != 10:
        raise InvalidIdentifier(f"{_NAME} must have 10 or 12 digits, got {len(number)}")
    if strict:
        if luhn.checksum(number) != 0:
            raise InvalidIdentifier(f"{_NAME} {number} fails its Luhn check digit")
        _check_person(value, number)
    return number


def is_valid(value: str, *, strict: bool = False) -> bool:
    """Return whether :func:`validate` accepts ``value``."""
    try:
        validate(value, strict=strict)
    except InvalidIdentifier:
        return False
    return True


def kind(value: str) -> Kind:
    """Return what the number is: an ``organization``, a ``personnummer`` or ``samordningsnummer``.

    Organization numbers have a third digit of 2 or more (the month of a personnummer is
    01-12); a samordningsnummer has 60 added to the day (61-91). Only the shape is checked
    here; call :func:`validate` with ``strict=True`` for the check digit and the date.
    """
    return _kind(validate(value))


def format(value: str) -> str:
    """Return the number as ``NNNNNN-NNNN`` (raises if not well formed)."""
    number = validate(value)
    return f"{number[:6]}-{number[6:]}"
