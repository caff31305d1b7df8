"""Storage faults: S3 down for a whole crawl (everything waits in the spool, the next crawl uploads it all), a
full spool disk (a 2 MB tmpfs: a clear error, no partial record, finalized WARCs intact, a file that cannot be
finalized released and repaired by the next run, every pointer handed out still valid), a full items disk
(whole JSONL lines only, and every article delivered once over that run and the next), an items file that cannot
be created (no article recorded as done), and an archive folder or a state that cannot be opened (the run stops
at once).
S3 answering 503 SlowDown is covered by ``tests/archive/test_s3.py::test_slowdown_burst_is_retried``."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import subprocess
import sys
import threading
import zlib
from collections import Counter
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from archive.storage import s3_client
from archive.writer import RotatingWarcWriter, Written, complete_members_end, is_locked
from replay.server import free_port
from tests.archive.conftest import INFO, ROOT, warcio_check
from tests.archive.site import serve
from tests.archive.test_capture import run_crawl

BUCKET = "faults"
REQUEST = b"GET / HTTP/1.1\r\nHost: e.org\r\n\r\n"
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n"


@pytest.mark.e2e
def test_s3_down_for_a_whole_run_then_the_next_run_uploads_everything(tmp_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "test")
    port = free_port()
    settings = {
        "ARCHIVE_URI": f"s3://{BUCKET}/down",
        "ARCHIVE_SPOOL_DIR": str(tmp_path / "spool"),
        "ARCHIVE_S3_MAX_ATTEMPTS": 1,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",  # nothing listens there during the first run
        "AWS_REGION_NAME": "us-east-1",
    }
    with serve() as base_url:
        down = run_crawl(base_url, tmp_path / "first", **settings)
        spooled = sorted(p for p in (tmp_path / "spool").rglob("*") if p.is_file())
        assert down["archive/files_stored"] == 0 and down["archive/files_spooled"] >= 1
        assert {p.name.split(".", 1)[1] for p in spooled} == {"warc.gz", "cdxj"}
        for path in spooled:
            if path.name.endswith(".warc.gz"):
                warcio_check(path)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            client = s3_client(settings)
            client.create_bucket(Bucket=BUCKET)
            up = run_crawl(base_url, tmp_path / "second", **settings)
            listing = client.list_objects_v2(Bucket=BUCKET, Prefix="down/")
        finally:
            server.stop()
    stored = {entry["Key"].rsplit("/", 1)[1] for entry in listing.get("Contents", [])}
    assert {p.name for p in spooled} <= stored  # every file of the failed run, uploaded by the next
    assert up["archive/files_spooled"] == 0 and not [p for p in (tmp_path / "spool").rglob("*") if p.is_file()]


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs mounted on a folder of tmp_path (root only)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        if os.environ.get("CI") and os.geteuid() == 0:  # CI runs as root: the test must run there, not skip
            pytest.fail(f"cannot mount a tmpfs as root in CI: {mounted.stderr.decode().strip()}")
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


def fill(directory: Path) -> Path:
    """Take every byte left on the file system of ``directory``; return the filler file."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as stream, contextlib.suppress(OSError):
        while stream.write(b"\0" * 65536):
            pass
    return filler


def resolves(written: Written, directory: Path) -> bool:
    """True when ``length`` bytes at ``offset`` of the named file are one gzip member holding the record."""
    with (directory / written.filename).open("rb") as stream:
        stream.seek(written.offset)
        decompressor = zlib.decompressobj(31)
        record = decompressor.decompress(stream.read(written.length))
    return decompressor.eof and written.record_id.encode() in record


