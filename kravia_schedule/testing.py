"""Hypothesis strategies and a plan invariant checker, for this and other test suites.

Requires the ``test`` extra (``pip install kravia-schedule[test]``)::

    from hypothesis import given
    from kravia_schedule import plan_invoices
    from kravia_schedule.testing import check_plan, purchase_batches

    @given(purchase_batches())
    def test_my_service(batch):
        check_plan(plan_invoices(batch.records, batch.config), batch.records)

The strategies produce Dintero-shaped purchase dicts drawn from a small pool of
customers (so grouping really happens), with spelling variants of the same customer,
several currencies and states, and optionally invalid records.
"""

from __future__ import annotations

import random as _random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

try:
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - only without the extra
    raise ImportError(
        "kravia_schedule.testing needs hypothesis: pip install 'kravia-schedule[test]'"
    ) from error

from kravia_schedule.calendar import BusinessCalendar, DateRoll
from kravia_schedule.config import KraviaConfig, ProductType, parse_configuration
from kravia_schedule.countries import Country
from kravia_schedule.customers import customer_key
from kravia_schedule.dates import local_date
from kravia_schedule.errors import InvalidPurchaseError
from kravia_schedule.identifiers import fi_ytunnus, no_orgnr, se_orgnr
from kravia_schedule.invoices import InvoicePlan, InvoiceState, SkipReason
from kravia_schedule.periods import billing_period
from kravia_schedule.purchases import Purchase, TransactionStatus, parse_purchase

__all__ = [
    "PurchaseBatch",
    "aware_datetimes",
    "billing_addresses",
    "check_plan",
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

_ZONES = (
    UTC,
    ZoneInfo("Europe/Oslo"),
    ZoneInfo("Europe/Stockholm"),
    ZoneInfo("Europe/Helsinki"),
    ZoneInfo("America/New_York"),
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-11)),
)
_CURRENCY = {Country.NO: "NOK", Country.SE: "SEK", Country.FI: "EUR"}


def countries() -> st.SearchStrategy[Country]:
    return st.sampled_from(list(Country))


def local_dates(min_value: date = MIN_DATE, max_value: date = MAX_DATE) -> st.SearchStrategy[date]:
    """Dates, with month ends, quarter ends, leap days and New Year drawn more often."""
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
    """Time-zone-aware datetimes (UTC, Nordic zones, far-away offsets), near midnight often."""
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


def org_numbers(country: Country, *, check_digit: bool = True) -> st.SearchStrategy[str]:
    """Organization numbers of ``country`` in their usual written forms.

    With ``check_digit`` they also pass the strict check; without, they only have the
    right shape (like the documentation's ``123456789``).
    """

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


@st.composite
def billing_addresses(
    draw: st.DrawFn, product_type: ProductType | None = None, country: Country | None = None
) -> dict[str, Any]:
    """A valid billing address dict for ``product_type`` (drawn when not given)."""
    product_type = product_type or draw(st.sampled_from(list(ProductType)))
    country = country or draw(countries())
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


@st.composite
def configurations(draw: st.DrawFn) -> dict[str, Any]:
    """A valid ``configuration`` object in the seeds' JSON shape."""
    kravia: dict[str, Any] = {"type": "payment_type"}
    for product_type in ProductType:
        if draw(st.integers(0, 9)) == 0:
            continue  # absent: disabled
        member: dict[str, Any] = {
            "type": "payment_product_type",
            "enabled": draw(st.integers(0, 9)) > 0,
            "days_until_due": draw(st.one_of(st.just(14), st.integers(0, 365))),
        }
        if product_type.is_grouped:
            member["invoice_schedule"] = {
                "interval": draw(st.sampled_from(["monthly", "quarterly"]))
            }
        kravia[product_type.config_key] = member
    return {"kravia": kravia}


