"""Placing rows: each plainly valid row's address, customer, local date and invoice
dates, as indices into the plan's :class:`~kravia_schedule.columnar.lookups.Lookups`.

Each distinct address, (country, UTC day), (country, date) and (product type, status)
is decided once, by the core's own functions; Polars only maps the results back onto the
rows. The functions here hold no state of their own: what they look up is remembered by
the ``Lookups`` they are given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import repeat
from typing import Any

import polars as pl

from kravia_schedule.columnar.addresses import KEYS, agrees, by_core, recognize
from kravia_schedule.columnar.lookups import (
    ADDRESS_COLUMNS,
    ADDRESS_ON,
    Lookups,
    at_first_rows,
    by_first_row,
    day_dates_key,
    local_day_key,
    period_key,
)
from kravia_schedule.columnar.outcomes import Rejected, as_rejected, as_skipped
from kravia_schedule.config import KraviaConfig, ProductType
from kravia_schedule.dates import InvoiceDates
from kravia_schedule.invoices import InvoicePlan

_GROUPED = ProductType.B2B_GROUPED
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

#: The columns of a line placed on an invoice (see place).
_LINE_ROW = ["row", "id", "ts", "created_at", "amount", "vat_amount", "merchant_reference",
             "currency", "payment_product_type", "address", "customer"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Placed:
    """What :func:`place` made of a frame's plainly valid rows."""

    #: The rows that go on an invoice, one per line (the columns of :func:`row_schema`).
    lines: pl.DataFrame
    #: The rows that go on no invoice, as skipped purchases (see :func:`as_skipped`).
    skipped: pl.DataFrame
    #: The ``money_missing`` rows with a valid address, as rejections.
    rejected: list[Rejected]


def place(marked: pl.DataFrame, config: KraviaConfig, lookups: Lookups, strict: bool) -> Placed:
    """The plainly valid rows of ``marked`` (a frame as
    :func:`~kravia_schedule.columnar.marking.mark` gives it): those that go on an
    invoice, one per line, with their ``address``, ``customer`` and ``dates`` indices
    and (grouped) ``start``; those that go on no invoice; and the ``money_missing``
    rows with a valid address, rejected. ``strict`` is the plan's option.

    Every step adds columns to all the rows of ``marked`` (null where a row is out),
    and the rows are filtered once, at the end: each filter copies every column it
    keeps.
    """
    rows = with_addresses(marked, lookups, strict)
    valid_address = pl.col("address").is_not_null()
    rejected = as_rejected(rows.filter(valid_address & pl.col("money_missing")))
    kept = valid_address & pl.col("plain")  # plainly valid, its address too
    skipped = as_skipped(rows.filter(kept & ~pl.col("invoiced")), config)
    rows = _with_local_dates(rows, kept & pl.col("invoiced"), lookups)
    dated = pl.col("local").is_not_null()
    is_grouped = pl.col("payment_product_type") == _GROUPED.value
    rows = _with_periods(rows, dated & is_grouped, lookups)
    rows = _with_day_dates(rows, dated & ~is_grouped, lookups)
    dates = pl.coalesce("period_dates", "day_dates").alias("dates")
    lines = (
        rows.lazy()
        .select(*_LINE_ROW, "start", dates)
        .filter(pl.col("dates").is_not_null())
        .collect()
    )
    return Placed(lines, skipped, rejected)


def with_addresses(frame: pl.DataFrame, lookups: Lookups, strict: bool) -> pl.DataFrame:
    """``address``, ``customer`` and ``cc`` of each ``plain`` or ``money_missing`` row:
    each distinct (address, product type) checked once (recognized as plainly valid, or
    validated by the core). Null for the rows whose address fails (to the residue) and
    the others.

    Each row is matched exactly to the first row with the same fields (a window over
    the fields, so no hash decides equality), and only those first rows are looked up.
    Across batches ``lookups`` matches the distinct addresses to the ones seen before
    by a 64-bit hash of their fields, checked field by field: a hash two different
    addresses share (a collision) sends their rows to the residue.
    """
    is_plain = pl.col("plain") | pl.col("money_missing")
    # Only the first rows are hashed: cheaper than hashing every row, a unique over
    # the hashes and fields, and mapping each row's hash to its address.
    grouped, firsts = by_first_row(frame, ADDRESS_ON, is_plain)
    distinct = firsts.select("_i", *ADDRESS_ON).with_columns(ah=_fields_hash(ADDRESS_ON)).collect()
    collided = distinct["ah"].is_duplicated()
    if collided.any():  # a 64-bit collision within one frame
        distinct = distinct.filter(~collided)
    table = lookups.address_keys(distinct, lambda new: validated(new, strict))
    # Each row's place in ``table``: null where its first row collided.
    at = at_first_rows(
        grouped, table["_i"], pl.int_range(table.height, dtype=pl.UInt32, eager=True)
    )
    keyed = (
        grouped.lazy()
        .drop(ADDRESS_COLUMNS)
        .with_columns(at=at)
        .with_columns(
            pl.lit(table[c]).gather(pl.col("at")).alias(c) for c in ("address", "customer", "cc")
        )
    )
    return keyed.drop("_i", "_first", "at").collect()


