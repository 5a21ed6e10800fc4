"""The bodies of the properties and checks every engine must pass, written once.

test_engines.py runs them against the engines of :data:`_engines.ENGINES`,
test_spark_engine.py against plan_spark at several partitionings (with Spark's own,
smaller example count). Each check takes the engine as ``plan(records, config,
**options)``.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from _engines import Engine
from hypothesis import strategies as st

from kravia_schedule import ProductType, TransactionStatus, plan_invoices, rules
from kravia_schedule.testing import PurchaseBatch, check_plan, purchase_batches


@st.composite
def any_status_batches(draw: st.DrawFn) -> PurchaseBatch:
    """A batch whose records are each in any status Dintero can report (the strategies'
    own mix is weighted towards the statuses that invoice)."""
    batch = draw(purchase_batches(max_size=25))
    statuses = st.sampled_from([s.value for s in TransactionStatus])
    for record in batch.records:
        if isinstance(record, dict) and draw(st.booleans()):
            record["status"] = draw(statuses)
    return batch


def plans_as_the_core(plan: Engine, batch: PurchaseBatch, as_of: date | None) -> None:
    """``plan`` gives ``plan_invoices``'s plan, which passes ``check_plan``."""
    options = {"as_of": as_of, "due_date_rule": random.Random(len(batch.records)).choice(
        ["unadjusted", "following"]
    )}  # fmt: skip
    got = plan(batch.records, batch.config, **options)
    assert got == plan_invoices(batch.records, batch.config, **options)
    check_plan(got, batch.records)


def does_not_depend_on_the_order(plan: Engine, batch: PurchaseBatch, seed: int) -> None:
    """``plan`` gives the same plan for the records in any order."""
    shuffled = list(batch.records)
    random.Random(seed).shuffle(shuffled)
    assert plan(shuffled, batch.config) == plan(batch.records, batch.config)


def every_status_and_product_type() -> list[dict[str, Any]]:
    """One grouped, one B2B and one B2C purchase in each status Dintero reports."""
    from _records import nordmann_record

    out = []
    for n, status in enumerate(s.value for s in TransactionStatus):
        for product in ProductType:
            out.append(
                nordmann_record(
                    f"{product.value[-3:]}-{n}",
                    f"2025-01-{n + 2:02d}T10:00:00+01:00",
                    status=status,
                    payment_product_type=product.value,
                )
            )
    return out


def follows_the_rules_outcomes(plan: Engine) -> None:
    """Each status and product type is invoiced or skipped as :func:`rules.outcome` says."""
    records = every_status_and_product_type()
    got = plan(records, None)
    assert got.rejected == ()
    invoiced = {tid for invoice in got.invoices for tid in invoice.transaction_ids}
    skipped = {s.transaction_id: s for s in got.skipped}
    for record in records:
        product = ProductType(record["payment_product_type"])
        outcome = rules.outcome(product, TransactionStatus(record["status"]), enabled=True)
        if outcome.invoiced:
            assert record["id"] in invoiced
        else:
            got_skip = skipped[record["id"]]
            assert (got_skip.reason, got_skip.detail) == (outcome.reason, outcome.detail)
