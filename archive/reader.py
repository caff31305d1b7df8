"""Iterate archived HTTP responses (local files, folders or ``s3://`` URIs) for re-extraction, without network.

Records are read with FastWARC (several times faster than warcio's iterator on the same files, see
``docs/benchmarks.md``); content-codings are undone by :mod:`archive.content`, bounded, as Scrapy does live.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import IO
from urllib.parse import urlparse

from fastwarc.warc import ArchiveIterator, HeaderMap, WarcRecord, WarcRecordType

from archive.content import UndecodableBody, dechunk, decode_content
from archive.records import normalized_target_uri
from archive.storage import local_path, s3_location

MAX_BODY = 32 * 1024 * 1024  # the crawl's DOWNLOAD_MAXSIZE: a bigger decoded body never reached the spider
WARC_SUFFIXES = (".warc.gz", ".warc")  # in folders and S3 prefixes; not ".open" files still being written
MAX_HTTP_HEAD = 1 << 20  # FastWARC's default, 32 KiB, is below heads that servers send and crawls archive
READ_ATTEMPTS = 3  # reads of a file whose storage failed (the S3 client retries each request on its own too)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArchivedResponse:
    """One response record: the decoded body and everything an item pointer needs (named as in ``Written``)."""

    url: str
    status: int
    content_type: str
    body: bytes  # chunked and content-codings undone; the raw entity when ``undecodable`` says why it could not be
    captured_at: datetime
    date: str  # WARC-Date
    warc_uri: str
    filename: str
    record_id: str
    offset: int
    length: int
    payload_digest: str
    undecodable: str = ""  # why the HTTP head or the body's content-coding could not be read ("" when they were)


def warc_files(uris: Iterable[str], s3_client: Callable[[], object] | None = None) -> Iterator[tuple[str, int]]:
    """(URI, size) of every WARC file named by ``uris``: files, folders (recursive), S3 keys or prefixes."""
    for uri in uris:
        if urlparse(uri).scheme == "s3":
            bucket, path = s3_location(uri)
            yield from _s3_warc_files(bucket, path[1:], s3_client)
            continue
        path = local_path(uri)
        if path is None:
            scheme = urlparse(uri).scheme  # the scheme only: the URI may hold a password
            raise ValueError(f"unsupported URI {scheme}://...: a file, a folder, file://... or s3://bucket/prefix")
        found = sorted(f for f in path.rglob("*.warc*") if f.name.endswith(WARC_SUFFIXES)) if path.is_dir() else [path]
        for file in found:
            yield file.resolve().as_uri(), file.stat().st_size


def _s3_warc_files(bucket: str, prefix: str, s3_client: Callable[[], object]) -> Iterator[tuple[str, int]]:
    """(URI, size) of the WARC files under an S3 prefix; :class:`StorageReadError` when listing them fails."""
    try:
        found = [
            (f"s3://{bucket}/{entry['Key']}", entry["Size"])
            for page in s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for entry in page.get("Contents", [])
            if entry["Key"].endswith(WARC_SUFFIXES)
        ]
    except Exception as error:  # botocore's errors (unreachable, refused, no such bucket) are no OSError
        raise StorageReadError(f"s3://{bucket}/{prefix}: listing failed ({error})") from error
    yield from found


class CorruptWarc(OSError):
    """A WARC file that cannot be read on from some byte offset (garbage, a broken gzip member)."""


class StorageReadError(OSError):
    """Getting a WARC file's bytes failed (network, S3, disk): a fault of the storage, not of the file."""


