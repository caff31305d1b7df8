"""Rotating WARC writer: one gzip member per record, ``NAME.open`` until complete, compression on its own thread.

Callers hand over already-built records and get a :class:`~concurrent.futures.Future` back; a single writer
thread compresses (zlib releases the GIL) and writes, so the crawl's reactor thread never waits for gzip or disk.
A file's final name is fixed when it is opened, so pointers into it are valid once it is renamed.

The CDXJ index beside each file is written from the records as they are written (:mod:`archive.cdxj`), not by
reading the finished file back; only a file left by a killed run is re-indexed with cdxj-indexer. The tests check
that both give the same index, byte for byte.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import logging
import os
import queue
import re
import secrets
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from zlib_ng import zlib_ng

from archive.cdxj import cdxj_line, sorted_index
from archive.records import CrawlInfo, Record, RecordBuilder

logger = logging.getLogger(__name__)

OPEN_SUFFIX = ".open"
NAME_RE = re.compile(
    r"^(?P<prefix>.+)-(?P<ts>\d{14})-(?P<serial>\d{5})-(?P<host>[^-]+)-(?P<token>[0-9a-f]+)\.(?:warc\.gz|cdxj|wacz)$"
)


@dataclass(frozen=True)
class Written:
    """Where a record landed: enough for an item pointer or an HTTP Range request."""

    filename: str
    offset: int
    length: int
    record_id: str
    payload_digest: str | None
    date: str


def safe_hostname(name: str | None = None) -> str:
    """The host name as a file-name part: letters, digits and dots only."""
    return re.sub(r"[^A-Za-z0-9.]", "", (name or socket.gethostname()).split(".")[0]) or "host"


def warc_filename(prefix: str, moment: datetime, serial: int, host: str, token: str) -> str:
    """``{prefix}-{YYYYMMDDhhmmss}-{serial:05d}-{host}-{token}.warc.gz`` (unique across processes and machines)."""
    return f"{prefix}-{moment:%Y%m%d%H%M%S}-{serial:05d}-{host}-{token}.warc.gz"


def filename_date(filename: str) -> datetime:
    """The opening time encoded in a WARC file name (drives the date part of storage keys)."""
    match = NAME_RE.match(filename)
    if not match:
        raise ValueError(f"not a newsvault WARC file name: {filename}")
    return datetime.strptime(match["ts"], "%Y%m%d%H%M%S")


def gzip_member(data: bytes, level: int = 6) -> bytes:
    """``data`` as one complete gzip member.

    zlib-ng, not the standard zlib: at the same level the output is as small (within 1%) for 2-2.5x less CPU on
    article pages, the largest single cost of a crawl (docs/benchmarks.md). Any gzip reader reads it.
    """
    compressor = zlib_ng.compressobj(level, zlib_ng.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def complete_members_end(path: Path, chunk_size: int = 1 << 20) -> int:
    """Byte offset just past the last complete, CRC-valid gzip member of ``path`` (0 if there is none)."""
    good_end, consumed = 0, 0
    decompressor = zlib.decompressobj(31)
    with path.open("rb") as stream:
        try:
            while chunk := stream.read(chunk_size):
                consumed += len(chunk)
                while chunk:
                    decompressor.decompress(chunk)
                    if not decompressor.eof:
                        break
                    chunk = decompressor.unused_data
                    good_end = consumed - len(chunk)
                    decompressor = zlib.decompressobj(31)
        except zlib.error:
            pass
    return good_end


def cdxj_path(warc_path: Path) -> Path:
    """The CDXJ index written beside a WARC file."""
    return warc_path.with_name(warc_path.name.removesuffix(OPEN_SUFFIX).removesuffix(".warc.gz") + ".cdxj")


def without_open_suffix(open_path: Path) -> Path:
    """The name a ``NAME.open`` file gets once complete."""
    return open_path.with_name(open_path.name.removesuffix(OPEN_SUFFIX))


def finalize_file(open_path: Path, index_lines: Iterable[str]) -> Path:
    """Write the CDXJ index of a complete ``NAME.open`` file from its lines, then rename index and file.

    The lines are sorted as cdxj-indexer sorts them. The index is renamed first, so a final WARC name always has its
    index beside it.
    """
    final = without_open_suffix(open_path)
    index_open = cdxj_path(final).with_name(cdxj_path(final).name + OPEN_SUFFIX)
    try:
        with index_open.open("w", encoding="utf-8") as stream:
            stream.writelines(sorted_index(index_lines))
    except BaseException:
        index_open.unlink(missing_ok=True)
        raise
    index_open.rename(cdxj_path(final))
    open_path.rename(final)
    return final


def reindex_file(open_path: Path) -> Path:
    """Finalize a complete ``NAME.open`` file left by a killed run (no index lines at hand): cdxj-indexer reads it."""
    from cdxj_indexer.main import write_cdx_index

    index = io.StringIO()
    write_cdx_index(index, [str(open_path)], {"sort": True, "filename": without_open_suffix(open_path).name})
    return finalize_file(open_path, index.getvalue().splitlines(keepends=True))


def is_locked(path: Path) -> bool:
    """True when another live process holds the writer lock on ``path``."""
    with path.open("rb") as stream:
        try:
            fcntl.flock(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(stream, fcntl.LOCK_UN)
    return False


def repair_open_files(directory: Path) -> list[Path]:
    """Finalize ``.open`` files left by a killed run: truncate to the last complete record, then rename.

    Files locked by a live writer are left alone; files with no complete record are removed. Returns the
    finalized (already indexed) paths.
    """
    finalized = []
    for open_path in sorted(directory.glob(f"*.warc.gz{OPEN_SUFFIX}")):
        if is_locked(open_path):
            continue
        end = complete_members_end(open_path)
        if end == 0:
            logger.warning("archive: removing %s, it holds no complete record", open_path)
            open_path.unlink()
            continue
        size = open_path.stat().st_size
        with open_path.open("r+b") as stream:
            stream.truncate(end)
            os.fsync(stream.fileno())
        final = reindex_file(open_path)
        logger.warning("archive: repaired %s (kept %d of %d bytes)", final.name, end, size)
        finalized.append(final)
    return finalized


class _OpenFile:
    """The WARC file currently being written, locked against repair by other processes.

    Unbuffered: what :meth:`append` reports written is in the file, and a failed append leaves nothing in a buffer
    that could land later. ``index_lines`` holds the CDXJ lines of the records appended so far.
    """

    def __init__(self, path: Path, opened_at: float) -> None:
        self.final_path = path
        self.open_path = path.with_name(path.name + OPEN_SUFFIX)
        self.stream = self.open_path.open("xb", buffering=0)
        fcntl.flock(self.stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.size = 0  # end of the last complete gzip member
        self.opened_at = opened_at
        self.index_lines: list[str] = []

    def append(self, members: bytes) -> int:
        """Write complete gzip members; return their offset. On failure, cut the file back to ``size`` and raise."""
        offset = self.size
        try:
            view = memoryview(members)
            while view:
                view = view[self.stream.write(view) :]
        except BaseException:
            with contextlib.suppress(OSError):  # if this fails too, intact() says so; the write error is the news
                self.stream.truncate(offset)
                self.stream.seek(offset)
            raise
        self.size += len(members)
        return offset

    def intact(self) -> bool:
        """True when the file ends exactly after its last complete member (a failed cut-back leaves a torn tail)."""
        try:
            return os.fstat(self.stream.fileno()).st_size == self.size
        except OSError:
            return False

    def finalize(self) -> Path:
        """Fsync, write the index, rename to the final name; the lock is released (file closed) even if this fails."""
        with self.stream:
            os.fsync(self.stream.fileno())
            finalize_file(self.open_path, self.index_lines)
        return self.final_path

    def abandon(self) -> None:
        """Close without finalizing: the ``.open`` file stays for the next run's repair; the lock is released."""
        self.stream.close()


