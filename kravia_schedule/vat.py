"""VAT on an invoice: the order lines a purchase carries and the totals per rate.

Nordic invoices show their VAT per rate (net, VAT and gross of each rate). An invoice
line is one purchase; a purchase read from Dintero's shape keeps its order lines
(:class:`InvoiceItem`: description, gross amount, rate, VAT), the flat shape has none.

How a line's money is split over rates (:func:`line_shares`): by its items when they
account for the whole line (their amounts add up to the line's amount and their VAT to
the line's VAT); otherwise, as one share at an unspecified rate (``None``) holding the
line's amount and VAT, so that the totals per rate always add up to the invoice's amount
and VAT to the minor unit. A share whose VAT is unknown makes its rate's VAT and net
unknown (``None``), never zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from kravia_schedule.errors import InvalidArgument

__all__ = [
    "InvoiceItem",
    "RateTotal",
    "canonical_rate",
    "line_shares",
    "rate_text",
    "rate_totals",
    "vat_breakdown",
]

#: One share of money at one rate: ``(rate, vat, gross)``; ``rate`` ``None`` when not given.
Share = tuple[Decimal | None, int | None, int]


class InvoiceItem(NamedTuple):
    """One order line of a purchase (``items[]`` of a Dintero transaction).

    ``amount`` is gross (VAT included), in minor units; ``vat_rate`` a percent; either
    VAT field is ``None`` when the transaction does not give it.
    """

    line_id: str | None
    description: str | None
    amount: int
    vat_rate: Decimal | None
    vat_amount: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the rate as text (:func:`rate_text`), amounts in minor units."""
        return {
            "line_id": self.line_id,
            "description": self.description,
            "amount": self.amount,
            "vat_rate": rate_text(self.vat_rate),
            "vat_amount": self.vat_amount,
        }


@dataclass(frozen=True, slots=True)
class RateTotal:
    """The money of one rate summed: ``net + vat == gross`` (both ``None`` when a share of
    this rate has no known VAT). ``rate`` ``None`` gathers money that gives no percent."""

    rate: Decimal | None
    net: int | None
    vat: int | None
    gross: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the rate as a string (``"25.5"``), amounts in minor units."""
        return {"rate": rate_text(self.rate), "net": self.net, "vat": self.vat, "gross": self.gross}


def canonical_rate(rate: Decimal) -> Decimal:
    """``rate`` without trailing zeros or exponent: ``25.50`` → ``25.5``, ``10.0`` → ``10``
    (``Decimal.normalize`` alone would give ``1E+1``), so that equal rates print alike.

    >>> canonical_rate(Decimal("25.50")), canonical_rate(Decimal("10.0"))
    (Decimal('25.5'), Decimal('10'))
    """
    normal = rate.normalize()
    exponent = normal.as_tuple().exponent
    return normal.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else normal


def rate_text(rate: Decimal | None) -> str | None:
    """A rate as it is printed and written to JSON: exact, without trailing zeros or an
    exponent; ``None`` for no stated rate.

    >>> rate_text(Decimal("25.50")), rate_text(Decimal("1E+1")), rate_text(None)
    ('25.5', '10', None)
    """
    return None if rate is None else f"{canonical_rate(rate):f}"


def rate_totals(shares: Iterable[Share]) -> tuple[RateTotal, ...]:
    """``shares`` summed per rate, highest rate first, the unspecified rate last.

    >>> [(t.rate, t.net, t.vat, t.gross) for t in rate_totals(
    ...     [(Decimal(25), 200, 1000), (Decimal("15.00"), 13, 100), (Decimal(25), 100, 500)])]
    [(Decimal('25'), 1200, 300, 1500), (Decimal('15'), 87, 13, 100)]
    >>> rate_totals([(None, None, 700), (None, 10, 300)])[0]
    RateTotal(rate=None, net=None, vat=None, gross=1000)
    """
    gross: dict[Decimal | None, int] = {}
    vat: dict[Decimal | None, int | None] = {}
    for rate, share_vat, share_gross in shares:
        # Decimal("25") == Decimal("25.00") and they hash alike: one key per rate.
        key = None if rate is None else canonical_rate(rate)
        gross[key] = gross.get(key, 0) + share_gross
        so_far = vat.get(key, 0)
        vat[key] = None if so_far is None or share_vat is None else so_far + share_vat
    order = sorted((k for k in gross if k is not None), reverse=True)
    keys = [*order, None] if None in gross else order
    totals = []
    for key in keys:
        key_vat = vat[key]
        net = None if key_vat is None else gross[key] - key_vat
        totals.append(RateTotal(key, net, key_vat, gross[key]))
    return tuple(totals)


def line_shares(
    amount: int, vat_amount: int | None, items: tuple[InvoiceItem, ...]
) -> Iterator[Share]:
    """How one line's money splits over rates (module docstring).

    >>> items = (InvoiceItem("1", "Paper", 1000, Decimal(25), 200),
    ...          InvoiceItem("2", "Book", 500, Decimal(0), 0))
    >>> list(line_shares(1500, 200, items))
    [(Decimal('25'), 200, 1000), (Decimal('0'), 0, 500)]
    >>> list(line_shares(1600, 200, items))  # the items do not account for the amount
    [(None, 200, 1600)]
    >>> list(line_shares(1600, None, ()))
    [(None, None, 1600)]
    """
    if items and _accounts_for(amount, vat_amount, items):
        for item in items:
            yield item.vat_rate, item.vat_amount, item.amount
    else:
        yield None, vat_amount, amount


def _accounts_for(amount: int, vat_amount: int | None, items: tuple[InvoiceItem, ...]) -> bool:
    if vat_amount is None or sum(item.amount for item in items) != amount:
        return False
    vats = [item.vat_amount for item in items]
    return None not in vats and sum(v for v in vats if v is not None) == vat_amount


def vat_breakdown(lines: Iterable[Any]) -> tuple[RateTotal, ...]:
    """The totals per rate of invoice ``lines`` (anything with ``amount``, ``vat_amount``
    and ``items``): they add up to the lines' amount, and to their VAT when it is known."""
    try:
        return rate_totals(
            share
            for line in lines
            for share in line_shares(line.amount, line.vat_amount, line.items)
        )
    except (AttributeError, TypeError) as error:
        raise InvalidArgument(f"vat_breakdown takes invoice lines: {error}") from None