_STATUS_WEIGHTS: dict[ProductType, list[TransactionStatus]] = {
    ProductType.B2B_GROUPED: [TransactionStatus.AUTHORIZED] * 6
    + [TransactionStatus.AUTHORIZATION_VOIDED, TransactionStatus.CAPTURED],
    ProductType.B2B: [TransactionStatus.CAPTURED] * 4
    + [TransactionStatus.FAILED, TransactionStatus.ON_HOLD],
    ProductType.B2C: [TransactionStatus.CAPTURED] * 4
    + [TransactionStatus.REFUNDED, TransactionStatus.SETTLED],
}


def _respell(rng: _random.Random, text: str) -> str:
    """Another spelling of the same name: case, padding, doubled inner spaces."""
    variants = [text, text.upper(), text.lower(), f"  {text} ", text.replace(" ", "  ")]
    return rng.choice(variants)


@st.composite
def purchases(
    draw: st.DrawFn,
    customers: Sequence[Mapping[str, Any]] | None = None,
    *,
    min_date: date = MIN_DATE,
    max_date: date = MAX_DATE,
) -> dict[str, Any]:
    """One valid Dintero-shaped purchase dict (its ``id`` is random; see purchase_batches)."""
    if customers:
        address = dict(draw(st.sampled_from(list(customers))))
        product_type = (
            ProductType.B2C
            if "business_name" not in address
            else draw(st.sampled_from([ProductType.B2B_GROUPED] * 4 + [ProductType.B2B]))
        )
    else:
        product_type = draw(st.sampled_from(list(ProductType)))
        address = draw(billing_addresses(product_type))
    rng = _random.Random(draw(st.integers(0, 2**32)))
    if "business_name" in address and rng.random() < 0.3:
        address["business_name"] = _respell(rng, address["business_name"])
    country = Country(address["country"])
    amount = draw(st.integers(1, 10**9))
    when = draw(aware_datetimes(min_date, max_date))
    return {
        "id": "T" + draw(st.text("0123456789abcdef", min_size=12, max_size=12)),
        "created_at": when.isoformat(),
        "amount": amount,
        "vat_amount": amount * draw(st.sampled_from([0, 10, 12, 15, 20])) // 100,
        "currency": _CURRENCY[country] if rng.random() < 0.9 else rng.choice(["EUR", "NOK", "SEK"]),
        "status": draw(st.sampled_from(_STATUS_WEIGHTS[product_type])).value,
        "payment_product_type": product_type.value,
        "merchant_reference": f"order-{draw(st.integers(1, 10**6))}",
        "billing_address": address,
    }


_CORRUPTIONS: list[tuple[str, Any]] = [
    ("amount", 12.5),
    ("amount", -100),
    ("amount", "100"),
    ("vat_amount", None),
    ("currency", "kr"),
    ("status", "PAID"),
    ("payment_product_type", "kravia.invoice_b2x"),
    ("created_at", "2025-01-31 23:30:00"),
    ("created_at", "yesterday"),
    ("billing_address.country", "DK"),
    ("billing_address.organization_number", "12345"),
    ("billing_address.email", None),
    ("id", ""),
]


