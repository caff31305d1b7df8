"""The files JSONL feeds write to: every line reaches the OS whole, as soon as it is exported; a file under its final
name is complete.

So a ``kill -9`` loses no line whose article the incremental state has recorded (the state's handler runs after the
feed exporter's), and a full disk never leaves half a line. A local feed is written as ``NAME.open``, locked, and
renamed to ``NAME`` when it is stored, as WARC files are: a consumer that loads every ``*.jsonl`` or ``*.jsonl.gz``
of a folder never reads one still being written, nor a killed run's gzip file without its trailer. The next run
finalizes what a killed run left (:class:`KilledFeedRepair`).
"""

from __future__ import annotations

import fcntl
import io
import logging
from pathlib import Path
from typing import IO, Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.extensions.feedexport import FileFeedStorage
from scrapy.extensions.postprocessing import GzipPlugin
from scrapy.utils.defer import deferred_from_coro

from archive.writer import OPEN_SUFFIX
from crawlers.delivery import WRITE_FAILURES_STAT

logger = logging.getLogger(__name__)

ITEMS_FORMAT = "newsvault-jsonlines"  # Scrapy's jsonlines, written by pipelines.feeds.ItemJsonLinesExporter
JSON_LINES_FORMATS = {ITEMS_FORMAT, "jsonlines", "jsonl", "jl"}


class LineFlushingGzipPlugin(GzipPlugin):
    """Scrapy's gzip post-processing, flushed after every write (the exporter writes one JSON line at a time).

    Without it the compressor held the last lines, whose articles the state had recorded, and a ``kill -9`` lost
    them. A sync flush puts each line's compressed bytes in the file at once, for a few bytes per line. A killed
    run's file then holds every line but lacks the gzip trailer, until the next run recompresses it.
    """

    def write(self, data: bytes) -> int:
        """Compress ``data`` and hand it to the file now."""
        written = self.gzipfile.write(data)
        self.gzipfile.flush()
        return written


class WholeWritesFile(io.FileIO):
    """An unbuffered file each ``write`` of which lands whole or not at all.

    A short write (the disk filling up) is completed; if the rest fails, the file is cut back to where that write
    began and the error raised, so a JSONL file never ends with half a line.
    """

    def write(self, data: Any) -> int:
        """Write all of ``data``, or nothing."""
        view, start, done = memoryview(data).cast("B"), self.tell(), 0
        try:
            while done < len(view):
                done += super().write(view[done:]) or 0
        except OSError:
            if done:
                self.truncate(start)
                self.seek(start)
            raise
        return done


def staged(feed_options: dict[str, Any]) -> bool:
    """Whether a feed is JSON lines, written as ``NAME.open`` until stored (other formats are written in place)."""
    return feed_options.get("format") in JSON_LINES_FORMATS


class FlushingFileFeedStorage(FileFeedStorage):
    """Local feed storage writing JSON lines to ``NAME.open``, unbuffered and locked, renamed to ``NAME`` when stored.

    The JSON lines exporter writes one line per ``write`` call, so a ``kill -9`` loses no line whose
    ``item_scraped`` handler has run (gzip feeds too: :class:`LineFlushingGzipPlugin`), and a full disk leaves no
    half line (:class:`WholeWritesFile`). Appending to an existing ``NAME`` (Scrapy's default for local feeds)
    moves it back to ``NAME.open`` first, so a killed run's repair keeps its earlier lines too. A file that cannot
    be opened counts as a failed line (:func:`report_write_failure`), so its article is not recorded as done.
    """

    def __init__(self, uri: str, *, feed_options: dict[str, Any] | None = None, crawler: Crawler | None = None):
        super().__init__(uri, feed_options=feed_options)
        self.crawler = crawler
        self.staged = staged(feed_options or {})

    @classmethod
    def from_crawler(
        cls, crawler: Crawler, uri: str, *, feed_options: dict[str, Any] | None = None
    ) -> FlushingFileFeedStorage:
        """The storage of one feed file, with the crawler to report a failure to."""
        return cls(uri, feed_options=feed_options, crawler=crawler)

    def open(self, spider: Spider) -> IO[bytes]:
        """Create the parent folder; open ``NAME.open`` unbuffered and lock it (one writer per feed file)."""
        path, open_path = Path(self.path), Path(self.open_path())
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if self.staged and open_path.exists():  # a killed run's was finalized at start: a live run writes it
                raise FileExistsError(f"{open_path} exists: another run is writing this feed (give each its own URI)")
            if self.staged and "a" in self.write_mode and path.exists():
                path.replace(open_path)
            stream = open_locked(open_path, self.write_mode) if self.staged else WholeWritesFile(path, self.write_mode)
        except OSError as error:
            report_write_failure(self.crawler, error)
            raise
        return stream

    def open_path(self) -> str:
        """The file :meth:`open` writes (named in the article holds before it is opened)."""
        return self.path + OPEN_SUFFIX if self.staged else self.path

    def store(self, file: IO[bytes]) -> None:
        """Close the file and give it its final name."""
        file.close()
        if self.staged:
            Path(file.name).replace(self.path)


def open_locked(path: Path, mode: str) -> WholeWritesFile:
    """``path`` opened unbuffered (:class:`WholeWritesFile`) and locked for this process (``flock``): a live run's
    ``.open`` file, which no repair touches."""
    stream = WholeWritesFile(path, mode)
    try:
        fcntl.flock(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        stream.close()
        raise
    return stream


def report_write_failure(crawler: Crawler | None, error: OSError) -> None:
    """A feed line could not be written: count it (:data:`~crawlers.delivery.WRITE_FAILURES_STAT`, read before the
    article is recorded as done) and stop the run, with one error line for the first failure."""
    if crawler is None:
        return
    stats = crawler.stats
    if not stats.get_value(WRITE_FAILURES_STAT):
        logger.error(
            "items: a line could not be written (%s); the run stops, and the next run fetches again every article "
            "whose line failed",
            error,
        )
        deferred_from_coro(crawler.engine.close_spider_async(reason="items_write_failed"))
    stats.inc_value(WRITE_FAILURES_STAT)
