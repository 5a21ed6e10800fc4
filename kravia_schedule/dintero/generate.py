"""Realistic Dintero transactions, made up from the definition, for tests and benchmarks.

:func:`generate_transactions` yields transactions in the shape ``GET /v1/transactions``
returns (``Transaction``, lines 5967-6231): order lines at the Nordic VAT rates, events of
today's Kravia flow (``AUTHORIZE``, ``INITIATE_CAPTURE``, ``CAPTURE`` when paid), Kravia's
metadata, full billing and shipping addresses, and some card payments, as an unfiltered
list holds. Each is about 3 KB of JSON. The same ``seed`` gives the same transactions.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["business_customers", "generate_transactions", "realistic_transaction"]

_MARKETS = (
    # country, currency, standard VAT rate, reduced rates, postal code digits, places
    ("NO", "NOK", 25, (15, 12), 4, ("Oslo", "Bergen", "Trondheim", "Stavanger", "Tromsø")),
    ("SE", "SEK", 25, (12, 6), 5, ("Stockholm", "Göteborg", "Malmö", "Uppsala", "Umeå")),
    ("FI", "EUR", 25.5, (14, 10), 5, ("Helsinki", "Espoo", "Tampere", "Turku", "Oulu")),
)
_FIRST = ("Ola", "Kari", "Anna", "Erik", "Liisa", "Mikko", "Sofia", "Lars", "Ingrid", "Jukka")
_LAST = ("Nordmann", "Hansen", "Johansson", "Virtanen", "Lindqvist", "Berg", "Korhonen")
_BUSINESS = ("Fjord Bygg AS", "Nordlys Konsult AS", "Skärgård Handel AB", "Sisu Oy",
             "Polar Logistik AB", "Tunturi Tech Oy", "Bryggen Catering AS")  # fmt: skip
_GOODS = (
    ("Kontorstol ergonomisk", "physical"),
    ("Konsulenttime, rådgivning", "service"),
    ("Programvarelisens, 12 mnd", "digital"),
    ("Printerpapir A4, 5 pakker", "physical"),
    ("Kaffebønner 1 kg, økologisk", "physical"),
    ("Vedlikeholdsavtale, kvartal", "service"),
    ("Kurs: grunnleggende regnskap", "service"),
    ("Lagerhylle galvanisert", "physical"),
)
_PRODUCTS = ("kravia.invoice_b2b_grouped", "kravia.invoice_b2b", "kravia.invoice_b2c")
_ORG_TYPES = {"NO": "AS", "SE": "AB", "FI": "OY"}
_PHONE_PREFIX = {"NO": 47, "SE": 46, "FI": 358}


def _org_number(rng: random.Random, country: str) -> str:
    """A number of the country's format with a valid check digit (NO MOD11, SE Luhn,
    FI mod 11), so that ``strict`` validation accepts it too."""
    while True:
        if country == "NO":
            body = [rng.randint(8, 9)] + [rng.randint(0, 9) for _ in range(7)]
            rest = sum(d * w for d, w in zip(body, (3, 2, 7, 6, 5, 4, 3, 2), strict=True)) % 11
            check = 0 if rest == 0 else 11 - rest
            if check < 10:
                return "".join(map(str, [*body, check]))
        elif country == "SE":
            # 55 (a limited company); a third digit of 2 or more marks an organization
            body = [5, 5, rng.randint(2, 9)] + [rng.randint(0, 9) for _ in range(6)]
            total = 0
            for i, d in enumerate(body):
                doubled = d * 2 if i % 2 == 0 else d
                total += doubled - 9 if doubled > 9 else doubled
            digits = "".join(map(str, [*body, (10 - total % 10) % 10]))
            return f"{digits[:6]}-{digits[6:]}"
        else:
            body = [rng.randint(0, 9) for _ in range(7)]
            rest = sum(d * w for d, w in zip(body, (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
            if rest != 1:
                return "".join(map(str, body)) + f"-{0 if rest == 0 else 11 - rest}"


def _stamp(moment: datetime) -> str:
    """Dintero's format: UTC with milliseconds and ``Z`` (``2019-01-18T13:13:37.175Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def _address(rng: random.Random, market: tuple[Any, ...], business: bool) -> dict[str, Any]:
    country, _, _, _, postal_digits, places = market
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    postal = "".join(str(rng.randint(0, 9)) for _ in range(postal_digits))
    if country == "SE":
        postal = f"{postal[:3]} {postal[3:]}"
    address: dict[str, Any] = {
        "first_name": first,
        "last_name": last,
        "address_line": f"{rng.choice(('Storgata', 'Kungsgatan', 'Mannerheimintie'))} "
        f"{rng.randint(1, 120)}",
        "address_line_2": f"{rng.choice(('H0101', 'Lgh 1102', 'B 12'))}",
        "co_address": rng.choice(("", f"c/o {rng.choice(_LAST)}")) or None,
        "postal_code": postal,
        "postal_place": rng.choice(places),
        "country": country,
        "phone_number": f"+{_PHONE_PREFIX[country]}{rng.randint(40000000, 99999999)}",
        "email": f"{first.lower()}.{last.lower()}@example.com",
        "latitude": round(rng.uniform(55.0, 70.0), 6),
        "longitude": round(rng.uniform(5.0, 30.0), 6),
        "comment": rng.choice(("Ring på ved levering", "Leveres i resepsjonen", "")) or None,
    }
    if business:
        address["business_name"] = rng.choice(_BUSINESS)
        address["organization_number"] = _org_number(rng, country)
        address["organization_type"] = _ORG_TYPES[country]
        address["customer_reference"] = f"REF-{rng.randint(100, 999)}"
        address["cost_center"] = f"CC-{rng.randint(10, 99)}"
    return {k: v for k, v in address.items() if v is not None}


