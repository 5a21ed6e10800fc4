"""The rules every engine applies, written once.

``plan_invoices``, the columnar engine (``plan_frame``/``plan_frames``/``plan_parquet``),
``merge_plans`` and the ledger all decide the same questions; each answer lives here, as
data and small pure functions, and every engine derives its own form from it (the
columnar path builds its Polars expressions from these sets and pattern sources). To
change a rule, change it here: the engine-parametrized suite (``tests/test_engines.py``)
checks that every engine follows.

Which purchases go on an invoice (:func:`outcome`):

>>> print(outcome_table())
product type                status                       invoiced  otherwise
--------------------------  ---------------------------  --------  ---------
kravia.invoice_b2b          AUTHORIZED                   yes
kravia.invoice_b2b          AUTHORIZATION_VOIDED         no        voided
kravia.invoice_b2b          CAPTURED                     yes
kravia.invoice_b2b          PARTIALLY_CAPTURED           yes
kravia.invoice_b2b          PARTIALLY_CAPTURED_REFUNDED  yes
kravia.invoice_b2b          REFUNDED                     no        voided
kravia.invoice_b2b          PARTIALLY_REFUNDED           yes
kravia.invoice_b2b          SETTLED                      yes
kravia.invoice_b2b          (any other)                  no        status
kravia.invoice_b2b_grouped  AUTHORIZED                   yes
kravia.invoice_b2b_grouped  AUTHORIZATION_VOIDED         no        voided
kravia.invoice_b2b_grouped  (any other)                  no        status
kravia.invoice_b2c          AUTHORIZED                   yes
kravia.invoice_b2c          AUTHORIZATION_VOIDED         no        voided
kravia.invoice_b2c          CAPTURED                     yes
kravia.invoice_b2c          PARTIALLY_CAPTURED           yes
kravia.invoice_b2c          PARTIALLY_CAPTURED_REFUNDED  yes
kravia.invoice_b2c          REFUNDED                     no        voided
kravia.invoice_b2c          PARTIALLY_REFUNDED           yes
kravia.invoice_b2c          SETTLED                      yes
kravia.invoice_b2c          (any other)                  no        status

A product type that is not enabled skips everything as ``product_disabled``.

Money is integer minor units (:func:`check_money`); invoice ids are BLAKE2b digests of
a fixed text (:func:`grouped_invoice_id`, :func:`standard_invoice_id`); a plan lists its
invoices in :func:`invoice_order`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from kravia_schedule.config import ProductType
from kravia_schedule.errors import FieldProblem
from kravia_schedule.statuses import TransactionStatus

if TYPE_CHECKING:
    from kravia_schedule.customers import CustomerKey
    from kravia_schedule.periods import BillingPeriod

__all__ = [
    "CURRENCY_FORM",
    "EMAIL_FORM",
    "GROUPED_ID_FIELDS",
    "GROUPED_ID_PREFIX",
    "GROUPED_ID_TAG",
    "GROUPED_INVOICED",
    "IDENTICAL_REPEAT",
    "ID_SEPARATOR",
    "MAX_AMOUNT",
    "MAX_INVOICE_TOTAL",
    "PHONE_FORM",
    "PLAIN_TIMESTAMP_FORM",
    "POSTAL_FORMS",
    "REGISTERED_STATUSES",
    "STANDARD_ID_PREFIX",
    "STANDARD_INVOICED",
    "TIMESTAMP_TAIL_FORM",
    "InvoiceState",
    "Outcome",
    "SkipReason",
    "check_amount_bound",
    "check_money",
    "grouped_id_prefix",
    "grouped_invoice_id",
    "grouped_invoice_id_from",
    "invoice_order",
    "invoice_state",
    "invoiced_statuses",
    "is_identical_repeat",
    "is_invoiced",
    "new_digest",
    "outcome",
    "outcome_table",
    "standard_id_text",
    "standard_invoice_id",
]

_S = TransactionStatus


class InvoiceState(StrEnum):
    """Where an invoice stands on the ``as_of`` date."""

    OPEN = "open"  # its billing period has not ended: more purchases may join
    SCHEDULED = "scheduled"  # the period has ended, the issue date is still ahead
    READY = "ready"  # the issue date has been reached


class SkipReason(StrEnum):
    """Why a valid purchase is on no invoice of this plan."""

    PRODUCT_DISABLED = "product_disabled"
    VOIDED = "voided"
    STATUS = "status"
    NOT_KRAVIA = "not_kravia"


# -- which purchases are invoiced ------------------------------------------------------

#: A grouped invoice collects the purchases Kravia has registered and not yet billed.
GROUPED_INVOICED: frozenset[TransactionStatus] = frozenset({_S.AUTHORIZED})
#: The states of a transaction Kravia has registered and not cancelled, whatever has been
#: paid since, under either lifecycle: today's (``AUTHORIZED`` once Kravia registers the
#: invoice, ``PARTIALLY_CAPTURED``/``CAPTURED`` as the shopper pays, settlement in
#: ``settlement_status``) and the older documents' (``CAPTURED`` on registration,
#: ``PARTIALLY_REFUNDED``, ``SETTLED`` as a state). Reconciliation compares these with
#: Kravia's own invoices.
REGISTERED_STATUSES: frozenset[TransactionStatus] = frozenset(
    {
        _S.AUTHORIZED,
        _S.PARTIALLY_CAPTURED,
        _S.CAPTURED,
        _S.PARTIALLY_CAPTURED_REFUNDED,
        _S.PARTIALLY_REFUNDED,
        _S.SETTLED,
    }
)
#: A standard invoice exists for every registered purchase: its dates do not depend on
#: payment.
STANDARD_INVOICED: frozenset[TransactionStatus] = REGISTERED_STATUSES
#: The skipped states reported as ``voided`` rather than ``status``, per kind: cancelled
#: by a void (today's way) or refunded in full (the older documents').
_GROUPED_VOIDED = frozenset({_S.AUTHORIZATION_VOIDED})
_STANDARD_VOIDED = frozenset({_S.AUTHORIZATION_VOIDED, _S.REFUNDED})


def invoiced_statuses(product_type: ProductType) -> frozenset[TransactionStatus]:
    """The statuses whose purchases of ``product_type`` go on an invoice (when enabled).

    >>> sorted(invoiced_statuses(ProductType.B2B_GROUPED))
    [<TransactionStatus.AUTHORIZED: 'AUTHORIZED'>]
    """
    return GROUPED_INVOICED if product_type.is_grouped else STANDARD_INVOICED


def is_invoiced(product_type: ProductType, status: TransactionStatus, *, enabled: bool) -> bool:
    """Whether a valid purchase goes on an invoice."""
    return enabled and status in invoiced_statuses(product_type)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What becomes of a valid purchase: invoiced, or skipped with a reason and its wording."""

    invoiced: bool
    reason: SkipReason | None = None
    detail: str = ""


