"""The only Scrapy-aware module of ``archive``: capture every exchange as WARC records, point items at them.

:class:`WarcCapture` (an extension) listens to ``response_downloaded``, which fires before any downloader
middleware: bodies are still content-encoded, every redirect hop and error response is seen. It writes a request
and a response (or revisit) record per exchange. :class:`ArchivePointerPipeline` finds the capture of an item by
``item.url``, waits for the writer, fills ``item.archive`` and writes a metadata record with the item JSON.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import socket
import threading
from collections import OrderedDict
from concurrent.futures import Future
from datetime import UTC, datetime
from http import HTTPStatus
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import scrapy
from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.threads import deferToThread

from archive import browser
from archive.records import CrawlInfo, Original, RecordBuilder, for_origin, http_head, sha1_digest
from archive.storage import Uploader, open_storage
from archive.wacz import package_wacz
from archive.writer import RotatingWarcWriter, Written, repair_open_files
from crawlers import rendering
from crawlers.errors import InputError
from crawlers.extensions import stop_at_start
from crawlers.items import ArchivePointer, to_json

logger = logging.getLogger(__name__)


def request_block(request: Request) -> bytes:
    """The request as the origin got it: full target (path and query), ``Host`` first, every header value, the body.

    Headers for a proxy (``Proxy-Authorization`` with the proxy credentials, ``Proxy-Connection``) are left out.
    """
    parsed = urlparse_cached(request)
    target = (parsed.path or "/") + (f";{parsed.params}" if parsed.params else "")
    target += f"?{parsed.query}" if parsed.query else ""
    headers = [(b"Host", parsed.netloc.rpartition("@")[2].encode())]
    headers += for_origin(
        [(name, value) for name in request.headers for value in request.headers.getlist(name) if name != b"Host"]
    )
    if request.body and b"Content-Length" not in request.headers:
        headers.append((b"Content-Length", str(len(request.body)).encode()))
    return http_head(f"{request.method} {target} HTTP/1.1".encode(), headers) + request.body


def response_head(response: Response) -> bytes:
    """The response head as received, written as HTTP/1.1, with a true ``Content-Length`` for the stored body.

    A ``Transfer-Encoding`` (already removed from the body) and a ``Content-Length`` that differs from the body
    (a truncated download) are kept as ``X-Crawler-*``. Twisted's HTTP/1.1 client drops connection-control headers
    (Content-Length, Transfer-Encoding, Connection, Keep-Alive) before Scrapy sees them, so usually the true
    ``Content-Length`` is supplied here.
    """
    length = str(len(response.body)).encode()
    masked = {b"Transfer-Encoding", b"Content-Length"}
    headers = [
        (b"X-Crawler-" + name if name in masked else name, value)
        for name in response.headers
        for value in response.headers.getlist(name)
        if not (name == b"Content-Length" and value == length)
    ]
    headers.append((b"Content-Length", length))
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    return http_head(f"HTTP/1.1 {response.status} {reason}".rstrip().encode(), headers)


def warc_protocol(response: Response) -> str | None:
    """``WARC-Protocol`` value (ALPN style): ``http/1.1``, ``h2``."""
    return response.protocol.lower().replace("http/2", "h2") if response.protocol else None


class BoundedMap:
    """A thread-safe map that forgets its least recently used entries beyond ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = max(limit, 1)
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def __setitem__(self, key: object, value: object) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            if len(self._entries) > self.limit:
                self._entries.popitem(last=False)

    def get(self, key: object) -> object | None:
        """The value of ``key`` (now the most recently used), or None."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def pop(self, key: object) -> object | None:
        """Remove ``key``; its value, or None."""
        with self._lock:
            return self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)


ITEM_URN = "urn:item:"
SAFE_PREFIX = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


class WarcCapture:
    """Scrapy extension writing every downloaded exchange to rotating WARC 1.1 files (``ARCHIVE_*``, ``WARC_*``)."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("ARCHIVE_ENABLED"):
            raise NotConfigured("ARCHIVE_ENABLED is off")
        self.crawler, self.settings, self.stats = crawler, settings, crawler.stats
        self.uri = settings.get("ARCHIVE_URI") or "./data/warc"
        try:
            self.storage = open_storage(self.uri, settings, max_attempts=settings.getint("ARCHIVE_S3_MAX_ATTEMPTS", 8))
        except ValueError as error:  # an unsupported scheme, an s3:// without a bucket: one line at start
            raise InputError(str(error)) from None
        self.builder = RecordBuilder()
        # final response URL -> future of the record holding its payload, until its item takes it (or it is forgotten)
        self.captures = BoundedMap(settings.getint("ARCHIVE_PENDING_CAPTURES", 5000))
        # payload digest -> (Original, Written) of a response record written successfully: what a revisit refers to
        self.originals = BoundedMap(settings.getint("ARCHIVE_REVISIT_CACHE_SIZE", 10_000))
        self.writer: RotatingWarcWriter | None = None
        # read now, so that a bad value is an error at start (exit 1), not a crawl without a writer
        self.max_size = settings.getint("WARC_MAX_SIZE") or 10**9
        self.max_age = settings.getfloat("WARC_MAX_AGE") or None
        for name, value in (("WARC_MAX_SIZE", self.max_size), ("WARC_MAX_AGE", self.max_age or 0)):
            if value < 0:
                raise InputError(f"{name}={value}: a positive number (0: the default)")
        self.prefix = settings.get("WARC_PREFIX") or "newsvault"
        if not SAFE_PREFIX.fullmatch(self.prefix):  # it starts every file name: no folder, no hidden file
            raise InputError(f"WARC_PREFIX={self.prefix!r}: letters, digits, '.', '_' and '-' only, not first '.'")
        self.wacz = settings.getbool("WACZ_ENABLED")
        self._uris: dict[str, str] = {}  # the latest file name -> its final URI
        crawler.signals.connect(self.spider_opened, signals.spider_opened)
        crawler.signals.connect(self.response_downloaded, signals.response_downloaded)
        crawler.signals.connect(self.page_rendered, rendering.page_rendered)
        crawler.signals.connect(self.spider_closed, signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCapture:
        """Build from the crawler's settings."""
        return cls(crawler)

    def _crawl_info(self, crawl_id: str) -> CrawlInfo:
        hostname = socket.gethostname()
        try:
            ip = socket.gethostbyname(hostname)
        except OSError:
            ip = ""
        return CrawlInfo(
            software=f"newsvault/{version('newsvault')} (Scrapy/{scrapy.__version__})",
            hostname=hostname,
            ip=ip,
            operator=self.settings.get("WARC_OPERATOR", ""),
            user_agent=self.settings.get("USER_AGENT", ""),
            contact=self.settings.get("NEWSVAULT_CONTACT", ""),
            robots="obey" if self.settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            crawl_id=crawl_id,
            description=f"newsvault crawl of {self.outlet}",
        )

    def spider_opened(self, spider: scrapy.Spider) -> None:
        """Repair leftovers of a killed run, upload what earlier runs spooled, open the writer."""
        self.outlet = getattr(spider, "outlet", None) or spider.name  # as the items feed names it
        started = datetime.now(UTC)
        default_id = f"{spider.name}-{started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
        # One id for the run manifest, the JSONL and the WARCs, when the items add-on has set it.
        crawl_id = self.settings.get("ARCHIVE_CRAWL_ID") or self.settings.get("NEWSVAULT_RUN_ID") or default_id
        spool = Path(self.settings.get("ARCHIVE_SPOOL_DIR") or self._default_spool()) / self.outlet
        try:
            spool.mkdir(parents=True, exist_ok=True)
            self.stats.set_value("archive/files_repaired", len(repair_open_files(spool)))
        except Exception as error:  # a folder that cannot be made or read: crawling on would archive nothing
            logger.error("archive: cannot start in the folder %s (%r); the run stops", spool, error)
            self.stats.set_value("archive/store_failures", 1)
            stop_at_start(self.crawler, "archive_unavailable")
            return
        self.uploader = Uploader(self.storage, spool, self.outlet)
        self.uploader.submit()
        self.writer = RotatingWarcWriter(
            spool,
            self._crawl_info(crawl_id),
            prefix=f"{self.prefix}-{self.outlet}",
            max_size=self.max_size,
            max_age=self.max_age,
            builder=self.builder,
            on_closed=lambda path: None if self.wacz else self.uploader.submit(),
        )

    def _default_spool(self) -> str:
        if self.uri.startswith("s3://"):
            return "./data/warc-spool"
        return str(Path(self.uri.removeprefix("file://")) / ".spool")

    def response_downloaded(self, response: Response, request: Request, spider: scrapy.Spider) -> None:
        """Queue the request and response (or revisit) records of one exchange."""
        if self.writer is None:  # the archive could not start: the run is stopping
            return
        if "cached" in response.flags:
            self.stats.inc_value("archive/cached_skipped")
            return
        if "playwright" in response.flags:  # the rendered DOM, not an HTTP exchange: see page_rendered
            return
        self._capture(
            response.url,
            request_block(request),
            response_head(response),
            response.body,
            ip=str(response.ip_address) if response.ip_address else None,
            protocol=warc_protocol(response),
            truncated="disconnect" if "dataloss" in response.flags else None,
        )

    async def page_rendered(self, request: Request, response: Response, browser_responses: list) -> None:
        """Archive what the browser fetched from the page's host and the outlet's other hosts and image CDNs (as the
        spider's ``is_allowed_host`` says), and the rendered DOM beside the document."""
        page_host = urlsplit(response.url).hostname
        outlet_host = getattr(self.crawler.spider, "is_allowed_host", None)  # the outlet's hosts and image CDNs

        def keep(host: str) -> bool:
            return host == page_host or (outlet_host is not None and outlet_host(host))

        exchanges = await browser.read_exchanges(browser_responses, keep)
        self.stats.inc_value("archive/rendered_pages")
        document = next((e for e in reversed(exchanges) if e.is_document), None)
        if document is None:
            self.stats.inc_value("archive/rendered_without_document")
            logger.warning("archive: rendered page %s: the browser gave no readable document response", response.url)
        for exchange in exchanges:
            dom = (response.body, response.encoding) if exchange is document else None
            head, block = browser.response_head(exchange), browser.request_block(exchange)
            future = self._capture(exchange.url, block, head, exchange.body, ip=exchange.ip, rendered=dom)
            if exchange is document:
                self.captures[response.url] = future  # the item's URL may differ (history.pushState)

    def _capture(
        self, url: str, request: bytes, head: bytes, body: bytes, *, rendered: tuple[bytes, str] | None = None, **kw
    ) -> Future[Written]:
        """Queue one exchange (and the rendered DOM, if given); the future of the record holding its payload."""
        digest = sha1_digest(body)
        known = self.originals.get(digest) if body else None
        request_record, response_record = self.builder.exchange(
            url, request, head, body, original=known[0] if known else None, payload_digest=digest, **kw
        )
        group = [request_record, response_record]
        if rendered:
            group.append(browser.rendered_dom(self.builder, url, *rendered, refers_to=response_record.record_id))
        future = self.writer.write(group)
        if known:
            self.stats.inc_value("archive/revisits")
            payload_future: Future[Written] = Future()
            payload_future.set_result(known[1])
        else:
            self.stats.inc_value("archive/responses")
            payload_future = Future()
            revisit_target = url if body else None  # an empty payload is never revisited
            future.add_done_callback(lambda done: self._written(done, payload_future, digest, revisit_target))
        self.captures[url] = payload_future
        return payload_future

    def _written(self, done: Future[list[Written]], target: Future[Written], digest: str, url: str | None) -> None:
        """On the writer thread: resolve ``target`` with the response record (second of the pair) or the error.

        Only a response record written successfully becomes what later identical payloads revisit.
        """
        if done.exception():
            target.set_exception(done.exception())
            return
        written = done.result()[1]
        if url is not None:
            self.originals[digest] = (Original(written.record_id, url, written.date), written)
        target.set_result(written)

    def archive_uri(self, filename: str) -> str:
        """Final URI of a WARC file of this crawl (asked once per item; the file changes only at rotation)."""
        if filename not in self._uris:
            self._uris = {filename: self.storage.uri_for(self.outlet, filename)}
        return self._uris[filename]

    def write_metadata(self, url: str, refers_to: str, payload: bytes) -> Future[list[Written]]:
        """Queue a metadata record describing the record ``refers_to`` (the capture of ``url``).

        Its ``WARC-Target-URI`` is ``urn:item:{url}``, not ``url``: indexers (cdxj-indexer, pywb) index metadata
        records, and a replay would otherwise serve the item JSON for the page (browsertrix-crawler's ``urn:text:``
        records follow the same convention).
        """
        return self.writer.write([self.builder.metadata(ITEM_URN + url, refers_to, payload)])

    async def spider_closed(self, spider: scrapy.Spider) -> None:
        """Finalize the last file, package a WACZ if asked, upload and report, off the reactor thread."""
        await maybe_deferred_to_future(deferToThread(self._close))

    def _close(self) -> None:
        if self.writer is None:  # never started
            return
        paths = self.writer.close()
        if self.wacz and paths:
            package_wacz(paths, paths[0].with_name(paths[0].name.replace(".warc.gz", ".wacz")))
        self.stats.set_value("archive/bytes_written", self.writer.bytes_written)
        self.stats.set_value("archive/files", [self.archive_uri(p.name) for p in paths])
        self.uploader.submit()
        spooled = self.uploader.close()
        self.stats.set_value("archive/files_written", len(paths))
        self.stats.set_value("archive/files_stored", len(self.uploader.stored))
        self.stats.set_value("archive/files_spooled", spooled)
        self.stats.set_value("archive/write_failures", self.writer.failures)
        self.stats.set_value("archive/store_failures", self.uploader.failures + self.writer.failures)


class ArchivePointerPipeline:
    """Fills ``item.archive`` from the capture of ``item.url`` and archives the item JSON as a metadata record."""

    def __init__(self, crawler: Crawler) -> None:
        found = [ext for ext in crawler.extensions.middlewares if isinstance(ext, WarcCapture)]
        if not found:
            raise NotConfigured("the WarcCapture extension is not enabled")
        self.capture, self.stats = found[0], crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePointerPipeline:
        """Build from the crawler; needs the WarcCapture extension."""
        return cls(crawler)

    async def process_item(self, item: object) -> object:
        """Wait for the item's response record, attach the pointer, write the item as a metadata record."""
        adapter = ItemAdapter(item)
        future = self.capture.captures.pop(adapter.get("url"))
        if future is None:
            self.stats.inc_value("archive/items_without_capture")
            logger.warning("archive: no capture for item url %s", adapter.get("url"))
            return item
        try:
            written = await asyncio.wrap_future(future)
        except Exception as error:  # the writer failed (full disk): logged and counted there; the item stays
            self.stats.inc_value("archive/items_unarchived")
            message = "archive: item %s left without archive pointer, its capture was not written (%s)"
            logger.warning(message, adapter.get("url"), error)
            return item
        adapter["archive"] = ArchivePointer.of(self.capture.archive_uri(written.filename), written)
        payload = to_json(item, sort_keys=True)
        self.capture.write_metadata(adapter["url"], written.record_id, payload)
        self.stats.inc_value("archive/items_pointed")
        return item
