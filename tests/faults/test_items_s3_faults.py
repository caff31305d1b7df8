"""Items delivered to S3 (moto's server over HTTP) by the real Sputnik crawl behind the replay, with its incremental
state: S3 down for a whole run, and a kill -9 mid-run. Either way the next run uploads what the first one spooled,
and every article reaches the bucket exactly once (by ``id``)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import time
from collections import Counter

import boto3
import pytest
from moto.server import ThreadedMotoServer

from replay.server import free_port

pytestmark = pytest.mark.e2e
SLOW = {"AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0.15", "CONCURRENT_REQUESTS_PER_DOMAIN": "1"}


@pytest.fixture
def s3_crawl(crawl, monkeypatch):
    """The replay crawler with S3 items on a fixed loopback port (no server yet); returns (crawler, settings, S3Up).

    moto's state lives as long as the test process, so each test has a bucket of its own."""
    port, bucket = free_port(), f"items-{secrets.token_hex(4)}"
    base_env = crawl.env
    monkeypatch.setattr(crawl, "env", lambda: {**base_env(), "NO_PROXY": "127.0.0.1"})  # S3 is not behind the replay
    settings = {
        "ITEMS_URI": f"s3://{bucket}/%(outlet)s/%(run)s.jsonl",
        "ITEMS_MIN_ITEMS": "0",  # the second run may have nothing new
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION_NAME": "us-east-1",
        "ARCHIVE_S3_MAX_ATTEMPTS": "1",
    }
    return crawl, settings, S3Up(port, bucket)


class S3Up:
    """moto's S3 server on ``port`` with ``bucket``, for the length of a ``with`` block."""

    def __init__(self, port: int, bucket: str) -> None:
        self.bucket = bucket
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                                   aws_access_key_id="test", aws_secret_access_key="test")  # fmt: skip

    def __enter__(self) -> S3Up:
        self.server.start()
        self.client.create_bucket(Bucket=self.bucket)
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.stop()

    def objects(self) -> dict[str, bytes]:
        """Every object of the bucket by key."""
        listing = self.client.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return {o["Key"]: self.client.get_object(Bucket=self.bucket, Key=o["Key"])["Body"].read() for o in listing}


def delivered(objects: dict[str, bytes]) -> list[dict]:
    """The items of every JSONL object."""
    lines = [line for key, data in objects.items() if key.endswith(".jsonl") for line in data.splitlines()]
    return [json.loads(line) for line in lines]


def spooled(crawl) -> list:
    """Files waiting in the test directory's items spool."""
    return sorted(p for p in (crawl.directory / "items-spool").rglob("*") if p.is_file())


def test_s3_down_for_a_whole_run_then_every_article_reaches_s3_once(s3_crawl, site):
    crawl, settings, s3_up = s3_crawl
    down = crawl("editions=en", **settings)
    assert down.returncode == 5, down.log[-3000:]  # loud: the items could not be delivered
    assert "the next run uploads it" in down.log
    assert [p.suffix for p in spooled(crawl)] == [".jsonl", ".json"]  # the items and the manifest, finalized
    with s3_up as s3:
        up = crawl("editions=en", **settings)
        objects = s3.objects()
    assert up.returncode == 0, up.log[-3000:]
    assert up.fetched() == [] and not spooled(crawl)
    items = delivered(objects)
    assert sorted(i["url"] for i in items) == sorted(site.expected_articles(("en",), "latest"))
    assert set(Counter(i["id"] for i in items).values()) == {1}
    manifests = [json.loads(v) for k, v in objects.items() if k.endswith(".manifest.json")]
    assert sorted(m["exitCode"] for m in manifests) == [0, 5] and {m["status"] for m in manifests} == {"finished"}


def test_kill_9_with_s3_items_then_a_rerun_delivers_every_article_once(s3_crawl, site):
    crawl, settings, s3_up = s3_crawl
    with s3_up as s3:
        proc, _ = crawl.start("editions=en", **SLOW, **settings)
        deadline = time.monotonic() + 40
        while sum(p.read_bytes().count(b"\n") for p in spooled(crawl) if p.name.endswith(".open")) < 3:
            assert proc.poll() is None, "the crawl ended before it could be killed"
            assert time.monotonic() < deadline, "the kill point was never reached"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert not delivered(s3.objects()), "nothing was uploaded before the kill"
        rerun = crawl("editions=en", **settings)
        objects = s3.objects()
    assert rerun.returncode == 0, rerun.log[-3000:]
    assert "left by an earlier run" in rerun.log and not spooled(crawl)
    assert len([k for k in objects if k.endswith(".jsonl")]) == 2  # the killed run's file, repaired, and the rerun's
    items = delivered(objects)
    assert sorted(i["url"] for i in items) == sorted(site.expected_articles(("en",), "latest"))
    assert set(Counter(i["id"] for i in items).values()) == {1}
