"""Purchases: the Dintero transactions a plan is made from, parsed and validated.

A purchase arrives as a Dintero-transaction-shaped mapping::

    {"id": "T1", "created_at": "2025-01-31T23:30:00Z", "amount": 50000,
     "vat_amount": 10000, "currency": "NOK", "status": "AUTHORIZED",
     "payment_product_type": "kravia.invoice_b2b_grouped",
     "merchant_reference": "order-1", "billing_address": {...}}

Money is in integer minor units (øre, öre, cent); floats are refused, never rounded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache, partial
from operator import itemgetter
from typing import Any, NamedTuple

from dateutil.parser import isoparse

from kravia_schedule import rules
from kravia_schedule._frozen import builder
from kravia_schedule.address import BillingAddress, validate_billing_address
from kravia_schedule.config import ProductType
from kravia_schedule.dintero.schema import DINTERO_ONLY, read_as_dintero
from kravia_schedule.dintero.transaction import read_transaction, to_flat
from kravia_schedule.dintero.vat import VatBreakdown, check_vat_rate
from kravia_schedule.errors import FieldProblem, InvalidBillingAddress, InvalidPurchaseError
from kravia_schedule.rules import CURRENCY_FORM, check_money
from kravia_schedule.statuses import TransactionStatus
from kravia_schedule.text import text_problem
from kravia_schedule.vat import InvoiceItem

__all__ = [
    "ForeignRow",
    "Purchase",
    "PurchaseRow",
    "RecordReader",
    "TransactionStatus",
    "item_to_dict",
    "items_of",
    "parse_purchase",
    "row_of",
]

_CURRENCY = re.compile(CURRENCY_FORM)


def _item_problems(items: object) -> list[FieldProblem]:
    """Why ``items`` are not a purchase's order lines (as :func:`items_of` gives them)."""
    if not isinstance(items, tuple):
        return [
            FieldProblem("items", f"must be a tuple of InvoiceItem, got {type(items).__name__}")
        ]
    problems = []
    for index, item in enumerate(items):
        path = f"items[{index}]"
        if not isinstance(item, InvoiceItem):
            problems.append(
                FieldProblem(path, f"must be an InvoiceItem, got {type(item).__name__}")
            )
            continue
        for name in ("amount", "vat_amount"):
            value = getattr(item, name)
            if (value is not None or name == "amount") and (
                type(value) is not int or abs(value) > rules.MAX_AMOUNT
            ):
                problems.append(
                    FieldProblem(f"{path}.{name}", f"must be integer minor units, got {value!r}")
                )
        rate = item.vat_rate
        why = (
            None
            if rate is None
            else check_vat_rate(rate)
            if isinstance(rate, Decimal) and rate.is_finite()
            else f"must be a Decimal percent, got {rate!r}"
        )
        if why is not None:
            problems.append(FieldProblem(f"{path}.vat_rate", why))
    return problems


def _text_problems(**texts: object) -> list[FieldProblem]:
    """A problem for each string that is not valid Unicode text (it could not be stored
    or printed)."""
    return [
        FieldProblem(name, why)
        for name, value in texts.items()
        if isinstance(value, str) and (why := text_problem(value)) is not None
    ]


