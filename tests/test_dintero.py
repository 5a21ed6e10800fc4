"""Dintero's own shapes (kravia_schedule.dintero): classification, VAT, events, validation.

The fixtures in tests/fixtures/dintero/ are written by hand after Dintero's payments API
definition (see README.md there); the VAT figures below are worked by hand.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kravia_schedule import (
    Country,
    InvalidPurchaseError,
    KraviaScheduleError,
    ProductType,
    TransactionStatus,
    plan_invoices,
)
from kravia_schedule.dintero import (
    AMOUNT_LIMIT,
    KRAVIA_CURRENCIES,
    KRAVIA_PRODUCT_TYPES,
    LEGACY_STATUSES,
    TRANSACTION_STATUSES,
    DinteroTransaction,
    EventKind,
    KraviaFacts,
    SettlementStatus,
    TransactionEvent,
    VatLine,
    VatSource,
    breakdown,
    classify,
    event_amounts,
    generate_transactions,
    is_kravia_currency,
    read_transaction,
    read_webhook,
    to_flat,
    vat_from_gross,
)
from kravia_schedule.dintero.fields import decimal_of
from kravia_schedule.dintero.vat import canonical_rate, check_vat_rate

FIXTURES = Path(__file__).parent / "fixtures" / "dintero"
EXAMPLES = Path(__file__).parent.parent / "examples" / "purchases.jsonl"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def every_fixture() -> list[tuple[str, dict[str, Any]]]:
    """(file name, object) for every object of every fixture (a list's elements apart)."""
    out = []
    for path in sorted(FIXTURES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for obj in data if isinstance(data, list) else [data]:
            out.append((path.name, obj))
    return out


def transactions() -> list[DinteroTransaction]:
    return [read_transaction(obj) for _, obj in every_fixture() if classify(obj) == "transaction"]


def problem_paths(error: pytest.ExceptionInfo[InvalidPurchaseError]) -> set[str]:
    return {p.path for p in error.value.problems}


# --- vocabulary --------------------------------------------------------------------------------


def test_the_twelve_statuses_of_the_definition() -> None:
    assert len(TRANSACTION_STATUSES) == len(set(TRANSACTION_STATUSES)) == 12
    assert "SETTLED" not in TRANSACTION_STATUSES
    assert LEGACY_STATUSES == ("SETTLED",)
    # the planner knows every one of them, and the seeds' SETTLED
    assert {s.value for s in TransactionStatus} == set(TRANSACTION_STATUSES + LEGACY_STATUSES)


def test_enums_of_the_definition() -> None:
    assert [s.value for s in SettlementStatus] == [
        "NOT_SETTLED",
        "PENDING_SETTLEMENT",
        "PARTIALLY_SETTLED",
        "SETTLED",
    ]
    assert len(EventKind) == 9
    assert EventKind.INITIATE_CAPTURE.initiates is EventKind.CAPTURE
    assert EventKind.INITIATE_REFUND.initiates is EventKind.REFUND
    assert EventKind.INITIATE_VOID.initiates is EventKind.VOID
    assert EventKind.CAPTURE.initiates is None
    assert {p.value for p in ProductType} == set(KRAVIA_PRODUCT_TYPES)


def test_kravia_currencies_are_those_of_its_markets() -> None:
    assert set(KRAVIA_CURRENCIES) == {country.currency for country in Country}
    for code in ("NOK", "SEK", "EUR"):
        assert is_kravia_currency(code)
    for code in ("DKK", "USD", "nok", "", None, 578):
        assert not is_kravia_currency(code)


# --- classification ----------------------------------------------------------------------------

EXPECTED_SHAPES = {
    "transactions_list.json": "transaction",
    "transaction_single.json": "transaction",
    "statuses.json": "transaction",
    "partial_capture.json": "transaction",
    "partial_refund.json": "transaction",
    "vat_given.json": "transaction",
    "vat_computed.json": "transaction",
    "vat_from_session.json": "transaction",
    "vat_missing.json": "transaction",
    "webhook_envelope.json": "webhook",
    "session.json": "session",
    "sessions_profile_body.json": "session",
    "payment_profile.json": "payment_profile",
}


def test_every_fixture_is_classified() -> None:
    seen = set()
    for name, obj in every_fixture():
        assert classify(obj) == EXPECTED_SHAPES[name], name
        seen.add(name)
    assert seen == set(EXPECTED_SHAPES)


def test_the_list_response_is_a_bare_array() -> None:
    listed = load("transactions_list.json")
    assert isinstance(listed, list)
    assert classify(listed) == "unknown"  # the array itself is no transaction


def test_the_flat_shape_of_the_examples() -> None:
    for line in EXAMPLES.read_text(encoding="utf-8").splitlines():
        assert classify(json.loads(line)) == "flat"


@pytest.mark.parametrize(
    ("obj", "shape"),
    [
        ({"id": "T1", "amount": 100, "vat_amount": 20, "payment_product_type": "x"}, "flat"),
        ({"id": "T1", "amount": 100, "payment_product_type": "kravia.invoice_b2b"}, "transaction"),
        # a Dintero member makes it Dintero's shape, even with a top-level vat_amount
        ({"id": "T1", "vat_amount": 20, "items": []}, "transaction"),
        ({"id": "T1", "vat_amount": 20, "payment_product": "kravia"}, "transaction"),
        ({}, "unknown"),
        ({"foo": 1}, "unknown"),
        ("T1", "unknown"),
        (None, "unknown"),
        ({"account_id": "P1", "event": "checkout_transaction", "transaction": {}}, "webhook"),
        ({"account_id": "P1", "event": "x", "transaction": "T1"}, "unknown"),
        ({"url": {}, "order": {"amount": 1, "currency": "NOK"}}, "session"),
        ({"profile_id": "P.1", "configuration": {}}, "payment_profile"),
    ],
)
def test_classify(obj: object, shape: str) -> None:
    assert classify(obj) == shape


class _Count(int):
    """An int subclass, as a JSON library other than ``json`` might give."""


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (25, Decimal(25)),
        (25.5, Decimal("25.5")),
        (0.1, Decimal("0.1")),  # the text written, not the float's binary value
        (60.397076, Decimal("60.397076")),
        (Decimal("1.25"), Decimal("1.25")),
        (_Count(3), Decimal(3)),
        (True, None),
        ("25", None),
        (None, None),
        (float("nan"), None),
        (float("inf"), None),
        (Decimal("NaN"), None),
    ],
)
def test_decimal_of(value: object, number: Decimal | None) -> None:
    assert decimal_of(value) == number


