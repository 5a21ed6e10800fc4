"""The ``ledger`` commands, end to end on a SQLite file."""

from __future__ import annotations

from pathlib import Path

from kravia_schedule.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_record_issue_pay_show(tmp_path, capsys):
    db = str(tmp_path / "ledger.db")
    status, _, err = run(capsys, "ledger", "--db", db, "record", str(EXAMPLES / "purchases.jsonl"))
    assert status == 2  # the example file holds invalid records: nothing is recorded
    assert "txn_0" in err
    status, out, err = run(
        capsys, "ledger", "--db", db, "record", str(EXAMPLES / "purchases.jsonl"), "--skip-invalid"
    )
    assert status == 0
    assert (
        "recorded 29 purchase(s); 0 already there unchanged; 5 invalid or not new, skipped" in out
    )
    assert "txn_030" not in err  # the example's own FAILED purchase is held, on no invoice
    assert "'DK' is not a Kravia market" in err
    status, out, _ = run(
        capsys, "ledger", "--db", db, "record", str(EXAMPLES / "purchases.jsonl"), "--skip-invalid"
    )
    assert "recorded 0 purchase(s); 29 already there unchanged" in out
    status, out, _ = run(capsys, "ledger", "--db", db, "show", "transaction", "txn_030")
    assert "txn_030 kravia.invoice_b2c: FAILED" in out
    assert "on no invoice: no invoice for a standard purchase in state FAILED" in out
    assert "1. fail: INITIATED -> FAILED" in out
    status, out, _ = run(capsys, "ledger", "--db", db, "due", "--as-of", "2026-10-01")
    assert out.startswith("5 invoice(s) due as of 2026-10-01")
    status, out, _ = run(capsys, "ledger", "--db", db, "issue", "--as-of", "2026-10-01")
    assert out.startswith("5 invoice(s) issued as of 2026-10-01")
    invoice = next(
        line.split()[0]
        for line in out.splitlines()
        if "Nordmann AS" in line and "1 925.00 NOK" in line
    )
    status, out, _ = run(capsys, "ledger", "--db", db, "issue", "--as-of", "2026-10-01")
    assert out.startswith("0 invoice(s) issued")
    status, out, _ = run(
        capsys, "ledger", "--db", db, "pay", invoice, "100000", "--payment-id", "bank-1"
    )
    assert status == 0
    assert "outstanding: 925.00 NOK" in out
    status, out, _ = run(capsys, "ledger", "--db", db, "show", "transaction", "txn_001")
    assert "PARTIALLY_CAPTURED" in out
    assert "pay 64935: AUTHORIZED -> PARTIALLY_CAPTURED [bank-1]" in out  # 125000/192500 of 1000.00
    status, out, _ = run(capsys, "ledger", "--db", db, "show", "invoice", invoice)
    assert "paid 1 000.00 NOK" in out
    status, out, _ = run(capsys, "ledger", "--db", db, "show", "customer", "NO", "923609016")
    assert "open invoices: 2" in out
    status, out, _ = run(capsys, "ledger", "--db", db, "void", "txn_018")
    assert "txn_018: AUTHORIZATION_VOIDED" in out
    status, out, _ = run(
        capsys, "ledger", "--db", db, "refund", "txn_029", "4900", "--refund-id", "r1"
    )
    assert "txn_029: PARTIALLY_REFUNDED, refunded 4900" in out


def test_ledger_refusals_are_errors_with_status_2(tmp_path, capsys):
    db = str(tmp_path / "ledger.db")
    status, _, err = run(capsys, "ledger", "--db", db, "void", "nope")
    assert status == 2
    assert "no transaction 'nope'" in err
    status, _, err = run(capsys, "ledger", "--db", db, "show", "customer", "NO")
    assert status == 2
    assert "COUNTRY ORGANIZATION_NUMBER" in err
