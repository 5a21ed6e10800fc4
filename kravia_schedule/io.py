"""Reading purchase records from JSON, JSON Lines and CSV files (the shell's edge).

Records are yielded one at a time, so a large JSONL or CSV file is never loaded whole.
A line that cannot be read becomes an :class:`InvalidPurchaseError` in the stream, which
:func:`~kravia_schedule.plan_invoices` reports as a rejection naming the line (and the
field or column): one bad line never stops a billing run. That holds for every kind of
bad line: invalid JSON, JSON nested deeper than :data:`MAX_NESTING`, bytes that are not
UTF-8, text with a lone surrogate (``"\\ud800"``), a CSV row with more cells than the
header, a CSV row the ``csv`` module cannot parse (a quote left open to the end of the
file, text after a closing quote).

A CSV header that names a column twice makes every row a rejection (which cell to read
would be a guess). A problem with the whole file raises :class:`InputFileError` (a
``ValueError``): a binary file (a NUL byte near its start), a JSON array that is not
valid JSON (it is one document: a truncated array is refused whole, never planned in
part), a CSV header that is not valid CSV. A file that cannot be opened raises the
``OSError`` of ``open``.

CSV columns use dotted names for the billing address (``billing_address.country``); money
cells of ASCII digits (``-5``, ``100``) are read as integers, any other money cell stays
text, which the planner rejects: ``"\\u0661\\u0660\\u0660"`` (Arabic-Indic 100, which ``int`` would
accept) is never read as 100. Python's ``csv`` module refuses cells over 128 KiB by
default; the reader raises that process-wide limit (never lowers it) so that it reads
the cells the columnar engine's Polars reader reads.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import IO, Any

from kravia_schedule.errors import FieldProblem, InputFileError, InvalidPurchaseError
from kravia_schedule.text import printable, text_problem

__all__ = [
    "MAX_NESTING",
    "InputFileError",
    "read_json_file",
    "read_records",
    "unflatten",
]

#: The deepest nesting of JSON arrays and objects a record or configuration may have.
#: Dintero transactions nest a few levels; a bound far below the interpreter's recursion
#: limit keeps every later step (validation, messages quoting a value) clear of it.
MAX_NESTING = 64

_INTEGER = re.compile(r"[+-]?[0-9]+")  # ASCII digits only: int() takes any Unicode digit
_MONEY_FIELDS = ("amount", "vat_amount")
_FORMATS = ("json", "jsonl", "csv")
# How much of a file is looked at to tell binary data from text.
_SNIFF = 8192
# Larger than any cell a billing file holds; a C long on every platform.
_CSV_FIELD_LIMIT = 2**31 - 1


def _name(source: str | Path) -> str:
    return "<stdin>" if str(source) == "-" else str(source)


@contextmanager
def _open(source: str | Path) -> Iterator[IO[str]]:
    """The file as text; bytes that are not UTF-8 become surrogates (``surrogateescape``)
    so that each line can be judged on its own. A leading BOM is dropped."""
    options: dict[str, Any] = {
        "encoding": "utf-8-sig",
        "errors": "surrogateescape",
        "newline": "",
    }
    if str(source) != "-":
        with open(source, **options) as stream:
            yield stream
        return
    if sys.stdin is None:  # started without a standard input at all
        raise InputFileError("<stdin>", "there is no standard input to read")
    stream = io.TextIOWrapper(sys.stdin.buffer, **options)
    try:
        yield stream
    finally:
        stream.detach()  # standard input stays open for the caller


def _binary(head: str) -> str | None:
    """Why the text starting with ``head`` is binary data, or ``None``."""
    if head.startswith(("\udcff\udcfe", "\udcfe\udcff")):
        return "a UTF-16 or UTF-32 text file; save it as UTF-8"
    if head.startswith("PAR1"):
        return "a Parquet file, not JSON or CSV text (the columnar engine reads Parquet)"
    nul = head.find("\x00")
    if nul >= 0:
        return f"a binary file, not JSON or CSV text (a NUL byte at character {nul + 1})"
    return None


def _undecoded_at(text: str) -> int | None:
    """Where the first byte that was not UTF-8 is in ``text`` (decoded with
    ``surrogateescape``), or ``None``."""
    if text.isascii():  # constant time
        return None
    try:  # a surrogate in the decoded text can only be such a byte
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return error.start
    return None


def _not_utf8(text: str, index: int) -> str:
    return f"not valid UTF-8 (byte 0x{ord(text[index]) - 0xDC00:02X}"


def _undecodable(text: str) -> str | None:
    """Why ``text`` (decoded with ``surrogateescape``) is not UTF-8, or ``None``."""
    index = _undecoded_at(text)
    if index is None:
        return None
    return f"{_not_utf8(text, index)} at character {index + 1})"


def _lines(head: str, stream: IO[str]) -> Iterator[str]:
    """The lines of ``head`` followed by the rest of ``stream``, split as ``stream`` splits
    them (``newline=""``: at ``\\n``, ``\\r\\n`` and a lone ``\\r``)."""
    yield from io.StringIO(head + stream.readline(), newline="")
    yield from stream


def _by_suffix(source: str | Path) -> str | None:
    suffix = Path(str(source)).suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    if suffix == ".json":
        return "json"
    return None


def read_records(source: str | Path, fmt: str | None = None) -> Iterator[Any]:
    """Yield the records of a JSON array, JSONL or CSV file (``"-"`` reads stdin).

    ``fmt`` is ``"json"``, ``"jsonl"`` or ``"csv"``; by default it is chosen from the
    file's suffix, then from its first character (``[`` JSON, ``{`` JSONL, else CSV).
    An empty file (or one of blank lines, or a CSV header alone) yields nothing.
    Raises :class:`InputFileError` for a problem with the whole file (see the module).
    """
    if fmt is not None and fmt not in _FORMATS:
        raise ValueError(f"unknown input format {fmt!r} (json, jsonl, csv)")
    name = _name(source)
    with _open(source) as stream:
        head = stream.read(_SNIFF)
        binary = _binary(head)
        if binary is not None:
            raise InputFileError(name, binary)
        lines: Iterable[str] = _lines(head, stream)
        kind = fmt or _by_suffix(source)
        if kind is None:
            blank: list[str] = []
            for line in lines:
                if line.strip():
                    first = line.lstrip()[0]
                    kind = "json" if first == "[" else "jsonl" if first == "{" else "csv"
                    lines = chain(blank, [line], lines)
                    break
                blank.append(line)
            else:
                return
        if kind == "json":
            yield from _json_array(name, "".join(lines))
        elif kind == "jsonl":
            yield from _jsonl(lines)
        else:
            yield from _csv(name, lines)


def _unreadable(
    where: str, message: str, transaction_id: str | None = None
) -> InvalidPurchaseError:
    return InvalidPurchaseError(transaction_id, [FieldProblem(where, message)])


def _position(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {column}"


def _parse_json(text: str) -> tuple[Any, str | None]:
    """The JSON document ``text``, or why it is not one (``None`` when it is)."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as error:
        return None, _json_problem(error, text, one_line=False)
    if _too_deep(text, value):
        return None, _TOO_DEEP
    return value, None


