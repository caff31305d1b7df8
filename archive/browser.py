"""A rendered page's own network traffic as WARC material: what Chromium fetched, and the DOM it built.

Input: Playwright ``Response`` objects (``page.on("response")``), read while their page is still open. Playwright
gives DECODED bodies (gzip and chunking already undone) and no raw header block, so the response records are
reconstructions: ``Content-Encoding``, ``Transfer-Encoding`` and ``Content-Length`` are kept as ``X-Crawler-*`` and a
true ``Content-Length`` is written; the payload digest is over the decoded body. Chromium does not expose redirect
bodies (empty here). The DOM after scripts ran is a separate ``resource`` record, ``WARC-Target-URI``
``urn:rendered:{url}``, referring to the document's response record. No Scrapy here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError

from archive.records import HeaderList, Record, RecordBuilder, for_origin, http_head

logger = logging.getLogger(__name__)
BODY_TIMEOUT = 10.0  # seconds to wait for one body once the page has loaded
MASKED = {b"content-encoding", b"transfer-encoding", b"content-length"}  # no longer true of a decoded body
RENDERED_PREFIX = "urn:rendered:"


@dataclass(frozen=True)
class BrowserExchange:
    """One request the browser sent and the response it got, the body decoded."""

    url: str
    method: str
    request_headers: HeaderList
    request_body: bytes
    status: int
    reason: str
    response_headers: HeaderList
    body: bytes
    ip: str | None
    is_document: bool  # the main frame's navigation response


def _pairs(headers: list[dict[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(h["name"].encode("latin-1"), h["value"].encode("latin-1", "replace")) for h in headers]


async def read_exchange(response, timeout: float = BODY_TIMEOUT) -> BrowserExchange | None:
    """The exchange behind a Playwright ``Response``; None when the browser no longer has it (page gone, aborted)."""
    request = response.request
    try:
        is_redirect = 300 <= response.status < 400  # Chromium keeps no body for these
        body = b"" if is_redirect else await asyncio.wait_for(response.body(), timeout)
        address = await response.server_addr()
        is_document = request.is_navigation_request() and request.frame.parent_frame is None and not is_redirect
        return BrowserExchange(
            url=response.url,
            method=request.method,
            request_headers=_pairs(await request.headers_array()),
            request_body=request.post_data_buffer or b"",
            status=response.status,
            reason=response.status_text,
            response_headers=_pairs(await response.headers_array()),
            body=body,
            ip=address["ipAddress"] if address else None,
            is_document=is_document,
        )
    except (PlaywrightError, TimeoutError) as e:
        logger.info("archive: browser response of %s not readable (%s)", response.url, str(e).splitlines()[0:1])
        return None


async def read_exchanges(
    responses: Iterable, keep: Callable[[str], bool], timeout: float = BODY_TIMEOUT
) -> list[BrowserExchange]:
    """The readable http(s) exchanges among a page's responses whose host ``keep`` accepts, in arrival order."""
    wanted = [r for r in responses if (url := urlsplit(r.url)).scheme in ("http", "https") and keep(url.hostname or "")]
    found = await asyncio.gather(*(read_exchange(r, timeout) for r in wanted))
    return [exchange for exchange in found if exchange is not None]


def request_block(exchange: BrowserExchange) -> bytes:
    """The request as HTTP/1.1: full target, ``Host`` first (from ``:authority`` for HTTP/2), headers as sent.

    Proxy headers are left out, as for Scrapy's requests (:func:`archive.records.for_origin`).
    """
    parts = urlsplit(exchange.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    names = {name.lower(): value for name, value in exchange.request_headers}
    host = names.get(b"host") or names.get(b":authority") or parts.netloc.encode()
    headers = for_origin([(k, v) for k, v in exchange.request_headers if k.lower() != b"host" and k[:1] != b":"])
    start = f"{exchange.method} {target} HTTP/1.1".encode()
    return http_head(start, [(b"Host", host), *headers]) + exchange.request_body


def response_head(exchange: BrowserExchange) -> bytes:
    """The response head as HTTP/1.1 for the DECODED body: encoding and length headers masked, true length added."""
    headers = [
        (b"X-Crawler-" + name if name.lower() in MASKED else name, value)
        for name, value in exchange.response_headers
        if name[:1] != b":"
    ]
    headers.append((b"Content-Length", str(len(exchange.body)).encode()))
    try:
        reason = exchange.reason or HTTPStatus(exchange.status).phrase
    except ValueError:
        reason = ""
    return http_head(f"HTTP/1.1 {exchange.status} {reason}".rstrip().encode(), headers)


def rendered_dom(builder: RecordBuilder, url: str, dom: bytes, encoding: str, refers_to: str) -> Record:
    """The ``resource`` record of the DOM after rendering, referring to the document's response record."""
    return builder.resource(RENDERED_PREFIX + url, refers_to, dom, f"text/html; charset={encoding}")
