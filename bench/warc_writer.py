"""Throughput of the rotating WARC writer, and what it costs the calling (crawl) thread.

Run: ``.venv/bin/python bench/warc_writer.py [--records N]``. Writes gzip-encoded real Sputnik pages as
request/response pairs; prints MB/s of record bytes written and the caller's time per record (the hot path:
record building and queueing only; compression and disk writes run on the writer thread).
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive.records import http_head
from archive.writer import RotatingWarcWriter
from tests.archive.conftest import INFO
from tests.archive.fixture_warc import fixture_pages


def main() -> None:
    """Write N pairs into 100 MB files; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=3000)
    count = parser.parse_args().records
    bodies = [(url, gzip.compress(html, mtime=0)) for url, html in fixture_pages()]
    head = http_head(b"HTTP/1.1 200 OK", [(b"Content-Type", b"text/html"), (b"Content-Encoding", b"gzip")])
    with tempfile.TemporaryDirectory() as folder:
        writer = RotatingWarcWriter(Path(folder), INFO, max_size=10**8)
        start, build, caller, written = time.perf_counter(), 0.0, 0.0, 0
        for number in range(count):
            url, body = bodies[number % len(bodies)]
            before = time.perf_counter()
            pair = writer.builder.exchange(f"{url}?n={number}", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", head, body)
            build += time.perf_counter() - before
            writer.write(pair)  # blocks only when 1000 groups are already queued (backpressure)
            caller += time.perf_counter() - before
            written += sum(len(record.serialize()) for record in pair)
        paths = writer.close()
        elapsed = time.perf_counter() - start
        on_disk = sum(path.stat().st_size for path in paths)
    print(f"{count} pairs, {written / 1e6:.1f} MB of records -> {on_disk / 1e6:.1f} MB gzip in {len(paths)} file(s)")
    print(f"writer throughput: {written / 1e6 / elapsed:.1f} MB/s ({count / elapsed:.0f} pairs/s, wall)")
    print(f"caller (hot path): {build / count * 1e6:.0f} us per pair building records (digests included)")
    print(f"caller incl. queue backpressure: {caller / count * 1e6:.0f} us per pair, {caller / elapsed:.0%} of wall")


if __name__ == "__main__":
    main()
