"""Business-day calendars for the Kravia markets, in the spirit of QuantLib's ``Calendar``.

A business day is Monday–Friday and not a public holiday of the country, as the
``holidays`` package gives it with its default categories (``public``; for Finland this
already includes Midsummer Eve and Christmas Eve). Callers may add closed days of their
own, or ask for the literal reading of the product documents (``weekends_only=True``:
only Saturday and Sunday move an issue date).

Holiday data is read once per (country, year) into an immutable mapping: the
``holidays`` objects populate lazily and are not thread-safe, so they are never shared.
Dates outside the years the package covers raise :class:`CalendarRangeError` instead of
quietly having no holidays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from importlib.metadata import version as _dist_version
from types import MappingProxyType

import holidays as _holidays

from kravia_schedule.countries import Country, parse_country
from kravia_schedule.errors import CalendarRangeError, InvalidArgument
from kravia_schedule.payment_closures import payment_system_closures

__all__ = [
    "HOLIDAYS_VERSION",
    "BusinessCalendar",
    "CalendarKind",
    "DateRoll",
    "SkippedDay",
    "describe_skipped",
    "holiday_categories",
    "holiday_data_years",
]

#: The installed ``holidays`` release; its data decides which days are holidays.
HOLIDAYS_VERSION = _dist_version("holidays")

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_NAME_LANGUAGE = "en_US"
# The longest run of closed days in these countries is well under this; the bound only
# guards against a caller closing every day.
_MAX_ROLL_DAYS = 366


class CalendarKind(StrEnum):
    """Which closed days a calendar knows, beyond Saturday and Sunday.

    * ``public``: the country's public holidays (the ``holidays`` package's ``public``
      category). Issue dates of grouped invoices use this kind.
    * ``bank``: the days banks do not settle payments. NO: public holidays and Christmas
      Eve; SE: public holidays and the de-facto holidays Midsummer Eve, Christmas Eve and
      New Year's Eve (the ``de_facto`` category, not ``bank``, whose "from 2 pm" half days
      are ordinary bank days); FI: public holidays (they include both eves).
    * ``payment``: the days a payment deadline does not end on, by each country's law
      (see :mod:`kravia_schedule.statutory`). NO, gjeldsbrevloven § 5: Saturday, Sunday,
      public holidays, 1 and 17 May (both public holidays); SE, skuldebrevslagen 5 §:
      Saturday, Sunday, public holidays, Midsummer Eve, Christmas Eve, New Year's Eve;
      FI, velkakirjalaki 5 §: Saturday, holidays (Sundays included), Independence Day,
      1 May, Christmas Eve, Midsummer Eve (all in the ``public`` category), and the days
      the Bank of Finland announced the payment systems closed
      (:mod:`kravia_schedule.payment_closures`, e.g. 31 December 1999).
    """

    PUBLIC = "public"
    BANK = "bank"
    PAYMENT = "payment"


# The holidays categories per (country, kind), and fixed days the package does not have.
_CATEGORIES: dict[tuple[Country, CalendarKind], tuple[str, ...]] = {
    (Country.NO, CalendarKind.PUBLIC): ("public",),
    (Country.NO, CalendarKind.BANK): ("public",),
    (Country.NO, CalendarKind.PAYMENT): ("public",),
    (Country.SE, CalendarKind.PUBLIC): ("public",),
    (Country.SE, CalendarKind.BANK): ("public", "de_facto"),
    (Country.SE, CalendarKind.PAYMENT): ("public", "de_facto"),
    (Country.FI, CalendarKind.PUBLIC): ("public",),
    (Country.FI, CalendarKind.BANK): ("public",),
    (Country.FI, CalendarKind.PAYMENT): ("public",),
}
_EXTRA_DAYS: dict[tuple[Country, CalendarKind], tuple[tuple[int, int, str], ...]] = {
    # Norges Bank's settlement system (NBO) is closed on 24 December ("Settlement days",
    # norges-bank.no); the holidays package has no Norwegian category for it.
    (Country.NO, CalendarKind.BANK): ((12, 24, "Christmas Eve"),),
}


class DateRoll(StrEnum):
    """What to do with a date that is not a business day (QuantLib's conventions)."""

    UNADJUSTED = "unadjusted"
    FOLLOWING = "following"
    PRECEDING = "preceding"


@dataclass(frozen=True, slots=True)
class SkippedDay:
    """A day that is not a business day, and why."""

    day: date
    weekend: bool
    holiday: str | None = None
    closed: str | None = None

    @property
    def reason(self) -> str:
        """``"Saturday"``, ``"Good Friday"``, ``"Easter Sunday (Sunday)"``, …"""
        named = [name for name in (self.holiday, self.closed) if name]
        weekday = _WEEKDAY_NAMES[self.day.weekday()]
        if not named:
            return weekday
        text = "; ".join(named)
        return f"{text} ({weekday})" if self.weekend else text

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.day.strftime('%a')}: {self.reason}"


