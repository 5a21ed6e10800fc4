"""The columnar planner must give exactly the plan of plan_invoices on the same records."""

from __future__ import annotations

import csv
import importlib
import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from _engines import flatten
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")

from _records import nordmann_record  # noqa: E402

from kravia_schedule import (  # noqa: E402
    KraviaConfig,
    NaiveDatetimeError,
    parse_configuration,
    plan_invoices,
)
from kravia_schedule.columnar import addresses, plan_file, plan_frame  # noqa: E402
from kravia_schedule.io import read_json_file, read_records  # noqa: E402
from kravia_schedule.testing import check_plan, purchase_batches  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
AS_OF = date(2026, 11, 25)


def slow(examples: int = 100) -> Any:
    return settings(
        max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


def nested(records: list[dict[str, Any]]) -> Any:
    """A DataFrame of valid ``records`` with a struct column ``billing_address``.

    The struct's fields are given: inferred from a list of dicts, Polars takes the first
    dict's keys and silently drops the others.
    """
    top = [k for k in records[0] if k != "billing_address"]
    columns = [pl.Series(k, [r.get(k) for r in records]) for k in top]
    addresses = [r["billing_address"] for r in records]
    fields = dict.fromkeys(k for a in addresses for k in a)
    dtype = pl.Struct(dict.fromkeys(fields, pl.String))
    columns.append(pl.Series("billing_address", addresses, dtype=dtype))
    return pl.DataFrame(columns)


def indices(plan: Any) -> list[tuple[str | None, int | None]]:
    return [(r.transaction_id, r.index) for r in plan.rejected]


def assert_same(frame_plan: Any, core_plan: Any) -> None:
    assert frame_plan == core_plan
    # Rejection.index takes no part in ==; the columnar plan still reports the input's.
    assert indices(frame_plan) == indices(core_plan)


def example_records() -> list[Any]:
    return list(read_records(EXAMPLES / "purchases.jsonl"))


def example_config() -> KraviaConfig:
    return parse_configuration(read_json_file(EXAMPLES / "config.json"))


# -- the property --------------------------------------------------------------------

as_of_values = st.one_of(
    st.none(),
    st.dates(date(1990, 1, 1), date(2100, 12, 31)),
    st.datetimes(datetime(1990, 1, 1), datetime(2100, 12, 31), timezones=st.just(UTC)),  # aware
)


@slow(250)
@given(purchase_batches(), st.booleans(), as_of_values)
def test_plan_frame_equals_plan_invoices(batch, strict, as_of):
    frame = flatten(batch.records)
    plan = plan_frame(frame, batch.config, as_of=as_of, strict=strict)
    assert_same(plan, plan_invoices(batch.records, batch.config, as_of=as_of, strict=strict))
    check_plan(plan, batch.records)


@slow(60)
@given(
    purchase_batches(max_size=25),
    st.booleans(),
    st.sampled_from(["unadjusted", "following"]),
    st.sampled_from(["public", "bank", "payment"]),
    st.lists(st.dates(date(1990, 1, 1), date(2100, 12, 31)), max_size=3),
)
def test_calendar_options_give_the_same_plan(batch, weekends_only, rule, kind, closed):
    options: dict[str, Any] = {
        "weekends_only": weekends_only,
        "due_date_rule": rule,
        "calendar_kind": kind,
        "closed_days": {"NO": closed, "SE": dict.fromkeys(closed, "strike")},
    }
    plan = plan_frame(flatten(batch.records), batch.config, **options)
    assert_same(plan, plan_invoices(batch.records, batch.config, **options))


@slow(60)
@given(purchase_batches(min_size=1, invalid=False))
def test_struct_and_flat_address_columns_give_the_same_plan(batch):
    core = plan_invoices(batch.records, batch.config)
    assert_same(plan_frame(nested(batch.records), batch.config), core)
    assert_same(plan_frame(flatten(batch.records), batch.config), core)
    assert_same(plan_frame(nested(batch.records).lazy(), batch.config), core)
    assert_same(plan_frame(nested(batch.records).to_arrow(), batch.config), core)


def test_the_columnar_path_takes_the_plainly_valid_rows(placed):
    records = example_records()
    config = example_config()
    plan = plan_frame(flatten(records), config, as_of=AS_OF)
    assert_same(plan, plan_invoices(records, config, as_of=AS_OF))
    invoiced = sum(len(invoice.lines) for invoice in plan.invoices)
    assert placed == [invoiced - 1]  # txn_003 is sent twice: the core invoices one copy


# -- timestamps, ids and zones at the edge of "plainly valid" ------------------------

BASE = nordmann_record("T1", "2025-01-31T23:30:00Z", 50000, merchant_reference="order-1")


def record(**changes: Any) -> dict[str, Any]:
    return {**BASE, **changes}


@pytest.mark.parametrize(
    "created_at",
    [
        "2025-01-31T23:30:00Z",
        "2025-01-31 23:30:00Z",
        "2025-01-31T23:30:00.5+05:30",
        "2025-01-31T23:30:00.1234567+00:00",  # 7 digits: the core truncates
        "2025-01-31T23:30:00-00:00",
        "2025-01-31T23:30:00+0100",
        "2025-01-31T23:30Z",
        "2025-01-31T24:00:00Z",  # dateutil reads hour 24; Polars does not
        "2025-01-31T23:59:60Z",  # a leap second: Polars reads it, the core does not
        "2025-02-30T10:00:00Z",
        "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",  # year 0 in UTC: rejected, not a crash
        "2025-01-31T23:30:00",
        "2025-01-31T23:30:00+24:00",
        "2025-01-31t23:30:00z",
        "2025-01-31",
        "yesterday",
        "",
        "1965-07-01T22:30:00Z",  # Polars' zone data has no 1965 summer time in Oslo
        "2090-07-01T22:30:00Z",
        "2100-12-15T10:00:00Z",  # issued in 2101, beyond the holiday data
        "2150-06-01T10:00:00Z",
        "1850-06-01T10:00:00Z",
    ],
)
def test_timestamps(created_at):
    records = [record(created_at=created_at), record(id="T2", created_at="2025-01-15T10:00:00Z")]
    try:
        core = plan_invoices(records)
    except ValueError as error:
        with pytest.raises(type(error), match=str(error)):
            plan_frame(flatten(records))
        return
    assert_same(plan_frame(flatten(records)), core)


@slow(150)
@given(
    st.datetimes(datetime(1900, 1, 1), datetime(2100, 10, 31)),
    st.integers(-23 * 60 - 59, 23 * 60 + 59),
    st.sampled_from(["NO", "SE", "FI"]),
    st.sampled_from(["monthly", "quarterly"]),
)
def test_local_dates_across_time_zones_and_years(when, offset, country, interval):
    address = dict(BASE["billing_address"], country=country)
    address["postal_code"] = {"NO": "0151", "SE": "111 57", "FI": "00100"}[country]
    address["organization_number"] = {"NO": "923609016", "SE": "5560360793", "FI": "0112038-9"}[
        country
    ]
    stamp = when.replace(tzinfo=UTC) - timedelta(minutes=offset)
    sign = "+" if offset >= 0 else "-"
    text = when.isoformat() + f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    assert datetime.fromisoformat(text) == stamp
    records = [record(created_at=text, billing_address=address)]
    config = parse_configuration(
        {
            "kravia": {
                "invoice_b2b_grouped": {"enabled": True, "invoice_schedule": {"interval": interval}}
            }
        }
    )
    assert_same(plan_frame(flatten(records), config), plan_invoices(records, config))


@pytest.mark.parametrize(
    "ids",
    [
        ["T1", " T1"],  # the core strips ids: one id twice
        ["T1", "T1\x1c"],  # a separator Python strips and Rust does not call whitespace
        ["T1", "T1\u3000"],
        ["T1", "T1"],  # an identical repeat
        ["T1", "t1"],
        ["", "T1"],
        ["  ", "T1"],
    ],
)
def test_ids_that_the_core_strips(ids):
    records = [record(id=i, merchant_reference=f"o-{n}") for n, i in enumerate(ids)]
    records.append(record(id="T9"))
    assert_same(plan_frame(flatten(records)), plan_invoices(records))


def test_an_id_of_a_str_subclass_still_counts_as_that_id():
    class Text(str):
        pass

    records = [record(), record(id=Text("T1"), amount=60000), record(id="T2")]
    frame = flatten(records)
    assert frame.schema["id"] == pl.Object
    assert_same(plan_frame(frame), plan_invoices(records))


def test_conflicting_records_of_one_id_are_all_rejected():
    records = [record(), record(amount=60000), record(id="T2")]
    plan = plan_frame(flatten(records))
    assert_same(plan, plan_invoices(records))
    assert {r.transaction_id for r in plan.rejected} == {"T1"}


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("id", ["T1", 2]),
        ("amount", [50000, 12.5]),
        ("amount", [50000, True]),
        ("amount", [50000, 2**70]),
        ("amount", [50000, "100"]),
        ("currency", ["NOK", 578]),
        ("merchant_reference", ["a", 5]),
        ("billing_address.postal_code", ["0151", 151]),
        ("billing_address.country", ["NO", None]),
    ],
)
def test_object_columns_are_judged_value_by_value(column, values):
    records = []
    for n, value in enumerate(values):
        r = record(id=f"T{n}")
        r["billing_address"] = dict(r["billing_address"])
        if column == "id":
            r["id"] = value
        target = r["billing_address"] if column.startswith("billing_address.") else r
        name = column.removeprefix("billing_address.")
        if value is None:
            target.pop(name)
        else:
            target[name] = value
        records.append(r)
    assert_same(plan_frame(flatten(records)), plan_invoices(records))


