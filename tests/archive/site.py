"""A tiny local web site for capture tests: gzip, chunked, redirect, 404, repeated Set-Cookie, query strings.

It records the exact bytes of every body it sends, so tests can check payload digests against them.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

ARTICLE_HTML = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Test article</title></head>"
    "<body><article><h1>Зеленые холмы: a headline to replay</h1><p>Body text.</p></article></body></html>"
).encode()
ARTICLE_GZIP = gzip.compress(ARTICLE_HTML, mtime=0)
CHUNKS = [b"<html><body><h1>Chunked page</h1>", b"<p>second chunk</p></body></html>"]
LINKS = b"".join(
    b'<a href="%s">x</a>' % path for path in (b"/article?id=1&lang=ru", b"/copy", b"/chunked", b"/old", b"/missing")
)


class Handler(BaseHTTPRequestHandler):
    """Serves the fixed pages; HTTP/1.1 so chunked transfer encoding is real."""

    protocol_version = "HTTP/1.1"
    sent: ClassVar[dict[str, bytes]] = {}

    def log_message(self, *args: object) -> None:
        """Quiet."""

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in [*headers, ("Content-Length", str(len(body)))]:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        Handler.sent[self.path] = body

    def do_GET(self) -> None:
        """Route by path."""
        path = self.path.split("?")[0]
        if path == "/":
            self._send(200, b"<html><body>" + LINKS + b"</body></html>", [("Content-Type", "text/html")])
        elif path in ("/article", "/copy"):
            cookies = [("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/")]
            html = [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")]
            self._send(200, ARTICLE_GZIP, html + cookies)
        elif path == "/old":
            self._send(301, b"", [("Location", "/article?id=1&lang=ru&from=old")])
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in CHUNKS:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            Handler.sent[self.path] = b"".join(CHUNKS)
        else:
            self._send(404, b"not here", [("Content-Type", "text/plain")])


@contextmanager
def serve() -> Iterator[str]:
    """Run the site on a free loopback port; yield its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
