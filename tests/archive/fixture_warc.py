"""WARC files of the real Sputnik fixture pages, served gzip-encoded, as a crawl would have written them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from archive.records import http_head
from archive.writer import RotatingWarcWriter
from tests.archive.conftest import INFO, ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "sputnik" / "real"


def fixture_pages() -> list[tuple[str, bytes]]:
    """(original URL, HTML) of every real fixture page with a known URL."""
    pages = []
    for html in sorted(FIXTURES.glob("*.html")):
        meta = json.loads(html.with_name(html.stem + ".scrapy-item.json").read_text())
        pages.append((meta["provenance"], html.read_bytes()))
    return pages


def build_fixture_warc(directory: Path, copies: int = 1, max_size: int = 10**9) -> list[Path]:
    """Write ``copies`` rounds of every fixture page (plus one 404 per round) as request/response pairs."""
    writer = RotatingWarcWriter(directory, INFO, max_size=max_size)
    pages = [(url, gzip.compress(html, mtime=0), 200) for url, html in fixture_pages()]
    pages.append(("https://snanews.de/missing", gzip.compress(b"<html>not found</html>", mtime=0), 404))
    for round_number in range(copies):
        for url, body, status in pages:
            headers = [
                (b"Content-Type", b"text/html; charset=utf-8"),
                (b"Content-Encoding", b"gzip"),
                (b"Content-Length", str(len(body)).encode()),
            ]
            head = http_head(b"HTTP/1.1 %d %s" % (status, b"OK" if status == 200 else b"Not Found"), headers)
            target = url if round_number == 0 else f"{url}?round={round_number}"
            request = http_head(b"GET / HTTP/1.1", [(b"Host", b"snanews.de")])
            writer.write(writer.builder.exchange(target, request, head, body, ip="127.0.0.1", protocol="http/1.1"))
    return writer.close()
