"""The capture extension driven directly (no reactor): cached responses skipped, data loss flagged, revisits."""

from __future__ import annotations

import asyncio
import base64
import errno
from concurrent.futures import Future, wait
from types import SimpleNamespace

import pytest
import scrapy
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.httpproxy import HttpProxyMiddleware
from scrapy.http import Request, Response
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from archive import browser
from archive.browser import BrowserExchange
from archive.scrapy_adapter import ArchivePointerPipeline, WarcCapture, request_block
from archive.writer import _OpenFile
from pipelines.monitors import storage_failures
from settings import base
from tests.archive.conftest import warcio_check


def open_capture(tmp_path, **settings: object) -> tuple[WarcCapture, Crawler]:
    """A WarcCapture writing under ``tmp_path``, its spider opened."""
    defaults = {name: getattr(base, name) for name in dir(base) if name.startswith(("ARCHIVE_", "WARC_", "WACZ_"))}
    crawler = get_crawler(scrapy.Spider, {**defaults, "ARCHIVE_URI": str(tmp_path / "warc"), **settings})
    crawler.spider = crawler._create_spider("adaptertest")
    capture = WarcCapture(crawler)
    capture.spider_opened(crawler.spider)
    return capture, crawler


def capture_records(tmp_path, responses: list[Response]) -> list:
    """Feed responses to a WarcCapture writing under ``tmp_path``; return the records of the stored files."""
    capture, crawler = open_capture(tmp_path)
    for response in responses:
        capture.response_downloaded(response, response.request, crawler.spider)
        capture.writer.write([]).result(timeout=10)  # FIFO: the exchange is written, a revisit can refer to it
    capture._close()
    [warc] = (tmp_path / "warc").rglob("*.warc.gz")
    warcio_check(warc)
    return list(ArchiveIterator(warc.open("rb"))), crawler.stats


def response(url: str, body: bytes, flags: list[str] | None = None) -> Response:
    return Response(url, body=body, flags=flags or [], request=Request(url), headers={"Content-Type": "text/plain"})


def test_cached_skipped_dataloss_truncated_revisit_for_same_payload(tmp_path):
    records, stats = capture_records(
        tmp_path,
        [
            response("https://e.org/cached", b"old", ["cached"]),
            response("https://e.org/cut", b"partial", ["dataloss"]),
            response("https://e.org/a", b"same", []),
            response("https://e.org/b", b"same", []),
        ],
    )
    by_uri = {(r.rec_type, r.rec_headers.get_header("WARC-Target-URI")): r for r in records}
    assert not any(uri == "https://e.org/cached" for _, uri in by_uri)
    assert by_uri["response", "https://e.org/cut"].rec_headers.get_header("WARC-Truncated") == "disconnect"
    revisit = by_uri["revisit", "https://e.org/b"]
    assert revisit.rec_headers.get_header("WARC-Refers-To") == by_uri[
        "response", "https://e.org/a"
    ].rec_headers.get_header("WARC-Record-ID")
    assert stats.get_value("archive/cached_skipped") == 1 and stats.get_value("archive/revisits") == 1


def test_request_block_keeps_query_host_and_repeated_headers():
    request = Request(
        "https://user@example.org:8443/path;p?q=1&r=2#frag", headers={"X-A": ["1", "2"]}, method="POST", body=b"x=1"
    )
    assert request_block(request) == (
        b"POST /path;p?q=1&r=2 HTTP/1.1\r\nHost: example.org:8443\r\nX-A: 1\r\nX-A: 2\r\nContent-Length: 3\r\n\r\nx=1"
    )


def test_request_block_leaves_out_proxy_credentials(monkeypatch):
    monkeypatch.setenv("https_proxy", "http://user:s3cret@127.0.0.1:3128")
    crawler = get_crawler(scrapy.Spider)
    request = Request("https://example.org/a", headers={"Proxy-Connection": "keep-alive", "Accept": "text/html"})
    HttpProxyMiddleware.from_crawler(crawler).process_request(request)  # adds Proxy-Authorization, as in a crawl
    assert request.headers[b"Proxy-Authorization"] == b"Basic " + base64.b64encode(b"user:s3cret")
    assert request_block(request) == b"GET /a HTTP/1.1\r\nHost: example.org\r\nAccept: text/html\r\n\r\n"


def test_browser_request_block_leaves_out_proxy_credentials():
    headers = [(b"Proxy-Authorization", b"Basic dXNlcjpzM2NyZXQ="), (b"proxy-connection", b"keep-alive")]
    exchange = BrowserExchange(
        "https://example.org/a", "GET", [*headers, (b"accept", b"*/*")], b"", 200, "OK", [], b"", None, True
    )
    assert browser.request_block(exchange) == b"GET /a HTTP/1.1\r\nHost: example.org\r\naccept: */*\r\n\r\n"


def pointer_pipeline(capture: WarcCapture, crawler: Crawler) -> ArchivePointerPipeline:
    """The pipeline wired to ``capture`` without a running crawler."""
    return ArchivePointerPipeline(
        SimpleNamespace(extensions=SimpleNamespace(middlewares=[capture]), stats=crawler.stats)
    )


