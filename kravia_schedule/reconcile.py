"""Reconciliation: where Kravia's invoices differ from the schedule the rules give.

Once Kravia has invoiced a transaction, Dintero carries Kravia's own facts on it
(``kravia:invoice_number`` in its metadata, ``kravia:invoice_date`` and
``kravia:invoice_due_date`` in its events: :class:`~kravia_schedule.dintero.KraviaFacts`).
:func:`reconcile` plans the same transactions and reports each difference, with the
reason for the date or invoice the schedule expects:

* ``not_scheduled``: Kravia invoiced a transaction the schedule puts on no invoice;
* ``not_invoiced``: with ``as_of``, a Kravia transaction in Dintero's shape whose invoice
  the schedule has issued by then, and of which Kravia reports no invoice;
* ``other_invoice``: Kravia's invoice and the schedule's hold different transactions;
* ``issue_date`` / ``due_date``: the invoice was issued or is due on another day.

Records the plan rejects (a malformed Kravia date, say) are checked against nothing:
:attr:`Reconciliation.rejected` lists them, and a caller must not read :attr:`agrees`
alone when there are any (the command line refuses such an input).

A transaction Kravia has registered is reconciled whatever has happened to it since (a
paid grouped transaction is no longer ``AUTHORIZED``, but it was on its invoice): the
schedule is planned with each registered transaction in the state it was invoiced in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Unpack

from kravia_schedule import rules
from kravia_schedule.calendar import DateRoll, describe_skipped
from kravia_schedule.config import KraviaConfig, ProductType
from kravia_schedule.dintero.events import KraviaFacts
from kravia_schedule.dintero.schema import read_as_dintero
from kravia_schedule.dintero.transaction import read_transaction
from kravia_schedule.errors import InvalidArgument, InvalidPurchaseError
from kravia_schedule.invoices import Invoice, InvoicePlan, Rejection
from kravia_schedule.options import PlanOptions, PlanOptionsArgs
from kravia_schedule.planning import plan_invoices
from kravia_schedule.rules import InvoiceState
from kravia_schedule.statuses import TransactionStatus

__all__ = ["Discrepancy", "Finding", "Reconciliation", "reconcile"]


class Finding(StrEnum):
    """What differs between Kravia's invoice of a transaction and the schedule's."""

    NOT_SCHEDULED = "not_scheduled"
    NOT_INVOICED = "not_invoiced"
    OTHER_INVOICE = "other_invoice"
    ISSUE_DATE = "issue_date"
    DUE_DATE = "due_date"


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One difference: the transaction, what differs, the schedule's value and Kravia's,
    and why the schedule expects its value."""

    transaction_id: str
    finding: Finding
    expected: str | None
    actual: str | None
    why: str

    def __str__(self) -> str:
        expected = "no invoice" if self.expected is None else self.expected
        actual = "no invoice" if self.actual is None else self.actual
        return (
            f"{self.transaction_id}: {self.finding.value}: expected {expected}, "
            f"Kravia has {actual} ({self.why})"
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``None`` (no invoice) stays ``null``."""
        return {
            "transaction_id": self.transaction_id,
            "finding": self.finding.value,
            "expected": self.expected,
            "actual": self.actual,
            "why": self.why,
        }


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The differences found, how many invoiced transactions were checked, and the plan
    they were checked against."""

    discrepancies: tuple[Discrepancy, ...]
    checked: int
    plan: InvoicePlan

    @property
    def agrees(self) -> bool:
        """No discrepancy among the transactions checked (see :attr:`rejected`)."""
        return not self.discrepancies

    @property
    def rejected(self) -> tuple[Rejection, ...]:
        """The records the plan rejected as invalid (identical repeats of a record are
        not: they count once), which nothing was checked against."""
        return tuple(r for r in self.plan.rejected if not rules.is_identical_repeat(r.problems))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the counts, each discrepancy, and what the schedule was
        computed with (as a plan's ``computed_with``)."""
        return {
            "checked": self.checked,
            "agrees": self.agrees,
            "discrepancies": [d.to_dict() for d in self.discrepancies],
            "computed_with": self.plan.provenance.to_dict(),
        }


def reconcile(
    transactions: Iterable[Mapping[str, Any]],
    config: KraviaConfig | None = None,
    *,
    options: PlanOptions | None = None,
    **changes: Unpack[PlanOptionsArgs],
) -> Reconciliation:
    """Compare what Kravia reports of the ``transactions`` it has invoiced with the plan
    of the same transactions under ``config`` and the options.

    Transactions Kravia has not invoiced yet, and records not in Dintero's shape, are
    planned (they can share an invoice with invoiced ones) but not checked.
    """
    if isinstance(transactions, str | bytes | Mapping) or not isinstance(transactions, Iterable):
        kind = type(transactions).__name__
        raise InvalidArgument(f"reconcile takes an iterable of transactions, got a {kind}")
    records: list[Mapping[str, Any]] = []
    facts: dict[str, KraviaFacts] = {}
    unbilled: set[str] = set()
    for record in transactions:
        records.append(_as_invoiced(record, facts, unbilled))
    plan = plan_invoices(records, config, options=options, **changes)
    on_invoice: dict[str, Invoice] = {
        tid: invoice for invoice in plan.invoices for tid in invoice.transaction_ids
    }
    why_not = {s.transaction_id: f"{s.reason.value}: {s.detail}" for s in plan.skipped}
    why_not.update((r.transaction_id, r.reason) for r in plan.rejected if r.transaction_id)
    by_number: dict[str, set[str]] = defaultdict(set)
    for tid, fact in facts.items():
        if fact.invoice_number is not None:
            by_number[fact.invoice_number].add(tid)
    found: list[Discrepancy] = []
    for tid, fact in sorted(facts.items()):
        invoice = on_invoice.get(tid)
        if invoice is None:
            why = why_not.get(tid, "not planned")
            found.append(Discrepancy(tid, Finding.NOT_SCHEDULED, None, fact.invoice_number, why))
            continue
        found += _grouping(tid, fact, invoice, on_invoice, by_number, facts)
        found += _dates(tid, fact, invoice, plan.provenance.config, plan.provenance.due_date_rule)
    for tid in sorted(unbilled - set(facts)):  # a later copy of an id may be invoiced
        invoice = on_invoice.get(tid)
        if invoice is not None and invoice.state is InvoiceState.READY:
            why = f"issued on {invoice.issue_date.isoformat()}: {_issue_why(invoice, tid)}"
            found.append(Discrepancy(tid, Finding.NOT_INVOICED, invoice.id, None, why))
    return Reconciliation(tuple(found), len(facts), plan)


def _as_invoiced(
    record: Mapping[str, Any], facts: dict[str, KraviaFacts], unbilled: set[str]
) -> Mapping[str, Any]:
    """``record`` as the schedule plans it, noting Kravia's facts of an invoiced one (a
    registered transaction in the state its kind is invoiced in), and in ``unbilled`` the
    Kravia transactions of which Kravia reports no invoice yet."""
    if not read_as_dintero(record):
        return record
    try:
        transaction = read_transaction(record)
    except InvalidPurchaseError:
        return record  # the plan rejects it, saying why
    product = transaction.product_type
    if product is None:
        return record
    if not transaction.kravia.invoiced:
        unbilled.add(transaction.id)
        return record
    facts[transaction.id] = transaction.kravia
    status = TransactionStatus(transaction.status)
    if status not in rules.REGISTERED_STATUSES:
        return record
    invoiced = rules.invoiced_statuses(product)
    if status in invoiced:
        return record
    return {**record, "status": min(invoiced).value}


def _grouping(
    tid: str,
    fact: KraviaFacts,
    invoice: Invoice,
    on_invoice: Mapping[str, Invoice],
    by_number: Mapping[str, set[str]],
    facts: Mapping[str, KraviaFacts],
) -> list[Discrepancy]:
    """Whether Kravia's invoice of ``tid`` holds the transactions the schedule's does."""
    number = fact.invoice_number
    if number is None:
        return []
    theirs = by_number[number]
    ours = {u for u in invoice.transaction_ids if u in facts}  # those Kravia has invoiced
    if theirs == ours:
        return []
    elsewhere = sorted(
        f"{u} (schedule: {on_invoice[u].id})" if u in on_invoice else f"{u} (schedule: none)"
        for u in theirs - ours
    )
    apart = sorted(f"{u} (Kravia: {facts[u].invoice_number})" for u in ours - theirs)
    parts = []
    if elsewhere:
        parts.append(f"Kravia's invoice {number} also holds {', '.join(elsewhere)}")
    if apart:
        parts.append(f"the schedule's invoice also holds {', '.join(apart)}")
    return [Discrepancy(tid, Finding.OTHER_INVOICE, invoice.id, number, "; ".join(parts))]


def _dates(
    tid: str, fact: KraviaFacts, invoice: Invoice, config: KraviaConfig, rule: DateRoll
) -> list[Discrepancy]:
    """Whether Kravia issued the invoice of ``tid`` on the schedule's dates."""
    out = []
    if fact.invoice_date is not None and fact.invoice_date != invoice.issue_date:
        out.append(
            Discrepancy(
                tid, Finding.ISSUE_DATE, invoice.issue_date.isoformat(),
                fact.invoice_date.isoformat(), _issue_why(invoice, tid),
            )
        )  # fmt: skip
    if fact.invoice_due_date is not None and fact.invoice_due_date != invoice.due_date:
        key = invoice.product_type.config_key
        days = config.product(invoice.product_type).days_until_due
        why = f"{days} days after the issue date {invoice.issue_date.isoformat()} ({key}.days_until_due)"
        if (invoice.due_date - invoice.issue_date).days != days:
            why += f", moved to the next business day ({rule.value})"
        out.append(
            Discrepancy(
                tid, Finding.DUE_DATE, invoice.due_date.isoformat(),
                fact.invoice_due_date.isoformat(), why,
            )
        )  # fmt: skip
    return out


def _issue_why(invoice: Invoice, tid: str) -> str:
    """Why the schedule issues ``invoice``, which holds ``tid``, on its day: the purchase's
    local date (a purchase late in the evening UTC is the next day in the Nordics) and
    the rule of its kind."""
    zone = invoice.customer.country.zone
    created = next(line.created_at for line in invoice.lines if line.transaction_id == tid)
    local = created.astimezone(zone).date().isoformat()
    purchased = f"purchased on {local} in {zone.key}"
    if invoice.product_type is not ProductType.B2B_GROUPED or invoice.period is None:
        return f"{purchased}; a standard invoice is issued on the purchase's local date"
    period = invoice.period
    why = (
        f"{purchased}, in billing period {period.label} ({period.start} to {period.end}); "
        "issued on the first business day after it"
    )
    if invoice.issue_skipped:
        why += f", past {describe_skipped(invoice.issue_skipped)}"
    return why
