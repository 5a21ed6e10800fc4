"""Plan output that is safe to open and to print: no formulas in CSV cells, no text that
cannot be encoded."""

from __future__ import annotations

import csv
import doctest
import io
import json

import pytest
from _records import nordmann_record
from hypothesis import given
from hypothesis import strategies as st

import kravia_schedule.report
from kravia_schedule import plan_invoices
from kravia_schedule.report import plan_to_csv, plan_to_json, plan_to_table, spreadsheet_text

TRIGGERS = ["=", "+", "-", "@", "\t", "\r", "\n", "\x00"]


@pytest.mark.parametrize("first", TRIGGERS)
def test_cells_a_spreadsheet_would_run_get_a_quote(first):
    assert spreadsheet_text(first + "1+1") == "'" + first + "1+1"


@pytest.mark.parametrize("value", ["", "Nordmann AS", "a=b", "'=x", " =x", "2025-01-01", "T-1"])
def test_other_cells_are_left_as_they_are(value):
    assert spreadsheet_text(value) == value


@given(st.text())
def test_a_guarded_cell_never_starts_a_formula_and_keeps_the_text(value):
    cell = spreadsheet_text(value)
    assert cell[:1] not in TRIGGERS
    assert cell in (value, "'" + value)


def test_csv_output_quotes_formula_text_and_leaves_numbers_alone():
    records = [
        nordmann_record("=1+1", "2025-01-10T10:00:00+01:00", 5000,
                        business_name="=HYPERLINK(\"http://evil\",\"x\")", customer_reference="@SUM(A1)"),
        nordmann_record("+T2", "2025-01-11T10:00:00+01:00", 3000, status="AUTHORIZATION_VOIDED"),
        nordmann_record("-T3", "2025-01-12T10:00:00+01:00", -5),
    ]  # fmt: skip
    plan = plan_invoices(records)
    rows = {r["outcome"]: r for r in csv.DictReader(io.StringIO(plan_to_csv(plan)))}
    invoiced, skipped, rejected = rows["invoiced"], rows["skipped"], rows["rejected"]
    assert invoiced["transaction_id"] == "'=1+1"
    assert invoiced["business_name"] == '\'=HYPERLINK("http://evil","x")'
    assert invoiced["customer_reference"] == "'@SUM(A1)"
    assert (invoiced["amount"], invoiced["vat_amount"]) == ("5000", "1000")
    assert skipped["transaction_id"] == "'+T2"
    assert skipped["amount"] == "3000"
    assert rejected["transaction_id"] == "'-T3"
    assert rejected["reason"].startswith("amount: must be positive, got -5")


def test_a_rejected_lone_surrogate_is_printed_escaped_in_every_format():
    plan = plan_invoices(
        [
            nordmann_record("\ud800x", "2025-01-10T10:00:00+01:00"),
            nordmann_record("T2", "2025-01-10T10:00:00+01:00"),
        ]
    )
    assert [r.transaction_id for r in plan.rejected] == ["\ud800x"]
    table = plan_to_table(plan)
    table.encode("utf-8")
    assert table.rstrip().endswith(
        "\\ud800x (record 1): id: is not valid Unicode text (a lone surrogate U+D800 at character 1)"
    )
    rows = list(csv.DictReader(io.StringIO(plan_to_csv(plan))))
    assert [r["transaction_id"] for r in rows] == ["T2", "\\ud800x"]
    data = json.loads(plan_to_json(plan).encode("utf-8"))
    assert data["rejected"][0]["transaction_id"] == "\\ud800x"
    assert data["summary"] == {"invoices": 1, "skipped": 0, "rejected": 1,
                               "invoiced_by_currency": {"NOK": 10_000}}  # fmt: skip


def test_doctests():
    assert doctest.testmod(kravia_schedule.report).failed == 0


