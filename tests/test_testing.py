"""The test kit: the invariant checker must catch broken plans (or the property tests
prove nothing), and the strategies must draw what they promise, steered as asked."""

from __future__ import annotations

import ast
import dataclasses
import doctest
import re
import sys
import tomllib
from datetime import date, timedelta
from pathlib import Path

import pytest
from _records import nordmann_record
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument, NoSuchExample

import kravia_schedule.testing as testing
from kravia_schedule import (
    Country,
    Interval,
    InvoiceState,
    KraviaConfig,
    MergeConflictError,
    ProductConfig,
    ProductType,
    Rejection,
    SkippedPurchase,
    SkipReason,
    TransactionStatus,
    billing_period,
    merge_plans,
    parse_configuration,
    parse_purchase,
    plan_invoices,
)
from kravia_schedule.errors import FieldProblem, InvalidPurchaseError
from kravia_schedule.testing import (
    RECOMMENDED_SETTINGS,
    BrokenPurchase,
    PurchaseBatch,
    broken_purchases,
    check_plan,
    configuration_dicts,
    configurations,
    invalid_purchases,
    purchase_batches,
    purchases,
)

ROOT = Path(__file__).resolve().parent.parent
B2B, B2C, GROUPED = ProductType.B2B, ProductType.B2C, ProductType.B2B_GROUPED

RECORDS = [
    nordmann_record("T1", "2021-03-05T10:00:00+01:00", 5000),
    nordmann_record("T2", "2021-03-20T10:00:00+01:00", 7000),
    nordmann_record("T3", "2021-03-21T10:00:00+01:00", 1000, status="AUTHORIZATION_VOIDED"),
    nordmann_record(
        "T4",
        "2021-03-22T10:00:00+01:00",
        1000,
        payment_product_type="kravia.invoice_b2b",
        status="CAPTURED",
    ),
    nordmann_record("T5", "2021-03-22T10:00:00+01:00", amount=1.5),
]


@pytest.fixture
def plan():
    result = plan_invoices(RECORDS, KraviaConfig.all_enabled())
    check_plan(result, RECORDS)  # the honest plan passes
    return result


def _grouped(plan):
    return next(i for i in plan.invoices if i.period is not None)


def _standard(plan):
    return next(i for i in plan.invoices if i.period is None)


def _tamper_invoice(plan, target=_grouped, **changes):
    chosen = target(plan)
    invoices = tuple(dataclasses.replace(i, **changes) if i is chosen else i for i in plan.invoices)
    return dataclasses.replace(plan, invoices=invoices)


def _without_line(plan, transaction_id):
    """The plan with ``transaction_id`` taken off the grouped invoice, totals adjusted so
    that only the missing line is wrong."""
    invoice = _grouped(plan)
    lines = tuple(line for line in invoice.lines if line.transaction_id != transaction_id)
    return _tamper_invoice(
        plan,
        lines=lines,
        amount=sum(line.amount for line in lines),
        vat_amount=sum(line.vat_amount for line in lines),
    )


def _skipped(plan, **changes):
    return dataclasses.replace(
        plan, skipped=tuple(dataclasses.replace(s, **changes) for s in plan.skipped)
    )


def test_honest_plan_has_the_expected_shape(plan):
    assert [len(i.lines) for i in plan.invoices] == [1, 2]  # standard 22 Mar, grouped 1 Apr
    assert [s.transaction_id for s in plan.skipped] == ["T3"]
    assert [r.transaction_id for r in plan.rejected] == ["T5"]
    assert _grouped(plan).amount == 12000


