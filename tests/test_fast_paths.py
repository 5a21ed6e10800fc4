"""The planner's shortcuts must give exactly what the plain definitions give."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kravia_schedule import Country, InvalidPurchaseError, Purchase, parse_purchase, plan_invoices
from kravia_schedule.planning import _LocalDays
from kravia_schedule.purchases import RecordReader, row_of
from kravia_schedule.testing import aware_datetimes, countries, invalid_purchases, purchases

records = st.one_of(purchases(), invalid_purchases())


@settings(max_examples=300)
@given(records, st.booleans())
def test_record_reader_agrees_with_parse_purchase(record, strict):
    reader = RecordReader(strict=strict)
    outcomes = []
    for read in (lambda r: row_of(parse_purchase(r, strict=strict)), reader, reader):
        try:
            outcomes.append(read(dict(record)))  # the reader's second call hits its caches
        except InvalidPurchaseError as error:
            outcomes.append((error.transaction_id, error.problems))
    assert outcomes[0] == outcomes[1] == outcomes[2]


@given(purchases())
def test_record_reader_caches_one_address_per_spelling_and_type(record):
    reader = RecordReader()
    first = reader(record)
    second = reader(dict(record, id="other"))
    assert first.billing_address is second.billing_address


@given(aware_datetimes(), countries())
def test_local_days_agree_with_astimezone(when, country):
    local = _LocalDays(country)
    assert local(when) == when.astimezone(country.zone).date()
    assert local(when) == when.astimezone(country.zone).date()  # cached


@pytest.mark.parametrize("country", list(Country))
def test_local_days_around_every_dst_change_of_2025(country):
    local = _LocalDays(country)
    start = datetime(2025, 3, 29, tzinfo=UTC)
    for hours in (*range(0, 72), *range(5040, 5112)):  # late March and late October
        for minutes in (0, 29, 59):
            when = start + timedelta(hours=hours, minutes=minutes)
            assert local(when) == when.astimezone(country.zone).date(), when


def test_planning_restores_the_garbage_collector_state():
    assert gc.isenabled()
    plan_invoices([])
    assert gc.isenabled()
    gc.disable()
    try:
        plan_invoices([])
        assert not gc.isenabled()
    finally:
        gc.enable()


@given(purchases())
def test_typed_and_dict_forms_of_one_id_count_as_identical(record):
    record["id"] = "T1"
    typed = Purchase.from_dict(record)
    plan = plan_invoices([typed, record])
    assert [r.reason for r in plan.rejected] == [
        "id: duplicate of an identical record; counted once"
    ]


def test_a_timestamp_python_cannot_place_is_rejected_not_a_crash():
    record = {
        "id": "T0", "created_at": "0001-01-01T00:00:00+01:00", "amount": 100,
        "vat_amount": 20, "currency": "NOK", "status": "AUTHORIZED",
        "payment_product_type": "kravia.invoice_b2b_grouped",
        "billing_address": {
            "first_name": "Ola", "last_name": "Nordmann", "business_name": "Nordmann AS",
            "organization_number": "923609016", "email": "ola@nordmann.no",
            "phone_number": "+4799999999", "address_line": "Storgata 1",
            "postal_code": "0151", "country": "NO",
        },
    }  # fmt: skip
    (rejection,) = plan_invoices([record]).rejected
    assert rejection.field == "created_at"
    assert "outside the dates Python can place" in rejection.reason