_TOO_DEEP = f"not read: JSON nested deeper than {MAX_NESTING} levels"


def _json_problem(error: ValueError | RecursionError, text: str, *, one_line: bool) -> str:
    if isinstance(error, json.JSONDecodeError):
        where = f"column {error.colno}" if one_line else _position(text, error.pos)
        return f"not valid JSON: {error.msg} ({where})"
    if isinstance(error, RecursionError):
        return _TOO_DEEP
    return f"not valid JSON: {error}"  # e.g. a number of more digits than int() converts


def _too_deep(text: str, value: Any) -> bool:
    """Whether ``value`` (parsed from ``text``) nests deeper than :data:`MAX_NESTING`."""
    if text.count("[") + text.count("{") <= MAX_NESTING:  # cheap bound: one level per bracket
        return False
    level: list[Any] = [value]
    for _ in range(MAX_NESTING):
        level = [
            item
            for container in level
            if isinstance(container, dict | list)
            for item in (container.values() if isinstance(container, dict) else container)
        ]
        if not level:
            return False
    return any(isinstance(item, dict | list) for item in level)


def _bad_text(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first (path, problem) of a string in ``value`` that is not valid Unicode text."""
    if isinstance(value, str):
        problem = text_problem(value)
        return None if problem is None else (path or "$", problem)
    if isinstance(value, dict):
        for key, item in value.items():
            name = printable(str(key))  # the message must be printable itself
            where = f"{path}.{name}" if path else name
            problem = text_problem(key)
            if problem is not None:
                return where, f"its name {problem}"
            found = _bad_text(item, where)
            if found is not None:
                return found
    elif isinstance(value, list):
        for number, item in enumerate(value):
            found = _bad_text(item, f"{path or '$'}[{number}]")
            if found is not None:
                return found
    return None


def _may_escape_a_surrogate(text: str) -> bool:
    """Whether JSON ``text`` may hold a surrogate's escape (``\\ud800``-``\\udfff``):
    the only way valid UTF-8 JSON text gives a lone surrogate. ``\\u00e6`` and the like,
    which ``json.dumps`` writes for every non-ASCII letter, are not."""
    return "\\u" in text and ("\\ud" in text or "\\uD" in text)


def _id_of(value: Any) -> str | None:
    """The record's id when it is a plain, valid text (to name the rejection)."""
    if isinstance(value, dict):
        found = value.get("id")
        if isinstance(found, str) and found.strip() and text_problem(found) is None:
            return found.strip()
    return None


def _json_array(name: str, text: str) -> Iterator[Any]:
    index = _undecoded_at(text)
    if index is not None:
        raise InputFileError(name, f"{_not_utf8(text, index)} at {_position(text, index)})")
    if not text.strip():
        return
    data, problem = _parse_json(text)
    if problem is not None:
        raise InputFileError(name, problem)
    if isinstance(data, dict):  # one transaction (GET /v1/transactions/{id}, a callback)
        data = [data]
    if not isinstance(data, list):
        raise InputFileError(
            name, "a JSON input file must hold an array of purchase objects, or one object"
        )
    for number, record in enumerate(data, start=1):
        bad = _bad_text(record) if _may_escape_a_surrogate(text) else None
        if bad is not None:
            field, why = bad
            yield _unreadable(f"record {number}", f"{field}: {why}", _id_of(record))
        else:
            yield record


def _jsonl(lines: Iterable[str]) -> Iterator[Any]:
    loads = json.loads
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        # The checks of a plain line cost a few constant-time or C-speed scans.
        if not line.isascii() and (index := _undecoded_at(line)) is not None:
            yield _unreadable(f"line {number}", f"{_not_utf8(line, index)} at column {index + 1})")
            continue
        try:
            record = loads(line)
        except (ValueError, RecursionError) as error:
            yield _unreadable(f"line {number}", _json_problem(error, line, one_line=True))
            continue
        if _too_deep(line, record):
            yield _unreadable(f"line {number}", _TOO_DEEP)
            continue
        bad = _bad_text(record) if _may_escape_a_surrogate(line) else None
        if bad is not None:
            field, why = bad
            yield _unreadable(f"line {number}", f"{field}: {why}", _id_of(record))
            continue
        yield record


def _lines_of(start: int, end: int) -> str:
    return f"line {start}" if end <= start else f"lines {start}-{end}"


def _csv(name: str, lines: Iterable[str]) -> Iterator[Any]:
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    # strict: a quote left open or text after a closing quote is an error (a rejection),
    # never a cell silently running on over the following records.
    reader = csv.reader(lines, strict=True)
    header = _header(name, reader)
    if header is None:
        return
    repeated = _repeated(header, reader.line_num)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield _unreadable(_lines_of(start, reader.line_num), f"not valid CSV: {error}")
            continue
        if not row:
            continue
        where = _lines_of(start, reader.line_num)
        if repeated is not None:
            yield _unreadable(where, repeated)
            continue
        if len(row) > len(header):
            yield _unreadable(where, "more cells than header columns")
            continue
        if not all(map(str.isascii, row)):
            problem = next(
                (
                    f"column {column!r}: {why}"
                    for column, cell in zip(header, row, strict=False)
                    if (why := _undecodable(cell)) is not None
                ),
                None,
            )
            if problem is not None:
                yield _unreadable(where, problem)
                continue
        yield unflatten(dict(zip(header, row, strict=False)))


def _header(name: str, reader: Any) -> list[str] | None:
    """The header row (blank lines before it skipped), or ``None`` for an empty file.

    Raises :class:`InputFileError` when the header cannot be read.
    """
    header: list[str] = []
    while not header:
        try:
            header = next(reader)
        except StopIteration:
            return None
        except csv.Error as error:
            raise InputFileError(
                name, f"line {reader.line_num}: the CSV header is not valid CSV: {error}"
            ) from None
    for number, column in enumerate(header, start=1):
        why = _undecodable(column)
        if why is not None:
            raise InputFileError(name, f"line {reader.line_num}: header column {number}: {why}")
    return header


def _repeated(header: list[str], line: int) -> str | None:
    """Why no row can be read when the header names a column twice (which of the two
    cells to read would be a guess), or ``None``. Each row is rejected with it, so the
    rows are still counted, each once, as in the columnar engine."""
    seen: dict[str, int] = {}
    for number, column in enumerate(header, start=1):
        if column in seen:
            return (
                f"column {column!r} is in the header (line {line}) twice, as columns "
                f"{seen[column]} and {number}: which one to read is ambiguous"
            )
        seen[column] = number
    return None


def unflatten(row: dict[str, str | None]) -> dict[str, Any]:
    """The record of a CSV row: dotted columns nested (``billing_address.country``), empty
    and missing (``None``) cells left out, money cells of ASCII digits made integers.

    When a column and a column nested under it are both filled (``billing_address`` and
    ``billing_address.country``), the value wins and the nested cell is left out, in
    either column order: the planner then judges the value (a billing address that is
    not an object is rejected).
    """
    record: dict[str, Any] = {}
    for column, raw in row.items():
        if raw == "" or raw is None:
            continue
        value: Any = raw
        if column in _MONEY_FIELDS and _INTEGER.fullmatch(raw.strip()):
            try:
                value = int(raw)
            except ValueError:  # more digits than int() converts: stays text, rejected
                value = raw
        target = record
        *parents, leaf = column.split(".")
        for parent in parents:
            inner = target.setdefault(parent, {})
            if not isinstance(inner, dict):
                break  # a value is there already: it wins, whatever the column order
            target = inner
        else:
            target[leaf] = value
    return record


def read_json_file(path: str | Path) -> Any:
    """Read one JSON document (a configuration file); ``"-"`` reads stdin.

    Raises :class:`InputFileError` when the file is binary, empty, not UTF-8, not valid
    JSON or nested deeper than :data:`MAX_NESTING`; the ``OSError`` of ``open`` when it
    cannot be opened.
    """
    name = _name(path)
    with _open(path) as stream:
        text = stream.read()
    binary = _binary(text[:_SNIFF])
    if binary is not None:
        raise InputFileError(name, binary)
    index = _undecoded_at(text)
    if index is not None:
        raise InputFileError(name, f"{_not_utf8(text, index)} at {_position(text, index)})")
    if not text.strip():
        raise InputFileError(name, "is empty (a JSON document was expected)")
    value, problem = _parse_json(text)
    if problem is not None:
        raise InputFileError(name, problem)
    return value
