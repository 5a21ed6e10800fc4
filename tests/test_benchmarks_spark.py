"""The Spark benchmark at a tiny size, so it cannot rot (no timings are asserted)."""

from __future__ import annotations

import pytest

pytest.importorskip("polars")
pytest.importorskip("pyarrow")
pytest.importorskip("pyspark")

from benchmarks import spark
from kravia_schedule.spark import java_problem


def test_a_tiny_run_agrees_with_plan_parquet_and_plan_frames(capsys):
    problem = java_problem()
    if problem is not None:
        pytest.skip(f"Spark benchmark skipped: {problem}")
    assert spark.main(["--n", "1500", "--cores", "1", "--partitions", "2"]) == 0
    printed = capsys.readouterr().out
    assert "the engines agree" in printed
    table = {line.split()[0]: line.split() for line in printed.splitlines() if line}
    assert float(table["plan_spark"][2]) > 0  # seconds
    assert float(table["plan_spark"][3]) > 0  # CPU seconds
    assert table["plan_spark"][-1] != "-"  # the shuffle measured
    assert table["plan_spark"][6] != "-"  # the JVM's peak found
    assert "load average" in printed
