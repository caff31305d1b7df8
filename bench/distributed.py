"""2 distributed workers against 1 on the same local site, and the Redis memory a crawl needs.

Site: the offline replay (``replay.server``, mitmproxy on loopback) with ``--articles`` synthetic articles added
through its overrides file, all on sputnikglobe.com and listed in its RSS feed. The replay proxy shares the
machine's 2 cores with the workers, so this measures the whole local setup, not Scrapy alone.
Run: ``.venv/bin/python bench/distributed.py [--articles 300]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from redis import Redis

from crawlers.state import RedisState
from replay.server import ReplayServer
from tests.distributed.conftest import RedisServer
from tests.e2e.conftest import Crawler, read_items

FAST = {"AUTOTHROTTLE_ENABLED": "False", "ITEMS_MAX_ERROR_RATE": "1", "NEWSVAULT_REDIS_POLL_INTERVAL": "0.3"}


def overrides(count: int) -> dict:
    """``count`` synthetic articles on sputnikglobe.com, listed in its feed."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    articles = []
    for n in range(count):
        published = start + timedelta(minutes=n)
        url = f"https://sputnikglobe.com/{published:%Y%m%d}/bench-article-{n}-{1200000000 + n}.html"
        articles.append(
            {
                "url": url,
                "kind": "synthetic",
                "title": f"Bench article {n}",
                "listed": ["feed"],
                "published": published.isoformat(),
            }
        )
    return {"articles": articles}


def crawl_seconds(workdir: Path, count: int, workers: int) -> tuple[float, int]:
    """Wall seconds for ``workers`` processes to crawl the site once, and the items they wrote."""
    workdir.mkdir(parents=True, exist_ok=True)
    redis_server = RedisServer(workdir).start()
    (workdir / "overrides.json").write_text(json.dumps(overrides(count)))
    try:
        with ReplayServer(workdir / "replay", workdir / "overrides.json") as replay:
            crawl = Crawler(replay, workdir / "run")
            started = time.monotonic()
            procs = [
                crawl.start(
                    "editions=en", **FAST, REDIS_URL=redis_server.url, ARCHIVE_SPOOL_DIR=str(workdir / f"spool-{n}")
                )
                for n in range(workers)
            ]
            for proc, _ in procs:
                proc.wait(600)
            seconds = time.monotonic() - started
            return seconds, sum(len(read_items(items)) for _, items in procs)
    finally:
        redis_server.stop()


def capacity(workdir: Path, count: int = 10_000) -> dict[str, float]:
    """Bytes per entry, from ``MEMORY USAGE`` and ``used_memory``: state record, dupefilter fingerprint."""
    workdir.mkdir(parents=True, exist_ok=True)
    redis_server = RedisServer(workdir).start()
    try:
        client = Redis(port=redis_server.port)
        state = RedisState(client, "newsvault:sputnik:state:", 180 * 86400)
        before = client.info("memory")["used_memory"]
        for n in range(count):
            url = f"https://sputnikglobe.com/20250101/some-article-slug-of-usual-length-{1200000000 + n}.html"
            state.record(f"sputnik:en:{1200000000 + n}", url, datetime.now(UTC), emitted=True)
        after_state = client.info("memory")["used_memory"]
        pipe = client.pipeline()
        for n in range(count):
            pipe.sadd("newsvault:sputnik:bench:dupefilter", f"{n:040x}")  # sha1 hex, as scrapy-redis stores
        pipe.execute()
        after_df = client.info("memory")["used_memory"]
        return {
            "state record, MEMORY USAGE": client.memory_usage("newsvault:sputnik:state:sputnik:en:1200000000"),
            "state record, used_memory / record": (after_state - before) / count,
            "dupefilter fingerprint, MEMORY USAGE of the set / entries": (
                client.memory_usage("newsvault:sputnik:bench:dupefilter", samples=0) / count
            ),
            "dupefilter fingerprint, used_memory / entry": (after_df - after_state) / count,
        }
    finally:
        redis_server.stop()


def main() -> None:
    """Print seconds and pages/s for 1 and 2 workers, the speed-up, and the Redis capacity figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300)
    count = parser.parse_args().articles
    with tempfile.TemporaryDirectory(prefix="bench-distributed-") as tmp:
        results = {}
        for workers in (1, 2):
            seconds, items = crawl_seconds(Path(tmp) / f"w{workers}", count, workers)
            results[workers] = seconds
            print(f"{workers} worker(s): {items} items in {seconds:.1f} s ({items / seconds:.1f} items/s)")
        print(f"speed-up, 2 workers vs 1: {results[1] / results[2]:.2f}x")
        for name, value in capacity(Path(tmp)).items():
            print(f"{name}: {value:.0f} bytes")


if __name__ == "__main__":
    main()
