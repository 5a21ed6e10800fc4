"""Reading purchase records from JSON, JSON Lines and CSV files (the shell's edge).

Records are yielded one at a time, so a large JSONL or CSV file is never loaded whole.
A line that cannot be read becomes an :class:`InvalidPurchaseError` in the stream, which
:func:`~kravia_schedule.plan_invoices` reports as a rejection: one bad line never stops a
billing run. CSV columns use dotted names for the billing address
(``billing_address.country``); integer-looking money fields are read as integers.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from kravia_schedule.errors import FieldProblem, InvalidPurchaseError

__all__ = ["read_json_file", "read_records"]

_INTEGER = re.compile(r"[+-]?\d+")
_MONEY_FIELDS = ("amount", "vat_amount")


def _open(source: str | Path) -> IO[str]:
    if str(source) == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig")
    return open(source, encoding="utf-8-sig", newline="")


def _detect(source: str | Path, first_char: str) -> str:
    suffix = Path(str(source)).suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    if suffix == ".json" or first_char == "[":
        return "json"
    return "jsonl" if first_char == "{" else "csv"


def read_records(source: str | Path, fmt: str | None = None) -> Iterator[Any]:
    """Yield the records of a JSON array, JSONL or CSV file (``"-"`` reads stdin).

    ``fmt`` is ``"json"``, ``"jsonl"`` or ``"csv"``; by default it is chosen from the
    file's suffix, then from its first character.
    """
    with _open(source) as stream:
        head = stream.read(1)
        while head and head.isspace():
            head = stream.read(1)
        kind = fmt or _detect(source, head)
        if kind == "json":
            yield from _json_array(head + stream.read())
        elif kind == "jsonl":
            yield from _jsonl(head, stream)
        elif kind == "csv":
            yield from _csv(head, stream)
        else:
            raise ValueError(f"unknown input format {kind!r} (json, jsonl, csv)")


def _unreadable(where: str, message: str) -> InvalidPurchaseError:
    return InvalidPurchaseError(None, [FieldProblem(where, message)])


def _json_array(text: str) -> Iterator[Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON: {error}") from None
    if not isinstance(data, list):
        raise ValueError("a JSON input file must hold an array of purchase objects")
    yield from data


def _jsonl(head: str, stream: IO[str]) -> Iterator[Any]:
    for number, line in enumerate(_prepend(head, stream), start=1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as error:
            yield _unreadable(
                f"line {number}", f"not valid JSON: {error.msg} (column {error.colno})"
            )


def _prepend(head: str, stream: IO[str]) -> Iterator[str]:
    first = head + stream.readline()
    if first:
        yield first
    yield from stream


def _csv(head: str, stream: IO[str]) -> Iterator[Any]:
    reader = csv.DictReader(_prepend(head, stream))
    for row in reader:
        if None in row:
            yield _unreadable(f"line {reader.line_num}", "more cells than header columns")
            continue
        yield unflatten(row)


def unflatten(row: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for column, raw in row.items():
        value: Any = raw
        if raw == "" or raw is None:
            continue
        if column in _MONEY_FIELDS and _INTEGER.fullmatch(raw.strip()):
            value = int(raw)
        target = record
        *parents, leaf = column.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return record


def read_json_file(path: str | Path) -> Any:
    """Read one JSON document (a configuration file); ``"-"`` reads stdin."""
    with _open(path) as stream:
        return json.load(stream)
