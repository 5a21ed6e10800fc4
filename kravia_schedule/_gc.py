"""Pausing Python's cyclic garbage collector while large results are built (internal).

The planner, the columnar path and the JSON report each build millions of small objects
that form no reference cycles; left on, the collector walks them again and again while
they grow (see :func:`cyclic_gc_paused`).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["cyclic_gc_paused"]


@contextmanager
def cyclic_gc_paused() -> Iterator[Callable[[], object]]:
    """Pause Python's automatic cyclic garbage collection while a plan is built.

    Planning allocates one small tuple or two per purchase and creates no reference
    cycles, but every few hundred allocations the collector walks the young objects and,
    now and then, the whole growing heap, finding nothing to free. Reference counting
    still frees everything as usual; the previous state is restored on the way out.

    Yields ``collect_young``, which the planner calls every few thousand purchases:
    one pass over the youngest objects while they are still in the CPU's caches. It
    finds the invoice lines (plain tuples, see
    :class:`~kravia_schedule.invoices.InvoiceLines`) hold nothing the collector tracks
    and stops tracking them; left to one pass at the end, the same work would reach lines
    the caches no longer hold. It does nothing when the caller had turned the
    collector off.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield (lambda: gc.collect(0)) if was_enabled else _nothing
    finally:
        if was_enabled:
            gc.enable()


def _nothing() -> None:
    return None
