"""Days the Bank of Finland announced payment systems closed: velkakirjalaki 5 § 2 mom.

Since 1 November 1999 (law 958/1999) a Finnish due date also moves to the next weekday
when it falls on a day on which, by a notice of the Bank of Finland published in the
Statute Book (Suomen säädöskokoelma), the payment systems banks generally use between
them are not in use because of a decision of the European Central Bank or the Bank of
Finland. Those days cannot be derived from a holiday calendar; they are data, one row per
notice: :data:`FI_PAYMENT_SYSTEM_CLOSURES`. The Finnish ``payment`` calendar
(:class:`~kravia_schedule.calendar.BusinessCalendar` with ``kind="payment"``, and so
:func:`~kravia_schedule.statutory.last_on_time_payment_date`) closes them.

What could be verified, and what not:

* Verified: the notice 998/1999 (given 1 November 1999, Statute Book issue 118/1999,
  published 3 November 1999; Finlex, ``finlex.fi/sv/laki/alkup/1999/19990998``): by the
  ECB's decision of 8 April 1999 and the Bank of Finland's of 16 April 1999 the payment
  systems are not in use on Friday 31 December 1999, the Y2K changeover (the ECB's press
  release of 31 March 1999 closed TARGET and every national euro RTGS system that day;
  its release of 3 January 2000 reports all systems open again that Monday). The law's
  text is 958/1999 (Finlex ``finlex.fi/sv/laki/alkup/1999/19990958``, government bill
  HE 52/1999, which names this closure as its reason).
* Not needing a notice: TARGET's closing days since 2000 (ECB press releases of
  15 July 1999 for 2000 and 14 December 2000 for 2002 onwards; TARGET2 and T2 kept
  them): New Year's Day, Good Friday, Easter Monday, 1 May, 25 and 26 December. Each is
  already a Finnish public holiday or named in 5 § itself, so the Finnish payment
  calendar closes it anyway (``tests/test_payment_closures.py`` checks 2000-2100).
* Not found: any other notice under 5 § 2 mom. in the sources searched (Finlex, the
  Bank of Finland's and the ECB's press releases). 2001's TARGET calendar, and whether
  31 December 2001 (the euro cash changeover) was closed by a Finnish notice, could not
  be confirmed, so it is not in the table. A notice found later is one more row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from kravia_schedule.countries import Country

__all__ = ["FI_PAYMENT_SYSTEM_CLOSURES", "PaymentSystemClosure", "payment_system_closures"]


@dataclass(frozen=True, slots=True)
class PaymentSystemClosure:
    """A day a notice closed the payment systems, why, and where the notice is."""

    day: date
    reason: str
    notice: str
    source: str

    @property
    def name(self) -> str:
        """How the day is named in a calendar: ``"Payment systems closed (...)"``."""
        return f"Payment systems closed ({self.reason}; {self.notice})"


FI_PAYMENT_SYSTEM_CLOSURES: tuple[PaymentSystemClosure, ...] = (
    PaymentSystemClosure(
        day=date(1999, 12, 31),
        reason="Y2K changeover",
        notice="Bank of Finland notice 998/1999",
        source="https://www.finlex.fi/sv/laki/alkup/1999/19990998",
    ),
)
"""Days the Bank of Finland announced the payment systems closed, oldest first."""

_BY_COUNTRY: dict[Country, tuple[PaymentSystemClosure, ...]] = {
    Country.FI: FI_PAYMENT_SYSTEM_CLOSURES,
}


def payment_system_closures(country: Country, year: int) -> Mapping[date, str]:
    """The announced closures in ``country`` in ``year``, each day with its name.

    Only Finland's rule counts such days (the Norwegian and Swedish rules this library
    applies name fixed days only), so other countries have none.
    """
    return MappingProxyType(
        {c.day: c.name for c in _BY_COUNTRY.get(country, ()) if c.day.year == year}
    )
