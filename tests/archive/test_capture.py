"""A real crawl (subprocess) of a local site, checked with independent readers: warcio, cdxj-indexer, pywb."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import urllib.request
import zlib
from base64 import b32encode
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.archive.conftest import ROOT, warcio_check
from tests.archive.site import ARTICLE_GZIP, CHUNKS, serve
from tests.pywb import pywb_collection

pytestmark = pytest.mark.e2e


def run_crawl(base_url: str, out: Path, **settings: object) -> dict:
    """Crawl the test site in a subprocess; return the crawl's stats."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.archive.capture_crawl", base_url, str(out), json.dumps(settings)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out.mkdir(parents=True, exist_ok=True)
    (out / "crawl.log").write_text(result.stderr)
    return json.loads(result.stderr.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    """One crawl with WACZ packaging; yields (base URL, output folder, stats, items, records by type)."""
    out = tmp_path_factory.mktemp("capture")
    with serve() as base_url:
        stats = run_crawl(base_url, out, WACZ_ENABLED=True)
        items = [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]
        records = []
        for path in sorted((out / "warc").rglob("*.warc.gz")):
            records += [(path, record, record.content_stream().read()) for record in ArchiveIterator(path.open("rb"))]
        yield base_url, out, stats, items, records


def find(records, rec_type, url_part):
    """The records of a type whose target URI contains ``url_part``."""
    return [
        (r, body)
        for _, r, body in records
        if r.rec_type == rec_type and url_part in (r.rec_headers.get_header("WARC-Target-URI") or "")
    ]


def raw_block(record_path: Path, record_id: str) -> bytes:
    """The un-decoded block of a record, read with warcio's raw stream."""
    for record in ArchiveIterator(record_path.open("rb")):
        if record.rec_headers.get_header("WARC-Record-ID") == record_id:
            return record.raw_stream.read()
    raise AssertionError(record_id)


def test_crawl_logs_no_deprecation_warning(crawl):
    """The capture's close handler is a coroutine: Scrapy 2.19 warns about handlers returning a Deferred."""
    _, out, stats, _, _ = crawl
    log = (out / "crawl.log").read_text()
    assert stats["archive/files_written"] >= 1 and "Spider closed (finished)" in log
    assert "Deprecat" not in log, [line for line in log.splitlines() if "Deprecat" in line]


def test_files_pass_warcio_check_and_have_cdxj(crawl):
    _, out, stats, _, _ = crawl
    warcs = sorted((out / "warc").rglob("*.warc.gz"))
    assert warcs and not list(out.rglob("*.open"))
    for warc in warcs:
        warcio_check(warc)
        index = warc.with_name(warc.name.replace(".warc.gz", ".cdxj")).read_text()
        assert warc.name in index and "/article?id=1&lang=ru" in index
    assert stats["archive/files_spooled"] == 0 and stats["archive/files_stored"] >= 2


def test_request_records_keep_target_host_and_headers(crawl):
    base_url, _, _, _, records = crawl
    [(request, _)] = find(records, "request", "/article?id=1&lang=ru&from=old")
    head = request.http_headers
    assert (head.protocol, head.statusline) == ("GET", "/article?id=1&lang=ru&from=old HTTP/1.1")
    assert head.get_header("Host") == base_url.removeprefix("http://")
    assert head.get_header("Accept-Encoding") and head.get_header("User-Agent")
    assert head.get_header("Referer") == f"{base_url}/old"
    response_id = request.rec_headers.get_header("WARC-Concurrent-To")
    [(response, _)] = [(r, b) for _, r, b in records if r.rec_headers.get_header("WARC-Record-ID") == response_id]
    assert response.rec_headers.get_header("WARC-Date") == request.rec_headers.get_header("WARC-Date")


def test_response_is_raw_gzip_with_all_headers_and_digest_of_bytes_sent(crawl):
    _, _, _, _, records = crawl
    expected = "sha1:" + b32encode(hashlib.sha1(ARTICLE_GZIP).digest()).decode()
    [(path, response)] = [
        (p, r)
        for p, r, _ in records
        if r.rec_type == "response" and r.rec_headers.get_header("WARC-Payload-Digest") == expected
    ]  # the first of /article and /copy to arrive; the other one is a revisit
    assert response.http_headers.get_header("Content-Encoding") == "gzip"
    assert response.http_headers.get_header("Content-Length") == str(len(ARTICLE_GZIP))
    assert [v for k, v in response.http_headers.headers if k == "Set-Cookie"] == ["a=1; Path=/", "b=2; Path=/"]
    assert raw_block(path, response.rec_headers.get_header("WARC-Record-ID")).endswith(ARTICLE_GZIP)
    assert response.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"
    assert response.rec_headers.get_header("WARC-Protocol") == "http/1.1"
    assert not response.rec_headers.get_header("WARC-Target-URI").startswith("<")


def test_chunked_body_is_stored_dechunked_with_true_length(crawl):
    _, _, _, _, records = crawl
    [(response, body)] = find(records, "response", "/chunked")
    assert response.http_headers.get_header("Transfer-Encoding") is None  # Twisted drops it before Scrapy sees it
    assert body == b"".join(CHUNKS)
    assert int(response.http_headers.get_header("Content-Length")) == len(b"".join(CHUNKS)) == len(body)


def test_redirect_404_and_revisit_are_recorded(crawl):
    _, _, _, _, records = crawl
    [(hop, _)] = find(records, "response", "/old")
    assert hop.http_headers.get_statuscode() == "301"
    [(missing, body)] = find(records, "response", "/missing")
    assert missing.http_headers.get_statuscode() == "404" and body == b"not here"
    revisits = [r for _, r, _ in records if r.rec_type == "revisit"]
    originals = {r.rec_headers.get_header("WARC-Record-ID"): r for _, r, _ in records if r.rec_type == "response"}
    assert revisits
    for revisit in revisits:
        original = originals[revisit.rec_headers.get_header("WARC-Refers-To")]
        assert revisit.rec_headers.get_header("WARC-Refers-To-Target-URI") == original.rec_headers.get_header(
            "WARC-Target-URI"
        )
        assert revisit.rec_headers.get_header("WARC-Refers-To-Date") == original.rec_headers.get_header("WARC-Date")
        assert revisit.rec_headers.get_header("WARC-Payload-Digest") == original.rec_headers.get_header(
            "WARC-Payload-Digest"
        )


def test_every_item_pointer_resolves_and_has_a_metadata_record(crawl):
    _, _, _, items, records = crawl
    assert len(items) == 4
    metadata = [
        (r.rec_headers.get_header("WARC-Refers-To"), json.loads(body))
        for _, r, body in records
        if r.rec_type == "metadata"
    ]
    targets = {r.rec_headers.get_header("WARC-Target-URI") for _, r, _ in records if r.rec_type == "metadata"}
    assert targets == {f"urn:item:{item['url']}" for item in items}, "replay tools must not serve the JSON as the page"
    for item in items:
        pointer = item["archive"]
        path = Path(pointer["warcUri"].removeprefix("file://"))
        assert path.name == pointer["warcFilename"] and path.exists()
        with path.open("rb") as stream:
            stream.seek(pointer["offset"])
            data = stream.read(pointer["length"])
        decompressor = zlib.decompressobj(31)
        decompressor.decompress(data)
        assert decompressor.eof and not decompressor.unused_data  # exactly one gzip member
        [record] = list(ArchiveIterator(io.BytesIO(data)))
        assert record.rec_type == "response"
        assert record.rec_headers.get_header("WARC-Record-ID") == pointer["recordId"]
        assert record.rec_headers.get_header("WARC-Payload-Digest") == pointer["payloadDigest"]
        assert record.rec_headers.get_header("WARC-Date") == pointer["capturedAt"]
        assert (pointer["recordId"], item) in metadata  # the item JSON, pointer included, refers to its response


def test_wacz_is_packaged_and_valid(crawl):
    _, out, _, _, _ = crawl
    [wacz] = list((out / "warc").rglob("*.wacz"))
    result = subprocess.run(
        [Path(sys.executable).with_name("wacz"), "validate", "-f", str(wacz)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_pywb_replays_the_article_headline(crawl, tmp_path):
    base_url, out, _, _, _ = crawl
    with pywb_collection(tmp_path, (out / "warc").rglob("*.warc.gz")) as base:
        page = urllib.request.urlopen(f"{base}/mp_/{base_url}/article?id=1&lang=ru", timeout=10).read().decode()
    assert "Зеленые холмы: a headline to replay" in page


def test_response_head_masks_transfer_encoding_and_keeps_repeated_headers():
    from scrapy.http import Response

    from archive.scrapy_adapter import response_head

    headers = [("Transfer-Encoding", "chunked"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
    head = response_head(Response("http://e.org/", status=200, headers=headers, body=b"12345"))
    assert head == (
        b"HTTP/1.1 200 OK\r\nX-Crawler-Transfer-Encoding: chunked\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
        b"Content-Length: 5\r\n\r\n"
    )
