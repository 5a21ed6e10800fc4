"""The transaction lifecycle: the transition table, the money, and paying an invoice."""

from __future__ import annotations

import doctest
import textwrap
from dataclasses import FrozenInstanceError, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from kravia_schedule import lifecycle
from kravia_schedule.config import ProductType
from kravia_schedule.errors import (
    IllegalTransition,
    InvalidPurchaseError,
    KraviaScheduleError,
)
from kravia_schedule.lifecycle import (
    TRANSITIONS,
    Action,
    ProductKind,
    Rule,
    TransactionBalance,
    allocate,
    allowed_actions,
    apply,
    new_transaction,
    outcomes,
    pay_invoice,
    register,
    render_table,
    transition,
)
from kravia_schedule.purchases import TransactionStatus as S

GROUPED = ProductType.B2B_GROUPED


def issued(tid: str, amount: int) -> TransactionBalance:
    """A grouped transaction on an issued invoice."""
    return apply(register(tid, GROUPED, amount), Action.ISSUE)


# --- balances in every state (for the complement of the table) -------------------------

_MONEY_OF = {  # (authorized, captured, voided, refunded) of a 1000 purchase
    S.INITIATED: (1000, 0, 0, 0),
    S.AUTHORIZED: (1000, 0, 0, 0),
    S.AUTHORIZATION_VOIDED: (0, 0, 1000, 0),
    S.FAILED: (0, 0, 1000, 0),
    S.DECLINED: (0, 0, 1000, 0),
    S.PARTIALLY_CAPTURED: (400, 600, 0, 0),
    S.PARTIALLY_CAPTURED_REFUNDED: (400, 600, 0, 200),
    S.UNKNOWN: (1000, 0, 0, 0),
    S.CAPTURED: (0, 1000, 0, 0),
    S.ON_HOLD: (0, 1000, 0, 0),
    S.SETTLED: (0, 1000, 0, 0),
    S.PARTIALLY_REFUNDED: (0, 1000, 0, 300),
    S.REFUNDED: (0, 1000, 0, 1000),
}


def in_state(
    product_type: ProductType, state: S, *, is_issued: bool | None = None
) -> TransactionBalance:
    if is_issued is None:
        is_issued = state not in (S.INITIATED, S.AUTHORIZED)
    return TransactionBalance("T1", product_type, state, is_issued, 1000, *_MONEY_OF[state])


def test_every_state_has_a_test_balance() -> None:
    assert set(_MONEY_OF) == set(S)


def _amount_for(action: Action) -> int | None:
    return 1 if action in (Action.PAY, Action.REFUND) else None


_COMPLEMENT = [
    pytest.param(p, state, action, id=f"{p.config_key}-{state.value}-{action.value}")
    for p in ProductType
    for state in S
    for action in Action
    if (ProductKind.of(p), state, action) not in TRANSITIONS
]


@pytest.mark.parametrize(("product_type", "state", "action"), _COMPLEMENT)
def test_every_transition_outside_the_table_is_refused(
    product_type: ProductType, state: S, action: Action
) -> None:
    balance = in_state(product_type, state)
    with pytest.raises(IllegalTransition) as caught:
        apply(balance, action, _amount_for(action))
    error = caught.value
    assert (error.transaction_id, error.state, error.action) == ("T1", state, action)
    assert str(error).startswith(f"transaction T1 is {state.value}: cannot {action.value} (")
    assert error.reason
    assert action not in allowed_actions(balance)


def test_the_complement_is_what_the_table_leaves_out() -> None:
    assert len(TRANSITIONS) == 23
    per_kind = len(S) * len(Action)
    grouped = sum(1 for kind, _, _ in TRANSITIONS if kind is ProductKind.GROUPED)
    assert len(_COMPLEMENT) == (per_kind - grouped) + 2 * (per_kind - (23 - grouped))


