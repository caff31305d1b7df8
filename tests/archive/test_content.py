"""Content-codings of archived bodies are undone as Scrapy undoes them live, and never beyond the size cap."""

from __future__ import annotations

import gzip
import io
import zlib

import brotli
import pytest
from warcio.bufferedreaders import ChunkedDataReader

from archive.content import UndecodableBody, dechunk, decode_content
from archive.content import zstd as zstd_module

HTML = b"<html><body>" + b"".join(b"<p>Sputnik %d</p>" % n for n in range(4000)) + b"</body></html>"
LIMIT = 1 << 20


def raw_deflate(data: bytes) -> bytes:
    """Deflate with no zlib header, as some servers send ``deflate``."""
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("coding", "body"),
    [
        ("gzip", gzip.compress(HTML)),
        ("x-gzip", gzip.compress(HTML)),
        ("GZIP", gzip.compress(HTML)),
        ("deflate", zlib.compress(HTML)),
        ("deflate", raw_deflate(HTML)),
        ("br", brotli.compress(HTML)),
        ("zstd", zstd_module.compress(HTML)),
        ("gzip, br", brotli.compress(gzip.compress(HTML))),  # applied in that order, undone in reverse
        ("identity", HTML),
        ("", HTML),
        ("x-unknown", HTML),  # Scrapy leaves codings it does not know in place
    ],
)
def test_every_coding_scrapy_decodes_is_undone(coding, body):
    assert decode_content(body, coding, LIMIT) == HTML


def test_an_empty_body_stays_empty():
    assert decode_content(b"", "gzip", LIMIT) == b""


def test_a_truncated_gzip_stream_gives_what_it_holds():
    packed = gzip.compress(HTML)
    decoded = decode_content(packed[: len(packed) // 2], "gzip", LIMIT)
    assert decoded and HTML.startswith(decoded) and len(decoded) < len(HTML)


@pytest.mark.parametrize(
    ("coding", "body", "reason"),
    [
        ("gzip", HTML, "gzip"),  # labelled gzip, sent plain
        ("br", HTML, "br"),
        ("zstd", HTML, "zstd"),
        ("gzip", gzip.compress(HTML)[:12], "truncated before any data"),
    ],
)
def test_a_body_that_does_not_decode_says_why(coding, body, reason):
    with pytest.raises(UndecodableBody, match=reason):
        decode_content(body, coding, LIMIT)


@pytest.mark.parametrize(
    ("coding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("br", brotli.compress), ("zstd", zstd_module.compress)],
)
def test_a_bomb_stops_at_the_cap(coding, compress):
    bomb = compress(bytes(64 * LIMIT))  # 64 MiB of zeros in a few kB
    assert len(bomb) < LIMIT // 4
    with pytest.raises(UndecodableBody, match=f"more than {LIMIT} bytes"):
        decode_content(bomb, coding, LIMIT)
    assert decode_content(compress(bytes(LIMIT)), coding, LIMIT) == bytes(LIMIT)  # exactly at the cap is fine


@pytest.mark.parametrize(
    "body",
    [
        b"5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n",
        b"5;name=value\r\nhello\r\n0\r\n\r\n",  # a chunk extension
        b"5\r\nhe\r\nl\r\n0\r\n\r\n",  # CRLF inside the data is data
        b"a\r\nhel",  # cut short: what it holds
        b"5\r\nhello\r\n",  # no last chunk
        b"<html>plain</html>",  # not chunked at all: as it is
        b"zz\r\nhello\r\n0\r\n\r\n",  # not a chunk size: as it is
        b"",
    ],
)
def test_chunked_bodies_read_as_warcio_reads_them(body):
    assert dechunk(body) == ChunkedDataReader(io.BytesIO(body)).read()


def test_bare_lf_line_ends_are_accepted_too():
    assert dechunk(b"5\nhe\r\nl\n0\n\n") == b"he\r\nl"  # warcio gives such a body back undecoded


def test_a_gzip_stream_of_several_members_is_read_whole():
    assert decode_content(gzip.compress(HTML[:1000]) + gzip.compress(HTML[1000:]), "gzip", LIMIT) == HTML
    with pytest.raises(UndecodableBody, match="more than"):
        decode_content(gzip.compress(bytes(LIMIT)) + gzip.compress(b"x"), "gzip", LIMIT)
