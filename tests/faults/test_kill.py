"""kill -9 at three points of a real crawl behind the replay, then a rerun: every article exactly once in total,
no WARC corrupt (``warcio check``) and none orphaned (no ``.open`` file left after the rerun); a killed run's gzip
feed made whole again by the rerun."""

from __future__ import annotations

import gzip
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter

import pytest

from crawlers.delivery import complete_lines
from tests.archive.conftest import WARCIO
from tests.e2e.conftest import read_items

pytestmark = pytest.mark.e2e
SLOW = {"AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0.15", "CONCURRENT_REQUESTS_PER_DOMAIN": "1"}


def in_discovery(crawl, items_file) -> bool:
    """The feed was asked for, no article yet."""
    kinds = [r["kind"] for r in crawl.replay.requests()]
    assert "article" not in kinds, "too late: articles already fetched"
    return "feed" in kinds


def mid_articles(crawl, items_file) -> bool:
    """Some articles are written, others are still to come."""
    return len(read_items(items_file)) >= 3


def rotating(crawl, items_file) -> bool:
    """With WARC_MAX_SIZE=1 every exchange closes (fsync, index, rename) a file: kill among the closes."""
    return len(list((crawl.directory / "warc").rglob("*.warc.gz"))) >= 4 and len(read_items(items_file)) >= 1


@pytest.mark.parametrize(
    ("moment", "settings"),
    [(in_discovery, {}), (mid_articles, {}), (rotating, {"WARC_MAX_SIZE": "1"})],
    ids=["discovery", "mid-articles", "warc-close"],
)
def test_kill_9_then_rerun(crawl, site, moment, settings):
    proc, items_file = crawl.start("editions=en", **SLOW, **settings)
    deadline = time.monotonic() + 40
    while not moment(crawl, items_file):
        assert proc.poll() is None, "the crawl ended before it could be killed"
        assert time.monotonic() < deadline, "the kill point was never reached"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    killed = read_items(items_file)
    expected = site.expected_articles(("en",), "latest")
    assert len(killed) < len(expected)

    rerun = crawl("editions=en", **settings)
    assert rerun.returncode == 0, rerun.log[-3000:]
    both = killed + rerun.items
    assert sorted(i["url"] for i in both) == sorted(expected)
    assert set(Counter(i["id"] for i in both).values()) == {1}
    archive = crawl.directory / "warc"
    assert not list(archive.rglob("*.open")), "orphaned .open file after the rerun"
    warcs = list(archive.rglob("*.warc.gz"))
    assert warcs
    check = subprocess.run([str(WARCIO), "check", *map(str, warcs)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr


def test_an_article_a_killed_run_held_after_writing_its_line_is_not_emitted_again(crawl, site):
    """The state as a kill between an item's line and its record leaves it (made by hand, so that it is certain):
    the article held, with no record. The next run finds its line in the feed, records it, and does not fetch it."""
    first = crawl("editions=en")
    assert first.returncode == 0, first.log[-3000:]
    last = first.items[-1]
    (feed,) = (crawl.directory / "items").glob("run-1.jsonl")
    state = sqlite3.connect(crawl.directory / "state.sqlite", isolation_level=None)
    (version,) = state.execute("SELECT version FROM articles WHERE key = ?", (last["id"],)).fetchone()
    state.execute("DELETE FROM articles WHERE key = ?", (last["id"],))
    state.execute("INSERT INTO held VALUES (?, ?, ?, ?)", (last["id"], last["url"], version, str(feed)))
    state.close()
    second = crawl("editions=en")
    assert second.returncode == 0, second.log[-3000:]
    assert "1 article(s) held by a killed run: 1 with their line written (recorded), 0 without" in second.log
    assert last["url"] not in second.fetched() and second.items == []


def test_a_killed_runs_gzip_feed_is_made_whole_by_the_next_run(crawl, site):
    """Killed, a gzip feed lacks its trailer, and strict readers (Python's gzip, pandas, DuckDB) refuse it; it keeps
    its ``.open`` name, so no consumer takes it for a finished file. The rerun recompresses and renames it."""
    proc, items_file = crawl.start("editions=en", **SLOW, ITEMS_GZIP="True")
    feed = items_file.with_name(items_file.name + ".gz")
    open_feed = feed.with_name(feed.name + ".open")
    deadline = time.monotonic() + 40
    while not open_feed.exists() or len(list(complete_lines(open_feed))) < 2:
        assert proc.poll() is None, "the crawl ended before it could be killed"
        assert time.monotonic() < deadline, "no items within 40 s"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert not feed.exists()
    with pytest.raises(EOFError):
        gzip.decompress(open_feed.read_bytes())

    rerun = crawl("editions=en")
    assert rerun.returncode == 0, rerun.log[-3000:]
    assert f"{open_feed}, left by a killed run, finalized as {feed}" in rerun.log
    killed = [json.loads(line) for line in gzip.decompress(feed.read_bytes()).splitlines()]
    both = killed + rerun.items
    assert len(killed) >= 2 and sorted(i["url"] for i in both) == sorted(site.expected_articles(("en",), "latest"))
    assert set(Counter(i["id"] for i in both).values()) == {1}
    assert not list((crawl.directory / "items").rglob("*.open"))
    manifests = sorted((crawl.directory / "items").glob("*.manifest.json"), key=lambda p: p.stat().st_mtime)
    assert json.loads(manifests[-1].read_text())["counts"]["itemsRepaired"] == 1
