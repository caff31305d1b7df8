"""pywb, the independent replay reader, on loopback for tests (GPL-3.0: only ever run as a program)."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from replay.server import free_port

PYWB = Path(__file__).resolve().parents[1] / ".tools" / "pywb" / "bin"


@contextmanager
def pywb_collection(directory: Path, warcs: Iterable[Path]) -> Iterator[str]:
    """A pywb collection ``news`` of ``warcs`` in ``directory``, served on a free loopback port.

    Yields the collection's base URL (``http://127.0.0.1:PORT/news``) once pywb answers; stops it on exit.
    """
    for args in (["init", "news"], ["add", "news", *map(str, warcs)]):
        subprocess.run([PYWB / "wb-manager", *args], cwd=directory, check=True, capture_output=True, timeout=60)
    port = free_port()
    command = [PYWB / "wayback", "-p", str(port), "-b", "127.0.0.1"]
    server = subprocess.Popen(command, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/news"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/", timeout=5).close()
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"pywb did not answer on port {port} within 20 s")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
