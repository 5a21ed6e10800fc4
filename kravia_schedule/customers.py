"""Who a grouped invoice is for: the customer key and how spellings are matched.

The documents identify a customer by business name, organization number and country,
and invoice different ``customer_reference`` values separately. Spellings that differ
only in Unicode form, surrounding or repeated whitespace, or (for the name) letter case
are the same customer; so are the written forms of one organization number.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from kravia_schedule.address import BillingAddress
from kravia_schedule.countries import Country

__all__ = ["CustomerKey", "customer_key", "normalize_name", "normalize_reference"]


def normalize_reference(value: str | None) -> str:
    """NFKC, trimmed, inner whitespace collapsed; ``None`` and ``""`` are the same.

    Not cached: a plan asks once per billing address, a billing run has more distinct
    names than an ``lru_cache`` holds, and a miss costs more than computing the value
    (ASCII text, already in NFKC, skips that step).
    """
    if not value:
        return ""
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value)
    return " ".join(value.split())


def normalize_name(value: str | None) -> str:
    """:func:`normalize_reference`, then case-folded (``"NORDMANN  as"`` ~ ``"Nordmann AS"``)."""
    return normalize_reference(value).casefold()


@dataclass(frozen=True, slots=True, order=True)
class CustomerKey:
    """The normalized identity a grouped invoice is keyed on (without currency)."""

    country: Country
    organization_number: str
    business_name: str
    customer_reference: str

    def __str__(self) -> str:
        ref = f" ref={self.customer_reference!r}" if self.customer_reference else ""
        return f"{self.country.value} {self.organization_number} {self.business_name!r}{ref}"


def customer_key(address: BillingAddress) -> CustomerKey:
    """The :class:`CustomerKey` of a validated business billing address."""
    return CustomerKey(
        address.country,
        address.org_number_key or "",
        normalize_name(address.business_name),
        normalize_reference(address.customer_reference),
    )
