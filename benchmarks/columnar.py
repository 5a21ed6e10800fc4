"""The columnar planner against pandas and a bare Polars group-by, on the same data.

    python -m benchmarks.columnar --n 1000000            # in memory, all engines
    python -m benchmarks.columnar --n 100000 --check     # also compare with plan_invoices
    python -m benchmarks.columnar --n 10000000 --rounds 3  # 2 more plan/pandas pairs
    python -m benchmarks.columnar --n 100000000 --parquet /tmp/p.parquet --write
    python -m benchmarks.columnar --n 100000000 --parquet /tmp/p.parquet --stream

In memory (same data, each engine in a process of its own): ``plan_frames`` (the
columnar plan: a frame of invoices), ``plan_frames(lines=False)`` (only the ids of each
invoice's lines, as the pandas job keeps) and ``FramePlan.to_plan()`` (materializing the
``InvoicePlan``), the pandas job (:func:`benchmarks.baselines.pandas_job`) and the bare
Polars ``group_by`` (:func:`benchmarks.baselines.polars_job`) on precomputed keys.
Neither baseline's frame building is timed; nor is the columnar plan's (the data is a
Polars frame already).

``--stream`` writes the data to a Parquet file (unless it exists) and plans it with
``plan_parquet(lines=False)``: time, peak RSS and bytes per purchase held by the result.

The data: :func:`frame` is a vectorized twin of :func:`benchmarks.generate.purchases`
(same customer pool helper, Zipf-like weights, 1-3 references per company, NO/SE/FI,
two years from 2024, ~2 % voided), fast enough for 10^8 rows. Invalid records have no
``amount`` (a Parquet column cannot mix a float into integers).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# Polars' allocator (jemalloc) keeps freed pages for a while; over a long out-of-core run
# the pages freed by each batch and range pile up faster than they are returned. Return
# them at once. Read when Polars loads: set before the import, unless the caller set it.
# Only for --stream: in memory, returning every freed page at once costs time (35.6 s
# against 29.0 s for plan_frames at 10^7), and the peak is not the question there.
if __name__ == "__main__" and "--stream" in sys.argv:
    os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")

import numpy as np
import polars as pl

from benchmarks import baselines
from benchmarks.generate import VOIDED_SHARE, customers
from benchmarks.suite import run_json

_CURRENCY = {"NO": "NOK", "SE": "SEK", "FI": "EUR"}
_START = 1_704_067_200  # 2024-01-01T00:00:00Z
_GROUPED = "kravia.invoice_b2b_grouped"
#: At most this many companies in the pool (the Python generator uses n // 5).
MAX_COMPANIES = 1_000_000


class Data:
    """The customer pool and its sampling weights for ``n`` purchases."""

    def __init__(self, n: int, seed: int = 1) -> None:
        companies = min(max(10, n // 5), MAX_COMPANIES)
        pool = customers(random.Random(seed), companies)
        fields = list(dict.fromkeys(k for a in pool for k in a))
        self.addresses = pl.Series(
            "billing_address", pool, dtype=pl.Struct(dict.fromkeys(fields, pl.String))
        )
        self.currency = pl.Series([_CURRENCY[a["country"]] for a in pool])
        weights = 1 / np.arange(1, len(pool) + 1)
        self.cdf = np.cumsum(weights / weights.sum())
        self.n = n
        self.seed = seed

    def chunks(self, size: int = 1_000_000) -> Iterator[pl.DataFrame]:
        rng = np.random.default_rng(self.seed)
        for first in range(0, self.n, size):
            yield self._chunk(rng, first, min(size, self.n - first))

    def _chunk(self, rng: np.random.Generator, first: int, n: int) -> pl.DataFrame:
        chosen = np.minimum(np.searchsorted(self.cdf, rng.random(n)), len(self.cdf) - 1)
        seconds = _START + rng.integers(0, 2 * 365 * 86400, n)
        amount = rng.integers(1_000, 5_000_000, n)
        voided = rng.random(n) < VOIDED_SHARE
        invalid = rng.random(n) < 0.01
        number = pl.int_range(first, first + n, eager=True).cast(pl.String)
        index = pl.Series(chosen)
        return pl.DataFrame(
            {
                "id": "T" + number.str.zfill(9),
                "created_at": pl.from_epoch(pl.Series(seconds), "s").dt.strftime(
                    "%Y-%m-%dT%H:%M:%S+00:00"
                ),
                "amount": pl.Series(amount).set(pl.Series(invalid), None),
                "vat_amount": pl.Series(amount // 5),
                "currency": self.currency.gather(index),
                "status": pl.Series(np.where(voided, "AUTHORIZATION_VOIDED", "AUTHORIZED")),
                "payment_product_type": pl.repeat(_GROUPED, n, eager=True),
                "merchant_reference": "order-" + number,
                "billing_address": self.addresses.gather(index),
            }
        )


def frame(n: int, seed: int = 1) -> pl.DataFrame:
    """``n`` purchases as one Polars frame (struct ``billing_address``)."""
    return pl.concat(Data(n, seed).chunks(), rechunk=True)


def write_parquet(path: Path, n: int, seed: int = 1, row_group_size: int | None = None) -> None:
    """``n`` purchases to a Parquet file, one row group per million (or per
    ``row_group_size`` rows: Spark reads a row group a task)."""
    import pyarrow.parquet as pq

    writer = None
    try:
        for chunk in Data(n, seed).chunks():
            table = chunk.to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(str(path) + ".part", table.schema)
            writer.write_table(table, row_group_size=row_group_size)
    finally:
        if writer is not None:
            writer.close()
    os.replace(str(path) + ".part", path)


def pandas_input(df: pl.DataFrame) -> Any:
    """:func:`baselines.pandas_frame`'s DataFrame, from the Polars frame."""
    address = pl.col("billing_address").struct
    return df.select(
        "id",
        "created_at",
        "amount",
        "vat_amount",
        pl.col("amount").is_not_null().alias("money_is_int"),
        "currency",
        "status",
        pl.col("payment_product_type").alias("product_type"),
        address.field("business_name"),
        address.field("organization_number"),
        address.field("country"),
        address.field("customer_reference"),
    ).to_pandas()


