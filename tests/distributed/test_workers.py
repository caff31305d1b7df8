"""Several real ``scrapy crawl sputnik`` workers sharing one crawl through a real redis-server, behind the replay."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import pytest

from crawlers.state import RedisState, version_from_key
from tests.e2e.conftest import read_items

pytestmark = [pytest.mark.e2e, pytest.mark.redis]
EDITIONS = ("en", "de")
# Slow enough that the crawl is spread over the workers: each takes at most 2 requests at a time.
SHARED = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0.2",
    "CONCURRENT_REQUESTS": "2",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
    "NEWSVAULT_REDIS_POLL_INTERVAL": "0.3",
    "NEWSVAULT_REDIS_WORKER_TTL": "6",
    "ITEMS_MAX_ERROR_RATE": "1",  # the fixture site serves a 404 and a 429 on purpose
}


def start_workers(crawl, redis_server, count, **settings):
    """Start ``count`` workers of one crawl; returns (process, items file) pairs."""
    # One spool per worker slot: archive.storage's uploader would race another worker's for the same spool files.
    # One holder per slot: a worker settles its holder's held articles when it starts (docs/operations.md).
    return [
        crawl.start(
            f"editions={','.join(EDITIONS)}",
            **{
                **SHARED,
                "REDIS_URL": redis_server.url,
                "ARCHIVE_SPOOL_DIR": str(crawl.directory / f"spool-{n}"),
                "STATE_REDIS_HOLDER": f"slot-{n}",
                **settings,
            },
        )
        for n in range(count)
    ]


def wait_all(workers, timeout=60):
    """Wait for every worker; returns their exit codes."""
    deadline = time.monotonic() + timeout
    for proc, _ in workers:
        proc.wait(max(1, deadline - time.monotonic()))
    return [proc.returncode for proc, _ in workers]


def wait_for_items(workers, at_least, timeout=40):
    """Wait until the workers wrote ``at_least`` items in all, all still running."""
    deadline = time.monotonic() + timeout
    while sum(len(read_items(f)) for _, f in workers) < at_least:
        assert all(p.poll() is None for p, _ in workers), "a worker ended before the interruption"
        assert time.monotonic() < deadline, f"fewer than {at_least} items within {timeout} s"
        time.sleep(0.05)


def logs(crawl):
    return "\n".join(p.read_text(errors="replace") for p in sorted(crawl.directory.glob("run-*.log")))


def test_three_workers_share_one_crawl_then_nothing_is_new(crawl, redis_server, site):
    before = len(crawl.replay.requests())
    workers = start_workers(crawl, redis_server, 3)
    assert wait_all(workers) == [0, 0, 0], logs(crawl)[-3000:]
    items = [read_items(f) for _, f in workers]
    expected = site.expected_articles(EDITIONS, "latest")
    assert Counter(i["url"] for part in items for i in part) == Counter(expected)  # each exactly once
    assert sum(1 for part in items if part) >= 2, [len(p) for p in items]  # the work was shared

    requests = crawl.replay.requests()[before:]
    answered = Counter((r["url"], r["status"]) for r in requests if r["kind"] != "robots")
    assert [key for key, n in answered.items() if n > 1] == []  # no URL fetched twice (a 429 and its retry differ)
    assert len([r for r in requests if r["kind"] == "feed"]) == len(EDITIONS)  # seeded once, by one worker
    assert sorted(logs(crawl).count(f"{role} round") for role in ("seeds", "joins")) == [1, 2]

    client = redis_server.client()
    leftovers = [k.decode() for k in client.keys("newsvault:sputnik:*") if b":state:" not in k]
    assert len(leftovers) == 1 and leftovers[0].endswith(":done"), leftovers  # queue and dupefilter deleted
    assert len(client.keys("newsvault:sputnik:state:*")) >= len(expected)

    again = start_workers(crawl, redis_server, 2)
    assert wait_all(again) == [0, 0], logs(crawl)[-3000:]
    assert [i for _, f in again for i in read_items(f)] == []
    later = crawl.replay.requests()[before + len(requests) :]
    assert [r["url"] for r in later if r["kind"] == "article"] == []  # a second crawl finds nothing new
    assert len([r for r in later if r["kind"] == "feed"]) == len(EDITIONS)  # a new round was seeded once


def test_worker_killed_with_9_then_one_more_run_misses_nothing(crawl, redis_server, site):
    workers = start_workers(crawl, redis_server, 3, NEWSVAULT_REDIS_WORKER_TTL="5")
    wait_for_items(workers, 4)
    victim = max(workers, key=lambda w: len(read_items(w[1])))  # one that holds work right now
    os.kill(victim[0].pid, signal.SIGKILL)
    others = [w for w in workers if w is not victim]
    assert wait_all(others) == [0, 0], logs(crawl)[-3000:]  # the dead worker's busy status expires

    rerun = start_workers(crawl, redis_server, 1)
    assert wait_all(rerun) == [0], logs(crawl)[-3000:]
    delivered = Counter(i["url"] for _, f in workers + rerun for i in read_items(f))
    assert set(delivered) == site.expected_articles(EDITIONS, "latest")
    assert set(delivered.values()) == {1}, delivered


def test_redis_restart_mid_crawl_fails_loudly_and_the_next_run_recovers(crawl, redis_server, site):
    workers = start_workers(crawl, redis_server, 2)
    wait_for_items(workers, 3)
    redis_server.stop()  # no persistence: the queue, the dupefilter and the state are gone
    redis_server.start()
    codes = wait_all(workers)
    assert all(code != 0 for code in codes), codes  # nothing silently lost: the run fails
    assert "the round's keys vanished from Redis" in logs(crawl) or "Redis unavailable" in logs(crawl)

    rerun = start_workers(crawl, redis_server, 1)
    assert wait_all(rerun) == [0], logs(crawl)[-3000:]
    delivered = {i["url"] for _, f in workers + rerun for i in read_items(f)}
    assert delivered == site.expected_articles(EDITIONS, "latest")


def test_an_article_a_killed_worker_held_after_writing_its_line_is_not_emitted_again(crawl, redis_server, site):
    """Redis as a kill between a worker's line and its record leaves it (made by hand, so that it is certain): the
    article held by the worker's slot, with no record. The slot's next worker finds its line, records it, and does
    not fetch it again."""
    first = start_workers(crawl, redis_server, 1)
    assert wait_all(first) == [0], logs(crawl)[-3000:]
    ((_, feed),) = first
    last = read_items(feed)[-1]
    state = RedisState(redis_server.client(), "newsvault:sputnik:state:", ttl=1000, holder="slot-0")  # its slot's
    version = version_from_key(state.get(last["id"]).version)
    redis_server.client().delete(f"newsvault:sputnik:state:{last['id']}")
    state.hold(last["id"], last["url"], version, [f"{feed}.open"])  # the name it had while being written

    second = start_workers(crawl, redis_server, 1)
    assert wait_all(second) == [0], logs(crawl)[-3000:]
    assert "1 article(s) held by a killed run: 1 with their line written (recorded), 0 without" in logs(crawl)
    assert [i["url"] for _, f in second for i in read_items(f)] == [] and state.held() == []
    assert state.get(last["id"]).emitted
