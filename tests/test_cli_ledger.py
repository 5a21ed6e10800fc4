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


def test_sync_reports_every_refused_record_by_id_and_field(tmp_path, capsys):
    import json

    from test_ledger_sync import transaction, webhook

    db = str(tmp_path / "ledger.db")
    bad = transaction("B1", "AUTHORIZED")
    bad["items"][1]["vat"] = "lots"
    listed = [
        transaction("G1", "AUTHORIZED"),
        transaction("C1", "CAPTURED", product="dintero_psp.creditcard"),
        bad,
        webhook("NOPE", "CAPTURED", 5),
        transaction("G1", "CAPTURED", events=[("CAPTURE", 5_000)], minute=9),
    ]
    path = tmp_path / "transactions.json"
    path.write_text(json.dumps(listed))  # as GET /v1/transactions returns them
    status, out, err = run(capsys, "ledger", "--db", db, "sync", str(path))
    assert status == 1  # applied what it could, refused the rest
    assert "Traceback" not in err
    refused = [line.strip() for line in err.splitlines()]
    assert "refused: B1: items[1].vat: must be a finite number, got 'lots'" in refused
    assert (
        "refused: NOPE: id: a status update of a transaction the ledger does not hold; sync "
        "the full transaction first" in refused
    )
    assert (  # issuing the invoice would not explain it: refused
        "refused: G1: status: PARTIALLY_CAPTURED -> CAPTURED refused: its events leave it "
        "PARTIALLY_CAPTURED (captured 5000, refunded 0, voided 0 of 10000)" in refused
    )
    assert "on no invoice: C1: not a Kravia payment" in out
    assert out.splitlines()[-1] == "added 2, changed 0, unchanged 0, deferred 0, refused 3"
    (tmp_path / "one.json").write_text(json.dumps(listed[0]))  # one object: a callback body
    status, out, _ = run(capsys, "ledger", "--db", db, "sync", str(tmp_path / "one.json"))
    assert (status, out) == (0, "added 0, changed 0, unchanged 1, deferred 0, refused 0\n")


def test_sync_defers_a_grouped_copy_paid_before_its_invoice_is_issued(tmp_path, capsys):
    import json

    from test_ledger_sync import transaction

    db = str(tmp_path / "ledger.db")
    paid = transaction("G1", "CAPTURED", events=[("CAPTURE", 10_000)], minute=9)
    (tmp_path / "paid.json").write_text(json.dumps(paid))  # the callback of the payment
    status, out, err = run(capsys, "ledger", "--db", db, "sync", str(tmp_path / "paid.json"))
    assert (status, err) == (0, "")  # held, not refused
    deferred, summary = out.splitlines()
    assert deferred.startswith("  deferred: G1: pay 10000 [G1-e2] waits for invoice G-2021-01-")
    assert deferred.endswith(" to be issued (issue date 2021-02-01)")
    assert summary == "added 1, changed 0, unchanged 0, deferred 1, refused 0"
    invoice = deferred.split("invoice ")[1].split()[0]
    status, out, _ = run(capsys, "ledger", "--db", db, "show", "transaction", "G1")
    assert "G1 kravia.invoice_b2b_grouped: AUTHORIZED; purchased 10000, open 10000" in out
    assert out.splitlines()[-2:] == [
        f"  waiting for invoice {invoice} to be issued:", "    pay 10000 [G1-e2]",
    ]  # fmt: skip
    status, out, _ = run(capsys, "ledger", "--db", db, "due", "--as-of", "2021-02-01")
    assert f"{invoice}  Nordmann AS (NO)" in out
    assert "100.00 NOK, paid 100.00 NOK, 1 purchase(s)" in out
    status, out, _ = run(capsys, "ledger", "--db", db, "sync", str(tmp_path / "paid.json"))
    assert (status, out) == (0, "added 0, changed 0, unchanged 1, deferred 0, refused 0\n")
    status, out, _ = run(capsys, "ledger", "--db", db, "issue", "--as-of", "2021-02-01")
    assert "paid 100.00 NOK" in out
    status, out, _ = run(capsys, "ledger", "--db", db, "show", "transaction", "G1")
    assert "G1 kravia.invoice_b2b_grouped: CAPTURED" in out
    assert "on no invoice" not in out  # it is on the issued invoice
    assert out.splitlines()[-1] == "  3. pay 10000: AUTHORIZED -> CAPTURED [G1-e2]"


def test_issue_as_of_an_instant_with_offset(tmp_path, capsys):
    db = str(tmp_path / "ledger.db")
    run(capsys, "ledger", "--db", db, "record", str(EXAMPLES / "purchases.jsonl"), "--skip-invalid")
    # 23:30 on 30 September in Oslo and Stockholm, but 00:30 on 1 October in Helsinki
    status, out, _ = run(capsys, "ledger", "--db", db, "due", "--as-of", "2026-09-30T21:30:00Z")
    lines = out.splitlines()
    assert (status, lines[0]) == (0, "1 invoice(s) due as of 2026-09-30 21:30:00+00:00")
    assert "Virtanen Oy (FI)" in lines[1]
    status, out, _ = run(capsys, "ledger", "--db", db, "issue", "--as-of", "2026-10-01T00:30+02:00")
    assert out.startswith("5 invoice(s) issued as of 2026-10-01 00:30:00+02:00")


def test_show_invoice_gives_vat_per_rate_order_lines_and_json(tmp_path, capsys):
    import json

    from test_ledger_sync import transaction

    db = str(tmp_path / "ledger.db")
    (tmp_path / "t.json").write_text(json.dumps([transaction("G1", "AUTHORIZED")]))
    run(capsys, "ledger", "--db", db, "sync", str(tmp_path / "t.json"))
    _, out, _ = run(capsys, "ledger", "--db", db, "issue", "--as-of", "2021-02-01")
    invoice = out.splitlines()[1].split()[0]
    status, out, _ = run(capsys, "ledger", "--db", db, "show", "invoice", invoice)
    assert status == 0
    lines = out.splitlines()
    # 6000 at 25 % holds 1200; 4000 at 15 % holds 521.74, so 522
    assert "  25 %: net 48.00 NOK, VAT 12.00 NOK, gross 60.00 NOK" in lines
    assert "  15 %: net 34.78 NOK, VAT 5.22 NOK, gross 40.00 NOK" in lines
    assert lines[-3:] == ["  G1", "    Kontorstol: 60.00 NOK", "    Kaffe 1 kg: 40.00 NOK"]
    assert lines[1].startswith("  payment reference ")
    assert "pay by 2021-02-15" in lines[1]
    status, out, _ = run(capsys, "ledger", "--db", db, "show", "invoice", invoice, "--json")
    shown = json.loads(out)
    assert (shown["id"], shown["paid"], shown["issued"], shown["vat_amount"]) == (
        invoice, 0, True, 1722,
    )  # fmt: skip
    assert shown["payment_reference"] in lines[1]
