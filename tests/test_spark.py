"""Planning on Spark equals the core's plan: the rows and per-partition tasks on their own
(no Java needed), then the whole job on a local Spark session."""

from __future__ import annotations

import random
import re
import sys
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")
pytest.importorskip("pyspark")

from _records import GROUPED, nordmann_record  # noqa: E402

from benchmarks.generate import purchases  # noqa: E402
from kravia_schedule import PlanOptions, plan_invoices, rules  # noqa: E402
from kravia_schedule.columnar import plan_frames  # noqa: E402
from kravia_schedule.columnar.reading import wanted_columns  # noqa: E402
from kravia_schedule.errors import NaiveDatetimeError  # noqa: E402
from kravia_schedule.planning import merge_plans  # noqa: E402
from kravia_schedule.spark import AmountOverflowError, java_problem, plan_spark  # noqa: E402
from kravia_schedule.spark.framed import frame_invoice_structs  # noqa: E402
from kravia_schedule.spark.job import (  # noqa: E402
    POSITION_BITS,
    PURCHASES_PER_PARTITION,
    default_partitions,
    id_strip_pattern,
    invoice_task,
    positions,
    settle_task,
)
from kravia_schedule.spark.rows import (  # noqa: E402
    INVOICE,
    invoice_structs,
    invoices_of,
    rejection_structs,
    rejections_of,
    skipped_of,
    skipped_structs,
)
from kravia_schedule.spark.tasks import (  # noqa: E402
    ID_KEY_PREFIX,
    LINE_KIND,
    OUTCOME,
    RepeatedPlanError,
    invoice_part,
    settle_part,
)
from kravia_schedule.testing import purchase_batches  # noqa: E402

AS_OF = date(2026, 11, 25)
as_of_values = st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2100, 12, 31)))


