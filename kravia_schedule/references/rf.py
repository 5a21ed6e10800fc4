"""ISO 11649 RF creditor reference, the international structured payment reference.

``RF``, two check digits and a body of 1 to 21 letters ``A``-``Z`` and digits, 5 to 25
characters in all (:data:`MIN_LENGTH`, :data:`MAX_LENGTH`): ISO 11649:2009 gives the format
as ``2!a2!n21c``, "RF", exactly two check digits and up to 21 alphanumerics (the
standard's published summary; "always contains maximum of 25 characters", XMLdation's
ISO 11649 page). The check digits follow ISO 7064 MOD 97-10: move ``RF`` and the check
digits to the end, read each letter as two digits (A = 10 ... Z = 35), and the number must
leave 1 when divided by 97. Accepted across SEPA; Finland uses it for its national
reference (:func:`kravia_schedule.references.fi_reference.to_rf`).

Validation uses python-stdnum's :mod:`stdnum.iso11649` and generation
:func:`stdnum.iso7064.mod_97_10.calc_check_digits`, after our own checks that stdnum does not
make: the characters must be ASCII (stdnum's ``int(x, 36)`` also reads other scripts'
digits) and the check digits in 02-98, the only values MOD 97-10 produces; stdnum accepts
``00``, ``01`` and ``99`` when they are congruent mod 97 to the real ones (``RF9936`` for
``RF0236``), so a changed check digit could pass it.

Accepted input: whitespace anywhere is ignored and letters are upper-cased. The canonical
(compact) form has no spaces; the printed form is in groups of four: ``RF18 5390 0754 7034``.

>>> generate("539007547034"), format("RF18539007547034")
('RF18539007547034', 'RF18 5390 0754 7034')
>>> validate("RF18 5390 0754 7035")
Traceback (most recent call last):
    ...
kravia_schedule.errors.InvalidIdentifier: RF creditor reference RF18539007547035 fails its MOD 97-10 check digits
"""

from __future__ import annotations

import re

from stdnum import iso11649
from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_97_10

from kravia_schedule.errors import InvalidIdentifier

__all__ = [
    "MAX_LENGTH",
    "MIN_LENGTH",
    "calc_check_digit",
    "compact",
    "format",
    "generate",
    "is_valid",
    "validate",
]

MIN_LENGTH, MAX_LENGTH = 5, 25
_NAME = "RF creditor reference"
_BODY = re.compile(r"[0-9A-Z]{1,21}")


def compact(value: str) -> str:
    """Remove whitespace and upper-case ASCII input; do not validate."""
    number = "".join(value.split())
    # Only ASCII is upper-cased: str.upper() turns some non-ASCII letters into ASCII
    # ("\u0131" dotless i -> "I", "\ufb00" -> "FF"), which would then pass as valid.
    return number.upper() if number.isascii() else number


def calc_check_digit(body: str) -> str:
    """Return the two MOD 97-10 check digits (``"02"``-``"98"``) for ``body``."""
    if not _BODY.fullmatch(body):
        raise InvalidIdentifier(f"{_NAME} body must be 1-21 characters A-Z or 0-9, got {body!r}")
    return str(mod_97_10.calc_check_digits(body + "RF"))


def validate(value: str) -> str:
    """Return the compact reference, or raise :class:`InvalidIdentifier`."""
    number = compact(value)
    if not number.startswith("RF"):
        raise InvalidIdentifier(f"{_NAME} must start with RF, got {value!r}")
    if not MIN_LENGTH <= len(number) <= MAX_LENGTH:
        raise InvalidIdentifier(
            f"{_NAME} must have {MIN_LENGTH}-{MAX_LENGTH} characters, got {len(number)}"
        )
    check, body = number[2:4], number[4:]
    if not (check.isascii() and check.isdigit()):
        raise InvalidIdentifier(f"{_NAME} check digits must be two digits 0-9, got {check!r}")
    if not "02" <= check <= "98":
        raise InvalidIdentifier(f"{_NAME} check digits must be 02-98, got {check}")
    if not _BODY.fullmatch(body):
        raise InvalidIdentifier(f"{_NAME} body must be characters A-Z or 0-9, got {body!r}")
    try:
        iso11649.validate(number)
    except ValidationError:
        raise InvalidIdentifier(f"{_NAME} {number} fails its MOD 97-10 check digits") from None
    return number


def is_valid(value: str) -> bool:
    """Return whether :func:`validate` accepts ``value``."""
    try:
        validate(value)
    except InvalidIdentifier:
        return False
    return True


def generate(base: str) -> str:
    """Return ``RF`` + check digits + ``base`` (1-21 characters A-Z or 0-9)."""
    return f"RF{calc_check_digit(base)}{base}"


def format(value: str) -> str:
    """Return the reference in groups of four characters (raises if not valid)."""
    number = validate(value)
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
