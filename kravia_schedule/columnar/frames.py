"""The entry points for data held in memory: a Polars frame, an Arrow table, a file.

:func:`plan_frames` reads the input, places its plainly valid rows, has the core plan the
rest (the residue) and groups both into invoices; :func:`plan_frame` materializes the
result as the core's :class:`~kravia_schedule.InvoicePlan`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Unpack

import polars as pl

from kravia_schedule._gc import cyclic_gc_paused
from kravia_schedule.columnar import placing
from kravia_schedule.columnar.grouping import group_into_invoices
from kravia_schedule.columnar.lookups import Lookups
from kravia_schedule.columnar.marking import mark
from kravia_schedule.columnar.reading import dintero_lines, source_of
from kravia_schedule.columnar.result import FramePlan, StoredResidue
from kravia_schedule.config import KraviaConfig
from kravia_schedule.invoices import InvoicePlan, PlanProvenance
from kravia_schedule.io import read_records
from kravia_schedule.options import PlanOptions, PlanOptionsArgs
from kravia_schedule.planning import merge_plans, plan_invoices


def plan_frames(
    data: pl.DataFrame | pl.LazyFrame | Any | str | os.PathLike[str],
    config: KraviaConfig | None = None,
    *,
    lines: bool = True,
    options: PlanOptions | None = None,
    **changes: Unpack[PlanOptionsArgs],
) -> FramePlan:
    """The plan of the records in ``data``, its invoices as a Polars frame.

    ``data`` and the options are those of :func:`plan_frame`; ``lines=False`` keeps only
    the transaction ids of each invoice (no :meth:`FramePlan.to_plan`).
    ``plan_frames(data).to_plan() == plan_invoices(records)``.
    """
    options = PlanOptions.of(options, **changes)
    config = config if config is not None else KraviaConfig.all_enabled()
    provenance = plan_invoices([], config, options=options).provenance
    if isinstance(data, str | os.PathLike) and dintero_lines(data):
        # Every row would be the core's: stream the file through it rather than hold
        # the records and a frame of them.
        residue = plan_invoices(read_records(os.fspath(data)), config, options=options)
        with cyclic_gc_paused():
            lookups = Lookups(config, provenance)
            rows = placing.residue_rows(residue, lookups)
            invoices, details = group(rows, lookups, lines=lines)
            return frame_plan(provenance, lookups, invoices, details, residue, None)
    # The collector paused as in plan_invoices: many small objects, no cycles.
    with cyclic_gc_paused(), ThreadPoolExecutor(1) as pool:
        frame, records = source_of(data)
        lookups = Lookups(config, provenance)
        marked = mark(frame, config)
        # The core plans the rows that are not plainly valid on a thread of its own
        # while Polars (which lets go of the GIL) places the others, so the two use both
        # cores. The rows placing sends to the core as well (an address it refuses,
        # say) are planned after.
        core = ~pl.col("plain") & ~pl.col("money_missing")
        early = marked.lazy().filter(core).select("row").collect()["row"]
        first = pool.submit(plan_rows, records, early.to_list(), config, options)
        placed = placing.place(marked, config, lookups, provenance.strict)
        stored = StoredResidue()
        rest = pl.Series(rest_rows(frame, placed, stored), dtype=early.dtype)
        late = rest.filter(~rest.is_in(early.implode())).to_list()
        residue = first.result()
        if late:  # disjoint ids: every row of a repeated id is in ``early``
            residue = merge_plans(residue, plan_rows(records, late, config, options))
        rows = pl.concat(
            [placed.lines, placing.residue_rows(residue, lookups)], how="vertical_relaxed"
        )
        invoices, details = group(rows, lookups, lines=lines)
        return frame_plan(provenance, lookups, invoices, details, residue, stored.done())


def plan_frame(
    data: pl.DataFrame | pl.LazyFrame | Any | str | os.PathLike[str],
    config: KraviaConfig | None = None,
    *,
    options: PlanOptions | None = None,
    **changes: Unpack[PlanOptionsArgs],
) -> InvoicePlan:
    """The plan :func:`~kravia_schedule.plan_invoices` makes of the records in ``data``.

    ``data`` is a ``polars.DataFrame``, a ``polars.LazyFrame``, a ``pyarrow.Table`` or the
    path of a Parquet (``.parquet``, ``.pq``), CSV (``.csv``) or JSON Lines (``.jsonl``,
    ``.ndjson``) file. Columns: ``id, created_at, amount, vat_amount, currency, status,
    payment_product_type, merchant_reference`` and the billing address as a struct column
    ``billing_address`` or as ``billing_address.<field>`` columns; other columns are
    ignored. The other arguments are those of ``plan_invoices``.

    CSV files are read as the command line reads them (all cells text, an empty cell is
    absent, integer-looking money is an integer). A CSV or JSON Lines file that Polars or
    Arrow cannot read faithfully (a cell of another JSON type than its column, invalid
    JSON, ragged rows) is read record by record with :func:`kravia_schedule.io.read_records`.

    ``plan_frames(...).to_plan()``: the invoices are grouped by Polars and materialized.
    """
    return plan_frames(data, config, options=PlanOptions.of(options, **changes)).to_plan()


def plan_file(
    path: str | os.PathLike[str],
    config: KraviaConfig | None = None,
    *,
    options: PlanOptions | None = None,
    **changes: Unpack[PlanOptionsArgs],
) -> InvoicePlan:
    """:func:`plan_frame` of a Parquet, CSV or JSON Lines file (chosen by its suffix)."""
    return plan_frame(path, config, options=options, **changes)


def rest_rows(
    frame: pl.DataFrame, placed: placing.Placed, stored: StoredResidue, offset: int = 0
) -> list[int]:
    """The rows of ``frame`` (``offset`` rows into the input) left for the core: neither
    placed on a line nor skipped or rejected on the columnar path (those are added to
    ``stored``)."""
    skipped = placed.skipped
    stored.add_skipped(skipped.drop("row"))
    done = [placed.lines["row"], skipped["row"]]
    index = (pl.col("row") + offset).alias("index")
    for rejected, problems in placed.rejected:
        stored.add_rejected(rejected.select("transaction_id", index, "problems"), problems)
        done.append(rejected["row"])
    finished = pl.concat(done).implode()
    rest = frame.lazy().select("row").filter(~pl.col("row").is_in(finished))
    return rest.collect()["row"].to_list()


def plan_residue(
    records: list[Any], rows: Sequence[int], config: KraviaConfig, options: PlanOptions
) -> InvoicePlan:
    """The core's plan of the residue; its rejections carry their position in the input
    (informative only: Rejection.index takes no part in comparisons)."""
    residue = plan_invoices(records, config, options=options)
    rejected = tuple(
        replace(r, index=rows[r.index]) if r.index is not None else r for r in residue.rejected
    )
    return replace(residue, rejected=rejected)


def plan_rows(
    records: Callable[[Sequence[int]], list[Any]],
    rows: Sequence[int],
    config: KraviaConfig,
    options: PlanOptions,
    offset: int = 0,
) -> InvoicePlan:
    """:func:`plan_residue` of the records of ``rows``, which are ``offset`` rows into
    the input."""
    return plan_residue(records(rows), [offset + r for r in rows], config, options)


def group(
    rows: pl.DataFrame, lookups: Lookups, *, lines: bool
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """:func:`group_into_invoices` of placed ``rows`` with the tables of ``lookups``."""
    customers = lookups.customer_table()
    return group_into_invoices(rows, lookups.dates, lookups.states, customers, lines=lines)


def frame_plan(
    provenance: PlanProvenance,
    lookups: Lookups,
    invoices: pl.DataFrame,
    details: pl.DataFrame | None,
    residue: InvoicePlan,
    stored: StoredResidue | None = None,
) -> FramePlan:
    """The :class:`FramePlan` of grouped ``invoices`` and the core's ``residue``."""
    return FramePlan(
        invoices,
        residue,
        provenance,
        details,
        lookups.address_table(),
        tuple(lookups.dates),
        tuple(lookups.states),
        lookups.address_objects(),
        stored,
    )
