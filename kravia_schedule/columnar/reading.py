"""Reading the input: a frame, an Arrow table or a file as typed columns.

:func:`source_of` gives every input the same columns (``row``, the top-level fields as
text or 64-bit integers, ``a.<field>`` for the billing address, ``has_address`` and
``bad``: a value of another type than the column's, which sends its row to the core),
and a function that rebuilds the Dintero-shaped record of any row, for the residue the
core plans. Files Polars or Arrow cannot read as the core's reader does are read by that
reader, record by record.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl

from kravia_schedule.columnar.addresses import (
    ADDRESS_FIELDS,
)
from kravia_schedule.dintero.schema import DINTERO_MEMBERS, read_as_dintero
from kravia_schedule.io import read_records, unflatten

_MISSING = (
    "kravia_schedule.columnar needs polars and pyarrow, which are optional: "
    "pip install 'kravia-schedule[columnar]'"
)

_MONEY = ("amount", "vat_amount")
_TOP = ("id", "created_at", "amount", "vat_amount", "currency", "status",
        "payment_product_type", "merchant_reference")  # fmt: skip
_ADDRESS = "billing_address"
_PREFIX = "billing_address."
_INTEGER_TEXT = r"^[+-]?[0-9]+$"

Records = Callable[[Sequence[int]], list[Any]]


class _Input(NamedTuple):
    """The input as typed columns, and how to rebuild the records of residue rows."""

    frame: pl.DataFrame
    records: Records


def dintero_lines(data: object) -> bool:
    """Whether ``data`` is a JSON Lines file whose first record is in Dintero's own shape
    (``items``, ``events``, ...: :data:`~kravia_schedule.dintero.DINTERO_MEMBERS`).

    Such a file is read record by record by the core's reader in any case (nested order
    lines and events are no columns of the flat shape); told apart from its first line,
    it can be streamed through the core instead of held in memory as records and a frame
    of them.
    """
    if not isinstance(data, str | os.PathLike):
        return False
    path = Path(os.fspath(data))
    if path.suffix.lower() not in {".jsonl", ".ndjson"} or not path.is_file():
        return False
    with path.open("rb") as stream:
        for raw in stream:
            line = raw.strip()
            if not line:
                continue
            try:
                first = json.loads(line)
            except (ValueError, RecursionError):  # the full reader says what is wrong
                return False
            return isinstance(first, dict) and read_as_dintero(first)
    return False


def source_of(data: object) -> _Input:
    if isinstance(data, str | os.PathLike):
        path = os.fspath(data)
        source = _load_path(Path(path))
        if source is None:  # a file Polars or Arrow cannot read faithfully
            source = _from_records(list(read_records(path)))
        return source
    return _load(data)


def _load(data: object) -> _Input:
    """The typed columns of an in-memory frame or table."""
    if isinstance(data, pl.LazyFrame):
        wanted = wanted_columns(data.collect_schema().names())
        return from_frame(data.select(wanted).collect())
    if isinstance(data, pl.DataFrame):
        return from_frame(data.select(wanted_columns(data.columns)))
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None and isinstance(data, pyarrow.Table):
        frame = pl.from_arrow(data)
        assert isinstance(frame, pl.DataFrame)
        return from_frame(frame.select(wanted_columns(frame.columns)))
    raise TypeError(
        "plan_frame takes a polars DataFrame or LazyFrame, a pyarrow Table or a file path, "
        f"not {type(data).__name__}"
    )


def wanted_columns(columns: Iterable[str]) -> list[str]:
    """The columns a plan reads: the flat shape's, or every column when some rows may be
    in Dintero's own shape (the record reader needs all of such a row)."""
    names = list(columns)
    if any(c in DINTERO_MEMBERS for c in names):
        return names
    return [c for c in names if c in _TOP or c == _ADDRESS or c.startswith(_PREFIX)]


