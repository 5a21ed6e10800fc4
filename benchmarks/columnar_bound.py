"""What a columnar plan costs at least: a stripped-down Polars plan, step by step,
against the bare Polars group-by.

    python -m benchmarks.columnar_bound --n 1000000 [--repeat 3] [--seed 1]

The issue puts the columnar plan within 3x of baseline (c), a bare Polars ``group_by``
on key columns and periods computed beforehand. These steps start where ``plan_frames``
starts, from the frame of :func:`benchmarks.columnar.frame`, and add one at a time what
no plan of that frame can leave out, each done the cheapest way found (each step
includes the ones before it; all lazy, collected on Polars' streaming engine):

1. ``placed``: keep the rows with an amount, ``AUTHORIZED`` and grouped; take the key
   fields out of the billing address; parse the UTC instant (one fixed format); the
   local billing period from a (country, UTC hour) table built untimed; then the
   group-by with the two sums;
2. ``lines``: each invoice's lines, as row numbers ordered by instant (ties in any
   order: the core breaks them by transaction id, which costs more);
3. ``ids once``: a transaction id that comes again is kept once;
4. ``dates``: issue and due date per (country, period) from the core, joined;
5. ``invoice ids``: an 8-byte BLAKE2b digest of each invoice's key fields, in Python, as
   the core's ids are made.

``plan_frames`` is timed last, for comparison. The steps alternate in one process, the
cyclic garbage collector paused (as ``plan_frames`` pauses it), as in
:func:`benchmarks.lower_bound.run`. None of the steps validates a field,
normalizes a spelling, checks an address or says why a record is left out: each is a
lower bound for what the plan does, not a competitor.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta

import polars as pl

from benchmarks import baselines
from benchmarks.columnar import KEPT, KEY_FIELDS, frame, polars_input
from benchmarks.lower_bound import options, print_steps, run
from kravia_schedule import KraviaConfig
from kravia_schedule.columnar import plan_frames
from kravia_schedule.dates import grouped_invoice_dates

__all__ = ["hour_periods", "main", "steps"]

#: The invoice's key: customer, currency and billing period.
_INVOICE = [*baselines.KEY_COLUMNS, "period_start"]
_SUMS = (pl.col("amount").sum(), pl.col("vat_amount").sum())
_ISO_SECONDS = "%Y-%m-%dT%H:%M:%S"  # the generated frame's created_at, less its "+00:00"


def hour_periods(df: pl.DataFrame) -> pl.LazyFrame:
    """(country, UTC hour, local month start) for every hour the frame's instants span:
    the zones' offsets change on whole UTC hours, so this is each row's period."""
    instants = df.select(pl.col("created_at").str.to_datetime(time_zone="UTC"))
    first, last = instants.to_series().min(), instants.to_series().max()
    hours = pl.datetime_range(
        first - timedelta(hours=1), last + timedelta(hours=1), "1h", eager=True
    ).dt.truncate("1h")
    return pl.concat(
        pl.DataFrame({
            "country": country,
            "hour": hours.dt.replace_time_zone(None),
            "period_start": hours.dt.convert_time_zone(zone).dt.month_start().dt.date(),
        })
        for country, zone in baselines.ZONES.items()
    ).lazy()  # fmt: skip


def _placed(df: pl.DataFrame, periods: pl.LazyFrame) -> pl.LazyFrame:
    instant = pl.col("created_at").str.slice(0, 19).str.to_datetime(_ISO_SECONDS)
    return (
        df.lazy()
        .with_row_index("row")
        .filter(KEPT)
        .select(
            "row", "id", "amount", "vat_amount", "currency", *KEY_FIELDS, instant.alias("instant")
        )
        .with_columns(hour=pl.col("instant").dt.truncate("1h"))
        .join(periods, on=["country", "hour"], how="left")
    )


def _dates(invoices: pl.DataFrame) -> pl.DataFrame:
    pairs = invoices.select("country", "period_start").unique().iter_rows()
    table = pl.DataFrame(
        [
            (country, start, dates.issue_date, dates.due_date)
            for country, start in pairs
            for dates in [grouped_invoice_dates(start, country=country)]
        ],
        schema={"country": pl.String, "period_start": pl.Date,
                "issue_date": pl.Date, "due_date": pl.Date},
        orient="row",
    )  # fmt: skip
    return invoices.join(table, on=["country", "period_start"], how="left")


def _invoice_ids(invoices: pl.DataFrame) -> pl.DataFrame:
    fresh = hashlib.blake2b(digest_size=8).copy
    texts = invoices.select(
        pl.concat_str([*baselines.KEY_COLUMNS, pl.col("period_start").cast(pl.String)],
                      separator="\x1f")
    ).to_series()  # fmt: skip
    ids = []
    for text in texts:
        digest = fresh()
        digest.update(text.encode())
        ids.append(digest.hexdigest())
    return invoices.with_columns(pl.Series("invoice_id", ids))


def steps(df: pl.DataFrame) -> list[tuple[str, Callable[[], pl.DataFrame]]]:
    """The steps over ``df``, in order: baseline (c) first (its input prepared here,
    untimed), ``plan_frames`` last. Each returns one row per invoice."""
    keys = polars_input(df)
    periods = hour_periods(df)
    config = KraviaConfig.all_enabled()
    lines = pl.col("row").sort_by("instant")

    def placed() -> pl.DataFrame:
        return _placed(df, periods).group_by(_INVOICE).agg(*_SUMS).collect()

    def with_lines(once: bool = False) -> pl.DataFrame:
        rows = _placed(df, periods)
        if once:
            rows = rows.filter(pl.col("id").is_first_distinct())
        return rows.group_by(_INVOICE).agg(*_SUMS, lines).collect()

    return [
        ("group_by (c)", lambda: baselines.polars_job(keys)),
        ("+ placed", placed),
        ("+ lines", with_lines),
        ("+ ids once", lambda: with_lines(once=True)),
        ("+ dates", lambda: _dates(with_lines(once=True))),
        ("+ invoice ids", lambda: _invoice_ids(_dates(with_lines(once=True)))),
        ("plan_frames", lambda: plan_frames(df, config).invoices),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = options("benchmarks.columnar_bound", __doc__, argv)
    best = run(steps(frame(args.n, args.seed)), args.repeat)
    print_steps(f"n={args.n:,}, best of {args.repeat}:", best, "group_by (c)", "group_by")
    return 0


if __name__ == "__main__":
    sys.exit(main())