def fetch(capture: WarcCapture, crawler: Crawler, url: str, body: bytes) -> None:
    """One exchange captured and written (the writer queue is FIFO)."""
    page = response(url, body)
    capture.response_downloaded(page, page.request, crawler.spider)
    wait([capture.writer.write([])], timeout=10)  # it may fail too (disk full): only its completion matters


def test_item_takes_its_capture_and_captures_without_items_stay_bounded(tmp_path):
    capture, crawler = open_capture(tmp_path, ARCHIVE_PENDING_CAPTURES=3)
    for n in range(5):
        fetch(capture, crawler, f"https://e.org/{n}", b"page %d" % n)
    assert len(capture.captures) == 3 and capture.captures.get("https://e.org/1") is None
    item = asyncio.run(pointer_pipeline(capture, crawler).process_item({"url": "https://e.org/4", "archive": None}))
    capture._close()
    assert item["archive"].recordId and len(capture.captures) == 2 and capture.captures.get("https://e.org/4") is None


def test_revisit_cache_is_a_bounded_lru_of_written_records(tmp_path):
    capture, crawler = open_capture(tmp_path, ARCHIVE_REVISIT_CACHE_SIZE=2)
    for url, body in [("a1", b"A"), ("b1", b"B"), ("a2", b"A"), ("c1", b"C"), ("a3", b"A"), ("b2", b"B")]:
        fetch(capture, crawler, f"https://e.org/{url}", body)
    capture._close()
    # a2 revisits a1 and makes A recent, so C pushes B out (not A): a3 is a revisit, b2 a response again
    assert crawler.stats.get_value("archive/revisits") == 2 and crawler.stats.get_value("archive/responses") == 4
    assert len(capture.originals) == 2 and not any(isinstance(v, Future) for v in capture.originals._entries.values())


def full_disk(monkeypatch) -> list:
    """Make WARC appends fail with ENOSPC while the returned list is not empty."""
    disk_full, real_append = [], _OpenFile.append

    def append(self, members: bytes) -> int:
        if disk_full:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_append(self, members)

    monkeypatch.setattr(_OpenFile, "append", append)
    return disk_full


def test_revisit_never_refers_to_a_record_whose_write_failed(tmp_path, monkeypatch):
    disk_full = full_disk(monkeypatch)
    disk_full.append(True)
    capture, crawler = open_capture(tmp_path)
    fetch(capture, crawler, "https://e.org/lost", b"same")
    disk_full.clear()
    fetch(capture, crawler, "https://e.org/kept", b"same")
    item = asyncio.run(pointer_pipeline(capture, crawler).process_item({"url": "https://e.org/kept", "archive": None}))
    capture._close()
    [warc] = (tmp_path / "warc").rglob("*.warc.gz")
    records = {r.rec_headers.get_header("WARC-Record-ID"): r for r in ArchiveIterator(warc.open("rb"))}
    assert records[item["archive"].recordId].rec_type == "response"
    assert not any(r.rec_type == "revisit" for r in records.values())
    assert crawler.stats.get_value("archive/revisits") is None


def test_items_whose_capture_was_not_written_keep_a_null_pointer_and_fail_the_storage_check(tmp_path, monkeypatch):
    disk_full = full_disk(monkeypatch)
    capture, crawler = open_capture(tmp_path)
    pipeline = pointer_pipeline(capture, crawler)

    def crawl(url: str) -> dict:
        page = response(url, url.encode())
        capture.response_downloaded(page, page.request, crawler.spider)
        return asyncio.run(pipeline.process_item({"url": url, "archive": None}))

    kept = crawl("https://e.org/kept")
    capture.writer.write([]).result(timeout=10)  # the writer queue is FIFO: the kept item's metadata is on disk
    disk_full.append(True)
    lost = crawl("https://e.org/lost")
    disk_full.clear()
    capture._close()
    assert kept["archive"].recordId and lost["archive"] is None
    stats = crawler.stats.get_stats()
    assert stats["archive/items_unarchived"] == 1 and stats["archive/items_pointed"] == 1
    assert stats["archive/write_failures"] == 1
    assert storage_failures(stats, base.ITEMS_STORAGE_FAILURE_STATS) == {"archive/store_failures": 1}


@pytest.mark.parametrize("setting", [{"WARC_MAX_SIZE": "abc"}, {"WARC_MAX_AGE": "x"}, {"WACZ_ENABLED": "maybe"}])
def test_a_bad_warc_setting_fails_at_start(tmp_path, setting):
    """Read when the spider opened, a bad value left the crawl without a writer: every item unarchived, exit 0."""
    crawler = get_crawler(scrapy.Spider, {"ARCHIVE_ENABLED": True, "ARCHIVE_URI": str(tmp_path / "warc"), **setting})
    with pytest.raises(ValueError):
        WarcCapture(crawler)
