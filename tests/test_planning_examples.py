"""Hand-checked examples for every engine (the `engine` fixture: plan_invoices, the
columnar plan_frame, plan_frames, plan_parquet, and merge_plans of parts)."""

from __future__ import annotations

import calendar as stdcal
from datetime import UTC, date, datetime
from importlib.metadata import version
from typing import Any

import pytest
from _records import nordmann_address, nordmann_record

import kravia_schedule
from kravia_schedule import (
    Country,
    DateRoll,
    InvoiceState,
    KraviaConfig,
    MergeConflictError,
    NaiveDatetimeError,
    ProductConfig,
    ProductType,
    SkipReason,
    merge_plans,
    parse_configuration,
    parse_purchase,
)

GROUPED = "kravia.invoice_b2b_grouped"
B2B = "kravia.invoice_b2b"
B2C = "kravia.invoice_b2c"
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)

ADDRESSES: dict[str, dict[str, str]] = {
    "NO": nordmann_address(postal_place="Oslo"),
    "SE": {
        "first_name": "Sven", "last_name": "Svensson", "business_name": "Svensson AB",
        "organization_number": "5560360793", "email": "sven@svensson.se",
        "phone_number": "+46701234567", "address_line": "Drottninggatan 1",
        "postal_code": "111 51", "postal_place": "Stockholm", "country": "SE",
    },
    "FI": {
        "first_name": "Matti", "last_name": "Meikäläinen", "business_name": "Meikäläinen Oy",
        "organization_number": "2331972-7", "email": "matti@example.fi",
        "phone_number": "+358401234567", "address_line": "Mannerheimintie 1",
        "postal_code": "00100", "postal_place": "Helsinki", "country": "FI",
    },
}  # fmt: skip


def purchase(
    tid: str,
    created_at: str,
    *,
    amount: Any = 10_000,
    vat_amount: Any = 2_000,
    currency: str = "NOK",
    status: str = "AUTHORIZED",
    product: str = GROUPED,
    country: str = "NO",
    reference: str | None = None,
    **address: Any,
) -> dict[str, Any]:
    """A Dintero-shaped transaction; ``address`` overrides billing-address fields."""
    if reference is not None:
        address = {"customer_reference": reference, **address}
    return nordmann_record(
        tid,
        created_at,
        amount,
        vat_amount=vat_amount,
        currency=currency,
        status=status,
        payment_product_type=product,
        merchant_reference=f"order-{tid}",
        billing_address=ADDRESSES[country],
        **address,
    )


def _weekday(day: date) -> int:
    return stdcal.weekday(day.year, day.month, day.day)


# -- the grouped-invoices document's scenario ---------------------------------------------


def test_document_scenario_two_january_purchases_one_invoice(engine) -> None:
    assert _weekday(date(2021, 2, 1)) == MON
    plan = engine(
        [
            purchase("T-2", "2021-01-20T14:00:00+01:00", amount=30_000, vat_amount=6_000),
            purchase("T-1", "2021-01-05T09:00:00+01:00", amount=50_000, vat_amount=10_000),
        ]
    )
    assert plan.skipped == ()
    assert plan.rejected == ()
    assert len(plan.invoices) == 1
    invoice = plan.invoices[0]
    assert invoice.product_type is ProductType.B2B_GROUPED
    assert invoice.period is not None
    assert invoice.period.label == "2021-01"
    assert invoice.issue_date == date(2021, 2, 1)
    assert invoice.due_date == date(2021, 2, 15)
    assert invoice.amount == 80_000
    assert invoice.vat_amount == 16_000
    assert invoice.transaction_ids == ("T-1", "T-2")  # time order, not input order
    assert [line.merchant_reference for line in invoice.lines] == ["order-T-1", "order-T-2"]
    assert invoice.currency == "NOK"
    assert invoice.country is Country.NO
    assert invoice.id.startswith("G-2021-01-")
    assert invoice.state is None  # no as_of given
    assert plan.invoice_for("T-2") is invoice
    assert plan.invoice_for("nope") is None
    assert plan.totals() == {"NOK": 80_000}


def test_quarterly_configuration_collects_the_quarter(engine) -> None:
    config = parse_configuration(
        {
            "kravia": {
                "invoice_b2b_grouped": {
                    "enabled": True,
                    "invoice_schedule": {"interval": "quarterly"},
                }
            }
        }
    )
    plan = engine(
        [
            purchase("Q-1", "2021-01-15T12:00:00+01:00"),
            purchase("Q-2", "2021-02-20T12:00:00+01:00"),
            purchase("Q-3", "2021-03-31T23:30:00+02:00"),
            purchase("Q-4", "2021-04-10T12:00:00+02:00"),
        ],
        config,
    )
    assert [
        (i.period.label, i.issue_date, i.due_date, i.transaction_ids) for i in plan.invoices
    ] == [  # type: ignore[union-attr]
        ("2021-Q1", date(2021, 4, 6), date(2021, 4, 20), ("Q-1", "Q-2", "Q-3")),
        ("2021-Q2", date(2021, 7, 1), date(2021, 7, 15), ("Q-4",)),
    ]