# --- VAT: rounding -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gross", "rate", "vat"),
    [
        (12500, "25", 2500),  # NO/SE standard: exactly a fifth
        (10001, "25", 2000),  # 2000.2
        (3, "25", 1),  # 0.6
        (11500, "15", 1500),  # NO food
        (1199, "15", 156),  # 156.39
        (12500, "15", 1630),  # 1630.43
        (11200, "12", 1200),  # NO transport / SE food
        (1000, "12", 107),  # 107.14
        (14, "12", 2),  # 1.5: a half, rounded up (half-even would give 2 as well)
        (42, "12", 5),  # 4.5: a half, rounded up (half-even would give 4)
        (-42, "12", -5),  # a negative line (gift card): the half away from zero
        (11400, "14", 1400),  # FI food
        (1000, "14", 123),  # 122.81
        (2990, "14", 367),  # 367.19
        (12400, "24", 2400),  # FI standard before 2024-09-01
        (1000, "24", 194),  # 193.55
        (12550, "25.5", 2550),  # FI standard since 2024-09-01
        (1000, "25.5", 203),  # 203.19
        (18910, "25.5", 3842),  # 3842.27
        (20000, "25.5", 4064),  # 4063.75
        (1, "25.5", 0),  # 0.20
        (1100, "10", 100),  # FI reduced
        (1000, "10", 91),  # 90.91
        (1060, "6", 60),  # SE books
        (1000, "6", 57),  # 56.60
        (41000, "6", 2321),  # 2320.75
        (0, "25", 0),
        (5000, "0", 0),
    ],
)
def test_vat_from_gross_worked_examples(gross: int, rate: str, vat: int) -> None:
    assert vat_from_gross(gross, Decimal(rate)) == vat


@given(
    gross=st.integers(-AMOUNT_LIMIT, AMOUNT_LIMIT),
    hundredths=st.integers(0, 10_000),
)
def test_vat_from_gross_is_the_exact_share_rounded_half_up(gross: int, hundredths: int) -> None:
    rate = Decimal(hundredths) / 100
    vat = vat_from_gross(gross, rate)
    exact = Fraction(gross * hundredths, 10_000 + hundredths)
    assert abs(vat - exact) <= Fraction(1, 2)
    if abs(vat - exact) == Fraction(1, 2):  # a half goes away from zero
        assert abs(vat) > abs(exact)
    assert abs(vat) <= abs(gross)
    assert vat_from_gross(-gross, rate) == -vat


@pytest.mark.parametrize(
    ("rate", "why"),
    [
        ("-1", "between 0 and 100"),
        ("100.01", "between 0 and 100"),
        ("2500", "between 0 and 100"),
        ("25.505", "more than 2 decimals"),
    ],
)
def test_rates_refused(rate: str, why: str) -> None:
    message = check_vat_rate(Decimal(rate))
    assert message is not None
    assert why in message
    with pytest.raises(ValueError, match=why):
        vat_from_gross(1000, Decimal(rate))


def test_rates_accepted() -> None:
    for rate in ("0", "6", "25.5", "25.50", "25.500", "100"):
        assert check_vat_rate(Decimal(rate)) is None


