"""A seeded generator of realistic Dintero-shaped purchase sets.

A few large customers and a long tail (Zipf-like weights), several references per
company, 1–3 years of dates, NO/SE/FI, and a small share of voided and invalid records.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from kravia_schedule.identifiers import fi_ytunnus, no_orgnr, se_orgnr

_COUNTRY = [("NO", "NOK", "0151"), ("SE", "SEK", "111 57"), ("FI", "EUR", "00100")]


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
    """``n`` purchase records; the same seed gives the same records."""
    rng = random.Random(seed)
    pool = customers(rng, max(10, n // 5))
    weights = [1 / (rank + 1) for rank in range(len(pool))]
    chosen = rng.choices(pool, weights=weights, k=n)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    span = int(timedelta(days=365 * years).total_seconds())
    currency = {"NO": "NOK", "SE": "SEK", "FI": "EUR"}
    records = []
    for number, address in enumerate(chosen):
        amount = rng.randrange(1_000, 5_000_000)
        record = {
            "id": f"T{number:09d}",
            "created_at": (start + timedelta(seconds=rng.randrange(span))).isoformat(),
            "amount": amount,
            "vat_amount": amount // 5,
            "currency": currency[address["country"]],
            "status": "AUTHORIZATION_VOIDED" if rng.random() < 0.02 else "AUTHORIZED",
            "payment_product_type": "kravia.invoice_b2b_grouped",
            "merchant_reference": f"order-{number}",
            "billing_address": address,
        }
        if rng.random() < invalid_share:
            record["amount"] = amount / 100  # a float: rejected
        records.append(record)
    return records
