"""Every ``ledger`` subcommand against a table of bad inputs.

Each row: the documented exit status (2: the command could not run; 0: done), one error
line on stderr naming the file, record, field or database, and never a traceback.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _ledger_records import JANUARY, purchase

from kravia_schedule.cli import main
from kravia_schedule.ledger import SCHEMA_VERSION, Ledger

#: Builds a scenario's files in a temporary directory: returns (db, file) as given on
#: the command line. ``{db}`` and ``{file}`` in a row's arguments are replaced by them.
Setup = Callable[[Path], tuple[str, str]]


def _ledger(tmp: Path) -> str:
    """A ledger holding JANUARY, its invoice issued."""
    db = str(tmp / "ledger.db")
    with Ledger.open(db) as ledger:
        ledger.record(JANUARY)
    return db


def _file(name: str, content: bytes | str) -> Setup:
    def setup(tmp: Path) -> tuple[str, str]:
        path = tmp / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return str(tmp / "ledger.db"), str(path)

    return setup


def _records(*records: dict[str, Any]) -> Setup:
    return _file("p.jsonl", "".join(json.dumps(r) + "\n" for r in records))


def _db(make: Callable[[Path], str]) -> Setup:
    def setup(tmp: Path) -> tuple[str, str]:
        (tmp / "p.jsonl").write_text(json.dumps(JANUARY[0]) + "\n")
        return make(tmp), str(tmp / "p.jsonl")

    return setup


def _corrupt(tmp: Path) -> str:
    (tmp / "corrupt.db").write_bytes(b"SQLite? no." * 500)
    return str(tmp / "corrupt.db")


def _not_a_ledger(tmp: Path) -> str:
    import sqlite3

    with sqlite3.connect(tmp / "other.db") as other:  # some other program's database
        other.execute("CREATE TABLE schema_version (release TEXT)")
    return str(tmp / "other.db")


def _newer(tmp: Path) -> str:
    db = _ledger(tmp)
    with Ledger.open(db) as ledger, ledger.db.write():
        ledger.db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    return db


def _under_a_file(tmp: Path) -> str:
    (tmp / "plain").write_text("x")
    return str(tmp / "plain" / "ledger.db")


def _good(tmp: Path) -> tuple[str, str]:
    db = _ledger(tmp)
    (tmp / "p.jsonl").write_text(json.dumps(JANUARY[0]) + "\n")
    return db, str(tmp / "p.jsonl")


HUGE = dict(purchase("HUGE", "2021-01-05T10:00:00+01:00"), amount=10**25)
BAD_DATE = dict(purchase("BADDATE", "2021-01-05T10:00:00+01:00"), created_at="2021-13-45T10:00Z")
LAST_DAY = purchase("Y9999", "9999-12-15T10:00:00Z")

FILES: list[tuple[str, Setup, str]] = [
    # (case, setup, what the error line names)
    ("missing file", lambda tmp: (str(tmp / "l.db"), str(tmp / "absent.jsonl")), "absent.jsonl"),
    ("directory", lambda tmp: (str(tmp / "l.db"), str(tmp)), "Is a directory"),
    ("binary", _file("p.jsonl", bytes(range(256)) * 4), "a binary file, not JSON or CSV text"),
    ("truncated JSON array", _file("p.json", '[{"id": "T1", "amount": 1'), "not valid JSON"),
    ("truncated JSON line", _file("p.jsonl", json.dumps(JANUARY[0])[:-9]), "line 1"),
    ("deeply nested JSON", _file("p.json", "[" * 100_000 + "]" * 100_000), "p.json"),
    ("JSON that is no array", _file("p.json", "17"), "array"),
    ("huge amount", _records(HUGE), "'HUGE': amount"),
    ("bad date", _records(BAD_DATE), "'BADDATE': created_at"),
    ("year 9999", _records(LAST_DAY), "'Y9999': created_at"),
    ("conflicting copies", _records(JANUARY[0], dict(JANUARY[0], amount=5_001)), "share id 'T1'"),
]


@pytest.mark.parametrize(("case", "setup", "named"), FILES, ids=[row[0] for row in FILES])
def test_record_refuses_a_bad_file_with_one_line(
    tmp_path: Path, capsys: Any, case: str, setup: Setup, named: str
) -> None:
    db, path = setup(tmp_path)
    status, err = _run(capsys, "ledger", "--db", db, "record", path)
    assert status == 2, case
    assert named in _error_line(err)
    if case in {"missing file", "directory", "binary", "truncated JSON array",
                "deeply nested JSON", "JSON that is no array"}:  # fmt: skip
        status, err = _run(capsys, "ledger", "--db", db, "sync", path)
        assert status == 2, case  # sync reads the file as record does
        assert named in _error_line(err)
    elif case == "truncated JSON line":  # one bad line: refused, the others synced
        status, err = _run(capsys, "ledger", "--db", db, "sync", path)
        assert status == 1
        assert "line 1" in err
        assert "Traceback" not in err
    if not Path(db).exists():  # a file that cannot be read leaves no database behind
        assert case in {"missing file", "directory", "binary", "truncated JSON array",
                        "deeply nested JSON", "JSON that is no array"}  # fmt: skip


def test_record_of_an_empty_file_records_nothing_and_says_so(tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "empty.jsonl").write_text("")
    status = main(
        ["ledger", "--db", str(tmp_path / "l.db"), "record", str(tmp_path / "empty.jsonl")]
    )
    out, err = capsys.readouterr()
    assert status == 0
    assert "recorded 0 purchase(s)" in out
    assert "empty.jsonl holds no records" in err


def test_record_skip_invalid_skips_conflicts_and_reports_each(tmp_path: Path, capsys: Any) -> None:
    db = _ledger(tmp_path)
    path = tmp_path / "p.jsonl"
    rows = [dict(JANUARY[0], amount=5_001), JANUARY[1], HUGE, LAST_DAY,
            purchase("NEW", "2021-01-25T10:00:00+01:00")]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n")
    status = main(["ledger", "--db", db, "record", str(path), "--skip-invalid"])
    out, err = capsys.readouterr()
    assert status == 0
    assert "recorded 1 purchase(s); 1 already there unchanged; 4 invalid or not new, skipped" in out
    assert "'T1' is already recorded with other content" in err
    assert "'HUGE': amount" in err
    assert "'Y9999': created_at" in err
    assert "line 6: not valid JSON" in err
    assert "Traceback" not in err


DATABASES: list[tuple[str, Callable[[Path], str], str]] = [
    ("empty name", lambda tmp: "", "no ledger database given"),
    ("blank name", lambda tmp: "  ", "no ledger database given"),
    ("directory", lambda tmp: str(tmp), "unable to open"),
    ("missing directory", lambda tmp: str(tmp / "no" / "such" / "l.db"), "unable to open"),
    ("under a plain file", _under_a_file, "unable to open"),
    ("corrupt file", _corrupt, "not a database"),
    ("another program's database", _not_a_ledger, "no such column: version"),
    ("newer schema", _newer, "newer than this library"),
    (
        "unreachable server",
        lambda tmp: "postgresql://u:pw@127.0.0.1:1/x?connect_timeout=2",
        "u:***@",
    ),
]

COMMANDS: list[tuple[str, ...]] = [
    ("record", "{file}"),
    ("record", "{file}", "--skip-invalid"),
    ("sync", "{file}"),
    ("due", "--as-of", "2021-02-01"),
    ("issue", "--as-of", "2021-02-01"),
    ("pay", "G-x", "100", "--payment-id", "p1"),
    ("void", "T1"),
    ("refund", "T1", "100", "--refund-id", "r1"),
    ("show", "invoice", "G-x"),
    ("show", "transaction", "T1"),
    ("show", "customer", "NO", "923609016"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
@pytest.mark.parametrize(("case", "make", "named"), DATABASES, ids=[row[0] for row in DATABASES])
def test_every_command_refuses_a_database_it_cannot_use(
    tmp_path: Path,
    capsys: Any,
    command: tuple[str, ...],
    case: str,
    make: Callable[[Path], str],
    named: str,
) -> None:
    if case == "unreachable server":
        pytest.importorskip("psycopg")
    db, path = _db(make)(tmp_path)
    argv = [a.replace("{file}", path) for a in command]
    status, err = _run(capsys, "ledger", "--db", db, *argv)
    assert status == 2
    line = _error_line(err)
    assert named in line
    assert "pw" not in line


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_every_command_says_what_a_postgres_ledger_needs_without_psycopg(
    tmp_path: Path, capsys: Any, monkeypatch: Any, command: tuple[str, ...]
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as without the [postgres] extra
    (tmp_path / "p.jsonl").write_text(json.dumps(JANUARY[0]) + "\n")
    argv = [a.replace("{file}", str(tmp_path / "p.jsonl")) for a in command]
    status, err = _run(capsys, "ledger", "--db", "postgresql://u@127.0.0.1:1/x", *argv)
    assert status == 2
    assert "pip install 'kravia-schedule[postgres]'" in _error_line(err)


ARGUMENTS: list[tuple[tuple[str, ...], str]] = [
    (("due", "--as-of", "2021-02-30"), "'2021-02-30' is not an ISO date"),
    (("issue", "--as-of", "yesterday"), "'yesterday' is not an ISO date"),
    (("issue", "--as-of", "2021-02-01T10:00"), "'2021-02-01T10:00' has no UTC offset"),
    (("due", "--as-of", "2021-02-01T25:00Z"), "'2021-02-01T25:00Z' is not an ISO date"),
    (("pay", "G-x", "ten", "--payment-id", "p"), "invalid int value: 'ten'"),
    (
        ("pay", "G-x", str(10**30), "--payment-id", "p"),
        "amount: 1000000000000000000000000000000 exceeds",
    ),
    (("pay", "G-x", "-5", "--payment-id", "p"), "amount: must be a positive integer"),
    (("pay", "G-x", "100", "--payment-id", ""), "payment_id is required"),
    (("pay", "G-x", "100", "--payment-id", "p"), "no invoice 'G-x'"),
    (("pay", "G-x", "100", "--payment-id", "p", "--method", "fifo"), "invalid choice: 'fifo'"),
    (("refund", "T1", str(2**63), "--refund-id", "r"), "amount: 9223372036854775808 exceeds"),
    (("refund", "T1", "100", "--refund-id", " "), "refund_id is required"),
    (("refund", "T1", "100", "--refund-id", "r"), "transaction T1 is AUTHORIZED: cannot refund"),
    (("void", "nope"), "no transaction 'nope'"),
    (("show", "invoice", "G-nope"), "no invoice 'G-nope'"),
    (("show", "transaction", "nope"), "no transaction 'nope'"),
    (("show", "customer", "NO"), "COUNTRY ORGANIZATION_NUMBER"),
    (("show", "customer", "DK", "123"), "'DK'"),
    (("show", "customer", "NO", "12"), "organization number '12'"),
    (("show", "receipt", "x"), "invalid choice: 'receipt'"),
]


@pytest.mark.parametrize(("argv", "named"), ARGUMENTS, ids=[" ".join(a) for a, _ in ARGUMENTS])
def test_bad_arguments_are_refused_with_one_line(
    tmp_path: Path, capsys: Any, argv: tuple[str, ...], named: str
) -> None:
    db, _ = _good(tmp_path)
    status, err = _run(capsys, "ledger", "--db", db, *argv)
    assert status == 2
    assert named in _error_line(err)


def test_a_ledger_locked_too_long_is_refused_with_one_line(tmp_path: Path, capsys: Any) -> None:
    db, _ = _good(tmp_path)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer, holding the lock
    try:
        argv = ("ledger", "--db", db, "--lock-timeout", "0.2", "issue", "--as-of", "2021-02-01")
        status, err = _run(capsys, *argv)
        assert status == 2
        assert "stayed locked by another writer for over 0.2 s" in _error_line(err)
        status, err = _run(capsys, "ledger", "--db", db, "--lock-timeout", "0", "due", "--as-of", "2021-02-01")  # fmt: skip
        assert status == 2
        assert "lock_timeout must be a number of seconds above 0" in _error_line(err)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_every_ledger_option_and_argument_has_help() -> None:
    import argparse

    from kravia_schedule.cli_ledger import add_commands

    def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                return dict(action.choices)
        return {}

    main_parser = argparse.ArgumentParser()
    add_commands(main_parser.add_subparsers())
    ledger = subparsers(main_parser)["ledger"]
    missing = [
        f"{name} {action.dest}"
        for name, parser in {"ledger": ledger, **subparsers(ledger)}.items()
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction)
        and not action.help
    ]
    assert missing == []


def _run(capsys: Any, *argv: str) -> tuple[int, str]:
    try:
        status = main(list(argv))
    except SystemExit as exit_:  # argparse's own refusals
        status = int(exit_.code or 0)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return status, captured.err


def _error_line(err: str) -> str:
    """The one error line: the last line, saying ``error:``."""
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1, err
    assert errors[0] == lines[-1]
    return errors[0]
