"""Hypothesis strategies and a plan invariant checker, for this and other test suites.

Install with the ``testing`` extra, which adds Hypothesis and nothing else::

    pip install 'kravia-schedule[testing]'

The strategies draw Dintero-shaped purchase dicts from a small pool of customers (so
grouping really happens), with spelling variants of the same customer, every
:class:`~kravia_schedule.purchases.TransactionStatus` and
:class:`~kravia_schedule.config.ProductType`, several currencies, and optionally invalid
records and records sent twice. Each strategy can be steered: ``countries=``,
``product_types=``, ``statuses=`` (members or their string values), ``min_date=`` and
``max_date=``; :func:`purchase_batches` also takes ``intervals=``, ``config=`` and
``customers=``. :func:`check_plan` asserts every invariant of a plan and names the
record, the expected and the actual value when one is broken.

Recipe for an external suite
----------------------------
Use :data:`RECOMMENDED_SETTINGS` (or the same two settings in your own profile):

* ``deadline=None``: the first example of a run loads holiday data and builds the
  calendars, which takes longer than Hypothesis' default 200 ms deadline on a busy
  machine; a ``DeadlineExceeded`` (or "Unreliable test timings") would then be reported
  beside, or instead of, the real failure. If you want a deadline, make it generous
  (seconds, not milliseconds).
* ``suppress_health_check=[HealthCheck.too_slow]``: a batch draws many values.

Raise ``max_examples`` with ``settings(RECOMMENDED_SETTINGS, max_examples=...)``. A test
of a billing service that plans Swedish grouped purchases, quarterly:

>>> from hypothesis import given
>>> from kravia_schedule import plan_invoices
>>> from kravia_schedule.testing import RECOMMENDED_SETTINGS, check_plan, purchase_batches
>>> @RECOMMENDED_SETTINGS
... @given(purchase_batches(countries=["SE"], product_types=["kravia.invoice_b2b_grouped"],
...                         intervals=["quarterly"], max_size=10))
... def test_my_billing_service(batch):
...     plan = plan_invoices(batch.records, batch.config)  # or your service's own call
...     check_plan(plan, batch.records)
...     assert all(i.period is None or i.period.label[5] == "Q" for i in plan.invoices)
>>> test_my_billing_service()

A wrapper that splits a batch into parts and merges their plans with
:func:`~kravia_schedule.planning.merge_plans` must keep every copy of a transaction id in
one part, or draw batches with ``duplicates=False`` (see :func:`purchase_batches`).
"""

from __future__ import annotations

import random as _random
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum
from typing import Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

try:
    from hypothesis import HealthCheck, assume, settings
    from hypothesis import strategies as st
    from hypothesis.errors import InvalidArgument
except ImportError as error:  # pragma: no cover - only without the extra
    raise ImportError(
        "kravia_schedule.testing needs hypothesis: pip install 'kravia-schedule[testing]'"
    ) from error

from kravia_schedule import rules
from kravia_schedule.address import validate_billing_address
from kravia_schedule.calendar import BusinessCalendar
from kravia_schedule.config import KraviaConfig, ProductType, parse_configuration
from kravia_schedule.countries import Country, parse_country
from kravia_schedule.customers import customer_key
from kravia_schedule.dates import day_invoice_dates, local_date, period_invoice_dates
from kravia_schedule.errors import InvalidBillingAddress, InvalidPurchaseError
from kravia_schedule.identifiers import fi_ytunnus, no_orgnr, se_orgnr
from kravia_schedule.invoices import Invoice, InvoicePlan, InvoiceState, SkipReason
from kravia_schedule.periods import Interval, billing_period
from kravia_schedule.purchases import (
    ForeignRow,
    Purchase,
    RecordReader,
    TransactionStatus,
    parse_purchase,
)

__all__ = [
    "MAX_DATE",
    "MIN_DATE",
    "RECOMMENDED_SETTINGS",
    "BrokenPurchase",
    "PurchaseBatch",
    "aware_datetimes",
    "billing_addresses",
    "broken_purchases",
    "check_plan",
    "configuration_dicts",
    "configurations",
    "countries",
    "invalid_purchases",
    "local_dates",
    "org_numbers",
    "purchase_batches",
    "purchases",
]

#: The years the default strategies draw from; grouped invoices of December 2100 would
#: be issued in 2101, past the holiday data, so the default stops before it.
MIN_DATE = date(1990, 1, 1)
MAX_DATE = date(2100, 9, 30)

#: The Hypothesis settings a suite using these strategies should run with (see the
#: module docstring for why); extend with ``settings(RECOMMENDED_SETTINGS, ...)``.
RECOMMENDED_SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

_ZONES = (
    UTC,
    ZoneInfo("Europe/Oslo"),
    ZoneInfo("Europe/Stockholm"),
    ZoneInfo("Europe/Helsinki"),
    ZoneInfo("America/New_York"),
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-11)),
)

_E = TypeVar("_E", bound=Enum)


def _chosen(kind: type[_E], values: Iterable[_E | str] | None, name: str) -> tuple[_E, ...]:
    """The members of ``kind`` a strategy may draw: all of them (iterating the enum, so
    a member added later is drawn too) or those ``values`` name, in enum order."""
    if values is None:
        return tuple(kind)
    if isinstance(values, str):
        raise InvalidArgument(f"{name} takes a collection of values, got the string {values!r}")
    try:
        wanted = {kind(value) for value in values}
    except ValueError:
        choices = ", ".join(repr(m.value) for m in kind)
        raise InvalidArgument(f"{name}={values!r}: expected values among {choices}") from None
    if not wanted:
        raise InvalidArgument(f"{name} must name at least one {kind.__name__}")
    return tuple(member for member in kind if member in wanted)


