"""RedisState against a real redis-server; the add-on changes nothing without REDIS_URL."""

from __future__ import annotations

from datetime import UTC, datetime

from scrapy.settings import Settings

from crawlers.distributed import DistributedAddon
from crawlers.state import RedisState, SqliteState, needs_fetch, open_state

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
