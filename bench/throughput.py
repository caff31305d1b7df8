"""Crawl throughput in one run: the full pipeline vs plain Scrapy vs ``wget -r --warc-file``, on the nginx bench site.

Run: ``.venv/bin/python bench/throughput.py [--pages 5000] [--work DIR]``. Five measurements, one after the other,
of the same article pages (``bench/site.py``), each wall clock from process start to exit (startup included):

1. plain Scrapy (``bench/plain_spider.py``: fetch only, Scrapy's defaults), 1 process;
2. the full pipeline, ``scrapy crawl sputnik -a mode=urls`` (fetch, extract, WARC, JSONL, state, manifest), 1 process;
3. the full pipeline as 2 independent processes started together, each on half of the URL list;
4. the full pipeline as 2 scrapy-redis workers sharing one queue on a local redis-server (``REDIS_URL``);
5. ``wget -r -l 1 --warc-file`` from the site's index page (archives, extracts nothing).

The Scrapy runs share ``bench.crawls.CRAWL_SETTINGS`` (concurrency 16, no autothrottle). Targets: (2) >= 0.7 x (1);
(3) and (4) >= 1.0 x (5). Everything is written under ``--work`` (default: a fresh folder in ./data/bench/).

``--breakdown`` adds one run of the pipeline without archiving (``ARCHIVE_ENABLED=False``: fetch, extraction, JSONL,
state) and prints where the CPU per page goes, and the ratio to plain Scrapy that the pipeline's CPU per page would
allow if it were spread perfectly over every core of the machine (the server's CPU ignored).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.crawls import (
    REPO,
    USER_AGENT,
    Run,
    crawl_env,
    machine,
    pipeline_command,
    plain_command,
    run_together,
    uptime,
)
from bench.distributed import crawl as redis_workers_crawl
from bench.site import Nginx, generate

PIPELINE_VS_PLAIN = 0.7
WORKERS_VS_WGET = 1.0


def verdict(ratio: float, target: float) -> str:
    """``0.83x (target >= 0.7x: met)``."""
    return f"{ratio:.2f}x (target >= {target}x: {'met' if ratio >= target else 'NOT met'})"


def write_urls(path: Path, urls: list[str]) -> Path:
    """One URL a line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(urls) + "\n", encoding="utf-8")
    return path


def wget_run(server: Nginx, work: Path) -> Run:
    """``wget -r -l 1 --warc-file`` from the index page; pages = article files it saved."""
    wget = shutil.which("wget")
    if wget is None:
        raise SystemExit("wget is missing: apt-get install -y wget")
    work.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    command = [wget, "-r", "-l", "1", "-nv", "-U", USER_AGENT, "--warc-file", str(work / "crawl"), "-P", str(work)]
    command.append(f"http://127.0.0.1:{server.port}/index.html")

    def saved_articles(_stats: list[dict[str, float]]) -> int:
        return sum(1 for _ in work.rglob("*-1100*.html"))

    return run_together("wget -r --warc-file, 1 process", [(command, env, work)], saved_articles)


def check_pipeline(run: Run, expected_pages: int) -> None:
    """Print a warning when a pipeline run failed or lost pages or items."""
    items = sum(int(s.get("item_scraped_count", 0)) for s in run.stats)
    if run.exit_codes != (0,) * len(run.exit_codes) or run.pages != expected_pages or items != expected_pages:
        print(f"  WARNING: {run.label}: exit {run.exit_codes}, {run.pages} pages, {items} items of {expected_pages}")
    else:
        print(f"  ok: {items} items in JSONL, exit codes {list(run.exit_codes)}")


def scrapy_runs(env: dict[str, str], work: Path, full: Path, halves: list[Path], pages: int) -> tuple[Run, Run, Run]:
    """Plain Scrapy, the pipeline in one process, the pipeline in two processes (printed as they finish)."""

    def job(command, urls: Path, name: str) -> tuple[list[str], dict[str, str], Path]:
        folder = work / name
        folder.mkdir(parents=True, exist_ok=True)
        return command(urls, folder), crawl_env(env, plain=command is plain_command), folder

    plain = run_together("plain Scrapy, 1 process", [job(plain_command, full, "plain")])
    print(plain.describe())
    one = run_together("full pipeline, 1 process", [job(pipeline_command, full, "pipeline")])
    print(one.describe())
    check_pipeline(one, pages)
    workers = [job(pipeline_command, h, f"worker-{i}") for i, h in enumerate(halves)]
    two = run_together("full pipeline, 2 processes (half list each)", workers)
    print(two.describe())
    check_pipeline(two, pages)
    return plain, one, two


