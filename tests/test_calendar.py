"""Tests for kravia_schedule.calendar (BusinessCalendar).

Every expected date below was worked out by hand: weekdays with the standard library's
``calendar`` module, Easter with the anonymous Gregorian algorithm in ``_easter`` (not with
the ``holidays`` package or the code under test).
"""

from __future__ import annotations

import calendar as stdcal
import sys
import threading
from datetime import date, timedelta

import pytest

import kravia_schedule.calendar as calmod
from kravia_schedule import (
    BusinessCalendar,
    CalendarRangeError,
    Country,
    DateRoll,
    holiday_data_years,
)

COUNTRIES = ["NO", "SE", "FI"]
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def _weekday(day: date) -> int:
    return stdcal.weekday(day.year, day.month, day.day)


def _easter(year: int) -> date:
    """Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2008, date(2008, 3, 23)), (2020, date(2020, 4, 12)), (2021, date(2021, 4, 4)),
     (2024, date(2024, 3, 31)), (2025, date(2025, 4, 20))],
    ids=str,
)  # fmt: skip
def test_own_easter_helper_matches_known_dates(year: int, easter: date) -> None:
    # Sanity check of the test's own helper against Easter dates known by heart.
    assert _easter(year) == easter
    assert _weekday(easter) == SUN


# -- weekends ------------------------------------------------------------------------


@pytest.mark.parametrize("country", COUNTRIES)
def test_weekend_days_are_not_business_days(country: str) -> None:
    cal = BusinessCalendar(country)
    saturday, sunday, monday = date(2024, 6, 1), date(2024, 6, 2), date(2024, 6, 3)
    assert (_weekday(saturday), _weekday(sunday), _weekday(monday)) == (SAT, SUN, MON)
    assert not cal.is_business_day(saturday)
    assert not cal.is_business_day(sunday)
    assert cal.is_business_day(monday)
    assert cal.roll_forward(saturday) == monday
    skipped = cal.explain(saturday)
    assert [s.day for s in skipped] == [saturday, sunday]
    assert [s.reason for s in skipped] == ["Saturday", "Sunday"]
    assert all(s.weekend and s.holiday is None for s in skipped)


# -- Easter ----------------------------------------------------------------------------


def test_norway_q1_2021_rolls_past_easter_to_6_april() -> None:
    cal = BusinessCalendar("NO")
    first_after_q1 = date(2021, 4, 1)
    assert _weekday(first_after_q1) == THU
    assert _easter(2021) == date(2021, 4, 4)
    assert cal.roll_forward(first_after_q1) == date(2021, 4, 6)
    skipped = cal.explain(first_after_q1)
    assert [(s.day, s.reason) for s in skipped] == [
        (date(2021, 4, 1), "Maundy Thursday"),
        (date(2021, 4, 2), "Good Friday"),
        (date(2021, 4, 3), "Saturday"),
        (date(2021, 4, 4), "Easter Sunday (Sunday)"),
        (date(2021, 4, 5), "Easter Monday"),
    ]
    assert [s.weekend for s in skipped] == [False, False, True, True, False]
    assert str(skipped[0]) == "2021-04-01 Thu: Maundy Thursday"


@pytest.mark.parametrize("country", ["SE", "FI"])
def test_maundy_thursday_is_a_business_day_in_sweden_and_finland(country: str) -> None:
    cal = BusinessCalendar(country)
    assert cal.is_business_day(date(2021, 4, 1))
    assert cal.holiday_name(date(2021, 4, 1)) is None
    assert cal.roll_forward(date(2021, 4, 1)) == date(2021, 4, 1)
    assert cal.explain(date(2021, 4, 1)) == ()
    # Good Friday is a holiday there too.
    assert cal.holiday_name(date(2021, 4, 2)) == "Good Friday"


@pytest.mark.parametrize("country", COUNTRIES)
def test_easter_monday_on_1_april_2024_rolls_to_2_april(country: str) -> None:
    assert _easter(2024) + timedelta(days=1) == date(2024, 4, 1)
    cal = BusinessCalendar(country)
    assert cal.holiday_name(date(2024, 4, 1)) == "Easter Monday"
    assert not cal.is_business_day(date(2024, 4, 1))
    assert cal.roll_forward(date(2024, 4, 1)) == date(2024, 4, 2)
    assert _weekday(date(2024, 4, 2)) == TUE


# -- fixed holidays ------------------------------------------------------------------

MAY_DAY_NAMES = {"NO": "Labor Day", "SE": "May Day", "FI": "May Day"}


@pytest.mark.parametrize("year", [1995, 2019, 2021, 2022, 2024, 2025, 2030, 2099])
@pytest.mark.parametrize("country", COUNTRIES)
def test_first_of_may_is_a_holiday_everywhere(country: str, year: int) -> None:
    cal = BusinessCalendar(country)
    may_day = date(year, 5, 1)
    assert not cal.is_business_day(may_day)
    assert cal.holiday_name(may_day) == MAY_DAY_NAMES[country]
    assert cal.roll_forward(may_day) > may_day


@pytest.mark.parametrize("year", [2021, 2023, 2025, 2100])
@pytest.mark.parametrize("country", COUNTRIES)
def test_new_years_day(country: str, year: int) -> None:
    cal = BusinessCalendar(country)
    assert cal.holiday_name(date(year, 1, 1)) == "New Year's Day"
    assert not cal.is_business_day(date(year, 1, 1))


def test_own_search_finds_2008_as_the_year_ascension_falls_on_1_may() -> None:
    years = [y for y in range(1990, 2101) if _easter(y) + timedelta(days=39) == date(y, 5, 1)]
    assert years == [2008]


@pytest.mark.parametrize("country", COUNTRIES)
def test_ascension_day_on_first_of_may_2008(country: str) -> None:
    cal = BusinessCalendar(country)
    may_day = date(2008, 5, 1)
    assert _weekday(may_day) == THU
    name = cal.holiday_name(may_day)
    assert name is not None
    assert "Ascension Day" in name
    assert MAY_DAY_NAMES[country] in name
    assert cal.roll_forward(may_day) == date(2008, 5, 2)  # a Friday, no holiday
    assert [s.day for s in cal.explain(may_day)] == [may_day]


def test_whit_monday_1_june_2020() -> None:
    whit_monday = _easter(2020) + timedelta(days=50)
    assert whit_monday == date(2020, 6, 1)
    assert _weekday(whit_monday) == MON
    norway = BusinessCalendar("NO")
    assert not norway.is_business_day(whit_monday)
    assert norway.roll_forward(whit_monday) == date(2020, 6, 2)
    for country in ("SE", "FI"):
        cal = BusinessCalendar(country)
        assert cal.is_business_day(whit_monday), country
        assert cal.roll_forward(whit_monday) == whit_monday


@pytest.mark.parametrize(
    ("day", "holiday_in", "name"),
    [
        pytest.param(date(2023, 6, 6), {"SE"}, "National Day", id="se-national-day-tue"),
        pytest.param(date(2022, 12, 6), {"FI"}, "Independence Day", id="fi-independence-tue"),
        pytest.param(date(2022, 6, 24), {"FI"}, "Midsummer Eve", id="midsummer-eve-fri"),
        pytest.param(date(2024, 12, 24), {"FI"}, "Christmas Eve", id="christmas-eve-tue"),
        pytest.param(date(2020, 12, 24), {"FI"}, "Christmas Eve", id="christmas-eve-2020-thu"),
        pytest.param(date(2021, 5, 17), {"NO"}, "Constitution Day", id="no-17-may-mon"),
    ],
)
def test_country_specific_holidays(day: date, holiday_in: set[str], name: str) -> None:
    assert _weekday(day) < SAT  # a weekday, so only the holiday can close it
    for country in COUNTRIES:
        cal = BusinessCalendar(country)
        if country in holiday_in:
            assert cal.holiday_name(day) == name, country
            assert not cal.is_business_day(day), country
        else:
            assert cal.holiday_name(day) is None, country
            assert cal.is_business_day(day), country


def test_midsummer_eve_is_a_friday_between_19_and_25_june() -> None:
    cal = BusinessCalendar("FI")
    for year in range(2020, 2031):
        eves = [d for d, n in cal.holidays(year).items() if n == "Midsummer Eve"]
        assert len(eves) == 1
        assert _weekday(eves[0]) == FRI
        assert date(year, 6, 19) <= eves[0] <= date(year, 6, 25)
        assert BusinessCalendar("SE").is_business_day(eves[0])


# -- weekends_only and closed days -------------------------------------------------------


def test_weekends_only_ignores_holidays() -> None:
    cal = BusinessCalendar("NO", weekends_only=True)
    assert cal.is_business_day(date(2021, 4, 1))  # Maundy Thursday
    assert cal.is_business_day(date(2024, 12, 25))  # Christmas Day, a Wednesday
    assert cal.holiday_name(date(2024, 12, 25)) is None
    assert dict(cal.holidays(2024)) == {}
    assert cal.roll_forward(date(2021, 4, 3)) == date(2021, 4, 5)  # Sat -> Easter Monday
    assert not cal.is_business_day(date(2021, 4, 3))


def test_closed_days_mapping_closes_days_with_reason() -> None:
    outing = date(2025, 3, 14)  # Friday
    assert _weekday(outing) == FRI
    cal = BusinessCalendar("NO", closed_days={outing: "Company outing"})
    assert not cal.is_business_day(outing)
    assert cal.roll_forward(outing) == date(2025, 3, 17)
    skipped = cal.explain(outing)
    assert [(s.day, s.reason) for s in skipped] == [
        (date(2025, 3, 14), "Company outing"),
        (date(2025, 3, 15), "Saturday"),
        (date(2025, 3, 16), "Sunday"),
    ]
    assert skipped[0].closed == "Company outing"
    assert BusinessCalendar("NO").is_business_day(outing)


def test_closed_days_iterable_form_uses_generic_reason() -> None:
    days = [date(2025, 3, 13), date(2025, 3, 12)]
    cal = BusinessCalendar("SE", closed_days=days)
    assert not cal.is_business_day(date(2025, 3, 12))
    assert not cal.is_business_day(date(2025, 3, 13))
    assert cal.roll_forward(date(2025, 3, 12)) == date(2025, 3, 14)
    assert [s.reason for s in cal.explain(date(2025, 3, 12))] == ["closed", "closed"]
    assert list(cal.closed_days) == sorted(days)
    assert cal == BusinessCalendar("SE", closed_days=dict.fromkeys(days, "closed"))


def test_closed_day_on_a_holiday_and_weekend_shows_both_reasons() -> None:
    cal = BusinessCalendar("NO", closed_days={date(2021, 4, 4): "Office shut"})
    skipped = {s.day: s for s in cal.explain(date(2021, 4, 1))}
    assert skipped[date(2021, 4, 4)].reason == "Easter Sunday; Office shut (Sunday)"


def test_closed_days_must_be_dates() -> None:
    with pytest.raises(TypeError):
        BusinessCalendar("NO", closed_days=["2025-03-14"])  # type: ignore[list-item]


def test_closed_days_apply_with_weekends_only() -> None:
    cal = BusinessCalendar("FI", weekends_only=True, closed_days=[date(2024, 12, 24)])
    assert not cal.is_business_day(date(2024, 12, 24))
    assert cal.is_business_day(date(2024, 12, 25))


# -- moving dates ------------------------------------------------------------------------


def test_advance_counts_business_days_over_easter() -> None:
    cal = BusinessCalendar("NO")
    friday = date(2021, 3, 26)
    assert _weekday(friday) == FRI
    # Mon 29, Tue 30, Wed 31 Mar, then Tue 6, Wed 7 Apr.
    assert cal.advance(friday, 1) == date(2021, 3, 29)
    assert cal.advance(friday, 3) == date(2021, 3, 31)
    assert cal.advance(friday, 4) == date(2021, 4, 6)
    assert cal.advance(friday, 5) == date(2021, 4, 7)
    assert cal.advance(date(2021, 4, 6), -1) == date(2021, 3, 31)
    assert cal.advance(date(2021, 4, 7), -2) == date(2021, 3, 31)
    # advance(d, 0) rolls forward, as in QuantLib.
    assert cal.advance(date(2021, 4, 2), 0) == date(2021, 4, 6)
    assert cal.advance(friday, 0) == friday


def test_advance_in_sweden_differs_on_maundy_thursday() -> None:
    assert BusinessCalendar("SE").advance(date(2021, 3, 31), 1) == date(2021, 4, 1)
    assert BusinessCalendar("NO").advance(date(2021, 3, 31), 1) == date(2021, 4, 6)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (DateRoll.FOLLOWING, date(2021, 4, 6)),
        ("following", date(2021, 4, 6)),
        (DateRoll.PRECEDING, date(2021, 3, 31)),
        ("preceding", date(2021, 3, 31)),
        (DateRoll.UNADJUSTED, date(2021, 4, 3)),
        ("unadjusted", date(2021, 4, 3)),
    ],
    ids=lambda v: str(v),
)
def test_adjust_rules(rule: DateRoll | str, expected: date) -> None:
    assert BusinessCalendar("NO").adjust(date(2021, 4, 3), rule) == expected


def test_adjust_default_is_following_and_leaves_business_days_alone() -> None:
    cal = BusinessCalendar("NO")
    assert cal.adjust(date(2021, 4, 3)) == date(2021, 4, 6)
    for rule in DateRoll:
        assert cal.adjust(date(2021, 3, 31), rule) == date(2021, 3, 31)


def test_adjust_unknown_rule() -> None:
    with pytest.raises(ValueError, match="modified_following"):
        BusinessCalendar("NO").adjust(date(2021, 4, 3), "modified_following")


@pytest.mark.parametrize(
    ("country", "day", "expected"),
    [
        ("NO", date(2021, 4, 5), date(2021, 3, 31)),
        ("SE", date(2021, 4, 5), date(2021, 4, 1)),
        ("FI", date(2021, 4, 5), date(2021, 4, 1)),
        ("NO", date(2024, 12, 26), date(2024, 12, 24)),  # Christmas Eve is open in NO
        ("FI", date(2024, 12, 26), date(2024, 12, 23)),  # ... but closed in FI
        ("SE", date(2024, 12, 26), date(2024, 12, 24)),  # ... open in SE (default categories)
        ("NO", date(2021, 3, 31), date(2021, 3, 31)),
    ],
    ids=lambda v: str(v),
)
def test_roll_backward(country: str, day: date, expected: date) -> None:
    assert BusinessCalendar(country).roll_backward(day) == expected


def test_business_days_lists_open_days_inclusive() -> None:
    got = BusinessCalendar("NO").business_days(date(2021, 3, 29), date(2021, 4, 9))
    assert got == [
        date(2021, 3, 29), date(2021, 3, 30), date(2021, 3, 31),
        date(2021, 4, 6), date(2021, 4, 7), date(2021, 4, 8), date(2021, 4, 9),
    ]  # fmt: skip
    sweden = BusinessCalendar("SE").business_days(date(2021, 3, 29), date(2021, 4, 9))
    assert date(2021, 4, 1) in sweden
    assert len(sweden) == 8
    assert BusinessCalendar("NO").business_days(date(2021, 4, 2), date(2021, 4, 1)) == []
    assert BusinessCalendar("NO").business_days(date(2021, 4, 6), date(2021, 4, 6)) == [
        date(2021, 4, 6)
    ]


def test_business_days_agree_with_is_business_day_over_a_year() -> None:
    cal = BusinessCalendar("FI")
    days = cal.business_days(date(2023, 1, 1), date(2023, 12, 31))
    # 2023: 260 weekdays, minus the FI public holidays falling on weekdays:
    # 6 Jan Fri, Good Friday 7 Apr, Easter Monday 10 Apr, 1 May Mon, Ascension 18 May,
    # Midsummer Eve 23 Jun, 6 Dec Wed, 24 Dec is a Sunday, 25 Dec Mon, 26 Dec Tue.
    weekdays = sum(1 for n in range(365) if _weekday(date(2023, 1, 1) + timedelta(days=n)) < SAT)
    assert weekdays == 260
    assert len(days) == 260 - 9


# -- range of the holiday data ---------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "years"), [("NO", (1901, 2100)), ("SE", (1953, 2100)), ("FI", (1853, 2100))]
)
def test_holiday_data_years(country: str, years: tuple[int, int]) -> None:
    assert holiday_data_years(country) == years


def test_calendar_range_error_after_2100_in_norway() -> None:
    cal = BusinessCalendar("NO")
    monday = date(2101, 1, 3)
    assert _weekday(monday) == MON
    with pytest.raises(CalendarRangeError, match="2101"):
        cal.is_business_day(monday)
    with pytest.raises(CalendarRangeError):
        cal.roll_forward(date(2101, 1, 1))
    with pytest.raises(CalendarRangeError):
        cal.holiday_name(date(2101, 6, 1))
    with pytest.raises(CalendarRangeError):
        cal.holidays(2101)
    # The last covered year still works: 2100-12-31 is a Friday.
    assert _weekday(date(2100, 12, 31)) == FRI
    assert cal.is_business_day(date(2100, 12, 31))


def test_calendar_range_error_before_1953_in_sweden() -> None:
    cal = BusinessCalendar("SE")
    with pytest.raises(CalendarRangeError):
        cal.holiday_name(date(1950, 6, 6))
    with pytest.raises(CalendarRangeError):
        cal.roll_forward(date(1950, 1, 2))
    assert isinstance(CalendarRangeError("x"), ValueError)


def test_weekends_only_works_beyond_the_holiday_data() -> None:
    cal = BusinessCalendar("NO", weekends_only=True)
    assert _weekday(date(2101, 1, 1)) == SAT
    assert cal.roll_forward(date(2101, 1, 1)) == date(2101, 1, 3)
    assert cal.is_business_day(date(2101, 1, 3))
    assert BusinessCalendar("SE", weekends_only=True).is_business_day(date(1950, 1, 2))


# -- construction, equality, hashing -----------------------------------------------------


def test_country_spellings_give_equal_calendars() -> None:
    a, b, c = BusinessCalendar("no"), BusinessCalendar("NO"), BusinessCalendar(Country.NO)
    assert a == b == c
    assert hash(a) == hash(b) == hash(c)
    assert a.country is Country.NO
    assert len({a, b, c}) == 1
    assert BusinessCalendar(" fi ").country is Country.FI


def test_calendars_with_different_options_differ() -> None:
    base = BusinessCalendar("NO")
    assert base != BusinessCalendar("SE")
    assert base != BusinessCalendar("NO", weekends_only=True)
    assert base != BusinessCalendar("NO", closed_days=[date(2025, 1, 2)])
    assert BusinessCalendar("NO", closed_days={date(2025, 1, 2): "a"}) != BusinessCalendar(
        "NO", closed_days={date(2025, 1, 2): "b"}
    )
    assert hash(BusinessCalendar("NO", closed_days=[date(2025, 1, 2)])) == hash(
        BusinessCalendar("no", closed_days=[date(2025, 1, 2)])
    )


def test_calendar_is_immutable() -> None:
    cal = BusinessCalendar("NO")
    with pytest.raises(AttributeError):
        cal.country = Country.SE  # type: ignore[misc]
    with pytest.raises(TypeError):
        cal.closed_days[date(2025, 1, 2)] = "x"  # type: ignore[index]


@pytest.mark.parametrize("bad", ["DK", "XX", "NOR", "", 47, None])
def test_unknown_country_raises_value_error(bad: object) -> None:
    with pytest.raises(ValueError, match=r"ISO 3166|Kravia market"):
        BusinessCalendar(bad)  # type: ignore[arg-type]


def test_describe_records_the_options() -> None:
    cal = BusinessCalendar("SE", closed_days={date(2025, 1, 2): "Inventory"})
    assert cal.describe() == {
        "country": "SE",
        "weekends_only": False,
        "closed_days": {"2025-01-02": "Inventory"},
        "kind": "public",
        "holiday_categories": ["public"],
    }
    assert BusinessCalendar("SE", weekends_only=True).describe()["holiday_categories"] == []


# -- thread safety ---------------------------------------------------------------------


def test_concurrent_lookups_agree_with_single_threaded_answer() -> None:
    years = range(2031, 2035)
    days = [
        date(y, 1, 1) + timedelta(days=n)
        for y in years
        for n in range(366 if stdcal.isleap(y) else 365)
    ]
    expected = {
        country: [BusinessCalendar(country).is_business_day(d) for d in days]
        for country in COUNTRIES
    }
    # Sanity: some holidays on weekdays must be in there (1 May 2031 is a Thursday).
    assert _weekday(date(2031, 5, 1)) == THU
    assert expected["NO"][days.index(date(2031, 5, 1))] is False

    calmod._closed_days.cache_clear()  # make the threads populate the data themselves
    results: dict[int, dict[str, list[bool]]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(n: int) -> None:
        try:
            barrier.wait()
            results[n] = {
                country: [BusinessCalendar(country).is_business_day(d) for d in days]
                for country in (COUNTRIES[n % 3 :] + COUNTRIES[: n % 3])
            }
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert errors == []
    assert len(results) == 8
    for answer in results.values():
        assert answer == expected
    # And the shared data is not corrupted afterwards.
    assert [BusinessCalendar("NO").is_business_day(d) for d in days] == expected["NO"]
