"""Reading JSON values of Dintero's shapes field by field, collecting every problem.

A :class:`Reader` reads one object at a dotted path (``items[2]``) and records a
:class:`~kravia_schedule.errors.FieldProblem` for each member of the wrong type instead of
stopping at the first, so that one error names every bad field of a record. Members the
reader is not asked about are never looked at: unknown extra fields are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from kravia_schedule.dintero.schema import AMOUNT_LIMIT
from kravia_schedule.errors import FieldProblem

__all__ = ["Reader", "decimal_of", "join"]

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def join(prefix: str, key: str | int) -> str:
    """The dotted path of member ``key`` under ``prefix`` (``items[2].vat``)."""
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def decimal_of(value: object) -> Decimal | None:
    """A JSON number as the exact decimal it was written as, or ``None`` if it is none.

    ``json`` reads ``25.5`` as the float nearest to it; ``repr`` gives the shortest text
    that reads back as that float, which is the text the sender wrote for any number of
    up to 15 significant digits. Booleans are not numbers here (``True == 1`` in Python).
    """
    kind = type(value)
    if kind is int:
        return Decimal(value)  # type: ignore[arg-type]
    if kind is float:
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    else:
        return None
    return number if number.is_finite() else None


class Reader:
    """Reads the members of one JSON object at ``path``, recording problems in ``problems``.

    Each ``read`` method returns ``None`` when the member is absent (or JSON ``null``) or
    invalid; ``required=True`` also records an absent member as a problem.
    """

    def __init__(self, obj: Mapping[str, Any], path: str, problems: list[FieldProblem]) -> None:
        self.obj = obj
        self.path = path
        self.problems = problems

    def problem(self, key: str | int, message: str) -> None:
        self.problems.append(FieldProblem(join(self.path, key), message))

    def _get(self, key: str, required: bool) -> Any:
        value = self.obj.get(key)
        if value is None and required:
            self.problem(key, "is required")
        return value

    def text(self, key: str, *, required: bool = False, non_empty: bool = False) -> str | None:
        value = self.obj.get(key)
        if type(value) is str and not non_empty:  # the common case, decided at once
            return value
        if value is None:
            if required:
                self.problem(key, "is required")
            return None
        if not isinstance(value, str):
            self.problem(key, f"must be a string, got {type(value).__name__}")
            return None
        if non_empty and not value.strip():
            self.problem(key, "must not be empty")
            return None
        return value

    def boolean(self, key: str) -> bool | None:
        value = self._get(key, False)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.problem(key, f"must be true or false, got {value!r}")
            return None
        return value

    def money(self, key: str, *, required: bool = False, signed: bool = False) -> int | None:
        """An amount in integer minor units within ±:data:`AMOUNT_LIMIT`; negative only
        when ``signed`` (an order line may be negative, e.g. a gift card: ``OrderItem.type``,
        line 2657)."""
        value = self.obj.get(key)
        if type(value) is int and (value >= 0 or signed) and -AMOUNT_LIMIT <= value <= AMOUNT_LIMIT:
            return value
        if value is None:
            if required:
                self.problem(key, "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(
                key,
                f"must be an integer in minor units (øre/öre/cent), got {value!r} "
                f"({type(value).__name__})",
            )
            return None
        if value < 0 and not signed:
            self.problem(key, f"must not be negative, got {value}")
            return None
        if abs(value) > AMOUNT_LIMIT:
            self.problem(key, f"{value} is beyond the limit of ±{AMOUNT_LIMIT} minor units")
            return None
        return value

    def number(self, key: str) -> Decimal | None:
        value = self._get(key, False)
        if value is None:
            return None
        number = decimal_of(value)
        if number is None:
            self.problem(key, f"must be a finite number, got {value!r}")
        return number

    def timestamp(self, key: str, *, required: bool = False) -> datetime | None:
        """A ``Format: date-time`` member, as Dintero writes it (``2019-01-18T13:13:37.175Z``,
        the example at line 6123); one without a UTC offset is refused: its local date
        would be a guess."""
        value = self.text(key, required=required)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.problem(key, f"{value!r} is not an ISO 8601 date-time")
            return None
        if parsed.utcoffset() is None:
            self.problem(key, f"{value!r} has no UTC offset (Dintero writes e.g. 'Z')")
            return None
        return parsed

    def day(self, key: str) -> date | None:
        """A ``Format: date`` member (``YYYY-MM-DD``)."""
        value = self.text(key)
        if value is None:
            return None
        try:
            if not _DATE.fullmatch(value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            self.problem(key, f"{value!r} is not a date (YYYY-MM-DD)")
            return None

    def choice(self, key: str, choices: Sequence[str], *, required: bool = False) -> str | None:
        value = self.text(key, required=required)
        if value is None or value in choices:
            return value
        self.problem(key, f"unknown value {value!r} (expected one of {', '.join(choices)})")
        return None

    def child(self, key: str) -> Reader | None:
        """A reader of the object member ``key``, or ``None`` when it is absent or no object."""
        value = self._get(key, False)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.problem(key, f"must be an object, got {type(value).__name__}")
            return None
        return Reader(value, join(self.path, key), self.problems)

    def children(self, key: str) -> list[Reader]:
        """Readers of the objects of the array member ``key`` (none when it is absent)."""
        value = self._get(key, False)
        if value is None:
            return []
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            self.problem(key, f"must be an array, got {type(value).__name__}")
            return []
        path = join(self.path, key)
        readers = []
        for index, element in enumerate(value):
            if isinstance(element, Mapping):
                readers.append(Reader(element, join(path, index), self.problems))
            else:
                self.problems.append(
                    FieldProblem(
                        join(path, index), f"must be an object, got {type(element).__name__}"
                    )
                )
        return readers
