"""pytest's settings for the whole checkout.

The package's doctests run with the suite (``--doctest-modules`` over ``kravia_schedule``,
see pyproject.toml). A module that needs an optional extra cannot be imported without it,
so its doctests are left out when the extra is missing, as its tests skip themselves.
"""

from __future__ import annotations

import importlib.util

#: Package paths (relative to this file) and the packages they cannot be imported without.
_NEEDS = {
    "kravia_schedule/columnar": ("polars", "pyarrow"),  # the [columnar] extra
    "kravia_schedule/testing.py": ("hypothesis",),  # the [test] extra
}

collect_ignore = [
    path
    for path, packages in _NEEDS.items()
    if any(importlib.util.find_spec(package) is None for package in packages)
]