def outcome(
    product_type: ProductType | None, status: TransactionStatus, *, enabled: bool
) -> Outcome:
    """What becomes of a valid purchase of ``product_type`` in ``status`` (``None``: a
    transaction paid with another payment product, as an unfiltered list holds).

    >>> outcome(ProductType.B2B_GROUPED, TransactionStatus.CAPTURED, enabled=True).detail
    'grouped invoices collect AUTHORIZED purchases; this one is CAPTURED'
    >>> outcome(ProductType.B2C, TransactionStatus.CAPTURED, enabled=False).reason
    <SkipReason.PRODUCT_DISABLED: 'product_disabled'>
    """
    if product_type is None:
        return Outcome(False, SkipReason.NOT_KRAVIA, "not a Kravia payment")
    if not enabled:
        detail = f"{product_type.value} is not enabled in the configuration"
        return Outcome(False, SkipReason.PRODUCT_DISABLED, detail)
    if status in invoiced_statuses(product_type):
        return Outcome(True)
    if product_type.is_grouped:
        if status in _GROUPED_VOIDED:
            return Outcome(False, SkipReason.VOIDED, "voided before billing")
        detail = f"grouped invoices collect AUTHORIZED purchases; this one is {status.value}"
        return Outcome(False, SkipReason.STATUS, detail)
    reason = SkipReason.VOIDED if status in _STANDARD_VOIDED else SkipReason.STATUS
    return Outcome(False, reason, f"no invoice for a standard purchase in state {status.value}")


def outcome_table(product_types: Iterable[ProductType] = ProductType) -> str:
    """The outcome of every (product type, status) as a text table (enabled products)."""
    rows: list[tuple[str, ...]] = [("product type", "status", "invoiced", "otherwise")]
    for product in product_types:
        other = outcome(product, _S.INITIATED, enabled=True)
        for status in TransactionStatus:
            result = outcome(product, status, enabled=True)
            if result.invoiced:
                rows.append((product.value, status.value, "yes", ""))
            elif result.reason is not other.reason:
                assert result.reason is not None
                rows.append((product.value, status.value, "no", result.reason.value))
        assert other.reason is not None
        rows.append((product.value, "(any other)", "no", other.reason.value))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    rows.insert(1, tuple("-" * w for w in widths))
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


# -- repeated transaction ids ----------------------------------------------------------

#: The problem of a later copy of a record identical to one already planned: it is
#: counted once, and the copy listed as a rejection with this wording.
IDENTICAL_REPEAT = "duplicate of an identical record; counted once"


