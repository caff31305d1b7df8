"""CDXJ index lines for records as they are written: the same bytes cdxj-indexer writes for the finished file.

cdxj-indexer (``write_cdx_index(..., {"sort": True})``) decompresses and parses every record of a finished file
again; the writer knows each record, its offset and its compressed length already, so it builds the line then and
writes the sorted lines at rotation. Every field is derived as cdxj-indexer 1.5 / warcio 1.8 derive it (see
``cdxj_indexer/main.py`` and ``warcio/indexer.py``); ``tests/archive/test_cdxj.py`` checks both agree byte for byte.
Only the HTTP head of a response or revisit is parsed (warcio's own parser, over the head lines only).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from io import BytesIO

import surt
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.timeutils import iso_date_to_timestamp

from archive.records import Record, normalized_target_uri, sha1_digest

INDEXED_TYPES = frozenset({"response", "revisit", "resource", "metadata"})  # cdxj-indexer's DEFAULT_RECORDS
HTTP_SCHEMES = ("http:", "https:")  # warcio parses an HTTP head only in records of these URIs
MIME_END = re.compile(r"[;\s]")
HTTP_HEAD_PARSER = StatusAndHeadersParser([], verify=False)  # cdxj-indexer does not verify the status line


def url_key(url: str) -> str:
    """The SURT sort key of ``url``, or ``url`` itself when surt cannot parse it (as cdxj-indexer does)."""
    try:
        return surt.surt(url)
    except Exception:
        return url


def warc_fields(record: Record) -> dict[str, str]:
    """The record's named fields as warcio reads them back: lower-cased names, first occurrence, value stripped."""
    fields: dict[str, str] = {}
    for name, value in record.fields:
        fields.setdefault(name.lower(), value.strip())
    return fields


def parse_http_head(block: bytes) -> tuple[StatusAndHeaders, int]:
    """The parsed HTTP head at the start of ``block`` and the offset where the payload starts."""
    stream = BytesIO(block)
    return HTTP_HEAD_PARSER.parse(stream), stream.tell()


def cdxj_line(record: Record, filename: str, offset: int, length: int) -> str | None:
    """The line cdxj-indexer writes for ``record`` at ``offset`` (``length`` compressed bytes) in ``filename``.

    None for records it does not index: request, warcinfo, and resource or metadata records of warc-fields.
    """
    if record.record_type not in INDEXED_TYPES:
        return None
    fields = warc_fields(record)
    content_type = fields.get("content-type")
    if record.record_type in ("resource", "metadata") and content_type == "application/warc-fields":
        return None
    url = normalized_target_uri(fields["warc-target-uri"])
    head, payload_start = None, 0
    if record.record_type in ("response", "revisit") and record.block and url.startswith(HTTP_SCHEMES):
        head, payload_start = parse_http_head(record.block)
    mime = content_type  # resource and metadata: the record's own Content-Type
    if record.record_type == "revisit":
        mime = "warc/revisit"
    elif record.record_type == "response":
        mime = head.get_header("content-type") if head else None
    if mime:
        mime = MIME_END.split(mime, 1)[0].strip()
    status = head.get_statuscode() if head else None
    digest = fields.get("warc-payload-digest")
    if digest is None and record.record_type != "revisit":  # warcio computes it; never for a revisit
        # the payload is the whole block (metadata, resource records): its block digest is already that sha1
        whole = payload_start == 0 and fields.get("warc-block-digest")
        digest = whole or sha1_digest(record.block[payload_start:])
    index = {"url": url, "mime": mime, "status": status, "digest": digest}
    index = {name: value for name, value in index.items() if value is not None}
    index.update(length=str(length), offset=str(offset), filename=filename)
    return f"{url_key(url)} {iso_date_to_timestamp(fields['warc-date'])} {json.dumps(index)}\n"


def sorted_index(lines: Iterable[str]) -> list[str]:
    """``lines`` in cdxj-indexer's ``sort`` order: plain string order, repeated lines once."""
    return sorted(set(lines))
