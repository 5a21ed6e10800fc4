"""Hypothesis properties of dates and plans (1990–2100, NO/SE/FI, both intervals)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kravia_schedule import (
    BusinessCalendar,
    Interval,
    KraviaConfig,
    Purchase,
    billing_period,
    grouped_invoice_dates,
    merge_plans,
    plan_invoices,
    standard_invoice_dates,
)
from kravia_schedule.testing import (
    PurchaseBatch,
    aware_datetimes,
    check_plan,
    countries,
    local_dates,
    purchase_batches,
    purchases,
)

intervals = st.sampled_from(list(Interval))
days = st.integers(0, 365)
batch_settings = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@given(local_dates(), countries(), intervals, days)
def test_issue_date_is_first_business_day_after_the_period(day, country, interval, n):
    dates = grouped_invoice_dates(day, country=country, interval=interval, days_until_due=n)
    calendar = BusinessCalendar(country)
    period = dates.period
    assert period == billing_period(day, interval)
    assert day in period
    assert dates.issue_date > period.end
    assert calendar.is_business_day(dates.issue_date)
    assert (
        calendar.business_days(period.end + timedelta(days=1), dates.issue_date - timedelta(1))
        == []
    )
    assert (dates.due_date - dates.issue_date).days == n
    # the skipped days explain the whole move, one day each
    assert [s.day for s in dates.issue_skipped] == [
        period.end + timedelta(days=i + 1) for i in range((dates.issue_date - period.end).days - 1)
    ]


@given(local_dates(), local_dates(), countries(), intervals)
def test_a_later_purchase_never_gets_an_earlier_issue_date(a, b, country, interval):
    early, late = sorted((a, b))
    issue_early = grouped_invoice_dates(early, country=country, interval=interval).issue_date
    issue_late = grouped_invoice_dates(late, country=country, interval=interval).issue_date
    assert issue_early <= issue_late


@given(aware_datetimes(), countries(), days)
def test_standard_invoice_is_issued_on_the_local_date(when, country, n):
    dates = standard_invoice_dates(when, country=country, days_until_due=n)
    assert dates.issue_date == when.astimezone(country.zone).date()
    assert dates.days_until_due == n
    assert dates.period is None


@given(local_dates(), countries())
def test_roll_forward_lands_on_the_next_business_day(day, country):
    calendar = BusinessCalendar(country)
    rolled = calendar.roll_forward(day)
    assert rolled >= day
    assert calendar.is_business_day(rolled)
    assert calendar.business_days(day, rolled) == [rolled]
    assert calendar.roll_backward(rolled) == rolled
    assert calendar.advance(day, 0) == rolled


@given(local_dates(), countries())
def test_weekends_only_never_rolls_later_than_the_holiday_calendar(day, country):
    full = BusinessCalendar(country).roll_forward(day)
    literal = BusinessCalendar(country, weekends_only=True).roll_forward(day)
    assert literal <= full
    assert literal.weekday() < 5


@batch_settings
@given(purchase_batches())
def test_plan_invariants(batch: PurchaseBatch):
    plan = plan_invoices(batch.records, batch.config)
    check_plan(plan, batch.records)


@batch_settings
@given(purchase_batches(), local_dates())
def test_plan_invariants_with_states(batch: PurchaseBatch, as_of: date):
    plan = plan_invoices(batch.records, batch.config, as_of=as_of, due_date_rule="following")
    check_plan(plan, batch.records)


@batch_settings
@given(purchase_batches(), st.randoms(use_true_random=False))
def test_plan_does_not_depend_on_input_order(batch: PurchaseBatch, rng: random.Random):
    shuffled = list(batch.records)
    rng.shuffle(shuffled)
    assert plan_invoices(shuffled, batch.config) == plan_invoices(batch.records, batch.config)


@batch_settings
@given(purchase_batches(), st.randoms(use_true_random=False))
def test_merging_plans_of_two_batches_equals_planning_their_union(batch, rng):
    # Split by transaction id as the planner reads it (trimmed), so the two batches are
    # disjoint (a record sent twice stays within one batch, as in a real partitioned run).
    def key(record):
        value = record.get("id")
        return value.strip() if isinstance(value, str) else value

    left_ids = {key(r) for r in batch.records if rng.random() < 0.5}
    left = [r for r in batch.records if key(r) in left_ids]
    right = [r for r in batch.records if key(r) not in left_ids]
    merged = merge_plans(plan_invoices(left, batch.config), plan_invoices(right, batch.config))
    assert merged == plan_invoices(batch.records, batch.config)


@batch_settings
@given(purchase_batches(invalid=False, duplicates=False))
def test_amounts_are_conserved_per_currency(batch: PurchaseBatch):
    plan = plan_invoices(batch.records, batch.config)
    assert plan.rejected == ()
    totals: dict[str, int] = {}
    for record in batch.records:
        totals[record["currency"]] = totals.get(record["currency"], 0) + record["amount"]
    planned: dict[str, int] = {}
    for invoice in plan.invoices:
        planned[invoice.currency] = planned.get(invoice.currency, 0) + invoice.amount
    for skipped in plan.skipped:
        planned[skipped.currency] = planned.get(skipped.currency, 0) + skipped.amount
    assert planned == totals


@given(purchases())
def test_purchase_round_trips_through_its_dict(record):
    purchase = Purchase.from_dict(record)
    assert Purchase.from_dict(purchase.to_dict()) == purchase


@batch_settings
@given(purchase_batches(invalid=False, duplicates=False))
def test_typed_purchases_plan_like_their_dicts(batch: PurchaseBatch):
    typed = [Purchase.from_dict(r) for r in batch.records]
    assert plan_invoices(typed, batch.config) == plan_invoices(batch.records, batch.config)


@given(st.lists(purchases(), min_size=1, max_size=20))
def test_every_authorized_grouped_purchase_of_an_enabled_config_is_invoiced(records):
    for number, record in enumerate(records):
        record["id"] = f"T{number}"
    plan = plan_invoices(records, KraviaConfig.all_enabled())
    invoiced = {tid for invoice in plan.invoices for tid in invoice.transaction_ids}
    for record in records:
        grouped = record["payment_product_type"] == "kravia.invoice_b2b_grouped"
        assume(plan.rejected == ())
        if grouped and record["status"] == "AUTHORIZED":
            assert record["id"] in invoiced