@dataclass(frozen=True, slots=True)
class Purchase:
    """One validated purchase (a Dintero transaction paid with a Kravia product type).

    Constructing one directly checks the invariants a plan relies on (aware
    ``created_at``, integer amounts, VAT within the amount) and raises
    :class:`InvalidPurchaseError` when they do not hold.
    """

    id: str
    created_at: datetime
    amount: int
    #: ``None`` when nothing gives the purchase's VAT (never read as zero).
    vat_amount: int | None
    currency: str
    status: TransactionStatus
    product_type: ProductType
    billing_address: BillingAddress
    merchant_reference: str | None = None
    #: The transaction's order lines (Dintero's ``items[]``); empty for the flat shape.
    items: tuple[InvoiceItem, ...] = ()

    def __post_init__(self) -> None:
        # Normalized as a mapping's fields are, so one transaction sent both ways is one.
        if isinstance(self.id, str):
            object.__setattr__(self, "id", self.id.strip())
        problems = check_money(self.amount, self.vat_amount, vat_known=False)
        problems += _item_problems(self.items)
        if not isinstance(self.id, str) or not self.id:
            problems.append(FieldProblem("id", "must be a non-empty string"))
        else:
            problems.extend(_text_problems(id=self.id, merchant_reference=self.merchant_reference))
        if not isinstance(self.created_at, datetime) or self.created_at.utcoffset() is None:
            problems.append(FieldProblem("created_at", "must be a datetime with a time zone"))
        if not isinstance(self.currency, str) or not _CURRENCY.fullmatch(self.currency):
            problems.append(FieldProblem("currency", f"{self.currency!r} is not an ISO 4217 code"))
        for name, enum in (("status", TransactionStatus), ("product_type", ProductType)):
            value, problem = _enum_value(enum, getattr(self, name), name)
            if problem is None:
                object.__setattr__(self, name, value)
            else:
                problems.append(problem)
        if self.merchant_reference is not None and not isinstance(self.merchant_reference, str):
            problems.append(FieldProblem("merchant_reference", "must be a string"))
        if not isinstance(self.billing_address, BillingAddress):
            kind = type(self.billing_address).__name__
            problems.append(
                FieldProblem("billing_address", f"must be a BillingAddress, got {kind}")
            )
        elif isinstance(self.product_type, ProductType):
            problems += _address_problems(self.billing_address, self.product_type)
        if problems:
            raise InvalidPurchaseError(self.id if isinstance(self.id, str) else None, problems)

    @classmethod
    def from_dict(cls, record: Mapping[str, Any], *, strict: bool = False) -> Purchase:
        """Same as :func:`parse_purchase`."""
        return parse_purchase(record, strict=strict)

    def to_dict(self) -> dict[str, Any]:
        """The purchase in Dintero's transaction shape (round-trips through ``from_dict``)."""
        out: dict[str, Any] = {
            "id": self.id,
            "created_at": self.created_at.isoformat(),
            "amount": self.amount,
            "currency": self.currency,
            "status": self.status.value,
            "payment_product_type": self.product_type.value,
            "billing_address": self.billing_address.to_dict(),
        }
        if self.vat_amount is not None:
            out["vat_amount"] = self.vat_amount
        if self.merchant_reference is not None:
            out["merchant_reference"] = self.merchant_reference
        if self.items:
            out["items"] = [item_to_dict(item) for item in self.items]
        return out


def item_to_dict(item: InvoiceItem) -> dict[str, Any]:
    """``item`` as a Dintero ``OrderItem`` (the members that are set)."""
    out: dict[str, Any] = {"amount": item.amount}
    if item.line_id is not None:
        out["line_id"] = item.line_id
    if item.description is not None:
        out["description"] = item.description
    if item.vat_rate is not None:
        # A JSON number; the reader takes it back as the decimal written (fields.decimal_of).
        out["vat"] = (
            int(item.vat_rate) if item.vat_rate == int(item.vat_rate) else float(item.vat_rate)
        )
    if item.vat_amount is not None:
        out["vat_amount"] = item.vat_amount
    return out


@lru_cache(maxsize=1 << 16)
def _address_problems(
    address: BillingAddress, product_type: ProductType
) -> tuple[FieldProblem, ...]:
    """Why ``address`` is not a billing address the validator would give for
    ``product_type`` (each distinct one checked once)."""
    try:
        checked = validate_billing_address(address.to_dict(), product_type)
    except InvalidBillingAddress as error:
        return tuple(FieldProblem(f"billing_address.{p.path}", p.message) for p in error.problems)
    if checked != address:
        return (
            FieldProblem(
                "billing_address",
                "is not in the form validate_billing_address gives (build it with that)",
            ),
        )
    return ()


