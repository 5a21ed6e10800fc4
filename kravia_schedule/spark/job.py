"""The Spark job: :func:`plan_spark` and its result, :class:`SparkPlan`.

Only plumbing is written in Spark here; the rules are applied by the library's engines
in the Python workers (:mod:`kravia_schedule.spark.tasks`). The job:

1. shuffles the records by their transaction id, as the core reads it (stripped of
   surrounding whitespace), so every record of one id lands in one partition and the
   core settles repeats there as it would in one run;
2. plans each partition with the columnar engine (``mapInArrow``): its skipped purchases
   and rejections are final; each purchase that goes on an invoice comes out as its
   record with the id of its invoice (deterministic from its content: customer key,
   currency and period, or product type and transaction id);
3. shuffles those records by the invoice id, so all of one invoice's records are in one
   partition, and plans each partition again: every invoice is planned whole, with
   nothing to merge.

A rejection's ``index`` is its record's position in ``df`` (the order of ``df.collect()``):
each record carries Spark's row number (``monotonically_increasing_id``: its partition
and its place there) through the job, and the rejections' numbers are turned into
positions with the count of each of ``df``'s partitions (a second, column-less read).

Both plans' rows are persisted (``MEMORY_AND_DISK``): the four result frames read them,
and without it every action would plan the input again.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache, partial
from typing import Unpack

import pyarrow as pa
import pyarrow.compute as pc
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import StringType, StructType, VariantType

from kravia_schedule.columnar.reading import wanted_columns
from kravia_schedule.config import KraviaConfig
from kravia_schedule.invoices import InvoicePlan, PlanProvenance
from kravia_schedule.options import PlanOptions, PlanOptionsArgs
from kravia_schedule.planning import merge_plans, plan_invoices
from kravia_schedule.spark.rows import (
    INVOICE,
    invoices_of,
    rejections_of,
    skipped_of,
)
from kravia_schedule.spark.tasks import (
    ID_KEY_PREFIX,
    INVOICED,
    LINE_KIND,
    OUTCOME,
    REJECTED_KIND,
    SKIPPED_KIND,
    invoice_part,
    settle_part,
)

__all__ = [
    "POSITION_BITS",
    "PURCHASES_PER_PARTITION",
    "SparkPlan",
    "default_partitions",
    "id_strip_pattern",
    "invoice_task",
    "partition_counts",
    "plan_spark",
    "positions",
    "settle_task",
]


@cache
def id_strip_pattern() -> str:
    """A Java regular expression for the characters ``str.strip()`` takes off an id's
    ends (Python's whitespace, read from Python itself), at either end (made once: it
    reads every code point)."""
    spaces = [c for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    ranges: list[list[int]] = []
    for c in spaces:
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    members = "".join(
        f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges
    )
    return rf"\A[{members}]+|[{members}]+\z"


def _partition_key(df: DataFrame, columns: list[str]) -> Column:
    """Equal for every record of one transaction id as the core reads it.

    A record without a usable id (null, blank, not text) is rejected on its own, with
    no bearing on any other: it is spread by a hash of the values read (a VARIANT, which
    Spark cannot hash, by its JSON text).
    """
    types = {field.name: field.dataType for field in df.schema.fields}
    read = [
        F.to_json(F.col(f"`{name}`")) if isinstance(types[name], VariantType)
        else F.col(f"`{name}`")
        for name in columns
    ]  # fmt: skip
    everything = F.xxhash64(*read).cast("string") if read else F.lit("")
    given = types.get("id") if "id" in columns else None
    if isinstance(given, StringType):
        text = F.col("id")
    elif isinstance(given, VariantType):  # text only when the value is a JSON string
        is_text = F.schema_of_variant(F.col("id")) == F.lit("STRING")
        text = F.when(is_text, F.variant_get(F.col("id"), "$", "string"))
    else:
        return everything
    stripped = F.regexp_replace(text, id_strip_pattern(), "")
    return F.when(F.length(stripped) > 0, F.concat(F.lit(ID_KEY_PREFIX), stripped)).otherwise(
        everything
    )


#: Spark's row numbers (``monotonically_increasing_id``) hold the row's place in its
#: partition in their low 33 bits, the partition above.
POSITION_BITS = 33


def _columns_back(
    batches: Iterable[pa.RecordBatch], names: list[str], extra: int
) -> tuple[pa.Table, list[pa.Array]]:
    """A Spark task's batches as one table whose columns (they come by position, see
    plan_spark) have their names back, and the ``extra`` columns after them."""
    given = list(batches)
    if not given:
        return pa.table({name: [] for name in names}), [pa.array([]) for _ in range(extra)]
    table = pa.Table.from_batches(given)
    records = table.select(range(len(names))).rename_columns(names)
    return records, [table.column(len(names) + i) for i in range(extra)]


def settle_task(
    names: list[str],
    config: KraviaConfig,
    options: PlanOptions,
    batches: Iterable[pa.RecordBatch],
) -> Iterator[pa.RecordBatch]:
    """:func:`settle_part` of a Spark task's batches: the records' columns, then each
    record's row number and its shuffle key; the rows come out with the records' columns
    named by position again (``c0``, ``c1``, …)."""
    records, (rows, keys) = _columns_back(batches, names, 2)
    numbers = rows.to_pylist()
    positional = [f"c{i}" for i in range(len(names))]
    for batch in settle_part(records, keys, config, options, numbers):
        yield pa.RecordBatch.from_arrays(batch.columns, names=[*positional, *OUTCOME.names])


def invoice_task(
    names: list[str],
    config: KraviaConfig,
    options: PlanOptions,
    batches: Iterable[pa.RecordBatch],
) -> Iterator[pa.RecordBatch]:
    """:func:`invoice_part` of a Spark task's batches (the records' columns by position)."""
    records, _ = _columns_back(batches, names, 0)
    return invoice_part(records, config, options)


def partition_counts(df: DataFrame) -> DataFrame:
    """``p, count``: how many rows each partition of ``df`` holds (one row per partition
    that holds any: a read of ``df`` without its columns)."""
    return df.select(F.spark_partition_id().alias("p")).groupBy("p").count()


def positions(rows: Sequence[int | None], counts: Mapping[int, int]) -> list[int | None]:
    """Spark's row numbers (see :data:`POSITION_BITS`) as positions in the whole input:
    the rows of the partitions before the row's own, plus its place in its own. ``counts``
    is each partition's row count (:func:`partition_counts`)."""
    before, seen = {}, 0
    for p in sorted(counts):
        before[p], seen = seen, seen + counts[p]
    mask = (1 << POSITION_BITS) - 1
    return [None if r is None else before[r >> POSITION_BITS] + (r & mask) for r in rows]


