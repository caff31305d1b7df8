"""Spidermon monitors that decide whether a run failed, and the exit code cron sees.

``RunHealthSuite`` runs at ``engine_stopped`` (after feeds are stored and field coverage is in the stats). Each
monitor names the failure it detects; the suite records every result in the stat ``newsvault/monitors`` and
:func:`exit_code` maps failures to the process exit code (see ``docs/operations.md``).
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

from scrapy.exceptions import ScrapyDeprecationWarning
from spidermon import MonitorSuite, monitors
from spidermon.contrib.scrapy.monitors import FieldCoverageMonitor, FinishReasonMonitor
from spidermon.contrib.scrapy.monitors.base import BaseScrapyMonitor

from pipelines.validate import INVALID_STAT

# spidermon 1.27 writes its result table through Spider.log(), which Scrapy 2.19 deprecates: silence exactly that
# call site, so crawl logs keep real deprecations visible.
warnings.filterwarnings(
    "ignore", r"Spider\.log\(\) is deprecated", ScrapyDeprecationWarning, r"spidermon\.contrib\.scrapy\.runners"
)

MONITORS_STAT = "newsvault/monitors"
# Exit code per failure, most severe first: when several fail, the first one listed here is the exit code.
EXIT_CODES: dict[str, int] = {"storage": 5, "interrupted": 7, "no_items": 3, "error_rate": 4, "coverage": 6}
EXIT_OK = 0


def error_count(stats: dict[str, Any], error_statuses: list[int], retried_statuses: list[int]) -> int:
    """Exchanges that finally failed: error statuses that reached the spider after every retry, downloads that
    gave up after every retry, and spider callback exceptions. A 429 or 503 answered by a retry is no failure."""
    final_statuses = {
        code: stats.get(f"httperror/response_ignored_status_count/{code}", 0) for code in set(error_statuses)
    }
    gave_up = stats.get("retry/max_reached", 0) - sum(
        n for code, n in final_statuses.items() if code in retried_statuses
    )
    return sum(final_statuses.values()) + max(gave_up, 0) + stats.get("spider_exceptions/count", 0)


def storage_failures(stats: dict[str, Any], failure_stats: list[str]) -> dict[str, int]:
    """Every non-zero storage failure stat: the archive's (``failure_stats``) and the feed exports'."""
    keys = [*failure_stats, *(k for k in stats if k.startswith("feedexport/failed_count/"))]
    return {key: stats[key] for key in keys if stats.get(key)}


@monitors.name("Items produced")
class NoItemsMonitor(BaseScrapyMonitor):
    """An empty run fails when discovery found no article at all, or when article pages gave no item.

    Spiders report discovered articles in ``newsvault/state/scheduled`` (to fetch) and ``newsvault/state/unchanged``
    (skipped by the incremental state), and article pages parsed in ``newsvault/pages/article``. An incremental run
    whose articles are all unchanged, or whose only new ones were refused by robots.txt or gone, may be empty.
    ``ITEMS_MIN_ITEMS = 0`` disables the check. Spiders without these stats need ``ITEMS_MIN_ITEMS`` items.
    """

    failure = "no_items"

    @monitors.name("At least ITEMS_MIN_ITEMS items")
    def test_minimum_items(self) -> None:
        """Fails on an empty run where items are expected: blocked edition, dead discovery, broken layout."""
        minimum = self.crawler.settings.getint("ITEMS_MIN_ITEMS", 1)
        items = self.stats.get("item_scraped_count", 0)
        discovered = self.stats.get("newsvault/state/scheduled", 0) + self.stats.get("newsvault/state/unchanged", 0)
        parsed = self.stats.get("newsvault/pages/article", 0)
        if discovered and not parsed:
            return  # nothing new was fetched as an article: an empty incremental run is the right answer
        self.assertGreaterEqual(
            items, minimum, f"{items} items, expected at least {minimum} ({discovered} discovered, {parsed} parsed)"
        )


@monitors.name("Error rate")
class ErrorRateMonitor(BaseScrapyMonitor):
    """Failed exchanges per request stay at or under ``ITEMS_MAX_ERROR_RATE``."""

    failure = "error_rate"

    @monitors.name("Error rate under ITEMS_MAX_ERROR_RATE")
    def test_error_rate(self) -> None:
        """Fails when too many requests finally fail (403, 429, 5xx by default, after retries; exceptions)."""
        settings = self.crawler.settings
        requests = self.stats.get("downloader/request_count", 0)
        errors = error_count(
            self.stats,
            [int(c) for c in settings.getlist("ITEMS_ERROR_HTTP_CODES")],
            [int(c) for c in settings.getlist("RETRY_HTTP_CODES")],
        )
        rate = errors / requests if requests else 0.0
        limit = settings.getfloat("ITEMS_MAX_ERROR_RATE", 0.1)
        self.assertLessEqual(rate, limit, f"error rate {rate:.3f} ({errors}/{requests}) above {limit}")


@monitors.name("Storage")
class StorageMonitor(BaseScrapyMonitor):
    """No WARC upload or feed store failed."""

    failure = "storage"

    @monitors.name("No storage failures")
    def test_no_storage_failures(self) -> None:
        """Fails on any non-zero stat of ``ITEMS_STORAGE_FAILURE_STATS`` or ``feedexport/failed_count/*``."""
        failed = storage_failures(self.stats, self.crawler.settings.getlist("ITEMS_STORAGE_FAILURE_STATS"))
        self.assertFalse(failed, f"storage failures: {failed}")


@monitors.name("Invalid items")
class InvalidItemsMonitor(BaseScrapyMonitor):
    """Items dropped by schema validation stay at or under ``ITEMS_MAX_INVALID_RATIO`` of all items."""

    failure = "coverage"

    @monitors.name("Invalid items under ITEMS_MAX_INVALID_RATIO")
    def test_invalid_ratio(self) -> None:
        """Fails when too many items break the schema (a required field the layout no longer gives)."""
        invalid = self.stats.get(INVALID_STAT, 0)
        total = invalid + self.stats.get("item_scraped_count", 0)
        ratio = invalid / total if total else 0.0
        fields = sorted(k.removeprefix(INVALID_STAT + "/") for k in self.stats if k.startswith(INVALID_STAT + "/"))
        limit = self.crawler.settings.getfloat("ITEMS_MAX_INVALID_RATIO", 0.01)
        self.assertLessEqual(ratio, limit, f"{invalid}/{total} items invalid, fields: {', '.join(fields)}")


class CoverageMonitor(FieldCoverageMonitor):
    """Spidermon's field coverage check (``SPIDERMON_FIELD_COVERAGE_RULES``), as a run failure."""

    failure = "coverage"


class FinishedMonitor(FinishReasonMonitor):
    """The run ended with a reason of ``SPIDERMON_EXPECTED_FINISH_REASONS`` (not killed, not shut down)."""

    failure = "interrupted"


class RunHealthSuite(MonitorSuite):
    """Every check that makes a cron run fail; results go to the stat ``newsvault/monitors``."""

    monitors: ClassVar[list[type]] = [
        StorageMonitor,
        FinishedMonitor,
        NoItemsMonitor,
        ErrorRateMonitor,
        InvalidItemsMonitor,
        CoverageMonitor,
    ]

    def on_monitors_finished(self, result: Any) -> None:
        """Record each monitor's outcome (name, failure kind, status, reason) in the crawl stats."""
        records = [
            {
                "monitor": r.monitor.name,
                "failure": getattr(r.monitor, "failure", None),
                "status": r.status,
                "reason": (r.reason or "").strip() or None,
            }
            for r in result.monitor_results
        ]
        self._crawler.stats.set_value(MONITORS_STAT, records)
        super().on_monitors_finished(result)


def failures(stats: dict[str, Any]) -> list[str]:
    """The failure kinds of the run's failed monitors, in :data:`EXIT_CODES` order."""
    failed = {r["failure"] for r in stats.get(MONITORS_STAT, []) if r["status"] in ("FAIL", "ERROR")}
    return [name for name in EXIT_CODES if name in failed]


def exit_code(stats: dict[str, Any]) -> int:
    """The process exit code for a finished run: the most severe failure's code, or 0."""
    found = failures(stats)
    return EXIT_CODES[found[0]] if found else EXIT_OK
