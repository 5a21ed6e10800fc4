"""VAT per rate on invoices: the split of a line over rates, the totals per rate, and the
invoice's breakdown in every engine, conserved to the minor unit."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from _engines import COLUMNAR, ENGINES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kravia_schedule import (
    InvalidArgument,
    InvoiceItem,
    KraviaConfig,
    ProductConfig,
    Purchase,
    RateTotal,
    json_default,
    merge_plans,
    parse_purchase,
    plan_invoices,
)
from kravia_schedule.dintero.generate import generate_transactions
from kravia_schedule.report import plan_to_json
from kravia_schedule.testing import check_plan
from kravia_schedule.vat import line_shares, rate_totals, vat_breakdown

RATES = st.sampled_from([Decimal(25), Decimal("25.5"), Decimal("25.00"), Decimal(15),
                         Decimal(12), Decimal(0), None])  # fmt: skip
MONEY = st.integers(-(10**9), 10**9)
SHARES = st.lists(st.tuples(RATES, st.one_of(st.none(), MONEY), MONEY), max_size=12)


@given(SHARES)
def test_the_totals_per_rate_add_up_to_the_shares(shares: list[Any]) -> None:
    totals = rate_totals(shares)
    assert sum(t.gross for t in totals) == sum(gross for _, _, gross in shares)
    if all(vat is not None for _, vat, _ in shares):
        assert sum(t.vat or 0 for t in totals) == sum(vat for _, vat, _ in shares)
        assert all(t.net is not None and t.net + t.vat == t.gross for t in totals)  # type: ignore[operator]
    # One total per distinct rate (25 and 25.00 are one), highest first, none last.
    rates = [t.rate for t in totals]
    assert len(set(rates)) == len(rates)
    given_rates = [r for r in rates if r is not None]
    assert given_rates == sorted(given_rates, reverse=True)
    assert None not in rates[:-1]


def test_a_rate_with_a_share_of_unknown_vat_is_unknown_not_zero() -> None:
    totals = rate_totals(
        [(Decimal(25), 200, 1000), (Decimal(25), None, 500), (Decimal(15), 13, 100)]
    )
    assert totals == (
        RateTotal(Decimal(25), None, None, 1500),
        RateTotal(Decimal(15), 87, 13, 100),
    )


ITEMS = st.lists(
    st.builds(
        InvoiceItem, st.none(), st.text(max_size=5), MONEY, RATES, st.one_of(st.none(), MONEY)
    ),
    max_size=5,
).map(tuple)


@given(MONEY, st.one_of(st.none(), MONEY), ITEMS)
def test_a_line_splits_into_shares_that_add_up_to_it(
    amount: int, vat: int | None, items: tuple[InvoiceItem, ...]
) -> None:
    shares = list(line_shares(amount, vat, items))
    assert sum(gross for _, _, gross in shares) == amount
    vats = [v for _, v, _ in shares]
    if vat is None:
        assert None in vats
    else:
        assert sum(v for v in vats if v is not None) == vat
        assert None not in vats


def test_items_that_account_for_the_line_give_its_rates() -> None:
    items = (
        InvoiceItem("a", "Lamp", 10001, Decimal(25), 2000),
        InvoiceItem("b", "Chocolate", 1199, Decimal(15), 156),
        InvoiceItem("c", "Gift card", -1000, Decimal(25), -200),
    )
    assert list(line_shares(10200, 1956, items)) == [
        (Decimal(25), 2000, 10001),
        (Decimal(15), 156, 1199),
        (Decimal(25), -200, -1000),
    ]
    # The same items against another VAT (a session's): one share at no rate.
    assert list(line_shares(10200, 1900, items)) == [(None, 1900, 10200)]


SEEDS = st.integers(0, 2**32 - 1)
ENABLED = ProductConfig(enabled=True)
CONFIG = KraviaConfig(ENABLED, ENABLED, ENABLED)


def dintero_records(seed: int, count: int) -> list[dict[str, Any]]:
    return list(generate_transactions(count, seed=seed))


@pytest.mark.parametrize("name", sorted(ENGINES))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=SEEDS, count=st.integers(1, 25))
def test_every_engine_conserves_the_vat_breakdown_of_real_shaped_transactions(
    name: str, seed: int, count: int
) -> None:
    if name in COLUMNAR:
        pytest.importorskip("polars", reason="the columnar engines need the [columnar] extra")
    records = dintero_records(seed, count)
    config = CONFIG
    plan = ENGINES[name](records, config)
    assert plan == plan_invoices(records, config)
    check_plan(plan, records)
    for invoice in plan.invoices:
        totals = invoice.vat_breakdown
        assert totals == vat_breakdown(invoice.lines)
        assert sum(t.gross for t in totals) == invoice.amount
        assert sum(t.vat or 0 for t in totals) == invoice.vat_amount
        described = [item.description for line in invoice.lines for item in line.items]
        assert described
        assert all(described)


@given(SEEDS, st.integers(2, 30), st.integers(1, 4))
def test_merged_parts_keep_the_breakdown_of_the_whole(seed: int, count: int, parts: int) -> None:
    records = dintero_records(seed, count)
    config = CONFIG
    whole = plan_invoices(records, config)
    merged = merge_plans(*[plan_invoices(records[i::parts], config) for i in range(parts)])
    assert [i.vat_breakdown for i in merged.invoices] == [i.vat_breakdown for i in whole.invoices]
    with pytest.raises(InvalidArgument, match=r"merge_plans\(\*plans\)"):
        merge_plans([whole])  # type: ignore[arg-type]


@given(SEEDS)
def test_a_purchase_with_order_lines_round_trips_through_its_dict(seed: int) -> None:
    for record in dintero_records(seed, 5):
        if not record["payment_product_type"].startswith("kravia."):
            continue
        purchase = parse_purchase(record)
        assert purchase.items
        assert parse_purchase(purchase.to_dict()) == purchase
        assert Purchase(**{f: getattr(purchase, f) for f in purchase.__slots__}) == purchase


@given(SEEDS)
def test_json_default_gives_the_plans_own_json_form(seed: int) -> None:
    plan = plan_invoices(dintero_records(seed, 8), CONFIG)
    via_default = json.loads(json.dumps(plan, default=json_default))
    assert via_default == json.loads(plan_to_json(plan))
    for invoice, data in zip(plan.invoices, via_default["invoices"], strict=True):
        assert json.loads(json.dumps(invoice, default=json_default)) == data
        assert sum(r["gross"] for r in data["vat_breakdown"]) == data["amount"]
