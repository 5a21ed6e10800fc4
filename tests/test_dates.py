"""Tests for kravia_schedule.dates (issue and due dates of standard and grouped invoices).

Expected dates are worked out by hand; weekdays are double-checked with the standard
library's ``calendar`` module.
"""

from __future__ import annotations

import calendar as stdcal
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

import kravia_schedule.dates as dates_module
from kravia_schedule import (
    BusinessCalendar,
    CalendarRangeError,
    Interval,
    NaiveDatetimeError,
    grouped_invoice_dates,
    local_date,
    standard_invoice_dates,
)

COUNTRIES = ["NO", "SE", "FI"]
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def _weekday(day: date) -> int:
    return stdcal.weekday(day.year, day.month, day.day)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- the seeds' tables -------------------------------------------------------------------


def test_2021_has_the_weekdays_of_the_monthly_table() -> None:
    # "February 1st (Mon)" and "March 1st (Mon)" hold in 2021.
    assert _weekday(date(2021, 2, 1)) == MON
    assert _weekday(date(2021, 3, 1)) == MON


@pytest.mark.parametrize("country", COUNTRIES)
@pytest.mark.parametrize(
    ("purchase", "issue", "due"),
    [
        pytest.param(date(2021, 1, 5), date(2021, 2, 1), date(2021, 2, 15), id="jan-5"),
        pytest.param(date(2021, 1, 20), date(2021, 2, 1), date(2021, 2, 15), id="jan-20"),
        pytest.param(date(2021, 2, 15), date(2021, 3, 1), date(2021, 3, 15), id="feb-15"),
    ],
)
def test_monthly_table(country: str, purchase: date, issue: date, due: date) -> None:
    dates = grouped_invoice_dates(purchase, country=country, interval="monthly")
    assert dates.issue_date == issue
    assert dates.due_date == due
    assert dates.days_until_due == 14
    assert dates.issue_skipped == ()
    assert dates.period is not None
    assert purchase in dates.period


def test_2025_has_business_days_on_1_april_and_1_july() -> None:
    assert _weekday(date(2025, 4, 1)) == TUE
    assert _weekday(date(2025, 7, 1)) == TUE
    # Easter 2025 is 20 April, so 1 April is far from it.


@pytest.mark.parametrize("country", COUNTRIES)
@pytest.mark.parametrize(
    ("purchase", "label", "issue", "due"),
    [
        pytest.param(date(2025, 1, 15), "2025-Q1", date(2025, 4, 1), date(2025, 4, 15), id="jan-15"),
        pytest.param(date(2025, 2, 20), "2025-Q1", date(2025, 4, 1), date(2025, 4, 15), id="feb-20"),
        pytest.param(date(2025, 4, 10), "2025-Q2", date(2025, 7, 1), date(2025, 7, 15), id="apr-10"),
    ],
)  # fmt: skip
def test_quarterly_table(country: str, purchase: date, label: str, issue: date, due: date) -> None:
    dates = grouped_invoice_dates(purchase, country=country, interval=Interval.QUARTERLY)
    assert dates.period is not None
    assert dates.period.label == label
    assert (dates.issue_date, dates.due_date) == (issue, due)


def test_module_docstring_example_norway_q1_2021() -> None:
    dates = grouped_invoice_dates(date(2021, 2, 10), country="NO", interval="quarterly")
    assert dates.issue_date == date(2021, 4, 6)
    assert dates.due_date == date(2021, 4, 20)
    assert [s.day for s in dates.issue_skipped] == [date(2021, 4, d) for d in range(1, 6)]
    # Same quarter in Sweden: 1 April 2021 (Thursday) is a business day there.
    assert grouped_invoice_dates(
        date(2021, 2, 10), country="SE", interval="quarterly"
    ).issue_date == date(2021, 4, 1)


def test_weekend_first_of_month_rolls_to_monday() -> None:
    # 1 March 2025 is a Saturday.
    assert _weekday(date(2025, 3, 1)) == SAT
    dates = grouped_invoice_dates(date(2025, 2, 10), country="NO")
    assert dates.issue_date == date(2025, 3, 3)
    assert dates.due_date == date(2025, 3, 17)
    assert [s.reason for s in dates.issue_skipped] == ["Saturday", "Sunday"]


# -- standard invoices -------------------------------------------------------------------


