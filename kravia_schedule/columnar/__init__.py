"""Columnar planning: the plan of :func:`~kravia_schedule.plan_invoices`, from a Polars frame.

Requires the ``columnar`` extra (``pip install 'kravia-schedule[columnar]'``)::

    import polars as pl
    from kravia_schedule.columnar import plan_frame, plan_file

    plan = plan_frame(pl.read_parquet("purchases.parquet"), config, as_of=date(2026, 11, 25))
    plan = plan_file("purchases.csv", config)  # Parquet, CSV or JSON Lines

The result is **equal** (``==``) to ``plan_invoices`` on the same records. Two more entry
points keep the result columnar::

    result = plan_frames(df, config)       # FramePlan: result.invoices is a Polars frame
    plan = result.to_plan()                # the InvoicePlan, materialized on demand
    result = plan_parquet("huge.parquet", config, lines=False)  # out of core, in batches

:class:`FramePlan` has one row per invoice (ids, customer key, period, dates, totals,
state, the transaction ids as a list in line order), the core's plan of the residue
(``skipped``, ``rejected``), and, unless ``lines=False``, the other fields of every line,
which :meth:`FramePlan.to_plan` needs. :func:`plan_parquet` streams a Parquet file too
large for memory (see its docstring for how repeats far apart are settled).

The rules are not written twice: Polars only decides which rows are *plainly valid* and
groups them; every other decision about a value goes through the core:

* a row is *plainly valid* when its id is a string without surrounding whitespace that
  occurs once in the whole input, its amounts are integers with ``0 <= vat_amount <=
  amount`` and ``amount > 0``, its currency matches ``[A-Z]{3}``, status and product type
  are known, ``created_at`` is an ISO-8601 timestamp with a UTC offset in the narrow form
  both Polars and ``datetime.fromisoformat`` read the same way, and it would be invoiced
  (product enabled; grouped ``AUTHORIZED``; standard ``CAPTURED``/``PARTIALLY_REFUNDED``/
  ``SETTLED``);
* each distinct billing address of those rows is *plainly valid* when
  :func:`~kravia_schedule.columnar.addresses.recognize` finds it in the usual spellings
  the core accepts as they are (its customer key computed over columns; property-tested
  against the core and checked on a sample of every frame); any other address is
  validated by :func:`~kravia_schedule.address.validate_billing_address` and keyed by
  :func:`~kravia_schedule.customers.customer_key`. Each distinct (country, UTC day) gets
  its local midnight from the planner's own zoneinfo-based helper (Polars' own time-zone
  data gives other local dates than zoneinfo in Oslo and Stockholm in 1916–1965 and in all
  three zones from 2100); each distinct (country, date) its billing period and its dates
  from :mod:`kravia_schedule.dates`;
* invoice ids are the core's digest of the same text (checked against the core's own
  functions on the first invoice of each kind of every plan);
* a plainly valid row that goes on no invoice (voided, another status, a disabled
  product) is skipped with the reason and wording of the core's own ``_skipped``,
  asked once per (product type, status);
* everything else (the *residue*: invalid rows, repeated ids, addresses
  that fail, dates beyond the holiday data, timestamps in rarer forms) is handed as
  Dintero-shaped dicts to ``plan_invoices``; its invoices join the columnar ones as
  ``merge_plans`` would merge them (their transaction ids are disjoint by construction).

Sending a row to the residue is always safe, so the fast path may be conservative: rows
are matched to distinct addresses and ids checked for repeats by 64-bit hashes, and a
hash collision only sends the rows involved the long way.

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
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
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

from kravia_schedule.address import BillingAddress, validate_billing_address
from kravia_schedule.calendar import BusinessCalendar, CalendarKind, DateRoll
from kravia_schedule.columnar.addresses import (
    ADDRESS_FIELDS,
    KEYS,
    PY_WHITESPACE,
    agrees,
    by_core,
    recognize,
)
from kravia_schedule.config import KraviaConfig, ProductType
from kravia_schedule.countries import Country
from kravia_schedule.customers import CustomerKey, customer_key
from kravia_schedule.dates import InvoiceDates, day_invoice_dates, local_date, period_invoice_dates
from kravia_schedule.errors import CalendarRangeError, FieldProblem
from kravia_schedule.io import _unflatten, read_records
from kravia_schedule.periods import billing_period
from kravia_schedule.planning import (
    STANDARD_INVOICED,
    InvoicePlan,
    InvoiceState,
    PlanProvenance,
    Rejection,
    SkippedPurchase,
    SkipReason,
    _cyclic_gc_paused,
    _grouped_id,
    _LocalDays,
    _make_invoice,
    _new_digest,
    _skipped,
    _standard_id,
    _state,
    _transaction_id,
    merge_plans,
    plan_invoices,
)
from kravia_schedule.purchases import PurchaseRow, TransactionStatus

__all__ = ["FramePlan", "plan_file", "plan_frame", "plan_frames", "plan_parquet"]

_MISSING = (
    "kravia_schedule.columnar needs polars and pyarrow, which are optional: "
    "pip install 'kravia-schedule[columnar]'"
)

_MONEY = ("amount", "vat_amount")
_TOP = ("id", "created_at", "amount", "vat_amount", "currency", "status",
        "payment_product_type", "merchant_reference")  # fmt: skip
_ADDRESS = "billing_address"
_PREFIX = "billing_address."

#: The timestamps taken on the columnar path: a form ``datetime.fromisoformat`` and Polars
#: read to the same instant (no leap second, no hour 24, offset below 24 h, at most
#: microseconds). Anything else goes to the residue, where the core parses it.
ISO_TIMESTAMP = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]([01][0-9]|2[0-3]):[0-5][0-9]"
    r":[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
_NAIVE_FORMAT = "%Y-%m-%dT%H:%M:%S"
_DAY_US = 86_400_000_000
# Instants outside [1800, 2200) go to the residue: the planner's float timestamps keep
# microseconds apart within it, and the holiday data covers less anyway.
_MIN_US = -5_364_662_400_000_000  # 1800-01-01T00:00:00Z
_MAX_US = 7_258_118_400_000_000  # 2200-01-01T00:00:00Z
_INTEGER_TEXT = r"^[+-]?[0-9]+$"
_GROUPED = ProductType.B2B_GROUPED

_PRODUCT = pl.Enum([p.value for p in ProductType])
_COUNTRY = pl.Enum([c.value for c in Country])
_STATE = pl.Enum([s.value for s in InvoiceState])
_SEPARATOR = "\x1f"  # between the parts of an invoice id's digested text, as in the core
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_ADDRESS_COLUMNS = [f"a.{name}" for name in ADDRESS_FIELDS]
#: The columns of a line placed on an invoice (see _Context.place).
_LINE_ROW = ["row", "id", "ts", "created_at", "amount", "vat_amount", "merchant_reference",
             "currency", "payment_product_type", "address", "customer"]  # fmt: skip
_COUNTRIES = list(Country)
_COUNTRY_INDEX = {c.value: i for i, c in enumerate(_COUNTRIES)}
_PRODUCTS = list(ProductType)
_PRODUCT_INDEX = {p.value: i for i, p in enumerate(_PRODUCTS)}
#: The columns of a placed line only :meth:`FramePlan.to_plan` needs (not spilled when
#: planning with ``lines=False``).
_LINE_ONLY = ["row", "created_at", "merchant_reference"]
_EPOCH_DAY = date(1970, 1, 1)
#: The columns every line of an invoice shares (taken from its first).
_INVOICE_WIDE = ["address", "dates", "payment_product_type", "customer", "currency", "start",
                 "sid"]  # fmt: skip
#: Texts digested at a time (see _digests); a test lowers it.
_SLICE = 1 << 16
#: The bits of the Int128 sort key of a line (see _line_order); a test lowers it.
_ORDER_BITS = 127
#: A stand-in purchase for asking the core why a (product type, status) is skipped.
_SKIP_PROBE = PurchaseRow(
    "", _EPOCH, 0, 0, "", TransactionStatus.AUTHORIZED, _GROUPED,
    BillingAddress("", "", "", "", Country.NO, "", ""), None,
)  # fmt: skip

Records = Callable[[Sequence[int]], list[Any]]


class _Input(NamedTuple):
    """The input as typed columns, and how to rebuild the records of residue rows."""

    frame: pl.DataFrame
    records: Records


# -- the entry points ----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FramePlan:
    """A plan whose invoices stay columnar: what :func:`plan_frames` returns.

    ``invoices`` has one row per invoice of the whole plan (those of the plainly valid
    rows and those the core planned from the residue, merged where they share an id),
    in the plan's invoice order: ``id, product_type, country, organization_number,
    business_name, customer_reference`` (the normalized customer key), ``currency,
    period`` (label), ``period_start, period_end`` (null for standard invoices),
    ``issue_date, due_date, last_on_time_payment_date, amount, vat_amount, purchases,
    state`` (null without ``as_of``), ``transaction_ids`` (in line order: by instant,
    then id), and two indices: ``address`` (the billing address shown on the invoice,
    its earliest purchase's; see :meth:`billing_address`) and ``dates`` (into
    ``dates``/``states``).

    ``residue`` is the core's plan of the rows that were not plainly valid: its invoices
    are included in ``invoices``. The skipped purchases of the columnar path, and with
    :func:`plan_parquet` the residue's skipped purchases and rejections too, are kept as
    frames (``stored``): read them all from :attr:`skipped` and :attr:`rejected` (built
    on first use), or count them with :meth:`residue_counts`. ``lines`` (unless planned
    with ``lines=False``) holds the other fields of every line, one row per line in
    ``invoices``' order: ``created_at`` (the text given), ``amount, vat_amount,
    merchant_reference``; :meth:`to_plan` needs it.
    """

    invoices: pl.DataFrame
    residue: InvoicePlan
    provenance: PlanProvenance
    lines: pl.DataFrame | None
    #: The distinct valid billing addresses, by their ``address`` index, as given.
    addresses: pl.DataFrame
    dates: tuple[InvoiceDates, ...]
    states: tuple[InvoiceState | None, ...]
    #: Billing addresses already validated, by ``address`` index (those of the core's
    #: invoices): :meth:`billing_addresses` validates the others when asked.
    address_objects: Mapping[int, BillingAddress]
    #: Skipped purchases (and :func:`plan_parquet`'s rejections) kept as frames rather
    #: than objects (besides ``residue``'s own); :attr:`skipped` and :attr:`rejected`
    #: build the objects on first use.
    stored: _StoredResidue | None = None

    @cached_property
    def skipped(self) -> tuple[SkippedPurchase, ...]:
        """The skipped purchases, by transaction id (as ``plan_invoices``)."""
        if self.stored is None:
            return self.residue.skipped
        everything = [*self.residue.skipped, *self.stored.skipped_purchases()]
        return tuple(sorted(everything, key=_transaction_id))

    @cached_property
    def rejected(self) -> tuple[Rejection, ...]:
        """The rejections, in ``plan_invoices``' order."""
        if self.stored is None:
            return self.residue.rejected
        everything = [*self.residue.rejected, *self.stored.rejections()]
        return tuple(sorted(everything, key=Rejection.sort_key))

    def residue_counts(self) -> tuple[int, int]:
        """``(len(self.skipped), len(self.rejected))``, without building the objects."""
        stored = self.stored
        skipped, rejected = len(self.residue.skipped), len(self.residue.rejected)
        if stored is None:
            return skipped, rejected
        return skipped + stored.skipped.height, rejected + stored.rejected.height

    def totals(self) -> dict[str, int]:
        """Invoiced amount per currency (as :meth:`InvoicePlan.totals`)."""
        sums = self.invoices.group_by("currency").agg(pl.col("amount").sum())
        return dict(sorted((c, int(a)) for c, a in sums.iter_rows()))

    def billing_addresses(self, indices: Iterable[int]) -> dict[int, BillingAddress]:
        """The :class:`BillingAddress` of each ``address`` index, validated by the core."""
        wanted = set(indices)
        objects = self.address_objects
        out = {i: objects[i] for i in wanted if i in objects}
        rows = self.addresses.filter(pl.col("address").is_in(list(wanted - out.keys())))
        for *values, product, index in _rows(rows.select(*ADDRESS_FIELDS, "product", "address")):
            given = {k: v for k, v in zip(ADDRESS_FIELDS, values, strict=True) if v is not None}
            out[index] = validate_billing_address(given, product, strict=self.provenance.strict)
        return out

    def to_plan(self) -> InvoicePlan:
        """The :class:`InvoicePlan` ``plan_invoices`` returns for the same records."""
        if self.lines is None:
            raise ValueError("this plan keeps transaction ids only: plan with lines=True")
        invoices, lines = self.invoices, self.lines
        with _cyclic_gc_paused():
            rows = zip(
                map(datetime.fromisoformat, lines["created_at"].to_list()),
                invoices["transaction_ids"].explode().to_list(),
                lines["amount"].to_list(),
                lines["vat_amount"].to_list(),
                lines["merchant_reference"].to_list(),
                strict=True,
            )
            built = list(rows)  # plain tuples: what an invoice keeps (see InvoiceLines)
            # The core's own line objects where it planned the purchase (the text above
            # is their isoformat(): equal, but the core may keep another tzinfo class).
            exact = {
                line[1]: line for i in self.residue.invoices for line in tuple.__iter__(i.lines)
            }
            if exact:
                built = [exact.get(line[1], line) for line in built]
            addresses = self.billing_addresses(invoices["address"].unique().to_list())
            keys = {index: customer_key(address) for index, address in addresses.items()}
            products = {p.value: p for p in ProductType}
            dates, states = self.dates, self.states
            out = []
            first = 0
            columns = ("id", "product_type", "address", "currency", "dates", "purchases")
            for invoice_id, product, address, currency, index, count in zip(
                *(invoices[c].to_list() for c in columns), strict=True
            ):
                out.append(
                    _make_invoice(
                        invoice_id, products[product], keys[address], addresses[address],
                        currency, dates[index], built[first : first + count], states[index],
                    )
                )  # fmt: skip
                first += count
            return InvoicePlan(tuple(out), self.skipped, self.rejected, self.provenance)


