"""The HOSTILE replay site (``site/hostile.json``): broken, oversized and malicious answers for robustness tests.

Articles carrying ``"hostile": CASE`` answer :func:`article_reply`; a host's ``hostile_sitemaps`` are listed in its
sitemap index and answered by :func:`sitemap_reply` at ``/hostile/sitemap-CASE.xml``; other ``/hostile/`` paths
are redirect hops (:func:`route`). Large bodies are generated on first use and cached. Stdlib only.
"""

from __future__ import annotations

import gzip
import zlib
from functools import cache
from urllib.parse import urlsplit

from replay.fixture_site import SITE_DIR, Article, Host

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
REDIRECTS = {
    "redirect-loopback": "http://127.0.0.1/admin",
    "redirect-metadata": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "redirect-file": "file:///etc/passwd",
    "redirect-private": "http://10.0.0.1/",
    "redirect-ipv6-loopback": "http://[::1]/",
    "redirect-localhost": "http://localhost:8080/",
    "redirect-decimal-ip": "http://2130706433/",
    "redirect-ftp": "ftp://sputnikglobe.com/pub/",
    "redirect-javascript": "javascript:alert(1)",
    "redirect-offsite": "https://example.com/",
}
CHAIN_LENGTH = 30
NON_HTML = {
    "content-pdf": ("application/pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"),
    "content-json": ("application/json", b'{"headline": "not a page", "items": [1, 2, 3]}'),
    "content-image": ("image/jpeg", None),  # the site's JPEG
    "content-octet": ("application/octet-stream", bytes(range(256)) * 16),
}


