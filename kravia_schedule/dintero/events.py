"""A transaction's events: what was captured, refunded and voided, and Kravia's own facts.

``TransactionEvent`` (line 5319): ``event`` (:class:`EventKind`), ``success`` ("The event
operation completed with success"), ``amount`` ("Amount captured or refunded"),
``transaction_status`` (the status after the event), ``created_at``, ``request_id``,
``correlation_request_id`` (set on a ``CAPTURE``/``REFUND`` that completes an
``INITIATE_CAPTURE``/``INITIATE_REFUND``) and ``metadata``. Kravia's facts are in the
transaction's ``metadata`` and its events' ``metadata`` (``TransactionKravia``, line 5834).

Rules (the definition leaves them to the reader):

* Only events with ``success: true`` move money; a failed or unreported (``success``
  absent) event counts for nothing.
* ``CAPTURE`` and ``REFUND`` events carry their ``amount``; a successful one without it
  is refused (it would be read as zero).
* A successful ``VOID`` without ``amount`` voids what remains of the registered amount
  (nothing can be captured after it).
* Events are taken in the order Dintero lists them, which is the order they happened
  (the ``Transaction.events`` example, lines 6119-6189).
* An event name outside :class:`EventKind` is kept (``name``) and moves no money: the
  definition's own example lists ``"INITIATE"`` (line 6121), which the enum lacks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import date, datetime

from kravia_schedule._frozen import builder
from kravia_schedule.dintero.fields import Reader
from kravia_schedule.dintero.schema import TRANSACTION_STATUSES, EventKind
from kravia_schedule.errors import FieldProblem

__all__ = [
    "NO_FACTS",
    "EventAmounts",
    "KraviaFacts",
    "TransactionEvent",
    "event_amounts",
    "kravia_facts",
    "read_event",
    "read_kravia_metadata",
]

_EVENT_KINDS = {kind.value: kind for kind in EventKind}


@dataclass(frozen=True, slots=True)
class KraviaFacts:
    """What Kravia reported about the invoice it made of a transaction.

    From ``TransactionKravia`` (line 5834): the transaction's ``metadata`` holds
    ``kravia:invoice_number`` and ``kravia:invoice_url``; its events' ``metadata`` hold
    ``kravia:invoice_date`` and ``kravia:invoice_due_date`` (``Format: date``),
    ``kravia:invoice_number``, ``kravia:creditor_id``, ``kravia:debtor_id``,
    ``kravia:invoice_id`` and ``kravia:case_number``. All ``None`` until Kravia invoiced.
    """

    invoice_number: str | None = None
    invoice_url: str | None = None
    invoice_date: date | None = None
    invoice_due_date: date | None = None
    invoice_id: str | None = None
    creditor_id: str | None = None
    debtor_id: str | None = None
    case_number: str | None = None

    @property
    def invoiced(self) -> bool:
        """Whether Kravia reported an invoice (a number, URL, id or invoice date)."""
        return any(
            v is not None
            for v in (self.invoice_number, self.invoice_url, self.invoice_id, self.invoice_date)
        )

    def merged(self, later: KraviaFacts) -> KraviaFacts:
        """These facts updated by the ones ``later`` gives (``None`` there keeps ours)."""
        changes = {
            name: getattr(later, name) for name in _FACT_NAMES if getattr(later, name) is not None
        }
        return replace(self, **changes)


#: The facts of a transaction Kravia has not invoiced (shared: most carry none).
NO_FACTS = KraviaFacts()
_FACT_NAMES = tuple(f.name for f in fields(KraviaFacts))
_TEXT_KEYS = ("invoice_number", "invoice_url", "invoice_id", "creditor_id", "debtor_id",
              "case_number")  # fmt: skip
_KRAVIA_KEYS = tuple(f"kravia:{name}" for name in _FACT_NAMES)


def read_kravia_metadata(metadata: Reader) -> KraviaFacts:
    """The ``kravia:*`` members of a ``metadata`` object; other members are ignored."""
    if not any(key in metadata.obj for key in _KRAVIA_KEYS):  # most metadata has none
        return NO_FACTS
    texts = {name: metadata.text(f"kravia:{name}") for name in _TEXT_KEYS}
    return KraviaFacts(
        invoice_date=metadata.day("kravia:invoice_date"),
        invoice_due_date=metadata.day("kravia:invoice_due_date"),
        **texts,
    )


@dataclass(frozen=True, slots=True)
class TransactionEvent:
    """One ``TransactionEvent`` (line 5319), the members the library uses."""

    name: str | None
    success: bool
    amount: int | None = None
    id: str | None = None
    transaction_status: str | None = None
    created_at: datetime | None = None
    request_id: str | None = None
    correlation_request_id: str | None = None
    calculated_vat_amount: int | None = None
    kravia: KraviaFacts = KraviaFacts()

    @property
    def kind(self) -> EventKind | None:
        """The event's :class:`EventKind`, ``None`` for a name outside the enum."""
        return None if self.name is None else _EVENT_KINDS.get(self.name)


