"""The allocator a command runs itself again under: when it does, with what environment, and what it says if not."""

from __future__ import annotations

import pytest

from commands.malloc import PRELOADED, SYSTEM, UnknownAllocator, preload_environment, running_allocator


def found(name: str) -> str:
    """find_library's answer when the library is installed."""
    return f"lib{name}.so.2"


def test_the_running_allocator_is_read_from_the_process_maps(tmp_path):
    maps = tmp_path / "maps"
    maps.write_text("7f00-7f10 r-xp 0 fe:01 42 /usr/lib/x86_64-linux-gnu/libmimalloc.so.2.0\n")
    assert running_allocator(maps) == "mimalloc"
    maps.write_text("7f00-7f10 r-xp 0 fe:01 42 /usr/lib/x86_64-linux-gnu/libc.so.6\n")
    assert running_allocator(maps) == SYSTEM
    assert running_allocator(tmp_path / "absent") == SYSTEM


def test_a_process_is_run_again_with_the_library_added_to_its_preloads():
    environ = {"PATH": "/usr/bin", "LD_PRELOAD": "libother.so"}
    environment, reason = preload_environment("mimalloc", environ, SYSTEM, find=found, platform="linux")
    assert reason == ""
    assert environment == {**environ, "LD_PRELOAD": "libother.so libmimalloc.so.2", PRELOADED: "mimalloc"}
    environment, _ = preload_environment("jemalloc", {}, SYSTEM, find=found, platform="linux")
    assert environment == {"LD_PRELOAD": "libjemalloc.so.2", PRELOADED: "jemalloc"}


@pytest.mark.parametrize(
    ("name", "environ", "running", "platform", "reason"),
    [
        ("system", {}, SYSTEM, "linux", ""),
        ("mimalloc", {}, "mimalloc", "linux", ""),  # already under it: the run-again itself
        ("mimalloc", {}, "jemalloc", "linux", "jemalloc is preloaded already (LD_PRELOAD); kept instead of mimalloc"),
        ("mimalloc", {}, SYSTEM, "darwin", "mimalloc is preloaded on Linux only; the system allocator is used"),
        ("mimalloc", {PRELOADED: "mimalloc"}, SYSTEM, "linux", "mimalloc could not be preloaded; the system"),
        ("jemalloc", {}, SYSTEM, "linux", "jemalloc not found (Debian 12: apt-get install libjemalloc2); the system"),
    ],
)
def test_when_the_process_is_not_run_again_it_says_why(name, environ, running, platform, reason):
    def missing(library: str) -> None:
        return None if library == "jemalloc" else found(library)

    environment, said = preload_environment(name, environ, running, find=missing, platform=platform)
    assert environment is None and said.startswith(reason) and bool(said) == bool(reason)


def test_an_unknown_allocator_is_refused():
    with pytest.raises(UnknownAllocator, match="'tcmalloc': mimalloc, jemalloc or system"):
        preload_environment("tcmalloc", {}, SYSTEM)
