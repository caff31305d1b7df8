"""Feed and sitemap parsing: URLs with dates, every common flavour, and hostile XML left unexpanded."""

import gzip
from datetime import UTC, datetime, timedelta, timezone

import pytest

from crawlers.discovery import DiscoveryError, parse_date, parse_feed, parse_sitemap

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Sputnik</title>
<item><title>A</title><link>https://sputnikglobe.com/20240102/a-1115.html</link>
<pubDate>Tue, 02 Jan 2024 10:30:00 +0300</pubDate></item>
<item><title>B</title><guid>https://sputnikglobe.com/20240102/b-1116.html</guid><dc:date>2024-01-02T11:00Z</dc:date></item>
<item><title>no link</title></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
<entry><link rel="enclosure" href="https://x/img.jpg"/><link href="https://snanews.de/20240101/x-1.html"/>
<updated>2024-01-01T08:00:00+01:00</updated></entry></feed>"""

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://sputnikglobe.com/20240102/a-1115.html</loc><lastmod>2024-01-02T12:00:00+00:00</lastmod></url>
<url><loc> https://sputnikglobe.com/20240102/b-1116.html </loc>
  <news:news><news:publication_date>2024-01-02</news:publication_date></news:news></url>
<url><loc>https://sputnikglobe.com/20240102/c-1117.html</loc></url>
</urlset>"""

INDEX = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://sputnikglobe.com/sitemap_article.xml?date_start=20240101&amp;date_end=20240101</loc>
<lastmod>2024-01-01</lastmod></sitemap></sitemapindex>"""


def test_rss_items_with_rfc822_and_dc_dates():
    entries = parse_feed(RSS)
    assert [e.url for e in entries] == [
        "https://sputnikglobe.com/20240102/a-1115.html",
        "https://sputnikglobe.com/20240102/b-1116.html",
    ]
    assert entries[0].date == datetime(2024, 1, 2, 7, 30, tzinfo=UTC)
    assert entries[1].date == datetime(2024, 1, 2, 11, 0, tzinfo=UTC)


def test_atom_entry_uses_alternate_link_not_enclosure():
    (entry,) = parse_feed(ATOM)
    assert entry.url == "https://snanews.de/20240101/x-1.html"
    assert entry.date == datetime(2024, 1, 1, 8, tzinfo=timezone(timedelta(hours=1)))


def test_urlset_with_lastmod_news_date_and_none():
    sitemap = parse_sitemap(URLSET)
    assert not sitemap.is_index
    assert [(e.url.rsplit("/", 1)[1], e.date) for e in sitemap.entries] == [
        ("a-1115.html", datetime(2024, 1, 2, 12, tzinfo=UTC)),
        ("b-1116.html", datetime(2024, 1, 2, tzinfo=UTC)),
        ("c-1117.html", None),
    ]


def test_sitemapindex_and_gzipped_body():
    sitemap = parse_sitemap(gzip.compress(INDEX))
    assert sitemap.is_index
    assert sitemap.entries[0].url.endswith("date_start=20240101&date_end=20240101")
    assert sitemap.entries[0].date == datetime(2024, 1, 1, tzinfo=UTC)


def test_billion_laughs_is_not_expanded():
    lol = b'<!ENTITY l0 "lollollollollollollollollollol">' + b"".join(
        b'<!ENTITY l%d "&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;">' % ((i,) + (i - 1,) * 10)
        for i in range(1, 10)
    )
    body = b'<?xml version="1.0"?><!DOCTYPE urlset [' + lol + b"]><urlset><url><loc>https://h/&l9;</loc></url></urlset>"
    (entry,) = parse_sitemap(body).entries
    assert entry.url == "https://h/"  # the entity reference stays a reference: nothing after it is expanded


def test_external_entity_is_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<rss><channel><item><link>https://h/a&x;</link></item></channel></rss>"
    ).encode()
    (entry,) = parse_feed(body)
    assert "TOPSECRET" not in entry.url


def test_non_sitemap_and_garbage_are_errors():
    with pytest.raises(DiscoveryError):
        parse_sitemap(b"<html><body>hi</body></html>")
    with pytest.raises(DiscoveryError):
        parse_feed(b"")


def test_gzip_bomb_is_refused(monkeypatch):
    monkeypatch.setattr("crawlers.discovery.MAX_INFLATED_BYTES", 1000)
    with pytest.raises(DiscoveryError, match="inflates beyond"):
        parse_sitemap(gzip.compress(b"<urlset>" + b" " * 5000 + b"</urlset>"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-02", datetime(2024, 1, 2, tzinfo=UTC)),
        ("2024-01-02T03:04:05Z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("Tue, 02 Jan 2024 03:04:05 GMT", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected
