"""Rotating WARC writer: one gzip member per record, ``NAME.open`` until complete, compression on its own thread.

Callers hand over already-built records and get a :class:`~concurrent.futures.Future` back; a single writer
thread compresses (zlib releases the GIL) and writes, so the crawl's reactor thread never waits for gzip or disk.
A file's final name is fixed when it is opened, so pointers into it are valid once it is renamed.
"""

from __future__ import annotations

import fcntl
import logging
import os
import queue
import re
import secrets
import socket
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

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
    """``data`` as one complete gzip member."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
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


def finalize_file(open_path: Path) -> Path:
    """Index a complete ``NAME.open`` file with cdxj-indexer, then rename index and file to their final names.

    The index is renamed first, so a final WARC name always has its index beside it.
    """
    from cdxj_indexer.main import write_cdx_index

    final = open_path.with_name(open_path.name.removesuffix(OPEN_SUFFIX))
    index_open = cdxj_path(final).with_name(cdxj_path(final).name + OPEN_SUFFIX)
    with index_open.open("w", encoding="utf-8") as stream:
        write_cdx_index(stream, [str(open_path)], {"sort": True, "filename": final.name})
    index_open.rename(cdxj_path(final))
    open_path.rename(final)
    return final


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
    finalized paths, for indexing and storage.
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
        final = finalize_file(open_path)
        logger.warning("archive: repaired %s (kept %d of %d bytes)", final.name, end, size)
        finalized.append(final)
    return finalized


class _OpenFile:
    """The WARC file currently being written, locked against repair by other processes."""

    def __init__(self, path: Path, opened_at: float) -> None:
        self.final_path = path
        self.open_path = path.with_name(path.name + OPEN_SUFFIX)
        self.stream = self.open_path.open("xb")
        fcntl.flock(self.stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.size = 0
        self.opened_at = opened_at

    def append(self, member: bytes) -> int:
        """Write one gzip member; return its offset."""
        offset = self.size
        self.stream.write(member)
        self.size += len(member)
        return offset

    def finalize(self) -> Path:
        """Flush, fsync, index, rename to the final name, release the lock."""
        self.stream.flush()
        os.fsync(self.stream.fileno())
        finalize_file(self.open_path)
        self.stream.close()
        return self.final_path


class RotatingWarcWriter:
    """Writes record groups to rotating ``.warc.gz`` files from a background thread.

    A group (e.g. request + response) always lands in one file. Rotation happens before a group once the file has
    reached ``max_size`` bytes or ``max_age`` seconds, and on :meth:`close`. ``on_closed`` receives each finalized
    path (on the writer thread; hand long work such as uploads to another thread).
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
        self._queue: queue.Queue[tuple[Sequence[Record], Future] | None] = queue.Queue(maxsize=1000)
        self._thread = threading.Thread(target=self._run, name="warc-writer", daemon=True)
        self._thread.start()

    def write(self, records: Sequence[Record]) -> Future[list[Written]]:
        """Queue a group of records for one file; the future resolves to where each landed."""
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
                future.set_result(self._write_group(records))
            except Exception as error:  # reported to the caller through the future
                logger.exception("archive: writing records failed")
                future.set_exception(error)

    def _too_old(self) -> bool:
        return self.max_age is not None and time.monotonic() - self.current.opened_at >= self.max_age

    def _write_group(self, records: Sequence[Record]) -> list[Written]:
        if self.current and (self.current.size >= self.max_size or self._too_old()):
            self._rotate()
        if not self.current:
            self._open()
        return [self._append(record) for record in records]

    def _append(self, record: Record) -> Written:
        member = gzip_member(record.serialize(), self.level)
        offset = self.current.append(member)
        name = self.current.final_path.name
        return Written(name, offset, len(member), record.record_id, record.payload_digest, record.date)

    def _open(self) -> None:
        moment = self.builder.clock()
        name = warc_filename(self.prefix, moment, self.serial, self.host, self.new_token())
        self.serial += 1
        self.current = _OpenFile(self.directory / name, time.monotonic())
        self._append(self.builder.warcinfo(name, self.info))

    def _rotate(self) -> None:
        if not self.current:
            return
        self.bytes_written += self.current.size
        path, self.current = self.current.finalize(), None
        self.closed_paths.append(path)
        try:
            self.on_closed(path)
        except Exception:
            logger.exception("archive: handing %s to storage failed; it stays in %s", path.name, path.parent)
