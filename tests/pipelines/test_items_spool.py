"""The spool of S3-bound items and manifests: key checks, repair of a killed run's file, lock respect, upload rules.

S3 here is moto's in-process mock (unit tests); the crawls against moto's server are in ``tests/faults``."""

from __future__ import annotations

import fcntl
import gzip
import logging
import os

import boto3
import pytest
from moto import mock_aws
from scrapy.utils.test import get_crawler

from crawlers import delivery
from pipelines import items_spool
from pipelines.items_spool import ItemsSpool, repair, split_s3_uri

LINES = [b'{"id": "a"}\n', b'{"id": "b"}\n', b'{"id": "c"}\n']


@pytest.mark.parametrize(
    "uri",
    [
        "s3://b/../x.jsonl",
        "s3://b/a/../../x",
        "s3://b/a//x",
        "s3://b//x",
        "s3://b/",
        "s3:///k",
        "s3://b/./x",
        "s3://../x",
        "file:///b/x",
    ],
)
def test_keys_that_could_leave_the_spool_are_refused(uri):
    with pytest.raises(ValueError, match="not a spoolable"):
        split_s3_uri(uri)


def test_a_plain_key_maps_under_its_bucket(tmp_path):
    assert split_s3_uri("s3://items/sputnik/all/2026-11-26/run.jsonl") == ("items", "sputnik/all/2026-11-26/run.jsonl")


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
    monkeypatch.setattr(items_spool, "CHUNK", 5)  # lines span several chunks: plain ones read from the end,
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


@pytest.fixture
def spool(tmp_path, monkeypatch):
    """An ItemsSpool over tmp_path/spool with moto's in-process S3 holding the bucket ``items``."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="items")
        crawler = get_crawler(settings_dict={"ITEMS_SPOOL_DIR": str(tmp_path / "spool"), "ARCHIVE_S3_MAX_ATTEMPTS": 1})
        yield ItemsSpool(crawler, tmp_path / "spool"), client


def body(client, key: str) -> bytes:
    return client.get_object(Bucket="items", Key=key)["Body"].read()


def test_a_stored_feed_is_uploaded_and_leaves_the_spool(spool):
    items_spool, client = spool
    stream = items_spool.open_feed("s3://items/run/1.jsonl")
    stream.write(b"".join(LINES))
    assert items_spool.store_feed(stream, "s3://items/run/1.jsonl") == "s3://items/run/1.jsonl"
    assert body(client, "run/1.jsonl") == b"".join(LINES)
    assert not [p for p in items_spool.root.rglob("*") if p.is_file()]


def test_a_feed_s3_refuses_stays_finalized_and_the_next_run_uploads_it(spool, caplog):
    items_spool, client = spool
    stream = items_spool.open_feed("s3://missing-bucket/run/1.jsonl")
    stream.write(LINES[0])
    with caplog.at_level(logging.ERROR), pytest.raises(Exception, match=r"NoSuchBucket|404|Not Found"):
        items_spool.store_feed(stream, "s3://missing-bucket/run/1.jsonl")
    kept = items_spool.root / "items" / "missing-bucket" / "run" / "1.jsonl"
    assert kept.read_bytes() == LINES[0] and "the next run uploads it" in caplog.text
    other_workers = items_spool.path_for("items", "s3://items/other-worker.jsonl")  # finalized, being uploaded
    other_workers.parent.mkdir(parents=True)
    other_workers.write_bytes(LINES[1])
    items_spool.engine_stopped()
    assert items_spool.crawler.stats.get_value("items/files_spooled") == 1  # this run's file only
    client.create_bucket(Bucket="missing-bucket")
    assert items_spool.upload_pending(items_spool.pending()) == 2  # the next run uploads both
    assert client.get_object(Bucket="missing-bucket", Key="run/1.jsonl")["Body"].read() == LINES[0]


def test_a_live_runs_feed_is_left_alone_and_a_killed_runs_feed_is_repaired(spool):
    items_spool, client = spool
    live = items_spool.path_for("items", "s3://items/live.jsonl").with_suffix(".jsonl.open")
    killed = items_spool.path_for("items", "s3://items/killed.jsonl").with_suffix(".jsonl.open")
    live.parent.mkdir(parents=True)
    killed.write_bytes(LINES[0] + b'{"cut')
    with live.open("wb") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)  # as a running crawl holds its feed
        waiting = items_spool.pending()
        assert waiting == [("items", killed.with_suffix(""))] and live.exists()
        assert items_spool.upload_pending(waiting) == 1
    assert body(client, "killed.jsonl") == LINES[0]


def test_the_first_failed_upload_leaves_the_rest_for_the_next_run(spool, caplog):
    items_spool, _ = spool
    for name in ("a", "b", "c"):
        path = items_spool.path_for("items", f"s3://missing-bucket/{name}.jsonl")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(LINES[0])
    with caplog.at_level(logging.ERROR):
        assert items_spool.upload_pending(items_spool.pending()) == 0
    assert caplog.text.count("could not upload") == 1 and "3 file(s) stay in the spool" in caplog.text
    assert len(items_spool.kept) == 3


def test_an_items_key_is_never_replaced_but_a_manifest_is(spool):
    items_spool, client = spool
    client.put_object(Bucket="items", Key="run/1.jsonl", Body=b"other content\n")
    path = items_spool.path_for("items", "s3://items/run/1.jsonl")
    path.parent.mkdir(parents=True)
    path.write_bytes(LINES[0])
    assert items_spool.upload_pending(items_spool.pending()) == 0
    assert path.exists() and body(client, "run/1.jsonl") == b"other content\n"
    items_spool.write_manifest("s3://items/run/1.manifest.json", '{"status": "running"}')
    items_spool.write_manifest("s3://items/run/1.manifest.json", '{"status": "finished"}')
    assert body(client, "run/1.manifest.json") == b'{"status": "finished"}'
    assert not items_spool.path_for("manifests", "s3://items/run/1.manifest.json").exists()
