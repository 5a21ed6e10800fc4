"""The ledger under hostile input, huge values and shared connections (issues 25 and 26).

Each test reproduces one attack that once succeeded; ``target``/``ledger`` run it on a
SQLite file and, when KRAVIA_TEST_POSTGRES_URL is set, on a PostgreSQL database.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from functools import partial
from typing import Any

import pytest
from _ledger_records import JANUARY, many_customers, purchase

from kravia_schedule import (
    CalendarRangeError,
    InvalidPurchaseError,
    KraviaConfig,
    KraviaScheduleError,
    LedgerConflict,
    LedgerError,
    NaiveDatetimeError,
    plan_invoices,
    rules,
)
from kravia_schedule.calendar import BusinessCalendar
from kravia_schedule.dates import day_invoice_dates, period_invoice_dates
from kravia_schedule.ledger import (
    SCHEMA_VERSION,
    Ledger,
    LedgerBusy,
    LedgerUnavailable,
    RecordReport,
)
from kravia_schedule.periods import billing_period

# -- idempotency keys are never missing -------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "  ", 17])
def test_a_payment_or_refund_without_its_id_is_refused_and_changes_nothing(
    ledger: Ledger, key: Any
) -> None:
    ledger.record([*JANUARY, purchase("S1", "2021-01-05T10:00:00+01:00", product="kravia.invoice_b2c")])  # fmt: skip
    (invoice,) = ledger.issue(date(2021, 2, 1))
    for _ in range(3):  # once recorded three payments
        with pytest.raises(LedgerError, match="payment_id is required"):
            ledger.pay(invoice.id, 1_000, payment_id=key)
        with pytest.raises(LedgerError, match="refund_id is required"):
            ledger.refund("S1", 100, refund_id=key)
    assert ledger.invoice(invoice.id).paid == 0
    assert ledger.transaction("S1").balance.refunded == 0
    assert ledger.db.execute("SELECT COUNT(*) FROM payments")[0][0] == 0
    assert ledger.db.execute("SELECT COUNT(*) FROM refunds")[0][0] == 0


def _as_version_1(target: str) -> None:
    """Turn a current ledger back into the shape migration 1 left (no instants; on
    SQLite, key columns that take NULL)."""
    with Ledger.open(target) as ledger, ledger.db.write():
        db = ledger.db
        db.execute("ALTER TABLE purchases DROP COLUMN created_us")
        db.execute("DROP TABLE deferred")  # migration 5's
        db.execute("DROP TABLE synced")
        db.execute("UPDATE schema_version SET version = 1")
        if db.name == "sqlite":
            db.execute("DROP TABLE payments")
            db.execute(
                "CREATE TABLE payments (id TEXT PRIMARY KEY, invoice_id TEXT NOT NULL "
                "REFERENCES invoices (id), amount BIGINT NOT NULL, method TEXT NOT NULL, "
                "allocation TEXT NOT NULL)"
            )
            db.execute("DROP TABLE refunds")
            db.execute(
                "CREATE TABLE refunds (id TEXT PRIMARY KEY, transaction_id TEXT NOT NULL "
                "REFERENCES purchases (id), amount BIGINT NOT NULL)"
            )


def test_migration_2_orders_old_purchases_by_instant_and_keys_old_payments(target: str) -> None:
    with Ledger.open(target) as ledger:
        ledger.record(OFFSETS)
    _as_version_1(target)
    with Ledger.open(target) as ledger:  # a version-1 ledger is migrated on opening
        (pending,) = ledger.due(date(2021, 2, 1))
        assert pending.transaction_ids == ("EARLY", "LATER")
        assert ledger.db.execute("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]


def test_migration_2_keeps_the_money_of_keyless_payments_and_forbids_null_keys(
    tmp_path: Any,
) -> None:
    target = str(tmp_path / "old.db")
    with Ledger.open(target) as ledger:
        ledger.record(JANUARY)
        (invoice,) = ledger.issue(date(2021, 2, 1))
        ledger.record([purchase("S1", "2021-01-05T10:00:00+01:00", product="kravia.invoice_b2c")])
    _as_version_1(target)
    with sqlite3.connect(target) as raw:  # what version 1 let in: two payments keyed NULL
        for amount in (100, 200):
            raw.execute(
                "INSERT INTO payments VALUES (NULL, ?, ?, 'pro_rata', '[]')", (invoice.id, amount)
            )
        raw.execute("INSERT INTO refunds VALUES (NULL, 'S1', 50)")
    with Ledger.open(target) as ledger:
        rows = ledger.db.execute("SELECT id, amount FROM payments ORDER BY amount")
        assert rows == [("unkeyed-1", 100), ("unkeyed-2", 200)]
        assert ledger.db.execute("SELECT id, amount FROM refunds") == [("unkeyed-1", 50)]
        with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
            ledger.db.execute("INSERT INTO payments VALUES (NULL, ?, 1, 'pro_rata', '[]')", (invoice.id,))  # fmt: skip
        with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
            ledger.db.execute("INSERT INTO refunds VALUES (NULL, 'S1', 1)")


# -- no database that loses what it records -----------------------------------------------


@pytest.mark.parametrize("where", ["", "   "])
def test_an_empty_database_name_is_refused(where: str) -> None:
    # "" is SQLite's private temporary database: all would be gone at close
    with pytest.raises(LedgerUnavailable, match="no ledger database given"):
        Ledger.open(where)


def test_a_database_that_cannot_be_a_ledger_is_a_typed_error(tmp_path: Any) -> None:
    (tmp_path / "corrupt.db").write_bytes(b"not a database, not at all" * 100)
    (tmp_path / "file").write_text("x")
    for where, reason in [
        (tmp_path / "corrupt.db", "not a database"),
        (tmp_path / "missing" / "l.db", "unable to open"),
        (tmp_path / "file" / "l.db", "unable to open"),
        (tmp_path, "unable to open"),
    ]:
        with pytest.raises(LedgerUnavailable, match=reason):
            Ledger.open(where)


def test_check_names_the_field_of_a_record_no_ledger_can_hold(ledger: Ledger) -> None:
    assert ledger.check(JANUARY[0]).id == "T1"
    for record, field in [
        (purchase("Y", "9999-12-15T10:00:00Z"), "created_at"),
        (purchase("H", "2021-01-05T10:00:00+01:00", 2**62), "amount"),
    ]:
        with pytest.raises(InvalidPurchaseError) as info:
            ledger.check(record)
        assert info.value.path == field


def test_a_newer_schema_is_refused_with_a_typed_error(target: str) -> None:
    with Ledger.open(target) as ledger, ledger.db.write():
        ledger.db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(LedgerUnavailable, match="newer than this library"):
        Ledger.open(target)


def test_a_postgres_ledger_without_psycopg_is_a_typed_error(monkeypatch: Any) -> None:
    monkeypatch.setitem(__import__("sys").modules, "psycopg", None)
    with pytest.raises(LedgerUnavailable, match=r"kravia-schedule\[postgres\]"):
        Ledger.open("postgresql://nobody@127.0.0.1:1/none")


def test_an_unreachable_server_is_a_typed_error_without_the_password() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(LedgerUnavailable) as info:
        Ledger.open("postgresql://app:s3cret@127.0.0.1:1/none?connect_timeout=2")
    assert "s3cret" not in str(info.value)
    assert "app:***@127.0.0.1:1" in str(info.value)


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), True, "5"])
def test_a_lock_timeout_must_be_a_sane_number_of_seconds(tmp_path: Any, timeout: Any) -> None:
    with pytest.raises(LedgerError, match="lock_timeout"):
        Ledger.open(tmp_path / "l.db", lock_timeout=timeout)


# -- a replayed payment must be the same payment --------------------------------------------


def test_a_replayed_payment_must_match_exactly(ledger: Ledger) -> None:
    ledger.record([*JANUARY, purchase("B1", "2021-01-07T10:00:00+01:00", reference="dept-b")])
    first, second = ledger.issue(date(2021, 2, 1))
    paid = ledger.pay(first.id, 1_000, payment_id="P", currency="NOK")
    assert ledger.pay(first.id, 1_000, payment_id="P") == paid  # currency not given: same
    assert ledger.pay(first.id, 1_000, payment_id="P", currency="NOK") == paid
    for change, shown in [
        ({"invoice_id": second.id}, second.id),
        ({"amount": 999}, "999"),
        ({"currency": "EUR"}, "EUR"),
        ({"method": "oldest_first"}, "oldest_first"),
    ]:
        call: dict[str, Any] = {"invoice_id": first.id, "amount": 1_000, "payment_id": "P"}
        with pytest.raises(LedgerConflict) as info:
            ledger.pay(**{**call, **change})
        message = str(info.value)
        assert shown in message  # this payment ...
        assert f"1000 NOK on {first.id} (pro_rata)" in message  # ... and the stored one
    assert ledger.invoice(first.id).paid == 1_000
    assert ledger.invoice(second.id).paid == 0


def test_a_replayed_refund_names_both_refunds(ledger: Ledger) -> None:
    ledger.record([purchase("S1", "2021-03-10T10:00:00+01:00", 4000, product="kravia.invoice_b2c")])
    ledger.refund("S1", 1500, refund_id="R1")
    with pytest.raises(
        LedgerConflict, match=r"used for 1500 on transaction 'S1'; this refund is 100"
    ):
        ledger.refund("S1", 100, refund_id="R1")


# -- purchases in the order they happened -------------------------------------------------

#: EARLY happened at 07:00 UTC and LATER at 08:00 UTC; as text, EARLY sorts last.
OFFSETS = [
    purchase("LATER", "2021-01-05T08:00:00Z", 6_000),
    purchase("EARLY", "2021-01-05T12:00:00+05:00", 4_000),
]


def test_purchases_are_ordered_by_instant_not_by_their_text(ledger: Ledger) -> None:
    ledger.record(OFFSETS)
    (pending,) = ledger.due(date(2021, 2, 1))
    assert pending.transaction_ids == ("EARLY", "LATER")
    (planned,) = plan_invoices(OFFSETS).invoices  # as the planner orders them
    assert tuple(line.transaction_id for line in planned.lines) == pending.transaction_ids
    (invoice,) = ledger.issue(date(2021, 2, 1))
    assert ledger.invoice(invoice.id).transaction_ids == ("EARLY", "LATER")
    payment = ledger.pay(invoice.id, 5_000, payment_id="P", method="oldest_first")
    assert payment.allocation == (("EARLY", 4_000), ("LATER", 1_000))


# -- amounts no invoice can carry -----------------------------------------------------------


@pytest.mark.parametrize("amount", [rules.MAX_AMOUNT + 1, 2**62, 2**63, 10**25])
def test_an_amount_above_the_maximum_is_rejected_naming_the_field(
    ledger: Ledger, amount: int
) -> None:
    with pytest.raises(InvalidPurchaseError) as info:
        ledger.record([purchase("HUGE", "2021-01-05T10:00:00+01:00", amount)])
    assert info.value.transaction_id == "HUGE"
    assert info.value.path == "amount"
    assert "largest amount" in str(info.value)
    report = ledger.record_valid([purchase("HUGE", "2021-01-05T10:00:00+01:00", amount), *JANUARY])
    assert (report.recorded, [e.path for e in report.skipped]) == (2, ["amount"])  # type: ignore[union-attr]


def test_the_largest_amounts_are_recorded_and_issued(ledger: Ledger) -> None:
    records = [
        purchase(f"M{i}", f"2021-01-{i + 5:02d}T10:00:00+01:00", rules.MAX_AMOUNT) for i in range(3)
    ]
    assert ledger.record(records) == (3, 0)
    (invoice,) = ledger.issue(date(2021, 2, 1))
    assert invoice.amount == 3 * rules.MAX_AMOUNT
    assert ledger.invoice(invoice.id).amount == 3 * rules.MAX_AMOUNT
    paid = ledger.pay(invoice.id, invoice.amount, payment_id="P")
    assert sum(part for _, part in paid.allocation) == invoice.amount


def test_an_invoice_total_above_the_maximum_is_refused_at_record(
    ledger: Ledger, monkeypatch: Any
) -> None:
    monkeypatch.setattr(rules, "MAX_INVOICE_TOTAL", 15_000)  # small, to reach it
    ledger.record([purchase("A", "2021-01-05T10:00:00+01:00", 10_000)])
    with pytest.raises(InvalidPurchaseError) as info:  # across batches
        ledger.record([purchase("B", "2021-01-06T10:00:00+01:00", 5_001)])
    assert (info.value.transaction_id, info.value.path) == ("B", "amount")
    assert "2021-01 to 15001" in str(info.value)
    with pytest.raises(InvalidPurchaseError, match="'D'"):  # within one batch
        ledger.record([purchase("C", "2021-01-06T10:00:00+01:00", 3_000),
                       purchase("D", "2021-01-07T10:00:00+01:00", 3_000)])  # fmt: skip
    report = ledger.record_valid(
        [
            purchase("C", "2021-01-06T10:00:00+01:00", 3_000),
            purchase("D", "2021-01-07T10:00:00+01:00", 3_000),
            purchase("F", "2021-02-07T10:00:00+01:00", 15_000),  # another invoice
            purchase("E", "2021-01-07T10:00:00+01:00", 2_000, currency="EUR"),
        ]
    )
    assert report.recorded == 3
    assert [e.transaction_id for e in report.skipped] == ["D"]  # type: ignore[union-attr]
    (january_nok, january_eur) = sorted(ledger.issue(date(2021, 2, 1)), key=lambda i: i.currency)[
        ::-1
    ]
    assert (january_nok.amount, january_eur.amount) == (13_000, 2_000)


def test_issue_never_overflows_and_names_an_invoice_too_large(
    ledger: Ledger, monkeypatch: Any
) -> None:
    monkeypatch.setattr(rules, "MAX_AMOUNT", 2**62)  # as before amounts were bounded
    monkeypatch.setattr(rules, "MAX_INVOICE_TOTAL", 2**64)
    ledger.record([purchase("A", "2021-01-05T10:00:00+01:00", 2**62),
                   purchase("B", "2021-01-06T10:00:00+01:00", 2**62),
                   purchase("O", "2021-01-06T10:00:00+01:00", 5, reference="other")])  # fmt: skip
    monkeypatch.setattr(rules, "MAX_INVOICE_TOTAL", 2**63 - 1)
    with pytest.raises(LedgerError, match="above 9223372036854775807 minor units; void"):
        ledger.issue(date(2021, 2, 1))
    ledger.void("B")
    issued = ledger.issue(date(2021, 2, 1))
    assert sorted(i.amount for i in issued) == [5, 2**62]


@pytest.mark.parametrize(
    ("call", "maximum"),
    [("pay", rules.MAX_INVOICE_TOTAL), ("refund", rules.MAX_AMOUNT)],
)
def test_payments_and_refunds_above_the_maximum_are_typed_errors(
    ledger: Ledger, call: str, maximum: int
) -> None:
    ledger.record([*JANUARY, purchase("S1", "2021-01-05T10:00:00+01:00", product="kravia.invoice_b2c")])  # fmt: skip
    (invoice,) = ledger.issue(date(2021, 2, 1))
    for amount in (maximum + 1, 2**63, 10**30):
        operation = (
            partial(ledger.pay, invoice.id, amount, payment_id="P")
            if call == "pay"
            else partial(ledger.refund, "S1", amount, refund_id="R")
        )
        with pytest.raises(InvalidPurchaseError, match="largest amount"):
            operation()


# -- shared connections ------------------------------------------------------------------------


def test_threads_sharing_one_ledger_issue_each_invoice_once(target: str) -> None:
    records = many_customers(300)
    with Ledger.open(target, lock_timeout=30) as ledger:
        ledger.record(records)
        expected = {i.id for i in ledger.due(date(2026, 1, 10))}
        results: list[list[str]] = []
        failures: list[BaseException] = []

        def issue(day: date) -> None:
            try:
                ledger.due(day)
                results.append([i.id for i in ledger.issue(day)])
            except BaseException as error:  # pragma: no cover - reported below
                failures.append(error)

        threads = [threading.Thread(target=issue, args=(date(2026, 1, 10),)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert failures == []
        issued = [invoice_id for result in results for invoice_id in result]
        assert len(issued) == len(set(issued)) == len(expected)
        if ledger.db.name == "postgresql":  # nothing left open, holding the lock
            from psycopg.pq import TransactionStatus

            assert ledger.db.connection.info.transaction_status is TransactionStatus.IDLE  # type: ignore[union-attr]
        with Ledger.open(target, lock_timeout=10) as replica:  # another replica goes on
            assert replica.issue(date(2026, 1, 10)) == ()
            assert replica.record(records[:3]) == (0, 3)


def test_a_lock_held_by_another_replica_times_out_with_ledger_busy(target: str) -> None:
    with Ledger.open(target) as holder, Ledger.open(target, lock_timeout=0.5) as waiter:
        waiter.record(JANUARY)
        with holder.db.write():
            started = time.monotonic()
            with pytest.raises(LedgerBusy, match="locked by another writer"):
                waiter.issue(date(2021, 2, 1))
            assert time.monotonic() - started < 10
        (invoice,) = waiter.issue(date(2021, 2, 1))  # free again: nothing was lost
        assert invoice.transaction_ids == ("T1", "T2")


def test_a_thread_waits_for_another_threads_operation_at_most_the_lock_timeout(
    target: str,
) -> None:
    with Ledger.open(target, lock_timeout=0.3) as ledger:
        ledger.record(JANUARY)
        taken, release = threading.Event(), threading.Event()

        def hold() -> None:
            with ledger.db.write():
                taken.set()
                release.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        taken.wait(10)
        try:
            with pytest.raises(LedgerBusy, match="another thread"):
                ledger.issue(date(2021, 2, 1))
        finally:
            release.set()
            holder.join(10)
        assert len(ledger.issue(date(2021, 2, 1))) == 1


# -- as_of: a date, or an instant read in each customer's zone ---------------------------------


def test_an_aware_as_of_is_read_in_the_customers_zone(ledger: Ledger) -> None:
    ledger.record(JANUARY)  # a Norwegian customer: issue date 2021-02-01
    before = datetime(2021, 1, 31, 22, 30, tzinfo=UTC)  # 23:30 in Oslo, 31 January
    after = before + timedelta(hours=1)  # 00:30 in Oslo, 1 February
    assert ledger.due(before) == ()
    assert ledger.issue(before) == ()
    (due,) = ledger.due(after)
    assert ledger.customer_invoices("NO", "923609016", as_of=before)[1] == ()
    assert ledger.customer_invoices("NO", "923609016", as_of=after)[1] == (due,)
    (issued,) = ledger.issue(after)
    assert issued.id == due.id


def test_one_instant_is_another_day_for_customers_in_other_zones(ledger: Ledger) -> None:
    from _records import nordmann_record

    helsinki = nordmann_record(
        "FI1", "2021-01-05T10:00:00+02:00", 4000, currency="EUR", country="FI",
        organization_number="0112038-9", business_name="Virtanen Oy", postal_code="00100",
    )  # fmt: skip
    ledger.record([*JANUARY, helsinki])  # both invoices are issued on Monday 1 February
    instant = datetime(2021, 1, 31, 22, 30, tzinfo=UTC)  # 23:30 in Oslo, 00:30 in Helsinki
    (due,) = ledger.due(instant)
    assert (due.customer.country.value, due.transaction_ids) == ("FI", ("FI1",))
    # The same instant written in another zone is the same answer.
    assert ledger.due(instant.astimezone(timezone(timedelta(hours=-5)))) == (due,)
    (issued,) = ledger.issue(instant)
    assert issued.id == due.id
    (norway,) = ledger.issue(instant + timedelta(hours=1))  # 00:30 in Oslo
    assert norway.transaction_ids == ("T1", "T2")


def test_a_naive_as_of_is_refused_everywhere_never_an_empty_answer(ledger: Ledger) -> None:
    ledger.record(JANUARY)
    naive = datetime(2021, 2, 1, 12)  # a day with invoices due: a guess would hide them
    for operation in (ledger.due, ledger.issue):
        with pytest.raises(NaiveDatetimeError, match="has no time zone"):
            operation(naive)
    with pytest.raises(NaiveDatetimeError, match="has no time zone"):
        ledger.customer_invoices("NO", "923609016", as_of=naive)
    assert len(ledger.issue(date(2021, 2, 1))) == 1  # nothing was issued by the refusals


@pytest.mark.parametrize(
    ("as_of", "error"),
    [
        ("2021-02-01", LedgerError),
        (20210201, LedgerError),
        (None, LedgerError),
        (datetime(2021, 2, 1, 12), NaiveDatetimeError),
    ],
)
def test_an_as_of_that_is_no_date_is_a_typed_error(
    ledger: Ledger, as_of: Any, error: type[Exception]
) -> None:
    ledger.record(JANUARY)
    for operation in (ledger.due, ledger.issue):
        with pytest.raises(error) as info:
            operation(as_of)
        assert isinstance(info.value, KraviaScheduleError)
    assert len(ledger.due(date(2021, 2, 1))) == 1  # nothing was issued


# -- dates at the end of the calendar ------------------------------------------------------------


def test_the_last_period_and_a_due_date_past_year_9999_are_calendar_range_errors() -> None:
    calendar = BusinessCalendar("NO", weekends_only=True)
    with pytest.raises(CalendarRangeError, match="1 day after 9999-12-31 is past the last date"):
        period_invoice_dates(billing_period(date(9999, 12, 15), "monthly"), calendar)
    with pytest.raises(CalendarRangeError, match="past the last date"):
        day_invoice_dates(date(9999, 12, 15), calendar, 365)
    assert day_invoice_dates(date(9999, 12, 15), calendar, 16).due_date == date(9999, 12, 31)


@pytest.mark.parametrize(
    ("record", "days"),
    [
        (purchase("Y", "9999-12-15T10:00:00Z"), 14),
        (purchase("Y", "9999-12-31T23:30:00-05:00"), 14),
        (purchase("Y", "2101-01-15T10:00:00Z"), 14),  # past the holiday data
        (purchase("Y", "9999-06-15T10:00:00Z", product="kravia.invoice_b2b"), 365),
    ],
)
def test_purchases_at_the_end_of_the_calendar_are_rejected_with_a_reason(
    tmp_path: Any, record: dict[str, Any], days: int
) -> None:
    config = KraviaConfig.all_enabled()
    config = replace(config, invoice_b2b=replace(config.invoice_b2b, days_until_due=days))
    with Ledger.open(tmp_path / "l.db", config) as ledger:
        with pytest.raises(InvalidPurchaseError) as info:
            ledger.record([*JANUARY, record])
        assert (info.value.transaction_id, info.value.path) in {
            ("Y", "created_at"),
            (None, "created_at"),
        }
        report = ledger.record_valid([*JANUARY, record])
        assert report.recorded == 2
        assert [e.path for e in report.skipped] == ["created_at"]  # type: ignore[union-attr]


def test_a_late_purchase_whose_next_period_has_no_dates_is_rejected(ledger: Ledger) -> None:
    ledger.record([purchase("N1", "2100-11-05T10:00:00+01:00")])
    assert len(ledger.issue(date(2100, 12, 1))) == 1
    late = purchase("N2", "2100-11-20T10:00:00+01:00")  # would move to 2100-12: issued in 2101
    with pytest.raises(InvalidPurchaseError) as info:
        ledger.record([late])
    assert (info.value.transaction_id, info.value.path) == ("N2", "created_at")
    report = ledger.record_valid([late, purchase("N3", "2100-11-21T10:00:00+01:00", reference="r")])
    assert report == RecordReport(1, 0, report.skipped)  # N3 is on an invoice not yet issued
    assert [e.transaction_id for e in report.skipped] == ["N2"]  # type: ignore[union-attr]


# -- record_valid: one bad or conflicting record never refuses the rest --------------------------


def test_record_valid_skips_conflicting_records_and_records_the_rest(ledger: Ledger) -> None:
    ledger.record(JANUARY)
    batch = [
        dict(JANUARY[0], amount=5_001),  # already recorded with other content
        JANUARY[1],  # already recorded, the same
        purchase("N1", "2021-01-21T10:00:00+01:00"),
        purchase("D", "2021-01-22T10:00:00+01:00"),  # two versions of D: neither is kept
        purchase("D", "2021-01-23T10:00:00+01:00"),
        purchase("D", "2021-01-24T10:00:00+01:00"),
        dict(purchase("X", "2021-01-22T10:00:00+01:00"), amount=-1),
    ]
    report = ledger.record_valid(batch)
    assert (report.recorded, report.unchanged) == (1, 1)
    kinds = sorted(type(e).__name__ for e in report.skipped)
    assert kinds == ["InvalidPurchaseError", *["LedgerConflict"] * 4]
    assert any("'T1' is already recorded" in str(e) for e in report.skipped)
    assert sum("share id 'D'" in str(e) for e in report.skipped) == 3
    with pytest.raises(LedgerError):
        ledger.transaction("D")
    assert ledger.transaction("N1").balance.purchased == 10_000


def test_one_instant_written_with_another_offset_is_the_same_purchase(ledger: Ledger) -> None:
    # As the planner counts it: an identical repeat, not a conflicting record.
    first = purchase("O1", "2021-01-05T12:00:00+01:00")
    again = {**first, "created_at": "2021-01-05T11:00:00Z"}
    assert plan_invoices([first, again]).rejected[0].problems[0].path == "id"
    assert ledger.record([first]) == (1, 0)
    assert ledger.record([again]) == (0, 1)
    with pytest.raises(LedgerConflict):
        ledger.record([{**first, "created_at": "2021-01-05T12:00:00Z"}])  # another instant


def test_a_ledger_of_schema_2_is_fingerprinted_by_instant(tmp_path: Any) -> None:
    path = str(tmp_path / "old.db")
    first = purchase("O1", "2021-01-05T12:00:00+01:00")
    with Ledger.open(path) as ledger:
        ledger.record([first])
        # As schema 2 left it: the fingerprint of the record's text, offset and all.
        old = hashlib.sha256(
            json.dumps(
                json.loads(ledger.db.execute("SELECT record FROM purchases")[0][0]),
                sort_keys=True, separators=(",", ":"),
            ).encode()
        ).hexdigest()  # fmt: skip
        with ledger.db.write():
            ledger.db.execute("UPDATE purchases SET fingerprint = ?", (old,))
            ledger.db.execute("DROP TABLE deferred")  # migration 5's
            ledger.db.execute("DROP TABLE synced")  # migration 4's
            ledger.db.execute("UPDATE schema_version SET version = 2")
    with Ledger.open(path) as ledger:  # migration 3
        assert ledger.record([{**first, "created_at": "2021-01-05T11:00:00Z"}]) == (0, 1)
