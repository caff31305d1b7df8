"""Killed runs' local feed files, made whole: a ``NAME.open`` file (see :mod:`pipelines.feed_files`) is cut back to its
complete lines, a gzip one recompressed so that it has its trailer again, and renamed to ``NAME``.

:class:`KilledFeedRepair` does it for a crawl's local feeds when the next run starts; :func:`repair` also serves the
items spool of ``s3://`` feeds.
"""

from __future__ import annotations

import gzip
import logging
import os
import re
from glob import escape, glob
from pathlib import Path
from urllib.parse import unquote, urlparse

from scrapy import signals
from scrapy.crawler import Crawler

from archive.writer import OPEN_SUFFIX, is_locked
from crawlers.delivery import complete_lines
from pipelines.feed_files import staged

logger = logging.getLogger(__name__)

CHUNK = 1 << 16  # bytes read at a time when repairing a killed run's feed
REPAIRED_STAT = "items/feeds_repaired"
_PLACEHOLDER = re.compile(r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-z]")  # %(run)s, %(batch_id)05d...


def repair(open_path: Path) -> Path | None:
    """Finalize a killed run's ``.open`` feed file: keep its complete lines, drop the name's suffix.

    Reads in chunks, however big the feed. Returns the finalized path, or None (file removed) when no complete
    line is left.
    """
    path = open_path.with_name(open_path.name.removesuffix(OPEN_SUFFIX))
    if path.suffix == ".gz":
        tmp = path.with_name(path.name + ".tmp")
        kept = _gzip_complete_lines(open_path, tmp)
        if kept:
            tmp.replace(path)
        else:
            tmp.unlink()
        open_path.unlink()
    else:
        kept = _complete_lines_end(open_path)
        os.truncate(open_path, kept)
        if kept:
            open_path.replace(path)
        else:
            open_path.unlink()
    return path if kept else None


def _complete_lines_end(path: Path) -> int:
    """The offset just past the last newline of a file (0 when it has none), found from the end."""
    with path.open("rb") as stream:
        end = stream.seek(0, os.SEEK_END)
        while end > 0:
            start = max(0, end - CHUNK)
            stream.seek(start)
            newline = stream.read(end - start).rfind(b"\n")
            if newline >= 0:
                return start + newline + 1
            end = start
    return 0


def _gzip_complete_lines(source: Path, target: Path) -> int:
    """Recompress to ``target`` the complete lines a cut gzip stream (a killed run's) inflates to; their size.

    A stream found damaged stops there. (Deflate has no check before the trailer: damage inside the stream may
    inflate to wrong bytes undetected. A killed run's file is cut, not damaged.)"""
    kept = 0
    with gzip.GzipFile(target, "wb", mtime=0) as out:
        for line in complete_lines(source):
            kept += out.write(line + b"\n")
    return kept


def killed_feed_patterns(uri_template: str) -> list[str]:
    """Globs of the ``.open`` files killed runs may have left for a local feed URI template; none for a remote feed.

    The folders are the template's, each placeholder matching within one path segment (so the search stays inside
    the feed's folders); the file name is any with the template's extension, gzipped or not (``ITEMS_GZIP`` may
    have changed between runs, and tests give each run its own literal name).
    """
    parsed = urlparse(uri_template)
    if parsed.scheme not in ("", "file"):
        return []
    path = unquote(parsed.path) if parsed.scheme == "file" else uri_template
    folder, _, name = path.rpartition("/")
    folder = "*".join(escape(part.replace("%%", "%")) for part in _PLACEHOLDER.split(folder))
    last = _PLACEHOLDER.split(name)[-1]
    extension = last[last.find(".") :] if "." in last else ""
    base = extension.removesuffix(".gz")
    prefix = f"{folder}/" if folder else ""
    return [f"{prefix}*{escape(ext)}{OPEN_SUFFIX}" for ext in (base, f"{base}.gz")]


class KilledFeedRepair:
    """Scrapy extension: at start, finalize the ``.open`` files killed runs left for this crawl's local feeds.

    Each is cut back to its complete lines (a gzip file recompressed, so it has its trailer again) and renamed;
    one that a live run holds locked is left alone. Counted in ``items/feeds_repaired``. Runs after the spider's
    own ``spider_opened`` handler, which settles the articles a killed run held from these very files.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KilledFeedRepair:
        """Connected to ``spider_opened``."""
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signals.spider_opened)
        return extension

    def spider_opened(self) -> None:
        """Repair every unlocked ``.open`` file matching a local feed's URI template (in the reactor thread, so that
        this run's own feed files, created and locked later, are never taken for one)."""
        feeds = self.crawler.settings.getdict("FEEDS")
        patterns = {p for uri, options in feeds.items() if staged(options) for p in killed_feed_patterns(str(uri))}
        for path in sorted({Path(found) for pattern in patterns for found in glob(pattern)}):
            if not path.is_file() or is_locked(path):
                continue
            finalized = repair(path)
            self.crawler.stats.inc_value(REPAIRED_STAT)
            outcome = f"finalized as {finalized}" if finalized else "removed: it held no complete line"
            logger.warning("items: %s, left by a killed run, %s", path, outcome)