def test_typed_columns_of_other_types():
    frame = pl.DataFrame(
        {
            "id": ["T1", "T2", "T3"],
            "created_at": [datetime(2025, 1, 5, tzinfo=UTC)] * 3,  # not ISO text
            "amount": pl.Series([1.0, 2.0, 3.0]),
            "vat_amount": pl.Series([0, 0, 0], dtype=pl.UInt8),
            "currency": pl.Series(["NOK", "NOK", "SEK"], dtype=pl.Categorical),
            "status": ["AUTHORIZED"] * 3,
            "payment_product_type": ["kravia.invoice_b2b_grouped"] * 3,
            "billing_address.country": ["NO", "NO", "NO"],
        }
    )
    assert_same(plan_frame(frame), plan_invoices(frame.pipe(_records)))
    fixed = frame.with_columns(
        created_at=pl.lit("2025-01-05T10:00:00Z"), amount=pl.Series([100, 200, 2**64 - 1])
    )
    assert_same(plan_frame(fixed), plan_invoices(fixed.pipe(_records)))


def _records(frame: Any) -> list[dict[str, Any]]:
    out = []
    for row in frame.iter_rows(named=True):
        r = {k: v for k, v in row.items() if v is not None and "." not in k}
        address = {k.split(".", 1)[1]: v for k, v in row.items() if "." in k and v is not None}
        if address:
            r["billing_address"] = address
        out.append(r)
    return out


