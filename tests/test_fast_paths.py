"""The planner's shortcuts must give exactly what the plain definitions give."""

from __future__ import annotations

import gc
import json
from dataclasses import FrozenInstanceError, fields, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest
from _records import nordmann_record
from hypothesis import given, settings
from hypothesis import strategies as st

import kravia_schedule.purchases as purchases_module
from kravia_schedule import (
    BusinessCalendar,
    CalendarRangeError,
    Country,
    DateRoll,
    Interval,
    InvalidPurchaseError,
    Purchase,
    billing_period,
    parse_purchase,
    plan_invoices,
    report,
)
from kravia_schedule.invoices import Invoice
from kravia_schedule.planner import LocalDays, _GroupedDays
from kravia_schedule.purchases import RecordReader, row_of
from kravia_schedule.report import plan_to_dict, plan_to_json
from kravia_schedule.testing import (
    aware_datetimes,
    countries,
    invalid_purchases,
    purchase_batches,
    purchases,
)

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


def _outcome(read, record):
    try:
        return read(record)
    except InvalidPurchaseError as error:
        return (error.transaction_id, error.problems)


@settings(max_examples=200)
@given(st.lists(records, min_size=1, max_size=6), st.data())
def test_one_reader_agrees_with_parse_purchase_across_records(batch, data):
    """Caches filled by one record (a valid address, or an invalid one's problems) give
    every later record the answer parse_purchase gives it, addresses shared or not."""
    # Some records share another's address, some the same fields with other types.
    pool = [r["billing_address"] for r in batch if isinstance(r.get("billing_address"), dict)]
    shared = []
    for record in batch:
        if pool and data.draw(st.booleans()):
            address = dict(data.draw(st.sampled_from(pool)))
            if address and data.draw(st.booleans()):
                name = data.draw(st.sampled_from(sorted(address)))
                address[name] = data.draw(st.sampled_from([1, True, 1.0, None, "1"]))
            record = {**record, "billing_address": address}
        shared.append(record)
    reader = RecordReader()
    for record in shared:
        expected = _outcome(lambda r: row_of(parse_purchase(r)), record)
        assert _outcome(reader, dict(record)) == expected


def test_equal_values_of_other_types_keep_their_own_messages():
    """1 == True == 1.0 as dictionary keys; the refusals name the type given."""
    reader = RecordReader()
    for value, kind in [(1, "int"), (True, "bool"), (1.0, "float"), (1, "int")]:
        record = nordmann_record("T1", "2025-03-05T10:00:00Z", postal_code=value)
        with pytest.raises(InvalidPurchaseError) as caught:
            reader(record)
        assert f"billing_address.postal_code: must be a string, got {kind}" in str(caught.value)


def test_an_address_with_an_unhashable_value_is_judged_uncached():
    reader = RecordReader()
    record = nordmann_record("T1", "2025-03-05T10:00:00Z", email=["a@b.no"])
    for _ in range(2):
        with pytest.raises(InvalidPurchaseError) as caught:
            reader(dict(record))
        assert caught.value.problems == _outcome(parse_purchase, record)[1]
    assert not reader._addresses


def test_an_invalid_address_is_validated_once_for_all_its_records(monkeypatch):
    """The full parser, which reads every record the fast path refuses, asks the
    reader's cache: a billing run's thousand records of one bad address cost one check."""
    calls = []
    real = purchases_module.validate_billing_address

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(purchases_module, "validate_billing_address", counted)
    reader = RecordReader()
    for i in range(1000):
        # Missing amount: the fast path gives up before it reaches the address.
        record = nordmann_record(f"T{i}", "2025-03-05T10:00:00Z", vat_amount=0, email="nope")
        del record["amount"]
        problems = _outcome(reader, record)[1]
        assert [p.path for p in problems] == ["amount", "billing_address.email"]
    assert len(calls) == 1


@given(purchases())
def test_record_reader_caches_one_address_per_spelling_and_type(record):
    reader = RecordReader()
    first = reader(record)
    second = reader(dict(record, id="other"))
    assert first.billing_address is second.billing_address


@given(aware_datetimes(), countries())
def test_local_days_agree_with_astimezone(when, country):
    local = LocalDays(country)
    assert local(when) == when.astimezone(country.zone).date()
    assert local(when) == when.astimezone(country.zone).date()  # cached


@pytest.mark.parametrize("country", list(Country))
def test_local_days_around_every_dst_change_of_2025(country):
    local = LocalDays(country)
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


def test_json_output_is_built_with_the_collector_paused(monkeypatch):
    records = [nordmann_record(f"T{n}", f"2025-0{n % 9 + 1}-10T10:00:00Z", 100) for n in range(60)]
    plan = plan_invoices(records)
    expected = json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False) + "\n"
    enabled: list[bool] = []

    def recording(plan: Any) -> Any:
        enabled.append(gc.isenabled())
        return plan_to_dict(plan)

    monkeypatch.setattr(report, "plan_to_dict", recording)
    assert gc.isenabled()
    assert plan_to_json(plan) == expected
    assert enabled == [False]  # paused while the dicts were built and dumped
    assert gc.isenabled()  # and restored


@given(purchases())
def test_typed_and_dict_forms_of_one_id_count_as_identical(record):
    record["id"] = "T1"
    typed = Purchase.from_dict(record)
    plan = plan_invoices([typed, record])
    assert [r.reason for r in plan.rejected] == [
        "id: duplicate of an identical record; counted once"
    ]