def _load_path(path: Path) -> _Input | None:
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        scan = pl.scan_parquet(path)
        return from_frame(scan.select(wanted_columns(scan.collect_schema().names())).collect())
    if suffix == ".csv":
        return _load_csv(path)
    if suffix in {".jsonl", ".ndjson"}:
        return _load_jsonl(path)
    if suffix == ".json":  # GET /v1/transactions' array, or one transaction: read exactly
        return None
    raise ValueError(
        f"cannot tell the format of {str(path)!r}: use .parquet, .csv, .json, .jsonl or .ndjson"
    )


def _load_csv(path: Path) -> _Input | None:
    """CSV through Polars, all cells text, when Polars reads the rows Python's ``csv``
    module reads; else ``None``.

    Where the two differ, the file is left to the core's reader: a blank line (``csv``
    skips it, Polars makes a row of nulls), a lone carriage return (a line end for
    ``csv`` only), a repeated header name (``csv`` keeps the last cell, Polars renames),
    and whatever Polars refuses (ragged rows, text after a closing quote).
    """
    data = path.read_bytes().rstrip(b"\r\n")
    if b"\n\n" in data or b"\n\r\n" in data or data.count(b"\r") != data.count(b"\r\n"):
        return None
    head = data[:65536].decode("utf-8-sig", errors="replace")
    header = next(csv.reader(io.StringIO(head, newline="")), None)
    try:
        raw = pl.read_csv(io.BytesIO(data + b"\n"), infer_schema=False)
    except pl.exceptions.PolarsError:
        return None
    if header is None or raw.columns != header:
        return None
    # As the command line's reader: an empty cell is an absent field.
    wanted = wanted_columns(raw.columns)
    if not wanted:  # no column a plan reads: a frame of none would lose the row count
        return None
    raw = raw.select(wanted).with_columns(pl.all().replace("", None))
    return from_frame(raw, csv=True)


def _load_jsonl(path: Path) -> _Input | None:
    """JSON Lines through Arrow's JSON reader with an explicit schema.

    Arrow refuses a value of another JSON type than its column (Polars' reader would turn
    a number among strings into a string); then, or on any other reading error, the file
    is left to the core's reader. The lines are split as the core's reader splits them,
    and the residue is rebuilt with ``json.loads`` of its lines.
    """
    try:
        pa = import_pyarrow()
        pajson = import_pyarrow("pyarrow.json")
        text = path.read_bytes().decode("utf-8-sig")
        if any(f'"{name}"' in text for name in DINTERO_MEMBERS):
            return None  # Dintero's own shape, or text naming its members: read exactly
        lines = [line for line in io.StringIO(text, newline="") if line.strip()]
        if any(not line.lstrip().startswith("{") for line in lines):
            # Not an object per line: Arrow's JSON reader has crashed the process on a
            # line such as ``null``; the core's reader rejects each such line.
            return None
        body = "\n".join(line.rstrip("\r\n") for line in lines).encode()
        string = pa.string()
        schema = pa.schema(
            [(name, pa.int64() if name in _MONEY else string) for name in _TOP]
            + [(_ADDRESS, pa.struct([(name, string) for name in ADDRESS_FIELDS]))]
        )
        options = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
        table = pajson.read_json(io.BytesIO(body), parse_options=options) if lines else None
    except ImportError:
        raise
    except Exception:  # any reading problem: the core's reader reports it per line
        return None
    if table is None:
        frame = pl.DataFrame({name: pl.Series(name, [], pl.String) for name in _TOP})
    else:
        if table.num_rows != len(lines):
            return None
        converted = pl.from_arrow(table)
        assert isinstance(converted, pl.DataFrame)
        frame = converted

    def records(rows: Sequence[int]) -> list[dict[str, Any]]:
        return [json.loads(lines[row]) for row in rows]

    return _Input(from_frame(frame).frame, records)


