"""Invoice issue and due dates for standard and grouped Kravia invoices.

* Standard (``kravia.invoice_b2b``, ``kravia.invoice_b2c``): issued on the purchase's
  local date, due ``days_until_due`` calendar days later.
* Grouped (``kravia.invoice_b2b_grouped``): issued on the first business day after the
  purchase's billing period ends, due ``days_until_due`` calendar days after issue.

"Local date" is the calendar date in the customer's country: a purchase at 23:30 UTC on
31 January is on 1 February in Oslo and belongs to February's invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from kravia_schedule.calendar import BusinessCalendar, DateRoll, SkippedDay
from kravia_schedule.countries import Country, parse_country
from kravia_schedule.errors import CalendarRangeError, InvalidArgument, NaiveDatetimeError
from kravia_schedule.periods import BillingPeriod, Interval, billing_period
from kravia_schedule.statutory import PaymentDeadline, deadline_or_none

__all__ = [
    "DEFAULT_DAYS_UNTIL_DUE",
    "MAX_DAYS_UNTIL_DUE",
    "InvoiceDates",
    "check_days_until_due",
    "check_due_date_rule",
    "day_invoice_dates",
    "grouped_invoice_dates",
    "local_date",
    "period_invoice_dates",
    "standard_invoice_dates",
]

DEFAULT_DAYS_UNTIL_DUE = 14
MAX_DAYS_UNTIL_DUE = 365


@dataclass(frozen=True, slots=True)
class InvoiceDates:
    """When an invoice is issued and due; ``period`` is set for grouped invoices.

    ``issue_skipped`` lists the non-business days the issue date was moved past (grouped
    only) and ``due_skipped`` those the due date was moved past (``due_date_rule``).
    """

    issue_date: date
    due_date: date
    period: BillingPeriod | None = None
    issue_skipped: tuple[SkippedDay, ...] = ()
    due_skipped: tuple[SkippedDay, ...] = ()
    #: The statutory roll of the due date (``None`` beyond the holiday data, after 2100).
    payment_deadline: PaymentDeadline | None = None

    @property
    def days_until_due(self) -> int:
        return (self.due_date - self.issue_date).days

    @property
    def last_on_time_payment_date(self) -> date | None:
        """The last day payment is on time: the due date moved by the country's law."""
        return self.payment_deadline.last_on_time if self.payment_deadline else None


def local_date(when: date | datetime, country: Country | str) -> date:
    """The calendar date of ``when`` in ``country``'s time zone.

    A plain ``date`` is taken as already local. A naive ``datetime`` raises
    :class:`NaiveDatetimeError`: guessing UTC would put late-evening purchases on the
    wrong day, and so on the wrong invoice.
    """
    if isinstance(when, datetime):
        if when.tzinfo is None or when.utcoffset() is None:
            raise NaiveDatetimeError(
                f"datetime {when.isoformat()} has no time zone; give an aware datetime "
                "(e.g. with tzinfo=UTC) or a local date"
            )
        return when.astimezone(parse_country(country).zone).date()
    if isinstance(when, date):
        return when
    raise InvalidArgument(f"expected a date or an aware datetime, got {type(when).__name__}")


def check_days_until_due(days: object) -> int:
    """``days`` if it is an integer 0–365 (bools and floats are refused), else ValueError."""
    if isinstance(days, bool) or not isinstance(days, int):
        raise InvalidArgument(f"days_until_due must be an integer 0–365, got {days!r}")
    if not 0 <= days <= MAX_DAYS_UNTIL_DUE:
        raise InvalidArgument(f"days_until_due must be between 0 and 365, got {days}")
    return days


def check_due_date_rule(rule: DateRoll | str) -> DateRoll:
    """The rule for due dates: ``unadjusted`` or ``following`` (a due date never moves back)."""
    try:
        value = DateRoll(rule)
    except ValueError:
        value = None
    if value not in (DateRoll.UNADJUSTED, DateRoll.FOLLOWING):
        raise InvalidArgument(f"due_date_rule must be 'unadjusted' or 'following', got {rule!r}")
    return value


