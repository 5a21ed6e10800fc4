"""The invoice ledger: purchases kept across a billing period, each invoice issued once.

A service records purchases as they happen, voids and refunds them, calls :meth:`Ledger.issue`
(daily, from as many replicas as it likes) and registers payments. Every operation is one
database transaction under the ledger's write lock: it happens entirely or not at all, a
crash loses nothing that was committed, and concurrent ``issue`` calls issue each invoice
exactly once. The rules come from :mod:`kravia_schedule.lifecycle` (states and money) and
the core engine (periods, calendars, invoice ids); the ledger only stores and sequences.

A purchase that arrives after its period's invoice was issued goes on the customer's next
invoice (``late``); an issued invoice never changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from kravia_schedule import rules
from kravia_schedule.address import BillingAddress, validate_billing_address
from kravia_schedule.calendar import BusinessCalendar, SkippedDay
from kravia_schedule.config import KraviaConfig, ProductType, parse_configuration
from kravia_schedule.countries import Country, parse_country
from kravia_schedule.customers import CustomerKey, customer_key
from kravia_schedule.dates import (
    InvoiceDates,
    day_invoice_dates,
    local_date,
    period_invoice_dates,
)
from kravia_schedule.errors import (
    CalendarRangeError,
    FieldProblem,
    IllegalTransition,
    InvalidIdentifier,
    InvalidPurchaseError,
    KraviaScheduleError,
    LedgerConflict,
    LedgerError,
    UnknownId,
)
from kravia_schedule.invoices import Invoice, InvoiceItem, InvoiceLine, total_vat
from kravia_schedule.ledger.backends import (
    DEFAULT_LOCK_TIMEOUT,
    Backend,
    LedgerUnavailable,
    one_line,
    open_backend,
    redacted,
)
from kravia_schedule.ledger.schema import fingerprint, instant, migrate
from kravia_schedule.ledger.sync import (
    HELD_OUTSIDE,
    Copy,
    CopyConflict,
    ImpossibleUpdate,
    Step,
    SyncReport,
    UnknownTransaction,
    WaitingStep,
    follow,
    kravia_product,
    read_copy,
    steps,
)
from kravia_schedule.lifecycle import (
    Action,
    AllocationMethod,
    ProductKind,
    TransactionBalance,
    apply,
    pay_invoice,
)
from kravia_schedule.periods import BillingPeriod, billing_period
from kravia_schedule.purchases import ForeignRow, Purchase, RecordReader, TransactionStatus
from kravia_schedule.rules import InvoiceState
from kravia_schedule.statutory import deadline_or_none

__all__ = [
    "HeldTransaction",
    "HistoryEntry",
    "Ledger",
    "LedgerInvoice",
    "Payment",
    "RecordReport",
    "TransactionView",
]

_GROUPED = ProductType.B2B_GROUPED
# record() needs a purchase's customer twice (to find its invoice, then to store it); the
# same customers recur, so their keys are remembered.
_customer_key = lru_cache(maxsize=1 << 16)(customer_key)
_BALANCE = "id, product_type, status, issued, purchased, authorized, captured, voided, refunded"


def _waiting_steps(waiting: Sequence[WaitingStep]) -> str:
    """``pay 100 [e1] waits``, ``pay 100 [e1], refund 40 [e2] wait``."""
    return f"{', '.join(map(str, waiting))} {'waits' if len(waiting) == 1 else 'wait'}"


@dataclass(frozen=True, slots=True)
class LedgerInvoice(Invoice):
    """An invoice as the ledger holds it (issued) or would issue it (``due``): a plan's
    :class:`~kravia_schedule.invoices.Invoice` (lines with their order lines, VAT per
    rate, payment reference, last on-time payment date, state, ``to_dict``), and what
    was ``paid`` on it and whether it is ``issued``."""

    paid: int = 0
    issued: bool = False

    @property
    def outstanding(self) -> int:
        return self.amount - self.paid

    def to_dict(self) -> dict[str, Any]:
        """:meth:`Invoice.to_dict`'s form, with ``paid``, ``outstanding`` and ``issued``."""
        return {
            **Invoice.to_dict(self),
            "paid": self.paid,
            "outstanding": self.outstanding,
            "issued": self.issued,
        }


def _line(transaction_id: str, record_json: str, amount: int, vat: int | None) -> InvoiceLine:
    """A purchase's invoice line, from its stored record (which keeps its order lines)."""
    record = json.loads(record_json)
    items = tuple(
        InvoiceItem(
            item.get("line_id"), item.get("description"), item["amount"],
            None if item.get("vat") is None else Decimal(str(item["vat"])),
            item.get("vat_amount"),
        )
        for item in record.get("items", ())
    )  # fmt: skip
    created = datetime.fromisoformat(record["created_at"])
    return InvoiceLine(
        created, transaction_id, amount, vat, record.get("merchant_reference"), items
    )


@dataclass(frozen=True, slots=True)
class Payment:
    """A registered payment of an invoice and how it was split over its transactions."""

    id: str
    invoice_id: str
    amount: int
    method: str
    allocation: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One state change of a transaction."""

    step: int
    action: str
    from_state: str
    to_state: str
    amount: int | None
    reference: str | None


@dataclass(frozen=True, slots=True)
class TransactionView:
    """A transaction's balance, where it is billed, its history, and why it is on no
    invoice (``None`` when it is on one, or will be).

    ``waiting``: the steps of Dintero's view that wait for the grouped invoice
    ``waits_for`` (not issued yet) and are applied, in order, when it is issued (a
    transaction Dintero shows paid first, see :meth:`Ledger.sync`); ``balance`` and
    ``history`` are the ledger's, without them."""

    balance: TransactionBalance
    period: str | None
    issue_date: date
    late: bool
    invoice_id: str | None
    history: tuple[HistoryEntry, ...]
    why_not_invoiced: str | None = None
    waiting: tuple[WaitingStep, ...] = ()
    waits_for: str | None = None


@dataclass(frozen=True, slots=True)
class HeldTransaction:
    """A transaction as Dintero last reported it to :meth:`Ledger.sync`:
    ``in_lifecycle`` when the ledger follows its balance (:meth:`Ledger.transaction`),
    ``why_not_invoiced`` when it is on no invoice."""

    id: str
    payment_product_type: str | None
    status: TransactionStatus
    settlement_status: str | None
    in_lifecycle: bool
    why_not_invoiced: str | None


@dataclass(frozen=True, slots=True)
class RecordReport:
    """What :meth:`Ledger.record_valid` did: purchases newly recorded, already there
    unchanged, and the records it skipped, each with its error (an invalid record's
    :class:`InvalidPurchaseError`, a conflicting one's :class:`LedgerConflict`)."""

    recorded: int
    unchanged: int
    skipped: tuple[InvalidPurchaseError | LedgerConflict, ...]


def _fingerprint(purchase: Purchase) -> str:
    return fingerprint(purchase.to_dict())


@lru_cache(maxsize=1 << 16)  # asked for twice per purchase recorded; customers recur
def _customer_text(key: CustomerKey) -> str:
    return json.dumps(
        [key.country.value, key.organization_number, key.business_name, key.customer_reference]
    )


