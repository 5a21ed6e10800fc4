"""The ledger tests' shared parts: where a test ledger lives and the purchases they record.

PostgreSQL runs when KRAVIA_TEST_POSTGRES_URL points at a server where the test user may
create databases (`scripts/with-postgres` starts one); each test gets a database of its own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from _records import DROP, nordmann_record

PG_URL = os.environ.get("KRAVIA_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"]


def pg_database() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("KRAVIA_TEST_POSTGRES_URL is not set (scripts/with-postgres starts a server)")
    import psycopg

    name = f"kravia_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = PG_URL.rpartition("/")
    yield f"{base}/{name}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def purchase(
    tid: str,
    created_at: str,
    amount: int = 10_000,
    *,
    product: str = "kravia.invoice_b2b_grouped",
    status: str | None = None,
    currency: str = "NOK",
    reference: str | None = None,
) -> dict[str, Any]:
    address: dict[str, Any] = {}
    if reference is not None:
        address["customer_reference"] = reference
    if product == "kravia.invoice_b2c":
        address.update(business_name=DROP, organization_number=DROP)
    grouped = product == "kravia.invoice_b2b_grouped"
    status = status or ("AUTHORIZED" if grouped else "CAPTURED")
    return nordmann_record(
        tid, created_at, amount, currency=currency, status=status, payment_product_type=product,
        **address,
    )  # fmt: skip


JANUARY = [purchase("T1", "2021-01-05T10:00:00+01:00", 5000), purchase("T2", "2021-01-20T10:00:00+01:00", 7000)]  # fmt: skip


def many_customers(count: int) -> list[dict[str, Any]]:
    from benchmarks.generate import purchases as generated

    records = generated(count, seed=5, years=1, invalid_share=0.0)
    return [r for r in records if r["status"] == "AUTHORIZED"]