def _parse_timestamp(value: object) -> tuple[datetime | None, str]:
    if isinstance(value, datetime):  # a record built in Python rather than read from JSON
        if value.utcoffset() is None:
            return (
                None,
                f"{value.isoformat()} has no time zone; the local invoice date would be a guess",
            )
        return value, ""
    if not isinstance(value, str):
        return None, f"must be an ISO-8601 string with a UTC offset, got {type(value).__name__}"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = isoparse(value)
        except (ValueError, OverflowError):
            return None, f"{value!r} is not an ISO-8601 timestamp"
    if parsed.utcoffset() is None:
        return None, f"{value!r} has no UTC offset; the local invoice date would be a guess"
    return parsed, ""


def _enum_value(
    enum: type[TransactionStatus] | type[ProductType], value: object, name: str
) -> tuple[Any, FieldProblem | None]:
    try:
        return enum(value), None  # type: ignore[arg-type]
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        return None, FieldProblem(name, f"unknown value {value!r} (expected one of {choices})")


def parse_purchase(
    record: Mapping[str, Any], *, strict: bool = False, require_vat: bool = False
) -> Purchase:
    """Validate a transaction and return it as a :class:`Purchase`.

    ``record`` is in the flat shape (a top-level ``vat_amount``) or Dintero's own (VAT
    from its ``items[]``, which the purchase keeps). Raises :class:`InvalidPurchaseError`
    naming the transaction id and listing every problem with its field path. ``strict``
    also verifies organization-number check digits; ``require_vat`` refuses a purchase
    whose VAT nothing gives (otherwise its ``vat_amount`` is ``None``).
    """
    reader = RecordReader(strict=strict, require_vat=require_vat)
    row = reader(record) if read_as_dintero(record) else None
    if isinstance(row, ForeignRow):
        problem = FieldProblem(
            "payment_product_type",
            f"{row.payment_product_type!r} is not a Kravia payment: it goes on no invoice",
        )
        raise InvalidPurchaseError(row.id, [problem])
    if row is not None:
        return _new_purchase(*row)
    return _parse(record, partial(validate_billing_address, strict=strict))


def _parse(
    record: Mapping[str, Any],
    billing: Callable[[Any, ProductType], BillingAddress],
    items: tuple[InvoiceItem, ...] = (),
    *,
    vat_known: bool = True,
) -> Purchase:
    """:func:`parse_purchase` of a flat record, the billing address checked by ``billing``
    (which raises :class:`InvalidBillingAddress` as :func:`validate_billing_address`
    does). ``items`` and ``vat_known=False`` are for a record read from Dintero's shape,
    whose VAT may be unknown (absent)."""
    if not isinstance(record, Mapping):
        raise InvalidPurchaseError(None, [FieldProblem("$", "a purchase must be a JSON object")])
    problems: list[FieldProblem] = []
    raw_id = record.get("id")
    purchase_id = raw_id.strip() if isinstance(raw_id, str) else None
    if not purchase_id:
        problems.append(FieldProblem("id", "is required (a non-empty string)"))
        purchase_id = None
    created_at, why = _parse_timestamp(record.get("created_at"))
    if created_at is None:
        problems.append(
            FieldProblem("created_at", why if "created_at" in record else "is required")
        )
    amount, vat_amount = record.get("amount"), record.get("vat_amount")
    problems.extend(check_money(amount, vat_amount, vat_known=vat_known))
    currency = record.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        problems.append(
            FieldProblem("currency", f"{currency!r} is not an ISO 4217 code (NOK, SEK, EUR)")
        )
    status, problem = _enum_value(TransactionStatus, record.get("status"), "status")
    if problem:
        problems.append(problem)
    product_type, problem = _enum_value(
        ProductType, record.get("payment_product_type"), "payment_product_type"
    )
    if problem:
        problems.append(problem)
    merchant_reference = record.get("merchant_reference")
    if merchant_reference is not None and not isinstance(merchant_reference, str):
        problems.append(FieldProblem("merchant_reference", "must be a string"))
    problems.extend(_text_problems(id=purchase_id, merchant_reference=merchant_reference))
    address: BillingAddress | None = None
    if "billing_address" not in record:
        problems.append(FieldProblem("billing_address", "is required"))
    elif product_type is not None:
        try:
            address = billing(record["billing_address"], product_type)
        except InvalidBillingAddress as error:
            problems.extend(
                FieldProblem(
                    p.path if p.path.startswith("billing_address") else f"billing_address.{p.path}",
                    p.message,
                )
                for p in error.problems
            )
    if problems:
        raise InvalidPurchaseError(purchase_id, problems)
    assert purchase_id is not None
    assert created_at is not None
    assert address is not None
    assert status is not None
    assert product_type is not None
    # Every field is checked: built without checking them again.
    return _new_purchase(
        purchase_id, created_at, amount, vat_amount, currency, status, product_type, address,
        merchant_reference, items,
    )  # fmt: skip