_GUARDED = [
    pytest.param(key, entry, id=f"{key[1].value}-{key[2].value}-issued={not entry.issued}")
    for key, entry in TRANSITIONS.items()
    if isinstance(entry, Rule) and entry.issued is not None
]


@pytest.mark.parametrize(("key", "entry"), _GUARDED)
def test_a_guarded_entry_is_refused_when_its_guard_fails(
    key: tuple[ProductKind, S, Action], entry: Rule
) -> None:
    _, state, action = key
    balance = in_state(GROUPED, state, is_issued=not entry.issued)
    with pytest.raises(IllegalTransition, match=f"is {state.value}: cannot {action.value}"):
        apply(balance, action, _amount_for(action))
    assert action not in allowed_actions(balance)


@pytest.mark.parametrize(
    ("key", "entry"),
    [pytest.param(k, e, id=f"{k[0]}-{k[1].value}-{k[2].value}") for k, e in TRANSITIONS.items()],
)
def test_every_entry_of_the_table_can_be_taken(
    key: tuple[ProductKind, S, Action], entry: S | Rule
) -> None:
    kind, state, action = key
    product_type = GROUPED if kind is ProductKind.GROUPED else ProductType.B2B
    guard = entry.issued if isinstance(entry, Rule) else None
    balance = in_state(product_type, state, is_issued=guard)
    assert transition(balance, action) == entry
    assert action in allowed_actions(balance)
    after = apply(balance, action, _amount_for(action))
    assert after.status in outcomes(entry)
    if isinstance(entry, Rule) and len(entry.outcomes) == 2:  # the other outcome: all of it
        amount = balance.authorized if action is Action.PAY else balance.refundable
        assert apply(balance, action, amount).status in outcomes(entry)
        assert {after.status, apply(balance, action, amount).status} == set(entry.outcomes)


def test_the_docstring_shows_the_table() -> None:
    assert lifecycle.__doc__ is not None
    assert textwrap.indent(render_table(), "    ") in lifecycle.__doc__


def test_the_docstring_examples() -> None:
    assert doctest.testmod(lifecycle).failed == 0


# --- hand-checked examples -------------------------------------------------------------


def test_grouped_registers_authorized_and_standard_captured() -> None:
    grouped = register("G1", GROUPED, 50000)
    assert (grouped.status, grouped.issued, grouped.authorized, grouped.captured) == (
        S.AUTHORIZED,
        False,
        50000,
        0,
    )
    for product_type in (ProductType.B2B, ProductType.B2C):
        standard = register("S1", product_type, 50000)
        assert (standard.status, standard.issued, standard.authorized, standard.captured) == (
            S.CAPTURED,
            True,
            0,
            50000,
        )


def test_partial_payment_then_the_rest() -> None:
    t = issued("T1", 10000)
    t = apply(t, Action.PAY, 4000)
    assert (t.status, t.authorized, t.captured) == (S.PARTIALLY_CAPTURED, 6000, 4000)
    t = apply(t, Action.PAY, 1000)
    assert (t.status, t.authorized, t.captured) == (S.PARTIALLY_CAPTURED, 5000, 5000)
    t = apply(t, Action.PAY, 5000)
    assert (t.status, t.authorized, t.captured) == (S.CAPTURED, 0, 10000)
    assert apply(t, Action.SETTLE).status is S.SETTLED


def test_a_payment_above_the_outstanding_amount_is_refused() -> None:
    t = apply(issued("T1", 10000), Action.PAY, 4000)
    with pytest.raises(
        IllegalTransition,
        match=r"^transaction T1 is PARTIALLY_CAPTURED: cannot pay "
        r"\(a payment of 6001 exceeds the 6000 outstanding\)$",
    ):
        apply(t, Action.PAY, 6001)


