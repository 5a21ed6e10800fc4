"""The columnar result: :class:`FramePlan`, and skipped purchases and rejections kept as
frames until they are read (:class:`StoredResidue`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property
from itertools import repeat
from operator import attrgetter
from typing import Any

import polars as pl

from kravia_schedule._gc import cyclic_gc_paused
from kravia_schedule.address import BillingAddress, validate_billing_address
from kravia_schedule.columnar.addresses import (
    ADDRESS_FIELDS,
)
from kravia_schedule.config import ProductType
from kravia_schedule.customers import customer_key
from kravia_schedule.dates import InvoiceDates
from kravia_schedule.errors import FieldProblem
from kravia_schedule.invoices import (
    InvoicePlan,
    InvoiceState,
    PlanProvenance,
    Rejection,
    SkippedPurchase,
    SkipReason,
)
from kravia_schedule.planner import make_invoice
from kravia_schedule.purchases import TransactionStatus

#: The enums of the values frames keep (1 byte a row, not a string each).
PRODUCT_ENUM = pl.Enum([p.value for p in ProductType])
_SKIP_REASON = pl.Enum([r.value for r in SkipReason])
_STATUS = pl.Enum([s.value for s in TransactionStatus])


@dataclass(frozen=True, eq=False)
class FramePlan:
    """A plan whose invoices stay columnar: what :func:`plan_frames` returns.

    ``invoices`` has one row per invoice of the whole plan (those of the plainly valid
    rows and those the core planned from the residue, merged where they share an id),
    in the plan's invoice order: ``id, product_type, country, organization_number,
    business_name, customer_reference`` (the normalized customer key), ``currency,
    period`` (label), ``period_start, period_end`` (null for standard invoices),
    ``issue_date, due_date, last_on_time_payment_date, amount, vat_amount, purchases,
    state`` (null without ``as_of``), ``transaction_ids`` (in line order: by instant,
    then id), and two indices: ``address`` (the billing address shown on the invoice,
    its earliest purchase's; see :meth:`billing_address`) and ``dates`` (into
    ``dates``/``states``), numbered in a fixed order: :func:`plan_frames` gives the same
    frame for the same rows in any order.

    ``residue`` is the core's plan of the rows that were not plainly valid: its invoices
    are included in ``invoices``. The skipped purchases and rejections of the columnar
    path, and with :func:`plan_parquet` the residue's too, are kept as frames
    (``stored``): read them all from :attr:`skipped` and :attr:`rejected` (built
    on first use), or count them with :meth:`residue_counts`. ``lines`` (unless planned
    with ``lines=False``) holds the other fields of every line, one row per line in
    ``invoices``' order: ``created_at`` (the text given), ``amount, vat_amount,
    merchant_reference``; :meth:`to_plan` needs it.
    """

    invoices: pl.DataFrame
    residue: InvoicePlan
    provenance: PlanProvenance
    lines: pl.DataFrame | None
    #: The distinct valid billing addresses, by their ``address`` index, as given.
    addresses: pl.DataFrame
    dates: tuple[InvoiceDates, ...]
    states: tuple[InvoiceState | None, ...]
    #: Billing addresses already validated, by ``address`` index (those of the core's
    #: invoices): :meth:`billing_addresses` validates the others when asked.
    address_objects: Mapping[int, BillingAddress]
    #: Skipped purchases and rejections kept as frames rather than objects (besides
    #: ``residue``'s own); :attr:`skipped` and :attr:`rejected` build the objects on
    #: first use.
    stored: StoredResidue | None = None

    @cached_property
    def skipped(self) -> tuple[SkippedPurchase, ...]:
        """The skipped purchases, by transaction id (as ``plan_invoices``)."""
        if self.stored is None:
            return self.residue.skipped
        everything = [*self.residue.skipped, *self.stored.skipped_purchases()]
        return tuple(sorted(everything, key=attrgetter("transaction_id")))

    @cached_property
    def rejected(self) -> tuple[Rejection, ...]:
        """The rejections, in ``plan_invoices``' order."""
        if self.stored is None:
            return self.residue.rejected
        everything = [*self.residue.rejected, *self.stored.rejections()]
        return tuple(sorted(everything, key=Rejection.sort_key))

    def residue_counts(self) -> tuple[int, int]:
        """``(len(self.skipped), len(self.rejected))``, without building the objects."""
        stored = self.stored
        skipped, rejected = len(self.residue.skipped), len(self.residue.rejected)
        if stored is None:
            return skipped, rejected
        return skipped + stored.skipped.height, rejected + stored.rejected.height

    def totals(self) -> dict[str, int]:
        """Invoiced amount per currency (as :meth:`InvoicePlan.totals`)."""
        # Summed wide: a currency's total may pass what a 64-bit integer holds.
        sums = self.invoices.group_by("currency").agg(pl.col("amount").cast(pl.Int128).sum())
        return dict(sorted((c, int(a)) for c, a in sums.iter_rows()))

    def billing_addresses(self, indices: Iterable[int]) -> dict[int, BillingAddress]:
        """The :class:`BillingAddress` of each ``address`` index, validated by the core."""
        wanted = set(indices)
        objects = self.address_objects
        out = {i: objects[i] for i in wanted if i in objects}
        rows = self.addresses.filter(pl.col("address").is_in(list(wanted - out.keys())))
        for *values, product, index in rows_of(rows.select(*ADDRESS_FIELDS, "product", "address")):
            given = {k: v for k, v in zip(ADDRESS_FIELDS, values, strict=True) if v is not None}
            out[index] = validate_billing_address(given, product, strict=self.provenance.strict)
        return out

    def to_plan(self) -> InvoicePlan:
        """The :class:`InvoicePlan` ``plan_invoices`` returns for the same records."""
        if self.lines is None:
            raise ValueError("this plan keeps transaction ids only: plan with lines=True")
        invoices, lines = self.invoices, self.lines
        with cyclic_gc_paused():
            rows = zip(
                map(datetime.fromisoformat, lines["created_at"].to_list()),
                invoices["transaction_ids"].explode().to_list(),
                lines["amount"].to_list(),
                lines["vat_amount"].to_list(),
                lines["merchant_reference"].to_list(),
                repeat((), lines.height),  # the flat shape has no order lines
                strict=True,
            )
            built = list(rows)  # plain tuples: what an invoice keeps (see InvoiceLines)
            # The core's own line objects where it planned the purchase (the text above
            # is their isoformat(): equal, but the core may keep another tzinfo class).
            exact = {
                line[1]: line for i in self.residue.invoices for line in tuple.__iter__(i.lines)
            }
            if exact:
                built = [exact.get(line[1], line) for line in built]
            addresses = self.billing_addresses(invoices["address"].unique().to_list())
            keys = {index: customer_key(address) for index, address in addresses.items()}
            products = {p.value: p for p in ProductType}
            dates, states = self.dates, self.states
            out = []
            first = 0
            columns = ("id", "product_type", "address", "currency", "dates", "purchases")
            for invoice_id, product, address, currency, index, count in zip(
                *(invoices[c].to_list() for c in columns), strict=True
            ):
                out.append(
                    make_invoice(
                        invoice_id, products[product], keys[address], addresses[address],
                        currency, dates[index], built[first : first + count], states[index],
                    )
                )  # fmt: skip
                first += count
            return InvoicePlan(tuple(out), self.skipped, self.rejected, self.provenance)