def test_same_period_in_other_countries_uses_their_calendar(engine) -> None:
    plan = engine(
        [
            purchase("NO-1", "2021-03-10T12:00:00+01:00", country="NO"),
            purchase("SE-1", "2021-03-10T12:00:00+01:00", country="SE", currency="SEK"),
            purchase("FI-1", "2021-03-10T12:00:00+02:00", country="FI", currency="EUR"),
        ]
    )
    issue = {i.country: i.issue_date for i in plan.invoices}
    # 1 April 2021: Maundy Thursday closes it only in Norway.
    assert issue == {
        Country.NO: date(2021, 4, 6),
        Country.SE: date(2021, 4, 1),
        Country.FI: date(2021, 4, 1),
    }
    assert plan.totals() == {"EUR": 10_000, "NOK": 10_000, "SEK": 10_000}


# -- customer grouping -------------------------------------------------------------------


def test_departments_split_by_customer_reference(engine) -> None:
    plan = engine(
        [
            purchase("E-1", "2021-01-05T09:00:00+01:00", reference="dept-engineering"),
            purchase("S-1", "2021-01-06T09:00:00+01:00", reference="dept-sales"),
            purchase("E-2", "2021-01-07T09:00:00+01:00", reference="dept-engineering"),
        ]
    )
    assert len(plan.invoices) == 2
    by_ref = {i.customer.customer_reference: i.transaction_ids for i in plan.invoices}
    assert by_ref == {"dept-engineering": ("E-1", "E-2"), "dept-sales": ("S-1",)}
    assert len({i.id for i in plan.invoices}) == 2
    assert {i.issue_date for i in plan.invoices} == {date(2021, 2, 1)}


def test_empty_and_missing_reference_are_the_same_customer(engine) -> None:
    plan = engine(
        [
            purchase("R-1", "2021-01-05T09:00:00+01:00"),
            purchase("R-2", "2021-01-06T09:00:00+01:00", reference=""),
            purchase("R-3", "2021-01-07T09:00:00+01:00", reference="   "),
            purchase("R-4", "2021-01-08T09:00:00+01:00", customer_reference=None),
        ]
    )
    assert len(plan.invoices) == 1
    assert plan.invoices[0].transaction_ids == ("R-1", "R-2", "R-3", "R-4")
    assert plan.invoices[0].customer.customer_reference == ""


def test_name_spellings_are_the_same_customer(engine) -> None:
    fullwidth_n = "\uff2eordmann AS"  # FULLWIDTH LATIN CAPITAL LETTER N; NFKC gives "N"
    plan = engine(
        [
            purchase("N-2", "2021-01-10T09:00:00+01:00", business_name="  NORDMANN   as"),
            purchase("N-1", "2021-01-04T09:00:00+01:00", business_name="Nordmann AS"),
            purchase("N-3", "2021-01-15T09:00:00+01:00", business_name=fullwidth_n),
            purchase("N-4", "2021-01-20T09:00:00+01:00", business_name="nordmann as",
                     organization_number="923 609 016"),
        ]
    )  # fmt: skip
    assert len(plan.invoices) == 1
    invoice = plan.invoices[0]
    assert invoice.transaction_ids == ("N-1", "N-2", "N-3", "N-4")
    assert invoice.billing_address.business_name == "Nordmann AS"  # earliest purchase's
    assert invoice.customer.business_name == "nordmann as"
    assert invoice.customer.organization_number == "923609016"


def test_earliest_purchase_spelling_wins_whatever_the_input_order(engine) -> None:
    early = purchase("X-9", "2021-01-02T09:00:00+01:00", business_name="NORDMANN AS",
                     address_line="Karl Johans gate 1")  # fmt: skip
    late = purchase("X-1", "2021-01-28T09:00:00+01:00")
    for records in ([early, late], [late, early]):
        invoice = engine(records).invoices[0]
        assert invoice.billing_address.business_name == "NORDMANN AS"
        assert invoice.billing_address.address_line == "Karl Johans gate 1"
        assert invoice.transaction_ids == ("X-9", "X-1")


def test_different_customers_get_different_invoices(engine) -> None:
    plan = engine(
        [
            purchase("C-1", "2021-01-05T09:00:00+01:00"),
            purchase("C-2", "2021-01-05T09:00:00+01:00", organization_number="974760673"),
            purchase("C-3", "2021-01-05T09:00:00+01:00", business_name="Nordmann Holding AS"),
        ]
    )
    assert len(plan.invoices) == 3
    assert len({i.id for i in plan.invoices}) == 3