def realistic_transaction(
    rng: random.Random,
    index: int,
    start: datetime,
    customers: Mapping[str, Sequence[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """One transaction made from ``rng``; ``index`` makes its ids unique, ``start`` is the
    earliest creation time (aware). A business buyer is one of ``customers`` of its
    country (billing addresses, see :func:`business_customers`) when given, else made up."""
    market = rng.choice(_MARKETS)
    _, currency, standard, reduced, _, _ = market
    card = rng.random() < 0.15
    product_type = "dintero_psp.creditcard" if card else rng.choice(_PRODUCTS)
    created = start + timedelta(seconds=rng.randint(0, 90 * 86400), milliseconds=index % 1000)
    items = []
    for line in range(1, rng.randint(3, 6) + 1):
        description, kind = rng.choice(_GOODS)
        rate = rng.choice((standard, standard, *reduced))
        quantity = rng.randint(1, 5)
        amount = quantity * rng.randint(49, 4999) * 100
        item: dict[str, Any] = {
            "id": f"SKU-{rng.randint(1000, 9999)}",
            "line_id": str(line),
            "description": description,
            "quantity": quantity,
            "amount": amount,
            "vat": rate,
            "type": kind,
            "groups": [{"id": f"G{rng.randint(1, 9)}", "name": "Kontor"}],
        }
        items.append(item)
    amount = sum(item["amount"] for item in items)
    request = uuid.UUID(int=rng.getrandbits(128)).hex
    events: list[dict[str, Any]] = [
        {
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "event": "AUTHORIZE",
            "transaction_status": "AUTHORIZED",
            "success": True,
            "amount": amount,
            "created_at": _stamp(created + timedelta(seconds=2)),
            "request_id": request,
        }
    ]
    status = "AUTHORIZED"
    metadata: dict[str, Any] = {
        "merchant_name": "Eksempel Handel AS",
        "merchant_country": "NO",
        "session:profile_id": "P00000000.default",
        "payout": "payout_account",
    }
    if not card:
        invoice_number = f"K{rng.randint(100000, 999999)}"
        metadata["kravia:invoice_number"] = invoice_number
        metadata["kravia:invoice_url"] = f"https://api.dintero.com/v1/files/f-{request[:12]}"
        initiate = str(uuid.UUID(int=rng.getrandbits(128)))
        events.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128))),
                "event": "INITIATE_CAPTURE",
                "transaction_status": "AUTHORIZED",
                "success": True,
                "amount": amount,
                "created_at": _stamp(created + timedelta(minutes=5)),
                "request_id": initiate,
                "metadata": {
                    "kravia:invoice_number": invoice_number,
                    "kravia:invoice_date": (created + timedelta(days=1)).date().isoformat(),
                    "kravia:invoice_due_date": (created + timedelta(days=15)).date().isoformat(),
                    "kravia:invoice_id": f"inv-{rng.randint(10**6, 10**7)}",
                    "kravia:creditor_id": "cred-100",
                    "kravia:debtor_id": f"debt-{rng.randint(1000, 9999)}",
                },
            }
        )
    if card or rng.random() < 0.3:
        paid = amount if card or rng.random() < 0.8 else amount // 2
        status = "CAPTURED" if paid == amount else "PARTIALLY_CAPTURED"
        events.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128))),
                "event": "CAPTURE",
                "transaction_status": status,
                "success": True,
                "amount": paid,
                "created_at": _stamp(created + timedelta(days=rng.randint(0, 20), hours=1)),
                "request_id": uuid.UUID(int=rng.getrandbits(128)).hex,
            }
        )
    business = product_type != "kravia.invoice_b2c" and not card
    if business and customers:
        billing = dict(rng.choice(customers[market[0]]))  # a copy: callers may change it
    else:
        billing = _address(rng, market, business=business)
    return {
        "id": f"T{index:08d}.{request[:22]}",
        "created_at": _stamp(created),
        "updated_at": _stamp(created + timedelta(minutes=6)),
        "payment_product": "dintero_psp" if card else "kravia",
        "payment_product_type": product_type,
        "amount": amount,
        "currency": currency,
        "merchant_reference": f"order-{index}",
        "merchant_reference_2": f"ext-{rng.randint(10**5, 10**6)}",
        "channel": "ecommerce",
        "settlement_status": "NOT_SETTLED",
        "customer": {"email": billing["email"], "phone_number": billing["phone_number"]},
        "customer_ip": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0",
        "billing_address": billing,
        "shipping_address": billing,
        "status": status,
        "items": items,
        "url": {"callback_url": "https://shop.example.com/dintero/callback"},
        "events": events,
        "session_id": f"P00000000.{request[:22]}",
        "metadata": metadata,
    }


def generate_transactions(
    count: int, *, seed: int = 0, start: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """``count`` realistic transactions (see the module docstring), created within 90 days
    of ``start`` (default 2026-01-01T00:00Z)."""
    rng = random.Random(seed)
    first = start if start is not None else datetime(2026, 1, 1, tzinfo=UTC)
    customers = business_customers(random.Random(f"customers-{seed}"), max(1, count // 100))
    for index in range(count):
        yield realistic_transaction(rng, index, first, customers)


def business_customers(rng: random.Random, per_country: int) -> dict[str, list[dict[str, Any]]]:
    """``per_country`` business billing addresses in each market: the customers of a
    run, each buying again and again, so that grouped purchases share invoices
    (:func:`generate_transactions` makes one per 100 transactions in each country: about
    19 business purchases a customer over its 90 days, 3 grouped ones a month)."""
    return {
        market[0]: [_address(rng, market, business=True) for _ in range(per_country)]
        for market in _MARKETS
    }
