"""The invariant checker must catch broken plans, or the property tests prove nothing."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from _records import nordmann_record

from kravia_schedule import KraviaConfig, plan_invoices
from kravia_schedule.testing import check_plan

RECORDS = [
    nordmann_record("T1", "2021-03-05T10:00:00+01:00", 5000),
    nordmann_record("T2", "2021-03-20T10:00:00+01:00", 7000),
    nordmann_record("T3", "2021-03-21T10:00:00+01:00", 1000, status="AUTHORIZATION_VOIDED"),
    nordmann_record(
        "T4",
        "2021-03-22T10:00:00+01:00",
        1000,
        payment_product_type="kravia.invoice_b2b",
        status="CAPTURED",
    ),
    nordmann_record("T5", "2021-03-22T10:00:00+01:00", amount=1.5),
]


@pytest.fixture
def plan():
    result = plan_invoices(RECORDS, KraviaConfig.all_enabled())
    check_plan(result, RECORDS)  # the honest plan passes
    return result


def _grouped(plan):
    return next(i for i in plan.invoices if i.period is not None)


def _tamper_invoice(plan, **changes):
    target = _grouped(plan)
    invoices = tuple(dataclasses.replace(i, **changes) if i is target else i for i in plan.invoices)
    return dataclasses.replace(plan, invoices=invoices)


def test_honest_plan_has_the_expected_shape(plan):
    assert [len(i.lines) for i in plan.invoices] == [1, 2]  # standard 22 Mar, grouped 1 Apr
    assert [s.transaction_id for s in plan.skipped] == ["T3"]
    assert [r.transaction_id for r in plan.rejected] == ["T5"]


@pytest.mark.parametrize(
    ("what", "tamper"),
    [
        ("a dropped line", lambda p: _tamper_invoice(p, lines=_grouped(p).lines[:1])),
        ("a wrong total", lambda p: _tamper_invoice(p, amount=_grouped(p).amount + 1)),
        ("a wrong VAT total", lambda p: _tamper_invoice(p, vat_amount=0)),
        (
            "a late issue date",
            lambda p: _tamper_invoice(p, issue_date=_grouped(p).issue_date + timedelta(1)),
        ),
        (
            "a wrong due date",
            lambda p: _tamper_invoice(p, due_date=_grouped(p).due_date + timedelta(1)),
        ),
        ("reversed lines", lambda p: _tamper_invoice(p, lines=_grouped(p).lines[::-1])),
        ("a lost skip", lambda p: dataclasses.replace(p, skipped=())),
        ("a lost rejection", lambda p: dataclasses.replace(p, rejected=())),
        (
            "a duplicated invoice",
            lambda p: dataclasses.replace(p, invoices=p.invoices + p.invoices[:1]),
        ),
    ],
)
def test_checker_catches(plan, what, tamper):
    with pytest.raises(AssertionError, match="plan invariant broken"):
        check_plan(tamper(plan), RECORDS)