# --- VAT: per transaction ----------------------------------------------------------------------


def test_vat_computed_from_rates() -> None:
    t = read_transaction(load("vat_computed.json"))
    # 10001 at 25 % -> 2000; 1199 at 15 % -> 156; 42 at 12 % -> 4.5 -> 5
    assert t.vat_amount == 2161
    assert t.vat.source is VatSource.ITEMS
    assert t.vat.by_rate() == {
        Decimal(25): (8001, 2000, 10001),
        Decimal(15): (1043, 156, 1199),
        Decimal(12): (37, 5, 42),
    }
    assert [line.source for line in t.vat.lines] == [VatSource.COMPUTED] * 3
    assert [line.description for line in t.vat.lines] == [
        "Skrivebordslampe",
        "Sjokolade",
        "Busstur (persontransport)",
    ]
    assert t.items[1].quantity == Decimal("1.5")
    assert t.vat.problems == ()


def test_vat_given_on_the_items() -> None:
    t = read_transaction(load("vat_given.json"))
    assert t.vat_amount == 7000
    assert t.vat.by_rate() == {Decimal(25): (28000, 7000, 35000)}
    assert {line.source for line in t.vat.lines} == {VatSource.ITEM}


def test_vat_of_mixed_given_and_computed_lines_with_a_shipping_option() -> None:
    t = read_transaction(load("transaction_single.json"))
    # 50000 at 25 % gives 10000 (given); 12500 at 15 % -> 1630; shipping 3900 at 25 %: 780
    assert t.vat_amount == 12410
    assert t.vat.by_rate() == {
        Decimal(25): (43120, 10780, 53900),
        Decimal(15): (10870, 1630, 12500),
    }
    shipping = t.vat.lines[-1]
    assert (shipping.path, shipping.description, shipping.vat) == (
        "shipping_option",
        "Bring Servicepakke",
        780,
    )
    assert t.vat.gross == t.amount == 66400
    assert t.vat.problems == ()


def test_finnish_rates() -> None:
    t = read_transaction(load("transactions_list.json")[2])
    # 2990 at 14 % -> 367; 18910 at 25.5 % -> 3842; 3200 at 25.5 % -> 650
    assert t.vat.by_rate() == {
        Decimal("25.5"): (17618, 4492, 22110),
        Decimal(14): (2623, 367, 2990),
    }
    assert t.vat_amount == 4859


def test_vat_from_the_session_when_the_items_have_none() -> None:
    t = read_transaction(load("vat_from_session.json"))
    assert t.vat_amount == 12410
    assert t.vat.source is VatSource.SESSION
    assert t.vat.by_rate() == {None: (None, None, 66400)}
    assert all(line.vat is None and line.net is None for line in t.vat.lines)


def test_vat_missing_is_unknown_never_zero() -> None:
    t = read_transaction(load("vat_missing.json"))
    assert t.vat_amount is None
    assert t.vat.source is VatSource.UNKNOWN
    assert "vat_amount" not in to_flat(t)


def test_vat_from_a_top_level_vat_amount() -> None:
    obj = copy.deepcopy(load("vat_missing.json"))
    obj["vat_amount"] = 13000
    t = read_transaction(obj)
    assert (t.vat_amount, t.vat.source) == (13000, VatSource.FLAT)
    del obj["items"], obj["shipping_option"]
    t = read_transaction(obj)
    assert (t.vat_amount, t.vat.rates, t.vat.lines) == (13000, (), ())


def test_items_not_adding_up_to_the_amount_is_reported() -> None:
    obj = load("vat_given.json")
    obj["amount"] = 36000
    t = read_transaction(obj)
    assert [(p.path, p.message) for p in t.vat.problems] == [
        ("items", "the order lines sum to 35000, the amount is 36000")
    ]
    assert t.vat_amount == 7000  # the lines' VAT is still what the lines say


def test_a_given_vat_far_from_its_rate_is_reported() -> None:
    obj = load("vat_given.json")
    obj["items"][0]["vat_amount"] = 4000  # 25 % of 25000 is 5000
    obj["items"][1]["vat_amount"] = 2001  # one unit off: a rounding, not reported
    t = read_transaction(obj)
    assert [p.path for p in t.vat.problems] == ["items[0].vat_amount"]
    assert t.vat_amount == 6001  # the given amounts are used


def test_breakdown_to_dict_is_json() -> None:
    t = read_transaction(load("transactions_list.json")[2])
    data = json.loads(json.dumps(t.vat.to_dict()))
    assert data["vat_amount"] == 4859
    assert data["rates"][0] == {"rate": "25.5", "net": 17618, "vat": 4492, "gross": 22110}
    assert data["lines"][1]["description"] == "Pöytävalaisin"


