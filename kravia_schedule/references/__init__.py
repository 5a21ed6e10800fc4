"""Payment references for Kravia invoices, in the style of python-stdnum.

A payment reference travels with the payment so the creditor can match it to the invoice
without reading free text. Each market has its own scheme, each a module with
``compact``, ``validate`` (the canonical compact form, or
:class:`~kravia_schedule.errors.InvalidIdentifier` saying what is wrong), ``is_valid``,
``calc_check_digit``, ``generate`` (base + check digit(s)) and ``format``:

* :mod:`kid`: Norwegian KID, MOD10 (Luhn) or MOD11 (``mod=11``);
* :mod:`ocr`: Swedish OCR number (Bankgirot), Luhn, optionally with a length digit;
* :mod:`fi_reference`: Finnish reference number (viitenumero), 7-3-1;
* :mod:`rf`: ISO 11649 RF creditor reference, MOD 97-10.

:class:`Scheme` names a scheme with its variant; :func:`validate_reference`,
:func:`is_valid_reference` and :func:`generate_reference` dispatch on it.
:func:`reference_for` derives a reference from an invoice id, deterministically, in the
country's usual scheme (:data:`DEFAULT_SCHEME`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from enum import StrEnum
from functools import partial

from kravia_schedule.errors import InvalidIdentifier
from kravia_schedule.references import fi_reference, kid, ocr, rf

__all__ = [
    "DEFAULT_SCHEME",
    "Scheme",
    "fi_reference",
    "generate_reference",
    "is_valid_reference",
    "kid",
    "ocr",
    "reference_for",
    "rf",
    "validate_reference",
]


class Scheme(StrEnum):
    """A payment-reference scheme together with its check-digit variant."""

    KID10 = "kid10"
    """Norwegian KID, MOD10 (Luhn) check digit."""
    KID11 = "kid11"
    """Norwegian KID, MOD11 check digit (may be ``-``)."""
    OCR = "ocr"
    """Swedish OCR number, Luhn check digit."""
    OCR_LENGTH = "ocr_length"
    """Swedish OCR number, length digit and Luhn check digit (Bankgirot's strictest check)."""
    FI = "fi"
    """Finnish reference number (viitenumero), 7-3-1 check digit."""
    RF = "rf"
    """ISO 11649 RF creditor reference, MOD 97-10 check digits."""


DEFAULT_SCHEME: dict[str, Scheme] = {"NO": Scheme.KID10, "SE": Scheme.OCR_LENGTH, "FI": Scheme.FI}
"""The scheme :func:`reference_for` uses for each country unless told otherwise."""

# The body digits reference_for may ask for: the scheme's length limits minus its check
# (and length) digits.
_BODY_DIGITS: dict[Scheme, tuple[int, int]] = {
    Scheme.KID10: (1, kid.MAX_LENGTH - 1),
    Scheme.KID11: (1, kid.MAX_LENGTH - 1),
    Scheme.OCR: (1, ocr.MAX_LENGTH - 1),
    Scheme.OCR_LENGTH: (1, ocr.MAX_LENGTH - 2),
    Scheme.FI: (fi_reference.MIN_LENGTH - 1, fi_reference.MAX_LENGTH - 1),
    Scheme.RF: (1, 21),
}
# Tries before giving up on a digits-only MOD11 KID; each fails with probability 1/11.
_MAX_ATTEMPTS = 64


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifier(f"{what} must be a string, got {type(value).__name__}")
    return value


def _scheme(scheme: Scheme | str) -> Scheme:
    try:
        return Scheme(_text(scheme, "scheme").strip().lower().replace("-", "_"))
    except ValueError:
        supported = ", ".join(s.value for s in Scheme)
        raise InvalidIdentifier(
            f"unknown payment reference scheme {scheme!r}; supported: {supported}"
        ) from None


# Each scheme's validate and generate, with its variant bound.
_FUNCTIONS: dict[Scheme, tuple[Callable[[str], str], Callable[[str], str]]] = {
    Scheme.KID10: (partial(kid.validate, mod=10), partial(kid.generate, mod=10)),
    Scheme.KID11: (partial(kid.validate, mod=11), partial(kid.generate, mod=11)),
    Scheme.OCR: (ocr.validate, ocr.generate),
    Scheme.OCR_LENGTH: (
        partial(ocr.validate, length_digit=True),
        partial(ocr.generate, length_digit=True),
    ),
    Scheme.FI: (fi_reference.validate, fi_reference.generate),
    Scheme.RF: (rf.validate, rf.generate),
}


def validate_reference(scheme: Scheme | str, value: str) -> str:
    """Return the canonical compact reference under ``scheme``, or raise ``InvalidIdentifier``."""
    return _FUNCTIONS[_scheme(scheme)][0](_text(value, "reference"))


def is_valid_reference(scheme: Scheme | str, value: str) -> bool:
    """Return whether ``value`` is a valid reference under ``scheme``.

    An unknown scheme still raises ``InvalidIdentifier``: it is a caller error, not a
    property of the reference.
    """
    resolved = _scheme(scheme)
    try:
        validate_reference(resolved, value)
    except InvalidIdentifier:
        return False
    return True


def generate_reference(scheme: Scheme | str, base: str) -> str:
    """Return the reference for ``base`` under ``scheme``: its ``generate``, dispatched."""
    return _FUNCTIONS[_scheme(scheme)][1](_text(base, "base"))


def _body(invoice_id: str, digits: int, attempt: int) -> str:
    """``digits`` decimal digits from the BLAKE2b hash of ``invoice_id``, first one 1-9.

    The hash, read as an integer, is reduced into [10**(digits-1), 10**digits), so the
    body never starts with 0 (a Finnish reference would lose it, a payer may drop it).
    ``attempt`` salts the hash; attempt 0 is the plain unsalted hash.
    """
    digest = hashlib.blake2b(
        invoice_id.encode("utf-8"), digest_size=32, salt=attempt.to_bytes(16, "big")
    ).digest()
    low = 10 ** (digits - 1)
    return str(low + int.from_bytes(digest, "big") % (9 * low))


def reference_for(
    invoice_id: str, country: str, scheme: Scheme | str | None = None, *, digits: int = 15
) -> str:
    """Return a payment reference derived from ``invoice_id``, valid under its scheme.

    The scheme is ``scheme`` when given, else ``country``'s :data:`DEFAULT_SCHEME` (NO KID
    MOD10, SE OCR with length digit, FI Finnish reference). The body is ``digits`` decimal
    digits from the BLAKE2b hash of the UTF-8 invoice id, never starting with 0, followed by
    the scheme's check (and length) digits, with ``RF`` and check digits in front for RF.
    The same id always gives the same reference. A MOD11 KID is never given a ``-`` check
    digit (payers must be able to type it as a number): the hash is salted and retried.

    Distinct ids can collide (with 15 digits, even odds around 40 million ids); a caller
    that needs uniqueness must check its issued references.
    """
    normalized_country = _text(country, "country").strip().upper()
    if normalized_country not in DEFAULT_SCHEME:
        supported = ", ".join(DEFAULT_SCHEME)
        raise InvalidIdentifier(
            f"no payment reference scheme for country {country!r}; supported: {supported}"
        )
    resolved = DEFAULT_SCHEME[normalized_country] if scheme is None else _scheme(scheme)
    low, high = _BODY_DIGITS[resolved]
    if isinstance(digits, bool) or not isinstance(digits, int) or not low <= digits <= high:
        raise InvalidIdentifier(
            f"a {resolved.value} reference body has {low}-{high} digits, got digits={digits!r}"
        )
    if not _text(invoice_id, "invoice id"):
        raise InvalidIdentifier("a payment reference needs a non-empty invoice id")
    for attempt in range(_MAX_ATTEMPTS):
        reference = generate_reference(resolved, _body(invoice_id, digits, attempt))
        if not reference.endswith("-"):
            return reference
    raise InvalidIdentifier(  # pragma: no cover - probability 11**-64
        f"no digits-only {resolved.value} reference for {invoice_id!r}"
    )
