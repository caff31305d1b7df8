"""The replay proxy, exercised with a plain HTTP client (urllib through the proxy, certificates unverified)."""

from __future__ import annotations

import gzip
import json
import re
import ssl
import urllib.error
import urllib.request
from datetime import date
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from replay.fixture_site import Site
from replay.server import ReplayServer

SEED_OLD = (
    "https://sputniknews.com/20211228/"
    "russia-considers-mali-govt-as-legitimate-cooperation-as-positive-diplomat-says-1091867654.html"
)
SITE = Site.load()


@pytest.fixture(scope="module")
def overrides(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("overrides") / "overrides.json"


@pytest.fixture(scope="module")
def replay(tmp_path_factory, overrides):
    with ReplayServer(tmp_path_factory.mktemp("replay"), overrides) as server:
        yield server


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(replay: ReplayServer, url: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    """Status, headers (lower-cased names) and raw body bytes, without following redirects or decoding."""
    proxies = {"http": replay.proxy_url, "https": replay.proxy_url}
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler(proxies),
        urllib.request.HTTPSHandler(context=ssl._create_unverified_context()),
        _NoRedirect(),
    )
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def links(xml_or_html: bytes, host: str) -> set[str]:
    """Absolute article links (a path starting with a date) in a feed, sitemap or page."""
    text = xml_or_html.decode()
    found = re.findall(r"<(?:link|loc)>([^<]+)</", text) + re.findall(r'href="([^"]+)"', text)
    absolute = {u if u.startswith("http") else f"https://{host}{u}" for u in found}
    return {u for u in absolute if re.search(r"^https?://[^/]+/(\w+/)?\d{8}", u)}


def test_https_and_http_hosts_answer_from_the_site(replay):
    for url in ("https://sputnikglobe.com/robots.txt", "http://snanews.de/robots.txt"):
        status, _, body = fetch(replay, url)
        assert status == 200 and body.startswith(b"User-agent: *")
    article = sorted(SITE.expected_articles(("de",)))[-1]
    status, headers, body = fetch(replay, article)
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"SYNTHETIC" in body and b'class="article__title"' in body


def test_off_site_hosts_are_refused_and_logged(replay):
    for url in ("https://example.org/", "http://www.google.com/search?q=x"):
        status, _, _ = fetch(replay, url)
        assert status == 403
    off = [r for r in replay.requests() if not r["onsite"]]
    assert {r["host"] for r in off} >= {"example.org", "www.google.com"}


def test_old_host_redirects_the_seed_to_sputnikglobe(replay):
    status, headers, _ = fetch(replay, SEED_OLD)
    assert status == 301
    assert headers["location"] == SEED_OLD.replace("://sputniknews.com/", "://sputnikglobe.com/")
    assert SITE.redirects() == {SEED_OLD: headers["location"]}


def test_feed_lists_a_404_article(replay):
    (missing,) = SITE.not_found_urls()
    _, _, feed = fetch(replay, SITE.discovery_urls("en")["feed"])
    assert missing in links(feed, "sputnikglobe.com")
    assert fetch(replay, missing)[0] == 404


def test_429_with_retry_after_once_then_200(replay):
    ((url, seconds),) = SITE.retry_after_urls().items()
    replay.reset()
    status, headers, _ = fetch(replay, url)
    assert (status, headers["retry-after"]) == (429, str(seconds))
    assert fetch(replay, url)[0] == 200
    replay.reset()
    assert fetch(replay, url)[0] == 429


def test_gzip_only_when_accepted_with_correct_length(replay):
    url = SITE.discovery_urls("en")["feed"]
    status, plain_headers, plain = fetch(replay, url)
    assert status == 200 and "content-encoding" not in plain_headers
    status, headers, raw = fetch(replay, url, {"Accept-Encoding": "gzip, deflate"})
    assert headers["content-encoding"] == "gzip"
    assert int(headers["content-length"]) == len(raw)
    assert raw[:2] == b"\x1f\x8b" and gzip.decompress(raw) == plain


def test_chunked_responses_have_no_content_length(replay):
    status, headers, body = fetch(replay, SITE.discovery_urls("en")["widget"])
    assert status == 200 and headers["transfer-encoding"] == "chunked" and "content-length" not in headers
    assert b'<div class="lenta" id="widgetLenta"' in body


def test_robots_disallows_a_listed_article(replay):
    (url,) = SITE.robots_disallowed()
    _, _, robots = fetch(replay, "https://sputnikglobe.com/robots.txt")
    assert f"Disallow: {url.split('sputnikglobe.com')[1]}" in robots.decode()
    _, _, feed = fetch(replay, SITE.discovery_urls("en")["feed"])
    assert url in links(feed, "sputnikglobe.com")


def test_latest_listings_match_expected_articles(replay):
    """Everything feed, widget and home list, minus 404 and disallowed, after redirects, is what the API expects."""
    for edition in ("en", "de"):
        urls = SITE.discovery_urls(edition)
        host = urls["home"].split("/")[2]
        listed = set().union(*(links(fetch(replay, urls[k])[2], host) for k in ("feed", "widget", "home")))
        listed = {SITE.redirects().get(u, u) for u in listed}
        assert listed - SITE.not_found_urls() - SITE.robots_disallowed() == SITE.expected_articles((edition,))
    _, _, home = fetch(replay, "https://sputnikglobe.com/")
    assert 'href="/category_world/"' in home.decode()
    assert fetch(replay, "https://sputnikglobe.com/category_world/")[0] == 200


def test_backfill_sitemaps_match_expected_articles(replay):
    found = set()
    for host in ("snanews.de", "de.sputniknews.com"):
        _, _, index = fetch(replay, f"https://{host}/sitemap_index.xml")
        for day_url in re.findall(r"<loc>([^<]+)</loc>", index.decode()):
            status, _, day = fetch(replay, day_url.replace("&amp;", "&"), {"Accept-Encoding": "gzip"})
            assert status == 200
            found |= links(gzip.decompress(day) if day[:2] == b"\x1f\x8b" else day, host)
    assert found == SITE.expected_articles(("de",), "backfill")
    in_2019 = SITE.expected_articles(("de",), "backfill", since=date(2019, 1, 1), until=date(2019, 12, 31))
    assert len(in_2019) == 2 and all("de.sputniknews.com/" in u for u in in_2019)


def test_image_cdn_serves_a_jpeg(replay):
    status, headers, body = fetch(replay, "https://cdnn1.img.sputnikglobe.com/img/07e5/0b/13/1090842825_0:321.jpg")
    assert status == 200 and headers["content-type"] == "image/jpeg" and body[:2] == b"\xff\xd8"


def test_overrides_change_body_lastmod_and_add_articles(replay, overrides):
    url = "https://sputnikglobe.com/20240312/new-rail-corridor-links-caspian-ports-1117310982.html"
    new = "https://sputnikglobe.com/20240315/breaking-late-addition-1117350000.html"
    overrides.write_text(
        json.dumps(
            {
                "articles": [
                    {"url": url, "lastmod": "2024-03-15T10:00:00+00:00", "body": "<html>corrected</html>"},
                    {"url": new, "title": "Late Addition", "published": "2024-03-15T11:00:00+00:00"},
                ]
            }
        )
    )
    try:
        assert fetch(replay, url)[2] == b"<html>corrected</html>"
        sitemap = fetch(replay, "https://sputnikglobe.com/sitemap_article.xml?date_start=20240312&date_end=20240312")
        assert f"<loc>{url}</loc><lastmod>2024-03-15T10:00:00+00:00</lastmod>" in sitemap[2].decode()
        feed = gzip.decompress(fetch(replay, SITE.discovery_urls("en")["feed"], {"Accept-Encoding": "gzip"})[2])
        dates = dict(re.findall(r"<link>([^<]+)</link><guid>[^<]+</guid><pubDate>([^<]+)<", feed.decode()))
        assert parsedate_to_datetime(dates[url]).isoformat() == "2024-03-15T10:00:00+00:00"
        assert new in dates and fetch(replay, new)[0] == 200
        assert new in Site.load(overrides=overrides).expected_articles()
    finally:
        overrides.unlink()
    assert b"SYNTHETIC" in fetch(replay, url)[2]


def test_request_log_records_every_request(replay):
    before = len(replay.requests())
    urls = ["https://snanews.de/", "https://snanews.de/nope/", "https://elsewhere.test/x"]
    for url in urls:
        fetch(replay, url)
    logged = replay.requests()[before:]
    assert [r["url"] for r in logged] == urls
    assert [(r["status"], r["onsite"]) for r in logged] == [(200, True), (404, True), (403, False)]
    assert all(r["method"] == "GET" and r["time"] > 0 and "Python-urllib" in r["user_agent"] for r in logged)


def test_every_page_file_of_the_manifest_exists():
    assert SITE.missing_files() == []
