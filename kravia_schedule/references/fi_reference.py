"""Finnish reference number (viitenumero), the domestic payment reference in Finland.

Defined by Finance Finland (Finanssiala, formerly FK; "Kotimaisen viitteen rakenneohje",
finanssiala.fi/wp-content/uploads/2021/03/kotimaisen_viitteen_rakenneohje.pdf): "no shorter
than four (4) digits (three digits and a check digit)", "the maximum length ... is 19 + 1
digits", so 4 to 20 digits in all (:data:`MIN_LENGTH`, :data:`MAX_LENGTH`); the guide's
wording as quoted by XMLdation's Finnish-reference page. Some banks take a 3-digit
reference such as ``123``; the guide does not, nor does this module. The body digits are
weighted 7, 3, 1,
7, 3, 1, ... from the right; check = (10 - sum % 10) % 10. Leading zeros carry no meaning
and are not printed (the machine-readable form pads to 20 digits with zeros, which does not
change the check digit), so :func:`compact` removes them along with whitespace. The
printed form groups the digits in fives from the right: ``1 23456 71234 56784``.

The same reference in international form is an ISO 11649 RF reference with the Finnish
number as its body: :func:`to_rf` (``1232`` -> ``RF111232``).

python-stdnum has no module for this scheme; the 7-3-1 arithmetic is here.

>>> generate("123"), format("1234567123456784"), to_rf("2348236")
('1232', '1 23456 71234 56784', 'RF332348236')
>>> validate("123")
Traceback (most recent call last):
    ...
kravia_schedule.errors.InvalidIdentifier: Finnish reference number must have 4-20 digits without leading zeros, got 3
"""

from __future__ import annotations

from kravia_schedule.errors import InvalidIdentifier
from kravia_schedule.references import rf

__all__ = [
    "MAX_LENGTH",
    "MIN_LENGTH",
    "calc_check_digit",
    "compact",
    "format",
    "generate",
    "is_valid",
    "to_rf",
    "validate",
]

MIN_LENGTH, MAX_LENGTH = 4, 20
_NAME = "Finnish reference number"
_WEIGHTS = (7, 3, 1)


def _is_ascii_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def compact(value: str) -> str:
    """Remove whitespace and leading zeros; do not validate."""
    return "".join(value.split()).lstrip("0")


def calc_check_digit(body: str) -> str:
    """Return the 7-3-1 check digit for ``body`` (3-19 digits, not starting with 0)."""
    if not _is_ascii_digits(body) or not MIN_LENGTH - 1 <= len(body) <= MAX_LENGTH - 1:
        raise InvalidIdentifier(
            f"{_NAME} check digit needs {MIN_LENGTH - 1}-{MAX_LENGTH - 1} digits 0-9, got {body!r}"
        )
    if body[0] == "0":
        raise InvalidIdentifier(
            f"{_NAME} body must not start with 0 (leading zeros are dropped), got {body!r}"
        )
    total = sum(int(d) * _WEIGHTS[i % 3] for i, d in enumerate(reversed(body)))
    return str(-total % 10)


def validate(value: str) -> str:
    """Return the compact reference (no leading zeros), or raise :class:`InvalidIdentifier`."""
    number = compact(value)
    if not _is_ascii_digits(number):
        if number == "" and value.strip():
            raise InvalidIdentifier(f"{_NAME} must not be all zeros, got {value!r}")
        raise InvalidIdentifier(f"{_NAME} must contain only digits 0-9, got {value!r}")
    if not MIN_LENGTH <= len(number) <= MAX_LENGTH:
        raise InvalidIdentifier(
            f"{_NAME} must have {MIN_LENGTH}-{MAX_LENGTH} digits without leading zeros, "
            f"got {len(number)}"
        )
    if calc_check_digit(number[:-1]) != number[-1]:
        raise InvalidIdentifier(f"{_NAME} {number} fails its 7-3-1 check digit")
    return number


def is_valid(value: str) -> bool:
    """Return whether :func:`validate` accepts ``value``."""
    try:
        validate(value)
    except InvalidIdentifier:
        return False
    return True


def generate(base: str) -> str:
    """Return ``base`` (3-19 digits, not starting with 0) with its check digit appended."""
    return base + calc_check_digit(base)


def format(value: str) -> str:
    """Return the reference in groups of five digits from the right (raises if not valid)."""
    number = validate(value)
    head = len(number) % 5
    groups = [number[:head]] if head else []
    groups += [number[i : i + 5] for i in range(head, len(number), 5)]
    return " ".join(groups)


def to_rf(value: str) -> str:
    """Return the ISO 11649 RF form of a valid Finnish reference: ``RF`` + check + reference."""
    return rf.generate(validate(value))
