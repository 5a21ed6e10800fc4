"""test_engines.py's properties for plan_spark, at 1, 2 and 7 partitions per shuffle.

The worked examples run plan_spark through the ``engine`` fixture (conftest.py); the
properties are here so that they draw Spark's own, smaller number of examples (the
``kravia-spark`` settings profile: every example is a few Spark jobs). All share the test
run's one local session (the ``spark`` fixture).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from _engine_checks import (
    any_status_batches,
    does_not_depend_on_the_order,
    follows_the_rules_outcomes,
    plans_as_the_core,
)
from _engines import spark_table
from _records import nordmann_record
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kravia_schedule import InvoicePlan, plan_invoices
from kravia_schedule.testing import PurchaseBatch, local_dates

pytest.importorskip("polars")
pytest.importorskip("pyspark")

spark_settings = settings(settings.get_profile("kravia-spark"))
every_partitioning = pytest.mark.parametrize("partitions", [1, 2, 7])


def plan_with(partitions: int, records: list[Any], config: Any, **options: Any) -> InvoicePlan:
    """``records`` planned by plan_spark; a case no Spark column holds (see _engines.py)
    is discarded rather than passed."""
    from _engines import spark

    try:
        return spark(records, config, partitions=partitions, **options)
    except pytest.skip.Exception:
        assume(False)
        raise


@every_partitioning
@spark_settings
@given(batch=any_status_batches(), as_of=st.none() | local_dates())
def test_spark_plans_as_the_core(
    spark: Any, partitions: int, batch: PurchaseBatch, as_of: date | None
):
    plans_as_the_core(partial(plan_with, partitions), batch, as_of)


@every_partitioning
@spark_settings
@given(batch=any_status_batches(), seed=st.integers(0, 2**32 - 1))
def test_spark_does_not_depend_on_the_order_of_the_input(
    spark: Any, partitions: int, batch: PurchaseBatch, seed: int
):
    does_not_depend_on_the_order(partial(plan_with, partitions), batch, seed)


def test_every_status_and_product_type_has_the_rules_outcome(spark: Any) -> None:
    from _engines import spark as plan_on_spark

    follows_the_rules_outcomes(plan_on_spark)


def test_a_column_of_mixed_types_goes_to_spark_as_json() -> None:
    # test_engines' tightened-rule test has no Spark twin: its monkeypatch changes the
    # rules in this process, not in Spark's Python workers, which import their own.
    table = spark_table([{"amount": 1, "items": [{"vat": 1}]}, {"amount": None, "items": None}])
    assert table.column_names == ["amount", "items"]  # one type each: Arrow's columns
    assert spark_table([{"amount": 1}, {"amount": 1.5}]).column_names == ["json:amount"]
    mixed = [{"amount": 1, "items": [{"vat": 1}]}, {"amount": "1", "items": [{"vat": 1.5}]}]
    table = spark_table(mixed)
    assert table.column_names == ["json:amount", "json:items"]
    assert table["json:items"].to_pylist() == ['[{"vat": 1}]', '[{"vat": 1.5}]']
    nested = [{"items": [{"vat": 1, "note": "a"}]}, {"items": [{"vat": 2}]}]
    assert spark_table(nested)["items"].to_pylist()[1] == [{"vat": 2, "note": None}]
    assert spark_table([]).column_names == ["id"]
    for bad in (float("nan"), 10**40, object()):
        with pytest.raises(pytest.skip.Exception, match="JSON does not give back"):
            spark_table([{"amount": 1}, {"amount": bad}])


def test_a_variant_column_plans_as_the_core_reads_json(spark: Any) -> None:
    from _engines import spark as plan_on_spark

    from kravia_schedule.spark.tasks import json_value

    records = [
        nordmann_record("V1", "2021-01-05T10:00:00+01:00", 10_000),
        nordmann_record("V2", "2021-01-05T10:00:00+01:00", 1.5, vat_amount=0),
        nordmann_record("V3", "2021-01-05T10:00:00+01:00", "100", vat_amount=0),
        nordmann_record("V4", "2021-01-05T10:00:00+01:00", 100.0, vat_amount=0),
        nordmann_record("V5", "2021-01-05T10:00:00+01:00", True, vat_amount=0),
        nordmann_record(7, "2021-01-05T10:00:00+01:00"),
        nordmann_record(" V1 ", "2021-01-05T10:00:00+01:00", 10_000),
    ]
    core = plan_invoices(records)
    assert [i.transaction_ids for i in core.invoices] == [("V1",)]
    assert len(core.rejected) == 6  # V2 to V5, the id 7, the copy of V1
    assert plan_on_spark(records, None, partitions=3) == core
    assert json_value({"a": [Decimal("1.50"), Decimal("12"), "x"]}) == {"a": [1.5, 12, "x"]}
