"""A local test site on 127.0.0.1: editions with a good layout, a broken layout, errors, slow pages."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GOOD = """<html><head><title>Site title {n}</title></head><body><article data-id="{n}">
<h1 class="title">Headline {n} – Überschrift</h1><time class="published" datetime="2026-11-2{n}T10:00:00+00:00"></time>
<div class="body"><p>First paragraph of {n}.</p><p>Second paragraph.</p></div></article></body></html>"""
# The layout changed: the selectors of the test spider find nothing (the headline falls back to <title>).
BROKEN = """<html><head><title>Site title {n}</title></head><body><main data-id="{n}">
<h2 class="hdr">Headline {n}</h2><span class="date">2026-11-2{n}</span>
<section><p>Text.</p></section></main></body></html>"""


def index(links: list[str]) -> str:
    """An edition index linking to ``links``."""
    return "<html><body>" + "".join(f'<a class="article" href="{h}">{h}</a>' for h in links) + "</body></html>"


def pages() -> dict[str, tuple[int, str]]:
    """Every path of the site with its status and HTML."""
    site: dict[str, tuple[int, str]] = {"/empty/": (200, index([]))}
    for edition, layout in (("good", GOOD), ("broken", BROKEN), ("slow", GOOD)):
        site[f"/{edition}/"] = (200, index([f"/{edition}/a{n}.html" for n in range(1, 6)]))
        site.update({f"/{edition}/a{n}.html": (200, layout.format(n=n)) for n in range(1, 6)})
    site["/dupes/"] = (200, index(["/good/a1.html", "/good/a1.html?utm=x", "/good/a2.html"]))
    site["/errors/"] = (200, index(["/good/a1.html", *(f"/errors/down{n}.html" for n in range(4))]))
    site.update({f"/errors/down{n}.html": (503, "unavailable") for n in range(4)})
    return site


class SiteHandler(BaseHTTPRequestHandler):
    """Answers from :func:`pages`; paths under ``/slow/`` answer after ``SLOW_SECONDS``."""

    SITE = pages()
    SLOW_SECONDS = 1.0

    def do_GET(self) -> None:
        """Serve a page, or 404."""
        path = self.path.split("?")[0]
        if path.startswith("/slow/a"):
            time.sleep(self.SLOW_SECONDS)
        status, html = self.SITE.get(path, (404, "not found"))
        body = html.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Stay quiet."""


class Site:
    """The test site served from a thread; ``url`` is its base URL."""

    def __enter__(self) -> Site:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), SiteHandler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