# Each broken plan, and what the message must say: the record (transaction or invoice)
# and the expected and the actual value.
BROKEN_PLANS = [
    (
        "a dropped record",
        lambda p: _without_line(p, "T2"),
        r"transaction 'T2' \(input record #1\): dropped: expected planned once .*got 0",
    ),
    (
        "a double-counted record",
        lambda p: dataclasses.replace(
            p,
            skipped=(
                *p.skipped,
                SkippedPurchase(
                    "T1",
                    SkipReason.STATUS,
                    "",
                    GROUPED,
                    TransactionStatus.AUTHORIZED,
                    "NOK",
                    5000,
                    1000,
                ),
            ),
        ),
        r"transaction 'T1' \(input record #0\): double-counted: planned 2 times "
        r"\('T1' on G-2021-03-\w+, 'T1' skipped \(status\)\); expected once",
    ),
    (
        "a wrongly rejected valid record",
        lambda p: dataclasses.replace(
            _without_line(p, "T2"),
            rejected=(*p.rejected, Rejection("T2", (FieldProblem("amount", "made up"),))),
        ),
        r"transaction 'T2' \(input record #1\): wrongly rejected \(amount: made up\): it "
        r"parses cleanly and its id is not a repeat of another record; expected planned "
        r"once, got 0",
    ),
    (
        "a wrong total",
        lambda p: _tamper_invoice(p, amount=_grouped(p).amount + 1),
        r"invoice G-2021-03-\w+: amount expected 12000 \(the sum of its lines\), got 12001",
    ),
    (
        "a wrong VAT total",
        lambda p: _tamper_invoice(p, vat_amount=0),
        r"invoice G-2021-03-\w+: vat_amount expected 2400 \(the sum of its lines\), got 0",
    ),
    (
        "a wrong skipped amount",
        lambda p: _skipped(p, amount=999),
        r"skipped 'T3': amount expected 1000, got 999 \(the purchase's\)",
    ),
    (
        "an invoiceable purchase skipped",
        lambda p: dataclasses.replace(
            p,
            invoices=tuple(i for i in p.invoices if i is not _standard(p)),
            skipped=(
                *p.skipped,
                SkippedPurchase(
                    "T4", SkipReason.STATUS, "", B2B, TransactionStatus.CAPTURED, "NOK", 1000, 200
                ),
            ),
        ),
        r"skipped 'T4': expected on an invoice \(kravia.invoice_b2b CAPTURED, enabled\), "
        r"got skipped \(status\)",
    ),
    (
        "a late issue date",
        lambda p: _tamper_invoice(p, issue_date=_grouped(p).issue_date + timedelta(1)),
        r"invoice G-2021-03-\w+: issue date expected 2021-04-06 \(the first business day "
        r"after 2021-03-31\), got 2021-04-07",
    ),
    (
        "a wrong standard issue date",
        lambda p: _tamper_invoice(p, _standard, issue_date=date(2021, 3, 23)),
        r"invoice S-\w+: issue date expected 2021-03-22 \(the purchase's local date\), "
        r"got 2021-03-23",
    ),
    (
        "a wrong due date",
        lambda p: _tamper_invoice(p, due_date=_grouped(p).due_date + timedelta(1)),
        r"invoice G-2021-03-\w+: due date expected 2021-04-20 .*got 2021-04-21",
    ),
    (
        "reversed lines",
        lambda p: _tamper_invoice(p, lines=_grouped(p).lines[::-1]),
        r"invoice G-2021-03-\w+: lines expected in \(created_at, id\) order \['T1', 'T2'\], "
        r"got \['T2', 'T1'\]",
    ),
    (
        "a line's amount changed",
        lambda p: _tamper_invoice(
            p,
            lines=(_grouped(p).lines[0]._replace(amount=5001), _grouped(p).lines[1]),
            amount=12001,
        ),
        r"invoice G-2021-03-\w+: line 'T1': amount expected 5000, got 5001 \(its purchase's\)",
    ),
    (
        "a wrong state",
        lambda p: _tamper_invoice(p, state=InvoiceState.READY),
        r"invoice G-2021-03-\w+: state expected None \(as of None\), got ready",
    ),
    (
        "a lost skip",
        lambda p: dataclasses.replace(p, skipped=()),
        r"transaction 'T3' \(input record #2\): dropped: expected planned once",
    ),
    (
        "a lost rejection",
        lambda p: dataclasses.replace(p, rejected=()),
        r"transaction 'T5' \(input record #4\): 1 record\(s\) in, 0 planned: expected 1 "
        r"rejection\(s\), got 0",
    ),
    (
        "an extra rejection",
        lambda p: dataclasses.replace(p, rejected=p.rejected * 2),
        r"transaction 'T5' \(input record #4\): .*expected 1 rejection\(s\), got 2",
    ),
    (
        "a rejection of no input record",
        lambda p: dataclasses.replace(
            p, rejected=(*p.rejected, Rejection("T9", (FieldProblem("id", "?"),)))
        ),
        r"transaction 'T9' \(no input record\): 0 record\(s\) in, 0 planned: expected 0 "
        r"rejection\(s\), got 1",
    ),
    (
        "an invoice of a disabled product type",
        lambda p: dataclasses.replace(
            p,
            provenance=dataclasses.replace(
                p.provenance,
                config=dataclasses.replace(
                    p.provenance.config, invoice_b2b_grouped=ProductConfig(enabled=False)
                ),
            ),
        ),
        r"invoice G-2021-03-\w+: expected no invoice of the disabled "
        r"kravia.invoice_b2b_grouped, got one",
    ),
    (
        "a wrong period",
        lambda p: _tamper_invoice(p, period=billing_period(date(2021, 4, 1))),
        r"invoice G-2021-03-\w+: period expected 2021-03, got 2021-04",
    ),
    (
        "a standard invoice with a period",
        lambda p: _tamper_invoice(p, _standard, period=billing_period(date(2021, 3, 1))),
        r"invoice S-\w+: a standard invoice expected 1 line and no period, got 1 line\(s\) "
        r"and period 2021-03",
    ),
    (
        "another spelling than the earliest purchase's",
        lambda p: _tamper_invoice(
            p,
            billing_address=dataclasses.replace(
                _grouped(p).billing_address, business_name="NORDMANN AS"
            ),
        ),
        r"invoice G-2021-03-\w+: billing address expected the earliest purchase's .*"
        r"'Nordmann AS'.*, got .*'NORDMANN AS'",
    ),
    (
        "an empty invoice",
        lambda p: dataclasses.replace(
            p,
            invoices=(
                *p.invoices,
                dataclasses.replace(_grouped(p), id="G-x", lines=(), amount=0, vat_amount=0),
            ),
        ),
        r"invoice G-x: expected at least one line, got none",
    ),
    (
        "two invoices of one id",
        lambda p: _tamper_invoice(p, _standard, id=_grouped(p).id),
        r"invoice G-2021-03-\w+: expected once in the plan, got 2 times",
    ),
    (
        "a duplicated invoice",
        lambda p: dataclasses.replace(p, invoices=p.invoices + p.invoices[:1]),
        r"transaction 'T4' \(input record #3\): double-counted: planned 2 times",
    ),
]


