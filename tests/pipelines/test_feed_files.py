"""Local JSON-lines feed files (``pipelines.feed_files``, ``pipelines.feed_repair``): written as ``NAME.open`` (locked)
until stored, a killed run's file finalized by the next run (complete lines kept, gzip recompressed), a file that
cannot be opened counted as a failed line."""

from __future__ import annotations

import fcntl
import gzip
import logging
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy.extensions.feedexport import FeedExporter
from scrapy.utils.test import get_crawler

from archive.writer import is_locked
from crawlers import delivery
from crawlers.delivery import WRITE_FAILURES_STAT, DeliveryCheck, complete_lines
from pipelines import feed_repair
from pipelines.feed_files import ITEMS_FORMAT, FlushingFileFeedStorage
from pipelines.feed_repair import REPAIRED_STAT, KilledFeedRepair, killed_feed_patterns, repair
from pipelines.items_spool import ItemsSpool, SpooledS3FeedStorage

LINES = [b'{"id": "a"}\n', b'{"id": "b"}\n', b'{"id": "c"}\n']
JSONL = {"format": ITEMS_FORMAT}


def test_repair_keeps_the_complete_lines_of_a_killed_feed(tmp_path):
    open_path = tmp_path / "run.jsonl.open"
    open_path.write_bytes(b"".join(LINES) + b'{"id": "d", "cut')
    path = repair(open_path)
    assert path == tmp_path / "run.jsonl" and path.read_bytes() == b"".join(LINES) and not open_path.exists()


