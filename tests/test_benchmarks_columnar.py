"""The columnar benchmark at a tiny size, so it cannot rot (no timings are asserted)."""

from __future__ import annotations

import pytest

pytest.importorskip("polars")
pytest.importorskip("numpy")
pytest.importorskip("pandas")

from benchmarks import columnar


def test_in_memory_run_agrees_with_the_core_and_the_baselines(capsys):
    assert columnar.main(["--n", "400", "--check"]) == 0
    printed = capsys.readouterr().out
    assert "pandas and polars agree with the plan" in printed
    assert "to_plan() == plan_invoices: True" in printed


def test_streamed_run_writes_and_plans_a_parquet_file(tmp_path, capsys):
    path = tmp_path / "p.parquet"
    assert columnar.main(["--n", "400", "--parquet", str(path), "--write"]) == 0
    assert path.stat().st_size > 0
    assert columnar.main(["--n", "400", "--parquet", str(path), "--stream",
                          "--batch-rows", "128"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "purchases            400" in printed
    invoices = next(line for line in printed.splitlines() if "invoices" in line)
    assert int(invoices.split()[-1].replace(",", "")) > 0