def _check_dates(min_date: date, max_date: date) -> None:
    if min_date > max_date:
        raise InvalidArgument(f"min_date {min_date} is after max_date {max_date}")


def countries(countries: Iterable[Country | str] | None = None) -> st.SearchStrategy[Country]:
    """A :class:`Country` (of ``countries`` when given)."""
    return st.sampled_from(_chosen(Country, countries, "countries"))


def local_dates(min_value: date = MIN_DATE, max_value: date = MAX_DATE) -> st.SearchStrategy[date]:
    """Dates, with month ends, quarter ends, leap days and New Year drawn more often."""
    _check_dates(min_value, max_value)
    edges = [
        d
        for year in (1992, 2000, 2021, 2024, 2025, 2067, 2096)
        for d in (
            date(year, 1, 1),
            date(year, 2, 29 if year % 4 == 0 else 28),
            date(year, 3, 31),
            date(year, 6, 30),
            date(year, 9, 30),
            date(year, 12, 31),
        )
        if min_value <= d <= max_value
    ]
    if not edges:
        return st.dates(min_value, max_value)
    return st.one_of(st.dates(min_value, max_value), st.sampled_from(edges))


def aware_datetimes(
    min_value: date = MIN_DATE, max_value: date = MAX_DATE
) -> st.SearchStrategy[datetime]:
    """Time-zone-aware datetimes (UTC, Nordic zones, far-away offsets), near midnight often.

    The date in the datetime's own zone lies within ``min_value``..``max_value``.
    """
    times = st.one_of(
        st.times(),
        st.sampled_from([datetime.min.time().replace(hour=h, minute=m) for h, m in
                         ((0, 0), (0, 30), (1, 0), (2, 30), (21, 59), (22, 30), (23, 30), (23, 59))]),
    )  # fmt: skip
    return st.builds(
        lambda d, t, z: datetime.combine(d, t).replace(tzinfo=z),
        local_dates(min_value, max_value),
        times,
        st.sampled_from(_ZONES),
    )


def org_numbers(country: Country | str, *, check_digit: bool = True) -> st.SearchStrategy[str]:
    """Organization numbers of ``country`` in their usual written forms.

    With ``check_digit`` they also pass the strict check; without, they only have the
    right shape (like the documentation's ``123456789``).
    """
    country = parse_country(country)

    def build(body: str, form: int) -> str | None:
        try:
            if country is Country.NO:
                number = body[:8] + (
                    no_orgnr.calc_check_digit(body[:8]) if check_digit else body[8]
                )
                return (number, no_orgnr.format(number))[form % 2]
            if country is Country.SE:
                # an organization number's third digit is 2-9 (0-1 would be a birth month)
                body = body[:2] + str(2 + int(body[2]) % 8) + body[3:]
                number = body[:9] + (
                    se_orgnr.calc_check_digit(body[:9]) if check_digit else body[9]
                )
                return (number, se_orgnr.format(number), "16" + number)[form % 3]
            number = (
                body[:7] + "-" + (fi_ytunnus.calc_check_digit(body[:7]) if check_digit else body[7])
            )
            return (number, number.replace("-", ""))[form % 2]
        except ValueError:
            return None  # a body with no valid check digit

    bodies = st.text("0123456789", min_size=10, max_size=10)
    return st.builds(build, bodies, st.integers(0, 5)).filter(lambda v: v is not None)  # type: ignore[return-value]


_FIRST = ["Ola", "Kari", "Anna", "Erik", "Mikko", "Aino", "Åsa", "Øystein"]
_LAST = ["Nordmann", "Svensson", "Virtanen", "Lindqvist", "Korhonen", "Haugen"]
_BUSINESS = [
    "Nordmann AS",
    "Fjordbygg AS",
    "Svensson Verkstad AB",
    "Virtanen Oy",
    "Ærlig Øl AS",
    "Kahvila Ö Oy",
]
_POSTAL = {Country.NO: "0151", Country.SE: "111 57", Country.FI: "00100"}


def _one_of(single: _E | str | None, many: Iterable[_E | str] | None, names: str) -> Any:
    if single is not None and many is not None:
        raise InvalidArgument(f"give {names.split('/')[0]} or {names.split('/')[1]}, not both")
    return [single] if single is not None else many


