"""Downloader middlewares: polite retries (``Retry-After``, exponential backoff), a host allowlist and a target guard.

Enable :class:`PoliteRetryMiddleware` in place of Scrapy's ``RetryMiddleware`` (same order, 550): it keeps every
retry decision of Scrapy's middleware (``RETRY_*`` settings) and adds the waiting Scrapy does not do.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

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


ALLOWED_SCHEMES = ("http", "https")
RESOLVE_TIMEOUT = 10.0


def _public(address: str) -> bool:
    """Whether an IP address is on the public internet (not loopback, link-local, private, reserved, multicast)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def literal_refusal(url: str, allow_private: bool = False) -> str | None:
    """Why ``url`` must not be fetched, judging the URL alone (scheme, IP-literal host); None if it may be."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        return f"scheme {parts.scheme or '(none)'!r} is not http(s)"
    host = parts.hostname or ""
    if not host:
        return "no host"
    try:
        public = _public(host)
    except ValueError:
        return None  # a name: see resolved_refusal
    return None if public or allow_private else f"address {host} is not public"


async def resolved_refusal(host: str, timeout: float = RESOLVE_TIMEOUT) -> str | None:
    """Why a host *name* must not be fetched: it resolves to a non-public address. None if it may be, or if it
    does not resolve here (then the download itself fails, or the proxy resolves it)."""
    try:
        infos = await asyncio.wait_for(asyncio.get_running_loop().getaddrinfo(host, None), timeout)
    except (OSError, TimeoutError, UnicodeError):
        return None
    private = sorted({info[4][0] for info in infos if not _public(info[4][0])})
    return f"{host} resolves to non-public {', '.join(private)}" if private else None


class TargetGuardMiddleware:
    """Never fetches, nor follows a redirect to, a target outside the public web (see docs/security.md).

    - Every request: the scheme must be http(s); an IP-literal host must be public; a host name must not resolve
      to a loopback, link-local (cloud metadata), private, reserved or multicast address (checked once per name).
    - Every 3xx answer, before ``RedirectMiddleware`` (600) sees it (so place this above 600): a ``Location`` with
      another scheme or a non-public IP literal, a loop back to a URL of the same chain, or a chain longer than
      ``REDIRECT_MAX_TIMES`` is refused.
    Refusals raise ``IgnoreRequest``, log one WARNING line and count ``newsvault/refused/{reason}``.
    ``NEWSVAULT_ALLOW_PRIVATE_TARGETS = True`` (tests serving from 127.0.0.1) lifts the address checks only. Only
    the target is judged: a proxy from ``http_proxy``/``https_proxy`` is the operator's choice and is not checked.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.allow_private = crawler.settings.getbool("NEWSVAULT_ALLOW_PRIVATE_TARGETS", False)
        self.max_redirects = crawler.settings.getint("REDIRECT_MAX_TIMES", 20)
        self._names: dict[str, str | None] = {}  # host name -> refusal (None: allowed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TargetGuardMiddleware:
        """Build from the crawler."""
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        """Refuse a request whose target is not on the public web."""
        reason = literal_refusal(request.url, self.allow_private)
        host = urlparse_cached(request).hostname or ""
        if reason is None and not self.allow_private and not _is_ip(host):
            if host not in self._names:
                self._names[host] = await resolved_refusal(host)
            reason = self._names[host]
        if reason is not None:
            self._refuse("target", request.url, reason)

    def process_response(self, request: Request, response: Response) -> Response:
        """Refuse a redirect to a target outside the public web, back into its own chain, or too long a chain."""
        location = response.headers.get(b"Location")
        if not 300 <= response.status < 400 or location is None or request.meta.get("dont_redirect"):
            return response
        target = urljoin(request.url, location.decode("latin-1").strip())
        chain = [*request.meta.get("redirect_urls", []), request.url]
        reason = literal_refusal(target, self.allow_private)
        if reason is not None:
            self._refuse("redirect", f"{request.url} -> {target}", reason)
        if target in chain:
            self._refuse("redirect_loop", f"{request.url} -> {target}", f"loop after {len(chain)} hop(s)")
        if len(chain) > self.max_redirects:
            self._refuse("redirect_chain", f"{chain[0]} -> {target}", f"more than {self.max_redirects} redirects")
        return response

    def _refuse(self, kind: str, what: str, reason: str) -> None:
        self.crawler.stats.inc_value(f"newsvault/refused/{kind}")
        logger.warning("Refused %s %s: %s", kind.replace("_", " "), what, reason)
        raise IgnoreRequest(f"refused {kind}: {reason}")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
