"""A bounded random fuzz driver over the readers and the ``plan`` command.

Hypothesis draws files of junk: lines of valid, mutated and broken JSON (truncated,
deeply nested, lone surrogates, numbers of 5000 digits), bytes that are not UTF-8,
binary noise, CSV with quotes, line ends and commas in cells, repeated or missing
columns, digits outside ASCII. Two properties hold for every file:

* nothing escapes :func:`~kravia_schedule.io.read_records`, ``plan_invoices`` or the
  command line but the library's own errors (:class:`~kravia_schedule.io.InputFileError`
  for a file that is not text at all), and the command line exits 0 or 2, never with a
  traceback;
* every input record lands exactly once among the invoice lines, the skipped and the
  rejected: for JSON Lines one per non-blank line, for CSV one per row written.

The default budget is small (a few seconds in ``make test``). For a longer run set
``KRAVIA_FUZZ_EXAMPLES`` to the number of examples per property, e.g.::

    KRAVIA_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest tests/test_fuzz_readers.py -q
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from _records import NORDMANN_ADDRESS, nordmann_record
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kravia_schedule import KraviaScheduleError, plan_invoices
from kravia_schedule.cli import main
from kravia_schedule.invoices import InvoicePlan
from kravia_schedule.io import InputFileError, read_records

EXAMPLES = int(os.environ.get("KRAVIA_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- what a line can be -----------------------------------------------------------------

ids = st.sampled_from(["T1", "T2", "T3", " T1 ", "", "=1+1", "\ud800x", "Ærø"])
created = st.sampled_from(
    ["2025-01-10T10:00:00+01:00", "2025-01-31T23:30:00Z", "2025-13-45T10:00:00Z",
     "9999-12-15T10:00:00Z",
     "2025-01-10T10:00:00", "31.01.2025", ""]
)  # fmt: skip
amounts = st.one_of(
    st.integers(-10, 10**6),
    st.sampled_from([10**25, 2**63, 0.5, "100", "\u0665\u0660\u0660", None, True]),
)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def records(draw: st.DrawFn) -> Any:
    """A purchase record: valid, or with one or more fields replaced by junk."""
    record: dict[str, Any] = nordmann_record(
        draw(ids), draw(created), draw(amounts), vat_amount=draw(amounts),
        status=draw(st.sampled_from(["AUTHORIZED", "CAPTURED", "AUTHORIZATION_VOIDED", "NOPE"])),
    )  # fmt: skip
    for _ in range(draw(st.integers(0, 2))):
        field = draw(st.sampled_from([*record, "billing_address.business_name", "extra"]))
        if field.startswith("billing_address."):
            if isinstance(record.get("billing_address"), dict):
                record["billing_address"][field.split(".")[1]] = draw(json_values)
        else:
            record[field] = draw(json_values)
    return record


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


@st.composite
def jsonl_lines(draw: st.DrawFn) -> bytes:
    """One line of a JSON Lines file, without its line end."""
    kind = draw(st.sampled_from(
        ["record", "record", "record", "value", "truncated", "deep", "bytes", "text", "blank",
         "huge-number", "escapes"]
    ))  # fmt: skip
    if kind == "record":
        return json.dumps(draw(records())).encode()
    if kind == "value":
        return json.dumps(draw(json_values)).encode()
    if kind == "truncated":
        text = json.dumps(draw(records())).encode()
        return text[: draw(st.integers(1, len(text) - 1))]
    if kind == "deep":
        return _deep(draw(st.sampled_from([63, 64, 65, 1000, 100_000]))).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=40)).replace(b"\n", b"").replace(b"\r", b"")
    if kind == "text":
        return draw(st.text(max_size=40)).encode("utf-8", "surrogatepass").replace(b"\n", b"")
    if kind == "huge-number":
        return b'{"id": "T9", "amount": ' + b"9" * 5000 + b"}"
    if kind == "escapes":
        return b'{"id": "T\\ud800", "\\udfff": "x", "ok": "\\u00c6\\ud83d\\ude00"}'
    return draw(st.sampled_from([b"", b"  ", b"\t", b"\x0c"]))


def _plan_count(plan: InvoicePlan) -> int:
    return sum(len(i.lines) for i in plan.invoices) + len(plan.skipped) + len(plan.rejected)


def _non_blank_lines(data: bytes) -> int:
    """The records of a JSON Lines file as the reader splits and decodes it."""
    text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    return sum(1 for line in io.StringIO(text, newline="") if line.strip())


def _plan_file(path: Path) -> InvoicePlan | None:
    """The plan of ``path`` through the reader, or ``None`` when the reader refused the
    whole file (which only a file that is not text may cause)."""
    try:
        return plan_invoices(read_records(path))
    except InputFileError as error:
        reason = error.reason
    assert "binary file" in reason or "UTF-16" in reason, reason
    return None


def _cli_plan(path: Path, *options: str) -> dict[str, Any] | None:
    """The ``plan --format json`` output of ``path``, or ``None`` when the command
    refused the whole file (exit status 2, one error line)."""
    out, err = io.StringIO(), io.StringIO()
    from contextlib import redirect_stderr, redirect_stdout

    with redirect_stdout(out), redirect_stderr(err):
        status = main(["plan", str(path), "--format", "json", "--quiet", *options])
    if status == 2:
        (line,) = err.getvalue().splitlines()
        assert line.startswith("kravia-schedule: error: ")
        return None
    assert status == 0, err.getvalue()
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def _summary_count(data: dict[str, Any]) -> int:
    lines = sum(len(i["transactions"]) for i in data["invoices"])
    return lines + len(data["skipped"]) + len(data["rejected"])


@FUZZ
@given(
    lines=st.lists(jsonl_lines(), max_size=12),
    ending=st.sampled_from([b"\n", b"\r\n", b"\r"]),
    bom=st.booleans(),
)
def test_jsonl_every_line_lands_exactly_once(lines, ending, bom):
    data = (b"\xef\xbb\xbf" if bom else b"") + ending.join(lines)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.jsonl"
        path.write_bytes(data)
        plan = _plan_file(path)
        if plan is None:
            assert b"\x00" in data[:8192]
            return
        assert _plan_count(plan) == _non_blank_lines(data)
        cli = _cli_plan(path)
        assert cli is not None
        assert _summary_count(cli) == _plan_count(plan)


CSV_COLUMNS = ["id", "created_at", "amount", "vat_amount", "currency", "status",
               "payment_product_type", "merchant_reference",
               *(f"billing_address.{k}" for k in NORDMANN_ADDRESS)]  # fmt: skip
cells = st.one_of(
    st.sampled_from(["", "T1", "5000", "1000", "NOK", "AUTHORIZED", "kravia.invoice_b2b_grouped",
                     "2025-01-10T10:00:00+01:00", "\u0665\u0660", "\uff15\uff10", "9" * 5000,
                     "=HYPERLINK(1)", 'a "quoted", cell', "line\nend", "cr\rend", " 42 "]),
    st.text(max_size=10).map(lambda t: t.encode("utf-8", "surrogatepass").decode("utf-8", "replace")),
)  # fmt: skip


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, int]:
    """A CSV file written by ``csv.writer`` (so the rows are known) and its row count."""
    header = draw(
        st.lists(st.sampled_from([*CSV_COLUMNS, "billing_address", "amount.x", ""]),
                 min_size=1, max_size=len(CSV_COLUMNS) + 2)
    )  # fmt: skip
    if draw(st.booleans()):
        header = list(CSV_COLUMNS)
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        width = draw(st.sampled_from([len(header), len(header), len(header) - 1, len(header) + 1]))
        rows.append(draw(st.lists(cells, min_size=max(width, 1), max_size=max(width, 1))))
    out = io.StringIO()
    # "\r\n": the csv module quotes a lone "\r" only when it is in the terminator
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + data, len(rows)


@FUZZ
@given(csv_files())
def test_csv_every_row_lands_exactly_once(case):
    data, rows = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.csv"
        path.write_bytes(data)
        plan = _plan_file(path)
        if plan is None:  # a NUL near the start: a binary file, refused whole
            assert b"\x00" in data[: 8192 + 3]
            assert _cli_plan(path) is None
            return
        assert _plan_count(plan) == rows
        cli = _cli_plan(path)
        assert cli is not None
        assert _summary_count(cli) == _plan_count(plan)


@FUZZ
@given(
    data=st.binary(max_size=3000),
    suffix=st.sampled_from([".jsonl", ".csv", ".json", ""]),
)
def test_any_bytes_only_library_errors(data, suffix):
    """Arbitrary bytes under any name: a plan accounting for each record read, or the
    library's own refusal of the whole file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(data)
        try:
            read = list(read_records(path))
        except KraviaScheduleError:
            read = None
        if read is not None:
            assert _plan_count(plan_invoices(read)) == len(read)
        cli = _cli_plan(path)
        if read is None:
            assert cli is None
        else:
            assert cli is not None
            assert _summary_count(cli) == len(read)


