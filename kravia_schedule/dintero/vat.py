"""VAT of a Dintero transaction, per order line and per rate, to the minor unit.

Where a transaction's VAT comes from, first source that gives it:

1. its order lines (``items[]``, ``OrderItem`` line 2576, and a ``shipping_option``,
   ``ShippingOption`` line 2778), when every line's VAT is known: a line's ``vat_amount``
   where given ("The VAT of the ``amount`` parameter", line 2634), else computed from
   its ``amount`` ("including VAT and discounts", line 2626) and ``vat`` percent ("Supports
   up to 2 decimal places. If the vat is 20% the number should be 20", line 2639) by
   :func:`vat_from_gross`;
2. the session's ``order.vat_amount`` (``SessionOrderUpdate.vat_amount``, line 3009),
   present with ``includes=session``;
3. a top-level ``vat_amount``, the library's own flat shape;
4. else it is unknown: ``None``, never zero.

Rounding rule (one, everywhere): the VAT in a VAT-inclusive amount ``g`` at ``r`` percent
is ``g·r/(100+r)`` rounded to the nearest minor unit, a half rounded away from zero
("round half up" on the magnitude). This is the commercial rounding that Nordic invoices
and bookkeeping use for a VAT line; unlike round-half-even it does not depend on the
parity of the digit before the half, so a reader checks a line by hand the way it is
taught. It is computed in exact integer arithmetic on the rate in hundredths of a
percent, never in floating point. A half occurs only when ``100+r`` has a factor 2 left
after cancelling, e.g. 12 %: 42 øre hold 42·12/112 = 4.5 øre of VAT, which rounds to 5.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from kravia_schedule._frozen import builder
from kravia_schedule.errors import FieldProblem, InvalidArgument
from kravia_schedule.vat import RateTotal, canonical_rate, rate_text, rate_totals

__all__ = [
    "RateTotal",
    "VatBreakdown",
    "VatLine",
    "VatSource",
    "breakdown",
    "canonical_rate",
    "check_vat_rate",
    "vat_from_gross",
]

_HUNDRED = Decimal(100)


class VatSource(StrEnum):
    """Where a VAT amount was read from."""

    ITEM = "item.vat_amount"  # the line's own vat_amount
    COMPUTED = "item.vat"  # computed from the line's amount and vat percent
    ITEMS = "items"  # the sum over order lines (each ITEM or COMPUTED)
    SESSION = "session.order.vat_amount"
    FLAT = "vat_amount"  # the flat shape's top-level vat_amount
    UNKNOWN = "unknown"


def check_vat_rate(rate: Decimal) -> str | None:
    """Why ``rate`` (a percent) is no VAT rate, or ``None`` when it is one.

    A rate has at most 2 decimals (``OrderItem.vat``, line 2639) and lies in 0..100. The
    definition gives no bound; this one refuses a value that cannot be a percent, such as
    an amount sent in the rate's place (``2500`` for 25 %).
    """
    if rate < 0 or rate > _HUNDRED:
        return f"{rate} is not a VAT percent between 0 and 100"
    if rate != rate.quantize(Decimal("0.01")):
        return f"{rate} has more than 2 decimals"
    return None


def vat_from_gross(gross: int, rate: Decimal) -> int:
    """The VAT included in ``gross`` minor units at ``rate`` percent (rule: module docstring).

    >>> vat_from_gross(12500, Decimal(25)), vat_from_gross(1000, Decimal("25.5"))
    (2500, 203)
    >>> vat_from_gross(42, Decimal(12)), vat_from_gross(-42, Decimal(12))
    (5, -5)
    """
    if isinstance(gross, bool) or not isinstance(gross, int):
        raise InvalidArgument(f"gross must be an integer in minor units, got {gross!r}")
    if not isinstance(rate, Decimal | int):
        raise InvalidArgument(f"rate must be a Decimal percent, got {rate!r}")
    problem = check_vat_rate(Decimal(rate))
    if problem is not None:
        raise InvalidArgument(problem)
    hundredths = int(rate * 100)  # exact: at most 2 decimals
    quotient, remainder = divmod(abs(gross) * hundredths, 10_000 + hundredths)
    if 2 * remainder >= 10_000 + hundredths:
        quotient += 1
    return quotient if gross >= 0 else -quotient


@dataclass(frozen=True, slots=True)
class VatLine:
    """One order line: its gross amount (VAT included), rate, VAT and description.

    ``vat`` is ``None`` when the line gives neither ``vat_amount`` nor ``vat``; ``rate``
    is ``None`` when it gives no ``vat`` percent (its ``vat_amount`` may still be known).
    ``path`` is where the line is in the transaction (``items[2]``, ``shipping_option``).
    """

    path: str
    line_id: str | None
    description: str | None
    gross: int
    rate: Decimal | None
    vat: int | None
    source: VatSource

    @property
    def net(self) -> int | None:
        return None if self.vat is None else self.gross - self.vat

    @classmethod
    def of(
        cls,
        path: str,
        gross: int,
        rate: Decimal | None,
        vat_amount: int | None,
        *,
        line_id: str | None = None,
        description: str | None = None,
    ) -> VatLine:
        """The line of an order item: its ``vat_amount`` where given, else computed."""
        new = _new_line if cls is VatLine else cls
        if vat_amount is not None:
            return new(path, line_id, description, gross, rate, vat_amount, VatSource.ITEM)
        if rate is not None:
            vat = vat_from_gross(gross, rate)
            return new(path, line_id, description, gross, rate, vat, VatSource.COMPUTED)
        return new(path, line_id, description, gross, None, None, VatSource.UNKNOWN)


#: Builds a line without the frozen ``__init__`` (see :mod:`kravia_schedule._frozen`).
_new_line = builder(VatLine)


@dataclass(frozen=True, slots=True)
class VatBreakdown:
    """A transaction's VAT: its lines, their totals per rate, and the total VAT.

    ``vat_amount`` is the transaction's VAT from the first source that gives it (see the
    module docstring) and ``source`` says which; ``None`` with ``VatSource.UNKNOWN`` when
    nothing gives it. ``problems`` are inconsistencies reported, not refused (the lines
    do not add up to the transaction's amount; a line's given VAT differs from its rate's
    by more than a rounding can explain).
    """

    lines: tuple[VatLine, ...]
    rates: tuple[RateTotal, ...]
    vat_amount: int | None
    source: VatSource
    problems: tuple[FieldProblem, ...] = ()

    @property
    def gross(self) -> int:
        """The sum of the lines' gross amounts."""
        return sum(line.gross for line in self.lines)

    def by_rate(self) -> dict[Decimal | None, tuple[int | None, int | None, int]]:
        """``rate -> (net, vat, gross)``."""
        return {total.rate: (total.net, total.vat, total.gross) for total in self.rates}

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form: rates as strings (``"25.5"``), amounts in minor units."""
        return {
            "vat_amount": self.vat_amount,
            "source": self.source.value,
            "rates": [t.to_dict() for t in self.rates],
            "lines": [
                {
                    "line_id": line.line_id,
                    "description": line.description,
                    "gross": line.gross,
                    "rate": rate_text(line.rate),
                    "vat": line.vat,
                    "source": line.source.value,
                }
                for line in self.lines
            ],
        }


def breakdown(
    lines: Iterable[VatLine],
    *,
    amount: int | None = None,
    session_vat_amount: int | None = None,
    flat_vat_amount: int | None = None,
) -> VatBreakdown:
    """The VAT breakdown of ``lines`` and the transaction's VAT (module docstring).

    ``amount`` is the transaction's total; when given and the lines (if any) sum to
    another amount, that is reported in ``problems`` (path ``items``): a partial payment
    (``SessionOrderUpdate.partial_payment``, line 3030) or an inconsistent order.
    """
    lines = tuple(lines)
    problems: list[FieldProblem] = []
    for line in lines:
        if line.source is VatSource.ITEM and line.rate is not None:
            expected = vat_from_gross(line.gross, line.rate)
            if abs(expected - (line.vat or 0)) > 1:
                problems.append(
                    FieldProblem(
                        f"{line.path}.vat_amount",
                        f"{line.vat} differs from the {line.rate} % of {line.gross} "
                        f"({expected}) by more than a rounding",
                    )
                )
    gross = sum(line.gross for line in lines)
    if lines and amount is not None and gross != amount:
        problems.append(
            FieldProblem("items", f"the order lines sum to {gross}, the amount is {amount}")
        )
    if lines and all(line.vat is not None for line in lines):
        total: int | None = sum(line.vat or 0 for line in lines)
        source = VatSource.ITEMS
    elif session_vat_amount is not None:
        total, source = session_vat_amount, VatSource.SESSION
    elif flat_vat_amount is not None:
        total, source = flat_vat_amount, VatSource.FLAT
    else:
        total, source = None, VatSource.UNKNOWN
    rates = rate_totals((line.rate, line.vat, line.gross) for line in lines)
    return VatBreakdown(lines, rates, total, source, tuple(problems))
