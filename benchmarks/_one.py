"""One measurement in a process of its own; prints one JSON line.

    python -m benchmarks._one --n 100000 --engine plan_dicts [--repeat 3] [--seed 1]
                              [--cache-dir DIR]

``python -m benchmarks`` runs this once per size and engine, so each peak memory figure
belongs to one engine on one size. The process warms up (imports, holiday tables, time
zones) and records its RSS (``rss_base_kib``); gets the data (loads the records from
``--cache-dir``, where ``--engine generate`` wrote them once for the whole run, or
generates them from the seed without it: either way every process of a run gets the
same records), prepares the engine's input (``Purchase`` objects, a Polars frame) and
records the RSS again (``rss_data_kib``); resets the peak RSS to that value where Linux
allows it (``/proc/self/clear_refs``); then runs the engine ``repeat`` times.
``engine_peak_kib`` = ``ru_maxrss`` after the runs minus ``rss_data_kib``: the engine's
own peak, its input not included. Loading and preparing are not timed.

Engines: ``floor_typed``, ``plan_typed``, ``floor_dicts``, ``plan_dicts``, ``pandas``,
``polars`` (timed); ``memory_typed``, ``memory_dicts`` (what a plan holds, traced with
``tracemalloc``); ``check`` (do the pandas and polars baselines agree with the plan?);
``generate`` (generate the records and write them to ``--cache-dir``).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import baselines, memory
from benchmarks.generate import cache_path, load_cache, purchases, typed, write_cache
from kravia_schedule import KraviaConfig, plan_invoices

__all__ = ["ENGINES", "TIMED", "generate_data", "load_records", "main", "measure"]

CONFIG = KraviaConfig.all_enabled()


def _plan(data: Any) -> Any:
    return plan_invoices(data, CONFIG)


def _dicts(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return records


def load_records(
    n: int,
    *,
    seed: int = 1,
    years: int = 2,
    invalid_share: float = 0.01,
    cache_dir: str | Path | None = None,
) -> tuple[list[dict[str, Any]], str]:
    """The ``n`` records of a run, and where they came from (``cache`` or ``generated``).

    With ``cache_dir``, the file :func:`generate_data` wrote there must exist: a run
    generates each size once, so an engine that regenerates would be a bug to notice.
    """
    if cache_dir is None:
        return purchases(n, seed=seed, years=years, invalid_share=invalid_share), "generated"
    path = cache_path(cache_dir, n, seed=seed, years=years, invalid_share=invalid_share)
    return load_cache(path), "cache"


@dataclass(frozen=True)
class Engine:
    """What one engine is timed on (``prepare``, untimed) and what is timed (``stages``,
    run one after the other on the previous stage's result)."""

    name: str
    label: str
    input: str
    prepare: Callable[[list[dict[str, Any]]], Any]
    stages: tuple[tuple[str, Callable[[Any], Any]], ...]
    needs: tuple[str, ...] = ()


ENGINES = {
    e.name: e
    for e in (
        Engine("floor_typed", "floor", "typed", typed, (("floor", baselines.floor_typed),)),
        Engine("plan_typed", "plan_invoices", "typed", typed, (("plan", _plan),)),
        Engine("floor_dicts", "floor", "dicts", _dicts, (("floor", baselines.floor_dicts),)),
        Engine("plan_dicts", "plan_invoices", "dicts", _dicts, (("plan", _plan),)),
        Engine(
            "pandas",
            "pandas",
            "dicts",
            _dicts,
            (("frame", baselines.pandas_frame), ("job", baselines.pandas_job)),
            ("pandas", "numpy"),
        ),
        Engine(
            "polars",
            "polars group_by",
            "key columns",
            baselines.polars_frame,
            (("group_by", baselines.polars_job),),
            ("polars",),
        ),
    )
}
#: The timed engines, in the order a run measures and prints them.
TIMED = tuple(ENGINES)


def _groups(result: Any) -> int:
    if hasattr(result, "invoices"):
        return len(result.invoices)
    if hasattr(result, "height"):
        return int(result.height)
    return len(result)


def _warm_up(engine: Engine, years: int) -> None:
    """Run the engine once on a few records: imports, holiday tables and zones load here,
    before the baseline RSS is taken."""
    records = purchases(200, seed=999, years=years)
    result: Any = engine.prepare(records)
    for _, stage in engine.stages:
        result = stage(result)


def _run_stages(engine: Engine, data: Any) -> tuple[Any, dict[str, float]]:
    seconds = {}
    result = data
    for name, stage in engine.stages:
        start = time.perf_counter()
        result = stage(result)
        seconds[name] = time.perf_counter() - start
    return result, seconds


def measure(
    engine_name: str,
    n: int,
    *,
    repeat: int = 3,
    seed: int = 1,
    years: int = 2,
    invalid_share: float = 0.01,
    cache_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Time one engine on ``n`` generated purchases; the row ``_one`` prints."""
    engine = ENGINES[engine_name]
    _warm_up(engine, years)
    memory.release()
    rss_base = memory.rss_kib()
    tracked_base = len(gc.get_objects())

    start = time.perf_counter()
    raw, source = load_records(
        n, seed=seed, years=years, invalid_share=invalid_share, cache_dir=cache_dir
    )
    data_s = time.perf_counter() - start
    start = time.perf_counter()
    data = engine.prepare(raw)
    prepare_s = time.perf_counter() - start
    del raw
    n_input = len(data) if isinstance(data, list) else int(getattr(data, "height", n))
    memory.release()
    rss_data = memory.rss_kib()
    generation_peak = memory.peak_kib()
    reset = memory.reset_peak()

    runs: list[dict[str, float]] = []
    result: Any = None
    for _ in range(repeat):
        result = None
        gc.collect()
        result, seconds = _run_stages(engine, data)
        runs.append(seconds)
    peak = memory.peak_kib()
    totals = [sum(run.values()) for run in runs]
    best = min(totals)
    row: dict[str, Any] = {
        "engine": engine.name,
        "label": engine.label,
        "input": engine.input,
        "n": n,
        "n_input": n_input,
        "repeat": repeat,
        "best_s": best,
        "median_s": sorted(totals)[len(totals) // 2],
        "times_s": totals,
        "stages_best_s": {name: min(run[name] for run in runs) for name in runs[0]},
        "purchases_per_s": n_input / best if best > 0 else None,
        "groups": _groups(result),
        "data_source": source,
        "data_s": data_s,
        "prepare_s": prepare_s,
        "rss_base_kib": rss_base,
        "rss_data_kib": rss_data,
        "generation_peak_kib": generation_peak,
        "peak_kib": peak,
        "process_peak_kib": max(peak, generation_peak),
        # Clamped: the kernel's RSS counters are batched per CPU, so a peak read right
        # after the reset can lag the RSS read before it by a few pages.
        "engine_peak_kib": max(0, peak - rss_data) if rss_data is not None else None,
        "peak_method": (
            "ru_maxrss after the runs minus RSS once the input was ready; peak reset to that "
            "RSS before the runs (/proc/self/clear_refs)"
            if reset
            else "ru_maxrss after the runs minus RSS once the input was ready (peak not "
            "resettable here: a higher peak while loading would hide the engine's)"
        ),
    }
    if engine.name == "polars":
        import polars as pl

        row["threads"] = pl.thread_pool_size()
    if engine.name.startswith("plan_"):
        # What the plan keeps alive once its input is gone (the input's ids, timestamps and
        # addresses it refers to included).
        del data
        memory.release()
        rss_plan = memory.rss_kib()
        if rss_plan is not None and rss_base is not None:
            row["plan_rss_kib"] = rss_plan - rss_base
            row["plan_bytes_per_purchase_rss"] = (rss_plan - rss_base) * 1024 / n_input
        # What the plan costs the caller's garbage collector: the objects it keeps
        # tracked, which every full collection walks for as long as the plan lives.
        row["plan_tracked_per_purchase"] = (len(gc.get_objects()) - tracked_base) / n_input
        start = time.perf_counter()
        gc.collect()
        row["plan_full_collection_s"] = time.perf_counter() - start
    return row


def measure_plan_memory(
    input_kind: str,
    n: int,
    *,
    seed: int = 1,
    years: int = 2,
    invalid_share: float = 0.01,
    cache_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Bytes a plan holds per purchase, traced with ``tracemalloc`` (exact Python
    allocations, but 2-4x slower, hence run on a small ``n`` and extrapolated)."""
    engine = ENGINES[f"plan_{input_kind}"]
    _warm_up(engine, years)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    raw, _ = load_records(
        n, seed=seed, years=years, invalid_share=invalid_share, cache_dir=cache_dir
    )
    data = engine.prepare(raw)
    del raw
    n_input = len(data)
    gc.collect()
    with_data = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    plan = _plan(data)
    peak = tracemalloc.get_traced_memory()[1]
    del data
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return {
        "engine": f"memory_{input_kind}",
        "input": input_kind,
        "n": n,
        "n_input": n_input,
        "invoices": len(plan.invoices),
        "plan_bytes": held,
        "plan_bytes_per_purchase": held / n_input,
        "traced_peak_bytes_per_purchase": (peak - with_data) / n_input,
        "method": "tracemalloc: bytes still allocated after planning and dropping the input, "
        "minus bytes allocated before the data was loaded",
    }


def check_agreement(
    n: int,
    *,
    seed: int = 1,
    years: int = 2,
    invalid_share: float = 0.01,
    cache_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Run the pandas and polars baselines and ``plan_invoices`` on the same ``n`` records
    and list every difference (see :func:`baselines.pandas_agreement`)."""
    records, _ = load_records(
        n, seed=seed, years=years, invalid_share=invalid_share, cache_dir=cache_dir
    )
    plan = _plan(records)
    out: dict[str, Any] = {"engine": "check", "n": n, "invoices": len(plan.invoices)}
    try:
        frame = baselines.pandas_frame(records)
    except ImportError as error:
        out["pandas"] = {"available": False, "error": str(error)}
    else:
        problems = baselines.pandas_agreement(baselines.pandas_job(frame), plan)
        out["pandas"] = {"available": True, "agrees": not problems, "problems": problems}
    try:
        groups = baselines.polars_job(baselines.polars_frame(records))
    except ImportError as error:
        out["polars"] = {"available": False, "error": str(error)}
    else:
        problems = baselines.polars_agreement(groups, plan)
        out["polars"] = {"available": True, "agrees": not problems, "problems": problems}
    return out


def generate_data(
    n: int, *, seed: int = 1, years: int = 2, invalid_share: float = 0.01, cache_dir: str | Path
) -> dict[str, Any]:
    """Generate the ``n`` records once and write them to ``cache_dir`` for the engines.

    Reports the times and this process's memory (``rss_base_kib``, ``process_peak_kib``:
    the suite's memory check extrapolates the generation's need like any engine's).
    """
    memory.release()
    rss_base = memory.rss_kib()
    start = time.perf_counter()
    generated = purchases(n, seed=seed, years=years, invalid_share=invalid_share)
    generate_s = time.perf_counter() - start
    path = cache_path(cache_dir, n, seed=seed, years=years, invalid_share=invalid_share)
    start = time.perf_counter()
    size = write_cache(generated, path)
    write_s = time.perf_counter() - start
    return {
        "engine": "generate",
        "n": n,
        "path": str(path),
        "format": "marshal",
        "bytes": size,
        "generate_s": generate_s,
        "write_s": write_s,
        "rss_base_kib": rss_base,
        "process_peak_kib": memory.peak_kib(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._one", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    choices = [*ENGINES, "memory_typed", "memory_dicts", "check", "generate"]
    parser.add_argument("--engine", required=True, choices=choices)
    parser.add_argument("--n", type=int, required=True, help="number of purchases")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--years", type=int, default=2, choices=(1, 2, 3))
    parser.add_argument("--invalid-share", type=float, default=0.01)
    parser.add_argument(
        "--cache-dir",
        help="load the records from here (generate: write them here); default: generate them",
    )
    args = parser.parse_args(argv)
    data = {"seed": args.seed, "years": args.years, "invalid_share": args.invalid_share,
            "cache_dir": args.cache_dir}  # fmt: skip
    if args.engine == "generate":
        if args.cache_dir is None:
            parser.error("--engine generate needs --cache-dir")
        row = generate_data(args.n, **data)
    elif args.engine == "check":
        row = check_agreement(args.n, **data)
    elif args.engine.startswith("memory_"):
        row = measure_plan_memory(args.engine.removeprefix("memory_"), args.n, **data)
    else:
        row = measure(args.engine, args.n, repeat=args.repeat, **data)
    print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
