"""Every engine behind one signature, for the suite that runs against all of them.

Each engine takes what :func:`plan_invoices` takes (records, config and the planning
options) and returns an :class:`InvoicePlan`; the worked examples and the properties run
against each (the ``engine`` fixture in conftest.py), the way ``whenever`` runs its whole
suite against both of its implementations. An input an engine cannot take (a record
that is no mapping, for a frame; a column of mixed types, for Parquet) skips that case
for that engine, never silently passes.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kravia_schedule import InvoicePlan, Purchase, merge_plans, plan_invoices

Engine = Callable[..., InvoicePlan]


def _mappings(records: Iterable[Any]) -> list[dict[str, Any]]:
    """The records as mappings (a :class:`Purchase` in its Dintero shape); skips the case
    when one is not a record at all (an error object, a number), which only the core
    takes from a stream."""
    out = []
    for record in records:
        if isinstance(record, Purchase):
            out.append(record.to_dict())
        elif isinstance(record, Mapping) and all(isinstance(k, str) for k in record):
            out.append(dict(record))
        else:
            pytest.skip(f"a frame holds only records, not {type(record).__name__}")
    return out


def _rows(records: list[Any]) -> list[dict[str, Any]]:
    """Each record with ``billing_address.<field>`` keys for its address's fields."""
    rows = []
    for record in records:
        row = {k: v for k, v in record.items() if k != "billing_address"}
        for k, v in record.get("billing_address", {}).items():
            row[f"billing_address.{k}"] = v
        rows.append(row)
    return rows


def flatten(records: list[Any]) -> Any:
    """A DataFrame of ``records`` with ``billing_address.<field>`` columns.

    A column whose values are all strings (or all integers) gets that type; a column
    mixing types (``12.5`` and ``"100"`` among integers) is an ``Object`` column, so
    every value stays what it was.
    """
    import polars as pl

    rows = _rows(records)
    names = list(dict.fromkeys(name for row in rows for name in row))
    columns = []
    for name in names:
        values = [row.get(name) for row in rows]
        kinds = {type(v) for v in values if v is not None}
        if kinds <= {str}:
            dtype = pl.String
        elif kinds == {int} and all(v is None or -(2**63) <= v < 2**63 for v in values):
            dtype = pl.Int64
        else:
            dtype = pl.Object
        columns.append(pl.Series(name, values, dtype=dtype))
    return pl.DataFrame(columns, schema=None) if columns else pl.DataFrame()


def _frame(records: Iterable[Any]) -> Any:
    return flatten(_mappings(records))


def core(records: Iterable[Any], config: Any = None, **options: Any) -> InvoicePlan:
    return plan_invoices(records, config, **options)


def frame(records: Iterable[Any], config: Any = None, **options: Any) -> InvoicePlan:
    from kravia_schedule.columnar import plan_frame

    return plan_frame(_frame(records), config, **options)


def frames(records: Iterable[Any], config: Any = None, **options: Any) -> InvoicePlan:
    from kravia_schedule.columnar import plan_frames

    return plan_frames(_frame(records), config, **options).to_plan()


def parquet(records: Iterable[Any], config: Any = None, **options: Any) -> InvoicePlan:
    import polars as pl

    from kravia_schedule.columnar import plan_parquet

    data = _frame(records)
    if not data.width:
        data = pl.DataFrame({"id": pl.Series([], dtype=pl.String)})
    if any(dtype == pl.Object for dtype in data.dtypes):
        pytest.skip("a column of mixed types is no Parquet column")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "purchases.parquet"
        data.write_parquet(path)
        return plan_parquet(path, config, batch_rows=3, **options).to_plan()


def spark_session() -> Any:
    """The one local Spark session of the test run (``local[2]``, no UI), made on first
    use; conftest.py's ``spark`` fixture stops it at the end of the session. Skips when
    Spark cannot start here (no Java 17+), saying why."""
    from kravia_schedule.spark import java_problem

    problem = java_problem()
    if problem is not None:
        pytest.skip(f"Spark tests skipped: {problem}")
    from pyspark.sql import SparkSession

    # The workers run this interpreter, so they import this checkout's kravia_schedule.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("kravia-schedule-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        # Tiny inputs: re-planning each stage at run time costs more than it saves.
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


#: The column-name prefix spark_table gives a column it writes as JSON text.
JSON = "json:"