@pytest.mark.parametrize(
    ("rate", "text"),
    [("25", "25"), ("25.50", "25.5"), ("10.0", "10"), ("100", "100"), ("0.00", "0"), ("6", "6")],
)
def test_canonical_rate(rate: str, text: str) -> None:
    assert f"{canonical_rate(Decimal(rate)):f}" == text
    assert canonical_rate(Decimal(rate)) == Decimal(rate)


def test_rates_print_plainly() -> None:
    lines = [
        VatLine.of("items[0]", 1100, Decimal("10.0"), None),
        VatLine.of("items[1]", 2200, Decimal("10"), None),
        VatLine.of("items[2]", 1250, Decimal("25.00"), None),
    ]
    data = breakdown(lines).to_dict()
    assert data["rates"] == [
        {"rate": "25", "net": 1000, "vat": 250, "gross": 1250},
        {"rate": "10", "net": 3000, "vat": 300, "gross": 3300},
    ]
    assert [line["rate"] for line in data["lines"]] == ["10", "10", "25"]


def test_the_package_exports_at_the_top() -> None:
    import kravia_schedule

    assert kravia_schedule.read_transaction is read_transaction
    assert kravia_schedule.to_flat is to_flat
    assert kravia_schedule.classify is classify
    assert kravia_schedule.SettlementStatus is SettlementStatus
    assert set(kravia_schedule.__all__) >= {"DinteroTransaction", "read_webhook", "KraviaFacts"}


_rates = st.sampled_from(["25", "25.5", "24", "15", "14", "12", "10", "6", "0", "25.00"])


@st.composite
def vat_lines(draw: st.DrawFn) -> VatLine:
    gross = draw(st.integers(-(10**6), 10**8))
    rate = draw(st.none() | _rates.map(Decimal))
    given_vat = None
    if draw(st.booleans()):
        given_vat = draw(st.integers(0, abs(gross))) * (1 if gross >= 0 else -1)
    return VatLine.of("items[0]", gross, rate, given_vat, description="x")


@settings(max_examples=200)
@given(lines=st.lists(vat_lines(), max_size=12), session=st.none() | st.integers(0, 10**6))
def test_breakdown_conserves_every_minor_unit(lines: list[VatLine], session: int | None) -> None:
    result = breakdown(lines, amount=sum(line.gross for line in lines), session_vat_amount=session)
    assert sum(t.gross for t in result.rates) == sum(line.gross for line in lines)
    assert result.gross == sum(line.gross for line in lines)
    for total in result.rates:
        of_rate = [
            line
            for line in lines
            if (line.rate is None and total.rate is None)
            or (line.rate is not None and total.rate is not None and line.rate == total.rate)
        ]
        assert total.gross == sum(line.gross for line in of_rate)
        if all(line.vat is not None for line in of_rate):
            assert total.vat == sum(line.vat or 0 for line in of_rate)
            assert total.net is not None
            assert total.net + total.vat == total.gross
        else:
            assert total.vat is None
            assert total.net is None
    assert len({t.rate for t in result.rates}) == len(result.rates)  # 25 and 25.00 are one
    if lines and all(line.vat is not None for line in lines):
        assert result.vat_amount == sum(line.vat or 0 for line in lines)
        assert result.source is VatSource.ITEMS
    elif session is not None:
        assert (result.vat_amount, result.source) == (session, VatSource.SESSION)
    else:
        assert (result.vat_amount, result.source) == (None, VatSource.UNKNOWN)
    assert not [p for p in result.problems if p.path == "items"]


# --- events ------------------------------------------------------------------------------------


def test_partial_capture() -> None:
    t = read_transaction(load("partial_capture.json"))
    money = t.amounts
    assert (money.registered, money.captured, money.refunded, money.voided) == (141000, 60000, 0, 0)
    assert money.outstanding == 81000  # the failed second CAPTURE counts for nothing
    assert money.initiated == {EventKind.INITIATE_CAPTURE}
    assert money.pending == frozenset()
    assert t.settlement_status is SettlementStatus.PARTIALLY_SETTLED


def test_partial_refund() -> None:
    t = read_transaction(load("partial_refund.json"))
    money = t.amounts
    assert (money.captured, money.refunded, money.outstanding, money.net_captured) == (
        62500,
        12500,
        0,
        50000,
    )
    assert money.initiated == {EventKind.INITIATE_REFUND}
    assert money.pending == frozenset()


def test_registered_and_collection_started() -> None:
    grouped = read_transaction(load("transactions_list.json")[0])
    assert grouped.amounts.outstanding == grouped.amount == 62500
    assert grouped.amounts.captured == 0
    assert grouped.amounts.pending == {EventKind.INITIATE_CAPTURE}


def _event(name: str, amount: int | None = None, success: bool = True) -> TransactionEvent:
    return TransactionEvent(name=name, success=success, amount=amount)


