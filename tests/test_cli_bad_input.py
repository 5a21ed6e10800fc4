"""Every non-ledger subcommand against a table of bad inputs.

Each case states the documented exit status (0 planned, bad records rejected; 1 problems
with ``--strict`` or an invalid configuration/number; 2 the command could not run) and
the text of the one line that explains it: a rejection in the plan naming the line or
record and field, or one ``error:`` line on stderr naming the file or value. No case may
raise (in process) or print a traceback (the subprocess cases at the end).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from _records import NORDMANN_ADDRESS, nordmann_record

from kravia_schedule.cli import main

CREATED = "2025-01-10T10:00:00+01:00"
COLUMNS = ["id", "created_at", "amount", "vat_amount", "currency", "status",
           "payment_product_type", *(f"billing_address.{k}" for k in NORDMANN_ADDRESS)]  # fmt: skip


def csv_text(columns: list[str], *rows: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def row(id: str, amount: str = "5000", created_at: str = CREATED) -> list[str]:
    return [id, created_at, amount, "0", "NOK", "AUTHORIZED", "kravia.invoice_b2b_grouped",
            *NORDMANN_ADDRESS.values()]  # fmt: skip


def jsonl(*records: object) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


GOOD = nordmann_record("T1", CREATED, 5000)

#: name -> the file's bytes (None: do not create it; "dir": a directory).
FILES: dict[str, bytes | str | None] = {
    "missing.jsonl": None,
    "missing.csv": None,
    "dir.jsonl": "dir",
    "dir.csv": "dir",
    "empty.jsonl": b"",
    "empty.csv": b"",
    "header-only.csv": csv_text(COLUMNS).encode(),
    "empty.json": b"[]",
    "binary.jsonl": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
    "binary.csv": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
    "truncated.json": json.dumps([GOOD, dict(GOOD, id="T2")])[:-30].encode(),
    "truncated.jsonl": (jsonl(GOOD) + jsonl(dict(GOOD, id="T2"))[:-30]).encode(),
    "bom.csv": ("\ufeff" + csv_text(COLUMNS, row("T1"))).encode(),
    "missing-columns.csv": csv_text(
        COLUMNS[:2] + COLUMNS[3:], row("T1")[:2] + row("T1")[3:]
    ).encode(),
    "repeated-columns.csv": csv_text([*COLUMNS, "amount"], [*row("T1"), "9"]).encode(),
    "huge.jsonl": jsonl(dict(GOOD, amount=10**25, vat_amount=0)).encode(),
    "huge.csv": csv_text(COLUMNS, row("T1", amount=str(10**25))).encode(),
    "bad-date.jsonl": jsonl(dict(GOOD, created_at="2025-13-45T10:00:00Z")).encode(),
    "bad-date.csv": csv_text(COLUMNS, row("T1", created_at="31.01.2025")).encode(),
    "naive-date.jsonl": jsonl(dict(GOOD, created_at="2025-01-10T10:00:00")).encode(),
    "deep.jsonl": (jsonl(GOOD) + "[" * 100_000 + "]" * 100_000 + "\n").encode(),
    "not-utf8.jsonl": jsonl(GOOD).encode() + b'{"id": "T\xff2"}\n',
    "not-utf8.csv": csv_text(COLUMNS, row("T1")).encode() + b"T\xff2,x\n",
    "surrogate.jsonl": jsonl(dict(GOOD, id="\ud800x")).encode(),
    "arabic-digits.csv": csv_text(COLUMNS, row("T1", amount="\u0665\u0660\u0660\u0660")).encode(),
    "big-cell.csv": csv_text([*COLUMNS, "merchant_reference"], [*row("T1"), "x" * 200000]).encode(),
    "not-purchases.jsonl": b'[1, 2]\n"text"\nnull\n',
}


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for name, content in FILES.items():
        path = tmp_path / name
        if content == "dir":
            path.mkdir()
        elif isinstance(content, bytes):
            path.write_bytes(content)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` in process: its status (or argparse's exit code), stdout, stderr."""
    try:
        status = main(argv)
    except SystemExit as exit_info:  # argparse refuses the arguments
        status = exit_info.code if isinstance(exit_info.code, int) else 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return status, captured.out, captured.err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    return lines[0]


