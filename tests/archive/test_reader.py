"""The re-extraction reader (FastWARC) agrees with warcio on every response record, and survives broken bodies."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.reader import READ_ATTEMPTS, CorruptWarc, StorageReadError, iter_responses, warc_files
from archive.records import http_head
from archive.writer import RotatingWarcWriter
from tests.archive.conftest import INFO
from tests.archive.fixture_warc import build_fixture_warc
from tests.archive.site import ARTICLE_HTML, CHUNKS, serve


def warcio_responses(path) -> list[tuple]:
    """(URL, status, offset, length, decoded body) of each HTTP response record, as warcio reads them."""
    found = []
    with path.open("rb") as stream:
        records = ArchiveIterator(stream)
        for record in records:
            if record.rec_type == "response" and record.http_headers:
                body = record.content_stream().read()
                records.read_to_end(record)
                url, status = record.rec_headers.get_header("WARC-Target-URI"), record.http_headers.get_statuscode()
                found.append((url, int(status), records.get_record_offset(), records.get_record_length(), body))
    return found


def test_every_response_matches_warcios_reading(tmp_path):
    [warc] = build_fixture_warc(tmp_path, copies=2)
    ours = [(r.url, r.status, r.offset, r.length, r.body) for r in iter_responses([str(tmp_path)])]
    assert len(ours) > 2 and ours == warcio_responses(warc)  # the last record's length included
    assert all(b"<html" in body[:500].lower() for *_, body in ours)  # gzip undone


def write_exchanges(folder, bodies: list[tuple[str, bytes, bytes]], extra_headers=lambda url: []):
    """A WARC of (URL, Content-Encoding, body) responses; ``extra_headers(url)`` adds HTTP headers."""
    writer = RotatingWarcWriter(folder, INFO)
    for url, coding, body in bodies:
        headers = [(b"Content-Type", b"text/html"), (b"Content-Encoding", coding), *extra_headers(url)]
        head = http_head(b"HTTP/1.1 200 OK", [*headers, (b"Content-Length", str(len(body)).encode())])
        request = http_head(b"GET / HTTP/1.1", [(b"Host", b"sputnikglobe.com")])
        writer.write(writer.builder.exchange(url, request, head, body, ip="127.0.0.1"))
    return writer.close()


def test_a_bomb_and_a_mislabelled_body_are_flagged_and_the_next_record_is_read(tmp_path):
    page = b"<html><body>after</body></html>"
    bomb = gzip.compress(bytes(8 << 20))
    site = "https://sputnikglobe.com/"
    bodies = {"bomb": bomb, "plain": page, "ok": gzip.compress(page)}  # all labelled gzip
    write_exchanges(tmp_path, [(site + name, b"gzip", body) for name, body in bodies.items()])
    responses = {r.url.rsplit("/", 1)[1]: r for r in iter_responses([str(tmp_path)], max_body=1 << 20)}
    assert "more than 1048576 bytes" in responses["bomb"].undecodable and responses["bomb"].body == bomb
    assert responses["plain"].undecodable.startswith("gzip") and responses["plain"].body == page
    assert responses["ok"].body == page and not responses["ok"].undecodable


def test_long_heads_are_read_and_a_head_beyond_the_limit_is_flagged(tmp_path):
    page = b"<html><body>ok</body></html>"
    heads = {
        "long": [(b"X-Long", b"z" * 70_000)],  # over FastWARC's default limit of 32 KiB
        "flood": [(b"X-Flood-%05d" % n, b"y" * 20) for n in range(5000)],
        "huge": [(b"X-Huge", b"z" * (2 << 20))],
        "after": [],
    }
    site = "https://sputnikglobe.com/"
    write_exchanges(tmp_path, [(site + name, b"identity", page) for name in heads], lambda url: heads[url[len(site) :]])
    responses = {r.url[len(site) :]: r for r in iter_responses([str(tmp_path)])}
    for name in ("long", "flood", "after"):
        assert (responses[name].status, responses[name].body, responses[name].undecodable) == (200, page, "")
    assert "Maximum header length exceeded" in responses["huge"].undecodable and not responses["huge"].body


def corrupted_copy(warc, folder) -> tuple:
    """A copy of ``warc`` with garbage written over its middle: (path, byte where the garbage starts)."""
    data = bytearray(warc.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 5000] = b"GARBAGE!" * 625
    folder.mkdir()
    broken = folder / warc.name.replace("-00000-", "-00001-")
    broken.write_bytes(bytes(data))
    return broken, middle


def test_a_corrupt_file_is_reported_and_the_next_file_is_read(tmp_path):
    [good] = build_fixture_warc(tmp_path / "good")
    broken, garbage = corrupted_copy(good, tmp_path / "broken")
    reports = []
    responses = list(iter_responses([str(broken), str(good)], on_corrupt=lambda *report: reports.append(report)))
    [(uri, offset, error)] = reports
    assert uri == broken.resolve().as_uri() and offset < garbage and isinstance(error, OSError)
    from_broken = [r for r in responses if r.filename == broken.name]
    assert from_broken and all(r.offset + r.length <= garbage for r in from_broken)  # only whole records before it
    assert len(responses) - len(from_broken) == len(warcio_responses(good))
    with pytest.raises(CorruptWarc, match=f"unreadable from byte {offset} on"):
        list(iter_responses([str(broken)]))


class FailingReads(io.BytesIO):
    """A file whose reads fail past ``fail_at`` bytes, as an S3 body does when the connection drops."""

    def __init__(self, data: bytes, fail_at: int) -> None:
        super().__init__(data)
        self.fail_at = fail_at

    def read(self, size: int = -1) -> bytes:
        if self.tell() >= self.fail_at:
            raise ConnectionResetError("connection reset by peer")
        return super().read(size)


def flaky_storage(monkeypatch, data: bytes, fail_at: list[int]) -> list[int]:
    """Local files open as :class:`FailingReads`, the n-th opening failing at ``fail_at[n]``; returns the openings."""
    opened = []

    def open_failing(path, mode="r"):
        opened.append(len(opened))
        return FailingReads(data, fail_at[min(len(opened) - 1, len(fail_at) - 1)])

    monkeypatch.setattr(Path, "open", open_failing)
    return opened


def test_a_storage_failure_reads_the_file_again_without_repeating_a_response(tmp_path, monkeypatch, caplog):
    [warc] = build_fixture_warc(tmp_path, copies=3)
    data = warc.read_bytes()
    expected = [(r.url, r.offset, r.body) for r in iter_responses([str(warc)])]
    opened = flaky_storage(monkeypatch, data, [len(data) // 2, len(data) + 1])
    again = [(r.url, r.offset, r.body) for r in iter_responses([str(warc)])]
    assert again == expected and len(opened) == 2 and "reading it again (2 of 3)" in caplog.text


def test_storage_failing_every_time_is_reported_as_such_not_as_a_corrupt_file(tmp_path, monkeypatch):
    [warc] = build_fixture_warc(tmp_path, copies=3)
    data = warc.read_bytes()
    opened = flaky_storage(monkeypatch, data, [len(data) // 2])
    reports = []
    responses = list(iter_responses([str(warc)], on_corrupt=lambda *report: reports.append(report)))
    [(uri, offset, error)] = reports
    assert uri == warc.resolve().as_uri() and len(opened) == READ_ATTEMPTS
    assert isinstance(error, StorageReadError) and not isinstance(error, CorruptWarc)
    assert responses and responses[-1].offset == offset < len(data) // 2
    with pytest.raises(StorageReadError, match="connection reset by peer"):
        list(iter_responses([str(warc)]))


def test_a_wget_warc_reads_as_warcio_reads_it(tmp_path):
    """wget writes ``<URI>`` targets (WARC 1.0's grammar) and keeps chunked bodies as they came."""
    env = {name: value for name, value in os.environ.items() if "proxy" not in name.lower()}
    with serve() as base_url:
        command = ["wget", "-r", "-l", "1", "-q", "--warc-file", str(tmp_path / "wget"), "-P", str(tmp_path / "files")]
        subprocess.run([*command, f"{base_url}/"], env=env, timeout=60, check=False)
    warc = tmp_path / "wget.warc.gz"
    ours = {r.url: r for r in iter_responses([str(warc)])}
    assert [(r.url, r.status, r.offset, r.length, r.body) for r in ours.values()] == warcio_responses(warc)
    assert ours[f"{base_url}/chunked"].body == b"".join(CHUNKS)  # the chunks, without their sizes
    assert ours[f"{base_url}/article?id=1&lang=ru"].body == ARTICLE_HTML  # gzip undone


def test_broken_chunking_gives_what_it_holds_and_the_next_record_is_read(tmp_path):
    bodies = {"cut": b"a\r\nhel", "plain": b"<html>plain</html>", "after": b"3\r\nabc\r\n0\r\n\r\n"}
    chunked = [(b"Transfer-Encoding", b"chunked")]
    site = "https://sputnikglobe.com/"
    write_exchanges(tmp_path, [(site + name, b"identity", body) for name, body in bodies.items()], lambda _: chunked)
    assert [r.body for r in iter_responses([str(tmp_path)])] == [b"hel", b"<html>plain</html>", b"abc"]


def warcio_written(path, gzip: bool) -> None:
    """A WARC written by warcio itself: warcinfo, responses, revisits and a resource record."""
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=gzip)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "warcio"}))
        for number in range(3):
            body = b"<html>%d</html>" % number
            head = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            url = f"https://sputnikglobe.com/{number}"
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=head))
            writer.write_record(writer.create_revisit_record(url, "sha1:AAAA", url, "2024-01-02T03:04:05Z"))
        dns = writer.create_warc_record("dns:sputnikglobe.com", "resource", payload=io.BytesIO(b"1.2.3.4"))
        writer.write_record(dns)


