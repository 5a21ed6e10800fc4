"""``kravia-schedule reconcile``: Kravia's invoices (its facts on Dintero's transactions,
tests/fixtures/reconcile/) against the schedule, through ``cli.main`` in process.

Exit status 0 all agree, 1 discrepancies, 2 the input cannot be reconciled: each bad
case names the file, or the record and field, on stderr, without a traceback.
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from kravia_schedule.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "reconcile"
AGREES = FIXTURES / "kravia_agrees.json"
DIFFERS = FIXTURES / "kravia_discrepancies.json"
CONFIG = str(ROOT / "examples" / "config.json")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out, err


def records(path: Path) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def write(tmp_path: Path, name: str, value: Any) -> str:
    path = tmp_path / name
    path.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")
    return str(path)


# -- agreement and discrepancies ---------------------------------------------------------------


def test_invoices_that_agree_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "reconcile", str(AGREES), "--config", CONFIG)
    assert (status, err) == (0, "")
    assert out == "3 transaction(s) invoiced by Kravia checked: all agree with the schedule\n"


def test_each_discrepancy_is_printed_with_its_reason(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "reconcile", str(DIFFERS), "--config", CONFIG)
    assert status == 1
    lines = out.splitlines()
    assert lines[-1] == "5 transaction(s) invoiced by Kravia checked: 8 discrepancies"
    found = [line.split(": ", 2)[:2] for line in lines[:-1]]
    assert found == [
        ["T00000201.GroupedOctober00000a", "other_invoice"],
        ["T00000202.GroupedMidnight0000a", "other_invoice"],
        ["T00000202.GroupedMidnight0000a", "issue_date"],
        ["T00000202.GroupedMidnight0000a", "due_date"],
        ["T00000203.StandardShortTerm00a", "due_date"],
        ["T00000204.GroupedVoided000000a", "not_scheduled"],
        ["T00000205.GroupedSeptember000a", "issue_date"],
        ["T00000205.GroupedSeptember000a", "due_date"],
    ]
    assert lines[2] == (
        "T00000202.GroupedMidnight0000a: issue_date: expected 2026-12-01, Kravia has "
        "2026-11-02 (purchased on 2026-11-01 in Europe/Oslo, in billing period 2026-11 "
        "(2026-11-01 to 2026-11-30); issued on the first business day after it)"
    )
    assert lines[4] == (
        "T00000203.StandardShortTerm00a: due_date: expected 2026-12-10, Kravia has "
        "2026-11-24 (30 days after the issue date 2026-11-10 (invoice_b2b.days_until_due))"
    )
    assert lines[5] == (
        "T00000204.GroupedVoided000000a: not_scheduled: expected no invoice, Kravia has "
        "K-2003 (voided: voided before billing)"
    )


def test_as_of_adds_what_kravia_has_not_invoiced(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["reconcile", str(DIFFERS), "--config", CONFIG, "--as-of"]
    _, before, _ = run(capsys, *argv, "2026-09-30")  # September's invoice not issued yet
    status, after, _ = run(capsys, *argv, "2026-10-01")
    assert status == 1
    assert "not_invoiced" not in before
    [missing] = [line for line in after.splitlines() if "not_invoiced" in line]
    assert missing.startswith("T00000206.GroupedSeptMissing0a: not_invoiced: expected G-2026-09-")
    assert missing.endswith(
        "Kravia has no invoice (issued on 2026-10-01: purchased on 2026-09-20 in Europe/Oslo, "
        "in billing period 2026-09 (2026-09-01 to 2026-09-30); issued on the first business "
        "day after it)"
    )


def test_as_of_reads_a_timestamp_in_the_customers_zone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["reconcile", str(DIFFERS), "--config", CONFIG, "--as-of"]
    _, still_september, _ = run(capsys, *argv, "2026-09-30T21:59:00Z")  # 23:59 in Oslo
    _, october, _ = run(capsys, *argv, "2026-09-30T22:00:00Z")  # 00:00 on 1 October
    assert "not_invoiced" not in still_september
    assert "not_invoiced" in october


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["reconcile", str(DIFFERS), "--config", CONFIG, "--format", "json"]
    status, out, _ = run(capsys, *argv, "--as-of", "2026-11-20")
    assert status == 1
    result = json.loads(out)
    assert (result["checked"], result["agrees"], len(result["discrepancies"])) == (5, False, 9)
    assert result["discrepancies"][5] == {
        "transaction_id": "T00000204.GroupedVoided000000a",
        "finding": "not_scheduled",
        "expected": None,
        "actual": "K-2003",
        "why": "voided: voided before billing",
    }
    assert result["computed_with"]["as_of"] == "2026-11-20"
    assert result["computed_with"]["config"]["invoice_b2b"]["days_until_due"] == 30
    status, out, _ = run(capsys, "reconcile", str(AGREES), "--config", CONFIG, "--format", "json")
    assert (status, json.loads(out)["discrepancies"]) == (0, [])


def test_the_configuration_gives_the_schedule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With 14 days for B2B, Kravia's due date of T00000203 is the schedule's."""
    config = json.loads(Path(CONFIG).read_text(encoding="utf-8"))
    config["configuration"]["kravia"]["invoice_b2b"]["days_until_due"] = 14
    path = write(tmp_path, "config.json", config)
    status, out, _ = run(capsys, "reconcile", str(DIFFERS), "--config", path)
    assert status == 1
    assert "T00000203" not in out
    assert out.splitlines()[-1] == "5 transaction(s) invoiced by Kravia checked: 7 discrepancies"


