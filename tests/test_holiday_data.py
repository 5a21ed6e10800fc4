"""Pin the holidays package's data for the three countries, so a release that changes it
(as Sweden's every-Sunday default did before 0.107) fails here before it moves an invoice.

Each year's full list is written out by hand (Easter 2025: 20 April; 2026: 5 April).
"""

from __future__ import annotations

from datetime import date

import pytest

from kravia_schedule import BusinessCalendar

EXPECTED = {
    ("NO", 2025): {
        date(2025, 1, 1): "New Year's Day",
        date(2025, 4, 17): "Maundy Thursday",
        date(2025, 4, 18): "Good Friday",
        date(2025, 4, 20): "Easter Sunday",
        date(2025, 4, 21): "Easter Monday",
        date(2025, 5, 1): "Labor Day",
        date(2025, 5, 17): "Constitution Day",
        date(2025, 5, 29): "Ascension Day",
        date(2025, 6, 8): "Pentecost",
        date(2025, 6, 9): "Pentecost Monday",
        date(2025, 12, 25): "Christmas Day",
        date(2025, 12, 26): "Second Day of Christmas",
    },
    ("SE", 2025): {
        date(2025, 1, 1): "New Year's Day",
        date(2025, 1, 6): "Epiphany",
        date(2025, 4, 18): "Good Friday",
        date(2025, 4, 20): "Easter Sunday",
        date(2025, 4, 21): "Easter Monday",
        date(2025, 5, 1): "May Day",
        date(2025, 5, 29): "Ascension Day",
        date(2025, 6, 6): "National Day",
        date(2025, 6, 8): "Pentecost",
        date(2025, 6, 21): "Midsummer Day",
        date(2025, 11, 1): "All Saints' Day",
        date(2025, 12, 25): "Christmas Day",
        date(2025, 12, 26): "Second Day of Christmas",
    },
    ("FI", 2026): {
        date(2026, 1, 1): "New Year's Day",
        date(2026, 1, 6): "Epiphany",
        date(2026, 4, 3): "Good Friday",
        date(2026, 4, 5): "Easter Sunday",
        date(2026, 4, 6): "Easter Monday",
        date(2026, 5, 1): "May Day",
        date(2026, 5, 14): "Ascension Day",
        date(2026, 5, 24): "Pentecost",
        date(2026, 6, 19): "Midsummer Eve",
        date(2026, 6, 20): "Midsummer Day",
        date(2026, 10, 31): "All Saints' Day",
        date(2026, 12, 6): "Independence Day",
        date(2026, 12, 24): "Christmas Eve",
        date(2026, 12, 25): "Christmas Day",
        date(2026, 12, 26): "Second Day of Christmas",
    },
}


@pytest.mark.parametrize(("country", "year"), list(EXPECTED), ids=lambda v: str(v))
def test_public_holidays_are_exactly_the_known_list(country: str, year: int) -> None:
    assert dict(BusinessCalendar(country).holidays(year)) == EXPECTED[country, year]


@pytest.mark.parametrize("country", ["NO", "SE"])
def test_ordinary_sundays_are_not_listed_as_holidays(country: str) -> None:
    # Before holidays 0.107 Sweden listed every Sunday; a Sunday still closes the day,
    # but as a weekend, not as a holiday named "Sunday".
    calendar = BusinessCalendar(country)
    assert calendar.holiday_name(date(2025, 3, 9)) is None
    assert not calendar.is_business_day(date(2025, 3, 9))