def _from_records(records: Sequence[Any]) -> _Input:
    """The typed columns of records read by the core's reader (values of any type).

    Slower than Polars' and Arrow's readers, but exact: a residue row is its record.
    """
    n = len(records)
    columns: dict[str, list[Any]] = {name: [None] * n for name in _TOP}
    columns.update({_PREFIX + name: [None] * n for name in ADDRESS_FIELDS})
    top = [(name, columns[name]) for name in _TOP]
    fields = [(name, columns[_PREFIX + name]) for name in ADDRESS_FIELDS]
    has_address = [False] * n
    bad = [False] * n
    for i, record in enumerate(records):
        if type(record) is not dict or read_as_dintero(record):
            bad[i] = True  # an unreadable line, not an object, or Dintero's own shape
            continue
        for name, values in top:
            values[i] = record.get(name)
        address = record.get(_ADDRESS)
        if type(address) is dict:
            has_address[i] = True
            for name, values in fields:
                values[i] = address.get(name)
    raw = pl.DataFrame(
        [pl.Series(name, values, dtype=pl.Object) for name, values in columns.items()]
    )
    frame = from_frame(raw).frame.with_columns(
        has_address=pl.Series(has_address, dtype=pl.Boolean),
        bad=pl.col("bad") | pl.Series(bad, dtype=pl.Boolean),
    )

    def residue(rows: Sequence[int]) -> list[Any]:
        return [records[row] for row in rows]

    return _Input(frame, residue)


def import_pyarrow(module: str = "pyarrow") -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as error:
        raise ImportError(_MISSING) from error


def _missing_column(n: int, dtype: Any) -> pl.Series:
    return pl.repeat(None, n, dtype=dtype, eager=True)


def as_text(series: pl.Series | None, n: int) -> tuple[pl.Series, pl.Series]:
    """A column as strings, and where a value is present but not a string."""
    if series is None:
        return _missing_column(n, pl.String), pl.repeat(False, n, eager=True)
    dtype = series.dtype
    if dtype == pl.Object:
        values = series.to_list()
        # A str subclass goes to the residue, but still counts as an id (the core takes it).
        typed = [str.__str__(v) if isinstance(v, str) else None for v in values]
        bad = [v is not None and type(v) is not str for v in values]
        return pl.Series(typed, dtype=pl.String), pl.Series(bad, dtype=pl.Boolean)
    if dtype in (pl.String, pl.Null) or isinstance(dtype, pl.Categorical | pl.Enum):
        return series.cast(pl.String), pl.repeat(False, n, eager=True)
    return _missing_column(n, pl.String), series.is_not_null()


def _as_integer(series: pl.Series | None, n: int, *, csv: bool) -> tuple[pl.Series, pl.Series]:
    """A column as 64-bit integers, and where a value is present but not such an integer.

    In CSV input (all text) an integer-looking cell is the integer, as in the core's
    reader; another cell goes to the residue, which rebuilds it with that reader's rules.
    """
    if series is None:
        return _missing_column(n, pl.Int64), pl.repeat(False, n, eager=True)
    dtype = series.dtype
    if dtype == pl.Object:
        values = series.to_list()
        ok = [type(v) is int and -(2**63) <= v < 2**63 for v in values]
        kept = [v if good else None for v, good in zip(values, ok, strict=True)]
        wrong = [v is not None and not good for v, good in zip(values, ok, strict=True)]
        return pl.Series(kept, dtype=pl.Int64), pl.Series(wrong, dtype=pl.Boolean)
    if dtype == pl.Null:
        return series.cast(pl.Int64), pl.repeat(False, n, eager=True)
    if dtype.is_integer():
        typed = series.cast(pl.Int64, strict=False)
    elif csv and dtype == pl.String:
        looks = series.str.contains(_INTEGER_TEXT).fill_null(False)
        typed = series.zip_with(looks, _missing_column(n, pl.String)).cast(pl.Int64, strict=False)
    else:
        return _missing_column(n, pl.Int64), series.is_not_null()
    return typed, series.is_not_null() & typed.is_null()


