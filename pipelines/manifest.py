"""The run manifest: one JSON document per run, next to its items, saying what the run did and whether it failed.

Written twice: at ``spider_opened`` with ``"status": "running"`` (so a run killed with ``-9`` leaves a trace) and
at ``engine_stopped``, after the feeds are stored and the spidermon suite has run, with the counts, the files,
the errors, the monitor results and the exit code. ``ITEMS_MANIFEST_URI`` (a template with the feed placeholders)
defaults to ``<folder of ITEMS_URI>/%(run)s.manifest.json``; local paths and ``s3://`` work.

Interface with the archive extension: every ``archive/*`` stat is copied into ``counts.archive``;
``archive/bytes_written`` is ``counts.bytesArchived``; ``archive/files`` (a list of WARC URIs) is ``files.warc``;
``archive/store_failures`` fails the run (see ``pipelines.monitors``).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings

from archive.storage import local_path
from pipelines import feeds, monitors
from pipelines.items_spool import ItemsSpool, write_atomically

MANIFEST_VERSION = 1
MAX_ERRORS = 100


class ErrorLog(logging.Handler):
    """Keeps the first ``MAX_ERRORS`` log records at ERROR or above, as short dicts."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[dict[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Remember the record's time, logger and first line of the message."""
        if len(self.records) < MAX_ERRORS:
            message = record.getMessage().splitlines()[0][:500] if record.getMessage() else ""
            when = datetime.fromtimestamp(record.created, UTC).isoformat()
            self.records.append({"time": when, "logger": record.name, "message": message})


def manifest_template(settings: BaseSettings) -> str:
    """``ITEMS_MANIFEST_URI``, or ``%(run)s.manifest.json`` in the folder of ``ITEMS_URI``; a local path,
    ``file://`` or ``s3://bucket/key`` (:class:`~crawlers.errors.InputError` otherwise)."""
    if settings.get("ITEMS_MANIFEST_URI"):
        template = settings["ITEMS_MANIFEST_URI"]
    elif settings.get("ITEMS_URI"):
        template = settings["ITEMS_URI"].rsplit("/", 1)[0] + "/%(run)s.manifest.json"
    else:
        raise NotConfigured("neither ITEMS_MANIFEST_URI nor ITEMS_URI is set")
    return feeds.check_delivered_uri("ITEMS_MANIFEST_URI", template)


def counts(stats: dict[str, Any]) -> dict[str, Any]:
    """The manifest's ``counts`` section from the crawl stats."""

    def under(prefix: str) -> dict[str, Any]:
        return {k.removeprefix(prefix): v for k, v in sorted(stats.items()) if k.startswith(prefix)}

    return {
        "requests": stats.get("downloader/request_count", 0),
        "responses": stats.get("downloader/response_count", 0),
        "responsesByStatus": under("downloader/response_status_count/"),
        "items": stats.get("item_scraped_count", 0),
        "dropped": stats.get("item_dropped_count", 0),
        "droppedByReason": under("items/dropped/"),
        "retries": stats.get("retry/count", 0),
        "retriesExhausted": stats.get("retry/max_reached", 0),
        "downloadErrors": stats.get("downloader/exception_count", 0),
        "downloadErrorsByType": under("downloader/exception_type_count/"),
        "spiderErrors": stats.get("spider_exceptions/count", 0),
        "logErrors": stats.get("log_count/ERROR", 0),
        "bytesArchived": stats.get("archive/bytes_written", 0),
        "newsvault": under("newsvault/"),  # discovery, pages, refused targets, offsite, state, backoff
        "archive": {k: v for k, v in sorted(stats.items()) if k.startswith("archive/") and k != "archive/files"},
        "itemsSpool": under("items/files_"),  # s3:// items: recovered from earlier runs, repaired, still spooled
        "itemsRepaired": stats.get("items/feeds_repaired", 0),  # local feed files of killed runs, finalized at start
    }


def coverage(stats: dict[str, Any]) -> dict[str, float]:
    """Spidermon's field coverage ratios, keyed ``ItemType/field``."""
    prefix = "spidermon_field_coverage/"
    return {k.removeprefix(prefix): round(v, 4) for k, v in sorted(stats.items()) if k.startswith(prefix)}


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


class ManifestExtension:
    """Writes the run manifest and sets the stat ``newsvault/exit_code`` (read by ``scrapy crawl``)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.template = manifest_template(crawler.settings)
        self.uri = ""
        self.items_files: list[dict[str, Any]] = []
        self.errors = ErrorLog()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ManifestExtension:
        """Connect to the signals of the run's start, each stored feed file and the end of the run."""
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signals.spider_opened)
        crawler.signals.connect(ext.feed_slot_closed, signals.feed_slot_closed)
        crawler.signals.connect(ext.engine_stopped, signals.engine_stopped)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        """Resolve the manifest URI, start collecting errors, write the ``running`` manifest."""
        self.uri = feeds.render_uri(self.template, spider)
        logging.getLogger().addHandler(self.errors)
        self.write("running")

    def feed_slot_closed(self, slot: Any) -> None:
        """Record a stored items file with its item count."""
        self.items_files.append({"uri": slot.uri, "items": slot.itemcount})

    def engine_stopped(self) -> None:
        """Compute the exit code and write the final manifest."""
        logging.getLogger().removeHandler(self.errors)
        stats = self.crawler.stats.get_stats()
        self.crawler.stats.set_value("newsvault/exit_code", monitors.exit_code(stats))
        if self.write("finished"):
            logging.getLogger(__name__).info("run manifest: %s", self.uri)

    def manifest(self, status: str) -> dict[str, Any]:
        """The manifest document as it stands."""
        spider, stats, settings = self.crawler.spider, self.crawler.stats.get_stats(), self.crawler.settings
        params = feeds.run_params(spider)
        warcs = stats.get("archive/files", [])
        return {
            "manifestVersion": MANIFEST_VERSION,
            "crawlId": params["run"],
            "status": status,
            "spider": spider.name,
            "outlet": params["outlet"],
            "editions": feeds.spider_editions(spider),
            "arguments": settings.getdict("NEWSVAULT_SPIDER_ARGS"),
            "startedAt": _iso(stats.get("start_time")) or feeds.run_started_at(params["run"]).isoformat(),
            "finishedAt": _iso(stats.get("finish_time")),
            "finishReason": stats.get("finish_reason"),
            "exitCode": stats.get("newsvault/exit_code"),
            "failures": monitors.failures(stats),
            "counts": counts(stats),
            "fieldCoverage": coverage(stats),
            "files": {
                "items": self.items_files,
                "warc": [{"uri": w} for w in warcs],
                "manifest": self.uri,
            },
            "monitors": stats.get(monitors.MONITORS_STAT, []),
            "errors": self.errors.records,
        }

    def write(self, status: str) -> bool:
        """Write the manifest to its URI; whether it was stored (a failure is logged)."""
        text = json.dumps(self.manifest(status), indent=2, ensure_ascii=False, default=str) + "\n"
        target = local_path(self.uri)
        if target is None:  # s3://: through the items spool, so a manifest S3 refused is uploaded by the next run
            return ItemsSpool.of(self.crawler).write_manifest(self.uri, text)
        try:
            write_atomically(target, text.encode("utf-8"))
        except OSError as error:  # a full disk: one line, and the run's exit code stands
            logging.getLogger(__name__).error("run manifest: could not write %s (%s)", target, error)
            return False
        return True
