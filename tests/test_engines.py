"""One suite, every engine: the columnar engines and merge_plans plan as the core does.

The worked examples (tests/test_planning_examples.py) take the ``engine`` fixture; here
the properties: on random batches with every status, product type and the awkward
records the strategies draw, each engine's plan equals ``plan_invoices``'s and passes
``check_plan``. A rule tightened in :mod:`kravia_schedule.rules` is followed by every
engine, since each reads it from there.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

import pytest
from _engine_checks import (
    any_status_batches,
    does_not_depend_on_the_order,
    every_status_and_product_type,
    follows_the_rules_outcomes,
    plans_as_the_core,
)
from _engines import COLUMNAR, ENGINES
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kravia_schedule import (
    InvoicePlan,
    SkipReason,
    TransactionStatus,
    plan_invoices,
    rules,
)
from kravia_schedule.testing import PurchaseBatch, local_dates

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


@every_engine
@engine_settings
@given(batch=any_status_batches(), as_of=st.none() | local_dates())
def test_every_engine_plans_as_the_core(name: str, batch: PurchaseBatch, as_of: date | None):
    plans_as_the_core(partial(plan_with, name), batch, as_of)


@every_engine
@engine_settings
@given(batch=any_status_batches(), seed=st.integers(0, 2**32 - 1))
def test_no_engine_depends_on_the_order_of_the_input(name: str, batch: PurchaseBatch, seed: int):
    does_not_depend_on_the_order(partial(plan_with, name), batch, seed)


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_every_status_and_product_type_has_the_rules_outcome(name: str) -> None:
    follows_the_rules_outcomes(ENGINES[name])


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_a_tightened_rule_is_followed_by_every_engine(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if name in COLUMNAR:
        pytest.importorskip("polars", reason="the columnar engines need the [columnar] extra")
    records = every_status_and_product_type()
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
