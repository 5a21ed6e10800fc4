"""The baselines ``plan_invoices`` is measured against, and the check that pandas agrees.

* **floor**: a bare Python loop that builds the raw 5-field customer key and does
  ``dict.setdefault(key, []).append(p)``, once over :class:`Purchase` objects and once over
  dicts. No validation, normalization, dates or periods: a lower bound, not a competitor.
* **pandas**: the whole grouped-invoice job as a skilled pandas user would write it, from
  the Dintero-shaped dicts to one row per invoice with totals, transaction ids, issue and
  due date (:func:`pandas_frame` builds the DataFrame, :func:`pandas_job` does the rest).
* **polars**: a bare Polars ``group_by`` over key columns and period start computed
  beforehand (:func:`polars_frame`, not timed), summing amounts and counting purchases
  (:func:`polars_job`, timed). Only the grouping, done by a multi-threaded engine.

pandas, numpy and polars are optional (the ``bench`` extra); they are imported inside the
functions that need them.
"""

from __future__ import annotations

import gc
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

from kravia_schedule import BusinessCalendar, InvoicePlan, Purchase

__all__ = [
    "DAYS_UNTIL_DUE",
    "KEY_COLUMNS",
    "ZONES",
    "floor_dicts",
    "floor_typed",
    "pandas_agreement",
    "pandas_frame",
    "pandas_job",
    "polars_agreement",
    "polars_frame",
    "polars_job",
]

#: The zone whose calendar date is a purchase's date, per billing country.
ZONES = {"NO": "Europe/Oslo", "SE": "Europe/Stockholm", "FI": "Europe/Helsinki"}
#: The raw customer key (the planner also normalizes spellings; the generator uses one
#: spelling per customer, so grouping on the raw values gives the same invoices).
KEY_COLUMNS = ["business_name", "organization_number", "country", "customer_reference", "currency"]
#: ``days_until_due`` of the configuration the benchmarks plan with (the default).
DAYS_UNTIL_DUE = 14
_GROUPED = "kravia.invoice_b2b_grouped"

T = TypeVar("T")


def _gc_paused(fn: Callable[[T], Any]) -> Callable[[T], Any]:
    """Run ``fn`` with the cyclic garbage collector paused, as ``plan_invoices`` does
    internally: the floor should not pay for collections the library avoids."""

    def run(data: T) -> Any:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(data)
        finally:
            if was_enabled:
                gc.enable()

    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


# -- floor ---------------------------------------------------------------------------


@_gc_paused
def floor_typed(purchases: Iterable[Purchase]) -> dict[tuple[Any, ...], list[Purchase]]:
    """Group typed purchases by the raw 5-field key: the least work any grouping does."""
    groups: dict[tuple[Any, ...], list[Purchase]] = {}
    for p in purchases:
        a = p.billing_address
        key = (a.business_name, a.organization_number, a.country, a.customer_reference, p.currency)
        groups.setdefault(key, []).append(p)
    return groups


@_gc_paused
def floor_dicts(
    records: Iterable[Mapping[str, Any]],
) -> dict[tuple[Any, ...], list[Mapping[str, Any]]]:
    """Group Dintero-shaped dicts by the raw 5-field key."""
    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for r in records:
        a = r["billing_address"]
        key = (a["business_name"], a["organization_number"], a["country"],
               a.get("customer_reference"), r["currency"])  # fmt: skip
        groups.setdefault(key, []).append(r)
    return groups


# -- pandas --------------------------------------------------------------------------


def pandas_frame(records: Sequence[Mapping[str, Any]]) -> Any:
    """The records as a flat DataFrame, one column per field the job reads.

    Column-wise construction from lists (several times faster than ``json_normalize``).
    ``money_is_int`` keeps what the JSON types said: a float amount is invalid even when
    pandas would happily store it in a float column.
    """
    import pandas as pd

    addresses = [r.get("billing_address") or {} for r in records]
    return pd.DataFrame(
        {
            "id": [r.get("id") for r in records],
            "created_at": [r.get("created_at") for r in records],
            "amount": [r.get("amount") for r in records],
            "vat_amount": [r.get("vat_amount") for r in records],
            "money_is_int": [
                type(r.get("amount")) is int and type(r.get("vat_amount")) is int for r in records
            ],
            "currency": [r.get("currency") for r in records],
            "status": [r.get("status") for r in records],
            "product_type": [r.get("payment_product_type") for r in records],
            "business_name": [a.get("business_name") for a in addresses],
            "organization_number": [a.get("organization_number") for a in addresses],
            "country": [a.get("country") for a in addresses],
            "customer_reference": [a.get("customer_reference") for a in addresses],
        }
    )


