"""The plan as Arrow rows: one row per invoice (its lines nested), skipped purchase or
rejection, and the same objects back from those rows.

Pure functions over :mod:`pyarrow` (no Spark here): the Spark job moves these rows between
its stages and hands them out as its result. ``invoice_structs(invoices)`` and
``invoices_of(structs)`` are inverse: an invoice read back equals the one written (the
payment deadline, a function of the due date and country, is looked up again with
:func:`~kravia_schedule.statutory.deadline_or_none`, as the core computes it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from itertools import accumulate, pairwise
from typing import Any

import pyarrow as pa

from kravia_schedule.address import BillingAddress
from kravia_schedule.calendar import SkippedDay
from kravia_schedule.config import ProductType
from kravia_schedule.countries import Country
from kravia_schedule.customers import CustomerKey
from kravia_schedule.errors import FieldProblem, KraviaScheduleError
from kravia_schedule.invoices import (
    Invoice,
    InvoiceLines,
    InvoiceState,
    Rejection,
    SkippedPurchase,
    SkipReason,
)
from kravia_schedule.periods import BillingPeriod, Interval
from kravia_schedule.purchases import TransactionStatus
from kravia_schedule.statutory import deadline_or_none
from kravia_schedule.vat import InvoiceItem, RateTotal, rate_text

__all__ = [
    "ADDRESS_FIELDS",
    "INVOICE",
    "ITEM",
    "LINE",
    "RATE_TOTAL",
    "REJECTION",
    "SKIPPED",
    "SKIPPED_DAY",
    "AmountOverflowError",
    "breakdowns",
    "invoice_structs",
    "invoices_of",
    "items_of",
    "money_array",
    "rejection_structs",
    "rejections_of",
    "skipped_days",
    "skipped_of",
    "skipped_structs",
    "struct_array",
]


class AmountOverflowError(KraviaScheduleError, ValueError):
    """An amount or total beyond the 64-bit integers a Spark column holds."""


#: The fields of a :class:`BillingAddress`, in its order (``country`` as its code).
ADDRESS_FIELDS = tuple(f.name for f in fields(BillingAddress) if f.init)

_S, _D, _I = pa.string(), pa.date32(), pa.int64()

#: One order line of a purchase (:class:`~kravia_schedule.vat.InvoiceItem`); ``vat_rate``
#: is the percent as text, exactly as given (``"25.50"`` stays ``"25.50"``).
ITEM = pa.struct(
    [("line_id", _S), ("description", _S), ("amount", _I), ("vat_rate", _S),
     ("vat_amount", _I)]
)  # fmt: skip

#: One line of an invoice: ``created_at`` is the instant's ISO-8601 text with its offset;
#: ``vat_amount`` null when unknown; ``items`` the purchase's order lines (none for the
#: flat shape).
LINE = pa.struct(
    [("created_at", _S), ("transaction_id", _S), ("amount", _I), ("vat_amount", _I),
     ("merchant_reference", _S), ("items", pa.list_(ITEM))]
)  # fmt: skip

#: The totals of one VAT rate (:class:`~kravia_schedule.vat.RateTotal`): ``rate`` the
#: percent as text without trailing zeros (null: money that gives no rate); ``net`` and
#: ``vat`` null when a line's VAT at that rate is unknown.
RATE_TOTAL = pa.struct([("rate", _S), ("net", _I), ("vat", _I), ("gross", _I)])
SKIPPED_DAY = pa.struct([("day", _D), ("weekend", pa.bool_()), ("holiday", _S), ("closed", _S)])

#: One invoice. ``country`` … ``customer_reference`` are the normalized customer key;
#: ``billing_address`` the address shown (the earliest purchase's, as validated);
#: ``period`` the label, ``interval``/``period_start``/``period_end`` (null for a standard
#: invoice); ``state`` null without ``as_of``; ``vat_breakdown`` the totals per rate, as
#: :attr:`Invoice.vat_breakdown` (highest rate first); ``lines`` in line order (instant,
#: then id).
INVOICE = pa.struct(
    [
        ("id", _S), ("product_type", _S), ("country", _S), ("organization_number", _S),
        ("business_name", _S), ("customer_reference", _S),
        ("billing_address", pa.struct([(name, _S) for name in ADDRESS_FIELDS])),
        ("currency", _S), ("period", _S), ("interval", _S), ("period_start", _D),
        ("period_end", _D), ("issue_date", _D), ("due_date", _D),
        ("last_on_time_payment_date", _D), ("amount", _I), ("vat_amount", _I),
        ("purchases", _I), ("state", _S), ("issue_skipped", pa.list_(SKIPPED_DAY)),
        ("vat_breakdown", pa.list_(RATE_TOTAL)), ("lines", pa.list_(LINE)),
    ]
)  # fmt: skip

#: One skipped purchase (the fields of :class:`SkippedPurchase`).
SKIPPED = pa.struct(
    [("transaction_id", _S), ("reason", _S), ("detail", _S), ("product_type", _S),
     ("status", _S), ("currency", _S), ("amount", _I), ("vat_amount", _I)]
)  # fmt: skip

#: One rejection: the transaction id (null when unreadable), every problem, in order, and
#: ``index``, where the record is in the input (see :func:`rejection_structs`).
REJECTION = pa.struct(
    [("transaction_id", _S),
     ("problems", pa.list_(pa.struct([("path", _S), ("message", _S)]))), ("index", _I)]
)  # fmt: skip


def money_array(values: Sequence[int | None], names: Callable[[int], str]) -> pa.Array:
    """``values`` as 64-bit integers (``None`` for an unknown VAT); a value beyond them is
    named, not wrapped around."""
    try:
        return pa.array(values, _I)
    except (OverflowError, pa.ArrowInvalid):
        bad = next(i for i, v in enumerate(values) if v is not None and not -(2**63) <= v < 2**63)
        raise AmountOverflowError(
            f"{names(bad)}: {values[bad]} is beyond the 64-bit integers of a Spark column"
        ) from None


def struct_array(fields: pa.StructType, columns: Sequence[pa.Array | list[Any]]) -> pa.StructArray:
    arrays = [
        c if isinstance(c, pa.Array) else pa.array(c, fields.field(i).type)
        for i, c in enumerate(columns)
    ]
    return pa.StructArray.from_arrays(arrays, fields=list(fields))


def _items(items: Sequence[tuple[InvoiceItem, ...]], line_id: Sequence[str]) -> pa.ListArray:
    """Each line's order lines (:data:`ITEM`), a list per line."""
    offsets = pa.array([0, *accumulate(map(len, items))], pa.int32())
    owner = [line_id[i] for i, part in enumerate(items) for _ in part]
    flat = [item for part in items for item in part]
    rows = struct_array(
        ITEM,
        [
            [item.line_id for item in flat],
            [item.description for item in flat],
            money_array([item.amount for item in flat], lambda i: f"transaction {owner[i]!r} item"),
            [None if item.vat_rate is None else str(item.vat_rate) for item in flat],
            money_array(
                [item.vat_amount for item in flat], lambda i: f"transaction {owner[i]!r} item"
            ),
        ],
    )
    return pa.ListArray.from_arrays(offsets, rows)