def test_missing_columns_and_an_empty_frame():
    assert_same(plan_frame(pl.DataFrame({"id": ["T1"]})), plan_invoices([{"id": "T1"}]))
    assert_same(plan_frame(pl.DataFrame()), plan_invoices([]))
    assert_same(plan_frame(flatten([record()]).head(0)), plan_invoices([]))


def test_an_all_null_money_column():
    frame = flatten([record()]).with_columns(vat_amount=pl.lit(None))
    assert frame.schema["vat_amount"] == pl.Null
    records = [{k: v for k, v in record().items() if k != "vat_amount"}]
    assert_same(plan_frame(frame), plan_invoices(records))


def test_standard_due_dates_beyond_the_holiday_data_go_to_the_core():
    records = [
        record(id=f"T{n}", created_at=f"2100-12-{day}T10:00:00Z", status="CAPTURED",
               payment_product_type="kravia.invoice_b2b")
        for n, day in enumerate((1, 20, 31))
    ]  # fmt: skip
    plan = plan_frame(flatten(records), due_date_rule="following")
    assert_same(plan, plan_invoices(records, due_date_rule="following"))
    assert plan.rejected


def test_a_null_struct_address_is_an_absent_one():
    frame = nested([record(), record(id="T2")])
    frame = frame.with_columns(
        billing_address=pl.when(pl.col("id") == "T2")
        .then(None)
        .otherwise(pl.col("billing_address"))
    )
    records = [record(), {k: v for k, v in record(id="T2").items() if k != "billing_address"}]
    assert_same(plan_frame(frame), plan_invoices(records))


