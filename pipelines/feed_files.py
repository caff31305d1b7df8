"""The files JSONL feeds write to: every line reaches the OS whole, as soon as it is exported.

So a ``kill -9`` loses no line whose article the incremental state has recorded (the state's handler runs after the
feed exporter's), and a full disk never leaves half a line.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO, Any

from scrapy import Spider
from scrapy.extensions.feedexport import FileFeedStorage
from scrapy.extensions.postprocessing import GzipPlugin


class LineFlushingGzipPlugin(GzipPlugin):
    """Scrapy's gzip post-processing, flushed after every write (the exporter writes one JSON line at a time).

    Without it the compressor held the last lines, whose articles the state had recorded, and a ``kill -9`` lost
    them. A sync flush puts each line's compressed bytes in the file at once, for a few bytes per line. A killed
    run's file then holds every line but lacks the gzip trailer: ``gzip -dc`` reads it all, with a warning.
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


class FlushingFileFeedStorage(FileFeedStorage):
    """Local feed storage whose file is unbuffered: every exported line reaches the OS when it is written.

    The JSON lines exporter writes one line per ``write`` call, so a ``kill -9`` loses no line whose
    ``item_scraped`` handler has run (gzip feeds too: :class:`LineFlushingGzipPlugin`), and a full disk leaves no
    half line (:class:`WholeWritesFile`).
    """

    def open(self, spider: Spider) -> IO[bytes]:
        """Create the parent folder and open the file unbuffered."""
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        return WholeWritesFile(self.path, self.write_mode)
