"""The columnar result (FramePlan) and the streamed Parquet planner against the core."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

pl = pytest.importorskip("polars")
pytest.importorskip("pyarrow")

from _records import nordmann_address  # noqa: E402
from test_columnar import (  # noqa: E402
    AS_OF,
    assert_same,
    example_config,
    example_records,
    flatten,
    nested,
    record,
)

from kravia_schedule import KraviaConfig, merge_plans, plan_invoices, rules  # noqa: E402
from kravia_schedule.columnar import (  # noqa: E402
    FramePlan,
    frames,
    grouping,
    lookups,
    placing,
    plan_frame,
    plan_frames,
    plan_parquet,
    timestamps,
)
from kravia_schedule.columnar.result import StoredResidue  # noqa: E402
from kravia_schedule.columnar.timestamps import ISO_TIMESTAMP  # noqa: E402
from kravia_schedule.config import ProductConfig  # noqa: E402
from kravia_schedule.testing import purchase_batches  # noqa: E402

STANDARD = "kravia.invoice_b2b"
#: The frame's index columns: positions in tables whose order depends on the input's.
INDICES = ["address", "dates"]


def slow(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


def check_frame(result: FramePlan, core: Any) -> None:
    """The frame's invoices are the core plan's, row by row, and its totals the same."""
    invoices = result.invoices
    assert invoices.height == len(core.invoices)
    assert invoices["id"].to_list() == [i.id for i in core.invoices]
    assert invoices["transaction_ids"].to_list() == [list(i.transaction_ids) for i in core.invoices]
    assert invoices["amount"].to_list() == [i.amount for i in core.invoices]
    assert invoices["vat_amount"].to_list() == [i.vat_amount for i in core.invoices]
    assert invoices["purchases"].to_list() == [len(i.lines) for i in core.invoices]
    assert invoices["issue_date"].to_list() == [i.issue_date for i in core.invoices]
    assert invoices["due_date"].to_list() == [i.due_date for i in core.invoices]
    assert invoices["last_on_time_payment_date"].to_list() == [
        i.last_on_time_payment_date for i in core.invoices
    ]
    assert invoices["period"].to_list() == [
        i.period.label if i.period else None for i in core.invoices
    ]
    assert invoices["state"].to_list() == [
        i.state.value if i.state else None for i in core.invoices
    ]
    keys = invoices.select(
        "country", "organization_number", "business_name", "customer_reference"
    ).rows()
    assert keys == [
        (k.country.value, k.organization_number, k.business_name, k.customer_reference)
        for k in (i.customer for i in core.invoices)
    ]
    addresses = result.billing_addresses(invoices["address"].to_list())
    assert [addresses[a] for a in invoices["address"]] == [i.billing_address for i in core.invoices]
    assert result.totals() == core.totals()
    assert result.skipped == core.skipped
    assert result.rejected == core.rejected


# -- FramePlan -----------------------------------------------------------------------


@slow(150)
@given(purchase_batches(), st.sampled_from([None, AS_OF]))
def test_the_frame_plan_is_the_core_plan(batch, as_of):
    core = plan_invoices(batch.records, batch.config, as_of=as_of)
    result = plan_frames(flatten(batch.records), batch.config, as_of=as_of)
    check_frame(result, core)
    assert_same(result.to_plan(), core)


def test_the_example_as_a_frame():
    records, config = example_records(), example_config()
    core = plan_invoices(records, config, as_of=AS_OF)
    result = plan_frames(flatten(records), config, as_of=AS_OF)
    check_frame(result, core)
    assert_same(result.to_plan(), core)
    assert result.invoices.schema["transaction_ids"] == pl.List(pl.String)
    assert result.lines is not None
    assert result.lines.height == result.invoices["purchases"].sum()


def test_an_invoice_shared_by_columnar_rows_and_the_core_is_one_row():
    # " T2" is stripped by the core: that row goes to the residue, but its invoice is
    # the same customer's and period's as T1's.
    records = [record(), record(id=" T2", created_at="2025-01-31T23:00:00Z"), record(id="T3")]
    core = plan_invoices(records)
    result = plan_frames(flatten(records))
    assert result.invoices.height == len(core.invoices) == 1
    assert result.invoices["transaction_ids"].to_list() == [["T2", "T1", "T3"]]
    check_frame(result, core)
    assert_same(result.to_plan(), core)


def test_without_lines_only_ids_are_kept():
    records, config = example_records(), example_config()
    full = plan_frames(flatten(records), config)
    lean = plan_frames(flatten(records), config, lines=False)
    assert lean.lines is None
    assert lean.invoices.drop(INDICES).equals(full.invoices.drop(INDICES))
    with pytest.raises(ValueError, match="lines=True"):
        lean.to_plan()
    # Without lines the addresses are validated again when asked for: the same ones.
    assert shown_addresses(lean) == shown_addresses(full)


def shown_addresses(result: FramePlan) -> list[Any]:
    indices = result.invoices["address"].to_list()
    addresses = result.billing_addresses(indices)
    return [addresses[i] for i in indices]


def test_the_frame_plan_does_not_depend_on_the_order_of_the_rows():
    # Thousands of distinct addresses and days: enough for Polars' unique to return them
    # in another order from run to run. The indices into the plan's tables (address,
    # dates) must not follow it.
    pytest.importorskip("numpy")
    from benchmarks.columnar import frame

    df = frame(20_000)
    plan = plan_frames(df)
    assert plan.addresses.height > 3_000
    for seed in (1, 2):
        shuffled = plan_frames(df.sample(fraction=1.0, shuffle=True, seed=seed))
        assert shuffled.invoices.equals(plan.invoices)  # the indices included
        assert shuffled.addresses.equals(plan.addresses)
        assert shuffled.dates == plan.dates
        assert shuffled.lines is not None
        assert shuffled.lines.equals(plan.lines)


def test_an_empty_frame():
    result = plan_frames(pl.DataFrame())
    assert result.invoices.height == 0
    assert result.to_plan() == plan_invoices([])


# -- timestamps ----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(datetime(1800, 1, 2), datetime(2199, 12, 30)),
    st.integers(-23 * 60 - 59, 23 * 60 + 59),
    st.sampled_from(["seconds", "milliseconds", "microseconds", "z"]),
    st.integers(1, 6),
)
def test_instants_are_the_cores(when, offset, spec, digits):
    zone = UTC if spec == "z" else timezone(timedelta(minutes=offset))
    text = when.replace(tzinfo=zone).isoformat(timespec="seconds" if spec == "z" else spec)
    if spec == "z":
        text = text.replace("+00:00", "Z")
    elif spec == "microseconds":
        text = text[:20] + text[20 : 20 + digits] + text[26:]  # 1 to 6 fraction digits
    parsed = datetime.fromisoformat(text)
    micros = (parsed - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert instants(text) == (micros, micros), text


def instants(text: str) -> tuple[int | None, int | None]:
    """The instant of ``text`` with its tail read from the text, and looked up among
    the distinct tails."""
    column = pl.Series("created_at", [text])
    tails = timestamps.tails(column)
    assert tails is not None  # one tail: few enough to look up
    looked_up = column.to_frame().select(timestamps.instant(pl.col("created_at"), tails)).item()
    return pl.select(timestamps.instant(pl.lit(text))).item(), looked_up


@pytest.mark.parametrize(
    "text",
    ["2025-02-29T10:00:00Z", "2025-01-31 10:00:00Z", "2025-01-31T10:00:00", "x" * 25, "",
     "2025-01-31T10:00:00.1234567Z", "2025-01-31T10:00:00+24:00", "2025-01-31T10:00:00z"],
)  # fmt: skip
def test_other_timestamps_have_no_instant(text):
    assert instants(text) == (None, None)
    assert ISO_TIMESTAMP  # the form they fail


def test_tails_are_looked_up_only_when_they_are_few(monkeypatch):
    texts = [f"2025-01-31T10:00:00.{n:06d}+01:00" for n in range(1, 40)]
    same = ["2025-01-31T10:00:00Z"] * 40
    column = pl.Series("created_at", [*same, *texts, None, "2025-01-31T10:00:00x"])
    tails = timestamps.tails(column)
    assert tails is not None
    corrections = dict(zip(tails["tail"].to_list(), tails["correction"].to_list(), strict=True))
    assert corrections["Z"] == 0
    assert corrections[".000007+01:00"] == 7 - 3_600_000_000
    assert corrections["x"] is None
    monkeypatch.setattr(timestamps, "_TAILS", 10)
    # The first 40 rows have one tail, the whole column 42.
    assert timestamps.tails(column) is None
    # The first 40 rows have 40 tails.
    assert timestamps.tails(pl.Series("created_at", [*texts, *same])) is None


@pytest.mark.parametrize("limit", [0, 1 << 12])
def test_a_plan_reads_timestamps_either_way(monkeypatch, limit):
    # Beyond the limit each row's tail is read from its text, as with microseconds.
    monkeypatch.setattr(timestamps, "_TAILS", limit)
    stamps = ["2025-01-31T23:30:00Z", "2025-01-31T23:30:00.5+05:30", "2025-03-31T22:30:00-01:00",
              "2025-01-31T23:30:00.1234567+00:00", "2025-02-30T10:00:00Z", "2025-01-31 23:30:00Z",
              "2025-06-30T23:59:59.999999+00:00", "2025-01-31T23:30:00+0100"]  # fmt: skip
    records = [record(id=f"T{n}", created_at=text) for n, text in enumerate(stamps)]
    core = plan_invoices(records)
    result = plan_frames(flatten(records))
    check_frame(result, core)
    assert_same(result.to_plan(), core)


# -- streaming -----------------------------------------------------------------------


def parquet_of(tmp_path: Path, records: list[dict[str, Any]], name: str = "p.parquet") -> Path:
    """A Parquet file of ``records`` (typed columns: only batches of uniform types)."""
    frame = flatten(records) if records else pl.DataFrame({"id": pl.Series([], dtype=pl.String)})
    if any(dtype == pl.Object for dtype in frame.dtypes):
        assume(False)  # mixed types: not a Parquet column
    path = tmp_path / name
    frame.write_parquet(path)
    return path


@slow(100)
@given(purchase_batches(max_size=30), st.integers(1, 12), st.sampled_from([None, AS_OF]))
def test_a_streamed_file_gives_the_core_plan(tmp_path_factory, batch, batch_rows, as_of):
    path = parquet_of(tmp_path_factory.mktemp("s"), batch.records)
    core = plan_invoices(batch.records, batch.config, as_of=as_of)
    result = plan_parquet(path, batch.config, batch_rows=batch_rows, as_of=as_of)
    check_frame(result, core)
    assert_same(result.to_plan(), core)
    whole = plan_frames(path, batch.config, as_of=as_of)
    assert result.invoices.drop(INDICES).equals(whole.invoices.drop(INDICES))


@slow(60)
@given(purchase_batches(max_size=30, duplicates=False), st.integers(1, 4), st.randoms())
def test_a_streamed_file_is_the_merge_of_its_parts(tmp_path_factory, batch, parts, rng):
    ids = [r.get("id") for r in batch.records]
    assume(len(set(ids)) == len(ids))
    directory = tmp_path_factory.mktemp("m")
    records = list(batch.records)
    rng.shuffle(records)
    cut = sorted(rng.randrange(len(records) + 1) for _ in range(parts - 1))
    pieces = [records[a:b] for a, b in zip([0, *cut], [*cut, len(records)], strict=True)]
    merged = merge_plans(*(plan_invoices(p, batch.config) for p in pieces))
    path = parquet_of(directory, records)
    assert plan_parquet(path, batch.config, batch_rows=max(1, len(records) // parts)).to_plan() == (
        merged
    )


def test_repeats_across_batches_are_settled_as_the_core_settles_them(tmp_path):
    records = [record(id=f"T{n}", merchant_reference=f"o-{n}") for n in range(10)]
    records.insert(7, dict(records[1]))  # an identical repeat, batches apart
    records.append(record(id="T4", amount=60000))  # a conflicting one
    records.append(record(id=" T5"))  # the core strips ids: a repeat of T5
    path = parquet_of(tmp_path, records)
    core = plan_invoices(records)
    result = plan_parquet(path, batch_rows=3)
    check_frame(result, core)
    assert_same(result.to_plan(), core)
    rejected = Counter(r.transaction_id for r in result.rejected)
    assert rejected == {"T1": 1, "T4": 2, "T5": 2}


def test_a_larger_stream_in_many_ranges(tmp_path):
    rng = random.Random(5)
    records = []
    for n in range(3000):
        r = record(id=f"T{n:05d}", amount=rng.randrange(1, 10**6), vat_amount=0)
        day = date(2024, 1, 1) + timedelta(days=rng.randrange(730))
        r["created_at"] = f"{day.isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z"
        r["billing_address"] = dict(r["billing_address"], customer_reference=f"r{n % 7}")
        if n % 50 == 0:
            r["status"] = "CAPTURED"
            r["payment_product_type"] = "kravia.invoice_b2b"
        records.append(r)
    path = parquet_of(tmp_path, records)
    core = plan_invoices(records)
    result = plan_parquet(path, batch_rows=256)
    check_frame(result, core)
    assert_same(result.to_plan(), core)
    lean = plan_parquet(path, batch_rows=1000, lines=False)
    assert lean.invoices.drop(INDICES).equals(result.invoices.drop(INDICES))
    assert shown_addresses(lean) == shown_addresses(result)


def test_a_struct_address_streams_too(tmp_path):
    records = example_records()
    records = [r for r in records if not isinstance(r.get("amount"), float)]
    path = tmp_path / "nested.parquet"
    nested(records).write_parquet(path)
    config = example_config()
    assert_same(plan_parquet(path, config, batch_rows=4).to_plan(), plan_invoices(records, config))


def test_stream_arguments(tmp_path):
    path = parquet_of(tmp_path, [record()])
    with pytest.raises(ValueError, match="batch_rows"):
        plan_parquet(path, batch_rows=0)
    empty = parquet_of(tmp_path, [], "empty.parquet")
    assert plan_parquet(empty).to_plan() == plan_invoices([])


def test_amounts_beyond_128_bits_are_rejected_as_the_core_rejects_them():
    records = [record(), record(id="T2", amount=2**130, vat_amount=0)]
    frame = flatten(records)
    assert frame.schema["amount"] == pl.Object
    core = plan_invoices(records)
    # Above rules.MAX_AMOUNT: rejected, as any engine must (it was invoiced before the bound).
    assert [(r.transaction_id, r.field) for r in core.rejected] == [("T2", "amount")]
    assert_same(plan_frame(frame), core)
    assert_same(plan_frames(frame).to_plan(), core)


def test_ids_come_from_the_core_if_its_format_changes(monkeypatch):
    monkeypatch.setattr(rules, "grouped_invoice_id", lambda key, currency, period: f"G:{key}")
    monkeypatch.setattr(rules, "standard_invoice_id", lambda product, tid: f"S:{tid}")
    records = [record(), record(id="T2", status="CAPTURED", payment_product_type=STANDARD)]
    result = plan_frames(flatten(records))
    assert sorted(result.invoices["id"]) == [
        "G:NO 923609016 'nordmann as'",
        "S:T2",
    ]


def test_a_streamed_residue_is_kept_as_frames(tmp_path):
    records = [record(id=f"T{n}", merchant_reference=f"o-{n}") for n in range(12)]
    records[2]["status"] = "AUTHORIZATION_VOIDED"
    records[5]["status"] = "AUTHORIZATION_VOIDED"
    del records[3]["amount"]
    records[8]["currency"] = "nok"
    records[9]["vat_amount"] = 10**9
    path = parquet_of(tmp_path, records)
    core = plan_invoices(records)
    result = plan_parquet(path, batch_rows=4, lines=False)
    assert result.stored is not None
    assert (result.stored.skipped.height, result.stored.rejected.height) == (2, 3)
    assert not result.residue.skipped
    assert not result.residue.rejected
    assert result.residue_counts() == (len(core.skipped), len(core.rejected)) == (2, 3)
    assert result.skipped == core.skipped
    assert result.rejected == core.rejected
    assert [r.index for r in result.rejected] == [r.index for r in core.rejected]
    assert result.skipped is result.skipped  # built once


def test_a_residue_object_frames_cannot_hold_stays_an_object():
    # A card payment whose VAT nothing gives: skipped with no product type and no VAT.
    card = {
        "id": "T1", "created_at": "2025-01-05T10:00:00Z", "payment_product": "dintero_psp",
        "payment_product_type": "dintero_psp.creditcard", "amount": 1000, "currency": "NOK",
        "status": "CAPTURED",
    }  # fmt: skip
    records = [
        card,
        record(id="T2", status="AUTHORIZATION_VOIDED"),
        record(id="T3", currency="nok"),
    ]
    core = plan_invoices(records)
    stored = StoredResidue()
    left = stored.keep(core)
    assert [s.transaction_id for s in left.skipped] == ["T1"]
    assert not left.rejected
    done = stored.done()
    assert [*left.skipped, *done.skipped_purchases()] == list(core.skipped)
    assert done.rejections() == list(core.rejected)
    assert stored.keep(plan_invoices([])) == plan_invoices([])


def core_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[Any]]:
    """The ids of the records of each call to ``frames.plan_residue`` (the core's plan),
    recorded from now on."""
    calls: list[list[Any]] = []
    real = frames.plan_residue

    def recording(records: Any, *args: Any) -> Any:
        calls.append([r.get("id") for r in records])
        return real(records, *args)

    monkeypatch.setattr(frames, "plan_residue", recording)
    return calls


@pytest.mark.parametrize("grouped_enabled", [True, False])
def test_plainly_valid_purchases_on_no_invoice_are_skipped_on_the_columnar_path(
    monkeypatch, grouped_enabled
):
    statuses = ["AUTHORIZATION_VOIDED", "CAPTURED", "AUTHORIZED", "REFUNDED", "SETTLED", "FAILED"]
    records = [record(id=f"G{n}", status=status) for n, status in enumerate(statuses)] + [
        record(id=f"S{n}", status=status, payment_product_type=STANDARD)
        for n, status in enumerate(statuses)
    ]
    bad_postal_code = nordmann_address(postal_code="1")
    records.append(record(id="X1", status="AUTHORIZATION_VOIDED", billing_address=bad_postal_code))
    config = KraviaConfig.all_enabled()
    if not grouped_enabled:
        config = replace(config, invoice_b2b_grouped=ProductConfig())  # disabled
    core = plan_invoices(records, config)
    calls = core_calls(monkeypatch)
    result = plan_frames(flatten(records), config)
    assert result.stored is not None
    assert result.stored.skipped.height == len(core.skipped) >= 7
    # Only the purchase with a bad postal code goes to the core.
    assert [i for ids in calls for i in ids] == ["X1"]
    assert [r.transaction_id for r in result.rejected] == ["X1"]
    assert result.skipped == core.skipped  # the core's reasons, word for word
    assert result.to_plan() == core


def without(*names: str, **changes: Any) -> dict[str, Any]:
    """:func:`record` with ``changes`` and without the fields ``names``."""
    return {k: v for k, v in record(**changes).items() if k not in names}


@pytest.mark.parametrize("streamed", [False, True])
def test_purchases_missing_only_their_amounts_are_rejected_on_the_columnar_path(
    tmp_path, monkeypatch, streamed
):
    voided = "AUTHORIZATION_VOIDED"
    records = [
        record(id="A0"),
        without("amount", id="M1"),
        without("vat_amount", id="M2"),
        without("amount", id="M3", status=voided),
        without("amount", id="M4", payment_product_type=STANDARD, status="CAPTURED"),
        without("amount", "vat_amount", id="M5"),
        record(id="A1", amount=70000, vat_amount=14000),
        without("vat_amount", id="M6", amount=-5),  # the core checks no amount then
        # The core's: an address it refuses, a second problem, a repeated id.
        without("amount", id="C1", billing_address=nordmann_address(postal_code="1")),
        without("amount", id="C2", currency="nok"),
        without("amount", id="C3"),
        record(id="C3"),
    ]
    config = KraviaConfig.all_enabled()
    config = replace(config, invoice_b2b=ProductConfig())  # disabled: still rejected
    core = plan_invoices(records, config)
    calls = core_calls(monkeypatch)
    if streamed:
        result = plan_parquet(parquet_of(tmp_path, records), config, batch_rows=3)
    else:
        result = plan_frames(flatten(records), config)
    assert result.stored is not None
    stored = set(result.stored.rejected["transaction_id"])  # streamed: the core's too
    assert stored - {"C1", "C2", "C3"} == {f"M{n}" for n in range(1, 7)}
    # C1, C2 and both C3s (streamed, a repeated id's rows are planned apart, unrecorded)
    planned = sorted(i for ids in calls for i in ids)
    assert planned == (["C1", "C2"] if streamed else ["C1", "C2", "C3", "C3"])
    assert len(core.rejected) == 9  # M1-M6, C1, C2 and the first C3
    assert_same(result.to_plan(), core)  # the core's problems, word for word, in order


def test_two_periods_issued_on_one_day_are_ordered_by_id(tmp_path):
    # Closed days through February move January's issue date onto February's: one
    # customer then has two grouped invoices (and a standard one) on one issue date.
    closed = {"NO": [date(2025, 2, 1) + timedelta(days=n) for n in range(33)]}
    records = [record(id=f"J{n}", created_at=f"2025-01-{10 + n}T10:00:00Z") for n in range(3)] + [
        record(id=f"F{n}", created_at=f"2025-02-{10 + n}T10:00:00Z") for n in range(3)
    ]
    records.append(
        record(id="S1", created_at="2025-03-06T10:00:00Z", payment_product_type=STANDARD,
               status="CAPTURED")
    )  # fmt: skip
    core = plan_invoices(records, closed_days=closed)
    issued = Counter(invoice.issue_date for invoice in core.invoices)
    assert issued.most_common(1)[0][1] == 3  # the tie this test is about
    assert plan_frames(flatten(records), closed_days=closed).to_plan() == core
    streamed = plan_parquet(parquet_of(tmp_path, records), batch_rows=2, closed_days=closed)
    assert streamed.to_plan() == core


# -- the order of the lines ----------------------------------------------------------


@st.composite
def line_keys(draw: st.DrawFn) -> Any:
    """Keys of lines as :func:`grouping._line_order` takes them, with many ties: few
    distinct values per field, instants repeated, digests alike in their top bits."""
    ids = draw(st.lists(st.text("ab1", min_size=1, max_size=4), unique=True, max_size=40))
    digests = st.integers(0, 2**64 - 1).map(lambda v: f"{v:016x}") | st.sampled_from(
        ["ffff000000000000", "ffff000000000001", "0000000000000000"]
    )
    instants = st.sampled_from([0, 1, -(10**12)]) | st.integers(-(10**15), 10**15)
    rows = []
    for purchase_id in ids:
        standard = draw(st.booleans())
        rows.append(
            {
                "issue": draw(st.integers(20000, 20003)),
                "rank": draw(st.integers(0, 3)),
                "currency": draw(st.integers(0, 2)),
                "start": None if standard else draw(st.integers(19990, 19993)),
                "sid": draw(digests) if standard else None,
                "ts": draw(instants),
                "id": purchase_id,
            }
        )
    schema = {"issue": pl.Int64, "rank": pl.Int64, "currency": pl.Int64, "start": pl.Int64,
              "sid": pl.String, "ts": pl.Int64, "id": pl.String}  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


@settings(max_examples=300, deadline=None)
@given(line_keys(), st.sampled_from([127, 80, 40, 24, 8]))
def test_the_one_number_sort_orders_lines_as_the_columns_do(keys, bits):
    # Fewer bits leave fewer for the instant or digest (more ties to put in order
    # afterwards), or too few for the instants (the columns are sorted instead).
    expected = grouping._line_order_by_columns(keys)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grouping, "_ORDER_BITS", bits)
        positions, first = grouping._line_order(keys, grouping._stats(keys))
    assert positions.to_list() == expected[0].to_list()
    assert first.to_list() == expected[1].to_list()


@settings(max_examples=200, deadline=None)
@given(line_keys(), st.sampled_from([63, 8]))
def test_grouped_digests_are_in_the_order_of_the_grouped_invoices(keys, bits):
    # The digests are made from the invoices' keys alone, before the lines are ordered;
    # they must come in the order the ordered lines give the grouped invoices. With
    # fewer bits the distinct keys are sorted as columns instead of as one number.
    customers = pl.DataFrame(
        {
            "customer": [0, 1, 2, 3],
            "country": ["NO", "SE", "FI", "NO"],
            "org": ["1", "2", "3", "1"],
            "name": ["a", "b", "c", "a"],
            "reference": ["", "", "", "r"],
            "rank": [2, 0, 3, 1],
        }
    )
    starts = range(19990, 19994)
    dates = pl.DataFrame(
        {
            "period_start": [date(1970, 1, 1) + timedelta(days=d) for d in starts],
            "interval": ["monthly"] * 4,
            "period": [f"P{d}" for d in starts],
        }
    )
    currencies = ["EUR", "NOK", "SEK"]
    positions, first = grouping._line_order_by_columns(keys)
    heads = keys[positions.filter(first)].filter(pl.col("start").is_not_null())
    by_rank = customers.sort("rank")
    expected = []
    for rank, currency, start in heads.select("rank", "currency", "start").iter_rows():
        key = by_rank.row(rank, named=True)
        text = "\x1f".join(
            ["grouped", key["country"], key["org"], key["name"], key["reference"],
             currencies[currency], "monthly", f"P{start}"]
        )  # fmt: skip
        expected.append(hashlib.blake2b(text.encode(), digest_size=8).hexdigest())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grouping, "_CODE_BITS", bits)
        digests = grouping._grouped_digests(
            keys, grouping._stats(keys), customers, dates, currencies
        )
    assert digests.to_list() == expected


@given(st.lists(st.none() | st.text(max_size=12), max_size=12), st.integers(1, 4))
def test_digests_a_slice_at_a_time_are_the_digests(texts, size):
    expected = [
        None if t is None else hashlib.blake2b(t.encode(), digest_size=8).hexdigest() for t in texts
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grouping, "_SLICE", size)
        digests = grouping._digests(pl.Series(texts, dtype=pl.String))
    assert digests.dtype == pl.String
    assert digests.to_list() == expected


def test_lines_at_one_instant_are_in_id_order():
    at = "2025-01-15T10:00:00Z"
    records = [record(id=f"T{n}", created_at=at) for n in (5, 3, 9, 1)]
    records += [
        record(id=f"S{n}", created_at=at, payment_product_type=STANDARD, status="CAPTURED")
        for n in (2, 1)
    ]
    core = plan_invoices(records)
    result = plan_frames(flatten(records))
    assert ["T1", "T3", "T5", "T9"] in result.invoices["transaction_ids"].to_list()
    check_frame(result, core)
    assert_same(result.to_plan(), core)


def test_known_addresses_do_not_hold_the_batch_strings():
    # A string column taken from a larger one shares its buffers; the known addresses
    # outlive their batch, so lookups.compacted copies them out. (Casting to Binary and back,
    # or slicing the strings, keeps the shared buffers.)
    batch = pl.Series("s", [f"{n:07d}-a text longer than twelve bytes" for n in range(100_000)])
    taken = batch.gather(range(0, 100_000, 100))

    def held(series: pl.Series) -> int:
        arrow = series.rechunk().to_arrow(compat_level=pl.CompatLevel.newest())
        return sum(b.size for b in arrow.buffers() if b is not None)

    assert held(taken) > held(batch) / 2  # the premise: the taken rows share the batch's
    compacted = lookups.compacted(taken)
    assert compacted.to_list() == taken.to_list()
    assert held(compacted) < held(batch) / 20


# -- addresses whose hashes collide --------------------------------------------------


def one_hash(columns: Any) -> Any:
    """A "hash" every address shares: each is a collision with the first one seen."""
    return pl.lit(7, dtype=pl.UInt64)


def test_addresses_whose_hashes_collide_are_told_apart(monkeypatch, tmp_path, placed):
    # Four addresses of one company (other references, another e-mail), in turns.
    addresses = [
        nordmann_address(customer_reference=f"dept-{n % 2}", email=f"b{n // 2}@example.com")
        for n in range(4)
    ]
    records = [
        record(id=f"T{n}", merchant_reference=f"o-{n}", billing_address=addresses[n % 4])
        for n in range(16)
    ]
    core = plan_invoices(records)
    assert len(core.invoices) == 2  # one per reference; the earliest line's address
    check_frame(plan_frames(flatten(records)), core)
    assert placed == [16]  # with distinct hashes, every row on the columnar path
    placed.clear()
    monkeypatch.setattr(placing, "_fields_hash", one_hash)
    check_frame(plan_frames(flatten(records)), core)
    assert sum(placed) < 16  # the rows of colliding addresses went to the core
    placed.clear()
    streamed = plan_parquet(parquet_of(tmp_path, records), batch_rows=3)
    check_frame(streamed, core)
    assert_same(streamed.to_plan(), core)
    assert sum(placed) < 16
    # One address per batch: the second batch's must be told from the first's by its
    # fields, the hash being one already seen.
    placed.clear()
    ordered = sorted(records, key=lambda r: addresses.index(r["billing_address"]))
    path = parquet_of(tmp_path, ordered, name="ordered.parquet")
    streamed = plan_parquet(path, batch_rows=4)
    check_frame(streamed, plan_invoices(ordered))
    assert placed == [4, 0, 0, 0]


def test_rows_the_core_plans_before_and_after_placing_share_an_invoice(monkeypatch):
    # " T0 " is not plainly valid (spaces around its id): the core plans it while the
    # others are placed. Placing sends the rest to the core too, afterwards: their two
    # addresses (another e-mail, same customer) share a hash.
    addresses = [nordmann_address(), nordmann_address(email="other@example.com")]
    records = [
        record(id=f" T{n} " if n == 0 else f"T{n}", billing_address=addresses[n % 2])
        for n in range(4)
    ]
    core = plan_invoices(records)
    assert len(core.invoices) == 1
    calls = core_calls(monkeypatch)
    monkeypatch.setattr(placing, "_fields_hash", one_hash)
    result = plan_frames(flatten(records))
    assert calls == [[" T0 "], ["T1", "T2", "T3"]]
    assert result.invoices["transaction_ids"].to_list() == [["T0", "T1", "T2", "T3"]]
    check_frame(result, core)
    assert_same(result.to_plan(), core)


@pytest.mark.parametrize("streamed", [False, True])
@pytest.mark.parametrize("failing", ["residue", "placing"])
def test_an_error_on_either_thread_reaches_the_caller(monkeypatch, tmp_path, failing, streamed):
    records = [record(id=" T0 "), record(id="T1")]  # one row for each thread
    path = parquet_of(tmp_path, records)

    def fail(*args: Any) -> Any:
        raise RuntimeError(failing)

    target = (frames, "plan_residue") if failing == "residue" else (placing, "place")
    monkeypatch.setattr(*target, fail)
    # Streamed a row a batch, the first batch's residue is planned on the thread.
    data = flatten(records)
    run = (lambda: plan_parquet(path, batch_rows=1)) if streamed else (lambda: plan_frames(data))
    with pytest.raises(RuntimeError, match=failing):
        run()


@slow(40)
@given(purchase_batches(max_size=30), st.integers(1, 12))
def test_any_collisions_give_the_core_plan(monkeypatch, tmp_path_factory, batch, batch_rows):
    with monkeypatch.context() as patched:
        patched.setattr(placing, "_fields_hash", one_hash)
        core = plan_invoices(batch.records, batch.config)
        check_frame(plan_frames(flatten(batch.records), batch.config), core)
        path = parquet_of(tmp_path_factory.mktemp("c"), batch.records)
        check_frame(plan_parquet(path, batch.config, batch_rows=batch_rows), core)