def test_void_before_issue_and_refused_after() -> None:
    t = register("T1", GROUPED, 10000)
    voided = apply(t, Action.VOID)
    assert (voided.status, voided.authorized, voided.voided) == (S.AUTHORIZATION_VOIDED, 0, 10000)
    with pytest.raises(
        IllegalTransition,
        match=r"^transaction T1 is AUTHORIZED: cannot void \(its invoice is already issued\)$",
    ):
        apply(apply(t, Action.ISSUE), Action.VOID)
    paid = apply(apply(t, Action.ISSUE), Action.PAY, 10000)
    with pytest.raises(IllegalTransition, match=r"is CAPTURED: cannot void \(already paid\)"):
        apply(paid, Action.VOID)


def test_pay_before_issue_and_issue_twice_are_refused() -> None:
    t = register("T1", GROUPED, 10000)
    with pytest.raises(IllegalTransition, match=r"cannot pay \(its invoice is not issued yet\)"):
        apply(t, Action.PAY, 100)
    with pytest.raises(IllegalTransition, match=r"cannot issue \(its invoice is already issued\)"):
        apply(apply(t, Action.ISSUE), Action.ISSUE)


@pytest.mark.parametrize("product_type", list(ProductType))
def test_refund_after_settled_is_refused(product_type: ProductType) -> None:
    t = register("T1", product_type, 10000)
    if product_type is GROUPED:
        t = apply(apply(t, Action.ISSUE), Action.PAY, 10000)
    settled = apply(t, Action.SETTLE)
    with pytest.raises(
        IllegalTransition,
        match=r"^transaction T1 is SETTLED: cannot refund "
        r"\(refunds are not supported after settlement\)$",
    ):
        apply(settled, Action.REFUND, 100)


@pytest.mark.parametrize("product_type", list(ProductType))
def test_refunds_up_to_what_was_captured(product_type: ProductType) -> None:
    t = register("T1", product_type, 10000)
    if product_type is GROUPED:
        t = apply(apply(t, Action.ISSUE), Action.PAY, 10000)
    with pytest.raises(IllegalTransition, match=r"a refund of 10001 exceeds the 10000 captured"):
        apply(t, Action.REFUND, 10001)
    partly = apply(t, Action.REFUND, 2500)
    assert (partly.status, partly.refunded, partly.refundable) == (S.PARTIALLY_REFUNDED, 2500, 7500)
    with pytest.raises(IllegalTransition, match=r"is PARTIALLY_REFUNDED: cannot refund"):
        apply(partly, Action.REFUND, 7501)
    fully = apply(partly, Action.REFUND, 7500)
    assert (fully.status, fully.refunded, fully.captured) == (S.REFUNDED, 10000, 10000)
    with pytest.raises(IllegalTransition, match=r"is REFUNDED: cannot refund"):
        apply(fully, Action.REFUND, 1)
    assert apply(partly, Action.SETTLE).status is S.SETTLED


def test_b2c_full_refund_cancels_the_invoice() -> None:
    t = register("T1", ProductType.B2C, 49900)
    refunded = apply(t, Action.REFUND, 49900)
    assert refunded.status is S.REFUNDED
    assert allowed_actions(refunded) == ()


def test_grouped_refund_waits_for_full_capture() -> None:
    t = apply(issued("T1", 10000), Action.PAY, 4000)
    with pytest.raises(IllegalTransition, match=r"refunds wait until the invoice is fully paid"):
        apply(t, Action.REFUND, 1000)
    with pytest.raises(IllegalTransition, match=r"cannot settle \(not fully paid yet\)"):
        apply(t, Action.SETTLE)


def test_hold_release_and_fail() -> None:
    t = register("T1", ProductType.B2B, 10000)
    held = apply(t, Action.HOLD)
    assert held.status is S.ON_HOLD
    assert allowed_actions(held) == (Action.RELEASE, Action.FAIL)
    with pytest.raises(
        IllegalTransition, match=r"cannot refund \(it is on hold; release it first\)"
    ):
        apply(held, Action.REFUND, 100)
    assert apply(held, Action.RELEASE) == t
    failed = apply(held, Action.FAIL)
    assert (failed.status, failed.captured, failed.voided) == (S.FAILED, 0, 10000)
    assert allowed_actions(failed) == ()
    with pytest.raises(IllegalTransition, match=r"cannot release \(its registration failed\)"):
        apply(failed, Action.RELEASE)