#: The rows the grouped job keeps: the generated frame's invalid rows have no amount.
KEPT = (
    pl.col("amount").is_not_null()
    & (pl.col("status") == "AUTHORIZED")
    & (pl.col("payment_product_type") == _GROUPED)
)
#: The customer key columns (baselines.KEY_COLUMNS but currency) out of the address.
KEY_FIELDS = [
    *(pl.col("billing_address").struct.field(f) for f in baselines.KEY_COLUMNS[:3]),
    pl.col("billing_address").struct.field("customer_reference").fill_null(""),
]


def polars_input(df: pl.DataFrame) -> pl.DataFrame:
    """:func:`baselines.polars_frame`'s precomputed frame, from the Polars frame."""
    valid = df.filter(KEPT).select("created_at", "amount", "vat_amount", "currency", *KEY_FIELDS)
    utc = pl.col("created_at").str.to_datetime(time_zone="UTC")
    local: Any = pl
    for country, zone in baselines.ZONES.items():
        here = utc.dt.convert_time_zone(zone).dt.replace_time_zone(None)
        local = local.when(pl.col("country") == country).then(here)
    return valid.with_columns(period_start=local.dt.month_start().dt.date()).drop("created_at")


def records(df: pl.DataFrame) -> list[dict[str, Any]]:
    """The Dintero-shaped records of the frame's rows (absent fields left out)."""
    out = []
    for row in df.iter_rows(named=True):
        record = {k: v for k, v in row.items() if v is not None and k != "billing_address"}
        record["billing_address"] = {k: v for k, v in row["billing_address"].items() if v}
        out.append(record)
    return out