def breakdowns(totals: Sequence[Sequence[RateTotal]], ids: Sequence[str]) -> pa.ListArray:
    """Each invoice's totals per rate (:data:`RATE_TOTAL`), a list per invoice (``ids``:
    the invoices', to name one whose total is beyond 64 bits)."""
    offsets = pa.array([0, *accumulate(map(len, totals))], pa.int32())
    owner = [ids[i] for i, part in enumerate(totals) for _ in part]
    flat = [total for part in totals for total in part]

    def named(i: int) -> str:
        return f"invoice {owner[i]!r} VAT breakdown"

    rows = struct_array(
        RATE_TOTAL,
        [
            [rate_text(t.rate) for t in flat],
            money_array([t.net for t in flat], named),
            money_array([t.vat for t in flat], named),
            money_array([t.gross for t in flat], named),
        ],
    )
    return pa.ListArray.from_arrays(offsets, rows)


def skipped_days(days: Sequence[Sequence[SkippedDay]]) -> pa.ListArray:
    """Each invoice's ``issue_skipped`` days as a list of :data:`SKIPPED_DAY` rows."""
    flat = [day for part in days for day in part]
    rows = struct_array(
        SKIPPED_DAY,
        [[d.day for d in flat], [d.weekend for d in flat],
         [d.holiday for d in flat], [d.closed for d in flat]],
    )  # fmt: skip
    return pa.ListArray.from_arrays(pa.array([0, *accumulate(map(len, days))], pa.int32()), rows)