def _after(day: date, days: int) -> date:
    """``day`` plus ``days``; a date past what Python represents (year 9999) is as far
    outside the calendar as one past the holiday data."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        raise CalendarRangeError(
            f"{days} day{'s' * (days != 1)} after {day.isoformat()} is past the last date "
            "there is (9999-12-31)"
        ) from None


def _due(
    issue: date, days: int, calendar: BusinessCalendar, rule: DateRoll
) -> tuple[date, tuple[SkippedDay, ...]]:
    due = _after(issue, check_days_until_due(days))
    if check_due_date_rule(rule) is DateRoll.UNADJUSTED:
        return due, ()  # calendar days: needs no holiday data, so no horizon
    return calendar.roll_forward(due), calendar.explain(due)


def period_invoice_dates(
    period: BillingPeriod,
    calendar: BusinessCalendar,
    days_until_due: int = DEFAULT_DAYS_UNTIL_DUE,
    due_date_rule: DateRoll | str = DateRoll.UNADJUSTED,
) -> InvoiceDates:
    """Issue and due date of the grouped invoice for ``period`` (cached per argument set)."""
    # Validate before the cache: it would treat 14.0 and True as the equal 14 and 1.
    days = check_days_until_due(days_until_due)
    return _period_invoice_dates(period, calendar, days, check_due_date_rule(due_date_rule))


@lru_cache(maxsize=65536)
def _period_invoice_dates(
    period: BillingPeriod, calendar: BusinessCalendar, days: int, rule: DateRoll
) -> InvoiceDates:
    first_after = _after(period.end, 1)
    issue_skipped = calendar.explain(first_after)
    issue = _after(first_after, len(issue_skipped))
    due, due_skipped = _due(issue, days, calendar, rule)
    deadline = deadline_or_none(due, calendar.country)
    return InvoiceDates(issue, due, period, issue_skipped, due_skipped, deadline)


def day_invoice_dates(
    day: date,
    calendar: BusinessCalendar,
    days_until_due: int = DEFAULT_DAYS_UNTIL_DUE,
    due_date_rule: DateRoll | str = DateRoll.UNADJUSTED,
) -> InvoiceDates:
    """Dates of a standard invoice issued on the local date ``day``."""
    due, due_skipped = _due(day, days_until_due, calendar, check_due_date_rule(due_date_rule))
    return InvoiceDates(day, due, None, (), due_skipped, deadline_or_none(due, calendar.country))


def _calendar(country: Country | str, calendar: BusinessCalendar | None) -> BusinessCalendar:
    if calendar is None:
        return BusinessCalendar(country)
    if calendar.country != parse_country(country):
        raise InvalidArgument(f"calendar is for {calendar.country.value}, not for {country}")
    return calendar


def grouped_invoice_dates(
    when: date | datetime,
    *,
    country: Country | str,
    interval: Interval | str = Interval.MONTHLY,
    days_until_due: int = DEFAULT_DAYS_UNTIL_DUE,
    due_date_rule: DateRoll | str = DateRoll.UNADJUSTED,
    calendar: BusinessCalendar | None = None,
) -> InvoiceDates:
    """Dates of the grouped invoice that a purchase made at ``when`` lands on.

    >>> from datetime import date
    >>> grouped_invoice_dates(date(2021, 2, 10), country="NO", interval="quarterly").issue_date
    datetime.date(2021, 4, 6)
    """
    cal = _calendar(country, calendar)
    period = billing_period(local_date(when, cal.country), interval)
    return period_invoice_dates(period, cal, days_until_due, due_date_rule)


def standard_invoice_dates(
    when: date | datetime,
    *,
    country: Country | str,
    days_until_due: int = DEFAULT_DAYS_UNTIL_DUE,
    due_date_rule: DateRoll | str = DateRoll.UNADJUSTED,
    calendar: BusinessCalendar | None = None,
) -> InvoiceDates:
    """Dates of a standard (B2B or B2C) invoice: issued on the purchase's local date."""
    cal = _calendar(country, calendar)
    return day_invoice_dates(local_date(when, cal.country), cal, days_until_due, due_date_rule)
