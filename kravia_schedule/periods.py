"""Billing periods: calendar months and calendar quarters.

A grouped invoice collects one customer's purchases of one period; the period's label
(``2025-01``, ``2025-Q1``) is part of the invoice id, so labels are stable and parseable.
"""

from __future__ import annotations

import calendar as _stdcal
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from dateutil.relativedelta import relativedelta

from kravia_schedule.errors import InvalidArgument

__all__ = ["BillingPeriod", "Interval", "billing_period", "parse_interval", "periods_in_year"]


class Interval(StrEnum):
    """How often a grouped invoice is issued (``invoice_schedule.interval``)."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"

    @property
    def months(self) -> int:
        return 1 if self is Interval.MONTHLY else 3


@dataclass(frozen=True, slots=True, order=True)
class BillingPeriod:
    """A closed range of days ``start..end`` (both inclusive) that one invoice covers."""

    start: date
    end: date
    interval: Interval
    #: ``2025-01`` for a month, ``2025-Q1`` for a quarter (derived; part of invoice ids).
    label: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.interval is Interval.MONTHLY:
            label = f"{self.start.year:04d}-{self.start.month:02d}"
        else:
            label = f"{self.start.year:04d}-Q{(self.start.month - 1) // 3 + 1}"
        object.__setattr__(self, "label", label)

    def __contains__(self, day: object) -> bool:
        if isinstance(day, datetime):
            raise TypeError("a billing period holds local dates; use local_date(when, country)")
        return isinstance(day, date) and self.start <= day <= self.end

    def next(self) -> BillingPeriod:
        """The period that starts the day after this one ends."""
        return billing_period(self.end + timedelta(days=1), self.interval)

    def previous(self) -> BillingPeriod:
        """The period that ends the day before this one starts."""
        return billing_period(self.start - timedelta(days=1), self.interval)

    @classmethod
    def parse(cls, label: str) -> BillingPeriod:
        """Inverse of :attr:`label`: ``BillingPeriod.parse("2024-Q2")``."""
        match = _LABEL.fullmatch(label.strip()) if isinstance(label, str) else None
        if match is None:
            raise ValueError(f"not a billing period label (2025-01 or 2025-Q1): {label!r}")
        year = int(match["year"])
        if match["quarter"]:
            return billing_period(date(year, 3 * int(match["quarter"]) - 2, 1), Interval.QUARTERLY)
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise ValueError(f"month out of range in {label!r}")
        return billing_period(date(year, month, 1), Interval.MONTHLY)

    def __str__(self) -> str:
        return self.label


_LABEL = re.compile(r"(?P<year>[0-9]{4})-(?:Q(?P<quarter>[1-4])|(?P<month>[0-9]{2}))")


def parse_interval(value: object) -> Interval:
    """The :class:`Interval` ``value`` names; :class:`InvalidArgument` for any other.

    >>> parse_interval("quarterly")
    <Interval.QUARTERLY: 'quarterly'>
    >>> parse_interval("weekly")
    Traceback (most recent call last):
    ...
    kravia_schedule.errors.InvalidArgument: unknown interval 'weekly' (monthly, quarterly)
    """
    if isinstance(value, Interval):
        return value
    try:
        return Interval(value)  # type: ignore[arg-type]
    except ValueError:
        names = ", ".join(i.value for i in Interval)
        raise InvalidArgument(f"unknown interval {value!r} ({names})") from None


def billing_period(day: date, interval: Interval | str = Interval.MONTHLY) -> BillingPeriod:
    """The month or quarter (Q1 Jan–Mar, …, Q4 Oct–Dec) that contains ``day``."""
    interval = parse_interval(interval)
    if not isinstance(day, date):
        raise InvalidArgument(f"billing_period takes a date, got {type(day).__name__}")
    first_month = day.month if interval is Interval.MONTHLY else 3 * ((day.month - 1) // 3) + 1
    return _period(day.year, first_month, interval)


@lru_cache(maxsize=8192)
def _period(year: int, first_month: int, interval: Interval) -> BillingPeriod:
    start = date(year, first_month, 1)
    last = start + relativedelta(months=interval.months - 1)
    end = last.replace(day=_stdcal.monthrange(last.year, last.month)[1])
    return BillingPeriod(start, end, interval)


def periods_in_year(year: int, interval: Interval | str) -> tuple[BillingPeriod, ...]:
    """The 12 months or 4 quarters of ``year``, in order."""
    interval = parse_interval(interval)
    if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
        raise InvalidArgument(f"a year is an integer 1-9999, got {year!r}")
    return tuple(
        billing_period(date(year, month, 1), interval) for month in range(1, 13, interval.months)
    )
