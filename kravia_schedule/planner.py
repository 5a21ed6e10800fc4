"""The planner behind :func:`~kravia_schedule.plan_invoices`: one pass over the records.

:mod:`kravia_schedule.planning` says what a plan is (its entry points read as the spec);
this module is how it is made fast. Per-purchase work is a few dictionary look-ups:
whatever depends on a few distinct values (a day's billing period, a period's dates, a
customer's normalized key, a billing address's validation) is computed once and
remembered. Every decision comes from :mod:`kravia_schedule.rules`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, time, timedelta
from itertools import chain
from operator import attrgetter, itemgetter
from typing import Any, TypeVar

from kravia_schedule import rules
from kravia_schedule._frozen import builder
from kravia_schedule.address import BillingAddress
from kravia_schedule.calendar import (
    BusinessCalendar,
    DateRoll,
)
from kravia_schedule.config import KraviaConfig, ProductType
from kravia_schedule.countries import Country
from kravia_schedule.customers import CustomerKey, customer_key
from kravia_schedule.dates import (
    InvoiceDates,
    day_invoice_dates,
    local_date,
    period_invoice_dates,
)
from kravia_schedule.errors import (
    CalendarRangeError,
    FieldProblem,
    InvalidPurchaseError,
)
from kravia_schedule.invoices import (
    Invoice,
    InvoiceLines,
    InvoicePlan,
    InvoiceState,
    LineTuple,
    PlanProvenance,
    Rejection,
    SkippedPurchase,
    total_vat,
)
from kravia_schedule.periods import BillingPeriod, Interval, billing_period
from kravia_schedule.purchases import ForeignRow, Purchase, PurchaseRow, RecordReader

__all__ = ["LocalDays", "Planner", "make_invoice"]


def _skipped(row: PurchaseRow | Purchase | ForeignRow, enabled: bool) -> SkippedPurchase:
    """Why a valid purchase goes on no invoice (:func:`rules.outcome`)."""
    result = rules.outcome(row.product_type, row.status, enabled=enabled)
    assert result.reason is not None, "an invoiced purchase was skipped"
    return SkippedPurchase(
        row.id, result.reason, result.detail, row.product_type, row.status, row.currency,
        row.amount, row.vat_amount,
    )  # fmt: skip


def _line(row: PurchaseRow | Purchase) -> LineTuple:
    return (row.created_at, row.id, row.amount, row.vat_amount, row.merchant_reference, row.items)


#: ``collect_young`` runs once per this many records (a power of two, less one).
_YOUNG_EVERY = (1 << 12) - 1


_ONE_DAY = timedelta(days=1)
_GROUPED = ProductType.B2B_GROUPED
_AMOUNT = itemgetter(2)  # InvoiceLine.amount
_VAT = itemgetter(3)  # InvoiceLine.vat_amount
_transaction_id = attrgetter("transaction_id")
#: The order of one customer's invoices (its part of :func:`_invoice_order`).
_within_customer = attrgetter("issue_date", "currency", "id")
_Row = PurchaseRow | Purchase | ForeignRow
#: A row that can go on an invoice.
_Kravia = PurchaseRow | Purchase
_K = TypeVar("_K")


class LocalDays:
    """Local dates in one country's zone, computed once per UTC day.

    For each UTC day the instant of the local midnight within it (if any) is found once
    with zoneinfo; a purchase then needs its timestamp and one comparison. A day whose
    local dates do not follow that pattern falls back to ``astimezone``.
    """

    def __init__(self, country: Country) -> None:
        self.zone = country.zone
        self.by_day: dict[int, tuple[float, date, date] | None] = {}

    def _day(self, utc_day: int) -> tuple[float, date, date] | None:
        start = utc_day * 86400
        first = datetime.fromtimestamp(start, self.zone).date()
        last = datetime.fromtimestamp(start + 86399, self.zone).date()
        if first == last:
            return (start + 86400.0, first, first)
        midnight = datetime.combine(last, time(0), tzinfo=self.zone).timestamp()
        if last - first != _ONE_DAY or not start < midnight < start + 86400:
            return None
        return (midnight, first, last)

    def __call__(self, when: datetime) -> date:
        try:
            ts = when.timestamp()
            utc_day = int(ts // 86400)
            if utc_day in self.by_day:
                entry = self.by_day[utc_day]
            else:
                entry = self.by_day[utc_day] = self._day(utc_day)
            if entry is None:
                return when.astimezone(self.zone).date()
        except (ValueError, OverflowError):  # e.g. 0001-01-01T00:00+01:00 is in year 0 UTC
            raise _out_of_range(when, self.zone.key) from None
        return entry[1] if ts < entry[0] else entry[2]


class _GroupedDays:
    """One country's grouped-invoice calendar for the planner: the billing period of a
    purchase's instant, computed once per UTC day, and each period's invoice dates.

    For each UTC day, :class:`LocalDays` gives the instant of the local midnight within
    it (if any) and the local dates before and after; this keeps the period start of
    each, so a purchase needs its timestamp, one look-up and one comparison. A day whose
    local dates do not follow that pattern is not cached and goes through ``astimezone``.
    """

    def __init__(
        self,
        country: Country,
        calendar: BusinessCalendar,
        interval: Interval,
        days_until_due: int,
        rule: DateRoll,
    ) -> None:
        self.country = country
        self.code = country.value
        self.local = LocalDays(country)
        self.calendar = calendar
        self.interval = interval
        self.days_until_due = days_until_due
        self.rule = rule
        #: UTC day (``timestamp // 86400``) -> (local midnight, period start before it,
        #: period start from it on).
        self.by_day: dict[float, tuple[float, date, date]] = {}
        self.dates: dict[date, InvoiceDates | CalendarRangeError] = {}

    def start(self, when: datetime, timestamp: float) -> date:
        """The start of the billing period ``when`` falls in (the slow path of a day not
        yet seen; caches the day when it follows the usual pattern)."""
        day = timestamp // 86400.0
        entry = self.local._day(int(day))
        if entry is None:
            return billing_period(self.local(when), self.interval).start
        midnight, before, after = entry
        starts = (midnight, billing_period(before, self.interval).start,
                  billing_period(after, self.interval).start)  # fmt: skip
        self.by_day[day] = starts
        return starts[1] if timestamp < midnight else starts[2]

    def period_dates(self, start: date) -> InvoiceDates:
        """The dates of the period starting on ``start`` (raises beyond the holiday data)."""
        dates = self.dates.get(start)
        if dates is None:
            period = billing_period(start, self.interval)
            try:
                dates = period_invoice_dates(period, self.calendar, self.days_until_due, self.rule)
            except CalendarRangeError as error:
                dates = error
            self.dates[start] = dates
        if isinstance(dates, CalendarRangeError):
            raise dates
        return dates


def _content(row: _Row) -> tuple[Any, ...]:
    """Everything of a record but its id: two records of one id are the same purchase
    exactly when these are equal."""
    return (row.created_at, row.amount, row.vat_amount, row.currency, row.status,
            row.product_type, row.billing_address, row.merchant_reference, row.items)  # fmt: skip


def _out_of_range(when: datetime, zone: str) -> CalendarRangeError:
    return CalendarRangeError(f"{when.isoformat()} is outside the dates Python can place in {zone}")


class _Place:
    """The invoice lines of one billing address object's grouped purchases.

    Nearly every address buys in one currency: its lines are keyed by period start
    alone, and those in any other currency by (currency, period start). A line, its
    place and its key give back the whole purchase (status ``AUTHORIZED``, product
    type grouped), which is all :meth:`Planner._settle_repeats` needs.
    """

    __slots__ = ("address", "by_start", "currency", "days", "other")

    def __init__(self, address: BillingAddress, currency: str, days: _GroupedDays) -> None:
        self.address = address
        self.currency = currency
        self.days = days
        self.by_start: dict[date, list[LineTuple]] = {}
        self.other: dict[tuple[str, date], list[LineTuple]] = {}

    def groups(self) -> Iterator[tuple[str, date, list[LineTuple]]]:
        for start, lines in self.by_start.items():
            yield self.currency, start, lines
        for (currency, start), lines in self.other.items():
            yield currency, start, lines


class _Customer:
    """Everything one normalized customer gets invoiced in a plan: the place (billing
    address object) its grouped purchases came from, any other spellings of it, and its
    standard invoices.

    Kept to two objects the cyclic collector tracks per customer (with its key): the
    first collection in :meth:`Planner.finish` walks all of them, and a dict of groups
    and a list and a tuple per group would make that walk several times as long.
    """

    __slots__ = ("days", "key", "others", "place", "prefix", "prefix_currency", "standard")

    def __init__(self, key: CustomerKey, days: _GroupedDays, place: _Place | None) -> None:
        self.key = key
        self.days = days
        self.place = place
        #: Further places of the same customer (spellings), if any.
        self.others: list[_Place] | None = None
        self.standard: list[tuple[_Kravia, InvoiceDates]] | None = None
        #: A grouped invoice id's digest, fed with all but the period, for one currency.
        self.prefix: Any = None
        self.prefix_currency: str | None = None

    def grouped_id(self, currency: str, period: BillingPeriod) -> str:
        """:func:`rules.grouped_invoice_id`, with the customer's part of the digest
        computed once (per currency: nearly every customer buys in one)."""
        prefix = self.prefix
        if prefix is None or currency != self.prefix_currency:
            prefix = self.prefix = rules.grouped_id_prefix(
                self.key, currency, period.interval.value
            )
            self.prefix_currency = currency
        return rules.grouped_invoice_id_from(prefix, period.label)

    def groups(self) -> Iterator[tuple[str, date, _Place, list[LineTuple]]]:
        """Each (currency, period start) of the customer's grouped purchases, with the
        place whose address the invoice shows and all the group's lines."""
        place = self.place
        if place is None:
            return
        if self.others is None:
            for currency, start, lines in place.groups():
                yield currency, start, place, lines
            return
        merged: dict[tuple[str, date], list[tuple[_Place, list[LineTuple]]]] = {}
        for part in (place, *self.others):
            for currency, start, lines in part.groups():
                merged.setdefault((currency, start), []).append((part, lines))
        for (currency, start), parts in merged.items():
            if len(parts) == 1:
                yield currency, start, *parts[0]
            else:  # spellings of one customer: the earliest purchase's address is shown
                shown = min(parts, key=_earliest_line)[0]
                yield currency, start, shown, [line for _, part in parts for line in part]

    def sort_key(self) -> tuple[str, str, str, str]:
        key = self.key
        return (self.days.code, key.organization_number, key.business_name,
                key.customer_reference)  # fmt: skip


