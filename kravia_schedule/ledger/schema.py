"""The ledger's tables, created and upgraded by numbered migrations.

``schema_version`` holds the number of the last migration applied; opening a ledger
applies the missing ones inside the same locked transaction, so two processes opening a
new ledger at once create it once. Portable SQL: SQLite and PostgreSQL run it as is.
"""

from __future__ import annotations

from kravia_schedule.ledger.backends import Backend

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate"]

MIGRATIONS: tuple[tuple[str, ...], ...] = (
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
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: Backend) -> int:
    """Bring the schema up to :data:`SCHEMA_VERSION`; returns the version found before."""
    with db.write():
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        rows = db.execute("SELECT version FROM schema_version")
        found = int(rows[0][0]) if rows else 0
        if found > SCHEMA_VERSION:
            raise RuntimeError(
                f"ledger schema version {found} is newer than this library ({SCHEMA_VERSION})"
            )
        for statements in MIGRATIONS[found:]:
            for statement in statements:
                db.execute(statement)
        if not rows:
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        elif found != SCHEMA_VERSION:
            db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
    return found