def test_full_spool_disk_gives_a_clear_error_and_no_corrupt_file(small_disk, caplog, monkeypatch):
    thread_errors = []
    monkeypatch.setattr(threading, "excepthook", thread_errors.append)
    spool = small_disk / "spool"
    writer = RotatingWarcWriter(spool, INFO, max_size=600_000)
    with caplog.at_level(logging.ERROR, logger="archive.writer"):
        build = writer.builder.exchange
        exchanges = [build(f"http://e.org/{n}", REQUEST, HEAD, os.urandom(100_000)) for n in range(40)]
        futures = [writer.write(records) for records in exchanges]
        errors = [f.exception(timeout=30) for f in futures]
        failed = [e for e in errors if e is not None]
        assert failed and all(isinstance(e, OSError) and e.errno == errno.ENOSPC for e in failed)
        assert "failed, errno 28 (No space left on device)" in caplog.text
        assert "is cut back to its last complete record" in caplog.text
        open_file = writer.current
        assert open_file.open_path.stat().st_size == open_file.size == complete_members_end(open_file.open_path)
        filler = fill(small_disk)  # the index written at close does not fit either
        writer.close()
    assert f"finalizing {open_file.open_path.name} failed, errno 28" in caplog.text
    assert thread_errors == [] and not writer._thread.is_alive() and writer.failures == len(failed) + 1
    finalized = sorted(spool.glob("*.warc.gz"))
    assert finalized
    for path in finalized:
        warcio_check(path)
    [left_open] = spool.glob("*.warc.gz.open")
    assert left_open == open_file.open_path and not is_locked(left_open) and not list(spool.glob("*.cdxj.open"))
    # once space is back, the next run (another process) finalizes it; every pointer handed out still resolves
    filler.unlink()
    repair = (
        "import sys; from pathlib import Path; from archive.writer import repair_open_files; "
        "print(*repair_open_files(Path(sys.argv[1])))"
    )
    result = subprocess.run([sys.executable, "-c", repair, str(spool)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert not list(spool.glob("*.open"))
    assert result.stdout.split() == [str(left_open).removesuffix(".open")]
    warcio_check(Path(result.stdout.split()[0]))
    pointers = [written for f in futures if not f.exception() for written in f.result()]
    assert pointers and all(resolves(written, spool) for written in pointers)


def test_a_full_items_disk_stops_the_run_with_whole_lines_and_the_next_run_writes_the_rest(small_disk, crawl, site):
    """The Sputnik crawl (state included) writes its JSONL to a disk that fills up after a few items."""
    stats = os.statvfs(small_disk)
    room = 20_000  # two or three articles' lines
    (small_disk / "filler").write_bytes(b"\0" * (stats.f_bavail * stats.f_frsize - room))
    items = small_disk / "items.jsonl"
    first = crawl("editions=en", ITEMS_URI=str(items))
    assert first.returncode == 5, first.log[-3000:]
    assert "items: a line could not be written ([Errno 28] No space left on device); the run stops" in first.log
    assert "run manifest: could not write" in first.log and "handler: <bound method ManifestExtension" not in first.log
    written = [json.loads(line) for line in items.read_text().splitlines()]  # every line whole: no half line
    assert written and items.read_bytes().endswith(b"\n")
    second = crawl("editions=en")  # space elsewhere: the articles whose line failed are fetched again
    assert second.returncode == 0, second.log[-3000:]
    both = written + second.items
    assert sorted(i["url"] for i in both) == sorted(site.expected_articles(("en",), "latest"))
    assert set(Counter(i["id"] for i in both).values()) == {1}


def test_an_items_file_that_cannot_be_created_stops_the_run_and_the_next_run_writes_every_article(crawl, site):
    """The feed's folder cannot be made (a file stands in its way): no article may count as delivered."""
    (crawl.directory / "blocked").write_text("a file where the items folder should be")
    first = crawl("editions=en", ITEMS_URI=str(crawl.directory / "blocked" / "items.jsonl"))
    assert first.returncode == 5, first.log[-3000:]
    assert "items: a line could not be written ([Errno 17] File exists" in first.log
    assert "run manifest: could not write" in first.log and "INFO: run manifest:" not in first.log
    second = crawl("editions=en")
    assert second.returncode == 0, second.log[-3000:]
    assert sorted(i["url"] for i in second.items) == sorted(site.expected_articles(("en",), "latest"))


def test_a_feed_scrapy_cannot_open_records_no_article_and_the_next_run_writes_every_article(crawl, site):
    """An ITEMS_URI placeholder Scrapy does not know: the feed exporter logged a KeyError and opened no feed, the
    state recorded every article as done, the run exited 0, and the next run wrote nothing: all lost."""
    first = crawl("editions=en", ITEMS_URI=str(crawl.directory / "out" / "%(nosuch)s.jsonl"))
    assert first.returncode == 5, first.log[-3000:]
    assert "items: no feed file is open (see the error above); no article is recorded as done" in first.log
    second = crawl("editions=en")
    assert second.returncode == 0, second.log[-3000:]
    assert sorted(i["url"] for i in second.items) == sorted(site.expected_articles(("en",), "latest"))


def test_an_archive_folder_that_cannot_be_created_stops_the_run_before_any_request(crawl, site):
    """Before, the crawl went on without a writer: every item went out unarchived, a traceback per response, exit 0."""
    (crawl.directory / "blocked").write_text("a file where the archive folder should be")
    first = crawl("editions=en", ARCHIVE_URI=str(crawl.directory / "blocked" / "warc"))
    assert first.returncode == 5, first.log[-3000:]
    assert "archive: cannot start in the folder" in first.log and "Spider closed (archive_unavailable)" in first.log
    assert first.requests == [] and first.items == [] and "Traceback" not in first.log.split("[Spidermon]")[0]
    second = crawl("editions=en")
    assert second.returncode == 0, second.log[-3000:]
    assert sorted(i["url"] for i in second.items) == sorted(site.expected_articles(("en",), "latest"))
    assert all(i["archive"] for i in second.items)


@pytest.mark.parametrize("broken", ["no folder", "not a database", "redis without REDIS_URL", "unknown backend"])
def test_a_state_that_cannot_be_opened_stops_the_run_before_any_request(crawl, site, broken):
    """Before, the crawl went on without its state: exit 0, and every run fetched and emitted every article again."""
    settings = {"STATE_BACKEND": "redis"} if broken.startswith("redis") else {}
    settings = {"STATE_BACKEND": "mysql"} if broken == "unknown backend" else settings
    if broken == "no folder":
        (crawl.directory / "blocked").write_text("a file where the state's folder should be")
        settings["STATE_PATH"] = str(crawl.directory / "blocked" / "state.sqlite")
    elif broken == "not a database":
        (crawl.directory / "state.sqlite").write_bytes(b"not a database at all, " * 100)
        settings["STATE_PATH"] = str(crawl.directory / "state.sqlite")
    first = crawl("editions=en", **settings)
    assert first.returncode == 5, first.log[-3000:]
    assert "state: cannot open" in first.log and "Spider closed (state_unavailable)" in first.log
    assert first.requests == [] and first.items == []
    second = crawl("editions=en", STATE_PATH=str(crawl.directory / "state-2.sqlite"))
    assert second.returncode == 0, second.log[-3000:]
    assert sorted(i["url"] for i in second.items) == sorted(site.expected_articles(("en",), "latest"))


def test_a_full_warc_disk_leaves_unarchived_articles_for_the_next_run(small_disk, crawl, site):
    """The Sputnik crawl archives to a disk with room for a few captures; the others' items go out with a null
    ``archive`` and are not recorded as done, so the next run fetches, archives and emits them again."""
    stats = os.statvfs(small_disk)
    (small_disk / "filler").write_bytes(b"\0" * (stats.f_bavail * stats.f_frsize - 24_000))  # a few captures
    first = crawl("editions=en", ARCHIVE_URI=str(small_disk / "warc"))
    assert first.returncode == 5, first.log[-3000:]
    unarchived = sorted(i["url"] for i in first.items if i["archive"] is None)
    assert unarchived and len(unarchived) < len(first.items), "the disk should hold some captures, not all"
    second = crawl("editions=en", ARCHIVE_URI=str(crawl.directory / "warc-later"))
    assert second.returncode == 0, second.log[-3000:]
    assert sorted(i["url"] for i in second.items) == unarchived and all(i["archive"] for i in second.items)
    archived = [i for i in first.items + second.items if i["archive"]]
    assert sorted(i["url"] for i in archived) == sorted(site.expected_articles(("en",), "latest"))
    assert set(Counter(i["id"] for i in archived).values()) == {1}
