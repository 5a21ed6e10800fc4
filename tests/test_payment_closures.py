"""Days the Bank of Finland announced payment systems closed, in the Finnish payment calendar."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest
from dateutil.easter import easter
from hypothesis import given
from hypothesis import strategies as st

from kravia_schedule.calendar import BusinessCalendar, CalendarKind
from kravia_schedule.countries import Country
from kravia_schedule.payment_closures import (
    FI_PAYMENT_SYSTEM_CLOSURES,
    PaymentSystemClosure,
    payment_system_closures,
)
from kravia_schedule.statutory import last_on_time_payment_date

FI_PAYMENT = BusinessCalendar("FI", kind=CalendarKind.PAYMENT)


def test_y2k_closure_moves_a_due_date_to_the_next_open_day() -> None:
    # Friday 31 Dec 1999: notice 998/1999; Sat 1 Jan New Year's Day; Sun 2 Jan; Mon 3 Jan
    # the systems opened again.
    deadline = last_on_time_payment_date(date(1999, 12, 31), "FI")
    assert deadline.last_on_time == date(2000, 1, 3)
    assert [str(d) for d in deadline.skipped] == [
        "1999-12-31 Fri: Payment systems closed (Y2K changeover; Bank of Finland notice 998/1999)",
        "2000-01-01 Sat: New Year's Day (Saturday)",
        "2000-01-02 Sun: Sunday",
    ]
    assert "Bank of Finland notice 998/1999" in deadline.explain()
    assert "announced the payment systems closed" in deadline.rule.days_not_counting


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (date(1999, 12, 30), date(1999, 12, 30)),  # the day before: open
        (date(1999, 12, 29), date(1999, 12, 29)),
        (date(2000, 1, 3), date(2000, 1, 3)),
        (date(2000, 12, 29), date(2000, 12, 29)),  # a year later: no notice
    ],
)
def test_days_around_the_closure_are_open(due: date, expected: date) -> None:
    assert last_on_time_payment_date(due, "FI").last_on_time == expected


def test_the_closure_is_finnish_and_for_payment_deadlines_only() -> None:
    day = date(1999, 12, 31)
    assert not FI_PAYMENT.is_business_day(day)
    assert BusinessCalendar("FI").is_business_day(day)  # public calendar: a weekday
    assert BusinessCalendar("FI", kind="bank").is_business_day(day)
    # Norway's rule does not count the Finnish notice (31 Dec is no Norwegian holiday).
    assert last_on_time_payment_date(day, "NO").last_on_time == day
    assert payment_system_closures(Country.NO, 1999) == {}
    assert payment_system_closures(Country.SE, 1999) == {}
    assert payment_system_closures(Country.FI, 2000) == {}
    assert dict(payment_system_closures(Country.FI, 1999)) == {
        day: FI_PAYMENT_SYSTEM_CLOSURES[0].name
    }


@pytest.mark.parametrize("closure", FI_PAYMENT_SYSTEM_CLOSURES, ids=str)
def test_each_row_is_a_sourced_weekday_the_law_would_not_close_otherwise(
    closure: PaymentSystemClosure,
) -> None:
    # A row that changes nothing would hide a mistake in the table: each must be a
    # weekday that is not already a Finnish public holiday, after the law (1 Nov 1999).
    assert closure.day.weekday() < 5
    assert closure.day not in holidays.country_holidays("FI", years=closure.day.year)
    assert closure.day >= date(1999, 11, 1)
    assert closure.source.startswith("https://www.finlex.fi/")
    assert closure.notice.startswith("Bank of Finland notice ")
    assert closure.reason
    assert not FI_PAYMENT.is_business_day(closure.day)
    assert FI_PAYMENT.holiday_name(closure.day) == closure.name


def test_table_is_in_date_order_without_duplicates() -> None:
    days = [c.day for c in FI_PAYMENT_SYSTEM_CLOSURES]
    assert days == sorted(set(days))


def test_closure_records_are_immutable() -> None:
    with pytest.raises(AttributeError):
        FI_PAYMENT_SYSTEM_CLOSURES[0].day = date(2000, 1, 1)  # type: ignore[misc]
    with pytest.raises(TypeError):
        payment_system_closures(Country.FI, 1999)[date(1999, 12, 30)] = "x"  # type: ignore[index]


@pytest.mark.parametrize("year", range(2000, 2101))
def test_target_closing_days_need_no_notice(year: int) -> None:
    # Since 2000 TARGET (and TARGET2, T2) closes on these days (ECB, 15 July 1999 and
    # 14 December 2000); each is already a day the Finnish rule does not count, which is
    # why the table has no row for them.
    good_friday = easter(year) - timedelta(days=2)
    target_closed = [
        date(year, 1, 1),
        good_friday,
        good_friday + timedelta(days=3),  # Easter Monday
        date(year, 5, 1),
        date(year, 12, 25),
        date(year, 12, 26),
    ]
    assert not any(FI_PAYMENT.is_business_day(day) for day in target_closed)


@given(due=st.dates(min_value=date(1999, 11, 1), max_value=date(2000, 2, 29)))
def test_no_deadline_ends_on_an_announced_closure(due: date) -> None:
    deadline = last_on_time_payment_date(due, "FI")
    closed = {c.day for c in FI_PAYMENT_SYSTEM_CLOSURES}
    assert deadline.last_on_time not in closed
    assert deadline.last_on_time >= due
    assert (deadline.last_on_time == due) == (due not in closed and FI_PAYMENT.is_business_day(due))
