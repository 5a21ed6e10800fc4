"""Planning: which purchases go on which invoice, and when each invoice is issued and due.

:func:`plan_invoices` is the library's main entry point. It is a pure function of its
input: every purchase ends up exactly once in ``invoices``, ``skipped`` or ``rejected``,
and the result does not depend on the order of the input. :func:`merge_plans` combines
plans of disjoint batches into the plan of their union (the reduce step of a parallel run).
"""

from __future__ import annotations

import gc
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from operator import itemgetter
from typing import Any, NamedTuple

from kravia_schedule._version import __version__
from kravia_schedule.address import BillingAddress
from kravia_schedule.calendar import (
    HOLIDAYS_VERSION,
    BusinessCalendar,
    CalendarKind,
    DateRoll,
    SkippedDay,
    holiday_categories,
)
from kravia_schedule.config import KraviaConfig, ProductType
from kravia_schedule.countries import Country, parse_country
from kravia_schedule.customers import CustomerKey, customer_key
from kravia_schedule.dates import (
    InvoiceDates,
    check_due_date_rule,
    day_invoice_dates,
    local_date,
    period_invoice_dates,
)
from kravia_schedule.errors import (
    CalendarRangeError,
    FieldProblem,
    InvalidPurchaseError,
    MergeConflictError,
)
from kravia_schedule.periods import BillingPeriod, billing_period
from kravia_schedule.purchases import (
    Purchase,
    PurchaseRow,
    RecordReader,
    TransactionStatus,
)
from kravia_schedule.references import Scheme, reference_for
from kravia_schedule.statutory import PaymentDeadline

__all__ = [
    "Invoice",
    "InvoiceLine",
    "InvoicePlan",
    "InvoiceState",
    "PlanProvenance",
    "Rejection",
    "SkipReason",
    "SkippedPurchase",
    "merge_plans",
    "plan_invoices",
]

#: Standard invoices exist for these states (registered with Kravia, not cancelled).
STANDARD_INVOICED = frozenset(
    {TransactionStatus.CAPTURED, TransactionStatus.PARTIALLY_REFUNDED, TransactionStatus.SETTLED}
)


class InvoiceState(StrEnum):
    """Where an invoice stands on the ``as_of`` date."""

    OPEN = "open"  # its billing period has not ended: more purchases may join
    SCHEDULED = "scheduled"  # the period has ended, the issue date is still ahead
    READY = "ready"  # the issue date has been reached


class SkipReason(StrEnum):
    """Why a valid purchase is on no invoice of this plan."""

    PRODUCT_DISABLED = "product_disabled"
    VOIDED = "voided"
    STATUS = "status"


class InvoiceLine(NamedTuple):
    """One purchase on an invoice; lines sort by time, then transaction id.

    A named tuple rather than a dataclass: a plan holds one per purchase, and tuples are
    the cheapest immutable record to build and keep.
    """

    created_at: datetime
    transaction_id: str
    amount: int
    vat_amount: int
    merchant_reference: str | None = None


@dataclass(frozen=True, slots=True)
class Invoice:
    """One invoice: for a grouped invoice, all its customer's purchases of one period.

    ``billing_address`` is the spelling of the earliest purchase (by ``created_at``, then
    id); ``customer`` is the normalized key the purchases were matched on.
    """

    id: str
    product_type: ProductType
    customer: CustomerKey
    billing_address: BillingAddress
    currency: str
    period: BillingPeriod | None
    issue_date: date
    due_date: date
    lines: tuple[InvoiceLine, ...]
    amount: int
    vat_amount: int
    state: InvoiceState | None = None
    #: The non-business days the issue date was moved past (grouped invoices).
    issue_skipped: tuple[SkippedDay, ...] = ()
    #: The due date moved by the country's law on late payment (``None`` after 2100).
    payment_deadline: PaymentDeadline | None = None

    @property
    def last_on_time_payment_date(self) -> date | None:
        return self.payment_deadline.last_on_time if self.payment_deadline else None

    @property
    def payment_reference(self) -> str:
        """A payment reference derived from the invoice id, in the country's usual scheme:
        KID (MOD10) in Norway, OCR with length digit in Sweden, the Finnish reference
        number in Finland. Deterministic: the same invoice always gets the same one."""
        return reference_for(self.id, self.country.value)

    def reference(self, scheme: Scheme | str) -> str:
        """The invoice's payment reference in another scheme (``"kid11"``, ``"rf"``, ...)."""
        return reference_for(self.id, self.country.value, scheme)

    @property
    def transaction_ids(self) -> tuple[str, ...]:
        return tuple(line.transaction_id for line in self.lines)

    @property
    def country(self) -> Country:
        return self.customer.country