@pytest.mark.parametrize("product_type", list(ProductType))
def test_a_failed_registration(product_type: ProductType) -> None:
    failed = apply(new_transaction("T1", product_type, 500), "fail")
    assert (failed.status, failed.authorized, failed.voided, failed.issued) == (
        S.FAILED,
        0,
        500,
        False,
    )


def test_allowed_actions() -> None:
    t = register("T1", GROUPED, 100)
    assert allowed_actions(new_transaction("T1", GROUPED, 100)) == (Action.REGISTER, Action.FAIL)
    assert allowed_actions(t) == (Action.VOID, Action.ISSUE)
    assert allowed_actions(apply(t, Action.ISSUE)) == (Action.PAY,)
    assert allowed_actions(register("T2", ProductType.B2C, 100)) == (
        Action.REFUND,
        Action.HOLD,
        Action.SETTLE,
    )


def test_apply_never_changes_its_argument() -> None:
    t = issued("T1", 10000)
    copy = replace(t)
    apply(t, Action.PAY, 4000)
    assert t == copy
    with pytest.raises(FrozenInstanceError):
        t.status = S.CAPTURED  # type: ignore[misc]
    assert not hasattr(t, "__dict__")  # slotted


def test_actions_are_strings() -> None:
    assert [a.value for a in Action] == [
        "register", "authorize", "void", "issue", "pay", "refund", "hold", "release", "fail",
        "settle",
    ]  # fmt: skip
    assert apply(issued("T1", 100), "pay", 100).status is S.CAPTURED
    with pytest.raises(IllegalTransition, match=r"cannot dance \(unknown action; known: register"):
        apply(issued("T1", 100), "dance")


# --- amounts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (0, "must be positive, got 0"),
        (-100, "must be positive, got -100"),
        (1.5, r"must be an integer number of minor units, got 1.5 \(float\)"),
        (100.0, r"got 100.0 \(float\)"),
        (True, r"got True \(bool\)"),
        ("100", r"got '100' \(str\)"),
        (Decimal("100"), r"\(Decimal\)"),
        (Fraction(1, 2), r"\(Fraction\)"),
        (None, "is required to pay"),
    ],
)
def test_bad_amounts_name_the_transaction_and_field(amount: object, message: str) -> None:
    t = issued("T7", 10000)
    with pytest.raises(InvalidPurchaseError, match=message) as caught:
        apply(t, Action.PAY, amount)  # type: ignore[arg-type]
    assert caught.value.transaction_id == "T7"
    assert caught.value.path == "amount"
    assert str(caught.value).startswith("invalid purchase 'T7': amount: ")
    with pytest.raises(InvalidPurchaseError, match="amount: "):
        apply(register("T7", ProductType.B2C, 100), Action.REFUND, amount)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [0, -1, 2.5, True, None, "5"])
def test_new_transaction_refuses_bad_amounts(amount: object) -> None:
    with pytest.raises(InvalidPurchaseError, match="'T1': amount: ") as caught:
        new_transaction("T1", GROUPED, amount)  # type: ignore[arg-type]
    assert caught.value.path == "amount"


def test_new_transaction_refuses_an_unknown_product_type() -> None:
    with pytest.raises(
        InvalidPurchaseError, match=r"'T1': product_type: unknown value 'kravia\.cash'"
    ):
        new_transaction("T1", "kravia.cash", 100)
    assert new_transaction("T1", "kravia.invoice_b2b", 100).product_type is ProductType.B2B


