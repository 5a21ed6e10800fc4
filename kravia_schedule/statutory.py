"""When a payment is still on time: each country's statutory due-date roll.

A contractual due date that falls on a day that does not count moves to the next day
that does, by law:

* Norway, gjeldsbrevloven § 5: Saturday, Sunday, public holidays, 1 May and 17 May.
* Sweden, skuldebrevslagen 5 §: Saturday, Sunday, public holidays, Midsummer Eve,
  Christmas Eve and New Year's Eve.
* Finland, velkakirjalaki 5 § 2 mom.: Saturday, holidays (Sundays included),
  Independence Day, 1 May, Christmas Eve and Midsummer Eve; and, since law 958/1999,
  days on which the Bank of Finland announced in the Statute Book that the payment
  systems between banks are not in use (:mod:`kravia_schedule.payment_closures` lists
  them with their notices: 31 December 1999).

The days are those of :class:`~kravia_schedule.calendar.BusinessCalendar` with
``kind="payment"``. The roll never moves a date backwards.

The EU late-payment directive (2011/7/EU, in Norway through the EEA) caps business-to-
business payment terms at 60 days unless expressly agreed and not grossly unfair to the
creditor: :meth:`KraviaConfig.warnings <kravia_schedule.config.KraviaConfig.warnings>`
flags longer terms in a configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from kravia_schedule.calendar import BusinessCalendar, CalendarKind, SkippedDay, describe_skipped
from kravia_schedule.countries import Country, parse_country
from kravia_schedule.errors import CalendarRangeError

__all__ = [
    "PAYMENT_RULES",
    "PaymentDeadline",
    "PaymentRule",
    "last_on_time_payment_date",
]


@dataclass(frozen=True, slots=True)
class PaymentRule:
    """A country's statutory rule for a due date on a day that does not count."""

    country: Country
    law: str
    days_not_counting: str

    def __str__(self) -> str:
        return f"{self.law}: {self.days_not_counting} do not count"


PAYMENT_RULES: dict[Country, PaymentRule] = {
    Country.NO: PaymentRule(
        Country.NO, "gjeldsbrevloven § 5", "Saturday, Sunday, public holidays, 1 May and 17 May"
    ),
    Country.SE: PaymentRule(
        Country.SE,
        "skuldebrevslagen 5 §",
        "Saturday, Sunday, public holidays, Midsummer Eve, Christmas Eve and New Year's Eve",
    ),
    Country.FI: PaymentRule(
        Country.FI,
        "velkakirjalaki 5 §",
        "Saturday, holidays, Independence Day, 1 May, Christmas Eve, Midsummer Eve and "
        "days the Bank of Finland announced the payment systems closed",
    ),
}


@dataclass(frozen=True, slots=True)
class PaymentDeadline:
    """The contractual due date, the last day a payment is on time, and why they differ."""

    due_date: date
    last_on_time: date
    skipped: tuple[SkippedDay, ...]
    rule: PaymentRule

    def explain(self) -> str:
        """``"2025-05-19 (gjeldsbrevloven § 5: 17 May Constitution Day (Saturday), …)"``."""
        if not self.skipped:
            return f"{self.last_on_time} (the due date itself)"
        return f"{self.last_on_time} ({self.rule.law}: moved past {describe_skipped(self.skipped)})"


@lru_cache(maxsize=65536)
def _deadline(due: date, country: Country) -> PaymentDeadline:
    calendar = BusinessCalendar(country, kind=CalendarKind.PAYMENT)
    skipped = calendar.explain(due)
    return PaymentDeadline(due, calendar.roll_forward(due), skipped, PAYMENT_RULES[country])


def last_on_time_payment_date(due: date, country: Country | str) -> PaymentDeadline:
    """The last day a payment due on ``due`` in ``country`` is on time, with the rule cited.

    Raises :class:`CalendarRangeError` beyond the holiday data (after 2100).
    """
    return _deadline(due, parse_country(country))


def deadline_or_none(due: date, country: Country) -> PaymentDeadline | None:
    """:func:`last_on_time_payment_date`, or ``None`` beyond the holiday data's years.

    A due date may lie past 2100 (it is calendar days after issue and needs no holiday
    data); whether a payment then is on time cannot be known, and ``None`` says so.
    """
    try:
        return _deadline(due, country)
    except CalendarRangeError:
        return None
