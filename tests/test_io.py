"""Reading purchase files: formats, detection, and bad lines that become rejections."""

from __future__ import annotations

import csv
import io
import json
import re
import runpy
import sys

import pytest
from _records import NORDMANN_ADDRESS, nordmann_record

from kravia_schedule import InvalidPurchaseError, plan_invoices
from kravia_schedule.io import MAX_NESTING, InputFileError, read_json_file, read_records, unflatten

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


@pytest.mark.parametrize(("text", "message"), [("{nope", "not valid JSON"), ("17", "array")])
def test_json_file_errors_are_value_errors(tmp_path, text, message):
    source = tmp_path / "purchases.json"
    source.write_text(text)
    with pytest.raises(ValueError, match=message):
        list(read_records(source))


def test_a_json_file_of_one_object_is_one_record(tmp_path):
    # A GET /v1/transactions/{id} response or a callback body, saved as it came.
    source = tmp_path / "transaction.json"
    source.write_text(json.dumps(RECORD, indent=2))
    assert list(read_records(source)) == [RECORD]


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


# --- hostile input: every bad line is a rejection, every bad file one typed error -----

NORDMANN = nordmann_record("T1", "2025-01-10T10:00:00+01:00", 5000)
CSV_COLUMNS = ["id", "created_at", "amount", "vat_amount", "currency", "status",
               "payment_product_type", *(f"billing_address.{k}" for k in NORDMANN_ADDRESS)]  # fmt: skip


def csv_line(*cells: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


def nordmann_csv_row(id: str, amount: str = "5000", vat_amount: str = "1000") -> str:
    return csv_line(id, "2025-01-10T10:00:00+01:00", amount, vat_amount, "NOK", "AUTHORIZED",
                    "kravia.invoice_b2b_grouped", *NORDMANN_ADDRESS.values())  # fmt: skip


def problem_of(record: object) -> tuple[str, str]:
    assert isinstance(record, InvalidPurchaseError)
    (problem,) = record.problems
    return problem.path, problem.message


def test_jsonl_line_of_invalid_utf8_is_rejected_with_its_line(tmp_path):
    source = tmp_path / "purchases.jsonl"
    good = json.dumps(NORDMANN).encode()
    source.write_bytes(
        good
        + b"\n"
        + b'{"id": "T2\xff\xfe"}\n'
        + json.dumps(dict(NORDMANN, id="T3")).encode()
        + b"\n"
    )
    first, bad, third = read_records(source)
    assert first == NORDMANN
    assert third["id"] == "T3"
    assert problem_of(bad) == ("line 2", "not valid UTF-8 (byte 0xFF at column 11)")
    plan = plan_invoices([first, bad, third])
    assert [r.field for r in plan.rejected] == ["line 2"]
    assert sum(len(i.lines) for i in plan.invoices) == 2


@pytest.mark.parametrize("depth", [100_000, MAX_NESTING + 1])
def test_jsonl_line_nested_too_deep_is_rejected(tmp_path, depth):
    source = tmp_path / "purchases.jsonl"
    source.write_text("[" * depth + "]" * depth + "\n" + json.dumps(NORDMANN) + "\n")
    bad, good = read_records(source)
    assert problem_of(bad) == ("line 1", f"not read: JSON nested deeper than {MAX_NESTING} levels")
    assert good == NORDMANN


def test_nesting_up_to_the_bound_is_read(tmp_path):
    nested: object = "x"
    for _ in range(MAX_NESTING - 1):
        nested = [nested]
    record = dict(NORDMANN, notes=nested)  # the record itself is the 64th level
    source = tmp_path / "purchases.jsonl"
    source.write_text(json.dumps(record) + "\n")
    assert list(read_records(source)) == [record]


def test_jsonl_number_too_long_for_int_is_rejected(tmp_path):
    source = tmp_path / "purchases.jsonl"
    source.write_text('{"id": "T1", "amount": ' + "9" * 5000 + "}\n" + json.dumps(NORDMANN) + "\n")
    bad, good = read_records(source)
    where, message = problem_of(bad)
    assert where == "line 1"
    assert message.startswith("not valid JSON: Exceeds the limit")
    assert good == NORDMANN


def test_jsonl_lone_surrogate_is_rejected_naming_the_field(tmp_path):
    source = tmp_path / "purchases.jsonl"
    record = nordmann_record("T1", "2025-01-10T10:00:00+01:00", business_name="\ud800x")
    source.write_text(json.dumps(record) + "\n")  # json.dumps writes the escape \ud800
    (bad,) = read_records(source)
    assert bad.transaction_id == "T1"
    assert problem_of(bad) == (
        "line 1",
        "billing_address.business_name: is not valid Unicode text "
        "(a lone surrogate U+D800 at character 1)",
    )
    source.write_text('{"id": "T2", "\\udc00key": 1}\n')
    (bad,) = read_records(source)
    assert problem_of(bad)[1].startswith("\\udc00key: its name is not valid Unicode text")


def test_jsonl_valid_escapes_and_non_ascii_text_are_read(tmp_path):
    record = nordmann_record("T1", "2025-01-10T10:00:00+01:00", business_name="Ærø 😀 AS")
    source = tmp_path / "purchases.jsonl"
    source.write_text(json.dumps(record) + "\n")  # ensure_ascii: \u00c6 and a surrogate pair
    assert list(read_records(source)) == [record]
    source.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    assert list(read_records(source)) == [record]


def test_json_array_problems_are_whole_file_errors(tmp_path):
    source = tmp_path / "purchases.json"
    text = json.dumps([NORDMANN, NORDMANN])
    source.write_text(text[:-20])  # truncated: refused whole, never planned in part
    with pytest.raises(InputFileError, match=r"purchases.json: not valid JSON: .*line 1") as error:
        list(read_records(source))
    assert error.value.source == str(source)
    source.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputFileError, match="nested deeper than 64 levels"):
        list(read_records(source))
    source.write_bytes(b'[\n {"id": "T\xc3"}]')
    with pytest.raises(InputFileError, match=r"not valid UTF-8 \(byte 0xC3 at line 2, column 11\)"):
        list(read_records(source))


