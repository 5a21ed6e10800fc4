"""Marking rows: which records are plainly valid, which would be but for their missing
amounts, and which go on an invoice.

A row the marks leave out is the core's to plan (the residue); sending a row there is
always safe, so the marks may be conservative.
"""

from __future__ import annotations

import polars as pl

from kravia_schedule import rules
from kravia_schedule.columnar.addresses import PY_WHITESPACE
from kravia_schedule.columnar.timestamps import instant, tails
from kravia_schedule.config import KraviaConfig, ProductType
from kravia_schedule.purchases import TransactionStatus

# Instants outside [1800, 2200) go to the residue: the planner's float timestamps keep
# microseconds apart within it, and the holiday data covers less anyway.
_MIN_US = -5_364_662_400_000_000  # 1800-01-01T00:00:00Z
_MAX_US = 7_258_118_400_000_000  # 2200-01-01T00:00:00Z


def mark(frame: pl.DataFrame, config: KraviaConfig) -> pl.DataFrame:
    """``frame`` with ``ts`` (the instant in microseconds since the epoch), ``plain``
    (whether its record is plainly valid), ``money_missing`` (whether it would be but
    for a missing amount or VAT amount) and ``invoiced`` (whether it goes on an
    invoice). The other rows are the core's to plan (see
    :func:`~kravia_schedule.columnar.placing.place`)."""
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
    corrections = tails(frame["created_at"])
    timed = frame.lazy().with_columns(ts=instant(pl.col("created_at"), corrections))
    return timed.with_columns(
        plain=plain.fill_null(False),
        money_missing=money_missing.fill_null(False),
        invoiced=invoiced,
    ).collect()
