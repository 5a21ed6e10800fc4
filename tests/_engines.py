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


def flatten(records: list[Any]) -> Any:
    """A DataFrame of ``records`` with ``billing_address.<field>`` columns.

    A column whose values are all strings (or all integers) gets that type; a column
    mixing types (``12.5`` and ``"100"`` among integers) is an ``Object`` column, so
    every value stays what it was.
    """
    import polars as pl

    rows = []
    for record in records:
        row = {k: v for k, v in record.items() if k != "billing_address"}
        for k, v in record.get("billing_address", {}).items():
            row[f"billing_address.{k}"] = v
        rows.append(row)
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