def test_actions_without_an_amount_refuse_one() -> None:
    with pytest.raises(InvalidPurchaseError, match=r"'T1': amount: void takes no amount"):
        apply(register("T1", GROUPED, 100), Action.VOID, 100)


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"captured": 1}, "purchased", "must equal purchased 1000"),
        ({"authorized": 999}, "purchased", "must equal purchased 1000"),
        (
            {"status": S.CAPTURED, "authorized": 0, "captured": 1000, "refunded": 1001},
            "refunded",
            "exceeds",
        ),
        ({"authorized": -1, "captured": 1001}, "authorized", "must be zero or more"),
        ({"purchased": 0, "authorized": 0}, "purchased", "must be positive"),
        ({"voided": 0.0}, "voided", "must be an integer"),
        ({"issued": 1}, "issued", "must be true or false"),
        ({"status": "LOST"}, "status", "unknown value 'LOST'"),
        ({"product_type": "kravia.cash"}, "product_type", "unknown value"),
        ({"transaction_id": ""}, "transaction_id", "non-empty"),
        ({"status": S.CAPTURED}, "status", "a CAPTURED transaction has everything captured"),
        (
            {"status": S.SETTLED, "authorized": 0, "captured": 1000, "refunded": 1000},
            "status",
            "SETTLED",
        ),
        ({"status": S.PARTIALLY_CAPTURED}, "status", "part open, part captured"),
    ],
)
def test_a_balance_keeps_its_invariants(
    changes: dict[str, object], path: str, message: str
) -> None:
    fields: dict[str, object] = {
        "transaction_id": "T1",
        "product_type": GROUPED,
        "status": S.AUTHORIZED,
        "issued": False,
        "purchased": 1000,
        "authorized": 1000,
        "captured": 0,
        "voided": 0,
        "refunded": 0,
    }
    with pytest.raises(InvalidPurchaseError, match=message) as caught:
        TransactionBalance(**(fields | changes))  # type: ignore[arg-type]
    assert caught.value.path == path


def test_a_balance_read_back_from_strings() -> None:
    product_type: Any = "kravia.invoice_b2c"
    status: Any = "PARTIALLY_REFUNDED"
    t = TransactionBalance("T1", product_type, status, True, 100, 0, 100, 0, 40)
    assert (t.product_type, t.status, t.kind, t.refundable, t.outstanding) == (
        ProductType.B2C,
        S.PARTIALLY_REFUNDED,
        ProductKind.STANDARD,
        60,
        0,
    )


def test_illegal_transition_is_in_the_hierarchy() -> None:
    error = IllegalTransition("T1", S.CAPTURED, Action.VOID, "already paid")
    assert isinstance(error, KraviaScheduleError)
    assert isinstance(error, ValueError)
    assert str(error) == "transaction T1 is CAPTURED: cannot void (already paid)"
    assert (error.transaction_id, error.state, error.action, error.reason) == (
        "T1",
        "CAPTURED",
        "void",
        "already paid",
    )


# --- allocation ---------------------------------------------------------------------------


def test_allocate_100_over_three_equal_outstanding() -> None:
    assert allocate(100, [("T1", 1000), ("T2", 1000), ("T3", 1000)]) == (
        ("T1", 34),
        ("T2", 33),
        ("T3", 33),
    )
    # "100 over 1/1/1" read literally is a payment above the 3 outstanding: refused.
    with pytest.raises(InvalidPurchaseError, match="a payment of 100 exceeds the 3 outstanding"):
        allocate(100, [("T1", 1), ("T2", 1), ("T3", 1)])


@pytest.mark.parametrize(
    ("amount", "outstanding", "expected"),
    [
        (2, [1, 1, 1], [1, 1, 0]),  # ties: earlier first
        (3, [1, 1, 1], [1, 1, 1]),
        (1000, [300, 200, 500], [300, 200, 500]),  # everything
        (100, [300, 200, 500], [30, 20, 50]),  # exact
        (10, [1, 2, 3, 4], [1, 2, 3, 4]),
        (7, [1, 2, 3, 4], [1, 1, 2, 3]),  # shares 0.7 1.4 2.1 2.8 -> 0 1 2 2 + 3 leftovers
        (5, [0, 10, 0, 10], [0, 3, 0, 2]),  # nothing to a transaction with nothing outstanding
        (1, [5, 7], [0, 1]),  # 5/12 vs 7/12
    ],
)
def test_pro_rata_examples(amount: int, outstanding: list[int], expected: list[int]) -> None:
    pairs = [(f"T{i}", value) for i, value in enumerate(outstanding)]
    assert [part for _, part in allocate(amount, pairs)] == expected


