"""The CDXJ index the writer writes from its records equals cdxj-indexer's index of the finished file, byte for byte."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

from cdxj_indexer.main import write_cdx_index

from archive.cdxj import cdxj_line
from archive.records import Original, RecordBuilder, http_head, sha1_digest
from archive.writer import RotatingWarcWriter, cdxj_path, gzip_member, repair_open_files
from tests.archive.conftest import INFO, fixed_builder

GET = b"GET / HTTP/1.1\r\nHost: sputniknews.com\r\n\r\n"
HTML = b"<!DOCTYPE html><html><head><title>t</title></head><body>" + b"news " * 200 + b"</body></html>"
ITEM = json.dumps({"url": "https://sputniknews.com/a.html", "title": "t"}).encode()


def cdxj_indexer_index(path: Path) -> str:
    """What cdxj-indexer writes for a finished file, as the writer used to call it."""
    output = io.StringIO()
    write_cdx_index(output, [str(path)], {"sort": True, "filename": path.name})
    return output.getvalue()


def head(status: bytes, *headers: tuple[bytes, bytes]) -> bytes:
    """An HTTP/1.1 response head."""
    return http_head(b"HTTP/1.1 " + status, list(headers))


def every_kind(builder: RecordBuilder) -> list[list]:
    """Record groups of every kind the crawler writes, with awkward URLs and heads."""
    html = (b"Content-Type", b"text/html; charset=utf-8")

    def ok(uri: str, body: bytes = HTML, **options) -> list:
        return list(builder.exchange(uri, GET, head(b"200 OK", html), body, **options))

    page = "https://sputniknews.com/20240102/article-1.html"
    first = ok(page, ip="127.0.0.1")
    original = Original(first[1].record_id, page, first[1].date)
    zipped = head(b"200 OK", (b"content-type", b"text/html;charset=UTF-8"), (b"Content-Encoding", b"gzip"))
    json_head = head(b"200", (b"Content-Type", b"Application/JSON"))
    return [
        first,
        builder.exchange("https://sputniknews.com/zipped.html", GET, zipped, gzip.compress(HTML, mtime=0)),
        builder.exchange("https://sputniknews.com/gone", GET, head(b"404 Not Found", html), b"<p>no</p>"),
        builder.exchange("http://sputniknews.com/old", GET, head(b"301 Moved", (b"Location", page.encode())), b""),
        ok(page, original=original),
        [builder.metadata("urn:item:" + page, first[1].record_id, ITEM)],
        [builder.resource("urn:rendered:" + page, first[1].record_id, HTML, "text/html; charset=utf-8")],
        ok("https://sputniknews.com/big.html", HTML[:100], truncated="length"),
        ok("https://sputniknews.com/search/?query=news&b=2&a=1"),
        ok("https://arabic.sputniknews.com/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/?q=%C3%A9"),
        ok("https://sputniknews.by/новости/статья?ключ=значение"),
        builder.exchange("https://sputniknews.com:8443/a.json", GET, json_head, b"{}"),
    ]


def test_writer_index_equals_cdxj_indexer_for_every_kind_of_record(tmp_path):
    writer = RotatingWarcWriter(tmp_path, INFO, builder=fixed_builder())
    for group in every_kind(writer.builder):
        writer.write(group).result(timeout=10)
    [path] = writer.close()
    written = cdxj_path(path).read_text(encoding="utf-8")
    assert written == cdxj_indexer_index(path)
    entries = [json.loads(line.split(" ", 2)[2]) for line in written.splitlines()]
    assert len(entries) == 12  # every response, the revisit, the metadata and the resource; no request or warcinfo
    by_url = {entry["url"]: entry for entry in entries if entry.get("mime") != "warc/revisit"}
    assert by_url["urn:item:https://sputniknews.com/20240102/article-1.html"]["digest"] == sha1_digest(ITEM)
    assert (
        by_url["http://sputniknews.com/old"]["status"] == "301" and "mime" not in by_url["http://sputniknews.com/old"]
    )
    assert by_url["https://sputniknews.com/zipped.html"]["mime"] == "text/html"
    assert by_url["https://sputniknews.com:8443/a.json"]["mime"] == "Application/JSON"
    assert {entry["status"] for entry in entries if "status" in entry} == {"200", "301", "404"}
    assert "com,sputniknews:8443)/a.json 20240102030" in written and "by,sputniknews)/%d0%bd" in written


def test_rotated_files_get_cdxj_indexers_index(tmp_path):
    writer = RotatingWarcWriter(tmp_path, INFO, max_size=1200, builder=fixed_builder())
    for number in range(8):
        uri = f"https://sputniknews.com/{number}.html?page={number}"
        writer.write(writer.builder.exchange(uri, GET, head(b"200 OK"), HTML * 3)).result(timeout=10)
    paths = writer.close()
    assert len(paths) >= 3
    for path in paths:
        index = cdxj_path(path).read_text(encoding="utf-8")
        assert index and index == cdxj_indexer_index(path)


def test_a_repaired_file_is_indexed_by_cdxj_indexer(tmp_path):
    builder = fixed_builder()
    name = "newsvault-20240102030405-00000-host-abcd.warc.gz"
    groups = every_kind(builder)
    records = [builder.warcinfo(name, INFO), *groups[0], *groups[2]]
    members = [gzip_member(record.serialize()) for record in records]
    torn = gzip_member(builder.metadata("urn:item:x", "<urn:uuid:x>", ITEM).serialize())[:-9]
    (tmp_path / (name + ".open")).write_bytes(b"".join(members) + torn)  # what a killed run leaves
    [repaired] = repair_open_files(tmp_path)
    lines, offset = [], 0
    for record, member in zip(records, members, strict=True):
        lines.append(cdxj_line(record, name, offset, len(member)))
        offset += len(member)
    expected = "".join(sorted(line for line in lines if line))
    assert expected.count("\n") == 2  # the two responses
    assert cdxj_path(repaired).read_text(encoding="utf-8") == expected == cdxj_indexer_index(repaired)
