"""The re-extraction reader (FastWARC) agrees with warcio on every response record, and survives broken bodies."""

from __future__ import annotations

import gzip

from warcio.archiveiterator import ArchiveIterator

from archive.reader import iter_responses
from archive.records import http_head
from archive.writer import RotatingWarcWriter
from tests.archive.conftest import INFO
from tests.archive.fixture_warc import build_fixture_warc


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


def write_exchanges(folder, bodies: list[tuple[str, bytes, bytes]]):
    """A WARC of (URL, Content-Encoding, body) responses."""
    writer = RotatingWarcWriter(folder, INFO)
    for url, coding, body in bodies:
        headers = [(b"Content-Type", b"text/html"), (b"Content-Encoding", coding)]
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
