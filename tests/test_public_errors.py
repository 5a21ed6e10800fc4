"""Every public function of the package refuses bad input with the library's own errors.

The test walks ``kravia_schedule.__all__`` (and the public subpackages' ``__all__``)
and calls each function with junk for its required arguments: whatever escapes must be
a :class:`KraviaScheduleError`, which a caller catches as "anything this library refused".
Classes are left out: an enum refuses an unknown value with Python's own ``ValueError``,
and a dataclass's constructor a missing argument with ``TypeError``, as every Python
type does.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

import kravia_schedule
from kravia_schedule import KraviaScheduleError, dintero, identifiers, references

JUNK: list[Any] = [None, "", "x", -1, 1.5, object(), {}, [], "2025-13-45", b"\xff", True]


#: Building blocks over the reader's own typed values (VatLine, TransactionEvent), not
#: over input: read_transaction gives them what they take.
_TYPED_ONLY = {"breakdown", "event_amounts", "kravia_facts"}


def _functions() -> list[tuple[str, Callable[..., Any]]]:
    found = []
    for module in (kravia_schedule, dintero, identifiers, references):
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isfunction(value) and name not in _TYPED_ONLY:
                found.append((f"{module.__name__}.{name}", value))
    return found


def _required(function: Callable[..., Any]) -> list[inspect.Parameter]:
    return [
        p
        for p in inspect.signature(function).parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD,
                                               p.KEYWORD_ONLY)
    ]  # fmt: skip


@pytest.mark.parametrize(("name", "function"), _functions(), ids=[n for n, _ in _functions()])
def test_junk_raises_only_the_librarys_errors(name: str, function: Callable[..., Any]) -> None:
    required = _required(function)
    if not required:
        pytest.skip(f"{name} takes no required argument")
    escaped = set()
    for values in itertools.product(JUNK, repeat=min(len(required), 2)):
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for parameter, value in zip(required, itertools.cycle(values), strict=False):
            if parameter.kind is parameter.KEYWORD_ONLY:
                kwargs[parameter.name] = value
            else:
                args.append(value)
        try:
            function(*args, **kwargs)
        except KraviaScheduleError:
            pass
        except Exception as error:
            escaped.add(f"{type(error).__name__}: {error}"[:120])
    assert sorted(escaped) == []


def test_the_walk_finds_the_functions_named_in_the_issue() -> None:
    names = {name.rsplit(".", 1)[1] for name, _ in _functions()}
    assert {"plan_invoices", "billing_period", "local_date", "merge_plans"} <= names


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: kravia_schedule.BusinessCalendar("DK"), "not a Kravia market"),
        (lambda: kravia_schedule.BusinessCalendar("NO", kind="lunar"), "unknown calendar kind"),
        (lambda: kravia_schedule.BusinessCalendar("NO", closed_days=["2025-01-01"]), "dates"),
        (lambda: kravia_schedule.billing_period(date(2025, 1, 5), "weekly"), "unknown interval"),
        (lambda: kravia_schedule.plan_invoices([], due_date_rule="folowing"), "due_date_rule"),
        (lambda: kravia_schedule.plan_invoices([], as_of="2025-01-05"), "as_of"),
    ],
)
def test_the_issues_examples_are_typed_errors(call: Callable[[], Any], words: str) -> None:
    with pytest.raises(KraviaScheduleError, match=words):
        call()