def test_warcio_written_files_compressed_or_not_read_as_warcio_reads_them(tmp_path):
    warcio_written(tmp_path / "plain.warc", gzip=False)
    warcio_written(tmp_path / "packed.warc.gz", gzip=True)
    (tmp_path / "writing.warc.gz.open").write_bytes(b"not finished")  # skipped
    ours = [(r.url, r.status, r.offset, r.length, r.body) for r in iter_responses([str(tmp_path)])]
    assert ours == warcio_responses(tmp_path / "packed.warc.gz") + warcio_responses(tmp_path / "plain.warc")
    assert len(ours) == 6


class UnreachableS3:
    """An S3 client whose listing fails as botocore's does when the endpoint does not answer (no OSError)."""

    def get_paginator(self, name: str):
        """A paginator that raises on its first page."""
        return self

    def paginate(self, **kwargs):
        """Fail like botocore's EndpointConnectionError."""
        raise RuntimeError('Could not connect to the endpoint URL: "http://127.0.0.1:1/bucket"')


def test_an_s3_uri_without_bucket_or_that_cannot_be_listed_is_a_clear_error():
    with pytest.raises(ValueError, match="s3:// names no bucket"):
        list(warc_files(["s3://"], UnreachableS3))
    with pytest.raises(StorageReadError, match=r"s3://bucket/warc: listing failed \(Could not connect"):
        list(warc_files(["s3://bucket/warc"], UnreachableS3))
