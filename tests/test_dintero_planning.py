"""Dintero's own transactions planned by every engine: VAT from the items, every status,
card payments in an unfiltered list, webhook envelopes and sessions said for what they
are. The fixtures are written from Dintero's payments API definition (see
tests/fixtures/dintero/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kravia_schedule import SkipReason, TransactionStatus, plan_invoices, rules
from kravia_schedule.dintero import classify, read_transaction, to_flat
from kravia_schedule.testing import check_plan

FIXTURES = Path(__file__).parent / "fixtures" / "dintero"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def transactions(*names: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in names:
        data = load(name)
        out += data if isinstance(data, list) else [data]
    return out


ALL = ("transactions_list.json", "transaction_single.json", "partial_capture.json",
       "partial_refund.json", "vat_given.json", "vat_computed.json", "vat_from_session.json",
       "statuses.json")  # fmt: skip


def test_every_engine_plans_dinteros_transactions_as_the_core(engine) -> None:
    records = transactions(*ALL)
    plan = engine(records, None)
    assert plan == plan_invoices(records)
    check_plan(plan, records)


def test_a_dintero_transaction_plans_as_its_flat_form() -> None:
    records = [r for r in transactions(*ALL) if read_transaction(r).is_kravia]
    flat = [to_flat(read_transaction(r)) for r in records]
    assert plan_invoices(records) == plan_invoices(flat)


def test_the_vat_of_an_invoice_line_comes_from_the_items() -> None:
    [record] = transactions("vat_computed.json")
    expected = read_transaction(record).vat_amount
    assert expected is not None
    plan = plan_invoices([record])
    [line] = [line for invoice in plan.invoices for line in invoice.lines]
    assert line.vat_amount == expected
    given = sum(item["vat_amount"] for item in transactions("vat_given.json")[0]["items"])
    [line] = plan_invoices(transactions("vat_given.json")).invoices[0].lines
    assert line.vat_amount == given


def test_card_payments_in_an_unfiltered_list_are_skipped_not_rejected() -> None:
    records = transactions("transactions_list.json")
    plan = plan_invoices(records)
    card = [r["id"] for r in records if not r["payment_product_type"].startswith("kravia.")]
    assert card
    skipped = {s.transaction_id: s for s in plan.skipped}
    for tid in card:
        assert skipped[tid].reason is SkipReason.NOT_KRAVIA
        assert skipped[tid].detail == "not a Kravia payment"
        assert skipped[tid].product_type is None
    assert plan.rejected == ()


def test_every_status_of_every_product_type_has_its_outcome() -> None:
    records = transactions("statuses.json")
    plan = plan_invoices(records)
    assert plan.rejected == ()
    invoiced = {t for invoice in plan.invoices for t in invoice.transaction_ids}
    skipped = {s.transaction_id: s.reason for s in plan.skipped}
    for record in records:
        kravia = read_transaction(record).product_type
        outcome = rules.outcome(kravia, TransactionStatus(record["status"]), enabled=True)
        if outcome.invoiced:
            assert record["id"] in invoiced
        else:
            assert skipped[record["id"]] is outcome.reason
    assert {r["status"] for r in records} >= {s.value for s in TransactionStatus} - {"SETTLED"}


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("webhook_envelope.json", "webhook envelope"),
        ("session.json", "session"),
        ("payment_profile.json", "payment profile"),
    ],
)
def test_what_is_not_a_transaction_is_said_for_what_it_is(engine, name, words) -> None:
    record = load(name)
    assert classify(record) != "transaction"
    plan = engine([record], None)
    assert plan.invoices == ()
    assert plan.skipped == ()
    [rejection] = plan.rejected
    assert words in rejection.reason


def test_a_transaction_whose_vat_nothing_gives_is_rejected_with_why() -> None:
    records = transactions("vat_missing.json")
    plan = plan_invoices(records)
    [rejection] = plan.rejected
    assert rejection.field == "items"
    assert "VAT is unknown" in rejection.reason


def test_a_dintero_problem_is_named_by_dinteros_path(engine) -> None:
    record = transactions("vat_computed.json")[0]
    record["items"][0]["vat"] = "25"
    plan = engine([record], None)
    [rejection] = plan.rejected
    assert rejection.field.startswith("items[0].vat")


@pytest.mark.parametrize("engine_name", ["core", "columnar"])
@pytest.mark.parametrize(
    "name", ["transactions_list.json", "transaction_single.json", "webhook_envelope.json"]
)
def test_the_command_line_plans_dinteros_files_as_they_come(
    capsys: pytest.CaptureFixture[str], name: str, engine_name: str
) -> None:
    from kravia_schedule.cli import main

    if engine_name == "columnar":
        pytest.importorskip("polars")
    path = FIXTURES / name
    status = main(["plan", str(path), "--format", "json", "--engine", engine_name])
    out = json.loads(capsys.readouterr().out)
    expected = plan_invoices(transactions(name))
    assert len(out["invoices"]) == len(expected.invoices)
    assert [r["transaction_id"] for r in out["rejected"]] == [
        r.transaction_id for r in expected.rejected
    ]
    assert status == 0