@pytest.mark.parametrize(
    ("tamper", "message"),
    [pytest.param(tamper, message, id=what) for what, tamper, message in BROKEN_PLANS],
)
def test_checker_catches_and_names_the_record_and_both_values(plan, tamper, message):
    with pytest.raises(AssertionError, match="plan invariant broken: " + message):
        check_plan(tamper(plan), RECORDS)


def test_checker_catches_a_plan_of_conflicting_copies():
    # Two different records of T1: the planner rejects both; a plan that invoices one
    # of them double-counts nothing, but invoices a transaction it cannot know.
    conflicting = [*RECORDS, nordmann_record("T1", "2021-03-06T10:00:00+01:00", 5000)]
    honest = plan_invoices(conflicting)
    check_plan(honest, conflicting)
    assert [r.transaction_id for r in honest.rejected].count("T1") == 2
    with pytest.raises(
        AssertionError,
        match=r"transaction 'T1' \(input record #0, #5\): planned 1 time\(s\) \('T1' on "
        r"G-2021-03-\w+\) although its 2 valid records conflict; expected 0",
    ):
        check_plan(plan_invoices(RECORDS), conflicting)


def test_checker_catches_a_planned_invalid_record(plan):
    records = [*RECORDS[:1], {**RECORDS[1], "currency": "kr"}, *RECORDS[2:]]
    with pytest.raises(
        AssertionError,
        match=r"transaction 'T2' \(input record #1\): planned 1 time\(s\) .* although no "
        r"record of it is valid input; expected 0",
    ):
        check_plan(plan, records)


def test_identical_copies_count_once_also_with_a_padded_id():
    records = [*RECORDS, dict(RECORDS[0]), {**RECORDS[1], "id": "  T2 "}]
    result = plan_invoices(records)
    check_plan(result, records)
    assert sorted(r.transaction_id for r in result.rejected) == ["T1", "T2", "T5"]


def test_a_record_the_planner_cannot_date_is_rightly_rejected():
    # A grouped invoice of December 2100 would be issued in 2101, past the holiday data.
    records = [nordmann_record("T1", "2100-12-15T10:00:00+01:00", 5000), RECORDS[3]]
    result = plan_invoices(records)
    assert [r.field for r in result.rejected] == ["created_at"]
    check_plan(result, records)


