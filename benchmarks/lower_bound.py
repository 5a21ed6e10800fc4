"""What a pure-Python plan costs at least: a stripped-down plan, step by step, against the floor.

    python -m benchmarks.lower_bound --n 1000000 [--repeat 3] [--seed 1]

The issue's targets put ``plan_invoices`` within 2x the floor on typed purchases and 3x
on dicts. The floor (:mod:`benchmarks.baselines`) only groups the records by their raw
key. These steps add, one at a time, what no plan can leave out, each done the cheapest
way and measured in the same process on the same data (each step includes the ones
before it):

1. ``period``: the key gets the billing period (the month start of the UTC day, from a
   table built untimed: no time zones, no calendars); on dicts this parses the
   timestamp (``fromisoformat``);
2. ``lines, ids``: only ``AUTHORIZED`` purchases, a line tuple per purchase instead of
   the record (a plan keeps ids, not purchases) and a check that no transaction id came
   before;
3. ``invoices``: per group, its lines in order, its two totals and an 8-byte BLAKE2b id
   (a tuple, no class).

``plan_invoices`` is timed last, for comparison. None of the steps validates,
normalizes customers, applies a calendar or orders the invoices: each is a lower bound
for what the plan does, not a competitor.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from benchmarks.baselines import floor_dicts, floor_typed
from benchmarks.generate import purchases, typed
from kravia_schedule import KraviaConfig, Purchase, TransactionStatus, plan_invoices

__all__ = ["dict_steps", "main", "month_starts", "options", "print_steps", "run", "typed_steps"]

Groups = dict[tuple[Any, ...], list[Any]]
_AUTHORIZED = TransactionStatus.AUTHORIZED


def month_starts(instants: Iterable[datetime]) -> dict[float, date]:
    """The first day of the UTC month of each UTC day (``timestamp // 86400``) seen."""
    table: dict[float, date] = {}
    for instant in instants:
        day = instant.timestamp() // 86400.0
        if day not in table:
            table[day] = datetime.fromtimestamp(day * 86400.0, UTC).date().replace(day=1)
    return table


# Each step reads its input inline (a function call per record would cost more than
# some steps): one loop per step and kind of input.


def _period_typed(data: Iterable[Purchase], starts: dict[float, date]) -> Groups:
    groups: Groups = {}
    for p in data:
        key = (id(p.billing_address), p.currency, starts[p.created_at.timestamp() // 86400.0])
        group = groups.get(key)
        if group is None:
            groups[key] = [p]
        else:
            group.append(p)
    return groups


def _period_dicts(records: Iterable[Mapping[str, Any]], starts: dict[float, date]) -> Groups:
    fromisoformat = datetime.fromisoformat
    groups: Groups = {}
    for r in records:
        a = r["billing_address"]
        day = fromisoformat(r["created_at"]).timestamp() // 86400.0
        key = (a["business_name"], a["organization_number"], a["country"],
               a.get("customer_reference"), r["currency"], starts[day])  # fmt: skip
        group = groups.get(key)
        if group is None:
            groups[key] = [r]
        else:
            group.append(r)
    return groups


def _lines_typed(data: Iterable[Purchase], starts: dict[float, date]) -> Groups:
    seen: set[str] = set()
    groups: Groups = {}
    for p in data:
        if p.status is not _AUTHORIZED:
            continue
        pid = p.id
        if pid in seen:
            continue
        seen.add(pid)
        instant = p.created_at
        key = (id(p.billing_address), p.currency, starts[instant.timestamp() // 86400.0])
        line = (instant, pid, p.amount, p.vat_amount, p.merchant_reference)
        group = groups.get(key)
        if group is None:
            groups[key] = [line]
        else:
            group.append(line)
    return groups


def _lines_dicts(records: Iterable[Mapping[str, Any]], starts: dict[float, date]) -> Groups:
    fromisoformat = datetime.fromisoformat
    seen: set[str] = set()
    groups: Groups = {}
    for r in records:
        if r["status"] != "AUTHORIZED":
            continue
        pid = r["id"]
        if pid in seen:
            continue
        seen.add(pid)
        a = r["billing_address"]
        instant = fromisoformat(r["created_at"])
        day = instant.timestamp() // 86400.0
        key = (a["business_name"], a["organization_number"], a["country"],
               a.get("customer_reference"), r["currency"], starts[day])  # fmt: skip
        line = (instant, pid, r["amount"], r["vat_amount"], r.get("merchant_reference"))
        group = groups.get(key)
        if group is None:
            groups[key] = [line]
        else:
            group.append(line)
    return groups


def _invoices(groups: Groups) -> list[tuple[Any, ...]]:
    """Per group: its lines in order, its totals and an 8-byte BLAKE2b id of its key."""
    fresh = hashlib.blake2b(digest_size=8).copy
    invoices = []
    for key, lines in groups.items():
        if len(lines) > 1:
            lines.sort()
        digest = fresh()
        digest.update("\x1f".join(map(str, key)).encode())
        amount = sum(line[2] for line in lines)
        vat = sum(line[3] for line in lines)
        invoices.append((digest.hexdigest(), key, tuple(lines), amount, vat))
    return invoices


def typed_steps(data: Sequence[Purchase]) -> list[tuple[str, Callable[[], object]]]:
    """The steps over typed purchases, in order, the floor first and the plan last."""
    starts = month_starts(p.created_at for p in data)
    config = KraviaConfig.all_enabled()
    return [
        ("floor", lambda: floor_typed(data)),
        ("+ period", lambda: _period_typed(data, starts)),
        ("+ lines, ids", lambda: _lines_typed(data, starts)),
        ("+ invoices", lambda: _invoices(_lines_typed(data, starts))),
        ("plan_invoices", lambda: plan_invoices(data, config)),
    ]


def dict_steps(records: Sequence[Mapping[str, Any]]) -> list[tuple[str, Callable[[], object]]]:
    """The steps over dicts (the plainly valid ones: the steps do not validate)."""
    valid = [r for r in records if type(r.get("amount")) is int]
    starts = month_starts(datetime.fromisoformat(r["created_at"]) for r in valid)
    config = KraviaConfig.all_enabled()
    return [
        ("floor", lambda: floor_dicts(valid)),
        ("+ period", lambda: _period_dicts(valid, starts)),
        ("+ lines, ids", lambda: _lines_dicts(valid, starts)),
        ("+ invoices", lambda: _invoices(_lines_dicts(valid, starts))),
        ("plan_invoices", lambda: plan_invoices(valid, config)),
    ]


def run(steps: Sequence[tuple[str, Callable[[], object]]], repeat: int) -> dict[str, float]:
    """The best time of each step over ``repeat`` rounds (the steps alternate within a
    round, so a slow spell of the machine touches all of them), the collector paused."""
    best: dict[str, float] = {}
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            for name, step in steps:
                start = time.perf_counter()
                result = step()
                elapsed = time.perf_counter() - start
                del result
                best[name] = min(elapsed, best.get(name, elapsed))
    finally:
        if was_enabled:
            gc.enable()
    return best


def options(module: str, doc: str | None, argv: Sequence[str] | None) -> argparse.Namespace:
    """``--n``, ``--repeat`` and ``--seed`` of a step-by-step bound's command line
    (``python -m <module>``, described by the first paragraph of ``doc``)."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {module}", description=doc.split("\n\n")[0] if doc else None
    )
    parser.add_argument("--n", type=int, default=1_000_000, help="purchases")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many rounds")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeat < 1:
        parser.error("--n and --repeat must be positive")
    return args


def print_steps(title: str, best: Mapping[str, float], baseline: str, label: str) -> None:
    """``title``, then each step's best time and its ratio to step ``baseline``'s
    (``label`` names it)."""
    print(title)
    for name, seconds in best.items():
        print(f"  {name:15s} {seconds:8.3f} s  {seconds / best[baseline]:5.1f}x {label}")


def main(argv: Sequence[str] | None = None) -> int:
    args = options("benchmarks.lower_bound", __doc__, argv)
    records = purchases(args.n, seed=args.seed)
    for kind, steps in (("typed", typed_steps(typed(records))), ("dicts", dict_steps(records))):
        best = run(steps, args.repeat)
        print_steps(f"{kind} (n={args.n:,}, best of {args.repeat}):", best, "floor", "floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