def test_different_currencies_are_separate_invoices(engine) -> None:
    plan = engine(
        [
            purchase("K-1", "2021-01-05T09:00:00+01:00", currency="NOK"),
            purchase(
                "K-2", "2021-01-06T09:00:00+01:00", currency="EUR", amount=500, vat_amount=100
            ),
            purchase("K-3", "2021-01-07T09:00:00+01:00", currency="NOK"),
        ]
    )
    assert sorted((i.currency, i.transaction_ids, i.amount) for i in plan.invoices) == [
        ("EUR", ("K-2",), 500),
        ("NOK", ("K-1", "K-3"), 20_000),
    ]
    assert plan.totals() == {"EUR": 500, "NOK": 20_000}


def test_different_months_are_separate_invoices(engine) -> None:
    plan = engine(
        [
            purchase("M-1", "2021-01-31T23:30:00+01:00"),
            purchase("M-2", "2021-01-31T22:00:00Z"),  # 23:00 in Oslo: still January
            purchase("M-3", "2021-01-31T23:30:00Z"),  # 00:30 on 1 February in Oslo
        ]
    )
    assert [(i.period.label, i.transaction_ids) for i in plan.invoices] == [  # type: ignore[union-attr]
        ("2021-01", ("M-2", "M-1")),
        ("2021-02", ("M-3",)),
    ]
    assert plan.invoices[1].issue_date == date(2021, 3, 1)


# -- skipped purchases -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("AUTHORIZATION_VOIDED", SkipReason.VOIDED),
        ("CAPTURED", SkipReason.STATUS),
        ("PARTIALLY_CAPTURED", SkipReason.STATUS),
        ("FAILED", SkipReason.STATUS),
        ("INITIATED", SkipReason.STATUS),
    ],
)
def test_grouped_invoices_collect_only_authorized(engine, status: str, reason: SkipReason) -> None:
    plan = engine(
        [
            purchase("G-1", "2021-01-05T09:00:00+01:00"),
            purchase("G-2", "2021-01-06T09:00:00+01:00", status=status),
        ]
    )
    assert plan.invoices[0].transaction_ids == ("G-1",)
    assert plan.invoices[0].amount == 10_000
    assert len(plan.skipped) == 1
    skipped = plan.skipped[0]
    assert (skipped.transaction_id, skipped.reason, skipped.status.value) == ("G-2", reason, status)
    assert skipped.product_type is ProductType.B2B_GROUPED
    assert (skipped.amount, skipped.currency) == (10_000, "NOK")
    assert plan.invoice_for("G-2") is None


def test_disabled_product_type_is_skipped(engine) -> None:
    config = parse_configuration(
        {"kravia": {"type": "payment_type", "invoice_b2b_grouped": {"enabled": True}}}
    )
    plan = engine(
        [
            purchase("D-1", "2021-01-05T09:00:00+01:00", product=B2B, status="CAPTURED"),
            purchase("D-2", "2021-01-05T09:00:00+01:00", product=B2C, status="CAPTURED"),
            purchase("D-3", "2021-01-05T09:00:00+01:00"),
        ],
        config,
    )
    assert [i.transaction_ids for i in plan.invoices] == [("D-3",)]
    assert [(s.transaction_id, s.reason) for s in plan.skipped] == [
        ("D-1", SkipReason.PRODUCT_DISABLED),
        ("D-2", SkipReason.PRODUCT_DISABLED),
    ]
    assert "kravia.invoice_b2b" in plan.skipped[0].detail


def test_everything_disabled(engine) -> None:
    plan = engine([purchase("Z-1", "2021-01-05T09:00:00+01:00")], KraviaConfig())
    assert plan.invoices == ()
    assert plan.skipped[0].reason is SkipReason.PRODUCT_DISABLED


# -- standard invoices -------------------------------------------------------------------


def test_standard_b2b_captured_is_invoiced_on_its_local_date(engine) -> None:
    plan = engine([purchase("B-1", "2025-01-31T23:30:00Z", product=B2B, status="CAPTURED")])
    assert len(plan.invoices) == 1
    invoice = plan.invoices[0]
    assert invoice.product_type is ProductType.B2B
    assert invoice.period is None
    assert invoice.issue_date == date(2025, 2, 1)  # 00:30 in Oslo
    assert invoice.due_date == date(2025, 2, 15)
    assert invoice.transaction_ids == ("B-1",)
    assert invoice.id.startswith("S-")