def test_oldest_first_examples() -> None:
    pairs = [("T1", 100), ("T2", 100), ("T3", 100)]
    assert allocate(250, pairs, "oldest_first") == (("T1", 100), ("T2", 100), ("T3", 50))
    assert allocate(1, pairs, method="oldest_first") == (("T1", 1), ("T2", 0), ("T3", 0))


@pytest.mark.parametrize(
    ("amount", "outstanding", "method", "path", "message"),
    [
        (0, [("T1", 10)], "pro_rata", "amount", "must be positive"),
        (-5, [("T1", 10)], "pro_rata", "amount", "must be positive"),
        (2.5, [("T1", 10)], "pro_rata", "amount", "must be an integer"),
        (11, [("T1", 10)], "oldest_first", "amount", "a payment of 11 exceeds the 10 outstanding"),
        (1, [], "pro_rata", "amount", "exceeds the 0 outstanding"),
        (5, [("T1", 10)], "newest_first", "method", "must be 'pro_rata' or 'oldest_first'"),
        (5, [("T1", 10), ("T2", -1)], "pro_rata", "outstanding", "must be zero or more"),
        (5, [("T1", 10.0)], "pro_rata", "outstanding", "must be an integer"),
    ],
)
def test_allocate_refuses(
    amount: object, outstanding: list[tuple[str, object]], method: str, path: str, message: str
) -> None:
    with pytest.raises(InvalidPurchaseError, match=message) as caught:
        allocate(amount, outstanding, method)  # type: ignore[arg-type]
    assert caught.value.path == path


def test_pay_invoice_pro_rata_then_oldest_first() -> None:
    invoice = (issued("T1", 10000), issued("T2", 20000), issued("T3", 30000))
    after = pay_invoice(invoice, 6000)
    assert [(b.status, b.captured) for b in after] == [
        (S.PARTIALLY_CAPTURED, 1000),
        (S.PARTIALLY_CAPTURED, 2000),
        (S.PARTIALLY_CAPTURED, 3000),
    ]
    after = pay_invoice(after, 30000, "oldest_first")  # 9000 + 18000 + 3000
    assert [(b.status, b.authorized, b.captured) for b in after] == [
        (S.CAPTURED, 0, 10000),
        (S.CAPTURED, 0, 20000),
        (S.PARTIALLY_CAPTURED, 24000, 6000),
    ]
    final = pay_invoice(after, 24000)  # the captured ones get nothing, the rest goes to T3
    assert final[:2] == after[:2]
    assert [b.status for b in final] == [S.CAPTURED] * 3
    with pytest.raises(InvalidPurchaseError, match="exceeds the 0 outstanding"):
        pay_invoice(final, 1)


def test_pay_invoice_refusals_change_nothing() -> None:
    invoice = (issued("T1", 100), issued("T2", 100))
    with pytest.raises(InvalidPurchaseError, match="a payment of 201 exceeds the 200"):
        pay_invoice(invoice, 201)
    with pytest.raises(
        IllegalTransition,
        match=r"^transaction T3 is AUTHORIZED: cannot pay \(its invoice is not issued yet\)$",
    ):
        pay_invoice((*invoice, register("T3", GROUPED, 100)), 50)
    with pytest.raises(IllegalTransition, match=r"T4 is CAPTURED: cannot pay \(only grouped"):
        pay_invoice((*invoice, register("T4", ProductType.B2B, 100)), 50)
    with pytest.raises(InvalidPurchaseError, match="'T1': transaction_id: appears more than once"):
        pay_invoice((*invoice, invoice[0]), 50)
    assert invoice == (issued("T1", 100), issued("T2", 100))