def test_other_inputs_the_planner_takes_are_accounted_for_and_closed_days_followed():
    records = [
        *RECORDS,
        InvalidPurchaseError("T8", [FieldProblem("$", "an unreadable line")]),
        ["not", "an", "object"],
    ]
    result = plan_invoices(records, closed_days={"NO": {date(2021, 4, 6): "strike"}})
    assert _grouped(result).issue_date == date(2021, 4, 7)
    check_plan(result, records)
    with pytest.raises(AssertionError, match=r"records without a readable id \(#6\): 1 "):
        check_plan(dataclasses.replace(result, rejected=result.rejected[1:]), records)


def _typed(record, transaction_id):
    """A :class:`Purchase` as a caller may build it, the id not trimmed."""
    return dataclasses.replace(parse_purchase(record), id=transaction_id)


def test_checker_catches_a_trimmed_id_double_count():
    # A plan that counts one transaction twice, once under its id with spaces around it
    # (as a planner that does not trim a typed purchase's id would).
    records = [RECORDS[3]]
    plan = plan_invoices(records)
    [invoice] = plan.invoices
    padded = dataclasses.replace(
        invoice,
        id="S-0000000000000000",
        lines=[line._replace(transaction_id=" T4 ") for line in invoice.lines],
    )
    doctored = dataclasses.replace(plan, invoices=(invoice, padded))
    with pytest.raises(
        AssertionError,
        match=r"transaction 'T4' \(input record #0\): double-counted: planned 2 times "
        r"\((' T4 ' on S-\w+, 'T4'|'T4' on S-\w+, ' T4 ') on S-\w+\); expected once",
    ):
        check_plan(doctored, records)


@pytest.mark.parametrize("alone", [False, True], ids=["with its mapping", "alone"])
def test_the_planner_trims_a_typed_purchase_id_like_a_mapping_id(alone):
    records = [_typed(RECORDS[3], " T4 ")] + ([] if alone else [RECORDS[3]])
    check_plan(plan_invoices(records), records)


# -- the strategies -------------------------------------------------------------------


def _drawn(strategy, predicate):
    """Some example of ``strategy`` that satisfies ``predicate`` (NoSuchExample if none is
    found); the first one found, not shrunk: only its existence matters."""
    return find(
        strategy,
        predicate,
        settings=settings(max_examples=1000, database=None, phases=[Phase.generate]),
    )


@pytest.mark.parametrize("status", list(TransactionStatus))
def test_every_status_is_drawn(status):
    assert _drawn(purchases(), lambda r: r["status"] == status.value)["status"] == status


@pytest.mark.parametrize("product_type", list(ProductType))
@pytest.mark.parametrize("country", list(Country))
def test_every_product_type_and_country_is_drawn(product_type, country):
    record = _drawn(
        purchases(),
        lambda r: (
            (r["payment_product_type"], r["billing_address"]["country"])
            == (product_type.value, country.value)
        ),
    )
    assert ("organization_number" in record["billing_address"]) == product_type.is_business


@RECOMMENDED_SETTINGS
@given(
    purchase_batches(
        countries=["FI", Country.SE],
        product_types=[B2C, "kravia.invoice_b2b_grouped"],
        statuses=["DECLINED", TransactionStatus.AUTHORIZED, "PARTIALLY_REFUNDED"],
        intervals=["quarterly"],
        min_date=date(2024, 2, 10),
        max_date=date(2024, 3, 5),
        invalid=False,
        max_size=15,
    )
)
def test_batches_are_steered(batch: PurchaseBatch):
    assert isinstance(batch.config, KraviaConfig)
    grouped = batch.config.invoice_b2b_grouped
    assert grouped.interval is Interval.QUARTERLY or not grouped.enabled
    for record in batch.records:
        assert record["billing_address"]["country"] in {"FI", "SE"}
        assert record["payment_product_type"] in {B2C.value, GROUPED.value}
        assert record["status"] in {"DECLINED", "AUTHORIZED", "PARTIALLY_REFUNDED"}
        created = parse_purchase(record).created_at
        assert date(2024, 2, 10) <= created.date() <= date(2024, 3, 5)
    check_plan(plan_invoices(batch.records, batch.config), batch.records)


QUARTERLY = KraviaConfig.all_enabled(interval="quarterly", days_until_due=30)


@settings(RECOMMENDED_SETTINGS, max_examples=20)
@given(
    purchase_batches(config=QUARTERLY, max_size=5),
    purchase_batches(config=st.just(QUARTERLY), max_size=5),
)
def test_a_batch_carries_the_config_given(one, other):
    assert one.config is QUARTERLY
    assert other.config is QUARTERLY


