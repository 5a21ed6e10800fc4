"""Plainly valid rows that go on no invoice, as the core would report them: skipped
purchases, and rejections for missing amounts.

The reason, its wording and the problems are the core's (:mod:`kravia_schedule.rules`),
asked once per distinct case rather than per row.
"""

from __future__ import annotations

import polars as pl

from kravia_schedule import rules
from kravia_schedule.columnar.result import StoredResidue, rows_of
from kravia_schedule.config import KraviaConfig, ProductType
from kravia_schedule.purchases import TransactionStatus

#: Rows rejected for their missing amounts alone: ``row, transaction_id, problems`` (how
#: many), and their problems (``path, message``) in order.
Rejected = tuple[pl.DataFrame, pl.DataFrame]


def as_skipped(rows: pl.DataFrame, config: KraviaConfig) -> pl.DataFrame:
    """Plainly valid rows that go on no invoice as skipped purchases (``row`` and the
    columns of :attr:`StoredResidue.skipped`); the reason and its wording are the
    core's, asked once per distinct (product type, status)."""
    on = ["payment_product_type", "status"]
    pairs = rows.select(on).unique()
    reasons, details = [], []
    for product, status in rows_of(pairs):
        product_type = ProductType(product)
        enabled = config.product(product_type).enabled
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


def as_rejected(rows: pl.DataFrame) -> list[Rejected]:
    """``money_missing`` rows whose address the core accepts, as rejections (see
    :data:`Rejected`), one pair of frames per set of missing amounts. Every other field
    is plainly valid, so the core's problems are those of its money check alone: asked
    once per set."""
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
