"""The ``ledger`` commands of the ``kravia-schedule`` command line.

Each works against ``--db PATH_OR_URL`` (a SQLite file, ``ledger.db`` by default, or a
``postgresql://`` URL) and is one ledger operation::

    kravia-schedule ledger record purchases.jsonl
    kravia-schedule ledger sync transactions.json
    kravia-schedule ledger due --as-of 2026-12-01
    kravia-schedule ledger issue --as-of 2026-12-01
    kravia-schedule ledger pay G-2026-11-… 150000 --payment-id bank-4711
    kravia-schedule ledger void txn_013
    kravia-schedule ledger refund txn_029 5000 --refund-id r-1
    kravia-schedule ledger show invoice G-2026-11-…
    kravia-schedule ledger show transaction txn_001
    kravia-schedule ledger show customer NO 923609016

Exit codes as in :mod:`kravia_schedule.cli`: 0 done (``record`` of an empty file records
nothing and says so; ``sync`` lists the copies it deferred, whose steps wait for their
grouped invoice to be issued, and counts them apart); 1 ``sync`` applied what it could
and refused some records (each listed on stderr by transaction id and field); 2 the
command could not run, with one line on stderr naming the file, record and field or the
database: refusals of the ledger (unknown ids, conflicts, illegal transitions, invalid
records), an unreadable input file, a database that cannot be opened (missing
directory, not a ledger, newer schema, unreachable server, missing ``[postgres]``
extra) or stays locked.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import sqlite3
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from kravia_schedule.errors import InvalidPurchaseError, KraviaScheduleError, LedgerConflict
from kravia_schedule.io import read_records
from kravia_schedule.ledger import ImpossibleUpdate, Ledger, LedgerInvoice, LedgerUnavailable
from kravia_schedule.ledger.backends import DEFAULT_LOCK_TIMEOUT, one_line, redacted
from kravia_schedule.report import format_money, json_default
from kravia_schedule.vat import rate_text

__all__ = ["add_commands"]

EXIT_OK, EXIT_PROBLEMS = 0, 1


class _CannotRun(KraviaScheduleError):
    """The command could not run (an unreadable input file): one line, exit 2."""


def _guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``run`` with the database driver's own errors (a file that is not a database, a
    server that went away) turned into the one-line refusal every ledger error gets."""

    @functools.wraps(run)
    def guarded(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except KraviaScheduleError:
            raise
        except (sqlite3.Error, OSError) as error:
            raise LedgerUnavailable(f"ledger {redacted(args.db)}: {one_line(error)}") from None
        except Exception as error:
            if type(error).__module__.partition(".")[0] != "psycopg":
                raise
            raise LedgerUnavailable(f"ledger {redacted(args.db)}: {one_line(error)}") from None

    return guarded


def _read(path: str) -> list[Any]:
    """Every record of ``path`` (read before the ledger is opened, so a file that cannot
    be read leaves the database untouched)."""
    try:
        return list(read_records(path))
    except KraviaScheduleError:
        raise
    except OSError as error:
        raise _CannotRun(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise _CannotRun(f"cannot read {path}: not UTF-8 text") from None
    except (ValueError, csv.Error) as error:
        raise _CannotRun(f"cannot read {path}: {error}") from None
    except RecursionError:
        raise _CannotRun(f"cannot read {path}: JSON nested too deeply") from None


def _when(text: str) -> date | datetime:
    """A date (``2026-12-01``) or an aware timestamp, read in each customer's zone; a
    timestamp without offset is refused (its local date would be a guess)."""
    try:
        if "T" not in text:
            return date.fromisoformat(text)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date (2026-12-01) or a timestamp with offset"
        ) from None
    if value.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no UTC offset: each customer's local date would be a guess; "
            f"give {text}+01:00, {text}Z or a date"
        )
    return value


def _invoice_line(invoice: LedgerInvoice) -> str:
    period = f" {invoice.period}" if invoice.period else ""
    paid = f", paid {format_money(invoice.paid, invoice.currency)}" if invoice.paid else ""
    return (
        f"{invoice.id}  {invoice.billing_address.business_name or invoice.billing_address.last_name}"
        f" ({invoice.customer.country.value}){period}: issued {invoice.issue_date}, due "
        f"{invoice.due_date}, {format_money(invoice.amount, invoice.currency)}{paid}, "
        f"{len(invoice.transaction_ids)} purchase(s)"
    )


def _invoice_details(invoice: LedgerInvoice) -> str:
    """Payment reference and last on-time day, VAT per rate, and each purchase with its
    order lines."""
    money = functools.partial(format_money, currency=invoice.currency)
    last = invoice.last_on_time_payment_date
    lines = [f"  payment reference {invoice.payment_reference}, pay by {last or '-'}"]
    for total in invoice.vat_breakdown:
        rate = "no rate" if total.rate is None else f"{rate_text(total.rate)} %"
        vat = (
            "VAT unknown"
            if total.vat is None or total.net is None
            else f"net {money(total.net)}, VAT {money(total.vat)}"
        )
        lines.append(f"  {rate}: {vat}, gross {money(total.gross)}")
    for line in invoice.lines:
        lines.append(f"  {line.transaction_id}")
        lines += [
            f"    {item.description or item.line_id or '-'}: {money(item.amount)}"
            for item in line.items
        ]
    return "\n".join(lines)


