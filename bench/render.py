"""Rendered pages per second and peak RSS of Scrapy plus Chromium over N rendered pages (default 500).

The pages are synthetic Sputnik articles served by the replay proxy on 127.0.0.1 (its CA trusted in a temporary
NSS store, as an operator would). ``scrapy crawl sputnik -a render=js`` runs in a subprocess; this script samples
the RSS of its whole process tree (Scrapy, the Playwright driver, every Chromium process) and prints it every 50
rendered pages, so growth shows. Usage: ``.venv/bin/python bench/render.py [PAGES]``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crawlers.rendering import trust_certificate
from replay.fixture_site import REPO_ROOT
from replay.server import ReplayServer

SCRAPY = Path(sys.executable).with_name("scrapy")


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(stat[1]), []).append(int(entry.name))
            rss[int(entry.name)] = int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo += children.get(current, [])
    return total


def synthetic_articles(count: int) -> list[dict]:
    """Override entries adding ``count`` synthetic en articles, listed nowhere (the crawl gets them as URLs)."""
    return [
        {
            "url": f"https://sputnikglobe.com/20240320/bench-rendered-page-{n}-11174{n:05d}.html",
            "title": f"Bench rendered page {n}",
            "published": "2024-03-20T08:00:00+00:00",
            "listed": [],
        }
        for n in range(count)
    ]


def main(pages: int = 500) -> None:
    """Run the rendered crawl and print throughput and the RSS samples."""
    work = Path(tempfile.mkdtemp(prefix="bench-render-"))
    articles = synthetic_articles(pages)
    (work / "overrides.json").write_text(json.dumps({"articles": articles}), encoding="utf-8")
    (work / "urls.txt").write_text("\n".join(a["url"] for a in articles), encoding="utf-8")
    with ReplayServer(work / "replay", work / "overrides.json") as replay:
        trust_certificate(work / "home", work / "replay" / "mitmproxy" / "mitmproxy-ca-cert.pem", "replay")
        env = {**replay.env(), "HOME": str(work / "home"), "SCRAPY_SETTINGS_MODULE": "settings.test"}
        env.update(NEWSVAULT_TEST_DIR=str(work / "run"), PYTHONPATH=str(REPO_ROOT))
        command = [str(SCRAPY), "crawl", "sputnik", "-a", "mode=urls", "-a", f"urls_file={work / 'urls.txt'}"]
        command += ["-a", "render=js", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]
        command += ["-s", "ITEMS_MIN_ITEMS=0", "-s", "NEWSVAULT_PROGRESS_INTERVAL=0"]
        with open(work / "crawl.log", "wb") as log:
            process = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=log, stderr=log)
        started, peak, next_mark, first = time.monotonic(), 0, 50, None
        while process.poll() is None:
            rss = tree_rss(process.pid)
            peak = max(peak, rss)
            done = sum(1 for r in replay.requests() if r["kind"] == "article")
            first = first or (time.monotonic() if done else None)
            if done >= next_mark:
                print(f"{done:4d} rendered pages  RSS {rss / 2**20:7.0f} MiB  (peak so far {peak / 2**20:.0f} MiB)")
                next_mark += 50
            time.sleep(0.25)
        ended = time.monotonic()
    done = sum(1 for r in replay.requests() if r["kind"] == "article")
    print(f"exit {process.returncode}; {done} pages in {ended - started:.1f} s, first after {first - started:.1f} s")
    print(f"rendered pages/s: {done / (ended - first):.2f} (from the first page on), peak RSS {peak / 2**20:.0f} MiB")
    print(f"log and WARCs: {work}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
