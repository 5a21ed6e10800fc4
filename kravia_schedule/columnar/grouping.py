"""Grouping placed rows into invoices: the plan's order, the totals and the core's ids.

:func:`group_into_invoices` sorts the lines once into the plan's order (one Int128 key
per line, see :func:`_line_order`), so each invoice is a run of rows; its id is the
core's digest of the same text (:func:`_digests`).
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import polars as pl

from kravia_schedule import rules
from kravia_schedule.columnar.addresses import KEYS
from kravia_schedule.columnar.placing import Context
from kravia_schedule.columnar.result import PRODUCT_ENUM
from kravia_schedule.config import ProductType
from kravia_schedule.countries import Country
from kravia_schedule.customers import CustomerKey

#: The columns every line of an invoice shares (taken from its first).
_INVOICE_WIDE = ["address", "dates", "payment_product_type", "customer", "currency", "start",
                 "sid"]  # fmt: skip

#: Texts digested at a time (see _digests); a test lowers it.
_SLICE = 1 << 16

#: The bits of the Int128 sort key of a line (see _line_order); a test lowers it.
_ORDER_BITS = 127

#: The bits of the Int64 number of a grouped invoice (see _grouped_digests); a test
#: lowers it.
_CODE_BITS = 63


def group_into_invoices(
    context: Context, rows: pl.DataFrame, *, lines: bool
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
    the core's ids to change form (see :func:`_checked_ids`), the invoices are
    sorted again.
    """
    detail = ["created_at", "amount", "vat_amount", "merchant_reference"] if lines else []
    standard = pl.col("start").is_null()
    # A standard invoice's id depends on its one line only.
    message = pl.when(standard).then(
        pl.concat_str("payment_product_type", "id", separator=rules.ID_SEPARATOR)
    )
    sid = _digests(rows.lazy().select(message).collect().to_series())
    rows = (
        rows.lazy()
        .with_columns(
            sid=pl.when(standard).then(pl.concat_str(pl.lit(rules.STANDARD_ID_PREFIX), pl.lit(sid)))
        )
        .collect()
    )
    dates_table = context.dates_table()  # row i: the dates of index i
    customers = context.customer_table()  # row i: customer i
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
    # The grouped ids are digested in Python on a thread of its own, from the invoices'
    # keys alone, while Polars (which lets go of the GIL) orders, gathers and sums the
    # lines: started here, before the lines are ordered, so that it is done by the time
    # the main thread needs the ids.
    with ThreadPoolExecutor(1) as pool:
        stats = _stats(keys)
        digesting = pool.submit(_grouped_digests, keys, stats, customers, dates_table, currencies)
        positions, first = _line_order(keys, stats)
        # The invoice's own columns are taken from its first line; only the columns
        # every line needs are gathered in line order. In one chunk first: a gather from
        # the many chunks a filter leaves is slow, a rechunk and a gather are not.
        heads = rows.select(_INVOICE_WIDE).rechunk()[positions.filter(first)]
        heads = pl.concat(
            [
                heads,
                dates_table.drop("dates")[heads["dates"]],
                customers.drop("customer")[heads["customer"]],
            ],
            how="horizontal",
        )
        line_columns = ["created_at", "merchant_reference"] if lines else []
        order = rows.select("id", "amount", "vat_amount", *line_columns).rechunk()[positions]
        sums = (
            order.with_columns(run=first.cum_sum().set_sorted())
            .group_by("run", maintain_order=True)
            .agg(
                pl.col("id").alias("transaction_ids"),
                pl.col("amount").cast(pl.Int128).sum(),
                # Unknown when any line's is (invoices.total_vat): never the known part's sum.
                pl.when(pl.col("vat_amount").null_count() == 0)
                .then(pl.col("vat_amount").cast(pl.Int128).sum())
                .alias("vat_amount"),
                pl.len().alias("purchases"),
            )
            .drop("run")
        )
        digest = _spread(digesting.result(), heads["start"].is_not_null())
    frame = sums.hstack(heads)
    grouped = pl.col("start").is_not_null()
    invoice_id = (
        pl.when(grouped)
        .then(pl.concat_str(pl.lit(rules.GROUPED_ID_PREFIX), "period", pl.lit("-"), digest))
        .otherwise("sid")
    )
    details = order.select(detail) if lines else None
    frame, replaced = _checked_ids(context, frame.lazy().with_columns(id=invoice_id).collect())
    if replaced:  # ids in another format may sort in another order
        frame, details = _reordered(frame, details)
    amounts = frame.lazy().select(pl.col("amount", "vat_amount").abs().max()).collect().row(0)
    money = pl.Int64 if all(m is None or m < 2**63 for m in amounts) else pl.Int128
    invoices = frame.lazy().select(
        "id",
        pl.col("payment_product_type").cast(PRODUCT_ENUM).alias("product_type"),
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


def _checked_ids(context: Context, frame: pl.DataFrame) -> tuple[pl.DataFrame, bool]:
    """``frame`` with the core's own ids if they differ from the ones computed here on
    the first grouped or standard invoice (the core's format is the reference), and
    whether they did."""
    # Lazily: only the first row found is read (eagerly, each filter would copy every
    # invoice with its ids first).
    grouped = frame.lazy().filter(pl.col("start").is_not_null()).head(1).collect()
    standard = frame.lazy().filter(pl.col("start").is_null()).head(1).collect()
    same = True
    if grouped.height:
        row = grouped.row(0, named=True)
        period = context.dates[row["dates"]].period
        assert period is not None
        same = row["id"] == rules.grouped_invoice_id(_key(row), row["currency"], period)
    if standard.height:
        row = standard.row(0, named=True)
        tid = row["transaction_ids"][0]
        same = same and row["id"] == rules.standard_invoice_id(
            ProductType(row["payment_product_type"]), tid
        )
    if same:
        return frame, False
    ids = []  # only if the core's id format changes
    for row in frame.iter_rows(named=True):
        if row["start"] is None:
            product = ProductType(row["payment_product_type"])
            ids.append(rules.standard_invoice_id(product, row["transaction_ids"][0]))
        else:
            period = context.dates[row["dates"]].period
            assert period is not None
            ids.append(rules.grouped_invoice_id(_key(row), row["currency"], period))
    return frame.with_columns(id=pl.Series(ids, dtype=pl.String)), True


def _line_order(keys: pl.DataFrame, stats: Mapping[str, Any]) -> tuple[pl.Series, pl.Series]:
    """The lines' order, and where each invoice begins in it.

    ``keys`` has a row per line: ``issue`` (day number), ``rank`` (of the customer),
    ``currency`` (index in sorted order), ``start`` (day number; null for a standard
    invoice, which comes after the grouped ones), ``sid`` (a standard invoice's id
    digest), ``ts`` and ``id``; the plan orders lines by those, in that order; ``stats``
    is its :func:`_stats` (computed once, for the digests too). Returns
    the positions of the rows in that order, and in that order whether a row is the
    first line of its invoice (issue, rank, currency, start, sid).

    Polars sorts the values of one Int128 column several times as fast as it finds the
    order of five columns, so each line gets one number: its invoice's fields in the high
    bits, each in as many bits as its range needs; then the line's instant (a standard
    line: the top bits of its id digest, which as 16 lowercase hex digits sorts like that
    number); then its position. Lines equal in all but position (one customer's purchases
    at the same microsecond, or digests alike in their top bits) are put in order by the
    full keys afterwards. When the fields need more bits than :data:`_ORDER_BITS`, the
    columns are sorted as they are.
    """
    n = keys.height
    if not n:
        return pl.Series([], dtype=pl.Int64), pl.Series([], dtype=pl.Boolean)
    grouped = pl.col("start").is_not_null()
    t0, t1 = stats["t0"], stats["t1"]
    # Field (expression, bits): the invoice's, then the line's, then the position.
    invoice = _invoice_fields(stats)
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
    # Lazily: the streaming engine computes the numbers on both cores (eagerly, Polars
    # evaluates them on one thread).
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
    if keys["sid"].null_count() == n:  # no standard line: no digests to gather
        return positions, same["new"]
    sid = keys["sid"].gather(positions)
    new = same["new"] | (sid.is_not_null() & sid.ne_missing(sid.shift(1)).fill_null(True))
    return positions, new


def _stats(keys: pl.DataFrame) -> dict[str, Any]:
    """The ranges of ``keys``' fields (see :func:`_line_order`)."""
    grouped = pl.col("start").is_not_null()
    return keys.select(
        pl.col("issue").min().alias("i0"),
        pl.col("issue").max().alias("i1"),
        pl.col("rank").max().alias("r1"),
        pl.col("currency").max().alias("c1"),
        pl.col("start").min().alias("s0"),
        pl.col("start").max().alias("s1"),
        pl.col("ts").filter(grouped).min().alias("t0"),
        pl.col("ts").filter(grouped).max().alias("t1"),
    ).row(0, named=True)


def _invoice_fields(stats: Mapping[str, Any]) -> list[tuple[pl.Expr, int]]:
    """The fields that tell invoices apart, in the plan's order, each as a number from 0
    and the bits it needs (see :func:`_line_order`); a standard invoice's ``start``
    comes after every grouped one's."""
    s0, s1 = (stats["s0"], stats["s1"]) if stats["s0"] is not None else (0, -1)
    return [
        (pl.col("issue") - stats["i0"], (stats["i1"] - stats["i0"]).bit_length()),
        (pl.col("rank"), stats["r1"].bit_length()),
        (pl.col("currency"), stats["c1"].bit_length()),
        (pl.col("start").fill_null(s1 + 1) - s0, (s1 + 1 - s0).bit_length()),
    ]


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


def _key(row: Mapping[str, Any]) -> CustomerKey:
    return CustomerKey(Country(row["country"]), row["org"], row["name"], row["reference"])


def _grouped_digests(
    keys: pl.DataFrame,
    stats: Mapping[str, Any],
    customers: pl.DataFrame,
    dates: pl.DataFrame,
    currencies: list[str],
) -> pl.Series:
    """The digest of each grouped invoice's id text, in the plan's order of the grouped
    invoices: (issue date, customer rank, currency, period start), as
    :func:`_line_order` orders them. ``keys`` has a row per line (as
    :func:`_line_order` takes them) and ``stats`` its :func:`_stats`, ``customers`` and
    ``dates`` are the context's tables and ``currencies`` the currencies by ``currency``
    index."""
    fields = ["issue", "rank", "currency", "start"]
    lines = keys.lazy().filter(pl.col("start").is_not_null())
    if stats["s0"] is None:  # no grouped line
        return pl.Series([], dtype=pl.String)
    packed = _invoice_fields(stats)
    if sum(bits for _, bits in packed) <= _CODE_BITS:
        # One Int64 per line (see _line_order): its distinct values, sorted, are found
        # far faster than by grouping the lines by the four fields.
        code = pl.lit(0, pl.Int64)
        for field, bits in packed:
            code = code * (1 << bits) + field
        codes = lines.select(code.unique().sort().alias("code"))
        shift, columns = 0, {}
        for name, (_, bits) in reversed(list(zip(fields, packed, strict=True))):
            columns[name] = pl.col("code") // (1 << shift) % (1 << bits)
            shift += bits
        invoices = codes.select(
            rank=columns["rank"], currency=columns["currency"], start=columns["start"] + stats["s0"]
        )
    else:  # ranges over centuries and millions of customers
        invoices = lines.select(fields).unique().sort(fields).select(fields[1:])
    periods = (
        dates.lazy()
        .filter(pl.col("period_start").is_not_null())
        .select(pl.col("period_start").cast(pl.Int64).alias("start"), "interval", "period")
        .unique()
        .collect()
    )
    # One plan has one interval, so a period start has one label.
    assert not periods["start"].is_duplicated().any(), "a period start with two labels"
    by_rank = customers.sort("rank").select(KEYS)
    # Each field of the core's id text (rules.GROUPED_ID_FIELDS) from its column here.
    customer_fields = dict(zip(rules.GROUPED_ID_FIELDS[:4], KEYS, strict=True))
    parts = {
        **{f: pl.lit(by_rank[k]).gather(pl.col("rank")) for f, k in customer_fields.items()},
        "currency": pl.lit(pl.Series(currencies, dtype=pl.String)).gather(pl.col("currency")),
        **{
            name: pl.col("start").replace_strict(
                periods["start"], periods[name], return_dtype=pl.String
            )
            for name in ("interval", "period")
        },
    }
    message = pl.concat_str(
        pl.lit(rules.GROUPED_ID_TAG),
        *(parts[f] for f in rules.GROUPED_ID_FIELDS),
        separator=rules.ID_SEPARATOR,
    )
    return _digests(invoices.select(message).collect().to_series())


def _spread(digests: pl.Series, where: pl.Series) -> pl.Series:
    """The ``digests`` (in order) at the rows ``where`` is true, null at the others: the
    grouped invoices' among all invoices, say."""
    assert digests.len() == where.sum(), "a row without its digest, or a digest too many"
    if digests.len() == where.len():
        return digests
    return pl.repeat(None, where.len(), dtype=pl.String, eager=True).scatter(
        where.arg_true(), digests
    )


def _digests(messages: pl.Series) -> pl.Series:
    """The 8-byte BLAKE2b hex digest of each text (the core's ``_digest`` of its parts);
    null for null."""
    present = messages.is_not_null()
    texts = messages.filter(present).cast(pl.Binary)
    # The core's hasher, copied: making each one with its keyword argument parses the
    # keyword every time.
    fresh = rules.new_digest
    parts = []
    # A slice at a time: the Python objects of one slice are freed before the next is
    # made, so their memory is reused (all at once, every text would take fresh memory,
    # paid for in page faults).
    for at in range(0, len(texts), _SLICE):
        hexes: list[str] = []
        add = hexes.append
        for text in texts.slice(at, _SLICE).to_list():
            hasher = fresh()
            hasher.update(text)
            add(hasher.hexdigest())
        parts.append(pl.Series(hexes, dtype=pl.String))
    digests = pl.concat(parts, rechunk=True) if parts else pl.Series([], dtype=pl.String)
    return _spread(digests, present)