NORDMANN = nordmann_record("T0", "2025-01-31T23:30:00+00:00", 100)


def test_a_timestamp_python_cannot_place_is_rejected_not_a_crash():
    record = dict(NORDMANN, created_at="0001-01-01T00:00:00+01:00")
    (rejection,) = plan_invoices([record]).rejected
    assert rejection.field == "created_at"
    assert "outside the dates Python can place" in rejection.reason


@given(aware_datetimes(), countries(), st.sampled_from(list(Interval)))
def test_grouped_days_give_the_period_of_the_local_date(when, country, interval):
    days = _GroupedDays(country, BusinessCalendar(country), interval, 14, DateRoll.UNADJUSTED)
    expected = billing_period(when.astimezone(country.zone).date(), interval).start
    timestamp = when.timestamp()
    assert days.start(when, timestamp) == expected  # the slow path fills the day's entry
    entry = days.by_day.get(timestamp // 86400.0)
    if entry is not None:  # the cached day gives the same answer for any instant in it
        assert (entry[1] if timestamp < entry[0] else entry[2]) == expected


def test_invoices_are_real_frozen_invoices():
    (built,) = plan_invoices([NORDMANN]).invoices
    assert type(built) is Invoice
    assert built.period is not None
    assert built.period.label == "2025-02"  # 23:30 UTC is 1 February in Oslo
    plain = Invoice(*(getattr(built, f.name) for f in fields(Invoice)))
    assert built == plain
    assert hash(built) == hash(plain)
    assert repr(built) == repr(plain)
    with pytest.raises(FrozenInstanceError):
        built.amount = 1  # type: ignore[misc]
    assert replace(built, amount=1).amount == 1


@settings(max_examples=150)
@given(purchase_batches(invalid=False, duplicates=False, min_size=1), st.data())
def test_a_conflicting_repeat_takes_the_id_off_every_list_in_any_order(batch, data):
    records = batch.records
    victim = data.draw(st.sampled_from(records))
    changed = dict(victim, amount=victim["amount"] + 1)
    for order in ([*records, changed], [changed, *records[::-1]]):
        plan = plan_invoices(order, batch.config)
        planned = [t for i in plan.invoices for t in i.transaction_ids]
        planned += [s.transaction_id for s in plan.skipped]
        assert victim["id"] not in planned
        assert [r.transaction_id for r in plan.rejected] == [victim["id"], victim["id"]]
        without = plan_invoices([r for r in order if r["id"] != victim["id"]], batch.config)
        assert (plan.invoices, plan.skipped) == (without.invoices, without.skipped)


@settings(max_examples=100)
@given(purchase_batches(invalid=False, duplicates=False, min_size=1), st.data())
def test_a_conflicting_repeat_names_each_of_its_records_by_index(batch, data):
    # The planner finds where a repeated id first came from its list of ids by index:
    # unreadable records (rejected before their id is known) must not shift it.
    victim = data.draw(st.sampled_from(batch.records))
    changed = dict(victim, amount=victim["amount"] + 1)
    mixed = data.draw(st.permutations([*batch.records, changed, "not a record", 42, None]))
    plan = plan_invoices(mixed, batch.config)
    expected = [i for i, r in enumerate(mixed) if r is victim or r is changed]
    got = sorted(r.index for r in plan.rejected if r.transaction_id == victim["id"])
    assert got == expected
    unread = [i for i, r in enumerate(mixed) if not isinstance(r, dict)]
    assert sorted(r.index for r in plan.rejected if r.transaction_id is None) == unread


def test_a_local_date_beyond_year_9999_is_rejected_not_a_crash():
    # 22:30 UTC on the last day Python knows is already year 10000 in Helsinki.
    record = nordmann_record(
        "T0", "9999-12-31T22:30:00+00:00", 100, currency="EUR",
        country="FI", postal_code="00100", organization_number="2617416-4",
    )  # fmt: skip
    (rejection,) = plan_invoices([record]).rejected
    assert rejection.field == "created_at"
    assert "outside the dates Python can place" in rejection.reason


def test_grouped_days_fall_back_to_astimezone_for_a_day_off_the_pattern(monkeypatch):
    days = _GroupedDays(Country.FI, BusinessCalendar(Country.FI), Interval.MONTHLY, 14,
                        DateRoll.UNADJUSTED)  # fmt: skip
    monkeypatch.setattr(days.local, "utc_day", lambda day: None)
    when = datetime(2025, 1, 31, 22, 30, tzinfo=UTC)  # 1 February in Helsinki
    assert days.start(when, when.timestamp()) == datetime(2025, 2, 1).date()
    assert days.by_day == {}  # such a day is never cached
    late = datetime(9999, 12, 31, 22, 30, tzinfo=UTC)
    with pytest.raises(CalendarRangeError):
        days.start(late, late.timestamp())


def test_mappings_and_purchase_subclasses_take_the_general_path():
    class Tagged(Purchase):
        pass

    typed = Purchase.from_dict(NORDMANN)
    subclassed = Tagged(*(getattr(typed, f.name) for f in fields(Purchase)))
    for record in (MappingProxyType(NORDMANN), subclassed):
        assert plan_invoices([record]) == plan_invoices([NORDMANN])