def _int64(value: object) -> bool:
    return type(value) is int and -(2**63) <= value < 2**63


class StoredResidue:
    """Skipped purchases and rejections kept as frames, built back into the same objects.

    ``skipped``: one row per :class:`SkippedPurchase` (its fields); ``rejected``: one row
    per :class:`Rejection` (``transaction_id, index, problems``: how many) and
    ``problems`` one row per :class:`FieldProblem` (``path, message``), in order. An
    object with a value these columns would not give back exactly (another type, an
    amount beyond 64 bits) stays an object in the plan.
    """

    def __init__(self) -> None:
        self._skipped: list[pl.DataFrame] = []
        self._rejected: list[pl.DataFrame] = []
        self._problems: list[pl.DataFrame] = []
        self.skipped = pl.DataFrame(schema=self.skipped_schema())
        self.rejected = pl.DataFrame(
            schema={"transaction_id": pl.String, "index": pl.Int64, "problems": pl.Int64}
        )
        self.problems = pl.DataFrame(schema={"path": pl.String, "message": pl.String})

    @staticmethod
    def skipped_schema() -> dict[str, Any]:
        return {
            "transaction_id": pl.String, "reason": _SKIP_REASON, "detail": pl.Categorical,
            "product_type": PRODUCT_ENUM, "status": _STATUS, "currency": pl.String,
            "amount": pl.Int64, "vat_amount": pl.Int64,
        }  # fmt: skip

    def keep(self, plan: InvoicePlan) -> InvoicePlan:
        """``plan`` without the skipped purchases and rejections stored here."""
        skipped, kept_skipped = [], []
        for s in plan.skipped:
            if (
                type(s) is SkippedPurchase
                and type(s.transaction_id) is str
                and type(s.detail) is str
                and type(s.currency) is str
                and s.product_type is not None
                and _int64(s.amount)
                and _int64(s.vat_amount)
            ):
                skipped.append(s)
            else:
                kept_skipped.append(s)
        rejected, kept_rejected = [], []
        for r in plan.rejected:
            if (
                type(r) is Rejection
                and (r.transaction_id is None or type(r.transaction_id) is str)
                and (r.index is None or _int64(r.index))
                and type(r.problems) is tuple
                and all(
                    type(p) is FieldProblem and type(p.path) is str and type(p.message) is str
                    for p in r.problems
                )
            ):
                rejected.append(r)
            else:
                kept_rejected.append(r)
        if skipped:
            columns = list(zip(*(
                (s.transaction_id, s.reason.value, s.detail,
                 s.product_type.value if s.product_type else None,
                 s.status.value, s.currency, s.amount, s.vat_amount)
                for s in skipped
            ), strict=True))  # fmt: skip
            schema = self.skipped_schema()
            self._skipped.append(
                pl.DataFrame(
                    [
                        pl.Series(n, c, dtype=t)
                        for (n, t), c in zip(schema.items(), columns, strict=True)
                    ]
                )
            )
        if rejected:
            self._rejected.append(
                pl.DataFrame(
                    {
                        "transaction_id": [r.transaction_id for r in rejected],
                        "index": [r.index for r in rejected],
                        "problems": [len(r.problems) for r in rejected],
                    },
                    schema=self.rejected.schema,
                )
            )
            problems = [p for r in rejected for p in r.problems]
            self._problems.append(
                pl.DataFrame(
                    {"path": [p.path for p in problems], "message": [p.message for p in problems]},
                    schema=self.problems.schema,
                )
            )
        return replace(plan, skipped=tuple(kept_skipped), rejected=tuple(kept_rejected))

    def add_skipped(self, skipped: pl.DataFrame) -> None:
        """Keep ``skipped`` (columns as :attr:`skipped`)."""
        if skipped.height:
            self._skipped.append(skipped)

    def add_rejected(self, rejected: pl.DataFrame, problems: pl.DataFrame) -> None:
        """Keep ``rejected`` and their ``problems`` (columns as :attr:`rejected` and
        :attr:`problems`)."""
        if rejected.height:
            self._rejected.append(rejected.cast(self.rejected.schema))
            self._problems.append(problems.cast(self.problems.schema))

    def done(self) -> StoredResidue:
        """Self, its parts concatenated."""
        for name, parts in (
            ("skipped", self._skipped), ("rejected", self._rejected), ("problems", self._problems)
        ):  # fmt: skip
            if parts:
                setattr(self, name, pl.concat([getattr(self, name), *parts]).rechunk())
            parts.clear()
        return self

    def skipped_purchases(self) -> list[SkippedPurchase]:
        reasons = {r.value: r for r in SkipReason}
        products = {p.value: p for p in ProductType}
        statuses = {s.value: s for s in TransactionStatus}
        return [
            SkippedPurchase(tid, reasons[reason], detail, products[product], statuses[status],
                            currency, amount, vat)
            for tid, reason, detail, product, status, currency, amount, vat in rows_of(self.skipped)
        ]  # fmt: skip

    def rejections(self) -> list[Rejection]:
        problems = list(map(FieldProblem, self.problems["path"], self.problems["message"]))
        out = []
        first = 0
        for tid, index, count in rows_of(self.rejected):
            out.append(Rejection(tid, tuple(problems[first : first + count]), index))
            first += count
        return out


def rows_of(frame: pl.DataFrame) -> Iterable[tuple[Any, ...]]:
    """The rows of ``frame`` as tuples (column by column: faster than ``iter_rows``)."""
    return zip(*(frame[name].to_list() for name in frame.columns), strict=True)
