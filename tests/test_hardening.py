"""Hostile input the planner must survive: one record never stops a billing run, and no
transaction is counted twice (issue: hardening). Every engine where it applies."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from _records import NORDMANN_ADDRESS, nordmann_record

from kravia_schedule import (
    BusinessCalendar,
    CalendarRangeError,
    InvalidOption,
    InvalidPurchaseError,
    KraviaConfig,
    MergeConflictError,
    NaiveDatetimeError,
    PlanOptions,
    ProductType,
    Purchase,
    TransactionStatus,
    merge_plans,
    plan_invoices,
    rules,
    validate_billing_address,
)
from kravia_schedule.testing import check_plan

B2B = "kravia.invoice_b2b"


def test_a_purchase_in_year_9999_is_rejected_not_a_crash(engine) -> None:
    records = [
        nordmann_record("Y-1", "9999-12-15T10:00:00Z"),  # its invoice: January 10000
        nordmann_record("Y-2", "9999-12-15T10:00:00Z", status="CAPTURED", payment_product_type=B2B),
        nordmann_record("OK-1", "2025-01-05T10:00:00Z"),
    ]
    plan = engine(records, KraviaConfig.all_enabled(days_until_due=365))
    assert [i.transaction_ids for i in plan.invoices] == [("OK-1",)]
    reasons = {r.transaction_id: (r.field, r.reason) for r in plan.rejected}
    assert reasons == {
        "Y-1": ("created_at", "created_at: 1 day after 9999-12-31 is past the last date there "
                "is (9999-12-31)"),
        "Y-2": ("created_at", "created_at: 365 days after 9999-12-15 is past the last date "
                "there is (9999-12-31)"),
    }  # fmt: skip
    check_plan(plan, records)


@pytest.mark.parametrize("options", [{}, {"weekends_only": True, "due_date_rule": "following"}])
def test_a_due_date_past_year_9999_is_rejected_under_every_calendar(options) -> None:
    record = nordmann_record(
        "Y-3", "9999-11-15T10:00:00Z", status="CAPTURED", payment_product_type=B2B
    )
    plan = plan_invoices([record], KraviaConfig.all_enabled(days_until_due=365), **options)
    assert [r.transaction_id for r in plan.rejected] == ["Y-3"]
    assert "past the last date" in plan.rejected[0].reason


def _typed(**changes: object) -> Purchase:
    fields: dict[str, object] = {
        "id": "P6",
        "created_at": datetime(2025, 1, 5, 10, tzinfo=UTC),
        "amount": 10_000,
        "vat_amount": 2_000,
        "currency": "NOK",
        "status": TransactionStatus.AUTHORIZED,
        "product_type": ProductType.B2B_GROUPED,
        "billing_address": validate_billing_address(NORDMANN_ADDRESS, ProductType.B2B_GROUPED),
    }
    return Purchase(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_typed_id_is_trimmed_as_a_mappings_is() -> None:
    typed = _typed(id=" P6 ")
    assert typed.id == "P6"
    mapping = nordmann_record(" P6 ", "2025-01-05T10:00:00Z", 10_000)
    plan = plan_invoices([typed, mapping])
    # The same transaction sent both ways: one line, the other copy an identical repeat.
    assert [i.transaction_ids for i in plan.invoices] == [("P6",)]
    assert [(r.transaction_id, r.field) for r in plan.rejected] == [("P6", "id")]
    check_plan(plan, [typed, mapping])


def test_a_typed_purchase_takes_its_status_and_product_type_as_text() -> None:
    typed = _typed(status="AUTHORIZED", product_type="kravia.invoice_b2b_grouped")
    assert typed.status is TransactionStatus.AUTHORIZED
    assert typed.product_type is ProductType.B2B_GROUPED
    assert plan_invoices([typed]).invoices[0].transaction_ids == ("P6",)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "PAID"}, "status"),
        ({"product_type": "kravia.invoice"}, "product_type"),
        ({"billing_address": dict(NORDMANN_ADDRESS)}, "billing_address"),
        ({"merchant_reference": 17}, "merchant_reference"),
        ({"id": "   "}, "id"),
    ],
)
def test_a_typed_purchase_refuses_what_a_plan_could_not_use(changes, field) -> None:
    with pytest.raises(InvalidPurchaseError) as raised:
        _typed(**changes)
    assert [p.path for p in raised.value.problems] == [field]
    assert raised.value.transaction_id == ("P6" if field != "id" else "")


def test_a_typed_purchase_refuses_an_address_the_validator_would_not_give() -> None:
    valid = validate_billing_address(NORDMANN_ADDRESS, ProductType.B2B_GROUPED)
    with pytest.raises(InvalidPurchaseError) as raised:  # a B2C address on a B2B purchase
        _typed(billing_address=replace(valid, business_name=None, organization_number=None))
    assert {p.path for p in raised.value.problems} == {
        "billing_address.business_name",
        "billing_address.organization_number",
    }
    with pytest.raises(InvalidPurchaseError, match="validate_billing_address"):
        _typed(billing_address=replace(valid, first_name="  Kari  "))  # not trimmed


def test_merge_refuses_an_id_whose_copies_are_split_over_two_plans() -> None:
    a1 = nordmann_record("D-1", "2025-01-05T10:00:00Z", 10_000)
    a2 = nordmann_record("D-1", "2025-01-05T10:00:00Z", 20_000)
    b = nordmann_record("D-1", "2025-01-05T10:00:00Z", 30_000)
    union = plan_invoices([a1, a2, b])
    assert union.invoices == ()  # three conflicting copies: all rejected
    first, second = plan_invoices([a1, a2]), plan_invoices([b])
    assert second.invoices[0].transaction_ids == ("D-1",)
    with pytest.raises(MergeConflictError, match="D-1"):
        merge_plans(first, second)


def test_options_are_one_object_and_the_plan_records_them() -> None:
    options = PlanOptions.of(as_of=date(2025, 3, 1), closed_days={"no": [date(2025, 2, 3)]})
    record = nordmann_record("O-1", "2025-01-05T10:00:00Z")
    plan = plan_invoices([record], options=options)
    assert plan == plan_invoices(
        [record], as_of=date(2025, 3, 1), closed_days={"NO": {date(2025, 2, 3): "closed"}}
    )
    assert plan.provenance.options == options
    assert plan.invoices[0].issue_date == date(2025, 2, 4)  # 3 February closed
    # Keywords change an options object.
    later = plan_invoices([record], options=options, as_of=date(2025, 2, 4))
    assert later.provenance.as_of == date(2025, 2, 4)
    assert later.provenance.closed_days == options.closed_days


@pytest.mark.parametrize(
    ("options", "paths"),
    [
        ({"due_date_rule": "preceding"}, ["due_date_rule"]),
        ({"calendar_kind": "lunar"}, ["calendar_kind"]),
        ({"as_of": "2025-03-01"}, ["as_of"]),
        ({"strict": "yes", "weekends_only": 1}, ["strict", "weekends_only"]),
        ({"closed_days": {"DK": [date(2025, 1, 2)]}}, ["closed_days.DK"]),
        ({"closed_days": {"NO": ["2025-01-02"]}}, ["closed_days.NO"]),
        ({"closed_days": [date(2025, 1, 2)]}, ["closed_days"]),
        ({"as_of_date": date(2025, 1, 2)}, ["as_of_date"]),
    ],
)
def test_every_invalid_option_is_named(options, paths) -> None:
    with pytest.raises(InvalidOption) as raised:
        plan_invoices([], **options)
    assert [p.path for p in raised.value.problems] == paths


def test_a_naive_as_of_is_refused_as_before() -> None:
    with pytest.raises(NaiveDatetimeError):
        plan_invoices([], as_of=datetime(2025, 3, 1, 12))


def test_closed_days_without_end_reject_the_records_they_strand(engine) -> None:
    closed = [date(2025, 1, 1) + timedelta(days=n) for n in range(400)]
    records = [
        nordmann_record("C-1", "2025-01-05T10:00:00Z"),  # no business day after January
        nordmann_record("C-2", "2025-01-05T10:00:00Z", country="SE", postal_code="111 51",
                        organization_number="5560360793"),
    ]  # fmt: skip
    plan = engine(records, None, closed_days={"NO": closed})
    assert [i.transaction_ids for i in plan.invoices] == [("C-2",)]
    [rejection] = plan.rejected
    assert (rejection.transaction_id, rejection.field) == ("C-1", "created_at")
    assert "no business day within 366 days of 2025-02-01" in rejection.reason


@pytest.mark.parametrize("amount", [rules.MAX_AMOUNT + 1, 2**62, 2**63, 10**25])
def test_an_amount_beyond_the_bound_is_rejected_by_every_engine(engine, amount) -> None:
    records = [
        nordmann_record("M-1", "2025-01-05T10:00:00Z", amount, vat_amount=0),
        nordmann_record("M-2", "2025-01-06T10:00:00Z", rules.MAX_AMOUNT, vat_amount=0),
    ]
    plan = engine(records, None)
    assert [i.transaction_ids for i in plan.invoices] == [("M-2",)]
    [rejection] = plan.rejected
    assert (rejection.transaction_id, rejection.field) == ("M-1", "amount")
    assert "exceeds the largest amount accepted" in rejection.reason


def test_rolling_past_the_last_date_there_is_a_calendar_range_error() -> None:
    calendar = BusinessCalendar("NO", weekends_only=True, closed_days=[date(9999, 12, 31)])
    with pytest.raises(CalendarRangeError, match="no business day after 9999-12-31"):
        calendar.roll_forward(date(9999, 12, 31))
    record = nordmann_record("Z-1", "9999-12-30T10:00:00Z", status="CAPTURED",
                             payment_product_type=B2B)  # fmt: skip
    plan = plan_invoices(
        [record], KraviaConfig.all_enabled(days_until_due=1), weekends_only=True,
        due_date_rule="following", closed_days={"NO": [date(9999, 12, 31)]},
    )  # fmt: skip
    assert [(r.transaction_id, r.field) for r in plan.rejected] == [("Z-1", "created_at")]


def test_a_mapping_may_give_created_at_as_an_aware_datetime(engine) -> None:
    text = nordmann_record("D-1", "2025-01-31T23:30:00Z")
    typed = {**text, "created_at": datetime(2025, 1, 31, 23, 30, tzinfo=UTC)}
    assert engine([typed], None) == engine([text], None)  # 1 February in Oslo either way
    naive = {**text, "created_at": datetime(2025, 1, 31, 23, 30)}
    [rejection] = engine([naive], None).rejected
    assert rejection.field == "created_at"
    assert "has no time zone" in rejection.reason


def test_a_line_gives_the_local_date_its_period_was_taken_from(engine) -> None:
    [invoice] = engine([nordmann_record("L-1", "2025-10-31T23:30:00Z")], None).invoices
    assert invoice.lines[0].created_at.date() == date(2025, 10, 31)  # as given, in UTC
    assert invoice.line_dates == (date(2025, 11, 1),)  # in Oslo: November's invoice
    assert invoice.period is not None
    assert invoice.period.label == "2025-11"