def test_json_array_record_with_a_lone_surrogate_is_rejected_alone(tmp_path):
    source = tmp_path / "purchases.json"
    source.write_text(json.dumps([NORDMANN, dict(NORDMANN, id="T2", merchant_reference="\udfff")]))
    good, bad = read_records(source)
    assert good == NORDMANN
    assert bad.transaction_id == "T2"
    assert problem_of(bad)[0] == "record 2"
    assert problem_of(bad)[1].startswith("merchant_reference: is not valid Unicode text")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a binary file, not JSON or CSV text (a NUL byte at character 9)"),
        (b"\xff\xfei\x00d\x00", "a UTF-16 or UTF-32 text file; save it as UTF-8"),
        (b"PAR1\x15\x04", "a Parquet file"),
        (b"id,amount\nT1,1\x00\n", "a NUL byte at character 15"),
    ],
)  # fmt: skip
def test_binary_files_are_whole_file_errors(tmp_path, data, message):
    for name in ("purchases.jsonl", "purchases.csv", "purchases.json", "purchases"):
        source = tmp_path / name
        source.write_bytes(data)
        with pytest.raises(InputFileError, match=re.escape(message)):
            list(read_records(source))


@pytest.mark.parametrize(
    ("name", "text"),
    [("p.jsonl", ""), ("p.jsonl", "\n \n\t\n"), ("p.json", " \n"), ("p.json", "[]"),
     ("p.csv", ""), ("p.csv", "\n\n"), ("p.csv", "id,amount\n"), ("p", ""), ("p", "\n\n  \n")],
)  # fmt: skip
def test_empty_inputs_yield_no_records(tmp_path, name, text):
    source = tmp_path / name
    source.write_text(text)
    assert list(read_records(source)) == []


def test_missing_file_and_directory_raise_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        list(read_records(tmp_path / "nope.jsonl"))
    with pytest.raises(IsADirectoryError):
        list(read_records(tmp_path))
    with pytest.raises(IsADirectoryError):
        read_json_file(tmp_path)


def test_stdin_is_read_and_left_open(monkeypatch):
    data = ("\ufeff" + json.dumps(NORDMANN) + "\n").encode()
    stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    assert list(read_records("-")) == [NORDMANN]
    assert not stdin.buffer.closed


def test_csv_with_bom_reads_its_first_column(tmp_path):
    source = tmp_path / "purchases.csv"
    source.write_bytes(("\ufeff" + csv_line(*CSV_COLUMNS) + nordmann_csv_row("T1")).encode())
    (record,) = read_records(source)
    assert record["id"] == "T1"
    assert plan_invoices([record]).invoices


