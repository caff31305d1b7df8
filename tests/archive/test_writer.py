"""The rotating writer: gzip member per record, rotation, .open files, unique names, repair after kill -9."""

from __future__ import annotations

import gzip
import signal
import subprocess
import sys
import time
import zlib

from warcio.archiveiterator import ArchiveIterator

from archive.records import http_head
from archive.writer import (
    NAME_RE,
    RotatingWarcWriter,
    complete_members_end,
    filename_date,
    gzip_member,
    repair_open_files,
)
from tests.archive.conftest import INFO, ROOT, fixed_builder, warcio_check

HEAD = http_head(b"HTTP/1.1 200 OK", [(b"Content-Type", b"text/plain")])


def write_exchanges(writer: RotatingWarcWriter, count: int, size: int = 100) -> list:
    """Write ``count`` request/response pairs; return what the futures resolved to."""
    results = []
    for number in range(count):
        pair = writer.builder.exchange(f"http://e.org/{number}", b"GET / HTTP/1.1\r\n\r\n", HEAD, b"x" * size)
        results.append(writer.write(pair).result(timeout=10))
    return results


def test_rotation_by_size_and_close(tmp_path):
    closed = []
    writer = RotatingWarcWriter(tmp_path, INFO, max_size=1500, builder=fixed_builder(), on_closed=closed.append)
    results = write_exchanges(writer, 6, size=2000)
    assert list(tmp_path.glob("*.open"))  # still writing the last file
    paths = writer.close()
    assert paths == closed and len(paths) >= 3
    assert not list(tmp_path.glob("*.open"))
    for path in paths:
        assert NAME_RE.match(path.name)
        assert path.with_name(path.name.replace(".warc.gz", ".cdxj")).stat().st_size > 0
        records = list(ArchiveIterator(path.open("rb")))
        assert records[0].rec_type == "warcinfo"
        assert records[0].rec_headers.get_header("WARC-Filename") == path.name
        warcio_check(path)
    # every pointer resolves: `length` bytes at `offset` are exactly one gzip member holding that record
    for request, response in results:
        for written in (request, response):
            data = (tmp_path / written.filename).read_bytes()[written.offset : written.offset + written.length]
            decompressor = zlib.decompressobj(31)
            record = decompressor.decompress(data)
            assert decompressor.eof and not decompressor.unused_data
            assert written.record_id.encode() in record and record.startswith(b"WARC/1.1\r\n")


def test_rotation_by_age(tmp_path):
    writer = RotatingWarcWriter(tmp_path, INFO, max_age=0.2)
    write_exchanges(writer, 1)
    time.sleep(1.5)  # the idle writer thread rotates on its own
    assert not list(tmp_path.glob("*.open")) and len(list(tmp_path.glob("*.warc.gz"))) == 1
    write_exchanges(writer, 1)
    assert len(writer.close()) == 2


def test_names_unique_across_writers_in_the_same_second(tmp_path):
    writers = [RotatingWarcWriter(tmp_path, INFO, builder=fixed_builder()) for _ in range(3)]
    for writer in writers:
        write_exchanges(writer, 1)
    names = {path.name for writer in writers for path in writer.close()}
    assert len(names) == 3
    assert len({filename_date(name) for name in names}) == 1  # same second, same serial: token and host differ


def test_complete_members_end_ignores_a_torn_member(tmp_path):
    path = tmp_path / "x.warc.gz.open"
    whole = gzip_member(b"first") + gzip_member(b"second")
    path.write_bytes(whole + gzip_member(b"third" * 100)[:-7])
    assert complete_members_end(path) == len(whole)
    assert gzip.decompress(path.read_bytes()[: len(whole)]) == b"firstsecond"


def test_repair_leaves_files_of_a_live_writer_alone(tmp_path):
    writer = RotatingWarcWriter(tmp_path, INFO)
    write_exchanges(writer, 1)
    assert repair_open_files(tmp_path) == []
    assert len(list(tmp_path.glob("*.open"))) == 1
    writer.close()


def test_kill_9_mid_write_then_repair(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.archive.kill_writer", str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE
    )
    assert process.stdout.readline() == b"writing\n"
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    [open_file] = tmp_path.glob("*.warc.gz.open")
    size = open_file.stat().st_size
    repaired = repair_open_files(tmp_path)
    assert len(repaired) == 1 and repaired[0].stat().st_size <= size
    assert not list(tmp_path.glob("*.open"))  # no orphan, no half-written index
    assert repaired[0].with_name(repaired[0].name.replace(".warc.gz", ".cdxj")).exists()
    output = warcio_check(repaired[0])
    assert output.count("response") >= 21