def _holidays(country: str, years: Iterable[int]) -> list[date]:
    calendar = BusinessCalendar(country)
    return [day for year in years for day in calendar.holidays(year)]


def pandas_job(df: Any, days_until_due: int = DAYS_UNTIL_DUE) -> Any:
    """Grouped invoices from :func:`pandas_frame`'s DataFrame: one row per invoice.

    Keeps valid ``AUTHORIZED`` grouped purchases; local date with ``tz_convert`` per
    country zone; billing period with ``to_period("M")``; one group per key columns +
    currency + period, with amount and VAT sums, purchase count and the transaction ids;
    issue date = ``numpy.busday_offset(period end + 1 day, 0, roll="forward")`` over the
    library's holidays, due date = issue + ``days_until_due`` days. Dates are computed
    per invoice, after grouping: there are fewer invoices than purchases.
    """
    import numpy as np
    import pandas as pd

    keep = (
        df["money_is_int"]
        & df["status"].eq("AUTHORIZED")
        & df["product_type"].eq(_GROUPED)
        & df["country"].isin(list(ZONES))
    )
    df = df.loc[keep, ["id", "created_at", "amount", "vat_amount", *KEY_COLUMNS]]
    df = df.assign(
        amount=df["amount"].astype("int64"),
        vat_amount=df["vat_amount"].astype("int64"),
        customer_reference=df["customer_reference"].fillna(""),
    )
    df = df[df["amount"].gt(0) & df["vat_amount"].between(0, df["amount"])]

    utc = pd.to_datetime(df["created_at"], utc=True, format="ISO8601")
    local = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    for country, zone in ZONES.items():
        here = df["country"].eq(country).to_numpy()
        local[here] = utc[here].dt.tz_convert(zone).dt.tz_localize(None)
    df = df.assign(period=local.dt.to_period("M"))

    groups = df.groupby([*KEY_COLUMNS, "period"], sort=False)
    out = groups.agg(
        amount=("amount", "sum"), vat_amount=("vat_amount", "sum"), count=("id", "size")
    ).reset_index()
    # The ids of each group: one stable sort by group number, split at the group sizes
    # (``agg(list)`` builds a Python list per group and takes 5-10x as long). With
    # sort=False, ngroup() and agg() both number groups in order of first appearance.
    order = np.argsort(groups.ngroup().to_numpy(), kind="stable")
    bounds = np.cumsum(out["count"].to_numpy())[:-1]
    out["ids"] = np.split(df["id"].to_numpy()[order], bounds) if len(out) else []

    first_day = (out["period"] + 1).dt.start_time.to_numpy().astype("datetime64[D]")
    years = range(int(out["period"].dt.year.min()), int(out["period"].dt.year.max()) + 2)
    issue = np.empty(len(out), dtype="datetime64[D]")
    for country in ZONES:
        here = out["country"].eq(country).to_numpy()
        holidays = np.array(_holidays(country, years), dtype="datetime64[D]")
        issue[here] = np.busday_offset(first_day[here], 0, roll="forward", holidays=holidays)
    out["issue_date"] = issue
    out["due_date"] = issue + np.timedelta64(days_until_due, "D")
    return out


