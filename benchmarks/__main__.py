"""Benchmark plan_invoices against the floor of a bare dict grouping, in the same run.

    python -m benchmarks [--sizes 10000,100000] [--json results.json]

Baseline ("floor"): a bare Python loop over the same already-typed purchases that
builds the raw 5-field key tuple (name, org number, country, reference, currency) plus
the period and does ``dict.setdefault(key, []).append(p)``: no validation, no
normalization, no dates. Ratios are plan time / floor time on the same data.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from benchmarks.generate import purchases
from kravia_schedule import KraviaConfig, Purchase, __version__, plan_invoices
from kravia_schedule.calendar import HOLIDAYS_VERSION


def _time(fn: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _floor(typed: list[Purchase]) -> dict[tuple[Any, ...], list[Purchase]]:
    groups: dict[tuple[Any, ...], list[Purchase]] = {}
    for p in typed:
        a = p.billing_address
        key = (a.business_name, a.organization_number, a.country, a.customer_reference, p.currency,
               p.created_at.year, p.created_at.month)  # fmt: skip
        groups.setdefault(key, []).append(p)
    return groups


def run(sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    config = KraviaConfig.all_enabled()
    results = []
    for n in sizes:
        records = purchases(n, invalid_share=0.0)
        typed = [Purchase.from_dict(r) for r in records]
        floor = _time(partial(_floor, typed), repeat)
        from_typed = _time(partial(plan_invoices, typed, config), repeat)
        from_dicts = _time(partial(plan_invoices, records, config), repeat)
        plan = plan_invoices(typed, config)
        row = {
            "n": n,
            "invoices": len(plan.invoices),
            "floor_s": round(floor, 4),
            "typed_s": round(from_typed, 4),
            "dicts_s": round(from_dicts, 4),
            "typed_per_s": round(n / from_typed),
            "dicts_per_s": round(n / from_dicts),
            "typed_vs_floor": round(from_typed / floor, 2),
            "dicts_vs_floor": round(from_dicts / floor, 2),
        }
        results.append(row)
        print(
            f"n={n:>9,}  invoices={row['invoices']:>8,}  floor {floor:7.3f}s  "
            f"typed {from_typed:7.3f}s ({row['typed_vs_floor']:.1f}x floor, {row['typed_per_s']:,}/s)  "
            f"dicts {from_dicts:7.3f}s ({row['dicts_vs_floor']:.1f}x floor, {row['dicts_per_s']:,}/s)",
            flush=True,
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated purchase counts")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"kravia-schedule {__version__}, holidays {HOLIDAYS_VERSION}, Python {platform.python_version()}"
    )
    results = run(sizes, args.repeat)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"version": __version__, "python": sys.version, "results": results}, f, indent=2
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
