"""Real-shaped Dintero transactions from a JSON Lines file to a plan: the core and the
columnar engine against pandas and Polars, in one run.

    python -m benchmarks.dintero --sizes 10000,100000
    python -m benchmarks.dintero --sizes 1000000 --data-dir /tmp/kb-dintero
    python -m benchmarks.dintero --sizes 1000000 --jobs core,pandas,polars --calibration run.json

**The data.** ``kravia_schedule.dintero.generate.generate_transactions(n, seed)``: the
shape ``GET /v1/transactions`` returns, with order lines, events, metadata and full
addresses, about 3.45 KB of JSON each, 15 % card payments; written one per line (not
timed). With ``--data-dir`` a file is kept and reused by a later run with the same size
and seed.

**The jobs**, each in a process of its own, timed from the file to its result (imports
and a warm-up on a 200-line file first, not timed):

* ``core``: ``plan_invoices(read_records(path))``; the record reader streams the file.
* ``columnar``: ``plan_frames(path)`` (a ``FramePlan``, invoices as a Polars frame).
* ``pandas``: the file read ``--pandas-chunk`` lines at a time; per chunk ``json.loads``
  of each line, each record cut down to the fields the job reads, and
  ``pandas.json_normalize`` of the transactions (one level: the billing address) and of
  their ``items``; then grouped.
* ``polars``: ``pl.scan_ndjson`` with the schema of the fields the job reads, then grouped.

The baselines do the grouping and no more: Kravia payments in the statuses the rules
invoice (:mod:`kravia_schedule.rules`), each item's VAT from its ``amount`` and ``vat``
percent by the library's rounding rule (half away from zero, integer arithmetic), grouped
purchases summed per raw customer key (country, organization number, business name,
customer reference) + currency + local month (per-country zone), every standard purchase
an invoice of its own. No validation, normalization, calendar, dates or ids. All four
must agree on the number of invoices (grouped and standard), the invoiced amount and VAT.

**Memory.** Each job's peak is its process's own ``VmHWM`` (peak RSS since it started;
the ``ru_maxrss`` of ``os.wait4`` is in the JSON too). The parent watches every job's RSS
and kills one that passes ``--max-rss-gib``. Before each size, a job's peak there is
estimated (:func:`extrapolate`, from the sizes it ran at before in this run or in
``--calibration``, a previous run's ``--json``): a job whose estimated peak, plus 10 %,
is above the limit or above ``MemAvailable`` is skipped, with the figures that show it.
Each job's CPU time (``time.process_time()``, all its threads) is printed beside its wall
time: on a shared machine the CPU ratios are the steadier ones.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from benchmarks import memory
from benchmarks.baselines import ZONES
from benchmarks.suite import ROOT, machine_info
from kravia_schedule import KraviaConfig
from kravia_schedule.config import ProductType
from kravia_schedule.rules import GROUPED_INVOICED, STANDARD_INVOICED

__all__ = [
    "JOBS",
    "calibration_peaks",
    "cpu_seconds",
    "extrapolate",
    "main",
    "run_job",
    "summary_of",
    "write_jsonl",
]

JOBS = ("core", "columnar", "pandas", "polars")
DEFAULT_SIZES = (10_000, 100_000)
CONFIG = KraviaConfig.all_enabled()
GROUPED = ProductType.B2B_GROUPED.value
KRAVIA_PRODUCTS = sorted(p.value for p in ProductType)
GROUPED_STATUSES = sorted(s.value for s in GROUPED_INVOICED)
STANDARD_STATUSES = sorted(s.value for s in STANDARD_INVOICED)
#: The raw customer key of a grouped invoice (the planner also normalizes spellings; the
#: generator writes one spelling per customer).
KEY = ["country", "organization_number", "business_name", "customer_reference"]
#: The top-level fields the baselines read (besides the billing address and items).
TOP = ["id", "created_at", "amount", "currency", "status", "payment_product_type"]
WARM_UP_N = 200
MARGIN = 1.10
#: What each job's summary holds; every job must give the same.
SUMMARY = ("invoices", "grouped", "standard", "amount", "vat_amount")


# -- the data ----------------------------------------------------------------------------


def write_jsonl(path: Path, n: int, seed: int) -> None:
    """``n`` generated transactions to ``path``, one JSON object a line."""
    from kravia_schedule.dintero.generate import generate_transactions

    part = path.with_name(path.name + ".part")
    with part.open("w", encoding="utf-8") as out:
        for transaction in generate_transactions(n, seed=seed):
            out.write(json.dumps(transaction, ensure_ascii=False))
            out.write("\n")
    part.replace(path)


def data_file(directory: Path, n: int, seed: int) -> Path:
    return directory / f"dintero-n{n}-seed{seed}.jsonl"


def ensure_data(directory: Path, n: int, seed: int, say: Callable[[str], None]) -> Path:
    path = data_file(directory, n, seed)
    if path.exists():
        say(f"n={n:,}: transactions from {path} ({path.stat().st_size / 2**20:,.0f} MiB)")
        return path
    start = time.perf_counter()
    write_jsonl(path, n, seed)
    size = path.stat().st_size
    say(f"n={n:,}: {size / 2**20:,.0f} MiB of JSON Lines ({size / n:,.0f} B a transaction) "
        f"written in {time.perf_counter() - start:.1f} s (not timed)")  # fmt: skip
    return path


# -- the jobs (each returns its result; summary_of reads the figures every job gives) -----


def core_job(path: Path) -> Any:
    from kravia_schedule import plan_invoices
    from kravia_schedule.io import read_records

    return plan_invoices(read_records(path), CONFIG)


def columnar_job(path: Path) -> Any:
    from kravia_schedule.columnar import plan_frames

    return plan_frames(path, CONFIG)


def vat_of_items(amount: Any, hundredths: Any) -> Any:
    """Each item's VAT (numpy arrays or Polars expressions alike): ``g·r/(100+r)`` with the
    rate in hundredths of a percent, a half rounded away from zero (amounts are > 0)."""
    numerator = amount * hundredths
    denominator = hundredths + 10_000
    return numerator // denominator + (2 * (numerator % denominator) >= denominator)


def _pandas_chunk(records: list[dict[str, Any]]) -> Any:
    import numpy as np
    import pandas as pd

    # Each record cut down to the fields the job reads before json_normalize: flattening
    # whole transactions (62 columns, every item's 9) takes over ten times as long.
    top = [
        {name: r.get(name) for name in TOP} | {"billing_address": _key_of(r.get("billing_address"))}
        for r in records
    ]
    lines = [
        {"id": r.get("id"), "items": [{"amount": i.get("amount"), "vat": i.get("vat")} for i in r.get("items") or ()]}
        for r in records
    ]  # fmt: skip
    flat = pd.json_normalize(top, max_level=1)
    items = pd.json_normalize(lines, record_path="items", meta=["id"], meta_prefix="transaction_")
    amount = items["amount"].to_numpy(dtype=np.int64)
    hundredths = np.rint(items["vat"].to_numpy(dtype=np.float64) * 100).astype(np.int64)
    items_vat = pd.Series(vat_of_items(amount, hundredths).astype(np.int64), index=items.index)
    vat = items_vat.groupby(items["transaction_id"], sort=False).sum().rename("vat_amount")
    columns = [*TOP, *(f"billing_address.{field}" for field in KEY)]
    flat = flat.reindex(columns=columns)
    flat.columns = [c.removeprefix("billing_address.") for c in columns]
    return flat.join(vat, on="id")


def _key_of(address: Any) -> dict[str, Any]:
    return {name: address.get(name) for name in KEY} if isinstance(address, dict) else {}


def pandas_job(path: Path, chunk: int = 50_000) -> tuple[Any, Any]:
    """(grouped invoices, standard invoices) as two DataFrames."""
    import pandas as pd

    parts = []
    with path.open(encoding="utf-8") as lines:
        while block := list(islice(lines, chunk)):
            parts.append(_pandas_chunk([json.loads(line) for line in block if line.strip()]))
    df = pd.concat(parts, ignore_index=True)
    product, status = df["payment_product_type"], df["status"]
    kravia = product.isin(KRAVIA_PRODUCTS)
    grouped = df[kravia & product.eq(GROUPED) & status.isin(GROUPED_STATUSES)]
    standard = df[kravia & product.ne(GROUPED) & status.isin(STANDARD_STATUSES)]
    standard = standard[["id", "currency", "amount", "vat_amount"]]

    utc = pd.to_datetime(grouped["created_at"], utc=True, format="ISO8601")
    local = pd.Series(pd.NaT, index=grouped.index, dtype="datetime64[ns]")
    for country, zone in ZONES.items():
        here = grouped["country"].eq(country).to_numpy()
        local[here] = utc[here].dt.tz_convert(zone).dt.tz_localize(None)
    grouped = grouped.assign(
        customer_reference=grouped["customer_reference"].fillna(""),
        period=local.dt.to_period("M"),
    )
    invoices = (
        grouped.groupby([*KEY, "currency", "period"], sort=False)
        .agg(amount=("amount", "sum"), vat_amount=("vat_amount", "sum"), count=("id", "size"))
        .reset_index()
    )
    return invoices, standard


def polars_job(path: Path) -> tuple[Any, Any]:
    """(grouped invoices, standard invoices) as two Polars frames."""
    import polars as pl

    text = pl.String
    schema: dict[str, Any] = {
        "id": text, "created_at": text, "amount": pl.Int64, "currency": text, "status": text,
        "payment_product_type": text,
        "billing_address": pl.Struct(dict.fromkeys(KEY, text)),
        "items": pl.List(pl.Struct({"amount": pl.Int64, "vat": pl.Float64})),
    }  # fmt: skip
    item = pl.element().struct
    vat = vat_of_items(item.field("amount"), (item.field("vat") * 100).round().cast(pl.Int64))
    df = (
        pl.scan_ndjson(path, schema=schema)
        .filter(pl.col("payment_product_type").is_in(KRAVIA_PRODUCTS))
        .select(
            "id",
            "created_at",
            "amount",
            "currency",
            "status",
            "payment_product_type",
            pl.col("billing_address").struct.unnest(),
            pl.col("items").list.eval(vat.cast(pl.Int64)).list.sum().alias("vat_amount"),
        )
        .collect()
    )
    is_grouped = pl.col("payment_product_type") == GROUPED
    standard = df.filter(~is_grouped & pl.col("status").is_in(STANDARD_STATUSES)).select(
        "id", "currency", "amount", "vat_amount"
    )
    utc = pl.col("created_at").str.to_datetime(time_zone="UTC")
    local: Any = pl
    for country, zone in ZONES.items():
        here = utc.dt.convert_time_zone(zone).dt.replace_time_zone(None)
        local = local.when(pl.col("country") == country).then(here)
    invoices = (
        df.lazy()
        .filter(is_grouped & pl.col("status").is_in(GROUPED_STATUSES))
        .with_columns(
            pl.col("customer_reference").fill_null(""), period=local.dt.month_start().dt.date()
        )
        .group_by([*KEY, "currency", "period"])
        .agg(pl.col("amount").sum(), pl.col("vat_amount").sum(), pl.len().alias("count"))
        .collect()
    )
    return invoices, standard


def summary_of(job: str, result: Any) -> dict[str, int]:
    """The figures every job's result gives: invoices (grouped, standard), amount, VAT."""
    if job == "core":
        grouped = sum(1 for i in result.invoices if i.period is not None)
        return {
            "invoices": len(result.invoices),
            "grouped": grouped,
            "standard": len(result.invoices) - grouped,
            "amount": sum(i.amount for i in result.invoices),
            "vat_amount": sum(i.vat_amount for i in result.invoices),
        }
    if job == "columnar":
        frame = result.invoices
        grouped = int((frame["product_type"] == GROUPED).sum())
        return {
            "invoices": frame.height,
            "grouped": grouped,
            "standard": frame.height - grouped,
            "amount": int(frame["amount"].sum()),
            "vat_amount": int(frame["vat_amount"].sum()),
        }
    invoices, standard = result
    return {
        "invoices": len(invoices) + len(standard),
        "grouped": len(invoices),
        "standard": len(standard),
        "amount": int(invoices["amount"].sum()) + int(standard["amount"].sum()),
        "vat_amount": int(invoices["vat_amount"].sum()) + int(standard["vat_amount"].sum()),
    }


