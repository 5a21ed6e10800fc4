"""Building instances of frozen, slotted dataclasses quickly (internal).

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, several
times the cost of the plain ``__init__`` of a mutable one. The
planner builds an :class:`~kravia_schedule.invoices.Invoice` per group and the reader a
:class:`~kravia_schedule.address.BillingAddress` per distinct address, so
:func:`builder` gives them the cheap way: build a mutable twin with the same slots in the
same order, then make it an instance of the frozen class by ``__class__`` assignment,
which CPython allows between classes of the same layout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, make_dataclass
from typing import Any, TypeVar

__all__ = ["builder"]

T = TypeVar("T")


def builder(cls: type[T]) -> Callable[..., T]:
    """A function building a ``cls`` from the values of all its fields, in order (those
    with ``init=False`` too). Neither ``__init__`` nor ``__post_init__`` of ``cls`` runs:
    the caller gives every value, already checked."""
    twin = make_dataclass(
        f"_{cls.__name__}Draft", [(f.name, Any) for f in fields(cls)],  # type: ignore[arg-type]
        slots=True, eq=False, repr=False,
    )  # fmt: skip
    if twin.__slots__ != getattr(cls, "__slots__", None):  # type: ignore[attr-defined]
        raise TypeError(f"{cls.__name__} is not a slotted dataclass of plain fields")

    def build(*values: Any) -> T:
        instance = twin(*values)
        instance.__class__ = cls
        return instance  # type: ignore[no-any-return]

    return build
