"""Write records forever into a folder (to be killed with SIGKILL by a test). Usage: python -m ... DIR"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from archive.records import http_head
from archive.writer import RotatingWarcWriter
from tests.archive.conftest import INFO


def main() -> None:
    """Write 64 KiB responses in a loop; say when the first ones are on disk."""
    writer = RotatingWarcWriter(Path(sys.argv[1]), INFO, max_size=10**9, level=1)
    head = http_head(b"HTTP/1.1 200 OK", [(b"Content-Type", b"application/octet-stream")])
    for number in range(10**9):
        request, response = writer.builder.exchange(
            f"http://e.org/{number}", b"GET / HTTP/1.1\r\n\r\n", head, os.urandom(65536)
        )
        future = writer.write([request, response])
        if number == 20:
            future.result()
            print("writing", flush=True)


if __name__ == "__main__":
    main()
