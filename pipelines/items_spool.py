"""Items and manifests bound for S3 go through a local spool, as WARC files do: S3 being down or the run being killed
loses none of them.

Scrapy's own S3 feed storage writes to a temporary file and uploads it when the run ends. A failed upload or a
``kill -9`` lost every item of the run, while the incremental state had already marked those articles done.

Here the feed is written unbuffered to ``ITEMS_SPOOL_DIR/items/<bucket>/<key>.open``, locked while its run lives.
When the feed closes, the file is renamed to ``<key>`` and uploaded (SHA-256 verified, an existing key never
replaced), then removed. A file that cannot be uploaded stays in the spool. So does the ``.open`` file of a killed
run, cut back to its last complete line (gzip feeds: the lines that still decompress). Every run first uploads what
earlier runs left there. A manifest that cannot be written waits in ``manifests/<bucket>/<key>``; it replaces the
object when uploaded, since a manifest is rewritten as its run ends.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlparse

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from archive.storage import S3Storage, s3_client
from archive.writer import OPEN_SUFFIX, is_locked
from crawlers.errors import InputError
from pipelines.feed_files import open_locked, report_write_failure
from pipelines.feed_repair import repair

logger = logging.getLogger(__name__)

DEFAULT_SPOOL = "./data/items-spool"  # when ITEMS_SPOOL_DIR is empty
CONTENT_TYPES = {".jsonl": "application/jsonl", ".gz": "application/gzip", ".json": "application/json"}
KINDS = {"items": False, "manifests": True}  # spool folder -> whether its uploads replace an existing object


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of ``s3://bucket/key``; :class:`InputError` (a ValueError) for an empty bucket or key, or any key
    that could leave its spool folder."""
    parsed = urlparse(uri)
    parts = parsed.path.removeprefix("/").split("/")
    if parsed.scheme != "s3" or parsed.netloc in {"", ".", ".."} or {"", ".", ".."} & set(parts):
        raise InputError(f"not a spoolable s3://bucket/key URI: {uri!r}")
    return parsed.netloc, "/".join(parts)


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file whole or not at all (a temporary ``.tmp`` beside it, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


class ItemsSpool:
    """Scrapy extension owning the spool of S3-bound items and manifests (enabled by the items add-on).

    Stats: ``items/files_recovered`` (left by earlier runs, uploaded now), ``items/files_repaired`` (``.open``
    files of killed runs), ``items/files_spooled`` (still waiting when the run ends).
    """

    def __init__(self, crawler: Crawler, root: Path) -> None:
        self.crawler, self.root = crawler, root
        self.attempts = crawler.settings.getint("ARCHIVE_S3_MAX_ATTEMPTS", 8)
        self._buckets: dict[str, S3Storage] = {}
        self._unused: list[tuple[IO[bytes], Path]] = []
        self.kept: set[Path] = set()  # files this run could not upload (others' files are theirs to count)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ItemsSpool:
        """Enabled with a spool folder (``ITEMS_SPOOL_DIR``, default ``./data/items-spool``)."""
        spool = cls(crawler, Path(crawler.settings.get("ITEMS_SPOOL_DIR") or DEFAULT_SPOOL))
        crawler.signals.connect(spool.spider_opened, signals.spider_opened)
        crawler.signals.connect(spool.engine_stopped, signals.engine_stopped)
        return spool

    @staticmethod
    def of(crawler: Crawler) -> ItemsSpool:
        """The crawler's spool extension; NotConfigured when it is not enabled."""
        for extension in crawler.extensions.middlewares:
            if isinstance(extension, ItemsSpool):
                return extension
        raise NotConfigured("s3:// items need the pipelines.items_spool.ItemsSpool extension (ItemsAddon adds it)")

    def path_for(self, kind: str, uri: str) -> Path:
        """Where the file for ``uri`` waits: ``<root>/<kind>/<bucket>/<key>``."""
        bucket, key = split_s3_uri(uri)
        return self.root / kind / bucket / key

    def _storage(self, bucket: str) -> S3Storage:
        if bucket not in self._buckets:
            self._buckets[bucket] = S3Storage(bucket, "", s3_client(self.crawler.settings, self.attempts))
        return self._buckets[bucket]

    def upload(self, kind: str, path: Path) -> str:
        """Upload a spooled file to the key its path names; remove it once stored. Raises on failure."""
        bucket, *key = path.relative_to(self.root / kind).parts
        content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        return self._storage(bucket).store_at(path, "/".join(key), content_type, replace=KINDS[kind])

    def pending(self) -> list[tuple[str, Path]]:
        """Finished files waiting, after repairing the unlocked ``.open`` files of killed runs."""
        found = []
        for kind in KINDS:
            for path in sorted(p for p in (self.root / kind).rglob("*") if p.is_file()):
                if path.name.endswith(OPEN_SUFFIX):
                    if is_locked(path):
                        continue  # a live run's feed
                    path = repair(path)
                    self.crawler.stats.inc_value("items/files_repaired")
                    if path is None:
                        continue
                if not path.name.endswith(".tmp"):
                    found.append((kind, path))
        return found

    def upload_pending(self, waiting: list[tuple[str, Path]]) -> int:
        """Upload waiting files; return how many were stored. The first failure ends the attempt (S3 is likely down,
        and each file would wait through the client's retries again): all the rest wait for the next run."""
        stored = 0
        for index, (kind, path) in enumerate(waiting):
            try:
                uri = self.upload(kind, path)
            except Exception as error:
                if isinstance(error, FileNotFoundError) and not path.exists():
                    continue  # a worker sharing the spool stored it first
                left = [p for _, p in waiting[index:] if p.exists()]
                message = "items spool: could not upload %s (%s); %d file(s) stay in the spool"
                logger.error(message, path, error, len(left))
                self.kept.update(left)
                break
            stored += 1
            logger.info("items spool: uploaded %s, left by an earlier run", uri)
        return stored

    async def spider_opened(self) -> None:
        """Upload what earlier runs left, in a thread; the crawl starts once it is done.

        The spool is listed (and killed runs' files repaired) here, in the reactor thread, so that this run's own new
        feed file, created and locked by the feed exporter's handler of the same signal, is never taken for one."""

        def recover(waiting: list[tuple[str, Path]]) -> None:
            self.crawler.stats.set_value("items/files_recovered", self.upload_pending(waiting))

        await maybe_deferred_to_future(deferToThread(recover, self.pending()))

    def open_path(self, uri: str) -> Path:
        """The ``.open`` file the feed ``uri`` is written to."""
        path = self.path_for("items", uri)
        return path.with_name(path.name + OPEN_SUFFIX)

    def open_feed(self, uri: str) -> IO[bytes]:
        """A new, locked, unbuffered ``.open`` file for the feed ``uri``: each line reaches the OS as it is written."""
        path = self.path_for("items", uri)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            stream = open_locked(self.open_path(uri), "xb")
        except OSError as error:  # counted as a failed line: its article is not recorded as done
            report_write_failure(self.crawler, error)
            raise
        self._unused.append((stream, path))
        return stream

    def store_feed(self, stream: IO[bytes], uri: str) -> str:
        """Close and finalize a feed file, then upload it; on failure it stays in the spool and the error is raised."""
        path = self.path_for("items", uri)
        self._unused = [(s, p) for s, p in self._unused if s is not stream]
        stream.close()
        self.open_path(uri).replace(path)
        try:
            return self.upload("items", path)
        except Exception as error:
            logger.error("items spool: %s kept in %s (%s); the next run uploads it", uri, path, error)
            self.kept.add(path)
            raise

    def write_manifest(self, uri: str, text: str) -> bool:
        """Write a manifest to ``s3://``, replacing the run's previous version; on failure keep it for the next run.
        Whether it was uploaded."""
        path = self.path_for("manifests", uri)
        try:
            write_atomically(path, text.encode("utf-8"))
        except OSError as error:  # the spool's disk: nothing to upload now or later
            logger.error("items spool: manifest %s could not be written to %s (%s)", uri, path, error)
            return False
        try:
            self.upload("manifests", path)
        except Exception as error:
            logger.error("items spool: manifest %s kept in %s (%s); the next run uploads it", uri, path, error)
            self.kept.add(path)
            return False
        return True

    def engine_stopped(self) -> None:
        """Remove the feed files no item was written to; count and report what this run left in the spool."""
        for stream, path in self._unused:  # Scrapy opens a feed at start and never stores an empty one
            stream.close()
            path.with_name(path.name + OPEN_SUFFIX).unlink(missing_ok=True)
        self._unused = []
        waiting = [p for p in self.kept if p.exists()]
        self.crawler.stats.set_value("items/files_spooled", len(waiting))
        if waiting:
            logger.error(
                "items spool: %d file(s) wait in %s for S3; the next run uploads them", len(waiting), self.root
            )


class SpooledS3FeedStorage:
    """Scrapy feed storage for ``s3://`` items through :class:`ItemsSpool` (replaces Scrapy's ``S3FeedStorage``)."""

    def __init__(self, uri: str, crawler: Crawler) -> None:
        split_s3_uri(uri)  # a bad URI fails the run at start, not after the crawl
        self.uri, self.crawler = uri, crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler, uri: str, *, feed_options: dict[str, Any] | None = None):
        """The storage of one feed file (built before the extensions exist, so the spool is looked up later)."""
        return cls(uri, crawler)

    def open(self, spider: Any) -> IO[bytes]:
        """The spool file the exporter writes to."""
        return ItemsSpool.of(self.crawler).open_feed(self.uri)

    def open_path(self) -> str:
        """The spool file :meth:`open` writes (named in the article holds before it is opened)."""
        return str(ItemsSpool.of(self.crawler).open_path(self.uri))

    def store(self, file: IO[bytes]) -> Any:
        """Finalize and upload in a thread (a Deferred; its failure is counted by Scrapy's feed exporter)."""
        return deferToThread(ItemsSpool.of(self.crawler).store_feed, file, self.uri)
