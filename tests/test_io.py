"""Reading purchase files: formats, detection, and bad lines that become rejections."""

from __future__ import annotations

import json
import runpy
import sys

import pytest

from kravia_schedule import InvalidPurchaseError, plan_invoices
from kravia_schedule.io import read_json_file, read_records

RECORD = {"id": "T1", "amount": 100, "billing_address": {"country": "NO"}}


def test_jsonl_detected_by_content_without_suffix(tmp_path):
    source = tmp_path / "purchases"
    source.write_text("\n" + json.dumps(RECORD) + "\n\n" + json.dumps(RECORD) + "\n")
    assert list(read_records(source)) == [RECORD, RECORD]


def test_ndjson_suffix_and_explicit_format(tmp_path):
    source = tmp_path / "purchases.ndjson"
    source.write_text(json.dumps(RECORD) + "\n")
    assert list(read_records(source)) == [RECORD]
    data = tmp_path / "purchases.txt"
    data.write_text(json.dumps([RECORD]))
    assert list(read_records(data, "json")) == [RECORD]


def test_json_array_detected_by_content(tmp_path):
    source = tmp_path / "purchases.data"
    source.write_text("  " + json.dumps([RECORD, RECORD]))
    assert list(read_records(source)) == [RECORD, RECORD]


@pytest.mark.parametrize(("text", "message"), [("{nope", "not valid JSON"), ('{"id": 1}', "array")])
def test_json_file_errors_are_value_errors(tmp_path, text, message):
    source = tmp_path / "purchases.json"
    source.write_text(text)
    with pytest.raises(ValueError, match=message):
        list(read_records(source))


def test_unknown_format_is_refused(tmp_path):
    source = tmp_path / "purchases.jsonl"
    source.write_text(json.dumps(RECORD))
    with pytest.raises(ValueError, match="unknown input format"):
        list(read_records(source, "xml"))


def test_csv_nested_columns_integers_and_blank_cells(tmp_path):
    source = tmp_path / "purchases.csv"
    source.write_text(
        "id,amount,vat_amount,billing_address.country,billing_address.customer_reference\n"
        "T1,100,-5,NO,\nT2,1.5,0,SE,dept\n"
    )
    assert list(read_records(source)) == [
        {"id": "T1", "amount": 100, "vat_amount": -5, "billing_address": {"country": "NO"}},
        {"id": "T2", "amount": "1.5", "vat_amount": 0,
         "billing_address": {"country": "SE", "customer_reference": "dept"}},
    ]  # fmt: skip


def test_csv_row_with_extra_cells_becomes_a_rejection(tmp_path):
    source = tmp_path / "purchases.csv"
    source.write_text("id,amount\nT1,100,surprise\n")
    (record,) = read_records(source)
    assert isinstance(record, InvalidPurchaseError)
    plan = plan_invoices([record])
    assert plan.rejected[0].field == "line 2"
    assert "more cells than header columns" in plan.rejected[0].reason


def test_bad_jsonl_line_is_rejected_without_stopping_the_run(tmp_path):
    source = tmp_path / "purchases.jsonl"
    source.write_text(json.dumps(RECORD) + "\n{broken\n" + json.dumps(RECORD) + "\n")
    records = list(read_records(source))
    assert records[0] == records[2] == RECORD
    assert isinstance(records[1], InvalidPurchaseError)
    assert records[1].path == "line 2"


def test_read_json_file(tmp_path):
    source = tmp_path / "config.json"
    source.write_text('{"kravia": {}}')
    assert read_json_file(source) == {"kravia": {}}


def test_python_dash_m_entry_point(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["kravia_schedule", "dates", "2024-03-31", "--country", "FI"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("kravia_schedule", run_name="__main__")
    assert exit_info.value.code == 0
    assert "issue date:     2024-04-02 (Tuesday)" in capsys.readouterr().out  # Easter Monday 1 Apr