def test_the_residue_gets_back_the_records_it_came_from():
    """The core plans the records rebuilt from the rows; they must be the records the
    rows were made of, whatever shape the address takes."""
    from kravia_schedule.columnar.reading import source_of

    full = record()
    no_vat = {k: v for k, v in record(id="T2").items() if k != "vat_amount"}
    sparse = record(id="T3", billing_address={"country": "SE", "business_name": "AB"})
    absent = {k: v for k, v in record(id="T4").items() if k != "billing_address"}
    struct = nested([full, no_vat, sparse, record(id="T4")]).with_columns(
        billing_address=pl.when(pl.col("id") == "T4").then(None).otherwise("billing_address")
    )
    expected = [full, no_vat, sparse, absent]
    assert source_of(struct).records(range(4)) == expected
    assert source_of(struct).records([3, 0]) == [absent, full]
    assert source_of(flatten(expected)).records(range(4)) == expected
    # An address column of another type: its value, or else the flat columns.
    other = flatten([full, record(id="T2")]).with_columns(billing_address=pl.Series(["x", None]))
    assert source_of(other).records([0, 1]) == [{**full, "billing_address": "x"}, record(id="T2")]
    assert source_of(pl.DataFrame({"id": ["T1"]})).records([0]) == [{"id": "T1"}]


def test_a_billing_address_column_that_is_not_a_struct_goes_to_the_core():
    frame = flatten([record()]).with_columns(billing_address=pl.lit("Storgata 1"))
    plan = plan_frame(frame)
    assert plan.rejected[0].field == "billing_address"


def test_as_of_and_provenance():
    records = example_records()
    config = example_config()
    for as_of in (None, AS_OF, datetime(2026, 11, 30, 23, 30, tzinfo=UTC)):
        plan = plan_frame(flatten(records), config, as_of=as_of, strict=True)
        assert_same(plan, plan_invoices(records, config, as_of=as_of, strict=True))
    with pytest.raises(NaiveDatetimeError):
        plan_frame(flatten(records), config, as_of=datetime(2026, 11, 25))


# -- files ---------------------------------------------------------------------------


def write_csv(path: Path, records: list[dict[str, Any]]) -> None:
    rows = []
    for r in records:
        row = {k: v for k, v in r.items() if k != "billing_address"}
        row.update({f"billing_address.{k}": v for k, v in r.get("billing_address", {}).items()})
        rows.append(row)
    names = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, names)
        writer.writeheader()
        writer.writerows(rows)


def test_csv_file_round_trip(tmp_path, placed):
    path = tmp_path / "purchases.csv"
    write_csv(path, example_records())
    config = example_config()
    plan = plan_file(path, config, as_of=AS_OF)
    assert_same(plan, plan_invoices(read_records(path), config, as_of=AS_OF))
    assert placed[0] > 10


def test_csv_cells_are_read_as_the_command_line_reads_them(tmp_path):
    path = tmp_path / "odd.csv"
    rows = [
        record(id="T1", amount="+50000", vat_amount="0100"),
        record(id="T2", amount=" 500", merchant_reference=""),
        record(id="T3", amount="5e3"),
        record(id="T4", amount="\u0665\u0660\u0660"),  # Arabic-Indic digits: int() reads them
        record(id="T5", amount="99999999999999999999"),
    ]
    write_csv(path, rows)
    plan = plan_file(path)
    assert_same(plan, plan_invoices(read_records(path)))


def test_a_ragged_csv_falls_back_to_the_core_reader(tmp_path):
    path = tmp_path / "ragged.csv"
    write_csv(path, [record(), record(id="T2")])
    with path.open("a", encoding="utf-8") as stream:
        stream.write("T3,2025-01-31T10:00:00Z,1,0,NOK,AUTHORIZED,x,y,z,1,2,3,4,5,6,7,8,9,10\n")
    assert_same(plan_file(path), plan_invoices(read_records(path)))


def _csv_text(tmp_path: Path) -> str:
    path = tmp_path / "base.csv"
    write_csv(path, [record(), record(id="T2", created_at="2025-02-01T10:00:00Z"), record(id="T3")])
    return path.read_bytes().decode("utf-8")  # keeping the \r\n line ends csv writes


