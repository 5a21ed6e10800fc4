"""A Dintero transaction read and validated, and its form in the library's flat shape.

:func:`read_transaction` reads a ``Transaction`` (lines 5967-6231) as Dintero returns it
from ``GET /v1/transactions`` (``transactions_get``, line 8163: a bare array of them),
``GET /v1/transactions/{id}`` (``transactions_id_get``, line 8083) or in the body of a
session's POST callback (``example_session_post_callback_url``, line 8934). It checks the
type of every member the library reads, names each bad one by its dotted path
(``items[2].vat``) and ignores every other member. :func:`read_webhook` reads a checkout
webhook envelope, which carries a partial transaction: a status update, not a purchase.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from kravia_schedule._frozen import builder
from kravia_schedule.config import ProductType
from kravia_schedule.dintero.events import (
    NO_FACTS,
    EventAmounts,
    KraviaFacts,
    TransactionEvent,
    event_amounts,
    kravia_facts,
    read_event,
    read_kravia_metadata,
)
from kravia_schedule.dintero.fields import Reader, decimal_of
from kravia_schedule.dintero.schema import (
    KRAVIA_CURRENCIES,
    KRAVIA_PRODUCT_TYPES,
    LEGACY_STATUSES,
    TRANSACTION_STATUSES,
    SettlementStatus,
    classify,
    is_kravia_currency,
)
from kravia_schedule.dintero.vat import VatBreakdown, VatLine, breakdown, check_vat_rate
from kravia_schedule.errors import FieldProblem, InvalidArgument, InvalidPurchaseError

__all__ = [
    "DinteroTransaction",
    "OrderAddress",
    "OrderItem",
    "WebhookUpdate",
    "read_transaction",
    "read_webhook",
    "to_flat",
]

_STATUSES = TRANSACTION_STATUSES + LEGACY_STATUSES
_SETTLEMENT = tuple(s.value for s in SettlementStatus)
_ITEM_TYPES = ("physical", "digital", "service", "gift_card", "shipping", "surcharge")


@dataclass(frozen=True, slots=True)
class OrderAddress:
    """``OrderAddress`` (line 1513): every member, each optional. Which are required for
    a Kravia invoice is decided where the address is validated
    (:func:`kravia_schedule.address.validate_billing_address`), not here."""

    first_name: str | None = None
    last_name: str | None = None
    address_line: str | None = None
    address_line_2: str | None = None
    co_address: str | None = None
    business_name: str | None = None
    postal_code: str | None = None
    postal_place: str | None = None
    country: str | None = None
    phone_number: str | None = None
    email: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    comment: str | None = None
    organization_number: str | None = None
    organization_type: str | None = None
    customer_reference: str | None = None
    cost_center: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The members that are set; coordinates as JSON numbers."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = float(value) if isinstance(value, Decimal) else value
        return out


#: Builds a read address without the frozen ``__init__`` (see :mod:`kravia_schedule._frozen`).
_new_address = builder(OrderAddress)
_ADDRESS_FIELDS = tuple(f.name for f in fields(OrderAddress))
_COORDINATES = ("latitude", "longitude")
_ADDRESS_TEXTS = tuple(f.name for f in fields(OrderAddress) if f.name not in _COORDINATES)


def _read_address(address: Reader) -> OrderAddress:
    given = address.obj
    values = {name: given.get(name) for name in _ADDRESS_TEXTS}
    if not all(value is None or type(value) is str for value in values.values()):
        values = {name: address.text(name) for name in _ADDRESS_TEXTS}  # names each problem
    values["latitude"], values["longitude"] = (
        address.number("latitude"),
        address.number("longitude"),
    )
    return _new_address(*[values[name] for name in _ADDRESS_FIELDS])


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One ``items[]`` element (``OrderItem``, line 2576), the members the library uses.

    ``amount`` is the line's total including VAT and discounts (line 2626), negative for
    e.g. a gift card (``type``, line 2657); ``quantity`` may be decimal (line 2619);
    ``vat`` is the percent (line 2639), ``vat_amount`` the VAT when given (line 2634).
    """

    amount: int
    line_id: str | None = None
    id: str | None = None
    description: str | None = None
    quantity: Decimal | None = None
    vat: Decimal | None = None
    vat_amount: int | None = None
    type: str | None = None

    def vat_line(self, path: str) -> VatLine:
        return VatLine.of(
            path,
            self.amount,
            self.vat,
            self.vat_amount,
            line_id=self.line_id,
            description=self.description,
        )


