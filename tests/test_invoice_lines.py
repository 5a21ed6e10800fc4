"""An invoice's lines: a tuple of InvoiceLine that the garbage collector can forget.

``InvoiceLines`` keeps plain tuples and hands out ``InvoiceLine`` records; it must behave
as the plain tuple of those records in every way a caller can see, and the lines of a
plan must stop being tracked by the cyclic collector (a named tuple never does).
"""

from __future__ import annotations

import copy
import gc
import pickle
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from _records import nordmann_record
from hypothesis import given
from hypothesis import strategies as st

from kravia_schedule import (
    Invoice,
    InvoiceItem,
    InvoiceLine,
    InvoiceLines,
    KraviaConfig,
    merge_plans,
    plan_invoices,
)

lines = st.lists(
    st.builds(
        InvoiceLine,
        st.datetimes(timezones=st.just(UTC)),
        st.text(min_size=1, max_size=4),
        st.integers(1, 10**9),
        st.integers(0, 10**8),
        st.none() | st.text(max_size=4),
        st.lists(
            st.builds(
                InvoiceItem,
                st.none(),
                st.none() | st.text(max_size=3),
                st.integers(-100, 100),
                st.sampled_from([None, Decimal(25), Decimal("25.5")]),
                st.none() | st.integers(-20, 20),
            ),
            max_size=2,
        ).map(tuple),
    ),
    max_size=6,
    unique_by=lambda line: line.transaction_id,
)


def _raw(items: tuple[object, ...]) -> list[object]:
    """What a tuple holds, bypassing any overridden iteration."""
    return list(tuple.__iter__(items))


@given(lines, st.integers(-8, 8), st.integers(-8, 8), st.sampled_from([None, 1, 2, -1, -2]))
def test_lines_behave_as_the_tuple_of_their_records(items, start, stop, step):
    expected = tuple(items)
    got = InvoiceLines(items)
    assert got == expected
    assert expected == got
    assert hash(got) == hash(expected)
    assert len(got) == len(expected)
    assert repr(got) == repr(expected)
    assert all(type(line) is InvoiceLine for line in got)
    assert list(got) == list(expected)
    assert list(reversed(got)) == list(reversed(expected))
    assert all(type(line) is InvoiceLine for line in reversed(got))
    for index in range(-len(expected), len(expected)):
        assert got[index] == expected[index]
        assert type(got[index]) is InvoiceLine
        assert got.index(expected[index]) == expected.index(expected[index])
        assert expected[index] in got
        assert got.count(expected[index]) == expected.count(expected[index])
    window = slice(start, stop, step)
    assert got[window] == expected[window]
    assert type(got[window]) is InvoiceLines
    assert sorted(got) == sorted(expected)
    assert all(type(line) is InvoiceLine for line in sorted(got))
    assert tuple(got) == expected
    assert type(tuple(got)) is tuple
    assert all(type(line) is InvoiceLine for line in tuple(got))


@given(lines, lines)
def test_concatenation_and_repetition_keep_the_records(first, second):
    a, b = InvoiceLines(first), InvoiceLines(second)
    both = tuple(first) + tuple(second)
    assert a + b == both
    assert type(a + b) is InvoiceLines
    assert a + tuple(second) == both
    assert tuple(first) + b == both
    assert all(type(line) is InvoiceLine for line in a + tuple(second))
    assert all(type(line) is InvoiceLine for line in tuple(first) + b)
    assert a * 2 == tuple(first) * 2
    assert 2 * a == tuple(first) * 2
    assert type(a * 2) is InvoiceLines
    with pytest.raises(TypeError):
        a + [1]  # type: ignore[operator]  # noqa: RUF005 - the error is the point


@given(lines)
def test_lines_survive_pickle_and_copies(items):
    got = InvoiceLines(items)
    for again in (pickle.loads(pickle.dumps(got)), copy.copy(got), copy.deepcopy(got)):
        assert again == got
        assert type(again) is InvoiceLines
        assert all(type(line) is tuple for line in _raw(again))


def test_lines_keep_plain_tuples_and_refuse_a_malformed_line():
    line = InvoiceLine(datetime(2025, 1, 1, tzinfo=UTC), "T1", 100, 25)
    got = InvoiceLines([line, tuple(line)])
    assert [type(item) for item in _raw(got)] == [tuple, tuple]
    assert InvoiceLines() == ()
    with pytest.raises(TypeError, match="6 fields"):
        InvoiceLines([("T1", 100)])


def _month_of_purchases(n: int) -> list[dict[str, object]]:
    start = datetime(2025, 3, 1, 12, tzinfo=UTC)
    return [
        nordmann_record(f"T{i}", (start + timedelta(minutes=i)).isoformat(), 100 + i)
        for i in range(n)
    ]


def test_a_plans_lines_are_untracked_by_the_garbage_collector():
    records = _month_of_purchases(600)  # one customer, one month: one invoice of 600 lines
    plan_invoices(records, KraviaConfig.all_enabled())  # holiday tables, zones, caches
    gc.collect()
    before = len(gc.get_objects())
    plan = plan_invoices(records, KraviaConfig.all_enabled())
    gc.collect()
    (invoice,) = plan.invoices
    assert type(invoice.lines) is InvoiceLines
    assert len(invoice.lines) == 600
    assert not any(gc.is_tracked(line) for line in _raw(invoice.lines))
    # As named tuples the 600 lines alone stayed tracked; now the plan adds a handful.
    assert len(gc.get_objects()) - before < 100
    del plan


def test_invoices_made_otherwise_get_lines_too():
    records = _month_of_purchases(4)
    config = KraviaConfig.all_enabled()
    (invoice,) = plan_invoices(records, config).invoices
    given_as_tuple = Invoice(**{**_fields(invoice), "lines": tuple(invoice.lines)})
    assert type(given_as_tuple.lines) is InvoiceLines
    assert given_as_tuple == invoice
    assert type(replace(invoice, lines=tuple(invoice.lines[:2])).lines) is InvoiceLines
    (merged,) = merge_plans(
        plan_invoices(records[:2], config), plan_invoices(records[2:], config)
    ).invoices
    assert merged == invoice
    assert type(merged.lines) is InvoiceLines
    assert all(type(line) is tuple for line in _raw(merged.lines))
    assert merged.transaction_ids == ("T0", "T1", "T2", "T3")


def _fields(invoice: Invoice) -> dict[str, object]:
    return {name: getattr(invoice, name) for name in Invoice.__dataclass_fields__}


def test_columnar_plans_keep_plain_lines_too():
    pl = pytest.importorskip("polars")
    from kravia_schedule.columnar import plan_frames

    records = _month_of_purchases(50)
    frame = pl.DataFrame(records)
    (invoice,) = plan_frames(frame, KraviaConfig.all_enabled()).to_plan().invoices
    assert invoice == plan_invoices(records).invoices[0]
    assert type(invoice.lines) is InvoiceLines
    assert all(type(line) is tuple for line in _raw(invoice.lines))