# -- every file form plan reads ----------------------------------------------------------------


def test_json_lines_one_object_csv_and_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = run(capsys, "reconcile", str(DIFFERS), "--config", CONFIG)
    lines = "".join(json.dumps(r) + "\n" for r in records(DIFFERS))
    jsonl = write(tmp_path, "t.jsonl", lines)
    assert run(capsys, "reconcile", jsonl, "--config", CONFIG) == expected
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(lines.encode())))
    stdin = run(capsys, "reconcile", "-", "--input-format", "jsonl", "--config", CONFIG)
    assert stdin == expected
    one = write(tmp_path, "one.json", records(DIFFERS)[2])
    status, out, _ = run(capsys, "reconcile", one, "--config", CONFIG)
    assert status == 1
    assert out.splitlines()[0].startswith("T00000203.StandardShortTerm00a: due_date")
    # The example CSV without its deliberately invalid records; the flat shape carries no
    # Kravia facts.
    rows = (ROOT / "examples" / "purchases.csv").read_text(encoding="utf-8").splitlines()
    valid = [r for r in rows if not r.startswith(("txn_031,", "txn_032,", "txn_033,", "txn_034,"))]
    assert len(valid) == len(rows) - 4
    flat = write(tmp_path, "flat.csv", "\n".join(valid) + "\n")
    status, out, err = run(capsys, "reconcile", flat, "--config", CONFIG)
    assert (status, err) == (0, "")
    assert out.endswith("none carries Kravia's invoice facts, nothing to compare\n")


def test_an_identical_repeat_counts_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    twice = records(AGREES) + records(AGREES)[:1]
    status, out, _ = run(capsys, "reconcile", write(tmp_path, "t.json", twice), "--config", CONFIG)
    assert status == 0
    assert out.startswith("3 transaction(s) invoiced by Kravia checked: all agree")


# -- bad input: exit 2, naming the record and field or the file ---------------------------------


def _bad_date(rows: list[dict[str, Any]]) -> None:
    rows[1]["events"][1]["metadata"]["kravia:invoice_date"] = "02.11.2026"


def _no_status(rows: list[dict[str, Any]]) -> None:
    del rows[0]["status"]


def _bad_amount(rows: list[dict[str, Any]]) -> None:
    rows[2]["amount"] = "1250,00"


@pytest.mark.parametrize(
    ("change", "where", "field"),
    [
        (_bad_date, "record 2 (T00000202.GroupedMidnight0000a)",
         "events[1].metadata.kravia:invoice_date: '02.11.2026' is not a date (YYYY-MM-DD)"),
        (_no_status, "record 1 (T00000201.GroupedOctober00000a)", "status: is required"),
        (_bad_amount, "record 3 (T00000203.StandardShortTerm00a)", "amount:"),
    ],
)  # fmt: skip
def test_a_bad_record_is_named_and_nothing_is_reconciled(
    change: Any, where: str, field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = copy.deepcopy(records(DIFFERS))
    change(rows)
    path = write(tmp_path, "t.json", rows)
    status, out, err = run(capsys, "reconcile", path, "--config", CONFIG)
    assert (status, out) == (2, "")
    first, *details = err.splitlines()
    assert first == (
        f"kravia-schedule: error: {path}: 1 record(s) cannot be read; nothing was reconciled"
    )
    assert len(details) == 1
    assert details[0].startswith(f"  {where}: {field}")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "holds no transactions to reconcile"),
        ("", "holds no transactions to reconcile"),
        ('[{"id": ', "not valid JSON"),
        ('"T1"', "must hold an array of purchase objects, or one object"),
    ],
)
def test_a_bad_file_is_named(
    content: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "t.json", content)
    status, out, err = run(capsys, "reconcile", path, "--config", CONFIG)
    assert (status, out) == (2, "")
    assert message in err
    assert err.startswith("kravia-schedule: error: ")


def test_a_webhook_envelope_is_not_a_transaction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    envelope = {
        "account_id": "P00000000",
        "event": "checkout_transaction",
        "event_delivery": {"id": "d-1", "created_at": "2026-11-02T10:00:00Z"},
        "transaction": {"id": "T00000201.GroupedOctober00000a", "status": "CAPTURED"},
    }
    path = write(tmp_path, "hook.json", envelope)
    status, _, err = run(capsys, "reconcile", path, "--config", CONFIG)
    assert status == 2
    assert "record 1" in err
    assert "webhook" in err


def test_a_missing_file_or_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "nope.json")
    status, _, err = run(capsys, "reconcile", missing, "--config", CONFIG)
    assert status == 2
    assert f"cannot read {missing}" in err or "nope.json" in err
    status, _, err = run(capsys, "reconcile", str(AGREES), "--config", missing)
    assert status == 2
    assert "nope.json" in err


def test_an_invalid_config_names_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = {"kravia": {"invoice_b2b": {"enabled": True, "payability": "yes"}}}
    status, _, err = run(
        capsys, "reconcile", str(AGREES), "--config", write(tmp_path, "c.json", config)
    )
    assert status == 2
    assert "kravia.invoice_b2b.payability: must be one of 'payable'" in err


def test_config_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["reconcile", str(AGREES)])
    assert stop.value.code == 2
    assert "--config" in capsys.readouterr().err


def test_a_naive_as_of_timestamp_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["reconcile", str(AGREES), "--config", CONFIG, "--as-of", "2026-10-01T00:00"])
    assert stop.value.code == 2
    assert "has no UTC offset" in capsys.readouterr().err
