"""Text that is not valid Unicode (lone surrogates): refused on input, escaped on output."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

import kravia_schedule.text
from kravia_schedule.text import printable, text_problem


@pytest.mark.parametrize("value", ["", "T1", "Ærø AS", "😀", "\u0665\u0660"])
def test_valid_text_has_no_problem_and_prints_as_it_is(value):
    assert text_problem(value) is None
    assert printable(value) is value


@pytest.mark.parametrize(
    ("value", "problem", "shown"),
    [
        ("\ud800x", "a lone surrogate U+D800 at character 1", "\\ud800x"),
        ("Ærø\udfff", "a lone surrogate U+DFFF at character 4", "Ærø\\udfff"),
        ("ab\udc80\ud800", "a lone surrogate U+DC80 at character 3", "ab\\udc80\\ud800"),
    ],
)
def test_lone_surrogates_are_named_and_escaped(value, problem, shown):
    assert text_problem(value) == f"is not valid Unicode text ({problem})"
    assert printable(value) == shown


@given(st.text(st.characters(codec=None)))
def test_printable_always_encodes_and_changes_only_invalid_text(value):
    shown = printable(value)
    shown.encode("utf-8")
    assert (shown == value) == (text_problem(value) is None)


def test_doctests():
    assert doctest.testmod(kravia_schedule.text).failed == 0
