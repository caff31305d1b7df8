"""JSONL delivery through Scrapy's own feed exports, and the add-on that wires issue 5's components.

``ItemsAddon`` (in ``ADDONS``) turns ``ITEMS_URI`` / ``ITEMS_BATCH_ITEM_COUNT`` / ``ITEMS_GZIP`` into a ``FEEDS``
entry (jsonlines, UTF-8), and enables validation, dedupe, spidermon monitors and the run manifest. ``s3://`` feeds
go through :mod:`pipelines.items_spool` instead of Scrapy's ``S3FeedStorage``. Everything it sets has the ``addon``
priority, so a project or command-line setting wins.

URI placeholders (besides Scrapy's ``%(name)s``, ``%(time)s``, ``%(batch_id)d``...): ``%(outlet)s`` (spider
attribute ``outlet``, else its name), ``%(editions)s`` (the spider's ``editions``, joined with ``+``, or ``all``),
``%(date)s`` (UTC start date of the run, ``YYYY-MM-DD``) and ``%(run)s`` (the run id, ``NEWSVAULT_RUN_ID``).
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import urlparse

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exporters import JsonLinesItemExporter
from scrapy.extensions.feedexport import apply_uri_params
from scrapy.settings import BaseSettings
from scrapy.utils.misc import load_object

from crawlers.errors import InputError
from crawlers.items import to_json
from pipelines.feed_files import ITEMS_FORMAT, report_write_failure
from pipelines.items_spool import split_s3_uri

_BATCH_PLACEHOLDER = re.compile(r"%\(batch_(id|time)\)")
DELIVERED_SCHEMES = ("", "file", "s3")  # the ITEMS_URI schemes an article's line is written at once for
# Components the add-on enables (dotted paths, so this module imports none of them), with their order.
# Dedupe before the archive pointer (800) so a duplicate gets no metadata record; validate last, so what reaches
# the JSONL, pointer included, is what the schema promises.
PIPELINES = {"pipelines.dedupe.DedupePipeline": 200, "pipelines.validate.ValidatePipeline": 900}
EXTENSIONS = {
    "spidermon.contrib.scrapy.extensions.Spidermon": 500,
    "pipelines.feed_repair.KilledFeedRepair": 800,
    "pipelines.items_spool.ItemsSpool": 900,  # before the manifest: its engine_stopped counts what stays spooled
    "pipelines.manifest.ManifestExtension": 1000,
}


def new_run_id(now: datetime | None = None) -> str:
    """A unique, sortable run id: UTC start time plus random hex, e.g. ``20261126T101500Z-3f9a1c``."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def run_started_at(run_id: str) -> datetime:
    """The UTC start time encoded in a run id from :func:`new_run_id`."""
    return datetime.strptime(run_id.split("-", 1)[0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def spider_editions(spider: Spider) -> list[str]:
    """The edition codes a spider crawls: its ``editions`` attribute (list or comma-separated), else ``[]``."""
    editions = getattr(spider, "editions", None) or []
    if isinstance(editions, str):
        editions = editions.split(",")
    return sorted(str(getattr(e, "code", e)).strip() for e in editions if str(getattr(e, "code", e)).strip())


def run_params(spider: Spider) -> dict[str, str]:
    """The newsvault URI placeholders of the current run."""
    run = spider.crawler.settings["NEWSVAULT_RUN_ID"]
    return {
        "outlet": str(getattr(spider, "outlet", None) or spider.name),
        "editions": "+".join(spider_editions(spider)) or "all",
        "date": f"{run_started_at(run):%Y-%m-%d}",
        "run": run,
    }


def uri_params(params: dict[str, Any], spider: Spider) -> dict[str, Any]:
    """``uri_params`` function of the items feed: Scrapy's parameters plus :func:`run_params`."""
    return {**params, **run_params(spider)}


def render_uri(template: str, spider: Spider) -> str:
    """A URI template rendered for this run, outside the feed exporter (the manifest's location)."""
    params = {"name": spider.name, "time": "", "batch_time": "", "batch_id": 1, **vars(spider), **run_params(spider)}
    return apply_uri_params(template, params)


def check_delivered_uri(setting: str, uri: str) -> str:
    """``uri`` if it is a local path, ``file://`` or a complete ``s3://bucket/key``; :class:`InputError` naming
    ``setting`` otherwise (the scheme only: the URI may hold a password)."""
    scheme = urlparse(uri).scheme
    if scheme not in DELIVERED_SCHEMES:
        raise InputError(f"{setting}: {scheme}:// is not supported; use a local path, file:// or s3://")
    if scheme == "s3":  # an empty bucket or key, or a ".." step, is refused now, not when the first file is written
        try:
            split_s3_uri(uri)
        except InputError as error:
            raise InputError(f"{setting}: {error}") from None
    return uri


def items_feed(settings: BaseSettings) -> tuple[str, dict[str, Any]]:
    """The ``FEEDS`` entry (URI template, options) for the ``ITEMS_*`` settings.

    ``ITEMS_URI`` must be a local path, ``file://`` or ``s3://``: the feeds whose lines count as delivered once
    written (locally, or to the items spool). Scrapy's other storages (``ftp://``...) write to a temporary file
    uploaded at the end of the run, and a failed upload would lose items the state had recorded as done.
    """
    uri = check_delivered_uri("ITEMS_URI", settings["ITEMS_URI"])
    options: dict[str, Any] = {
        "format": ITEMS_FORMAT,
        "encoding": "utf-8",
        "store_empty": False,
        "uri_params": f"{__name__}.uri_params",
    }
    batch = settings.getint("ITEMS_BATCH_ITEM_COUNT")
    if batch > 0:
        options["batch_item_count"] = batch
        if not _BATCH_PLACEHOLDER.search(uri):
            stem, dot, ext = uri.partition(".jsonl")
            uri = f"{stem}-%(batch_id)05d{dot}{ext}"
    if settings.getbool("ITEMS_GZIP"):
        options["postprocessing"] = ["pipelines.feed_files.LineFlushingGzipPlugin"]
        uri = uri if uri.endswith(".gz") else f"{uri}.gz"
    return uri, options


class ItemJsonLinesExporter(JsonLinesItemExporter):
    """Scrapy's JSON lines exporter, each item serialized at once by :func:`crawlers.items.to_json` (orjson).

    The stock exporter adapts every nested dataclass value on its own (``ItemAdapter.asdict``), about 6% of a
    crawl's CPU, then encodes the result in Python; the line written has the same content and key order, in compact
    JSON. Types orjson does not know go through Scrapy's encoder. With ``fields_to_export`` set, or an encoding other
    than UTF-8, it is the stock exporter.

    A line that cannot be written (a full disk) stops the run and counts in ``items/write_failures``
    (:data:`crawlers.delivery.WRITE_FAILURES_STAT`): its article is not recorded as done in the incremental state, so
    the next run fetches it again.
    """

    def __init__(self, file: IO[bytes], *, crawler: Crawler | None = None, **kwargs: Any) -> None:
        super().__init__(file, **kwargs)
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler, file: IO[bytes], **kwargs: Any) -> ItemJsonLinesExporter:
        """The exporter of one feed file, with the crawler to report a failed write to."""
        return cls(file, crawler=crawler, **kwargs)

    def export_item(self, item: Any) -> None:
        """Write one item as one JSON line."""
        try:
            if self.fields_to_export is not None or self.encoding != "utf-8":
                super().export_item(item)
            else:
                self.file.write(to_json(item, default=self.encoder.default) + b"\n")
        except OSError as error:
            report_write_failure(self.crawler, error)
            raise


class ItemsAddon:
    """Scrapy add-on: JSONL feed from ``ITEMS_*``, validation, dedupe, spidermon monitors, run manifest."""

    def update_settings(self, settings: BaseSettings) -> None:
        """Fill in the settings of issue 5's components without overriding the project's own."""
        settings.set("NEWSVAULT_RUN_ID", settings.get("NEWSVAULT_RUN_ID") or new_run_id(), "addon")
        if settings.get("ITEMS_URI"):
            uri, options = items_feed(settings)
            settings.set("FEEDS", {**settings.getdict("FEEDS"), uri: options}, settings.getpriority("FEEDS") or 0)
        elif not settings.getdict("FEEDS"):  # the state would record every article as done, written nowhere
            raise InputError("ITEMS_URI is empty and FEEDS names no feed of your own: the articles would go nowhere")
        # Per key, at add-on priority, inside the dict settings: a project's own FEED_EXPORTERS / FEED_STORAGES keep
        # their keys (and win on ours), and ours survive theirs.
        settings["FEED_EXPORTERS"].set(ITEMS_FORMAT, f"{__name__}.ItemJsonLinesExporter", "addon")
        for scheme in ("", "file"):
            settings["FEED_STORAGES"].set(scheme, "pipelines.feed_files.FlushingFileFeedStorage", "addon")
        settings["FEED_STORAGES"].set("s3", "pipelines.items_spool.SpooledS3FeedStorage", "addon")
        for setting, components in (("ITEM_PIPELINES", PIPELINES), ("EXTENSIONS", EXTENSIONS)):
            for path, order in components.items():
                settings.setdefault_in_component_priority_dict(setting, load_object(path), order)
        settings.set("SPIDERMON_ENABLED", True, "addon")
        settings.set("SPIDERMON_ADD_FIELD_COVERAGE", True, "addon")
        suites = settings.getlist("SPIDERMON_ENGINE_STOP_MONITORS")
        if "pipelines.monitors.RunHealthSuite" not in suites:
            settings.set("SPIDERMON_ENGINE_STOP_MONITORS", [*suites, "pipelines.monitors.RunHealthSuite"], "addon")
