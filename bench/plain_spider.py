"""Plain Scrapy for the throughput baseline: fetch every URL of a list, no extraction, no archiving, no items.

Run by ``bench/throughput.py`` as ``scrapy runspider bench/plain_spider.py -a urls_file=PATH`` with Scrapy's own
defaults (no project settings) plus the benchmark's shared crawl settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import scrapy
from scrapy.http import Response


class PlainSpider(scrapy.Spider):
    """Requests each URL of ``urls_file`` once and drops the response."""

    name = "plain"

    def __init__(self, urls_file: str, **kwargs):
        super().__init__(**kwargs)
        self.urls_file = urls_file

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """One request per line of the URL list."""
        for url in Path(self.urls_file).read_text(encoding="utf-8").split():
            yield scrapy.Request(url)

    def parse(self, response: Response) -> None:
        """Nothing: the baseline measures fetching alone."""