def describe_skipped(days: Iterable[SkippedDay]) -> str:
    """``"1 Apr Maundy Thursday, 2 Apr Good Friday"``: skipped days for a one-line explanation."""
    return ", ".join(f"{d.day.day} {d.day.strftime('%b')} {d.reason}" for d in days)


def holiday_categories(kind: CalendarKind | str = CalendarKind.PUBLIC) -> dict[str, list[str]]:
    """The ``holidays`` categories each country's calendar of ``kind`` is built from."""
    kind = CalendarKind(kind)
    return {c.value: list(_CATEGORIES[c, kind]) for c in Country}


def holiday_data_years(country: Country | str) -> tuple[int, int]:
    """First and last year (inclusive) for which ``holidays`` has data for ``country``."""
    cls = type(_holidays.country_holidays(parse_country(country).value))
    return int(cls.start_year), int(cls.end_year)


@cache
def _closed_days(country: Country, kind: CalendarKind, year: int) -> Mapping[date, str]:
    """The named closed days of one (country, kind, year): built once, never mutated."""
    first, last = holiday_data_years(country)
    if not first <= year <= last:
        raise CalendarRangeError(
            f"no holiday data for {country.value} in {year}: the holidays package "
            f"{HOLIDAYS_VERSION} covers {first}–{last}"
        )
    data = _holidays.country_holidays(
        country.value, years=year, language=_NAME_LANGUAGE, categories=_CATEGORIES[country, kind]
    )
    days = {day: str(name) for day, name in data.items()}
    for month, day, name in _EXTRA_DAYS.get((country, kind), ()):
        days.setdefault(date(year, month, day), name)
    if kind is CalendarKind.PAYMENT:
        for closed, name in payment_system_closures(country, year).items():
            days.setdefault(closed, name)
    return MappingProxyType(dict(sorted(days.items())))


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Which days are business days in one country.

    ``BusinessCalendar("NO")`` is cheap to construct: the holiday data behind it is
    shared and cached per (country, year). Instances are immutable and hashable.

    ``closed_days`` adds days the caller treats as closed (a mapping of date to reason,
    or an iterable of dates). ``weekends_only=True`` ignores public holidays.
    """

    country: Country
    weekends_only: bool = False
    closed_days: Mapping[date, str] = field(default_factory=dict)
    kind: CalendarKind = CalendarKind.PUBLIC

    def __init__(
        self,
        country: Country | str,
        *,
        kind: CalendarKind | str = CalendarKind.PUBLIC,
        weekends_only: bool = False,
        closed_days: Mapping[date, str] | Iterable[date] = (),
    ) -> None:
        object.__setattr__(self, "country", parse_country(country))
        try:
            object.__setattr__(self, "kind", CalendarKind(kind))
        except ValueError:
            kinds = ", ".join(k.value for k in CalendarKind)
            raise InvalidArgument(f"unknown calendar kind {kind!r} ({kinds})") from None
        object.__setattr__(self, "weekends_only", bool(weekends_only))
        if isinstance(closed_days, Mapping):
            closed = {d: str(reason) for d, reason in closed_days.items()}
        else:
            closed = dict.fromkeys(closed_days, "closed")
        for day in closed:
            if not isinstance(day, date):
                raise InvalidArgument(f"closed_days must hold dates, got {day!r}")
        object.__setattr__(self, "closed_days", MappingProxyType(dict(sorted(closed.items()))))

    def __hash__(self) -> int:
        return hash((self.country, self.kind, self.weekends_only, tuple(self.closed_days.items())))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BusinessCalendar):
            return NotImplemented
        return (self.country, self.kind, self.weekends_only, dict(self.closed_days)) == (
            other.country,
            other.kind,
            other.weekends_only,
            dict(other.closed_days),
        )

    def __repr__(self) -> str:
        extra = f", kind={self.kind.value!r}" if self.kind is not CalendarKind.PUBLIC else ""
        extra += ", weekends_only=True" if self.weekends_only else ""
        if self.closed_days:
            extra += f", closed_days=<{len(self.closed_days)} days>"
        return f"BusinessCalendar({self.country.value!r}{extra})"

    # -- questions about one day -------------------------------------------------------

    def holidays(self, year: int) -> Mapping[date, str]:
        """The named closed days of ``year`` for this kind (empty for weekends-only)."""
        if self.weekends_only:
            return MappingProxyType({})
        return _closed_days(self.country, self.kind, year)

    def holiday_name(self, day: date) -> str | None:
        """The English name of the holiday (or closed eve) on ``day``, or ``None``."""
        if self.weekends_only:
            return None
        return _closed_days(self.country, self.kind, day.year).get(day)

    def skipped(self, day: date) -> SkippedDay | None:
        """Why ``day`` is not a business day, or ``None`` when it is one."""
        weekend = day.weekday() >= 5
        holiday = self.holiday_name(day)
        closed = self.closed_days.get(day)
        if weekend or holiday or closed:
            return SkippedDay(day, weekend, holiday, closed)
        return None

    def is_business_day(self, day: date) -> bool:
        """Monday–Friday, not a public holiday, not a caller-closed day."""
        if self.weekends_only:
            return day.weekday() < 5 and day not in self.closed_days
        holidays = _closed_days(
            self.country, self.kind, day.year
        )  # raises outside the data's years
        return day.weekday() < 5 and day not in holidays and day not in self.closed_days

    # -- moving dates ------------------------------------------------------------------

    def roll_forward(self, day: date) -> date:
        """The first business day on or after ``day``."""
        return self._walk(day, 1)[0]

    def roll_backward(self, day: date) -> date:
        """The last business day on or before ``day``."""
        return self._walk(day, -1)[0]

    def adjust(self, day: date, rule: DateRoll | str = DateRoll.FOLLOWING) -> date:
        """Move ``day`` to a business day by ``rule`` (unadjusted leaves it as it is)."""
        rule = DateRoll(rule)
        if rule is DateRoll.UNADJUSTED:
            return day
        return self.roll_forward(day) if rule is DateRoll.FOLLOWING else self.roll_backward(day)

    def advance(self, day: date, business_days: int) -> date:
        """Move ``business_days`` business days from ``day`` (negative goes back).

        ``advance(d, 0)`` is ``roll_forward(d)``, as in QuantLib.
        """
        if business_days == 0:
            return self.roll_forward(day)
        step = 1 if business_days > 0 else -1
        current = day
        for _ in range(abs(business_days)):
            current = self._walk(current + timedelta(days=step), step)[0]
        return current

    def explain(self, day: date) -> tuple[SkippedDay, ...]:
        """The days :meth:`roll_forward` skips from ``day``, each with its reason.

        Empty when ``day`` is itself a business day.
        """
        return self._walk(day, 1)[1]

    def business_days(self, start: date, end: date) -> list[date]:
        """All business days in ``start..end`` (inclusive)."""
        days = []
        current = start
        while current <= end:
            if self.is_business_day(current):
                days.append(current)
            current += timedelta(days=1)
        return days

    def _walk(self, day: date, step: int) -> tuple[date, tuple[SkippedDay, ...]]:
        skipped: list[SkippedDay] = []
        current = day
        for _ in range(_MAX_ROLL_DAYS):
            reason = self.skipped(current)
            if reason is None:
                return current, tuple(skipped)
            skipped.append(reason)
            try:
                current += timedelta(days=step)
            except OverflowError:
                raise CalendarRangeError(
                    f"no business day after {current} up to 9999-12-31"
                ) from None
        # Closed days without end leave no business day to issue or pay on: as far
        # outside the calendar as a date past the holiday data.
        raise CalendarRangeError(f"no business day within {_MAX_ROLL_DAYS} days of {day}")

    def describe(self) -> dict[str, object]:
        """The options that define this calendar, for a plan's provenance record."""
        return {
            "country": self.country.value,
            "weekends_only": self.weekends_only,
            "closed_days": {d.isoformat(): r for d, r in self.closed_days.items()},
            "kind": self.kind.value,
            "holiday_categories": []
            if self.weekends_only
            else list(_CATEGORIES[self.country, self.kind]),
        }
