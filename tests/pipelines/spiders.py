"""Tiny test spiders for crawls in a subprocess against the local site of ``site.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy import signals
from scrapy.http import Response

from crawlers import items


class ArticlesSpider(scrapy.Spider):
    """Reads ``{base}/{edition}/`` (links to articles) and extracts each article with CSS selectors."""

    name = "articles"
    outlet = "testoutlet"

    def __init__(self, base: str, editions: str = "good", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base = base
        self.editions = editions.split(",")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """One index page per edition."""
        for edition in self.editions:
            yield scrapy.Request(f"{self.base}/{edition}/", cb_kwargs={"edition": edition})

    def parse(self, response: Response, edition: str) -> Any:
        """Follow every article link of the index."""
        for href in response.css("a.article::attr(href)").getall():
            yield response.follow(href, self.parse_article, cb_kwargs={"edition": edition})

    def parse_article(self, response: Response, edition: str) -> items.Article:
        """The article as the good layout gives it; the broken layout only yields a headline from <title>."""
        headline = response.css("h1.title::text").get() or response.css("title::text").get()
        return items.Article(
            id=f"testoutlet:{edition}:{response.css('article::attr(data-id)').get()}",
            url=response.url,
            canonicalUrl=response.url,
            outlet="testoutlet",
            edition=items.Edition(code=edition, name=edition, host="127.0.0.1", language="en"),
            inLanguage="en",
            headline=headline,
            datePublished=response.css("time.published::attr(datetime)").get(),
            articleBody="\n\n".join(response.css("div.body p::text").getall()) or None,
            metadata=items.Metadata(
                dateDownloaded=datetime.now(UTC).isoformat(timespec="seconds"),
                parser="test/layout@1",
                httpStatus=response.status,
            ),
        )


class ArchiveFailureStats:
    """Test extension standing in for the archive extension's stats: one failed upload, some bytes, one file."""

    @classmethod
    def from_crawler(cls, crawler: scrapy.crawler.Crawler) -> ArchiveFailureStats:
        """Set the stats when the spider closes, as the archive extension would."""
        ext = cls()
        ext.stats = crawler.stats
        crawler.signals.connect(ext.spider_closed, signals.spider_closed)
        return ext

    def spider_closed(self) -> None:
        """The archive interface the manifest and the storage monitor read."""
        self.stats.inc_value("archive/store_failures")
        self.stats.set_value("archive/bytes_written", 1234)
        self.stats.set_value("archive/files", ["s3://warcs/test-00000.warc.gz"])


class MarkScraped:
    """Test extension standing in for the incremental state: appends each scraped id to a file, unbuffered."""

    @classmethod
    def from_crawler(cls, crawler: scrapy.crawler.Crawler) -> MarkScraped:
        """Open the marks file named by ``TEST_MARKS_PATH``."""
        ext = cls()
        ext.file = open(crawler.settings["TEST_MARKS_PATH"], "ab", buffering=0)  # noqa: SIM115
        crawler.signals.connect(ext.item_scraped, signals.item_scraped)
        return ext

    def item_scraped(self, item: items.Article) -> None:
        """Mark the article, as the state does on ``item_scraped``."""
        self.file.write(f"{item.id}\n".encode())
