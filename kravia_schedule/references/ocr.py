"""Swedish OCR number (Bankgirot's OCR-referens), the payment reference on a Swedish invoice.

2 to 25 digits (:data:`MIN_LENGTH`, :data:`MAX_LENGTH`), the last a Luhn check digit
(python-stdnum's :mod:`stdnum.luhn`, the "10-modul" of Bankgirot and the personnummer). The
payee's agreement with its bank decides how hard the payer's bank checks it (Bankgirot's
OCR reference check levels: OCR 1 soft, check digit; OCR 2 hard, check digit; OCR 3 hard,
check digit and variable length with a length digit; OCR 4 hard, check digit and one or
two fixed lengths); the strictest variant adds a length digit:

* length digit (``length_digit=True``): the second-to-last digit is the total length,
  length and check digit included, modulo 10 (a 12-digit OCR has length digit 2); the
  Luhn check digit then covers every digit before it, the length digit too. It catches a
  dropped or doubled digit that Luhn alone can miss.

Leading zeros are significant. Accepted input: whitespace anywhere is ignored. The
canonical (compact) form is the digits; OCR numbers are printed ungrouped, so
:func:`format` returns the compact form.

Sources for the bounds. The check levels are Bankgirot's (Bankgiro Inbetalningar FAQ,
bankgirot.se). The upper bound 25 is the width of the reference field Bankgirot reports
(BgMax) and the figure given throughout for the OCR reference; the lower bound 2 is one
digit and the check digit. Bankgirot's user manual (section 5.2.1, "Definitions, rules,
structure") is where these are defined; its text could not be read for this module, so the
two bounds rest on secondary sources and on the structure, and are tested as such.

>>> generate("1234"), generate("1234", length_digit=True)
('12344', '123463')
>>> validate("123464", length_digit=True)
Traceback (most recent call last):
    ...
kravia_schedule.errors.InvalidIdentifier: OCR number 123464 fails its Luhn check digit
>>> validate("1" * 26)
Traceback (most recent call last):
    ...
kravia_schedule.errors.InvalidIdentifier: OCR number must have 2-25 digits, got 26
"""

from __future__ import annotations

from stdnum import luhn

from kravia_schedule.errors import InvalidIdentifier

__all__ = [
    "MAX_LENGTH",
    "MIN_LENGTH",
    "calc_check_digit",
    "calc_length_digit",
    "compact",
    "format",
    "generate",
    "is_valid",
    "validate",
]

MIN_LENGTH, MAX_LENGTH = 2, 25
_NAME = "OCR number"


def _is_ascii_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def compact(value: str) -> str:
    """Remove whitespace; do not validate."""
    return "".join(value.split())


def calc_check_digit(body: str) -> str:
    """Return the Luhn check digit for ``body`` (1-24 digits, any length digit included)."""
    if not _is_ascii_digits(body) or not MIN_LENGTH - 1 <= len(body) <= MAX_LENGTH - 1:
        raise InvalidIdentifier(
            f"{_NAME} check digit needs 1-{MAX_LENGTH - 1} digits 0-9, got {body!r}"
        )
    return str(luhn.calc_check_digit(body))


def calc_length_digit(base: str) -> str:
    """Return the length digit for ``base``: (len(base) + 2) % 10."""
    return str((len(base) + 2) % 10)


def validate(value: str, *, length_digit: bool = False) -> str:
    """Return the compact OCR number, or raise :class:`InvalidIdentifier`.

    With ``length_digit=True`` the second-to-last digit must also be the length digit.
    """
    number = compact(value)
    if not _is_ascii_digits(number):
        raise InvalidIdentifier(f"{_NAME} must contain only digits 0-9, got {value!r}")
    if not MIN_LENGTH <= len(number) <= MAX_LENGTH:
        raise InvalidIdentifier(
            f"{_NAME} must have {MIN_LENGTH}-{MAX_LENGTH} digits, got {len(number)}"
        )
    if luhn.checksum(number) != 0:
        raise InvalidIdentifier(f"{_NAME} {number} fails its Luhn check digit")
    if length_digit and number[-2] != str(len(number) % 10):
        raise InvalidIdentifier(
            f"{_NAME} {number} has {len(number)} digits, so its length digit (second to "
            f"last) must be {len(number) % 10}, not {number[-2]}"
        )
    return number


def is_valid(value: str, *, length_digit: bool = False) -> bool:
    """Return whether :func:`validate` accepts ``value``."""
    try:
        validate(value, length_digit=length_digit)
    except InvalidIdentifier:
        return False
    return True


def generate(base: str, *, length_digit: bool = False) -> str:
    """Return ``base`` (digits) with the length digit, if asked for, and the check digit."""
    if length_digit:
        if not _is_ascii_digits(base) or not 1 <= len(base) <= MAX_LENGTH - 2:
            raise InvalidIdentifier(
                f"{_NAME} with length digit needs a base of 1-{MAX_LENGTH - 2} digits 0-9, "
                f"got {base!r}"
            )
        base += calc_length_digit(base)
    return base + calc_check_digit(base)


def format(value: str, *, length_digit: bool = False) -> str:
    """Return the OCR number as printed: the compact form, ungrouped (raises if not valid)."""
    return validate(value, length_digit=length_digit)