def test_standard_purchases_are_one_invoice_each(engine) -> None:
    plan = engine(
        [
            purchase("B-1", "2025-03-03T10:00:00+01:00", product=B2B, status="CAPTURED"),
            purchase("B-2", "2025-03-03T11:00:00+01:00", product=B2B, status="SETTLED"),
            purchase("B-3", "2025-03-04T11:00:00+01:00", product=B2B, status="PARTIALLY_REFUNDED"),
        ]
    )
    due = sorted((i.transaction_ids, i.issue_date, i.due_date) for i in plan.invoices)
    assert due == [
        (("B-1",), date(2025, 3, 3), date(2025, 3, 17)),
        (("B-2",), date(2025, 3, 3), date(2025, 3, 17)),
        (("B-3",), date(2025, 3, 4), date(2025, 3, 18)),
    ]
    assert plan.invoices[-1].transaction_ids == ("B-3",)  # ordered by issue date


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("INITIATED", SkipReason.STATUS),
        ("FAILED", SkipReason.STATUS),
        ("DECLINED", SkipReason.STATUS),
        ("UNKNOWN", SkipReason.STATUS),
        ("ON_HOLD", SkipReason.STATUS),
        ("REFUNDED", SkipReason.VOIDED),
        ("AUTHORIZATION_VOIDED", SkipReason.VOIDED),
    ],
)
def test_b2c_not_registered_is_skipped(engine, status: str, reason: SkipReason) -> None:
    plan = engine([purchase("C-1", "2025-03-03T10:00:00+01:00", product=B2C, status=status)])
    assert plan.invoices == ()
    assert [(s.transaction_id, s.reason) for s in plan.skipped] == [("C-1", reason)]


@pytest.mark.parametrize(
    "statuses",
    [
        ["AUTHORIZED", "CAPTURED"],  # registered: today's lifecycle, the older documents'
        ["PARTIALLY_CAPTURED", "PARTIALLY_REFUNDED"],  # part paid, part refunded
        ["CAPTURED", "SETTLED"],  # paid: today's lifecycle, settled as a state
    ],
)
def test_a_registered_standard_purchase_is_invoiced_under_either_lifecycle(
    engine, statuses: list[str]
) -> None:
    plans = [
        engine([purchase("C-9", "2025-03-03T23:30:00+00:00", product=B2B, status=status)])
        for status in statuses
    ]
    assert plans[0] == plans[1]  # the same facts, the same plan
    invoice = plans[0].invoices[0]
    assert invoice.transaction_ids == ("C-9",)
    assert invoice.issue_date == date(2025, 3, 4)  # its local date in Oslo
    assert plans[0].skipped == ()


def test_b2c_captured_is_invoiced(engine) -> None:
    plan = engine(
        [
            purchase(
                "C-2",
                "2025-03-03T10:00:00+01:00",
                product=B2C,
                status="CAPTURED",
                business_name=None,
                organization_number=None,
            )
        ]
    )
    assert plan.invoices[0].issue_date == date(2025, 3, 3)
    assert plan.invoices[0].product_type is ProductType.B2C


def test_standard_due_date_follows_config_and_rule(engine) -> None:
    config = KraviaConfig.all_enabled(days_until_due=12)
    # Mon 3 Feb 2025 + 12 = Sat 15 Feb.
    records = [purchase("F-1", "2025-02-03T10:00:00+01:00", product=B2B, status="CAPTURED")]
    assert engine(records, config).invoices[0].due_date == date(2025, 2, 15)
    following = engine(records, config, due_date_rule="following")
    assert following.invoices[0].due_date == date(2025, 2, 17)


# -- rejected records --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"amount": 100.0}, "amount", id="float-amount"),
        pytest.param({"amount": "100"}, "amount", id="string-amount"),
        pytest.param({"vat_amount": 20_000}, "vat_amount", id="vat-above-amount"),
        pytest.param({"currency": "nok"}, "currency", id="lowercase-currency"),
        pytest.param({"status": "PAID"}, "status", id="unknown-status"),
        pytest.param(
            {"payment_product_type": "kravia.invoice"}, "payment_product_type", id="bad-type"
        ),
        pytest.param({"created_at": "2021-01-05T09:00:00"}, "created_at", id="no-offset"),
        pytest.param({"created_at": "yesterday"}, "created_at", id="not-a-timestamp"),
    ],
)
def test_invalid_record_is_rejected_with_id_and_path(
    engine, changes: dict[str, Any], field: str
) -> None:
    bad = purchase("BAD-1", "2021-01-05T09:00:00+01:00") | changes
    plan = engine([purchase("OK-1", "2021-01-05T09:00:00+01:00"), bad])
    assert [i.transaction_ids for i in plan.invoices] == [("OK-1",)]
    assert len(plan.rejected) == 1
    rejection = plan.rejected[0]
    assert rejection.transaction_id == "BAD-1"
    assert rejection.field == field
    assert rejection.index == 1
    assert field in rejection.reason


@pytest.mark.parametrize("missing", ["created_at", "amount", "vat_amount", "currency", "status",
                                     "payment_product_type", "billing_address"])  # fmt: skip