@pytest.mark.parametrize(
    "change",
    [
        lambda text: text,
        lambda text: "\ufeff" + text,  # a byte order mark
        lambda text: text.replace("\r\n", "\n"),
        lambda text: text + "\r\n\r\n",  # trailing blank lines
        lambda text: text.replace("\r\nT2", "\r\n\r\nT2"),  # a blank line: csv skips it
        lambda text: text.replace("\r\n", "\r"),  # old Mac line ends
        lambda text: text.replace("id,", "id,id,", 1).replace("T2,", "T2,X2,"),  # repeated name
        lambda text: text.replace("T2,", '"T2" ,'),  # text after a closing quote
        lambda text: text.replace("T2,", '"T\n2",'),  # a line end inside quotes
        lambda text: text.replace("T2,", '"T""2",'),
        lambda text: text.replace("T2,", ",,,"),  # more cells than header columns
        lambda text: text.split("\r\n")[0] + "\r\n",  # a header only
        lambda text: "",
    ],
)
def test_csv_files_read_as_the_core_reads_them(tmp_path, change):
    path = tmp_path / "changed.csv"
    path.write_bytes(change(_csv_text(tmp_path)).encode())
    assert_same(plan_file(path), plan_invoices(read_records(path)))


def test_parquet_file_round_trip(tmp_path, placed):
    # A Parquet column has one type: the record with a float amount is left out.
    records = [r for r in example_records() if not isinstance(r.get("amount"), float)]
    path = tmp_path / "purchases.parquet"
    flatten(records).write_parquet(path)
    config = example_config()
    plan = plan_file(path, config, as_of=AS_OF)
    assert_same(plan, plan_invoices(records, config, as_of=AS_OF))
    assert placed[0] > 10
    nested(records).write_parquet(path)
    assert_same(plan_file(str(path), config, as_of=AS_OF), plan)


def test_jsonl_file_through_arrow(tmp_path, placed):
    records = [r for r in example_records() if not isinstance(r.get("amount"), float)]
    path = tmp_path / "clean.jsonl"
    path.write_text("\r\n".join(json.dumps(r) for r in records) + "\n\n", encoding="utf-8")
    config = example_config()
    assert_same(plan_file(path, config), plan_invoices(read_records(path), config))
    assert placed[0] > 10


@pytest.mark.parametrize(
    "damage",
    [
        lambda lines: lines.insert(3, "{not json"),
        lambda lines: lines.insert(3, '{"id": "X1", "created_at": null}'),
        lambda lines: lines.insert(3, '{"id": 17}'),
        lambda lines: lines.insert(3, "[1, 2]"),
        lambda lines: lines.insert(3, '{"id": "X1"} {"id": "X2"}'),
        lambda lines: lines.insert(3, '{"id": "X1", "amount": 1, "amount": 2}'),
        lambda lines: lines.append(""),
    ],
)
def test_jsonl_files_arrow_cannot_read_faithfully_fall_back(tmp_path, damage):
    lines = (EXAMPLES / "purchases.jsonl").read_text(encoding="utf-8").splitlines()
    damage(lines)
    path = tmp_path / "damaged.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = example_config()
    assert_same(plan_file(path, config), plan_invoices(read_records(path), config))


def test_the_example_file():
    config = example_config()
    plan = plan_file(EXAMPLES / "purchases.jsonl", config, as_of=AS_OF)
    assert_same(plan, plan_invoices(example_records(), config, as_of=AS_OF))


def test_empty_files(tmp_path):
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    (tmp_path / "empty.csv").write_text("id,amount\n", encoding="utf-8")
    assert_same(plan_file(tmp_path / "empty.jsonl"), plan_invoices([]))
    assert_same(plan_file(tmp_path / "empty.csv"), plan_invoices([]))


# -- errors --------------------------------------------------------------------------


def test_refuses_what_it_cannot_read(tmp_path):
    with pytest.raises(ValueError, match=r"\.parquet, \.csv, \.json, \.jsonl"):
        plan_file(tmp_path / "purchases.xlsx")
    with pytest.raises(TypeError, match="DataFrame"):
        plan_frame([record()])
    both = flatten([record()]).with_columns(billing_address=pl.struct(x=pl.lit("a")))
    with pytest.raises(ValueError, match="not both"):
        plan_frame(both)


def test_python_whitespace_is_what_str_strip_strips():
    spaces = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
    assert spaces == addresses.PY_WHITESPACE


def test_without_polars_the_import_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "polars", None)  # "import polars" now fails
    monkeypatch.delitem(sys.modules, "kravia_schedule.columnar")
    with pytest.raises(ImportError, match=r"kravia-schedule\[columnar\]"):
        importlib.import_module("kravia_schedule.columnar")


def test_without_pyarrow_jsonl_reading_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyarrow.json", None)
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(record()) + "\n", encoding="utf-8")
    with pytest.raises(ImportError, match=r"kravia-schedule\[columnar\]"):
        plan_file(path)
