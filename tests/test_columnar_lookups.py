"""The columnar plan's look-up cache: each distinct value decided once by the core's own
functions, and numbered in the order it is first asked for."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

pl = pytest.importorskip("polars")

from kravia_schedule import KraviaConfig, plan_invoices  # noqa: E402
from kravia_schedule.columnar.addresses import KEYS  # noqa: E402
from kravia_schedule.columnar.lookups import (  # noqa: E402
    Lookups,
    day_dates_key,
    local_day_key,
    period_key,
)
from kravia_schedule.config import ProductType  # noqa: E402
from kravia_schedule.countries import Country  # noqa: E402
from kravia_schedule.dates import day_invoice_dates, period_invoice_dates  # noqa: E402
from kravia_schedule.periods import billing_period  # noqa: E402

CONFIG = KraviaConfig.all_enabled()
PROVENANCE = plan_invoices([], CONFIG).provenance
NORWAY = list(Country).index(Country.NO)


def lookups() -> Lookups:
    return Lookups(CONFIG, PROVENANCE)


def keys_of(expr: pl.Expr, **columns: list[object]) -> list[int]:
    return pl.DataFrame(columns).select(expr).to_series().to_list()


def test_a_local_day_is_the_planners_own_around_a_dst_change():
    # 2025-03-30 in Oslo: clocks go forward at 01:00Z, so the local midnight of the 31st
    # is 22:00Z on the 30th (UTC+2).
    ts = int(datetime(2025, 3, 30, 12, tzinfo=UTC).timestamp()) * 1_000_000
    (key,) = keys_of(local_day_key(), ts=[ts], cc=[NORWAY])
    midnight = int(datetime(2025, 3, 30, 22, tzinfo=UTC).timestamp()) * 1_000_000
    assert lookups().local_day(key) == (midnight, date(2025, 3, 30), date(2025, 3, 31))


def test_each_day_s_invoice_dates_are_looked_up_and_numbered_once():
    days = [date(2025, 1, 31), date(2025, 1, 31), date(2025, 2, 3)]
    product = ProductType.B2B
    keys = keys_of(
        day_dates_key(), local=days, payment_product_type=[product.value] * 3, cc=[NORWAY] * 3
    )
    cache = lookups()
    assert [cache.day_dates(k) for k in keys] == [(0,), (0,), (1,)]
    calendar = PROVENANCE.options.calendars()[Country.NO]
    due = CONFIG.product(product).days_until_due
    rule = PROVENANCE.due_date_rule
    assert list(cache.dates) == [
        day_invoice_dates(day, calendar, due, rule) for day in (days[0], days[2])
    ]
    assert len(cache.states) == 2
    cache.release()  # forgets the day, keeps the numbered dates
    assert cache.day_dates(keys[0]) == (2,)
    assert len(cache.dates) == 3


def test_the_days_of_one_billing_period_share_its_dates():
    days = [date(2025, 1, 2), date(2025, 1, 31), date(2025, 2, 1)]
    cache = lookups()
    found = [cache.period(k) for k in keys_of(period_key(), local=days, cc=[NORWAY] * 3)]
    assert found == [(date(2025, 1, 1), 0), (date(2025, 1, 1), 0), (date(2025, 2, 1), 1)]
    product = CONFIG.product(ProductType.B2B_GROUPED)
    period = billing_period(days[0], product.interval)
    calendar = PROVENANCE.options.calendars()[Country.NO]
    assert cache.dates[0] == period_invoice_dates(
        period, calendar, product.days_until_due, PROVENANCE.due_date_rule
    )


def test_customer_keys_are_numbered_in_the_order_they_first_occur():
    def keys(*names: str) -> pl.DataFrame:
        rows = [("NO", "923609016", name, "ref") for name in names]
        return pl.DataFrame(rows, schema=dict.fromkeys(KEYS, pl.String), orient="row")

    cache = lookups()
    assert cache.customer_indices(keys("b", "a", "b")).to_list() == [0, 1, 0]
    assert cache.customer_indices(keys("c", "a")).to_list() == [2, 1]
    table = cache.customer_table()
    assert table["name"].cast(pl.String).to_list() == ["b", "a", "c"]
    assert table["rank"].to_list() == [1, 0, 2]  # in the order of the keys