def test_missing_field_is_rejected(engine, missing: str) -> None:
    record = purchase("MISS-1", "2021-01-05T09:00:00+01:00")
    del record[missing]
    plan = engine([record])
    assert plan.invoices == ()
    assert [(r.transaction_id, r.field) for r in plan.rejected] == [("MISS-1", missing)]


def test_missing_id_is_rejected_without_id(engine) -> None:
    record = purchase("", "2021-01-05T09:00:00+01:00")
    plan = engine([record])
    assert [(r.transaction_id, r.field) for r in plan.rejected] == [(None, "id")]


@pytest.mark.parametrize(
    ("country", "fragment"),
    [("DK", "not a Kravia market"), ("NOR", "ISO 3166"), ("", "required")],
)
def test_bad_country_is_rejected(engine, country: str, fragment: str) -> None:
    record = purchase("DK-1", "2021-01-05T09:00:00+01:00")
    record["billing_address"]["country"] = country
    plan = engine([record])
    assert plan.invoices == ()
    rejection = plan.rejected[0]
    assert rejection.transaction_id == "DK-1"
    assert rejection.field == "billing_address.country"
    assert fragment in rejection.problems[0].message


def test_billing_address_problems_have_prefixed_paths(engine) -> None:
    plan = engine(
        [purchase("A-1", "2021-01-05T09:00:00+01:00", organization_number=None, postal_code="1")]
    )
    paths = {p.path for p in plan.rejected[0].problems}
    assert paths == {"billing_address.organization_number", "billing_address.postal_code"}


def test_strict_checks_org_number_check_digit(engine) -> None:
    record = purchase("S-1", "2021-01-05T09:00:00+01:00", organization_number="123456789")
    assert len(engine([record]).invoices) == 1
    strict = engine([record], strict=True)
    assert strict.invoices == ()
    assert strict.rejected[0].field == "billing_address.organization_number"
    assert strict.provenance.strict is True


def test_duplicate_identical_id_counts_once(engine) -> None:
    record = purchase("DUP-1", "2021-01-05T09:00:00+01:00")
    plan = engine([record, dict(record)])
    assert len(plan.invoices) == 1
    assert plan.invoices[0].transaction_ids == ("DUP-1",)
    assert plan.invoices[0].amount == 10_000
    assert [(r.transaction_id, r.field, r.index) for r in plan.rejected] == [("DUP-1", "id", 1)]
    assert "duplicate" in plan.rejected[0].reason


def test_conflicting_records_with_the_same_id_are_all_rejected(engine) -> None:
    plan = engine(
        [
            purchase("DUP-2", "2021-01-05T09:00:00+01:00", amount=10_000),
            purchase("OK-2", "2021-01-05T09:00:00+01:00"),
            purchase("DUP-2", "2021-01-05T09:00:00+01:00", amount=99_000),
        ]
    )
    assert [i.transaction_ids for i in plan.invoices] == [("OK-2",)]
    assert [(r.transaction_id, r.field) for r in plan.rejected] == [
        ("DUP-2", "id"),
        ("DUP-2", "id"),
    ]
    assert sorted(r.index for r in plan.rejected) == [0, 2]  # type: ignore[type-var]
    assert plan.invoice_for("DUP-2") is None


@pytest.mark.parametrize("record", [None, "T-1", 42, ["T-1"]], ids=repr)
def test_non_mapping_input_is_rejected(engine, record: object) -> None:
    plan = engine([purchase("OK-3", "2021-01-05T09:00:00+01:00"), record])  # type: ignore[list-item]
    assert len(plan.invoices) == 1
    assert [(r.transaction_id, r.field, r.index) for r in plan.rejected] == [(None, "$", 1)]


def test_purchase_objects_and_mappings_mix(engine) -> None:
    parsed = parse_purchase(purchase("P-1", "2021-01-05T09:00:00+01:00"))
    plan = engine([parsed, purchase("P-2", "2021-01-06T09:00:00+01:00")])
    assert plan.invoices[0].transaction_ids == ("P-1", "P-2")