def pandas_agreement(out: Any, plan: InvoicePlan) -> list[str]:
    """Where :func:`pandas_job`'s result differs from ``plan`` (empty: they agree).

    Compares the number of invoices, the amount and VAT totals per currency, and for
    every invoice of the plan: its transactions, amount, VAT, period, issue and due date.
    """
    problems = []
    if len(out) != len(plan.invoices):
        problems.append(f"{len(out)} pandas invoices, {len(plan.invoices)} planned")
    for column in ("amount", "vat_amount"):
        theirs = {str(k): int(v) for k, v in out.groupby("currency")[column].sum().items()}
        ours: Counter[str] = Counter()
        for invoice in plan.invoices:
            ours[invoice.currency] += getattr(invoice, column)
        if theirs != dict(ours):
            problems.append(f"{column} totals per currency: pandas {theirs}, planned {dict(ours)}")
    row_of = {}
    for row, ids in enumerate(out["ids"]):
        for transaction_id in ids:
            row_of[str(transaction_id)] = row
    issue = out["issue_date"].dt.date.tolist()
    due = out["due_date"].dt.date.tolist()
    period = out["period"].astype(str).tolist()
    amount, vat = out["amount"].tolist(), out["vat_amount"].tolist()
    for invoice in plan.invoices:
        row = row_of.get(invoice.lines[0].transaction_id)
        if row is None:
            problems.append(f"{invoice.id}: its transactions are on no pandas invoice")
        elif sorted(map(str, out["ids"].iat[row])) != sorted(invoice.transaction_ids):
            problems.append(f"{invoice.id}: pandas puts other transactions with its first one")
        else:
            planned = (invoice.period.label if invoice.period else None, invoice.issue_date,
                       invoice.due_date, invoice.amount, invoice.vat_amount)  # fmt: skip
            found = (period[row], issue[row], due[row], amount[row], vat[row])
            if planned != found:
                problems.append(f"{invoice.id}: planned {planned}, pandas {found}")
        if len(problems) >= 10:
            problems.append("…")
            break
    return problems


# -- polars --------------------------------------------------------------------------


def polars_frame(records: Sequence[Mapping[str, Any]]) -> Any:
    """The valid ``AUTHORIZED`` grouped purchases with key columns and period start: the
    precomputation the polars baseline does *not* time."""
    import polars as pl

    valid = [
        r for r in records
        if type(r["amount"]) is int and type(r["vat_amount"]) is int
        and r["status"] == "AUTHORIZED" and r["payment_product_type"] == _GROUPED
        and r["billing_address"].get("country") in ZONES
    ]  # fmt: skip
    addresses = [r["billing_address"] for r in valid]
    df = pl.DataFrame(
        {
            "created_at": [r["created_at"] for r in valid],
            "amount": [r["amount"] for r in valid],
            "vat_amount": [r["vat_amount"] for r in valid],
            "currency": [r["currency"] for r in valid],
            "business_name": [a["business_name"] for a in addresses],
            "organization_number": [a["organization_number"] for a in addresses],
            "country": [a["country"] for a in addresses],
            "customer_reference": [a.get("customer_reference") or "" for a in addresses],
        },
        schema_overrides={"amount": pl.Int64, "vat_amount": pl.Int64},
    )
    utc = pl.col("created_at").str.to_datetime(time_zone="UTC")
    local: Any = pl
    for country, zone in ZONES.items():
        here = utc.dt.convert_time_zone(zone).dt.replace_time_zone(None)
        local = local.when(pl.col("country") == country).then(here)
    return df.with_columns(period_start=local.dt.month_start().dt.date()).drop("created_at")


def polars_job(df: Any) -> Any:
    """One row per invoice: amount and VAT sums and the purchase count per group."""
    import polars as pl

    return df.group_by([*KEY_COLUMNS, "period_start"]).agg(
        pl.col("amount").sum(), pl.col("vat_amount").sum(), pl.len().alias("count")
    )


def polars_agreement(out: Any, plan: InvoicePlan) -> list[str]:
    """Where :func:`polars_job`'s result differs from ``plan`` in invoice count, totals
    per currency and purchases per invoice (it computes no dates or ids)."""
    import polars as pl

    problems = []
    if out.height != len(plan.invoices):
        problems.append(f"{out.height} polars groups, {len(plan.invoices)} planned invoices")
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for invoice in plan.invoices:
        entry = totals[invoice.currency]
        entry[0] += invoice.amount
        entry[1] += invoice.vat_amount
        entry[2] += len(invoice.lines)
    theirs = {
        row["currency"]: [row["amount"], row["vat_amount"], row["count"]]
        for row in out.group_by("currency")
        .agg(pl.col("amount").sum(), pl.col("vat_amount").sum(), pl.col("count").sum())
        .iter_rows(named=True)
    }
    if theirs != dict(totals):
        problems.append(
            f"(amount, VAT, purchases) per currency: polars {theirs}, planned {dict(totals)}"
        )
    return problems