@pytest.mark.parametrize("country", COUNTRIES)
def test_standard_invoice_issued_on_purchase_date(country: str) -> None:
    # A Saturday purchase is invoiced that Saturday: no business-day rule for standard.
    purchase = date(2025, 2, 1)
    assert _weekday(purchase) == SAT
    dates = standard_invoice_dates(purchase, country=country)
    assert dates.issue_date == purchase
    assert dates.due_date == date(2025, 2, 15)
    assert dates.period is None
    assert dates.issue_skipped == ()
    assert dates.due_skipped == ()


def test_standard_invoice_on_a_holiday_keeps_the_holiday() -> None:
    dates = standard_invoice_dates(date(2024, 12, 25), country="NO", days_until_due=10)
    assert dates.issue_date == date(2024, 12, 25)
    assert dates.due_date == date(2025, 1, 4)


# -- days_until_due ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "due"),
    [(0, date(2021, 2, 1)), (1, date(2021, 2, 2)), (14, date(2021, 2, 15)),
     (30, date(2021, 3, 3)), (365, date(2022, 2, 1))],
    ids=lambda v: str(v),
)  # fmt: skip
def test_days_until_due_range(days: int, due: date) -> None:
    grouped = grouped_invoice_dates(date(2021, 1, 5), country="NO", days_until_due=days)
    assert grouped.issue_date == date(2021, 2, 1)
    assert grouped.due_date == due
    assert grouped.days_until_due == days
    standard = standard_invoice_dates(date(2021, 2, 1), country="SE", days_until_due=days)
    assert standard.due_date == due


@pytest.mark.parametrize("days", [-1, 366, True, False, 14.0, "14", None], ids=repr)
def test_days_until_due_rejected(days: object) -> None:
    # A cache hit for an equal int must not let 14.0/True through (see the next test).
    dates_module._period_invoice_dates.cache_clear()
    with pytest.raises(ValueError, match="days_until_due"):
        grouped_invoice_dates(date(2023, 6, 5), country="FI", days_until_due=days)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="days_until_due"):
        standard_invoice_dates(date(2023, 6, 5), country="FI", days_until_due=days)  # type: ignore[arg-type]


@pytest.mark.parametrize(("good", "bad"), [(14, 14.0), (1, True)], ids=["14.0", "True"])
def test_days_until_due_rejected_even_after_equal_int_was_cached(good: int, bad: object) -> None:
    grouped_invoice_dates(date(2022, 9, 5), country="FI", days_until_due=good)
    with pytest.raises(ValueError, match="days_until_due"):
        grouped_invoice_dates(date(2022, 9, 5), country="FI", days_until_due=bad)  # type: ignore[arg-type]


# -- local dates and time zones ----------------------------------------------------------


def test_late_evening_utc_is_next_day_in_oslo() -> None:
    instant = _utc(2025, 1, 31, 23, 30)
    assert local_date(instant, "NO") == date(2025, 2, 1)  # 00:30 CET
    grouped = grouped_invoice_dates(instant, country="NO")
    assert grouped.period is not None
    assert grouped.period.label == "2025-02"
    assert grouped.issue_date == date(2025, 3, 3)  # 1 March 2025 is a Saturday
    standard = standard_invoice_dates(instant, country="NO")
    assert standard.issue_date == date(2025, 2, 1)
    assert standard.due_date == date(2025, 2, 15)


@pytest.mark.parametrize(
    ("instant", "country", "local"),
    [
        pytest.param(_utc(2025, 1, 31, 23, 30), "FI", date(2025, 2, 1), id="2330Z-helsinki"),
        pytest.param(_utc(2025, 1, 31, 23, 30), "SE", date(2025, 2, 1), id="2330Z-stockholm"),
        pytest.param(_utc(2025, 1, 31, 22, 30), "NO", date(2025, 1, 31), id="2230Z-oslo"),
        pytest.param(_utc(2025, 1, 31, 22, 30), "SE", date(2025, 1, 31), id="2230Z-stockholm"),
        pytest.param(_utc(2025, 1, 31, 22, 30), "FI", date(2025, 2, 1), id="2230Z-helsinki"),
        pytest.param(_utc(2025, 1, 31, 21, 59), "FI", date(2025, 1, 31), id="2159Z-helsinki"),
        pytest.param(_utc(2025, 1, 31, 22, 0), "FI", date(2025, 2, 1), id="2200Z-helsinki"),
        pytest.param(_utc(2025, 1, 31, 23, 0), "NO", date(2025, 2, 1), id="2300Z-oslo-midnight"),
        pytest.param(_utc(2025, 1, 31, 22, 59, 59), "NO", date(2025, 1, 31), id="225959Z-oslo"),
    ],
)
def test_local_date_per_country(instant: datetime, country: str, local: date) -> None:
    assert local_date(instant, country) == local
    assert standard_invoice_dates(instant, country=country).issue_date == local
    assert grouped_invoice_dates(instant, country=country).period.label == (  # type: ignore[union-attr]
        f"{local.year}-{local.month:02d}"
    )


