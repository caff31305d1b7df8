"""Iterate archived HTTP responses (local files, folders or ``s3://`` URIs) for re-extraction, without network.

Records are read with FastWARC (several times faster than warcio's iterator on the same files, see
``docs/benchmarks.md``); content-codings are undone by :mod:`archive.content`, bounded, as Scrapy does live.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO
from urllib.parse import urlparse

from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType

from archive.content import UndecodableBody, decode_content
from archive.storage import local_path

MAX_BODY = 32 * 1024 * 1024  # the crawl's DOWNLOAD_MAXSIZE: a bigger decoded body never reached the spider


@dataclass(frozen=True)
class ArchivedResponse:
    """One response record: the decoded body and everything an item pointer needs (named as in ``Written``)."""

    url: str
    status: int
    content_type: str
    body: bytes  # content-codings undone; the raw entity when ``undecodable`` says why it could not be
    captured_at: datetime
    date: str  # WARC-Date
    warc_uri: str
    filename: str
    record_id: str
    offset: int
    length: int
    payload_digest: str
    undecodable: str = ""  # why the body's content-coding could not be undone ("" when it was)


Source = tuple[str, IO[bytes], int]  # URI, open stream, size in bytes


def warc_sources(uris: Iterable[str], s3_client: Callable[[], object] | None = None) -> Iterator[Source]:
    """(URI, stream, size) of every ``.warc.gz`` named by ``uris``: files, folders (recursive), S3 keys or prefixes."""
    for uri in uris:
        parsed = urlparse(uri)
        if parsed.scheme == "s3":
            client = s3_client()
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=parsed.netloc, Prefix=parsed.path[1:])
            for page in pages:
                for entry in page.get("Contents", []):
                    if entry["Key"].endswith((".warc.gz", ".warc")):
                        body = client.get_object(Bucket=parsed.netloc, Key=entry["Key"])["Body"]
                        yield f"s3://{parsed.netloc}/{entry['Key']}", body, entry["Size"]
            continue
        path = local_path(uri)
        if path is None:
            raise ValueError(f"unsupported URI {uri!r}: a file, a folder, file://... or s3://bucket/prefix")
        for file in sorted(path.rglob("*.warc.gz")) if path.is_dir() else [path]:
            with file.open("rb") as stream:
                yield file.resolve().as_uri(), stream, file.stat().st_size


def iter_responses(
    uris: Iterable[str], s3_client: Callable[[], object] | None = None, max_body: int = MAX_BODY
) -> Iterator[ArchivedResponse]:
    """Every HTTP response record, body decoded from its content-encoding (transfer-encoding is never stored)."""
    for warc_uri, stream, size in warc_sources(uris, s3_client):
        pending: tuple[WarcRecord, bytes, int] | None = None
        # A record's length is where the next one starts, so each response is yielded once the next record is seen.
        for record in ArchiveIterator(stream, parse_http=False):
            if pending:
                yield _response(*pending, record.stream_pos - pending[2], warc_uri, max_body)
                pending = None
            if record.record_type == WarcRecordType.response and record.headers.get("Content-Type", "").startswith(
                "application/http"
            ):
                offset = record.stream_pos
                record.parse_http()
                pending = (record, record.reader.read(), offset)
        if pending:
            yield _response(*pending, size - pending[2], warc_uri, max_body)


def _response(record: WarcRecord, raw: bytes, offset: int, length: int, warc_uri: str, limit: int) -> ArchivedResponse:
    http, warc = record.http_headers, record.headers
    date = warc.get("WARC-Date")
    try:
        body, undecodable = decode_content(raw, http.get("Content-Encoding", ""), limit), ""
    except UndecodableBody as error:
        body, undecodable = raw, str(error)
    return ArchivedResponse(
        url=warc.get("WARC-Target-URI"),
        status=http.status_code,
        content_type=http.get("Content-Type", ""),
        body=body,
        captured_at=datetime.fromisoformat(date.replace("Z", "+00:00")),
        date=date,
        warc_uri=warc_uri,
        filename=warc_uri.rsplit("/", 1)[-1],
        record_id=warc.get("WARC-Record-ID"),
        offset=offset,
        length=length,
        payload_digest=warc.get("WARC-Payload-Digest", ""),
        undecodable=undecodable,
    )
