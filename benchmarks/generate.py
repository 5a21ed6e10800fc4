"""A seeded generator of realistic Dintero-shaped purchase sets.

A few large customers and a long tail (Zipf-like weights), several references per
company, 1–3 years of dates, NO/SE/FI, ~2 % voided authorizations and a share of
invalid records (amounts given as floats, which the library rejects).

The same arguments always give the same records, so every benchmark process can
regenerate the data instead of receiving it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from kravia_schedule import (
    InvalidPurchaseError,
    ProductType,
    Purchase,
    TransactionStatus,
    validate_billing_address,
)
from kravia_schedule.identifiers import fi_ytunnus, no_orgnr, se_orgnr

__all__ = ["VOIDED_SHARE", "customers", "purchases", "typed"]

_COUNTRY = [("NO", "NOK", "0151"), ("SE", "SEK", "111 57"), ("FI", "EUR", "00100")]
_CURRENCY = {"NO": "NOK", "SE": "SEK", "FI": "EUR"}
#: Share of grouped authorizations voided before billing (skipped by the planner).
VOIDED_SHARE = 0.02


def _org(rng: random.Random, country: str) -> str:
    while True:
        try:
            if country == "NO":
                body = f"{rng.randrange(80_000_000, 99_999_999)}"
                return body + no_orgnr.calc_check_digit(body)
            if country == "SE":
                body = f"{rng.randrange(200_000_000, 999_999_999)}"
                return body + se_orgnr.calc_check_digit(body)
            body = f"{rng.randrange(1_000_000, 9_999_999)}"
            return f"{body}-{fi_ytunnus.calc_check_digit(body)}"
        except ValueError:
            continue


def customers(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """``count`` business billing addresses, each with 1–3 references."""
    pool = []
    for number in range(count):
        country, _, postal = rng.choice(_COUNTRY)
        base = {
            "first_name": "Ola",
            "last_name": "Nordmann",
            "business_name": f"Company {number} {'AS' if country == 'NO' else 'AB' if country == 'SE' else 'Oy'}",
            "organization_number": _org(rng, country),
            "email": f"billing{number}@example.com",
            "phone_number": "+4799999999",
            "address_line": "Storgata 1",
            "postal_code": postal,
            "country": country,
        }
        for reference in range(rng.choice((1, 1, 2, 3))):
            pool.append(dict(base, customer_reference=f"dept-{reference}") if reference else base)
    return pool


def purchases(
    n: int, *, seed: int = 1, years: int = 2, invalid_share: float = 0.01
) -> list[dict[str, Any]]:
    """``n`` purchase records over ``years`` (1–3) years from 2024; the same seed gives the
    same records. About 2 % are voided and ``invalid_share`` have a float amount."""
    if not 1 <= years <= 3:
        raise ValueError(f"years must be 1, 2 or 3, got {years}")
    if not 0.0 <= invalid_share <= 1.0:
        raise ValueError(f"invalid_share must be within [0, 1], got {invalid_share}")
    rng = random.Random(seed)
    pool = customers(rng, max(10, n // 5))
    weights = [1 / (rank + 1) for rank in range(len(pool))]
    chosen = rng.choices(pool, weights=weights, k=n)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    span = int(timedelta(days=365 * years).total_seconds())
    records = []
    for number, address in enumerate(chosen):
        amount = rng.randrange(1_000, 5_000_000)
        record = {
            "id": f"T{number:09d}",
            "created_at": (start + timedelta(seconds=rng.randrange(span))).isoformat(),
            "amount": amount,
            "vat_amount": amount // 5,
            "currency": _CURRENCY[address["country"]],
            "status": "AUTHORIZATION_VOIDED" if rng.random() < VOIDED_SHARE else "AUTHORIZED",
            "payment_product_type": "kravia.invoice_b2b_grouped",
            "merchant_reference": f"order-{number}",
            "billing_address": address,
        }
        if rng.random() < invalid_share:
            record["amount"] = amount / 100  # a float: rejected
        records.append(record)
    return records


def typed(records: Iterable[Mapping[str, Any]]) -> list[Purchase]:
    """The valid ``records`` as :class:`Purchase` objects (invalid ones left out).

    The same objects ``Purchase.from_dict`` gives, built faster: each distinct billing
    address (the generator shares one dict per customer) is validated once. This is data
    preparation for the typed-input benchmarks, not something that is timed.
    """
    # Keyed by the dict's identity; the dict is kept alive with its result so the id
    # cannot be reused by another dict.
    addresses: dict[tuple[int, ProductType], tuple[object, Any]] = {}
    out = []
    for record in records:
        product = ProductType(record["payment_product_type"])
        raw = record["billing_address"]
        cached = addresses.get((id(raw), product))
        if cached is None:
            cached = addresses[id(raw), product] = (raw, validate_billing_address(raw, product))
        address = cached[1]
        try:
            out.append(
                Purchase(
                    record["id"],
                    datetime.fromisoformat(record["created_at"]),
                    record["amount"],
                    record["vat_amount"],
                    record["currency"],
                    TransactionStatus(record["status"]),
                    product,
                    address,
                    record.get("merchant_reference"),
                )
            )
        except InvalidPurchaseError:
            continue
    return out
