"""Typed errors raised by kravia_schedule; every one derives from KraviaScheduleError.

The hierarchy is deliberately small: catch ``KraviaScheduleError`` for "anything this
library refused", or one of the subclasses when the caller can act on the kind.
Every subclass is also a ``ValueError`` (bad input) so generic handlers still work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CalendarRangeError",
    "ConfigurationError",
    "FieldProblem",
    "IllegalTransition",
    "InputFileError",
    "InvalidArgument",
    "InvalidBillingAddress",
    "InvalidIdentifier",
    "InvalidOption",
    "InvalidPurchaseError",
    "KraviaScheduleError",
    "LedgerConflict",
    "LedgerError",
    "MergeConflictError",
    "NaiveDatetimeError",
    "UnknownId",
]


class KraviaScheduleError(Exception):
    """Base class of every error this library raises on purpose."""


class InvalidIdentifier(KraviaScheduleError, ValueError):
    """An organization number (or other identifier) is malformed or fails its check digit."""


class NaiveDatetimeError(KraviaScheduleError, ValueError):
    """A datetime without time zone was given where the local date matters.

    A naive datetime is never silently assumed to be UTC: the invoice date of a purchase
    at 23:30 UTC on 31 January is 1 February in Oslo.
    """


class CalendarRangeError(KraviaScheduleError, ValueError):
    """A date lies outside the years for which the holiday data is known.

    The ``holidays`` package has no data after 2100 (and none before a per-country start
    year); answering "business day" there would be a silent guess.
    """


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One thing wrong with one field: ``path`` is dotted (``billing_address.country``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class _ProblemsError(KraviaScheduleError, ValueError):
    """An error carrying one or more :class:`FieldProblem`."""

    problems: tuple[FieldProblem, ...]

    def __init__(self, problems: Sequence[FieldProblem], prefix: str = "") -> None:
        if not problems:
            raise ValueError("an error needs at least one problem")
        self.problems = tuple(problems)
        lines = "; ".join(str(p) for p in self.problems)
        super().__init__(f"{prefix}{lines}")

    @property
    def path(self) -> str:
        """Path of the first problem (the field to look at first)."""
        return self.problems[0].path


class InputFileError(KraviaScheduleError, ValueError):
    """A whole input file cannot be read as purchases or as a configuration.

    ``source`` names the file (``<stdin>`` for ``"-"``), ``reason`` says what is wrong;
    the message is ``"<source>: <reason>"``.
    """

    source: str
    reason: str

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")


class InvalidArgument(KraviaScheduleError, ValueError, TypeError):
    """An argument a function does not take: an unknown country, interval or rule, or a
    value of the wrong type. Also a ``ValueError`` and a ``TypeError``, as Python's own
    refusals of such arguments are."""


class InvalidOption(_ProblemsError):
    """A planning option (``as_of``, ``due_date_rule``, ...) is invalid; each problem
    names the option."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__(problems, prefix="invalid plan options: ")


class ConfigurationError(_ProblemsError):
    """A Kravia configuration object is invalid; each problem names its JSON path."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__(problems, prefix="invalid Kravia configuration: ")


class InvalidPurchaseError(_ProblemsError):
    """A purchase record is invalid; names the transaction (when known) and each field."""

    transaction_id: str | None

    def __init__(self, transaction_id: str | None, problems: Sequence[FieldProblem]) -> None:
        self.transaction_id = transaction_id
        who = f"purchase {transaction_id!r}" if transaction_id is not None else "purchase"
        super().__init__(problems, prefix=f"invalid {who}: ")


class MergeConflictError(KraviaScheduleError, ValueError):
    """Two plans cannot be merged: they overlap or were computed with different settings."""


class InvalidBillingAddress(_ProblemsError):
    """A billing address misses a required field or has a malformed one."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__(problems, prefix="invalid billing address: ")


class IllegalTransition(KraviaScheduleError, ValueError):
    """A transaction cannot take an action in its current state (see ``lifecycle``).

    Carries the ``transaction_id``, its ``state`` (a ``TransactionStatus`` value), the
    refused ``action`` and the ``reason``, all named in the message:
    ``transaction T1 is CAPTURED: cannot void (already paid)``.
    """

    transaction_id: str
    state: str
    action: str
    reason: str

    def __init__(self, transaction_id: str, state: str, action: str, reason: str) -> None:
        self.transaction_id = transaction_id
        self.state = state
        self.action = action
        self.reason = reason
        super().__init__(f"transaction {transaction_id} is {state}: cannot {action} ({reason})")


class LedgerError(KraviaScheduleError):
    """The ledger refused an operation; nothing was written."""


class LedgerConflict(LedgerError, ValueError):
    """An id was used again for something else (a purchase, a payment, a refund)."""


class UnknownId(LedgerError, LookupError):
    """No transaction, invoice, payment or refund has this id."""
