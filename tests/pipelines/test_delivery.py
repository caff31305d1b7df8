"""JSONL delivery: to S3 on moto's standalone server over HTTP, and no exported line lost on kill or shutdown."""

import json
import signal
import subprocess
import time
import zlib

import boto3
import pytest
from moto.server import ThreadedMotoServer

from crawlers import items
from tests.pipelines.conftest import REPO, crawl_command, crawl_env

S3_ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture
def s3():
    """A moto S3 server on a free loopback port, with the bucket ``items``; yields (endpoint, client)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{server._server.server_port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test")  # fmt: skip
    client.create_bucket(Bucket="items")
    yield endpoint, client
    server.stop()


def s3_settings(endpoint: str, bucket: str) -> list[str]:
    """The settings of a crawl delivering items (and the manifest) to ``bucket``."""
    return [
        f"ITEMS_URI=s3://{bucket}/%(outlet)s/%(editions)s/%(date)s/%(run)s.jsonl",
        f"AWS_ENDPOINT_URL={endpoint}",
        "AWS_ACCESS_KEY_ID=test",
        "AWS_SECRET_ACCESS_KEY=test",
        "AWS_REGION_NAME=us-east-1",
    ]


def test_jsonl_and_manifest_go_to_s3(crawl, s3):
    endpoint, client = s3
    run = crawl("good", *s3_settings(endpoint, "items"), env=S3_ENV)
    assert run.returncode == 0, run.log[-3000:]
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket="items")["Contents"])
    assert len(keys) == 2, keys
    jsonl_key, manifest_key = keys
    assert jsonl_key.startswith("testoutlet/good/") and jsonl_key.endswith(".jsonl")
    assert manifest_key == jsonl_key.removesuffix(".jsonl") + ".manifest.json"
    lines = client.get_object(Bucket="items", Key=jsonl_key)["Body"].read().decode("utf-8").splitlines()
    assert len(lines) == 5 and all(json.loads(line)["schemaVersion"] == items.SCHEMA_VERSION for line in lines)
    manifest = json.loads(client.get_object(Bucket="items", Key=manifest_key)["Body"].read())
    assert manifest["files"]["items"] == [{"uri": f"s3://items/{jsonl_key}", "items": 5}]
    assert manifest["exitCode"] == 0 and manifest["status"] == "finished"


def test_a_missing_bucket_is_a_storage_failure_exit_5(crawl, s3, tmp_path):
    endpoint, _ = s3
    items_uri = "s3://no-such-bucket/%(run)s.jsonl"
    manifest_uri = f"ITEMS_MANIFEST_URI={tmp_path}/%(run)s.manifest.json"
    run = crawl("good", *s3_settings(endpoint, "x")[1:], f"ITEMS_URI={items_uri}", manifest_uri, env=S3_ENV)
    assert run.returncode == 5, run.log[-3000:]
    manifest = run.manifest()
    assert manifest["failures"] == ["storage"] and manifest["files"]["items"][0]["items"] == 5
    assert any("Error storing" in e["message"] for e in manifest["errors"])


def start_slow_crawl(site, tmp_path, *settings):
    """Start a crawl of the slow edition; return the process once its ``running`` manifest exists."""
    marks = tmp_path / "marks.txt"
    args = crawl_command(site.url, tmp_path, "slow", "CONCURRENT_REQUESTS=1", f"TEST_MARKS_PATH={marks}", *settings)
    proc = subprocess.Popen(args, cwd=REPO, env=crawl_env(tmp_path), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not list(tmp_path.rglob("*.manifest.json")) and time.monotonic() < deadline:
        time.sleep(0.1)
    return proc, marks


def test_a_shut_down_run_exits_7_and_still_writes_its_manifest(site, tmp_path):
    proc, _ = start_slow_crawl(site, tmp_path)
    time.sleep(1.5)
    proc.send_signal(signal.SIGTERM)
    _, log = proc.communicate(timeout=30)
    assert proc.returncode == 7, log[-3000:]
    (path,) = tmp_path.rglob("*.manifest.json")
    manifest = json.loads(path.read_text())
    assert manifest["status"] == "finished" and manifest["finishReason"] == "shutdown"
    assert manifest["failures"][0] == "interrupted"


def read_killed_feed(path) -> bytes:
    """A feed file as a killed run left it: plain, or gzip without its trailer (read as far as it goes)."""
    data = path.read_bytes()
    return zlib.decompressobj(31).decompress(data) if path.name.endswith(".gz.open") else data


@pytest.mark.parametrize("gzip", [False, True], ids=["jsonl", "jsonl.gz"])
def test_kill_9_loses_no_line_of_a_marked_article(site, tmp_path, gzip):
    extensions = '{"tests.pipelines.spiders.MarkScraped": 900}'
    proc, marks = start_slow_crawl(site, tmp_path, f"EXTENSIONS={extensions}", f"ITEMS_GZIP={gzip}")
    deadline = time.monotonic() + 30
    while (not marks.exists() or len(marks.read_text().split()) < 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.kill()
    proc.communicate(timeout=30)
    marked = marks.read_text().split()
    (feed,) = tmp_path.rglob("*.jsonl.gz.open" if gzip else "*.jsonl.open")  # a killed run's feed keeps its name
    exported = [json.loads(line)["id"] for line in read_killed_feed(feed).splitlines()]
    assert len(marked) >= 2 and set(marked) <= set(exported), (marked, exported)
    running = json.loads(next(tmp_path.rglob("*.manifest.json")).read_text())
    assert running["status"] == "running", "a killed run leaves its running manifest"
