"""The target guard and the XML parsers: no loopback, link-local, private or non-http(s) target; no entity."""

from __future__ import annotations

import asyncio

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawlers.discovery import parse_feed, parse_sitemap
from crawlers.middlewares import TargetGuardMiddleware, literal_refusal, resolved_refusal

REFUSED_LITERALS = [
    "http://127.0.0.1/",
    "http://127.8.9.10:8080/x",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped loopback
    "http://224.0.0.1/",
]
REFUSED_SCHEMES = ["file:///etc/passwd", "ftp://sputnikglobe.com/", "gopher://x/", "javascript:alert(1)", "data:,x"]


@pytest.mark.parametrize("url", REFUSED_LITERALS)
def test_non_public_ip_literals_are_refused_unless_allowed(url):
    assert "not public" in literal_refusal(url)
    assert literal_refusal(url, allow_private=True) is None


@pytest.mark.parametrize("url", REFUSED_SCHEMES)
def test_other_schemes_are_refused_even_when_private_targets_are_allowed(url):
    assert "is not http(s)" in literal_refusal(url, allow_private=True)


@pytest.mark.parametrize("url", ["https://sputnikglobe.com/x.html", "http://93.184.216.34/", "https://[2606:4700::1]/"])
def test_public_targets_pass(url):
    assert literal_refusal(url) is None


@pytest.mark.parametrize("name", ["localhost", "2130706433", "0x7f000001", "127.1"])
def test_names_resolving_to_loopback_are_refused(name):
    assert "resolves to non-public 127.0.0.1" in asyncio.run(resolved_refusal(name))


def test_names_that_do_not_resolve_are_left_to_the_download():
    assert asyncio.run(resolved_refusal("sputnikglobe.invalid")) is None


def guard(**settings) -> TargetGuardMiddleware:
    crawler = get_crawler(settings_dict=settings)
    crawler.stats.open_spider()
    return TargetGuardMiddleware.from_crawler(crawler)


def redirect(url: str, location: str, *chain: str) -> tuple[Request, Response]:
    request = Request(url, meta={"redirect_urls": list(chain)} if chain else {})
    return request, Response(url, status=301, headers={"Location": location})


@pytest.mark.parametrize(
    ("location", "stat"),
    [
        ("http://169.254.169.254/latest/", "newsvault/refused/redirect"),
        ("file:///etc/passwd", "newsvault/refused/redirect"),
        ("//127.0.0.1/admin", "newsvault/refused/redirect"),  # scheme-relative
        ("/a.html", "newsvault/refused/redirect_loop"),
    ],
)
def test_redirects_are_judged_before_they_are_followed(location, stat, caplog):
    mw = guard()
    with pytest.raises(IgnoreRequest):
        mw.process_response(*redirect("https://sputnikglobe.com/b.html", location, "https://sputnikglobe.com/a.html"))
    assert mw.crawler.stats.get_value(stat) == 1
    assert "Refused redirect" in caplog.text


def test_ordinary_redirects_and_answers_pass():
    mw = guard()
    request, response = redirect("https://sputniknews.com/a.html", "https://sputnikglobe.com/a.html")
    assert mw.process_response(request, response) is response
    ok = Response("https://sputnikglobe.com/a.html", status=200)
    assert mw.process_response(Request(ok.url), ok) is ok


def test_requests_to_private_targets_are_refused_with_a_stat():
    mw = guard()
    with pytest.raises(IgnoreRequest, match="not public"):
        asyncio.run(mw.process_request(Request("http://10.0.0.1/x")))
    with pytest.raises(IgnoreRequest, match="resolves to non-public"):
        asyncio.run(mw.process_request(Request("http://localhost:6379/")))
    assert mw.crawler.stats.get_value("newsvault/refused/target") == 2
    allowed = guard(NEWSVAULT_ALLOW_PRIVATE_TARGETS=True)
    assert asyncio.run(allowed.process_request(Request("http://127.0.0.1:8080/"))) is None
    with pytest.raises(IgnoreRequest, match="not http"):
        asyncio.run(allowed.process_request(Request("file:///etc/passwd")))


def test_the_guard_is_enabled_above_the_redirect_middleware():
    from scrapy.utils.project import get_project_settings

    middlewares = get_project_settings().getdict("DOWNLOADER_MIDDLEWARES")
    assert middlewares["crawlers.middlewares.TargetGuardMiddleware"] > 600


LAUGHS = '<!ENTITY a "AAAAAAAAAA">' + "".join(f'<!ENTITY {c} "{f"&{chr(ord(c) - 1)};" * 10}">' for c in "bcdefghi")


@pytest.mark.parametrize("parse", [parse_feed, parse_sitemap])
def test_parsers_refuse_external_entities_and_expansion(parse, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    entities = f'<!ENTITY x SYSTEM "file://{secret}">{LAUGHS}'
    loc = "https://sputnikglobe.com/20240101/a-1.html?&x;&i;"
    if parse is parse_feed:
        body = f"<rss><channel><item><link>{loc}</link></item></channel></rss>"
        root = "rss"
    else:
        body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{loc}</loc></url></urlset>'
        root = "urlset"
    result = parse(f'<?xml version="1.0"?><!DOCTYPE {root} [{entities}]>{body}'.encode())
    [entry] = result if parse is parse_feed else result.entries
    assert "TOPSECRET" not in entry.url and "AAAA" not in entry.url
    assert entry.url.startswith("https://sputnikglobe.com/20240101/a-1.html")
