"""Dintero's own shapes, read as Dintero sends them (Kravia invoice payments and others).

Pure functions and frozen types over the JSON of Dintero's payments API (generated
definition: ``Dintero/Dintero.Node.SDK`` ``src/generated/payments.d.ts`` at
:data:`SPEC_COMMIT`):

* :func:`classify` tells a transaction, the library's flat shape, a webhook envelope, a
  session and a payment profile apart;
* :func:`read_transaction` validates a transaction into a :class:`DinteroTransaction`
  with its VAT per rate (:class:`VatBreakdown`), its captured, refunded, voided and
  outstanding amounts (:class:`EventAmounts`) and Kravia's facts (:class:`KraviaFacts`);
* :func:`to_flat` gives it in the flat shape :func:`kravia_schedule.plan_invoices` reads.
"""

from kravia_schedule.dintero.events import (
    EventAmounts,
    KraviaFacts,
    TransactionEvent,
    event_amounts,
    kravia_facts,
)
from kravia_schedule.dintero.generate import generate_transactions
from kravia_schedule.dintero.schema import (
    AMOUNT_LIMIT,
    KRAVIA_CURRENCIES,
    KRAVIA_PRODUCT_TYPES,
    LEGACY_STATUSES,
    SPEC_COMMIT,
    TRANSACTION_STATUSES,
    EventKind,
    SettlementStatus,
    Shape,
    classify,
    is_kravia_currency,
)
from kravia_schedule.dintero.transaction import (
    DinteroTransaction,
    OrderAddress,
    OrderItem,
    WebhookUpdate,
    read_transaction,
    read_webhook,
    to_flat,
)
from kravia_schedule.dintero.vat import (
    RateTotal,
    VatBreakdown,
    VatLine,
    VatSource,
    breakdown,
    vat_from_gross,
)

__all__ = [
    "AMOUNT_LIMIT",
    "KRAVIA_CURRENCIES",
    "KRAVIA_PRODUCT_TYPES",
    "LEGACY_STATUSES",
    "SPEC_COMMIT",
    "TRANSACTION_STATUSES",
    "DinteroTransaction",
    "EventAmounts",
    "EventKind",
    "KraviaFacts",
    "OrderAddress",
    "OrderItem",
    "RateTotal",
    "SettlementStatus",
    "Shape",
    "TransactionEvent",
    "VatBreakdown",
    "VatLine",
    "VatSource",
    "WebhookUpdate",
    "breakdown",
    "classify",
    "event_amounts",
    "generate_transactions",
    "is_kravia_currency",
    "kravia_facts",
    "read_transaction",
    "read_webhook",
    "to_flat",
    "vat_from_gross",
]
