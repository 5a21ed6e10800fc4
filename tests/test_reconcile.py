"""Reconciliation: Kravia's own invoices (its facts on Dintero's transactions) against the
schedule the rules give. The cases are built from the grouped fixture of
tests/fixtures/dintero/transactions_list.json, with Kravia's facts in an event."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

from kravia_schedule import Finding, parse_configuration, reconcile

BASE = json.loads(
    (Path(__file__).parent / "fixtures" / "dintero" / "transactions_list.json").read_text()
)[0]


def grouped(
    tid: str,
    created_at: str,
    *,
    number: str | None = None,
    issued: str | None = None,
    due: str | None = None,
    status: str = "AUTHORIZED",
) -> dict[str, Any]:
    """The grouped fixture as transaction ``tid``, with Kravia's invoice facts (if any)."""
    record = copy.deepcopy(BASE)
    record.update(id=tid, created_at=created_at, status=status)
    record["metadata"].pop("kravia:invoice_url")
    event = record["events"][1]
    event["metadata"] = {}
    facts = {"invoice_number": number, "invoice_date": issued, "invoice_due_date": due}
    for name, value in facts.items():
        if value is not None:
            event["metadata"][f"kravia:{name}"] = value
    if status == "CAPTURED":
        record["events"].append(
            {**record["events"][0], "id": f"{tid}-capture", "event": "CAPTURE",
             "transaction_status": "CAPTURED", "created_at": "2026-11-20T10:00:00.000Z"}
        )  # fmt: skip
    if status == "AUTHORIZATION_VOIDED":
        record["events"].append(
            {**record["events"][0], "id": f"{tid}-void", "event": "VOID",
             "transaction_status": "AUTHORIZATION_VOIDED", "created_at": "2026-10-30T10:00:00Z"}
        )  # fmt: skip
    return record


# October 2026 in Oslo: issued Monday 2 November (1 November is a Sunday), due 14 days on.
OCT = {"number": "K-1", "issued": "2026-11-02", "due": "2026-11-16"}


def test_kravias_invoice_agrees_with_the_schedule() -> None:
    result = reconcile(
        [
            grouped("T1", "2026-10-05T10:00:00.000Z", **OCT),
            grouped("T2", "2026-10-20T10:00:00.000Z", **OCT),
            grouped("T3", "2026-11-03T10:00:00.000Z"),  # not invoiced by Kravia yet
        ]
    )
    assert result.checked == 2
    assert result.agrees
    assert [i.transaction_ids for i in result.plan.invoices] == [("T1", "T2"), ("T3",)]


def test_a_paid_transaction_is_still_on_its_invoice() -> None:
    result = reconcile(
        [
            grouped("T1", "2026-10-05T10:00:00.000Z", status="CAPTURED", **OCT),
            grouped("T2", "2026-10-20T10:00:00.000Z", **OCT),
        ]
    )
    assert result.discrepancies == ()


def test_an_invoice_issued_on_another_day_says_why_the_schedule_differs() -> None:
    late = {**OCT, "issued": "2026-11-01", "due": "2026-11-15"}
    [issue, due] = reconcile([grouped("T1", "2026-10-05T10:00:00.000Z", **late)]).discrepancies
    assert (issue.finding, issue.expected, issue.actual) == (
        Finding.ISSUE_DATE, "2026-11-02", "2026-11-01"
    )  # fmt: skip
    assert issue.why == (
        "purchased on 2026-10-05 in Europe/Oslo, in billing period 2026-10 (2026-10-01 to "
        "2026-10-31); issued on the first business day after it, past 1 Nov Sunday"
    )
    assert (due.finding, due.expected, due.actual) == (Finding.DUE_DATE, "2026-11-16", "2026-11-15")
    assert due.why == "14 days after the issue date 2026-11-02 (invoice_b2b_grouped.days_until_due)"
    assert str(issue).startswith("T1: issue_date: expected 2026-11-02, Kravia has 2026-11-01")