# --- properties -------------------------------------------------------------------------

outstanding_lists = st.lists(st.integers(0, 10**9), min_size=1, max_size=8).filter(
    lambda xs: sum(xs) > 0
)


@given(outstanding_lists, st.data())
def test_allocation_properties(outstanding: list[int], data: st.DataObject) -> None:
    total = sum(outstanding)
    amount = data.draw(
        st.one_of(st.integers(1, total), st.just(total), st.integers(1, min(total, 50)))
    )
    pairs = [(f"T{i}", value) for i, value in enumerate(outstanding)]
    for method in ("pro_rata", "oldest_first"):
        result = allocate(amount, pairs, method)
        assert [tid for tid, _ in result] == [tid for tid, _ in pairs]
        parts = [part for _, part in result]
        assert sum(parts) == amount
        assert all(type(p) is int and 0 <= p <= o for p, o in zip(parts, outstanding, strict=True))
        if method == "pro_rata":
            # |part - amount * o / total| < 1, in integers
            assert all(
                abs(p * total - amount * o) < total for p, o in zip(parts, outstanding, strict=True)
            )
        else:
            left = amount
            for part, o in zip(parts, outstanding, strict=True):
                assert part == min(o, left)  # each one filled before the next gets anything
                left -= part


def _legal(b: TransactionBalance, action: Action, amount: int | None) -> bool:
    """The oracle: what the table and the money rules allow, written from the spec."""
    entry = TRANSITIONS.get((b.kind, b.status, action))
    if entry is None:
        return False
    if isinstance(entry, Rule) and entry.issued not in (None, b.issued):
        return False
    if action is Action.PAY:
        return amount is not None and 0 < amount <= b.authorized
    if action is Action.REFUND:
        return amount is not None and 0 < amount <= b.captured - b.refunded
    return amount is None


def _check_conservation(balances: list[TransactionBalance], purchased: list[int]) -> None:
    for b, p in zip(balances, purchased, strict=True):
        assert b.purchased == p
        assert b.authorized + b.captured + b.voided == b.purchased
        assert 0 <= b.refunded <= b.captured
        assert min(b.authorized, b.captured, b.voided) >= 0
    assert sum(b.authorized + b.captured + b.voided for b in balances) == sum(purchased)
    assert sum(b.refunded for b in balances) <= sum(b.captured for b in balances)