def breakdown_run(env: dict[str, str], work: Path, urls: Path, pages: int) -> Run:
    """The pipeline in one process without archiving (fetch, extraction, JSONL, state, manifest)."""
    folder = work / "unarchived"
    folder.mkdir(parents=True)
    command = pipeline_command(urls, folder, {"ARCHIVE_ENABLED": "False"})
    run = run_together("pipeline without archiving, 1 process", [(command, crawl_env(env), folder)])
    print(run.describe())
    check_pipeline(run, pages)
    return run


def print_breakdown(plain: Run, unarchived: Run, full: Run) -> None:
    """CPU per page by stage, and the best ratio to plain Scrapy that the full pipeline's CPU allows."""
    cores = os.cpu_count() or 1
    print("where the pipeline's CPU per page goes (ms, differences between runs):")
    print(
        f"  fetching (plain Scrapy) {plain.cpu_ms:.2f}; extraction, validation, JSONL and state "
        f"{unarchived.cpu_ms - plain.cpu_ms:.2f}; archiving (WARC records, digests, gzip, CDXJ) "
        f"{full.cpu_ms - unarchived.cpu_ms:.2f}; total {full.cpu_ms:.2f}"
    )
    ceiling = (1000 / plain.rate) / (full.cpu_ms / cores)
    print(
        f"  ceiling with its CPU spread perfectly over {cores} cores: {ceiling:.2f}x plain Scrapy (measured "
        f"{full.rate / plain.rate:.2f}x); without archiving it runs at {unarchived.rate / plain.rate:.2f}x"
    )


def main() -> None:
    """Generate the site, serve it, run the four measurements and print figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--work", type=Path, default=None, help="output folder (default: new one in ./data/bench)")
    parser.add_argument("--keep", action="store_true", help="keep the site, WARCs and items afterwards")
    parser.add_argument("--breakdown", action="store_true", help="also run the pipeline without archiving")
    args = parser.parse_args()
    (REPO / "data" / "bench").mkdir(parents=True, exist_ok=True)
    work = (args.work or Path(tempfile.mkdtemp(prefix="throughput-", dir=REPO / "data" / "bench"))).resolve()
    print(f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}")
    print(f"uptime: {uptime()}")
    site = generate(work / "site", args.pages)
    urls = site.urls()
    full = write_urls(work / "urls.txt", urls)
    halves = [write_urls(work / f"urls-{i}.txt", urls[i::2]) for i in range(2)]
    try:
        with Nginx(site, work / "nginx") as server:
            size = sum(f.stat().st_size for f in (work / "site" / "a").iterdir()) / args.pages / 1024
            print(f"{args.pages} article pages of {size:.0f} KB on average, nginx on {server.proxy}")
            plain, one, two = scrapy_runs(server.env(), work, full, halves, args.pages)
            unarchived = breakdown_run(server.env(), work, full, args.pages) if args.breakdown else None
            shared = redis_workers_crawl(server, full, work / "redis-workers", 2)
            print(shared.describe())
            check_pipeline(shared, args.pages)
            wget = wget_run(server, work / "wget")
            print(wget.describe())
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"uptime: {uptime()}")
    print(f"full pipeline / plain Scrapy, per process: {verdict(one.rate / plain.rate, PIPELINE_VS_PLAIN)}")
    print(f"full pipeline 2 processes / wget --warc-file: {verdict(two.rate / wget.rate, WORKERS_VS_WGET)}")
    shared_vs_wget = verdict(shared.rate / wget.rate, WORKERS_VS_WGET)
    print(f"full pipeline 2 scrapy-redis workers / wget --warc-file: {shared_vs_wget}")
    print(f"full pipeline 1 process / wget --warc-file: {one.rate / wget.rate:.2f}x (no target)")
    print("CPU per page, less sensitive to other load on the machine (ms, the server's CPU not included):")
    print("  " + ", ".join(f"{run.label} {run.cpu_ms:.1f}" for run in (plain, one, two, shared, wget)))
    if unarchived is not None:
        print_breakdown(plain, unarchived, one)
        if args.pages < 5000:
            print("  (each figure includes the process start-up: with fewer than 5,000 pages it weighs on all of them)")


if __name__ == "__main__":
    main()
