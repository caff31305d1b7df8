"""``scrapy crawl`` for cron: Scrapy's command, plus an exit code that says whether the run failed.

Exit codes (also in the run manifest as ``exitCode``; ``docs/operations.md``):
0 ok; 1 the crawl could not start (bootstrap error); 2 usage error (Scrapy's own); 3 no items where items are
expected; 4 error rate above ``ITEMS_MAX_ERROR_RATE``; 5 storage failed (WARC upload or feed store);
6 field coverage below ``SPIDERMON_FIELD_COVERAGE_RULES`` or too many invalid items; 7 the run did not finish
(shut down, killed by a close-spider limit). When several apply, the first of 5, 7, 3, 4, 6 wins.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from crawlers.errors import StartFailure

logger = logging.getLogger(__name__)


def report_start_failure(start: asyncio.Future) -> None:
    """A crawl that could not start: a :class:`StartFailure` (a wrong input, Redis unreachable) in one error line,
    anything else with its traceback.

    Taking the exception here keeps asyncio from logging "Task exception was never retrieved" with a traceback.
    """
    if start.cancelled() or start.exception() is None:
        return
    error = start.exception()
    if isinstance(error, StartFailure):
        logger.error("the crawl cannot start: %s", error)
    else:
        logger.error("the crawl cannot start", exc_info=error)


class Command(ScrapyCrawlCommand):
    """Run a spider; exit non-zero when its monitors failed (see the module docstring for the codes)."""

    def short_desc(self) -> str:
        """One line for ``scrapy -h``."""
        return "Run a spider; the exit code says whether the run failed (for cron)"

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        """Scrapy's options, plus the spider arguments kept as ``NEWSVAULT_SPIDER_ARGS`` for the manifest."""
        super().process_options(args, opts)
        self.settings.set("NEWSVAULT_SPIDER_ARGS", dict(opts.spargs), priority="cmdline")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        """Crawl like Scrapy, then take the exit code the manifest extension computed."""
        if len(args) != 1:
            raise UsageError("give exactly one spider name")
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        started = self.crawler_process.crawl(crawler, **opts.spargs)
        if isinstance(started, asyncio.Future):  # Scrapy's AsyncCrawlerProcess (the asyncio reactor)
            started.add_done_callback(report_start_failure)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        else:
            self.exitcode = crawler.stats.get_value("newsvault/exit_code", 0)
