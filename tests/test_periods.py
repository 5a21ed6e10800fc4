"""Tests for kravia_schedule.periods (billing months and quarters)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from kravia_schedule import BillingPeriod, Interval, billing_period, periods_in_year


@pytest.mark.parametrize(
    ("day", "start", "end", "label"),
    [
        pytest.param(date(2025, 1, 1), date(2025, 1, 1), date(2025, 1, 31), "2025-01", id="jan-first"),
        pytest.param(date(2025, 1, 31), date(2025, 1, 1), date(2025, 1, 31), "2025-01", id="jan-last"),
        pytest.param(date(2025, 2, 14), date(2025, 2, 1), date(2025, 2, 28), "2025-02", id="feb-2025"),
        pytest.param(date(2024, 2, 29), date(2024, 2, 1), date(2024, 2, 29), "2024-02", id="feb-2024-leap"),
        pytest.param(date(2000, 2, 10), date(2000, 2, 1), date(2000, 2, 29), "2000-02", id="feb-2000-leap"),
        pytest.param(date(2100, 2, 10), date(2100, 2, 1), date(2100, 2, 28), "2100-02", id="feb-2100-not-leap"),
        pytest.param(date(1900, 2, 1), date(1900, 2, 1), date(1900, 2, 28), "1900-02", id="feb-1900-not-leap"),
        pytest.param(date(2025, 4, 30), date(2025, 4, 1), date(2025, 4, 30), "2025-04", id="april-30"),
        pytest.param(date(2025, 12, 31), date(2025, 12, 1), date(2025, 12, 31), "2025-12", id="december"),
    ],
)  # fmt: skip
def test_monthly_period_boundaries(day: date, start: date, end: date, label: str) -> None:
    period = billing_period(day, "monthly")
    assert (period.start, period.end, period.label) == (start, end, label)
    assert period.interval is Interval.MONTHLY
    assert str(period) == label


def test_monthly_is_the_default_interval() -> None:
    assert billing_period(date(2025, 3, 3)) == billing_period(date(2025, 3, 3), Interval.MONTHLY)


@pytest.mark.parametrize(
    ("day", "start", "end", "label"),
    [
        pytest.param(date(2025, 1, 1), date(2025, 1, 1), date(2025, 3, 31), "2025-Q1", id="q1-start"),
        pytest.param(date(2025, 3, 31), date(2025, 1, 1), date(2025, 3, 31), "2025-Q1", id="q1-end"),
        pytest.param(date(2025, 4, 1), date(2025, 4, 1), date(2025, 6, 30), "2025-Q2", id="q2-start"),
        pytest.param(date(2025, 6, 30), date(2025, 4, 1), date(2025, 6, 30), "2025-Q2", id="q2-end"),
        pytest.param(date(2025, 8, 15), date(2025, 7, 1), date(2025, 9, 30), "2025-Q3", id="q3"),
        pytest.param(date(2025, 10, 1), date(2025, 10, 1), date(2025, 12, 31), "2025-Q4", id="q4-start"),
        pytest.param(date(2025, 12, 31), date(2025, 10, 1), date(2025, 12, 31), "2025-Q4", id="q4-end"),
        pytest.param(date(2024, 2, 29), date(2024, 1, 1), date(2024, 3, 31), "2024-Q1", id="leap-q1"),
    ],
)  # fmt: skip
def test_quarterly_period_boundaries(day: date, start: date, end: date, label: str) -> None:
    period = billing_period(day, Interval.QUARTERLY)
    assert (period.start, period.end, period.label) == (start, end, label)
    assert period.interval is Interval.QUARTERLY


@pytest.mark.parametrize(
    ("months", "quarter"),
    [((1, 2, 3), 1), ((4, 5, 6), 2), ((7, 8, 9), 3), ((10, 11, 12), 4)],
    ids=["Q1", "Q2", "Q3", "Q4"],
)
def test_every_month_lands_in_its_quarter(months: tuple[int, ...], quarter: int) -> None:
    for month in months:
        assert billing_period(date(2023, month, 15), "quarterly").label == f"2023-Q{quarter}"


def test_bad_interval() -> None:
    with pytest.raises(ValueError, match="weekly"):
        billing_period(date(2025, 1, 1), "weekly")


@pytest.mark.parametrize(
    "label",
    ["2025-01", "2025-12", "2024-02", "2100-02", "2025-Q1", "2025-Q4", "0001-01", "9999-Q4"],
)
def test_parse_round_trips(label: str) -> None:
    period = BillingPeriod.parse(label)
    assert period.label == label
    assert BillingPeriod.parse(period.label) == period


def test_parse_gives_the_right_period() -> None:
    assert BillingPeriod.parse("2024-02") == BillingPeriod(
        date(2024, 2, 1), date(2024, 2, 29), Interval.MONTHLY
    )
    assert BillingPeriod.parse("2024-Q2") == BillingPeriod(
        date(2024, 4, 1), date(2024, 6, 30), Interval.QUARTERLY
    )
    assert BillingPeriod.parse("  2024-Q3 ") == billing_period(date(2024, 8, 1), "quarterly")


@pytest.mark.parametrize(
    "label",
    ["2025-13", "2025-00", "2025-Q0", "2025-Q5", "2025-1", "25-01", "2025/01", "2025-q1",
     "2025-Q1x", "2025-01-01", "", "Q1-2025", "2025-M01"],
)  # fmt: skip
def test_parse_rejects_bad_labels(label: str) -> None:
    with pytest.raises(ValueError, match=r"label|range"):
        BillingPeriod.parse(label)


@pytest.mark.parametrize(
    ("label", "next_label", "previous_label"),
    [
        ("2025-01", "2025-02", "2024-12"),
        ("2024-12", "2025-01", "2024-11"),
        ("2024-02", "2024-03", "2024-01"),
        ("2025-Q1", "2025-Q2", "2024-Q4"),
        ("2025-Q4", "2026-Q1", "2025-Q3"),
    ],
)
def test_next_and_previous(label: str, next_label: str, previous_label: str) -> None:
    period = BillingPeriod.parse(label)
    assert period.next().label == next_label
    assert period.previous().label == previous_label
    assert period.next().previous() == period
    assert period.next().start.toordinal() == period.end.toordinal() + 1


def test_periods_in_year_monthly_cover_the_leap_year() -> None:
    months = periods_in_year(2024, "monthly")
    assert [p.label for p in months] == [f"2024-{m:02d}" for m in range(1, 13)]
    assert months[0].start == date(2024, 1, 1)
    assert months[-1].end == date(2024, 12, 31)
    assert sum((p.end - p.start).days + 1 for p in months) == 366
    for a, b in itertools.pairwise(months):
        assert a.next() == b


def test_periods_in_year_quarterly() -> None:
    quarters = periods_in_year(2100, Interval.QUARTERLY)
    assert [p.label for p in quarters] == ["2100-Q1", "2100-Q2", "2100-Q3", "2100-Q4"]
    assert [(p.start, p.end) for p in quarters] == [
        (date(2100, 1, 1), date(2100, 3, 31)),
        (date(2100, 4, 1), date(2100, 6, 30)),
        (date(2100, 7, 1), date(2100, 9, 30)),
        (date(2100, 10, 1), date(2100, 12, 31)),
    ]
    assert sum((p.end - p.start).days + 1 for p in quarters) == 365


@pytest.mark.parametrize(
    ("day", "inside"),
    [
        (date(2024, 1, 31), False),
        (date(2024, 2, 1), True),
        (date(2024, 2, 29), True),
        (date(2024, 3, 1), False),
    ],
    ids=str,
)
def test_in_operator(day: date, inside: bool) -> None:
    assert (day in BillingPeriod.parse("2024-02")) is inside


def test_in_operator_with_non_dates_is_false() -> None:
    period = BillingPeriod.parse("2024-02")
    assert "2024-02-10" not in period
    assert None not in period
    assert 20240210 not in period


def test_periods_are_ordered_and_hashable() -> None:
    q = periods_in_year(2025, "quarterly")
    shuffled = [q[2], q[0], q[3], q[1]]
    assert sorted(shuffled) == list(q)
    assert q[0] < q[1] < q[2] < q[3]
    assert len({BillingPeriod.parse("2025-Q1"), billing_period(date(2025, 2, 2), "quarterly")}) == 1
    assert BillingPeriod.parse("2025-01") != BillingPeriod.parse("2025-Q1")


def test_a_datetime_is_not_silently_tested_for_membership() -> None:
    period = billing_period(date(2024, 1, 5), Interval.MONTHLY)
    with pytest.raises(TypeError, match="local_date"):
        _ = datetime(2024, 1, 5, tzinfo=UTC) in period


FULLWIDTH_LABEL = "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in "2024-01")


@pytest.mark.parametrize("label", [None, 2024, FULLWIDTH_LABEL], ids=repr)
def test_parse_refuses_non_labels_with_value_error(label: object) -> None:
    with pytest.raises(ValueError, match="billing period label"):
        BillingPeriod.parse(label)  # type: ignore[arg-type]