def _open(args: argparse.Namespace) -> Ledger:
    return Ledger.open(args.db, lock_timeout=args.lock_timeout)


def _record(args: argparse.Namespace) -> int:
    records = _read(args.file)
    if not records:
        print(f"kravia-schedule: warning: {args.file} holds no records", file=sys.stderr)
    skipped = 0
    with _open(args) as ledger:
        if args.skip_invalid:
            report = ledger.record_valid(records)
            for error in report.skipped:
                print(f"  skipped: {error}", file=sys.stderr)
            recorded, unchanged, skipped = report.recorded, report.unchanged, len(report.skipped)
        else:
            try:
                recorded, unchanged = ledger.record(records)
            except (InvalidPurchaseError, LedgerConflict) as error:
                raise _CannotRun(f"{args.file}: {error} (nothing recorded)") from None
    print(f"recorded {recorded} purchase(s); {unchanged} already there unchanged", end="")
    print(f"; {skipped} invalid or not new, skipped" if args.skip_invalid else "")
    return EXIT_OK


def _refusal(error: KraviaScheduleError) -> list[str]:
    """A refused record as lines naming its transaction and field."""
    if isinstance(error, InvalidPurchaseError):
        tid = error.transaction_id or "(no id)"
        return [f"{tid}: {problem.path}: {problem.message}" for problem in error.problems]
    if isinstance(error, ImpossibleUpdate):
        return [
            f"{error.transaction_id}: status: {error.from_state} -> {error.to_state} refused: "
            f"{error.reason}"
        ]
    named, field = getattr(error, "transaction_id", None), getattr(error, "field", None)
    text = str(error).removeprefix(f"transaction {named!r}: ")
    return [f"{named}: {field}: {text}" if named and field else text]


def _sync(args: argparse.Namespace) -> int:
    records = _read(args.file)
    if not records:
        print(f"kravia-schedule: warning: {args.file} holds no records", file=sys.stderr)
    with _open(args) as ledger:
        report = ledger.sync(records)
    for error in report.refused:
        for line in _refusal(error):
            print(f"  refused: {line}", file=sys.stderr)
    for tid, why in report.not_invoiced:
        print(f"  on no invoice: {tid}: {why}")
    for tid, waits in report.deferred:
        print(f"  deferred: {tid}: {waits}")
    # Deferred copies are held (among added and changed): they are no refusal.
    print(
        f"added {len(report.added)}, changed {len(report.changed)}, unchanged "
        f"{len(report.unchanged)}, deferred {len(report.deferred)}, refused "
        f"{len(report.refused)}"
    )
    return EXIT_PROBLEMS if report.refused else EXIT_OK


def _issue(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        invoices = (
            ledger.issue(args.as_of) if args.command_name == "issue" else ledger.due(args.as_of)
        )
    verb = "issued" if args.command_name == "issue" else "due"
    print(f"{len(invoices)} invoice(s) {verb} as of {args.as_of}")
    for invoice in invoices:
        print(f"  {_invoice_line(invoice)}")
    return EXIT_OK


def _pay(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        payment = ledger.pay(
            args.invoice, args.amount, payment_id=args.payment_id, method=args.method
        )
        invoice = ledger.invoice(args.invoice)
    print(f"payment {payment.id}: {format_money(payment.amount, invoice.currency)} on {invoice.id}")
    for transaction_id, part in payment.allocation:
        print(f"  {transaction_id}: {format_money(part, invoice.currency)}")
    print(f"outstanding: {format_money(invoice.outstanding, invoice.currency)}")
    return EXIT_OK


def _void(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        balance = ledger.void(args.transaction)
    print(f"{balance.transaction_id}: {balance.status.value}")
    return EXIT_OK


def _refund(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        balance = ledger.refund(args.transaction, args.amount, refund_id=args.refund_id)
    print(f"{balance.transaction_id}: {balance.status.value}, refunded {balance.refunded}")
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        if args.kind == "invoice":
            invoice = ledger.invoice(args.ids[0])
            if args.json:
                print(json.dumps(invoice, default=json_default, indent=2, ensure_ascii=False))
                return EXIT_OK
            print(_invoice_line(invoice))
            print(_invoice_details(invoice))
        elif args.kind == "transaction":
            view = ledger.transaction(args.ids[0])
            b = view.balance
            print(
                f"{b.transaction_id} {b.product_type.value}: {b.status.value}; purchased "
                f"{b.purchased}, open {b.authorized}, captured {b.captured}, voided {b.voided}, "
                f"refunded {b.refunded}"
            )
            if view.why_not_invoiced:
                print(f"  on no invoice: {view.why_not_invoiced}")
            late = " (late: moved to the next invoice)" if view.late else ""
            print(
                f"  period {view.period or '-'}, issue date {view.issue_date}{late}, invoice {view.invoice_id or '-'}"
            )
            for entry in view.history:
                amount = f" {entry.amount}" if entry.amount is not None else ""
                ref = f" [{entry.reference}]" if entry.reference else ""
                print(
                    f"  {entry.step}. {entry.action}{amount}: {entry.from_state} -> {entry.to_state}{ref}"
                )
            if view.waiting:
                print(f"  waiting for invoice {view.waits_for} to be issued:")
                for step in view.waiting:
                    print(f"    {step}")
        else:
            if len(args.ids) != 2:
                raise ValueError("show customer needs COUNTRY ORGANIZATION_NUMBER")
            open_, upcoming = ledger.customer_invoices(args.ids[0], args.ids[1])
            print(f"open invoices: {len(open_)}")
            for invoice in open_:
                print(f"  {_invoice_line(invoice)}")
            print(f"upcoming invoices: {len(upcoming)}")
            for invoice in upcoming:
                print(f"  {_invoice_line(invoice)}")
    return EXIT_OK


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``ledger`` and its subcommands to the main parser's subcommands."""
    ledger = commands.add_parser(
        "ledger",
        help="keep purchases in a ledger, issue each invoice once, take payments",
        description="Operate an invoice ledger (SQLite file or PostgreSQL URL). Each command "
        "is one transaction: it happens entirely or not at all.",
    )
    ledger.add_argument(
        "--db",
        default="ledger.db",
        metavar="PATH_OR_URL",
        help="the ledger: a SQLite file or a postgresql:// URL (default: ledger.db)",
    )
    ledger.add_argument(
        "--lock-timeout",
        type=float,
        default=DEFAULT_LOCK_TIMEOUT,
        metavar="SECONDS",
        help="give up when another writer holds the ledger longer than this "
        f"(default: {DEFAULT_LOCK_TIMEOUT:g})",
    )
    sub = ledger.add_subparsers(dest="command_name", required=True, metavar="LEDGER_COMMAND")

    record = sub.add_parser("record", help="record purchases (idempotent by transaction id)")
    record.add_argument("file", help="JSON array, JSON Lines or CSV file; - for stdin")
    record.add_argument(
        "--skip-invalid",
        action="store_true",
        help="record the valid new purchases and list the others (default: refuse the file)",
    )
    record.set_defaults(run=_guarded(_record))
    sync = sub.add_parser(
        "sync",
        help="bring the ledger to Dintero's view of transactions (idempotent, any order)",
    )
    sync.add_argument(
        "file",
        help="Dintero transactions (GET /v1/transactions array, JSON Lines, one object), "
        "webhook envelopes or flat records; - for stdin",
    )
    sync.set_defaults(run=_guarded(_sync))
    for name, text in (
        ("due", "preview the invoices issue would issue"),
        ("issue", "issue every invoice due, exactly once"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument(
            "--as-of",
            type=_when,
            required=True,
            metavar="DATE",
            help="the day to issue on (2026-12-01), or a timestamp with offset, read in each "
            "customer's time zone",
        )
        command.set_defaults(run=_guarded(_issue))
    pay = sub.add_parser(
        "pay", help="register a payment of an invoice (idempotent by --payment-id)"
    )
    pay.add_argument("invoice", help="the id of an issued grouped invoice (G-…)")
    pay.add_argument("amount", type=int, help="in minor units (øre, öre, cent)")
    pay.add_argument(
        "--payment-id",
        required=True,
        help="the payment's own id (the bank's reference): the same payment again is a no-op",
    )
    pay.add_argument(
        "--method",
        choices=["pro_rata", "oldest_first"],
        default="pro_rata",
        help="how the payment is split over the invoice's purchases (default: pro_rata)",
    )
    pay.set_defaults(run=_guarded(_pay))
    void = sub.add_parser("void", help="void an unpaid purchase before its invoice is issued")
    void.add_argument("transaction", help="the purchase's transaction id")
    void.set_defaults(run=_guarded(_void))
    refund = sub.add_parser("refund", help="refund captured money (idempotent by --refund-id)")
    refund.add_argument("transaction", help="the purchase's transaction id")
    refund.add_argument("amount", type=int, help="in minor units")
    refund.add_argument(
        "--refund-id", required=True, help="the refund's own id: the same refund again is a no-op"
    )
    refund.set_defaults(run=_guarded(_refund))
    show = sub.add_parser("show", help="an invoice, a transaction (with history) or a customer")
    show.add_argument("kind", choices=["invoice", "transaction", "customer"], help="what to show")
    show.add_argument(
        "--json",
        action="store_true",
        help="an invoice as JSON, in the form of a plan's invoices (with paid and issued)",
    )
    show.add_argument(
        "ids",
        nargs="+",
        metavar="ID",
        help="an invoice id, a transaction id, or COUNTRY ORGANIZATION_NUMBER",
    )
    show.set_defaults(run=_guarded(_show))