def billing_addresses(
    product_type: ProductType | str | None = None,
    country: Country | str | None = None,
    *,
    product_types: Iterable[ProductType | str] | None = None,
    countries: Iterable[Country | str] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """A valid billing address dict in Dintero's shape, for a product type and country
    (one given, or drawn from ``product_types``/``countries``, by default all).

    Business types' addresses carry ``business_name`` and ``organization_number`` (and
    sometimes a ``customer_reference``); a B2C address has neither.
    """
    types = _chosen(
        ProductType,
        _one_of(product_type, product_types, "product_type/product_types"),
        "product_types",
    )
    places = _chosen(Country, _one_of(country, countries, "country/countries"), "countries")
    return _billing_addresses(types, places)


@st.composite
def _billing_addresses(
    draw: st.DrawFn, types: Sequence[ProductType], places: Sequence[Country]
) -> dict[str, Any]:
    product_type = draw(st.sampled_from(types))
    country = draw(st.sampled_from(places))
    address: dict[str, Any] = {
        "first_name": draw(st.sampled_from(_FIRST)),
        "last_name": draw(st.sampled_from(_LAST)),
        "email": "billing@example.com",
        "phone_number": "+4799999999",
        "address_line": "Storgata 1",
        "postal_code": _POSTAL[country],
        "postal_place": "City",
        "country": country.value,
    }
    if product_type.is_business:
        address["business_name"] = draw(st.sampled_from(_BUSINESS))
        address["organization_number"] = draw(org_numbers(country))
        reference = draw(st.sampled_from([None, "", "dept-engineering", "dept-sales", "PO 4711"]))
        if reference is not None:
            address["customer_reference"] = reference
    return address


def configuration_dicts(
    *,
    intervals: Iterable[Interval | str] | None = None,
    enabled: Iterable[ProductType | str] = (),
) -> st.SearchStrategy[dict[str, Any]]:
    """A valid ``configuration`` object in the seeds' JSON shape (``{"kravia": {...}}``),
    for a caller that needs the JSON form (e.g. to test its own parsing); see
    :func:`configurations` for the arguments. ``parse_configuration`` reads it, and
    ``{"kravia": config.to_dict()}`` is the JSON form of any :class:`KraviaConfig`.
    """
    chosen = _chosen(Interval, intervals, "intervals")
    always = set(_chosen(ProductType, enabled, "enabled")) if enabled else set()
    return _configuration_dicts(chosen, frozenset(always))


@st.composite
def _configuration_dicts(
    draw: st.DrawFn, intervals: Sequence[Interval], always: frozenset[ProductType]
) -> dict[str, Any]:
    kravia: dict[str, Any] = {"type": "payment_type"}
    for product_type in ProductType:
        on = product_type in always
        if not on and draw(st.integers(0, 9)) == 0:
            continue  # absent: disabled
        member: dict[str, Any] = {
            "type": "payment_product_type",
            "enabled": on or draw(st.integers(0, 9)) > 0,
            "days_until_due": draw(st.one_of(st.just(14), st.integers(0, 365))),
        }
        if product_type.is_grouped:
            member["invoice_schedule"] = {
                "interval": draw(st.sampled_from([i.value for i in intervals]))
            }
        kravia[product_type.config_key] = member
    return {"kravia": kravia}


def configurations(
    *,
    intervals: Iterable[Interval | str] | None = None,
    enabled: Iterable[ProductType | str] = (),
) -> st.SearchStrategy[KraviaConfig]:
    """A valid :class:`KraviaConfig` (as :class:`PurchaseBatch` carries), parsed from a
    drawn JSON object (:func:`configuration_dicts` draws those, for the dict form).

    Each product type is usually enabled, sometimes disabled or absent; ``days_until_due``
    is 14 or 0-365. ``intervals`` limits the grouped type's ``invoice_schedule.interval``
    (a grouped type left out of the object is disabled, with the default interval);
    the types in ``enabled`` are always enabled.
    """
    return configuration_dicts(intervals=intervals, enabled=enabled).map(parse_configuration)


def _invoiced_statuses(product_type: ProductType) -> frozenset[TransactionStatus]:
    """The statuses with which a purchase of ``product_type`` goes on an invoice."""
    return rules.invoiced_statuses(product_type)


def _respell(rng: _random.Random, text: str) -> str:
    """Another spelling of the same name: case, padding, doubled inner spaces."""
    variants = [text, text.upper(), text.lower(), f"  {text} ", text.replace(" ", "  ")]
    return rng.choice(variants)


_BUSINESS_FIRST = [ProductType.B2B_GROUPED] * 4 + [ProductType.B2B]


def _customer_types(
    customers: Sequence[Mapping[str, Any]],
    types: Sequence[ProductType],
    places: Sequence[Country],
) -> list[tuple[dict[str, Any], tuple[ProductType, ...]]]:
    """Each customer of ``places`` with the product types it may buy: the business
    types its address is valid for, else B2C."""
    usable = []
    for number, customer in enumerate(customers):
        valid: list[ProductType] = []
        problems: list[str] = []
        for product_type in types:
            try:
                address = validate_billing_address(customer, product_type)
            except InvalidBillingAddress as error:
                problems.append(f"{product_type.value}: {error}")
                continue
            if address.country in places:
                valid.append(product_type)
        business = [t for t in _BUSINESS_FIRST if t in valid]
        if business or valid:
            usable.append((dict(customer), tuple(business or valid)))
        elif problems and len(problems) == len(types):
            raise InvalidArgument(
                f"customers[{number}] is valid for none of the product types: {'; '.join(problems)}"
            )
    if not usable:
        raise InvalidArgument("no customer is in the countries given")
    return usable


def purchases(
    customers: Sequence[Mapping[str, Any]] | None = None,
    *,
    countries: Iterable[Country | str] | None = None,
    product_types: Iterable[ProductType | str] | None = None,
    statuses: Iterable[TransactionStatus | str] | None = None,
    min_date: date = MIN_DATE,
    max_date: date = MAX_DATE,
) -> st.SearchStrategy[dict[str, Any]]:
    """One valid Dintero-shaped purchase dict (its ``id`` is random; see purchase_batches).

    ``customers`` is a sequence of billing addresses in Dintero's shape, the dicts
    :func:`billing_addresses` draws; each purchase is made by one of them, e.g.::

        customers = [
            {"first_name": "Kari", "last_name": "Nordmann", "email": "kari@example.com",
             "phone_number": "+4799999999", "address_line": "Storgata 1",
             "postal_code": "0151", "country": "NO",
             # a business customer; without these two it buys B2C only
             "business_name": "Fjordbygg AS", "organization_number": "923609016"},
        ]

    A customer with a valid ``business_name`` and ``organization_number`` buys the
    business types among ``product_types`` (grouped most often), any other buys B2C.
    Customers outside ``countries`` are left out; an address valid for none of the
    product types raises ``InvalidArgument``. Without ``customers``, an address is drawn
    for each purchase.

    The status is drawn from every :class:`TransactionStatus` (or ``statuses``), half the
    time from those that put a purchase of its type on an invoice;
    ``created_at`` lies between ``min_date`` and ``max_date`` (in its own zone).
    """
    _check_dates(min_date, max_date)
    types = _chosen(ProductType, product_types, "product_types")
    places = _chosen(Country, countries, "countries")
    chosen = _chosen(TransactionStatus, statuses, "statuses")
    pool = None if customers is None else _customer_types(customers, types, places)
    return _purchases(pool, types, places, chosen, min_date, max_date)


@st.composite
def _purchases(
    draw: st.DrawFn,
    pool: Sequence[tuple[dict[str, Any], tuple[ProductType, ...]]] | None,
    types: Sequence[ProductType],
    places: Sequence[Country],
    chosen: Sequence[TransactionStatus],
    min_date: date,
    max_date: date,
) -> dict[str, Any]:
    if pool is not None:
        customer, allowed = draw(st.sampled_from(pool))
        address = dict(customer)
        product_type = draw(st.sampled_from(allowed))
    else:
        product_type = draw(st.sampled_from(types))
        address = draw(_billing_addresses((product_type,), places))
    rng = _random.Random(draw(st.integers(0, 2**32)))
    if address.get("business_name") and rng.random() < 0.3:
        address["business_name"] = _respell(rng, address["business_name"])
    country = parse_country(address["country"])
    invoiced = [s for s in chosen if s in _invoiced_statuses(product_type)]
    # Half the time (and where shrinking goes) a status that puts it on an invoice,
    # else any status at all.
    anything = st.sampled_from(chosen)
    status = draw(st.one_of(st.sampled_from(invoiced), anything) if invoiced else anything)
    amount = draw(st.integers(1, 10**9))
    when = draw(aware_datetimes(min_date, max_date))
    return {
        "id": "T" + draw(st.text("0123456789abcdef", min_size=12, max_size=12)),
        "created_at": when.isoformat(),
        "amount": amount,
        "vat_amount": amount * draw(st.sampled_from([0, 10, 12, 15, 20])) // 100,
        "currency": country.currency if rng.random() < 0.9 else rng.choice(["EUR", "NOK", "SEK"]),
        "status": status.value,
        "payment_product_type": product_type.value,
        "merchant_reference": f"order-{draw(st.integers(1, 10**6))}",
        "billing_address": address,
    }


# -- invalid records ------------------------------------------------------------------


_REMOVE: Any = object()  # a breaker's value that removes the field

#: Shapes valid in another country but not in this one: a break only a country-aware
#: check catches (a Swedish postal code is a Finnish one's shape, not a Norwegian one's).
_FOREIGN_POSTAL = {Country.NO: "11157", Country.SE: "0151", Country.FI: "0151"}
_FOREIGN_ORG = {Country.NO: "556677-8899", Country.SE: "923609016", Country.FI: "923609016"}


@dataclass(frozen=True)
class BrokenPurchase:
    """A purchase record with exactly one field broken so that the planner rejects it.

    ``field`` is the dotted path the rejection names (``billing_address.postal_code``);
    ``change`` says what was done to it (``set to 'kr'``, ``removed``). A negative or
    zero amount may also make the planner name ``vat_amount`` (now larger than the
    amount), as a consequence of the one change.
    """

    record: dict[str, Any]
    field: str
    change: str


def _breaks(purchase: Purchase, record: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Every (field, new value) that makes ``record`` (valid, parsed as ``purchase``)
    invalid by changing that field alone; aware of the product type and country, since
    what is wrong depends on them (a B2C record's organization number is not read)."""
    country = purchase.billing_address.country
    amount, vat = purchase.amount, purchase.vat_amount
    assert vat is not None, "a flat record always gives its VAT"
    breaks: list[tuple[str, Any]] = [
        ("id", ""),
        ("id", "   "),
        ("id", 42),
        ("id", _REMOVE),
        ("created_at", purchase.created_at.replace(tzinfo=None).isoformat()),  # naive
        ("created_at", "yesterday"),
        ("created_at", int(purchase.created_at.timestamp())),
        ("created_at", _REMOVE),
        ("amount", amount + 0.5),
        ("amount", str(amount)),
        ("amount", True),
        ("amount", -amount),
        ("amount", _REMOVE),
        ("vat_amount", amount + 1),
        ("vat_amount", -1),
        ("vat_amount", float(vat)),
        ("vat_amount", _REMOVE),
        ("currency", "kr"),
        ("currency", purchase.currency.lower()),
        ("currency", 578),
        ("currency", _REMOVE),
        ("status", "PAID"),
        ("status", purchase.status.value.lower()),
        ("status", _REMOVE),
        ("payment_product_type", "kravia.invoice_b2x"),
        ("payment_product_type", purchase.product_type.config_key),
        ("payment_product_type", _REMOVE),
        ("merchant_reference", 4711),
        ("billing_address", _REMOVE),
        ("billing_address.country", "DK"),
        ("billing_address.country", _REMOVE),
        ("billing_address.email", "billing.example.com"),
        ("billing_address.email", _REMOVE),
        ("billing_address.phone_number", "call me"),
        ("billing_address.first_name", "  "),
        ("billing_address.last_name", _REMOVE),
        ("billing_address.address_line", _REMOVE),
        ("billing_address.postal_code", _FOREIGN_POSTAL[country]),
        ("billing_address.postal_code", _REMOVE),
        ("billing_address.customer_reference", 4711),
    ]
    if vat == 0:
        breaks.append(("amount", 0))  # with VAT, a zero amount would break vat_amount too
    if purchase.product_type.is_business:
        breaks += [
            ("billing_address.organization_number", _FOREIGN_ORG[country]),
            ("billing_address.organization_number", "12345"),
            ("billing_address.organization_number", _REMOVE),
            ("billing_address.business_name", _REMOVE),
            ("billing_address.business_name", 7),
        ]
    return breaks


def broken_purchases(
    base: st.SearchStrategy[dict[str, Any]] | None = None,
    *,
    fields: Collection[str] | None = None,
    countries: Iterable[Country | str] | None = None,
    product_types: Iterable[ProductType | str] | None = None,
    statuses: Iterable[TransactionStatus | str] | None = None,
    min_date: date = MIN_DATE,
    max_date: date = MAX_DATE,
) -> st.SearchStrategy[BrokenPurchase]:
    """A :class:`BrokenPurchase`: a valid record (from ``base``, by default
    :func:`purchases` with the other arguments) with exactly one field broken (a wrong
    type, a bad value, a missing field) in a way the planner rejects, naming ``field``.

    ``fields`` limits which fields are broken (dotted paths, as in
    :attr:`BrokenPurchase.field`). A record of ``base`` must be valid
    (``InvalidArgument`` otherwise).
    """
    if base is None:
        base = purchases(
            countries=countries,
            product_types=product_types,
            statuses=statuses,
            min_date=min_date,
            max_date=max_date,
        )
    elif (countries, product_types, statuses) != (None, None, None):
        raise InvalidArgument("give base or countries/product_types/statuses, not both")
    return _broken_purchases(base, None if fields is None else frozenset(fields))


@st.composite
def _broken_purchases(
    draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]], wanted: frozenset[str] | None
) -> BrokenPurchase:
    record = dict(draw(base))
    try:
        purchase = parse_purchase(record)
    except InvalidPurchaseError as error:
        raise InvalidArgument(f"base drew an invalid record ({error}): {record!r}") from None
    breaks = [b for b in _breaks(purchase, record) if wanted is None or b[0] in wanted]
    if not breaks:
        assume(False)  # none of the wanted fields can be broken in this record
    path, value = draw(st.sampled_from(breaks))
    target = record
    name = path
    if path.startswith("billing_address."):
        target = record["billing_address"] = dict(record["billing_address"])
        name = path.split(".", 1)[1]
    if value is _REMOVE:
        target.pop(name, None)
        change = "removed"
    else:
        target[name] = value
        change = f"set to {value!r}"
    return BrokenPurchase(record, path, change)


def invalid_purchases(
    base: st.SearchStrategy[dict[str, Any]] | None = None, **kwargs: Any
) -> st.SearchStrategy[dict[str, Any]]:
    """The records of :func:`broken_purchases` (same arguments): a purchase with exactly
    one field broken in a way the planner rejects."""
    return broken_purchases(base, **kwargs).map(lambda broken: broken.record)


# -- batches --------------------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseBatch:
    """A list of purchase records and the configuration to plan them with."""

    records: list[dict[str, Any]]
    config: KraviaConfig


def purchase_batches(
    *,
    min_size: int = 0,
    max_size: int = 40,
    invalid: bool = True,
    duplicates: bool = True,
    min_date: date = MIN_DATE,
    max_date: date = MAX_DATE,
    countries: Iterable[Country | str] | None = None,
    product_types: Iterable[ProductType | str] | None = None,
    statuses: Iterable[TransactionStatus | str] | None = None,
    intervals: Iterable[Interval | str] | None = None,
    config: KraviaConfig | st.SearchStrategy[KraviaConfig] | None = None,
    customers: Sequence[Mapping[str, Any]] | None = None,
) -> st.SearchStrategy[PurchaseBatch]:
    """A :class:`PurchaseBatch`: purchases of a few customers and a configuration.

    The purchases are those of :func:`purchases` (``countries``, ``product_types``,
    ``statuses``, ``customers`` as there), dated within one window of 10 days to
    about a year between ``min_date`` and ``max_date`` so that customers really collect
    several purchases per period. Ids are ``T00000``, ``T00001``, ...

    * ``invalid``: about one record in ten is a :func:`broken_purchases` record.
    * ``duplicates`` (the default): the batch may end with a copy of one of its records,
      sent twice as a real feed may (sometimes with its id padded by spaces, which the
      planner trims). The plan counts it once; but a wrapper that splits a batch into
      parts and plans each separately, then merges them with
      :func:`~kravia_schedule.planning.merge_plans`, raises ``MergeConflictError`` when
      the two copies land in different parts (the id is planned in both). Split by
      normalized id (``record["id"].strip()``), or pass ``duplicates=False``: then every
      id in the batch is unique and any split merges.
    * ``config``: a :class:`KraviaConfig`, or a strategy of them; by default
      :func:`configurations` with ``intervals``.
    """
    if min_size < 0 or max_size < min_size:
        raise InvalidArgument(f"need 0 <= min_size <= max_size, got {min_size}, {max_size}")
    _check_dates(min_date, max_date)
    types = _chosen(ProductType, product_types, "product_types")
    places = _chosen(Country, countries, "countries")
    chosen = _chosen(TransactionStatus, statuses, "statuses")
    pool = None if customers is None else _customer_types(customers, types, places)
    if config is None:
        configs = configurations(intervals=intervals)
    elif intervals is not None:
        raise InvalidArgument("intervals steers the drawn configuration; with config, set it there")
    elif isinstance(config, KraviaConfig):
        configs = st.just(config)
    else:
        configs = config
    return _purchase_batches(
        pool, types, places, chosen, configs, min_size, max_size, invalid, duplicates,
        min_date, max_date,
    )  # fmt: skip


@st.composite
def _purchase_batches(
    draw: st.DrawFn,
    pool: Sequence[tuple[dict[str, Any], tuple[ProductType, ...]]] | None,
    types: Sequence[ProductType],
    places: Sequence[Country],
    chosen: Sequence[TransactionStatus],
    configs: st.SearchStrategy[KraviaConfig],
    min_size: int,
    max_size: int,
    invalid: bool,
    duplicates: bool,
    min_date: date,
    max_date: date,
) -> PurchaseBatch:
    if pool is None:
        addresses = draw(st.lists(_billing_addresses(types, places), min_size=1, max_size=4))
        pool = _customer_types(addresses, types, places)
    start = draw(st.dates(min_date, max_date))
    end = min(max_date, start + timedelta(days=draw(st.sampled_from([10, 31, 31, 120, 400]))))
    valid = _purchases(pool, types, places, chosen, start, end)
    kept = valid.map(lambda record: (record, None))
    broken = _broken_purchases(valid, None).map(lambda b: (b.record, b.field))
    one = st.integers(0, 9).flatmap(lambda k: broken if invalid and k == 0 else kept)
    drawn = draw(st.lists(one, min_size=min_size, max_size=max_size))
    records = []
    for number, (record, field) in enumerate(drawn):
        if field != "id":  # keep a broken id broken
            record["id"] = f"T{number:05d}"
        records.append(record)
    if duplicates and len(records) > 0 and draw(st.booleans()):
        copy = dict(draw(st.sampled_from(records)))  # the same record sent twice
        if isinstance(copy.get("id"), str) and draw(st.integers(0, 2)) == 0:
            copy["id"] = f" {copy['id']}  "
        records.append(copy)
    return PurchaseBatch(records, draw(configs))


# -- the invariant checker ------------------------------------------------------------


def _fail(message: str) -> NoReturn:
    raise AssertionError(f"plan invariant broken: {message}")


def _normalized(value: object) -> str | None:
    """A transaction id as the planner reads a mapping's: trimmed; ``None`` when blank
    or not a string."""
    return (value.strip() or None) if isinstance(value, str) else None


_CONTENT = tuple(f.name for f in fields(Purchase) if f.name != "id")


def _content(purchase: Purchase | ForeignRow) -> tuple[Any, ...]:
    """Everything of a purchase but its id: copies of one transaction agree on it."""
    return tuple(getattr(purchase, name) for name in _CONTENT)


@dataclass(frozen=True)
class _Input:
    """One input record: its position, normalized id and, when valid, its purchase."""

    index: int
    key: str | None
    #: A transaction of another payment product (a card payment) is a ForeignRow.
    purchase: Purchase | ForeignRow | None


def _read(index: int, record: object, reader: RecordReader) -> _Input:
    """``record`` parsed on its own, as the planner's record reader reads it (the flat
    shape as :func:`parse_purchase` does, Dintero's own shape too)."""
    if isinstance(record, Purchase):
        key = _normalized(record.id)
        return _Input(index, key, record if key is not None else None)
    if isinstance(record, InvalidPurchaseError):  # the planner takes these as rejections
        return _Input(index, _normalized(record.transaction_id), None)
    if not isinstance(record, Mapping):
        return _Input(index, None, None)
    try:
        row = reader(record)
    except InvalidPurchaseError as error:
        return _Input(index, _normalized(error.transaction_id), None)
    if isinstance(row, ForeignRow):
        return _Input(index, row.id, row)
    return _Input(index, row.id, Purchase(*row))


def _differences(names: Sequence[str], expected: Sequence[Any], got: Sequence[Any]) -> str:
    return "; ".join(
        f"{name} expected {e!r}, got {g!r}"
        for name, e, g in zip(names, expected, got, strict=True)
        if e != g
    )


def _invoiceable(purchase: Purchase, config: KraviaConfig) -> bool:
    return config.product(purchase.product_type).enabled and purchase.status in _invoiced_statuses(
        purchase.product_type
    )


class _Checker:
    """The settings a plan was made with, as the checks need them."""

    def __init__(self, plan: InvoicePlan) -> None:
        provenance = plan.provenance
        self.config = provenance.config
        self.rule = provenance.due_date_rule
        self.as_of = provenance.as_of
        closed: dict[Country, dict[date, str]] = defaultdict(dict)
        for country, day, reason in provenance.closed_days:
            closed[country][day] = reason
        self.calendars = {
            c: BusinessCalendar(
                c,
                kind=provenance.calendar_kind,
                weekends_only=provenance.weekends_only,
                closed_days=closed[c],
            )
            for c in Country
        }

    def placeable(self, purchase: Purchase | ForeignRow) -> bool:
        """Whether the planner can date the invoice of ``purchase``; it rejects one it
        cannot (beyond the holiday data), naming ``created_at``."""
        if isinstance(purchase, ForeignRow) or not _invoiceable(purchase, self.config):
            return True  # skipped, which needs no dates
        product = self.config.product(purchase.product_type)
        country = purchase.billing_address.country
        calendar = self.calendars[country]
        try:
            day = local_date(purchase.created_at, country)
            if purchase.product_type.is_grouped:
                period = billing_period(day, product.interval)
                period_invoice_dates(period, calendar, product.days_until_due, self.rule)
            else:
                day_invoice_dates(day, calendar, product.days_until_due, self.rule)
        except (ValueError, OverflowError):
            return False
        return True


def check_plan(plan: InvoicePlan, purchases: Iterable[Purchase | Mapping[str, Any]]) -> None:
    """Assert every invariant a plan of ``purchases`` must hold; raise AssertionError if not.

    Each message names the record (transaction id and input position, or invoice id)
    and gives the expected and the actual value.

    * every input record is accounted for exactly once (invoice line, skipped or
      rejected). Each record is parsed on its own with :func:`parse_purchase`; ids are
      compared trimmed, as the planner reads a mapping's. A transaction counted twice
      (also as ``" P6 "`` and ``"P6"``) fails; so does a valid record rejected although
      its id is not a repeat (unless the planner cannot date its invoice), and one
      planned although its copies conflict. Identical copies count once;
    * amounts are conserved: each line and skipped entry carries its purchase's amounts,
      and each invoice's totals are the sums of its lines;
    * grouped invoices hold AUTHORIZED purchases of one customer, currency and period; the
      issue date is the first business day after the period; due = issue + days;
    * standard invoices hold one invoiceable purchase, issued on its local date;
    * skipped purchases really are not invoiceable; states agree with ``as_of``.
    """
    checker = _Checker(plan)
    reader = RecordReader(strict=plan.provenance.strict, require_vat=plan.provenance.require_vat)
    inputs = [_read(i, r, reader) for i, r in enumerate(purchases)]
    groups: dict[str | None, list[_Input]] = defaultdict(list)
    for record in inputs:
        groups[record.key].append(record)
    planned: dict[str | None, list[str]] = defaultdict(list)
    for invoice in plan.invoices:
        for transaction_id in invoice.transaction_ids:
            planned[_normalized(transaction_id)].append(f"{transaction_id!r} on {invoice.id}")
    for skipped in plan.skipped:
        planned[_normalized(skipped.transaction_id)].append(
            f"{skipped.transaction_id!r} skipped ({skipped.reason.value})"
        )
    rejected: dict[str | None, list[str]] = defaultdict(list)
    for rejection in plan.rejected:
        rejected[_normalized(rejection.transaction_id)].append(rejection.reason)

    parsed: dict[str, Purchase | ForeignRow] = {}
    for key in sorted({*groups, *planned, *rejected}, key=lambda k: (k is None, k or "")):
        group = groups.get(key, [])
        name = _record_name(key, group)
        valid = [record.purchase for record in group if record.purchase is not None]
        where = ", ".join(planned.get(key, []))
        got, rejections = len(planned.get(key, [])), rejected.get(key, [])
        if not valid:
            expected, why = 0, "no record of it is valid input"
        elif any(_content(p) != _content(valid[0]) for p in valid[1:]):
            expected, why = 0, f"its {len(valid)} valid records conflict"
        elif (
            got == 0
            and any(reason.startswith("created_at") for reason in rejections)
            and not checker.placeable(valid[0])
        ):
            expected, why = 0, "its invoice cannot be dated"
        else:
            expected, why = 1, ""
            parsed[key] = valid[0]  # type: ignore[index]  # key is None only without valid
        if got > expected:
            if expected:
                _fail(f"{name}: double-counted: planned {got} times ({where}); expected once")
            _fail(f"{name}: planned {got} time(s) ({where}) although {why}; expected 0")
        if got < expected:
            if len(rejections) > len(group) - expected:
                _fail(
                    f"{name}: wrongly rejected ({'; '.join(rejections)}): it parses cleanly "
                    f"and its id is not a repeat of another record; expected planned once, got 0"
                )
            _fail(
                f"{name}: dropped: expected planned once (on an invoice or skipped), "
                f"got 0 and {len(rejections)} rejection(s)"
            )
        if len(rejections) != len(group) - expected:
            _fail(
                f"{name}: {len(group)} record(s) in, {expected} planned: expected "
                f"{len(group) - expected} rejection(s), got {len(rejections)}"
            )

    for invoice_id, times in Counter(invoice.id for invoice in plan.invoices).items():
        if times > 1:
            _fail(f"invoice {invoice_id}: expected once in the plan, got {times} times")
    for invoice in plan.invoices:
        _check_invoice(checker, invoice, parsed)
    for skipped in plan.skipped:
        key = _normalized(skipped.transaction_id)
        purchase = parsed[key]  # type: ignore[index]  # planned ids were checked above
        name = f"skipped {key!r}"
        if skipped.transaction_id != key:
            _fail(f"{name}: id expected {key!r} (trimmed), got {skipped.transaction_id!r}")
        if isinstance(purchase, ForeignRow):
            if skipped.reason is not SkipReason.NOT_KRAVIA:
                _fail(
                    f"{name}: reason expected {SkipReason.NOT_KRAVIA.value} (paid with "
                    f"{purchase.payment_product_type}), got {skipped.reason.value}"
                )
            continue
        names = ("amount", "vat_amount", "currency", "status", "product_type")
        expected_values = [getattr(purchase, n) for n in names]
        got_values = [getattr(skipped, n) for n in names]
        if expected_values != got_values:
            _fail(f"{name}: {_differences(names, expected_values, got_values)} (the purchase's)")
        product = checker.config.product(purchase.product_type)
        if _invoiceable(purchase, checker.config):
            _fail(
                f"{name}: expected on an invoice ({purchase.product_type.value} "
                f"{purchase.status.value}, enabled), got skipped ({skipped.reason.value})"
            )
        if not product.enabled and skipped.reason is not SkipReason.PRODUCT_DISABLED:
            _fail(
                f"{name}: reason expected {SkipReason.PRODUCT_DISABLED.value} (the product "
                f"type is disabled), got {skipped.reason.value}"
            )


def _record_name(key: str | None, group: Sequence[_Input]) -> str:
    positions = ", ".join(f"#{record.index}" for record in group)
    if key is None:
        return f"records without a readable id ({positions or 'none in the input'})"
    return f"transaction {key!r} ({f'input record {positions}' if group else 'no input record'})"


def _check_invoice(
    checker: _Checker, invoice: Invoice, parsed: Mapping[str, Purchase | ForeignRow]
) -> None:
    name = f"invoice {invoice.id}"
    lines = list(invoice.lines)
    if not lines:
        _fail(f"{name}: expected at least one line, got none")
    order = sorted(lines)
    if lines != order:
        _fail(
            f"{name}: lines expected in (created_at, id) order "
            f"{[line.transaction_id for line in order]}, got {list(invoice.transaction_ids)}"
        )
    vats = [line.vat_amount for line in lines]
    unknown = None in vats
    expected_vat = None if unknown else sum(v for v in vats if v is not None)
    for total, field, expected_total in (
        (invoice.amount, "amount", sum(line.amount for line in lines)),
        (invoice.vat_amount, "vat_amount", expected_vat),
    ):
        if total != expected_total:
            why = "unknown: a line's is" if expected_total is None else "the sum of its lines"
            _fail(f"{name}: {field} expected {expected_total} ({why}), got {total}")
    rates = invoice.vat_breakdown
    gross = sum(t.gross for t in rates)
    if gross != invoice.amount:
        _fail(f"{name}: VAT breakdown expected to add up to {invoice.amount}, got {gross}")
    rate_vats = [t.vat for t in rates]
    if (None in rate_vats) != unknown or (
        not unknown and sum(v for v in rate_vats if v is not None) != invoice.vat_amount
    ):
        _fail(f"{name}: VAT breakdown {rate_vats} expected to add up to {invoice.vat_amount}")
    product = checker.config.product(invoice.product_type)
    if not product.enabled:
        _fail(f"{name}: expected no invoice of the disabled {invoice.product_type.value}, got one")
    country = invoice.country
    members = []
    for line in lines:
        key = _normalized(line.transaction_id)
        purchase = parsed[key]  # type: ignore[index]  # planned ids were checked before
        if isinstance(purchase, ForeignRow):
            _fail(f"{name}: line {key!r}: not a Kravia payment ({purchase.payment_product_type})")
        members.append(purchase)
        who = f"{name}: line {key!r}"
        if line.transaction_id != key:
            _fail(f"{who}: id expected {key!r} (trimmed), got {line.transaction_id!r}")
        names = ("created_at", "amount", "vat_amount", "merchant_reference", "items")
        expected_values = [getattr(purchase, n) for n in names]
        got_values = [getattr(line, n) for n in names]
        if expected_values != got_values:
            _fail(f"{who}: {_differences(names, expected_values, got_values)} (its purchase's)")
        owner = ("currency", "product_type", "customer")
        expected_values = [invoice.currency, invoice.product_type, invoice.customer]
        got_values = [
            purchase.currency,
            purchase.product_type,
            customer_key(purchase.billing_address),
        ]
        if expected_values != got_values:
            _fail(f"{who}: {_differences(owner, expected_values, got_values)} (the invoice's)")
        if purchase.status not in _invoiced_statuses(invoice.product_type):
            expected_statuses = sorted(s.value for s in _invoiced_statuses(invoice.product_type))
            _fail(f"{who}: status expected one of {expected_statuses}, got {purchase.status.value}")
    if invoice.billing_address != members[0].billing_address:
        _fail(
            f"{name}: billing address expected the earliest purchase's "
            f"{members[0].billing_address}, got {invoice.billing_address}"
        )
    calendar = checker.calendars[country]
    first_day = local_date(members[0].created_at, country)
    if invoice.product_type.is_grouped:
        period = billing_period(first_day, product.interval)
        if invoice.period != period:
            _fail(f"{name}: period expected {period}, got {invoice.period}")
        for purchase in members[1:]:
            day = local_date(purchase.created_at, country)
            if day not in period:
                _fail(
                    f"{name}: line {purchase.id!r} (local date {day}) expected in period "
                    f"{period.label}, got it in {billing_period(day, product.interval).label}"
                )
        expected_issue = calendar.roll_forward(period.end + timedelta(days=1))
        why = f"the first business day after {period.end}"
    else:
        if len(lines) != 1 or invoice.period is not None:
            _fail(
                f"{name}: a standard invoice expected 1 line and no period, got {len(lines)} "
                f"line(s) and period {invoice.period}"
            )
        expected_issue, why = first_day, "the purchase's local date"
    if invoice.issue_date != expected_issue:
        _fail(f"{name}: issue date expected {expected_issue} ({why}), got {invoice.issue_date}")
    expected_due = calendar.adjust(
        invoice.issue_date + timedelta(days=product.days_until_due), checker.rule
    )
    if invoice.due_date != expected_due:
        _fail(
            f"{name}: due date expected {expected_due} ({product.days_until_due} days after "
            f"{invoice.issue_date}, {checker.rule.value}), got {invoice.due_date}"
        )
    expected_state = None
    if checker.as_of is not None:
        today = local_date(checker.as_of, country)
        if invoice.period is not None and today <= invoice.period.end:
            expected_state = InvoiceState.OPEN
        elif today >= invoice.issue_date:
            expected_state = InvoiceState.READY
        else:
            expected_state = InvoiceState.SCHEDULED
    if invoice.state is not expected_state:
        _fail(
            f"{name}: state expected {expected_state} (as of {checker.as_of}), got {invoice.state}"
        )
