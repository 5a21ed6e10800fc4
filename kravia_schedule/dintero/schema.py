"""The vocabulary of Dintero's payments API that the library reads, and shape detection.

Every name, enum and format here is taken from Dintero's payments API definition as
generated into Dintero's Node SDK: ``Dintero/Dintero.Node.SDK`` at commit
:data:`SPEC_COMMIT`, file ``src/generated/payments.d.ts`` (line numbers below are at that
commit). Nothing is guessed; where the definition is silent the docstring says so and
names the rule chosen.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Literal

__all__ = [
    "AMOUNT_LIMIT",
    "DINTERO_MEMBERS",
    "DINTERO_ONLY",
    "KRAVIA_CURRENCIES",
    "KRAVIA_PRODUCT_TYPES",
    "LEGACY_STATUSES",
    "SPEC_COMMIT",
    "SPEC_FILE",
    "SPEC_REPOSITORY",
    "TRANSACTION_STATUSES",
    "EventKind",
    "SettlementStatus",
    "Shape",
    "classify",
    "is_kravia_currency",
    "read_as_dintero",
]

SPEC_REPOSITORY = "Dintero/Dintero.Node.SDK"
SPEC_COMMIT = "fa6d03bc6c2129dd6efda483f9f3fec2b476684b"
SPEC_FILE = "src/generated/payments.d.ts"

#: Every value of ``Transaction.status`` (line 6053), the same list as
#: ``TransactionEvent.transaction_status`` (line 5325) and the ``status`` filter of
#: ``transactions_get`` (line 8182). There is no ``SETTLED`` among them: settlement is
#: tracked on ``settlement_status`` (:class:`SettlementStatus`).
TRANSACTION_STATUSES: tuple[str, ...] = (
    "INITIATED",
    "AUTHORIZED",
    "AUTHORIZATION_VOIDED",
    "CAPTURED",
    "PARTIALLY_CAPTURED",
    "PARTIALLY_CAPTURED_REFUNDED",
    "REFUNDED",
    "PARTIALLY_REFUNDED",
    "DECLINED",
    "FAILED",
    "UNKNOWN",
    "ON_HOLD",
)

#: Statuses the older Kravia documentation this project started from lists although
#: today's definition does not (``../shared/seeds/kravia-payment-types.md``, "Transaction
#: Lifecycle": "SETTLED — Invoice has been settled to the merchant"). Read, never refused.
LEGACY_STATUSES: tuple[str, ...] = ("SETTLED",)

#: The Kravia members of ``Transaction.payment_product_type`` (line 5977); the payment
#: product itself is ``"kravia"`` (``Transaction.payment_product``, line 5972).
KRAVIA_PRODUCT_TYPES: tuple[str, ...] = (
    "kravia.invoice_b2b",
    "kravia.invoice_b2b_grouped",
    "kravia.invoice_b2c",
)

#: Largest amount (minor units) accepted anywhere: ``2**31 - 1``. The definition gives
#: ``SessionOrderUpdate.amount`` and ``.vat_amount`` ``Format: int32`` (lines 2985, 3000),
#: and a transaction's amount is the amount of the order it was made from. Sums of up to
#: 2**32 such amounts still fit the 64-bit integers of SQLite and PostgreSQL.
AMOUNT_LIMIT = 2**31 - 1

#: The currencies Kravia invoices in: the currencies of its three markets. Dintero's
#: Kravia overview (https://docs.dintero.com/docs/checkout/kravia/overview) and the seeds
#: (``kravia-payment-types.md``, first paragraph) say Kravia invoices "across the Nordics
#: (Norway, Sweden, and Finland)"; their currencies are NOK, SEK and EUR (Finland is in
#: the euro area; ``kravia_schedule.countries.Country.currency``). No Kravia page names a
#: currency outside these; the examples use NOK.
KRAVIA_CURRENCIES: tuple[str, ...] = ("NOK", "SEK", "EUR")


def is_kravia_currency(currency: object) -> bool:
    """Whether ``currency`` is one Kravia invoices in (:data:`KRAVIA_CURRENCIES`).

    Exact and case-sensitive, as ISO 4217 codes are (``Transaction.currency`` is
    ``Format: iso4217-code``, line 5984): ``"nok"`` is not a currency code.
    """
    return isinstance(currency, str) and currency in KRAVIA_CURRENCIES


class SettlementStatus(StrEnum):
    """``SettlementStatus`` (line 5296): "Overall settlement status after the events"."""

    NOT_SETTLED = "NOT_SETTLED"
    PENDING_SETTLEMENT = "PENDING_SETTLEMENT"
    PARTIALLY_SETTLED = "PARTIALLY_SETTLED"
    SETTLED = "SETTLED"


class EventKind(StrEnum):
    """``TransactionEvent.event`` (line 5336), "the event type"."""

    INITIALIZE = "INITIALIZE"
    AUTHORIZE = "AUTHORIZE"
    CAPTURE = "CAPTURE"
    REFUND = "REFUND"
    VOID = "VOID"
    INITIATE_REFUND = "INITIATE_REFUND"
    INITIATE_VOID = "INITIATE_VOID"
    INITIATE_CAPTURE = "INITIATE_CAPTURE"
    SETTLEMENT = "SETTLEMENT"

    @property
    def initiates(self) -> EventKind | None:
        """The event an ``INITIATE_*`` event starts (``INITIATE_CAPTURE`` → ``CAPTURE``)."""
        return _INITIATES.get(self)


_INITIATES = {
    EventKind.INITIATE_CAPTURE: EventKind.CAPTURE,
    EventKind.INITIATE_REFUND: EventKind.REFUND,
    EventKind.INITIATE_VOID: EventKind.VOID,
}

Shape = Literal["transaction", "flat", "webhook", "session", "payment_profile", "unknown"]

#: Members of ``Transaction`` (lines 5967-6231) that the flat shape never has.
DINTERO_ONLY = ("items", "events", "payment_product", "settlement_status", "session_id")
# Members that any record of a transaction, Dintero's or flat, carries.
_TRANSACTION_KEYS = ("payment_product_type", "payment_product", "amount", "status")


def classify(obj: object) -> Shape:
    """Which of the shapes the library reads ``obj`` is, without validating it.

    * ``"webhook"``: a checkout webhook envelope, ``{account_id, event, transaction{…}}``
      (docs.dintero.com, "example_checkout_transaction_event": the body holds
      ``account_id``, ``event`` = ``"checkout_transaction"``, ``event_delivery`` and a
      partial ``transaction``).
    * ``"session"``: a checkout session (``SessionBase``, line 3140: ``url`` and ``order``
      are required; ``SessionProfile``, line 4752, the ``sessions-profile`` body, adds
      ``profile_id``; a ``GET`` session, ``Session`` line 5107, adds ``SessionMeta``).
    * ``"payment_profile"``: a payment profile (``GET /v1/admin/session/profiles/{id}``:
      ``{created_at, profile_id, description, configuration{…}}``), no ``order``.
    * ``"transaction"``: a ``Transaction`` (lines 5967-6231) as ``GET /v1/transactions``
      lists it: it has ``items``, ``events`` or ``payment_product`` (members the flat shape
      lacks), or has no top-level ``vat_amount`` (``Transaction`` defines none).
    * ``"flat"``: the library's own shape: a top-level ``vat_amount`` and none of the
      members only Dintero's shape has.
    * ``"unknown"``: anything else (not an object, or none of the above members).
    """
    if not isinstance(obj, Mapping):
        return "unknown"
    if "account_id" in obj and "event" in obj and isinstance(obj.get("transaction"), Mapping):
        return "webhook"
    has_order = isinstance(obj.get("order"), Mapping)
    if has_order and "payment_product_type" not in obj:
        return "session"
    if "profile_id" in obj and isinstance(obj.get("configuration"), Mapping):
        return "payment_profile"
    if any(key in obj for key in DINTERO_ONLY):
        return "transaction"
    if not any(key in obj for key in _TRANSACTION_KEYS):
        return "unknown"
    return "flat" if "vat_amount" in obj else "transaction"


#: The members whose presence can make a record Dintero-shaped (see :func:`read_as_dintero`):
#: an engine that reads columns plans a row with any of them by the record reader.
DINTERO_MEMBERS = (*DINTERO_ONLY, "account_id", "order", "profile_id", "configuration")


def read_as_dintero(obj: object) -> bool:
    """Whether a record is read as Dintero's shape rather than the flat one: a webhook
    envelope, a session, a payment profile, or a transaction with a member only Dintero's
    shape has. A flat record that merely lacks its ``vat_amount`` stays flat (and is
    rejected for it)."""
    shape = classify(obj)
    if shape in ("webhook", "session", "payment_profile"):
        return True
    return shape == "transaction" and any(key in obj for key in DINTERO_ONLY)  # type: ignore[operator]