def _positioned(counts: DataFrame, rejected: DataFrame) -> DataFrame:
    """``rejected`` with each ``index`` (a row number) turned into a position, as
    :func:`positions` does, in Spark."""
    window = Window.orderBy("p").rowsBetween(Window.unboundedPreceding, -1)
    # One row per partition of the input: a window over them all is cheap.
    before = counts.select("p", F.coalesce(F.sum("count").over(window), F.lit(0)).alias("at"))
    mask = (1 << POSITION_BITS) - 1
    return (
        rejected.withColumn("p", F.shiftright("index", POSITION_BITS).cast("int"))
        .join(F.broadcast(before), "p", "left")
        .select("transaction_id", "problems",
                (F.col("at") + F.col("index").bitwiseAND(F.lit(mask))).alias("index"))
    )  # fmt: skip


@dataclass(frozen=True, eq=False)
class SparkPlan:
    """The plan of a Spark DataFrame of purchases, as Spark DataFrames.

    ``invoices``: one row per invoice, the fields of :data:`~kravia_schedule.spark.rows.
    INVOICE` but ``lines`` (its ``vat_breakdown`` the totals per VAT rate), and
    ``transaction_ids`` in line order. ``lines``: one row per invoice line: ``invoice_id,
    line`` (1, 2, … in line order) and the line's fields (its ``items`` the purchase's
    order lines with their descriptions). ``skipped`` and ``rejected``: one row per
    skipped purchase and rejection (a rejection's ``index``: its record's position in
    the input DataFrame, see :mod:`~kravia_schedule.spark.job`). No order is promised
    (sort by the columns you need); the rows are the same whatever the partitioning,
    and but for ``index`` whatever the input's order.
    """

    invoices: DataFrame
    lines: DataFrame
    skipped: DataFrame
    rejected: DataFrame
    provenance: PlanProvenance
    #: Both plans' rows, persisted (see :meth:`unpersist`): the first plan's (the records
    #: that go on invoices, the skipped purchases, the rejections) and the invoices.
    settled: DataFrame
    invoiced: DataFrame
    #: The input's rows per partition (:func:`partition_counts`): a rejection's position.
    input_counts: DataFrame

    def counts(self) -> dict[str, int]:
        """How many invoices, lines, skipped purchases and rejections (the only figures
        the job brings to the driver)."""
        kinds: dict[str, int] = dict(self.settled.groupBy("kind").count().collect())
        invoices = self.invoiced.count()
        return {
            "invoices": int(invoices),
            "lines": int(kinds.get(LINE_KIND, 0)),
            "skipped": int(kinds.get(SKIPPED_KIND, 0)),
            "rejected": int(kinds.get(REJECTED_KIND, 0)),
        }

    def to_plan(self) -> InvoicePlan:
        """The whole :class:`InvoicePlan`, collected to the driver (for tests and small
        inputs): equal to ``plan_invoices`` on the same records, taken in the order of
        ``df.collect()`` (that order gives the rejections' ``index``)."""
        invoices = invoices_of(self.invoiced.toArrow()["invoice"])
        # The skipped and the rejected in one job, the rejections positioned here.
        others = self.settled.filter(F.col("kind") != LINE_KIND).select(*OUTCOME.names).toArrow()
        kinds = others["kind"]
        skipped = skipped_of(others.filter(pc.equal(kinds, SKIPPED_KIND))["skipped"])
        numbered = rejections_of(others.filter(pc.equal(kinds, REJECTED_KIND))["rejected"])
        where = positions([r.index for r in numbered], dict(self.input_counts.collect()))
        rejected = [replace(r, index=i) for r, i in zip(numbered, where, strict=True)]
        # One plan through merge_plans: the core's order of invoices, skipped, rejected.
        return merge_plans(
            InvoicePlan(tuple(invoices), tuple(skipped), tuple(rejected), self.provenance)
        )

    def unpersist(self) -> None:
        """Free the persisted rows of both plans."""
        self.invoiced.unpersist()
        self.settled.unpersist()


