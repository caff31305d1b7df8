"""S3 storage against moto's standalone server over real HTTP: layout, checksums, no overwrite, spool, SlowDown."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from botocore.awsrequest import AWSResponse
from moto.server import ThreadedMotoServer
from warcio.archiveiterator import ArchiveIterator

from archive.reader import iter_responses
from archive.storage import S3Storage, Uploader, open_storage, s3_client, sha256_of
from archive.writer import RotatingWarcWriter
from tests.archive.conftest import INFO
from tests.archive.fixture_warc import build_fixture_warc, fixture_pages
from tests.archive.test_reextract import reextract

pytestmark = pytest.mark.s3
BUCKET = "archive"


@pytest.fixture
def moto_server(monkeypatch):
    """A moto S3 server on a free loopback port, with dummy credentials in the environment."""
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    settings = {"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_REGION_NAME": "us-east-1"}
    s3_client(settings).create_bucket(Bucket=BUCKET)
    yield server, settings
    server.stop()


def closed_warc(directory: Path, count: int = 3) -> Path:
    """A small finalized WARC file (and its CDXJ) in ``directory``."""
    writer = RotatingWarcWriter(directory, INFO)
    for number in range(count):
        writer.write(writer.builder.exchange(f"http://e.org/{number}", b"GET / HTTP/1.1\r\n\r\n", b"", b"x")).result()
    [path] = writer.close()
    return path


def keys(client, prefix: str) -> list[str]:
    """Every key under ``prefix`` (moto keeps one state for the whole test process)."""
    listing = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(entry["Key"] for entry in listing.get("Contents", []))


def test_upload_layout_checksum_and_no_overwrite(moto_server, tmp_path):
    _, settings = moto_server
    storage = open_storage(f"s3://{BUCKET}/warcs", settings)
    warc = closed_warc(tmp_path)
    content = warc.read_bytes()
    uri = storage.store("sputnik", warc)
    date = warc.name.split("-")[1]
    key = f"warcs/sputnik/{date[:4]}/{date[4:6]}/{date[6:8]}/{warc.name}"
    assert uri == f"s3://{BUCKET}/{key}" and not warc.exists()
    assert storage.client.get_object(Bucket=BUCKET, Key=key)["Body"].read() == content
    warc.write_bytes(content)  # a retry after a crash: same content is accepted, nothing re-sent
    assert storage.store("sputnik", warc) == uri
    warc.write_bytes(content + b"different")
    with pytest.raises(OSError, match="differs"):
        storage.store("sputnik", warc)
    assert warc.exists()  # kept locally, the stored object untouched
    assert storage.client.get_object(Bucket=BUCKET, Key=key)["Body"].read() == content


def test_multipart_upload_is_verified(moto_server, tmp_path):
    _, settings = moto_server
    storage = S3Storage(BUCKET, "", s3_client(settings), part_size=5 * 1024 * 1024)
    warc = closed_warc(tmp_path)
    data = warc.read_bytes() + os.urandom(11 * 1024 * 1024)
    big = tmp_path / warc.name
    big.write_bytes(data)
    (tmp_path / "copy").write_bytes(data)
    uri = storage.store("sputnik", big)
    key = uri.removeprefix(f"s3://{BUCKET}/")
    head = storage.client.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"].split("-")[0] == sha256_of(tmp_path / "copy", 5 * 1024 * 1024).split("-")[0]
    assert head["ContentLength"] == len(data)


def test_server_down_mid_run_spools_then_next_run_uploads(moto_server, tmp_path):
    server, settings = moto_server
    spool = tmp_path / "spool"
    storage = S3Storage(BUCKET, str(tmp_path.name), s3_client(settings, max_attempts=2))
    run = Uploader(storage, spool, "sputnik")
    first = closed_warc(spool)
    run.submit().result()
    assert len(run.stored) == 2 and run.pending() == []  # WARC and CDXJ
    server.stop()
    second = closed_warc(spool)
    run.submit().result()
    assert run.failures == 1 and run.close() == 2  # the WARC and its index wait in the spool
    assert {path.name for path in run.pending()} == {second.name, second.name.replace(".warc.gz", ".cdxj")}
    again = ThreadedMotoServer(ip_address="127.0.0.1", port=server.get_host_and_port()[1])
    again.start()  # same endpoint; moto keeps the bucket's state in this process
    try:
        next_run = Uploader(S3Storage(BUCKET, storage.prefix, s3_client(settings)), spool, "sputnik")
        next_run.submit().result()
        assert next_run.close() == 0 and not list(spool.iterdir())
        stored_keys = keys(next_run.storage.client, storage.prefix)
    finally:
        again.stop()
    names = [key.rsplit("/", 1)[1] for key in stored_keys]
    assert sorted(names) == sorted(
        [first.name, first.name.replace(".warc.gz", ".cdxj"), second.name, second.name.replace(".warc.gz", ".cdxj")]
    )


def test_slowdown_burst_is_retried(moto_server, tmp_path):
    """The first three PutObject calls get a real 503 SlowDown answer from a botocore hook; standard retries win."""
    _, settings = moto_server
    client = s3_client(settings, max_attempts=5)
    calls = []

    def slow_down(request, **kwargs):
        calls.append(request.url)
        if len(calls) <= 3:
            body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
            return AWSResponse(request.url, 503, {"Content-Type": "application/xml"}, _Raw(body))
        return None

    client.meta.events.register("before-send.s3.PutObject", slow_down)
    storage = S3Storage(BUCKET, "", client)
    uri = storage.store("sputnik", closed_warc(tmp_path))
    assert len(calls) == 4
    assert storage.client.head_object(Bucket=BUCKET, Key=uri.removeprefix(f"s3://{BUCKET}/"))["ContentLength"] > 0


class _Raw:
    """The minimal raw stream botocore reads an AWSResponse body from."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs):
        """Yield the body once."""
        yield self.body


