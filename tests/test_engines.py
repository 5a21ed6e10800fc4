"""One suite, every engine: the columnar engines and merge_plans plan as the core does.

The worked examples (tests/test_planning_examples.py) take the ``engine`` fixture; here
the properties: on random batches with every status, product type and the awkward
records the strategies draw, each engine's plan equals ``plan_invoices``'s and passes
``check_plan``. A rule tightened in :mod:`kravia_schedule.rules` is followed by every
engine, since each reads it from there.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest
from _engines import COLUMNAR, ENGINES
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kravia_schedule import (
    InvoicePlan,
    ProductType,
    SkipReason,
    TransactionStatus,
    plan_invoices,
    rules,
)
from kravia_schedule.testing import PurchaseBatch, check_plan, local_dates, purchase_batches

OTHERS = sorted(set(ENGINES) - {"core"})
every_engine = pytest.mark.parametrize("name", OTHERS)
engine_settings = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def plan_with(name: str, records: list[Any], config: Any, **options: Any) -> InvoicePlan:
    """``records`` planned by engine ``name``; a case the engine cannot take (see
    _engines.py) is discarded rather than passed."""
    if name in COLUMNAR:
        pytest.importorskip("polars", reason="the columnar engines need the [columnar] extra")
    try:
        return ENGINES[name](records, config, **options)
    except pytest.skip.Exception:
        assume(False)
        raise


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


@every_engine
@engine_settings
@given(batch=any_status_batches(), as_of=st.none() | local_dates())
def test_every_engine_plans_as_the_core(name: str, batch: PurchaseBatch, as_of: date | None):
    options = {"as_of": as_of, "due_date_rule": random.Random(len(batch.records)).choice(
        ["unadjusted", "following"]
    )}  # fmt: skip
    plan = plan_with(name, batch.records, batch.config, **options)
    assert plan == plan_invoices(batch.records, batch.config, **options)
    check_plan(plan, batch.records)


@every_engine
@engine_settings
@given(batch=any_status_batches(), seed=st.integers(0, 2**32 - 1))
def test_no_engine_depends_on_the_order_of_the_input(name: str, batch: PurchaseBatch, seed: int):
    shuffled = list(batch.records)
    random.Random(seed).shuffle(shuffled)
    assert plan_with(name, shuffled, batch.config) == plan_with(name, batch.records, batch.config)


def _records() -> list[dict[str, Any]]:
    from _records import nordmann_record

    statuses = [s.value for s in TransactionStatus]
    out = []
    for n, status in enumerate(statuses):
        for product in ("kravia.invoice_b2b_grouped", "kravia.invoice_b2b", "kravia.invoice_b2c"):
            out.append(
                nordmann_record(
                    f"{product[-3:]}-{n}",
                    f"2025-01-{n + 2:02d}T10:00:00+01:00",
                    status=status,
                    payment_product_type=product,
                )
            )
    return out


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_every_status_and_product_type_has_the_rules_outcome(name: str) -> None:
    records = _records()
    plan = ENGINES[name](records, None)
    assert plan.rejected == ()
    invoiced = {tid for invoice in plan.invoices for tid in invoice.transaction_ids}
    skipped = {s.transaction_id: s for s in plan.skipped}
    for record in records:
        product = ProductType(record["payment_product_type"])
        outcome = rules.outcome(product, TransactionStatus(record["status"]), enabled=True)
        if outcome.invoiced:
            assert record["id"] in invoiced
        else:
            got = skipped[record["id"]]
            assert (got.reason, got.detail) == (outcome.reason, outcome.detail)


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_a_tightened_rule_is_followed_by_every_engine(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if name in COLUMNAR:
        pytest.importorskip("polars", reason="the columnar engines need the [columnar] extra")
    records = _records()
    before = ENGINES[name](records, None)
    settled = {
        r["id"]
        for r in records
        if r["status"] == "SETTLED" and r["payment_product_type"] != "kravia.invoice_b2b_grouped"
    }
    assert settled <= {t for i in before.invoices for t in i.transaction_ids}
    # No longer invoice SETTLED standard purchases, nor any grouped one.
    monkeypatch.setattr(
        rules, "STANDARD_INVOICED", rules.STANDARD_INVOICED - {TransactionStatus.SETTLED}
    )
    monkeypatch.setattr(rules, "GROUPED_INVOICED", frozenset())
    after = ENGINES[name](records, None)
    assert after == plan_invoices(records)
    assert not any(i.product_type.is_grouped for i in after.invoices)
    skipped = {s.transaction_id: s.reason for s in after.skipped}
    assert {skipped[t] for t in settled} == {SkipReason.STATUS}
    assert {t for i in after.invoices for t in i.transaction_ids}.isdisjoint(settled)