def test_event_amounts_rules() -> None:
    events = [
        _event("INITIATE", None),  # the definition's own example name: kept, moves nothing
        _event("AUTHORIZE", 10000),
        _event("INITIATE_CAPTURE", 10000),
        _event("CAPTURE", 4000),
        _event("CAPTURE", 3000, success=False),
        _event("INITIATE_REFUND", 1000),
        _event("REFUND", 1000),
        _event("INITIATE_VOID"),
        _event("VOID"),  # no amount: what remains, 6000
        _event("SETTLEMENT", 3000),
    ]
    money = event_amounts(10000, events)
    assert (money.captured, money.refunded, money.voided, money.outstanding) == (
        4000,
        1000,
        6000,
        0,
    )
    assert money.initiated == {
        EventKind.INITIATE_CAPTURE,
        EventKind.INITIATE_REFUND,
        EventKind.INITIATE_VOID,
    }
    assert money.pending == frozenset()
    assert money.problems() == []
    assert events[0].kind is None


def test_an_initiated_refund_not_yet_done_is_pending() -> None:
    money = event_amounts(10000, [_event("CAPTURE", 10000), _event("INITIATE_REFUND", 500)])
    assert money.pending == {EventKind.INITIATE_REFUND}
    assert money.refunded == 0


def test_a_void_with_an_amount() -> None:
    money = event_amounts(10000, [_event("CAPTURE", 2500), _event("VOID", 2500)])
    assert (money.voided, money.outstanding) == (2500, 5000)


def test_events_beyond_the_amount_are_refused() -> None:
    obj = load("partial_capture.json")
    obj["events"][2]["amount"] = 150000
    with pytest.raises(InvalidPurchaseError) as error:
        read_transaction(obj)
    assert problem_paths(error) == {"events"}
    assert "exceed the amount 141000" in str(error.value)
    obj = load("partial_refund.json")
    obj["events"][2]["amount"] = 70000
    with pytest.raises(InvalidPurchaseError, match="exceed the captured 62500"):
        read_transaction(obj)


def test_a_successful_capture_needs_its_amount() -> None:
    obj = load("partial_capture.json")
    del obj["events"][2]["amount"]
    with pytest.raises(InvalidPurchaseError) as error:
        read_transaction(obj)
    assert problem_paths(error) == {"events[2].amount"}
    del obj["events"][2]["success"]  # an unreported outcome moves nothing: no amount needed
    assert read_transaction(obj).amounts.captured == 0


# --- Kravia's facts ----------------------------------------------------------------------------


def test_kravia_facts_from_metadata_and_events() -> None:
    grouped, b2b, b2c, card = (read_transaction(o) for o in load("transactions_list.json"))
    assert b2b.kravia == KraviaFacts(
        invoice_number="K-SE-000412",
        invoice_url="https://api.dintero.com/v1/files/f-b2b-0002",
        invoice_date=date(2026, 11, 3),
        invoice_due_date=date(2026, 11, 17),
        invoice_id="inv-6610",
        case_number="case-9001",
    )
    assert grouped.kravia.invoice_number is None
    assert grouped.kravia.invoice_url == "https://api.dintero.com/v1/files/f-grouped-0001"
    assert (grouped.kravia.invoice_id, grouped.kravia.debtor_id) == ("inv-5521", "debt-7731")
    assert grouped.kravia.invoiced
    assert not card.kravia.invoiced
    assert b2c.kravia.invoice_date is None


def test_the_latest_event_gives_a_fact() -> None:
    obj = load("partial_refund.json")
    obj["events"][2]["metadata"] = {"kravia:invoice_due_date": "2026-11-30"}
    t = read_transaction(obj)
    assert t.kravia.invoice_due_date == date(2026, 11, 30)
    assert t.kravia.invoice_date == date(2026, 11, 2)  # from the earlier event


def test_a_malformed_kravia_date_is_named() -> None:
    obj = load("partial_refund.json")
    obj["events"][0]["metadata"]["kravia:invoice_date"] = "02.11.2026"
    obj["metadata"]["kravia:invoice_url"] = 42
    with pytest.raises(InvalidPurchaseError) as error:
        read_transaction(obj)
    assert problem_paths(error) == {
        "events[0].metadata.kravia:invoice_date",
        "metadata.kravia:invoice_url",
    }


# --- reading and rejecting ---------------------------------------------------------------------