def from_frame(raw: pl.DataFrame, *, csv: bool = False) -> _Input:
    """Typed columns (``row``, the top-level fields, ``a.<field>``, ``has_address``,
    ``bad``) of a frame of records, and the rebuilder of its records."""
    n = raw.height
    columns = raw.columns
    address = raw.get_column(_ADDRESS) if _ADDRESS in columns else None
    flat = [c for c in columns if c.startswith(_PREFIX)]
    struct = address is not None and isinstance(address.dtype, pl.Struct)
    if struct and flat:
        raise ValueError(
            "give the billing address either as a struct column 'billing_address' or as "
            "'billing_address.<field>' columns, not both"
        )
    out: dict[str, pl.Series] = {"row": pl.Series("row", range(n), dtype=pl.Int64)}
    bad = pl.repeat(False, n, eager=True)
    for name in _TOP:
        series = raw.get_column(name) if name in columns else None
        if name in _MONEY:
            out[name], wrong = _as_integer(series, n, csv=csv)
        else:
            out[name], wrong = as_text(series, n)
        bad = bad | wrong
    if struct:
        assert address is not None
        names = {f.name for f in address.dtype.fields}  # type: ignore[attr-defined]
        fields = {f: address.struct.field(f) for f in ADDRESS_FIELDS if f in names}
        has_address = address.is_not_null()
    else:
        fields = {f: raw.get_column(_PREFIX + f) for f in ADDRESS_FIELDS if _PREFIX + f in columns}
        has_address = pl.repeat(False, n, eager=True)
        for column in flat:
            has_address = has_address | raw.get_column(column).is_not_null()
        if address is not None:  # not a struct: whatever it holds, the core judges it
            bad = bad | address.is_not_null()
    for name in ADDRESS_FIELDS:
        out[f"a.{name}"], wrong = as_text(fields.get(name), n)
        bad = bad | wrong
    # A row in Dintero's own shape (items, events, a webhook envelope, ...) is read by
    # the core's record reader, which computes its VAT from its items.
    for name in DINTERO_MEMBERS:
        if name in columns:
            bad = bad | raw.get_column(name).is_not_null()
    out["has_address"] = has_address
    out["bad"] = bad.fill_null(True)
    frame = pl.DataFrame(out)

    def records(rows: Sequence[int]) -> list[dict[str, Any]]:
        if not rows:
            return []
        subset = raw[list(rows)]
        if csv:
            return [unflatten(row) for row in subset.iter_rows(named=True)]
        return _records(subset, flat, struct=struct)

    return _Input(frame, records)


def _records(subset: pl.DataFrame, flat: Sequence[str], *, struct: bool) -> list[dict[str, Any]]:
    """The Dintero-shaped record of each row of ``subset``: its non-null cells, the
    address nested (a struct's non-null fields, another type's value as it is, or the
    non-null ``billing_address.<field>`` cells).

    Built from whole columns, which is cheaper than a row at a time (``iter_rows``):
    the residue's records are built on its thread, holding the GIL, or, streaming,
    between batches.
    """
    n = subset.height
    columns = subset.columns
    names = [c for c in columns if c != _ADDRESS and not c.startswith(_PREFIX)]
    records = [
        {k: v for k, v in zip(names, cells, strict=True) if v is not None}
        for cells in _cells(subset, names)
    ]
    given: Iterable[Any]
    if _ADDRESS not in columns:
        given = repeat(None, n)
    elif struct:
        column = subset.get_column(_ADDRESS)
        parts = column.struct.fields
        given = [
            {k: v for k, v in zip(parts, cells, strict=True) if v is not None} if present else None
            for present, cells in zip(
                column.is_not_null().to_list(),
                _cells(column.struct.unnest(), parts),
                strict=True,
            )
        ]
    else:
        given = subset.get_column(_ADDRESS).to_list()
    keys = [c[len(_PREFIX) :] for c in flat]
    for record, address, cells in zip(records, given, _cells(subset, flat), strict=True):
        if address is not None:
            record[_ADDRESS] = address
            continue
        fields = {k: v for k, v in zip(keys, cells, strict=True) if v is not None}
        if fields:
            record[_ADDRESS] = fields
    return records


def _cells(frame: pl.DataFrame, columns: Sequence[str]) -> Iterable[tuple[Any, ...]]:
    """The values of ``columns`` in each row of ``frame``, as tuples."""
    if not columns:
        return repeat((), frame.height)
    return zip(*(frame.get_column(c).to_list() for c in columns), strict=True)