# (file, extra options, exit status, where the explanation is, the text it contains)
PLAN_CASES: list[tuple[str, list[str], int, str, str]] = [
    ("missing.jsonl", [], 2, "err", "cannot read {path}: No such file or directory"),
    ("missing.csv", [], 2, "err", "cannot read {path}: No such file or directory"),
    ("dir.jsonl", [], 2, "err", "cannot read {path}: Is a directory"),
    ("dir.csv", [], 2, "err", "cannot read {path}: Is a directory"),
    ("empty.jsonl", [], 0, "err", "warning: {path} holds no purchase records"),
    ("empty.jsonl", ["--strict"], 1, "err", "error: {path} holds no purchase records"),
    ("empty.csv", ["--strict"], 1, "err", "error: {path} holds no purchase records"),
    ("header-only.csv", ["--strict"], 1, "err", "error: {path} holds no purchase records"),
    ("binary.jsonl", [], 2, "err", "error: {path}: a binary file, not JSON or CSV text"),
    ("binary.csv", [], 2, "err", "error: {path}: a binary file, not JSON or CSV text"),
    ("truncated.jsonl", [], 0, "out", "(no id) (record 2): line 2: not valid JSON: Unterminated string"),
    ("truncated.jsonl", ["--strict"], 1, "out", "line 2: not valid JSON"),
    ("bom.csv", ["--strict"], 0, "out", "-> 1 invoices, 0 skipped, 0 rejected"),
    ("missing-columns.csv", ["--strict"], 1, "out", "T1 (record 1): amount: is required"),
    ("repeated-columns.csv", ["--strict"], 1, "out",
     "(record 1): line 2: column 'amount' is in the header (line 1) twice, as columns 3 and 17"),
    ("huge.jsonl", [], 0, "out", "1 records ->"),  # any bound on amounts is not the reader's
    ("huge.csv", [], 0, "out", "1 records ->"),
    ("bad-date.jsonl", ["--strict"], 1, "out",
     "T1 (record 1): created_at: '2025-13-45T10:00:00Z' is not an ISO-8601 timestamp"),
    ("bad-date.csv", ["--strict"], 1, "out", "T1 (record 1): created_at: '31.01.2025' is not"),
    ("naive-date.jsonl", ["--strict"], 1, "out", "T1 (record 1): created_at: '2025-01-10T10:00:00' has no UTC offset"),
    ("deep.jsonl", ["--strict"], 1, "out", "(record 2): line 2: not read: JSON nested deeper than 64 levels"),
    ("not-utf8.jsonl", ["--strict"], 1, "out", "(record 2): line 2: not valid UTF-8 (byte 0xFF at column 10)"),
    ("not-utf8.csv", ["--strict"], 1, "out", "(record 2): line 3: column 'id': not valid UTF-8 (byte 0xFF"),
    ("surrogate.jsonl", ["--strict"], 1, "out", "line 1: id: is not valid Unicode text (a lone surrogate U+D800"),
    ("arabic-digits.csv", ["--strict"], 1, "out", "T1 (record 1): amount: must be an integer"),
    ("big-cell.csv", ["--strict"], 0, "out", "-> 1 invoices, 0 skipped, 0 rejected"),
    ("not-purchases.jsonl", ["--strict"], 1, "out", "(no id) (record 3): $: expected an object, got NoneType"),
    ("truncated.json", [], 2, "err", "error: {path}: not valid JSON: "),
    ("empty.json", ["--strict"], 1, "err", "error: {path} holds no purchase records"),
]  # fmt: skip


def _check(status: int, out: str, err: str, case: tuple[int, str, str], path: Path) -> None:
    expected, where, text = case
    assert status == expected, (out, err)
    wanted = text.format(path=path)
    if where == "out":
        assert wanted in out, out
    elif expected == 0:  # a warning, no error
        assert wanted in err
        assert "error:" not in err
    else:
        assert wanted in one_error_line(err)


@pytest.mark.parametrize(("name", "options", "status", "where", "text"), PLAN_CASES)
def test_plan_core(capsys, files, name, options, status, where, text):
    path = files / name
    got = run(capsys, ["plan", str(path), *options])
    _check(*got, (status, where, text), path)


@pytest.mark.parametrize(("name", "options", "status", "where", "text"), PLAN_CASES)
def test_plan_columnar_gives_the_same_answer(capsys, files, name, options, status, where, text):
    pytest.importorskip("polars")
    path = files / name
    if name == "binary.csv":  # read by Polars, which reports it in its own words
        status, text = 2, "error: cannot read {path}: "
    got = run(capsys, ["plan", str(path), "--engine", "columnar", *options])
    _check(*got, (status, where, text), path)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_plan_every_record_once_in_machine_formats(capsys, files, fmt):
    """The bad lines are rows of the CSV and JSON output too, each exactly once."""
    path = files / "not-utf8.jsonl"
    status, out, _ = run(capsys, ["plan", str(path), "--format", fmt])
    assert status == 0
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert [r["outcome"] for r in rows] == ["invoiced", "rejected"]
    else:
        assert json.loads(out)["summary"]["rejected"] == 1