def _customer(text: str) -> CustomerKey:
    country, org, name, reference = json.loads(text)
    return CustomerKey(Country(country), org, name, reference)


def _address(record_json: str) -> BillingAddress:
    """The billing address of a stored grouped purchase record (validated when recorded)."""
    return validate_billing_address(json.loads(record_json)["billing_address"], _GROUPED)


def _balance(row: Sequence[Any]) -> TransactionBalance:
    tid, product_type, status, issued, purchased, authorized, captured, voided, refunded = row
    return TransactionBalance(
        tid, product_type, status, bool(issued), purchased, authorized, captured, voided, refunded
    )


def _positive_amount(value: object, what: str, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidPurchaseError(
            None, [FieldProblem(what, f"must be a positive integer in minor units, got {value!r}")]
        )
    problems = rules.check_amount_bound(value, what, maximum)
    if problems:
        raise InvalidPurchaseError(None, problems)
    return value


def _key(value: object, what: str) -> str:
    """An idempotency key: a non-empty text (never ``None``: a missing key would make
    every retry a new payment)."""
    if not isinstance(value, str) or not value.strip():
        raise LedgerError(
            f"{what} is required: a non-empty text naming this operation, so that a retry "
            f"is recognized (got {value!r})"
        )
    return value


def _local_days(as_of: object) -> dict[str, date]:
    """The local date of ``as_of`` in each country (the same date for a plain ``date``;
    an aware datetime read in each country's zone)."""
    if isinstance(as_of, datetime):
        return {c.value: local_date(as_of, c) for c in Country}  # naive: NaiveDatetimeError
    if isinstance(as_of, date):
        return dict.fromkeys((c.value for c in Country), as_of)
    raise LedgerError(
        f"as_of must be a date or an aware datetime, got {type(as_of).__name__} {as_of!r}"
    )


def _check_same_transaction(held: TransactionBalance, copy: Copy) -> None:
    """A copy of a held transaction names its product type and amount as held, or is a
    :class:`CopyConflict` (another transaction under a known id)."""
    product = copy.payment_product_type
    amount = None if copy.record is None else copy.record.get("amount")
    if product is not None and product != held.product_type.value:
        raise CopyConflict(
            held.transaction_id,
            f"held as {held.product_type.value}, this copy says {product}",
            "payment_product_type",
        )
    if amount is not None and amount != held.purchased:
        raise CopyConflict(
            held.transaction_id,
            f"held with amount {held.purchased}, this copy says {amount}",
            "amount",
        )


def _invalid_date(purchase_id: str, error: KraviaScheduleError) -> InvalidPurchaseError:
    return InvalidPurchaseError(
        purchase_id, [FieldProblem("created_at", f"no invoice dates: {error}")]
    )


class Ledger:
    """Purchases, invoices, payments and refunds in one database (SQLite or PostgreSQL).

    ``Ledger.open("ledger.db")`` opens (or creates) a SQLite ledger;
    ``Ledger.open("postgresql://…")`` a shared PostgreSQL one. The configuration given at
    creation is stored with the ledger; opening it again with a different one is refused.
    """

    def __init__(self, backend: Backend, config: KraviaConfig) -> None:
        self.db = backend
        self.config = config
        self._calendars = {c: BusinessCalendar(c) for c in Country}
        self._read = RecordReader()

    # -- opening ---------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        target: str | Path,
        config: KraviaConfig | None = None,
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> Ledger:
        """Open the ledger at ``target`` (a SQLite path or a PostgreSQL URL), creating it.

        Every operation waits at most ``lock_timeout`` seconds for the ledger's write lock
        (then :class:`LedgerBusy`). A database that cannot be opened, is not a ledger or
        has a newer schema raises :class:`LedgerUnavailable`; ``""`` (SQLite's private
        temporary database, gone at close) is refused the same way.
        """
        backend = open_backend(target, timeout=lock_timeout)
        try:
            config = cls._prepare(backend, config)
        except backend.errors as error:
            backend.close()
            raise LedgerUnavailable(
                f"cannot open the ledger {redacted(target)}: {one_line(error)}"
            ) from None
        except BaseException:
            backend.close()
            raise
        return cls(backend, config)

    @staticmethod
    def _prepare(backend: Backend, config: KraviaConfig | None) -> KraviaConfig:
        """Migrate the schema and return the ledger's configuration (storing it if new)."""
        migrate(backend)
        with backend.write():
            rows = backend.execute("SELECT value FROM meta WHERE key = 'config'")
            if rows:
                stored = parse_configuration(json.loads(rows[0][0]))
                if config is not None and config != stored:
                    raise LedgerConflict(
                        "this ledger was created with another configuration; open it "
                        "without one to use the stored configuration"
                    )
                return stored
            config = config if config is not None else KraviaConfig.all_enabled()
            backend.execute(
                "INSERT INTO meta (key, value) VALUES ('config', ?)",
                (json.dumps(config.to_dict()),),
            )
        return config

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- recording -------------------------------------------------------------------

    def record(self, purchases: Iterable[Purchase | Mapping[str, Any]]) -> tuple[int, int]:
        """Record new purchases; returns (newly recorded, already there unchanged).

        Idempotent by transaction id: the same record again is a no-op, the same id with
        different content raises :class:`LedgerConflict`. Every record is validated first
        (:class:`InvalidPurchaseError` for the first invalid one); nothing is written
        unless all of them can be.
        """
        report = self._record(purchases, skip=False)
        return report.recorded, report.unchanged

    def record_valid(self, purchases: Iterable[Purchase | Mapping[str, Any]]) -> RecordReport:
        """Record the valid new purchases and skip every other record, each with its error.

        Skipped: invalid records, records whose id is already recorded with other
        content, and every copy of an id the batch holds in different versions (which
        one is right cannot be told). One transaction, as :meth:`record`.
        """
        return self._record(purchases, skip=True)

    def _record(
        self, purchases: Iterable[Purchase | Mapping[str, Any]], *, skip: bool
    ) -> RecordReport:
        skipped: list[InvalidPurchaseError | LedgerConflict] = []

        def refuse(error: InvalidPurchaseError | LedgerConflict) -> None:
            if not skip:
                raise error
            skipped.append(error)

        batch: dict[str, _New] = {}
        conflicting: set[str] = set()
        for record in purchases:
            try:
                purchase, day, dates = self._checked(record)
            except InvalidPurchaseError as error:
                refuse(error)
                continue
            fingerprint = _fingerprint(purchase)
            earlier = batch.get(purchase.id)
            if purchase.id in conflicting or (earlier is not None and earlier[1] != fingerprint):
                message = f"two different records in the batch share id {purchase.id!r}"
                refuse(LedgerConflict(message))
                if purchase.id not in conflicting:  # the copy kept so far goes too
                    conflicting.add(purchase.id)
                    del batch[purchase.id]
                    skipped.append(LedgerConflict(message))
                continue
            batch[purchase.id] = (purchase, fingerprint, day, dates)
        unchanged = 0
        with self.db.write():
            known = self._fingerprints(list(batch))
            new = []
            for entry in batch.values():
                purchase, fingerprint = entry[0], entry[1]
                stored = known.get(purchase.id)
                if stored is None:
                    new.append(entry)
                elif stored != fingerprint:
                    refuse(
                        LedgerConflict(
                            f"transaction {purchase.id!r} is already recorded with other content"
                        )
                    )
                else:
                    unchanged += 1
            seq = int(self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM purchases")[0][0])
            rows, history, invoices = [], [], []
            issued = self._issued_among(new)
            totals = self._pending_totals(new)
            for purchase, fingerprint, day, dates in new:
                try:
                    row, events, invoice = self._rows(
                        purchase, fingerprint, day, dates, seq + 1, issued
                    )
                    self._add_to_total(purchase, row, totals)
                except InvalidPurchaseError as error:
                    refuse(error)
                    continue
                seq += 1
                rows.append(row)
                history.extend(events)
                if invoice is not None:
                    invoices.append(invoice)
            self.db.executemany(_INSERT_PURCHASE, rows)
            self.db.executemany(_INSERT_HISTORY, history)
            self.db.executemany(_INSERT_INVOICE, invoices)
        return RecordReport(len(rows), unchanged, tuple(skipped))

    # -- following Dintero -----------------------------------------------------------

    def sync(self, transactions: Iterable[object]) -> SyncReport:
        """Bring the ledger to Dintero's view of ``transactions``: each a Dintero
        transaction at any point of its life (as ``GET /v1/transactions`` or a callback
        gives it), a checkout webhook envelope's status update of a known transaction, or
        a record in the library's flat shape.

        Idempotent, and the same in any order of arrival: an older copy (by
        ``updated_at``, then by its number of events) changes nothing, money moves come
        from the events (each applied once), and every change is an allowed lifecycle
        step (rules: :mod:`kravia_schedule.ledger.sync`). Every transaction reported is
        held, a failed, declined or card one too, with why it is on no invoice. A record
        that cannot be read or followed is refused (in the report, with its error) and
        changes nothing; the others are applied. One database transaction.
        """
        copies: list[Copy] = []
        refused: list[KraviaScheduleError] = []
        for record in transactions:
            if isinstance(record, InvalidPurchaseError):  # a line the reader could not read
                refused.append(record)
                continue
            try:
                copies.append(read_copy(record))
            except InvalidPurchaseError as error:
                refused.append(error)
        seen: dict[str, str] = {}
        why: dict[str, str] = {}
        deferred: dict[str, str] = {}
        with self.db.write():
            for copy in copies:
                self.db.execute("SAVEPOINT sync_copy")
                try:
                    result, reason, waits = self._follow(copy)
                except (LedgerError, InvalidPurchaseError) as error:
                    self.db.execute("ROLLBACK TO SAVEPOINT sync_copy")
                    refused.append(error)
                    continue
                finally:
                    self.db.execute("RELEASE SAVEPOINT sync_copy")
                tid = copy.transaction_id
                # A transaction added by this call stays "added" whatever follows it.
                prior = seen.setdefault(tid, result)
                if prior == "unchanged" and result != "unchanged":
                    seen[tid] = "changed"
                if reason is None:
                    why.pop(tid, None)
                else:
                    why[tid] = reason
                if result != "unchanged":
                    if waits is None:
                        deferred.pop(tid, None)
                    else:
                        deferred[tid] = waits

        def ids(kind: str) -> tuple[str, ...]:
            return tuple(tid for tid, result in seen.items() if result == kind)

        return SyncReport(
            ids("added"), ids("changed"), ids("unchanged"), tuple(refused),
            tuple((tid, text) for tid, text in why.items() if seen[tid] != "unchanged"),
            tuple(deferred.items()),
        )  # fmt: skip

    def _follow(self, copy: Copy) -> tuple[str, str | None, str | None]:
        """Apply one copy: ("added" | "changed" | "unchanged", why on no invoice, which
        steps wait for which invoice)."""
        tid = copy.transaction_id
        rows = self.db.execute(
            "SELECT payment_product_type, status, settlement_status, moment_us, event_count, "
            "record FROM synced WHERE id = ?",
            (tid,),
        )
        held = self.db.execute(f"SELECT {_BALANCE} FROM purchases WHERE id = ?", (tid,))
        current = _balance(held[0]) if held else None
        if copy.record is None and not rows and current is None:
            raise UnknownTransaction(tid)
        stored = rows[0] if rows else None
        if stored is not None and not self._newer(copy, stored):
            return "unchanged", None, None
        product_text = copy.payment_product_type
        record = copy.record
        if stored is not None:
            product_text = product_text or stored[0]
            if record is None and stored[5] is not None:
                record = {**json.loads(stored[5]), "status": copy.status.value}
        elif current is not None:
            product_text = product_text or current.product_type.value
        settlement = copy.settlement_status or (stored[2] if stored is not None else None)
        product_type = kravia_product(product_text)
        reason: str | None = None
        later: tuple[WaitingStep, ...] = ()
        if current is not None:
            _check_same_transaction(current, copy)
            waiting = self._waiting(current)
            path, later = follow(current, waiting, copy, current.product_type, current.purchased)
            for before, after, action, amount, ref in path:
                self._store(before, after, action, amount, ref)
            if later != waiting:
                self._defer(tid, later)
            if path:  # an invoice's paid is the money captured on it
                self.db.execute(
                    "UPDATE invoices SET paid = (SELECT COALESCE(SUM(captured), 0) FROM "
                    "purchases WHERE purchases.invoice_id = invoices.id) WHERE id = "
                    "(SELECT invoice_id FROM purchases WHERE id = ?)",
                    (tid,),
                )
            reason = self._why_off(path[-1][1] if path else current)
        else:
            reason, later = self._hold_new(copy, product_type, record)
        # A status update carries no events: the count of the last full copy stands.
        events = (
            copy.event_count
            if copy.event_count is not None
            else (stored[4] if stored is not None else None)
        )
        self._remember(copy, product_text, settlement, record, reason, events)
        result = "changed" if stored is not None or current is not None else "added"
        return result, reason, (self._waiting_text(tid, later) if later else None)

    def _waiting(self, current: TransactionBalance) -> tuple[WaitingStep, ...]:
        """The steps of ``current`` that wait for its grouped invoice (only a registered,
        unissued grouped transaction can have any)."""
        if current.kind is not ProductKind.GROUPED or current.issued:
            return ()
        rows = self.db.execute(
            "SELECT action, amount, reference FROM deferred WHERE transaction_id = ? ORDER BY step",
            (current.transaction_id,),
        )
        return tuple(WaitingStep(Action(action), amount, ref) for action, amount, ref in rows)

    def _defer(self, transaction_id: str, waiting: Sequence[WaitingStep]) -> None:
        self.db.execute("DELETE FROM deferred WHERE transaction_id = ?", (transaction_id,))
        self.db.executemany(
            "INSERT INTO deferred (transaction_id, step, action, amount, reference) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                (transaction_id, number, w.action.value, w.amount, w.reference)
                for number, w in enumerate(waiting, 1)
            ],
        )

    def _waits_for(self, transaction_id: str) -> tuple[str, date]:
        """The id and issue date of the grouped invoice a transaction waits for."""
        customer, currency, label, issue_date = self.db.execute(
            "SELECT customer, currency, period, issue_date FROM purchases WHERE id = ?",
            (transaction_id,),
        )[0]
        period = self._grouped_period(label)
        invoice_id = rules.grouped_invoice_id(_customer(customer), currency, period)
        return invoice_id, date.fromisoformat(issue_date)

    def _grouped_period(self, label: str) -> BillingPeriod:
        """A stored period label as a billing period of the ledger's grouped interval."""
        period = BillingPeriod.parse(label)
        interval = self.config.product(_GROUPED).interval
        if period.interval is not interval:
            period = BillingPeriod(period.start, period.end, interval)
        return period

    def _waiting_text(self, transaction_id: str, waiting: Sequence[WaitingStep]) -> str:
        invoice_id, issue_date = self._waits_for(transaction_id)
        return f"{_waiting_steps(waiting)} for invoice {invoice_id} to be issued (issue date {issue_date})"

    @staticmethod
    def _newer(copy: Copy, stored: Sequence[Any]) -> bool:
        """Whether ``copy`` is newer than the stored one; a copy of the same moment that
        disagrees with it is a :class:`LedgerConflict`."""
        status, settlement, moment_us, event_count = stored[1], stored[2], stored[3], stored[4]
        fresh = copy.freshness
        if fresh is None or moment_us is None:  # a flat copy: no moment to compare
            return fresh is not None or copy.status.value != status
        if copy.event_count is None:  # a webhook: it says nothing of the events
            fresh, known = (fresh[0], 0), (moment_us, 0)
        else:
            known = (moment_us, event_count or 0)
        if fresh != known:
            return fresh > known
        same = copy.status.value == status and copy.settlement_status in (None, settlement)
        if not same:
            raise CopyConflict(
                copy.transaction_id,
                f"two copies of the same moment disagree: {status} and {copy.status.value}",
            )
        return False

    def _why_off(self, balance: TransactionBalance) -> str | None:
        """Why a held transaction is on no invoice; ``None`` for one on an issued grouped
        invoice, whatever was paid or refunded on it since."""
        if balance.kind is ProductKind.GROUPED and balance.issued:
            return None
        return self._why_not_invoiced(balance.product_type, balance.status)

    def _why_not_invoiced(
        self, product_type: ProductType | None, status: TransactionStatus
    ) -> str | None:
        enabled = product_type is not None and self.config.product(product_type).enabled
        result = rules.outcome(product_type, status, enabled=enabled)
        return None if result.invoiced else result.detail

    def _hold_new(
        self, copy: Copy, product_type: ProductType | None, record: Mapping[str, Any] | None
    ) -> tuple[str | None, tuple[WaitingStep, ...]]:
        """Enter a transaction the lifecycle does not hold yet, when Kravia registered it
        and it can be invoiced (with the steps that wait for its invoice); otherwise say
        why it stays outside."""
        why = self._why_not_invoiced(product_type, copy.status)
        if product_type is None or copy.status in HELD_OUTSIDE or record is None:
            return why, ()
        if not self.config.product(product_type).enabled:
            return why, ()
        try:
            purchase = self._purchase({**record, "status": copy.status.value})
            day, dates = self._own_dates(purchase)
            too_large = rules.check_amount_bound(purchase.amount, "amount", rules.MAX_AMOUNT)
            if too_large:
                raise InvalidPurchaseError(purchase.id, too_large)
        except InvalidPurchaseError as error:
            return f"cannot be invoiced: {error}", ()
        path, later = follow(None, (), copy, product_type, purchase.amount)
        # Kept as it entered the lifecycle, whichever copy brought it: the same ledger
        # whatever order the copies came in.
        purchase = replace(purchase, status=path[0][1].status)
        seq = int(self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM purchases")[0][0]) + 1
        row, history, invoice = self._rows(
            purchase, _fingerprint(purchase), day, dates, seq, {}, path
        )
        totals = self._pending_totals([(purchase, row[2], day, dates)])
        self._add_to_total(purchase, row, totals)
        self.db.execute(_INSERT_PURCHASE, row)
        self.db.executemany(_INSERT_HISTORY, history)
        if invoice is not None:
            self.db.execute(_INSERT_INVOICE, invoice)
        if later:
            self._defer(purchase.id, later)
        return self._why_not_invoiced(product_type, path[-1][1].status), later

    def _remember(
        self,
        copy: Copy,
        product_text: str | None,
        settlement: str | None,
        record: Mapping[str, Any] | None,
        reason: str | None,
        event_count: int | None,
    ) -> None:
        fresh = copy.freshness
        moment = None if fresh is None else fresh[0]
        self.db.execute("DELETE FROM synced WHERE id = ?", (copy.transaction_id,))
        self.db.execute(
            "INSERT INTO synced (id, payment_product_type, status, settlement_status, "
            "moment_us, event_count, record, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                copy.transaction_id, product_text, copy.status.value, settlement, moment,
                event_count, None if record is None else json.dumps(record), reason,
            ),
        )  # fmt: skip

    def _pending_totals(self, new: Sequence[_New]) -> dict[tuple[str, str, str], int]:
        """What the not yet issued invoices of these grouped purchases' customers hold,
        by (customer, currency, period): one query per chunk of customers."""
        customers = sorted(
            {
                _customer_text(_customer_key(p.billing_address))
                for p, *_ in new
                if p.product_type is _GROUPED
            }
        )
        sql = (
            "SELECT customer, currency, period, SUM(authorized) FROM purchases WHERE issued = 0 "
            "AND period IS NOT NULL AND customer IN ({}) GROUP BY customer, currency, period"
        )
        return {
            (c, cur, label): int(total) for c, cur, label, total in self._in_chunks(sql, customers)
        }

    @staticmethod
    def _add_to_total(
        purchase: Purchase, row: tuple[Any, ...], totals: dict[tuple[str, str, str], int]
    ) -> None:
        """Count a grouped purchase into its invoice's total, or refuse it when the total
        would pass :data:`~kravia_schedule.rules.MAX_INVOICE_TOTAL` (no store could hold
        that invoice, and issuing it would fail for ever)."""
        if row[_PERIOD] is None or row[_STATUS] != TransactionStatus.AUTHORIZED.value:
            return  # on no pending invoice
        group = (row[_CUSTOMER], purchase.currency, row[_PERIOD])
        total = totals.get(group, 0) + purchase.amount
        if total > rules.MAX_INVOICE_TOTAL:
            problem = FieldProblem(
                "amount",
                f"would take the total of invoice period {row[_PERIOD]} to {total}, above "
                f"the largest invoice total, {rules.MAX_INVOICE_TOTAL} minor units",
            )
            raise InvalidPurchaseError(purchase.id, [problem])
        totals[group] = total

    def _fingerprints(self, ids: Sequence[str]) -> dict[str, str]:
        """The stored fingerprints of those of ``ids`` already recorded."""
        rows = self._in_chunks("SELECT id, fingerprint FROM purchases WHERE id IN ({})", ids)
        return dict(rows)

    def _issued_among(self, new: Sequence[_New]) -> dict[str, bool]:
        """Which of the invoices these grouped purchases' own periods map to are issued.

        One query per chunk instead of one per purchase; later periods (for late
        purchases) are looked up one by one in :meth:`_is_issued`.
        """
        candidates = {
            rules.grouped_invoice_id(
                _customer_key(p.billing_address),
                p.currency,
                billing_period(day, self.config.product(_GROUPED).interval),
            )
            for p, _, day, _ in new
            if p.product_type is _GROUPED
        }
        ids = sorted(candidates)
        found = {row[0] for row in self._in_chunks("SELECT id FROM invoices WHERE id IN ({})", ids)}
        return {invoice_id: invoice_id in found for invoice_id in ids}

    def _is_issued(self, invoice_id: str, cache: dict[str, bool]) -> bool:
        if invoice_id not in cache:
            cache[invoice_id] = bool(
                self.db.execute("SELECT 1 FROM invoices WHERE id = ?", (invoice_id,))
            )
        return cache[invoice_id]

    def check(self, record: Purchase | Mapping[str, Any]) -> Purchase:
        """``record`` validated as a new purchase for this ledger, or InvalidPurchaseError.

        Beyond :func:`parse_purchase`: its product type is enabled, it is in its
        initial state (grouped ``AUTHORIZED``, standard ``CAPTURED``), its amount is at
        most :data:`~kravia_schedule.rules.MAX_AMOUNT`, and its invoice has dates (not
        past the holiday data or the calendar's last day: ``created_at`` is named).
        """
        return self._checked(record)[0]

    def _checked(self, record: Purchase | Mapping[str, Any]) -> tuple[Purchase, date, InvoiceDates]:
        """:meth:`check`, with the purchase's local date and its own invoice's dates."""
        if isinstance(record, InvalidPurchaseError):
            raise record
        purchase = record if isinstance(record, Purchase) else self._purchase(record)
        return (purchase, *self._check_new(purchase))

    def _purchase(self, record: Mapping[str, Any]) -> Purchase:
        """A record read as a Kravia purchase; another payment product's transaction is
        refused naming ``payment_product_type`` (:meth:`sync` holds it instead)."""
        row = self._read(record)
        if isinstance(row, ForeignRow):
            problem = FieldProblem(
                "payment_product_type",
                f"{row.payment_product_type!r} is not a Kravia payment: it goes on no "
                "invoice (sync holds such transactions, with that reason)",
            )
            raise InvalidPurchaseError(row.id, [problem])
        return Purchase(*row)

    def _check_new(self, purchase: Purchase) -> tuple[date, InvoiceDates]:
        product = self.config.product(purchase.product_type)
        problems = []
        if not product.enabled:
            problems.append(
                FieldProblem("payment_product_type", "is not enabled in the ledger's configuration")
            )
        else:
            try:
                self._entry_path(purchase)
            except InvalidPurchaseError as error:
                problems += error.problems
        problems += rules.check_amount_bound(purchase.amount, "amount", rules.MAX_AMOUNT)
        if problems:
            raise InvalidPurchaseError(purchase.id, problems)
        return self._own_dates(purchase)

    @staticmethod
    def _entry_path(purchase: Purchase, copy: Copy | None = None) -> tuple[Step, ...]:
        """The lifecycle steps by which a new purchase reached its status (``copy``:
        Dintero's view of it, with its events), or InvalidPurchaseError naming ``status``
        (a state no allowed steps reach without the events that say how much)."""
        status = purchase.status
        if copy is None:
            copy = Copy(purchase.id, purchase.product_type.value, status, None, None, 0, (), None)
        why = None
        if status in HELD_OUTSIDE:
            why = "Kravia has not registered it (sync holds it until a copy says so)"
        else:
            try:
                return steps(None, copy, purchase.product_type, purchase.amount)
            except ImpossibleUpdate as error:
                why = error.reason
        problem = FieldProblem(
            "status",
            f"a new {purchase.product_type.value} purchase cannot be {status.value}: {why}",
        )
        raise InvalidPurchaseError(purchase.id, [problem])

    def _own_dates(self, purchase: Purchase) -> tuple[date, InvoiceDates]:
        """The dates of the invoice a new purchase lands on (before any late move), or
        InvalidPurchaseError naming ``created_at`` when no calendar can give them."""
        country = purchase.billing_address.country
        product = self.config.product(purchase.product_type)
        try:
            day = local_date(purchase.created_at, country)
            if purchase.product_type is _GROUPED:
                period = billing_period(day, product.interval)
                return day, period_invoice_dates(
                    period, self._calendars[country], product.days_until_due
                )
            return day, day_invoice_dates(day, self._calendars[country], product.days_until_due)
        except (CalendarRangeError, OverflowError) as error:
            raise _invalid_date(purchase.id, CalendarRangeError(str(error))) from None

    def _rows(
        self,
        purchase: Purchase,
        fingerprint: str,
        day: date,
        dates: InvoiceDates,
        seq: int,
        issued: dict[str, bool],
        path: Sequence[Step] | None = None,
    ) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], tuple[Any, ...] | None]:
        """The purchase row, its history rows and (standard, registered) its invoice row,
        from the purchase's local ``day``, the ``dates`` of its own invoice and the
        lifecycle ``path`` it came by (default: :meth:`_entry_path`)."""
        address = purchase.billing_address
        country = address.country
        calendar = self._calendars[country]
        product = self.config.product(purchase.product_type)
        key = _customer_key(address)
        path = self._entry_path(purchase) if path is None else path
        balance = path[-1][1]
        period_label: str | None = None
        late = False
        invoice: tuple[Any, ...] | None = None
        if purchase.product_type is _GROUPED:
            period = billing_period(day, product.interval)
            # A purchase whose period's invoice is already issued goes on the next one.
            try:
                while self._is_issued(
                    rules.grouped_invoice_id(key, purchase.currency, period), issued
                ):
                    period = period.next()
                    late = True
                if late:
                    dates = period_invoice_dates(period, calendar, product.days_until_due)
            except (CalendarRangeError, OverflowError) as error:  # the next period: year 10000
                raise _invalid_date(purchase.id, CalendarRangeError(str(error))) from None
            period_label = period.label
            invoice_id = None
        elif path[0][2] is Action.FAIL:  # never registered: no invoice
            invoice_id = None
        else:
            invoice_id = rules.standard_invoice_id(purchase.product_type, purchase.id)
            # A standard invoice is registered, and captured, together with its purchase.
            invoice = (
                invoice_id,
                purchase.product_type.value,
                _customer_text(key),
                json.dumps(address.to_dict()),
                purchase.currency,
                country.value,
                None,
                dates.issue_date.isoformat(),
                dates.due_date.isoformat(),
                purchase.amount,
                purchase.vat_amount,
                balance.captured,
                dates.issue_date.isoformat(),
            )  # fmt: skip
        row = (
            purchase.id, seq, fingerprint, json.dumps(purchase.to_dict()),
            purchase.product_type.value, balance.status.value, int(balance.issued),
            balance.purchased, balance.authorized, balance.captured, balance.voided,
            balance.refunded, purchase.vat_amount, purchase.currency, country.value,
            _customer_text(key), purchase.created_at.isoformat(), period_label,
            dates.issue_date.isoformat(), int(late), invoice_id, instant(purchase.created_at),
        )  # fmt: skip
        events = [
            (
                purchase.id,
                number,
                action.value,
                before.status.value,
                after.status.value,
                amount,
                ref,
            )
            for number, (before, after, action, amount, ref) in enumerate(path, 1)
        ]
        return row, events, invoice

    def _history(
        self,
        transaction_id: str,
        action: Action,
        from_state: str,
        to_state: str,
        amount: int | None = None,
        reference: str | None = None,
    ) -> None:
        step = self.db.execute(
            "SELECT COALESCE(MAX(step), 0) + 1 FROM history WHERE transaction_id = ?",
            (transaction_id,),
        )[0][0]
        self.db.execute(
            _INSERT_HISTORY,
            (transaction_id, step, action.value, from_state, to_state, amount, reference),
        )

    def _load(self, transaction_id: str) -> TransactionBalance:
        rows = self.db.execute(f"SELECT {_BALANCE} FROM purchases WHERE id = ?", (transaction_id,))
        if not rows:
            raise UnknownId(f"no transaction {transaction_id!r} in the ledger")
        return _balance(rows[0])

    def _store(
        self, before: TransactionBalance, after: TransactionBalance, action: Action,
        amount: int | None = None, reference: str | None = None,
    ) -> None:  # fmt: skip
        self.db.execute(
            "UPDATE purchases SET status = ?, issued = ?, authorized = ?, captured = ?, "
            "voided = ?, refunded = ? WHERE id = ?",
            (
                after.status.value, int(after.issued), after.authorized, after.captured,
                after.voided, after.refunded, after.transaction_id,
            ),
        )  # fmt: skip
        self._history(
            after.transaction_id, action, before.status.value, after.status.value, amount, reference
        )

    # -- changing transactions -------------------------------------------------------

    def void(self, transaction_id: str) -> TransactionBalance:
        """Void an unpaid grouped purchase before its invoice is issued (refused after, and
        refused for one Dintero reported paid, whose payment waits for the invoice)."""
        with self.db.write():
            before = self._load(transaction_id)
            waiting = self._waiting(before)
            if waiting:
                raise IllegalTransition(
                    transaction_id, before.status.value, Action.VOID.value,
                    f"Dintero reported it paid: {_waiting_steps(waiting)} for its invoice to be "
                    "issued",
                )  # fmt: skip
            after = apply(before, Action.VOID)
            self._store(before, after, Action.VOID)
        return after

    def refund(self, transaction_id: str, amount: int, *, refund_id: str) -> TransactionBalance:
        """Refund captured money; idempotent by ``refund_id`` (required: a retry with the
        same id and the same refund changes nothing; another refund under it is refused)."""
        _key(refund_id, "refund_id")
        _positive_amount(amount, "amount", rules.MAX_AMOUNT)
        with self.db.write():
            rows = self.db.execute(
                "SELECT transaction_id, amount FROM refunds WHERE id = ?", (refund_id,)
            )
            if rows:
                if tuple(rows[0]) != (transaction_id, amount):
                    raise LedgerConflict(
                        f"refund id {refund_id!r} was used for {rows[0][1]} on transaction "
                        f"{rows[0][0]!r}; this refund is {amount} on {transaction_id!r}"
                    )
                return self._load(transaction_id)
            before = self._load(transaction_id)
            after = apply(before, Action.REFUND, amount)
            self._store(before, after, Action.REFUND, amount, refund_id)
            self.db.execute(
                "INSERT INTO refunds (id, transaction_id, amount) VALUES (?, ?, ?)",
                (refund_id, transaction_id, amount),
            )
        return after

    # -- issuing ---------------------------------------------------------------------

    def _pending(self, days: Mapping[str, date], *, dated: bool = True) -> list[LedgerInvoice]:
        """The invoices due on ``days`` (the local date of as_of per country code), in
        their state on those days (``dated``; else without a state, as a plan without
        ``as_of``)."""
        statuses = sorted(s.value for s in rules.GROUPED_INVOICED)
        rows = self.db.execute(
            "SELECT id, customer, currency, country, period, issue_date, record, authorized, "
            "vat_amount, created_us FROM purchases WHERE issued = 0 AND status IN "
            f"({', '.join('?' * len(statuses))}) "
            "AND product_type = ? AND issue_date <= ? ORDER BY created_us, id",
            (*statuses, _GROUPED.value, max(days.values()).isoformat()),
        )
        groups: dict[tuple[str, str, str], list[Sequence[Any]]] = {}
        for row in rows:
            if row[5] <= days[row[3]].isoformat():  # on or before as_of in its country
                groups.setdefault((row[1], row[2], row[4]), []).append(row)
        # What Dintero reported paid while the invoice was not issued: paid once issued.
        waiting_paid = {
            tid: int(total)
            for tid, total in self.db.execute(
                "SELECT transaction_id, SUM(amount) FROM deferred WHERE action = ? "
                "GROUP BY transaction_id",
                (Action.PAY.value,),
            )
        }
        product = self.config.product(_GROUPED)
        invoices = []
        for (customer_text, currency, label), members in groups.items():
            key = _customer(customer_text)
            period = self._grouped_period(label)
            dates = period_invoice_dates(
                period, self._calendars[key.country], product.days_until_due
            )
            members.sort(key=lambda r: (r[9], r[0]))  # instant, then id
            invoices.append(
                LedgerInvoice(
                    rules.grouped_invoice_id(key, currency, period), _GROUPED, key, _address(members[0][6]),
                    currency, period, dates.issue_date, dates.due_date,
                    tuple(_line(r[0], r[6], r[7], r[8]) for r in members),
                    sum(r[7] for r in members), total_vat(r[8] for r in members),
                    rules.invoice_state(dates, days[key.country.value]) if dated else None,
                    dates.issue_skipped, deadline_or_none(dates.due_date, key.country),
                    sum(waiting_paid.get(r[0], 0) for r in members),
                )
            )  # fmt: skip
        invoices.sort(key=lambda i: (i.issue_date, i.id))
        return invoices

    def due(self, as_of: date | datetime) -> tuple[LedgerInvoice, ...]:
        """The invoices :meth:`issue` would issue on ``as_of`` (nothing is written); an
        invoice's ``paid`` is what Dintero reported paid on it while it waited (paid
        the moment it is issued)."""
        days = _local_days(as_of)
        with self.db.read():
            return tuple(self._pending(days))

    def issue(self, as_of: date | datetime) -> tuple[LedgerInvoice, ...]:
        """Issue every grouped invoice whose issue date is on or before ``as_of``, once.

        ``as_of`` is a local date, or an aware datetime read in each customer's time
        zone. Safe to call from several threads, processes and replicas at the same
        moment: each invoice is issued by exactly one of them, and the others get only
        what was left. A transaction's steps that waited for its invoice (Dintero showed
        it paid first, see :meth:`sync`) are applied right after its ``issue`` step, in
        order, each an allowed lifecycle step; the invoice's ``paid`` counts them.
        """
        days = _local_days(as_of)
        with self.db.write():
            pending = self._pending(days)
            too_large = [i.id for i in pending if i.amount > rules.MAX_INVOICE_TOTAL]
            if too_large:  # recorded before amounts were bounded; void to fix
                raise LedgerError(
                    f"invoice(s) {', '.join(too_large)} would total above "
                    f"{rules.MAX_INVOICE_TOTAL} minor units; void purchases on them first"
                )
            ids = [tid for invoice in pending for tid in invoice.transaction_ids]
            steps = self._last_steps(ids)
            balances = self._balances(ids)
            waiting = self._all_waiting(ids)
            self.db.executemany(
                _INSERT_INVOICE,
                [
                    (
                        invoice.id,
                        invoice.product_type.value,
                        _customer_text(invoice.customer),
                        json.dumps(invoice.billing_address.to_dict()),
                        invoice.currency,
                        invoice.customer.country.value,
                        None if invoice.period is None else invoice.period.label,
                        invoice.issue_date.isoformat(),
                        invoice.due_date.isoformat(),
                        invoice.amount,
                        invoice.vat_amount,
                        invoice.paid,  # what waited for it (below)
                        as_of.isoformat(),
                    )
                    for invoice in pending
                ],
            )
            updates: list[tuple[Any, ...]] = []
            history: list[tuple[Any, ...]] = []
            for invoice in pending:
                for tid in invoice.transaction_ids:
                    before = balances[tid]
                    after = apply(before, Action.ISSUE)  # the rule book decides, as always
                    step = steps[tid] + 1
                    history.append(
                        (tid, step, Action.ISSUE.value, before.status.value,
                         after.status.value, None, invoice.id)
                    )  # fmt: skip
                    # Then what Dintero reported while the invoice was not issued, in order.
                    for wait in waiting.get(tid, ()):
                        before, step = after, step + 1
                        after = apply(before, wait.action, wait.amount)
                        history.append(
                            (tid, step, wait.action.value, before.status.value,
                             after.status.value, wait.amount, wait.reference)
                        )  # fmt: skip
                    updates.append(
                        (after.status.value, int(after.issued), after.authorized, after.captured,
                         after.voided, after.refunded, invoice.id, tid)
                    )  # fmt: skip
            self.db.executemany(
                "UPDATE purchases SET status = ?, issued = ?, authorized = ?, captured = ?, "
                "voided = ?, refunded = ?, invoice_id = ? WHERE id = ?",
                updates,
            )
            self.db.executemany(_INSERT_HISTORY, history)
            self.db.executemany(
                "DELETE FROM deferred WHERE transaction_id = ?", [(tid,) for tid in waiting]
            )
        return tuple(replace(invoice, issued=True) for invoice in pending)

    def _in_chunks(self, sql: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
        """``sql`` (with one ``IN ({})``) run over ``ids`` a chunk at a time."""
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            rows += self.db.execute(sql.format(", ".join("?" * len(chunk))), chunk)
        return rows

    def _all_waiting(self, ids: Sequence[str]) -> dict[str, tuple[WaitingStep, ...]]:
        """The waiting steps of those of ``ids`` that have any, in order."""
        sql = (
            "SELECT transaction_id, action, amount, reference FROM deferred "
            "WHERE transaction_id IN ({}) ORDER BY transaction_id, step"
        )
        waiting: dict[str, list[WaitingStep]] = {}
        for tid, action, amount, ref in self._in_chunks(sql, ids):
            waiting.setdefault(tid, []).append(WaitingStep(Action(action), amount, ref))
        return {tid: tuple(listed) for tid, listed in waiting.items()}

    def _last_steps(self, ids: Sequence[str]) -> dict[str, int]:
        sql = "SELECT transaction_id, MAX(step) FROM history WHERE transaction_id IN ({}) GROUP BY transaction_id"
        return {tid: int(step) for tid, step in self._in_chunks(sql, ids)}

    def _balances(self, ids: Sequence[str]) -> dict[str, TransactionBalance]:
        rows = self._in_chunks(f"SELECT {_BALANCE} FROM purchases WHERE id IN ({{}})", ids)
        return {row[0]: _balance(row) for row in rows}

    # -- paying ----------------------------------------------------------------------

    def pay(
        self,
        invoice_id: str,
        amount: int,
        *,
        payment_id: str,
        method: AllocationMethod = "pro_rata",
        currency: str | None = None,
    ) -> Payment:
        """Register a payment of an issued grouped invoice; idempotent by ``payment_id``.

        The amount is split over the invoice's transactions (pro rata with
        largest-remainder rounding, or ``method="oldest_first"``), which become
        ``PARTIALLY_CAPTURED`` or ``CAPTURED``. A payment above what is outstanding, in
        another currency, or of a standard invoice is refused. ``payment_id`` is
        required; the same payment again (same invoice, amount, method and currency)
        returns the stored one, anything else under a known id is a
        :class:`LedgerConflict`.
        """
        _key(payment_id, "payment_id")
        _positive_amount(amount, "amount", rules.MAX_INVOICE_TOTAL)
        with self.db.write():
            rows = self.db.execute(
                "SELECT p.invoice_id, p.amount, p.method, p.allocation, i.currency "
                "FROM payments p JOIN invoices i ON i.id = p.invoice_id WHERE p.id = ?",
                (payment_id,),
            )
            if rows:
                stored_invoice, stored_amount, stored_method, allocation, stored_currency = rows[0]
                given = (invoice_id, amount, method, currency or stored_currency)
                known = (stored_invoice, stored_amount, stored_method, stored_currency)
                if given != known:
                    raise LedgerConflict(
                        f"payment id {payment_id!r} was used for {stored_amount} "
                        f"{stored_currency} on {stored_invoice} ({stored_method}); this "
                        f"payment is {amount} {currency or '(currency not given)'} on "
                        f"{invoice_id} ({method})"
                    )
                stored = tuple((tid, part) for tid, part in json.loads(allocation))
                return Payment(payment_id, invoice_id, amount, stored_method, stored)
            invoice = self.db.execute(
                "SELECT product_type, currency FROM invoices WHERE id = ?", (invoice_id,)
            )
            if not invoice:
                raise UnknownId(f"no invoice {invoice_id!r} in the ledger")
            product_type, invoice_currency = invoice[0]
            if product_type != _GROUPED.value:
                raise LedgerError(
                    f"invoice {invoice_id} is a standard invoice, captured on registration; "
                    "it takes refunds, not payments"
                )
            if currency is not None and currency != invoice_currency:
                raise LedgerError(
                    f"invoice {invoice_id} is in {invoice_currency}, the payment in {currency}"
                )
            rows = self.db.execute(
                f"SELECT {_BALANCE} FROM purchases WHERE invoice_id = ? ORDER BY created_us, id",
                (invoice_id,),
            )
            before = [_balance(row) for row in rows]
            after = pay_invoice(before, amount, method)
            parts = []
            for old, new in zip(before, after, strict=True):
                part = new.captured - old.captured
                parts.append((new.transaction_id, part))
                if part:
                    self._store(old, new, Action.PAY, part, payment_id)
            self.db.execute(
                "INSERT INTO payments (id, invoice_id, amount, method, allocation) "
                "VALUES (?, ?, ?, ?, ?)",
                (payment_id, invoice_id, amount, method, json.dumps(parts)),
            )
            self.db.execute(
                "UPDATE invoices SET paid = paid + ? WHERE id = ?", (amount, invoice_id)
            )
        return Payment(payment_id, invoice_id, amount, method, tuple(parts))

    # -- queries ---------------------------------------------------------------------

    def invoice(self, invoice_id: str) -> LedgerInvoice:
        """An issued invoice by id."""
        with self.db.read():
            rows = self.db.execute(
                f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE id = ?", (invoice_id,)
            )
            if not rows:
                raise UnknownId(f"no invoice {invoice_id!r} in the ledger")
            return self._invoice(rows[0])

    def _invoice(self, row: Sequence[Any]) -> LedgerInvoice:
        (invoice_id, product_type, customer, address, currency, label, issue_date, due_date,
         amount, vat_amount, paid) = row  # fmt: skip
        members = self.db.execute(
            "SELECT id, record, purchased, vat_amount FROM purchases WHERE invoice_id = ? "
            "ORDER BY created_us, id",
            (invoice_id,),
        )
        billing = validate_billing_address(json.loads(address), product_type)
        key = _customer(customer)
        due = date.fromisoformat(due_date)
        period = None if label is None else BillingPeriod.parse(label)
        issue = date.fromisoformat(issue_date)
        skipped: tuple[SkippedDay, ...] = ()
        if period is not None:  # the non-business days its issue date was moved past
            product = self.config.product(_GROUPED)
            if period.interval is not product.interval:
                period = BillingPeriod(period.start, period.end, product.interval)
            dates = period_invoice_dates(
                period, self._calendars[key.country], product.days_until_due
            )
            skipped = dates.issue_skipped if dates.issue_date == issue else ()
        return LedgerInvoice(
            invoice_id, ProductType(product_type), key, billing, currency, period, issue, due,
            tuple(_line(*member) for member in members), amount, vat_amount,
            InvoiceState.READY, skipped, deadline_or_none(due, key.country), paid, True,
        )  # fmt: skip

    def customer_invoices(
        self,
        country: Country | str,
        organization_number: str,
        *,
        as_of: date | datetime | None = None,
    ) -> tuple[tuple[LedgerInvoice, ...], tuple[LedgerInvoice, ...]]:
        """A customer's open (issued, not fully paid) and upcoming (not yet issued) invoices.

        ``organization_number`` in any written form; ``as_of`` bounds the upcoming ones by
        issue date (default: all recorded so far).
        """
        from kravia_schedule.identifiers import validate_org_number

        try:
            country = parse_country(country)
        except ValueError as error:
            raise LedgerError(f"country {country!r}: {error}") from None
        # An invalid number would match no customer: a silent empty answer.
        try:
            org = validate_org_number(country.value, organization_number)
        except InvalidIdentifier as error:
            raise InvalidIdentifier(
                f"organization number {organization_number!r}: {error}"
            ) from None
        horizon = _local_days(as_of if as_of is not None else date.max - timedelta(days=1))
        with self.db.read():
            rows = self.db.execute(
                f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE country = ? AND paid < amount "
                "ORDER BY issue_date, id",
                (country.value,),
            )
            open_ = tuple(
                invoice
                for invoice in (self._invoice(row) for row in rows)
                if invoice.customer.organization_number == org
            )
            upcoming = tuple(
                invoice
                for invoice in self._pending(horizon, dated=as_of is not None)
                if invoice.customer.country is country
                and invoice.customer.organization_number == org
            )
        return open_, upcoming

    def transaction(self, transaction_id: str) -> TransactionView:
        """A transaction's balance, billing period, invoice and full history."""
        with self.db.read():
            balance = self._load(transaction_id)
            period, issue_date, late, invoice_id = self.db.execute(
                "SELECT period, issue_date, late, invoice_id FROM purchases WHERE id = ?",
                (transaction_id,),
            )[0]
            history = self.db.execute(
                "SELECT step, action, from_state, to_state, amount, reference FROM history "
                "WHERE transaction_id = ? ORDER BY step",
                (transaction_id,),
            )
            waiting = self._waiting(balance)
            waits_for = self._waits_for(transaction_id)[0] if waiting else None
        return TransactionView(
            balance, period, date.fromisoformat(issue_date), bool(late), invoice_id,
            tuple(HistoryEntry(*row) for row in history),
            self._why_off(balance), waiting, waits_for,
        )  # fmt: skip

    def held(self, transaction_id: str) -> HeldTransaction:
        """Dintero's latest view of a transaction :meth:`sync` was given (a card, failed
        or declined one too), and why it is on no invoice."""
        with self.db.read():
            rows = self.db.execute(
                "SELECT payment_product_type, status, settlement_status, reason, "
                "(SELECT COUNT(*) FROM purchases WHERE purchases.id = synced.id) "
                "FROM synced WHERE id = ?",
                (transaction_id,),
            )
        if not rows:
            raise UnknownId(f"no transaction {transaction_id!r} synced from Dintero")
        product, status, settlement, reason, in_lifecycle = rows[0]
        return HeldTransaction(
            transaction_id, product, TransactionStatus(status), settlement,
            bool(in_lifecycle), reason,
        )  # fmt: skip


_INVOICE_COLUMNS = (
    "id, product_type, customer, billing_address, currency, period, issue_date, due_date, "
    "amount, vat_amount, paid"
)

#: Ids per ``IN (...)`` query: well under SQLite's and PostgreSQL's parameter limits.
_CHUNK = 500
_INSERT_PURCHASE = (
    "INSERT INTO purchases (id, seq, fingerprint, record, product_type, status, issued, "
    "purchased, authorized, captured, voided, refunded, vat_amount, currency, country, "
    "customer, created_at, period, issue_date, late, invoice_id, created_us) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
#: Where a purchase row (``_INSERT_PURCHASE``) holds its status, customer and period.
_STATUS, _CUSTOMER, _PERIOD = 5, 15, 17
#: A new purchase being recorded: with its fingerprint, local date and own invoice dates.
_New = tuple[Purchase, str, date, InvoiceDates]
_INSERT_HISTORY = (
    "INSERT INTO history (transaction_id, step, action, from_state, to_state, amount, "
    "reference) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_INVOICE = (
    "INSERT INTO invoices (id, product_type, customer, billing_address, currency, country, "
    "period, issue_date, due_date, amount, vat_amount, paid, issued_as_of) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
