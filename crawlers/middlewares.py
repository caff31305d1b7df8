"""Downloader middlewares: polite retries (``Retry-After``, exponential backoff) and a host allowlist.

Enable :class:`PoliteRetryMiddleware` in place of Scrapy's ``RetryMiddleware`` (same order, 550): it keeps every
retry decision of Scrapy's middleware (``RETRY_*`` settings) and adds the waiting Scrapy does not do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.asyncio import sleep
from scrapy.utils.httpobj import urlparse_cached

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

NOT_BEFORE = "newsvault_not_before"  # request meta: monotonic time before which the request is not sent


def parse_retry_after(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date); None if absent or unreadable."""
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class PoliteRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware plus waiting: ``Retry-After`` holds back the whole host, retries back off.

    - A 429 or 503 with ``Retry-After`` holds every later request to that host until the time has passed
      (capped by ``NEWSVAULT_RETRY_AFTER_MAX``); the request is retried as Scrapy would (``RETRY_HTTP_CODES``).
    - Every retry (5xx, timeouts...) waits ``NEWSVAULT_RETRY_BACKOFF_BASE * 2**(attempt-1)`` seconds, at most
      ``NEWSVAULT_RETRY_BACKOFF_MAX``.
    Waiting is an asynchronous sleep in ``process_request``: the reactor and other hosts keep going.
    """

    def __init__(self, settings: BaseSettings, clock: Callable[[], float] = time.monotonic):
        super().__init__(settings)
        self.backoff_base = settings.getfloat("NEWSVAULT_RETRY_BACKOFF_BASE", 1.0)
        self.backoff_max = settings.getfloat("NEWSVAULT_RETRY_BACKOFF_MAX", 300.0)
        self.retry_after_max = settings.getfloat("NEWSVAULT_RETRY_AFTER_MAX", 600.0)
        self.clock = clock
        self.host_not_before: dict[str, float] = {}

    def wait_seconds(self, request: Request) -> float:
        """How long ``request`` must still wait: for its host's ``Retry-After`` and its own retry backoff."""
        host = urlparse_cached(request).hostname or ""
        not_before = max(self.host_not_before.get(host, 0.0), request.meta.get(NOT_BEFORE, 0.0))
        return max(0.0, not_before - self.clock())

    async def process_request(self, request: Request) -> None:
        """Sleep (without blocking) until the request's host and backoff allow it to go."""
        while (wait := self.wait_seconds(request)) > 0:
            self.crawler.stats.inc_value("newsvault/backoff/waits")
            self.crawler.stats.inc_value("newsvault/backoff/wait_seconds", wait)
            await sleep(wait)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        """Record a ``Retry-After`` for the host, then let Scrapy's retry logic decide."""
        if response.status in (429, 503) and not request.meta.get("dont_retry", False):
            seconds = parse_retry_after(response.headers.get(b"Retry-After"))
            if seconds is not None:
                self.hold_host(urlparse_cached(request).hostname or "", seconds, response.status)
        return super().process_response(request, response)

    def hold_host(self, host: str, seconds: float, status: int) -> None:
        """Hold every request to ``host`` for ``seconds`` (capped), never shortening an existing hold."""
        if seconds > self.retry_after_max:
            logger.warning("%s asked to wait %.0f s; waiting the maximum %.0f s", host, seconds, self.retry_after_max)
            seconds = self.retry_after_max
        until = self.clock() + seconds
        self.host_not_before[host] = max(self.host_not_before.get(host, 0.0), until)
        self.crawler.stats.inc_value(f"newsvault/retry_after/{status}")
        logger.info("HTTP %d with Retry-After from %s: holding its requests for %.1f s", status, host, seconds)

    def _retry(self, request: Request, reason: str | Exception | type[Exception]) -> Request | None:
        retry = super()._retry(request, reason)
        if retry is not None:
            attempt = retry.meta.get("retry_times", 1)
            delay = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
            retry.meta[NOT_BEFORE] = self.clock() + delay
        return retry


class HostAllowlistMiddleware:
    """Drops every request to a host the spider does not allow (``spider.is_allowed_host(host)``), with a stat.

    Spiders without ``is_allowed_host`` are not restricted. Dropped requests are counted under
    ``newsvault/offsite/dropped`` and logged once per host.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self._logged: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostAllowlistMiddleware:
        """Build from the crawler."""
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        """Let allowed hosts through; raise IgnoreRequest for the rest."""
        allowed = getattr(self.crawler.spider, "is_allowed_host", None)
        host = urlparse_cached(request).hostname or ""
        if allowed is None or allowed(host):
            return
        self.crawler.stats.inc_value("newsvault/offsite/dropped")
        if host not in self._logged:
            self._logged.add(host)
            logger.info("Dropping request to %s: not a host of the selected editions (%s)", host, request.url)
        raise IgnoreRequest(f"host not allowed: {host}")
