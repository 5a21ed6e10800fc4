"""The real-shaped Dintero benchmark at a tiny size, so it cannot rot (no timings asserted)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

pytest.importorskip("polars")
pytest.importorskip("numpy")
pytest.importorskip("pandas")

from benchmarks import dintero
from kravia_schedule.dintero.vat import vat_from_gross

N = 150


@pytest.fixture(scope="module")
def jsonl(tmp_path_factory):
    path = tmp_path_factory.mktemp("dintero") / "t.jsonl"
    dintero.write_jsonl(path, N, seed=5)
    return path


def test_the_file_holds_the_generated_transactions(jsonl):
    lines = jsonl.read_text(encoding="utf-8").splitlines()
    assert len(lines) == N
    first = json.loads(lines[0])
    assert first["items"]
    assert first["events"]


@pytest.mark.parametrize("job", dintero.JOBS)
def test_every_job_gives_the_core_plans_figures(jsonl, job):
    expected = dintero.run_job("core", jsonl)["summary"]
    assert expected["grouped"] > 0
    assert expected["standard"] > 0
    assert expected["invoices"] == expected["grouped"] + expected["standard"]
    # pandas in chunks smaller than the file: the chunks' rows must all be kept.
    row = dintero.run_job(job, jsonl, warm_up=jsonl, pandas_chunk=40)
    assert row["summary"] == expected
    assert row["seconds"] > 0
    assert row["cpu_s"] > 0
    assert row["peak_kib"] > 0


def test_item_vat_follows_the_librarys_rounding_rule():
    import numpy as np
    import polars as pl

    gross = [12500, 1000, 42, 43, 999_999, 7]
    percent = [25.0, 25.5, 12.0, 12.0, 15.0, 6.0]
    expected = [vat_from_gross(g, Decimal(str(p))) for g, p in zip(gross, percent, strict=True)]
    assert expected[:3] == [2500, 203, 5]  # the worked examples of vat_from_gross
    hundredths = np.rint(np.array(percent) * 100).astype(np.int64)
    assert dintero.vat_of_items(np.array(gross), hundredths).tolist() == expected
    frame = pl.DataFrame({"g": gross, "p": percent})
    vat = dintero.vat_of_items(pl.col("g"), (pl.col("p") * 100).round().cast(pl.Int64))
    assert frame.select(vat.cast(pl.Int64))["g"].to_list() == expected


def test_a_run_prints_the_jobs_agreement_and_ratios(tmp_path, capsys):
    out = tmp_path / "run.json"
    argv = ["--sizes", "60,120", "--data-dir", str(tmp_path), "--json", str(out)]
    assert dintero.main(argv) == 0
    printed = capsys.readouterr().out
    assert "core, columnar, pandas, polars agree on invoices" in printed
    for pair in ("core / pandas", "core / polars", "columnar / pandas", "columnar / polars"):
        assert f"{pair}: " in printed
    assert "x CPU time" in printed
    results = json.loads(out.read_text())
    rows = results["sizes"]["120"]
    assert set(rows) == set(dintero.JOBS)
    assert all(dintero.cpu_seconds(row) > 0 for row in rows.values())
    # The second size's data file was written beside the first and is reused.
    assert dintero.data_file(tmp_path, 120, 1).exists()


def test_a_job_extrapolated_above_the_limit_is_skipped(tmp_path, capsys):
    calibration = tmp_path / "calibration.json"
    sizes = {"10": {"polars": {"peak_kib": 100}}, "20": {"polars": {"peak_kib": 2**20}}}
    calibration.write_text(json.dumps({"sizes": sizes}))
    argv = ["--sizes", "40", "--jobs", "polars", "--data-dir", str(tmp_path),
            "--max-rss-gib", "1.5", "--calibration", str(calibration)]  # fmt: skip
    assert dintero.main(argv) == 0
    printed = capsys.readouterr().out
    assert "polars: skipped: 3.00 GiB peak extrapolated from" in printed


def test_a_job_passing_the_limit_is_killed(tmp_path, capsys):
    argv = ["--sizes", "30", "--jobs", "core", "--data-dir", str(tmp_path),
            "--max-rss-gib", "0.005"]  # fmt: skip
    assert dintero.main(argv) == 1
    assert "core: killed at" in capsys.readouterr().out


def test_extrapolation_is_linear_through_the_two_largest_sizes():
    assert dintero.extrapolate([], 10) is None
    assert dintero.extrapolate([(10, 100)], 40) == 400
    assert dintero.extrapolate([(10, 100)], 5) == 100
    assert dintero.extrapolate([(1, 7), (10, 100), (20, 150)], 40) == 250
    assert dintero.extrapolate([(10, 100), (20, 90)], 40) == 90  # never below a measured peak


def test_a_size_between_two_measured_ones_is_interpolated():
    points = [(10, 100), (20, 150), (100, 900)]
    assert dintero.extrapolate(points, 15) == 125
    assert dintero.extrapolate(points, 60) == 525
    assert dintero.extrapolate(points, 20) == 150
    assert dintero.extrapolate(points, 5) == 100  # below every size: the smallest's peak


def test_a_size_measured_twice_counts_with_its_higher_peak():
    assert dintero.extrapolate([(10, 100), (20, 150), (20, 170)], 40) == 310
    assert dintero.extrapolate([(20, 150), (20, 170)], 40) == 340


def test_calibration_takes_pandas_peaks_only_from_runs_with_the_same_chunk(tmp_path):
    rows = {"pandas": {"peak_kib": 5}, "core": {"peak_kib": 7}}
    paths = []
    for chunk in (50_000, 100_000):
        path = tmp_path / f"{chunk}.json"
        results = {"options": {"pandas_chunk": str(chunk)}, "sizes": {str(chunk): rows}}
        path.write_text(json.dumps(results))
        paths.append(path)
    peaks = dintero.calibration_peaks(paths, 50_000)
    assert peaks == {"pandas": [(50_000, 5)], "core": [(50_000, 7), (100_000, 7)]}
