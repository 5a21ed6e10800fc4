"""Where a ledger lives: SQLite (embedded, the default) or PostgreSQL (shared by replicas).

Both run the same SQL, written with ``?`` placeholders. Every ledger operation is one
database transaction that holds the ledger's write lock from its first statement, so
concurrent writers (threads, processes, replicas) take turns: SQLite through
``BEGIN IMMEDIATE``, PostgreSQL through a transaction-scoped advisory lock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

__all__ = ["Backend", "PostgresBackend", "SQLiteBackend", "open_backend"]

#: pg_advisory_xact_lock key for the ledger's write lock ("KRAV" in ASCII).
_ADVISORY_KEY = 0x4B524156


class Backend(Protocol):
    """A database connection that runs the ledger's SQL."""

    name: str

    def write(self) -> Any:  # a context manager: one locked read-write transaction
        ...

    def read(self) -> Any:  # a context manager: one consistent read-only transaction
        ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def close(self) -> None: ...


class SQLiteBackend:
    """A SQLite file (or ``:memory:``), with WAL so readers never wait for the writer."""

    name = "sqlite"

    def __init__(self, path: str | Path, *, timeout: float = 60.0) -> None:
        self.path = str(path)
        self.connection = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        self.connection.execute("PRAGMA foreign_keys = ON")
        if self.path != ":memory:":
            self.connection.execute("PRAGMA journal_mode = WAL")
            self.connection.execute("PRAGMA synchronous = FULL")  # durable at COMMIT

    @contextmanager
    def write(self) -> Iterator[None]:
        self.connection.execute("BEGIN IMMEDIATE")  # the write lock, taken up front
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[None]:
        self.connection.execute("BEGIN")
        try:
            yield
        finally:
            self.connection.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql, params).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.connection.executemany(sql, rows)

    def close(self) -> None:
        self.connection.close()


class PostgresBackend:
    """A PostgreSQL database reached with psycopg 3 (the ``[postgres]`` extra)."""

    name = "postgresql"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError as error:  # pragma: no cover - only without the extra
            raise ImportError(
                "a PostgreSQL ledger needs psycopg: pip install 'kravia-schedule[postgres]'"
            ) from error
        self.url = url
        self.connection = psycopg.connect(url, autocommit=True)

    @contextmanager
    def write(self) -> Iterator[None]:
        with self.connection.transaction():
            self.connection.execute("SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_KEY,))
            yield

    @contextmanager
    def read(self) -> Iterator[None]:
        with self.connection.transaction():
            self.connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.connection.execute(sql.replace("?", "%s"), params)
        return cursor.fetchall() if cursor.description else []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.connection.cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), rows)

    def close(self) -> None:
        self.connection.close()


def open_backend(target: str | Path) -> SQLiteBackend | PostgresBackend:
    """``postgresql://…`` (or ``postgres://…``) opens PostgreSQL; anything else is a SQLite path."""
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        return PostgresBackend(text)
    return SQLiteBackend(text)
