"""Dintero's own transactions planned by every engine: VAT from the items, every status,
card payments in an unfiltered list, webhook envelopes and sessions said for what they
are. The fixtures are written from Dintero's payments API definition (see
tests/fixtures/dintero/README.md)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kravia_schedule import (
    InvoicePlan,
    RateTotal,
    SkipReason,
    TransactionStatus,
    json_default,
    plan_invoices,
    rules,
)
from kravia_schedule.dintero import classify, read_transaction, to_flat
from kravia_schedule.io import read_records
from kravia_schedule.purchases import items_of
from kravia_schedule.report import plan_to_table
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


def without_items(plan: InvoicePlan) -> InvoicePlan:
    invoices = tuple(
        replace(invoice, lines=[line._replace(items=()) for line in invoice.lines])
        for invoice in plan.invoices
    )
    return replace(plan, invoices=invoices)


def test_a_dintero_transaction_plans_as_its_flat_form_and_keeps_its_order_lines() -> None:
    records = [r for r in transactions(*ALL) if read_transaction(r).is_kravia]
    flat = [to_flat(read_transaction(r)) for r in records]
    plan = plan_invoices(records)
    assert without_items(plan) == plan_invoices(flat)
    by_id = {r["id"]: read_transaction(r) for r in records}
    lines = [line for invoice in plan.invoices for line in invoice.lines]
    assert any(line.items for line in lines)
    for line in lines:
        assert line.items == items_of(by_id[line.transaction_id].vat)
        described = [item.description for item in line.items]
        given = [
            item.get("description") for item in records_by_id(records)[line.transaction_id]["items"]
        ]
        assert described[: len(given)] == given


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


def records_by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in records}


def test_a_transaction_whose_vat_nothing_gives_is_planned_with_its_vat_unknown(engine) -> None:
    records = transactions("vat_missing.json")
    plan = engine(records, None)
    assert plan.rejected == ()
    [invoice] = plan.invoices
    [line] = invoice.lines
    assert line.vat_amount is None  # unknown, never zero
    assert invoice.vat_amount is None
    assert invoice.vat_breakdown == (RateTotal(None, None, None, 66400),)
    assert [item.description for item in line.items] == [
        "Kontorstol ergonomisk",
        "Kaffebønner 1 kg, økologisk",
        "Bring Servicepakke",  # the shipping option, which the amount includes
    ]
    check_plan(plan, records)


def test_strict_rejects_a_transaction_whose_vat_nothing_gives(engine) -> None:
    plan = engine(transactions("vat_missing.json"), None, require_vat=True)
    assert plan.invoices == ()
    [rejection] = plan.rejected
    assert rejection.field == "items"
    assert "VAT is unknown" in rejection.reason


def test_an_invoice_with_a_line_of_unknown_vat_says_so_in_every_form() -> None:
    record = transactions("vat_missing.json")[0]
    known = transactions("vat_from_session.json")[0]
    known["id"] = "T00000034.VatSession00000000000b"
    plan = plan_invoices([record, known])
    [invoice] = plan.invoices  # one customer, one month: one grouped invoice
    assert invoice.vat_amount is None
    assert invoice.amount == 2 * 66400
    assert invoice.vat_breakdown == (RateTotal(None, None, None, 2 * 66400),)
    table = plan_to_table(plan)
    assert "(VAT unknown)" in table
    data = json.loads(json.dumps(plan, default=json_default))
    assert data["invoices"][0]["vat_amount"] is None
    assert data["invoices"][0]["vat_breakdown"] == [
        {"rate": None, "net": None, "vat": None, "gross": 2 * 66400}
    ]


# Hand-computed (VAT = gross·r/(100+r), half away from zero):
#   25 %: 10001·25/125 = 2000.2 -> 2000;  15 %: 1199·15/115 = 156.39 -> 156;
#   12 %: 42·12/112 = 4.5 -> 5.
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("vat_given.json", [("25", 28000, 7000, 35000)]),
        (
            "vat_computed.json",
            [("25", 8001, 2000, 10001), ("15", 1043, 156, 1199), ("12", 37, 5, 42)],
        ),
        # The items give no VAT and do not add up to the amount: one share at no rate,
        # its VAT the session's.
        ("vat_from_session.json", [(None, 66400 - 12410, 12410, 66400)]),
    ],
)
def test_the_vat_breakdown_of_an_invoice_by_hand(engine, name, expected) -> None:
    plan = engine(transactions(name), None)
    [invoice] = plan.invoices
    got = [(t.to_dict()["rate"], t.net, t.vat, t.gross) for t in invoice.vat_breakdown]
    assert got == expected
    assert sum(t.gross for t in invoice.vat_breakdown) == invoice.amount
    assert sum(t.vat or 0 for t in invoice.vat_breakdown) == invoice.vat_amount


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


@pytest.mark.parametrize("first", ["dintero", "flat"])
def test_a_json_lines_file_of_dinteros_transactions_plans_as_the_core_in_the_columnar_engine(
    tmp_path: Path, first: str
) -> None:
    pytest.importorskip("polars", reason="the columnar engine needs the [columnar] extra")
    from kravia_schedule.columnar import plan_frames
    from kravia_schedule.dintero.generate import generate_transactions

    records: list[dict[str, Any]] = list(generate_transactions(60, seed=7))
    if first == "flat":  # a file that starts flat is read in columns, Dintero's rows after
        kravia = next(r for r in records if read_transaction(r).is_kravia)
        records.insert(0, {**to_flat(read_transaction(kravia)), "id": "flat-first"})
    path = tmp_path / "transactions.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    expected = plan_invoices(records)
    assert expected.invoices
    frames = plan_frames(path)
    assert frames.to_plan() == expected
    assert frames.invoices.height == len(expected.invoices)
    assert plan_frames(path, lines=False).invoices.height == len(expected.invoices)


def test_a_first_line_too_deeply_nested_to_read_is_the_readers_to_reject(tmp_path: Path) -> None:
    pytest.importorskip("polars", reason="the columnar engine needs the [columnar] extra")
    from kravia_schedule.columnar import plan_frame

    path = tmp_path / "deep.jsonl"
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    plan = plan_frame(path)
    assert plan == plan_invoices(read_records(str(path)))
    [rejection] = plan.rejected
    assert rejection.index == 0