def test_same_instant_in_another_offset_gives_same_local_date() -> None:
    same = datetime(2025, 2, 1, 1, 30, tzinfo=timezone(timedelta(hours=2)))  # == 23:30Z
    assert same == _utc(2025, 1, 31, 23, 30)
    assert local_date(same, "NO") == date(2025, 2, 1)
    assert local_date(same, "FI") == date(2025, 2, 1)
    new_york = datetime(2025, 1, 31, 18, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert local_date(new_york, "NO") == date(2025, 2, 1)


@pytest.mark.parametrize(
    ("instant", "country", "label"),
    [
        # 31 March 2025 is after the switch to summer time (30 March): Oslo is UTC+2.
        pytest.param(_utc(2025, 3, 31, 22, 30), "NO", "2025-Q2", id="oslo-0030-apr-1"),
        pytest.param(_utc(2025, 3, 31, 21, 30), "NO", "2025-Q1", id="oslo-2330-mar-31"),
        pytest.param(_utc(2025, 3, 31, 22, 30), "SE", "2025-Q2", id="stockholm"),
        pytest.param(_utc(2025, 3, 31, 21, 30), "FI", "2025-Q2", id="helsinki-0030-apr-1"),
        pytest.param(_utc(2025, 3, 31, 20, 59), "FI", "2025-Q1", id="helsinki-2359-mar-31"),
    ],
)
def test_quarter_end_in_summer_time(instant: datetime, country: str, label: str) -> None:
    dates = grouped_invoice_dates(instant, country=country, interval="quarterly")
    assert dates.period is not None
    assert dates.period.label == label


def test_quarter_end_q2_issue_date() -> None:
    dates = grouped_invoice_dates(_utc(2025, 3, 31, 22, 30), country="NO", interval="quarterly")
    assert (dates.issue_date, dates.due_date) == (date(2025, 7, 1), date(2025, 7, 15))


def test_dst_days_are_last_sundays() -> None:
    for day in (date(2024, 3, 31), date(2025, 3, 30), date(2021, 10, 31), date(2025, 10, 26)):
        assert _weekday(day) == SUN
        assert (day + timedelta(days=7)).month != day.month


@pytest.mark.parametrize(
    ("instant", "country", "local"),
    [
        # Spring forward, 30 March 2025 at 01:00 UTC (Oslo 02:00 CET -> 03:00 CEST).
        pytest.param(_utc(2025, 3, 29, 22, 59), "NO", date(2025, 3, 29), id="spring-eve-2359-cet"),
        pytest.param(_utc(2025, 3, 29, 23, 0), "NO", date(2025, 3, 30), id="spring-0000-cet"),
        pytest.param(_utc(2025, 3, 30, 0, 59), "NO", date(2025, 3, 30), id="spring-0159-cet"),
        pytest.param(_utc(2025, 3, 30, 1, 0), "NO", date(2025, 3, 30), id="spring-0300-cest"),
        pytest.param(_utc(2025, 3, 30, 21, 59), "NO", date(2025, 3, 30), id="spring-2359-cest"),
        pytest.param(_utc(2025, 3, 30, 22, 0), "NO", date(2025, 3, 31), id="spring-next-0000"),
        pytest.param(_utc(2025, 3, 30, 20, 59), "FI", date(2025, 3, 30), id="spring-fi-2359"),
        pytest.param(_utc(2025, 3, 30, 21, 0), "FI", date(2025, 3, 31), id="spring-fi-0000"),
        # Fall back, 26 October 2025 at 01:00 UTC (Oslo 03:00 CEST -> 02:00 CET).
        pytest.param(_utc(2025, 10, 25, 21, 59), "NO", date(2025, 10, 25), id="fall-eve-2359"),
        pytest.param(_utc(2025, 10, 25, 22, 0), "NO", date(2025, 10, 26), id="fall-0000-cest"),
        pytest.param(_utc(2025, 10, 26, 0, 59), "NO", date(2025, 10, 26), id="fall-0259-cest"),
        pytest.param(_utc(2025, 10, 26, 1, 0), "NO", date(2025, 10, 26), id="fall-0200-cet"),
        pytest.param(_utc(2025, 10, 26, 22, 59), "NO", date(2025, 10, 26), id="fall-2359-cet"),
        pytest.param(_utc(2025, 10, 26, 23, 0), "NO", date(2025, 10, 27), id="fall-next-0000"),
        pytest.param(_utc(2025, 10, 26, 21, 59), "FI", date(2025, 10, 26), id="fall-fi-2359"),
        pytest.param(_utc(2025, 10, 26, 22, 0), "FI", date(2025, 10, 27), id="fall-fi-0000"),
    ],
)
def test_local_date_around_dst_changes(instant: datetime, country: str, local: date) -> None:
    assert local_date(instant, country) == local


@pytest.mark.parametrize(
    ("instant", "label"),
    [
        # 31 March 2024 is itself the spring-forward Sunday: the evening is CEST (UTC+2).
        pytest.param(_utc(2024, 3, 31, 21, 30), "2024-Q1", id="2024-03-31-2330-cest"),
        pytest.param(_utc(2024, 3, 31, 22, 30), "2024-Q2", id="2024-04-01-0030-cest"),
        # 31 October 2021 is the fall-back Sunday: the evening is CET (UTC+1).
        pytest.param(_utc(2021, 10, 31, 22, 30), "2021-Q4", id="2021-10-31-2330-cet"),
        pytest.param(_utc(2021, 10, 31, 23, 0), "2021-Q4", id="2021-11-01-0000-cet"),
        pytest.param(_utc(2021, 9, 30, 21, 59), "2021-Q3", id="2021-09-30-2359-cest"),
        pytest.param(_utc(2021, 9, 30, 22, 0), "2021-Q4", id="2021-10-01-0000-cest"),
    ],
)
def test_period_boundaries_on_dst_days(instant: datetime, label: str) -> None:
    dates = grouped_invoice_dates(instant, country="NO", interval="quarterly")
    assert dates.period is not None
    assert dates.period.label == label


def test_month_boundary_on_fall_back_day() -> None:
    assert grouped_invoice_dates(_utc(2021, 10, 31, 22, 30), country="SE").period.label == (  # type: ignore[union-attr]
        "2021-10"
    )
    assert grouped_invoice_dates(_utc(2021, 10, 31, 23, 0), country="SE").period.label == (  # type: ignore[union-attr]
        "2021-11"
    )


def test_naive_datetime_is_refused() -> None:
    naive = datetime(2025, 1, 31, 23, 30)
    with pytest.raises(NaiveDatetimeError):
        local_date(naive, "NO")
    with pytest.raises(NaiveDatetimeError):
        grouped_invoice_dates(naive, country="NO")
    with pytest.raises(NaiveDatetimeError):
        standard_invoice_dates(naive, country="SE")
    assert issubclass(NaiveDatetimeError, ValueError)


def test_plain_date_is_taken_as_local() -> None:
    for country in COUNTRIES:
        assert local_date(date(2025, 1, 31), country) == date(2025, 1, 31)
    dates = grouped_invoice_dates(date(2025, 1, 31), country="FI")
    assert dates.period is not None
    assert dates.period.label == "2025-01"


def test_local_date_rejects_other_types() -> None:
    with pytest.raises(TypeError):
        local_date("2025-01-31", "NO")  # type: ignore[arg-type]


# -- due_date_rule -----------------------------------------------------------------------


def test_following_moves_a_saturday_due_date_to_monday() -> None:
    issue = date(2025, 2, 1)  # Saturday -> due Saturday 15 Feb
    unadjusted = standard_invoice_dates(issue, country="NO")
    assert unadjusted.due_date == date(2025, 2, 15)
    assert _weekday(unadjusted.due_date) == SAT
    following = standard_invoice_dates(issue, country="NO", due_date_rule="following")
    assert following.issue_date == issue
    assert following.due_date == date(2025, 2, 17)
    assert [s.day for s in following.due_skipped] == [date(2025, 2, 15), date(2025, 2, 16)]
    assert [s.reason for s in following.due_skipped] == ["Saturday", "Sunday"]


@pytest.mark.parametrize("country", COUNTRIES)
def test_following_moves_past_christmas(country: str) -> None:
    # 11 Dec 2024 (Wed) + 14 = 25 Dec (Wed, Christmas); 26 Dec is a holiday too.
    dates = standard_invoice_dates(date(2024, 12, 11), country=country, due_date_rule="following")
    assert dates.due_date == date(2024, 12, 27)
    assert [(s.day, s.holiday) for s in dates.due_skipped] == [
        (date(2024, 12, 25), "Christmas Day"),
        (date(2024, 12, 26), "Second Day of Christmas"),
    ]
    assert dates.days_until_due == 16


def test_following_on_a_grouped_invoice() -> None:
    # January 2025 -> issue Mon 3 Feb (1 Feb is a Saturday); +5 days = Sat 8 Feb -> Mon 10 Feb.
    dates = grouped_invoice_dates(
        date(2025, 1, 20), country="NO", days_until_due=5, due_date_rule="following"
    )
    assert dates.issue_date == date(2025, 2, 3)
    assert dates.due_date == date(2025, 2, 10)
    assert [s.day for s in dates.due_skipped] == [date(2025, 2, 8), date(2025, 2, 9)]
    unadjusted = grouped_invoice_dates(date(2025, 1, 20), country="NO", days_until_due=5)
    assert unadjusted.due_date == date(2025, 2, 8)
    assert unadjusted.due_skipped == ()


def test_following_leaves_a_business_day_due_date() -> None:
    dates = grouped_invoice_dates(date(2021, 1, 5), country="NO", due_date_rule="following")
    assert dates.due_date == date(2021, 2, 15)
    assert dates.due_skipped == ()


def test_preceding_is_not_a_due_date_rule() -> None:
    with pytest.raises(ValueError, match="due_date_rule"):
        standard_invoice_dates(date(2025, 2, 1), country="NO", due_date_rule="preceding")
    with pytest.raises(ValueError, match="nearest"):
        grouped_invoice_dates(date(2025, 2, 1), country="NO", due_date_rule="nearest")


# -- calendars passed in ---------------------------------------------------------------


def test_weekends_only_calendar() -> None:
    cal = BusinessCalendar("NO", weekends_only=True)
    dates = grouped_invoice_dates(
        date(2021, 2, 10), country="NO", interval="quarterly", calendar=cal
    )
    assert dates.issue_date == date(2021, 4, 1)  # Maundy Thursday ignored


def test_closed_days_calendar() -> None:
    cal = BusinessCalendar("SE", closed_days={date(2021, 2, 1): "Stocktaking"})
    dates = grouped_invoice_dates(date(2021, 1, 5), country="SE", calendar=cal)
    assert dates.issue_date == date(2021, 2, 2)
    assert dates.due_date == date(2021, 2, 16)
    assert [s.reason for s in dates.issue_skipped] == ["Stocktaking"]


def test_calendar_for_another_country_is_refused() -> None:
    with pytest.raises(ValueError, match="calendar"):
        grouped_invoice_dates(date(2021, 1, 5), country="NO", calendar=BusinessCalendar("SE"))


# -- leap years and year ends ------------------------------------------------------------


def test_leap_day_purchase() -> None:
    dates = grouped_invoice_dates(date(2024, 2, 29), country="NO")
    assert dates.period is not None
    assert (dates.period.start, dates.period.end) == (date(2024, 2, 1), date(2024, 2, 29))
    assert _weekday(date(2024, 3, 1)) == FRI
    assert dates.issue_date == date(2024, 3, 1)
    assert dates.due_date == date(2024, 3, 15)


@pytest.mark.parametrize("country", COUNTRIES)
def test_december_purchase_is_invoiced_in_january(country: str) -> None:
    assert _weekday(date(2023, 1, 1)) == SUN
    dates = grouped_invoice_dates(date(2022, 12, 15), country=country)
    assert dates.issue_date == date(2023, 1, 2)
    assert dates.due_date == date(2023, 1, 16)
    assert len(dates.issue_skipped) == 1
    skipped = dates.issue_skipped[0]
    assert (skipped.day, skipped.weekend, skipped.holiday) == (
        date(2023, 1, 1),
        True,
        "New Year's Day",
    )
    assert skipped.reason == "New Year's Day (Sunday)"


def test_december_2100_is_beyond_the_holiday_data() -> None:
    with pytest.raises(CalendarRangeError):
        grouped_invoice_dates(date(2100, 12, 10), country="NO")
    with pytest.raises(CalendarRangeError):
        grouped_invoice_dates(date(2100, 11, 10), country="SE", interval="quarterly")
    # November 2100 is still fine: 1 Dec 2100 is a Wednesday.
    assert _weekday(date(2100, 12, 1)) == WED
    assert grouped_invoice_dates(date(2100, 11, 10), country="NO").issue_date == date(2100, 12, 1)
    # And a weekends-only calendar has no horizon.
    cal = BusinessCalendar("NO", weekends_only=True)
    assert _weekday(date(2101, 1, 1)) == SAT
    assert grouped_invoice_dates(date(2100, 12, 10), country="NO", calendar=cal).issue_date == (
        date(2101, 1, 3)
    )
