"""The invoice ledger: keeps purchases across a billing period and issues each invoice once.

See :class:`Ledger`. SQLite is the embedded default (``Ledger.open("ledger.db")``);
PostgreSQL (``Ledger.open("postgresql://…")``, the ``[postgres]`` extra) lets several
service replicas share one ledger.
"""

from kravia_schedule.ledger.backends import LedgerBusy, LedgerUnavailable
from kravia_schedule.ledger.ledger import (
    HeldTransaction,
    HistoryEntry,
    Ledger,
    LedgerInvoice,
    Payment,
    RecordReport,
    TransactionView,
)
from kravia_schedule.ledger.schema import SCHEMA_VERSION
from kravia_schedule.ledger.sync import (
    CopyConflict,
    ImpossibleUpdate,
    SyncReport,
    UnknownTransaction,
    WaitingStep,
)

__all__ = [
    "SCHEMA_VERSION",
    "CopyConflict",
    "HeldTransaction",
    "HistoryEntry",
    "ImpossibleUpdate",
    "Ledger",
    "LedgerBusy",
    "LedgerInvoice",
    "LedgerUnavailable",
    "Payment",
    "RecordReport",
    "SyncReport",
    "TransactionView",
    "UnknownTransaction",
    "WaitingStep",
]
