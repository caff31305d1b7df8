"""Opt-in JavaScript rendering through scrapy-playwright and Debian's Chromium (``NEWSVAULT_RENDER_*``).

:class:`RenderingAddon` installs the Playwright download handlers only when some edition is rendered
(``NEWSVAULT_RENDER_EDITIONS``, or ``-a render=js`` for every edition of the run); other requests keep Scrapy's own
downloader. :class:`RenderPolicy` tells the spider which requests to render. :class:`RenderingMiddleware` keeps
memory bounded (contexts recycled every N pages, every page closed on success, error and timeout, timeouts counted)
and hands the browser's own network responses to whoever archives them through the :data:`page_rendered` signal.
See ``docs/rendering.md``.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings
from scrapy_playwright.page import PageMethod

from crawlers.errors import InputError

logger = logging.getLogger(__name__)

HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
# Chromium 156 still calls update.googleapis.com (component updater) and accounts.google.com (ListAccounts) at start
# despite --disable-background-networking and --disable-component-update: their endpoints are pointed at a closed
# loopback port. tests/rendering checks that the proxy then sees no request for any host off the editions.
NOWHERE = "http://127.0.0.1:9"
CHROMIUM_FLAGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-domain-reliability",
    "--no-pings",
    f"--component-updater=url-source={NOWHERE}",
    f"--gaia-url={NOWHERE}",
    f"--google-apis-url={NOWHERE}",
)
BLOCKED_RESOURCE_TYPES = frozenset({"font", "media"})  # never needed for extraction
PAGE_TYPES = ("article", "home")
BROWSER_RESPONSES = "newsvault_browser_responses"  # request.meta key: Playwright responses seen by the page

#: Sent (awaited) once a rendered page has loaded, before its page is closed: ``request``, ``response`` (the
#: rendered DOM as Scrapy response) and ``browser_responses`` (every Playwright ``Response`` the page received).
page_rendered = object()


def abort_unneeded(request) -> bool:
    """``PLAYWRIGHT_ABORT_REQUEST``: drop fonts and media, which no extractor reads."""
    return request.resource_type in BLOCKED_RESOURCE_TYPES


def proxy_from_env(environ: Mapping[str, str]) -> dict[str, str] | None:
    """Playwright's ``proxy`` launch option from ``https_proxy`` / ``http_proxy`` / ``no_proxy`` (either case).

    Chromium takes one proxy for every scheme; news sites are https, so ``https_proxy`` wins when both are set.
    """
    names = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY")
    url = next((environ[name] for name in names if environ.get(name)), None)
    if not url:
        return None
    parts = urlsplit(url if "://" in url else f"http://{url}")
    proxy = {"server": f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")}
    if parts.username:
        proxy["username"] = unquote(parts.username)
        proxy["password"] = unquote(parts.password or "")
    bypass = environ.get("no_proxy") or environ.get("NO_PROXY")
    if bypass:
        proxy["bypass"] = bypass
    return proxy


def trust_certificate(home: Path, ca_pem: Path, name: str = "newsvault") -> None:
    """Make Chromium run with ``HOME=home`` trust a CA (a replay or TLS proxy): ``certutil`` into its NSS store."""
    nssdb = Path(home) / ".pki" / "nssdb"
    if not (nssdb / "cert9.db").exists():
        nssdb.mkdir(parents=True, exist_ok=True)
        subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True, capture_output=True)
    command = ["certutil", "-d", f"sql:{nssdb}", "-A", "-n", name, "-t", "C,,", "-i", str(ca_pem)]
    subprocess.run(command, check=True, capture_output=True)


def parse_render_arg(value: str | None) -> bool:
    """``-a render=js`` renders every edition of the run; ``render=none`` (or no argument) leaves it to settings."""
    if value is None or value.strip().lower() == "none":
        return False
    if value.strip().lower() == "js":
        return True
    raise InputError(f"-a render={value!r}: expected 'js' or 'none'")


@dataclass(frozen=True)
class RenderPolicy:
    """Which requests go through the browser: editions (``*`` for all) times page types (``article``, ``home``)."""

    editions: frozenset[str]
    page_types: frozenset[str]
    wait_until: str = "networkidle"

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RenderPolicy:
        """``NEWSVAULT_RENDER_EDITIONS``, ``NEWSVAULT_RENDER_PAGE_TYPES``, ``NEWSVAULT_RENDER_WAIT``."""
        page_types = frozenset(settings.getlist("NEWSVAULT_RENDER_PAGE_TYPES", ["article"]))
        unknown = page_types.difference(PAGE_TYPES)
        if unknown:
            raise InputError(f"NEWSVAULT_RENDER_PAGE_TYPES: unknown {sorted(unknown)}; known: {PAGE_TYPES}")
        editions = frozenset(code.strip().lower() for code in settings.getlist("NEWSVAULT_RENDER_EDITIONS"))
        return cls(editions, page_types, settings.get("NEWSVAULT_RENDER_WAIT") or "networkidle")

    @property
    def enabled(self) -> bool:
        """True when any request may be rendered."""
        return bool(self.editions and self.page_types)

    def wants(self, edition: str | None, page_type: str) -> bool:
        """True when pages of this type on this edition are rendered."""
        return page_type in self.page_types and ("*" in self.editions or edition in self.editions)

    def meta(self, edition: str | None, page_type: str) -> dict:
        """Request meta rendering the page (scrolled to the end for lazy content), or ``{}`` when it is not."""
        if not self.wants(edition, page_type):
            return {}
        methods = [
            PageMethod("evaluate", "window.scrollTo(0, document.body ? document.body.scrollHeight : 0)"),
            PageMethod("wait_for_load_state", self.wait_until),
        ]
        return {"playwright": True, "playwright_page_methods": methods}


class RenderingAddon:
    """Scrapy add-on: Playwright handlers, Chromium launch options and the middleware, only when rendering is on."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RenderingAddon:
        """No state; the settings say everything."""
        return cls()

    def update_settings(self, settings: BaseSettings) -> None:
        """Enable scrapy-playwright for the rendered requests (the others keep Scrapy's HTTP handler)."""
        if not RenderPolicy.from_settings(settings).enabled:
            return
        launch = {
            "executable_path": settings.get("NEWSVAULT_RENDER_BROWSER") or "/usr/bin/chromium",
            "args": list(CHROMIUM_FLAGS),
            "headless": True,
            "chromium_sandbox": False,  # root on the crawl machines
        }
        proxy = proxy_from_env(os.environ)
        if proxy:
            launch["proxy"] = proxy
        # Component dicts are updated in place: a plain set() at "addon" priority loses to the project's dicts.
        settings["DOWNLOAD_HANDLERS"].update({"http": HANDLER, "https": HANDLER})
        settings["DOWNLOADER_MIDDLEWARES"][f"{__name__}.RenderingMiddleware"] = 950
        settings.set("PLAYWRIGHT_BROWSER_TYPE", "chromium", "addon")
        settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", launch, "addon")
        timeout_ms = settings.getfloat("NEWSVAULT_RENDER_TIMEOUT", 30) * 1000
        settings.set("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT", timeout_ms, "addon")
        settings.set("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT", settings.getint("NEWSVAULT_RENDER_MAX_PAGES", 4), "addon")
        settings.set("PLAYWRIGHT_MAX_CONTEXTS", 2, "addon")  # the current context and the one being drained
        settings.set("PLAYWRIGHT_ABORT_REQUEST", f"{__name__}.abort_unneeded", "addon")


