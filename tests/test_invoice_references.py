"""Grouped invoices carry a payment reference in their country's scheme."""

from __future__ import annotations

import json
from pathlib import Path

from kravia_schedule import plan_invoices
from kravia_schedule.io import read_records
from kravia_schedule.references import fi_reference as fi
from kravia_schedule.references import kid, ocr, rf

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_each_invoice_has_a_valid_reference_in_its_country_scheme():
    plan = plan_invoices(read_records(EXAMPLES / "purchases.jsonl"))
    checks = {
        "NO": kid.is_valid,
        "SE": lambda v: ocr.is_valid(v, length_digit=True),
        "FI": fi.is_valid,
    }
    references = set()
    for invoice in plan.invoices:
        reference = invoice.payment_reference
        assert checks[invoice.country.value](reference), (invoice.id, reference)
        assert rf.is_valid(invoice.reference("rf"))
        references.add(reference)
    assert len(references) == len(plan.invoices)  # distinct invoices, distinct references
    again = plan_invoices(read_records(EXAMPLES / "purchases.jsonl"))
    assert [i.payment_reference for i in again.invoices] == [
        i.payment_reference for i in plan.invoices
    ]


def test_json_report_shows_the_reference(capsys):
    from kravia_schedule.cli import main

    assert main(["plan", str(EXAMPLES / "purchases.jsonl"), "--format", "json"]) == 0
    invoice = json.loads(capsys.readouterr().out)["invoices"][0]
    assert invoice["payment_reference"]
