"""What the Spark job's Python workers run on one partition: pure functions of Arrow
tables, so they can be run and tested without Spark.

:func:`settle_part` plans one partition of the input (every record of an id in it) with
the columnar engine, which settles repeated ids as the core does: its skipped purchases
and rejections are final, and each purchase that goes on an invoice is passed on as its
own record with the id of its invoice. :func:`invoice_part` plans those records again
once every record of an invoice is in one partition (shuffled by the invoice id), so
each invoice is planned whole and no partial invoices are merged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import polars as pl
import pyarrow as pa
from pyspark.sql.pandas.types import is_variant
from pyspark.sql.types import VariantVal

from kravia_schedule.columnar import plan_frames
from kravia_schedule.config import KraviaConfig
from kravia_schedule.options import PlanOptions
from kravia_schedule.spark.framed import frame_invoice_structs
from kravia_schedule.spark.rows import (
    INVOICE,
    REJECTION,
    SKIPPED,
    rejection_structs,
    skipped_structs,
)

__all__ = ["ID_KEY_PREFIX", "INVOICED", "LINE_KIND", "OUTCOME", "REJECTED_KIND", "SKIPPED_KIND",
           "RepeatedPlanError", "invoice_part", "json_value", "python_values",
           "settle_part"]  # fmt: skip

LINE_KIND, SKIPPED_KIND, REJECTED_KIND = "line", "skipped", "rejected"

#: Begins the shuffle key of a record with a usable id: the id as the core reads it.
ID_KEY_PREFIX = "="

#: What :func:`settle_part` adds to a record: ``kind`` says whether the row is a record
#: that goes on an invoice (``invoice_id``; the record's own columns before these), a
#: skipped purchase or a rejection (the other columns null).
OUTCOME = pa.schema(
    [("kind", pa.string()), ("invoice_id", pa.string()), ("skipped", SKIPPED),
     ("rejected", REJECTION)]
)  # fmt: skip

#: The invoices planned whole: one row per invoice of the whole plan.
INVOICED = pa.schema([("invoice", INVOICE)])


class RepeatedPlanError(RuntimeError):
    """Records that went on invoices when first planned were skipped or rejected when
    planned again (the rules would then depend on which records share a partition)."""


def settle_part(
    records: pa.Table,
    keys: pa.Array | pa.ChunkedArray,
    config: KraviaConfig,
    options: PlanOptions,
    rows: Sequence[int] | None = None,
) -> Iterator[pa.RecordBatch]:
    """The plan of ``records`` (one partition, every record of one transaction id in it):
    rows of ``records``' columns followed by :data:`OUTCOME`'s.

    A purchase that goes on an invoice is its record (the first of its id, the one the
    core keeps) with the invoice's id; a skipped purchase or rejection is a row of its
    own (a rejection's ``index`` is ``rows[i]`` for the partition's ``i``-th record when
    ``rows`` is given, see :func:`rejection_structs`). ``keys`` holds each record's
    shuffle key: :data:`ID_KEY_PREFIX` and the id as the core reads it, when it has one.
    """
    if not records.num_rows:
        return
    plan = plan_frames(python_values(records), config, lines=False, options=options)
    lines = (
        plan.invoices.lazy()
        .select(pl.col("id").alias("invoice_id"), pl.col("transaction_ids").alias("key"))
        .explode("key")
    )
    firsts = (
        pl.DataFrame({"key": pl.Series(keys, dtype=pl.String)})
        .lazy()
        .with_row_index("at")
        .filter(pl.col("key").str.starts_with(ID_KEY_PREFIX))
        .select(pl.col("key").str.slice(len(ID_KEY_PREFIX)), "at")
        .unique("key", keep="first")
    )
    found = lines.join(firsts, on="key", how="left").collect()
    if found["at"].null_count():  # the keys were made from the ids the core reads
        missing = found.filter(pl.col("at").is_null())["key"].head(5).to_list()
        raise RepeatedPlanError(f"invoiced transactions without their record: {missing}")
    if found.height:
        chosen = records.take(found["at"].to_arrow())
        yield _outcome(chosen, LINE_KIND, invoice_id=found["invoice_id"].to_arrow())
    empty = records.schema.empty_table()
    if plan.skipped:
        skipped = skipped_structs(plan.skipped)
        yield _outcome(_nulls(empty, len(skipped)), SKIPPED_KIND, skipped=skipped)
    if plan.rejected:
        rejected = rejection_structs(plan.rejected, rows)
        yield _outcome(_nulls(empty, len(rejected)), REJECTED_KIND, rejected=rejected)


def _nulls(empty: pa.Table, count: int) -> pa.Table:
    return pa.table([pa.nulls(count, f.type) for f in empty.schema], schema=empty.schema)


def _outcome(records: pa.Table, kind: str, **columns: pa.Array) -> pa.RecordBatch:
    """``records`` (combined into one batch) and their :data:`OUTCOME` columns."""
    count = records.num_rows
    extra = [
        columns[f.name].cast(f.type) if f.name in columns else pa.nulls(count, f.type)
        for f in OUTCOME
    ]  # Polars gives large strings: cast to the schema's
    extra[0] = pa.array([kind] * count, pa.string())
    arrays = [column.combine_chunks() for column in records.columns]
    return pa.RecordBatch.from_arrays(
        [*arrays, *extra], names=[*records.column_names, *OUTCOME.names]
    )


def invoice_part(
    records: pa.Table, config: KraviaConfig, options: PlanOptions
) -> Iterator[pa.RecordBatch]:
    """The invoices of ``records`` (rows :func:`settle_part` passed on, every record of
    one invoice among them), as rows of :data:`INVOICED`."""
    if not records.num_rows:
        return
    plan = plan_frames(python_values(records), config, options=options)
    skipped, rejected = plan.residue_counts()
    if skipped or rejected:
        raise RepeatedPlanError(
            f"{skipped} skipped and {rejected} rejected among records planned on invoices"
        )
    yield pa.RecordBatch.from_arrays([frame_invoice_structs(plan)], schema=INVOICED)


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
