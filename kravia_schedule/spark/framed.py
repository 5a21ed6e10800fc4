"""The invoices of a columnar plan (:class:`~kravia_schedule.columnar.FramePlan`) as Arrow
rows (:data:`~kravia_schedule.spark.rows.INVOICE`), built from its columns.

:func:`frame_invoice_structs` gives the rows ``invoice_structs(plan.to_plan().invoices)``
gives, without an :class:`~kravia_schedule.invoices.Invoice` per invoice or a tuple per
line: what depends on one billing address (validated by the core) or on one set of
invoice dates is built once per distinct one and gathered onto the invoices. The
invoices the core planned (any of their purchases in the columnar plan's residue) may
carry order lines and their own line objects: they go through ``to_plan`` as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from itertools import accumulate

import polars as pl
import pyarrow as pa

from kravia_schedule.columnar import FramePlan
from kravia_schedule.customers import customer_key
from kravia_schedule.spark.rows import (
    ADDRESS_FIELDS,
    INVOICE,
    ITEM,
    LINE,
    breakdowns,
    invoice_structs,
    skipped_days,
    struct_array,
)
from kravia_schedule.vat import line_shares, rate_totals

__all__ = ["frame_invoice_structs"]

_ADDRESS = INVOICE.field("billing_address").type


def frame_invoice_structs(plan: FramePlan) -> pa.StructArray:
    """The rows (:data:`INVOICE`) of ``plan``'s invoices (planned with ``lines``), in its
    order but that the invoices the core planned come last."""
    if plan.lines is None:
        raise ValueError("this plan keeps transaction ids only: plan with lines=True")
    invoices, lines = plan.invoices, plan.lines
    by_core = invoices["id"].is_in([invoice.id for invoice in plan.residue.invoices])
    if invoices.schema["amount"] != pl.Int64:  # beyond 64 bits: named by invoice_structs
        by_core = pl.repeat(True, invoices.height, eager=True)
    owner = invoices.select(pl.int_range(pl.len()).repeat_by("purchases").explode()).to_series()
    line_by_core = by_core.gather(owner) if lines.height else pl.Series([], dtype=pl.Boolean)
    columnar = _columnar_structs(plan, invoices.filter(~by_core), lines.filter(~line_by_core))
    if not by_core.any():
        return columnar
    core = replace(plan, invoices=invoices.filter(by_core), lines=lines.filter(line_by_core))
    return pa.concat_arrays([columnar, invoice_structs(core.to_plan().invoices)])


def _strings(series: pl.Series) -> pa.Array:
    return series.cast(pl.String).to_arrow().cast(pa.string())


def _positions(indices: pl.Series, distinct: Sequence[int]) -> pa.Array:
    """Where each of ``indices`` is in ``distinct``."""
    at = indices.replace_strict(distinct, range(len(distinct)), return_dtype=pl.Int64)
    return at.to_arrow()


def _columnar_structs(
    plan: FramePlan, invoices: pl.DataFrame, lines: pl.DataFrame
) -> pa.StructArray:
    """The rows of ``invoices`` (none of them the core's) and their ``lines``."""
    if not invoices.height:
        return pa.array([], INVOICE)
    # Each distinct address once: validated by the core, as to_plan does.
    address_indices = sorted(invoices["address"].unique().to_list())
    addresses = plan.billing_addresses(address_indices)
    shown = [addresses[i] for i in address_indices]
    keys = [customer_key(address) for address in shown]
    address_rows = struct_array(
        _ADDRESS,
        [[a.country.value if name == "country" else getattr(a, name) for a in shown]
         for name in ADDRESS_FIELDS],
    )  # fmt: skip
    by_address = _positions(invoices["address"], address_indices)
    key_columns = (
        pa.table(
            {
                "country": pa.array([k.country.value for k in keys], pa.string()),
                "organization_number": pa.array([k.organization_number for k in keys], pa.string()),
                "business_name": pa.array([k.business_name for k in keys], pa.string()),
                "customer_reference": pa.array([k.customer_reference for k in keys], pa.string()),
            }
        )
        .take(by_address)
        .combine_chunks()
    )
    # Each distinct set of dates once, with its state.
    date_indices = sorted(invoices["dates"].unique().to_list())
    dates = [plan.dates[i] for i in date_indices]
    states = [plan.states[i] for i in date_indices]
    periods = [d.period for d in dates]
    date_columns = (
        pa.table(
            {
                "period": pa.array([p.label if p else None for p in periods], pa.string()),
                "interval": pa.array(
                    [p.interval.value if p else None for p in periods], pa.string()
                ),
                "period_start": pa.array([p.start if p else None for p in periods], pa.date32()),
                "period_end": pa.array([p.end if p else None for p in periods], pa.date32()),
                "issue_date": pa.array([d.issue_date for d in dates], pa.date32()),
                "due_date": pa.array([d.due_date for d in dates], pa.date32()),
                "last_on_time_payment_date": pa.array(
                    [d.last_on_time_payment_date for d in dates], pa.date32()
                ),
                "state": pa.array([s.value if s else None for s in states], pa.string()),
                "issue_skipped": skipped_days([d.issue_skipped for d in dates]),
            }
        )
        .take(_positions(invoices["dates"], date_indices))
        .combine_chunks()
    )
    # The lines: their instant as to_plan reads it, written as invoice_structs does.
    ids = invoices["id"].to_list()
    counts = invoices["purchases"].to_list()
    offsets = pa.array([0, *accumulate(counts)], pa.int32())
    amounts, vats = lines["amount"].to_list(), lines["vat_amount"].to_list()
    created = [datetime.fromisoformat(text).isoformat() for text in lines["created_at"]]
    line_rows = struct_array(
        LINE,
        [
            pa.array(created, pa.string()),
            _strings(invoices["transaction_ids"].explode()),
            lines["amount"].to_arrow().cast(pa.int64()),
            lines["vat_amount"].to_arrow().cast(pa.int64()),
            _strings(lines["merchant_reference"]),
            # The columnar path plans purchases without order lines only.
            pa.ListArray.from_arrays(
                pa.array([0] * (lines.height + 1), pa.int32()), pa.array([], ITEM)
            ),
        ],
    )
    # Each invoice's totals per rate, as Invoice.vat_breakdown sums its lines' shares.
    totals = [
        rate_totals(
            share
            for amount, vat in zip(amounts[a:b], vats[a:b], strict=True)
            for share in line_shares(amount, vat, ())
        )
        for a, b in zip([0, *accumulate(counts)], accumulate(counts), strict=False)
    ]
    return struct_array(
        INVOICE,
        [
            _strings(invoices["id"]),
            _strings(invoices["product_type"]),
            *(column.chunk(0) for column in key_columns.columns),
            address_rows.take(by_address),
            _strings(invoices["currency"]),
            *(date_columns[name].chunk(0) for name in ("period", "interval", "period_start",
                                              "period_end", "issue_date", "due_date",
                                              "last_on_time_payment_date")),
            invoices["amount"].to_arrow().cast(pa.int64()),
            invoices["vat_amount"].to_arrow().cast(pa.int64()),
            invoices["purchases"].to_arrow().cast(pa.int64()),
            date_columns["state"].chunk(0),
            date_columns["issue_skipped"].chunk(0),
            breakdowns(totals, ids),
            pa.ListArray.from_arrays(offsets, line_rows),
        ],
    )  # fmt: skip