def validated(new: pl.DataFrame, strict: bool) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The new distinct addresses (``ah`` and :data:`ADDRESS_ON`) the core accepts,
    with their customer key columns, and those it refuses (see
    :data:`~kravia_schedule.columnar.lookups.Validate`). Plain ones are recognized by
    :func:`recognize`; the others, or all if the core disagrees with it on a sample,
    are validated by the core."""
    # In hash order, so the indices do not depend on the order Polars' unique and
    # joins leave rows in: a frame gives the same plan every run.
    recognized = recognize(new.sort("ah"), strict=strict)
    is_plain = pl.col("plain")
    plain, other = recognized.filter(is_plain), recognized.filter(~is_plain)
    if plain.height and not agrees(plain, strict=strict):
        plain, other = plain.clear(), recognized  # only if the core's rules change
    other = by_core(other.drop(*KEYS), strict=strict)
    columns = ["ah", *ADDRESS_ON, *KEYS]
    checked = pl.concat([plain.select(columns), other.filter("valid").select(columns)])
    refused = other.filter(~pl.col("valid")).select("ah", *ADDRESS_ON)
    return checked, refused


def _with_local_dates(frame: pl.DataFrame, rows: pl.Expr, lookups: Lookups) -> pl.DataFrame:
    """``local``: the date in the customer's zone of the ``rows`` (null for the others).

    For each distinct (country, UTC day) ``lookups`` gives the local midnight within
    that day (if any) and the dates before and after it; a day with no such entry sends
    its rows to the residue.
    """
    columns = [("midnight", pl.Int64), ("before", pl.Date), ("after", pl.Date)]
    key = pl.when(rows).then(local_day_key())
    joined = _lookup(frame, key, lookups.local_day, columns)
    local = (
        pl.when(pl.col("ts") < pl.col("midnight")).then(pl.col("before")).otherwise(pl.col("after"))
    )
    return joined.lazy().with_columns(local=local).drop("midnight", "before", "after").collect()


def _with_periods(frame: pl.DataFrame, rows: pl.Expr, lookups: Lookups) -> pl.DataFrame:
    """``start`` (of the billing period) and ``period_dates`` (a ``dates`` index) of the
    grouped ``rows``, per distinct (country, local date); beyond the holiday data (null
    ``period_dates``), to the residue."""
    columns = [("start", pl.Date), ("period_dates", pl.Int64)]
    return _lookup(frame, pl.when(rows).then(period_key()), lookups.period, columns)


def _with_day_dates(frame: pl.DataFrame, rows: pl.Expr, lookups: Lookups) -> pl.DataFrame:
    """``day_dates`` of the standard invoices of ``rows``, per distinct (country,
    product type, local date); null beyond the holiday data (to the residue)."""
    columns = [("day_dates", pl.Int64)]
    # Often there are none (a frame of grouped purchases): asking whether any row
    # needs them is far cheaper than mapping every row's product type to find out.
    if not frame.lazy().select(rows.any()).collect().item():
        return _with_nulls(frame, columns)
    return _lookup(frame, pl.when(rows).then(day_dates_key()), lookups.day_dates, columns)


def _lookup(
    frame: pl.DataFrame,
    on: pl.Expr,
    look_up: Callable[[int], tuple[Any, ...]],
    columns: Sequence[tuple[str, Any]],
) -> pl.DataFrame:
    """``frame`` with ``columns``: ``look_up`` of each distinct value of the integer key
    ``on``, asked in increasing order of the keys; null where ``on`` is.

    The keys of a frame span a narrow range (days times a few countries and products:
    at most 2.4M for the 146,000 days of the instants taken), so each row's result is
    read by position from a table with a slot for every key in that range, which is
    cheaper than finding the distinct keys and mapping each row's key to its result by
    hash.
    """
    key = frame.lazy().select(on).collect().to_series()
    low, high = key.min(), key.max()
    if low is None:
        return _with_nulls(frame, columns)
    assert isinstance(low, int)
    assert isinstance(high, int)
    at = (key - low).alias("_at")
    size = high - low + 1
    present = pl.repeat(False, size, eager=True).scatter(at.drop_nulls(), True)
    slots: list[list[Any]] = [[None] * size for _ in columns]
    keys = present.arg_true().cast(pl.Int64) + low  # in order: new indices fixed
    for value in keys.to_list():
        for slot, item in zip(slots, look_up(value), strict=True):
            slot[value - low] = item
    return (
        frame.lazy()
        .with_columns(at)
        .with_columns(
            pl.lit(pl.Series(slot, dtype=dtype)).gather(pl.col("_at")).alias(name)
            for slot, (name, dtype) in zip(slots, columns, strict=True)
        )
        .drop("_at")
        .collect()
    )


def _with_nulls(frame: pl.DataFrame, columns: Sequence[tuple[str, Any]]) -> pl.DataFrame:
    """``frame`` with ``columns`` (name, dtype) all null: a look-up with no keys."""
    return frame.with_columns(pl.lit(None, dtype).alias(name) for name, dtype in columns)


def _fields_hash(columns: Sequence[str]) -> pl.Expr:
    """A 64-bit hash of a row's values in ``columns`` (each column hashed with its own
    seed, so equal values in other columns give other hashes)."""
    hashes = [pl.col(c).hash(seed=i + 1) for i, c in enumerate(columns)]
    return pl.reduce(lambda a, b: a ^ b, hashes)


# -- the core's invoices, as rows


def residue_rows(residue: InvoicePlan, lookups: Lookups) -> pl.DataFrame:
    """The lines of the invoices the core planned, as rows like :func:`place`'s (their
    addresses and dates numbered by ``lookups``): an invoice the columnar rows share is
    then merged by the grouping, as ``merge_plans`` would merge it (earliest line's
    address, lines in order)."""
    columns: dict[str, list[Any]] = {name: [] for name in row_schema()}
    keys: list[tuple[str, str, str, str]] = []  # each line's customer key
    for invoice in residue.invoices:
        dates = InvoiceDates(
            issue_date=invoice.issue_date,
            due_date=invoice.due_date,
            period=invoice.period,
            issue_skipped=invoice.issue_skipped,
            payment_deadline=invoice.payment_deadline,
        )
        fixed = {
            "currency": invoice.currency,
            "payment_product_type": invoice.product_type.value,
            "address": lookups.add_address(invoice.billing_address),
            "customer": None,
            "start": invoice.period.start if invoice.period else None,
            "dates": lookups.add_dates(dates, invoice.state),
        }
        key = invoice.customer
        keys += repeat(
            (key.country.value, key.organization_number, key.business_name,
             key.customer_reference),
            len(invoice.lines),
        )  # fmt: skip
        for line in invoice.lines:
            values = {
                "row": None,
                "id": line.transaction_id,
                "ts": (line.created_at - _EPOCH) // _MICROSECOND,
                "created_at": line.created_at.isoformat(),
                "amount": line.amount,
                "vat_amount": line.vat_amount,
                "merchant_reference": line.merchant_reference,
                **fixed,
            }
            for name, value in values.items():
                columns[name].append(value)
    # An invoiced amount is at most rules.MAX_AMOUNT: a 64-bit column holds it.
    schema = row_schema()
    frame = pl.DataFrame(columns, schema=schema)
    key_frame = pl.DataFrame(keys, schema=dict.fromkeys(KEYS, pl.String), orient="row")
    return frame.with_columns(customer=lookups.customer_indices(key_frame))


def row_schema() -> dict[str, Any]:
    """The columns of a placed line (see :func:`place`)."""
    return {
        "row": pl.Int64, "id": pl.String, "ts": pl.Int64, "created_at": pl.String,
        "amount": pl.Int64, "vat_amount": pl.Int64, "merchant_reference": pl.String,
        "currency": pl.String, "payment_product_type": pl.String, "address": pl.Int64,
        "customer": pl.Int64, "start": pl.Date, "dates": pl.Int64,
    }  # fmt: skip
