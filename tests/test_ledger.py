"""The invoice ledger, against real SQLite files and a real PostgreSQL server.

PostgreSQL tests run when KRAVIA_TEST_POSTGRES_URL points at a server where the test user
may create databases (`scripts/with-postgres` starts one; `.ci/run` uses it); each test
gets a database of its own.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from typing import Any

import pytest
from _ledger_records import JANUARY, many_customers, purchase

from kravia_schedule import (
    IllegalTransition,
    InvalidPurchaseError,
    KraviaConfig,
    LedgerConflict,
    LedgerError,
    UnknownId,
    plan_invoices,
)
from kravia_schedule.ledger import SCHEMA_VERSION, Ledger

# -- recording ------------------------------------------------------------------------


def test_new_ledger_has_the_current_schema(target: str) -> None:
    with Ledger.open(target) as ledger:
        assert ledger.db.execute("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
    with Ledger.open(target) as again:  # reopening migrates nothing and keeps the config
        assert again.config == KraviaConfig.all_enabled()


def test_record_is_idempotent_by_transaction_id(ledger: Ledger) -> None:
    assert ledger.record(JANUARY) == (2, 0)
    assert ledger.record(JANUARY) == (0, 2)
    assert ledger.record([JANUARY[0], purchase("T3", "2021-01-21T10:00:00+01:00")]) == (1, 1)


def test_conflicting_record_writes_nothing(ledger: Ledger) -> None:
    ledger.record(JANUARY)
    changed = dict(JANUARY[1], amount=7001)
    with pytest.raises(LedgerConflict, match="T2"):
        ledger.record([purchase("T9", "2021-01-22T10:00:00+01:00"), changed])
    with pytest.raises(UnknownId):
        ledger.transaction("T9")  # the whole batch was refused
    with pytest.raises(LedgerConflict, match="share id 'T5'"):
        ledger.record(
            [
                purchase("T5", "2021-01-22T10:00:00+01:00"),
                purchase("T5", "2021-01-23T10:00:00+01:00"),
            ]
        )


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (dict(purchase("X", "2021-01-05T10:00:00+01:00"), amount=12.5), "amount"),
        (purchase("X", "2021-01-05T10:00:00+01:00", status="CAPTURED"), "status"),
        (
            purchase(
                "X",
                "2021-01-05T10:00:00+01:00",
                product="kravia.invoice_b2b",
                status="PARTIALLY_CAPTURED",
            ),
            "status",
        ),
        (dict(purchase("X", "2021-01-05T10:00:00"), id="X"), "created_at"),
    ],
)
def test_invalid_records_are_refused_and_nothing_is_written(
    ledger: Ledger, record: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidPurchaseError) as info:
        ledger.record([purchase("OK", "2021-01-05T10:00:00+01:00"), record])
    assert info.value.path == field
    with pytest.raises(UnknownId):
        ledger.transaction("OK")


def test_disabled_product_type_is_refused(tmp_path: Any) -> None:
    config = KraviaConfig.all_enabled().with_overrides()
    from dataclasses import replace

    config = replace(config, invoice_b2c=replace(config.invoice_b2c, enabled=False))
    with (
        Ledger.open(tmp_path / "l.db", config) as ledger,
        pytest.raises(InvalidPurchaseError, match="not enabled"),
    ):
        ledger.record([purchase("C1", "2021-01-05T10:00:00+01:00", product="kravia.invoice_b2c")])


def test_reopening_with_another_configuration_is_refused(tmp_path: Any) -> None:
    Ledger.open(tmp_path / "l.db").close()
    with pytest.raises(LedgerConflict, match="another configuration"):
        Ledger.open(tmp_path / "l.db", KraviaConfig.all_enabled(interval="quarterly"))


# -- issuing --------------------------------------------------------------------------


def test_issue_on_the_issue_date_exactly_once(ledger: Ledger) -> None:
    ledger.record(JANUARY)
    assert ledger.due(date(2021, 1, 31)) == ()
    (pending,) = ledger.due(date(2021, 2, 1))
    assert pending.transaction_ids == ("T1", "T2")
    assert (pending.amount, pending.vat_amount) == (12_000, 2_400)
    assert (pending.issue_date, pending.due_date) == (date(2021, 2, 1), date(2021, 2, 15))
    (issued,) = ledger.issue(date(2021, 2, 1))
    assert issued.id == pending.id
    assert issued.issued
    # the ledger's invoice is the planner's invoice
    (planned,) = plan_invoices(JANUARY).invoices
    assert planned.id == issued.id
    assert planned.amount == issued.amount
    assert ledger.issue(date(2021, 2, 1)) == ()
    assert ledger.issue(date(2021, 3, 1)) == ()
    stored = ledger.invoice(issued.id)
    assert stored.transaction_ids == ("T1", "T2")
    assert stored.outstanding == 12_000
    assert ledger.transaction("T1").invoice_id == issued.id


def test_void_before_issue_removes_the_purchase_and_after_issue_is_refused(ledger: Ledger) -> None:
    ledger.record([*JANUARY, purchase("T3", "2021-01-25T10:00:00+01:00", 1000)])
    voided = ledger.void("T3")
    assert voided.status.value == "AUTHORIZATION_VOIDED"
    assert voided.voided == 1000
    (invoice,) = ledger.issue(date(2021, 2, 1))
    assert invoice.transaction_ids == ("T1", "T2")
    with pytest.raises(IllegalTransition, match="transaction T1 is AUTHORIZED: cannot void"):
        ledger.void("T1")
    with pytest.raises(UnknownId):
        ledger.void("nope")


def test_late_purchase_goes_on_the_next_invoice(ledger: Ledger) -> None:
    ledger.record(JANUARY)
    (january,) = ledger.issue(date(2021, 2, 1))
    ledger.record([purchase("LATE", "2021-01-28T10:00:00+01:00", 900)])
    view = ledger.transaction("LATE")
    assert view.late
    assert view.period == "2021-02"
    assert view.issue_date == date(2021, 3, 1)
    assert ledger.invoice(january.id).transaction_ids == ("T1", "T2")  # unchanged
    (february,) = ledger.issue(date(2021, 3, 1))
    assert february.transaction_ids == ("LATE",)
    assert february.period is not None
    assert february.period.label == "2021-02"


def test_customer_reference_and_currency_split_invoices(ledger: Ledger) -> None:
    ledger.record(
        [
            purchase("A", "2021-01-05T10:00:00+01:00", reference="dept-a"),
            purchase("B", "2021-01-06T10:00:00+01:00", reference="dept-b"),
            purchase("C", "2021-01-07T10:00:00+01:00", reference="dept-a", currency="EUR"),
        ]
    )
    assert sorted(i.transaction_ids for i in ledger.issue(date(2021, 2, 1))) == [
        ("A",),
        ("B",),
        ("C",),
    ]


# -- paying and refunding ---------------------------------------------------------------


def test_partial_then_full_payment_with_idempotent_payment_ids(ledger: Ledger) -> None:
    ledger.record(JANUARY)
    (invoice,) = ledger.issue(date(2021, 2, 1))
    first = ledger.pay(invoice.id, 6_000, payment_id="P1")
    assert first.allocation == (("T1", 2_500), ("T2", 3_500))  # pro rata 5000:7000
    assert ledger.pay(invoice.id, 6_000, payment_id="P1") == first  # the same payment again
    assert ledger.transaction("T1").balance.status.value == "PARTIALLY_CAPTURED"
    with pytest.raises(LedgerConflict):
        ledger.pay(invoice.id, 5_000, payment_id="P1")
    with pytest.raises(InvalidPurchaseError):
        ledger.pay(invoice.id, 6_001, payment_id="P2")  # more than outstanding
    assert ledger.invoice(invoice.id).outstanding == 6_000  # nothing changed
    ledger.pay(invoice.id, 6_000, payment_id="P2", currency="NOK")
    assert {ledger.transaction(t).balance.status.value for t in ("T1", "T2")} == {"CAPTURED"}
    assert ledger.invoice(invoice.id).outstanding == 0
    history = [(h.action, h.to_state) for h in ledger.transaction("T2").history]
    assert history == [("register", "AUTHORIZED"), ("issue", "AUTHORIZED"),
                       ("pay", "PARTIALLY_CAPTURED"), ("pay", "CAPTURED")]  # fmt: skip


def test_oldest_first_allocation(ledger: Ledger) -> None:
    ledger.record(JANUARY)
    (invoice,) = ledger.issue(date(2021, 2, 1))
    payment = ledger.pay(invoice.id, 6_000, payment_id="P", method="oldest_first")
    assert payment.allocation == (("T1", 5_000), ("T2", 1_000))


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("nope", 100), UnknownId),
        (("INVOICE", 0), InvalidPurchaseError),
        (("INVOICE", -5), InvalidPurchaseError),
        (("INVOICE", 10.5), InvalidPurchaseError),
    ],
)
def test_bad_payments_change_nothing(
    ledger: Ledger, args: tuple[Any, int], error: type[Exception]
) -> None:
    ledger.record(JANUARY)
    (invoice,) = ledger.issue(date(2021, 2, 1))
    invoice_id = invoice.id if args[0] == "INVOICE" else args[0]
    with pytest.raises(error):
        ledger.pay(invoice_id, args[1], payment_id="P")
    assert ledger.invoice(invoice.id).paid == 0
    with pytest.raises(LedgerError, match="in NOK, the payment in EUR"):
        ledger.pay(invoice.id, 100, payment_id="P", currency="EUR")


def test_standard_invoices_are_registered_with_their_purchase_and_take_refunds(
    ledger: Ledger,
) -> None:
    ledger.record([purchase("S1", "2021-03-10T10:00:00+01:00", 4000, product="kravia.invoice_b2c")])
    view = ledger.transaction("S1")
    assert view.balance.status.value == "CAPTURED"
    assert view.invoice_id is not None
    with pytest.raises(LedgerError, match="standard invoice"):
        ledger.pay(view.invoice_id, 100, payment_id="P")
    after = ledger.refund("S1", 1500, refund_id="R1")
    assert after.status.value == "PARTIALLY_REFUNDED"
    assert after.refunded == 1500
    assert ledger.refund("S1", 1500, refund_id="R1") == after  # idempotent
    with pytest.raises(IllegalTransition, match="S1"):
        ledger.refund("S1", 3000, refund_id="R2")  # more than is left
    assert ledger.refund("S1", 2500, refund_id="R3").status.value == "REFUNDED"
    with pytest.raises(LedgerConflict):
        ledger.refund("S1", 100, refund_id="R1")


def test_customer_open_and_upcoming_invoices(ledger: Ledger) -> None:
    ledger.record(JANUARY)
    (january,) = ledger.issue(date(2021, 2, 1))
    ledger.record([purchase("F1", "2021-02-03T10:00:00+01:00")])
    open_, upcoming = ledger.customer_invoices("NO", "923 609 016")
    assert [i.id for i in open_] == [january.id]
    assert [i.transaction_ids for i in upcoming] == [("F1",)]
    ledger.pay(january.id, january.amount, payment_id="P")
    open_, _ = ledger.customer_invoices("no", "923609016")
    assert open_ == ()


# -- concurrency and crashes -------------------------------------------------------------


def _issue_in_child(target: str, as_of: str, queue: Any) -> None:
    with Ledger.open(target) as ledger:
        queue.put([i.id for i in ledger.issue(date.fromisoformat(as_of))])


def test_concurrent_issue_issues_each_invoice_once(target: str) -> None:
    records = many_customers(600)
    with Ledger.open(target) as ledger:
        ledger.record(records)
        expected = {i.id for i in ledger.due(date(2026, 1, 10))}
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    children = [
        context.Process(target=_issue_in_child, args=(target, "2026-01-10", queue))
        for _ in range(4)
    ]
    for child in children:
        child.start()
    results = [queue.get(timeout=120) for _ in children]
    for child in children:
        child.join(timeout=60)
    issued = [invoice_id for result in results for invoice_id in result]
    assert len(issued) == len(set(issued)) == len(expected)
    assert set(issued) == expected
    with Ledger.open(target) as ledger:
        assert ledger.due(date(2026, 1, 10)) == ()
        count = ledger.db.execute("SELECT COUNT(*) FROM invoices")[0][0]
        assert count == len(expected)


_CRASH_CHILD = """
import sys, json
from datetime import date, timedelta
from kravia_schedule.ledger import Ledger
target, what = sys.argv[1], sys.argv[2]
records = [json.loads(line) for line in sys.stdin]
with Ledger.open(target) as ledger:
    print("ready", flush=True)
    if what == "record":
        for start in range(0, len(records), 5):
            ledger.record(records[start:start + 5])
    else:
        ledger.record(records)
        print("recorded", flush=True)
        day = date(2024, 1, 1)
        while True:  # one issue run per day, as a scheduler would
            ledger.issue(day)
            day += timedelta(days=1)