def _same_count_both_engines(path: Path) -> None:
    core = _cli_plan(path)
    columnar = _cli_plan(path, "--engine", "columnar")
    if core is not None and columnar is not None:
        assert _summary_count(columnar) == _summary_count(core)


@FUZZ
@given(lines=st.lists(jsonl_lines(), min_size=1, max_size=8))
def test_columnar_command_accounts_for_every_jsonl_record(lines):
    """The columnar engine over the same junk: exit 0 or 2, and when it plans, the same
    number of records as the core."""
    pytest.importorskip("polars")
    # A line `null` kills the process inside pyarrow (see the test below): left out here.
    lines = [line for line in lines if line.strip() != b"null"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.jsonl"
        path.write_bytes(b"\n".join(lines))
        _same_count_both_engines(path)


@FUZZ
@given(csv_files())
def test_columnar_command_accounts_for_every_csv_row(case):
    pytest.importorskip("polars")
    data, _ = case
    header = next(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assume(set(header) & set(CSV_COLUMNS))  # see the test below
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.csv"
        path.write_bytes(data)
        _same_count_both_engines(path)


def test_columnar_csv_without_known_columns_counts_its_rows(tmp_path):
    pytest.importorskip("polars")
    path = tmp_path / "purchases.csv"
    path.write_text("foo,bar\n1,2\n3,4\n")
    core, columnar = _cli_plan(path), _cli_plan(path, "--engine", "columnar")
    assert core is not None
    assert columnar is not None
    assert _summary_count(core) == 2
    assert _summary_count(columnar) == 2


def test_columnar_survives_a_null_line(tmp_path):
    pytest.importorskip("polars")
    path = tmp_path / "purchases.jsonl"
    path.write_text('null\n{"id": "T1"}\n')
    result = subprocess.run(
        [sys.executable, "-m", "kravia_schedule", "plan", str(path), "--engine", "columnar"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.returncode
    assert "2 records -> 0 invoices, 0 skipped, 2 rejected" in result.stdout