def test_plan_empty_stdin_under_strict(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    status, out, err = run(capsys, ["plan", "-", "--format", "csv", "--strict"])
    assert status == 1
    assert out.startswith("outcome,transaction_id")
    assert one_error_line(err) == "kravia-schedule: error: - holds no purchase records"


@pytest.mark.parametrize(
    "missing", [("polars",), ("pyarrow", "pyarrow.json")], ids=["polars", "pyarrow"]
)
def test_plan_columnar_without_its_extra(capsys, files, monkeypatch, missing):
    pytest.importorskip("polars")
    for module in [m for m in sys.modules if m.startswith("kravia_schedule.columnar")]:
        monkeypatch.delitem(sys.modules, module)
    for module in missing:
        monkeypatch.setitem(sys.modules, module, None)  # import now fails
    status, _, err = run(capsys, ["plan", str(files / "truncated.jsonl"), "--engine", "columnar"])
    assert status == 2
    assert "pip install 'kravia-schedule[columnar]'" in one_error_line(err)


def test_plan_columnar_on_a_file_that_is_no_parquet(capsys, tmp_path):
    pytest.importorskip("polars")
    path = tmp_path / "purchases.parquet"
    path.write_bytes(b"PAR1 not really")
    status, _, err = run(capsys, ["plan", str(path), "--engine", "columnar"])
    assert status == 2
    assert one_error_line(err).startswith(f"kravia-schedule: error: cannot read {path}: ")


CONFIG_FILES: list[tuple[str, bytes | None, str]] = [
    ("missing.json", None, "cannot read {path}: No such file or directory"),
    ("empty.json", b"", "{path}: is empty (a JSON document was expected)"),
    ("binary.json", b"\x00\x01\x02", "{path}: a binary file"),
    ("truncated.json", b'{"kravia": {"invoice_b2b": {', "{path}: not valid JSON: Expecting property name"),
    ("deep.json", b"[" * 100_000 + b"]" * 100_000, "{path}: not read: JSON nested deeper than 64 levels"),
    ("not-utf8.json", b'{"kravia": "\xff"}', "{path}: not valid UTF-8 (byte 0xFF at line 1, column 13)"),
    ("huge.json", b'{"kravia": {"invoice_b2b": {"days_until_due": ' + b"9" * 5000 + b"}}}",
     "{path}: not valid JSON: Exceeds the limit"),
]  # fmt: skip


def _config(tmp_path: Path, name: str, content: bytes | None) -> Path:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    return path


@pytest.mark.parametrize(("name", "content", "text"), CONFIG_FILES)
def test_check_config_bad_files(capsys, tmp_path, name, content, text):
    path = _config(tmp_path, name, content)
    status, _, err = run(capsys, ["check-config", str(path)])
    assert status == 2
    assert text.format(path=path) in one_error_line(err)


@pytest.mark.parametrize(("name", "content", "text"), CONFIG_FILES)
def test_plan_config_bad_files(capsys, tmp_path, files, name, content, text):
    path = _config(tmp_path, name, content)
    status, out, err = run(capsys, ["plan", str(files / "bom.csv"), "--config", str(path)])
    assert status == 2
    assert out == ""
    assert text.format(path=path) in one_error_line(err)


def test_check_config_directory_and_invalid_values(capsys, tmp_path):
    status, _, err = run(capsys, ["check-config", str(tmp_path)])
    assert status == 2
    assert one_error_line(err) == f"kravia-schedule: error: cannot read {tmp_path}: Is a directory"
    path = tmp_path / "config.json"
    path.write_text('{"kravia": {"invoice_b2b": {"days_until_due": 1e999}}}')
    status, _, err = run(capsys, ["check-config", str(path)])
    assert status == 1
    assert "kravia.invoice_b2b.days_until_due" in err


DATES_CASES: list[tuple[list[str], str]] = [
    (["dates", "2025-02-30", "--country", "NO"], "'2025-02-30' is not an ISO date or timestamp"),
    (["dates", "2025-02-10T10:00:00", "--country", "NO"], "has no UTC offset"),
    (["dates", "2025-02-10", "--country", "DK"], "invalid choice: 'DK'"),
    (["dates", "2025-02-10", "--country", "NO", "--days-until-due", "366"], "--days-until-due"),
    (["dates", "2025-02-10", "--country", "NO", "--days-until-due", "9" * 30], "--days-until-due"),
    # Past the calendar's ends: this CLI's message, or the library's own error where the
    # library gives one (each names the last date there is).
    (["dates", "9999-12-31", "--country", "NO"], "9999-12-31"),
    (["dates", "9999-12-31", "--country", "FI", "--weekends-only"], "9999-12-31"),
    (["dates", "9999-12-15", "--country", "SE", "--weekends-only", "--standard",
      "--days-until-due", "365"], "9999-12-31"),
    (["dates", "9999-12-31T23:00:00-05:00", "--country", "NO"], "9999-12-31"),
    (["dates", "0001-01-01T00:00:00+05:00", "--country", "NO"], "0001-01-01"),
    (["dates", "2101-06-01", "--country", "NO"], "no holiday data for NO"),
    (["calendar", "10000", "--country", "NO"], "10000 is not a year from 1 to 9999"),
    (["calendar", "0", "--country", "NO"], "0 is not a year from 1 to 9999"),
    (["calendar", "9" * 30, "--country", "NO"], "is not a year from 1 to 9999"),
    (["calendar", "twenty", "--country", "NO"], "'twenty' is not a year"),
    (["calendar", "9999", "--country", "NO", "--weekends-only"], "9999-12-31"),
    (["calendar", "2100", "--country", "SE"], "no holiday data for SE in 2101"),
    (["calendar", "2025", "--country", "NO", "--interval", "weekly"], "invalid choice: 'weekly'"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "text"), DATES_CASES)
def test_dates_and_calendar_refuse_cleanly(capsys, argv, text):
    status, out, err = run(capsys, argv)
    assert status == 2
    assert out == ""  # nothing printed before the error
    assert text in one_error_line(err)


IDENTIFIER_CASES: list[tuple[list[str], int, str]] = [
    (["check-id", "NO", ""], 1, "invalid NO organization number"),
    (["check-id", "NO", str(10**25)], 1, "invalid NO organization number"),
    (["check-id", "SE", "\udcff\udcfe"], 1, "invalid SE organization number"),
    (["check-id", "FI", "\uff11\uff12\uff13\uff14\uff15\uff16\uff17-8"], 1, "invalid FI organization number"),
    (["check-id", "DK", "12345678"], 2, "invalid choice: 'DK'"),
    (["reference", "kid", ""], 1, "cannot generate: invalid KID (MOD10)"),
    (["reference", "kid", str(10**25)], 1, "cannot generate: invalid KID (MOD10)"),
    (["reference", "kid", "\u0661\u0662\u0663"], 1, "cannot generate: invalid KID (MOD10)"),
    (["reference", "rf", "9" * 1000], 1, "cannot generate: invalid RF creditor reference"),
    (["reference", "fi", "\udcff", "--check"], 1, "invalid Finnish reference number"),
    (["reference", "ocr", "123", "--mod", "11"], 2, "--mod applies to kid only"),
    (["reference", "iban", "123"], 2, "invalid choice: 'iban'"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "status", "text"), IDENTIFIER_CASES)
def test_identifier_commands_refuse_cleanly(capsys, argv, status, text):
    got, out, err = run(capsys, argv)
    assert got == status
    assert out == ""
    lines = err.splitlines()
    assert text in lines[-1]
    assert len([line for line in lines if line.startswith("kravia-schedule")]) == 1


# --- as a user runs it: a real process, its stderr exactly one line ----------------


@pytest.mark.parametrize(
    ("argv", "status", "text"),
    [
        (["plan", "{files}/binary.jsonl"], 2, "a binary file"),
        (["plan", "{files}/bom.csv", "--config", "{files}/deep.jsonl"], 2, "not valid JSON"),
        (["plan", "{files}/dir.csv", "--engine", "columnar"], 2, "Is a directory"),
        (["dates", "9999-12-31", "--country", "NO"], 2, "9999-12-31"),
        (["check-config", "{files}/missing.json"], 2, "No such file or directory"),
    ],
)
def test_no_traceback_reaches_the_terminal(files, argv, status, text):
    argv = [arg.format(files=files) for arg in argv]
    result = subprocess.run(
        [sys.executable, "-m", "kravia_schedule", *argv],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == status
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("kravia-schedule: error: ")
    assert text in line


def test_plan_a_purchase_in_year_9999_is_rejected(capsys, tmp_path):
    path = tmp_path / "purchases.jsonl"
    path.write_text(jsonl(dict(GOOD, created_at="9999-12-15T10:00:00Z")))
    status, out, _ = run(capsys, ["plan", str(path), "--strict"])
    assert status == 1
    assert "T1 (record 1): created_at" in out


def test_every_case_file_is_used():
    used = {case[0] for case in PLAN_CASES}
    assert used == set(FILES)
