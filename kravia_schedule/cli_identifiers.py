"""The ``check-id`` and ``reference`` commands of the ``kravia-schedule`` command line.

:func:`add_commands` adds them to the main parser's subcommands; each sets ``run`` to a
function of the parsed arguments that returns the exit status, as :mod:`kravia_schedule.cli`
expects. Exit codes as there: 0 valid (or generated); 1 the number, reference or base is
invalid; 2 the command could not run (bad arguments).

Examples::

    kravia-schedule check-id NO 923609016
    kravia-schedule check-id SE 811228-9874 --strict
    kravia-schedule reference kid 1234567 --mod 11
    kravia-schedule reference fi 12345672 --check
"""

from __future__ import annotations

import argparse
import sys

from kravia_schedule.errors import InvalidIdentifier
from kravia_schedule.identifiers import (
    format_org_number,
    se_orgnr,
    validate_org_number,
)
from kravia_schedule.references import Scheme, generate_reference, validate_reference

__all__ = ["add_commands"]

# The values kravia_schedule.cli uses; not imported from it, because it imports this module.
EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

_COUNTRIES = ("NO", "SE", "FI")
_SCHEMES = {
    "kid": Scheme.KID10,  # --mod 11 selects Scheme.KID11
    "ocr": Scheme.OCR,
    "ocr-length": Scheme.OCR_LENGTH,
    "fi": Scheme.FI,
    "rf": Scheme.RF,
}
_LABELS = {
    Scheme.KID10: "KID (MOD10)",
    Scheme.KID11: "KID (MOD11)",
    Scheme.OCR: "OCR number",
    Scheme.OCR_LENGTH: "OCR number with length digit",
    Scheme.FI: "Finnish reference number",
    Scheme.RF: "RF creditor reference",
}


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``check-id`` and ``reference`` to the subcommands of the main parser."""
    check_id = commands.add_parser(
        "check-id",
        help="check an organization number and show its canonical and printed forms",
        description="Check the organization number NUMBER of COUNTRY (NO, SE, FI): print its "
        "canonical and printed forms, for SE whether it is an organization number, a "
        "personnummer or a samordningsnummer (sole traders), and whether the check digit "
        "holds. Exit status 1 if the number is malformed, or with --strict if the check "
        "digit (or a Swedish personnummer's date) fails.",
    )
    check_id.add_argument(
        "country",
        choices=_COUNTRIES,
        type=str.upper,
        metavar="COUNTRY",
        help="NO, SE or FI",
    )
    check_id.add_argument(
        "number",
        metavar="NUMBER",
        help="the organization number, in any usual spelling (923 609 016 MVA, 556036-0793)",
    )
    check_id.add_argument(
        "--strict",
        action="store_true",
        help="a failing check digit makes the number invalid (exit status 1)",
    )
    check_id.set_defaults(run=_cmd_check_id)

    reference = commands.add_parser(
        "reference",
        help="generate or check a payment reference (KID, OCR, Finnish, RF)",
        description="Generate the payment reference for BASE under SCHEME (append the check "
        "digit; for RF prefix RF and the check digits), or with --check validate VALUE. "
        "Schemes: kid (Norwegian KID, --mod 10 or 11), ocr and ocr-length (Swedish OCR "
        "number, without or with length digit), fi (Finnish reference number), rf (ISO 11649).",
    )
    reference.add_argument(
        "scheme",
        choices=list(_SCHEMES),
        type=str.lower,
        metavar="SCHEME",
        help=", ".join(_SCHEMES),
    )
    reference.add_argument(
        "value",
        metavar="BASE|VALUE",
        help="the base to append check digits to, or with --check the reference to validate",
    )
    reference.add_argument(
        "--mod", type=int, choices=[10, 11], help="KID check digit: MOD10 (default) or MOD11"
    )
    reference.add_argument(
        "--check", action="store_true", help="validate VALUE instead of generating from BASE"
    )
    reference.set_defaults(run=_cmd_reference)


def _cmd_check_id(args: argparse.Namespace) -> int:
    country: str = args.country
    try:
        canonical = validate_org_number(country, args.number)
    except InvalidIdentifier as error:
        print(f"kravia-schedule: invalid {country} organization number: {error}", file=sys.stderr)
        return EXIT_PROBLEMS
    try:
        validate_org_number(country, args.number, strict=True)
        check = "holds"
    except InvalidIdentifier as error:
        check = f"fails: {error}"
        if args.strict:
            print(f"kravia-schedule: invalid {country} organization number: {error}", file=sys.stderr)  # fmt: skip
            return EXIT_PROBLEMS
        check += " (not required without --strict)"
    print(f"country:      {country}")
    print(f"canonical:    {canonical}")
    print(f"formatted:    {format_org_number(country, canonical)}")
    if country == "SE":
        print(f"kind:         {se_orgnr.kind(canonical)}")
    print(f"check digit:  {check}")
    return EXIT_OK


def _cmd_reference(args: argparse.Namespace) -> int:
    scheme = _SCHEMES[args.scheme]
    if args.mod is not None:
        if scheme is not Scheme.KID10:
            print(f"kravia-schedule: error: --mod applies to kid only, not {args.scheme}", file=sys.stderr)  # fmt: skip
            return EXIT_USAGE
        scheme = Scheme.KID11 if args.mod == 11 else Scheme.KID10
    try:
        if args.check:
            canonical = validate_reference(scheme, args.value)
        else:
            print(generate_reference(scheme, args.value))
            return EXIT_OK
    except InvalidIdentifier as error:
        what = "" if args.check else "cannot generate: "
        print(f"kravia-schedule: {what}invalid {_LABELS[scheme]}: {error}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"{canonical}: valid {_LABELS[scheme]}")
    return EXIT_OK
