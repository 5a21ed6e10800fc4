"""The lifecycle of a Kravia transaction: which action is allowed in which state, and the money.

This is the pure rule book of the invoice ledger: no storage, no clock, no I/O. A
transaction is a :class:`TransactionBalance` (state + integer minor-unit amounts); an
:class:`Action` moves it to a new balance through :func:`apply`, or is refused with
:class:`~kravia_schedule.errors.IllegalTransition` naming the transaction, its state and
the action. :func:`allocate` splits one payment of a consolidated invoice over its
transactions and :func:`pay_invoice` applies that split.

A transaction starts ``INITIATED`` (:func:`new_transaction`) and is registered with
Kravia. Grouped B2B transactions are then ``AUTHORIZED`` until their consolidated invoice
is paid. Standard B2B/B2C invoices follow either lifecycle Kravia has documented: the
older one captures them on registration (``register``: ``CAPTURED``, no authorization
step); today's registers them ``AUTHORIZED`` (``authorize``) and captures as the shopper
pays. Whether a grouped transaction is on an issued invoice is the
``issued`` flag of its balance, not a state of its own. The transition table
(:data:`TRANSITIONS`, ``kind / state / action -> next state``; a ``|`` lists the states a
rule chooses between, a ``[...]`` the condition)::

    kind      state               action     next state
    --------  ------------------  ---------  --------------------------------------------------------
    grouped   INITIATED           register   AUTHORIZED
    grouped   INITIATED           fail       FAILED
    grouped   AUTHORIZED          void       AUTHORIZATION_VOIDED  [only while not issued]
    grouped   AUTHORIZED          issue      AUTHORIZED  [only while not issued; sets issued]
    grouped   AUTHORIZED          pay        PARTIALLY_CAPTURED | CAPTURED  [only once issued; CAPTURED when nothing is left open]
    grouped   PARTIALLY_CAPTURED  pay        PARTIALLY_CAPTURED | CAPTURED  [CAPTURED when nothing is left open]
    grouped   CAPTURED            refund     PARTIALLY_REFUNDED | REFUNDED  [REFUNDED when all captured money is refunded]
    grouped   CAPTURED            settle     SETTLED
    grouped   PARTIALLY_REFUNDED  refund     PARTIALLY_REFUNDED | REFUNDED  [REFUNDED when all captured money is refunded]
    grouped   PARTIALLY_REFUNDED  settle     SETTLED
    standard  INITIATED           register   CAPTURED
    standard  INITIATED           fail       FAILED
    standard  INITIATED           authorize  AUTHORIZED
    standard  AUTHORIZED          void       AUTHORIZATION_VOIDED
    standard  AUTHORIZED          pay        PARTIALLY_CAPTURED | CAPTURED  [CAPTURED when nothing is left open]
    standard  PARTIALLY_CAPTURED  pay        PARTIALLY_CAPTURED | CAPTURED  [CAPTURED when nothing is left open]
    standard  CAPTURED            hold       ON_HOLD
    standard  CAPTURED            refund     PARTIALLY_REFUNDED | REFUNDED  [REFUNDED when all captured money is refunded]
    standard  CAPTURED            settle     SETTLED
    standard  PARTIALLY_REFUNDED  refund     PARTIALLY_REFUNDED | REFUNDED  [REFUNDED when all captured money is refunded]
    standard  PARTIALLY_REFUNDED  settle     SETTLED
    standard  ON_HOLD             release    CAPTURED
    standard  ON_HOLD             fail       FAILED

Every other (kind, state, action) is refused. ``AUTHORIZATION_VOIDED``, ``REFUNDED``,
``FAILED``, ``DECLINED`` and ``SETTLED`` are terminal.

Money (integer minor units, never floats) per transaction: ``purchased`` is split into
``authorized`` (still open), ``captured`` and ``voided`` (``authorized + captured + voided
== purchased`` always), and ``refunded <= captured``:

* ``register``: grouped keeps everything authorized; standard captures it all.
* ``authorize`` (standard, today's flow): keeps everything authorized; its invoice is
  issued with it.
* ``void`` / ``fail``: what is open (or, from ``ON_HOLD``, captured) becomes voided.
* ``pay(amount)``: ``0 < amount <= authorized`` moves from authorized to captured.
* ``refund(amount)``: ``0 < amount <= captured - refunded`` adds to refunded.
* ``issue``, ``hold``, ``release``, ``settle``: state (or ``issued``) only.

>>> t = apply(register("T1", ProductType.B2B_GROUPED, 10000), Action.ISSUE)
>>> t = apply(t, Action.PAY, 4000)
>>> t.status.value, t.authorized, t.captured
('PARTIALLY_CAPTURED', 6000, 4000)
>>> allocate(100, [("T1", 5000), ("T2", 5000), ("T3", 5000)])  # equal shares
(('T1', 34), ('T2', 33), ('T3', 33))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal

from kravia_schedule.config import ProductType
from kravia_schedule.errors import FieldProblem, IllegalTransition, InvalidPurchaseError
from kravia_schedule.purchases import TransactionStatus

__all__ = [
    "TRANSITIONS",
    "Action",
    "AllocationMethod",
    "ProductKind",
    "Rule",
    "TransactionBalance",
    "allocate",
    "allowed_actions",
    "apply",
    "new_transaction",
    "outcomes",
    "pay_invoice",
    "register",
    "render_table",
    "transition",
]

S = TransactionStatus


class Action(StrEnum):
    """What can happen to a transaction."""

    REGISTER = "register"
    AUTHORIZE = "authorize"
    VOID = "void"
    ISSUE = "issue"
    PAY = "pay"
    REFUND = "refund"
    HOLD = "hold"
    RELEASE = "release"
    FAIL = "fail"
    SETTLE = "settle"


class ProductKind(StrEnum):
    """The two lifecycles: grouped B2B, and standard (one invoice per purchase) B2B/B2C."""

    GROUPED = "grouped"
    STANDARD = "standard"

    @classmethod
    def of(cls, product_type: ProductType) -> ProductKind:
        return cls.GROUPED if product_type.is_grouped else cls.STANDARD


@dataclass(frozen=True, slots=True)
class Rule:
    """A table entry whose next state is chosen by the amount, or that has a guard.

    ``outcomes`` are the states the transition can lead to; ``issued``, when not ``None``,
    is the value the balance's ``issued`` flag must have; ``condition`` says it in words.
    """

    outcomes: tuple[TransactionStatus, ...]
    condition: str
    issued: bool | None = None


Transition = TransactionStatus | Rule

_PAID = Rule((S.PARTIALLY_CAPTURED, S.CAPTURED), "CAPTURED when nothing is left open")
_REFUND = Rule((S.PARTIALLY_REFUNDED, S.REFUNDED), "REFUNDED when all captured money is refunded")
_G, _S = ProductKind.GROUPED, ProductKind.STANDARD

#: The whole rule book: ``(kind, state, action) -> next state or rule``; absent = refused.
TRANSITIONS: Mapping[tuple[ProductKind, TransactionStatus, Action], Transition] = MappingProxyType(
    {
        (_G, S.INITIATED, Action.REGISTER): S.AUTHORIZED,
        (_G, S.INITIATED, Action.FAIL): S.FAILED,
        (_G, S.AUTHORIZED, Action.VOID): Rule(
            (S.AUTHORIZATION_VOIDED,), "only while not issued", issued=False
        ),
        (_G, S.AUTHORIZED, Action.ISSUE): Rule(
            (S.AUTHORIZED,), "only while not issued; sets issued", issued=False
        ),
        (_G, S.AUTHORIZED, Action.PAY): Rule(
            _PAID.outcomes, f"only once issued; {_PAID.condition}", issued=True
        ),
        (_G, S.PARTIALLY_CAPTURED, Action.PAY): _PAID,
        (_G, S.CAPTURED, Action.REFUND): _REFUND,
        (_G, S.CAPTURED, Action.SETTLE): S.SETTLED,
        (_G, S.PARTIALLY_REFUNDED, Action.REFUND): _REFUND,
        (_G, S.PARTIALLY_REFUNDED, Action.SETTLE): S.SETTLED,
        (_S, S.INITIATED, Action.REGISTER): S.CAPTURED,
        (_S, S.INITIATED, Action.FAIL): S.FAILED,
        # Today's Kravia flow: registered AUTHORIZED, captured as the shopper pays.
        (_S, S.INITIATED, Action.AUTHORIZE): S.AUTHORIZED,
        (_S, S.AUTHORIZED, Action.VOID): S.AUTHORIZATION_VOIDED,
        (_S, S.AUTHORIZED, Action.PAY): _PAID,
        (_S, S.PARTIALLY_CAPTURED, Action.PAY): _PAID,
        (_S, S.CAPTURED, Action.HOLD): S.ON_HOLD,
        (_S, S.CAPTURED, Action.REFUND): _REFUND,
        (_S, S.CAPTURED, Action.SETTLE): S.SETTLED,
        (_S, S.PARTIALLY_REFUNDED, Action.REFUND): _REFUND,
        (_S, S.PARTIALLY_REFUNDED, Action.SETTLE): S.SETTLED,
        (_S, S.ON_HOLD, Action.RELEASE): S.CAPTURED,
        (_S, S.ON_HOLD, Action.FAIL): S.FAILED,
    }
)

_AMOUNT_ACTIONS = frozenset({Action.PAY, Action.REFUND})


def outcomes(entry: Transition) -> tuple[TransactionStatus, ...]:
    """The states a table entry can lead to."""
    return entry.outcomes if isinstance(entry, Rule) else (entry,)


def render_table() -> str:
    """The transition table as the aligned text the module docstring shows."""
    widths = (8, 18, 9, 56)
    rows = [["kind", "state", "action", "next state"], ["-" * w for w in widths]]
    for (kind, state, action), entry in TRANSITIONS.items():
        target = " | ".join(s.value for s in outcomes(entry))
        if isinstance(entry, Rule):
            target += f"  [{entry.condition}]"
        rows.append([kind.value, state.value, action.value, target])
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


# --- the balance -----------------------------------------------------------------------

_MONEY = ("purchased", "authorized", "captured", "voided", "refunded")


def _shape_problem(b: TransactionBalance) -> str | None:
    """Why the amounts do not fit the status (a balance no sequence of actions reaches)."""
    all_open = b.authorized == b.purchased
    all_captured = b.captured == b.purchased
    all_voided = b.voided == b.purchased
    shapes: dict[TransactionStatus, tuple[bool, str]] = {
        S.INITIATED: (all_open, "everything open"),
        S.AUTHORIZED: (all_open, "everything open"),
        S.AUTHORIZATION_VOIDED: (all_voided, "everything voided"),
        S.FAILED: (all_voided, "everything voided"),
        S.DECLINED: (all_voided, "everything voided"),
        S.PARTIALLY_CAPTURED: (
            b.authorized > 0 and b.captured > 0 and b.voided == 0 and b.refunded == 0,
            "part open, part captured, nothing refunded",
        ),
        S.CAPTURED: (all_captured and b.refunded == 0, "everything captured, nothing refunded"),
        S.ON_HOLD: (all_captured and b.refunded == 0, "everything captured, nothing refunded"),
        S.PARTIALLY_REFUNDED: (
            all_captured and 0 < b.refunded < b.captured,
            "everything captured, part refunded",
        ),
        S.PARTIALLY_CAPTURED_REFUNDED: (
            b.authorized > 0 and 0 < b.refunded <= b.captured and b.voided == 0,
            "part open, part captured and refunded",
        ),
        S.REFUNDED: (all_captured and b.refunded == b.captured, "everything captured and refunded"),
        S.UNKNOWN: (True, ""),  # Dintero could not tell: any money
        S.SETTLED: (
            all_captured and b.refunded < b.captured,
            "everything captured, not all refunded",
        ),
    }
    fits, expected = shapes[b.status]
    return None if fits else f"a {b.status.value} transaction has {expected}"


@dataclass(frozen=True, slots=True)
class TransactionBalance:
    """One transaction's lifecycle state and money, in integer minor units.

    ``purchased == authorized + captured + voided`` and ``refunded <= captured`` always
    hold, and the amounts fit the status (a ``CAPTURED`` transaction has everything
    captured, …); construction raises :class:`InvalidPurchaseError` naming the
    transaction and the field otherwise. ``issued`` is true once the transaction's invoice
    is issued (grouped: by the ``issue`` action; standard: on registration). Strings are
    accepted for ``product_type`` and ``status`` (as a ledger reads them back).
    """

    transaction_id: str
    product_type: ProductType
    status: TransactionStatus
    issued: bool
    purchased: int
    authorized: int
    captured: int
    voided: int
    refunded: int

    def __post_init__(self) -> None:
        tid = self.transaction_id if isinstance(self.transaction_id, str) else None
        problems: list[FieldProblem] = []
        if not tid:
            problems.append(FieldProblem("transaction_id", "must be a non-empty string"))
        for name, enum in (("product_type", ProductType), ("status", TransactionStatus)):
            value = getattr(self, name)
            if not isinstance(value, enum):
                try:
                    object.__setattr__(self, name, enum(value))
                except ValueError:
                    problems.append(FieldProblem(name, f"unknown value {value!r}"))
        if not isinstance(self.issued, bool):
            problems.append(FieldProblem("issued", f"must be true or false, got {self.issued!r}"))
        for name in _MONEY:
            problem = _amount_problem(
                getattr(self, name), name, minimum=1 if name == "purchased" else 0
            )
            if problem is not None:
                problems.append(problem)
        if not problems:
            if self.authorized + self.captured + self.voided != self.purchased:
                problems.append(
                    FieldProblem(
                        "purchased",
                        f"authorized {self.authorized} + captured {self.captured} + voided "
                        f"{self.voided} must equal purchased {self.purchased}",
                    )
                )
            elif self.refunded > self.captured:
                problems.append(
                    FieldProblem(
                        "refunded", f"{self.refunded} exceeds the {self.captured} captured"
                    )
                )
            elif (shape := _shape_problem(self)) is not None:
                problems.append(FieldProblem("status", shape))
        if problems:
            raise InvalidPurchaseError(tid, problems)

    @property
    def kind(self) -> ProductKind:
        return ProductKind.of(self.product_type)

    @property
    def outstanding(self) -> int:
        """Still open (authorized, not yet paid, not voided)."""
        return self.authorized

    @property
    def refundable(self) -> int:
        """Captured and not yet refunded."""
        return self.captured - self.refunded


def _amount_problem(value: object, name: str, *, minimum: int = 1) -> FieldProblem | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return FieldProblem(
            name,
            f"must be an integer number of minor units, got {value!r} ({type(value).__name__})",
        )
    if value < minimum:
        need = "positive" if minimum == 1 else "zero or more"
        return FieldProblem(name, f"must be {need}, got {value}")
    return None


def new_transaction(
    transaction_id: str, product_type: ProductType | str, amount: int
) -> TransactionBalance:
    """A transaction not yet registered (``INITIATED``): the whole ``amount`` open."""
    problem = _amount_problem(amount, "amount")
    if problem is not None:
        raise InvalidPurchaseError(transaction_id, [problem])
    product: Any = product_type  # a string is converted (or refused) by TransactionBalance
    return TransactionBalance(transaction_id, product, S.INITIATED, False, amount, amount, 0, 0, 0)


def register(
    transaction_id: str, product_type: ProductType | str, amount: int
) -> TransactionBalance:
    """A registered transaction: grouped ``AUTHORIZED``, standard ``CAPTURED``."""
    return apply(new_transaction(transaction_id, product_type, amount), Action.REGISTER)


# --- transitions ------------------------------------------------------------------------

_Key = tuple[ProductKind | None, TransactionStatus | None, Action | None]

#: Why a (kind, state, action) is refused; the most specific key present wins.
_REASONS: Mapping[_Key, str] = {
    (None, S.AUTHORIZATION_VOIDED, None): "its authorization was voided",
    (None, S.FAILED, None): "its registration failed",
    (None, S.DECLINED, None): "it was declined",
    (None, S.REFUNDED, None): "it is fully refunded",
    (None, S.SETTLED, Action.REFUND): "refunds are not supported after settlement",
    (None, S.SETTLED, None): "it is settled",
    (None, S.INITIATED, None): "it is not registered yet",
    (None, S.UNKNOWN, None): "its state is unknown to Dintero",
    (None, S.PARTIALLY_CAPTURED_REFUNDED, None): "refunded after a partial payment",
    (None, None, Action.REGISTER): "it is already registered",
    (_G, S.INITIATED, Action.AUTHORIZE): "grouped: register it",
    (None, None, Action.AUTHORIZE): "it is already registered",
    (_S, None, Action.VOID): "not AUTHORIZED; refund it to cancel",
    (_G, S.PARTIALLY_CAPTURED, Action.VOID): "already partly paid",
    (_G, None, Action.VOID): "already paid",
    (_S, None, Action.ISSUE): "a standard invoice is issued on registration",
    (_G, None, Action.ISSUE): "already on an issued invoice",
    (_S, None, Action.PAY): "nothing is open to pay",
    (_G, None, Action.PAY): "already fully paid",
    (_G, S.AUTHORIZED, Action.REFUND): "nothing is captured yet",
    (_G, S.PARTIALLY_CAPTURED, Action.REFUND): "refunds wait until the invoice is fully paid",
    (None, S.ON_HOLD, None): "it is on hold; release it first",
    (_G, None, Action.HOLD): "grouped transactions are not held",
    (_G, None, Action.RELEASE): "grouped transactions are not held",
    (_S, None, Action.HOLD): "only a CAPTURED invoice can be put on hold",
    (_S, None, Action.RELEASE): "it is not on hold",
    (None, None, Action.FAIL): "only a registration or a held invoice can fail",
    (_G, None, Action.SETTLE): "not fully paid yet",
}


_SELF_EXPLAINING = frozenset(
    {
        S.INITIATED,
        S.AUTHORIZATION_VOIDED,
        S.FAILED,
        S.DECLINED,
        S.REFUNDED,
        S.SETTLED,
        S.UNKNOWN,
        S.PARTIALLY_CAPTURED_REFUNDED,
    }
)


def _refusal(kind: ProductKind, state: TransactionStatus, action: Action) -> str:
    """The reason the table has no entry for ``(kind, state, action)``."""
    # Not registered yet and terminal states explain themselves; elsewhere the action does.
    first = (None, state, None) if state in _SELF_EXPLAINING else None
    keys = (
        (kind, state, action),
        (None, state, action),
        first,
        (kind, None, action),
        (None, None, action),
        (None, state, None),
    )
    for key in keys:
        if key is not None and key in _REASONS:
            return _REASONS[key]
    return f"not a step of the {kind.value} lifecycle"


def _action(balance: TransactionBalance, action: Action | str) -> Action:
    try:
        return Action(action)
    except ValueError:
        known = ", ".join(a.value for a in Action)
        raise IllegalTransition(
            balance.transaction_id, balance.status, str(action), f"unknown action; known: {known}"
        ) from None


def transition(balance: TransactionBalance, action: Action | str) -> Transition:
    """The table entry for ``action`` on ``balance``, its guard checked.

    Raises :class:`IllegalTransition` (transaction, state, action and why) when the table
    has no entry or the entry's ``issued`` guard does not hold.
    """
    action = _action(balance, action)
    entry = TRANSITIONS.get((balance.kind, balance.status, action))
    if entry is None:
        reason = _refusal(balance.kind, balance.status, action)
        raise IllegalTransition(balance.transaction_id, balance.status, action, reason)
    if isinstance(entry, Rule) and entry.issued is not None and entry.issued != balance.issued:
        reason = (
            "its invoice is already issued" if balance.issued else "its invoice is not issued yet"
        )
        raise IllegalTransition(balance.transaction_id, balance.status, action, reason)
    return entry


def allowed_actions(balance: TransactionBalance) -> tuple[Action, ...]:
    """The actions the table allows on ``balance`` now (amounts permitting)."""
    allowed = []
    for action in Action:
        try:
            transition(balance, action)
        except IllegalTransition:
            continue
        allowed.append(action)
    return tuple(allowed)


def _register(b: TransactionBalance, _amount: int) -> TransactionBalance:
    if b.kind is ProductKind.GROUPED:
        return replace(b, status=S.AUTHORIZED)
    return replace(
        b, status=S.CAPTURED, issued=True, authorized=0, captured=b.captured + b.authorized
    )


def _authorize(b: TransactionBalance, _amount: int) -> TransactionBalance:
    return replace(b, status=S.AUTHORIZED, issued=True)  # its invoice, issued on registration


def _void(b: TransactionBalance, _amount: int) -> TransactionBalance:
    return replace(b, status=S.AUTHORIZATION_VOIDED, authorized=0, voided=b.voided + b.authorized)


def _fail(b: TransactionBalance, _amount: int) -> TransactionBalance:
    # From INITIATED everything is open; from ON_HOLD everything is captured, none refunded.
    return replace(b, status=S.FAILED, authorized=0, captured=0, voided=b.purchased)


def _issue(b: TransactionBalance, _amount: int) -> TransactionBalance:
    return replace(b, issued=True)


def _pay(b: TransactionBalance, amount: int) -> TransactionBalance:
    if amount > b.authorized:
        raise IllegalTransition(
            b.transaction_id,
            b.status,
            Action.PAY,
            f"a payment of {amount} exceeds the {b.authorized} outstanding",
        )
    authorized = b.authorized - amount
    status = S.CAPTURED if authorized == 0 else S.PARTIALLY_CAPTURED
    return replace(b, status=status, authorized=authorized, captured=b.captured + amount)


def _refund(b: TransactionBalance, amount: int) -> TransactionBalance:
    if amount > b.refundable:
        raise IllegalTransition(
            b.transaction_id,
            b.status,
            Action.REFUND,
            f"a refund of {amount} exceeds the {b.refundable} captured and not yet refunded",
        )
    refunded = b.refunded + amount
    status = S.REFUNDED if refunded == b.captured else S.PARTIALLY_REFUNDED
    return replace(b, status=status, refunded=refunded)


def _to(state: TransactionStatus) -> Callable[[TransactionBalance, int], TransactionBalance]:
    def move(b: TransactionBalance, _amount: int) -> TransactionBalance:
        return replace(b, status=state)

    return move


_EFFECTS: Mapping[Action, Callable[[TransactionBalance, int], TransactionBalance]] = {
    Action.REGISTER: _register,
    Action.AUTHORIZE: _authorize,
    Action.VOID: _void,
    Action.ISSUE: _issue,
    Action.PAY: _pay,
    Action.REFUND: _refund,
    Action.HOLD: _to(S.ON_HOLD),
    Action.RELEASE: _to(S.CAPTURED),
    Action.FAIL: _fail,
    Action.SETTLE: _to(S.SETTLED),
}


def apply(
    balance: TransactionBalance, action: Action | str, amount: int | None = None
) -> TransactionBalance:
    """The balance after ``action``; ``balance`` itself is never changed.

    ``pay`` and ``refund`` need a positive integer ``amount`` (minor units); the other
    actions take none. Raises :class:`IllegalTransition` when the table refuses the action
    in this state (or a payment exceeds what is outstanding, a refund what is captured and
    not refunded) and :class:`InvalidPurchaseError` (field ``amount``) for a missing,
    unexpected, non-integer or non-positive amount.
    """
    action = _action(balance, action)
    entry = transition(balance, action)
    if action in _AMOUNT_ACTIONS:
        if amount is None:
            problem: FieldProblem | None = FieldProblem("amount", f"is required to {action.value}")
        else:
            problem = _amount_problem(amount, "amount")
    else:
        problem = (
            None if amount is None else FieldProblem("amount", f"{action.value} takes no amount")
        )
    if problem is not None:
        raise InvalidPurchaseError(balance.transaction_id, [problem])
    after = _EFFECTS[action](balance, amount or 0)
    assert after.status in outcomes(entry), (balance, action, after)  # the table is the law
    return after


# --- paying a consolidated invoice -----------------------------------------------------

AllocationMethod = Literal["pro_rata", "oldest_first"]
_METHODS: tuple[AllocationMethod, ...] = ("pro_rata", "oldest_first")


def allocate(
    amount: int,
    outstanding: Sequence[tuple[str, int]],
    method: AllocationMethod = "pro_rata",
) -> tuple[tuple[str, int], ...]:
    """Split a payment of ``amount`` over ``(transaction id, outstanding)`` pairs.

    The parts are integers, ``0 <= part <= outstanding``, and sum exactly to ``amount``.
    ``pro_rata`` (default): each part is the exact share ``amount * outstanding / total``
    rounded down, and the minor units left over go one each to the largest remainders
    (ties: earlier position first), so every part is within 1 of its exact share.
    ``oldest_first``: fill each transaction in the given order before the next.

    Raises :class:`InvalidPurchaseError` for an amount that is not a positive integer or
    exceeds the total outstanding, a negative or non-integer outstanding, or an unknown
    method.
    """
    pairs = [(tid, value) for tid, value in outstanding]
    for tid, value in pairs:
        problem = _amount_problem(value, "outstanding", minimum=0)
        if problem is not None:
            raise InvalidPurchaseError(tid, [problem])
    total = sum(value for _, value in pairs)
    problem = _amount_problem(amount, "amount")
    if problem is None and amount > total:
        problem = FieldProblem(
            "amount", f"a payment of {amount} exceeds the {total} outstanding on the invoice"
        )
    if problem is None and method not in _METHODS:
        choices = " or ".join(repr(m) for m in _METHODS)
        problem = FieldProblem("method", f"must be {choices}, got {method!r}")
    if problem is not None:
        raise InvalidPurchaseError(None, [problem])
    parts = _pro_rata(amount, pairs, total) if method == "pro_rata" else _in_order(amount, pairs)
    return tuple(zip((tid for tid, _ in pairs), parts, strict=True))


def _pro_rata(amount: int, pairs: Sequence[tuple[str, int]], total: int) -> list[int]:
    shares = [divmod(amount * value, total) for _, value in pairs]
    parts = [whole for whole, _ in shares]
    left = amount - sum(parts)  # < len(pairs): the remainders sum to left * total
    by_remainder = sorted(range(len(pairs)), key=lambda i: (-shares[i][1], i))
    for i in by_remainder[:left]:
        parts[i] += 1
    return parts


def _in_order(amount: int, pairs: Iterable[tuple[str, int]]) -> list[int]:
    parts = []
    for _, value in pairs:
        part = min(value, amount)
        parts.append(part)
        amount -= part
    return parts


def pay_invoice(
    balances: Sequence[TransactionBalance],
    amount: int,
    method: AllocationMethod = "pro_rata",
) -> tuple[TransactionBalance, ...]:
    """The invoice's transactions after a payment of ``amount``, split by :func:`allocate`.

    ``balances`` are the transactions of one issued consolidated invoice, in invoice order
    (oldest first); each is grouped and issued. The split is over what each still has
    outstanding; transactions with nothing outstanding (already paid, refunded, settled)
    are returned unchanged. Raises :class:`IllegalTransition` for a standard or not issued
    transaction, :class:`InvalidPurchaseError` for a repeated transaction id or an amount
    :func:`allocate` refuses. Nothing is changed when anything is refused.
    """
    seen: set[str] = set()
    for b in balances:
        if b.transaction_id in seen:
            raise InvalidPurchaseError(
                b.transaction_id,
                [FieldProblem("transaction_id", "appears more than once on the invoice")],
            )
        seen.add(b.transaction_id)
        if b.kind is not ProductKind.GROUPED:
            reason = "only grouped transactions are paid through a consolidated invoice"
            raise IllegalTransition(b.transaction_id, b.status, Action.PAY, reason)
        if not b.issued:
            reason = "its invoice is not issued yet"
            raise IllegalTransition(b.transaction_id, b.status, Action.PAY, reason)
    parts = allocate(amount, [(b.transaction_id, b.authorized) for b in balances], method)
    return tuple(
        apply(b, Action.PAY, part) if part else b
        for b, (_, part) in zip(balances, parts, strict=True)
    )
