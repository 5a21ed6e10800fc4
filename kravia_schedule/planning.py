"""Planning: which purchases go on which invoice, and when each invoice is issued and due.

:func:`plan_invoices` is the library's main entry point. It is a pure function of its
input: every purchase ends up exactly once in ``invoices``, ``skipped`` or ``rejected``,
and the result does not depend on the order of the input. :func:`merge_plans` combines
plans of disjoint batches into the plan of their union (the reduce step of a parallel run).
The plan's types (:class:`~kravia_schedule.invoices.Invoice`, ``InvoicePlan``, ...) are in
:mod:`kravia_schedule.invoices`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, Unpack

from kravia_schedule import rules
from kravia_schedule._gc import cyclic_gc_paused
from kravia_schedule._version import __version__
from kravia_schedule.calendar import (
    HOLIDAYS_VERSION,
)
from kravia_schedule.config import KraviaConfig
from kravia_schedule.errors import (
    InvalidArgument,
    MergeConflictError,
)
from kravia_schedule.invoices import (
    Invoice,
    InvoiceLines,
    InvoicePlan,
    PlanProvenance,
    Rejection,
    total_vat,
)
from kravia_schedule.options import PlanOptions, PlanOptionsArgs
from kravia_schedule.planner import Planner
from kravia_schedule.purchases import Purchase

__all__ = ["merge_plans", "plan_invoices"]


def plan_invoices(
    purchases: Iterable[Purchase | Mapping[str, Any]],
    config: KraviaConfig | None = None,
    *,
    options: PlanOptions | None = None,
    **changes: Unpack[PlanOptionsArgs],
) -> InvoicePlan:
    """Plan the invoices for ``purchases`` under ``config``.

    ``purchases`` may mix :class:`Purchase` objects and Dintero-shaped mappings (an
    :class:`InvalidPurchaseError` in the stream, e.g. an unreadable line of a file, is
    reported as a rejection). With
    ``as_of`` (a local date, or an aware datetime read in each customer's time zone) each
    invoice gets a :class:`InvoiceState`. ``strict`` checks organization-number check
    digits; ``weekends_only``, ``closed_days`` (per country) and ``due_date_rule`` set
    the calendars, as in :class:`BusinessCalendar` and :func:`grouped_invoice_dates`;
    ``calendar_kind="bank"`` issues on bank days instead of public-holiday business days.
    ``config`` defaults to :meth:`KraviaConfig.all_enabled`. The options come as one
    :class:`PlanOptions` or as keywords (which change ``options``); an invalid one raises
    :class:`InvalidOption`.
    """
    if isinstance(purchases, str | bytes | Mapping) or not isinstance(purchases, Iterable):
        kind = type(purchases).__name__
        raise InvalidArgument(f"plan_invoices takes an iterable of records, got a {kind}")
    config = config if config is not None else KraviaConfig.all_enabled()
    options = PlanOptions.of(options, **changes)
    provenance = PlanProvenance(__version__, HOLIDAYS_VERSION, config, options)
    calendars = options.calendars()
    with cyclic_gc_paused() as collect_young:
        planner = Planner(
            config, calendars, options.due_date_rule, options.strict, options.as_of,
            collect_young, require_vat=options.require_vat,
        )  # fmt: skip
        planner.run(purchases)
        plan = planner.finish(provenance)
        # Free the groups and caches while the collector is paused: otherwise its first
        # pass afterwards walks every one of them once more.
        del planner
    return plan


def merge_plans(*plans: InvoicePlan) -> InvoicePlan:
    """Combine plans of disjoint batches into the plan of their union.

    Raises :class:`MergeConflictError` when the plans were computed with different
    settings, or when a transaction id is in two of them (invoiced, skipped or
    rejected): merging would count it twice, or keep a copy that the plan of the union
    rejects with the others (conflicting copies of one id are all rejected). Split a
    batch by transaction id, so every copy of an id is in one part.
    """
    if not plans:
        raise InvalidArgument("merge_plans needs at least one plan")
    for plan in plans:
        if not isinstance(plan, InvoicePlan):
            kind = type(plan).__name__
            raise InvalidArgument(f"merge_plans takes plans (merge_plans(*plans)), got a {kind}")
    provenance = plans[0].provenance
    for plan in plans[1:]:
        if plan.provenance != provenance:
            raise MergeConflictError("plans were computed with different settings or versions")
    seen: set[str] = set()
    for plan in plans:
        ids = {i for invoice in plan.invoices for i in invoice.transaction_ids}
        ids.update(s.transaction_id for s in plan.skipped)
        ids.update(r.transaction_id for r in plan.rejected if r.transaction_id is not None)
        overlap = seen.intersection(ids)
        if overlap:
            raise MergeConflictError(f"transactions in more than one plan: {sorted(overlap)[:5]}")
        seen.update(ids)
    merged: dict[str, Invoice] = {}
    for plan in plans:
        for invoice in plan.invoices:
            other = merged.get(invoice.id)
            if other is None:
                merged[invoice.id] = invoice
                continue
            lines = InvoiceLines(sorted(other.lines + invoice.lines))
            first = other if other.lines[0] <= invoice.lines[0] else invoice
            merged[invoice.id] = replace(
                first,
                lines=lines,
                amount=other.amount + invoice.amount,
                vat_amount=total_vat((other.vat_amount, invoice.vat_amount)),
            )
    return InvoicePlan(
        tuple(sorted(merged.values(), key=rules.invoice_order)),
        tuple(sorted((s for p in plans for s in p.skipped), key=lambda s: s.transaction_id)),
        tuple(sorted((r for p in plans for r in p.rejected), key=Rejection.sort_key)),
        provenance,
    )