@pytest.mark.e2e
def test_crawl_to_s3_pointers_resolve_by_range_and_reextract_reads_s3(moto_server, tmp_path):
    from tests.archive.site import serve
    from tests.archive.test_capture import run_crawl

    _, settings = moto_server
    prefix = f"crawl-{tmp_path.name}"
    with serve() as base_url:
        stats = run_crawl(
            base_url,
            tmp_path,
            ARCHIVE_URI=f"s3://{BUCKET}/{prefix}",
            ARCHIVE_SPOOL_DIR=str(tmp_path / "spool"),
            **settings,
        )
    assert stats["archive/files_stored"] == 2 and stats["archive/files_spooled"] == 0
    assert not list((tmp_path / "spool").rglob("*.gz*"))
    client = s3_client(settings)
    items = [json.loads(line) for line in (tmp_path / "items.jsonl").read_text().splitlines()]
    assert items
    for item in items:
        pointer = item["archive"]
        bucket, key = pointer["warcUri"].removeprefix("s3://").split("/", 1)
        assert bucket == BUCKET and key.startswith(f"{prefix}/capturetest/") and key.endswith(pointer["warcFilename"])
        last = pointer["offset"] + pointer["length"] - 1
        data = client.get_object(Bucket=bucket, Key=key, Range=f"bytes={pointer['offset']}-{last}")["Body"].read()
        [record] = list(ArchiveIterator(io.BytesIO(data)))
        assert record.rec_headers.get_header("WARC-Record-ID") == pointer["recordId"]
    responses = list(iter_responses([f"s3://{BUCKET}/{prefix}/"], lambda: client))
    assert {r.url.rsplit("/", 1)[1] for r in responses} >= {"chunked", "missing", "old"}


def test_a_key_created_by_another_uploader_since_the_check_counts_as_stored(moto_server, tmp_path, monkeypatch):
    _, settings = moto_server
    storage = S3Storage(BUCKET, "race", s3_client(settings))
    warc = closed_warc(tmp_path)
    content = warc.read_bytes()
    uri = storage.store("sputnik", warc)  # the other worker's upload
    warc.write_bytes(content)
    stale, real_checksum = [True], storage._checksum

    def checksum(key: str) -> str | None:
        if stale:  # this worker checked before the other upload landed: the key was not there yet
            stale.clear()
            return None
        return real_checksum(key)

    monkeypatch.setattr(storage, "_checksum", checksum)
    assert storage.store("sputnik", warc) == uri and not warc.exists()  # 412 from If-None-Match, same content
    warc.write_bytes(content + b"other")
    stale.append(True)
    with pytest.raises(OSError, match="differs"):
        storage.store("sputnik", warc)
    assert warc.exists()


def test_reextract_workers_read_warcs_from_s3(moto_server, tmp_path):
    _, settings = moto_server
    client, prefix = s3_client(settings), f"reextract-{tmp_path.name}"
    files = build_fixture_warc(tmp_path / "warc", copies=4, max_size=300_000)
    for path in files:
        client.upload_file(str(path), BUCKET, f"{prefix}/{path.name}")
    options = [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]
    options += ["-s", "AWS_ACCESS_KEY_ID=test", "-s", "AWS_SECRET_ACCESS_KEY=test"]
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / f"items-{workers}.jsonl"
        result = reextract(f"s3://{BUCKET}/{prefix}/", "-o", str(out), "-j", workers, *options)
        assert result.returncode == 0, result.stderr
        outputs.append(out.read_bytes())
    items = [json.loads(line) for line in outputs[0].splitlines()]
    assert outputs[0] == outputs[1] and len(files) >= 3 and len(items) >= 3 * (len(fixture_pages()) - 1)
    uris = {item["archive"]["warcUri"] for item in items}  # the last file may hold only a 404
    assert len(uris) >= 2 and uris <= {f"s3://{BUCKET}/{prefix}/{path.name}" for path in files}


def test_an_unsupported_archive_uri_is_refused_without_echoing_its_password():
    with pytest.raises(ValueError, match=r"unsupported archive URI ftp://\.\.\.") as refused:
        open_storage("ftp://user:s3cretpw@ftp.example/warc", {})
    assert "s3cretpw" not in str(refused.value)
