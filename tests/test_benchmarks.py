"""Run the benchmarks at a tiny size so they cannot rot (no timing is asserted)."""

from __future__ import annotations

import json

from benchmarks.__main__ import main
from benchmarks.generate import purchases
from kravia_schedule import plan_invoices
from kravia_schedule.testing import check_plan


def test_generator_is_seeded_and_plannable():
    records = purchases(300, seed=3, invalid_share=0.05)
    assert records == purchases(300, seed=3, invalid_share=0.05)
    plan = plan_invoices(records)
    check_plan(plan, records)
    assert plan.rejected  # the invalid share shows up as rejections
    assert any(len(invoice.lines) > 1 for invoice in plan.invoices)


def test_benchmark_runs_and_writes_json(tmp_path, capsys):
    out = tmp_path / "results.json"
    assert main(["--sizes", "200", "--repeat", "1", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["results"]
    assert rows[0]["n"] == 200
    assert rows[0]["typed_vs_floor"] > 0
    assert "x floor" in capsys.readouterr().out
