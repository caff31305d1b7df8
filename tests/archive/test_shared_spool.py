"""Workers sharing one spool (distributed crawls): a file another uploader took is no failure; a missing
destination or a permission error still is."""

from __future__ import annotations

import errno
import logging
import threading
import time
from pathlib import Path

import pytest

from archive.storage import LocalStorage, Uploader, relative_key

OUTLET = "sputnik"


def spool_files(spool: Path, count: int) -> list[str]:
    """``count`` closed WARCs and their indexes in ``spool`` (content is irrelevant to local storage)."""
    spool.mkdir(parents=True, exist_ok=True)
    names = []
    for number in range(count):
        stem = f"newsvault-{OUTLET}-20240102030405-{number:05d}-host-{number:08x}"
        for suffix, content in ((".warc.gz", b"warc %d" % number), (".cdxj", b"cdxj %d" % number)):
            (spool / (stem + suffix)).write_bytes(content)
            names.append(stem + suffix)
    return names


class RacedBy:
    """Local storage that lets another uploader store everything first, once: this uploader's list is then stale."""

    def __init__(self, root: Path, rival: Uploader) -> None:
        self.local, self.rival = LocalStorage(root), rival

    def uri_for(self, outlet: str, filename: str) -> str:
        return self.local.uri_for(outlet, filename)

    def store(self, outlet: str, path: Path) -> str:
        if self.rival:
            self.rival, rival = None, self.rival
            rival.submit().result()
        return self.local.store(outlet, path)


def test_files_taken_by_another_uploader_are_no_failure(tmp_path, caplog):
    spool, root = tmp_path / "spool", tmp_path / "warc"
    names = spool_files(spool, 3)
    winner = Uploader(LocalStorage(root), spool, OUTLET)
    loser = Uploader(RacedBy(root, winner), spool, OUTLET)
    with caplog.at_level(logging.DEBUG, logger="archive.storage"):
        loser.submit().result()
    assert loser.failures == 0 and loser.stored == [] and loser.close() == 0 and winner.close() == 0
    assert len(winner.stored) == len(names) and all((root / relative_key(OUTLET, name)).exists() for name in names)
    assert caplog.text.count("another uploader took it") == len(names)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


class SlowLocal(LocalStorage):
    """Local storage taking a millisecond per file, so two uploaders interleave."""

    def store(self, outlet: str, path: Path) -> str:
        time.sleep(0.001)
        return super().store(outlet, path)


def test_two_uploaders_racing_on_one_spool_store_each_file_once(tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="archive.storage")
    spool, root = tmp_path / "spool", tmp_path / "warc"
    names = spool_files(spool, 150)
    uploaders = [Uploader(SlowLocal(root), spool, OUTLET) for _ in range(2)]
    start = threading.Barrier(2)
    threads = [threading.Thread(target=lambda u=u: (start.wait(), u.submit().result())) for u in uploaders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [u.failures for u in uploaders] == [0, 0] and [u.close() for u in uploaders] == [0, 0]
    stored = [uri for u in uploaders for uri in u.stored]
    assert sorted(stored) == sorted((root / relative_key(OUTLET, name)).as_uri() for name in names)
    assert "another uploader took it" in caplog.text  # the race happened
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


class Broken:
    """Storage failing with ``error`` while the spooled file is still there."""

    def __init__(self, error: OSError) -> None:
        self.error = error

    def uri_for(self, outlet: str, filename: str) -> str:
        return f"file:///mnt/archive/{filename}"

    def store(self, outlet: str, path: Path) -> str:
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        FileNotFoundError(errno.ENOENT, "No such file or directory", "/mnt/archive/sputnik"),
        PermissionError(errno.EACCES, "Permission denied", "/mnt/archive/sputnik"),
    ],
)
def test_missing_destination_or_permission_error_still_counts(tmp_path, caplog, error):
    spool = tmp_path / "spool"
    names = spool_files(spool, 1)
    uploader = Uploader(Broken(error), spool, OUTLET)
    with caplog.at_level(logging.WARNING, logger="archive.storage"):
        uploader.submit().result()
    assert uploader.failures == 1 and "could not store" in caplog.text and error.strerror in caplog.text
    assert uploader.close() == len(names)