@dataclass(frozen=True, slots=True)
class SkippedPurchase:
    """A valid purchase that goes on no invoice, and why."""

    transaction_id: str
    reason: SkipReason
    detail: str
    product_type: ProductType
    status: TransactionStatus
    currency: str
    amount: int
    vat_amount: int


@dataclass(frozen=True, slots=True)
class Rejection:
    """An invalid input record: the transaction id (when readable) and every problem.

    ``index`` is the record's position in the input; it is informative only and takes no
    part in comparisons, so plans of reordered input compare equal.
    """

    transaction_id: str | None
    problems: tuple[FieldProblem, ...]
    index: int | None = field(default=None, compare=False)

    @property
    def field(self) -> str:
        """The first problem's field path."""
        return self.problems[0].path

    @property
    def reason(self) -> str:
        return "; ".join(str(p) for p in self.problems)

    def sort_key(self) -> tuple[str, tuple[tuple[str, str], ...], int]:
        problems = tuple((p.path, p.message) for p in self.problems)
        return (self.transaction_id or "", problems, self.index if self.index is not None else -1)


@dataclass(frozen=True, slots=True)
class PlanProvenance:
    """What a plan was computed with, so the same schedule can be reproduced later."""

    library_version: str
    holidays_version: str
    config: KraviaConfig
    as_of: date | datetime | None
    strict: bool
    weekends_only: bool
    due_date_rule: DateRoll
    closed_days: tuple[tuple[Country, date, str], ...] = ()
    calendar_kind: CalendarKind = CalendarKind.PUBLIC

    def to_dict(self) -> dict[str, Any]:
        return {
            "library_version": self.library_version,
            "holidays_version": self.holidays_version,
            "calendar_kind": self.calendar_kind.value,
            "holiday_categories": []
            if self.weekends_only
            else holiday_categories(self.calendar_kind),
            "config": self.config.to_dict(),
            "as_of": self.as_of.isoformat() if self.as_of is not None else None,
            "strict": self.strict,
            "weekends_only": self.weekends_only,
            "due_date_rule": self.due_date_rule.value,
            "closed_days": [[c.value, d.isoformat(), r] for c, d, r in self.closed_days],
        }


@dataclass(frozen=True, slots=True)
class InvoicePlan:
    """The result of :func:`plan_invoices`: invoices, skipped and rejected purchases."""

    invoices: tuple[Invoice, ...]
    skipped: tuple[SkippedPurchase, ...]
    rejected: tuple[Rejection, ...]
    provenance: PlanProvenance

    @property
    def warnings(self) -> tuple[FieldProblem, ...]:
        """Settings that are allowed but unusual (e.g. B2B terms over 60 days)."""
        return self.provenance.config.warnings()

    def invoice_for(self, transaction_id: str) -> Invoice | None:
        """The invoice a transaction is on, if any."""
        for invoice in self.invoices:
            if any(line.transaction_id == transaction_id for line in invoice.lines):
                return invoice
        return None

    def totals(self) -> dict[str, int]:
        """Invoiced amount per currency."""
        totals: dict[str, int] = defaultdict(int)
        for invoice in self.invoices:
            totals[invoice.currency] += invoice.amount
        return dict(sorted(totals.items()))


# -- helpers -------------------------------------------------------------------------


def _digest(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).hexdigest()


def _grouped_id(key: CustomerKey, currency: str, period: BillingPeriod) -> str:
    digest = _digest(
        "grouped", key.country.value, key.organization_number, key.business_name,
        key.customer_reference, currency, period.interval.value, period.label,
    )  # fmt: skip
    return f"G-{period.label}-{digest}"


def _standard_id(product_type: ProductType, transaction_id: str) -> str:
    return f"S-{_digest(product_type.value, transaction_id)}"