def plan_frames(
    data: pl.DataFrame | pl.LazyFrame | Any | str | os.PathLike[str],
    config: KraviaConfig | None = None,
    *,
    lines: bool = True,
    as_of: date | datetime | None = None,
    strict: bool = False,
    weekends_only: bool = False,
    closed_days: Mapping[Country | str, Iterable[date] | Mapping[date, str]] | None = None,
    due_date_rule: DateRoll | str = DateRoll.UNADJUSTED,
    calendar_kind: CalendarKind | str = CalendarKind.PUBLIC,
) -> FramePlan:
    """The plan of the records in ``data``, its invoices as a Polars frame.

    ``data`` and the options are those of :func:`plan_frame`; ``lines=False`` keeps only
    the transaction ids of each invoice (no :meth:`FramePlan.to_plan`).
    ``plan_frames(data).to_plan() == plan_invoices(records)``.
    """
    options = _options(as_of, strict, weekends_only, closed_days, due_date_rule, calendar_kind)
    config = config if config is not None else KraviaConfig.all_enabled()
    provenance = plan_invoices([], config, **options).provenance  # also checks the options
    with _cyclic_gc_paused():  # as in plan_invoices: many small objects, no cycles
        frame, records = _source(data)
        context = _Context(config, provenance)
        placed = context.place(frame)
        stored = _StoredResidue()
        rest = _rest(frame, placed, context, stored)
        residue = _plan_residue(records(rest), rest, config, options)
        rows = pl.concat([placed, context.residue_rows(residue)], how="vertical_relaxed")
        invoices, details = context.invoices(rows, lines=lines)
        return _frame_plan(context, invoices, details, residue, stored.done())


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

    ``plan_frames(...).to_plan()``: the invoices are grouped by Polars and materialized.
    """
    options = _options(as_of, strict, weekends_only, closed_days, due_date_rule, calendar_kind)
    try:
        return plan_frames(data, config, **options).to_plan()
    except _TooWide:  # an amount no Polars integer holds: the core plans it all
        frame, records = _source(data)
        everything = list(range(frame.height))
        config = config if config is not None else KraviaConfig.all_enabled()
        return _plan_residue(records(everything), everything, config, options)


class _TooWide(OverflowError):
    """An invoiced amount beyond 128 bits (the core takes any integer)."""


def _source(data: object) -> _Input:
    if isinstance(data, str | os.PathLike):
        path = os.fspath(data)
        source = _load_path(Path(path))
        if source is None:  # a file Polars or Arrow cannot read faithfully
            source = _from_records(list(read_records(path)))
        return source
    return _load(data)


def plan_file(
    path: str | os.PathLike[str], config: KraviaConfig | None = None, **options: Any
) -> InvoicePlan:
    """:func:`plan_frame` of a Parquet, CSV or JSON Lines file (chosen by its suffix)."""
    return plan_frame(path, config, **options)


def plan_parquet(
    path: str | os.PathLike[str],
    config: KraviaConfig | None = None,
    *,
    batch_rows: int = 1 << 20,
    lines: bool = True,
    as_of: date | datetime | None = None,
    strict: bool = False,
    weekends_only: bool = False,
    closed_days: Mapping[Country | str, Iterable[date] | Mapping[date, str]] | None = None,
    due_date_rule: DateRoll | str = DateRoll.UNADJUSTED,
    calendar_kind: CalendarKind | str = CalendarKind.PUBLIC,
) -> FramePlan:
    """:func:`plan_frames` of a Parquet file too large for memory, read in batches.

    1. A first pass hashes every (stripped) transaction id; the rows of an id that
       occurs more than once in the file (or shares the hash of one that does) are
       planned together by the core at the end, so repeats are settled as the core
       settles them however far apart they are.
    2. Each batch of ``batch_rows`` rows: its plainly valid rows are placed as in
       :func:`plan_frames` (addresses, days and periods already seen are not looked up
       again) and spilled to a temporary Parquet file with their issue date; its other
       rows are planned by the core (their ids occur once in the file, so the plans of
       the batches merge with ``merge_plans``).
    3. The spilled lines are grouped into invoices one range of issue dates at a time
       (a grouped invoice's lines share their issue date), which gives the plan's
       invoice order without sorting the whole result.

    Peak memory is the customer keys and addresses seen, one batch (or the lines of one
    range of issue dates), and, at the end, the result (``lines=False`` keeps 16 bytes
    per transaction id): each range's invoices are written to a temporary file and read
    back once grouping is done. The skipped purchases and rejections are kept as frames
    (:attr:`FramePlan.stored`) and built into objects when :attr:`FramePlan.skipped` and
    :attr:`FramePlan.rejected` are first read. The result equals :func:`plan_frames` of
    the whole file and ``merge_plans`` of the plans of its parts.

    Polars' allocator keeps the pages each batch frees for a while; set
    ``_RJEM_MALLOC_CONF=dirty_decay_ms:0,muzzy_decay_ms:0`` in the environment before
    Polars is imported to have them returned at once (``python -m benchmarks.columnar
    --stream`` does).
    """
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be positive, got {batch_rows}")
    options = _options(as_of, strict, weekends_only, closed_days, due_date_rule, calendar_kind)
    config = config if config is not None else KraviaConfig.all_enabled()
    provenance = plan_invoices([], config, **options).provenance
    # Not pre-buffered: a pre-buffering reader keeps every column chunk it has read until
    # it is done with the file (~60 MB per million rows here; at 10^8 purchases, ~6 GB).
    parquet = _pyarrow("pyarrow.parquet").ParquetFile(os.fspath(path), pre_buffer=False)
    columns = _wanted(parquet.schema_arrow.names)
    repeated = (
        _repeated_ids(parquet, batch_rows) if "id" in columns else pl.Series([], dtype=pl.UInt64)
    )
    context = _Context(config, provenance)
    residues: list[InvoicePlan] = []
    # The residue's skipped purchases and rejections (~3 % of a typical file), as frames:
    # at 10^8 purchases, ~3M objects would take about a gigabyte.
    stored = _StoredResidue()
    held_records: list[Any] = []
    held_rows: list[int] = []
    per_day: Counter[date] = Counter()
    drop = [] if lines else _LINE_ONLY
    with tempfile.TemporaryDirectory(prefix="kravia-") as spill, _cyclic_gc_paused():
        spilled = os.path.join(spill, "lines")
        os.mkdir(spilled)
        offset = 0
        parts = 0
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns):
            converted = pl.from_arrow(batch)
            assert isinstance(converted, pl.DataFrame)
            frame, records = _from_frame(converted)
            held = _id_hash(frame["id"]).is_in(repeated.implode()).fill_null(False)
            held_local = frame.filter(held)["row"].to_list()
            held_records += records(held_local)
            held_rows += [offset + row for row in held_local]
            frame = frame.filter(~held)
            placed = context.place(frame)
            rest = _rest(frame, placed, context, stored)
            plan = _plan_residue(records(rest), [offset + r for r in rest], config, options)
            plan = stored.keep(plan)
            if plan.invoices or plan.skipped or plan.rejected:
                residues.append(plan)
            parts += _spill(context, placed.drop(drop), spilled, parts, per_day)
            offset += batch.num_rows
        residues.append(stored.keep(_plan_residue(held_records, held_rows, config, options)))
        residue = merge_plans(*residues)
        del residues, held_records, held_rows
        rows = context.residue_rows(residue).drop(drop)
        parts += _spill(context, rows, spilled, parts, per_day)
        schema = {k: v for k, v in _spill_schema().items() if k not in drop}
        scan = pl.scan_parquet(os.path.join(spilled, "*.parquet"), schema=schema)
        # Each range's invoices go to a file too and are read back at the end, so the
        # grouping's transient frames are freed before the result is loaded (holding
        # the parts while grouping the next ranges fragmented memory: at 10^8 purchases
        # the peak was several GiB above the result's size).
        results: list[str | pl.DataFrame] = []
        details: list[pl.DataFrame] = []
        for low, high in _day_ranges(per_day, batch_rows):
            rows = scan.filter(pl.col("issue").is_between(low, high)).drop("issue").collect()
            part, detail = context.invoices(rows, lines=lines)
            del rows
            results.append(_spill_invoices(part, spill, len(results)))
            if detail is not None:
                details.append(detail)
        if not results:
            part, detail = context.invoices(_row_frame(context).drop(drop), lines=lines)
            results, details = [part], [detail] if detail is not None else []
        context.release()
        invoices = [r if isinstance(r, pl.DataFrame) else pl.read_parquet(r) for r in results]
        return _frame_plan(
            context,
            pl.concat(invoices, how="vertical_relaxed", rechunk=False),
            pl.concat(details, rechunk=False) if lines else None,
            residue,
            stored.done(),
        )


def _rest(
    frame: pl.DataFrame, placed: pl.DataFrame, context: _Context, stored: _StoredResidue
) -> list[int]:
    """The rows of ``frame`` left for the core: neither ``placed`` nor skipped on the
    columnar path (those are moved from ``context`` to ``stored``)."""
    skipped = pl.concat(context.skipped)
    context.skipped.clear()
    stored.add_skipped(skipped.drop("row"))
    done = pl.concat([placed["row"], skipped["row"]])
    rest = frame.lazy().select("row").filter(~pl.col("row").is_in(done.implode()))
    return rest.collect()["row"].to_list()


def _options(
    as_of: date | datetime | None,
    strict: bool,
    weekends_only: bool,
    closed_days: Mapping[Country | str, Iterable[date] | Mapping[date, str]] | None,
    due_date_rule: DateRoll | str,
    calendar_kind: CalendarKind | str,
) -> dict[str, Any]:
    return {
        "as_of": as_of,
        "strict": strict,
        "weekends_only": weekends_only,
        "closed_days": closed_days,
        "due_date_rule": due_date_rule,
        "calendar_kind": calendar_kind,
    }


def _plan_residue(
    records: list[Any], rows: Sequence[int], config: KraviaConfig, options: dict[str, Any]
) -> InvoicePlan:
    """The core's plan of the residue; its rejections carry their position in the input
    (informative only: Rejection.index takes no part in comparisons)."""
    residue = plan_invoices(records, config, **options)
    rejected = tuple(
        replace(r, index=rows[r.index]) if r.index is not None else r for r in residue.rejected
    )
    return replace(residue, rejected=rejected)


def _frame_plan(
    context: _Context,
    invoices: pl.DataFrame,
    details: pl.DataFrame | None,
    residue: InvoicePlan,
    stored: _StoredResidue | None = None,
) -> FramePlan:
    known = context.known
    if known is None:
        addresses = pl.DataFrame(
            schema={**dict.fromkeys(ADDRESS_FIELDS, pl.String), "product": pl.String,
                    "address": pl.Int64}
        )  # fmt: skip
    else:
        addresses = (
            known.filter(pl.col("address").is_not_null())
            .select(
                *(pl.col(f"k.a.{name}").alias(name) for name in ADDRESS_FIELDS),
                pl.col("k.payment_product_type").alias("product"),
                "address",
            )
            .sort("address")
        )
    return FramePlan(
        invoices,
        residue,
        context.provenance,
        details,
        addresses,
        tuple(context.dates),
        tuple(context.states),
        dict(context.objects),
        stored,
    )


# -- streaming -----------------------------------------------------------------------


_SKIP_REASON = pl.Enum([r.value for r in SkipReason])
_STATUS = pl.Enum([s.value for s in TransactionStatus])


def _int64(value: object) -> bool:
    return type(value) is int and -(2**63) <= value < 2**63


class _StoredResidue:
    """Skipped purchases and rejections kept as frames, built back into the same objects.

    ``skipped``: one row per :class:`SkippedPurchase` (its fields); ``rejected``: one row
    per :class:`Rejection` (``transaction_id, index, problems``: how many) and
    ``problems`` one row per :class:`FieldProblem` (``path, message``), in order. An
    object with a value these columns would not give back exactly (another type, an
    amount beyond 64 bits) stays an object in the plan.
    """

    def __init__(self) -> None:
        self._skipped: list[pl.DataFrame] = []
        self._rejected: list[pl.DataFrame] = []
        self._problems: list[pl.DataFrame] = []
        self.skipped = pl.DataFrame(schema=self._skipped_schema())
        self.rejected = pl.DataFrame(
            schema={"transaction_id": pl.String, "index": pl.Int64, "problems": pl.Int64}
        )
        self.problems = pl.DataFrame(schema={"path": pl.String, "message": pl.String})

    @staticmethod
    def _skipped_schema() -> dict[str, Any]:
        return {
            "transaction_id": pl.String, "reason": _SKIP_REASON, "detail": pl.Categorical,
            "product_type": _PRODUCT, "status": _STATUS, "currency": pl.String,
            "amount": pl.Int64, "vat_amount": pl.Int64,
        }  # fmt: skip

    def keep(self, plan: InvoicePlan) -> InvoicePlan:
        """``plan`` without the skipped purchases and rejections stored here."""
        skipped, kept_skipped = [], []
        for s in plan.skipped:
            if (
                type(s) is SkippedPurchase
                and type(s.transaction_id) is str
                and type(s.detail) is str
                and type(s.currency) is str
                and _int64(s.amount)
                and _int64(s.vat_amount)
            ):
                skipped.append(s)
            else:
                kept_skipped.append(s)
        rejected, kept_rejected = [], []
        for r in plan.rejected:
            if (
                type(r) is Rejection
                and (r.transaction_id is None or type(r.transaction_id) is str)
                and (r.index is None or _int64(r.index))
                and type(r.problems) is tuple
                and all(
                    type(p) is FieldProblem and type(p.path) is str and type(p.message) is str
                    for p in r.problems
                )
            ):
                rejected.append(r)
            else:
                kept_rejected.append(r)
        if skipped:
            columns = list(zip(*(
                (s.transaction_id, s.reason.value, s.detail, s.product_type.value,
                 s.status.value, s.currency, s.amount, s.vat_amount)
                for s in skipped
            ), strict=True))  # fmt: skip
            schema = self._skipped_schema()
            self._skipped.append(
                pl.DataFrame(
                    [
                        pl.Series(n, c, dtype=t)
                        for (n, t), c in zip(schema.items(), columns, strict=True)
                    ]
                )
            )
        if rejected:
            self._rejected.append(
                pl.DataFrame(
                    {
                        "transaction_id": [r.transaction_id for r in rejected],
                        "index": [r.index for r in rejected],
                        "problems": [len(r.problems) for r in rejected],
                    },
                    schema=self.rejected.schema,
                )
            )
            problems = [p for r in rejected for p in r.problems]
            self._problems.append(
                pl.DataFrame(
                    {"path": [p.path for p in problems], "message": [p.message for p in problems]},
                    schema=self.problems.schema,
                )
            )
        return replace(plan, skipped=tuple(kept_skipped), rejected=tuple(kept_rejected))

    def add_skipped(self, skipped: pl.DataFrame) -> None:
        """Keep ``skipped`` (columns as :attr:`skipped`)."""
        if skipped.height:
            self._skipped.append(skipped)

    def done(self) -> _StoredResidue:
        """Self, its parts concatenated."""
        for name, parts in (
            ("skipped", self._skipped), ("rejected", self._rejected), ("problems", self._problems)
        ):  # fmt: skip
            if parts:
                setattr(self, name, pl.concat([getattr(self, name), *parts]).rechunk())
            parts.clear()
        return self

    def skipped_purchases(self) -> list[SkippedPurchase]:
        reasons = {r.value: r for r in SkipReason}
        products = {p.value: p for p in ProductType}
        statuses = {s.value: s for s in TransactionStatus}
        return [
            SkippedPurchase(tid, reasons[reason], detail, products[product], statuses[status],
                            currency, amount, vat)
            for tid, reason, detail, product, status, currency, amount, vat in _rows(self.skipped)
        ]  # fmt: skip

    def rejections(self) -> list[Rejection]:
        problems = list(map(FieldProblem, self.problems["path"], self.problems["message"]))
        out = []
        first = 0
        for tid, index, count in _rows(self.rejected):
            out.append(Rejection(tid, tuple(problems[first : first + count]), index))
            first += count
        return out


def _id_hash(ids: pl.Series) -> pl.Series:
    """A 64-bit hash of the id the core would use (null for a missing id)."""
    key = pl.col("id").str.strip_chars(PY_WHITESPACE)
    return ids.to_frame("id").select(pl.when(key.is_not_null()).then(key.hash())).to_series()


def _repeated_ids(parquet: Any, batch_rows: int) -> pl.Series:
    """The hashes of the ids that occur more than once in the file (8 bytes per row,
    sorted once)."""
    hashes: list[pl.Series] = []
    for batch in parquet.iter_batches(batch_size=batch_rows, columns=["id"]):
        column = pl.from_arrow(batch.column(0))
        assert isinstance(column, pl.Series)
        text, _ = _as_text(column, len(column))
        hashes.append(_id_hash(text).drop_nulls())
    if not hashes:
        return pl.Series([], dtype=pl.UInt64)
    everything = pl.concat(hashes, rechunk=True).sort()
    del hashes
    same = everything.slice(1) == everything.slice(0, len(everything) - 1)
    return everything.slice(1).filter(same).unique()


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


class _Context:
    """The settings of one plan and every per-distinct-value result computed so far.

    Shared by the batches of a streamed file, so an address, a day or a period seen in
    one batch is not looked up again in the next. Distinct values are keyed by compact
    integers where possible (a country is its index in ``Country``; an address a 64-bit
    hash of its fields, checked field by field against the address it stands for).
    """

    def __init__(self, config: KraviaConfig, provenance: PlanProvenance) -> None:
        self.config = config
        self.provenance = provenance
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
        #: Every distinct (address fields, product type) seen, by hash: ``address`` is its
        #: index among the valid ones (null when the core refuses it), ``customer`` the
        #: index of its customer key, ``cc`` its country's index.
        self.known: pl.DataFrame | None = None
        #: ``known`` without the fields: what each row is joined with.
        self.known_keys: pl.DataFrame | None = None
        self.valid_addresses = 0
        #: Validated addresses by index: those of invoices the core planned (from the
        #: residue); FramePlan.billing_addresses validates the others when asked.
        self.objects: dict[int, BillingAddress] = {}
        #: Every customer key seen (columns KEYS) and its ``customer`` index.
        self.customers = _no_customers()
        self._customer_table: pl.DataFrame | None = None
        self.helpers = [_LocalDays(c) for c in _COUNTRIES]
        self.local_days: dict[int, tuple[int | None, date | None, date | None]] = {}
        self.periods: dict[int, tuple[date, int | None]] = {}
        self.period_dates: dict[tuple[int, date], int | None] = {}
        self.day_dates: dict[int, tuple[int | None]] = {}
        #: The plainly valid rows that go on no invoice, as skipped purchases per frame.
        self.skipped: list[pl.DataFrame] = []
        self.dates: list[InvoiceDates] = []  # the dates a ``dates`` column points at
        self.states: list[InvoiceState | None] = []  # and the invoice state they give

    def release(self) -> None:
        """Drop what only placing and grouping rows need (the customer keys and the
        per-day and per-period look-ups), before a streamed result is loaded."""
        self.customers, self._customer_table = _no_customers(), None
        self.local_days, self.periods, self.period_dates, self.day_dates = {}, {}, {}, {}
        self.known_keys = None

    # -- placing rows

    def place(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The plainly valid rows of ``frame`` that go on an invoice, one per line, with
        their ``address``, ``customer`` and ``dates`` indices and (grouped) ``start``.

        The plainly valid rows that go on no invoice are added to :attr:`skipped`.

        Every step adds columns to all the rows of ``frame`` (null where a row is out),
        and the rows are filtered once, at the end: each filter copies every column it
        keeps (0.5-0.9 s at 10^7 rows), and there used to be four.
        """
        rows = self._with_addresses(self._plain(frame))
        kept = pl.col("address").is_not_null()  # plainly valid, its address too
        self.skipped.append(self._as_skipped(rows.filter(kept & ~pl.col("invoiced"))))
        rows = self._with_local_dates(rows, kept & pl.col("invoiced"))
        dated = pl.col("local").is_not_null()
        is_grouped = pl.col("payment_product_type") == _GROUPED.value
        rows = self._with_periods(rows, dated & is_grouped)
        rows = self._with_day_dates(rows, dated & ~is_grouped)
        dates = pl.coalesce("period_dates", "day_dates").alias("dates")
        return (
            rows.lazy()
            .select(*_LINE_ROW, "start", dates)
            .filter(pl.col("dates").is_not_null())
            .collect()
        )

    def _plain(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with ``ts`` (the instant in microseconds since the epoch), ``plain``
        (whether its record is plainly valid) and ``invoiced`` (whether it goes on an
        invoice)."""
        config = self.config
        ident = pl.col("id")
        key = ident.str.strip_chars(PY_WHITESPACE)  # the id the core would use
        # Counting distinct hashes is several times cheaper than marking the repeated
        # ones (0.15 s against 1.3 s at 10^7), and usually shows there are none.
        distinct = frame.lazy().select(key.hash().n_unique()).collect().item()
        repeated = pl.lit(False) if distinct == frame.height else key.hash().is_duplicated()
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
            # A repeated id, or one whose hash another shares: to the core, which settles
            # repeats (a hash collision only sends a row the long way).
            & ~repeated
            & (amount > 0)
            & (vat >= 0)
            & (vat <= amount)
            & pl.col("currency").str.contains("^[A-Z]{3}$")
            & status.is_in([s.value for s in TransactionStatus])
            & product.is_in([p.value for p in ProductType])
            & pl.col("ts").is_between(_MIN_US, _MAX_US, closed="left")
        )
        # Lazily: the optimizer evaluates each repeated subexpression once.
        timed = frame.lazy().with_columns(ts=_instant(pl.col("created_at")))
        return timed.with_columns(plain=plain.fill_null(False), invoiced=invoiced).collect()

    def _as_skipped(self, rows: pl.DataFrame) -> pl.DataFrame:
        """Plainly valid rows that go on no invoice as skipped purchases (``row`` and the
        columns of :attr:`_StoredResidue.skipped`); the reason and its wording are the
        core's, asked once per distinct (product type, status)."""
        on = ["payment_product_type", "status"]
        pairs = rows.select(on).unique()
        reasons, details = [], []
        for product, status in _rows(pairs):
            probe = _SKIP_PROBE._replace(
                status=TransactionStatus(status), product_type=ProductType(product)
            )
            skipped = _skipped(probe, self.config.product(probe.product_type).enabled)
            reasons.append(skipped.reason.value)
            details.append(skipped.detail)
        why = pairs.with_columns(
            reason=pl.Series(reasons, dtype=pl.String), detail=pl.Series(details, dtype=pl.String)
        )
        named = rows.join(why, on=on, how="left").rename(
            {"id": "transaction_id", "payment_product_type": "product_type"}
        )
        schema = _StoredResidue._skipped_schema()
        return named.select("row", *(pl.col(c).cast(t) for c, t in schema.items()))

    def _with_addresses(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``address``, ``customer`` and ``cc`` of each ``plain`` row: each distinct
        (address, product type) checked once (recognized as plainly valid, or validated
        by the core). Null for the rows whose address fails (to the residue) and those
        not plainly valid.

        Rows are matched to the distinct addresses by a 64-bit hash of their fields. The
        distinct (hash, fields) of the frame are checked against the fields the hash
        stood for so far: a hash two different addresses share (a collision) sends
        their rows to the residue. Only the hash and small indices are joined per row.
        """
        on = [*_ADDRESS_COLUMNS, "payment_product_type"]
        is_plain = pl.col("plain")
        hashed = frame.lazy().with_columns(ah=pl.when(is_plain).then(_fields_hash(on))).collect()
        distinct = hashed.lazy().filter(is_plain).select("ah", *on).unique().collect()
        collided = distinct["ah"].is_duplicated()
        if collided.any():  # a 64-bit collision within one frame
            distinct = distinct.filter(~collided)
        if self.known is not None:
            new = distinct.join(self.known.select("ah"), on="ah", how="anti")
            seen = distinct.join(self.known, on="ah")
            same = pl.all_horizontal(pl.col(c).eq_missing(pl.col(f"k.{c}")) for c in on)
            verified = seen.filter(same).select("ah")
        else:
            new = distinct
            verified = distinct.clear().select("ah")
        if self.known is None or new.height:
            looked_up = self._looked_up(new, on)
            keys = looked_up.select("ah", "address", "customer", "cc")
            if self.known is None or self.known_keys is None:
                self.known, self.known_keys = looked_up, keys
            else:
                self.known = pl.concat([self.known, looked_up], rechunk=False)
                self.known_keys = pl.concat([self.known_keys, keys]).rechunk()
            verified = pl.concat([verified, new.select("ah")])
        assert self.known_keys is not None
        table = verified.join(self.known_keys, on="ah")
        # ``table`` has one row per hash (``verified`` is distinct): each row's position
        # in it is mapped in place (cheaper than a join, which gathers every row), and
        # a row whose hash is not there (a collision) goes to the residue.
        at = pl.col("ah").replace_strict(
            table["ah"], pl.int_range(table.height, dtype=pl.UInt32, eager=True), default=None
        )
        keyed = (
            hashed.lazy()
            .drop(_ADDRESS_COLUMNS)
            .with_columns(at=at)
            .with_columns(
                pl.lit(table[c]).gather(pl.col("at")).alias(c)
                for c in ("address", "customer", "cc")
            )
        )
        return keyed.drop("ah", "at").collect()

    def _looked_up(self, new: pl.DataFrame, on: list[str]) -> pl.DataFrame:
        """The new distinct addresses (``ah`` and the ``on`` columns): ``k.<column>``
        (the fields as given), ``address`` (its index among the valid ones; null for one
        the core refuses), ``customer`` (the index of its customer key) and ``cc`` (its
        country's index). Plain ones are recognized by :func:`recognize`; the others,
        or all if the core disagrees with it on a sample, are validated by the core."""
        recognized = recognize(new, strict=self.strict)
        is_plain = pl.col("plain")
        plain, other = recognized.filter(is_plain), recognized.filter(~is_plain)
        if plain.height and not agrees(plain, strict=self.strict):
            plain, other = plain.clear(), recognized  # only if the core's rules change
        other = by_core(other.drop(*KEYS), strict=self.strict)
        columns = ["ah", *on, *KEYS]
        checked = pl.concat([plain.select(columns), other.filter("valid").select(columns)])
        refused = other.filter(~pl.col("valid")).select("ah", *on)
        first = self.valid_addresses
        self.valid_addresses += checked.height
        checked = checked.with_columns(
            address=pl.int_range(first, first + checked.height, dtype=pl.Int64),
            customer=self._customer_indices(checked.select(KEYS)),
            cc=pl.col("country").replace_strict(_COUNTRY_INDEX, return_dtype=pl.Int64),
        )
        results = ["address", "customer", "cc"]
        found = pl.concat(
            [
                checked.select("ah", *on, *results),
                refused.with_columns(pl.lit(None, pl.Int64).alias(c) for c in results),
            ]
        )
        # Copied out of the batch's buffers: a string column sliced from ``new`` would
        # keep the whole batch's strings alive for as long as ``known`` lives.
        fields = [_compacted(found[c]).alias(f"k.{c}") for c in on]
        return pl.DataFrame([found["ah"], *fields, *(found[c] for c in results)])

    def _customer_indices(self, keys: pl.DataFrame) -> pl.Series:
        """The ``customer`` index of each row of ``keys`` (columns KEYS), the keys not
        seen before appended to :attr:`customers`."""
        known = self.customers.lazy()
        fresh = keys.unique(maintain_order=True).lazy().join(known, on=KEYS, how="anti").collect()
        if fresh.height:
            first = self.customers.height
            fresh = fresh.with_columns(
                customer=pl.int_range(first, first + fresh.height, dtype=pl.Int64)
            )
            self.customers = pl.concat([self.customers, fresh]).rechunk()
            self._customer_table = None
        joined = keys.lazy().join(self.customers.lazy(), on=KEYS, how="left", maintain_order="left")
        return joined.collect()["customer"]

    def _lookup(
        self,
        frame: pl.DataFrame,
        on: pl.Expr,
        compute: Callable[[int], tuple[Any, ...]],
        table: dict[int, tuple[Any, ...]],
        columns: Sequence[tuple[str, Any]],
    ) -> pl.DataFrame:
        """``frame`` with ``columns``: ``compute`` of each distinct value of the integer
        key ``on`` (remembered in ``table`` across batches); null where ``on`` is."""
        key = frame.lazy().select(on).collect().to_series()
        keys = key.unique().drop_nulls()
        if not keys.len():  # (Polars 2.1's replace_strict would give Int64 here)
            return frame.with_columns(pl.lit(None, dtype).alias(name) for name, dtype in columns)
        found = []
        for value in keys.to_list():
            result = table.get(value)
            if result is None:
                result = table[value] = compute(value)
            found.append(result)
        # A value per key: mapped in place (a join would gather every row).
        return (
            frame.lazy()
            .with_columns(
                pl.lit(key)
                .replace_strict(
                    keys, pl.Series([f[i] for f in found], dtype=dtype), return_dtype=dtype
                )
                .alias(name)
                for i, (name, dtype) in enumerate(columns)
            )
            .collect()
        )

    def _with_local_dates(self, frame: pl.DataFrame, rows: pl.Expr) -> pl.DataFrame:
        """``local``: the date in the customer's zone of the ``rows``, from the planner's
        own helper (null for the others).

        For each distinct (country, UTC day) the helper gives the local midnight within
        that day (if any) and the dates before and after it; a day it has no such entry
        for sends its rows to the residue.
        """

        def day(value: int) -> tuple[int | None, date | None, date | None]:
            utc_day, country = divmod(value, 4)
            entry = self.helpers[country]._day(utc_day)
            if entry is None or entry[0] != int(entry[0]):
                return (None, None, None)
            return (int(entry[0]) * 1_000_000, entry[1], entry[2])

        joined = self._lookup(
            frame, pl.when(rows).then(pl.col("ts") // _DAY_US * 4 + pl.col("cc")), day,
            self.local_days, [("midnight", pl.Int64), ("before", pl.Date), ("after", pl.Date)],
        )  # fmt: skip
        local = (
            pl.when(pl.col("ts") < pl.col("midnight"))
            .then(pl.col("before"))
            .otherwise(pl.col("after"))
        )
        return joined.lazy().with_columns(local=local).drop("midnight", "before", "after").collect()

    def _date_index(self, dates: InvoiceDates, country: Country) -> int:
        self.dates.append(dates)
        self.states.append(_state(dates, self.today[country] if self.today else None))
        return len(self.dates) - 1

    def _with_periods(self, frame: pl.DataFrame, rows: pl.Expr) -> pl.DataFrame:
        """``start`` (of the billing period) and ``period_dates`` (an index into
        ``self.dates``) of the grouped ``rows``, per distinct (country, local date);
        beyond the holiday data (null ``period_dates``), to the residue."""
        product = self.config.product(_GROUPED)

        def period(value: int) -> tuple[date, int | None]:
            days, country_index = divmod(value, 4)
            country = _COUNTRIES[country_index]
            period = billing_period(_EPOCH_DAY + timedelta(days=days), product.interval)
            if (country_index, period.start) not in self.period_dates:
                try:
                    dates = period_invoice_dates(
                        period, self.calendars[country], product.days_until_due, self.rule
                    )
                    index: int | None = self._date_index(dates, country)
                except CalendarRangeError:
                    index = None
                self.period_dates[country_index, period.start] = index
            return (period.start, self.period_dates[country_index, period.start])

        key = pl.when(rows).then(pl.col("local").cast(pl.Int64) * 4 + pl.col("cc"))
        columns = [("start", pl.Date), ("period_dates", pl.Int64)]
        return self._lookup(frame, key, period, self.periods, columns)

    def _with_day_dates(self, frame: pl.DataFrame, rows: pl.Expr) -> pl.DataFrame:
        """``day_dates`` of the standard invoices of ``rows``, per distinct (country,
        product type, local date); null beyond the holiday data (to the residue)."""

        def day_dates(value: int) -> tuple[int | None]:
            rest, country_index = divmod(value, 4)
            days_since_epoch, product = divmod(rest, 4)
            day = _EPOCH_DAY + timedelta(days=days_since_epoch)
            country = _COUNTRIES[country_index]
            days = self.config.product(_PRODUCTS[product]).days_until_due
            try:
                dates = day_invoice_dates(day, self.calendars[country], days, self.rule)
            except CalendarRangeError:
                return (None,)
            return (self._date_index(dates, country),)

        product = pl.col("payment_product_type").replace_strict(
            _PRODUCT_INDEX, default=None, return_dtype=pl.Int64
        )
        key = (pl.col("local").cast(pl.Int64) * 4 + product) * 4 + pl.col("cc")
        columns = [("day_dates", pl.Int64)]
        return self._lookup(frame, pl.when(rows).then(key), day_dates, self.day_dates, columns)

    # -- the core's invoices, as rows

    def residue_rows(self, residue: InvoicePlan) -> pl.DataFrame:
        """The lines of the invoices the core planned, as rows like :meth:`place`'s: an
        invoice the columnar rows share is then merged by the grouping, as
        ``merge_plans`` would merge it (earliest line's address, lines in order)."""
        columns: dict[str, list[Any]] = {name: [] for name in _row_schema()}
        keys: list[tuple[str, str, str, str]] = []  # each line's customer key
        for invoice in residue.invoices:
            address = self.valid_addresses
            self.valid_addresses += 1
            self.objects[address] = invoice.billing_address
            dates = InvoiceDates(
                issue_date=invoice.issue_date,
                due_date=invoice.due_date,
                period=invoice.period,
                issue_skipped=invoice.issue_skipped,
                payment_deadline=invoice.payment_deadline,
            )
            self.dates.append(dates)
            self.states.append(invoice.state)
            fixed = {
                "currency": invoice.currency,
                "payment_product_type": invoice.product_type.value,
                "address": address,
                "customer": None,
                "start": invoice.period.start if invoice.period else None,
                "dates": len(self.dates) - 1,
            }
            key = invoice.customer
            keys += repeat(
                (key.country.value, key.organization_number, key.business_name,
                 key.customer_reference),
                len(invoice.lines),
            )  # fmt: skip
            for line in invoice.lines:
                values = {
                    "row": None,
                    "id": line.transaction_id,
                    "ts": (line.created_at - _EPOCH) // _MICROSECOND,
                    "created_at": line.created_at.isoformat(),
                    "amount": line.amount,
                    "vat_amount": line.vat_amount,
                    "merchant_reference": line.merchant_reference,
                    **fixed,
                }
                for name, value in values.items():
                    columns[name].append(value)
        schema = _row_schema()
        money = columns["amount"] + columns["vat_amount"]
        if not all(-(2**63) <= m < 2**63 for m in money):  # the core takes any integer
            if not all(-(2**127) <= m < 2**127 for m in money):
                raise _TooWide("an invoiced amount beyond 128 bits: use plan_invoices")
            schema.update(amount=pl.Int128, vat_amount=pl.Int128)
        frame = pl.DataFrame(columns, schema=schema)
        key_frame = pl.DataFrame(keys, schema=dict.fromkeys(KEYS, pl.String), orient="row")
        return frame.with_columns(customer=self._customer_indices(key_frame))

    # -- grouping rows into invoices

    def dates_table(self) -> pl.DataFrame:
        """The invoice columns that depend on the ``dates`` index only."""
        dates, states = self.dates, self.states
        return pl.DataFrame(
            {
                "dates": range(len(dates)),
                "interval": [d.period.interval.value if d.period else None for d in dates],
                "period": [d.period.label if d.period else None for d in dates],
                "period_start": [d.period.start if d.period else None for d in dates],
                "period_end": [d.period.end if d.period else None for d in dates],
                "issue_date": [d.issue_date for d in dates],
                "due_date": [d.due_date for d in dates],
                "last_on_time_payment_date": [d.last_on_time_payment_date for d in dates],
                "state": pl.Series([s.value if s else None for s in states], dtype=_STATE),
            },
            schema_overrides={
                "dates": pl.Int64,
                "interval": pl.String,
                "period": pl.String,
                "period_start": pl.Date,
                "period_end": pl.Date,
                "issue_date": pl.Date,
                "due_date": pl.Date,
                "last_on_time_payment_date": pl.Date,
            },
        )

    def customer_table(self) -> pl.DataFrame:
        """The customer key columns per ``customer`` index (row i: customer i), and
        ``rank``: its place in the order of keys (as the core orders invoices of one
        issue date). Built once per set of customers, not per range grouped."""
        if self._customer_table is None:
            # Polars orders strings by their UTF-8 bytes: by code point, as Python does.
            self._customer_table = (
                self.customers.lazy()
                .sort(KEYS)
                .with_row_index("rank")
                .select(
                    "customer",
                    pl.col("country").cast(_COUNTRY),
                    # Categorical here, per customer: 4 bytes an invoice, cast once.
                    pl.col("org", "name", "reference").cast(pl.Categorical),
                    pl.col("rank").cast(pl.Int64),
                )
                .sort("customer")
                .collect()
            )
        return self._customer_table

    def invoices(
        self, rows: pl.DataFrame, *, lines: bool
    ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        """One row per invoice of ``rows`` (complete groups), in the plan's invoice order,
        and (with ``lines``) the lines' other fields, one row per line in that order.

        A grouped invoice is a (customer key, currency, period start); its lines are in
        (instant, id) order, its address is its earliest line's. A standard invoice is
        one row. The ids are the core's: the digest of the same text, checked against the
        core's own function on the first invoice of each kind.

        The rows are sorted once, in the plan's order (issue date, customer key,
        currency, invoice id, then each invoice's lines by instant and id; see
        :func:`_line_order`), so each invoice is a run of rows and its lines need no
        sorting of their own. A grouped invoice's id is known only once it is grouped,
        but it begins ``G-<period label>-``: among one customer's grouped invoices of
        one currency and issue date (closed days can move two periods' issue dates onto
        one day) it sorts as the period start does, which the rows are sorted by. Were
        the core's ids to change form (see :meth:`_checked_ids`), the invoices are
        sorted again.
        """
        detail = ["created_at", "amount", "vat_amount", "merchant_reference"] if lines else []
        standard = pl.col("start").is_null()
        # A standard invoice's id depends on its one line only.
        message = pl.when(standard).then(
            pl.concat_str("payment_product_type", "id", separator=_SEPARATOR)
        )
        sid = _digests(rows.lazy().select(message).collect().to_series())
        rows = (
            rows.lazy()
            .with_columns(sid=pl.when(standard).then(pl.concat_str(pl.lit("S-"), pl.lit(sid))))
            .collect()
        )
        dates_table = self.dates_table()  # row i: the dates of index i
        customers = self.customer_table()  # row i: customer i
        currencies = sorted(rows["currency"].unique().to_list())
        keys = (
            rows.lazy()
            .select(
                issue=pl.lit(dates_table["issue_date"].cast(pl.Int64)).gather(pl.col("dates")),
                rank=pl.lit(customers["rank"]).gather(pl.col("customer")),
                currency=pl.col("currency").replace_strict(
                    currencies, range(len(currencies)), return_dtype=pl.Int64
                ),
                start=pl.col("start").cast(pl.Int64),
                sid=pl.lit(sid),
                ts=pl.col("ts"),
                id=pl.col("id"),
            )
            .collect()
        )
        positions, first = _line_order(keys)
        # Only the columns every line needs are gathered in line order; the invoice's
        # own columns are taken from its first line. In one chunk first: a gather from
        # the hundred chunks a filter leaves took 4.2 s at 10^7 rows, against 0.3 s to
        # rechunk and 0.7 s to gather.
        line_columns = ["created_at", "merchant_reference"] if lines else []
        order = rows.select("id", "amount", "vat_amount", *line_columns).rechunk()[positions]
        frame = (
            order.with_columns(run=first.cum_sum().set_sorted())
            .group_by("run", maintain_order=True)
            .agg(
                pl.col("id").alias("transaction_ids"),
                pl.col("amount").cast(pl.Int128).sum(),
                pl.col("vat_amount").cast(pl.Int128).sum(),
                pl.len().alias("purchases"),
            )
            .drop("run")
        )
        frame = frame.hstack(rows.select(_INVOICE_WIDE).rechunk()[positions.filter(first)])
        frame = pl.concat(
            [
                frame,
                dates_table.drop("dates")[frame["dates"]],
                customers.drop("customer")[frame["customer"]],
            ],
            how="horizontal",
        )
        grouped = pl.col("start").is_not_null()
        message = pl.when(grouped).then(
            pl.concat_str(
                pl.lit("grouped"), *KEYS, "currency", "interval", "period", separator=_SEPARATOR
            )
        )
        digest = _digests(frame.lazy().select(message).collect().to_series())
        invoice_id = (
            pl.when(grouped)
            .then(pl.concat_str(pl.lit("G-"), "period", pl.lit("-"), digest))
            .otherwise("sid")
        )
        details = order.select(detail) if lines else None
        frame, replaced = self._checked_ids(frame.lazy().with_columns(id=invoice_id).collect())
        if replaced:  # ids in another format may sort in another order
            frame, details = _reordered(frame, details)
        amounts = frame.lazy().select(pl.col("amount", "vat_amount").abs().max()).collect().row(0)
        money = pl.Int64 if all(m is None or m < 2**63 for m in amounts) else pl.Int128
        invoices = frame.lazy().select(
            "id",
            pl.col("payment_product_type").cast(_PRODUCT).alias("product_type"),
            "country",
            # Few distinct values each: categorical (4 bytes a row, not a string each).
            pl.col("org").alias("organization_number"),
            pl.col("name").alias("business_name"),
            pl.col("reference").alias("customer_reference"),
            pl.col("currency").cast(pl.Categorical),
            pl.col("period").cast(pl.Categorical),
            "period_start",
            "period_end",
            "issue_date",
            "due_date",
            "last_on_time_payment_date",
            pl.col("amount").cast(money),
            pl.col("vat_amount").cast(money),
            pl.col("purchases").cast(pl.UInt32),
            "state",
            "transaction_ids",
            pl.col("address").cast(pl.UInt32),
            pl.col("dates").cast(pl.UInt32),
        )
        return invoices.collect(), details

    def _checked_ids(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, bool]:
        """``frame`` with the core's own ids if they differ from the ones computed here on
        the first grouped or standard invoice (the core's format is the reference), and
        whether they did."""
        # Lazily: only the first row found is read (eagerly, the filters copied every
        # invoice with its ids first: 1.1-2.8 s at 3M invoices).
        grouped = frame.lazy().filter(pl.col("start").is_not_null()).head(1).collect()
        standard = frame.lazy().filter(pl.col("start").is_null()).head(1).collect()
        same = True
        if grouped.height:
            row = grouped.row(0, named=True)
            period = self.dates[row["dates"]].period
            assert period is not None
            same = row["id"] == _grouped_id(_key(row), row["currency"], period)
        if standard.height:
            row = standard.row(0, named=True)
            tid = row["transaction_ids"][0]
            same = same and row["id"] == _standard_id(ProductType(row["payment_product_type"]), tid)
        if same:
            return frame, False
        ids = []  # only if the core's id format changes
        for row in frame.iter_rows(named=True):
            if row["start"] is None:
                product = ProductType(row["payment_product_type"])
                ids.append(_standard_id(product, row["transaction_ids"][0]))
            else:
                period = self.dates[row["dates"]].period
                assert period is not None
                ids.append(_grouped_id(_key(row), row["currency"], period))
        return frame.with_columns(id=pl.Series(ids, dtype=pl.String)), True


def _line_order(keys: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """The lines' order, and where each invoice begins in it.

    ``keys`` has a row per line: ``issue`` (day number), ``rank`` (of the customer),
    ``currency`` (index in sorted order), ``start`` (day number; null for a standard
    invoice, which comes after the grouped ones), ``sid`` (a standard invoice's id
    digest), ``ts`` and ``id``; the plan orders lines by those, in that order. Returns
    the positions of the rows in that order, and in that order whether a row is the
    first line of its invoice (issue, rank, currency, start, sid).

    Polars sorts the values of one Int128 column several times as fast as it finds the
    order of five columns (0.3 s against 1.7-2 s for 10^7 rows), so each line gets one
    number: its invoice's fields in the high bits, each in as many bits as its range
    needs; then the line's instant (a standard line: the top bits of its id digest,
    which as 16 lowercase hex digits sorts like that number); then its position. Lines
    equal in all but position (one customer's purchases at the same microsecond, or
    digests alike in their top bits) are put in order by the full keys afterwards. When
    the fields need more bits than :data:`_ORDER_BITS`, the columns are sorted as they
    are. At 10^7 lines all of it takes 0.9-1.6 s; sorting the rows by the five columns took
    3.3 s.
    """
    n = keys.height
    if not n:
        return pl.Series([], dtype=pl.Int64), pl.Series([], dtype=pl.Boolean)
    grouped = pl.col("start").is_not_null()
    stats = keys.select(
        pl.col("issue").min().alias("i0"),
        pl.col("issue").max().alias("i1"),
        pl.col("rank").max().alias("r1"),
        pl.col("currency").max().alias("c1"),
        pl.col("start").min().alias("s0"),
        pl.col("start").max().alias("s1"),
        pl.col("ts").filter(grouped).min().alias("t0"),
        pl.col("ts").filter(grouped).max().alias("t1"),
    ).row(0, named=True)
    s0, s1, t0, t1 = stats["s0"], stats["s1"], stats["t0"], stats["t1"]
    s0, s1 = (s0, s1) if s0 is not None else (0, -1)  # (no grouped line)
    # Field (expression, bits): the invoice's, then the line's, then the position.
    invoice = [
        (pl.col("issue") - stats["i0"], (stats["i1"] - stats["i0"]).bit_length()),
        (pl.col("rank"), stats["r1"].bit_length()),
        (pl.col("currency"), stats["c1"].bit_length()),
        (pl.col("start").fill_null(s1 + 1) - s0, (s1 + 1 - s0).bit_length()),
    ]
    position_bits = (n - 1).bit_length()
    ts_bits = (t1 - t0).bit_length() if t0 is not None else 0
    line_bits = min(64, _ORDER_BITS - position_bits - sum(bits for _, bits in invoice))
    if line_bits < ts_bits:  # ts over centuries and millions of customers
        return _line_order_by_columns(keys)
    digest = pl.col("sid").str.to_integer(base=16, dtype=pl.UInt64)
    top = digest // pl.lit(1 << (64 - line_bits), pl.UInt64) if line_bits else pl.lit(0)
    line = (
        pl.when(grouped)
        .then((pl.col("ts") - (t0 or 0)).cast(pl.Int128))
        .otherwise(top.cast(pl.Int128))
    )
    key = pl.lit(0, pl.Int128)
    for field, bits in [*invoice, (line, line_bits)]:
        key = key * pl.lit(1 << bits, pl.Int128) + field.cast(pl.Int128)
    key = key * pl.lit(1 << position_bits, pl.Int128) + pl.int_range(n, dtype=pl.Int128)
    unit = pl.lit(1 << position_bits, pl.Int128)
    # Lazily: the streaming engine computes the numbers on both cores (eagerly, as one
    # thread: 1.6 s against 3 s for all of this function at 10^7 rows).
    ordered = keys.lazy().select(key.sort().alias("key"))
    split = ordered.select(
        position=(pl.col("key") % unit).cast(pl.Int64),
        line=pl.col("key") // unit,
        invoice=pl.col("key") // pl.lit(1 << (position_bits + line_bits), pl.Int128),
    ).collect()
    positions = split["position"]
    same = (
        split.lazy()
        .select(
            tie=(pl.col("line") == pl.col("line").shift(1))
            | (pl.col("line") == pl.col("line").shift(-1)),
            new=pl.col("invoice") != pl.col("invoice").shift(1),
        )
        .fill_null(True)
        .collect()
    )
    ties = same["tie"].arg_true()
    if ties.len():
        at = positions.gather(ties)
        tied = keys[at].with_columns(line=split["line"].gather(ties), position=at)
        tied = tied.sort("line", "sid", "ts", "id", nulls_last=False)
        positions = positions.scatter(ties, tied["position"])
    # A new invoice where the invoice's fields change, or (standard) the digest does.
    sid = keys["sid"].gather(positions)
    new = same["new"] | (sid.is_not_null() & sid.ne_missing(sid.shift(1)).fill_null(True))
    return positions, new


def _line_order_by_columns(keys: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """:func:`_line_order`, by sorting the key columns as they are."""
    invoice = ["issue", "rank", "currency", "standard", "start", "sid"]
    ordered = (
        keys.with_row_index("position")
        .with_columns(standard=pl.col("start").is_null())
        .sort(*invoice, "ts", "id", nulls_last=False)
    )
    new = pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift(1)) for c in invoice)
    first = ordered.select(new.fill_null(True)).to_series()
    return ordered["position"].cast(pl.Int64), first


def _reordered(
    frame: pl.DataFrame, details: pl.DataFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Invoices (and their lines) sorted in the plan's order, ids included."""
    first = pl.col("purchases").cum_sum() - pl.col("purchases")
    frame = frame.with_columns(first_line=first).sort("issue_date", "rank", "currency", "id")
    if details is not None:
        starts, counts = frame["first_line"], frame["purchases"]
        lines = pl.int_ranges(starts, starts + counts, dtype=pl.UInt32, eager=True).explode()
        details = details[lines]
    return frame.drop("first_line"), details


def _no_customers() -> pl.DataFrame:
    return pl.DataFrame(schema={**dict.fromkeys(KEYS, pl.String), "customer": pl.Int64})


def _compacted(series: pl.Series) -> pl.Series:
    """``series`` in buffers of its own (not views into a larger frame's strings)."""
    return pl.Series(series.name, series.to_arrow(compat_level=pl.CompatLevel.oldest()))


def _key(row: Mapping[str, Any]) -> CustomerKey:
    return CustomerKey(Country(row["country"]), row["org"], row["name"], row["reference"])


def _fields_hash(columns: Sequence[str]) -> pl.Expr:
    """A 64-bit hash of a row's values in ``columns`` (each column hashed with its own
    seed, so equal values in other columns give other hashes)."""
    hashes = [pl.col(c).hash(seed=i + 1) for i, c in enumerate(columns)]
    return pl.reduce(lambda a, b: a ^ b, hashes)


def _instant(text: pl.Expr) -> pl.Expr:
    """The instant (microseconds since the epoch) of an :data:`ISO_TIMESTAMP` text with
    a "T" (null for other text, or a day the month does not have)."""

    utc = text.str.ends_with("Z")
    offset_length = pl.when(utc).then(1).otherwise(6)
    fraction_length = text.str.len_bytes().cast(pl.Int64) - 20 - offset_length  # after "."
    fraction = (
        text.str.slice(20, fraction_length.clip(lower_bound=0))
        .str.pad_end(6, "0")
        .cast(pl.Int64, strict=False)
    )
    suffix = text.str.slice(-6, 6)
    sign = pl.when(suffix.str.starts_with("-")).then(-1).otherwise(1)
    hours = suffix.str.slice(1, 2).cast(pl.Int64, strict=False)
    minutes = suffix.str.slice(4, 2).cast(pl.Int64, strict=False)
    offset = pl.when(utc).then(0).otherwise(sign * (hours * 60 + minutes))
    # The date and time of day: read by Polars (a day the month lacks gives null); a
    # space instead of the "T" gives null too, and the row goes to the core.
    local = text.str.slice(0, 19).str.to_datetime(_NAIVE_FORMAT, time_unit="us", strict=False)
    valid = text.str.contains(ISO_TIMESTAMP)
    return pl.when(valid).then(local.dt.epoch("us") + fraction - offset * 60_000_000)


def _digests(messages: pl.Series) -> pl.Series:
    """The 8-byte BLAKE2b hex digest of each text (the core's ``_digest`` of its parts);
    null for null."""
    present = messages.is_not_null()
    texts = messages.filter(present).cast(pl.Binary)
    # The core's hasher, copied (1.0-1.1 s per 3M texts, against 1.25 s making each
    # one with its keyword argument).
    fresh = _new_digest
    parts = []
    # A slice at a time: the Python objects of one slice are freed before the next is
    # made, so their memory is reused (all at once, ~160 bytes of fresh memory per text
    # added 0.35 s of page faults per 3M texts to ~1.1 s of hashing).
    for at in range(0, len(texts), _SLICE):
        hexes: list[str] = []
        add = hexes.append
        for text in texts.slice(at, _SLICE).to_list():
            hasher = fresh()
            hasher.update(text)
            add(hasher.hexdigest())
        parts.append(pl.Series(hexes, dtype=pl.String))
    digests = pl.concat(parts, rechunk=True) if parts else pl.Series([], dtype=pl.String)
    if len(digests) == len(messages):
        return digests
    return pl.repeat(None, len(messages), dtype=pl.String, eager=True).scatter(
        present.arg_true(), digests
    )


def _row_schema() -> dict[str, Any]:
    return {
        "row": pl.Int64, "id": pl.String, "ts": pl.Int64, "created_at": pl.String,
        "amount": pl.Int64, "vat_amount": pl.Int64, "merchant_reference": pl.String,
        "currency": pl.String, "payment_product_type": pl.String, "address": pl.Int64,
        "customer": pl.Int64, "start": pl.Date, "dates": pl.Int64,
    }  # fmt: skip


def _rows(frame: pl.DataFrame) -> Iterable[tuple[Any, ...]]:
    """The rows of ``frame`` as tuples (column by column: faster than ``iter_rows``)."""
    return zip(*(frame[name].to_list() for name in frame.columns), strict=True)


def _spill(
    context: _Context, rows: pl.DataFrame, spill: str, part: int, per_day: Counter[date]
) -> int:
    """Write ``rows`` (lines placed on invoices) with their issue date to the spill
    directory; the number of files written."""
    if not rows.height:
        return 0
    issue = pl.Series([d.issue_date for d in context.dates], dtype=pl.Date)
    rows = rows.with_columns(issue=issue.gather(rows["dates"])).sort("issue")
    per_day.update(dict(rows["issue"].value_counts().iter_rows()))
    rows.write_parquet(os.path.join(spill, f"{part:06d}.parquet"), row_group_size=1 << 16)
    return 1


def _spill_invoices(part: pl.DataFrame, spill: str, index: int) -> str | pl.DataFrame:
    """``part`` written to the spill directory (its path), or ``part`` itself if Parquet
    cannot hold it (128-bit amounts)."""
    if part.schema["amount"] != pl.Int64:
        return part
    path = os.path.join(spill, f"invoices-{index:06d}.parquet")
    part.write_parquet(path, statistics=False)
    return path


def _spill_schema() -> dict[str, Any]:
    return {**_row_schema(), "issue": pl.Date}


def _row_frame(context: _Context) -> pl.DataFrame:
    return pl.DataFrame(schema=_row_schema())


def _day_ranges(per_day: Mapping[date, int], target: int) -> list[tuple[date, date]]:
    """Consecutive ranges of issue dates of about ``target`` lines each."""
    ranges: list[tuple[date, date]] = []
    low: date | None = None
    count = 0
    for day in sorted(per_day):
        low = day if low is None else low
        count += per_day[day]
        if count >= target:
            ranges.append((low, day))
            low, count = None, 0
    if low is not None:
        ranges.append((low, max(per_day)))
    return ranges