def describe(error: BaseException) -> str:
    """``errno 28 (No space left on device)`` for OS errors, the message otherwise."""
    if isinstance(error, OSError) and error.errno:
        return f"errno {error.errno} ({error.strerror})"
    return f"{type(error).__name__}: {error}"


class RotatingWarcWriter:
    """Writes record groups to rotating ``.warc.gz`` files from a background thread.

    A group (e.g. request + response) always lands in one file, written all or nothing. Rotation happens before a
    group once the file has reached ``max_size`` bytes or ``max_age`` seconds, and on :meth:`close`. ``on_closed``
    receives each finalized path (on the writer thread; hand long work such as uploads to another thread).

    Failures (a full disk) never stop the thread: a group that cannot be written fails its future and the file is
    cut back to its last complete record; a file that cannot be finalized stays as ``NAME.open``, unlocked, for the
    next run's repair. Each is logged and counted in :attr:`failures`.
    """

    def __init__(
        self,
        directory: Path,
        info: CrawlInfo,
        *,
        prefix: str = "newsvault",
        max_size: int = 10**9,
        max_age: float | None = None,
        builder: RecordBuilder | None = None,
        on_closed: Callable[[Path], None] = lambda path: None,
        host: str | None = None,
        new_token: Callable[[], str] = lambda: secrets.token_hex(4),
        level: int = 6,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.info, self.prefix, self.max_size, self.max_age = info, prefix, max_size, max_age
        self.builder = builder or RecordBuilder()
        self.on_closed, self.host, self.new_token, self.level = on_closed, safe_hostname(host), new_token, level
        self.serial = 0
        self.current: _OpenFile | None = None
        self.closed_paths: list[Path] = []
        self.bytes_written = 0  # compressed bytes of every finalized file
        self.failures = 0  # record groups not written and files not finalized
        self._failing = False  # the last write failed: further failures in a row are logged at debug level
        self._queue: queue.Queue[tuple[Sequence[Record], Future] | None] = queue.Queue(maxsize=1000)
        self._thread = threading.Thread(target=self._run, name="warc-writer", daemon=True)
        self._thread.start()

    def write(self, records: Sequence[Record]) -> Future[list[Written]]:
        """Queue a group of records for one file; the future resolves to where each landed (or to the error)."""
        future: Future[list[Written]] = Future()
        self._queue.put((records, future))
        return future

    def close(self) -> list[Path]:
        """Write everything queued, finalize the current file, stop the thread; return every finalized path."""
        self._queue.put(None)
        self._thread.join()
        return self.closed_paths

    def _run(self) -> None:
        while True:
            try:
                job = self._queue.get(timeout=1.0)
            except queue.Empty:
                if self.current and self._too_old():
                    self._rotate()
                continue
            if job is None:
                self._rotate()
                return
            records, future = job
            try:
                written = self._write_group(records)
            except Exception as error:  # reported to the caller through the future
                self._write_failed(len(records), error)
                future.set_exception(error)
            else:
                self._failing = False
                future.set_result(written)

    def _too_old(self) -> bool:
        return self.max_age is not None and time.monotonic() - self.current.opened_at >= self.max_age

    def _write_group(self, records: Sequence[Record]) -> list[Written]:
        if self.current and (self.current.size >= self.max_size or self._too_old()):
            self._rotate()
        if not self.current:
            self._open()
        return self._append(records)

    def _append(self, records: Sequence[Record]) -> list[Written]:
        """Compress, then write the group in one piece: all of it lands in the file, or none; index what landed."""
        members = [gzip_member(record.serialize(), self.level) for record in records]
        offset = self.current.append(b"".join(members))
        name, written, index_lines = self.current.final_path.name, [], []
        for record, member in zip(records, members, strict=True):
            written.append(Written(name, offset, len(member), record.record_id, record.payload_digest, record.date))
            index_lines.append(cdxj_line(record, name, offset, len(member)))
            offset += len(member)
        self.current.index_lines.extend(line for line in index_lines if line)
        return written

    def _open(self) -> None:
        moment = self.builder.clock()
        name = warc_filename(self.prefix, moment, self.serial, self.host, self.new_token())
        self.serial += 1
        self.current = _OpenFile(self.directory / name, time.monotonic())
        try:
            self._append([self.builder.warcinfo(name, self.info)])
        except Exception:  # a file without its warcinfo is not started: remove it
            self.current.abandon()
            self.current.open_path.unlink(missing_ok=True)
            self.current = None
            raise

    def _write_failed(self, count: int, error: Exception) -> None:
        self.failures += 1
        current = self.current
        if current and not current.intact():  # the cut-back failed: later appends would follow a torn record
            current.abandon()
            self.current = None
            kept = f"{current.open_path.name} could not be cut back and is closed for the next run's repair"
        elif current:
            kept = f"{current.open_path.name} is cut back to its last complete record ({current.size} bytes)"
        else:
            kept = "no file could be started"
        level = logging.DEBUG if self._failing else logging.ERROR
        message = "archive: writing %d record(s) failed, %s; %s; these records are not archived"
        logger.log(level, message, count, describe(error), kept)
        self._failing = True

    def _rotate(self) -> None:
        if not self.current:
            return
        current, self.current = self.current, None
        try:
            path = current.finalize()
        except Exception as error:
            self.failures += 1
            logger.error(
                "archive: finalizing %s failed, %s; it stays in %s with %d bytes of complete records, unlocked: "
                "the next run's start repairs, indexes and stores it",
                current.open_path.name,
                describe(error),
                current.open_path.parent,
                current.size,
            )
            return
        self.bytes_written += current.size
        self.closed_paths.append(path)
        try:
            self.on_closed(path)
        except Exception:
            logger.exception("archive: handing %s to storage failed; it stays in %s", path.name, path.parent)