def _state(dates: InvoiceDates, today: date | None) -> InvoiceState | None:
    """The invoice's state on the local date ``today`` (``None`` without ``as_of``)."""
    if today is None:
        return None
    if dates.period is not None and today <= dates.period.end:
        return InvoiceState.OPEN
    return InvoiceState.READY if today >= dates.issue_date else InvoiceState.SCHEDULED


def _skipped(row: PurchaseRow | Purchase, enabled: bool) -> SkippedPurchase:
    """Why a valid purchase goes on no invoice."""
    status = row.status
    if not enabled:
        reason = SkipReason.PRODUCT_DISABLED
        detail = f"{row.product_type.value} is not enabled in the configuration"
    elif row.product_type.is_grouped:
        if status is TransactionStatus.AUTHORIZATION_VOIDED:
            reason, detail = SkipReason.VOIDED, "voided before billing"
        else:
            reason = SkipReason.STATUS
            detail = f"grouped invoices collect AUTHORIZED purchases; this one is {status.value}"
    else:
        reason = SkipReason.VOIDED if status is TransactionStatus.REFUNDED else SkipReason.STATUS
        detail = f"no invoice for a standard purchase in state {status.value}"
    return SkippedPurchase(
        row.id, reason, detail, row.product_type, status, row.currency, row.amount,
        row.vat_amount,
    )  # fmt: skip


def _line(row: PurchaseRow | Purchase) -> InvoiceLine:
    # tuple.__new__ directly: the NamedTuple's own __new__ is a Python-level call, and
    # this runs once per purchase.
    return _new_line(
        InvoiceLine, (row.created_at, row.id, row.amount, row.vat_amount, row.merchant_reference)
    )


def _invoice_order(invoice: Invoice) -> tuple[Any, ...]:
    key = invoice.customer
    return (invoice.issue_date, key.country.value, key.organization_number, key.business_name,
            key.customer_reference, invoice.currency, invoice.id)  # fmt: skip


# -- the entry points ----------------------------------------------------------------


def plan_invoices(
    purchases: Iterable[Purchase | Mapping[str, Any]],
    config: KraviaConfig | None = None,
    *,
    as_of: date | datetime | None = None,
    strict: bool = False,
    weekends_only: bool = False,
    closed_days: Mapping[Country | str, Iterable[date] | Mapping[date, str]] | None = None,
    due_date_rule: DateRoll | str = DateRoll.UNADJUSTED,
    calendar_kind: CalendarKind | str = CalendarKind.PUBLIC,
) -> InvoicePlan:
    """Plan the invoices for ``purchases`` under ``config``.

    ``purchases`` may mix :class:`Purchase` objects and Dintero-shaped mappings (an
    :class:`InvalidPurchaseError` in the stream, e.g. an unreadable line of a file, is
    reported as a rejection). With
    ``as_of`` (a local date, or an aware datetime read in each customer's time zone) each
    invoice gets a :class:`InvoiceState`. ``strict`` checks organization-number check
    digits; ``weekends_only``, ``closed_days`` (per country) and ``due_date_rule`` set
    the calendars, as in :class:`BusinessCalendar` and :func:`grouped_invoice_dates`;
    ``calendar_kind="bank"`` issues on bank days instead of public-holiday business days.
    ``config`` defaults to :meth:`KraviaConfig.all_enabled`.
    """
    config = config if config is not None else KraviaConfig.all_enabled()
    rule = check_due_date_rule(due_date_rule)
    if as_of is not None:
        local_date(as_of, Country.NO)  # refuse a naive datetime before any work
    closed = {parse_country(c): days for c, days in (closed_days or {}).items()}
    calendars = {
        country: BusinessCalendar(
            country,
            kind=calendar_kind,
            weekends_only=weekends_only,
            closed_days=closed.get(country, ()),
        )
        for country in Country
    }
    provenance = PlanProvenance(
        __version__, HOLIDAYS_VERSION, config, as_of, strict, weekends_only, rule,
        tuple((c, d, r) for c in Country for d, r in calendars[c].closed_days.items()),
        CalendarKind(calendar_kind),
    )  # fmt: skip

    planner = _Planner(config, calendars, rule, strict, as_of)
    add = planner.add
    with _cyclic_gc_paused():
        for index, record in enumerate(purchases):
            add(index, record)
        return planner.finish(provenance)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a plan is built.

    Planning allocates one small tuple or two per purchase and creates no reference
    cycles, but every few hundred allocations the collector walks the young objects and,
    now and then, the whole growing heap: measured at 10^5 purchases it cost 40 % of the
    run. Reference counting still frees everything as usual; the previous state is
    restored on the way out.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_ONE_DAY = timedelta(days=1)
