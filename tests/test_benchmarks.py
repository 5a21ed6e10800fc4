"""Run every benchmark path at a tiny size so none of it can rot (no timing is asserted)."""

from __future__ import annotations

import json
import marshal
import sys
from datetime import datetime
from pathlib import Path

import pytest

from benchmarks import baselines, generate, suite
from benchmarks._one import (
    ENGINES,
    TIMED,
    check_agreement,
    generate_data,
    load_records,
    measure,
    measure_plan_memory,
)
from benchmarks.generate import cache_path, load_cache, purchases, typed, write_cache
from kravia_schedule import InvalidPurchaseError, Purchase, plan_invoices
from kravia_schedule.testing import check_plan

N = 200


def _needs(engine: str) -> None:
    for module in ENGINES[engine].needs:
        pytest.importorskip(module)


def test_generator_is_seeded_and_plannable():
    records = purchases(300, seed=3, invalid_share=0.05)
    assert records == purchases(300, seed=3, invalid_share=0.05)
    assert records != purchases(300, seed=4, invalid_share=0.05)
    plan = plan_invoices(records)
    check_plan(plan, records)
    assert plan.rejected  # the invalid share shows up as rejections
    assert plan.skipped  # and the voided authorizations as skipped purchases
    assert any(len(invoice.lines) > 1 for invoice in plan.invoices)


@pytest.mark.parametrize("years", [1, 2, 3])
def test_generator_spans_the_years_asked_for(years):
    stamps = [datetime.fromisoformat(r["created_at"]) for r in purchases(2000, years=years)]
    assert min(stamps).year == 2024
    assert max(stamps).year == 2023 + years  # 365 days a year from 1 January 2024


@pytest.mark.parametrize("bad", [{"years": 0}, {"years": 4}, {"invalid_share": 1.5}])
def test_generator_refuses_bad_arguments(bad):
    with pytest.raises(ValueError, match="must be"):
        purchases(10, **bad)


def test_typed_gives_what_from_dict_gives():
    records = purchases(N, seed=5, invalid_share=0.1)
    expected = []
    for record in records:
        try:
            expected.append(Purchase.from_dict(record))
        except InvalidPurchaseError:
            continue
    assert typed(records) == expected
    assert len(expected) < len(records)


def _from_dict(records):
    out = []
    for record in records:
        try:
            out.append(Purchase.from_dict(record))
        except InvalidPurchaseError:
            continue
    return out


def test_typed_leaves_out_what_the_constructor_refuses():
    assert generate._SETTERS is not None  # the fast path is in use
    records = purchases(40, seed=2, invalid_share=0.0)
    odd = [("amount", True), ("amount", 0), ("amount", -5), ("vat_amount", -1),
           ("vat_amount", 10**12), ("vat_amount", 1.0), ("currency", "nok"),
           ("currency", "NOKK"), ("created_at", "2024-05-01T10:00:00"), ("id", "")]  # fmt: skip
    for record, (field, value) in zip(records, odd, strict=False):
        record[field] = value
    expected = _from_dict(records)
    assert len(expected) == len(records) - len(odd)
    assert typed(records) == expected


def _sharing(records):
    """Each record's billing address, numbered by first appearance of the dict object."""
    seen: dict[int, int] = {}
    return [seen.setdefault(id(r["billing_address"]), len(seen)) for r in records]


def test_the_cache_gives_back_the_generated_records(tmp_path):
    records = purchases(N, seed=4, invalid_share=0.05)
    path = cache_path(tmp_path, N, seed=4, invalid_share=0.05)
    assert write_cache(records, path) == path.stat().st_size > 0
    loaded = load_cache(path)
    assert loaded == records
    # The same sharing: one dict per customer and reference, which typed() relies on.
    assert _sharing(loaded) == _sharing(records)
    assert len(set(_sharing(loaded))) < N
    # Field names interned as in the generated dicts, so lookups cost the same.
    assert all(sys.intern(key) is key for key in loaded[0])
    assert typed(loaded) == typed(records)
    assert list(tmp_path.iterdir()) == [path]  # no partial file left


def test_cache_files_are_keyed_by_every_data_option(tmp_path):
    paths = {
        cache_path(tmp_path, 100),
        cache_path(tmp_path, 101),
        cache_path(tmp_path, 100, seed=2),
        cache_path(tmp_path, 100, years=3),
        cache_path(tmp_path, 100, invalid_share=0.02),
    }
    assert len(paths) == 5
    assert all(generate.GENERATOR_VERSION in path.name for path in paths)


def test_a_cache_of_another_generator_is_refused(tmp_path):
    path = tmp_path / "old.marshal"
    path.write_bytes(marshal.dumps(("0ld", 1, [{}])))
    with pytest.raises(ValueError, match="not a cache of this generator"):
        load_cache(path)