def test_a_transaction_read_in_full() -> None:
    t = read_transaction(load("transactions_list.json")[0])
    assert t.id == "T00000001.46Xb9tCvWqmFhZ1aK7tYPa"
    assert t.created_at == datetime(2026, 10, 31, 22, 30, 12, 175000, tzinfo=UTC)
    assert t.updated_at == datetime(2026, 10, 31, 22, 35, 40, 18000, tzinfo=UTC)
    assert (t.payment_product, t.product_type) == ("kravia", ProductType.B2B_GROUPED)
    assert t.is_kravia
    assert t.settlement_status is SettlementStatus.NOT_SETTLED
    assert (t.merchant_reference, t.merchant_reference_2) == ("order-2001", "crm-88812")
    assert t.session_id == "P00000000.46Xb9tCvWqmFhZ1aK7tYPa"
    address = t.billing_address
    assert address is not None
    assert (address.organization_type, address.cost_center, address.co_address) == (
        "AS",
        "CC-42",
        "c/o Resepsjonen",
    )
    assert address.latitude == Decimal("60.397076")
    assert t.shipping_address == address
    assert [e.kind for e in t.events] == [EventKind.AUTHORIZE, EventKind.INITIATE_CAPTURE]
    assert t.events[0].created_at == datetime(2026, 10, 31, 22, 30, 13, 540000, tzinfo=UTC)
    assert [i.description for i in t.items] == [
        "Kontorstol ergonomisk",
        "Kaffebønner 1 kg, økologisk",
    ]


def test_a_card_payment_is_not_kravia() -> None:
    card = read_transaction(load("transactions_list.json")[3])
    assert not card.is_kravia
    assert card.product_type is None
    assert card.payment_product_type == "dintero_psp.creditcard"


def test_unknown_members_are_ignored() -> None:
    obj = load("transactions_list.json")[1]
    obj["brand_new_member"] = {"anything": [1, 2, 3]}
    obj["billing_address"]["floor"] = 3
    obj["items"][0]["emd"] = {"event": "x"}
    obj["events"][0]["splits"] = [{"payout_destination_id": "P1", "amount": 1}]
    assert read_transaction(obj) == read_transaction(load("transactions_list.json")[1])


def test_an_item_rate_keeps_the_text_it_was_written_with() -> None:
    obj = load("transactions_list.json")[2]
    obj["items"][0].pop("vat_amount", None)
    read = []
    for vat in (25, 25.0, 25, 12.5, 12.50):  # equal rates, read in turn, each as written
        obj["items"][0]["vat"] = vat
        read.append(str(read_transaction(obj).items[0].vat))
    assert read == ["25", "25.0", "25", "12.5", "12.5"]


@pytest.mark.parametrize(
    ("vat", "why"),
    [
        (2500, "2500 is not a VAT percent between 0 and 100"),
        (25.505, "25.505 has more than 2 decimals"),
        (True, "must be a finite number, got True"),
        ("25", "must be a finite number, got '25'"),
    ],
)
def test_an_item_rate_that_is_none_is_named(vat: object, why: str) -> None:
    obj = load("transactions_list.json")[2]
    obj["items"][0]["vat"] = vat
    obj["items"][0].pop("vat_amount", None)
    for _ in range(2):  # the second reading says the same
        with pytest.raises(InvalidPurchaseError) as error:
            read_transaction(obj)
        problems = [str(p) for p in error.value.problems if p.path == "items[0].vat"]
        assert problems == [f"items[0].vat: {why}"]


