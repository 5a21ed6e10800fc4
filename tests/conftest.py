"""Fixtures shared by the test modules."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from kravia_schedule.testing import RECOMMENDED_SETTINGS

# The suite runs as the kit's recipe tells other suites to: without a deadline, so the
# first example's cold start (holiday data, calendars) is never reported as a failure.
settings.register_profile("kravia", RECOMMENDED_SETTINGS)
settings.load_profile("kravia")
# Spark's properties: a plan_spark run is a few Spark jobs (a second or more each on a
# local session), so they draw fewer examples; KRAVIA_SPARK_EXAMPLES asks for more.
settings.register_profile(
    "kravia-spark",
    RECOMMENDED_SETTINGS,
    max_examples=int(os.environ.get("KRAVIA_SPARK_EXAMPLES", "6")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture
def placed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many rows each columnar ``place`` call placed on the columnar path (for the
    tests of :mod:`kravia_schedule.columnar`, which skip themselves without Polars)."""
    from kravia_schedule.columnar import placing

    counts: list[int] = []
    place = placing.place

    def counting(*args: Any) -> Any:
        result = place(*args)
        counts.append(result.lines.height)
        return result

    monkeypatch.setattr(placing, "place", counting)
    return counts


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The test run's one local Spark session (``local[2]``), stopped at its end; skips,
    saying why, when Spark cannot start here."""
    pytest.importorskip("pyspark", reason="the Spark engine needs the [spark] extra")
    from _engines import spark_session

    session = spark_session()
    yield session
    session.stop()


@pytest.fixture(params=["core", "frame", "frames", "parquet", "merged", "spark"])
def engine(request: pytest.FixtureRequest) -> Any:
    """Each engine in turn, with the signature of ``plan_invoices`` (see _engines.py)."""
    from _engines import COLUMNAR, ENGINES, SPARK

    if request.param in COLUMNAR:
        pytest.importorskip("polars", reason="the columnar engines need the [columnar] extra")
    if request.param in SPARK:
        request.getfixturevalue("spark")
        return SPARK[request.param]
    return ENGINES[request.param]


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """Where a fresh ledger lives: a SQLite file or a PostgreSQL database (the ledger
    tests' fixture)."""
    from _ledger_records import pg_database

    if request.param == "sqlite":
        yield str(tmp_path / "ledger.db")
    else:
        yield from pg_database()


@pytest.fixture
def ledger(target: str) -> Iterator[Any]:
    """A fresh ledger at ``target``, closed after the test."""
    from kravia_schedule.ledger import Ledger

    with Ledger.open(target) as opened:
        yield opened
