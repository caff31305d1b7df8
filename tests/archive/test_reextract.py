"""``scrapy reextract`` over archived real Sputnik pages: offline, items like a crawl's, pointers that resolve."""

from __future__ import annotations

import gzip
import io
import json
import re
import subprocess
import sys
from collections import Counter

from warcio.archiveiterator import ArchiveIterator

from archive.reader import iter_responses
from commands.reextract import BATCH, ReextractJob, reextracted
from crawlers.sputnik.pages import extract_article
from tests.archive.conftest import ROOT
from tests.archive.fixture_warc import build_fixture_warc, fixture_pages
from tests.archive.test_reader import corrupted_copy, flaky_storage, write_exchanges


def reextract(*args: str) -> subprocess.CompletedProcess:
    """``scrapy reextract ARGS`` with the test settings."""
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "reextract", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"SCRAPY_SETTINGS_MODULE": "settings.test", "PATH": "/usr/bin:/bin"},
    )


def test_reextract_emits_items_with_resolving_pointers(tmp_path):
    [warc] = build_fixture_warc(tmp_path / "warc")
    out = tmp_path / "items.jsonl"
    result = reextract(str(tmp_path / "warc"), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "records/s" in result.stderr and "'skipped': 1" in result.stderr  # the 404
    items = [json.loads(line) for line in out.read_text().splitlines()]
    assert {item["url"] for item in items} <= {url for url, _ in fixture_pages()}
    assert len(items) >= len(fixture_pages()) - 1 and all(item["headline"] for item in items)
    data = warc.read_bytes()
    for item in items:
        pointer = item["archive"]
        assert pointer["warcFilename"] == warc.name and pointer["warcUri"] == warc.resolve().as_uri()
        chunk = data[pointer["offset"] : pointer["offset"] + pointer["length"]]
        [record] = list(ArchiveIterator(io.BytesIO(chunk)))
        assert record.rec_headers.get_header("WARC-Record-ID") == pointer["recordId"]
        assert record.rec_headers.get_header("WARC-Target-URI") == item["url"]


def test_reextract_runs_itself_under_mimalloc_and_gives_the_same_lines(tmp_path):
    build_fixture_warc(tmp_path / "warc")
    lines = {}
    for allocator in ("mimalloc", "system"):
        out = tmp_path / f"{allocator}.jsonl"
        result = reextract(str(tmp_path / "warc"), "-o", str(out), "-s", f"NEWSVAULT_REEXTRACT_MALLOC={allocator}")
        assert result.returncode == 0, result.stderr
        assert f"records/s, {allocator} malloc)" in result.stderr  # read from the process's own memory maps
        lines[allocator] = out.read_bytes()
    assert lines["mimalloc"] == lines["system"] and lines["system"].count(b"\n") >= len(fixture_pages()) - 1
    unknown = reextract(str(tmp_path / "warc"), "-s", "NEWSVAULT_REEXTRACT_MALLOC=tcmalloc")
    assert unknown.returncode == 2 and "NEWSVAULT_REEXTRACT_MALLOC: unknown allocator 'tcmalloc'" in unknown.stderr


def test_the_output_keeps_an_open_name_until_every_file_was_read(tmp_path):
    build_fixture_warc(tmp_path / "warc")
    out = tmp_path / "items.jsonl"
    extractor = "tests.archive.interrupting_extractor.extract_then_interrupt"
    stopped = reextract(str(tmp_path / "warc"), "-o", str(out), "--extractor", extractor)
    assert stopped.returncode != 0 and not out.exists()
    assert f"reextract: stopped; the lines written so far are in {out}.open" in stopped.stderr
    assert len(out.with_name("items.jsonl.open").read_text().splitlines()) == 1
    done = reextract(str(tmp_path / "warc"), "-o", str(out))
    assert done.returncode == 0 and len(out.read_text().splitlines()) >= 4
    assert not out.with_name("items.jsonl.open").exists()


def test_an_undecodable_body_is_counted_and_the_loop_goes_on(tmp_path, capsys):
    url, html = fixture_pages()[0]
    bomb = gzip.compress(bytes(8 << 20))
    write_exchanges(tmp_path, [("https://sputnikglobe.com/bomb", b"gzip", bomb), (url, b"gzip", gzip.compress(html))])
    counts: Counter[str] = Counter()
    lines = list(reextracted(iter_responses([str(tmp_path)], max_body=1 << 20), extract_article, counts))
    assert counts == {"responses": 2, "undecodable": 1, "items": 1}
    assert "bomb: not read: gzip: decodes to more than 1048576 bytes" in capsys.readouterr().err
    assert json.loads(lines[0])["headline"] and lines[0].endswith(b"\n")


def test_a_corrupt_file_fails_the_run_loudly_and_the_other_files_are_read(tmp_path):
    [good] = build_fixture_warc(tmp_path / "warc" / "good")
    broken, _ = corrupted_copy(good, tmp_path / "warc" / "broken")
    out = tmp_path / "items.jsonl"
    result = reextract(str(tmp_path / "warc"), "-o", str(out))
    assert result.returncode == 1
    assert f"{broken.resolve().as_uri()}: unreadable from byte" in result.stderr
    assert "'corrupt_files': 1" in result.stderr
    items = [json.loads(line) for line in out.read_text().splitlines()]
    assert {item["archive"]["warcFilename"] for item in items} == {good.name, broken.name}


def test_workers_give_the_same_lines_in_the_same_order_and_report_a_corrupt_file(tmp_path):
    files = build_fixture_warc(tmp_path / "warc" / "good", copies=20, max_size=3_000_000)
    assert len(files) >= 2
    broken, _ = corrupted_copy(files[0], tmp_path / "warc" / "broken")
    runs = {}
    for workers in ("1", "2"):
        out = tmp_path / f"items-{workers}.jsonl"
        every_time = ("-s", "NEWSVAULT_PROGRESS_INTERVAL=0.000001")  # a progress line at every step
        result = reextract(str(tmp_path / "warc"), "-o", str(out), "--workers", workers, *every_time)
        summary = result.stderr.strip().splitlines()[-1].split(" in ")[0]
        runs[workers] = (result.returncode, summary, out.read_bytes())
        assert f"{broken.resolve().as_uri()}: unreadable from byte" in result.stderr
        progress = [line for line in result.stderr.splitlines() if line.endswith(" records/s")]
        responses = re.search(r"'responses': (\d+)", summary).group(1)
        assert len(progress) > BATCH and f", {responses} read, " in progress[-1]
    assert runs["1"] == runs["2"] and runs["1"][0] == 1 and "'corrupt_files': 1" in runs["1"][1]
    lines = runs["1"][2].count(b"\n")
    assert lines > 20 * len(fixture_pages()) > 3 * BATCH  # every file's items, the broken one's first ones: batches


def test_a_file_whose_storage_keeps_failing_is_counted_apart_from_corrupt_ones(tmp_path, monkeypatch, capsys):
    [warc] = build_fixture_warc(tmp_path, copies=2)
    data = warc.read_bytes()
    flaky_storage(monkeypatch, data, [len(data) // 2])
    counts: Counter[str] = Counter()
    job = ReextractJob("crawlers.sputnik.pages.extract_article", {}, 1 << 20)
    lines = list(job.lines([str(warc)], counts))
    assert lines and counts["unreadable_files"] == 1 and not counts["corrupt_files"]
    assert f"{warc.resolve().as_uri()}: storage failed 3 times" in capsys.readouterr().err


def test_the_workers_job_keeps_aws_secrets_out_of_its_repr():
    job = ReextractJob("crawlers.sputnik.pages.extract_article", {"AWS_SECRET_ACCESS_KEY": "s3cr3t-value"}, 1 << 20)
    assert "s3cr3t-value" not in repr(job) and job.aws["AWS_SECRET_ACCESS_KEY"] == "s3cr3t-value"


def test_bad_input_is_a_clear_error_and_an_empty_selection_fails(tmp_path):
    missing = reextract(str(tmp_path / "nowhere.warc.gz"))
    assert missing.returncode == 2 and "No such file or directory" in missing.stderr
    assert "Traceback" not in missing.stderr
    unsupported = reextract("ftp://user:s3cretpw@archive.example/archive.warc.gz")
    assert unsupported.returncode == 2 and "unsupported URI ftp://..." in unsupported.stderr
    assert "s3cretpw" not in unsupported.stderr
    (tmp_path / "empty").mkdir()
    empty = reextract(str(tmp_path / "empty"))
    assert empty.returncode == 1 and "no WARC files" in empty.stderr
    build_fixture_warc(tmp_path / "warc")
    nowhere = tmp_path / "no-such-folder" / "items.jsonl"
    unwritable = reextract(str(tmp_path / "warc"), "-o", str(nowhere))
    assert unwritable.returncode == 2
    assert f"cannot write {nowhere}.open (No such file or directory)" in unwritable.stderr
    unknown = reextract(str(tmp_path / "warc"), "--extractor", "no_such_module.extract")
    assert unknown.returncode == 2 and "--extractor no_such_module.extract: No module named" in unknown.stderr
    mistyped = reextract(str(tmp_path / "warc"), "-s", "NEWSVAULT_PROGRESS_INTERVAL=1m")
    assert mistyped.returncode == 2 and "setting NEWSVAULT_PROGRESS_INTERVAL='1m': expected a number" in mistyped.stderr
    assert "Traceback" not in unwritable.stderr + unknown.stderr + mistyped.stderr
