"""Planning a Parquet file too large for memory: :func:`plan_parquet`, in batches.

Placed lines are spilled to temporary Parquet files with their issue date and grouped
one range of issue dates at a time, which gives the plan's order without sorting the
whole result.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from typing import Any, Unpack

import polars as pl

from kravia_schedule._gc import cyclic_gc_paused
from kravia_schedule.columnar import placing
from kravia_schedule.columnar.addresses import (
    PY_WHITESPACE,
)
from kravia_schedule.columnar.frames import (
    frame_plan,
    group,
    plan_residue,
    plan_rows,
    rest_rows,
)
from kravia_schedule.columnar.lookups import Lookups
from kravia_schedule.columnar.marking import mark
from kravia_schedule.columnar.placing import row_schema
from kravia_schedule.columnar.reading import as_text, from_frame, import_pyarrow, wanted_columns
from kravia_schedule.columnar.result import FramePlan, StoredResidue
from kravia_schedule.config import KraviaConfig
from kravia_schedule.dates import InvoiceDates
from kravia_schedule.invoices import InvoicePlan
from kravia_schedule.options import PlanOptions, PlanOptionsArgs
from kravia_schedule.planning import merge_plans, plan_invoices

#: The columns of a placed line only :meth:`FramePlan.to_plan` needs (not spilled when
#: planning with ``lines=False``).
_LINE_ONLY = ["row", "created_at", "merchant_reference"]


def plan_parquet(
    path: str | os.PathLike[str],
    config: KraviaConfig | None = None,
    *,
    batch_rows: int = 1 << 20,
    lines: bool = True,
    options: PlanOptions | None = None,
    **changes: Unpack[PlanOptionsArgs],
) -> FramePlan:
    """:func:`plan_frames` of a Parquet file too large for memory, read in batches.

    1. A first pass hashes every (stripped) transaction id; the rows of an id that
       occurs more than once in the file (or shares the hash of one that does) are
       planned together by the core at the end, so repeats are settled as the core
       settles them however far apart they are.
    2. Each batch of ``batch_rows`` rows: its plainly valid rows are placed as in
       :func:`plan_frames` (addresses, days and periods already seen are not looked up
       again) and spilled to a temporary Parquet file with their issue date (its rows
       missing only their amounts are rejected as there too); its other rows are
       planned by the core (their ids occur once in the file, so the plans of
       the batches merge with ``merge_plans``), on a thread while the next batch is
       read and placed.
    3. The spilled lines are grouped into invoices one range of issue dates at a time
       (a grouped invoice's lines share their issue date), which gives the plan's
       invoice order without sorting the whole result.

    Peak memory is the customer keys and addresses seen, one batch (or the lines of one
    range of issue dates), and, at the end, the result (``lines=False`` keeps 16 bytes
    per transaction id): each range's invoices are written to a temporary file and read
    back once grouping is done. The skipped purchases and rejections are kept as frames
    (:attr:`FramePlan.stored`) and built into objects when :attr:`FramePlan.skipped` and
    :attr:`FramePlan.rejected` are first read. The result equals :func:`plan_frames` of
    the whole file and ``merge_plans`` of the plans of its parts.

    Polars' allocator keeps the pages each batch frees for a while; set
    ``_RJEM_MALLOC_CONF=dirty_decay_ms:0,muzzy_decay_ms:0`` in the environment before
    Polars is imported to have them returned at once (``python -m benchmarks.columnar
    --stream`` does).
    """
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be positive, got {batch_rows}")
    options = PlanOptions.of(options, **changes)
    config = config if config is not None else KraviaConfig.all_enabled()
    provenance = plan_invoices([], config, options=options).provenance
    # Not pre-buffered: a pre-buffering reader keeps every column chunk it has read until
    # it is done with the file: for a file larger than memory, most of the file.
    parquet = import_pyarrow("pyarrow.parquet").ParquetFile(os.fspath(path), pre_buffer=False)
    columns = wanted_columns(parquet.schema_arrow.names)
    repeated = (
        _repeated_ids(parquet, batch_rows) if "id" in columns else pl.Series([], dtype=pl.UInt64)
    )
    lookups = Lookups(config, provenance)
    residues: list[InvoicePlan] = []
    # The residue's skipped purchases and rejections (~3 % of a typical file), as frames:
    # as Python objects, those of a large file would take gigabytes.
    stored = StoredResidue()
    held_records: list[Any] = []
    held_rows: list[int] = []
    per_day: Counter[date] = Counter()
    drop = [] if lines else _LINE_ONLY
    pending: Future[InvoicePlan] | None = None
    with (
        tempfile.TemporaryDirectory(prefix="kravia-") as spill,
        cyclic_gc_paused(),
        ThreadPoolExecutor(1) as pool,
    ):
        spilled = os.path.join(spill, "lines")
        os.mkdir(spilled)
        offset = 0
        parts = 0
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns):
            converted = pl.from_arrow(batch)
            assert isinstance(converted, pl.DataFrame)
            frame, records = from_frame(converted)
            held = _id_hash(frame["id"]).is_in(repeated.implode()).fill_null(False)
            held_local = frame.filter(held)["row"].to_list()
            held_records += records(held_local)
            held_rows += [offset + row for row in held_local]
            frame = frame.filter(~held)
            placed = placing.place(mark(frame, config), config, lookups, provenance.strict)
            rest = rest_rows(frame, placed, stored, offset)
            # The core plans a batch's other rows on a thread while the next batch is
            # read and placed (Polars lets go of the GIL); the plan is kept here.
            planning = pool.submit(plan_rows, records, rest, config, options, offset)
            if pending is not None:
                residues.append(stored.keep(pending.result()))
            pending = planning
            parts += _spill(lookups.dates, placed.lines.drop(drop), spilled, parts, per_day)
            offset += batch.num_rows
        if pending is not None:
            residues.append(stored.keep(pending.result()))
        residues.append(stored.keep(plan_residue(held_records, held_rows, config, options)))
        residue = merge_plans(*residues)
        del residues, held_records, held_rows
        rows = placing.residue_rows(residue, lookups).drop(drop)
        parts += _spill(lookups.dates, rows, spilled, parts, per_day)
        schema = {k: v for k, v in _spill_schema().items() if k not in drop}
        scan = pl.scan_parquet(os.path.join(spilled, "*.parquet"), schema=schema)
        # Each range's invoices go to a file too and are read back at the end, so the
        # grouping's transient frames are freed before the result is loaded (parts held
        # while the next ranges are grouped fragment memory and raise the peak).
        results: list[str | pl.DataFrame] = []
        details: list[pl.DataFrame] = []
        for low, high in _day_ranges(per_day, batch_rows):
            rows = scan.filter(pl.col("issue").is_between(low, high)).drop("issue").collect()
            part, detail = group(rows, lookups, lines=lines)
            del rows
            results.append(_spill_invoices(part, spill, len(results)))
            if detail is not None:
                details.append(detail)
        if not results:
            part, detail = group(_no_rows().drop(drop), lookups, lines=lines)
            results, details = [part], [detail] if detail is not None else []
        lookups.release()
        invoices = [r if isinstance(r, pl.DataFrame) else pl.read_parquet(r) for r in results]
        return frame_plan(
            provenance,
            lookups,
            pl.concat(invoices, how="vertical_relaxed", rechunk=False),
            pl.concat(details, rechunk=False) if lines else None,
            residue,
            stored.done(),
        )


def _id_hash(ids: pl.Series) -> pl.Series:
    """A 64-bit hash of the id the core would use (null for a missing id)."""
    key = pl.col("id").str.strip_chars(PY_WHITESPACE)
    return ids.to_frame("id").select(pl.when(key.is_not_null()).then(key.hash())).to_series()


def _repeated_ids(parquet: Any, batch_rows: int) -> pl.Series:
    """The hashes of the ids that occur more than once in the file (8 bytes per row,
    sorted once)."""
    hashes: list[pl.Series] = []
    for batch in parquet.iter_batches(batch_size=batch_rows, columns=["id"]):
        column = pl.from_arrow(batch.column(0))
        assert isinstance(column, pl.Series)
        text, _ = as_text(column, len(column))
        hashes.append(_id_hash(text).drop_nulls())
    if not hashes:
        return pl.Series([], dtype=pl.UInt64)
    everything = pl.concat(hashes, rechunk=True).sort()
    del hashes
    same = everything.slice(1) == everything.slice(0, len(everything) - 1)
    return everything.slice(1).filter(same).unique()


def _spill(
    dates: Sequence[InvoiceDates],
    rows: pl.DataFrame,
    spill: str,
    part: int,
    per_day: Counter[date],
) -> int:
    """Write ``rows`` (lines placed on invoices) with their issue date to the spill
    directory (``dates`` by ``dates`` index); the number of files written."""
    if not rows.height:
        return 0
    issue = pl.Series([d.issue_date for d in dates], dtype=pl.Date)
    rows = rows.with_columns(issue=issue.gather(rows["dates"])).sort("issue")
    per_day.update(dict(rows["issue"].value_counts().iter_rows()))
    rows.write_parquet(os.path.join(spill, f"{part:06d}.parquet"), row_group_size=1 << 16)
    return 1


def _spill_invoices(part: pl.DataFrame, spill: str, index: int) -> str | pl.DataFrame:
    """``part`` written to the spill directory (its path), or ``part`` itself if Parquet
    cannot hold it (128-bit amounts)."""
    if part.schema["amount"] != pl.Int64:
        return part
    path = os.path.join(spill, f"invoices-{index:06d}.parquet")
    part.write_parquet(path, statistics=False)
    return path


def _spill_schema() -> dict[str, Any]:
    return {**row_schema(), "issue": pl.Date}


def _no_rows() -> pl.DataFrame:
    """No placed lines: an empty frame of their columns."""
    return pl.DataFrame(schema=row_schema())


def _day_ranges(per_day: Mapping[date, int], target: int) -> list[tuple[date, date]]:
    """Consecutive ranges of issue dates of about ``target`` lines each."""
    ranges: list[tuple[date, date]] = []
    low: date | None = None
    count = 0
    for day in sorted(per_day):
        low = day if low is None else low
        count += per_day[day]
        if count >= target:
            ranges.append((low, day))
            low, count = None, 0
    if low is not None:
        ranges.append((low, max(per_day)))
    return ranges
