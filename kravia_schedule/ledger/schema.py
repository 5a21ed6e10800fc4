"""The ledger's tables, created and upgraded by numbered migrations.

``schema_version`` holds the number of the last migration applied; opening a ledger
applies the missing ones inside the same locked transaction, so two processes opening a
new ledger at once create it once. A step is portable SQL (SQLite and PostgreSQL run it
as is), SQL per backend (a mapping from the backend's name), or a function of the
connection (data that SQL alone cannot convert).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from kravia_schedule.ledger.backends import Backend, LedgerUnavailable

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "fingerprint", "instant", "migrate"]

Step = str | Mapping[str, tuple[str, ...]] | Callable[[Backend], None]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def instant(created_at: datetime) -> int:
    """An aware datetime as microseconds since 1970-01-01 UTC: one number per instant,
    so ``12:00+05:00`` sorts before ``08:00Z`` as it happened (its text sorts after).

    >>> instant(datetime.fromisoformat("2021-01-05T12:00:00+05:00")) < instant(
    ...     datetime.fromisoformat("2021-01-05T08:00:00+00:00"))
    True
    """
    return (created_at - _EPOCH) // timedelta(microseconds=1)


def fingerprint(record: Mapping[str, Any]) -> str:
    """What a recorded purchase is, as one text: its record in canonical JSON, its
    ``created_at`` in UTC. Two records of one instant written with different offsets are
    the same purchase, as the planner compares them (by instant).

    >>> a = {"id": "T1", "created_at": "2021-01-05T12:00:00+01:00", "amount": 5}
    >>> fingerprint(a) == fingerprint({**a, "created_at": "2021-01-05T11:00:00+00:00"})
    True
    """
    data = dict(record)
    created = data.get("created_at")
    if isinstance(created, str):
        data["created_at"] = datetime.fromisoformat(created).astimezone(UTC).isoformat()
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _refingerprint(db: Backend) -> None:
    """Every purchase recorded before migration 3 fingerprinted by instant."""
    rows = db.execute("SELECT id, record FROM purchases")
    db.executemany(
        "UPDATE purchases SET fingerprint = ? WHERE id = ?",
        [(fingerprint(json.loads(record)), tid) for tid, record in rows],
    )


def _nullable_vat(db: Backend) -> None:
    """SQLite: ``vat_amount`` of purchases and invoices without NOT NULL (the steps of
    https://sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes")."""
    if db.name != "sqlite":
        return
    version = int(db.execute("PRAGMA schema_version")[0][0])
    db.execute(
        "UPDATE sqlite_schema SET sql = replace(sql, 'vat_amount BIGINT NOT NULL', "
        "'vat_amount BIGINT') WHERE type = 'table' AND name IN ('purchases', 'invoices')"
    )
    db.execute(f"PRAGMA schema_version = {version + 1}")
    db.execute("PRAGMA writable_schema = OFF")
    problems = db.execute("PRAGMA integrity_check")
    if problems != [("ok",)]:
        raise LedgerUnavailable(f"the ledger failed its integrity check: {problems}")


def _fill_instants(db: Backend) -> None:
    """Give every purchase recorded before migration 2 its instant."""
    rows = db.execute("SELECT id, created_at FROM purchases")
    db.executemany(
        "UPDATE purchases SET created_us = ? WHERE id = ?",
        [(instant(datetime.fromisoformat(text)), tid) for tid, text in rows],
    )


def _rebuilt(table: str, columns: str, copy: str) -> tuple[str, ...]:
    """SQLite's way to add NOT NULL to a column: a new table, copied, renamed."""
    return (
        f"CREATE TABLE {table}_new ({columns})",
        f"INSERT INTO {table}_new SELECT {copy} FROM {table}",
        f"DROP TABLE {table}",
        f"ALTER TABLE {table}_new RENAME TO {table}",
    )


MIGRATIONS: tuple[tuple[Step, ...], ...] = (
    (
        """CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
        # One row per purchase: its record, lifecycle balance, and where it is billed.
        """CREATE TABLE purchases (
            id TEXT PRIMARY KEY,
            seq BIGINT NOT NULL,
            fingerprint TEXT NOT NULL,
            record TEXT NOT NULL,
            product_type TEXT NOT NULL,
            status TEXT NOT NULL,
            issued INTEGER NOT NULL,
            purchased BIGINT NOT NULL,
            authorized BIGINT NOT NULL,
            captured BIGINT NOT NULL,
            voided BIGINT NOT NULL,
            refunded BIGINT NOT NULL,
            vat_amount BIGINT NOT NULL,
            currency TEXT NOT NULL,
            country TEXT NOT NULL,
            customer TEXT NOT NULL,
            created_at TEXT NOT NULL,
            period TEXT,
            issue_date TEXT NOT NULL,
            late INTEGER NOT NULL,
            invoice_id TEXT
        )""",
        """CREATE INDEX purchases_to_issue ON purchases (issue_date) WHERE issued = 0""",
        """CREATE INDEX purchases_by_invoice ON purchases (invoice_id)""",
        """CREATE INDEX purchases_by_customer ON purchases (customer)""",
        """CREATE TABLE invoices (
            id TEXT PRIMARY KEY,
            product_type TEXT NOT NULL,
            customer TEXT NOT NULL,
            billing_address TEXT NOT NULL,
            currency TEXT NOT NULL,
            country TEXT NOT NULL,
            period TEXT,
            issue_date TEXT NOT NULL,
            due_date TEXT NOT NULL,
            amount BIGINT NOT NULL,
            vat_amount BIGINT NOT NULL,
            paid BIGINT NOT NULL,
            issued_as_of TEXT NOT NULL
        )""",
        """CREATE INDEX invoices_by_customer ON invoices (customer)""",
        """CREATE TABLE payments (
            id TEXT PRIMARY KEY,
            invoice_id TEXT NOT NULL REFERENCES invoices (id),
            amount BIGINT NOT NULL,
            method TEXT NOT NULL,
            allocation TEXT NOT NULL
        )""",
        """CREATE TABLE refunds (
            id TEXT PRIMARY KEY,
            transaction_id TEXT NOT NULL REFERENCES purchases (id),
            amount BIGINT NOT NULL
        )""",
        # Every state change of every transaction, in order.
        """CREATE TABLE history (
            transaction_id TEXT NOT NULL REFERENCES purchases (id),
            step INTEGER NOT NULL,
            action TEXT NOT NULL,
            from_state TEXT NOT NULL,
            to_state TEXT NOT NULL,
            amount BIGINT,
            reference TEXT,
            PRIMARY KEY (transaction_id, step)
        )""",
    ),
    (
        # Idempotency keys are never NULL (SQLite let a NULL into a TEXT PRIMARY KEY, so
        # every key-less payment was a new one). A key-less payment or refund recorded
        # before keeps its money and gets the key ``unkeyed-<row number>``. Nothing
        # refers to these tables, so SQLite can rebuild them; PostgreSQL's primary keys
        # are NOT NULL already.
        {
            "sqlite": (
                *_rebuilt(
                    "payments",
                    "id TEXT NOT NULL PRIMARY KEY, "
                    "invoice_id TEXT NOT NULL REFERENCES invoices (id), "
                    "amount BIGINT NOT NULL, method TEXT NOT NULL, allocation TEXT NOT NULL",
                    "COALESCE(id, 'unkeyed-' || rowid), invoice_id, amount, method, allocation",
                ),
                *_rebuilt(
                    "refunds",
                    "id TEXT NOT NULL PRIMARY KEY, "
                    "transaction_id TEXT NOT NULL REFERENCES purchases (id), "
                    "amount BIGINT NOT NULL",
                    "COALESCE(id, 'unkeyed-' || rowid), transaction_id, amount",
                ),
            ),
            "postgresql": (
                "ALTER TABLE payments ALTER COLUMN id SET NOT NULL",
                "ALTER TABLE refunds ALTER COLUMN id SET NOT NULL",
            ),
        },
        # A customer's purchases are ordered by instant (see :func:`instant`).
        "ALTER TABLE purchases ADD COLUMN created_us BIGINT NOT NULL DEFAULT 0",
        _fill_instants,
    ),
    # A purchase's fingerprint reads its created_at as an instant (see fingerprint).
    (_refingerprint,),
    (
        # Dintero's latest view of every transaction it reported (Ledger.sync), a card
        # payment or a declined one too: ``reason`` says why one is outside the lifecycle.
        """CREATE TABLE synced (
            id TEXT PRIMARY KEY,
            payment_product_type TEXT,
            status TEXT NOT NULL,
            settlement_status TEXT,
            moment_us BIGINT,
            event_count INTEGER,
            record TEXT,
            reason TEXT
        )""",
        # Unknown VAT is NULL, never 0. SQLite drops a NOT NULL by editing the table's
        # definition in place (its documented way for a change of no stored data).
        {
            "sqlite": ("PRAGMA writable_schema = ON",),
            "postgresql": (
                "ALTER TABLE purchases ALTER COLUMN vat_amount DROP NOT NULL",
                "ALTER TABLE invoices ALTER COLUMN vat_amount DROP NOT NULL",
            ),
        },
        _nullable_vat,
    ),
    (
        # The steps of a synced copy that wait for the transaction's grouped invoice to be
        # issued (Dintero shows it paid first), in their order; ``issue`` applies them and
        # deletes them.
        """CREATE TABLE deferred (
            transaction_id TEXT NOT NULL REFERENCES purchases (id),
            step INTEGER NOT NULL,
            action TEXT NOT NULL,
            amount BIGINT,
            reference TEXT,
            PRIMARY KEY (transaction_id, step)
        )""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def _run(db: Backend, step: Step) -> None:
    if isinstance(step, str):
        db.execute(step)
    elif isinstance(step, Mapping):
        for statement in step[db.name]:
            db.execute(statement)
    else:
        step(db)


def migrate(db: Backend) -> int:
    """Bring the schema up to :data:`SCHEMA_VERSION`; returns the version found before."""
    with db.write():
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        rows = db.execute("SELECT version FROM schema_version")
        found = int(rows[0][0]) if rows else 0
        if found > SCHEMA_VERSION:
            raise LedgerUnavailable(
                f"the ledger's schema version {found} is newer than this library's "
                f"({SCHEMA_VERSION}): upgrade kravia-schedule to open it"
            )
        for steps in MIGRATIONS[found:]:
            for step in steps:
                _run(db, step)
        if not rows:
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        elif found != SCHEMA_VERSION:
            db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
    return found