@settings(RECOMMENDED_SETTINGS, max_examples=50)
@given(configurations(intervals=[Interval.MONTHLY], enabled=[B2C]), configuration_dicts())
def test_configurations_are_configs_and_their_json_form_parses(config, data):
    assert isinstance(config, KraviaConfig)
    assert config.invoice_b2b_grouped.interval is Interval.MONTHLY
    assert config.invoice_b2c.enabled
    parsed = parse_configuration(data)
    assert parse_configuration({"kravia": parsed.to_dict()}) == parsed


# The shape of ``customers=``, as the docstring of purchases() shows it.
KARI = {
    "first_name": "Kari",
    "last_name": "Nordmann",
    "email": "kari@example.com",
    "phone_number": "+4799999999",
    "address_line": "Storgata 1",
    "postal_code": "0151",
    "country": "NO",
}
FJORDBYGG = {**KARI, "business_name": "Fjordbygg AS", "organization_number": "923609016"}


def test_the_customers_example_in_the_docstring_is_this_one():
    docstring = re.sub(r"\s+", " ", purchases.__doc__ or "")
    for key, value in FJORDBYGG.items():
        assert f'"{key}": "{value}"' in docstring


@settings(RECOMMENDED_SETTINGS, max_examples=60)
@given(purchases(customers=[KARI, FJORDBYGG]))
def test_purchases_are_made_by_the_customers_given(record):
    address = record["billing_address"]
    if address["first_name"] == "Kari" and "business_name" not in address:
        assert address == KARI
        assert record["payment_product_type"] == B2C.value  # no organization number
    else:
        assert address["organization_number"] == FJORDBYGG["organization_number"]
        assert record["payment_product_type"] in {B2B.value, GROUPED.value}
    parse_purchase(record)


@settings(RECOMMENDED_SETTINGS, max_examples=30)
@given(purchases(customers=[KARI, {**FJORDBYGG, "country": "SE", "postal_code": "111 57",
                                   "organization_number": "556677-8899"}], countries=["SE"]))  # fmt: skip
def test_customers_outside_the_countries_given_are_left_out(record):
    assert record["billing_address"]["country"] == "SE"


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        (lambda: purchases(customers=[KARI], product_types=[B2B]), "valid for none"),
        (lambda: purchases(customers=[KARI], countries=["FI"]), "no customer"),
        (lambda: purchases(statuses=["PAID"]), "statuses="),
        (lambda: purchases(countries="NO"), "collection of values"),
        (lambda: purchases(product_types=[]), "at least one"),
        (lambda: purchases(min_date=date(2025, 1, 2), max_date=date(2025, 1, 1)), "after"),
        (lambda: purchase_batches(config=QUARTERLY, intervals=["monthly"]), "intervals"),
        (lambda: purchase_batches(min_size=3, max_size=2), "min_size"),
        (lambda: broken_purchases(purchases(), countries=["NO"]), "not both"),
        (lambda: testing.billing_addresses(B2C, product_types=[B2C]), "not both"),
        (lambda: broken_purchases(st.just(RECORDS[4])), "invalid record"),
    ],
)
def test_bad_arguments_are_refused(strategy, message):
    with pytest.raises(InvalidArgument, match=message):
        _drawn(strategy(), lambda _: True)


# -- invalid records ------------------------------------------------------------------