def peak_rss() -> int:
    """The process's peak resident set size in bytes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        result = None
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def held_bytes(plan: Any) -> int:
    """Bytes of the Polars frames a FramePlan holds (Arrow buffers)."""
    frames = [plan.invoices, plan.addresses] + ([plan.lines] if plan.lines is not None else [])
    if plan.stored is not None:  # plan_parquet's skipped purchases and rejections
        frames += [plan.stored.skipped, plan.stored.rejected, plan.stored.problems]
    return sum(f.estimated_size() for f in frames)


#: The in-memory engines, each timed in a process of its own (as the core suite does), so
#: one engine's heap and allocator state cannot slow another down.
ENGINES = ("pandas", "polars", "frames")
#: ``plan_frames`` timed as in "frames", without ``to_plan`` and the checks: the engine of
#: the later rounds.
TIMING_ONLY = "frames-timing"


def in_memory(n: int, seed: int, repeat: int, check: bool, rounds: int = 1) -> None:
    start = time.perf_counter()
    df = frame(n, seed)
    print(f"n={n:,}: generated in {time.perf_counter() - start:.1f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="kravia-bench-") as tmp:
        data = Path(tmp) / "purchases.parquet"
        df.write_parquet(data)
        del df
        found = {engine: _in_child(engine, data, repeat, check) for engine in ENGINES}
        # This machine's speed drifts over minutes: more rounds time the plan and the
        # pandas job in processes one right after the other, in turns as to which goes
        # first, so each round's ratio compares runs made moments apart.
        ratios = [found["frames"]["seconds"] / found["pandas"]["seconds"]]
        for turn in range(1, rounds):
            pair = ("pandas", TIMING_ONLY) if turn % 2 else (TIMING_ONLY, "pandas")
            times = {e: _in_child(e, data, repeat, False)["seconds"] for e in pair}
            ratios.append(times[TIMING_ONLY] / times["pandas"])
    pandas, polars, frames = (found[engine] for engine in ENGINES)
    t_pandas, t_polars, t_frames = pandas["seconds"], polars["seconds"], frames["seconds"]
    print(f"  invoices: {frames['invoices']:,}  (residue: {frames['rejected']:,} rejected, "
          f"{frames['skipped']:,} skipped)")  # fmt: skip
    print(f"  plan_frames          {t_frames:8.2f} s  ({n / t_frames:,.0f} purchases/s)")
    print(f"  lines=False          {frames['ids_only']:8.2f} s  (each invoice's ids only, as the "
          "pandas job keeps)")  # fmt: skip
    print(f"  to_plan()            {frames['to_plan']:8.2f} s")
    print(f"  pandas job           {t_pandas:8.2f} s  (frame built beforehand, not timed)")
    print(f"  polars group_by      {t_polars:8.2f} s  (keys and period precomputed)")
    print(f"  plan_frames / pandas {t_frames / t_pandas:8.2f}x  "
          f"(lines=False: {frames['ids_only'] / t_pandas:.2f}x)")  # fmt: skip
    print(f"  plan_frames / polars {t_frames / t_polars:8.2f}x")
    if len(ratios) > 1:
        listed = " ".join(f"{r:.2f}x" for r in ratios)
        print(f"  plan_frames / pandas {statistics.median(ratios):8.2f}x  median of {len(ratios)} "
              f"rounds, each a pair of processes in turns: {listed}")  # fmt: skip
    print(f"  frame plan holds     {frames['held'] / n:8.1f} B/purchase (Arrow buffers)")
    print(f"  peak RSS             {frames['peak'] / 2**30:8.2f} GiB plan_frames and to_plan, "
          f"{pandas['peak'] / 2**30:.2f} GiB pandas, {polars['peak'] / 2**30:.2f} GiB polars "
          "(each process, input included)")  # fmt: skip
    problems = frames["problems"]
    agree = "pandas, polars and the plan without lines agree with the plan"
    print(f"  {agree}" if not problems else f"  {problems}")
    if check:
        print(f"  to_plan() == plan_invoices: {frames['core_equal']}")


def _in_child(engine: str, data: Path, repeat: int, check: bool) -> dict[str, Any]:
    """:func:`run_engine` in a new process; its figures."""
    args = ["--engine", engine, "--input", str(data), "--repeat", str(repeat)]
    figures, why = run_json("benchmarks.columnar", [*args, *(["--check"] if check else [])])
    if figures is None:
        raise RuntimeError(f"the {engine} run failed: {why}")
    return figures


def run_engine(engine: str, data: Path, repeat: int, check: bool) -> dict[str, Any]:
    """Time one engine on the purchases in ``data`` (reading and input building not
    timed); the plan's run also checks it against the baselines' results, untimed."""
    df = pl.read_parquet(data).rechunk()  # contiguous, as the generated frame was
    if engine == "pandas":
        pandas_df = pandas_input(df)
        # One run more: a process's first large run is the slowest (its memory is new),
        # and each run of the plan below comes after another large run.
        seconds, _ = timed(lambda: baselines.pandas_job(pandas_df), repeat + 1)
        return {"seconds": seconds, "peak": peak_rss()}
    if engine == "polars":
        polars_df = polars_input(df)
        seconds, _ = timed(lambda: baselines.polars_job(polars_df), max(repeat, 3))
        return {"seconds": seconds, "peak": peak_rss()}
    from kravia_schedule import plan_invoices
    from kravia_schedule.columnar import plan_frames

    plan_frames(df.head(1000))  # warmed up (imports, calendars), so neither run pays
    # In turns (a process's first large run is the slowest: its memory is new), and of
    # the plan without lines only a hash of each invoice kept, for the check below.
    seconds = ids_only = float("inf")
    for _ in range(repeat):
        plan = None
        once, without = timed(lambda: plan_frames(df, lines=False))
        ids_only, invoices = min(ids_only, once), without.invoices.hash_rows()
        del without
        once, plan = timed(lambda: plan_frames(df))
        seconds = min(seconds, once)
    if engine == TIMING_ONLY:
        return {"seconds": seconds}
    assert plan is not None
    held = held_bytes(plan)
    t_plan, materialized = timed(plan.to_plan, 1)
    peak = peak_rss()
    skipped, rejected = plan.residue_counts()
    problems = baselines.pandas_agreement(baselines.pandas_job(pandas_input(df)), materialized)
    if not invoices.equals(plan.invoices.hash_rows()):
        problems.append("plan_frames(lines=False) gives other invoices")
    problems += baselines.polars_agreement(baselines.polars_job(polars_input(df)), materialized)
    return {
        "seconds": seconds, "ids_only": ids_only, "to_plan": t_plan, "held": held, "peak": peak,
        "invoices": plan.invoices.height, "skipped": skipped, "rejected": rejected,
        "problems": problems,
        "core_equal": materialized == plan_invoices(records(df)) if check else None,
    }  # fmt: skip


def streamed(n: int, seed: int, path: Path, batch_rows: int) -> None:
    from kravia_schedule.columnar import plan_parquet

    if not path.exists():
        start = time.perf_counter()
        write_parquet(path, n, seed)
        print(f"wrote {n:,} purchases to {path} in {time.perf_counter() - start:.0f} s "
              f"({path.stat().st_size / 2**30:.1f} GiB)", flush=True)  # fmt: skip
    gc.collect()
    base = peak_rss()
    start = time.perf_counter()
    plan = plan_parquet(path, batch_rows=batch_rows, lines=False)
    elapsed = time.perf_counter() - start
    peak = peak_rss()
    held = held_bytes(plan)
    skipped, rejected = plan.residue_counts()  # not plan.skipped: that builds the objects
    print(f"plan_parquet {path} (batch_rows={batch_rows:,}, lines=False)")
    print(f"  purchases            {n:,}")
    print(f"  invoices             {plan.invoices.height:,}")
    print(f"  rejected / skipped   {rejected:,} / {skipped:,}")
    print(f"  time                 {elapsed:8.1f} s  ({n / elapsed:,.0f} purchases/s)")
    print(f"  peak RSS             {peak / 2**30:8.2f} GiB (before planning "
          f"{base / 2**30:.2f} GiB)")  # fmt: skip
    print(f"  plan holds           {held / n:8.1f} B/purchase (Arrow buffers)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.columnar", description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000, help="purchases")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs")
    parser.add_argument("--check", action="store_true", help="compare with plan_invoices")
    parser.add_argument(
        "--rounds", type=int, default=1,
        help="time plan_frames and the pandas job this many times, in turns (median ratio)",
    )  # fmt: skip
    parser.add_argument("--parquet", type=Path, help="the file --stream writes and plans")
    parser.add_argument("--stream", action="store_true", help="plan_parquet of --parquet")
    parser.add_argument("--write", action="store_true", help="only write --parquet")
    parser.add_argument("--batch-rows", type=int, default=1 << 20)
    # Internal: one engine of the in-memory run, in its own process (see ENGINES).
    parser.add_argument("--engine", choices=[*ENGINES, TIMING_ONLY], help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine:
        if args.input is None:
            parser.error("--engine needs --input PATH")
        print(json.dumps(run_engine(args.engine, args.input, args.repeat, args.check)))
    elif args.write:
        if args.parquet is None:
            parser.error("--write needs --parquet PATH")
        start = time.perf_counter()
        write_parquet(args.parquet, args.n, args.seed)
        print(f"wrote {args.n:,} purchases to {args.parquet} in "
              f"{time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
    elif args.stream:
        if args.parquet is None:
            parser.error("--stream needs --parquet PATH")
        streamed(args.n, args.seed, args.parquet, args.batch_rows)
    else:
        in_memory(args.n, args.seed, args.repeat, args.check, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