def is_identical_repeat(problems: Iterable[FieldProblem]) -> bool:
    """Whether a rejection's problems say it is an identical repeat (on an invoice or
    skipped as its first copy is), rather than invalid input."""
    return [(p.path, p.message) for p in problems] == [("id", IDENTICAL_REPEAT)]


# -- money ---------------------------------------------------------------------------

#: An ISO 4217 currency code as the engines accept it (the source of every pattern).
CURRENCY_FORM = r"[A-Z]{3}"


def check_money(
    amount: object, vat_amount: object, *, vat_known: bool = True
) -> list[FieldProblem]:
    """The problems of a purchase's two amounts (integer minor units, never floats).

    ``vat_known=False`` allows a VAT of ``None``: unknown, as for a Dintero transaction
    whose items give none (the flat shape requires it).

    >>> check_money(10000, 2000)
    []
    >>> [p.path for p in check_money(100.0, None)]
    ['amount', 'vat_amount']
    >>> check_money(100, 200)[0].message
    '200 exceeds the amount 100 it is part of'
    """
    problems = []
    for name, value in (("amount", amount), ("vat_amount", vat_amount)):
        if value is None and name == "vat_amount" and not vat_known:
            continue
        if value is None:
            problems.append(FieldProblem(name, "is required (integer minor units)"))
        elif isinstance(value, bool) or not isinstance(value, int):
            problems.append(
                FieldProblem(
                    name,
                    f"must be an integer in minor units (øre/öre/cent), got {value!r} "
                    f"({type(value).__name__})",
                )
            )
    if problems:
        return problems
    assert isinstance(amount, int)
    if amount <= 0:
        problems.append(FieldProblem("amount", f"must be positive, got {amount}"))
    problems += check_amount_bound(amount)
    if vat_amount is None:
        return problems
    assert isinstance(vat_amount, int)
    if vat_amount < 0:
        problems.append(FieldProblem("vat_amount", f"must not be negative, got {vat_amount}"))
    elif vat_amount > amount:
        problems.append(
            FieldProblem("vat_amount", f"{vat_amount} exceeds the amount {amount} it is part of")
        )
    return problems


#: The largest amount of one purchase (and of one refund), in minor units:
#: 99 999 999 999.99 in a two-decimal currency, far above any purchase a card or an
#: invoice carries. Chosen so that sums stay exact in a signed 64-bit column
#: (``BIGINT``, 2**63 - 1 ≈ 9.2 * 10**18): an invoice of up to :data:`MAX_INVOICE_TOTAL`
#: holds at least 922 337 purchases of the largest amount.
MAX_AMOUNT = 10**13 - 1
#: The largest total of one invoice (and of one payment), in minor units: what a signed
#: 64-bit column holds. A store that sums an invoice's purchases refuses the purchase
#: that would take a total above it, so a total never overflows a column.
MAX_INVOICE_TOTAL = 2**63 - 1


def check_amount_bound(
    amount: int, path: str = "amount", maximum: int | None = None
) -> list[FieldProblem]:
    """The problem of an integer amount above ``maximum`` (:data:`MAX_AMOUNT`), if any.

    >>> check_amount_bound(MAX_AMOUNT)
    []
    >>> print(check_amount_bound(2**62)[0])
    amount: 4611686018427387904 exceeds the largest amount accepted, 9999999999999 minor units
    """
    if maximum is None:
        maximum = MAX_AMOUNT  # read when called: a tightened bound holds at once
    if amount <= maximum:
        return []
    return [
        FieldProblem(path, f"{amount} exceeds the largest amount accepted, {maximum} minor units")
    ]


# -- accepted forms ------------------------------------------------------------------
# Regular-expression sources (Python's ``re`` and Rust's ``regex``, which Polars uses,
# read them alike); each engine anchors or compiles them as it needs.

#: A billing address's ``email``.
EMAIL_FORM = r"[^@\s]+@[^@\s]+\.[^@\s.]+"
#: A billing address's ``phone_number``.
PHONE_FORM = r"\+?[0-9][0-9 ()\-]{4,19}"
#: A billing address's ``postal_code`` per country, and how to say it.
POSTAL_FORMS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "NO": (r"[0-9]{4}", "4 digits"),
        "SE": (r"[0-9]{3} ?[0-9]{2}", "5 digits (123 45)"),
        "FI": (r"[0-9]{5}", "5 digits"),
    }
)


