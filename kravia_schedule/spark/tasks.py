"""What the Spark job's Python workers run on one partition: pure functions of Arrow
record batches, so they can be run and tested without Spark.

:func:`plan_part` plans one partition of the input with the columnar engine
(:func:`~kravia_schedule.columnar.plan_frame`, the core's plan to the object) and writes
its invoices, skipped purchases and rejections as rows of :data:`PLANNED`.
:func:`merge_part` takes the partial invoices of one id from several partitions and
merges them with :func:`~kravia_schedule.planning.merge_plans`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql.pandas.types import is_variant
from pyspark.sql.types import VariantVal

from kravia_schedule.columnar import plan_frame
from kravia_schedule.config import KraviaConfig
from kravia_schedule.invoices import InvoicePlan, PlanProvenance
from kravia_schedule.options import PlanOptions
from kravia_schedule.planning import merge_plans
from kravia_schedule.spark.rows import (
    INVOICE,
    REJECTION,
    SKIPPED,
    invoice_structs,
    invoices_of,
    rejection_structs,
    skipped_structs,
)

__all__ = ["INVOICE_KIND", "MERGED", "PLANNED", "REJECTED_KIND", "SKIPPED_KIND", "json_value",
           "merge_part", "plan_part", "python_values"]  # fmt: skip

INVOICE_KIND, SKIPPED_KIND, REJECTED_KIND = "invoice", "skipped", "rejected"

#: A partition's plan: ``kind`` says which of ``invoice``, ``skipped`` and ``rejected``
#: the row holds (the other two are null); ``part`` is the partition the invoice was
#: planned in, ``invoice_id`` its id (both null but for invoices).
PLANNED = pa.schema(
    [("kind", pa.string()), ("part", pa.int32()), ("invoice_id", pa.string()),
     ("invoice", INVOICE), ("skipped", SKIPPED), ("rejected", REJECTION)]
)  # fmt: skip

#: The merged invoices: one row per invoice of the whole plan.
MERGED = pa.schema([("invoice", INVOICE)])


def plan_part(
    batches: Iterable[pa.RecordBatch],
    part: int,
    config: KraviaConfig,
    options: PlanOptions,
    rows: Sequence[int] | None = None,
) -> Iterator[pa.RecordBatch]:
    """The plan of the records in ``batches`` (one partition, numbered ``part``), as rows
    of :data:`PLANNED`; a rejection's ``index`` is ``rows[i]`` for the partition's
    ``i``-th record when ``rows`` is given (see :func:`rejection_structs`).

    Every record of one transaction id must be in the same partition: the core settles
    repeats among the records it is given.
    """
    given = list(batches)
    if not given or not sum(batch.num_rows for batch in given):
        return
    plan = plan_frame(python_values(pa.Table.from_batches(given)), config, options=options)
    invoices = plan.invoices
    if invoices:
        count = len(invoices)
        yield _planned(
            INVOICE_KIND,
            count,
            part=pa.array([part] * count, pa.int32()),
            invoice_id=pa.array([invoice.id for invoice in invoices], pa.string()),
            invoice=invoice_structs(invoices),
        )
    if plan.skipped:
        yield _planned(SKIPPED_KIND, len(plan.skipped), skipped=skipped_structs(plan.skipped))
    if plan.rejected:
        rejected = rejection_structs(plan.rejected, rows)
        yield _planned(REJECTED_KIND, len(plan.rejected), rejected=rejected)


def json_value(value: Any) -> Any:
    """A VARIANT's value as Python's :mod:`json` reads the same JSON: a number with a
    fraction or exponent is a float, a whole one an int (a VARIANT keeps ``1.5`` as a
    decimal, which the core would reject as no JSON number)."""
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    if isinstance(value, dict):
        return {key: json_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_value(item) for item in value]
    return value


def python_values(table: pa.Table) -> pa.Table | pl.DataFrame:
    """``table`` with each VARIANT column (Spark's type for a JSON value of any type) as
    a column of the Python values it holds, so that the plan reads each value as the core
    reads it from JSON (``1.5`` among integer amounts stays ``1.5``); ``table`` itself
    when it has none."""
    variants = [f.name for f in table.schema if pa.types.is_struct(f.type) and is_variant(f.type)]
    if not variants:
        return table
    objects = []
    for name in variants:
        cells = table.column(name).combine_chunks()
        values, meta = cells.field("value").to_pylist(), cells.field("metadata").to_pylist()
        valid = cells.is_valid().to_pylist()
        python = [
            json_value(VariantVal(v, m).toPython()) if ok else None
            for v, m, ok in zip(values, meta, valid, strict=True)
        ]
        objects.append(pl.Series(name, python, dtype=pl.Object))
    plain = pl.DataFrame(table.drop_columns(variants))
    return plain.with_columns(objects).select(table.column_names)


def _planned(kind: str, count: int, **columns: pa.Array) -> pa.RecordBatch:
    arrays = [
        columns.get(field.name, pa.nulls(count, field.type)) for field in PLANNED
    ]  # fmt: skip
    arrays[0] = pa.array([kind] * count, pa.string())
    return pa.RecordBatch.from_arrays(arrays, schema=PLANNED)


def merge_part(
    batches: Iterable[pa.RecordBatch], provenance: PlanProvenance
) -> Iterator[pa.RecordBatch]:
    """The invoices of ``batches`` (rows of :data:`PLANNED` holding invoices, every row of
    one invoice id among them), merged across partitions, as rows of :data:`MERGED`.

    An invoice planned in one partition only is passed on as it is; those planned in
    several are read back and merged by :func:`merge_plans`, one plan per partition.
    """
    given = list(batches)
    if not given:
        return
    table = pa.Table.from_batches(given).select(["part", "invoice_id", "invoice"])
    counts = pc.value_counts(table["invoice_id"])
    repeated = counts.filter(pc.greater(counts.field("counts"), 1)).field("values")
    shared = pc.is_in(table["invoice_id"], value_set=repeated)
    alone = table.filter(pc.invert(shared))
    if alone.num_rows:
        yield pa.RecordBatch.from_arrays(
            [alone["invoice"].combine_chunks()], schema=MERGED
        )  # fmt: skip
    if not len(repeated):
        return
    parts = table.filter(shared)
    plans = []
    for part in pc.unique(parts["part"]).to_pylist():
        mine = parts.filter(pc.equal(parts["part"], part))
        plans.append(InvoicePlan(tuple(invoices_of(mine["invoice"])), (), (), provenance))
    merged = merge_plans(*plans)
    yield pa.RecordBatch.from_arrays([invoice_structs(merged.invoices)], schema=MERGED)