def test_csv_repeated_header_column_rejects_every_row(tmp_path):
    source = tmp_path / "purchases.csv"
    source.write_text("id,amount,vat_amount,amount\nT1,100,0,900\n\nT2,5,0,5\n")
    message = (
        "column 'amount' is in the header (line 1) twice, as columns 2 and 4: "
        "which one to read is ambiguous"
    )
    assert [problem_of(r) for r in read_records(source)] == [
        ("line 2", message),
        ("line 4", message),
    ]


def test_csv_missing_columns_reject_each_record_naming_the_field(tmp_path):
    source = tmp_path / "purchases.csv"
    columns = [c for c in CSV_COLUMNS if c != "amount"]
    row = next(csv.reader([nordmann_csv_row("T1")]))
    del row[CSV_COLUMNS.index("amount")]
    source.write_text(csv_line(*columns) + csv_line(*row))
    plan = plan_invoices(read_records(source))
    assert [(r.transaction_id, r.field) for r in plan.rejected] == [("T1", "amount")]
    assert "is required" in plan.rejected[0].reason


@pytest.mark.parametrize(
    "digits", ["\u0665\u0660\u0660\u0660", "\uff15\uff10\uff10\uff10", "\u0bec\u0be6"]
)
def test_csv_money_in_digits_outside_ascii_is_never_read_as_a_number(tmp_path, digits):
    assert int(digits) > 0  # what int() alone would do
    source = tmp_path / "purchases.csv"
    source.write_text(
        csv_line(*CSV_COLUMNS) + nordmann_csv_row("T1", amount=digits), encoding="utf-8"
    )
    (record,) = read_records(source)
    assert record["amount"] == digits
    plan = plan_invoices([record])
    assert [r.field for r in plan.rejected] == ["amount"]
    assert "must be an integer" in plan.rejected[0].reason


def test_csv_money_of_more_digits_than_int_converts_stays_text(tmp_path):
    source = tmp_path / "purchases.csv"
    source.write_text(csv_line(*CSV_COLUMNS) + nordmann_csv_row("T1", amount="9" * 5000))
    (record,) = read_records(source)
    assert record["amount"] == "9" * 5000
    assert plan_invoices([record]).rejected[0].field == "amount"


def test_csv_cell_larger_than_the_csv_module_default_is_read(tmp_path):
    big = "x" * 200_000
    source = tmp_path / "purchases.csv"
    source.write_text("id,merchant_reference\nT1," + big + "\nT2,short\n")
    assert list(read_records(source)) == [
        {"id": "T1", "merchant_reference": big},
        {"id": "T2", "merchant_reference": "short"},
    ]


def test_csv_field_limit_is_raised_never_lowered(tmp_path):
    source = tmp_path / "purchases.csv"
    source.write_text("id\nT1\n")
    before = csv.field_size_limit(2**40)
    try:
        list(read_records(source))
        assert csv.field_size_limit() == 2**40
    finally:
        csv.field_size_limit(before)


def test_csv_unreadable_rows_are_rejected_and_reading_goes_on(tmp_path):
    source = tmp_path / "purchases.csv"
    source.write_text('id,merchant_reference\nT1,"ok"\nT2,"text"after\nT3,fine\nT4,"open\nT5,x\n')
    one, after, three, unclosed = read_records(source)
    assert one == {"id": "T1", "merchant_reference": "ok"}
    assert problem_of(after) == ("line 3", "not valid CSV: ',' expected after '\"'")
    assert three == {"id": "T3", "merchant_reference": "fine"}
    assert problem_of(unclosed) == ("lines 5-6", "not valid CSV: unexpected end of data")


def test_csv_cell_of_invalid_utf8_is_rejected_naming_the_column(tmp_path):
    source = tmp_path / "purchases.csv"
    source.write_bytes(b"id,merchant_reference\nT1,caf\xe9\nT2,caf\xc3\xa9\n")
    bad, good = read_records(source)
    assert problem_of(bad) == (
        "line 2",
        "column 'merchant_reference': not valid UTF-8 (byte 0xE9 at character 4)",
    )
    assert good == {"id": "T2", "merchant_reference": "café"}
    source.write_bytes(b"id,ref\xff\nT1,x\n")
    with pytest.raises(InputFileError, match="header column 2: not valid UTF-8"):
        list(read_records(source))