"""


def _check_consistent(target: str) -> tuple[int, int]:
    """Every invariant a ledger keeps across a crash; returns (purchases, invoices)."""
    with Ledger.open(target) as ledger:
        db = ledger.db
        purchases = db.execute("SELECT id, issued, invoice_id, product_type FROM purchases")
        for tid, issued, invoice_id, product_type in purchases:
            steps = [
                row[0]
                for row in db.execute(
                    "SELECT step FROM history WHERE transaction_id = ? ORDER BY step", (tid,)
                )
            ]
            assert steps, tid
            assert steps == list(range(1, len(steps) + 1)), tid
            if product_type == "kravia.invoice_b2b_grouped":
                assert bool(issued) == (invoice_id is not None), tid
        for invoice_id, amount in db.execute("SELECT id, amount FROM invoices"):
            total = db.execute(
                "SELECT COALESCE(SUM(purchased), 0) FROM purchases WHERE invoice_id = ?",
                (invoice_id,),
            )
            assert total[0][0] == amount, invoice_id
        invoices = db.execute("SELECT COUNT(*) FROM invoices")[0][0]
        return len(purchases), invoices


@pytest.mark.parametrize("delay", [0.05, 0.15, 0.3])
@pytest.mark.parametrize("what", ["record", "issue"])
def test_sigkill_mid_operation_loses_nothing_committed_and_issues_nothing_twice(
    target: str, what: str, delay: float
) -> None:
    import json

    records = many_customers(400)
    child = subprocess.Popen(
        [sys.executable, "-c", _CRASH_CHILD, target, what],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )  # fmt: skip
    assert child.stdin is not None
    assert child.stdout is not None
    child.stdin.write("".join(json.dumps(r) + "\n" for r in records))
    child.stdin.close()
    assert child.stdout.readline().strip() == "ready"
    if what == "issue":
        assert child.stdout.readline().strip() == "recorded"
    time.sleep(delay)  # any moment will do: every invariant must hold wherever it stops
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    recorded, _ = _check_consistent(target)
    if what == "record":
        assert recorded % 5 == 0 or recorded == len(records)  # whole batches only
    with Ledger.open(target) as ledger:  # finish the job: nothing is issued twice
        ledger.record(records)
        ledger.issue(date(2026, 1, 10))
        assert ledger.due(date(2026, 1, 10)) == ()
        expected = {
            i.id for i in plan_invoices(records).invoices if i.issue_date <= date(2026, 1, 10)
        }
        assert {
            row[0]
            for row in ledger.db.execute(
                "SELECT id FROM invoices WHERE product_type = 'kravia.invoice_b2b_grouped'"
            )
        } == expected
    _check_consistent(target)


def test_sqlite_file_is_a_plain_database(tmp_path: Any) -> None:
    with Ledger.open(tmp_path / "l.db") as ledger:
        ledger.record(JANUARY)
    with sqlite3.connect(tmp_path / "l.db") as raw:
        assert raw.execute("SELECT COUNT(*) FROM purchases").fetchone() == (2,)
