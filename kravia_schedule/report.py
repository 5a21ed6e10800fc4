"""Rendering plans and dates for people (table) and programs (JSON, CSV).

Every rendering can be encoded as UTF-8: the ids and reasons of rejected records, which
may hold text that is not valid Unicode (a lone surrogate, the reason they were
rejected), are shown with such characters escaped (``\\ud800``). CSV output is meant to
be opened in a spreadsheet: a text cell that a spreadsheet would run as a formula is
written with a leading ``'`` (see :func:`spreadsheet_text`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, TextIO

from kravia_schedule import rules
from kravia_schedule._gc import cyclic_gc_paused
from kravia_schedule.calendar import describe_skipped
from kravia_schedule.errors import InvalidArgument
from kravia_schedule.invoices import Invoice, InvoicePlan, InvoiceState, Rejection
from kravia_schedule.text import printable
from kravia_schedule.vat import rate_text

__all__ = [
    "format_money",
    "json_default",
    "plan_to_csv",
    "plan_to_dict",
    "plan_to_json",
    "plan_to_table",
    "spreadsheet_text",
    "table_lines",
    "write_csv",
    "write_table",
]


def format_money(minor: int, currency: str) -> str:
    """``123456, "NOK"`` → ``"1 234.56 NOK"`` (integer arithmetic; NOK, SEK, EUR have 2 decimals)."""
    sign = "-" if minor < 0 else ""
    major, cents = divmod(abs(minor), 100)
    return f"{sign}{major:,}.{cents:02d} {currency}".replace(",", " ")


#: The first characters that make a spreadsheet read a cell as a formula (OWASP's CSV
#: injection list: = + - @ tab and carriage return; line feed and NUL as well).
_FORMULA_START = frozenset("=+-@\t\r\n\x00")


def spreadsheet_text(value: str) -> str:
    """``value`` as a CSV text cell a spreadsheet shows as text, never runs as a formula:
    prefixed with ``'`` when it starts with ``= + - @``, a tab, a carriage return, a line
    feed or NUL (OWASP's advice on CSV injection). Only for text: numbers are written as
    they are, so ``-5`` stays a number.

    >>> spreadsheet_text("=1+1"), spreadsheet_text("Nordmann AS")
    ("'=1+1", 'Nordmann AS')
    """
    return "'" + value if value[:1] in _FORMULA_START else value


def _rejected_id(rejection: Rejection) -> str | None:
    return None if rejection.transaction_id is None else printable(rejection.transaction_id)


def _money_or_unknown(minor: int | None, currency: str) -> str:
    return "unknown" if minor is None else format_money(minor, currency)


def _vat_rates(invoice: Invoice) -> Iterator[str]:
    """The VAT per rate, when the lines give any rate (the flat shape gives none)."""
    totals = invoice.vat_breakdown
    if all(total.rate is None for total in totals):
        return
    for total in totals:
        rate = "rate not given" if total.rate is None else f"{rate_text(total.rate)} %"
        yield (
            f"        VAT {rate}: net {_money_or_unknown(total.net, invoice.currency)},"
            f" VAT {_money_or_unknown(total.vat, invoice.currency)},"
            f" gross {format_money(total.gross, invoice.currency)}"
        )


def plan_to_dict(plan: InvoicePlan) -> dict[str, Any]:
    """The whole plan as plain JSON-ready data, with its provenance (:meth:`InvoicePlan.to_dict`)."""
    return plan.to_dict()


def json_default(value: object) -> Any:
    """The JSON form of the library's values, for ``json.dumps(x, default=json_default)``:
    a plan, an invoice (of a plan or a ledger), anything else with ``to_dict()``, a date
    (ISO 8601), a :class:`~decimal.Decimal` rate (its text, exact) and an enum (its value).

    >>> json.dumps({"rate": Decimal("25.5"), "on": date(2026, 1, 2)}, default=json_default)
    '{"rate": "25.5", "on": "2026-01-02"}'
    >>> json.dumps(object(), default=json_default)
    Traceback (most recent call last):
    ...
    kravia_schedule.errors.InvalidArgument: Object of type object is not JSON serializable
    """
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return rate_text(value) if value.is_finite() else str(value)
    if isinstance(value, Enum):
        return value.value
    # InvalidArgument is a TypeError, which is what json.dumps expects of ``default``.
    raise InvalidArgument(f"Object of type {type(value).__name__} is not JSON serializable")


def plan_to_json(plan: InvoicePlan) -> str:
    """:func:`plan_to_dict` as indented JSON text.

    The cyclic garbage collector is paused meanwhile, as while planning: the nested
    dicts and lists (several per purchase) hold no cycles, and its passes over them,
    with a large plan alive, would walk every one of them again and again.
    """
    with cyclic_gc_paused():
        return json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False) + "\n"


_CSV_COLUMNS = (
    "outcome", "transaction_id", "invoice_id", "product_type", "business_name",
    "organization_number", "country", "customer_reference", "currency", "amount",
    "vat_amount", "period", "issue_date", "due_date", "state", "reason",
)  # fmt: skip


def plan_to_csv(plan: InvoicePlan) -> str:
    """One row per input record: ``invoiced``, ``skipped`` or ``rejected``."""
    out = io.StringIO()
    write_csv(plan, out)
    return out.getvalue()


def write_csv(plan: InvoicePlan, out: TextIO) -> None:
    """:func:`plan_to_csv`, written row by row to ``out`` (no whole-plan string).

    Rows are tuples in :data:`_CSV_COLUMNS` order, an invoice's own columns built once
    for all its lines: a dict per row through ``csv.DictWriter`` costs markedly more
    for a plan of millions of lines. Each text cell
    goes through :func:`spreadsheet_text`; amounts are integers, written as they are.
    """
    cell = spreadsheet_text
    writer = csv.writer(out, lineterminator="\n")
    # The csv module quotes a cell with a line end only when it is in the line
    # terminator: a lone carriage return would be written bare and end the row for a
    # reader. A row with one is written with every text cell quoted.
    quoting = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(_CSV_COLUMNS)
    for invoice in plan.invoices:
        address = invoice.billing_address
        shared = tuple(map(cell, (
            invoice.id, invoice.product_type.value, address.business_name or "",
            invoice.customer.organization_number, invoice.country.value,
            address.customer_reference or "", invoice.currency,
        )))  # fmt: skip
        after = tuple(map(cell, (  # period, issue_date, due_date, state; no reason
            invoice.period.label if invoice.period else "", invoice.issue_date.isoformat(),
            invoice.due_date.isoformat(), invoice.state.value if invoice.state else "", "",
        )))  # fmt: skip
        bare = "\r" in "".join(shared) or any("\r" in line.transaction_id for line in invoice.lines)
        (quoting if bare else writer).writerows(
            ("invoiced", cell(line.transaction_id), *shared, line.amount, line.vat_amount, *after)
            for line in invoice.lines
        )
    rows: list[tuple[str | int | None, ...]] = [
        ("skipped", cell(s.transaction_id), "", s.product_type.value if s.product_type else "", "", "", "", "",
         s.currency, s.amount, s.vat_amount, "", "", "", "",
         cell(f"{s.reason.value}: {s.detail}"))
        for s in plan.skipped
    ]  # fmt: skip
    rows += [
        ("rejected", cell(_rejected_id(r) or ""), *("",) * 13, cell(printable(r.reason)))
        for r in plan.rejected
    ]
    for row in rows:
        (quoting if "\r" in str(row[1]) or "\r" in str(row[-1]) else writer).writerow(row)


def plan_to_table(plan: InvoicePlan) -> str:
    """A human-readable plan: each invoice with its lines, then skipped and rejected."""
    return "".join(f"{line}\n" for line in table_lines(plan))


def write_table(plan: InvoicePlan, out: TextIO) -> None:
    """:func:`plan_to_table`, written line by line to ``out``."""
    for line in table_lines(plan):
        out.write(f"{line}\n")


def table_lines(plan: InvoicePlan) -> Iterator[str]:
    """The lines of :func:`plan_to_table`, one at a time."""
    p = plan.provenance
    count = sum(len(i.lines) for i in plan.invoices) + len(plan.skipped) + len(plan.rejected)
    as_of = f" as of {p.as_of.isoformat()}" if p.as_of is not None else ""
    yield (
        f"Invoice plan{as_of}: {count} records -> {len(plan.invoices)} invoices, "
        f"{len(plan.skipped)} skipped, {len(plan.rejected)} rejected"
    )
    yield (
        f"(kravia-schedule {p.library_version}, holidays {p.holidays_version}"
        f"{', weekends only' if p.weekends_only else ''})"
    )
    yield ""
    for invoice in plan.invoices:
        address = invoice.billing_address
        who = address.business_name or f"{address.first_name} {address.last_name}"
        org = (
            f" {invoice.customer.organization_number}"
            if invoice.customer.organization_number
            else ""
        )
        ref = f", ref {address.customer_reference!r}" if address.customer_reference else ""
        state = f"  [{invoice.state.value}]" if invoice.state else ""
        yield f"{invoice.id}  {who} ({invoice.country.value}{org}{ref})  {invoice.currency}{state}"
        kind = invoice.product_type.value.removeprefix("kravia.")
        period = f"period {invoice.period.label}, " if invoice.period else ""
        moved = (
            f" (moved past {describe_skipped(invoice.issue_skipped)})"
            if invoice.issue_skipped
            else ""
        )
        deadline = invoice.payment_deadline
        on_time = (
            f" (on time until {deadline.last_on_time}, {deadline.rule.law})"
            if deadline is not None and deadline.skipped
            else ""
        )
        yield (
            f"    {kind}: {period}issued {invoice.issue_date}{moved}, "
            f"due {invoice.due_date}{on_time}"
        )
        scheme = _SCHEME_NAMES[invoice.country.value]
        yield f"    payment reference ({scheme}): {invoice.payment_reference}"
        zone = invoice.country.zone
        for line in invoice.lines:
            ref_text = f"  {line.merchant_reference}" if line.merchant_reference else ""
            local = line.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            yield (
                f"      {line.transaction_id:<14} {local} {zone.key:<17}"
                f"{format_money(line.amount, invoice.currency):>16}{ref_text}"
            )
            for item in line.items:
                described = printable(item.description or item.line_id or "(no description)")
                yield f"        {described:<47}{format_money(item.amount, invoice.currency):>16}"
        yield (
            f"      total {format_money(invoice.amount, invoice.currency)}"
            f" (VAT {_money_or_unknown(invoice.vat_amount, invoice.currency)})"
        )
        yield from _vat_rates(invoice)
        yield ("")
    yield from _totals(plan)
    if plan.skipped:
        yield from ("", "Skipped (valid, not invoiced):")
        yield from (f"  {s.transaction_id}: {s.reason.value}: {s.detail}" for s in plan.skipped)
    repeats = [r for r in plan.rejected if rules.is_identical_repeat(r.problems)]
    invalid = [r for r in plan.rejected if not rules.is_identical_repeat(r.problems)]
    if repeats:
        yield from ("", "Repeated (identical copies of a planned record, counted once):")
        for r in repeats:
            where = f"record {r.index + 1}" if r.index is not None else "record"
            yield f"  {_rejected_id(r)} ({where})"
    if invalid:
        yield from ("", "Rejected (invalid input):")
        for r in invalid:
            where = f"record {r.index + 1}" if r.index is not None else "record"
            who = _rejected_id(r) or "(no id)"
            yield (f"  {who} ({where}): {printable(r.reason)}")


#: The name of each country's payment reference (see Invoice.payment_reference).
_SCHEME_NAMES = {"NO": "KID", "SE": "OCR", "FI": "viitenumero"}


def _totals(plan: InvoicePlan) -> Iterator[str]:
    """The invoiced amount per currency; with ``as_of``, by state: what is issued (ready)
    apart from what waits for its issue date or for its period to end."""
    if plan.provenance.as_of is None:
        totals = ", ".join(format_money(v, k) for k, v in plan.totals().items())
        yield f"Invoiced: {totals or 'nothing'}"
        return
    labels = {
        InvoiceState.READY: "Ready to issue (issue date reached)",
        InvoiceState.SCHEDULED: "Scheduled (period ended, issue date ahead)",
        InvoiceState.OPEN: "Open (period not ended: more purchases may join)",
    }
    for state, label in labels.items():
        sums: dict[str, int] = {}
        for invoice in plan.invoices:
            if invoice.state is state:
                sums[invoice.currency] = sums.get(invoice.currency, 0) + invoice.amount
        if sums:
            amounts = ", ".join(format_money(v, k) for k, v in sorted(sums.items()))
            yield f"{label}: {amounts}"
