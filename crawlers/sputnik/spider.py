"""``scrapy crawl sputnik``: discover Sputnik articles on the selected editions and emit one Article per page.

Arguments (``-a name=value``), all optional; see ``docs/crawling.md``:
``editions=en,de|all``, ``mode=latest|backfill|urls``, ``since``/``until`` (backfill, ``YYYY-MM-DD``),
``urls=URL,URL`` / ``urls_file=PATH`` (urls mode), ``feed=URL`` / ``sitemap=URL`` (seed one source),
``refresh=all`` (ignore the incremental state), ``render=js`` (render every edition's pages in Chromium, see
``docs/rendering.md``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawlers import delivery, rendering
from crawlers.discovery import Discovered, DiscoveryError, parse_date, parse_feed, parse_sitemap
from crawlers.distributed import seeds_this_round
from crawlers.errors import NotAnArticle, UnreadablePage
from crawlers.extensions import stop_at_start
from crawlers.items import Article
from crawlers.sputnik import editions as edition_table
from crawlers.sputnik import pages, urls
from crawlers.sputnik.plan import SpiderArgumentError, plan_from_args
from crawlers.state import (
    STATE_WRITE_FAILURES_STAT,
    StateStore,
    StateUnavailable,
    StateWriteError,
    needs_fetch,
    open_state,
)

logger = logging.getLogger(__name__)

FEED_PATH = "/export/rss2/archive/index.xml"
WIDGET_PATH = "/services/widget/lenta/"
GONE = (404, 410)  # final answers for an article URL, unlike 5xx or 429


def _newer(version: datetime | None, than: datetime | None) -> bool:
    return version is not None and (than is None or version > than)


class SputnikSpider(scrapy.Spider):
    """Sputnik articles from the selected editions: RSS, newsfeed widget and home page, per-day sitemaps or URLs."""

    name = "sputnik"
    outlet = "sputnik"

    def __init__(self, *args, **kwargs):
        arg_names = ("editions", "mode", "since", "until", "urls", "urls_file", "feed", "sitemap", "refresh")
        self.plan = plan_from_args(**{k: kwargs.pop(k) for k in arg_names if k in kwargs})
        try:
            self.render_all = rendering.parse_render_arg(kwargs.pop("render", None))
        except ValueError as e:
            raise SpiderArgumentError(str(e)) from None
        super().__init__(*args, **kwargs)
        self.editions = [e.code for e in self.plan.editions]
        self.state: StateStore | None = None
        self._versions: dict[str, datetime | None] = {}  # state key -> newest version discovered in this run

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        """``-a render=js`` is ``NEWSVAULT_RENDER_EDITIONS=*`` for this run (read by the rendering add-on)."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.render_all:
            crawler.settings.set("NEWSVAULT_RENDER_EDITIONS", ["*"], priority="cmdline")
        spider.render = rendering.RenderPolicy.from_settings(crawler.settings)
        for code in spider.render.editions - {"*"}:
            edition_table.by_code(code)  # an unknown code is an error at start (it lists the known ones), not ignored
        spider.page_images = crawler.settings.getbool("ARCHIVE_PAGE_IMAGES")
        spider.delivery_check = delivery.DeliveryCheck(crawler)
        # Connected now, before any extension's (they are built after the spider): the state is opened, and a killed
        # run's held articles settled, before the items spool uploads that run's feed; an article is held before
        # the feed exporter writes its line.
        crawler.signals.connect(spider._open_state, signals.spider_opened)
        crawler.signals.connect(spider._hold, signals.item_scraped)
        return spider

    def is_allowed_host(self, host: str) -> bool:
        """True for hosts of the selected editions (current and historical) and their image CDNs."""
        edition = edition_table.by_host(host)
        return edition is not None and edition in self.plan.editions

    def _open_state(self) -> None:
        """Open the incremental state (unless ``refresh=all``) and settle what a killed run left held."""
        if self.plan.refresh:
            return
        try:
            self.state = open_state(self.settings, self.name)
        except StateUnavailable as error:  # without it every listed article would be fetched and emitted again
            logger.error("state: cannot open %s; the run stops", error)
            self.crawler.stats.set_value(STATE_WRITE_FAILURES_STAT, 1)
            stop_at_start(self.crawler, "state_unavailable")
            return
        logger.info("Incremental state: %s", self.state)
        try:
            delivery.settle(self.state)
        except StateWriteError as error:  # Redis down: the crawl's own Redis checks report it
            logger.error("state: the articles a killed run held could not be settled (%s)", error)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """Yield the discovery (or article) requests of the plan."""
        # Connected here, after the feed exporter's own handler: an item is recorded only once it was written.
        self.crawler.signals.connect(self._item_scraped, signals.item_scraped)
        self.crawler.signals.connect(self._item_dropped, signals.item_dropped)
        self.crawler.signals.connect(self._closed, signals.spider_closed)
        if not seeds_this_round(self.crawler):
            return  # a distributed crawl (REDIS_URL): another worker seeds this round
        if self.settings.get("REDIS_URL"):
            # Scrapy pulls yielded start requests only as fast as this worker alone consumes them, which kept the
            # shared queue empty and the other workers idle (a long -a urls list): push every seed to it now.
            for request in self._seeds():
                self.crawler.engine.crawl(request)
            return
        for request in self._seeds():
            yield request

    def _seeds(self) -> Iterable[scrapy.Request]:
        plan = self.plan
        if plan.mode == "urls":
            yield from self._article_requests((Discovered(u, None) for u in plan.urls), force=True)
            return
        if plan.feeds or plan.sitemaps:
            yield from (scrapy.Request(u, self.parse_feed) for u in plan.feeds)
            yield from (scrapy.Request(u, self.parse_sitemap) for u in plan.sitemaps)
            return
        for edition in plan.editions:
            base = f"https://{edition.host}"
            if plan.mode == "backfill":  # historical hosts too: their sitemaps list the articles published there
                for day in plan.days:
                    stamp = day.strftime("%Y%m%d")
                    for host in edition.hosts:
                        url = f"https://{host}/sitemap_article.xml?date_start={stamp}&date_end={stamp}"
                        yield scrapy.Request(url, self.parse_sitemap)
            else:
                yield scrapy.Request(base + FEED_PATH, self.parse_feed)
                yield scrapy.Request(base + WIDGET_PATH, self.parse_newsfeed)
                yield scrapy.Request(edition.home, self.parse_home, meta=self.render.meta(edition.code, "home"))

    def _article_requests(self, found: Iterable[Discovered], force: bool = False) -> Iterable[scrapy.Request]:
        """Requests for the article URLs among ``found`` that are new or changed (all of them if ``force``)."""
        stats = self.crawler.stats
        for url, version in found:  # up to 50,000 per sitemap: each URL is parsed once
            ident = urls.article_id(url)
            if ident is None:
                stats.inc_value("newsvault/discovery/non_article_url")
                continue
            edition = edition_table.by_host(urlsplit(url).hostname or "")
            if edition is None or edition not in self.plan.editions:
                stats.inc_value("newsvault/discovery/other_host")
                continue
            key = urls.article_key(edition.code, ident)
            if key in self._versions and not _newer(version, self._versions[key]):
                continue  # already requested in this run at this version or newer
            if not force and self.state is not None and not needs_fetch(self.state, key, version):
                stats.inc_value("newsvault/state/unchanged")
                continue
            self._versions[key] = version
            stats.inc_value("newsvault/state/scheduled")
            meta = {"state_key": key, "state_version": version, **self.render.meta(edition.code, "article")}
            yield scrapy.Request(url, self.parse_article, errback=self.article_failed, meta=meta)

    def parse_feed(self, response: Response) -> Iterable[scrapy.Request]:
        """Article URLs and dates of an RSS/Atom feed."""
        try:
            yield from self._article_requests(parse_feed(response.body))
        except DiscoveryError as e:
            self._discovery_failed(response, e)

    def parse_sitemap(self, response: Response) -> Iterable[scrapy.Request]:
        """Article URLs and lastmods of a sitemap; the sitemaps of a sitemap index."""
        try:
            sitemap = parse_sitemap(response.body)
        except DiscoveryError as e:
            self._discovery_failed(response, e)
            return
        if sitemap.skipped:
            self.crawler.stats.inc_value("newsvault/discovery/sitemap_capped", sitemap.skipped)
        if not sitemap.is_index:
            yield from self._article_requests(sitemap.entries)
            return
        for entry in sitemap.entries:
            if self.is_allowed_host(urlsplit(entry.url).hostname or ""):
                yield scrapy.Request(entry.url, self.parse_sitemap)

    def parse_newsfeed(self, response: Response) -> Iterable[scrapy.Request]:
        """Article URLs and publication dates of the newsfeed widget."""
        links = pages.parse_newsfeed(response.text, response.url)
        yield from self._article_requests(Discovered(link.url, parse_date(link.datePublished)) for link in links)

    def parse_home(self, response: Response) -> Iterable[scrapy.Request]:
        """Article links of a home page (undated: only new articles are fetched)."""
        hrefs = response.css("a::attr(href)").getall()
        yield from self._article_requests(Discovered(response.urljoin(h), None) for h in hrefs)

    def parse_article(self, response: Response):
        """One Article item from an article page; other pages are counted and left alone."""
        stats = self.crawler.stats
        if not urls.is_article_url(response.url):
            stats.inc_value("newsvault/pages/non_article")
            return
        stats.inc_value("newsvault/pages/article")
        try:
            article = pages.extract_article(
                response.body, response.url, encoding=response.encoding, http_status=response.status
            )
        except NotAnArticle as e:
            stats.inc_value("newsvault/pages/not_an_article")
            logger.info("Not an article: %s (%s)", response.url, e)
            self._record(response, None, emitted=False)
            return
        except UnreadablePage as e:
            stats.inc_value("newsvault/pages/unreadable")
            logger.warning("Unreadable page: %s (%s)", response.url, e)
            return
        yield article
        if self.page_images:
            yield from self._picture_requests(article)

    def _picture_requests(self, article: Article) -> Iterable[scrapy.Request]:
        """The article's pictures (main, body, inline cards) as page requisites to archive (``ARCHIVE_PAGE_IMAGES``).

        Low priority; the same picture on several pages is fetched once per run (Scrapy's duplicate filter), and
        hosts off the editions and their image CDNs are dropped like any other request.
        """
        pictures = [article.mainImage, *article.images, *(link.image for link in article.related)]
        wanted = (p.url for p in pictures if p is not None and p.url.startswith(("https://", "http://")))
        for url in dict.fromkeys(wanted):
            self.crawler.stats.inc_value("newsvault/page_images/requested")
            yield scrapy.Request(url, self.parse_picture, priority=-10)

    def parse_picture(self, response: Response) -> None:
        """Nothing to extract: the archive captured the exchange when it was downloaded."""
        self.crawler.stats.inc_value("newsvault/page_images/archived")

    def article_failed(self, failure: Failure) -> None:
        """A 404 or 410 is final for this version (recorded, so unchanged discovery does not ask again)."""
        if failure.check(HttpError) and failure.value.response.status in GONE:
            self.crawler.stats.inc_value("newsvault/pages/gone")
            self._record(failure.value.response, None, emitted=False)

    def _discovery_failed(self, response: Response, error: Exception) -> None:
        self.crawler.stats.inc_value("newsvault/discovery/unreadable")
        logger.warning("Unreadable feed or sitemap %s: %s", response.url, error)

    def _version(self, key: str, response: Response, modified: str | None) -> datetime | None:
        discovered = self._versions.get(key) or response.meta.get("state_version")  # another worker's discovery
        return max((v for v in (discovered, parse_date(modified)) if v), default=None)

    def _holding_key(self, response: Response) -> str | None:
        """The state key of the response's article when there is a state to hold its delivery in, else None."""
        return response.meta.get("state_key") if self.state is not None else None

    def _hold(self, item, response: Response) -> None:
        """Before the feed exporter writes the item's line: hold its article, naming the files being written."""
        key = self._holding_key(response)
        if key is None:
            return
        version = self._version(key, response, getattr(item, "dateModified", None))
        with contextlib.suppress(StateWriteError):  # the record that follows fails too, and reports it
            self.state.hold(key, response.url, version, self.delivery_check.feed_files())

    def _record(self, response: Response, modified: str | None, *, emitted: bool) -> None:
        key = response.meta.get("state_key")
        if self.state is None or key is None:
            return
        try:
            self.state.record(key, response.url, self._version(key, response, modified), emitted=emitted)
        except StateWriteError as error:
            if not self.crawler.stats.get_value(STATE_WRITE_FAILURES_STAT):
                message = "state: could not record %s (%s); the next run fetches such articles again (duplicates)"
                logger.error(message, response.url, error)
            self.crawler.stats.inc_value(STATE_WRITE_FAILURES_STAT)

    def _item_scraped(self, item, response: Response) -> None:
        if not self.delivery_check.delivered(item):  # its line or its capture was not written: fetched again next run
            key = self._holding_key(response)
            if key is not None:
                with contextlib.suppress(StateWriteError):  # a state that cannot write: its own error line
                    self.state.release(key)  # else the next run would settle it as done from its line
            return
        self._record(response, getattr(item, "dateModified", None), emitted=True)

    def _item_dropped(self, item, response: Response) -> None:
        self._record(response, getattr(item, "dateModified", None), emitted=False)

    def _closed(self) -> None:
        if self.state is not None:
            self.state.close()
