"""The result of planning: invoices, their lines, skipped and rejected purchases, and
the plan that holds them with its provenance.

Immutable values, built by :func:`~kravia_schedule.planning.plan_invoices` (and the
columnar path); :mod:`kravia_schedule.planning` decides what goes in them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from operator import itemgetter
from typing import Any, NamedTuple, SupportsIndex, overload

from kravia_schedule.address import BillingAddress
from kravia_schedule.calendar import CalendarKind, DateRoll, SkippedDay, holiday_categories
from kravia_schedule.config import KraviaConfig, ProductType
from kravia_schedule.countries import Country
from kravia_schedule.customers import CustomerKey
from kravia_schedule.errors import FieldProblem
from kravia_schedule.options import PlanOptions
from kravia_schedule.periods import BillingPeriod
from kravia_schedule.purchases import TransactionStatus
from kravia_schedule.references import Scheme, reference_for
from kravia_schedule.rules import InvoiceState, SkipReason
from kravia_schedule.statutory import PaymentDeadline
from kravia_schedule.text import printable
from kravia_schedule.vat import InvoiceItem, RateTotal, vat_breakdown

__all__ = [
    "Invoice",
    "InvoiceItem",
    "InvoiceLine",
    "InvoiceLines",
    "InvoicePlan",
    "InvoiceState",
    "PlanProvenance",
    "RateTotal",
    "Rejection",
    "SkipReason",
    "SkippedPurchase",
    "total_vat",
    "vat_breakdown",
]


class InvoiceLine(NamedTuple):
    """One purchase on an invoice; lines sort by time, then transaction id.

    A named tuple rather than a dataclass: tuples are the cheapest immutable record to
    build. An invoice keeps its lines as plain tuples and hands them out as this type
    (see :class:`InvoiceLines`).
    """

    created_at: datetime
    transaction_id: str
    amount: int
    #: ``None`` when nothing gives the purchase's VAT (never read as zero).
    vat_amount: int | None
    merchant_reference: str | None = None
    #: The purchase's order lines (descriptions, rates); empty for the flat shape.
    items: tuple[InvoiceItem, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.transaction_id,
            "created_at": self.created_at.isoformat(),
            "amount": self.amount,
            "vat_amount": self.vat_amount,
            "merchant_reference": self.merchant_reference,
            "items": [item.to_dict() for item in self.items],
        }


def total_vat(vats: Iterable[int | None]) -> int | None:
    """The sum of VAT amounts; ``None`` when any is unknown (a sum of the known ones
    would read the unknown as zero).

    >>> total_vat([100, 25]), total_vat([100, None])
    (125, None)
    """
    try:
        return sum(vats)  # type: ignore[arg-type]
    except TypeError:
        return None


#: A line as a plan keeps it: the fields of :class:`InvoiceLine` in a plain tuple.
LineTuple = tuple[datetime, str, int, int | None, str | None, tuple[InvoiceItem, ...]]
_as_line: Callable[[Any], InvoiceLine] = partial(tuple.__new__, InvoiceLine)
_LINE_ID = itemgetter(1)  # InvoiceLine.transaction_id


class InvoiceLines(tuple[InvoiceLine, ...]):
    """The lines of an invoice: a tuple of :class:`InvoiceLine`, equal to (and hashing
    as) the plain tuple of the same lines.

    It stores each line as a plain tuple and wraps it on the way out (indexing,
    iteration). Why: CPython's cyclic garbage collector stops tracking a plain tuple of
    untracked values (a datetime, texts, integers) the first time it sees it, but never
    a named tuple. A plan keeps one line per purchase, so named tuples would nearly
    double the objects each full collection walks for as long as the plan lives.
    """

    __slots__ = ()

    def __new__(cls, lines: Iterable[tuple[Any, ...]] = ()) -> InvoiceLines:
        plain = tuple(map(tuple, lines))  # an InvoiceLine is copied, a plain tuple kept
        for line in plain:
            if len(line) != len(InvoiceLine._fields):
                raise TypeError(f"an invoice line has {len(InvoiceLine._fields)} fields: {line!r}")
        return tuple.__new__(cls, plain)

    @overload
    def __getitem__(self, index: SupportsIndex, /) -> InvoiceLine: ...
    @overload
    def __getitem__(self, index: slice, /) -> InvoiceLines: ...
    def __getitem__(self, index: SupportsIndex | slice, /) -> InvoiceLine | InvoiceLines:
        item = tuple.__getitem__(self, index)
        if isinstance(index, slice):
            return tuple.__new__(InvoiceLines, item)
        return _as_line(item)

    def __iter__(self) -> Iterator[InvoiceLine]:
        return map(_as_line, tuple.__iter__(self))

    def __reversed__(self) -> Iterator[InvoiceLine]:
        return map(_as_line, reversed(tuple.__getitem__(self, slice(None))))

    def __add__(self, other: tuple[Any, ...]) -> tuple[Any, ...]:
        if isinstance(other, InvoiceLines):
            return tuple.__new__(InvoiceLines, tuple.__add__(self, other))
        if isinstance(other, tuple):
            return tuple(self) + other
        return NotImplemented

    def __radd__(self, other: tuple[Any, ...]) -> tuple[Any, ...]:
        if isinstance(other, tuple):
            return other + tuple(self)
        return NotImplemented

    def __mul__(self, times: SupportsIndex) -> InvoiceLines:
        return tuple.__new__(InvoiceLines, tuple.__mul__(self, times))

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return repr(tuple(self))


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


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
    #: An :class:`InvoiceLines` (a tuple given here is made one).
    lines: tuple[InvoiceLine, ...]
    amount: int
    #: ``None`` when a line's VAT is unknown.
    vat_amount: int | None
    state: InvoiceState | None = None
    #: The non-business days the issue date was moved past (grouped invoices).
    issue_skipped: tuple[SkippedDay, ...] = ()
    #: The due date moved by the country's law on late payment (``None`` after 2100).
    payment_deadline: PaymentDeadline | None = None

    def __post_init__(self) -> None:
        if type(self.lines) is not InvoiceLines:
            object.__setattr__(self, "lines", InvoiceLines(self.lines))

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
        return tuple(map(_LINE_ID, tuple.__iter__(self.lines)))

    @property
    def vat_breakdown(self) -> tuple[RateTotal, ...]:
        """Net, VAT and gross per rate, as a Nordic invoice shows them: they add up to
        ``amount`` (and to ``vat_amount`` when known) to the minor unit. See
        :mod:`kravia_schedule.vat` for how a line is split over rates."""
        return vat_breakdown(self.lines)

    def to_dict(self) -> dict[str, Any]:
        """The invoice as JSON-ready data (the form of ``plan --format json``)."""
        address = self.billing_address
        deadline = self.payment_deadline
        return {
            "id": self.id,
            "product_type": self.product_type.value,
            "customer": {
                "business_name": address.business_name,
                "organization_number": self.customer.organization_number or None,
                "country": self.customer.country.value,
                "customer_reference": address.customer_reference,
                "name": f"{address.first_name} {address.last_name}",
                "email": address.email,
            },
            "currency": self.currency,
            "payment_reference": self.payment_reference,
            "period": self.period.label if self.period else None,
            "issue_date": self.issue_date.isoformat(),
            "due_date": self.due_date.isoformat(),
            "last_on_time_payment_date": _iso(self.last_on_time_payment_date),
            "payment_rule": deadline.rule.law if deadline else None,
            "issue_date_moved_past": [
                {"date": d.day.isoformat(), "reason": d.reason} for d in self.issue_skipped
            ],
            "state": self.state.value if self.state else None,
            "amount": self.amount,
            "vat_amount": self.vat_amount,
            "vat_breakdown": [total.to_dict() for total in self.vat_breakdown],
            "transactions": [line.to_dict() for line in self.lines],
        }

    @property
    def line_dates(self) -> tuple[date, ...]:
        """Each line's purchase date in the customer's time zone: the date its billing
        period was taken from (``created_at`` keeps the offset it was given in)."""
        zone = self.customer.country.zone
        return tuple(line.created_at.astimezone(zone).date() for line in self.lines)

    @property
    def country(self) -> Country:
        return self.customer.country


@dataclass(frozen=True, slots=True)
class SkippedPurchase:
    """A valid purchase that goes on no invoice, and why."""

    transaction_id: str
    reason: SkipReason
    detail: str
    #: ``None`` for a transaction paid with another payment product (``not_kravia``).
    product_type: ProductType | None
    status: TransactionStatus
    currency: str
    amount: int
    #: ``None`` when nothing gives it (never read as zero).
    vat_amount: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "transaction_id": self.transaction_id,
            "reason": self.reason.value,
            "detail": self.detail,
            "status": self.status.value,
            "payment_product_type": self.product_type.value if self.product_type else None,
            "amount": self.amount,
            "vat_amount": self.vat_amount,
            "currency": self.currency,
        }


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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; text that is not valid Unicode (why it was rejected) is escaped."""
        tid = self.transaction_id
        return {
            "transaction_id": None if tid is None else printable(tid),
            "record_index": self.index,
            "problems": [
                {"field": printable(p.path), "reason": printable(p.message)} for p in self.problems
            ],
        }

    def sort_key(self) -> tuple[str, tuple[tuple[str, str], ...], int]:
        problems = tuple((p.path, p.message) for p in self.problems)
        return (self.transaction_id or "", problems, self.index if self.index is not None else -1)


