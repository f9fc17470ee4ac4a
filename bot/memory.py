"""Giving memory that a heavy command freed back to the system."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim; None where the C library has none (musl, macOS)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    return getattr(ctypes.CDLL(name), "malloc_trim", None)


def release_free_memory() -> None:
    """glibc keeps what a thread freed in that thread's arena for reuse: after a command
    that read thousands of themes, tens of MiB per worker thread stay resident although
    nothing uses them. malloc_trim hands them back (well under a millisecond)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