# -- as_of -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "state"),
    [
        pytest.param(date(2021, 3, 15), InvoiceState.OPEN, id="mid-period"),
        pytest.param(date(2021, 3, 31), InvoiceState.OPEN, id="last-day-of-period"),
        pytest.param(date(2021, 4, 1), InvoiceState.SCHEDULED, id="maundy-thursday"),
        pytest.param(date(2021, 4, 3), InvoiceState.SCHEDULED, id="easter-saturday"),
        pytest.param(date(2021, 4, 5), InvoiceState.SCHEDULED, id="easter-monday"),
        pytest.param(date(2021, 4, 6), InvoiceState.READY, id="issue-date"),
        pytest.param(date(2021, 6, 1), InvoiceState.READY, id="later"),
        pytest.param(
            datetime(2021, 3, 31, 21, 30, tzinfo=UTC), InvoiceState.OPEN, id="2330-oslo-mar-31"
        ),
        pytest.param(
            datetime(2021, 3, 31, 22, 30, tzinfo=UTC), InvoiceState.SCHEDULED, id="0030-oslo-apr-1"
        ),
        pytest.param(
            datetime(2021, 4, 5, 21, 59, tzinfo=UTC), InvoiceState.SCHEDULED, id="2359-oslo-apr-5"
        ),
        pytest.param(
            datetime(2021, 4, 5, 22, 0, tzinfo=UTC), InvoiceState.READY, id="0000-oslo-apr-6"
        ),
    ],
)
def test_as_of_states_of_a_grouped_invoice(
    engine, as_of: date | datetime, state: InvoiceState
) -> None:
    plan = engine([purchase("A-1", "2021-03-10T12:00:00+01:00")], as_of=as_of)
    invoice = plan.invoices[0]
    assert invoice.issue_date == date(2021, 4, 6)
    assert invoice.state is state


def test_as_of_is_read_in_each_customers_time_zone(engine) -> None:
    plan = engine(
        [
            purchase("NO-1", "2021-03-10T12:00:00+01:00", country="NO"),
            purchase("FI-1", "2021-03-10T12:00:00+02:00", country="FI", currency="EUR"),
        ],
        as_of=datetime(2021, 3, 31, 21, 30, tzinfo=UTC),  # 23:30 in Oslo, 00:30 in Helsinki
    )
    states = {i.country: (i.issue_date, i.state) for i in plan.invoices}
    assert states == {
        Country.NO: (date(2021, 4, 6), InvoiceState.OPEN),
        Country.FI: (date(2021, 4, 1), InvoiceState.READY),
    }


def test_as_of_states_of_a_standard_invoice(engine) -> None:
    record = purchase("B-1", "2025-03-03T10:00:00+01:00", product=B2B, status="CAPTURED")
    assert engine([record], as_of=date(2025, 3, 2)).invoices[0].state is InvoiceState.SCHEDULED
    assert engine([record], as_of=date(2025, 3, 3)).invoices[0].state is InvoiceState.READY


def test_naive_as_of_is_refused(engine) -> None:
    with pytest.raises(NaiveDatetimeError):
        engine([purchase("A-1", "2021-03-10T12:00:00+01:00")], as_of=datetime(2021, 4, 6, 12))
    with pytest.raises(NaiveDatetimeError):
        engine([], as_of=datetime(2021, 4, 6, 12))


# -- ids and provenance ------------------------------------------------------------------


def test_invoice_ids_are_stable_and_distinct(engine) -> None:
    records = [
        purchase("I-1", "2021-01-05T09:00:00+01:00"),
        purchase("I-2", "2021-02-05T09:00:00+01:00"),
        purchase("I-3", "2021-01-05T09:00:00+01:00", organization_number="974760673"),
        purchase("I-4", "2021-01-05T09:00:00+01:00", reference="dept-x"),
        purchase("I-5", "2021-01-05T09:00:00+01:00", product=B2B, status="CAPTURED"),
        purchase("I-6", "2021-01-05T09:00:00+01:00", product=B2B, status="CAPTURED"),
    ]
    first = engine(records)
    second = engine([dict(r) for r in reversed(records)])
    assert first == second
    ids = [i.id for i in first.invoices]
    assert ids == [i.id for i in second.invoices]
    assert len(set(ids)) == 6
    by_tx = {i.transaction_ids[0]: i.id for i in first.invoices}
    assert by_tx["I-1"].startswith("G-2021-01-")
    assert by_tx["I-2"].startswith("G-2021-02-")
    assert by_tx["I-1"][len("G-2021-01-") :] != by_tx["I-2"][len("G-2021-02-") :]
    # Adding another purchase to an invoice does not change its id.
    more = engine([*records, purchase("I-7", "2021-01-25T09:00:00+01:00")])
    assert more.invoice_for("I-7").id == by_tx["I-1"]  # type: ignore[union-attr]


def test_interval_is_part_of_the_grouped_id(engine) -> None:
    record = purchase("I-1", "2021-01-05T09:00:00+01:00")
    monthly = engine([record]).invoices[0]
    quarterly = engine([record], KraviaConfig.all_enabled(interval="quarterly")).invoices[0]
    assert monthly.id != quarterly.id
    assert quarterly.id.startswith("G-2021-Q1-")