@lru_cache(maxsize=1024, typed=True)
def _checked_rate(value: int | float) -> tuple[Decimal | None, str | None]:
    """The rate a JSON number gives and why it is none (cached: a shop has a few rates;
    typed, so that ``25`` and ``25.0`` keep their own text in a message)."""
    rate = decimal_of(value)
    return rate, None if rate is None else check_vat_rate(rate)


def _read_rate(reader: Reader) -> Decimal | None:
    value = reader.obj.get("vat")
    rate, why = _checked_rate(value) if type(value) is int or type(value) is float else (None, None)
    if rate is None:  # absent, or no number: the reader says which
        rate = reader.number("vat")
        if rate is None:
            return None
        why = check_vat_rate(rate)
    if why is not None:
        reader.problem("vat", why)
        return None
    return rate


def _read_vat_amount(reader: Reader, amount: int | None) -> int | None:
    vat_amount = reader.money("vat_amount", signed=True)
    if vat_amount is None or amount is None:
        return vat_amount
    if abs(vat_amount) > abs(amount) or (vat_amount and (vat_amount < 0) != (amount < 0)):
        reader.problem("vat_amount", f"{vat_amount} is not part of the line's amount {amount}")
        return None
    return vat_amount


_new_item = builder(OrderItem)


def _read_item(item: Reader) -> OrderItem | None:
    amount = item.money("amount", required=True, signed=True)
    quantity = item.number("quantity")
    rate = _read_rate(item)
    vat_amount = _read_vat_amount(item, amount)
    line_id, item_id = item.text("line_id"), item.text("id")
    description = item.text("description")
    kind = item.choice("type", _ITEM_TYPES)
    if amount is None:
        return None
    return _new_item(amount, line_id, item_id, description, quantity, rate, vat_amount, kind)


def _shipping_line(option: Reader) -> VatLine | None:
    """The order line of a ``shipping_option`` (``ShippingOption``, line 2778: ``amount``
    including VAT, ``vat_amount``, ``vat``, ``title``), which ``amount`` includes
    (``SessionOrderUpdate.amount``: "the sum of the ``items.amount`` +
    ``shipping_option.amount``", line 2989)."""
    amount = option.money("amount", required=True, signed=True)
    rate = _read_rate(option)
    vat_amount = _read_vat_amount(option, amount)
    line_id, title = option.text("line_id"), option.text("title")
    if amount is None:
        return None
    return VatLine.of(option.path, amount, rate, vat_amount, line_id=line_id, description=title)


@dataclass(frozen=True, slots=True)
class DinteroTransaction:
    """A validated Dintero ``Transaction``: what planning, the ledger and reconciliation
    need of it, with its VAT (:class:`VatBreakdown`), money (:class:`EventAmounts`) and
    Kravia's facts (:class:`KraviaFacts`).

    ``status`` is one of :data:`TRANSACTION_STATUSES` or the seeds' ``SETTLED``.
    """

    id: str
    created_at: datetime
    payment_product_type: str
    amount: int
    currency: str
    status: str
    vat: VatBreakdown
    amounts: EventAmounts
    kravia: KraviaFacts
    payment_product: str | None = None
    settlement_status: SettlementStatus | None = None
    updated_at: datetime | None = None
    merchant_reference: str | None = None
    merchant_reference_2: str | None = None
    session_id: str | None = None
    billing_address: OrderAddress | None = None
    shipping_address: OrderAddress | None = None
    items: tuple[OrderItem, ...] = ()
    events: tuple[TransactionEvent, ...] = ()

    @property
    def is_kravia(self) -> bool:
        """Whether this is a Kravia invoice payment (``payment_product_type`` one of
        :data:`KRAVIA_PRODUCT_TYPES`); a card, Vipps, … transaction is not, and the planner
        skips it as "not a Kravia payment"."""
        return self.payment_product_type in KRAVIA_PRODUCT_TYPES

    @property
    def product_type(self) -> ProductType | None:
        """The Kravia :class:`ProductType`, ``None`` for another payment product."""
        return ProductType(self.payment_product_type) if self.is_kravia else None

    @property
    def vat_amount(self) -> int | None:
        """The transaction's VAT, ``None`` when nothing gives it (never read as zero)."""
        return self.vat.vat_amount