def test_a_purchase_on_the_wrong_invoice_is_found_on_both_sides() -> None:
    result = reconcile(
        [
            grouped("T1", "2026-10-05T10:00:00.000Z", **OCT),
            grouped("T2", "2026-11-01T10:00:00.000Z", **OCT),  # November's, on October's
        ]
    )
    found = {(d.transaction_id, d.finding): d for d in result.discrepancies}
    assert set(found) == {
        ("T1", Finding.OTHER_INVOICE),
        ("T2", Finding.OTHER_INVOICE),
        ("T2", Finding.ISSUE_DATE),  # December's issue date on the schedule
        ("T2", Finding.DUE_DATE),
    }
    t1, t2 = found["T1", Finding.OTHER_INVOICE], found["T2", Finding.OTHER_INVOICE]
    assert t1.actual == t2.actual == "K-1"
    assert t1.expected != t2.expected
    assert t1.why.startswith("Kravia's invoice K-1 also holds T2 (schedule: G-2026-11-")
    assert found["T2", Finding.ISSUE_DATE].expected == "2026-12-01"


def test_kravia_invoicing_a_voided_purchase_is_not_scheduled() -> None:
    voided = grouped("T1", "2026-10-05T10:00:00.000Z", status="AUTHORIZATION_VOIDED", **OCT)
    [found] = reconcile([voided]).discrepancies
    assert (found.finding, found.expected, found.actual) == (Finding.NOT_SCHEDULED, None, "K-1")
    assert found.why == "voided: voided before billing"


# -- the fixtures of tests/fixtures/reconcile/ ---------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "reconcile"
CONFIG = parse_configuration(
    json.loads((Path(__file__).parent.parent / "examples" / "config.json").read_text())
)


def fixture(name: str) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


def test_the_agreeing_fixture_agrees_and_skips_the_card_payment() -> None:
    result = reconcile(fixture("kravia_agrees.json"), CONFIG)
    assert (result.checked, result.discrepancies, result.rejected) == (3, (), ())
    assert [s.transaction_id for s in result.plan.skipped] == ["T00000109.CardPaymentNotKravia000a"]
    # November's grouped purchase is planned though Kravia has not invoiced it yet.
    assert "T00000104.GroupedNovemberOpen0a" in result.plan.invoices[-1].transaction_ids


def test_not_invoiced_only_once_the_schedule_has_issued_the_invoice() -> None:
    rows = fixture("kravia_discrepancies.json")
    findings = {
        as_of: {
            d.transaction_id
            for d in reconcile(rows, CONFIG, as_of=as_of).discrepancies
            if d.finding is Finding.NOT_INVOICED
        }
        for as_of in (None, date(2026, 9, 30), date(2026, 10, 1))
    }
    assert findings == {
        None: set(),
        date(2026, 9, 30): set(),
        date(2026, 10, 1): {"T00000206.GroupedSeptMissing0a"},
    }
    [missing] = [
        d
        for d in reconcile(rows, CONFIG, as_of=date(2026, 10, 1)).discrepancies
        if d.finding is Finding.NOT_INVOICED
    ]
    assert str(missing.expected).startswith("G-2026-09-")
    assert missing.actual is None
    assert str(missing).endswith(
        "Kravia has no invoice (issued on 2026-10-01: purchased on 2026-09-20 in Europe/Oslo, "
        "in billing period 2026-09 (2026-09-01 to 2026-09-30); issued on the first business "
        "day after it)"
    )


def test_a_later_copy_that_kravia_invoiced_is_not_reported_missing() -> None:
    late = grouped("T1", "2026-10-05T10:00:00.000Z")
    invoiced = grouped("T1", "2026-10-05T10:00:00.000Z", **OCT)
    result = reconcile([late, invoiced], as_of=date(2026, 12, 1))
    assert all(d.finding is not Finding.NOT_INVOICED for d in result.discrepancies)


def test_flat_records_are_planned_but_never_missing() -> None:
    flat = {
        "id": "F1",
        "created_at": "2026-10-05T10:00:00Z",
        "amount": 1000,
        "vat_amount": 200,
        "currency": "NOK",
        "status": "AUTHORIZED",
        "payment_product_type": "kravia.invoice_b2b_grouped",
        "billing_address": BASE["billing_address"],
    }
    result = reconcile([flat], as_of=date(2026, 12, 1))
    assert result.plan.invoices[0].transaction_ids == ("F1",)
    assert (result.checked, result.discrepancies) == (0, ())


