"""The test suite's one hand-made customer: Nordmann AS, a Norwegian business, and a
Dintero-shaped purchase record around its billing address.

``kravia_schedule.testing`` draws random customers for property tests; the example tests
need one fixed, valid record and state only what they change::

    nordmann_record("T1", "2021-01-05T10:00:00+01:00", 5000)
    nordmann_record("T2", "2021-01-20T10:00:00+01:00", 7000, business_name="NORDMANN AS")
    nordmann_address(organization_number=DROP)  # an address without the field

Every call builds fresh dicts, so a test may change what it gets.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

GROUPED = "kravia.invoice_b2b_grouped"

#: The billing address, valid for every product type (923609016 passes the strict check);
#: read-only, so no test can change it for the others.
NORDMANN_ADDRESS: Mapping[str, str] = MappingProxyType(
    {
        "first_name": "Ola",
        "last_name": "Nordmann",
        "business_name": "Nordmann AS",
        "organization_number": "923609016",
        "email": "ola@nordmann.no",
        "phone_number": "+4799999999",
        "address_line": "Storgata 1",
        "postal_code": "0151",
        "country": "NO",
    }
)

#: An override value that removes the field instead of setting it.
DROP: Any = object()
_FIFTH: Any = object()


def changed(base: Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
    """A copy of ``base`` with ``overrides``; ``DROP`` removes a field."""
    out = dict(base)
    for key, value in overrides.items():
        if value is DROP:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def nordmann_address(
    base: Mapping[str, Any] = NORDMANN_ADDRESS, **overrides: Any
) -> dict[str, Any]:
    """A copy of ``base`` (the Nordmann AS address) with ``overrides``; ``DROP`` removes a field."""
    return changed(base, **overrides)


def nordmann_record(
    id: str,
    created_at: str,
    amount: Any = 10_000,
    *,
    vat_amount: Any = _FIFTH,
    currency: str = "NOK",
    status: str = "AUTHORIZED",
    payment_product_type: str = GROUPED,
    merchant_reference: str | None = None,
    billing_address: Mapping[str, Any] = NORDMANN_ADDRESS,
    **address_overrides: Any,
) -> dict[str, Any]:
    """A purchase of Nordmann AS (or of ``billing_address``), with ``address_overrides``.

    ``vat_amount`` is a fifth of ``amount`` unless given; ``merchant_reference`` is left
    out unless given.
    """
    record: dict[str, Any] = {
        "id": id,
        "created_at": created_at,
        "amount": amount,
        "vat_amount": amount // 5 if vat_amount is _FIFTH else vat_amount,
        "currency": currency,
        "status": status,
        "payment_product_type": payment_product_type,
    }
    if merchant_reference is not None:
        record["merchant_reference"] = merchant_reference
    record["billing_address"] = nordmann_address(billing_address, **address_overrides)
    return record
