"""A faster ``malloc`` for CPU-bound commands: the process runs itself again once, with mimalloc or jemalloc preloaded.

``scrapy reextract`` spends most of its time building and freeing one libxml2 tree per page: thousands of small
``malloc``/``free`` calls that glibc serves more slowly than mimalloc (+13% records/s here, jemalloc +9%;
docs/benchmarks.md). A library can only replace ``malloc`` before the process starts, hence ``LD_PRELOAD`` and
``exec``: same PID, arguments, streams and environment. Linux only; elsewhere, or when the library is missing, the
command runs on with the system's allocator and says so.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from ctypes.util import find_library
from pathlib import Path

ALLOCATORS = {  # name -> where Debian 12 has it
    "mimalloc": "libmimalloc2.0",
    "jemalloc": "libjemalloc2",
}
SYSTEM = "system"
PRELOADED = "NEWSVAULT_MALLOC_PRELOADED"  # set on the run-again: it is never tried twice


class UnknownAllocator(ValueError):
    """A setting names an allocator that is not ``mimalloc``, ``jemalloc`` or ``system``."""


def running_allocator(maps: Path = Path("/proc/self/maps")) -> str:
    """The allocator mapped into this process (``mimalloc``, ``jemalloc``), else ``system``."""
    try:
        mapped = maps.read_text()
    except OSError:  # not Linux
        return SYSTEM
    return next((name for name in ALLOCATORS if f"lib{name}.so" in mapped), SYSTEM)


def preload_environment(
    name: str,
    environ: Mapping[str, str],
    running: str,
    find: Callable[[str], str | None] = find_library,
    platform: str = sys.platform,
) -> tuple[dict[str, str] | None, str]:
    """(the environment to run again with, "") or (None, why not: "" when there is nothing to say)."""
    if name not in (*ALLOCATORS, SYSTEM):
        raise UnknownAllocator(f"unknown allocator {name!r}: {', '.join(ALLOCATORS)} or {SYSTEM}")
    if name in (SYSTEM, running):
        return None, ""
    if running != SYSTEM:  # the user preloaded another one: a second would not serve malloc, the first does
        return None, f"{running} is preloaded already (LD_PRELOAD); kept instead of {name}"
    fallback = "; the system allocator is used (slower)"
    if not platform.startswith("linux"):
        return None, f"{name} is preloaded on Linux only{fallback}"
    if environ.get(PRELOADED):
        return None, f"{name} could not be preloaded{fallback}"
    library = find(name)
    if library is None:
        return None, f"{name} not found (Debian 12: apt-get install {ALLOCATORS[name]}){fallback}"
    preload = " ".join(filter(None, (environ.get("LD_PRELOAD", ""), library)))
    return {**environ, "LD_PRELOAD": preload, PRELOADED: name}, ""


def run_under(name: str) -> str:
    """Run this process again under allocator ``name`` (this call then never returns), unless it already runs
    under it. Returns why it does not (a line for the user), or "" when all is as asked."""
    environment, reason = preload_environment(name, os.environ, running_allocator())
    if environment is None:
        return reason
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, sys.orig_argv, environment)
    return ""  # not reached: execve replaces the process or raises
