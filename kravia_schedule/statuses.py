"""The states of a Dintero transaction, as its ``status`` field spells them.

The twelve of Dintero's payments API (``Transaction.status``), and ``SETTLED``, which
the older Kravia documentation this project started from used as a state (Dintero now
reports settlement in ``settlement_status``).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["TransactionStatus"]


class TransactionStatus(StrEnum):
    """A Dintero transaction's ``status``."""

    INITIATED = "INITIATED"
    AUTHORIZED = "AUTHORIZED"
    AUTHORIZATION_VOIDED = "AUTHORIZATION_VOIDED"
    CAPTURED = "CAPTURED"
    PARTIALLY_CAPTURED = "PARTIALLY_CAPTURED"
    PARTIALLY_CAPTURED_REFUNDED = "PARTIALLY_CAPTURED_REFUNDED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    DECLINED = "DECLINED"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"
    ON_HOLD = "ON_HOLD"
    SETTLED = "SETTLED"  # the older Kravia documents' state; not in Dintero's enum