@st.composite
def invalid_purchases(
    draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A purchase with exactly one field broken (a wrong type, a bad value, a missing field)."""
    record = draw(base if base is not None else purchases())
    field, value = draw(st.sampled_from(_CORRUPTIONS))
    target = record
    if field.startswith("billing_address."):
        target = record["billing_address"] = dict(record["billing_address"])
        field = field.split(".", 1)[1]
    if value is None:
        target.pop(field, None)
    else:
        target[field] = value
    return record


@dataclass(frozen=True)
class PurchaseBatch:
    """A list of purchase records and the configuration to plan them with."""

    records: list[dict[str, Any]]
    config: KraviaConfig


@st.composite
def purchase_batches(
    draw: st.DrawFn,
    *,
    min_size: int = 0,
    max_size: int = 40,
    invalid: bool = True,
    duplicates: bool = True,
    min_date: date = MIN_DATE,
    max_date: date = MAX_DATE,
) -> PurchaseBatch:
    """A batch of purchases of a few customers, with unique ids unless ``duplicates``.

    Dates are drawn from one or two nearby years so that customers really collect
    several purchases per period.
    """
    pool = draw(st.lists(billing_addresses(), min_size=1, max_size=4))
    start = draw(st.dates(min_date, max_date))
    end = min(max_date, start + timedelta(days=draw(st.sampled_from([10, 31, 31, 120, 400]))))
    valid = purchases(pool, min_date=start, max_date=end)
    broken = invalid_purchases(valid)
    one = st.integers(0, 9).flatmap(lambda k: broken if invalid and k == 0 else valid)
    records = draw(st.lists(one, min_size=min_size, max_size=max_size))
    for number, record in enumerate(records):
        record["id"] = record["id"] and f"T{number:05d}"  # unique, but keep a blanked id blank
    send_twice = draw(st.booleans())
    if duplicates and records and send_twice:
        records.append(dict(draw(st.sampled_from(records))))  # the same record sent twice
    config_data = draw(configurations())
    return PurchaseBatch(records, parse_configuration(config_data))


# -- the invariant checker ------------------------------------------------------------


def _fail(message: str) -> None:
    raise AssertionError(f"plan invariant broken: {message}")


def check_plan(plan: InvoicePlan, purchases: Iterable[Purchase | Mapping[str, Any]]) -> None:
    """Assert every invariant a plan of ``purchases`` must hold; raise AssertionError if not.

    * every input record is accounted for exactly once (invoice line, skipped or rejected);
    * amounts are conserved: each line and skipped entry carries its purchase's amounts,
      and each invoice's totals are the sums of its lines;
    * grouped invoices hold AUTHORIZED purchases of one customer, currency and period; the
      issue date is the first business day after the period; due = issue + days;
    * standard invoices hold one purchase, issued on its local date;
    * skipped purchases really are not invoiceable; states agree with ``as_of``.
    """
    records = list(purchases)
    provenance = plan.provenance
    config = provenance.config
    closed: dict[Country, dict[date, str]] = defaultdict(dict)
    for country, day, reason in provenance.closed_days:
        closed[country][day] = reason
    calendars = {
        c: BusinessCalendar(c, weekends_only=provenance.weekends_only, closed_days=closed[c])
        for c in Country
    }

    lines = [line for invoice in plan.invoices for line in invoice.lines]
    accounted = len(lines) + len(plan.skipped) + len(plan.rejected)
    if accounted != len(records):
        _fail(f"{len(records)} records in, {accounted} accounted for")
    planned_ids = Counter(
        [line.transaction_id for line in lines] + [s.transaction_id for s in plan.skipped]
    )
    repeated = [tid for tid, n in planned_ids.items() if n > 1]
    if repeated:
        _fail(f"transactions planned more than once: {repeated[:5]}")
    if len({invoice.id for invoice in plan.invoices}) != len(plan.invoices):
        _fail("invoice ids are not unique")

    parsed: dict[str, Purchase] = {}
    for record in records:
        try:
            purchase = (
                record
                if isinstance(record, Purchase)
                else parse_purchase(record, strict=provenance.strict)
            )
        except InvalidPurchaseError:
            continue
        if purchase.id in planned_ids:
            if purchase.id in parsed and parsed[purchase.id] != purchase:
                _fail(f"{purchase.id}: conflicting records with this id, yet it was planned")
            parsed[purchase.id] = purchase
    missing = set(planned_ids) - set(parsed)
    if missing:
        _fail(f"planned transactions that are not valid input records: {sorted(missing)[:5]}")

    for invoice in plan.invoices:
        _check_invoice(
            invoice, parsed, config, calendars, provenance.due_date_rule, provenance.as_of
        )
    for skipped in plan.skipped:
        purchase = parsed[skipped.transaction_id]
        if (skipped.amount, skipped.currency) != (purchase.amount, purchase.currency):
            _fail(f"{skipped.transaction_id}: skipped amount differs from the purchase")
        product = config.product(purchase.product_type)
        invoiceable = product.enabled and (
            purchase.status is TransactionStatus.AUTHORIZED
            if purchase.product_type.is_grouped
            else purchase.status
            in {
                TransactionStatus.CAPTURED,
                TransactionStatus.PARTIALLY_REFUNDED,
                TransactionStatus.SETTLED,
            }
        )
        if invoiceable:
            _fail(f"{skipped.transaction_id}: skipped but invoiceable")
        if not product.enabled and skipped.reason is not SkipReason.PRODUCT_DISABLED:
            _fail(f"{skipped.transaction_id}: disabled product type skipped as {skipped.reason}")


def _check_invoice(
    invoice: Any,
    parsed: Mapping[str, Purchase],
    config: KraviaConfig,
    calendars: Mapping[Country, BusinessCalendar],
    rule: DateRoll,
    as_of: date | datetime | None,
) -> None:
    if not invoice.lines:
        _fail(f"{invoice.id}: no lines")
    if list(invoice.lines) != sorted(invoice.lines):
        _fail(f"{invoice.id}: lines not in (created_at, id) order")
    if invoice.amount != sum(line.amount for line in invoice.lines):
        _fail(f"{invoice.id}: amount is not the sum of its lines")
    if invoice.vat_amount != sum(line.vat_amount for line in invoice.lines):
        _fail(f"{invoice.id}: vat_amount is not the sum of its lines")
    calendar = calendars[invoice.country]
    product = config.product(invoice.product_type)
    members = [parsed[line.transaction_id] for line in invoice.lines]
    for line, purchase in zip(invoice.lines, members, strict=True):
        if (line.amount, line.vat_amount, line.created_at) != (
            purchase.amount,
            purchase.vat_amount,
            purchase.created_at,
        ):
            _fail(f"{invoice.id}: line {line.transaction_id} differs from its purchase")
        if (
            purchase.currency != invoice.currency
            or purchase.product_type is not invoice.product_type
        ):
            _fail(f"{invoice.id}: {purchase.id} has another currency or product type")
        if customer_key(purchase.billing_address) != invoice.customer:
            _fail(f"{invoice.id}: {purchase.id} belongs to another customer")
    if invoice.billing_address != members[0].billing_address:
        _fail(f"{invoice.id}: not shown with its earliest purchase's spelling")
    if invoice.product_type.is_grouped:
        if any(p.status is not TransactionStatus.AUTHORIZED for p in members):
            _fail(f"{invoice.id}: a grouped invoice holds a purchase that is not AUTHORIZED")
        period = invoice.period
        if period is None or period.interval is not product.interval:
            _fail(f"{invoice.id}: period missing or of the wrong interval")
        for purchase in members:
            if (
                billing_period(local_date(purchase.created_at, invoice.country), product.interval)
                != period
            ):
                _fail(f"{invoice.id}: {purchase.id} is outside the invoice's period")
        if not invoice.issue_date > period.end or not calendar.is_business_day(invoice.issue_date):
            _fail(
                f"{invoice.id}: issue date {invoice.issue_date} is not a business day after {period.end}"
            )
        between = calendar.business_days(
            period.end + timedelta(days=1), invoice.issue_date - timedelta(days=1)
        )
        if between:
            _fail(f"{invoice.id}: business days {between} skipped before the issue date")
    else:
        if len(members) != 1 or invoice.period is not None:
            _fail(f"{invoice.id}: a standard invoice must hold exactly one purchase and no period")
        if invoice.issue_date != local_date(members[0].created_at, invoice.country):
            _fail(f"{invoice.id}: standard issue date is not the purchase's local date")
    expected_due = calendar.adjust(
        invoice.issue_date + timedelta(days=product.days_until_due), rule
    )
    if invoice.due_date != expected_due:
        _fail(f"{invoice.id}: due {invoice.due_date}, expected {expected_due}")
    if as_of is not None:
        today = local_date(as_of, invoice.country)
        if invoice.period is not None and today <= invoice.period.end:
            expected_state = InvoiceState.OPEN
        elif today >= invoice.issue_date:
            expected_state = InvoiceState.READY
        else:
            expected_state = InvoiceState.SCHEDULED
        if invoice.state is not expected_state:
            _fail(f"{invoice.id}: state {invoice.state}, expected {expected_state}")
