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
    assert "pandas, polars and the plan without lines agree with the plan" in printed
    assert "to_plan() == plan_invoices: True" in printed


def test_more_rounds_give_a_ratio_per_round(capsys):
    assert columnar.main(["--n", "300", "--rounds", "3"]) == 0
    printed = capsys.readouterr().out
    line = next(line for line in printed.splitlines() if "median of 3 rounds" in line)
    ratios = line.split(": ")[-1].split()
    assert len(ratios) == 3
    assert all(float(r.rstrip("x")) > 0 for r in ratios)


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


def test_bound_steps_give_the_plans_invoices():
    import polars as pl

    from benchmarks import columnar_bound

    df = columnar.frame(400, seed=3)
    step = dict(columnar_bound.steps(df))
    names = list(step)
    assert names[0] == "group_by (c)"
    assert names[-1] == "plan_frames"
    planned = step["plan_frames"]()
    ids = df["id"]
    columns = ("amount", "vat_amount", "issue_date", "due_date")

    def invoices(out: pl.DataFrame) -> list[tuple[object, ...]]:
        return sorted(
            (tuple(ids.gather(rows)), *rest)
            for rows, *rest in out.select("row", *columns).iter_rows()
        )

    expected = sorted(
        (tuple(transactions), *rest)
        for transactions, *rest in planned.select("transaction_ids", *columns).iter_rows()
    )
    assert 0 < len(expected) == step["group_by (c)"]().height == step["+ placed"]().height
    totals = step["+ placed"]().select("amount", "vat_amount").sum().row(0)
    assert totals == planned.select("amount", "vat_amount").sum().row(0)
    kept = df.with_row_index("row").filter(
        pl.col("amount").is_not_null()
        & (pl.col("status") == "AUTHORIZED")
        & (pl.col("payment_product_type") == "kravia.invoice_b2b_grouped")
    )["row"]
    for name in ("+ lines", "+ ids once"):  # every kept row on one invoice, once
        assert sorted(step[name]()["row"].explode()) == kept.to_list()
    assert invoices(step["+ invoice ids"]()) == expected
    out = step["+ invoice ids"]()
    assert out["invoice_id"].n_unique() == out.height


def test_bound_prints_each_step_against_the_group_by(capsys):
    from benchmarks import columnar_bound

    assert columnar_bound.main(["--n", "300", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "n=300, best of 1:" in out
    assert out.count("x group_by") == 7
    with pytest.raises(SystemExit):
        columnar_bound.main(["--n", "0"])
