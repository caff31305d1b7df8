"""``make demo``: crawl the bundled Sputnik replay with the real ``scrapy crawl sputnik`` and say what landed where.

Everything goes under ``./data/demo/`` (items, run manifest, WARCs, incremental state, the replay's request log),
which each run starts afresh, so what it prints is that run's output.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from replay.fixture_site import REPO_ROOT
from replay.server import ReplayServer

DEMO_DIR = Path("data/demo")
EDITIONS = "en,de"


def crawl_command(out: Path) -> list[str]:
    """The crawl the demo runs: the real spider, only its output paths pointed at ``out``."""
    return [
        *(sys.executable, "-m", "scrapy", "crawl", "sputnik"),
        *("-a", f"editions={EDITIONS}"),
        *("-s", f"ITEMS_URI={out / 'items' / '%(run)s.jsonl'}"),
        *("-s", f"ARCHIVE_URI={out / 'warc'}"),
        *("-s", f"STATE_PATH={out / 'state.sqlite'}"),
        *("-s", f"LOG_FILE={out / 'crawl.log'}"),
    ]


def summary(out: Path, requests: list[dict]) -> str:
    """Where items and WARCs landed, items per edition, and what the replay saw."""
    item_files = sorted((out / "items").glob("**/*.jsonl"))
    items = [json.loads(line) for f in item_files for line in f.read_text(encoding="utf-8").splitlines() if line]
    warcs = sorted(p for p in (out / "warc").glob("**/*.warc.gz"))
    editions = Counter(item.get("edition", {}).get("code", "?") for item in items)
    statuses = Counter(r["status"] for r in requests)
    lines = [
        f"items: {len(items)} in {len(item_files)} file(s)",
        *(f"  {path}" for path in item_files),
        "  per edition: " + ", ".join(f"{code} {n}" for code, n in sorted(editions.items())),
        f"WARC files: {len(warcs)} ({sum(p.stat().st_size for p in warcs):,} bytes)",
        *(f"  {path}" for path in warcs),
        f"replay: {len(requests)} requests, by status " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())),
        f"  off-site requests refused: {sum(not r['onsite'] for r in requests)}",
        *(f"run manifest: {path}" for path in sorted((out / "items").glob("**/*.manifest.json"))),
        f"crawl log: {out / 'crawl.log'}",
    ]
    return "\n".join(lines)


def main() -> int:
    """Run the demo; the exit code is the crawl's."""
    out = (REPO_ROOT / DEMO_DIR).resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    with ReplayServer(out / "replay") as replay:
        before = len(replay.requests())
        env = {**replay.env(), "SCRAPY_SETTINGS_MODULE": "settings.base"}
        print(f"replay proxy {replay.proxy_url}; crawling editions {EDITIONS} (log: {out / 'crawl.log'}) ...")
        code = subprocess.run(crawl_command(out), cwd=REPO_ROOT, env=env).returncode
        requests = replay.requests()[before:]
    print(summary(out, requests))
    print(f"scrapy crawl sputnik exited with {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
