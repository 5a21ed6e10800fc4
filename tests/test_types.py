"""The small value types: direct construction checks, text forms, country data."""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import UTC, date, datetime

import pytest
from _records import nordmann_address
from hypothesis import given
from hypothesis import strategies as st

from kravia_schedule import (
    BillingAddress,
    BusinessCalendar,
    Country,
    CustomerKey,
    InvalidPurchaseError,
    ProductType,
    Purchase,
    TransactionStatus,
    parse_purchase,
)
from kravia_schedule.customers import normalize_name, normalize_reference

ADDRESS = BillingAddress(**nordmann_address(country=Country.NO), org_number_key="923609016")


def _purchase(**changes: object) -> Purchase:
    fields = {
        "id": "T1",
        "created_at": datetime(2025, 1, 5, 10, tzinfo=UTC),
        "amount": 1000,
        "vat_amount": 200,
        "currency": "NOK",
        "status": TransactionStatus.AUTHORIZED,
        "product_type": ProductType.B2B_GROUPED,
        "billing_address": ADDRESS,
    }
    fields.update(changes)
    return Purchase(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": 10.5}, "amount"),
        ({"amount": 0}, "amount"),
        ({"vat_amount": -1}, "vat_amount"),
        ({"vat_amount": 1001}, "vat_amount"),
        ({"id": ""}, "id"),
        ({"created_at": datetime(2025, 1, 5, 10)}, "created_at"),
        ({"currency": "nok"}, "currency"),
    ],
    ids=lambda v: str(v),
)
def test_purchase_checks_its_invariants_when_built_directly(changes, field):
    with pytest.raises(InvalidPurchaseError) as info:
        _purchase(**changes)
    assert info.value.path == field


def test_purchase_with_a_non_string_id_is_named_as_unknown():
    with pytest.raises(InvalidPurchaseError) as info:
        _purchase(id=17)
    assert info.value.transaction_id is None
    assert str(info.value).startswith("invalid purchase: ")


def test_parse_purchase_refuses_a_non_mapping_and_a_non_string_reference():
    with pytest.raises(InvalidPurchaseError, match="must be a JSON object"):
        parse_purchase(["not", "a", "record"])  # type: ignore[arg-type]
    record = _purchase().to_dict()
    record["merchant_reference"] = 42
    with pytest.raises(InvalidPurchaseError) as info:
        parse_purchase(record)
    assert [p.path for p in info.value.problems] == ["merchant_reference"]


def test_purchase_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        _purchase().amount = 5  # type: ignore[misc]


def test_calendar_text_forms_and_comparisons():
    assert repr(BusinessCalendar("NO")) == "BusinessCalendar('NO')"
    closed = BusinessCalendar("SE", weekends_only=True, closed_days=[date(2025, 12, 24)])
    assert repr(closed) == "BusinessCalendar('SE', weekends_only=True, closed_days=<1 days>)"
    assert BusinessCalendar("NO") != "NO"
    assert closed == BusinessCalendar(
        "se", weekends_only=True, closed_days={date(2025, 12, 24): "closed"}
    )


def test_calendar_that_never_opens_says_so():
    every_day = {
        date(2025, 1, 1) + (date(2025, 1, 2) - date(2025, 1, 1)) * i: "x" for i in range(400)
    }
    calendar = BusinessCalendar("NO", weekends_only=True, closed_days=every_day)
    with pytest.raises(ValueError, match="no business day within 366 days"):
        calendar.roll_forward(date(2025, 1, 1))


def test_country_data():
    assert [c.zone_name for c in Country] == ["Europe/Oslo", "Europe/Stockholm", "Europe/Helsinki"]
    assert [c.currency for c in Country] == ["NOK", "SEK", "EUR"]


def test_customer_key_text():
    key = CustomerKey(Country.SE, "5566778899", "svensson verkstad ab", "dept-1")
    assert str(key) == "SE 5566778899 'svensson verkstad ab' ref='dept-1'"
    assert (
        str(CustomerKey(Country.FI, "0112038-9", "virtanen oy", "")) == "FI 0112038-9 'virtanen oy'"
    )


@given(st.one_of(st.none(), st.text(), st.text(alphabet=st.characters(max_codepoint=127))))
def test_customer_text_is_the_nfkc_form_trimmed_with_whitespace_collapsed(text: str | None) -> None:
    # The definition, spelled out: normalize_reference skips NFKC for ASCII text (which
    # NFKC leaves as it is), so the shortcut must give what the definition gives.
    expected = " ".join(unicodedata.normalize("NFKC", text).split()) if text else ""
    assert normalize_reference(text) == expected
    assert normalize_name(text) == expected.casefold()
