"""Iterate archived HTTP responses (local files, folders or ``s3://`` URIs) for re-extraction, without network."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO
from urllib.parse import urlparse

from warcio.archiveiterator import ArchiveIterator

from archive.storage import local_path


@dataclass(frozen=True)
class ArchivedResponse:
    """One response record: the decoded body and everything an item pointer needs."""

    url: str
    status: int
    content_type: str
    body: bytes
    captured_at: datetime
    warc_date: str
    warc_uri: str
    filename: str
    record_id: str
    offset: int
    length: int
    payload_digest: str


def warc_sources(uris: Iterable[str], s3_client: Callable[[], object] | None = None) -> Iterator[tuple[str, IO[bytes]]]:
    """(URI, open stream) for every ``.warc.gz`` named by ``uris``: files, folders (recursive), S3 keys or prefixes."""
    for uri in uris:
        parsed = urlparse(uri)
        if parsed.scheme == "s3":
            client = s3_client()
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=parsed.netloc, Prefix=parsed.path[1:])
            for page in pages:
                for entry in page.get("Contents", []):
                    if entry["Key"].endswith((".warc.gz", ".warc")):
                        body = client.get_object(Bucket=parsed.netloc, Key=entry["Key"])["Body"]
                        yield f"s3://{parsed.netloc}/{entry['Key']}", body
            continue
        path = local_path(uri)
        if path is None:
            raise ValueError(f"unsupported URI {uri!r}: a file, a folder, file://... or s3://bucket/prefix")
        for file in sorted(path.rglob("*.warc.gz")) if path.is_dir() else [path]:
            with file.open("rb") as stream:
                yield file.resolve().as_uri(), stream


def iter_responses(uris: Iterable[str], s3_client: Callable[[], object] | None = None) -> Iterator[ArchivedResponse]:
    """Every response record, body decoded from its content-encoding (transfer-encoding is never stored)."""
    for warc_uri, stream in warc_sources(uris, s3_client):
        filename = warc_uri.rsplit("/", 1)[-1]
        records = ArchiveIterator(stream)
        for record in records:
            if record.rec_type != "response" or not record.http_headers:
                continue
            body = record.content_stream().read()
            records.read_to_end(record)
            headers = record.rec_headers
            date = headers.get_header("WARC-Date")
            yield ArchivedResponse(
                url=headers.get_header("WARC-Target-URI"),
                status=int(record.http_headers.get_statuscode()),
                content_type=record.http_headers.get_header("Content-Type") or "",
                body=body,
                captured_at=datetime.fromisoformat(date.replace("Z", "+00:00")),
                warc_date=date,
                warc_uri=warc_uri,
                filename=filename,
                record_id=headers.get_header("WARC-Record-ID"),
                offset=records.get_record_offset(),
                length=records.get_record_length(),
                payload_digest=headers.get_header("WARC-Payload-Digest") or "",
            )