def read_transaction(obj: object) -> DinteroTransaction:
    """Validate a Dintero ``Transaction`` and return it typed.

    Raises :class:`InvalidPurchaseError` naming the transaction id (when readable) and
    every bad member by its dotted path. Required: ``id``, ``created_at``,
    ``payment_product_type``, ``amount`` (0..:data:`AMOUNT_LIMIT`), ``currency``
    (ISO 4217; for a Kravia transaction one of :data:`KRAVIA_CURRENCIES`) and ``status``.
    A webhook envelope is refused with a message saying it is a status update (see
    :func:`read_webhook`), a session or payment profile with one saying what it is.
    """
    if not isinstance(obj, Mapping):
        raise InvalidPurchaseError(None, [FieldProblem("$", "a transaction must be a JSON object")])
    problems: list[FieldProblem] = []
    tx = Reader(obj, "", problems)
    raw_id = obj.get("id")
    tid = raw_id if isinstance(raw_id, str) and raw_id.strip() else None
    shape = classify(obj)
    if shape == "webhook":  # its id is the inner transaction's
        inner = obj.get("transaction")
        inner_id = inner.get("id") if isinstance(inner, Mapping) else None
        raise InvalidPurchaseError(
            inner_id if isinstance(inner_id, str) else None,
            [
                FieldProblem(
                    "$",
                    "a checkout webhook envelope carries a partial transaction: a status "
                    "update for a known transaction, not one to plan (read it with "
                    "read_webhook)",
                )
            ],
        )
    if shape in ("session", "payment_profile"):
        what = "a checkout session" if shape == "session" else "a payment profile"
        raise InvalidPurchaseError(tid, [FieldProblem("$", f"{what}, not a transaction")])
    tx.text("id", required=True, non_empty=True)
    created_at = tx.timestamp("created_at", required=True)
    product = tx.text("payment_product")
    product_type = tx.text("payment_product_type", required=True, non_empty=True)
    if product_type is not None and product_type.startswith("kravia."):
        if product_type not in KRAVIA_PRODUCT_TYPES:
            tx.problem(
                "payment_product_type",
                f"unknown Kravia product type {product_type!r} (expected one of "
                f"{', '.join(KRAVIA_PRODUCT_TYPES)})",
            )
    elif product == "kravia" and product_type is not None:
        tx.problem("payment_product_type", f"{product_type!r} is no Kravia product type")
    amount = tx.money("amount", required=True)
    currency = tx.text("currency", required=True)
    if currency is not None:
        if len(currency) != 3 or not currency.isascii() or not currency.isupper():
            tx.problem("currency", f"{currency!r} is not an ISO 4217 code")
        elif product_type in KRAVIA_PRODUCT_TYPES and not is_kravia_currency(currency):
            tx.problem(
                "currency",
                f"Kravia invoices in {', '.join(KRAVIA_CURRENCIES)}, not {currency}",
            )
    status = tx.choice("status", _STATUSES, required=True)
    settlement = tx.choice("settlement_status", _SETTLEMENT)
    billing_reader, shipping_reader = tx.child("billing_address"), tx.child("shipping_address")
    billing = None if billing_reader is None else _read_address(billing_reader)
    shipping = None if shipping_reader is None else _read_address(shipping_reader)
    items = [(r.path, _read_item(r)) for r in tx.children("items")]
    option = tx.child("shipping_option")
    shipping_line = None if option is None else _shipping_line(option)
    events = tuple(read_event(r) for r in tx.children("events"))
    metadata_reader = tx.child("metadata")
    metadata = NO_FACTS if metadata_reader is None else read_kravia_metadata(metadata_reader)
    session = tx.child("session")
    order = None if session is None else session.child("order")
    session_vat = None if order is None else order.money("vat_amount")
    flat_vat = tx.money("vat_amount")
    updated_at = tx.timestamp("updated_at")
    references = tx.text("merchant_reference"), tx.text("merchant_reference_2")
    session_id = tx.text("session_id")
    result = None
    if not problems:
        lines = [item.vat_line(path) for path, item in items if item is not None]
        if shipping_line is not None:
            lines.append(shipping_line)
        assert amount is not None
        assert created_at is not None
        money = event_amounts(amount, events)
        problems.extend(money.problems())
        result = DinteroTransaction(
            id=tid or "",
            created_at=created_at,
            payment_product_type=product_type or "",
            amount=amount,
            currency=currency or "",
            status=status or "",
            vat=breakdown(
                lines, amount=amount, session_vat_amount=session_vat, flat_vat_amount=flat_vat
            ),
            amounts=money,
            kravia=kravia_facts(metadata, events),
            payment_product=product,
            settlement_status=None if settlement is None else SettlementStatus(settlement),
            updated_at=updated_at,
            merchant_reference=references[0],
            merchant_reference_2=references[1],
            session_id=session_id,
            billing_address=billing,
            shipping_address=shipping,
            items=tuple(item for _, item in items if item is not None),
            events=events,
        )
    if problems or result is None:
        raise InvalidPurchaseError(tid, problems)
    return result


