"""Record building: byte-exact serialization with a fixed clock and ids, and the WARC 1.1 fields each type needs."""

from __future__ import annotations

import gzip
import hashlib
from base64 import b32encode

from archive.records import REVISIT_PROFILE, Original, http_head, sha1_digest
from tests.archive.conftest import INFO

BODY = gzip.compress(b"<html><h1>Hi</h1></html>", mtime=0)
REQUEST = http_head(b"GET /a?x=1 HTTP/1.1", [(b"Host", b"example.org"), (b"Accept", b"*/*")])
RESPONSE = http_head(b"HTTP/1.1 200 OK", [(b"Content-Encoding", b"gzip"), (b"Content-Length", b"%d" % len(BODY))])


def fields_of(serialized: bytes) -> dict[str, str]:
    """The named fields of a serialized record."""
    head = serialized.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
    assert head[0] == "WARC/1.1"
    return dict(line.split(": ", 1) for line in head[1:])


def test_warcinfo_is_byte_exact(builder):
    record = builder.warcinfo("f.warc.gz", INFO).serialize()
    block = (
        b"software: newsvault/test\r\nformat: WARC File Format 1.1\r\n"
        b"conformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
        b"hostname: testhost\r\nip: 127.0.0.1\r\noperator: Test Operator\r\n"
        b"http-header-user-agent: newsvault-test/1.0\r\nhttp-header-from: archive@example.org\r\n"
        b"robots: obey\r\nisPartOf: crawl-1\r\ndescription: unit test\r\n"
    )
    expected = (
        b"WARC/1.1\r\nWARC-Type: warcinfo\r\n"
        b"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>\r\n"
        b"WARC-Date: 2024-01-02T03:04:05.000000Z\r\nWARC-Filename: f.warc.gz\r\n"
        b"Content-Type: application/warc-fields\r\nWARC-Block-Digest: " + sha1_digest(block).encode() + b"\r\n"
        b"Content-Length: %d\r\n\r\n" % len(block) + block + b"\r\n\r\n"
    )
    assert record == expected


def test_exchange_pairs_request_and_response(builder):
    request, response = builder.exchange(
        "http://example.org/a?x=1", REQUEST, RESPONSE, BODY, ip="192.0.2.1", protocol="http/1.1"
    )
    req, resp = fields_of(request.serialize()), fields_of(response.serialize())
    assert req["WARC-Concurrent-To"] == resp["WARC-Record-ID"]
    assert req["WARC-Date"] == resp["WARC-Date"]
    assert req["WARC-Target-URI"] == resp["WARC-Target-URI"] == "http://example.org/a?x=1"
    assert resp["WARC-IP-Address"] == "192.0.2.1" and resp["WARC-Protocol"] == "http/1.1"
    assert resp["Content-Type"] == "application/http;msgtype=response"
    assert req["Content-Type"] == "application/http;msgtype=request"
    expected_digest = "sha1:" + b32encode(hashlib.sha1(BODY).digest()).decode()
    assert resp["WARC-Payload-Digest"] == expected_digest == response.payload_digest
    assert int(resp["Content-Length"]) == len(RESPONSE) + len(BODY)
    assert response.serialize().endswith(RESPONSE + BODY + b"\r\n\r\n")
    assert "WARC-Truncated" not in resp


def test_truncated_and_revisit_fields(builder):
    _, truncated = builder.exchange("http://e.org/", REQUEST, RESPONSE, BODY[:5], truncated="disconnect")
    assert fields_of(truncated.serialize())["WARC-Truncated"] == "disconnect"
    original = Original("<urn:uuid:orig>", "http://e.org/first", "2024-01-01T00:00:00.000000Z")
    _, revisit = builder.exchange("http://e.org/again", REQUEST, RESPONSE, BODY, original=original)
    fields = fields_of(revisit.serialize())
    assert fields["WARC-Type"] == "revisit"
    assert fields["WARC-Profile"] == REVISIT_PROFILE
    assert fields["WARC-Refers-To"] == "<urn:uuid:orig>"
    assert fields["WARC-Refers-To-Target-URI"] == "http://e.org/first"
    assert fields["WARC-Refers-To-Date"] == "2024-01-01T00:00:00.000000Z"
    assert fields["WARC-Payload-Digest"] == sha1_digest(BODY)
    assert revisit.block == RESPONSE  # head only


def test_metadata_refers_to_the_response(builder):
    record = builder.metadata("http://e.org/a", "<urn:uuid:resp>", b'{"headline": "x"}')
    fields = fields_of(record.serialize())
    assert fields["WARC-Type"] == "metadata"
    assert fields["WARC-Refers-To"] == "<urn:uuid:resp>"
    assert fields["Content-Type"] == "application/json"
    assert record.serialize().endswith(b'{"headline": "x"}\r\n\r\n')
