"""The look-ups of one columnar plan, each distinct value decided once.

:class:`Lookups` is the one mutable object of a plan: it remembers what the core's own
functions decided for each distinct address, customer key, (country, UTC day), billing
period and invoice day, so the batches of a streamed file do not ask again, and it
numbers what it found (the ``address``, ``customer`` and ``dates`` indices of the placed
rows). Everything else on the columnar path is a function of its arguments.

The per-key look-ups are keyed by compact integers (a country is its index in
``Country``, a product type its index in ``ProductType``); the expressions that build
the keys (:func:`local_day_key` and the others) are here with the code that reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

import polars as pl

from kravia_schedule import rules
from kravia_schedule.address import BillingAddress
from kravia_schedule.columnar.addresses import ADDRESS_FIELDS, KEYS
from kravia_schedule.config import KraviaConfig, ProductType
from kravia_schedule.countries import Country
from kravia_schedule.dates import InvoiceDates, day_invoice_dates, local_date, period_invoice_dates
from kravia_schedule.errors import CalendarRangeError
from kravia_schedule.invoices import InvoiceState, PlanProvenance
from kravia_schedule.periods import billing_period
from kravia_schedule.planner import LocalDays

#: An address's fields among a frame's columns.
ADDRESS_COLUMNS = [f"a.{name}" for name in ADDRESS_FIELDS]
#: The columns a distinct address is keyed by: its fields and the product type (the
#: core validates an address for a product type).
ADDRESS_ON = [*ADDRESS_COLUMNS, "payment_product_type"]

_COUNTRIES = list(Country)
_COUNTRY_INDEX = {c.value: i for i, c in enumerate(_COUNTRIES)}
_PRODUCTS = list(ProductType)
_PRODUCT_INDEX = {p.value: i for i, p in enumerate(_PRODUCTS)}
_COUNTRY = pl.Enum([c.value for c in Country])
_GROUPED = ProductType.B2B_GROUPED
_EPOCH_DAY = date(1970, 1, 1)
_DAY_US = 86_400_000_000

#: A distinct address validated: ``checked`` (``ah``, :data:`ADDRESS_ON` and
#: :data:`~kravia_schedule.columnar.addresses.KEYS`, in the order they are numbered)
#: and ``refused`` (``ah`` and :data:`ADDRESS_ON`) of the new distinct addresses given.
Validate = Callable[[pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame]]


# -- the keys of the per-key look-ups, from the placed rows' ``ts``, ``cc``, ``local``


def local_day_key() -> pl.Expr:
    """The key of :meth:`Lookups.local_day`: (UTC day, country)."""
    return pl.col("ts") // _DAY_US * 4 + pl.col("cc")


def period_key() -> pl.Expr:
    """The key of :meth:`Lookups.period`: (local date, country)."""
    return pl.col("local").cast(pl.Int64) * 4 + pl.col("cc")


def day_dates_key() -> pl.Expr:
    """The key of :meth:`Lookups.day_dates`: (local date, product type, country)."""
    product = pl.col("payment_product_type").replace_strict(
        _PRODUCT_INDEX, default=None, return_dtype=pl.Int64
    )
    return (pl.col("local").cast(pl.Int64) * 4 + product) * 4 + pl.col("cc")


class Lookups:
    """What the core decided for each distinct value seen so far in one plan, and the
    indices the placed rows refer to.

    Per key (memoised, keys as built by :func:`local_day_key` and the others):
    :meth:`local_day`, :meth:`period`, :meth:`day_dates`. Per frame of distinct values:
    :meth:`address_keys`, :meth:`customer_indices`. Numbered by the plan:
    :meth:`add_address`, :meth:`add_dates`. Read by grouping and the result:
    :attr:`dates`, :attr:`states`, :meth:`customer_table`, :meth:`address_table`,
    :meth:`address_objects`.

    An address is matched across batches by a 64-bit hash of its fields (``ah``),
    checked field by field against the address it stands for.
    """

    def __init__(self, config: KraviaConfig, provenance: PlanProvenance) -> None:
        self._config = config
        self._rule = provenance.due_date_rule
        # The calendars plan_invoices builds (equal, so they share its date caches).
        self._calendars = provenance.options.calendars()
        as_of = provenance.as_of
        self._today = {c: local_date(as_of, c) for c in Country} if as_of is not None else None
        #: Every distinct address seen, by hash: ``k.<column>`` (its fields as given),
        #: ``address`` (its index among the valid ones; null when the core refuses it),
        #: ``customer`` (the index of its customer key) and ``cc`` (its country's index).
        self._known: pl.DataFrame | None = None
        #: ``_known`` without the fields: what each row is joined with.
        self._known_keys: pl.DataFrame | None = None
        self._addresses = 0  # how many addresses are numbered
        #: Validated addresses by index: those of invoices the core planned (from the
        #: residue); FramePlan.billing_addresses validates the others when asked.
        self._objects: dict[int, BillingAddress] = {}
        #: Every customer key seen (columns KEYS) and its ``customer`` index.
        self._customers = _no_customers()
        self._customer_table: pl.DataFrame | None = None
        self._helpers = [LocalDays(c) for c in _COUNTRIES]
        self._local_days: dict[int, tuple[int | None, date | None, date | None]] = {}
        self._periods: dict[int, tuple[date, int | None]] = {}
        self._period_dates: dict[tuple[int, date], int | None] = {}
        self._day_dates: dict[int, tuple[int | None]] = {}
        self._dates: list[InvoiceDates] = []  # the dates a ``dates`` index points at
        self._states: list[InvoiceState | None] = []  # and the invoice state they give

    def release(self) -> None:
        """Drop what only placing rows needs (the customer keys and the per-day and
        per-period look-ups), before a streamed result is loaded."""
        self._customers, self._customer_table = _no_customers(), None
        self._local_days, self._periods, self._period_dates, self._day_dates = {}, {}, {}, {}
        self._known_keys = None

    # -- per key

    def local_day(self, key: int) -> tuple[int | None, date | None, date | None]:
        """The local midnight within a UTC day (microseconds since the epoch) and the
        dates before and after it, from the planner's own helper; all null for a day it
        has no such entry for (its rows go to the residue)."""
        found = self._local_days.get(key)
        if found is None:
            utc_day, country = divmod(key, 4)
            entry = self._helpers[country].utc_day(utc_day)
            if entry is None or entry[0] != int(entry[0]):
                found = (None, None, None)
            else:
                found = (int(entry[0]) * 1_000_000, entry[1], entry[2])
            self._local_days[key] = found
        return found

    def period(self, key: int) -> tuple[date, int | None]:
        """The start of a local date's billing period (grouped invoices) and the index
        of its invoice dates; null beyond the holiday data."""
        found = self._periods.get(key)
        if found is None:
            days, country_index = divmod(key, 4)
            product = self._config.product(_GROUPED)
            period = billing_period(_EPOCH_DAY + timedelta(days=days), product.interval)
            if (country_index, period.start) not in self._period_dates:
                country = _COUNTRIES[country_index]
                try:
                    dates = period_invoice_dates(
                        period, self._calendars[country], product.days_until_due, self._rule
                    )
                    index: int | None = self._dated(dates, country)
                except CalendarRangeError:
                    index = None
                self._period_dates[country_index, period.start] = index
            found = self._periods[key] = (
                period.start,
                self._period_dates[country_index, period.start],
            )
        return found

    def day_dates(self, key: int) -> tuple[int | None]:
        """The index of the invoice dates of a standard invoice of a local date; null
        beyond the holiday data."""
        found = self._day_dates.get(key)
        if found is None:
            rest, country_index = divmod(key, 4)
            days_since_epoch, product = divmod(rest, 4)
            day = _EPOCH_DAY + timedelta(days=days_since_epoch)
            country = _COUNTRIES[country_index]
            days = self._config.product(_PRODUCTS[product]).days_until_due
            try:
                dates = day_invoice_dates(day, self._calendars[country], days, self._rule)
            except CalendarRangeError:
                found = (None,)
            else:
                found = (self._dated(dates, country),)
            self._day_dates[key] = found
        return found

    # -- per frame of distinct values

    def address_keys(self, distinct: pl.DataFrame, validate: Validate) -> pl.DataFrame:
        """``_i``, ``ah``, ``address``, ``customer`` and ``cc`` of the rows of
        ``distinct`` (``_i``, ``ah`` and :data:`ADDRESS_ON`; distinct hashes): those
        seen before looked up, the new ones ``validate``-d and numbered. A row whose
        hash an earlier, different address has (a collision) is left out."""
        if self._known is not None:
            new = distinct.join(self._known.select("ah"), on="ah", how="anti")
            seen = distinct.join(self._known, on="ah")
            same = pl.all_horizontal(pl.col(c).eq_missing(pl.col(f"k.{c}")) for c in ADDRESS_ON)
            verified = seen.filter(same).select("_i", "ah")
        else:
            new = distinct
            verified = distinct.clear().select("_i", "ah")
        if self._known is None or new.height:
            looked_up = self._numbered(*validate(new.drop("_i")))
            keys = looked_up.select("ah", "address", "customer", "cc")
            if self._known is None or self._known_keys is None:
                self._known, self._known_keys = looked_up, keys
            else:
                self._known = pl.concat([self._known, looked_up], rechunk=False)
                self._known_keys = pl.concat([self._known_keys, keys]).rechunk()
            verified = pl.concat([verified, new.select("_i", "ah")])
        assert self._known_keys is not None
        return verified.join(self._known_keys, on="ah")

    def _numbered(self, checked: pl.DataFrame, refused: pl.DataFrame) -> pl.DataFrame:
        """The rows of :attr:`_known` for newly validated addresses: the valid ones
        numbered in order, the refused ones with null indices."""
        first = self._addresses
        self._addresses += checked.height
        checked = checked.with_columns(
            address=pl.int_range(first, first + checked.height, dtype=pl.Int64),
            customer=self.customer_indices(checked.select(KEYS)),
            cc=pl.col("country").replace_strict(_COUNTRY_INDEX, return_dtype=pl.Int64),
        )
        results = ["address", "customer", "cc"]
        found = pl.concat(
            [
                checked.select("ah", *ADDRESS_ON, *results),
                refused.with_columns(pl.lit(None, pl.Int64).alias(c) for c in results),
            ]
        )
        # Copied out of the batch's buffers: a string column sliced from a batch would
        # keep the whole batch's strings alive for as long as ``_known`` lives.
        fields = [compacted(found[c]).alias(f"k.{c}") for c in ADDRESS_ON]
        return pl.DataFrame([found["ah"], *fields, *(found[c] for c in results)])

    def customer_indices(self, keys: pl.DataFrame) -> pl.Series:
        """The ``customer`` index of each row of ``keys`` (columns KEYS), the keys not
        seen before numbered in the order they first occur.

        Each row is matched to the first row with its key by a window (see
        :func:`by_first_row`), and only those first rows are looked up among the known
        customers, rather than a unique over the keys and a join of every row."""
        grouped, firsts = by_first_row(keys, KEYS)
        distinct = firsts.select("_i", *KEYS)
        if self._customers.height:
            known = self._customers.lazy()
            found = distinct.join(known, on=KEYS, how="left", maintain_order="left").collect()
        else:
            found = distinct.with_columns(customer=pl.lit(None, pl.Int64)).collect()
        missing = found["customer"].is_null()
        if missing.any():
            fresh = found.filter(missing).select(KEYS)
            start = self._customers.height
            fresh = fresh.with_columns(
                customer=pl.int_range(start, start + fresh.height, dtype=pl.Int64)
            )
            self._customers = pl.concat([self._customers, fresh]).rechunk()
            self._customer_table = None
            found = found.with_columns(
                customer=found["customer"].scatter(missing.arg_true(), fresh["customer"])
            )
        return at_first_rows(grouped, found["_i"], found["customer"])

    # -- numbered by the plan

    def add_address(self, address: BillingAddress) -> int:
        """The index of an address the core validated (of an invoice it planned)."""
        index = self._addresses
        self._addresses += 1
        self._objects[index] = address
        return index

    def add_dates(self, dates: InvoiceDates, state: InvoiceState | None) -> int:
        """The index of an invoice's dates and state (of an invoice the core planned)."""
        self._dates.append(dates)
        self._states.append(state)
        return len(self._dates) - 1

    def _dated(self, dates: InvoiceDates, country: Country) -> int:
        today = self._today[country] if self._today else None
        return self.add_dates(dates, rules.invoice_state(dates, today))

    # -- read by grouping and the result

    @property
    def dates(self) -> Sequence[InvoiceDates]:
        """The invoice dates by ``dates`` index."""
        return self._dates

    @property
    def states(self) -> Sequence[InvoiceState | None]:
        """The invoice state by ``dates`` index."""
        return self._states

    def customer_table(self) -> pl.DataFrame:
        """The customer key columns per ``customer`` index (row i: customer i), and
        ``rank``: its place in the order of keys (as the core orders invoices of one
        issue date). Built once per set of customers, not per range grouped."""
        if self._customer_table is None:
            customers = self._customers  # row i: customer i
            # Polars orders strings by their UTF-8 bytes: by code point, as Python does.
            # Each customer's rank is scattered to its row: one sort of the indices
            # rather than sorting the whole table by its keys and back.
            ordered = customers.lazy().select(pl.col("customer").sort_by(KEYS)).collect()
            rank = pl.zeros(customers.height, pl.Int64, eager=True).scatter(
                ordered.to_series(), pl.int_range(customers.height, dtype=pl.Int64, eager=True)
            )
            self._customer_table = (
                customers.lazy()
                .select(
                    "customer",
                    pl.col("country").cast(_COUNTRY),
                    # Categorical here, per customer: 4 bytes an invoice, cast once.
                    pl.col("org", "name", "reference").cast(pl.Categorical),
                    rank=rank,
                )
                .collect()
            )
        return self._customer_table

    def address_table(self) -> pl.DataFrame:
        """The valid addresses placed on the columnar path: their fields (as given),
        ``product`` and ``address`` (its index), in index order."""
        if self._known is None:
            return pl.DataFrame(
                schema={**dict.fromkeys(ADDRESS_FIELDS, pl.String), "product": pl.String,
                        "address": pl.Int64}
            )  # fmt: skip
        return (
            self._known.filter(pl.col("address").is_not_null())
            .select(
                *(pl.col(f"k.a.{name}").alias(name) for name in ADDRESS_FIELDS),
                pl.col("k.payment_product_type").alias("product"),
                "address",
            )
            .sort("address")
        )

    def address_objects(self) -> dict[int, BillingAddress]:
        """The validated addresses by index (see :meth:`add_address`), a copy."""
        return dict(self._objects)


