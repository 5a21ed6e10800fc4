"""Placing rows: which rows are plainly valid, and each one's address, customer, local
date and billing period.

:class:`Context` holds the settings of one plan and every per-distinct-value result so
far (shared by the batches of a streamed file). Each distinct address, (country, UTC
day), (country, date) and (product type, status) is decided once, by the core's own
functions; Polars only maps the results back onto the rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import repeat
from typing import Any

import polars as pl

from kravia_schedule import rules
from kravia_schedule.address import BillingAddress
from kravia_schedule.columnar.addresses import (
    ADDRESS_FIELDS,
    KEYS,
    PY_WHITESPACE,
    agrees,
    by_core,
    recognize,
)
from kravia_schedule.columnar.result import StoredResidue, rows_of
from kravia_schedule.config import KraviaConfig, ProductType
from kravia_schedule.countries import Country
from kravia_schedule.dates import InvoiceDates, day_invoice_dates, local_date, period_invoice_dates
from kravia_schedule.errors import CalendarRangeError
from kravia_schedule.invoices import InvoicePlan, InvoiceState, PlanProvenance
from kravia_schedule.periods import billing_period
from kravia_schedule.planner import LocalDays
from kravia_schedule.purchases import TransactionStatus

#: The timestamps taken on the columnar path (rules.PLAIN_TIMESTAMP_FORM), anchored;
#: anything else goes to the residue, where the core parses it.
ISO_TIMESTAMP = f"^(?:{rules.PLAIN_TIMESTAMP_FORM})$"
_TAIL = re.compile(rules.TIMESTAMP_TAIL_FORM)
#: A frame with more distinct tails than this reads each row's tail itself (see _tails);
#: a test lowers it.
_TAILS = 1 << 12

_NAIVE_FORMAT = "%Y-%m-%dT%H:%M:%S"
_DAY_US = 86_400_000_000

# Instants outside [1800, 2200) go to the residue: the planner's float timestamps keep
# microseconds apart within it, and the holiday data covers less anyway.
_MIN_US = -5_364_662_400_000_000  # 1800-01-01T00:00:00Z
_MAX_US = 7_258_118_400_000_000  # 2200-01-01T00:00:00Z
_GROUPED = ProductType.B2B_GROUPED
_COUNTRY = pl.Enum([c.value for c in Country])
_STATE = pl.Enum([s.value for s in InvoiceState])
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_ADDRESS_COLUMNS = [f"a.{name}" for name in ADDRESS_FIELDS]

#: The columns of a line placed on an invoice (see Context.place).
_LINE_ROW = ["row", "id", "ts", "created_at", "amount", "vat_amount", "merchant_reference",
             "currency", "payment_product_type", "address", "customer"]  # fmt: skip
_COUNTRIES = list(Country)
_COUNTRY_INDEX = {c.value: i for i, c in enumerate(_COUNTRIES)}
_PRODUCTS = list(ProductType)
_PRODUCT_INDEX = {p.value: i for i, p in enumerate(_PRODUCTS)}
_EPOCH_DAY = date(1970, 1, 1)


class Context:
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
        # The calendars plan_invoices builds (equal, so they share its date caches).
        self.calendars = provenance.options.calendars()
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
        self.helpers = [LocalDays(c) for c in _COUNTRIES]
        self.local_days: dict[int, tuple[int | None, date | None, date | None]] = {}
        self.periods: dict[int, tuple[date, int | None]] = {}
        self.period_dates: dict[tuple[int, date], int | None] = {}
        self.day_dates: dict[int, tuple[int | None]] = {}
        #: The plainly valid rows that go on no invoice, as skipped purchases per frame.
        self.skipped: list[pl.DataFrame] = []
        #: The rows rejected for their missing amounts alone: ``row, transaction_id,
        #: problems`` (how many), and their problems (``path, message``) in order.
        self.rejected: list[tuple[pl.DataFrame, pl.DataFrame]] = []
        self.dates: list[InvoiceDates] = []  # the dates a ``dates`` column points at
        self.states: list[InvoiceState | None] = []  # and the invoice state they give

    def release(self) -> None:
        """Drop what only placing and grouping rows need (the customer keys and the
        per-day and per-period look-ups), before a streamed result is loaded."""
        self.customers, self._customer_table = _no_customers(), None
        self.local_days, self.periods, self.period_dates, self.day_dates = {}, {}, {}, {}
        self.known_keys = None

    # -- placing rows

    def place(self, marked: pl.DataFrame) -> pl.DataFrame:
        """The plainly valid rows of ``marked`` (a frame as :meth:`mark` gives it) that go
        on an invoice, one per line, with their ``address``, ``customer`` and ``dates``
        indices and (grouped) ``start``.

        The plainly valid rows that go on no invoice are added to :attr:`skipped`; the
        ``money_missing`` rows with a valid address to :attr:`rejected`.

        Every step adds columns to all the rows of ``marked`` (null where a row is out),
        and the rows are filtered once, at the end: each filter copies every column it
        keeps.
        """
        rows = self._with_addresses(marked)
        valid_address = pl.col("address").is_not_null()
        self.rejected += self._as_rejected(rows.filter(valid_address & pl.col("money_missing")))
        kept = valid_address & pl.col("plain")  # plainly valid, its address too
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

    def mark(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with ``ts`` (the instant in microseconds since the epoch), ``plain``
        (whether its record is plainly valid), ``money_missing`` (whether it would be but
        for a missing amount or VAT amount) and ``invoiced`` (whether it goes on an
        invoice). The other rows are the core's to plan (see :meth:`place`)."""
        config = self.config
        ident = pl.col("id")
        key = ident.str.strip_chars(PY_WHITESPACE)  # the id the core would use
        # Looking for equal neighbours among the sorted hashes is cheaper than marking
        # the repeated ones or counting the distinct ones (no hash table as large as the
        # input), and usually shows there are none.
        hashes = frame.lazy().select(key.hash().sort().alias("h"))
        equal = hashes.select((pl.col("h") == pl.col("h").shift(1)).any()).collect().item()
        repeated = key.hash().is_duplicated() if equal else pl.lit(False)
        amount, vat = pl.col("amount"), pl.col("vat_amount")
        status, product = pl.col("status"), pl.col("payment_product_type")
        # Each enabled product type with the statuses the rules invoice for it.
        invoiced = pl.lit(False)
        for p in ProductType:
            if config.product(p).enabled:
                statuses = [s.value for s in rules.invoiced_statuses(p)]
                invoiced = invoiced | ((product == p.value) & status.is_in(statuses))
        but_money = (  # every field plainly valid, the two amounts aside
            ~pl.col("bad")
            & pl.col("has_address")
            & (ident.str.len_bytes() > 0)
            & (key == ident)
            # A repeated id, or one whose hash another shares: to the core, which settles
            # repeats (a hash collision only sends a row the long way).
            & ~repeated
            & pl.col("currency").str.contains(f"^(?:{rules.CURRENCY_FORM})$")
            & status.is_in([s.value for s in TransactionStatus])
            & product.is_in([p.value for p in ProductType])
            & pl.col("ts").is_between(_MIN_US, _MAX_US, closed="left")
        )
        # rules.check_money over columns: an amount in [1, MAX_AMOUNT], VAT within it.
        plain = but_money & amount.is_between(1, rules.MAX_AMOUNT) & vat.is_between(0, amount)
        # Its only problems are the missing amounts (the core checks no other money rule
        # then): rejected on this path if its address is valid too (see place).
        money_missing = but_money & (amount.is_null() | vat.is_null())
        # Lazily: the optimizer evaluates each repeated subexpression once.
        tails = _tails(frame["created_at"])
        timed = frame.lazy().with_columns(ts=_instant(pl.col("created_at"), tails))
        return timed.with_columns(
            plain=plain.fill_null(False),
            money_missing=money_missing.fill_null(False),
            invoiced=invoiced,
        ).collect()

    def _as_skipped(self, rows: pl.DataFrame) -> pl.DataFrame:
        """Plainly valid rows that go on no invoice as skipped purchases (``row`` and the
        columns of :attr:`StoredResidue.skipped`); the reason and its wording are the
        core's, asked once per distinct (product type, status)."""
        on = ["payment_product_type", "status"]
        pairs = rows.select(on).unique()
        reasons, details = [], []
        for product, status in rows_of(pairs):
            product_type = ProductType(product)
            enabled = self.config.product(product_type).enabled
            result = rules.outcome(product_type, TransactionStatus(status), enabled=enabled)
            assert result.reason is not None, "an invoiced row was skipped"
            reasons.append(result.reason.value)
            details.append(result.detail)
        why = pairs.with_columns(
            reason=pl.Series(reasons, dtype=pl.String), detail=pl.Series(details, dtype=pl.String)
        )
        named = rows.join(why, on=on, how="left").rename(
            {"id": "transaction_id", "payment_product_type": "product_type"}
        )
        schema = StoredResidue.skipped_schema()
        return named.select("row", *(pl.col(c).cast(t) for c, t in schema.items()))

    def _as_rejected(self, rows: pl.DataFrame) -> list[tuple[pl.DataFrame, pl.DataFrame]]:
        """``money_missing`` rows whose address the core accepts, as rejections (see
        :attr:`rejected`), one pair of frames per set of missing amounts. Every other
        field is plainly valid, so the core's problems are those of its money check
        alone: asked once per set."""
        out = []
        missing = pl.col("amount").is_null(), pl.col("vat_amount").is_null()
        patterns = rows.select(*missing).unique().sort(pl.all())
        for no_amount, no_vat in rows_of(patterns):
            problems = rules.check_money(None if no_amount else 0, None if no_vat else 0)
            assert problems, "a money_missing row has an amount missing"
            chosen = (
                rows.lazy()
                .filter(missing[0] == no_amount, missing[1] == no_vat)
                .select("row", pl.col("id").alias("transaction_id"))
            )
            rejected = chosen.with_columns(problems=pl.lit(len(problems), pl.Int64)).collect()
            each = pl.int_range(rejected.height * len(problems)) % len(problems)
            listed = pl.DataFrame(
                {"path": [p.path for p in problems], "message": [p.message for p in problems]},
                schema={"path": pl.String, "message": pl.String},
            )
            out.append((rejected, listed.select(pl.all().gather(each))))
        return out

    def _with_addresses(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``address``, ``customer`` and ``cc`` of each ``plain`` or ``money_missing``
        row: each distinct (address, product type) checked once (recognized as plainly
        valid, or validated by the core). Null for the rows whose address fails (to the
        residue) and the others.

        Each row is matched exactly to the first row with the same fields (a window
        over the fields, so no hash decides equality), and only those first rows are
        looked up. Across batches the distinct addresses are matched to the ones seen
        before by a 64-bit hash of their fields, checked field by field against the
        address it stood for: a hash two different addresses share (a collision) sends
        their rows to the residue.
        """
        on = [*_ADDRESS_COLUMNS, "payment_product_type"]
        is_plain = pl.col("plain") | pl.col("money_missing")
        # Only the first rows are hashed: cheaper than hashing every row, a unique over
        # the hashes and fields, and mapping each row's hash to its address.
        grouped, firsts = _by_first_row(frame, on, is_plain)
        distinct = firsts.select("_i", *on).with_columns(ah=_fields_hash(on)).collect()
        collided = distinct["ah"].is_duplicated()
        if collided.any():  # a 64-bit collision within one frame
            distinct = distinct.filter(~collided)
        if self.known is not None:
            new = distinct.join(self.known.select("ah"), on="ah", how="anti")
            seen = distinct.join(self.known, on="ah")
            same = pl.all_horizontal(pl.col(c).eq_missing(pl.col(f"k.{c}")) for c in on)
            verified = seen.filter(same).select("_i", "ah")
        else:
            new = distinct
            verified = distinct.clear().select("_i", "ah")
        if self.known is None or new.height:
            looked_up = self._looked_up(new.drop("_i"), on)
            keys = looked_up.select("ah", "address", "customer", "cc")
            if self.known is None or self.known_keys is None:
                self.known, self.known_keys = looked_up, keys
            else:
                self.known = pl.concat([self.known, looked_up], rechunk=False)
                self.known_keys = pl.concat([self.known_keys, keys]).rechunk()
            verified = pl.concat([verified, new.select("_i", "ah")])
        assert self.known_keys is not None
        table = verified.join(self.known_keys, on="ah")
        # Each row's place in ``table``: null where its first row collided.
        at = _at_first_rows(
            grouped, table["_i"], pl.int_range(table.height, dtype=pl.UInt32, eager=True)
        )
        keyed = (
            grouped.lazy()
            .drop(_ADDRESS_COLUMNS)
            .with_columns(at=at)
            .with_columns(
                pl.lit(table[c]).gather(pl.col("at")).alias(c)
                for c in ("address", "customer", "cc")
            )
        )
        return keyed.drop("_i", "_first", "at").collect()

    def _looked_up(self, new: pl.DataFrame, on: list[str]) -> pl.DataFrame:
        """The new distinct addresses (``ah`` and the ``on`` columns): ``k.<column>``
        (the fields as given), ``address`` (its index among the valid ones; null for one
        the core refuses), ``customer`` (the index of its customer key) and ``cc`` (its
        country's index). Plain ones are recognized by :func:`recognize`; the others,
        or all if the core disagrees with it on a sample, are validated by the core."""
        # In hash order, so the indices do not depend on the order Polars' unique and
        # joins leave rows in: a frame gives the same plan every run.
        recognized = recognize(new.sort("ah"), strict=self.strict)
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
        seen before appended to :attr:`customers` in the order they first occur.

        Each row is matched to the first row with its key by a window (as addresses
        are, see :meth:`_with_addresses`), and only those first rows are looked up
        among the known customers, rather than a unique over the keys and a join of
        every row."""
        grouped, firsts = _by_first_row(keys, KEYS)
        distinct = firsts.select("_i", *KEYS)
        if self.customers.height:
            known = self.customers.lazy()
            found = distinct.join(known, on=KEYS, how="left", maintain_order="left").collect()
        else:
            found = distinct.with_columns(customer=pl.lit(None, pl.Int64)).collect()
        missing = found["customer"].is_null()
        if missing.any():
            fresh = found.filter(missing).select(KEYS)
            start = self.customers.height
            fresh = fresh.with_columns(
                customer=pl.int_range(start, start + fresh.height, dtype=pl.Int64)
            )
            self.customers = pl.concat([self.customers, fresh]).rechunk()
            self._customer_table = None
            found = found.with_columns(
                customer=found["customer"].scatter(missing.arg_true(), fresh["customer"])
            )
        return _at_first_rows(grouped, found["_i"], found["customer"])

    def _lookup(
        self,
        frame: pl.DataFrame,
        on: pl.Expr,
        compute: Callable[[int], tuple[Any, ...]],
        table: dict[int, tuple[Any, ...]],
        columns: Sequence[tuple[str, Any]],
    ) -> pl.DataFrame:
        """``frame`` with ``columns``: ``compute`` of each distinct value of the integer
        key ``on`` (remembered in ``table`` across batches); null where ``on`` is.

        The keys of a frame span a narrow range (days times a few countries and
        products: at most 2.4M for the 146,000 days of the instants taken), so each
        row's result is read by position from a table with a slot for every key in that
        range, which is cheaper than finding the distinct keys and mapping each row's key
        to its result by hash.
        """
        key = frame.lazy().select(on).collect().to_series()
        low, high = key.min(), key.max()
        if low is None:
            return _with_nulls(frame, columns)
        assert isinstance(low, int)
        assert isinstance(high, int)
        at = (key - low).alias("_at")
        size = high - low + 1
        present = pl.repeat(False, size, eager=True).scatter(at.drop_nulls(), True)
        slots: list[list[Any]] = [[None] * size for _ in columns]
        keys = present.arg_true().cast(pl.Int64) + low  # in order: new indices fixed
        for value in keys.to_list():
            result = table.get(value)
            if result is None:
                result = table[value] = compute(value)
            for slot, item in zip(slots, result, strict=True):
                slot[value - low] = item
        return (
            frame.lazy()
            .with_columns(at)
            .with_columns(
                pl.lit(pl.Series(slot, dtype=dtype)).gather(pl.col("_at")).alias(name)
                for slot, (name, dtype) in zip(slots, columns, strict=True)
            )
            .drop("_at")
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
        self.states.append(rules.invoice_state(dates, self.today[country] if self.today else None))
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

        columns = [("day_dates", pl.Int64)]
        # Often there are none (a frame of grouped purchases): asking whether any row
        # needs them is far cheaper than mapping every row's product type to find out.
        if not frame.lazy().select(rows.any()).collect().item():
            return _with_nulls(frame, columns)
        product = pl.col("payment_product_type").replace_strict(
            _PRODUCT_INDEX, default=None, return_dtype=pl.Int64
        )
        key = (pl.col("local").cast(pl.Int64) * 4 + product) * 4 + pl.col("cc")
        return self._lookup(frame, pl.when(rows).then(key), day_dates, self.day_dates, columns)

    # -- the core's invoices, as rows

    def residue_rows(self, residue: InvoicePlan) -> pl.DataFrame:
        """The lines of the invoices the core planned, as rows like :meth:`place`'s: an
        invoice the columnar rows share is then merged by the grouping, as
        ``merge_plans`` would merge it (earliest line's address, lines in order)."""
        columns: dict[str, list[Any]] = {name: [] for name in row_schema()}
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
        # An invoiced amount is at most rules.MAX_AMOUNT: a 64-bit column holds it.
        schema = row_schema()
        frame = pl.DataFrame(columns, schema=schema)
        key_frame = pl.DataFrame(keys, schema=dict.fromkeys(KEYS, pl.String), orient="row")
        return frame.with_columns(customer=self._customer_indices(key_frame))

    # -- the tables grouping reads (see grouping.group_into_invoices)

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
            customers = self.customers  # row i: customer i
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


def _by_first_row(
    frame: pl.DataFrame, on: Sequence[str], rows: pl.Expr | None = None
) -> tuple[pl.DataFrame, pl.LazyFrame]:
    """``frame`` with ``_i`` (the row's index) and ``_first`` (the index of the first of
    the ``rows`` with the same values in ``on``; null if none), and those first rows.

    A window over the values themselves: rows are grouped exactly, by no hash."""
    index = pl.col("_i") if rows is None else pl.when(rows).then(pl.col("_i"))
    first = index.min().over(on).alias("_first")
    grouped = frame.lazy().with_row_index("_i").with_columns(first).collect()
    return grouped, grouped.lazy().filter(pl.col("_first") == pl.col("_i"))


def _at_first_rows(grouped: pl.DataFrame, firsts: pl.Series, values: pl.Series) -> pl.Series:
    """For each row of ``grouped`` (see :func:`_by_first_row`), the one of ``values``
    given to its first row (``values[k]`` to the row ``firsts[k]``; null if none), read
    by position from a slot per row."""
    slots = pl.repeat(None, grouped.height, dtype=values.dtype, eager=True)
    return slots.scatter(firsts, values).gather(grouped["_first"])


def _with_nulls(frame: pl.DataFrame, columns: Sequence[tuple[str, Any]]) -> pl.DataFrame:
    """``frame`` with ``columns`` (name, dtype) all null: a look-up with no keys."""
    return frame.with_columns(pl.lit(None, dtype).alias(name) for name, dtype in columns)


def _no_customers() -> pl.DataFrame:
    return pl.DataFrame(schema={**dict.fromkeys(KEYS, pl.String), "customer": pl.Int64})


def _compacted(series: pl.Series) -> pl.Series:
    """``series`` in buffers of its own (not views into a larger frame's strings)."""
    return pl.Series(series.name, series.to_arrow(compat_level=pl.CompatLevel.oldest()))


def _fields_hash(columns: Sequence[str]) -> pl.Expr:
    """A 64-bit hash of a row's values in ``columns`` (each column hashed with its own
    seed, so equal values in other columns give other hashes)."""
    hashes = [pl.col(c).hash(seed=i + 1) for i, c in enumerate(columns)]
    return pl.reduce(lambda a, b: a ^ b, hashes)


def _instant(text: pl.Expr, tails: pl.DataFrame | None = None) -> pl.Expr:
    """The instant (microseconds since the epoch) of an :data:`ISO_TIMESTAMP` text with
    a "T" (null for other text, or a day the month does not have).

    ``tails`` (see :func:`_tails`) gives the correction of every distinct tail (the
    fraction less the offset); without it each row's tail is read from its text."""
    if tails is None:
        utc = text.str.ends_with("Z")
        offset_length = pl.when(utc).then(1).otherwise(6)
        fraction_length = text.str.len_bytes().cast(pl.Int64) - 20 - offset_length
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
        correction = fraction - offset * 60_000_000
    else:
        correction = text.str.slice(19).replace_strict(
            tails["tail"], tails["correction"], default=None, return_dtype=pl.Int64
        )
    # The date and time of day: read by Polars (a day the month lacks gives null); a
    # space instead of the "T" gives null too, and the row goes to the core. Uncached:
    # instants are mostly distinct, so a cache would only cost.
    local = text.str.slice(0, 19).str.to_datetime(
        _NAIVE_FORMAT, time_unit="us", strict=False, cache=False
    )
    valid = text.str.contains(ISO_TIMESTAMP)
    return pl.when(valid).then(local.dt.epoch("us") + correction)


def _tails(text: pl.Series) -> pl.DataFrame | None:
    """The distinct tails of the timestamps ``text`` (what follows the seconds: usually a
    few offsets, with or without milliseconds) and the correction each one makes to the
    time of day in microseconds (null for a tail not of the form); ``None`` if there are
    more than :data:`_TAILS`, as with microseconds, where reading each row's is cheaper.

    A few tails parsed once each are cheaper than every row's fraction and offset sliced
    and cast from its text."""
    tail = pl.col("text").str.slice(19)
    frame = text.alias("text").to_frame()
    # A first look at a slice, so that a frame of mostly distinct tails costs little.
    if frame.head(_TAILS * 4).select(tail.n_unique()).item() > _TAILS:
        return None
    distinct = frame.lazy().select(tail.unique().alias("tail")).collect().to_series()
    if distinct.len() > _TAILS:
        return None
    corrections: list[int | None] = []
    for value in distinct.to_list():
        match = _TAIL.fullmatch(value) if value is not None else None
        if match is None:
            corrections.append(None)
            continue
        fraction, sign, hours, minutes = match.groups()
        micros = int(fraction.ljust(6, "0")) if fraction else 0
        offset = int(hours) * 60 + int(minutes) if sign else 0
        corrections.append(micros - (-offset if sign == "-" else offset) * 60_000_000)
    return pl.DataFrame(
        [distinct, pl.Series("correction", corrections, dtype=pl.Int64)]
    ).drop_nulls("tail")


def row_schema() -> dict[str, Any]:
    return {
        "row": pl.Int64, "id": pl.String, "ts": pl.Int64, "created_at": pl.String,
        "amount": pl.Int64, "vat_amount": pl.Int64, "merchant_reference": pl.String,
        "currency": pl.String, "payment_product_type": pl.String, "address": pl.Int64,
        "customer": pl.Int64, "start": pl.Date, "dates": pl.Int64,
    }  # fmt: skip
