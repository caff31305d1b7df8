"""WARC 1.1 records, built and serialized by hand so every byte is under our control.

Why not warcio's ``WARCWriter``: it re-parses and re-serializes the HTTP head, computes the payload digest after
its own de-chunking, leaves ``WARC-Refers-To`` out of revisits and compresses inline on the caller's thread. Here a
record is plain data (:class:`Record`) serialized in one pass; warcio stays our independent *reader* in the tests.
The clock and the record-id factory are injected so tests are byte-exact.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

WARC_VERSION = b"WARC/1.1"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
HTTP_REQUEST_TYPE = "application/http;msgtype=request"
HTTP_RESPONSE_TYPE = "application/http;msgtype=response"
HeaderList = Sequence[tuple[bytes, bytes]]
PROXY_HEADERS = {b"proxy-authorization", b"proxy-connection"}


def sha1_digest(data: bytes) -> str:
    """The WARC digest notation: ``sha1:`` + base32 of the SHA-1."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def normalized_target_uri(value: str) -> str:
    """WARC-Target-URI as warcio normalizes it on reading: WARC 1.0's angle brackets (wget still writes them)
    removed, spaces escaped."""
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    return value.replace(" ", "%20")


def warc_date(moment: datetime) -> str:
    """WARC-Date in UTC with microseconds (WARC 1.1 allows fractional seconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_record_id() -> str:
    """A fresh ``<urn:uuid:…>`` record id."""
    return f"<urn:uuid:{uuid.uuid4()}>"


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


def for_origin(headers: HeaderList) -> list[tuple[bytes, bytes]]:
    """``headers`` without those addressed to a proxy (``Proxy-Authorization``, ``Proxy-Connection``).

    They are hop-by-hop to the proxy, not what the origin server received, and ``Proxy-Authorization`` carries the
    proxy credentials (Scrapy's ``HttpProxyMiddleware`` builds it from ``http(s)_proxy``): never archived.
    """
    return [(name, value) for name, value in headers if name.lower() not in PROXY_HEADERS]


def http_head(start_line: bytes, headers: HeaderList) -> bytes:
    """An HTTP/1.1 message head: start line, one line per (name, value) pair in order, blank line."""
    lines = [start_line, *(name + b": " + value for name, value in headers), b"", b""]
    return b"\r\n".join(lines)


@dataclass(frozen=True)
class Record:
    """One WARC record: named fields (without version and Content-Length) and the block."""

    record_type: str
    record_id: str
    date: str
    fields: list[tuple[str, str]]
    block: bytes
    payload_digest: str | None = None

    def serialize(self) -> bytes:
        """The record's bytes: version line, named fields, Content-Length, blank line, block, CRLF CRLF."""
        head = [WARC_VERSION]
        head += [f"{name}: {value}".encode() for name, value in self.fields]
        head += [b"Content-Length: %d" % len(self.block), b"", b""]
        return b"\r\n".join(head) + self.block + b"\r\n\r\n"


@dataclass(frozen=True)
class CrawlInfo:
    """What a `warcinfo` record says about the crawl (WARC 1.1 annex / IIPC warcinfo recommendations)."""

    software: str
    hostname: str
    ip: str
    operator: str
    user_agent: str
    contact: str
    robots: str
    crawl_id: str
    description: str

    def to_block(self) -> bytes:
        """The `application/warc-fields` block."""
        pairs = [
            ("software", self.software),
            ("format", "WARC File Format 1.1"),
            ("conformsTo", "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"),
            ("hostname", self.hostname),
            ("ip", self.ip),
            ("operator", self.operator),
            ("http-header-user-agent", self.user_agent),
            ("http-header-from", self.contact),
            ("robots", self.robots),
            ("isPartOf", self.crawl_id),
            ("description", self.description),
        ]
        return b"".join(f"{name}: {value}\r\n".encode() for name, value in pairs if value)


@dataclass(frozen=True)
class Original:
    """The earlier response record a revisit refers to."""

    record_id: str
    target_uri: str
    date: str


class RecordBuilder:
    """Builds warcinfo, request/response, revisit, metadata and resource records (injected clock and ids)."""

    def __init__(self, clock: Callable[[], datetime] = utc_now, new_id: Callable[[], str] = new_record_id) -> None:
        self.clock = clock
        self.new_id = new_id

    def _record(
        self,
        record_type: str,
        fields: Iterable[tuple[str, str]],
        block: bytes,
        *,
        date: str | None = None,
        payload_digest: str | None = None,
    ) -> Record:
        record_id, date = self.new_id(), date or warc_date(self.clock())
        named = [("WARC-Type", record_type), ("WARC-Record-ID", record_id), ("WARC-Date", date), *fields]
        return Record(record_type, record_id, date, named, block, payload_digest)

    def warcinfo(self, filename: str, info: CrawlInfo) -> Record:
        """The first record of every file."""
        block = info.to_block()
        fields = [("WARC-Filename", filename), ("Content-Type", "application/warc-fields")]
        return self._record("warcinfo", [*fields, ("WARC-Block-Digest", sha1_digest(block))], block)

    def exchange(
        self,
        uri: str,
        request_block: bytes,
        response_head: bytes,
        body: bytes,
        *,
        ip: str | None = None,
        protocol: str | None = None,
        truncated: str | None = None,
        original: Original | None = None,
        payload_digest: str | None = None,
    ) -> tuple[Record, Record]:
        """A request record and its response (or, when ``original`` is given, revisit) record, same WARC-Date.

        ``body`` is the entity as sent: content-encoding kept, transfer-encoding already removed. A revisit keeps
        only the HTTP head as its block. ``payload_digest``, if given, is ``sha1_digest(body)`` already computed.
        """
        date = warc_date(self.clock())
        payload_digest = payload_digest or sha1_digest(body)  # the caller may have it already (revisit lookup)
        block = response_head if original else response_head + body
        fields = [("WARC-Target-URI", uri)]
        fields += [("WARC-IP-Address", ip)] if ip else []
        fields += [("WARC-Protocol", protocol)] if protocol else []
        if original:
            fields += [
                ("WARC-Profile", REVISIT_PROFILE),
                ("WARC-Refers-To", original.record_id),
                ("WARC-Refers-To-Target-URI", original.target_uri),
                ("WARC-Refers-To-Date", original.date),
            ]
        elif truncated:
            fields.append(("WARC-Truncated", truncated))
        fields += [
            ("Content-Type", HTTP_RESPONSE_TYPE),
            ("WARC-Payload-Digest", payload_digest),
            ("WARC-Block-Digest", sha1_digest(block)),
        ]
        kind = "revisit" if original else "response"
        response = self._record(kind, fields, block, date=date, payload_digest=payload_digest)
        request_fields = [
            ("WARC-Target-URI", uri),
            ("WARC-Concurrent-To", response.record_id),
            ("Content-Type", HTTP_REQUEST_TYPE),
            ("WARC-Block-Digest", sha1_digest(request_block)),
        ]
        request = self._record("request", request_fields, request_block, date=date)
        return request, response

    def metadata(self, uri: str, refers_to: str, payload: bytes, content_type: str = "application/json") -> Record:
        """A metadata record describing (``WARC-Refers-To``) an earlier record, e.g. the extracted item JSON."""
        return self._about("metadata", uri, refers_to, payload, content_type)

    def resource(self, uri: str, refers_to: str, payload: bytes, content_type: str) -> Record:
        """A resource record derived from an earlier record (``WARC-Refers-To``), e.g. a rendered DOM."""
        return self._about("resource", uri, refers_to, payload, content_type, payload_digest=sha1_digest(payload))

    def _about(
        self, kind: str, uri: str, refers_to: str, payload: bytes, content_type: str, payload_digest: str | None = None
    ) -> Record:
        fields = [("WARC-Target-URI", uri), ("WARC-Refers-To", refers_to), ("Content-Type", content_type)]
        fields += [("WARC-Payload-Digest", payload_digest)] if payload_digest else []
        fields.append(("WARC-Block-Digest", sha1_digest(payload)))
        return self._record(kind, fields, payload, payload_digest=payload_digest)