def test_rejected_records_are_listed_apart_from_identical_repeats() -> None:
    rows = fixture("kravia_agrees.json")
    bad = copy.deepcopy(rows[0])
    bad["id"] = "T00000199.BadKraviaDate00000a"
    bad["events"][1]["metadata"]["kravia:invoice_due_date"] = "16/11/2026"
    result = reconcile([*rows, rows[1], bad], CONFIG)
    [rejected] = result.rejected
    assert rejected.transaction_id == "T00000199.BadKraviaDate00000a"
    assert rejected.field == "events[1].metadata.kravia:invoice_due_date"
    assert len(result.plan.rejected) == 2  # the repeat of rows[1] too, counted once
    assert result.agrees  # so agrees alone does not say the input was whole


def test_to_dict() -> None:
    result = reconcile(fixture("kravia_discrepancies.json"), CONFIG, as_of=date(2026, 11, 20))
    as_dict = json.loads(json.dumps(result.to_dict()))
    assert (as_dict["checked"], as_dict["agrees"]) == (5, False)
    assert as_dict["discrepancies"] == [d.to_dict() for d in result.discrepancies]
    assert as_dict["computed_with"] == result.plan.provenance.to_dict()
    assert [Finding(d["finding"]) for d in as_dict["discrepancies"]] == [
        d.finding for d in result.discrepancies
    ]
    voided = next(d for d in result.discrepancies if d.finding is Finding.NOT_SCHEDULED)
    assert str(voided) == (
        "T00000204.GroupedVoided000000a: not_scheduled: expected no invoice, Kravia has "
        "K-2003 (voided: voided before billing)"
    )


def test_a_standard_invoice_says_why_and_a_moved_due_date_says_so() -> None:
    [standard] = [r for r in fixture("kravia_discrepancies.json") if "Standard" in r["id"]]
    standard = copy.deepcopy(standard)  # issued Thursday 5 November, 30 days: Saturday 5 Dec
    standard["created_at"] = "2026-11-04T23:10:00.000Z"  # 00:10 on 5 November in Oslo
    facts = standard["events"][1]["metadata"]
    facts["kravia:invoice_date"], facts["kravia:invoice_due_date"] = "2026-11-04", "2026-12-04"
    [issue, due] = reconcile([standard], CONFIG, due_date_rule="following").discrepancies
    assert (issue.expected, issue.why) == (
        "2026-11-05",
        "purchased on 2026-11-05 in Europe/Oslo; a standard invoice is issued on the "
        "purchase's local date",
    )
    assert (due.expected, due.why) == (
        "2026-12-07",
        "30 days after the issue date 2026-11-05 (invoice_b2b.days_until_due), moved to the "
        "next business day (following)",
    )


def test_one_schedule_invoice_split_over_two_of_kravias() -> None:
    result = reconcile(
        [
            grouped("T1", "2026-10-05T10:00:00.000Z", **OCT),
            grouped("T2", "2026-10-20T10:00:00.000Z", **{**OCT, "number": "K-2"}),
        ]
    )
    found = {d.transaction_id: d for d in result.discrepancies}
    assert set(found) == {"T1", "T2"}
    assert found["T1"].why == "the schedule's invoice also holds T2 (Kravia: K-2)"
    assert found["T2"].why == "the schedule's invoice also holds T1 (Kravia: K-1)"
    assert found["T1"].expected == found["T2"].expected  # one invoice in the schedule


def test_facts_without_an_invoice_number_have_their_dates_checked() -> None:
    record = grouped("T1", "2026-10-05T10:00:00.000Z", issued="2026-11-03", due="2026-11-16")
    [issue] = reconcile([record]).discrepancies
    assert (issue.finding, issue.expected, issue.actual) == (
        Finding.ISSUE_DATE, "2026-11-02", "2026-11-03"
    )  # fmt: skip
