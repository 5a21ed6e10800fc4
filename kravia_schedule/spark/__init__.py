"""Planning on Apache Spark: the plan of :func:`~kravia_schedule.plan_invoices`, for
purchases held in a Spark DataFrame (a lakehouse table, Parquet, JSON Lines).

Requires the ``spark`` extra (``pip install 'kravia-schedule[spark]'``) and a Java 17+
runtime::

    from kravia_schedule.spark import plan_spark

    result = plan_spark(spark.read.parquet("purchases/"), config, as_of=date(2026, 11, 25))
    result.invoices.write.parquet("invoices/")   # one row per invoice
    result.lines.write.parquet("lines/")         # one row per invoice line
    result.counts()                              # {"invoices": ..., "lines": ..., ...}

The rules are the core's, applied per partition by the columnar engine in the Python
workers; Spark only moves rows (see :mod:`kravia_schedule.spark.job`). The content of
the result is that of ``plan_invoices`` on the same records
(``result.to_plan() == plan_invoices(records, ...)``), whatever the partitioning.

**Modules**: :mod:`.rows` (the plan as Arrow rows and back), :mod:`.framed` (a columnar
plan's invoices as those rows, from its columns), :mod:`.tasks` (what a worker runs on
one partition), :mod:`.job` (the Spark plumbing), :mod:`.runtime` (:func:`java_problem`:
whether Spark can start here).
"""

from __future__ import annotations

try:
    import pyspark  # noqa: F401  (checked first: the job needs it)
except ImportError as error:
    raise ImportError(
        "kravia_schedule.spark needs pyspark, polars and pyarrow, which are optional: "
        "pip install 'kravia-schedule[spark]'"
    ) from error

from kravia_schedule.spark.job import SparkPlan, plan_spark
from kravia_schedule.spark.rows import AmountOverflowError
from kravia_schedule.spark.runtime import java_problem

__all__ = ["AmountOverflowError", "SparkPlan", "java_problem", "plan_spark"]
