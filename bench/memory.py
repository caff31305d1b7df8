"""Peak RSS of the full pipeline over a long crawl, sampled over time so that flatness is visible.

Run: ``.venv/bin/python bench/memory.py [--pages 50000] [--site-pages 5000] [--interval 5]``. One
``scrapy crawl sputnik -a mode=urls`` process (fetch, extract, WARC, JSONL) on ``--pages`` distinct article URLs; the
nginx bench site serves them from ``--site-pages`` files (``bench/site.py``: up to 10 distinct URLs per file, each
page rewritten to its own id). Every ``--interval`` seconds it prints the pages crawled so far (Scrapy's LogStats
line) and the process's RSS from ``/proc/PID/status``. Target: peak below 400 MB, and flat: the RSS at the end of
the crawl at most 10% above the RSS once 20% of the pages are done.
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.crawls import REPO, article_responses, crawl_env, machine, pipeline_command, scrapy_stats, uptime
from bench.site import MAX_COPIES, Nginx, generate

TARGET_MB = 400.0
FLAT_FROM = 0.2  # fraction of the pages after which the RSS must stay flat
FLAT_TOLERANCE = 0.10
_CRAWLED = re.compile(r"Crawled (\d+) pages")


def rss_mb(pid: int) -> tuple[float, float] | None:
    """(VmRSS, VmHWM) of a process in MB, None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    values = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M))
    if len(values) < 2:
        return None
    return int(values["VmRSS"]) / 1024, int(values["VmHWM"]) / 1024


def pages_crawled(log: Path) -> int:
    """The latest "Crawled N pages" count of Scrapy's LogStats in the log (0 before the first)."""
    if not log.exists():
        return 0
    found = _CRAWLED.findall(log.read_text(encoding="utf-8", errors="replace"))
    return int(found[-1]) if found else 0


def sample(process: subprocess.Popen, log: Path, interval: float) -> list[tuple[float, int, float, float]]:
    """(seconds, pages, RSS MB, peak MB) every ``interval`` until the process exits, printed as they come."""
    samples, start = [], time.perf_counter()
    print(f"{'seconds':>8} {'pages':>7} {'RSS MB':>8} {'peak MB':>8}")
    while process.poll() is None:
        time.sleep(interval)
        memory = rss_mb(process.pid)
        if memory is None:
            break
        samples.append((time.perf_counter() - start, pages_crawled(log), *memory))
        print(f"{samples[-1][0]:8.0f} {samples[-1][1]:7d} {memory[0]:8.1f} {memory[1]:8.1f}", flush=True)
    process.wait()
    return samples


def summarize(samples: list[tuple[float, int, float, float]], pages: int) -> None:
    """Peak, the RSS at the flatness reference point and at the end of the crawl, and the verdicts."""
    crawling = [s for s in samples if s[1] < pages] or samples
    peak = max(s[3] for s in samples)
    reference = next((s for s in crawling if s[1] >= FLAT_FROM * pages), crawling[0])
    last = crawling[-1]
    growth = (last[2] - reference[2]) / reference[2]
    print(f"peak RSS (VmHWM): {peak:.1f} MB, target < {TARGET_MB:.0f} MB: {'met' if peak < TARGET_MB else 'NOT met'}")
    print(
        f"RSS {reference[2]:.1f} MB at {reference[1]} pages -> {last[2]:.1f} MB at {last[1]} pages: {growth:+.1%} "
        f"({'flat' if growth <= FLAT_TOLERANCE else 'GROWING'}: limit +{FLAT_TOLERANCE:.0%})"
    )


def main() -> None:
    """Generate and serve the site, crawl it once with the full pipeline, sample and summarize the memory."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=50_000)
    parser.add_argument("--site-pages", type=int, default=5000)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--work", type=Path, default=None, help="output folder (default: new one in ./data/bench)")
    parser.add_argument("--keep", action="store_true", help="keep the site, WARCs and items afterwards")
    args = parser.parse_args()
    copies = math.ceil(args.pages / args.site_pages)
    if copies > MAX_COPIES:
        raise SystemExit(f"--pages is at most {MAX_COPIES} x --site-pages")
    (REPO / "data" / "bench").mkdir(parents=True, exist_ok=True)
    work = (args.work or Path(tempfile.mkdtemp(prefix="memory-", dir=REPO / "data" / "bench"))).resolve()
    print(f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}")
    print(f"uptime: {uptime()}")
    try:
        site = generate(work / "site", args.site_pages)
        urls = work / "urls.txt"
        urls.write_text("\n".join(site.urls(copies)[: args.pages]) + "\n", encoding="utf-8")
        crawl = work / "crawl"
        crawl.mkdir(exist_ok=True)
        with Nginx(site, work / "nginx") as server:
            command = pipeline_command(urls, crawl, {"LOGSTATS_INTERVAL": str(args.interval)})
            print(f"{args.pages} URLs from {args.site_pages} files; {' '.join(command[1:5])} ...", flush=True)
            process = subprocess.Popen(command, env=crawl_env(server.env()), cwd=REPO, stdout=subprocess.DEVNULL)
            samples = sample(process, crawl / "crawl.log", args.interval)
        stats = scrapy_stats(crawl / "crawl.log")
        crawled, items = article_responses(stats), int(stats.get("item_scraped_count", 0))
        print(f"exit code {process.returncode}; {crawled} pages fetched, {items} items; uptime: {uptime()}")
        if samples:
            summarize(samples, crawled)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