_new_line = tuple.__new__
_GROUPED = ProductType.B2B_GROUPED
_AUTHORIZED = TransactionStatus.AUTHORIZED
_AMOUNT = itemgetter(2)  # InvoiceLine.amount
_VAT = itemgetter(3)  # InvoiceLine.vat_amount


class _LocalDays:
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
            raise CalendarRangeError(
                f"{when.isoformat()} is outside the dates Python can place in {self.zone.key}"
            ) from None
        return entry[1] if ts < entry[0] else entry[2]


class _Planner:
    """The state of one planning run; :meth:`add` takes one record at a time.

    Per-purchase work is kept to a few dictionary look-ups: the things that depend on a
    few distinct values (a day's period, a period's dates, a customer's normalized key, a
    billing address's validation) are computed once each and remembered. Invoices keep
    :class:`InvoiceLine` tuples, not the purchases.
    """

    def __init__(
        self,
        config: KraviaConfig,
        calendars: Mapping[Country, BusinessCalendar],
        rule: DateRoll,
        strict: bool,
        as_of: date | datetime | None,
    ) -> None:
        self.products = {p: config.product(p) for p in ProductType}
        self.calendars = calendars
        self.rule = rule
        self.as_of = as_of
        self.read = RecordReader(strict=strict)
        self.local_days = {c: _LocalDays(c) for c in Country}
        self.rejected: list[Rejection] = []
        self.placement_rejected: list[Rejection] = []
        self.skipped: list[SkippedPurchase] = []
        self.standard: list[tuple[PurchaseRow | Purchase, InvoiceDates]] = []
        self.groups: dict[tuple[Any, ...], tuple[list[InvoiceLine], list[BillingAddress]]] = {}
        # Transaction id -> (record index, content fingerprint): enough to tell an
        # identical repeat from a conflicting one without keeping every purchase.
        self.first: dict[str, tuple[int, int]] = {}
        self.repeats: dict[str, list[tuple[int, int]]] = {}
        self.customers: dict[tuple[Any, ...], tuple[Country, str, str, str]] = {}
        self.period_starts: dict[date, date] = {}
        self.period_dates: dict[tuple[Country, date], InvoiceDates | CalendarRangeError] = {}
        self.interval = self.products[ProductType.B2B_GROUPED].interval

    def add(self, index: int, record: object) -> None:
        """Validate one record and put it on its invoice, in skipped, or in rejected.

        The hot path of a billing run: the common cases are tested first, and the work
        per purchase is a handful of dictionary look-ups and one small tuple.
        """
        row: PurchaseRow | Purchase
        kind = type(record)
        try:
            if kind is Purchase:
                row = record  # type: ignore[assignment]  # valid; has PurchaseRow's fields
            elif kind is dict:
                row = self.read(record)  # type: ignore[arg-type]
            elif isinstance(record, Purchase):
                row = record
            elif isinstance(record, InvalidPurchaseError):
                raise record
            elif isinstance(record, Mapping):
                row = self.read(record)
            else:
                problem = FieldProblem("$", f"expected an object, got {type(record).__name__}")
                raise InvalidPurchaseError(None, [problem])
        except InvalidPurchaseError as error:
            self.rejected.append(Rejection(error.transaction_id, error.problems, index))
            return
        purchase_id = row.id
        fingerprint = hash(
            (row.created_at, row.amount, row.vat_amount, row.currency, row.status,
             row.product_type, row.billing_address, row.merchant_reference)
        )  # fmt: skip
        if purchase_id in self.first:
            entry = (index, fingerprint)
            self.repeats.setdefault(purchase_id, [self.first[purchase_id]]).append(entry)
            return
        self.first[purchase_id] = (index, fingerprint)
        try:
            product_type = row.product_type
            product = self.products[product_type]
            address = row.billing_address
            if product_type is _GROUPED:
                if row.status is not _AUTHORIZED or not product.enabled:
                    self.skipped.append(_skipped(row, product.enabled))
                    return
                country = address.country
                day = self.local_days[country](row.created_at)
                start = self.period_starts.get(day)
                if start is None:
                    start = self.period_starts[day] = billing_period(day, self.interval).start
                # Keyed by the raw spelling; spellings of one customer merge in finish().
                key = (country, address.org_number_key, address.business_name,
                       address.customer_reference, row.currency, start)  # fmt: skip
                group = self.groups.get(key)
                if group is None:
                    self._check_period(country, day)
                    group = self.groups[key] = ([], [])
                group[0].append(_line(row))
                group[1].append(address)
            elif row.status in STANDARD_INVOICED and product.enabled:
                country = address.country
                day = self.local_days[country](row.created_at)
                calendar = self.calendars[country]
                dates = day_invoice_dates(day, calendar, product.days_until_due, self.rule)
                self.standard.append((row, dates))
            else:
                self.skipped.append(_skipped(row, product.enabled))
        except CalendarRangeError as error:
            problem = FieldProblem("created_at", str(error))
            self.placement_rejected.append(Rejection(purchase_id, (problem,), index))

    def _check_period(self, country: Country, day: date) -> InvoiceDates:
        """The grouped dates for ``day``'s period (raises beyond the holiday data)."""
        period = billing_period(day, self.interval)
        dates = self.period_dates.get((country, period.start))
        if dates is None:
            product = self.products[_GROUPED]
            calendar = self.calendars[country]
            try:
                dates = period_invoice_dates(period, calendar, product.days_until_due, self.rule)
            except CalendarRangeError as error:
                dates = error
            self.period_dates[country, period.start] = dates
        if isinstance(dates, CalendarRangeError):
            raise dates
        return dates

    def _settle_repeats(self) -> set[str]:
        """One purchase per id: identical repeats are rejected, conflicting ones all rejected.

        Decided once every record is in, so the outcome does not depend on their order.
        Returns the ids whose first record must come off its invoice again.
        """
        retracted = set()
        for purchase_id, entries in self.repeats.items():
            first = entries[0][1]
            # Equal fingerprints are taken as equal records (a 64-bit hash collision
            # between two records of one id is the only way this could be wrong).
            if all(fingerprint == first for _, fingerprint in entries):
                problem = FieldProblem("id", "duplicate of an identical record; counted once")
                self.rejected.extend(Rejection(purchase_id, (problem,), i) for i, _ in entries[1:])
            else:
                retracted.add(purchase_id)
                problem = FieldProblem(
                    "id",
                    f"{len(entries)} different records share this transaction id; none is used",
                )
                self.rejected.extend(Rejection(purchase_id, (problem,), i) for i, _ in entries)
        return retracted

    def _retract(self, ids: set[str]) -> None:
        self.skipped = [s for s in self.skipped if s.transaction_id not in ids]
        self.standard = [entry for entry in self.standard if entry[0].id not in ids]
        self.placement_rejected = [
            r for r in self.placement_rejected if r.transaction_id not in ids
        ]
        for key, (lines, addresses) in list(self.groups.items()):
            kept = [
                (line, address)
                for line, address in zip(lines, addresses, strict=True)
                if line.transaction_id not in ids
            ]
            if not kept:
                del self.groups[key]
            elif len(kept) != len(lines):
                self.groups[key] = ([line for line, _ in kept], [a for _, a in kept])

    def _merged(self) -> dict[tuple[Any, ...], tuple[list[InvoiceLine], list[BillingAddress]]]:
        """The groups keyed by normalized customer: spellings of one customer merged."""
        merged: dict[tuple[Any, ...], tuple[list[InvoiceLine], list[BillingAddress]]] = {}
        customers = self.customers
        for group_key, (lines, addresses) in self.groups.items():
            raw, currency, start = group_key[:4], group_key[4], group_key[5]
            customer = customers.get(raw)
            if customer is None:
                key = customer_key(addresses[0])
                customer = customers[raw] = (
                    key.country, key.organization_number, key.business_name, key.customer_reference
                )  # fmt: skip
            target = merged.get((customer, currency, start))
            if target is None:
                merged[customer, currency, start] = (lines, addresses)
            else:
                target[0].extend(lines)
                target[1].extend(addresses)
        return merged

    def finish(self, provenance: PlanProvenance) -> InvoicePlan:
        retracted = self._settle_repeats()
        if retracted:
            self._retract(retracted)
        as_of = self.as_of
        today = {c: local_date(as_of, c) for c in Country} if as_of is not None else None
        invoices: list[Invoice] = []
        grouped = ProductType.B2B_GROUPED
        for (customer, currency, period_start), (lines, addresses) in self._merged().items():
            key = CustomerKey(*customer)
            dates = self.period_dates[key.country, period_start]
            assert isinstance(dates, InvoiceDates)
            period = dates.period
            assert period is not None
            first = 0
            if len(lines) > 1:
                first = min(range(len(lines)), key=lines.__getitem__)
                lines.sort()
            invoices.append(
                _make_invoice(
                    _grouped_id(key, currency, period), grouped, key, addresses[first], currency,
                    dates, lines, _state(dates, today[key.country] if today else None),
                )
            )  # fmt: skip
        for row, dates in self.standard:
            address = row.billing_address
            invoices.append(
                _make_invoice(
                    _standard_id(row.product_type, row.id), row.product_type,
                    customer_key(address), address, row.currency, dates, [_line(row)],
                    _state(dates, today[address.country] if today else None),
                )
            )  # fmt: skip
        invoices.sort(key=_invoice_order)
        self.skipped.sort(key=lambda s: s.transaction_id)
        rejected = sorted(self.rejected + self.placement_rejected, key=Rejection.sort_key)
        return InvoicePlan(tuple(invoices), tuple(self.skipped), tuple(rejected), provenance)