def by_first_row(
    frame: pl.DataFrame, on: Sequence[str], rows: pl.Expr | None = None
) -> tuple[pl.DataFrame, pl.LazyFrame]:
    """``frame`` with ``_i`` (the row's index) and ``_first`` (the index of the first of
    the ``rows`` with the same values in ``on``; null if none), and those first rows.

    A window over the values themselves: rows are grouped exactly, by no hash."""
    index = pl.col("_i") if rows is None else pl.when(rows).then(pl.col("_i"))
    first = index.min().over(on).alias("_first")
    grouped = frame.lazy().with_row_index("_i").with_columns(first).collect()
    return grouped, grouped.lazy().filter(pl.col("_first") == pl.col("_i"))


def at_first_rows(grouped: pl.DataFrame, firsts: pl.Series, values: pl.Series) -> pl.Series:
    """For each row of ``grouped`` (see :func:`by_first_row`), the one of ``values``
    given to its first row (``values[k]`` to the row ``firsts[k]``; null if none), read
    by position from a slot per row."""
    slots = pl.repeat(None, grouped.height, dtype=values.dtype, eager=True)
    return slots.scatter(firsts, values).gather(grouped["_first"])


def compacted(series: pl.Series) -> pl.Series:
    """``series`` in buffers of its own (not views into a larger frame's strings)."""
    return pl.Series(series.name, series.to_arrow(compat_level=pl.CompatLevel.oldest()))


def _no_customers() -> pl.DataFrame:
    return pl.DataFrame(schema={**dict.fromkeys(KEYS, pl.String), "customer": pl.Int64})
