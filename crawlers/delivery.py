"""When an article counts as delivered, so that the incremental state may record it as done; and exactly once across
a ``kill -9``: what to do with the articles a killed run held.

:class:`DeliveryCheck` says whether an item was delivered whole (its JSONL line and, when archiving, its capture).

Before the feed exporter writes an article's line, the spider *holds* the article in the incremental state
(:meth:`crawlers.state.StateStore.hold`, with the local files the feeds are writing); recording its outcome releases
it. A kill between the line and the record leaves it held. The next run, before anything else, *settles* each held
article from those files: its line is there, so it is recorded as done; or it is not, so it is released and
fetched again. Without this, such an article was emitted twice.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from scrapy.crawler import Crawler
from scrapy.extensions.feedexport import FeedExporter

from crawlers.state import StateStore

logger = logging.getLogger(__name__)

CHUNK = 1 << 16  # bytes read at a time from a feed
GZIP_WBITS = 16 + zlib.MAX_WBITS
# Counted by the items exporter when a line could not be written (a full disk), in its item_scraped handler, which
# runs before the spider's: an article whose line failed is not recorded as done, so the next run fetches it again.
WRITE_FAILURES_STAT = "items/write_failures"


class DeliveryCheck:
    """Whether an item reported by ``item_scraped`` was delivered whole, so that its article may be recorded as done.

    Not when the feed exporter could not write its line (its ``item_scraped`` handler counts
    :data:`WRITE_FAILURES_STAT`; extensions connect theirs when the crawl starts, so before a handler the spider
    connects in ``start()``), nor, when archiving, when its capture was not written (``archive`` null). Either way
    the next run fetches the article again.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler  # its stats exist only once the crawl starts
        self.write_failures = 0  # the feed's failed lines seen so far
        self._exporter: FeedExporter | bool | None = None  # Scrapy's, once looked up (False: none)

    def delivered(self, item: object) -> bool:
        """Call once per scraped item, from an ``item_scraped`` handler connected after the feed exporter's."""
        failures = self.crawler.stats.get_value(WRITE_FAILURES_STAT, 0)
        if failures != self.write_failures:  # the exporter failed on this very item
            self.write_failures = failures
            return False
        if not self._slots():  # no feed could be opened (an unknown %(placeholder)s...): the line went nowhere
            if not self.write_failures:
                logger.error("items: no feed file is open (see the error above); no article is recorded as done")
            self.crawler.stats.inc_value(WRITE_FAILURES_STAT)
            self.write_failures += 1
            return False
        archiving = self.crawler.settings.getbool("ARCHIVE_ENABLED")
        return not (archiving and getattr(item, "archive", None) is None)

    def _slots(self) -> list:
        """The feed exporter's open feeds (none without an exporter)."""
        if self._exporter is None:  # found once: the extensions are built when the crawl starts
            found = [ext for ext in self.crawler.extensions.middlewares if isinstance(ext, FeedExporter)]
            self._exporter = found[0] if found else False
        return self._exporter.slots if self._exporter else []

    def feed_files(self) -> list[str]:
        """The local files the feed exporter is writing (the items spool's for ``s3://`` feeds), for ``hold``."""
        files = []
        for slot in self._slots():
            if slot.file is None:  # opened at its first item, by the exporter's handler, right after the hold
                name = slot.storage.open_path() if hasattr(slot.storage, "open_path") else None
            else:
                stream = getattr(slot.file, "file", slot.file)  # under gzip post-processing, the file it writes to
                name = getattr(stream, "name", None)  # a str or a Path; an int for a file opened from a descriptor
            if isinstance(name, str | os.PathLike):
                files.append(os.fspath(name))
        return files


def feed_ids(path: Path) -> set[str]:
    """The ``id`` of every complete line of a JSONL feed (plain, or gzip cut short by a kill); none if it is gone.

    A ``NAME.open`` file already finalized (renamed to ``NAME``) is read under its final name. A line that is not a
    JSON object with an ``id`` (a damaged file) names no article."""
    for candidate in (path, path.with_name(path.name.removesuffix(".open"))):
        try:
            return {article for line in complete_lines(candidate) if (article := _line_id(line))}
        except FileNotFoundError:
            continue
    return set()


def _line_id(line: bytes) -> str | None:
    try:
        article = orjson.loads(line).get("id") if line.strip() else None
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return article if isinstance(article, str) else None


def complete_lines(path: Path) -> Iterator[bytes]:
    """The complete lines (without their newline) of a JSONL file, plain or gzip (one member or several, the last
    one cut short or not); read in chunks. A damaged gzip stream ends the lines there."""
    gzipped = path.name.endswith((".gz", ".gz.open"))
    inflater = zlib.decompressobj(GZIP_WBITS)
    rest = b""
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            if gzipped:
                try:
                    chunk, inflater = _inflate(inflater, chunk)
                except zlib.error:
                    break
            *lines, rest = (rest + chunk).split(b"\n")
            yield from lines


def _inflate(inflater: Any, data: bytes) -> tuple[bytes, Any]:
    """The bytes ``data`` inflates to, across the ends of gzip members; the inflater for what follows."""
    out = inflater.decompress(data)
    while inflater.eof and inflater.unused_data:  # another member follows (a feed appended to)
        data, inflater = inflater.unused_data, zlib.decompressobj(GZIP_WBITS)
        out += inflater.decompress(data)
    return out, inflater


def settle(state: StateStore) -> tuple[int, int]:
    """Record as done every held article whose line is in its feed files, release the others; (recorded, released)."""
    recorded = released = 0
    ids: dict[str, set[str]] = {}
    for key, url, version, feeds in state.held():
        if any(key in ids.setdefault(feed, feed_ids(Path(feed))) for feed in feeds):
            state.record(key, url, version, emitted=True)
            recorded += 1
        else:
            state.release(key)
            released += 1
    if recorded or released:
        message = "state: %d article(s) held by a killed run: %d with their line written (recorded), %d without"
        logger.info(message, recorded + released, recorded, released)
    return recorded, released
