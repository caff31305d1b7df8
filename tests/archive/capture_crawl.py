"""Run a minimal crawl of the test site with the archive enabled (in a subprocess: the reactor cannot restart).

Usage: python -m tests.archive.capture_crawl BASE_URL OUT_DIR '{"SETTING": "value", ...}'
"""

from __future__ import annotations

import json
import os
import sys

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings


class CaptureTestSpider(scrapy.Spider):
    """Follows every link of the start page; yields an item per page with an <h1> (it knows nothing of archives)."""

    name = "capturetest"

    async def start(self):
        """The site's home page."""
        yield scrapy.Request(self.settings["TEST_SITE"] + "/")

    def parse(self, response):
        """Items for pages with a headline; follow links from the home page."""
        headline = response.css("h1::text").get()
        if headline:
            yield {"url": response.url, "headline": headline, "archive": None}
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href)


def main() -> None:
    """Crawl with the given settings on top of settings.test."""
    base_url, out_dir, overrides = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    os.environ["SCRAPY_SETTINGS_MODULE"] = "settings.test"
    settings = get_project_settings()
    settings.setdict(
        {
            "TEST_SITE": base_url,
            "ADDONS": {},
            "SPIDER_MODULES": [],
            "HTTPERROR_ALLOW_ALL": True,
            "ROBOTSTXT_OBEY": False,
            "LOG_LEVEL": "INFO",
            "FEEDS": {f"{out_dir}/items.jsonl": {"format": "jsonlines"}},
            "ARCHIVE_URI": f"{out_dir}/warc",
            **overrides,
        },
        priority="cmdline",
    )
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(CaptureTestSpider)
    process.crawl(crawler)
    process.start()
    print(json.dumps(crawler.stats.get_stats(), default=str), file=sys.stderr)


if __name__ == "__main__":
    main()
