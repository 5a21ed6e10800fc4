"""The options of a plan, declared once and shared by every entry point.

:func:`~kravia_schedule.plan_invoices`, the columnar ``plan_frame``/``plan_frames``/
``plan_parquet`` and the Spark engine take the same seven options, either as keywords or
as one :class:`PlanOptions`; the plan records them in its provenance.

>>> from datetime import date
>>> options = PlanOptions.of(as_of=date(2025, 3, 1), due_date_rule="following")
>>> options.due_date_rule, options.calendar_kind
(<DateRoll.FOLLOWING: 'following'>, <CalendarKind.PUBLIC: 'public'>)
>>> PlanOptions.of(due_date_rule="preceding")
Traceback (most recent call last):
...
kravia_schedule.errors.InvalidOption: invalid plan options: due_date_rule: must be 'unadjusted' or 'following', got 'preceding'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypedDict, Unpack

from kravia_schedule.calendar import BusinessCalendar, CalendarKind, DateRoll
from kravia_schedule.countries import Country, parse_country
from kravia_schedule.dates import check_due_date_rule, local_date
from kravia_schedule.errors import FieldProblem, InvalidOption

__all__ = ["PlanOptions", "PlanOptionsArgs"]

ClosedDays = Mapping[Country | str, Iterable[date] | Mapping[date, str]]


class PlanOptionsArgs(TypedDict, total=False):
    """The options as keyword arguments (see :class:`PlanOptions`)."""

    as_of: date | datetime | None
    strict: bool
    weekends_only: bool
    closed_days: ClosedDays | None
    due_date_rule: DateRoll | str
    calendar_kind: CalendarKind | str
    require_vat: bool


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """How a plan is computed, besides the configuration.

    * ``as_of``: a local date (or an aware datetime, read in each customer's zone) that
      gives every invoice a state (``open``, ``scheduled``, ``ready``).
    * ``strict``: verify organization-number check digits.
    * ``weekends_only``: only Saturday and Sunday move a date (the documents' literal
      reading); ``closed_days``: further closed days per country, with their reasons.
    * ``due_date_rule``: ``unadjusted`` (calendar days after issue) or ``following``.
    * ``calendar_kind``: issue on ``public`` business days, ``bank`` days or ``payment``
      days.
    * ``require_vat``: reject a purchase whose VAT nothing gives (by default it is
      planned, its VAT unknown: ``None``, never zero).

    Build one with :meth:`of`, which checks and normalizes each option.
    """

    as_of: date | datetime | None = None
    strict: bool = False
    weekends_only: bool = False
    #: ``(country, day, reason)``, sorted by country then day.
    closed_days: tuple[tuple[Country, date, str], ...] = ()
    due_date_rule: DateRoll = DateRoll.UNADJUSTED
    calendar_kind: CalendarKind = CalendarKind.PUBLIC
    require_vat: bool = False

    @classmethod
    def of(
        cls, options: PlanOptions | None = None, /, **changes: Unpack[PlanOptionsArgs]
    ) -> PlanOptions:
        """``options`` (or the defaults) with ``changes``, each checked; raises
        :class:`InvalidOption` naming every option that is wrong."""
        if options is not None and not changes:
            return options
        base = options if options is not None else cls()
        given: dict[str, Any] = {
            "as_of": base.as_of,
            "strict": base.strict,
            "weekends_only": base.weekends_only,
            "closed_days": _by_country(base.closed_days),
            "due_date_rule": base.due_date_rule,
            "calendar_kind": base.calendar_kind,
            "require_vat": base.require_vat,
            **changes,
        }
        unknown = set(changes) - set(PlanOptionsArgs.__annotations__)
        problems = [FieldProblem(name, "is not a plan option") for name in sorted(unknown)]
        problems += _problems(given)
        if problems:
            raise InvalidOption(problems)
        kind = CalendarKind(given["calendar_kind"])
        closed = {parse_country(c): days for c, days in (given["closed_days"] or {}).items()}
        calendars = _calendars(kind, given["weekends_only"], closed)
        return cls(
            given["as_of"],
            given["strict"],
            given["weekends_only"],
            tuple((c, d, r) for c in Country for d, r in calendars[c].closed_days.items()),
            check_due_date_rule(given["due_date_rule"]),
            kind,
            given["require_vat"],
        )

    def calendars(self) -> dict[Country, BusinessCalendar]:
        """The business calendar of each country under these options."""
        return _calendars(self.calendar_kind, self.weekends_only, _by_country(self.closed_days))

    def to_dict(self) -> dict[str, Any]:
        """The options in JSON form (as a plan's provenance prints them)."""
        return {
            "as_of": self.as_of.isoformat() if self.as_of is not None else None,
            "strict": self.strict,
            "weekends_only": self.weekends_only,
            "due_date_rule": self.due_date_rule.value,
            "closed_days": [[c.value, d.isoformat(), r] for c, d, r in self.closed_days],
            "calendar_kind": self.calendar_kind.value,
            "require_vat": self.require_vat,
        }


def _by_country(closed: Iterable[tuple[Country, date, str]]) -> dict[Country, dict[date, str]]:
    out: dict[Country, dict[date, str]] = {}
    for country, day, reason in closed:
        out.setdefault(country, {})[day] = reason
    return out


def _calendars(
    kind: CalendarKind, weekends_only: bool, closed: Mapping[Country, Any]
) -> dict[Country, BusinessCalendar]:
    return {
        c: BusinessCalendar(
            c, kind=kind, weekends_only=weekends_only, closed_days=closed.get(c, ())
        )
        for c in Country
    }


def _problems(given: Mapping[str, Any]) -> list[FieldProblem]:
    """What is wrong with each option."""
    problems = []
    as_of = given["as_of"]
    if as_of is not None:
        try:
            # A naive datetime raises NaiveDatetimeError, before any work.
            local_date(as_of, Country.NO)
        except TypeError as error:
            problems.append(FieldProblem("as_of", str(error)))
    for name in ("strict", "weekends_only", "require_vat"):
        if not isinstance(given[name], bool):
            problems.append(FieldProblem(name, f"must be true or false, got {given[name]!r}"))
    try:
        check_due_date_rule(given["due_date_rule"])
    except ValueError as error:
        problems.append(FieldProblem("due_date_rule", str(error).removeprefix("due_date_rule ")))
    try:
        CalendarKind(given["calendar_kind"])
    except ValueError:
        kinds = ", ".join(repr(k.value) for k in CalendarKind)
        problems.append(
            FieldProblem("calendar_kind", f"must be one of {kinds}, got {given['calendar_kind']!r}")
        )
    closed = given["closed_days"]
    if closed is not None and not isinstance(closed, Mapping):
        problems.append(FieldProblem("closed_days", "must map a country to its closed days"))
    elif closed:
        for country, days in closed.items():
            try:
                code = parse_country(country).value
            except ValueError as error:
                problems.append(FieldProblem(f"closed_days.{country}", str(error)))
                continue
            values = days.keys() if isinstance(days, Mapping) else days
            try:
                bad = [d for d in values if not isinstance(d, date)]
            except TypeError:
                bad = [days]
            if bad:
                problems.append(
                    FieldProblem(f"closed_days.{code}", f"must hold dates, got {bad[0]!r}")
                )
    return problems