@dataclass(frozen=True, slots=True)
class WebhookUpdate:
    """A checkout webhook envelope's status update (docs.dintero.com, "Example Webhook
    Events: checkout_transaction"): ``{account_id, event, event_delivery, transaction{id,
    session_id, merchant_reference, merchant_reference_2, status, created_at,
    updated_at}}``. Only ``transaction.id`` and ``transaction.status`` are required here."""

    account_id: str
    event: str
    transaction_id: str
    status: str
    event_delivery: str | None = None
    session_id: str | None = None
    merchant_reference: str | None = None
    merchant_reference_2: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


def read_webhook(obj: object) -> WebhookUpdate:
    """Validate a checkout webhook envelope; raises :class:`InvalidPurchaseError` naming
    each bad member (``transaction.status``)."""
    if classify(obj) != "webhook":
        raise InvalidPurchaseError(
            None,
            [FieldProblem("$", "not a webhook envelope ({account_id, event, transaction})")],
        )
    assert isinstance(obj, Mapping)
    problems: list[FieldProblem] = []
    envelope = Reader(obj, "", problems)
    account_id = envelope.text("account_id", required=True)
    event = envelope.text("event", required=True)
    delivery = envelope.text("event_delivery")
    tx = envelope.child("transaction")
    assert tx is not None  # classify saw an object
    tid = tx.text("id", required=True, non_empty=True)
    status = tx.choice("status", _STATUSES, required=True)
    update = WebhookUpdate(
        account_id=account_id or "",
        event=event or "",
        transaction_id=tid or "",
        status=status or "",
        event_delivery=delivery,
        session_id=tx.text("session_id"),
        merchant_reference=tx.text("merchant_reference"),
        merchant_reference_2=tx.text("merchant_reference_2"),
        created_at=tx.timestamp("created_at"),
        updated_at=tx.timestamp("updated_at"),
    )
    if problems:
        raise InvalidPurchaseError(tid, problems)
    return update


def to_flat(transaction: DinteroTransaction) -> dict[str, Any]:
    """``transaction`` in the flat shape :func:`kravia_schedule.purchases.parse_purchase`
    reads: ``id``, ``created_at``, ``amount``, ``vat_amount`` (only when known),
    ``currency``, ``status``, ``payment_product_type``, ``merchant_reference`` (when set)
    and ``billing_address`` (its members that are set, when there is one).

    It does not decide whether the transaction belongs on an invoice: a non-Kravia one
    (:attr:`DinteroTransaction.is_kravia`) or one whose status the planner does not know
    is for the caller to skip.
    """
    if not isinstance(transaction, DinteroTransaction):
        kind = type(transaction).__name__
        raise InvalidArgument(f"to_flat takes a DinteroTransaction (read_transaction), got {kind}")
    flat: dict[str, Any] = {
        "id": transaction.id,
        "created_at": transaction.created_at.isoformat(),
        "amount": transaction.amount,
        "currency": transaction.currency,
        "status": transaction.status,
        "payment_product_type": transaction.payment_product_type,
    }
    if transaction.vat_amount is not None:
        flat["vat_amount"] = transaction.vat_amount
    if transaction.merchant_reference is not None:
        flat["merchant_reference"] = transaction.merchant_reference
    if transaction.billing_address is not None:
        flat["billing_address"] = transaction.billing_address.to_dict()
    return flat
