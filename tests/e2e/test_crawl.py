"""The real ``scrapy crawl sputnik`` against the replay: coverage, politeness, incremental runs, kill -9, modes."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections import Counter
from datetime import date

import pytest

from tests.e2e.conftest import read_items

pytestmark = pytest.mark.e2e
EDITIONS = ("en", "de")


def urls_of(items):
    return sorted(i["url"] for i in items)


def test_latest_crawl_then_incremental_runs(crawl, site, overrides):
    first = crawl("editions=en,de")
    assert first.returncode == 0, first.log[-3000:]
    expected = site.expected_articles(EDITIONS, "latest")
    assert urls_of(first.items) == sorted(expected)  # every article exactly once
    assert len({i["id"] for i in first.items}) == len(first.items)

    # nothing off the editions' hosts, nothing robots.txt disallows, the off-pattern tag page left alone
    allowed = site.edition_hosts(EDITIONS)
    assert {r["host"] for r in first.requests} <= allowed
    assert not site.robots_disallowed() & {r["url"] for r in first.requests}
    assert not site.non_article_urls() & {r["url"] for r in first.requests}
    assert {r["user_agent"] for r in first.requests} == {first.requests[0]["user_agent"]}
    assert "newsvault" in first.requests[0]["user_agent"] and "@" in first.requests[0]["user_agent"]

    # the 429 is retried no earlier than its Retry-After
    for url, seconds in site.retry_after_urls().items():
        times = [r["time"] for r in first.requests if r["url"] == url]
        statuses = [r["status"] for r in first.requests if r["url"] == url]
        assert statuses == [429, 200]
        assert times[1] - times[0] >= seconds

    assert "[crawlers.extensions] INFO: Progress:" in first.log  # the 429 wait keeps the crawl up for over 2 s
    summary = re.search(r"Summary \(finished\): (\d+) pages, (\d+) items .*retry_after/429=1", first.log)
    assert summary and int(summary.group(2)) == len(first.items)

    second = crawl("editions=en,de")
    assert second.returncode == 0, second.log[-3000:]
    assert second.fetched("article") == []
    assert second.items == []
    assert second.fetched("feed")  # discovery itself does run again

    changed = sorted(expected)[0]
    later = "2030-01-01T00:00:00+00:00"
    overrides.write_text(json.dumps({"articles": [{"url": changed, "lastmod": later}]}))
    third = crawl("editions=en,de")
    assert third.returncode == 0, third.log[-3000:]
    assert third.fetched("article") == [changed]
    assert urls_of(third.items) == [changed]

    forced = crawl("editions=en", "refresh=all")
    assert urls_of(forced.items) == sorted(site.expected_articles(["en"], "latest"))


def test_kill_9_then_rerun_emits_every_article_exactly_once(crawl, site):
    slow = {"AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0.2", "CONCURRENT_REQUESTS_PER_DOMAIN": "1"}
    proc, items_file = crawl.start("editions=en,de", **slow)
    deadline = time.monotonic() + 30
    while len(read_items(items_file)) < 4:
        assert proc.poll() is None, "the crawl ended before it could be killed"
        assert time.monotonic() < deadline, "no items within 30 s"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    killed = read_items(items_file)  # every line is complete JSON: items reach the file one write each
    expected = site.expected_articles(EDITIONS, "latest")
    assert 4 <= len(killed) < len(expected)

    rerun = crawl("editions=en,de")
    assert rerun.returncode == 0, rerun.log[-3000:]
    counts = Counter(i["id"] for i in killed + rerun.items)
    assert sorted(i["url"] for i in killed + rerun.items) == sorted(expected)
    assert set(counts.values()) == {1}, {k: n for k, n in counts.items() if n > 1}


def test_urls_mode_fetches_exactly_the_given_articles(crawl, site):
    wanted = sorted(site.expected_articles(["de"], "backfill", date(2019, 4, 21), date(2020, 12, 16)))[:2]
    result = crawl("urls=" + ",".join(wanted))
    assert result.returncode == 0, result.log[-3000:]
    assert urls_of(result.items) == wanted
    assert sorted(result.fetched("article")) == wanted
    assert not result.fetched("feed") and not result.fetched("sitemap")


def test_backfill_reads_per_day_sitemaps_of_every_host(crawl, site):
    since, until = date(2024, 3, 12), date(2024, 3, 13)
    result = crawl("editions=en,de", "mode=backfill", f"since={since}", f"until={until}")
    assert result.returncode == 0, result.log[-3000:]
    assert urls_of(result.items) == sorted(site.expected_articles(EDITIONS, "backfill", since, until))
    assert {r["host"] for r in result.requests} <= site.edition_hosts(EDITIONS)
    day = date(2019, 4, 21)  # an old-layout article on a historical host, in a gzipped sitemap
    old = crawl("editions=de", "mode=backfill", f"since={day}", f"until={day}")
    assert urls_of(old.items) == sorted(site.expected_articles(["de"], "backfill", day, day))


def test_bad_argument_fails_loudly_before_any_request(crawl):
    result = crawl("editions=en,xx")
    assert result.returncode == 1
    assert "ERROR: the crawl cannot start: -a editions: unknown Sputnik edition 'xx'" in result.log
    assert "Traceback" not in result.log  # one line, not asyncio's "Task exception was never retrieved"
    assert result.requests == []


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"ITEMS_URI": ""}, "ITEMS_URI is empty and FEEDS names no feed of your own: the articles would go nowhere"),
        ({"ITEMS_URI": "s3://"}, "ITEMS_URI: not a spoolable s3://bucket/key URI: 's3://'"),
        ({"ARCHIVE_URI": "s3://"}, "s3:// names no bucket: s3://bucket or s3://bucket/prefix"),
        ({"ARCHIVE_URI": "ftp://user:s3cretpw@x/y"}, "unsupported archive URI ftp://...: a local folder"),
        ({"ITEMS_MANIFEST_URI": "s3://"}, "ITEMS_MANIFEST_URI: not a spoolable s3://bucket/key URI: 's3://'"),
        ({"ITEMS_MANIFEST_URI": "ftp://user:s3cretpw@x/m.json"}, "ITEMS_MANIFEST_URI: ftp:// is not supported"),
        ({"WARC_MAX_SIZE": "-1"}, "WARC_MAX_SIZE=-1: a positive number (0: the default)"),
        ({"WARC_PREFIX": "../../evil"}, "WARC_PREFIX='../../evil': letters, digits, '.', '_' and '-' only"),
        ({"REDIS_URL": "redis://:s3cretpw@127.0.0.1:1/0"}, "cannot reach Redis (REDIS_URL): Error 111 connecting to"),
        ({"NEWSVAULT_RENDER_PAGE_TYPES": "bogus"}, "NEWSVAULT_RENDER_PAGE_TYPES: unknown ['bogus']; known: "),
    ],
)
def test_a_setting_that_cannot_work_is_named_before_any_request(crawl, settings, message):
    """An empty ITEMS_URI wrote the articles nowhere, recorded them as done, and exited 0: lost for good."""
    result = crawl("editions=en", **settings)
    assert result.returncode == 1 and f"ERROR: the crawl cannot start: {message}" in result.log
    assert "Traceback" not in result.log and "s3cretpw" not in result.log and result.requests == []


def test_a_setting_of_the_wrong_type_is_named_before_any_request(crawl):
    result = crawl("editions=en", WARC_MAX_SIZE="10GB")
    assert result.returncode == 1
    assert "ERROR: the crawl cannot start: setting WARC_MAX_SIZE='10GB': expected a number" in result.log
    assert "Traceback" not in result.log and result.requests == []
