"""The ``kravia-schedule`` command line (also ``python -m kravia_schedule``).

Exit codes: 0 success; 1 the input had problems (with ``--strict``: rejected records,
or an input that holds no records at all; an invalid configuration for ``check-config``);
2 the command could not run (bad arguments; a file missing, unreadable, a directory,
binary or not valid as a whole, such as a truncated JSON array or a CSV header naming a
column twice; an invalid configuration for ``plan``; a missing optional extra; dates
beyond what can be represented). Every error is one line on stderr, never a traceback;
a bad record or line is a rejection in the plan, naming its line or record and field.

``plan`` on an input without any record (an empty file, a CSV header alone, ``[]``)
prints the empty plan and says so on stderr; with ``--strict`` it exits with status 1,
so that an empty export upstream cannot pass for a billing run with nothing to bill.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from kravia_schedule._version import __version__
from kravia_schedule.calendar import (
    HOLIDAYS_VERSION,
    BusinessCalendar,
    CalendarKind,
    DateRoll,
    describe_skipped,
)
from kravia_schedule.cli_identifiers import add_commands as add_identifier_commands
from kravia_schedule.cli_ledger import add_commands as add_ledger_commands
from kravia_schedule.config import B2B_USUAL_MAX_DAYS, KraviaConfig, parse_configuration
from kravia_schedule.countries import Country
from kravia_schedule.dates import (
    DEFAULT_DAYS_UNTIL_DUE,
    check_days_until_due,
    grouped_invoice_dates,
    local_date,
    period_invoice_dates,
    standard_invoice_dates,
)
from kravia_schedule.errors import ConfigurationError, KraviaScheduleError
from kravia_schedule.invoices import InvoicePlan
from kravia_schedule.io import read_json_file, read_records
from kravia_schedule.periods import Interval, periods_in_year
from kravia_schedule.planning import plan_invoices
from kravia_schedule.report import plan_to_json, write_csv, write_table
from kravia_schedule.text import printable

__all__ = ["main"]

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class _UsageError(Exception):
    """A problem with the command itself: printed without a traceback, exit 2."""


def _when(text: str) -> date | datetime:
    """A date (``2025-01-31``) or an aware timestamp (``2025-01-31T23:30:00Z``)."""
    try:
        if "T" in text or " " in text.strip():
            value = datetime.fromisoformat(text)
            if value.utcoffset() is None:
                raise argparse.ArgumentTypeError(
                    f"{text!r} has no UTC offset; add one (e.g. Z or +01:00) or give a date"
                )
            return value
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date or timestamp") from None


def _year(text: str) -> int:
    try:
        year = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year") from None
    if not 1 <= year <= 9999:
        raise argparse.ArgumentTypeError(f"{year} is not a year from 1 to 9999")
    return year


def _days(text: str) -> int:
    try:
        return check_days_until_due(int(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kravia-schedule",
        description="Plan Kravia invoices: which purchases go on which invoice, and when "
        "each invoice is issued and due (Norway, Sweden, Finland).",
        epilog="Examples:\n"
        "  kravia-schedule plan examples/purchases.jsonl --config examples/config.json\n"
        "  kravia-schedule dates 2021-02-10 --country NO --interval quarterly\n"
        "  kravia-schedule calendar 2025 --country SE --interval monthly\n"
        "  kravia-schedule check-config examples/config.json\n"
        "  kravia-schedule check-id NO 923609016\n"
        "  kravia-schedule reference kid 1234567 --mod 11",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {__version__} (holidays {HOLIDAYS_VERSION})",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def calendar_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--calendar",
            choices=[k.value for k in CalendarKind],
            default=CalendarKind.PUBLIC.value,
            help="which days close: public holidays (default), bank days (adds e.g. "
            "Christmas Eve), or the statutory payment days",
        )
        sub.add_argument(
            "--weekends-only",
            action="store_true",
            help="only Saturday and Sunday move a date (ignore holidays)",
        )

    def country_period_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--country",
            required=True,
            choices=[c.value for c in Country],
            type=str.upper,
            help="the customer's country: its time zone gives the local date, its "
            "holidays the business days",
        )
        sub.add_argument(
            "--interval",
            choices=[i.value for i in Interval],
            default="monthly",
            help="billing period of grouped invoices (default: monthly)",
        )
        sub.add_argument(
            "--days-until-due",
            type=_days,
            default=DEFAULT_DAYS_UNTIL_DUE,
            metavar="N",
            help=f"days from issue to due date, 0-365 (default: {DEFAULT_DAYS_UNTIL_DUE})",
        )

    plan = commands.add_parser(
        "plan",
        help="plan the invoices for a file of purchases",
        description="Read purchases (Dintero transactions) and print the invoices they go on, "
        "the purchases that are skipped (voided, disabled type, ...) and the records rejected "
        "as invalid. Without --config all three product types are enabled with the defaults.",
    )
    plan.add_argument("file", help="JSON array, JSON Lines or CSV file of purchases; - for stdin")
    plan.add_argument("--config", metavar="FILE", help="Kravia configuration (JSON)")
    plan.add_argument(
        "--interval", choices=[i.value for i in Interval], help="override the grouped interval"
    )
    plan.add_argument(
        "--days-until-due",
        type=_days,
        metavar="N",
        help="override days_until_due (0-365) for every type",
    )
    plan.add_argument(
        "--as-of",
        type=_when,
        metavar="DATE",
        help="give each invoice a state (open, scheduled, ready) on this date",
    )
    plan.add_argument(
        "--format",
        choices=["table", "json", "csv"],
        default="table",
        help="output format (default: table)",
    )
    plan.add_argument(
        "--input-format",
        choices=["json", "jsonl", "csv"],
        help="input format (default: from the file name)",
    )
    plan.add_argument(
        "--strict",
        action="store_true",
        help="reject a transaction whose VAT nothing gives (otherwise planned with its VAT "
        "unknown), and exit with status 1 when any record is rejected or the input holds "
        "no records",
    )
    plan.add_argument(
        "--check-digits", action="store_true", help="also verify organization-number check digits"
    )
    plan.add_argument("--due-date-rule", choices=[DateRoll.UNADJUSTED.value, DateRoll.FOLLOWING.value], default="unadjusted", help="move due dates on non-business days forward ('following')")  # fmt: skip
    calendar_options(plan)
    plan.add_argument(
        "--engine",
        choices=["core", "columnar"],
        default="core",
        help="columnar: plan a Parquet/CSV/JSONL file with Polars (the [columnar] extra); "
        "the same plan, faster on large files",
    )
    shown = plan.add_mutually_exclusive_group()
    shown.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="show a progress bar on stderr (default: when stderr is a terminal and the "
        "run takes more than a second; needs the [cli] extra: tqdm)",
    )
    shown.add_argument(
        "--quiet", dest="progress", action="store_false", help="never show a progress bar"
    )
    plan.set_defaults(run=_cmd_plan)

    dates = commands.add_parser(
        "dates",
        help="issue and due date for one purchase date, with every skipped day explained",
        description="Show the billing period, issue date and due date of the invoice a "
        "purchase made on DATE lands on, and why the issue date moved.",
    )
    dates.add_argument(
        "date",
        type=_when,
        help="purchase date (2025-01-31) or aware timestamp (2025-01-31T23:30:00Z)",
    )
    country_period_options(dates)
    dates.add_argument(
        "--standard",
        action="store_true",
        help="a standard invoice, issued on the purchase date (default: grouped, issued "
        "after the billing period)",
    )
    dates.add_argument("--due-date-rule", choices=[DateRoll.UNADJUSTED.value, DateRoll.FOLLOWING.value], default="unadjusted", help="move a due date on a non-business day forward ('following'; default: unadjusted)")  # fmt: skip
    calendar_options(dates)
    dates.set_defaults(run=_cmd_dates)

    cal = commands.add_parser(
        "calendar",
        help="every grouped issue date of a year, with why it moved",
        description="List the billing periods of YEAR with the issue date of each, and the "
        "days skipped to reach it.",
    )
    cal.add_argument("year", type=_year, help="the year whose billing periods to list (1-9999)")
    country_period_options(cal)
    calendar_options(cal)
    cal.set_defaults(run=_cmd_calendar)

    add_identifier_commands(commands)
    add_ledger_commands(commands)

    check = commands.add_parser(
        "check-config",
        help="validate a Kravia configuration file",
        description="Validate a configuration (the seeds' `configuration` object, its `kravia` "
        "member, or a whole session body). Prints the effective settings, or each problem "
        "with its JSON path (exit status 1).",
    )
    check.add_argument("file", help="JSON file; - for stdin")
    check.set_defaults(run=_cmd_check_config)
    return parser


def _load_config(path: str | None) -> KraviaConfig:
    if path is None:
        return KraviaConfig.all_enabled()
    return parse_configuration(_read_json(path))


def _cannot_read(path: str, error: OSError) -> _UsageError:
    return _UsageError(f"cannot read {path}: {error.strerror or error}")


def _read_json(path: str) -> Any:
    """The JSON document in ``path``; an unreadable, binary, empty or invalid file is a
    usage error (the :class:`~kravia_schedule.io.InputFileError` names the file)."""
    try:
        return read_json_file(path)
    except OSError as error:
        raise _cannot_read(path, error) from None


def _with_progress(records: Iterator[Any], wanted: bool | None) -> Iterable[Any]:
    """``records``, counted on a progress bar on stderr when wanted (tqdm, optional)."""
    if wanted is False or (wanted is None and not sys.stderr.isatty()):
        return records
    try:
        from tqdm import tqdm
    except ImportError:
        if wanted:
            print(
                "kravia-schedule: --progress needs tqdm: pip install 'kravia-schedule[cli]'",
                file=sys.stderr,
            )
        return records
    bar: Iterable[Any] = tqdm(
        records,
        desc="planning",
        unit=" purchases",
        unit_scale=True,
        file=sys.stderr,
        delay=0 if wanted else 1.0,
        disable=False,
    )
    return bar


def _plan_columnar(
    args: argparse.Namespace, config: KraviaConfig, options: dict[str, Any]
) -> InvoicePlan:
    """The same plan through the Polars engine (the [columnar] extra), for a file path."""
    if args.file == "-" or args.input_format == "json":
        raise _UsageError("--engine columnar reads a Parquet, CSV or JSONL file path")
    try:
        from kravia_schedule.columnar import plan_file
    except ImportError as error:
        raise _UsageError(str(error)) from None
    from polars.exceptions import PolarsError

    try:
        return plan_file(args.file, config, **options)
    except ImportError as error:  # pyarrow, for JSON Lines, is imported when first needed
        raise _UsageError(str(error)) from None
    except PolarsError as error:  # e.g. a file named .parquet that is no Parquet file
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise _UsageError(f"cannot read {args.file}: {first}") from None


def _cmd_plan(args: argparse.Namespace) -> int:
    config = _load_config(args.config).with_overrides(
        interval=args.interval, days_until_due=args.days_until_due
    )
    options: dict[str, Any] = {
        "as_of": args.as_of,
        "strict": args.check_digits,
        "weekends_only": args.weekends_only,
        "due_date_rule": args.due_date_rule,
        "calendar_kind": args.calendar,
        "require_vat": args.strict,
    }
    try:
        if args.engine == "columnar":
            plan = _plan_columnar(args, config, options)
        else:
            records = _with_progress(read_records(args.file, args.input_format), args.progress)
            plan = plan_invoices(records, config, **options)
    except OSError as error:
        raise _cannot_read(args.file, error) from None
    if args.format == "json":
        sys.stdout.write(plan_to_json(plan))
    else:
        (write_table if args.format == "table" else write_csv)(plan, sys.stdout)
    for warning in plan.warnings:
        print(f"kravia-schedule: warning: {warning}", file=sys.stderr)
    if plan.rejected:
        print(f"kravia-schedule: {len(plan.rejected)} record(s) rejected", file=sys.stderr)
        if args.strict:
            return EXIT_PROBLEMS
    if not (plan.invoices or plan.skipped or plan.rejected):
        level = "error" if args.strict else "warning"
        print(f"kravia-schedule: {level}: {args.file} holds no purchase records", file=sys.stderr)
        if args.strict:
            return EXIT_PROBLEMS
    return EXIT_OK


def _out_of_range(when: object) -> _UsageError:
    return _UsageError(
        f"{when}: the dates it leads to fall outside 0001-01-01 to 9999-12-31, "
        "the dates that can be represented"
    )


def _cmd_dates(args: argparse.Namespace) -> int:
    calendar = BusinessCalendar(args.country, kind=args.calendar, weekends_only=args.weekends_only)
    options = {"days_until_due": args.days_until_due, "due_date_rule": args.due_date_rule}
    # The library raises OverflowError (not one of its own errors) for a date whose
    # period, issue or due date passes the end of the calendar.
    try:
        if args.standard:
            result = standard_invoice_dates(
                args.date, country=args.country, calendar=calendar, **options
            )
        else:
            result = grouped_invoice_dates(
                args.date,
                country=args.country,
                interval=args.interval,
                calendar=calendar,
                **options,
            )
        day = local_date(args.date, args.country)
    except OverflowError:
        raise _out_of_range(args.date.isoformat()) from None
    if not args.standard and args.days_until_due > B2B_USUAL_MAX_DAYS:
        print(
            f"kravia-schedule: warning: {args.days_until_due} days exceeds the "
            f"{B2B_USUAL_MAX_DAYS} days a B2B payment term may run without express agreement",
            file=sys.stderr,
        )
    print(f"purchase date:  {day} ({day.strftime('%A')}) in {args.country}")
    if result.period is not None:
        period = result.period
        print(
            f"billing period: {period.label} ({period.start} to {period.end}, {period.interval.value})"
        )
        for skipped in result.issue_skipped:
            print(f"  skipped {skipped}")
    issue = result.issue_date
    print(f"issue date:     {issue} ({issue.strftime('%A')})")
    for skipped in result.due_skipped:
        print(f"  due date moved past {skipped}")
    due = result.due_date
    print(f"due date:       {due} ({due.strftime('%A')}), {result.days_until_due} days after issue")
    deadline = result.payment_deadline
    if deadline is None:
        print("last on-time payment: unknown (no holiday data for that year)")
    else:
        print(f"last on-time payment: {deadline.explain()}")
    return EXIT_OK


def _cmd_calendar(args: argparse.Namespace) -> int:
    calendar = BusinessCalendar(args.country, kind=args.calendar, weekends_only=args.weekends_only)
    lines = [f"{args.interval} grouped invoices for {args.country} customers, periods of {args.year}:"]  # fmt: skip
    try:  # all lines made before any is printed: an error leaves no partial calendar
        for period in periods_in_year(args.year, args.interval):
            dates = period_invoice_dates(period, calendar, args.days_until_due)
            moved = (
                f"  moved past {describe_skipped(dates.issue_skipped)}"
                if dates.issue_skipped
                else ""
            )
            lines.append(
                f"  {period.label:<8} issued {dates.issue_date} {dates.issue_date.strftime('%a')}"
                f"  due {dates.due_date}{moved}"
            )
    except OverflowError:  # as in _cmd_dates: December 9999 is issued in year 10000
        raise _out_of_range(args.year) from None
    print("\n".join(lines))
    return EXIT_OK


def _cmd_check_config(args: argparse.Namespace) -> int:
    try:
        config = parse_configuration(_read_json(args.file))
    except ConfigurationError as error:
        print(f"{printable(args.file)}: {len(error.problems)} problem(s)", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem.path}: {problem.message}", file=sys.stderr)
        return EXIT_PROBLEMS
    for warning in config.warnings():
        print(f"  warning: {warning.path}: {warning.message}", file=sys.stderr)
    print(f"{printable(args.file)}: valid. Effective configuration:")
    print(json.dumps(config.to_dict(), indent=2))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.run(args)
    except (_UsageError, KraviaScheduleError, ValueError) as error:
        print(f"kravia-schedule: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. `kravia-schedule plan big.jsonl | head`
        sys.stderr.close()
        return EXIT_OK
    return status
