"""Benchmark the ledger: record and issue N purchases on SQLite (and PostgreSQL).

    python -m benchmarks.ledger [--n 100000] [--postgres URL]

``--postgres`` takes a server URL whose user may create databases; the benchmark runs in
a database of its own and drops it after.

Baseline, measured in the same run on the same rows: a bare ``executemany`` INSERT of
the purchase rows into a table of the same shape (no validation, no history, no
idempotency check). The ratio says what the ledger's guarantees cost.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmarks.generate import purchases
from kravia_schedule.ledger import Ledger


def _bare_insert(target: str, rows: list[tuple[object, ...]]) -> float:
    start = time.perf_counter()
    if target.startswith("postgres"):
        import psycopg

        with psycopg.connect(target) as conn:
            conn.execute("DROP TABLE IF EXISTS bare")
            conn.execute("CREATE TABLE bare (id TEXT PRIMARY KEY, record TEXT, amount BIGINT)")
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO bare VALUES (%s, %s, %s)", rows)
    else:
        conn = sqlite3.connect(target)
        conn.execute("CREATE TABLE bare (id TEXT PRIMARY KEY, record TEXT, amount BIGINT)")
        with conn:
            conn.executemany("INSERT INTO bare VALUES (?, ?, ?)", rows)
        conn.close()
    return time.perf_counter() - start


def _run(name: str, target: str, bare_target: str, n: int) -> None:
    import json

    records = [r for r in purchases(n, invalid_share=0.0) if r["status"] == "AUTHORIZED"]
    rows = [(r["id"], json.dumps(r), r["amount"]) for r in records]
    bare = _bare_insert(bare_target, rows)
    with Ledger.open(target) as ledger:
        start = time.perf_counter()
        for chunk in range(0, len(records), 10_000):
            ledger.record(records[chunk : chunk + 10_000])
        recorded = time.perf_counter() - start
        start = time.perf_counter()
        invoices = ledger.issue(date(2030, 1, 1))
        issued = time.perf_counter() - start
    count = len(records)
    print(
        f"{name:<10} n={count:>9,}  record {recorded:7.2f} s ({count / recorded:>9,.0f}/s, "
        f"{recorded / bare:5.1f}x bare executemany {bare:.2f} s)  issue {issued:6.2f} s "
        f"({len(invoices):,} invoices, {count / issued:,.0f} purchases/s)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ledger", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument(
        "--postgres", metavar="URL", help="also run against this PostgreSQL database"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        _run("sqlite", str(Path(folder) / "ledger.db"), str(Path(folder) / "bare.db"), args.n)
    if args.postgres:
        import uuid

        import psycopg

        name = f"kravia_bench_{uuid.uuid4().hex[:10]}"  # a fresh database, dropped after
        with psycopg.connect(args.postgres, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = f"{args.postgres.rpartition('/')[0]}/{name}"
        try:
            _run("postgresql", url, url, args.n)
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
