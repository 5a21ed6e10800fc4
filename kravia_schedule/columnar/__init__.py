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
* a row that would be plainly valid but for a missing ``amount`` or ``vat_amount``
  (its address valid too) is rejected with the problems of the core's own money check,
  asked once per set of missing amounts (the core checks nothing else about the money
  then, and finds nothing wrong with the other fields);
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

**Modules**, in the order a plan flows through them: :mod:`.reading` (the input as typed
columns), :mod:`.marking` (which rows are plainly valid; instants by :mod:`.timestamps`),
:mod:`.placing` (their addresses, customers and dates; addresses recognized over columns
by :mod:`.addresses`, rows on no invoice reported by :mod:`.outcomes`), :mod:`.grouping`
(lines into invoices, in the plan's order, with the core's ids) and :mod:`.result`
(:class:`FramePlan`); :mod:`.frames` and :mod:`.streaming` are the entry points.
:mod:`.lookups` holds the plan's one mutable object, the look-ups each distinct value
is decided by once; every other function takes what it needs as arguments.
"""

from __future__ import annotations

try:
    import polars  # noqa: F401  (checked first: every module here needs it)
except ImportError as error:
    raise ImportError(
        "kravia_schedule.columnar needs polars and pyarrow, which are optional: "
        "pip install 'kravia-schedule[columnar]'"
    ) from error

from kravia_schedule.columnar.frames import plan_file, plan_frame, plan_frames
from kravia_schedule.columnar.result import FramePlan
from kravia_schedule.columnar.streaming import plan_parquet

__all__ = ["FramePlan", "plan_file", "plan_frame", "plan_frames", "plan_parquet"]
