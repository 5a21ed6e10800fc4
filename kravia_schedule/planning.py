"""Planning: which purchases go on which invoice, and when each invoice is issued and due.

:func:`plan_invoices` is the library's main entry point. It is a pure function of its
input: every purchase ends up exactly once in ``invoices``, ``skipped`` or ``rejected``,
and the result does not depend on the order of the input. :func:`merge_plans` combines
plans of disjoint batches into the plan of their union (the reduce step of a parallel run).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
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
from kravia_schedule.purchases import Purchase, TransactionStatus, parse_purchase
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


def _state(
    dates: InvoiceDates, as_of: date | datetime | None, country: Country
) -> InvoiceState | None:
    if as_of is None:
        return None
    today = local_date(as_of, country)
    if dates.period is not None and today <= dates.period.end:
        return InvoiceState.OPEN
    return InvoiceState.READY if today >= dates.issue_date else InvoiceState.SCHEDULED


def _skipped(purchase: Purchase, enabled: bool) -> SkippedPurchase:
    """Why a valid purchase goes on no invoice."""
    status = purchase.status
    if not enabled:
        reason = SkipReason.PRODUCT_DISABLED
        detail = f"{purchase.product_type.value} is not enabled in the configuration"
    elif purchase.product_type.is_grouped:
        if status is TransactionStatus.AUTHORIZATION_VOIDED:
            reason, detail = SkipReason.VOIDED, "voided before billing"
        else:
            reason = SkipReason.STATUS
            detail = f"grouped invoices collect AUTHORIZED purchases; this one is {status.value}"
    else:
        reason = SkipReason.VOIDED if status is TransactionStatus.REFUNDED else SkipReason.STATUS
        detail = f"no invoice for a standard purchase in state {status.value}"
    return SkippedPurchase(
        purchase.id, reason, detail, purchase.product_type, status,
        purchase.currency, purchase.amount, purchase.vat_amount,
    )  # fmt: skip


def _chronological(purchase: Purchase) -> tuple[datetime, str]:
    return purchase.created_at, purchase.id


def _line(purchase: Purchase) -> InvoiceLine:
    return InvoiceLine(
        purchase.created_at, purchase.id, purchase.amount, purchase.vat_amount,
        purchase.merchant_reference,
    )  # fmt: skip


def _invoice_order(invoice: Invoice) -> tuple[Any, ...]:
    key = invoice.customer
    return (invoice.issue_date, key.country.value, key.organization_number, key.business_name,
            key.customer_reference, invoice.currency, invoice.id)  # fmt: skip


def _reject_repeats(
    first_seen: dict[str, tuple[int, Purchase]],
    repeats: dict[str, list[tuple[int, Purchase]]],
    rejected: list[Rejection],
) -> None:
    """One purchase per id: identical repeats are rejected, conflicting ones all rejected.

    Removes conflicting ids from ``first_seen``; the outcome does not depend on which
    record came first.
    """
    for purchase_id, entries in repeats.items():
        first = entries[0][1]
        if all(p == first for _, p in entries):
            problem = FieldProblem("id", "duplicate of an identical record; counted once")
            rejected.extend(Rejection(purchase_id, (problem,), i) for i, _ in entries[1:])
        else:
            del first_seen[purchase_id]
            problem = FieldProblem(
                "id", f"{len(entries)} different records share this transaction id; none is used"
            )
            rejected.extend(Rejection(purchase_id, (problem,), i) for i, _ in entries)


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

    rejected: list[Rejection] = []
    first_seen: dict[str, tuple[int, Purchase]] = {}
    repeats: dict[str, list[tuple[int, Purchase]]] = {}
    for index, record in enumerate(purchases):
        try:
            if isinstance(record, Purchase):
                purchase = record
            elif isinstance(record, InvalidPurchaseError):
                raise record
            elif isinstance(record, Mapping):
                purchase = parse_purchase(record, strict=strict)
            else:
                raise InvalidPurchaseError(
                    None, [FieldProblem("$", f"expected an object, got {type(record).__name__}")]
                )
        except InvalidPurchaseError as error:
            rejected.append(Rejection(error.transaction_id, error.problems, index))
            continue
        if purchase.id in first_seen:
            repeats.setdefault(purchase.id, [first_seen[purchase.id]]).append((index, purchase))
        else:
            first_seen[purchase.id] = (index, purchase)
    _reject_repeats(first_seen, repeats, rejected)

    products = {p: config.product(p) for p in ProductType}
    grouped_type = ProductType.B2B_GROUPED
    interval = products[grouped_type].interval
    skipped: list[SkippedPurchase] = []
    # Grouping state, keyed by plain tuples (cheap to hash); the few distinct values
    # (normalized customer, period, dates) are computed once each, not once per purchase.
    groups: dict[tuple[tuple[Country, str, str, str], str, date], list[Purchase]] = {}
    customer_cache: dict[
        tuple[Country, str | None, str | None, str | None], tuple[Country, str, str, str]
    ] = {}
    period_dates: dict[tuple[Country, BillingPeriod], InvoiceDates] = {}
    periods: dict[date, BillingPeriod] = {}
    standard: list[tuple[Purchase, InvoiceDates]] = []
    for index, purchase in first_seen.values():
        product = products[purchase.product_type]
        if purchase.product_type is grouped_type:
            invoiceable = purchase.status is TransactionStatus.AUTHORIZED
        else:
            invoiceable = purchase.status in STANDARD_INVOICED
        if not (invoiceable and product.enabled):
            skipped.append(_skipped(purchase, product.enabled))
            continue
        address = purchase.billing_address
        country = address.country
        calendar = calendars[country]
        day = local_date(purchase.created_at, country)
        try:
            if purchase.product_type is grouped_type:
                period = billing_period(day, interval)
                if (country, period) not in period_dates:
                    period_dates[country, period] = period_invoice_dates(
                        period, calendar, product.days_until_due, rule
                    )
                periods[period.start] = period
                raw = (
                    country,
                    address.org_number_key,
                    address.business_name,
                    address.customer_reference,
                )
                customer = customer_cache.get(raw)
                if customer is None:
                    key = customer_key(address)
                    customer = customer_cache[raw] = (
                        key.country, key.organization_number, key.business_name, key.customer_reference
                    )  # fmt: skip
                groups.setdefault((customer, purchase.currency, period.start), []).append(purchase)
            else:
                dates = day_invoice_dates(day, calendar, product.days_until_due, rule)
                standard.append((purchase, dates))
        except CalendarRangeError as error:
            problem = FieldProblem("created_at", str(error))
            rejected.append(Rejection(purchase.id, (problem,), index))

    invoices: list[Invoice] = []
    for (customer, currency, period_start), members in groups.items():
        members.sort(key=_chronological)
        key = CustomerKey(*customer)
        period = periods[period_start]
        dates = period_dates[key.country, period]
        invoices.append(
            _make_invoice(
                _grouped_id(key, currency, period), grouped_type, key,
                members[0].billing_address, currency, dates, [_line(p) for p in members],
                _state(dates, as_of, key.country),
            )
        )  # fmt: skip
    for purchase, dates in standard:
        address = purchase.billing_address
        invoices.append(
            _make_invoice(
                _standard_id(purchase.product_type, purchase.id), purchase.product_type,
                customer_key(address), address, purchase.currency, dates, [_line(purchase)],
                _state(dates, as_of, address.country),
            )
        )  # fmt: skip
    return InvoicePlan(
        tuple(sorted(invoices, key=_invoice_order)),
        tuple(sorted(skipped, key=lambda s: s.transaction_id)),
        tuple(sorted(rejected, key=Rejection.sort_key)),
        provenance,
    )


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
        dates.due_date, tuple(lines), sum(line.amount for line in lines),
        sum(line.vat_amount for line in lines), state, dates.issue_skipped,
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