def test_engines_load_the_records_generate_wrote(tmp_path):
    row = generate_data(N, seed=3, cache_dir=tmp_path)
    assert row["bytes"] == cache_path(tmp_path, N, seed=3).stat().st_size
    assert row["process_peak_kib"] > 0
    loaded, source = load_records(N, seed=3, cache_dir=tmp_path)
    assert source == "cache"
    assert (loaded, "generated") == load_records(N, seed=3)
    measured = measure("plan_dicts", N, repeat=1, seed=3, cache_dir=tmp_path)
    assert measured["data_source"] == "cache"
    with pytest.raises(FileNotFoundError):  # a run's engines never regenerate
        load_records(N, seed=4, cache_dir=tmp_path)


def test_floors_group_every_record_by_the_raw_key():
    records = purchases(N, invalid_share=0.0)
    by_dict = baselines.floor_dicts(records)
    by_type = baselines.floor_typed(typed(records))
    assert sum(map(len, by_dict.values())) == sum(map(len, by_type.values())) == N
    assert len(by_dict) == len(by_type)


@pytest.mark.parametrize("engine", TIMED)
def test_every_engine_measures(engine):
    _needs(engine)
    row = measure(engine, N, repeat=2)
    assert row["engine"] == engine
    assert row["n"] == N
    assert 0 < row["n_input"] <= N
    assert len(row["times_s"]) == 2
    assert row["groups"] > 0
    assert row["engine_peak_kib"] is None or row["engine_peak_kib"] >= 0
    if engine.startswith("plan_") and row["rss_base_kib"] is not None:  # RSS known (Linux)
        # Only its presence: at n=200, inside pytest's heap, the RSS may not even move.
        assert isinstance(row["plan_bytes_per_purchase_rss"], float)
    if engine.startswith("plan_"):
        # The plan keeps its invoices tracked (their lines not: tests/test_invoice_lines.py).
        assert row["plan_tracked_per_purchase"] > 0
        assert row["plan_full_collection_s"] >= 0
    if engine == "pandas":
        assert set(row["stages_best_s"]) == {"frame", "job"}


@pytest.mark.parametrize("kind", ["typed", "dicts"])
def test_plan_memory_is_traced(kind):
    row = measure_plan_memory(kind, N)
    assert row["plan_bytes_per_purchase"] > 0
    assert row["invoices"] > 0


def test_pandas_baseline_agrees_with_plan_invoices():
    pytest.importorskip("pandas")
    records = purchases(N, seed=7)
    out = baselines.pandas_job(baselines.pandas_frame(records))
    assert baselines.pandas_agreement(out, plan_invoices(records)) == []


def test_pandas_agreement_notices_a_difference():
    pytest.importorskip("pandas")
    import numpy as np

    records = purchases(N, seed=7)
    plan = plan_invoices(records)
    out = baselines.pandas_job(baselines.pandas_frame(records))
    out.loc[0, "issue_date"] = out.loc[0, "issue_date"] + np.timedelta64(1, "D")
    problems = baselines.pandas_agreement(out, plan)
    assert len(problems) == 1
    assert "planned" in problems[0]
    assert baselines.pandas_agreement(out.iloc[1:], plan)  # a missing invoice


def test_polars_baseline_agrees_with_plan_invoices():
    pytest.importorskip("polars")
    records = purchases(N, seed=7)
    plan = plan_invoices(records)
    out = baselines.polars_job(baselines.polars_frame(records))
    assert baselines.polars_agreement(out, plan) == []
    assert baselines.polars_agreement(out.head(out.height - 1), plan)


def test_agreement_check_runs():
    result = check_agreement(N)
    assert result["invoices"] > 0
    for name in ("pandas", "polars"):
        verdict = result[name]
        assert verdict["agrees"] if verdict["available"] else "error" in verdict