#: Builds a read event without the frozen ``__init__`` (see :mod:`kravia_schedule._frozen`).
_new_event = builder(TransactionEvent)


def read_event(event: Reader) -> TransactionEvent:
    """Read one element of ``events[]``; problems go to ``event.problems``."""
    name = event.text("event")
    success = event.boolean("success") is True
    amount = event.money("amount")
    kind = None if name is None else _EVENT_KINDS.get(name)
    absent = event.obj.get("amount") is None  # (a present but bad one is a problem already)
    if success and absent and kind in (EventKind.CAPTURE, EventKind.REFUND):
        event.problem("amount", f"is required on a successful {name} event")
    metadata = event.child("metadata")
    return _new_event(
        name,
        success,
        amount,
        event.text("id"),
        event.choice("transaction_status", TRANSACTION_STATUSES),
        event.timestamp("created_at"),
        event.text("request_id"),
        event.text("correlation_request_id"),
        event.money("calculated_vat_amount", signed=True),
        NO_FACTS if metadata is None else read_kravia_metadata(metadata),
    )


def kravia_facts(metadata: KraviaFacts, events: Iterable[TransactionEvent]) -> KraviaFacts:
    """A transaction's Kravia facts: each fact from the latest event that gives it, else
    from the transaction's ``metadata`` (which is the current invoice number and URL)."""
    facts = NO_FACTS
    for event in events:
        if event.kravia != NO_FACTS:  # most events carry none
            facts = facts.merged(event.kravia)
    return facts.merged(
        KraviaFacts(invoice_number=metadata.invoice_number, invoice_url=metadata.invoice_url)
    )


@dataclass(frozen=True, slots=True)
class EventAmounts:
    """A transaction's money as its successful events tell it, in minor units.

    ``registered`` is the transaction's ``amount`` (authorized: for Kravia, invoiced);
    ``captured`` the sum of successful ``CAPTURE`` events (today's Kravia flow captures
    when the shopper pays, so this is what was paid); ``refunded`` and ``voided`` likewise.
    ``outstanding`` is what is neither captured nor voided. ``initiated`` holds the
    ``INITIATE_*`` kinds of the successful events (``INITIATE_CAPTURE``: Kravia's collection
    started); ``pending`` those not (yet) followed by a successful event of the operation
    they start (an ``INITIATE_CAPTURE`` with no ``CAPTURE`` after it).
    """

    registered: int
    captured: int = 0
    refunded: int = 0
    voided: int = 0
    initiated: frozenset[EventKind] = frozenset()
    pending: frozenset[EventKind] = frozenset()

    @property
    def outstanding(self) -> int:
        return self.registered - self.captured - self.voided

    @property
    def net_captured(self) -> int:
        """Captured less refunded: what the merchant keeps."""
        return self.captured - self.refunded

    def problems(self) -> list[FieldProblem]:
        """Why these amounts cannot be (more captured and voided than registered, more
        refunded than captured); each names ``events``."""
        problems = []
        if self.captured + self.voided > self.registered:
            problems.append(
                FieldProblem(
                    "events",
                    f"successful CAPTURE ({self.captured}) and VOID ({self.voided}) events "
                    f"exceed the amount {self.registered}",
                )
            )
        if self.refunded > self.captured:
            problems.append(
                FieldProblem(
                    "events",
                    f"successful REFUND events ({self.refunded}) exceed the captured "
                    f"{self.captured}",
                )
            )
        return problems


def event_amounts(registered: int, events: Iterable[TransactionEvent]) -> EventAmounts:
    """The :class:`EventAmounts` of a transaction of amount ``registered`` (rules: module
    docstring)."""
    totals = {EventKind.CAPTURE: 0, EventKind.REFUND: 0, EventKind.VOID: 0}
    initiated: set[EventKind] = set()
    # operation -> the INITIATE_* event when that is the operation's latest event
    open_by: dict[EventKind, EventKind | None] = {}
    for event in events:
        kind = event.kind
        if not event.success or kind is None:
            continue
        started = kind.initiates
        if started is not None:
            initiated.add(kind)
            open_by[started] = kind
        elif kind in totals:
            open_by[kind] = None
            if event.amount is not None:
                totals[kind] += event.amount
            elif kind is EventKind.VOID:
                remaining = registered - totals[EventKind.CAPTURE] - totals[EventKind.VOID]
                totals[kind] += max(remaining, 0)
    return EventAmounts(
        registered,
        captured=totals[EventKind.CAPTURE],
        refunded=totals[EventKind.REFUND],
        voided=totals[EventKind.VOID],
        initiated=frozenset(initiated),
        pending=frozenset(k for k in open_by.values() if k is not None),
    )
