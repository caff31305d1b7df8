"""The spool of S3-bound items and manifests: key checks, repair of a killed run's file, lock respect, upload rules.

S3 here is moto's in-process mock (unit tests); the crawls against moto's server are in ``tests/faults``."""

from __future__ import annotations

import fcntl
import logging

import boto3
import pytest
from moto import mock_aws
from scrapy.utils.test import get_crawler

from pipelines.items_spool import ItemsSpool, split_s3_uri

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


def test_a_manifest_the_spool_cannot_hold_is_one_error_line(spool, caplog):
    items_spool, _ = spool
    items_spool.root.mkdir(parents=True)
    (items_spool.root / "manifests").write_text("a file where the spool's manifests folder should be")
    with caplog.at_level(logging.ERROR):
        assert items_spool.write_manifest("s3://items/run/1.manifest.json", "{}") is False
    assert "items spool: manifest s3://items/run/1.manifest.json could not be written" in caplog.text