@st.composite
def steps(draw: st.DrawFn, balance: TransactionBalance) -> tuple[Action, int | None]:
    """A legal action along the main paths most of the time, any action sometimes."""
    allowed = allowed_actions(balance)
    onward = [a for a in allowed if a not in (Action.FAIL, Action.VOID, Action.SETTLE)]
    choice = draw(st.integers(0, 9))
    if choice < 6 and onward:
        action = draw(st.sampled_from(onward))
    elif choice < 8 and allowed:
        action = draw(st.sampled_from(allowed))
    else:
        action = draw(st.sampled_from(list(Action)))
    limit = {Action.PAY: balance.authorized, Action.REFUND: balance.refundable}.get(action)
    if limit is None:
        amount = draw(st.one_of(st.none(), st.none(), st.integers(-3, 3)))
    else:
        amount = draw(
            st.one_of(
                st.integers(1, max(1, limit)),
                st.just(limit),
                st.integers(-2, limit + 2),
                st.none(),
            )
        )
    return action, amount


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(list(ProductType)), st.integers(1, 10**7)), min_size=1, max_size=4
    ),
    st.data(),
)
def test_random_operations_keep_the_books(
    transactions: list[tuple[ProductType, int]], data: st.DataObject
) -> None:
    purchased = [amount for _, amount in transactions]
    balances = [new_transaction(f"T{i}", p, a) for i, (p, a) in enumerate(transactions)]
    for _ in range(data.draw(st.integers(0, 30))):
        if data.draw(st.integers(0, 5)) == 0:  # a payment of the consolidated invoice
            on_invoice = [
                i for i, b in enumerate(balances) if b.kind is ProductKind.GROUPED and b.issued
            ]
            if not on_invoice:
                continue
            invoice = [balances[i] for i in on_invoice]
            open_total = sum(b.authorized for b in invoice)
            amount = data.draw(st.integers(-1, open_total + 1))
            method = data.draw(st.sampled_from(["pro_rata", "oldest_first"]))
            if 0 < amount <= open_total:
                paid = pay_invoice(invoice, amount, method)  # type: ignore[arg-type]
                assert sum(b.captured for b in paid) - sum(b.captured for b in invoice) == amount
                for before, after in zip(invoice, paid, strict=True):
                    if after != before:
                        assert after.status in outcomes(
                            TRANSITIONS[(after.kind, before.status, Action.PAY)]
                        )
                for i, after in zip(on_invoice, paid, strict=True):
                    balances[i] = after
            else:
                with pytest.raises(InvalidPurchaseError):
                    pay_invoice(invoice, amount, method)  # type: ignore[arg-type]
        else:
            i = data.draw(st.integers(0, len(balances) - 1))
            before = balances[i]
            action, step_amount = data.draw(steps(before))
            if _legal(before, action, step_amount):
                after = apply(before, action, step_amount)
                assert after.status in outcomes(TRANSITIONS[(before.kind, before.status, action)])
                event(
                    f"{before.kind.value} {before.status.value} -{action.value}-> {after.status.value}"
                )
                registered_standard = (
                    action in (Action.REGISTER, Action.AUTHORIZE)
                    and before.kind is ProductKind.STANDARD
                )
                assert after.issued == (
                    before.issued or action is Action.ISSUE or registered_standard
                )
                balances[i] = after
            else:
                with pytest.raises((IllegalTransition, InvalidPurchaseError)) as caught:
                    apply(before, action, step_amount)
                if isinstance(caught.value, IllegalTransition):
                    assert (
                        caught.value.transaction_id,
                        caught.value.state,
                        caught.value.action,
                    ) == (
                        before.transaction_id,
                        before.status,
                        action,
                    )
                else:
                    assert isinstance(caught.value, InvalidPurchaseError)
                    assert caught.value.transaction_id == before.transaction_id
                    assert caught.value.path == "amount"
        _check_conservation(balances, purchased)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 10**6), min_size=1, max_size=6), st.data())
def test_an_invoice_is_paid_in_instalments(amounts: list[int], data: st.DataObject) -> None:
    invoice = tuple(issued(f"T{i}", a) for i, a in enumerate(amounts))
    method = data.draw(st.sampled_from(["pro_rata", "oldest_first"]))
    total = sum(amounts)
    while (left := sum(b.authorized for b in invoice)) > 0:
        payment = data.draw(st.integers(1, left))
        invoice = pay_invoice(invoice, payment, method)  # type: ignore[arg-type]
        assert sum(b.captured for b in invoice) == total - left + payment
        assert all(b.status in (S.AUTHORIZED, S.PARTIALLY_CAPTURED, S.CAPTURED) for b in invoice)
        assert all((b.status is S.CAPTURED) == (b.authorized == 0) for b in invoice)
        if method == "oldest_first":  # filled in order: a captured prefix, then one partial
            statuses = [b.status for b in invoice]
            k = statuses.count(S.CAPTURED)
            assert statuses[:k] == [S.CAPTURED] * k
            assert all(b.captured == 0 for b in invoice[k + 1 :])
    assert [b.status for b in invoice] == [S.CAPTURED] * len(amounts)
    assert [b.captured for b in invoice] == amounts


def test_an_unknown_action_is_an_illegal_transition_naming_it():
    balance = lifecycle.register("T9", ProductType.B2B_GROUPED, 1000)
    with pytest.raises(
        IllegalTransition, match=r"transaction T9 is AUTHORIZED: cannot capture \(unknown action"
    ):
        lifecycle.apply(balance, "capture")