def test_provenance(engine) -> None:
    config = KraviaConfig.all_enabled(interval="quarterly")
    as_of = date(2021, 4, 1)
    plan = engine(
        [purchase("P-1", "2021-01-05T09:00:00+01:00")],
        config,
        as_of=as_of,
        closed_days={"no": {date(2021, 4, 6): "Inventory"}},
        due_date_rule="following",
    )
    prov = plan.provenance
    assert prov.library_version == kravia_schedule.__version__
    assert prov.holidays_version == version("holidays")
    assert prov.config == config
    assert prov.as_of == as_of
    assert prov.strict is False
    assert prov.weekends_only is False
    assert prov.due_date_rule is DateRoll.FOLLOWING
    assert prov.closed_days == ((Country.NO, date(2021, 4, 6), "Inventory"),)
    as_dict = prov.to_dict()
    assert as_dict["as_of"] == "2021-04-01"
    assert as_dict["config"] == config.to_dict()
    assert as_dict["calendar_kind"] == "public"
    assert as_dict["holiday_categories"] == {"NO": ["public"], "SE": ["public"], "FI": ["public"]}
    assert as_dict["closed_days"] == [["NO", "2021-04-06", "Inventory"]]
    # The closed day moves Norway's Q1 2021 issue date from 6 to 7 April.
    assert plan.invoices[0].issue_date == date(2021, 4, 7)


def test_default_config_is_all_enabled(engine) -> None:
    plan = engine([])
    assert plan.provenance.config == KraviaConfig.all_enabled()
    assert plan.invoices == plan.skipped == plan.rejected == ()
    assert plan.provenance.as_of is None


def test_weekends_only_plan(engine) -> None:
    plan = engine([purchase("W-1", "2021-03-10T12:00:00+01:00")], weekends_only=True)
    assert plan.invoices[0].issue_date == date(2021, 4, 1)
    assert plan.provenance.to_dict()["holiday_categories"] == []


# -- merge_plans -------------------------------------------------------------------------


def _batch() -> list[dict[str, Any]]:
    return [
        purchase("M-1", "2021-01-05T09:00:00+01:00", business_name="Nordmann AS"),
        purchase("M-2", "2021-01-20T09:00:00+01:00", business_name="NORDMANN AS"),
        purchase("M-3", "2021-01-02T09:00:00+01:00", business_name="nordmann as"),
        purchase("M-4", "2021-02-02T09:00:00+01:00"),
        purchase("M-5", "2021-01-09T09:00:00+01:00", product=B2B, status="CAPTURED"),
        purchase("M-6", "2021-01-09T09:00:00+01:00", status="AUTHORIZATION_VOIDED"),
        purchase("M-7", "2021-01-09T09:00:00+01:00", amount=1.5),
        purchase("M-8", "2021-01-11T09:00:00+01:00", country="SE", currency="SEK"),
    ]


def test_merge_of_two_halves_equals_plan_of_the_whole(engine) -> None:
    records = _batch()
    as_of = date(2021, 2, 1)
    whole = engine(records, as_of=as_of)
    first = engine([records[i] for i in (0, 2, 4, 6)], as_of=as_of)
    second = engine([records[i] for i in (1, 3, 5, 7)], as_of=as_of)
    merged = merge_plans(first, second)
    assert merged.invoices == whole.invoices
    assert merged.skipped == whole.skipped
    assert merged.rejected == whole.rejected
    assert merged == whole
    assert merge_plans(second, first) == whole
    january = whole.invoice_for("M-1")
    assert january is not None
    assert january.transaction_ids == ("M-3", "M-1", "M-2")
    assert january.amount == 30_000
    assert january.billing_address.business_name == "nordmann as"  # M-3 is the earliest
    assert january.state is InvoiceState.READY
    assert whole.invoice_for("M-4").state is InvoiceState.OPEN  # type: ignore[union-attr]
    assert [s.transaction_id for s in whole.skipped] == ["M-6"]
    assert [r.transaction_id for r in whole.rejected] == ["M-7"]


def test_merge_of_a_single_plan_is_itself(engine) -> None:
    plan = engine(_batch())
    assert merge_plans(plan) == plan
    with pytest.raises(ValueError, match="at least one plan"):
        merge_plans()


def test_merge_refuses_a_transaction_in_both_plans(engine) -> None:
    records = _batch()
    first = engine(records[:3])
    second = engine(records[2:5])
    with pytest.raises(MergeConflictError, match="M-3"):
        merge_plans(first, second)
    skipped_twice = engine([records[5]])
    with pytest.raises(MergeConflictError, match="M-6"):
        merge_plans(skipped_twice, engine([records[5]]))


@pytest.mark.parametrize(
    "other",
    [
        pytest.param({"as_of": date(2021, 2, 2)}, id="as_of"),
        pytest.param({"strict": True}, id="strict"),
        pytest.param({"weekends_only": True}, id="weekends_only"),
        pytest.param({"due_date_rule": "following"}, id="due_date_rule"),
        pytest.param({"config": KraviaConfig.all_enabled(interval="quarterly")}, id="config"),
        pytest.param({"closed_days": {"SE": [date(2021, 2, 1)]}}, id="closed_days"),
    ],
)
def test_merge_refuses_different_provenance(engine, other: dict[str, Any]) -> None:
    records = _batch()
    first = engine(records[:4], as_of=date(2021, 2, 1))
    settings: dict[str, Any] = {"as_of": date(2021, 2, 1), **other}
    config = settings.pop("config", None)
    second = engine(records[4:], config, **settings)
    with pytest.raises(MergeConflictError):
        merge_plans(first, second)


