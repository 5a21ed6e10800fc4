"""Following Dintero: the lifecycle steps that bring a held transaction to Dintero's view.

Pure: no storage. Dintero reports a transaction many times over its life (``GET
/v1/transactions``, the session callback, checkout webhooks), and the copies may arrive
late, twice or out of order. :func:`read_copy` reads one record as a :class:`Copy`:
Dintero's view at one moment (a full transaction, or a webhook envelope's status update).
:func:`steps` gives the lifecycle actions (:mod:`kravia_schedule.lifecycle`) that move the
ledger's balance of the transaction to that view, each one an allowed transition, or
raises :class:`ImpossibleUpdate` naming the transaction and both states.

Rules (chosen so that any interleaving and repetition of a transaction's copies leaves
the ledger as syncing them once, in order):

* A copy is newer than another when its ``updated_at`` is later, or, at the same
  ``updated_at``, when it lists more events (:attr:`Copy.freshness`). An older copy
  changes nothing; two copies of one moment that disagree are a conflict.
* Money moves come from the successful ``CAPTURE``, ``REFUND`` and ``VOID`` events, in the
  order Dintero lists them (which is the order they happened): one ``pay``, ``refund`` or
  ``void`` step per event, its event id as the step's reference. An event whose money the
  ledger already holds (running totals per kind) is not applied again; so a copy that
  skips intermediate copies gives the same steps as those copies would have.
* Then the status: a status the events do not explain is one more step (``hold``,
  ``release``, ``settle``, ``fail``, a ``void``, or a ``pay``/``refund`` of all that is left,
  as a webhook's status update says); a partial status without the events that give its
  amount is refused.
* A new Kravia transaction enters the lifecycle by ``register`` (grouped; standard under
  the older flow, captured on registration), ``authorize`` (standard under today's flow:
  ``AUTHORIZED``, or captures in its events) or ``fail``. ``INITIATED``, ``UNKNOWN`` and
  ``DECLINED`` transactions, and those of other payment products, are held outside the
  lifecycle until a copy says Kravia registered them.
* A grouped transaction that Dintero shows paid before the ledger has issued its grouped
  invoice (the lifecycle pays a grouped transaction only once its invoice is issued) is
  held *deferred* (:func:`follow`): it enters the lifecycle as far as it can (registered,
  on its pending invoice), and the steps that need the issued invoice wait, as
  :class:`WaitingStep`, computed as if the invoice were issued. A newer copy adds the
  steps it takes beyond the waiting ones; ``issue`` applies them, in order, each one an
  allowed step. A refusal that issuing would not lift is refused as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from kravia_schedule.config import ProductType
from kravia_schedule.dintero import (
    EventKind,
    classify,
    read_transaction,
    read_webhook,
)
from kravia_schedule.errors import (
    FieldProblem,
    IllegalTransition,
    InvalidPurchaseError,
    KraviaScheduleError,
    LedgerConflict,
    UnknownId,
)
from kravia_schedule.ledger.schema import instant
from kravia_schedule.lifecycle import (
    TRANSITIONS,
    Action,
    ProductKind,
    Rule,
    TransactionBalance,
    apply,
    new_transaction,
)
from kravia_schedule.statuses import TransactionStatus

__all__ = [
    "HELD_OUTSIDE",
    "Copy",
    "CopyConflict",
    "ImpossibleUpdate",
    "MoneyEvent",
    "Step",
    "SyncReport",
    "UnknownTransaction",
    "WaitingStep",
    "after_waiting",
    "follow",
    "kravia_product",
    "read_copy",
    "steps",
]

S = TransactionStatus

#: Statuses of a transaction Kravia has not registered (or Dintero cannot tell): held,
#: with its reason, outside the lifecycle.
HELD_OUTSIDE: frozenset[TransactionStatus] = frozenset({S.INITIATED, S.UNKNOWN, S.DECLINED})
#: Standard transactions in these states were registered under today's flow (AUTHORIZED).
_AUTHORIZED_FLOW = frozenset(
    {S.AUTHORIZED, S.PARTIALLY_CAPTURED, S.PARTIALLY_CAPTURED_REFUNDED, S.AUTHORIZATION_VOIDED}
)
_ACTION_OF = {EventKind.CAPTURE: Action.PAY, EventKind.REFUND: Action.REFUND,
              EventKind.VOID: Action.VOID}  # fmt: skip


class ImpossibleUpdate(LedgerConflict):
    """Dintero's view of a transaction cannot be reached from the ledger's by allowed
    lifecycle steps; nothing of that copy was applied."""

    field = "status"

    def __init__(
        self,
        transaction_id: str,
        from_state: str,
        to_state: str,
        reason: str,
        *,
        until_issued: bool = False,
    ) -> None:
        self.transaction_id = transaction_id
        self.from_state = from_state
        self.to_state = to_state
        self.reason = reason
        #: Refused only because the grouped invoice is not issued yet (:func:`follow`
        #: defers such a copy instead).
        self.until_issued = until_issued
        super().__init__(
            f"transaction {transaction_id!r}: cannot go from {from_state} to {to_state}: {reason}"
        )


class CopyConflict(LedgerConflict):
    """A copy of a transaction contradicts the ledger's in ``field``: two copies of the
    same moment (``updated_at`` and number of events) disagree, or a copy names another
    product type or amount than the transaction held (which one is Dintero's cannot be
    told)."""

    def __init__(self, transaction_id: str, message: str, field: str = "updated_at") -> None:
        self.transaction_id = transaction_id
        self.field = field
        super().__init__(f"transaction {transaction_id!r}: {message}")


class UnknownTransaction(UnknownId):
    """A status update (a webhook's) of a transaction the ledger does not hold."""

    field = "id"

    def __init__(self, transaction_id: str) -> None:
        self.transaction_id = transaction_id
        super().__init__(
            f"transaction {transaction_id!r}: a status update of a transaction the ledger "
            "does not hold; sync the full transaction first"
        )


@dataclass(frozen=True, slots=True)
class MoneyEvent:
    """A successful ``CAPTURE``, ``REFUND`` or ``VOID`` event (``amount`` ``None``: a void
    of what remains)."""

    kind: EventKind
    amount: int | None
    reference: str | None


@dataclass(frozen=True, slots=True)
class Copy:
    """Dintero's view of one transaction at one moment.

    ``record`` is the record read (a transaction in Dintero's or the flat shape, whose
    order lines an invoice keeps; ``None`` for a webhook's status update, which carries
    no purchase); ``event_count`` is ``None`` for a webhook (it
    carries no events, so it says nothing about them).
    """

    transaction_id: str
    payment_product_type: str | None
    status: TransactionStatus
    settlement_status: str | None
    moment: datetime | None
    event_count: int | None
    events: tuple[MoneyEvent, ...]
    record: Mapping[str, Any] | None

    @property
    def product_type(self) -> ProductType | None:
        """The Kravia product type, ``None`` for another payment product (or unknown)."""
        return kravia_product(self.payment_product_type)

    @property
    def freshness(self) -> tuple[int, int] | None:
        """(``updated_at`` as an instant, number of events); ``None`` when unknown."""
        if self.moment is None:
            return None
        return instant(self.moment), self.event_count or 0


_KRAVIA = {p.value: p for p in ProductType}


def kravia_product(payment_product_type: str | None) -> ProductType | None:
    """The Kravia :class:`ProductType` of a ``payment_product_type``; ``None`` for another
    payment product (card, Vipps, …) or none."""
    return _KRAVIA.get(payment_product_type or "")


def read_copy(record: object) -> Copy:
    """One record as a :class:`Copy`: a Dintero transaction, a webhook envelope or the
    library's flat shape. Raises :class:`InvalidPurchaseError` naming the record and field."""
    shape = classify(record)
    if shape == "webhook":
        update = read_webhook(record)
        if update.updated_at is None:  # it could not be ordered against other copies
            problem = FieldProblem("transaction.updated_at", "is required to order a status update")
            raise InvalidPurchaseError(update.transaction_id, [problem])
        return Copy(
            update.transaction_id, None, S(update.status), None, update.updated_at, None, (),
            None,
        )  # fmt: skip
    if shape == "flat":
        return _flat_copy(record)
    transaction = read_transaction(record)
    assert isinstance(record, Mapping)  # read_transaction refuses anything else
    events = tuple(
        MoneyEvent(kind, e.amount, e.id)
        for e in transaction.events
        if e.success and (kind := e.kind) in _ACTION_OF
    )
    settlement = transaction.settlement_status
    return Copy(
        transaction.id,
        transaction.payment_product_type,
        S(transaction.status),
        None if settlement is None else settlement.value,
        transaction.updated_at or transaction.created_at,
        len(transaction.events),
        events,
        record,
    )


def _flat_copy(record: object) -> Copy:
    assert isinstance(record, Mapping)
    tid = record.get("id")
    tid = tid if isinstance(tid, str) and tid.strip() else None
    try:
        status = S(str(record.get("status")))
    except ValueError:
        known = ", ".join(s.value for s in S)
        problem = FieldProblem("status", f"unknown value {record.get('status')!r}; known: {known}")
        raise InvalidPurchaseError(tid, [problem]) from None
    if tid is None:
        raise InvalidPurchaseError(None, [FieldProblem("id", "must be a non-empty string")])
    product = record.get("payment_product_type")
    return Copy(
        tid, product if isinstance(product, str) else None, status, None, None, 0, (), record
    )


Step = tuple[TransactionBalance, TransactionBalance, Action, int | None, str | None]


def _entry(copy: Copy, product_type: ProductType) -> Action:
    """How a new transaction entered the lifecycle, as far as this copy tells."""
    if copy.status is S.FAILED:
        return Action.FAIL
    if ProductKind.of(product_type) is ProductKind.GROUPED:
        return Action.REGISTER
    captures = any(e.kind is EventKind.CAPTURE for e in copy.events)
    return Action.AUTHORIZE if captures or copy.status in _AUTHORIZED_FLOW else Action.REGISTER


def _status_step(b: TransactionBalance, target: TransactionStatus) -> tuple[Action, int | None]:
    """The one action that gives ``b`` the status ``target`` without events."""
    if target is S.CAPTURED and b.status is S.ON_HOLD:
        return Action.RELEASE, None
    if target is S.CAPTURED:
        return Action.PAY, b.authorized
    if target is S.REFUNDED:
        return Action.REFUND, b.refundable
    simple = {S.ON_HOLD: Action.HOLD, S.FAILED: Action.FAIL, S.SETTLED: Action.SETTLE,
              S.AUTHORIZATION_VOIDED: Action.VOID}  # fmt: skip
    if target in simple:
        return simple[target], None
    if target in (S.PARTIALLY_CAPTURED, S.PARTIALLY_REFUNDED, S.PARTIALLY_CAPTURED_REFUNDED):
        why = "the update does not say how much; sync the full transaction with its events"
    else:
        why = f"the lifecycle has no step back to {target.value}"
    raise ImpossibleUpdate(b.transaction_id, b.status.value, target.value, why)


def steps(
    current: TransactionBalance | None, copy: Copy, product_type: ProductType, amount: int
) -> tuple[Step, ...]:
    """The lifecycle steps from ``current`` (``None``: not in the lifecycle yet, a
    transaction of ``amount``) to Dintero's view ``copy`` (rules: module docstring).

    Raises :class:`ImpossibleUpdate` when a step is refused by the lifecycle or the
    events and the status disagree; :class:`InvalidPurchaseError` for an amount the
    lifecycle refuses.
    """
    tid, target = copy.transaction_id, copy.status
    done: list[Step] = []

    def take(b: TransactionBalance, action: Action, value: int | None, ref: str | None) -> None:
        try:
            after = apply(b, action, value)
        except IllegalTransition as error:
            raise ImpossibleUpdate(
                tid,
                b.status.value,
                target.value,
                f"{action.value}: {error.reason}",
                until_issued=_waits_for_issue(b, action),
            ) from None
        done.append((b, after, action, value, ref))

    if current is None:
        take(new_transaction(tid, product_type, amount), _entry(copy, product_type), None, None)
    start = done[-1][1] if done else current
    assert start is not None
    held = {EventKind.CAPTURE: start.captured, EventKind.REFUND: start.refunded,
            EventKind.VOID: start.voided}  # fmt: skip
    running = dict.fromkeys(held, 0)
    for event in copy.events:
        part = event.amount
        if part is None:  # a void of what remains of the copy's own amount
            part = max(amount - running[EventKind.CAPTURE] - running[EventKind.VOID], 0)
        before_total = running[event.kind]
        running[event.kind] += part
        new = running[event.kind] - max(before_total, held[event.kind])
        if new <= 0:
            continue  # the ledger holds this money already
        b = done[-1][1] if done else start
        action = _ACTION_OF[event.kind]
        if action is Action.VOID:
            if new != b.authorized:
                raise ImpossibleUpdate(
                    tid, b.status.value, target.value,
                    f"a void of {new} of the {b.authorized} open (a part cannot be voided)",
                )  # fmt: skip
            take(b, action, None, event.reference)
        else:
            take(b, action, new, event.reference)
    b = done[-1][1] if done else start
    if b.status is not target:
        action, value = _status_step(b, target)
        # A full copy's money is in its events alone; only a status update (which
        # carries none) says "all that is left" by its status.
        if value is not None and copy.event_count is not None:
            raise ImpossibleUpdate(tid, b.status.value, target.value, _unexplained(b))
        take(b, action, value, None)
        b = done[-1][1]
        if b.status is not target:
            raise ImpossibleUpdate(tid, b.status.value, target.value, _unexplained(b))
    return tuple(done)


def _waits_for_issue(b: TransactionBalance, action: Action) -> bool:
    """Whether the lifecycle refuses ``action`` on ``b`` only for want of an issued invoice."""
    entry = TRANSITIONS.get((b.kind, b.status, action))
    return isinstance(entry, Rule) and entry.issued is True and not b.issued


@dataclass(frozen=True, slots=True)
class WaitingStep:
    """A lifecycle step Dintero's view holds that waits for the grouped invoice to be
    issued (``reference``: the event id, ``None`` for a status update's)."""

    action: Action
    amount: int | None
    reference: str | None

    def __str__(self) -> str:
        amount = "" if self.amount is None else f" {self.amount}"
        reference = "" if self.reference is None else f" [{self.reference}]"
        return f"{self.action.value}{amount}{reference}"


def after_waiting(
    current: TransactionBalance, waiting: Sequence[WaitingStep]
) -> TransactionBalance:
    """``current`` once its invoice is issued and its ``waiting`` steps applied, each an
    allowed lifecycle step (:class:`IllegalTransition` otherwise)."""
    b = apply(current, Action.ISSUE)
    for step in waiting:
        b = apply(b, step.action, step.amount)
    return b


def follow(
    current: TransactionBalance | None,
    waiting: Sequence[WaitingStep],
    copy: Copy,
    product_type: ProductType,
    amount: int,
) -> tuple[tuple[Step, ...], tuple[WaitingStep, ...]]:
    """The steps to take now and the steps that wait for the grouped invoice, from
    ``current`` (with the ``waiting`` steps held so far) to Dintero's view ``copy``.

    Without waiting steps, as :func:`steps`; when the lifecycle refuses a step only
    because the invoice is not issued (a grouped transaction paid first), the steps up to
    it are taken now and the rest, computed as if the invoice were issued, wait. With
    waiting steps (the ledger's balance stays as it is until ``issue``), the copy's steps
    from the balance they lead to are added to them. Raises :class:`ImpossibleUpdate` as
    :func:`steps` when issuing would not make the copy reachable.
    """
    if waiting:
        assert current is not None  # waiting steps belong to a held transaction
        later = steps(after_waiting(current, waiting), copy, product_type, amount)
        return (), (*waiting, *(WaitingStep(a, v, r) for _, _, a, v, r in later))
    try:
        return steps(current, copy, product_type, amount), ()
    except ImpossibleUpdate as refusal:
        if not refusal.until_issued:
            raise
    # Only a registered grouped transaction is refused for want of its invoice; nothing
    # but its registration comes before (a void would end its lifecycle).
    now = () if current is not None else steps(None, _entered(copy), product_type, amount)
    base = current if current is not None else now[-1][1]
    later = steps(apply(base, Action.ISSUE), copy, product_type, amount)
    return now, tuple(WaitingStep(a, v, r) for _, _, a, v, r in later)


def _entered(copy: Copy) -> Copy:
    """``copy`` as far as its entry into the lifecycle: no money, the entry's status."""
    return replace(copy, status=S.AUTHORIZED, events=())


def _unexplained(b: TransactionBalance) -> str:
    return (
        f"its events leave it {b.status.value} (captured {b.captured}, refunded "
        f"{b.refunded}, voided {b.voided} of {b.purchased})"
    )


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What :meth:`Ledger.sync` did, by transaction id: ``added`` (new to the ledger),
    ``changed`` (brought to a newer copy), ``unchanged`` (the same or an older copy), and
    the ``refused`` records, each with its error (:class:`InvalidPurchaseError` for a
    record that cannot be read, :class:`ImpossibleUpdate`, :class:`CopyConflict`,
    :class:`UnknownTransaction`; each names the transaction and the field).
    ``not_invoiced`` gives, for each added or changed transaction that is on no invoice,
    why (``rules.outcome``'s wording, or why it cannot be invoiced). ``deferred`` gives,
    for each added or changed transaction whose copy is held with steps waiting for its
    grouped invoice to be issued (:func:`follow`), which steps wait for which invoice;
    these are among ``added`` or ``changed``, never refused."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    refused: tuple[KraviaScheduleError, ...]
    not_invoiced: tuple[tuple[str, str], ...]
    deferred: tuple[tuple[str, str], ...] = ()