def test_repair_of_a_cut_gzip_feed_keeps_what_decompresses(tmp_path):
    lines = b"".join(b'{"id": "%d", "body": "%s"}\n' % (n, os.urandom(50).hex().encode()) for n in range(2000))
    whole = gzip.compress(lines, mtime=0)
    open_path = tmp_path / "run.jsonl.gz.open"
    open_path.write_bytes(whole[: len(whole) // 2])  # the stream stops mid-way, as after a kill -9
    text = gzip.decompress(repair(open_path).read_bytes())
    assert len(text) > len(lines) // 3 and text.endswith(b"\n") and lines.startswith(text)


def test_repair_reads_big_feeds_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(feed_repair, "CHUNK", 5)  # lines span several chunks: plain ones read from the end,
    monkeypatch.setattr(delivery, "CHUNK", 5)  # gzip ones inflated as they are read
    open_path = tmp_path / "run.jsonl.open"
    open_path.write_bytes(b"".join(LINES) + b'{"id": "d", "this line was cut')
    assert repair(open_path).read_bytes() == b"".join(LINES)
    whole = gzip.compress(b"".join(LINES) * 50, mtime=0)
    open_path = tmp_path / "run.jsonl.gz.open"
    open_path.write_bytes(whole[: len(whole) - 8])
    assert gzip.decompress(repair(open_path).read_bytes()) == b"".join(LINES) * 50  # all but the trailer was there


def test_repair_removes_a_feed_without_a_complete_line(tmp_path):
    open_path = tmp_path / "run.jsonl.open"
    open_path.write_bytes(b'{"id": "a", "cut')
    assert repair(open_path) is None and not list(tmp_path.iterdir())


@pytest.mark.parametrize("chunk", [5, 1 << 16])
def test_complete_lines_reads_every_member_of_an_appended_gzip_feed(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(delivery, "CHUNK", chunk)
    second = gzip.compress(b"".join(LINES[1:]) + b'{"id": "d", "cut', mtime=0)
    path = tmp_path / "run.jsonl.gz"
    path.write_bytes(gzip.compress(LINES[0], mtime=0) + second[:-8])  # an earlier run's member, then a killed one's
    assert list(complete_lines(path)) == [line.rstrip(b"\n") for line in LINES]


def storage(path: Path, crawler=None, **options) -> FlushingFileFeedStorage:
    return FlushingFileFeedStorage(str(path), feed_options={**JSONL, **options}, crawler=crawler)


def test_a_feed_is_written_locked_as_open_and_renamed_when_stored(tmp_path):
    path = tmp_path / "items" / "run.jsonl"
    feed = storage(path)
    stream = feed.open(None)
    stream.write(LINES[0])
    open_path = path.with_name("run.jsonl.open")
    assert open_path.read_bytes() == LINES[0] and not path.exists()  # a consumer of *.jsonl never sees it yet
    assert is_locked(open_path)
    feed.store(stream)
    assert path.read_bytes() == LINES[0] and not open_path.exists()


def test_appending_to_a_feed_keeps_its_earlier_lines_in_the_open_file(tmp_path):
    path = tmp_path / "run.jsonl"
    path.write_bytes(LINES[0])
    feed = storage(path)  # Scrapy's default for local feeds: append
    stream = feed.open(None)
    stream.write(LINES[1])
    assert not path.exists() and repair(path.with_name("run.jsonl.open")) == path  # as if killed now
    assert path.read_bytes() == b"".join(LINES[:2])
    stream.close()


def test_overwriting_a_feed_keeps_the_old_file_until_the_new_one_is_stored(tmp_path):
    path = tmp_path / "run.jsonl"
    path.write_bytes(LINES[0])
    feed = storage(path, overwrite=True)  # scrapy crawl -O
    stream = feed.open(None)
    stream.write(LINES[1])
    assert path.read_bytes() == LINES[0]  # a consumer still reads the previous, complete file
    feed.store(stream)
    assert path.read_bytes() == LINES[1] and not list(tmp_path.glob("*.open"))


def test_the_files_being_written_are_named_for_holds_whatever_opened_them(tmp_path):
    """A hold names the files its article's line goes to. Two kinds were left out, and a killed run's article held
    then was fetched and emitted again: a feed file the items spool opened (a ``Path`` name: every ``s3://``
    article), and a file not opened yet (the first article of each feed file: the hold comes first)."""
    spool = ItemsSpool(get_crawler(), tmp_path / "spool")
    exporter = object.__new__(FeedExporter)
    crawler = SimpleNamespace(extensions=SimpleNamespace(middlewares=[exporter, spool]))
    local = storage(tmp_path / "a.jsonl")
    spooled = SpooledS3FeedStorage("s3://items/run/b.jsonl.gz", crawler)
    exporter.slots = [SimpleNamespace(file=None, storage=local), SimpleNamespace(file=None, storage=spooled)]
    expected = [str(tmp_path / "a.jsonl.open"), str(tmp_path / "spool" / "items" / "items" / "run" / "b.jsonl.gz.open")]
    assert DeliveryCheck(crawler).feed_files() == expected  # before the first line
    files = [local.open(None), SimpleNamespace(file=spooled.open(None))]  # under gzip post-processing: .file
    exporter.slots = [SimpleNamespace(file=f, storage=None) for f in files]
    assert DeliveryCheck(crawler).feed_files() == expected  # while they are written
    files[0].close()
    files[1].file.close()


def test_other_formats_are_written_in_place(tmp_path):
    path = tmp_path / "run.json"
    feed = FlushingFileFeedStorage(str(path), feed_options={"format": "json"})
    stream = feed.open(None)
    stream.write(b"[]")
    assert path.read_bytes() == b"[]"
    feed.store(stream)
    assert path.read_bytes() == b"[]" and not list(tmp_path.glob("*.open"))


def crawler_with_engine():
    crawler = get_crawler()
    crawler.stats.open_spider()
    closed: list[str] = []
    crawler.engine = SimpleNamespace(close_spider_async=lambda reason: closed.append(reason))
    return crawler, closed


def test_a_feed_another_live_run_writes_is_refused_and_counted_as_a_failed_line(tmp_path, caplog):
    path = tmp_path / "run.jsonl"
    other = storage(path).open(None)  # a live run's feed, locked
    crawler, closed = crawler_with_engine()
    with caplog.at_level(logging.ERROR), pytest.raises(FileExistsError, match="another run is writing this feed"):
        storage(path, crawler).open(None)
    assert crawler.stats.get_value(WRITE_FAILURES_STAT) == 1 and closed == ["items_write_failed"]
    assert "a line could not be written" in caplog.text
    assert path.with_name("run.jsonl.open").exists()  # the live run's file is untouched
    other.close()


def test_a_feed_that_cannot_be_created_is_counted_as_a_failed_line(tmp_path):
    (tmp_path / "items").write_text("a file where the feed's folder should be")
    crawler, closed = crawler_with_engine()
    with pytest.raises(OSError):
        storage(tmp_path / "items" / "run.jsonl", crawler).open(None)
    assert crawler.stats.get_value(WRITE_FAILURES_STAT) == 1 and closed == ["items_write_failed"]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("./data/items/%(outlet)s/%(editions)s/%(date)s/%(run)s.jsonl", "./data/items/*/*/*/*.jsonl.open"),
        ("/out/%(run)s-%(batch_id)05d.jsonl.gz", "/out/*.jsonl.open"),
        ("file:///out/a%20b/run-2.jsonl", "/out/a b/*.jsonl.open"),
        ("/out/[x]/100%%/%(run)s.jl", "/out/[[]x]/100%/*.jl.open"),
        ("run.jsonl", "*.jsonl.open"),
    ],
)
def test_killed_feed_patterns_stay_in_the_feed_folders(template, expected):
    assert killed_feed_patterns(template) == [expected, expected.replace(".open", ".gz.open")]


def test_killed_feed_patterns_of_a_remote_feed_are_none():
    assert killed_feed_patterns("s3://bucket/%(run)s.jsonl") == []


def test_the_next_run_finalizes_killed_feeds_and_leaves_live_and_other_files_alone(tmp_path, caplog):
    folder = tmp_path / "items" / "sputnik" / "en"
    folder.mkdir(parents=True)
    (folder / "run-1.jsonl.open").write_bytes(b"".join(LINES) + b'{"id": "d", "cut')
    whole = gzip.compress(b"".join(LINES), mtime=0)
    (folder / "run-2.jsonl.gz.open").write_bytes(whole[:-8])
    (folder / "notes.txt.open").write_bytes(b"not a feed")
    live = storage(folder / "run-3.jsonl").open(None)  # another run's, still being written
    template = str(tmp_path / "items" / "%(outlet)s" / "%(editions)s" / "%(run)s.jsonl")
    crawler = get_crawler(settings_dict={"FEEDS": {template: JSONL}})
    crawler.stats.open_spider()
    with caplog.at_level(logging.WARNING):
        KilledFeedRepair(crawler).spider_opened()
    assert (folder / "run-1.jsonl").read_bytes() == b"".join(LINES)
    assert gzip.decompress((folder / "run-2.jsonl.gz").read_bytes()) == b"".join(LINES)  # a trailer again
    assert sorted(p.name for p in folder.glob("*.open")) == ["notes.txt.open", "run-3.jsonl.open"]
    assert crawler.stats.get_value(REPAIRED_STAT) == 2
    assert "run-2.jsonl.gz.open, left by a killed run, finalized as" in caplog.text
    fcntl.flock(live, fcntl.LOCK_UN)
    live.close()
