"""Crawl extensions: a periodic progress line and a one-line summary when the spider closes."""

from __future__ import annotations

import logging
import time

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils.asyncio import create_looping_call

logger = logging.getLogger(__name__)


class ProgressLog:
    """Logs pages, items, rates and the scheduler queue size every ``NEWSVAULT_PROGRESS_INTERVAL`` seconds.

    At close it logs a summary: totals, average rate and the newsvault counters (unchanged articles skipped,
    offsite requests dropped, Retry-After holds...). An interval of 0 keeps only the summary.
    """

    def __init__(self, crawler: Crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.started = time.monotonic()
        self.last = (self.started, 0, 0)
        self.task = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressLog:
        """Build from ``NEWSVAULT_PROGRESS_INTERVAL``."""
        interval = crawler.settings.getfloat("NEWSVAULT_PROGRESS_INTERVAL", 60.0)
        ext = cls(crawler, interval)
        crawler.signals.connect(ext.spider_opened, signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signals.spider_closed)
        return ext

    def counts(self) -> tuple[int, int]:
        """Pages (responses received) and items scraped so far."""
        stats = self.crawler.stats
        return stats.get_value("response_received_count", 0), stats.get_value("item_scraped_count", 0)

    def queue_size(self) -> int | None:
        """Requests waiting in the scheduler, if the scheduler can tell."""
        scheduler = self.crawler.engine.scheduler
        try:
            return len(scheduler) if scheduler is not None else None
        except TypeError:
            return None

    def spider_opened(self) -> None:
        """Start the periodic line."""
        self.started = time.monotonic()
        self.last = (self.started, 0, 0)
        if self.interval > 0:
            self.task = create_looping_call(self.log_progress)
            self.task.start(self.interval, now=False)

    def log_progress(self) -> None:
        """One progress line: totals, rates over the last interval, queue size."""
        now = time.monotonic()
        pages, items = self.counts()
        then, last_pages, last_items = self.last
        minutes = max(now - then, 1e-9) / 60
        self.last = (now, pages, items)
        logger.info(
            "Progress: %d pages (%.0f/min), %d items (%.0f/min), %s queued",
            pages,
            (pages - last_pages) / minutes,
            items,
            (items - last_items) / minutes,
            self.queue_size(),
        )

    def spider_closed(self, reason: str) -> None:
        """Stop the periodic line and log the summary."""
        if self.task is not None and self.task.running:
            self.task.stop()
        pages, items = self.counts()
        elapsed = time.monotonic() - self.started
        ours = {k: v for k, v in sorted(self.crawler.stats.get_stats().items()) if k.startswith("newsvault/")}
        logger.info(
            "Summary (%s): %d pages, %d items in %.1f s (%.1f pages/s); %s",
            reason,
            pages,
            items,
            elapsed,
            pages / max(elapsed, 1e-9),
            ", ".join(f"{k.removeprefix('newsvault/')}={v:g}" for k, v in ours.items()) or "no newsvault counters",
        )
