"""Whole crawls of the test spider in a subprocess: one test per exit code, the manifest and the JSONL."""

import json
import re
import subprocess
import sys

import duckdb
import jsonschema
import pytest

from crawlers.schema import load_schema
from tests.pipelines.conftest import REPO


def test_a_good_run_exits_0_with_schema_valid_jsonl_loaded_by_duckdb(crawl):
    run = crawl("good")
    assert run.returncode == 0, run.log[-3000:]
    (jsonl,) = run.jsonl()
    assert jsonl.parent.relative_to(run.out / "items").parts[:2] == ("testoutlet", "good")
    rows = duckdb.sql(f"SELECT * FROM read_json('{jsonl}', format='newline_delimited')").df()
    assert len(rows) == 5
    validator = jsonschema.Draft202012Validator(load_schema(), format_checker=jsonschema.FormatChecker())
    lines = jsonl.read_text(encoding="utf-8").splitlines()
    for line in lines:
        validator.validate(json.loads(line))
    assert "Überschrift" in lines[0], "UTF-8, not ASCII escapes"
    manifest = run.manifest()
    assert manifest["status"] == "finished" and manifest["exitCode"] == 0 and manifest["failures"] == []
    assert manifest["editions"] == ["good"] and manifest["arguments"]["editions"] == "good"
    assert manifest["counts"]["items"] == 5 and manifest["counts"]["responsesByStatus"]["200"] >= 6
    assert manifest["files"]["items"] == [{"uri": str(jsonl), "items": 5}]
    assert jsonl.name == manifest["crawlId"] + ".jsonl"


def test_a_broken_layout_exits_6_and_the_manifest_names_the_fields(crawl):
    run = crawl("broken")
    assert run.returncode == 6, run.log[-3000:]
    manifest = run.manifest()
    assert manifest["failures"] == ["coverage"]
    assert manifest["fieldCoverage"]["Article/headline"] == 1.0
    assert "Article/datePublished" not in manifest["fieldCoverage"]
    (coverage,) = [m for m in manifest["monitors"] if m["monitor"].startswith("CoverageMonitor")]
    assert coverage["status"] == "FAIL"
    assert "Article/datePublished (expected 1.0, got 0" in coverage["reason"]
    assert "Article/articleBody (expected 0.99, got 0" in coverage["reason"]
    assert "Article/headline" not in coverage["reason"]


def test_an_edition_without_items_exits_3(crawl):
    run = crawl("empty")
    assert run.returncode == 3, run.log[-3000:]
    assert run.manifest()["failures"] == ["no_items"]
    assert run.jsonl() == [], "no empty items file"


def test_zero_items_is_fine_where_none_are_expected(crawl):
    assert crawl("empty", "ITEMS_MIN_ITEMS=0").returncode == 0


def test_an_error_rate_above_the_threshold_exits_4(crawl):
    run = crawl("errors", "RETRY_TIMES=0")
    assert run.returncode == 4, run.log[-3000:]
    manifest = run.manifest()
    assert manifest["failures"] == ["error_rate"]
    assert manifest["counts"]["responsesByStatus"]["503"] == 4 and manifest["counts"]["items"] == 1


def test_failing_archive_uploads_exit_5(crawl):
    extensions = '{"tests.pipelines.spiders.ArchiveFailureStats": 900}'
    run = crawl("good", f"EXTENSIONS={extensions}")
    assert run.returncode == 5, run.log[-3000:]
    manifest = run.manifest()
    assert manifest["failures"] == ["storage"]
    assert manifest["counts"]["bytesArchived"] == 1234
    assert manifest["files"]["warc"] == [{"uri": "s3://warcs/test-00000.warc.gz"}]


def test_duplicates_are_dropped_and_counted_in_the_manifest(crawl):
    run = crawl("dupes")
    assert run.returncode == 0, run.log[-3000:]
    counts = run.manifest()["counts"]
    assert counts["items"] == 2 and counts["droppedByReason"] == {"duplicate": 1}


def test_usage_errors_exit_2_and_a_crawl_that_cannot_start_exits_1(tmp_path):
    env = {"SCRAPY_SETTINGS_MODULE": "settings.test", "NEWSVAULT_TEST_DIR": str(tmp_path), "PATH": ""}
    args = [sys.executable, "-m", "scrapy", "crawl", "-s", "SPIDER_MODULES=tests.pipelines.spiders"]
    assert subprocess.run(args, cwd=REPO, env=env, capture_output=True).returncode == 2
    missing_argument = subprocess.run([*args, "articles"], cwd=REPO, env=env, capture_output=True, text=True)
    assert missing_argument.returncode == 1, missing_argument.stderr[-2000:]


@pytest.mark.parametrize("gzip", [False, True])
def test_batches_rotate_and_gzip_is_optional(crawl, gzip):
    run = crawl("good", "ITEMS_BATCH_ITEM_COUNT=2", f"ITEMS_GZIP={gzip}")
    assert run.returncode == 0, run.log[-3000:]
    files = run.jsonl()
    assert [f.name.endswith(".jsonl.gz") for f in files] == [gzip] * 3
    assert [f.name.rsplit("-", 1)[1].split(".")[0] for f in files] == ["00001", "00002", "00003"]
    glob = str(files[0].parent / "*.jsonl*")
    assert duckdb.sql(f"SELECT count(*) FROM read_json('{glob}', format='newline_delimited')").fetchall() == [(5,)]
    assert [f["items"] for f in run.manifest()["files"]["items"]] == [2, 2, 1]


def test_the_loading_snippets_of_operations_md_run_on_a_crawl(crawl, monkeypatch):
    run = crawl("good", "ITEMS_GZIP=True")
    assert run.returncode == 0, run.log[-3000:]
    (run.out / "data").mkdir()
    (run.out / "items").rename(run.out / "data" / "items")
    (run.out / "data" / "items" / "live.jsonl.gz.open").write_bytes(b"\x1f\x8b\x08 a run still writing")  # skipped
    monkeypatch.chdir(run.out)
    snippets = re.findall(r"```python\n(.*?)```", (REPO / "docs" / "operations.md").read_text(), re.S)
    assert len(snippets) == 2
    for snippet in snippets:
        namespace: dict = {}
        exec(snippet, namespace)
        assert len(namespace["articles"]) == 5
        assert set(namespace["articles"]["edition"]) == {"good"}