class RenderingMiddleware:
    """Per rendered request: context of the current generation, response collection, page and context closing."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler, self.stats = crawler, crawler.stats
        self.pages_per_context = max(1, settings.getint("NEWSVAULT_RENDER_CONTEXT_PAGES", 100))
        self.context_kwargs = {
            "ignore_https_errors": settings.getbool("NEWSVAULT_RENDER_IGNORE_HTTPS_ERRORS"),
            "service_workers": "block",  # a service worker would answer from its cache, unseen by the archive
        }
        self.fallback = settings.getbool("NEWSVAULT_RENDER_FALLBACK", True)
        self.generation = 0
        self.started = 0  # pages started in the current generation's context
        self.open_pages: Counter[str] = Counter()
        self.contexts: dict = {}  # context name -> Playwright BrowserContext, once a page of it was seen

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RenderingMiddleware:
        """Build from the crawler's settings and stats."""
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        """Give a rendered request its context, keep its page, and collect every response its page receives."""
        if not request.meta.get("playwright"):
            return
        if self.started >= self.pages_per_context:
            self.generation, self.started = self.generation + 1, 0
        name = f"newsvault-{self.generation}"
        self.started += 1
        self.open_pages[name] += 1
        seen: list = []
        request.meta.update(
            playwright_context=name,
            playwright_context_kwargs=self.context_kwargs,
            playwright_include_page=True,
            playwright_page_event_handlers={"response": lambda response: seen.append(response)},  # a function
        )
        request.meta[BROWSER_RESPONSES] = seen

    async def process_response(self, request: Request, response: Response) -> Response:
        """Let the archive read the page's responses while the page is open, then close it."""
        if not request.meta.get("playwright") or BROWSER_RESPONSES not in request.meta:
            return response
        self.stats.inc_value("newsvault/render/pages")
        try:
            await self.crawler.signals.send_catch_log_async(
                page_rendered, request=request, response=response, browser_responses=request.meta[BROWSER_RESPONSES]
            )
        finally:
            await self._release(request)
        return response

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        """Count timeouts and other browser failures and close the page; then, unless ``NEWSVAULT_RENDER_FALLBACK``
        is off, fetch the URL once more without the browser, so that its HTTP exchange is archived and its HTML
        extracted (``newsvault/render/fallbacks``)."""
        if BROWSER_RESPONSES not in request.meta:
            return None
        if isinstance(exception, PlaywrightTimeoutError):
            self.stats.inc_value("newsvault/render/timeouts")
            logger.warning("Rendering timed out: %s (%s)", request.url, str(exception).splitlines()[0])
        else:
            self.stats.inc_value("newsvault/render/errors")
            logger.warning("Rendering failed: %s (%r)", request.url, exception)
        await self._release(request)
        if not self.fallback:
            return None
        self.stats.inc_value("newsvault/render/fallbacks")
        logger.warning("Fetching %s without the browser instead", request.url)
        meta = {key: value for key, value in request.meta.items() if key != "playwright_context"}
        return request.replace(meta={**meta, "playwright": False}, dont_filter=True)

    async def _release(self, request: Request) -> None:
        """Close the request's page; close its context once it is an old generation with no page left open."""
        for key in (BROWSER_RESPONSES, "playwright_page_event_handlers", "playwright_context_kwargs"):
            request.meta.pop(key, None)
        page = request.meta.pop("playwright_page", None)
        name = request.meta["playwright_context"]
        if page is not None:
            self.contexts[name] = page.context
            if not page.is_closed():
                await page.close()
        self.open_pages[name] -= 1
        if name == f"newsvault-{self.generation}" or self.open_pages[name] > 0:
            return
        del self.open_pages[name]
        context = self.contexts.pop(name, None)
        if context is not None:
            await context.close()
            self.stats.inc_value("newsvault/render/contexts_recycled")
