"""Undo the codings of an archived HTTP body: chunked transfer-coding (which wget stores), then the content-codings
(gzip, deflate, br, zstd), bounded in size, as Scrapy does live.

A WARC response record keeps the entity as the server sent it. Re-extraction needs what Scrapy's
``HttpCompressionMiddleware`` handed the spider: the same codings, the same leniency (a truncated gzip stream gives
what it holds; raw deflate is accepted) and a cap on the decoded size, so that an archived gzip bomb cannot fill the
memory of a re-extraction.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import brotli
from zlib_ng import zlib_ng

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

CHUNK = 1 << 16
GZIP_WBITS = 16 + zlib_ng.MAX_WBITS


class UndecodableBody(ValueError):
    """The body does not decode with the codings its ``Content-Encoding`` names, or decodes beyond the cap."""


def _check(size: int, limit: int) -> None:
    if size > limit:
        raise UndecodableBody(f"decodes to more than {limit} bytes")


def _zlib(body: bytes, limit: int, wbits: int) -> bytes:
    """Inflate with ``wbits``; a stream cut short gives what it holds (as Scrapy's ``gunzip``), unless it is empty.
    A gzip stream of several members is read whole, as Scrapy's ``GzipFile`` reads it."""
    decompressor = zlib_ng.decompressobj(wbits)
    data = decompressor.decompress(body, limit + 1)  # one call: the cap bounds the output buffer
    while wbits == GZIP_WBITS and decompressor.eof and decompressor.unused_data and len(data) <= limit:
        rest, decompressor = decompressor.unused_data, zlib_ng.decompressobj(wbits)
        data += decompressor.decompress(rest, limit + 1 - len(data))
    _check(len(data), limit)
    if not data and not decompressor.eof:
        raise UndecodableBody("truncated before any data")
    return data


def _gzip(body: bytes, limit: int) -> bytes:
    return _zlib(body, limit, GZIP_WBITS)


def _deflate(body: bytes, limit: int) -> bytes:
    try:
        return _zlib(body, limit, zlib_ng.MAX_WBITS)
    except zlib_ng.error:  # raw deflate, as some Microsoft servers send it
        return _zlib(body, limit, -zlib_ng.MAX_WBITS)


def _brotli(body: bytes, limit: int) -> bytes:
    decompressor = brotli.Decompressor()
    parts = [decompressor.process(body, output_buffer_limit=CHUNK)]
    size = len(parts[0])
    while not decompressor.is_finished() and (part := decompressor.process(b"", output_buffer_limit=CHUNK)):
        size += len(part)
        _check(size, limit)
        parts.append(part)
    _check(size, limit)
    return b"".join(parts)


def _zstd(body: bytes, limit: int) -> bytes:
    decompressor = zstd.ZstdDecompressor()
    part = decompressor.decompress(body, max_length=limit + 1)
    _check(len(part), limit)
    return part


DECODERS: dict[str, Callable[[bytes, int], bytes]] = {
    "gzip": _gzip,
    "x-gzip": _gzip,
    "deflate": _deflate,
    "br": _brotli,
    "zstd": _zstd,
}


def dechunk(body: bytes) -> bytes:
    """The data of a chunked body. Cut short: the data it holds; not chunked at all: ``body`` as it is (as warcio
    reads both). Chunk extensions and bare LF line ends are accepted."""
    parts, position = [], 0
    while (line_end := body.find(b"\n", position)) >= 0:
        try:
            size = int(body[position:line_end].split(b";", 1)[0].strip(), 16)
        except ValueError:
            return b"".join(parts) if parts else body
        if size == 0:
            break
        start = line_end + 1
        parts.append(body[start : start + size])
        position = body.find(b"\n", start + size) + 1  # past the data's own line end
        if position == 0:
            break
    else:
        if not parts:
            return body
    return b"".join(parts)


def decode_content(body: bytes, content_encoding: str, limit: int) -> bytes:
    """``body`` without the codings of ``content_encoding`` (last applied, first undone), at most ``limit`` bytes.

    Codings Scrapy does not decode either (``identity``, unknown names) are left in place. Raises
    :class:`UndecodableBody` when a coding fails or the result would exceed ``limit``.
    """
    if not body:
        return body
    for coding in reversed(content_encoding.lower().split(",")):
        decoder = DECODERS.get(coding.strip())
        if decoder is None:
            continue
        try:
            body = decoder(body, limit)
        except (UndecodableBody, zlib_ng.error, brotli.error, zstd.ZstdError) as error:
            raise UndecodableBody(f"{coding.strip()}: {error}") from None
    return body
