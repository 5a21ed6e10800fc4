"""Columnar planning: the plan of :func:`~kravia_schedule.plan_invoices`, from a Polars frame.

Requires the ``columnar`` extra (``pip install 'kravia-schedule[columnar]'``)::

    import polars as pl
    from kravia_schedule.columnar import plan_frame, plan_file

    plan = plan_frame(pl.read_parquet("purchases.parquet"), config, as_of=date(2026, 11, 25))
    plan = plan_file("purchases.csv", config)  # Parquet, CSV or JSON Lines

The result is **equal** (``==``) to ``plan_invoices`` on the same records. The rules are not
written twice: Polars only decides which rows are *plainly valid* and groups them; every
decision about a value goes through the core:

* a row is *plainly valid* when its id is a string without surrounding whitespace that
  occurs once in the whole input, its amounts are integers with ``0 <= vat_amount <=
  amount`` and ``amount > 0``, its currency matches ``[A-Z]{3}``, status and product type
  are known, ``created_at`` is an ISO-8601 timestamp with a UTC offset in the narrow form
  both Polars and ``datetime.fromisoformat`` read the same way, and it would be invoiced
  (product enabled; grouped ``AUTHORIZED``; standard ``CAPTURED``/``PARTIALLY_REFUNDED``/
  ``SETTLED``);
* each distinct billing address of those rows is validated by
  :func:`~kravia_schedule.address.validate_billing_address` and keyed by
  :func:`~kravia_schedule.customers.customer_key`; each distinct (country, UTC day) gets
  its local midnight from the planner's own zoneinfo-based helper (Polars' own time-zone
  data gives other local dates than zoneinfo in Oslo and Stockholm in 1916–1965 and in all
  three zones from 2100); each distinct (country, date) its billing period and its dates
  from :mod:`kravia_schedule.dates`;
* everything else (the *residue*: invalid rows, skipped rows, repeated ids, addresses
  that fail, dates beyond the holiday data) is handed as Dintero-shaped dicts to
  ``plan_invoices``, and the two partial plans are combined with
  :func:`~kravia_schedule.merge_plans` (their transaction ids are disjoint by construction).

**The record of a row**: its non-null cells; the billing address from a struct column
``billing_address`` or from flattened ``billing_address.<field>`` columns (a null cell is
an absent field, as in the CSV reader). Columns of dtype ``Object`` (mixed Python values)
are read value by value: values of the expected type take the columnar path, the others
go to the residue as they are.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from itertools import repeat
from pathlib import Path
from typing import Any, NamedTuple

try:
    import polars as pl
except ImportError as error:
    raise ImportError(
        "kravia_schedule.columnar needs polars and pyarrow, which are optional: "
        "pip install 'kravia-schedule[columnar]'"
    ) from error

from kravia_schedule.address import _BUSINESS, _COMMON, _OPTIONAL, validate_billing_address
from kravia_schedule.calendar import BusinessCalendar, CalendarKind, DateRoll
from kravia_schedule.config import KraviaConfig, ProductType
from kravia_schedule.countries import Country
from kravia_schedule.customers import CustomerKey, customer_key
from kravia_schedule.dates import InvoiceDates, day_invoice_dates, local_date, period_invoice_dates
from kravia_schedule.errors import CalendarRangeError, InvalidBillingAddress
from kravia_schedule.io import _unflatten, read_records
from kravia_schedule.periods import billing_period
from kravia_schedule.planning import (
    STANDARD_INVOICED,
    Invoice,
    InvoiceLine,
    InvoicePlan,
    InvoiceState,
    PlanProvenance,
    _cyclic_gc_paused,
    _grouped_id,
    _LocalDays,
    _make_invoice,
    _standard_id,
    _state,
    merge_plans,
    plan_invoices,
)
from kravia_schedule.purchases import TransactionStatus

__all__ = ["plan_file", "plan_frame"]

_MISSING = (
    "kravia_schedule.columnar needs polars and pyarrow, which are optional: "
    "pip install 'kravia-schedule[columnar]'"
)

#: The billing-address fields :func:`validate_billing_address` reads (others are ignored).
ADDRESS_FIELDS: tuple[str, ...] = (*_COMMON, *_BUSINESS, *_OPTIONAL)
_MONEY = ("amount", "vat_amount")
_TOP = ("id", "created_at", "amount", "vat_amount", "currency", "status",
        "payment_product_type", "merchant_reference")  # fmt: skip
_ADDRESS = "billing_address"
_PREFIX = "billing_address."

#: Every character ``str.isspace`` (and so ``str.strip``) treats as whitespace; Polars'
#: own notion of whitespace is Rust's, which lacks U+001C..U+001F.
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
#: The timestamps taken on the columnar path: a form ``datetime.fromisoformat`` and Polars
#: read to the same instant (no leap second, no hour 24, offset below 24 h, at most
#: microseconds). Anything else goes to the residue, where the core parses it.
ISO_TIMESTAMP = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]([01][0-9]|2[0-3]):[0-5][0-9]"
    r":[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
_ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%:z"
_DAY_US = 86_400_000_000
# Instants outside [1800, 2200) go to the residue: the planner's float timestamps keep
# microseconds apart within it, and the holiday data covers less anyway.
_MIN_US = -5_364_662_400_000_000  # 1800-01-01T00:00:00Z
_MAX_US = 7_258_118_400_000_000  # 2200-01-01T00:00:00Z
_INTEGER_TEXT = r"^[+-]?[0-9]+$"
_GROUPED = ProductType.B2B_GROUPED
_new_line = tuple.__new__

Records = Callable[[Sequence[int]], list[Any]]


class _Input(NamedTuple):
    """The input as typed columns, and how to rebuild the records of residue rows."""

    frame: pl.DataFrame
    records: Records


# -- the entry points ----------------------------------------------------------------


def plan_frame(
    data: pl.DataFrame | pl.LazyFrame | Any | str | os.PathLike[str],
    config: KraviaConfig | None = None,
    *,
    as_of: date | datetime | None = None,
    strict: bool = False,
    weekends_only: bool = False,
    closed_days: Mapping[Country | str, Iterable[date] | Mapping[date, str]] | None = None,
    due_date_rule: DateRoll | str = DateRoll.UNADJUSTED,
    calendar_kind: CalendarKind | str = CalendarKind.PUBLIC,
) -> InvoicePlan:
    """The plan :func:`~kravia_schedule.plan_invoices` makes of the records in ``data``.

    ``data`` is a ``polars.DataFrame``, a ``polars.LazyFrame``, a ``pyarrow.Table`` or the
    path of a Parquet (``.parquet``, ``.pq``), CSV (``.csv``) or JSON Lines (``.jsonl``,
    ``.ndjson``) file. Columns: ``id, created_at, amount, vat_amount, currency, status,
    payment_product_type, merchant_reference`` and the billing address as a struct column
    ``billing_address`` or as ``billing_address.<field>`` columns; other columns are
    ignored. The other arguments are those of ``plan_invoices``.

    CSV files are read as the command line reads them (all cells text, an empty cell is
    absent, integer-looking money is an integer). A CSV or JSON Lines file that Polars or
    Arrow cannot read faithfully (a cell of another JSON type than its column, invalid
    JSON, ragged rows) is read record by record with :func:`kravia_schedule.io.read_records`.
    """
    options: dict[str, Any] = {
        "as_of": as_of,
        "strict": strict,
        "weekends_only": weekends_only,
        "closed_days": closed_days,
        "due_date_rule": due_date_rule,
        "calendar_kind": calendar_kind,
    }
    config = config if config is not None else KraviaConfig.all_enabled()
    provenance = plan_invoices([], config, **options).provenance  # also checks the options
    with _cyclic_gc_paused():  # as in plan_invoices: many small objects, no cycles
        if isinstance(data, str | os.PathLike):
            path = os.fspath(data)
            source = _load_path(Path(path))
            if source is None:  # a file Polars or Arrow cannot read faithfully
                source = _from_records(list(read_records(path)))
        else:
            source = _load(data)
        frame, records = source
        placed = _Columnar(frame, config, provenance).place()
        residue_rows = frame.filter(~pl.col("row").is_in(placed.rows.implode()))["row"].to_list()
        residue = plan_invoices(records(residue_rows), config, **options)
        # The residue's rejections carry their position in the residue; give them theirs
        # in the input (informative only: Rejection.index takes no part in comparisons).
        rejected = tuple(
            replace(r, index=residue_rows[r.index]) if r.index is not None else r
            for r in residue.rejected
        )
        residue = replace(residue, rejected=rejected)
        if not placed.invoices:
            return residue
        columnar = InvoicePlan(tuple(placed.invoices), (), (), provenance)
        return merge_plans(columnar, residue)


def plan_file(
    path: str | os.PathLike[str], config: KraviaConfig | None = None, **options: Any
) -> InvoicePlan:
    """:func:`plan_frame` of a Parquet, CSV or JSON Lines file (chosen by its suffix)."""
    return plan_frame(path, config, **options)


# -- reading -------------------------------------------------------------------------


def _load(data: object) -> _Input:
    """The typed columns of an in-memory frame or table."""
    if isinstance(data, pl.LazyFrame):
        wanted = _wanted(data.collect_schema().names())
        return _from_frame(data.select(wanted).collect())
    if isinstance(data, pl.DataFrame):
        return _from_frame(data.select(_wanted(data.columns)))
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None and isinstance(data, pyarrow.Table):
        frame = pl.from_arrow(data)
        assert isinstance(frame, pl.DataFrame)
        return _from_frame(frame.select(_wanted(frame.columns)))
    raise TypeError(
        "plan_frame takes a polars DataFrame or LazyFrame, a pyarrow Table or a file path, "
        f"not {type(data).__name__}"
    )


def _wanted(columns: Iterable[str]) -> list[str]:
    return [c for c in columns if c in _TOP or c == _ADDRESS or c.startswith(_PREFIX)]


def _load_path(path: Path) -> _Input | None:
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        scan = pl.scan_parquet(path)
        return _from_frame(scan.select(_wanted(scan.collect_schema().names())).collect())
    if suffix == ".csv":
        return _load_csv(path)
    if suffix in {".jsonl", ".ndjson"}:
        return _load_jsonl(path)
    raise ValueError(
        f"cannot tell the format of {str(path)!r}: use .parquet, .csv, .jsonl or .ndjson"
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
    raw = raw.select(_wanted(raw.columns)).with_columns(pl.all().replace("", None))
    return _from_frame(raw, csv=True)


def _load_jsonl(path: Path) -> _Input | None:
    """JSON Lines through Arrow's JSON reader with an explicit schema.

    Arrow refuses a value of another JSON type than its column (Polars' reader would turn
    a number among strings into a string); then, or on any other reading error, the file
    is left to the core's reader. The lines are split as the core's reader splits them,
    and the residue is rebuilt with ``json.loads`` of its lines.
    """
    try:
        pa = _pyarrow()
        pajson = _pyarrow("pyarrow.json")
        text = path.read_bytes().decode("utf-8-sig")
        lines = [line for line in io.StringIO(text, newline="") if line.strip()]
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

    return _Input(_from_frame(frame).frame, records)


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
        if type(record) is not dict:
            bad[i] = True  # an unreadable line, or not an object
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
    frame = _from_frame(raw).frame.with_columns(
        has_address=pl.Series(has_address, dtype=pl.Boolean),
        bad=pl.col("bad") | pl.Series(bad, dtype=pl.Boolean),
    )

    def residue(rows: Sequence[int]) -> list[Any]:
        return [records[row] for row in rows]

    return _Input(frame, residue)


def _pyarrow(module: str = "pyarrow") -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as error:
        raise ImportError(_MISSING) from error


def _missing_column(n: int, dtype: Any) -> pl.Series:
    return pl.repeat(None, n, dtype=dtype, eager=True)


def _as_text(series: pl.Series | None, n: int) -> tuple[pl.Series, pl.Series]:
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


def _from_frame(raw: pl.DataFrame, *, csv: bool = False) -> _Input:
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
            out[name], wrong = _as_text(series, n)
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
        out[f"a.{name}"], wrong = _as_text(fields.get(name), n)
        bad = bad | wrong
    out["has_address"] = has_address
    out["bad"] = bad.fill_null(True)
    frame = pl.DataFrame(out)

    def records(rows: Sequence[int]) -> list[dict[str, Any]]:
        if not rows:
            return []
        subset = raw[list(rows)]
        if csv:
            return [_unflatten(row) for row in subset.iter_rows(named=True)]
        return [_record(row, flat, struct=struct) for row in subset.iter_rows(named=True)]

    return _Input(frame, records)


def _record(row: dict[str, Any], flat: Sequence[str], *, struct: bool) -> dict[str, Any]:
    """The Dintero-shaped record of one row: its non-null cells, the address nested."""
    record = {name: row[name] for name in _TOP if row.get(name) is not None}
    address = row.get(_ADDRESS)
    if struct and address is not None:
        record[_ADDRESS] = {k: v for k, v in address.items() if v is not None}
    elif address is not None:
        record[_ADDRESS] = address
    else:
        fields = {c[len(_PREFIX) :]: row[c] for c in flat if row[c] is not None}
        if fields:
            record[_ADDRESS] = fields
    return record


# -- planning the plainly valid rows ---------------------------------------------------


class _Placed(NamedTuple):
    invoices: list[Invoice]
    rows: pl.Series  # the rows on those invoices


class _Columnar:
    """Places the plainly valid rows of one input on invoices."""

    def __init__(
        self, frame: pl.DataFrame, config: KraviaConfig, provenance: PlanProvenance
    ) -> None:
        self.frame = frame
        self.config = config
        self.strict = provenance.strict
        self.rule = provenance.due_date_rule
        closed: dict[Country, dict[date, str]] = defaultdict(dict)
        for country, day, reason in provenance.closed_days:
            closed[country][day] = reason
        # The calendars plan_invoices builds (equal, so they share its date caches).
        self.calendars = {
            c: BusinessCalendar(
                c,
                kind=provenance.calendar_kind,
                weekends_only=provenance.weekends_only,
                closed_days=closed[c],
            )
            for c in Country
        }
        as_of = provenance.as_of
        self.today = {c: local_date(as_of, c) for c in Country} if as_of is not None else None
        self.addresses: list[Any] = []  # BillingAddress per address id
        self.keys: list[CustomerKey] = []
        self.dates: list[InvoiceDates] = []  # the dates a ``dates`` column points at
        self.states: list[InvoiceState | None] = []  # and the invoice state they give

    def place(self) -> _Placed:
        valid = self._plain()
        valid = self._with_addresses(valid)
        valid = self._with_local_dates(valid)
        grouped = self._with_periods(valid.filter(pl.col("payment_product_type") == _GROUPED))
        standard = self._with_day_dates(valid.filter(pl.col("payment_product_type") != _GROUPED))
        invoices = self._grouped_invoices(grouped) + self._standard_invoices(standard)
        return _Placed(invoices, pl.concat([grouped["row"], standard["row"]]))

    def _plain(self) -> pl.DataFrame:
        """The rows whose record is plainly valid and goes on an invoice, with ``ts``
        (the instant in microseconds since the epoch)."""
        config = self.config
        ident = pl.col("id")
        key = ident.str.strip_chars(PY_WHITESPACE)  # the id the core would use
        created = pl.col("created_at")
        canonical = pl.concat_str(created.str.slice(0, 10), pl.lit("T"), created.str.slice(11))
        ts = (
            pl.when(created.str.contains(ISO_TIMESTAMP))
            .then(canonical.str.replace("Z$", "+00:00"))
            .str.to_datetime(_ISO_FORMAT, time_unit="us", time_zone="UTC", strict=False)
            .dt.epoch("us")
        )
        amount, vat = pl.col("amount"), pl.col("vat_amount")
        status, product = pl.col("status"), pl.col("payment_product_type")
        standard_types = [
            p.value for p in ProductType if not p.is_grouped and config.product(p).enabled
        ]
        invoiced = (
            (product == _GROUPED.value)
            & (status == TransactionStatus.AUTHORIZED.value)
            & pl.lit(config.product(_GROUPED).enabled)
        ) | (product.is_in(standard_types) & status.is_in([s.value for s in STANDARD_INVOICED]))
        plain = (
            ~pl.col("bad")
            & pl.col("has_address")
            & (ident.str.len_bytes() > 0)
            & (key == ident)
            & ~key.is_duplicated()
            & (amount > 0)
            & (vat >= 0)
            & (vat <= amount)
            & pl.col("currency").str.contains("^[A-Z]{3}$")
            & invoiced
            & pl.col("ts").is_between(_MIN_US, _MAX_US, closed="left")
        )
        return self.frame.with_columns(ts=ts).filter(plain.fill_null(False))

    def _with_addresses(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Each distinct (address, product type) validated once by the core; the rows
        whose address fails are dropped (to the residue)."""
        columns = [f"a.{name}" for name in ADDRESS_FIELDS]
        distinct = frame.select(*columns, "payment_product_type").unique()
        ids: list[int | None] = []
        customer: list[tuple[str | None, ...]] = []
        for *values, product in _rows(distinct):
            given = {k: v for k, v in zip(ADDRESS_FIELDS, values, strict=True) if v is not None}
            try:
                address = validate_billing_address(given, product, strict=self.strict)
            except InvalidBillingAddress:
                ids.append(None)
                customer.append((None, None, None, None))
                continue
            key = customer_key(address)
            ids.append(len(self.addresses))
            self.addresses.append(address)
            self.keys.append(key)
            customer.append(
                (key.country.value, key.organization_number, key.business_name,
                 key.customer_reference)
            )  # fmt: skip
        names = ("country", "org", "name", "reference")
        looked_up = distinct.with_columns(
            pl.Series("address", ids, dtype=pl.Int64),
            *(
                pl.Series(name, [c[i] for c in customer], dtype=pl.String)
                for i, name in enumerate(names)
            ),
        )
        joined = frame.join(
            looked_up, on=[*columns, "payment_product_type"], nulls_equal=True, validate="m:1"
        )
        return joined.filter(pl.col("address").is_not_null())

    def _with_local_dates(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``local``: the date in the customer's zone, from the planner's own helper.

        For each distinct (country, UTC day) the helper gives the local midnight within
        that day (if any) and the dates before and after it; a day it has no such entry
        for sends its rows to the residue.
        """
        frame = frame.with_columns(day=pl.col("ts") // _DAY_US)
        days = frame.select("country", "day").unique()
        helpers = {c: _LocalDays(c) for c in Country}
        midnights: list[int | None] = []
        before: list[date | None] = []
        after: list[date | None] = []
        for country, day in _rows(days):
            entry = helpers[Country(country)]._day(day)
            if entry is None or entry[0] != int(entry[0]):
                midnights.append(None)
                before.append(None)
                after.append(None)
            else:
                midnights.append(int(entry[0]) * 1_000_000)
                before.append(entry[1])
                after.append(entry[2])
        days = days.with_columns(
            pl.Series("midnight", midnights, dtype=pl.Int64),
            pl.Series("before", before, dtype=pl.Date),
            pl.Series("after", after, dtype=pl.Date),
        )
        joined = frame.join(days, on=["country", "day"], validate="m:1")
        local = (
            pl.when(pl.col("ts") < pl.col("midnight"))
            .then(pl.col("before"))
            .otherwise(pl.col("after"))
        )
        return joined.filter(pl.col("midnight").is_not_null()).with_columns(local=local)

    def _date_index(self, dates: InvoiceDates, country: Country) -> int:
        self.dates.append(dates)
        self.states.append(_state(dates, self.today[country] if self.today else None))
        return len(self.dates) - 1

    def _with_periods(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``start`` (of the billing period) and ``dates`` (an index into ``self.dates``)
        per distinct (country, local date); beyond the holiday data, to the residue."""
        product = self.config.product(_GROUPED)
        pairs = frame.select("country", "local").unique()
        by_period: dict[tuple[str, date], int | None] = {}
        starts: list[date] = []
        indices: list[int | None] = []
        for country, day in _rows(pairs):
            period = billing_period(day, product.interval)
            starts.append(period.start)
            if (country, period.start) not in by_period:
                try:
                    dates = period_invoice_dates(
                        period, self.calendars[Country(country)], product.days_until_due, self.rule
                    )
                    by_period[country, period.start] = self._date_index(dates, Country(country))
                except CalendarRangeError:
                    by_period[country, period.start] = None
            indices.append(by_period[country, period.start])
        pairs = pairs.with_columns(
            pl.Series("start", starts, dtype=pl.Date),
            pl.Series("dates", indices, dtype=pl.Int64),
        )
        joined = frame.join(pairs, on=["country", "local"], validate="m:1")
        return joined.filter(pl.col("dates").is_not_null())

    def _with_day_dates(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``dates`` of standard invoices per distinct (country, product type, local date)."""
        triples = frame.select("country", "payment_product_type", "local").unique()
        indices: list[int | None] = []
        for country, product, day in _rows(triples):
            days = self.config.product(ProductType(product)).days_until_due
            try:
                dates = day_invoice_dates(day, self.calendars[Country(country)], days, self.rule)
                indices.append(self._date_index(dates, Country(country)))
            except CalendarRangeError:
                indices.append(None)
        triples = triples.with_columns(pl.Series("dates", indices, dtype=pl.Int64))
        joined = frame.join(
            triples, on=["country", "payment_product_type", "local"], validate="m:1"
        )
        return joined.filter(pl.col("dates").is_not_null())

    def _grouped_invoices(self, frame: pl.DataFrame) -> list[Invoice]:
        """One invoice per (customer key, currency, period): rows sorted by key, then by
        (instant, id), so each invoice is a run of rows and its first row is the earliest."""
        keys = ["country", "org", "name", "reference", "currency", "start"]
        frame = frame.sort([*keys, "ts", "id"])
        counts = frame.select(pl.struct(keys).rle().struct.field("len")).to_series().to_list()
        lines = _lines(frame)
        addresses = frame["address"].to_list()
        currencies = frame["currency"].to_list()
        dates_of = frame["dates"].to_list()
        keys_of, addresses_of, all_dates, states = (
            self.keys,
            self.addresses,
            self.dates,
            self.states,
        )
        invoices = []
        first = 0
        for count in counts:
            address = addresses[first]
            key = keys_of[address]
            currency = currencies[first]
            index = dates_of[first]
            dates = all_dates[index]
            assert dates.period is not None
            invoices.append(
                _make_invoice(
                    _grouped_id(key, currency, dates.period), _GROUPED, key,
                    addresses_of[address], currency, dates, lines[first : first + count],
                    states[index],
                )
            )  # fmt: skip
            first += count
        return invoices

    def _standard_invoices(self, frame: pl.DataFrame) -> list[Invoice]:
        invoices = []
        columns = ("address", "payment_product_type", "currency", "dates")
        rows = zip(_lines(frame), *(frame[c].to_list() for c in columns), strict=True)
        for line, address, product, currency, dates_index in rows:
            key = self.keys[address]
            product_type = ProductType(product)
            invoices.append(
                _make_invoice(
                    _standard_id(product_type, line.transaction_id), product_type, key,
                    self.addresses[address], currency, self.dates[dates_index], [line],
                    self.states[dates_index],
                )
            )  # fmt: skip
        return invoices


def _rows(frame: pl.DataFrame) -> Iterable[tuple[Any, ...]]:
    """The rows of ``frame`` as tuples (column by column: faster than ``iter_rows``)."""
    return zip(*(frame[name].to_list() for name in frame.columns), strict=True)


def _lines(frame: pl.DataFrame) -> list[InvoiceLine]:
    """The invoice lines of ``frame``'s rows, in its order. ``created_at`` is what the core
    keeps: ``datetime.fromisoformat`` of the text, with its own UTC offset."""
    rows = zip(
        map(datetime.fromisoformat, frame["created_at"].to_list()),
        frame["id"].to_list(),
        frame["amount"].to_list(),
        frame["vat_amount"].to_list(),
        frame["merchant_reference"].to_list(),
        strict=True,
    )
    return list(map(_new_line, repeat(InvoiceLine), rows))
