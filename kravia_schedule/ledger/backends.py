"""Where a ledger lives: SQLite (embedded, the default) or PostgreSQL (shared by replicas).

Both run the same SQL, written with ``?`` placeholders. Every ledger operation is one
database transaction that holds the ledger's write lock from its first statement, so
concurrent writers (threads, processes, replicas) take turns: SQLite through
``BEGIN IMMEDIATE``, PostgreSQL through a transaction-scoped advisory lock.

One backend (one connection) may be shared by threads: a lock lets one transaction at a
time use the connection, so a thread never runs its statements inside another thread's
transaction. Every wait, for that lock or for the database's write lock, ends after
``lock_timeout`` seconds with :class:`LedgerBusy`; a database that cannot be opened at
all raises :class:`LedgerUnavailable`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from kravia_schedule.errors import LedgerError

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "Backend",
    "LedgerBusy",
    "LedgerUnavailable",
    "PostgresBackend",
    "SQLiteBackend",
    "one_line",
    "open_backend",
    "redacted",
]

#: pg_advisory_xact_lock key for the ledger's write lock ("KRAV" in ASCII).
_ADVISORY_KEY = 0x4B524156
#: Seconds an operation waits for the ledger's write lock before giving up.
DEFAULT_LOCK_TIMEOUT = 60.0
#: A day: a longer wait is a hang, and Python's lock refuses infinite ones.
_MAX_LOCK_TIMEOUT = 86_400.0


class LedgerUnavailable(LedgerError):
    """The ledger's database cannot be opened or used (path, server, driver, schema)."""


class LedgerBusy(LedgerError):
    """The ledger's write lock stayed taken longer than the lock timeout; nothing was
    written, and the operation may be retried."""


class Backend(Protocol):
    """A database connection that runs the ledger's SQL."""

    name: str
    #: The driver's errors: a database that is not a ledger, or went away.
    errors: tuple[type[Exception], ...]

    def write(self) -> Any:  # a context manager: one locked read-write transaction
        ...

    def read(self) -> Any:  # a context manager: one consistent read-only transaction
        ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def close(self) -> None: ...


def one_line(error: BaseException) -> str:
    """A driver's message on one line (a server's can hold several)."""
    return " ".join(str(error).split())


def redacted(target: str | Path) -> str:
    """``target`` as it may be printed: a URL's password replaced by ``***``.

    >>> redacted("postgresql://app:secret@db.example/ledger")
    'postgresql://app:***@db.example/ledger'
    """
    text = str(target)
    parts = urlsplit(text)
    if parts.password is None:
        return text
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


class _Turns:
    """The connection's turns: one transaction at a time, waiting at most ``timeout``."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()

    @contextmanager
    def take(self) -> Iterator[None]:
        if not self._lock.acquire(timeout=self.timeout):
            raise LedgerBusy(
                f"another thread kept this ledger's connection for over {self.timeout:g} s"
            )
        try:
            yield
        finally:
            self._lock.release()


class SQLiteBackend:
    """A SQLite file (or ``:memory:``), with WAL so readers never wait for the writer."""

    name = "sqlite"
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, path: str | Path, *, timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.path = str(path)
        if not self.path.strip():
            # "" is SQLite's private temporary database: everything recorded would vanish
            # when the connection closes.
            raise LedgerUnavailable(
                "no ledger database given: name a SQLite file or a postgresql:// URL"
            )
        self.turns = _Turns(timeout)
        try:
            self.connection = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as error:
            raise LedgerUnavailable(
                f"cannot open the ledger {self.path}: {one_line(error)}"
            ) from None
        try:
            self.connection.execute("PRAGMA foreign_keys = ON")
            if self.path != ":memory:":
                self.connection.execute("PRAGMA journal_mode = WAL")
                self.connection.execute("PRAGMA synchronous = FULL")  # durable at COMMIT
        except sqlite3.Error as error:
            self.connection.close()
            raise LedgerUnavailable(
                f"cannot open the ledger {self.path}: {one_line(error)}"
            ) from None

    def _begin(self, statement: str) -> None:
        try:
            self.connection.execute(statement)
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise LedgerBusy(
                    f"the ledger {self.path} stayed locked by another writer for over "
                    f"{self.turns.timeout:g} s"
                ) from None
            raise LedgerUnavailable(
                f"cannot use the ledger {self.path}: {one_line(error)}"
            ) from None

    @contextmanager
    def write(self) -> Iterator[None]:
        with self.turns.take():
            self._begin("BEGIN IMMEDIATE")  # the write lock, taken up front
            try:
                yield
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[None]:
        with self.turns.take():
            self._begin("BEGIN")
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
    errors: tuple[type[Exception], ...]

    def __init__(self, url: str, *, timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        try:
            import psycopg
        except ImportError:
            raise LedgerUnavailable(
                "a PostgreSQL ledger needs psycopg: pip install 'kravia-schedule[postgres]'"
            ) from None
        self.url = url
        self.errors = (psycopg.Error,)
        self.turns = _Turns(timeout)
        try:
            self.connection = psycopg.connect(url, autocommit=True)
            # The advisory lock waits at most this long (then LockNotAvailable).
            self.connection.execute(f"SET lock_timeout = {max(1, round(timeout * 1000))}")
        except psycopg.Error as error:
            raise LedgerUnavailable(
                f"cannot open the ledger {redacted(url)}: {one_line(error)}"
            ) from None

    @contextmanager
    def write(self) -> Iterator[None]:
        import psycopg

        with self.turns.take(), self.connection.transaction():
            try:
                self.connection.execute("SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_KEY,))
            except psycopg.errors.LockNotAvailable:
                raise LedgerBusy(
                    f"the ledger {redacted(self.url)} stayed locked by another writer for "
                    f"over {self.turns.timeout:g} s"
                ) from None
            yield

    @contextmanager
    def read(self) -> Iterator[None]:
        with self.turns.take(), self.connection.transaction():
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


def open_backend(
    target: str | Path, *, timeout: float = DEFAULT_LOCK_TIMEOUT
) -> SQLiteBackend | PostgresBackend:
    """``postgresql://…`` (or ``postgres://…``) opens PostgreSQL; anything else is a SQLite path.

    ``timeout`` bounds, in seconds, every wait for the ledger's write lock.
    """
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not 0 < timeout <= _MAX_LOCK_TIMEOUT
    ):
        raise LedgerError(
            f"lock_timeout must be a number of seconds above 0, at most a day, got {timeout!r}"
        )
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        return PostgresBackend(text, timeout=timeout)
    return SQLiteBackend(text, timeout=timeout)
