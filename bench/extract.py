"""Pages per second of Sputnik extraction over the test fixtures, on one core (target: at least 300 pages/s).

Run: ``.venv/bin/python bench/extract.py [--rounds N] [--cpu N]``. Decoding and parsing included, file I/O
excluded (pages read once). The process is pinned to one CPU; CPU time is the figure that counts on a shared
machine, wall time is printed beside it (it also counts time the core spent on other processes).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawlers.sputnik.pages import extract_article

TARGET = 300.0
FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "sputnik"
URL = "https://snanews.de/20201216/x-1.html"


def pin(cpu: int | None) -> str:
    """Pin this process to one CPU (the first allowed one by default); returns a description for the output."""
    allowed = sorted(os.sched_getaffinity(0))
    chosen = cpu if cpu is not None else allowed[0]
    os.sched_setaffinity(0, {chosen})
    return f"pinned to CPU {chosen} of {os.cpu_count()}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"


def measure(body: bytes, rounds: int) -> tuple[float, float, str]:
    """(CPU seconds, wall seconds, parser) for ``rounds`` extractions of one page, after one warm-up."""
    parser = extract_article(body, URL).metadata.parser
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(rounds):
        extract_article(body, URL)
    return time.process_time() - cpu, time.perf_counter() - wall, parser


def rate(pages: int, seconds: float) -> str:
    """Pages per second, formatted."""
    return f"{pages / seconds:5.0f}"


def main() -> None:
    """Extract every fixture page N times; print per page, per layout and overall pages/s (CPU and wall)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50, help="extractions of each page (default 50)")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the first allowed one)")
    args = parser.parse_args()
    print(pin(args.cpu))
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    print(f"{'page':60} {'size':>6} {'CPU p/s':>8} {'wall p/s':>8}  layout")
    for path in sorted(FIXTURES.glob("*/*.html")):
        body = path.read_bytes()
        cpu, wall, layout = measure(body, args.rounds)
        for key in (layout, "overall"):
            totals[key][0] += args.rounds
            totals[key][1] += cpu
            totals[key][2] += wall
        size = f"{len(body) / 1024:4.0f}KB"
        print(f"{path.name[:60]:60} {size} {rate(args.rounds, cpu):>8} {rate(args.rounds, wall):>8}  {layout}")
    for key in sorted(totals, key=lambda k: (k == "overall", k)):
        pages, cpu, wall = totals[key]
        figures = f"{cpu:.2f} s CPU = {rate(pages, cpu)} pages/s; wall {rate(pages, wall)} pages/s"
        print(f"{key + ':':22} {pages:5.0f} pages, {figures}")
    pages, cpu, _ = totals["overall"]
    ratio = pages / cpu / TARGET
    print(f"ratio to the {TARGET:.0f} pages/s target (CPU): {ratio:.2f}x ({'met' if ratio >= 1 else 'NOT met'})")


if __name__ == "__main__":
    main()