def spark_table(records: Iterable[Any]) -> Any:
    """An Arrow table of ``records`` with ``billing_address.<field>`` columns, each of the
    one type its values have. A column no typed column holds as it is (values of mixed
    types, at any depth; an integer beyond 64 bits) is written as the JSON text of each
    value, named ``json:<name>``: :func:`spark_frame` makes it a VARIANT. Skips the case
    when a value has no JSON text that reads back as itself."""
    import pyarrow as pa

    rows = _rows(_mappings(records))
    names = list(dict.fromkeys(name for row in rows for name in row))
    columns = {}
    for name in names:
        values = [row.get(name) for row in rows]
        kinds = {type(v) for v in values if v is not None}
        try:
            column = pa.array(values, None if kinds else pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            column = None
        # Arrow makes one type of a column's values, nested ones too (1 and 1.5 doubles).
        if column is not None and _same(column.to_pylist(), values):
            columns[name] = column
            continue
        try:
            texts = [None if v is None else json.dumps(v, allow_nan=False) for v in values]
        except (TypeError, ValueError):  # no JSON value (NaN, an object)
            texts = []
        back = [None if t is None else json.loads(t) for t in texts]
        if not _same(back, values) or _too_long(values):
            pytest.skip(f"column {name!r} holds a value JSON does not give back")
        columns[JSON + name] = pa.array(texts, pa.string())
    return pa.table(columns) if columns else pa.table({"id": pa.array([], pa.string())})


def _too_long(value: Any) -> bool:
    """Whether ``value`` holds an integer of more than 38 digits (at any depth), more than
    a VARIANT's decimals hold."""
    if isinstance(value, dict):
        return any(_too_long(v) for v in value.values())
    if isinstance(value, list):
        return any(_too_long(v) for v in value)
    return type(value) is int and abs(value) >= 10**38


def spark_frame(records: Iterable[Any]) -> Any:
    """A Spark DataFrame of ``records`` on the shared session (:func:`spark_table`, its
    JSON columns parsed into VARIANTs), in the session's two partitions, in order."""
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    table = spark_table(records)
    # A naive datetime stays naive (TIMESTAMP_NTZ), as the core reads it: not in UTC.
    schema = from_arrow_schema(table.schema, prefer_timestamp_ntz=True)
    frame = spark_session().createDataFrame(table, schema=schema)
    return frame.select(
        *(F.parse_json(F.col(f"`{c}`")).alias(c[len(JSON) :]) if c.startswith(JSON)
          else F.col(f"`{c}`") for c in frame.columns)
    )  # fmt: skip


def _same(read: Any, given: Any) -> bool:
    """Whether Arrow gave back ``given`` value for value and type (an absent key of a
    struct reads as null)."""
    if isinstance(given, dict):
        return (
            isinstance(read, dict)
            and set(given) <= set(read)
            and all(_same(read[k], given.get(k)) for k in read)
        )
    if isinstance(given, list):
        return (
            isinstance(read, list)
            and len(read) == len(given)
            and all(_same(a, b) for a, b in zip(read, given, strict=True))
        )
    return type(read) is type(given) and read == given


def spark(
    records: Iterable[Any], config: Any = None, *, partitions: int = 7, **options: Any
) -> InvoicePlan:
    """plan_spark of ``records`` on the shared session, in ``partitions`` partitions per
    shuffle (the input in the session's two, in its order), collected back."""
    from kravia_schedule.spark import plan_spark

    result = plan_spark(spark_frame(records), config, partitions=partitions, **options)
    try:
        return result.to_plan()
    finally:
        result.unpersist()


def _part(record: Any, parts: int) -> int:
    """The part a record goes to: by its id, so every copy of an id meets in one part
    (merge_plans refuses an id planned in two)."""
    ident = record.get("id") if isinstance(record, Mapping) else getattr(record, "id", None)
    text = ident.strip() if isinstance(ident, str) else repr(ident)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass")).digest()[0] % parts


def merged(records: Iterable[Any], config: Any = None, **options: Any) -> InvoicePlan:
    """merge_plans of the plans of three parts; each rejection keeps its index in the
    whole input, as the plan of the whole reports it."""
    parts: list[list[int]] = [[], [], []]
    items = list(records)
    for index, record in enumerate(items):
        parts[_part(record, len(parts))].append(index)
    plans = []
    for part in parts:
        plan = plan_invoices([items[i] for i in part], config, **options)
        rejected = tuple(
            replace(r, index=None if r.index is None else part[r.index]) for r in plan.rejected
        )
        plans.append(replace(plan, rejected=rejected))
    return merge_plans(*plans)


ENGINES: dict[str, Engine] = {
    "core": core,
    "frame": frame,
    "frames": frames,
    "parquet": parquet,
    "merged": merged,
}
#: The engines that need the ``columnar`` extra.
COLUMNAR = {"frame", "frames", "parquet"}
#: plan_spark, which needs the ``spark`` extra, Java and the ``spark`` fixture's session;
#: its properties are in test_spark_engine.py, at Spark's own example count.
SPARK: dict[str, Engine] = {"spark": spark}
