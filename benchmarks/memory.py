"""Process memory as the kernel sees it (Linux; other systems give ``None`` where unknown).

``peak_kib`` is ``resource.getrusage(RUSAGE_SELF).ru_maxrss``. ``reset_peak`` lowers that
high-water mark to the current RSS (``/proc/self/clear_refs``, Linux 4.0+), so a peak read
afterwards belongs to the work done after the reset, not to the data generation before it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import resource
import sys
from pathlib import Path

__all__ = ["mem_available_kib", "peak_kib", "release", "reset_peak", "rss_kib"]


def _status_field(name: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_kib() -> int | None:
    """The current resident set size in KiB (``VmRSS``)."""
    return _status_field("VmRSS")


def peak_kib() -> int:
    """The peak resident set size in KiB (``ru_maxrss``; macOS reports bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def reset_peak() -> bool:
    """Reset the peak RSS to the current RSS; ``False`` where the system does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


_libc = (
    ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6") if sys.platform == "linux" else None
)


def release() -> None:
    """Collect garbage and hand freed heap memory back to the system, so RSS means live data."""
    gc.collect()
    if _libc is not None and hasattr(_libc, "malloc_trim"):
        _libc.malloc_trim(0)


def mem_available_kib() -> int | None:
    """``MemAvailable`` of ``/proc/meminfo``: memory a new process can use without swapping."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None
