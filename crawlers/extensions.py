"""Crawl extensions: a periodic progress line, a one-line summary when the spider closes, garbage collector tuning;
and :func:`stop_at_start`, for a part that cannot start."""

from __future__ import annotations

import gc
import logging
import time

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.defer import deferred_from_coro

logger = logging.getLogger(__name__)


def stop_at_start(crawler: Crawler, reason: str) -> None:
    """Close the spider with ``reason`` as soon as the engine runs, before its first request.

    For a ``spider_opened`` handler whose part cannot start (the archive, the state): closing the spider from there
    ends the crawl without ``engine_stopped``, so without the monitors, the manifest and the exit code.
    """

    def close() -> None:
        deferred_from_coro(crawler.engine.close_spider_async(reason=reason))

    crawler.signals.connect(close, signals.engine_started, weak=False)  # a closure: nothing else refers to it


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


class GarbageCollectorTuning:
    """Once the engine has started: start-up objects frozen out of the cyclic collector's scans (``gc.freeze``) and
    its thresholds set to ``NEWSVAULT_GC_THRESHOLDS``.

    Each page allocates thousands of short-lived objects that reference counting frees anyway; at Python's default
    threshold (700) the collector ran about 430 times per 1,000 pages and took about 0.5 ms of CPU per page
    (bench/throughput.py, docs/benchmarks.md). Cyclic garbage is still collected, less often. An empty setting
    leaves the collector as Python configures it.
    """

    def __init__(self, thresholds: tuple[int, ...]) -> None:
        self.thresholds = thresholds

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> GarbageCollectorTuning:
        """Build from ``NEWSVAULT_GC_THRESHOLDS`` (a list of up to three integers); empty: not configured."""
        thresholds = tuple(int(value) for value in crawler.settings.getlist("NEWSVAULT_GC_THRESHOLDS"))
        if not thresholds:
            raise NotConfigured("NEWSVAULT_GC_THRESHOLDS is empty")
        if len(thresholds) > 3 or thresholds[0] <= 0:
            raise ValueError(f"NEWSVAULT_GC_THRESHOLDS: up to three integers, the first above 0, not {thresholds}")
        ext = cls(thresholds)
        crawler.signals.connect(ext.engine_started, signals.engine_started)
        return ext

    def engine_started(self) -> None:
        """Collect once, freeze what start-up left, apply the thresholds."""
        gc.collect()
        gc.freeze()
        gc.set_threshold(*self.thresholds)
        logger.debug("gc: %d start-up objects frozen, thresholds %s", gc.get_freeze_count(), gc.get_threshold())
