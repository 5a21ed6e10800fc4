"""Random sequences of ledger operations keep the money and the rules (SQLite)."""

from __future__ import annotations

import contextlib
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from _records import nordmann_record
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kravia_schedule import KraviaScheduleError, UnknownId
from kravia_schedule.ledger import Ledger
from kravia_schedule.lifecycle import TRANSITIONS, Action, ProductKind, outcomes

_CUSTOMERS = [("923609016", "Nordmann AS", None), ("974760673", "Fjordbygg AS", "dept-1"), ("974760673", "Fjordbygg AS", "dept-2")]  # fmt: skip


def _record(number: int, day: int, amount: int, customer: int, standard: bool) -> dict[str, Any]:
    org, name, reference = _CUSTOMERS[customer]
    address: dict[str, Any] = {"business_name": name, "organization_number": org}
    if reference:
        address["customer_reference"] = reference
    when = date(2025, 1, 1) + timedelta(days=day)
    return nordmann_record(
        f"T{number}", f"{when.isoformat()}T12:00:00+01:00", amount,
        status="CAPTURED" if standard else "AUTHORIZED",
        payment_product_type="kravia.invoice_b2b" if standard else "kravia.invoice_b2b_grouped",
        **address,
    )  # fmt: skip


_record_op = st.tuples(
    st.just("record"), st.integers(0, 120), st.integers(1, 50_000), st.integers(0, 2), st.booleans()
)
_other_op = st.one_of(
    _record_op,
    st.tuples(st.just("void"), st.integers(0, 30)),
    st.tuples(st.just("issue"), st.integers(30, 150)),
    # amounts as a share (in %) of what is open or refundable; over 100 % must be refused
    st.tuples(st.just("pay"), st.integers(0, 10), st.integers(-5, 110)),
    st.tuples(st.just("refund"), st.integers(0, 30), st.integers(-5, 110)),
)
# A few purchases first, then anything: issues, payments, refunds, voids and more records.
operations = st.builds(
    lambda first, rest: first + rest,
    st.lists(_record_op, min_size=3, max_size=12),
    st.lists(_other_op, max_size=30),
)


def _pick(ledger: Ledger, sql: str, index: int) -> str:
    ids = [row[0] for row in ledger.db.execute(sql)]
    if not ids:
        raise UnknownId("nothing to pick")
    return ids[index % len(ids)]


def _snapshot(ledger: Ledger) -> list[Any]:
    return [ledger.db.execute(f"SELECT * FROM {table} ORDER BY 1") for table in ("purchases", "invoices", "payments", "refunds", "history")]  # fmt: skip


def _check(ledger: Ledger) -> None:
    db = ledger.db
    rows = db.execute(
        "SELECT id, product_type, status, issued, purchased, authorized, captured, voided, refunded, invoice_id FROM purchases"
    )
    for (
        tid,
        product_type,
        status,
        issued,
        purchased,
        authorized,
        captured,
        voided,
        refunded,
        invoice_id,
    ) in rows:
        assert authorized + captured + voided == purchased, tid
        assert 0 <= refunded <= captured, tid
        kind = (
            ProductKind.GROUPED
            if product_type == "kravia.invoice_b2b_grouped"
            else ProductKind.STANDARD
        )
        history = db.execute(
            "SELECT action, from_state, to_state FROM history WHERE transaction_id = ? ORDER BY step",
            (tid,),
        )
        assert history[-1][2] == status, tid
        for action, before, after in history[1:]:  # every step is one the table allows
            entry = TRANSITIONS[kind, before, Action(action)]
            assert after in {s.value for s in outcomes(entry)}, (tid, action, before, after)
        if kind is ProductKind.GROUPED:
            assert bool(issued) == (invoice_id is not None), tid
    for invoice_id, amount, paid in db.execute("SELECT id, amount, paid FROM invoices"):
        on_invoice = db.execute(
            "SELECT COALESCE(SUM(purchased), 0), COALESCE(SUM(captured), 0) FROM purchases WHERE invoice_id = ?",
            (invoice_id,),
        )[0]
        assert on_invoice[0] == amount, invoice_id
        assert 0 <= paid <= amount
        if invoice_id.startswith("G-"):
            assert on_invoice[1] == paid, invoice_id  # payments are exactly the captured money


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_random_operations_keep_the_ledger_consistent(ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as folder, Ledger.open(Path(folder) / "l.db") as ledger:
        for number, op in enumerate(ops):
            before = _snapshot(ledger)
            try:
                if op[0] == "record":
                    ledger.record([_record(number, *op[1:])])
                elif op[0] == "void":
                    ledger.void(_pick(ledger, "SELECT id FROM purchases ORDER BY id", op[1]))
                elif op[0] == "issue":
                    ledger.issue(date(2025, 1, 1) + timedelta(days=op[1]))
                elif op[0] == "pay":
                    target = _pick(
                        ledger, "SELECT id FROM invoices WHERE id LIKE 'G-%' ORDER BY id", op[1]
                    )
                    open_ = ledger.invoice(target).outstanding
                    ledger.pay(target, open_ * op[2] // 100, payment_id=f"P{number}")
                else:
                    target = _pick(ledger, "SELECT id FROM purchases ORDER BY id", op[1])
                    balance = ledger.transaction(target).balance
                    ledger.refund(target, balance.refundable * op[2] // 100, refund_id=f"R{number}")
                event(f"{op[0]} done")
            except KraviaScheduleError as error:
                event(f"{op[0]} refused: {type(error).__name__}")
                assert _snapshot(ledger) == before  # a refused operation writes nothing
            _check(ledger)
        with contextlib.suppress(KraviaScheduleError):
            ledger.issue(date(2030, 1, 1))
        _check(ledger)