#: What follows the seconds of a :data:`PLAIN_TIMESTAMP_FORM` (from character 19): the
#: fraction, and the UTC offset's sign, hours and minutes, as groups.
TIMESTAMP_TAIL_FORM = r"(?:\.([0-9]{1,6}))?(?:Z|([+-])([01][0-9]|2[0-3]):([0-5][0-9]))"
#: The usual spelling of ``created_at``: one that ``datetime.fromisoformat`` and Polars
#: read to the same instant (no leap second, no hour 24, an offset below 24 hours, at
#: most microseconds). Every engine accepts more (whatever ``datetime.fromisoformat`` or
#: dateutil's ``isoparse`` reads with a UTC offset); the columnar engines recognize this
#: form over columns and leave the others to the core's parser.
PLAIN_TIMESTAMP_FORM = (
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])[T ](?:[01][0-9]|2[0-3]):[0-5][0-9]"
    r":[0-5][0-9]" + TIMESTAMP_TAIL_FORM
)


# -- invoice ids ---------------------------------------------------------------------

#: Between the parts of an invoice id's digested text.
ID_SEPARATOR = "\x1f"
GROUPED_ID_PREFIX = "G-"
#: The first part of a grouped invoice id's text.
GROUPED_ID_TAG = "grouped"
STANDARD_ID_PREFIX = "S-"
#: The parts of a grouped invoice id's text after the tag ``grouped``, in order: the
#: customer key, the currency and the period (its label last, so a customer's part of
#: the digest can be computed once: :func:`grouped_id_prefix`).
GROUPED_ID_FIELDS = (
    "country",
    "organization_number",
    "business_name",
    "customer_reference",
    "currency",
    "interval",
    "period",
)

#: A fresh hasher for the ids' digests (8-byte BLAKE2b); copying an empty one is cheaper
#: than making one with a keyword, and engines that digest millions of texts use it.
new_digest = hashlib.blake2b(digest_size=8).copy


class _Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def copy(self) -> _Hasher: ...
    def hexdigest(self) -> str: ...


def grouped_id_prefix(key: CustomerKey, currency: str, interval: str) -> _Hasher:
    """A hasher fed with a grouped id's text up to the period label."""
    parts = (GROUPED_ID_TAG, key.country.value, key.organization_number, key.business_name,
             key.customer_reference, currency, interval, "")  # fmt: skip
    hasher = new_digest()
    hasher.update(ID_SEPARATOR.join(parts).encode())
    return hasher


def grouped_invoice_id_from(prefix: _Hasher, label: str) -> str:
    """The grouped invoice id from its :func:`grouped_id_prefix` and the period label."""
    hasher = prefix.copy()
    hasher.update(label.encode())
    return f"{GROUPED_ID_PREFIX}{label}-{hasher.hexdigest()}"


def grouped_invoice_id(key: CustomerKey, currency: str, period: BillingPeriod) -> str:
    """The id of a customer's grouped invoice for one currency and billing period.

    >>> from kravia_schedule.countries import Country
    >>> from kravia_schedule.customers import CustomerKey
    >>> from kravia_schedule.periods import billing_period
    >>> key = CustomerKey(Country.NO, "923609016", "nordmann as", "")
    >>> grouped_invoice_id(key, "NOK", billing_period(date(2025, 1, 5), "monthly"))
    'G-2025-01-...'
    """
    prefix = grouped_id_prefix(key, currency, period.interval.value)
    return grouped_invoice_id_from(prefix, period.label)


def standard_id_text(product_type: str, transaction_id: str) -> str:
    """The digested text of a standard invoice's id."""
    return f"{product_type}{ID_SEPARATOR}{transaction_id}"


def standard_invoice_id(product_type: ProductType, transaction_id: str) -> str:
    """The id of the standard invoice of one purchase.

    >>> standard_invoice_id(ProductType.B2C, "T1")
    'S-...'
    """
    hasher = new_digest()
    hasher.update(standard_id_text(product_type.value, transaction_id).encode())
    return f"{STANDARD_ID_PREFIX}{hasher.hexdigest()}"


# -- an invoice's state and a plan's order ---------------------------------------------


class _Dates(Protocol):
    @property
    def period(self) -> BillingPeriod | None: ...
    @property
    def issue_date(self) -> date: ...


def invoice_state(dates: _Dates, today: date | None) -> InvoiceState | None:
    """The state on the local date ``today`` of an invoice with these dates (``None``
    without ``as_of``): open while its period runs, scheduled until its issue date,
    ready from then on."""
    if today is None:
        return None
    if dates.period is not None and today <= dates.period.end:
        return InvoiceState.OPEN
    return InvoiceState.READY if today >= dates.issue_date else InvoiceState.SCHEDULED


def invoice_order(invoice: Any) -> tuple[Any, ...]:
    """The key a plan sorts its invoices by: issue date, customer key, currency, id."""
    key = invoice.customer
    return (invoice.issue_date, key.country.value, key.organization_number, key.business_name,
            key.customer_reference, invoice.currency, invoice.id)  # fmt: skip