def slow(examples: int) -> Any:
    return settings(
        max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


# -- records as a table ----------------------------------------------------------------


def columns_of(records: list[dict[str, Any]], nested: bool = False) -> dict[str, list[Any]]:
    """The cells of ``records`` by column (``billing_address.<field>``, or one struct
    column ``billing_address`` when ``nested``); an absent field is a null cell."""
    rows = []
    for record in records:
        row = {k: v for k, v in record.items() if k != "billing_address"}
        address = record.get("billing_address")
        if nested:
            row["billing_address"] = address
        else:
            for k, v in (address or {}).items():
                row[f"billing_address.{k}"] = v
        rows.append(row)
    names = list(dict.fromkeys(name for row in rows for name in row))
    return {name: [row.get(name) for row in rows] for name in names}


def typed(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``records`` as a typed table holds them: a column of integers keeps them, any
    other column is text (a float or a number among texts becomes its ``repr``)."""
    out: list[dict[str, Any]] = [{} for _ in records]
    for name, values in columns_of(records).items():
        kinds = {type(v) for v in values if v is not None}
        if kinds != {int}:
            values = [v if v is None or isinstance(v, str) else repr(v) for v in values]
        for row, value in zip(out, values, strict=True):
            if value is None:
                continue
            if name.startswith("billing_address."):
                row.setdefault("billing_address", {})[name.split(".", 1)[1]] = value
            else:
                row[name] = value
    return out


def table(records: list[dict[str, Any]], nested: bool = False) -> Any:
    """An Arrow table of :func:`typed` ``records``."""
    arrays = {}
    for name, values in columns_of(records, nested).items():
        kinds = {type(v) for v in values if v is not None}
        if name == "billing_address":
            fields = list(dict.fromkeys(k for v in values if v for k in v))
            arrays[name] = pa.array(values, pa.struct([(f, pa.string()) for f in fields]))
        else:
            arrays[name] = pa.array(values, pa.int64() if kinds == {int} else pa.string())
    return pa.table(arrays)


# -- rows and tasks, without Spark -------------------------------------------------------


@slow(60)
@given(purchase_batches(), as_of_values)
def test_rows_give_back_the_plan(batch, as_of):
    plan = plan_invoices(batch.records, batch.config, as_of=as_of)
    assert invoices_of(invoice_structs(plan.invoices)) == list(plan.invoices)
    assert skipped_of(skipped_structs(plan.skipped)) == list(plan.skipped)
    assert rejections_of(rejection_structs(plan.rejected)) == list(plan.rejected)
    back = rejections_of(rejection_structs(plan.rejected))
    assert [r.index for r in back] == [r.index for r in plan.rejected]
    numbers = [1000 + 3 * i for i in range(len(batch.records))]
    renumbered = rejections_of(rejection_structs(plan.rejected, numbers))
    assert [r.index for r in renumbered] == [numbers[r.index] for r in plan.rejected]
    chunked = pa.chunked_array([], invoice_structs(()).type)
    assert invoices_of(chunked) == []


def test_a_total_beyond_64_bits_is_named(monkeypatch):
    # Amounts are bounded (rules.MAX_AMOUNT) far below this; raised here to reach it.
    monkeypatch.setattr(rules, "MAX_AMOUNT", 2**65)
    records = [nordmann_record(f"T{i}", "2021-01-05T10:00:00+01:00", 2**62) for i in range(2)]
    invoice = plan_invoices(records).invoices[0]
    with pytest.raises(AmountOverflowError, match=rf"invoice '{invoice.id}' amount: {2**63}"):
        invoice_structs([invoice])
    skipped = plan_invoices([nordmann_record("T9", "2021-01-05T10:00:00+01:00", 2**64,
                                             status="AUTHORIZATION_VOIDED")]).skipped  # fmt: skip
    with pytest.raises(AmountOverflowError, match="transaction 'T9' amount"):
        skipped_structs(skipped)


def id_key(record: dict[str, Any], number: int) -> str:
    """The shuffle key the job gives ``record`` (see job._partition_key): its id as the
    core reads it, or a key of its own when it has no usable id."""
    raw = record.get("id")
    usable = isinstance(raw, str) and raw.strip()
    return f"{ID_KEY_PREFIX}{raw.strip()}" if usable else f"#{number}"


def by_id(structs: Any) -> Any:
    """Invoice rows sorted by id: the same rows in any order compare equal."""
    return pa.table({"id": structs.field("id"), "invoice": structs}).sort_by("id")


@slow(60)
@given(purchase_batches(), as_of_values)
def test_a_columnar_plan_gives_the_rows_of_its_invoices_as_objects(batch, as_of):
    records = typed(batch.records)
    plan = plan_frames(table(records), batch.config, as_of=as_of)
    framed = frame_invoice_structs(plan)
    assert framed.type == INVOICE
    assert by_id(framed).equals(by_id(invoice_structs(plan.to_plan().invoices)))


def test_invoices_the_core_planned_and_the_columnar_ones_are_both_written():
    records = [
        nordmann_record("T1", "2021-01-20T10:00:00Z", 5000),
        # The core's: an id with surrounding space, on the same invoice as T1.
        nordmann_record(" T2 ", "2021-01-21T10:00:00+01:00", 700),
        nordmann_record("T3", "2021-03-02T10:00:00+01:00", 900),
    ]
    plan = plan_frames(table(records))
    assert [i.transaction_ids for i in plan.residue.invoices] == [("T2",)]  # the case
    framed = frame_invoice_structs(plan)
    # The columnar invoice (March) first, then the one the core's purchase is on.
    assert framed.field("purchases").to_pylist() == [1, 2]
    assert invoices_of(framed) == sorted(plan_invoices(records).invoices, key=lambda i: i.amount)
    january = framed.field("lines").to_pylist()[1]
    times = ["2021-01-20T10:00:00+00:00", "2021-01-21T10:00:00+01:00"]
    assert [line["created_at"] for line in january] == times  # as to_plan reads them


def test_a_columnar_total_beyond_64_bits_is_named(monkeypatch):
    monkeypatch.setattr(rules, "MAX_AMOUNT", 2**65)
    records = [nordmann_record(f"T{i}", "2021-01-05T10:00:00+01:00", 2**62) for i in range(2)]
    plan = plan_frames(table(records))
    with pytest.raises(AmountOverflowError, match=rf"amount: {2**63}"):
        frame_invoice_structs(plan)


def test_a_columnar_plan_without_lines_is_refused():
    plan = plan_frames(table([nordmann_record("T1", "2021-01-05T10:00:00+01:00")]), lines=False)
    with pytest.raises(ValueError, match="plan with lines=True"):
        frame_invoice_structs(plan)
    empty = plan_frames(table([nordmann_record("T1", "2021-01-05T10:00:00+01:00")]).slice(0, 0))
    assert frame_invoice_structs(empty).to_pylist() == []


def split(records: list[dict[str, Any]], parts: int, seed: int) -> list[list[int]]:
    """The positions of ``records`` in ``parts`` parts, every record of one (stripped) id
    in one part."""
    rng = random.Random(seed)
    place: dict[str, int] = {}
    out: list[list[int]] = [[] for _ in range(parts)]
    for number, record in enumerate(records):
        out[place.setdefault(id_key(record, number), rng.randrange(parts))].append(number)
    return out


def run_tasks(records: list[dict[str, Any]], parts: int, seed: int, **options: Any) -> Any:
    """The Spark job's two plans run in this process: settle each part, shuffle the
    records that go on invoices by invoice id into ``parts`` parts, plan each."""
    config = options.pop("config")
    checked = PlanOptions.of(**options)
    provenance = plan_invoices([], config, options=checked).provenance
    whole = table(records)  # one schema for every part, as a DataFrame has
    settled = []
    for part in split(records, parts, seed):
        keys = pa.array([id_key(records[i], i) for i in part], pa.string())
        settled.extend(settle_part(whole.take(pa.array(part, pa.int64())), keys, config, checked))
    out = pa.Table.from_batches(settled) if settled else None
    invoices, skipped, rejected = [], [], []
    if out is not None:
        kinds = pa.compute.equal(out["kind"], LINE_KIND)
        lines = out.filter(kinds)
        by_invoice: list[list[int]] = [[] for _ in range(parts)]
        for i, invoice_id in enumerate(lines["invoice_id"].to_pylist()):
            by_invoice[hash(invoice_id) % parts].append(i)
        records_only = lines.select(whole.column_names)
        for indices in by_invoice:
            chosen = records_only.take(pa.array(indices, pa.int64()))
            for batch in invoice_part(chosen, config, checked):
                invoices.extend(invoices_of(batch.column(0)))
        others = out.filter(pa.compute.invert(kinds))

        def of(kind: str) -> Any:
            return others.filter(pa.compute.equal(others["kind"], kind))[kind]

        skipped, rejected = skipped_of(of("skipped")), rejections_of(of("rejected"))
    plan = replace(provenance_plan(provenance), invoices=tuple(invoices),
                   skipped=tuple(skipped), rejected=tuple(rejected))  # fmt: skip
    return merge_plans(plan)


def provenance_plan(provenance: Any) -> Any:
    return replace(plan_invoices([]), provenance=provenance)


@slow(80)
@given(purchase_batches(), st.sampled_from([1, 2, 3, 7]), st.integers(0, 9), as_of_values)
def test_the_tasks_give_the_core_plan_however_the_records_are_split(batch, parts, seed, as_of):
    records = typed(batch.records)
    core = plan_invoices(records, batch.config, as_of=as_of)
    assert run_tasks(records, parts, seed, config=batch.config, as_of=as_of) == core


def test_a_customer_over_several_parts_gets_one_invoice_with_the_earliest_address():
    records = [
        nordmann_record("T1", "2021-01-20T10:00:00+01:00", 5000),
        nordmann_record("T2", "2021-01-05T10:00:00+01:00", 7000, business_name="NORDMANN  AS"),
        nordmann_record("T3", "2021-01-31T23:30:00+01:00", 1000),
    ]
    for seed in range(6):
        plan = run_tasks(records, 3, seed, config=plan_invoices([]).provenance.config)
        (invoice,) = plan.invoices
        assert invoice.transaction_ids == ("T2", "T1", "T3")
        assert invoice.amount == 13000
        assert invoice.billing_address.business_name == "NORDMANN  AS"
        assert plan == plan_invoices(records)


def test_a_repeated_id_passes_on_the_first_record_of_it_with_its_invoice():
    first = nordmann_record("T1", "2021-01-20T10:00:00+01:00", 5000)
    records = [first, dict(first, id=" T1 "), nordmann_record("T2", "2021-01-21T10:00:00+01:00")]
    keys = pa.array([id_key(r, i) for i, r in enumerate(records)], pa.string())
    config = plan_invoices([]).provenance.config
    out = pa.Table.from_batches(settle_part(table(records), keys, config, PlanOptions()))
    lines = out.filter(pa.compute.equal(out["kind"], LINE_KIND)).sort_by("id")
    assert lines["id"].to_pylist() == ["T1", "T2"]  # the first copy, as given
    (invoice,) = plan_invoices(records).invoices
    assert lines["invoice_id"].to_pylist() == [invoice.id, invoice.id]
    assert out.column_names == [*table(records).column_names, *OUTCOME.names]
    rejected = out.filter(pa.compute.equal(out["kind"], "rejected"))
    assert [r.index for r in rejections_of(rejected["rejected"])] == [1]
    assert rejected["id"].null_count == 1  # no record columns on a rejection's row


def test_a_record_planned_apart_from_its_first_plan_is_refused():
    # Records invoiced in the first plan are planned again; a rule that rejected one
    # then would make the plan depend on which records share a partition.
    config = plan_invoices([]).provenance.config
    records = [nordmann_record("T1", "2021-01-20T10:00:00+01:00"), {"id": "X"}]
    with pytest.raises(RepeatedPlanError, match="0 skipped and 1 rejected"):
        list(invoice_part(table(records), config, PlanOptions()))
    keys = pa.array(["=T9"], pa.string())  # a key that is not the record's id
    with pytest.raises(RepeatedPlanError, match="without their record: \\['T1'\\]"):
        list(settle_part(table(records[:1]), keys, config, PlanOptions()))


def test_empty_partitions_give_no_rows():
    config = plan_invoices([]).provenance.config
    empty = table([nordmann_record("T1", "2021-01-20T10:00:00+01:00")]).slice(0, 0)
    keys = pa.array([], pa.string())
    assert list(settle_part(empty, keys, config, PlanOptions())) == []
    assert list(invoice_part(empty, config, PlanOptions())) == []
    names = empty.column_names
    assert list(settle_task(names, config, PlanOptions(), [])) == []
    assert list(invoice_task(names, config, PlanOptions(), [])) == []


def test_the_tasks_give_the_columns_back_their_names_and_number_the_rejections():
    records = [nordmann_record("T1", "2021-01-20T10:00:00+01:00", 5000), {"id": "X"}]
    given = table(records)
    names = given.column_names
    positional = [f"c{i}" for i in range(len(names))]
    by_position = given.rename_columns(positional)
    numbered = by_position.append_column("row", pa.array([40, 41], pa.int64()))
    keyed = numbered.append_column("key", pa.array(["=T1", "=X"], pa.string()))
    config = plan_invoices([]).provenance.config
    line, rejected = settle_task(names, config, PlanOptions(), keyed.to_batches(1))
    assert line.schema.names == [*positional, *OUTCOME.names]
    assert [r.index for r in rejections_of(rejected.column("rejected"))] == [41]
    records_only = pa.Table.from_batches([line]).select(positional)
    (invoiced,) = invoice_task(names, config, PlanOptions(), records_only.to_batches())
    assert invoices_of(invoiced.column("invoice")) == list(plan_invoices(records).invoices)


def test_the_strip_pattern_holds_every_character_python_strips():
    pattern = id_strip_pattern()
    members = re.findall(r"\\x\{([0-9A-F]+)\}(?:-\\x\{([0-9A-F]+)\})?", pattern.split("]")[0])
    listed = {c for a, b in members for c in range(int(a, 16), int(b or a, 16) + 1)}
    assert listed == {c for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    assert pattern.startswith(r"\A[")
    assert pattern.endswith(r"]+\z")


def test_java_problems_are_named(monkeypatch, tmp_path):
    from kravia_schedule.spark import runtime

    monkeypatch.setattr(runtime.shutil, "which", lambda name: None)
    assert "no java on PATH" in (java_problem() or "")
    for printed in ('openjdk version "11.0.2" 2019-01-15', 'java version "1.8.0_412"', ""):
        java = tmp_path / "java"
        java.write_text(f"#!/bin/sh\necho '{printed}' >&2\n")
        java.chmod(0o755)
        monkeypatch.setattr(runtime.shutil, "which", lambda name, java=java: str(java))
        assert "Spark 4 needs Java 17+" in (java_problem() or "")
    java.write_text("#!/bin/sh\necho 'openjdk version \"21.0.1\" 2023-10-17' >&2\n")
    assert java_problem() is None


def test_the_columns_read():
    columns = ["day", "id", "billing_address", "billing_address.country", "amount", "x.y"]
    assert wanted_columns(columns) == ["id", "billing_address", "billing_address.country", "amount"]


# -- the job on the test run's local Spark session (the ``spark`` fixture, conftest.py) ---


def frame(spark: Any, records: list[dict[str, Any]], slices: int = 2, **kw: Any) -> Any:
    return spark.createDataFrame(table(records, **kw)).repartition(slices)


def mixed_records() -> list[dict[str, Any]]:
    """Generated purchases of many customers, with a repeat, a conflict and invalid ones."""
    records = purchases(80, seed=3, invalid_share=0.0)
    records[5]["id"] = records[4]["id"]  # conflicting copies of one id
    records.append(dict(records[7], id=f" {records[7]['id']}"))  # the same record again
    records.append({k: v for k, v in records[9].items() if k != "vat_amount"} | {"id": "X1"})
    records.append(dict(records[10], id="X2", currency="kr"))
    records.append(dict(records[11], id="X3", status="AUTHORIZATION_VOIDED"))
    return records


def rows(df: Any) -> list[tuple[Any, ...]]:
    """The rows of ``df``, sorted: its content, whatever the order Spark gives."""
    return sorted((tuple(r) for r in df.collect()), key=repr)


@pytest.mark.parametrize("partitions", [1, 2, 7])
@slow(5)
@given(batch=purchase_batches(), as_of=as_of_values)
def test_plan_spark_equals_plan_invoices(spark, partitions, batch, as_of):
    records = typed(batch.records)
    result = plan_spark(frame(spark, records), batch.config, partitions=partitions, as_of=as_of)
    core = plan_invoices(records, batch.config, as_of=as_of)
    assert result.to_plan() == core
    result.unpersist()


def test_a_worked_example(spark):
    records = [
        nordmann_record("T1", "2021-01-20T10:00:00+01:00", 5000, merchant_reference="o-1"),
        nordmann_record(" T2\u3000", "2021-01-05T10:00:00+01:00", 7000),
        nordmann_record("T2", "2021-01-05T10:00:00+01:00", 7000),  # the same, counted once
        nordmann_record("T3", "2021-02-01T00:30:00+01:00", 1000),  # February, local time
        nordmann_record("T4", "2021-01-06T09:00:00+01:00", 900, status="CAPTURED",
                        payment_product_type="kravia.invoice_b2b"),
        nordmann_record("T5", "2021-01-07T09:00:00+01:00", 900),
        nordmann_record("T5", "2021-01-07T09:00:00+01:00", 901),  # conflicting: both out
        nordmann_record("T6", "2021-01-08T09:00:00+01:00", 900, status="AUTHORIZATION_VOIDED"),
        nordmann_record("T7", "2021-01-08T09:00:00+01:00", 900, vat_amount=None),
    ]  # fmt: skip
    result = plan_spark(frame(spark, records, slices=3), partitions=3, as_of=AS_OF)
    invoices = {
        r["transaction_ids"][0]: r
        for r in result.invoices.select(
            "id", "product_type", "period", "issue_date", "due_date", "amount",
            "vat_amount", "purchases", "state", "transaction_ids", "billing_address.country",
        ).collect()
    }  # fmt: skip
    january = invoices["T2"]
    assert january["product_type"] == GROUPED
    assert january["period"] == "2021-01"
    assert january["id"].startswith("G-2021-01-")
    assert january["transaction_ids"] == ["T2", "T1"]
    assert (january["amount"], january["vat_amount"], january["purchases"]) == (12000, 2400, 2)
    assert january["issue_date"] == date(2021, 2, 1)
    assert january["state"] == "ready"
    assert january["country"] == "NO"
    assert invoices["T3"]["period"] == "2021-02"
    assert invoices["T4"]["id"].startswith("S-")
    assert invoices["T4"]["issue_date"] == date(2021, 1, 6)
    assert invoices["T4"]["period"] is None
    assert len(invoices) == 3
    lines = rows(result.lines.select("invoice_id", "line", "transaction_id", "created_at",
                                     "amount", "merchant_reference"))  # fmt: skip
    assert (january["id"], 2, "T1", "2021-01-20T10:00:00+01:00", 5000, "o-1") in lines
    assert (january["id"], 1, "T2", "2021-01-05T10:00:00+01:00", 7000, None) in lines
    assert len(lines) == 4
    assert rows(result.skipped.select("transaction_id", "reason")) == [("T6", "voided")]
    rejected = rows(result.rejected.select("transaction_id", "problems.path"))
    assert rejected == [("T2", ["id"]), ("T5", ["id"]), ("T5", ["id"]), ("T7", ["vat_amount"])]
    assert result.counts() == {"invoices": 3, "lines": 4, "skipped": 1, "rejected": 4}
    assert result.to_plan() == plan_invoices(records, as_of=AS_OF)
    result.unpersist()


@slow(3)
@given(purchase_batches(min_size=1, invalid=False))
def test_a_struct_address_column_gives_the_same_plan(spark, batch):
    records = typed(batch.records)
    result = plan_spark(frame(spark, records, nested=True), batch.config, partitions=3)
    assert result.to_plan() == plan_invoices(records, batch.config)
    result.unpersist()


def test_the_same_rows_whatever_the_order_and_partitioning(spark):
    records = mixed_records()
    config = plan_invoices([]).provenance.config
    outputs = []
    for partitions, slices, seed in ((1, 1, 0), (2, 3, 1), (7, 4, 2)):
        shuffled = records[:]
        random.Random(seed).shuffle(shuffled)
        result = plan_spark(frame(spark, shuffled, slices), config, partitions=partitions)
        # A rejection's index is where its record is in this input, so it is left out.
        rejected = result.rejected.drop("index")
        outputs.append([rows(df) for df in (result.invoices, result.lines, result.skipped,
                                            rejected)])  # fmt: skip
        result.unpersist()
    assert outputs[0] == outputs[1] == outputs[2]
    invoices, lines, skipped, rejected = outputs[0]
    assert len(invoices) > 10
    assert len(lines) == sum(len(invoice[-1]) for invoice in invoices)
    assert skipped
    assert len(rejected) == 5  # the conflict twice, the copy, X1 and X2


def test_from_a_parquet_directory_partitioned_by_day(spark, tmp_path):
    from pyspark.sql import functions as F

    records = mixed_records()
    records += [nordmann_record(f"N{i}", f"2021-01-{i + 1:02d}T23:30:00+01:00") for i in range(9)]
    path = str(tmp_path / "purchases")
    df = frame(spark, records, 3).withColumn("day", F.substring("created_at", 1, 10))
    df.write.partitionBy("day").parquet(path)
    assert len(list((tmp_path / "purchases").glob("day=*"))) > 5
    result = plan_spark(spark.read.parquet(path), partitions=3)
    assert result.to_plan() == plan_invoices(records)
    result.unpersist()


def test_a_rejection_is_at_its_records_position_in_the_input(spark):
    from pyspark.sql import functions as F

    records = [nordmann_record(f"T{i:02d}", "2021-01-05T10:00:00+01:00") for i in range(30)]
    for i in (0, 7, 8, 22, 29):  # in each of the input's partitions, at its ends
        records[i] = dict(records[i], currency="kr")
    records[15] = records[14]  # a repeat: the second copy is the one rejected
    # Three partitions in the records' order (a range, as a read of files in order).
    df = spark.createDataFrame(table(records)).repartitionByRange(3, F.col("id"))
    ordered = sorted(records, key=lambda r: r["id"])
    core = plan_invoices(ordered)
    want = sorted((r.transaction_id, r.index) for r in core.rejected)
    assert [i for _, i in want] == [0, 7, 8, 15, 22, 29]
    assert rows(df.select(F.spark_partition_id()).distinct()) == [(0,), (1,), (2,)]
    for partitions in (1, 4):
        result = plan_spark(df, partitions=partitions)
        assert rows(result.rejected.select("transaction_id", "index")) == want
        assert sorted((r.transaction_id, r.index) for r in result.to_plan().rejected) == want
        result.unpersist()


def test_positions_count_the_partitions_before():
    counts = {0: 3, 2: 5, 1: 2}  # no order promised; a partition without rows is absent
    bits = POSITION_BITS
    rows_ = [0, 2, (1 << bits) + 1, (2 << bits) + 4, None]
    assert positions(rows_, counts) == [0, 2, 4, 9, None]


def test_dinteros_transactions_from_json_lines_carry_their_order_lines_and_vat_per_rate(
    spark, tmp_path
):
    import json

    from pyspark.sql import functions as F

    from kravia_schedule.dintero.generate import generate_transactions

    records = list(generate_transactions(60, seed=5))
    path = tmp_path / "transactions.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    result = plan_spark(spark.read.json(str(path)), partitions=3)
    core = plan_invoices(records)
    assert result.to_plan() == core
    assert sum(len(invoice.vat_breakdown) for invoice in core.invoices) > len(core.invoices)
    breakdowns = {
        r["id"]: [tuple(total) for total in r["vat_breakdown"]]
        for r in result.invoices.select("id", "vat_breakdown").collect()
    }
    assert breakdowns == {
        invoice.id: [tuple(total.to_dict().values()) for total in invoice.vat_breakdown]
        for invoice in core.invoices
    }
    described = rows(result.lines.select("transaction_id", F.col("items.description")))
    assert described == sorted(
        ((line.transaction_id, [item.description for item in line.items])
         for invoice in core.invoices for line in invoice.lines), key=repr
    )  # fmt: skip
    assert any(descriptions for _, descriptions in described)
    result.unpersist()


def test_variant_columns_become_the_python_values_json_gives(spark):
    from kravia_schedule.spark.tasks import python_values

    rows_ = spark.sql(
        "select parse_json(a) as amount, id from values "
        "('10000', 'T1'), ('1.5', 'T2'), ('\"100\"', 'T3'), ('null', 'T4'), ('[1, 2.50]', 'T5') "
        "as t(a, id)"
    ).toArrow()
    assert python_values(rows_.select(["id"])).equals(rows_.select(["id"]))  # no VARIANT
    read = python_values(rows_)
    assert read.columns == ["amount", "id"]
    assert read["amount"].to_list() == [10000, 1.5, "100", None, [1, 2.5]]
    assert [type(v) for v in read["amount"].to_list()[:2]] == [int, float]
    only = python_values(rows_.select(["amount"]))
    assert only.shape == (5, 1)


def test_ids_of_another_type_or_none_are_rejected_as_the_core_rejects_them(spark):
    records = [{"id": 7, "created_at": "2021-01-05T10:00:00+01:00"}, {"amount": 5}]
    result = plan_spark(spark.createDataFrame(table(records)), partitions=2)
    assert result.to_plan() == plan_invoices(records)
    no_id = spark.createDataFrame(pa.table({"amount": [5, 6]}))
    assert plan_spark(no_id).to_plan() == plan_invoices([{"amount": 5}, {"amount": 6}])


def test_partitions_hold_many_purchases_by_default_and_use_every_core():
    assert default_partitions(0, 2) == 2
    assert default_partitions(10**6, 2) == 8
    assert default_partitions(PURCHASES_PER_PARTITION * 80 + 1, 16) == 81
    assert default_partitions(0, 0) == 1


def test_options_are_checked_before_any_job(spark):
    df = frame(spark, [nordmann_record("T1", "2021-01-05T10:00:00+01:00")])
    with pytest.raises(NaiveDatetimeError):
        plan_spark(df, as_of=datetime(2026, 11, 25))
    with pytest.raises(ValueError, match="partitions must be at least 1"):
        plan_spark(df, partitions=0)