#: The purchases a partition is given by default: a partition's plan has a fixed cost
#: (the columnar engine's steps and look-ups) worth spreading over many purchases, and a
#: Python worker holds its partition's records and plan in memory.
PURCHASES_PER_PARTITION = 125_000


def default_partitions(purchases: int, parallelism: int) -> int:
    """How many partitions a shuffle of ``purchases`` makes by default: enough for
    :data:`PURCHASES_PER_PARTITION` each, and at least one per core (``parallelism``)."""
    return max(1, parallelism, -(-purchases // PURCHASES_PER_PARTITION))


def plan_spark(
    df: DataFrame,
    config: KraviaConfig | None = None,
    *,
    partitions: int | None = None,
    options: PlanOptions | None = None,
    **changes: Unpack[PlanOptionsArgs],
) -> SparkPlan:
    """Plan the purchases of the Spark DataFrame ``df`` on its cluster.

    ``df`` has the columns :func:`~kravia_schedule.columnar.plan_frame` reads (``id,
    created_at, amount, vat_amount, currency, status, payment_product_type,
    merchant_reference``, the billing address as a struct column ``billing_address`` or
    as ``billing_address.<field>`` columns; others are ignored), e.g. read from Parquet
    or a table. A VARIANT column (raw JSON whose values differ in type from record to
    record, e.g. ``parse_json`` of the text) is read value by value as the core reads
    JSON: an amount of ``1.5`` among integers is rejected as the core rejects it, where
    a typed column would have made every amount a double. ``partitions`` is how many
    partitions each shuffle makes (default :func:`default_partitions`); the options are
    those of ``plan_invoices``.
    ``plan_spark(df, ...).to_plan() == plan_invoices(records, ...)``.
    """
    config = config if config is not None else KraviaConfig.all_enabled()
    options = PlanOptions.of(options, **changes)  # checked here, before any job
    provenance = plan_invoices([], config, options=options).provenance
    if partitions is None:
        partitions = default_partitions(df.count(), df.sparkSession.sparkContext.defaultParallelism)
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, got {partitions}")
    # mapInArrow cannot pass a column whose name has a dot (billing_address.country):
    # the columns go by position and the tasks give them back their names.
    names = wanted_columns(df.columns)  # what the columnar engine reads, in their order
    positional = [f"c{i}" for i in range(len(names))]
    keyed = df.select(
        *(F.col(f"`{name}`").alias(c) for name, c in zip(names, positional, strict=True)),
        F.monotonically_increasing_id().alias("row"),
        _partition_key(df, names).alias("key"),
    )
    # The records' columns come back out of the first plan as they went in.
    settled_schema = StructType(
        [*keyed.schema.fields[: len(names)], *from_arrow_schema(OUTCOME).fields]
    )
    settled = (
        keyed.repartition(partitions, "key")
        .mapInArrow(partial(settle_task, names, config, options), settled_schema)
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    invoiced = (
        settled.filter(F.col("kind") == LINE_KIND)
        .repartition(partitions, "invoice_id")
        .select(*positional)
        .mapInArrow(partial(invoice_task, names, config, options), from_arrow_schema(INVOICED))
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    header = [f"invoice.{field.name}" for field in INVOICE]
    invoices = invoiced.select(
        *(F.col(name) for name in header if name != "invoice.lines"),
        F.transform("invoice.lines", lambda line: line["transaction_id"]).alias("transaction_ids"),
    )
    lines = invoiced.select(
        F.col("invoice.id").alias("invoice_id"), F.posexplode("invoice.lines")
    ).select("invoice_id", (F.col("pos") + 1).alias("line"), "col.*")
    skipped = settled.filter(F.col("kind") == SKIPPED_KIND).select("skipped.*")
    counts = partition_counts(df)
    rejected = _positioned(
        counts, settled.filter(F.col("kind") == REJECTED_KIND).select("rejected.*")
    )
    return SparkPlan(invoices, lines, skipped, rejected, provenance, settled, invoiced, counts)