def invoice_structs(invoices: Sequence[Invoice]) -> pa.StructArray:
    """The rows (:data:`INVOICE`) of ``invoices``."""
    lines = [tuple.__iter__(invoice.lines) for invoice in invoices]
    flat = [line for part in lines for line in part]
    line_id = [line[1] for line in flat]
    line_rows = struct_array(
        LINE,
        [
            [line[0].isoformat() for line in flat],
            line_id,
            money_array([line[2] for line in flat], lambda i: f"transaction {line_id[i]!r} amount"),
            money_array(
                [line[3] for line in flat], lambda i: f"transaction {line_id[i]!r} vat_amount"
            ),
            [line[4] for line in flat],
            _items([line[5] for line in flat], line_id),
        ],
    )
    offsets = pa.array([0, *accumulate(len(invoice.lines) for invoice in invoices)], pa.int32())
    addresses = [invoice.billing_address for invoice in invoices]
    address_rows = struct_array(
        INVOICE.field("billing_address").type,
        [
            [a.country.value if name == "country" else getattr(a, name) for a in addresses]
            for name in ADDRESS_FIELDS
        ],
    )
    ids = [invoice.id for invoice in invoices]
    periods = [invoice.period for invoice in invoices]
    keys = [invoice.customer for invoice in invoices]
    return struct_array(
        INVOICE,
        [
            ids,
            [invoice.product_type.value for invoice in invoices],
            [key.country.value for key in keys],
            [key.organization_number for key in keys],
            [key.business_name for key in keys],
            [key.customer_reference for key in keys],
            address_rows,
            [invoice.currency for invoice in invoices],
            [p.label if p else None for p in periods],
            [p.interval.value if p else None for p in periods],
            [p.start if p else None for p in periods],
            [p.end if p else None for p in periods],
            [invoice.issue_date for invoice in invoices],
            [invoice.due_date for invoice in invoices],
            [invoice.last_on_time_payment_date for invoice in invoices],
            money_array([i.amount for i in invoices], lambda i: f"invoice {ids[i]!r} amount"),
            money_array(
                [i.vat_amount for i in invoices], lambda i: f"invoice {ids[i]!r} vat_amount"
            ),
            [len(invoice.lines) for invoice in invoices],
            [i.state.value if i.state is not None else None for i in invoices],
            skipped_days([invoice.issue_skipped for invoice in invoices]),
            breakdowns([invoice.vat_breakdown for invoice in invoices], ids),
            pa.ListArray.from_arrays(offsets, line_rows),
        ],
    )


def _plain(structs: pa.StructArray | pa.ChunkedArray, fields: pa.StructType) -> pa.StructArray:
    if isinstance(structs, pa.ChunkedArray):
        return structs.combine_chunks() if structs.num_chunks else pa.array([], fields)
    return structs


def _columns(structs: pa.StructArray | pa.ChunkedArray, fields: pa.StructType) -> list[Any]:
    """Each field of ``structs`` as a Python list."""
    plain = _plain(structs, fields)
    return [plain.field(i).to_pylist() for i in range(fields.num_fields)]


def _nested(values: pa.ListArray) -> list[list[tuple[Any, ...]]]:
    """Each row's list of structs as a list of tuples (a list's structs are converted
    field by field: much faster than a dict per struct)."""
    inner = values.flatten()
    fields = zip(*(inner.field(i).to_pylist() for i in range(inner.type.num_fields)), strict=True)
    flat = list(fields)
    offsets = values.offsets.to_pylist()
    base = offsets[0] if offsets else 0
    return [flat[a - base : b - base] for a, b in pairwise(offsets)]


def items_of(rows: list[dict[str, Any]] | None) -> tuple[InvoiceItem, ...]:
    """The order lines of a line's ``items`` (:data:`ITEM` rows, as Python values)."""
    if not rows:
        return ()
    return tuple(
        InvoiceItem(item["line_id"], item["description"], item["amount"],
                    None if item["vat_rate"] is None else Decimal(item["vat_rate"]),
                    item["vat_amount"])
        for item in rows
    )  # fmt: skip