def _earliest_line(part: tuple[_Place, list[LineTuple]]) -> LineTuple:
    return min(part[1])


def _drop_lines(groups: dict[_K, list[LineTuple]], ids: set[str]) -> None:
    """Take the lines of ``ids`` out of ``groups``, and the groups left empty."""
    for key, lines in list(groups.items()):
        kept = [line for line in lines if line[1] not in ids]
        if not kept:
            del groups[key]
        elif len(kept) != len(lines):
            groups[key] = kept


class Planner:
    """The state of one planning run; :meth:`run` takes the records.

    Per-purchase work is kept to a few dictionary look-ups: the things that depend on a
    few distinct values (a day's period, a period's dates, a customer's normalized key, a
    billing address's validation) are computed once each and remembered. Grouped
    purchases are kept per billing address object (:class:`_Place`), currency and period
    start; no object is allocated per typed purchase while grouping. :meth:`finish`
    merges the spellings of one customer and builds the invoices, customer by customer
    in the plan's order.
    """

    def __init__(
        self,
        config: KraviaConfig,
        calendars: Mapping[Country, BusinessCalendar],
        rule: DateRoll,
        strict: bool,
        as_of: date | datetime | None,
        collect_young: Callable[[], object] = lambda: None,
        *,
        require_vat: bool = False,
    ) -> None:
        self.products = {p: config.product(p) for p in ProductType}
        self.calendars = calendars
        self.rule = rule
        self.as_of = as_of
        self.collect_young = collect_young
        self.read = RecordReader(strict=strict, require_vat=require_vat)
        # A grouped line keeps its status implicit (one per plan): its place, key and
        # this give back the whole purchase when repeats are settled.
        invoiced = rules.GROUPED_INVOICED
        assert len(invoiced) <= 1, "the planner holds grouped lines of one status"
        self.grouped_status = next(iter(invoiced), None)
        grouped = self.products[_GROUPED]
        #: Per country: grouped periods, and (``.local``) the local date of any purchase.
        self.grouped_days = {
            c: _GroupedDays(c, calendars[c], grouped.interval, grouped.days_until_due, rule)
            for c in Country
        }
        self.rejected: list[Rejection] = []
        self.placement_rejected: list[tuple[_Row, int, CalendarRangeError]] = []
        self.skipped: list[_Row] = []
        self.standard: list[tuple[_Kravia, InvoiceDates]] = []
        #: id of a billing address object -> its grouped purchases (the place keeps the
        #: address alive, so the id stays its own).
        self.places: dict[int, _Place] = {}
        #: The transaction ids read so far; later records of an id wait in ``repeats``
        #: and are settled in :meth:`finish`. ``ids`` is each record's id by index
        #: (``None`` for one rejected unread), from which :meth:`_first_indices` finds
        #: where a repeated id first came: a set and a list cost less per purchase than
        #: a dict of first indices (and no int is kept per purchase), and repeats are
        #: rare.
        self.seen: set[str] = set()
        self.ids: list[str | None] = []
        self.repeats: dict[str, list[tuple[int, _Row]]] = {}

    def run(self, records: Iterable[object]) -> None:
        """Validate each record and put it in its group, in skipped, or in rejected.

        The hot path of a billing run: grouped ``AUTHORIZED`` purchases are handled
        inline with locals; everything else takes a method call.
        """
        seen = self.seen
        add_seen = seen.add
        add_id = self.ids.append
        places = self.places
        grouped_enabled = self.products[_GROUPED].enabled
        grouped_status = self.grouped_status
        collect_young = self.collect_young
        for index, record in enumerate(records):
            if not index & _YOUNG_EVERY:
                collect_young()
            row: _Row | None
            if type(record) is Purchase:
                row = record
            else:
                row = self._read(index, record)
                if row is None:
                    add_id(None)
                    continue
            purchase_id = row.id
            add_id(purchase_id)
            if purchase_id in seen:
                self.repeats.setdefault(purchase_id, []).append((index, row))
                continue
            add_seen(purchase_id)
            if row.product_type is not _GROUPED or row.status is not grouped_status:
                self._place_other(index, row)
                continue
            if not grouped_enabled:
                self.skipped.append(row)
                continue
            address = row.billing_address
            place = places.get(id(address))
            if place is None:
                days = self.grouped_days[address.country]
                place = places[id(address)] = _Place(address, row.currency, days)
            days = place.days
            created = row.created_at
            try:
                timestamp = created.timestamp()
                entry = days.by_day.get(timestamp // 86400.0)
                if entry is None:
                    start = days.start(created, timestamp)
                else:
                    start = entry[1] if timestamp < entry[0] else entry[2]
            except (ValueError, OverflowError):  # e.g. 0001-01-01T00:00+01:00: year 0 UTC
                error = _out_of_range(created, days.local.zone.key)
                self.placement_rejected.append((row, index, error))
                continue
            except CalendarRangeError as error:
                self.placement_rejected.append((row, index, error))
                continue
            line = (created, purchase_id, row.amount, row.vat_amount, row.merchant_reference,
                    row.items)  # fmt: skip
            if row.currency == place.currency:
                group = place.by_start.get(start)
                if group is not None:
                    group.append(line)
                    continue
            self._new_group(index, row, line, place, start)

    def _new_group(
        self, index: int, row: _Row, line: LineTuple, place: _Place, start: date
    ) -> None:
        """Put ``line`` in its place's group for ``start``, starting the group if need
        be (after checking that the period's dates are within the holiday data)."""
        currency = row.currency
        if currency == place.currency:
            group = place.by_start.get(start)
        else:
            group = place.other.get((currency, start))
        if group is not None:
            group.append(line)
            return
        try:
            place.days.period_dates(start)
        except CalendarRangeError as error:
            self.placement_rejected.append((row, index, error))
            return
        if currency == place.currency:
            place.by_start[start] = [line]
        else:
            place.other[currency, start] = [line]

    def _read(self, index: int, record: object) -> _Row | None:
        """The row of a record that is not a :class:`Purchase`; ``None`` when rejected."""
        try:
            if type(record) is dict:
                return self.read(record)
            if isinstance(record, Purchase):
                return record
            if isinstance(record, InvalidPurchaseError):
                raise record
            if isinstance(record, Mapping):
                return self.read(record)
            problem = FieldProblem("$", f"expected an object, got {type(record).__name__}")
            raise InvalidPurchaseError(None, [problem])
        except InvalidPurchaseError as error:
            self.rejected.append(Rejection(error.transaction_id, error.problems, index))
            return None

    def _place_other(self, index: int, row: _Row) -> None:
        """A purchase that is not a grouped ``AUTHORIZED`` one: a standard invoice or
        skipped."""
        if isinstance(row, ForeignRow):  # another payment product's transaction
            self.skipped.append(row)
            return
        product = self.products[row.product_type]
        if row.product_type is _GROUPED or not rules.is_invoiced(
            row.product_type, row.status, enabled=product.enabled
        ):
            self.skipped.append(row)
            return
        country = row.billing_address.country
        try:
            day = self.grouped_days[country].local(row.created_at)
            calendar = self.calendars[country]
            dates = day_invoice_dates(day, calendar, product.days_until_due, self.rule)
        except CalendarRangeError as error:
            self.placement_rejected.append((row, index, error))
            return
        self.standard.append((row, dates))

    def _kept(self) -> Iterator[tuple[str, tuple[Any, ...]]]:
        """The id and :func:`_content` of every purchase kept: grouped, standard, skipped
        or rejected for its date."""
        for place in self.places.values():
            for currency, _, lines in place.groups():
                for created_at, transaction_id, amount, vat_amount, reference, items in lines:
                    content = (created_at, amount, vat_amount, currency, self.grouped_status, _GROUPED,
                               place.address, reference, items)  # fmt: skip
                    yield transaction_id, content
        rows = chain((row for row, _ in self.standard), self.skipped,
                     (row for row, _, _ in self.placement_rejected))  # fmt: skip
        for row in rows:
            yield row.id, _content(row)

    def _settle_repeats(self) -> set[str]:
        """One purchase per id: identical repeats are rejected, conflicting ones all rejected.

        Decided once every record is in, so the outcome does not depend on their order.
        Returns the ids whose first record must come off its invoice again.
        """
        if not self.repeats:
            return set()
        repeats = self.repeats
        firsts = {pid: content for pid, content in self._kept() if pid in repeats}
        retracted = set()
        first_index: dict[str, int] | None = None  # found only if some records conflict
        for purchase_id, later in repeats.items():
            content = firsts[purchase_id]
            if all(_content(row) == content for _, row in later):
                problem = FieldProblem("id", rules.IDENTICAL_REPEAT)
                self.rejected.extend(Rejection(purchase_id, (problem,), i) for i, _ in later)
            else:
                retracted.add(purchase_id)
                problem = FieldProblem(
                    "id",
                    f"{len(later) + 1} different records share this transaction id; none is used",
                )
                if first_index is None:
                    first_index = self._first_indices()
                indices = [first_index[purchase_id], *(i for i, _ in later)]
                self.rejected.extend(Rejection(purchase_id, (problem,), i) for i in indices)
        return retracted

    def _first_indices(self) -> dict[str, int]:
        """The index of the first record of each repeated id."""
        repeats = self.repeats
        found: dict[str, int] = {}
        for index, purchase_id in enumerate(self.ids):
            if purchase_id in repeats and purchase_id not in found:
                found[purchase_id] = index
        return found

    def _retract(self, ids: set[str]) -> None:
        self.skipped = [row for row in self.skipped if row.id not in ids]
        self.standard = [entry for entry in self.standard if entry[0].id not in ids]
        self.placement_rejected = [
            entry for entry in self.placement_rejected if entry[0].id not in ids
        ]
        for place in self.places.values():
            _drop_lines(place.by_start, ids)
            _drop_lines(place.other, ids)

    def _customers(self) -> list[_Customer]:
        """Everything to invoice, by normalized customer, in the plan's customer order.

        Each billing address object is keyed once; the spellings of one customer meet
        in one :class:`_Customer`.
        """
        customers: dict[CustomerKey, _Customer] = {}
        for place in self.places.values():
            key = customer_key(place.address)
            customer = customers.get(key)
            if customer is None:
                customers[key] = _Customer(key, place.days, place)
            elif customer.others is None:
                customer.others = [place]
            else:
                customer.others.append(place)
        by_address: dict[int, _Customer] = {}
        for row, dates in self.standard:
            address = row.billing_address
            customer = by_address.get(id(address))
            if customer is None:
                key = customer_key(address)
                customer = customers.get(key)
                if customer is None:
                    days = self.grouped_days[address.country]
                    customer = customers[key] = _Customer(key, days, None)
                by_address[id(address)] = customer
            if customer.standard is None:
                customer.standard = [(row, dates)]
            else:
                customer.standard.append((row, dates))
        return sorted(customers.values(), key=_Customer.sort_key)

    def finish(self, provenance: PlanProvenance) -> InvoicePlan:
        """The plan: invoices in order of issue date, customer, currency and id.

        Customers are visited in order and each one's invoices appended to the list of
        their issue date, so the lists need no sorting beyond a customer's own invoices.
        """
        retracted = self._settle_repeats()
        if retracted:
            self._retract(retracted)
        today = {c: local_date(self.as_of, c) for c in Country} if self.as_of is not None else None
        by_issue_date: dict[date, list[Invoice]] = {}
        for number, customer in enumerate(self._customers()):
            if not number & _YOUNG_EVERY >> 2:  # a customer has a few invoices
                self.collect_young()
            invoices = self._invoices(customer, today[customer.key.country] if today else None)
            if len(invoices) > 1:
                invoices.sort(key=_within_customer)
            for invoice in invoices:
                same_day = by_issue_date.get(invoice.issue_date)
                if same_day is None:
                    by_issue_date[invoice.issue_date] = [invoice]
                else:
                    same_day.append(invoice)
        ordered = [invoice for day in sorted(by_issue_date) for invoice in by_issue_date[day]]
        skipped = [
            _skipped(row, row.product_type is not None and self.products[row.product_type].enabled)
            for row in self.skipped
        ]
        skipped.sort(key=_transaction_id)
        rejected = self.rejected + [
            Rejection(row.id, (FieldProblem("created_at", str(error)),), index)
            for row, index, error in self.placement_rejected
        ]
        rejected.sort(key=Rejection.sort_key)
        return InvoicePlan(tuple(ordered), tuple(skipped), tuple(rejected), provenance)

    def _invoices(self, customer: _Customer, today: date | None) -> list[Invoice]:
        """One customer's invoices: grouped ones per (currency, period), standard ones."""
        invoices = []
        key = customer.key
        days = customer.days
        for currency, start, place, lines in customer.groups():
            dates = days.period_dates(start)
            period = dates.period
            assert period is not None
            if len(lines) > 1:
                lines.sort()
            invoices.append(
                make_invoice(
                    customer.grouped_id(currency, period), _GROUPED, key, place.address,
                    currency, dates, lines, rules.invoice_state(dates, today),
                )
            )  # fmt: skip
        for row, dates in customer.standard or ():
            invoices.append(
                make_invoice(
                    rules.standard_invoice_id(row.product_type, row.id), row.product_type, key,
                    row.billing_address, row.currency, dates, [_line(row)],
                    rules.invoice_state(dates, today),
                )
            )  # fmt: skip
        return invoices


#: Builds an :class:`Invoice` without the frozen ``__init__`` (see :mod:`._frozen`); a
#: plan builds one per group. tests/test_fast_paths.py checks the result equals
#: ``Invoice(...)``.
_new_invoice = builder(Invoice)


def make_invoice(
    invoice_id: str,
    product_type: ProductType,
    key: CustomerKey,
    address: BillingAddress,
    currency: str,
    dates: InvoiceDates,
    lines: list[LineTuple],
    state: InvoiceState | None,
) -> Invoice:
    return _new_invoice(
        invoice_id, product_type, key, address, currency, dates.period, dates.issue_date,
        dates.due_date, tuple.__new__(InvoiceLines, lines), sum(map(_AMOUNT, lines)),
        total_vat(map(_VAT, lines)), state, dates.issue_skipped, dates.payment_deadline,
    )  # fmt: skip