def test_every_bad_field_is_named_by_its_path() -> None:
    obj = load("transactions_list.json")[2]
    obj["created_at"] = "2026-11-05T16:40:00"  # no offset
    obj["currency"] = "eur"
    obj["status"] = "PAID"
    obj["settlement_status"] = "DONE"
    obj["billing_address"]["latitude"] = "north"
    obj["billing_address"]["postal_code"] = 33100
    obj["items"][0]["amount"] = 29.9
    obj["items"][1]["vat"] = "25.5"
    obj["items"][2]["vat"] = 25.555
    obj["items"].append("not an object")
    obj["events"][0]["success"] = "yes"
    obj["events"][1]["created_at"] = "yesterday"
    obj["events"][1]["transaction_status"] = "PAID"
    with pytest.raises(InvalidPurchaseError) as error:
        read_transaction(obj)
    assert error.value.transaction_id == "T00000003.7Kq2mN8sVb1XcR4tYe6wUa"
    assert problem_paths(error) == {
        "created_at",
        "currency",
        "status",
        "settlement_status",
        "billing_address.latitude",
        "billing_address.postal_code",
        "items[0].amount",
        "items[1].vat",
        "items[2].vat",
        "items[3]",
        "events[0].success",
        "events[1].created_at",
        "events[1].transaction_status",
    }
    assert isinstance(error.value, KraviaScheduleError)
    assert "items[2].vat: 25.555 has more than 2 decimals" in str(error.value)


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"id": None}, "id", "is required"),
        ({"id": "  "}, "id", "must not be empty"),
        ({"created_at": None}, "created_at", "is required"),
        ({"amount": -1}, "amount", "must not be negative"),
        ({"amount": AMOUNT_LIMIT + 1}, "amount", "beyond the limit"),
        ({"amount": True}, "amount", "must be an integer"),
        ({"currency": "DKK"}, "currency", "Kravia invoices in NOK, SEK, EUR, not DKK"),
        ({"payment_product_type": "kravia.invoice_b2x"}, "payment_product_type", "unknown Kravia"),
        ({"payment_product_type": "vipps"}, "payment_product_type", "no Kravia product type"),
        ({"payment_product_type": None}, "payment_product_type", "is required"),
        ({"status": None}, "status", "is required"),
        ({"items": {"line_id": "1"}}, "items", "must be an array"),
        ({"events": "AUTHORIZE"}, "events", "must be an array"),
        ({"billing_address": "Storgata 1"}, "billing_address", "must be an object"),
        ({"merchant_reference": 2001}, "merchant_reference", "must be a string"),
        ({"updated_at": 1700000000}, "updated_at", "must be a string"),
        ({"session": {"order": {"vat_amount": 1.5}}}, "session.order.vat_amount", "integer"),
    ],
)
def test_rejections(change: dict[str, Any], path: str, message: str) -> None:
    obj = load("transactions_list.json")[0]
    obj.update(change)
    with pytest.raises(InvalidPurchaseError) as error:
        read_transaction(obj)
    assert [(p.path, message in p.message) for p in error.value.problems] == [(path, True)]


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"amount": None}, "items[0].amount", "is required"),
        ({"vat": 2500}, "items[0].vat", "between 0 and 100"),
        ({"vat": True}, "items[0].vat", "finite number"),
        ({"vat_amount": 60000}, "items[0].vat_amount", "not part of the line's amount"),
        ({"vat_amount": -100}, "items[0].vat_amount", "not part of the line's amount"),
        ({"type": "bundle"}, "items[0].type", "unknown value 'bundle'"),
        ({"quantity": "1"}, "items[0].quantity", "finite number"),
        ({"description": ["a"]}, "items[0].description", "must be a string"),
    ],
)
def test_item_rejections(change: dict[str, Any], path: str, message: str) -> None:
    obj = load("transactions_list.json")[0]
    obj["items"][0].update(change)
    with pytest.raises(InvalidPurchaseError) as error:
        read_transaction(obj)
    assert [(p.path, message in p.message) for p in error.value.problems] == [(path, True)]


def test_a_negative_line_is_allowed() -> None:
    obj = load("vat_given.json")
    obj["items"].append(
        {"line_id": "3", "description": "Gavekort", "amount": -5000, "vat": 25, "type": "gift_card"}
    )
    obj["amount"] = 30000
    obj["events"][0]["amount"] = 30000
    t = read_transaction(obj)
    assert t.vat.by_rate() == {Decimal(25): (24000, 6000, 30000)}
    assert t.vat.problems == ()


def test_not_an_object() -> None:
    with pytest.raises(InvalidPurchaseError) as error:
        read_transaction(["T1"])
    assert problem_paths(error) == {"$"}
    assert error.value.transaction_id is None


def test_a_webhook_envelope_is_a_status_update() -> None:
    envelope = load("webhook_envelope.json")
    with pytest.raises(InvalidPurchaseError, match="webhook envelope") as error:
        read_transaction(envelope)
    assert error.value.transaction_id == "T00000002.5Ba1uQ2x0pY3LmCrd8gEwz"
    update = read_webhook(envelope)
    assert (update.account_id, update.event, update.transaction_id, update.status) == (
        "P00000000",
        "checkout_transaction",
        "T00000002.5Ba1uQ2x0pY3LmCrd8gEwz",
        "CAPTURED",
    )
    assert update.updated_at == datetime(2026, 11, 20, 7, 1, 2, 331000, tzinfo=UTC)
    assert update.event_delivery == "9ebb6d41-dca5-484e-8330-9c9fa96b60ba"


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("session.json", "a checkout session"),
        ("sessions_profile_body.json", "a checkout session"),
        ("payment_profile.json", "a payment profile"),
    ],
)
def test_a_session_or_profile_is_no_transaction(name: str, what: str) -> None:
    with pytest.raises(InvalidPurchaseError) as error:
        read_transaction(load(name))
    assert [(p.path, p.message) for p in error.value.problems] == [
        ("$", f"{what}, not a transaction")
    ]


def test_webhook_rejections() -> None:
    with pytest.raises(InvalidPurchaseError, match="not a webhook envelope"):
        read_webhook(load("vat_given.json"))
    envelope = load("webhook_envelope.json")
    envelope["transaction"]["status"] = "PAID"
    del envelope["account_id"]
    envelope["account_id"] = 7
    with pytest.raises(InvalidPurchaseError) as error:
        read_webhook(envelope)
    assert problem_paths(error) == {"account_id", "transaction.status"}
    assert error.value.transaction_id == "T00000002.5Ba1uQ2x0pY3LmCrd8gEwz"


