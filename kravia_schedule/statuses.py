"""The states of a Dintero transaction, as its ``status`` field spells them."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["TransactionStatus"]


class TransactionStatus(StrEnum):
    """Dintero transaction states that Kravia transactions pass through."""

    INITIATED = "INITIATED"
    AUTHORIZED = "AUTHORIZED"
    AUTHORIZATION_VOIDED = "AUTHORIZATION_VOIDED"
    CAPTURED = "CAPTURED"
    PARTIALLY_CAPTURED = "PARTIALLY_CAPTURED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    ON_HOLD = "ON_HOLD"
    FAILED = "FAILED"
    DECLINED = "DECLINED"
    SETTLED = "SETTLED"