# -- the end of the holiday data ---------------------------------------------------------


def test_december_2100_grouped_purchase_is_rejected_the_rest_is_planned(engine) -> None:
    plan = engine(
        [
            purchase("H-1", "2100-11-15T12:00:00+01:00"),
            purchase("H-2", "2100-12-15T12:00:00+01:00"),
            purchase("H-3", "2100-12-15T12:00:00+01:00", product=B2B, status="CAPTURED"),
        ]
    )
    assert _weekday(date(2100, 12, 1)) == WED
    invoiced = {i.transaction_ids[0]: (i.issue_date, i.due_date) for i in plan.invoices}
    assert invoiced == {
        "H-1": (date(2100, 12, 1), date(2100, 12, 15)),
        "H-3": (date(2100, 12, 15), date(2100, 12, 29)),
    }
    assert len(plan.rejected) == 1
    rejection = plan.rejected[0]
    assert (rejection.transaction_id, rejection.field, rejection.index) == ("H-2", "created_at", 1)
    assert "2101" in rejection.reason


def test_december_2100_with_weekends_only_is_planned(engine) -> None:
    plan = engine([purchase("H-2", "2100-12-15T12:00:00+01:00")], weekends_only=True)
    assert plan.rejected == ()
    assert plan.invoices[0].issue_date == date(2101, 1, 3)  # 1 Jan 2101 is a Saturday


def test_standard_due_date_beyond_2100_is_treated_alike_whatever_the_weekday(engine) -> None:
    # 18 Dec 2100 (Sat) + 14 = 1 Jan 2101 (Sat); 20 Dec 2100 (Mon) + 14 = 3 Jan 2101 (Mon).
    assert _weekday(date(2101, 1, 1)) == SAT
    assert _weekday(date(2101, 1, 3)) == MON
    records = [
        purchase("E-1", "2100-12-18T12:00:00+01:00", product=B2B, status="CAPTURED"),
        purchase("E-2", "2100-12-20T12:00:00+01:00", product=B2B, status="CAPTURED"),
    ]
    # Unadjusted due dates are calendar days: no holiday data is needed, both are invoiced.
    plan = engine(records)
    assert {tid for i in plan.invoices for tid in i.transaction_ids} == {"E-1", "E-2"}
    assert [i.due_date for i in plan.invoices] == [date(2101, 1, 1), date(2101, 1, 3)]
    # Rolling a due date in 2101 needs holiday data that does not exist: both rejected.
    plan = engine(records, due_date_rule="following")
    assert plan.invoices == ()
    assert {(r.transaction_id, r.field) for r in plan.rejected} == {
        ("E-1", "created_at"),
        ("E-2", "created_at"),
    }


def test_plan_refuses_preceding_due_date_rule_up_front(engine) -> None:
    record = purchase("B-1", "2025-02-01T10:00:00+01:00", product=B2B, status="CAPTURED")
    with pytest.raises(ValueError, match="due_date_rule"):
        engine([record], due_date_rule="preceding")


def test_config_product_lookup_used_by_plan(engine) -> None:
    # days_until_due of the grouped type applies to grouped invoices only.
    config = KraviaConfig(ProductConfig(True, 7), ProductConfig(True, 30), ProductConfig(True, 10))
    plan = engine(
        [
            purchase("G-1", "2021-01-05T09:00:00+01:00"),
            purchase("B-1", "2021-01-05T09:00:00+01:00", product=B2B, status="CAPTURED"),
            purchase("C-1", "2021-01-05T09:00:00+01:00", product=B2C, status="CAPTURED"),
        ],
        config,
    )
    due = {i.transaction_ids[0]: i.due_date for i in plan.invoices}
    assert due == {"G-1": date(2021, 3, 3), "B-1": date(2021, 1, 12), "C-1": date(2021, 1, 15)}


def test_invoice_ids_are_stable_across_versions(engine) -> None:
    # Ids are stored (ledgers, payment references): the digest behind them must not
    # change. These were computed by the code before the digest was factored out.
    plan = engine(
        [
            purchase("ID-1", "2021-01-10T09:00:00+01:00"),
            purchase("ID-2", "2021-01-10T09:00:00+01:00", product="kravia.invoice_b2b",
                     status="CAPTURED"),
        ]
    )  # fmt: skip
    ids = {invoice.transaction_ids: invoice.id for invoice in plan.invoices}
    assert ids == {("ID-1",): "G-2021-01-40c1ad4d0bf7a12c", ("ID-2",): "S-522b15ae7e724acb"}