def job_function(job: str, pandas_chunk: int) -> Callable[[Path], Any]:
    if job == "pandas":
        return lambda path: pandas_job(path, pandas_chunk)
    functions: dict[str, Callable[[Path], Any]] = {
        "core": core_job, "columnar": columnar_job, "polars": polars_job,
    }  # fmt: skip
    return functions[job]


def _hwm_kib() -> int | None:
    """This process's own peak RSS (``VmHWM``; new with each process, unlike ``ru_maxrss``,
    which a process started by a large parent may inherit)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def run_job(job: str, path: Path, warm_up: Path | None = None, pandas_chunk: int = 50_000) -> dict[str, Any]:  # fmt: skip
    """Time ``job`` on the file ``path`` in this process: its figures (the child's row)."""
    function = job_function(job, pandas_chunk)
    if warm_up is not None:  # imports, holiday tables and zones load here, untimed
        function(warm_up)
    memory.release()
    rss_base = memory.rss_kib()
    gc.collect()
    start, cpu_start = time.perf_counter(), time.process_time()
    result = function(path)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak = _hwm_kib() or memory.peak_kib()
    return {
        "job": job, "seconds": seconds, "cpu_s": cpu, "peak_kib": peak, "rss_base_kib": rss_base,
        "summary": summary_of(job, result),
    }  # fmt: skip


# -- the parent: one process per job, its memory watched ----------------------------------


@contextmanager
def _directory(given: Path | None) -> Iterator[Path]:
    """The data directory given, or a temporary one removed afterwards."""
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
    else:
        with tempfile.TemporaryDirectory(prefix="kravia-dintero-") as temporary:
            yield Path(temporary)


def _rss_of(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def in_child(job: str, path: Path, warm_up: Path, limit_kib: int, pandas_chunk: int) -> dict[str, Any]:  # fmt: skip
    """Run ``job`` in a new process; its row, or ``error`` (killed above the limit, failed)."""
    command = [sys.executable, "-m", "benchmarks.dintero", "--job", job, "--input", str(path),
               "--warm-up", str(warm_up), "--pandas-chunk", str(pandas_chunk)]  # fmt: skip
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=stdout, stderr=stderr,
                                 text=True)  # fmt: skip
        finished = threading.Event()
        killed: list[int] = []
        watched = [0]

        def watch() -> None:
            while not finished.wait(0.1):
                rss = _rss_of(child.pid)
                if rss is not None:
                    watched[0] = max(watched[0], rss)
                    if rss > limit_kib:
                        killed.append(rss)
                        os.kill(child.pid, signal.SIGKILL)
                        return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        # os.wait4, not Popen.wait: the rusage of this child alone.
        _, status, usage = os.wait4(child.pid, 0)
        finished.set()
        watcher.join()
        child.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        out, err = stdout.read(), stderr.read()
    row: dict[str, Any] = {
        "job": job, "watched_peak_kib": watched[0], "wait4_maxrss_kib": usage.ru_maxrss,
        "user_s": usage.ru_utime, "system_s": usage.ru_stime,
        "load_before": load_before, "load_after": os.getloadavg()[0],
    }  # fmt: skip
    lines = out.strip().splitlines()
    if killed:
        row["error"] = f"killed at {killed[0] / 2**20:.1f} GiB RSS (limit {limit_kib / 2**20:.1f})"
    elif child.returncode != 0 or not lines:
        tail = "; ".join(err.strip().splitlines()[-3:])
        row["error"] = f"exit status {child.returncode}: {tail}"
    else:
        row.update(json.loads(lines[-1]))
    return row


def extrapolate(points: Sequence[tuple[int, int]], n: int) -> int | None:
    """A job's peak KiB at ``n`` from its peaks at other sizes (``None`` without any):
    linear between the sizes either side of ``n``, else through the two largest (never
    below the largest's peak; below every size, the smallest's); of a size measured
    twice, the higher peak."""
    highest: dict[int, int] = {}
    for size, peak in points:
        highest[size] = max(peak, highest.get(size, peak))
    known = sorted(highest.items())
    if not known:
        return None
    below = [point for point in known if point[0] <= n]
    above = [point for point in known if point[0] > n]
    if not below:  # smaller than every size measured
        return known[0][1]
    if above:
        (n1, p1), (n2, p2) = below[-1], above[0]
        return round(p1 + (p2 - p1) * (n - n1) / (n2 - n1))
    if len(known) == 1:
        n1, p1 = known[0]
        return p1 * n // n1
    (n1, p1), (n2, p2) = known[-2:]
    slope = (p2 - p1) / (n2 - n1)
    return max(p2, round(p2 + slope * (n - n2)))


def _gib(kib: float) -> str:
    return f"{kib / 2**20:.2f} GiB"


def cpu_seconds(row: dict[str, Any]) -> float:
    """The CPU time of a job's timed run, all its threads (a run's before ``cpu_s`` was
    measured: its process's, imports and warm-up included)."""
    if "cpu_s" in row:
        return float(row["cpu_s"])
    return float(row["user_s"] + row["system_s"])


def _table(n: int, rows: dict[str, dict[str, Any]], say: Callable[[str], None]) -> None:
    say(f"  {'job':<9} {'seconds':>9} {'CPU s':>9} {'tx/s':>9} {'peak RSS':>10}  invoices (grouped/standard), amount, VAT")  # fmt: skip
    for job, row in rows.items():
        if "error" in row or "skipped" in row:
            say(f"  {job:<9} {row.get('skipped') or row['error']}")
            continue
        s = row["summary"]
        say(f"  {job:<9} {row['seconds']:9.2f} {cpu_seconds(row):9.2f} {n / row['seconds']:9,.0f} {_gib(row['peak_kib']):>10}  "
            f"{s['invoices']:,} ({s['grouped']:,}/{s['standard']:,}), {s['amount']:,}, {s['vat_amount']:,}")  # fmt: skip
    done = {job: row for job, row in rows.items() if "summary" in row}
    summaries = {json.dumps(row["summary"], sort_keys=True) for row in done.values()}
    if len(summaries) == 1:
        say(f"  {', '.join(done)} agree on invoices (grouped, standard), amount and VAT")
    elif done:
        listed = ", ".join(f"{job} {row['summary']}" for job, row in done.items())
        say(f"  DISAGREE: {listed}")
    for engine in ("core", "columnar"):
        for baseline in ("pandas", "polars", *(("core",) if engine == "columnar" else ())):
            if engine in done and baseline in done:
                mine, theirs = done[engine], done[baseline]
                say(f"  {engine} / {baseline}: {mine['seconds'] / theirs['seconds']:.2f}x time, "
                    f"{cpu_seconds(mine) / cpu_seconds(theirs):.2f}x CPU time, "
                    f"{mine['peak_kib'] / theirs['peak_kib']:.2f}x peak RSS")  # fmt: skip


def run(
    sizes: Sequence[int],
    jobs: Sequence[str],
    *,
    seed: int,
    data_dir: Path,
    limit_gib: float,
    pandas_chunk: int,
    calibration: dict[str, list[tuple[int, int]]],
    say: Callable[[str], None],
) -> dict[str, Any]:
    limit_kib = int(limit_gib * 2**20)
    peaks = {job: list(calibration.get(job, ())) for job in jobs}
    warm_up = ensure_data(data_dir, WARM_UP_N, seed + 1, lambda _: None)
    out: dict[str, Any] = {"sizes": {}}
    for n in sorted(sizes):
        path = ensure_data(data_dir, n, seed, say)
        rows: dict[str, dict[str, Any]] = {}
        for job in jobs:
            expected = extrapolate(peaks[job], n)
            available = memory.mem_available_kib()
            if expected is not None and (
                expected * MARGIN > limit_kib
                or (available is not None and expected * MARGIN > available)
            ):
                basis = ", ".join(f"{_gib(p)} at n={m:,}" for m, p in sorted(peaks[job])[-2:])
                rows[job] = {"job": job, "expected_peak_kib": expected, "skipped": (
                    f"skipped: {_gib(expected)} peak extrapolated from {basis} (+10 %) is above "
                    f"the {limit_gib:g} GiB limit or the {_gib(available or 0)} available"
                )}  # fmt: skip
                say(f"n={n:,} {job}: {rows[job]['skipped']}")
                continue
            say(f"n={n:,} {job}: running (expected peak "
                f"{_gib(expected) if expected else 'unknown'}, load {os.getloadavg()[0]:.2f})")  # fmt: skip
            row = in_child(job, path, warm_up, limit_kib, pandas_chunk)
            row["expected_peak_kib"] = expected
            rows[job] = row
            if "peak_kib" in row:
                peaks[job].append((n, row["peak_kib"]))
                say(f"n={n:,} {job}: {row['seconds']:.2f} s, peak {_gib(row['peak_kib'])}")
            else:
                say(f"n={n:,} {job}: {row['error']}")
        say(
            f"n={n:,} ({path.stat().st_size / 2**20:,.0f} MiB of JSON), each job in its own process:"
        )
        _table(n, rows, say)
        out["sizes"][str(n)] = rows
    return out


def calibration_peaks(paths: Sequence[Path], pandas_chunk: int) -> dict[str, list[tuple[int, int]]]:
    """The peaks of earlier runs (their ``--json``) per job; pandas' only from runs with the
    same chunk size (its peak is that of a chunk, plus what the chunks keep)."""
    found: dict[str, list[tuple[int, int]]] = {}
    for path in paths:
        results = json.loads(path.read_text())
        chunk = results.get("options", {}).get("pandas_chunk")
        for n, rows in results["sizes"].items():
            for job, row in rows.items():
                if "peak_kib" in row and (job != "pandas" or chunk == str(pandas_chunk)):
                    found.setdefault(job, []).append((int(n), row["peak_kib"]))
    return found


def _sizes(text: str) -> list[int]:
    return [int(float(s)) for s in text.split(",") if s.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dintero", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--sizes", type=_sizes, default=list(DEFAULT_SIZES),
                        help="transaction counts, e.g. 10000,100000,1e6")  # fmt: skip
    parser.add_argument("--jobs", default=",".join(JOBS), help=f"subset of {','.join(JOBS)}")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data-dir", type=Path, help="keep the JSONL files here (default: temporary)"
    )
    parser.add_argument("--max-rss-gib", type=float, default=10.0,
                        help="skip a job whose extrapolated peak is above this; kill one that passes it")  # fmt: skip
    parser.add_argument("--pandas-chunk", type=int, default=50_000, help="lines per pandas chunk")
    parser.add_argument(
        "--calibration",
        type=Path,
        action="append",
        default=[],
        help="a previous run's --json: peaks to extrapolate from (may be repeated)",
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    # Internal: one job in this process (the parent runs each so).
    parser.add_argument("--job", choices=JOBS, help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warm-up", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.job:
        if args.input is None:
            parser.error("--job needs --input PATH")
        print(json.dumps(run_job(args.job, args.input, args.warm_up, args.pandas_chunk)))
        return 0
    jobs = [j for j in args.jobs.split(",") if j]
    unknown = sorted(set(jobs) - set(JOBS))
    if unknown:
        parser.error(f"unknown jobs {unknown}: choose from {','.join(JOBS)}")

    def say(text: str) -> None:
        print(text, flush=True)

    started = datetime.now(UTC)
    say(f"{started:%Y-%m-%d %H:%M} UTC, load {os.getloadavg()}, "
        f"{_gib(memory.mem_available_kib() or 0)} available")  # fmt: skip
    with _directory(args.data_dir) as directory:
        results = run(args.sizes, jobs, seed=args.seed, data_dir=directory,
                      limit_gib=args.max_rss_gib, pandas_chunk=args.pandas_chunk,
                      calibration=calibration_peaks(args.calibration, args.pandas_chunk), say=say)  # fmt: skip
    results.update(started=started.isoformat(), finished=datetime.now(UTC).isoformat(),
                   machine=machine_info(), options={k: str(v) for k, v in vars(args).items()})  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    failed = any("error" in row for rows in results["sizes"].values() for row in rows.values())
    disagree = any(
        len({json.dumps(r["summary"], sort_keys=True) for r in rows.values() if "summary" in r}) > 1
        for rows in results["sizes"].values()
    )
    return 1 if failed or disagree else 0


if __name__ == "__main__":
    sys.exit(main())