def test_suite_runs_every_engine_in_its_own_process(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(suite, "RESULTS_DIR", tmp_path / "results")
    out = tmp_path / "results.json"
    assert suite.main(["--sizes", f"{N},{2 * N}", "--repeat", "1", "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert json.loads((tmp_path / "results" / "latest.json").read_text()) == document
    assert {"cores", "python", "versions", "git_commit"} <= set(document["machine"])
    size, _ = document["sizes"]
    assert size["n"] == N
    ran = document["options"]["engines"]
    assert set(ran) | set(document["skipped_engines"]) == set(TIMED)
    for engine in ran:
        assert "error" not in size["engines"][engine], size["engines"][engine]
        assert size["engines"][engine]["data_source"] == "cache"
    # Each size generated once, for every engine (the records went with the temporary dir).
    assert [row["n"] for row in document["data"]] == [N, 2 * N]
    assert size["data"] == document["data"][0]
    assert not any(Path(row["path"]).exists() for row in document["data"])
    scaled = document["scaling"]["engines"]["plan_dicts"]
    assert set(scaled["us_per_purchase"]) == {str(N), str(2 * N)}
    assert scaled["ratio"] > 0
    assert (scaled["largest_n"], scaled["reference_n"]) == (2 * N, N)
    assert size["ratios"]["plan_typed"]["floor"] > 0
    assert size["ratios"]["plan_dicts"]["floor"] > 0
    assert set(size["plan_memory"]) == {"typed", "dicts"}
    printed = capsys.readouterr().out
    assert "vs floor" in printed
    assert "plan holds B/purchase" in printed
    assert "linear scaling" in printed
    assert printed.count("records generated in") == 2
    if "pandas" in ran:
        assert f"pandas baseline agrees with plan_invoices on N={N}" in printed
        assert size["ratios"]["plan_dicts"]["pandas"] > 0


def test_missing_optional_packages_are_skipped_with_a_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(suite, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(suite, "available", lambda module: False)
    assert (
        suite.main(["--sizes", "50", "--repeat", "1", "--engines", "floor_dicts,pandas,polars"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "pandas baseline skipped: needs pandas, numpy" in printed
    assert "polars baseline skipped: needs polars" in printed
    document = json.loads((tmp_path / "latest.json").read_text())
    assert document["options"]["engines"] == ["floor_dicts"]
    assert document["agreement"] is None


def test_a_cache_dir_is_kept_and_reused(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(suite, "RESULTS_DIR", tmp_path / "results")
    argv = ["--sizes", "50", "--repeat", "1", "--engines", "floor_dicts",
            "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    assert suite.main(argv) == 0
    assert suite.main(argv) == 0
    document = json.loads((tmp_path / "results" / "latest.json").read_text())
    (row,) = document["data"]
    assert row["reused"]
    assert Path(row["path"]).exists()
    assert "records from" in capsys.readouterr().out


def _row(engine, n, seconds, n_input=None):
    return {"engine": engine, "label": engine, "input": "dicts", "n": n, "best_s": seconds,
            "n_input": n_input or n, "purchases_per_s": (n_input or n) / seconds}  # fmt: skip


def test_scaling_is_time_per_purchase_at_the_largest_size_over_that_at_10_5(monkeypatch):
    sizes = [
        {"n": 10_000, "engines": {"a": _row("a", 10_000, 0.1), "b": _row("b", 10_000, 0.1)}},
        {"n": 100_000, "engines": {"a": _row("a", 100_000, 1.0), "b": _row("b", 100_000, 1.0)}},
        {"n": 1_000_000, "engines": {"a": _row("a", 1_000_000, 14.0),
                                     "b": {"engine": "b", "n": 1_000_000, "error": "killed"}}},
        {"n": 10_000_000, "skipped": "needs ~30 GiB"},
    ]  # fmt: skip
    monkeypatch.setattr(suite, "TIMED", ("a", "b"))
    figures = suite.scaling(sizes)
    lines = suite.render_scaling(figures)
    a, b = figures["engines"]["a"], figures["engines"]["b"]
    assert a["us_per_purchase"] == pytest.approx({"10000": 10, "100000": 10, "1000000": 14})
    assert (a["largest_n"], a["reference_n"]) == (1_000_000, 100_000)
    assert a["ratio"] == pytest.approx(1.4)
    assert a["within_target"] is True
    assert b["ratio"] is None  # its largest size is the reference: nothing to compare
    assert "1.40x ok (1,000,000 / 100,000)" in "\n".join(lines)
    assert "n/a (nothing above 100,000)" in "\n".join(lines)
    # Without 10^5 the smallest size is the reference; per purchase means per input record.
    sizes = [{"n": 1000, "engines": {"a": _row("a", 1000, 0.01, n_input=500)}},
             {"n": 4000, "engines": {"a": _row("a", 4000, 0.08, n_input=2000)}}]  # fmt: skip
    figures = suite.scaling(sizes)
    text = "\n".join(suite.render_scaling(figures))
    a = figures["engines"]["a"]
    assert a["us_per_purchase"]["1000"] == pytest.approx(20.0)
    assert (a["reference_n"], a["ratio"], a["within_target"]) == (1000, pytest.approx(2.0), False)
    assert "OVER 1.5x" in text


def test_the_memory_check_counts_the_generation_process_too():
    rows = [
        {"engine": "generate", "n": 1000, "rss_base_kib": 1000, "process_peak_kib": 3000},
        {"engine": "plan_dicts", "n": 1000, "rss_base_kib": 1000, "process_peak_kib": 2000},
        {"engine": "generate", "n": 1000, "reused": True},
        {"engine": "pandas", "n": 1000, "error": "exit status -9"},
    ]
    assert suite._needed_kib(rows, 10_000) == int((1000 + 2 * 10_000) * suite.MEMORY_MARGIN)


def test_a_size_that_does_not_fit_in_memory_is_skipped(monkeypatch):
    monkeypatch.setattr(suite, "UNCHECKED_N", 100)
    monkeypatch.setattr(suite, "CALIBRATION_N", 100)
    monkeypatch.setattr(suite.memory, "mem_available_kib", lambda: 1)
    said: list[str] = []
    (size,) = suite.run(
        [1000], repeat=1, engines=["floor_dicts"], options={"seed": 1}, say=said.append
    )
    assert "MemAvailable" in size["skipped"]
    assert "engines" not in size
    assert "data" not in size  # not even generated
    assert any("skipped" in line for line in said)
    assert "skipped" in suite.render_table([size])


def test_an_engine_that_does_not_fit_in_memory_is_skipped_alone(monkeypatch):
    monkeypatch.setattr(suite, "UNCHECKED_N", 100)
    monkeypatch.setattr(suite, "CALIBRATION_N", 100)
    monkeypatch.setattr(suite.memory, "mem_available_kib", lambda: 10**6)
    hungry = {"plan_dicts": 10**7}
    monkeypatch.setattr(suite, "_needed_kib", lambda rows, n: hungry.get(rows[0]["engine"], 1))
    said: list[str] = []
    (size,) = suite.run(
        [300], repeat=1, engines=["floor_dicts", "plan_dicts"], options={}, say=said.append
    )
    assert size["memory_needed_kib"] == {"generate": 1, "floor_dicts": 1, "plan_dicts": 10**7}
    floor, plan = size["engines"]["floor_dicts"], size["engines"]["plan_dicts"]
    assert floor["best_s"] > 0
    assert "MemAvailable" in plan["skipped"]
    assert size["ratios"] == {}
    assert "plan_invoices     skipped: needs" in suite.render_table([size])
    assert suite.scaling([size])["engines"].keys() == {"floor_dicts"}


@pytest.mark.parametrize(
    "argv", [["--sizes", "ten"], ["--sizes", "0"], ["--engines", "numba"], ["--repeat", "0"]]
)
def test_bad_arguments_are_refused(argv):
    with pytest.raises(SystemExit) as exit_info:
        suite.main(argv)
    assert exit_info.value.code == 2


def test_ledger_benchmark_runs(capsys):
    from benchmarks.ledger import main as ledger_main

    assert ledger_main(["--n", "300"]) == 0
    out = capsys.readouterr().out
    assert "sqlite" in out
    assert "x bare executemany" in out


def test_lower_bound_steps_place_every_purchase_once():
    from benchmarks import lower_bound

    records = purchases(N, seed=3)
    data = typed(records)
    plain = [r for r in records if type(r["amount"]) is int]  # what dict_steps keeps
    for steps, fields in (
        (lower_bound.typed_steps(data),
         [(p.id, p.status.value, p.amount, p.vat_amount) for p in data]),
        (lower_bound.dict_steps(records),
         [(r["id"], r["status"], r["amount"], r["vat_amount"]) for r in plain]),
    ):  # fmt: skip
        step = dict(steps)
        authorized = {f[0]: f for f in fields if f[1] == "AUTHORIZED"}
        assert 0 < len(authorized) < len(fields) == len(plain)
        assert sum(map(len, step["floor"]().values())) == len(fields)
        assert sum(map(len, step["+ period"]().values())) == len(fields)
        lines = step["+ lines, ids"]()
        assert sorted(line[1] for group in lines.values() for line in group) == sorted(authorized)
        invoices = step["+ invoices"]()
        assert len(invoices) == len(lines)
        assert len({invoice[0] for invoice in invoices}) == len(invoices)  # ids tell them apart
        assert sum(invoice[3] for invoice in invoices) == sum(f[2] for f in authorized.values())
        assert sum(invoice[4] for invoice in invoices) == sum(f[3] for f in authorized.values())
        assert step["plan_invoices"]().invoices


def test_lower_bound_prints_each_step_against_the_floor(capsys):
    from benchmarks.lower_bound import main as lower_bound_main

    assert lower_bound_main(["--n", str(N), "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    for kind in ("typed", "dicts"):
        assert f"{kind} (n={N}, best of 1):" in out
    assert out.count("x floor") == 10
    with pytest.raises(SystemExit):
        lower_bound_main(["--n", "0"])