def test_a_carriage_return_in_a_cell_never_splits_a_csv_row():
    records = [
        nordmann_record("T\r1", "2025-01-10T10:00:00+01:00", business_name="Nordmann\r=1+1"),
        nordmann_record("T2", "2025-01-10T10:00:00+01:00"),
        nordmann_record("T\r3", "2025-01-10T10:00:00+01:00", status="AUTHORIZATION_VOIDED"),
        nordmann_record("T\r4", "2025-01-10T10:00:00+01:00", -1),
        nordmann_record("T5", "2025-01-10T10:00:00+01:00", -1),
    ]
    plan = plan_invoices(records)
    text = plan_to_csv(plan)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [r[:2] for r in rows[1:]] == [
        ["invoiced", "T\r1"], ["invoiced", "T2"], ["skipped", "T\r3"],
        ["rejected", "T\r4"], ["rejected", "T5"],
    ]  # fmt: skip
    assert rows[1][4] == "Nordmann\r=1+1"  # the text as it is: it does not start a cell
    assert rows[1][9] == "10000"  # QUOTE_NONNUMERIC: numbers stay numbers
    assert text.splitlines()[-1].startswith("rejected,T5,")  # rows without one: as before


def test_the_table_shows_what_a_billing_person_needs() -> None:
    from datetime import date

    from _records import nordmann_record

    from kravia_schedule import plan_invoices
    from kravia_schedule.report import plan_to_table

    records = [
        nordmann_record("A-1", "2026-10-05T10:00:00Z"),  # October: issued 2 November
        nordmann_record("A-2", "2026-11-05T10:00:00Z"),  # November: still open
        nordmann_record("A-3", "2026-11-05T10:00:00Z", currency="EUR"),  # another currency
        nordmann_record("A-1", "2026-10-05T10:00:00Z"),  # an identical repeat
    ]
    plan = plan_invoices(records, as_of=date(2026, 11, 25))
    table = plan_to_table(plan)
    october = plan.invoices[0]
    [november_nok] = [i for i in plan.invoices[1:] if i.currency == "NOK"]
    [november_eur] = [i for i in plan.invoices[1:] if i.currency == "EUR"]
    # Two invoices of one customer in two currencies have different headers.
    assert f"{november_nok.id}  Nordmann AS (NO 923609016)  NOK  [open]" in table
    assert f"{november_eur.id}  Nordmann AS (NO 923609016)  EUR  [open]" in table
    assert f"payment reference (KID): {october.payment_reference}" in table
    assert "Ready to issue (issue date reached): 100.00 NOK" in table
    assert "Open (period not ended: more purchases may join): 100.00 EUR, 100.00 NOK" in table
    repeats = table.split("Repeated (identical copies of a planned record, counted once):")[1]
    assert repeats.strip().splitlines()[0] == "A-1 (record 4)"
    assert "Rejected (invalid input)" not in table


def test_the_table_shows_each_order_line_and_the_vat_per_rate() -> None:
    from pathlib import Path

    fixture = Path(__file__).parent / "fixtures" / "dintero" / "vat_computed.json"
    record = json.loads(fixture.read_text(encoding="utf-8"))
    table = plan_to_table(plan_invoices([record]))
    for description in ("Skrivebordslampe", "Sjokolade", "Busstur (persontransport)"):
        assert description in table
    # By hand: 10001 øre at 25 % hold 2000.2 -> 2000 øre of VAT; 1199 at 15 %, 156.39 -> 156;
    # 42 at 12 %, 4.5 -> 5 (a half rounds away from zero).
    assert "total 112.42 NOK (VAT 21.61 NOK)" in table
    assert "VAT 25 %: net 80.01 NOK, VAT 20.00 NOK, gross 100.01 NOK" in table
    assert "VAT 15 %: net 10.43 NOK, VAT 1.56 NOK, gross 11.99 NOK" in table
    assert "VAT 12 %: net 0.37 NOK, VAT 0.05 NOK, gross 0.42 NOK" in table


def test_the_flat_shape_gives_no_rates_to_show() -> None:
    table = plan_to_table(plan_invoices([nordmann_record("T1", "2025-03-03T10:00:00+01:00", 500)]))
    assert "(VAT " in table
    assert "VAT 25 %" not in table
    assert "rate not given" not in table
