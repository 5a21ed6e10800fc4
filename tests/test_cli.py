"""The command line, end to end through ``main(argv)`` and as a subprocess."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from _records import nordmann_address
from hypothesis import given, settings
from hypothesis import strategies as st

from kravia_schedule import plan_invoices
from kravia_schedule.cli import main
from kravia_schedule.report import plan_to_csv, spreadsheet_text
from kravia_schedule.testing import purchase_batches

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_plan_example_table(capsys):
    status, out, err = run(
        capsys, "plan", str(EXAMPLES / "purchases.jsonl"), "--config", str(EXAMPLES / "config.json"),
        "--as-of", "2026-11-25",
    )  # fmt: skip
    assert status == 0
    assert "-> 22 invoices, 3 skipped, 5 rejected" in out
    # 23:30 UTC on 31 Oct is 00:30 on 1 Nov in Oslo: November's invoice, issued 1 Dec
    assert "txn_016        2026-11-01 00:30 Europe/Oslo" in out
    assert "moved past 1 Nov Sunday" in out
    assert "'DK' is not a Kravia market" in out
    assert "5 record(s) rejected" in err


def test_plan_strict_exits_non_zero_on_rejections(capsys):
    status, _, _ = run(capsys, "plan", str(EXAMPLES / "purchases.jsonl"), "--strict")
    assert status == 1


def test_plan_json_accounts_for_every_record(capsys):
    status, out, _ = run(capsys, "plan", str(EXAMPLES / "purchases.jsonl"), "--format", "json")
    assert status == 0
    data = json.loads(out)
    records = (EXAMPLES / "purchases.jsonl").read_text().splitlines()
    lines = sum(len(i["transactions"]) for i in data["invoices"])
    assert lines + len(data["skipped"]) + len(data["rejected"]) == len(records)
    assert data["computed_with"]["holidays_version"]
    assert data["computed_with"]["config"]["invoice_b2b_grouped"]["enabled"] is True


def test_plan_csv_one_row_per_record(capsys):
    status, out, _ = run(capsys, "plan", str(EXAMPLES / "purchases.jsonl"), "--format", "csv")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == len((EXAMPLES / "purchases.jsonl").read_text().splitlines())
    assert {r["outcome"] for r in rows} == {"invoiced", "skipped", "rejected"}


def test_plan_reads_csv_and_json_array_inputs(capsys, tmp_path):
    records = [json.loads(line) for line in (EXAMPLES / "purchases.jsonl").read_text().splitlines()]
    array = tmp_path / "purchases.json"
    array.write_text(json.dumps(records))
    _, from_jsonl, _ = run(capsys, "plan", str(EXAMPLES / "purchases.jsonl"), "--format", "csv")
    _, from_array, _ = run(capsys, "plan", str(array), "--format", "csv")
    assert from_array == from_jsonl

    flat = tmp_path / "purchases.csv"
    columns = [
        "id",
        "created_at",
        "amount",
        "vat_amount",
        "currency",
        "status",
        "payment_product_type",
    ]
    address = nordmann_address()
    with flat.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns + [f"billing_address.{a}" for a in address])
        writer.writerow(["T1", "2021-03-05T10:00:00+01:00", "5000", "1000", "NOK", "AUTHORIZED",
                         "kravia.invoice_b2b_grouped", *address.values()])  # fmt: skip
        writer.writerow(["T2", "2021-03-06T10:00:00+01:00", "12.50", "0", "NOK", "AUTHORIZED",
                         "kravia.invoice_b2b_grouped", *address.values()])  # fmt: skip
    status, out, _ = run(capsys, "plan", str(flat), "--interval", "quarterly")
    assert status == 0
    assert "period 2021-Q1, issued 2021-04-06" in out
    assert "T2 (record 2): amount: must be an integer" in out


def test_plan_reports_an_unreadable_jsonl_line_as_rejected(capsys, tmp_path):
    source = tmp_path / "broken.jsonl"
    source.write_text('{"id": "T1",\nnot json\n')
    status, out, _ = run(capsys, "plan", str(source))
    assert status == 0
    assert "line 1: not valid JSON" in out
    assert "line 2: not valid JSON" in out


def test_plan_missing_file_is_a_usage_error(capsys, tmp_path):
    status, _, err = run(capsys, "plan", str(tmp_path / "nope.jsonl"))
    assert status == 2
    assert "cannot read" in err


def test_plan_invalid_config_is_a_usage_error(capsys, tmp_path):
    config = tmp_path / "config.json"
    config.write_text('{"kravia": {"invoice_b2b": {"days_until_due": 400}}}')
    status, _, err = run(capsys, "plan", str(EXAMPLES / "purchases.jsonl"), "--config", str(config))
    assert status == 2
    assert "kravia.invoice_b2b.days_until_due" in err


def test_dates_norway_q1_2021_explains_every_skipped_day(capsys):
    status, out, _ = run(
        capsys, "dates", "2021-02-10", "--country", "NO", "--interval", "quarterly"
    )
    assert status == 0
    for text in ("2021-04-01 Thu: Maundy Thursday", "2021-04-02 Fri: Good Friday",
                 "2021-04-03 Sat: Saturday", "2021-04-04 Sun: Easter Sunday (Sunday)",
                 "2021-04-05 Mon: Easter Monday", "issue date:     2021-04-06 (Tuesday)",
                 "due date:       2021-04-20"):  # fmt: skip
        assert text in out


def test_dates_timestamp_is_read_in_the_customer_zone(capsys):
    status, out, _ = run(capsys, "dates", "2025-01-31T23:30:00Z", "--country", "no")
    assert status == 0
    assert "purchase date:  2025-02-01 (Saturday) in NO" in out
    assert "billing period: 2025-02" in out


def test_dates_standard_with_following_due_date(capsys):
    status, out, _ = run(
        capsys, "dates", "2025-03-15", "--country", "SE", "--standard", "--days-until-due", "14",
        "--due-date-rule", "following",
    )  # fmt: skip
    assert status == 0
    assert "issue date:     2025-03-15" in out
    assert "due date moved past 2025-03-29 Sat" in out
    assert "due date:       2025-03-31 (Monday)" in out


@pytest.mark.parametrize("bad", ["2025-01-31T23:30:00", "31.01.2025"])
def test_dates_rejects_naive_or_malformed_input(capsys, bad):
    with pytest.raises(SystemExit) as exit_info:
        main(["dates", bad, "--country", "NO"])
    assert exit_info.value.code == 2
    assert "2025" in capsys.readouterr().err


def test_calendar_lists_every_issue_date_with_reasons(capsys):
    status, out, _ = run(capsys, "calendar", "2021", "--country", "SE", "--interval", "monthly")
    assert status == 0
    assert out.count(" issued ") == 12
    assert "2021-03  issued 2021-04-01 Thu" in out  # Maundy Thursday is no holiday in Sweden
    assert (
        "2021-12  issued 2022-01-03 Mon  due 2022-01-17  moved past 1 Jan New Year's Day (Saturday), 2 Jan Sunday"
        in out
    )


def test_calendar_beyond_the_holiday_data_is_an_error(capsys):
    status, _, err = run(capsys, "calendar", "2100", "--country", "FI")
    assert status == 2
    assert "no holiday data for FI in 2101" in err


def test_check_config_valid_and_invalid(capsys, tmp_path):
    status, out, _ = run(capsys, "check-config", str(EXAMPLES / "config.json"))
    assert status == 0
    assert '"days_until_due": 30' in out
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "kravia": {
                    "invoice_b2b_grouped": {
                        "days_untill_due": 3,
                        "invoice_schedule": {"interval": "weekly"},
                    },
                    "invoice_b2c": {"require_identity_verification": False},
                }
            }
        )
    )
    status, _, err = run(capsys, "check-config", str(bad))
    assert status == 1
    assert "3 problem(s)" in err
    assert (
        "kravia.invoice_b2b_grouped.days_untill_due: unknown key; did you mean 'days_until_due'?"
        in err
    )
    assert "kravia.invoice_b2b_grouped.invoice_schedule.interval" in err
    assert "kravia.invoice_b2c.require_identity_verification" in err


def test_check_config_not_json(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    status, _, err = run(capsys, "check-config", str(bad))
    assert status == 2
    assert "bad.json: not valid JSON: Expecting property name" in err


def test_python_dash_m_and_stdin(tmp_path):
    source = (EXAMPLES / "purchases.jsonl").read_text()
    result = subprocess.run(
        [sys.executable, "-m", "kravia_schedule", "plan", "-", "--format", "json"],
        input=source, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["invoices"] == 22


def test_help_names_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("plan", "dates", "calendar", "check-config"):
        assert command in out


def test_progress_bar_on_request_and_never_with_quiet(capsys):
    status, _, err = run(capsys, "plan", str(EXAMPLES / "purchases.jsonl"), "--progress")
    assert status == 0
    assert "planning: 35.0 purchases" in err
    status, _, err = run(capsys, "plan", str(EXAMPLES / "purchases.jsonl"), "--quiet")
    assert status == 0
    assert "planning" not in err


def test_progress_without_tqdm_says_how_to_get_it(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now fails
    status, _, err = run(capsys, "plan", str(EXAMPLES / "purchases.jsonl"), "--progress")
    assert status == 0
    assert "--progress needs tqdm" in err


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_columnar_engine_gives_the_same_output(capsys, fmt):
    pytest.importorskip("polars")
    source = str(EXAMPLES / "purchases.jsonl")
    _, core, _ = run(capsys, "plan", source, "--format", fmt, "--as-of", "2026-11-25")
    status, columnar, _ = run(
        capsys, "plan", source, "--format", fmt, "--as-of", "2026-11-25", "--engine", "columnar"
    )
    assert status == 0
    assert columnar == core


def test_columnar_engine_needs_a_file(capsys):
    status, _, err = run(capsys, "plan", "-", "--engine", "columnar")
    assert status == 2
    assert "reads a Parquet, CSV or JSONL file path" in err


@settings(max_examples=60, deadline=None)
@given(purchase_batches(max_size=30), st.sampled_from([None, date(2025, 6, 1)]))
def test_plan_csv_rows_carry_each_column_of_the_plan(batch, as_of):
    plan = plan_invoices(batch.records, batch.config, as_of=as_of)
    rows = list(csv.DictReader(io.StringIO(plan_to_csv(plan))))
    blank = dict.fromkeys(
        ["invoice_id", "business_name", "organization_number", "country", "customer_reference",
         "period", "issue_date", "due_date", "state", "reason"], "",
    )  # fmt: skip
    expected = [
        {
            **blank,
            "outcome": "invoiced",
            "transaction_id": line.transaction_id,
            "invoice_id": invoice.id,
            "product_type": invoice.product_type.value,
            "business_name": invoice.billing_address.business_name or "",
            "organization_number": invoice.customer.organization_number,
            "country": invoice.country.value,
            "customer_reference": invoice.billing_address.customer_reference or "",
            "currency": invoice.currency,
            "amount": str(line.amount),
            "vat_amount": str(line.vat_amount),
            "period": invoice.period.label if invoice.period else "",
            "issue_date": invoice.issue_date.isoformat(),
            "due_date": invoice.due_date.isoformat(),
            "state": invoice.state.value if invoice.state else "",
        }
        for invoice in plan.invoices
        for line in invoice.lines
    ]
    expected += [
        {
            **blank, "outcome": "skipped", "transaction_id": s.transaction_id,
            "product_type": s.product_type.value, "currency": s.currency,
            "amount": str(s.amount), "vat_amount": str(s.vat_amount),
            "reason": f"{s.reason.value}: {s.detail}",
        }
        for s in plan.skipped
    ]  # fmt: skip
    expected += [
        {**blank, "outcome": "rejected", "transaction_id": r.transaction_id or "",
         "product_type": "", "currency": "", "amount": "", "vat_amount": "", "reason": r.reason}
        for r in plan.rejected
    ]  # fmt: skip
    # Text cells as a spreadsheet must show them (never as a formula); amounts as numbers.
    numbers = ("amount", "vat_amount")
    expected = [
        {k: v if k in numbers else spreadsheet_text(v) for k, v in row.items()} for row in expected
    ]
    assert rows == expected


def _undescribed(help_text: str) -> list[str]:
    """The arguments in an argparse help text that have no help of their own."""
    lines = help_text.splitlines()
    missing = []
    for number, line in enumerate(lines):
        if not line.startswith("  ") or line.startswith("   "):
            continue  # not an argument's first line
        name, _, rest = line.strip().partition("  ")
        following = lines[number + 1] if number + 1 < len(lines) else ""
        if not rest.strip() and not following.startswith("    "):
            missing.append(name)
    return missing


@pytest.mark.parametrize(
    "command", ["plan", "dates", "calendar", "check-config", "check-id", "reference"]
)
def test_every_option_has_help(capsys, command):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert "--" in out
    assert _undescribed(out) == []


def test_undescribed_finds_an_option_without_help():
    text = "options:\n  -h, --help  show this help\n  --standard\n  --country {NO}\n    country\n"
    assert _undescribed(text) == ["--standard"]