def test_the_seeds_settled_status_is_read() -> None:
    obj = load("partial_refund.json")
    obj["status"] = "SETTLED"
    assert read_transaction(obj).status == "SETTLED"


# --- the status x product table ----------------------------------------------------------------


def test_one_fixture_per_status_and_product_type() -> None:
    matrix = [read_transaction(obj) for obj in load("statuses.json")]
    pairs = {(t.status, t.payment_product_type) for t in matrix}
    products = {*KRAVIA_PRODUCT_TYPES, "dintero_psp.creditcard"}
    assert pairs == {(s, p) for s in TRANSACTION_STATUSES for p in products}
    assert len(matrix) == len(pairs)


def test_the_statuses_events_agree_with_them() -> None:
    by_status = {t.status: t.amounts for t in map(read_transaction, load("statuses.json"))}
    assert by_status["AUTHORIZATION_VOIDED"].voided == 20000
    assert by_status["PARTIALLY_CAPTURED"].outstanding == 12500
    assert by_status["PARTIALLY_CAPTURED_REFUNDED"].refunded == 2500
    assert by_status["REFUNDED"].net_captured == 0
    for status in ("INITIATED", "DECLINED", "FAILED", "UNKNOWN", "ON_HOLD", "AUTHORIZED"):
        assert by_status[status].captured == 0
    for t in map(read_transaction, load("statuses.json")):
        last = t.events[-1]
        assert last.transaction_status == t.status


# --- into the planner of today -----------------------------------------------------------------

_PLANNED_STATUSES = {s.value for s in TransactionStatus}


def test_every_kravia_fixture_in_a_known_status_plans_without_rejection() -> None:
    plannable = [
        t
        for t in transactions()
        if t.is_kravia and t.status in _PLANNED_STATUSES and t.vat_amount is not None
    ]
    # 3 Kravia product types x the 12 statuses, and 9 other fixtures
    assert len(plannable) == 45
    for t in plannable:
        plan = plan_invoices([to_flat(t)], strict=True)
        assert plan.rejected == (), t.id
        assert len(plan.invoices) + len(plan.skipped) == 1
    plan = plan_invoices([to_flat(t) for t in plannable])
    assert plan.rejected == ()
    placed = sum(len(invoice.lines) for invoice in plan.invoices)
    assert placed + len(plan.skipped) == len(plannable)


def test_to_flat_carries_the_dintero_facts() -> None:
    b2b = read_transaction(load("transactions_list.json")[1])
    flat = to_flat(b2b)
    assert flat == {
        "id": "T00000002.5Ba1uQ2x0pY3LmCrd8gEwz",
        "created_at": "2026-11-03T09:12:44.902000+00:00",
        "amount": 141000,
        "vat_amount": 22321,
        "currency": "SEK",
        "status": "CAPTURED",
        "payment_product_type": "kravia.invoice_b2b",
        "merchant_reference": "order-2002",
        "billing_address": load("transactions_list.json")[1]["billing_address"],
    }
    assert classify(flat) == "flat"
    plan = plan_invoices([flat])
    (invoice,) = plan.invoices
    assert (invoice.amount, invoice.vat_amount, invoice.currency) == (141000, 22321, "SEK")
    assert invoice.issue_date == date(2026, 11, 3)


def test_to_flat_without_an_address() -> None:
    obj = load("vat_given.json")
    del obj["billing_address"], obj["merchant_reference"]
    flat = to_flat(read_transaction(obj))
    assert "billing_address" not in flat
    assert "merchant_reference" not in flat


# --- generated transactions --------------------------------------------------------------------


def test_generated_transactions_are_realistic() -> None:
    generated = list(generate_transactions(120, seed=3))
    assert generated == list(generate_transactions(120, seed=3))
    assert generated != list(generate_transactions(120, seed=4))
    sizes = [len(json.dumps(t, ensure_ascii=False).encode()) for t in generated]
    assert 2500 <= sum(sizes) / len(sizes) <= 4500
    read = [read_transaction(t) for t in generated]
    assert all(classify(t) == "transaction" for t in generated)
    assert all(t.vat.problems == () and t.vat_amount is not None for t in read)
    assert {t.currency for t in read} == set(KRAVIA_CURRENCIES)
    assert {t.payment_product_type for t in read} == {
        *KRAVIA_PRODUCT_TYPES,
        "dintero_psp.creditcard",
    }
    kravia = [to_flat(t) for t in read if t.is_kravia]
    plan = plan_invoices(kravia, strict=True)
    assert plan.rejected == ()
    assert sum(len(i.lines) for i in plan.invoices) + len(plan.skipped) == len(kravia)


def test_generated_transactions_start_where_asked() -> None:
    start = datetime(2025, 6, 1, tzinfo=UTC)
    for t in map(read_transaction, generate_transactions(20, seed=1, start=start)):
        assert t.created_at >= start