_new_purchase = builder(Purchase)


class PurchaseRow(NamedTuple):
    """A validated purchase as the planner keeps it: a plain tuple, cheap to build and hold.

    Internal to planning; :class:`Purchase` is the public type, with the same field
    names, so the planner reads either. A frozen dataclass costs several times more to
    build, and a billing run builds one per purchase read from a file.
    """

    id: str
    created_at: datetime
    amount: int
    vat_amount: int | None
    currency: str
    status: TransactionStatus
    product_type: ProductType
    billing_address: BillingAddress
    merchant_reference: str | None
    items: tuple[InvoiceItem, ...] = ()


class ForeignRow(NamedTuple):
    """A valid transaction paid with another payment product than Kravia's (card, Vipps,
    …, as an unfiltered list of transactions holds): on no invoice. It has a row's
    fields, ``product_type`` ``None`` and no address, so the planner settles its repeats
    as any row's."""

    id: str
    created_at: datetime
    amount: int
    vat_amount: int | None
    currency: str
    status: TransactionStatus
    product_type: None
    billing_address: None
    merchant_reference: None
    payment_product_type: str

    @property
    def items(self) -> tuple[InvoiceItem, ...]:
        return ()


def row_of(purchase: Purchase) -> PurchaseRow:
    """The :class:`PurchaseRow` of an already validated :class:`Purchase`."""
    return PurchaseRow(
        purchase.id, purchase.created_at, purchase.amount, purchase.vat_amount,
        purchase.currency, purchase.status, purchase.product_type, purchase.billing_address,
        purchase.merchant_reference, purchase.items,
    )  # fmt: skip


def items_of(vat: VatBreakdown) -> tuple[InvoiceItem, ...]:
    """The order lines of a Dintero transaction (its items and shipping) as invoice items."""
    return tuple(
        InvoiceItem(line.line_id, line.description, line.gross, line.rate, line.vat)
        for line in vat.lines
    )


_STATUSES = {s.value: s for s in TransactionStatus}
_PRODUCT_TYPES = {p.value: p for p in ProductType}
_fields = itemgetter("id", "created_at", "amount", "vat_amount", "currency", "status",
                     "payment_product_type", "billing_address")  # fmt: skip


