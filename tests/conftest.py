"""Fixtures shared by the test modules."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# How fast inputs are drawn and examples run depends on the machine's load (make test
# beside another run on a shared two-core machine runs 5-30x slower); it says nothing
# about correctness, so the suite turns the too-slow health check and the per-example
# deadline off once, as many tests did one by one.
settings.register_profile(
    "kravia-suite", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("kravia-suite")


@pytest.fixture
def placed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many rows each columnar ``place`` call placed on the columnar path (for the
    tests of :mod:`kravia_schedule.columnar`, which skip themselves without Polars)."""
    from kravia_schedule.columnar import placing

    counts: list[int] = []
    place = placing._Context.place

    def counting(self: Any, frame: Any) -> Any:
        result = place(self, frame)
        counts.append(result.height)
        return result

    monkeypatch.setattr(placing._Context, "place", counting)
    return counts