def _deflate(chunks, *, wbits: int = 31) -> bytes:
    """gzip (``wbits=31``) of a stream of chunks, without holding the inflated data in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return b"".join(compressor.compress(chunk) for chunk in chunks) + compressor.flush()


@cache
def gzip_bomb(megabytes: int = 200) -> bytes:
    """About 200 kB of gzip that inflates to ``megabytes`` MB of zeros."""
    return _deflate(bytes(1 << 20) for _ in range(megabytes))


@cache
def huge_page(megabytes: int = 50) -> bytes:
    """A ``megabytes`` MB HTML page."""
    filler = b"<p>" + b"x" * 1020 + b"</p>"
    return b"<html><body>" + filler * (megabytes * 1024) + b"</body></html>"


@cache
def million_url_sitemap(count: int = 1_000_000) -> bytes:
    """A gzip-encoded urlset of ``count`` URLs (about 60 MB inflated), generated lazily."""
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}">'.encode()
    row = "<url><loc>https://sputnikglobe.com/20240101/m-{}.html</loc></url>"
    rows = ("".join(row.format(n + i) for i in range(10000)).encode() for n in range(0, count, 10000))
    return _deflate([head, *rows, b"</urlset>\n"])


def _urlset(rows: str, prolog: str = "") -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}<urlset xmlns="{SITEMAP_NS}">{rows}</urlset>\n'.encode()


def _billion_laughs() -> str:
    entities = '<!ENTITY l0 "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    )
    return f"<!DOCTYPE urlset [{entities}]>"


def sitemap_body(case: str, host: Host, listed: list[Article]) -> tuple[str, bytes, dict[str, str]]:
    """Content type, body and extra headers of the hostile sitemap ``case``; ``listed`` are the articles it names."""
    xml = "application/xml; charset=utf-8"
    if case == "xml-bomb":
        return xml, _urlset(f"<url><loc>https://{host.name}/&l9;</loc></url>", _billion_laughs()), {}
    if case == "external-entity":
        prolog = '<!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        return xml, _urlset(f"<url><loc>https://{host.name}/&x;</loc></url>", prolog), {}
    if case == "external-dtd":
        prolog = '<!DOCTYPE urlset SYSTEM "http://169.254.169.254/latest/sitemap.dtd">'
        return xml, _urlset("".join(f"<url><loc>{a.url}</loc></url>" for a in listed), prolog), {}
    if case == "million-urls":
        return xml, million_url_sitemap(), {"Content-Encoding": "gzip"}
    if case == "over-cap":  # more entries than the protocol's 50,000, none of them an article URL
        return xml, _urlset("".join(f"<url><loc>https://{host.name}/c/{n}</loc></url>" for n in range(60_000))), {}
    if case == "private-locs":
        locs = ["http://127.0.0.1/20240101/a-1.html", "http://169.254.169.254/20240101/b-2.html", "file:///etc/passwd"]
        return xml, _urlset("".join(f"<url><loc>{loc}</loc></url>" for loc in locs)), {}
    if case == "bad-dates":
        dates = ("2024-13-45T99:99:99", "yesterday", "99999-01-01", "")
        pairs = zip(listed, dates, strict=False)
        rows = "".join(f"<url><loc>{a.url}</loc><lastmod>{d}</lastmod></url>" for a, d in pairs)
        return xml, _urlset(rows), {}
    if case == "not-xml":
        return "text/html; charset=utf-8", b"<html><body><h1>Maintenance</h1></body></html>", {}
    if case == "truncated-xml":
        return xml, _urlset("".join(f"<url><loc>{a.url}</loc></url>" for a in listed))[:-40], {}
    if case == "empty":
        return xml, b"", {}
    raise KeyError(f"unknown hostile sitemap case {case!r}")


def _recode(page: str, charset: str, *, header: bool) -> tuple[str, bytes]:
    """The page in ``charset`` with its meta tag saying so; the Content-Type names it only when ``header``."""
    meta = 'content="text/html; charset=utf-8"'
    body = page.replace(meta, f'content="text/html; charset={charset}"').encode(charset)
    return (f"text/html; charset={charset}" if header else "text/html"), body


def article_body(case: str, article: Article, page: str) -> tuple[int, str, bytes, dict[str, str]]:
    """Status, content type, body and extra headers of the hostile article ``case``; ``page`` is its normal page."""
    html = "text/html; charset=utf-8"
    if case in ("control", "future-date", "sitemap-listed"):  # a normal page (a future date comes from the manifest)
        return 200, html, page.encode(), {}
    if case in REDIRECTS:
        return 301, html, b"", {"Location": REDIRECTS[case]}
    if case == "redirect-loop":
        return 301, html, b"", {"Location": f"/hostile/loop-back?to={urlsplit(article.url).path}"}
    if case == "redirect-self":
        return 302, html, b"", {"Location": article.url}
    if case == "redirect-chain":
        return 302, html, b"", {"Location": "/hostile/chain/1"}
    if case in NON_HTML:
        content_type, body = NON_HTML[case]
        return 200, content_type, body or (SITE_DIR / "static" / "image.jpg").read_bytes(), {}
    if case == "malformed-html":
        broken = page.replace("</div>", "").replace("<p", "<<p ").replace('">', '" >>') + "</span></html></body>"
        return 200, html, broken.encode(), {}
    if case == "truncated-html":
        return 200, html, page.encode()[: len(page) // 2], {}
    if case == "empty-body":
        return 200, html, b"", {}
    if case == "binary-body":
        return 200, html, bytes(range(256)) * 64, {}
    if case == "null-bytes":
        return 200, html, page.replace("</h1>", "\x00\x00</h1>\x00").encode(), {}
    if case == "deep-nesting":
        return 200, html, page.replace("<body", "<div>" * 100_000 + "<body", 1).encode(), {}
    if case == "wrong-charset":
        return 200, "text/html; charset=iso-8859-1", page.encode("utf-8"), {}
    if case == "missing-charset":
        return 200, "text/html", page.encode("utf-8"), {}
    if case == "windows-1251":
        content_type, body = _recode(page, "windows-1251", header=True)
        return 200, content_type, body, {}
    if case == "windows-1251-meta-only":
        content_type, body = _recode(page, "windows-1251", header=False)
        return 200, content_type, body, {}
    if case == "truncated-gzip":
        packed = gzip.compress(page.encode(), mtime=0)
        return 200, html, packed[: len(packed) // 2], {"Content-Encoding": "gzip"}
    if case == "gzip-bomb":
        return 200, html, gzip_bomb(), {"Content-Encoding": "gzip"}
    if case == "huge-page":
        return 200, html, huge_page(), {}
    if case == "header-flood":
        return 200, html, page.encode(), {f"X-Flood-{n:05d}": "y" * 20 for n in range(5000)}
    if case == "huge-header":
        return 200, html, page.encode(), {"X-Huge": "z" * 70_000}
    if case == "invalid-date":
        broken = page.replace(article.published.strftime("%Y%m%dT%H%M%z"), "not-a-date")
        broken = broken.replace(article.published.strftime("%Y-%m-%dT%H:%M%z"), "32.13.2024 25:61")
        return 200, html, broken.encode(), {}
    if case == "server-error":
        return 500, html, b"<html><body>Internal Server Error</body></html>", {}
    raise KeyError(f"unknown hostile article case {case!r}")


def route(path: str, query: str, host: Host) -> tuple[int, dict[str, str]] | None:
    """Status and headers of a ``/hostile/`` redirect hop, or None when ``path`` is not one."""
    if path == "/hostile/loop-back":
        return 301, {"Location": query.removeprefix("to=")}
    if path.startswith("/hostile/chain/"):
        step = int(path.rsplit("/", 1)[1])
        return 302, {"Location": f"/hostile/chain/{min(step + 1, CHAIN_LENGTH)}"}
    return None
