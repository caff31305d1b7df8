"""Polite retries (Retry-After per host, exponential backoff) and the host allowlist, in-process."""

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawlers.middlewares import NOT_BEFORE, HostAllowlistMiddleware, PoliteRetryMiddleware, parse_retry_after


class FakeClock:
    """A settable monotonic clock."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class OneHostSpider(Spider):
    name = "onehost"

    def is_allowed_host(self, host):
        return host == "sputnikglobe.com"


def make_crawler(**settings):
    crawler = get_crawler(OneHostSpider, {"NEWSVAULT_RETRY_BACKOFF_BASE": 2.0, **settings})
    crawler.spider = crawler._create_spider()
    return crawler


@pytest.fixture
def retry_mw():
    mw = PoliteRetryMiddleware.from_crawler(make_crawler(NEWSVAULT_RETRY_AFTER_MAX=60))
    mw.crawler.stats.open_spider()
    mw.clock = FakeClock()
    return mw


def test_parse_retry_after():
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after(b"7") == 7.0
    assert parse_retry_after("Mon, 01 Jan 2024 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Mon, 01 Jan 2024 11:00:00 GMT", now) == 0.0
    assert parse_retry_after(b"soon") is None
    assert parse_retry_after(None) is None


def test_429_with_retry_after_holds_the_host_and_retries(retry_mw):
    req = Request("https://sputnikglobe.com/20240101/a-1.html")
    resp = Response(req.url, status=429, headers={"Retry-After": "5"}, request=req)
    retry = retry_mw.process_response(req, resp)
    assert isinstance(retry, Request) and retry.meta["retry_times"] == 1
    other = Request("https://sputnikglobe.com/20240101/b-2.html")
    assert retry_mw.wait_seconds(other) == 5.0  # the whole host waits, not only the retried request
    assert retry_mw.wait_seconds(Request("https://snanews.de/")) == 0.0
    retry_mw.clock.now += 5
    assert retry_mw.wait_seconds(other) == 0.0
    assert retry_mw.crawler.stats.get_value("newsvault/retry_after/429") == 1


def test_retry_after_is_capped_and_never_shortened(retry_mw):
    req = Request("https://sputnikglobe.com/x")
    retry_mw.process_response(req, Response(req.url, status=503, headers={"Retry-After": "3600"}, request=req))
    assert retry_mw.wait_seconds(req) == 60.0
    retry_mw.hold_host("sputnikglobe.com", 1, 429)
    assert retry_mw.wait_seconds(req) == 60.0


def test_retries_back_off_exponentially(retry_mw):
    req = Request("https://sputnikglobe.com/x")
    waits = []
    for _ in range(2):
        req = retry_mw.process_response(req, Response(req.url, status=500, request=req))
        waits.append(req.meta[NOT_BEFORE] - retry_mw.clock.now)
    assert waits == [2.0, 4.0]
    exhausted = retry_mw.process_response(req, Response(req.url, status=500, request=req))
    assert isinstance(exhausted, Response)  # RETRY_TIMES (2) still governs giving up


def test_timeouts_are_retried_with_backoff(retry_mw):
    from twisted.internet.error import TimeoutError as TxTimeoutError

    retry = retry_mw.process_exception(Request("https://sputnikglobe.com/x"), TxTimeoutError())
    assert retry.meta[NOT_BEFORE] - retry_mw.clock.now == 2.0


def test_process_request_really_sleeps_without_blocking_the_loop():
    mw = PoliteRetryMiddleware.from_crawler(make_crawler())
    mw.crawler.stats.open_spider()
    mw.hold_host("sputnikglobe.com", 0.3, 429)
    ticks = []

    async def ticker():
        for _ in range(5):
            ticks.append(time.monotonic())
            await asyncio.sleep(0.02)

    async def main():
        started = time.monotonic()
        await asyncio.gather(mw.process_request(Request("https://sputnikglobe.com/a")), ticker())
        return time.monotonic() - started

    assert asyncio.run(main()) >= 0.29
    assert len(ticks) == 5 and ticks[-1] - ticks[0] < 0.25  # the loop kept running while the request waited
    assert mw.crawler.stats.get_value("newsvault/backoff/waits") == 1


def test_allowlist_drops_other_hosts_with_a_stat():
    crawler = make_crawler()
    crawler.stats.open_spider()
    mw = HostAllowlistMiddleware.from_crawler(crawler)
    assert mw.process_request(Request("https://sputnikglobe.com/a")) is None
    with pytest.raises(IgnoreRequest):
        mw.process_request(Request("https://www.google-analytics.com/collect"))
    with pytest.raises(IgnoreRequest):
        mw.process_request(Request("https://evil.example/"))
    assert crawler.stats.get_value("newsvault/offsite/dropped") == 2


def test_settings_keep_tldextract_off_the_network(tmp_path):
    """Scrapy's cookie middleware builds a TLDExtract at import: with our settings it uses the bundled list."""
    code = (
        "import socket\n"
        "def refuse(*args, **kwargs): raise SystemExit('network access attempted')\n"
        "socket.socket.connect = refuse\n"
        "from scrapy.utils.project import get_project_settings\n"
        "get_project_settings()\n"
        "from scrapy.downloadermiddlewares import cookies\n"
        "assert cookies._split_domain.suffix_list_urls == ()\n"
        "assert cookies._is_public_domain('co.uk') and not cookies._is_public_domain('sputnikglobe.com')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"}
    env.update(SCRAPY_SETTINGS_MODULE="settings.base", TLDEXTRACT_CACHE=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
