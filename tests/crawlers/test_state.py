"""Incremental state: fetch decisions by version, persistence across processes, survival of a killed writer, and
a state that cannot write (SQLite full)."""

import gzip
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawlers.delivery import settle
from crawlers.sputnik.spider import SputnikSpider
from crawlers.state import STATE_WRITE_FAILURES_STAT, SqliteState, StateWriteError, needs_fetch, version_key
from settings import base

T0 = datetime(2024, 1, 2, 10, 0, tzinfo=UTC)


def test_version_key_normalizes_offsets_and_naive():
    assert version_key(datetime(2024, 1, 2, 13, 0, tzinfo=timezone(timedelta(hours=3)))) == "2024-01-02T10:00:00Z"
    assert version_key(datetime(2024, 1, 2, 10, 0)) == "2024-01-02T10:00:00Z"
    assert version_key(None) is None


def test_fetch_decisions(tmp_path):
    state = SqliteState(tmp_path / "s.sqlite")
    assert needs_fetch(state, "sputnik:en:1", T0)
    state.record("sputnik:en:1", "https://h/1.html", T0, emitted=True)
    assert not needs_fetch(state, "sputnik:en:1", T0)
    assert not needs_fetch(state, "sputnik:en:1", T0 - timedelta(days=1))
    assert not needs_fetch(state, "sputnik:en:1", None)  # undated discovery (home page) never refetches
    assert needs_fetch(state, "sputnik:en:1", T0 + timedelta(seconds=1))
    assert needs_fetch(state, "sputnik:en:2", None)


def test_undated_record_is_refetched_once_a_date_shows_up(tmp_path):
    state = SqliteState(tmp_path / "s.sqlite")
    state.record("k", "u", None, emitted=True)
    assert not needs_fetch(state, "k", None)
    assert needs_fetch(state, "k", T0)


def test_version_never_decreases_and_emitted_is_kept(tmp_path):
    state = SqliteState(tmp_path / "s.sqlite")
    state.record("k", "u1", T0, emitted=True)
    state.record("k", "u2", T0 - timedelta(hours=1), emitted=False)
    rec = state.get("k")
    assert (rec.url, rec.version, rec.emitted) == ("u2", "2024-01-02T10:00:00Z", False)


def test_state_persists_across_connections_in_wal_mode(tmp_path):
    path = tmp_path / "s.sqlite"
    state = SqliteState(path)
    state.record("k", "u", T0, emitted=True)
    state.close()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert SqliteState(path).get("k").version == "2024-01-02T10:00:00Z"


def test_records_survive_kill_9_of_the_writer(tmp_path):
    path = tmp_path / "s.sqlite"
    code = (
        "import sys, time\nfrom crawlers.state import SqliteState\ns = SqliteState(sys.argv[1])\n"
        "for i in range(50): s.record(f'k{i}', 'u', None, emitted=True)\nprint('ok', flush=True)\ntime.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ok"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    started = time.monotonic()
    state = SqliteState(path)
    assert state.count() == 50
    assert time.monotonic() - started < 5


def full_state(path) -> SqliteState:
    """A state whose database cannot grow: SQLite answers SQLITE_FULL, as on a full disk."""
    state = SqliteState(path)
    state.record("sputnik:en:0", "https://h/0.html", T0, emitted=True)
    pages = state._db.execute("PRAGMA page_count").fetchone()[0]
    state._db.execute(f"PRAGMA max_page_count = {pages}")
    return state


def test_a_state_that_cannot_write_raises_state_write_error(tmp_path):
    state = full_state(tmp_path / "s.sqlite")
    urls = [f"https://h/{n}.html" + "x" * 2000 for n in range(20)]  # more than the free room of the last page
    with pytest.raises(StateWriteError, match="database or disk is full"):
        for n, url in enumerate(urls):
            state.record(f"sputnik:en:{n + 1}", url, T0, emitted=True)


def test_the_spider_counts_unrecorded_outcomes_and_logs_once(tmp_path, caplog):
    crawler = get_crawler(SputnikSpider, settings_dict={"STATE_PATH": str(tmp_path / "s.sqlite")})
    spider = SputnikSpider.from_crawler(crawler, editions="en")
    spider.state = full_state(tmp_path / "s.sqlite")
    for n in range(20):
        url = f"https://sputnikglobe.com/20240101/{'x' * 2000}-{1117000000 + n}.html"
        response = HtmlResponse(url, request=Request(url, meta={"state_key": f"sputnik:en:{n}"}), body=b"")
        spider._record(response, None, emitted=True)
    failures = crawler.stats.get_value(STATE_WRITE_FAILURES_STAT)
    assert failures and caplog.text.count("state: could not record") == 1
    assert STATE_WRITE_FAILURES_STAT in base.ITEMS_STORAGE_FAILURE_STATS  # a failed run (exit 5)


def test_settle_records_held_articles_whose_line_was_written_and_releases_the_others(tmp_path, caplog):
    state = SqliteState(tmp_path / "s.sqlite")
    plain, cut_gzip = tmp_path / "run.jsonl", tmp_path / "other.jsonl.gz.open"
    damaged = b"\x00\x07garbage\n[1]\n"  # lines that are no article (a damaged disk): skipped
    plain.write_bytes(b'{"id":"sputnik:en:1","headline":"a"}\n' + damaged + b'{"id":"sputnik:en:9","head')  # cut
    lines = (b'{"id":"sputnik:en:2","pad":"%s"}\n' % os.urandom(40).hex().encode() for _ in range(500))
    whole = gzip.compress(b"".join(lines), mtime=0)
    cut_gzip.write_bytes(whole[: len(whole) // 2])  # as a killed run's gzip feed: no trailer
    (tmp_path / "renamed.jsonl").write_bytes(b'{"id":"sputnik:en:5"}\n')  # held as .open, since finalized
    held = ((1, [plain]), (2, [plain, cut_gzip]), (3, [plain]), (9, [plain]), (4, [tmp_path / "gone"]))
    for n, feeds in (*held, (5, [tmp_path / "renamed.jsonl.open"])):
        state.hold(f"sputnik:en:{n}", f"https://h/{n}.html", T0, [str(f) for f in feeds])
    with caplog.at_level(logging.INFO):
        assert settle(state) == (3, 3)
    assert "6 article(s) held by a killed run: 3 with their line written (recorded), 3 without" in caplog.text
    assert state.held() == [] and state.get("sputnik:en:1").emitted and state.get("sputnik:en:2").version
    assert state.get("sputnik:en:5").emitted
    assert not needs_fetch(state, "sputnik:en:2", T0) and needs_fetch(state, "sputnik:en:3", None)
    assert needs_fetch(state, "sputnik:en:9", None)  # its line was cut: not delivered


def test_recording_releases_a_held_article(tmp_path):
    state = SqliteState(tmp_path / "s.sqlite")
    state.hold("sputnik:en:1", "https://h/1.html", T0, ["/feed.jsonl"])
    assert [key for key, *_ in state.held()] == ["sputnik:en:1"]
    state.record("sputnik:en:1", "https://h/1.html", T0, emitted=True)
    assert state.held() == []
