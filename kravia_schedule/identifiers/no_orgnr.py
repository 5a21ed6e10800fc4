"""Norwegian organization number (organisasjonsnummer).

Assigned by Brønnøysundregistrene, the organization number is 9 digits, usually written
``123 456 789``. The VAT registration uses the form ``NO 123 456 789 MVA``.

Accepted input: surrounding whitespace, inner spaces, ``.`` and ``-`` are ignored, and an
optional leading ``NO`` and trailing ``MVA`` (any case) are removed when what is left is
all digits. The canonical (compact) form is the 9 ASCII digits.

Check digit (verified only with ``strict=True``): MOD11 with weights 3, 2, 7, 6, 5, 4, 3, 2
over the first 8 digits; check = 11 - (sum % 11), where 11 becomes 0 and 10 means no valid
number has that body. The check digit must equal the 9th digit. The arithmetic is
python-stdnum's (:func:`stdnum.no.orgnr.checksum`, weight 1 on the check digit, so a valid
number sums to 0 mod 11); stdnum's ``int()`` also reads non-ASCII digits, so the ASCII check
here comes first.

Check digits are only verified in strict mode because example numbers in product docs and
test fixtures are often made up: ``123456789`` is well formed but fails MOD11.

Every spelling python-stdnum's test vectors accept for :mod:`stdnum.no.orgnr` and
:mod:`stdnum.no.mva` is accepted (``tests/data/stdnum_vectors.toml``). Refused on purpose,
although python-stdnum's ``clean()`` accepts them: non-ASCII digits it folds to ASCII
(fullwidth digits U+FF10-U+FF19), as the number travels into invoices and ledgers as typed.

>>> validate("NO 995 525 828 MVA", strict=True), format("988077917")
('995525828', '988 077 917')
>>> validate("988 077 918", strict=True)
Traceback (most recent call last):
    ...
kravia_schedule.errors.InvalidIdentifier: Norwegian organization number 988077918 fails its MOD11 check digit
>>> validate("98807791")
Traceback (most recent call last):
    ...
kravia_schedule.errors.InvalidIdentifier: Norwegian organization number must have 9 digits, got 8
"""

from __future__ import annotations

from stdnum.no import orgnr as _stdnum_orgnr

from kravia_schedule.errors import InvalidIdentifier

__all__ = ["calc_check_digit", "compact", "format", "is_valid", "validate"]

_NAME = "Norwegian organization number"


def _is_ascii_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def compact(value: str) -> str:
    """Remove separators and the VAT ``NO``/``MVA`` decoration; do not validate."""
    number = "".join(value.split()).replace(".", "").replace("-", "")
    core = number
    if core[:2].isascii() and core[:2].upper() == "NO":
        core = core[2:]
    if core[-3:].isascii() and core[-3:].upper() == "MVA":
        core = core[:-3]
    return core if _is_ascii_digits(core) else number


def calc_check_digit(digits8: str) -> str:
    """Return the MOD11 check digit for the first 8 digits of an organization number."""
    if len(digits8) != 8 or not _is_ascii_digits(digits8):
        raise InvalidIdentifier(f"{_NAME} check digit needs 8 digits, got {digits8!r}")
    # With a 0 in the check position the checksum is sum % 11; the check digit c must
    # bring it to 0, so c = -sum mod 11 (11 - r, or 0 when r == 0); 10 is not a digit.
    check = -_stdnum_orgnr.checksum(digits8 + "0") % 11
    if check == 10:
        raise InvalidIdentifier(f"no valid {_NAME} starts with {digits8} (MOD11 gives 10)")
    return str(check)


def validate(value: str, *, strict: bool = False) -> str:
    """Return the compact form, or raise :class:`InvalidIdentifier`.

    With ``strict=True`` the MOD11 check digit is verified as well.
    """
    number = compact(value)
    if not _is_ascii_digits(number):
        raise InvalidIdentifier(f"{_NAME} must contain only digits 0-9, got {value!r}")
    if len(number) != 9:
        raise InvalidIdentifier(f"{_NAME} must have 9 digits, got {len(number)}")
    if strict and _stdnum_orgnr.checksum(number) != 0:
        calc_check_digit(number[:8])  # raises the "MOD11 gives 10" error for such a body
        raise InvalidIdentifier(f"{_NAME} {number} fails its MOD11 check digit")
    return number


def is_valid(value: str, *, strict: bool = False) -> bool:
    """Return whether :func:`validate` accepts ``value``."""
    try:
        validate(value, strict=strict)
    except InvalidIdentifier:
        return False
    return True


def format(value: str) -> str:
    """Return the number as ``123 456 789`` (raises if not well formed)."""
    number = validate(value)
    return f"{number[:3]} {number[3:6]} {number[6:]}"