def invoices_of(structs: pa.StructArray | pa.ChunkedArray) -> list[Invoice]:
    """The invoices of rows (:data:`INVOICE`) :func:`invoice_structs` wrote."""
    plain = _plain(structs, INVOICE)
    columns = {name: plain.field(name) for name in INVOICE.names}
    ids, products, countries, orgs, names, references, currencies, intervals, starts, ends, \
        issues, dues, amounts, vats, states = (
            columns[name].to_pylist()
            for name in ("id", "product_type", "country", "organization_number",
                         "business_name", "customer_reference", "currency", "interval",
                         "period_start", "period_end", "issue_date", "due_date", "amount",
                         "vat_amount", "state")
        )  # fmt: skip
    given = columns["billing_address"]
    addresses = zip(*(given.field(name).to_pylist() for name in ADDRESS_FIELDS), strict=True)
    lines = _nested(columns["lines"])
    skipped_days = _nested(columns["issue_skipped"])
    # Many invoices share a customer, an address, a period: each is built once.
    country_of = {c.value: c for c in Country}
    product_of = {p.value: p for p in ProductType}
    state_of: dict[Any, InvoiceState | None] = {s.value: s for s in InvoiceState}
    state_of[None] = None
    keys: dict[tuple[Any, ...], CustomerKey] = {}
    built: dict[tuple[Any, ...], BillingAddress] = {}
    periods: dict[tuple[Any, ...], BillingPeriod] = {}
    at = ADDRESS_FIELDS.index("country")
    parse = datetime.fromisoformat
    out = []
    for i, address in enumerate(addresses):
        country = country_of[countries[i]]
        key = (country, orgs[i], names[i], references[i])
        customer = keys.get(key) or keys.setdefault(key, CustomerKey(*key))
        shown = built.get(address)
        if shown is None:
            values = list(address)
            values[at] = country_of[values[at]]
            shown = built[address] = BillingAddress(*values)
        period = None
        if starts[i] is not None:
            span = (starts[i], ends[i], intervals[i])
            period = periods.get(span)
            if period is None:
                period = periods[span] = BillingPeriod(starts[i], ends[i], Interval(intervals[i]))
        out.append(
            Invoice(
                ids[i], product_of[products[i]], customer, shown, currencies[i], period,
                issues[i], dues[i],
                InvoiceLines((parse(c), t, a, v, r, items_of(k)) for c, t, a, v, r, k in lines[i]),
                amounts[i], vats[i], state_of[states[i]],
                tuple(SkippedDay(*day) for day in skipped_days[i]),
                deadline_or_none(dues[i], country),
            )
        )  # fmt: skip
    return out


def skipped_structs(skipped: Sequence[SkippedPurchase]) -> pa.StructArray:
    """The rows (:data:`SKIPPED`) of ``skipped``."""
    ids = [s.transaction_id for s in skipped]
    return struct_array(
        SKIPPED,
        [
            ids,
            [s.reason.value for s in skipped],
            [s.detail for s in skipped],
            [s.product_type.value if s.product_type else None for s in skipped],
            [s.status.value for s in skipped],
            [s.currency for s in skipped],
            money_array([s.amount for s in skipped], lambda i: f"transaction {ids[i]!r} amount"),
            money_array(
                [s.vat_amount for s in skipped], lambda i: f"transaction {ids[i]!r} vat_amount"
            ),
        ],
    )


def skipped_of(structs: pa.StructArray | pa.ChunkedArray) -> list[SkippedPurchase]:
    """The skipped purchases of rows (:data:`SKIPPED`)."""
    columns = _columns(structs, SKIPPED)
    return [
        SkippedPurchase(tid, SkipReason(reason), detail,
                        ProductType(product) if product is not None else None,
                        TransactionStatus(status), currency, amount, vat)
        for tid, reason, detail, product, status, currency, amount, vat in zip(*columns, strict=True)
    ]  # fmt: skip


def rejection_structs(
    rejected: Sequence[Rejection], rows: Sequence[int] | None = None
) -> pa.StructArray:
    """The rows (:data:`REJECTION`) of ``rejected``.

    A rejection's ``index`` is its record's position in the input it was planned from;
    with ``rows`` (one value per record of that input) it is ``rows[index]`` instead: a
    partition's positions say nothing about the whole input, the rows' own numbers do.
    """
    indices = [r.index for r in rejected]
    if rows is not None:
        indices = [None if i is None else rows[i] for i in indices]
    return struct_array(
        REJECTION,
        [
            [r.transaction_id for r in rejected],
            [[{"path": p.path, "message": p.message} for p in r.problems] for r in rejected],
            indices,
        ],
    )


def rejections_of(structs: pa.StructArray | pa.ChunkedArray) -> list[Rejection]:
    """The rejections of rows (:data:`REJECTION`)."""
    ids, problems, indices = _columns(structs, REJECTION)
    return [
        Rejection(tid, tuple(FieldProblem(p["path"], p["message"]) for p in found), index)
        for tid, found, index in zip(ids, problems, indices, strict=True)
    ]
