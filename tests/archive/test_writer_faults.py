"""The writer on a failing disk (injected, no root needed): a failed group leaves no partial record, later writes
land right after the last complete one, the thread survives, and a file that cannot be finalized is released."""

from __future__ import annotations

import errno
import logging
import os
import threading

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive import writer as writer_module
from archive.writer import RotatingWarcWriter, cdxj_path, complete_members_end, is_locked, repair_open_files
from tests.archive.conftest import INFO, warcio_check
from tests.archive.test_cdxj import cdxj_indexer_index
from tests.archive.test_writer import HEAD

ENOSPC = OSError(errno.ENOSPC, "No space left on device")


class FullDisk:
    """Wraps the writer's file: writes ``budget`` more bytes, then fails with ENOSPC (a short write first)."""

    def __init__(self, stream, budget: int, truncate_fails: bool = False) -> None:
        self.stream, self.budget, self.truncate_fails = stream, budget, truncate_fails

    def write(self, data) -> int:
        if not self.budget:
            raise ENOSPC
        written = self.stream.write(data[: self.budget])
        self.budget -= written
        return written

    def truncate(self, size: int) -> int:
        if self.truncate_fails:
            raise OSError(errno.EIO, "Input/output error")
        return self.stream.truncate(size)

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def pair(writer: RotatingWarcWriter, number: int) -> list:
    return writer.builder.exchange(f"http://e.org/{number}", b"GET / HTTP/1.1\r\n\r\n", HEAD, os.urandom(5000))


def uris(path) -> list[str]:
    return [
        r.rec_headers.get_header("WARC-Target-URI")
        for r in ArchiveIterator(path.open("rb"))
        if r.rec_type != "warcinfo"
    ]


def test_failed_write_is_cut_back_and_later_writes_follow_the_last_complete_record(tmp_path, caplog):
    writer = RotatingWarcWriter(tmp_path, INFO)
    first = writer.write(pair(writer, 1)).result(timeout=10)
    current = writer.current
    end_of_first = current.size
    current.stream = FullDisk(current.stream, budget=700)  # the request record fits, the response half-way
    with caplog.at_level(logging.DEBUG, logger="archive.writer"):
        failed = [writer.write(pair(writer, n)).exception(timeout=10) for n in (2, 3)]
    assert [e.errno for e in failed] == [errno.ENOSPC, errno.ENOSPC]
    assert current.open_path.stat().st_size == end_of_first == complete_members_end(current.open_path)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1  # the second failure in a row is logged at debug level
    assert "errno 28 (No space left on device)" in errors[0].getMessage()
    assert f"{current.open_path.name} is cut back to its last complete record ({end_of_first} bytes)" in caplog.text
    current.stream = current.stream.stream  # space is back
    fourth = writer.write(pair(writer, 4)).result(timeout=10)
    assert fourth[0].offset == end_of_first and fourth[0].filename == first[0].filename
    [path] = writer.close()
    assert writer.failures == 2 and not writer._thread.is_alive()
    warcio_check(path)
    assert uris(path) == ["http://e.org/1", "http://e.org/1", "http://e.org/4", "http://e.org/4"]
    assert cdxj_path(path).read_text() == cdxj_indexer_index(path)  # the failed groups left no index line


def test_a_torn_file_that_cannot_be_cut_back_is_left_for_repair(tmp_path, caplog):
    writer = RotatingWarcWriter(tmp_path, INFO)
    writer.write(pair(writer, 1)).result(timeout=10)
    torn = writer.current
    torn.stream = FullDisk(torn.stream, budget=700, truncate_fails=True)
    with caplog.at_level(logging.ERROR, logger="archive.writer"):
        assert writer.write(pair(writer, 2)).exception(timeout=10).errno == errno.ENOSPC
    assert "could not be cut back and is closed for the next run's repair" in caplog.text
    assert not is_locked(torn.open_path)
    writer.write(pair(writer, 3)).result(timeout=10)  # goes to a new file, never after the torn record
    [path] = writer.close()
    assert path != torn.final_path and uris(path) == ["http://e.org/3", "http://e.org/3"]
    [repaired] = repair_open_files(tmp_path)
    # the repair keeps every complete member: pair 1 and the request of pair 2 (no item points at it), not the torn one
    assert repaired == torn.final_path and uris(repaired) == ["http://e.org/1", "http://e.org/1", "http://e.org/2"]
    warcio_check(repaired)


def test_finalize_failure_at_close_is_logged_and_releases_the_file(tmp_path, caplog, monkeypatch):
    thread_errors = []
    monkeypatch.setattr(threading, "excepthook", thread_errors.append)
    writer = RotatingWarcWriter(tmp_path, INFO)
    writer.write(pair(writer, 1)).result(timeout=10)
    left = writer.current

    def disk_full(path, index_lines):
        raise ENOSPC

    monkeypatch.setattr(writer_module, "finalize_file", disk_full)
    with caplog.at_level(logging.ERROR, logger="archive.writer"):
        assert writer.close() == []
    assert thread_errors == [] and not writer._thread.is_alive() and writer.failures == 1
    assert f"finalizing {left.open_path.name} failed, errno 28" in caplog.text and "next run" in caplog.text
    assert left.stream.closed and not is_locked(left.open_path)
    monkeypatch.undo()
    [repaired] = repair_open_files(tmp_path)
    warcio_check(repaired)
    assert uris(repaired) == ["http://e.org/1", "http://e.org/1"]


def test_a_file_whose_warcinfo_cannot_be_written_is_not_started(tmp_path, monkeypatch):
    writer = RotatingWarcWriter(tmp_path, INFO)
    real_append = writer_module._OpenFile.append
    monkeypatch.setattr(writer_module._OpenFile, "append", lambda self, members: (_ for _ in ()).throw(ENOSPC))
    assert writer.write(pair(writer, 1)).exception(timeout=10).errno == errno.ENOSPC
    assert writer.current is None and not list(tmp_path.iterdir())
    monkeypatch.setattr(writer_module._OpenFile, "append", real_append)
    writer.write(pair(writer, 2)).result(timeout=10)
    [path] = writer.close()
    assert [r.rec_type for r in ArchiveIterator(path.open("rb"))] == ["warcinfo", "request", "response"]


@pytest.mark.parametrize("error", [ENOSPC, ValueError("boom")])
def test_describe_names_the_errno(error):
    text = writer_module.describe(error)
    assert ("errno 28 (No space left on device)" if isinstance(error, OSError) else "ValueError: boom") == text