class RecordReader:
    """Validates Dintero-shaped records into rows, remembering what repeats.

    A billing run sees the same few thousand billing addresses and currencies over and
    over; each distinct one is validated once. Records the fast path is not sure about
    go through :func:`parse_purchase`, so the result and every error message are exactly
    those of :func:`parse_purchase`.
    """

    def __init__(self, *, strict: bool = False, require_vat: bool = False) -> None:
        self.strict = strict
        self.require_vat = require_vat
        self._addresses: dict[
            tuple[Any, ...], dict[ProductType, BillingAddress | tuple[FieldProblem, ...]]
        ] = {}
        self._field_names: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self._currencies: dict[str, str] = {}

    def __call__(self, record: Mapping[str, Any]) -> PurchaseRow | ForeignRow:
        """The row of ``record``; raises :class:`InvalidPurchaseError` when it is invalid."""
        row = self._fast(record) if type(record) is dict else None
        if row is not None:
            return row
        if read_as_dintero(record):
            return self._dintero(record)
        return row_of(_parse(record, self._billing))

    def _dintero(self, record: Mapping[str, Any]) -> PurchaseRow | ForeignRow:
        """The row of a record in Dintero's own shape: its VAT from its items (or its
        session), its problems named by Dintero's paths."""
        transaction = read_transaction(record)
        if not transaction.is_kravia:
            return ForeignRow(
                transaction.id, transaction.created_at, transaction.amount,
                transaction.vat_amount, transaction.currency,
                TransactionStatus(transaction.status), None, None, None,
                transaction.payment_product_type,
            )  # fmt: skip
        flat = to_flat(transaction)
        if "vat_amount" not in flat and self.require_vat:
            problem = FieldProblem(
                "items",
                "VAT is unknown: no item gives its vat or vat_amount and there is no "
                "session.order.vat_amount",
            )
            raise InvalidPurchaseError(transaction.id, [problem])
        return row_of(_parse(flat, self._billing, items_of(transaction.vat), vat_known=False))

    def _fast(self, record: dict[str, Any]) -> PurchaseRow | None:
        """The row of a plainly valid record, or ``None`` to let the full parser decide."""
        for key in DINTERO_ONLY:  # Dintero's shape: its VAT is its items', not vat_amount
            if key in record:
                return None
        try:
            pid, created, amount, vat, currency, status, product, address = _fields(record)
            status = _STATUSES[status]
            product = _PRODUCT_TYPES[product]
        except (KeyError, TypeError):
            return None
        if type(pid) is not str or not pid or pid[0].isspace() or pid[-1].isspace():
            return None
        if not pid.isascii() and text_problem(pid) is not None:
            return None
        # rules.check_money, inline: anything else is for the full parser to say.
        if type(amount) is not int or type(vat) is not int:
            return None
        if not 0 < amount <= rules.MAX_AMOUNT or not 0 <= vat <= amount:
            return None
        known = self._currencies.get(currency) if type(currency) is str else None
        if known is None:
            if type(currency) is not str or not _CURRENCY.fullmatch(currency):
                return None
            known = self._currencies[currency] = currency
        currency = known  # one string object per currency, however many purchases
        reference = record.get("merchant_reference")
        if reference is not None and (
            type(reference) is not str or text_problem(reference) is not None
        ):
            return None
        if type(created) is not str:
            return None
        try:
            created_at = datetime.fromisoformat(created)
        except ValueError:
            return None
        if created_at.tzinfo is None:  # fromisoformat's zones are fixed offsets, never None
            return None
        billing = self._address(address, product)
        if billing is None:
            return None
        return PurchaseRow(
            pid, created_at, amount, vat, currency, status, product, billing, reference
        )

    def _address(self, address: object, product: ProductType) -> BillingAddress | None:
        """The validated ``address`` (cached), or ``None`` when it is invalid or is not
        a plain dict."""
        checked = self._checked(address, product)
        return checked if isinstance(checked, BillingAddress) else None

    def _billing(self, address: Any, product: ProductType) -> BillingAddress:
        """:func:`validate_billing_address`, each distinct plain address checked once
        (an invalid one too: the full parser asks again for every record it reads)."""
        checked = self._checked(address, product)
        if checked is None:
            return validate_billing_address(address, product, strict=self.strict)
        if isinstance(checked, BillingAddress):
            return checked
        raise InvalidBillingAddress(checked)

    def _checked(
        self, address: object, product: ProductType
    ) -> BillingAddress | tuple[FieldProblem, ...] | None:
        """The validated ``address`` or its problems, remembered per distinct plain
        address; ``None`` for one that is not a dict of hashable values."""
        if type(address) is not dict:
            return None
        # Keyed by (field names, values); the names tuple is shared by every address of
        # the same shape, so a cached spelling costs little more than its values.
        names = tuple(address)
        names = self._field_names.setdefault(names, names)
        key = (names, tuple(address.values()))
        try:
            by_type = self._addresses.get(key)
        except TypeError:  # an unhashable value: not a plain address
            return None
        if by_type is None:
            by_type = self._addresses[key] = {}
        checked = by_type.get(product)
        if checked is None:
            try:
                checked = validate_billing_address(address, product, strict=self.strict)
            except InvalidBillingAddress as error:
                # Its messages name the types of the values, and 1 == True == 1.0 as
                # keys: a refusal is remembered only for an address of texts.
                if not all(type(v) is str or v is None for v in key[1]):
                    return error.problems
                checked = error.problems
            by_type[product] = checked
        return checked