class _Source:
    """A WARC file's stream whose failures are :class:`StorageReadError`, told apart from the content's."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def read(self, size: int = -1) -> bytes:
        """Read as the stream does."""
        try:
            return self.stream.read(size)
        except Exception as error:  # botocore's streaming errors are no OSError
            raise StorageReadError(f"reading failed: {error!r}") from error

    def tell(self) -> int:
        """Bytes read so far."""
        return self.stream.tell()


@contextmanager
def open_warc(uri: str, s3_client: Callable[[], object] | None = None) -> Iterator[IO[bytes]]:
    """A stream of one WARC file named as :func:`warc_files` names it; :class:`StorageReadError` when it fails."""
    parsed = urlparse(uri)
    try:
        if parsed.scheme == "s3":
            stream = s3_client().get_object(Bucket=parsed.netloc, Key=parsed.path[1:])["Body"]
        else:
            stream = local_path(uri).open("rb")
    except Exception as error:
        raise StorageReadError(f"opening failed: {error!r}") from error
    try:
        yield _Source(stream)
    finally:
        stream.close()


def _raise(warc_uri: str, offset: int, error: OSError) -> None:
    if isinstance(error, StorageReadError):
        raise error
    raise CorruptWarc(f"{warc_uri}: unreadable from byte {offset} on ({error})") from error


def iter_responses(
    uris: Iterable[str],
    s3_client: Callable[[], object] | None = None,
    max_body: int = MAX_BODY,
    on_corrupt: Callable[[str, int, OSError], None] = _raise,
) -> Iterator[ArchivedResponse]:
    """Every HTTP response record, its body without transfer-encoding (chunked: newsvault never stores it, wget does)
    and content-encoding.

    A file that cannot be read on from some record calls ``on_corrupt(uri, offset of that record, error)`` and the
    iteration goes on with the next file; by default :class:`CorruptWarc` is raised. When the storage fails (the
    error is a :class:`StorageReadError`), the file is read again, up to ``READ_ATTEMPTS`` times, before that.
    """
    client = cache(s3_client) if s3_client else None  # one S3 client for all files
    for warc_uri, size in warc_files(uris, client):
        yield from _read_again_on_storage_errors(warc_uri, size, client, max_body, on_corrupt)


def _read_again_on_storage_errors(
    warc_uri: str, size: int, client, max_body: int, on_corrupt: Callable[[str, int, OSError], None]
) -> Iterator[ArchivedResponse]:
    """A file's responses; when its storage fails, the file is read again and the responses given already skipped."""
    given = -1  # offset of the last response yielded
    for attempt in range(1, READ_ATTEMPTS + 1):
        try:
            with open_warc(warc_uri, client) as stream:
                for response in _file_responses(warc_uri, stream, size, max_body, on_corrupt):
                    if response.offset > given:
                        given = response.offset
                        yield response
            return
        except StorageReadError as error:
            if attempt == READ_ATTEMPTS:
                on_corrupt(warc_uri, max(given, 0), error)
                return
            logger.warning("%s: %s; reading it again (%d of %d)", warc_uri, error, attempt + 1, READ_ATTEMPTS)


def _file_responses(
    warc_uri: str, stream: IO[bytes], size: int, max_body: int, on_corrupt: Callable[[str, int, OSError], None]
) -> Iterator[ArchivedResponse]:
    pending: tuple[WarcRecord, int, bytes, str] | None = None  # record, offset, raw payload, head error
    last = 0  # offset of the last record seen
    # an uncompressed record ends before the CRLF CRLF that separates it from the next one (as warcio counts it)
    separator = 0 if warc_uri.endswith(".gz") else 4
    try:
        # A record's length is where the next one starts: a response is yielded once the next record is seen.
        for record in ArchiveIterator(stream, parse_http=False):
            last = record.stream_pos
            if pending:
                yield _response(*pending, last - pending[1] - separator, warc_uri, max_body)
                pending = None
            if record.record_type == WarcRecordType.response and record.headers.get("Content-Type", "").startswith(
                "application/http"
            ):
                pending = (record, last, *_read_http(record))
    except OSError as error:
        if isinstance(error, StorageReadError):
            raise
        on_corrupt(warc_uri, pending[1] if pending else last, error)
        return
    if pending:
        yield _response(*pending, size - pending[1] - separator, warc_uri, max_body)


def _read_http(record: WarcRecord) -> tuple[bytes, str]:
    """(raw payload, "") of a response record, or (b"", why) when its HTTP head cannot be parsed."""
    try:
        record.parse_http(max_header_len=MAX_HTTP_HEAD)
    except OSError as error:  # e.g. a head longer than MAX_HTTP_HEAD
        return b"", f"HTTP head not read ({error})"
    return record.reader.read(), ""


def _response(
    record: WarcRecord, offset: int, raw: bytes, problem: str, length: int, warc_uri: str, limit: int
) -> ArchivedResponse:
    http, warc = record.http_headers or HeaderMap(), record.headers  # no head when it could not be parsed
    date = warc.get("WARC-Date")
    body = dechunk(raw) if "chunked" in http.get("Transfer-Encoding", "").lower() else raw
    if not problem:
        try:
            body = decode_content(body, http.get("Content-Encoding", ""), limit)
        except UndecodableBody as error:
            problem = str(error)
    return ArchivedResponse(
        url=normalized_target_uri(warc.get("WARC-Target-URI", "")),
        status=http.status_code or 0,
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
        undecodable=problem,
    )
