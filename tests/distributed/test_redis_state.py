"""RedisState against a real redis-server (records, discovery, per-machine holds, errors); the add-on changes
nothing without REDIS_URL."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from scrapy.settings import Settings

from crawlers.delivery import settle
from crawlers.distributed import DistributedAddon
from crawlers.state import RedisState, SqliteState, StateWriteError, needs_fetch, open_state
from replay.server import free_port

OLD, NEW = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)


def test_record_keeps_the_newest_version_and_expires(redis_server):
    state = RedisState(redis_server.client(), "nv:test:state:", ttl=1000)
    assert state.get("sputnik:en:1") is None and needs_fetch(state, "sputnik:en:1", OLD)
    state.record("sputnik:en:1", "https://sputnikglobe.com/a-1.html", NEW, emitted=True)
    state.record("sputnik:en:1", "https://sputnikglobe.com/a-1.html", OLD, emitted=False)  # never lowered
    record = state.get("sputnik:en:1")
    assert (record.version, record.emitted, record.url) == (
        "2024-06-01T00:00:00Z",
        False,
        "https://sputnikglobe.com/a-1.html",
    )
    assert not needs_fetch(state, "sputnik:en:1", NEW) and needs_fetch(state, "sputnik:en:1", datetime(2025, 1, 1))
    assert 0 < redis_server.client().ttl("nv:test:state:sputnik:en:1") <= 1000


def test_a_version_discovered_by_another_worker_is_recorded(redis_server):
    state = RedisState(redis_server.client(), "nv:test:state:", ttl=1000)
    state.discover("sputnik:en:2", NEW)
    state.discover("sputnik:en:2", OLD)  # an older listing does not lower it
    state.record("sputnik:en:2", "https://sputnikglobe.com/b-2.html", OLD, emitted=True)
    assert state.get("sputnik:en:2").version == "2024-06-01T00:00:00Z"
    assert redis_server.client().hlen(state.discovered_key) == 0  # compacted once recorded


def test_a_date_discovered_after_another_worker_captured_the_page(redis_server):
    """The race that made a second distributed crawl fetch an article again: worker A records it from one listing,
    then worker B finds it in another listing with a newer date (its request a duplicate of A's)."""
    state = RedisState(redis_server.client(), "nv:test:state:", ttl=1000)
    state.record("sputnik:en:3", "https://sputnikglobe.com/c-3.html", OLD, emitted=True)  # captured now, 2026+
    state.discover("sputnik:en:3", NEW)  # changed before the capture: the capture holds it
    assert state.get("sputnik:en:3").version == "2024-06-01T00:00:00Z" and not needs_fetch(state, "sputnik:en:3", NEW)
    later = datetime(2999, 1, 1, tzinfo=UTC)  # changed after the capture: the next run must fetch it again
    state.discover("sputnik:en:3", later)
    assert state.get("sputnik:en:3").version == "2024-06-01T00:00:00Z" and needs_fetch(state, "sputnik:en:3", later)


def test_without_redis_url_nothing_changes(tmp_path):
    settings = Settings({"STATE_PATH": str(tmp_path / "s.sqlite"), "ITEMS_MIN_ITEMS": 1})
    before = settings.copy_to_dict()
    DistributedAddon().update_settings(settings)
    assert settings.copy_to_dict() == before
    assert isinstance(open_state(settings, "sputnik"), SqliteState)


def test_with_redis_url_scheduler_and_state_move_to_redis(redis_server):
    settings = Settings({"REDIS_URL": redis_server.url})
    DistributedAddon().update_settings(settings)
    assert settings["SCHEDULER"] == "crawlers.distributed.RedisScheduler" and settings.getbool("SCHEDULER_PERSIST")
    assert isinstance(open_state(settings, "sputnik"), RedisState)
    assert open_state(settings, "sputnik").held_key == f"newsvault:sputnik:state:held:{socket.gethostname()}"
    settings.set("STATE_REDIS_HOLDER", "slot-2")
    assert open_state(settings, "sputnik").held_key == "newsvault:sputnik:state:held:slot-2"


def test_holds_are_per_machine_and_a_record_releases_its_hold(redis_server):
    here = RedisState(redis_server.client(), "nv:test:state:", ttl=1000, holder="worker-a")
    there = RedisState(redis_server.client(), "nv:test:state:", ttl=1000, holder="worker-b")
    here.hold("sputnik:en:4", "https://sputnikglobe.com/d-4.html", NEW, ["/data/items/run.jsonl.open"])
    here.hold("sputnik:en:5", "https://sputnikglobe.com/e-5.html", None, [])
    there.hold("sputnik:en:6", "https://sputnikglobe.com/f-6.html", OLD, ["/elsewhere.jsonl"])
    assert here.held() == [
        ("sputnik:en:4", "https://sputnikglobe.com/d-4.html", NEW, ["/data/items/run.jsonl.open"]),
        ("sputnik:en:5", "https://sputnikglobe.com/e-5.html", None, []),
    ]
    here.record("sputnik:en:4", "https://sputnikglobe.com/d-4.html", NEW, emitted=True)
    here.release("sputnik:en:5")
    assert here.held() == [] and [key for key, *_ in there.held()] == ["sputnik:en:6"]
    assert 0 < redis_server.client().ttl(there.held_key) <= 1000


def test_settle_records_a_held_article_whose_line_is_in_its_feed_and_releases_the_other(redis_server, tmp_path):
    state = RedisState(redis_server.client(), "nv:test:state:", ttl=1000, holder="worker-a")
    feed = tmp_path / "run.jsonl.open"
    feed.write_text('{"id": "sputnik:en:7"}\n{"id": "sputnik:en:8", "cut')  # as a kill left it
    state.hold("sputnik:en:7", "https://sputnikglobe.com/g-7.html", NEW, [str(feed)])
    state.hold("sputnik:en:8", "https://sputnikglobe.com/h-8.html", NEW, [str(feed)])
    assert settle(state) == (1, 1) and state.held() == []
    assert state.get("sputnik:en:7").emitted and state.get("sputnik:en:8") is None


def test_redis_errors_are_state_write_errors():
    client = Redis(port=free_port(), socket_timeout=1, retry=Retry(NoBackoff(), 0))  # nothing listens; no retries
    state = RedisState(client, "nv:test:state:", ttl=1000)
    with pytest.raises(StateWriteError, match="Connection refused"):
        state.record("sputnik:en:9", "https://sputnikglobe.com/i-9.html", NEW, emitted=True)
    for call in (lambda: state.hold("k", "u", None, []), state.held, lambda: state.release("k")):
        with pytest.raises(StateWriteError):
            call()
