"""Norwegian KID (kundeidentifikasjon), the payment reference on a Norwegian invoice.

A KID is 2 to 25 characters (:data:`MIN_LENGTH`, :data:`MAX_LENGTH`): digits, the last of
which is a check digit computed with MOD10 or MOD11, whichever the creditor agreed with its
bank. The payer's bank refuses a KID whose check digit fails, so a typo cannot reach the
creditor unnoticed.

Sources for the bounds. The scheme's owner is Nets (now Mastercard Payment Services), whose
"User manual OCR giro" (v3.0, section 1.1) says a KID "may consist of up to 25 digits" and
that its content is the payee's to decide; Nets' requirements for the OCR giro form give
"maks 25 siffer" for the KID field of a 210 mm form, check digit MOD10 or MOD11 as the last
digit. The lower bound is the scheme's structure, at least one digit and the check digit,
as Norwegian validators state it ("A Kidnummer is between 2 and 25 digits", NoCommons);
no Nets text read for this module states a minimum, and some bank guides say 3. A creditor's
agreement may fix one length; this module checks the scheme's bounds only.

* MOD10 (``mod=10``, the default) is Luhn, computed with python-stdnum's :mod:`stdnum.luhn`:
  from the rightmost body digit, weights 2, 1, 2, 1, ...; products above 9 have 9
  subtracted; the check digit brings the total to a multiple of 10.
* MOD11 (``mod=11``): weights 2, 3, 4, 5, 6, 7, 2, 3, ... from the rightmost body digit;
  check = 11 - (sum % 11), where 11 gives ``0`` and 10 gives ``-``: when MOD11 has no
  digit, a minus sign is the check digit, so a MOD11 KID may end in ``-``.

Leading zeros are significant (a KID is often a zero-padded customer number). Accepted
input: whitespace anywhere is ignored. The canonical (compact) form is the characters
without whitespace. KIDs are printed without grouping, so :func:`format` returns the
compact form.

>>> generate("1234"), generate("1234", mod=11), generate("1009", mod=11)
('12344', '12343', '1009-')
>>> validate("12343")
Traceback (most recent call last):
    ...
kravia_schedule.errors.InvalidIdentifier: KID 12343 fails its MOD10 check digit
>>> validate("1")
Traceback (most recent call last):
    ...
kravia_schedule.errors.InvalidIdentifier: KID must have 2-25 characters, got 1
"""

from __future__ import annotations

from typing import Literal

from stdnum import luhn

from kravia_schedule.errors import InvalidIdentifier

__all__ = [
    "MAX_LENGTH",
    "MIN_LENGTH",
    "Mod",
    "calc_check_digit",
    "compact",
    "format",
    "generate",
    "is_valid",
    "validate",
]

Mod = Literal[10, 11]
MIN_LENGTH, MAX_LENGTH = 2, 25
_NAME = "KID"
_MOD11_WEIGHTS = (2, 3, 4, 5, 6, 7)


def _is_ascii_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _check_mod(mod: int) -> None:
    if mod not in (10, 11):
        raise InvalidIdentifier(f"{_NAME} check digits are MOD10 or MOD11, got mod={mod!r}")


def compact(value: str) -> str:
    """Remove whitespace; do not validate."""
    return "".join(value.split())


def calc_check_digit(body: str, *, mod: Mod = 10) -> str:
    """Return the check digit for ``body`` (1-24 digits): a digit, or ``-`` for MOD11."""
    _check_mod(mod)
    if not _is_ascii_digits(body) or not MIN_LENGTH - 1 <= len(body) <= MAX_LENGTH - 1:
        raise InvalidIdentifier(
            f"{_NAME} check digit needs 1-{MAX_LENGTH - 1} digits 0-9, got {body!r}"
        )
    if mod == 10:
        return str(luhn.calc_check_digit(body))
    total = sum(
        int(digit) * _MOD11_WEIGHTS[i % len(_MOD11_WEIGHTS)]
        for i, digit in enumerate(reversed(body))
    )
    check = 11 - total % 11
    return {11: "0", 10: "-"}.get(check, str(check))


def validate(value: str, *, mod: Mod = 10) -> str:
    """Return the compact KID, or raise :class:`InvalidIdentifier` saying what is wrong."""
    _check_mod(mod)
    number = compact(value)
    if not MIN_LENGTH <= len(number) <= MAX_LENGTH:
        raise InvalidIdentifier(
            f"{_NAME} must have {MIN_LENGTH}-{MAX_LENGTH} characters, got {len(number)}"
        )
    body, check = number[:-1], number[-1]
    if not _is_ascii_digits(body):
        raise InvalidIdentifier(
            f"{_NAME} must be digits 0-9 (a MOD11 KID may end in '-'), got {value!r}"
        )
    if check == "-" and mod == 10:
        raise InvalidIdentifier(f"{_NAME} {number} ends in '-', which only a MOD11 KID can")
    if check != "-" and not _is_ascii_digits(check):
        raise InvalidIdentifier(
            f"{_NAME} must end in a digit 0-9 (or '-' for MOD11), got {check!r}"
        )
    if calc_check_digit(body, mod=mod) != check:
        raise InvalidIdentifier(f"{_NAME} {number} fails its MOD{mod} check digit")
    return number


def is_valid(value: str, *, mod: Mod = 10) -> bool:
    """Return whether :func:`validate` accepts ``value``."""
    try:
        validate(value, mod=mod)
    except InvalidIdentifier:
        return False
    return True


def generate(base: str, *, mod: Mod = 10) -> str:
    """Return ``base`` (1-24 digits) with its check digit appended."""
    return base + calc_check_digit(base, mod=mod)


def format(value: str, *, mod: Mod = 10) -> str:
    """Return the KID as printed: the compact form, ungrouped (raises if not valid)."""
    return validate(value, mod=mod)
