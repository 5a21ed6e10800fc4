"""A seeded generator of realistic Dintero-shaped purchase sets.

A few large customers and a long tail (Zipf-like weights), several references per
company, 1–3 years of dates, NO/SE/FI, ~2 % voided authorizations and a share of
invalid records (amounts given as floats, which the library rejects).

The same arguments always give the same records. A benchmark run generates each size
once and caches it (:func:`write_cache`, ``marshal``: about 6x as fast to load as to
generate, with shared billing-address dicts kept shared); every engine process loads it
(:func:`load_cache`).
"""

from __future__ import annotations

import gc
import hashlib
import marshal
import os
import random
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kravia_schedule import (
    InvalidPurchaseError,
    ProductType,
    Purchase,
    TransactionStatus,
    validate_billing_address,
)
from kravia_schedule.identifiers import fi_ytunnus, no_orgnr, se_orgnr

__all__ = [
    "GENERATOR_VERSION",
    "VOIDED_SHARE",
    "cache_path",
    "customers",
    "load_cache",
    "purchases",
    "typed",
    "write_cache",
]

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
    with _gc_paused():
        return _purchases(n, seed, years, invalid_share)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: the records hold no reference cycles, and the
    collections millions of new objects trigger would find nothing (a quarter of the
    generation time at 10^6)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _purchases(n: int, seed: int, years: int, invalid_share: float) -> list[dict[str, Any]]:
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


# -- the cache of generated records -----------------------------------------------

#: What the records depend on besides the arguments: this file (the generator) and the
#: Python version (``random``'s algorithms and the ``marshal`` format).
GENERATOR_VERSION = (
    hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    + f"-py{sys.version_info[0]}{sys.version_info[1]}-m{marshal.version}"
)


def cache_path(
    directory: str | os.PathLike[str],
    n: int,
    *,
    seed: int = 1,
    years: int = 2,
    invalid_share: float = 0.01,
) -> Path:
    """Where :func:`write_cache` puts ``purchases(n, seed=..., ...)`` in ``directory``."""
    name = f"purchases-n{n}-seed{seed}-years{years}-invalid{invalid_share!r}-{GENERATOR_VERSION}"
    return Path(directory) / f"{name}.marshal"


def write_cache(records: list[dict[str, Any]], path: str | os.PathLike[str]) -> int:
    """Store ``records`` at ``path`` (atomically); returns the file's size in bytes.

    ``marshal`` keeps an object referenced twice as one object (the billing-address dict a
    customer's purchases share, which :func:`typed` validates once) and re-interns the
    strings that were interned (the field names), so the loaded records are the generated
    ones, down to their sharing. It loads ~6x as fast as :func:`purchases` generates.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        with partial.open("wb") as file:
            marshal.dump((GENERATOR_VERSION, len(records), records), file, 4)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path.stat().st_size


def load_cache(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The records :func:`write_cache` stored at ``path``."""
    with _gc_paused():
        # From bytes: marshal.load(file) reads a file object piece by piece, 10x slower.
        version, count, records = marshal.loads(Path(path).read_bytes())
    if version != GENERATOR_VERSION or count != len(records):
        raise ValueError(f"{path}: not a cache of this generator ({version}, {count} records)")
    return records


#: The slot setters of :class:`Purchase`, in field order, when its fields are the ones
#: :func:`typed` fills (``None`` otherwise: every purchase then goes through the
#: constructor). Setting slots directly skips the frozen dataclass's ``__init__``.
_FIELDS = ("id", "created_at", "amount", "vat_amount", "currency", "status", "product_type",
           "billing_address", "merchant_reference", "items")  # fmt: skip
_SETTERS: tuple[Any, ...] | None = (
    tuple(vars(Purchase)[name].__set__ for name in _FIELDS)
    if tuple(f.name for f in fields(Purchase)) == _FIELDS
    and all(hasattr(vars(Purchase).get(name), "__set__") for name in _FIELDS)
    else None
)
_STATUSES = {s.value: s for s in TransactionStatus}
_PRODUCTS = {p.value: p for p in ProductType}
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")


def typed(records: Iterable[Mapping[str, Any]]) -> list[Purchase]:
    """The valid ``records`` as :class:`Purchase` objects (invalid ones left out).

    The same objects ``Purchase.from_dict`` gives, built faster: each distinct billing
    address (the generator shares one dict per customer) is validated once, and a record
    whose fields are plainly valid (the checks of ``Purchase.__post_init__``, done inline)
    gets its slots set directly; any other goes through the constructor, which validates
    it. This is data preparation for the typed-input benchmarks, not something timed.
    """
    with _gc_paused():
        return _typed(records)


def _typed(records: Iterable[Mapping[str, Any]]) -> list[Purchase]:
    # Keyed by the dict's identity; the dict is kept alive with its result so the id
    # cannot be reused by another dict.
    addresses: dict[tuple[int, ProductType], tuple[object, Any]] = {}
    currencies: set[str] = set()
    new, fromisoformat = object.__new__, datetime.fromisoformat
    out = []
    for record in records:
        product = _PRODUCTS.get(record["payment_product_type"])
        if product is None:
            product = ProductType(record["payment_product_type"])  # unknown: ValueError
        raw = record["billing_address"]
        cached = addresses.get((id(raw), product))
        if cached is None:
            cached = addresses[id(raw), product] = (raw, validate_billing_address(raw, product))
        address = cached[1]
        pid, amount, vat, currency = (
            record["id"], record["amount"], record["vat_amount"], record["currency"]
        )  # fmt: skip
        created_at = fromisoformat(record["created_at"])
        status = _STATUSES.get(record["status"])
        if (
            _SETTERS is not None
            and type(pid) is str
            and pid
            and type(amount) is int
            and type(vat) is int
            and amount > 0
            and 0 <= vat <= amount
            and created_at.utcoffset() is not None
            and status is not None
            and (currency in currencies or _plain_currency(currency, currencies))
        ):
            purchase = new(Purchase)
            values = (pid, created_at, amount, vat, currency, status, product, address,
                      record.get("merchant_reference"), ())  # fmt: skip
            for set_slot, value in zip(_SETTERS, values, strict=True):
                set_slot(purchase, value)
            out.append(purchase)
            continue
        try:
            out.append(
                Purchase(
                    pid,
                    created_at,
                    amount,
                    vat,
                    currency,
                    TransactionStatus(record["status"]),
                    product,
                    address,
                    record.get("merchant_reference"),
                )
            )
        except InvalidPurchaseError:
            continue
    return out


def _plain_currency(currency: object, known: set[str]) -> bool:
    """Whether ``currency`` passes ``Purchase``'s check (an ISO 4217-shaped code)."""
    if type(currency) is not str or not _CURRENCY_CODE.fullmatch(currency):
        return False
    known.add(currency)
    return True
