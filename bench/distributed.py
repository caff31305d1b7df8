"""2 distributed workers (scrapy-redis) against 1 on the same local site, and the Redis memory a crawl needs.

Site: the benchmark site of ``bench/site.py`` (synthetic current-layout pages on ``http://snanews.de/...``, served by
nginx on loopback through ``http_proxy``). Each worker is the real ``scrapy crawl sputnik -a mode=urls`` with
``REDIS_URL`` set: the first one seeds the URL list into Redis, the others join, all close when the queue is empty.
Run: ``.venv/bin/python bench/distributed.py [--pages 2000]``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from redis import Redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.crawls import REPO, Run, crawl_env, machine, pipeline_command, run_together, uptime
from bench.site import Nginx, generate
from crawlers.state import RedisState
from tests.distributed.conftest import RedisServer


def items_written(work: Path) -> int:
    """JSONL lines the workers of one run wrote."""
    return sum(1 for f in work.glob("worker-*/items/*.jsonl") for line in f.open(encoding="utf-8") if line.strip())


def crawl(server: Nginx, urls_file: Path, work: Path, workers: int) -> Run:
    """``workers`` scrapy-redis workers sharing one crawl of ``urls_file``, on a Redis of their own."""
    work.mkdir(parents=True)
    redis_server = RedisServer(work).start()
    try:
        jobs = []
        for n in range(workers):
            folder = work / f"worker-{n}"
            folder.mkdir(parents=True)
            extra = {"REDIS_URL": redis_server.url, "NEWSVAULT_REDIS_POLL_INTERVAL": "0.3"}
            jobs.append((pipeline_command(urls_file, folder, extra), crawl_env(server.env()), folder))
        label = f"full pipeline, {workers} scrapy-redis worker(s) sharing one queue"
        return run_together(label, jobs, count=lambda stats: items_written(work))
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
    """Print pages/s for 1 and 2 workers, the speed-up, and the Redis capacity figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep the site, logs, WARCs and items afterwards")
    args = parser.parse_args()
    pages = args.pages
    (REPO / "data" / "bench").mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="distributed-", dir=REPO / "data" / "bench")).resolve()
    print(f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}")
    try:
        site = generate(work / "site", pages)
        urls_file = work / "urls.txt"
        urls_file.write_text("\n".join(site.urls()) + "\n", encoding="utf-8")
        runs = {}
        with Nginx(site, work / "nginx") as server:
            for workers in (1, 2):
                print(f"uptime: {uptime()}")
                runs[workers] = crawl(server, urls_file, work / f"w{workers}", workers)
                print(runs[workers].describe(), f"\n    exit codes {list(runs[workers].exit_codes)}")
        print(f"speed-up, 2 workers vs 1: {runs[2].rate / runs[1].rate:.2f}x")
        for name, value in capacity(work / "capacity").items():
            print(f"{name}: {value:.0f} bytes")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