def test_csv_short_row_leaves_its_missing_cells_absent(tmp_path):
    source = tmp_path / "purchases.csv"
    source.write_text("id,amount,currency\nT1,100\n")
    assert list(read_records(source)) == [{"id": "T1", "amount": 100}]


def test_csv_blank_lines_before_the_header_are_skipped(tmp_path):
    for name in ("purchases.csv", "purchases"):
        source = tmp_path / name
        source.write_text("\n\nid,amount\n\nT1,100\n")
        assert list(read_records(source)) == [{"id": "T1", "amount": 100}]


@pytest.mark.parametrize(
    "row",
    [
        {"billing_address": "x", "billing_address.country": "NO"},
        {"billing_address.country": "NO", "billing_address": "x"},
    ],
)
def test_unflatten_a_value_wins_over_columns_nested_under_it(row):
    assert unflatten(row) == {"billing_address": "x"}
    assert unflatten({"a.b": "1", "a.b.c": "2"}) == unflatten({"a.b.c": "2", "a.b": "1"})


def test_unflatten_money_and_empty_cells():
    assert unflatten({"amount": " 42 ", "vat_amount": "-0", "x": "", "y": None, "a.b": "c"}) == {
        "amount": 42, "vat_amount": 0, "a": {"b": "c"},
    }  # fmt: skip
    assert unflatten({"amount": "1_000", "vat_amount": "1e3"}) == {
        "amount": "1_000", "vat_amount": "1e3",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"  \n", "is empty"),
        (b'{"kravia": {}', "not valid JSON: Expecting ',' delimiter (line 1, column 14)"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper than 64 levels"),
        (b'{"a": "\xff"}', "not valid UTF-8 (byte 0xFF at line 1, column 8)"),
        (b"\x00\x00\x00", "a binary file"),
        (b'{"a": ' + b"1" * 5000 + b"}", "not valid JSON: Exceeds the limit"),
    ],
)
def test_read_json_file_errors_name_the_file(tmp_path, data, message):
    source = tmp_path / "config.json"
    source.write_bytes(data)
    with pytest.raises(InputFileError, match=re.escape(message)) as error:
        read_json_file(source)
    assert str(error.value).startswith(f"{source}: ")


def test_no_standard_input_at_all(monkeypatch):
    monkeypatch.setattr(sys, "stdin", None)
    with pytest.raises(InputFileError, match="<stdin>: there is no standard input to read"):
        list(read_records("-"))


def test_json_array_nested_past_the_bound_but_not_the_interpreter_is_refused(tmp_path):
    source = tmp_path / "purchases.json"
    source.write_text("[" + json.dumps(dict(NORDMANN, notes=json.loads("[" * 70 + "]" * 70))) + "]")
    with pytest.raises(InputFileError, match="not read: JSON nested deeper than 64 levels"):
        list(read_records(source))


def test_lone_surrogate_inside_a_list_or_a_non_object_line(tmp_path):
    source = tmp_path / "purchases.jsonl"
    source.write_text('{"id": "T1", "items": ["ok", "\\ud800"]}\n["\\udfff"]\n')
    in_list, not_object = read_records(source)
    assert in_list.transaction_id == "T1"
    assert problem_of(in_list)[1].startswith("items[1]: is not valid Unicode text")
    assert not_object.transaction_id is None
    assert problem_of(not_object) == (
        "line 2",
        "$[0]: is not valid Unicode text (a lone surrogate U+DFFF at character 1)",
    )


def test_csv_header_that_is_not_valid_csv_is_a_whole_file_error(tmp_path):
    source = tmp_path / "purchases.csv"
    source.write_text('"id,amount\nT1,1\n')
    with pytest.raises(
        InputFileError, match="line 2: the CSV header is not valid CSV: unexpected end of data"
    ):
        list(read_records(source))


def test_many_brackets_side_by_side_are_not_deep(tmp_path):
    record = dict(NORDMANN, notes=[[] for _ in range(MAX_NESTING * 2)])
    source = tmp_path / "purchases.jsonl"
    source.write_text(json.dumps(record) + "\n")
    assert list(read_records(source)) == [record]