@dataclass(frozen=True, slots=True)
class PlanProvenance:
    """What a plan was computed with, so the same schedule can be reproduced later."""

    library_version: str
    holidays_version: str
    config: KraviaConfig
    options: PlanOptions

    # The options, read through.
    @property
    def as_of(self) -> date | datetime | None:
        return self.options.as_of

    @property
    def strict(self) -> bool:
        return self.options.strict

    @property
    def weekends_only(self) -> bool:
        return self.options.weekends_only

    @property
    def due_date_rule(self) -> DateRoll:
        return self.options.due_date_rule

    @property
    def closed_days(self) -> tuple[tuple[Country, date, str], ...]:
        return self.options.closed_days

    @property
    def calendar_kind(self) -> CalendarKind:
        return self.options.calendar_kind

    @property
    def require_vat(self) -> bool:
        return self.options.require_vat

    def to_dict(self) -> dict[str, Any]:
        options = self.options.to_dict()
        return {
            "library_version": self.library_version,
            "holidays_version": self.holidays_version,
            "calendar_kind": options.pop("calendar_kind"),
            "holiday_categories": []
            if self.weekends_only
            else holiday_categories(self.calendar_kind),
            "config": self.config.to_dict(),
            **options,
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
            if transaction_id in invoice.transaction_ids:
                return invoice
        return None

    def to_dict(self) -> dict[str, Any]:
        """The whole plan as JSON-ready data, with its provenance."""
        return {
            "computed_with": self.provenance.to_dict(),
            "warnings": [
                {"field": printable(w.path), "warning": printable(w.message)} for w in self.warnings
            ],
            "summary": {
                "invoices": len(self.invoices),
                "skipped": len(self.skipped),
                "rejected": len(self.rejected),
                "invoiced_by_currency": self.totals(),
            },
            "invoices": [invoice.to_dict() for invoice in self.invoices],
            "skipped": [skipped.to_dict() for skipped in self.skipped],
            "rejected": [rejection.to_dict() for rejection in self.rejected],
        }

    def totals(self) -> dict[str, int]:
        """Invoiced amount per currency."""
        totals: dict[str, int] = defaultdict(int)
        for invoice in self.invoices:
            totals[invoice.currency] += invoice.amount
        return dict(sorted(totals.items()))