def _make_invoice(
    invoice_id: str,
    product_type: ProductType,
    key: CustomerKey,
    address: BillingAddress,
    currency: str,
    dates: InvoiceDates,
    lines: list[InvoiceLine],
    state: InvoiceState | None,
) -> Invoice:
    return Invoice(
        invoice_id, product_type, key, address, currency, dates.period, dates.issue_date,
        dates.due_date, tuple(lines), sum(map(_AMOUNT, lines)), sum(map(_VAT, lines)),
        state, dates.issue_skipped,
        dates.payment_deadline,
    )  # fmt: skip


def merge_plans(*plans: InvoicePlan) -> InvoicePlan:
    """Combine plans of disjoint batches into the plan of their union.

    Raises :class:`MergeConflictError` when the plans were computed with different
    settings, or when a transaction id is planned (invoiced or skipped) in two of them:
    merging would count it twice.
    """
    if not plans:
        raise ValueError("merge_plans needs at least one plan")
    provenance = plans[0].provenance
    for plan in plans[1:]:
        if plan.provenance != provenance:
            raise MergeConflictError("plans were computed with different settings or versions")
    seen: set[str] = set()
    for plan in plans:
        ids = [line.transaction_id for inv in plan.invoices for line in inv.lines]
        ids += [s.transaction_id for s in plan.skipped]
        overlap = seen.intersection(ids)
        if overlap:
            raise MergeConflictError(
                f"transactions planned in more than one plan: {sorted(overlap)[:5]}"
            )
        seen.update(ids)
    merged: dict[str, Invoice] = {}
    for plan in plans:
        for invoice in plan.invoices:
            other = merged.get(invoice.id)
            if other is None:
                merged[invoice.id] = invoice
                continue
            lines = tuple(sorted(other.lines + invoice.lines))
            first = other if other.lines[0] <= invoice.lines[0] else invoice
            merged[invoice.id] = replace(
                first,
                lines=lines,
                amount=other.amount + invoice.amount,
                vat_amount=other.vat_amount + invoice.vat_amount,
            )
    return InvoicePlan(
        tuple(sorted(merged.values(), key=_invoice_order)),
        tuple(sorted((s for p in plans for s in p.skipped), key=lambda s: s.transaction_id)),
        tuple(sorted((r for p in plans for r in p.rejected), key=Rejection.sort_key)),
        provenance,
    )