def _paths(record, prefix=""):
    """Every leaf of ``record`` by dotted path."""
    out = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out.update(_paths(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


@settings(RECOMMENDED_SETTINGS, max_examples=600)
@given(st.data(), st.booleans())
def test_every_broken_purchase_breaks_one_field_and_is_rejected_naming_it(data, strict):
    valid = data.draw(purchases(), label="valid")
    broken: BrokenPurchase = data.draw(broken_purchases(st.just(valid)), label="broken")
    before, after = _paths(valid), _paths(broken.record)
    changed = {p for p in before.keys() | after.keys() if before.get(p, ...) != after.get(p, ...)}
    # exactly one field differs (a replaced address counts as its one field)
    assert changed == {broken.field} or all(
        p.startswith(f"{broken.field}.") or p == broken.field for p in changed
    )
    plan = plan_invoices([broken.record], KraviaConfig.all_enabled(), strict=strict)
    assert (plan.invoices, plan.skipped) == ((), ())
    [rejection] = plan.rejected
    paths = {problem.path for problem in rejection.problems}
    assert broken.field in paths, (broken, rejection)
    assert paths <= {broken.field} | ({"vat_amount"} if broken.field == "amount" else set())
    check_plan(plan, [broken.record])


def test_a_b2c_record_never_gets_an_organization_number_break():
    # A B2C record's organization number is not read: breaking it would prove nothing.
    with pytest.raises(NoSuchExample):
        _drawn(broken_purchases(product_types=[B2C]), lambda b: "organization" in b.field)
    assert _drawn(broken_purchases(product_types=[B2B]), lambda b: "organization" in b.field)


@pytest.mark.parametrize(
    ("country", "postal", "org"),
    [("NO", "11157", "556677-8899"), ("SE", "0151", "923609016"), ("FI", "0151", "923609016")],
)
def test_country_aware_breaks_use_a_neighbours_valid_shape(country, postal, org):
    fields = ["billing_address.postal_code", "billing_address.organization_number"]
    strategy = broken_purchases(countries=[country], product_types=[B2B], fields=fields)
    values = {
        _drawn(strategy, lambda b, f=f: b.field == f and "set" in b.change).record[
            "billing_address"
        ][f.split(".")[1]]
        for f in fields
    }
    assert postal in values or org in values
    assert values <= {postal, org, "12345"}


@settings(RECOMMENDED_SETTINGS, max_examples=30)
@given(invalid_purchases(fields=["status"], statuses=["CAPTURED"]))
def test_invalid_purchases_are_the_broken_records(record):
    assert record.get("status", "removed") in {"PAID", "captured", "removed"}


# -- duplicates and merging -----------------------------------------------------------


def _key(record):
    value = record.get("id")
    return value.strip() if isinstance(value, str) else value


@settings(RECOMMENDED_SETTINGS, max_examples=40)
@given(purchase_batches(invalid=False, duplicates=True, min_size=1, max_size=10))
def test_with_duplicates_a_split_that_parts_the_copies_cannot_merge(batch):
    keys = [_key(r) for r in batch.records]
    repeated = [k for k in keys if keys.count(k) > 1]
    if not repeated:  # duplicates=True adds a copy to about half the batches
        return
    first = keys.index(repeated[0])
    left = batch.records[: first + 1]
    right = batch.records[first + 1 :]
    with pytest.raises(MergeConflictError, match=repeated[0]):
        merge_plans(plan_invoices(left, batch.config), plan_invoices(right, batch.config))
    check_plan(plan_invoices(batch.records, batch.config), batch.records)


def test_duplicates_are_drawn_by_default():
    batch = _drawn(purchase_batches(min_size=1), lambda b: len({_key(r) for r in b.records})
                   < len(b.records))  # fmt: skip
    assert len(batch.records) >= 2


@settings(RECOMMENDED_SETTINGS, max_examples=60)
@given(purchase_batches(duplicates=False), st.randoms(use_true_random=False))
def test_without_duplicates_any_split_merges_into_the_plan_of_the_union(batch, rng):
    keys = [_key(r) for r in batch.records if isinstance(_key(r), str) and _key(r)]
    assert len(keys) == len(set(keys))
    left = [r for r in batch.records if rng.random() < 0.5]
    right = [r for r in batch.records if all(r is not x for x in left)]
    merged = merge_plans(plan_invoices(left, batch.config), plan_invoices(right, batch.config))
    assert merged == plan_invoices(batch.records, batch.config)


# -- the recipe and the packaging -----------------------------------------------------


def test_the_recipe_in_the_module_docstring_runs():
    result = doctest.testmod(testing, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5
    assert result.failed == 0


def test_the_recommended_settings_have_no_deadline():
    assert RECOMMENDED_SETTINGS.deadline is None
    assert HealthCheck.too_slow in RECOMMENDED_SETTINGS.suppress_health_check


def test_the_kit_imports_only_hypothesis_and_the_package():
    tree = ast.parse(Path(testing.__file__).read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom) and not getattr(node, "level", 0)
        for alias in node.names
    }
    assert imported - set(sys.stdlib_module_names) == {"hypothesis", "kravia_schedule"}


def test_the_testing_extra_is_hypothesis_only_and_the_test_extra_includes_it():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert [re.match(r"[\w-]+", d)[0] for d in extras["testing"]] == ["hypothesis"]
    assert "kravia-schedule[testing]" in extras["test"]


def test_our_suite_runs_with_the_recommended_settings():
    # tests/conftest.py loads them as the default profile, so the cold start of a first
    # example (holiday data, calendars) is never reported as a DeadlineExceeded.
    assert settings().deadline is None
    assert HealthCheck.too_slow in settings().suppress_health_check
